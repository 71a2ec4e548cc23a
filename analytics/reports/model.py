"""The report model: a report as frozen values, independent of its output format.

A builder turns figures computed elsewhere into a :class:`Report` (already translated
strings, plain values in tables, drawing callbacks for charts); the renderers in
:mod:`analytics.reports.render` write it as PDF, XLSX, CSV or JSON. Every report carries
the metadata needed to reproduce it (data range, sha256 of the inputs, model parameters,
software version, generation time): see :func:`report_metadata`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import matplotlib.axes

import terril

_SNAKE = re.compile(r"[a-z][a-z0-9_]*")

#: Metadata keys every report carries (in this order), see :func:`report_metadata`.
METADATA_KEYS: tuple[str, ...] = (
    "data_range",
    "input_sha256",
    "model_parameters",
    "software_version",
    "generated_at",
)


@dataclass(frozen=True)
class Table:
    """A table of plain values.

    Attributes
    ----------
    key : str
        Stable id (``per_building``); names the XLSX sheet and the CSV file.
    title : str
        Already translated title.
    columns : tuple of str
        Already translated headers, unit in brackets: ``"Consommation [kWh]"``.
    rows : tuple of tuple
        Plain values: ``str``, ``int``, ``float``, ``datetime.date``, ``bool`` or ``None``.
    notes : str
        Optional note printed under the table.
    column_keys : tuple of str
        Stable snake_case id of each column, unit in the name (``actual_kwh``): the keys of the
        JSON rows. Default ``col_1``, ``col_2``, ... when a builder gives none.
    """

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    notes: str = ""
    column_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.key!r}: row {i} has {len(row)} values for {len(self.columns)} columns")
        if self.column_keys:
            if len(self.column_keys) != len(self.columns):
                raise ValueError(f"table {self.key!r}: {len(self.column_keys)} column keys for {len(self.columns)} columns")
            bad = [k for k in self.column_keys if not _SNAKE.fullmatch(k)]
            if bad or len(set(self.column_keys)) != len(self.column_keys):
                raise ValueError(f"table {self.key!r}: column keys must be distinct snake_case ids, got {bad or self.column_keys}")

    @property
    def keys(self) -> tuple[str, ...]:
        """The column keys (``col_<n>`` when none were given)."""
        return self.column_keys or tuple(f"col_{j + 1}" for j in range(len(self.columns)))


@dataclass(frozen=True)
class Figure:
    """A chart: a title and a function that draws on the Axes it is given (pure, no I/O).

    Attributes
    ----------
    key : str
        Stable id.
    title : str
        Already translated title.
    draw : callable
        ``draw(ax)`` draws the chart on a matplotlib Axes.
    height_in : float
        Height of the chart on an A4 page (PDF only). [in]
    half : bool
        Half the page width (PDF only): two consecutive half figures share a row.
    """

    key: str
    title: str
    draw: Callable[[matplotlib.axes.Axes], None]
    height_in: float = 3.0
    half: bool = False


@dataclass(frozen=True)
class Section:
    """A titled part of a report: paragraphs, then figures, then tables (in the PDF)."""

    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    #: Keys of tables the PDF draws before the others (the other formats keep ``tables``' order).
    pdf_first: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """A whole report.

    Attributes
    ----------
    kind : str
        ``savings``, ``tertiaire``, ``pv``, ...
    lang : str
        ``fr`` or ``en``.
    title, subtitle : str
        Already translated.
    summary : Section
        The page a mayor can read (on the title page of the PDF).
    sections : tuple of Section
        The rest, in order.
    metadata : dict of str to str
        Reproducibility record; at least the keys of :data:`METADATA_KEYS`.
    data : mapping, optional
        The report's figures as machine-readable data (snake_case keys, numbers as numbers,
        codes rather than labels), written under ``data`` by the JSON renderer; its shape is
        the report kind's JSON Schema (``analytics/reports/schemas/<kind>.schema.json``).
    """

    kind: str
    lang: str
    title: str
    subtitle: str
    summary: Section
    sections: tuple[Section, ...]
    metadata: dict[str, str] = field(default_factory=dict)
    data: Mapping[str, object] | None = None

    def all_tables(self) -> tuple[Table, ...]:
        """Every table, summary first, in document order."""
        out = list(self.summary.tables)
        for s in self.sections:
            out.extend(s.tables)
        return tuple(out)


def report_metadata(
    *,
    data_range: str,
    input_sha256: str,
    model_parameters: str,
    generated_at: dt.datetime | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The standard metadata of a report.

    Parameters
    ----------
    data_range : str
        The data used, e.g. ``"baseline 2023-09-01..2024-08-31; reporting 2024-09-01..2025-08-31"``.
    input_sha256 : str
        :func:`analytics.reports.render.input_hash` of the input arrays.
    model_parameters : str
        The fitted parameters (compact JSON text), enough to recompute the figures.
    generated_at : datetime, optional
        Generation time (default: now, UTC). Pass a fixed value for reproducible files.
    extra : mapping, optional
        More key/value pairs (strings), appended after the standard ones.
    """
    when = generated_at or dt.datetime.now(dt.timezone.utc)
    out = {
        "data_range": data_range,
        "input_sha256": input_sha256,
        "model_parameters": model_parameters,
        "software_version": f"terril {terril.__version__}",
        "generated_at": when.replace(microsecond=0).isoformat(),
    }
    for k, v in (extra or {}).items():
        out[str(k)] = str(v)
    return out


__all__ = ["METADATA_KEYS", "Figure", "Report", "Section", "Table", "report_metadata"]
