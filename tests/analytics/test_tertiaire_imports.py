"""Décret tertiaire through InfluxDB: a reference year known only from its monthly invoices and
the station's Météo-France daily temperatures, a current year from daily values completed by
invoices for the months before them, and weather rollups completed by imported temperatures —
the path `terril import` takes (parse_import + store_import), then query_tertiaire_statuses."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.imports import parse_import
from analytics.jobs.imported import store_import
from analytics.jobs.tertiaire import query_tertiaire_statuses
from analytics.tertiaire import no_data_reasons
from terril.readings import Point
from terril.registry import parse_registry
from terril.timeutil import PARIS, local_midnight_ns

pytestmark = pytest.mark.integration


def _registry():  # noqa: ANN202
    site = {"kind": "town_hall", "floor_area_m2": 1500, "latitude": 50.45, "longitude": 2.79, "heating_carrier": "gas"}
    return parse_registry({
        "sites": [dict(site, id="mairie", name="Mairie", tertiaire=True, reference_year=2012),
                  dict(site, id="meteo", name="Météo", kind="weather", floor_area_m2=0, heating_carrier="none")],
        "meters": [{"id": "mairie-gaz", "site": "mairie", "carrier": "gas"},
                   {"id": "meteo-t", "site": "meteo", "carrier": "weather", "usage": "weather"}],
        "devices": [],
    })


def _invoices(year: int, months: range, kwh_per_day: float) -> bytes:
    lines = ["period_start;period_end;kwh;cost_eur"]
    for m in months:
        a = dt.date(year, m, 1)
        b = dt.date(year + m // 12, m % 12 + 1, 1)
        lines.append(f"{a};{b - dt.timedelta(days=1)};{kwh_per_day * (b - a).days:.0f};0")
    return "\n".join(lines).encode()


def _temperatures(first: dt.date, last: dt.date, tn: float, tx: float) -> bytes:
    lines = ["NUM_POSTE;AAAAMMJJ;TN;TX;TM"]
    d = first
    while d <= last:
        lines.append(f"62001001;{d:%Y%m%d};{tn};{tx};{(tn + tx) / 2}")
        d += dt.timedelta(days=1)
    return "\n".join(lines).encode()


def test_reference_from_invoices_and_year_from_days_and_invoices(influx_db) -> None:  # noqa: ANN001
    reg = _registry()

    def store(data: bytes, kind: str, meter: str, site: str) -> None:
        res = parse_import(data, kind, tz=PARIS)
        store_import(influx_db, res, site=site, meter=meter, source="t", station=res.station or None)

    # 2012: twelve monthly invoices at 1 000 kWh/day, weather 2–8 °C every day (DJU 13/day)
    store(_invoices(2012, range(1, 13), 1000.0), "invoice", "mairie-gaz", "mairie")
    store(_temperatures(dt.date(2012, 1, 1), dt.date(2012, 12, 31), 2.0, 8.0), "meteofrance_daily", "meteo-t", "meteo")
    # 2025: invoices January–November at 700 kWh/day, measured days from 15 November at 600 kWh/day
    store(_invoices(2025, range(1, 12), 700.0), "invoice", "mairie-gaz", "mairie")
    daily = "date;value;unit\n" + "\n".join(f"{dt.date(2025, 11, 15) + dt.timedelta(days=i)};600;kWh"
                                            for i in range(47))
    store(daily.encode(), "daily", "mairie-gaz", "mairie")
    # the station's rollups from 15 November (same climate), Météo-France history before
    store(_temperatures(dt.date(2025, 1, 1), dt.date(2025, 11, 30), 2.0, 8.0), "meteofrance_daily", "meteo-t", "meteo")
    influx_db.write_points([Point("weather_daily", {"site": "meteo"}, {"temp_mean_c": 5.0, "hdd_costic_k_d": 13.0},
                                  local_midnight_ns(dt.date(2025, 11, 15) + dt.timedelta(days=i))) for i in range(47)])

    statuses, _, _, dju_ref = query_tertiaire_statuses(influx_db, reg, 2025)
    (st,) = statuses
    (ref,) = st.reference
    (cur,) = st.current
    assert (ref.measured_days, ref.period_days, ref.origin) == (0, 366, "invoices")
    assert ref.raw_kwh == pytest.approx(1000.0 * 366)
    assert ref.dju == pytest.approx(13.0 * 366)  # the reference year's DJU, from the imported station
    assert (cur.measured_days, cur.period_days, cur.origin) == (47, 318, "mixed")
    # November's invoice counts for its 14 days before the measured ones only
    assert cur.raw_kwh == pytest.approx(700.0 * 318 + 600.0 * 47)
    assert cur.dju == pytest.approx(13.0 * 365)  # rollups where they exist, imported days before
    assert st.status != "no_data" and no_data_reasons(st) == ()
    assert st.reduction == pytest.approx(1 - cur.adjusted_kwh / ref.adjusted_kwh)
    assert 0.3 < st.reduction < 0.4


def test_without_the_reference_invoices_the_reason_says_what_to_import(influx_db) -> None:  # noqa: ANN001
    reg = _registry()
    res = parse_import(_invoices(2025, range(1, 13), 700.0), "invoice", tz=PARIS)
    store_import(influx_db, res, site="mairie", meter="mairie-gaz", source="t")
    (st,) = query_tertiaire_statuses(influx_db, reg, 2025)[0]
    assert st.status == "no_data"
    # the year's consumption is complete but no temperatures at all: both years lack their DJU or data
    assert no_data_reasons(st) == ("reference_incomplete", "year_weather")
    # the PDF's table says what is missing; what to do is said once, in its note (in a narrow column
    # the whole text ran over the cell's lines and was cut after « ou la »)
    from analytics.reports.tertiaire_report import build_tertiaire_report, no_data_why

    assert no_data_why(st, "fr").startswith("année de référence 2012 incomplète (moins de 90 % des jours) : importez")
    assert no_data_why(st, "fr", advice=False) == ("année de référence 2012 incomplète (moins de 90 % des jours) ; "
                                                   "pas de températures pour l'année 2025 (DJU)")
    report = build_tertiaire_report([st], reg, 2025, "fr", input_sha256="0" * 64, data_range="x", dju_reference=2500.0)
    relative = next(tb for tb in report.summary.tables if tb.key == "relative")
    assert "importez" not in relative.rows[0][-1]
    assert relative.notes.startswith("« Données insuffisantes » : importez ses factures (terril import --kind invoice")
    assert "importez les températures quotidiennes Météo-France" in relative.notes


def test_a_table_cell_longer_than_the_pdf_shows_ends_with_an_ellipsis() -> None:
    from analytics.reports.render import MAX_CELL_LINES, _capped

    lines = [f"line {i}," for i in range(MAX_CELL_LINES + 3)]
    shown = _capped(lines)
    assert len(shown) == MAX_CELL_LINES and shown[-1] == f"line {MAX_CELL_LINES - 1} …"
    assert _capped(lines[:MAX_CELL_LINES]) == lines[:MAX_CELL_LINES]
