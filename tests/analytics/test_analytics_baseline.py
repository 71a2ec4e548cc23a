"""Known-truth tests for analytics.baseline: change-point models, TOWT, GL14 metrics, FSU."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.baseline import (
    HOUR_CLASSES,
    class_variances,
    fit_daily,
    fit_hourly_change_point,
    fit_metrics,
    fit_operating_power,
    fit_towt,
    fractional_savings_uncertainty,
    gl14_verdict,
    run_positions,
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


def _hours(first: dt.date, n_days: int) -> np.ndarray:
    return local_midnight_ns(first) + np.arange(24 * n_days, dtype=np.int64) * 3600 * S


def test_towt_closed_days_and_second_week_profile_have_their_own_coefficients():
    # a sports hall: busy weekday evenings and Sunday mornings; in the school holidays also busy weekday
    # mornings (camps); closed (base load only) on its closure days, which are neither Sundays nor holidays
    rng = np.random.default_rng(5)
    times = _hours(dt.date(2023, 1, 2), 7 * 52)
    tow = time_of_week(times)
    h, wd = tow % 24, tow // 24
    day = np.arange(times.size) // 24
    holiday = (day // 7) % 6 == 5  # one week in six
    closed = (day % 29) == 3  # scattered closure days
    busy = ((wd < 5) & (h >= 18) & (h < 22)) | ((wd == 6) & (h >= 9) & (h < 13)) | (holiday & (wd < 5) & (h >= 9) & (h < 12))
    y = np.where(closed, 5.0, 5.0 + 40.0 * busy) + rng.normal(0, 0.5, times.size)
    temp = np.full(times.size, 12.0) + rng.normal(0, 3, times.size)
    m = fit_towt(times, y, temp, alt_week=holiday, closed=closed)
    assert m.tow_coefs.size == 360 and m.qualifies
    pred = m.predict(times, temp, alt_week=holiday, closed=closed)
    assert np.abs(pred - y)[closed].mean() < 1.0  # closed days: the base load, not a Sunday
    assert np.abs(pred - y)[holiday & ~closed].mean() < 1.0  # holiday mornings are busy
    # without the profiles the same data is fitted much worse
    plain = fit_towt(times, y, temp)
    assert np.abs(plain.predict(times, temp) - y).mean() > 3 * np.abs(pred - y).mean()


def test_hourly_change_point_recovers_each_balance_point_of_a_setpoint_schedule():
    # truth: a school heated to comfort from 8 to 17 on weekdays (balance 16.5 °C), boosted from 6 to 8
    # (19.5 °C) and kept at a setback otherwise (11 °C); 900 W/K; hot water 2 kWh in class hours
    rng = np.random.default_rng(6)
    times = _hours(dt.date(2023, 10, 2), 26 * 7)
    tow = time_of_week(times)
    h, wd = tow % 24, tow // 24
    weekday = wd < 5
    balance = np.where(weekday & (h >= 8) & (h < 17), 16.5, np.where(weekday & (h >= 6) & (h < 8), 19.5, 11.0))
    # mild to cold spells (1-23 °C): every balance point is crossed
    temp = 12.0 + 10.0 * np.sin(np.arange(times.size) * 2 * np.pi / (24 * 9)) + rng.normal(0, 1.0, times.size)
    y = 900.0 * np.maximum(balance - temp, 0.0) + 2000.0 * (weekday & (h >= 8) & (h < 17))
    y = y * (1 + rng.normal(0, 0.02, times.size))
    m = fit_hourly_change_point(times, y, temp)
    assert m.qualifies, m.reasons
    for hour, tau in ((7, 19.5), (10, 16.5), (2, 11.0)):
        g = m.group[hour]  # a Monday hour
        assert m.balance_c[g] == pytest.approx(tau, abs=0.5), (hour, m.balance_c[g])
        assert m.slope[g] == pytest.approx(900.0, rel=0.05)
    # the TOWT model's shared piecewise-linear response does worse on the same hours
    towt = fit_towt(times, y, temp)
    assert m.metrics.cvrmse < 0.5 * towt.metrics.cvrmse
    # never below zero, even far above every balance point
    assert (m.predict(times[:48], np.full(48, 30.0)) >= 0).all()


def _lit_building(rng: np.random.Generator, n_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Offices lit in working hours; daylight dims the lighting (half the occupied load) linearly up to
    300 W/m² outside, cloudy and bright days at random. Returns (times, energy, temperature, irradiance)."""
    times = _hours(dt.date(2023, 1, 2), n_days)
    tow = time_of_week(times)
    h, wd = tow % 24, tow // 24
    day = np.arange(times.size) // 24
    clear_sky = np.clip(700.0 * np.sin(np.pi * (h - 6) / 13.0), 0.0, None)
    clouds = rng.uniform(0.05, 1.0, n_days)[day]  # one sky per day
    ghi = clear_sky * clouds * (1 + rng.normal(0, 0.05, times.size))
    occupied = (wd < 5) & (h >= 8) & (h < 18)
    lighting = 20.0 * (1.0 - np.clip(ghi / 300.0, 0.0, 0.7))
    y = 10.0 + occupied * (20.0 + lighting) + rng.normal(0, 0.5, times.size)
    temp = 12.0 + rng.normal(0, 3.0, times.size)
    return times, y, temp, ghi


def test_towt_with_irradiance_learns_the_daylight_on_the_lighting():
    # the electricity models' daylight term: lighting follows the clouds, which the calendar cannot see
    times, y, temp, ghi = _lit_building(np.random.default_rng(11), 7 * 30)
    plain = fit_towt(times, y, temp)
    lit = fit_towt(times, y, temp, irradiance_w_m2=ghi)
    assert lit.qualifies and lit.irradiance_slopes.shape == (48, 4)
    day = np.arange(times.size) // 24
    occupied = (time_of_week(times) // 24 < 5) & (time_of_week(times) % 24 >= 8) & (time_of_week(times) % 24 < 18)
    daily_err = {}
    for name, pred in (("plain", plain.predict(times, temp)), ("lit", lit.predict(times, temp, irradiance_w_m2=ghi))):
        daily_err[name] = np.std(np.bincount(day, weights=(y - pred) * occupied))
    # day-to-day error of the occupied hours (units of energy per day): 31 without, 2.1 with the daylight term (seed 11)
    assert daily_err["lit"] < 0.2 * daily_err["plain"], daily_err
    # a dark noon (50 W/m²) needs 5/6 of the full lighting, a bright one (600 W/m²) 30 %: 10.7 more; the
    # segments bend at their knots, the truth at 210 W/m²
    monday_noon = np.array([times[12]])
    dark = lit.predict(monday_noon, np.array([12.0]), irradiance_w_m2=np.array([50.0]))[0]
    bright = lit.predict(monday_noon, np.array([12.0]), irradiance_w_m2=np.array([600.0]))[0]
    assert dark - bright == pytest.approx(20.0 * (0.7 - 50.0 / 300.0), abs=2.0)
    with pytest.raises(ValueError):
        lit.predict(times[:24], temp[:24])  # fitted with irradiance: it is needed to predict


def test_hourly_change_point_with_irradiance_keeps_its_balance_points_and_learns_the_daylight():
    rng = np.random.default_rng(12)
    times, y, _, ghi = _lit_building(rng, 7 * 26)
    temp = 8.0 + 8.0 * np.sin(np.arange(times.size) * 2 * np.pi / (24 * 9)) + rng.normal(0, 1.0, times.size)
    y = y + 5.0 * np.maximum(14.0 - temp, 0.0)  # an electrically heated building
    plain = fit_hourly_change_point(times, y, temp)
    lit = fit_hourly_change_point(times, y, temp, irradiance_w_m2=ghi)
    assert lit.qualifies and lit.irradiance_slopes.shape == (48, 4)
    g = lit.group[10]  # a Monday, 10:00
    assert lit.balance_c[g] == pytest.approx(14.0, abs=0.5)
    assert lit.slope[g] == pytest.approx(5.0, rel=0.1)
    assert lit.metrics.cvrmse < 0.5 * plain.metrics.cvrmse  # measured 1.1 % against 4.3 % (seed 12)
    noon = np.array([times[12]])
    dark = lit.predict(noon, np.array([20.0]), irradiance_w_m2=np.array([50.0]))[0]
    bright = lit.predict(noon, np.array([20.0]), irradiance_w_m2=np.array([600.0]))[0]
    assert dark - bright == pytest.approx(20.0 * (0.7 - 50.0 / 300.0), abs=2.0)


def test_run_positions():
    flags = np.array([0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1], dtype=bool)
    # warm-up positions 1..cap-2, holding hours cap-1, the last hour of a run of 2+ hours: cap
    assert run_positions(flags, cap=5).tolist() == [0, 1, 2, 5, 0, 1, 0, 1, 2, 3, 4, 4, 4, 4]
    closed = np.r_[flags[:-1], False]
    assert run_positions(closed, cap=5).tolist()[-2] == 5


def _event_plant(rng: np.random.Generator, n_days: int, factor: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A church: frost protection below 3 °C (7.5 kWh/K), heated for services on random days: 4 hours of
    boost to 15 °C then 1-2 hours at 12 °C."""
    n = 24 * n_days
    temp = 5.0 + 4.0 * np.sin(np.arange(n) * 2 * np.pi / (24 * 11)) + rng.normal(0, 0.5, n)
    balance = np.full(n, 3.0)
    for d in np.flatnonzero(rng.random(n_days) < 0.3):
        start = 24 * d + int(rng.integers(6, 14))
        balance[start:start + 4] = 15.0
        balance[start + 4:start + 4 + int(rng.integers(1, 3))] = 12.0
    day_factor = np.repeat(np.exp(rng.normal(0, 0.03, n_days)), 24)
    return 7500.0 * np.maximum(balance - temp, 0.0) * day_factor * factor, temp


def test_operating_power_model_predicts_the_hours_a_plant_ran_and_sees_a_15pct_rise():
    rng = np.random.default_rng(7)
    y, temp = _event_plant(rng, 180)
    m = fit_operating_power(y, temp)
    assert m.qualifies, m.disqualifications
    assert m.standby_balance_c == pytest.approx(3.0, abs=0.5)
    assert m.standby_slope == pytest.approx(7500.0, rel=0.05)
    assert 0.03 < m.boost_share < 0.3
    # daily energy predicted from the hours run, on new data with and without a 15 % rise
    y2, temp2 = _event_plant(np.random.default_rng(8), 120)
    y3 = y2 * 1.15
    day = np.arange(y2.size) // 24
    for obs, expected_ratio in ((y2, 1.0), (y3, 1.15)):
        pred = m.predict(obs, temp2)
        on = np.bincount(day, weights=m.modes(obs, temp2)[1]) > 0
        ratio = np.bincount(day, weights=obs)[on].sum() / np.bincount(day, weights=pred)[on].sum()
        assert ratio == pytest.approx(expected_ratio, abs=0.03)


def test_operating_power_model_refuses_a_plant_that_runs_on_a_schedule():
    times = _hours(dt.date(2023, 1, 2), 120)
    h = time_of_week(times) % 24
    temp = np.full(times.size, 5.0)
    y = np.where((h >= 6) & (h < 20), 50_000.0, 20_000.0)  # always on, boosted by day
    m = fit_operating_power(y, temp)
    assert not m.qualifies
    assert m.disqualifications == ("baseline.not_intermittent",)
    few = fit_operating_power(np.r_[np.zeros(2000), 5000.0 * np.ones(50)], np.zeros(2050))
    assert few.disqualifications == ("baseline.insufficient_operating_hours",)


def test_hour_classes_and_their_variances_for_the_weighted_daily_excess():
    """Each hour of a plant that runs on demand is off (0), standby (1) or a boost hour of its place in the run
    (2 + …); the variance of a boost class with too few hours is the pooled boost variance."""
    rng = np.random.default_rng(3)
    y, temp = _event_plant(rng, 240)
    m = fit_operating_power(y, temp)
    cls = m.hour_classes(y, temp)
    on, boost = m.modes(y, temp)
    assert np.array_equal(cls == 0, ~on) and np.array_equal(cls == 1, on & ~boost)
    assert np.array_equal(cls[boost] - 1, run_positions(boost)[boost])
    resid = rng.normal(0.0, 1.0, y.size) * np.where(cls == 2, 3.0, 1.0)  # the first boost hour is wider
    var = class_variances(resid, cls, min_hours=20)
    assert var.shape == (HOUR_CLASSES,)
    assert var[2] == pytest.approx(9.0, rel=0.35) and var[3] == pytest.approx(1.0, rel=0.35)
    sparse = [k for k in range(2, HOUR_CLASSES) if (cls == k).sum() < 20]
    pooled = float(np.mean(resid[cls >= 2] ** 2))
    assert sparse and all(var[k] == pytest.approx(pooled) for k in sparse)
