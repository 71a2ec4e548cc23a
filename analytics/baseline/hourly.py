"""Hourly models: the time-of-week-and-temperature (TOWT) model for interval data, and the hourly
change-point model of a heating plant (one balance point, occupied and unoccupied hours).

Part of :mod:`analytics.baseline`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from analytics.baseline.metrics import (
    FitMetrics,
    Gl14Verdict,
    _Gate,
    fit_metrics,
    gl14_verdict,
)
from terril.timeutil import local_tz

#: TOWT temperature knots: CalTRACK 30, 45, 55, 65, 75, 90 °F in °C.
TOWT_KNOTS_C: tuple[float, ...] = tuple(round((f - 32.0) / 1.8, 2) for f in (30, 45, 55, 65, 75, 90))


def _offset_h(hour: int, tz: dt.tzinfo) -> int:
    off = dt.datetime.fromtimestamp(hour * 3600, tz).utcoffset()
    return int(off.total_seconds()) // 3600 if off is not None else 0


def _hour_offsets(h0: int, h1: int, tz: dt.tzinfo) -> np.ndarray:
    """UTC offset in whole hours for every UTC hour in ``[h0, h1]``: looked up twice per
    UTC day, hour by hour only on the days with a transition."""
    d0, d1 = h0 // 24, h1 // 24
    offs = np.empty((d1 - d0 + 1) * 24, dtype=np.int64)
    for k, d in enumerate(range(d0, d1 + 1)):
        a, b = _offset_h(d * 24, tz), _offset_h(d * 24 + 23, tz)
        if a == b:
            offs[k * 24 : (k + 1) * 24] = a
        else:
            offs[k * 24 : (k + 1) * 24] = [_offset_h(d * 24 + i, tz) for i in range(24)]
    return offs[h0 - d0 * 24 : h1 - d0 * 24 + 1]


def time_of_week(times_ns: np.ndarray, tz: dt.tzinfo | None = None, day_off: np.ndarray | None = None) -> np.ndarray:
    """Local hour of the week, 0 = Monday 00:00–01:00 … 167 = Sunday 23:00–24:00.

    Parameters
    ----------
    times_ns : ndarray of int64
        Interval start times. [UTC ns]
    tz : tzinfo
        Calendar time zone (default Europe/Paris).
    day_off : ndarray of bool, optional
        Per time, True on holidays and public holidays: those hours take Sunday's
        time-of-week, so the model treats them as a non-working day.
    """
    tz = tz or local_tz()
    t = np.asarray(times_ns, dtype=np.int64)
    if t.size == 0:
        return np.zeros(0, dtype=np.int64)
    hour = t // (3600 * 10**9)
    local_hour = hour + _hour_offsets(int(hour.min()), int(hour.max()), tz)[hour - hour.min()]
    # 1970-01-01 was a Thursday (weekday 3)
    tow = (local_hour + 3 * 24) % 168
    if day_off is not None:
        off = np.asarray(day_off, dtype=bool)
        tow = np.where(off, 6 * 24 + tow % 24, tow)
    return tow


def _temp_features(temp_c: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Piecewise-linear temperature features (Mathieu et al. 2011): one column per segment."""
    t = np.asarray(temp_c, dtype=float)
    if knots.size == 0:
        return t[:, None]
    cols = [np.minimum(t, knots[0])]
    for a, b in zip(knots[:-1], knots[1:]):
        cols.append(np.clip(t - a, 0.0, b - a))
    cols.append(np.maximum(t - knots[-1], 0.0))
    return np.column_stack(cols)


#: Irradiance knots of the hourly models' daylight term: piecewise-linear segments of the global horizontal
#: irradiance (the weather station's ``irradiance_w_m2``), with slopes per local hour of the day, occupied
#: or not. Lighting is dimmed as daylight grows and no more once the rooms are bright enough: most of the
#: response lies below a few hundred W/m² outside, so the segments are finer there. [W/m²]
IRRADIANCE_KNOTS_W_M2: tuple[float, ...] = (100.0, 250.0, 500.0)


def irradiance_features(irradiance_w_m2: np.ndarray, knots: tuple[float, ...] | np.ndarray = IRRADIANCE_KNOTS_W_M2
                        ) -> np.ndarray:
    """Piecewise-linear irradiance features, one column per segment (the same form as the temperature
    segments of TOWT), the irradiance clipped at zero. [W/m²]"""
    g = np.maximum(np.asarray(irradiance_w_m2, dtype=float), 0.0)
    return _temp_features(g, np.asarray(knots, dtype=float))


def _merge_knots(temp_c: np.ndarray, knots: tuple[float, ...], min_hours: int) -> np.ndarray:
    k = list(knots)
    while k:
        edges = np.r_[-np.inf, k, np.inf]
        counts = np.histogram(temp_c, bins=edges)[0]
        i = int(np.argmin(counts))
        if counts[i] >= min_hours:
            break
        # merge the sparse bin with a neighbour by removing one of its bounding knots
        del k[i if i < len(k) else i - 1]
    return np.asarray(k, dtype=float)


#: Irradiance slopes of a model fitted without irradiance.
_NO_IRRADIANCE = np.zeros((0, 0))


@dataclass(frozen=True, eq=False)
class TowtModel(_Gate):
    """A fitted hourly time-of-week-and-temperature model.

    ``E_h = α_tow(h) + Σ_j β_j^{occ(tow)}·f_j(T_h) [+ Σ_j γ_j^{occ(tow)}·g_j(G_h)]``: one coefficient per
    hour of the week, piecewise-linear temperature segments with separate slopes for occupied and
    unoccupied hours of the week (CalTRACK), and when fitted with it a daylight term on the global
    irradiance ``G_h`` per local hour of the day, occupied or not (:data:`IRRADIANCE_KNOTS_W_M2`; lighting
    follows daylight and clouds, and so does the import of a site with PV).

    Attributes
    ----------
    tow_coefs : ndarray, shape (168,) or (360,)
        α per hour of the week; with profiles (``alt_week``, ``closed``), 168–335 are the hours of
        the second week profile and 336–359 the hours of a closed day. [energy unit/h]
    occupied : ndarray of bool, same shape
        Occupancy of each hour of the week.
    knots_c : ndarray
        Temperature knots after merging sparse bins. [°C]
    slope_group : ndarray of int, same shape as ``tow_coefs``
        Slope group of each hour of the week (0 occupied, 1 unoccupied).
    slopes : ndarray, shape (2, segments)
        β per group and temperature segment. [energy unit/(h·K)]
    metrics : FitMetrics
        In-sample metrics.
    verdict : Gl14Verdict
        Hourly gate.
    disqualifications : tuple of str
        Data-sufficiency failures.
    tz : tzinfo
        Calendar time zone used for the time of week.
    irradiance_slopes : ndarray, shape (48, segments) or (0, 0)
        γ per local hour of the day, occupied or not (:func:`_irradiance_group`), and irradiance segment;
        empty without irradiance. [energy unit/h per W/m²]
    """

    tow_coefs: np.ndarray
    occupied: np.ndarray
    knots_c: np.ndarray
    slope_group: np.ndarray
    slopes: np.ndarray
    metrics: FitMetrics
    verdict: Gl14Verdict
    disqualifications: tuple[str, ...]
    tz: dt.tzinfo
    # (48, segments) [energy unit/h per W/m²]
    irradiance_slopes: np.ndarray = field(default_factory=lambda: _NO_IRRADIANCE)

    def predict(self, times_ns: np.ndarray, temp_c: np.ndarray, day_off: np.ndarray | None = None,
                alt_week: np.ndarray | None = None, closed: np.ndarray | None = None,
                irradiance_w_m2: np.ndarray | None = None) -> np.ndarray:
        """Expected energy per hour, never below zero. [energy unit/h]

        ``irradiance_w_m2`` (per hour) is required when the model was fitted with it."""
        tow = _profile_index(time_of_week(times_ns, self.tz, day_off), alt_week, closed, self.tow_coefs.size)
        f = _temp_features(temp_c, self.knots_c)
        out = self.tow_coefs[tow] + np.sum(f * self.slopes[self.slope_group[tow]], axis=1)
        out = out + _irradiance_term(self.irradiance_slopes, _irradiance_group(tow, self.slope_group), irradiance_w_m2)
        return np.maximum(out, 0.0)


def _irradiance_group(idx: np.ndarray, slope_group: np.ndarray) -> np.ndarray:
    """Group of the daylight term of each hour: its local hour of the day, occupied or not (0-47). The sun's
    height, and with it what the same irradiance does to the lighting and to a roof's PV, changes over the
    day."""
    return idx % 24 + 24 * slope_group[idx]


def _irradiance_term(slopes: np.ndarray, group: np.ndarray, irradiance_w_m2: np.ndarray | None) -> np.ndarray | float:
    """The daylight term of an hourly model: Σ_j γ_{g,j}·f_j(G) per hour (0 for a model without one)."""
    if slopes.size == 0:
        return 0.0
    if irradiance_w_m2 is None:
        raise ValueError("this model was fitted with irradiance: predict needs irradiance_w_m2")
    return np.sum(irradiance_features(irradiance_w_m2) * slopes[group], axis=1)


#: Coefficients of an hourly model with profiles: 168 hours of the normal week, 168 of the second
#: week profile, 24 hours of a closed day.
PROFILE_COEFS = 168 + 168 + 24


def _profile_index(tow: np.ndarray, alt_week: np.ndarray | None, closed: np.ndarray | None,
                   n_coefs: int) -> np.ndarray:
    """Index into the coefficients: hour of the week (0–167), of the second week profile
    (168–335) or hour of a closed day (336–359)."""
    if n_coefs <= 168:
        return tow
    idx = tow
    if alt_week is not None:
        idx = idx + 168 * np.asarray(alt_week, dtype=bool).astype(np.int64)
    if closed is not None:
        idx = np.where(np.asarray(closed, dtype=bool), 336 + tow % 24, idx)
    return idx


def _profiles(alt_week: np.ndarray | None, closed: np.ndarray | None) -> int:
    return PROFILE_COEFS if alt_week is not None or closed is not None else 168


def _fill_unseen(values: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Profile coefficients never seen in the baseline take the normal week's (the second week's
    hour from the same hour of the normal week, a closed day's hour from Sunday's)."""
    out = np.array(values, copy=True)
    if out.size > 168:
        out[168:336] = np.where(seen[168:336], out[168:336], out[:168])
        out[336:] = np.where(seen[336:], out[336:], out[144:168])
    return out


@dataclass(frozen=True, eq=False)
class _HourlyData:
    """Inputs of an hourly model as arrays, with their index into the profile coefficients."""

    t_ns: np.ndarray
    y: np.ndarray
    temp: np.ndarray
    n_tow: int
    tow: np.ndarray
    valid: np.ndarray
    dq: tuple[str, ...]

    @classmethod
    def of(cls, times_ns: np.ndarray, energy: np.ndarray, temp_c: np.ndarray, day_off: np.ndarray | None,
           alt_week: np.ndarray | None, closed: np.ndarray | None, tz: dt.tzinfo, min_coverage: float,
           irradiance_w_m2: np.ndarray | None = None) -> _HourlyData:
        t_ns = np.asarray(times_ns, dtype=np.int64)
        y = np.asarray(energy, dtype=float)
        temp = np.asarray(temp_c, dtype=float)
        n_tow = _profiles(alt_week, closed)
        tow = _profile_index(time_of_week(t_ns, tz, day_off), alt_week, closed, n_tow)
        valid = np.isfinite(y) & np.isfinite(temp)
        if irradiance_w_m2 is not None:
            valid &= np.isfinite(np.asarray(irradiance_w_m2, dtype=float))
        dq: list[str] = []
        if y.size == 0 or valid.mean() < min_coverage:
            dq.append("baseline.insufficient_hours")
        if np.bincount(tow[valid] % 168, minlength=168).min() < 1:
            dq.append("baseline.time_of_week_missing")
        return cls(t_ns, y, temp, n_tow, tow, valid, tuple(dq))


def _occupancy(tv: np.ndarray, yv: np.ndarray, towv: np.ndarray, n_tow: int, threshold: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """CalTRACK occupancy: an hour of the week is occupied when more than ``threshold`` of its residuals
    from a preliminary degree-hour fit are positive. Returns (occupied, seen) per profile coefficient."""
    pre = np.column_stack([np.ones(yv.size), np.maximum(10.0 - tv, 0.0), np.maximum(tv - (65 - 32) / 1.8, 0.0)])
    beta = np.linalg.lstsq(pre, yv, rcond=None)[0]
    counts = np.bincount(towv, minlength=n_tow)
    share = np.bincount(towv, weights=(yv - pre @ beta) > 0, minlength=n_tow) / np.maximum(counts, 1)
    seen = counts > 0
    return _fill_unseen(share, seen) > threshold, seen


def fit_towt(
    times_ns: np.ndarray,
    energy: np.ndarray,
    temp_c: np.ndarray,
    *,
    day_off: np.ndarray | None = None,
    alt_week: np.ndarray | None = None,
    closed: np.ndarray | None = None,
    tz: dt.tzinfo | None = None,
    knots_c: tuple[float, ...] = TOWT_KNOTS_C,
    min_bin_hours: int = 20,
    occupancy_threshold: float = 0.65,
    min_coverage: float = 0.9,
    irradiance_w_m2: np.ndarray | None = None,
) -> TowtModel:
    """Fit an hourly TOWT model (CalTRACK hourly §3.8–3.11, single segment).

    Occupancy: a preliminary fit ``E = μ + β_H·HDH(10 °C) + β_C·CDH(18.3 °C)``; an hour of
    the week is occupied when more than ``occupancy_threshold`` of its residuals are
    positive. Temperature bins with fewer than ``min_bin_hours`` hours are merged. The final
    fit is ordinary least squares on 168 time-of-week indicators plus the temperature
    features split by occupancy. Simplification: one model for the whole baseline (no
    month-by-month weighted segmentation).

    Parameters
    ----------
    times_ns : ndarray of int64
        Start of each hour. [UTC ns]
    energy : ndarray of float
        Energy per hour (NaN = missing). [energy unit/h]
    temp_c : ndarray of float
        Air temperature for each hour. [°C]
    day_off : ndarray of bool, optional
        Holidays and public holidays (mapped to Sunday's time of week).
    alt_week : ndarray of bool, optional
        Hours that follow a second week profile with its own 168 coefficients (a sports hall in
        the school holidays: evening clubs, no school classes). An hour of that profile never
        seen in the baseline takes the normal profile's coefficient.
    closed : ndarray of bool, optional
        Hours of days the building is closed (public holidays, annual closures): one 24-hour
        profile of their own (unlike ``day_off``, which makes them Sundays, right only for a
        building closed on Sundays). An hour never seen takes Sunday's.
    tz : tzinfo
        Calendar time zone.
    knots_c : tuple of float
        Temperature knots. [°C]
    min_bin_hours : int
        Minimum hours per temperature bin.
    occupancy_threshold : float
        Share of positive residuals marking an occupied hour of the week. [1]
    min_coverage : float
        Minimum share of valid hours. [1]
    irradiance_w_m2 : ndarray of float, optional
        Global irradiance of each hour (NaN = missing: the hour is not fitted). With it, the model has a
        daylight term per local hour of the day, occupied or not (:func:`irradiance_features`), fitted with
        the rest by the same least squares. [W/m²]
    """
    tz = tz or local_tz()
    h = _HourlyData.of(times_ns, energy, temp_c, day_off, alt_week, closed, tz, min_coverage,
                       irradiance_w_m2)
    t_ns, y, temp, n_tow, valid, dq = h.t_ns, h.y, h.temp, h.n_tow, h.valid, list(h.dq)
    tv, yv, towv = temp[valid], y[valid], h.tow[valid]
    nan = float("nan")
    if yv.size < 168 + 20:
        m = FitMetrics(int(yv.size), 0, nan, nan, nan, nan, nan, nan, nan, nan)
        return TowtModel(np.zeros(168), np.zeros(168, bool), np.zeros(0), np.zeros(168, np.int64), np.zeros((1, 1)),
                         m, gl14_verdict(m, "hourly"), tuple(dict.fromkeys(dq + ["baseline.insufficient_hours"])), tz)
    occupied, seen = _occupancy(tv, yv, towv, n_tow, occupancy_threshold)
    knots = _merge_knots(tv, knots_c, min_bin_hours)
    f = _temp_features(tv, knots)
    nf = f.shape[1]
    group = np.where(occupied, 0, 1)
    n_groups = 2
    g = group[towv]
    feats = np.zeros((yv.size, n_groups * nf))
    for k in range(n_groups):
        feats[:, k * nf : (k + 1) * nf] = f * (g == k)[:, None]
    n_irr = 0
    if irradiance_w_m2 is not None:
        fi = irradiance_features(np.asarray(irradiance_w_m2, dtype=float)[valid])
        n_irr = fi.shape[1]
        ig = _irradiance_group(towv, group)
        feats = np.column_stack([feats] + [fi * (ig == k)[:, None] for k in range(48)])
    # OLS on [one indicator per hour of the week seen, temperature features] by Frisch–Waugh–Lovell: the
    # features and the energy demeaned within each hour of the week give the slopes, the hour's mean of
    # what they leave gives its α (the same least squares as the full design, without its 200-360 columns)
    count = np.bincount(towv, minlength=n_tow).astype(float)
    inv = np.where(count > 0, 1.0 / np.maximum(count, 1.0), 0.0)
    mean_y = np.bincount(towv, weights=yv, minlength=n_tow) * inv
    mean_f = np.column_stack([np.bincount(towv, weights=feats[:, j], minlength=n_tow) * inv
                              for j in range(feats.shape[1])]) if feats.shape[1] else np.zeros((n_tow, 0))
    f_dm = feats - mean_f[towv]
    # columns that are zero on every hour (the daylight term of the night hours) are left out of the solve: the
    # same least squares (their slope is 0 in the minimum-norm solution), without their cost
    active = np.flatnonzero(np.any(f_dm != 0.0, axis=0))
    slope = np.zeros(feats.shape[1])
    if active.size:
        slope[active] = np.linalg.lstsq(f_dm[:, active], yv - mean_y[towv], rcond=None)[0]
    alpha = np.where(seen, mean_y - mean_f @ slope, 0.0)
    tow_coefs = _fill_unseen(alpha, seen)
    rank = int(seen.sum()) + (np.linalg.matrix_rank(f_dm[:, active]) if active.size else 0)
    slopes = slope[: n_groups * nf].reshape(n_groups, nf)
    irr_slopes = slope[n_groups * nf :].reshape(48, n_irr) if n_irr else _NO_IRRADIANCE
    model = TowtModel(tow_coefs, occupied, knots, group, slopes,
                      FitMetrics(0, 0, nan, nan, nan, nan, nan, nan, nan, nan),
                      Gl14Verdict("hourly", "reject", ("gl14.no_fit",)), (), tz, irr_slopes)
    pred = model.predict(t_ns, temp, day_off, alt_week, closed, irradiance_w_m2)
    metrics = fit_metrics(np.where(valid, y, np.nan), pred, int(rank))
    return TowtModel(tow_coefs, occupied, knots, group, slopes, metrics,
                     gl14_verdict(metrics, "hourly"), tuple(dict.fromkeys(dq)), tz, irr_slopes)


#: Balance temperatures searched per group of hours by :func:`fit_hourly_change_point`. [°C]
HOURLY_BALANCE_GRID_C: tuple[float, ...] = tuple(float(x) for x in np.arange(0.0, 24.01, 0.5))


@dataclass(frozen=True, eq=False)
class HourlyChangePointModel(_Gate):
    """Hourly energy of a heating plant on a setpoint schedule.

    ``E_h = max(α_tow(h) + β_g·max(τ_g − T_h, 0), 0)`` with one α per hour of the week and, per
    group ``g`` of hours (the same local hour of the day, occupied or not), a heating slope β_g ≥ 0
    and a balance temperature τ_g searched on :data:`HOURLY_BALANCE_GRID_C`. A building heated to
    a comfort setpoint in class hours, boosted before them and kept at a setback at night
    needs a different balance point for each: the TOWT model's shared piecewise-linear response
    cannot bend where each of them does, which shows in the shoulder seasons. The fit separates
    by group (each hour of the week belongs to one group), so it is exact least squares per τ.

    Attributes
    ----------
    tow_coefs : ndarray, shape (168,) or (360,)
        α per hour of the week (168–335: the second week profile, 336–359: a closed day). [energy unit/h]
    group : ndarray of int, same shape
        Group of each hour of the week (``hour of day + 24·unoccupied``).
    balance_c, slope : ndarray, shape (48,)
        τ_g [°C] and β_g [energy unit/(h·K)] per group (NaN τ, zero β for a group never seen).
    occupied : ndarray of bool, same shape as ``tow_coefs``
        Occupancy of each hour of the week (more than ``occupancy_threshold`` of its residuals
        positive in a preliminary fit, as in CalTRACK).
    metrics : FitMetrics
        In-sample hourly metrics.
    verdict : Gl14Verdict
        Hourly gate.
    disqualifications : tuple of str
        Data-sufficiency failures.
    tz : tzinfo
        Calendar time zone used for the time of week.
    irradiance_slopes : ndarray, shape (48, segments) or (0, 0)
        When fitted with irradiance, the daylight term ``Σ_j γ_{g,j}·f_j(G_h)`` per group
        (:func:`irradiance_features`); empty without. [energy unit/h per W/m²]
    """

    tow_coefs: np.ndarray
    group: np.ndarray
    balance_c: np.ndarray
    slope: np.ndarray
    occupied: np.ndarray
    metrics: FitMetrics
    verdict: Gl14Verdict
    disqualifications: tuple[str, ...]
    tz: dt.tzinfo
    # (48, segments) per group [energy unit/h per W/m²]
    irradiance_slopes: np.ndarray = field(default_factory=lambda: _NO_IRRADIANCE)

    def predict(self, times_ns: np.ndarray, temp_c: np.ndarray, day_off: np.ndarray | None = None,
                alt_week: np.ndarray | None = None, closed: np.ndarray | None = None,
                irradiance_w_m2: np.ndarray | None = None) -> np.ndarray:
        """Expected energy per hour, never below zero. [energy unit/h]

        ``irradiance_w_m2`` (per hour) is required when the model was fitted with it."""
        tow = _profile_index(time_of_week(times_ns, self.tz, day_off), alt_week, closed, self.tow_coefs.size)
        g = self.group[tow]
        tau = np.nan_to_num(self.balance_c[g])
        heat = self.slope[g] * np.maximum(tau - np.asarray(temp_c, dtype=float), 0.0)
        return np.maximum(self.tow_coefs[tow] + heat + _irradiance_term(self.irradiance_slopes, g, irradiance_w_m2),
                          0.0)


def fit_hourly_change_point(
    times_ns: np.ndarray,
    energy: np.ndarray,
    temp_c: np.ndarray,
    *,
    day_off: np.ndarray | None = None,
    alt_week: np.ndarray | None = None,
    closed: np.ndarray | None = None,
    tz: dt.tzinfo | None = None,
    grid_c: tuple[float, ...] = HOURLY_BALANCE_GRID_C,
    occupancy_threshold: float = 0.65,
    min_coverage: float = 0.9,
    irradiance_w_m2: np.ndarray | None = None,
) -> HourlyChangePointModel:
    """Fit an :class:`HourlyChangePointModel` (least squares, balance points on a grid).

    Parameters
    ----------
    times_ns : ndarray of int64
        Start of each hour. [UTC ns]
    energy : ndarray of float
        Energy per hour (NaN = missing). [energy unit/h]
    temp_c : ndarray of float
        Outdoor temperature of each hour (smoothed for building mass). [°C]
    day_off, alt_week, closed : ndarray of bool, optional
        As for :func:`fit_towt`.
    tz : tzinfo
        Calendar time zone.
    grid_c : tuple of float
        Balance temperatures searched. [°C]
    occupancy_threshold : float
        Share of positive residuals marking an occupied hour of the week. [1]
    min_coverage : float
        Minimum share of valid hours. [1]
    irradiance_w_m2 : ndarray of float, optional
        Global irradiance of each hour (NaN = missing: the hour is not fitted). With it, each group has a
        daylight term (:func:`irradiance_features`), fitted jointly with its heating slope. [W/m²]
    """
    tz = tz or local_tz()
    h = _HourlyData.of(times_ns, energy, temp_c, day_off, alt_week, closed, tz, min_coverage, irradiance_w_m2)
    t_ns, y, temp, n_tow, valid, dq = h.t_ns, h.y, h.temp, h.n_tow, h.valid, list(h.dq)
    tv, yv, towv = temp[valid], y[valid], h.tow[valid]
    fi = irradiance_features(np.asarray(irradiance_w_m2, dtype=float)[valid]) if irradiance_w_m2 is not None else None
    nan = float("nan")
    empty = FitMetrics(int(yv.size), 0, nan, nan, nan, nan, nan, nan, nan, nan)
    if yv.size < 168 + 20:
        z = np.zeros(n_tow)
        return HourlyChangePointModel(z, np.zeros(n_tow, np.int64), np.full(48, nan), np.zeros(48),
                                      np.zeros(n_tow, bool), empty, gl14_verdict(empty, "hourly"),
                                      tuple(dict.fromkeys(dq + ["baseline.insufficient_hours"])), tz)
    occupied, seen = _occupancy(tv, yv, towv, n_tow, occupancy_threshold)
    group = (np.arange(n_tow) % 24) + 24 * (~occupied).astype(np.int64)
    grid = np.asarray(grid_c, dtype=float)
    alpha = np.zeros(n_tow)
    balance = np.full(48, nan)
    slope = np.zeros(48)
    n_irr = fi.shape[1] if fi is not None else 0
    irr = np.zeros((48, n_irr)) if n_irr else _NO_IRRADIANCE
    gv = group[towv]
    for g in np.unique(gv).tolist():
        sel = gv == g
        ys, ts, ws = yv[sel], tv[sel], towv[sel]
        _, inv = np.unique(ws, return_inverse=True)
        m = int(inv.max()) + 1
        cnt = np.bincount(inv, minlength=m).astype(float)
        ybar = np.bincount(inv, weights=ys, minlength=m) / cnt
        yc = ys - ybar[inv]
        x = np.maximum(grid[None, :] - ts[:, None], 0.0)  # (hours, grid)
        xbar = np.stack([np.bincount(inv, weights=x[:, j], minlength=m) for j in range(grid.size)], axis=1) / cnt[:, None]
        xc = x - xbar[inv]
        yr, xr, zc, zbar = yc, xc, None, None
        if n_irr:
            # the daylight term by Frisch–Waugh–Lovell: energy and heating feature with the irradiance
            # features (demeaned within each hour of the week) projected out, then γ from what is left
            z = fi[sel]
            zbar = np.stack([np.bincount(inv, weights=z[:, j], minlength=m) for j in range(n_irr)],
                            axis=1) / cnt[:, None]
            zc = z - zbar[inv]
            coef = np.linalg.lstsq(zc, np.column_stack([yc, xc]), rcond=None)[0]  # (n_irr, 1 + grid)
            yr = yc - zc @ coef[:, 0]
            xr = xc - zc @ coef[:, 1:]
        sxx = np.sum(xr * xr, axis=0)
        sxy = np.sum(xr * yr[:, None], axis=0)
        b = np.where(sxx > 1e-9, np.maximum(sxy / np.where(sxx > 1e-9, sxx, 1.0), 0.0), 0.0)
        sse = np.sum((yr[:, None] - xr * b[None, :]) ** 2, axis=0)
        j = int(np.argmin(sse))
        balance[g], slope[g] = grid[j], b[j]
        hows = np.unique(ws)
        alpha[hows] = ybar - b[j] * xbar[:, j]
        if n_irr:
            gam = coef[:, 0] - coef[:, 1 + j] * b[j]
            irr[g] = gam
            alpha[hows] -= zbar @ gam
    alpha = _fill_unseen(alpha, seen)
    group = _fill_unseen(group, seen)
    model = HourlyChangePointModel(alpha, group, balance, slope, occupied, empty,
                                   Gl14Verdict("hourly", "reject", ("gl14.no_fit",)), (), tz, irr)
    pred = model.predict(t_ns, temp, day_off, alt_week, closed, irradiance_w_m2)
    n_params = int(seen.sum()) + 2 * int(np.isfinite(balance).sum()) + int(np.count_nonzero(irr))
    metrics = fit_metrics(np.where(valid, y, np.nan), pred, n_params)
    return HourlyChangePointModel(alpha, group, balance, slope, occupied, metrics, gl14_verdict(metrics, "hourly"),
                                  tuple(dict.fromkeys(dq)), tz, irr)
