"""fronius-bridge style SunSpec JSON: inverter values (energy Wh) and meter values (energy kWh!), time in epoch ms."""

from __future__ import annotations

import json

from firmware_sim.encoders._base import DeviceState, Message, check_supported

TOPIC = "fronius-bridge"
#: quantity -> (key, factor from canonical unit, decimals)
INVERTER = {
    "energy_produced_wh": ("ac_energy", 1.0, 1),
    "power_w": ("ac_power_active", 1.0, 1),
    "apparent_power_va": ("ac_power_apparent", 1.0, 1),
    "reactive_power_var": ("ac_power_reactive", 1.0, 1),
    "power_factor": ("ac_power_factor", 100.0, 1),
    "frequency_hz": ("ac_frequency", 1.0, 2),
    "dc_power_w": ("dc_power", 1.0, 1),
}
METER = {
    "energy_import_wh": ("energy_active_import", 1e-3, 3),
    "energy_export_wh": ("energy_active_export", 1e-3, 3),
    "power_w": ("power_active", 1.0, 1),
    "voltage_v": ("voltage_ph", 1.0, 1),
    "current_a": ("current", 1.0, 3),
    "frequency_hz": ("frequency", 1.0, 2),
}


def _encode(state: DeviceState, table: dict[str, tuple[str, float, int]], role: str) -> list[Message]:
    check_supported(state, frozenset((None, q) for q in table), f"sunspec {role}")
    body: dict[str, object] = {"time": state.time_ns // 1_000_000}
    for (_, quantity), value in state.values.items():
        key, factor, decimals = table[quantity]
        body[key] = round(value * factor, decimals)
    return [(f"{TOPIC}/{role}/{state.device}/values", json.dumps(body, separators=(",", ":")).encode(), True)]


def encode_inverter(state: DeviceState) -> list[Message]:
    """``<topic>/inverter/<name>/values`` (retained, as the bridge publishes)."""
    return _encode(state, INVERTER, "inverter")


def encode_meter(state: DeviceState) -> list[Message]:
    """``<topic>/meter/<name>/values`` (retained)."""
    return _encode(state, METER, "meter")
