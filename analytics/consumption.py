"""Consumption: raw counter readings to interval consumption, and calendar roll-ups.

Counters are stored raw (as the meter said them); this module derives what was consumed
between two readings, detects and flags counter events (reset, rollover, meter replacement,
spike, stuck register) so that they are never booked as negative or giant consumption, and
sums interval consumption into local calendar buckets (hour, day, month in Europe/Paris,
with 23- and 25-hour DST days).

Rules (see ``docs/analytics.md`` § Consumption for the full text):

* Duplicated timestamps keep the last value; non-finite values are dropped.
* The meter multiplier is applied once, first; every threshold (``rollover_wh``,
  ``max_power_w``) is then in the scaled unit.
* A single reading that breaks an otherwise plausible sequence (a transient 0, a glitch up
  or down) is a **spike**: it is replaced by linear interpolation between its neighbours and
  both intervals around it are marked estimated.
* A drop to near zero is a **reset**: the interval books the post-reset value (energy
  counted since the reset; a lower bound, like Home Assistant's ``total_increasing``),
  capped by the plausible maximum, and is marked estimated.
* A drop that fits a wrap at ``rollover_wh`` is a **rollover**: the interval books
  ``after + rollover_wh - before`` and stays measured.
* Any other drop, or a rise above the plausible maximum, is a **replacement** (the new
  index is far from the old one): the interval books the mean rate of the nearest measured
  intervals before and after it times its duration, marked estimated.
* A run of at least ``stuck_intervals`` zero deltas while consumption is expected is
  **stuck**: the deltas stay 0 (nothing can be recovered) and the ``stuck`` mask is set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from terril.timeutil import datetime_to_ns, local_tz

NS_PER_S = 1_000_000_000
S_PER_H = 3600.0

EventKind = Literal["reset", "rollover", "replacement", "spike", "stuck"]
EVENT_KINDS: tuple[str, ...] = ("reset", "rollover", "replacement", "spike", "stuck")
Period = Literal["hour", "day", "month"]


@dataclass(frozen=True, slots=True)
class CounterEvent:
    """One counter event.

    Attributes
    ----------
    kind : str
        One of :data:`EVENT_KINDS`.
    time_ns : int
        Time of the reading that revealed the event (UTC ns). For ``stuck``, the start of
        the frozen run.
    before : float
        Counter value before the event (for ``spike``: the interpolated, expected value).
        [counter unit × multiplier]
    after : float
        Counter value after the event (for ``spike``: the rejected reading).
    """

    kind: str
    time_ns: int
    before: float
    after: float


@dataclass(frozen=True, eq=False)
class IntervalConsumption:
    """Consumption between consecutive readings.

    Attributes
    ----------
    start_ns, end_ns : ndarray of int64
        Interval bounds (UTC ns); contiguous: ``start_ns[1:] == end_ns[:-1]``.
    deltas : ndarray of float
        Consumption in each interval, never negative. [counter unit × multiplier, e.g. Wh]
    estimated : ndarray of bool
        True where the delta is an estimate (spike, reset, replacement), False where measured.
    stuck : ndarray of bool
        True for intervals inside a stuck run (delta 0 but consumption was expected).
    events : tuple of CounterEvent
        Events in time order.
    """

    start_ns: np.ndarray
    end_ns: np.ndarray
    deltas: np.ndarray
    estimated: np.ndarray
    stuck: np.ndarray
    events: tuple[CounterEvent, ...]

    @property
    def total(self) -> float:
        """Sum of all deltas. [counter unit × multiplier]"""
        return float(self.deltas.sum())

    def count(self, kind: str) -> int:
        """Number of events of ``kind``."""
        return sum(1 for e in self.events if e.kind == kind)


def _clean(times_ns: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times_ns, dtype=np.int64)
    v = np.asarray(values, dtype=float)
    if t.shape != v.shape or t.ndim != 1:
        raise ValueError("times_ns and values must be 1-D arrays of the same length")
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    if t.size and np.any(np.diff(t) < 0):
        raise ValueError("times_ns must be sorted in increasing order")
    if t.size:
        keep_last = np.r_[t[1:] != t[:-1], True]
        t, v = t[keep_last], v[keep_last]
    return t, v


def _plausible_cap(dt_s: np.ndarray, max_power_w: float | None, quantum: float, tolerance: float) -> np.ndarray:
    if max_power_w is None:
        return np.full(dt_s.shape, np.inf)
    return max_power_w * dt_s / S_PER_H * (1.0 + tolerance) + quantum


def _find_spikes(t: np.ndarray, v: np.ndarray, cap: np.ndarray, quantum: float) -> np.ndarray:
    """Indices of single readings that break an otherwise plausible sequence."""
    if v.size < 3:
        return np.zeros(0, dtype=np.int64)
    d = np.diff(v)
    bad = (d < -quantum) | (d > cap)
    bridge = v[2:] - v[:-2]
    bridge_ok = (bridge >= -quantum) & (bridge <= cap[:-1] + cap[1:])
    cand = np.flatnonzero((bad[:-1] | bad[1:]) & bridge_ok) + 1
    # a reading adjacent to an accepted spike is judged against the spike, not the cleaned
    # series: keep the first of two neighbours (greedy, in time order)
    out: list[int] = []
    for j in cand.tolist():
        if out and out[-1] == j - 1:
            continue
        out.append(j)
    return np.asarray(out, dtype=np.int64)


def _fill_rates(rate: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """Mean of the nearest measured rate before and after each position (NaN → 0)."""
    n = rate.size
    idx = np.arange(n)
    prev_idx = np.where(measured, idx, -1)
    prev_idx = np.maximum.accumulate(prev_idx)
    next_idx = np.where(measured, idx, n)
    next_idx = np.minimum.accumulate(next_idx[::-1])[::-1]
    padded = np.r_[rate, np.nan]
    prev_rate = np.where(prev_idx >= 0, padded[np.clip(prev_idx, 0, n)], np.nan)
    next_rate = np.where(next_idx < n, padded[next_idx], np.nan)
    both = np.vstack([prev_rate, next_rate])
    with np.errstate(invalid="ignore"):
        cnt = np.sum(np.isfinite(both), axis=0)
        s = np.nansum(both, axis=0)
    return np.where(cnt > 0, s / np.maximum(cnt, 1), 0.0)


def _stuck_runs(deltas: np.ndarray, measured: np.ndarray, expected: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    z = (deltas == 0) & measured & expected
    if not z.any():
        return []
    edges = np.diff(np.r_[0, z.astype(np.int8), 0])
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [(int(s), int(e)) for s, e in zip(starts, ends) if e - s >= min_len]


def counter_to_deltas(
    times_ns: np.ndarray,
    values: np.ndarray,
    *,
    multiplier: float = 1.0,
    rollover_wh: float | None = None,
    max_power_w: float | None = None,
    stuck_intervals: int | None = None,
    expected: np.ndarray | None = None,
    reset_fraction: float = 0.05,
    tolerance: float = 0.1,
) -> IntervalConsumption:
    """Interval consumption from a cumulative counter, with counter events flagged.

    Parameters
    ----------
    times_ns : ndarray of int64
        Reading times, sorted, duplicates allowed (the last value wins). [UTC ns]
    values : ndarray of float
        Raw counter values. [raw counter unit]
    multiplier : float
        Meter multiplier (e.g. CT ratio or pulse weight), applied once. [scaled unit / raw unit]
    rollover_wh : float, optional
        Value at which the counter wraps to 0, after the multiplier. [Wh, or scaled unit]
    max_power_w : float, optional
        Highest plausible mean power; a delta above ``max_power_w * dt`` is implausible.
        Without it, only drops are detected (no upward spikes or upward replacements). [W]
    stuck_intervals : int, optional
        A run of at least this many zero deltas while ``expected`` is a stuck register.
    expected : ndarray of bool, optional
        Per interval (length ``n - 1`` after cleaning), whether consumption is expected.
        Default: always.
    reset_fraction : float
        A drop to at most this fraction of the previous value is a reset. [1]
    tolerance : float
        Relative margin on the plausible maximum. [1]

    Returns
    -------
    IntervalConsumption
    """
    t, raw = _clean(times_ns, values)
    v = raw * float(multiplier)
    quantum = abs(float(multiplier)) * 1e-9 + 0.0
    if t.size < 2:
        e = np.zeros(0, dtype=np.int64)
        return IntervalConsumption(e, e.copy(), np.zeros(0), np.zeros(0, bool), np.zeros(0, bool), ())
    dt_s = np.diff(t) / NS_PER_S
    cap = _plausible_cap(dt_s, max_power_w, abs(float(multiplier)), tolerance)
    events: list[CounterEvent] = []
    estimated = np.zeros(dt_s.size, dtype=bool)

    spikes = _find_spikes(t, v, cap, quantum)
    for j in spikes.tolist():
        w = (t[j] - t[j - 1]) / (t[j + 1] - t[j - 1])
        interp = v[j - 1] + w * (v[j + 1] - v[j - 1])
        events.append(CounterEvent("spike", int(t[j]), float(interp), float(v[j])))
        v[j] = interp
        estimated[j - 1] = estimated[j] = True

    d = np.diff(v)
    before, after = v[:-1], v[1:]
    deltas = d.copy()
    normal = (d >= -quantum) & (d <= cap)
    deltas[normal & (d < 0)] = 0.0
    fill = np.zeros(d.size, dtype=bool)
    kinds = np.full(d.size, "", dtype=object)

    neg = d < -quantum
    if rollover_wh is not None:
        wrapped = d + rollover_wh
        # a wrap must also be plausible for this meter: at most 20x its usual rate (95th percentile
        # of the measured increments), or 1 % of the register without enough history. Without that
        # bound, a reset of a register past half its range would book up to half the range.
        inc = (d > quantum) & (d <= cap)
        if inc.sum() >= 3:
            usual = float(np.percentile(d[inc] / dt_s[inc], 95))
            plausible = np.maximum(20.0 * usual * dt_s, 10.0 * quantum)
        else:
            plausible = np.full(d.size, 0.01 * rollover_wh)
        lim = np.minimum(np.minimum(cap, 0.5 * rollover_wh), plausible)
        roll = neg & (wrapped >= 0) & (wrapped <= lim) & (before >= 0.5 * rollover_wh)
        deltas[roll] = wrapped[roll]
        kinds[roll] = "rollover"
        neg &= ~roll
    reset = neg & ((after <= reset_fraction * np.abs(before)) | (after <= cap))
    deltas[reset] = np.minimum(np.maximum(after[reset], 0.0), cap[reset])
    kinds[reset] = "reset"
    estimated |= reset
    repl = (neg & ~reset) | (d > cap)
    kinds[repl] = "replacement"
    fill |= repl
    estimated |= repl

    if fill.any():
        measured = ~estimated
        rate = np.where(measured, deltas / dt_s, np.nan)
        deltas[fill] = (_fill_rates(rate, measured) * dt_s)[fill]

    for i in np.flatnonzero(kinds != "").tolist():
        events.append(CounterEvent(str(kinds[i]), int(t[i + 1]), float(before[i]), float(after[i])))

    stuck = np.zeros(d.size, dtype=bool)
    if stuck_intervals is not None:
        exp = np.ones(d.size, bool) if expected is None else np.asarray(expected, dtype=bool)
        if exp.shape != d.shape:
            raise ValueError("expected must have one value per interval")
        for s, e in _stuck_runs(deltas, ~estimated, exp, stuck_intervals):
            stuck[s:e] = True
            events.append(CounterEvent("stuck", int(t[s]), float(v[s]), float(v[e])))

    events.sort(key=lambda ev: ev.time_ns)
    return IntervalConsumption(t[:-1].copy(), t[1:].copy(), deltas, estimated, stuck, tuple(events))


def daily_counter_to_deltas(
    times_ns: np.ndarray,
    values: np.ndarray,
    *,
    multiplier: float = 1.0,
    max_power_w: float | None = None,
    tz: dt.tzinfo | None = None,
    midnight_tolerance_s: float = 900.0,
    tolerance: float = 0.1,
) -> IntervalConsumption:
    """Interval consumption from a counter the device resets every local midnight.

    A drop whose interval contains a local midnight, or ends within ``midnight_tolerance_s``
    after one, is the expected daily reset: the interval books the post-reset value (energy
    since midnight) plus the energy between the last reading and midnight at the rate of the
    previous interval (that part is an estimate, so the interval is marked estimated when
    it is not zero; no event). Any other drop is an
    unexpected ``reset`` (reboot): it books the post-reset value, marked estimated. Spikes
    and implausible rises are handled as in :func:`counter_to_deltas` (a rise above the
    plausible maximum is a ``spike`` filled from neighbouring rates).

    Parameters
    ----------
    times_ns : ndarray of int64
        Reading times, sorted. [UTC ns]
    values : ndarray of float
        Raw daily counter values. [raw unit]
    multiplier : float
        Applied once. [scaled unit / raw unit]
    max_power_w : float, optional
        Highest plausible mean power. [W]
    tz : tzinfo
        Time zone whose midnight resets the counter (default Europe/Paris).
    midnight_tolerance_s : float
        Late-reset tolerance after midnight. [s]
    tolerance : float
        Relative margin on the plausible maximum. [1]
    """
    tz = tz or local_tz()
    t, raw = _clean(times_ns, values)
    v = raw * float(multiplier)
    if t.size < 2:
        e = np.zeros(0, dtype=np.int64)
        return IntervalConsumption(e, e.copy(), np.zeros(0), np.zeros(0, bool), np.zeros(0, bool), ())
    dt_s = np.diff(t) / NS_PER_S
    cap = _plausible_cap(dt_s, max_power_w, abs(float(multiplier)), tolerance)
    quantum = abs(float(multiplier)) * 1e-9
    events: list[CounterEvent] = []
    estimated = np.zeros(dt_s.size, dtype=bool)
    for j in _find_spikes(t, v, cap, quantum).tolist():
        # a legitimate midnight reset also breaks the sequence: only interpolate when the
        # bridge does not cross a midnight
        w = (t[j] - t[j - 1]) / (t[j + 1] - t[j - 1])
        interp = v[j - 1] + w * (v[j + 1] - v[j - 1])
        events.append(CounterEvent("spike", int(t[j]), float(interp), float(v[j])))
        v[j] = interp
        estimated[j - 1] = estimated[j] = True

    bounds = calendar_boundaries_ns(int(t[0]), int(t[-1]), "day", tz)
    day_before = np.searchsorted(bounds, t[:-1], side="right")
    day_after = np.searchsorted(bounds, t[1:], side="right")
    last_midnight = bounds[np.clip(day_after - 1, 0, bounds.size - 1)]
    near_midnight = (t[1:] - last_midnight) <= midnight_tolerance_s * NS_PER_S
    crosses = (day_after != day_before) | near_midnight

    d = np.diff(v)
    deltas = d.copy()
    drop = d < -quantum
    deltas[drop] = np.minimum(np.maximum(v[1:][drop], 0.0), cap[drop])
    deltas[~drop & (d < 0)] = 0.0
    unexpected = drop & ~crosses
    estimated |= unexpected
    # expected midnight reset: the energy between the last reading and midnight is not in
    # the post-reset value; add it at the rate of the previous interval (estimated)
    expected_reset = drop & crosses
    pre_s = np.maximum(last_midnight - t[:-1], 0) / NS_PER_S
    prev_rate = np.r_[0.0, np.where(estimated[:-1] | (d[:-1] < 0), 0.0, d[:-1]) / dt_s[:-1]]
    extra = np.where(expected_reset, prev_rate * pre_s, 0.0)
    deltas = np.minimum(deltas + extra, np.maximum(cap, deltas))
    estimated |= expected_reset & (extra > 0)
    jump = ~drop & (d > cap)
    estimated |= jump
    if jump.any():
        measured = ~estimated
        rate = np.where(measured, deltas / dt_s, np.nan)
        deltas[jump] = (_fill_rates(rate, measured) * dt_s)[jump]
    for i in np.flatnonzero(unexpected).tolist():
        events.append(CounterEvent("reset", int(t[i + 1]), float(v[i]), float(v[i + 1])))
    for i in np.flatnonzero(jump).tolist():
        events.append(CounterEvent("spike", int(t[i + 1]), float(v[i]), float(v[i + 1])))
    events.sort(key=lambda ev: ev.time_ns)
    return IntervalConsumption(
        t[:-1].copy(), t[1:].copy(), deltas, estimated, np.zeros(d.size, bool), tuple(events)
    )


# ---------------------------------------------------------------------------------------
# calendar roll-ups


def _local_start(day: dt.date, tz: dt.tzinfo) -> int:
    return datetime_to_ns(dt.datetime(day.year, day.month, day.day, tzinfo=tz))


def calendar_boundaries_ns(first_ns: int, last_ns: int, period: Period, tz: dt.tzinfo | None = None) -> np.ndarray:
    """Local calendar bucket boundaries covering ``[first_ns, last_ns]``.

    Parameters
    ----------
    first_ns, last_ns : int
        Span to cover. [UTC ns]
    period : {"hour", "day", "month"}
        Bucket size, in local time of ``tz``.
    tz : tzinfo
        Calendar time zone (default Europe/Paris). Hourly buckets assume whole-hour UTC
        offsets (true for Europe/Paris), so a DST day has 23 or 25 hourly buckets.

    Returns
    -------
    ndarray of int64
        Increasing boundaries (UTC ns); bucket k is ``[b[k], b[k+1])``.
    """
    tz = tz or local_tz()
    if last_ns < first_ns:
        raise ValueError("last_ns before first_ns")
    first_day = dt.datetime.fromtimestamp(first_ns // NS_PER_S, tz).date()
    out: list[int] = []
    if period == "month":
        y, m = first_day.year, first_day.month
        while True:
            b = _local_start(dt.date(y, m, 1), tz)
            out.append(b)
            if b >= last_ns and len(out) > 1:
                break
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return np.asarray(out, dtype=np.int64)
    if period not in ("day", "hour"):
        raise ValueError(f"unknown period {period!r} (hour, day, month)")
    day = first_day
    while True:
        b = _local_start(day, tz)
        out.append(b)
        if b >= last_ns and len(out) > 1:
            break
        day += dt.timedelta(days=1)
    days = np.asarray(out, dtype=np.int64)
    if period == "day":
        return days
    step = 3600 * NS_PER_S
    hours = [np.arange(a, b, step, dtype=np.int64) for a, b in zip(days[:-1], days[1:])]
    return np.concatenate(hours + [days[-1:]])


class Rollup(NamedTuple):
    """Sums of interval values per local calendar bucket.

    Attributes
    ----------
    bucket_start_ns, bucket_end_ns : ndarray of int64
        Bucket bounds. [UTC ns]
    sums : ndarray of float
        Sum of the deltas falling in each bucket (intervals straddling a boundary are split
        in proportion to time). [unit of the deltas]
    coverage : ndarray of float
        Fraction of the bucket's duration covered by intervals. [1]
    estimated_sums : ndarray of float
        Part of ``sums`` coming from estimated intervals. [unit of the deltas]
    """

    bucket_start_ns: np.ndarray
    bucket_end_ns: np.ndarray
    sums: np.ndarray
    coverage: np.ndarray
    estimated_sums: np.ndarray


def _cumulative_at(bounds_s: np.ndarray, start_s: np.ndarray, end_s: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Piecewise-linear cumulative of ``amounts`` (linear inside intervals) at ``bounds_s``."""
    c = np.cumsum(amounts)
    xp = np.empty(2 * start_s.size)
    xp[0::2], xp[1::2] = start_s, end_s
    fp = np.empty_like(xp)
    fp[0::2] = np.r_[0.0, c[:-1]]
    fp[1::2] = c
    return np.interp(bounds_s, xp, fp)


def rollup(
    start_ns: np.ndarray,
    end_ns: np.ndarray,
    deltas: np.ndarray,
    period: Period = "day",
    tz: dt.tzinfo | None = None,
    *,
    estimated: np.ndarray | None = None,
    boundaries_ns: np.ndarray | None = None,
) -> Rollup:
    """Sum interval deltas into local hour, day or month buckets.

    An interval that straddles a bucket boundary is split in proportion to the time it
    spends on each side (uniform rate inside an interval). Coverage is the fraction of each
    bucket's duration covered by intervals, so a 23-hour DST day fully covered has
    coverage 1.0 and, at a constant 1 kW, a sum of 23 kWh.

    Parameters
    ----------
    start_ns, end_ns : ndarray of int64
        Interval bounds, sorted and non-overlapping (gaps allowed). [UTC ns]
    deltas : ndarray of float
        Amount per interval. [any extensive unit, e.g. Wh]
    period : {"hour", "day", "month"}
        Bucket size in local time.
    tz : tzinfo
        Calendar time zone (default Europe/Paris).
    estimated : ndarray of bool, optional
        Per interval, whether its delta is estimated (feeds ``estimated_sums``).
    boundaries_ns : ndarray of int64, optional
        Precomputed boundaries (from :func:`calendar_boundaries_ns`), to share across meters.

    Returns
    -------
    Rollup
    """
    tz = tz or local_tz()
    s = np.asarray(start_ns, dtype=np.int64)
    e = np.asarray(end_ns, dtype=np.int64)
    x = np.asarray(deltas, dtype=float)
    if not (s.shape == e.shape == x.shape) or s.ndim != 1:
        raise ValueError("start_ns, end_ns and deltas must be 1-D arrays of the same length")
    if s.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return Rollup(z, z.copy(), np.zeros(0), np.zeros(0), np.zeros(0))
    if np.any(e <= s):
        raise ValueError("every interval needs end_ns > start_ns")
    if np.any(s[1:] < e[:-1]):
        raise ValueError("intervals must be sorted and must not overlap")
    b = boundaries_ns if boundaries_ns is not None else calendar_boundaries_ns(int(s[0]), int(e[-1]), period, tz)
    b = np.asarray(b, dtype=np.int64)
    origin = int(b[0])
    bs = (b - origin) / NS_PER_S
    ss = (s - origin) / NS_PER_S
    es = (e - origin) / NS_PER_S
    sums = np.diff(_cumulative_at(bs, ss, es, x))
    covered = np.diff(_cumulative_at(bs, ss, es, es - ss))
    coverage = covered / np.diff(bs)
    if estimated is not None:
        est = np.diff(_cumulative_at(bs, ss, es, np.where(np.asarray(estimated, bool), x, 0.0)))
    else:
        est = np.zeros_like(sums)
    return Rollup(b[:-1].copy(), b[1:].copy(), sums, np.clip(coverage, 0.0, 1.0), est)


def rollup_consumption(ic: IntervalConsumption, period: Period = "day", tz: dt.tzinfo | None = None) -> Rollup:
    """:func:`rollup` of an :class:`IntervalConsumption`, estimated share included."""
    tz = tz or local_tz()
    return rollup(ic.start_ns, ic.end_ns, ic.deltas, period, tz, estimated=ic.estimated)


#: Neighbouring intervals whose median sets the data's own step around each interval (odd). [1]
STEP_WINDOW = 9


def data_step_s(start_ns: np.ndarray, end_ns: np.ndarray, declared_s: float, window: int = STEP_WINDOW) -> np.ndarray:
    """The data's own step around each interval: the median length of the ``window`` intervals centred
    on it, never below the declared interval, at most a day. [s]

    A meter back-filled at 1 h (or imported at 30 min) while its device declares 15 minutes has
    hourly intervals that are not gaps; a real gap is one interval much longer than its neighbours,
    which the median ignores. Judging coverage and silence against this step keeps such meters
    covered, and still finds their gaps.
    """
    dur = (np.asarray(end_ns, dtype=np.int64) - np.asarray(start_ns, dtype=np.int64)) / 1e9
    if dur.size == 0:
        return np.zeros(0)
    from scipy.ndimage import median_filter

    local = median_filter(dur, size=min(window, dur.size) | 1, mode="nearest")
    return np.clip(np.maximum(local, float(declared_s)), None, 86_400.0)


def typical_step_s(times_ns: np.ndarray) -> float:
    """Median interval between successive readings (NaN with fewer than two). [s]"""
    t = np.asarray(times_ns, dtype=np.int64)
    if t.size < 2:
        return float("nan")
    d = np.diff(t)
    d = d[d > 0]
    return float(np.median(d)) / 1e9 if d.size else float("nan")
