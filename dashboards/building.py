"""Building dashboard: one site and its meters — consumption vs baseline, CUSUM, base load, degree days, data quality."""

from __future__ import annotations

import warnings

from dashboards.influxql import InfluxQL, datasource_ref
from dashboards.panels import TIMEZONE, Lang, Layout, Q, Text, grid, new_dashboard, query_variable, series, single
from dashboards.panels import tz_clause

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import dashboard as dashboard_b

UID = "terril-building"
TITLE = Text("Terril — Bâtiment", "Terril — Building")

SITE_VAR = 'SHOW TAG VALUES FROM "reading" WITH KEY = "site"'
METER_VAR = 'SHOW TAG VALUES FROM "reading" WITH KEY = "meter" WHERE "site" = \'$site\''
#: the site and meters chosen in the variables (multi-value meter: Grafana formats it as a regex group)
WHERE = '"site" = \'$site\' AND "meter" =~ /^$meter$/'


def consumption_vs_baseline(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT sum("actual_wh") AS "actual", sum("expected_wh") AS "expected" FROM "baseline_daily" '
         f'WHERE {WHERE} AND $timeFilter GROUP BY time(1d) fill(none) {tz_clause(tz)}')
    return series(Text("Consommation et référence (ajustée climat)", "Consumption vs baseline (weather-adjusted)"),
                  "wh", [Q(q)], lang, bars=True,
                  description=Text("Référence : modèle à point de rupture sur les degrés-jours et le calendrier.",
                                   "Baseline: change-point model on degree days and the calendar."))


def cusum(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT last("cusum_wh") FROM "baseline_daily" '
         f'WHERE {WHERE} AND $timeFilter GROUP BY time(1d), "meter" fill(none) {tz_clause(tz)}')
    return series(Text("CUSUM des écarts à la référence", "CUSUM of residuals"), "wh",
                  [Q(q, Text("$tag_meter", "$tag_meter"))], lang,
                  description=Text("Une pente durable signale une dérive.", "A lasting slope signals a drift."))


def base_load(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT mean("base_load_w") FROM "baseline_daily" '
         f'WHERE {WHERE} AND $timeFilter GROUP BY time(1d), "meter" fill(none) {tz_clause(tz)}')
    return series(Text("Talon de consommation (nuit)", "Night base load"), "w",
                  [Q(q, Text("$tag_meter", "$tag_meter"))], lang)


def daily_consumption(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT sum("consumption_wh") FROM "consumption_daily" '
         f'WHERE {WHERE} AND $timeFilter GROUP BY time(1d), "meter" fill(none) {tz_clause(tz)}')
    return series(Text("Consommation journalière par compteur", "Daily consumption by meter"), "wh",
                  [Q(q, Text("$tag_meter", "$tag_meter"))], lang, bars=True, stacked=True)


def water_daily(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT sum("volume_m3") FROM "consumption_daily" '
         f'WHERE {WHERE} AND $timeFilter GROUP BY time(1d), "meter" fill(none) {tz_clause(tz)}')
    return series(Text("Volumes journaliers (eau, gaz)", "Daily volumes (water, gas)"), "m3",
                  [Q(q, Text("$tag_meter", "$tag_meter"))], lang, bars=True)


def power(lang: Lang):  # noqa: ANN201
    q = ('SELECT mean("power_w") FROM "reading" '
         f'WHERE {WHERE} AND $timeFilter GROUP BY time($__interval), "meter" fill(null)')
    return series(Text("Puissance appelée (relevés bruts)", "Power (raw readings)"), "w",
                  [Q(q, Text("$tag_meter", "$tag_meter"))], lang, interval="1m")


def degree_days(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT sum("hdd_costic_k_d") AS "hdd_costic", sum("hdd_meteo_k_d") AS "hdd_meteo" FROM "weather_daily" '
         f'WHERE $timeFilter GROUP BY time(1d) fill(none) {tz_clause(tz)}')
    return series(Text("Degrés-jours de chauffage (DJU)", "Heating degree days"), "k_d",
                  [Q(q)], lang, bars=True,
                  description=Text("DJU COSTIC et Météo-France, base 18 °C, station de la commune.",
                                   "COSTIC and Météo-France degree days, base 18 °C, the town's weather station."))


def outdoor_temperature(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT mean("temp_mean_c") AS "mean", min("temp_min_c") AS "min", max("temp_max_c") AS "max" '
         f'FROM "weather_daily" WHERE $timeFilter GROUP BY time(1d) fill(none) {tz_clause(tz)}')
    return series(Text("Température extérieure journalière", "Daily outdoor temperature"), "c", [Q(q)], lang)


def quality_ledger(lang: Lang):  # noqa: ANN201
    q = ('SELECT "source", "origin", "coverage_pct", "gaps", "longest_gap_s", "resets", "spikes", "stuck_intervals", '
         f'"estimated_pct" FROM "data_quality" WHERE {WHERE} AND $timeFilter GROUP BY "meter"')
    return grid(Text("Registre de qualité des données", "Data-quality ledger"), "count", [Q(q, table=True)], lang,
                columns={"coverage_pct": "pct", "estimated_pct": "pct", "longest_gap_s": "s"},
                description=Text("Une ligne par compteur et par jour : source (live : relevés en direct ; imported : "
                                 "historique importé) et origine, couverture, trous, remises à zéro, pics.",
                                 "One row per meter and day: source (live readings or imported history) and "
                                 "origin, coverage, gaps, resets, spikes."))


def coverage(lang: Lang):  # noqa: ANN201
    q = f'SELECT mean("coverage_pct") FROM "data_quality" WHERE {WHERE} AND $timeFilter'
    return single(Text("Couverture moyenne", "Mean coverage"), "pct", [Q(q)], lang, decimals=1)


def alert_annotations(lang: Lang) -> dashboard_b.AnnotationQuery:
    """The building's alerts, drawn at their onset on every time series."""
    column = "title_fr" if lang == "fr" else "title_en"
    q = (f'SELECT "{column}", "kind" FROM "alert" WHERE "site" = \'$site\' AND "meter" =~ /^$meter$/ '
         'AND $timeFilter')
    return (dashboard_b.AnnotationQuery().name(Text("Alertes", "Alerts").get(lang)).datasource(datasource_ref())
            .enable(True).icon_color("red")
            .target(InfluxQL(q, ref_id="Anno", result_format="table", text_column=column, tags_column="kind")))


def dashboard(lang: Lang, timezone: str = TIMEZONE):  # noqa: ANN201
    """The building dashboard (variables: site, meter)."""
    lay = Layout()
    lay.row(Text("Consommation et référence", "Consumption and baseline"), lang)
    lay.add(consumption_vs_baseline(lang, tz=timezone), 16, 9)
    lay.add(coverage(lang), 8, 9)
    lay.add(cusum(lang, tz=timezone), 12, 8)
    lay.add(base_load(lang, tz=timezone), 12, 8)
    lay.add(daily_consumption(lang, tz=timezone), 12, 8)
    lay.add(water_daily(lang, tz=timezone), 12, 8)
    lay.add(power(lang), 24, 8)
    lay.row(Text("Climat", "Weather"), lang)
    lay.add(degree_days(lang, tz=timezone), 12, 8)
    lay.add(outdoor_temperature(lang, tz=timezone), 12, 8)
    lay.row(Text("Qualité des données", "Data quality"), lang)
    lay.add(quality_ledger(lang), 24, 10)
    dash = new_dashboard(UID, TITLE, lang, timezone=timezone, time_from="now-30d", tags=["building"])
    dash = dash.with_variable(query_variable("site", Text("Bâtiment", "Building"), SITE_VAR, lang))
    dash = dash.with_variable(query_variable("meter", Text("Compteur", "Meter"), METER_VAR, lang, multi=True,
                                             include_all=True))
    dash = dash.annotation(alert_annotations(lang))
    return lay.apply(dash)
