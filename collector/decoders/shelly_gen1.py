"""Shelly Gen1 devices (EM, 3EM, 1PM, 2.5, Plug S): one plain-text scalar per MQTT topic.

Topics: ``shellies/<id>/emeter/<i>/<field>``, ``shellies/<id>/relay/<i>/<power|energy>``,
``shellies/<id>/relay/<i>`` (on/off, not stored), ``shellies/<id>/online`` (``true``/``false``,
last will). A custom MQTT prefix replaces ``shellies/<id>`` as a whole; the device key is then
that prefix (all levels before ``emeter``/``relay``/``online``), else the ``<id>``.
Channel = the emeter or relay index (``"0"``, ``"1"``, ``"2"``).

Units (per field): ``total``/``total_returned`` Wh (persistent lifetime counters ->
``energy_import_wh``/``energy_export_wh``); ``energy`` **watt-minutes** since boot ->
``energy_import_today_wh`` (a daily/boot counter, converted to Wh); ``returned_energy``
watt-minutes since boot has no canonical quantity and is not stored; ``power`` W (signed);
``reactive_power`` var; ``voltage`` V; ``current`` A; ``pf`` ratio.

Time: Gen1 messages carry none: ``time_ns`` is always None.
"""

from __future__ import annotations

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

FORMAT = "shelly_gen1"

EMETER_FIELDS = check_table(FORMAT, {
    "power": ("power_w", "W"),
    "reactive_power": ("reactive_power_var", "var"),
    "voltage": ("voltage_v", "V"),
    "current": ("current_a", "A"),
    "pf": ("power_factor", "1"),
    "total": ("energy_import_wh", "Wh"),
    "total_returned": ("energy_export_wh", "Wh"),
    "energy": ("energy_import_today_wh", "Wmin"),
})
RELAY_FIELDS = check_table(FORMAT, {
    "power": ("power_w", "W"),
    "energy": ("energy_import_today_wh", "Wmin"),
})
#: Known fields that are deliberately not stored.
NOT_STORED = frozenset({"returned_energy"})


def split_topic(topic: str) -> tuple[str, str, str | None, str | None] | None:
    """-> (device key, kind ``emeter|relay|online``, index, field) or None when not a Gen1 layout."""
    parts = topic_levels(topic)
    if parts is None or len(parts) < 2:
        return None
    for pos in range(len(parts) - 1, 0, -1):
        level = parts[pos]
        if level in ("emeter", "relay") and pos >= 1:
            rest = parts[pos + 1:]
            if not rest or not rest[0].isdigit() or len(rest[0]) > 2 or len(rest) > 2:
                return None
            field = rest[1] if len(rest) == 2 else None
            if level == "emeter" and field is None:
                return None
            return _key(parts[:pos]), level, rest[0], field
    if parts[-1] == "online" and len(parts) >= 2:
        return _key(parts[:-1]), "online", None, None
    return None


def _key(prefix: list[str]) -> str:
    if len(prefix) == 2 and prefix[0] == "shellies":
        return prefix[1]
    return "/".join(prefix)


class ShellyGen1Decoder(Decoder):
    """Decoder for Shelly Gen1 per-topic scalars."""

    name = FORMAT
    channels = {str(i): f"emeter/{i} or relay/{i} (a 3EM's phase {i + 1})" for i in range(3)}
    default_channels = ("0",)
    topic_filters = ("shellies/+/emeter/+/+", "shellies/+/relay/+/+", "shellies/+/relay/+", "shellies/+/online")
    topic_layout = 'shellies/<id>/emeter/<i>/<field>, .../relay/<i>[/<field>] or .../online'
    split_topic = staticmethod(split_topic)

    def claims(self, topic: str) -> bool:
        parts = split_topic(topic)
        if parts is None:
            return False
        return topic.startswith("shellies/") or parts[1] != "online"


    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        parts = self.topic_parts(topic)
        device, kind, index, field = parts
        text = payload_text(payload)
        if kind == "online":
            return availability(device, text, received_ns, FORMAT, ("true",), ("false",), "online")
        if field is None:  # relay/<i>: on / off / overpower
            return Decoded(ignored=True, notes=(f"relay state {short(text)!r}",))
        table = EMETER_FIELDS if kind == "emeter" else RELAY_FIELDS
        if field not in table:
            note = "known field, not stored" if field in NOT_STORED else "field not stored"
            return Decoded(ignored=True, notes=(f"{kind}/{index}/{short(field)}: {note}",))
        sink = ReadingSink(device, FORMAT, received_ns)
        quantity, unit = table[field]
        sink.add(index, quantity, text, unit, f"{kind}/{index}/{field}")
        return Decoded(readings=tuple(sink.readings))


register(ShellyGen1Decoder())
