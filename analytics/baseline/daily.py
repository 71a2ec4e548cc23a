"""Daily change-point models of energy vs temperature (CalTRACK 2.0 daily style: intercept-only,
heating-only, cooling-only, heating+cooling; balance points searched on a grid; selection by
adjusted R² among qualified candidates), with optional day-type regressors built by the caller,
and the data-sufficiency rules of a daily baseline.

Part of :mod:`analytics.baseline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg

from analytics.baseline.metrics import (
    FitMetrics,
    Gl14Verdict,
    _Gate,
    fit_metrics,
    gl14_verdict,
)

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
