"""Known-truth tests of the synthetic weather: climate normals, persistence, irradiance bounds, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_sim import weather
from firmware_sim.weather import Weather, simulate_weather

LAT, LON = 50.46, 2.79


def _hours(first: str, last: str) -> np.ndarray:
    return np.arange(np.datetime64(first, "ns"), np.datetime64(last, "ns"), np.timedelta64(1, "h")).astype(np.int64)


@pytest.fixture(scope="module")
def three_years():
    t = _hours("2021-01-01", "2024-01-01")
    return t, simulate_weather(t, LAT, LON, seed=11)


def test_climate_normals_of_lille(three_years) -> None:
    t, w = three_years
    month = t.astype("datetime64[ns]").astype("datetime64[M]").astype(int) % 12 + 1
    assert 9.8 < w.temp_air_c.mean() < 11.8
    assert 1.5 < w.temp_air_c[month == 1].mean() < 5.5
    assert 16.5 < w.temp_air_c[month == 7].mean() < 20.5
    assert -15 < w.temp_air_c.min() and w.temp_air_c.max() < 38
    # daily cycle: afternoons warmer than early mornings (UTC 14h vs 5h), more so in summer
    hour = (t // 3_600_000_000_000) % 24
    jul = month == 7
    assert (w.temp_air_c[jul & (hour == 14)].mean() - w.temp_air_c[jul & (hour == 4)].mean()) > 5


def test_weather_persists_from_day_to_day(three_years) -> None:
    _, w = three_years
    daily = w.temp_air_c.reshape(-1, 24).mean(axis=1)
    days = np.arange(daily.size)
    anomaly = daily - np.polyval(np.polyfit(np.cos(2 * np.pi * days / 365.25), daily, 1), np.cos(2 * np.pi * days / 365.25))
    lag1 = np.corrcoef(anomaly[:-1], anomaly[1:])[0, 1]
    assert 0.5 < lag1 < 0.97
    cloud = w.cloud_fraction.reshape(-1, 24).mean(axis=1)
    assert np.corrcoef(cloud[:-1], cloud[1:])[0, 1] > 0.3


def test_irradiance_is_bounded_and_consistent(three_years) -> None:
    _, w = three_years
    assert np.all(w.ghi_w_m2 <= w.ghi_clear_w_m2 + 1e-9)
    assert np.all(w.ghi_w_m2 >= 0) and np.all(w.dni_w_m2 >= 0) and np.all(w.dhi_w_m2 >= 0)
    night = w.solar_zenith_deg >= 90
    assert np.all(w.ghi_w_m2[night] == 0)
    cosz = np.clip(np.cos(np.radians(w.solar_zenith_deg)), 0, None)
    np.testing.assert_allclose(w.dni_w_m2 * cosz + w.dhi_w_m2, w.ghi_w_m2, atol=1e-6)
    yearly_kwh_m2 = w.ghi_w_m2.sum() / 1000 / 3
    assert 900 < yearly_kwh_m2 < 1250  # Lille: ~1080 kWh/m²/yr (PVGIS)


def test_deterministic_under_seed_and_chunking() -> None:
    t = np.arange(np.datetime64("2024-03-01", "ns"), np.datetime64("2024-03-11", "ns"), np.timedelta64(15, "m")).astype(np.int64)
    a = simulate_weather(t, LAT, LON, seed=5)
    b = simulate_weather(t, LAT, LON, seed=5)
    c = simulate_weather(t, LAT, LON, seed=6)
    np.testing.assert_array_equal(a.temp_air_c, b.temp_air_c)
    assert np.abs(a.temp_air_c - c.temp_air_c).max() > 0.5
    half = t.size // 2
    first, second = simulate_weather(t[:half], LAT, LON, seed=5), simulate_weather(t[half:], LAT, LON, seed=5)
    np.testing.assert_allclose(np.concatenate([first.temp_air_c, second.temp_air_c]), a.temp_air_c, atol=1e-9)
    np.testing.assert_allclose(np.concatenate([first.temp_air_smoothed_c, second.temp_air_smoothed_c]),
                               a.temp_air_smoothed_c, atol=1e-6)
    np.testing.assert_allclose(np.concatenate([first.ghi_w_m2, second.ghi_w_m2]), a.ghi_w_m2, atol=1e-9)


def _fields(w: Weather) -> dict[str, np.ndarray]:
    return {name: getattr(w, name) for name in Weather.__slots__}


def test_the_kept_latent_series_give_the_weather_of_a_fresh_computation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The latent series are kept per seed and grown by blocks: what was computed before (a shorter or a
    longer horizon, another seed) must not change a single bit of the weather."""
    t = np.arange(np.datetime64("2025-06-01", "ns"), np.datetime64("2025-06-08", "ns"), np.timedelta64(15, "m")).astype(np.int64)
    monkeypatch.setattr(weather, "_latent_cache", {})
    fresh = _fields(simulate_weather(t, LAT, LON, seed=7))
    early = np.arange(np.datetime64("2003-02-01", "ns"), np.datetime64("2003-02-02", "ns"), np.timedelta64(1, "h")).astype(np.int64)
    monkeypatch.setattr(weather, "_latent_cache", {})
    simulate_weather(early, LAT, LON, seed=7)  # a short horizon first: the next call grows the series
    grown = _fields(simulate_weather(t, LAT, LON, seed=7))
    late = np.array([np.datetime64("2090-01-01", "ns").astype(np.int64)])
    simulate_weather(late, LAT, LON, seed=7)  # the series now reach 2090
    simulate_weather(t, LAT, LON, seed=8)
    kept = _fields(simulate_weather(t, LAT, LON, seed=7))
    assert weather._latent_cache[(7, weather.WeatherParams())].n_days > 32_000
    for name, values in fresh.items():
        np.testing.assert_array_equal(grown[name], values, err_msg=name)
        np.testing.assert_array_equal(kept[name], values, err_msg=name)


def test_rejects_instants_outside_the_supported_window() -> None:
    with pytest.raises(ValueError):
        simulate_weather(np.array([0], dtype=np.int64), LAT, LON, seed=1)
