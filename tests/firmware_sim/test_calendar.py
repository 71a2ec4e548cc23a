"""Known-truth tests of terril.calendar: Easter, public holidays, zone-B school holidays, school weeks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from terril.calendar import (
    day_types, easter_sunday, is_closed, is_public_holiday, is_school_holiday, load_school_holidays, local_dates,
    parse_closure,
    parse_school_holidays, public_holidays, school_occupancy,
)
from terril.errors import ConfigError


@pytest.mark.parametrize("year, expected", [
    (2011, dt.date(2011, 4, 24)), (2019, dt.date(2019, 4, 21)), (2024, dt.date(2024, 3, 31)),
    (2025, dt.date(2025, 4, 20)), (2038, dt.date(2038, 4, 25)), (2008, dt.date(2008, 3, 23)),
])
def test_easter_sunday_known_dates(year: int, expected: dt.date) -> None:
    assert easter_sunday(year) == expected


def test_public_holidays_2024() -> None:
    days = public_holidays(2024)
    assert len(days) == 11
    assert days[dt.date(2024, 4, 1)] == "easter_monday"
    assert days[dt.date(2024, 5, 9)] == "ascension"
    assert days[dt.date(2024, 5, 20)] == "whit_monday"
    assert days[dt.date(2024, 7, 14)] == "bastille_day"
    assert is_public_holiday(["2024-11-11", "2024-11-12"]).tolist() == [True, False]


def test_school_holiday_file_covers_every_school_year() -> None:
    cal = load_school_holidays("B")
    for start in range(2010, 2028):
        year = f"{start}-{start + 1}"
        names = {h.name for h in cal.holidays if h.school_year == year}
        assert {"toussaint", "christmas", "winter", "spring", "summer"} <= names, year
    for h in cal.holidays:
        assert h.last_day >= h.first_day
        assert (h.last_day - h.first_day).days <= 70
    assert any(h.status == "estimated" for h in cal.holidays)


def test_known_zone_b_holidays() -> None:
    # 2024-2025, zone B (official): Toussaint 19 Oct - 3 Nov, winter 8 - 23 Feb, spring 5 - 21 Apr
    days = ["2024-10-18", "2024-10-21", "2024-11-04", "2025-02-10", "2025-02-24", "2025-04-14", "2025-08-15"]
    assert is_school_holiday(days).tolist() == [False, True, False, True, False, True, True]


def test_school_week_variants_on_a_wednesday() -> None:
    wed, tue, toussaint_wed = "2024-11-13", "2024-11-12", "2024-10-23"
    four = day_types([tue, wed, toussaint_wed], "four_days")
    half = day_types([tue, wed, toussaint_wed], "four_and_half_days")
    five = day_types([tue, wed, toussaint_wed], "five_days")
    assert four.school_day.tolist() == [True, False, False]
    assert half.school_day.tolist() == [True, True, False]
    assert half.school_afternoon.tolist() == [True, False, False]
    assert five.school_afternoon.tolist() == [True, True, False]
    assert four.wednesday.tolist() == [False, True, True]
    assert four.holiday.tolist() == [False, False, True]


def test_no_school_on_weekends_and_public_holidays() -> None:
    types = day_types(["2024-11-09", "2024-11-10", "2024-11-11", "2024-05-09"], "five_days")
    assert not types.school_day.any()
    assert types.weekend.tolist() == [True, True, False, False]
    assert types.public_holiday.tolist() == [False, False, True, True]


def test_school_occupancy_follows_the_timetable() -> None:
    types = day_types(["2024-11-13", "2024-11-14"], "four_and_half_days")  # Wednesday, Thursday
    hours = np.array([9.0, 14.0, 9.0, 14.0, 3.0])
    occ = school_occupancy(hours, types, np.array([0, 0, 1, 1, 1]))
    assert occ.tolist() == [1.0, 0.0, 1.0, 1.0, 0.0]


def test_local_dates_across_dst() -> None:
    # 2024-03-30T23:30Z is 00:30 on 31 March in Paris (UTC+1); 2024-10-26T22:30Z is 00:30 on 27 Oct (UTC+2)
    ns = np.array([np.datetime64("2024-03-30T23:30", "ns"), np.datetime64("2024-10-26T22:30", "ns")]).astype(np.int64)
    assert local_dates(ns).astype(str).tolist() == ["2024-03-31", "2024-10-27"]


def test_overlapping_periods_are_rejected() -> None:
    text = """
[[holidays]]
school_year = "2024-2025"
name = "toussaint"
first_day = 2024-10-19
last_day = 2024-11-03
[[holidays]]
school_year = "2024-2025"
name = "christmas"
first_day = 2024-11-01
last_day = 2024-11-05
"""
    with pytest.raises(ConfigError, match="overlaps"):
        parse_school_holidays(text)


def test_annual_closures_wrap_the_year_end() -> None:
    days = np.arange(np.datetime64("2024-12-22"), np.datetime64("2025-01-03"))
    closed = is_closed(days, ("12-24/01-01",))
    assert [str(d) for d in days[closed]] == [f"2024-12-{d}" for d in range(24, 32)] + ["2025-01-01"]
    summer = is_closed(np.array(["2025-07-31", "2025-08-01", "2025-08-25", "2025-08-26"], dtype="datetime64[D]"),
                       ["08-01/08-25"])
    assert summer.tolist() == [False, True, True, False]
    assert not is_closed(days, ()).any()
    assert parse_closure("02-29/03-01") == ((2, 29), (3, 1))
    for bad in ("0801/0825", "08-01", "13-01/13-02", "08-01/08-25/09-01"):
        with pytest.raises(ValueError, match="closure"):
            parse_closure(bad)
