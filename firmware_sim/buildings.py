"""Building physics of the simulated fleet: occupancy, electricity, heating, hot water and water use.

One function per concern, all pure and vectorised over an array of instants:

* :func:`local_time` turns UTC instants into Europe/Paris hours and dates once per chunk;
* :func:`occupancy` gives the presence (0..1) of a site by kind: schools follow the zone-B
  calendar and their school week (:mod:`terril.calendar`), sports halls are busy on weekday
  evenings and weekends, the church has Sunday services and occasional funerals, weddings and
  concerts, offices keep office hours;
* :func:`site_loads` turns occupancy and weather into power: electricity (base load, equipment,
  lighting that follows daylight), space heating (degree-hour model with a balance point, setback
  outside occupancy, morning boost, heating season 1 Oct-15 May), domestic hot water and water flow.

Magnitudes (:data:`PROFILES`) are calibrated on the default weather to typical French public
buildings (ADEME/OPERAT orders of magnitude): a primary school uses ~30 kWh/m²/yr of electricity and
~120 kWh/m²/yr of heating, a sports hall ~35 and ~150, a town hall ~60 and ~130, a church ~10 and
~60 (heated only for services and events). Random day-to-day and step-to-step variations come from
:mod:`firmware_sim.randomness`, keyed by site and time, so chunking does not change them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from firmware_sim.randomness import normal, stream_key, uniform
from firmware_sim.weather import EPOCH_NS, NS_PER_S, Weather
from terril.calendar import DayTypes, day_types, is_closed, school_occupancy
from terril.registry import Site

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class LocalTime:
    """Europe/Paris wall-clock view of UTC instants."""

    time_ns: npt.NDArray[np.int64]
    hour: FloatArray  # local decimal hour 0..24 [h]
    day_index: npt.NDArray[np.int64]  # index into ``days``
    days: npt.NDArray[np.datetime64]  # sorted unique local dates (datetime64[D])
    day_number: npt.NDArray[np.int64]  # local date as days since 1970-01-01, per instant
    month: npt.NDArray[np.int64]  # 1..12, per instant
    day_of_month: npt.NDArray[np.int64]  # 1..31, per instant


def local_time(time_ns: npt.ArrayLike, tz: str = "Europe/Paris") -> LocalTime:
    """Local hours and dates of UTC-nanosecond instants (DST included)."""
    import pandas as pd

    t = np.asarray(time_ns, dtype=np.int64)
    idx = pd.DatetimeIndex(t.astype("datetime64[ns]"), tz="UTC").tz_convert(tz).tz_localize(None)
    local = idx.values.astype("datetime64[ns]")
    day = local.astype("datetime64[D]")
    hour = (local - day).astype(np.int64) / 3.6e12
    days, inverse = np.unique(day, return_inverse=True)
    month = idx.month.to_numpy().astype(np.int64)
    return LocalTime(t, hour, inverse.astype(np.int64), days, day.astype(np.int64), month,
                     idx.day.to_numpy().astype(np.int64))


@dataclass(frozen=True, slots=True)
class BuildingProfile:
    """Energy and water parameters of a kind of building, per m² of floor area."""

    base_w_per_m2: float  # electricity always drawn (servers, fridges, ventilation, standby) [W/m²]
    occupied_w_per_m2: float  # extra electricity at full occupancy [W/m²]
    lighting_share: float  # share of the occupied load that is lighting, cut by daylight [1]
    heat_loss_w_per_m2_k: float  # heating power per kelvin below the balance point [W/(m²·K)]
    occupied_balance_c: float  # balance temperature when occupied (setpoint minus gains) [°C]
    setback_balance_c: float  # balance temperature in setback (nights, weekends, holidays) [°C]
    preheat_h: float  # boost period before occupancy [h]
    dhw_w_per_m2: float  # domestic hot water at full occupancy [W/m²]
    water_m3_h_per_m2: float  # water flow at full occupancy [m³/(h·m²)]
    base_w: float = 0.0  # electricity always drawn, per site [W]
    water_base_m3_h: float = 0.0  # permanent small flow (cisterns, cleaning) [m³/h]


#: Profiles by site kind. Calibrated with the default weather (see module docstring).
PROFILES: dict[str, BuildingProfile] = {
    # kind: base W/m², occupied W/m², lighting share, U W/(m²·K), occupied balance °C, setback balance °C,
    #       preheat h, hot water W/m², water m³/(h·m²)
    "school": BuildingProfile(1.6, 15.0, 0.5, 3.60, 16.5, 11.0, 2.0, 0.9, 3.0e-4),
    "primary_school": BuildingProfile(1.6, 15.0, 0.5, 3.60, 16.5, 11.0, 2.0, 0.9, 3.0e-4),
    "nursery_school": BuildingProfile(1.8, 15.0, 0.5, 3.40, 17.5, 12.0, 2.0, 1.2, 4.0e-4),
    "middle_school": BuildingProfile(1.8, 15.0, 0.5, 3.60, 16.5, 11.0, 2.0, 0.9, 3.0e-4),
    "sports_hall": BuildingProfile(1.0, 14.0, 0.75, 4.95, 14.5, 7.0, 2.0, 6.0, 3.0e-4),
    "church": BuildingProfile(0.8, 14.0, 0.8, 9.50, 12.0, 3.0, 4.0, 0.0, 0.0, water_base_m3_h=0.001),
    "town_hall": BuildingProfile(2.8, 18.0, 0.45, 3.15, 17.0, 12.0, 1.5, 0.6, 6.0e-5),
    "technical_services": BuildingProfile(2.2, 14.0, 0.4, 3.65, 15.0, 10.0, 1.0, 2.0, 1.0e-4),
    "library": BuildingProfile(3.0, 16.0, 0.5, 2.40, 17.0, 12.0, 1.5, 0.3, 2.0e-5),
    "community_hall": BuildingProfile(1.5, 30.0, 0.5, 4.80, 16.5, 9.0, 3.0, 1.5, 4.5e-4),
    "cultural_centre": BuildingProfile(2.0, 16.0, 0.5, 3.05, 16.5, 11.0, 2.0, 0.6, 6.0e-5),
    "swimming_pool": BuildingProfile(20.0, 20.0, 0.3, 3.0, 22.0, 20.0, 1.0, 30.0, 1.0e-3),
    "office": BuildingProfile(2.8, 18.0, 0.45, 3.15, 17.0, 12.0, 1.5, 0.6, 6.0e-5),
    "other": BuildingProfile(2.0, 12.0, 0.45, 3.15, 16.0, 11.0, 1.5, 0.5, 6.0e-5),
    "pv_test_platform": BuildingProfile(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, base_w=150.0),
    "weather": BuildingProfile(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, base_w=5.0),
}

#: Seasonal efficiency of gas boilers (delivered heat / gas energy, on the higher heating value). [1]
GAS_BOILER_EFFICIENCY = 0.88
#: Design outdoor temperature: heating capacity is sized for it. [°C]
DESIGN_TEMP_C = -7.0
#: Occupancy from which rooms are heated to comfort (cleaning staff alone do not trigger it). [1]
COMFORT_OCCUPANCY = 0.2
SCHOOL_KINDS = frozenset({"school", "primary_school", "nursery_school", "middle_school"})


@lru_cache(maxsize=64)
def _day_types_cached(first: np.datetime64, last: np.datetime64, school_week: str | None) -> DayTypes:
    days = np.arange(first, last + 1, dtype="datetime64[D]")
    return day_types(days, school_week)  # type: ignore[arg-type]


def site_day_types(site: Site, lt: LocalTime) -> tuple[DayTypes, npt.NDArray[np.int64]]:
    """Day types for the local days of ``lt`` and the index of each instant into them."""
    first, last = lt.days[0], lt.days[-1]
    week = site.school_week if site.kind in SCHOOL_KINDS else None
    if site.kind in SCHOOL_KINDS and week is None:
        week = "four_days"
    types = _day_types_cached(first, last, week)
    index = (lt.day_number - first.astype(np.int64)).astype(np.int64)
    return types, index


def _between(h: FloatArray, start: float, end: float) -> BoolArray:
    return (h >= start) & (h < end)


def _day_uniform(seed: int, site_id: str, what: str, day_number: npt.NDArray[np.int64]) -> FloatArray:
    return uniform(stream_key(seed, "site", site_id, what), day_number)


def occupancy(site: Site, lt: LocalTime, seed: int) -> FloatArray:
    """Presence of people in ``site`` (0..1) at each instant of ``lt``.

    Deterministic under ``seed``; random events (funerals, weddings, parties, shows) are drawn per
    local day and site.
    """
    h = lt.hour
    types, di = site_day_types(site, lt)
    wd = types.weekday[di]
    ph = types.public_holiday[di]
    sch_hol = types.holiday[di]
    working = ~types.weekend[di] & ~ph
    month, dom = lt.month, lt.day_of_month
    kind = site.kind
    # the registry's annual closures (sports halls and the library close for summer and the year end)
    annual_closure = is_closed(lt.days, site.closures)[lt.day_index] if site.closures else np.zeros(h.shape, bool)
    occ = np.zeros(h.shape)
    if kind in SCHOOL_KINDS:
        occ = school_occupancy(h, types, di)
        # teachers and cleaning staff: early evening on school days, a few days before the rentrée
        staff = working & (types.school_day[di] | ((month == 8) & (dom >= 26))) & _between(h, 16.5, 18.5)
        occ = np.maximum(occ, np.where(staff, 0.15, 0.0))
    elif kind == "sports_hall":
        closed = ph | annual_closure
        school_use = types.working_day[di] & ~sch_hol & (wd != 2) & (_between(h, 9.0, 12.0) | _between(h, 13.5, 16.5))
        wed = (wd == 2) & _between(h, 13.5, 17.5)
        evening = (wd <= 4) & _between(h, 17.5, 22.5)
        saturday = (wd == 5) & _between(h, 9.0, 19.0)
        sunday = (wd == 6) & _between(h, 9.0, 13.0)
        occ = np.select([evening, saturday, wed, sunday, school_use], [1.0, 0.8, 0.8, 0.6, 0.5], 0.0)
        occ = np.where(closed, 0.0, occ)
    elif kind == "church":
        date_u = _day_uniform(seed, site.id, "event", lt.day_number)
        slot_u = _day_uniform(seed, site.id, "slot", lt.day_number)
        summer = (month >= 4) & (month <= 9)
        service = (wd == 6) & _between(h, 10.0, 11.5)
        christmas_eve = (month == 12) & (dom == 24) & _between(h, 18.0, 20.0)
        funeral = (wd <= 4) & (date_u < 0.12) & np.where(slot_u < 0.5, _between(h, 10.0, 11.0), _between(h, 14.5, 15.5))
        wedding = (wd == 5) & (date_u < np.where(summer, 0.5, 0.15)) & _between(h, 15.0, 16.5)
        concert = (wd == 4) & (date_u > 0.96) & _between(h, 20.0, 22.0)
        occ = np.select([service | christmas_eve, wedding, concert, funeral], [1.0, 0.8, 0.9, 0.7], 0.0)
    elif kind in ("town_hall", "office"):
        open_h = _between(h, 8.5, 12.0) | _between(h, 13.5, 17.5)
        lunch = _between(h, 12.0, 13.5)
        saturday = (wd == 5) & ~ph & _between(h, 9.0, 12.0)
        council = (wd == 3) & (dom <= 7) & (month != 8) & ~ph & _between(h, 18.5, 21.5)
        occ = np.select([working & open_h, working & lunch, council, saturday], [1.0, 0.4, 0.6, 0.3], 0.0)
        occ = np.where((month == 8) & (occ > 0), occ * 0.7, occ)
    elif kind == "technical_services":
        day = working & (_between(h, 7.5, 12.0) | _between(h, 13.0, 16.5))
        occ = np.where(day, np.where(month == 8, 0.6, 1.0), 0.0)
    elif kind == "library":
        closed = ph | annual_closure
        public = (((wd == 1) | (wd == 4)) & _between(h, 13.5, 18.0)) | ((wd == 2) & _between(h, 9.5, 18.0)) \
            | ((wd == 5) & _between(h, 9.5, 17.0))
        staff = (wd >= 1) & (wd <= 5) & _between(h, 9.0, 18.0)
        occ = np.where(closed, 0.0, np.select([public, staff], [1.0, 0.4], 0.0))
    elif kind == "community_hall":
        date_u = _day_uniform(seed, site.id, "event", lt.day_number)
        clubs = ((wd == 1) | (wd == 3)) & ~ph & _between(h, 14.0, 17.0)
        party = (wd == 5) & (date_u < 0.55) & (h >= 18.0)
        after_party = (wd == 6) & (_day_uniform(seed, site.id, "event", lt.day_number - 1) < 0.55) & (h < 2.0)
        banquet = (wd == 6) & (date_u < 0.35) & _between(h, 12.0, 18.0)
        new_year = (month == 12) & (dom == 31) & (h >= 19.0)
        occ = np.select([party | after_party | new_year, banquet, clubs], [1.0, 0.8, 0.4], 0.0)
    elif kind == "cultural_centre":
        date_u = _day_uniform(seed, site.id, "event", lt.day_number)
        office = working & _between(h, 9.0, 17.0)
        public = (wd >= 1) & (wd <= 5) & ~ph & _between(h, 10.0, 18.0)
        show = ((wd == 4) | (wd == 5)) & (date_u < 0.4) & (month != 8) & _between(h, 19.5, 23.0)
        occ = np.select([show, public, office], [1.0, 0.6, 0.4], 0.0)
    elif kind in ("swimming_pool", "other"):
        occ = np.where(working & _between(h, 8.0, 18.0), 1.0, 0.0)
    return occ.astype(np.float64)


@dataclass(frozen=True, slots=True)
class SiteLoads:
    """Average powers and flows of a site over each interval (shape of the instants)."""

    occupancy: FloatArray  # [1]
    electricity_w: FloatArray  # electricity use, without heating or hot water [W]
    space_heat_w: FloatArray  # heat delivered for space heating [W]
    dhw_heat_w: FloatArray  # heat delivered for domestic hot water [W]
    water_m3_h: FloatArray  # water flow [m³/h]


def heating_season(lt: LocalTime) -> BoolArray:
    """The heating period: 1 October to 15 May (boilers off in summer except hot water)."""
    return (lt.month >= 10) | (lt.month <= 4) | ((lt.month == 5) & (lt.day_of_month <= 15))


def site_loads(site: Site, weather: Weather, lt: LocalTime, seed: int, step_s: float,
               profile: BuildingProfile | None = None) -> SiteLoads:
    """Electricity, heat and water of ``site`` at the instants of ``weather`` (= ``lt``).

    Parameters
    ----------
    site
        The site (kind and floor area are used).
    weather
        Weather at the interval mid-points.
    lt
        Local time of the same instants.
    seed
        Seed of the random variations.
    step_s
        Interval length, used for the look-ahead of the morning boost. [s]
    profile
        Parameters, by default ``PROFILES[site.kind]``.
    """
    p = profile or PROFILES.get(site.kind, PROFILES["other"])
    area = site.floor_area_m2
    occ = occupancy(site, lt, seed)
    minute = ((lt.time_ns - EPOCH_NS) // (60 * NS_PER_S)).astype(np.int64)
    day_factor = np.exp(0.07 * normal(stream_key(seed, "site", site.id, "day"), lt.day_number))
    step_noise = normal(stream_key(seed, "site", site.id, "elec"), minute)

    # electricity: base + occupied equipment and lighting (lighting fades with daylight)
    daylight_cut = np.clip(1.0 - weather.ghi_w_m2 / 350.0, 0.3, 1.0)
    occupied = p.occupied_w_per_m2 * area * occ * ((1 - p.lighting_share) + p.lighting_share * daylight_cut)
    base = (p.base_w_per_m2 * area + p.base_w) * (1.0 + 0.03 * step_noise)
    electricity = np.clip(base + occupied * day_factor * (1.0 + 0.08 * step_noise), 0.0, None)

    # space heating: degree-hour model against the smoothed outdoor temperature
    season = heating_season(lt)
    comfort = occ >= COMFORT_OCCUPANCY
    preheat = np.zeros(occ.shape, dtype=bool)
    if p.preheat_h > 0 and p.heat_loss_w_per_m2_k > 0 and occ.size:
        # occupancy is a pure function of time, so look ahead exactly, past the end of the chunk too
        n_ahead = max(1, int(round(p.preheat_h * 3600 / step_s)))
        step_ns = int(round(step_s * NS_PER_S))
        extra = lt.time_ns[-1] + step_ns * np.arange(1, n_ahead + 1, dtype=np.int64)
        comfort_ext = np.concatenate([comfort, occupancy(site, local_time(extra), seed) >= COMFORT_OCCUPANCY]).astype(np.int64)
        csum = np.concatenate([[0], np.cumsum(comfort_ext)])
        i = np.arange(occ.size)
        preheat = (csum[i + n_ahead + 1] - csum[i + 1]) > 0
        preheat &= ~comfort
    balance = np.where(comfort, p.occupied_balance_c, p.setback_balance_c)
    balance = np.where(preheat, p.occupied_balance_c + 3.0, balance)
    ua = p.heat_loss_w_per_m2_k * area
    capacity = ua * (p.occupied_balance_c + 3.0 - DESIGN_TEMP_C)
    heat_noise = normal(stream_key(seed, "site", site.id, "heat"), minute)
    demand = ua * np.clip(balance - weather.temp_air_smoothed_c, 0.0, None) * day_factor * (1.0 + 0.05 * heat_noise)
    space_heat = np.where(season, np.clip(demand, 0.0, capacity), 0.0)

    dhw = p.dhw_w_per_m2 * area * occ * (1.0 + 0.1 * heat_noise)
    dhw = np.clip(dhw + 0.05 * p.dhw_w_per_m2 * area, 0.0, None)  # storage losses

    water_noise = normal(stream_key(seed, "site", site.id, "water"), minute)
    water = (p.water_m3_h_per_m2 * area * occ + p.water_base_m3_h) * np.exp(0.5 * water_noise - 0.125)
    return SiteLoads(occ, electricity, space_heat, dhw, water)

