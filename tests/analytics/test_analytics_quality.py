"""Known-truth tests for analytics.quality: the daily data-quality ledger."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.consumption import counter_to_deltas
from analytics.quality import quality_ledger
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
