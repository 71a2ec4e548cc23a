"""The collector service: MQTT (QoS 1, persistent session, manual acks) -> pipeline -> InfluxDB.

A message is acknowledged to the broker only once its points (or its quarantine
record) have been accepted by InfluxDB, so a crash loses nothing: the broker
redelivers what was not acknowledged, and the fixed timestamps make the replay
overwrite the same points. The loop never dies on a bad message.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.mapping import Pipeline
from collector.quarantine import Rejection, rejection_point
from collector.writer import RetryLater, write_batch
from terril.endpoints import MqttEndpoint, make_mqtt_client
from terril.errors import InfluxAuthError, MqttError, TerrilError
from terril.influx import InfluxClient
from terril.lineprotocol import LineProtocolError, format_point
from terril.readings import Point
from terril.settings import CollectorSettings, MqttSettings
from terril.timeutil import now_ns

log = logging.getLogger("terril.collector")

STATS_MEASUREMENT = "collector_stats"


@dataclass
class CollectorStats:
    """Counters of one collector process (also exported as metrics)."""

    messages_received: int = 0
    readings_decoded: int = 0
    points_written: int = 0
    messages_acked: int = 0
    write_batches: int = 0
    write_retries: int = 0
    reconnections: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    last_write_latency_s: float = 0.0

    def as_fields(self) -> dict[str, int | float]:
        return {
            "messages_received": self.messages_received,
            "readings_decoded": self.readings_decoded,
            "points_written": self.points_written,
            "messages_acked": self.messages_acked,
            "write_batches": self.write_batches,
            "write_retries": self.write_retries,
            "reconnections": self.reconnections,
            "quarantined": sum(self.quarantined.values()),
            "write_latency_ms": round(self.last_write_latency_s * 1000, 3),
        }


class Collector:
    """One collector: subscribe, decode, batch, write, acknowledge."""

    def __init__(self, pipeline: Pipeline, endpoint: MqttEndpoint, influx: InfluxClient,
                 mqtt_settings: MqttSettings, settings: CollectorSettings) -> None:
        self.pipeline = pipeline
        self.endpoint = endpoint
        self.influx = influx
        self.mqtt_settings = mqtt_settings
        self.settings = settings
        self.stats = CollectorStats()
        self.client_id = mqtt_settings.client_id
        self._lock = threading.Condition()
        self._lines: list[str] = []
        self._acks: list[tuple[int, int]] = []  # (mid, qos) of messages whose lines are pending
        self._oldest = 0.0
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self._stopping = False
        self._fatal: BaseException | None = None
        self._connected = threading.Event()
        self._client = make_mqtt_client(endpoint, self.client_id, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.max_queued_messages_set(0)
        self._status_topic = f"terril/_collector/{self.client_id}/status"
        self._client.will_set(self._status_topic, b"offline", qos=1, retain=True)
        self._flush_at = max(1, min(settings.batch_size, mqtt_settings.receive_maximum // 2))
        self._writer = threading.Thread(target=self._write_loop, name="terril-writer", daemon=True)

    # ---- MQTT callbacks (paho network thread) ----
    def _on_connect(self, client, userdata, flags, reason_code, properties=None):  # noqa: ANN001
        if reason_code.is_failure:
            log.error("MQTT connection refused: %s", reason_code)
            if reason_code.value in (134, 135):  # bad user name or password, not authorized
                self._fatal = MqttError(f"the broker refused our credentials ({reason_code})",
                                        hint="check TERRIL_MQTT__USERNAME and the password file")
                self._stop.set()
            return
        if self._connected.is_set() or self.stats.reconnections or flags.session_present:
            pass
        topics = [(self._share(f), mqtt.SubscribeOptions(qos=1)) for f in self.pipeline.subscriptions()]
        client.subscribe(topics)
        client.publish(self._status_topic, b"online", qos=1, retain=True)
        self._connected.set()
        log.info("connected to %s, session present: %s, subscribed to %d filters", self.endpoint.url,
                 flags.session_present, len(topics))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):  # noqa: ANN001
        if not self._stopping:
            self.stats.reconnections += 1
            log.warning("MQTT connection lost (%s); paho reconnects with backoff", reason_code)
        self._connected.clear()

    def _share(self, topic_filter: str) -> str:
        group = self.mqtt_settings.share_group
        return f"$share/{group}/{topic_filter}" if group else topic_filter

    def _on_message(self, client, userdata, message):  # noqa: ANN001
        received = now_ns()
        if self._stopping:
            return  # not acknowledged: the broker redelivers it to the next session
        self.stats.messages_received += 1
        try:
            outcome = self.pipeline.process(message.topic, message.payload, received)
        except Exception as err:  # a decoder bug must not stop the loop: quarantine with its class
            log.exception("internal error decoding a message on %.80s", message.topic)
            outcome = None
            rej = Rejection("internal_error", f"{type(err).__name__}", message.topic, message.payload, received)
            points: tuple[Point, ...] = (rejection_point(rej, self.settings.quarantine_payload_bytes),)
            self.stats.quarantined["internal_error"] += 1
        if outcome is not None:
            if outcome.rejection is not None:
                self.stats.quarantined[outcome.rejection.reason] += 1
                points = (rejection_point(outcome.rejection, self.settings.quarantine_payload_bytes),)
            else:
                points = outcome.points
                self.stats.readings_decoded += outcome.readings
        lines = []
        for p in points:
            try:
                lines.append(format_point(p))
            except LineProtocolError as err:
                log.warning("point dropped from %.80s: %s", message.topic, err)
        with self._lock:
            if not self._lines and not self._acks:
                self._oldest = time.monotonic()
            self._lines.extend(lines)
            if message.qos > 0:
                self._acks.append((message.mid, message.qos))
            if len(self._lines) >= self.settings.batch_size or len(self._acks) >= self._flush_at:
                self._lock.notify()

    # ---- writer thread ----
    def _take(self) -> tuple[list[str], list[tuple[int, int]]]:
        with self._lock:
            while not (self._lines or self._acks):
                if self._stop.is_set():
                    return [], []
                self._lock.wait(0.2)
            deadline = self._oldest + self.settings.flush_interval_s
            while (len(self._lines) < self.settings.batch_size and len(self._acks) < self._flush_at
                   and time.monotonic() < deadline and not self._stop.is_set()):
                self._lock.wait(max(0.0, deadline - time.monotonic()))
            lines, acks = self._lines, self._acks
            self._lines, self._acks = [], []
            return lines, acks

    def _write_loop(self) -> None:
        delay = 0.5
        while True:
            lines, acks = self._take()
            if not lines and not acks:
                if self._stop.is_set():
                    return
                continue
            while True:
                try:
                    result = write_batch(self.influx, lines)
                    break
                except RetryLater as err:
                    self.stats.write_retries += 1
                    wait = max(err.delay_s, delay)
                    log.warning("InfluxDB unavailable, retrying in %.1f s: %s", wait, err)
                    end = time.monotonic() + wait
                    while time.monotonic() < end:
                        if self._abandon.is_set():
                            return  # unacknowledged messages stay with the broker
                        time.sleep(min(0.1, wait))
                    delay = min(delay * 2, 30.0)
                except InfluxAuthError as err:
                    self._fatal = err
                    self._stop.set()
                    return
            delay = 0.5
            if result.rejected:
                self._quarantine_rejected(result.rejected)
            self.stats.points_written += result.written
            self.stats.write_batches += 1
            self.stats.last_write_latency_s = result.latency_s
            for mid, qos in acks:
                self._client.ack(mid, qos)
            self.stats.messages_acked += len(acks)

    def _quarantine_rejected(self, rejected: tuple[tuple[str, str], ...]) -> None:
        lines = []
        for line, why in rejected:
            self.stats.quarantined["write_rejected"] += 1
            rej = Rejection("write_rejected", why, "(line protocol)", line.encode(), now_ns())
            lines.append(format_point(rejection_point(rej, self.settings.quarantine_payload_bytes)))
        try:
            write_batch(self.influx, lines)
        except RetryLater:
            log.error("could not record %d rejected lines in quarantine", len(lines))

    # ---- lifecycle ----
    def start(self) -> None:
        """Connect and start the network and writer threads (returns at once)."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.mqtt_settings.session_expiry_s
        props.ReceiveMaximum = self.mqtt_settings.receive_maximum
        try:
            self._client.connect(self.endpoint.host, self.endpoint.port, keepalive=self.mqtt_settings.keepalive_s,
                                 clean_start=False, properties=props)
        except OSError as err:
            raise MqttError(f"cannot reach the MQTT broker at {self.endpoint.url}: {err}",
                            hint="is the broker running? `terril stack status`") from err
        self._writer.start()
        self._client.loop_start()

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        return self._connected.wait(timeout_s)

    def pending(self) -> int:
        with self._lock:
            return len(self._acks)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop taking messages, flush, acknowledge what was stored, disconnect."""
        self._stopping = True
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        self._writer.join(timeout_s)
        if self._writer.is_alive():
            log.warning("InfluxDB still unavailable at shutdown: unwritten messages stay unacknowledged with the broker")
            self._abandon.set()
            self._writer.join(5)
        try:
            self._client.publish(self._status_topic, b"offline", qos=1, retain=True)
            self._client.disconnect()
        finally:
            self._client.loop_stop()

    def write_stats(self) -> None:
        """Write the collector's own counters to InfluxDB (measurement ``collector_stats``)."""
        point = Point(STATS_MEASUREMENT, {"collector": self.client_id}, dict(self.stats.as_fields()), now_ns())
        try:
            write_batch(self.influx, [format_point(point)])
        except (RetryLater, TerrilError):
            pass

    def run_forever(self, stats_every_s: float = 10.0) -> None:
        """Run until SIGTERM/SIGINT or a fatal error; then stop gracefully. Raises the fatal error, if any."""
        def handler(signum, frame):  # noqa: ANN001
            log.info("signal %s: stopping", signum)
            self._stop.set()

        old_term = signal.signal(signal.SIGTERM, handler)
        old_int = signal.signal(signal.SIGINT, handler)
        try:
            self.start()
            while not self._stop.wait(stats_every_s):
                self.write_stats()
        finally:
            self.stop()
            signal.signal(signal.SIGTERM, old_term)
            signal.signal(signal.SIGINT, old_int)
        if self._fatal is not None:
            raise self._fatal

    @property
    def fatal(self) -> BaseException | None:
        return self._fatal
