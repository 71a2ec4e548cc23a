"""The usual path of a town that starts with Terril: a year of history, then live monitoring.

An energy manager imports the town hall's Enedis daily export ("Mes données") and the
Météo-France daily file of the nearest station, then a Linky TIC gateway publishes live
over MQTT. The imported year and the live weeks form one daily series (live wins where both
exist), the site takes its temperatures from its own station, and the savings report has
numbers. The data are the simulator's (its true daily energies and temperatures written in the
portals' own file layouts), so the report must find no change where none was made.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analytics.analyze import analyze
from analytics.reports.inputs import query_input_bundle
from analytics.reports.savings_report import build_savings_report, compute_savings
from analytics.savings import Period
from firmware_sim.fleet import FleetSimulation
from firmware_sim.publisher import Publisher
from firmware_sim.session import run_fleet
from helpers import endpoint, start_collector, wait_for
from terril.registry import load_registry
from terril.timeutil import PARIS, local_date, local_midnight_ns

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STATION = "62160001"
LIVE_DAYS = 28
REGISTRY = f"""
[town]
name = "Loos-en-Gohelle"
latitude = 50.4578
longitude = 2.79

[[sites]]
id = "mairie"
name = "Hôtel de ville"
kind = "town_hall"
floor_area_m2 = 1450
latitude = 50.4578
longitude = 2.7926
heating_carrier = "gas"
weather_station = "{STATION}"

[[sites]]
id = "station-lens"
name = "Station Météo-France de Lens"
kind = "weather"
latitude = 50.44
longitude = 2.82

[[meters]]
id = "mairie-elec"
site = "mairie"
carrier = "electricity"

[[meters]]
id = "lens-meteo"
site = "station-lens"
carrier = "weather"
usage = "weather"

[[devices]]
id = "mairie-linky"
site = "mairie"
format = "linky_tic"
interval_s = 900
topic = "021861348473"
channels = [{{ channel = "main", meter = "mairie-elec" }}]
"""


def _truth(registry, start: dt.date, end: dt.date):  # noqa: ANN001, ANN202
    """Daily kWh of the town hall and daily min/max/mean temperatures, from the simulator."""
    days = [start + dt.timedelta(days=i) for i in range((end - start).days)]
    bounds = np.array([local_midnight_ns(d) for d in [*days, end]], dtype=np.int64)
    sim = FleetSimulation(registry, int(bounds[0]), seed=5, step_s=900.0)
    kwh = np.zeros(len(days))
    t_sum, t_n = np.zeros(len(days)), np.zeros(len(days))
    t_min, t_max = np.full(len(days), np.inf), np.full(len(days), -np.inf)
    for chunk in sim.run(int(bounds[-1]), chunk_s=30 * 86_400.0):
        idx = np.searchsorted(bounds, chunk.time_ns - sim.step_ns // 2, side="right") - 1
        ok = (idx >= 0) & (idx < len(days))
        e = chunk.series["mairie-elec"].true_values["interval_energy_import_wh"] / 1000.0
        kwh += np.bincount(idx[ok], weights=e[ok], minlength=len(days))[: len(days)]
        temp = chunk.weather.temp_air_c
        t_sum += np.bincount(idx[ok], weights=temp[ok], minlength=len(days))[: len(days)]
        t_n += np.bincount(idx[ok], minlength=len(days))[: len(days)]
        np.minimum.at(t_min, idx[ok], temp[ok])
        np.maximum.at(t_max, idx[ok], temp[ok])
    return days, kwh, t_min, t_max, t_sum / t_n


def _enedis_daily_csv(days: list[dt.date], kwh: np.ndarray) -> bytes:
    """The Enedis "Mes données" daily consumption export: preamble, BOM, Wh, local midnight stamps."""
    lines = ["Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;Grandeur metier;"
             "Etape metier;Unite",
             f"09876543210987;Energie quotidienne;{days[0]:%d/%m/%Y};{days[-1]:%d/%m/%Y};Energie active;"
             "Consommation;Comptage Brut;Wh",
             "Horodate;Valeur"]
    for d, v in zip(days, kwh):
        stamp = dt.datetime(d.year, d.month, d.day, tzinfo=PARIS).isoformat()
        lines.append(f"{stamp};{int(round(v * 1000))}")
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def _meteofrance_daily_csv(days: list[dt.date], tn: np.ndarray, tx: np.ndarray, tm: np.ndarray) -> bytes:
    """A Météo-France daily `Q_62_…` file: two stations, leading spaces, TN/TX/TM with quality codes."""
    head = "NUM_POSTE;NOM_USUEL;LAT;LON;ALTI;AAAAMMJJ;RR;QRR;TN;QTN;TX;QTX;TM;QTM"
    rows = [head]
    for d, a, b, m in zip(days, tn, tx, tm):
        rows.append(f" {STATION};LENS;50.440000;2.820000;47;{d:%Y%m%d};0.0;1;{a:.1f};1;{b:.1f};1;{m:.1f};1")
        # a second station of the department, 6 K warmer: it must never leak into the town hall's weather
        rows.append(f" 62999001;AILLEURS;50.700000;2.100000;20;{d:%Y%m%d};0.0;1;{a + 6:.1f};1;{b + 6:.1f};1;"
                    f"{m + 6:.1f};1")
    return ("\n".join(rows) + "\n").encode("utf-8")


def _terril(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terril.cli", *args], capture_output=True, text=True, timeout=300,
                          env=env)


def test_imported_year_then_live_linky_gives_a_report_with_numbers(stack, influx_db, tmp_path: Path) -> None:
    reg_path = tmp_path / "registry.toml"
    reg_path.write_text(REGISTRY, encoding="utf-8")
    registry = load_registry(reg_path)
    today = local_date(int(dt.datetime.now(dt.timezone.utc).timestamp() * 1e9))
    live_start = today - dt.timedelta(days=LIVE_DAYS)
    first = today - dt.timedelta(days=400)
    days, kwh, tn, tx, tm = _truth(registry, first, today)
    hist = [i for i, d in enumerate(days) if d < live_start + dt.timedelta(days=3)]  # 3 days overlap the live data
    enedis = tmp_path / "mes-donnees-conso-quotidienne.csv"
    enedis.write_bytes(_enedis_daily_csv([days[i] for i in hist], kwh[hist]))
    meteo = tmp_path / "Q_62_latest-2025-2026_RR-T-Vent.csv"
    meteo.write_bytes(_meteofrance_daily_csv(days, tn, tx, tm))

    env = dict(os.environ, TERRIL_REGISTRY=str(reg_path), TERRIL_DATA_DIR=str(tmp_path / "data"),
               TERRIL_INFLUX__URL=stack.influx_url, TERRIL_INFLUX__DATABASE=influx_db.database)
    # the two files as the portals write them, each format detected
    r = _terril("import", str(enedis), "--meter", "mairie-elec", "--source", "enedis-mes-donnees", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    r = _terril("import", str(meteo), "--meter", "lens-meteo", "--source", "meteo-france", "--station", STATION,
                env=env)
    assert r.returncode == 0, r.stdout + r.stderr

    site_ids = ["mairie"]
    before = query_input_bundle(influx_db, registry, site_ids, first, today - dt.timedelta(days=1))

    # then the Linky gateway publishes live through the broker, in its own format
    collector = start_collector(stack, registry, influx_db)
    publisher = Publisher(endpoint(stack, "simulator"))
    publisher.connect()
    try:
        sim = FleetSimulation(registry, local_midnight_ns(live_start) - 900 * 10**9, seed=5, step_s=900.0)
        result = run_fleet(publisher, registry, local_midnight_ns(live_start), local_midnight_ns(today), sim=sim)
        assert result.report.messages > LIVE_DAYS * 90
        assert wait_for(lambda: collector.stats.messages_acked >= result.report.messages, 120)
        assert wait_for(lambda: collector.pending() == 0, 60)
    finally:
        publisher.close()
        collector.stop()

    bundle = query_input_bundle(influx_db, registry, site_ids, first, today - dt.timedelta(days=1))
    elec = bundle.meter("mairie-elec")
    periods = elec.source_periods(bundle.dates)
    # one series: the imported year, then the live days (the overlap taken from the live data)
    assert [p[0] for p in periods] == ["imported", "reading"], periods
    assert periods[0][1] == str(first) and periods[1][1] == str(live_start)
    assert periods[1][2] == str(today - dt.timedelta(days=1))
    assert bundle.sha256() != before.sha256()
    live = np.array([d >= live_start for d in bundle.dates.astype(dt.date)])
    # live days equal the simulator's truth (counter deltas of the Linky), imported days the file
    assert np.allclose(elec.energy_kwh[live], kwh[live], rtol=0.01, atol=0.05)
    assert np.allclose(elec.energy_kwh[~live], kwh[~live], atol=0.001)
    # the site's own station, not the other one of the file
    assert bundle.weather_label_of("mairie") == f"station:{STATION} (imported)"
    assert np.allclose(bundle.temp_of("mairie"), tm, atol=0.051)

    baseline = Period(first, live_start - dt.timedelta(days=1))
    reporting = Period(live_start, today - dt.timedelta(days=1))
    res = compute_savings(bundle, registry, site_ids, baseline, reporting)
    s = next(m for m in res.meters if m.meter == "mairie-elec")
    assert s.qualifies, s.reasons
    assert s.reporting_valid_days == LIVE_DAYS
    assert np.isfinite(s.avoided_kwh) and s.u90_kwh > 0 and s.adjusted_baseline_total_kwh > 0
    # nothing was done to the town hall: the report finds no change beyond its 90 % interval
    assert abs(s.avoided_kwh) <= s.u90_kwh, (s.avoided_kwh, s.u90_kwh)
    # and the report says where each period came from
    report = build_savings_report(res, registry, "fr")
    sources = next(tb for tb in report.all_tables() if tb.key == "sources")
    assert [(r[0], r[1], r[2]) for r in sources.rows] == [
        ("mairie-elec", "historique importé", first), ("mairie-elec", "relevés en direct (index bruts)", live_start)]

    # the data-quality ledger says the same, day by day: the import wrote its days, the analytics
    # run its live days (and the live days the import had filled before the gateway spoke)
    analyze(influx_db, registry, tmp_path / "data", end_ns=local_midnight_ns(today))
    rows = influx_db.query("SELECT source, origin, coverage_pct FROM data_quality WHERE meter = 'mairie-elec'")
    ledger = {local_date(int(r[0])): (r[1], r[2], r[3]) for s in rows for r in s.values}
    after = query_input_bundle(influx_db, registry, site_ids, first, today - dt.timedelta(days=1))
    day_source = after.meter("mairie-elec").day_source
    live_names = {"consumption_daily": "live", "reading": "live", "imported": "imported"}
    assert [ledger[d][0] for d in after.dates.astype(dt.date)] == [live_names[x] for x in day_source]
    assert {ledger[d][:2] for d in after.dates.astype(dt.date) if d < live_start} == {("imported", "enedis-mes-donnees")}
    assert {ledger[d][:2] for d in after.dates.astype(dt.date) if d >= live_start} == {("live", "mairie-linky")}
    assert all(ledger[d][2] == 100.0 for d in after.dates.astype(dt.date) if d < live_start)
