"""The collector service: MQTT (QoS 1, persistent session, manual acks) -> pipeline -> InfluxDB or spool.

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
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.mapping import Pipeline, canonical_filter
from collector.metrics import LATENCY_BUCKETS_S, MetricsServer, Snapshot
from collector.quarantine import QuarantineLog, Rejection, rejection_point
from collector.spool import Spool, SpoolFull
from collector.watchdog import Watchdog, backoff_s, expected_silence_s
from collector.writer import RetryLater, WriteResult, write_batch
from terril.endpoints import MqttEndpoint, make_mqtt_client
from terril.errors import (
    ConfigError, InfluxAuthError, InfluxUnavailableError, MqttError, RegistryError, TerrilError,
)
from terril.influx import InfluxClient
from terril.lineprotocol import LineProtocolError, format_point
from terril.readings import Point
from terril.registry import Registry
from terril.settings import CollectorSettings, MqttSettings, default_data_dir
from terril.timeutil import now_ns

if TYPE_CHECKING:
    from collector.reload import RegistryWatcher

log = logging.getLogger("terril.collector")

STATS_MEASUREMENT = "collector_stats"
STATUS_PREFIX = "terril/_collector/"
#: MQTT v5 reason code of a connection closed because another client took the session over
SESSION_TAKEN_OVER = 142
#: a taken-over session is retired once it was quiet this long [s]
TAKEOVER_QUIET_S = 1.0


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

    def observe_latency(self, seconds: float) -> None:
        """Record one InfluxDB write latency. [s]"""
        self.last_write_latency_s = seconds
        self.latency_sum_s += seconds
        for i, bound in enumerate(LATENCY_BUCKETS_S):
            if seconds <= bound:
                self.latency_counts[i] += 1
                return
        self.latency_counts[-1] += 1

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


@dataclass(frozen=True, slots=True)
class _Ack:
    """What acknowledging one message takes: its connection (session + generation) and packet id."""

    session: "_Session"
    generation: int
    mid: int
    qos: int


@dataclass(slots=True)
class _Batch:
    lines: list[str]
    acks: list[_Ack]
    readings: int


def _data_dir_from_env() -> Path:
    raw = os.environ.get("TERRIL_DATA_DIR")
    return Path(raw).expanduser() if raw else default_data_dir()


class _Session:
    """One MQTT connection of the collector: its own (primary) or a peer's taken over."""

    def __init__(self, owner: "Collector", client_id: str, primary: bool) -> None:
        self.owner = owner
        self.client_id = client_id
        self.primary = primary
        self.generation = 0
        self.connected = threading.Event()
        self.connected_since = 0.0
        self.last_message = time.monotonic()
        self.unacked = 0
        self.attempt = 0
        self.closing = False
        self.finished = threading.Event()  # a takeover session that is done
        self.session_present = False
        self.unsubscribed = False
        self.ack_lock = threading.Lock()
        settings = owner.mqtt_settings
        self.client = make_mqtt_client(owner.endpoint, client_id, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_pre_connect = self._on_pre_connect
        self.client.reconnect_delay_set(min_delay=settings.reconnect_min_s,  # type: ignore[arg-type]
                                        max_delay=settings.reconnect_max_s)  # type: ignore[arg-type]
        self.client.max_queued_messages_set(0)
        if primary:
            props = owner.status_properties()
            self.client.will_set(owner.status_topic(client_id), b"offline", qos=1, retain=True, properties=props)

    # ---- paho callbacks (this session's network thread) ----
    def _on_pre_connect(self, client, userdata):  # noqa: ANN001
        if self.attempt > 0:  # paho waits its exponential delay; add jitter so collectors do not reconnect in step
            extra = backoff_s(self.attempt, self.owner.mqtt_settings.reconnect_min_s,
                              self.owner.mqtt_settings.reconnect_max_s, self.owner.rng) * 0.5
            self.owner._halt.wait(extra)
        self.attempt += 1

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):  # noqa: ANN001
        if reason_code.is_failure:
            log.error("MQTT connection of %s refused: %s", self.client_id, reason_code)
            if reason_code.value in (134, 135):  # bad user name or password, not authorized
                self.owner._set_fatal(MqttError(f"the broker refused our credentials ({reason_code})",
                                                hint="check TERRIL_MQTT__USERNAME and the password file"))
            return
        self.attempt = 0
        self.session_present = bool(flags.session_present)
        self.connected_since = time.monotonic()
        with self.ack_lock:
            self.generation += 1
            self.connected.set()
        if self.primary:
            owner = self.owner
            # one SUBSCRIBE per filter, each with its own subscription identifier (index + 1): a topic that
            # matches two filters comes twice, and _on_message keeps only the copy of its canonical filter
            filters = owner.pipeline.subscriptions()
            for i, f in enumerate(filters):
                props = Properties(PacketTypes.SUBSCRIBE)
                props.SubscriptionIdentifier = i + 1
                client.subscribe([(owner.share(f), mqtt.SubscribeOptions(qos=1))], properties=props)
            topics = list(filters)
            if owner.mqtt_settings.share_group and owner.mqtt_settings.takeover:
                client.subscribe([(f"{STATUS_PREFIX}+/status", mqtt.SubscribeOptions(qos=0))])
                topics.append(f"{STATUS_PREFIX}+/status")
            client.publish(owner.status_topic(self.client_id), b"online", qos=1, retain=True,
                           properties=owner.status_properties())
            log.info("connected to %s as %s, session present: %s, subscribed to %d filters", owner.endpoint.url,
                     self.client_id, self.session_present, len(topics))
        else:
            log.warning("took over the session of %s (session present: %s)", self.client_id, self.session_present)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None):  # noqa: ANN001
        refused = [str(rc) for rc in reason_codes if rc.is_failure]
        if refused:
            self.owner._set_fatal(MqttError(f"the broker refused our subscriptions: {', '.join(refused)}",
                                            hint="check the collector account's ACL (it needs `topic read #`)"))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):  # noqa: ANN001
        with self.ack_lock:
            self.connected.clear()
            self.generation += 1  # acks of that connection are void from now on
        if self.closing:
            return
        if not self.primary:
            # the peer came back (it took its session over) or another collector did: stop here
            log.info("session of %s released (%s)", self.client_id, reason_code)
            self.closing = True
            client.disconnect()  # stops paho's reconnect loop
            self.finished.set()
            return
        self.owner.stats.reconnections += 1
        log.warning("MQTT connection lost (%s); reconnecting with backoff", reason_code)

    def _on_message(self, client, userdata, message):  # noqa: ANN001
        self.last_message = time.monotonic()
        self.owner._on_message(self, message)

    # ---- called from other threads ----
    def ack(self, token: _Ack) -> bool:
        """Send the PUBACK if its connection is still the current one; False when dropped."""
        with self.ack_lock:
            self.unacked -= 1
            if token.generation != self.generation or not self.connected.is_set():
                return False
            self.client.ack(token.mid, token.qos)
            return True

    def connect(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.owner.mqtt_settings.session_expiry_s
        props.ReceiveMaximum = self.owner.mqtt_settings.receive_maximum
        self.client.connect(self.owner.endpoint.host, self.owner.endpoint.port,
                            keepalive=self.owner.mqtt_settings.keepalive_s, clean_start=False, properties=props)
        self.client.loop_start()

    def drop_connection(self) -> None:
        """Shut the socket down under paho's feet: paho sees a lost connection and reconnects."""
        sock = self.client.socket()
        if sock is None:
            return
        try:
            dup = socket.fromfd(sock.fileno(), socket.AF_INET, socket.SOCK_STREAM)
            try:
                dup.shutdown(socket.SHUT_RDWR)
            finally:
                dup.close()
        except OSError as err:
            log.warning("could not drop the connection of %s: %s", self.client_id, err)

    def retire(self) -> None:
        """End a taken-over session for good (session expiry 0 on DISCONNECT)."""
        self.closing = True
        props = Properties(PacketTypes.DISCONNECT)
        props.SessionExpiryInterval = 0
        self.client.disconnect(properties=props)

    def close(self) -> None:
        self.closing = True
        self.client.disconnect()
        self.client.loop_stop()


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
        self.spool: Spool | None = None
        silence = settings.watchdog_silence_s
        if silence is None:
            silence = expected_silence_s(d.interval_s for d in pipeline.registry.devices)
        self.watchdog = Watchdog(silence)
        self._lock = threading.Condition()  # guards the buffer below
        self._lines: list[str] = []
        self._acks: list[_Ack] = []
        self._readings = 0
        self._oldest = 0.0
        self._receipts: dict[int, int] = {}  # hash(topic, payload) -> first receipt [ns], bounded
        self._receipts_max = 4 * mqtt_settings.receive_maximum
        self._stats_lock = threading.Lock()
        self._influx_lock = threading.Lock()
        self._space = threading.Condition()  # the replayer freed spool space
        self._replay_wake = threading.Event()
        self._stop = threading.Event()  # run_forever: stop requested (signal or fatal)
        self._halt = threading.Event()  # stop() under way: no more intake, no more waits
        self._writer_stop = threading.Event()
        self._abandon = threading.Event()
        self._replay_stop = threading.Event()
        self._intake = True
        self._holding = False  # the spool is full and a batch waits, unacknowledged
        self._influx_down = False
        self._fatal: BaseException | None = None
        self._peers: dict[str, str] = {}
        self._takeovers: dict[str, _Session] = {}
        self._takeover_queue: list[str] = []
        self._session = _Session(self, self.client_id, primary=True)
        self._flush_at = max(1, min(settings.batch_size, mqtt_settings.receive_maximum // 2))
        self._writer = threading.Thread(target=self._write_loop, name="terril-writer", daemon=True)
        self._replayer = threading.Thread(target=self._replay_loop, name="terril-replayer", daemon=True)
        self._keeper = threading.Thread(target=self._housekeeping, name="terril-watchdog", daemon=True)
        self._metrics: MetricsServer | None = None
        self.metrics_port: int | None = None
        self._qlog = QuarantineLog(log)  # one line per device and reason per minute
        self._watcher: "RegistryWatcher | None" = None

    # ---- topics ----
    def share(self, topic_filter: str) -> str:
        group = self.mqtt_settings.share_group
        return f"$share/{group}/{topic_filter}" if group else topic_filter

    @staticmethod
    def status_topic(client_id: str) -> str:
        return f"{STATUS_PREFIX}{client_id}/status"

    def status_properties(self) -> Properties:
        props = Properties(PacketTypes.PUBLISH)
        if self.mqtt_settings.share_group:
            props.UserProperty = ("share_group", self.mqtt_settings.share_group)
        return props

    # ---- intake (network threads) ----
    def _on_message(self, session: _Session, message: mqtt.MQTTMessage) -> None:
        if not self._intake:
            return  # not acknowledged: the broker redelivers it to the next session
        topic, payload = message.topic, message.payload
        if topic.startswith(STATUS_PREFIX) and session.primary:
            self._on_peer_status(topic, payload, message.properties)
        sub_ids = getattr(message.properties, "SubscriptionIdentifier", None) if message.properties else None
        if sub_ids:
            canon = canonical_filter(topic)
            if canon is not None and canon + 1 not in sub_ids:
                self._ack_only(session, message)  # another copy, through the canonical filter, is the one stored
                return
        received = self.clock_ns()
        key = hash((topic, payload))
        with self._stats_lock:
            self.stats.messages_received += 1
            first = self._receipts.get(key) if message.dup else None
            if first is not None:
                received = first  # a redelivery: same receive time, so the same points
            elif key not in self._receipts:
                self._receipts[key] = received
                if len(self._receipts) > self._receipts_max:
                    del self._receipts[next(iter(self._receipts))]
        points: tuple[Point, ...]
        readings = 0
        try:
            outcome = self.pipeline.process(topic, payload, received)
        except Exception as err:  # a decoder bug must not stop the loop: quarantine with its class
            rej = Rejection("internal_error", f"{type(err).__name__}", topic, payload, received)
            self._qlog.note(rej, exc_info=True)  # rate-limited: one device must not flood the log
            points = (rejection_point(rej, self.settings.quarantine_payload_bytes, self._qlog.keep_raw(rej)),)
            self._count_quarantined("internal_error")
        else:
            if outcome.rejection is not None:
                self._qlog.note(outcome.rejection)
                self._count_quarantined(outcome.rejection.reason)
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
        with self._lock:
            self.stats.readings_decoded += readings
            if not self._lines and not self._acks:
                self._oldest = time.monotonic()
            self._lines.extend(lines)
            self._readings += readings
            if message.qos > 0:
                with session.ack_lock:
                    session.unacked += 1
                    self._acks.append(_Ack(session, session.generation, message.mid, message.qos))
            if len(self._lines) >= self.settings.batch_size or len(self._acks) >= self._flush_at:
                self._lock.notify()

    def _ack_only(self, session: _Session, message: mqtt.MQTTMessage) -> None:
        """Acknowledge a duplicate copy in order with the others, storing nothing for it."""
        with self._lock:
            self.stats.duplicate_copies += 1
            if message.qos > 0:
                if not self._lines and not self._acks:
                    self._oldest = time.monotonic()
                with session.ack_lock:
                    session.unacked += 1
                    self._acks.append(_Ack(session, session.generation, message.mid, message.qos))

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
        with self._stats_lock:
            self.stats.registry_reloads += 1

    def watch_registry(self, path: str | os.PathLike[str], *, interval_s: float = 1.0,
                       on_devices_changed=None) -> "RegistryWatcher":  # noqa: ANN001
        """Reload the registry from ``path`` when it changes or on SIGHUP (see :mod:`collector.reload`)."""
        from collector.reload import RegistryWatcher

        self._watcher = RegistryWatcher(path, self.pipeline.registry, self.use_registry,
                                        on_devices_changed=on_devices_changed, interval_s=interval_s)
        return self._watcher

    def _count_quarantined(self, reason: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats.quarantined[reason] += n

    # ---- writer thread: direct write, else spool, else hold ----
    def _take(self) -> _Batch | None:
        with self._lock:
            while not (self._lines or self._acks):
                if self._writer_stop.is_set():
                    return None
                self._lock.wait(0.2)
            deadline = self._oldest + self.settings.flush_interval_s
            while (len(self._lines) < self.settings.batch_size and len(self._acks) < self._flush_at
                   and time.monotonic() < deadline and not self._writer_stop.is_set()):
                self._lock.wait(max(0.0, deadline - time.monotonic()))
            batch = _Batch(self._lines, self._acks, self._readings)
            self._lines, self._acks, self._readings = [], [], 0
            return batch

    def _write_loop(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            try:
                stored = self._store(batch)
            except Exception:  # never a dead writer: log, keep the batch unacknowledged, go on
                log.exception("unexpected error storing a batch; its messages stay with the broker")
                stored = False
                time.sleep(0.5)
            if stored:
                self._ack(batch.acks)
            if self._abandon.is_set() or self._fatal is not None:
                return

    def _store(self, batch: _Batch) -> bool:
        """Store a batch durably (InfluxDB, else the spool); False when it could not be (not acknowledged)."""
        assert self.spool is not None
        while True:
            if self._abandon.is_set() or self._fatal is not None:
                return False
            if self.spool.is_empty():
                try:
                    result = self._write(batch.lines)
                except RetryLater as err:
                    with self._stats_lock:
                        self.stats.write_retries += 1
                    self._note_influx_down(err)
                except InfluxAuthError as err:
                    self._set_fatal(err)
                    return False
                else:
                    self._account(result)
                    self._holding = False
                    return True
            try:
                self.spool.append(batch.lines, batch.readings)
            except (SpoolFull, OSError) as err:
                if not self._holding:
                    self.stats.spool_full += 1
                    log.error("spool full (%s): no longer acknowledging; the broker keeps the messages until "
                              "InfluxDB takes the backlog", err)
                    self._holding = True
                with self._space:
                    self._space.wait(0.5)
                continue
            if self._holding:
                log.warning("spool has room again: acknowledging resumes")
            self._holding = False
            self.stats.points_spooled += len(batch.lines)
            self._replay_wake.set()
            return True

    def _write(self, lines: list[str]) -> WriteResult:
        with self._influx_lock:
            return write_batch(self.influx, lines)

    def _account(self, result: WriteResult, replayed: bool = False) -> None:
        if result.rejected:
            self._quarantine_rejected(result.rejected)
        with self._stats_lock:  # the writer and the replayer both account
            self.stats.points_written += result.written
            if replayed:
                self.stats.points_replayed += result.written
            self.stats.write_batches += 1
            self.stats.observe_latency(result.latency_s)

    def _note_influx_down(self, err: RetryLater) -> None:
        if not self._influx_down:
            self._influx_down = True
            log.warning("InfluxDB unavailable (%s): spooling to %s", err, self.spool_dir)

    def _ack(self, acks: list[_Ack]) -> None:
        sent = dropped = 0
        for token in acks:
            if token.session.ack(token):
                sent += 1
            else:
                dropped += 1
        self.stats.messages_acked += sent
        self.stats.acks_dropped += dropped

    def _quarantine_rejected(self, rejected: tuple[tuple[str, str], ...]) -> None:
        lines = []
        for line, why in rejected:
            rej = Rejection("write_rejected", why, "(line protocol)", line.encode(), self.clock_ns())
            self._qlog.note(rej)
            lines.append(format_point(rejection_point(rej, self.settings.quarantine_payload_bytes)))
        self._count_quarantined("write_rejected", len(rejected))
        try:
            self._write(lines)
        except (RetryLater, TerrilError):
            try:
                assert self.spool is not None
                self.spool.append(lines, 0)
            except (SpoolFull, OSError):
                log.error("could not record %d rejected lines in quarantine", len(lines))

    # ---- replayer thread: the spool back into InfluxDB, in order ----
    def _replay_loop(self) -> None:
        assert self.spool is not None
        attempt = 0
        while not self._replay_stop.is_set():
            chunk = self.spool.read(self.settings.batch_size)
            if chunk is None:
                self._replay_wake.wait(0.5)
                self._replay_wake.clear()
                continue
            try:
                result = self._write(chunk.lines)
            except RetryLater as err:
                with self._stats_lock:
                    self.stats.write_retries += 1
                self._note_influx_down(err)
                delay = max(min(err.delay_s, 60.0),
                            backoff_s(attempt, 0.25, self.settings.retry_max_s, self.rng))
                attempt += 1
                self._replay_stop.wait(delay)
                continue
            except InfluxAuthError as err:
                self._set_fatal(err)
                return
            except Exception:
                log.exception("unexpected error replaying the spool; retrying")
                self._replay_stop.wait(1.0)
                continue
            if self._influx_down:
                self._influx_down = False
                st = self.spool.stats()
                log.warning("InfluxDB is back: replaying the spool (%d points waiting)", st.lines)
            attempt = 0
            self._account(result, replayed=True)
            self.spool.commit(chunk)
            with self._space:
                self._space.notify_all()

    # ---- housekeeping thread: watchdog, takeovers ----
    def _housekeeping(self) -> None:
        while not self._halt.wait(0.2):
            now = time.monotonic()
            s = self._session
            if self.watchdog.is_stalled(now, s.connected.is_set(), s.connected_since, s.last_message):
                log.warning("connected but silent for %.0f s while devices should speak: reconnecting",
                            now - max(s.connected_since, s.last_message))
                self.stats.watchdog_recoveries += 1
                s.connected_since = now  # judge again only after a full period
                s.drop_connection()
            self._manage_takeovers(now)

    def _on_peer_status(self, topic: str, payload: bytes, properties: Properties | None) -> None:
        parts = topic.split("/")
        if len(parts) != 4 or parts[3] != "status" or not self.mqtt_settings.share_group:
            return
        peer = parts[2]
        group = dict(getattr(properties, "UserProperty", None) or []).get("share_group")
        if peer == self.client_id or group != self.mqtt_settings.share_group or peer in self._takeovers:
            return
        state = payload.decode("utf-8", "replace")
        with self._stats_lock:
            self._peers[peer] = state
            if state == "offline" and self.mqtt_settings.takeover:
                online = sorted([p for p, s in self._peers.items() if s == "online"] + [self.client_id])
                if online[0] == self.client_id:  # the first live member by id takes over
                    self._takeover_queue.append(peer)

    def _manage_takeovers(self, now: float) -> None:
        with self._stats_lock:
            queue, self._takeover_queue = self._takeover_queue, []
        for peer in queue:
            if peer in self._takeovers or self._halt.is_set():
                continue
            session = _Session(self, peer, primary=False)
            try:
                session.connect()
            except OSError as err:
                log.warning("could not take over the session of %s: %s", peer, err)
                continue
            self._takeovers[peer] = session
            self.stats.takeovers += 1
        for peer, session in list(self._takeovers.items()):
            if session.finished.is_set():
                session.client.loop_stop()
                del self._takeovers[peer]
                continue
            if not session.connected.is_set():
                continue
            quiet = now - max(session.last_message, session.connected_since) > TAKEOVER_QUIET_S
            if not session.session_present:
                self._retire(peer, session)
            elif quiet and session.unacked == 0:
                if not session.unsubscribed:  # no new messages for it, then let the in-flight ones arrive
                    session.client.unsubscribe([self.share(f) for f in self.pipeline.subscriptions()])
                    session.unsubscribed = True
                    session.last_message = now
                else:
                    self._retire(peer, session)

    def _retire(self, peer: str, session: _Session) -> None:
        log.warning("session of offline peer %s drained; retiring it", peer)
        session.retire()
        session.client.loop_stop()
        self._session.client.publish(self.status_topic(peer), b"", qos=1, retain=True)  # clear its retained status
        del self._takeovers[peer]
        with self._stats_lock:
            self._peers.pop(peer, None)

    # ---- lifecycle ----
    def _set_fatal(self, err: BaseException) -> None:
        if self._fatal is None:
            self._fatal = err
            log.error("stopping: %s", err)
        self._intake = False
        self._stop.set()

    def start(self) -> None:
        """Open the spool, connect, and start the network, writer, replayer and watchdog threads."""
        self.spool = Spool(self.spool_dir, self.settings.spool_max_bytes, self.settings.spool_segment_bytes,
                           clock_ns=self.clock_ns)
        backlog = self.spool.stats()
        if backlog.records:
            log.warning("spool %s holds %d points from before: replaying them first", self.spool_dir, backlog.lines)
        try:
            self._session.connect()
        except OSError as err:
            self.spool.close()
            raise MqttError(f"cannot reach the MQTT broker at {self.endpoint.url}: {err}",
                            hint="is the broker running? `terril stack status`") from err
        self._writer.start()
        self._replayer.start()
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
        return self._session.connected.wait(timeout_s)

    def pending(self) -> int:
        """Messages received and not yet acknowledged."""
        return self._session.unacked + sum(s.unacked for s in list(self._takeovers.values()))

    def stop(self, timeout_s: float | None = None) -> None:
        """Stop taking messages, flush, acknowledge what was stored, disconnect."""
        timeout_s = self.settings.shutdown_timeout_s if timeout_s is None else timeout_s
        if self._watcher is not None:
            self._watcher.stop()
        self._intake = False
        self._writer_stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._writer.is_alive():
            self._writer.join(timeout_s)
            if self._writer.is_alive():
                log.warning("could not store the last batch in time: its messages stay unacknowledged with the broker")
                self._abandon.set()
                self._writer.join(5)
        self._halt.set()
        self._replay_stop.set()
        self._replay_wake.set()
        for t in (self._replayer, self._keeper):
            if t.is_alive():
                t.join(15)
        for peer, session in list(self._takeovers.items()):
            session.close()  # it stays a member of the group: say so, so that a peer takes it over
            self._session.client.publish(self.status_topic(peer), b"offline", qos=1, retain=True,
                                         properties=self.status_properties())
        self._takeovers.clear()
        try:
            self._session.closing = True
            self._session.client.publish(self.status_topic(self.client_id), b"offline", qos=1, retain=True,
                                         properties=self.status_properties())
            self._session.client.disconnect()
        finally:
            self._session.client.loop_stop()
            if self.spool is not None:
                self.spool.close()
            if self._metrics is not None:
                self._metrics.close()

    def snapshot(self) -> Snapshot:
        """Counters, gauges and health, for /metrics, /health and ``collector_stats``."""
        st = self.spool.stats() if self.spool is not None else None
        connected = self._session.connected.is_set()
        spooling = st is not None and st.records > 0
        healthy = (connected and self._fatal is None and not self._holding and self._writer.is_alive())
        gauges = {
            "acks_pending": float(self.pending()),
            "spool_depth_points": float(st.lines if st else 0),
            "spool_depth_readings": float(st.readings if st else 0),
            "spool_bytes": float(st.bytes_on_disk if st else 0),
            "spool_oldest_age_seconds": st.oldest_age_s(self.clock_ns()) if st else 0.0,
            "connected": 1.0 if connected else 0.0,
        }
        with self._stats_lock:
            quarantined = dict(self.stats.quarantined)
        state = {"connected": connected, "spooling": spooling, "spool_full": self._holding,
                 "fatal": str(self._fatal) if self._fatal else None}
        return Snapshot(self.stats.counters(), quarantined, gauges, tuple(self.stats.latency_counts),
                        self.stats.latency_sum_s, healthy, state)

    def write_stats(self) -> None:
        """Write the counters to InfluxDB (``collector_stats``); skipped while InfluxDB is down."""
        snap = self.snapshot()
        fields: dict[str, float | int | bool | str] = dict(self.stats.as_fields())
        fields.update({k: int(v) if k != "spool_oldest_age_seconds" else round(v, 3)
                       for k, v in snap.gauges.items() if k != "connected"})
        for reason, n in snap.quarantined.items():
            fields[f"quarantined_{reason}"] = n
        point = Point(STATS_MEASUREMENT, {"collector": self.client_id}, fields, self.clock_ns())
        try:
            self._write([format_point(point)])
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
