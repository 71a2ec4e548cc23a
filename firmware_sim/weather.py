"""Synthetic weather for a town: air temperature and solar irradiance, deterministic under a seed.

Temperature = seasonal cycle + daily cycle (amplitude larger in summer and on clear days)
+ day-to-day AR(1) anomaly (weather persistence) + hour-to-hour AR(1) noise + a cloud
coupling (cloudy winter days are milder, cloudy summer days cooler).

Irradiance = pvlib clear-sky model (Ineichen with the bundled Linke turbidity climatology,
no network) × a clear-sky index from a stochastic cloud fraction with day-to-day persistence
(Kasten-Czeplak relation). The beam part is reduced faster than the global part, so that
diffuse light rises under clouds; components stay consistent (GHI = DNI·cos z + DHI).

Every random term is indexed by hours or days counted from :data:`EPOCH_NS`
(:mod:`firmware_sim.randomness`), so a given instant has the same weather whatever chunking
the caller uses. Default parameters give Loos-en-Gohelle/Lille normals: annual mean ~10.8 °C,
January ~3.4 °C, July ~18.2 °C, and a global horizontal irradiation of ~1050 kWh/m²/yr
(PVGIS gives ~1080 for Lille).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter
from scipy.special import ndtr

from firmware_sim.randomness import normal, stream_key

NS_PER_S = 1_000_000_000
#: Origin of every random index: 2000-01-01T00:00:00Z.
EPOCH_NS = 946_684_800 * NS_PER_S
#: Latest instant the weather covers: 2100-01-01T00:00:00Z.
END_NS = 4_102_444_800 * NS_PER_S
_DAY_S = 86_400.0
_YEAR_D = 365.2425

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class WeatherParams:
    """Climate of the simulated town (defaults: Lille/Loos-en-Gohelle, 1991-2020 normals).

    Temperatures in [°C], days of year in [d], persistence coefficients per step [1].
    """

    mean_temp_c: float = 10.8
    seasonal_amplitude_c: float = 7.4
    coldest_day_of_year: float = 15.0
    diurnal_half_range_winter_c: float = 2.2
    diurnal_half_range_summer_c: float = 4.6
    daily_anomaly_sigma_winter_c: float = 3.4
    daily_anomaly_sigma_summer_c: float = 2.3
    daily_anomaly_phi: float = 0.78
    hourly_noise_sigma_c: float = 0.45
    hourly_noise_phi: float = 0.9
    cloud_temp_coupling_c: float = 3.0
    cloud_daily_phi: float = 0.55
    cloud_hourly_phi: float = 0.85
    cloud_mean_latent: float = 0.55
    cloud_winter_extra_latent: float = 0.35
    altitude_m: float = 60.0


@dataclass(frozen=True, slots=True)
class Weather:
    """Weather at instants ``time_ns`` (UTC ns). Every array has the shape of ``time_ns``."""

    time_ns: npt.NDArray[np.int64]
    temp_air_c: FloatArray
    temp_air_smoothed_c: FloatArray  # exponential mean over ~12 h: what a building's mass feels [°C]
    ghi_w_m2: FloatArray
    dni_w_m2: FloatArray
    dhi_w_m2: FloatArray
    ghi_clear_w_m2: FloatArray
    dni_clear_w_m2: FloatArray
    dhi_clear_w_m2: FloatArray
    dni_extra_w_m2: FloatArray
    solar_zenith_deg: FloatArray
    solar_azimuth_deg: FloatArray
    cloud_fraction: FloatArray  # 0 clear .. 1 overcast [1]
    day_of_year: FloatArray = field(repr=False)


def _check_times(time_ns: npt.NDArray[np.int64]) -> None:
    if time_ns.size and (time_ns.min() < EPOCH_NS or time_ns.max() >= END_NS):
        raise ValueError("weather is simulated between 2000-01-01 and 2100-01-01 UTC")


def _ar1(key: int, n: int, phi: float) -> FloatArray:
    """Unit-variance AR(1) series of length ``n`` indexed from the epoch (index 0 = epoch)."""
    e = normal(key, np.arange(n)) * np.sqrt(1.0 - phi * phi)
    e[0] = normal(key, np.array([0]))[0]  # start in the stationary distribution
    return lfilter([1.0], [1.0, -phi], e)


def _interp_series(series: FloatArray, position: FloatArray, indexes: FloatArray) -> FloatArray:
    """Linear interpolation of a series sampled at integer positions 0..n-1 (``indexes``: 0.0 .. n-1 at least)."""
    return np.interp(position, indexes[:series.size], series)


class _Latent:
    """AR(1) latent series from the epoch over ``n_days`` days, shared by the calls of a seed (never modified;
    not flagged read-only, as ``np.interp`` would then copy them at each call)."""

    def __init__(self, seed: int, params: WeatherParams, n_days: int) -> None:
        p = params
        n_hours = n_days * 24 + 2
        self.n_days = n_days
        self.temp_day = _ar1(stream_key(seed, "weather", "temp-day"), n_days, p.daily_anomaly_phi)
        self.temp_hour = _ar1(stream_key(seed, "weather", "temp-hour"), n_hours, p.hourly_noise_phi)
        self.cloud_day = _ar1(stream_key(seed, "weather", "cloud-day"), n_days, p.cloud_daily_phi)
        self.cloud_hour = _ar1(stream_key(seed, "weather", "cloud-hour"), n_hours, p.cloud_hourly_phi)
        self.indexes = np.arange(n_hours, dtype=float)  # the positions of the samples, for np.interp


#: Latent series are computed up to a horizon rounded up to whole blocks of this many days [d]
_LATENT_BLOCK_D = 1024
#: Latent series kept (one per seed and climate; a run uses one)
_LATENT_CACHE_MAX = 4
_latent_cache: dict[tuple[int, WeatherParams], _Latent] = {}


def _latent(seed: int, params: WeatherParams, max_ns: int) -> _Latent:
    """The latent series of ``seed`` covering instants up to ``max_ns``, computed once per seed and block.

    The series run from the epoch (~25 years of hourly draws today): recomputing them for each chunk of a
    long run used to cost more than the rest of the weather. Longer series have the same values at the
    same indexes (the draws are indexed, the AR(1) filter is causal), so every caller gets the same weather.
    """
    n_days = int((max_ns - EPOCH_NS) // (86_400 * NS_PER_S)) + 3
    key = (seed, params)
    latent = _latent_cache.get(key)
    if latent is None or latent.n_days < n_days:
        latent = _Latent(seed, params, -(-n_days // _LATENT_BLOCK_D) * _LATENT_BLOCK_D)
        _latent_cache.pop(key, None)
        while len(_latent_cache) >= _LATENT_CACHE_MAX:
            _latent_cache.pop(next(iter(_latent_cache)))
        _latent_cache[key] = latent
    return latent


def _season(doy: FloatArray, p: WeatherParams) -> FloatArray:
    """-1 in mid-winter .. +1 in mid-summer."""
    return -np.cos(2 * np.pi * (doy - p.coldest_day_of_year) / _YEAR_D)


def _cloud_fraction(t_s: FloatArray, doy: FloatArray, lat: _Latent, p: WeatherParams) -> tuple[FloatArray, FloatArray]:
    """(cloud fraction at t, daily cloud fraction at t), both 0..1."""
    day_pos = t_s / _DAY_S - 0.5  # daily values sit at noon UTC
    z_day = _interp_series(lat.cloud_day, np.clip(day_pos, 0, None), lat.indexes)
    z_hour = _interp_series(lat.cloud_hour, t_s / 3600.0, lat.indexes)
    mu = p.cloud_mean_latent + p.cloud_winter_extra_latent * (-_season(doy, p))
    cloud = ndtr(0.8 * z_day + 0.6 * z_hour + mu)
    cloud_day = ndtr(z_day + mu)
    return cloud, cloud_day


def _temperature(t_s: FloatArray, doy: FloatArray, longitude: float, lat: _Latent, p: WeatherParams) -> FloatArray:
    season = _season(doy, p)
    summerness = 0.5 * (1.0 + season)
    _, cloud_day = _cloud_fraction(t_s, doy, lat, p)
    solar_h = (t_s / 3600.0 + longitude / 15.0) % 24.0
    # max at 15 h solar, min before sunrise; the second harmonic sharpens the afternoon peak
    shape = np.cos(2 * np.pi * (solar_h - 15.0) / 24.0) + 0.25 * np.cos(4 * np.pi * (solar_h - 14.0) / 24.0)
    half_range = (p.diurnal_half_range_winter_c + (p.diurnal_half_range_summer_c - p.diurnal_half_range_winter_c) * summerness)
    half_range = half_range * (1.45 - 0.9 * cloud_day)
    sigma = p.daily_anomaly_sigma_winter_c + (p.daily_anomaly_sigma_summer_c - p.daily_anomaly_sigma_winter_c) * summerness
    day_anom = _interp_series(lat.temp_day, np.clip(t_s / _DAY_S - 0.5, 0, None), lat.indexes) * sigma
    hour_noise = _interp_series(lat.temp_hour, t_s / 3600.0, lat.indexes) * p.hourly_noise_sigma_c
    coupling = p.cloud_temp_coupling_c * (cloud_day - 0.6) * (-season)
    return p.mean_temp_c + p.seasonal_amplitude_c * season + half_range * shape + day_anom + hour_noise + coupling


def _day_of_year(t_s: FloatArray) -> FloatArray:
    return ((t_s / _DAY_S) % _YEAR_D)  # epoch is 1 January: fractional day of year, Gregorian mean year


def simulate_weather(time_ns: npt.ArrayLike, latitude: float, longitude: float, seed: int,
                     params: WeatherParams = WeatherParams(), smoothing_h: float = 12.0) -> Weather:
    """Weather at instants ``time_ns`` (UTC ns, 2000..2100) for a place.

    Parameters
    ----------
    time_ns
        Instants. [ns since 1970, UTC]
    latitude, longitude
        Place. [deg]
    seed
        Seed of every random term; the same seed gives the same weather at the same instant.
    params
        Climate parameters.
    smoothing_h
        Time constant of ``temp_air_smoothed_c``. [h]
    """
    import pandas as pd
    import pvlib

    t_ns = np.asarray(time_ns, dtype=np.int64)
    _check_times(t_ns)
    if t_ns.size == 0:
        e = np.zeros(0)
        return Weather(t_ns, e, e, e, e, e, e, e, e, e, e, e, e, e)
    lat = _latent(seed, params, int(t_ns.max()))
    t_s = (t_ns - EPOCH_NS).astype(np.float64) / NS_PER_S
    doy = _day_of_year(t_s)
    temp = _temperature(t_s, doy, longitude, lat, params)

    # building-mass temperature: exponentially weighted mean of the past hourly temperatures over a
    # finite window (6 time constants), so every instant gets the same value whatever the chunking
    window_h = int(6 * smoothing_h)
    weights = np.exp(-np.arange(window_h + 1) / smoothing_h)
    weights /= weights.sum()
    first_h = int(t_s.min() // 3600) - window_h
    hours = np.arange(first_h, int(t_s.max() // 3600) + 2, dtype=float) * 3600.0
    temp_h = _temperature(hours, _day_of_year(hours), longitude, lat, params)
    smooth_h = np.convolve(temp_h, weights, mode="valid")  # value at hours[window_h:]
    smoothed = np.interp(t_s, hours[window_h:], smooth_h)

    idx = pd.DatetimeIndex(t_ns.astype("datetime64[ns]"), tz="UTC")
    loc = pvlib.location.Location(latitude, longitude, tz="UTC", altitude=params.altitude_m)
    solpos = loc.get_solarposition(idx)
    extra = pvlib.irradiance.get_extra_radiation(idx)  # what get_clearsky would compute again
    clear = loc.get_clearsky(idx, model="ineichen", solar_position=solpos, dni_extra=extra)
    zenith = solpos["apparent_zenith"].to_numpy()
    azimuth = solpos["azimuth"].to_numpy()
    ghi_cs = np.nan_to_num(clear["ghi"].to_numpy())
    dni_cs = np.nan_to_num(clear["dni"].to_numpy())
    dhi_cs = np.nan_to_num(clear["dhi"].to_numpy())
    dni_extra = extra.to_numpy()

    cloud, _ = _cloud_fraction(t_s, doy, lat, params)
    # sub-hourly flicker of broken clouds (largest at half cover)
    step_index = (t_ns // (60 * NS_PER_S)).astype(np.int64)
    flicker = normal(stream_key(seed, "weather", "flicker"), step_index)
    kc = (1.0 - 0.75 * cloud ** 3.4) * (1.0 + 0.35 * 4.0 * cloud * (1.0 - cloud) * flicker)
    kc = np.clip(kc, 0.05, 1.0)
    beam = np.clip((kc - 0.25) / 0.75, 0.0, 1.0) ** 1.5  # beam transmission relative to clear sky, <= kc
    cosz = np.clip(np.cos(np.radians(zenith)), 0.0, None)
    ghi = kc * ghi_cs
    dni = beam * dni_cs
    dhi = np.clip(ghi - dni * cosz, 0.0, None)
    return Weather(
        time_ns=t_ns, temp_air_c=temp, temp_air_smoothed_c=smoothed,
        ghi_w_m2=ghi, dni_w_m2=dni, dhi_w_m2=dhi,
        ghi_clear_w_m2=ghi_cs, dni_clear_w_m2=dni_cs, dhi_clear_w_m2=dhi_cs, dni_extra_w_m2=dni_extra,
        solar_zenith_deg=zenith, solar_azimuth_deg=azimuth, cloud_fraction=cloud, day_of_year=doy,
    )
