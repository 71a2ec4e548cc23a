"""The ``imported`` points of a historic import (``terril import``, the portal's upload), written so
that a re-import is idempotent. The parsing is pure (:mod:`analytics.imports`); this is its I/O edge.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from analytics.imports import ImportResult
from terril.errors import ConfigError, ImportFileError
from terril.ids import validate_id
from terril.influx import InfluxClient, quote_ident, quote_literal
from terril.readings import Point

if TYPE_CHECKING:
    from terril.registry import Meter, Registry

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


def commit_import(client: InfluxClient, registry: "Registry", meter: "Meter", result: ImportResult, source: str,
                  station: str | None = None) -> tuple[int, int]:
    """Store a parsed file for ``meter``, as ``terril import`` and the portal's imports page both do:
    under the kind the parser found (``daily``, ``load_curve``, ``invoice``, ``temperature``…, never
    the layout asked for, such as ``auto``, which no analysis reads), temperatures tagged with their
    station (the file's, else ``station``), re-imports idempotent (:func:`store_import`), then the
    quality ledger told which days this history fills. Returns (points written, points overwritten)."""
    from analytics.jobs.sources import write_ledger_sources

    if not result.values:
        return 0, 0
    sid = result.station or (station.strip() if station else "")
    if sid and not STATION_RE.match(sid):
        raise ImportFileError("bad_station", f"station id {sid!r} is not a valid tag")
    tag_station = sid if result.kind == "temperature" else None
    written, overwritten = store_import(client, result, site=meter.site, meter=meter.id, source=source,
                                        station=tag_station)
    # the ledger says which days this history fills (live data keeps the days it covers)
    write_ledger_sources(client, registry, meter, result.values[0].time_ns, result.values[-1].time_ns + 1)
    return written, overwritten
