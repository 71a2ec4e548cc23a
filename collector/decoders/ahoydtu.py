"""AhoyDTU (Hoymiles micro-inverters): one plain-text scalar per MQTT topic.

Topics (``<TOPIC>`` default ``inverter``): ``<TOPIC>/<name>/ch<N>/<Field>`` (``ch0`` = AC,
channel None; ``ch1..n`` = DC inputs, channel ``"1"``...), ``<TOPIC>/<name>/available``
(``0`` not available, ``1`` available, ``2`` available and producing; older ``true``/``false``)
-> :class:`Availability`, ``<TOPIC>/total/<Field>`` (only published while every inverter is
available; device key ``<TOPIC>``). The device key of inverter topics is the user-chosen
inverter ``<name>``.

Units (per field): ``YieldTotal`` **kWh** (the manual says Wh; the firmware publishes kWh) ->
``energy_produced_wh``; ``YieldDay`` Wh -> ``energy_produced_today_wh``; ``P_AC`` W ->
``power_w``; ``P_DC`` W -> ``dc_power_w``; ``U_AC`` V, ``I_AC`` A, ``F_AC`` Hz, ``PF_AC``
ratio, ``Q_AC`` var; on DC inputs ``U_DC``/``I_DC``. ``YieldTotal`` has been seen decreasing
(ahoy#1213): it is stored raw and resets are flagged downstream.

Time: values carry none (``time_ns`` None); ``last_success`` is on its own topic.
"""

from __future__ import annotations

import re

from collector.decoders import Decoder, register
from collector.decoders._common import (
    ReadingSink,
    availability,
    check_table,
    payload_text,
    topic_levels,
)
from terril.readings import Decoded

FORMAT = "ahoydtu"
_CH_RE = re.compile(r"ch(\d{1,2})")

AC_FIELDS = check_table(FORMAT, {
    "P_AC": ("power_w", "W"),
    "P_DC": ("dc_power_w", "W"),
    "U_AC": ("voltage_v", "V"),
    "I_AC": ("current_a", "A"),
    "F_AC": ("frequency_hz", "Hz"),
    "PF_AC": ("power_factor", "1"),
    "Q_AC": ("reactive_power_var", "var"),
    "YieldDay": ("energy_produced_today_wh", "Wh"),
    "YieldTotal": ("energy_produced_wh", "kWh"),
})
DC_FIELDS = check_table(FORMAT, {
    "P_DC": ("dc_power_w", "W"),
    "U_DC": ("dc_voltage_v", "V"),
    "I_DC": ("dc_current_a", "A"),
    "YieldDay": ("energy_produced_today_wh", "Wh"),
    "YieldTotal": ("energy_produced_wh", "kWh"),
})
_KNOWN = frozenset(AC_FIELDS) | frozenset(DC_FIELDS) | {"Temp", "Efficiency", "Irradiation", "ALARM_MES_ID",
                                                         "MaxPower"}


def split_topic(topic: str) -> tuple[str, str, str | None, str] | None:
    """-> (device key, kind ``channel|total|available``, channel number, field) or None."""
    parts = topic_levels(topic)
    if parts is None or len(parts) < 3:
        return None
    m = _CH_RE.fullmatch(parts[-2]) if len(parts) >= 4 else None
    if m is not None and parts[-1] in _KNOWN:
        return parts[-3], "channel", m.group(1), parts[-1]
    if parts[-2] == "total" and parts[-1] in _KNOWN:
        return "/".join(parts[:-2]), "total", None, parts[-1]
    if parts[-1] == "available":
        return parts[-2], "available", None, "available"
    return None


class AhoyDtuDecoder(Decoder):
    """Decoder for AhoyDTU per-topic scalars."""

    name = FORMAT
    channels = {"main": "AC side (ch0) or the totals (total/...)", **{str(i): f"DC input ch{i}" for i in range(1, 7)}}
    topic_filters = ("inverter/+/+/+", "inverter/+/available", "inverter/total/+")
    topic_layout = '<TOPIC>/<name>/ch<N>/<Field>, <TOPIC>/<name>/available or <TOPIC>/total/<Field>'
    split_topic = staticmethod(split_topic)


    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        parts = self.topic_parts(topic)
        device, kind, channel, field = parts
        text = payload_text(payload)
        if kind == "available":
            return availability(device, text, received_ns, FORMAT, ("1", "2", "true"), ("0", "false"), "available")
        table = AC_FIELDS if channel in (None, "0") else DC_FIELDS
        if field not in table:
            return Decoded(ignored=True, notes=(f"{field} not stored",))
        sink = ReadingSink(device, FORMAT, received_ns)
        quantity, unit = table[field]
        sink.add(None if channel in (None, "0") else str(int(channel)), quantity, text, unit, field)
        return Decoded(readings=tuple(sink.readings))


register(AhoyDtuDecoder())
