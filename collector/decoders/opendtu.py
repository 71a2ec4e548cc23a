"""OpenDTU (Hoymiles HM/HMS/HMT micro-inverters): one plain-text scalar per MQTT topic.

Topics (base default ``solar``, configurable, possibly several levels):

* ``<base>/<serial>/<ch>/<field>``: ch ``0`` = AC side (channel None), ``1..n`` = DC inputs
  (channel ``"1"``, ``"2"``...). Device key = the inverter serial (12 hex digits).
* ``<base>/<serial>/status/reachable`` -> :class:`Availability` of the inverter; other
  ``status/*``, ``name``, ``device/*`` are not stored.
* ``<base>/ac/<field>``, ``<base>/dc/<field>``: totals of all inverters;
  ``<base>/dtu/status`` (LWT ``online``/``offline``) -> :class:`Availability`; other
  ``dtu/*`` not stored. Device key of these DTU-level topics = ``<base>``.

Units (per field): ``yieldtotal`` **kWh** -> ``energy_produced_wh``; ``yieldday`` **Wh** ->
``energy_produced_today_wh`` (daily counter: resets at midnight or when the inverter
restarts, sometimes several times a day); ``power`` W (``dc_power_w`` on DC inputs and
``dc/``); ``powerdc`` W (DC total of an inverter); ``voltage`` V, ``current`` A,
``frequency`` Hz, ``powerfactor`` ratio, ``reactivepower`` var. ``efficiency``,
``irradiation``, ``temperature``, ``is_valid`` are not stored.

Time: values carry no timestamp: ``time_ns`` is None (``status/last_update`` is on its own
topic and a pure decoder cannot join it).

Stale retained values at night: OpenDTU retains every value, so a collector that
(re)connects at night receives the last daytime values again. This decoder cannot see the
retain flag; it decodes ``status/reachable`` (and ``dtu/status``) as availability so that
the collector can mark readings of an unreachable inverter as stale, and ``ac/is_valid`` =
0 adds a note. Repeated counter values are harmless (zero delta); a retained gauge (power)
received while the inverter is unreachable must be treated as stale downstream.
"""

from __future__ import annotations

import re

from collector.decoders import Decoder, register
from collector.decoders._common import (
    ReadingSink,
    availability,
    check_table,
    payload_text,
    short,
    topic_levels,
)
from terril.readings import Decoded

FORMAT = "opendtu"
_SERIAL_RE = re.compile(r"[0-9A-Fa-f]{12}")

AC_FIELDS = check_table(FORMAT, {
    "power": ("power_w", "W"),
    "powerdc": ("dc_power_w", "W"),
    "yieldtotal": ("energy_produced_wh", "kWh"),
    "yieldday": ("energy_produced_today_wh", "Wh"),
    "voltage": ("voltage_v", "V"),
    "current": ("current_a", "A"),
    "frequency": ("frequency_hz", "Hz"),
    "powerfactor": ("power_factor", "1"),
    "reactivepower": ("reactive_power_var", "var"),
})
DC_FIELDS = check_table(FORMAT, {
    "power": ("dc_power_w", "W"),
    "voltage": ("dc_voltage_v", "V"),
    "current": ("dc_current_a", "A"),
    "yieldtotal": ("energy_produced_wh", "kWh"),
    "yieldday": ("energy_produced_today_wh", "Wh"),
})
TOTAL_AC_FIELDS = check_table(FORMAT, {
    "power": ("power_w", "W"),
    "yieldtotal": ("energy_produced_wh", "kWh"),
    "yieldday": ("energy_produced_today_wh", "Wh"),
})
TOTAL_DC_FIELDS = check_table(FORMAT, {"power": ("dc_power_w", "W")})


def split_topic(topic: str) -> tuple[str, str, str, str] | None:
    """-> (device key, scope ``inverter|status|info|ac|dc|dtu``, channel, field) or None."""
    parts = topic_levels(topic)
    if parts is None or len(parts) < 3:
        return None
    if len(parts) >= 4 and _SERIAL_RE.fullmatch(parts[-3]):
        serial, mid, field = parts[-3], parts[-2], parts[-1]
        if mid.isdigit() and len(mid) <= 2:
            return serial, "inverter", mid, field
        if mid in ("status", "device"):
            return serial, "status" if mid == "status" else "info", "", field
    if _SERIAL_RE.fullmatch(parts[-2]) and parts[-1] == "name":
        return parts[-2], "info", "", "name"
    if parts[-2] in ("ac", "dc", "dtu"):
        return "/".join(parts[:-2]), parts[-2], "", parts[-1]
    return None


def _availability(device: str, text: str, yes: str, no: str, received_ns: int) -> Decoded:
    return availability(device, text, received_ns, FORMAT, (yes,), (no,))


class OpenDtuDecoder(Decoder):
    """Decoder for OpenDTU per-topic scalars."""

    name = FORMAT
    channels = {"main": "AC side (channel 0) or the DTU totals (ac/...)",
                **{str(i): f"DC input {i}" for i in range(1, 7)}}
    topic_filters = ("solar/+/+/+", "solar/ac/+", "solar/dc/+", "solar/dtu/+")
    topic_layout = '<base>/<serial>/<ch>/<field>, <base>/<serial>/status/<field> or <base>/ac|dc|dtu/<field>'
    split_topic = staticmethod(split_topic)


    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        parts = self.topic_parts(topic)
        device, scope, channel, field = parts
        text = payload_text(payload)
        if scope == "status" and field == "reachable":
            return _availability(device, text, "1", "0", received_ns)
        if scope == "dtu" and field == "status":
            return _availability(device, text, "online", "offline", received_ns)
        if scope in ("status", "info", "dtu"):
            return Decoded(ignored=True, notes=(f"{scope}/{short(field)} not stored",))
        if field == "is_valid":
            return Decoded(ignored=True, notes=(f"{scope}/is_valid={short(text)}"
                                                + (": totals may be incomplete or stale" if text == "0" else ""),))
        if scope == "inverter":
            table = AC_FIELDS if channel == "0" else DC_FIELDS
            ch: str | None = None if channel == "0" else str(int(channel))
        else:
            table = TOTAL_AC_FIELDS if scope == "ac" else TOTAL_DC_FIELDS
            ch = None
        if field not in table:
            return Decoded(ignored=True, notes=(f"{short(field)} not stored",))
        sink = ReadingSink(device, FORMAT, received_ns)
        quantity, unit = table[field]
        sink.add(ch, quantity, text, unit, field)
        return Decoded(readings=tuple(sink.readings))


register(OpenDtuDecoder())
