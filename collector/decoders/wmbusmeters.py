"""wmbusmeters JSON telegrams of water and heat meters (Kamstrup Multical, Diehl IZAR, Itron iPERL).

wmbusmeters does not speak MQTT; the installer's ``shell=mosquitto_pub -t ...`` decides the
topic: ``wmbusmeters/<id>`` (README) or ``wmbusmeters/<name>`` (Home Assistant add-on).
The device key is the last topic level (the meter id or name, a string: leading zeros kept).

Fields -> quantities, from an explicit table (units as wmbusmeters documents them in the
field suffix, which is its stable naming rule):

* ``total_m3`` (water), ``total_volume_m3`` (heat meter volume) -> ``volume_m3``;
* ``total_energy_consumption_kwh`` (legacy ``total_kwh``) kWh -> ``energy_import_wh``;
  ``total_energy_consumption_mj``/``_gj`` MJ/GJ too;
* ``power_kw`` (legacy ``current_kw``) kW -> ``thermal_power_w``;
* ``volume_flow_m3h`` m³/h -> ``volume_flow_m3_h``;
* ``t1_temperature_c`` / ``flow_temperature_c`` of a heat meter -> ``temp_flow_c``,
  ``t2_temperature_c`` / ``return_temperature_c`` -> ``temp_return_c`` (the water meters'
  ``flow_temperature_c`` is the water temperature, not stored).
* Generic fallback for other drivers: a key ``total_<word>_m3`` -> ``volume_m3`` and
  ``total_<word>_kwh`` -> ``energy_import_wh``, used only when the table gave none.

Billing-date values (``target_*``, ``last_month_*``), maxima, alarms, status strings and
user ``calculate_``/``field_`` keys are not stored. Numbers written as strings (legacy
output: ``"current_kw": "0.000"``) are accepted. Temperatures of 127 °C are the meters'
"not available" sentinel and are dropped with a note.

Time: ``timestamp`` (ISO 8601 UTC, ``Z``) is wmbusmeters' reception time of the telegram,
a known meaning: it is used as ``time_ns``. Test placeholders (``1111-11-11``) and other
dates outside 2000..2100 are ignored with a note (receive time used).
"""

from __future__ import annotations

import re

from collector.decoders import Decoder, register
from collector.decoders._common import (
    ReadingSink,
    check_table,
    load_json_object,
    short,
    topic_levels,
)
from terril.errors import DecodeError
from terril.readings import Decoded
from terril.timeutil import MAX_TIME_NS, MIN_TIME_NS, parse_rfc3339

FORMAT = "wmbusmeters"

FIELDS = check_table(FORMAT, {
    "total_m3": ("volume_m3", "m3"),
    "total_volume_m3": ("volume_m3", "m3"),
    "total_energy_consumption_kwh": ("energy_import_wh", "kWh"),
    "total_kwh": ("energy_import_wh", "kWh"),
    "total_energy_consumption_mj": ("energy_import_wh", "MJ"),
    "total_energy_consumption_gj": ("energy_import_wh", "GJ"),
    "power_kw": ("thermal_power_w", "kW"),
    "current_kw": ("thermal_power_w", "kW"),
    "volume_flow_m3h": ("volume_flow_m3_h", "m3/h"),
})
HEAT_TEMPERATURE_FIELDS = check_table(FORMAT, {
    "t1_temperature_c": ("temp_flow_c", "°C"),
    "flow_temperature_c": ("temp_flow_c", "°C"),
    "t2_temperature_c": ("temp_return_c", "°C"),
    "return_temperature_c": ("temp_return_c", "°C"),
})
_GENERIC = ((re.compile(r"total_[a-z]+_m3"), "volume_m3", "m3"), (re.compile(r"total_[a-z]+_kwh"), "energy_import_wh", "kWh"))
_SENTINEL_C = 127.0


def _is_heat(obj: dict[str, object]) -> bool:
    media = obj.get("media")
    return isinstance(media, str) and "heat" in media.lower()


class WmbusmetersDecoder(Decoder):
    """Decoder for wmbusmeters JSON telegrams."""

    name = FORMAT
    channels = {"main": "the meter's values"}
    topic_filters = ("wmbusmeters/+",)

    def claims(self, topic: str) -> bool:
        parts = topic_levels(topic)
        return parts is not None and len(parts) == 2 and parts[0] == "wmbusmeters"

    def device_key(self, topic: str) -> str | None:
        parts = topic_levels(topic)
        return parts[-1] if parts else None

    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        device = self.device_key(topic)
        if device is None:
            raise DecodeError("bad_topic", "expected wmbusmeters/<id or name>")
        obj = load_json_object(payload)
        sink = ReadingSink(device, FORMAT, received_ns)
        stamp = obj.get("timestamp")
        if stamp is not None:
            try:
                if not isinstance(stamp, str):
                    raise ValueError("not text")
                t = parse_rfc3339(stamp)
            except (ValueError, OverflowError):
                sink.notes.append(f"bad_time: timestamp {short(stamp)!r} cannot be parsed")
            else:
                if MIN_TIME_NS <= t < MAX_TIME_NS:
                    sink.time_ns = t
                else:
                    sink.notes.append(f"implausible_time: timestamp {short(stamp)} ignored, receive time used")
        done: set[str] = set()
        for key, value in obj.items():
            entry = FIELDS.get(key)
            if entry is not None and entry[0] not in done:
                sink.add(None, entry[0], value, entry[1], key)
                done.add(entry[0])
        if _is_heat(obj):
            for key, (quantity, unit) in HEAT_TEMPERATURE_FIELDS.items():
                value = obj.get(key)
                if value is None or quantity in done:
                    continue
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value == _SENTINEL_C:
                    sink.notes.append(f"{key}=127: 'not available' sentinel dropped")
                    continue
                sink.add(None, quantity, value, unit, key)
                done.add(quantity)
        for key, value in obj.items():
            for pattern, quantity, unit in _GENERIC:
                if quantity not in done and pattern.fullmatch(key):
                    sink.add(None, quantity, value, unit, key)
                    done.add(quantity)
        meter_id = obj.get("id")
        if isinstance(meter_id, str):
            sink.notes.append(f"id={short(meter_id)}")
        if not sink.readings:
            sink.notes.append("no volume, energy, power or temperature field")
            return Decoded(ignored=True, notes=tuple(sink.notes))
        return Decoded(readings=tuple(sink.readings), notes=tuple(sink.notes))


register(WmbusmetersDecoder())
