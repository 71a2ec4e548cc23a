"""The vocabulary of quantities: one canonical name per physical quantity, unit in the name.

Collector, analytics, simulator and dashboards all use these names, in Python and
as InfluxDB field keys. ``docs/glossary.md`` is generated from this table's content.

Kinds:

* ``counter``: cumulative register as the meter says it (never reset on purpose);
  consumption is derived from its deltas, with resets and rollovers flagged.
* ``daily_counter``: a counter the device itself resets every day (or on reboot).
* ``gauge``: an instantaneous or averaged value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["counter", "daily_counter", "gauge"]


@dataclass(frozen=True, slots=True)
class Quantity:
    """One canonical quantity."""

    name: str
    unit: str
    kind: Kind
    label_en: str
    label_fr: str


_TABLE: tuple[Quantity, ...] = (
    # energy registers
    Quantity("energy_import_wh", "Wh", "counter", "Active energy imported (withdrawn), cumulative", "Énergie active soutirée, index"),
    Quantity("energy_export_wh", "Wh", "counter", "Active energy exported (injected), cumulative", "Énergie active injectée, index"),
    Quantity("energy_produced_wh", "Wh", "counter", "Energy produced (PV inverter AC yield), cumulative", "Énergie produite (onduleur PV), index"),
    Quantity("energy_produced_today_wh", "Wh", "daily_counter", "Energy produced today (resets daily)", "Énergie produite du jour"),
    Quantity("energy_import_today_wh", "Wh", "daily_counter", "Energy imported today (resets daily)", "Énergie soutirée du jour"),
    Quantity("energy_import_offpeak_wh", "Wh", "counter", "Imported energy, off-peak register (HC)", "Index heures creuses"),
    Quantity("energy_import_peak_wh", "Wh", "counter", "Imported energy, peak register (HP)", "Index heures pleines"),
    Quantity("reactive_energy_varh", "varh", "counter", "Reactive energy, cumulative", "Énergie réactive, index"),
    Quantity("volume_m3", "m³", "counter", "Volume (water or gas), cumulative", "Volume (eau ou gaz), index"),
    # instantaneous electrical
    Quantity("power_w", "W", "gauge", "Active power (positive = import)", "Puissance active (positive = soutirage)"),
    Quantity("apparent_power_va", "VA", "gauge", "Apparent power", "Puissance apparente"),
    Quantity("reactive_power_var", "var", "gauge", "Reactive power", "Puissance réactive"),
    Quantity("voltage_v", "V", "gauge", "Voltage (RMS)", "Tension efficace"),
    Quantity("current_a", "A", "gauge", "Current (RMS)", "Courant efficace"),
    Quantity("power_factor", "1", "gauge", "Power factor (ratio, -1..1)", "Facteur de puissance"),
    Quantity("frequency_hz", "Hz", "gauge", "Grid frequency", "Fréquence"),
    # PV DC side
    Quantity("dc_power_w", "W", "gauge", "DC power of a PV input", "Puissance continue d'une entrée PV"),
    Quantity("dc_voltage_v", "V", "gauge", "DC voltage of a PV input", "Tension continue"),
    Quantity("dc_current_a", "A", "gauge", "DC current of a PV input", "Courant continu"),
    # heat and flow
    Quantity("thermal_power_w", "W", "gauge", "Thermal power (heat meter)", "Puissance thermique"),
    Quantity("volume_flow_m3_h", "m³/h", "gauge", "Volume flow", "Débit volumique"),
    Quantity("temp_flow_c", "°C", "gauge", "Flow temperature", "Température départ"),
    Quantity("temp_return_c", "°C", "gauge", "Return temperature", "Température retour"),
    # weather
    Quantity("temp_air_c", "°C", "gauge", "Outdoor air temperature", "Température extérieure"),
    Quantity("irradiance_w_m2", "W/m²", "gauge", "Global irradiance (plane of array or horizontal, as the device says)", "Éclairement solaire"),
    Quantity("temp_module_c", "°C", "gauge", "PV module temperature", "Température module PV"),
    Quantity("relative_humidity_pct", "%", "gauge", "Relative humidity", "Humidité relative"),
    Quantity("wind_speed_m_s", "m/s", "gauge", "Wind speed", "Vitesse du vent"),
    Quantity("temp_inside_c", "°C", "gauge", "Indoor air temperature", "Température intérieure"),
)

QUANTITIES: dict[str, Quantity] = {q.name: q for q in _TABLE}

#: Counter quantities whose deltas are consumption (or production) of a carrier.
COUNTER_QUANTITIES: frozenset[str] = frozenset(q.name for q in _TABLE if q.kind == "counter")


def is_quantity(name: object) -> bool:
    """True when ``name`` is a canonical quantity name."""
    return isinstance(name, str) and name in QUANTITIES


def quantity(name: str) -> Quantity:
    """The :class:`Quantity` called ``name`` (KeyError when unknown)."""
    return QUANTITIES[name]


def glossary_markdown() -> str:
    """The glossary of quantities as Markdown (``docs/glossary.md`` is this text; a test keeps them equal)."""
    lines = [
        "# Glossary of quantities",
        "",
        "Generated from `terril/quantities.py` by `python -m terril.quantities > docs/glossary.md`; do not edit.",
        "Every name carries its unit. These are the InfluxDB field names of the `reading` measurement,",
        "the keys of the native payload, and the names used in Python.",
        "",
        "| name | unit | kind | English | Français |",
        "|---|---|---|---|---|",
    ]
    for q in _TABLE:
        lines.append(f"| `{q.name}` | {q.unit} | {q.kind} | {q.label_en} | {q.label_fr} |")
    lines += [
        "",
        "Kinds: `counter` is a cumulative register stored raw, consumption comes from its deltas with resets",
        "and rollovers flagged; `daily_counter` is reset by the device every day; `gauge` is an instantaneous",
        "or averaged value.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(glossary_markdown(), end="")
