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

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from collector.mapping import Pipeline
from firmware_sim.behaviour import BehaviourParams, plan_emissions
from firmware_sim.faults import Scenario
from firmware_sim.fleet import DeviceMessage, FleetSimulation
from firmware_sim.publisher import Publisher, PublishReport, publish_plan
from firmware_sim.runner import Encoding, Outgoing, native_payload, native_topic
from terril.readings import Point
from terril.registry import Registry
from terril.timeutil import NS_PER_S

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
    """Load the history [cursor, end) straight into InfluxDB through the collector's pipeline.

    Like a gateway's archive imported in one go: each device message is written as native JSON,
    decoded, mapped and turned into points by :class:`collector.mapping.Pipeline` exactly as the
    collector does, but without MQTT. The receive time recorded is the measurement time.
    ``write`` stores a chunk's points and returns how many it wrote
    (:meth:`terril.influx.InfluxClient.write_points`). Returns the number of points written.
    """
    pipeline = Pipeline(registry)
    written = 0
    for chunk in sim.run(end_ns - 1, chunk_s=chunk_s):
        points: list[Point] = []
        for msg in chunk.messages():
            if msg.malformed:
                continue
            device = registry.device_by_id[msg.device_id]
            outcome = pipeline.process(native_topic(device), native_payload(msg, device), msg.time_ns + 1)
            points.extend(outcome.points)
        written += write(points)
        if on_progress is not None and chunk.time_ns.size:
            on_progress(chunk.time_ns.size * chunk.step_s)
    return written
