"""A simulation run: the fleet simulated chunk by chunk, encoded per device, published over MQTT.

Used by ``terril simulate`` and ``terril demo``. Chunks keep memory flat for long
backfills; ``on_progress`` receives simulated seconds done, for a progress bar.

Without device behaviour every message is published once, on time, in time order. With a
:class:`~firmware_sim.behaviour.BehaviourParams` the plan goes through
:func:`~firmware_sim.behaviour.plan_emissions` first (clock skew, jitter, duplicates,
out-of-order delivery, Last Will and birth messages, backlogs, rollover) and is published in
the order the devices would send it; the expected points still follow what InfluxDB will hold.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from collector.mapping import Pipeline
from firmware_sim.behaviour import BehaviourParams, plan_emissions
from firmware_sim.faults import Scenario
from firmware_sim.fleet import DeviceMessage, FleetChunk, FleetSimulation
from firmware_sim.publisher import Publisher, PublishReport, publish_plan
from firmware_sim.runner import Encoding, Outgoing, native_payload, native_topic
from terril.quantities import QUANTITIES
from terril.readings import Point
from terril.registry import Device, Registry
from terril.timeutil import MAX_TIME_NS, MIN_TIME_NS, NS_PER_S

#: Simulated span per chunk in backfill (chunking does not change the data, only memory and speed) [s]
BACKFILL_CHUNK_S = 7 * 86_400.0


@dataclass
class RunResult:
    """A finished simulation run: what was published and the injected faults' ground truth."""

    report: PublishReport
    simulation: FleetSimulation


def fleet_outgoing(sim: FleetSimulation, encoding: Encoding, end_ns: int, *, chunk_s: float = 86_400.0,
                   on_progress: Callable[[float], None] | None = None) -> Iterator[Outgoing]:
    """Every publication of the fleet up to ``end_ns``, in time order, chunk by chunk."""
    for chunk in sim.run(end_ns, chunk_s=chunk_s):
        yield from encoding.encode_all(chunk.messages())
        if on_progress is not None and chunk.time_ns.size:
            on_progress(chunk.time_ns.size * chunk.step_s)


def fleet_messages(sim: FleetSimulation, end_ns: int, *, chunk_s: float = 86_400.0,
                   on_progress: Callable[[float], None] | None = None) -> Iterator[DeviceMessage]:
    """Every device message up to ``end_ns`` in time order, offline ones included (``online=False``)."""
    for chunk in sim.run(end_ns, chunk_s=chunk_s):
        yield from chunk.messages(include_offline=True)
        if on_progress is not None and chunk.time_ns.size:
            on_progress(chunk.time_ns.size * chunk.step_s)


def fleet_outgoing_with_behaviour(sim: FleetSimulation, encoding: Encoding, end_ns: int, behaviour: BehaviourParams,
                                  *, chunk_s: float = 86_400.0,
                                  on_progress: Callable[[float], None] | None = None) -> Iterator[Outgoing]:
    """Every publication of the fleet up to ``end_ns`` as the devices would send them, in sending order.

    The behaviour's randomness is keyed by the simulation's seed, so a run is reproducible.
    """
    messages = fleet_messages(sim, end_ns, chunk_s=chunk_s, on_progress=on_progress)
    for emission in plan_emissions(messages, sim.seed, behaviour):
        yield from encoding.encode_emission(emission)


def publish_status(publisher: Publisher, registry: Registry, online: bool = True) -> None:
    """Every device says it is online (retained, as its last will would say offline)."""
    for d in registry.devices:
        publisher.publish(f"terril/{d.site}/{d.id}/status", b"online" if online else b"offline", retain=True)


def run_fleet(publisher: Publisher, registry: Registry, start_ns: int, end_ns: int, *, seed: int = 0,
              step_s: float = 900.0, scenario: Scenario | None = None, speed: float | None = None,
              on_progress: Callable[[float], None] | None = None, sim: FleetSimulation | None = None,
              behaviour: BehaviourParams | None = None) -> RunResult:
    """Simulate [start, end) and publish it; backfill when ``speed`` is None, paced otherwise.

    ``sim`` continues an existing simulation (whose cursor is one step before ``start_ns``).
    ``behaviour`` None publishes each message once, on time; otherwise devices misbehave as it
    says (publications are then paced by their sending instant in real time).
    """
    if sim is None:
        sim = new_simulation(registry, start_ns, seed=seed, step_s=step_s, scenario=scenario)
    encoding = Encoding(registry, backfill=speed is None)
    publish_status(publisher, registry)
    # a backfill simulates a week at a time (the weather model's set-up per chunk dominates daily
    # chunks); paced runs keep daily chunks so that the first publications start at once
    chunk_s = BACKFILL_CHUNK_S if speed is None else 86_400.0
    if behaviour is None:
        plan = fleet_outgoing(sim, encoding, end_ns - 1, chunk_s=chunk_s, on_progress=on_progress)
    else:
        plan = fleet_outgoing_with_behaviour(sim, encoding, end_ns - 1, behaviour, chunk_s=chunk_s,
                                             on_progress=on_progress)
    report = publish_plan(publisher, plan, speed=speed)
    return RunResult(report, sim)


def new_simulation(registry: Registry, start_ns: int, *, seed: int = 0, step_s: float = 900.0,
                   scenario: Scenario | None = None) -> FleetSimulation:
    """A simulation whose readings fall on ``start_ns``, ``start_ns + step``, ...

    The simulation's first instant is one step after its start, so it starts a step early:
    the readings of [start, end) are then exactly those of that period.
    """
    return FleetSimulation(registry, start_ns - int(step_s * NS_PER_S), seed=seed, step_s=step_s, scenario=scenario)


def bulk_load(sim: FleetSimulation, registry: Registry, write: Callable[[list[Point]], int], end_ns: int, *,
              on_progress: Callable[[float], None] | None = None, chunk_s: float = 7 * 86_400.0) -> int:
    """Load the history [cursor, end) straight into InfluxDB through the collector's mapping.

    Like a gateway's archive imported in one go: each device message the devices would have
    sent in native JSON becomes the readings the native decoder would give (same device, channel,
    quantity, value, device time; the receive time recorded is the measurement time + 1 ns), and
    :meth:`collector.mapping.Pipeline.map_columns` maps them to points exactly as the collector
    does (registry channels, plausible ranges, time rules), a device's messages of a chunk at a time.
    Skipping the JSON round trip and the reading objects gives the same points
    (``tests/firmware_sim/test_session.py`` checks them against :meth:`~collector.mapping.Pipeline.process`
    on native payloads) at a fraction of the cost.
    ``write`` stores a chunk's points and returns how many it wrote
    (:meth:`terril.influx.InfluxClient.write_points`). Returns the number of points written.
    """
    pipeline = Pipeline(registry)
    written = 0
    for chunk in sim.run(end_ns - 1, chunk_s=chunk_s):
        # a chunk's points (tens of thousands, no reference cycle) made the cyclic collector run full
        # collections of every live object again and again; they are freed before it resumes
        with _cyclic_gc_paused():
            points: list[Point] = []
            for archive in archive_columns(chunk, registry):
                points.extend(pipeline.map_columns(archive.device, archive.columns, archive.time_ns,
                                                   archive.received_ns))
            written += write(points)
            del points
        if on_progress is not None and chunk.time_ns.size:
            on_progress(chunk.time_ns.size * chunk.step_s)
    return written


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees everything acyclic)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class ArchiveColumns:
    """A device's archived messages of a chunk, column by column: message ``i`` holds, for every column
    ``(channel, quantity, values)``, the reading ``values[i]``, at device time ``time_ns[i]``, received at
    ``received_ns[i]`` (= ``time_ns[i]`` + 1 ns)."""

    device: Device
    columns: tuple[tuple[str | None, str, npt.NDArray[np.float64]], ...]
    time_ns: npt.NDArray[np.int64]
    received_ns: npt.NDArray[np.int64]


def archive_columns(chunk: FleetChunk, registry: Registry) -> Iterator[ArchiveColumns]:
    """What the native decoder would read from the messages of ``chunk``, device by device, as columns.

    The messages :meth:`FleetChunk.messages` yields (online, due), minus those the devices
    corrupt (``malformed``) and those the native decoder would refuse whole (a value that is not a
    finite number, a quantity that is not canonical, a time outside 2000..2100); the channel is
    named only on devices with several channels, as :func:`~firmware_sim.runner.native_payload` does.
    """
    in_range = (chunk.time_ns >= MIN_TIME_NS) & (chunk.time_ns < MAX_TIME_NS)
    for plan in chunk.devices:
        device = registry.device_by_id[plan.device_id]
        ss, online, malformed = chunk.device_steps(plan)
        if any(not s.values or any(q not in QUANTITIES for q in s.values) for s in ss):
            continue
        named = len(device.channels) > 1
        finite = np.logical_and.reduce([np.isfinite(a) for s in ss for a in s.values.values()])
        rows = np.flatnonzero(ss[0].due & online & ~malformed & finite & in_range)
        time_ns = chunk.time_ns[rows]
        columns = tuple((s.channel if named else None, q, a[rows].astype(np.float64, copy=False))
                        for s in ss for q, a in s.values.items())
        yield ArchiveColumns(device, columns, time_ns, time_ns + 1)
