"""Décret tertiaire absolute levels: the 2030 Cabs of an activity sub-category from the arrêté's
table (``terril/data/tertiaire_cabs_2030.csv``, whose header gives the source: arrêté du
10 avril 2020, annexe II, as consolidated by annex I of NOR ATDL2430864A).

``Cabs = CVC + USE`` [kWh/m²/year of final energy]: CVC by climate zone (H1a … H3) and altitude
band, USE the sub-category's « USE étalon » modulated by the usage intensity indicators (IIU) the
annex gives for it, each left out meaning its étalon value (``h`` the annual opening hours):

* ``modulation == "hours"``: ``USE = USE_étalon·h/h_étalon + 0,28·CVC·(h − h_étalon)/h_étalon``
  (the second term is the opening hours' indirect effect on CVC);
* ``"occupancy"``: ``USE = USE_étalon·(h/h_étalon)·[P·(T_occ/T_occ_étalon)·(S_étalon/S) + (1 − P)]
  + 0,28·CVC·(h − h_étalon)/h_étalon`` with ``P`` the share of USE that varies, ``T_occ`` the
  occupancy rate [%] and ``S`` the floor area per workstation, counter, seat or child [m²];
* ``"hours_tv"``: the ``hours`` formula ``+ RTV·1,04`` (RTV: competitions broadcast on TV);
* ``"annex"``: a formula not transcribed; only the étalon is computed (enter OPERAT's value,
  the registry's ``tertiaire_cabs_kwh_m2``, to modulate).

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
    modulation: str  # "hours" | "occupancy" | "hours_tv" | "annex"
    #: (altitude band, zone) → CVC [kWh/m²/year]; absent where the annex gives no value.
    cvc_kwh_m2: dict[tuple[str, str], float]
    #: "occupancy" only: the share of USE that varies (« Part_USE_variable »), what the floor area
    #: is counted per ("workstation", "counter", "seat", "child") and the étalon values. [1, m², %]
    use_variable_share: float | None = None
    area_unit: str = ""
    area_per_unit_etalon_m2: float | None = None
    occupancy_etalon_pct: float | None = None
    #: "hours_tv" only: what a regular TV broadcast adds to USE (RTV = 1). [kWh/m²/year]
    tv_broadcast_kwh_m2: float | None = None


class CabsInputError(ValueError):
    """A Cabs input the table cannot use; ``field`` names it (``zone``, ``altitude_m``,
    ``hours_per_year``, ``occupancy_pct``, ``floor_area_per_unit_m2``, ``tv_broadcast``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Cabs:
    """A building's 2030 Cabs computed from the table, with what it was computed from."""

    sub_category: CabsSubCategory
    zone: str
    altitude_band: str
    hours_per_year: float | None  # the opening hours used (None: the étalon's)
    cvc_kwh_m2: float
    use_kwh_m2: float  # USE, modulated by the usage intensity indicators given
    occupancy_pct: float | None = None  # the occupancy rate used (None: the étalon's)
    floor_area_per_unit_m2: float | None = None  # the floor area per unit used (None: the étalon's)
    tv_broadcast: bool = False  # RTV = 1

    @property
    def cabs_kwh_m2(self) -> float:
        return self.cvc_kwh_m2 + self.use_kwh_m2


_MODULATIONS = ("hours", "occupancy", "hours_tv", "annex")
_AREA_UNITS = ("workstation", "counter", "seat", "child")


def _number(path: Path, line: int, row: dict[str, str], name: str, *, required: bool = True) -> float | None:
    text = (row.get(name) or "").strip()
    if not text:
        if required:
            raise ValueError(f"{path}:{line}: field {name}: missing (sub-category {row['sub_category']})")
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{path}:{line}: field {name}: {text!r} is not a number") from None
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{path}:{line}: field {name}: {text!r} must be a finite number ≥ 0")
    return value


@functools.lru_cache(maxsize=4)
def load_cabs_table(path: Path = CABS_TABLE_PATH) -> dict[str, CabsSubCategory]:
    """The table's sub-categories by key (lines starting with ``#`` are the header's notes). A
    malformed row raises ValueError naming the file, the line and the field."""
    with open(path, encoding="utf-8", newline="") as f:
        numbered = [(n, line) for n, line in enumerate(f, start=1) if not line.startswith("#")]
    reader = csv.DictReader(line for _, line in numbered)
    table: dict[str, CabsSubCategory] = {}
    for r in reader:
        line = numbered[reader.line_num - 1][0]
        key = r["sub_category"]
        mod = r["modulation"]
        if mod not in _MODULATIONS:
            raise ValueError(f"{path}:{line}: field modulation: {mod!r} for {key}: expected one of "
                             f"{', '.join(_MODULATIONS)}")
        occupancy = mod == "occupancy"
        share = _number(path, line, r, "use_variable_share", required=occupancy)
        if share is not None and not 0 <= share <= 1:
            raise ValueError(f"{path}:{line}: field use_variable_share: {share} is not between 0 and 1")
        unit = (r.get("area_unit") or "").strip()
        if occupancy and unit not in _AREA_UNITS:
            raise ValueError(f"{path}:{line}: field area_unit: {unit!r} for {key}: expected one of "
                             f"{', '.join(_AREA_UNITS)}")
        sc = CabsSubCategory(
            key, r["annex_label"], int(r["annex_page"]), float(r["use_etalon_kwh_m2"]), float(r["hours_etalon_h"]),
            mod, {}, share, unit, _number(path, line, r, "area_per_unit_etalon_m2", required=occupancy),
            _number(path, line, r, "occupancy_etalon_pct", required=occupancy),
            _number(path, line, r, "tv_broadcast_kwh_m2", required=mod == "hours_tv"))
        if key not in table:
            table[key] = sc
        elif (sc.modulation, sc.use_etalon_kwh_m2, sc.hours_etalon_h, sc.use_variable_share, sc.area_unit,
              sc.area_per_unit_etalon_m2, sc.occupancy_etalon_pct, sc.tv_broadcast_kwh_m2) != (
                table[key].modulation, table[key].use_etalon_kwh_m2, table[key].hours_etalon_h,
                table[key].use_variable_share, table[key].area_unit, table[key].area_per_unit_etalon_m2,
                table[key].occupancy_etalon_pct, table[key].tv_broadcast_kwh_m2):
            raise ValueError(f"{path}:{line}: {key}: USE and modulation columns differ from its first row")
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


#: Indicators each modulation uses besides the opening hours (the others are errors).
_INDICATORS = {"hours": (), "occupancy": ("occupancy_pct", "floor_area_per_unit_m2"), "hours_tv": ("tv_broadcast",),
               "annex": ()}


def cabs_2030(sub_category: str, zone: str, altitude_m: float, hours_per_year: float | None = None, *,
              occupancy_pct: float | None = None, floor_area_per_unit_m2: float | None = None,
              tv_broadcast: bool = False, table: dict[str, CabsSubCategory] | None = None) -> Cabs:
    """The 2030 Cabs of ``sub_category`` in climate ``zone`` at ``altitude_m``, its USE modulated
    by the usage intensity indicators given (each left out is its étalon value; see the module
    docstring for the annex's formulas).

    Raises ValueError for an unknown sub-category, and :class:`CabsInputError` (a ValueError
    naming the input) for an unknown zone, a zone and altitude the annex gives no value for, or
    an indicator the annex does not use for this sub-category or out of its range."""
    table = load_cabs_table() if table is None else table
    sc = table.get(sub_category)
    if sc is None:
        raise ValueError(f"unknown Décret tertiaire sub-category {sub_category!r}: expected one of "
                         f"{', '.join(table)}")
    if zone not in CLIMATE_ZONES:
        raise CabsInputError("zone", f"unknown climate zone {zone!r}: expected one of {', '.join(CLIMATE_ZONES)}")
    try:
        band = altitude_band(altitude_m)
    except ValueError as err:
        raise CabsInputError("altitude_m", str(err)) from None
    cvc = sc.cvc_kwh_m2.get((band, zone))
    if cvc is None:
        raise CabsInputError("altitude_m", f"the arrêté gives no CVC value for {sub_category} in zone {zone} at "
                             f"{altitude_m:g} m (altitude band {band}, annex I p. {sc.annex_page})")
    given = {"occupancy_pct": occupancy_pct is not None, "floor_area_per_unit_m2": floor_area_per_unit_m2 is not None,
             "tv_broadcast": bool(tv_broadcast)}
    for name, is_given in given.items():
        if is_given and name not in _INDICATORS[sc.modulation]:
            raise CabsInputError(name, f"{sub_category}: the arrêté does not modulate its USE with {name} "
                                 f"(annex I p. {sc.annex_page}; its indicators: "
                                 f"{', '.join(('hours_per_year',) + _INDICATORS[sc.modulation])})")
    if hours_per_year is not None and sc.modulation == "annex":
        raise CabsInputError("hours_per_year", f"{sub_category}: the arrêté modulates its USE with more than the "
                             f"opening hours (annex I p. {sc.annex_page}); enter OPERAT's Cabs in "
                             f"tertiaire_cabs_kwh_m2 instead of tertiaire_hours_per_year")
    if hours_per_year is not None and not (hours_per_year > 0 and math.isfinite(hours_per_year)):
        raise CabsInputError("hours_per_year", f"opening hours must be a positive number of hours per year, "
                             f"not {hours_per_year!r}")
    if occupancy_pct is not None and not (0 < occupancy_pct <= 100):
        raise CabsInputError("occupancy_pct", f"the occupancy rate is a percentage in ]0, 100], not {occupancy_pct!r}")
    if floor_area_per_unit_m2 is not None and not (floor_area_per_unit_m2 > 0 and math.isfinite(floor_area_per_unit_m2)):
        raise CabsInputError("floor_area_per_unit_m2", f"the floor area per {sc.area_unit} must be a positive number "
                             f"of m², not {floor_area_per_unit_m2!r}")
    h0 = sc.hours_etalon_h
    h = h0 if hours_per_year is None else hours_per_year
    use = sc.use_etalon_kwh_m2 * h / h0
    if sc.modulation == "occupancy":
        assert sc.use_variable_share is not None and sc.occupancy_etalon_pct and sc.area_per_unit_etalon_m2
        occ = sc.occupancy_etalon_pct if occupancy_pct is None else occupancy_pct
        area = sc.area_per_unit_etalon_m2 if floor_area_per_unit_m2 is None else floor_area_per_unit_m2
        p = sc.use_variable_share
        use *= p * (occ / sc.occupancy_etalon_pct) * (sc.area_per_unit_etalon_m2 / area) + (1.0 - p)
    use += HOURS_CVC_EFFECT * cvc * (h - h0) / h0
    if tv_broadcast:
        use += sc.tv_broadcast_kwh_m2 or 0.0
    return Cabs(sc, zone, band, hours_per_year, cvc, use, occupancy_pct, floor_area_per_unit_m2, bool(tv_broadcast))


__all__ = ["ALTITUDE_BANDS", "CABS_SOURCE", "CABS_TABLE_PATH", "CLIMATE_ZONES", "CLIMATE_ZONES_PATH", "HOURS_CVC_EFFECT",
           "Cabs", "CabsInputError", "CabsSubCategory", "altitude_band", "cabs_2030", "climate_zone_of_department", "load_cabs_table",
           "load_climate_zones", "normalize_department", "sub_categories"]
