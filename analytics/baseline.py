"""Baselines: energy models fitted on a baseline period, their fit metrics and acceptance.

* Daily change-point models of energy vs temperature (CalTRACK 2.0 daily style:
  intercept-only, heating-only, cooling-only, heating+cooling; balance points searched on a
  grid; selection by adjusted R² among qualified candidates), with optional day-type
  regressors (school day, holiday, weekend, Wednesday, public holiday) built by the caller.
* An hourly time-of-week-and-temperature (TOWT) model for interval data.
* ASHRAE Guideline 14 fit metrics (CV(RMSE), NMBE with n − p degrees of freedom), the
  project's acceptance gates, data-sufficiency rules, and the fractional savings
  uncertainty (FSU) with autocorrelation correction.

Disqualifications and warnings are stable dotted codes (``baseline.insufficient_days``,
``gl14.cvrmse_too_high``, ...), listed in ``docs/analytics.md``. Residuals are always
``observed − predicted``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg
import scipy.stats

from terril.timeutil import PARIS

Granularity = Literal["hourly", "daily", "monthly"]
ModelKind = Literal["intercept_only", "heating", "cooling", "heating_cooling"]

#: CalTRACK balance-point range 30–90 °F, as °C on a 1 °C grid (max step 3 °F = 1.67 K).
DEFAULT_GRID_C: tuple[float, ...] = tuple(float(x) for x in np.arange(-1.0, 33.0, 1.0))
#: CalTRACK "≥ 20 degree days per year" (°F·day) in K·day.
MIN_TOTAL_DD_PER_YEAR_K = 20.0 / 1.8
#: CalTRACK "≥ 10 days with non-zero degree days per year".
MIN_NONZERO_DD_DAYS_PER_YEAR = 10
#: eemeter 4.x baseline length window: ceil(0.9·365) … 365 days.
MIN_BASELINE_DAYS = 329
MAX_BASELINE_DAYS = 365
#: Share of valid days (meter and temperature) required. [1]
MIN_DAILY_COVERAGE = 0.9
#: TOWT temperature knots: CalTRACK 30, 45, 55, 65, 75, 90 °F in °C.
TOWT_KNOTS_C: tuple[float, ...] = tuple(round((f - 32.0) / 1.8, 2) for f in (30, 45, 55, 65, 75, 90))


# ---------------------------------------------------------------------------------------
# metrics and ASHRAE Guideline 14 gates


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


# ---------------------------------------------------------------------------------------
# fractional savings uncertainty


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


# ---------------------------------------------------------------------------------------
# daily change-point model


@dataclass(frozen=True, eq=False)
class DailyChangePointModel:
    """A fitted daily change-point model.

    ``E = μ + β_H·max(T_H − T, 0) + β_C·max(T − T_C, 0) + Σ γ_k·x_k`` per day, with T the
    daily mean temperature and x_k the caller's day-type regressors.

    Attributes
    ----------
    kind : str
        ``intercept_only``, ``heating``, ``cooling`` or ``heating_cooling``.
    intercept : float
        μ. [energy unit/day, e.g. kWh/day]
    heating_balance_c, cooling_balance_c : float
        T_H and T_C, NaN when not in the model. [°C]
    heating_slope, cooling_slope : float
        β_H and β_C (0 when not in the model). [energy unit/(K·day)]
    regressor_names : tuple of str
        Names of the day-type regressors, in column order.
    regressor_coefs : tuple of float
        γ_k (0 for a regressor dropped as constant or collinear). [energy unit/day]
    metrics : FitMetrics
        In-sample metrics (p counts coefficients and balance points).
    verdict : Gl14Verdict
        Daily gate.
    disqualifications : tuple of str
        Data-sufficiency failures (``baseline.*``); empty when sufficient.
    warnings : tuple of str
        Non-blocking remarks (``baseline.*``).
    residual_std : float
        Standard deviation of the in-sample residuals (n − p dof). [energy unit/day]
    """

    kind: str
    intercept: float
    heating_balance_c: float
    cooling_balance_c: float
    heating_slope: float
    cooling_slope: float
    regressor_names: tuple[str, ...]
    regressor_coefs: tuple[float, ...]
    metrics: FitMetrics
    verdict: Gl14Verdict
    disqualifications: tuple[str, ...]
    warnings: tuple[str, ...]
    residual_std: float

    @property
    def qualifies(self) -> bool:
        """Sufficient data and a passing (or warning) GL14 verdict."""
        return not self.disqualifications and self.verdict.qualifies

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every code that stops the model from qualifying."""
        return self.disqualifications + (() if self.verdict.qualifies else self.verdict.reasons)

    def predict(self, temp_mean_c: np.ndarray, regressors: np.ndarray | None = None) -> np.ndarray:
        """Expected daily energy.

        Parameters
        ----------
        temp_mean_c : ndarray of float
            Daily mean temperature. [°C]
        regressors : ndarray of float, shape (n, k), optional
            Day-type regressors in the order of ``regressor_names``.

        Returns
        -------
        ndarray
            Expected energy per day (NaN where temperature is missing). [energy unit/day]
        """
        t = np.asarray(temp_mean_c, dtype=float)
        out = np.full(t.shape, self.intercept)
        if self.heating_slope:
            out = out + self.heating_slope * np.maximum(self.heating_balance_c - t, 0.0)
        if self.cooling_slope:
            out = out + self.cooling_slope * np.maximum(t - self.cooling_balance_c, 0.0)
        if self.regressor_names:
            if regressors is None:
                raise ValueError(f"model needs regressors {self.regressor_names}")
            x = np.asarray(regressors, dtype=float).reshape(t.size, -1)
            if x.shape[1] != len(self.regressor_names):
                raise ValueError("regressors do not match regressor_names")
            out = out + x @ np.asarray(self.regressor_coefs)
        return np.where(np.isfinite(t), out, np.nan)


def _sufficiency(
    y: np.ndarray, t: np.ndarray, valid: np.ndarray, dates: np.ndarray | None, is_electricity: bool
) -> tuple[list[str], list[str]]:
    dq: list[str] = []
    warn: list[str] = []
    n_total = y.size
    if n_total < MIN_BASELINE_DAYS:
        dq.append("baseline.period_too_short")
    if n_total > MAX_BASELINE_DAYS:
        warn.append("baseline.period_longer_than_365_days")
    if n_total and valid.sum() < MIN_DAILY_COVERAGE * n_total:
        dq.append("baseline.insufficient_days")
    if n_total and np.isfinite(t).sum() < MIN_DAILY_COVERAGE * n_total:
        dq.append("baseline.insufficient_temperature")
    if dates is not None and n_total:
        months = np.asarray(dates, dtype="datetime64[M]")
        for mth in np.unique(months):
            sel = months == mth
            if np.isfinite(t[sel]).mean() < MIN_DAILY_COVERAGE:
                dq.append("baseline.month_temperature_coverage")
                break
    yv = y[valid]
    if not is_electricity and np.any(yv < 0):
        dq.append("baseline.negative_values")
    if yv.size >= 4:
        q1, med, q3 = np.percentile(yv, [25, 50, 75])
        if np.any(yv > med + 3.0 * (q3 - q1)):
            warn.append("baseline.extreme_values")
    return dq, warn


def _independent_columns(x: np.ndarray) -> np.ndarray:
    """Indices of a maximal set of linearly independent columns, in original order."""
    if x.shape[1] == 0:
        return np.zeros(0, dtype=np.int64)
    _, r, piv = scipy.linalg.qr(x, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    tol = max(x.shape) * np.finfo(float).eps * (d[0] if d.size else 1.0) * 1e3
    rank = int((d > tol).sum())
    return np.sort(piv[:rank])


def fit_daily(
    temp_mean_c: np.ndarray,
    energy: np.ndarray,
    *,
    regressors: np.ndarray | None = None,
    regressor_names: tuple[str, ...] = (),
    dates: np.ndarray | None = None,
    is_electricity: bool = True,
    allow_heating: bool = True,
    allow_cooling: bool | None = None,
    heating_grid_c: tuple[float, ...] = DEFAULT_GRID_C,
    cooling_grid_c: tuple[float, ...] = DEFAULT_GRID_C,
) -> DailyChangePointModel:
    """Fit a daily change-point model (CalTRACK 2.0 daily method, in °C).

    Every candidate (intercept-only; heating-only and cooling-only for every balance point
    of the grid; heating+cooling for every pair with ``T_C ≥ T_H``) is fitted by ordinary
    least squares, vectorised over the grid (the day-type regressors and intercept are
    partialled out once, Frisch–Waugh–Lovell). A candidate qualifies when its slopes and
    intercept are positive and each degree-day term has ≥ 10 non-zero days and ≥ 20 °F·day
    (11.1 K·day) per year of data; the qualified candidate with the highest adjusted R²
    (``1 − (SSE/(n − c − 1))/(SST/(n − 1))``, c explanatory variables besides the
    intercept) is selected.

    Parameters
    ----------
    temp_mean_c : ndarray of float
        Daily mean temperature (NaN = missing). [°C]
    energy : ndarray of float
        Daily energy (NaN = missing). [energy unit/day, e.g. kWh/day]
    regressors : ndarray of float, shape (n, k), optional
        Day-type regressors (0/1 indicators or fractions) built by the caller.
    regressor_names : tuple of str
        One name per regressor column.
    dates : ndarray of datetime64[D], optional
        Local date of each day; enables the per-month temperature coverage rule.
    is_electricity : bool
        Electricity: zeros are missing values (CalTRACK 2.3.4) and cooling is allowed;
        other carriers: zeros are valid, negative values disqualify, no cooling term.
    allow_heating : bool
        Allow heating terms.
    allow_cooling : bool, optional
        Allow cooling terms (default: ``is_electricity``).
    heating_grid_c, cooling_grid_c : tuple of float
        Balance-point grids. [°C]

    Returns
    -------
    DailyChangePointModel
        Always returned; check ``qualifies`` and ``reasons``.
    """
    t = np.asarray(temp_mean_c, dtype=float)
    y = np.asarray(energy, dtype=float).copy()
    n_total = t.size
    if y.shape != t.shape or t.ndim != 1:
        raise ValueError("temp_mean_c and energy must be 1-D arrays of the same length")
    if regressors is None:
        xr = np.zeros((n_total, 0))
    else:
        xr = np.asarray(regressors, dtype=float).reshape(n_total, -1)
    if xr.shape[1] != len(regressor_names):
        raise ValueError("one name per regressor column is required")
    if allow_cooling is None:
        allow_cooling = is_electricity
    if is_electricity:
        y[y == 0] = np.nan
    valid = np.isfinite(t) & np.isfinite(y) & np.all(np.isfinite(xr), axis=1)
    dq, warn = _sufficiency(y, t, valid, dates, is_electricity)

    tv, yv, xv = t[valid], y[valid], xr[valid]
    n = int(valid.sum())
    years = max(n_total, 1) / 365.0
    x0_full = np.column_stack([np.ones(n), xv])
    keep = _independent_columns(x0_full) if n else np.zeros(0, np.int64)
    if n and 0 not in keep:
        keep = np.r_[0, keep[keep != 0]]
    dropped = [regressor_names[i - 1] for i in range(1, x0_full.shape[1]) if i not in set(keep.tolist())]
    if dropped:
        warn.append("baseline.regressor_dropped")
    x0 = x0_full[:, keep]
    q = x0.shape[1]

    nan = float("nan")
    if n <= q + 2:
        dq.append("baseline.insufficient_days")
        metrics = FitMetrics(n, q, nan, nan, nan, nan, nan, nan, nan, nan)
        return DailyChangePointModel(
            "intercept_only", nan, nan, nan, 0.0, 0.0, tuple(regressor_names),
            tuple(0.0 for _ in regressor_names), metrics, gl14_verdict(metrics, "daily"),
            tuple(dq), tuple(warn), nan,
        )

    qmat, rmat = np.linalg.qr(x0)

    def resid(a: np.ndarray) -> np.ndarray:
        return a - qmat @ (qmat.T @ a)

    def coefs(a: np.ndarray) -> np.ndarray:
        return scipy.linalg.solve_triangular(rmat, qmat.T @ a)

    hg = np.asarray(heating_grid_c if allow_heating else (), dtype=float)
    cg = np.asarray(cooling_grid_c if allow_cooling else (), dtype=float)
    h = np.maximum(hg[None, :] - tv[:, None], 0.0)
    c = np.maximum(tv[:, None] - cg[None, :], 0.0)
    ys = resid(yv)
    hs, cs = resid(h), resid(c)
    g_y = coefs(yv)
    g_h, g_c = coefs(h), coefs(c)
    sse0 = float(ys @ ys)
    sst = float(((yv - yv.mean()) ** 2).sum())
    ah, ac = hs.T @ ys, cs.T @ ys
    ghh = np.einsum("ij,ij->j", hs, hs)
    gcc = np.einsum("ij,ij->j", cs, cs)
    ok_h = (np.count_nonzero(h, axis=0) >= MIN_NONZERO_DD_DAYS_PER_YEAR * years) & (
        h.sum(axis=0) >= MIN_TOTAL_DD_PER_YEAR_K * years
    )
    ok_c = (np.count_nonzero(c, axis=0) >= MIN_NONZERO_DD_DAYS_PER_YEAR * years) & (
        c.sum(axis=0) >= MIN_TOTAL_DD_PER_YEAR_K * years
    )

    def adj_r2(sse: np.ndarray, n_expl: int) -> np.ndarray:
        if sst <= 0:
            return np.full(np.shape(sse), -np.inf)
        return 1.0 - (sse / (n - n_expl - 1)) / (sst / (n - 1))

    # (score, kind, ih, ic, beta_h, beta_c)
    best: tuple[float, str, int, int, float, float] = (
        float(adj_r2(np.asarray(sse0), q - 1)), "intercept_only", -1, -1, 0.0, 0.0
    )
    mu0 = g_y[0]
    if mu0 <= 0:
        best = (-np.inf, "intercept_only", -1, -1, 0.0, 0.0)
    eps = 1e-12
    if hg.size:
        with np.errstate(divide="ignore", invalid="ignore"):
            bh = ah / ghh
        mu = mu0 - bh * g_h[0]
        score = np.where((ghh > eps) & ok_h & (bh > 0) & (mu > 0), adj_r2(sse0 - bh * ah, q), -np.inf)
        i = int(np.argmax(score))
        if score[i] > best[0]:
            best = (float(score[i]), "heating", i, -1, float(bh[i]), 0.0)
    if cg.size:
        with np.errstate(divide="ignore", invalid="ignore"):
            bc = ac / gcc
        mu = mu0 - bc * g_c[0]
        score = np.where((gcc > eps) & ok_c & (bc > 0) & (mu > 0), adj_r2(sse0 - bc * ac, q), -np.inf)
        i = int(np.argmax(score))
        if score[i] > best[0]:
            best = (float(score[i]), "cooling", -1, i, 0.0, float(bc[i]))
    if hg.size and cg.size:
        ghc = hs.T @ cs
        det = ghh[:, None] * gcc[None, :] - ghc**2
        with np.errstate(divide="ignore", invalid="ignore"):  # singular pairs are filtered by `good` below
            b_h = (gcc[None, :] * ah[:, None] - ghc * ac[None, :]) / det
            b_c = (ghh[:, None] * ac[None, :] - ghc * ah[:, None]) / det
            mu = mu0 - b_h * g_h[0][:, None] - b_c * g_c[0][None, :]
            sse = sse0 - (b_h * ah[:, None] + b_c * ac[None, :])
        good = (
            (det > eps * np.maximum(ghh[:, None] * gcc[None, :], eps))
            & (cg[None, :] >= hg[:, None])
            & ok_h[:, None] & ok_c[None, :]
            & (b_h > 0) & (b_c > 0) & (mu > 0)
        )
        score = np.where(good, adj_r2(sse, q + 1), -np.inf)
        k = int(np.argmax(score))
        i, j = divmod(k, cg.size)
        if score[i, j] > best[0]:
            best = (float(score[i, j]), "heating_cooling", i, j, float(b_h[i, j]), float(b_c[i, j]))

    _, kind, ih, ic, beta_h, beta_c = best
    gamma = g_y.copy()
    if ih >= 0:
        gamma = gamma - beta_h * g_h[:, ih]
    if ic >= 0:
        gamma = gamma - beta_c * g_c[:, ic]
    full_gamma = np.zeros(x0_full.shape[1])
    full_gamma[keep] = gamma
    n_bp = (ih >= 0) + (ic >= 0)
    model = DailyChangePointModel(
        kind=kind,
        intercept=float(full_gamma[0]),
        heating_balance_c=float(hg[ih]) if ih >= 0 else nan,
        cooling_balance_c=float(cg[ic]) if ic >= 0 else nan,
        heating_slope=beta_h,
        cooling_slope=beta_c,
        regressor_names=tuple(regressor_names),
        regressor_coefs=tuple(float(v) for v in full_gamma[1:]),
        metrics=FitMetrics(0, 0, nan, nan, nan, nan, nan, nan, nan, nan),
        verdict=Gl14Verdict("daily", "reject", ("gl14.no_fit",)),
        disqualifications=(),
        warnings=(),
        residual_std=nan,
    )
    p = q + 2 * n_bp
    pred = model.predict(t, xr)
    obs = np.where(valid, y, np.nan)
    metrics = fit_metrics(obs, pred, p)
    if best[0] == -np.inf:
        dq.append("baseline.no_qualified_candidate")
    return DailyChangePointModel(
        kind=model.kind,
        intercept=model.intercept,
        heating_balance_c=model.heating_balance_c,
        cooling_balance_c=model.cooling_balance_c,
        heating_slope=model.heating_slope,
        cooling_slope=model.cooling_slope,
        regressor_names=model.regressor_names,
        regressor_coefs=model.regressor_coefs,
        metrics=metrics,
        verdict=gl14_verdict(metrics, "daily"),
        disqualifications=tuple(dict.fromkeys(dq)),
        warnings=tuple(dict.fromkeys(warn)),
        residual_std=metrics.rmse,
    )


# ---------------------------------------------------------------------------------------
# hourly TOWT model


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


def time_of_week(times_ns: np.ndarray, tz: dt.tzinfo = PARIS, day_off: np.ndarray | None = None) -> np.ndarray:
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


@dataclass(frozen=True, eq=False)
class TowtModel:
    """A fitted hourly time-of-week-and-temperature model.

    ``E_h = α_tow(h) + Σ_j β_j^{occ(tow)}·f_j(T_h)``: one coefficient per hour of the week,
    piecewise-linear temperature segments with separate slopes for occupied and unoccupied
    hours of the week.

    Attributes
    ----------
    tow_coefs : ndarray, shape (168,)
        α per hour of the week. [energy unit/h]
    occupied : ndarray of bool, shape (168,)
        Occupancy of each hour of the week.
    knots_c : ndarray
        Temperature knots after merging sparse bins. [°C]
    slopes_occupied, slopes_unoccupied : ndarray
        β per temperature segment. [energy unit/(h·K)]
    metrics : FitMetrics
        In-sample metrics.
    verdict : Gl14Verdict
        Hourly gate.
    disqualifications : tuple of str
        Data-sufficiency failures.
    tz : tzinfo
        Calendar time zone used for the time of week.
    """

    tow_coefs: np.ndarray
    occupied: np.ndarray
    knots_c: np.ndarray
    slopes_occupied: np.ndarray
    slopes_unoccupied: np.ndarray
    metrics: FitMetrics
    verdict: Gl14Verdict
    disqualifications: tuple[str, ...]
    tz: dt.tzinfo

    @property
    def qualifies(self) -> bool:
        """Sufficient data and a passing GL14 hourly verdict."""
        return not self.disqualifications and self.verdict.qualifies

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every code that stops the model from qualifying."""
        return self.disqualifications + (() if self.verdict.qualifies else self.verdict.reasons)

    def predict(self, times_ns: np.ndarray, temp_c: np.ndarray, day_off: np.ndarray | None = None) -> np.ndarray:
        """Expected energy per hour. [energy unit/h]"""
        tow = time_of_week(times_ns, self.tz, day_off)
        f = _temp_features(temp_c, self.knots_c)
        occ = self.occupied[tow]
        slopes = np.where(occ[:, None], self.slopes_occupied[None, :], self.slopes_unoccupied[None, :])
        return self.tow_coefs[tow] + np.sum(f * slopes, axis=1)


def fit_towt(
    times_ns: np.ndarray,
    energy: np.ndarray,
    temp_c: np.ndarray,
    *,
    day_off: np.ndarray | None = None,
    tz: dt.tzinfo = PARIS,
    knots_c: tuple[float, ...] = TOWT_KNOTS_C,
    min_bin_hours: int = 20,
    occupancy_threshold: float = 0.65,
    min_coverage: float = 0.9,
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
    """
    t_ns = np.asarray(times_ns, dtype=np.int64)
    y = np.asarray(energy, dtype=float)
    temp = np.asarray(temp_c, dtype=float)
    tow = time_of_week(t_ns, tz, day_off)
    valid = np.isfinite(y) & np.isfinite(temp)
    dq: list[str] = []
    if y.size == 0 or valid.mean() < min_coverage:
        dq.append("baseline.insufficient_hours")
    tv, yv, towv = temp[valid], y[valid], tow[valid]
    if np.bincount(towv, minlength=168).min() < 1:
        dq.append("baseline.time_of_week_missing")
    nan = float("nan")
    if yv.size < 168 + 20:
        m = FitMetrics(int(yv.size), 0, nan, nan, nan, nan, nan, nan, nan, nan)
        z = np.zeros(168)
        return TowtModel(z, np.zeros(168, bool), np.zeros(0), np.zeros(1), np.zeros(1), m,
                         gl14_verdict(m, "hourly"), tuple(dict.fromkeys(dq + ["baseline.insufficient_hours"])), tz)
    pre = np.column_stack([np.ones(yv.size), np.maximum(10.0 - tv, 0.0), np.maximum(tv - (65 - 32) / 1.8, 0.0)])
    beta = np.linalg.lstsq(pre, yv, rcond=None)[0]
    positive = (yv - pre @ beta) > 0
    share = np.bincount(towv, weights=positive, minlength=168) / np.maximum(np.bincount(towv, minlength=168), 1)
    occupied = share > occupancy_threshold
    knots = _merge_knots(tv, knots_c, min_bin_hours)
    f = _temp_features(tv, knots)
    occ = occupied[towv]
    design = np.zeros((yv.size, 168 + 2 * f.shape[1]))
    design[np.arange(yv.size), towv] = 1.0
    design[:, 168 : 168 + f.shape[1]] = f * occ[:, None]
    design[:, 168 + f.shape[1] :] = f * (~occ)[:, None]
    coef, *_ = np.linalg.lstsq(design, yv, rcond=None)
    rank = np.linalg.matrix_rank(design)
    nf = f.shape[1]
    model = TowtModel(coef[:168], occupied, knots, coef[168 : 168 + nf], coef[168 + nf :],
                      FitMetrics(0, 0, nan, nan, nan, nan, nan, nan, nan, nan),
                      Gl14Verdict("hourly", "reject", ("gl14.no_fit",)), (), tz)
    pred = model.predict(t_ns, temp, day_off)
    metrics = fit_metrics(np.where(valid, y, np.nan), pred, int(rank))
    return TowtModel(coef[:168], occupied, knots, coef[168 : 168 + nf], coef[168 + nf :], metrics,
                     gl14_verdict(metrics, "hourly"), tuple(dict.fromkeys(dq)), tz)
