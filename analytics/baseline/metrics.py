"""Fit metrics of a baseline and their acceptance: ASHRAE Guideline 14 metrics (CV(RMSE), NMBE with
n − p degrees of freedom), the per-month bias check, the GL14 gates and the fractional savings
uncertainty (FSU) with autocorrelation correction.

Part of :mod:`analytics.baseline`; residuals are always ``observed − predicted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.stats

Granularity = Literal["hourly", "daily", "monthly"]


@dataclass(frozen=True, slots=True)
class FitMetrics:
    """Goodness of fit of a model on the points it was judged on.

    Attributes
    ----------
    n : int
        Number of points.
    p : int
        Number of fitted parameters (coefficients and searched change points).
    cvrmse : float
        ``sqrt(Σ(y−ŷ)²/(n−p)) / ȳ``. [1]
    nmbe : float
        ``Σ(y−ŷ) / ((n−p)·ȳ)``. [1]
    r2 : float
        ``1 − SSE/SST``. [1]
    r2_adj : float
        ``1 − (1 − R²)(n − 1)/(n − p)`` with p counting the intercept. [1]
    rmse : float
        ``sqrt(SSE/(n−p))``. [unit of y]
    mean_observed : float
        ȳ. [unit of y]
    rho1 : float
        Lag-1 autocorrelation of the residuals. [1]
    n_prime : float
        Effective number of points ``n(1−ρ1)/(1+ρ1)`` (ρ1 clipped at 0). [1]
    """

    n: int
    p: int
    cvrmse: float
    nmbe: float
    r2: float
    r2_adj: float
    rmse: float
    mean_observed: float
    rho1: float
    n_prime: float


def lag1_autocorrelation(residuals: np.ndarray) -> float:
    """Lag-1 autocorrelation of a series (NaNs break pairs). [1]"""
    r = np.asarray(residuals, dtype=float)
    if r.size < 3:
        return 0.0
    m = np.nanmean(r)
    c = r - m
    pair = np.isfinite(c[1:]) & np.isfinite(c[:-1])
    den = np.nansum(c * c)
    if den <= 0 or not pair.any():
        return 0.0
    return float(np.sum(c[1:][pair] * c[:-1][pair]) / den)


def effective_n(n: float, rho1: float) -> float:
    """Effective number of points ``n(1 − ρ1)/(1 + ρ1)``, ρ1 clipped to [0, 0.99]."""
    r = min(max(rho1, 0.0), 0.99)
    return n * (1.0 - r) / (1.0 + r)


def fit_metrics(observed: np.ndarray, predicted: np.ndarray, p: int) -> FitMetrics:
    """ASHRAE Guideline 14 metrics with n − p degrees of freedom.

    Parameters
    ----------
    observed, predicted : ndarray of float
        Measured and modelled values; non-finite pairs are ignored. [any unit]
    p : int
        Number of fitted parameters.
    """
    y = np.asarray(observed, dtype=float)
    yh = np.asarray(predicted, dtype=float)
    ok = np.isfinite(y) & np.isfinite(yh)
    resid_full = np.where(ok, y - yh, np.nan)
    y, yh = y[ok], yh[ok]
    n = int(y.size)
    dof = n - p
    if n == 0 or dof <= 0:
        nan = float("nan")
        return FitMetrics(n, p, nan, nan, nan, nan, nan, nan, nan, nan)
    r = y - yh
    sse = float(r @ r)
    ybar = float(y.mean())
    sst = float(((y - ybar) ** 2).sum())
    rmse = (sse / dof) ** 0.5
    r2 = 1.0 - sse / sst if sst > 0 else float("nan")
    r2_adj = 1.0 - (1.0 - r2) * (n - 1) / dof if sst > 0 and dof > 0 else float("nan")
    rho = lag1_autocorrelation(resid_full)
    return FitMetrics(
        n=n,
        p=p,
        cvrmse=rmse / ybar if ybar != 0 else float("nan"),
        nmbe=float(r.sum()) / (dof * ybar) if ybar != 0 else float("nan"),
        r2=r2,
        r2_adj=r2_adj,
        rmse=rmse,
        mean_observed=ybar,
        rho1=rho,
        n_prime=effective_n(n, rho),
    )


@dataclass(frozen=True, slots=True)
class Gl14Verdict:
    """Acceptance of a model against the project's ASHRAE Guideline 14 gates.

    Attributes
    ----------
    granularity : str
        ``hourly``, ``daily`` or ``monthly``.
    status : str
        ``pass`` (meets the gate), ``warn`` (monthly: usable with a warning),
        ``fail`` (does not meet the gate: not for savings reports), ``reject``
        (CV(RMSE) > 100 %: unusable).
    reasons : tuple of str
        Stable dotted codes explaining anything but ``pass``.
    """

    granularity: str
    status: str
    reasons: tuple[str, ...]

    @property
    def qualifies(self) -> bool:
        """True for ``pass`` and ``warn``."""
        return self.status in ("pass", "warn")


#: (CV(RMSE) gate, |NMBE| gate or None, CV(RMSE) "usable with warning" gate or None)
GL14_GATES: dict[str, tuple[float, float | None, float | None]] = {
    "monthly": (0.15, 0.05, 0.25),
    "daily": (0.25, None, None),
    "hourly": (0.30, 0.10, None),
}
#: CalTRACK / eemeter disqualification: CV(RMSE) above 100 %.
CVRMSE_REJECT = 1.0


#: Largest mean bias of a baseline in any calendar month of its own baseline year (issue 16). [%]
MAX_MONTHLY_NMBE_PCT = 3.0


def monthly_nmbe_pct(dates: np.ndarray, observed: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Normalised mean bias error per calendar month, ``100·Σ(observed − predicted)/Σ observed`` over the
    days of each month where both are known (ASHRAE G14 sign: positive = the model runs low).

    Returns 12 values, January first; NaN for a month without days or with no consumption. [%]
    """
    d = np.asarray(dates, dtype="datetime64[D]")
    y = np.asarray(observed, dtype=float)
    p = np.asarray(predicted, dtype=float)
    ok = np.isfinite(y) & np.isfinite(p)
    month = d.astype("datetime64[M]").astype(int) % 12
    out = np.full(12, np.nan)
    for m in range(12):
        s = ok & (month == m)
        total = float(y[s].sum())
        if s.any() and total > 0:
            out[m] = 100.0 * float((y[s] - p[s]).sum()) / total
    return out


def gl14_verdict(metrics: FitMetrics, granularity: Granularity) -> Gl14Verdict:
    """Judge fit metrics against the project's gates (docs/analytics.md § Acceptance).

    Codes: ``gl14.no_fit`` (metrics undefined), ``gl14.cvrmse_above_100pct`` (reject),
    ``gl14.cvrmse_too_high``, ``gl14.nmbe_too_high``, ``gl14.cvrmse_above_good`` (monthly
    warning band 15–25 %).
    """
    if granularity not in GL14_GATES:
        raise ValueError(f"unknown granularity {granularity!r}")
    cv, nmbe = metrics.cvrmse, metrics.nmbe
    if not np.isfinite(cv):
        return Gl14Verdict(granularity, "reject", ("gl14.no_fit",))
    if cv > CVRMSE_REJECT:
        return Gl14Verdict(granularity, "reject", ("gl14.cvrmse_above_100pct",))
    cv_gate, nmbe_gate, warn_gate = GL14_GATES[granularity]
    reasons: list[str] = []
    nmbe_bad = nmbe_gate is not None and abs(nmbe) > nmbe_gate
    if nmbe_bad:
        reasons.append("gl14.nmbe_too_high")
    if cv <= cv_gate:
        return Gl14Verdict(granularity, "fail" if nmbe_bad else "pass", tuple(reasons))
    if warn_gate is not None and cv <= warn_gate and not nmbe_bad:
        return Gl14Verdict(granularity, "warn", ("gl14.cvrmse_above_good",))
    reasons.insert(0, "gl14.cvrmse_too_high")
    return Gl14Verdict(granularity, "fail", tuple(reasons))


def fractional_savings_uncertainty(
    cvrmse: float,
    n: int,
    p: int,
    m: int,
    savings_fraction: float,
    *,
    rho1: float = 0.0,
    confidence: float = 0.90,
    autocorrelation: bool = True,
) -> float:
    """Fractional savings uncertainty, ASHRAE Guideline 14 (Annex B) form.

    ``FSU = 1.26 · t · CV · sqrt((n/n') · (1 + 2/n') · (1/m)) / F`` with
    ``n' = n(1 − ρ1)/(1 + ρ1)`` and ``t`` the two-sided Student quantile at ``confidence``
    with ``n' − p`` degrees of freedom (``n − p`` and ``n' = n`` when ``autocorrelation``
    is False).

    Parameters
    ----------
    cvrmse : float
        CV(RMSE) of the baseline model. [1]
    n : int
        Number of baseline points.
    p : int
        Number of model parameters.
    m : int
        Number of reporting-period points (same granularity as the baseline).
    savings_fraction : float
        ``F = avoided energy / adjusted baseline energy``. [1]
    rho1 : float
        Lag-1 autocorrelation of the baseline residuals (clipped to [0, 0.99]). [1]
    confidence : float
        Two-sided confidence level (0.90 → t at the 0.95 quantile). [1]
    autocorrelation : bool
        Apply the effective-sample-size correction.

    Returns
    -------
    float
        Relative uncertainty of the savings (0.5 = ±50 % of the savings). [1]
    """
    if m <= 0 or n <= p:
        raise ValueError("need m > 0 and n > p")
    if savings_fraction == 0:
        return float("inf")
    n_p = effective_n(n, rho1) if autocorrelation else float(n)
    dof = n_p - p
    if dof <= 0:
        return float("inf")
    t = float(scipy.stats.t.ppf(0.5 + confidence / 2.0, dof))
    return abs(1.26 * t * cvrmse * np.sqrt((n / n_p) * (1.0 + 2.0 / n_p) / m) / savings_fraction)


class _Gate:
    """Acceptance of a fitted model: its data sufficiency and its GL14 verdict."""

    disqualifications: tuple[str, ...]
    verdict: Gl14Verdict

    @property
    def qualifies(self) -> bool:
        """Sufficient data and a passing (or, monthly, warning) GL14 verdict."""
        return not self.disqualifications and self.verdict.qualifies

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every code that stops the model from qualifying."""
        return self.disqualifications + (() if self.verdict.qualifies else self.verdict.reasons)
