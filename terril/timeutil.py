"""Time: UTC nanoseconds inside, RFC 3339 at the edges, the town's time zone for calendars.

The town's time zone (registry ``[town] timezone``, default Europe/Paris) sets where local
days start: :func:`load_registry <terril.registry.load_registry>` applies it through
:func:`set_local_timezone`, and every function here whose ``tz`` is left out uses
:func:`local_tz`.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.timezone.utc
NS_PER_S = 1_000_000_000
_LOCAL: list[ZoneInfo] = [PARIS]


def set_local_timezone(name: str) -> ZoneInfo:
    """Make ``name`` (an IANA zone, e.g. ``Europe/Paris``) the local time zone of calendars and
    day boundaries; raises ValueError naming the zone when the tz database does not know it."""
    try:
        zone = ZoneInfo(str(name))
    except (ValueError, KeyError, OSError) as err:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {name!r}: expected an IANA name such as 'Europe/Paris'") from err
    _LOCAL[0] = zone
    return zone


def local_tz() -> ZoneInfo:
    """The local time zone (the town's, default Europe/Paris)."""
    return _LOCAL[0]

#: Sane window for device timestamps: 2000-01-01 .. 2100-01-01 (UTC ns).
MIN_TIME_NS = 946_684_800 * NS_PER_S
MAX_TIME_NS = 4_102_444_800 * NS_PER_S


def now_ns() -> int:
    """Current UTC time in nanoseconds."""
    return time.time_ns()


def datetime_to_ns(value: dt.datetime) -> int:
    """An aware datetime to UTC nanoseconds (exact, no float rounding)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: a time zone or offset is required")
    delta = value.astimezone(UTC) - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000


def ns_to_datetime(time_ns: int) -> dt.datetime:
    """UTC nanoseconds to an aware UTC datetime (microsecond precision)."""
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=time_ns // 1_000)


@lru_cache(maxsize=1024)  # a fleet's messages share their instants (the simulator formats each one per device)
def format_rfc3339_ns(time_ns: int) -> str:
    """UTC nanoseconds to RFC 3339 with a ``Z`` and only as many fraction digits as needed."""
    seconds, frac = divmod(time_ns, NS_PER_S)
    base = (dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        return f"{base}.{frac:09d}".rstrip("0") + "Z"
    return base + "Z"


def parse_rfc3339(text: str) -> int:
    """RFC 3339 text with an offset (``Z`` or ``+01:00``) to UTC ns. Raises ValueError otherwise.

    Fractions up to nanoseconds are kept exactly.
    """
    s = text.strip()
    if len(s) < 20 or s[10] not in "Tt ":
        raise ValueError(f"not an RFC 3339 date-time with offset: {text[:40]!r}")
    frac_ns = 0
    main = s
    # split off offset
    if main[-1] in "Zz":
        offset = "+00:00"
        main = main[:-1]
    elif len(main) >= 6 and main[-6] in "+-" and main[-3] == ":":
        offset = main[-6:]
        main = main[:-6]
    else:
        raise ValueError(f"date-time without offset (add Z or +01:00): {text[:40]!r}")
    if "." in main:
        main, frac = main.split(".", 1)
        if not frac.isdigit() or len(frac) > 9:
            raise ValueError(f"bad fraction of second in {text[:40]!r}")
        frac_ns = int(frac.ljust(9, "0"))
    parsed = dt.datetime.fromisoformat(main[:10] + "T" + main[11:] + offset)
    try:
        return datetime_to_ns(parsed) + frac_ns
    except OverflowError:  # year 1 at +14:00 is before year 1 in UTC
        raise ValueError(f"date-time out of range: {text[:40]!r}") from None


def epoch_seconds_to_ns(value: float | int) -> int:
    """Epoch seconds (int or float) to ns; ints stay exact."""
    if isinstance(value, int):
        return value * NS_PER_S
    if not math.isfinite(value):
        raise ValueError("epoch seconds must be finite")
    whole = math.floor(value)
    return int(whole) * NS_PER_S + round((value - whole) * 1e9)


def parse_time_arg(text: str, *, end_of_day: bool = False) -> int:
    """Parse a CLI time: RFC 3339, or a date ``YYYY-MM-DD`` taken as local midnight (:func:`local_tz`).

    With ``end_of_day`` a bare date means the midnight that ends that day.
    """
    s = text.strip()
    try:
        if len(s) == 10:
            day = dt.date.fromisoformat(s)
            if end_of_day:
                day = day + dt.timedelta(days=1)
            return datetime_to_ns(dt.datetime(day.year, day.month, day.day, tzinfo=local_tz()))
        return parse_rfc3339(s)
    except ValueError:
        raise ValueError(f"{s[:40]!r} is neither a date YYYY-MM-DD nor an RFC 3339 time "
                         "(e.g. 2026-01-15T08:00:00+01:00)") from None


def local_midnight_ns(day: dt.date, tz: dt.tzinfo | None = None) -> int:
    """Midnight starting ``day`` in ``tz`` (default :func:`local_tz`), as UTC ns."""
    return datetime_to_ns(dt.datetime(day.year, day.month, day.day, tzinfo=tz or _LOCAL[0]))


def local_date(time_ns: int, tz: dt.tzinfo | None = None) -> dt.date:
    """The calendar date in ``tz`` (default :func:`local_tz`) of a UTC ns instant."""
    return ns_to_datetime(time_ns).astimezone(tz or _LOCAL[0]).date()
