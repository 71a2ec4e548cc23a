"""The savings report: per-meter IPMVP savings computed from an input bundle, assembled into
a :class:`~analytics.reports.model.Report` (summary a mayor can read, one section per
building with its charts and fit statistics, monthly figures, measures, method notes).

:func:`compute_savings` is the numerical part (no rendering); :func:`build_savings_report`
turns its result into a report; :func:`savings_monthly_points` gives the ``savings_monthly``
points for InfluxDB.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.dates as mdates
import numpy as np

from analytics.baseline import fractional_savings_uncertainty
from analytics.reports.i18n import LABELS, format_date, format_month, format_number, t, t_tuple
from analytics.reports.inputs import InputBundle
from analytics.reports.model import Figure, Report, Section, Table, report_metadata
from analytics.reports.reasons import explain, ordered, short_reason
from analytics.reports.render import PALETTE, date_axis
from analytics.savings import (
    DEFAULT_VALUE_FACTORS, MeasureResult, MeterSavings, NonRoutineAdjustment, Period, SavingsTotal, ValueFactors,
    cusum_kwh, learnt_heating_season, measure_result, meter_savings, monthly_savings, parameters_json, pv_option_b,
    savings_model_inputs, normal_temperature_for, total, typical_year_temperature,
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
                    factors: ValueFactors = DEFAULT_VALUE_FACTORS, progress: object | None = None,
                    measure_dates: Mapping[str, dt.date] | None = None,
                    include_unqualified: bool = False) -> SavingsResult:
    """Savings of every energy meter of ``site_ids`` (option C on main meters, B on sub-meters and PV).

    ``progress`` is an optional callable ``progress(meter_id)`` called after each meter.
    ``measure_dates`` gives the date some measures really took effect when it differs from the
    registry's (the demo's simulated history re-dates its works).
    ``include_unqualified`` counts meters whose model does not qualify but gives figures
    (OpenDSM allows it), marked ``forced``: the report then carries a visible warning.
    """
    sites = registry.site_by_id
    meters_reg = registry.meter_by_id
    typicals: dict[str, np.ndarray] = {}  # per weather source (sites may name their own)
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
            site_temp = bundle.temp_of(md.site)
            wkey = bundle.weather_label_of(md.site)
            if wkey not in typicals:
                typicals[wkey] = typical_year_temperature(bundle.dates, site_temp)
            typical = typicals[wkey]
            pv = site_pv_kwh(bundle, md.site) if md.carrier == "electricity" else None
            season = _season(bundle, md.energy_kwh, md.carrier, baseline)
            temp, x, names = savings_model_inputs(bundle.dates, site_temp, md.carrier, site.school_week,
                                                  site.closures, pv, site.latitude, season)
            s = meter_savings(meter=md.meter, site=md.site, carrier=md.carrier, dates=bundle.dates,
                              energy_kwh=md.energy_kwh, temp_mean_c=temp, regressors=x, regressor_names=names,
                              baseline=baseline, reporting=reporting, option=_option_for(usage, md.carrier),
                              adjustments=adjustments, factors=factors,
                              normal_year=_normal_year(typical, reporting, md.carrier, site.school_week,
                                                       site.closures, bundle.dates, pv, site.latitude, season),
                              allow_cooling=md.carrier == "electricity" and site.cooled)
            pv_new = [a for a in registry.pv_arrays if a.site == md.site and md.carrier == "electricity"
                      and baseline.start <= a.commissioned <= reporting.end]
            if pv_new:  # CalTRACK §2.2.6: net-metering status changed inside the periods
                s = _with_reason(s, "savings.pv_commissioned_in_period")
        if include_unqualified and not s.qualifies and s.carrier != "pv":
            s = dataclasses.replace(s, forced=True)
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
        when = (measure_dates or {}).get(ms.id, ms.date)
        # a measure is judged when it falls between the baseline end and the reporting start
        if not (baseline.end <= when <= reporting.start + dt.timedelta(days=31)):
            continue
        measures.append(measure_result(ms.id, ms.site, ms.kind, when, ms.cost_eur, ms.expected_savings_pct,
                                       [s for s in consumption if s.meter in ids]))
    return SavingsResult(tuple(site_ids), baseline, reporting, tuple(out), tuple(per), portfolio, tuple(measures),
                         tuple(adjustments), factors, bundle.sha256(), bundle.data_range(), bundle)


def site_pv_kwh(bundle: InputBundle, site: str) -> np.ndarray | None:
    """The site's PV production per day (sum of its PV meters; NaN where one is missing), or None. [kWh]"""
    pv = [m.energy_kwh for m in bundle.meters if m.site == site and m.carrier == "pv"]
    return np.sum(pv, axis=0) if pv else None


def _season(bundle: InputBundle, energy_kwh: np.ndarray, carrier: str, baseline: Period) -> tuple[int, int] | None:
    """The heating season the plant keeps, learnt on the baseline (gas and heat; None otherwise)."""
    if carrier not in ("gas", "heat"):
        return None
    return learnt_heating_season(bundle.dates, energy_kwh, baseline.mask(np.asarray(bundle.dates, "datetime64[D]")))


def _normal_year(typical: np.ndarray, reporting: Period, carrier: str, school_week: str | None,
                 closures: Sequence[str] = (), dates: np.ndarray | None = None, pv_kwh: np.ndarray | None = None,
                 latitude_deg: float | None = None, season: tuple[int, int] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs over one typical year from the reporting start (typical temperature and PV
    production by day of year, real calendar)."""
    nd = np.arange(np.datetime64(reporting.start), np.datetime64(reporting.start) + 365)
    tn = normal_temperature_for(nd, typical)
    pvn = None
    if pv_kwh is not None and dates is not None:
        pvn = normal_temperature_for(nd, typical_year_temperature(dates, pv_kwh))
    temp, x, _ = savings_model_inputs(nd, tn, carrier, school_week, closures, pvn, latitude_deg, season)
    return temp, x


def _with_reason(s: MeterSavings, reason: str) -> MeterSavings:
    return dataclasses.replace(s, reasons=s.reasons + (reason,))


def savings_monthly_points(result: SavingsResult) -> list[Point]:
    """``savings_monthly`` points (docs/schema.md): one per qualifying consumption meter and month,
    at the month's local midnight. PV production is not avoided energy (the report counts it apart,
    « comptée non comme économie »): its meters write none, so that what sums these points (the
    public page, the town dashboard) does not add it to the savings."""
    pts: list[Point] = []
    for s in result.meters:
        if not s.qualifies or s.carrier == "pv":
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


#: A week of the weekly chart is drawn from at least this many valid days (its mean day × 7); with
#: fewer (the report's last, partial week; a week of gaps) it is left out rather than drawn as a
#: fall towards zero. [day]
MIN_VALID_DAYS_PER_WEEK = 4


def _week_sums(dates: np.ndarray, *arrays: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Weeks of 7 days from the first date: each array's weekly total, as its mean valid day × 7
    (NaN for a week with fewer than :data:`MIN_VALID_DAYS_PER_WEEK` valid days). [unit × 7 days]"""
    wk = (np.arange(dates.size) // 7)
    starts = dates[::7]
    n_valid = np.bincount(wk, weights=valid.astype(float), minlength=starts.size)
    out = []
    for a in arrays:
        total = np.bincount(wk, weights=np.where(valid, a, 0.0), minlength=starts.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(n_valid >= MIN_VALID_DAYS_PER_WEEK, total / n_valid * 7.0, np.nan))
    return starts, out


def _fmt_axis(ax, lang: str) -> None:  # noqa: ANN001
    date_axis(ax, lang)
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
        temp, x_all, _ = savings_model_inputs(bundle.dates, bundle.temp_of(s.site), s.carrier, site.school_week,
                                              site.closures,
                                              site_pv_kwh(bundle, s.site) if s.carrier == "electricity" else None,
                                              site.latitude, _season(bundle, md.energy_kwh, s.carrier, s.baseline))
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
    if not tot.computed:
        nc = t("not_computed", lang)
        tiles = [(t(k, lang), nc, PALETTE["grey"]) for k in ("savings.kpi.actual", "savings.kpi.baseline",
                                                             "savings.kpi.avoided", "savings.kpi.eur", "savings.kpi.co2")]
        return _draw_tiles(tiles)
    tiles = [
        (t("savings.kpi.actual", lang), format_number(tot.actual_kwh / 1000, lang) + " MWh", PALETTE["actual"]),
        (t("savings.kpi.baseline", lang), format_number(tot.adjusted_baseline_kwh / 1000, lang) + " MWh", PALETTE["primary"]),
        (t("savings.kpi.avoided", lang), format_number(tot.avoided_kwh / 1000, lang) + " MWh\n"
         + format_number(tot.avoided_pct, lang, 1) + " %", PALETTE["accent"]),
        (t("savings.kpi.eur", lang), format_number(tot.avoided_eur, lang) + " €", PALETTE["accent"]),
        (t("savings.kpi.co2", lang), format_number(tot.avoided_co2_kg / 1000, lang, 1) + " t", PALETTE["accent"]),
    ]
    return _draw_tiles(tiles)


def _draw_tiles(tiles: list[tuple[str, str, str]]):  # noqa: ANN202
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
            ax.text(i + 0.5, 0.36, value, ha="center", va="center", color="white",
                    fontsize=11 if len(value) < 16 else 9, weight="bold")
    return draw


def _draw_per_building(result: SavingsResult, registry: Registry, lang: str):  # noqa: ANN202
    names = registry.site_by_id

    def draw(ax) -> None:  # noqa: ANN001
        rows = []
        for sid in result.site_ids:
            items = [s for s in result.meters if s.site == sid and s.carrier != "pv"]
            tot = total(sid, "total", items)
            if tot.computed:
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


def regressor_label(name: str, lang: str) -> str:
    """A model regressor's name in ``lang``: ``holiday_off_season`` → "vacances (hors saison)"."""
    for suffix in ("in_season", "off_season", "hdd"):
        base = name.removesuffix(f"_{suffix}")
        if base != name and base:
            return t(f"regressor.suffix.{suffix}", lang, base=t(f"regressor.{base}", lang))
    return t(f"regressor.{name}", lang)


def _factor_source(ef, lang: str) -> str:  # noqa: ANN001
    """The emission factor's provenance in ``lang`` (the defaults have translated texts)."""
    from analytics.savings import DEFAULT_EMISSION_FACTORS

    if ef in DEFAULT_EMISSION_FACTORS:
        return t(f"factor.source.{ef.carrier}", lang)
    return f"{ef.name} — {ef.source}, {ef.vintage}"


def _tariff_source(f: ValueFactors, lang: str) -> str:
    if f.tariff_source == ValueFactors().tariff_source:
        return t("savings.tariff_source.default", lang)
    if f.tariff_source == "settings (prices.*)":
        return t("savings.tariff_source.settings", lang)
    return f.tariff_source


def _carrier(c: str, lang: str) -> str:
    return t(f"carrier.{c}", lang) if c != "total" else t("carrier.total", lang)


def _verdict_text(s: MeterSavings, lang: str) -> str:
    if s.model is None:
        return t("verdict.pass", lang) if s.qualifies else t("verdict.excluded", lang)
    if not s.qualifies:
        head = t("verdict.forced", lang) if s.counted else t("verdict.excluded", lang)
        codes = ordered(s.reasons)
        why = short_reason(codes[0], lang) + (f" (+{len(codes) - 1})" if len(codes) > 1 else "")
        return f"{head} : {why}" if lang == "fr" else f"{head}: {why}"
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
            rows.append((t("param.regressor", lang, name=regressor_label(name, lang)), coef))
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
    paragraphs: list[str] = []
    consumption = [s for s in result.meters if s.carrier != "pv"]
    excluded = [s for s in consumption if not s.counted]
    forced = [s for s in consumption if s.counted and not s.qualifies]
    if forced:
        paragraphs.append(t("savings.summary.forced_warning", lang, n=len(forced),
                            meters=", ".join(s.meter for s in forced)))
    if not pf.computed:
        paragraphs.append(t("savings.summary.not_computed", lang, n=len(consumption)))
    else:
        if excluded:
            paragraphs.append(t("savings.summary.partial", lang, n_ok=len(pf.meters), n=len(consumption)))
        paragraphs += [
            t("savings.summary.lead", lang, actual=fmt0(pf.actual_kwh), baseline=fmt0(pf.adjusted_baseline_kwh),
              avoided=fmt0(pf.avoided_kwh), pct=format_number(pf.avoided_pct, lang, 1), eur=fmt0(pf.avoided_eur),
              co2=fmt0(pf.avoided_co2_kg)),
            t("savings.summary.uncertainty", lang, u68=fmt0(pf.u68_kwh), u90=fmt0(pf.u90_kwh), verdict=verdict),
        ]
        normal_hdd = next((s.normal_year_hdd for s in result.meters if math.isfinite(s.normal_year_hdd)), math.nan)
        if math.isfinite(pf.normalised_savings_kwh):
            paragraphs.append(t("savings.summary.normalised", lang, dju=fmt0(normal_hdd),
                                norm=fmt0(pf.normalised_savings_kwh)))
    if excluded:
        paragraphs.append(t("savings.summary.excluded", lang, n=len(excluded)))
        paragraphs += [explain(s, lang, f"{s.meter} ({sites[s.site].name})") for s in excluded]
    pv = [s for s in result.meters if s.carrier == "pv"]
    if pv:
        prod = sum(s.adjusted_baseline_total_kwh for s in pv if s.reporting_valid_days)
        paragraphs.append(t("savings.summary.pv", lang, n=len(pv), kwh=fmt0(prod)))

    nc = t("not_computed", lang)
    per_rows = []
    for tot in result.per_site_carrier:
        if tot.carrier == "pv":
            continue
        items = [s for s in result.meters if s.site == tot.label and s.carrier == tot.carrier]
        codes = list(dict.fromkeys(c for s in items if not s.counted for c in ordered(s.reasons)))
        note = short_reason(codes[0], lang) + (f" (+{len(codes) - 1})" if len(codes) > 1 else "") if codes else ""
        if not tot.computed:  # nothing counted: say so instead of printing zeros
            per_rows.append((sites[tot.label].name, _carrier(tot.carrier, lang), nc, None, None, None, None, None,
                             None, note))
            continue
        if tot.excluded:
            note = t("savings.note.partial", lang, n=len(tot.excluded), why=note)
        if tot.forced:
            note = (note + " ; " if note else "") + t("verdict.forced", lang)
        per_rows.append((sites[tot.label].name, _carrier(tot.carrier, lang), tot.actual_kwh,
                         tot.adjusted_baseline_kwh, tot.avoided_kwh, tot.avoided_pct, tot.u90_kwh,
                         tot.avoided_eur, tot.avoided_co2_kg, note or None))
    if pf.computed:
        per_rows.append((t("total", lang), _carrier("total", lang), pf.actual_kwh, pf.adjusted_baseline_kwh,
                         pf.avoided_kwh, pf.avoided_pct, pf.u90_kwh, pf.avoided_eur, pf.avoided_co2_kg,
                         t("savings.note.partial_total", lang, n=len(pf.excluded)) if pf.excluded else None))
    else:
        per_rows.append((t("total", lang), _carrier("total", lang), nc, None, None, None, None, None, None,
                         t("savings.note.see_above", lang)))
    per_building = Table("per_building", t("savings.table.per_building", lang),
                         (t("col.site", lang), t("col.carrier", lang), t("col.actual_kwh", lang),
                          t("col.baseline_kwh", lang), t("col.avoided_kwh", lang), t("col.avoided_pct", lang),
                          t("col.u90_kwh", lang), t("col.avoided_eur", lang), t("col.avoided_co2", lang),
                          t("col.note", lang)),
                         tuple(per_rows), notes=t("savings.note.per_building", lang),
                         column_keys=("site", "carrier", "actual_kwh", "adjusted_baseline_kwh", "avoided_kwh",
                                      "avoided_pct", "u90_kwh", "avoided_eur", "avoided_co2_kg", "note"))
    pv_rows = tuple((s.meter, sites[s.site].name, s.adjusted_baseline_total_kwh if s.reporting_valid_days else None,
                     t("not_measured", lang), t("not_measured", lang), s.reporting_valid_days,
                     s.avoided_eur if s.reporting_valid_days else None,
                     s.avoided_co2_kg if s.reporting_valid_days else None) for s in pv)
    pv_table = Table("pv_production", t("savings.table.pv", lang),
                     (t("col.meter", lang), t("col.site", lang), t("col.production_kwh", lang),
                      t("col.self_consumed_kwh", lang), t("col.exported_kwh", lang), t("col.valid_days", lang),
                      t("col.value_eur", lang), t("col.avoided_co2", lang)), pv_rows,
                     notes=t("savings.note.pv", lang),
                     column_keys=("meter", "site", "production_kwh", "self_consumed_kwh", "exported_kwh", "valid_days",
                                  "value_eur", "avoided_co2_kg"))
    measure_rows = tuple(
        (mr.measure, sites[mr.site].name, t(f"measure.kind.{mr.kind}", lang), mr.date, mr.cost_eur, mr.expected_pct, mr.realised_pct, mr.u90_pct,
         mr.simple_payback_years, t(f"measure.status.{mr.status}", lang)) for mr in result.measures)
    measures = Table("measures", t("savings.table.measures", lang),
                     (t("col.measure", lang), t("col.site", lang), t("col.kind", lang), t("col.date", lang),
                      t("col.cost_eur", lang), t("col.expected_pct", lang), t("col.realised_pct", lang),
                      "± 90 % [%]", t("col.payback_years", lang), t("col.status", lang)), measure_rows,
                     column_keys=("measure", "site", "kind", "date", "cost_eur", "expected_pct", "realised_pct",
                                  "u90_pct", "simple_payback_years", "status"))
    summary_tables = (per_building,) + ((measures,) if measure_rows else ()) + ((pv_table,) if pv_rows else ())
    n_bars = sum(1 for sid in result.site_ids
                 if total(sid, "total", [s for s in consumption if s.site == sid]).computed)
    summary_figs = [Figure("kpis", t("savings.fig.kpis", lang), _draw_kpis(pf, lang), height_in=1.45)]
    if n_bars:
        summary_figs.append(Figure("per_building_chart", t("savings.fig.per_building", lang),
                                   _draw_per_building(result, registry, lang), height_in=0.9 + 0.32 * n_bars))
    # the PDF shows the measures first: what was done and what it achieved, then the buildings, then PV
    summary = Section(t("savings.summary.title", lang), tuple(paragraphs), summary_tables, tuple(summary_figs),
                      pdf_first=("measures",))

    sections: list[Section] = []
    for sid in result.site_ids:
        items = [s for s in result.meters if s.site == sid]
        paras: list[str] = []
        figs: list[Figure] = []
        tables: list[Table] = []
        for s in items:
            name = f"{s.meter}"
            if s.carrier == "pv":
                paras.append(t("savings.building.pv", lang, meter=name,
                               kwh=fmt0(s.adjusted_baseline_total_kwh), days=s.reporting_valid_days)
                             if s.reporting_valid_days else explain(s, lang, name))
                continue
            if not s.counted:
                paras.append(explain(s, lang, name))
                continue
            if not s.qualifies:
                paras.append(explain(s, lang, name))
            cv = _pct(s.model.metrics.cvrmse) if s.model else math.nan
            paras.append(t("savings.building.lead", lang, meter=name, carrier=_carrier(s.carrier, lang), option=s.option,
                           b0=format_date(s.baseline.start, lang), b1=format_date(s.baseline.end, lang),
                           r0=format_date(s.reporting.start, lang), r1=format_date(s.reporting.end, lang),
                           avoided=fmt0(s.avoided_kwh), pct=format_number(_pct(s.savings_fraction), lang, 1),
                           u90=fmt0(s.u90_kwh), model=t(f"model.{s.model.kind}", lang) if s.model else "—",
                           cv=format_number(cv, lang, 1), verdict=_verdict_text(s, lang)))
            if s.model is None:
                continue
            # the PDF draws the cumulative savings and the CUSUM side by side, under the weekly chart
            figs += [Figure(f"{s.meter}-baseline", f"{name} — {t('savings.fig.baseline_vs_actual', lang)}",
                            _draw_baseline_vs_actual(s, lang), height_in=2.1),
                     Figure(f"{s.meter}-cumulative", f"{name} — {t('savings.fig.cumulative', lang)}",
                            _draw_cumulative(s, lang), height_in=2.0, half=True),
                     Figure(f"{s.meter}-cusum", f"{name} — {t('savings.fig.cusum', lang)}",
                            _draw_cusum(s, result.bundle, registry, lang), height_in=2.0, half=True)]
            tables.append(Table(f"model_{s.meter}"[:31], f"{name} — {t('savings.table.model', lang)}",
                                (t("col.parameter", lang), t("col.value", lang)), _model_rows(s, lang),
                                column_keys=("parameter", "value")))
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
                             _verdict_text(s, lang)) if s.counted else
                            (s.meter, sites[s.site].name, _carrier(s.carrier, lang), s.option, nc, None, None, None,
                             None, None, None, None, None, _verdict_text(s, lang))
                            for s in consumption),
                      column_keys=("meter", "site", "carrier", "option", "actual_kwh", "adjusted_baseline_kwh",
                                   "avoided_kwh", "avoided_pct", "u68_kwh", "u90_kwh", "normalised_savings_kwh_per_year",
                                   "avoided_eur", "avoided_co2_kg", "verdict"))
    monthly_rows = []
    for s in result.meters:
        if s.counted and s.carrier != "pv":
            for row in monthly_savings(s, result.factors):
                monthly_rows.append((s.meter, format_month(row.month, lang), row.adjusted_baseline_wh / 1000,
                                     row.actual_wh / 1000, row.avoided_wh / 1000, row.avoided_eur,
                                     row.avoided_co2_kg, row.cumulative_avoided_wh / 1000))
    monthly = Table("monthly", t("savings.table.monthly", lang),
                    (t("col.meter", lang), t("col.month", lang), t("col.baseline_kwh", lang), t("col.actual_kwh", lang),
                     t("col.avoided_kwh", lang), t("col.avoided_eur", lang), t("col.avoided_co2", lang),
                     t("col.cumulative_kwh", lang)), tuple(monthly_rows),
                    column_keys=("meter", "month", "adjusted_baseline_kwh", "actual_kwh", "avoided_kwh", "avoided_eur",
                                 "avoided_co2_kg", "cumulative_avoided_kwh"))
    completeness = Table("completeness", t("savings.table.completeness", lang),
                         (t("col.meter", lang), t("col.period", lang), t("col.days", lang), t("col.valid_days", lang),
                          t("col.coverage_pct", lang)),
                         tuple(r for s in result.meters for r in (
                             (s.meter, t("period.baseline", lang), s.baseline_days, s.baseline_valid_days,
                              100.0 * s.baseline_valid_days / s.baseline_days if s.baseline_days else math.nan),
                             (s.meter, t("period.reporting", lang), int(s.dates.size), s.reporting_valid_days,
                              100.0 * s.reporting_valid_days / s.dates.size if s.dates.size else math.nan))
                             if s.model is not None or r[1] == t("period.reporting", lang)),
                         column_keys=("meter", "period", "days", "valid_days", "coverage_pct"))
    # where each period of each meter's data came from: live readings, or imported history
    source_rows = []
    for md in result.bundle.meters:
        if md.site not in result.site_ids:
            continue
        for src, first, last in md.source_periods(result.bundle.dates):
            key = f"source.{src}"
            source_rows.append((md.meter, t(key, lang) if key in LABELS else src, dt.date.fromisoformat(first),
                                dt.date.fromisoformat(last)))
    sources = Table("sources", t("savings.table.sources", lang),
                    (t("col.meter", lang), t("col.source", lang), t("col.start", lang), t("col.end", lang)),
                    tuple(source_rows), column_keys=("meter", "source", "start", "end"))
    f = result.factors
    factors = Table("factors", t("savings.table.factors", lang),
                    (t("col.carrier", lang), t("col.tariff", lang), t("col.factor", lang), t("col.source", lang)),
                    tuple((_carrier(c, lang), f.tariff(c), ef.kg_co2e_per_kwh if (ef := f.factor(c)) else None,
                           _factor_source(ef, lang) if ef else "") for c in ("electricity", "gas", "heat")),
                    notes=t("savings.note.factors", lang, tariffs=_tariff_source(f, lang)),
                    column_keys=("carrier", "tariff_eur_per_kwh", "factor_kg_co2e_per_kwh", "source"))
    nra = Table("adjustments", t("savings.table.adjustments", lang),
                (t("col.meter", lang), t("col.start", lang), t("col.end", lang), t("col.energy_kwh", lang),
                 t("col.reason", lang)),
                tuple((a.meter, a.start, a.end, a.energy_kwh, a.reason) for a in result.adjustments),
                column_keys=("meter", "start", "end", "energy_kwh", "reason"))
    sections.append(Section(t("savings.table.per_meter", lang), (), (per_meter, completeness, sources, monthly)))
    sections.append(Section(t("savings.section.method", lang), t_tuple("savings.method", lang), (factors, nra)))

    md = report_metadata(data_range=f"{result.data_range}; {t('period.baseline', lang)} {result.baseline}; "
                                    f"{t('period.reporting', lang)} {result.reporting}",
                         input_sha256=result.input_sha256, model_parameters=result.parameters_json(),
                         generated_at=generated_at,
                         extra={"sites": ",".join(result.site_ids), "weather": result.bundle.weather_source,
                                "sources": ",".join(sorted({m.source for m in result.bundle.meters}))})
    subtitle = t("savings.subtitle", lang, scope=scope, start=format_date(rep.start, lang), end=format_date(rep.end, lang))
    return Report("savings", lang, t("savings.title", lang), subtitle, summary, tuple(sections), md,
                  data=savings_data(result, lang))


def _num(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _total_data(tot: SavingsTotal) -> dict[str, object]:
    c = tot.computed
    return {
        "computed": c, "meters": list(tot.meters), "excluded_meters": list(tot.excluded),
        "forced_meters": list(tot.forced),
        **{k: (_num(getattr(tot, k)) if c else None) for k in (
            "actual_kwh", "adjusted_baseline_kwh", "avoided_kwh", "avoided_pct", "u68_kwh", "u90_kwh",
            "avoided_eur", "avoided_co2_kg")},
        "normalised_savings_kwh_per_year": _num(tot.normalised_savings_kwh) if c else None,
    }


def _meter_status(s: MeterSavings) -> str:
    return "qualified" if s.qualifies else "included_unqualified" if s.counted else "not_computed"


def savings_data(result: SavingsResult, lang: str) -> dict[str, object]:
    """The savings figures as machine-readable data (``Report.data``; schema
    ``analytics/reports/schemas/savings.schema.json``): snake_case keys with units, numbers
    as numbers, null where not computed, codes (carriers, statuses, reasons) rather than labels.
    ``reasons[].text`` is the one label, the sentence in ``lang``."""
    from analytics.reports.reasons import reason_fix, reason_why

    meters = []
    for s in result.meters:
        if s.carrier == "pv":
            continue
        c = s.counted
        m = s.model
        meters.append({
            "meter": s.meter, "site": s.site, "carrier": s.carrier, "option": s.option, "status": _meter_status(s),
            "reasons": [{"code": code, "text": reason_why(code, lang, s), "fix": reason_fix(code, lang)}
                        for code in s.reasons],
            "actual_kwh": _num(s.actual_total_kwh) if c else None,
            "adjusted_baseline_kwh": _num(s.adjusted_baseline_total_kwh) if c else None,
            "avoided_kwh": _num(s.avoided_kwh) if c else None,
            "avoided_pct": _num(_pct(s.savings_fraction)) if c else None,
            "u68_kwh": _num(s.u68_kwh) if c else None, "u90_kwh": _num(s.u90_kwh) if c else None,
            "normalised_savings_kwh_per_year": _num(s.normalised_savings_kwh) if c else None,
            "avoided_eur": _num(s.avoided_eur) if c else None, "avoided_co2_kg": _num(s.avoided_co2_kg) if c else None,
            "baseline_days": s.baseline_days, "baseline_valid_days": s.baseline_valid_days,
            "reporting_days": int(s.dates.size), "reporting_valid_days": s.reporting_valid_days,
            "baseline_months": s.baseline_months, "baseline_months_with_temperature": s.baseline_months_with_temperature,
            "model": None if m is None else {
                "kind": m.kind, "verdict": m.verdict.status, "intercept_kwh_per_day": _num(m.intercept),
                "heating_balance_c": _num(m.heating_balance_c), "heating_slope_kwh_per_k_day": _num(m.heating_slope),
                "cooling_balance_c": _num(m.cooling_balance_c), "cooling_slope_kwh_per_k_day": _num(m.cooling_slope),
                "regressors_kwh_per_day": {n: _num(v) for n, v in zip(m.regressor_names, m.regressor_coefs)},
                "n": m.metrics.n, "p": m.metrics.p, "r2": _num(m.metrics.r2), "cvrmse": _num(m.metrics.cvrmse),
                "nmbe": _num(m.metrics.nmbe), "rho1": _num(m.metrics.rho1), "n_prime": _num(m.metrics.n_prime),
            },
        })
    pv = [{"meter": s.meter, "site": s.site,
           "production_kwh": _num(s.adjusted_baseline_total_kwh) if s.reporting_valid_days else None,
           "self_consumed_kwh": None, "exported_kwh": None, "valid_days": s.reporting_valid_days,
           "value_eur": _num(s.avoided_eur) if s.reporting_valid_days else None,
           "avoided_co2_kg": _num(s.avoided_co2_kg) if s.reporting_valid_days else None,
           "reasons": [{"code": code, "text": reason_why(code, lang, s), "fix": reason_fix(code, lang)}
                       for code in s.reasons]}
          for s in result.meters if s.carrier == "pv"]
    monthly = [{"meter": s.meter, "month": f"{row.month.year:04d}-{row.month.month:02d}",
                "adjusted_baseline_kwh": row.adjusted_baseline_wh / 1000, "actual_kwh": row.actual_wh / 1000,
                "avoided_kwh": row.avoided_wh / 1000, "avoided_eur": row.avoided_eur,
                "avoided_co2_kg": row.avoided_co2_kg, "cumulative_avoided_kwh": row.cumulative_avoided_wh / 1000,
                "valid_days": row.valid_days}
               for s in result.meters if s.counted and s.carrier != "pv" for row in monthly_savings(s, result.factors)]
    f = result.factors
    return {
        "baseline": {"start": result.baseline.start.isoformat(), "end": result.baseline.end.isoformat()},
        "reporting": {"start": result.reporting.start.isoformat(), "end": result.reporting.end.isoformat()},
        "sites": list(result.site_ids),
        "include_unqualified": any(s.forced for s in result.meters),
        "portfolio": _total_data(result.portfolio),
        "per_site_carrier": [{"site": tot.label, "carrier": tot.carrier, **_total_data(tot)}
                             for tot in result.per_site_carrier if tot.carrier != "pv"],
        "meters": meters,
        "pv_production": pv,
        "measures": [{"measure": mr.measure, "site": mr.site, "kind": mr.kind, "date": mr.date.isoformat(),
                      "cost_eur": _num(mr.cost_eur), "expected_pct": _num(mr.expected_pct),
                      "realised_pct": _num(mr.realised_pct), "u90_pct": _num(mr.u90_pct),
                      "avoided_kwh": _num(mr.avoided_kwh), "avoided_eur_per_year": _num(mr.avoided_eur_per_year),
                      "simple_payback_years": _num(mr.simple_payback_years), "status": mr.status,
                      "meters": list(mr.meters)} for mr in result.measures],
        "monthly": monthly,
        "factors": [{"carrier": c, "tariff_eur_per_kwh": _num(f.tariff(c)),
                     "factor_kg_co2e_per_kwh": _num(ef.kg_co2e_per_kwh) if (ef := f.factor(c)) else None,
                     "source": _factor_source(ef, lang) if ef else None} for c in ("electricity", "gas", "heat")],
        "adjustments": [{"meter": a.meter, "start": a.start.isoformat(), "end": a.end.isoformat(),
                         "energy_kwh": _num(a.energy_kwh), "reason": a.reason} for a in result.adjustments],
        "weather_source": result.bundle.weather_source,
    }


def savings_summary_line(result: SavingsResult, lang: str) -> str:
    """One line for the terminal, in ``lang``: the portfolio's avoided energy, or "not computed" and why."""
    pf = result.portfolio
    cons = [s for s in result.meters if s.carrier != "pv"]
    if not pf.computed:
        codes = sorted({short_reason(c, lang) for s in cons for c in s.reasons})
        return t("cli.savings.not_computed", lang, n=len(cons), why=", ".join(codes) or "—")
    f = lambda v: format_number(v, lang)  # noqa: E731
    line = t("cli.savings.line", lang, avoided=f(pf.avoided_kwh), u90=f(pf.u90_kwh), eur=f(pf.avoided_eur),
             co2=f(pf.avoided_co2_kg), n_ok=len(pf.meters), n=len(cons))
    if pf.forced:
        line += " " + t("cli.savings.forced", lang, n=len(pf.forced))
    return line


__all__ = ["SavingsResult", "build_savings_report", "compute_savings", "savings_monthly_points", "savings_summary_line"]
