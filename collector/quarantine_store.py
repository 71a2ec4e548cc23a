"""The quarantine in InfluxDB: list what was refused, and replay it against the current registry.

:func:`query_quarantine` reads the ``quarantine`` measurement with filters (reason, device,
time). :func:`replay` decodes each quarantined message again with a :class:`~collector.mapping.Pipeline`
of the current registry (the payload is kept whole, base64, see :mod:`collector.quarantine`), at
its original receive time, so the points it makes have the timestamps they would have had. It
writes those that now pass, then marks the quarantine record ``replayed_ns`` (same series and
timestamp: InfluxDB merges the field into the record). A record so marked is not replayed again,
and a replay that stopped between the two writes rewrites the same points: each reading is
stored exactly once, however many times the replay runs.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from dataclasses import dataclass, field

from collector.decoders import REASONS
from collector.mapping import Pipeline
from collector.quarantine import MEASUREMENT
from collector.writer import write_batch
from terril.errors import ConfigError
from terril.influx import InfluxClient, quote_literal
from terril.lineprotocol import format_point
from terril.readings import Point
from terril.timeutil import now_ns

#: reason codes a record may carry: the decoders' and the collector's own
KNOWN_REASONS = frozenset(REASONS) | {"internal_error"}
#: records that cannot be decoded again: a line InfluxDB refused is not a device message
NOT_REPLAYABLE = frozenset({"write_rejected"})


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """One quarantined message as stored."""

    time_ns: int
    reason: str
    format: str
    topic: str
    device: str
    detail: str
    payload_preview: str
    payload_bytes: int
    payload: bytes | None  # the whole payload, when it was small enough to keep
    replayed_ns: int | None

    def as_json(self) -> dict[str, object]:
        return {"time_ns": self.time_ns, "reason": self.reason, "format": self.format, "topic": self.topic,
                "device": self.device, "detail": self.detail, "payload": self.payload_preview,
                "payload_bytes": self.payload_bytes, "replayable": self.payload is not None,
                "replayed_ns": self.replayed_ns}


def check_filters(reason: str | None, device: str | None) -> None:
    """Refuse a reason that is not a known code and a device that is not short printable text."""
    if reason is not None and reason not in KNOWN_REASONS:
        raise ConfigError(f"unknown reason {reason[:40]!r}", hint=f"one of: {', '.join(sorted(KNOWN_REASONS))}")
    if device is not None and not (0 < len(device) <= 64 and device.isprintable()):
        raise ConfigError("--device must be a device id or key of 1 to 64 printable characters")


def query_quarantine(client: InfluxClient, *, since_ns: int, until_ns: int | None = None, reason: str | None = None,
                     device: str | None = None, limit: int | None = None, newest_first: bool = False
                     ) -> list[QuarantineRecord]:
    """Quarantine records since ``since_ns`` (and before ``until_ns``), filtered by reason and device."""
    check_filters(reason, device)
    where = [f"time >= {int(since_ns)}"]
    if until_ns is not None:
        where.append(f"time < {int(until_ns)}")
    if reason is not None:
        where.append(f'"reason" = {quote_literal(reason)}')
    if device is not None:
        where.append(f'"device" = {quote_literal(device)}')
    q = f'SELECT * FROM "{MEASUREMENT}" WHERE {" AND ".join(where)}'
    if newest_first:
        q += " ORDER BY time DESC"
    if limit is not None:
        q += f" LIMIT {int(limit)}"
    out = []
    for series in client.query(q):
        for rec in series.records():
            out.append(_record(rec))
    return out


def _record(rec: dict[str, object]) -> QuarantineRecord:
    raw = rec.get("payload_b64")
    payload = None
    if isinstance(raw, str):
        try:
            payload = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            payload = None
    replayed = rec.get("replayed_ns")
    return QuarantineRecord(
        time_ns=int(rec["time"]),  # type: ignore[arg-type]
        reason=str(rec.get("reason") or ""), format=str(rec.get("format") or ""),
        topic=str(rec.get("topic") or ""), device=str(rec.get("device") or ""), detail=str(rec.get("detail") or ""),
        payload_preview=str(rec.get("payload") or ""), payload_bytes=int(rec.get("payload_bytes") or 0),  # type: ignore[arg-type]
        payload=payload, replayed_ns=int(replayed) if isinstance(replayed, (int, float)) else None)


@dataclass
class ReplayResult:
    """What a replay did."""

    examined: int = 0
    stored: int = 0  # messages now stored
    points: int = 0  # points written for them
    already_replayed: int = 0
    not_replayable: int = 0  # payload not kept (too large, or a refused line)
    still_rejected: Counter[str] = field(default_factory=Counter)  # reason now -> messages
    write_rejected: int = 0


def replay(client: InfluxClient, pipeline: Pipeline, records: list[QuarantineRecord], *,
           dry_run: bool = False) -> ReplayResult:
    """Decode ``records`` again with ``pipeline``; store those that pass (exactly once) unless ``dry_run``."""
    result = ReplayResult()
    for rec in records:
        result.examined += 1
        if rec.replayed_ns is not None:
            result.already_replayed += 1
            continue
        if rec.payload is None or rec.reason in NOT_REPLAYABLE:
            result.not_replayable += 1
            continue
        outcome = pipeline.process(rec.topic, rec.payload, rec.time_ns)
        if outcome.rejection is not None:
            result.still_rejected[outcome.rejection.reason] += 1
            continue
        if not outcome.points:
            result.still_rejected["no_points"] += 1
            continue
        if dry_run:
            result.stored += 1
            result.points += len(outcome.points)
            continue
        written = write_batch(client, [format_point(p) for p in outcome.points])
        if written.rejected:
            result.write_rejected += len(written.rejected)
            continue  # not marked: InfluxDB refused it, it stays in quarantine
        # the marker: same measurement, tags and timestamp as the record, so InfluxDB merges the field into it
        marker = Point(MEASUREMENT, {"reason": rec.reason, "format": rec.format}, {"replayed_ns": now_ns()}, rec.time_ns)
        client.write_points([marker])
        result.stored += 1
        result.points += written.written
    return result
