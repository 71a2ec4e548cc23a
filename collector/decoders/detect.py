"""Auto-detection of a message's payload format (registry ``format`` name) from its topic and payload.

Used by the collector for unknown topics and by ``terril decode --format auto``. Pure and
total: it never raises, and returns None when no family recognises the message.

Order: topic layouts that are unambiguous first (native, Home Assistant discovery,
Tasmota, Shelly Gen1/Gen2, OpenDTU, AhoyDTU, SunSpec bridges, wmbusmeters, teleinfo2mqtt),
then the payload's own shape for gateways whose topic is free-form (a raw TIC frame,
TIC labels, a wmbusmeters telegram, a Shelly RPC frame, a flat SolarEdge SunSpec object).
"""

from __future__ import annotations

import orjson

from collector.decoders import MAX_PAYLOAD_BYTES, get_decoder

#: Families tried on the topic alone, most specific first.
_TOPIC_ORDER = ("native", "ha_discovery", "tasmota", "shelly_gen1", "shelly_gen2", "opendtu", "ahoydtu",
                "sunspec", "wmbusmeters", "linky_tic")
_TIC_KEYS = frozenset({"ADCO", "ADSC"})


def _claimed(name: str, topic: str) -> bool:
    decoder = get_decoder(name)
    if decoder is None:
        return False
    try:
        return decoder.claims(topic)
    except Exception:  # noqa: BLE001 - detection must never fail; a decoder's claim bug means "no"
        return False


def _sniff(payload: bytes) -> str | None:
    body = payload.lstrip(b"\r\n \x00")
    if body[:1] == b"\x02":
        return "linky_tic"
    if len(payload) > MAX_PAYLOAD_BYTES or body[:1] != b"{":
        return None
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    keys = obj.keys()
    if "TIC" in obj or _TIC_KEYS & keys:
        return "linky_tic"
    if obj.get("_") == "telegram" or ("media" in obj and "meter" in obj):
        return "wmbusmeters"
    method = obj.get("method")
    if isinstance(method, str) and method.startswith("Notify"):
        return "shelly_gen2"
    if "AC_Energy_WH" in obj:
        return "sunspec"
    return None


def detect_format(topic: str, payload: bytes) -> str | None:
    """The registry ``format`` name that decodes (``topic``, ``payload``), or None.

    Parameters
    ----------
    topic : str
        MQTT topic.
    payload : bytes
        Message payload (may be empty when only the topic is known).
    """
    if not isinstance(topic, str) or not isinstance(payload, (bytes, bytearray)):
        return None
    payload = bytes(payload)
    if topic.endswith("/online") and not topic.startswith("shellies/"):
        # Shelly Gen2 last will; other gateways use other words
        return "shelly_gen2" if payload.strip() in (b"true", b"false", b"") else None
    for name in _TOPIC_ORDER:
        if _claimed(name, topic):
            return name
    return _sniff(payload)
