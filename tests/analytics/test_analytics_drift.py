"""Known-truth tests for analytics.drift, including a Monte-Carlo of detection performance."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.baseline import fit_daily
from analytics.consumption import counter_to_deltas
from analytics.drift import (
    DEFAULT_BASELOAD,
    DEFAULT_DRIFT,
    detect_baseload_drift,
    detect_drift,
    detect_silent,
    detect_stuck,
    estimate_noise,
    run_charts,
    siegmund_arl,
    with_cost,
)
from analytics.synthetic import ar1_noise, daily_fleet, hourly_base_load_w
from terril.timeutil import local_midnight_ns

S = 1_000_000_000
DAY = 86_400 * S
DAY0 = local_midnight_ns(dt.date(2023, 1, 2))


def _chain(seed: int, drift_pct: float = 0.0, onset: int = 0, cv: float = 0.10, rho: float = 0.3):
    """One meter: fit the baseline on year 1, monitor years 2-3."""
    rng = np.random.default_rng(seed)
    f = daily_fleet(rng, 1, 3 * 365, cv=cv, rho=rho)
    obs = f.observed_kwh[0].copy()
    obs[365 + onset :] += f.expected_kwh[0, 365 + onset :] * drift_pct / 100.0
    x = f.weekend[:, None]
    m = fit_daily(f.temp_c[:365], obs[:365], regressors=x[:365], regressor_names=("weekend",), is_electricity=False)
    pred = m.predict(f.temp_c, x)
    noise = estimate_noise(obs[:365] - pred[:365], float(np.mean(pred[:365])))
    days = DAY0 + np.arange(3 * 365, dtype=np.int64) * DAY  # day starts (UTC spacing is enough here)
    return detect_drift("m1", days[365:], obs[365:], pred[365:], noise), days[365:]


def test_clean_meters_over_two_years_raise_at_most_the_design_rate():
    # 10 seeds fixed in advance, two monitored years each, full chain (fit, predict, charts).
    # Design false-alarm rate ~0.2 per meter-year => ~4 expected alarms in 20 meter-years;
    # at least 6 of 10 meters must stay silent and no meter may raise more than one alert.
    counts = [len(_chain(seed)[0]) for seed in range(10)]
    assert sum(c == 0 for c in counts) >= 6, counts
    assert max(counts) <= 1, counts


def test_injected_15pct_drift_is_found_with_onset_within_a_week():
    # 20 seeds fixed in advance, residual CV 10 %, AR(1) 0.3, +15 % step 200 days into monitoring.
    # Measured: every drift found; onset (CUSUM's last zero) within 7 days for ~3/4 of them.
    onset = 200
    errors = []
    for seed in range(20):
        alerts, days = _chain(seed, drift_pct=15.0, onset=onset)
        ups = [a for a in alerts if a.kind == "drift_up" and a.detected_ns > days[onset]]
        assert ups, (seed, alerts)
        a = ups[0]
        errors.append(abs(int(a.onset_ns - days[onset])) / DAY)
        if errors[-1] <= 7:
            assert 5.0 < a.magnitude_pct < 40.0
        assert a.evidence is not None and a.evidence.residual.size == (a.detected_ns - a.onset_ns) // DAY
        costed = with_cost(a, 0.2, 0.05)
        assert costed.cost_eur == pytest.approx(a.magnitude_kwh_per_day * (a.detected_ns - a.onset_ns) / DAY * 0.2)
    assert np.mean(np.array(errors) <= 7) >= 0.70, errors
    assert np.median(errors) <= 2, errors


def test_siegmund_arl_matches_the_textbook_value():
    # k = 0.5, h = 5, one-sided: (e^{2·0.5·6.166} − 6.166 − 1)/(2·0.25) = 938.2;
    # two-sided 1/(1/938.2 + 1/938.2) = 469 (Montgomery's exact value is 465)
    one = siegmund_arl(0.5, 5.0)
    assert one == pytest.approx((np.exp(6.166) - 6.166 - 1.0) / 0.5)
    assert 1.0 / (2.0 / one) == pytest.approx(465, rel=0.01)


def _residual_mc(cv: float, rho: float, drift_pct: float, m: int, seed: int):
    """Residual-level Monte-Carlo: baseline year -> noise estimate; two monitored years."""
    rng = np.random.default_rng(seed)
    level = 100.0
    e = ar1_noise(rng, m, 365 + 730, cv * level, rho)
    base = e[:, :365]
    c = base - base.mean(axis=1, keepdims=True)
    rho_hat = (c[:, 1:] * c[:, :-1]).sum(axis=1) / (c * c).sum(axis=1)
    mon = e[:, 365:] - base.mean(axis=1, keepdims=True)  # the baseline level is estimated
    onset = rng.integers(30, 670, m)
    if drift_pct:
        mon = mon + np.where(np.arange(730)[None, :] >= onset[:, None], drift_pct / 100.0 * level, 0.0)
    run = run_charts(mon, base.std(axis=1, ddof=1), rho_hat, np.full(m, level), DEFAULT_DRIFT)
    if not drift_pct:
        return (run.alarm_up | run.alarm_down).sum() / (m * 2.0)
    first = np.array([(lambda i: i[0] if i.size else 10**6)(np.flatnonzero(run.alarm_up[k, onset[k]:])) for k in range(m)])
    return float(np.mean(first + 1 <= 21))  # alarm at the end of day index i = i + 1 days after onset


def test_monte_carlo_false_alarms_and_detection():
    measured = {}
    for cv, rho in [(0.05, 0.3), (0.10, 0.3), (0.15, 0.5)]:
        fa = _residual_mc(cv, rho, 0.0, 500, 10)
        det = _residual_mc(cv, rho, 10.0, 500, 11)
        measured[(cv, rho)] = (fa, det)
        assert fa <= 0.25, (cv, rho, fa)
    print("residual-level MC (false alarms/meter-year, share of +10% drifts within 21 days):", measured)
    # the 90 % / 21-day target holds when the residual noise is low enough ...
    assert measured[(0.05, 0.3)][1] >= 0.90
    # ... and the charts still see most drifts at 10 % CV
    assert measured[(0.10, 0.3)][1] >= 0.40


def test_baseload_rise_detected_within_a_week():
    rng = np.random.default_rng(4)
    m, nb, nm = 300, 365, 365
    x = hourly_base_load_w(rng, m, nb + nm, day_cv=0.04, day_rho=0.3, hour_cv=0.05)
    onset = rng.integers(30, nm - 30, m)
    x_drift = x.copy()
    x_drift[:, nb:, :] *= np.where(np.arange(nm)[None, :] >= onset[:, None], 1.15, 1.0)[:, :, None]
    days = DAY0 + np.arange(nb + nm, dtype=np.int64) * DAY
    fa = det = 0
    for k in range(m):
        fa += len(detect_baseload_drift("m", days, np.percentile(x[k, :, 0:5], 5, axis=1), nb))
        alerts = detect_baseload_drift("m", days, np.percentile(x_drift[k, :, 0:5], 5, axis=1), nb)
        hit = [a for a in alerts if a.kind == "baseload_up" and a.detected_ns > days[nb + onset[k]]]
        det += bool(hit) and hit[0].detected_ns - days[nb + onset[k]] <= 7 * DAY
    print(f"base load: false alarms/meter-year {fa / m:.3f}, detected within 7 days {det / m:.3f}")
    assert fa / m <= 0.25
    assert det / m >= 0.90
    assert DEFAULT_BASELOAD.target_shift_pct == 15.0


def test_a_base_load_episode_closes_when_the_night_load_comes_back():
    """A heater left on for 40 nights, then switched off: its base-load alert is closed when the
    load is back, not left open for ever; a rise that lasts stays open."""
    from analytics.drift_models import baseload_episodes

    rng = np.random.default_rng(7)
    nb, nm = 365, 200
    x = np.percentile(hourly_base_load_w(rng, 1, nb + nm, day_cv=0.04, day_rho=0.3, hour_cv=0.05)[0, :, 0:5], 5,
                      axis=1)
    days = DAY0 + np.arange(nb + nm, dtype=np.int64) * DAY
    on, off = nb + 60, nb + 100
    back = x.copy()
    back[on:off] += 600.0  # 600 W on a ~1.8 kW night load
    lasting = x.copy()
    lasting[on:] += 600.0
    for series, state in ((back, "closed"), (lasting, "open")):
        found = detect_baseload_drift("m", days, series, nb)
        eps = [e for e in baseload_episodes(found, days, series, nb) if e.kind == "baseload_up"]
        assert len(eps) == 1, eps
        ep = eps[0]
        assert ep.state == state and days[on] <= ep.onset_ns <= days[on + 3]
        assert 450.0 <= ep.magnitude_w <= 750.0
        if state == "closed":
            assert days[off] <= ep.end_ns <= days[off + 3]
        else:
            assert ep.end_ns is None


def test_silent_meter_open_and_closed():
    t = DAY0 + np.r_[np.arange(10), np.arange(30, 40)] * 600 * S
    alerts = detect_silent("m", t, expected_interval_s=600, missing_intervals=6, now_ns=int(t[-1]) + 7 * 600 * S)
    assert [(a.kind, a.state) for a in alerts] == [("silent", "closed"), ("silent", "open")]
    assert alerts[0].onset_ns == t[9] + 600 * S
    assert detect_silent("m", t, expected_interval_s=600, missing_intervals=25) == ()


def test_stuck_meter_alert():
    t = DAY0 + np.arange(100) * 600 * S
    v = np.arange(100) * 100.0
    v[40:70] = v[40]
    v[70:] -= v[70] - v[40]
    ic = counter_to_deltas(t, v, stuck_intervals=12)
    alerts = detect_stuck("m", ic, min_intervals=12)
    assert len(alerts) == 1 and alerts[0].state == "closed"
    assert alerts[0].onset_ns == t[40]
    assert alerts[0].detected_ns == t[52]


# ---------------------------------------------------------------------------------------
# heteroscedastic residuals and the drift job's pure core (analytics.drift_models)


def _hetero_series(rng: np.random.Generator, n: int, sigma0: float, cv: float) -> tuple[np.ndarray, np.ndarray]:
    """Expected level with a seasonal swing (20..220 kWh/day) and residuals σ_d = sqrt(σ0² + (cv·E)²)."""
    day = np.arange(n)
    expected = 120.0 + 100.0 * np.cos(2 * np.pi * day / 365.0)
    resid = rng.standard_normal(n) * np.sqrt(sigma0 ** 2 + (cv * expected) ** 2)
    return expected, resid


def test_scaled_noise_recovers_level_and_proportional_parts():
    from analytics.drift import estimate_scaled_noise

    rng = np.random.default_rng(11)
    expected, resid = _hetero_series(rng, 3000, 3.0, 0.07)
    noise = estimate_scaled_noise(resid, expected)
    assert noise.cv == pytest.approx(0.07, rel=0.1)
    assert noise.sigma0 == pytest.approx(3.0, rel=0.35)
    assert noise.rho1 < 0.1
    # a summer day (20 kWh) is predicted far less noisy than a winter day (220 kWh)
    s = noise.sigma(np.array([20.0, 220.0]))
    assert s[1] > 3 * s[0]


def test_weighted_scaled_noise_gets_the_quiet_days_right_where_the_unweighted_fit_cannot():
    """A workshop heated electrically: 25 kWh on a summer day, up to 600 on a winter one; σ0 = 3 kWh, c = 7 %.
    On one baseline year (365 days) the unweighted fit of r² is set by the winter days, whose r² vary by
    thousands: its σ0 is anywhere. The weighted fit (each r² by the inverse square of its variance) finds it."""
    from analytics.drift import estimate_scaled_noise

    day = np.arange(365)
    expected = 312.5 + 287.5 * np.cos(2 * np.pi * day / 365.0)  # 25 .. 600 kWh/day
    err_plain, err_weighted = [], []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        resid = rng.standard_normal(day.size) * np.sqrt(3.0 ** 2 + (0.07 * expected) ** 2)
        plain = estimate_scaled_noise(resid, expected)
        weighted = estimate_scaled_noise(resid, expected, weighted=True)
        assert weighted.cv == pytest.approx(0.07, rel=0.15)
        # the σ of a summer day, relative to the truth
        truth = np.hypot(3.0, 0.07 * 25.0)
        err_plain.append(abs(float(plain.sigma(np.array([25.0]))[0]) / truth - 1.0))
        err_weighted.append(abs(float(weighted.sigma(np.array([25.0]))[0]) / truth - 1.0))
    # measured (20 seeds): error of a summer day's σ, median 6 % weighted against 16 % unweighted, at worst
    # 16 % against 187 %
    assert np.median(err_weighted) < 0.5 * np.median(err_plain)
    assert max(err_weighted) < 0.25 < max(err_plain)


def test_scaled_drift_finds_a_10pct_step_fast_and_stays_quiet_on_clean_series():
    """Multiplicative noise (CV 7 %, what a heating plant's day-to-day variation looks like): a +10 % step
    starting in the heating season (expected above its yearly mean) is found within 21 days in ≥ 90 % of 40
    meters; 40 clean meter-years raise ≤ 0.25 alarms per meter-year. (In summer, where the level-independent
    part σ0 dominates, detection is slower: docs/analytics.md §5.1.)"""
    from analytics.drift import DriftSettings, detect_drift_scaled

    settings = DriftSettings(two_sided=False, sigma_inflation=1.1)
    rng = np.random.default_rng(5)
    t = DAY0 + DAY * np.arange(730, dtype=np.int64)
    found = false = 0
    for _ in range(40):
        expected, resid = _hetero_series(rng, 730, 2.0, 0.07)
        clean = detect_drift_scaled("m", t, expected + resid, expected, 365, settings)
        false += len(clean)
        season = 365 + np.flatnonzero(expected[365:709] > 140.0)
        onset = int(season[rng.integers(0, season.size)])
        obs = expected + resid
        obs[onset:] += 0.10 * expected[onset:]
        alerts = detect_drift_scaled("m", t, obs, expected, 365, settings)
        hit = [a for a in alerts if a.kind == "drift_up" and t[onset] <= a.detected_ns <= t[onset] + 21 * DAY]
        found += bool(hit)
    assert found >= 36
    assert false / 40 <= 0.25


def test_heating_season_is_learnt_from_the_baseline_year():
    from analytics.drift_models import heating_season_from_data

    dates = np.arange(np.datetime64("2024-01-01"), np.datetime64("2025-01-01"))
    doy = (dates - np.datetime64("2024-01-01")).astype(int)
    on = (doy <= 135) | (doy >= 280)  # heating until 15 May, from 7 October
    energy = np.where(on, 300.0 + 200.0 * np.cos(2 * np.pi * doy / 366), 5.0)
    season = heating_season_from_data(dates, energy, dates.size)
    assert season is not None
    # the plant's own end (15 May), never the conventional 20 May
    assert np.array_equal(season, on)
    assert heating_season_from_data(dates, np.full(dates.size, 5.0), dates.size) is None
    # the light heating of a mild May (a few times the summer level) still counts, and the same calendar
    # days are in season the next year, leap or not
    late = np.where((doy > 120) & (doy <= 135), 25.0, energy)
    nxt = np.arange(np.datetime64("2025-05-10"), np.datetime64("2025-05-25"))
    both = np.r_[dates, nxt]
    mask = heating_season_from_data(both, np.r_[late, np.full(nxt.size, np.nan)], dates.size)
    assert mask[dates.size:].tolist() == [d <= np.datetime64("2025-05-15") for d in nxt]
    # a mild start of the season: the plant runs lightly (a few times the summer level, below 15 % of
    # the winter level) for a fortnight from 7 October; the season starts with it, not with the first
    # week of full heating
    mild = np.where((doy >= 280) & (doy < 294), 25.0, energy)
    assert np.array_equal(heating_season_from_data(dates, mild, dates.size), on)


def test_hourly_means_and_smoothing():
    from analytics.drift_models import hourly_means, smoothed_hourly

    h = np.arange(4, dtype=np.int64) * 3600 * S
    t = np.array([0, 600, 1200, 3600 + 60, 3 * 3600 + 5], dtype=np.int64) * S
    v = np.array([1.0, 2.0, 3.0, 10.0, 7.0])
    out = hourly_means(t, v, h)
    assert out[0] == pytest.approx(2.0) and out[1] == pytest.approx(10.0) and np.isnan(out[2])
    assert out[3] == pytest.approx(7.0)
    step = smoothed_hourly(np.r_[np.zeros(5), np.full(48, 10.0)], time_constant_h=12.0)
    assert step[4] == 0.0
    assert step[5 + 11] == pytest.approx(10.0 * (1 - np.exp(-12 / 12.0)), rel=1e-9)  # 63 % after one time constant


def test_hourly_towt_summed_per_day_predicts_a_known_heating_load():
    """Hourly heat = 5 kW occupied on weekdays 8-18 h + 2 kW/K below 15 °C; the TOWT sum per day is within 2 %."""
    from analytics.drift_models import MeterInputs, towt_daily_expected
    from terril.registry import Meter, Site

    days = 2 * 365
    th, wh, temp, day_start, daily = _heating_hours(days, np.random.default_rng(2))  # UTC hours, local-day sums
    site = Site(id="s", name="s", kind="office", heating_carrier="electricity", floor_area_m2=100.0,
                latitude=50.46, longitude=2.80)
    meter = Meter(id="s-elec", site="s", carrier="electricity", usage="main")
    inputs = MeterInputs(day_start, daily, np.full(days, 10.0), th, wh, temp)
    pred = towt_daily_expected(meter, site, inputs, 365, None)
    assert pred is not None
    rel = np.abs(pred[370:-2] - daily[370:-2]) / daily[370:-2]
    assert np.nanmedian(rel) < 0.02


def test_bench_scenario_puts_base_load_rises_on_eligible_meters_inside_the_year():
    import importlib.util
    import pathlib

    spec = importlib.util.spec_from_file_location(
        "bench_drift", pathlib.Path(__file__).resolve().parents[2] / "bench" / "drift.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from terril.registry import load_registry

    reg = load_registry()
    eligible = {m.id for m in bench.baseload_candidates(reg)}
    assert len(eligible) >= 2
    for m in eligible:
        site = reg.site_by_id[reg.meter_by_id[m].site]
        assert site.heating_carrier != "electricity" and not any(a.site == site.id for a in reg.pv_arrays)
    for seed in range(5):
        data, roles = bench.make_scenario(reg, np.random.default_rng(seed))
        base = [m for m, r in roles.items() if r == "baseload"]
        assert len(base) == 2 and set(base) <= eligible
        for f in data["faults"]:
            assert f["meter"] in reg.meter_by_id
            window = 7 if f["id"].startswith("baseload") else 21
            start = f["start"] if isinstance(f["start"], dt.date) else f["start"].date()
            assert bench.MONITOR <= start <= bench.END - dt.timedelta(days=window)


# --------------------------------------------------------------------------- magnitudes (issue 16, item 3)


def _episode(expected: np.ndarray, excess: np.ndarray, seed: int = 3):
    """Drift alerts of a series with a known expected level and a known excess, collapsed into episodes."""
    from analytics.drift import detect_drift_scaled
    from analytics.drift_models import collapse_episodes

    rng = np.random.default_rng(seed)
    obs = expected + rng.normal(0.0, 0.05, expected.size) * np.maximum(expected, 0.2) + excess
    days = DAY0 + np.arange(expected.size, dtype=np.int64) * DAY
    settings = DEFAULT_DRIFT.__class__(two_sided=False, sigma_inflation=1.1)
    found = detect_drift_scaled("m", days, obs, expected, 365, settings)
    ref = float(np.mean(expected[:365]))
    return collapse_episodes(found, day_start_ns=days, residual=obs - expected, expected=expected,
                             reference_level=ref), days, obs


def test_a_drift_at_the_end_of_the_heating_season_is_a_share_of_sums_not_a_mean_of_shares():
    # gas: 400 kWh/d in winter falling to ~0 in late spring (expected near zero, then slightly negative),
    # with a constant 40 kWh/d extra from day 400 (the heating no longer stops at night)
    n = 365 + 150
    doy = np.arange(n) % 365
    expected = np.maximum(400.0 * np.cos(2 * np.pi * doy / 365.0), 0.0) - 0.5
    excess = np.where(np.arange(n) >= 400, 40.0, 0.0)
    episodes, days, obs = _episode(expected, excess)
    ups = [a for a in episodes if a.kind == "drift_up"]
    assert len(ups) == 1
    a = ups[0]
    assert a.magnitude_kwh_per_day == pytest.approx(40.0, rel=0.15)
    # the share: Σ excess / Σ expected over the days of the episode, computed here independently
    on = (days >= a.onset_ns) & (days < a.onset_ns + a.days * DAY)
    share = 100.0 * np.sum((obs - expected)[on]) / np.sum(expected[on])
    if np.isfinite(a.magnitude_pct):
        assert a.magnitude_pct == pytest.approx(share, rel=0.05)
        assert 0.0 < a.magnitude_pct < 100.0  # never thousands of percent
    assert a.days >= 14


def test_a_water_leak_on_a_near_zero_expected_use_is_stated_in_litres_per_hour():
    from analytics.jobs.drift import _record
    from terril.registry import Meter
    from terril.settings import PricesSettings

    # a school's water: 3 m³/d in term time, 0.05 m³/d in the summer holidays; a 12 L/h leak from day 395
    n = 365 + 60
    doy = np.arange(n) % 365
    expected = np.where((doy >= 190) & (doy < 245), 0.05, 3.0)
    expected[365:] = 0.05
    excess = np.where(np.arange(n) >= 395, 12.0 * 24 / 1000.0, 0.0)
    episodes, _, _ = _episode(expected, excess)
    leaks = [a for a in episodes if a.kind == "drift_up"]
    assert leaks, "the leak is found"
    a = leaks[0]
    assert np.isnan(a.magnitude_pct)  # a share of 0.05 m³/d means nothing: no 5 000 % (or -20 000 %)
    meter = Meter(id="ecole-eau", site="ecole", carrier="water")
    rec = _record(a, meter, PricesSettings())
    assert np.isnan(rec.magnitude_kwh_per_day) and rec.unit == "m³"
    assert rec.magnitude_m3_per_day == pytest.approx(0.288, rel=0.2)
    assert rec.magnitude_l_per_h == pytest.approx(12.0, rel=0.2)
    assert rec.as_json()["magnitude_pct"] is None


def test_a_base_load_rise_is_stated_in_watts_and_as_a_share_of_the_daily_consumption():
    rng = np.random.default_rng(8)
    nb, nm = 365, 120
    load = 500.0 + rng.normal(0.0, 10.0, nb + nm)
    load[nb + 30:] += 150.0
    days = DAY0 + np.arange(nb + nm, dtype=np.int64) * DAY
    expected = np.full(nb + nm, 60.0)  # kWh/day of the meter
    alerts = detect_baseload_drift("m", days, load, nb, expected_kwh_per_day=expected)
    up = [a for a in alerts if a.kind == "baseload_up"]
    assert up
    assert up[0].magnitude_w == pytest.approx(150.0, rel=0.15)
    assert up[0].magnitude_kwh_per_day == pytest.approx(3.6, rel=0.15)
    assert up[0].magnitude_pct == pytest.approx(100.0 * 3.6 / 60.0, rel=0.15)  # not 150/500 = 30 %
    # without the expected consumption, no share is made up
    assert np.isnan(detect_baseload_drift("m", days, load, nb)[0].magnitude_pct)


def test_a_ramp_is_found_sooner_with_the_small_shift_cusum_and_a_clean_series_stays_quiet():
    import dataclasses

    from analytics.drift import detect_drift_scaled

    rng = np.random.default_rng(21)
    n, nb = 365 + 300, 365
    expected = 100.0 + 30.0 * np.cos(2 * np.pi * np.arange(n) / 365.0)
    noise = rng.normal(0.0, 0.08, n) * expected
    ramp = np.clip((np.arange(n) - 420) / 60.0, 0.0, 1.0) * 0.15  # +15 % over 60 days from day 420
    days = DAY0 + np.arange(n, dtype=np.int64) * DAY
    plain = DEFAULT_DRIFT.__class__(two_sided=False, sigma_inflation=1.1)
    small = dataclasses.replace(plain, small_shift_pct=5.0, small_shift_arl0_days=20000.0)

    def first(settings, obs):
        found = [a for a in detect_drift_scaled("m", days, obs, expected, nb, settings) if a.kind == "drift_up"]
        return (found[0].detected_ns - days[420]) / DAY if found else None

    with_ramp = expected + noise + ramp * expected
    d_plain, d_small = first(plain, with_ramp), first(small, with_ramp)
    assert d_small is not None and (d_plain is None or d_small <= d_plain)
    assert d_small <= 40 + 21  # +10 % is reached on day 40 of the ramp
    assert first(small, expected + noise) is None


def test_a_biased_month_is_rescaled_and_a_light_month_never_makes_a_meter_unmodelled():
    from analytics.drift_models import correct_monthly_bias

    dates = np.arange(np.datetime64("2024-01-01"), np.datetime64("2025-12-31"))
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    observed = np.where((month >= 6) & (month <= 8), 5.0, 100.0)
    expected = observed.copy()
    expected[month == 10] *= 1.06  # runs 6 % high in October
    expected[month == 8] *= 1.6  # a summer month of little use, badly fitted
    fixed_exp, nmbe, fixed, holds = correct_monthly_bias(dates, observed, expected, 366)
    assert holds and fixed == (8, 10)
    assert nmbe[9] == pytest.approx(-6.0, abs=0.01)
    # brought back to the ±3 % limit (not to zero, which would carry one year's weather into the next)
    from analytics.baseline import monthly_nmbe_pct

    after = monthly_nmbe_pct(dates[:366], observed[:366], fixed_exp[:366])
    assert after[9] == pytest.approx(-3.0, abs=1e-6) and after[7] == pytest.approx(-3.0, abs=1e-6)
    assert np.allclose(fixed_exp[month == 10], 100.0 * 1.03)  # both years, once rescaled
    expected[month == 3] *= 1.4  # a month of real use 40 % off: the model does not describe the meter
    assert not correct_monthly_bias(dates, observed, expected, 366)[3]


def _hours_and_days(days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``days`` local days from 1 January 2024: the UTC start of each hour, the UTC start of each local
    day, and each hour's local-day index. [ns, ns, -]"""
    th = local_midnight_ns(dt.date(2024, 1, 1)) + 3600 * S * np.arange(days * 24, dtype=np.int64)
    day_start = np.array([local_midnight_ns(dt.date(2024, 1, 1) + dt.timedelta(days=i)) for i in range(days)])
    return th, day_start, np.searchsorted(day_start, th, side="right") - 1


def _daily_kwh(day_index: np.ndarray, wh: np.ndarray, days: int) -> np.ndarray:
    """Hourly energy summed per local day. [Wh] -> [kWh]"""
    return np.bincount(day_index, weights=wh, minlength=days) / 1000.0


def _heating_hours(days: int, rng: np.random.Generator, cold_days: tuple[int, int] | None = None):
    """Hourly heat of an electrically heated office: 5 kW occupied on weekdays + 2 kW/K below 15 °C, with an
    optional cold spell (15 K colder than any hour of the first year) on the days ``cold_days``."""
    th, day_start, di = _hours_and_days(days)
    hour_utc = (th // (3600 * S)) % 24
    doy = np.arange(th.size) / 24.0
    temp = 10.0 - 8.0 * np.cos(2 * np.pi * (doy - 20) / 365.0) + 3.0 * np.sin(2 * np.pi * hour_utc / 24.0)
    if cold_days is not None:
        temp = np.where((doy >= cold_days[0]) & (doy < cold_days[1]), temp - 15.0, temp)
    weekday = ((th // DAY) + 3) % 7
    occ = (weekday < 5) & (hour_utc >= 7) & (hour_utc < 17)
    wh = 1000.0 * (5.0 * occ + 2.0 * np.maximum(15.0 - temp, 0.0)) * (1 + 0.02 * rng.standard_normal(th.size))
    return th, wh, temp, day_start, _daily_kwh(di, wh, days)


def test_a_cold_spell_colder_than_the_baseline_is_expected_to_need_more_heating():
    """A heating model in its season extrapolates on the cold side: a week 15 K colder than any hour of the
    baseline year is expected to need the heating it needs (clipped to the baseline's coldest hour, the
    expectation stayed at the baseline's peak and every gas meter raised a false alarm at once)."""
    from analytics.drift_models import MeterInputs, towt_daily_expected
    from terril.registry import Meter, Site

    days = 2 * 365
    th, wh, temp, day_start, daily = _heating_hours(days, np.random.default_rng(4), cold_days=(380, 387))
    site = Site(id="s", name="s", kind="office", heating_carrier="electricity", floor_area_m2=100.0,
                latitude=50.46, longitude=2.80)
    meter = Meter(id="s-elec", site="s", carrier="electricity", usage="main")
    pred = towt_daily_expected(meter, site, MeterInputs(day_start, daily, np.full(days, 10.0), th, wh, temp), 365,
                               None)
    assert pred is not None
    cold = slice(381, 386)  # whole local days inside the spell
    base_peak = float(np.nanmax(pred[:365]))
    assert np.all(daily[cold] > 1.3 * base_peak)  # the spell really is beyond the baseline
    rel = np.abs(pred[cold] - daily[cold]) / daily[cold]
    assert np.max(rel) < 0.05


def test_the_electricity_models_see_the_daylight_the_weather_station_measures():
    """An office lit in working hours, its lighting dimmed by daylight; cloudy and bright days at random. With
    the station's irradiance (``MeterInputs.hourly_irradiance_w_m2``) the hourly model's day-to-day error on
    the unseen year falls to a fraction; a few hours missing from the station are filled (every day is still
    expected), and a station without irradiance leaves the model as it was."""
    from analytics.drift_models import MeterInputs, daylight_irradiance, towt_daily_expected
    from terril.registry import Meter, Site

    rng = np.random.default_rng(21)
    days = 2 * 365
    th, day_start, di = _hours_and_days(days)
    hour_utc = (th // (3600 * S)) % 24
    doy = di % 365
    sun = np.clip(np.sin(np.pi * (hour_utc - 5.0) / 14.0), 0.0, None) * (450.0 - 300.0 * np.cos(2 * np.pi * doy / 365))
    ghi = sun * rng.uniform(0.1, 1.0, days)[di]
    weekday = ((th // DAY) + 3) % 7
    occ = (weekday < 5) & (hour_utc >= 7) & (hour_utc < 17)
    wh = 1000.0 * (2.0 + occ * (4.0 + 6.0 * (1.0 - np.clip(ghi / 350.0, 0.0, 0.7))))
    wh = wh * (1 + 0.02 * rng.standard_normal(th.size))
    daily = _daily_kwh(di, wh, days)
    temp = np.full(th.size, 12.0)
    site = Site(id="s", name="s", kind="office", heating_carrier="gas", floor_area_m2=100.0,
                latitude=50.46, longitude=2.80)
    meter = Meter(id="s-elec", site="s", carrier="electricity", usage="main")
    plain = MeterInputs(day_start, daily, np.full(days, 12.0), th, wh, temp)
    lit = MeterInputs(day_start, daily, np.full(days, 12.0), th, wh, temp, ghi)
    err = {}
    for name, inputs in (("plain", plain), ("lit", lit)):
        pred = towt_daily_expected(meter, site, inputs, 365, None)
        err[name] = float(np.nanstd((daily - pred)[365:]))
    assert err["lit"] < 0.45 * err["plain"], err  # measured: 3.8 kWh/day against 10.6 (seed 21)
    # a station that missed 5 % of its hours: filled from the same hour of the month, every day expected
    gappy = ghi.copy()
    gappy[rng.random(ghi.size) < 0.05] = np.nan
    filled = daylight_irradiance(MeterInputs(day_start, daily, np.full(days, 12.0), th, wh, temp, gappy), 365)
    assert filled is not None and np.isfinite(filled).all()
    pred = towt_daily_expected(meter, site, MeterInputs(day_start, daily, np.full(days, 12.0), th, wh, temp, gappy),
                               365, None)
    assert np.isfinite(pred).all() and float(np.std((daily - pred)[365:])) < 0.5 * err["plain"]
    # a station without a pyranometer (all NaN): the model without the daylight term
    dark = MeterInputs(day_start, daily, np.full(days, 12.0), th, wh, temp, np.full(th.size, np.nan))
    assert daylight_irradiance(dark, 365) is None
    assert np.allclose(towt_daily_expected(meter, site, dark, 365, None),
                       towt_daily_expected(meter, site, plain, 365, None), equal_nan=True)


def test_noise_is_widened_on_the_days_of_the_week_whose_residuals_are_wider():
    """A sports hall's Saturdays: with or without a match (±40 % of the level), the other days ±5 %. The
    Saturdays get their own noise factor; with it, their spikes no longer add up to drift alarms."""
    from analytics.drift import DriftSettings, detect_drift_scaled, weekday_noise_factors

    rng = np.random.default_rng(8)
    n = 730
    dates = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n)]
    t = np.array([local_midnight_ns(d) for d in dates], dtype=np.int64)
    saturday = np.array([d.weekday() == 5 for d in dates])
    expected = np.full(n, 100.0)
    resid = 5.0 * rng.standard_normal(n)
    resid[saturday] += np.where(rng.random(int(saturday.sum())) < 0.5, -40.0, 40.0)
    f = weekday_noise_factors(t, resid / 5.0, 365)
    assert np.all(f[saturday] > 5.0)
    assert np.all(f[~saturday] < 1.3)
    # a monitored year whose Saturdays happen to have more matches than the baseline's
    obs = expected + resid
    busy = saturday & (np.arange(n) >= 365)
    obs[busy] = expected[busy] + 40.0 + 5.0 * rng.standard_normal(int(busy.sum()))
    plain = DriftSettings(two_sided=False, sigma_inflation=1.1)
    by_day = DriftSettings(two_sided=False, sigma_inflation=1.1, noise_by_weekday=True)
    assert len(detect_drift_scaled("m", t, obs, expected, 365, plain)) > 0
    assert len(detect_drift_scaled("m", t, obs, expected, 365, by_day)) == 0
    # the other days keep their noise: a real +15 % step is found at most a week later than without (here
    # 22 days after its onset instead of 17: the Saturdays weigh less in the charts)
    step = expected + resid
    step[500:] += 15.0
    first = []
    for settings in (plain, by_day):
        found = [a for a in detect_drift_scaled("m", t, step, expected, 365, settings) if a.detected_ns >= t[500]]
        assert found
        first.append(found[0].detected_ns)
    assert first[1] <= first[0] + 7 * DAY


def test_an_alarm_is_raised_only_when_the_excess_goes_on_the_next_day():
    """One day of use on a public holiday (a near-zero expectation) is no leak; a leak that goes on is raised
    one day later than the alarm, with its onset."""
    from analytics.drift import DriftSettings
    from analytics.drift_models import chart_drift

    rng = np.random.default_rng(3)
    n = 600
    t = np.array([local_midnight_ns(dt.date(2024, 1, 1) + dt.timedelta(days=i)) for i in range(n)], dtype=np.int64)
    expected = np.full(n, 1.0)
    obs = expected + 0.05 * rng.standard_normal(n)
    obs[420] += 1.5  # one day
    obs[500:] += 0.8  # a leak from day 500
    now = DriftSettings(two_sided=False)
    confirmed = DriftSettings(two_sided=False, confirm_days=1)
    at_once = chart_drift("m", t, obs, expected, 365, now)
    kept = chart_drift("m", t, obs, expected, 365, confirmed)
    assert [a.onset_ns for a in at_once] == [t[420], t[500]]
    assert [a.onset_ns for a in kept] == [t[500]]
    assert kept[0].detected_ns == at_once[1].detected_ns + DAY
    # the confirming day is not there yet: held back until the next analysis
    assert chart_drift("m", t[:501], obs[:501], expected[:501], 365, confirmed) == []


def test_the_days_after_the_heating_season_are_not_charted_on_an_electrically_heated_site():
    """The library is heated electrically: its electricity meter skips the 10 days after the learnt end of
    the heating season in its charts, as a gas meter does (a cold week in May after a mild baseline spring
    raised false alarms there); an unheated meter of the same kind of data keeps every day."""
    from analytics.drift_models import MeterInputs, after_season_end, analyse_meter
    from terril.registry import load_registry

    reg = load_registry()
    meter = reg.meter_by_id["mediatheque-elec"]
    site = reg.site_by_id[meter.site]
    assert site.heating_carrier == "electricity"
    days = 2 * 365
    th, wh, temp, day_start, daily = _heating_hours(days, np.random.default_rng(6))
    dates = np.array([dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(days)], dtype="datetime64[D]")
    in_season = (dates.astype("datetime64[M]").astype(int) % 12 + 1 >= 10) | (dates < np.datetime64("2024-05-16")) | (
        (dates >= np.datetime64("2025-01-01")) & (dates < np.datetime64("2025-05-16")))
    # the heaters keep a season: from 1 October to 15 May (heating only in season)
    season_h = np.repeat(in_season, 24)[: th.size]
    wh = np.where(season_h, wh, np.minimum(wh, 5000.0 * ((((th // DAY) + 3) % 7) < 5)))
    di = np.searchsorted(day_start, th, side="right") - 1
    daily = _daily_kwh(di, wh, days)
    inputs = MeterInputs(day_start, daily, np.array([float(np.mean(temp[di == i])) for i in range(days)]), th, wh,
                         temp)
    res = analyse_meter(meter, site, reg, inputs, baseline_days=365)
    skipped = after_season_end(dates, daily, 365)
    assert skipped[365:].sum() == 10
    assert np.all(np.isnan(res.chart_obs[skipped]))
    assert np.isfinite(res.chart_obs[~skipped & np.isfinite(daily)]).all()


def test_a_robust_cusum_ignores_one_day_far_out_and_still_finds_a_lasting_step():
    """Winsorised residuals (``winsor_z``, Lucas & Crosier 1982), the gas and heat charts' rule instead of a
    confirming day: one day of use on a public holiday raises nothing, a lasting +1.5σ step is raised within
    days of its onset; the same day far out does raise an alarm on the plain charts."""
    from analytics.drift import DriftSettings
    from analytics.drift_models import JOB_DRIFT_HEATING, chart_drift, job_settings

    assert job_settings("gas") is JOB_DRIFT_HEATING and job_settings("heat") is JOB_DRIFT_HEATING
    assert JOB_DRIFT_HEATING.winsor_z > 0 and JOB_DRIFT_HEATING.confirm_days == 0
    rng = np.random.default_rng(3)
    n = 600
    t = np.array([local_midnight_ns(dt.date(2024, 1, 1) + dt.timedelta(days=i)) for i in range(n)], dtype=np.int64)
    expected = np.full(n, 1.0)
    obs = expected + 0.05 * rng.standard_normal(n)
    obs[420] += 1.5  # one day, 30 noise units out
    obs[500:] += 0.075  # a lasting step of 1.5 noise units from day 500
    plain = chart_drift("m", t, obs, expected, 365, DriftSettings(two_sided=False))
    robust = chart_drift("m", t, obs, expected, 365, DriftSettings(two_sided=False, winsor_z=2.5))
    assert [a.onset_ns for a in plain][:1] == [t[420]]
    assert all(a.detected_ns > t[500] for a in robust)
    assert len(robust) >= 1 and robust[0].detected_ns <= t[500] + 14 * DAY
    assert abs(robust[0].onset_ns - t[500]) <= 5 * DAY
    assert 0.04 < robust[0].magnitude_kwh_per_day < 0.12


def test_an_august_slowdown_has_a_week_of_its_own_in_the_hourly_model():
    """A workshop works at 60 % in August (staff on leave): the hourly model gives August a week profile of
    its own, so neither August nor September of the next year is mispredicted (one profile for the whole
    year ran 25-39 % high in August and 17-23 % low in September on the simulated workshop)."""
    from analytics.drift_models import MeterInputs, towt_daily_expected
    from terril.registry import Meter, Site

    rng = np.random.default_rng(4)
    days = 2 * 365
    th, day_start, di = _hours_and_days(days)
    hour_utc = (th // (3600 * S)) % 24
    temp = 10.0 + 3.0 * np.sin(2 * np.pi * hour_utc / 24.0)
    weekday = ((th // DAY) + 3) % 7
    month = np.array([dt.datetime.fromtimestamp(x / S, dt.timezone.utc).month for x in th[::24]]).repeat(24)
    occ = (weekday < 5) & (hour_utc >= 7) & (hour_utc < 16)
    wh = (500.0 + 5000.0 * occ * np.where(month == 8, 0.6, 1.0)) * (1 + 0.02 * rng.standard_normal(th.size))
    daily = _daily_kwh(di, wh, days)
    site = Site(id="s", name="s", kind="technical_services", heating_carrier="gas", floor_area_m2=100.0,
                latitude=50.46, longitude=2.80)
    meter = Meter(id="s-elec", site="s", carrier="electricity", usage="main")
    pred = towt_daily_expected(meter, site, MeterInputs(day_start, daily, np.full(days, 10.0), th, wh, temp), 366,
                               None)
    assert pred is not None
    dates = np.array([dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(days)])
    for m in (8, 9):
        sel = np.array([d.year == 2025 and d.month == m for d in dates])
        assert abs(float(np.sum(pred[sel]) / np.sum(daily[sel])) - 1.0) < 0.03, m


def _church_hours(days: int, rng: np.random.Generator, rise_from_day: int | None = None, rise: float = 0.15):
    """A church heated on demand: services on random days, 3-5 hours at 60 kW (− 2 kW/K above 0 °C) whose
    first and last hours are part hours (the plant starts and stops at a random minute inside them), and
    frost protection below 2 °C; every hour ``× (1 + rise)`` from day ``rise_from_day`` on."""
    th, day_start, di = _hours_and_days(days)
    n = th.size
    temp = 6.0 + 5.0 * np.sin(np.arange(n) * 2 * np.pi / (24 * 9)) + rng.normal(0, 0.5, n)
    wh = 3000.0 * np.maximum(2.0 - temp, 0.0)
    full = np.maximum(60_000.0 - 2000.0 * np.maximum(temp, 0.0), 20_000.0)
    for d in np.flatnonzero(rng.random(days) < 0.3):
        start, length = 24 * d + int(rng.integers(7, 14)), int(rng.integers(3, 6))
        frac = np.ones(length)
        frac[0], frac[-1] = rng.uniform(0.05, 1.0), rng.uniform(0.05, 1.0)  # part hours
        sl = slice(start, start + length)
        wh[sl] = np.maximum(wh[sl], full[sl] * frac * np.exp(rng.normal(0, 0.02)))
    if rise_from_day is not None:
        wh = np.where(di >= rise_from_day, wh * (1.0 + rise), wh)
    return th, wh, temp, day_start, _daily_kwh(di, wh, days)


def test_a_plant_on_demand_charts_a_weighted_excess_that_the_part_hours_no_longer_drown():
    """The operating-power model's daily excess is the weighted least-squares shift of the day's hours
    (weights: the inverse baseline variance of each hour's class): the part hours, where the plant starts and
    stops at a minute no model knows, no longer drown the shift of the others. On a clean second year its
    spread is below the plain sum's; a 15 % rise of every hour is charted as 15 %."""
    from analytics.drift_models import MeterInputs, operating_daily_expected

    days = 2 * 365
    rng = np.random.default_rng(11)
    th, wh, temp, day_start, daily = _church_hours(days, rng)
    inputs = MeterInputs(day_start, daily, np.full(days, 6.0), th, wh, temp)
    plain = operating_daily_expected(inputs, 365, weighted=False)
    weighted = operating_daily_expected(inputs, 365)
    assert plain is not None and weighted is not None and plain.charted is None
    on = weighted.operating[365:] & (weighted.expected[365:] > 50.0)
    assert on.sum() > 60
    rel_plain = (daily[365:] / plain.expected[365:] - 1.0)[on]
    rel_weighted = (weighted.charted[365:] / weighted.expected[365:] - 1.0)[on]
    assert np.std(rel_weighted) < 0.85 * np.std(rel_plain)  # 0.114 against 0.150 on this seed
    assert np.sum(weighted.charted[365:][on]) / np.sum(weighted.expected[365:][on]) == pytest.approx(1.0, abs=0.03)
    # the same plant with every hour 15 % higher in the second year
    th, wh2, temp, day_start, daily2 = _church_hours(days, np.random.default_rng(11), rise_from_day=365)
    risen = operating_daily_expected(MeterInputs(day_start, daily2, np.full(days, 6.0), th, wh2, temp), 365)
    on2 = risen.operating[365:] & (risen.expected[365:] > 50.0)
    ratio_weighted = np.sum(risen.charted[365:][on2]) / np.sum(risen.expected[365:][on2])
    ratio_plain = np.sum(daily2[365:][on2]) / np.sum(risen.expected[365:][on2])
    assert ratio_weighted == pytest.approx(1.15, abs=0.03)
    assert ratio_plain > 1.08  # 1.115: the risen part hours move some hours' modes, the plain sum sees less


def test_the_learnt_end_of_the_season_is_not_trusted_above_a_large_summer_load():
    """The learnt end of the heating season counts a spring day as heated above twice the summer level. A gas
    boiler's summer is its hot water; an electrically heated library keeps its lighting and equipment all year,
    and its light heating of late spring never reaches twice that: its models keep the conventional end
    (20 May), and the days after it, not after a learnt mid-April, are the ones left out of the charts."""
    from analytics.drift_models import after_season_end, late_heating_visible

    dates = np.arange(np.datetime64("2024-01-01"), np.datetime64("2026-01-01"))
    doy = (dates - dates.astype("datetime64[Y]")).astype(int)
    heating = np.where((doy <= 135) | (doy >= 274), np.maximum(0.0, 400.0 * np.cos(2 * np.pi * (doy - 15) / 365.0)),
                       0.0)
    gas = 10.0 + heating  # hot water in summer
    library = 150.0 + heating  # lighting and equipment all year: winter 550, summer 150
    assert late_heating_visible(dates[:366], gas[:366])
    assert not late_heating_visible(dates[:366], library[:366])
    assert late_heating_visible(dates[:366], np.full(366, np.nan))  # nothing to judge
    skipped_gas = dates[after_season_end(dates, gas, 366)]
    skipped_library = dates[after_season_end(dates, library, 366)]
    # the boiler: the days after its own last heated day; the library: the days after 20 May
    assert skipped_gas[skipped_gas.astype("datetime64[Y]") == np.datetime64("2025", "Y")].max() < np.datetime64(
        "2025-05-20")
    nxt = skipped_library[skipped_library.astype("datetime64[Y]") == np.datetime64("2025", "Y")]
    assert nxt.min() == np.datetime64("2025-05-21") and nxt.size == 10


def test_an_open_alert_costs_what_it_has_cost_so_far_and_a_closed_one_what_its_episode_cost():
    # The demo of 7 Dec 2026 listed a gas drift open since 30 October at 85 €: 4 days of excess, from
    # onset to detection, while it had run 38 days. An open alert now costs until the end of the
    # analysed data (as a PV alert does), a closed one until its end.
    from analytics.drift import Alert
    from analytics.jobs.drift import _record
    from terril.registry import DEMO_REGISTRY_PATH, load_registry
    from terril.settings import PricesSettings

    reg = load_registry(DEMO_REGISTRY_PATH)
    meter = reg.meter_by_id["ecole-curie-gaz"]
    prices = PricesSettings()
    onset = local_midnight_ns(dt.date(2026, 10, 30))
    detected, now = onset + 4 * DAY, onset + 38 * DAY
    open_ = Alert("drift_up", meter.id, onset, detected, 200.0, 25.0, None, "open")
    rec = _record(open_, meter, prices, now)
    assert rec.cost_eur == pytest.approx(200.0 * 38 * prices.gas_eur_per_kwh)
    assert _record(open_, meter, prices).cost_eur == pytest.approx(200.0 * 4 * prices.gas_eur_per_kwh)
    closed = Alert("drift_up", meter.id, onset, detected, 200.0, 25.0, None, "closed", end_ns=onset + 20 * DAY)
    assert _record(closed, meter, prices, now).cost_eur == pytest.approx(200.0 * 20 * prices.gas_eur_per_kwh)
    assert rec.co2_kg > _record(open_, meter, prices).co2_kg
