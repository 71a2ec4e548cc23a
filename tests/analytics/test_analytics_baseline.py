"""Known-truth tests for analytics.baseline: change-point models, TOWT, GL14 metrics, FSU."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.baseline import (
    fit_daily,
    fit_metrics,
    fit_towt,
    fractional_savings_uncertainty,
    gl14_verdict,
    time_of_week,
)
from analytics.synthetic import daily_temperature_c
from terril.timeutil import local_midnight_ns

S = 1_000_000_000


def test_gl14_metrics_by_hand():
    y = np.array([10.0, 12.0, 14.0, 16.0])
    yh = np.array([11.0, 12.0, 13.0, 15.0])
    m = fit_metrics(y, yh, p=2)
    # residuals -1, 0, 1, 1: SSE 3, n-p 2, mean 13, SST 20
    assert m.rmse == pytest.approx(np.sqrt(1.5))
    assert m.cvrmse == pytest.approx(np.sqrt(1.5) / 13.0)
    assert m.nmbe == pytest.approx(1.0 / (2 * 13.0))
    assert m.r2 == pytest.approx(0.85)
    assert m.r2_adj == pytest.approx(1 - 0.15 * 3 / 2)


def test_gl14_gates():
    m = fit_metrics(np.array([10.0, 12.0, 14.0, 16.0]), np.array([11.0, 12.0, 13.0, 15.0]), 2)
    assert gl14_verdict(m, "daily").status == "pass"
    assert gl14_verdict(m, "monthly").status == "pass"
    bad = fit_metrics(np.array([10.0, 1.0, 14.0, 30.0]), np.array([15.0, 12.0, 10.0, 15.0]), 2)
    v = gl14_verdict(bad, "daily")
    assert v.status in ("fail", "reject") and not v.qualifies
    assert v.reasons[0] in ("gl14.cvrmse_too_high", "gl14.cvrmse_above_100pct")


def test_fsu_by_hand():
    # n=365, rho=0.5 -> n' = 365/3 = 121.667; dof = n' - p = 119.667; t(0.95, ~120) = 1.6577
    # FSU = 1.26 * 1.6577 * 0.10 * sqrt(3 * (1 + 2/121.667) / 365) / 0.20 = 0.0955
    f = fractional_savings_uncertainty(0.10, 365, 2, 365, 0.20, rho1=0.5, confidence=0.90)
    assert f == pytest.approx(0.0955, rel=2e-3)
    # without autocorrelation: n' = n, dof 363, t = 1.6490
    f0 = fractional_savings_uncertainty(0.10, 365, 2, 365, 0.20, rho1=0.5, autocorrelation=False)
    assert f0 == pytest.approx(1.26 * 1.6490 * 0.10 * np.sqrt((1 + 2 / 365) / 365) / 0.20, rel=1e-3)


def _days(n, rng, noise):
    t = daily_temperature_c(rng, n)
    weekend = ((np.arange(n) % 7) >= 5).astype(float)
    return t, weekend


def test_change_point_recovers_heating_balance_point_and_slope():
    rng = np.random.default_rng(7)
    t, _ = _days(365, rng, 0)
    e = 80.0 + 6.0 * np.maximum(15.0 - t, 0.0) + rng.normal(0, 3.0, t.size)
    m = fit_daily(t, e, is_electricity=False)
    assert m.kind == "heating"
    assert m.heating_balance_c == pytest.approx(15.0, abs=1.0)
    assert m.heating_slope == pytest.approx(6.0, rel=0.08)
    assert m.intercept == pytest.approx(80.0, rel=0.05)
    assert m.qualifies and m.reasons == ()
    assert m.metrics.p == 3  # intercept, slope, balance point


def test_change_point_heating_cooling_with_day_types():
    rng = np.random.default_rng(11)
    t, weekend = _days(365, rng, 0)
    t = t + 4.0  # warmer site so that cooling days exist
    wed = ((np.arange(365) % 7) == 2).astype(float)
    e = 150.0 + 5.0 * np.maximum(14.0 - t, 0) + 8.0 * np.maximum(t - 20.0, 0) - 60.0 * weekend - 20.0 * wed
    e = e + rng.normal(0, 2.0, t.size)
    x = np.column_stack([weekend, wed])
    m = fit_daily(t, e, regressors=x, regressor_names=("weekend", "wednesday"))
    assert m.kind == "heating_cooling"
    assert m.heating_balance_c == pytest.approx(14.0, abs=1.0)
    assert m.cooling_balance_c == pytest.approx(20.0, abs=1.0)
    assert m.heating_slope == pytest.approx(5.0, rel=0.1)
    assert m.cooling_slope == pytest.approx(8.0, rel=0.1)
    assert m.regressor_coefs == pytest.approx((-60.0, -20.0), abs=1.5)
    pred = m.predict(t, x)
    assert np.sqrt(np.mean((pred - e) ** 2)) < 2.5


def test_flat_consumption_selects_intercept_only():
    rng = np.random.default_rng(3)
    t, _ = _days(365, rng, 0)
    m = fit_daily(t, 100.0 + rng.normal(0, 5, 365))
    assert m.kind == "intercept_only"


def test_insufficient_data_gives_stable_codes():
    rng = np.random.default_rng(5)
    t, _ = _days(365, rng, 0)
    e = 80.0 + 6.0 * np.maximum(15.0 - t, 0.0) + rng.normal(0, 3.0, t.size)
    e[:60] = np.nan
    m = fit_daily(t, e, is_electricity=False)
    assert "baseline.insufficient_days" in m.reasons and not m.qualifies
    short = fit_daily(t[:200], e[100:300], is_electricity=False)
    assert "baseline.period_too_short" in short.reasons
    noisy = fit_daily(t, 100.0 + rng.normal(0, 40.0, 365), is_electricity=False)
    assert "gl14.cvrmse_too_high" in noisy.reasons


def test_towt_recovers_weekly_profile_and_temperature_slope():
    rng = np.random.default_rng(2)
    t0 = local_midnight_ns(dt.date(2023, 1, 2))
    n = 24 * 7 * 40
    times = t0 + np.arange(n, dtype=np.int64) * 3600 * S
    tow = time_of_week(times)
    assert tow[0] == 0 and tow[24] == 24
    occupied = ((tow % 24) >= 8) & ((tow % 24) < 18) & (tow < 120)
    temp = 10 + 8 * np.sin(np.arange(n) / 24 / 365 * 2 * np.pi) + 4 * np.sin(np.arange(n) * 2 * np.pi / 24) + rng.normal(0, 1, n)
    y = 20.0 + 30.0 * occupied + 2.0 * np.maximum(12.0 - temp, 0) * occupied + rng.normal(0, 1.0, n)
    m = fit_towt(times, y, temp)
    assert m.occupied[9] and not m.occupied[2] and not m.occupied[6 * 24 + 10]
    assert m.metrics.cvrmse < 0.05
    assert m.qualifies
    pred = m.predict(times, temp)
    assert np.abs(pred - y).mean() < 1.5
