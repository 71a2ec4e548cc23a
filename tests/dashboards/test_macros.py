"""Grafana's time math, intervals and variable formatting, against values worked out by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dashboards.macros import (
    TimeRange,
    Variable,
    calculate_interval_ms,
    interval_text,
    panel_range,
    parse_time,
    regex_escape,
    round_interval_ms,
    substitute,
    time_range,
)

PARIS = ZoneInfo("Europe/Paris")
# the last Sunday of March 2026: clocks go from 02:00 to 03:00 in Paris, the day has 23 hours
DST_DAY = dt.datetime(2026, 3, 29, 15, 0, tzinfo=PARIS)


def ms(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=PARIS).timestamp() * 1000)


def test_today_starts_at_local_midnight_even_on_a_dst_day() -> None:
    r = panel_range("now-30d", "now", DST_DAY, "now/d")
    assert r.from_ms == ms(2026, 3, 29, 0, 0)
    assert r.to_ms == ms(2026, 3, 29, 15, 0)
    assert r.from_ms == int(dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.timezone.utc).timestamp() * 1000)


def test_year_to_date_and_same_period_last_year() -> None:
    ytd = panel_range("now-30d", "now", DST_DAY, "now/y")
    assert (ytd.from_ms, ytd.to_ms) == (ms(2026, 1, 1), ms(2026, 3, 29, 15))
    last = panel_range("now-30d", "now", DST_DAY, "now/y", "1y")
    assert (last.from_ms, last.to_ms) == (ms(2025, 1, 1), ms(2025, 3, 29, 15))


def test_relative_ranges() -> None:
    r = panel_range("now-30d", "now", DST_DAY, "5m")
    assert r.to_ms - r.from_ms == 300_000
    assert parse_time("now-13M/M", DST_DAY) == dt.datetime(2025, 2, 1, tzinfo=PARIS)
    # whole local day when rounding the end of a range up
    end = parse_time("now-1d/d", DST_DAY, round_up=True)
    assert end == dt.datetime(2026, 3, 28, 23, 59, 59, 999000, tzinfo=PARIS)
    # 7 calendar days back across the DST change: same wall-clock time
    assert parse_time("now-7d", DST_DAY) == dt.datetime(2026, 3, 22, 15, 0, tzinfo=PARIS)
    with pytest.raises(ValueError):
        parse_time("2026-01-01", DST_DAY)


def test_interval_rounding_and_text() -> None:
    assert round_interval_ms(43 * 60_000) == 1_800_000  # 43 min -> 30 min
    assert interval_text(1_800_000) == "30m"
    assert interval_text(86_400_000) == "1d" and interval_text(500) == "500ms"
    r = time_range("now-30d", "now", DST_DAY)
    assert calculate_interval_ms(r, 1000, 10_000) == 1_800_000
    assert calculate_interval_ms(TimeRange(0, 60_000), 1000, 10_000) == 10_000  # the minimum wins


def test_substitution_like_grafana() -> None:
    r = TimeRange(1_000, 2_000)
    variables = {"site": Variable("site", ("ecole-basly",), False),
                 "meter": Variable("meter", ("a-elec", "b.gaz"), True)}
    q = 'SELECT x FROM "m" WHERE "site" = \'$site\' AND "meter" =~ /^$meter$/ AND $timeFilter GROUP BY time($__interval)'
    assert substitute(q, r, 60_000, variables) == (
        'SELECT x FROM "m" WHERE "site" = \'ecole-basly\' AND "meter" =~ /^(a-elec|b\\.gaz)$/ '
        "AND time >= 1000ms and time <= 2000ms GROUP BY time(1m)")
    assert substitute("${meter:regex} ${site:regex} [[site]] ${meter:csv} $__timeFilter", r, 1, variables) == (
        "(a-elec|b\\.gaz) ecole-basly ecole-basly a-elec,b.gaz time >= 1000ms and time <= 2000ms")
    one = {"meter": Variable("meter", ("only",), True)}
    assert substitute("/^$meter$/", r, 1, one) == "/^only$/"
    with pytest.raises(KeyError):
        substitute("$nosuch", r, 1, {})


def test_regex_escape() -> None:
    assert regex_escape("a/b.c(d)|e") == "a\\/b\\.c\\(d\\)\\|e"
