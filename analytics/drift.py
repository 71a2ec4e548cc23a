"""Drift: alerts from model residuals and meter behaviour.

* Consumption drift: tabular (Page) CUSUM and EWMA charts on standardised daily residuals
  (observed − expected), with a per-meter noise estimate that accounts for lag-1
  autocorrelation; estimated onset (the CUSUM's last zero before the alarm) and magnitude.
* Base-load drift: the same charts on a daily load statistic (night P5, weekend mean) from
  hourly data.
* Silent meter (no reading for N expected intervals) and stuck meter (frozen register).

Alerts carry ``cost_eur`` and ``co2_kg`` left empty; :func:`with_cost` fills them from
prices and emission factors given by the caller. Formulas: ``docs/analytics.md`` § Drift.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.optimize

from analytics.baseline import time_of_week
from analytics.consumption import NS_PER_S, IntervalConsumption, calendar_boundaries_ns
from terril.timeutil import local_tz

NS_PER_DAY = 86_400 * NS_PER_S
AlertKind = Literal["drift_up", "drift_down", "baseload_up", "baseload_down", "silent", "stuck"]


@dataclass(frozen=True, slots=True)
class NoiseEstimate:
    """Noise of a residual series on the baseline period.

    Attributes
    ----------
    mean_level : float
        Mean of the reference level (expected energy, or the baseline load statistic)
        used to express shifts in percent. [unit of the series]
    sigma : float
        Standard deviation of the residuals. [unit of the series]
    rho1 : float
        Lag-1 autocorrelation, clipped to [0, 0.9]. [1]
    bias : float
        Mean residual on the baseline period (removed before charting). [unit]
    """

    mean_level: float
    sigma: float
    rho1: float
    bias: float = 0.0

    @property
    def sigma_long_run(self) -> float:
        """Long-run standard deviation ``σ·sqrt((1 + ρ1)/(1 − ρ1))`` (AR(1)). [unit]"""
        return self.sigma * float(np.sqrt((1.0 + self.rho1) / (1.0 - self.rho1)))


def estimate_noise(residuals: np.ndarray, mean_level: float, *, remove_bias: bool = False) -> NoiseEstimate:
    """Noise estimate from baseline-period residuals.

    Parameters
    ----------
    residuals : ndarray of float
        Baseline residuals in time order (NaN = missing). [unit]
    mean_level : float
        Mean reference level (e.g. mean expected daily energy). [unit]
    remove_bias : bool
        Keep the mean residual as ``bias`` (for series whose reference is the baseline
        mean itself, e.g. base load).
    """
    r = np.asarray(residuals, dtype=float)
    rv = r[np.isfinite(r)]
    if rv.size < 3:
        raise ValueError("need at least 3 finite residuals")
    bias = float(rv.mean()) if remove_bias else 0.0
    c = r - rv.mean()
    pair = np.isfinite(c[1:]) & np.isfinite(c[:-1])
    den = float(np.nansum(c * c))
    rho = float(np.sum(c[1:][pair] * c[:-1][pair]) / den) if den > 0 else 0.0
    sigma = float(rv.std(ddof=1))
    return NoiseEstimate(float(mean_level), sigma, min(max(rho, 0.0), 0.9), bias)


@dataclass(frozen=True, slots=True)
class DriftSettings:
    """Chart settings (defaults measured in ``tests/analytics`` and reported in the docs).

    Attributes
    ----------
    target_shift_pct : float
        Shift the CUSUM is tuned for, in percent of the mean level. [%]
    k_min : float
        Floor on the standardised reference value k (guards against the slow bias of
        an estimated baseline when the target shift is small against the noise). [1]
    k_fraction : float
        CUSUM reference value as a fraction of the target shift (0.5 = half). [1]
    arl0_days : float
        In-control average run length aimed at by each one-sided CUSUM (sets h by
        Siegmund's approximation). [day]
    ewma_lambda : float
        EWMA smoothing constant λ. [1]
    ewma_l : float
        EWMA limit in standard deviations of the EWMA statistic. [1]
    two_sided : bool
        Also raise downward alerts (savings or a meter fault).
    use_ewma : bool
        Run the EWMA chart beside the CUSUM (an alarm of either raises the alert).
    sigma_inflation : float
        Factor on the noise estimated in-sample on the baseline period (out-of-sample
        residuals of a fitted model are wider). [1]
    min_magnitude_pct : float
        Alerts whose mean residual from onset to detection is below this share of the
        expected energy are dropped (:func:`detect_drift_scaled`). [%]
    small_shift_pct : float
        When > 0, a second one-sided CUSUM (no EWMA) tuned for this smaller shift runs beside the
        charts (:func:`detect_drift_scaled`): a ramp accumulates there long before it is a large
        step. 0 = off. [%]
    small_shift_arl0_days : float
        In-control ARL of that CUSUM. [day]
    min_excess_of_level_pct : float
        Episodes whose daily excess is below this share of the meter's typical level (its mean
        expected level on the baseline) are dropped (:func:`analytics.drift_models.chart_drift`): a
        water meter's few litres above a near-zero summer expectation are no leak. [%]
    noise_by_weekday : bool
        Widen the noise of the days of the week whose baseline residuals are wider than the scaled
        noise says (:func:`weekday_noise_factors`; :func:`detect_drift_scaled` only): a sports hall's
        Saturdays, with or without a match, are not as predictable as its Tuesdays.
    confirm_days : int
        Days after an alarm over which the mean residual must stay at least half the alarm's
        magnitude for it to be raised, then at the end of those days
        (:func:`analytics.drift_models.chart_drift`); 0 = raised at once. A leak goes on; one day of
        use on a public holiday does not. [day]
    winsor_z : float
        When > 0, the standardised residuals are clipped to ±``winsor_z`` before they enter the CUSUMs and
        the EWMA (:func:`run_charts`; the robust CUSUM of Lucas & Crosier 1982): one day far out — a day
        of use on a public holiday, a one-off event — cannot raise an alarm alone, a lasting shift still
        does. Used instead of ``confirm_days`` on gas and heat. [1]
    weighted_noise_fit : bool
        Fit the scaled noise by weighted least squares (:func:`estimate_scaled_noise` with ``weighted``):
        the days of largest use no longer set the noise of the days of least (:func:`detect_drift_scaled`
        only).
    """

    target_shift_pct: float = 10.0
    k_fraction: float = 0.5
    k_min: float = 0.25
    arl0_days: float = 12000.0
    ewma_lambda: float = 0.2
    ewma_l: float = 4.3
    two_sided: bool = True
    use_ewma: bool = True
    sigma_inflation: float = 1.0
    min_magnitude_pct: float = 0.0
    small_shift_pct: float = 0.0
    small_shift_arl0_days: float = 20000.0
    min_excess_of_level_pct: float = 0.0
    noise_by_weekday: bool = False
    confirm_days: int = 0
    winsor_z: float = 0.0
    weighted_noise_fit: bool = False


DEFAULT_DRIFT = DriftSettings()
#: Base load: tuned for a 15 % rise.
DEFAULT_BASELOAD = DriftSettings(target_shift_pct=15.0, arl0_days=3000.0, two_sided=False)


@dataclass(frozen=True, eq=False)
class Evidence:
    """The series behind an alert, from onset to detection.

    Attributes
    ----------
    time_ns : ndarray of int64
        Day starts. [UTC ns]
    residual : ndarray of float
        Observed − expected. [kWh/day, or W for base load]
    statistic : ndarray of float
        CUSUM statistic on the same days (standardised). [1]
    """

    time_ns: np.ndarray
    residual: np.ndarray
    statistic: np.ndarray


@dataclass(frozen=True, eq=False)
class Alert:
    """One alert.

    Attributes
    ----------
    kind : str
        ``drift_up``, ``drift_down``, ``baseload_up``, ``baseload_down``, ``silent``, ``stuck``.
    meter : str
        Meter id.
    onset_ns : int
        Estimated start of the problem. [UTC ns]
    detected_ns : int
        When the alert could be raised (end of the day or interval that triggered it). [UTC ns]
    magnitude_kwh_per_day : float
        Extra (or missing, negative) energy per day; NaN when not applicable. [kWh/day]
    magnitude_pct : float
        Excess over the alert's period as a share of the expected consumption over the same days
        (ratio of sums, :func:`episode_share_pct`); NaN when that share is not meaningful (expected
        level near zero or negative). [%]
    evidence : Evidence or None
        Residual series behind the alert.
    state : str
        ``open`` or ``closed`` (silent/stuck episode that has ended).
    cost_eur : float or None
        Cost of the excess from onset to ``until_ns`` (the jobs: the end of a closed episode, the end
        of the analysed data for an open one; detection by default), filled by :func:`with_cost`. [EUR]
    co2_kg : float or None
        Emissions of the excess, filled by :func:`with_cost`. [kg CO2e]
    magnitude_w : float
        Base load: the rise of the night load. Otherwise NaN. [W]
    days : int
        Days with a residual from onset to detection (weights the merge of episodes). [day]
    expected_per_day : float
        Mean expected level on those days (the share's denominator per day). [unit of the series]
    end_ns : int or None
        End of a ``closed`` episode (the meter spoke again, the register moved, the consumption came
        back to its expected level); None while it lasts. [UTC ns]
    """

    kind: str
    meter: str
    onset_ns: int
    detected_ns: int
    magnitude_kwh_per_day: float
    magnitude_pct: float
    evidence: Evidence | None
    state: str
    cost_eur: float | None = None
    co2_kg: float | None = None
    magnitude_w: float = float("nan")
    days: int = 0
    expected_per_day: float = float("nan")
    end_ns: int | None = None


#: A share of the expected consumption is stated only when the expected level over the alert's days is at
#: least this fraction of the meter's typical level (its mean expected level on the baseline period): a
#: percent of a near-zero expectation (gas in late spring, a water meter at night) means nothing. [1]
MIN_SHARE_LEVEL_FRACTION = 0.15


def episode_share_pct(excess_sum: float, expected_sum: float, days: int, reference_level: float | None = None
                      ) -> float:
    """Excess as a share of the expected consumption over the same days: ``100·Σr/ΣE`` (a ratio of sums).

    NaN when the expected sum is not positive, or when its mean per day is below
    :data:`MIN_SHARE_LEVEL_FRACTION` of ``reference_level`` (the meter's typical level), when given. [%]
    """
    if days <= 0 or not np.isfinite(expected_sum) or not np.isfinite(excess_sum) or expected_sum <= 0:
        return float("nan")
    if reference_level is not None and np.isfinite(reference_level) and reference_level > 0:
        if expected_sum / days < MIN_SHARE_LEVEL_FRACTION * reference_level:
            return float("nan")
    return 100.0 * excess_sum / expected_sum


def with_cost(alert: Alert, price_eur_per_kwh: float, co2_kg_per_kwh: float, until_ns: int | None = None) -> Alert:
    """Copy of ``alert`` with cost and CO2 of the excess from onset to ``until_ns``.

    ``cost = magnitude_kwh_per_day × days × price``; ``until_ns`` defaults to
    ``detected_ns``. Alerts without a magnitude keep None.
    """
    if not np.isfinite(alert.magnitude_kwh_per_day):
        return alert
    end = alert.detected_ns if until_ns is None else until_ns
    days = max(end - alert.onset_ns, 0) / NS_PER_DAY
    kwh = alert.magnitude_kwh_per_day * days
    return dataclasses.replace(alert, cost_eur=kwh * price_eur_per_kwh, co2_kg=kwh * co2_kg_per_kwh)


# ---------------------------------------------------------------------------------------
# charts (vectorised over meters: arrays of shape (meters, days))


def siegmund_arl(k: float, h: float) -> float:
    """Siegmund's approximation of a one-sided CUSUM's in-control ARL (iid N(0,1)). [periods]"""
    if k <= 0:
        b = h + 1.166
        return b * b
    b = h + 1.166
    x = 2.0 * k * b
    if x > 700.0:
        return float("inf")
    return float((np.exp(x) - x - 1.0) / (2.0 * k * k))


def decision_interval(k: float, arl0: float) -> float:
    """CUSUM decision interval h giving in-control ARL ``arl0`` for reference value ``k``."""
    return float(scipy.optimize.brentq(lambda h: siegmund_arl(k, h) - arl0, 0.0, 500.0))


@dataclass(frozen=True, eq=False)
class ChartRun:
    """Result of running the charts over a block of series.

    Attributes
    ----------
    upper, lower : ndarray (meters, days)
        CUSUM statistics C+ and C− (after the day's update, before any reset). [1]
    ewma : ndarray (meters, days)
        EWMA statistic of the standardised residuals. [1]
    alarm_up, alarm_down : ndarray of bool (meters, days)
        Days on which an upward / downward alarm fired (charts reset after each alarm).
    """

    upper: np.ndarray
    lower: np.ndarray
    ewma: np.ndarray
    alarm_up: np.ndarray
    alarm_down: np.ndarray


def chart_parameters(noise_sigma: np.ndarray, noise_rho: np.ndarray, mean_level: np.ndarray,
                     settings: DriftSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-series (σ_LR, k, h, EWMA steady-state factor) for :func:`run_charts`."""
    sigma = np.asarray(noise_sigma, dtype=float)
    rho = np.clip(np.asarray(noise_rho, dtype=float), 0.0, 0.9)
    sigma_lr = sigma * np.sqrt((1.0 + rho) / (1.0 - rho))
    shift_z = settings.target_shift_pct / 100.0 * np.abs(np.asarray(mean_level, dtype=float)) / sigma_lr
    k = np.clip(settings.k_fraction * shift_z, settings.k_min, 3.0)
    uniq = {float(x): decision_interval(float(x), settings.arl0_days) for x in np.unique(np.round(k, 4))}
    h = np.array([uniq[float(x)] for x in np.round(k, 4).ravel()]).reshape(k.shape)
    lam = settings.ewma_lambda
    a = rho * (1.0 - lam)
    ewma_var = lam / (2.0 - lam) * (1.0 + a) / (1.0 - a)
    return sigma_lr, k, h, ewma_var


def run_charts(residuals: np.ndarray, noise_sigma: np.ndarray, noise_rho: np.ndarray, mean_level: np.ndarray,
               settings: DriftSettings = DEFAULT_DRIFT, bias: np.ndarray | float = 0.0) -> ChartRun:
    """Tabular CUSUM and EWMA on standardised residuals, for many series at once.

    ``z = (r − bias)/σ_LR``, ``C+ = max(0, C+ + z − k)``, ``C− = max(0, C− − z − k)``,
    alarm when ``C > h``; EWMA ``Z = λ·(r − bias)/σ + (1 − λ)·Z`` with limit
    ``L·sqrt(λ/(2 − λ)·(1 + ρ(1−λ))/(1 − ρ(1−λ))·(1 − (1 − λ)^{2t}))``. A missing day
    (NaN) leaves the charts unchanged. Both charts restart from 0 after any alarm.

    Parameters
    ----------
    residuals : ndarray (meters, days) or (days,)
        Observed − expected. [unit]
    noise_sigma, noise_rho, mean_level : ndarray (meters,) or float
        Per-series noise σ [unit], lag-1 autocorrelation [1], mean level [unit].
    settings : DriftSettings
        Chart settings.
    bias : ndarray (meters,) or float
        Subtracted from the residuals. [unit]
    """
    r = np.atleast_2d(np.asarray(residuals, dtype=float))
    m, n = r.shape
    sigma = np.broadcast_to(np.asarray(noise_sigma, dtype=float), (m,))
    rho = np.broadcast_to(np.asarray(noise_rho, dtype=float), (m,))
    level = np.broadcast_to(np.asarray(mean_level, dtype=float), (m,))
    sigma_lr, k, h, ewma_var = chart_parameters(sigma, rho, level, settings)
    rr = r - np.broadcast_to(np.asarray(bias, dtype=float), (m,))[:, None]
    z = rr / sigma_lr[:, None]
    ze = rr / sigma[:, None]
    if settings.winsor_z > 0:
        # robust CUSUM (Lucas & Crosier 1982): one day far out (a day of use on a public holiday) moves the
        # charts by at most winsor_z noise units, so it alone cannot raise an alarm; a lasting shift still does
        z = np.clip(z, -settings.winsor_z, settings.winsor_z)
        ze = np.clip(ze, -settings.winsor_z, settings.winsor_z)
    lam = settings.ewma_lambda
    up = np.zeros((m, n))
    lo = np.zeros((m, n))
    ew = np.zeros((m, n))
    a_up = np.zeros((m, n), dtype=bool)
    a_lo = np.zeros((m, n), dtype=bool)
    cp = np.zeros(m)
    cm = np.zeros(m)
    e = np.zeros(m)
    steps = np.zeros(m)
    for i in range(n):
        zi = z[:, i]
        ok = np.isfinite(zi)
        zi = np.where(ok, zi, 0.0)
        cp = np.where(ok, np.maximum(0.0, cp + zi - k), cp)
        cm = np.where(ok, np.maximum(0.0, cm - zi - k), cm)
        e = np.where(ok, lam * np.where(ok, ze[:, i], 0.0) + (1.0 - lam) * e, e)
        steps = steps + ok
        up[:, i], lo[:, i], ew[:, i] = cp, cm, e
        al_up = cp > h
        al_lo = cm > h
        if settings.use_ewma:
            lim = settings.ewma_l * np.sqrt(ewma_var * (1.0 - (1.0 - lam) ** (2.0 * steps)))
            al_up |= ok & (e > lim)
            al_lo |= ok & (e < -lim)
        if not settings.two_sided:
            al_lo[:] = False
        a_up[:, i], a_lo[:, i] = al_up, al_lo
        fired = al_up | al_lo
        if fired.any():
            cp = np.where(fired, 0.0, cp)
            cm = np.where(fired, 0.0, cm)
            e = np.where(fired, 0.0, e)
            steps = np.where(fired, 0.0, steps)
    return ChartRun(up, lo, ew, a_up, a_lo)


def _alerts_from_run(kind_up: str, kind_down: str, meter: str, day_start_ns: np.ndarray, resid: np.ndarray,
                     level: np.ndarray, run: ChartRun, per_day_factor: float,
                     reference_level: float | None = None) -> list[Alert]:
    alerts: list[Alert] = []
    t = np.asarray(day_start_ns, dtype=np.int64)
    n = t.size
    last_reset = 0
    fired = np.flatnonzero(run.alarm_up[0] | run.alarm_down[0])
    for i in fired.tolist():
        upward = bool(run.alarm_up[0, i])
        stat = run.upper[0] if upward else run.lower[0]
        zeros = np.flatnonzero(stat[last_reset : i + 1] == 0.0)
        on = min(last_reset + (int(zeros[-1]) + 1 if zeros.size else 0), i)
        seg = slice(on, i + 1)
        r = resid[seg]
        both = np.isfinite(r) & np.isfinite(level[seg])
        nd = int(both.sum())
        mag = float(np.mean(r[both])) if nd else float("nan")
        lvl = float(np.mean(level[seg][both])) if nd else float("nan")
        end = int(t[i + 1]) if i + 1 < n else int(t[i]) + NS_PER_DAY
        alerts.append(Alert(
            kind=kind_up if upward else kind_down,
            meter=meter,
            onset_ns=int(t[on]),
            detected_ns=end,
            magnitude_kwh_per_day=mag * per_day_factor,
            magnitude_pct=episode_share_pct(mag * nd, lvl * nd, nd, reference_level),
            evidence=Evidence(t[seg].copy(), r.copy(), stat[seg].copy()),
            state="open",
            days=nd,
            expected_per_day=lvl,
        ))
        last_reset = i + 1
    return alerts


def detect_drift(
    meter: str,
    day_start_ns: np.ndarray,
    observed_kwh: np.ndarray,
    expected_kwh: np.ndarray,
    noise: NoiseEstimate,
    settings: DriftSettings = DEFAULT_DRIFT,
) -> tuple[Alert, ...]:
    """Consumption-drift alerts for one meter from daily observed and expected energy.

    Parameters
    ----------
    meter : str
        Meter id.
    day_start_ns : ndarray of int64
        Local day starts of the monitored days. [UTC ns]
    observed_kwh, expected_kwh : ndarray of float
        Measured and baseline-model energy per day (NaN = missing). [kWh/day]
    noise : NoiseEstimate
        From the baseline residuals (:func:`estimate_noise`).
    settings : DriftSettings
        Chart settings.

    Returns
    -------
    tuple of Alert
        ``drift_up`` / ``drift_down`` alerts; onset = day after the CUSUM's last zero before
        the alarm, magnitude = mean residual from onset to detection.
    """
    obs = np.asarray(observed_kwh, dtype=float)
    exp = np.asarray(expected_kwh, dtype=float)
    resid = obs - exp
    run = run_charts(resid[None, :], noise.sigma, noise.rho1, noise.mean_level, settings, noise.bias)
    return tuple(_alerts_from_run("drift_up", "drift_down", meter, day_start_ns, resid - noise.bias, exp, run, 1.0,
                                  noise.mean_level))


# ---------------------------------------------------------------------------------------
# base load


def daily_load_statistic(
    times_ns: np.ndarray,
    power_w: np.ndarray,
    *,
    tz: dt.tzinfo | None = None,
    hours: tuple[int, int] = (0, 5),
    statistic: Literal["p5", "mean"] = "p5",
    day_mask: np.ndarray | None = None,
    boundaries_ns: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per local day, a statistic of the load in a window of local hours.

    Night base load: ``hours=(0, 5), statistic="p5"`` (5th percentile, linear
    interpolation). Weekend load: ``hours=(0, 24), statistic="mean"`` with ``day_mask``
    selecting weekends and holidays.

    Parameters
    ----------
    times_ns : ndarray of int64
        Start of each (hourly) reading. [UTC ns]
    power_w : ndarray of float
        Mean power over each reading interval. [W]
    tz : tzinfo
        Calendar time zone.
    hours : (int, int)
        Local hour window ``[start, end)``.
    statistic : {"p5", "mean"}
        Statistic per day.
    day_mask : ndarray of bool, optional
        Per day of the output, whether to compute it (NaN otherwise).
    boundaries_ns : ndarray of int64, optional
        Precomputed day boundaries.

    Returns
    -------
    (day_start_ns, value_w)
        Day starts [UTC ns] and the statistic (NaN for days without data) [W].
    """
    tz = tz or local_tz()
    t = np.asarray(times_ns, dtype=np.int64)
    x = np.asarray(power_w, dtype=float)
    ok = np.isfinite(x)
    t, x = t[ok], x[ok]
    days = boundaries_ns if boundaries_ns is not None else calendar_boundaries_ns(int(t[0]), int(t[-1]), "day", tz)
    days = np.asarray(days, dtype=np.int64)
    nd = days.size - 1
    di = np.searchsorted(days, t, side="right") - 1
    local_h = time_of_week(t, tz) % 24
    sel = (di >= 0) & (di < nd) & (local_h >= hours[0]) & (local_h < hours[1])
    di, xs = di[sel], x[sel]
    out = np.full(nd, np.nan)
    if statistic == "mean":
        s = np.bincount(di, weights=xs, minlength=nd)
        c = np.bincount(di, minlength=nd)
        out = np.where(c > 0, s / np.maximum(c, 1), np.nan)
    elif statistic == "p5":
        order = np.lexsort((xs, di))
        di_s, xs_s = di[order], xs[order]
        c = np.bincount(di_s, minlength=nd)
        start = np.r_[0, np.cumsum(c)[:-1]]
        has = c > 0
        pos = 0.05 * (c - 1)
        lo = np.floor(pos).astype(np.int64)
        frac = pos - lo
        hi = np.minimum(lo + 1, np.maximum(c - 1, 0))
        a = xs_s[np.clip(start + lo, 0, max(xs_s.size - 1, 0))] if xs_s.size else np.zeros(nd)
        b = xs_s[np.clip(start + hi, 0, max(xs_s.size - 1, 0))] if xs_s.size else np.zeros(nd)
        out = np.where(has, a + frac * (b - a), np.nan)
    else:
        raise ValueError("statistic must be 'p5' or 'mean'")
    if day_mask is not None:
        out = np.where(np.asarray(day_mask, dtype=bool), out, np.nan)
    return days[:-1].copy(), out


def detect_baseload_drift(
    meter: str,
    day_start_ns: np.ndarray,
    load_w: np.ndarray,
    n_baseline_days: int,
    settings: DriftSettings = DEFAULT_BASELOAD,
    expected_kwh_per_day: np.ndarray | None = None,
) -> tuple[Alert, ...]:
    """Base-load alerts: charts on a daily load statistic against its baseline mean.

    The first ``n_baseline_days`` days set the mean, σ and ρ1; the following days are
    monitored. ``magnitude_w`` is the rise of the load, ``magnitude_kwh_per_day`` the rise × 24 h
    (a base load runs all day). ``magnitude_pct`` is that energy as a share of
    ``expected_kwh_per_day`` (the meter's expected daily consumption over the alert's days),
    NaN without it: a percent of the night load itself is not a share of any consumption.
    [W in, kWh/day out]

    Parameters
    ----------
    expected_kwh_per_day : ndarray of float, optional
        Expected daily consumption of the meter on ``day_start_ns`` (its drift model). [kWh/day]
    """
    x = np.asarray(load_w, dtype=float)
    t = np.asarray(day_start_ns, dtype=np.int64)
    base = x[:n_baseline_days]
    if np.isfinite(base).sum() < 10:
        raise ValueError("need at least 10 baseline days with a value")
    mean = float(np.nanmean(base))
    noise = estimate_noise(base - mean, mean)
    mon = x[n_baseline_days:] - mean
    level = np.full(mon.size, mean)
    run = run_charts(mon[None, :], noise.sigma, noise.rho1, mean, settings)
    found = _alerts_from_run("baseload_up", "baseload_down", meter, t[n_baseline_days:], mon, level, run, 24.0 / 1000.0)
    out = []
    for a in found:
        rise_w = a.magnitude_kwh_per_day * 1000.0 / 24.0
        pct = float("nan")
        if expected_kwh_per_day is not None:
            e = np.asarray(expected_kwh_per_day, dtype=float)
            on = (t >= a.onset_ns) & (t < a.detected_ns) & np.isfinite(e)
            ref = e[:n_baseline_days]
            pct = episode_share_pct(a.magnitude_kwh_per_day * int(on.sum()), float(e[on].sum()), int(on.sum()),
                                    float(np.nanmean(ref)) if np.isfinite(ref).any() else None)
        out.append(dataclasses.replace(a, magnitude_w=rise_w, magnitude_pct=pct,
                                       expected_per_day=float(np.nanmean(e[on])) if expected_kwh_per_day is not None
                                       and on.any() else float("nan")))
    return tuple(out)


# ---------------------------------------------------------------------------------------
# silent and stuck meters


def detect_silent(
    meter: str,
    times_ns: np.ndarray,
    *,
    expected_interval_s: float,
    missing_intervals: int,
    now_ns: int | None = None,
    interval_s_per_gap: np.ndarray | None = None,
) -> tuple[Alert, ...]:
    """Silent-meter alerts: no reading for ``missing_intervals`` expected intervals.

    A gap inside the history gives a ``closed`` alert (ending at the next reading); a gap still
    running at ``now_ns`` gives an ``open`` one. ``interval_s_per_gap`` (one per pair of successive
    readings) replaces the expected interval where the data have their own, coarser step
    (:func:`analytics.consumption.data_step_s`). Onset = last reading + one interval; detection = last reading
    + ``missing_intervals`` intervals.
    """
    t = np.asarray(times_ns, dtype=np.int64)
    step = int(expected_interval_s * NS_PER_S)
    limit = missing_intervals * step
    alerts: list[Alert] = []
    nan = float("nan")
    if t.size >= 2:
        gaps = np.diff(t)
        steps = (np.asarray(interval_s_per_gap, dtype=float) * NS_PER_S).astype(np.int64) \
            if interval_s_per_gap is not None else np.full(gaps.size, step, dtype=np.int64)
        for i in np.flatnonzero(gaps > missing_intervals * steps).tolist():
            st = int(steps[i])
            alerts.append(Alert("silent", meter, int(t[i]) + st, int(t[i]) + missing_intervals * st, nan, nan,
                                None, "closed", end_ns=int(t[i + 1])))
    if now_ns is not None and t.size and now_ns - int(t[-1]) > limit:
        alerts.append(Alert("silent", meter, int(t[-1]) + step, int(t[-1]) + limit, nan, nan, None, "open"))
    return tuple(alerts)


def detect_stuck(meter: str, consumption: IntervalConsumption, *, min_intervals: int | None = None) -> tuple[Alert, ...]:
    """Stuck-meter alerts from the ``stuck`` mask of an :class:`IntervalConsumption`.

    Onset = start of the frozen run; detection = end of its ``min_intervals``-th interval
    (default: the run's first interval); ``closed`` when the register moved again
    before the end of the data.
    """
    s = consumption.stuck
    if not s.any():
        return ()
    edges = np.diff(np.r_[0, s.astype(np.int8), 0])
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    nan = float("nan")
    out = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        k = a + (min_intervals - 1 if min_intervals else 0)
        k = min(k, b - 1)
        state = "closed" if b < s.size else "open"
        out.append(Alert("stuck", meter, int(consumption.start_ns[a]), int(consumption.end_ns[k]), nan, nan, None, state,
                         end_ns=int(consumption.end_ns[b - 1]) if state == "closed" else None))
    return tuple(out)


# ---------------------------------------------------------------------------------------
# heteroscedastic residuals (noise that grows with the expected energy)


@dataclass(frozen=True, slots=True)
class ScaledNoise:
    """Noise of daily residuals whose spread grows with the expected energy.

    ``σ_d = sqrt(σ0² + (c·E_d)²)``, fitted on the baseline residuals (non-negative least squares
    of r² on [1, E²]); ``rho1`` is the lag-1 autocorrelation of the standardised residuals
    ``r/σ_d``, clipped to [0, 0.9].

    Attributes
    ----------
    sigma0 : float
        Spread that does not depend on the level. [unit of the series]
    cv : float
        Spread proportional to the expected level. [1]
    rho1 : float
        Lag-1 autocorrelation of the standardised residuals. [1]
    floor : float
        Smallest σ_d allowed (guards days of near-zero expected energy). [unit]
    """

    sigma0: float
    cv: float
    rho1: float
    floor: float

    def sigma(self, expected: np.ndarray) -> np.ndarray:
        """σ_d for expected levels ``expected`` (NaN where expected is NaN). [unit]"""
        e = np.asarray(expected, dtype=float)
        return np.maximum(np.sqrt(self.sigma0 ** 2 + (self.cv * e) ** 2), self.floor)


#: Rounds of the weighted fit of the scaled noise (:func:`estimate_scaled_noise`).
NOISE_FIT_ROUNDS = 5


def estimate_scaled_noise(residuals: np.ndarray, expected: np.ndarray, *, floor_fraction: float = 0.01,
                          weighted: bool = False) -> ScaledNoise:
    """Fit :class:`ScaledNoise` on baseline residuals and expected values.

    ``σ0²`` and ``c²`` by non-negative least squares of ``r²`` on ``[1, E²]``. Unweighted, the days of
    largest variance (a winter's heating days) set the fit, and ``σ0`` takes up their misfit: a workshop's
    electricity whose summer days (26 kWh) spread 4 kWh got σ0 = 9.5 kWh from its winter days (600 kWh;
    docs/analytics.md §7.2, fourth round), and a 20 % step in July took weeks to show. With ``weighted``,
    each day's ``r²`` is weighted by the inverse square of its variance under the previous fit (``r²`` of a
    day of variance ``v`` has variance ``2v²``: the least squares of a variance function), iterated
    :data:`NOISE_FIT_ROUNDS` times from the unweighted fit, variances floored at the floor below.

    Parameters
    ----------
    residuals, expected : ndarray of float
        Baseline residuals and expected values per day (NaN = missing). [unit]
    floor_fraction : float
        σ_d floor as a fraction of the mean expected level. [1]
    weighted : bool
        The weighted fit (above).
    """
    r = np.asarray(residuals, dtype=float)
    e = np.asarray(expected, dtype=float)
    ok = np.isfinite(r) & np.isfinite(e)
    if ok.sum() < 10:
        raise ValueError("need at least 10 days with residual and expected value")
    a = np.column_stack([np.ones(int(ok.sum())), e[ok] ** 2])
    coef, _ = scipy.optimize.nnls(a, r[ok] ** 2)
    floor = max(floor_fraction * float(np.mean(np.abs(e[ok]))), 1e-12)
    if weighted:
        for _ in range(NOISE_FIT_ROUNDS):
            v = np.maximum(a @ coef, floor ** 2)
            coef, _ = scipy.optimize.nnls(a / v[:, None], r[ok] ** 2 / v)
    noise = ScaledNoise(float(np.sqrt(coef[0])), float(np.sqrt(coef[1])), 0.0, floor)
    z = np.where(ok, r / noise.sigma(e), np.nan)
    # the autocorrelation of the days that carry the signal (heating season, working days): a slow misfit
    # on days of near-zero use (a boiler's summer hot water) must not widen the chart all year
    busy = ok & (e >= np.nanmedian(e[ok]))
    z = np.where(busy, z, np.nan)
    rho = estimate_noise(z, 1.0).rho1
    return dataclasses.replace(noise, rho1=rho)


#: Fewest baseline days of a day of the week with a residual for its own noise factor. [day]
MIN_WEEKDAY_NOISE_DAYS = 20
#: Smallest noise factor of a day of the week: the charts are only ever widened, never narrowed (narrowing
#: the quiet days of the week raised the false alarms of the tuning seeds from 0.10 to 0.21 per meter-year). [1]
WEEKDAY_NOISE_FLOOR = 1.0


def weekday_noise_factors(day_start_ns: np.ndarray, z: np.ndarray, n_baseline_days: int,
                          min_days: int = MIN_WEEKDAY_NOISE_DAYS) -> np.ndarray:
    """Per day, a factor ≥ 1 on the noise: the RMS of the standardised baseline residuals ``z`` of
    its day of the week (local), where above 1. A day of the week with fewer than ``min_days``
    baseline residuals keeps 1. The scaled noise (:class:`ScaledNoise`) is one law for all days; a
    day of the week whose use is bimodal (a sports hall's Saturdays, with or without a match) is
    wider than it says, and its spikes would add up in the CUSUM as a drift. [1]
    """
    t = np.asarray(day_start_ns, dtype=np.int64)
    zz = np.asarray(z, dtype=float)
    # local day of the week, 0 = Monday (a local midnight is at most 14 h from its UTC midnight)
    weekday = ((t + NS_PER_DAY // 2) // NS_PER_DAY + 3) % 7
    out = np.ones(t.size)
    nb = int(n_baseline_days)
    for wd in range(7):
        base = zz[:nb][(weekday[:nb] == wd) & np.isfinite(zz[:nb])]
        if base.size >= min_days:
            out[weekday == wd] = max(WEEKDAY_NOISE_FLOOR, float(np.sqrt(np.mean(base ** 2))))
    return out


def detect_drift_scaled(
    meter: str,
    day_start_ns: np.ndarray,
    observed_kwh: np.ndarray,
    expected_kwh: np.ndarray,
    n_baseline_days: int,
    settings: DriftSettings = DEFAULT_DRIFT,
) -> tuple[Alert, ...]:
    """Consumption-drift alerts with a noise that grows with the expected energy.

    The first ``n_baseline_days`` days (the model's fitting period) give the noise
    (:func:`estimate_scaled_noise`); the following days are monitored. Charts run on
    ``z_d = r_d/σ_d``; the CUSUM is tuned for a shift of ``target_shift_pct`` of the expected
    energy, i.e. ``median(target·E_d/σ_d)`` in z units. Alerts whose magnitude (mean residual
    from onset to detection) is below ``min_magnitude_pct`` of the expected energy are dropped.

    Parameters
    ----------
    meter : str
        Meter id.
    day_start_ns : ndarray of int64
        Local day starts of all days (baseline then monitored). [UTC ns]
    observed_kwh, expected_kwh : ndarray of float
        Measured and modelled energy per day (NaN = missing). [kWh/day]
    n_baseline_days : int
        Days of the baseline period at the start of the arrays. [day]
    settings : DriftSettings
        Chart settings.
    """
    t = np.asarray(day_start_ns, dtype=np.int64)
    obs = np.asarray(observed_kwh, dtype=float)
    exp = np.asarray(expected_kwh, dtype=float)
    resid = obs - exp
    nb = int(n_baseline_days)
    noise = estimate_scaled_noise(resid[:nb], exp[:nb], weighted=settings.weighted_noise_fit)
    sig = noise.sigma(exp) * settings.sigma_inflation
    if settings.noise_by_weekday:
        sig = sig * weekday_noise_factors(t, resid / noise.sigma(exp), nb)
    z = resid / sig
    eb = np.where(np.isfinite(obs[:nb]), exp[:nb], np.nan)  # the days charted (observed), not the others
    shift = settings.target_shift_pct / 100.0 * np.abs(eb) / noise.sigma(eb) / settings.sigma_inflation
    shift_med = float(np.nanmedian(shift)) if np.isfinite(shift).any() else 1.0
    level = shift_med / (settings.target_shift_pct / 100.0)
    run = run_charts(z[None, nb:], 1.0, noise.rho1, level, settings)
    ref = float(np.nanmean(eb)) if np.isfinite(eb).any() else None
    found = _alerts_from_run("drift_up", "drift_down", meter, t[nb:], resid[nb:], exp[nb:], run, 1.0, ref)
    if settings.small_shift_pct > 0:
        # a CUSUM for small shifts beside the charts: a slow ramp builds up there before it is a big step
        small = dataclasses.replace(settings, target_shift_pct=settings.small_shift_pct, use_ewma=False,
                                    arl0_days=settings.small_shift_arl0_days)
        run_s = run_charts(z[None, nb:], 1.0, noise.rho1, level, small)
        found += _alerts_from_run("drift_up", "drift_down", meter, t[nb:], resid[nb:], exp[nb:], run_s, 1.0, ref)
    # an alert without a meaningful share (expected level near zero) is kept: its excess is stated per day
    return tuple(a for a in found if not abs(a.magnitude_pct) < settings.min_magnitude_pct)
