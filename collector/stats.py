"""The collector's counters: one :class:`CollectorStats` value per process.

Exported on ``/metrics`` (:mod:`collector.metrics`) and written to InfluxDB as
``collector_stats`` by the service. Threads that count concurrently (the writer and the
replayer, the network threads) take :attr:`CollectorStats.lock`.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from collector.metrics import LATENCY_BUCKETS_S, Snapshot
from terril.readings import Point

STATS_MEASUREMENT = "collector_stats"


@dataclass
class CollectorStats:
    """Counters of one collector process (exported on /metrics and written to ``collector_stats``)."""

    messages_received: int = 0
    readings_decoded: int = 0
    points_written: int = 0
    points_spooled: int = 0
    points_replayed: int = 0
    messages_acked: int = 0
    acks_dropped: int = 0
    write_batches: int = 0
    write_retries: int = 0
    spool_full: int = 0
    reconnections: int = 0
    watchdog_recoveries: int = 0
    takeovers: int = 0
    duplicate_copies: int = 0  # extra copies of a message matching several of our filters (acked, not stored)
    registry_reloads: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    last_write_latency_s: float = 0.0
    latency_counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_S) + 1))
    latency_sum_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def observe_latency(self, seconds: float) -> None:
        """Record one InfluxDB write latency. [s]"""
        self.last_write_latency_s = seconds
        self.latency_sum_s += seconds
        for i, bound in enumerate(LATENCY_BUCKETS_S):
            if seconds <= bound:
                self.latency_counts[i] += 1
                return
        self.latency_counts[-1] += 1

    def count_quarantined(self, reason: str, n: int = 1) -> None:
        with self.lock:
            self.quarantined[reason] += n

    def counters(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in (
            "messages_received", "readings_decoded", "points_written", "points_spooled", "points_replayed",
            "messages_acked", "acks_dropped", "write_batches", "write_retries", "spool_full", "reconnections",
            "watchdog_recoveries", "takeovers", "duplicate_copies", "registry_reloads")}

    def as_fields(self) -> dict[str, int | float]:
        fields: dict[str, int | float] = dict(self.counters())
        fields["quarantined"] = sum(self.quarantined.values())
        fields["write_latency_ms"] = round(self.last_write_latency_s * 1000, 3)
        return fields


def stats_point(stats: CollectorStats, snap: Snapshot, client_id: str, time_ns: int) -> Point:
    """The ``collector_stats`` point of one collector: its counters, gauges and quarantine counts."""
    fields: dict[str, float | int | bool | str] = dict(stats.as_fields())
    fields.update({k: int(v) if k != "spool_oldest_age_seconds" else round(v, 3)
                   for k, v in snap.gauges.items() if k != "connected"})
    for reason, n in snap.quarantined.items():
        fields[f"quarantined_{reason}"] = n
    return Point(STATS_MEASUREMENT, {"collector": client_id}, fields, time_ns)
