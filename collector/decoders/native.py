"""Terril's native JSON format (docs/native-format.md).

Topic ``terril/<site>/<device>/telemetry``: a JSON object whose keys are canonical
quantity names (``energy_import_wh``, ``power_w``...) plus an optional ``time``
(RFC 3339 with offset, or epoch seconds) and an optional ``channel``; or a JSON
array of such objects (a backlog). Topic ``terril/<site>/<device>/status``:
``online``/``offline`` (retained, last will) or ``{"online": true}``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import orjson

from collector.decoders import MAX_PAYLOAD_BYTES, MAX_READINGS_PER_MESSAGE, Decoder, register
from collector.decoders._common import load_json
from terril.errors import DecodeError
from terril.ids import is_valid_id
from terril.quantities import QUANTITIES
from terril.readings import Availability, Decoded, Reading
from terril.timeutil import MAX_TIME_NS, MIN_TIME_NS, epoch_seconds_to_ns, parse_rfc3339

FORMAT = "native"
_RESERVED = {"time", "channel"}


@lru_cache(maxsize=8192)  # a fleet publishes on a bounded set of topics; bounded, so a flood cannot grow it
def split_topic(topic: str) -> tuple[str, str, str] | None:
    """``terril/<site>/<device>/<kind>`` -> (site, device, kind), or None when the layout differs."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != "terril" or parts[3] not in ("telemetry", "status"):
        return None
    return parts[1], parts[2], parts[3]


@lru_cache(maxsize=8192)  # one entry per (site, device) of a topic; bounded like split_topic
def _valid_ids(site: str, device: str) -> bool:
    return is_valid_id(site) and is_valid_id(device)


@lru_cache(maxsize=1024)  # the devices of a fleet report the same instants; bounded
def _text_time_ns(value: str) -> int:
    try:
        return parse_rfc3339(value)
    except ValueError as err:
        raise DecodeError("bad_time", str(err)) from None


def _time_ns(value: object) -> int:
    if isinstance(value, bool):
        raise DecodeError("bad_time", "time must be RFC 3339 text or epoch seconds")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise DecodeError("bad_time", "time is not finite")
        if abs(value) > 1e11:  # beyond year 5000; an int beyond float range compares without converting
            raise DecodeError("implausible_time", f"time {str(value)[:32]} is outside 2000-01-01..2100-01-01")
        t = epoch_seconds_to_ns(value)
    elif isinstance(value, str):
        t = _text_time_ns(value)
    else:
        raise DecodeError("bad_time", "time must be RFC 3339 text or epoch seconds")
    if not MIN_TIME_NS <= t < MAX_TIME_NS:
        raise DecodeError("implausible_time", f"time {value!r} is outside 2000-01-01..2100-01-01")
    return t


def _readings(obj: object, device: str, received_ns: int, out: list[Reading]) -> None:
    if not isinstance(obj, dict):
        raise DecodeError("bad_shape", "each reading must be a JSON object")
    time_ns = _time_ns(obj["time"]) if "time" in obj else None
    channel = obj.get("channel")
    if channel is not None and (not isinstance(channel, str) or not 0 < len(channel) <= 64 or not channel.isprintable()):
        raise DecodeError("bad_value", "channel must be a short printable string")
    before = len(out)
    for key, value in obj.items():
        if key in _RESERVED:
            continue
        if key not in QUANTITIES:
            raise DecodeError("unknown_field", f"{key[:64]!r} is not a canonical quantity")
        if type(value) is float:  # the common case: no conversion
            number = value
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DecodeError("bad_value", f"{key}: {str(value)[:32]!r} is not a finite number")
        else:
            try:
                number = float(value)
            except OverflowError:  # an integer beyond float range ("1" followed by 400 zeros)
                raise DecodeError("bad_value", f"{key}: number beyond float range") from None
        if not math.isfinite(number):
            raise DecodeError("bad_value", f"{key}: {str(value)[:32]!r} is not a finite number")
        out.append(Reading(device, channel, key, number, time_ns, received_ns, FORMAT))
    if len(out) == before:
        raise DecodeError("no_readings", "the object holds no quantity")


class NativeDecoder(Decoder):
    """Decoder for Terril's native JSON."""

    name = FORMAT
    channels = {"main": "readings without a \"channel\" key; any other name the payload gives"}
    free_channels = True
    topic_filters = ("terril/+/+/telemetry", "terril/+/+/status")
    topic_layout = 'terril/<site>/<device>/telemetry or /status'
    key_part = 1
    split_topic = staticmethod(split_topic)


    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        parts = self.topic_parts(topic)
        site, device, kind = parts
        if not _valid_ids(site, device):
            raise DecodeError("bad_topic", "site and device in the topic must be valid identifiers")
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise DecodeError("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
        if kind == "status":
            text = payload.strip().lower()
            if text in (b"online", b"true", b"1"):
                return Decoded(availability=(Availability(device, True, received_ns, FORMAT),))
            if text in (b"offline", b"false", b"0"):
                return Decoded(availability=(Availability(device, False, received_ns, FORMAT),))
            try:
                obj = orjson.loads(payload)
            except orjson.JSONDecodeError:
                raise DecodeError("bad_value", "status must be online/offline or {\"online\": true|false}") from None
            if isinstance(obj, dict) and isinstance(obj.get("online"), bool):
                return Decoded(availability=(Availability(device, obj["online"], received_ns, FORMAT),))
            raise DecodeError("bad_shape", "status must be online/offline or {\"online\": true|false}")
        obj = load_json(payload)  # strict: UTF-8, no NaN, a repeated key is refused (duplicate_key)
        out: list[Reading] = []
        if isinstance(obj, list):
            if not obj:
                raise DecodeError("no_readings", "empty backlog array")
            if len(obj) > MAX_READINGS_PER_MESSAGE:
                raise DecodeError("too_many_readings", f"{len(obj)} objects > {MAX_READINGS_PER_MESSAGE}")
            for item in obj:
                _readings(item, device, received_ns, out)
                if len(out) > MAX_READINGS_PER_MESSAGE:
                    raise DecodeError("too_many_readings", f"more than {MAX_READINGS_PER_MESSAGE} readings")
        else:
            _readings(obj, device, received_ns, out)
        return Decoded(readings=tuple(out))


register(NativeDecoder())
