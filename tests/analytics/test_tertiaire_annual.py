"""Décret tertiaire annual totals from daily values completed by imported invoices and months
(:func:`analytics.tertiaire.annual_total`): periods inside the year, straddling 1 January,
overlapping daily data or each other, and the coverage threshold."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from analytics.tertiaire import ImportedPeriod, annual_total, carrier_year


def _months(year: int, kwh_per_day: float, months: range = range(1, 13)) -> list[ImportedPeriod]:
    """One invoice per calendar month at a constant daily rate."""
    out = []
    for m in months:
        a = dt.date(year, m, 1)
        b = dt.date(year + m // 12, m % 12 + 1, 1)
        out.append(ImportedPeriod(a, b, kwh_per_day * (b - a).days, "invoice"))
    return out


def _days(a: dt.date, b: dt.date) -> np.ndarray:
    return np.arange(np.datetime64(a), np.datetime64(b))


def test_twelve_monthly_invoices_make_the_year_without_any_daily_data() -> None:
    # no daily values at all: the reference year is its invoices, each counted whole
    periods = [ImportedPeriod(p.start, p.end, 1000.0 * p.start.month, "monthly") for p in _months(2012, 1.0)]
    tot = annual_total(np.array([], dtype="datetime64[D]"), np.array([]), periods, 2012)
    assert tot.kwh == pytest.approx(sum(1000.0 * m for m in range(1, 13)))
    assert (tot.coverage, tot.measured_days, tot.period_days) == (1.0, 0, 366)


def test_a_period_straddling_new_year_counts_pro_rata_of_its_days() -> None:
    # a bimonthly bill 1 Dec 2024 – 31 Jan 2025 (62 days, 6 200 kWh): 31 of its days in 2025
    bill = ImportedPeriod(dt.date(2024, 12, 1), dt.date(2025, 2, 1), 6200.0)
    rest = _months(2025, 50.0, range(2, 13))  # February to December at 50 kWh/day
    tot = annual_total(np.array([], dtype="datetime64[D]"), np.array([]), [bill, *rest], 2025)
    assert tot.period_days == 365 and tot.coverage == 1.0
    assert tot.kwh == pytest.approx(6200.0 * 31 / 62 + 50.0 * 334)
    # and 2024 gets the other 31 days of it (alone, far below the threshold: no total)
    prev = annual_total(np.array([], dtype="datetime64[D]"), np.array([]), [bill, *rest], 2024)
    assert prev.period_days == 31 and math.isnan(prev.kwh)
    assert prev.coverage == pytest.approx(31 / 366)


def test_days_with_daily_data_are_not_counted_twice() -> None:
    # meters from 15 Nov 2025 at 80 kWh/day; invoices for every month of 2025 at 50 kWh/day:
    # November's invoice counts for its 14 days before the meters, December's not at all
    dates = _days(dt.date(2025, 11, 15), dt.date(2026, 1, 1))
    daily = np.full(dates.size, 80.0)
    tot = annual_total(dates, daily, _months(2025, 50.0), 2025)
    assert tot.measured_days == 47 and tot.period_days == 365 - 47
    assert tot.measured_kwh == pytest.approx(80.0 * 47)
    assert tot.period_kwh == pytest.approx(50.0 * (365 - 47))
    assert tot.kwh == pytest.approx(80.0 * 47 + 50.0 * 318)
    # a missing daily value (NaN) is not "measured": the invoice covers that day
    daily[3] = np.nan
    tot2 = annual_total(dates, daily, _months(2025, 50.0), 2025)
    assert (tot2.measured_days, tot2.period_days) == (46, 319)
    assert tot2.kwh == pytest.approx(80.0 * 46 + 50.0 * 319)


def test_overlapping_periods_the_earlier_keeps_the_shared_days() -> None:
    # a monthly value for January and an invoice 15 Jan – 14 Mar: the invoice counts its days
    # from 1 February only (15–31 January belong to January's value)
    jan = ImportedPeriod(dt.date(2025, 1, 1), dt.date(2025, 2, 1), 3100.0, "monthly")
    inv = ImportedPeriod(dt.date(2025, 1, 15), dt.date(2025, 3, 15), 5900.0, "invoice")
    tot = annual_total(np.array([], dtype="datetime64[D]"), np.array([]), [inv, jan], 2025)
    n_inv = (inv.end - inv.start).days  # 59
    free = (inv.end - dt.date(2025, 2, 1)).days  # 42 days not in January
    assert tot.period_days == 31 + free
    assert tot.period_kwh == pytest.approx(3100.0 + 5900.0 * free / n_inv)


def test_coverage_threshold_is_the_daily_rules() -> None:
    # eleven months of invoices (334 days, 91.5 %) are enough and scaled to the year; ten (304 days,
    # 83 %) are not
    eleven = annual_total(np.array([], dtype="datetime64[D]"), np.array([]), _months(2025, 10.0, range(1, 12)), 2025)
    assert eleven.coverage == pytest.approx(334 / 365)
    assert eleven.kwh == pytest.approx(10.0 * 365)
    ten = annual_total(np.array([], dtype="datetime64[D]"), np.array([]), _months(2025, 10.0, range(1, 11)), 2025)
    assert math.isnan(ten.kwh) and ten.coverage == pytest.approx(304 / 365)


def test_carrier_year_says_where_its_total_came_from() -> None:
    dates = _days(dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    kwh = np.where(dates >= np.datetime64("2025-11-01"), 80.0, np.nan)
    hdd = np.full(dates.size, 7.0)
    cy = carrier_year("gas", 2025, dates, kwh, hdd, 0.85, 2555.0, _months(2025, 50.0, range(1, 11)))
    assert (cy.measured_days, cy.period_days, cy.origin) == (61, 304, "mixed")
    assert cy.raw_kwh == pytest.approx(80.0 * 61 + 50.0 * 304)
    assert cy.dju == pytest.approx(7.0 * 365)
    assert cy.adjusted_kwh == pytest.approx(cy.raw_kwh)  # DJU of the year = DJU_ref
    only = carrier_year("gas", 2025, dates, np.full(dates.size, np.nan), hdd, 0.85, 2555.0, _months(2025, 50.0))
    assert only.origin == "invoices" and only.raw_kwh == pytest.approx(50.0 * 365)
    measured = carrier_year("gas", 2025, dates, np.full(dates.size, 2.0), hdd, 0.85, 2555.0)
    assert measured.origin == "measured" and measured.raw_kwh == pytest.approx(730.0)


def test_operat_rows_say_a_year_came_from_invoices() -> None:
    from analytics.tertiaire import CarrierYear, building_status, operat_rows

    ref = CarrierYear("gas", 2012, 1000.0, 1000.0, 2400.0, 0.85, 1.0, 0, 366)
    cur = CarrierYear("gas", 2025, 800.0, 800.0, 2400.0, 0.85, 1.0, 61, 304)
    st = building_status("mairie", 1500.0, 2012, 2025, [ref], [cur])
    rows = operat_rows(st, efa_name="Mairie", activity_category="town_hall")
    assert [(r.year, r.source) for r in rows] == [(2012, "invoice"), (2025, "meter+invoice")]
