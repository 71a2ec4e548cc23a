"""Météo-France files: daily ``Q_<dept>_…csv[.gz]`` and hourly ``H_…`` files of
meteo.data.gouv.fr, the CSV of DPClim API orders (``POSTE;DATE;…``, decimal commas) and SYNOP
archives (``numer_sta;date;…;t`` in Kelvin, ``mq`` for missing). Pure.

Daily values (TN/TX/TM) are stored at local midnight of their day (``AAAAMMJJ`` is a date of
the station's climatological day, placed in the town's zone ``tz``, registry ``[town] timezone``): ``temp_air_c`` is the daily
mean (TM, or (TN + TX) / 2 when TM is missing), with ``temp_min_c``/``temp_max_c`` when given.
Hourly and SYNOP observations are instants in UTC (``AAAAMMJJHH``). Every point carries the
station id, stored as the ``station`` tag. A file with several stations needs ``--station``.
"""

from __future__ import annotations

import datetime as dt

from terril.errors import ImportFileError

from .core import (ImportedValue, ImportResult, Rejected, TimeError, csv_rows, decode_text, finish, gaps, local_day_ns,
                   missing_column, parse_number, parse_time)

_MISSING = ("", "mq", "nan", "null", "na")


def _num(text: str) -> float | None:
    s = text.strip()
    if s.lower() in _MISSING:
        return None
    return parse_number(s)


def _select_station(rows: list[tuple[int, list[str]]], col: int, station: str | None) -> tuple[str, list]:
    ids: dict[str, int] = {}
    for _, r in rows:
        if col < len(r):
            s = r[col].strip()
            ids[s] = ids.get(s, 0) + 1
    if station is not None:
        want = station.strip()
        matches = [s for s in ids if s == want or s.lstrip("0") == want.lstrip("0")]
        if not matches:
            raise ImportFileError("unknown_station", f"station {want} is not in the file; stations found: "
                                  + ", ".join(sorted(ids)[:20]), station=want, found=", ".join(sorted(ids)[:20]))
        sid = matches[0]
    elif len(ids) > 1:
        raise ImportFileError("several_stations", f"the file holds {len(ids)} stations: choose one with --station "
                              "(" + ", ".join(sorted(ids)[:20]) + ")", count=len(ids),
                              found=", ".join(sorted(ids)[:20]))
    elif ids:
        sid = next(iter(ids))
    else:
        sid = station or ""
    return sid, [(ln, r) for ln, r in rows if col < len(r) and r[col].strip() == sid]


def _col(header: list[str], *names: str) -> int | None:
    up = [c.strip().upper() for c in header]
    for n in names:
        if n in up:
            return up.index(n)
    return None


def parse_climatology(data: bytes, *, tz: dt.tzinfo, station: str | None = None) -> ImportResult:
    """Daily (``AAAAMMJJ`` / ``DATE`` with 8 digits: TN, TX, TM) or hourly (10 digits: T)
    climatological files of meteo.data.gouv.fr and DPClim orders."""
    rows, _ = csv_rows(decode_text(data), ";")
    if not rows:
        raise ImportFileError("empty_file", "the file is empty")
    header = rows[0][1]
    c_sta = _col(header, "NUM_POSTE", "POSTE")
    c_date = _col(header, "AAAAMMJJHH", "AAAAMMJJ", "DATE")
    if c_sta is None or c_date is None:
        raise missing_column(("NUM_POSTE or POSTE", "AAAAMMJJ, AAAAMMJJHH or DATE"), header)
    # DPClim orders repeat the header line between stations
    body = [(ln, r) for ln, r in rows[1:] if not (c_sta < len(r) and r[c_sta].strip().upper() in ("POSTE", "NUM_POSTE"))]
    sid, mine = _select_station(body, c_sta, station)
    first = next((r[c_date].strip() for _, r in mine if c_date < len(r)), "")
    hourly = len(first) >= 10
    c_t, c_tn, c_tx, c_tm = (_col(header, "T"), _col(header, "TN"), _col(header, "TX"), _col(header, "TM"))
    if hourly and c_t is None:
        raise missing_column(("T",), header)
    if not hourly and c_tn is None and c_tx is None and c_tm is None:
        raise missing_column(("TN", "TX", "TM"), header)
    rejected: list[Rejected] = []
    values: list[ImportedValue] = []
    mean_from_tn_tx = 0

    def cell(r: list[str], j: int | None) -> float | None:
        return _num(r[j]) if j is not None and j < len(r) else None

    for line, r in mine:
        text = ";".join(r)[:200]
        try:
            t_ns, _ = parse_time(r[c_date], tz=tz, naive_utc=hourly)
        except (TimeError, IndexError):
            rejected.append(Rejected(line, "bad_time", text))
            continue
        try:
            if hourly:
                t = cell(r, c_t)
                if t is None:
                    rejected.append(Rejected(line, "empty_value", text))
                    continue
                values.append(ImportedValue(t_ns, (("temp_air_c", t),), 0.0))
                continue
            tn, tx, tm = cell(r, c_tn), cell(r, c_tx), cell(r, c_tm)
        except ValueError:
            rejected.append(Rejected(line, "bad_value", text))
            continue
        if tm is None and tn is not None and tx is not None:
            tm = (tn + tx) / 2.0
            mean_from_tn_tx += 1
        if tm is None:
            rejected.append(Rejected(line, "empty_value", text))
            continue
        fields: tuple[tuple[str, float], ...] = (("temp_air_c", tm),)
        if tn is not None:
            fields += (("temp_min_c", tn),)
        if tx is not None:
            fields += (("temp_max_c", tx),)
        day, length = local_day_ns(t_ns, tz)
        values.append(ImportedValue(day, fields, length))
    notes = [f"station {sid}"]
    if mean_from_tn_tx:
        notes.append(f"{mean_from_tn_tx} days without TM: mean = (TN + TX) / 2")
    res = finish("temperature", "meteofrance_hourly" if hourly else "meteofrance_daily", "°C", len(mine), values,
                 rejected, step_s=3600.0 if hourly else 86_400.0, notes=notes, station=sid, carriers=("weather",), tz=tz)
    if hourly:  # instants: a gap is more than 1.5 h without an observation
        return _with_gaps(res, gaps([v.time_ns for v in res.values], 3600 * 10**9))
    return res


def _with_gaps(res: ImportResult, g: list[tuple[int, int]]) -> ImportResult:
    return ImportResult(res.kind, res.unit, res.rows_read, res.values, res.rejected, tuple(g), res.step_s,
                        res.ambiguous_times, res.notes, res.format, res.station, res.carriers)


def parse_synop(data: bytes, *, tz: dt.tzinfo, station: str | None = None) -> ImportResult:
    """SYNOP archive: ``numer_sta;date (AAAAMMJJHHMMSS UTC);…;t (K)``, ``mq`` missing."""
    rows, _ = csv_rows(decode_text(data), ";")
    if not rows:
        raise ImportFileError("empty_file", "the file is empty")
    header = [c.strip().lower() for c in rows[0][1]]
    if "numer_sta" not in header or "date" not in header or "t" not in header:
        raise missing_column(("numer_sta", "date", "t"), rows[0][1])
    c_sta, c_date, c_t = header.index("numer_sta"), header.index("date"), header.index("t")
    sid, mine = _select_station(rows[1:], c_sta, station)
    rejected: list[Rejected] = []
    values: list[ImportedValue] = []
    for line, r in mine:
        text = ";".join(r)[:200]
        try:
            t_ns, _ = parse_time(r[c_date], tz=tz, naive_utc=True)
        except (TimeError, IndexError):
            rejected.append(Rejected(line, "bad_time", text))
            continue
        try:
            k = _num(r[c_t]) if c_t < len(r) else None
        except ValueError:
            rejected.append(Rejected(line, "bad_value", text))
            continue
        if k is None:
            rejected.append(Rejected(line, "empty_value", text))
            continue
        values.append(ImportedValue(t_ns, (("temp_air_c", round(k - 273.15, 6)),), 0.0))
    res = finish("temperature", "meteofrance_synop", "K", len(mine), values, rejected, step_s=3 * 3600.0,
                 notes=[f"station {sid}", "Kelvin converted to °C"], station=sid, carriers=("weather",), tz=tz)
    return _with_gaps(res, gaps([v.time_ns for v in res.values], 3 * 3600 * 10**9))


__all__ = ["parse_climatology", "parse_synop"]
