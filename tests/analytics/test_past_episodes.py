"""Episodes in the past (issue 16, item 5): `analyze --since D` over a back-filled history raises and
closes the silent, stuck and drift episodes that began and ended inside the window, with their real
start and end times, against the real InfluxDB."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.jobs.alerts import query_alerts
from analytics.analyze import analyze
from terril.readings import Point
from terril.registry import parse_registry
from terril.timeutil import NS_PER_S, local_midnight_ns

pytestmark = pytest.mark.integration

H = 3600 * NS_PER_S
DAY = 24 * H
START = local_midnight_ns(dt.date(2025, 1, 1))
N_DAYS = 500  # a baseline year, then 135 monitored days
DRIFT = (400, 440)  # days with +35 % in the daytime hours (a setpoint left high, then fixed)
SILENT = (460 * 24 + 5, 460 * 24 + 15)  # hours without any reading
STUCK = (475 * 24 + 9, 475 * 24 + 16)  # hours whose register does not move (the energy is lost)


def _registry(interval_s: int = 3600):
    return parse_registry({
        "sites": [{"id": "mairie", "name": "Mairie", "kind": "town_hall", "latitude": 50.46, "longitude": 2.79,
                   "floor_area_m2": 1000},
                  {"id": "meteo", "name": "Météo", "kind": "weather", "latitude": 50.46, "longitude": 2.79}],
        "meters": [{"id": "mairie-elec", "site": "mairie", "carrier": "electricity"},
                   {"id": "meteo-t", "site": "meteo", "carrier": "weather"}],
        "devices": [{"id": "mairie-linky", "site": "mairie", "interval_s": interval_s,
                     "channels": [{"meter": "mairie-elec"}]},
                    {"id": "meteo-st", "site": "meteo", "interval_s": interval_s, "channels": [{"meter": "meteo-t"}]}],
    })


def history_points(step_s: int = 3600, recent_step_s: int | None = None, recent_days: int = 0) -> list[Point]:
    """Hourly (or ``step_s``) readings of a town hall's electricity and the weather, with the episodes above."""
    rng = np.random.default_rng(11)
    pts = []
    value = 1_000_000.0
    t_end = START + N_DAYS * DAY
    t = START
    elec = {"site": "mairie", "meter": "mairie-elec", "carrier": "electricity", "device": "mairie-linky"}
    met = {"site": "meteo", "meter": "meteo-t", "carrier": "weather", "device": "meteo-st"}
    while t < t_end:
        step = recent_step_s if recent_step_s and t >= t_end - recent_days * DAY else step_s
        hour = (t - START) // H
        day, hod = hour // 24, (hour % 24 + 1) % 24  # local hour (UTC+1 in winter is enough here)
        weekday = (day + 2) % 7 < 5  # 1 Jan 2025 is a Wednesday
        load_w = 800.0 + (1700.0 if weekday and 8 <= hod < 18 else 0.0)
        temp = 11.0 - 7.0 * np.cos(2 * np.pi * (day - 15) / 365.25)
        load_w *= 1.0 + 0.02 * (12.0 - temp) / 10.0
        if DRIFT[0] <= day < DRIFT[1] and 8 <= hod < 18:
            load_w *= 1.35
        load_w *= 1.0 + rng.normal(0.0, 0.05)
        in_silent = SILENT[0] <= hour < SILENT[1]
        in_stuck = STUCK[0] <= hour < STUCK[1]
        if not in_stuck:
            value += load_w * step / 3600.0
        if not in_silent:
            pts.append(Point("reading", elec, {"energy_import_wh": round(value, 1), "received_ns": 1}, t))
            pts.append(Point("reading", met, {"temp_air_c": round(temp + rng.normal(0, 1.0), 2), "received_ns": 1}, t))
        t += step * NS_PER_S
    return pts


def test_a_backfilled_history_gets_its_past_episodes_raised_and_closed(influx_db, tmp_path):
    influx_db.write_points(history_points())
    end = START + N_DAYS * DAY
    report = analyze(influx_db, _registry(), tmp_path, since_ns=START, end_ns=end)
    assert "mairie-elec" in report.baselines_fitted, report.baselines_skipped
    alerts = {a.kind: a for a in query_alerts(influx_db) if a.meter == "mairie-elec"}
    silent, stuck, drift = alerts.get("silent"), alerts.get("stuck"), alerts.get("drift_up")
    assert silent is not None and stuck is not None and drift is not None, sorted(alerts)
    # all three are over: raised and closed in the same run, with their real start and end
    assert (silent.state, stuck.state, drift.state) == ("resolved", "resolved", "resolved")
    assert silent.onset_ns == START + SILENT[0] * H  # the first missing reading
    assert silent.end_ns == START + SILENT[1] * H  # the meter spoke again
    assert abs(stuck.onset_ns - (START + (STUCK[0] - 1) * H)) <= H
    assert abs(stuck.end_ns - (START + STUCK[1] * H)) <= H
    assert abs(drift.onset_ns - (START + DRIFT[0] * DAY)) <= 7 * DAY
    assert abs(drift.end_ns - (START + DRIFT[1] * DAY)) <= 7 * DAY
    # the excess: 35 % of the 10 daytime hours (25 kWh on working days, 8 kWh on the others), 7.05 kWh/d
    # over the week, 22.5 % of the expected use (36.2 kWh on working days, 19.2 kWh on the others)
    excess, expected = 0.35 * (25.0 * 5 + 8.0 * 2) / 7, (36.2 * 5 + 19.2 * 2) / 7
    assert drift.magnitude_kwh_per_day == pytest.approx(excess, rel=0.15)
    assert drift.magnitude_pct == pytest.approx(100 * excess / expected, rel=0.15)
    # nothing else: the healthy weather meter is not silent, and no open alert remains
    assert not [a for a in query_alerts(influx_db) if a.state == "open"]


def test_a_meter_back_filled_at_a_coarser_step_than_declared_is_covered_and_modelled(influx_db, tmp_path):
    """Mixed steps (issue 16, item 6): devices declared at 15 minutes, history back-filled at 1 h, the last
    20 days at 15 minutes. Coverage is judged on the data's own step, the baseline is fitted, only the real
    silence is one, and the run says the step differs."""
    influx_db.write_points(history_points(step_s=3600, recent_step_s=900, recent_days=20))
    end = START + N_DAYS * DAY
    report = analyze(influx_db, _registry(interval_s=900), tmp_path, since_ns=START, end_ns=end)
    assert "mairie-elec" in report.step_notes and "3600" in report.step_notes["mairie-elec"]
    assert "mairie-elec" in report.baselines_fitted, report.baselines_skipped
    rows = influx_db.query("SELECT coverage_pct FROM consumption_daily WHERE meter = 'mairie-elec'")
    cov = np.array([r[1] for s in rows for r in s.values])
    assert cov.size >= N_DAYS - 1
    assert np.mean(cov >= 90.0) > 0.99  # was 0 % on every back-filled day
    silent = [a for a in query_alerts(influx_db) if a.kind == "silent"]
    # the planted silence of both meters, and not one per back-filled hour
    assert sorted((a.meter, a.onset_ns, a.end_ns) for a in silent) == [
        (m, START + SILENT[0] * H, START + SILENT[1] * H) for m in ("mairie-elec", "meteo-t")]
