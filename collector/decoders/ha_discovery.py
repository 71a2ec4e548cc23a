"""Home Assistant MQTT discovery configs: never readings, but registry proposals for unknown sensors.

Topic ``homeassistant/<component>/[<node_id>/]<object_id>/config`` (retained). The decoder
returns ``Decoded(ignored=True, notes=...)``. :func:`propose_registry_entry` turns a config
of an energy-related sensor into a :class:`RegistryProposal` (device key, format guess,
quantity, unit, channel) that a person reviews before adding it to the registry.

Config keys may be abbreviated (``stat_t``, ``dev_cla``, ``unit_of_meas``, ``stat_cla``,
``val_tpl``, ``uniq_id``, ``dev``/``ids``) and topics may start with ``~`` (the base topic).

Quantity guess, from ``device_class`` and unit (never from the name): ``energy`` + Wh/kWh/MWh
-> ``energy_import_wh`` (``state_class`` ``total_increasing`` or ``total``); ``power`` + W/kW
-> ``power_w``; ``apparent_power`` + VA/kVA -> ``apparent_power_va``; ``reactive_power`` ->
``reactive_power_var``; ``voltage``, ``current``, ``frequency``, ``power_factor``; ``water``/``gas``
+ m³/L -> ``volume_m3``; ``temperature`` °C -> ``temp_inside_c`` (to be reviewed).
The channel is the teleinfo label read from ``value_template`` (``value_json.<LABEL>``)
mapped through the Linky rules when the format guess is ``linky_tic``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collector.decoders import Decoder, register
from collector.decoders._common import load_json_object, short, topic_levels
from terril.errors import DecodeError
from terril.readings import Decoded

FORMAT = "ha_discovery"

_ABBREVIATIONS = {
    "stat_t": "state_topic", "dev_cla": "device_class", "unit_of_meas": "unit_of_measurement",
    "stat_cla": "state_class", "val_tpl": "value_template", "uniq_id": "unique_id", "dev": "device",
    "obj_id": "object_id",
}
#: (device_class, unit) -> (quantity, canonical unit)
_CLASS_UNITS: dict[tuple[str, str], tuple[str, str]] = {
    ("energy", "Wh"): ("energy_import_wh", "Wh"),
    ("energy", "kWh"): ("energy_import_wh", "kWh"),
    ("energy", "MWh"): ("energy_import_wh", "MWh"),
    ("power", "W"): ("power_w", "W"),
    ("power", "kW"): ("power_w", "kW"),
    ("apparent_power", "VA"): ("apparent_power_va", "VA"),
    ("apparent_power", "kVA"): ("apparent_power_va", "kVA"),
    ("reactive_power", "var"): ("reactive_power_var", "var"),
    ("voltage", "V"): ("voltage_v", "V"),
    ("current", "A"): ("current_a", "A"),
    ("frequency", "Hz"): ("frequency_hz", "Hz"),
    ("power_factor", ""): ("power_factor", "1"),
    ("water", "m³"): ("volume_m3", "m3"),
    ("water", "L"): ("volume_m3", "L"),
    ("gas", "m³"): ("volume_m3", "m3"),
    ("temperature", "°C"): ("temp_inside_c", "°C"),
}
_LABEL_RE = re.compile(r"value_json\.([A-Za-z0-9_+-]+)")


@dataclass(frozen=True, slots=True)
class RegistryProposal:
    """A proposed registry device entry for a sensor announced by Home Assistant discovery.

    ``unit`` is the unit the sensor publishes in (before conversion to the quantity's unit).
    """

    device_key: str
    state_topic: str
    format: str | None
    quantity: str
    unit: str
    channel: str | None
    name: str
    unique_id: str | None


def split_topic(topic: str) -> tuple[str, str] | None:
    """-> (component, node_id or object_id) or None when not a discovery config topic."""
    parts = topic_levels(topic)
    if parts is None or len(parts) not in (4, 5) or parts[0] != "homeassistant" or parts[-1] != "config":
        return None
    return parts[1], parts[2]


def _expand(config: dict[str, object]) -> dict[str, object]:
    out = {_ABBREVIATIONS.get(k, k): v for k, v in config.items()}
    base = out.get("~")
    if isinstance(base, str):
        for key in ("state_topic",):
            value = out.get(key)
            if isinstance(value, str):
                if value.startswith("~"):
                    out[key] = base + value[1:]
                elif value.endswith("~"):
                    out[key] = value[:-1] + base
    return out


def propose_registry_entry(topic: str, payload: bytes) -> RegistryProposal | None:
    """A registry proposal for a discovery config of an energy-related sensor, else None.

    Never raises: an invalid config gives None.
    """
    if split_topic(topic) is None:
        return None
    try:
        config = _expand(load_json_object(payload))
    except DecodeError:
        return None
    state_topic = config.get("state_topic")
    device_class = config.get("device_class")
    unit = config.get("unit_of_measurement", "")
    if not isinstance(state_topic, str) or not isinstance(device_class, str) or not isinstance(unit, str):
        return None
    found = _CLASS_UNITS.get((device_class, unit))
    if found is None:
        return None
    quantity, vendor_unit = found
    from collector.decoders.detect import detect_format

    fmt = detect_format(state_topic, b"")
    channel: str | None = None
    template = config.get("value_template")
    label = None
    if isinstance(template, str):
        m = _LABEL_RE.search(template)
        label = m.group(1) if m else None
    device_key = state_topic.rsplit("/", 1)[-1]
    if fmt is not None:
        from collector.decoders import get_decoder

        decoder = get_decoder(fmt)
        key = decoder.device_key(state_topic) if decoder is not None else None
        device_key = key or device_key
    if fmt == "linky_tic" and label is not None:
        from collector.decoders.linky_tic import TIC_LABELS

        entry = TIC_LABELS.get(label)
        if entry is not None:
            quantity, channel = entry[0], entry[2]
    unique_id = config.get("unique_id")
    name = config.get("name")
    return RegistryProposal(
        device_key=device_key,
        state_topic=state_topic,
        format=fmt,
        quantity=quantity,
        unit=vendor_unit,
        channel=channel,
        name=name if isinstance(name, str) else (label or ""),
        unique_id=unique_id if isinstance(unique_id, str) else None,
    )


class HaDiscoveryDecoder(Decoder):
    """Decoder for Home Assistant discovery configs: ignored, with a note proposing a registry entry."""

    name = FORMAT
    channels = {"main": "none: discovery configs are never readings (they are counted as ignored)"}
    topic_filters = ("homeassistant/+/+/config", "homeassistant/+/+/+/config")

    def device_key(self, topic: str) -> str | None:
        parts = split_topic(topic)
        return parts[1] if parts else None

    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        if split_topic(topic) is None:
            raise DecodeError("bad_topic", "expected homeassistant/<component>/[<node_id>/]<object_id>/config")
        if payload.strip() == b"":
            return Decoded(ignored=True, notes=("discovery config removed (empty payload)",))
        load_json_object(payload)  # a broken config is quarantined like any broken payload
        proposal = propose_registry_entry(topic, payload)
        if proposal is None:
            return Decoded(ignored=True, notes=("discovery config: not an energy sensor Terril knows",))
        return Decoded(ignored=True, notes=(
            f"discovery: propose device key {short(proposal.device_key)!r} format {proposal.format} "
            f"quantity {proposal.quantity} unit {proposal.unit} channel {proposal.channel}",))


register(HaDiscoveryDecoder())
