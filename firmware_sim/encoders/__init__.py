"""Encoders for the simulator: a canonical device state -> the MQTT messages a real device would publish.

Common signature (every encoder in :data:`ENCODERS`)::

    encode(state: DeviceState) -> list[tuple[str, bytes, bool]]   # (topic, payload, retain)

* ``state.device``: the device key as the family's topics name it (Tasmota topic, Shelly
  prefix, OpenDTU serial, ADCO/ADSC, wmbusmeters id, bridge device name);
* ``state.time_ns``: the instant of the state [UTC ns]; written in the vendor's own time
  convention where the vendor writes one (Tasmota local Paris time, Shelly float seconds,
  TIC horodate, wmbusmeters UTC ISO, bridge epoch ms);
* ``state.values``: ``{(channel, quantity): value}`` in canonical units (Wh, W, VA, m³,
  °C...), channels as the matching decoder names them (None, ``"L1"``, ``"1"``, ``"HCHC"``...).

Encoders are pure and deterministic. A (channel, quantity) the vendor format cannot carry
raises ``ValueError``. Values are written with the vendor's usual resolution (Tasmota kWh
with 3 decimals, TIC integer Wh/VA...), so a round trip is exact for values at that
resolution. :data:`SPECS` says which decoder reads each encoder's output and whether the
device time survives the trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_sim.encoders import linky_tic, opendtu, shelly_gen2, sunspec, tasmota, wmbusmeters
from firmware_sim.encoders._base import DeviceState, Encoder, Message, check_supported

__all__ = ["DeviceState", "Encoder", "EncoderSpec", "ENCODERS", "Message", "SPECS", "check_supported"]


@dataclass(frozen=True, slots=True)
class EncoderSpec:
    """An encoder, the decoder ``format`` that reads its output, and whether device time is carried."""

    name: str
    format: str
    encode: Encoder
    carries_time: bool
    time_resolution_ns: int = 1_000_000_000


def _specs() -> dict[str, EncoderSpec]:
    specs = (
        EncoderSpec("tasmota", "tasmota", tasmota.encode, True),
        EncoderSpec("shelly_gen2_pro3em", "shelly_gen2", shelly_gen2.encode_pro3em, True, 10_000_000),
        EncoderSpec("opendtu", "opendtu", opendtu.encode, False),
        EncoderSpec("linky_tic_teleinfo2mqtt_historique", "linky_tic", linky_tic.encode_teleinfo2mqtt_historique, False),
        EncoderSpec("linky_tic_teleinfo2mqtt_standard", "linky_tic", linky_tic.encode_teleinfo2mqtt_standard, True),
        EncoderSpec("linky_tic_tasmota", "linky_tic", linky_tic.encode_tasmota, True),
        EncoderSpec("wmbusmeters_heat", "wmbusmeters", wmbusmeters.encode_heat, True),
        EncoderSpec("wmbusmeters_water", "wmbusmeters", wmbusmeters.encode_water, True),
        EncoderSpec("sunspec_inverter", "sunspec", sunspec.encode_inverter, True, 1_000_000),
        EncoderSpec("sunspec_meter", "sunspec", sunspec.encode_meter, True, 1_000_000),
    )
    return {s.name: s for s in specs}


#: Encoder name -> spec.
SPECS: dict[str, EncoderSpec] = _specs()
#: Encoder name -> encode function (the common signature above).
ENCODERS: dict[str, Encoder] = {name: spec.encode for name, spec in SPECS.items()}
