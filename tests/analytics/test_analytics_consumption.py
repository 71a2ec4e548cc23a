"""Known-truth tests for analytics.consumption: counter events and DST-correct roll-ups."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.consumption import (
    calendar_boundaries_ns,
    counter_to_deltas,
    daily_counter_to_deltas,
    rollup,
    rollup_consumption,
)
from terril.timeutil import PARIS, local_midnight_ns

S = 1_000_000_000


def constant_load(day: dt.date, days: int, power_w: float, step_s: int = 600, start_wh: float = 1000.0):
    t0 = local_midnight_ns(day)
    t1 = local_midnight_ns(day + dt.timedelta(days=days))
    t = np.arange(t0, t1 + 1, step_s * S, dtype=np.int64)
    v = start_wh + power_w * (t - t0) / S / 3600.0
    return t, v


@pytest.mark.parametrize(("day", "hours"), [(dt.date(2024, 3, 31), 23), (dt.date(2024, 10, 27), 25), (dt.date(2024, 6, 1), 24)])
def test_dst_day_of_constant_1kw_sums_to_its_hours(day, hours):
    t, v = constant_load(day - dt.timedelta(days=1), 3, 1000.0)
    r = rollup_consumption(counter_to_deltas(t, v, max_power_w=5000), "day")
    i = int(np.flatnonzero(r.bucket_start_ns == local_midnight_ns(day))[0])
    assert r.sums[i] == pytest.approx(hours * 1000.0)
    assert r.coverage[i] == pytest.approx(1.0)
    assert (r.bucket_end_ns[i] - r.bucket_start_ns[i]) == hours * 3600 * S


def test_hourly_buckets_on_dst_days_are_23_and_25():
    for day, n in [(dt.date(2024, 3, 31), 23), (dt.date(2024, 10, 27), 25)]:
        b = calendar_boundaries_ns(local_midnight_ns(day), local_midnight_ns(day + dt.timedelta(days=1)), "hour", PARIS)
        assert b.size - 1 == n
        assert np.all(np.diff(b) == 3600 * S)


def test_straddling_interval_is_split_in_proportion_to_time():
    mid = local_midnight_ns(dt.date(2024, 1, 10))
    # one 3-hour interval from 23:00 to 02:00 holding 300 Wh: 100 on the first day, 200 on the next
    r = rollup(np.array([mid - 3600 * S]), np.array([mid + 7200 * S]), np.array([300.0]), "day")
    assert r.sums.tolist() == pytest.approx([100.0, 200.0])
    assert r.coverage.tolist() == pytest.approx([1 / 24, 2 / 24])


def test_month_rollup_of_march_2024_has_743_hours():
    t, v = constant_load(dt.date(2024, 3, 1), 31, 1000.0, step_s=3600)
    r = rollup_consumption(counter_to_deltas(t, v), "month")
    assert r.sums[0] == pytest.approx(743_000.0)
    assert r.coverage[0] == pytest.approx(1.0)


def test_counter_reset_books_no_consumption():
    t, v = constant_load(dt.date(2024, 1, 10), 1, 1200.0)
    v = v + 5_000_000.0
    k = 70
    v[k:] = v[k:] - v[k]  # the register restarts at 0 at reading k
    ic = counter_to_deltas(t, v, max_power_w=10_000)
    assert [e.kind for e in ic.events] == ["reset"]
    assert ic.deltas[k - 1] == 0.0
    assert ic.estimated[k - 1]
    assert ic.deltas.min() >= 0.0
    # everything else is measured: the day total misses exactly the reset interval
    assert ic.total == pytest.approx(1200.0 * 24 - 1200.0 / 6)


def test_rollover_books_the_wrapped_delta():
    t = np.arange(6, dtype=np.int64) * 600 * S + local_midnight_ns(dt.date(2024, 1, 10))
    v = np.array([999_700.0, 999_800.0, 999_900.0, 0.0 + 50.0, 150.0, 250.0])
    ic = counter_to_deltas(t, v, rollover_wh=1_000_000.0, max_power_w=5000)
    assert ic.deltas.tolist() == pytest.approx([100.0, 100.0, 150.0, 100.0, 100.0])
    assert [e.kind for e in ic.events] == ["rollover"]
    assert not ic.estimated.any()


def test_transient_zero_and_glitch_are_spikes_interpolated():
    t, v = constant_load(dt.date(2024, 1, 10), 1, 600.0)
    v[50] = 0.0
    v[90] = 1e9
    ic = counter_to_deltas(t, v, max_power_w=5000)
    assert [e.kind for e in ic.events] == ["spike", "spike"]
    assert ic.total == pytest.approx(600.0 * 24)
    assert ic.estimated.sum() == 4


def test_meter_replacement_both_directions_fills_from_neighbours():
    t, v = constant_load(dt.date(2024, 1, 10), 1, 600.0)
    v[40:] += 250_000.0  # new meter far above
    v[100:] -= 900_000.0 - 0.0  # ... then one far below (not near zero)
    v = v + 2_000_000.0
    ic = counter_to_deltas(t, v, max_power_w=5000)
    assert [e.kind for e in ic.events] == ["replacement", "replacement"]
    # fill at the neighbours' rate recovers the true total of a constant load
    assert ic.total == pytest.approx(600.0 * 24)


def test_multiplier_applied_once_and_duplicates_dropped():
    t = np.array([0, 600, 600, 1200], dtype=np.int64) * S + local_midnight_ns(dt.date(2024, 1, 10))
    v = np.array([10.0, 11.0, 11.0, 12.0])
    ic = counter_to_deltas(t, v, multiplier=1000.0)
    assert ic.deltas.tolist() == [1000.0, 1000.0]


def test_stuck_register_is_flagged():
    t, v = constant_load(dt.date(2024, 1, 10), 1, 600.0)
    v[60:80] = v[60]
    v[80:] -= v[80] - v[60]
    ic = counter_to_deltas(t, v, stuck_intervals=6)
    assert [e.kind for e in ic.events] == ["stuck"]
    assert ic.stuck.sum() == 20  # intervals 60..79 (v[80] == v[60])


def test_daily_counter_midnight_reset_is_not_an_event():
    t, v = constant_load(dt.date(2024, 10, 26), 3, 1000.0, start_wh=0.0)
    mids = [local_midnight_ns(dt.date(2024, 10, d)) for d in (26, 27, 28, 29)]
    day = np.searchsorted(mids, t, side="right") - 1
    dv = v - (np.array(mids)[day] - mids[0]) / S / 3600.0 * 1000.0  # energy since local midnight
    ic = daily_counter_to_deltas(t, dv, max_power_w=5000)
    assert ic.events == ()
    r = rollup_consumption(ic, "day")
    assert r.sums[:3].tolist() == pytest.approx([24_000.0, 25_000.0, 24_000.0])
    # an extra reboot in the afternoon is an unexpected reset
    dv2 = dv.copy()
    k = int(np.searchsorted(t, mids[0] + 15 * 3600 * S))
    dv2[k:day.searchsorted(1)] -= dv2[k]
    ic2 = daily_counter_to_deltas(t, dv2, max_power_w=5000)
    assert [e.kind for e in ic2.events] == ["reset"]


def test_a_reset_past_half_the_register_is_not_taken_for_a_rollover():
    # found end to end (tests/collector/test_mixed_fleet.py): a Linky at 705 MWh restarting from zero
    import numpy as np

    from analytics.consumption import counter_to_deltas

    t = np.arange(6) * 900 * 10**9
    v = np.array([705_743_762.0, 705_744_381.0, 705_745_000.0, 2_000.0, 4_000.0, 6_000.0])
    ic = counter_to_deltas(t, v, rollover_wh=1e9)
    assert [e.kind for e in ic.events] == ["reset"]
    assert ic.deltas[2] <= 2_000.0  # the post-reset value at most, never ~294 MWh
    # a genuine wrap of the 9-digit register is still a rollover, with its true delta
    w = np.array([999_998_000.0, 999_998_700.0, 999_999_400.0, 100.0, 800.0])
    ic2 = counter_to_deltas(np.arange(5) * 900 * 10**9, w, rollover_wh=1e9)
    assert [e.kind for e in ic2.events] == ["rollover"]
    assert ic2.deltas[2] == 700.0
