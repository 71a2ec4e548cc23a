"""Unit conversions into the canonical units of :mod:`terril.quantities`, in one module.

Decoders look up the unit of each vendor field in their own per-(family, field)
table, then call :func:`to_canonical`; units are never inferred from a field name.
"""

from __future__ import annotations

#: unit as vendors write it -> (canonical unit, factor)
_FACTORS: dict[str, tuple[str, float]] = {
    "Wh": ("Wh", 1.0),
    "kWh": ("Wh", 1_000.0),
    "MWh": ("Wh", 1_000_000.0),
    "GJ": ("Wh", 1e9 / 3600.0),
    "MJ": ("Wh", 1e6 / 3600.0),
    "Wmin": ("Wh", 1.0 / 60.0),  # Shelly Gen1 "energy": watt-minutes
    "W": ("W", 1.0),
    "kW": ("W", 1_000.0),
    "MW": ("W", 1_000_000.0),
    "VA": ("VA", 1.0),
    "kVA": ("VA", 1_000.0),
    "var": ("var", 1.0),
    "kvar": ("var", 1_000.0),
    "varh": ("varh", 1.0),
    "kvarh": ("varh", 1_000.0),
    "V": ("V", 1.0),
    "A": ("A", 1.0),
    "mA": ("A", 0.001),
    "Hz": ("Hz", 1.0),
    "m3": ("m³", 1.0),
    "m³": ("m³", 1.0),
    "L": ("m³", 0.001),
    "l": ("m³", 0.001),
    "m3/h": ("m³/h", 1.0),
    "m³/h": ("m³/h", 1.0),
    "L/h": ("m³/h", 0.001),
    "°C": ("°C", 1.0),
    "C": ("°C", 1.0),
    "W/m2": ("W/m²", 1.0),
    "W/m²": ("W/m²", 1.0),
    "%": ("%", 1.0),
    "1": ("1", 1.0),
    "m/s": ("m/s", 1.0),
}


def to_canonical(value: float, unit: str) -> tuple[float, str]:
    """Convert ``value`` expressed in ``unit`` to its canonical unit.

    Returns ``(value, canonical_unit)``. Raises ``KeyError`` for an unknown unit.
    """
    canonical, factor = _FACTORS[unit]
    return value * factor, canonical


def canonical_unit(unit: str) -> str:
    """The canonical unit that ``unit`` converts to."""
    return _FACTORS[unit][0]


def wh_to_kwh(value_wh: float) -> float:
    """Wh to kWh, for display and reports."""
    return value_wh / 1_000.0


def gas_m3_to_wh(volume_m3: float, conversion_kwh_per_m3: float) -> float:
    """Gas volume to energy (higher heating value) with the supplier's conversion coefficient [kWh/m³]."""
    return volume_m3 * conversion_kwh_per_m3 * 1_000.0
