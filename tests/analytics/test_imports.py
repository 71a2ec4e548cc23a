"""Historic imports: layouts, French decimals, local times, validation reasons (samples in data/imports)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analytics.imports import parse_import, parse_number, parse_time
from terril.timeutil import local_midnight_ns

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
    assert parse_time("2024-01-15T12:00:00")[0] == parse_time("2024-01-15T11:00:00Z")[0]
    assert parse_time("15/07/2024 12:00")[0] == parse_time("2024-07-15T10:00:00+00:00")[0]
    assert parse_time("31/01/2024")[0] == local_midnight_ns(dt.date(2024, 1, 31))
    with pytest.raises(ValueError):
        parse_time("2024-03-31T02:30:00")  # does not exist in Paris
    t, ambiguous = parse_time("2024-10-27T02:30:00")
    assert ambiguous and t == parse_time("2024-10-27T00:30:00Z")[0]  # first occurrence (UTC+2)


def test_enedis_load_curve_with_preamble_unit_and_step() -> None:
    r = parse_import(read("enedis_load_curve.csv"), "load_curve")
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
    r = parse_import(read("enedis_daily_index.csv"), "daily_index")
    assert r.rejected_by_reason() == {"index_decreased": 1}
    assert [fields(v)["energy_wh"] for v in r.values] == [pytest.approx(120_000.0), pytest.approx(130_500.0)]
    assert all(fields(v)["energy_wh"] >= 0 for v in r.values)


def test_gas_daily_volumes_converted_and_dst_day_is_not_a_gap() -> None:
    r = parse_import(read("gas_daily_m3.csv"), "daily", kwh_per_m3=11.2)
    assert r.rejected_by_reason() == {"negative_value": 1}
    assert fields(r.values[0]) == {"energy_wh": pytest.approx(1_120_000.0), "volume_m3": 100.0}
    # 2024-03-31 (23 h) → 04-01 is not a gap; 04-02 is missing
    assert r.gaps == ((local_midnight_ns(dt.date(2024, 4, 2)), local_midnight_ns(dt.date(2024, 4, 3))),)
    raw = parse_import(read("gas_daily_m3.csv"), "daily")
    assert fields(raw.values[0]) == {"volume_m3": 100.0} and raw.notes


def test_invoices_overlap_rejected_gap_reported() -> None:
    r = parse_import(read("invoices.csv"), "invoice")
    assert r.rejected_by_reason() == {"overlapping_period": 1}
    jan = fields(r.values[0])
    assert jan["energy_wh"] == 12_000_000.0 and jan["cost_eur"] == 1800.5
    assert jan["period_end_ns"] == local_midnight_ns(dt.date(2024, 2, 1))
    assert r.gaps == ((local_midnight_ns(dt.date(2024, 3, 1)), local_midnight_ns(dt.date(2024, 4, 1))),)


def test_temperature_and_generic() -> None:
    r = parse_import(read("temperature.csv"), "temperature")
    assert r.rejected_by_reason() == {"nonexistent_local_time": 1} and r.ambiguous_times == 1
    assert fields(r.values[0]) == {"temp_air_c": 5.5}
    g = parse_import(read("generic.csv"), "generic", unit="kWh")
    assert [fields(v)["energy_wh"] for v in g.values] == [1500.0, 2500.0]
    with pytest.raises(ValueError):
        parse_import(read("generic.csv"), "generic")
    bad = parse_import(b"time,value\n2024-01-01,3\n", "generic", unit="furlongs")
    assert bad.rejected_by_reason() == {"unknown_unit": 1}
