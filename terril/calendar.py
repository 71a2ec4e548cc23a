"""Calendars as data: French public holidays, school holidays (zones A, B, C) and the school week, per day.

Models (baselines, occupancy-aware regressions) and the simulator read the same calendar from
this module. Everything here is pure and vectorised over ``numpy.datetime64[D]`` day arrays
of *local* calendar dates (the town's time zone, default Europe/Paris); callers convert UTC instants to local dates first
(see :func:`local_dates`).

* Public holidays (jours fériés) are computed: the fixed ones and the Easter-based ones
  (Easter Monday, Ascension Thursday, Whit Monday). Good Friday and 26 December, holidays only
  in Alsace-Moselle, are not included.
* School holidays come from ``terril/data/school_holidays_zone_<a|b|c>.toml``, whose headers name
  their source. The zone is the town's (registry ``[town] school_zone``, default B, académie de
  Lille), applied by ``load_registry`` through :func:`set_school_zone`.
* The school week (``four_days``, ``four_and_half_days``, ``five_days``) says whether a
  Wednesday has school all day, in the morning only, or not at all.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from terril.errors import ConfigError

SchoolWeek = Literal["four_days", "four_and_half_days", "five_days"]
HolidayName = Literal["toussaint", "christmas", "winter", "spring", "summer", "ascension_bridge"]

SCHOOL_HOLIDAYS_DIR = Path(__file__).parent / "data"
SCHOOL_HOLIDAYS_ZONE_B_PATH = SCHOOL_HOLIDAYS_DIR / "school_holidays_zone_b.toml"

#: Names of French public holidays (metropolitan France, outside Alsace-Moselle), French and English.
PUBLIC_HOLIDAY_LABELS: dict[str, tuple[str, str]] = {
    "new_year": ("Jour de l'an", "New Year's Day"),
    "easter_monday": ("Lundi de Pâques", "Easter Monday"),
    "labour_day": ("Fête du Travail", "Labour Day"),
    "victory_1945": ("Victoire 1945", "Victory in Europe Day"),
    "ascension": ("Ascension", "Ascension Day"),
    "whit_monday": ("Lundi de Pentecôte", "Whit Monday"),
    "bastille_day": ("Fête nationale", "Bastille Day"),
    "assumption": ("Assomption", "Assumption Day"),
    "all_saints": ("Toussaint", "All Saints' Day"),
    "armistice_1918": ("Armistice 1918", "Armistice Day"),
    "christmas": ("Noël", "Christmas Day"),
}

DayArray = npt.NDArray[np.datetime64]
BoolArray = npt.NDArray[np.bool_]


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday of ``year`` (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=256)
def public_holidays(year: int) -> dict[dt.date, str]:
    """French public holidays of ``year``: date -> key of :data:`PUBLIC_HOLIDAY_LABELS`."""
    easter = easter_sunday(year)
    days = {
        dt.date(year, 1, 1): "new_year",
        easter + dt.timedelta(days=1): "easter_monday",
        dt.date(year, 5, 1): "labour_day",
        dt.date(year, 5, 8): "victory_1945",
        easter + dt.timedelta(days=39): "ascension",
        easter + dt.timedelta(days=50): "whit_monday",
        dt.date(year, 7, 14): "bastille_day",
        dt.date(year, 8, 15): "assumption",
        dt.date(year, 11, 1): "all_saints",
        dt.date(year, 11, 11): "armistice_1918",
        dt.date(year, 12, 25): "christmas",
    }
    return dict(sorted(days.items()))


@dataclass(frozen=True, slots=True)
class SchoolHoliday:
    """One school holiday period: ``first_day`` .. ``last_day`` inclusive are days without school."""

    school_year: str
    name: HolidayName
    first_day: dt.date
    last_day: dt.date
    status: Literal["official", "estimated"]


@dataclass(frozen=True, slots=True)
class SchoolCalendar:
    """School holiday periods of one zone, sorted by date."""

    zone: str
    source: str
    holidays: tuple[SchoolHoliday, ...]

    @property
    def first_day(self) -> dt.date:
        """First day covered by the data."""
        return self.holidays[0].first_day

    @property
    def last_day(self) -> dt.date:
        """Last day covered by the data."""
        return self.holidays[-1].last_day


def parse_school_holidays(text: str, source: str = "<memory>") -> SchoolCalendar:
    """Parse a school-holiday TOML document (format: header of ``school_holidays_zone_b.toml``).

    Raises
    ------
    ConfigError
        When a period is malformed, reversed, or overlaps another.
    """
    try:
        data = tomllib.loads(text)
        periods = []
        for i, raw in enumerate(data["holidays"]):
            first, last = raw["first_day"], raw["last_day"]
            if not isinstance(first, dt.date) or not isinstance(last, dt.date) or last < first:
                raise ConfigError(f"{source}: holidays[{i}]: first_day/last_day must be dates with first <= last")
            if raw["name"] not in ("toussaint", "christmas", "winter", "spring", "summer", "ascension_bridge"):
                raise ConfigError(f"{source}: holidays[{i}].name: unknown holiday {raw['name']!r}")
            if raw.get("status", "official") not in ("official", "estimated"):
                raise ConfigError(f"{source}: holidays[{i}].status must be 'official' or 'estimated'")
            periods.append(SchoolHoliday(str(raw["school_year"]), raw["name"], first, last, raw.get("status", "official")))
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as err:
        raise ConfigError(f"{source}: invalid school-holiday file: {err}") from err
    periods.sort(key=lambda p: p.first_day)
    for prev, nxt in zip(periods, periods[1:]):
        if nxt.first_day <= prev.last_day:
            raise ConfigError(f"{source}: holiday {nxt.name} {nxt.first_day} overlaps {prev.name} ending {prev.last_day}")
    return SchoolCalendar(zone=str(data.get("zone", "?")), source=str(data.get("source", source)), holidays=tuple(periods))


#: School-holiday zones with bundled data.
SCHOOL_ZONES: tuple[str, ...] = ("A", "B", "C")
_ZONE: list[str] = ["B"]


def set_school_zone(zone: str) -> str:
    """Make ``zone`` (A, B or C; registry ``[town] school_zone``) the default of the calendar
    functions; raises ValueError naming the zones accepted."""
    if zone not in SCHOOL_ZONES:
        raise ValueError(f"unknown school zone {zone!r}: expected one of {', '.join(SCHOOL_ZONES)}")
    _ZONE[0] = zone
    return zone


def school_zone() -> str:
    """The default school-holiday zone (the town's, default B)."""
    return _ZONE[0]


def load_school_holidays(zone: str | None = None) -> SchoolCalendar:
    """The bundled school-holiday calendar of ``zone`` (A, B or C; default :func:`school_zone`)."""
    return _load_school_holidays(zone or _ZONE[0])


@lru_cache(maxsize=4)
def _load_school_holidays(zone: str) -> SchoolCalendar:
    if zone not in SCHOOL_ZONES:
        raise ConfigError(f"no school-holiday data for zone {zone!r}; bundled zones: {', '.join(SCHOOL_ZONES)}",
                          hint="add terril/data/school_holidays_zone_<x>.toml")
    path = SCHOOL_HOLIDAYS_DIR / f"school_holidays_zone_{zone.lower()}.toml"
    return parse_school_holidays(path.read_text(encoding="utf-8"), source=str(path))


def as_days(dates: npt.ArrayLike) -> DayArray:
    """Dates (``datetime.date`` sequence, ISO strings or datetime64) as ``datetime64[D]``."""
    return np.asarray(dates, dtype="datetime64[D]")


def date_range(first: dt.date, last: dt.date) -> DayArray:
    """Every day from ``first`` to ``last`` inclusive, as ``datetime64[D]``."""
    return np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1, dtype="datetime64[D]")


def local_dates(time_ns: npt.ArrayLike, tz: str | None = None) -> DayArray:
    """Local calendar dates of UTC-nanosecond instants in ``tz`` (default: the town's time zone,
    :func:`terril.timeutil.local_tz`; DST handled by the tz database)."""
    from terril.timeutil import local_tz

    tz = tz or str(local_tz())
    import pandas as pd  # the tz database walk is what pandas does well

    idx = pd.DatetimeIndex(np.asarray(time_ns, dtype="int64").astype("datetime64[ns]"), tz="UTC").tz_convert(tz)
    return idx.tz_localize(None).values.astype("datetime64[D]")


def parse_closure(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """An annual closure ``"MM-DD/MM-DD"`` (first and last day, inclusive; it may wrap the year end,
    as ``"12-24/01-01"``) as ((month, day), (month, day)). Raises ValueError naming the problem."""
    parts = str(text).split("/")
    if len(parts) != 2:
        raise ValueError(f"closure {text!r}: expected 'MM-DD/MM-DD', e.g. '08-01/08-25'")
    out = []
    for part in parts:
        try:
            month, day = (int(x) for x in part.strip().split("-"))
            dt.date(2024, month, day)  # a leap year, so that 02-29 is accepted
        except ValueError:
            raise ValueError(f"closure {text!r}: {part.strip()!r} is not a day of the year as MM-DD") from None
        out.append((month, day))
    return out[0], out[1]


def is_closed(dates: npt.ArrayLike, closures: tuple[str, ...] | list[str]) -> BoolArray:
    """True on days inside one of the annual ``closures`` (see :func:`parse_closure`)."""
    days = as_days(dates)
    closed = np.zeros(days.shape, dtype=bool)
    if not closures or days.size == 0:
        return closed
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    key = month * 100 + dom
    for text in closures:
        (m0, d0), (m1, d1) = parse_closure(text)
        a, b = m0 * 100 + d0, m1 * 100 + d1
        closed |= ((key >= a) & (key <= b)) if a <= b else ((key >= a) | (key <= b))
    return closed


def is_public_holiday(dates: npt.ArrayLike) -> BoolArray:
    """True on French public holidays."""
    days = as_days(dates)
    if days.size == 0:
        return np.zeros(days.shape, dtype=bool)
    years = days.astype("datetime64[Y]").astype(int) + 1970
    holidays = np.array([np.datetime64(d, "D") for y in range(int(years.min()), int(years.max()) + 1)
                         for d in public_holidays(y)], dtype="datetime64[D]")
    return np.isin(days, holidays)


def is_school_holiday(dates: npt.ArrayLike, zone: str | None = None, calendar: SchoolCalendar | None = None) -> BoolArray:
    """True on days inside a school holiday period of ``zone`` (default :func:`school_zone`; weekends
    between terms are not included).

    Days outside the data's range are treated with the usual pattern: July and August are holidays,
    other days are not (the data covers 2010-07 to 2028-08).
    """
    cal = calendar or load_school_holidays(zone)
    days = as_days(dates)
    first = np.array([np.datetime64(h.first_day, "D") for h in cal.holidays])
    last = np.array([np.datetime64(h.last_day, "D") for h in cal.holidays])
    i = np.searchsorted(first, days, side="right") - 1
    inside = (i >= 0) & (days <= last[np.clip(i, 0, None)])
    outside = (days < first[0]) | (days > last[-1])
    if outside.any():
        month = days.astype("datetime64[M]").astype(int) % 12 + 1
        inside = np.where(outside, (month == 7) | (month == 8), inside)
    return inside


@dataclass(frozen=True, slots=True)
class DayTypes:
    """Per-day booleans for an array of local dates (all arrays have the shape of ``dates``).

    ``school_day``: pupils are at school at least part of the day; ``school_afternoon``: they
    are there in the afternoon too (false on a four-and-a-half-day Wednesday). ``holiday`` is the
    school holiday (vacances scolaires); ``weekday`` is 0 = Monday .. 6 = Sunday.
    """

    dates: DayArray
    weekday: npt.NDArray[np.int64]
    weekend: BoolArray
    wednesday: BoolArray
    public_holiday: BoolArray
    holiday: BoolArray
    school_day: BoolArray
    school_afternoon: BoolArray

    @property
    def working_day(self) -> BoolArray:
        """Monday to Friday and not a public holiday (office opening days)."""
        return ~self.weekend & ~self.public_holiday


def weekday_of(dates: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Day of week, 0 = Monday .. 6 = Sunday."""
    # 1970-01-01 was a Thursday (3)
    return ((as_days(dates).astype("int64") + 3) % 7).astype(np.int64)


def day_types(dates: npt.ArrayLike, school_week: SchoolWeek | None = "four_days", zone: str | None = None,
              calendar: SchoolCalendar | None = None) -> DayTypes:
    """Classify local ``dates`` for a site with ``school_week``.

    Parameters
    ----------
    dates
        Local calendar dates (the town's time zone).
    school_week
        The site's school week; ``None`` (not a school) gives no school days.
    zone
        School holiday zone (default :func:`school_zone`, the town's; ``"B"`` for the académie de Lille).
    calendar
        A school calendar to use instead of the bundled one (tests).
    """
    days = as_days(dates)
    wd = weekday_of(days)
    weekend = wd >= 5
    wednesday = wd == 2
    ph = is_public_holiday(days)
    hol = is_school_holiday(days, zone, calendar)
    open_day = ~weekend & ~ph & ~hol
    if school_week is None:
        school = np.zeros(days.shape, dtype=bool)
        afternoon = school
    elif school_week == "four_days":
        school = open_day & ~wednesday
        afternoon = school
    elif school_week == "four_and_half_days":
        school = open_day
        afternoon = open_day & ~wednesday
    elif school_week == "five_days":
        school = open_day
        afternoon = open_day
    else:
        raise ValueError(f"unknown school_week {school_week!r}")
    return DayTypes(days, wd, weekend, wednesday, ph, hol, school, afternoon)


#: Default school timetable, local decimal hours: morning and afternoon sessions.
SCHOOL_MORNING_H = (8.5, 11.75)
SCHOOL_AFTERNOON_H = (13.5, 16.5)


def school_occupancy(local_hour: npt.ArrayLike, types: DayTypes, day_index: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Pupil presence (0..1) at ``local_hour`` [h] for days ``types.dates[day_index]``.

    1 during lessons, 0.6 at the lunch break (canteen), 0.3 in the before- and after-school care
    (7:30-8:30, 16:30-18:00) on school days, 0 otherwise.
    """
    h = np.asarray(local_hour, dtype=float)
    di = np.asarray(day_index)
    school = types.school_day[di]
    afternoon = types.school_afternoon[di]
    morning_on = (h >= SCHOOL_MORNING_H[0]) & (h < SCHOOL_MORNING_H[1])
    lunch = (h >= SCHOOL_MORNING_H[1]) & (h < SCHOOL_AFTERNOON_H[0])
    afternoon_on = (h >= SCHOOL_AFTERNOON_H[0]) & (h < SCHOOL_AFTERNOON_H[1])
    care = ((h >= 7.5) & (h < SCHOOL_MORNING_H[0])) | ((h >= SCHOOL_AFTERNOON_H[1]) & (h < 18.0))
    occ = np.zeros(h.shape)
    occ = np.where(school & morning_on, 1.0, occ)
    occ = np.where(afternoon & lunch, 0.6, occ)
    occ = np.where(school & ~afternoon & lunch & (h < 12.5), 0.3, occ)  # Wednesday-morning pick-up
    occ = np.where(afternoon & afternoon_on, 1.0, occ)
    occ = np.where(school & care & (afternoon | (h < 12)), np.maximum(occ, 0.3), occ)
    return occ
