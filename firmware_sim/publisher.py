"""Publishing a message plan over MQTT: as fast as the broker takes it (backfill) or paced (real time).

QoS 1 throughout; the publisher waits until the broker has acknowledged every
message before it reports, so the report's counts are what the broker accepted.
"""

from __future__ import annotations

import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from firmware_sim.runner import Outgoing
from terril.errors import MqttError
from terril.mqtt_publish import MqttPublisher
from terril.timeutil import NS_PER_S


@dataclass
class PublishReport:
    """What was published, and the reading points the collector should store for it.

    A point published again at the same (meter, device time) — a duplicate, a backlog that
    overlaps — overwrites the same InfluxDB point, so it is counted once; a point stamped with
    the collector's receive time is always new. Device times are kept as 8-byte integers per
    meter and made distinct at the end (a year of the demo fleet at 15 min is 1.3 M points).
    """

    messages: int = 0
    points_by_meter: Counter[str] = field(default_factory=Counter)  # distinct expected points per meter
    receive_time_points: int = 0  # points the collector stamps with its receive time (no device time)
    overwritten_points: int = 0  # points published again at the same (meter, device time): duplicates, backlogs
    first_ns: int | None = None
    last_ns: int | None = None
    elapsed_s: float = 0.0
    _times: dict[str, array] = field(default_factory=dict, repr=False)
    _receive_by_meter: Counter[str] = field(default_factory=Counter, repr=False)
    _published_points: int = field(default=0, repr=False)  # device-time points as published, repeats included
    _settled: bool = field(default=True, repr=False)

    def add_points(self, points: Iterable[tuple[str, int | None]]) -> None:
        """Record the expected points of one publication: (meter, device time or None)."""
        for meter, t in points:
            if t is None:
                self.receive_time_points += 1
                self._receive_by_meter[meter] += 1
            else:
                times = self._times.get(meter)
                if times is None:
                    times = self._times[meter] = array("q")
                times.append(t)
                self._published_points += 1
            self._settled = False

    def settle(self) -> None:
        """Count the distinct points (idempotent; done by :func:`publish_plan` before it returns)."""
        if self._settled:
            return
        by_meter: Counter[str] = Counter(self._receive_by_meter)
        distinct = 0
        for meter, times in self._times.items():
            unique = np.unique(np.frombuffer(times, dtype=np.int64))
            self._times[meter] = array("q", unique.tobytes())
            by_meter[meter] += unique.size
            distinct += unique.size
        self.overwritten_points += self._published_points - distinct
        self._published_points = distinct
        self.points_by_meter = by_meter
        self._settled = True

    @property
    def expected_points(self) -> int:
        """Distinct points expected in InfluxDB (a repeated (meter, time) overwrites the same point)."""
        self.settle()
        return sum(self.points_by_meter.values())


class Publisher(MqttPublisher):
    """The simulator's publisher: the kernel's QoS-1 publisher, named for the simulator."""

    client_id_prefix = "terril-sim"
    who = "the simulator"


def publish_plan(publisher: Publisher, plan: Iterable[Outgoing], *, speed: float | None = None,
                 progress: Callable[[int], None] | None = None, rate: float | None = None) -> PublishReport:
    """Publish every message of ``plan`` at QoS 1 and wait until the broker acknowledged them all.

    ``speed`` None and ``rate`` None publish as fast as the broker takes it (backfill);
    ``speed`` paces the plan in simulated time (``speed`` simulated seconds per second);
    ``rate`` paces it at ``rate`` messages per second (load mode).
    """
    report = PublishReport()
    start_wall = time.monotonic()
    sim_start: int | None = None
    base = publisher.acked
    for msg in plan:
        if speed is not None:
            if sim_start is None:
                sim_start = msg.time_ns
            due = start_wall + (msg.time_ns - sim_start) / NS_PER_S / speed
        elif rate is not None:
            due = start_wall + report.messages / rate
        else:
            due = 0.0
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        publisher.publish(msg.topic, msg.payload, retain=msg.retain)
        report.messages += 1
        report.add_points(msg.points)
        report.first_ns = msg.time_ns if report.first_ns is None else min(report.first_ns, msg.time_ns)
        report.last_ns = msg.time_ns if report.last_ns is None else max(report.last_ns, msg.time_ns)
        if progress is not None:
            progress(1)
    if not publisher.wait_all_acked(base + report.messages, timeout_s=300):
        raise MqttError(f"the broker acknowledged only {publisher.acked - base} of {report.messages} messages")
    report.settle()
    report.elapsed_s = time.monotonic() - start_wall
    return report
