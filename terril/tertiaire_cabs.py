"""Décret tertiaire absolute levels: the 2030 Cabs of an activity sub-category from the arrêté's
table (``terril/data/tertiaire_cabs_2030.csv``, whose header gives the source: arrêté du
10 avril 2020, annexe II, as consolidated by annex I of NOR ATDL2430864A).

``Cabs = CVC + USE`` [kWh/m²/year of final energy]: CVC by climate zone (H1a … H3) and altitude
band, USE the sub-category's « USE étalon ». When the annex modulates USE by the opening hours
only (``modulation == "hours"``) and the building's annual opening hours are given,
``USE = USE_étalon·h/h_étalon + 0,28·CVC·(h − h_étalon)/h_étalon`` (the annex's formula; the
second term is the opening hours' indirect effect on CVC). Other modulations (occupancy, floor
area per workstation, …) need OPERAT's own value (the registry's ``tertiaire_cabs_kwh_m2``).

The climate zone comes from the registry, or from the building's department through the
arrêté's own mapping (``terril/data/tertiaire_climate_zones.csv``: annexe III, column « Zclim »),
:func:`climate_zone_of_department`.

Pure: the tables are read once from the package data.
"""

from __future__ import annotations

import csv
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

CABS_TABLE_PATH = Path(__file__).parent / "data" / "tertiaire_cabs_2030.csv"
#: Department → climate zone (arrêté du 10 avril 2020, article 1 h) and annexe III, column « Zclim »).
CLIMATE_ZONES_PATH = Path(__file__).parent / "data" / "tertiaire_climate_zones.csv"
#: Metropolitan climate zones of the arrêté (annex III of the arrêté du 10 avril 2020).
CLIMATE_ZONES: tuple[str, ...] = ("H1a", "H1b", "H1c", "H2a", "H2b", "H2c", "H2d", "H3")
#: Altitude bands of the annex's CVC tables: (key, lower bound inclusive, upper bound exclusive). [m]
ALTITUDE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("lt400", -math.inf, 400.0), ("400-800", 400.0, 800.0), ("800-1200", 800.0, 1200.0),
    ("1200-1600", 1200.0, 1600.0), ("ge1600", 1600.0, math.inf))
_DEPARTMENT_RE = re.compile(r"^(0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5])$")
#: The annex's coefficient of the opening hours' indirect effect on CVC. [1]
HOURS_CVC_EFFECT = 0.28
#: Reference of the table, for reports and error messages.
CABS_SOURCE = "arrêté du 10 avril 2020, annexe II (annexe I de l'arrêté NOR ATDL2430864A)"


@dataclass(frozen=True, slots=True)
class CabsSubCategory:
    """One sub-category of the annex: its USE étalon and its CVC table."""

    key: str
    label: str  # the annex's name
    annex_page: int
    use_etalon_kwh_m2: float
    hours_etalon_h: float
    modulation: str  # "hours" | "annex"
    #: (altitude band, zone) → CVC [kWh/m²/year]; absent where the annex gives no value.
    cvc_kwh_m2: dict[tuple[str, str], float]


@dataclass(frozen=True, slots=True)
class Cabs:
    """A building's 2030 Cabs computed from the table, with what it was computed from."""

    sub_category: CabsSubCategory
    zone: str
    altitude_band: str
    hours_per_year: float | None  # the opening hours used (None: the étalon's)
    cvc_kwh_m2: float
    use_kwh_m2: float  # USE, modulated by the opening hours when given

    @property
    def cabs_kwh_m2(self) -> float:
        return self.cvc_kwh_m2 + self.use_kwh_m2


@functools.lru_cache(maxsize=4)
def load_cabs_table(path: Path = CABS_TABLE_PATH) -> dict[str, CabsSubCategory]:
    """The table's sub-categories by key (lines starting with ``#`` are the header's notes)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    table: dict[str, CabsSubCategory] = {}
    for r in rows:
        key = r["sub_category"]
        if key not in table:
            if r["modulation"] not in ("hours", "annex"):
                raise ValueError(f"{path}: {key}: unknown modulation {r['modulation']!r}")
            table[key] = CabsSubCategory(key, r["annex_label"], int(r["annex_page"]), float(r["use_etalon_kwh_m2"]),
                                         float(r["hours_etalon_h"]), r["modulation"], {})
        for zone in CLIMATE_ZONES:
            if r[zone].strip():
                table[key].cvc_kwh_m2[(r["altitude_band"], zone)] = float(r[zone])
    return table


@functools.lru_cache(maxsize=4)
def load_climate_zones(path: Path = CLIMATE_ZONES_PATH) -> dict[str, tuple[str, str]]:
    """Department code → (climate zone, department name), from the mapping file (lines starting
    with ``#`` are its header's notes). A malformed row raises ValueError naming the file, the
    line and the field."""
    out: dict[str, tuple[str, str]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        lines = [(n, line) for n, line in enumerate(f, start=1) if not line.startswith("#") and line.strip()]
    if not lines:
        raise ValueError(f"{path}: no header line")
    header = next(csv.reader([lines[0][1]]))
    need = ("department", "department_name", "climate_zone")
    if tuple(c.strip() for c in header) != need:
        raise ValueError(f"{path}:{lines[0][0]}: header must be {','.join(need)}, not {','.join(header)}")
    for n, line in lines[1:]:
        row = next(csv.reader([line]))
        if len(row) != len(need):
            raise ValueError(f"{path}:{n}: expected {len(need)} fields ({','.join(need)}), found {len(row)}")
        dept, name, zone = (c.strip() for c in row)
        if not _DEPARTMENT_RE.match(dept):
            raise ValueError(f"{path}:{n}: field department: {dept!r} is not a metropolitan department code "
                             "(01 … 95, 2A, 2B)")
        if zone not in CLIMATE_ZONES:
            raise ValueError(f"{path}:{n}: field climate_zone: {zone!r} is not one of {', '.join(CLIMATE_ZONES)}")
        if dept in out:
            raise ValueError(f"{path}:{n}: field department: {dept} is listed twice")
        out[dept] = (zone, name)
    return out


def normalize_department(value: str | int) -> str:
    """A department code as the mapping writes it: ``62``, ``"62"``, ``"2a"`` → ``"62"``, ``"2A"``;
    ``5``/``"5"`` → ``"05"``. Raises ValueError for anything else."""
    text = str(value).strip().upper()
    if text.isdigit() and len(text) == 1:
        text = "0" + text
    if re.fullmatch(r"97[1-8]|98\d", text):
        raise ValueError(f"{text} is an overseas department or territory: the arrêté's climate zones H1a … H3 are "
                         "metropolitan; enter OPERAT's Cabs (tertiaire_cabs_kwh_m2) instead")
    if not _DEPARTMENT_RE.match(text):
        raise ValueError(f"{value!r} is not a department code: expected 01 … 95, 2A or 2B (metropolitan France)")
    return text


def climate_zone_of_department(department: str | int) -> str:
    """The arrêté's climate zone of a metropolitan department (``"62"`` → ``"H1a"``); raises
    ValueError naming the mapping file when the department is not in it."""
    code = normalize_department(department)
    found = load_climate_zones().get(code)
    if found is None:
        raise ValueError(f"department {code} is not in {CLIMATE_ZONES_PATH.name}")
    return found[0]


def sub_categories() -> tuple[str, ...]:
    """The keys of the table's sub-categories, in the table's order."""
    return tuple(load_cabs_table())


def altitude_band(altitude_m: float) -> str:
    """The annex's altitude band of ``altitude_m`` (bands are strict: no interpolation)."""
    for key, lo, hi in ALTITUDE_BANDS:
        if lo <= altitude_m < hi:
            return key
    raise ValueError(f"altitude {altitude_m!r} m is not a number")


def cabs_2030(sub_category: str, zone: str, altitude_m: float, hours_per_year: float | None = None) -> Cabs:
    """The 2030 Cabs of ``sub_category`` in climate ``zone`` at ``altitude_m``; raises ValueError
    saying what is missing (unknown sub-category or zone, no value for that zone and altitude,
    opening hours for a sub-category whose modulation needs more than the hours)."""
    table = load_cabs_table()
    sc = table.get(sub_category)
    if sc is None:
        raise ValueError(f"unknown Décret tertiaire sub-category {sub_category!r}: expected one of "
                         f"{', '.join(table)}")
    if zone not in CLIMATE_ZONES:
        raise ValueError(f"unknown climate zone {zone!r}: expected one of {', '.join(CLIMATE_ZONES)}")
    band = altitude_band(altitude_m)
    cvc = sc.cvc_kwh_m2.get((band, zone))
    if cvc is None:
        raise ValueError(f"the arrêté gives no CVC value for {sub_category} in zone {zone} at {altitude_m:g} m "
                         f"(altitude band {band}, annex I p. {sc.annex_page})")
    use = sc.use_etalon_kwh_m2
    if hours_per_year is not None:
        if sc.modulation != "hours":
            raise ValueError(f"{sub_category}: the arrêté modulates its USE with more than the opening hours "
                             f"(annex I p. {sc.annex_page}); enter OPERAT's Cabs in tertiaire_cabs_kwh_m2 "
                             f"instead of tertiaire_hours_per_year")
        if not (hours_per_year > 0 and math.isfinite(hours_per_year)):
            raise ValueError(f"opening hours must be a positive number of hours per year, not {hours_per_year!r}")
        h0 = sc.hours_etalon_h
        use = sc.use_etalon_kwh_m2 * hours_per_year / h0 + HOURS_CVC_EFFECT * cvc * (hours_per_year - h0) / h0
    return Cabs(sc, zone, band, hours_per_year, cvc, use)


__all__ = ["ALTITUDE_BANDS", "CABS_SOURCE", "CABS_TABLE_PATH", "CLIMATE_ZONES", "CLIMATE_ZONES_PATH", "HOURS_CVC_EFFECT",
           "Cabs", "CabsSubCategory", "altitude_band", "cabs_2030", "climate_zone_of_department", "load_cabs_table",
           "load_climate_zones", "normalize_department", "sub_categories"]
