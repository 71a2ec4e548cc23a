"""Known-truth tests of PV performance: PR of a pvlib-made array, grids, availability, self-consumption."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.pv import performance as perf
from analytics.pv.jobs import analyse_array, analyse_site, make_grid, weather_grid
from firmware_sim.weather import simulate_weather
from terril.registry import PvArray, Site
from terril.timeutil import local_midnight_ns

LAT, LON = 50.4578, 2.7935
SITE = Site(id="s", name="S", kind="other", latitude=LAT, longitude=LON)
NS = 10**9


def _truth_array(kwp: float, losses_pct: float, gamma: float, tilt: float, azimuth: float,
                 start: dt.date, days: int, seed: int = 5):
    """One-minute truth made with pvlib: GHI and air temperature from the simulator's weather,
    POA by Erbs + Hay-Davies, cell temperature by the SAPM model (open rack; the analysis uses
    Faiman, a different model of similar mounting), PVWatts DC, flat losses."""
    import pandas as pd
    import pvlib

    t0 = local_midnight_ns(start)
    t = np.arange(t0, t0 + days * 86_400 * NS, 60 * NS, dtype=np.int64) + 30 * NS  # 1-min mid-points
    w = simulate_weather(t, LAT, LON, seed)
    idx = pd.DatetimeIndex(t.astype("datetime64[ns]"), tz="UTC")
    sp = pvlib.solarposition.get_solarposition(idx, LAT, LON, altitude=50)
    parts = pvlib.irradiance.erbs(w.ghi_w_m2, sp["zenith"].to_numpy(), idx)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt, azimuth, sp["apparent_zenith"].to_numpy(), sp["azimuth"].to_numpy(), np.nan_to_num(np.asarray(parts["dni"])),
        w.ghi_w_m2, np.nan_to_num(np.asarray(parts["dhi"])), dni_extra=pvlib.irradiance.get_extra_radiation(idx).to_numpy(),
        albedo=0.2, model="haydavies")["poa_global"]
    poa = np.where(sp["apparent_zenith"].to_numpy() < 90, np.clip(np.nan_to_num(np.asarray(poa)), 0, None), 0.0)
    p = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
    tcell = pvlib.temperature.sapm_cell(poa, w.temp_air_c, 1.0, **p)
    pdc = pvlib.pvsystem.pvwatts_dc(poa, tcell, kwp * 1000.0, gamma / 100.0)
    pac = np.asarray(pdc) * (1 - losses_pct / 100.0)
    return t, w, poa, np.asarray(tcell), pac


def _fifteen_min(t_1min: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """15-min means stamped at the interval end (how the station reports)."""
    v = values.reshape(-1, 15).mean(axis=1)
    ends = t_1min.reshape(-1, 15)[:, -1] + 30 * NS
    return ends, v


@pytest.mark.parametrize("tilt,azimuth", [(30, 180), (15, 170), (35, 200)])
def test_pr_of_a_known_array_within_2_pct(tilt: float, azimuth: float) -> None:
    """One week of each month of 2024, truth at 1 min, analysis from 15-min meter and station data.

    The estimate decomposes 15-min means of GHI; the truth decomposes 1-min values. Because the
    decomposition is non-linear and the simulated GHI flickers minute by minute, the estimated
    POA is low in winter (measured: −0.1 % in June, −3 % in October, −6.5 % in December at 30°
    south); over the year, weighted by energy, the PR error stays within 2 %."""
    kwp, losses, gamma = 10.0, 14.0, -0.35
    arr = PvArray(id="a", site="s", meter="m", kwp=kwp, tilt_deg=tilt, azimuth_deg=azimuth, technology="mono_perc",
                  commissioned=dt.date(2020, 1, 1), rollout_stage="pilot", losses_pct=losses)
    true_e = true_h = true_ref = est_e = est_h = corr_e = corr_ref = 0.0
    for month in range(1, 13):
        start = dt.date(2024, month, 8)
        t, w, poa, tcell, pac = _truth_array(kwp, losses, gamma, tilt, azimuth, start, 7, seed=5 + month)
        energy_wh = pac / 60.0  # per minute
        true_e += energy_wh.sum()
        true_h += poa.sum() / 60.0
        true_ref += np.sum(pvlib_dc_ref(poa, tcell, kwp, gamma)) / 60.0
        # what the meters say: a 15-min counter (1 Wh resolution) and 15-min weather means
        te, ghi15 = _fifteen_min(t, w.ghi_w_m2)
        _, temp15 = _fifteen_min(t, w.temp_air_c)
        counter = np.floor(1_234_567.0 + np.cumsum(energy_wh.reshape(-1, 15).sum(axis=1)))
        g = make_grid(local_midnight_ns(start), local_midnight_ns(start + dt.timedelta(days=7)), 900)
        a = analyse_array(arr, SITE, weather_grid(g, te, ghi15, temp15), np.r_[te[0] - 900 * NS, te],
                          np.r_[1_234_567.0, counter])
        ok = np.isfinite(a.day_production_wh)
        assert ok.sum() == 7
        assert np.nansum(a.production_wh) == pytest.approx(counter[-1] - 1_234_567.0, abs=1.0)  # conserved
        est_e += np.sum(a.day_production_wh)
        est_h += np.sum(a.day_irradiation_wh_m2)
        m = np.isfinite(a.poa_w_m2)
        corr_e += np.nansum(a.production_wh[m])
        corr_ref += np.nansum(perf.expected_dc_power_w(a.poa_w_m2[m], a.temp_cell_c[m], kwp,
                                                       perf.gamma_of("mono_perc")) * 0.25)
    true_pr = true_e / (kwp * true_h)
    est_pr = est_e / (kwp * est_h)
    print(f"PR true {true_pr:.4f} estimated {est_pr:.4f} corrected {corr_e / corr_ref:.4f}")
    assert abs(true_pr / (1 - losses / 100.0) - 1.0) > 0.005  # temperature matters here
    assert est_pr == pytest.approx(true_pr, rel=0.02)
    # cell temperature moves the plain PR away from (1 - losses): the corrected PR below is not trivial
    assert true_e / true_ref == pytest.approx(1 - losses / 100.0, rel=1e-9)
    # temperature-corrected PR (IEC 61724-1:2021) recovers 1 - losses within 2 %
    assert corr_e / corr_ref == pytest.approx(1 - losses / 100.0, rel=0.02)
    assert perf.temperature_corrected_pr(corr_e, kwp, np.array([1000.0]), np.array([25.0]), -0.35, 3600.0) == \
        pytest.approx(corr_e / (kwp * 1000.0))


def pvlib_dc_ref(poa: np.ndarray, tcell: np.ndarray, kwp: float, gamma: float) -> np.ndarray:
    return kwp * 1000.0 * poa / 1000.0 * (1 + gamma / 100.0 * (tcell - 25.0))


def test_yields_and_pr_formulas() -> None:
    # 10 kWp, 5.0 kWh/m² of POA irradiation, 40 kWh: Y_f = 4 h, Y_r = 5 h, PR = 0.8
    assert perf.final_yield_kwh_kwp(40_000.0, 10.0) == pytest.approx(4.0)
    assert perf.reference_yield_h(5000.0) == pytest.approx(5.0)
    assert perf.performance_ratio(np.array([40_000.0, 1.0]), 10.0, np.array([5000.0, 0.0]))[0] == pytest.approx(0.8)
    assert np.isnan(perf.performance_ratio(np.array([1.0]), 10.0, np.array([0.0]))[0])


def test_counter_on_grid_conserves_and_follows_weight() -> None:
    g = np.arange(0, 11, dtype=np.int64) * 900 * NS
    # one reading gap over buckets 2..6 with a catch-up of 100 Wh; weight puts everything in 4 and 5
    s = np.array([0, 900, 1800, 6300], dtype=np.int64) * NS
    e = np.array([900, 1800, 6300, 9000], dtype=np.int64) * NS
    d = np.array([10.0, 10.0, 100.0, 30.0])
    w = np.zeros(10)
    w[[4, 5]] = 1.0
    w[[7, 8, 9]] = 1.0
    amount, cov = perf.counter_on_grid(s, e, d, g, weight=w)
    assert amount.sum() == pytest.approx(d.sum())
    assert amount[4] == pytest.approx(50.0) and amount[5] == pytest.approx(50.0)
    assert amount[2] == pytest.approx(0.0) and amount[3] == pytest.approx(0.0) and amount[6] == pytest.approx(0.0)
    assert np.all(cov == 1.0)
    uni, _ = perf.counter_on_grid(s, e, d, g)
    assert uni[2:7] == pytest.approx(np.full(5, 20.0))
    # no data after the last reading: NaN
    g2 = np.arange(0, 13, dtype=np.int64) * 900 * NS
    a2, c2 = perf.counter_on_grid(s, e, d, g2)
    assert np.isnan(a2[10]) and c2[10] == 0.0


def test_weather_on_grid_assigns_interval_end_stamps() -> None:
    g = np.array([0, 900, 1800], dtype=np.int64) * NS
    t = np.array([900, 1800, 2700], dtype=np.int64) * NS  # stamped at the end of each interval
    v = perf.weather_on_grid(t, np.array([100.0, 300.0, 5.0]), g)
    assert v.tolist() == [100.0, 300.0]


def test_availability_counts_silent_daylight_as_down() -> None:
    x = np.array([0.0, 100.0, 200.0, 200.0, 100.0, 0.0])
    p = np.array([0.0, 90.0, np.nan, 5.0, 95.0, 0.0])
    # kwp 1, 900 s: daylight above 12.5 Wh; 4 daylight buckets, 2 producing
    assert perf.availability_pct(p, x, 1.0, 900.0) == pytest.approx(50.0)


def test_self_consumption_plus_export_equals_production() -> None:
    rng = np.random.default_rng(1)
    n = 96 * 30
    pv = np.clip(rng.normal(300, 400, n), 0, None)
    load = rng.uniform(50, 800, n)
    imp, exp = np.clip(load - pv, 0, None), np.clip(pv - load, 0, None)
    sc = perf.self_consumption(pv, imp, exp)
    assert np.allclose(sc.self_consumed_wh + exp, pv)
    assert np.allclose(sc.site_consumption_wh, load)
    scr, ssr = sc.rates_pct()
    assert scr == pytest.approx(100 * np.minimum(pv, load).sum() / pv.sum())
    assert ssr == pytest.approx(100 * np.minimum(pv, load).sum() / load.sum())


def test_self_consumption_from_counters_on_the_grid() -> None:
    """Import/export counters at 15 min → grid → self-consumed + export = production per bucket and per day."""
    rng = np.random.default_rng(2)
    n = 96 * 3
    g = np.arange(n + 1, dtype=np.int64) * 900 * NS + local_midnight_ns(dt.date(2024, 6, 1))
    pv = np.clip(rng.normal(300, 300, n), 0, None)
    load = rng.uniform(50, 600, n)
    imp, exp = np.clip(load - pv, 0, None), np.clip(pv - load, 0, None)
    t = g.copy()
    sc = analyse_site(pv, g, t, np.r_[5e6, 5e6 + np.cumsum(imp)], t, np.r_[1e6, 1e6 + np.cumsum(exp)])
    assert np.allclose(sc.self_consumed_wh + sc.export_wh, pv, atol=1e-6)
    assert np.allclose(sc.import_wh, imp, atol=1e-6)


def test_energy_value_and_losses() -> None:
    tariffs = perf.Tariffs(purchase_eur_per_kwh=0.2, feed_in_eur_per_kwh=0.1)
    assert float(perf.energy_value_eur(1000.0, 60.0, tariffs)) == pytest.approx(0.6 * 0.2 + 0.4 * 0.1)
    assert float(perf.energy_value_eur(1000.0, np.nan, tariffs)) == pytest.approx(0.1)
    assert perf.losses_wh(np.array([80.0, 120.0]), np.array([100.0, 100.0])).tolist() == [20.0, 0.0]


def test_clear_sky_index_from_fleet_ignores_one_failed_array() -> None:
    clear = np.full((5, 4), 100.0)
    actual = np.array([[60, 30, 90, 0]] * 4 + [[0, 0, 0, 0]], dtype=float)
    k = perf.clear_sky_index_from_fleet(actual, clear)
    assert k.tolist() == [0.6, 0.3, 0.9, 0.0]
    assert np.isnan(perf.clear_sky_index_from_fleet(actual[:2], clear[:2])).all()
