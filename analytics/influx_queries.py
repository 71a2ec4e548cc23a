"""InfluxDB reads shared by the analytics jobs and the report inputs (the I/O edge of the pure models).

Writes go through :meth:`terril.influx.InfluxClient.write_points`. Identifiers are validated and
passed as bind parameters; times are integers (ns).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from terril.ids import validate_id
from terril.influx import InfluxClient, quote_ident


def query_meter_series(client: InfluxClient, meter: str, fields: Sequence[str], start_ns: int, end_ns: int,
                       measurement: str = "reading") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Times and field arrays of one meter in [start, end), sorted by time (NaN where a field is absent)."""
    validate_id(meter, "meter")
    cols = ", ".join(quote_ident(f) for f in fields)
    q = (f"SELECT {cols} FROM {quote_ident(measurement)} WHERE meter = $meter "
         f"AND time >= {int(start_ns)} AND time < {int(end_ns)}")
    rows: list[list] = []
    for s in client.query_chunks(q, params={"meter": meter}):
        rows.extend(s.values)
    # numpy converts a year of rows at once (None becomes NaN), not value by value in Python
    table = np.array(rows, dtype=object).reshape(len(rows), len(fields) + 1)
    t = table[:, 0].astype(np.int64)
    arr = table[:, 1:].astype(float)
    return t, {f: arr[:, i] for i, f in enumerate(fields)}


def query_station_temperatures(client: InfluxClient, station: str, start_ns: int, end_ns: int
                               ) -> tuple[np.ndarray, np.ndarray]:
    """Times and values of an imported weather station's ``temp_air_c`` (``imported`` points tagged
    ``station``: daily means at local midnight or hourly observations) in [start, end), sorted. [°C]"""
    q = (f"SELECT temp_air_c FROM imported WHERE kind = 'temperature' AND station = $station "
         f"AND time >= {int(start_ns)} AND time < {int(end_ns)}")
    pairs = sorted((int(r[0]), float(r[1])) for s in client.query_chunks(q, params={"station": str(station)})
                   for r in s.values if r[1] is not None)
    return (np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=float))


#: ``imported`` kinds that hold daily or finer energy (a meter's daily series can use them).
DAILY_ENERGY_KINDS = ("load_curve", "daily", "daily_index", "generic", "period")
#: Longest imported period that still counts as one day's value (a GRDF/SGE reading period of a
#: month spread over its days would invent a daily profile). [ns]
MAX_DAY_PERIOD_NS = 25 * 3600 * 10**9


@dataclass(frozen=True, eq=False)
class ImportedEnergy:
    """A meter's imported energy rows that can fill its days, sorted by time."""

    time_ns: np.ndarray  # start of what each row covers [UTC ns]
    energy_wh: np.ndarray  # [Wh]
    period_end_ns: np.ndarray  # exclusive end when the row says, else NaN [UTC ns]
    origin: tuple[str, ...]  # the import's `source` tag of each row


def query_imported_energy(client: InfluxClient, meter: str, start_ns: int, end_ns: int) -> ImportedEnergy:
    """The ``imported`` rows of ``meter`` in [start, end) that are daily or finer energy
    (:data:`DAILY_ENERGY_KINDS`, periods of at most :data:`MAX_DAY_PERIOD_NS`)."""
    validate_id(meter, "meter")
    kinds = "|".join(DAILY_ENERGY_KINDS)
    q = (f'SELECT "energy_wh", "period_end_ns", "source" FROM "imported" WHERE meter = $meter '
         f"AND kind =~ /^({kinds})$/ AND time >= {int(start_ns)} AND time < {int(end_ns)}")
    rows = sorted((int(r[0]), float(r[1]), np.nan if r[2] is None else float(r[2]), str(r[3] or ""))
                  for s in client.query_chunks(q, params={"meter": meter}) for r in s.values
                  if r[1] is not None and (r[2] is None or int(r[2]) - int(r[0]) <= MAX_DAY_PERIOD_NS))
    return ImportedEnergy(np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=float),
                          np.array([r[2] for r in rows], dtype=float), tuple(r[3] for r in rows))


#: ``imported`` kinds that may hold periods longer than a day: invoices, monthly values, distributor
#: reading periods (GRDF, SGE).
PERIOD_ENERGY_KINDS = ("invoice", "monthly", "period")
#: How far before a range an imported period may start and still reach into it (an annual bill). [ns]
PERIOD_LOOKBACK_NS = 400 * 86_400 * 10**9


def query_imported_periods(client: InfluxClient, meter: str, start_ns: int, end_ns: int,
                           tz: dt.tzinfo | None = None) -> list[tuple[dt.date, dt.date, float, str]]:
    """The ``imported`` periods of ``meter`` longer than a day (:data:`PERIOD_ENERGY_KINDS`) that
    overlap [start, end): ``(first local day, end day exclusive, kWh, kind)``, sorted. A monthly
    value (stored at the month's first local midnight, without an end) covers its calendar month."""
    from terril.timeutil import local_date

    validate_id(meter, "meter")
    kinds = "|".join(PERIOD_ENERGY_KINDS)
    q = (f'SELECT "energy_wh", "period_end_ns", "kind" FROM "imported" WHERE meter = $meter '
         f"AND kind =~ /^({kinds})$/ AND time >= {int(start_ns - PERIOD_LOOKBACK_NS)} AND time < {int(end_ns)}")
    out = []
    for s in client.query_chunks(q, params={"meter": meter}):
        for r in s.values:
            if r[1] is None:
                continue
            t, kind = int(r[0]), str(r[3] or "")
            first = local_date(t, tz)
            if r[2] is not None:
                if int(r[2]) - t <= MAX_DAY_PERIOD_NS or int(r[2]) <= start_ns:
                    continue  # a day or less: the daily series has it; or it ends before the range
                end = local_date(int(r[2]), tz)
            elif kind == "monthly":
                end = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            else:
                continue
            if end > first:
                out.append((first, end, float(r[1]) / 1000.0, kind))
    return sorted(out)


def query_last_before(client: InfluxClient, meter: str, field: str, before_ns: int,
                      lookback_ns: int = 400 * 86_400 * 10**9) -> tuple[int, float] | None:
    """The last (time, value) of ``field`` for ``meter`` strictly before ``before_ns``."""
    validate_id(meter, "meter")
    q = (f"SELECT last({quote_ident(field)}) FROM reading WHERE meter = $meter "
         f"AND time >= {int(before_ns - lookback_ns)} AND time < {int(before_ns)}")
    for s in client.query(q, params={"meter": meter}):
        if s.values and s.values[0][1] is not None:
            return int(s.values[0][0]), float(s.values[0][1])
    return None
