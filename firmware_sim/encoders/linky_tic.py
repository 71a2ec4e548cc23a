"""Linky TIC as gateways publish it: teleinfo2mqtt (historique and standard) and Tasmota's Teleinfo driver.

Values are integers as the meter counts them (Wh, VA, A, V). teleinfo2mqtt writes
``{"raw": <zero-padded text>, "value": <number>}`` per label and, in standard mode, the
``DATE`` label's local wall clock with a (wrong) ``Z`` and ``dst`` summer/winter.
"""

from __future__ import annotations

import json

from firmware_sim.encoders._base import DeviceState, Message, check_supported
from firmware_sim.encoders._fmt import paris_local

#: (channel, quantity) -> (label, digits) for historique mode
HISTORIQUE = {
    (None, "energy_import_wh"): ("BASE", 9),
    ("HCHC", "energy_import_wh"): ("HCHC", 9),
    ("HCHP", "energy_import_wh"): ("HCHP", 9),
    (None, "apparent_power_va"): ("PAPP", 5),
    (None, "current_a"): ("IINST", 3),
}
#: (channel, quantity) -> (label, digits) for standard mode
STANDARD = {
    (None, "energy_import_wh"): ("EAST", 9),
    (None, "energy_export_wh"): ("EAIT", 9),
    (None, "apparent_power_va"): ("SINSTS", 5),
    ("SINSTI", "apparent_power_va"): ("SINSTI", 5),
    **{(f"EASF{i:02d}", "energy_import_wh"): (f"EASF{i:02d}", 9) for i in range(1, 11)},
    **{(f"L{i}", "current_a"): (f"IRMS{i}", 3) for i in range(1, 4)},
    **{(f"L{i}", "voltage_v"): (f"URMS{i}", 3) for i in range(1, 4)},
}


def _labels(state: DeviceState, table: dict[tuple[str | None, str], tuple[str, int]]) -> dict[str, tuple[str, int]]:
    check_supported(state, frozenset(table), "linky_tic")
    out: dict[str, tuple[str, int]] = {}
    for key, value in state.values.items():
        label, digits = table[key]
        n = int(round(value))
        if n < 0 or n >= 10**digits:
            raise ValueError(f"{label}: {value} does not fit {digits} digits")
        out[label] = (f"{n:0{digits}d}", n)
    return out


def encode_teleinfo2mqtt_historique(state: DeviceState) -> list[Message]:
    """``teleinfo/<ADCO>`` with ``{label: {raw, value}}``, historique mode (no time); not retained."""
    labels = _labels(state, HISTORIQUE)
    hc = "HCHC" in labels or "HCHP" in labels
    body: dict[str, object] = {"ADCO": {"raw": state.device, "value": int(state.device) if state.device.isdigit() else state.device},
                               "OPTARIF": {"raw": "HC.." if hc else "BASE", "value": "HC" if hc else "BASE"}}
    body.update({label: {"raw": raw, "value": n} for label, (raw, n) in labels.items()})
    return [(f"teleinfo/{state.device}", json.dumps(body, separators=(",", ":")).encode(), False)]


def encode_teleinfo2mqtt_standard(state: DeviceState) -> list[Message]:
    """``teleinfo/<ADSC>`` standard mode with ``DATE`` (local wall clock + wrong ``Z``, ``dst``)."""
    labels = _labels(state, STANDARD)
    local = paris_local(state.time_ns)
    dst = "summer" if local.utcoffset() is not None and local.utcoffset().total_seconds() == 7200 else "winter"
    body: dict[str, object] = {
        "ADSC": {"raw": state.device, "value": int(state.device) if state.device.isdigit() else state.device},
        "DATE": {"raw": "", "value": "", "timestamp": {"dst": dst, "date": local.strftime("%Y-%m-%dT%H:%M:%S.000Z")}},
        "NGTF": {"raw": "      BASE      ", "value": "      BASE      "},
    }
    body.update({label: {"raw": raw, "value": n} for label, (raw, n) in labels.items()})
    return [(f"teleinfo/{state.device}", json.dumps(body, separators=(",", ":")).encode(), False)]


def encode_tasmota(state: DeviceState) -> list[Message]:
    """Tasmota Teleinfo driver: ``tele/<topic>/SENSOR`` ``{"Time": local, "TIC": {...}}`` historique, numbers."""
    labels = _labels(state, HISTORIQUE)
    tic: dict[str, object] = {"ADCO": "021528603314"}
    tic.update({label: n for label, (_, n) in labels.items()})
    body = {"Time": paris_local(state.time_ns).strftime("%Y-%m-%dT%H:%M:%S"), "TIC": tic}
    return [(f"tele/{state.device}/SENSOR", json.dumps(body, separators=(",", ":")).encode(), False)]
