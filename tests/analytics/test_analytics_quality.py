"""Known-truth tests for analytics.quality: the daily data-quality ledger."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.consumption import counter_to_deltas
from analytics.quality import day_sources, imported_ledger, quality_ledger
from terril.timeutil import local_midnight_ns

S = 1_000_000_000


def test_ledger_counts_gap_reset_and_estimated_share():
    t0 = local_midnight_ns(dt.date(2024, 1, 10))
    t = t0 + np.arange(0, 2 * 144 + 1) * 600 * S  # two days at 10 min
    v = 1000.0 + np.arange(t.size) * 100.0  # 600 W
    keep = np.ones(t.size, bool)
    keep[30:48] = False  # a 3-hour gap (05:00-08:00) on day 1: readings 29 -> 48
    v[200:] -= v[200]  # reset on day 2
    ic = counter_to_deltas(t[keep], v[keep], max_power_w=5000)
    led = quality_ledger("m1", ic, expected_interval_s=600, first_ns=t0, last_ns=int(t[-1]))
    d1, d2 = led.days()[:2]
    assert d1.gap_count == 1 and d1.longest_gap_s == pytest.approx(19 * 600)
    assert d1.coverage_pct == pytest.approx(100.0 * (144 - 19) / 144)
    assert d1.resets == 0 and d2.resets == 1
    assert d2.coverage_pct == pytest.approx(100.0)
    # the reset interval books 0 (post-reset value 0): nothing estimated is booked that day
    assert d2.estimated_share_pct == pytest.approx(0.0)
    assert led.coverage_pct.shape == led.day_start_ns.shape


def _day_bounds(first: dt.date, n: int) -> np.ndarray:
    return np.array([local_midnight_ns(first + dt.timedelta(days=i)) for i in range(n + 1)], dtype=np.int64)


def test_imported_daily_rows_cover_their_local_day_and_a_missing_day_is_a_gap():
    first = dt.date(2024, 10, 25)  # 27 October 2024 has 25 hours
    bounds = _day_bounds(first, 6)
    t = np.delete(bounds[:-1], 3)  # 28 October missing
    led = imported_ledger("m", t, np.full(t.size, np.nan), bounds)
    assert led.coverage_pct.tolist() == [100.0, 100.0, 100.0, 0.0, 100.0, 100.0]
    assert led.gap_count.tolist() == [0, 0, 0, 1, 0, 0]
    assert led.longest_gap_s[3] == pytest.approx(86_400.0) and led.longest_gap_s[2] == 0.0
    assert not led.resets.any() and not led.stuck_intervals.any()


def test_imported_load_curve_coverage_follows_its_own_step():
    first = dt.date(2024, 1, 10)
    bounds = _day_bounds(first, 3)
    t = bounds[0] + np.arange(2 * 48) * 1800 * S  # two days at 30 min
    t = np.delete(t, range(20, 26))  # 10:00-13:00 missing on day 1
    led = imported_ledger("m", t, np.full(t.size, np.nan), bounds)
    assert led.coverage_pct.tolist() == [pytest.approx(87.5), pytest.approx(100.0), 0.0]
    assert led.gap_count.tolist() == [1, 0, 0] and led.longest_gap_s[0] == pytest.approx(3 * 3600)
    # a row that says where its period ends covers exactly that period
    one = imported_ledger("m", bounds[:1], np.array([float(bounds[0] + 6 * 3600 * S)]), bounds)
    assert one.coverage_pct[0] == pytest.approx(25.0)


def test_day_sources_live_wins_imported_fills_the_rest():
    live = np.array([100.0, 60.0, 10.0, 10.0, np.nan, np.nan])
    imported = np.array([100.0, 100.0, 100.0, 0.0, 100.0, np.nan])
    assert day_sources(live, imported).tolist() == ["live", "live", "imported", "live", "imported", "none"]
