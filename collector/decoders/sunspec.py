"""SunSpec inverters and meters published as JSON by Modbus-to-MQTT bridges.

Layouts (values already scaled by the bridge):

* fronius-bridge: ``<topic>/inverter/<name>/values``, ``<topic>/meter/<name>/values``,
  ``.../availability`` (``connected``/``disconnected``, retained) -> :class:`Availability`,
  ``.../events`` and ``.../device`` (not stored). Device key = ``<name>``.
* solaredgedc-style single topic ``pvsolar/<serial>``: one flat object. Device key = ``<serial>``.

Units, per bridge and field (the same bridge uses two units for energy!):

* fronius-bridge inverter: ``ac_energy`` **Wh** -> ``energy_produced_wh``; ``ac_power_active`` W
  (AC output, positive), ``ac_power_apparent`` VA, ``ac_power_reactive`` var, ``ac_frequency`` Hz,
  ``ac_power_factor`` in **percent** (-100..100) -> ratio; ``phases[].ac_voltage``/``ac_current``
  -> channels ``L<id>``; ``dc_power`` W; ``inputs[].dc_voltage/dc_current/dc_power`` -> channel
  ``"<id>"``. ``dc_energy`` and ``efficiency`` are not stored.
* fronius-bridge meter: ``energy_active_import`` / ``energy_active_export`` **kWh** ->
  ``energy_import_wh`` / ``energy_export_wh``; ``power_active`` W (negative = export),
  ``power_apparent`` VA, ``power_reactive`` var, ``power_factor`` percent, ``frequency`` Hz,
  ``voltage_ph`` V, ``current`` A; ``phases[]`` -> channels ``L<id>``. Apparent and reactive
  energies are not stored.
* solaredgedc: ``AC_Energy_WH`` Wh -> ``energy_produced_wh``; ``AC_Power`` W, ``AC_VA``,
  ``AC_VAR``, ``AC_Frequency``, ``AC_PF`` percent, ``AC_Voltage_L<n>_N`` -> ``L<n>``,
  ``DC_Power``/``DC_Voltage``/``DC_Current``; ``InverterStatus``, ``Temp_Sink`` not stored.

Time: ``time`` = the bridge's poll time in epoch **milliseconds** (UTC) -> ``time_ns``.
"""

from __future__ import annotations

from collector.decoders import Decoder, register
from collector.decoders._common import (
    ReadingSink,
    check_table,
    epoch_time_ns,
    load_json_object,
    payload_text,
    short,
    topic_levels,
)
from terril.errors import DecodeError
from terril.readings import Availability, Decoded

FORMAT = "sunspec"

#: field -> (quantity, unit, scale). Scale 0.01 turns a power factor in percent into a ratio.
INVERTER_FIELDS = {
    "ac_energy": ("energy_produced_wh", "Wh", 1.0),
    "ac_power_active": ("power_w", "W", 1.0),
    "ac_power_apparent": ("apparent_power_va", "VA", 1.0),
    "ac_power_reactive": ("reactive_power_var", "var", 1.0),
    "ac_power_factor": ("power_factor", "1", 0.01),
    "ac_frequency": ("frequency_hz", "Hz", 1.0),
    "dc_power": ("dc_power_w", "W", 1.0),
}
INVERTER_PHASE_FIELDS = {"ac_voltage": ("voltage_v", "V", 1.0), "ac_current": ("current_a", "A", 1.0)}
INVERTER_INPUT_FIELDS = {
    "dc_voltage": ("dc_voltage_v", "V", 1.0),
    "dc_current": ("dc_current_a", "A", 1.0),
    "dc_power": ("dc_power_w", "W", 1.0),
}
METER_FIELDS = {
    "energy_active_import": ("energy_import_wh", "kWh", 1.0),
    "energy_active_export": ("energy_export_wh", "kWh", 1.0),
    "power_active": ("power_w", "W", 1.0),
    "power_apparent": ("apparent_power_va", "VA", 1.0),
    "power_reactive": ("reactive_power_var", "var", 1.0),
    "power_factor": ("power_factor", "1", 0.01),
    "frequency": ("frequency_hz", "Hz", 1.0),
    "voltage_ph": ("voltage_v", "V", 1.0),
    "current": ("current_a", "A", 1.0),
}
METER_PHASE_FIELDS = {k: v for k, v in METER_FIELDS.items() if not k.startswith("energy_") and k != "frequency"}
SOLAREDGE_FIELDS = {
    "AC_Energy_WH": ("energy_produced_wh", "Wh", 1.0),
    "AC_Power": ("power_w", "W", 1.0),
    "AC_VA": ("apparent_power_va", "VA", 1.0),
    "AC_VAR": ("reactive_power_var", "var", 1.0),
    "AC_PF": ("power_factor", "1", 0.01),
    "AC_Frequency": ("frequency_hz", "Hz", 1.0),
    "AC_Current": ("current_a", "A", 1.0),
    "DC_Power": ("dc_power_w", "W", 1.0),
    "DC_Voltage": ("dc_voltage_v", "V", 1.0),
    "DC_Current": ("dc_current_a", "A", 1.0),
}
for _n in (1, 2, 3):
    SOLAREDGE_FIELDS[f"AC_Voltage_L{_n}_N"] = ("voltage_v", "V", 1.0)
for _t in (INVERTER_FIELDS, INVERTER_PHASE_FIELDS, INVERTER_INPUT_FIELDS, METER_FIELDS, SOLAREDGE_FIELDS):
    check_table(FORMAT, {k: (q, u) for k, (q, u, _) in _t.items()})

_BRIDGE_KINDS = ("values", "availability", "events", "device")


def split_topic(topic: str) -> tuple[str, str, str] | None:
    """-> (device key, role ``inverter|meter|solaredge``, kind) or None when not a bridge layout."""
    parts = topic_levels(topic)
    if parts is None:
        return None
    if len(parts) >= 3 and parts[-3] in ("inverter", "meter") and parts[-1] in _BRIDGE_KINDS:
        return parts[-2], parts[-3], parts[-1]
    if len(parts) == 2 and parts[0] == "pvsolar":
        return parts[1], "solaredge", "values"
    return None


def _add(sink: ReadingSink, table: dict[str, tuple[str, str, float]], obj: dict[str, object],
         channel: str | None, what: str) -> None:
    for key, (quantity, unit, scale) in table.items():
        if key in obj:
            sink.add(channel, quantity, obj[key], unit, what + key, scale=scale)


def _add_list(sink: ReadingSink, table: dict[str, tuple[str, str, float]], items: object, prefix: str,
              what: str) -> None:
    if items is None:
        return
    if not isinstance(items, list) or len(items) > 64:
        raise DecodeError("bad_shape", f"{what} must be a short array")
    for pos, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise DecodeError("bad_shape", f"{what}[] must hold objects")
        ident = item.get("id", pos)
        if isinstance(ident, bool) or not isinstance(ident, int) or not 0 <= ident < 1000:
            raise DecodeError("bad_value", f"{what}[].id must be a small integer")
        _add(sink, table, item, f"{prefix}{ident}", f"{what}[{ident}].")


class SunSpecBridgeDecoder(Decoder):
    """Decoder for fronius-bridge and solaredgedc-style SunSpec JSON."""

    name = FORMAT
    channels = {"main": "inverter or meter totals", **{f"L{i}": f"phase {i}" for i in range(1, 4)},
                **{str(i): f"DC input {i}" for i in range(1, 5)}}
    topic_filters = ("+/inverter/+/values", "+/inverter/+/availability", "+/meter/+/values",
                     "+/meter/+/availability", "pvsolar/+")
    topic_layout = '<topic>/inverter|meter/<name>/values|availability or pvsolar/<serial>'
    split_topic = staticmethod(split_topic)


    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        parts = self.topic_parts(topic)
        device, role, kind = parts
        if kind == "availability":
            text = payload_text(payload)
            if text in ("connected", "disconnected"):
                return Decoded(availability=(Availability(device, text == "connected", received_ns, FORMAT),))
            raise DecodeError("bad_value", f"availability must be connected or disconnected, not {short(text)!r}")
        if kind in ("events", "device"):
            return Decoded(ignored=True, notes=(f"{role} {kind}: not stored",))
        obj = load_json_object(payload)
        sink = ReadingSink(device, FORMAT, received_ns)
        if "time" in obj:
            sink.time_ns = epoch_time_ns(obj["time"], 1e-3, sink.notes, "time (ms)")
        if role == "inverter":
            _add(sink, INVERTER_FIELDS, obj, None, "")
            _add_list(sink, INVERTER_PHASE_FIELDS, obj.get("phases"), "L", "phases")
            _add_list(sink, INVERTER_INPUT_FIELDS, obj.get("inputs"), "", "inputs")
        elif role == "meter":
            _add(sink, METER_FIELDS, obj, None, "")
            _add_list(sink, METER_PHASE_FIELDS, obj.get("phases"), "L", "phases")
        else:
            _add(sink, SOLAREDGE_FIELDS, {k: v for k, v in obj.items() if not k.startswith("AC_Voltage_L")}, None, "")
            for n in (1, 2, 3):
                key = f"AC_Voltage_L{n}_N"
                if key in obj:
                    sink.add(f"L{n}", "voltage_v", obj[key], "V", key)
            if isinstance(obj.get("MeterId"), str):
                sink.notes.append(f"serial={short(obj['MeterId'])}")
        if not sink.readings:
            sink.notes.append("no known field")
            return Decoded(ignored=True, notes=tuple(sink.notes))
        return Decoded(readings=tuple(sink.readings), notes=tuple(sink.notes))


register(SunSpecBridgeDecoder())
