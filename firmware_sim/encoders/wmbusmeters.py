"""wmbusmeters JSON telegrams (``wmbusmeters/<id>``): Kamstrup heat meter (kamheat) and Itron water meter (iperl)."""

from __future__ import annotations

import json

from firmware_sim.encoders._base import DeviceState, Message, check_supported
from firmware_sim.encoders._fmt import utc_iso_z

#: quantity -> (key, factor from canonical unit, decimals)
HEAT = {
    "energy_import_wh": ("total_energy_consumption_kwh", 1e-3, 3),
    "volume_m3": ("total_volume_m3", 1.0, 3),
    "volume_flow_m3_h": ("volume_flow_m3h", 1.0, 3),
    "thermal_power_w": ("power_kw", 1e-3, 3),
    "temp_flow_c": ("t1_temperature_c", 1.0, 2),
    "temp_return_c": ("t2_temperature_c", 1.0, 2),
}
WATER = {"volume_m3": ("total_m3", 1.0, 3)}


def _encode(state: DeviceState, table: dict[str, tuple[str, float, int]], head: dict[str, object]) -> list[Message]:
    check_supported(state, frozenset((None, q) for q in table), "wmbusmeters")
    body = dict(head)
    body.update({"name": state.device, "id": state.device})
    for (_, quantity), value in state.values.items():
        key, factor, decimals = table[quantity]
        body[key] = round(value * factor, decimals)
    body["timestamp"] = utc_iso_z(state.time_ns)
    return [(f"wmbusmeters/{state.device}", json.dumps(body, separators=(",", ":")).encode(), False)]


def encode_heat(state: DeviceState) -> list[Message]:
    """A kamheat telegram (energy kWh, volume m³, flow m³/h, power kW, t1/t2 °C)."""
    return _encode(state, HEAT, {"_": "telegram", "media": "heat", "meter": "kamheat", "status": "OK"})


def encode_water(state: DeviceState) -> list[Message]:
    """An iperl water telegram (``total_m3``)."""
    return _encode(state, WATER, {"_": "telegram", "media": "water", "meter": "iperl", "max_flow_m3h": 0})
