"""Town overview: consumption by carrier and building, PV, savings, open alerts, data completeness."""

from __future__ import annotations

from dashboards.panels import GREEN_RED, RED_GREEN_PCT, TIMEZONE, Lang, Layout, Q, Text, bars_by, new_dashboard, series
from dashboards.panels import single, tz_clause

UID = "terril-town"
TITLE = Text("Terril — Vue d'ensemble de la commune", "Terril — Town overview")

#: energy of every carrier except water, in Wh (gas converted with the meter's kWh/m³ by analytics)
_BY_CARRIER = ('SELECT sum("consumption_wh") FROM "consumption_daily" WHERE "carrier" != \'water\' AND $timeFilter '
               'GROUP BY "carrier"')
_WATER = 'SELECT sum("volume_m3") FROM "consumption_daily" WHERE "carrier" = \'water\' AND $timeFilter'
_BY_SITE = ('SELECT sum("consumption_wh") FROM "consumption_daily" WHERE "carrier" != \'water\' AND $timeFilter '
            'GROUP BY "site"')


def consumption_by_carrier(lang: Lang, title: Text, time_from: str, time_shift: str | None = None, *,
                           tz: str = TIMEZONE):  # noqa: ANN201
    """Energy consumed per carrier over a calendar period (panel time override: today, month, year)."""
    return single(title, "wh", [Q(_BY_CARRIER, Text("$tag_carrier", "$tag_carrier"))], lang, calc="sum",
                  time_from=time_from, time_shift=time_shift,
                  description=Text(f"Somme des consommations journalières (jours locaux, {tz}).",
                                   f"Sum of daily consumption (local days, {tz})."))


def water(lang: Lang):  # noqa: ANN201
    return single(Text("Eau, année en cours", "Water, year to date"), "m3", [Q(_WATER, Text("Eau", "Water"))], lang,
                  calc="sum", time_from="now/y")


def daily_by_carrier(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT sum("consumption_wh") FROM "consumption_daily" WHERE "carrier" != \'water\' AND $timeFilter '
         f'GROUP BY time(1d), "carrier" fill(none) {tz_clause(tz)}')
    return series(Text("Consommation journalière par énergie", "Daily consumption by carrier"), "wh",
                  [Q(q, Text("$tag_carrier", "$tag_carrier"))], lang, bars=True, stacked=True,
                  description=Text(f"Une barre par jour local (minuit à minuit, {tz}).",
                                   f"One bar per local day (midnight to midnight, {tz})."))


def monthly_by_carrier(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT sum("consumption_wh") FROM "consumption_monthly" WHERE "carrier" != \'water\' AND $timeFilter '
         f'GROUP BY time(1d), "carrier" fill(none) {tz_clause(tz)}')
    return series(Text("Consommation mensuelle par énergie (13 mois)", "Monthly consumption by carrier (13 months)"),
                  "wh", [Q(q, Text("$tag_carrier", "$tag_carrier"))], lang, bars=True, stacked=True,
                  time_from="now-13M/M",
                  description=Text("Mois calendaires locaux, précalculés par l'analyse (consumption_monthly).",
                                   "Local calendar months, precomputed by analytics (consumption_monthly)."))


def by_building(lang: Lang, title: Text, time_from: str | None = None, time_shift: str | None = None):  # noqa: ANN201
    return bars_by(title, "wh", [Q(_BY_SITE, Text("$tag_site", "$tag_site"))], lang, calc="sum",
                   time_from=time_from, time_shift=time_shift)


def pv_production(lang: Lang, *, tz: str):  # noqa: ANN201
    q = ('SELECT sum("production_wh") AS "production", sum("self_consumed_wh") AS "self_consumed", '
         'sum("export_wh") AS "export" FROM "pv_site_daily" WHERE $timeFilter '
         f'GROUP BY time(1d) fill(none) {tz_clause(tz)}')
    return series(Text("Production photovoltaïque et autoconsommation", "PV production and self-consumption"), "wh",
                  [Q(q)], lang, bars=True)


def pv_self_consumption(lang: Lang):  # noqa: ANN201
    q = ('SELECT 100 * sum("self_consumed_wh") / sum("production_wh") AS "self_consumption_pct" '
         'FROM "pv_site_daily" WHERE $timeFilter')
    return single(Text("Taux d'autoconsommation", "Self-consumption rate"), "pct", [Q(q)], lang, decimals=1)


def savings(lang: Lang):  # noqa: ANN201
    q = ('SELECT sum("avoided") AS "avoided_wh" FROM (SELECT last("cumulative_avoided_wh") AS "avoided" '
         'FROM "savings_monthly" WHERE $timeFilter AND "carrier" != \'pv\' GROUP BY "meter")')
    return single(Text("Économies depuis les travaux", "Savings to date"), "wh", [Q(q)], lang, time_from="10y",
                  description=Text("Énergie évitée cumulée (IPMVP), tous bâtiments.",
                                   "Cumulative avoided energy (IPMVP), all buildings."))


def savings_eur(lang: Lang):  # noqa: ANN201
    q = 'SELECT sum("avoided_eur") AS "avoided_eur" FROM "savings_monthly" WHERE $timeFilter AND "carrier" != \'pv\''
    return single(Text("Économies en euros", "Savings in euros"), "eur", [Q(q)], lang, time_from="10y", decimals=0)


def open_alerts(lang: Lang):  # noqa: ANN201
    q = ('SELECT count("onset_ns") FROM "alert" WHERE "state" = \'open\' AND time > now() - 400d '
         'GROUP BY "kind"')
    return bars_by(Text("Alertes ouvertes par type", "Open alerts by kind"), "count",
                   [Q(q, Text("$tag_kind", "$tag_kind"))], lang, thresholds=GREEN_RED)


def completeness(lang: Lang):  # noqa: ANN201
    q = 'SELECT mean("coverage_pct") FROM "data_quality" WHERE $timeFilter GROUP BY "site"'
    return bars_by(Text("Complétude des données par bâtiment", "Data completeness by building"), "pct",
                   [Q(q, Text("$tag_site", "$tag_site"))], lang, calc="mean", thresholds=RED_GREEN_PCT,
                   max_value=100)


def dashboard(lang: Lang, timezone: str = TIMEZONE):  # noqa: ANN201
    """The town overview dashboard."""
    lay = Layout()
    lay.row(Text("Consommation", "Consumption"), lang)
    lay.add(consumption_by_carrier(lang, Text("Aujourd'hui", "Today"), "now/d", tz=timezone), 6, 5)
    lay.add(consumption_by_carrier(lang, Text("Ce mois-ci", "This month"), "now/M", tz=timezone), 6, 5)
    lay.add(consumption_by_carrier(lang, Text("Année en cours", "Year to date"), "now/y", tz=timezone), 6, 5)
    lay.add(consumption_by_carrier(lang, Text("Même période l'an dernier", "Same period last year"),
                                   "now/y", "1y", tz=timezone), 6, 5)
    lay.add(daily_by_carrier(lang, tz=timezone), 12, 8)
    lay.add(monthly_by_carrier(lang, tz=timezone), 12, 8)
    lay.add(by_building(lang, Text("Par bâtiment, année en cours", "By building, year to date"), "now/y"), 8, 10)
    lay.add(by_building(lang, Text("Par bâtiment, même période l'an dernier", "By building, same period last year"),
                        "now/y", "1y"), 8, 10)
    lay.add(water(lang), 8, 10)
    lay.row(Text("Photovoltaïque et économies", "PV and savings"), lang)
    lay.add(pv_production(lang, tz=timezone), 12, 8)
    lay.add(pv_self_consumption(lang), 4, 8)
    lay.add(savings(lang), 4, 8)
    lay.add(savings_eur(lang), 4, 8)
    lay.row(Text("Alertes et qualité", "Alerts and data quality"), lang)
    lay.add(open_alerts(lang), 12, 8)
    lay.add(completeness(lang), 12, 8)
    dash = new_dashboard(UID, TITLE, lang, timezone=timezone, time_from="now-30d", tags=["overview"],
                         description=Text("Consommation, production et alertes de tous les bâtiments.",
                                          "Consumption, production and alerts of every building."))
    return lay.apply(dash)
