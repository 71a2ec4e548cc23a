"""Parse and validate historic data files an energy manager has (distributor exports,
gas consumption, invoices, temperatures, generic ``time,value`` CSV) into values for the
``imported`` measurement. Pure: bytes in, an :class:`ImportResult` out (no I/O).

Accepted layouts (samples in ``tests/analytics/data/imports/``, described in
``docs/savings.md`` § Historic import):

``load_curve``
    Enedis-style load curve: ``;`` or ``,`` separated, optional preamble lines, a header
    with a time column (``Horodate``/``Date``/``time``) and a value column (``Valeur``/
    ``value``), an optional unit column (``Unité``/``unit``). Values are the mean power over
    the interval that **ends** at the time stamp (Enedis convention) in W or kW, or the
    energy of that interval in Wh or kWh. Stored as ``energy_wh`` at the interval start.
``daily_index``
    A daily cumulative index (``date;index;unit``, Wh or kWh): consumption = difference
    of consecutive indexes, stored per day at local midnight; a decreasing index is rejected
    (``index_decreased``), never booked as negative consumption.
``daily`` / ``monthly``
    Consumption per day or month (``date;value;unit``), kWh, Wh, MWh, or m³ for gas
    (converted with ``kwh_per_m3``; the volume is kept as ``volume_m3``).
``invoice``
    Monthly invoices: ``period_start;period_end;kwh;cost_eur`` (end inclusive), stored at the
    period start with ``energy_wh``, ``cost_eur`` and ``period_end_ns`` (exclusive end).
``temperature``
    ``time;value`` in °C (``temp_air_c``).
``generic``
    ``time,value`` with the unit declared by the caller (any unit of :mod:`terril.units`
    whose canonical unit is Wh, m³ or °C).

Numbers may use a decimal comma (``12,5``) and a space or no-break space as thousands
separator. Times: ISO 8601 with an offset are exact; times without an offset, and dates
(``2024-01-31`` or ``31/01/2024``), are Europe/Paris local time; a local time that does not
exist (spring-forward hour) is rejected, an ambiguous one (fall-back hour) takes its first
occurrence and is counted in ``ambiguous_times``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from terril.timeutil import PARIS
from terril.units import KNOWN_UNITS, canonical_unit, to_canonical

KINDS: tuple[str, ...] = ("load_curve", "daily_index", "daily", "monthly", "invoice", "temperature", "generic")
#: Stable reasons for a rejected row.
REASONS: tuple[str, ...] = ("bad_time", "bad_value", "negative_value", "duplicate_time", "nonexistent_local_time",
                            "unknown_unit", "index_decreased", "bad_period", "overlapping_period", "missing_column")
_NUM_RE = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
NS = 10**9


@dataclass(frozen=True, slots=True)
class ImportedValue:
    """One point for ``imported``: a time and its fields (unit in every name)."""

    time_ns: int
    fields: tuple[tuple[str, float | int], ...]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A rejected row: its line number in the file, a reason from :data:`REASONS`, the text."""

    line: int
    reason: str
    text: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import read, kept and rejected, and what it noticed.

    Attributes
    ----------
    gaps : tuple of (start_ns, end_ns)
        Missing stretches longer than 1.5 steps (load curves, daily kinds).
    step_s : float
        Detected or declared interval (0 for invoices). [s]
    """

    kind: str
    unit: str
    rows_read: int
    values: tuple[ImportedValue, ...]
    rejected: tuple[Rejected, ...]
    gaps: tuple[tuple[int, int], ...] = ()
    step_s: float = 0.0
    ambiguous_times: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rows_kept(self) -> int:
        return len(self.values)

    def rejected_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rejected:
            out[r.reason] = out.get(r.reason, 0) + 1
        return out


# ---------------------------------------------------------------------------------------
# low-level parsing


def parse_number(text: str) -> float:
    """``1 234,5`` / ``1234.5`` / ``1,234.5`` → float (raises ValueError)."""
    s = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if "," in s and "." in s:
        s = s.replace(",", "")  # 1,234.5
    else:
        s = s.replace(",", ".")
    if not _NUM_RE.match(s):
        raise ValueError(f"not a number: {text!r}")
    return float(s)


class _TimeError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _local_to_ns(naive: dt.datetime) -> tuple[int, bool]:
    """Europe/Paris wall time → UTC ns; (ns, ambiguous). Raises for a non-existent time."""
    a = naive.replace(tzinfo=PARIS, fold=0)
    b = naive.replace(tzinfo=PARIS, fold=1)
    # a non-existent time does not round-trip
    back = a.astimezone(dt.timezone.utc).astimezone(PARIS).replace(tzinfo=None)
    if back != naive:
        raise _TimeError("nonexistent_local_time")
    ambiguous = a.utcoffset() != b.utcoffset()
    return int(a.timestamp()) * NS + a.microsecond * 1000, ambiguous


def parse_time(text: str) -> tuple[int, bool]:
    """A time stamp or date → (UTC ns, ambiguous); naive times are Europe/Paris."""
    s = text.strip()
    m = _FR_DATE.match(s)
    try:
        if m:
            d, mo, y, hh, mm, ss = m.groups()
            naive = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
            return _local_to_ns(naive)
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        value = dt.datetime.fromisoformat(s)
    except ValueError as err:
        raise _TimeError("bad_time") from err
    if value.tzinfo is None:
        return _local_to_ns(value)
    return int(value.timestamp()) * NS + value.microsecond * 1000, False


def _rows(data: bytes) -> tuple[list[tuple[int, list[str]]], str]:
    text = data.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    sample = "\n".join(lines[:50])
    sep = ";" if sample.count(";") >= sample.count(",") / 2 and ";" in sample else ","
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    return [(i + 1, row) for i, row in enumerate(reader) if any(c.strip() for c in row)], sep


_TIME_NAMES = ("horodate", "date", "time", "timestamp", "datetime", "jour", "mois", "month", "date de debut",
               "date de début", "period_start", "debut", "début", "start")
_VALUE_NAMES = ("valeur", "value", "index", "consommation", "kwh", "energie", "énergie", "temperature", "température",
                "temp", "volume", "m3")
_UNIT_NAMES = ("unite", "unité", "unit")


def _preamble_value(rows: list[tuple[int, list[str]]], names: tuple[str, ...]) -> str | None:
    """A value named in a preamble header line (``...;Unite;...`` followed by ``...;W;...``)."""
    for k in range(len(rows) - 1):
        low = [c.strip().lower() for c in rows[k][1]]
        for j, c in enumerate(low):
            if c in names and j < len(rows[k + 1][1]):
                return rows[k + 1][1][j].strip() or None
    return None


def _find_header(rows: list[tuple[int, list[str]]], need_value: bool = True) -> tuple[int, dict[str, int]]:
    """Index of the header row among the first rows and the columns it names (time/value/unit/...)."""
    for k, (_, row) in enumerate(rows[:30]):
        low = [c.strip().lower() for c in row]
        cols: dict[str, int] = {}
        for j, c in enumerate(low):
            if "time" not in cols and (c in _TIME_NAMES or c.startswith("horodate")):
                cols["time"] = j
            elif "value" not in cols and (c in _VALUE_NAMES or c.startswith("valeur") or c.startswith("consommation")):
                cols["value"] = j
            elif c in _UNIT_NAMES:
                cols["unit"] = j
            elif c in ("period_end", "fin", "date de fin", "end"):
                cols["end"] = j
            elif c in ("cost_eur", "montant", "cout", "coût", "montant_eur", "cost"):
                cols["cost"] = j
        if "time" in cols and ("value" in cols or (not need_value and "end" in cols)):
            return k, cols
    # no header: first column time, second value, third unit
    return -1, {"time": 0, "value": 1, "unit": 2}


# ---------------------------------------------------------------------------------------
# the importer


def _energy_field(value: float, unit: str, kwh_per_m3: float | None) -> tuple[tuple[str, float], ...]:
    can = canonical_unit(unit)
    v, _ = to_canonical(value, unit)
    if can == "Wh":
        return (("energy_wh", v),)
    if can == "m³":
        if kwh_per_m3 is None:
            return (("volume_m3", v),)
        return (("energy_wh", v * kwh_per_m3 * 1000.0), ("volume_m3", v))
    if can == "°C":
        return (("temp_air_c", v),)
    raise KeyError(unit)


def parse_import(data: bytes, kind: str, *, unit: str | None = None, kwh_per_m3: float | None = None,
                 step_min: float | None = None) -> ImportResult:
    """Parse and validate one file of ``kind`` (see the module docstring).

    Parameters
    ----------
    data : bytes
        The file's content (UTF-8, with or without BOM).
    kind : str
        One of :data:`KINDS`.
    unit : str, optional
        Unit of the values when the file has no unit column (required for ``generic``).
    kwh_per_m3 : float, optional
        Gas conversion coefficient for volumes in m³. [kWh/m³]
    step_min : float, optional
        Load-curve interval (default: the median spacing of the time stamps). [min]
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}: expected one of {KINDS}")
    if kind == "generic" and unit is None:
        raise ValueError("a generic import needs its unit")
    rows, _ = _rows(data)
    head, cols = _find_header(rows, need_value=kind != "invoice")
    body = rows[head + 1:]
    if head > 0 and unit is None and "unit" not in cols:
        unit = _preamble_value(rows[:head], _UNIT_NAMES)
    if head > 0 and step_min is None and kind == "load_curve":
        pas = _preamble_value(rows[:head], ("pas en minutes", "pas", "step_min"))
        try:
            step_min = parse_number(pas) if pas else None
        except ValueError:
            step_min = None
    rejected: list[Rejected] = []
    parsed: list[tuple[int, int, float, str, list[str]]] = []  # (line, t_ns, value, unit, row)
    ambiguous = 0
    default_unit = unit or {"temperature": "°C", "invoice": "kWh"}.get(kind)
    for line, row in body:
        text = ";".join(row)[:200]
        try:
            t_ns, amb = parse_time(row[cols["time"]])
        except _TimeError as err:
            rejected.append(Rejected(line, err.reason, text))
            continue
        except IndexError:
            rejected.append(Rejected(line, "missing_column", text))
            continue
        try:
            raw = row[cols["value"]] if kind != "invoice" or "value" in cols else row[2]
            v = parse_number(raw)
        except (ValueError, IndexError):
            rejected.append(Rejected(line, "bad_value", text))
            continue
        u = default_unit
        if "unit" in cols and cols["unit"] < len(row) and row[cols["unit"]].strip():
            u = row[cols["unit"]].strip().replace("m^3", "m3")
        if u is None or u not in KNOWN_UNITS:
            rejected.append(Rejected(line, "unknown_unit", text))
            continue
        if kind != "temperature" and v < 0:
            rejected.append(Rejected(line, "negative_value", text))
            continue
        ambiguous += amb
        parsed.append((line, t_ns, v, u, row))

    # duplicates: the first occurrence wins
    seen: set[int] = set()
    unique = []
    for p in parsed:
        if p[1] in seen:
            rejected.append(Rejected(p[0], "duplicate_time", ";".join(p[4])[:200]))
        else:
            seen.add(p[1])
            unique.append(p)
    unique.sort(key=lambda p: p[1])
    values: list[ImportedValue] = []
    notes: list[str] = []
    step_s = 0.0
    gaps: list[tuple[int, int]] = []
    units = sorted({p[3] for p in unique})

    if kind == "load_curve":
        times = np.array([p[1] for p in unique], dtype=np.int64)
        if step_min is not None:
            step_s = step_min * 60.0
        elif times.size >= 2:
            step_s = float(np.median(np.diff(times))) / NS
        step_ns = int(step_s * NS)
        for line, t_ns, v, u, row in unique:
            can = canonical_unit(u)
            if can == "W":
                wh = to_canonical(v, u)[0] * step_s / 3600.0
            elif can == "Wh":
                wh = to_canonical(v, u)[0]
            else:
                rejected.append(Rejected(line, "unknown_unit", ";".join(row)[:200]))
                continue
            values.append(ImportedValue(t_ns - step_ns, (("energy_wh", wh),)))
        gaps = _gaps([v.time_ns for v in values], step_ns)
    elif kind == "daily_index":
        prev: tuple[int, float] | None = None
        for line, t_ns, v, u, row in unique:
            if canonical_unit(u) != "Wh":
                rejected.append(Rejected(line, "unknown_unit", ";".join(row)[:200]))
                continue
            idx = to_canonical(v, u)[0]
            if prev is not None:
                if idx < prev[1]:
                    rejected.append(Rejected(line, "index_decreased", ";".join(row)[:200]))
                    continue
                if t_ns - prev[0] <= 26 * 3600 * NS:  # consecutive days (25 h on the DST day)
                    values.append(ImportedValue(prev[0], (("energy_wh", idx - prev[1]),)))
            prev = (t_ns, idx)
        step_s = 86_400.0
        gaps = _gaps([v.time_ns for v in values], 86_400 * NS, tolerance=1.1)
        notes.append("daily_index: consumption of day D = index(D+1) − index(D), booked on D")
    elif kind == "invoice":
        periods: list[tuple[int, int]] = []
        for line, t_ns, v, u, row in unique:
            try:
                end_ns, _ = parse_time(row[cols.get("end", 1)])
                end_ns = _next_local_midnight(end_ns)
                cost = parse_number(row[cols["cost"]]) if "cost" in cols else parse_number(row[3])
            except (_TimeError, ValueError, IndexError):
                rejected.append(Rejected(line, "bad_period", ";".join(row)[:200]))
                continue
            if end_ns <= t_ns:
                rejected.append(Rejected(line, "bad_period", ";".join(row)[:200]))
                continue
            if periods and t_ns < periods[-1][1]:
                rejected.append(Rejected(line, "overlapping_period", ";".join(row)[:200]))
                continue
            if periods and t_ns > periods[-1][1]:
                gaps.append((periods[-1][1], t_ns))
            periods.append((t_ns, end_ns))
            wh = to_canonical(v, u)[0] if canonical_unit(u) == "Wh" else v * 1000.0
            values.append(ImportedValue(t_ns, (("energy_wh", wh), ("cost_eur", cost), ("period_end_ns", end_ns))))
    else:  # daily, monthly, temperature, generic
        for line, t_ns, v, u, row in unique:
            try:
                fields = _energy_field(v, u, kwh_per_m3)
            except KeyError:
                rejected.append(Rejected(line, "unknown_unit", ";".join(row)[:200]))
                continue
            if kind == "temperature" and fields[0][0] != "temp_air_c":
                rejected.append(Rejected(line, "unknown_unit", ";".join(row)[:200]))
                continue
            values.append(ImportedValue(t_ns, fields))
        if kind == "daily":
            step_s = 86_400.0
            gaps = _gaps([v.time_ns for v in values], 86_400 * NS, tolerance=1.1)
        if any(f[0] == "volume_m3" and len(v.fields) == 1 for v in values for f in v.fields):
            notes.append("gas volumes without kwh_per_m3: stored as volume_m3 only")
    rejected.sort(key=lambda r: r.line)
    return ImportResult(kind, ",".join(units), len(body), tuple(values), tuple(rejected), tuple(gaps), step_s,
                        ambiguous, tuple(notes))


def _next_local_midnight(t_ns: int) -> int:
    d = dt.datetime.fromtimestamp(t_ns / NS, PARIS).date() + dt.timedelta(days=1)
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=PARIS).timestamp()) * NS


def _gaps(times: Sequence[int], step_ns: int, tolerance: float = 1.5) -> list[tuple[int, int]]:
    """Stretches where consecutive starts are more than ``tolerance`` steps apart (DST days
    are 23/25 h: the daily tolerance 1.1 covers them)."""
    if step_ns <= 0 or len(times) < 2:
        return []
    t = np.asarray(times, dtype=np.int64)
    d = np.diff(t)
    idx = np.flatnonzero(d > tolerance * step_ns)
    return [(int(t[i] + step_ns), int(t[i + 1])) for i in idx]


__all__ = ["ImportResult", "ImportedValue", "KINDS", "REASONS", "Rejected", "parse_import", "parse_number", "parse_time"]
