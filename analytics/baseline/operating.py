"""Operating-power model of a plant that runs on demand (event-driven heating): standby and boost
modes per hour, judged on the hours it ran.

Part of :mod:`analytics.baseline`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize

from analytics.baseline.hourly import TOWT_KNOTS_C, _merge_knots, _temp_features
from analytics.baseline.metrics import FitMetrics, fit_metrics

#: An hour counts as "in operation" above this share of the baseline's 99th-percentile hourly energy. [1]
OPERATING_THRESHOLD_FRACTION = 0.02
#: Fewest baseline hours in operation (standby and boost together) for an operating-power model.
MIN_OPERATING_HOURS = 200
#: Largest share of baseline hours in boost: a plant that runs most of the time follows a schedule,
#: and the TOWT model is the right one. [1]
MAX_BOOST_SHARE = 0.5
#: Classes of boost hours by their place in the run: the first hours heat the building up, the
#: last one is usually a part hour (:func:`run_positions`).
BOOST_POSITIONS = 7
#: Balance temperatures searched for the standby mode. [°C]
STANDBY_GRID_C: tuple[float, ...] = tuple(float(x) for x in np.arange(-5.0, 25.01, 0.5))


def _standby_fit(energy: np.ndarray, temp_c: np.ndarray) -> tuple[float, float, float]:
    """``E = base + slope·max(τ − T, 0)`` by least squares, τ searched on :data:`STANDBY_GRID_C`.

    Returns (τ [°C], base [energy/h], slope [energy/(h·K)]); base and slope are kept non-negative.
    """
    best = (np.inf, 0.0, float(np.mean(energy)) if energy.size else 0.0, 0.0)
    for tau in STANDBY_GRID_C:
        x = np.maximum(tau - temp_c, 0.0)
        if not np.any(x > 0):
            continue
        coef = scipy.optimize.nnls(np.column_stack([np.ones(x.size), x]), energy)[0]
        sse = float(np.sum((energy - coef[0] - coef[1] * x) ** 2))
        if sse < best[0]:
            best = (sse, tau, float(coef[0]), float(coef[1]))
    return best[1], best[2], best[3]


def run_positions(flags: np.ndarray, cap: int = BOOST_POSITIONS) -> np.ndarray:
    """Class of each flagged hour in its run of consecutive flagged hours (0 = not flagged).

    1 … ``cap − 1``: the hour's 1-based position in the run (warm-up); ``cap``: the last hour of a
    run of two hours or more (usually a part hour: the plant stops inside it); ``cap − 1`` also
    holds every later hour of a long run.
    """
    f = np.asarray(flags, dtype=bool)
    idx = np.arange(f.size)
    last_off = np.maximum.accumulate(np.where(~f, idx, -1))
    pos = np.where(f, np.minimum(idx - last_off, cap - 1), 0)
    last = f & ~np.r_[f[1:], True] & (idx - last_off >= 2)  # the end of the data does not end a run
    return np.where(last, cap, pos)


@dataclass(frozen=True, eq=False)
class OperatingPowerModel:
    """Hourly energy of a plant that runs on demand, given the hours it ran.

    Some plants follow no schedule: a church heated for services, funerals and weddings, a hall
    heated for the events it hosts. Their daily energy is dominated by how many hours they ran,
    which no calendar predicts (a daily change-point or TOWT model fails the GL14 gate with a
    CV(RMSE) near or above 100 %). What can be predicted, and what a fault changes, is the
    energy of each hour of operation at a given outdoor temperature (the plant's power signature).

    Each hour is in one of three modes, read from its energy: **off**
    (``E ≤ threshold``: ``off_level``), **standby** (frost protection or setback:
    ``E = base + slope·max(τ_s − T, 0)``) or **boost** (above twice the standby energy:
    the building is brought to comfort). Boost hours are modelled by their place in the run
    (warm-up hours, holding hours, the last hour: :func:`run_positions`) with TOWT
    piecewise-linear temperature features. A fouled boiler, a valve stuck open, a setpoint
    raised for events, all raise the energy of the hours in operation; a plant that no longer
    stops is seen by the base-load, silent and stuck watches and by the hours in operation.

    Attributes
    ----------
    threshold : float
        Hourly energy above which an hour is in operation. [energy unit/h]
    off_level : float
        Mean hourly energy of the hours off. [energy unit/h]
    standby_balance_c, standby_base, standby_slope : float
        Standby mode ``E = base + slope·max(τ_s − T, 0)``. [°C], [energy unit/h], [energy unit/(h·K)]
    knots_c : ndarray
        Temperature knots of the boost model. [°C]
    boost_coefs : ndarray, shape (BOOST_POSITIONS, 1 + segments)
        Intercept and slopes per class of :func:`run_positions`. [energy unit/h, energy unit/(h·K)]
    boost_share : float
        Share of valid baseline hours in boost. [1]
    metrics : FitMetrics
        In-sample metrics on the hours in operation.
    disqualifications : tuple of str
        ``baseline.insufficient_operating_hours`` or ``baseline.not_intermittent``.
    """

    threshold: float
    off_level: float
    standby_balance_c: float
    standby_base: float
    standby_slope: float
    knots_c: np.ndarray
    boost_coefs: np.ndarray
    boost_share: float
    metrics: FitMetrics
    disqualifications: tuple[str, ...]

    @property
    def qualifies(self) -> bool:
        """Enough hours in operation, in a plant that is not in boost most of the time."""
        return not self.disqualifications

    def standby_energy(self, temp_c: np.ndarray) -> np.ndarray:
        """Energy of a standby hour at temperature ``temp_c``. [energy unit/h]"""
        return self.standby_base + self.standby_slope * np.maximum(self.standby_balance_c
                                                                   - np.asarray(temp_c, dtype=float), 0.0)

    def modes(self, energy: np.ndarray, temp_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(in operation, in boost) per hour; False for a missing hour."""
        return _modes(np.asarray(energy, dtype=float), np.asarray(temp_c, dtype=float), self.threshold,
                      self.standby_balance_c, self.standby_base, self.standby_slope)

    def predict(self, energy: np.ndarray, temp_c: np.ndarray) -> np.ndarray:
        """Expected energy of each of consecutive hours given its observed mode. [energy unit/h]

        NaN where the hour's energy is missing (mode unknown) or its temperature is.
        """
        e = np.asarray(energy, dtype=float)
        t = np.asarray(temp_c, dtype=float)
        on, boost = self.modes(e, t)
        pos = run_positions(boost)
        f = _temp_features(np.where(np.isfinite(t), t, 0.0), self.knots_c)
        design = np.column_stack([np.ones(e.size), f])
        boost_pred = np.einsum("ij,ij->i", design, self.boost_coefs[np.maximum(pos, 1) - 1])
        out = np.where(boost, np.maximum(boost_pred, self.threshold),
                       np.where(on, self.standby_energy(t), self.off_level))
        return np.where(np.isfinite(e) & np.isfinite(t), out, np.nan)

    def hour_classes(self, energy: np.ndarray, temp_c: np.ndarray) -> np.ndarray:
        """Class of each of consecutive hours given its observed mode: 0 off (or missing), 1 standby,
        ``1 + p`` a boost hour of :func:`run_positions` class ``p`` (2 … ``BOOST_POSITIONS + 1``)."""
        on, boost = self.modes(energy, temp_c)
        return np.where(boost, 1 + run_positions(boost), np.where(on, 1, 0))


#: Classes of :meth:`OperatingPowerModel.hour_classes`.
HOUR_CLASSES = BOOST_POSITIONS + 2


def class_variances(residual: np.ndarray, classes: np.ndarray, min_hours: int = 20) -> np.ndarray:
    """Mean squared hourly residual of each class of :meth:`OperatingPowerModel.hour_classes`.

    A boost class with fewer than ``min_hours`` finite residuals takes the pooled variance of the
    boost hours; the off and standby classes, that of their own hours or NaN. [energy unit²]
    """
    r = np.asarray(residual, dtype=float)
    c = np.asarray(classes, dtype=int)
    ok = np.isfinite(r)
    out = np.full(HOUR_CLASSES, np.nan)
    boost = ok & (c >= 2)
    pooled = float(np.mean(r[boost] ** 2)) if boost.any() else np.nan
    for k in range(HOUR_CLASSES):
        sel = ok & (c == k)
        if sel.sum() >= min_hours:
            out[k] = float(np.mean(r[sel] ** 2))
        elif k >= 2:
            out[k] = pooled
    return out


def _modes(e: np.ndarray, t: np.ndarray, threshold: float, balance_c: float, base: float, slope: float
           ) -> tuple[np.ndarray, np.ndarray]:
    on = np.isfinite(e) & np.isfinite(t) & (e > threshold)
    standby = base + slope * np.maximum(balance_c - t, 0.0)
    return on, on & (e > 2.0 * standby + 3.0 * threshold)


def fit_operating_power(
    energy: np.ndarray,
    temp_c: np.ndarray,
    *,
    knots_c: tuple[float, ...] = TOWT_KNOTS_C,
    threshold_fraction: float = OPERATING_THRESHOLD_FRACTION,
    min_operating_hours: int = MIN_OPERATING_HOURS,
    max_boost_share: float = MAX_BOOST_SHARE,
    min_bin_hours: int = 20,
) -> OperatingPowerModel:
    """Fit an :class:`OperatingPowerModel` on consecutive baseline hours.

    Modes are found iteratively: the hours in operation below the middle of their range start as standby,
    the standby line is fitted on them, and hours above twice its energy (plus a margin) are
    boost; repeated until the split no longer changes (at most 10 rounds).

    Parameters
    ----------
    energy : ndarray of float
        Energy per hour, consecutive hours (NaN = missing or outside the baseline). [energy unit/h]
    temp_c : ndarray of float
        Outdoor temperature of each hour (smoothed for heating). [°C]
    knots_c : tuple of float
        Temperature knots of the boost model (merged where a bin holds fewer than ``min_bin_hours``). [°C]
    threshold_fraction : float
        Operation threshold as a share of the 99th percentile of the hourly energy. [1]
    min_operating_hours : int
        Fewest hours in operation.
    max_boost_share : float
        Largest share of hours in boost. [1]
    min_bin_hours : int
        Fewest boost hours per temperature bin.
    """
    y = np.asarray(energy, dtype=float)
    temp = np.asarray(temp_c, dtype=float)
    valid = np.isfinite(y) & np.isfinite(temp)
    nan = float("nan")
    empty = FitMetrics(0, 0, nan, nan, nan, nan, nan, nan, nan, nan)
    nf = len(knots_c) + 1

    def unfit(threshold: float, off: float, share: float, dq: str) -> OperatingPowerModel:
        return OperatingPowerModel(threshold, off, nan, 0.0, 0.0, np.asarray(knots_c, float),
                                   np.zeros((BOOST_POSITIONS, 1 + nf)), share, empty, (dq,))

    if valid.sum() < min_operating_hours:
        return unfit(nan, nan, 0.0, "baseline.insufficient_operating_hours")
    threshold = threshold_fraction * float(np.percentile(y[valid], 99))
    on = valid & (y > threshold)
    off = valid & ~on
    off_level = float(y[off].mean()) if off.any() else 0.0
    if on.sum() < min_operating_hours:
        return unfit(threshold, off_level, 0.0, "baseline.insufficient_operating_hours")
    lo_e, hi_e = np.percentile(y[on], [5, 95])
    boost = on & (y > 0.5 * (lo_e + hi_e))
    tau, base, slope = 0.0, 0.0, 0.0
    for _ in range(10):
        standby = on & ~boost
        if standby.sum() >= 10:
            tau, base, slope = _standby_fit(y[standby], temp[standby])
        new = _modes(y, temp, threshold, tau, base, slope)[1]
        if np.array_equal(new, boost):
            break
        boost = new
    share = float(boost.sum() / valid.sum())
    if boost.sum() < min_operating_hours // 2:
        return unfit(threshold, off_level, share, "baseline.insufficient_operating_hours")
    if share > max_boost_share:
        return unfit(threshold, off_level, share, "baseline.not_intermittent")
    pos = run_positions(boost)
    knots = _merge_knots(temp[boost], knots_c, min_bin_hours)
    f = _temp_features(np.where(np.isfinite(temp), temp, 0.0), knots)
    design = np.column_stack([np.ones(y.size), f])
    coefs = np.zeros((BOOST_POSITIONS, design.shape[1]))
    pooled = np.linalg.lstsq(design[boost], y[boost], rcond=None)[0]
    for p in range(1, BOOST_POSITIONS + 1):
        sel = boost & (pos == p)
        # a run position with too few hours shares the pooled boost model
        coefs[p - 1] = (np.linalg.lstsq(design[sel], y[sel], rcond=None)[0]
                        if sel.sum() >= 3 * design.shape[1] else pooled)
    model = OperatingPowerModel(threshold, off_level, tau, base, slope, knots, coefs, share, empty, ())
    pred = model.predict(np.where(valid, y, np.nan), temp)
    metrics = fit_metrics(np.where(on, y, np.nan), np.where(on, pred, np.nan),
                          BOOST_POSITIONS * design.shape[1] + 2)
    return OperatingPowerModel(threshold, off_level, tau, base, slope, knots, coefs, share, metrics, ())
