"""The registry: sites, meters, devices, PV arrays and measures, in one validated TOML file.

:func:`load_registry` reads and validates a file and returns a :class:`Registry`
or raises :class:`~terril.errors.RegistryError` listing *every* problem with its
location (``sites[3].floor_area_m2``) and reason. ``docs/registry.md`` documents
the format; ``terril/data/loos-en-gohelle.toml`` is the demo registry.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from terril.errors import RegistryError, RegistryProblem
from terril.ids import ID_RULE, is_valid_id
from terril.tomlpos import key_lines, line_of

DEMO_REGISTRY_PATH = Path(__file__).parent / "data" / "loos-en-gohelle.toml"
REGISTRY_ENV = "TERRIL_REGISTRY"

SiteKind = Literal[
    "school", "primary_school", "nursery_school", "middle_school", "sports_hall", "church", "town_hall",
    "technical_services", "pv_test_platform", "library", "cultural_centre", "community_hall", "weather",
    "swimming_pool", "office", "other",
]
Carrier = Literal["electricity", "gas", "heat", "water", "pv", "weather"]
HeatingCarrier = Literal["gas", "heat", "electricity", "none"]
SchoolWeek = Literal["four_days", "four_and_half_days", "five_days"]
RolloutStage = Literal["experimentation", "pilot", "deployment", "massification"]
PvTechnology = Literal[
    "mono_perc", "polycrystalline", "thin_film_cdte", "thin_film_cigs", "amorphous_si", "heterojunction",
    "bifacial", "topcon", "hybrid_pvt",
]


def _check_id(value: str) -> str:
    if not is_valid_id(value):
        raise ValueError(f"invalid id {value!r}: expected {ID_RULE}")
    return value


Identifier = Annotated[str, Field(min_length=1, max_length=64)]


def _check_closures(value: tuple[str, ...]) -> tuple[str, ...]:
    from terril.calendar import parse_closure

    for text in value:
        parse_closure(text)  # raises ValueError naming the problem
    return value


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Town(_Entry):
    """The town (or portfolio) the registry describes."""

    name: str = "Terril"
    timezone: str = "Europe/Paris"  # local days, calendars (terril.timeutil.local_tz)
    school_zone: Literal["A", "B", "C"] = "B"  # school holidays (terril.calendar.school_zone)
    language: Literal["fr", "en"] = "fr"  # reports and CLI summaries when --lang is not given
    latitude: float = Field(50.46, ge=-90, le=90)
    longitude: float = Field(2.79, ge=-180, le=180)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(v)
        except (ValueError, KeyError, OSError):
            raise ValueError(f"unknown time zone {v!r}: expected an IANA name such as 'Europe/Paris'") from None
        return v


class Site(_Entry):
    """A building or place with meters."""

    id: Identifier
    name: str = Field(min_length=1, max_length=200)
    kind: SiteKind
    floor_area_m2: float = Field(0.0, ge=0)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    heating_carrier: HeatingCarrier = "none"
    school_week: SchoolWeek | None = None
    tertiaire: bool = False  # subject to the Décret tertiaire (>= 1000 m² of tertiary use)
    reference_year: int | None = Field(None, ge=2010, le=2100)
    #: The Décret tertiaire target the entity chose for this building (CCH R174-23): "relative"
    #: (−40/−50/−60 % vs the reference year) or "absolute" (the Cabs level below).
    tertiaire_target: Literal["relative", "absolute"] = "relative"
    #: The building's Décret tertiaire activity sub-category: a key of the arrêté's Cabs table
    #: (``terril/data/tertiaire_cabs_2030.csv``, e.g. "primaire_elementaire", "bureaux_defaut").
    #: With the climate zone and altitude below, the building's 2030 Cabs comes from that table.
    tertiaire_category: str | None = None
    #: Climate zone of the building for the Décret tertiaire (annex III of the arrêté of 10 April 2020).
    #: Left out, it is derived from ``tertiaire_department``; given, it wins.
    tertiaire_climate_zone: Literal["H1a", "H1b", "H1c", "H2a", "H2b", "H2c", "H2d", "H3"] | None = None
    #: The building's department (INSEE code "62", "2A"; an integer 62 is accepted): with
    #: ``tertiaire_category`` and no ``tertiaire_climate_zone``, the zone is the arrêté's for that
    #: department (``terril/data/tertiaire_climate_zones.csv``, annexe III « Zclim »).
    tertiaire_department: str | None = None
    #: Altitude of the building [m] (the annex's CVC values are given by altitude band).
    tertiaire_altitude_m: float | None = Field(None, ge=-100, le=4810)
    #: Usage intensity indicators (IIU) of the annex, each left out meaning its étalon value:
    #: annual opening hours (« Nb_h_ouvrées ») [h/yr], for every sub-category whose formula the
    #: table holds; ...
    tertiaire_hours_per_year: float | None = Field(None, gt=0, le=8784)
    #: ... occupancy rate (« T_occ ») [%] and floor area per workstation, counter, seat or child
    #: (« Surf_poste », « Surf_guichet », « Surf_place », « Surf_enfant ») [m²], for the
    #: "occupancy" sub-categories (offices, reception, meeting rooms, crèche) ...
    tertiaire_occupancy_pct: float | None = Field(None, gt=0, le=100)
    tertiaire_floor_area_per_unit_m2: float | None = Field(None, gt=0, le=10_000)
    #: ... and regular TV broadcast of competitions (« RTV », ≥ 6 h a week on average) for the
    #: "hours_tv" sports halls.
    tertiaire_tv_broadcast: bool = False
    #: The building's Cabs for 2030 [kWh/m²/yr of final energy] as the OPERAT platform computes
    #: it for the EFA (all modulations applied). Overrides the table's value.
    tertiaire_cabs_kwh_m2: float | None = Field(None, gt=0, le=5000)
    #: Where the Cabs comes from (e.g. "OPERAT, EFA attestation 2024"); required with a Cabs.
    tertiaire_cabs_source: str = Field("", max_length=300)
    eligible_roof_area_m2: float = Field(0.0, ge=0)
    #: Annual closures, "MM-DD/MM-DD" inclusive (may wrap the year end): "08-01/08-25", "12-24/01-01".
    closures: tuple[str, ...] = ()
    #: Air-conditioned: electricity models may then learn a cooling term (otherwise a warm spell
    #: that happens to coincide with summer use would be taken for cooling).
    cooled: bool = False
    #: The site's weather source: a weather meter of the registry (its station's readings) ...
    weather_meter: Identifier | None = None
    #: ... or the id of an imported station's series (``terril import --station``, tag ``station``).
    #: Neither: the town's first weather meter.
    weather_station: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")

    _v_id = field_validator("id")(classmethod(lambda cls, v: _check_id(v)))
    _v_closures = field_validator("closures")(classmethod(lambda cls, v: _check_closures(v)))

    @field_validator("tertiaire_category")
    @classmethod
    def _known_category(cls, v: str | None) -> str | None:
        from terril.tertiaire_cabs import CABS_TABLE_PATH, sub_categories

        if v is not None and v not in sub_categories():
            raise ValueError(f"unknown Décret tertiaire sub-category {v!r}: expected one of "
                             f"{', '.join(sub_categories())} (the keys of {CABS_TABLE_PATH.name})")
        return v

    @field_validator("tertiaire_department", mode="before")
    @classmethod
    def _known_department(cls, v: object) -> str | None:
        from terril.tertiaire_cabs import CLIMATE_ZONES_PATH, load_climate_zones, normalize_department

        if v is None:
            return None
        if not isinstance(v, (str, int)) or isinstance(v, bool):
            raise ValueError(f"a department code is a string such as \"62\" or \"2A\", not {v!r}")
        code = normalize_department(v)
        if code not in load_climate_zones():
            raise ValueError(f"department {code} is not in {CLIMATE_ZONES_PATH.name}")
        return code

    @model_validator(mode="before")
    @classmethod
    def _zone_from_department(cls, data: Any) -> Any:
        """With a sub-category, a department and no zone: the arrêté's zone for that department
        (an explicit zone wins; a bad department is reported on its own field)."""
        from terril.tertiaire_cabs import climate_zone_of_department

        if (isinstance(data, dict) and data.get("tertiaire_category") is not None
                and data.get("tertiaire_department") is not None and data.get("tertiaire_climate_zone") is None):
            try:
                zone = climate_zone_of_department(data["tertiaire_department"])
            except (ValueError, TypeError):
                return data  # the field validator says why
            return {**data, "tertiaire_climate_zone": zone}
        return data

    @model_validator(mode="after")
    def _tertiaire_target(self) -> "Site":
        if (self.tertiaire_target == "absolute" and self.tertiaire_cabs_kwh_m2 is None
                and self.tertiaire_category is None):
            raise ValueError("tertiaire_target = 'absolute' needs tertiaire_category (with tertiaire_climate_zone "
                             "or tertiaire_department, and tertiaire_altitude_m) or tertiaire_cabs_kwh_m2 (the EFA's "
                             "Cabs, kWh/m²/yr)")
        if self.tertiaire_cabs_kwh_m2 is not None and not self.tertiaire_cabs_source.strip():
            raise ValueError("tertiaire_cabs_kwh_m2 needs tertiaire_cabs_source (where the Cabs value comes from)")
        return self


class Meter(_Entry):
    """A metering point: what is measured, for which site, and of which carrier."""

    id: Identifier
    site: Identifier
    carrier: Carrier
    name: str = ""
    multiplier: float = Field(1.0, gt=0)  # applied once to counters (CT ratio, pulse weight)
    rollover_wh: float | None = Field(None, gt=0)  # register wraps at this value, if known
    gas_kwh_per_m3: float | None = Field(None, gt=0)  # conversion coefficient for gas volumes
    usage: Literal["main", "sub", "heating", "lighting", "hot_water", "production", "weather"] = "main"
    #: plausible range per quantity, overriding the defaults of terril/quantities.py: ``{ power_w = [min, max] }``
    plausible: dict[str, tuple[float, float]] = Field(default_factory=dict)

    _v_id = field_validator("id", "site")(classmethod(lambda cls, v: _check_id(v)))

    @field_validator("plausible")
    @classmethod
    def _v_plausible(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        from terril.quantities import QUANTITIES

        for name, (low, high) in v.items():
            if name not in QUANTITIES:
                raise ValueError(f"{name!r} is not a canonical quantity")
            if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
                raise ValueError(f"{name}: expected [min, max] with finite min < max, got [{low}, {high}]")
        return v

    def plausible_range(self, quantity: str) -> tuple[float, float]:
        """The plausible range of ``quantity`` on this meter: its override, else the quantity's default."""
        from terril.quantities import plausible_range

        return self.plausible.get(quantity) or plausible_range(quantity)


class Channel(_Entry):
    """One channel of a device feeding one meter (``main``, a phase, an inverter serial, a PV input ...).

    ``rename`` stores a quantity of this channel under another canonical name, e.g. a Linky
    tariff register ``{ channel = "HCHC", meter = "x", rename = { energy_import_wh = "energy_import_offpeak_wh" } }``,
    so that two registers of one meter do not overwrite each other.
    """

    channel: str = Field("main", min_length=1, max_length=64)
    meter: Identifier
    rename: dict[str, str] = Field(default_factory=dict)

    _v_meter = field_validator("meter")(classmethod(lambda cls, v: _check_id(v)))

    @field_validator("rename")
    @classmethod
    def _v_rename(cls, v: dict[str, str]) -> dict[str, str]:
        from terril.quantities import QUANTITIES

        for key, target in v.items():
            for name in (key, target):
                if name not in QUANTITIES:
                    raise ValueError(f"{name!r} is not a canonical quantity")
            if QUANTITIES[key].unit != QUANTITIES[target].unit:
                raise ValueError(f"cannot rename {key!r} to {target!r}: units differ")
        return v


class Device(_Entry):
    """A physical device publishing over MQTT, in a payload format, feeding meters through channels."""

    id: Identifier
    site: Identifier
    format: str = Field("native", min_length=1, max_length=32)
    topic: str | None = Field(None, max_length=200)  # vendor topic base (e.g. Tasmota topic, Shelly prefix)
    channels: tuple[Channel, ...] = Field(min_length=1)
    interval_s: float = Field(900.0, gt=0, le=86_400)
    model: str = ""
    #: readings of channels not listed in ``channels``: "quarantine" the message, or "ignore" them (counted)
    unmapped_channels: Literal["quarantine", "ignore"] = "quarantine"

    _v_id = field_validator("id", "site")(classmethod(lambda cls, v: _check_id(v)))

    @field_validator("topic")
    @classmethod
    def _v_topic(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if any(c in v for c in "#+\x00") or v.startswith("/") or v.endswith("/") or "//" in v or not v.isprintable():
            raise ValueError("topic base must be a plain MQTT topic without wildcards, NUL, or empty levels")
        return v


class PvArray(_Entry):
    """A PV array: size, orientation, technology, and its place in the rollout."""

    id: Identifier
    site: Identifier
    meter: Identifier
    kwp: float = Field(gt=0, le=10_000)
    tilt_deg: float = Field(ge=0, le=90)
    azimuth_deg: float = Field(ge=0, lt=360)  # 180 = south
    technology: PvTechnology
    commissioned: dt.date
    rollout_stage: RolloutStage
    planned_kwp: float | None = Field(None, gt=0)
    module_area_m2: float | None = Field(None, gt=0)
    losses_pct: float = Field(14.0, ge=0, lt=100)
    inverter_ac_kw: float | None = Field(None, gt=0)

    _v_id = field_validator("id", "site", "meter")(classmethod(lambda cls, v: _check_id(v)))


class Measure(_Entry):
    """A retrofit or PV measure on a site, with its expected effect."""

    id: Identifier
    site: Identifier
    kind: Literal["insulation", "led_relighting", "boiler_replacement", "heat_pump", "pv", "controls", "windows", "other"]
    date: dt.date
    description: str = ""
    cost_eur: float = Field(0.0, ge=0)
    expected_savings_pct: float = Field(0.0, ge=-100, le=100)
    meters: tuple[Identifier, ...] = ()

    _v_id = field_validator("id", "site")(classmethod(lambda cls, v: _check_id(v)))


class PlannedRoof(_Entry):
    """A roof in the rollout plan that is not equipped yet."""

    site: Identifier
    stage: RolloutStage
    planned_kwp: float = Field(gt=0)
    planned_date: dt.date

    _v_site = field_validator("site")(classmethod(lambda cls, v: _check_id(v)))


_SECTIONS: dict[str, type[_Entry]] = {
    "sites": Site,
    "meters": Meter,
    "devices": Device,
    "pv_arrays": PvArray,
    "measures": Measure,
    "planned_roofs": PlannedRoof,
}
_ADAPTERS = {name: TypeAdapter(model) for name, model in _SECTIONS.items()}


@dataclass(frozen=True)
class Registry:
    """A validated registry. Look-ups are by id."""

    town: Town
    sites: tuple[Site, ...]
    meters: tuple[Meter, ...]
    devices: tuple[Device, ...]
    pv_arrays: tuple[PvArray, ...] = ()
    measures: tuple[Measure, ...] = ()
    planned_roofs: tuple[PlannedRoof, ...] = ()
    source: str = "<memory>"

    @cached_property
    def site_by_id(self) -> dict[str, Site]:
        return {s.id: s for s in self.sites}

    @cached_property
    def meter_by_id(self) -> dict[str, Meter]:
        return {m.id: m for m in self.meters}

    @cached_property
    def device_by_id(self) -> dict[str, Device]:
        return {d.id: d for d in self.devices}

    @cached_property
    def array_by_id(self) -> dict[str, PvArray]:
        return {a.id: a for a in self.pv_arrays}

    def meters_of_site(self, site_id: str) -> list[Meter]:
        return [m for m in self.meters if m.site == site_id]

    def subset(self, site_ids: Sequence[str]) -> Registry:
        """The registry restricted to ``site_ids`` and the sites of the weather meters they use
        (their meters, devices, PV arrays, measures and planned roofs). Unknown ids raise KeyError."""
        want = set(site_ids)
        for sid in want:
            if sid not in self.site_by_id:
                raise KeyError(sid)
        for sid in list(want):
            src = self.weather_source(sid)
            if src is not None and src.meter is not None:
                want.add(src.meter.site)
        return Registry(
            town=self.town,
            sites=tuple(s for s in self.sites if s.id in want),
            meters=tuple(m for m in self.meters if m.site in want),
            devices=tuple(d for d in self.devices if d.site in want),
            pv_arrays=tuple(a for a in self.pv_arrays if a.site in want),
            measures=tuple(m for m in self.measures if m.site in want),
            planned_roofs=tuple(r for r in self.planned_roofs if r.site in want),
            source=self.source,
        )

    def weather_source(self, site_id: str) -> "WeatherSource | None":
        """Where ``site_id`` takes its temperatures: its ``weather_meter`` or ``weather_station``,
        else the town's first weather meter (``default``); None when there is none at all."""
        site = self.site_by_id.get(site_id)
        if site is not None and site.weather_station is not None:
            return WeatherSource(station=site.weather_station)
        if site is not None and site.weather_meter is not None:
            return WeatherSource(meter=self.meter_by_id[site.weather_meter])
        first = next((m for m in self.meters if m.carrier == "weather"), None)
        return None if first is None else WeatherSource(meter=first, default=True)

    def channel_meter(self, device_id: str, channel: str | None) -> Meter | None:
        """The meter fed by ``channel`` of ``device_id`` (``None``: see :meth:`channel_of`)."""
        found = self.channel_of(device_id, channel)
        return self.meter_by_id[found.meter] if found is not None else None

    def channel_of(self, device_id: str, channel: str | None) -> Channel | None:
        """The registry channel of ``device_id`` named ``channel``.

        ``None`` (a reading the decoder emits without a channel, the device total): the device's
        channel named ``main`` if it has one, else its first channel.
        """
        device = self.device_by_id.get(device_id)
        if device is None:
            return None
        if channel is None:
            return next((ch for ch in device.channels if ch.channel == "main"), device.channels[0])
        for ch in device.channels:
            if ch.channel == channel:
                return ch
        return None


@dataclass(frozen=True)
class WeatherSource:
    """A site's weather: a registry weather ``meter`` or an imported ``station`` series."""

    meter: Meter | None = None
    station: str | None = None
    default: bool = False

    @property
    def key(self) -> str:
        """A stable id of the source: ``meter:<id>`` or ``station:<id>``."""
        return f"meter:{self.meter.id}" if self.meter is not None else f"station:{self.station}"


def _loc(section: str, index: int, raw: Any, loc: tuple[Any, ...] = ()) -> str:
    where = f"{section}[{index}]"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        where += f" (id {raw['id']!r})"
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    return where


def _check_tertiaire_cabs(st: Site, bad: Any) -> None:
    """A site's Cabs inputs: a sub-category needs its climate zone and altitude, and the table
    must give a value for them; zone, altitude and hours without a sub-category do nothing."""
    from terril.tertiaire_cabs import CabsInputError, cabs_2030

    if st.tertiaire_category is None:
        for name in ("tertiaire_climate_zone", "tertiaire_department", "tertiaire_altitude_m",
                     "tertiaire_hours_per_year", "tertiaire_occupancy_pct", "tertiaire_floor_area_per_unit_m2"):
            if getattr(st, name) is not None:
                bad("sites", st, name, reason=f"{name} is only used with tertiaire_category")
        if st.tertiaire_tv_broadcast:
            bad("sites", st, "tertiaire_tv_broadcast", reason="tertiaire_tv_broadcast is only used with "
                "tertiaire_category")
        return
    missing = [n for n in ("tertiaire_climate_zone", "tertiaire_altitude_m") if getattr(st, n) is None]
    for name in missing:
        what = "tertiaire_climate_zone (or tertiaire_department)" if name == "tertiaire_climate_zone" else name
        bad("sites", st, name, reason=f"tertiaire_category = {st.tertiaire_category!r} needs {what}")
    if missing:
        return
    try:
        cabs_2030(st.tertiaire_category, str(st.tertiaire_climate_zone), float(st.tertiaire_altitude_m or 0.0),
                  st.tertiaire_hours_per_year, occupancy_pct=st.tertiaire_occupancy_pct,
                  floor_area_per_unit_m2=st.tertiaire_floor_area_per_unit_m2, tv_broadcast=st.tertiaire_tv_broadcast)
    except CabsInputError as err:
        # no value for this zone and altitude, or an indicator the annex does not use for this sub-category
        field = {"zone": "tertiaire_climate_zone"}.get(err.field, f"tertiaire_{err.field}")
        bad("sites", st, field, reason=str(err))


def parse_registry(data: dict[str, Any], source: str = "<memory>", text: str | None = None) -> Registry:
    """Validate registry ``data`` (as read from TOML) and return it, or raise RegistryError listing every problem.

    With the TOML ``text`` it was read from, each problem also carries its line. A reference to an entry
    that is itself invalid (a meter on a site with a bad field) is not reported again: one error, one line.
    """
    problems: list[RegistryProblem] = []
    lines = key_lines(text) if text is not None else {}

    def problem(location: str, reason: str, path: tuple[Any, ...] = ()) -> None:
        problems.append(RegistryProblem(source, location, reason, line_of(lines, path or (location,))))

    allowed = {"town", *_SECTIONS}
    for key in data:
        if key not in allowed:
            problem(key, f"unknown section; expected one of {', '.join(sorted(allowed))}", (key,))
    try:
        town = Town.model_validate(data.get("town", {}))
    except ValidationError as err:
        town = Town()
        for e in err.errors():
            problem("town" + "".join(f".{p}" for p in e["loc"]), e["msg"], ("town", *e["loc"]))

    parsed: dict[str, list[Any]] = {name: [] for name in _SECTIONS}
    broken: dict[str, set[object]] = {name: set() for name in _SECTIONS}  # ids of entries already reported
    raw_at: dict[int, int] = {}  # id() of a validated entry -> its index in the file's section
    for name, adapter in _ADAPTERS.items():
        raw_list = data.get(name, [])
        if not isinstance(raw_list, list):
            problem(name, f"must be an array of tables ([[{name}]])", (name,))
            continue
        for i, raw in enumerate(raw_list):
            try:
                entry = adapter.validate_python(raw)
            except ValidationError as err:
                if isinstance(raw, dict):
                    broken[name].add(raw.get("id"))
                for e in err.errors():
                    problem(_loc(name, i, raw, tuple(e["loc"])), e["msg"], (name, i, *e["loc"]))
            else:
                parsed[name].append(entry)
                raw_at[id(entry)] = i
    # references to these are not reported again ("unknown site" for every meter of a site with a typo)
    sites = {s.id: s for s in parsed["sites"]}
    meters = {m.id: m for m in parsed["meters"]}
    sites_known = set(sites) | broken["sites"]
    meters_known = set(meters) | broken["meters"]

    def bad(section: str, entry: Any, *fields: str | int, reason: str) -> None:
        """Report ``reason`` at ``fields`` of a validated entry, located by its index in the file."""
        i = raw_at[id(entry)]
        where = f"{section}[{i}]" + (f" (id {entry.id!r})" if hasattr(entry, "id") else "")
        for part in fields:
            where += f"[{part}]" if isinstance(part, int) else f".{part}"
        problem(where, reason, (section, i, *fields))

    for section in ("sites", "meters", "devices", "pv_arrays", "measures"):
        seen: dict[str, int] = {}
        for entry in parsed[section]:
            if entry.id in seen:
                bad(section, entry, "id", reason=f"duplicate id, first used at {section}[{seen[entry.id]}]")
            else:
                seen[entry.id] = raw_at[id(entry)]

    for st in parsed["sites"]:
        _check_tertiaire_cabs(st, bad)
        if st.weather_meter is not None and st.weather_station is not None:
            bad("sites", st, "weather_station", reason="give weather_meter or weather_station, not both")
        if st.weather_meter is not None:
            wm = meters.get(st.weather_meter)
            if wm is None:
                if st.weather_meter not in meters_known:
                    bad("sites", st, "weather_meter", reason=f"unknown meter {st.weather_meter!r}")
            elif wm.carrier != "weather":
                bad("sites", st, "weather_meter",
                    reason=f"meter {st.weather_meter!r} has carrier {wm.carrier!r}, not 'weather'")
    for m in parsed["meters"]:
        if m.site not in sites_known:
            bad("meters", m, "site", reason=f"unknown site {m.site!r}")
        if m.gas_kwh_per_m3 is not None and m.carrier != "gas":
            bad("meters", m, "gas_kwh_per_m3", reason="only gas meters take a conversion coefficient")
    fed_by: dict[str, str] = {}
    for d in parsed["devices"]:
        if d.site not in sites_known:
            bad("devices", d, "site", reason=f"unknown site {d.site!r}")
        names: set[str] = set()
        for j, ch in enumerate(d.channels):
            if ch.channel in names:
                bad("devices", d, "channels", j, "channel", reason=f"duplicate channel {ch.channel!r}")
            names.add(ch.channel)
            meter = meters.get(ch.meter)
            if meter is None:
                if ch.meter not in meters_known:
                    bad("devices", d, "channels", j, "meter", reason=f"unknown meter {ch.meter!r}")
            elif meter.site != d.site:
                if d.site in sites:
                    bad("devices", d, "channels", j, "meter",
                        reason=f"meter {ch.meter!r} belongs to site {meter.site!r}, not {d.site!r}")
            elif ch.meter in fed_by and fed_by[ch.meter] != d.id:
                bad("devices", d, "channels", j, "meter",
                    reason=f"meter {ch.meter!r} is already fed by device {fed_by[ch.meter]!r}")
            else:
                fed_by[ch.meter] = d.id
    keys: dict[tuple[str, str], str] = {}
    for d in parsed["devices"]:
        if d.format == "native" and d.topic is None:
            continue
        key = (d.format, d.topic or d.id)
        if key in keys:
            bad("devices", d, "topic", reason=f"device {keys[key]!r} already uses topic {key[1]!r} in format {key[0]!r}")
        keys[key] = d.id
    for a in parsed["pv_arrays"]:
        if a.site not in sites_known:
            bad("pv_arrays", a, "site", reason=f"unknown site {a.site!r}")
        meter = meters.get(a.meter)
        if meter is None:
            if a.meter not in meters_known:
                bad("pv_arrays", a, "meter", reason=f"unknown meter {a.meter!r}")
        elif meter.carrier != "pv":
            bad("pv_arrays", a, "meter",
                reason=f"meter {a.meter!r} has carrier {meter.carrier!r}; a PV array needs a 'pv' meter")
        elif meter.site != a.site and a.site in sites:
            bad("pv_arrays", a, "meter", reason=f"meter {a.meter!r} belongs to site {meter.site!r}, not {a.site!r}")
    for ms in parsed["measures"]:
        if ms.site not in sites_known:
            bad("measures", ms, "site", reason=f"unknown site {ms.site!r}")
        for j, mid in enumerate(ms.meters):
            if mid not in meters_known:
                bad("measures", ms, "meters", j, reason=f"unknown meter {mid!r}")
    for r in parsed["planned_roofs"]:
        if r.site not in sites_known:
            bad("planned_roofs", r, "site", reason=f"unknown site {r.site!r}")

    if problems:
        raise RegistryError(
            f"{source}: {len(problems)} problem{'s' if len(problems) > 1 else ''} in the registry",
            problems,
            hint="fix each location listed, then run `terril registry check FILE`",
        )
    return Registry(
        town=town,
        sites=tuple(parsed["sites"]),
        meters=tuple(parsed["meters"]),
        devices=tuple(parsed["devices"]),
        pv_arrays=tuple(parsed["pv_arrays"]),
        measures=tuple(parsed["measures"]),
        planned_roofs=tuple(parsed["planned_roofs"]),
        source=source,
    )


def load_registry(path: str | os.PathLike[str] | None = None) -> Registry:
    """Read and validate a registry file.

    ``path`` defaults to ``$TERRIL_REGISTRY``, then to the bundled demo registry.
    """
    if path is None:
        path = os.environ.get(REGISTRY_ENV) or DEMO_REGISTRY_PATH
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError as err:
        raise RegistryError(f"{p}: registry file not found", [RegistryProblem(str(p), "file", "not found")],
                            hint=f"pass --registry FILE or set {REGISTRY_ENV}") from err
    except OSError as err:
        raise RegistryError(f"{p}: cannot read the registry: {err.strerror}",
                            [RegistryProblem(str(p), "file", err.strerror or "unreadable")]) from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise RegistryError(f"{p}: not UTF-8 text",
                            [RegistryProblem(str(p), f"byte {err.start}", "not UTF-8", line)]) from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = re.search(r"\(at line (\d+), column \d+\)", str(err))
        raise RegistryError(f"{p}: not valid TOML", [RegistryProblem(str(p), "syntax", str(err),
                                                                     int(found.group(1)) if found else None)]) from err
    registry = parse_registry(data, source=str(p), text=text)
    apply_town(registry.town)
    return registry


def apply_town(town: Town) -> None:
    """Make the town's time zone and school zone the defaults of :mod:`terril.timeutil` and
    :mod:`terril.calendar` (local day boundaries, school holidays) for this process."""
    from terril.calendar import set_school_zone
    from terril.timeutil import set_local_timezone

    set_local_timezone(town.timezone)
    set_school_zone(town.school_zone)
