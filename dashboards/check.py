"""Run every panel, variable, annotation and alert-rule query of the dashboards against InfluxDB, as Grafana would.

Variables are resolved first, in order (a variable may use the ones before it): a
multi-value or include-all variable selects all its values (Grafana's "All"), a
single-value one its first value. Every query is then substituted (:mod:`dashboards.macros`)
with the panel's effective time range and sent to ``/query`` with ``epoch=ms``. The check
fails on any error, on a variable without values, and on a panel whose queries return no
row with a value. Alert-rule queries must run; returning nothing is their normal state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from dashboards import macros
from dashboards.macros import TimeRange, Variable
from terril.errors import InfluxError
from terril.influx import InfluxClient, Series

Kind = Literal["variable", "panel", "annotation", "alert"]
#: Resolution Grafana would use for a panel about 1000 px wide (maxDataPoints)
MAX_DATA_POINTS = 1000
#: The datasource's minimum interval (provisioned ``timeInterval``): the collector reports every 10 s
MIN_INTERVAL_MS = 10_000


@dataclass(frozen=True)
class QueryResult:
    """One query as run: where it comes from, the text sent, rows with a value, and the error, if any."""

    dashboard: str
    item: str  # panel title, variable name, annotation name or alert rule uid
    item_id: int | None
    kind: Kind
    ref_id: str
    query: str
    rows: int
    error: str | None = None


@dataclass
class CheckReport:
    """Every query run, and what failed."""

    results: list[QueryResult] = field(default_factory=list)

    def failures(self) -> list[str]:
        out = [f"{r.dashboard} / {r.kind} {r.item!r} {r.ref_id}: {r.error}" for r in self.results if r.error]
        panels: dict[tuple[str, int | None, str], int] = {}
        for r in self.results:
            if r.kind == "panel" and not r.error:
                key = (r.dashboard, r.item_id, r.item)
                panels[key] = panels.get(key, 0) + r.rows
            if r.kind == "variable" and not r.error and r.rows == 0:
                out.append(f"{r.dashboard} / variable {r.item!r}: no values")
        out += [f"{d} / panel {pid} {title!r}: no data" for (d, pid, title), rows in panels.items() if rows == 0]
        return out

    def panel_rows(self) -> list[tuple[str, str, int]]:
        """(dashboard, panel, rows) per panel, in order (for ``--report``)."""
        out: dict[tuple[str, int | None, str], int] = {}
        for r in self.results:
            if r.kind == "panel":
                key = (r.dashboard, r.item_id, r.item)
                out[key] = out.get(key, 0) + r.rows
        return [(d, title, rows) for (d, _pid, title), rows in out.items()]


def count_rows(series: Iterable[Series]) -> int:
    """Rows that carry at least one non-null value besides time."""
    n = 0
    for s in series:
        skip = {i for i, c in enumerate(s.columns) if c == "time"}
        for row in s.values:
            if any(v is not None for i, v in enumerate(row) if i not in skip):
                n += 1
    return n


def _variable_values(series: list[Series]) -> list[str]:
    values: list[str] = []
    for s in series:
        col = s.columns.index("value") if "value" in s.columns else len(s.columns) - 1
        for row in s.values:
            v = str(row[col])
            if v not in values:
                values.append(v)
    return values


class Checker:
    """Runs queries on one InfluxDB database at a fixed ``now`` (the dashboards' ``now``)."""

    def __init__(self, client: InfluxClient, now: dt.datetime | None = None) -> None:
        self.client = client
        self.now_utc = now or dt.datetime.now(dt.timezone.utc)
        self.report = CheckReport()

    def _run(self, dashboard: str, item: str, item_id: int | None, kind: Kind, ref_id: str, query: str,
             r: TimeRange, interval_ms: int, variables: dict[str, Variable]) -> list[Series]:
        try:
            text = macros.substitute(query, r, interval_ms, variables)
            # InfluxDB evaluates now() at its own clock; the check evaluates every query at its instant
            text = text.replace("now()", f"{int(self.now_utc.timestamp() * 1000)}ms")
        except (KeyError, ValueError) as err:
            self.report.results.append(QueryResult(dashboard, item, item_id, kind, ref_id, query, 0, str(err)))
            return []
        try:
            series = self.client.query(text, epoch="ms")
        except InfluxError as err:
            self.report.results.append(QueryResult(dashboard, item, item_id, kind, ref_id, text, 0, err.message))
            return []
        self.report.results.append(QueryResult(dashboard, item, item_id, kind, ref_id, text, count_rows(series)))
        return series

    def check_dashboard(self, model: dict[str, Any]) -> None:
        """Variables, annotations and panels of one dashboard JSON model."""
        uid = str(model.get("uid", "?"))
        tz = macros.zone(str(model.get("timezone", "utc")))
        now = self.now_utc.astimezone(tz)
        time = model.get("time", {"from": "now-6h", "to": "now"})
        dash_range = macros.time_range(time["from"], time["to"], now)
        dash_interval = macros.calculate_interval_ms(dash_range, MAX_DATA_POINTS, MIN_INTERVAL_MS)
        variables: dict[str, Variable] = {}
        for var in model.get("templating", {}).get("list", []):
            name = var["name"]
            if var.get("type") != "query":
                raise ValueError(f"{uid}: variable {name!r} of type {var.get('type')!r} is not supported by the check")
            series = self._run(uid, name, None, "variable", "", str(var["query"]), dash_range, dash_interval, variables)
            values = _variable_values(series)
            if var.get("sort") in (1, 5, 7):
                values.sort()
            # the result row count of a variable is its number of values
            last = self.report.results[-1]
            if not last.error:
                self.report.results[-1] = QueryResult(last.dashboard, last.item, None, "variable", "", last.query,
                                                      len(values))
            multi = bool(var.get("multi") or var.get("includeAll"))
            selected = values if multi else values[:1]
            variables[name] = Variable(name, tuple(selected), multi)
        for ann in model.get("annotations", {}).get("list", []):
            target = ann.get("target") or {}
            if "query" in target:
                self._run(uid, ann.get("name", "?"), None, "annotation", target.get("refId", "Anno"), target["query"],
                          dash_range, dash_interval, variables)
        for panel in _panels(model.get("panels", [])):
            r = macros.panel_range(time["from"], time["to"], now, panel.get("timeFrom"), panel.get("timeShift"))
            min_ms = macros.parse_duration_ms(panel["interval"]) if panel.get("interval") else MIN_INTERVAL_MS
            interval = macros.calculate_interval_ms(r, int(panel.get("maxDataPoints") or MAX_DATA_POINTS), min_ms)
            for t in panel.get("targets", []):
                if t.get("hide"):
                    continue
                self._run(uid, panel.get("title", "?"), panel.get("id"), "panel", t.get("refId", "A"), t["query"],
                          r, interval, variables)

    def check_alerting(self, provisioning: dict[str, Any]) -> None:
        """The InfluxQL queries of every provisioned alert rule, over their relative time ranges."""
        now_ms = int(self.now_utc.timestamp() * 1000)
        for group in provisioning.get("groups", []):
            for rule in group.get("rules", []):
                for d in rule.get("data", []):
                    if d.get("datasourceUid") == "__expr__":
                        continue
                    rel = d.get("relativeTimeRange", {})
                    r = TimeRange(now_ms - int(rel.get("from", 600)) * 1000, now_ms - int(rel.get("to", 0)) * 1000)
                    model = d["model"]
                    interval = macros.calculate_interval_ms(r, int(model.get("maxDataPoints", 43_200)),
                                                            int(model.get("intervalMs", 1000)))
                    self._run(str(group.get("name")), str(rule.get("uid")), None, "alert", d["refId"],
                              model["query"], r, interval, {})


def _panels(panels: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for p in panels:
        if p.get("type") == "row":
            yield from _panels(p.get("panels", []))  # collapsed rows keep their panels inside
        else:
            yield p


def check_all(client: InfluxClient, dashboards: Iterable[dict[str, Any]], alerting: dict[str, Any] | None = None,
              now: dt.datetime | None = None) -> CheckReport:
    """Check every dashboard model (and the alerting provisioning) against ``client``'s database."""
    checker = Checker(client, now)
    for model in dashboards:
        checker.check_dashboard(model)
    if alerting is not None:
        checker.check_alerting(alerting)
    return checker.report
