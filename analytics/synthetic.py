"""Synthetic meters with known truth: daily energy, residual noise and hourly base load.

Used by the known-truth tests and the benchmark (pure functions; randomness comes from a
``numpy.random.Generator`` passed in). Noise is AR(1): ``e_t = ρ·e_{t−1} + sqrt(1 − ρ²)·σ·w_t``
so that its marginal standard deviation is σ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def ar1_noise(rng: np.random.Generator, n_series: int, n_steps: int, sigma: np.ndarray | float,
              rho: np.ndarray | float) -> np.ndarray:
    """AR(1) noise of shape (n_series, n_steps), stationary from the first step.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    n_series, n_steps : int
        Output shape.
    sigma : float or ndarray (n_series,)
        Marginal standard deviation. [unit]
    rho : float or ndarray (n_series,)
        Lag-1 autocorrelation. [1]
    """
    s = np.broadcast_to(np.asarray(sigma, dtype=float), (n_series,))
    r = np.broadcast_to(np.asarray(rho, dtype=float), (n_series,))
    w = rng.standard_normal((n_series, n_steps))
    out = np.empty((n_series, n_steps))
    out[:, 0] = w[:, 0]
    innov = np.sqrt(1.0 - r * r)
    for i in range(1, n_steps):
        out[:, i] = r * out[:, i - 1] + innov * w[:, i]
    return out * s[:, None]


def daily_temperature_c(rng: np.random.Generator, n_days: int, first_doy: int = 0) -> np.ndarray:
    """A plausible Pas-de-Calais daily mean temperature: 11 °C mean, ±7.5 K seasonal swing,
    AR(1) weather noise (σ 2.5 K, ρ 0.7). Coldest around 15 January. [°C]"""
    d = np.arange(n_days) + first_doy
    seasonal = 11.0 - 7.5 * np.cos(2.0 * np.pi * (d - 15) / 365.25)
    return seasonal + ar1_noise(rng, 1, n_days, 2.5, 0.7)[0]


@dataclass(frozen=True, eq=False)
class DailyFleet:
    """A synthetic fleet of daily meters.

    Attributes
    ----------
    temp_c : ndarray (days,)
        Daily mean temperature. [°C]
    weekend : ndarray of float (days,)
        1.0 on Saturdays and Sundays (day 0 is a Monday).
    expected_kwh : ndarray (meters, days)
        True noiseless consumption (before any drift). [kWh/day]
    observed_kwh : ndarray (meters, days)
        Consumption with AR(1) noise and drifts. [kWh/day]
    onset_day : ndarray of int (meters,)
        Day index of the drift onset (−1 = none).
    drift_pct : ndarray (meters,)
        Step drift applied from the onset. [%]
    """

    temp_c: np.ndarray
    weekend: np.ndarray
    expected_kwh: np.ndarray
    observed_kwh: np.ndarray
    onset_day: np.ndarray
    drift_pct: np.ndarray


def daily_fleet(rng: np.random.Generator, n_meters: int, n_days: int, *, cv: float | np.ndarray = 0.12,
                rho: float | np.ndarray = 0.4, drift_pct: float = 0.0, onset_range: tuple[int, int] = (0, 0),
                drift_share: float = 0.0) -> DailyFleet:
    """Daily heating-driven meters: ``E = μ + β_H·max(T_H − T, 0) − weekend drop``, noise
    AR(1) with σ = cv × mean(E); a share of meters get a step of ``drift_pct`` at a random
    onset in ``onset_range``."""
    temp = daily_temperature_c(rng, n_days)
    weekend = ((np.arange(n_days) % 7) >= 5).astype(float)
    mu = rng.uniform(50.0, 400.0, n_meters)
    beta = mu * rng.uniform(0.02, 0.10, n_meters)
    th = rng.uniform(14.0, 18.0, n_meters)
    drop = rng.uniform(0.1, 0.4, n_meters)
    e = mu[:, None] * (1.0 - drop[:, None] * weekend[None, :]) + beta[:, None] * np.maximum(th[:, None] - temp[None, :], 0.0)
    sigma = np.broadcast_to(np.asarray(cv, dtype=float), (n_meters,)) * e.mean(axis=1)
    obs = e + ar1_noise(rng, n_meters, n_days, sigma, rho)
    onset = np.full(n_meters, -1)
    pct = np.zeros(n_meters)
    drifted = rng.random(n_meters) < drift_share
    if drifted.any():
        onset[drifted] = rng.integers(onset_range[0], onset_range[1], drifted.sum())
        pct[drifted] = drift_pct
        step = (np.arange(n_days)[None, :] >= onset[:, None]) & drifted[:, None]
        obs = obs + np.where(step, e * drift_pct / 100.0, 0.0)
    return DailyFleet(temp, weekend, e, obs, onset, pct)


def hourly_base_load_w(rng: np.random.Generator, n_meters: int, n_days: int, *, base_w: np.ndarray | float = 2000.0,
                       day_cv: float = 0.05, day_rho: float = 0.5, hour_cv: float = 0.05) -> np.ndarray:
    """Hourly night-time load around a base load: a day-level AR(1) factor (``day_cv``,
    ``day_rho``) times independent hourly noise (``hour_cv``); shape (meters, days, 24). [W]"""
    b = np.broadcast_to(np.asarray(base_w, dtype=float), (n_meters,))
    day = 1.0 + ar1_noise(rng, n_meters, n_days, day_cv, day_rho)
    hour = 1.0 + hour_cv * rng.standard_normal((n_meters, n_days, 24))
    return b[:, None, None] * day[:, :, None] * hour
