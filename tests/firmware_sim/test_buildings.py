"""Known-truth tests of the building models: calendars drive schools, heating follows degree days, magnitudes."""

from __future__ import annotations

import numpy as np

from conftest import daily_sum
from firmware_sim.buildings import local_time, occupancy
from terril.calendar import day_types


def _site_daily(chunk, site_id: str, field: str = "load_w"):
    site = chunk.sites[site_id]
    days, energy_wh = daily_sum(chunk.time_ns, getattr(site, field) * chunk.step_s / 3600)
    return days, energy_wh


def test_school_uses_far_less_in_august_and_at_christmas(year_clean) -> None:
    _, chunk = year_clean
    days, e = _site_daily(chunk, "ecole-pasteur")
    types = day_types(days, "four_days")
    term = e[types.school_day].mean()
    august = e[(days >= np.datetime64("2024-08-01")) & (days <= np.datetime64("2024-08-25"))].mean()
    christmas = e[(days >= np.datetime64("2024-12-23")) & (days <= np.datetime64("2024-12-31"))].mean()
    assert august < 0.5 * term
    assert christmas < 0.6 * term


def test_four_day_school_is_quiet_on_wednesdays(registry, year_clean) -> None:
    _, chunk = year_clean
    for site_id, ratio_max, ratio_min in (("ecole-basly", 0.2, 0.0), ("ecole-ferry", 0.75, 0.25)):
        site = registry.site_by_id[site_id]
        occ = chunk.sites[site_id].occupancy
        lt = local_time(chunk.time_ns - int(chunk.step_s * 5e8))
        types = day_types(lt.days, site.school_week)
        idx = lt.day_index
        school_week = ~types.holiday[idx] & ~types.public_holiday[idx]
        tue = occ[school_week & (types.weekday[idx] == 1)].mean()
        wed = occ[school_week & (types.weekday[idx] == 2)].mean()
        assert ratio_min <= wed / tue <= ratio_max, site_id


def test_heating_follows_degree_days_over_a_winter(year_clean) -> None:
    _, chunk = year_clean
    t = chunk.time_ns
    days, temp_sum = daily_sum(t, chunk.weather.temp_air_c)
    _, count = daily_sum(t, np.ones(t.size))
    dd = np.clip(18.0 - temp_sum / count, 0, None)  # degree-days, base 18 °C (DJU)
    _, gas = daily_sum(t, chunk.series["mairie-gaz"].true_values["interval_volume_m3"])
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    heating_season = (month <= 4) | (month >= 10)
    working = day_types(days, None).working_day & (count == 96) & heating_season
    r = np.corrcoef(dd[working], gas[working])[0, 1]
    assert r > 0.9
    # the slope is positive and substantial: ~ UA / (efficiency * 11.2 kWh/m³) per kelvin-day
    slope = np.polyfit(dd[working], gas[working], 1)[0]
    assert slope > 5.0  # m³ per degree-day


def test_yearly_intensities_are_plausible(registry, year_clean) -> None:
    _, chunk = year_clean
    h = chunk.step_s / 3600

    def kwh_per_m2(site_id: str, field: str) -> float:
        return float(getattr(chunk.sites[site_id], field).sum() * h / 1000 / registry.site_by_id[site_id].floor_area_m2)

    assert 20 < kwh_per_m2("ecole-basly", "load_w") < 40
    assert 80 < kwh_per_m2("ecole-basly", "space_heat_w") < 150
    assert 80 < kwh_per_m2("salle-bigotte", "space_heat_w") < 200
    assert kwh_per_m2("eglise", "load_w") < 15
    gas_m3 = chunk.series["ecole-basly-gaz"].true_values["interval_volume_m3"].sum()
    assert 80 < gas_m3 * 11.2 / 1150 < 170  # gas meter in m³ with 11.2 kWh/m³


def test_sports_hall_busy_on_weekday_evenings_and_weekends(registry) -> None:
    t = np.arange(np.datetime64("2024-11-04", "ns"), np.datetime64("2024-11-11", "ns"),
                  np.timedelta64(15, "m")).astype(np.int64)
    lt = local_time(t)
    occ = occupancy(registry.site_by_id["salle-bigotte"], lt, seed=1)
    evening = (lt.hour >= 18) & (lt.hour < 22)
    night = lt.hour < 6
    weekday = np.isin(lt.day_index, [0, 1, 3, 4])  # Mon, Tue, Thu, Fri
    saturday = lt.day_index == 5
    assert occ[weekday & evening].mean() > 0.9
    assert occ[saturday & (lt.hour >= 10) & (lt.hour < 18)].mean() > 0.5
    assert occ[night].max() == 0


def test_church_sunday_service_and_quiet_weekdays(registry) -> None:
    t = np.arange(np.datetime64("2024-01-01", "ns"), np.datetime64("2024-04-01", "ns"),
                  np.timedelta64(15, "m")).astype(np.int64)
    lt = local_time(t)
    occ = occupancy(registry.site_by_id["eglise"], lt, seed=1)
    types = day_types(lt.days, None)
    sunday_morning = (types.weekday[lt.day_index] == 6) & (lt.hour >= 10) & (lt.hour < 11.5)
    assert occ[sunday_morning].min() == 1.0
    assert occ.mean() < 0.05


def test_sports_hall_closes_on_the_registry_closures(registry) -> None:
    t = np.arange(np.datetime64("2024-12-20", "ns"), np.datetime64("2025-01-04", "ns"),
                  np.timedelta64(15, "m")).astype(np.int64)
    lt = local_time(t)
    site = registry.site_by_id["salle-bigotte"]
    assert "12-24/01-01" in site.closures
    occ = occupancy(site, lt, seed=1)
    closed = (lt.days[lt.day_index] >= np.datetime64("2024-12-24")) & (lt.days[lt.day_index] <= np.datetime64("2025-01-01"))
    assert occ[closed].max() == 0
    assert occ[~closed].max() > 0.5  # open the days around (school holidays: evening clubs)
    open_all_year = occupancy(site.model_copy(update={"closures": ()}), lt, seed=1)
    assert open_all_year[closed & ~np.isin(lt.days[lt.day_index], np.array(["2024-12-25", "2025-01-01"],
                                                                            dtype="datetime64[D]"))].max() > 0.5
