"""Shared panel defaults: one factory per panel kind, units, labels in two languages, and the grid layout.

Every factory takes a :class:`Text` title (French and English), a unit from
:data:`UNITS` and InfluxQL targets, and applies the provisioned datasource, so that
no panel can be built without a unit or with another datasource.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

with warnings.catch_warnings():  # the SDK warns at import that dashboard v2 exists; we target the v1 JSON model
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
    from grafana_foundation_sdk.builders import common as common_b
    from grafana_foundation_sdk.builders import dashboard as dashboard_b
    from grafana_foundation_sdk.models import common as common_m
    from grafana_foundation_sdk.models import dashboard as dashboard_m
    from grafana_foundation_sdk.models import units as u

from dashboards.influxql import InfluxQL, datasource_ref

Lang = Literal["fr", "en"]
LANGS: tuple[Lang, ...] = ("fr", "en")
#: Default calendar time zone (the registry's ``[town] timezone`` default). Dashboards display
#: the town's zone and InfluxQL groups days with :func:`tz_clause` of it.
TIMEZONE = "Europe/Paris"


def tz_clause(timezone: str) -> str:
    """The InfluxQL ``tz('…')`` clause of an IANA zone; raises ValueError naming an unknown zone."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(timezone)
    except (ValueError, KeyError, OSError) as err:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {timezone!r}: expected an IANA name such as 'Europe/Paris'") from err
    if "'" in timezone or "\\" in timezone:
        raise ValueError(f"unusable time zone {timezone!r}")
    return f"tz('{timezone}')"


@dataclass(frozen=True)
class Text:
    """A user-facing label in French (default) and English."""

    fr: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.fr if lang == "fr" else self.en


#: Terril unit name -> Grafana unit id (custom suffix units where Grafana has none), per language
UNITS: dict[str, Text] = {
    "wh": Text(u.WattHour, u.WattHour),
    "w": Text(u.Watt, u.Watt),
    "m3": Text(u.CubicMeter, u.CubicMeter),
    "pct": Text(u.Percent, u.Percent),
    "eur": Text(u.Euro, u.Euro),
    "kg": Text(u.Kilogram, u.Kilogram),
    "c": Text(u.Celsius, u.Celsius),
    "k_d": Text("suffix: K·j", "suffix: K·d"),
    "kwh_kwp": Text("suffix: kWh/kWc", "suffix: kWh/kWp"),
    "kwp": Text("suffix: kWc", "suffix: kWp"),
    "wh_m2": Text("suffix: Wh/m²", "suffix: Wh/m²"),
    "ms": Text(u.Milliseconds, u.Milliseconds),
    "s": Text(u.DurationSeconds, u.DurationSeconds),
    "per_s": Text("suffix: /s", "suffix: /s"),
    "count": Text(u.Short, u.Short),
    "roofs": Text("suffix: toits", "suffix: roofs"),
    "ago": Text(u.DateTimeFromNow, u.DateTimeFromNow),
    "none": Text(u.NoUnit, u.NoUnit),
}

GREEN_RED = [dashboard_m.Threshold(None, "green"), dashboard_m.Threshold(1, "red")]
RED_GREEN_PCT = [dashboard_m.Threshold(None, "red"), dashboard_m.Threshold(80, "orange"),
                 dashboard_m.Threshold(95, "green")]


def unit_id(unit: str, lang: Lang) -> str:
    """The Grafana unit id for a Terril unit name (KeyError for an unknown one: every panel needs a unit)."""
    return UNITS[unit].get(lang)


def _thresholds(steps: list[dashboard_m.Threshold] | None) -> dashboard_b.ThresholdsConfig | None:
    if steps is None:
        return None
    return dashboard_b.ThresholdsConfig().mode(dashboard_m.ThresholdsMode.ABSOLUTE).steps(steps)


@dataclass(frozen=True)
class Q:
    """A panel query: InfluxQL text, series alias and result format."""

    query: str
    alias: Text | None = None
    table: bool = False


def _targets(panel, queries: list[Q], lang: Lang):  # noqa: ANN001, ANN202
    for i, q in enumerate(queries):
        panel = panel.with_target(InfluxQL(q.query, ref_id=chr(ord("A") + i),
                                           result_format="table" if q.table else "time_series",
                                           alias=q.alias.get(lang) if q.alias else None))
    return panel


def _common(panel, title: Text, unit: str, queries: list[Q], lang: Lang, description: Text | None,  # noqa: ANN001, ANN202
            time_from: str | None, time_shift: str | None, interval: str | None):
    panel = panel.title(title.get(lang)).datasource(datasource_ref()).unit(unit_id(unit, lang))
    if description is not None:
        panel = panel.description(description.get(lang))
    if time_from:
        panel = panel.time_from(time_from)
    if time_shift:
        panel = panel.time_shift(time_shift)
    if interval:
        panel = panel.interval(interval)
    return _targets(panel, queries, lang)


def series(title: Text, unit: str, queries: list[Q], lang: Lang, *, bars: bool = False, stacked: bool = False,
           description: Text | None = None, time_from: str | None = None, time_shift: str | None = None,
           interval: str | None = None, thresholds: list[dashboard_m.Threshold] | None = None) -> timeseries.Panel:
    """A time series panel; ``bars`` for daily/monthly totals (one bar per local day or month)."""
    panel = timeseries.Panel()
    panel = _common(panel, title, unit, queries, lang, description, time_from, time_shift, interval)
    panel = panel.legend(common_b.VizLegendOptions().show_legend(True)
                         .display_mode(common_m.LegendDisplayMode.LIST).placement(common_m.LegendPlacement.BOTTOM))
    if bars:
        panel = panel.draw_style(common_m.GraphDrawStyle.BARS).fill_opacity(80).line_width(1)
    else:
        panel = panel.draw_style(common_m.GraphDrawStyle.LINE).fill_opacity(10).line_width(1).span_nulls(False)
    if stacked:
        panel = panel.stacking(common_b.StackingConfig().mode(common_m.StackingMode.NORMAL))
    th = _thresholds(thresholds)
    if th is not None:
        panel = panel.thresholds(th)
    return panel


def single(title: Text, unit: str, queries: list[Q], lang: Lang, *, calc: str = "lastNotNull",
           description: Text | None = None, time_from: str | None = None, time_shift: str | None = None,
           thresholds: list[dashboard_m.Threshold] | None = None, decimals: int | None = None) -> stat.Panel:
    """A stat panel (one big number per series)."""
    panel = stat.Panel()
    panel = _common(panel, title, unit, queries, lang, description, time_from, time_shift, None)
    panel = panel.reduce_options(common_b.ReduceDataOptions().calcs([calc]).values(False))
    panel = panel.graph_mode(common_m.BigValueGraphMode.NONE).color_mode(common_m.BigValueColorMode.VALUE)
    if decimals is not None:
        panel = panel.decimals(decimals)
    panel = panel.thresholds(_thresholds(thresholds or [dashboard_m.Threshold(None, "blue")]))
    return panel


def bars_by(title: Text, unit: str, queries: list[Q], lang: Lang, *, calc: str = "lastNotNull",
            description: Text | None = None, time_from: str | None = None, time_shift: str | None = None,
            thresholds: list[dashboard_m.Threshold] | None = None, max_value: float | None = None) -> bargauge.Panel:
    """Horizontal bars, one per series (per building, per technology, per reason ...)."""
    panel = bargauge.Panel()
    panel = _common(panel, title, unit, queries, lang, description, time_from, time_shift, None)
    panel = panel.reduce_options(common_b.ReduceDataOptions().calcs([calc]).values(False))
    panel = panel.orientation(common_m.VizOrientation.HORIZONTAL).display_mode(common_m.BarGaugeDisplayMode.BASIC)
    panel = panel.min(0)
    if max_value is not None:
        panel = panel.max(max_value)
    panel = panel.thresholds(_thresholds(thresholds or [dashboard_m.Threshold(None, "blue")]))
    return panel


def grid(title: Text, unit: str, queries: list[Q], lang: Lang, *, columns: dict[str, str] | None = None,
         description: Text | None = None, time_from: str | None = None,
         mappings: list[dashboard_m.ValueMapping] | None = None) -> table.Panel:
    """A table panel; ``columns`` maps a column name to its own unit (overrides the panel unit)."""
    panel = table.Panel()
    panel = _common(panel, title, unit, queries, lang, description, time_from, None, None)
    for name, col_unit in sorted((columns or {}).items()):
        panel = panel.override_by_name(name, [dashboard_m.DynamicConfigValue("unit", unit_id(col_unit, lang))])
    if mappings:
        panel = panel.mappings(mappings)
    return panel


class Layout:
    """Assigns stable panel ids and grid positions in order (24 columns wide)."""

    def __init__(self) -> None:
        self.x = 0
        self.y = 0
        self.row_h = 0
        self.next_id = 1
        self.items: list[tuple[str, object]] = []

    def row(self, title: Text, lang: Lang) -> None:
        self._newline()
        self.items.append(("row", dashboard_b.Row(title.get(lang)).id(self.next_id)
                           .grid_pos(dashboard_m.GridPos(1, 24, 0, self.y))))
        self.next_id += 1
        self.y += 1

    def add(self, panel, w: int = 12, h: int = 8) -> None:  # noqa: ANN001
        if self.x + w > 24:
            self._newline()
        self.items.append(("panel", panel.id(self.next_id).grid_pos(dashboard_m.GridPos(h, w, self.x, self.y))))
        self.next_id += 1
        self.x += w
        self.row_h = max(self.row_h, h)

    def _newline(self) -> None:
        if self.x:
            self.y += self.row_h
        self.x = 0
        self.row_h = 0

    def apply(self, dash: dashboard_b.Dashboard) -> dashboard_b.Dashboard:
        for kind, item in self.items:
            dash = dash.with_row(item) if kind == "row" else dash.with_panel(item)  # type: ignore[arg-type]
        return dash


def new_dashboard(uid: str, title: Text, lang: Lang, *, time_from: str, tags: list[str],
                  description: Text | None = None, refresh: str = "5m",
                  timezone: str = TIMEZONE) -> dashboard_b.Dashboard:
    """A dashboard with Terril's defaults: the town's time zone, read-only (provisioned), stable uid."""
    dash = (dashboard_b.Dashboard(title.get(lang)).uid(uid).tags(["terril", *tags]).timezone(timezone)
            .time(time_from, "now").refresh(refresh).readonly().week_start("monday")
            .tooltip(dashboard_m.DashboardCursorSync.CROSSHAIR))
    if description is not None:
        dash = dash.description(description.get(lang))
    return dash


def query_variable(name: str, label: Text, query: str, lang: Lang, *, multi: bool = False,
                   include_all: bool = False) -> dashboard_b.QueryVariable:
    """A template variable filled by an InfluxQL ``SHOW TAG VALUES`` query."""
    var = (dashboard_b.QueryVariable(name).label(label.get(lang)).datasource(datasource_ref()).query(query)
           .definition(query).refresh(dashboard_m.VariableRefresh.ON_DASHBOARD_LOAD)
           .sort(dashboard_m.VariableSort.ALPHABETICAL_ASC).multi(multi).include_all(include_all))
    if include_all:
        var = var.current(dashboard_m.VariableOption(selected=True, text="All", value="$__all"))
    return var
