"""The carriers' table: which counter each carrier's meter reports, which rollup field holds its
consumption, in which unit, and how a counter delta becomes a daily quantity.

One table for the rollups, the summary, the drift job and the report inputs (so that a gas meter is
converted with its own ``gas_kwh_per_m3`` everywhere, and electricity in Wh becomes kWh everywhere).
Daily quantities are in kWh, except water in m³.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from terril.registry import Meter
from terril.units import gas_m3_to_wh, wh_to_kwh

#: Gas conversion coefficient when the meter's ``gas_kwh_per_m3`` is not set (higher heating value
#: of French natural gas, typical of the GRDF bills). [kWh/m³]
DEFAULT_GAS_KWH_PER_M3 = 11.2


@dataclass(frozen=True, slots=True)
class CarrierSpec:
    """What one carrier's meter measures and where its consumption is stored."""

    name: str
    #: raw cumulative register of the main quantity (``reading`` field) [Wh or m³]
    counter: str
    #: rollup field (``consumption_hourly/daily/monthly``) of each counter delta: (raw, rollup field)
    counters: tuple[tuple[str, str], ...]
    #: rollup field holding the main quantity (for gas, the energy derived from the volume) [Wh or m³]
    rollup_field: str
    #: unit of the daily quantity: kWh for energy, m³ for water
    daily_unit: Literal["kWh", "m³"]

    @property
    def counter_unit(self) -> str:
        return "m³" if self.counter == "volume_m3" else "Wh"

    def energy_wh(self, meter: Meter, counter_delta):  # noqa: ANN001, ANN201 - float or ndarray
        """Energy [Wh] of a delta of the main counter (gas with the meter's own kWh/m³; NaN for water)."""
        if self.counter_unit == "Wh":
            return counter_delta
        if self.daily_unit == "kWh":
            return gas_m3_to_wh(counter_delta, gas_kwh_per_m3(meter))
        return float("nan")

    def counter_to_daily(self, meter: Meter, counter_delta):  # noqa: ANN001, ANN201 - float or ndarray
        """A delta of the main counter [Wh or m³] in the daily unit [kWh, or m³ for water]."""
        if self.daily_unit == "m³":
            return counter_delta
        if self.counter_unit == "Wh":
            return wh_to_kwh(counter_delta)
        return wh_to_kwh(gas_m3_to_wh(counter_delta, gas_kwh_per_m3(meter)))

    def rollup_to_daily(self, value):  # noqa: ANN001, ANN201 - float or ndarray
        """A value of :attr:`rollup_field` [Wh, or m³ for water] in the daily unit [kWh or m³]."""
        return value if self.daily_unit == "m³" else wh_to_kwh(value)


_TABLE = (
    CarrierSpec("electricity", "energy_import_wh",
                (("energy_import_wh", "consumption_wh"), ("energy_export_wh", "export_wh")), "consumption_wh", "kWh"),
    CarrierSpec("heat", "energy_import_wh", (("energy_import_wh", "consumption_wh"),), "consumption_wh", "kWh"),
    CarrierSpec("gas", "volume_m3", (("volume_m3", "volume_m3"),), "consumption_wh", "kWh"),
    CarrierSpec("water", "volume_m3", (("volume_m3", "volume_m3"),), "volume_m3", "m³"),
    CarrierSpec("pv", "energy_produced_wh", (("energy_produced_wh", "production_wh"),), "production_wh", "kWh"),
)

#: carrier name -> its spec; carriers without a counter (weather) are absent
CARRIERS: dict[str, CarrierSpec] = {c.name: c for c in _TABLE}
#: every raw counter some carrier reports
COUNTER_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(raw for c in _TABLE for raw, _ in c.counters))


def gas_kwh_per_m3(meter: Meter) -> float:
    """The meter's own gas conversion coefficient, else :data:`DEFAULT_GAS_KWH_PER_M3`. [kWh/m³]"""
    return meter.gas_kwh_per_m3 or DEFAULT_GAS_KWH_PER_M3


def carrier_of(meter: Meter) -> CarrierSpec | None:
    """The :class:`CarrierSpec` of ``meter`` (None for a carrier without counter, e.g. weather)."""
    return CARRIERS.get(meter.carrier)
