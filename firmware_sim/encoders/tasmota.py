"""Tasmota energy firmware: ``tele/<topic>/SENSOR`` with ``Time`` (Europe/Paris local, no zone) and ``ENERGY``."""

from __future__ import annotations

import json

from firmware_sim.encoders._base import DeviceState, Message, check_supported
from firmware_sim.encoders._fmt import fixed, paris_local

#: quantity -> (ENERGY key, factor from canonical unit, decimals Tasmota prints)
FIELDS: dict[str, tuple[str, float, int]] = {
    "energy_import_wh": ("Total", 1e-3, 3),
    "energy_import_today_wh": ("Today", 1e-3, 3),
    "energy_export_wh": ("ExportActive", 1e-3, 3),
    "power_w": ("Power", 1.0, 0),
    "apparent_power_va": ("ApparentPower", 1.0, 0),
    "reactive_power_var": ("ReactivePower", 1.0, 0),
    "power_factor": ("Factor", 1.0, 2),
    "voltage_v": ("Voltage", 1.0, 0),
    "current_a": ("Current", 1.0, 3),
    "frequency_hz": ("Frequency", 1.0, 2),
}
SUPPORTED = frozenset((None, q) for q in FIELDS)


def encode(state: DeviceState) -> list[Message]:
    """One ``SENSOR`` telemetry message (not retained), as a single-phase Tasmota meter sends it."""
    check_supported(state, SUPPORTED, "tasmota")
    energy: dict[str, float] = {}
    for (_, quantity), value in state.values.items():
        key, factor, decimals = FIELDS[quantity]
        energy[key] = fixed(value * factor, decimals)
    body = {"Time": paris_local(state.time_ns).strftime("%Y-%m-%dT%H:%M:%S"), "ENERGY": energy}
    return [(f"tele/{state.device}/SENSOR", json.dumps(body, separators=(",", ":")).encode(), False)]
