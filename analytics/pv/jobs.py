"""PV jobs: read the raw readings from InfluxDB, compute PV performance, write ``pv_daily``, ``pv_site_daily``, ``rollout`` and PV alerts.

Per array (:func:`analyse_array`, pure): the PV meter's ``energy_produced_wh`` counter becomes
interval production (:func:`analytics.consumption.counter_to_deltas`: resets and replacements
never book negative or giant production), distributed on a regular grid (15 min by default)
in proportion to the expected output; the weather meter's ``irradiance_w_m2`` (GHI) and
``temp_air_c`` give the POA irradiance and the expected output on the same grid. Buckets are
summed into Europe/Paris days. Per site (:func:`analyse_site`, pure): the main electricity
meter's import/export counters on the same grid give self-consumption per bucket (≤ 30 min).
:func:`run_pv` does the I/O and writes; :func:`run_rollout` writes the monthly ``rollout`` KPIs.
Schema: ``docs/schema.md``; formulas: ``docs/pv.md``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from analytics.consumption import calendar_boundaries_ns, counter_to_deltas, rollup
from analytics.drift import Alert
from analytics.jobs.alerts import AlertRecord, alert_point, merge_alerts, new_alert_id, query_alerts
from analytics.influx_queries import query_last_before, query_meter_series
from analytics.pv import faults as pvf
from analytics.pv import performance as perf
from analytics.pv.rollout import (
    ELECTRICITY_FR_MIX_2022, STAGES, EmissionFactor, allocate_site_to_arrays, rollout_kpis,
)
from analytics.pv.technology import ArrayDays, months_of
from terril.influx import InfluxClient
from terril.readings import Point
from terril.registry import PvArray, Registry, Site
from terril.timeutil import NS_PER_S, local_date, local_midnight_ns

NS_PER_DAY = 86_400 * NS_PER_S

PV_TITLES: dict[str, tuple[str, str]] = {
    "pv_offline": ("Onduleur à l'arrêt en journée", "Inverter offline in daylight"),
    "pv_string_loss": ("Perte de production (chaîne de modules ?)", "Production loss (PV string?)"),
    "pv_degradation": ("Baisse progressive du rendement (encrassement ou dégradation)",
                       "Gradual performance loss (soiling or degradation)"),
    "pv_clipping": ("Écrêtage par l'onduleur", "Inverter clipping"),
}


@dataclass(frozen=True, slots=True)
class PvSettings:
    """Parameters of the PV jobs (defaults documented in ``docs/pv.md``).

    Attributes
    ----------
    step_s : float
        Analysis grid step (≤ 1800 s for self-consumption). [s]
    lookback_days : int
        Days analysed before the window, for the string-loss reference. [d]
    wind_speed_m_s : float
        Wind speed for the cell temperature (no anemometer in the registry). [m/s]
    tariffs : Tariffs
        Purchase and feed-in prices. [EUR/kWh]
    co2 : EmissionFactor
        Electricity emission factor (avoided CO₂ of self-consumed PV).
    """

    step_s: float = 900.0
    lookback_days: int = 45
    wind_speed_m_s: float = 1.0
    tariffs: perf.Tariffs = perf.Tariffs()
    co2: EmissionFactor = ELECTRICITY_FR_MIX_2022
    offline: pvf.OfflineSettings = pvf.OfflineSettings()
    string_loss: pvf.StringLossSettings = pvf.StringLossSettings()
    string_loss_peers: pvf.PeerStringLossSettings = pvf.PeerStringLossSettings()
    trend: pvf.TrendSettings = pvf.TrendSettings()
    clipping: pvf.ClippingSettings = pvf.ClippingSettings()


@dataclass(frozen=True, eq=False)
class WeatherGrid:
    """Weather on the analysis grid (bucket means).

    Attributes
    ----------
    grid_ns : ndarray (n + 1)
        Bucket bounds. [UTC ns]
    ghi_w_m2, temp_air_c : ndarray (n)
        NaN where the station said nothing. [W/m², °C]
    """

    grid_ns: np.ndarray
    ghi_w_m2: np.ndarray
    temp_air_c: np.ndarray


@dataclass(frozen=True, eq=False)
class ArrayAnalysis:
    """One array on the grid and per day.

    Bucket arrays have length n (grid n + 1); day arrays have the length of ``day_start_ns``.
    Energies [Wh], irradiance [W/m²], irradiation [Wh/m²], percentages [%].
    """

    array: PvArray
    grid_ns: np.ndarray
    production_wh: np.ndarray
    coverage: np.ndarray
    expected_wh: np.ndarray
    expected_unclipped_wh: np.ndarray
    poa_w_m2: np.ndarray
    temp_cell_c: np.ndarray
    day_start_ns: np.ndarray
    day_production_wh: np.ndarray
    day_expected_wh: np.ndarray
    day_irradiation_wh_m2: np.ndarray
    day_availability_pct: np.ndarray
    day_coverage_pct: np.ndarray
    day_irradiance_measured_pct: np.ndarray

    @property
    def day_pr(self) -> np.ndarray:
        """Daily performance ratio. [1]"""
        return perf.performance_ratio(self.day_production_wh, self.array.kwp, self.day_irradiation_wh_m2)


def make_grid(start_ns: int, end_ns: int, step_s: float) -> np.ndarray:
    """Regular UTC grid covering [start, end) (aligned on multiples of the step). [UTC ns]"""
    step = int(step_s * NS_PER_S)
    first = (start_ns // step) * step
    return np.arange(first, end_ns + step, step, dtype=np.int64)


def weather_grid(grid_ns: np.ndarray, time_ns: np.ndarray, ghi_w_m2: np.ndarray, temp_air_c: np.ndarray) -> WeatherGrid:
    """Bucket means of the weather station's readings."""
    return WeatherGrid(grid_ns, perf.weather_on_grid(time_ns, ghi_w_m2, grid_ns),
                       perf.weather_on_grid(time_ns, temp_air_c, grid_ns))


def _day_sums(grid_ns: np.ndarray, day_bounds: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of bucket values per day (buckets assigned by their start); NaN buckets skipped."""
    k = np.searchsorted(day_bounds, grid_ns[:-1], side="right") - 1
    nd = day_bounds.size - 1
    ok = (k >= 0) & (k < nd) & np.isfinite(values)
    return np.bincount(k[ok], weights=values[ok], minlength=nd)[:nd]


def _day_index(grid_ns: np.ndarray, day_bounds: np.ndarray) -> np.ndarray:
    return np.searchsorted(day_bounds, grid_ns[:-1], side="right") - 1


def analyse_array(array: PvArray, site: Site, weather: WeatherGrid, counter_time_ns: np.ndarray,
                  counter_wh: np.ndarray, *, settings: PvSettings = PvSettings(),
                  sun: perf.SolarGeometry | None = None, ghi_fallback_w_m2: np.ndarray | None = None,
                  data_end_ns: int | None = None) -> ArrayAnalysis:
    """Production, expectation and daily figures of one array (pure).

    Parameters
    ----------
    array, site : PvArray, Site
        From the registry (kWp, orientation, technology, losses, inverter; latitude, longitude).
    weather : WeatherGrid
        Weather on the grid.
    counter_time_ns, counter_wh : ndarray
        The PV meter's ``energy_produced_wh`` readings (raw; the meter multiplier is 1 for PV). [UTC ns, Wh]
    sun : SolarGeometry, optional
        Sun position at the bucket mid-points (computed when not given; share it between arrays of a site).
    ghi_fallback_w_m2 : ndarray, optional
        GHI to use where the station's is missing (clear-sky × fleet clear-sky index). [W/m²]
    data_end_ns : int, optional
        Buckets after the last reading and before this instant are "no data" (an inverter that
        stopped talking); default: the last reading.
    """
    g = weather.grid_ns
    step_s = np.diff(g) / NS_PER_S
    mid = g[:-1] + np.diff(g) // 2
    if sun is None:
        sun = perf.solar_geometry(mid, site.latitude, site.longitude)
    ghi = weather.ghi_w_m2
    measured = np.isfinite(ghi)
    if ghi_fallback_w_m2 is not None:
        ghi = np.where(measured, ghi, ghi_fallback_w_m2)
    poa = perf.poa_global_w_m2(ghi, sun, array.tilt_deg, array.azimuth_deg)
    tcell = perf.cell_temperature_c(poa, weather.temp_air_c, settings.wind_speed_m_s)
    gamma = perf.gamma_of(array.technology)
    dc = perf.expected_dc_power_w(poa, tcell, array.kwp, gamma)
    ac_unclipped = perf.expected_ac_power_w(dc, array.losses_pct, None)
    ac = perf.expected_ac_power_w(dc, array.losses_pct, array.inverter_ac_kw)
    expected = ac * step_s / perf.S_PER_H
    expected_unclipped = ac_unclipped * step_s / perf.S_PER_H
    expected = np.where(np.isfinite(poa), expected, np.nan)
    expected_unclipped = np.where(np.isfinite(poa), expected_unclipped, np.nan)
    # before commissioning nothing is expected
    start_ns = local_midnight_ns(array.commissioned)
    before = g[:-1] < start_ns
    expected = np.where(before, 0.0, expected)
    expected_unclipped = np.where(before, 0.0, expected_unclipped)

    ic = counter_to_deltas(counter_time_ns, counter_wh, max_power_w=array.kwp * 1000.0 * 1.5)
    # nothing is judged before the first reading (the meter did not exist for us yet)
    first_ns = int(ic.start_ns[0]) if ic.start_ns.size else int(g[-1])
    unknown = g[:-1] < first_ns
    expected = np.where(unknown, np.nan, expected)
    expected_unclipped = np.where(unknown, np.nan, expected_unclipped)
    poa = np.where(unknown, np.nan, poa)
    production, coverage = perf.counter_on_grid(ic.start_ns, ic.end_ns, ic.deltas, g,
                                                 weight=np.nan_to_num(expected_unclipped) + 1e-9 * step_s)
    # after the last reading the production is unknown (NaN): availability and the offline rule
    # count it as down, up to ``data_end_ns`` (default: the end of the grid)
    if data_end_ns is not None:
        expected = np.where(g[:-1] >= data_end_ns, np.nan, expected)
    day_bounds = calendar_boundaries_ns(int(g[0]), int(g[-1]), "day")
    if day_bounds[0] > g[0]:
        day_bounds = np.r_[calendar_boundaries_ns(int(g[0]) - NS_PER_DAY, int(g[0]), "day")[:1], day_bounds]
    di = _day_index(g, day_bounds)
    nd = day_bounds.size - 1
    # days: only complete days of the grid
    day_p = _day_sums(g, day_bounds, production)
    day_x = _day_sums(g, day_bounds, expected)
    day_h = _day_sums(g, day_bounds, poa * step_s / perf.S_PER_H)
    n_buckets = np.bincount(di[(di >= 0) & (di < nd)], minlength=nd)[:nd]
    span = np.diff(day_bounds) / NS_PER_S
    covered_s = _day_sums(g, day_bounds, coverage * step_s)
    cov_pct = 100.0 * covered_s / span
    irr_pct = 100.0 * _day_sums(g, day_bounds, measured.astype(float) * step_s) / span
    avail = np.full(nd, np.nan)
    for d in range(nd):
        m = di == d
        if m.any():
            avail[d] = perf.availability_pct(production[m], expected[m], array.kwp, float(step_s[0]))
    full = (n_buckets * float(step_s[0])) >= span - 1
    nan = np.full(nd, np.nan)
    day_p = np.where(full & (cov_pct > 0), day_p, nan)
    day_x = np.where(full, day_x, nan)
    day_h = np.where(full, day_h, nan)
    return ArrayAnalysis(array, g, production, coverage, expected, expected_unclipped, poa, tcell,
                         day_bounds[:-1].copy(), day_p, day_x, day_h, np.where(full, avail, nan), cov_pct, irr_pct)


def analyse_site(production_wh: np.ndarray, grid_ns: np.ndarray, import_time_ns: np.ndarray, import_wh: np.ndarray,
                 export_time_ns: np.ndarray, export_wh: np.ndarray) -> perf.SelfConsumption:
    """Self-consumption per bucket from the site's PV production and its main meter's counters (pure)."""
    out = []
    for t, v in ((import_time_ns, import_wh), (export_time_ns, export_wh)):
        ic = counter_to_deltas(t, v)
        amount, _ = perf.counter_on_grid(ic.start_ns, ic.end_ns, ic.deltas, grid_ns)
        out.append(amount)
    return perf.self_consumption(production_wh, out[0], out[1])


# ------------------------------------------------------------------------------ alerts

def town_peer_pi(analyses: Mapping[str, ArrayAnalysis], settings: PvSettings = PvSettings()) -> dict[str, np.ndarray]:
    """Per array, the median daily PI of the town's *other* arrays (NaN where too few are usable).

    The analyses must share their day grid (as those of one :func:`run_pv` do). A town with a
    single array gets nothing (its arrays are judged on their own history alone).
    """
    ids = list(analyses)
    if len(ids) < 2:
        return {}
    days = analyses[ids[0]].day_start_ns
    if any(not np.array_equal(analyses[k].day_start_ns, days) for k in ids[1:]):
        raise ValueError("town_peer_pi: the analyses do not share their day grid")
    stack = {f: np.vstack([getattr(analyses[k], f) for k in ids])
             for f in ("day_production_wh", "day_expected_wh", "day_irradiation_wh_m2", "day_availability_pct")}
    med, _ = pvf.peer_pi(stack["day_production_wh"], stack["day_expected_wh"], stack["day_irradiation_wh_m2"],
                         stack["day_availability_pct"], settings.string_loss_peers)
    return {k: med[i] for i, k in enumerate(ids)}


def string_loss_alerts(a: ArrayAnalysis, settings: PvSettings = PvSettings(),
                       peer_median_pi: np.ndarray | None = None) -> tuple[Alert, ...]:
    """String-loss alerts of one array (docs/pv.md § Faults).

    With peers (``peer_median_pi`` from :func:`town_peer_pi` has a value), the all-season rule
    against the town's other arrays (``settings.string_loss_peers``); without (a town with a
    single array), the array's own history (``settings.string_loss``: days of ≥ 600 Wh/m²).
    """
    meter = a.array.meter
    args = (a.day_start_ns, a.day_production_wh, a.day_expected_wh, a.day_irradiation_wh_m2, a.day_availability_pct)
    if peer_median_pi is not None and np.isfinite(peer_median_pi).any():
        return pvf.detect_string_loss_peers(meter, *args, peer_median_pi, settings.string_loss_peers)
    return pvf.detect_string_loss(meter, *args, settings.string_loss)


def array_alerts(a: ArrayAnalysis, settings: PvSettings = PvSettings(),
                 peer_median_pi: np.ndarray | None = None) -> tuple[Alert, ...]:
    """Every PV fault rule on one analysed array (``peer_median_pi``: see :func:`string_loss_alerts`)."""
    meter = a.array.meter
    g = a.grid_ns
    found: list[Alert] = []
    found += pvf.detect_offline(meter, g[:-1], g[1:], a.production_wh, a.expected_wh, a.array.kwp, settings.offline)
    found += string_loss_alerts(a, settings, peer_median_pi)
    # a step (string loss) is not a trend: the trend rule only runs on arrays without one
    if not any(al.kind == "pv_string_loss" for al in found):
        found += pvf.detect_trend(meter, a.day_start_ns, a.day_production_wh, a.day_expected_wh,
                                  a.day_irradiation_wh_m2, a.day_availability_pct, settings.trend)
    found += pvf.detect_clipping(meter, g[:-1], g[1:], a.production_wh, a.expected_unclipped_wh,
                                 a.array.inverter_ac_kw, settings.clipping)
    return tuple(found)


def alert_record(alert: Alert, array: PvArray, self_consumption_pct: float, settings: PvSettings,
                 until_ns: int | None = None) -> AlertRecord:
    """An alert as stored: titles, cost (lost kWh × blended value) and CO₂ (lost self-consumed kWh × factor)."""
    end = alert.detected_ns if until_ns is None or alert.state != "open" else max(until_ns, alert.detected_ns)
    days = max(end - alert.onset_ns, 0) / NS_PER_DAY
    lost_kwh = abs(alert.magnitude_kwh_per_day) * days if math.isfinite(alert.magnitude_kwh_per_day) else math.nan
    scr = self_consumption_pct if math.isfinite(self_consumption_pct) else 0.0
    cost = float(perf.energy_value_eur(lost_kwh * 1000.0, scr, settings.tariffs)) if math.isfinite(lost_kwh) else math.nan
    co2 = lost_kwh * scr / 100.0 * settings.co2.value_kg_per_kwh if math.isfinite(lost_kwh) else math.nan
    fr, en = PV_TITLES.get(alert.kind, (alert.kind, alert.kind))
    return AlertRecord(new_alert_id(array.meter, alert.kind, alert.onset_ns), array.site, array.meter, alert.kind,
                       "open" if alert.state == "open" else "resolved", alert.onset_ns, alert.detected_ns,
                       alert.magnitude_kwh_per_day, alert.magnitude_pct, cost, co2, fr, en, carrier="pv",
                       end_ns=alert.end_ns or 0)


# ------------------------------------------------------------------------------ the job

@dataclass
class PvRunResult:
    """What :func:`run_pv` did."""

    arrays: dict[str, ArrayAnalysis] = field(default_factory=dict)
    sites: dict[str, perf.SelfConsumption] = field(default_factory=dict)
    alerts: list[AlertRecord] = field(default_factory=list)
    points_written: int = 0
    skipped: dict[str, str] = field(default_factory=dict)


def _counter(client: InfluxClient, meter: str, fld: str, start_ns: int, end_ns: int) -> tuple[np.ndarray, np.ndarray]:
    return _counters(client, meter, (fld,), start_ns, end_ns)[0]


def _counters(client: InfluxClient, meter: str, flds: tuple[str, ...], start_ns: int,
              end_ns: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Times and values of each counter of ``flds`` in [start, end), each preceded by its last value
    before ``start_ns``: the counters read in one query (a year of a meter's rows costs InfluxDB
    much less read once for two fields than twice for one each)."""
    times, s = query_meter_series(client, meter, list(flds), start_ns, end_ns)
    out = []
    for fld in flds:
        v = s[fld]
        ok = np.isfinite(v)
        t, v = times[ok], v[ok]
        prev = query_last_before(client, meter, fld, start_ns)
        if prev is not None:
            t = np.r_[np.int64(prev[0]), t]
            v = np.r_[prev[1], v]
        out.append((t, v))
    return out


def _main_electricity_meter(registry: Registry, site_id: str) -> str | None:
    ms = [m for m in registry.meters_of_site(site_id) if m.carrier == "electricity"]
    main = [m for m in ms if m.usage == "main"] or ms
    return main[0].id if main else None


def _round(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def run_pv(client: InfluxClient, registry: Registry, start_ns: int, end_ns: int,
           settings: PvSettings = PvSettings(), *, write: bool = True, data_end_ns: int | None = None) -> PvRunResult:
    """Compute PV performance for [start, end) and write ``pv_daily``, ``pv_site_daily`` and PV alerts.

    ``start_ns`` and ``end_ns`` are taken to Europe/Paris midnights; ``lookback_days`` before the
    window are analysed too (the string-loss reference), and their days rewritten (idempotent).
    """
    res = PvRunResult()
    a_start = local_midnight_ns(local_date(start_ns) - dt.timedelta(days=settings.lookback_days))
    e_day = local_date(end_ns - 1)
    a_end = local_midnight_ns(e_day + dt.timedelta(days=1))
    grid = make_grid(a_start, a_end, settings.step_s)
    grid = grid[(grid >= a_start) & (grid <= a_end)]
    if grid[0] != a_start:
        grid = np.r_[np.int64(a_start), grid]
    if grid[-1] != a_end:
        grid = np.r_[grid, np.int64(a_end)]
    wm = next((m for m in registry.meters if m.carrier == "weather"), None)
    if wm is not None:
        wt, ws = query_meter_series(client, wm.id, ["irradiance_w_m2", "temp_air_c"], a_start, a_end)
    else:
        wt, ws = np.zeros(0, np.int64), {"irradiance_w_m2": np.zeros(0), "temp_air_c": np.zeros(0)}
    weather = weather_grid(grid, wt, ws["irradiance_w_m2"], ws["temp_air_c"])
    mid = grid[:-1] + np.diff(grid) // 2
    suns: dict[str, perf.SolarGeometry] = {}
    counters: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for arr in registry.pv_arrays:
        if arr.commissioned > local_date(a_end - 1):
            res.skipped[arr.id] = "not_commissioned"
            continue
        counters[arr.id] = _counter(client, arr.meter, "energy_produced_wh", a_start, a_end)
    # without irradiance: clear-sky GHI × the fleet's clear-sky index (median over arrays)
    fallback = None
    if (~np.isfinite(weather.ghi_w_m2)).any() and counters:
        fallback = _fleet_fallback_ghi(registry, weather, counters, suns, mid, settings)
    for arr in registry.pv_arrays:
        if arr.id not in counters:
            continue
        site = registry.site_by_id[arr.site]
        if site.id not in suns:
            suns[site.id] = perf.solar_geometry(mid, site.latitude, site.longitude)
        t, v = counters[arr.id]
        if t.size < 2:
            res.skipped[arr.id] = "no_data"
            continue
        res.arrays[arr.id] = analyse_array(arr, site, weather, t, v, settings=settings, sun=suns[site.id],
                                           ghi_fallback_w_m2=fallback)
    points: list[Point] = []
    site_scr: dict[str, float] = {}
    for site_id in sorted({registry.array_by_id[k].site for k in res.arrays}):
        arrs = [a for a in res.arrays.values() if a.array.site == site_id]
        prod = np.sum([a.production_wh for a in arrs], axis=0)
        em = _main_electricity_meter(registry, site_id)
        if em is None:
            continue
        (it, iv), (xt, xv) = _counters(client, em, ("energy_import_wh", "energy_export_wh"), a_start, a_end)
        if it.size < 2 or xt.size < 2:
            continue
        sc = analyse_site(prod, grid, it, iv, xt, xv)
        res.sites[site_id] = sc
        day_bounds = calendar_boundaries_ns(int(grid[0]), int(grid[-1]), "day")
        ok = np.isfinite(sc.self_consumed_wh) & np.isfinite(sc.import_wh)
        step_s = np.diff(grid) / NS_PER_S
        cols = {k: _day_sums(grid, day_bounds, np.where(ok, getattr(sc, k), np.nan))
                for k in ("production_wh", "self_consumed_wh", "export_wh", "import_wh")}
        cov = 100.0 * _day_sums(grid, day_bounds, ok * step_s) / (np.diff(day_bounds) / NS_PER_S)
        site_scr[site_id] = sc.rates_pct()[0]
        for d in range(day_bounds.size - 1):
            if cov[d] <= 0:
                continue
            p, s_, x, i = (cols[k][d] for k in ("production_wh", "self_consumed_wh", "export_wh", "import_wh"))
            f = {"production_wh": _round(p), "self_consumed_wh": _round(s_), "export_wh": _round(x),
                 "import_wh": _round(i), "coverage_pct": _round(cov[d], 2)}
            if p > 0:
                f["self_consumption_pct"] = _round(100.0 * s_ / p, 3)
            if i + s_ > 0:
                f["self_sufficiency_pct"] = _round(100.0 * s_ / (i + s_), 3)
            points.append(Point("pv_site_daily", {"site": site_id}, f, int(day_bounds[d])))
    peers = town_peer_pi(res.arrays, settings)
    for a in res.arrays.values():
        arr = a.array
        pr = a.day_pr
        for d in range(a.day_start_ns.size):
            if not np.isfinite(a.day_production_wh[d]):
                continue
            f = {"production_wh": _round(a.day_production_wh[d]), "expected_wh": _round(a.day_expected_wh[d]),
                 "specific_yield_kwh_kwp": _round(a.day_production_wh[d] / 1000.0 / arr.kwp, 5),
                 "irradiation_wh_m2": _round(a.day_irradiation_wh_m2[d]),
                 "coverage_pct": _round(a.day_coverage_pct[d], 2),
                 "irradiance_measured_pct": _round(a.day_irradiance_measured_pct[d], 2)}
            if np.isfinite(pr[d]):
                f["performance_ratio_pct"] = _round(100.0 * pr[d], 3)
            if np.isfinite(a.day_availability_pct[d]):
                f["availability_pct"] = _round(a.day_availability_pct[d], 2)
            points.append(Point("pv_daily", {"site": arr.site, "array": arr.id, "technology": arr.technology},
                                {k: v for k, v in f.items() if math.isfinite(v)}, int(a.day_start_ns[d])))
        for al in array_alerts(a, settings, peers.get(arr.id)):
            res.alerts.append(alert_record(al, arr, site_scr.get(arr.site, math.nan), settings, until_ns=end_ns))
    if write:
        res.points_written = client.write_points(points)
        existing = [r for r in query_alerts(client) if r.kind.startswith("pv_")]
        merged = merge_alerts(existing, res.alerts)
        res.alerts = merged
        res.points_written += client.write_points([alert_point(r) for r in merged])
    return res


def _fleet_fallback_ghi(registry: Registry, weather: WeatherGrid, counters: dict[str, tuple[np.ndarray, np.ndarray]],
                        suns: dict[str, perf.SolarGeometry], mid: np.ndarray, settings: PvSettings) -> np.ndarray:
    """Clear-sky GHI × the fleet's clear-sky index, for buckets without measured irradiance."""
    town = registry.town
    sun_town = perf.solar_geometry(mid, town.latitude, town.longitude)
    ghi_cs = perf.clear_sky_ghi_w_m2(sun_town, town.latitude, town.longitude)
    clear = WeatherGrid(weather.grid_ns, ghi_cs, weather.temp_air_c)
    actual, expect = [], []
    for arr in registry.pv_arrays:
        if arr.id not in counters or counters[arr.id][0].size < 2:
            continue
        site = registry.site_by_id[arr.site]
        if site.id not in suns:
            suns[site.id] = perf.solar_geometry(mid, site.latitude, site.longitude)
        a = analyse_array(arr, site, clear, *counters[arr.id], settings=settings, sun=suns[site.id])
        actual.append(a.production_wh)
        expect.append(a.expected_unclipped_wh)
    if not actual:
        return np.full(mid.size, np.nan)
    k = perf.clear_sky_index_from_fleet(np.array(actual), np.array(expect))
    return ghi_cs * k


# ------------------------------------------------------------------------------ reading back

@dataclass(frozen=True, eq=False)
class PvDailyTable:
    """``pv_daily`` rows read back, one array per field (rows sorted by array then time)."""

    array: np.ndarray
    site: np.ndarray
    technology: np.ndarray
    time_ns: np.ndarray
    fields: dict[str, np.ndarray]


PV_DAILY_FIELDS = ("production_wh", "expected_wh", "specific_yield_kwh_kwp", "performance_ratio_pct",
                   "availability_pct", "irradiation_wh_m2", "coverage_pct")


def query_pv_daily(client: InfluxClient, start_ns: int, end_ns: int) -> PvDailyTable:
    """Read ``pv_daily`` for [start, end)."""
    cols = ", ".join(f'"{f}"' for f in PV_DAILY_FIELDS)
    q = f'SELECT {cols} FROM "pv_daily" WHERE time >= {int(start_ns)} AND time < {int(end_ns)} GROUP BY "array", "site", "technology"'
    arr, site, tech, times, rows = [], [], [], [], []
    for s in client.query_chunks(q):
        for r in s.values:
            arr.append(s.tags.get("array", ""))
            site.append(s.tags.get("site", ""))
            tech.append(s.tags.get("technology", ""))
            times.append(int(r[0]))
            rows.append([math.nan if v is None else float(v) for v in r[1:]])
    m = np.asarray(rows, dtype=float).reshape(len(rows), len(PV_DAILY_FIELDS))
    return PvDailyTable(np.asarray(arr, dtype=object), np.asarray(site, dtype=object), np.asarray(tech, dtype=object),
                        np.asarray(times, dtype=np.int64), {f: m[:, i] for i, f in enumerate(PV_DAILY_FIELDS)})


def query_pv_site_daily(client: InfluxClient, start_ns: int, end_ns: int) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """``pv_site_daily`` per site for [start, end): site -> (times, fields)."""
    flds = ("production_wh", "self_consumed_wh", "export_wh", "import_wh")
    q = (f'SELECT {", ".join(chr(34) + f + chr(34) for f in flds)} FROM "pv_site_daily" '
         f'WHERE time >= {int(start_ns)} AND time < {int(end_ns)} GROUP BY "site"')
    out: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
    for s in client.query_chunks(q):
        site = s.tags.get("site", "")
        t = np.asarray([int(r[0]) for r in s.values], dtype=np.int64)
        m = np.asarray([[math.nan if v is None else float(v) for v in r[1:]] for r in s.values], dtype=float).reshape(len(t), len(flds))
        if site in out:
            t0, f0 = out[site]
            out[site] = (np.r_[t0, t], {f: np.r_[f0[f], m[:, i]] for i, f in enumerate(flds)})
        else:
            out[site] = (t, {f: m[:, i] for i, f in enumerate(flds)})
    return out


def technology_days(table: PvDailyTable, registry: Registry, site: str | None = None,
                    min_availability_pct: float = 95.0, min_coverage_pct: float = 99.0) -> list[ArrayDays]:
    """:class:`ArrayDays` of the arrays (of ``site``) on a shared day grid, from ``pv_daily`` rows."""
    ids = sorted({a for a, s in zip(table.array, table.site) if site is None or s == site})
    if not ids:
        return []
    days = np.unique(table.time_ns[np.isin(table.array, ids)])
    months = months_of(days)
    out = []
    for i in ids:
        m = table.array == i
        pos = np.searchsorted(days, table.time_ns[m])
        col = {}
        for f in ("production_wh", "irradiation_wh_m2", "availability_pct", "coverage_pct"):
            v = np.full(days.size, np.nan)
            v[pos] = table.fields[f][m]
            col[f] = v
        usable = (col["availability_pct"] >= min_availability_pct) & (col["coverage_pct"] >= min_coverage_pct)
        arr = registry.array_by_id.get(i)
        if arr is None:
            continue
        out.append(ArrayDays(i, arr.technology, arr.kwp, days, months, col["production_wh"],
                             col["irradiation_wh_m2"], usable))
    return out


# ------------------------------------------------------------------------------ rollout job

def _months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    out = []
    m = dt.date(start.year, start.month, 1)
    while m <= end:
        out.append(m)
        m = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return out


def _month_index(times_ns: np.ndarray, months: Sequence[dt.date]) -> np.ndarray:
    bounds = np.asarray([local_midnight_ns(m) for m in months]
                        + [local_midnight_ns(dt.date(months[-1].year + (months[-1].month == 12),
                                                     months[-1].month % 12 + 1, 1))], dtype=np.int64)
    return np.searchsorted(bounds, times_ns, side="right") - 1


def run_rollout(client: InfluxClient, registry: Registry, start_ns: int, end_ns: int,
                settings: PvSettings = PvSettings(), *, write: bool = True) -> list[Point]:
    """Monthly ``rollout`` KPIs for the months of [start, end), from ``pv_daily``, ``pv_site_daily`` and raw import counters.

    Cumulative production and CO₂ start from the first ``pv_daily`` point ever written.
    The public buildings' consumption is ``Σ import + Σ self-consumed PV`` of every site's main
    electricity meter (raw counters over the window).
    """
    months = _months_between(local_date(start_ns), local_date(end_ns - 1))
    m0 = local_midnight_ns(months[0])
    m_end = local_midnight_ns(dt.date(months[-1].year + (months[-1].month == 12), months[-1].month % 12 + 1, 1))
    table = query_pv_daily(client, 0, m_end)
    sites = query_pv_site_daily(client, 0, m_end)
    n = len(months)
    prod: dict[str, np.ndarray] = {}
    before_p: dict[str, float] = {}
    for a in registry.pv_arrays:
        m = table.array == a.id
        t, p = table.time_ns[m], np.nan_to_num(table.fields["production_wh"][m])
        before_p[a.id] = float(p[t < m0].sum())
        k = _month_index(t, months)
        ok = (k >= 0) & (k < n)
        prod[a.id] = np.bincount(k[ok], weights=p[ok], minlength=n)[:n]
    sc: dict[str, np.ndarray] = {}
    before_s: dict[str, float] = {}
    site_sc_month = np.zeros(n)
    for site_id, (t, f) in sites.items():
        arrays = [a for a in registry.pv_arrays if a.site == site_id]
        k = _month_index(t, months)
        ok = (k >= 0) & (k < n)
        s_m = np.bincount(k[ok], weights=np.nan_to_num(f["self_consumed_wh"][ok]), minlength=n)[:n]
        site_sc_month += s_m
        alloc = allocate_site_to_arrays(s_m, {a.id: prod[a.id] for a in arrays})
        sc.update(alloc)
        pre = float(np.nansum(f["self_consumed_wh"][t < m0]))
        pre_alloc = allocate_site_to_arrays(np.array([pre]), {a.id: np.array([before_p[a.id]]) for a in arrays})
        before_s.update({k_: float(v[0]) for k_, v in pre_alloc.items()})
    imports = np.zeros(n)
    complete = np.ones(n, dtype=bool)
    for site in registry.sites:
        em = _main_electricity_meter(registry, site.id)
        if em is None:
            continue
        t, v = _counter(client, em, "energy_import_wh", m0, m_end)
        ic = counter_to_deltas(t, v)
        if ic.deltas.size == 0:
            complete[:] = False
            continue
        bounds = np.asarray([local_midnight_ns(m) for m in months] + [m_end], dtype=np.int64)
        r = rollup(ic.start_ns, ic.end_ns, ic.deltas, "month", boundaries_ns=bounds)
        imports += r.sums
        # the month in progress counts as complete when the part elapsed so far is covered
        elapsed = np.clip((np.minimum(bounds[1:], end_ns) - bounds[:-1]) / np.diff(bounds), 0.0, 1.0)
        complete &= r.coverage >= 0.9 * elapsed
    consumption = np.where(complete, imports + site_sc_month, np.nan)
    kpis = rollout_kpis(registry, months, prod, sc, consumption, settings.co2, before_p, before_s)
    points = []
    for k in kpis:
        f = {"kwp_installed": _round(k.kwp_installed), "kwp_planned": _round(k.kwp_planned),
             "roofs_equipped": int(k.roofs_equipped), "production_cum_wh": _round(k.production_cum_wh),
             "co2_avoided_kg": _round(k.co2_avoided_kg)}
        if k.stage == "all":
            f["roofs_eligible"] = int(k.roofs_eligible)
            if math.isfinite(k.pv_share_pct):
                f["pv_share_pct"] = _round(k.pv_share_pct)
        points.append(Point("rollout", {"stage": k.stage}, f, local_midnight_ns(k.month)))
    if write:
        client.write_points(points)
    return points


def query_rollout(client: InfluxClient, until_ns: int, stage: str = "all") -> list[dict[str, float | int]]:
    """Stored ``rollout`` points of a stage up to ``until_ns``, oldest first (each with ``time_ns``)."""
    if stage not in (*STAGES, "all"):
        raise ValueError(f"unknown stage {stage!r}")
    q = f'SELECT * FROM "rollout" WHERE "stage" = $stage AND time <= {int(until_ns)}'
    out = []
    for s in client.query(q, params={"stage": stage}):
        for r in s.records():
            r = dict(r)
            r["time_ns"] = int(r.pop("time"))
            out.append(r)
    return sorted(out, key=lambda r: r["time_ns"])
