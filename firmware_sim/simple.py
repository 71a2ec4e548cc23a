"""Plausible, deterministic native telemetry for every device of a registry.

Shapes only (office hours, night base load, a daylight bell for PV, a cold-weather
term for heating), enough to exercise the pipeline end to end. Counters are
cumulative from a plausible non-zero index and timestamps sit on each device's
interval grid, so a replay of the same period overwrites the same points.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import orjson

from terril.carriers import gas_kwh_per_m3
from terril.registry import Device, Meter, Registry
from terril.timeutil import NS_PER_S, format_rfc3339_ns, local_tz


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT publication of the plan."""

    time_ns: int
    topic: str
    payload: bytes
    retain: bool
    device: str
    readings: tuple[tuple[str, str, float], ...]  # (meter, quantity, value)


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _local_hours(times_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local hour (float), weekday (0=Mon) and day of year for each instant."""
    hours = np.empty(len(times_ns))
    weekday = np.empty(len(times_ns), dtype=int)
    doy = np.empty(len(times_ns), dtype=int)
    tz = local_tz()
    for i, t in enumerate(times_ns):
        d = dt.datetime.fromtimestamp(int(t) // NS_PER_S, tz)
        hours[i] = d.hour + d.minute / 60
        weekday[i] = d.weekday()
        doy[i] = d.timetuple().tm_yday
    return hours, weekday, doy


def _temperature(hours: np.ndarray, doy: np.ndarray) -> np.ndarray:
    seasonal = 10.5 - 7.5 * np.cos(2 * math.pi * (doy - 15) / 365.25)
    daily = 3.5 * np.cos(2 * math.pi * (hours - 15) / 24)
    return seasonal + daily


def _solar(hours: np.ndarray, doy: np.ndarray) -> np.ndarray:
    """Irradiance on a south roof [W/m²], a daylight bell whose length follows the season."""
    half_day = 4.0 + 4.3 * (0.5 - 0.5 * np.cos(2 * math.pi * (doy - 172 + 182.6) / 365.25))
    x = (hours - 13.5) / half_day
    peak = 350 + 550 * (0.5 - 0.5 * np.cos(2 * math.pi * (doy - 172 + 182.6) / 365.25))
    return np.where(np.abs(x) < 1, peak * np.clip(np.cos(x * math.pi / 2), 0.0, None) ** 1.5, 0.0)


def _occupied(kind: str, hours: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    weekdays = weekday < 5
    if kind.endswith("school") or kind == "school":
        return weekdays & (weekday != 2) & (hours >= 8.5) & (hours < 16.5)
    if kind == "sports_hall":
        return (weekdays & (hours >= 17) & (hours < 22)) | ((weekday >= 5) & (hours >= 9) & (hours < 19))
    if kind == "church":
        return (weekday == 6) & (hours >= 10) & (hours < 12)
    return weekdays & (hours >= 8) & (hours < 18)


def device_series(registry: Registry, device: Device, start_ns: int, end_ns: int, seed: int
                  ) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """Times and, per meter fed by ``device``, the canonical quantities it reports."""
    step_ns = int(device.interval_s * NS_PER_S)
    first = -(-start_ns // step_ns) * step_ns
    times = np.arange(first, end_ns, step_ns, dtype=np.int64)
    site = registry.site_by_id[device.site]
    hours, weekday, doy = _local_hours(times)
    occ = _occupied(site.kind, hours, weekday)
    temp = _temperature(hours, doy)
    sun = _solar(hours, doy)
    dt_h = device.interval_s / 3600.0
    # counters continue from an index that depends only on the device and the elapsed time
    elapsed_h = (times - 1_600_000_000 * NS_PER_S) / 3.6e12
    out: dict[str, dict[str, np.ndarray]] = {}
    for ch in device.channels:
        meter: Meter = registry.meter_by_id[ch.meter]
        rng = _rng(seed, meter.id)
        area = max(site.floor_area_m2, 200.0)
        noise = 1 + 0.08 * rng.standard_normal(len(times))
        if meter.carrier == "electricity":
            base_w = area * 2.0
            load_w = (base_w + occ * area * 9.0) * np.clip(noise, 0.5, 1.5)
            pv_w = np.zeros(len(times))
            if len(times):
                first_day = dt.datetime.fromtimestamp(int(times[0]) // NS_PER_S, local_tz()).date()
                for a in registry.pv_arrays:
                    if a.site == site.id and a.commissioned <= first_day:
                        pv_w += a.kwp * (1 - a.losses_pct / 100) * sun
            net = load_w - pv_w
            imp = np.maximum(net, 0) * dt_h
            exp = np.maximum(-net, 0) * dt_h
            mean_w = area * 4.0
            q = {"energy_import_wh": np.round(mean_w * elapsed_h * 0.9 + np.cumsum(imp)),
                 "power_w": np.round(net, 1)}
            if pv_w.any():
                q["energy_export_wh"] = np.round(area * 0.5 * elapsed_h + np.cumsum(exp))
            out[meter.id] = q
        elif meter.carrier in ("gas", "heat"):
            heat_w = np.maximum(16.0 - temp, 0) * area * 2.2 * np.where(occ, 1.0, 0.55) * np.clip(noise, 0.5, 1.5)
            energy_wh = np.cumsum(heat_w * dt_h) + area * 12.0 * elapsed_h
            if meter.carrier == "gas":
                out[meter.id] = {"volume_m3": np.round(energy_wh / 1000 / gas_kwh_per_m3(meter), 3)}
            else:
                out[meter.id] = {"energy_import_wh": np.round(energy_wh), "thermal_power_w": np.round(heat_w, 1)}
        elif meter.carrier == "water":
            use_m3 = occ * area * 0.00002 * device.interval_s / 60 * np.clip(noise, 0, 2)
            out[meter.id] = {"volume_m3": np.round(area * 0.00004 * elapsed_h + np.cumsum(use_m3), 3)}
        elif meter.carrier == "pv":
            array = next((a for a in registry.pv_arrays if a.meter == meter.id), None)
            kwp = array.kwp if array else 3.0
            p_w = kwp * 1000 * (1 - (array.losses_pct if array else 14) / 100) * sun / 1000 * np.clip(noise, 0.3, 1.1)
            out[meter.id] = {"energy_produced_wh": np.round(kwp * 110 * elapsed_h / 24 + np.cumsum(p_w * dt_h)),
                             "power_w": np.round(p_w, 1)}
        elif meter.carrier == "weather":
            out[meter.id] = {"temp_air_c": np.round(temp + 1.2 * rng.standard_normal(len(times)), 2),
                             "irradiance_w_m2": np.round(sun * np.clip(noise, 0.2, 1.2), 1)}
    return times, out


def native_plan(registry: Registry, start_ns: int, end_ns: int, seed: int = 0) -> Iterator[Message]:
    """Every device's native telemetry between ``start_ns`` and ``end_ns``, in time order."""
    per_device = []
    for device in registry.devices:
        if device.format != "native":
            continue
        times, series = device_series(registry, device, start_ns, end_ns, seed)
        per_device.append((device, times, series))
    events: list[tuple[int, int, int]] = []
    for d_index, (_, times, _) in enumerate(per_device):
        events.extend((int(t), d_index, i) for i, t in enumerate(times))
    events.sort()
    for t, d_index, i in events:
        device, _, series = per_device[d_index]
        topic = f"terril/{device.site}/{device.id}/telemetry"
        readings = []
        if len(device.channels) == 1:
            meter_id = device.channels[0].meter
            obj: dict[str, object] = {"time": format_rfc3339_ns(t)}
            for q, arr in series[meter_id].items():
                obj[q] = float(arr[i])
                readings.append((meter_id, q, float(arr[i])))
            payload = orjson.dumps(obj)
        else:
            objs = []
            for ch in device.channels:
                obj = {"time": format_rfc3339_ns(t), "channel": ch.channel}
                for q, arr in series[ch.meter].items():
                    obj[q] = float(arr[i])
                    readings.append((ch.meter, q, float(arr[i])))
                objs.append(obj)
            payload = orjson.dumps(objs)
        yield Message(t, topic, payload, False, device.id, tuple(readings))
