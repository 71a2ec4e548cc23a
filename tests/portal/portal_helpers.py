"""Shared helpers of the portal tests: accounts, the small data set, a portal on a database."""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass
from pathlib import Path

from analytics.jobs.alerts import TITLES, AlertRecord, alert_point, new_alert_id
from terril.influx import InfluxClient
from terril.readings import Point
from terril.registry import load_registry
from terril.timeutil import local_midnight_ns

PASSWORD = "correct-horse-battery-1"
USERS = {"luc": "lecteur", "theo": "technicien", "gaelle": "gestionnaire", "alice": "admin"}
DAY_NS = 86_400 * 10**9
HISTORY_DAYS = 70
#: a meter with no data at all: what the import test uploads shows on its building's chart
IMPORT_METER, IMPORT_SITE = "salle-fetes-elec", "salle-fetes"


@dataclass(frozen=True)
class PortalData:
    client: InfluxClient
    today: dt.date
    drift_alert: str
    silent_alert: str
    days: int


def _daily_kwh(site_index: int, day: dt.date) -> float:
    weekend = day.weekday() >= 5
    return (120.0 + 15 * site_index) * (0.45 if weekend else 1.0) + 8 * math.sin(day.toordinal() / 3.0)


def write_portal_data(client: InfluxClient, today: dt.date) -> tuple[str, str]:
    """Seventy days of rollups, weather, baselines, PV, quality, savings and two alerts."""
    pts: list[Point] = []
    sites = [("mairie", ["mairie-elec", "mairie-gaz"]), ("ecole-basly", ["ecole-basly-elec"]), ("ctm", ["ctm-elec"])]
    for i in range(HISTORY_DAYS, 0, -1):
        day = today - dt.timedelta(days=i)
        t = local_midnight_ns(day)
        for k, (site, meters) in enumerate(sites):
            for m in meters:
                kwh = _daily_kwh(k, day) * (2.5 if m.endswith("gaz") else 1.0)
                carrier = "gas" if m.endswith("gaz") else "electricity"
                pts.append(Point("consumption_daily", {"site": site, "meter": m, "carrier": carrier},
                                 {"consumption_wh": kwh * 1000, "coverage_pct": 100.0}, t))
        temp = 8.0 + 4 * math.sin(day.toordinal() / 9.0)
        pts.append(Point("weather_daily", {"site": "station-meteo"},
                         {"temp_mean_c": temp, "hdd_costic_k_d": max(0.0, 18 - temp), "coverage_pct": 100.0}, t))
        if i <= 40:
            actual = _daily_kwh(0, day) * 1000
            pts.append(Point("baseline_daily", {"site": "mairie", "meter": "mairie-elec", "carrier": "electricity"},
                             {"expected_wh": actual * 0.85, "actual_wh": actual, "residual_wh": actual * 0.15}, t))
            pts.append(Point("data_quality", {"site": "mairie", "meter": "mairie-elec"}, {"coverage_pct": 98.5}, t))
        pts.append(Point("pv_site_daily", {"site": "mairie"}, {"production_wh": 9_000.0 + 100 * (i % 7)}, t))
    # today, a few hours in: the ledger counts the rest of the day as missing (the overview's 7-day
    # coverage must not: tests/portal/test_portal_pages.py, 98,5 %)
    pts.append(Point("data_quality", {"site": "mairie", "meter": "mairie-elec"}, {"coverage_pct": 21.0},
                     local_midnight_ns(today)))
    pts.append(Point("savings_monthly", {"site": "mairie", "meter": "mairie-elec", "carrier": "electricity"},
                     {"avoided_wh": 1_234_000.0, "avoided_eur": 246.8, "avoided_co2_kg": 64.2},
                     local_midnight_ns(today.replace(day=1))))
    # a PV meter's row, as versions before 7 Dec 2026 wrote: production, which is no saving
    pts.append(Point("savings_monthly", {"site": "mairie", "meter": "mairie-toiture-pv", "carrier": "pv"},
                     {"avoided_wh": 5_000_000.0, "avoided_eur": 900.0, "avoided_co2_kg": 260.0},
                     local_midnight_ns(today.replace(day=1))))
    now = time.time_ns()
    midnight = local_midnight_ns(today)
    tags = {"site": "mairie", "meter": "mairie-toiture-pv", "carrier": "pv", "device": "mairie-toiture-ondu"}
    for j, t in enumerate((midnight + 1, max(midnight + 2, now - 300 * 10**9))):
        pts.append(Point("reading", tags, {"energy_produced_wh": 1_000_000.0 + j * 12_500.0, "power_w": 3_500.0,
                                           "received_ns": t}, t))
    alerts = []
    for site, meter, kind, days_ago in (("mairie", "mairie-elec", "drift_up", 20), ("ecole-basly", "ecole-basly-eau", "silent", 3)):
        onset = local_midnight_ns(today - dt.timedelta(days=days_ago))
        rec = AlertRecord(new_alert_id(meter, kind, onset), site, meter, kind, "open", onset, now, 18.5, 15.0, 120.0,
                          4.0, *TITLES[kind])
        alerts.append(rec.alert_id)
        pts.append(alert_point(rec))
    client.write_points(pts)
    return alerts[0], alerts[1]


_USERS_JSON: list[bytes] = []


def make_portal(data_dir: Path, client: InfluxClient, registry_path: Path | None = None, *,  # noqa: ANN201
                public_page: bool | None = True, public_page_setting: bool = False, **portal_settings):  # noqa: ANN003
    from portal.app import Portal
    from portal.users import UserStore
    from terril.settings import load_settings

    settings = load_settings(None, data_dir=data_dir, registry=registry_path,
                             portal={"grafana_url": "https://grafana.example.org", "public_page": public_page_setting,
                                     **portal_settings})
    store = UserStore(data_dir)
    if _USERS_JSON and not store.path.exists():  # argon2 is slow by design: hash the test accounts once
        store.path.parent.mkdir(parents=True, exist_ok=True)
        store.path.write_bytes(_USERS_JSON[0])
    for name, role in USERS.items():
        if store.get(name) is None:
            store.add(name, role, PASSWORD)
    if not _USERS_JSON:
        _USERS_JSON.append(store.path.read_bytes())
    return Portal(settings, load_registry(settings.registry), client, client, public_page=public_page)
