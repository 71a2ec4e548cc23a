"""PV jobs against the real InfluxDB: readings in, pv_daily / pv_site_daily / alerts / rollout out; CLI and report."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from analytics.jobs.alerts import query_alerts
from analytics.pv.jobs import query_pv_daily, query_pv_site_daily, query_rollout, run_pv, run_rollout
from analytics.pv.rollout import rollout_status_data
from pv_helpers import reading_points, simulate, to_toml
from terril.cli.pv import pv_app, rollout_app
from terril.influx import InfluxClient
from terril.registry import DEMO_REGISTRY_PATH, load_registry, parse_registry
from terril.timeutil import local_date, local_midnight_ns

NS_DAY = 86_400 * 10**9
# the sub-apps registered as terril/cli.py registers them
APP = typer.Typer()
APP.add_typer(rollout_app, name="rollout")
APP.add_typer(pv_app, name="pv")


def _registry_data(sites: set[str], dates: dict[str, dt.date] | None = None) -> dict:
    """The demo registry restricted to ``sites`` (arrays recommissioned on ``dates``)."""
    data = tomllib.loads(DEMO_REGISTRY_PATH.read_text(encoding="utf-8"))
    out = {"town": data["town"]}
    for key in ("sites", "meters", "devices", "pv_arrays", "planned_roofs"):
        rows = [r for r in data.get(key, []) if (r["id"] if key == "sites" else r["site"]) in sites]
        if key == "pv_arrays" and dates is not None:
            rows = [dict(r, commissioned=dates[r["id"]]) for r in rows if r["id"] in dates]
        out[key] = rows
    return out


def _write_sim(client: InfluxClient, chunk, carriers=("pv", "electricity", "weather")) -> int:
    pts = [p for p in reading_points(chunk) if p.tags["carrier"] in carriers]
    return client.write_points(pts)


@pytest.mark.integration
def test_pv_job_writes_daily_site_and_alerts(influx_db: InfluxClient) -> None:
    reg = parse_registry(_registry_data({"ctm", "station-meteo"}))
    onset = dt.date(2024, 5, 27)
    sim, ch = simulate(reg, dt.date(2024, 4, 1), dt.date(2024, 6, 16), seed=6,
                       faults=[{"kind": "pv_string_failure", "meter": "ctm-toiture-pv", "start": onset, "pct": 20}])
    assert _write_sim(influx_db, ch) > 10_000
    start, end = local_midnight_ns(dt.date(2024, 5, 1)), local_midnight_ns(dt.date(2024, 6, 16))
    res = run_pv(influx_db, reg, start, end)
    assert set(res.arrays) == {"ctm-toiture"} and set(res.sites) == {"ctm"}

    daily = query_pv_daily(influx_db, start, end)
    assert daily.time_ns.size == 46
    pr = daily.fields["performance_ratio_pct"]
    assert np.all((pr > 50) & (pr < 100))
    # production per day equals the simulator's truth (counters are exact, 1 Wh resolution)
    true_interval = ch.series["ctm-toiture-pv"].true_values["interval_energy_produced_wh"]
    for t, p in zip(daily.time_ns, daily.fields["production_wh"]):
        m = (ch.time_ns > t) & (ch.time_ns <= t + NS_DAY)
        assert p == pytest.approx(true_interval[m].sum(), abs=3.0)

    sites = query_pv_site_daily(influx_db, start, end)
    t, f = sites["ctm"]
    assert t.size == 46
    assert np.allclose(f["self_consumed_wh"] + f["export_wh"], f["production_wh"], atol=0.01)
    truth = ch.sites["ctm"]
    for k in range(t.size):
        m = (ch.time_ns > t[k]) & (ch.time_ns <= t[k] + NS_DAY)
        assert f["self_consumed_wh"][k] == pytest.approx(truth.self_consumed_w[m].sum() * 0.25, rel=1e-3, abs=1.0)

    alerts = [a for a in query_alerts(influx_db) if a.kind.startswith("pv_")]
    assert [(a.kind, a.meter, a.state) for a in alerts] == [("pv_string_loss", "ctm-toiture-pv", "open")]
    assert abs((local_date(alerts[0].onset_ns) - onset).days) <= 1
    assert alerts[0].cost_eur > 0 and alerts[0].title_fr
    # a re-run finds the same alert (same id), writes no duplicate
    run_pv(influx_db, reg, start, end)
    again = [a for a in query_alerts(influx_db) if a.kind.startswith("pv_")]
    assert [a.alert_id for a in again] == [alerts[0].alert_id]


@pytest.mark.integration
def test_pv_job_flags_a_december_string_loss_against_the_other_arrays(influx_db: InfluxClient) -> None:
    """The demo's fault (25 % of Bigotte's array) in December, through the job: the other arrays of
    the town (Basly school, town hall) are its peers, the loss is stored as an open alert within a
    week; the former sunny-day rule would have found no usable day."""
    reg = parse_registry(_registry_data({"salle-bigotte", "ecole-basly", "mairie", "station-meteo"}))
    onset = dt.date(2024, 12, 10)
    _, ch = simulate(reg, dt.date(2024, 10, 25), dt.date(2024, 12, 18), seed=3,
                     faults=[{"kind": "pv_string_failure", "meter": "bigotte-toiture-pv", "start": onset, "pct": 25}])
    assert _write_sim(influx_db, ch, carriers=("pv", "weather")) > 10_000
    res = run_pv(influx_db, reg, local_midnight_ns(dt.date(2024, 12, 1)), local_midnight_ns(dt.date(2024, 12, 18)))
    assert set(res.arrays) == {"bigotte-toiture", "basly-toiture", "mairie-toiture"}
    alerts = [a for a in query_alerts(influx_db) if a.kind == "pv_string_loss"]
    assert [(a.meter, a.state) for a in alerts] == [("bigotte-toiture-pv", "open")]
    al = alerts[0]
    assert abs((local_date(al.onset_ns) - onset).days) <= 1
    assert local_date(al.detected_ns) <= onset + dt.timedelta(days=7)
    assert al.magnitude_pct == pytest.approx(-25.0, abs=7.0) and al.magnitude_kwh_per_day < 0
    assert al.cost_eur > 0


@pytest.mark.integration
@pytest.mark.slow
def test_multi_year_rollout_status_and_report(influx_db: InfluxClient, tmp_path: Path) -> None:
    """Arrays commissioned stage by stage over 20 months; funnel, kWp over time, production, report."""
    dates = {"pf-mono-perc": dt.date(2023, 1, 16), "pf-cdte": dt.date(2023, 1, 16),  # experimentation
             "ctm-toiture": dt.date(2023, 6, 1),  # pilot
             "basly-toiture": dt.date(2023, 11, 6),  # deployment
             "mairie-toiture": dt.date(2024, 5, 13)}  # massification
    data = _registry_data({"plateforme-pv", "ctm", "ecole-basly", "mairie", "station-meteo", "ecole-ferry"}, dates)
    path = tmp_path / "registry.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    reg = load_registry(path)
    assert reg.array_by_id["ctm-toiture"].commissioned == dt.date(2023, 6, 1)
    _, ch = simulate(reg, dt.date(2023, 1, 1), dt.date(2024, 9, 1), seed=2, step_s=3600.0)
    _write_sim(influx_db, ch)
    s_ns, e_ns = local_midnight_ns(dt.date(2023, 1, 1)), local_midnight_ns(dt.date(2024, 9, 1))
    from analytics.pv.jobs import PvSettings

    res = run_pv(influx_db, reg, s_ns, e_ns, PvSettings(step_s=3600.0))
    assert set(res.arrays) == set(dates)
    run_rollout(influx_db, reg, s_ns, e_ns)
    stored = query_rollout(influx_db, e_ns)
    assert len(stored) == 20
    kwp = [r["kwp_installed"] for r in stored]
    assert kwp == sorted(kwp) and kwp[0] == 6.0 and kwp[-1] == pytest.approx(6 + 36 + 24 + 15)
    prod = [r["production_cum_wh"] for r in stored]
    assert all(b > a for a, b in zip(prod, prod[1:]))
    total_true = sum(float(ch.series[reg.array_by_id[a].meter].true_values["interval_energy_produced_wh"].sum())
                     for a in dates)
    assert prod[-1] == pytest.approx(total_true, rel=1e-3)
    assert all(0 < r["pv_share_pct"] < 100 for r in stored)
    assert stored[-1]["co2_avoided_kg"] > 0 and stored[-1]["roofs_eligible"] == 5  # the weather station has no roof

    env = {"TERRIL_INFLUX__URL": influx_db.url, "TERRIL_INFLUX__DATABASE": influx_db.database,
           "TERRIL_REGISTRY": str(path), "COLUMNS": "200"}
    runner = CliRunner()
    r = runner.invoke(APP, ["rollout", "status", "--json", "--at", "2024-08-31"], env=env)
    assert r.exit_code == 0, r.output
    status = json.loads(r.stdout)
    funnel = {s["stage"]: s for s in status["stages"]}
    assert funnel["experimentation"]["kwp_installed"] == 6.0 and funnel["pilot"]["roofs_equipped"] == 1
    assert funnel["massification"]["roofs_planned"] == 1  # ecole-ferry, planned for 2027
    assert [y["year"] for y in status["timeline"]][:2] == [2023, 2024]
    y2023 = status["timeline"][0]
    assert y2023["kwp_installed"] == 6 + 36 + 24 and y2023["production_cum_kwh"] > 0
    r = runner.invoke(APP, ["rollout", "status", "--at", "2024-08-31"], env=env)
    assert r.exit_code == 0 and "Massification" in r.stdout and "Funnel" in r.stdout

    for fmt in ("xlsx", "pdf", "csv"):
        out = tmp_path / f"pv.{fmt}"
        r = runner.invoke(APP, ["pv", "report", "--period", "2024-01-01..2024-06-30", "--format", fmt, "--lang", "fr",
                                   "-o", str(out)], env=env)
        assert r.exit_code == 0, r.output
        assert out.exists() and out.stat().st_size > 1000


def test_rollout_status_on_the_demo_registry_without_database() -> None:
    reg = load_registry()
    data = rollout_status_data(reg, dt.date(2024, 12, 31), None)
    funnel = {s["stage"]: s for s in data["stages"]}
    assert [s["stage"] for s in data["stages"]] == ["experimentation", "pilot", "deployment", "massification"]
    assert funnel["experimentation"]["kwp_installed"] == 18.0 and funnel["experimentation"]["roofs_equipped"] == 1
    assert funnel["massification"]["kwp_installed"] == 99 + 60 + 15
    assert funnel["massification"]["roofs_planned"] == 5
    assert data["roofs_eligible"] == 14 and data["roofs_equipped"] == 9
    kwp = {y["year"]: y["kwp_installed"] for y in data["timeline"]}
    assert kwp[2012] == 15.0 and kwp[2016] == 18 + 36 + 18 + 9 and kwp[2024] == sum(a.kwp for a in reg.pv_arrays)
    assert data["timeline"][-1]["year"] == 2028 and data["timeline"][-1]["future"]
    runner = CliRunner()
    r = runner.invoke(APP, ["rollout", "status", "--offline", "--at", "2016-12-31"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "Experimentation" in r.stdout and "Pilot" in r.stdout
    r = runner.invoke(APP, ["rollout", "status", "--offline", "--json", "--at", "2016-12-31"])
    assert json.loads(r.stdout)["kwp_installed"] == 18 + 36 + 18 + 9
