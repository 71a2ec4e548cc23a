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
import scipy.optimize
import scipy.stats

from terril.timeutil import local_tz

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


@dataclass(frozen=True, eq=False)
class DailyChangePointModel(_Gate):
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
class TowtModel(_Gate):
    """A fitted hourly time-of-week-and-temperature model.

    ``E_h = α_tow(h) + Σ_j β_j^{occ(tow)}·f_j(T_h)``: one coefficient per hour of the week,
    piecewise-linear temperature segments with separate slopes for occupied and unoccupied
    hours of the week (CalTRACK).

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

    def predict(self, times_ns: np.ndarray, temp_c: np.ndarray, day_off: np.ndarray | None = None,
                alt_week: np.ndarray | None = None, closed: np.ndarray | None = None) -> np.ndarray:
        """Expected energy per hour, never below zero. [energy unit/h]"""
        tow = _profile_index(time_of_week(times_ns, self.tz, day_off), alt_week, closed, self.tow_coefs.size)
        f = _temp_features(temp_c, self.knots_c)
        return np.maximum(self.tow_coefs[tow] + np.sum(f * self.slopes[self.slope_group[tow]], axis=1), 0.0)


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
           alt_week: np.ndarray | None, closed: np.ndarray | None, tz: dt.tzinfo, min_coverage: float
           ) -> _HourlyData:
        t_ns = np.asarray(times_ns, dtype=np.int64)
        y = np.asarray(energy, dtype=float)
        temp = np.asarray(temp_c, dtype=float)
        n_tow = _profiles(alt_week, closed)
        tow = _profile_index(time_of_week(t_ns, tz, day_off), alt_week, closed, n_tow)
        valid = np.isfinite(y) & np.isfinite(temp)
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
    """
    tz = tz or local_tz()
    h = _HourlyData.of(times_ns, energy, temp_c, day_off, alt_week, closed, tz, min_coverage)
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
    design = np.zeros((yv.size, n_tow + n_groups * nf))
    design[np.arange(yv.size), towv] = 1.0
    for k in range(n_groups):
        design[:, n_tow + k * nf : n_tow + (k + 1) * nf] = f * (g == k)[:, None]
    keep = np.r_[seen, np.ones(n_groups * nf, bool)]  # no column for an hour of the week never seen
    coef = np.zeros(design.shape[1])
    coef[keep] = np.linalg.lstsq(design[:, keep], yv, rcond=None)[0]
    tow_coefs = _fill_unseen(coef[:n_tow], seen)
    rank = np.linalg.matrix_rank(design[:, keep])
    slopes = coef[n_tow:].reshape(n_groups, nf)
    model = TowtModel(tow_coefs, occupied, knots, group, slopes,
                      FitMetrics(0, 0, nan, nan, nan, nan, nan, nan, nan, nan),
                      Gl14Verdict("hourly", "reject", ("gl14.no_fit",)), (), tz)
    pred = model.predict(t_ns, temp, day_off, alt_week, closed)
    metrics = fit_metrics(np.where(valid, y, np.nan), pred, int(rank))
    return TowtModel(tow_coefs, occupied, knots, group, slopes, metrics,
                     gl14_verdict(metrics, "hourly"), tuple(dict.fromkeys(dq)), tz)


# ---------------------------------------------------------------------------------------
# hourly change-point model of a heating plant on a setpoint schedule

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

    def predict(self, times_ns: np.ndarray, temp_c: np.ndarray, day_off: np.ndarray | None = None,
                alt_week: np.ndarray | None = None, closed: np.ndarray | None = None) -> np.ndarray:
        """Expected energy per hour, never below zero. [energy unit/h]"""
        tow = _profile_index(time_of_week(times_ns, self.tz, day_off), alt_week, closed, self.tow_coefs.size)
        g = self.group[tow]
        tau = np.nan_to_num(self.balance_c[g])
        heat = self.slope[g] * np.maximum(tau - np.asarray(temp_c, dtype=float), 0.0)
        return np.maximum(self.tow_coefs[tow] + heat, 0.0)


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
    """
    tz = tz or local_tz()
    h = _HourlyData.of(times_ns, energy, temp_c, day_off, alt_week, closed, tz, min_coverage)
    t_ns, y, temp, n_tow, valid, dq = h.t_ns, h.y, h.temp, h.n_tow, h.valid, list(h.dq)
    tv, yv, towv = temp[valid], y[valid], h.tow[valid]
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
        sxx = np.sum(xc * xc, axis=0)
        sxy = np.sum(xc * yc[:, None], axis=0)
        b = np.where(sxx > 1e-9, np.maximum(sxy / np.where(sxx > 1e-9, sxx, 1.0), 0.0), 0.0)
        sse = np.sum((yc[:, None] - xc * b[None, :]) ** 2, axis=0)
        j = int(np.argmin(sse))
        balance[g], slope[g] = grid[j], b[j]
        hows = np.unique(ws)
        alpha[hows] = ybar - b[j] * xbar[:, j]
    alpha = _fill_unseen(alpha, seen)
    group = _fill_unseen(group, seen)
    model = HourlyChangePointModel(alpha, group, balance, slope, occupied, empty,
                                   Gl14Verdict("hourly", "reject", ("gl14.no_fit",)), (), tz)
    pred = model.predict(t_ns, temp, day_off, alt_week, closed)
    n_params = int(seen.sum()) + 2 * int(np.isfinite(balance).sum())
    metrics = fit_metrics(np.where(valid, y, np.nan), pred, n_params)
    return HourlyChangePointModel(alpha, group, balance, slope, occupied, metrics, gl14_verdict(metrics, "hourly"),
                                  tuple(dict.fromkeys(dq)), tz)


# ---------------------------------------------------------------------------------------
# plants that run on demand (event-driven heating)

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
