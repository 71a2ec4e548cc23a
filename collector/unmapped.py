"""Devices seen on the broker but not in the registry, with a proposed registry entry.

The collector quarantines their messages as ``unknown_device`` (with the decoder that
recognised the topic); :func:`query_unmapped` groups them by device key, and
:func:`proposal_toml` drafts the ``[[devices]]`` entry an operator completes (site and
meters) before ``terril devices add`` or editing the registry.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from collector.decoders import MAIN_CHANNEL, get_decoder
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
    channels: list[str] = field(default_factory=list)  # channels seen in the sample ("main": without a channel)


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
        inspect_sample(d)
    return out


def inspect_sample(d: UnmappedDevice) -> None:
    """Fill ``d``'s format (the detection ``terril decode`` uses), quantities and channels from its sample."""
    payload = d.sample.encode()
    name = detect_format(d.topic, payload) or (d.format if get_decoder(d.format) else None)
    decoder = get_decoder(name) if name else None
    if decoder is None:
        return
    d.format = decoder.name
    d.key = decoder.device_key(d.topic) or d.key
    try:
        decoded = decoder.decode(d.topic, payload, now_ns())
    except DecodeError:
        return
    d.quantities = sorted({r.quantity if r.channel is None else f"{r.quantity} [{r.channel}]"
                           for r in decoded.readings})
    d.channels = sorted({r.channel or MAIN_CHANNEL for r in decoded.readings},
                        key=lambda c: (c != MAIN_CHANNEL, c))


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=True)  # a JSON string is a valid TOML basic string


def proposal_toml(d: UnmappedDevice) -> str:
    """The registry entry to complete for ``d`` (site and meters are placeholders), and the command that adds it.

    Channels: those seen in the sample, else the format's default channels.
    """
    decoder = get_decoder(d.format)
    channels = d.channels or (list(decoder.default_channels) if decoder else [MAIN_CHANNEL])
    lines = ["[[devices]]", f"id = {_toml(suggested_id(d.key))}", 'site = "CHANGE-ME"', f"format = {_toml(d.format)}"]
    if d.format != "native":
        lines.append(f"topic = {_toml(d.key)}")
    chans = ", ".join(f'{{ channel = {_toml(c)}, meter = "CHANGE-ME-{i}" }}' for i, c in enumerate(channels, 1))
    lines.append(f"channels = [{chans}]")
    if d.quantities:
        lines.append(f"# seen: {', '.join(d.quantities)}")
    topic = f" --topic {shlex.quote(d.key)}" if d.format != "native" else ""
    lines.append(f"# or: terril devices add {suggested_id(d.key)} --site SITE --format {d.format}{topic} --meter METER")
    return "\n".join(lines)
