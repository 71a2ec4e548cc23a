"""Helpers for the PV tests: small registries, simulator runs, readings as the collector would store them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np

from analytics.pv.jobs import WeatherGrid, make_grid, weather_grid
from firmware_sim.faults import Scenario, parse_scenario
from firmware_sim.fleet import FleetChunk, FleetSimulation
from terril.readings import Point
from terril.registry import PvArray, Registry
from terril.timeutil import local_midnight_ns


def subset(registry: Registry, sites: Iterable[str], arrays: Sequence[PvArray] | None = None) -> Registry:
    """The part of ``registry`` about ``sites`` (optionally with other arrays)."""
    keep = set(sites)
    pv = tuple(arrays) if arrays is not None else tuple(a for a in registry.pv_arrays if a.site in keep)
    return Registry(registry.town, tuple(s for s in registry.sites if s.id in keep),
                    tuple(m for m in registry.meters if m.site in keep),
                    tuple(d for d in registry.devices if d.site in keep), pv,
                    (), tuple(r for r in registry.planned_roofs if r.site in keep))


def simulate(registry: Registry, start: dt.date, end: dt.date, *, seed: int = 3, faults: list[dict] | None = None,
             step_s: float = 900.0) -> tuple[FleetSimulation, FleetChunk]:
    scenario: Scenario | None = parse_scenario({"faults": faults}, registry) if faults else None
    sim = FleetSimulation(registry, local_midnight_ns(start), seed=seed, step_s=step_s, scenario=scenario)
    return sim, sim.advance(local_midnight_ns(end))


def readings(chunk: FleetChunk, meter: str, quantity: str) -> tuple[np.ndarray, np.ndarray]:
    """What the meter published (due and online steps): times and values."""
    s = chunk.series[meter]
    m = s.due & s.online
    return chunk.time_ns[m], np.asarray(s.values[quantity], dtype=float)[m]


def station_weather(chunk: FleetChunk, start: dt.date, end: dt.date, step_s: float = 900.0,
                    until_ns: int | None = None) -> tuple[np.ndarray, WeatherGrid]:
    """The weather station's published irradiance and air temperature on the PV job's grid (as
    ``run_pv`` builds it), optionally only what was published by ``until_ns``."""
    g = make_grid(local_midnight_ns(start), local_midnight_ns(end), step_s)
    wt, ghi = readings(chunk, "station-meteo-meteo", "irradiance_w_m2")
    _, ta = readings(chunk, "station-meteo-meteo", "temp_air_c")
    if until_ns is not None:
        keep = wt <= until_ns
        wt, ghi, ta = wt[keep], ghi[keep], ta[keep]
    return g, weather_grid(g, wt, ghi, ta)


def reading_points(chunk: FleetChunk) -> list[Point]:
    """The ``reading`` points the collector would store for this chunk."""
    out = []
    for mid, s in chunk.series.items():
        m = np.flatnonzero(s.due & s.online)
        cols = {q: np.asarray(v, dtype=float) for q, v in s.values.items()}
        tags = {"site": s.site_id, "meter": mid, "carrier": s.carrier, "device": s.device_id}
        for i in m.tolist():
            out.append(Point("reading", tags, {q: float(v[i]) for q, v in cols.items()}, int(chunk.time_ns[i])))
    return out


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def to_toml(data: dict) -> str:
    """A registry dict (as tomllib reads it) back to TOML text (tables of scalars and arrays of tables)."""
    out = []
    for key, value in data.items():
        if isinstance(value, dict):
            out.append(f"[{key}]")
            out += [f"{k} = {_toml_value(v)}" for k, v in value.items()]
            out.append("")
        else:
            for item in value:
                out.append(f"[[{key}]]")
                out += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
                out.append("")
    return "\n".join(out)
