"""GRDF exports: the customer-account Excel export ("Données informatives et détaillées"),
the customer-account JSON (``releves`` of "données publiées" and "données informatives") and
ADICT API records (``consommation.volume_brut``, ``energie``, ``coeff_calcul``). Pure.

A gas day D runs from 06:00 local on D to 06:00 on D+1; it is booked at local midnight of D
(the project's daily convention). "Local" is the town's zone ``tz`` (registry ``[town]
timezone``), passed in by the caller. Published readings cover several days or months: they are
stored as ``period`` points (``energy_wh``, ``volume_m3``, ``period_end_ns``) starting at the
local midnight of their first gas day. Energy is the file's kWh when given, else volume ×
conversion coefficient. "Absence de Données" rows are rejected as ``no_data``, never read as 0.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
import zlib

from terril.errors import ImportFileError

from .core import (NS, ImportedValue, ImportResult, Rejected, TimeError, day_start_ns, decode_text, finish,
                   local_day_ns, missing_column, parse_number, parse_time)


def _gas_day(t_ns: int, tz: dt.tzinfo) -> dt.date:
    """The gas day an instant belongs to (gas days start at 06:00 local in ``tz``)."""
    local = dt.datetime.fromtimestamp(t_ns / NS, tz)
    return local.date() if local.hour >= 6 else local.date() - dt.timedelta(days=1)


def _num(x: object) -> float | None:
    if x is None or (isinstance(x, str) and not x.strip()):
        return None
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    return parse_number(str(x))


def _fields(energy_kwh: float | None, volume_m3: float | None, coeff: float | None,
            default_coeff: float | None) -> tuple[tuple[str, float], ...] | None:
    c = coeff or default_coeff
    out: list[tuple[str, float]] = []
    if energy_kwh is not None and (energy_kwh > 0 or not volume_m3):
        out.append(("energy_wh", energy_kwh * 1000.0))
    elif volume_m3 is not None and c:
        out.append(("energy_wh", volume_m3 * c * 1000.0))
    if volume_m3 is not None:
        out.append(("volume_m3", volume_m3))
    if c:
        out.append(("kwh_per_m3", c))
    return tuple(out) if any(k in ("energy_wh", "volume_m3") for k, _ in out) else None


def _period_value(start_day: dt.date, end_day: dt.date, fields: tuple[tuple[str, float], ...],
                  tz: dt.tzinfo) -> ImportedValue:
    start, end = day_start_ns(start_day, tz), day_start_ns(end_day, tz)
    if (end_day - start_day).days == 1:
        return ImportedValue(start, fields, (end - start) / NS)
    return ImportedValue(start, fields + (("period_end_ns", end),), (end - start) / NS)


def _result(fmt: str, values: list[ImportedValue], rejected: list[Rejected], n: int, notes: list[str],
            tz: dt.tzinfo) -> ImportResult:
    daily = bool(values) and all(v.span_s <= 25 * 3600 for v in values)
    if not daily:
        values = [v if any(k == "period_end_ns" for k, _ in v.fields) else
                  ImportedValue(v.time_ns, v.fields + (("period_end_ns", v.time_ns + int(v.span_s * NS)),), v.span_s)
                  for v in values]
    return finish("daily" if daily else "period", fmt, "kWh,m3", n, values, rejected,
                  step_s=86_400.0 if daily else 0.0, notes=notes, carriers=("gas",), tz=tz)


# ---------------------------------------------------------------------------------------
# JSON of the customer account and ADICT


def _iter_releves(doc: object) -> list[dict]:
    """The ``releves`` of a customer-account JSON (keyed by PCE, or a bare list)."""
    if isinstance(doc, list):
        return [r for r in doc if isinstance(r, dict)]
    if isinstance(doc, dict):
        if isinstance(doc.get("releves"), list):
            return doc["releves"]
        out: list[dict] = []
        for v in doc.values():
            if isinstance(v, dict) and isinstance(v.get("releves"), list):
                out.extend(v["releves"])
        return out
    return []


def parse_json(data: bytes, *, tz: dt.tzinfo, kwh_per_m3: float | None = None) -> ImportResult:
    """Customer-account JSON: ``releves`` with ``energieConsomme`` (kWh), ``volumeBrutConsomme``
    (m³), ``coeffConversion``, ``dateDebutReleve``/``dateFinReleve`` or ``journeeGaziere``."""
    try:
        doc = json.loads(decode_text(data))
    except json.JSONDecodeError as err:
        raise ImportFileError("bad_file", f"not valid JSON: {err}") from err
    releves = _iter_releves(doc)
    if not releves:
        raise missing_column(("releves",), list(doc) if isinstance(doc, dict) else [])
    rejected: list[Rejected] = []
    values: list[ImportedValue] = []
    for i, r in enumerate(releves, start=1):
        text = json.dumps(r, ensure_ascii=False)[:200]
        try:
            energy = _num(r.get("energieConsomme"))
            volume = _num(r.get("volumeBrutConsomme"))
            coeff = _num(r.get("coeffConversion"))
        except ValueError:
            rejected.append(Rejected(i, "bad_value", text))
            continue
        if "absence" in str(r.get("qualificationReleve", "")).lower() or (energy is None and volume is None):
            rejected.append(Rejected(i, "no_data", text))
            continue
        try:
            if r.get("journeeGaziere"):
                d0 = dt.date.fromisoformat(str(r["journeeGaziere"])[:10])
                d1 = d0 + dt.timedelta(days=1)
            else:
                d0 = _gas_day(parse_time(str(r["dateDebutReleve"]), tz=tz)[0], tz)
                d1 = _gas_day(parse_time(str(r["dateFinReleve"]), tz=tz)[0], tz)
        except (TimeError, KeyError, ValueError):
            rejected.append(Rejected(i, "bad_time", text))
            continue
        if d1 <= d0:
            rejected.append(Rejected(i, "bad_period", text))
            continue
        if (energy is not None and energy < 0) or (volume is not None and volume < 0):
            rejected.append(Rejected(i, "negative_value", text))
            continue
        f = _fields(energy, volume, coeff, kwh_per_m3)
        if f is None:
            rejected.append(Rejected(i, "no_data", text))
            continue
        values.append(_period_value(d0, d1, f, tz))
    return _result("grdf_json", _no_overlap(values, rejected), rejected, len(releves), [], tz)


def _no_overlap(values: list[ImportedValue], rejected: list[Rejected]) -> list[ImportedValue]:
    out: list[ImportedValue] = []
    for v in sorted(values, key=lambda v: v.time_ns):
        if out and v.time_ns < out[-1].time_ns + int(out[-1].span_s * NS):
            rejected.append(Rejected(0, "overlapping_period", str(v.time_ns)))
            continue
        out.append(v)
    return out


def parse_adict(data: bytes, *, tz: dt.tzinfo, kwh_per_m3: float | None = None) -> ImportResult:
    """ADICT ``donnees_consos_publiees`` / ``informatives`` records (NDJSON or a JSON list)."""
    text = decode_text(data).strip()
    records: list[object] = []
    try:
        doc = json.loads(text)
        records = doc if isinstance(doc, list) else [doc]
    except json.JSONDecodeError:
        for k, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ImportFileError("bad_file", f"line {k} is not JSON: {err}") from err
    rejected: list[Rejected] = []
    values: list[ImportedValue] = []
    for i, r in enumerate(records, start=1):
        text_r = json.dumps(r, ensure_ascii=False)[:200]
        c = r.get("consommation") if isinstance(r, dict) else None
        if not isinstance(c, dict):
            rejected.append(Rejected(i, "missing_column", text_r))
            continue
        try:
            energy = _num(c.get("energie"))
            volume = _num(c.get("volume_brut"))
            coeff = _num((c.get("coeff_calcul") or {}).get("coeff_conversion"))
        except ValueError:
            rejected.append(Rejected(i, "bad_value", text_r))
            continue
        try:
            if c.get("journee_gaziere"):
                d0 = dt.date.fromisoformat(str(c["journee_gaziere"])[:10])
                d1 = d0 + dt.timedelta(days=1)
            else:
                d0 = _gas_day(parse_time(str(c["date_debut_consommation"]), tz=tz)[0], tz)
                d1 = _gas_day(parse_time(str(c["date_fin_consommation"]), tz=tz)[0], tz)
        except (TimeError, KeyError, ValueError, TypeError):
            rejected.append(Rejected(i, "bad_time", text_r))
            continue
        if d1 <= d0:
            rejected.append(Rejected(i, "bad_period", text_r))
            continue
        if (energy is not None and energy < 0) or (volume is not None and volume < 0):
            rejected.append(Rejected(i, "negative_value", text_r))
            continue
        f = _fields(energy, volume, coeff, kwh_per_m3)
        if f is None:
            rejected.append(Rejected(i, "no_data", text_r))
            continue
        values.append(_period_value(d0, d1, f, tz))
    if records and not values and all(r.reason == "missing_column" for r in rejected):
        raise missing_column(("consommation.volume_brut", "consommation.energie"),
                             list(records[0]) if isinstance(records[0], dict) else [])
    return _result("grdf_adict", _no_overlap(values, rejected), rejected, len(records), [], tz)


# ---------------------------------------------------------------------------------------
# Excel export of the customer account


def is_grdf_xlsx(data: bytes) -> bool:
    """An xlsx whose first rows name GRDF's columns (``Date de relevé``, ``Volume``/``Energie``)."""
    try:
        return _header(_sheet_rows(data)) is not None
    except ImportFileError:
        return False


def _sheet_rows(data: bytes) -> list[tuple]:
    import openpyxl  # deferred: only xlsx imports need it

    # openpyxl raises many kinds of errors on a damaged workbook: all mean "unreadable file"
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            return [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
    except (zipfile.BadZipFile, zlib.error, OSError, KeyError, ValueError, TypeError, AttributeError,
            IndexError, SyntaxError) as err:
        raise ImportFileError("bad_file", f"not a readable Excel file ({err.__class__.__name__})") from err


def _norm(x: object) -> str:
    return str(x or "").strip().lower().replace("é", "e").replace("è", "e")


def _header(rows: list[tuple]) -> tuple[int, dict[str, int]] | None:
    for k, row in enumerate(rows[:40]):
        low = [_norm(c) for c in row]
        cols: dict[str, int] = {}
        for j, c in enumerate(low):
            if c.startswith("date") and "date" not in cols:
                cols["date"] = j
            elif c.startswith("volume"):
                cols["volume"] = j
            elif c.startswith("energie"):
                cols["energy"] = j
            elif c.startswith("coefficient"):
                cols["coeff"] = j
            elif c.startswith("qualification"):
                cols["qual"] = j
        if "date" in cols and ("volume" in cols or "energy" in cols):
            return k, cols
    return None


def parse_xlsx(data: bytes, *, tz: dt.tzinfo, kwh_per_m3: float | None = None) -> ImportResult:
    """GRDF customer-account Excel export: a header some rows down (``Date de relevé``,
    ``Volume (m3)``, ``Energie (kWh)``, ``Coefficient de conversion``, ``Qualification``), one
    row per gas day (or per month in the monthly export)."""
    rows = _sheet_rows(data)
    found = _header(rows)
    if found is None:
        raise missing_column(("Date de relevé", "Volume (m3)", "Energie (kWh)"),
                             [str(c) for r in rows[:12] for c in r if c][:12])
    head, cols = found
    rejected: list[Rejected] = []
    days: list[tuple[int, dt.date, tuple[tuple[str, float], ...]]] = []
    body = [(head + 2 + i, r) for i, r in enumerate(rows[head + 1:]) if any(c not in (None, "") for c in r)]
    for line, r in body:
        text = ";".join("" if c is None else str(c) for c in r)[:200]
        cell = r[cols["date"]] if cols["date"] < len(r) else None
        try:
            if isinstance(cell, dt.datetime):
                day = cell.date()
            elif isinstance(cell, dt.date):
                day = cell
            else:
                day = dt.datetime.fromtimestamp(parse_time(str(cell), tz=tz)[0] / NS, tz).date()
        except (TimeError, ValueError, TypeError):
            rejected.append(Rejected(line, "bad_time", text))
            continue
        if "qual" in cols and "absence" in _norm(r[cols["qual"]] if cols["qual"] < len(r) else ""):
            rejected.append(Rejected(line, "no_data", text))
            continue
        try:
            volume = _num(r[cols["volume"]]) if "volume" in cols else None
            energy = _num(r[cols["energy"]]) if "energy" in cols else None
            coeff = _num(r[cols["coeff"]]) if "coeff" in cols else None
        except (ValueError, IndexError):
            rejected.append(Rejected(line, "bad_value", text))
            continue
        if (energy is not None and energy < 0) or (volume is not None and volume < 0):
            rejected.append(Rejected(line, "negative_value", text))
            continue
        f = _fields(energy, volume, coeff, kwh_per_m3)
        if f is None:
            rejected.append(Rejected(line, "empty_value", text))
            continue
        days.append((line, day, f))
    days.sort(key=lambda d: d[1])
    spacing = sorted((b[1] - a[1]).days for a, b in zip(days, days[1:]))
    monthly = bool(spacing) and spacing[len(spacing) // 2] >= 27
    values: list[ImportedValue] = []
    for line, day, f in days:
        if monthly:
            start = day.replace(day=1)
            end = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
            values.append(_period_value(start, end, f, tz))
        else:
            t, length = local_day_ns(day_start_ns(day, tz), tz)
            values.append(ImportedValue(t, f, length))
    if monthly:
        res = _result("grdf_xlsx", values, rejected, len(body), ["monthly export"], tz)
        return finish("monthly", res.format, res.unit, res.rows_read, list(res.values), list(res.rejected),
                      notes=res.notes, carriers=res.carriers, tz=tz)
    return _result("grdf_xlsx", values, rejected, len(body), [], tz)


__all__ = ["is_grdf_xlsx", "parse_adict", "parse_json", "parse_xlsx"]
