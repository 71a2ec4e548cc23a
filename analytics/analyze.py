"""One analytics run: rollups, quality ledger, weather, baselines, drift, PV performance, rollout and alerts.

Incremental by default: the run looks for readings received since the previous run
(``received_ns`` above the high-water mark kept in ``<data_dir>/analytics/state.json``),
and recomputes every window they touch — from the local start of the month of the
earliest touched reading, so late or back-filled data updates hourly, daily and monthly
figures alike. ``since`` forces a recomputation from a date.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from analytics.jobs.alerts import AlertRecord, alert_point, alerts_payloads, merge_alerts, query_alerts
from analytics.jobs.drift import run_drift, run_silent
from analytics.jobs.rollups import MeterRollup, month_start_ns, rollup_meter
from analytics.jobs.weather import run_weather
from terril.carriers import CARRIERS
from terril.influx import InfluxClient
from terril.registry import Registry
from terril.settings import PricesSettings
from terril.timeutil import NS_PER_S, now_ns

LOOKBACK_NS = 400 * 86_400 * NS_PER_S


@dataclass
class AnalyzeReport:
    """What one run did (printed by ``terril analyze``, JSON with ``--json``)."""

    window_start_ns: int | None = None
    window_end_ns: int = 0
    meters_rolled_up: int = 0
    rollup_points: int = 0
    counter_events: int = 0
    weather_days: int = 0
    baselines_fitted: dict[str, str] = field(default_factory=dict)
    baselines_skipped: dict[str, str] = field(default_factory=dict)
    alerts_open: int = 0
    alerts_new: int = 0
    alerts: list[dict[str, object]] = field(default_factory=list)
    nothing_new: bool = False
    pv_arrays: int = 0
    step_notes: dict[str, str] = field(default_factory=dict)  # meter -> data coarser than its declared step


def _state_path(data_dir: Path, database: str) -> Path:
    return data_dir / "analytics" / f"state-{database}.json"


def read_high_water(data_dir: Path, database: str) -> int:
    try:
        return int(json.loads(_state_path(data_dir, database).read_text())["received_ns"])
    except (OSError, ValueError, KeyError):
        return 0


def write_high_water(data_dir: Path, database: str, received_ns: int) -> None:
    path = _state_path(data_dir, database)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"received_ns": received_ns}))
    os.replace(tmp, path)


def touched_since(client: InfluxClient, high_water_ns: int, end_ns: int) -> tuple[dict[str, int], int]:
    """Per meter, the earliest reading time received after ``high_water_ns``; and the new high-water mark."""
    q = (f"SELECT first(received_ns) FROM reading WHERE received_ns > {int(high_water_ns)} "
         f"AND time >= {int(end_ns - LOOKBACK_NS)} AND time < {int(end_ns)} GROUP BY meter")
    earliest = {s.tags["meter"]: int(s.values[0][0]) for s in client.query(q) if s.values}
    q2 = (f"SELECT max(received_ns) FROM reading WHERE time >= {int(end_ns - LOOKBACK_NS)} "
          f"AND time < {int(end_ns)}")
    mark = high_water_ns
    for s in client.query(q2):
        if s.values and s.values[0][1] is not None:
            mark = max(mark, int(s.values[0][1]))
    return earliest, mark


def analyze(client: InfluxClient, registry: Registry, data_dir: Path, *, since_ns: int | None = None,
            end_ns: int | None = None, site: str | None = None,
            progress: Callable[[str], None] | None = None, prices: PricesSettings | None = None) -> AnalyzeReport:
    """Run the analytics once (see module docstring) and return what it did."""
    end = end_ns if end_ns is not None else now_ns()
    report = AnalyzeReport(window_end_ns=end)
    high_water = read_high_water(data_dir, client.database)
    meters = [m for m in registry.meters if site is None or m.site == site]
    if since_ns is not None:
        starts = {m.id: since_ns for m in meters}
        _, mark = touched_since(client, high_water, end)
    else:
        earliest, mark = touched_since(client, high_water, end)
        starts = {m.id: earliest[m.id] for m in meters if m.id in earliest}
    if not starts:
        report.nothing_new = True
        return report
    report.window_start_ns = min(month_start_ns(t) for t in starts.values())
    rollups: dict[str, MeterRollup] = {}
    for m in meters:
        if m.id not in starts or m.carrier not in CARRIERS:
            continue
        if progress:
            progress(f"rollups {m.id}")
        r = rollup_meter(client, registry, m, starts[m.id], end)
        rollups[m.id] = r
        if r.step_note:
            report.step_notes[m.id] = r.step_note
        report.meters_rolled_up += 1
        report.rollup_points += r.points_written
        report.counter_events += r.events
    if progress:
        progress("weather and degree days")
    weather = run_weather(client, registry, report.window_start_ns, end)
    report.weather_days = 0 if weather is None else int(weather.day_start_ns.size)
    if progress:
        progress("baselines and drift")
    prices = prices or PricesSettings()
    drift = run_drift(client, registry, end, rollups=rollups, prices=prices,
                      meters=[m for m in meters if m.carrier in ("electricity", "gas", "heat", "water")])
    report.baselines_fitted = drift.fitted
    report.baselines_skipped = drift.skipped
    found: list[AlertRecord] = list(drift.alerts)
    # silent meters over the window (at least the last 60 days): past gaps are raised and closed
    silent_start = min(report.window_start_ns, end - 60 * 86_400 * NS_PER_S)
    # the rollups read the readings of their window: a meter's whose window is the silent check's is not read again
    known = {m: r.reading_times_ns for m, r in rollups.items() if r.window_start_ns == silent_start}
    found += [a for a in run_silent(client, registry, silent_start, end, prices=prices, reading_times=known)
              if site is None or a.site == site]
    if registry.pv_arrays and (site is None or any(a.site == site for a in registry.pv_arrays)):
        if progress:
            progress("PV performance and rollout")
        from analytics.pv.jobs import run_pv, run_rollout

        pv = run_pv(client, registry, report.window_start_ns, end)
        run_rollout(client, registry, report.window_start_ns, end)
        report.pv_arrays = len(pv.arrays)
    existing = query_alerts(client)
    merged = merge_alerts(existing, found)
    known = {a.alert_id for a in existing}
    # a silent or stuck meter that is no longer found is back to normal: its open alert resolves itself
    still = {a.alert_id for a in merged}
    analysed = {m.id for m in meters}
    merged += [replace(a, state="resolved") for a in existing
               if a.kind in ("silent", "stuck") and a.state != "resolved" and a.alert_id not in still
               and a.meter in analysed]
    report.alerts_new = sum(1 for a in merged if a.alert_id not in known)
    client.write_points([alert_point(a) for a in merged])
    current = query_alerts(client, site=site)
    report.alerts_open = sum(1 for a in current if a.state == "open")
    report.alerts = [a.as_json() for a in current if a.state != "resolved"]
    write_high_water(data_dir, client.database, mark)
    return report


def publish_alerts(publish: Callable[[str, bytes], None], client: InfluxClient, registry: Registry) -> int:
    """Publish each meter's open alerts as a retained JSON message; returns the number of messages."""
    current = query_alerts(client)
    meters = [(m.site, m.id) for m in registry.meters]
    n = 0
    for topic, payload in alerts_payloads(current, meters):
        publish(topic, payload)
        n += 1
    return n
