"""The InfluxDB side of reports and historic imports: the jobs that write ``imported`` points
(idempotent re-imports) and ``savings_monthly`` points, and the Décret tertiaire statuses read
from InfluxDB. The numbers come from :mod:`analytics.savings`, :mod:`analytics.tertiaire` and
:mod:`analytics.imports`; the commands (``terril report``, ``terril import``) are in
:mod:`terril.cli.reports`.
"""

from __future__ import annotations

import datetime as dt
import re

from analytics.imports import ImportResult
from terril.errors import ConfigError
from terril.ids import validate_id
from terril.influx import InfluxClient
from terril.lineprotocol import format_point
from terril.readings import Point

#: A weather station id as stored in the ``station`` tag (NUM_POSTE, WMO number…).
_STATION_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

# ---------------------------------------------------------------------------------------
# jobs


def imported_points(result: ImportResult, *, site: str, meter: str, source: str, kind: str,
                    station: str | None = None) -> list[Point]:
    """``imported`` points of a parsed file: tags site, meter, source, kind (and station for
    weather); fields with units in their names."""
    for value, what in ((site, "site"), (meter, "meter"), (source, "source")):
        validate_id(value, what)
    tags = {"site": site, "meter": meter, "source": source, "kind": kind}
    if station:
        if not _STATION_RE.match(station):
            raise ConfigError(f"bad station id {station!r}")
        tags["station"] = station
    return [Point("imported", tags, dict(v.fields), v.time_ns) for v in result.values]


def write_imported(client: InfluxClient, result: ImportResult, *, site: str, meter: str, source: str, kind: str,
                   batch: int = 5000, station: str | None = None) -> int:
    """Write an import's points through :func:`terril.lineprotocol.format_point`; returns the count."""
    lines = [format_point(p) for p in imported_points(result, site=site, meter=meter, source=source, kind=kind,
                                                      station=station)]
    for i in range(0, len(lines), batch):
        client.write_lines(("\n".join(lines[i:i + batch]) + "\n").encode())
    return len(lines)


def write_savings_monthly(client: InfluxClient, result) -> int:  # noqa: ANN001
    """Write the ``savings_monthly`` points of a :class:`~analytics.reports.savings_report.SavingsResult`."""
    from analytics.reports.savings_report import savings_monthly_points

    lines = [format_point(p) for p in savings_monthly_points(result)]
    if lines:
        client.write_lines(("\n".join(lines) + "\n").encode())
    return len(lines)


def query_tertiaire_statuses(client: InfluxClient, reg, year: int, dju_reference: float | None = None):  # noqa: ANN001, ANN201
    """Décret tertiaire status of every subject building for ``year`` from InfluxDB.

    Returns ``(statuses, input_sha256, data_range, dju_reference)`` (used by ``terril report
    tertiaire`` and the portal)."""
    import warnings

    import numpy as np

    from analytics.reports.inputs import InputBundle, query_input_bundle
    from analytics.reports.render import input_hash
    from analytics.reports.tertiaire_report import compute_statuses, reference_years, subject_sites
    from analytics.tertiaire import year_total

    subj = subject_sites(reg)
    current = query_input_bundle(client, reg, [s.id for s in subj], dt.date(year, 1, 1), dt.date(year, 12, 31))
    reference: dict[int, InputBundle] = {}
    for ry in reference_years(subj):
        reference[ry] = query_input_bundle(client, reg, [s.id for s in subj if s.reference_year == ry],
                                           dt.date(ry, 1, 1), dt.date(ry, 12, 31))
    bundles = [current, *reference.values()]
    djus = [year_total(b.dates, b.hdd_k_d, int(str(b.dates[0])[:4]))[0] for b in bundles]
    with warnings.catch_warnings():  # no reference year with weather: NaN, reported as no data
        warnings.simplefilter("ignore", RuntimeWarning)
        dju_ref = dju_reference or float(np.nanmean(djus))
    statuses = compute_statuses(reg, year, reference, current, dju_ref)
    sha = input_hash(*(b.sha256() for b in bundles))
    rng = f"reference years {sorted(reference)}; year {year}"
    return statuses, sha, rng, dju_ref


def _existing_in_span(client: InfluxClient, meter: str, kind: str, station: str | None, field: str,
                      t0: int, t1: int) -> int:
    """How many ``imported`` points of this meter and kind (and station) lie in [t0, t1]."""
    from terril.influx import quote_ident

    where = _span_where(meter, kind, station, t0, t1)
    rows = client.query(f"SELECT count({quote_ident(field)}) FROM imported WHERE {where}")
    return int(rows[0].values[0][1]) if rows and rows[0].values else 0


def _span_where(meter: str, kind: str, station: str | None, t0: int, t1: int) -> str:
    from terril.influx import quote_literal

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
    overwritten = _existing_in_span(client, meter, result.kind, station, result.main_field(), t0, t1)
    if overwritten:
        client.execute(f"DELETE FROM imported WHERE {_span_where(meter, result.kind, station, t0, t1)}")
    written = write_imported(client, result, site=site, meter=meter, source=source, kind=result.kind, station=station)
    return written, overwritten


__all__ = ["imported_points", "query_tertiaire_statuses", "store_import", "write_imported", "write_savings_monthly"]
