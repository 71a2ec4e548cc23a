"""The collector's outbox: decoded lines wait here, then are stored durably, then acknowledged.

Two threads:

* the **writer** takes a batch (``batch_size`` lines, ``flush_at`` messages,
  ``flush_interval_s`` or a pause of :data:`IDLE_FLUSH_S` in the stream, whichever first),
  writes it to InfluxDB — or, while InfluxDB is down or the spool still holds a backlog,
  appends it to the spool (fsync'd) — and only then
  acknowledges its messages, in the order they came. A full spool stops the acknowledgements:
  the batch waits and the broker keeps the messages.
* the **replayer** writes the spool back into InfluxDB in order (backlog before new data)
  once InfluxDB answers.

Lines InfluxDB rejects are quarantined (``write_rejected``). What the outbox needs from its
owner is passed in: the stats to count into, the quarantine log, the clock and a callback for
fatal errors (InfluxDB refusing our credentials).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from collector.quarantine import QuarantineLog, Rejection, rejection_point
from collector.session import Ack, Session
from collector.spool import Spool, SpoolFull
from collector.stats import CollectorStats
from collector.watchdog import backoff_s
from collector.writer import RetryLater, WriteResult, write_batch
from terril.errors import InfluxAuthError, TerrilError
from terril.influx import InfluxClient
from terril.lineprotocol import format_point
from terril.settings import CollectorSettings

log = logging.getLogger("terril.collector")

#: the writer does not wait out ``flush_interval_s`` once the stream pauses this long [s]: the end of a
#: burst is stored (and acknowledged) at once; a steady stream, with messages closer together, still
#: fills its batches
IDLE_FLUSH_S = 0.05


@dataclass(slots=True)
class Batch:
    lines: list[str]
    acks: list[Ack]
    readings: int


class Outbox:
    """Buffer, writer thread and replayer thread of one collector (see the module docstring)."""

    def __init__(self, influx: InfluxClient, settings: CollectorSettings, spool_dir: Path, stats: CollectorStats, *,
                 flush_at: int, qlog: QuarantineLog, clock_ns: Callable[[], int], rng: random.Random,
                 on_fatal: Callable[[BaseException], None]) -> None:
        self.influx = influx
        self.settings = settings
        self.spool_dir = spool_dir
        self.spool: Spool | None = None
        self.stats = stats
        self._flush_at = flush_at
        self._qlog = qlog
        self._clock_ns = clock_ns
        self._rng = rng
        self._on_fatal = on_fatal
        self._lock = threading.Condition(threading.Lock())  # guards the buffer below
        self._lines: list[str] = []
        self._acks: list[Ack] = []
        self._readings = 0
        self._oldest = 0.0
        self._influx_lock = threading.Lock()
        self._space = threading.Condition()  # the replayer freed spool space
        self._replay_wake = threading.Event()
        self._writer_stop = threading.Event()
        self._abandon = threading.Event()
        self._replay_stop = threading.Event()
        self._failed = threading.Event()  # a fatal error: store nothing more
        self.holding = False  # the spool is full and a batch waits, unacknowledged
        self._influx_down = False
        self._writer = threading.Thread(target=self._write_loop, name="terril-writer", daemon=True)
        self._replayer = threading.Thread(target=self._replay_loop, name="terril-replayer", daemon=True)

    # ---- intake (network threads) ----
    def add(self, lines: list[str], readings: int, session: Session, message: mqtt.MQTTMessage) -> None:
        """Queue a message's lines, and its ack (QoS 1) after those of the messages before it."""
        with self._lock:
            self.stats.readings_decoded += readings
            if not self._lines and not self._acks:
                self._oldest = time.monotonic()
            self._lines.extend(lines)
            self._readings += readings
            if message.qos > 0:
                self._acks.append(session.token(message))
            if len(self._lines) >= self.settings.batch_size or len(self._acks) >= self._flush_at:
                self._lock.notify()

    def add_ack_only(self, session: Session, message: mqtt.MQTTMessage) -> None:
        """Acknowledge a duplicate copy in order with the others, storing nothing for it."""
        with self._lock:
            self.stats.duplicate_copies += 1
            if message.qos > 0:
                if not self._lines and not self._acks:
                    self._oldest = time.monotonic()
                self._acks.append(session.token(message))

    def buffered_lines(self) -> list[str]:
        """The lines waiting for the writer (a copy)."""
        with self._lock:
            return list(self._lines)

    # ---- lifecycle ----
    def open(self) -> None:
        """Open the spool (before connecting: a backlog is replayed first)."""
        self.spool = Spool(self.spool_dir, self.settings.spool_max_bytes, self.settings.spool_segment_bytes,
                           clock_ns=self._clock_ns)
        backlog = self.spool.stats()
        if backlog.records:
            log.warning("spool %s holds %d points from before: replaying them first", self.spool_dir, backlog.lines)

    def start(self) -> None:
        self._writer.start()
        self._replayer.start()

    def fail(self) -> None:
        """A fatal error elsewhere: store nothing more (what is not stored stays unacknowledged)."""
        self._failed.set()

    def stop_writer(self, timeout_s: float) -> None:
        """Flush what is buffered and acknowledge it; give up after ``timeout_s``."""
        self._writer_stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._writer.is_alive():
            self._writer.join(timeout_s)
            if self._writer.is_alive():
                log.warning("could not store the last batch in time: its messages stay unacknowledged with the broker")
                self._abandon.set()
                self._writer.join(5)

    def stop_replayer(self) -> None:
        self._replay_stop.set()
        self._replay_wake.set()
        if self._replayer.is_alive():
            self._replayer.join(15)

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()

    def writer_alive(self) -> bool:
        return self._writer.is_alive()

    # ---- writer thread: direct write, else spool, else hold ----
    def _take(self) -> Batch | None:
        with self._lock:
            while not (self._lines or self._acks):
                if self._writer_stop.is_set():
                    return None
                self._lock.wait(0.2)
            deadline = self._oldest + self.settings.flush_interval_s
            while (len(self._lines) < self.settings.batch_size and len(self._acks) < self._flush_at
                   and time.monotonic() < deadline and not self._writer_stop.is_set()):
                held = len(self._lines) + len(self._acks)
                self._lock.wait(max(0.0, min(IDLE_FLUSH_S, deadline - time.monotonic())))
                if len(self._lines) + len(self._acks) == held:
                    break  # nothing came for IDLE_FLUSH_S: the stream paused, write what there is now
            batch = Batch(self._lines, self._acks, self._readings)
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
            if self._abandon.is_set() or self._failed.is_set():
                return

    def _store(self, batch: Batch) -> bool:
        """Store a batch durably (InfluxDB, else the spool); False when it could not be (not acknowledged)."""
        assert self.spool is not None
        while True:
            if self._abandon.is_set() or self._failed.is_set():
                return False
            if self.spool.is_empty():
                try:
                    result = self.write(batch.lines)
                except RetryLater as err:
                    with self.stats.lock:
                        self.stats.write_retries += 1
                    self._note_influx_down(err)
                except InfluxAuthError as err:
                    self._on_fatal(err)
                    return False
                else:
                    self._account(result)
                    self.holding = False
                    return True
            try:
                self.spool.append(batch.lines, batch.readings)
            except (SpoolFull, OSError) as err:
                if not self.holding:
                    self.stats.spool_full += 1
                    log.error("spool full (%s): no longer acknowledging; the broker keeps the messages until "
                              "InfluxDB takes the backlog", err)
                    self.holding = True
                with self._space:
                    self._space.wait(0.5)
                continue
            if self.holding:
                log.warning("spool has room again: acknowledging resumes")
            self.holding = False
            self.stats.points_spooled += len(batch.lines)
            self._replay_wake.set()
            return True

    def write(self, lines: list[str]) -> WriteResult:
        """Write ``lines`` to InfluxDB now (one writer at a time). Raises RetryLater, InfluxAuthError, TerrilError."""
        with self._influx_lock:
            return write_batch(self.influx, lines)

    def _account(self, result: WriteResult, replayed: bool = False) -> None:
        if result.rejected:
            self._quarantine_rejected(result.rejected)
        with self.stats.lock:  # the writer and the replayer both account
            self.stats.points_written += result.written
            if replayed:
                self.stats.points_replayed += result.written
            self.stats.write_batches += 1
            self.stats.observe_latency(result.latency_s)

    def _note_influx_down(self, err: RetryLater) -> None:
        if not self._influx_down:
            self._influx_down = True
            log.warning("InfluxDB unavailable (%s): spooling to %s", err, self.spool_dir)

    def _ack(self, acks: list[Ack]) -> None:
        """Acknowledge in order, each run of one session's acks under one hold of its lock."""
        sent = 0
        start = 0
        for i in range(1, len(acks) + 1):
            if i == len(acks) or acks[i].session is not acks[start].session:
                sent += acks[start].session.ack_many(acks[start:i])
                start = i
        self.stats.messages_acked += sent
        self.stats.acks_dropped += len(acks) - sent

    def _quarantine_rejected(self, rejected: tuple[tuple[str, str], ...]) -> None:
        lines = []
        for line, why in rejected:
            rej = Rejection("write_rejected", why, "(line protocol)", line.encode(), self._clock_ns())
            self._qlog.note(rej)
            lines.append(format_point(rejection_point(rej, self.settings.quarantine_payload_bytes)))
        self.stats.count_quarantined("write_rejected", len(rejected))
        try:
            self.write(lines)
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
                result = self.write(chunk.lines)
            except RetryLater as err:
                with self.stats.lock:
                    self.stats.write_retries += 1
                self._note_influx_down(err)
                delay = max(min(err.delay_s, 60.0),
                            backoff_s(attempt, 0.25, self.settings.retry_max_s, self._rng))
                attempt += 1
                self._replay_stop.wait(delay)
                continue
            except InfluxAuthError as err:
                self._on_fatal(err)
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
