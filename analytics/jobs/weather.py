"""Daily weather and degree days from the weather station's readings, to ``weather_daily``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.degree_days import cdd_meteo, daily_temperature, hdd_costic, hdd_meteo
from analytics.influx_queries import query_meter_series
from terril.influx import InfluxClient
from terril.readings import Point
from terril.registry import Registry


@dataclass(frozen=True)
class DailyWeather:
    """Daily weather of the town (from its first weather meter)."""

    day_start_ns: np.ndarray
    temp_mean_c: np.ndarray
    hdd_meteo_k_d: np.ndarray


def weather_meter(registry: Registry):  # noqa: ANN201
    return next((m for m in registry.meters if m.carrier == "weather"), None)


def station_meters(registry: Registry) -> list:  # noqa: ANN201
    """Every weather meter some site takes its temperatures from (``Site.weather_meter``, else the
    town's first weather meter), the town's first one first."""
    out = []
    first = weather_meter(registry)
    if first is not None:
        out.append(first)
    for site in registry.sites:
        src = registry.weather_source(site.id)
        if src is not None and src.meter is not None and src.meter not in out:
            out.append(src.meter)
    return out


def run_weather(client: InfluxClient, registry: Registry, start_ns: int, end_ns: int, base_c: float = 18.0
                ) -> DailyWeather | None:
    """Compute and write ``weather_daily`` for [start, end) for every station a site uses (tag
    ``site`` = the station's site); returns the town's first station's series."""
    first = None
    for i, meter in enumerate(station_meters(registry)):
        daily = _run_station(client, meter, start_ns, end_ns, base_c)
        if i == 0:
            first = daily
    return first


def _run_station(client: InfluxClient, meter, start_ns: int, end_ns: int, base_c: float  # noqa: ANN001
                 ) -> DailyWeather | None:
    t, s = query_meter_series(client, meter.id, ["temp_air_c"], start_ns, end_ns)
    if t.size == 0:
        return None
    daily = daily_temperature(t, s["temp_air_c"])
    hm = hdd_meteo(daily.min_c, daily.max_c, base_c)
    hc = hdd_costic(daily.min_c, daily.max_c, base_c)
    cd = cdd_meteo(daily.min_c, daily.max_c)
    points = []
    for i in range(daily.day_start_ns.size):
        if not daily.valid[i]:
            continue
        points.append(Point("weather_daily", {"site": meter.site}, {
            "temp_mean_c": round(float(daily.mean_c[i]), 3), "temp_min_c": float(daily.min_c[i]),
            "temp_max_c": float(daily.max_c[i]), "hdd_meteo_k_d": round(float(hm[i]), 3),
            "hdd_costic_k_d": round(float(hc[i]), 3), "cdd_k_d": round(float(cd[i]), 3),
            "coverage_pct": round(100 * float(daily.hourly_coverage[i]), 2)}, int(daily.day_start_ns[i])))
    client.write_points(points)
    return DailyWeather(daily.day_start_ns, daily.mean_c, hm)
