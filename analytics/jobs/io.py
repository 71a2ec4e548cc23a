"""InfluxDB reads and writes shared by the analytics jobs (the I/O edge of the pure models).

Identifiers are validated and passed as bind parameters; times are integers (ns).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from terril.ids import validate_id
from terril.influx import InfluxClient, quote_ident
from terril.lineprotocol import LineProtocolError, format_point
from terril.readings import Point


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
    t = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    arr = np.array([row[1:] for row in rows], dtype=float).reshape(len(rows), len(fields))
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


def write_points(client: InfluxClient, points: Iterable[Point], batch: int = 5_000) -> int:
    """Write points in batches; returns how many were written (points without a finite field are skipped)."""
    lines: list[str] = []
    written = 0
    for p in points:
        try:
            lines.append(format_point(p))
        except LineProtocolError:
            continue
        if len(lines) >= batch:
            client.write_lines(("\n".join(lines) + "\n").encode())
            written += len(lines)
            lines = []
    if lines:
        client.write_lines(("\n".join(lines) + "\n").encode())
        written += len(lines)
    return written
