"""The collector service: MQTT (QoS 1, persistent session, manual acks) -> pipeline -> InfluxDB or spool.

:class:`Collector` ties together its parts, one module per thread: the MQTT sessions
(:mod:`collector.session`), the outbox with its writer and replayer threads
(:mod:`collector.outbox`), the takeover of offline peers' sessions (:mod:`collector.takeover`)
and the counters (:mod:`collector.stats`). It decodes on the network threads (the intake
below) and runs the housekeeping thread (watchdog, takeovers).

Delivery guarantees (see docs/delivery.md):

* **At least once.** A message is acknowledged to the broker only once its points (or its
  quarantine record) are durably stored: accepted by InfluxDB, or committed (fsync'd) to the
  local spool (:mod:`collector.spool`). Until then the broker keeps it in our persistent
  session (stable client id, clean start off, session expiry) and redelivers it after a
  reconnection or a crash. Acks go out in the order the messages came, from one thread, and
  only on the connection that received them (an ack for a connection that is gone is dropped:
  the broker redelivers that message and it is stored again, idempotently).
* **Idempotent.** Every point's timestamp is fixed before it is written or spooled (device
  time, else the first receipt; a redelivery seen by the same process reuses its first
  receipt time), so a redelivery or a replay overwrites the same point.
* **Outages.** InfluxDB unreachable or answering 5xx/429 — also at start-up, which does not
  wait for it: batches go to the spool, which a
  replayer thread writes back in order (backlog before new data) once InfluxDB answers. A full
  spool stops the acknowledgements (counted, logged): the broker keeps the messages. Broker
  lost: paho reconnects with exponential backoff, plus jitter here, and we resubscribe; a
  watchdog recycles a connection that is up but silent while devices should be speaking.
* **Shutdown.** SIGTERM stops the intake, flushes, acknowledges what was stored, disconnects.
* **Scale-out.** Several collectors share a ``$share/<group>/`` subscription. Mosquitto keeps
  routing a share to a member's session while the member is offline, so a member that sees a
  peer of its group go offline (the peer's will, on ``terril/_collector/<id>/status``) takes
  over that peer's session, stores what was waiting there, and retires it.

* **Live registry.** The collector subscribes to every format's topic layouts (each filter with
  its own subscription identifier, so that a topic matching two filters is stored once), and
  :meth:`Collector.use_registry` swaps a new registry in atomically (file change or SIGHUP,
  :mod:`collector.reload`).

The loop never dies on a bad message: it is quarantined with its reason.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.mapping import Pipeline, canonical_filter
from collector.metrics import MetricsServer, Snapshot
from collector.outbox import Outbox
from collector.quarantine import QuarantineLog, Rejection, rejection_point
from collector.session import Session, Will
from collector.stats import STATS_MEASUREMENT, CollectorStats, stats_point
from collector.takeover import STATUS_PREFIX, Takeovers, status_topic
from collector.watchdog import Watchdog, expected_silence_s
from collector.writer import RetryLater
from terril.endpoints import MqttEndpoint
from terril.errors import ConfigError, InfluxUnavailableError, MqttError, RegistryError, TerrilError
from terril.influx import InfluxClient
from terril.lineprotocol import LineProtocolError, format_point
from terril.readings import Point
from terril.registry import Registry
from terril.settings import CollectorSettings, MqttSettings, default_data_dir
from terril.timeutil import now_ns

if TYPE_CHECKING:
    from collector.reload import RegistryWatcher
    from collector.spool import Spool

__all__ = ["Collector", "CollectorStats", "STATS_MEASUREMENT", "STATUS_PREFIX", "influx_startup_note"]

log = logging.getLogger("terril.collector")


def _data_dir_from_env() -> Path:
    raw = os.environ.get("TERRIL_DATA_DIR")
    return Path(raw).expanduser() if raw else default_data_dir()


def influx_startup_note(influx: InfluxClient) -> str | None:
    """None when InfluxDB answers ``/ping``; else a one-line warning saying the collector will spool.

    The collector starts all the same (after a crash, an OOM kill or a redeploy during an outage):
    it connects to the broker, spools to disk, acknowledges from the spool and drains when
    InfluxDB answers again.
    """
    try:
        influx.ping()
    except InfluxUnavailableError as err:
        return f"{err.message}: starting anyway, spooling to disk until InfluxDB answers"
    return None


class Collector:
    """One collector: subscribe, decode, batch, write or spool, acknowledge.

    Parameters
    ----------
    pipeline, endpoint, influx, mqtt_settings, settings
        What to decode with, where the broker and the database are, and the settings.
    data_dir
        Data folder; the spool is ``<data_dir>/spool/<client_id>`` unless ``settings.spool_dir``
        is set. None: ``TERRIL_DATA_DIR`` or the default data folder.
    clock_ns
        The wall clock stamped on receive times, quarantine records and the collector's own
        statistics (UTC ns). Default: the system clock; the demo shifts it to its injected "now".
    """

    def __init__(self, pipeline: Pipeline, endpoint: MqttEndpoint, influx: InfluxClient,
                 mqtt_settings: MqttSettings, settings: CollectorSettings, *,
                 data_dir: str | os.PathLike[str] | None = None,
                 clock_ns: Callable[[], int] | None = None) -> None:
        self.clock_ns: Callable[[], int] = clock_ns or now_ns
        self.pipeline = pipeline
        self.endpoint = endpoint
        self.influx = influx
        self.mqtt_settings = mqtt_settings
        self.settings = settings
        self.stats = CollectorStats()
        self.client_id = mqtt_settings.client_id
        self.rng = random.Random()
        base = Path(data_dir).expanduser() if data_dir is not None else _data_dir_from_env()
        self.spool_dir = Path(settings.spool_dir) if settings.spool_dir else base / "spool" / self.client_id
        silence = settings.watchdog_silence_s
        if silence is None:
            silence = expected_silence_s(d.interval_s for d in pipeline.registry.devices)
        self.watchdog = Watchdog(silence)
        # hash(topic, payload) -> first receipt [ns], bounded: the oldest goes first (an OrderedDict pops it in
        # constant time, where a dict's next(iter()) walks over the slots its deletions left at the front)
        self._receipts: OrderedDict[int, int] = OrderedDict()
        self._receipts_max = 4 * mqtt_settings.receive_maximum
        self._stop = threading.Event()  # run_forever: stop requested (signal or fatal)
        self._halt = threading.Event()  # stop() under way: no more intake, no more waits
        self._intake = True
        self._fatal: BaseException | None = None
        self._qlog = QuarantineLog(log)  # one line per device and reason per minute
        self.outbox = Outbox(influx, settings, self.spool_dir, self.stats,
                             flush_at=max(1, min(settings.batch_size, mqtt_settings.receive_maximum // 2)),
                             qlog=self._qlog, clock_ns=self.clock_ns, rng=self.rng, on_fatal=self._set_fatal)
        self.takeovers = Takeovers(self.client_id, mqtt_settings, self.stats, open_session=self._takeover_session,
                                   filters=lambda: [self.share(f) for f in self.pipeline.subscriptions()],
                                   publish_status=self._publish_status, halt=self._halt)
        self.session = Session(endpoint, mqtt_settings, self.client_id, primary=True,
                               on_message=self.on_message, on_connected=self._subscribe,
                               on_fatal=self._set_fatal, on_lost=self._count_reconnection,
                               halt=self._halt, rng=self.rng,
                               will=Will(status_topic(self.client_id), b"offline", self.status_properties()))
        self._keeper = threading.Thread(target=self._housekeeping, name="terril-watchdog", daemon=True)
        self._metrics: MetricsServer | None = None
        self.metrics_port: int | None = None
        self._watcher: "RegistryWatcher | None" = None

    @property
    def spool(self) -> Spool | None:
        """The spool, once :meth:`start` opened it."""
        return self.outbox.spool

    # ---- topics ----
    def share(self, topic_filter: str) -> str:
        group = self.mqtt_settings.share_group
        return f"$share/{group}/{topic_filter}" if group else topic_filter

    @staticmethod
    def status_topic(client_id: str) -> str:
        return status_topic(client_id)

    def status_properties(self) -> Properties:
        props = Properties(PacketTypes.PUBLISH)
        if self.mqtt_settings.share_group:
            props.UserProperty = ("share_group", self.mqtt_settings.share_group)
        return props

    def _publish_status(self, client_id: str, state: bytes) -> None:
        """Publish (retained) the status of ``client_id`` on our own connection; empty: clear it."""
        self.session.client.publish(status_topic(client_id), state, qos=1, retain=True,
                                    properties=self.status_properties() if state else None)

    # ---- sessions ----
    def _subscribe(self, session: Session) -> None:
        """The primary session connected: subscribe, say we are online."""
        client = session.client
        # one SUBSCRIBE per filter, each with its own subscription identifier (index + 1): a topic that
        # matches two filters comes twice, and on_message keeps only the copy of its canonical filter
        filters = self.pipeline.subscriptions()
        status_filter = bool(self.mqtt_settings.share_group and self.mqtt_settings.takeover)
        session.expect_subacks(len(filters) + status_filter)
        for i, f in enumerate(filters):
            props = Properties(PacketTypes.SUBSCRIBE)
            props.SubscriptionIdentifier = i + 1
            client.subscribe([(self.share(f), mqtt.SubscribeOptions(qos=1))], properties=props)
        topics = list(filters)
        if status_filter:
            client.subscribe([(f"{STATUS_PREFIX}+/status", mqtt.SubscribeOptions(qos=0))])
            topics.append(f"{STATUS_PREFIX}+/status")
        client.publish(status_topic(session.client_id), b"online", qos=1, retain=True,
                       properties=self.status_properties())
        log.info("connected to %s as %s, session present: %s, subscribed to %d filters", self.endpoint.url,
                 session.client_id, session.session_present, len(topics))

    def _takeover_session(self, peer: str) -> Session:
        def connected(session: Session) -> None:
            log.warning("took over the session of %s (session present: %s)", session.client_id,
                        session.session_present)

        return Session(self.endpoint, self.mqtt_settings, peer, primary=False, on_message=self.on_message,
                       on_connected=connected, on_fatal=self._set_fatal, halt=self._halt, rng=self.rng)

    def _count_reconnection(self) -> None:
        self.stats.reconnections += 1

    # ---- intake (network threads) ----
    def on_message(self, session: Session, message: mqtt.MQTTMessage) -> None:
        """Decode one message and queue its points (or quarantine record) and its ack in the outbox."""
        if not self._intake:
            return  # not acknowledged: the broker redelivers it to the next session
        topic, payload = message.topic, message.payload
        if topic.startswith(STATUS_PREFIX) and session.primary:
            self.takeovers.on_peer_status(topic, payload, message.properties)
        sub_ids = getattr(message.properties, "SubscriptionIdentifier", None) if message.properties else None
        if sub_ids:
            canon = canonical_filter(topic)
            if canon is not None and canon + 1 not in sub_ids:
                self.outbox.add_ack_only(session, message)  # another copy, through the canonical filter, is stored
                return
        received = self.clock_ns()
        # one publication: a redelivery carries the packet id of its first delivery (MQTT 3.1.1 §4.4,
        # 5.0 §4.4). Without it, a device that sends the same payload twice (a water index that did not
        # move, a payload without device time) had its second message, redelivered after a reconnection
        # before it was processed, stamped with the first one's receipt: one point fewer.
        key = hash((topic, payload, message.mid))
        with self.stats.lock:
            self.stats.messages_received += 1
            first = self._receipts.get(key) if message.dup else None
            if first is not None:
                received = first  # a redelivery: same receive time, so the same points
            else:
                self._receipts[key] = received  # the latest publication with this key (packet ids are reused)
                self._receipts.move_to_end(key)
                if len(self._receipts) > self._receipts_max:
                    self._receipts.popitem(last=False)
        points: tuple[Point, ...]
        readings = 0
        try:
            outcome = self.pipeline.process(topic, payload, received)
        except Exception as err:  # a decoder bug must not stop the loop: quarantine with its class
            rej = Rejection("internal_error", f"{type(err).__name__}", topic, payload, received)
            self._qlog.note(rej, exc_info=True)  # rate-limited: one device must not flood the log
            points = (rejection_point(rej, self.settings.quarantine_payload_bytes, self._qlog.keep_raw(rej)),)
            self.stats.count_quarantined("internal_error")
        else:
            if outcome.rejection is not None:
                self._qlog.note(outcome.rejection)
                self.stats.count_quarantined(outcome.rejection.reason)
                points = (rejection_point(outcome.rejection, self.settings.quarantine_payload_bytes,
                                          self._qlog.keep_raw(outcome.rejection)),)
            else:
                points = outcome.points
                readings = outcome.readings
        lines = []
        for p in points:
            try:
                lines.append(format_point(p))
            except LineProtocolError as err:
                log.warning("point dropped from %.80s: %s", topic, err)
        self.outbox.add(lines, readings, session, message)

    # ---- registry ----
    def use_registry(self, registry: Registry) -> None:
        """Swap in a new registry (atomic: each message is decoded by one pipeline, old or new).

        Raises RegistryError, keeping the registry in force, when a device uses an unknown format.
        """
        pipeline = Pipeline(registry)
        if pipeline.unknown_formats:
            raise RegistryError(f"{registry.source}: devices use unknown payload formats: "
                                f"{', '.join(pipeline.unknown_formats)}", [])
        self.pipeline = pipeline
        if self.settings.watchdog_silence_s is None:  # the fleet's expected silence follows its devices
            self.watchdog = Watchdog(expected_silence_s(d.interval_s for d in registry.devices))
        with self.stats.lock:
            self.stats.registry_reloads += 1

    def watch_registry(self, path: str | os.PathLike[str], *, interval_s: float = 1.0,
                       on_devices_changed=None) -> "RegistryWatcher":  # noqa: ANN001
        """Reload the registry from ``path`` when it changes or on SIGHUP (see :mod:`collector.reload`)."""
        from collector.reload import RegistryWatcher

        self._watcher = RegistryWatcher(path, self.pipeline.registry, self.use_registry,
                                        on_devices_changed=on_devices_changed, interval_s=interval_s)
        return self._watcher

    # ---- housekeeping thread: watchdog, takeovers ----
    def _housekeeping(self) -> None:
        while not self._halt.wait(0.2):
            now = time.monotonic()
            s = self.session
            if self.watchdog.is_stalled(now, s.connected.is_set(), s.connected_since, s.last_message):
                log.warning("connected but silent for %.0f s while devices should speak: reconnecting",
                            now - max(s.connected_since, s.last_message))
                self.stats.watchdog_recoveries += 1
                s.connected_since = now  # judge again only after a full period
                s.drop_connection()
            self.takeovers.manage(now)

    # ---- lifecycle ----
    def _set_fatal(self, err: BaseException) -> None:
        if self._fatal is None:
            self._fatal = err
            log.error("stopping: %s", err)
        self._intake = False
        self.outbox.fail()
        self._stop.set()

    def start(self) -> None:
        """Open the spool, connect, and start the network, writer, replayer and watchdog threads."""
        self.outbox.open()
        try:
            self.session.connect()
        except OSError as err:
            self.outbox.close()
            raise MqttError(f"cannot reach the MQTT broker at {self.endpoint.url}: {err}",
                            hint="is the broker running? `terril stack status`") from err
        self.outbox.start()
        self._keeper.start()
        if self._watcher is not None:
            self._watcher.start()
        if self.settings.metrics_port is not None:
            try:
                self._metrics = MetricsServer(self.snapshot, self.settings.metrics_host, self.settings.metrics_port)
            except OSError as err:
                self._stop.set()
                raise ConfigError(f"setting 'collector.metrics_port': cannot listen on "
                                  f"{self.settings.metrics_host}:{self.settings.metrics_port}: {err.strerror}") from err
            self.metrics_port = self._metrics.port
            self._metrics.start()

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        """Wait until the collector is connected and the broker has acknowledged its subscriptions:
        what is published from then on reaches it (before the SUBACKs, a message published by
        another client could find no subscription yet and be routed nowhere)."""
        deadline = time.monotonic() + timeout_s
        return (self.session.connected.wait(timeout_s)
                and self.session.subscribed.wait(max(0.0, deadline - time.monotonic())))

    def pending(self) -> int:
        """Messages received and not yet acknowledged."""
        return self.session.unacked + self.takeovers.unacked()

    def stop(self, timeout_s: float | None = None) -> None:
        """Stop taking messages, flush, acknowledge what was stored, disconnect."""
        timeout_s = self.settings.shutdown_timeout_s if timeout_s is None else timeout_s
        if self._watcher is not None:
            self._watcher.stop()
        self._intake = False
        self.outbox.stop_writer(timeout_s)
        self._halt.set()
        self.outbox.stop_replayer()
        if self._keeper.is_alive():
            self._keeper.join(15)
        self.takeovers.close_all()
        try:
            self.session.closing = True
            self._publish_status(self.client_id, b"offline")
            self.session.client.disconnect()
        finally:
            self.session.client.loop_stop()
            self.outbox.close()
            if self._metrics is not None:
                self._metrics.close()

    def snapshot(self) -> Snapshot:
        """Counters, gauges and health, for /metrics, /health and ``collector_stats``."""
        st = self.spool.stats() if self.spool is not None else None
        connected = self.session.connected.is_set()
        spooling = st is not None and st.records > 0
        holding = self.outbox.holding
        healthy = (connected and self._fatal is None and not holding and self.outbox.writer_alive())
        gauges = {
            "acks_pending": float(self.pending()),
            "spool_depth_points": float(st.lines if st else 0),
            "spool_depth_readings": float(st.readings if st else 0),
            "spool_bytes": float(st.bytes_on_disk if st else 0),
            "spool_oldest_age_seconds": st.oldest_age_s(self.clock_ns()) if st else 0.0,
            "connected": 1.0 if connected else 0.0,
        }
        with self.stats.lock:
            quarantined = dict(self.stats.quarantined)
        state = {"connected": connected, "spooling": spooling, "spool_full": holding,
                 "fatal": str(self._fatal) if self._fatal else None}
        return Snapshot(self.stats.counters(), quarantined, gauges, tuple(self.stats.latency_counts),
                        self.stats.latency_sum_s, healthy, state)

    def write_stats(self) -> None:
        """Write the counters to InfluxDB (``collector_stats``); skipped while InfluxDB is down."""
        point = stats_point(self.stats, self.snapshot(), self.client_id, self.clock_ns())
        try:
            self.outbox.write([format_point(point)])
        except (RetryLater, TerrilError, LineProtocolError):
            pass

    def run_forever(self, stats_every_s: float | None = None) -> None:
        """Run until SIGTERM/SIGINT or a fatal error; then stop gracefully. Raises the fatal error, if any."""
        every = self.settings.stats_interval_s if stats_every_s is None else stats_every_s

        def handler(signum, frame):  # noqa: ANN001
            log.info("signal %s: stopping", signum)
            self._stop.set()

        def on_hup(signum, frame):  # noqa: ANN001
            if self._watcher is not None:
                self._watcher.request()
            else:
                log.warning("SIGHUP: no registry file to reload")

        old_term = signal.signal(signal.SIGTERM, handler)
        old_int = signal.signal(signal.SIGINT, handler)
        old_hup = signal.signal(signal.SIGHUP, on_hup)
        try:
            self.start()
            while not self._stop.wait(every):
                self.write_stats()
        finally:
            self.stop()
            signal.signal(signal.SIGTERM, old_term)
            signal.signal(signal.SIGINT, old_int)
            signal.signal(signal.SIGHUP, old_hup)
        if self._fatal is not None:
            raise self._fatal

    @property
    def fatal(self) -> BaseException | None:
        return self._fatal
