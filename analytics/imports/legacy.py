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
    ``time,value`` (``;``, ``,`` or tab; UTF-8, BOM or Windows-1252) with the unit in the
    value column's name (``value_kwh``, ``Valeur (W)``, ``temp_air_c``), in a unit column, or
    declared by the caller (``--unit``): kWh, MWh, Wh, W, kW, m³, L, therm, °C.

Numbers may use a decimal comma (``12,5``) and a space or no-break space as thousands
separator. Times: ISO 8601 with an offset are exact; times without an offset, and dates
(``2024-01-31`` or ``31/01/2024``), are local time in the town's zone ``tz`` (registry ``[town]
timezone``, passed in by the caller); a local time that does not
exist (spring-forward hour) is rejected, an ambiguous one (fall-back hour) takes its first
occurrence — its second when the same wall time comes again — and is counted in
``ambiguous_times``.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

from terril.errors import ImportFileError
from terril.units import gas_m3_to_wh

from .core import (CARRIERS_BY_UNIT, NS, ImportedValue, ImportResult, Rejected, TimeError, csv_rows, day_start_ns,
                   decode_text, local_day_ns, missing_column, parse_number, parse_time, unit_info)
from .core import gaps as _gaps
from .core import next_local_midnight as _next_local_midnight

#: The layouts of the first importer, still accepted with ``--kind``.
LAYOUTS: tuple[str, ...] = ("load_curve", "daily_index", "daily", "monthly", "invoice", "temperature", "generic")
_TimeError = TimeError


def _rows(data: bytes) -> tuple[list[tuple[int, list[str]]], str]:
    return csv_rows(decode_text(data))


_TIME_NAMES = ("horodate", "horodatage", "date", "time", "timestamp", "datetime", "jour", "mois", "month", "date de debut",
               "date de début", "period_start", "debut", "début", "start")
_VALUE_NAMES = ("valeur", "value", "index", "consommation", "kwh", "energie", "énergie", "temperature", "température",
                "temp", "volume", "m3")
_UNIT_NAMES = ("unite", "unité", "unit")
_CLOCK_NAMES = ("heure", "hour", "time", "horaire", "heure de début", "heure de debut")


def _preamble_value(rows: list[tuple[int, list[str]]], names: tuple[str, ...]) -> str | None:
    """A value named in a preamble header line (``...;Unite;...`` followed by ``...;W;...``)."""
    for k in range(len(rows) - 1):
        low = [c.strip().lower() for c in rows[k][1]]
        for j, c in enumerate(low):
            if c in names and j < len(rows[k + 1][1]):
                return rows[k + 1][1][j].strip() or None
    return None


_UNIT_IN_NAME = re.compile(r"^(?P<base>.*?)[\s_]*[(\[]\s*(?P<unit>[^)\]]+?)\s*[)\]]\s*$")


def split_unit(name: str) -> tuple[str, str | None]:
    """A column name and the unit it carries: ``value_kwh`` → (value, kWh), ``Valeur (W)`` →
    (valeur, W), ``temp_air_c`` → (temp_air, °C), ``Energie en kWh`` → (energie, kWh)."""
    s = name.strip().lower()
    m = _UNIT_IN_NAME.match(s)
    if m and unit_info(m.group("unit")):
        return m.group("base").strip(), m.group("unit").strip()
    for sep in ("_", " en ", " in ", " "):
        if sep in s:
            base, _, tail = s.rpartition(sep)
            if unit_info(tail) and base:
                return base.strip(), tail.strip()
    if unit_info(s) and s not in ("c", "l", "w"):
        return s, s
    return s, None


def _is_time_name(c: str) -> bool:
    return c in _TIME_NAMES or c.startswith(("horodate", "date", "time", "timestamp"))


def _is_value_name(c: str) -> bool:
    base, unit = split_unit(c)
    return (unit is not None or base in _VALUE_NAMES or base.startswith(("valeur", "value", "consommation", "energ",
                                                                           "temp", "volume", "index", "conso")))


def _parses_as_time(text: str) -> bool:
    try:
        parse_time(text, tz=dt.timezone.utc)  # whether it reads as a time, in any zone
    except ValueError:
        return False
    return True


def _find_header(rows: list[tuple[int, list[str]]], need_value: bool = True) -> tuple[int, dict[str, int]]:
    """Index of the header row among the first rows and the columns it names (time/value/unit/...).

    A header with a time column but no value column raises ``missing_column``; a first row that
    is not data (its first cell is not a time) is a header even with unknown names."""
    for k, (_, row) in enumerate(rows[:30]):
        low = [c.strip().lower() for c in row]
        cols: dict[str, int] = {}
        for j, c in enumerate(low):
            if "time" not in cols and c.startswith("date") and j + 1 < len(low) and low[j + 1] in _CLOCK_NAMES:
                cols["time"], cols["clock"] = j, j + 1  # Date;Heure;Valeur
            elif "time" not in cols and _is_time_name(c) and not _parses_as_time(c):
                cols["time"] = j
            elif cols.get("clock") == j:
                continue
            elif c in _UNIT_NAMES:
                cols["unit"] = j
            elif c in ("period_end", "fin", "date de fin", "end"):
                cols["end"] = j
            elif c in ("cost_eur", "montant", "cout", "coût", "montant_eur", "cost"):
                cols["cost"] = j
            elif "value" not in cols and _is_value_name(c):
                cols["value"] = j
        if "time" in cols and ("value" in cols or (not need_value and "end" in cols)):
            return k, cols
        if "time" in cols and all(_parses_as_time(rows[i][1][cols["time"]] if i < len(rows)
                                                  and cols["time"] < len(rows[i][1]) else "")
                                  for i in (k + 1, k + 2)):
            # a header with a time column and no value column we know: the first numeric column
            nxt = rows[k + 1][1]
            for j, c in enumerate(nxt):
                if j != cols["time"] and j not in cols.values() and _is_number(c):
                    cols["value"] = j
                    return k, cols
            raise missing_column(("a time column", "a value column"), row)
    if rows and not _parses_as_time(rows[0][1][0] if rows[0][1] else "") and len(rows) > 1 \
            and rows[1][1] and _parses_as_time(rows[1][1][0]):
        return 0, {"time": 0, "value": 1, "unit": 2}
    # no header: first column time, second value, third unit
    return -1, {"time": 0, "value": 1, "unit": 2}


def _is_number(text: str) -> bool:
    try:
        parse_number(text)
    except ValueError:
        return False
    return True


def header_unit(rows: list[tuple[int, list[str]]], head: int, cols: dict[str, int]) -> str | None:
    """The unit named in the value column's header (``value_kwh``, ``Valeur (W)``), if any."""
    if head < 0 or "value" not in cols or cols["value"] >= len(rows[head][1]):
        return None
    return split_unit(rows[head][1][cols["value"]])[1]


# ---------------------------------------------------------------------------------------
# the importer


def _calendar_period(kind: str, times: list[int], tz: dt.tzinfo) -> str:
    """``daily`` or ``monthly`` when a generic file holds one value per local day or month
    (every stamp at local midnight), else ""."""
    if kind not in ("generic",) or len(times) < 2:
        return ""
    if any(local_day_ns(t, tz)[0] != t for t in times):
        return ""
    d = sorted(b - a for a, b in zip(times, times[1:]))
    med = d[len(d) // 2] / NS / 86_400
    return "daily" if med < 1.5 else ("monthly" if 27 <= med <= 32 else "")


def _to_can(value: float, unit: str) -> tuple[float, str]:
    info = unit_info(unit)
    if info is None:
        raise KeyError(unit)
    return value * info[1], info[0]


def _energy_field(value: float, unit: str, kwh_per_m3: float | None) -> tuple[tuple[str, float], ...]:
    v, can = _to_can(value, unit)
    if can == "Wh":
        return (("energy_wh", v),)
    if can == "m³":
        if kwh_per_m3 is None:
            return (("volume_m3", v),)
        return (("energy_wh", gas_m3_to_wh(v, kwh_per_m3)), ("volume_m3", v))
    if can == "°C":
        return (("temp_air_c", v),)
    raise KeyError(unit)


def parse_layout(data: bytes, kind: str, *, tz: dt.tzinfo, unit: str | None = None,
                 kwh_per_m3: float | None = None, step_min: float | None = None) -> ImportResult:
    """Parse and validate one file of ``kind`` (see the module docstring).

    Parameters
    ----------
    data : bytes
        The file's content (UTF-8, with or without BOM).
    kind : str
        One of :data:`KINDS`.
    tz : tzinfo
        The town's time zone: dates and times without an offset are local to it.
    unit : str, optional
        Unit of the values when the file has no unit column (required for ``generic``).
    kwh_per_m3 : float, optional
        Gas conversion coefficient for volumes in m³. [kWh/m³]
    step_min : float, optional
        Load-curve interval (default: the median spacing of the time stamps). [min]
    """
    fmt = kind
    rows, sep = _rows(data)
    if rows and all(len(r) == 1 for _, r in rows[:20]) and any(not _parses_as_time(r[0]) for _, r in rows[:20]):
        raise ImportFileError("wrong_delimiter", "no delimiter splits the lines into columns (expected ; , or tab)")
    head, cols = _find_header(rows, need_value=kind != "invoice")
    body = rows[head + 1:]
    if unit is None and "unit" not in cols:
        unit = header_unit(rows, head, cols)
    if kind == "generic" and unit is None and "unit" not in cols:
        raise ImportFileError("missing_unit", "the file names no unit: give --unit (kWh, MWh, Wh, W, kW, m3, therm, °C)")
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
    seen_amb: set[int] = set()
    default_unit = unit or {"temperature": "°C", "invoice": "kWh"}.get(kind)
    for line, row in body:
        text = ";".join(row)[:200]
        try:
            stamp = row[cols["time"]]
            if "clock" in cols and cols["clock"] < len(row) and row[cols["clock"]].strip():
                stamp = f"{stamp.strip()} {row[cols['clock']].strip()}"
            t_ns, amb = parse_time(stamp, tz=tz)
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
        if unit_info(u) is None:
            rejected.append(Rejected(line, "unknown_unit", text))
            continue
        if kind != "temperature" and v < 0:
            rejected.append(Rejected(line, "negative_value", text))
            continue
        if amb and t_ns in seen_amb:
            t_ns += 3600 * NS  # a wall time repeated in the fall-back hour is its second occurrence
        elif amb:
            seen_amb.add(t_ns)
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

    if kind == "generic" and units and all(unit_info(u) and unit_info(u)[0] == "W" for u in units):
        kind = "load_curve"  # mean power over the step that ends at the stamp (Enedis convention)
        notes.append("power values: read as a load curve (mean power over the step ending at each stamp)")
    if kind == "load_curve":
        times = np.array([p[1] for p in unique], dtype=np.int64)
        if step_min is not None:
            step_s = step_min * 60.0
        elif times.size >= 2:
            step_s = float(np.median(np.diff(times))) / NS
        step_ns = int(step_s * NS)
        for line, t_ns, v, u, row in unique:
            can = unit_info(u)[0]
            if can == "W":
                wh = _to_can(v, u)[0] * step_s / 3600.0
            elif can == "Wh":
                wh = _to_can(v, u)[0]
            else:
                rejected.append(Rejected(line, "unknown_unit", ";".join(row)[:200]))
                continue
            values.append(ImportedValue(t_ns - step_ns, (("energy_wh", wh),), step_s))
        gaps = _gaps([v.time_ns for v in values], step_ns)
    elif kind == "daily_index":
        prev: tuple[int, float] | None = None
        for line, t_ns, v, u, row in unique:
            if unit_info(u)[0] != "Wh":
                rejected.append(Rejected(line, "unknown_unit", ";".join(row)[:200]))
                continue
            idx = _to_can(v, u)[0]
            if prev is not None:
                if idx < prev[1]:
                    rejected.append(Rejected(line, "index_decreased", ";".join(row)[:200]))
                    continue
                if t_ns - prev[0] <= 26 * 3600 * NS:  # consecutive days (25 h on the DST day)
                    values.append(ImportedValue(prev[0], (("energy_wh", idx - prev[1]),), (t_ns - prev[0]) / NS))
            prev = (t_ns, idx)
        step_s = 86_400.0
        gaps = _gaps([v.time_ns for v in values], 86_400 * NS, tolerance=1.1)
        notes.append("daily_index: consumption of day D = index(D+1) − index(D), booked on D")
    elif kind == "invoice":
        periods: list[tuple[int, int]] = []
        for line, t_ns, v, u, row in unique:
            try:
                end_ns, _ = parse_time(row[cols.get("end", 1)], tz=tz)
                end_ns = _next_local_midnight(end_ns, tz)
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
            wh = _to_can(v, u)[0] if unit_info(u)[0] == "Wh" else v * 1000.0
            values.append(ImportedValue(t_ns, (("energy_wh", wh), ("cost_eur", cost), ("period_end_ns", end_ns)),
                                        (end_ns - t_ns) / NS))
    else:  # daily, monthly, temperature, generic
        period = _calendar_period(kind, [p[1] for p in unique], tz)
        for line, t_ns, v, u, row in unique:
            try:
                fields = _energy_field(v, u, kwh_per_m3)
            except KeyError:
                rejected.append(Rejected(line, "unknown_unit", ";".join(row)[:200]))
                continue
            if kind == "temperature" and fields[0][0] != "temp_air_c":
                rejected.append(Rejected(line, "unknown_unit", ";".join(row)[:200]))
                continue
            span = 0.0
            if kind == "daily" or (kind == "generic" and period == "daily"):
                span = local_day_ns(t_ns, tz)[1]
            elif kind == "monthly" or (kind == "generic" and period == "monthly"):
                d = dt.datetime.fromtimestamp(t_ns / NS, tz).date()
                nxt = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
                span = (day_start_ns(nxt, tz) - t_ns) / NS
            values.append(ImportedValue(t_ns, fields, span))
        if kind == "daily" or period == "daily":
            step_s = 86_400.0
            gaps = _gaps([v.time_ns for v in values], 86_400 * NS, tolerance=1.1)
        if any(f[0] == "volume_m3" and len(v.fields) == 1 for v in values for f in v.fields):
            notes.append("gas volumes without kwh_per_m3: stored as volume_m3 only")
    rejected.sort(key=lambda r: r.line)
    cans = {unit_info(u)[0] for u in units if unit_info(u)}
    if kwh_per_m3 is not None and "m³" in cans:
        cans = (cans - {"m³"}) | {"Wh"}
    carriers = sorted(set.intersection(*(set(CARRIERS_BY_UNIT.get(c, ())) for c in cans))) if cans else []
    store = kind
    if kind == "generic" and cans == {"°C"}:
        store = "temperature"
    return ImportResult(store, ",".join(units), len(body), tuple(values), tuple(rejected), tuple(gaps), step_s,
                        ambiguous, tuple(notes), fmt, "", tuple(carriers))


__all__ = ["LAYOUTS", "parse_layout", "split_unit"]
