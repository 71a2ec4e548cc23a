"""Quarantine: every rejected message is kept, with its reason code, topic and a truncated payload.

Quarantined messages are written to the ``quarantine`` measurement (see
docs/schema.md) and counted per reason; nothing is dropped silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from terril.readings import Point

MEASUREMENT = "quarantine"


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


def rejection_point(rej: Rejection, payload_limit: int = 512) -> Point:
    """The InfluxDB point recording a rejection."""
    return Point(
        MEASUREMENT,
        {"reason": rej.reason, "format": rej.format},
        {
            "topic": payload_preview(rej.topic.encode("utf-8", "backslashreplace"), 256),
            "payload": payload_preview(rej.payload, payload_limit),
            "payload_bytes": len(rej.payload),
            "detail": rej.detail[:300],
            "device": rej.device[:64],
        },
        rej.received_ns,
    )


class QuarantineCounter:
    """Counts rejections per reason (exported as metrics)."""

    def __init__(self) -> None:
        self.by_reason: Counter[str] = Counter()

    def add(self, reason: str) -> None:
        self.by_reason[reason] += 1

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())
