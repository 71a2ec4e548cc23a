"""Fault scenarios: what goes wrong, where and when, and the ground truth of every injected fault.

A scenario is a TOML file (format in ``docs/simulator.md``, example in
``firmware_sim/scenarios/demo-faults.toml``) with one ``[[faults]]`` table per fault.
:func:`parse_scenario` validates it against the registry (every meter and device must exist) and
returns a :class:`Scenario` of frozen pydantic models; :func:`ground_truth` lists what was
injected as :class:`FaultTruth` records, serialised by :func:`ground_truth_json`.

Faults act at three levels, applied by :mod:`firmware_sim.fleet`:

* physics (the true consumption or production changes): ``consumption_drift``,
  ``pv_string_failure``, ``inverter_offline`` (production stops);
* the meter's register (what the meter says differs from the truth): ``stuck_meter``,
  ``counter_reset``, ``meter_replacement``;
* transmission (messages missing or corrupted): ``meter_offline``, ``inverter_offline``,
  ``malformed_payloads``.

The pure helpers here (:func:`drift_ramp`, :func:`active_mask`, :func:`apply_register_faults`)
work on arrays of instants; nothing does I/O except :func:`read_scenario`.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from terril.errors import ConfigError
from terril.registry import Registry
from terril.timeutil import datetime_to_ns, format_rfc3339_ns, local_tz

NS_PER_DAY = 86_400 * 1_000_000_000
When = dt.datetime | dt.date


def when_to_ns(value: When) -> int:
    """A TOML date (local midnight, the town's time zone) or datetime (naive = local time) as UTC ns."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=local_tz())
        return datetime_to_ns(value)
    return datetime_to_ns(dt.datetime(value.year, value.month, value.day, tzinfo=local_tz()))


class _Fault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(None, max_length=64)
    start: When
    description: str = ""

    @property
    def start_ns(self) -> int:
        return when_to_ns(self.start)


class _Period(_Fault):
    end: When | None = None  # exclusive; None = until the end of the simulation

    @property
    def end_ns(self) -> int | None:
        return None if self.end is None else when_to_ns(self.end)


class ConsumptionDrift(_Period):
    """A meter's true consumption rises by ``pct`` % and/or by a base load, abruptly or over ``ramp_days``."""

    kind: Literal["consumption_drift"]
    meter: str
    pct: float = Field(0.0, ge=-90, le=500)
    base_load_w: float = Field(0.0, ge=0)  # energy meters (electricity, gas, heat) [W]
    base_flow_m3_h: float = Field(0.0, ge=0)  # water and gas meters, e.g. a leak [m³/h]
    ramp_days: float = Field(0.0, ge=0)  # 0 = abrupt [d]


class StuckMeter(_Period):
    """The register stops counting (consumption during the period is lost); power reads 0."""

    kind: Literal["stuck_meter"]
    meter: str


class MeterOffline(_Period):
    """The device sends nothing during the period; its registers keep counting."""

    kind: Literal["meter_offline"]
    device: str | None = None
    meter: str | None = None


class CounterReset(_Fault):
    """The register restarts from zero at ``start`` (firmware reset, battery swap)."""

    kind: Literal["counter_reset"]
    meter: str


class MeterReplacement(_Fault):
    """The meter is replaced at ``start``; the new register starts at ``new_index`` (Wh or m³)."""

    kind: Literal["meter_replacement"]
    meter: str
    new_index: float = Field(0.0, ge=0)


class PvStringFailure(_Period):
    """A PV array loses ``pct`` % of its production (a string or optimiser down)."""

    kind: Literal["pv_string_failure"]
    meter: str
    pct: float = Field(gt=0, le=100)


class InverterOffline(_Period):
    """A PV inverter stops: no production and no messages."""

    kind: Literal["inverter_offline"]
    meter: str


class MalformedPayloads(_Period):
    """A fraction ``rate`` of the device's messages are corrupted (the publisher/encoder corrupts them)."""

    kind: Literal["malformed_payloads"]
    device: str
    rate: float = Field(gt=0, le=1)


Fault = Annotated[
    Union[ConsumptionDrift, StuckMeter, MeterOffline, CounterReset, MeterReplacement, PvStringFailure,
          InverterOffline, MalformedPayloads],
    Field(discriminator="kind"),
]
_FAULT = TypeAdapter(Fault)
FAULT_KINDS = ("consumption_drift", "stuck_meter", "meter_offline", "counter_reset", "meter_replacement",
               "pv_string_failure", "inverter_offline", "malformed_payloads")


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named list of faults."""

    name: str
    description: str
    faults: tuple[Any, ...] = ()  # instances of the fault models above
    #: Registry measures re-dated for this simulated history: (measure id, date it takes effect [UTC ns]).
    #: A demo that plays the last year needs works inside that year, whatever day it runs.
    measure_dates: tuple[tuple[str, int], ...] = ()

    def measure_date_ns(self, measure_id: str) -> int | None:
        """The date a measure takes effect in this scenario, if the scenario re-dates it. [UTC ns]"""
        return next((t for m, t in self.measure_dates if m == measure_id), None)

    def of_kind(self, *kinds: str) -> list[Any]:
        return [f for f in self.faults if f.kind in kinds]


EMPTY_SCENARIO = Scenario("none", "no faults")


def _device_of_meter(registry: Registry, meter_id: str) -> str | None:
    for d in registry.devices:
        if any(ch.meter == meter_id for ch in d.channels):
            return d.id
    return None


def parse_scenario(data: dict[str, Any], registry: Registry, source: str = "<memory>") -> Scenario:
    """Validate scenario ``data`` (as read from TOML) against ``registry``.

    Raises
    ------
    ConfigError
        Naming the fault (``faults[2]``) and the field at fault.
    """
    problems: list[str] = []
    faults = []
    for i, raw in enumerate(data.get("faults", [])):
        try:
            f = _FAULT.validate_python(raw)
        except ValidationError as err:
            for e in err.errors():
                loc = e["loc"][1:] if e["loc"] and isinstance(raw, dict) and e["loc"][0] == raw.get("kind") else e["loc"]
                problems.append(f"faults[{i}]" + "".join(f".{p}" for p in loc) + f": {e['msg']}")
            continue
        meter = getattr(f, "meter", None)
        device = getattr(f, "device", None)
        if meter is not None and meter not in registry.meter_by_id:
            problems.append(f"faults[{i}].meter: unknown meter {meter!r}")
            continue
        if device is not None and device not in registry.device_by_id:
            problems.append(f"faults[{i}].device: unknown device {device!r}")
            continue
        if meter is None and device is None:
            problems.append(f"faults[{i}]: give a meter or a device")
            continue
        if f.kind in ("pv_string_failure", "inverter_offline") and registry.meter_by_id[meter].carrier != "pv":
            problems.append(f"faults[{i}].meter: {f.kind} needs a 'pv' meter, {meter!r} is not one")
            continue
        if meter is not None and _device_of_meter(registry, meter) is None:
            problems.append(f"faults[{i}].meter: no device feeds meter {meter!r}")
            continue
        end_ns = getattr(f, "end_ns", None)
        if end_ns is not None and end_ns <= f.start_ns:
            problems.append(f"faults[{i}].end: must be after start")
            continue
        if f.id is None:
            f = f.model_copy(update={"id": f"{f.kind}-{i}"})
        faults.append(f)
    measure_dates: list[tuple[str, int]] = []
    known_measures = {m.id for m in registry.measures}
    for i, raw in enumerate(data.get("measures", [])):
        if not isinstance(raw, dict) or "measure" not in raw or "date" not in raw:
            problems.append(f"measures[{i}]: give a measure (a registry measure id) and a date")
            continue
        if raw["measure"] not in known_measures:
            problems.append(f"measures[{i}].measure: unknown measure {raw['measure']!r}")
            continue
        if not isinstance(raw["date"], dt.date):
            problems.append(f"measures[{i}].date: a TOML date or local date-time, not {raw['date']!r}")
            continue
        measure_dates.append((str(raw["measure"]), when_to_ns(raw["date"])))
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problem(s) in the fault scenario: " + "; ".join(problems),
                          hint="see docs/simulator.md for the scenario format")
    return Scenario(str(data.get("name", Path(source).stem)), str(data.get("description", "")), tuple(faults),
                    tuple(measure_dates))


def read_scenario(path: str | Path, registry: Registry) -> Scenario:
    """Read and validate a scenario TOML file."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{p}: cannot read the scenario: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{p}: not valid TOML: {err}") from err
    return parse_scenario(data, registry, source=str(p))


@dataclass(frozen=True, slots=True)
class FaultTruth:
    """The ground truth of one injected fault. Times in UTC ns; ``end_ns`` None = open-ended."""

    id: str
    kind: str
    device: str
    meter: str | None
    start_ns: int
    end_ns: int | None
    magnitude: float | None
    unit: str | None
    level: Literal["physics", "register", "transmission", "physics+transmission"]
    description: str = ""
    details: tuple[tuple[str, float], ...] = field(default=())

    def as_json_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "kind": self.kind, "device": self.device, "meter": self.meter,
            "start": format_rfc3339_ns(self.start_ns), "start_ns": self.start_ns,
            "end": None if self.end_ns is None else format_rfc3339_ns(self.end_ns), "end_ns": self.end_ns,
            "magnitude": self.magnitude, "unit": self.unit, "level": self.level,
            "description": self.description, "details": dict(self.details),
        }


def ground_truth(scenario: Scenario, registry: Registry) -> tuple[FaultTruth, ...]:
    """One :class:`FaultTruth` per fault of ``scenario``, sorted by start."""
    out = []
    for f in scenario.faults:
        meter = getattr(f, "meter", None)
        device = getattr(f, "device", None) or _device_of_meter(registry, meter)  # type: ignore[arg-type]
        end_ns = getattr(f, "end_ns", f.start_ns)
        magnitude: float | None = None
        unit: str | None = None
        details: tuple[tuple[str, float], ...] = ()
        level: Any
        if f.kind == "consumption_drift":
            magnitude, unit, level = f.pct, "%", "physics"
            details = (("pct", f.pct), ("base_load_w", f.base_load_w), ("base_flow_m3_h", f.base_flow_m3_h),
                       ("ramp_days", f.ramp_days))
        elif f.kind == "pv_string_failure":
            magnitude, unit, level = -f.pct, "%", "physics"
        elif f.kind == "inverter_offline":
            magnitude, unit, level = -100.0, "%", "physics+transmission"
        elif f.kind == "meter_replacement":
            carrier = registry.meter_by_id[meter].carrier
            magnitude, unit, level = f.new_index, ("m3" if carrier in ("gas", "water") else "Wh"), "register"
        elif f.kind in ("stuck_meter", "counter_reset"):
            level = "register"
        elif f.kind == "malformed_payloads":
            magnitude, unit, level = f.rate, "ratio", "transmission"
        else:
            level = "transmission"
        out.append(FaultTruth(f.id, f.kind, device, meter, f.start_ns, end_ns, magnitude, unit, level,
                              f.description, details))
    return tuple(sorted(out, key=lambda x: (x.start_ns, x.id)))


def ground_truth_json(truths: tuple[FaultTruth, ...] | list[FaultTruth]) -> str:
    """The ground truth as an indented JSON array (stable key order)."""
    return json.dumps([t.as_json_dict() for t in truths], indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- pure helpers over instants

def active_mask(time_ns: npt.NDArray[np.int64], start_ns: int, end_ns: int | None) -> npt.NDArray[np.bool_]:
    """True where ``start_ns <= t < end_ns``."""
    m = time_ns >= start_ns
    if end_ns is not None:
        m &= time_ns < end_ns
    return m


def drift_ramp(time_ns: npt.NDArray[np.int64], start_ns: int, end_ns: int | None, ramp_days: float) -> npt.NDArray[np.float64]:
    """0 before the fault, rising linearly to 1 over ``ramp_days`` (or at once), 0 again after ``end_ns``."""
    if ramp_days > 0:
        r = np.clip((time_ns - start_ns) / (ramp_days * NS_PER_DAY), 0.0, 1.0)
    else:
        r = (time_ns >= start_ns).astype(np.float64)
    if end_ns is not None:
        r = np.where(time_ns < end_ns, r, 0.0)
    return r


@dataclass
class RegisterState:
    """What a meter's register carries from one chunk to the next (mutable, owned by the fleet)."""

    offset: float = 0.0  # reported - true
    frozen: float | None = None  # reported value while stuck
    last_true: float = 0.0  # true counter at the last sample of the previous chunk
    applied: set[str] = field(default_factory=set)  # ids of events already applied


@dataclass(frozen=True, slots=True)
class RegisterEvent:
    """A change of a register at an instant: reset, replacement, start or end of a stuck period."""

    id: str
    time_ns: int
    action: Literal["reset", "replace", "stick", "unstick"]
    new_index: float = 0.0


def register_events(faults: list[Any], scale: float = 1.0) -> list[RegisterEvent]:
    """Register events of one meter's faults; ``scale`` converts a ``new_index`` to the counter's unit."""
    ev: list[RegisterEvent] = []
    for f in faults:
        if f.kind == "counter_reset":
            ev.append(RegisterEvent(f.id, f.start_ns, "reset"))
        elif f.kind == "meter_replacement":
            ev.append(RegisterEvent(f.id, f.start_ns, "replace", f.new_index * scale))
        elif f.kind == "stuck_meter":
            ev.append(RegisterEvent(f.id + ":start", f.start_ns, "stick"))
            if f.end_ns is not None:
                ev.append(RegisterEvent(f.id + ":end", f.end_ns, "unstick"))
    return sorted(ev, key=lambda e: (e.time_ns, e.id))


def apply_register_faults(time_ns: npt.NDArray[np.int64], true_counter: npt.NDArray[np.float64],
                          events: list[RegisterEvent], state: RegisterState) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Reported counter values and a "stuck" mask for one chunk; updates ``state`` for the next chunk.

    An event at time T affects the samples at or after T; the register value just before T is the
    true counter at the previous sample (or the previous chunk's last sample).
    """
    n = time_ns.size
    reported = np.empty(n)
    stuck = np.zeros(n, dtype=bool)
    pos = 0
    end_ns = int(time_ns[-1]) if n else -1
    for e in events:
        if e.id in state.applied or e.time_ns > end_ns:
            continue
        idx = int(np.searchsorted(time_ns, e.time_ns, side="left"))
        _fill(reported, stuck, true_counter, pos, idx, state)
        true_prev = float(true_counter[idx - 1]) if idx > 0 else state.last_true
        if e.action == "reset":
            state.offset, state.frozen = -true_prev, None
        elif e.action == "replace":
            state.offset, state.frozen = e.new_index - true_prev, None
        elif e.action == "stick":
            state.frozen = true_prev + state.offset
        elif e.action == "unstick" and state.frozen is not None:
            state.offset, state.frozen = state.frozen - true_prev, None
        state.applied.add(e.id)
        pos = idx
    _fill(reported, stuck, true_counter, pos, n, state)
    if n:
        state.last_true = float(true_counter[-1])
    return reported, stuck


def _fill(reported: npt.NDArray[np.float64], stuck: npt.NDArray[np.bool_], true_counter: npt.NDArray[np.float64],
          a: int, b: int, state: RegisterState) -> None:
    if b <= a:
        return
    if state.frozen is not None:
        reported[a:b] = state.frozen
        stuck[a:b] = True
    else:
        reported[a:b] = true_counter[a:b] + state.offset
