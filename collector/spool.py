"""The durable local spool: line-protocol batches kept on disk while InfluxDB cannot take them.

The collector acknowledges an MQTT message once its points are either accepted by
InfluxDB or *committed here* (written and ``fsync``'d), so the spool must survive a crash
and never hold a half-written batch as if it were whole. Written for Terril because no
well-kept Python library does an fsync'd, checksummed, size-bounded spool of line-protocol
batches (Telegraf's disk buffer is Go and internal to Telegraf; the generic Python queues
are SQLite-backed, keep no batch checksums and have no quota policy).

Layout of one spool folder (``<data_dir>/spool/<client_id>/``)::

    seg-000000000001.tsp   append-only segments of records
    seg-000000000002.tsp
    committed              "<segment seq> <byte offset>": the first record not yet replayed
    lock                   flock()ed by the one process that owns the spool

A record is a 28-byte header then its payload::

    magic b"TSB1" | payload length u32 | CRC-32 of payload u32 | lines u32 | readings u32 | spooled_ns u64

(little-endian), the payload being the batch's line protocol, UTF-8, lines joined by ``\\n``.

* ``append`` writes header and payload with one ``write`` and ``fsync``s the segment (and the
  folder when it created the segment) before it returns: only then may the caller acknowledge.
* ``read``/``commit``: the replayer reads records from the committed position, writes them to
  InfluxDB, then commits the position after them (atomic rename, not fsync'd: losing a commit
  only replays batches again, which overwrite the same points). Fully replayed segments are
  deleted; an empty spool has no segment file.
* On opening, every record after the committed position is checked (length, CRC); a torn
  record at the end of the last segment (a crash during ``append``, never acknowledged) is
  truncated away. A damaged record elsewhere (disk corruption) ends that segment: the rest of
  the segment is renamed ``*.corrupt`` and counted, the spool goes on with the next segment.
* The spool is bounded by ``max_bytes`` (segment files on disk): ``append`` raises
  :class:`SpoolFull` rather than dropping anything; the collector then stops acknowledging,
  so the broker keeps the messages.

Memory stays bounded whatever the depth: only counters and file positions are kept.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from terril.errors import SpoolError, SpoolFull

log = logging.getLogger("terril.spool")

MAGIC = b"TSB1"
HEADER = struct.Struct("<4sIIIIQ")
HEADER_BYTES = HEADER.size  # 28
MAX_PAYLOAD_BYTES = 256 * 1024 * 1024
_SEGMENT_RE = re.compile(r"^seg-(\d{12})\.tsp$")


@dataclass(frozen=True, slots=True)
class Position:
    """A place in the spool: segment sequence number and byte offset in it."""

    seq: int
    offset: int


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive records read from the committed position, to replay then commit."""

    lines: list[str]
    readings: int
    records: int
    payload_bytes: int
    first_spooled_ns: int
    end: Position


@dataclass(frozen=True, slots=True)
class SpoolStats:
    """Depth of the spool: records, lines and readings waiting, bytes on disk, oldest age."""

    records: int
    lines: int
    readings: int
    bytes_on_disk: int
    max_bytes: int
    segments: int
    oldest_spooled_ns: int | None
    corrupt_records: int

    def oldest_age_s(self, now_ns: int) -> float:
        """Age of the oldest waiting batch [s] (0 when empty)."""
        return 0.0 if self.oldest_spooled_ns is None else max(0.0, (now_ns - self.oldest_spooled_ns) / 1e9)


def _segment_name(seq: int) -> str:
    return f"seg-{seq:012d}.tsp"


def _list_segments(directory: Path) -> list[int]:
    seqs = []
    for entry in os.listdir(directory):
        m = _SEGMENT_RE.match(entry)
        if m:
            seqs.append(int(m.group(1)))
    return sorted(seqs)


def _read_committed(directory: Path) -> Position | None:
    try:
        seq, offset = (directory / "committed").read_text(encoding="ascii").split()
        return Position(int(seq), int(offset))
    except (OSError, ValueError):
        return None


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _scan_segment(path: Path, start: int) -> tuple[int, int, int, int, int | None, bool]:
    """Check the records of one segment from ``start``.

    Returns (records, lines, readings, end offset of the last good record, first spooled_ns,
    damaged) where ``damaged`` says a bad record (or trailing bytes) follows the end offset.
    """
    records = lines = readings = 0
    first_ns: int | None = None
    size = path.stat().st_size
    offset = start
    with open(path, "rb") as f:
        f.seek(start)
        while offset < size:
            head = f.read(HEADER_BYTES)
            if len(head) < HEADER_BYTES:
                return records, lines, readings, offset, first_ns, True
            magic, length, crc, n_lines, n_readings, spooled_ns = HEADER.unpack(head)
            if magic != MAGIC or length > MAX_PAYLOAD_BYTES:
                return records, lines, readings, offset, first_ns, True
            payload = f.read(length)
            if len(payload) < length or zlib.crc32(payload) != crc:
                return records, lines, readings, offset, first_ns, True
            records += 1
            lines += n_lines
            readings += n_readings
            if first_ns is None:
                first_ns = spooled_ns
            offset += HEADER_BYTES + length
    return records, lines, readings, offset, first_ns, False


class Spool:
    """An fsync'd, size-bounded spool of line-protocol batches in one folder (one owner process).

    Parameters
    ----------
    directory
        The spool folder (created if needed).
    max_bytes
        Bound on the segment files on disk. [bytes]
    segment_bytes
        A new segment is started once the current one is at least this big. [bytes]
    clock_ns
        Wall clock (UTC ns) stamped on each batch, for the age of the backlog.
    """

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int, segment_bytes: int = 16 * 1024 * 1024,
                 clock_ns=time.time_ns) -> None:  # noqa: ANN001
        self.directory = Path(directory)
        self.max_bytes = int(max_bytes)
        self.segment_bytes = max(HEADER_BYTES + 1, int(segment_bytes))
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            raise SpoolError(f"cannot use the spool folder {self.directory}: {err.strerror}") from err
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(self._lock_fd)
            raise SpoolError(f"the spool {self.directory} is in use by another process",
                             hint="one collector per client id; stop the other one first") from err
        self._tail_fd: int | None = None
        self.corrupt_records = 0
        self._recover()

    # ---- opening ----
    def _recover(self) -> None:
        seqs = _list_segments(self.directory)
        committed = _read_committed(self.directory) or Position(seqs[0] if seqs else 1, 0)
        if seqs and committed.seq < seqs[0]:
            committed = Position(seqs[0], 0)
        for seq in [s for s in seqs if s < committed.seq]:  # replayed before a crash: remove
            (self.directory / _segment_name(seq)).unlink(missing_ok=True)
        seqs = [s for s in seqs if s >= committed.seq]
        self._records = self._lines = self._readings = 0
        self._sizes: dict[int, int] = {}
        for i, seq in enumerate(seqs):
            path = self.directory / _segment_name(seq)
            start = min(committed.offset if seq == committed.seq else 0, path.stat().st_size)
            records, lines, readings, end, _first, damaged = _scan_segment(path, start)
            if damaged and i == len(seqs) - 1:
                log.warning("spool %s: truncating a torn record at the end of %s (a crash during a write: "
                            "that batch was never acknowledged)", self.directory, path.name)
                with open(path, "r+b") as f:
                    f.truncate(end)
                    os.fsync(f.fileno())
            elif damaged:
                self._quarantine_tail(path, end)
            self._records += records
            self._lines += lines
            self._readings += readings
            self._sizes[seq] = end
        if seqs:
            self._head = committed if committed.seq == seqs[0] else Position(seqs[0], 0)
            self._tail = Position(seqs[-1], self._sizes[seqs[-1]])
        else:
            self._head = self._tail = committed
        if self._records == 0:
            self._reset_empty()

    def _quarantine_tail(self, path: Path, end: int) -> None:
        """Move the damaged rest of a segment aside (``*.corrupt``) and keep its good head."""
        with open(path, "rb") as f:
            f.seek(end)
            rest = f.read()
        lost = rest.count(MAGIC) or 1
        self.corrupt_records += lost
        corrupt = path.with_suffix(f".{int(time.time())}.corrupt")
        corrupt.write_bytes(rest)
        with open(path, "r+b") as f:
            f.truncate(end)
            os.fsync(f.fileno())
        log.error("spool %s: %s is damaged at byte %d; about %d batch(es) moved to %s and not replayed",
                  self.directory, path.name, end, lost, corrupt.name)

    def _reset_empty(self) -> None:
        """Nothing waits: delete every segment; the next append starts a fresh one."""
        if self._tail_fd is not None:
            os.close(self._tail_fd)
            self._tail_fd = None
        for seq in self._sizes:
            (self.directory / _segment_name(seq)).unlink(missing_ok=True)
        nxt = max([self._tail.seq, self._head.seq, *self._sizes]) + 1
        self._sizes = {}
        self._head = self._tail = Position(nxt, 0)
        self._write_committed(self._head)
        self._records = self._lines = self._readings = 0

    def _write_committed(self, pos: Position) -> None:
        tmp = self.directory / "committed.tmp"
        tmp.write_text(f"{pos.seq} {pos.offset}\n", encoding="ascii")
        os.replace(tmp, self.directory / "committed")

    # ---- writing ----
    def append(self, lines: list[str], readings: int) -> int:
        """Write one batch durably (fsync) and return its size on disk [bytes].

        Raises :class:`SpoolFull` (writing nothing) when it would exceed ``max_bytes``.
        """
        payload = "\n".join(lines).encode("utf-8")
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ValueError("batch too large for one spool record")
        record = HEADER.pack(MAGIC, len(payload), zlib.crc32(payload), len(lines), readings, self._clock_ns()) + payload
        with self._lock:
            if self.bytes_on_disk() + len(record) > self.max_bytes:
                raise SpoolFull(f"spool at {self.bytes_on_disk()} of {self.max_bytes} bytes")
            new_segment = False
            if self._tail_fd is None or self._tail.offset >= self.segment_bytes:
                if self._tail_fd is not None:
                    os.close(self._tail_fd)
                seq = self._tail.seq + 1 if self._tail.seq in self._sizes else self._tail.seq
                self._tail_fd = os.open(self.directory / _segment_name(seq), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                                        0o600)
                self._tail = Position(seq, os.fstat(self._tail_fd).st_size)
                self._sizes.setdefault(seq, self._tail.offset)
                new_segment = True
            written = os.write(self._tail_fd, record)
            if written != len(record):  # a short write on a regular file: disk full
                os.ftruncate(self._tail_fd, self._tail.offset)
                raise SpoolFull(f"short write to the spool ({written} of {len(record)} bytes): disk full?")
            os.fsync(self._tail_fd)
            if new_segment:
                _fsync_dir(self.directory)
            self._tail = Position(self._tail.seq, self._tail.offset + len(record))
            self._sizes[self._tail.seq] = self._tail.offset
            self._records += 1
            self._lines += len(lines)
            self._readings += readings
        return len(record)

    # ---- replaying ----
    def read(self, max_lines: int) -> Chunk | None:
        """Records from the committed position, at least one and up to about ``max_lines`` lines.

        Does not move the committed position: call :meth:`commit` once the chunk is stored.
        """
        with self._lock:
            head, tail = self._head, self._tail
            sizes = dict(self._sizes)
            if self._records == 0:
                return None
        lines: list[str] = []
        readings = records = payload_bytes = 0
        first_ns = 0
        pos = head
        while (pos.seq, pos.offset) < (tail.seq, tail.offset) and (not lines or len(lines) < max_lines):
            size = sizes.get(pos.seq)
            if size is None or pos.offset >= size:
                nxt = [s for s in sizes if s > pos.seq]
                if not nxt:
                    break
                pos = Position(min(nxt), 0)
                continue
            with open(self.directory / _segment_name(pos.seq), "rb") as f:
                f.seek(pos.offset)
                while pos.offset < size and (not lines or len(lines) < max_lines):
                    head_bytes = f.read(HEADER_BYTES)
                    magic, length, crc, n_lines, n_readings, spooled_ns = HEADER.unpack(head_bytes) \
                        if len(head_bytes) == HEADER_BYTES else (b"", 0, 0, 0, 0, 0)
                    payload = f.read(length) if magic == MAGIC and length <= MAX_PAYLOAD_BYTES else b""
                    if magic != MAGIC or len(payload) != length or zlib.crc32(payload) != crc:
                        log.error("spool %s: damaged record in %s at byte %d; skipping the rest of the segment",
                                  self.directory, _segment_name(pos.seq), pos.offset)
                        self.corrupt_records += 1
                        pos = Position(pos.seq, size)
                        break
                    if records == 0:
                        first_ns = spooled_ns
                    lines.extend(payload.decode("utf-8").split("\n") if payload else [])
                    readings += n_readings
                    records += 1
                    payload_bytes += length
                    pos = Position(pos.seq, pos.offset + HEADER_BYTES + length)
        if records == 0 and pos == head:
            return None
        return Chunk(lines, readings, records, payload_bytes, first_ns, pos)

    def commit(self, chunk: Chunk) -> None:
        """Mark everything before ``chunk.end`` as stored; delete fully replayed segments."""
        with self._lock:
            self._records -= chunk.records
            self._lines -= len(chunk.lines)
            self._readings -= chunk.readings
            self._head = chunk.end
            if self._records <= 0 or self._head == self._tail:
                self._reset_empty()
                return
            while self._head.seq != self._tail.seq and self._head.offset >= self._sizes.get(self._head.seq, 0):
                self._head = Position(min(s for s in self._sizes if s > self._head.seq), 0)
            for seq in [s for s in self._sizes if s < self._head.seq]:
                del self._sizes[seq]
                (self.directory / _segment_name(seq)).unlink(missing_ok=True)
            self._write_committed(self._head)

    # ---- state ----
    def bytes_on_disk(self) -> int:
        return sum(self._sizes.values())

    def is_empty(self) -> bool:
        with self._lock:
            return self._records == 0

    def oldest_spooled_ns(self) -> int | None:
        """Spool time of the oldest waiting batch (one header read), or None when empty."""
        with self._lock:
            if self._records == 0:
                return None
            head = self._head
            if head.offset >= self._sizes.get(head.seq, 0):
                later = [s for s in self._sizes if s > head.seq]
                if not later:
                    return None
                head = Position(min(later), 0)
        try:
            with open(self.directory / _segment_name(head.seq), "rb") as f:
                f.seek(head.offset)
                raw = f.read(HEADER_BYTES)
            return HEADER.unpack(raw)[5] if len(raw) == HEADER_BYTES else None
        except OSError:
            return None

    def stats(self) -> SpoolStats:
        oldest = self.oldest_spooled_ns()
        with self._lock:
            return SpoolStats(self._records, self._lines, self._readings, self.bytes_on_disk(), self.max_bytes,
                              len(self._sizes), oldest, self.corrupt_records)

    def close(self) -> None:
        with self._lock:
            if self._tail_fd is not None:
                os.close(self._tail_fd)
                self._tail_fd = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the flock
                self._lock_fd = None  # type: ignore[assignment]

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_spool_stats(directory: str | os.PathLike[str]) -> SpoolStats:
    """Depth of a spool folder without taking its lock (for ``terril spool stats`` beside a running collector)."""
    d = Path(directory)
    if not d.is_dir():
        return SpoolStats(0, 0, 0, 0, 0, 0, None, 0)
    committed = _read_committed(d) or Position(0, 0)
    records = lines = readings = size = 0
    oldest: int | None = None
    seqs = [s for s in _list_segments(d) if s >= committed.seq]
    for seq in seqs:
        path = d / _segment_name(seq)
        try:
            r, n, k, end, first, _damaged = _scan_segment(path, committed.offset if seq == committed.seq else 0)
            size += path.stat().st_size
        except OSError:
            continue  # replayed and deleted meanwhile
        records, lines, readings = records + r, lines + n, readings + k
        if oldest is None and first is not None:
            oldest = first
    corrupt = sum(1 for e in os.listdir(d) if e.endswith(".corrupt"))
    return SpoolStats(records, lines, readings, size, 0, len(seqs), oldest, corrupt)
