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
    #: plausible range of a value as a device reports it, from physics (see :data:`PLAUSIBLE`)
    plausible_min: float = float("-inf")
    plausible_max: float = float("inf")


# Plausible ranges from physics (a value outside is quarantined as ``out_of_range``; a meter of the
# registry may narrow or widen them with ``plausible = { power_w = [min, max] }``):
#: a cumulative register: never negative; 12 digits of Wh (a 9-digit kWh register) is 1 TWh
_REGISTER_WH = (0.0, 1e12)
#: a daily register: 24 h at the power bound below
_DAY_WH = (0.0, 24 * 2e7)
#: a building's power, signed: 20 MW is beyond any medium-voltage (HTA) connection of a building
_POWER_W = (-2e7, 2e7)

_TABLE: tuple[Quantity, ...] = (
    # energy registers
    Quantity("energy_import_wh", "Wh", "counter", "Active energy imported (withdrawn), cumulative", "Énergie active soutirée, index", *_REGISTER_WH),
    Quantity("energy_export_wh", "Wh", "counter", "Active energy exported (injected), cumulative", "Énergie active injectée, index", *_REGISTER_WH),
    Quantity("energy_produced_wh", "Wh", "counter", "Energy produced (PV inverter AC yield), cumulative", "Énergie produite (onduleur PV), index", *_REGISTER_WH),
    Quantity("energy_produced_today_wh", "Wh", "daily_counter", "Energy produced today (resets daily)", "Énergie produite du jour", *_DAY_WH),
    Quantity("energy_import_today_wh", "Wh", "daily_counter", "Energy imported today (resets daily)", "Énergie soutirée du jour", *_DAY_WH),
    Quantity("energy_import_offpeak_wh", "Wh", "counter", "Imported energy, off-peak register (HC)", "Index heures creuses", *_REGISTER_WH),
    Quantity("energy_import_peak_wh", "Wh", "counter", "Imported energy, peak register (HP)", "Index heures pleines", *_REGISTER_WH),
    Quantity("reactive_energy_varh", "varh", "counter", "Reactive energy, cumulative", "Énergie réactive, index", *_REGISTER_WH),
    Quantity("volume_m3", "m³", "counter", "Volume (water or gas), cumulative", "Volume (eau ou gaz), index", *(0.0, 1e9)),
    # instantaneous electrical
    Quantity("power_w", "W", "gauge", "Active power (positive = import)", "Puissance active (positive = soutirage)", *_POWER_W),
    Quantity("apparent_power_va", "VA", "gauge", "Apparent power", "Puissance apparente", *(0.0, _POWER_W[1])),
    Quantity("reactive_power_var", "var", "gauge", "Reactive power", "Puissance réactive", *_POWER_W),
    Quantity("voltage_v", "V", "gauge", "Voltage (RMS)", "Tension efficace", *(0.0, 1_000.0)),
    Quantity("current_a", "A", "gauge", "Current (RMS)", "Courant efficace", *(-1e5, 1e5)),
    Quantity("power_factor", "1", "gauge", "Power factor (ratio, -1..1)", "Facteur de puissance", *(-1.0, 1.0)),
    Quantity("frequency_hz", "Hz", "gauge", "Grid frequency", "Fréquence", *(0.0, 100.0)),
    # PV DC side
    Quantity("dc_power_w", "W", "gauge", "DC power of a PV input", "Puissance continue d'une entrée PV", *(-1e5, 1e7)),
    Quantity("dc_voltage_v", "V", "gauge", "DC voltage of a PV input", "Tension continue", *(-50.0, 2_000.0)),
    Quantity("dc_current_a", "A", "gauge", "DC current of a PV input", "Courant continu", *(-1e4, 1e4)),
    # heat and flow
    Quantity("thermal_power_w", "W", "gauge", "Thermal power (heat meter)", "Puissance thermique", *(-1e8, 1e8)),
    Quantity("volume_flow_m3_h", "m³/h", "gauge", "Volume flow", "Débit volumique", *(-1e4, 1e4)),
    Quantity("temp_flow_c", "°C", "gauge", "Flow temperature", "Température départ", *(-50.0, 250.0)),
    Quantity("temp_return_c", "°C", "gauge", "Return temperature", "Température retour", *(-50.0, 250.0)),
    # weather
    Quantity("temp_air_c", "°C", "gauge", "Outdoor air temperature", "Température extérieure", *(-60.0, 80.0)),
    Quantity("irradiance_w_m2", "W/m²", "gauge", "Global irradiance (plane of array or horizontal, as the device says)", "Éclairement solaire", *(-50.0, 2_000.0)),
    Quantity("temp_module_c", "°C", "gauge", "PV module temperature", "Température module PV", *(-60.0, 120.0)),
    Quantity("relative_humidity_pct", "%", "gauge", "Relative humidity", "Humidité relative", *(0.0, 100.0)),
    Quantity("wind_speed_m_s", "m/s", "gauge", "Wind speed", "Vitesse du vent", *(0.0, 120.0)),
    Quantity("temp_inside_c", "°C", "gauge", "Indoor air temperature", "Température intérieure", *(-60.0, 80.0)),
)

QUANTITIES: dict[str, Quantity] = {q.name: q for q in _TABLE}


def quantity(name: str) -> Quantity:
    """The :class:`Quantity` called ``name`` (KeyError when unknown)."""
    return QUANTITIES[name]


def plausible_range(name: str) -> tuple[float, float]:
    """The default plausible range ``(min, max)`` of quantity ``name``, both inclusive, in its unit."""
    q = QUANTITIES[name]
    return q.plausible_min, q.plausible_max


def glossary_markdown() -> str:
    """The glossary of quantities as Markdown (``docs/glossary.md`` is this text; a test keeps them equal)."""
    lines = [
        "# Glossary of quantities",
        "",
        "Generated from `terril/quantities.py` by `python -m terril.quantities > docs/glossary.md`; do not edit.",
        "Every name carries its unit. These are the InfluxDB field names of the `reading` measurement,",
        "the keys of the native payload, and the names used in Python.",
        "",
        "| name | unit | kind | plausible range | English | Français |",
        "|---|---|---|---|---|---|",
    ]
    for q in _TABLE:
        lines.append(f"| `{q.name}` | {q.unit} | {q.kind} | {q.plausible_min:g} … {q.plausible_max:g} | {q.label_en} "
                     f"| {q.label_fr} |")
    lines += [
        "",
        "Kinds: `counter` is a cumulative register stored raw, consumption comes from its deltas with resets",
        "and rollovers flagged; `daily_counter` is reset by the device every day; `gauge` is an instantaneous",
        "or averaged value.",
        "",
        "Plausible range: a reading outside it (bounds included in the range) is quarantined as `out_of_range`.",
        "The bounds come from physics (a register's digit count, a building's connection, the weather's records);",
        "a meter of the registry may override them (`plausible = { power_w = [-5000, 250000] }`, docs/registry.md).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(glossary_markdown(), end="")
