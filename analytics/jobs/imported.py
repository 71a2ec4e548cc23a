"""The ``imported`` points of a historic import (``terril import``, the portal's upload), written so
that a re-import is idempotent. The parsing is pure (:mod:`analytics.imports`); this is its I/O edge.
"""

from __future__ import annotations

import re

from analytics.imports import ImportResult
from terril.errors import ConfigError
from terril.ids import validate_id
from terril.influx import InfluxClient, quote_ident, quote_literal
from terril.readings import Point

#: A weather station id as stored in the ``station`` tag (NUM_POSTE, WMO number…).
STATION_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def imported_points(result: ImportResult, *, site: str, meter: str, source: str, kind: str,
                    station: str | None = None) -> list[Point]:
    """``imported`` points of a parsed file: tags site, meter, source, kind (and station for
    weather); fields with units in their names."""
    for value, what in ((site, "site"), (meter, "meter"), (source, "source")):
        validate_id(value, what)
    tags = {"site": site, "meter": meter, "source": source, "kind": kind}
    if station:
        if not STATION_RE.match(station):
            raise ConfigError(f"bad station id {station!r}")
        tags["station"] = station
    return [Point("imported", tags, dict(v.fields), v.time_ns) for v in result.values]


def write_imported(client: InfluxClient, result: ImportResult, *, site: str, meter: str, source: str, kind: str,
                   batch: int = 5000, station: str | None = None) -> int:
    """Write an import's points; returns the count."""
    return client.write_points(imported_points(result, site=site, meter=meter, source=source, kind=kind,
                                               station=station), batch=batch)


def existing_in_span(client: InfluxClient, meter: str, kind: str, station: str | None, field: str,
                     t0: int, t1: int) -> int:
    """How many ``imported`` points of this meter and kind (and station) lie in [t0, t1]."""
    where = span_where(meter, kind, station, t0, t1)
    rows = client.query(f"SELECT count({quote_ident(field)}) FROM imported WHERE {where}")
    return int(rows[0].values[0][1]) if rows and rows[0].values else 0


def span_where(meter: str, kind: str, station: str | None, t0: int, t1: int) -> str:
    where = f"meter = {quote_literal(meter)} AND kind = {quote_literal(kind)}"
    if station is not None:
        where += f" AND station = {quote_literal(station)}"
    return where + f" AND time >= {int(t0)} AND time <= {int(t1)}"


def store_import(client: InfluxClient, result: ImportResult, *, site: str, meter: str, source: str,
                 station: str | None = None) -> tuple[int, int]:
    """Write an import so that re-imports are idempotent: the meter's ``imported`` points of the
    same kind (and station) between the first and last instants are counted, deleted, then the
    new points written, whatever their source. Returns (points written, points overwritten)."""
    if not result.values:
        return 0, 0
    validate_id(meter, "meter")
    t0, t1 = result.values[0].time_ns, result.values[-1].time_ns
    overwritten = existing_in_span(client, meter, result.kind, station, result.main_field(), t0, t1)
    if overwritten:
        client.execute(f"DELETE FROM imported WHERE {span_where(meter, result.kind, station, t0, t1)}")
    written = write_imported(client, result, site=site, meter=meter, source=source, kind=result.kind, station=station)
    return written, overwritten
