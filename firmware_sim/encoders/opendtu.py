"""OpenDTU: one retained plain-text scalar per topic ``<base>/<serial>/<ch>/<field>`` (no device time)."""

from __future__ import annotations

from firmware_sim.encoders._base import DeviceState, Message, check_supported

BASE = "solar"
#: quantity on the AC channel 0 -> (field, factor from canonical unit, decimals)
AC = {
    "power_w": ("power", 1.0, 1),
    "energy_produced_wh": ("yieldtotal", 1e-3, 3),
    "energy_produced_today_wh": ("yieldday", 1.0, 0),
    "voltage_v": ("voltage", 1.0, 1),
    "current_a": ("current", 1.0, 2),
    "frequency_hz": ("frequency", 1.0, 2),
    "dc_power_w": ("powerdc", 1.0, 1),
}
#: quantity on DC input n -> (field, factor, decimals)
DC = {
    "dc_power_w": ("power", 1.0, 1),
    "dc_voltage_v": ("voltage", 1.0, 1),
    "dc_current_a": ("current", 1.0, 2),
    "energy_produced_wh": ("yieldtotal", 1e-3, 3),
    "energy_produced_today_wh": ("yieldday", 1.0, 0),
}
_MAX_INPUTS = 6
SUPPORTED = frozenset([(None, q) for q in AC] + [(str(n), q) for q in DC for n in range(1, _MAX_INPUTS + 1)])


def encode(state: DeviceState) -> list[Message]:
    """Retained scalars for one inverter (``state.device`` = its serial), AC on channel 0, DC inputs 1..n."""
    check_supported(state, SUPPORTED, "opendtu")
    out: list[Message] = []
    for (channel, quantity), value in state.values.items():
        field, factor, decimals = (AC if channel is None else DC)[quantity]
        ch = "0" if channel is None else channel
        out.append((f"{BASE}/{state.device}/{ch}/{field}", f"{value * factor:.{decimals}f}".encode(), True))
    return out
