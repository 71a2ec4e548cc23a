"""Tasmota energy firmware (Sonoff Pow, PZEM, SDM, Shelly-on-Tasmota, Teleinfo driver) over MQTT.

Topics (FullTopic is configurable, so matching is on structural suffixes):

* default ``%prefix%/%topic%/``: ``tele/<topic>/SENSOR|STATE|LWT``, ``stat/<topic>/STATUS8|STATUS10``;
* custom ``%topic%/%prefix%/`` or deeper: ``<topic>/tele/SENSOR``, ``a/b/c/<topic>/tele/SENSOR``.

The device key is the Tasmota ``<topic>``: the level just before the prefix
(``tele``/``stat``) when the prefix is the second-to-last level, else the level
after a leading prefix.

``ENERGY`` units (per field, never guessed from the name): ``Total``, ``Today``,
``Yesterday``, ``TotalTariff``, ``ExportActive``, ``ExportTariff`` kWh; ``Period`` Wh
(since the previous message, not stored); ``Power`` W; ``ApparentPower`` VA;
``ReactivePower`` var; ``Voltage`` V; ``Current`` A; ``Frequency`` Hz; ``Factor`` ratio.
``Total`` -> ``energy_import_wh``; ``Today`` -> ``energy_import_today_wh`` (daily counter,
resets at local midnight); ``ExportActive`` -> ``energy_export_wh``; ``Yesterday`` and
``TotalStartTime`` are not stored. Each value may be a scalar (channel None), an array
(one per phase or channel: channels ``"1"``, ``"2"``, ...) or an object (channel = its key).
``TotalTariff``/``ExportTariff`` arrays give channels ``T1``, ``T2``...

When the message holds a Teleinfo ``TIC`` object (Linky through Tasmota), the
``ENERGY`` block is computed by the driver (its ``Power`` is VA, its totals are not
billing indexes): it is ignored and the TIC labels are decoded with the rules of
:mod:`collector.decoders.linky_tic` instead.

Time: ``Time`` is the device's local wall clock without a zone: it is read as
Europe/Paris local time (fold=0 in the repeated autumn hour). A ``Time`` with an
offset (SetOption52) is used as is. No ``Time`` -> ``time_ns`` None.

``LWT`` ``Online``/``Offline`` -> :class:`Availability`. ``STATE`` (uptime, Wi-Fi,
relay) carries no reading: decoded as ignored.
"""

from __future__ import annotations

from collector.decoders import Decoder, register
from collector.decoders._common import (
    ReadingSink,
    availability,
    check_table,
    device_time_ns,
    load_json_object,
    payload_text,
    short,
)
from collector.decoders.linky_tic import TIC_CHANNELS, add_tic_labels, frame_time_ns
from collector.decoders._tasmota_topic import split_topic
from terril.errors import DecodeError
from terril.readings import Decoded

FORMAT = "tasmota"

#: ENERGY field -> (quantity, unit). Fields not listed are not stored.
ENERGY_FIELDS = check_table(FORMAT, {
    "Total": ("energy_import_wh", "kWh"),
    "Today": ("energy_import_today_wh", "kWh"),
    "ExportActive": ("energy_export_wh", "kWh"),
    "Power": ("power_w", "W"),
    "ApparentPower": ("apparent_power_va", "VA"),
    "ReactivePower": ("reactive_power_var", "var"),
    "Factor": ("power_factor", "1"),
    "Voltage": ("voltage_v", "V"),
    "Current": ("current_a", "A"),
    "Frequency": ("frequency_hz", "Hz"),
})
TARIFF_FIELDS = check_table(FORMAT, {
    "TotalTariff": ("energy_import_wh", "kWh"),
    "ExportTariff": ("energy_export_wh", "kWh"),
})


def _add_energy_value(sink: ReadingSink, quantity: str, unit: str, key: str, value: object, tariff: bool) -> None:
    if isinstance(value, list):
        if len(value) > 64:
            raise DecodeError("bad_shape", f"ENERGY.{key}: array too long")
        for i, item in enumerate(value, start=1):
            sink.add(f"T{i}" if tariff else str(i), quantity, item, unit, f"ENERGY.{key}[{i - 1}]")
    elif isinstance(value, dict):
        if len(value) > 64:
            raise DecodeError("bad_shape", f"ENERGY.{key}: object too large")
        for sub, item in value.items():
            if not (0 < len(sub) <= 16 and sub.isprintable()):
                raise DecodeError("bad_value", f"ENERGY.{key}: bad channel name {short(sub)!r}")
            sink.add(sub, quantity, item, unit, f"ENERGY.{key}.{sub}")
    else:
        if tariff:
            raise DecodeError("bad_shape", f"ENERGY.{key}: expected an array")
        sink.add(None, quantity, value, unit, f"ENERGY.{key}")


def add_energy(energy: dict[str, object], sink: ReadingSink) -> None:
    """Add the readings of a Tasmota ``ENERGY`` object."""
    for key, value in energy.items():
        if value is None:
            continue
        if key in ENERGY_FIELDS:
            quantity, unit = ENERGY_FIELDS[key]
            _add_energy_value(sink, quantity, unit, key, value, tariff=False)
        elif key in TARIFF_FIELDS:
            quantity, unit = TARIFF_FIELDS[key]
            _add_energy_value(sink, quantity, unit, key, value, tariff=True)


def decode_sensor(obj: dict[str, object], device: str, received_ns: int, fmt: str = FORMAT) -> Decoded:
    """Decode a ``SENSOR`` object (or the ``StatusSNS`` object of ``STATUS8``/``STATUS10``)."""
    notes: list[str] = []
    time_ns = device_time_ns(obj["Time"], notes, "Time") if "Time" in obj else None
    sink = ReadingSink(device, fmt, received_ns, time_ns)
    sink.notes = notes
    tic = obj.get("TIC")
    energy = obj.get("ENERGY")
    if tic is not None:
        if not isinstance(tic, dict):
            raise DecodeError("bad_shape", "TIC must be an object")
        tic_time = frame_time_ns(tic, notes)
        if tic_time is not None:
            sink.time_ns = tic_time
        add_tic_labels(tic, sink)
        if energy is not None:
            notes.append("ENERGY computed by the Teleinfo driver ignored; TIC labels used")
    elif energy is not None:
        if not isinstance(energy, dict):
            raise DecodeError("bad_shape", "ENERGY must be an object")
        add_energy(energy, sink)
    if not sink.readings:
        notes.append("no ENERGY or TIC data in this message")
        return Decoded(ignored=True, notes=tuple(notes))
    return Decoded(readings=tuple(sink.readings), notes=tuple(notes))


class TasmotaDecoder(Decoder):
    """Decoder for Tasmota ``SENSOR``/``STATE``/``LWT``/``STATUS8``/``STATUS10`` messages."""

    name = FORMAT
    channels = {
        "main": "ENERGY scalar values (Total, Power, ...)",
        **{str(i): f"ENERGY per-phase array, item {i}" for i in range(1, 4)},
        **{f"T{i}": f"TotalTariff/ExportTariff item {i}" for i in range(1, 3)},
        **{ch: f"TIC {labels}" for ch, labels in TIC_CHANNELS.items() if ch != "main"},  # Teleinfo driver
    }
    topic_filters = (
        "tele/+/SENSOR", "tele/+/STATE", "tele/+/LWT", "stat/+/STATUS8", "stat/+/STATUS10",
        "+/tele/SENSOR", "+/tele/STATE", "+/tele/LWT", "+/stat/STATUS8", "+/stat/STATUS10",
    )
    topic_layout = 'tele/<topic>/SENSOR|STATE|LWT, stat/<topic>/STATUS8|10 or a custom FullTopic ending in /tele/<kind>'
    split_topic = staticmethod(split_topic)


    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        parts = self.topic_parts(topic)
        device, _, kind = parts
        if kind == "LWT":
            return availability(device, payload_text(payload), received_ns, FORMAT, ("Online",), ("Offline",), "LWT")
        obj = load_json_object(payload)
        if kind == "STATE":
            return Decoded(ignored=True, notes=("STATE: device health, no energy reading",))
        if kind in ("STATUS8", "STATUS10"):
            sns = obj.get("StatusSNS")
            if not isinstance(sns, dict):
                raise DecodeError("bad_shape", f"{kind} must hold a StatusSNS object")
            obj = sns
        return decode_sensor(obj, device, received_ns)


register(TasmotaDecoder())
