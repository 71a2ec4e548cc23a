"""Shelly Pro 3EM (triphase profile): ``<prefix>/events/rpc`` NotifyStatus frames with ``em:0`` and ``emdata:0``."""

from __future__ import annotations

import json

from firmware_sim.encoders._base import DeviceState, Message, check_supported

_PHASE = {"L1": "a_", "L2": "b_", "L3": "c_"}
#: quantity -> (em:0 per-phase suffix, em:0 total key)
EM = {
    "power_w": ("act_power", "total_act_power"),
    "apparent_power_va": ("aprt_power", "total_aprt_power"),
    "current_a": ("current", "total_current"),
    "voltage_v": ("voltage", None),
    "power_factor": ("pf", None),
    "frequency_hz": ("freq", None),
}
#: quantity -> (emdata:0 per-phase suffix, emdata:0 total key)
EMDATA = {
    "energy_import_wh": ("total_act_energy", "total_act"),
    "energy_export_wh": ("total_act_ret_energy", "total_act_ret"),
}
SUPPORTED = frozenset(
    [(ch, q) for q in (*EM, *EMDATA) for ch in _PHASE]
    + [(None, q) for q, (_, total) in {**EM, **EMDATA}.items() if total is not None]
)


def encode_pro3em(state: DeviceState) -> list[Message]:
    """One NotifyStatus with ``em:0`` (if any gauge) and one with ``emdata:0`` (if any counter)."""
    check_supported(state, SUPPORTED, "shelly_gen2 Pro 3EM")
    ts = round(state.time_ns / 1e9, 2)
    em: dict[str, object] = {"id": 0}
    emdata: dict[str, object] = {"id": 0}
    for (channel, quantity), value in state.values.items():
        table, target = (EM, em) if quantity in EM else (EMDATA, emdata)
        suffix, total = table[quantity]
        key = total if channel is None else _PHASE[channel] + suffix
        target[key] = round(value, 3)
    out: list[Message] = []
    for comp, status in (("em:0", em), ("emdata:0", emdata)):
        if len(status) > 1:
            frame = {"src": state.device.rsplit("/", 1)[-1], "dst": f"{state.device}/events", "method": "NotifyStatus",
                     "params": {"ts": ts, comp: status}}
            out.append((f"{state.device}/events/rpc", json.dumps(frame, separators=(",", ":")).encode(), False))
    return out
