"""PV and rollout dashboard: production vs expected, performance ratio per array and technology, the rollout."""

from __future__ import annotations

from dashboards.panels import TIMEZONE, Lang, Layout, Q, Text, bars_by, new_dashboard, query_variable, series, single
from dashboards.panels import tz_clause

UID = "terril-pv"
TITLE = Text("Terril — Photovoltaïque et déploiement", "Terril — PV and rollout")

SITE_VAR = 'SHOW TAG VALUES FROM "pv_daily" WITH KEY = "site"'
WHERE = '"site" =~ /^$site$/'


def production_vs_expected(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT sum("production_wh") AS "production", sum("expected_wh") AS "expected" FROM "pv_daily" '
         f'WHERE {WHERE} AND $timeFilter GROUP BY time(1d) fill(none) {tz_clause(tz)}')
    return series(Text("Production et production attendue", "Production vs expected"), "wh", [Q(q)], lang, bars=True,
                  description=Text("Attendu : modèle pvlib avec l'irradiation mesurée par la station.",
                                   "Expected: pvlib model driven by the irradiation measured at the station."))


def pr_per_array(lang: Lang):  # noqa: ANN201
    q = (f'SELECT mean("performance_ratio_pct") FROM "pv_daily" WHERE {WHERE} AND $timeFilter '
         'GROUP BY "array"')
    return bars_by(Text("Ratio de performance par champ", "Performance ratio per array"), "pct",
                   [Q(q, Text("$tag_array", "$tag_array"))], lang, calc="mean", max_value=100)


def pr_per_technology(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT mean("performance_ratio_pct") FROM "pv_daily" WHERE $timeFilter '
         f'GROUP BY time(1d), "technology" fill(none) {tz_clause(tz)}')
    return series(Text("Ratio de performance par technologie", "Performance ratio per technology"), "pct",
                  [Q(q, Text("$tag_technology", "$tag_technology"))], lang,
                  description=Text("Plateforme d'essai : six technologies côte à côte.",
                                   "Test platform: six technologies side by side."))


def yield_per_technology(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT sum("specific_yield_kwh_kwp") FROM (SELECT mean("specific_yield_kwh_kwp") AS '
         '"specific_yield_kwh_kwp" FROM "pv_daily" WHERE $timeFilter '
         f'GROUP BY time(1d), "technology" fill(none) {tz_clause(tz)}) GROUP BY "technology"')
    return bars_by(Text("Productible spécifique par technologie", "Specific yield per technology"), "kwh_kwp",
                   [Q(q, Text("$tag_technology", "$tag_technology"))], lang)


def availability(lang: Lang):  # noqa: ANN201
    q = f'SELECT mean("availability_pct") FROM "pv_daily" WHERE {WHERE} AND $timeFilter GROUP BY "array"'
    return bars_by(Text("Disponibilité des onduleurs", "Inverter availability"), "pct",
                   [Q(q, Text("$tag_array", "$tag_array"))], lang, calc="mean", max_value=100)


def pv_power(lang: Lang):  # noqa: ANN201
    q = ('SELECT mean("power_w") FROM "reading" WHERE "carrier" = \'pv\' AND "site" =~ /^$site$/ AND $timeFilter '
         'GROUP BY time($__interval), "meter" fill(null)')
    return series(Text("Puissance produite (relevés bruts)", "PV power (raw readings)"), "w",
                  [Q(q, Text("$tag_meter", "$tag_meter"))], lang, interval="1m", time_from="now-2d")


def rollout_funnel(lang: Lang):  # noqa: ANN201
    q = ('SELECT last("roofs_eligible") AS "eligible", last("roofs_equipped") AS "equipped" FROM "rollout" '
         'WHERE "stage" != \'all\' AND $timeFilter GROUP BY "stage"')
    return bars_by(Text("Déploiement : toits équipés par étape", "Rollout: roofs equipped per stage"), "roofs",
                   [Q(q, Text("$tag_stage $col", "$tag_stage $col"))], lang,
                   description=Text("De l'expérimentation à la massification.",
                                    "From experimentation to massification."))


def kwp_vs_plan(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT last("kwp_installed") AS "installed", last("kwp_planned") AS "planned" FROM "rollout" '
         f'WHERE "stage" = \'all\' AND $timeFilter GROUP BY time(1d) fill(none) {tz_clause(tz)}')
    return series(Text("Puissance installée et plan", "Installed kWp vs plan"), "kwp", [Q(q)], lang,
                  time_from="now-1y")


def pv_share(lang: Lang):  # noqa: ANN201
    q = 'SELECT last("pv_share_pct") FROM "rollout" WHERE "stage" = \'all\' AND $timeFilter'
    return single(Text("Part du photovoltaïque dans la consommation", "PV share of consumption"), "pct", [Q(q)],
                  lang, decimals=1)


def co2_avoided(lang: Lang):  # noqa: ANN201
    q = 'SELECT last("co2_avoided_kg") FROM "rollout" WHERE "stage" = \'all\' AND $timeFilter'
    return single(Text("CO₂ évité (cumul)", "CO₂ avoided (cumulative)"), "kg", [Q(q)], lang, decimals=0)


def irradiation(lang: Lang, *, tz: str):  # noqa: ANN201
    q = (f'SELECT mean("irradiation_wh_m2") FROM "pv_daily" WHERE {WHERE} AND $timeFilter '
         f'GROUP BY time(1d) fill(none) {tz_clause(tz)}')
    return series(Text("Irradiation journalière dans le plan", "Daily plane-of-array irradiation"), "wh_m2",
                  [Q(q)], lang, bars=True)


def dashboard(lang: Lang, timezone: str = TIMEZONE):  # noqa: ANN201
    """The PV and rollout dashboard (variable: PV sites)."""
    lay = Layout()
    lay.row(Text("Production", "Production"), lang)
    lay.add(production_vs_expected(lang, tz=timezone), 16, 9)
    lay.add(irradiation(lang, tz=timezone), 8, 9)
    lay.add(pr_per_array(lang), 8, 10)
    lay.add(pr_per_technology(lang, tz=timezone), 10, 10)
    lay.add(yield_per_technology(lang, tz=timezone), 6, 10)
    lay.add(availability(lang), 8, 8)
    lay.add(pv_power(lang), 16, 8)
    lay.row(Text("Déploiement", "Rollout"), lang)
    lay.add(rollout_funnel(lang), 10, 8)
    lay.add(kwp_vs_plan(lang, tz=timezone), 8, 8)
    lay.add(pv_share(lang), 3, 8)
    lay.add(co2_avoided(lang), 3, 8)
    dash = new_dashboard(UID, TITLE, lang, timezone=timezone, time_from="now-30d", tags=["pv"])
    dash = dash.with_variable(query_variable("site", Text("Site", "Site"), SITE_VAR, lang, multi=True,
                                             include_all=True))
    return lay.apply(dash)
