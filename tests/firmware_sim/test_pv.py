"""Known-truth tests of the PV model: clear-sky bound, night, commissioning, clipping, technology ranking."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from firmware_sim.pv import TECHNOLOGIES, array_ac_power_w, commissioned_ns
from firmware_sim.weather import simulate_weather
from terril.registry import PvArray


def _array(**kw) -> PvArray:
    base = dict(id="a", site="s", meter="m", kwp=10.0, tilt_deg=30, azimuth_deg=180, technology="mono_perc",
                commissioned=dt.date(2015, 1, 1), rollout_stage="pilot", losses_pct=14, inverter_ac_kw=None)
    base.update(kw)
    return PvArray(**base)


@pytest.fixture(scope="module")
def year_weather():
    t = np.arange(np.datetime64("2024-01-01T00:07:30", "ns"), np.datetime64("2025-01-01", "ns"),
                  np.timedelta64(15, "m")).astype(np.int64)
    return simulate_weather(t, 50.46, 2.79, seed=3)


def test_production_below_clear_sky_bound(year_weather) -> None:
    w = year_weather
    arr = _array(kwp=9.0, tilt_deg=35, azimuth_deg=160)
    p = array_ac_power_w(w, arr)
    p_clear = array_ac_power_w(w, arr, clear_sky=True)
    # instantaneous physical bound: all beam and all sky light on the panel, cold cells
    bound = arr.kwp * (w.dni_clear_w_m2 + w.ghi_clear_w_m2) * 1.1
    assert np.all(p <= bound + 1e-9)
    assert np.all(p[w.solar_zenith_deg >= 90] == 0)
    days_p = p.reshape(-1, 96).sum(axis=1)
    days_clear = p_clear.reshape(-1, 96).sum(axis=1)
    assert np.all(days_p <= days_clear * 1.02)
    assert 0.45 < days_p.sum() / days_clear.sum() < 0.8  # a cloudy climate


def test_zero_before_commissioning(year_weather) -> None:
    arr = _array(commissioned=dt.date(2024, 7, 1))
    p = array_ac_power_w(year_weather, arr)
    before = year_weather.time_ns < commissioned_ns(arr)
    assert np.all(p[before] == 0) and p[~before].max() > 1000


def test_inverter_clipping(year_weather) -> None:
    p = array_ac_power_w(year_weather, _array(inverter_ac_kw=5.0))
    free = array_ac_power_w(year_weather, _array())
    assert p.max() == pytest.approx(5000.0)
    assert free.max() > 5500.0
    assert np.all(p <= free + 1e-9)


def test_yield_and_technology_ranking(year_weather) -> None:
    yields = {}
    for tech in TECHNOLOGIES:
        p = array_ac_power_w(year_weather, _array(technology=tech, commissioned=dt.date(2023, 12, 1)))
        yields[tech] = p.sum() * 0.25 / 1000 / 10.0  # kWh/kWp
    assert 850 < yields["mono_perc"] < 1150  # Lille: ~950-1000 kWh/kWp for a south roof at 30°
    assert yields["heterojunction"] > yields["thin_film_cdte"] > yields["mono_perc"] > yields["polycrystalline"] \
        > yields["amorphous_si"]
    assert yields["heterojunction"] / yields["amorphous_si"] > 1.08


def test_orientation_matters(year_weather) -> None:
    south = array_ac_power_w(year_weather, _array()).sum()
    north = array_ac_power_w(year_weather, _array(azimuth_deg=0, tilt_deg=40)).sum()
    assert north < 0.7 * south
