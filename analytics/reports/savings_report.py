"""The savings report: per-meter IPMVP savings computed from an input bundle, assembled into
a :class:`~analytics.reports.model.Report` (summary a mayor can read, one section per
building with its charts and fit statistics, monthly figures, measures, method notes).

:func:`compute_savings` is the numerical part (no rendering); :func:`build_savings_report`
turns its result into a report; :func:`savings_monthly_points` gives the ``savings_monthly``
points for InfluxDB.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.dates as mdates
import numpy as np

from analytics.baseline import fractional_savings_uncertainty
from analytics.reports.i18n import format_date, format_month, format_number, t, t_tuple
from analytics.reports.inputs import InputBundle
from analytics.reports.model import Figure, Report, Section, Table, report_metadata
from analytics.reports.render import PALETTE
from analytics.savings import (
    DEFAULT_VALUE_FACTORS, MeasureResult, MeterSavings, NonRoutineAdjustment, Period, SavingsTotal, ValueFactors,
    cusum_kwh, learnt_heating_season, measure_result, meter_savings, model_inputs, monthly_savings, parameters_json,
    pv_option_b, normal_temperature_for, total, typical_year_temperature,
)
from terril.readings import Point
from terril.registry import Registry
from terril.timeutil import local_midnight_ns


@dataclass(frozen=True, eq=False)
class SavingsResult:
    """Everything the savings report shows, computed once."""

    site_ids: tuple[str, ...]
    baseline: Period
    reporting: Period
    meters: tuple[MeterSavings, ...]
    per_site_carrier: tuple[SavingsTotal, ...]
    portfolio: SavingsTotal
    measures: tuple[MeasureResult, ...]
    adjustments: tuple[NonRoutineAdjustment, ...]
    factors: ValueFactors
    input_sha256: str
    data_range: str
    bundle: InputBundle

    def parameters_json(self) -> str:
        return parameters_json(self.meters)


def _option_for(usage: str, carrier: str) -> str:
    return "B" if carrier == "pv" or usage not in ("main",) else "C"


def compute_savings(bundle: InputBundle, registry: Registry, site_ids: Sequence[str], baseline: Period,
                    reporting: Period, *, adjustments: Sequence[NonRoutineAdjustment] = (),
                    factors: ValueFactors = DEFAULT_VALUE_FACTORS, progress: object | None = None) -> SavingsResult:
    """Savings of every energy meter of ``site_ids`` (option C on main meters, B on sub-meters and PV).

    ``progress`` is an optional callable ``progress(meter_id)`` called after each meter.
    """
    sites = registry.site_by_id
    meters_reg = registry.meter_by_id
    typical = typical_year_temperature(bundle.dates, bundle.temp_mean_c)
    out: list[MeterSavings] = []
    for md in bundle.meters:
        if md.site not in site_ids:
            continue
        meter = meters_reg.get(md.meter)
        usage = meter.usage if meter else "main"
        if md.carrier == "pv":
            s = pv_option_b(meter=md.meter, site=md.site, dates=bundle.dates, production_kwh=md.energy_kwh,
                            reporting=reporting, factors=factors)
        else:
            site = sites[md.site]
            season = _season(bundle, md.energy_kwh, md.carrier, baseline)
            temp, x, names = model_inputs(bundle.dates, bundle.temp_mean_c, md.carrier, site.school_week, season)
            s = meter_savings(meter=md.meter, site=md.site, carrier=md.carrier, dates=bundle.dates,
                              energy_kwh=md.energy_kwh, temp_mean_c=temp, regressors=x, regressor_names=names,
                              baseline=baseline, reporting=reporting, option=_option_for(usage, md.carrier),
                              adjustments=adjustments, factors=factors,
                              normal_year=_normal_year(typical, reporting, md.carrier, site.school_week, season))
            pv_new = [a for a in registry.pv_arrays if a.site == md.site and md.carrier == "electricity"
                      and baseline.start <= a.commissioned <= reporting.end]
            if pv_new:  # CalTRACK §2.2.6: net-metering status changed inside the periods
                s = _with_reason(s, "savings.pv_commissioned_in_period")
        out.append(s)
        if progress is not None:
            progress(md.meter)  # type: ignore[operator]
    per: list[SavingsTotal] = []
    for sid in site_ids:
        for carrier in ("electricity", "gas", "heat", "pv"):
            items = [s for s in out if s.site == sid and s.carrier == carrier]
            if items:
                per.append(total(sid, carrier, items))
    consumption = [s for s in out if s.carrier != "pv"]
    portfolio = total("portfolio", "total", consumption)
    measures = []
    for ms in registry.measures:
        if ms.site not in site_ids or ms.kind == "pv":
            continue
        ids = ms.meters or tuple(s.meter for s in consumption if s.site == ms.site)
        # a measure is judged when it falls between the baseline end and the reporting start
        if not (baseline.end <= ms.date <= reporting.start + dt.timedelta(days=31)):
            continue
        measures.append(measure_result(ms.id, ms.site, ms.kind, ms.date, ms.cost_eur, ms.expected_savings_pct,
                                       [s for s in consumption if s.meter in ids]))
    return SavingsResult(tuple(site_ids), baseline, reporting, tuple(out), tuple(per), portfolio, tuple(measures),
                         tuple(adjustments), factors, bundle.sha256(), bundle.data_range(), bundle)


def _season(bundle: InputBundle, energy_kwh: np.ndarray, carrier: str, baseline: Period) -> tuple[int, int] | None:
    """The heating season the plant keeps, learnt on the baseline (gas and heat; None otherwise)."""
    if carrier not in ("gas", "heat"):
        return None
    return learnt_heating_season(bundle.dates, energy_kwh, baseline.mask(np.asarray(bundle.dates, "datetime64[D]")))


def _normal_year(typical: np.ndarray, reporting: Period, carrier: str, school_week: str | None,
                 season: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs over one typical year from the reporting start (typical temperature, real calendar)."""
    nd = np.arange(np.datetime64(reporting.start), np.datetime64(reporting.start) + 365)
    tn = normal_temperature_for(nd, typical)
    temp, x, _ = model_inputs(nd, tn, carrier, school_week, season)
    return temp, x


def _with_reason(s: MeterSavings, reason: str) -> MeterSavings:
    import dataclasses

    return dataclasses.replace(s, reasons=s.reasons + (reason,))


def savings_monthly_points(result: SavingsResult) -> list[Point]:
    """``savings_monthly`` points (docs/schema.md): one per qualifying meter and month, at the
    month's local midnight."""
    pts: list[Point] = []
    for s in result.meters:
        if not s.qualifies:
            continue
        for row in monthly_savings(s, result.factors):
            pts.append(Point("savings_monthly", {"site": s.site, "meter": s.meter, "carrier": s.carrier},
                             {"adjusted_baseline_wh": row.adjusted_baseline_wh, "actual_wh": row.actual_wh,
                              "avoided_wh": row.avoided_wh, "avoided_eur": row.avoided_eur,
                              "avoided_co2_kg": row.avoided_co2_kg,
                              "cumulative_avoided_wh": row.cumulative_avoided_wh},
                             local_midnight_ns(row.month)))
    return pts


# ---------------------------------------------------------------------------------------
# charts (pure drawing callbacks)


def _week_sums(dates: np.ndarray, *arrays: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    wk = (np.arange(dates.size) // 7)
    starts = dates[::7]
    out = []
    for a in arrays:
        out.append(np.bincount(wk, weights=np.where(valid, a, 0.0), minlength=starts.size))
    return starts, out


def _fmt_axis(ax, lang: str) -> None:  # noqa: ANN001
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m/%y" if lang == "fr" else "%Y-%m"))
    ax.yaxis.set_major_formatter(lambda v, _: format_number(v, lang))
    ax.grid(True, color="#dddddd", lw=0.5)


def _draw_baseline_vs_actual(s: MeterSavings, lang: str):  # noqa: ANN202
    def draw(ax) -> None:  # noqa: ANN001
        starts, (base, act) = _week_sums(s.dates, s.adjusted_baseline_kwh, s.actual_kwh, valid=s.valid)
        x = starts.astype("datetime64[D]").astype(dt.date)
        ax.plot(x, base, color=PALETTE["primary"], lw=1.6, label=t("savings.legend.baseline", lang))
        ax.plot(x, act, color=PALETTE["actual"], lw=1.2, label=t("savings.legend.actual", lang))
        ax.fill_between(x, act, base, where=base >= act, color=PALETTE["band"], alpha=0.5, lw=0)
        ax.set_ylabel(t("savings.axis.kwh_week", lang))
        ax.legend(loc="upper center", ncols=2, frameon=False)
        _fmt_axis(ax, lang)
    return draw


def _cumulative_band(s: MeterSavings) -> tuple[np.ndarray, np.ndarray]:
    cum = np.cumsum(np.where(s.valid, s.adjusted_baseline_kwh - s.actual_kwh, 0.0))
    m = np.cumsum(s.valid)
    e = np.cumsum(np.where(s.valid, s.adjusted_baseline_kwh, 0.0))
    mt = s.model.metrics if s.model else None
    if mt is None or not math.isfinite(mt.cvrmse) or mt.n <= mt.p:
        band = np.full(cum.size, np.nan) if mt else np.abs(cum) * 0.02
        return cum, band
    k1 = fractional_savings_uncertainty(mt.cvrmse, mt.n, mt.p, 1, 1.0, rho1=mt.rho1, confidence=0.90)
    with np.errstate(invalid="ignore", divide="ignore"):
        band = np.where(m > 0, k1 * e / np.sqrt(np.maximum(m, 1)), np.nan)
    return cum, band


def _draw_cumulative(s: MeterSavings, lang: str):  # noqa: ANN202
    def draw(ax) -> None:  # noqa: ANN001
        cum, band = _cumulative_band(s)
        x = s.dates.astype(dt.date)
        ax.fill_between(x, cum - band, cum + band, color=PALETTE["band"], alpha=0.6, lw=0,
                        label=t("savings.legend.band90", lang))
        ax.plot(x, cum, color=PALETTE["accent"], lw=1.6, label=t("savings.legend.savings", lang))
        ax.axhline(0, color=PALETTE["grey"], lw=0.8)
        ax.set_ylabel(t("savings.axis.kwh", lang))
        ax.legend(loc="upper left", frameon=False)
        _fmt_axis(ax, lang)
    return draw


def _draw_cusum(s: MeterSavings, bundle: InputBundle, registry: Registry, lang: str):  # noqa: ANN202
    md = bundle.meter(s.meter)
    site = registry.site_by_id[s.site]

    def draw(ax) -> None:  # noqa: ANN001
        if md is None or s.model is None:
            return
        temp, x_all, _ = model_inputs(bundle.dates, bundle.temp_mean_c, s.carrier, site.school_week,
                                      _season(bundle, md.energy_kwh, s.carrier, s.baseline))
        sel = (bundle.dates >= np.datetime64(s.baseline.start)) & (bundle.dates <= np.datetime64(s.reporting.end))
        exp = s.model.predict(temp[sel], x_all[sel])
        c = cusum_kwh(md.energy_kwh[sel], exp)
        x = bundle.dates[sel].astype(dt.date)
        ax.plot(x, c, color=PALETTE["primary"], lw=1.4)
        ax.axvline(s.reporting.start, color=PALETTE["warn"], lw=1, ls="--", label=t("savings.legend.reporting_start", lang))
        ax.axhline(0, color=PALETTE["grey"], lw=0.8)
        ax.set_ylabel(t("savings.axis.kwh", lang))
        ax.legend(loc="lower left", frameon=False)
        _fmt_axis(ax, lang)
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=3))
    return draw


def _draw_kpis(tot: SavingsTotal, lang: str):  # noqa: ANN202
    tiles = [
        (t("savings.kpi.actual", lang), format_number(tot.actual_kwh / 1000, lang) + " MWh", PALETTE["actual"]),
        (t("savings.kpi.baseline", lang), format_number(tot.adjusted_baseline_kwh / 1000, lang) + " MWh", PALETTE["primary"]),
        (t("savings.kpi.avoided", lang), format_number(tot.avoided_kwh / 1000, lang) + " MWh\n"
         + format_number(tot.avoided_pct, lang, 1) + " %", PALETTE["accent"]),
        (t("savings.kpi.eur", lang), format_number(tot.avoided_eur, lang) + " €", PALETTE["accent"]),
        (t("savings.kpi.co2", lang), format_number(tot.avoided_co2_kg / 1000, lang, 1) + " t", PALETTE["accent"]),
    ]

    def draw(ax) -> None:  # noqa: ANN001
        from matplotlib.patches import FancyBboxPatch

        ax.set_axis_off()
        ax.set_xlim(0, len(tiles))
        ax.set_ylim(0, 1)
        for i, (label, value, colour) in enumerate(tiles):
            ax.add_patch(FancyBboxPatch((i + 0.05, 0.05), 0.9, 0.9, boxstyle="round,pad=0.0,rounding_size=0.06",
                                        fc=colour, ec="none", alpha=0.92))
            ax.text(i + 0.5, 0.76, "\n".join(textwrap.wrap(label, 14)), ha="center", va="center", color="white",
                    fontsize=7.5, weight="bold")
            ax.text(i + 0.5, 0.36, value, ha="center", va="center", color="white", fontsize=11, weight="bold")
    return draw


def _draw_per_building(result: SavingsResult, registry: Registry, lang: str):  # noqa: ANN202
    names = registry.site_by_id

    def draw(ax) -> None:  # noqa: ANN001
        rows = []
        for sid in result.site_ids:
            items = [s for s in result.meters if s.site == sid and s.carrier != "pv"]
            tot = total(sid, "total", items)
            rows.append((names[sid].name, tot.avoided_kwh / 1000, tot.u90_kwh / 1000))
        y = np.arange(len(rows))
        vals = np.array([r[1] for r in rows])
        errs = np.array([r[2] for r in rows])
        colours = [PALETTE["accent"] if v - e > 0 else PALETTE["warn"] if v + e < 0 else PALETTE["grey"]
                   for v, e in zip(vals, errs)]
        ax.barh(y, vals, xerr=errs, color=colours, capsize=3, error_kw={"lw": 0.8})
        ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color=PALETTE["grey"], lw=0.8)
        ax.set_xlabel("MWh")
        ax.xaxis.set_major_formatter(lambda v, _: format_number(v, lang, 0 if abs(v) >= 10 else 1))
        ax.grid(True, axis="x", color="#dddddd", lw=0.5)
    return draw


# ---------------------------------------------------------------------------------------
# report


def _carrier(c: str, lang: str) -> str:
    return t(f"carrier.{c}", lang) if c != "total" else t("carrier.total", lang)


def _verdict_text(s: MeterSavings, lang: str) -> str:
    if s.model is None:
        return t("verdict.pass", lang) if s.qualifies else t("verdict.excluded", lang)
    if not s.qualifies:
        return t("verdict.excluded", lang) + " (" + ", ".join(s.reasons) + ")"
    return t(f"verdict.{s.model.verdict.status}", lang)


def _pct(x: float) -> float:
    return 100.0 * x if math.isfinite(x) else math.nan


def _model_rows(s: MeterSavings, lang: str) -> tuple[tuple[object, ...], ...]:
    m = s.model
    if m is None:
        return ()
    rows: list[tuple[object, ...]] = [
        (t("param.kind", lang), t(f"model.{m.kind}", lang)),
        (t("param.intercept", lang), m.intercept),
    ]
    if m.heating_slope:
        rows += [(t("param.heating_balance", lang), m.heating_balance_c), (t("param.heating_slope", lang), m.heating_slope)]
    if m.cooling_slope:
        rows += [(t("param.cooling_balance", lang), m.cooling_balance_c), (t("param.cooling_slope", lang), m.cooling_slope)]
    for name, coef in zip(m.regressor_names, m.regressor_coefs):
        if coef:
            rows.append((t("param.regressor", lang, name=t(f"regressor.{name}", lang)), coef))
    mt = m.metrics
    rows += [
        (t("param.n", lang), mt.n), (t("param.r2", lang), mt.r2), (t("param.cvrmse", lang), _pct(mt.cvrmse)),
        (t("param.nmbe", lang), _pct(mt.nmbe)), (t("param.rho1", lang), mt.rho1), (t("param.n_prime", lang), mt.n_prime),
        (t("param.verdict", lang), _verdict_text(s, lang)),
    ]
    return tuple(rows)


def build_savings_report(result: SavingsResult, registry: Registry, lang: str, *,
                         generated_at: dt.datetime | None = None, town: str | None = None) -> Report:
    """Assemble the savings report of ``result`` in ``lang``."""
    sites = registry.site_by_id
    town = town or registry.town.name
    single = len(result.site_ids) == 1
    scope = (t("savings.scope.site", lang, site=sites[result.site_ids[0]].name) if single
             else t("savings.scope.portfolio", lang, town=town))
    rep = result.reporting
    pf = result.portfolio
    fmt0 = lambda v: format_number(v, lang)  # noqa: E731
    if pf.avoided_kwh > pf.u90_kwh:
        verdict = t("savings.verdict.significant", lang)
    elif pf.avoided_kwh < -pf.u90_kwh:
        verdict = t("savings.verdict.increase", lang)
    else:
        verdict = t("savings.verdict.not_significant", lang)
    paragraphs = [
        t("savings.summary.lead", lang, actual=fmt0(pf.actual_kwh), baseline=fmt0(pf.adjusted_baseline_kwh),
          avoided=fmt0(pf.avoided_kwh), pct=format_number(pf.avoided_pct, lang, 1), eur=fmt0(pf.avoided_eur),
          co2=fmt0(pf.avoided_co2_kg)),
        t("savings.summary.uncertainty", lang, u68=fmt0(pf.u68_kwh), u90=fmt0(pf.u90_kwh), verdict=verdict),
    ]
    normal_hdd = next((s.normal_year_hdd for s in result.meters if math.isfinite(s.normal_year_hdd)), math.nan)
    if math.isfinite(pf.normalised_savings_kwh):
        paragraphs.append(t("savings.summary.normalised", lang, dju=fmt0(normal_hdd), norm=fmt0(pf.normalised_savings_kwh)))
    excluded = [s.meter for s in result.meters if not s.qualifies]
    if excluded:
        paragraphs.append(t("savings.summary.excluded", lang, meters=", ".join(excluded)))

    per_rows = []
    for tot in result.per_site_carrier:
        if not tot.meters:  # nothing qualified: say so instead of printing zeros
            per_rows.append((sites[tot.label].name, _carrier(tot.carrier, lang), None, None, None, None, None, None,
                             None))
            continue
        per_rows.append((sites[tot.label].name, _carrier(tot.carrier, lang),
                         tot.actual_kwh if tot.carrier != "pv" else None, tot.adjusted_baseline_kwh,
                         tot.avoided_kwh, tot.avoided_pct if tot.carrier != "pv" else None, tot.u90_kwh,
                         tot.avoided_eur, tot.avoided_co2_kg))
    per_rows.append((t("total", lang), _carrier("total", lang), pf.actual_kwh, pf.adjusted_baseline_kwh, pf.avoided_kwh,
                     pf.avoided_pct, pf.u90_kwh, pf.avoided_eur, pf.avoided_co2_kg))
    per_building = Table("per_building", t("savings.table.per_building", lang),
                         (t("col.site", lang), t("col.carrier", lang), t("col.actual_kwh", lang),
                          t("col.baseline_kwh", lang), t("col.avoided_kwh", lang), t("col.avoided_pct", lang),
                          t("col.u90_kwh", lang), t("col.avoided_eur", lang), t("col.avoided_co2", lang)),
                         tuple(per_rows),
                         notes="— : modèle non qualifié (voir la section du bâtiment). Photovoltaïque : option B "
                               "(production mesurée), hors total." if lang == "fr"
                         else "— : model not qualified (see the building's section). Photovoltaics: option B "
                              "(metered production), not in the total.")
    measure_rows = tuple(
        (mr.measure, sites[mr.site].name, mr.kind, mr.date, mr.cost_eur, mr.expected_pct, mr.realised_pct, mr.u90_pct,
         mr.simple_payback_years, t(f"measure.status.{mr.status}", lang)) for mr in result.measures)
    measures = Table("measures", t("savings.table.measures", lang),
                     (t("col.measure", lang), t("col.site", lang), t("col.kind", lang), t("col.date", lang),
                      t("col.cost_eur", lang), t("col.expected_pct", lang), t("col.realised_pct", lang),
                      "± 90 % [%]", t("col.payback_years", lang), t("col.status", lang)), measure_rows)
    summary_tables = (per_building,) + ((measures,) if measure_rows else ())
    summary = Section(t("savings.summary.title", lang), tuple(paragraphs), summary_tables,
                      (Figure("kpis", t("savings.fig.kpis", lang), _draw_kpis(pf, lang), height_in=1.45),
                       Figure("per_building_chart", t("savings.fig.per_building", lang),
                              _draw_per_building(result, registry, lang),
                              height_in=0.9 + 0.32 * len(result.site_ids))))

    sections: list[Section] = []
    for sid in result.site_ids:
        items = [s for s in result.meters if s.site == sid]
        paras: list[str] = []
        figs: list[Figure] = []
        tables: list[Table] = []
        for s in items:
            name = f"{s.meter}"
            if not s.qualifies:
                paras.append(t("savings.building.excluded", lang, meter=name, reasons=", ".join(s.reasons)))
                continue
            cv = _pct(s.model.metrics.cvrmse) if s.model else math.nan
            paras.append(t("savings.building.lead", lang, meter=name, carrier=_carrier(s.carrier, lang), option=s.option,
                           b0=format_date(s.baseline.start, lang), b1=format_date(s.baseline.end, lang),
                           r0=format_date(s.reporting.start, lang), r1=format_date(s.reporting.end, lang),
                           avoided=fmt0(s.avoided_kwh), pct=format_number(_pct(s.savings_fraction), lang, 1),
                           u90=fmt0(s.u90_kwh), model=t(f"model.{s.model.kind}", lang) if s.model else "—",
                           cv=format_number(cv, lang, 1), verdict=_verdict_text(s, lang)))
            if s.model is None:
                continue
            figs += [Figure(f"{s.meter}-baseline", f"{name} — {t('savings.fig.baseline_vs_actual', lang)}",
                            _draw_baseline_vs_actual(s, lang), height_in=2.3),
                     Figure(f"{s.meter}-cumulative", f"{name} — {t('savings.fig.cumulative', lang)}",
                            _draw_cumulative(s, lang), height_in=2.1),
                     Figure(f"{s.meter}-cusum", f"{name} — {t('savings.fig.cusum', lang)}",
                            _draw_cusum(s, result.bundle, registry, lang), height_in=2.1)]
            tables.append(Table(f"model_{s.meter}"[:31], f"{name} — {t('savings.table.model', lang)}",
                                (t("col.parameter", lang), t("col.value", lang)), _model_rows(s, lang)))
        sections.append(Section(sites[sid].name, tuple(paras), tuple(tables), tuple(figs)))

    per_meter = Table("per_meter", t("savings.table.per_meter", lang),
                      (t("col.meter", lang), t("col.site", lang), t("col.carrier", lang), t("col.option", lang),
                       t("col.actual_kwh", lang), t("col.baseline_kwh", lang), t("col.avoided_kwh", lang),
                       t("col.avoided_pct", lang), t("col.u68_kwh", lang), t("col.u90_kwh", lang),
                       t("col.normalised_kwh", lang), t("col.avoided_eur", lang), t("col.avoided_co2", lang),
                       t("col.verdict", lang)),
                      tuple((s.meter, sites[s.site].name, _carrier(s.carrier, lang), s.option, s.actual_total_kwh,
                             s.adjusted_baseline_total_kwh, s.avoided_kwh, _pct(s.savings_fraction), s.u68_kwh,
                             s.u90_kwh, s.normalised_savings_kwh, s.avoided_eur, s.avoided_co2_kg,
                             _verdict_text(s, lang)) for s in result.meters))
    monthly_rows = []
    for s in result.meters:
        if s.qualifies and s.carrier != "pv":
            for row in monthly_savings(s, result.factors):
                monthly_rows.append((s.meter, format_month(row.month, lang), row.adjusted_baseline_wh / 1000,
                                     row.actual_wh / 1000, row.avoided_wh / 1000, row.avoided_eur,
                                     row.avoided_co2_kg, row.cumulative_avoided_wh / 1000))
    monthly = Table("monthly", t("savings.table.monthly", lang),
                    (t("col.meter", lang), t("col.month", lang), t("col.baseline_kwh", lang), t("col.actual_kwh", lang),
                     t("col.avoided_kwh", lang), t("col.avoided_eur", lang), t("col.avoided_co2", lang),
                     t("col.cumulative_kwh", lang)), tuple(monthly_rows))
    completeness = Table("completeness", t("savings.table.completeness", lang),
                         (t("col.meter", lang), t("col.period", lang), t("col.days", lang), t("col.valid_days", lang),
                          t("col.coverage_pct", lang)),
                         tuple(r for s in result.meters for r in (
                             (s.meter, t("period.baseline", lang), s.baseline_days, s.baseline_valid_days,
                              100.0 * s.baseline_valid_days / s.baseline_days if s.baseline_days else math.nan),
                             (s.meter, t("period.reporting", lang), int(s.dates.size), s.reporting_valid_days,
                              100.0 * s.reporting_valid_days / s.dates.size if s.dates.size else math.nan))
                             if s.model is not None or r[1] == t("period.reporting", lang)))
    f = result.factors
    factors = Table("factors", t("savings.table.factors", lang),
                    (t("col.carrier", lang), t("col.tariff", lang), t("col.factor", lang), t("col.source", lang)),
                    tuple((_carrier(c, lang), f.tariff(c), ef.kg_co2e_per_kwh if (ef := f.factor(c)) else None,
                           f"{ef.name} — {ef.source}, {ef.vintage}" if ef else "") for c in ("electricity", "gas", "heat")),
                    notes=f"Tarifs / tariffs: {f.tariff_source}. Gaz : kWh PCS ÷ 1,1 → PCI." if lang == "fr"
                    else f"Tariffs: {f.tariff_source}. Gas: kWh HHV ÷ 1.1 → LHV.")
    nra = Table("adjustments", t("savings.table.adjustments", lang),
                (t("col.meter", lang), t("col.start", lang), t("col.end", lang), t("col.energy_kwh", lang),
                 t("col.reason", lang)),
                tuple((a.meter, a.start, a.end, a.energy_kwh, a.reason) for a in result.adjustments))
    sections.append(Section(t("savings.table.per_meter", lang), (), (per_meter, completeness, monthly)))
    sections.append(Section(t("savings.section.method", lang), t_tuple("savings.method", lang), (factors, nra)))

    md = report_metadata(data_range=f"{result.data_range}; baseline {result.baseline}; reporting {result.reporting}",
                         input_sha256=result.input_sha256, model_parameters=result.parameters_json(),
                         generated_at=generated_at,
                         extra={"sites": ",".join(result.site_ids), "weather": result.bundle.weather_source,
                                "sources": ",".join(sorted({m.source for m in result.bundle.meters}))})
    subtitle = t("savings.subtitle", lang, scope=scope, start=format_date(rep.start, lang), end=format_date(rep.end, lang))
    return Report("savings", lang, t("savings.title", lang), subtitle, summary, tuple(sections), md)


__all__ = ["SavingsResult", "build_savings_report", "compute_savings", "savings_monthly_points"]
