"""The report loader and the import/savings jobs against the real InfluxDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from analytics.jobs.imported import write_imported
from analytics.imports import parse_import
from analytics.reports.inputs import query_input_bundle
from terril.errors import IdentifierError
from terril.influx import InfluxClient
from terril.readings import Point
from terril.registry import load_registry
from terril.timeutil import PARIS, local_midnight_ns

pytestmark = pytest.mark.integration
DATA = Path(__file__).parent / "data" / "imports"


def _write(client: InfluxClient, points: list[Point]) -> None:
    client.write_points(points)


def test_loader_rollups_raw_counters_and_imports(influx_db: InfluxClient) -> None:
    reg = load_registry()
    days = [dt.date(2024, 3, 29) + dt.timedelta(days=i) for i in range(5)]  # spans the DST change
    pts = []
    for i, d in enumerate(days):
        t = local_midnight_ns(d)
        cov = 40.0 if i == 2 else 100.0  # a poorly covered day is missing
        pts.append(Point("consumption_daily", {"site": "ecole-curie", "meter": "ecole-curie-gaz", "carrier": "gas"},
                         {"consumption_wh": 1000.0 * (i + 1), "coverage_pct": cov}, t))
        pts.append(Point("weather_daily", {"site": "station-meteo"}, {"temp_mean_c": 5.0 + i, "hdd_costic_k_d": 13.0 - i}, t))
    # raw counters of the electricity meter, hourly, 2 kWh per hour → 48 kWh/day (46 on the 23 h day)
    t0 = local_midnight_ns(days[0]) - 3600 * 10**9
    for h in range(24 * 5 + 2):
        pts.append(Point("reading", {"site": "ecole-curie", "meter": "ecole-curie-elec", "carrier": "electricity",
                                     "device": "x"}, {"energy_import_wh": 1e6 + 2000.0 * h}, t0 + h * 3600 * 10**9))
    _write(influx_db, pts)
    # imported daily gas for the other school
    res = parse_import(b"date;value;unit\n2024-03-29;10;kWh\n2024-03-30;20;kWh\n", "daily", tz=PARIS)
    assert write_imported(influx_db, res, site="ecole-basly", meter="ecole-basly-gaz", source="grdf-2024",
                          kind="daily") == 2
    b = query_input_bundle(influx_db, reg, ["ecole-curie", "ecole-basly"], days[0], days[-1])
    gas = b.meter("ecole-curie-gaz")
    assert gas.source == "consumption_daily"
    assert np.isnan(gas.energy_kwh[2]) and gas.energy_kwh[[0, 1, 3, 4]].tolist() == [1.0, 2.0, 4.0, 5.0]
    elec = b.meter("ecole-curie-elec")
    assert elec.source == "reading"
    assert elec.energy_kwh[0] == pytest.approx(48.0) and elec.energy_kwh[2] == pytest.approx(46.0)  # 31 March: 23 h
    basly = b.meter("ecole-basly-gaz")
    assert basly.source == "imported" and basly.energy_kwh[:2].tolist() == [10.0, 20.0] and np.isnan(basly.energy_kwh[2])
    assert b.weather_source == "meter:station-meteo-meteo (weather_daily)" and b.temp_mean_c.tolist() == [5.0, 6.0, 7.0, 8.0, 9.0]
    assert b.meter("ecole-basly-elec").source == "none"
    assert len(b.sha256()) == 64


def test_imported_points_schema(influx_db: InfluxClient) -> None:
    res = parse_import((DATA / "invoices.csv").read_bytes(), "invoice", tz=PARIS)
    n = write_imported(influx_db, res, site="mairie", meter="mairie-gaz", source="grdf-2024", kind="invoice")
    rows = influx_db.query('SELECT energy_wh, cost_eur, period_end_ns, source, kind FROM imported WHERE meter = $m',
                           params={"m": "mairie-gaz"})[0]
    assert n == 3 and len(rows.values) == 3
    assert rows.values[0][1:] == [12_000_000.0, 1800.5, local_midnight_ns(dt.date(2024, 2, 1)), "grdf-2024", "invoice"]
    with pytest.raises(IdentifierError):
        write_imported(influx_db, res, site="mairie", meter="mairie-gaz", source="Bad Source", kind="invoice")
