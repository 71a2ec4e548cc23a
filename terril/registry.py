"""The registry: sites, meters, devices, PV arrays and measures, in one validated TOML file.

:func:`load_registry` reads and validates a file and returns a :class:`Registry`
or raises :class:`~terril.errors.RegistryError` listing *every* problem with its
location (``sites[3].floor_area_m2``) and reason. ``docs/registry.md`` documents
the format; ``terril/data/loos-en-gohelle.toml`` is the demo registry.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from terril.errors import RegistryError, RegistryProblem
from terril.ids import ID_RULE, is_valid_id

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
    timezone: str = "Europe/Paris"
    school_zone: Literal["A", "B", "C"] = "B"
    latitude: float = Field(50.46, ge=-90, le=90)
    longitude: float = Field(2.79, ge=-180, le=180)


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
    eligible_roof_area_m2: float = Field(0.0, ge=0)
    #: Annual closures, "MM-DD/MM-DD" inclusive (may wrap the year end): "08-01/08-25", "12-24/01-01".
    closures: tuple[str, ...] = ()

    _v_id = field_validator("id")(classmethod(lambda cls, v: _check_id(v)))
    _v_closures = field_validator("closures")(classmethod(lambda cls, v: _check_closures(v)))


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

    _v_id = field_validator("id", "site")(classmethod(lambda cls, v: _check_id(v)))


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

    def channel_meter(self, device_id: str, channel: str | None) -> Meter | None:
        """The meter fed by ``channel`` of ``device_id``; ``None`` channel means the device's first channel."""
        found = self.channel_of(device_id, channel)
        return self.meter_by_id[found.meter] if found is not None else None

    def channel_of(self, device_id: str, channel: str | None) -> Channel | None:
        """The registry channel of ``device_id`` named ``channel`` (``None``: the device's first channel)."""
        device = self.device_by_id.get(device_id)
        if device is None:
            return None
        if channel is None:
            return device.channels[0]
        for ch in device.channels:
            if ch.channel == channel:
                return ch
        return None


def _loc(section: str, index: int, raw: Any, loc: tuple[Any, ...] = ()) -> str:
    where = f"{section}[{index}]"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        where += f" (id {raw['id']!r})"
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    return where


def parse_registry(data: dict[str, Any], source: str = "<memory>") -> Registry:
    """Validate registry ``data`` (as read from TOML) and return it, or raise RegistryError listing every problem."""
    problems: list[RegistryProblem] = []

    def problem(location: str, reason: str) -> None:
        problems.append(RegistryProblem(source, location, reason))

    allowed = {"town", *_SECTIONS}
    for key in data:
        if key not in allowed:
            problem(key, f"unknown section; expected one of {', '.join(sorted(allowed))}")
    try:
        town = Town.model_validate(data.get("town", {}))
    except ValidationError as err:
        town = Town()
        for e in err.errors():
            problem("town" + "".join(f".{p}" for p in e["loc"]), e["msg"])

    parsed: dict[str, list[Any]] = {name: [] for name in _SECTIONS}
    for name, adapter in _ADAPTERS.items():
        raw_list = data.get(name, [])
        if not isinstance(raw_list, list):
            problem(name, f"must be an array of tables ([[{name}]])")
            continue
        for i, raw in enumerate(raw_list):
            try:
                parsed[name].append(adapter.validate_python(raw))
            except ValidationError as err:
                for e in err.errors():
                    problem(_loc(name, i, raw, tuple(e["loc"])), e["msg"])

    sites = {s.id: s for s in parsed["sites"]}
    meters = {m.id: m for m in parsed["meters"]}

    def unique(section: str, entries: list[Any]) -> None:
        seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            if entry.id in seen:
                problem(f"{section}[{i}] (id {entry.id!r}).id", f"duplicate id, first used at {section}[{seen[entry.id]}]")
            else:
                seen[entry.id] = i

    for section in ("sites", "meters", "devices", "pv_arrays", "measures"):
        unique(section, parsed[section])

    raw_sections = {name: data.get(name, []) if isinstance(data.get(name, []), list) else [] for name in _SECTIONS}

    first_index: dict[str, dict[Any, int]] = {}  # per section: id -> index of its first raw entry (one pass each)

    def raw_index(section: str, entry: Any) -> int:
        if section not in first_index:
            index: dict[Any, int] = {}
            for i, raw in enumerate(raw_sections[section]):
                key = raw.get("id", raw.get("site")) if isinstance(raw, dict) else None
                if isinstance(key, str):
                    index.setdefault(key, i)
            first_index[section] = index
        return first_index[section].get(getattr(entry, "id", getattr(entry, "site", None)), -1)

    for m in parsed["meters"]:
        where = f"meters[{raw_index('meters', m)}] (id {m.id!r})"
        if m.site not in sites:
            problem(f"{where}.site", f"unknown site {m.site!r}")
        if m.gas_kwh_per_m3 is not None and m.carrier != "gas":
            problem(f"{where}.gas_kwh_per_m3", "only gas meters take a conversion coefficient")
    fed_by: dict[str, str] = {}
    for d in parsed["devices"]:
        where = f"devices[{raw_index('devices', d)}] (id {d.id!r})"
        if d.site not in sites:
            problem(f"{where}.site", f"unknown site {d.site!r}")
        names: set[str] = set()
        for j, ch in enumerate(d.channels):
            if ch.channel in names:
                problem(f"{where}.channels[{j}].channel", f"duplicate channel {ch.channel!r}")
            names.add(ch.channel)
            meter = meters.get(ch.meter)
            if meter is None:
                problem(f"{where}.channels[{j}].meter", f"unknown meter {ch.meter!r}")
            elif meter.site != d.site:
                problem(f"{where}.channels[{j}].meter", f"meter {ch.meter!r} belongs to site {meter.site!r}, not {d.site!r}")
            elif ch.meter in fed_by and fed_by[ch.meter] != d.id:
                problem(f"{where}.channels[{j}].meter", f"meter {ch.meter!r} is already fed by device {fed_by[ch.meter]!r}")
            else:
                fed_by[ch.meter] = d.id
    keys: dict[tuple[str, str], str] = {}
    for d in parsed["devices"]:
        if d.format == "native" and d.topic is None:
            continue
        key = (d.format, d.topic or d.id)
        if key in keys:
            problem(f"devices[{raw_index('devices', d)}] (id {d.id!r}).topic",
                    f"device {keys[key]!r} already uses topic {key[1]!r} in format {key[0]!r}")
        keys[key] = d.id
    for a in parsed["pv_arrays"]:
        where = f"pv_arrays[{raw_index('pv_arrays', a)}] (id {a.id!r})"
        if a.site not in sites:
            problem(f"{where}.site", f"unknown site {a.site!r}")
        meter = meters.get(a.meter)
        if meter is None:
            problem(f"{where}.meter", f"unknown meter {a.meter!r}")
        elif meter.carrier != "pv":
            problem(f"{where}.meter", f"meter {a.meter!r} has carrier {meter.carrier!r}; a PV array needs a 'pv' meter")
        elif meter.site != a.site:
            problem(f"{where}.meter", f"meter {a.meter!r} belongs to site {meter.site!r}, not {a.site!r}")
    for ms in parsed["measures"]:
        where = f"measures[{raw_index('measures', ms)}] (id {ms.id!r})"
        if ms.site not in sites:
            problem(f"{where}.site", f"unknown site {ms.site!r}")
        for j, mid in enumerate(ms.meters):
            if mid not in meters:
                problem(f"{where}.meters[{j}]", f"unknown meter {mid!r}")
    for i, r in enumerate(parsed["planned_roofs"]):
        if r.site not in sites:
            problem(f"planned_roofs[{i}].site", f"unknown site {r.site!r}")

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
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise RegistryError(f"{p}: not UTF-8 text", [RegistryProblem(str(p), f"byte {err.start}", "not UTF-8")]) from err
    except tomllib.TOMLDecodeError as err:
        raise RegistryError(f"{p}: not valid TOML", [RegistryProblem(str(p), "syntax", str(err))]) from err
    return parse_registry(data, source=str(p))
