"""The PV report: production statement per array, performance, self-consumption, technologies, alerts.

:func:`build_pv_report` turns figures read back from InfluxDB (``pv_daily``,
``pv_site_daily``, PV alerts) into an :class:`analytics.reports.model.Report`; rendering
(PDF, XLSX, CSV, JSON) is the shared framework's (:func:`analytics.reports.render.write_report`).
The per-array statement is the kind a local production company sends its members: array,
period, kWh produced, kWh/kWp, PR, value in €.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence

import numpy as np

from analytics.jobs.alerts import AlertRecord
from analytics.pv.jobs import PvDailyTable, technology_days
from analytics.pv.performance import Tariffs, energy_value_eur
from analytics.pv.rollout import ELECTRICITY_FR_MIX_2022, EmissionFactor
from analytics.pv.technology import ScaleRule, compare_technologies
from analytics.reports.i18n import add_labels, format_date, format_number, t
from analytics.reports.model import Figure, Report, Section, Table, report_metadata
from analytics.reports.render import date_axis, input_hash
from terril.registry import Registry
from terril.timeutil import local_date

LABELS = {
    "pv.title": {"fr": "Production photovoltaïque", "en": "Photovoltaic production"},
    "pv.subtitle": {"fr": "{town} — du {start} au {end}", "en": "{town} — {start} to {end}"},
    "pv.summary.title": {"fr": "En résumé", "en": "In short"},
    "pv.summary.lead": {
        "fr": "Sur la période, les {n} installations ont produit {kwh} kWh, soit {sy} kWh par kWc installé, "
              "pour une valeur estimée de {eur} € (autoconsommé au prix d'achat, injecté au tarif d'achat). "
              "Ratio de performance global : {pr} %.",
        "en": "Over the period, the {n} arrays produced {kwh} kWh, {sy} kWh per installed kWp, worth an estimated "
              "{eur} € (self-consumed energy at the purchase price, exported energy at the feed-in price). "
              "Overall performance ratio: {pr} %."},
    "pv.summary.losses": {
        "fr": "Production perdue par les installations restées en deçà de leur production attendue (d'après "
              "l'ensoleillement mesuré) : {kwh} kWh, soit {eur} €.",
        "en": "Production lost by the arrays that fell short of their expected production (from the measured "
              "sunshine): {kwh} kWh, {eur} €."},
    "pv.state.open": {"fr": "ouverte", "en": "open"},
    "pv.state.acknowledged": {"fr": "prise en compte", "en": "acknowledged"},
    "pv.state.resolved": {"fr": "résolue", "en": "resolved"},
    "pv.summary.alerts": {"fr": "Alertes photovoltaïques sur la période : {n}.",
                          "en": "PV alerts over the period: {n}."},
    "pv.statement.title": {"fr": "Relevé de production par installation", "en": "Production statement per array"},
    "pv.col.array": {"fr": "Installation", "en": "Array"},
    "pv.col.site": {"fr": "Bâtiment", "en": "Building"},
    "pv.col.technology": {"fr": "Technologie", "en": "Technology"},
    "pv.col.period": {"fr": "Période", "en": "Period"},
    "pv.col.kwp": {"fr": "Puissance [kWc]", "en": "Power [kWp]"},
    "pv.col.production": {"fr": "Production [kWh]", "en": "Production [kWh]"},
    "pv.col.expected": {"fr": "Attendu [kWh]", "en": "Expected [kWh]"},
    "pv.col.losses": {"fr": "Écart [kWh]", "en": "Shortfall [kWh]"},
    "pv.col.losses_eur": {"fr": "Écart [€]", "en": "Shortfall [€]"},
    "pv.col.sy": {"fr": "Productible [kWh/kWc]", "en": "Specific yield [kWh/kWp]"},
    "pv.col.pr": {"fr": "Ratio de performance [%]", "en": "Performance ratio [%]"},
    "pv.col.availability": {"fr": "Disponibilité [%]", "en": "Availability [%]"},
    "pv.col.value": {"fr": "Valeur [€]", "en": "Value [€]"},
    "pv.col.days": {"fr": "Jours de données", "en": "Days of data"},
    "pv.col.self_consumed": {"fr": "Autoconsommé [kWh]", "en": "Self-consumed [kWh]"},
    "pv.col.export": {"fr": "Injecté [kWh]", "en": "Exported [kWh]"},
    "pv.col.import": {"fr": "Soutiré [kWh]", "en": "Imported [kWh]"},
    "pv.col.scr": {"fr": "Taux d'autoconsommation [%]", "en": "Self-consumption rate [%]"},
    "pv.col.ssr": {"fr": "Taux d'autoproduction [%]", "en": "Self-sufficiency rate [%]"},
    "pv.col.co2": {"fr": "CO₂ évité [kg]", "en": "CO₂ avoided [kg]"},
    "pv.col.rank": {"fr": "Rang", "en": "Rank"},
    "pv.col.pr_ci": {"fr": "PR, intervalle à 95 % [%]", "en": "PR, 95 % interval [%]"},
    "pv.col.degradation": {"fr": "Dégradation [%/an]", "en": "Degradation [%/yr]"},
    "pv.col.ready": {"fr": "Prête à déployer", "en": "Ready to scale"},
    "pv.col.kind": {"fr": "Type", "en": "Kind"},
    "pv.col.onset": {"fr": "Début", "en": "Onset"},
    "pv.col.state": {"fr": "État", "en": "State"},
    "pv.col.magnitude": {"fr": "Ampleur [kWh/jour]", "en": "Magnitude [kWh/day]"},
    "pv.col.cost": {"fr": "Coût [€]", "en": "Cost [€]"},
    "pv.performance.title": {"fr": "Performance par installation", "en": "Performance per array"},
    "pv.performance.text": {
        "fr": "Le ratio de performance (PR, IEC 61724-1) rapporte l'énergie produite à celle qu'une installation "
              "sans pertes aurait produite avec l'ensoleillement reçu dans le plan des modules. L'attendu tient compte "
              "de la température des cellules, des pertes déclarées et de l'onduleur.",
        "en": "The performance ratio (PR, IEC 61724-1) compares the energy produced with what a lossless array "
              "would have produced from the sunshine received in the plane of the modules. The expectation accounts "
              "for cell temperature, the declared losses and the inverter."},
    "pv.sites.title": {"fr": "Autoconsommation par bâtiment", "en": "Self-consumption per building"},
    "pv.sites.text": {
        "fr": "Calculés quart d'heure par quart d'heure : autoconsommé = production − injection ; taux "
              "d'autoconsommation = autoconsommé / production ; taux d'autoproduction = autoconsommé / consommation.",
        "en": "Computed per quarter hour: self-consumed = production − export; self-consumption rate = "
              "self-consumed / production; self-sufficiency rate = self-consumed / consumption."},
    "pv.tech.title": {"fr": "Comparaison des technologies (plateforme d'essais)",
                      "en": "Technology comparison (test platform)"},
    "pv.tech.text": {"fr": "Sur {n} jours communs exploitables. {rule}", "en": "Over {n} common usable days. {rule}"},
    "pv.alerts.title": {"fr": "Alertes", "en": "Alerts"},
    "pv.alerts.none": {"fr": "Aucune alerte sur la période.", "en": "No alert over the period."},
    "pv.figure.daily": {"fr": "Production journalière totale [kWh]", "en": "Total daily production [kWh]"},
    "pv.note.value": {
        "fr": "Valeur : autoconsommé à {buy} €/kWh, injecté à {sell} €/kWh (paramètres). CO₂ : {factor} kg/kWh "
              "autoconsommé ({name}, millésime {vintage}).",
        "en": "Value: self-consumed at {buy} €/kWh, exported at {sell} €/kWh (parameters). CO₂: {factor} kg per "
              "self-consumed kWh ({name}, vintage {vintage})."},
}
add_labels(LABELS)


def _f(x: float, nd: int = 1) -> float | None:
    return round(float(x), nd) if x is not None and math.isfinite(float(x)) else None


def build_pv_report(registry: Registry, daily: PvDailyTable, site_daily: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]],
                    alerts: Sequence[AlertRecord], start: dt.date, end: dt.date, lang: str, *,
                    tariffs: Tariffs = Tariffs(), factor: EmissionFactor = ELECTRICITY_FR_MIX_2022,
                    rule: ScaleRule = ScaleRule(), generated_at: dt.datetime | None = None) -> Report:
    """The PV report for the days ``start..end`` (inclusive) in ``lang`` (fr or en)."""
    period = f"{format_date(start, lang)} – {format_date(end, lang)}"
    # self-consumption rate per site over the period, used to value each array's energy
    scr: dict[str, float] = {}
    site_rows = []
    for site_id in sorted(site_daily):
        _, f = site_daily[site_id]
        p, s, x, i = (float(np.nansum(f[k])) for k in ("production_wh", "self_consumed_wh", "export_wh", "import_wh"))
        scr[site_id] = 100.0 * s / p if p > 0 else float("nan")
        ssr = 100.0 * s / (i + s) if i + s > 0 else float("nan")
        site = registry.site_by_id.get(site_id)
        site_rows.append((site.name if site else site_id, _f(p / 1000, 0), _f(s / 1000, 0), _f(x / 1000, 0),
                          _f(i / 1000, 0), _f(scr[site_id]), _f(ssr), _f(s / 1000 * factor.value_kg_per_kwh, 0)))
    statement, perf_rows = [], []
    tot_p = tot_h_kwp = tot_kwp = tot_eur = tot_loss = tot_loss_eur = 0.0
    for arr in registry.pv_arrays:
        m = daily.array == arr.id
        if not m.any():
            continue
        p = float(np.nansum(daily.fields["production_wh"][m]))
        x = float(np.nansum(daily.fields["expected_wh"][m]))
        h = float(np.nansum(daily.fields["irradiation_wh_m2"][m]))
        pr = 100.0 * p / (arr.kwp * h) if h > 0 else float("nan")
        avail = float(np.nanmean(daily.fields["availability_pct"][m]))
        s = scr.get(arr.site, float("nan"))
        eur = float(energy_value_eur(p, s, tariffs))
        loss = max(x - p, 0.0)
        loss_eur = float(energy_value_eur(loss, s, tariffs))
        site = registry.site_by_id[arr.site]
        statement.append((arr.id, site.name, period, _f(p / 1000, 0), _f(p / 1000 / arr.kwp, 1), _f(pr), _f(eur, 0)))
        perf_rows.append((arr.id, arr.technology, arr.kwp, int(m.sum()), _f(p / 1000, 0), _f(x / 1000, 0),
                          _f(loss / 1000, 0), _f(loss_eur, 0), _f(pr), _f(avail)))
        tot_p += p
        tot_loss += loss  # arrays short of their expected production; one above it offsets no other's loss
        tot_h_kwp += arr.kwp * h
        tot_kwp += arr.kwp
        tot_eur += eur
        tot_loss_eur += loss_eur
    n = len(statement)
    pr_all = 100.0 * tot_p / tot_h_kwp if tot_h_kwp > 0 else float("nan")
    lead = t("pv.summary.lead", lang, n=n, kwh=format_number(tot_p / 1000, lang), sy=format_number(
        tot_p / 1000 / tot_kwp if tot_kwp else float("nan"), lang, 1), eur=format_number(tot_eur, lang),
        pr=format_number(pr_all, lang, 1))
    in_period = [a for a in alerts if start <= local_date(a.onset_ns) <= end and a.kind.startswith("pv_")]
    paragraphs = (lead, t("pv.summary.losses", lang, kwh=format_number(tot_loss / 1000, lang),
                                        eur=format_number(tot_loss_eur, lang)),
                  t("pv.summary.alerts", lang, n=len(in_period)))
    note = t("pv.note.value", lang, buy=format_number(tariffs.purchase_eur_per_kwh, lang, 2),
             sell=format_number(tariffs.feed_in_eur_per_kwh, lang, 2),
             factor=format_number(factor.value_kg_per_kwh, lang, 3), name=factor.name, vintage=factor.vintage)
    col = lambda *keys: tuple(t(f"pv.col.{k}", lang) for k in keys)  # noqa: E731
    summary = Section(t("pv.summary.title", lang), paragraphs, (Table(
        "statement", t("pv.statement.title", lang), col("array", "site", "period", "production", "sy", "pr", "value"),
        tuple(statement), note),))
    days = np.unique(daily.time_ns)
    totals = np.array([np.nansum(daily.fields["production_wh"][daily.time_ns == d]) for d in days]) / 1000.0
    dates = [local_date(int(d) + 12 * 3600 * 10**9) for d in days]

    def draw(ax) -> None:  # noqa: ANN001
        ax.plot(dates, totals, lw=0.8)
        ax.set_ylabel("kWh")
        ax.grid(alpha=0.3)
        date_axis(ax, lang)
        ax.yaxis.set_major_formatter(lambda v, _: format_number(v, lang))

    sections = [Section(t("pv.performance.title", lang), (t("pv.performance.text", lang),),
                        (Table("performance", t("pv.performance.title", lang),
                               col("array", "technology", "kwp", "days", "production", "expected", "losses",
                                   "losses_eur", "pr", "availability"), tuple(perf_rows)),),
                        (Figure("daily_production", t("pv.figure.daily", lang), draw),) if days.size else ())]
    if site_rows:
        sections.append(Section(t("pv.sites.title", lang), (t("pv.sites.text", lang),), (Table(
            "self_consumption", t("pv.sites.title", lang),
            col("site", "production", "self_consumed", "export", "import", "scr", "ssr", "co2"), tuple(site_rows)),)))
    tech_rows = []
    platform = next((s.id for s in registry.sites if s.kind == "pv_test_platform"), None)
    arrays_days = technology_days(daily, registry, site=platform) if platform else []
    comparison = None
    if len({a.technology for a in arrays_days}) >= 2:
        try:
            comparison = compare_technologies(arrays_days, rule=rule, n_boot=300)
        except ValueError:
            comparison = None
    if comparison is not None:
        verdict = {v.technology: v for v in comparison.verdicts}
        for r in comparison.results:
            tech_rows.append((r.rank, r.technology, _f(r.pr_pct.value), f"{r.pr_pct.low:.1f} – {r.pr_pct.high:.1f}",
                              _f(r.specific_yield_kwh_kwp_yr.value, 0), _f(r.degradation_pct_per_year.value, 2),
                              t("yes" if verdict[r.technology].ready else "no", lang)))
        sections.append(Section(t("pv.tech.title", lang),
                                (t("pv.tech.text", lang, n=comparison.common_days, rule=rule.describe(lang)),),
                                (Table("technologies", t("pv.tech.title", lang),
                                       col("rank", "technology", "pr", "pr_ci", "sy", "degradation", "ready"),
                                       tuple(tech_rows)),)))
    alert_rows = tuple((a.meter, a.title_fr if lang == "fr" else a.title_en, local_date(a.onset_ns),
                        t(f"pv.state.{a.state}", lang),
                        _f(a.magnitude_kwh_per_day, 2), _f(a.cost_eur, 0)) for a in in_period)
    sections.append(Section(t("pv.alerts.title", lang), () if alert_rows else (t("pv.alerts.none", lang),),
                            (Table("alerts", t("pv.alerts.title", lang),
                                   col("array", "kind", "onset", "state", "magnitude", "cost"), alert_rows),)))
    params = {"tariffs_eur_per_kwh": {"purchase": tariffs.purchase_eur_per_kwh, "feed_in": tariffs.feed_in_eur_per_kwh},
              "co2_factor": {"id": factor.factor_id, "value_kg_per_kwh": factor.value_kg_per_kwh,
                             "vintage": factor.vintage, "source": factor.source_url},
              "pr": "IEC 61724-1 Y_f/Y_r; POA from GHI by Erbs + Hay-Davies (pvlib)",
              "scale_rule": rule.describe("en")}
    meta = report_metadata(
        data_range=f"{start.isoformat()}..{end.isoformat()}",
        input_sha256=input_hash(daily.time_ns, *[daily.fields[k] for k in sorted(daily.fields)],
                                "|".join(map(str, daily.array)).encode()),
        model_parameters=json.dumps(params, sort_keys=True), generated_at=generated_at)
    town = registry.town.name
    return Report("pv", lang, t("pv.title", lang),
                  t("pv.subtitle", lang, town=town, start=format_date(start, lang), end=format_date(end, lang)),
                  summary, tuple(sections), meta)
