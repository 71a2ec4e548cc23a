"""Quarantine: every rejected message is kept, with its reason code, topic and payload.

Quarantined messages are written to the ``quarantine`` measurement (see docs/schema.md),
counted per reason (``/metrics``) and logged once per device and reason per minute
(:class:`QuarantineLog`); nothing is dropped silently. The whole payload is kept (base64, up to
:data:`RAW_MAX_BYTES`) so that ``terril quarantine replay`` can decode it again once the registry
is fixed (:mod:`collector.quarantine_store`).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from terril.readings import Point

MEASUREMENT = "quarantine"
#: payloads up to this size are kept whole (base64 field ``payload_b64``) for replay [bytes]
RAW_MAX_BYTES = 16 * 1024
#: at most this many whole payloads kept per (device, reason) per interval of :class:`QuarantineLog` ...
RAW_PER_KEY = 1_000
#: ... and at most this many bytes of them in all per interval (a flood keeps only previews beyond)
RAW_BUDGET_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message the collector refused, and why."""

    reason: str
    detail: str
    topic: str
    payload: bytes
    received_ns: int
    format: str = "unknown"
    device: str = ""


def payload_preview(payload: bytes, limit: int) -> str:
    """The first ``limit`` bytes as text: UTF-8 with invalid bytes and controls escaped, never raw NULs."""
    head = payload[:limit]
    text = head.decode("utf-8", errors="backslashreplace")
    text = "".join(c if c.isprintable() or c in " " else repr(c)[1:-1] for c in text)
    if len(payload) > limit:
        text += f"…(+{len(payload) - limit} bytes)"
    return text


def rejection_point(rej: Rejection, payload_limit: int = 512, keep_raw: bool = True) -> Point:
    """The InfluxDB point recording a rejection; with ``keep_raw``, the whole payload too (if small enough)."""
    return Point(
        MEASUREMENT,
        {"reason": rej.reason, "format": rej.format},
        {
            "topic": payload_preview(rej.topic.encode("utf-8", "backslashreplace"), 256),
            "payload": payload_preview(rej.payload, payload_limit),
            "payload_bytes": len(rej.payload),
            "detail": rej.detail[:300],
            "device": rej.device[:64],
            **({"payload_b64": base64.b64encode(rej.payload).decode("ascii")}
               if keep_raw and len(rej.payload) <= RAW_MAX_BYTES and rej.reason != "write_rejected" else {}),
        },
        rej.received_ns,
    )


class QuarantineLog:
    """One log line per (device, reason) per ``interval_s``, saying how many were not logged since.

    A device that floods the quarantine (from one account, thousands of messages a second) costs
    one line a minute; at most ``max_lines`` lines per interval in all, whatever the number of
    distinct devices or topics, so random topics cannot flood the log either.
    """

    def __init__(self, logger: logging.Logger, interval_s: float = 60.0, max_lines: int = 50,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self._log = logger
        self._interval_s = interval_s
        self._max_lines = max_lines
        self._clock = clock
        self._max_keys = max_keys
        self._seen: dict[tuple[str, str], list[float]] = {}  # key -> [last logged, not logged since]
        self._window_start = float("-inf")
        self._window_lines = 0
        self._window_dropped = 0
        self._raw_window_start = float("-inf")
        self._raw_bytes = 0
        self._raw_counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def keep_raw(self, rej: Rejection) -> bool:
        """Whether to keep ``rej``'s whole payload (for replay): bounded per key and in bytes per interval."""
        if len(rej.payload) > RAW_MAX_BYTES:
            return False
        key = (rej.device or f"({rej.format})", rej.reason)
        now = self._clock()
        with self._lock:
            if now - self._raw_window_start >= self._interval_s:
                self._raw_window_start, self._raw_bytes = now, 0
                self._raw_counts.clear()
            if self._raw_counts[key] >= RAW_PER_KEY or self._raw_bytes + len(rej.payload) > RAW_BUDGET_BYTES:
                return False
            self._raw_counts[key] += 1
            self._raw_bytes += len(rej.payload)
            return True

    def note(self, rej: Rejection, exc_info: bool = False) -> bool:
        """Log ``rej`` unless its (device, reason) was logged less than ``interval_s`` ago; True if logged."""
        key = (rej.device or f"({rej.format})", rej.reason)
        now = self._clock()
        with self._lock:
            if now - self._window_start >= self._interval_s:
                if self._window_dropped:
                    self._log.warning("quarantine: %d more rejections not logged in the last %.0f s (line limit)",
                                      self._window_dropped, self._interval_s)
                self._window_start, self._window_lines, self._window_dropped = now, 0, 0
            entry = self._seen.get(key)
            if entry is not None and now - entry[0] < self._interval_s:
                entry[1] += 1
                return False
            if self._window_lines >= self._max_lines:
                self._window_dropped += 1
                return False
            since = int(entry[1]) if entry is not None else 0
            self._seen.pop(key, None)
            self._seen[key] = [now, 0]
            if len(self._seen) > self._max_keys:
                del self._seen[next(iter(self._seen))]
            self._window_lines += 1
        more = f" (+{since} more since the last line)" if since else ""
        self._log.warning("quarantined %s from device %s on %.120s: %.200s%s", rej.reason, key[0], rej.topic,
                          rej.detail, more, exc_info=exc_info)
        return True

