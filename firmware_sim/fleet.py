"""The fleet orchestrator: a registry, a seed and a scenario in; per-meter time series and device messages out.

:class:`FleetSimulation` plays every meter of a registry on a regular UTC grid (``step_s``,
default 900 s), chunk after chunk: ``advance(end_ns)`` simulates the steps after the previous
call up to ``end_ns`` and returns a :class:`FleetChunk` with

* ``series[meter_id]``: numpy arrays of the canonical quantities the meter reports (cumulative
  counters with register faults, resolution and rollover applied; powers; weather), the physical
  truth beside them, and per-step ``due``/``online``/``malformed`` flags of its device;
* ``sites[site_id]``: the site's truth (load, PV, import, export, self-consumption, occupancy);
* :meth:`FleetChunk.messages`: the device messages in time order (``DeviceMessage``), ready
  for an encoder and a publisher.

Sample ``i`` at ``time_ns[i]`` closes the interval ``(time_ns[i] - step, time_ns[i]]``: counters are
read at its end and powers are its averages (physics evaluated at its mid-point). Everything is
a pure function of (registry, seed, scenario, instant) except the counters, which are carried from
chunk to chunk, so chunked and single runs give the same values. Nothing here does I/O.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from firmware_sim import buildings, pv
from firmware_sim.faults import (
    EMPTY_SCENARIO, FaultTruth, RegisterEvent, RegisterState, Scenario, active_mask, apply_register_faults,
    drift_ramp, ground_truth, register_events, when_to_ns,
)
from firmware_sim.randomness import stream_key, uniform
from firmware_sim.weather import NS_PER_S, Weather, simulate_weather
from terril.carriers import gas_kwh_per_m3
from terril.registry import Meter, Registry, Site

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Quantities each carrier's meter reports (canonical names of terril.quantities).
QUANTITIES_BY_CARRIER: dict[str, tuple[str, ...]] = {
    "electricity": ("energy_import_wh", "energy_export_wh", "power_w"),
    "gas": ("volume_m3",),
    "water": ("volume_m3",),
    "heat": ("energy_import_wh", "thermal_power_w"),
    "pv": ("energy_produced_wh", "power_w"),
    "weather": ("temp_air_c", "irradiance_w_m2"),
}
#: Register resolution of each counter (what the meter can display). [Wh or m³]
COUNTER_RESOLUTION: dict[tuple[str, str], float] = {
    ("electricity", "energy_import_wh"): 1.0,
    ("electricity", "energy_export_wh"): 1.0,
    ("heat", "energy_import_wh"): 1000.0,
    ("pv", "energy_produced_wh"): 1.0,
    ("gas", "volume_m3"): 0.01,
    ("water", "volume_m3"): 0.001,
}
#: Decimals kept on gauges.
GAUGE_DECIMALS: dict[str, int] = {"power_w": 1, "thermal_power_w": 0, "temp_air_c": 1, "irradiance_w_m2": 0}


@dataclass(frozen=True, slots=True)
class MeterPlan:
    """How one meter is played: its site, carrier, the device and channel reporting it."""

    meter_id: str
    site_id: str
    carrier: str
    usage: str
    device_id: str
    channel: str
    quantities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """A device: id, payload format, reporting interval and its channels' meters."""

    device_id: str
    site_id: str
    format: str
    interval_s: float
    meter_ids: tuple[str, ...]
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeterSeries:
    """One meter over one chunk; arrays have the length of ``FleetChunk.time_ns``.

    ``values`` is what the meter reports (register faults, resolution and rollover applied);
    ``true_values`` the physical truth (true counters from the same initial index, true powers,
    and ``interval_*`` consumptions per step). ``due`` marks the steps where the device's interval
    elapses, ``online`` where it can transmit, ``malformed`` where its payload must be corrupted,
    ``stuck`` where the register is frozen.
    """

    meter_id: str
    site_id: str
    carrier: str
    device_id: str
    channel: str
    values: Mapping[str, FloatArray]
    true_values: Mapping[str, FloatArray]
    due: BoolArray
    online: BoolArray
    malformed: BoolArray
    stuck: BoolArray


@dataclass(frozen=True, slots=True)
class SiteSeries:
    """A site's truth over a chunk: average powers per step [W] and occupancy [1]."""

    site_id: str
    occupancy: FloatArray
    load_w: FloatArray  # electricity used by the building (after measures and drifts)
    pv_w: FloatArray  # AC production of the site's arrays
    import_w: FloatArray
    export_w: FloatArray
    self_consumed_w: FloatArray
    space_heat_w: FloatArray  # delivered heat
    dhw_heat_w: FloatArray


@dataclass(frozen=True, slots=True)
class ChannelReading:
    """The values of one channel in one message."""

    channel: str
    meter_id: str
    carrier: str
    values: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """What one device says at one instant (before encoding)."""

    time_ns: int
    device_id: str
    site_id: str
    format: str
    channels: tuple[ChannelReading, ...]
    malformed: bool = False
    online: bool = True  # False only with ``messages(include_offline=True)``: the device could not send it


@dataclass(frozen=True, slots=True)
class FleetChunk:
    """The result of one :meth:`FleetSimulation.advance` call."""

    time_ns: npt.NDArray[np.int64]
    step_s: float
    series: Mapping[str, MeterSeries]
    sites: Mapping[str, SiteSeries]
    weather: Weather  # at interval mid-points
    devices: tuple[DevicePlan, ...]

    def device_steps(self, d: DevicePlan) -> tuple[list[MeterSeries], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """A device's meter series, the steps where it can transmit (all its meters online) and
        those where its payload is corrupted (any of them malformed)."""
        ss = [self.series[m] for m in d.meter_ids]
        return ss, np.logical_and.reduce([s.online for s in ss]), np.logical_or.reduce([s.malformed for s in ss])

    def messages(self, *, include_offline: bool = False, devices: Collection[str] | None = None) -> Iterator[DeviceMessage]:
        """Device messages in time order (devices by id within an instant).

        A device speaks at the steps where its interval elapses and it is online (offline steps are
        skipped unless ``include_offline``). ``malformed`` tells the encoder to corrupt the payload.
        ``devices`` restricts the stream to some device ids.
        """
        per_device = []
        for d in sorted(self.devices, key=lambda d: d.device_id):
            if devices is not None and d.device_id not in devices:
                continue
            ss, online, bad = self.device_steps(d)
            speak = ss[0].due & (online | include_offline)
            cols = [(s.channel, s.meter_id, s.carrier, [(q, s.values[q].tolist()) for q in s.values]) for s in ss]
            per_device.append((d, speak, bad.tolist(), cols, online.tolist()))
        times = self.time_ns.tolist()
        speak_matrix = np.array([p[1] for p in per_device]) if per_device else np.zeros((0, len(times)), bool)
        for i in np.flatnonzero(speak_matrix.any(axis=0)) if per_device else ():
            t = times[i]
            for k in np.flatnonzero(speak_matrix[:, i]):
                d, _, bad, cols, online_list = per_device[k]
                channels = tuple(ChannelReading(ch, mid, car, {q: arr[i] for q, arr in qs}) for ch, mid, car, qs in cols)
                yield DeviceMessage(t, d.device_id, d.site_id, d.format, channels, bad[i], online_list[i])


def fleet_plan(registry: Registry) -> tuple[tuple[MeterPlan, ...], tuple[DevicePlan, ...]]:
    """Meters fed by a device, with their device and channel; and the devices."""
    meters: list[MeterPlan] = []
    devices: list[DevicePlan] = []
    seen: set[str] = set()
    for d in registry.devices:
        ids = []
        for ch in d.channels:
            if ch.meter in seen:  # a second register of the same meter (renamed tariff channel): not simulated
                continue
            seen.add(ch.meter)
            m = registry.meter_by_id[ch.meter]
            meters.append(MeterPlan(m.id, m.site, m.carrier, m.usage, d.id, ch.channel, QUANTITIES_BY_CARRIER[m.carrier]))
            ids.append(m.id)
        if ids:
            channels = tuple(next(c.channel for c in d.channels if c.meter == mid) for mid in ids)
            devices.append(DevicePlan(d.id, d.site, d.format, d.interval_s, tuple(ids), channels))
    return tuple(meters), tuple(devices)


def initial_index(meter: Meter, site: Site, registry: Registry, quantity: str, start_ns: int, seed: int) -> float:
    """A plausible non-zero register value at the start of the simulation (deterministic under ``seed``)."""
    u = float(uniform(stream_key(seed, "index", meter.id, quantity), np.array([0]))[0])
    years = 3.0 + 12.0 * u  # years since the meter was installed
    area = max(site.floor_area_m2, 50.0)
    arrays = [a for a in registry.pv_arrays if a.meter == meter.id]
    site_arrays = [a for a in registry.pv_arrays if a.site == site.id]

    def years_since(a: Any) -> float:
        return max(0.0, (start_ns - pv.commissioned_ns(a)) / NS_PER_S / (365.25 * 86_400))

    if meter.carrier == "electricity" and quantity == "energy_import_wh":
        value = 40.0 * area * years * 1000.0
    elif meter.carrier == "electricity" and quantity == "energy_export_wh":
        value = sum(a.kwp * 400.0 * years_since(a) for a in site_arrays) * 1000.0
    elif meter.carrier == "heat":
        value = 120.0 * area * years * 1000.0
    elif meter.carrier == "gas":
        value = 130.0 * area * years / gas_kwh_per_m3(meter)
    elif meter.carrier == "water":
        value = max(0.3 * area, 10.0) * years
    elif meter.carrier == "pv":
        value = sum(a.kwp * 950.0 * years_since(a) for a in arrays) * 1000.0
    else:
        value = 0.0
    res = COUNTER_RESOLUTION.get((meter.carrier, quantity), 1.0)
    value = math.floor(value / res) * res
    if meter.rollover_wh:
        value %= meter.rollover_wh
    return round(value, 6)


class FleetSimulation:
    """Plays a registry's fleet from ``start_ns``, chunk by chunk.

    Parameters
    ----------
    registry
        Sites, meters, devices, PV arrays and measures.
    start_ns
        Start of the simulation (rounded down to the step grid). [UTC ns]
    seed
        Seed of every random term (weather, occupancy events, noise, initial indexes).
    step_s
        Simulation step; counters are read at every multiple of it. Devices whose ``interval_s``
        is longer speak at the steps where their interval elapses. [s]
    scenario
        Faults to inject (default: none).
    """

    def __init__(self, registry: Registry, start_ns: int, *, seed: int = 0, step_s: float = 900.0,
                 scenario: Scenario | None = None) -> None:
        if not step_s >= 1.0:
            raise ValueError("step_s must be at least 1 s")
        self.registry = registry
        self.seed = int(seed)
        self.step_s = float(step_s)
        self.step_ns = int(round(step_s * NS_PER_S))
        self.scenario = scenario or EMPTY_SCENARIO
        self.start_ns = (int(start_ns) // self.step_ns) * self.step_ns
        self._cursor_ns = self.start_ns
        self.meter_plans, self.device_plans = fleet_plan(registry)
        self.truth: tuple[FaultTruth, ...] = ground_truth(self.scenario, registry)
        self._true_counter: dict[tuple[str, str], float] = {}
        self._registers: dict[tuple[str, str], RegisterState] = {}
        self._events: dict[str, list[RegisterEvent]] = {}
        self._avoided: dict[str, list[tuple[npt.NDArray[np.int64], FloatArray]]] = {}
        # the true savings are kept only for the meters of the measures the scenario re-dates (the
        # demo's works): a long run would otherwise keep every step of every measure ever made
        redated = {m for m, _ in self.scenario.measure_dates}
        self._tracked: frozenset[str] = frozenset(
            mid for ms in registry.measures if ms.id in redated
            for mid in (ms.meters or [m.id for m in registry.meters_of_site(ms.site)]))
        self.initial_values: dict[str, dict[str, float]] = {}
        for mp in self.meter_plans:
            meter = registry.meter_by_id[mp.meter_id]
            site = registry.site_by_id[mp.site_id]
            faults = [f for f in self.scenario.faults if getattr(f, "meter", None) == mp.meter_id]
            self._events[mp.meter_id] = register_events(faults)
            init: dict[str, float] = {}
            for q in mp.quantities:
                if (mp.carrier, q) in COUNTER_RESOLUTION:
                    v = initial_index(meter, site, registry, q, self.start_ns, self.seed)
                    self._true_counter[(mp.meter_id, q)] = v
                    self._registers[(mp.meter_id, q)] = RegisterState(last_true=v)
                    init[q] = v
            self.initial_values[mp.meter_id] = init

    @property
    def cursor_ns(self) -> int:
        """The instant up to which the fleet has been simulated. [UTC ns]"""
        return self._cursor_ns

    @property
    def ground_truth(self) -> tuple[FaultTruth, ...]:
        """Every injected fault (see :func:`firmware_sim.faults.ground_truth_json`)."""
        return self.truth

    def run(self, end_ns: int, chunk_s: float = 7 * 86_400.0) -> Iterator[FleetChunk]:
        """Advance to ``end_ns`` in chunks of ``chunk_s`` seconds, yielding each chunk."""
        chunk_ns = max(self.step_ns, int(chunk_s * NS_PER_S))
        while self._cursor_ns + self.step_ns <= end_ns:
            yield self.advance(min(end_ns, self._cursor_ns + chunk_ns))

    def advance(self, end_ns: int) -> FleetChunk:
        """Simulate the grid instants in ``(cursor_ns, end_ns]`` and move the cursor to the last one."""
        first = self._cursor_ns + self.step_ns
        times = np.arange(first, int(end_ns) + 1, self.step_ns, dtype=np.int64)
        if times.size == 0:
            raise ValueError(f"nothing to simulate: end_ns must be at least one step ({self.step_s:g} s) after the cursor")
        chunk = self._simulate(times)
        self._cursor_ns = int(times[-1])
        return chunk

    # ------------------------------------------------------------------ internals

    def _faults_on(self, kind: str, meter_id: str) -> list[Any]:
        return [f for f in self.scenario.faults if f.kind == kind and getattr(f, "meter", None) == meter_id]

    def _measure_factor(self, mid: npt.NDArray[np.int64], meter: Meter) -> FloatArray:
        factor = np.ones(mid.shape)
        for ms in self.registry.measures:
            if ms.site != meter.site or ms.kind == "pv":
                continue
            if ms.meters and meter.id not in ms.meters:
                continue
            if not ms.meters and meter.carrier not in ("electricity", "gas", "heat"):
                continue
            on_ns = self.scenario.measure_date_ns(ms.id)
            factor *= np.where(mid >= (when_to_ns(ms.date) if on_ns is None else on_ns),
                               1.0 - ms.expected_savings_pct / 100.0, 1.0)
        return factor

    def _record_avoided(self, meter_id: str, mid: npt.NDArray[np.int64], actual_w: FloatArray,
                        counterfactual_w: FloatArray) -> None:
        """Keep the energy a measure avoided at this meter (counterfactual − actual), per step. [kWh]"""
        avoided_kwh = (counterfactual_w - actual_w) * (self.step_s / 3600.0) / 1000.0
        if np.any(avoided_kwh != 0.0):
            self._avoided.setdefault(meter_id, []).append((mid.copy(), avoided_kwh))

    def measure_avoided_kwh(self, meter_id: str, start_ns: int, end_ns: int) -> float:
        """True energy the registry's measures avoided at ``meter_id`` over ``[start_ns, end_ns)``:
        what the meter would have measured without them, minus what it measured. Gas in kWh at the
        meter's own conversion factor. Kept for the meters of the measures the scenario re-dates
        (0 for any other meter). [kWh]"""
        total = 0.0
        for mid, kwh in self._avoided.get(meter_id, ()):
            sel = (mid >= start_ns) & (mid < end_ns)
            total += float(kwh[sel].sum())
        return total

    def _drift(self, mid: npt.NDArray[np.int64], meter_id: str, power: FloatArray, *, flow: bool = False) -> FloatArray:
        for f in self._faults_on("consumption_drift", meter_id):
            r = drift_ramp(mid, f.start_ns, f.end_ns, f.ramp_days)
            power = power * (1.0 + f.pct / 100.0 * r) + (f.base_flow_m3_h if flow else f.base_load_w) * r
        return power

    def _simulate(self, times: npt.NDArray[np.int64]) -> FleetChunk:
        reg = self.registry
        step_h = self.step_s / 3600.0
        mid = times - self.step_ns // 2
        weather = simulate_weather(mid, reg.town.latitude, reg.town.longitude, self.seed)
        lt = buildings.local_time(mid)

        # PV production per meter (truth), with physical PV faults
        pv_by_meter: dict[str, FloatArray] = {}
        for arr in reg.pv_arrays:
            p = pv.array_ac_power_w(weather, arr)
            pv_by_meter[arr.meter] = pv_by_meter.get(arr.meter, np.zeros(times.size)) + p
        for pv_meter, p in pv_by_meter.items():
            for f in self._faults_on("pv_string_failure", pv_meter):
                p = np.where(active_mask(mid, f.start_ns, f.end_ns), p * (1.0 - f.pct / 100.0), p)
            for f in self._faults_on("inverter_offline", pv_meter):
                p = np.where(active_mask(mid, f.start_ns, f.end_ns), 0.0, p)
            pv_by_meter[pv_meter] = p

        # site loads and per-meter true powers/flows
        power_by_meter: dict[str, FloatArray] = {}
        sites: dict[str, SiteSeries] = {}
        planned = {mp.meter_id for mp in self.meter_plans}
        for site in reg.sites:
            meters = [m for m in reg.meters_of_site(site.id) if m.id in planned]
            if not meters:
                continue
            loads = buildings.site_loads(site, weather, lt, self.seed, self.step_s)
            heat = loads.space_heat_w + loads.dhw_heat_w
            elec_use = loads.electricity_w.copy()
            if site.heating_carrier == "electricity":
                elec_use = elec_use + heat
            elif site.heating_carrier == "none":
                elec_use = elec_use + loads.dhw_heat_w
            site_pv = sum((pv_by_meter.get(m.id, 0.0) for m in meters if m.carrier == "pv"), np.zeros(times.size))
            load_total = np.zeros(times.size)
            imp = np.zeros(times.size)
            exp = np.zeros(times.size)
            elec_meters = [m for m in meters if m.carrier == "electricity"]
            for m in meters:
                if m.carrier == "electricity":
                    use0 = elec_use if m.usage != "heating" else heat * (site.heating_carrier == "electricity")
                    factor = self._measure_factor(mid, m)
                    use = self._drift(mid, m.id, use0 * factor)
                    # the first main meter nets the site's PV (self-consumption, then export)
                    if m is elec_meters[0]:
                        load_total = use
                        imp = np.clip(use - site_pv, 0.0, None)
                        exp = np.clip(site_pv - use, 0.0, None)
                        power_by_meter[m.id + ":import"], power_by_meter[m.id + ":export"] = imp, exp
                        if m.id in self._tracked and np.any(factor != 1.0):
                            imp_cf = np.clip(self._drift(mid, m.id, use0) - site_pv, 0.0, None)
                            self._record_avoided(m.id, mid, imp, imp_cf)
                    else:
                        power_by_meter[m.id + ":import"], power_by_meter[m.id + ":export"] = use, np.zeros(times.size)
                        if m.id in self._tracked and np.any(factor != 1.0):
                            self._record_avoided(m.id, mid, use, self._drift(mid, m.id, use0))
                elif m.carrier == "gas":
                    g0 = heat / buildings.GAS_BOILER_EFFICIENCY if site.heating_carrier == "gas" else np.zeros(times.size)
                    factor = self._measure_factor(mid, m)
                    g = self._drift(mid, m.id, g0 * factor)
                    power_by_meter[m.id] = g
                    if m.id in self._tracked and np.any(factor != 1.0):
                        self._record_avoided(m.id, mid, g, self._drift(mid, m.id, g0))
                elif m.carrier == "heat":
                    h = heat if site.heating_carrier == "heat" else np.zeros(times.size)
                    power_by_meter[m.id] = self._drift(mid, m.id, h * self._measure_factor(mid, m))
                elif m.carrier == "water":
                    power_by_meter[m.id] = self._drift(mid, m.id, loads.water_m3_h * self._measure_factor(mid, m), flow=True)
                elif m.carrier == "pv":
                    power_by_meter[m.id] = pv_by_meter.get(m.id, np.zeros(times.size))
            sites[site.id] = SiteSeries(site.id, loads.occupancy, load_total, site_pv, imp, exp,
                                        np.minimum(load_total, site_pv), loads.space_heat_w, loads.dhw_heat_w)

        # per-device transmission flags
        online_by_device: dict[str, BoolArray] = {}
        malformed_by_device: dict[str, BoolArray] = {}
        due_by_device: dict[str, BoolArray] = {}
        step_index = times // self.step_ns
        for d in self.device_plans:
            online = np.ones(times.size, dtype=bool)
            bad = np.zeros(times.size, dtype=bool)
            for f in self.scenario.faults:
                target = getattr(f, "device", None)
                if f.kind == "meter_offline" and (target == d.device_id or (target is None and f.meter in d.meter_ids)):
                    online &= ~active_mask(times, f.start_ns, f.end_ns)
                elif f.kind == "inverter_offline" and f.meter in d.meter_ids:
                    online &= ~active_mask(times, f.start_ns, f.end_ns)
                elif f.kind == "malformed_payloads" and target == d.device_id:
                    u = uniform(stream_key(self.seed, "malformed", d.device_id, f.id), step_index)
                    bad |= active_mask(times, f.start_ns, f.end_ns) & (u < f.rate)
            interval_ns = int(round(d.interval_s * NS_PER_S))
            due = (times // interval_ns) != ((times - self.step_ns) // interval_ns)
            online_by_device[d.device_id], malformed_by_device[d.device_id], due_by_device[d.device_id] = online, bad & online, due

        # counters, register faults, reported values
        series: dict[str, MeterSeries] = {}
        for mp in self.meter_plans:
            meter = reg.meter_by_id[mp.meter_id]
            values: dict[str, FloatArray] = {}
            truth: dict[str, FloatArray] = {}
            stuck = np.zeros(times.size, dtype=bool)
            if mp.carrier == "electricity":
                flows = {"energy_import_wh": power_by_meter[mp.meter_id + ":import"] * step_h,
                         "energy_export_wh": power_by_meter[mp.meter_id + ":export"] * step_h}
                truth["power_w"] = power_by_meter[mp.meter_id + ":import"] - power_by_meter[mp.meter_id + ":export"]
            elif mp.carrier == "gas":
                kwh_per_m3 = gas_kwh_per_m3(meter)
                flows = {"volume_m3": power_by_meter[mp.meter_id] * step_h / (kwh_per_m3 * 1000.0)}
            elif mp.carrier == "water":
                flows = {"volume_m3": power_by_meter[mp.meter_id] * step_h}
            elif mp.carrier == "heat":
                flows = {"energy_import_wh": power_by_meter[mp.meter_id] * step_h}
                truth["thermal_power_w"] = power_by_meter[mp.meter_id]
            elif mp.carrier == "pv":
                flows = {"energy_produced_wh": power_by_meter[mp.meter_id] * step_h}
                truth["power_w"] = power_by_meter[mp.meter_id]
            else:  # weather
                flows = {}
                truth["temp_air_c"] = weather.temp_air_c
                truth["irradiance_w_m2"] = weather.ghi_w_m2
            for q, interval in flows.items():
                key = (mp.meter_id, q)
                true_counter = self._true_counter[key] + np.cumsum(interval)
                self._true_counter[key] = float(true_counter[-1])
                truth[q] = true_counter
                truth["interval_" + q] = interval
                reported, st = apply_register_faults(times, true_counter, self._events[mp.meter_id], self._registers[key])
                stuck |= st
                res = COUNTER_RESOLUTION[(mp.carrier, q)]
                reported = np.round(np.floor(reported / res + 1e-9) * res, 6)
                if meter.rollover_wh:
                    reported = np.mod(reported, meter.rollover_wh)
                values[q] = reported
            for q in mp.quantities:
                if q in values:
                    continue
                v = np.round(truth[q], GAUGE_DECIMALS.get(q, 3))
                if q in ("power_w", "thermal_power_w"):
                    v = np.where(stuck, 0.0, v)
                values[q] = v
            series[mp.meter_id] = MeterSeries(
                mp.meter_id, mp.site_id, mp.carrier, mp.device_id, mp.channel,
                {q: values[q] for q in mp.quantities}, truth,
                due_by_device[mp.device_id], online_by_device[mp.device_id], malformed_by_device[mp.device_id], stuck)
        return FleetChunk(times, self.step_s, series, sites, weather, self.device_plans)
