"""Known-truth tests of measured savings (IPMVP option C / B, G14 uncertainty, euros, CO₂)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from analytics.savings import (
    DEFAULT_VALUE_FACTORS, GAS_PCS_PER_PCI, NonRoutineAdjustment, Period, ValueFactors, cusum_kwh,
    day_type_regressors, measure_result, meter_savings, monthly_savings, pv_option_b, total,
    typical_year_temperature,
)

BASE = Period(dt.date(2023, 9, 1), dt.date(2024, 8, 31))
REP = Period(dt.date(2024, 9, 1), dt.date(2025, 8, 31))
DATES = np.arange(np.datetime64("2023-09-01"), np.datetime64("2025-09-01"))


def synthetic_school(seed: int, *, saving_pct: float = 0.0, cv: float = 0.10, rho: float = 0.4,
                     temp_shift_c: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A gas-heated school with known truth: base + heating slope below 16 °C, less on days
    without pupils; AR(1) noise; ``saving_pct`` cut from the reporting start."""
    rng = np.random.default_rng(seed)
    n = DATES.size
    doy = np.arange(n) + 244
    noise_t = np.zeros(n)
    w = rng.standard_normal(n)
    for i in range(1, n):
        noise_t[i] = 0.7 * noise_t[i - 1] + np.sqrt(1 - 0.49) * 2.5 * w[i]
    temp = 11.0 - 7.5 * np.cos(2 * np.pi * (doy - 15) / 365.25) + noise_t + temp_shift_c
    x = day_type_regressors(DATES, "four_days")
    school = x[:, 0]
    truth = 60.0 + 40.0 * school + 12.0 * np.maximum(16.0 - temp, 0.0) * (0.7 + 0.3 * school)
    e = np.zeros(n)
    w2 = rng.standard_normal(n)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + math.sqrt(1 - rho * rho) * w2[i]
    obs = truth + cv * truth.mean() * e
    obs = np.where(REP.mask(DATES), obs * (1 - saving_pct / 100.0), obs)
    return temp, obs, x


def run(seed: int, **kw: float):
    temp, obs, x = synthetic_school(seed, **kw)
    return meter_savings(meter="m", site="s", carrier="gas", dates=DATES, energy_kwh=obs, temp_mean_c=temp,
                         regressors=x, baseline=BASE, reporting=REP)


def test_no_change_savings_indistinguishable_from_zero() -> None:
    results = [run(seed) for seed in range(30)]
    assert all(r.qualifies for r in results), [r.reasons for r in results]
    inside90 = np.mean([abs(r.avoided_kwh) <= r.u90_kwh for r in results])
    inside68 = np.mean([abs(r.avoided_kwh) <= r.u68_kwh for r in results])
    # nominal 90 % and 68 % coverage (binomial spread over 30 trials)
    assert inside90 >= 0.8
    assert inside68 >= 0.5
    mean_fraction = np.mean([r.savings_fraction for r in results])
    assert abs(mean_fraction) < 0.01
    assert np.mean([r.significant for r in results]) <= 0.2


def test_twelve_percent_retrofit_recovered_within_uncertainty() -> None:
    results = [run(seed, saving_pct=12.0) for seed in range(30)]
    truth_kwh = [r.adjusted_baseline_total_kwh * 0.12 for r in results]
    within = np.mean([abs(r.avoided_kwh - t) <= r.u90_kwh for r, t in zip(results, truth_kwh)])
    assert within >= 0.8
    assert all(r.significant for r in results)
    assert np.mean([r.savings_fraction for r in results]) == pytest.approx(0.12, abs=0.01)
    # the FSU at 90 % is the G14 one: ~ ΔE / AEU, and narrower at 68 %
    r = results[0]
    assert 0 < r.fsu68 < r.fsu90 < 0.5


def test_uncertainty_grows_with_noise_and_autocorrelation() -> None:
    quiet = run(1, cv=0.05, rho=0.0)
    noisy = run(1, cv=0.20, rho=0.0)
    correlated = run(1, cv=0.20, rho=0.7)
    assert quiet.u90_kwh < noisy.u90_kwh < correlated.u90_kwh


def test_normalised_savings_for_a_typical_year() -> None:
    temp, obs, x = synthetic_school(3, saving_pct=12.0)
    typical = typical_year_temperature(DATES, temp)
    r = meter_savings(meter="m", site="s", carrier="gas", dates=DATES, energy_kwh=obs, temp_mean_c=temp,
                      regressors=x, baseline=BASE, reporting=REP, typical_temp_c=typical)
    assert r.normal_year_hdd > 1500  # a northern-France heating year at base 18 °C
    # 12 % of a typical-year consumption (~ the same order as the reporting year's baseline)
    assert r.normalised_savings_kwh == pytest.approx(0.12 * r.adjusted_baseline_total_kwh, rel=0.2)


def test_climate_adjustment_moves_in_the_right_direction() -> None:
    # same building, same behaviour; a colder reporting year raises the adjusted baseline
    # by the heating slope × extra degree-days, and the avoided energy stays ~0
    t, obs, x = synthetic_school(5)
    cold_temp = np.where(REP.mask(DATES), t - 2.0, t)
    rng = np.random.default_rng(5)
    school = x[:, 0]
    extra = 12.0 * (np.maximum(16.0 - cold_temp, 0) - np.maximum(16.0 - t, 0)) * (0.7 + 0.3 * school)
    cold_obs = obs + np.where(REP.mask(DATES), extra, 0.0) + 0 * rng.random()
    mild = meter_savings(meter="m", site="s", carrier="gas", dates=DATES, energy_kwh=obs, temp_mean_c=t,
                         regressors=x, baseline=BASE, reporting=REP)
    cold = meter_savings(meter="m", site="s", carrier="gas", dates=DATES, energy_kwh=cold_obs,
                         temp_mean_c=cold_temp, regressors=x, baseline=BASE, reporting=REP)
    expected_rise = float(extra[REP.mask(DATES)].sum())
    rise = cold.adjusted_baseline_total_kwh - mild.adjusted_baseline_total_kwh
    assert rise == pytest.approx(expected_rise, rel=0.1)
    assert abs(cold.avoided_kwh - mild.avoided_kwh) < mild.u90_kwh


def test_non_routine_adjustment_is_added_to_the_adjusted_baseline() -> None:
    temp, obs, x = synthetic_school(7)
    # an extension adds 20 kWh/day in the reporting period: without adjustment it reads as a loss
    added = np.where(REP.mask(DATES) & (DATES >= np.datetime64("2025-01-01")), 20.0, 0.0)
    plain = meter_savings(meter="m", site="s", carrier="gas", dates=DATES, energy_kwh=obs + added,
                          temp_mean_c=temp, regressors=x, baseline=BASE, reporting=REP)
    nra = NonRoutineAdjustment("m", dt.date(2025, 1, 1), dt.date(2025, 8, 31), 20.0 * 243, "extension: +200 m²")
    adjusted = meter_savings(meter="m", site="s", carrier="gas", dates=DATES, energy_kwh=obs + added,
                             temp_mean_c=temp, regressors=x, baseline=BASE, reporting=REP, adjustments=(nra,))
    assert plain.avoided_kwh < -0.8 * 20 * 243
    assert adjusted.nra_kwh == pytest.approx(20.0 * 243)
    assert adjusted.avoided_kwh == pytest.approx(plain.avoided_kwh + 20.0 * 243)
    assert adjusted.adjustments == (nra,)
    with pytest.raises(ValueError):
        NonRoutineAdjustment("m", dt.date(2025, 1, 1), dt.date(2025, 1, 2), 1.0, " ")


def test_missing_days_are_masked_not_booked() -> None:
    temp, obs, x = synthetic_school(8, saving_pct=12.0)
    holes = obs.copy()
    holes[REP.mask(DATES) & (np.arange(DATES.size) % 5 == 0)] = np.nan
    r = meter_savings(meter="m", site="s", carrier="gas", dates=DATES, energy_kwh=holes, temp_mean_c=temp,
                      regressors=x, baseline=BASE, reporting=REP)
    assert r.reporting_valid_days == REP.days - int((REP.mask(DATES) & (np.arange(DATES.size) % 5 == 0)).sum())
    assert r.savings_fraction == pytest.approx(0.12, abs=0.02)


def test_value_factors_euros_and_co2() -> None:
    f = ValueFactors(tariff_eur_per_kwh=(("gas", 0.1),))
    assert f.eur("gas", 1000.0) == pytest.approx(100.0)
    # gas kWh PCS → PCI before the PCI factor
    assert f.co2_kg("gas", 1100.0) == pytest.approx(1100.0 / GAS_PCS_PER_PCI * 0.227)
    assert ValueFactors(gas_kwh_basis="pci").co2_kg("gas", 1000.0) == pytest.approx(227.0)
    assert f.co2_kg("water", 10.0) == 0.0
    for ef in DEFAULT_VALUE_FACTORS.emission_factors:
        assert ef.source and ef.vintage and 0 < ef.kg_co2e_per_kwh < 1


def test_totals_combine_uncertainty_in_quadrature_and_skip_unqualified() -> None:
    a, b = run(1, saving_pct=10.0), run(2, saving_pct=10.0)
    temp, obs, x = synthetic_school(9)
    short = meter_savings(meter="short", site="s", carrier="gas", dates=DATES[:200], energy_kwh=obs[:200],
                          temp_mean_c=temp[:200], regressors=x[:200], baseline=Period(BASE.start, dt.date(2023, 12, 31)),
                          reporting=Period(dt.date(2024, 1, 1), dt.date(2024, 3, 18)))
    assert not short.qualifies and "baseline.period_too_short" in short.reasons
    tot = total("all", "gas", [a, b, short])
    assert tot.meters == ("m", "m")
    assert tot.avoided_kwh == pytest.approx(a.avoided_kwh + b.avoided_kwh)
    assert tot.u90_kwh == pytest.approx(math.hypot(a.u90_kwh, b.u90_kwh))


def test_monthly_rows_sum_to_the_total_and_cusum() -> None:
    r = run(4, saving_pct=12.0)
    rows = monthly_savings(r)
    assert len(rows) == 12
    assert sum(m.avoided_wh for m in rows) == pytest.approx(r.avoided_kwh * 1000.0)
    assert rows[-1].cumulative_avoided_wh == pytest.approx(r.avoided_kwh * 1000.0)
    assert rows[0].month == dt.date(2024, 9, 1)
    c = cusum_kwh(r.actual_kwh, r.adjusted_baseline_kwh)
    assert c[-1] == pytest.approx(-r.avoided_kwh)


def test_measure_realised_vs_expected_and_payback() -> None:
    r = run(6, saving_pct=12.0)
    res = measure_result("m1", "s", "insulation", dt.date(2024, 9, 1), 50_000.0, 12.0, [r])
    assert res.status == "on_track"
    assert res.realised_pct == pytest.approx(12.0, abs=1.5)
    assert res.simple_payback_years == pytest.approx(50_000.0 / (r.avoided_eur * 365 / r.reporting_valid_days))
    worse = measure_result("m1", "s", "insulation", dt.date(2024, 9, 1), 50_000.0, 30.0, [r])
    assert worse.status == "below"
    none = measure_result("m2", "s", "pv", dt.date(2024, 9, 1), 1.0, 5.0, [])
    assert none.status == "no_data"


def test_pv_option_b() -> None:
    prod = np.full(DATES.size, 50.0)
    sc = np.full(DATES.size, 30.0)
    r = pv_option_b(meter="pv", site="s", dates=DATES, production_kwh=prod, reporting=REP, self_consumed_kwh=sc,
                    export_eur_per_kwh=0.1)
    assert r.avoided_kwh == pytest.approx(30.0 * REP.days)
    assert r.avoided_eur == pytest.approx(30.0 * REP.days * 0.20 + 20.0 * REP.days * 0.1)
    assert r.avoided_co2_kg == pytest.approx(30.0 * REP.days * 0.052)
    assert r.option == "B" and r.u90_kwh == pytest.approx(0.02 * r.avoided_kwh)


def test_period_parse() -> None:
    p = Period.parse("2024-01-01..2024-12-31")
    assert p.days == 366 and str(p) == "2024-01-01..2024-12-31"
    with pytest.raises(ValueError):
        Period.parse("2024-01-01")
    with pytest.raises(ValueError):
        Period.parse("2024-02-01..2024-01-01")


def test_prices_from_settings_value_the_savings(monkeypatch):
    from analytics.savings import DEFAULT_VALUE_FACTORS, value_factors_from_prices
    from terril.settings import load_settings

    assert value_factors_from_prices(load_settings().prices).tariff("gas") == DEFAULT_VALUE_FACTORS.tariff("gas")
    monkeypatch.setenv("TERRIL_PRICES__GAS_EUR_PER_KWH", "0.15")
    monkeypatch.setenv("TERRIL_PRICES__GAS_KG_CO2E_PER_KWH", "0.2")
    monkeypatch.setenv("TERRIL_PRICES__GAS_KWH_BASIS", "pci")
    vf = value_factors_from_prices(load_settings().prices)
    assert vf.eur("gas", 1000) == 150.0
    assert vf.co2_kg("gas", 1000) == 200.0  # pci: no PCS -> PCI conversion
    assert vf.factor("gas").source == "settings (prices.*)"


def test_a_public_holiday_on_a_weekend_is_counted_once():
    from analytics.savings import REGRESSOR_NAMES, day_type_regressors

    days = np.array(["2024-11-01", "2025-11-01", "2026-11-01"], dtype="datetime64[D]")  # Fri, Sat, Sun
    x = day_type_regressors(days, None)
    ph, we = REGRESSOR_NAMES.index("public_holiday"), REGRESSOR_NAMES.index("weekend")
    assert x[:, ph].tolist() == [1.0, 0.0, 0.0]
    assert x[:, we].tolist() == [0.0, 1.0, 1.0]
