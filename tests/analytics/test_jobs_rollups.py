"""Analytics jobs against the real InfluxDB: rollups over DST days, a counter reset, incremental re-runs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.jobs.alerts import query_alerts, set_state
from analytics.analyze import analyze
from terril.readings import Point
from terril.registry import parse_registry
from terril.timeutil import NS_PER_S, local_date, local_midnight_ns

pytestmark = pytest.mark.integration


def _registry():
    return parse_registry({
        "sites": [{"id": "ecole", "name": "École", "kind": "primary_school", "latitude": 50.46, "longitude": 2.79,
                   "floor_area_m2": 1000, "school_week": "four_days"},
                  {"id": "meteo", "name": "Météo", "kind": "weather", "latitude": 50.46, "longitude": 2.79}],
        "meters": [{"id": "ecole-elec", "site": "ecole", "carrier": "electricity"},
                   {"id": "meteo-t", "site": "meteo", "carrier": "weather"}],
        "devices": [{"id": "ecole-linky", "site": "ecole", "interval_s": 900, "channels": [{"meter": "ecole-elec"}]},
                    {"id": "meteo-st", "site": "meteo", "interval_s": 900, "channels": [{"meter": "meteo-t"}]}],
    })


def _counter_points(start_ns: int, end_ns: int, reset_at_ns: int | None, received_ns: int) -> list[Point]:
    """A constant 1 kW load: +250 Wh every 15 min; the register drops to 0 at ``reset_at_ns``."""
    pts = []
    value = 5_000_000.0
    for t in range(start_ns, end_ns, 900 * NS_PER_S):
        if reset_at_ns is not None and t == reset_at_ns:
            value = 0.0
        pts.append(Point("reading", {"site": "ecole", "meter": "ecole-elec", "carrier": "electricity",
                                     "device": "ecole-linky"}, {"energy_import_wh": value, "received_ns": received_ns}, t))
        pts.append(Point("reading", {"site": "meteo", "meter": "meteo-t", "carrier": "weather", "device": "meteo-st"},
                         {"temp_air_c": 8.0 + 4 * np.sin(t / 3.6e12), "received_ns": received_ns}, t))
        value += 250.0
    return pts


def _daily(client):
    rows = client.query("SELECT consumption_wh, coverage_pct FROM consumption_daily WHERE meter = 'ecole-elec'")
    return {int(r[0]): (r[1], r[2]) for s in rows for r in s.values}


def test_dst_days_reset_and_incremental_rerun(influx_db, tmp_path):
    reg = _registry()
    d0 = dt.date(2026, 3, 27)
    start = local_midnight_ns(d0)
    end = local_midnight_ns(dt.date(2026, 4, 1))
    reset = local_midnight_ns(dt.date(2026, 3, 30)) + 12 * 3600 * NS_PER_S
    all_points = _counter_points(start, end, reset, received_ns=10)
    gap_lo = local_midnight_ns(dt.date(2026, 3, 28)) + 10 * 3600 * NS_PER_S
    gap_hi = gap_lo + 4 * 3600 * NS_PER_S
    in_gap = [p for p in all_points if gap_lo <= p.time_ns < gap_hi and p.tags["meter"] == "ecole-elec"]
    influx_db.write_points([p for p in all_points if p not in in_gap])
    report = analyze(influx_db, reg, tmp_path, end_ns=end + 1)
    assert report.meters_rolled_up == 1 and report.counter_events >= 1

    daily = _daily(influx_db)
    kwh = {dt.date(2026, 3, 27) + dt.timedelta(days=i): daily[local_midnight_ns(dt.date(2026, 3, 27)
                                                                                 + dt.timedelta(days=i))][0] / 1000
           for i in range(1, 4)}
    assert kwh[dt.date(2026, 3, 28)] == pytest.approx(24.0)
    assert kwh[dt.date(2026, 3, 29)] == pytest.approx(23.0)      # spring forward: a 23-hour day
    # the reset interval books the post-reset value (0 Wh), never a negative or giant delta
    assert kwh[dt.date(2026, 3, 30)] == pytest.approx(23.75)
    events = influx_db.query("SELECT * FROM counter_event")
    assert [r["kind"] for s in events for r in s.records()] == ["reset"]
    assert all(0 <= v[0] <= 24_000 for v in daily.values())
    monthly = influx_db.query("SELECT consumption_wh FROM consumption_monthly")
    assert monthly[0].values[0][1] / 1000 == pytest.approx(sum(v[0] for v in daily.values()) / 1000)
    weather = influx_db.query("SELECT hdd_meteo_k_d FROM weather_daily")
    assert weather and len(weather[0].values) >= 4

    # nothing new: nothing recomputed
    assert analyze(influx_db, reg, tmp_path, end_ns=end + 1).nothing_new
    day28 = local_midnight_ns(dt.date(2026, 3, 28))
    assert daily[day28][1] < 100.0  # the gap on 28 March shows in the coverage
    assert _quality(influx_db)[day28] == 1
    # the missing readings arrive late (a gateway's backlog): only that window is recomputed
    late = [Point(p.measurement, p.tags, {**p.fields, "received_ns": 20}, p.time_ns) for p in in_gap]
    influx_db.write_points(late)
    again = analyze(influx_db, reg, tmp_path, end_ns=end + 1)
    assert not again.nothing_new and again.meters_rolled_up == 1
    assert _daily(influx_db)[day28] == (24_000, 100)
    assert _quality(influx_db)[day28] == 0


def _quality(client):
    rows = client.query("SELECT gaps FROM data_quality WHERE meter = 'ecole-elec'")
    return {int(r[0]): r[1] for s in rows for r in s.values}

def test_alert_life_cycle(influx_db, tmp_path):
    reg = _registry()
    start = local_midnight_ns(dt.date(2026, 5, 1))
    end = start + 3 * 86_400 * NS_PER_S
    pts = [p for p in _counter_points(start, end, None, 1) if p.tags["meter"] == "ecole-elec"
           or p.time_ns < start + 86_400 * NS_PER_S]  # the weather meter falls silent after a day
    influx_db.write_points(pts)
    analyze(influx_db, reg, tmp_path, end_ns=end)
    silent = [a for a in query_alerts(influx_db) if a.kind == "silent"]
    assert len(silent) == 1 and silent[0].meter == "meteo-t" and silent[0].state == "open"
    acked = set_state(influx_db, silent[0].alert_id, "acknowledged")
    assert acked.state == "acknowledged"
    # a re-run keeps the same alert (same id) and its acknowledged state
    analyze(influx_db, reg, tmp_path, since_ns=start, end_ns=end)
    again = [a for a in query_alerts(influx_db) if a.kind == "silent"]
    assert [(a.alert_id, a.state) for a in again] == [(silent[0].alert_id, "acknowledged")]


def test_a_silent_meter_that_speaks_again_resolves_its_alert(influx_db, tmp_path):
    reg = _registry()
    start = local_midnight_ns(dt.date(2026, 5, 1))
    end = start + 2 * 86_400 * NS_PER_S
    pts = _counter_points(start, end, None, 1)
    influx_db.write_points([p for p in pts if p.tags["meter"] == "ecole-elec" or p.time_ns < start + 86_400 * NS_PER_S])
    analyze(influx_db, reg, tmp_path, end_ns=end)
    assert [a.state for a in query_alerts(influx_db) if a.kind == "silent"] == ["open"]
    influx_db.write_points([Point(p.measurement, p.tags, {**p.fields, "received_ns": 2}, p.time_ns) for p in pts
                             if p.tags["meter"] == "meteo-t" and p.time_ns >= start + 86_400 * NS_PER_S])
    analyze(influx_db, reg, tmp_path, end_ns=end)
    assert [a.state for a in query_alerts(influx_db) if a.kind == "silent"] == ["resolved"]


def test_alert_costs_use_the_prices_settings():
    from analytics.jobs.drift import unit_value
    from terril.settings import PricesSettings

    assert unit_value("gas") == (0.10, 0.227)
    assert unit_value("water", PricesSettings(water_eur_per_m3=3.5)) == (3.5, 0.0)
    assert unit_value("pv", PricesSettings(electricity_eur_per_kwh=0.25)) == (0.25, 0.052)


def test_stuck_and_silent_alerts_are_priced_with_the_towns_prices(influx_db, tmp_path, monkeypatch):
    """Every alert of a run goes through unit_value with the town's ``prices.*``, the silent and the
    stuck ones included (they were costed with the default prices)."""
    import analytics.jobs.drift as drift_job
    from terril.settings import PricesSettings

    seen: list[tuple[str, object]] = []
    real = drift_job.unit_value

    def spy(carrier, prices=drift_job.DEFAULT_PRICES):  # noqa: ANN001, ANN202
        seen.append((carrier, prices))
        return real(carrier, prices)

    monkeypatch.setattr(drift_job, "unit_value", spy)
    town = PricesSettings(electricity_eur_per_kwh=0.31, gas_eur_per_kwh=0.17, water_eur_per_m3=4.2)
    reg = _registry()
    start = local_midnight_ns(dt.date(2026, 5, 1))
    end = start + 3 * 86_400 * NS_PER_S
    frozen = (start + 30 * 3600 * NS_PER_S, start + 36 * 3600 * NS_PER_S)  # the register stops for 6 h
    pts = []
    for p in _counter_points(start, end, None, 1):
        if p.tags["meter"] == "meteo-t" and p.time_ns >= start + 86_400 * NS_PER_S:
            continue  # the weather meter falls silent after a day
        if p.tags["meter"] == "ecole-elec" and frozen[0] <= p.time_ns < frozen[1]:
            p = Point(p.measurement, p.tags, {**p.fields, "energy_import_wh": 5_000_000.0 + 250.0 * 120},
                      p.time_ns)
        pts.append(p)
    influx_db.write_points(pts)
    analyze(influx_db, reg, tmp_path, end_ns=end, prices=town)
    kinds = {a.kind for a in query_alerts(influx_db)}
    assert {"silent", "stuck"} <= kinds
    assert {c for c, _ in seen} >= {"weather", "electricity"}
    assert all(prices is town for _, prices in seen)


def test_ledger_says_live_or_imported_whatever_came_first(influx_db, tmp_path):
    """Live data wins the days it covers, imported history fills the rest, in the ledger as in the report,
    whether the import comes after the analytics run or before it."""
    from analytics.jobs.sources import write_ledger_sources

    reg = _registry()
    meter = reg.meter_by_id["ecole-elec"]
    live0, end = local_midnight_ns(dt.date(2026, 3, 10)), local_midnight_ns(dt.date(2026, 3, 14))
    influx_db.write_points(_counter_points(live0, end, None, received_ns=10))
    analyze(influx_db, reg, tmp_path, end_ns=end)
    # then a year-old utility export arrives: daily values 5-11 March (overlapping two live days)
    days = [dt.date(2026, 3, 5) + dt.timedelta(days=i) for i in range(7)]
    influx_db.write_points([Point("imported", {"site": "ecole", "meter": "ecole-elec", "source": "enedis-2026",
                                                "kind": "daily"}, {"energy_wh": 20_000.0}, local_midnight_ns(d))
                             for d in days])
    write_ledger_sources(influx_db, reg, meter, local_midnight_ns(days[0]), local_midnight_ns(days[-1]) + 1)

    def ledger():
        rows = influx_db.query("SELECT source, origin, coverage_pct FROM data_quality WHERE meter = 'ecole-elec'")
        return {local_date(int(r[0])): tuple(r[1:]) for s in rows for r in s.values}

    got = ledger()
    for d in days[:5]:
        assert got[d] == ("imported", "enedis-2026", 100.0), d
    for d in (dt.date(2026, 3, 10), dt.date(2026, 3, 11), dt.date(2026, 3, 12)):
        assert got[d][:2] == ("live", "ecole-linky"), d
    # a later analytics run over the same window keeps the same answer
    analyze(influx_db, reg, tmp_path, since_ns=live0, end_ns=end)
    assert ledger() == got


def test_silent_check_given_the_rollups_reading_times_finds_what_it_reads_itself(influx_db):
    """analyze() hands run_silent the reading times rollup_meter read (its query asks for received_ns
    too): they must be exactly the times run_silent reads on its own, rows without a counter included
    (a reading holding only power), so that its alerts are the same."""
    from analytics.jobs.drift import run_silent
    from analytics.jobs.rollups import rollup_meter

    reg = _registry()
    start = local_midnight_ns(dt.date(2026, 3, 1))  # a month's start: the rollup's window starts there
    end = local_midnight_ns(dt.date(2026, 3, 20))
    pts = _counter_points(start, end, None, received_ns=10)
    gap_lo, gap_hi = start + 5 * 86_400 * NS_PER_S, start + 7 * 86_400 * NS_PER_S
    pts = [p for p in pts if not (gap_lo <= p.time_ns < gap_hi and p.tags["meter"] == "ecole-elec")]
    # in the gap of the counter, readings of power only: the meter is not silent there
    pts += [Point("reading", {"site": "ecole", "meter": "ecole-elec", "carrier": "electricity", "device": "ecole-linky"},
                  {"power_w": 900.0, "received_ns": 10}, t) for t in range(gap_lo, gap_lo + 86_400 * NS_PER_S, 900 * NS_PER_S)]
    influx_db.write_points(pts)
    roll = rollup_meter(influx_db, reg, reg.meters[0], start, end)
    assert roll.window_start_ns == start
    own = run_silent(influx_db, reg, start, end)
    given = run_silent(influx_db, reg, start, end, reading_times={"ecole-elec": roll.reading_times_ns})
    assert roll.reading_times_ns.size == sum(p.tags["meter"] == "ecole-elec" for p in pts)
    assert [a.alert_id for a in given] == [a.alert_id for a in own] and own
    silent = [a for a in own if a.meter == "ecole-elec"]
    assert silent and all(a.onset_ns >= gap_lo + 86_400 * NS_PER_S - 900 * NS_PER_S for a in silent), silent
