"""Devices seen on the broker but not in the registry, with a proposed registry entry.

The collector quarantines their messages as ``unknown_device`` (with the decoder that
recognised the topic); :func:`query_unmapped` groups them by device key, and
:func:`proposal_toml` drafts the ``[[devices]]`` entry an operator completes (site and
meters) before ``terril devices add`` or editing the registry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from collector.decoders import get_decoder
from collector.decoders.detect import detect_format
from terril.errors import DecodeError
from terril.influx import InfluxClient
from terril.timeutil import NS_PER_S, now_ns


@dataclass
class UnmappedDevice:
    """One unknown device key and what was seen from it."""

    key: str
    format: str
    messages: int = 0
    first_ns: int = 0
    last_ns: int = 0
    topic: str = ""
    sample: str = ""
    quantities: list[str] = field(default_factory=list)


def suggested_id(key: str) -> str:
    """A registry id derived from a vendor key (lower case, safe characters)."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", key.lower()).strip("-_") or "device"
    return slug[:64]


def query_unmapped(client: InfluxClient, days: int = 30) -> list[UnmappedDevice]:
    """Unknown devices quarantined during the last ``days`` days, most recent first."""
    since = now_ns() - days * 86_400 * NS_PER_S
    q = (f"SELECT \"topic\", \"payload\", \"device\", \"format\" FROM quarantine "
         f"WHERE \"reason\" = 'unknown_device' AND time >= {since}")
    found: dict[tuple[str, str], UnmappedDevice] = {}
    for s in client.query_chunks(q):
        for r in s.records():
            key, fmt = r.get("device") or "", r.get("format") or "unknown"
            t = int(r["time"])
            item = found.setdefault((fmt, key), UnmappedDevice(key, fmt, first_ns=t))
            item.messages += 1
            item.first_ns = min(item.first_ns, t)
            if t >= item.last_ns:
                item.last_ns, item.topic, item.sample = t, r.get("topic") or "", r.get("payload") or ""
    out = sorted(found.values(), key=lambda d: -d.last_ns)
    for d in out:
        d.quantities = _quantities(d)
    return out


def _quantities(d: UnmappedDevice) -> list[str]:
    name = d.format if get_decoder(d.format) else detect_format(d.topic, d.sample.encode())
    decoder = get_decoder(name) if name else None
    if decoder is None:
        return []
    try:
        decoded = decoder.decode(d.topic, d.sample.encode(), now_ns())
    except DecodeError:
        return []
    return sorted({r.quantity if r.channel is None else f"{r.quantity} [{r.channel}]" for r in decoded.readings})


def proposal_toml(d: UnmappedDevice) -> str:
    """The registry entry to complete for ``d`` (site and meter are placeholders)."""
    lines = ["[[devices]]", f'id = "{suggested_id(d.key)}"', 'site = "CHANGE-ME"', f'format = "{d.format}"']
    if d.format != "native":
        lines.append(f'topic = "{d.key}"')
    lines.append('channels = [{ channel = "main", meter = "CHANGE-ME" }]')
    if d.quantities:
        lines.append(f"# seen: {', '.join(d.quantities)}")
    return "\n".join(lines)
