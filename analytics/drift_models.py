"""Drift models of a meter (pure: no I/O): baselines, charts and episodes, from its daily and hourly series.

Per meter (:func:`analyse_meter`): the first ``baseline_days`` of history fit a daily change-point
model (:func:`drift_model_inputs`: the savings' day types and heating terms, plus day of week, school
afternoons, summer and year-end closures, daylight and registry measures) and hourly models summed per
day (:func:`towt_daily_expected`: the hourly change-point model for heating, in and out of the heating
season on the smoothed temperature, TOWT otherwise; closed days and a sports hall's holiday week with
profiles of their own); the better one on the baseline days is kept. A heating plant that runs on
demand (a church) and that neither model fits falls back to the operating-power model
(:func:`operating_daily_expected`), charted on the days it ran. Each calendar month of the baseline
year is checked for bias (:func:`correct_monthly_bias`). The following days are monitored with
CUSUM/EWMA on residuals standardised by a noise that grows with the expected energy
(:func:`analytics.drift.detect_drift_scaled`, upward alarms only), collapsed into episodes
(:func:`collapse_episodes`); the night base load is watched (:func:`analytics.drift.detect_baseload_drift`).

The I/O (reading the rollups and weather from InfluxDB, writing ``baseline_daily`` and the alerts) is
the drift job's, :mod:`analytics.jobs.drift`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from analytics.baseline import (
    HOURLY_BALANCE_GRID_C,
    MAX_MONTHLY_NMBE_PCT,
    class_variances,
    fit_daily,
    fit_hourly_change_point,
    fit_metrics,
    fit_operating_power,
    fit_towt,
    gl14_verdict,
    monthly_nmbe_pct,
)
from analytics.drift import (
    MIN_SHARE_LEVEL_FRACTION,
    Alert,
    DriftSettings,
    daily_load_statistic,
    detect_baseload_drift,
    detect_drift,
    detect_drift_scaled,
    episode_share_pct,
    estimate_noise,
)
from analytics.savings import (
    HEATING_SEASON_END,
    SEASON_END_UNCERTAIN_DAYS,
    SEASON_HDD_BASE_C,
    in_heating_season,
    learnt_heating_season,
    model_inputs,
    season_mask,
)
from terril.calendar import day_types, is_closed, local_dates
from terril.registry import Meter, Registry, Site

DAY_NS = 86_400 * 10**9
HOUR_NS = 3_600 * 10**9
#: Time constant of the smoothed outdoor temperature the heating models see (building mass). [h]
TEMP_TIME_CONSTANT_H = 12.0
#: Chart settings of the drift job, measured with ``bench/drift.py`` and ``bench/drift_offline.py``
#: (docs/analytics.md §7.1, §7.2): upward alarms only (a drop costs nothing; it stays visible in
#: ``baseline_daily``), noise inflated for the out-of-sample error of a fitted model, widened on the days
#: of the week whose baseline residuals are wider, a CUSUM for small shifts (5 %) beside the charts for
#: ramps, and an alarm raised only when the next day's excess goes on (one-day events are no drift).
JOB_DRIFT = DriftSettings(two_sided=False, sigma_inflation=1.1, noise_by_weekday=True, small_shift_pct=5.0,
                          small_shift_arl0_days=2000.0, confirm_days=1)
#: The same for electricity: out-of-sample residuals are wider (measured: docs/analytics.md §7.1), and the
#: noise is fitted weighted (:func:`analytics.drift.estimate_scaled_noise`): an electrically heated
#: workshop's winter days no longer set the noise of its summer days (measured on the tuning seeds: one
#: drift more found in time, as many false alarms; on gas and heat two false alarms more, docs §7.2).
JOB_DRIFT_ELECTRICITY = dataclasses.replace(JOB_DRIFT, sigma_inflation=1.3, weighted_noise_fit=True)
#: A balance point no hour reaches: the hourly change-point model without a temperature response. [°C]
NO_TEMPERATURE_GRID_C: tuple[float, ...] = (-100.0,)
#: The same for water: an excess below 15 % of the meter's typical daily volume is no leak (a school's
#: staff back a few days before the pupils, on a near-zero summer expectation; measured: docs §7.1).
JOB_DRIFT_WATER = dataclasses.replace(JOB_DRIFT, min_excess_of_level_pct=15.0)
#: The same for gas and heat: a robust CUSUM instead of the confirming day (``winsor_z`` 2.5, Lucas & Crosier
#: 1982). One noisy day after an alarm vetoed it and the charts restarted from zero: a school's +15 % gas
#: step in March, alarmed after 8 days, was dropped because its confirming day, a Saturday, showed +2.6 %
#: (measured on the tuning seeds: docs/analytics.md §7.2). Days far out are clipped instead, so that one
#: day alone still raises nothing.
JOB_DRIFT_HEATING = dataclasses.replace(JOB_DRIFT, confirm_days=0, winsor_z=2.5)


def job_settings(carrier: str) -> DriftSettings:
    """The drift job's chart settings for a meter's carrier."""
    return {"electricity": JOB_DRIFT_ELECTRICITY, "water": JOB_DRIFT_WATER, "gas": JOB_DRIFT_HEATING,
            "heat": JOB_DRIFT_HEATING}.get(carrier, JOB_DRIFT)
#: Carriers whose drift baseline may be the hourly TOWT model summed per day (measured: docs §7.1).
HOURLY_MODEL_CARRIERS: tuple[str, ...] = ("electricity", "gas", "heat")
#: Kinds of site the schools use (PE lessons) whose week changes in the school holidays: their hourly
#: model keeps a second week profile for the holidays.
SCHOOL_USED_KINDS: frozenset[str] = frozenset({"sports_hall"})
#: Days of night-load history before the base-load watch starts.
MIN_BASELOAD_DAYS = 60


#: Names of the extra day regressors of the drift models (beside the savings' day types).
DRIFT_REGRESSOR_NAMES: tuple[str, ...] = ("monday", "tuesday", "thursday", "friday", "saturday",
                                          "school_afternoon", "august_working", "august_off", "year_end_working",
                                          "year_end_off", "daylight_working")


def heats(meter: Meter, site: Site) -> bool:
    """Whether the meter's energy is mostly space heating: gas and heat, and the electricity of an
    electrically heated site (its hourly model then follows the heating plant's, on the smoothed
    temperature and in and out of the heating season)."""
    return meter.carrier in ("gas", "heat") or (meter.carrier == "electricity" and site.heating_carrier == "electricity")


def heating_season_from_data(dates: np.ndarray, energy: np.ndarray, n_baseline: int) -> np.ndarray | None:
    """Heating season learnt from the baseline year (:func:`analytics.savings.learnt_heating_season`: the
    plant's own first autumn day and last spring day). Returns a per-day mask (the same calendar days
    every year), or None without enough data.
    """
    bounds = learnt_heating_season(np.asarray(dates, dtype="datetime64[D]")[:n_baseline],
                                   np.asarray(energy, dtype=float)[:n_baseline])
    return None if bounds is None else season_mask(dates, bounds)


#: Least ratio of the winter median day to the summer level (90th percentile of July-August) for the learnt end
#: of the heating season (:func:`analytics.savings.learnt_heating_season`) to be trusted: that rule counts a spring
#: day as heated above twice the summer level, which the light heating of late spring cannot reach above a large
#: summer load. Set between the ratios of the simulator's tuning seeds: 3.7-4.6 for an electrically heated
#: library (learnt ends in April while it heated to 15 May), 7.8 and more for every other heating meter. [1]
MIN_WINTER_TO_SUMMER_FOR_LEARNT_END = 5.0


def late_heating_visible(dates: np.ndarray, energy: np.ndarray,
                         min_ratio: float = MIN_WINTER_TO_SUMMER_FOR_LEARNT_END) -> bool:
    """Whether the learnt end of the heating season can be trusted on these baseline days: the winter median
    day (December-February) is at least ``min_ratio`` times the summer level (90th percentile of July-August).
    A gas boiler's summer is its hot water (ratios of 12 or more on the simulator, an electrically heated
    workshop 8-11); the electricity of an electrically heated library keeps its lighting and equipment all
    year (ratios of 3.7-4.6), and its late-spring heating never reaches twice its summer level. True when either season lacks data (nothing to judge)."""
    d = np.asarray(dates, dtype="datetime64[D]")
    e = np.asarray(energy, dtype=float)
    month = d.astype("datetime64[M]").astype(int) % 12 + 1
    summer, winter = e[(month == 7) | (month == 8)], e[(month == 12) | (month <= 2)]
    if np.isfinite(summer).sum() < 20 or np.isfinite(winter).sum() < 20:
        return True
    lo, hi = float(np.nanpercentile(summer, 90)), float(np.nanmedian(winter))
    return not (lo > 0 and hi < min_ratio * lo)


def drift_model_inputs(dates: np.ndarray, temp_mean_c: np.ndarray, meter: Meter, site: Site, registry: Registry,
                       energy: np.ndarray | None = None, n_baseline: int = 365
                       ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Temperature, regressors and their names of a meter's drift baseline.

    The savings inputs (:func:`analytics.savings.model_inputs`: day types, and for gas and heat
    the smoothed temperature and heating-season terms) plus calendar terms that only sharpen
    the day-to-day prediction: day of week, afternoons with school (four-and-a-half-day
    Wednesdays), August and the end-of-year break (summer and Christmas closures; apart on
    working days and days off), the site's annual closures, the length of daylight on the days
    in use (lighting), and one step per energy-saving measure of the
    registry on this meter (× heating degree days for heating carriers), so that a measure
    taken during the baseline period does not bias the model.
    """
    temp, regs, names = model_inputs(dates, temp_mean_c, meter.carrier, site.school_week)
    d = np.asarray(dates, dtype="datetime64[D]")
    types = day_types(d, site.school_week)
    month = d.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (d - d.astype("datetime64[M]")).astype(int) + 1
    doy = (d - d.astype("datetime64[Y]")).astype(int)
    wd = types.weekday
    # day length at 50.5° N relative to its mean: cos of the day of the year, 1 at the winter solstice
    dark = np.cos(2.0 * np.pi * (doy + 10) / 365.25)
    # summer and year-end effects apart on working days and days off: a town hall working at 70 % in
    # August is not 30 % lower on its August Sundays
    august = month == 8
    year_end = ((month == 12) & (dom >= 24)) | ((month == 1) & (dom == 1))
    # the day of the week matters on days the building keeps its week: not on public holidays, annual
    # closures or (for a school) the school holidays, when it is closed whatever the day
    closed = is_closed(d, site.closures)
    week_kept = ~types.public_holiday & ~closed
    if site.school_week:
        week_kept &= ~types.holiday
    work = types.working_day & week_kept
    extra = [(wd == 0) & week_kept, (wd == 1) & week_kept, (wd == 3) & week_kept, (wd == 4) & week_kept,
             (wd == 5) & week_kept,
             types.school_afternoon if site.school_week else np.zeros(d.shape, bool),
             august & work, august & ~work, year_end & work, year_end & ~work,
             dark * (types.school_day if site.school_week else work)]  # lighting on the days in use
    extra_names = list(DRIFT_REGRESSOR_NAMES)
    if site.closures:
        extra.append(closed & ~types.public_holiday)
        extra_names.append("closed")

    hdd = np.maximum(SEASON_HDD_BASE_C - np.asarray(temp, dtype=float), 0.0)
    for ms in registry.measures:
        if ms.site != meter.site or ms.kind == "pv" or (ms.meters and meter.id not in ms.meters):
            continue
        step = (d >= np.datetime64(ms.date, "D")).astype(float)
        extra.append(step * hdd if meter.carrier in ("gas", "heat") else step)
        extra_names.append(f"measure_{ms.id}")
    if meter.carrier in ("gas", "heat") and energy is not None:
        season = heating_season_from_data(d, energy, n_baseline)
        if season is not None:
            # the same season terms as the savings model, on the season the plant really keeps
            occupied = regs[:, 0] if site.school_week else 1.0 - np.maximum(regs[:, 2], regs[:, 4])
            regs = regs.copy()
            regs[:, -2] = np.where(season, 0.0, hdd)
            regs[:, -1] = np.where(season, hdd, 0.0) * occupied
    x = np.column_stack([regs] + [np.asarray(c, dtype=float) for c in extra])
    return temp, x, tuple(names) + tuple(extra_names)


def collapse_episodes(alerts: tuple[Alert, ...] | list[Alert], gap_days: float = 14.0, *,
                      day_start_ns: np.ndarray | None = None, residual: np.ndarray | None = None,
                      expected: np.ndarray | None = None, reference_level: float | None = None) -> list[Alert]:
    """One alert per episode: the charts restart after each alarm, so a lasting shift alarms again
    and again; alarms of the same kind following each other within ``gap_days`` are one episode,
    reported with its first onset and first detection (when it could first be raised).

    Its magnitude is stated over the episode's whole period, as a ratio of sums (never a mean of
    per-alarm percentages, which a near-zero expected level blows up): with the daily series
    (``day_start_ns``, ``residual``, ``expected``), ``Σ residual / days`` and ``100·Σ residual / Σ
    expected`` over the days from onset to the episode's last alarm; without them, the alarms' own sums (magnitude ×
    days, expected × days). The share is NaN when the expected level is not meaningful
    (:func:`analytics.drift.episode_share_pct`, against ``reference_level``).
    """
    groups: list[list[Alert]] = []
    gap = int(gap_days * DAY_NS)
    last_detected = 0
    for a in sorted(alerts, key=lambda a: (a.kind, a.detected_ns)):
        last = groups[-1][0] if groups else None
        if last is not None and last.kind == a.kind and a.onset_ns <= last_detected + gap:
            groups[-1].append(a)
        else:
            groups.append([a])
        last_detected = a.detected_ns
    out: list[Alert] = []
    for g in groups:
        first = g[0]
        onset, until = first.onset_ns, max(a.detected_ns for a in g)
        if day_start_ns is not None and residual is not None and expected is not None:
            t = np.asarray(day_start_ns, dtype=np.int64)
            r, e = np.asarray(residual, dtype=float), np.asarray(expected, dtype=float)
            on = (t >= onset) & (t < until) & np.isfinite(r) & np.isfinite(e)
            nd = int(on.sum())
            if nd == 0:
                out.append(first)
                continue
            excess, exp_sum = float(r[on].sum()), float(e[on].sum())
            end = episode_end_ns(t, r, until, excess / nd, gap_days)
            out.append(dataclasses.replace(
                first, magnitude_kwh_per_day=excess / nd,
                magnitude_pct=episode_share_pct(excess, exp_sum, nd, reference_level),
                days=nd, expected_per_day=exp_sum / nd,
                state="closed" if end is not None else first.state, end_ns=end))
            continue
        if len(g) == 1:
            out.append(first)
            continue
        w = np.array([max(a.days, 1) for a in g], dtype=float)
        mag = np.array([a.magnitude_kwh_per_day for a in g])
        watts = np.array([a.magnitude_w for a in g])
        exp = np.array([a.expected_per_day for a in g])
        nd = int(w.sum())
        kwh = float(np.sum(mag * w) / nd)
        pct = (episode_share_pct(float(np.sum(mag * w)), float(np.sum(exp * w)), nd, reference_level)
               if np.isfinite(exp).all() else math.nan)
        out.append(dataclasses.replace(first, magnitude_kwh_per_day=kwh, magnitude_pct=pct,
                                       magnitude_w=float(np.sum(watts * w) / nd) if np.isfinite(watts).all()
                                       else math.nan, days=nd,
                                       expected_per_day=float(np.sum(exp * w) / nd)))
    return out


def baseload_episodes(found: tuple[Alert, ...] | list[Alert], day_start_ns: np.ndarray, load_w: np.ndarray,
                      n_baseline_days: int, gap_days: float = 14.0, *,
                      reference_level: float | None = None) -> list[Alert]:
    """Base-load alarms as episodes (:func:`collapse_episodes`), each closed once the night load came back.

    The night load's rise over its baseline mean (the same mean the charts used) is the residual:
    an episode is over when, ``gap_days`` after its last alarm, it fell below half the episode's rise
    (:func:`episode_end_ns`). Without this a base-load alert, once raised, stayed open for ever. [W]
    """
    t = np.asarray(day_start_ns, dtype=np.int64)
    x = np.asarray(load_w, dtype=float)
    episodes = collapse_episodes(found, gap_days, reference_level=reference_level)
    if not episodes or n_baseline_days >= x.size:
        return episodes
    rise_w = x[n_baseline_days:] - float(np.nanmean(x[:n_baseline_days]))
    mon = t[n_baseline_days:]
    out = []
    for ep in episodes:
        later = [e.onset_ns for e in episodes if e.kind == ep.kind and e.onset_ns > ep.onset_ns]
        until = min(later, default=None)
        last_alarm = max(a.detected_ns for a in found
                         if a.kind == ep.kind and a.onset_ns >= ep.onset_ns and (until is None or a.onset_ns < until))
        end = episode_end_ns(mon, rise_w, last_alarm, ep.magnitude_w, gap_days)
        out.append(dataclasses.replace(ep, state="closed", end_ns=end) if end is not None else ep)
    return out


#: Days over which the residual must stay back near zero for a drift episode to be over. [day]
EPISODE_QUIET_DAYS = 7


def episode_end_ns(day_start_ns: np.ndarray, residual: np.ndarray, last_alarm_ns: int, magnitude: float,
                   gap_days: float = 14.0, quiet_days: int = EPISODE_QUIET_DAYS) -> int | None:
    """End of a drift episode whose last alarm ended at ``last_alarm_ns``, or None while it lasts.

    The episode is over when the charts stayed quiet for ``gap_days`` after its last alarm and the
    residual came back: the first day after the last alarm from which the mean residual over
    ``quiet_days`` days is below half the episode's magnitude (on its side). [UTC ns]
    """
    t = np.asarray(day_start_ns, dtype=np.int64)
    r = np.asarray(residual, dtype=float)
    if not np.isfinite(magnitude) or magnitude == 0 or t.size == 0:
        return None
    if int(t[-1]) + DAY_NS < last_alarm_ns + int(gap_days * DAY_NS):
        return None  # too soon to say
    sign = 1.0 if magnitude > 0 else -1.0
    after = np.flatnonzero(t >= last_alarm_ns)
    for j in after.tolist():
        w = r[j:j + quiet_days]
        if j + quiet_days > t.size:
            break
        if np.isfinite(w).sum() >= quiet_days // 2 + 1 and sign * float(np.nanmean(w)) < 0.5 * abs(magnitude):
            return int(t[j])
    return None


@dataclass(frozen=True, eq=False)
class MeterInputs:
    """What the drift job reads for one meter (the pure core's input).

    Attributes
    ----------
    day_start_ns : ndarray of int64
        Local day starts. [UTC ns]
    energy : ndarray of float
        Daily consumption, NaN where coverage < 90 %. [kWh/day; m³/day for water]
    temp_mean_c : ndarray of float
        Daily mean outdoor temperature of the town (NaN = missing). [°C]
    hour_start_ns, hourly_wh : ndarray, optional
        Hourly consumption, for the hourly model and the night base load. [UTC ns], [Wh]
    hourly_temp_c : ndarray, optional
        Outdoor temperature of each hour of ``hour_start_ns`` (NaN = missing). [°C]
    hourly_irradiance_w_m2 : ndarray, optional
        Global irradiance of each hour of ``hour_start_ns`` measured by the site's weather station
        (NaN = missing), for the electricity models' daylight term. [W/m²]
    """

    day_start_ns: np.ndarray
    energy: np.ndarray
    temp_mean_c: np.ndarray
    hour_start_ns: np.ndarray | None = None
    hourly_wh: np.ndarray | None = None
    hourly_temp_c: np.ndarray | None = None
    hourly_irradiance_w_m2: np.ndarray | None = None


def hourly_means(times_ns: np.ndarray, values: np.ndarray, hour_start_ns: np.ndarray) -> np.ndarray:
    """Mean of the readings inside each hour ``[start, start + 1 h)`` (NaN for an hour without one). [unit]"""
    t = np.asarray(times_ns, dtype=np.int64)
    v = np.asarray(values, dtype=float)
    h = np.asarray(hour_start_ns, dtype=np.int64)
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    i = np.searchsorted(h, t, side="right") - 1
    inside = (i >= 0) & (t < h[np.clip(i, 0, None)] + HOUR_NS) if h.size else np.zeros(t.size, bool)
    s = np.bincount(i[inside], weights=v[inside], minlength=h.size)
    c = np.bincount(i[inside], minlength=h.size)
    return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def smoothed_hourly(temp_c: np.ndarray, time_constant_h: float = TEMP_TIME_CONSTANT_H) -> np.ndarray:
    """Exponential mean of an hourly temperature (building mass); a missing hour carries the mean on. [°C]"""
    a = 1.0 - math.exp(-1.0 / time_constant_h)
    out = np.empty(len(temp_c))
    prev = math.nan
    for i, v in enumerate(np.asarray(temp_c, dtype=float).tolist()):
        if not math.isnan(v):
            prev = v if math.isnan(prev) else prev + a * (v - prev)
        out[i] = prev
    return out


def _hours_in_days(inputs: MeterInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Hour starts, energy, temperature and day index of the hours inside the days of ``inputs``; None
    without at least 60 days of hourly data and temperature."""
    th, wh, temp = inputs.hour_start_ns, inputs.hourly_wh, inputs.hourly_temp_c
    if th is None or wh is None or temp is None or th.size < 24 * 60:
        return None
    di = np.searchsorted(inputs.day_start_ns, th, side="right") - 1
    keep = (di >= 0) & (di < inputs.day_start_ns.size)
    return th[keep], wh[keep], temp[keep], di[keep]


#: Largest share of the baseline hours without a measured irradiance for the daylight term to be used. [1]
MAX_MISSING_IRRADIANCE = 0.1


def daylight_irradiance(inputs: MeterInputs, n_baseline: int) -> np.ndarray | None:
    """The irradiance of the hours of :func:`_hours_in_days` for the electricity models' daylight term,
    or None when there is none or more than :data:`MAX_MISSING_IRRADIANCE` of the baseline hours lack it.

    A missing hour takes the mean of the same UTC hour of the day in the same calendar month (the sun's
    course), so that a short station outage does not blank the expectation. [W/m²]
    """
    g = inputs.hourly_irradiance_w_m2
    if g is None or inputs.hour_start_ns is None:
        return None
    th = inputs.hour_start_ns
    di = np.searchsorted(inputs.day_start_ns, th, side="right") - 1
    keep = (di >= 0) & (di < inputs.day_start_ns.size)
    g, th, di = np.asarray(g, dtype=float)[keep], th[keep], di[keep]
    ok = np.isfinite(g)
    base = di < n_baseline
    if not base.any() or 1.0 - ok[base].mean() > MAX_MISSING_IRRADIANCE:
        return None
    if ok.all():
        return g
    month = th.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64) % 12
    key = month * 24 + (th // HOUR_NS) % 24
    sums = np.bincount(key[ok], weights=g[ok], minlength=288)
    counts = np.bincount(key[ok], minlength=288)
    fill = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    return np.where(ok, g, fill[key])


def towt_daily_expected(meter: Meter, site: Site, inputs: MeterInputs, n_baseline: int,
                        season: np.ndarray | None) -> np.ndarray | None:
    """Expected daily energy from hourly models summed per day: TOWT (:func:`analytics.baseline.fit_towt`),
    or for heating carriers the hourly change-point model (:func:`analytics.baseline.fit_hourly_change_point`).

    Heating carriers use the smoothed hourly temperature and one model in and one out of the heating
    ``season`` (per day). Closed days (public holidays and the site's annual closures) have a day
    profile of their own; schools treat their holidays as Sundays; sports halls keep a second week
    profile for the school holidays. The baseline is the hours of the first ``n_baseline`` days.
    Returns None when a model cannot be fitted. [kWh/day]
    """
    hours = _hours_in_days(inputs)
    if hours is None:
        return None
    th, wh, temp, di = hours
    t_day = inputs.day_start_ns
    heating = heats(meter, site)
    tc = smoothed_hourly(temp) if heating else temp
    # electricity: lighting follows daylight and clouds, which the weather station measures (its irradiance)
    irr = daylight_irradiance(inputs, n_baseline) if meter.carrier == "electricity" else None
    dates = local_dates(t_day)
    types = day_types(dates, site.school_week)
    # closed days (public holidays, the site's annual closures) have a day profile of their own; a school's
    # holidays are Sundays; sites the schools use outside their walls keep another week in the holidays
    closed_day = np.asarray(types.public_holiday | is_closed(dates, site.closures))
    closed = closed_day[di]
    day_off = np.asarray(types.holiday if site.school_week else np.zeros(dates.shape, bool))[di]
    if site.kind in SCHOOL_USED_KINDS:
        alt = np.asarray(types.holiday & ~closed_day)[di]
    else:
        # August is a week of its own (the daily model's August terms): staff on leave, a workshop at 60 %
        # of its activity; without it the model ran 25-39 % high in August and 17-23 % low in September
        # on the workshop (its out-of-season profile averaged the two), beyond any monthly rescale
        month = dates.astype("datetime64[M]").astype(int) % 12 + 1
        day_off_d = types.holiday if site.school_week else np.zeros(dates.shape, bool)
        alt = np.asarray((month == 8) & ~closed_day & ~day_off_d)[di]
    base = di < n_baseline
    groups = [np.ones(th.size, bool)]
    if heating and season is not None:
        groups = [season[di], ~season[di]]
    pred = np.full(th.size, np.nan)
    for k, g in enumerate(groups):
        fit = g & base
        if fit.sum() < 24 * 28:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            if heating:
                # out of the heating season a heating plant does not heat: no temperature response there (one
                # fitted on May and September would learn the shorter days, not the weather)
                grid = NO_TEMPERATURE_GRID_C if k == 1 else HOURLY_BALANCE_GRID_C
                model = fit_hourly_change_point(th[fit], wh[fit], tc[fit], day_off=day_off[fit],
                                                alt_week=alt[fit] if alt is not None else None, closed=closed[fit],
                                                grid_c=grid, irradiance_w_m2=irr[fit] if irr is not None else None)
            else:
                model = fit_towt(th[fit], wh[fit], tc[fit], day_off=day_off[fit],
                                 alt_week=alt[fit] if alt is not None else None, closed=closed[fit],
                                 irradiance_w_m2=irr[fit] if irr is not None else None)
        if model.disqualifications:
            return None
        # no extrapolation outside the temperatures the model was fitted on (a summer model meeting a cold May),
        # except on the cold side of a heating model in its season: heat losses keep growing with the
        # temperature difference, and a cold spell colder than the baseline's coldest hour is expected to
        # need more heating, not the same (clipped there, it raised false alarms on every gas meter at once)
        lo, hi = float(np.nanmin(tc[fit])), float(np.nanmax(tc[fit]))
        if heating and k == 0:
            lo = -math.inf
        pred[g] = model.predict(th[g], np.clip(tc[g], lo, hi), day_off[g], alt[g] if alt is not None else None,
                                closed[g], irr[g] if irr is not None else None)
    ok = np.isfinite(pred)
    total = np.bincount(di[ok], weights=pred[ok], minlength=t_day.size) / 1000.0
    hours = np.bincount(di[ok], minlength=t_day.size)
    return np.where(hours >= 20, total, np.nan)


@dataclass(frozen=True, eq=False)
class OperatingDays:
    """Expected daily energy of a plant that runs on demand (:func:`operating_daily_expected`)."""

    expected: np.ndarray  # per day, given the hours the plant ran [kWh/day]
    operating: np.ndarray  # per day: the plant ran at least one hour (bool)
    share: float  # share of the baseline days with operation [1]
    charted: np.ndarray | None = None  # per day, the energy charted: expected + the weighted excess [kWh/day]


def operating_daily_expected(inputs: MeterInputs, n_baseline: int, weighted: bool = True) -> OperatingDays | None:
    """Expected daily energy from the operating-power model (:func:`analytics.baseline.fit_operating_power`),
    fitted on the hours of the first ``n_baseline`` days against the smoothed hourly temperature.

    With ``weighted``, the day's excess that is charted is not the plain sum of its hourly residuals but the
    weighted least-squares estimate of a proportional shift of its hours, spread over its expected energy:
    ``E_day · Σ(E_h·r_h/v_h) / Σ(E_h²/v_h)``, ``v_h`` the baseline variance of the hour's class
    (:meth:`analytics.baseline.OperatingPowerModel.hour_classes`: standby, each place in a run). The first
    and last hours of a run are part hours (the plant starts and stops inside them, at a time the model
    cannot know): on a church they hold half to three fifths of the residual variance of its hours in
    operation, for a fifth of its energy, and the plain sum let them drown the shift of the others.
    A proportional shift of every hour (a fouled boiler) is charted at its size, in kWh/day.

    Returns None without hourly data, or when the plant is not intermittent or ran too few hours.
    """
    hours = _hours_in_days(inputs)
    if hours is None:
        return None
    th, wh, temp, di = hours
    t_day = inputs.day_start_ns
    tc = smoothed_hourly(temp)
    base = di < n_baseline
    model = fit_operating_power(np.where(base, wh, np.nan), tc)
    if not model.qualifies:
        return None
    pred = model.predict(wh, tc)
    ok = np.isfinite(pred)
    total = np.bincount(di[ok], weights=pred[ok], minlength=t_day.size) / 1000.0
    hours = np.bincount(di[ok], minlength=t_day.size)
    on_hours = np.bincount(di, weights=model.modes(wh, tc)[0].astype(float), minlength=t_day.size)
    expected = np.where(hours >= 20, total, np.nan)
    operating = (on_hours > 0) & np.isfinite(expected)
    nb = min(n_baseline, t_day.size)
    share = float(operating[:nb].sum() / max(np.isfinite(expected[:nb]).sum(), 1))
    charted = None
    if weighted:
        resid = wh - pred
        cls = model.hour_classes(wh, tc)
        var = class_variances(np.where(base & ok & (cls > 0), resid, np.nan), cls)
        v = var[cls]
        # the off hours (expected ≈ 0) carry no share of a proportional shift; a class without a variance neither
        use = ok & (cls > 0) & np.isfinite(v) & (v > 0)
        v = np.where(use, v, 1.0)
        num = np.bincount(di[use], weights=(pred * resid / v)[use], minlength=t_day.size)
        den = np.bincount(di[use], weights=(pred * pred / v)[use], minlength=t_day.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = np.where(den > 0, num / den, np.nan)
        observed = np.bincount(di[ok], weights=wh[ok], minlength=t_day.size) / 1000.0
        # a day in operation without a weighted hour keeps its plain sum
        charted = np.where(np.isfinite(shift), expected * (1.0 + shift), np.where(hours >= 20, observed, np.nan))
    return OperatingDays(expected, operating, share, charted)


@dataclass(frozen=True, eq=False)
class MeterDrift:
    """What the drift job found for one meter (alerts already collapsed into episodes)."""

    alerts: tuple[Alert, ...]
    model_kind: str | None  # None when no model could be fitted
    qualifies: bool
    reasons: tuple[str, ...]
    expected: np.ndarray | None  # per day of the inputs [kWh/day]
    base_load_day_ns: np.ndarray | None = None
    base_load_w: np.ndarray | None = None
    monthly_nmbe_pct: np.ndarray | None = None  # per calendar month of the baseline year, before correction [%]
    corrected_months: tuple[int, ...] = ()  # months (1-12) whose expectation was rescaled
    chart_obs: np.ndarray | None = None  # the days charted (NaN = not charted) [kWh/day]
    chart_settings: DriftSettings | None = None
    per_day: float = 1.0  # share of calendar days charted (operating-power model)
    n_base: int = 0  # baseline days at the start of the series


#: Largest per-month rescaling of a biased baseline; beyond, the meter is not modelled. [1]
MAX_MONTHLY_CORRECTION = 0.25


def correct_monthly_bias(dates: np.ndarray, observed: np.ndarray, expected: np.ndarray, n_baseline: int,
                         limit_pct: float = MAX_MONTHLY_NMBE_PCT, max_correction: float = MAX_MONTHLY_CORRECTION
                         ) -> tuple[np.ndarray, np.ndarray, tuple[int, ...], bool]:
    """Per-month bias check of a fitted baseline, and its fix.

    The NMBE of each calendar month of the baseline days (:func:`analytics.baseline.monthly_nmbe_pct`)
    must stay within ±``limit_pct``. A month beyond is rescaled, on every year, so that its NMBE is
    brought back to ±``limit_pct`` (a model that runs 5-7 % high from September to December on its own
    baseline year hides a real rise of that size the next year); when a month needs more than
    ``max_correction``, the model does not describe the meter — unless the month carries little use
    (its mean expectation below :data:`analytics.drift.MIN_SHARE_LEVEL_FRACTION` of the meter's mean).

    Returns (expected, NMBE per month before the fix [%], months rescaled (1-12), whether the model holds).
    """
    d = np.asarray(dates, dtype="datetime64[D]")
    obs, exp = np.asarray(observed, dtype=float), np.asarray(expected, dtype=float)
    nmbe = monthly_nmbe_pct(d[:n_baseline], obs[:n_baseline], exp[:n_baseline])
    month = d.astype("datetime64[M]").astype(int) % 12
    both = np.isfinite(obs[:n_baseline]) & np.isfinite(exp[:n_baseline])
    typical = float(np.mean(exp[:n_baseline][both])) if both.any() else np.nan
    out = exp.copy()
    fixed: list[int] = []
    holds = True
    for m in np.flatnonzero(np.isfinite(nmbe) & (np.abs(nmbe) > limit_pct)).tolist():
        # brought back to the limit, not to zero: a month's bias is partly that year's weather (the start of
        # a heating season), and a full rescale would carry it into the next year (a false alarm)
        target = np.sign(nmbe[m]) * limit_pct
        factor = (1.0 - target / 100.0) / (1.0 - nmbe[m] / 100.0)
        in_month = both & (month[:n_baseline] == m)
        light = bool(np.isfinite(typical) and typical > 0 and in_month.any()
                     and float(np.mean(exp[:n_baseline][in_month])) < MIN_SHARE_LEVEL_FRACTION * typical)
        if light:
            # a month of little use (a boiler's summer hot water, an August closure): its bias is rescaled
            # whatever its size (within a factor of 2), it does not make the meter unmodelled
            factor = float(np.clip(factor, 0.5, 2.0))
        elif not abs(factor - 1.0) <= max_correction:
            holds = False
            continue
        out[month == m] *= factor
        fixed.append(m + 1)
    return out, nmbe, tuple(fixed), holds


def analyse_meter(meter: Meter, site: Site, registry: Registry, inputs: MeterInputs, *,
                  baseline_days: int = 365, settings: DriftSettings | None = None, scaled: bool = True,
                  hourly_model: tuple[str, ...] = HOURLY_MODEL_CARRIERS) -> MeterDrift:
    """Baseline, drift and base-load alerts of one meter (pure: no I/O).

    Parameters
    ----------
    meter, site, registry
        The meter, its site and the registry (for the measures of the meter).
    inputs : MeterInputs
        Daily (and hourly) series.
    baseline_days : int
        Days at the start of the series that fit the model. [day]
    settings : DriftSettings, optional
        Chart settings; by default the carrier's (:func:`job_settings`): :data:`JOB_DRIFT_ELECTRICITY`,
        :data:`JOB_DRIFT_WATER`, :data:`JOB_DRIFT_HEATING` for gas and heat, :data:`JOB_DRIFT`
        otherwise.
    scaled : bool
        Noise that grows with the expected energy (:func:`analytics.drift.detect_drift_scaled`);
        False: one σ for all days (:func:`analytics.drift.detect_drift`).
    hourly_model : tuple of str
        Carriers for which hourly models (:func:`towt_daily_expected`) are also fitted, and kept
        when they predict the baseline days better than the daily change-point model.
    """
    if settings is None:
        settings = job_settings(meter.carrier)
    t, kwh = inputs.day_start_ns, inputs.energy
    alerts: list[Alert] = []
    kind: str | None = None
    qualifies = False
    reasons: tuple[str, ...] = ("baseline.period_too_short",)
    expected = None
    if t.size >= 30:
        n_base = min(baseline_days, t.size - 1)
        dates = local_dates(t)
        temp, regs, names = drift_model_inputs(dates, inputs.temp_mean_c, meter, site, registry, kwh, n_base)
        with np.errstate(invalid="ignore", divide="ignore"):
            model = fit_daily(temp[:n_base], kwh[:n_base], regressors=regs[:n_base], regressor_names=names,
                              dates=dates[:n_base], is_electricity=meter.carrier == "electricity")
        qualifies, reasons = model.qualifies, model.reasons
        kind = model.kind if np.isfinite(model.intercept) else None
        if kind is not None:
            expected = model.predict(temp, regs)
        if meter.carrier in hourly_model:
            season = None
            if heats(meter, site):
                # the learnt season, widened to the conventional start (1 October): a plant started late in
                # a mild baseline autumn must not make the next autumn's heating look like a drift. Not to
                # the conventional end (20 May): a plant that stops earlier would be expected to heat on
                # the cold days in between (the late-spring over-prediction of issue 16)
                learnt = heating_season_from_data(dates, kwh, n_base)
                month = dates.astype("datetime64[M]").astype(int) % 12 + 1
                autumn_winter = in_heating_season(dates) & ((month >= 8) | (month <= 3))
                season = autumn_winter | learnt if learnt is not None else in_heating_season(dates)
                if learnt is not None and not late_heating_visible(dates[:n_base], kwh[:n_base]):
                    # the learnt end reads the meter against twice its summer level, which the light heating
                    # of late spring cannot reach above a large summer load (an electrically heated library's
                    # lighting and equipment: it heated into May and got 13 April): the conventional end
                    season = season | in_heating_season(dates)
            towt = towt_daily_expected(meter, site, inputs, n_base, season)
            if towt is not None:
                both = np.isfinite(towt[:n_base]) & np.isfinite(kwh[:n_base])
                if expected is not None:
                    both &= np.isfinite(expected[:n_base])
                sse_towt = float(np.sum((kwh[:n_base][both] - towt[:n_base][both]) ** 2))
                sse_cp = (float(np.sum((kwh[:n_base][both] - expected[:n_base][both]) ** 2))
                          if expected is not None else math.inf)
                if both.sum() >= 30 and sse_towt < sse_cp:
                    # the hourly model predicts the days better: it replaces the daily one, gated on its
                    # daily CV(RMSE) (GL14 daily)
                    verdict = gl14_verdict(fit_metrics(kwh[:n_base], towt[:n_base], 1), "daily")
                    expected, kind = towt, "towt"
                    qualifies, reasons = verdict.qualifies, verdict.reasons
        chart_obs, chart_settings, per_day = kwh, settings, 1.0
        if heats(meter, site):
            # the days just after the learnt end of the heating season are not charted: the plant may have
            # stayed on a few days longer than the baseline showed (a false alarm), or not. The same for the
            # electricity of an electrically heated site: its heaters follow the same season (a cold week in
            # May after a mild baseline spring raised false alarms on a workshop and a library)
            chart_obs = np.where(after_season_end(dates, kwh, n_base), np.nan, chart_obs)
        if not qualifies and meter.carrier in ("gas", "heat"):
            # a plant that runs on demand: judge the energy of the days it ran, given the hours it ran
            op = operating_daily_expected(inputs, n_base)
            if op is not None and op.share > 0:
                verdict = gl14_verdict(fit_metrics(np.where(op.operating, kwh, np.nan)[:n_base],
                                                   op.expected[:n_base], 1), "daily")
                if verdict.qualifies:
                    expected, kind, qualifies, reasons = op.expected, "operating", True, verdict.reasons
                    # only days in operation are charted; the in-control run length is kept per calendar
                    # day, and magnitudes are spread over calendar days (cost = per-day excess × days)
                    charted = op.charted
                    if charted is not None and not correct_monthly_bias(
                            dates, np.where(op.operating, charted, np.nan), op.expected, n_base)[3]:
                        # the weighted excess shows a month's bias beyond the limit (the hours in operation of a
                        # shoulder month, whose part hours offset it in the plain sum): the plain sum is charted
                        charted = None
                    chart_obs = np.where(op.operating, kwh if charted is None else charted, np.nan)
                    chart_settings = dataclasses.replace(settings, arl0_days=settings.arl0_days * op.share)
                    per_day = op.share
        nmbe = None
        fixed: tuple[int, ...] = ()
        if expected is not None and qualifies:
            # no bias beyond ±3 % in any calendar month of the baseline year: rescale such months, or give up
            expected, nmbe, fixed, holds = correct_monthly_bias(dates, chart_obs, expected, n_base)
            if not holds:
                qualifies, reasons = False, tuple(reasons) + ("baseline.monthly_bias",)
        if expected is not None and qualifies:
            alerts.extend(chart_drift(meter.id, t, chart_obs, expected, n_base, chart_settings, per_day, scaled))
    days = load = None
    if meter.carrier == "electricity" and site.heating_carrier != "electricity" and inputs.hourly_wh is not None:
        # night base load; not on electrically heated buildings, whose night load follows the weather
        th, wh = inputs.hour_start_ns, inputs.hourly_wh
        if th is not None and th.size >= 24 * (MIN_BASELOAD_DAYS + 7):
            days, load = daily_load_statistic(th, wh)  # Wh in one hour = mean W
            n_base = min(baseline_days, max(MIN_BASELOAD_DAYS, days.size // 2))
            if np.isfinite(load[:n_base]).sum() >= 10 and days.size > n_base:
                # the share of a base-load rise is taken of the meter's expected daily consumption
                if expected is not None:
                    by_day = dict(zip(t.tolist(), expected.tolist()))
                    exp_days = np.array([by_day.get(int(d), np.nan) for d in days])
                else:
                    exp_days = np.full(days.size, float(np.nanmean(kwh[:n_base])) if np.isfinite(kwh[:n_base]).any()
                                       else np.nan)
                found_b = detect_baseload_drift(meter.id, days, load, n_base, expected_kwh_per_day=exp_days)
                ref = exp_days[:n_base]
                alerts.extend(baseload_episodes(found_b, days, load, n_base, reference_level=float(np.nanmean(ref))
                                                if np.isfinite(ref).any() else None))
    return MeterDrift(tuple(alerts), kind, qualifies, reasons, expected, days, load,
                      nmbe if t.size >= 30 else None, fixed if t.size >= 30 else (),
                      chart_obs if t.size >= 30 else None, chart_settings if t.size >= 30 else None,
                      per_day if t.size >= 30 else 1.0, n_base if t.size >= 30 else 0)


def after_season_end(dates: np.ndarray, energy: np.ndarray, n_base: int,
                     days: int | None = None) -> np.ndarray:
    """Per day, whether it falls in the ``days`` after the end of the heating season learnt on the first
    ``n_base`` days (:func:`analytics.savings.learnt_heating_season`): the plant may have run on
    longer than its baseline year showed, so these days are not charted."""
    days = SEASON_END_UNCERTAIN_DAYS if days is None else days
    d = np.asarray(dates, dtype="datetime64[D]")
    bounds = learnt_heating_season(d[:n_base], np.asarray(energy, dtype=float)[:n_base])
    if bounds is None:
        return np.zeros(d.size, bool)
    if not late_heating_visible(d[:n_base], np.asarray(energy, dtype=float)[:n_base]):
        # the learnt end cannot be trusted (:func:`late_heating_visible`): the models keep the conventional one
        bounds = (max(bounds[0], HEATING_SEASON_END[0] * 100 + HEATING_SEASON_END[1]), bounds[1])
    end = np.datetime64(f"2001-{bounds[0] // 100:02d}-{bounds[0] % 100:02d}")
    last = end + np.timedelta64(days, "D")
    md = (d.astype("datetime64[M]").astype(int) % 12 + 1) * 100 + (d - d.astype("datetime64[M]")).astype(int) + 1
    last_md = int((last.astype("datetime64[M]").astype(int) % 12 + 1) * 100
                  + (last - last.astype("datetime64[M]")).astype(int) + 1)
    return (md > bounds[0]) & (md <= last_md)


def confirmed_alarms(alarms: tuple[Alert, ...] | list[Alert], day_start_ns: np.ndarray, residual: np.ndarray,
                     confirm_days: int) -> list[Alert]:
    """The alarms whose excess goes on: the mean residual of the ``confirm_days`` charted days (finite
    ``residual``: a plant that runs on demand is charted on the days it ran) after the alarm day is at
    least half the alarm's magnitude (on its side). Each is then raised at the end of the last of those
    days; an alarm whose days are not there yet is held back (the next analysis raises it).
    """
    t = np.asarray(day_start_ns, dtype=np.int64)
    r = np.asarray(residual, dtype=float)
    charted = np.flatnonzero(np.isfinite(r))
    out = []
    for a in alarms:
        after = charted[charted >= int(np.searchsorted(t, a.detected_ns))][:confirm_days]
        if after.size < confirm_days or not np.isfinite(a.magnitude_kwh_per_day):
            continue
        sign = 1.0 if a.magnitude_kwh_per_day >= 0 else -1.0
        if sign * float(np.mean(r[after])) >= 0.5 * abs(a.magnitude_kwh_per_day):
            out.append(dataclasses.replace(a, detected_ns=int(t[after[-1]]) + DAY_NS))
    return out


def chart_drift(meter_id: str, t: np.ndarray, chart_obs: np.ndarray, expected: np.ndarray, n_base: int,
                settings: DriftSettings, per_day: float = 1.0, scaled: bool = True) -> list[Alert]:
    """Drift alerts of a qualifying model, collapsed into episodes (pure; the charting part of
    :func:`analyse_meter`, replayed by ``bench/drift_offline.py``)."""
    if scaled:
        found = detect_drift_scaled(meter_id, t, chart_obs, expected, n_base, settings)
    else:
        noise = estimate_noise(chart_obs[:n_base] - expected[:n_base], float(np.nanmean(expected[:n_base])))
        found = detect_drift(meter_id, t[n_base:], chart_obs[n_base:], expected[n_base:], noise, settings)
    if settings.confirm_days > 0:
        found = confirmed_alarms(found, t, chart_obs - expected, int(settings.confirm_days))
    base_exp = np.where(np.isfinite(chart_obs[:n_base]), expected[:n_base], np.nan)
    ref = float(np.nanmean(base_exp)) if np.isfinite(base_exp).any() else None
    episodes = collapse_episodes(found, day_start_ns=t, residual=chart_obs - expected, expected=expected,
                                 reference_level=ref)
    if settings.min_excess_of_level_pct > 0 and ref is not None and ref > 0:
        episodes = [a for a in episodes
                    if not abs(a.magnitude_kwh_per_day) < settings.min_excess_of_level_pct / 100.0 * ref]
    if per_day != 1.0:
        episodes = [dataclasses.replace(a, magnitude_kwh_per_day=a.magnitude_kwh_per_day * per_day) for a in episodes]
    return episodes
