"""Historic imports: parse and validate the files an energy manager has — utility exports
(Enedis, GRDF), Météo-France weather, invoices and generic ``time;value`` CSV — into values for
the ``imported`` measurement. Pure: bytes in, an :class:`ImportResult` out (no I/O).

One module per source (:mod:`.enedis`, :mod:`.grdf`, :mod:`.meteofrance`), the first layouts
(:mod:`.legacy`, including the generic CSV), format detection (:mod:`.detect`) and the user's
messages in French and English (:mod:`.messages`). Formats and conventions are described in
``docs/savings.md`` § Historic import.
"""

from __future__ import annotations

import datetime as dt

from terril.errors import ImportFileError

from . import enedis, grdf, meteofrance
from .core import (ACCEPTED_UNITS, NS, REASONS, ImportedValue, ImportResult, Rejected, decompress, parse_number,
                   parse_time)
from .detect import FORMATS, detect_format
from .legacy import LAYOUTS, parse_layout

#: Every ``--kind``: ``auto`` (detect), the formats of the portals, and the first layouts.
KINDS: tuple[str, ...] = ("auto",) + FORMATS + LAYOUTS


def parse_import(data: bytes, kind: str = "auto", *, tz: dt.tzinfo, unit: str | None = None,
                 kwh_per_m3: float | None = None, step_min: float | None = None,
                 station: str | None = None) -> ImportResult:
    """Parse and validate one file.

    Parameters
    ----------
    data : bytes
        The file's content (UTF-8 with or without BOM, Windows-1252, or gzipped).
    kind : str
        One of :data:`KINDS`; ``auto`` detects the format (:func:`detect_format`).
    tz : tzinfo
        The town's time zone (registry ``[town] timezone``), given by the command layer: local
        dates (daily values, Météo-France ``AAAAMMJJ``, GRDF gas days from 06:00) and times
        without an offset are placed in it; times with an offset keep theirs.
    unit : str, optional
        Unit of the values when the file names none (kWh, MWh, Wh, W, kW, m3, therm, °C).
    kwh_per_m3 : float, optional
        Gas conversion coefficient for volumes given without one. [kWh/m³]
    step_min : float, optional
        Load-curve interval (default: from the file). [min]
    station : str, optional
        Weather station id to keep from a file that holds several.

    Raises
    ------
    terril.errors.ImportFileError
        The file cannot be read as a whole (unknown kind or format, missing column, wrong
        delimiter, unknown unit, several stations); ``reason`` says which.
    """
    if kind not in KINDS:
        raise ImportFileError("unknown_kind", f"unknown import kind {kind!r}: expected one of {', '.join(KINDS)}",
                              kind=kind, kinds=", ".join(KINDS))
    data = decompress(data)
    fmt = detect_format(data) if kind == "auto" else kind
    if fmt == "enedis_md_load_curve":
        return enedis.parse_md_load_curve(data, tz=tz, step_min=step_min, unit=unit)
    if fmt == "enedis_md_daily":
        return enedis.parse_md_daily(data, tz=tz, unit=unit)
    if fmt == "enedis_md_index":
        return enedis.parse_md_index(data, tz=tz, unit=unit)
    if fmt == "enedis_dc_json":
        return enedis.parse_dc_json(data, tz=tz)
    if fmt == "enedis_sge_xml":
        return enedis.parse_sge_xml(data, tz=tz)
    if fmt == "grdf_xlsx":
        return grdf.parse_xlsx(data, tz=tz, kwh_per_m3=kwh_per_m3)
    if fmt == "grdf_json":
        return grdf.parse_json(data, tz=tz, kwh_per_m3=kwh_per_m3)
    if fmt == "grdf_adict":
        return grdf.parse_adict(data, tz=tz, kwh_per_m3=kwh_per_m3)
    if fmt in ("meteofrance_daily", "meteofrance_hourly"):
        return meteofrance.parse_climatology(data, tz=tz, station=station)
    if fmt == "meteofrance_synop":
        return meteofrance.parse_synop(data, tz=tz, station=station)
    res = parse_layout(data, fmt, tz=tz, unit=unit, kwh_per_m3=kwh_per_m3, step_min=step_min)
    if station and res.kind == "temperature":
        return ImportResult(res.kind, res.unit, res.rows_read, res.values, res.rejected, res.gaps, res.step_s,
                            res.ambiguous_times, res.notes, res.format, station, res.carriers)
    return res


__all__ = ["ACCEPTED_UNITS", "FORMATS", "ImportFileError", "ImportResult", "ImportedValue", "KINDS", "NS", "REASONS",
           "Rejected", "detect_format", "parse_import", "parse_number", "parse_time"]
