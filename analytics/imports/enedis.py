"""Enedis exports: the "Mes données" CSV of the customer portal (load curve, daily energy,
daily indexes), the Data Connect / API JSON (``meter_reading.interval_reading``) and the SGE
B2B ``ConsulterMesures`` XML answer. Pure.

Conventions (Enedis):

* load-curve stamps are the **end** of the step, with their UTC offset; values are the mean
  power over the step (W) — or its energy when the unit is Wh. The step may change inside a
  file (30 → 60 → 30 min) without any marker: each point's step is the spacing to the point
  before it, unless that spacing is a lone exception between two equal ones (a missing value,
  reported as a gap);
* daily energy is stamped at the start of its local day; the local day is the town's (``tz``,
  registry ``[town] timezone``): a stamp with an offset names the town's day whose midnight is
  nearest to it; daily indexes ("Arrêté quotidien")
  are read at the start of the local day (23:00 UTC in summer files: ``T01:00+02:00``) and the
  consumption of day D is index(D+1) − index(D), booked on D.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET

from terril.errors import ImportFileError

from .core import (NS, ImportedValue, ImportResult, Rejected, TimeError, csv_rows, decode_text, finish,
                   local_day_ns, missing_column, nearest_day_ns, parse_number, parse_time, unit_info, unknown_unit)

_STEPS_S = (5 * 60, 10 * 60, 15 * 60, 30 * 60, 60 * 60)
_ISO_DUR = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")


# ---------------------------------------------------------------------------------------
# Mes données CSV


def _preamble(rows: list[tuple[int, list[str]]]) -> tuple[dict[str, str], int]:
    """The ``Identifiant PRM;…`` preamble as a dict and the index of the data header row."""
    meta: dict[str, str] = {}
    if rows and rows[0][1] and rows[0][1][0].strip().lower().startswith("identifiant prm") and len(rows) > 1:
        meta = {k.strip().lower(): v.strip() for k, v in zip(rows[0][1], rows[1][1])}
    for k, (_, row) in enumerate(rows[:10]):
        if row and row[0].strip().lower() in ("horodate", "date"):
            return meta, k
    raise missing_column(("Horodate", "Valeur"), rows[2][1] if len(rows) > 2 else [])


def md_subformat(data: bytes) -> str:
    """``enedis_md_load_curve``, ``enedis_md_daily`` or ``enedis_md_index`` from the preamble."""
    rows, _ = csv_rows(decode_text(data), ";")
    meta, head = _preamble(rows)
    kind = meta.get("type de donnees", meta.get("type de données", "")).lower()
    header = [c.strip().upper() for c in rows[head][1]]
    if "index" in kind or any(c.startswith(("EAS ", "EAI ")) for c in header):
        return "enedis_md_index"
    if "courbe" in kind:
        return "enedis_md_load_curve"
    if any(w in kind for w in ("quotid", "journ", "jour", "puissance max")):
        return "enedis_md_daily"
    # no type: guess from the spacing of the first stamps
    times = []
    for _, row in rows[head + 1:head + 6]:
        try:
            times.append(parse_time(row[0], tz=dt.timezone.utc)[0])  # only the spacing matters
        except (ValueError, IndexError):
            pass
    if len(times) >= 2 and min(b - a for a, b in zip(times, times[1:])) >= 20 * 3600 * NS:
        return "enedis_md_daily"
    return "enedis_md_load_curve"


def _step_for(diffs: list[int], i: int, default: int) -> int:
    """Step of point i from the spacings to its neighbours (see the module docstring)."""
    d = diffs[i] if 0 <= i < len(diffs) else None
    prev = diffs[i - 1] if i - 1 >= 0 else None
    nxt = diffs[i + 1] if i + 1 < len(diffs) else None
    ok = [x for x in (prev, nxt) if x is not None and x in _STEPS_S]
    if d in _STEPS_S and (d in (prev, nxt) or not ok):
        return d
    if ok:
        return min(ok)
    return d if d in _STEPS_S else default


def parse_md_load_curve(data: bytes, *, tz: dt.tzinfo, step_min: float | None = None,
                        unit: str | None = None) -> ImportResult:
    """Mes données load curve (``Horodate;Valeur``, end-of-step stamps with offsets)."""
    rows, _ = csv_rows(decode_text(data), ";")
    meta, head = _preamble(rows)
    u = unit or meta.get("unite", meta.get("unité")) or "W"
    info = unit_info(u)
    if info is None or info[0] not in ("W", "Wh"):
        raise unknown_unit(u)
    if step_min is None and meta.get("pas en minutes"):
        try:
            step_min = parse_number(meta["pas en minutes"])
        except ValueError:
            step_min = None
    body = rows[head + 1:]
    rejected: list[Rejected] = []
    pts: list[tuple[int, int, float, str]] = []
    ambiguous = 0
    seen_amb: set[int] = set()
    for line, row in body:
        try:
            t_ns, amb = parse_time(row[0], tz=tz)
        except TimeError as err:
            rejected.append(Rejected(line, err.reason, ";".join(row)[:200]))
            continue
        raw = row[1].strip() if len(row) > 1 else ""
        if not raw:
            rejected.append(Rejected(line, "empty_value", ";".join(row)[:200]))
            continue
        try:
            v = parse_number(raw)
        except ValueError:
            rejected.append(Rejected(line, "bad_value", ";".join(row)[:200]))
            continue
        if v < 0:
            rejected.append(Rejected(line, "negative_value", ";".join(row)[:200]))
            continue
        if amb and t_ns in seen_amb:
            t_ns += 3600 * NS  # a naive stamp repeated in the fall-back hour is its second occurrence
        elif amb:
            seen_amb.add(t_ns)
        ambiguous += amb
        pts.append((line, t_ns, v, ";".join(row)[:200]))
    pts.sort(key=lambda p: p[1])
    # drop duplicate stamps before measuring the spacing
    uniq: list[tuple[int, int, float, str]] = []
    for p in pts:
        if uniq and uniq[-1][1] == p[1]:
            rejected.append(Rejected(p[0], "duplicate_time", p[3]))
        else:
            uniq.append(p)
    times = [p[1] for p in uniq]
    # diffs[i] = spacing between point i and the one before it (diffs[0]: to the one after)
    raw_d = [(b - a) // NS for a, b in zip(times, times[1:])]
    diffs = ([raw_d[0]] + raw_d) if raw_d else []
    fixed = int(step_min * 60) if step_min else None
    values: list[ImportedValue] = []
    steps: set[int] = set()
    for i, (line, t_ns, v, text) in enumerate(uniq):
        step = fixed or _step_for(diffs, i, 1800)
        steps.add(step)
        wh = v * info[1] * step / 3600.0 if info[0] == "W" else v * info[1]
        values.append(ImportedValue(t_ns - step * NS, (("energy_wh", wh),), float(step)))
    notes = []
    if len(steps) > 1:
        notes.append("step changes inside the file: " + " → ".join(f"{s // 60} min" for s in sorted(steps)))
    return finish("load_curve", "enedis_md_load_curve", u, len(body), values, rejected,
                  step_s=float(min(steps)) if steps else 0.0, ambiguous=ambiguous, notes=notes,
                  carriers=("electricity", "pv"), tz=tz)


def parse_md_daily(data: bytes, *, tz: dt.tzinfo, unit: str | None = None) -> ImportResult:
    """Mes données daily energy (``Horodate;Valeur`` in Wh) or daily maximum power (VA, W);
    each stamp names the local day whose midnight is nearest."""
    rows, _ = csv_rows(decode_text(data), ";")
    meta, head = _preamble(rows)
    u = unit or meta.get("unite", meta.get("unité")) or "Wh"
    info = unit_info(u)
    if info is None or info[0] not in ("Wh", "VA", "W"):
        raise unknown_unit(u)
    field = {"Wh": "energy_wh", "VA": "power_max_va", "W": "power_max_w"}[info[0]]
    body = rows[head + 1:]
    rejected: list[Rejected] = []
    values: list[ImportedValue] = []
    for line, row in body:
        text = ";".join(row)[:200]
        try:
            t_ns, _ = parse_time(row[0], tz=tz)
        except TimeError as err:
            rejected.append(Rejected(line, err.reason, text))
            continue
        raw = row[1].strip() if len(row) > 1 else ""
        if not raw:
            rejected.append(Rejected(line, "empty_value", text))
            continue
        try:
            v = parse_number(raw)
        except ValueError:
            rejected.append(Rejected(line, "bad_value", text))
            continue
        if v < 0:
            rejected.append(Rejected(line, "negative_value", text))
            continue
        # energy: the day whose midnight is nearest; maximum power: the day of the maximum's time
        day, length = nearest_day_ns(t_ns, tz) if field == "energy_wh" else local_day_ns(t_ns, tz)
        values.append(ImportedValue(day, ((field, v * info[1]),), length))
    return finish("daily" if field == "energy_wh" else "max_power", "enedis_md_daily", u, len(body), values, rejected, step_s=86_400.0,
                  carriers=("electricity", "pv"), tz=tz)


def parse_md_index(data: bytes, *, tz: dt.tzinfo, unit: str | None = None) -> ImportResult:
    """Mes données daily indexes: ``EAS T`` (or the sum of ``EAS F1…F10``) for consumption,
    ``EAI T`` for production; the calendar lines after the data are ignored."""
    rows, _ = csv_rows(decode_text(data), ";")
    meta, head = _preamble(rows)
    u = unit or meta.get("unite", meta.get("unité")) or "Wh"
    info = unit_info(u)
    if info is None or info[0] != "Wh":
        raise unknown_unit(u)
    header = [c.strip().upper() for c in rows[head][1]]
    production = "production" in meta.get("grandeur metier", "").lower() or (
        "EAI T" in header and "EAS T" not in header)
    total = header.index("EAI T" if production else "EAS T") if ("EAI T" if production else "EAS T") in header else None
    prefix = "EAI F" if production else "EAS F"
    registers = [j for j, c in enumerate(header) if c.startswith(prefix)]
    if total is None and not registers:
        raise missing_column(("Horodate", "EAS T or EAS F1…F10 (EAI T for production)"), rows[head][1])
    rejected: list[Rejected] = []
    readings: list[tuple[int, int, float, str]] = []  # (line, local day start, index Wh, text)
    rows_read = 0
    trailer = 0
    for line, row in rows[head + 1:]:
        text = ";".join(row)[:200]
        if not row or row[0].strip().lower().startswith(("periode", "période", "du ")):
            trailer += 1
            continue
        rows_read += 1
        try:
            t_ns, _ = parse_time(row[0], tz=tz)
        except TimeError as err:
            rejected.append(Rejected(line, err.reason, text))
            continue
        cell = row[total].strip() if total is not None and total < len(row) else ""
        try:
            if cell:
                idx = parse_number(cell)
            else:
                regs = [row[j].strip() for j in registers if j < len(row) and row[j].strip()]
                if not regs:
                    rejected.append(Rejected(line, "empty_value", text))
                    continue
                idx = sum(parse_number(x) for x in regs)
        except ValueError:
            rejected.append(Rejected(line, "bad_value", text))
            continue
        # the reading at 23:00 UTC is the start of the next local day in summer
        day_ns, _ = nearest_day_ns(t_ns, tz)
        readings.append((line, day_ns, idx * info[1], text))
    readings.sort(key=lambda r: r[1])
    values: list[ImportedValue] = []
    prev: tuple[int, float] | None = None
    for line, day_ns, idx, text in readings:
        if prev is not None:
            if idx < prev[1]:
                rejected.append(Rejected(line, "index_decreased", text))
                continue
            if day_ns == prev[0]:
                rejected.append(Rejected(line, "duplicate_time", text))
                continue
            _, length = local_day_ns(prev[0], tz)
            if day_ns - prev[0] <= int(length * NS):  # consecutive days only
                values.append(ImportedValue(prev[0], (("energy_wh", idx - prev[1]),), length))
        prev = (day_ns, idx)
    notes = ["consumption of day D = index(D+1) − index(D), booked on D"]
    if trailer:
        notes.append(f"{trailer} calendar lines after the data ignored")
    if production:
        notes.append("production index (EAI)")
    return finish("daily_index", "enedis_md_index", u, rows_read, values, rejected, step_s=86_400.0, notes=notes,
                  carriers=("pv", "electricity") if production else ("electricity",), tz=tz)


# ---------------------------------------------------------------------------------------
# Data Connect / API JSON


def _iso_duration_s(text: str | None) -> int | None:
    m = _ISO_DUR.match((text or "").strip())
    if not m or not any(m.groups()):
        return None
    return int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60


def parse_dc_json(data: bytes, *, tz: dt.tzinfo) -> ImportResult:
    """Data Connect ``meter_reading``: daily energy (``P1D``, Wh), load curves at any
    ``interval_length`` (W, stamp at the end, local time) and daily maximum power (W)."""
    try:
        doc = json.loads(decode_text(data))
    except json.JSONDecodeError as err:
        raise ImportFileError("bad_file", f"not valid JSON: {err}") from err
    mr = doc.get("meter_reading") if isinstance(doc, dict) else None
    if not isinstance(mr, dict) or not isinstance(mr.get("interval_reading"), list):
        raise missing_column(("meter_reading.interval_reading",), list(doc) if isinstance(doc, dict) else [])
    rt = mr.get("reading_type") or {}
    u = str(rt.get("unit") or "Wh")
    info = unit_info(u)
    if info is None or info[0] not in ("W", "Wh", "VA"):
        raise unknown_unit(u)
    kind_m = str(rt.get("measurement_kind", "energy")).lower()
    aggregate = str(rt.get("aggregate", "")).lower()
    period = str(rt.get("measuring_period", "") or "")
    readings = mr["interval_reading"]
    daily = period == "P1D" or (readings and len(str(readings[0].get("date", ""))) == 10)
    max_power = (kind_m == "power" and (aggregate == "maximum" or daily)) or info[0] == "VA"
    rejected: list[Rejected] = []
    values: list[ImportedValue] = []
    steps: set[int] = set()
    seen_ns: set[int] = set()
    for i, r in enumerate(readings, start=1):
        text = json.dumps(r)[:200]
        if not isinstance(r, dict):
            rejected.append(Rejected(i, "bad_value", text))
            continue
        raw = r.get("value")
        if raw is None or str(raw).strip() == "":
            rejected.append(Rejected(i, "empty_value", text))
            continue
        try:
            v = parse_number(str(raw)) * info[1]
            t_ns, amb = parse_time(str(r.get("date", "")), tz=tz)
        except TimeError as err:
            rejected.append(Rejected(i, err.reason, text))
            continue
        except ValueError:
            rejected.append(Rejected(i, "bad_value", text))
            continue
        if v < 0:
            rejected.append(Rejected(i, "negative_value", text))
            continue
        if amb and not daily and t_ns in seen_ns:
            t_ns += 3600 * NS  # a repeated local time in the fall-back hour is its second occurrence (UTC+1)
        seen_ns.add(t_ns)
        if daily or max_power:
            day, length = local_day_ns(t_ns, tz)
            field = ("power_max_va" if info[0] == "VA" else "power_max_w") if max_power else "energy_wh"
            values.append(ImportedValue(day, ((field, v),), length))
            continue
        step = _iso_duration_s(r.get("interval_length")) or _iso_duration_s(period) or 1800
        steps.add(step)
        wh = v * step / 3600.0 if info[0] == "W" else v
        values.append(ImportedValue(t_ns - step * NS, (("energy_wh", wh),), float(step)))
    kind = "max_power" if max_power else ("daily" if daily else "load_curve")
    return finish(kind, "enedis_dc_json", u, len(readings), values, rejected,
                  step_s=86_400.0 if (daily or max_power) else float(min(steps) if steps else 0),
                  notes=[f"usage point {mr.get('usage_point_id', '?')}"], carriers=("electricity", "pv"), tz=tz)


# ---------------------------------------------------------------------------------------
# SGE ConsulterMesures XML


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_sge_xml(data: bytes, *, tz: dt.tzinfo) -> ImportResult:
    """SGE ``consulterMesuresResponse``: energy per billing period, summed over the time
    classes of one grid (Turpe if present, else the supplier's). Periods end exclusive."""
    try:
        root = ET.fromstring(data)
    except (ET.ParseError, ValueError) as err:
        raise ImportFileError("bad_file", f"not valid XML: {err}") from err
    grids: dict[str, list[ET.Element]] = {}
    for el in root.iter():
        name = _local(el.tag)
        if name.startswith("seriesMesuresDatees"):
            grids.setdefault(name, []).extend(e for e in el if _local(e.tag) == "serie")
    if not grids:
        raise missing_column(("seriesMesuresDateesGrilleTurpe", "seriesMesuresDateesGrilleFrn"),
                             sorted({_local(e.tag) for e in root.iter()})[:12])
    grid = next((g for g in grids if g.endswith("Turpe")), sorted(grids)[0])
    rejected: list[Rejected] = []
    periods: dict[tuple[int, int], float] = {}
    units: set[str] = set()
    n = 0
    for serie in grids[grid]:
        child = {_local(e.tag): e for e in serie}
        gp = child.get("grandeurPhysique")
        if gp is not None and gp.get("code", "EA") != "EA":
            continue  # reactive energy, power…
        u = (child["unite"].text or "kWh").strip() if "unite" in child else "kWh"
        info = unit_info(u)
        if info is None or info[0] != "Wh":
            raise unknown_unit(u)
        units.add(u)
        for m in serie.iter():
            if _local(m.tag) != "mesure":
                continue
            n += 1
            f = {_local(e.tag): (e.text or "").strip() for e in m}
            text = ";".join(f"{k}={v}" for k, v in f.items() if v)[:200]
            try:
                v = parse_number(f.get("valeur", ""))
                start, _ = parse_time(f["dateDebut"], tz=tz)
                end, _ = parse_time(f["dateFin"], tz=tz)
            except TimeError as err:
                rejected.append(Rejected(n, err.reason, text))
                continue
            except (ValueError, KeyError):
                rejected.append(Rejected(n, "bad_value", text))
                continue
            if end <= start:
                rejected.append(Rejected(n, "bad_period", text))
                continue
            periods[(start, end)] = periods.get((start, end), 0.0) + v * info[1]
    values = []
    last_end = None
    for (start, end), wh in sorted(periods.items()):
        if last_end is not None and start < last_end:
            rejected.append(Rejected(0, "overlapping_period", f"{start}..{end}"))
            continue
        last_end = end
        values.append(ImportedValue(start, (("energy_wh", wh), ("period_end_ns", end)), (end - start) / NS))
    daily = bool(values) and all(v.span_s <= 25 * 3600 for v in values)
    return finish("daily" if daily else "period", "enedis_sge_xml", ",".join(sorted(units)), n, values, rejected,
                  step_s=86_400.0 if daily else 0.0, notes=[f"grid {grid.removeprefix('seriesMesuresDatees')}"],
                  carriers=("electricity", "pv"), tz=tz)


__all__ = ["md_subformat", "parse_dc_json", "parse_md_daily", "parse_md_index", "parse_md_load_curve",
           "parse_sge_xml"]
