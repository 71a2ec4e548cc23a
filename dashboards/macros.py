"""Grafana's time ranges, intervals, macros and template variables, substituted the way Grafana does (pure).

Covers what Terril's dashboards and alert rules use, following Grafana's sources
(``dateMath``, ``rangeutil.describeTextRange``, ``kbn.roundInterval``,
``secondsToHms`` and the InfluxDB datasource's ``interpolateQueryExpr``):

- time: ``now``, ``now-7d``, ``now/d``, ``now-13M/M``; panel ``timeFrom`` (``now/y``: year to
  date, ``5m``: last 5 minutes) and ``timeShift`` (``1y``), in the dashboard's time zone;
- macros: ``$timeFilter`` and ``$__timeFilter`` (``time >= <from>ms and time <= <to>ms``),
  ``$__interval``, ``$__interval_ms``, ``$__from``, ``$__to``;
- variables: ``$var``, ``${var}``, ``[[var]]``, ``${var:regex|raw|csv|pipe|singlequote|doublequote}``;
  a multi-value or include-all variable is formatted for InfluxQL regexes as ``(a|b)``,
  each value regex-escaped, so ``/^$meter$/`` becomes ``/^(a|b)$/``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_UNIT_RE = re.compile(r"^(\d+)(ms|s|m|h|d|w|M|y)$")
_MATH_RE = re.compile(r"([+-])(\d*)(ms|s|m|h|d|w|M|y)|/(s|m|h|d|w|M|y)")
_FIXED_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


@dataclass(frozen=True)
class TimeRange:
    """An absolute time range [ms since the epoch, UTC]."""

    from_ms: int
    to_ms: int


@dataclass(frozen=True)
class Variable:
    """A template variable's resolved selection: its values, and whether Grafana formats it as multi-value."""

    name: str
    values: tuple[str, ...]
    multi_format: bool  # multi or include-all: formatted as a regex group


def _add(t: dt.datetime, sign: int, n: int, unit: str) -> dt.datetime:
    if unit in ("M", "y"):
        months = n * (12 if unit == "y" else 1) * sign
        total = t.year * 12 + (t.month - 1) + months
        year, month = divmod(total, 12)
        day = min(t.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
                          31, 31, 30, 31, 30, 31][month])
        return t.replace(year=year, month=month + 1, day=day)
    if unit == "ms":
        return t + dt.timedelta(milliseconds=sign * n)
    if unit in ("d", "w"):  # calendar days in the time zone (DST-aware), as moment.js does
        naive = t.replace(tzinfo=None) + dt.timedelta(days=sign * n * (7 if unit == "w" else 1))
        return naive.replace(tzinfo=t.tzinfo, fold=0)
    return (t.astimezone(dt.timezone.utc) + dt.timedelta(seconds=sign * n * _FIXED_S[unit])).astimezone(t.tzinfo)


def _round(t: dt.datetime, unit: str, round_up: bool) -> dt.datetime:
    if unit == "y":
        start = t.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "M":
        start = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "w":  # ISO week (Monday), Terril dashboards set week_start monday
        start = (t - dt.timedelta(days=t.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "d":
        start = t.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "h":
        start = t.replace(minute=0, second=0, microsecond=0)
    elif unit == "m":
        start = t.replace(second=0, microsecond=0)
    else:
        start = t.replace(microsecond=0)
    start = start.replace(tzinfo=t.tzinfo, fold=0)
    if not round_up:
        return start
    return _add(start, 1, 1, unit) - dt.timedelta(milliseconds=1)


def parse_time(expr: str, now: dt.datetime, *, round_up: bool = False) -> dt.datetime:
    """Grafana's ``dateMath.parse``: ``now``, ``now-7d``, ``now/d``, ``now-1M/M`` (``round_up`` for range ends)."""
    if not expr.startswith("now"):
        raise ValueError(f"unsupported time expression {expr!r} (expected now..., e.g. now-7d, now/d)")
    t = now
    rest = expr[3:]
    pos = 0
    while pos < len(rest):
        m = _MATH_RE.match(rest, pos)
        if m is None:
            raise ValueError(f"bad time expression {expr!r}")
        if m.group(4):
            t = _round(t, m.group(4), round_up)
        else:
            t = _add(t, 1 if m.group(1) == "+" else -1, int(m.group(2) or 1), m.group(3))
        pos = m.end()
    return t


def time_range(from_expr: str, to_expr: str, now: dt.datetime) -> TimeRange:
    """The absolute range of a dashboard's ``time`` setting."""
    f = parse_time(from_expr, now)
    t = parse_time(to_expr, now, round_up=True)
    return TimeRange(int(f.timestamp() * 1000), int(t.timestamp() * 1000))


def panel_range(dash_from: str, dash_to: str, now: dt.datetime, time_from: str | None = None,
                time_shift: str | None = None) -> TimeRange:
    """A panel's effective range: the dashboard's, or its ``timeFrom`` override, then its ``timeShift``.

    As ``rangeutil.describeTextRange``: ``5m`` means ``now-5m`` to ``now``; ``now/y`` means the
    year so far (``now/y`` to ``now``). A shift moves both ends back (``1y``: same period last year).
    """
    if time_from:
        expr = time_from if time_from.startswith("now") else f"now-{time_from}"
        f_dt, t_dt = parse_time(expr, now), now
    else:
        f_dt, t_dt = parse_time(dash_from, now), parse_time(dash_to, now, round_up=True)
    if time_shift:
        m = _UNIT_RE.match(time_shift)
        if m is None:
            raise ValueError(f"unsupported time shift {time_shift!r}")
        f_dt = _add(f_dt, -1, int(m.group(1)), m.group(2))
        t_dt = _add(t_dt, -1, int(m.group(1)), m.group(2))
    return TimeRange(int(f_dt.timestamp() * 1000), int(t_dt.timestamp() * 1000))


_ROUND_TABLE_MS = (
    (10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000), (3_500, 2_000),
    (7_500, 5_000), (12_500, 10_000), (17_500, 15_000), (25_000, 20_000), (45_000, 30_000), (90_000, 60_000),
    (210_000, 120_000), (450_000, 300_000), (750_000, 600_000), (1_050_000, 900_000), (1_500_000, 1_200_000),
    (2_700_000, 1_800_000), (5_400_000, 3_600_000), (9_000_000, 7_200_000), (16_200_000, 10_800_000),
    (32_400_000, 21_600_000), (86_400_000, 43_200_000), (604_800_000, 86_400_000), (1_814_400_000, 604_800_000),
    (3_628_800_000, 2_592_000_000),
)


def round_interval_ms(interval_ms: float) -> int:
    """Grafana's ``kbn.roundInterval``: snap a raw interval to a readable one [ms]."""
    for limit, value in _ROUND_TABLE_MS:
        if interval_ms < limit:
            return value
    return 31_536_000_000


def interval_text(interval_ms: int) -> str:
    """Grafana's ``secondsToHms`` for ``$__interval``: the largest whole unit (``1y``, ``7d``, ``30m``, ``500ms``)."""
    seconds = interval_ms / 1000
    for size, unit in ((31_536_000, "y"), (86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{interval_ms}ms"


def parse_duration_ms(text: str) -> int:
    """``10s`` -> 10000 (panel min interval, datasource time interval)."""
    m = _UNIT_RE.match(text.lstrip(">"))
    if m is None or m.group(2) in ("M", "y"):
        raise ValueError(f"unsupported interval {text!r}")
    n, unit = int(m.group(1)), m.group(2)
    return n if unit == "ms" else n * _FIXED_S[unit] * 1000


def calculate_interval_ms(r: TimeRange, max_data_points: int = 1000, min_interval_ms: int = 10_000) -> int:
    """``$__interval``: the range divided by the resolution, rounded, at least the minimum interval [ms]."""
    raw = (r.to_ms - r.from_ms) / max(1, max_data_points)
    return max(round_interval_ms(raw), min_interval_ms)


_REGEX_SPECIAL = re.compile(r"([\\/^$.*+?()\[\]{}|])")


def regex_escape(value: str) -> str:
    """The InfluxDB datasource's ``influxSpecialRegexEscape`` (also escapes ``/`` for ``/.../`` literals)."""
    return _REGEX_SPECIAL.sub(r"\\\1", value)


def influx_escape(value: str) -> str:
    """``influxRegularEscape`` for a single value inside quotes."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def format_variable(var: Variable, fmt: str | None) -> str:
    """The text Grafana puts in place of ``var`` with an optional ``:format``."""
    vals = list(var.values)
    if fmt is None:  # the InfluxDB datasource's default formatter
        if not var.multi_format:
            return influx_escape(vals[0]) if vals else ""
        escaped = [regex_escape(v) for v in vals]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    if fmt == "regex":
        escaped = [regex_escape(v) for v in vals]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    if fmt == "raw":
        return ",".join(vals)
    if fmt == "csv":
        return ",".join(vals)
    if fmt == "pipe":
        return "|".join(vals)
    if fmt == "singlequote":
        return ",".join("'" + v.replace("'", "\\'") + "'" for v in vals)
    if fmt == "doublequote":
        return ",".join('"' + v.replace('"', '\\"') + '"' for v in vals)
    raise ValueError(f"unsupported variable format {fmt!r}")


_VAR_RE = re.compile(r"\$(\w+)|\[\[(\w+)(?::(\w+))?\]\]|\$\{(\w+)(?::(\w+))?\}")


def substitute(query: str, r: TimeRange, interval_ms: int, variables: dict[str, Variable]) -> str:
    """The query as Grafana sends it to InfluxDB. Raises KeyError naming an unknown variable."""
    time_filter = f"time >= {r.from_ms}ms and time <= {r.to_ms}ms"
    builtins = {"timeFilter": time_filter, "__timeFilter": time_filter, "__interval": interval_text(interval_ms),
                "__interval_ms": str(interval_ms), "__from": str(r.from_ms), "__to": str(r.to_ms)}

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(5)
        if name in builtins and fmt is None:
            return builtins[name]
        if name not in variables:
            raise KeyError(f"unknown template variable ${name}")
        return format_variable(variables[name], fmt)

    return _VAR_RE.sub(repl, query)


def zone(name: str) -> ZoneInfo:
    """The dashboard's time zone (``browser`` and ``utc`` map to UTC here)."""
    return ZoneInfo("UTC") if name in ("browser", "utc", "") else ZoneInfo(name)
