"""From simulated device messages to MQTT publications, in each device's own format.

:class:`Encoding` turns a :class:`firmware_sim.fleet.DeviceMessage` into the messages the
real device would publish: Terril native JSON, or a vendor format through
:mod:`firmware_sim.encoders` (Linky TIC via teleinfo2mqtt, Tasmota, Shelly Pro 3EM,
OpenDTU, wmbusmeters, SunSpec bridge). Quantities a vendor format cannot carry (a Linky
gives apparent power, not active power) are left out, as the real device would.

Backfill of a past period needs device timestamps: a device whose format carries none
(OpenDTU) sends its backlog in native JSON on its native topic, as a buffering gateway
does; every registry device may publish native JSON (docs/native-format.md).

Each publication carries the points the collector is expected to store for it, computed
with the collector's own pure pipeline, so that a run can be checked end to end. With device
behaviour on (:mod:`firmware_sim.behaviour`), :meth:`Encoding.encode_emission` encodes each
:class:`~firmware_sim.behaviour.Emission` at its publication instant: the prediction then follows
the device's (skewed) clock, and a duplicate or a late message predicts the same (meter, time)
point as the original, which it overwrites in InfluxDB.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache

import orjson

from collector.mapping import READING_MEASUREMENT, Pipeline
from firmware_sim.behaviour import Emission
from firmware_sim.encoders import SPECS, DeviceState
from firmware_sim.fleet import DeviceMessage
from terril.registry import Device, Registry
from terril.timeutil import format_rfc3339_ns

#: (registry format, meter carrier) -> encoder name; None = native JSON.
ENCODER_FOR: dict[tuple[str, str], str] = {
    ("linky_tic", "electricity"): "linky_tic_teleinfo2mqtt_standard",
    ("tasmota", "electricity"): "tasmota",
    ("shelly_gen2", "electricity"): "shelly_gen2_pro3em",
    ("opendtu", "pv"): "opendtu",
    ("wmbusmeters", "heat"): "wmbusmeters_heat",
    ("wmbusmeters", "water"): "wmbusmeters_water",
    ("sunspec", "pv"): "sunspec_inverter",
    ("sunspec", "electricity"): "sunspec_meter",
}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One MQTT publication and the reading points it should produce.

    ``time_ns``: the instant it is published (the message's instant, or with device behaviour
    the emission's ``send_ns``) [UTC ns]; ``points``: (meter, time_ns) of each expected reading
    point; time_ns is None for a point the collector will stamp with its receive time (formats
    without device time).
    """

    time_ns: int
    topic: str
    payload: bytes
    retain: bool
    device: str
    points: tuple[tuple[str, int | None], ...]


@lru_cache(maxsize=4096)
def _carries(encoder: str, channel: str | None, quantity: str) -> bool:
    try:
        SPECS[encoder].encode(DeviceState("probe", 1_767_222_000_000_000_000, {(channel, quantity): 1.0}))
        return True
    except ValueError:
        return False


def native_topic(device: Device) -> str:
    return f"terril/{device.site}/{device.id}/telemetry"


def status_topic(device: Device) -> str:
    return f"terril/{device.site}/{device.id}/status"


def native_payload(msg: DeviceMessage, device: Device) -> bytes:
    objs = []
    for ch in msg.channels:
        obj: dict[str, object] = {"time": format_rfc3339_ns(msg.time_ns)}
        if len(device.channels) > 1:
            obj["channel"] = ch.channel
        obj.update({q: float(v) for q, v in ch.values.items()})
        objs.append(obj)
    return orjson.dumps(objs[0] if len(objs) == 1 else objs)


class Encoding:
    """Encodes fleet messages for the devices of one registry, and predicts the stored points."""

    def __init__(self, registry: Registry, *, backfill: bool) -> None:
        self.registry = registry
        self.backfill = backfill
        self.pipeline = Pipeline(registry)
        self._backlog: Encoding | None = None

    def encoder_of(self, device: Device) -> str | None:
        """The vendor encoder used for ``device`` now, or None for native JSON."""
        if device.format == "native":
            return None
        carrier = self.registry.meter_by_id[device.channels[0].meter].carrier
        name = ENCODER_FOR.get((device.format, carrier))
        if name is None or (self.backfill and not SPECS[name].carries_time):
            return None
        return name

    def encode(self, msg: DeviceMessage) -> list[Outgoing]:
        """The publications of one device message (a malformed message gives one corrupted payload)."""
        device = self.registry.device_by_id[msg.device_id]
        name = self.encoder_of(device)
        if name is None:
            raw = [(native_topic(device), native_payload(msg, device), False)]
        else:
            values: dict[tuple[str | None, str], float] = {}
            for ch in msg.channels:
                channel = None if ch.channel == device.channels[0].channel else ch.channel
                for q, v in ch.values.items():
                    if _carries(name, channel, q):
                        values[(channel, q)] = float(v)
            raw = SPECS[name].encode(DeviceState(device.topic or device.id, msg.time_ns, values))
        if msg.malformed:
            topic, payload, retain = raw[0]
            raw = [(topic, payload[: max(1, len(payload) // 2)] + b"\x00\xff", retain)]
        out = []
        received = msg.time_ns + 1  # a point stamped exactly so got the receive time (no device time)
        for topic, payload, retain in raw:
            outcome = self.pipeline.process(topic, payload, received)
            pts = tuple((p.tags["meter"], p.time_ns if p.time_ns != received else None) for p in outcome.points
                        if p.measurement == READING_MEASUREMENT)
            out.append(Outgoing(msg.time_ns, topic, payload, retain, device.id, pts))
        return out

    def encode_all(self, messages: Iterable[DeviceMessage]) -> Iterator[Outgoing]:
        for msg in messages:
            yield from self.encode(msg)

    def encode_emission(self, emission: Emission) -> list[Outgoing]:
        """The publications of one behaviour emission, stamped with its publication instant.

        An availability change is the retained native status message (``online``/``offline``),
        as a Last Will or a birth message; it stores no reading point. A back-logged message is
        sent in native JSON when the device's own format carries no time, as a buffering
        gateway does (its values would otherwise be stamped with the reconnection time).
        """
        device = self.registry.device_by_id[emission.device_id]
        if emission.kind == "availability":
            return [Outgoing(emission.send_ns, status_topic(device), b"online" if emission.online else b"offline",
                             True, device.id, ())]
        assert emission.message is not None
        if emission.backlog and not self.backfill:
            encoded = self._backlog_encoding().encode(emission.message)
        else:
            encoded = self.encode(emission.message)
        return [replace(o, time_ns=emission.send_ns) for o in encoded]

    def _backlog_encoding(self) -> Encoding:
        if self._backlog is None:
            self._backlog = Encoding(self.registry, backfill=True)
        return self._backlog
