"""`terril dashboards check` against real InfluxDB: every panel, variable, annotation and alert query runs, every panel has data.

The database is filled with (a) raw data through the real pipeline (simulated native
telemetry -> collector.mapping.Pipeline -> line protocol), plus a message from an unknown
device (quarantine) and status messages (device_status), and (b) the SAMPLE derived points
of dashboards/samples.py for the measurements analytics writes (to be replaced by the real
analytics output once those jobs exist).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from collector.mapping import Pipeline
from collector.quarantine import rejection_point
from dashboards.alerting import alerting_provisioning
from dashboards.build import DASHBOARDS, dashboard_model
from dashboards.check import check_all
from dashboards.samples import write_sample_derived
from firmware_sim.simple import native_plan
from terril.lineprotocol import format_point
from terril.readings import Point
from terril.registry import Registry, load_registry
from terril.timeutil import NS_PER_S, PARIS, local_midnight_ns

pytestmark = pytest.mark.integration


def all_native(registry: Registry) -> Registry:
    """The registry with every device speaking Terril's native format (what native_plan simulates)."""
    devices = tuple(d.model_copy(update={"format": "native", "topic": None}) for d in registry.devices)
    return dataclasses.replace(registry, devices=devices)


def fill(client, registry, now_ns: int) -> None:  # noqa: ANN001
    registry = all_native(registry)
    pipeline = Pipeline(registry)
    points: list[Point] = []
    raw_start = now_ns - 2 * 86_400 * NS_PER_S
    for msg in native_plan(registry, raw_start, now_ns, seed=1):
        out = pipeline.process(msg.topic, msg.payload, msg.time_ns + 2 * NS_PER_S)
        assert out.rejection is None, out.rejection
        points += out.points
    for d in registry.devices[:5]:
        out = pipeline.process(f"terril/{d.site}/{d.id}/status", b"online", now_ns - 3600 * NS_PER_S)
        points += out.points
    unknown = pipeline.process("terril/mairie/not-in-registry/telemetry", b'{"power_w": 1}', now_ns - 600 * NS_PER_S)
    assert unknown.rejection is not None and unknown.rejection.reason == "unknown_device"
    points.append(rejection_point(unknown.rejection))
    client.write_points(points)
    # derived measurements from Jan 1 of last year: year to date and the same period last year have data
    this_year = dt.datetime.fromtimestamp(now_ns / NS_PER_S, PARIS).year
    write_sample_derived(client, registry, local_midnight_ns(dt.date(this_year - 1, 1, 1)), now_ns)


def test_every_query_runs_and_every_panel_has_data(influx_db) -> None:  # noqa: ANN001
    registry = load_registry()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    now_ns = int(now.timestamp()) * NS_PER_S
    fill(influx_db, registry, now_ns)
    models = [dashboard_model(d, "fr") for d in DASHBOARDS]
    report = check_all(influx_db, models, alerting_provisioning("fr"), now=now)
    assert report.failures() == []
    kinds = {r.kind for r in report.results}
    assert kinds == {"variable", "panel", "annotation", "alert"}
    n_panels = sum(1 for m in models for p in m["panels"] if p["type"] != "row")
    assert len(report.panel_rows()) == n_panels
    assert all(rows > 0 for _, _, rows in report.panel_rows())
    # the alert rules find the sample's open alerts (drift, silent, pv_offline), and no collector is down
    alert_rows = {r.item: r.rows for r in report.results if r.kind == "alert"}
    assert alert_rows["terril-drift-open"] > 0 and alert_rows["terril-silent-meter"] > 0
    assert alert_rows["terril-pv-offline"] > 0 and alert_rows["terril-collector-down"] > 0
    # the command does the same, with its report table
    from typer.testing import CliRunner

    from terril.cli.dashboards import dashboards_app

    result = CliRunner().invoke(dashboards_app, ["check", "--influx-url", influx_db.url, "--database",
                                                 influx_db.database, "--report", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    assert "every panel has data" in result.output and "terril-collector" in result.output


def test_alert_queries_also_work_with_state_as_a_field(influx_db) -> None:  # noqa: ANN001
    """analytics/jobs/alerts.py stores ``state`` as a field and ``alert_id`` as a tag (docs/schema.md: the reverse)."""
    now_ns = int(dt.datetime.now(dt.timezone.utc).timestamp()) * NS_PER_S
    point = Point("alert", {"site": "mairie", "meter": "mairie-elec", "kind": "drift_up", "alert_id": "abc123"},
                  {"state": "open", "onset_ns": now_ns - 86_400 * NS_PER_S, "title_fr": "Dérive", "title_en": "Drift"},
                  now_ns - 86_400 * NS_PER_S)
    influx_db.write_lines((format_point(point) + "\n").encode())
    report = check_all(influx_db, [], alerting_provisioning("fr"))
    rows = {r.item: r.rows for r in report.results}
    assert report.failures() == [] and rows["terril-drift-open"] == 1 and rows["terril-silent-meter"] == 0


def test_check_fails_on_an_empty_database(influx_db) -> None:  # noqa: ANN001
    models = [dashboard_model(d, "en") for d in DASHBOARDS]
    report = check_all(influx_db, models)
    failures = report.failures()
    assert any("variable 'site': no values" in f for f in failures)
    assert any("no data" in f for f in failures)


def test_check_reports_a_query_error(influx_db) -> None:  # noqa: ANN001
    model = dashboard_model(DASHBOARDS[0], "fr")
    model["panels"][1]["targets"][0]["query"] = 'SELECT sum("consumption_wh") FROM "consumption_daily" WHERE $timeFilter GROUP BY'
    report = check_all(influx_db, [model])
    assert any("error parsing query" in f or "InfluxDB query error" in f for f in report.failures())


def test_daily_bars_are_the_towns_local_days(influx_db) -> None:  # noqa: ANN001
    """Run as Grafana would, the town dashboard's daily bars built for Indian/Reunion are La Réunion's days:
    one bar per local day, starting at its local midnight (Paris grouping would start them 3 h earlier)."""
    from zoneinfo import ZoneInfo

    from dashboards import macros
    from dashboards.check import _panels

    reunion = ZoneInfo("Indian/Reunion")
    days = [dt.date(2026, 1, 10) + dt.timedelta(days=i) for i in range(3)]
    midnights_ms = [int(dt.datetime(d.year, d.month, d.day, tzinfo=reunion).timestamp() * 1000) for d in days]
    lines = [format_point(Point("consumption_daily", {"site": "ecole", "meter": "ecole-elec", "carrier": "electricity"},
                                {"consumption_wh": 1000.0 * (i + 1), "coverage_pct": 100.0}, ms * 1_000_000))
             for i, ms in enumerate(midnights_ms)]
    influx_db.write_lines(("\n".join(lines) + "\n").encode())
    town = next(d for d in DASHBOARDS if d.uid == "terril-town")
    r = macros.TimeRange(midnights_ms[0] - 86_400_000, midnights_ms[-1] + 2 * 86_400_000)

    def bars(zone: str) -> list[tuple[int, float]]:
        panel = next(p for p in _panels(dashboard_model(town, "en", zone)["panels"])
                     if p.get("title") == "Daily consumption by carrier")
        series = influx_db.query(macros.substitute(panel["targets"][0]["query"], r, 86_400_000, {}), epoch="ms")
        return [(int(v[0]), float(v[1])) for s in series for v in s.values]

    assert bars("Indian/Reunion") == [(ms, 1000.0 * (i + 1)) for i, ms in enumerate(midnights_ms)]
    assert [t for t, _ in bars("Europe/Paris")] != midnights_ms
