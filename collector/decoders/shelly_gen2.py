"""Shelly Gen2/Gen3/Gen4 devices (Pro 3EM, Pro EM, 3EM-63, Plus/Mini PM, 1PM): JSON-RPC over MQTT.

Topics: ``<prefix>/events/rpc`` (``NotifyStatus``, ``NotifyFullStatus``, ``NotifyEvent``
frames), ``<prefix>/status/<component>`` (component status, optional), ``<prefix>/online``
(``true``/``false``, last will). The prefix defaults to the device id and may have several
levels; it is the device key.

Components and channels (the channel is taken from the component KEY ``em1:2``, never from
its inner ``id``, which the documentation shows inconsistent):

* ``em:N`` (triphase profile): ``a_/b_/c_`` ``act_power`` W, ``aprt_power`` VA, ``current`` A,
  ``voltage`` V, ``pf``, ``freq`` Hz -> channels ``L1``/``L2``/``L3``; ``total_act_power``,
  ``total_aprt_power``, ``total_current`` -> channel None; ``n_current`` -> channel ``N``.
* ``emdata:N``: ``a_/b_/c_total_act_energy`` and ``..._act_ret_energy`` Wh -> L1..L3;
  ``total_act`` / ``total_act_ret`` Wh -> ``energy_import_wh`` / ``energy_export_wh`` channel None.
* ``em1:N`` / ``em1data:N`` (monophase profile, Pro EM): un-prefixed keys, channel ``"N"``.
* ``switch:N`` / ``pm1:N`` (Plus/Mini PM, 1PM): ``apower`` W, ``voltage``, ``current``,
  ``freq``, ``pf``, ``aenergy.total`` / ``ret_aenergy.total`` Wh (lifetime), channel ``"N"``.
  ``by_minute`` (mWh) is not stored.
For ``em:N``/``emdata:N`` with N > 0 the channels are prefixed ``N:`` (``1:L1``, ``1:``... ).

Power is signed (negative = export). A frequency outside 40..70 Hz (dead phases report
garbage such as 198) is dropped with a note.

NotifyStatus is a delta: absent keys are unknown (nothing is emitted), ``null`` values
too. ``NotifyEvent`` positional ``values`` arrays are not decoded (their column meaning
depends on ``EMData.GetRecords``): the message is ignored with a note.

Time: ``params.ts`` (float epoch seconds, UTC) of Notify* frames; status topics carry
none (``time_ns`` None).
"""

from __future__ import annotations

from collector.decoders import Decoder, register
from collector.decoders._common import (
    ReadingSink,
    availability,
    check_table,
    epoch_time_ns,
    load_json_object,
    payload_text,
    short,
    topic_levels,
)
from terril.errors import DecodeError
from terril.readings import Decoded

FORMAT = "shelly_gen2"

#: Per-phase field suffix (after ``a_``/``b_``/``c_``) of ``em:N`` -> (quantity, unit).
EM_PHASE_FIELDS = check_table(FORMAT, {
    "act_power": ("power_w", "W"),
    "aprt_power": ("apparent_power_va", "VA"),
    "current": ("current_a", "A"),
    "voltage": ("voltage_v", "V"),
    "pf": ("power_factor", "1"),
    "freq": ("frequency_hz", "Hz"),
})
EM_TOTAL_FIELDS = check_table(FORMAT, {
    "total_act_power": ("power_w", "W"),
    "total_aprt_power": ("apparent_power_va", "VA"),
    "total_current": ("current_a", "A"),
})
EMDATA_PHASE_FIELDS = check_table(FORMAT, {
    "total_act_energy": ("energy_import_wh", "Wh"),
    "total_act_ret_energy": ("energy_export_wh", "Wh"),
})
EMDATA_TOTAL_FIELDS = check_table(FORMAT, {
    "total_act": ("energy_import_wh", "Wh"),
    "total_act_ret": ("energy_export_wh", "Wh"),
})
EM1_FIELDS = EM_PHASE_FIELDS
EM1DATA_FIELDS = EMDATA_PHASE_FIELDS
SWITCH_FIELDS = check_table(FORMAT, {
    "apower": ("power_w", "W"),
    "voltage": ("voltage_v", "V"),
    "current": ("current_a", "A"),
    "pf": ("power_factor", "1"),
    "freq": ("frequency_hz", "Hz"),
})
SWITCH_ENERGY_FIELDS = check_table(FORMAT, {
    "aenergy": ("energy_import_wh", "Wh"),
    "ret_aenergy": ("energy_export_wh", "Wh"),
})
_PHASES = (("a_", "L1"), ("b_", "L2"), ("c_", "L3"))
_FREQ_RANGE_HZ = (40.0, 70.0)
_NOTIFY_STATUS = ("NotifyStatus", "NotifyFullStatus")
#: Most levels of a custom prefix (terril.security.topics.MAX_KEY_LEVELS: the broker ACL allows as many)
MAX_PREFIX_LEVELS = 4


def split_topic(topic: str) -> tuple[str, str, str | None] | None:
    """-> (prefix = device key, kind ``rpc|status|online``, component) or None when not Gen2."""
    parts = topic_levels(topic)
    if parts is None or len(parts) < 2:
        return None
    if len(parts) >= 3 and parts[-2:] == ["events", "rpc"]:
        return "/".join(parts[:-2]), "rpc", None
    if len(parts) >= 3 and parts[-2] == "status" and _component_name(parts[-1]) is not None:
        return "/".join(parts[:-2]), "status", parts[-1]
    if parts[-1] == "online":
        return "/".join(parts[:-1]), "online", None
    return None


def _component_name(key: str) -> tuple[str, str] | None:
    name, sep, index = key.partition(":")
    if not sep or not index.isdigit() or len(index) > 3 or not name.isidentifier():
        return None
    return name, index


def _freq_ok(sink: ReadingSink, value: object, what: str) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not _FREQ_RANGE_HZ[0] <= value <= _FREQ_RANGE_HZ[1]:
            sink.notes.append(f"{what}={short(value)} Hz outside {_FREQ_RANGE_HZ}: dropped")
            return False
    return True


def add_component(key: str, status: object, sink: ReadingSink) -> bool:
    """Add the readings of one component status (``em:0``, ``emdata:0``...); False if not an energy component."""
    comp = _component_name(key)
    if comp is None:
        return False
    name, index = comp
    if name not in ("em", "emdata", "em1", "em1data", "switch", "pm1"):
        return False
    if not isinstance(status, dict):
        raise DecodeError("bad_shape", f"{short(key)} must be an object")
    if name in ("em", "emdata"):
        pre = "" if index == "0" else f"{index}:"
        phase_fields, total_fields = ((EM_PHASE_FIELDS, EM_TOTAL_FIELDS) if name == "em"
                                      else (EMDATA_PHASE_FIELDS, EMDATA_TOTAL_FIELDS))
        for letter, phase in _PHASES:
            for suffix, (quantity, unit) in phase_fields.items():
                field = letter + suffix
                value = status.get(field)
                if value is None or (suffix == "freq" and not _freq_ok(sink, value, f"{key}.{field}")):
                    continue
                sink.add(pre + phase, quantity, value, unit, f"{key}.{field}")
        for field, (quantity, unit) in total_fields.items():
            sink.add(pre or None, quantity, status.get(field), unit, f"{key}.{field}")
        if name == "em":
            sink.add(pre + "N", "current_a", status.get("n_current"), "A", f"{key}.n_current")
        return True
    if name in ("em1", "em1data"):
        for field, (quantity, unit) in (EM1_FIELDS if name == "em1" else EM1DATA_FIELDS).items():
            value = status.get(field)
            if value is None or (field == "freq" and not _freq_ok(sink, value, f"{key}.{field}")):
                continue
            sink.add(index, quantity, value, unit, f"{key}.{field}")
        return True
    for field, (quantity, unit) in SWITCH_FIELDS.items():
        value = status.get(field)
        if value is None or (field == "freq" and not _freq_ok(sink, value, f"{key}.{field}")):
            continue
        sink.add(index, quantity, value, unit, f"{key}.{field}")
    for field, (quantity, unit) in SWITCH_ENERGY_FIELDS.items():
        energy = status.get(field)
        if energy is None:
            continue
        if not isinstance(energy, dict):
            raise DecodeError("bad_shape", f"{key}.{field} must be an object")
        sink.add(index, quantity, energy.get("total"), unit, f"{key}.{field}.total")
    return True


class ShellyGen2Decoder(Decoder):
    """Decoder for Shelly Gen2+ RPC notifications, component status topics and online flags."""

    name = FORMAT
    channels = {
        **{str(i): f"switch:{i}, pm1:{i} or em1:{i} (Plus Plug S, 1PM, Gen4, Pro EM clamp {i})" for i in range(4)},
        "main": "em:0 and emdata:0 totals (Pro 3EM, triphase profile)",
        "L1": "em:0 phase A", "L2": "em:0 phase B", "L3": "em:0 phase C", "N": "em:0 neutral current",
    }
    #: ``0`` takes switch:0/pm1:0/em1:0, and the em:0 totals too (readings without a channel go to
    #: the registry channel ``main`` if the device has one, else to its first channel)
    default_channels = ("0",)
    #: the prefix may have up to MAX_PREFIX_LEVELS levels (docs/devices.md), each depth is subscribed
    topic_filters = tuple(f"{'+/' * n}{suffix}" for n in range(1, MAX_PREFIX_LEVELS + 1)
                          for suffix in ("events/rpc", "status/+", "online"))
    topic_layout = '<prefix>/events/rpc, <prefix>/status/<component:N> or <prefix>/online'
    split_topic = staticmethod(split_topic)

    def claims(self, topic: str) -> bool:
        return split_topic(topic) is not None and not topic.startswith("shellies/")


    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        parts = self.topic_parts(topic)
        device, kind, component = parts
        if kind == "online":
            return availability(device, payload_text(payload), received_ns, FORMAT, ("true",), ("false",), "online")
        obj = load_json_object(payload)
        sink = ReadingSink(device, FORMAT, received_ns)
        if kind == "status":
            assert component is not None
            if not add_component(component, obj, sink):
                return Decoded(ignored=True, notes=(f"component {short(component)} not stored",))
            return self._result(sink)
        method = obj.get("method")
        params = obj.get("params")
        if not isinstance(method, str):
            raise DecodeError("bad_shape", "an RPC frame needs a method")
        if method not in _NOTIFY_STATUS:
            return Decoded(ignored=True, notes=(f"method {short(method)} not decoded",))
        if not isinstance(params, dict):
            raise DecodeError("bad_shape", "params must be an object")
        if "ts" in params:
            sink.time_ns = epoch_time_ns(params["ts"], 1, sink.notes, "params.ts")
        for key, status in params.items():
            if key != "ts":
                add_component(key, status, sink)
        return self._result(sink)

    @staticmethod
    def _result(sink: ReadingSink) -> Decoded:
        if not sink.readings:
            sink.notes.append("no energy component in this message")
            return Decoded(ignored=True, notes=tuple(sink.notes))
        return Decoded(readings=tuple(sink.readings), notes=tuple(sink.notes))


register(ShellyGen2Decoder())
