"""Weather per site: two stations imported, each site uses its own and says so.

Before, imported temperatures were pooled across every station: importing a second station's
file moved an unrelated meter's adjusted baseline by 5 %. Here the town hall names station A,
the sports hall station B (6 K warmer); importing B changes nothing for the town hall.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.jobs.imported import store_import
from analytics.imports import parse_import
from analytics.reports.inputs import query_input_bundle
from analytics.reports.savings_report import compute_savings
from analytics.savings import Period
from terril.registry import parse_registry
from terril.timeutil import PARIS

pytestmark = pytest.mark.integration

FIRST = dt.date(2025, 1, 1)
DAYS = [FIRST + dt.timedelta(days=i) for i in range(400)]


def _registry():  # noqa: ANN202
    site = {"kind": "town_hall", "floor_area_m2": 1000, "latitude": 50.45, "longitude": 2.79, "heating_carrier": "gas"}
    return parse_registry({
        "sites": [dict(site, id="mairie", name="Mairie", weather_station="62001001"),
                  dict(site, id="salle", name="Salle", kind="sports_hall", weather_station="62002001"),
                  dict(site, id="meteo", name="Météo", kind="weather")],
        "meters": [{"id": "mairie-gaz", "site": "mairie", "carrier": "gas"},
                   {"id": "salle-gaz", "site": "salle", "carrier": "gas"},
                   {"id": "meteo-t", "site": "meteo", "carrier": "weather", "usage": "weather"}],
        "devices": [],
    })


def _temps(offset_c: float) -> np.ndarray:
    doy = np.arange(len(DAYS))
    return 11.0 - 7.0 * np.cos(2 * np.pi * (doy - 15) / 365.0) + offset_c + np.sin(doy * 1.7) * 2.0


def _meteo_file(station: str, temps: np.ndarray) -> bytes:
    rows = ["NUM_POSTE;NOM_USUEL;LAT;LON;ALTI;AAAAMMJJ;RR;QRR;TN;QTN;TX;QTX;TM;QTM"]
    rows += [f" {station};STATION;50.4;2.8;40;{d:%Y%m%d};0.0;1;{t - 4:.1f};1;{t + 4:.1f};1;{t:.1f};1"
             for d, t in zip(DAYS, temps)]
    return ("\n".join(rows) + "\n").encode()


def _gas_file(temps: np.ndarray) -> bytes:
    kwh = 80.0 + 40.0 * np.maximum(15.0 - temps, 0.0)
    rows = ["time;value_kwh"] + [f"{dt.datetime(d.year, d.month, d.day, tzinfo=PARIS).isoformat()};{v:.3f}"
                                 for d, v in zip(DAYS, kwh)]
    return ("\n".join(rows) + "\n").encode()


def test_two_stations_each_site_its_own(influx_db) -> None:  # noqa: ANN001
    reg = _registry()
    ta, tb = _temps(0.0), _temps(6.0)
    store_import(influx_db, parse_import(_gas_file(ta), tz=PARIS), site="mairie", meter="mairie-gaz", source="grdf")
    store_import(influx_db, parse_import(_gas_file(tb), tz=PARIS), site="salle", meter="salle-gaz", source="grdf")
    store_import(influx_db, parse_import(_meteo_file("62001001", ta), tz=PARIS, station="62001001"), site="meteo",
                 meter="meteo-t", source="mf", station="62001001")
    base, rep = Period(FIRST, FIRST + dt.timedelta(days=364)), Period(FIRST + dt.timedelta(days=365), DAYS[-1])

    alone = query_input_bundle(influx_db, reg, ["mairie"], FIRST, DAYS[-1])
    before = compute_savings(alone, reg, ["mairie"], base, rep).meters[0]
    assert alone.weather_label_of("mairie") == "station:62001001 (imported)"

    # the second station arrives, for the sports hall
    store_import(influx_db, parse_import(_meteo_file("62002001", tb), tz=PARIS, station="62002001"), site="meteo",
                 meter="meteo-t", source="mf", station="62002001")
    both = query_input_bundle(influx_db, reg, ["mairie", "salle"], FIRST, DAYS[-1])
    assert np.allclose(both.temp_of("mairie"), ta, atol=0.051)
    assert np.allclose(both.temp_of("salle"), tb, atol=0.051)
    assert both.weather_label_of("salle") == "station:62002001 (imported)"
    after = compute_savings(both, reg, ["mairie", "salle"], base, rep)
    mairie = next(m for m in after.meters if m.meter == "mairie-gaz")
    salle = next(m for m in after.meters if m.meter == "salle-gaz")
    # the town hall's figures do not move when another site's station is imported
    assert mairie.adjusted_baseline_total_kwh == pytest.approx(before.adjusted_baseline_total_kwh, rel=1e-9)
    assert query_input_bundle(influx_db, reg, ["mairie"], FIRST, DAYS[-1]).sha256() == alone.sha256()
    # each site's model sees its own temperatures: both fit, no false savings
    for s in (mairie, salle):
        assert s.qualifies, s.reasons
        assert abs(s.avoided_kwh) <= max(s.u90_kwh, 1e-6 * s.adjusted_baseline_total_kwh)


def test_the_drift_job_reads_each_sites_own_station(influx_db) -> None:  # noqa: ANN001
    from analytics.jobs.drift import _weather
    from terril.timeutil import local_midnight_ns

    reg = _registry()
    ta, tb = _temps(0.0), _temps(6.0)
    for station, temps in (("62001001", ta), ("62002001", tb)):
        store_import(influx_db, parse_import(_meteo_file(station, temps), tz=PARIS, station=station), site="meteo",
                     meter="meteo-t", source="mf", station=station)
    start, end = local_midnight_ns(DAYS[0]), local_midnight_ns(DAYS[-1] + dt.timedelta(days=1))
    for site, temps in (("mairie", ta), ("salle", tb)):
        daily = _weather(influx_db, reg, start, end, site)
        got = np.array([daily[local_midnight_ns(d)] for d in DAYS])
        assert np.allclose(got, temps, atol=0.051), site


def test_report_and_drift_judge_a_stations_days_alike(influx_db) -> None:  # noqa: ANN001
    """Hourly observations of one station (a day with only four of them) and daily means of the other:
    the report inputs and the drift job take the same daily means and drop the same sparse day."""
    from analytics.jobs.drift import _weather
    from terril.readings import Point
    from terril.timeutil import local_midnight_ns

    reg = _registry()
    days = DAYS[:10]
    hourly = []
    for i, d in enumerate(days):
        hours = range(8, 12) if i == 3 else range(24)  # the fourth day: four observations only
        hourly += [Point("imported", {"site": "meteo", "meter": "meteo-t", "source": "mf", "kind": "temperature",
                                      "station": "62001001"}, {"temp_air_c": float(i + h / 10.0)},
                         local_midnight_ns(d) + h * 3600 * 10**9) for h in hours]
    influx_db.write_points(hourly)
    store_import(influx_db, parse_import(_meteo_file("62002001", _temps(0.0)), tz=PARIS, station="62002001"), site="meteo",
                 meter="meteo-t", source="mf", station="62002001")
    bundle = query_input_bundle(influx_db, reg, ["mairie", "salle"], days[0], days[-1])
    start, end = local_midnight_ns(days[0]), local_midnight_ns(days[-1] + dt.timedelta(days=1))
    for site in ("mairie", "salle"):
        drift = _weather(influx_db, reg, start, end, site)
        report = bundle.temp_of(site)
        got = np.array([drift.get(local_midnight_ns(d), np.nan) for d in days])
        assert np.array_equal(np.isnan(got), np.isnan(report)), site
        assert np.allclose(got, report, equal_nan=True), site
    expected = np.array([i + 1.15 for i in range(10)])
    expected[3] = np.nan  # four hours of 24: not a day of data
    assert np.allclose(bundle.temp_of("mairie"), expected, equal_nan=True)
    assert np.allclose(bundle.temp_of("salle"), _temps(0.0)[:10], atol=0.051)  # one daily value: a whole day
