"""Shared pieces of the importers: the result types, numbers, times, units, text decoding and
CSV sniffing. Pure (bytes in, values out).

Local dates and wall-clock times without an offset are read in the town's time zone ``tz``
(registry ``[town] timezone``), which every parser takes from its caller: the command layer
(``terril import``, the portal) passes the town's zone; nothing here assumes Paris. Times that
carry their own offset keep it.

Every parser returns an :class:`ImportResult`; a file that cannot be read as a whole raises
:class:`terril.errors.ImportFileError` with a stable ``reason`` (see :mod:`.messages`).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from terril.errors import ImportFileError, TimeError

NS = 10**9
#: Largest content a gzipped file may expand to (a gzip bomb is refused, not unpacked). [B]
MAX_UNCOMPRESSED_BYTES = 1 << 30
#: Stable reasons for a rejected row.
REASONS: tuple[str, ...] = ("bad_time", "bad_value", "empty_value", "no_data", "negative_value", "duplicate_time",
                            "nonexistent_local_time", "unknown_unit", "index_decreased", "bad_period",
                            "overlapping_period", "missing_column")
_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_MIN_YEAR, _MAX_YEAR = 1971, 2099  # what InfluxDB's nanosecond times hold with room
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?$")

#: Units an import accepts (as written, case-insensitive) → (canonical unit, factor). One therm
#: is 105.506 MJ (EU/UK therm) = 29.3071 kWh.
UNITS: dict[str, tuple[str, float]] = {
    "wh": ("Wh", 1.0), "kwh": ("Wh", 1e3), "mwh": ("Wh", 1e6), "gwh": ("Wh", 1e9),
    "therm": ("Wh", 29_307.1), "therms": ("Wh", 29_307.1), "thm": ("Wh", 29_307.1),
    "w": ("W", 1.0), "kw": ("W", 1e3), "mw": ("W", 1e6), "va": ("VA", 1.0), "kva": ("VA", 1e3),
    "m3": ("m³", 1.0), "m³": ("m³", 1.0), "m^3": ("m³", 1.0), "nm3": ("m³", 1.0), "l": ("m³", 1e-3),
    "°c": ("°C", 1.0), "c": ("°C", 1.0), "degc": ("°C", 1.0), "celsius": ("°C", 1.0),
}
#: The list shown to a user whose unit is unknown.
ACCEPTED_UNITS: tuple[str, ...] = ("kWh", "MWh", "Wh", "W", "kW", "MW", "m³ (m3)", "L", "therm", "°C")
#: Which registry carriers a canonical unit may be imported into.
CARRIERS_BY_UNIT: dict[str, tuple[str, ...]] = {
    "Wh": ("electricity", "gas", "heat", "pv"), "W": ("electricity", "gas", "heat", "pv"),
    "VA": ("electricity", "pv"), "m³": ("gas", "water"), "°C": ("weather",),
}


def unit_info(unit: str | None) -> tuple[str, float] | None:
    """``(canonical unit, factor)`` of a unit as written in a file, or None if unknown."""
    if unit is None:
        return None
    return UNITS.get(unit.strip().replace(" ", "").lower())


@dataclass(frozen=True, slots=True)
class ImportedValue:
    """One point for ``imported``: a time, its fields (unit in every name) and the time it covers.

    ``span_s`` is the length of the interval the value covers (load-curve step, 23/24/25-hour
    local day, period); 0 for an instant (temperature reading). It is not stored."""

    time_ns: int
    fields: tuple[tuple[str, float | int], ...]
    span_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Rejected:
    """A rejected row: its line number in the file (0 when only its time is known), a reason
    from :data:`REASONS`, the text."""

    line: int
    reason: str
    text: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import read, kept and rejected, and what it noticed.

    Attributes
    ----------
    kind : str
        Storage kind, the ``kind`` tag (``load_curve``, ``daily``, ``daily_index``, ``monthly``,
        ``period``, ``invoice``, ``temperature``, ``max_power``, ``generic``).
    format : str
        The file format read (``enedis_md_load_curve``, ``meteofrance_daily``… or a layout kind).
    gaps : tuple of (start_ns, end_ns)
        Missing stretches longer than 1.5 steps (load curves, daily kinds).
    step_s : float
        Detected or declared interval (0 for invoices and periods). [s]
    station : str
        Weather station id (the ``station`` tag of temperatures), "" otherwise.
    carriers : tuple of str
        Registry carriers the data may be imported into.
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
    format: str = ""
    station: str = ""
    carriers: tuple[str, ...] = ()

    @property
    def rows_kept(self) -> int:
        return len(self.values)

    def rejected_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rejected:
            out[r.reason] = out.get(r.reason, 0) + 1
        return out

    def sums(self) -> dict[str, float]:
        """Sum of every field over the kept values, in canonical units (``period_end_ns`` and ``kwh_per_m3`` excluded)."""
        out: dict[str, float] = {}
        for v in self.values:
            for k, x in v.fields:
                if k not in ("period_end_ns", "kwh_per_m3"):
                    out[k] = out.get(k, 0.0) + float(x)
        return out

    def main_field(self) -> str:
        """The field that says what the import holds (``energy_wh``, ``temp_air_c``…)."""
        for name in ("energy_wh", "temp_air_c", "volume_m3", "power_max_w", "power_max_va"):
            if any(k == name for v in self.values[:1] for k, _ in v.fields):
                return name
        return "energy_wh"


# ---------------------------------------------------------------------------------------
# numbers and times


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


def local_to_ns(naive: dt.datetime, tz: dt.tzinfo) -> tuple[int, bool]:
    """Local wall time → UTC ns; (ns, ambiguous). Raises :class:`TimeError` for a non-existent time."""
    a = naive.replace(tzinfo=tz, fold=0)
    b = naive.replace(tzinfo=tz, fold=1)
    back = a.astimezone(dt.timezone.utc).astimezone(tz).replace(tzinfo=None)
    if back != naive:
        raise TimeError("nonexistent_local_time")
    ambiguous = a.utcoffset() != b.utcoffset()
    return int(a.timestamp()) * NS + a.microsecond * 1000, ambiguous


def parse_time(text: str, *, tz: dt.tzinfo, naive_utc: bool = False) -> tuple[int, bool]:
    """A time stamp or date → (UTC ns, ambiguous). Naive times are local to ``tz`` (the
    town's zone) unless ``naive_utc``; a stamp with an offset keeps it. Accepts ISO 8601, ``31/01/2024[ 12:00[:00]]`` and ``AAAAMMJJ[HH[MM[SS]]]``."""
    s = text.strip()
    m = _FR_DATE.match(s)
    c = _COMPACT.match(s) if m is None else None
    try:
        if m:
            d, mo, y, hh, mm, ss = m.groups()
            naive = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        elif c:
            y, mo, d, hh, mm, ss = c.groups()
            naive = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        else:
            if s.endswith("Z"):
                s = s[:-1] + "+00:00"
            naive = dt.datetime.fromisoformat(s)
    except ValueError as err:
        raise TimeError("bad_time") from err
    if not _MIN_YEAR <= naive.year <= _MAX_YEAR:
        raise TimeError("bad_time")
    if naive.tzinfo is None:
        if naive_utc:
            return int(naive.replace(tzinfo=dt.timezone.utc).timestamp()) * NS, False
        return local_to_ns(naive, tz)
    return int(naive.timestamp()) * NS + naive.microsecond * 1000, False


def nearest_day_ns(t_ns: int, tz: dt.tzinfo) -> tuple[int, float]:
    """Local midnight nearest to ``t_ns`` and that day's length: a daily stamp written at
    23:00 UTC (01:00 in summer, or 23:00 the evening before) still names its day. [ns, s]"""
    local = dt.datetime.fromtimestamp(t_ns / NS, tz)
    d = local.date() if local.hour < 12 else local.date() + dt.timedelta(days=1)
    return day_start_ns(d, tz), day_length_s(d, tz)


def local_day_ns(t_ns: int, tz: dt.tzinfo) -> tuple[int, float]:
    """Local midnight of the day containing ``t_ns`` and that day's length (23/24/25 h). [ns, s]"""
    d = dt.datetime.fromtimestamp(t_ns / NS, tz).date()
    return day_start_ns(d, tz), day_length_s(d, tz)


def day_start_ns(d: dt.date, tz: dt.tzinfo) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()) * NS


def day_length_s(d: dt.date, tz: dt.tzinfo) -> float:
    return (day_start_ns(d + dt.timedelta(days=1), tz) - day_start_ns(d, tz)) / NS


def next_local_midnight(t_ns: int, tz: dt.tzinfo) -> int:
    d = dt.datetime.fromtimestamp(t_ns / NS, tz).date() + dt.timedelta(days=1)
    return day_start_ns(d, tz)


def gaps(times: Sequence[int], step_ns: int, tolerance: float = 1.5) -> list[tuple[int, int]]:
    """Stretches where consecutive starts are more than ``tolerance`` steps apart (DST days
    are 23/25 h: the daily tolerance 1.1 covers them)."""
    if step_ns <= 0 or len(times) < 2:
        return []
    t = np.asarray(times, dtype=np.int64)
    d = np.diff(t)
    idx = np.flatnonzero(d > tolerance * step_ns)
    return [(int(t[i] + step_ns), int(t[i + 1])) for i in idx]


def span_gaps(values: Sequence[ImportedValue]) -> list[tuple[int, int]]:
    """Holes between consecutive values that each cover ``span_s`` (a hole of under a minute is none)."""
    out = []
    for a, b in zip(values, values[1:]):
        end = a.time_ns + int(a.span_s * NS)
        if b.time_ns - end > 60 * NS:
            out.append((end, b.time_ns))
    return out


# ---------------------------------------------------------------------------------------
# text and CSV


def decompress(data: bytes) -> bytes:
    """Gunzip a ``.gz`` file's content (any format may come gzipped)."""
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                out = f.read(MAX_UNCOMPRESSED_BYTES + 1)
        except (OSError, EOFError, zlib.error) as err:
            raise ImportFileError("bad_file", f"the gzip file is damaged ({err})") from err
        if len(out) > MAX_UNCOMPRESSED_BYTES:
            raise ImportFileError("bad_file", f"the gzip file holds more than {MAX_UNCOMPRESSED_BYTES >> 20} MiB: "
                                  "split it (a department's Q_ file per period, for instance)")
        return out
    return data


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 (Excel's French CSV)."""
    data = decompress(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The delimiter that splits the most lines into the same number (≥ 2) of cells."""
    sample = [ln for ln in lines[:60] if ln.strip()]
    best, score = ",", -1.0
    for sep in (";", "\t", ",", "|"):
        counts = [ln.count(sep) for ln in sample]
        if not counts or max(counts) == 0:
            continue
        # the most common count among lines that have the separator
        common = max(set(c for c in counts if c), key=counts.count)
        s = counts.count(common) + 0.01 * common
        if sep == "," and any(re.search(r"\d,\d", ln) for ln in sample) and counts.count(common) < len(sample):
            s -= 0.5  # decimal commas in a ; or tab file
        if s > score:
            best, score = sep, s
    return best


def csv_rows(text: str, sep: str | None = None) -> tuple[list[tuple[int, list[str]]], str]:
    """Non-empty rows with their 1-based line number, and the delimiter used."""
    lines = text.splitlines()
    sep = sep or sniff_delimiter(lines)
    reader = csv.reader(io.StringIO(text.replace("\x00", "")), delimiter=sep)
    out = []
    try:
        for row in reader:
            if any(c.strip() for c in row):
                out.append((reader.line_num, row))
    except csv.Error as err:
        raise ImportFileError("bad_file", f"not a readable CSV file (line {reader.line_num}: {err})") from err
    return out, sep


def row_text(row: Sequence[str]) -> str:
    return ";".join(row)[:200]


def finish(kind: str, fmt: str, unit: str, rows_read: int, values: list[ImportedValue], rejected: list[Rejected], *,
           step_s: float = 0.0, gap_list: Sequence[tuple[int, int]] | None = None, ambiguous: int = 0,
           notes: Sequence[str] = (), station: str = "", carriers: Sequence[str] = (),
           tz: dt.tzinfo) -> ImportResult:
    """Sort, drop duplicate times (first kept) and build the result; ``tz`` only words the
    rejected duplicates' times."""
    seen: set[int] = set()
    unique: list[ImportedValue] = []
    for v in values:
        if v.time_ns in seen:
            when = dt.datetime.fromtimestamp(v.time_ns / NS, tz).isoformat()
            rejected.append(Rejected(0, "duplicate_time", f"{when} (a second value for the same time)"))
        else:
            seen.add(v.time_ns)
            unique.append(v)
    unique.sort(key=lambda v: v.time_ns)
    rejected.sort(key=lambda r: r.line)
    if gap_list is None:
        gap_list = span_gaps(unique)
    return ImportResult(kind, unit, rows_read, tuple(unique), tuple(rejected), tuple(gap_list), step_s, ambiguous,
                        tuple(notes), fmt, station, tuple(carriers))


def missing_column(expected: Sequence[str], found: Sequence[str]) -> ImportFileError:
    exp, fnd = ", ".join(expected), ", ".join(c.strip() for c in found if c.strip())[:300]
    return ImportFileError("missing_column", f"missing column: expected {exp}; found {fnd or 'none'}",
                           expected=exp, found=fnd)


def unknown_unit(unit: str) -> ImportFileError:
    acc = ", ".join(ACCEPTED_UNITS)
    return ImportFileError("unknown_unit", f"unknown unit {unit!r}: accepted units are {acc}", unit=unit,
                           accepted=acc)


__all__ = ["ACCEPTED_UNITS", "CARRIERS_BY_UNIT", "ImportResult", "ImportedValue", "NS", "REASONS", "Rejected",
           "TimeError", "UNITS", "csv_rows", "decode_text", "decompress", "finish", "gaps", "local_to_ns",
           "parse_number", "parse_time", "unit_info"]
