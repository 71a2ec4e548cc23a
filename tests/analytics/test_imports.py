"""Historic imports: layouts, French decimals, local times, validation reasons (samples in data/imports)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analytics.imports import parse_import, parse_number, parse_time
from terril.timeutil import PARIS, local_midnight_ns

DATA = Path(__file__).parent / "data" / "imports"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def fields(v) -> dict:  # noqa: ANN001
    return dict(v.fields)


def test_numbers_and_times() -> None:
    assert parse_number("1 234,5") == 1234.5
    assert parse_number("1\u00a0234,5") == 1234.5
    assert parse_number("1,234.5") == 1234.5
    assert parse_number("-3.5e2") == -350.0
    with pytest.raises(ValueError):
        parse_number("12 kWh")
    # naive = Europe/Paris: winter UTC+1, summer UTC+2
    assert parse_time("2024-01-15T12:00:00", tz=PARIS)[0] == parse_time("2024-01-15T11:00:00Z", tz=PARIS)[0]
    assert parse_time("15/07/2024 12:00", tz=PARIS)[0] == parse_time("2024-07-15T10:00:00+00:00", tz=PARIS)[0]
    assert parse_time("31/01/2024", tz=PARIS)[0] == local_midnight_ns(dt.date(2024, 1, 31))
    with pytest.raises(ValueError):
        parse_time("2024-03-31T02:30:00", tz=PARIS)  # does not exist in Paris
    t, ambiguous = parse_time("2024-10-27T02:30:00", tz=PARIS)
    assert ambiguous and t == parse_time("2024-10-27T00:30:00Z", tz=PARIS)[0]  # first occurrence (UTC+2)


def test_enedis_load_curve_with_preamble_unit_and_step() -> None:
    r = parse_import(read("enedis_load_curve.csv"), "load_curve", tz=PARIS)
    assert r.rows_read == 7 and r.rows_kept == 5
    assert r.rejected_by_reason() == {"bad_value": 1, "duplicate_time": 1}
    assert r.unit == "W" and r.step_s == 1800.0
    first = r.values[0]
    # 1200 W over the half hour ending 00:30 (+01:00) = 600 Wh booked at 00:00 local
    assert first.time_ns == local_midnight_ns(dt.date(2024, 1, 1))
    assert fields(first)["energy_wh"] == pytest.approx(600.0)
    assert fields(r.values[2])["energy_wh"] == pytest.approx(1100.5 / 2)  # decimal comma
    assert len(r.gaps) == 2  # the rejected 02:00 value and the missing 03:00–03:30


def test_daily_index_differences_and_decrease_rejected() -> None:
    r = parse_import(read("enedis_daily_index.csv"), "daily_index", tz=PARIS)
    assert r.rejected_by_reason() == {"index_decreased": 1}
    assert [fields(v)["energy_wh"] for v in r.values] == [pytest.approx(120_000.0), pytest.approx(130_500.0)]
    assert all(fields(v)["energy_wh"] >= 0 for v in r.values)


def test_gas_daily_volumes_converted_and_dst_day_is_not_a_gap() -> None:
    r = parse_import(read("gas_daily_m3.csv"), "daily", tz=PARIS, kwh_per_m3=11.2)
    assert r.rejected_by_reason() == {"negative_value": 1}
    assert fields(r.values[0]) == {"energy_wh": pytest.approx(1_120_000.0), "volume_m3": 100.0}
    # 2024-03-31 (23 h) → 04-01 is not a gap; 04-02 is missing
    assert r.gaps == ((local_midnight_ns(dt.date(2024, 4, 2)), local_midnight_ns(dt.date(2024, 4, 3))),)
    raw = parse_import(read("gas_daily_m3.csv"), "daily", tz=PARIS)
    assert fields(raw.values[0]) == {"volume_m3": 100.0} and raw.notes


def test_invoices_overlap_rejected_gap_reported() -> None:
    r = parse_import(read("invoices.csv"), "invoice", tz=PARIS)
    assert r.rejected_by_reason() == {"overlapping_period": 1}
    jan = fields(r.values[0])
    assert jan["energy_wh"] == 12_000_000.0 and jan["cost_eur"] == 1800.5
    assert jan["period_end_ns"] == local_midnight_ns(dt.date(2024, 2, 1))
    assert r.gaps == ((local_midnight_ns(dt.date(2024, 3, 1)), local_midnight_ns(dt.date(2024, 4, 1))),)


def test_temperature_and_generic() -> None:
    r = parse_import(read("temperature.csv"), "temperature", tz=PARIS)
    assert r.rejected_by_reason() == {"nonexistent_local_time": 1} and r.ambiguous_times == 1
    assert fields(r.values[0]) == {"temp_air_c": 5.5}
    g = parse_import(read("generic.csv"), "generic", tz=PARIS, unit="kWh")
    assert [fields(v)["energy_wh"] for v in g.values] == [1500.0, 2500.0]
    with pytest.raises(ValueError):
        parse_import(read("generic.csv"), "generic", tz=PARIS)
    bad = parse_import(b"time,value\n2024-01-01,3\n", "generic", tz=PARIS, unit="furlongs")
    assert bad.rejected_by_reason() == {"unknown_unit": 1}


def test_the_towns_zone_sets_the_day_boundaries() -> None:
    """The same dated file read for a Paris town and a Martinique town (UTC−4, no clock change):
    each value starts at the town's midnight; Paris's clock-change days keep 23 and 25 hours,
    Martinique's last 24; a stamp with its own offset keeps its instant in either zone."""
    from zoneinfo import ZoneInfo

    mq = ZoneInfo("America/Martinique")
    data = b"date;value_kwh\n2024-03-30;1\n2024-03-31;2\n2024-04-01;3\n2024-10-26;4\n2024-10-27;5\n2024-10-28;6\n"
    paris, mart = parse_import(data, tz=PARIS), parse_import(data, tz=mq)
    h = 3600 * 10**9
    day = {v.time_ns: v.span_s / 3600 for v in paris.values}
    assert day[local_midnight_ns(dt.date(2024, 3, 31), PARIS)] == 23.0
    assert day[local_midnight_ns(dt.date(2024, 10, 27), PARIS)] == 25.0
    assert [v.span_s / 3600 for v in mart.values] == [24.0] * 6
    # 2024-03-31 00:00 in Paris is 2024-03-30T23:00Z; in Martinique 2024-03-31T04:00Z
    assert paris.values[1].time_ns == int(dt.datetime(2024, 3, 30, 23, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    assert mart.values[1].time_ns - paris.values[1].time_ns == 5 * h
    assert mart.values[4].time_ns - paris.values[4].time_ns == 6 * h  # Paris back on UTC+1 after 27 October
    assert paris.sums() == mart.sums() == {"energy_wh": 21_000.0}
    # a naive wall time is the town's; one with an offset is the same instant in any town
    assert parse_time("2024-03-31T02:30:00", tz=mq)[0] == parse_time("2024-03-31T06:30:00Z", tz=PARIS)[0]
    assert parse_time("2024-03-31T03:30:00+02:00", tz=mq)[0] == parse_time("2024-03-31T03:30:00+02:00", tz=PARIS)[0]


def test_gas_days_start_at_six_in_the_towns_zone() -> None:
    """GRDF gas day D runs 06:00 → 06:00 local: the same instants, read in Paris and in Réunion
    (UTC+4), fall in different gas days."""
    from zoneinfo import ZoneInfo

    rec = (b'{"consommation": {"date_debut_consommation": "2024-01-10T03:00:00Z", '
           b'"date_fin_consommation": "2024-01-11T03:00:00Z", "volume_brut": 10, "energie": 110, '
           b'"coeff_calcul": {"coeff_conversion": 11.0}}}')
    # 03:00Z is 04:00 in Paris (before 06:00: gas day of the 9th…10th) and 07:00 in Réunion (gas day of the 10th)
    paris = parse_import(rec, "grdf_adict", tz=PARIS)
    reunion = parse_import(rec, "grdf_adict", tz=ZoneInfo("Indian/Reunion"))
    assert paris.values[0].time_ns == local_midnight_ns(dt.date(2024, 1, 9), PARIS)
    assert reunion.values[0].time_ns == local_midnight_ns(dt.date(2024, 1, 10), ZoneInfo("Indian/Reunion"))
