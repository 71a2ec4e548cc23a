"""Degree days: daily temperature statistics and French heating/cooling degree days (DJU).

Heating degree days (degrés-jours unifiés, DJU) by the Météo-France method and by the
COSTIC ("professionnels de l'énergie") method, base 18 °C by default, and cooling degree
days; sources in ``docs/analytics.md`` § Degree days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from analytics.consumption import calendar_boundaries_ns
from terril.timeutil import local_tz

#: DJU base temperature used in France. [°C]
HEATING_BASE_C = 18.0
#: Common French cooling-degree-day threshold. [°C]
COOLING_BASE_C = 22.0
#: Share of a day a weather station's data must cover for the savings report and the drift job
#: (both read imported stations through :func:`daily_temperature` with it). [1]
MIN_STATION_DAY_COVERAGE = 0.5
HOUR_NS = 3600 * 10**9
DAY_NS = 86_400 * 10**9


@dataclass(frozen=True, eq=False)
class DailyTemperature:
    """Daily temperature statistics over local days.

    Attributes
    ----------
    day_start_ns : ndarray of int64
        Local midnight starting each day. [UTC ns]
    mean_c, min_c, max_c : ndarray of float
        Mean of the readings, minimum and maximum; NaN when the day is not valid. [°C]
    hourly_coverage : ndarray of float
        Fraction of the day's local hours (slots of the data's step, when coarser) holding at
        least one reading. [1]
    valid : ndarray of bool
        ``hourly_coverage >= min_hourly_coverage``.
    """

    day_start_ns: np.ndarray
    mean_c: np.ndarray
    min_c: np.ndarray
    max_c: np.ndarray
    hourly_coverage: np.ndarray
    valid: np.ndarray


def daily_temperature(
    times_ns: np.ndarray,
    temp_c: np.ndarray,
    tz: dt.tzinfo | None = None,
    *,
    min_hourly_coverage: float = 0.9,
    boundaries_ns: np.ndarray | None = None,
) -> DailyTemperature:
    """Daily mean, minimum and maximum temperature over local calendar days.

    The daily mean is the mean of the hourly means (so that irregular sampling does not
    weight some hours more); Tn and Tx are the extreme readings of the local day. A day is
    valid when more than ``min_hourly_coverage`` of its hours hold a reading (eemeter's
    0.9 rule). Coverage is judged against the data's own step: data coarser than hourly
    (3-hourly SYNOP, a station's daily means at local midnight) count slots of that step
    instead of hours, so a day holding its one daily value, or its eight 3-hourly
    observations, is covered. Note: Météo-France's official Tn/Tx use 18 h–18 h / 06 h–06 h
    UTC windows; this uses the local calendar day, which is what the consumption days use.

    Parameters
    ----------
    times_ns : ndarray of int64
        Reading times, sorted. [UTC ns]
    temp_c : ndarray of float
        Air temperature. [°C]
    tz : tzinfo
        Calendar time zone (default Europe/Paris).
    min_hourly_coverage : float
        Minimum share of the day's hours (or slots of the data's step) with data for a valid day. [1]
    boundaries_ns : ndarray of int64, optional
        Precomputed daily boundaries.
    """
    tz = tz or local_tz()
    t = np.asarray(times_ns, dtype=np.int64)
    x = np.asarray(temp_c, dtype=float)
    ok = np.isfinite(x)
    t, x = t[ok], x[ok]
    if t.size == 0:
        z = np.zeros(0)
        return DailyTemperature(np.zeros(0, np.int64), z, z, z, z, np.zeros(0, bool))
    days = boundaries_ns if boundaries_ns is not None else calendar_boundaries_ns(int(t[0]), int(t[-1]), "day", tz)
    days = np.asarray(days, dtype=np.int64)
    step_ns = data_step_ns(t)
    if step_ns <= HOUR_NS:
        slots = calendar_boundaries_ns(int(days[0]), int(days[-1]), "hour", tz)
    else:  # slots of the data's step from each local midnight (the last one of a day may be shorter)
        slots = np.unique(np.concatenate([np.arange(int(a), int(b), step_ns, dtype=np.int64)
                                          for a, b in zip(days[:-1], days[1:])] + [days[-1:]]))
    n_days = days.size - 1
    h_idx = np.searchsorted(slots, t, side="right") - 1
    inside = (h_idx >= 0) & (h_idx < slots.size - 1)
    h_idx, x_in, t_in = h_idx[inside], x[inside], t[inside]
    n_slots = slots.size - 1
    h_sum = np.bincount(h_idx, weights=x_in, minlength=n_slots)
    h_cnt = np.bincount(h_idx, minlength=n_slots)
    day_of_slot = np.searchsorted(days, slots[:-1], side="right") - 1
    has = h_cnt > 0
    h_mean = np.where(has, h_sum / np.maximum(h_cnt, 1), 0.0)
    h_len = np.diff(slots).astype(float)
    d_hsum = np.bincount(day_of_slot, weights=h_mean, minlength=n_days)
    d_hcnt = np.bincount(day_of_slot, weights=has.astype(float), minlength=n_days)
    # the covered share of the day's duration (whole hours: the share of its hours)
    coverage = np.bincount(day_of_slot, weights=has * h_len, minlength=n_days) / np.maximum(np.diff(days), 1)
    coverage = np.minimum(coverage, 1.0)
    valid = coverage >= min_hourly_coverage
    d_idx = np.searchsorted(days, t_in, side="right") - 1
    mn = np.full(n_days, np.inf)
    mx = np.full(n_days, -np.inf)
    np.minimum.at(mn, d_idx, x_in)
    np.maximum.at(mx, d_idx, x_in)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = d_hsum / d_hcnt
    nan = np.nan
    return DailyTemperature(
        days[:-1].copy(),
        np.where(valid, mean, nan),
        np.where(valid, mn, nan),
        np.where(valid, mx, nan),
        coverage,
        valid,
    )


def data_step_ns(times_ns: np.ndarray) -> int:
    """The data's own step: the median interval between readings, between one hour and one day
    (one hour when there are fewer than two readings). [ns]"""
    t = np.asarray(times_ns, dtype=np.int64)
    d = np.diff(np.unique(t))
    if d.size == 0:
        return HOUR_NS
    return int(np.clip(np.median(d), HOUR_NS, DAY_NS))


def hdd_meteo(tmin_c: np.ndarray, tmax_c: np.ndarray, base_c: float = HEATING_BASE_C) -> np.ndarray:
    """Heating degree days, Météo-France method: ``max(0, S − (Tn + Tx)/2)``.

    Parameters
    ----------
    tmin_c, tmax_c : array_like
        Daily minimum and maximum temperature. [°C]
    base_c : float
        Base temperature S. [°C]

    Returns
    -------
    ndarray
        Degree days per day. [K·day]
    """
    tn = np.asarray(tmin_c, dtype=float)
    tx = np.asarray(tmax_c, dtype=float)
    return np.maximum(0.0, base_c - (tn + tx) / 2.0)


def hdd_costic(tmin_c: np.ndarray, tmax_c: np.ndarray, base_c: float = HEATING_BASE_C) -> np.ndarray:
    """Heating degree days, COSTIC / "professionnels de l'énergie" method.

    ``S − (Tn+Tx)/2`` if ``Tx ≤ S``; 0 if ``Tn ≥ S``; otherwise
    ``(S − Tn)·(0.08 + 0.42·(S − Tn)/(Tx − Tn))``.

    Parameters
    ----------
    tmin_c, tmax_c : array_like
        Daily minimum and maximum temperature. [°C]
    base_c : float
        Base temperature S. [°C]

    Returns
    -------
    ndarray
        Degree days per day. [K·day]
    """
    tn = np.asarray(tmin_c, dtype=float)
    tx = np.asarray(tmax_c, dtype=float)
    s = base_c
    cold = s - (tn + tx) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        mixed = (s - tn) * (0.08 + 0.42 * (s - tn) / (tx - tn))
    out = np.where(tx <= s, cold, np.where(tn >= s, 0.0, mixed))
    return np.where(np.isfinite(tn) & np.isfinite(tx), out, np.nan)


def cdd_meteo(tmin_c: np.ndarray, tmax_c: np.ndarray, base_c: float = COOLING_BASE_C) -> np.ndarray:
    """Cooling degree days on the daily mean: ``max(0, (Tn + Tx)/2 − S)``. [K·day]"""
    tn = np.asarray(tmin_c, dtype=float)
    tx = np.asarray(tmax_c, dtype=float)
    return np.maximum(0.0, (tn + tx) / 2.0 - base_c)


def hdd_from_mean(temp_mean_c: np.ndarray, base_c: float = HEATING_BASE_C) -> np.ndarray:
    """Heating degree days on a daily mean temperature, ``max(0, S − T)`` (CalTRACK). [K·day]"""
    return np.maximum(0.0, base_c - np.asarray(temp_mean_c, dtype=float))


def cdd_from_mean(temp_mean_c: np.ndarray, base_c: float = COOLING_BASE_C) -> np.ndarray:
    """Cooling degree days on a daily mean temperature, ``max(0, T − S)`` (CalTRACK). [K·day]"""
    return np.maximum(0.0, np.asarray(temp_mean_c, dtype=float) - base_c)


__all__ = [
    "COOLING_BASE_C",
    "DailyTemperature",
    "HEATING_BASE_C",
    "cdd_from_mean",
    "cdd_meteo",
    "daily_temperature",
    "hdd_costic",
    "hdd_from_mean",
    "hdd_meteo",
]
