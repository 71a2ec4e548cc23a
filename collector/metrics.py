"""The collector's self-metrics: Prometheus exposition (``/metrics``) and ``/health`` for orchestration.

The counters live in one :class:`~collector.stats.CollectorStats` value; this module only
turns a snapshot of them into Prometheus families at scrape time (a custom collector on a
private registry, so several collectors in one process do not clash) and serves them with
the standard library's HTTP server. The same snapshot is written to InfluxDB as
``collector_stats`` by the service.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger("terril.metrics")

#: upper bounds of the write-latency histogram [s]
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Snapshot:
    """Everything ``/metrics`` and ``/health`` show, read at one instant."""

    counters: dict[str, int]
    quarantined: dict[str, int]
    gauges: dict[str, float]
    latency_counts: tuple[int, ...]
    latency_sum_s: float
    healthy: bool
    state: dict[str, object] = field(default_factory=dict)


#: counter name -> help text (exported as terril_collector_<name>_total)
COUNTERS = {
    "messages_received": "MQTT messages received",
    "readings_decoded": "readings decoded from messages",
    "points_written": "points accepted by InfluxDB (direct writes and replays)",
    "points_spooled": "points committed to the local spool",
    "points_replayed": "points written to InfluxDB from the spool",
    "messages_acked": "MQTT messages acknowledged to the broker",
    "acks_dropped": "acknowledgements not sent because the connection they belonged to was gone",
    "write_batches": "batches written to InfluxDB",
    "write_retries": "InfluxDB writes that failed and were retried or spooled",
    "spool_full": "times the spool was full (messages then stay unacknowledged with the broker)",
    "reconnections": "MQTT connections lost",
    "watchdog_recoveries": "connections recycled by the watchdog",
    "takeovers": "broker sessions of offline peer collectors taken over",
    "duplicate_copies": "extra copies of a message matching two subscription filters (acknowledged, not stored)",
    "registry_reloads": "registries swapped in while running (file change or SIGHUP)",
}
#: gauge name -> help text (exported as terril_collector_<name>)
GAUGES = {
    "acks_pending": "messages received and not yet acknowledged",
    "spool_depth_points": "points waiting in the spool",
    "spool_depth_readings": "readings waiting in the spool",
    "spool_bytes": "bytes of the spool on disk",
    "spool_oldest_age_seconds": "age of the oldest batch waiting in the spool",
    "connected": "1 when connected to the broker",
}


def metric_families(snap: Snapshot) -> Iterator[Metric]:
    """Prometheus families for one snapshot."""
    for name, doc in COUNTERS.items():
        yield CounterMetricFamily(f"terril_collector_{name}", doc, value=snap.counters.get(name, 0))
    q = CounterMetricFamily("terril_collector_quarantined", "messages or lines quarantined, by reason",
                            labels=["reason"])
    for reason, n in sorted(snap.quarantined.items()):
        q.add_metric([reason], n)
    yield q
    for name, doc in GAUGES.items():
        yield GaugeMetricFamily(f"terril_collector_{name}", doc, value=snap.gauges.get(name, 0.0))
    cumulative, buckets = 0, []
    for bound, n in zip((*LATENCY_BUCKETS_S, float("inf")), snap.latency_counts):
        cumulative += n
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
    yield HistogramMetricFamily("terril_collector_write_latency_seconds", "InfluxDB write latency",
                                buckets=buckets, sum_value=snap.latency_sum_s)


class _SnapshotCollector:
    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        return metric_families(self._snapshot())


class MetricsServer:
    """``/metrics`` (Prometheus text format) and ``/health`` (200 or 503, JSON body) on one port."""

    def __init__(self, snapshot: Callable[[], Snapshot], host: str = "127.0.0.1", port: int = 0) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_SnapshotCollector(snapshot))  # type: ignore[arg-type]
        registry, snap = self.registry, snapshot

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    body, status, ctype = generate_latest(registry), 200, CONTENT_TYPE_LATEST
                elif path == "/health":
                    s = snap()
                    body = json.dumps({"healthy": s.healthy, **s.state}).encode()
                    status, ctype = (200 if s.healthy else 503), "application/json"
                else:
                    body, status, ctype = b"not found\n", 404, "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # scrapes are not log lines

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="terril-metrics", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
