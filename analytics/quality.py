"""Data quality: a per-meter, per-local-day ledger of coverage, gaps and counter events.

Definitions (``docs/analytics.md`` § Data quality):

* an interval between consecutive readings is a **gap** when it is longer than
  ``gap_factor × expected_interval_s``;
* **coverage** is the share of the local day covered by intervals that are not gaps;
* gaps are counted on the day they start; the **longest gap** of a day is the longest
  part of any gap inside that day;
* events (reset, rollover, replacement, spike) are counted on the day of the reading that
  revealed them; stuck intervals on the day they start;
* the **estimated share** is the estimated part of the day's consumption;
* the **source** of a day says where the day's figure comes from (:func:`day_sources`):
  ``live`` (the meter's own readings), ``imported`` (``terril import`` history filling a day
  live data does not cover) or ``none``; the rule is the savings report's (live wins).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from analytics.consumption import NS_PER_S, IntervalConsumption, calendar_boundaries_ns, rollup
from terril.timeutil import local_tz

#: Daily live coverage from which live data wins over imported history (the report's
#: ``analytics.reports.inputs.MIN_DAY_COVERAGE_PCT``, CalTRACK §2.2). [%]
MIN_LIVE_DAY_COVERAGE_PCT = 50.0
#: A step from which imported rows are daily values, each covering its local day. [s]
DAILY_STEP_S = 20 * 3600.0


@dataclass(frozen=True, slots=True)
class DayQuality:
    """Quality of one meter on one local day.

    Attributes
    ----------
    meter : str
        Meter id.
    day_start_ns : int
        Local midnight. [UTC ns]
    coverage_pct : float
        Share of the day covered by non-gap intervals. [%]
    gap_count : int
        Gaps starting that day.
    longest_gap_s : float
        Longest gap portion inside the day. [s]
    resets, rollovers, replacements, spikes : int
        Counter events revealed that day.
    stuck_intervals : int
        Intervals of stuck runs starting that day.
    estimated_share_pct : float
        Estimated part of the day's consumption (NaN when nothing was consumed). [%]
    """

    meter: str
    day_start_ns: int
    coverage_pct: float
    gap_count: int
    longest_gap_s: float
    resets: int
    rollovers: int
    replacements: int
    spikes: int
    stuck_intervals: int
    estimated_share_pct: float


@dataclass(frozen=True, eq=False)
class QualityLedger:
    """Vectorised ledger: one entry per local day, fields as in :class:`DayQuality`."""

    meter: str
    day_start_ns: np.ndarray
    coverage_pct: np.ndarray
    gap_count: np.ndarray
    longest_gap_s: np.ndarray
    resets: np.ndarray
    rollovers: np.ndarray
    replacements: np.ndarray
    spikes: np.ndarray
    stuck_intervals: np.ndarray
    estimated_share_pct: np.ndarray

    def days(self) -> tuple[DayQuality, ...]:
        """The ledger as one :class:`DayQuality` per day."""
        return tuple(
            DayQuality(self.meter, int(self.day_start_ns[i]), float(self.coverage_pct[i]), int(self.gap_count[i]),
                       float(self.longest_gap_s[i]), int(self.resets[i]), int(self.rollovers[i]),
                       int(self.replacements[i]), int(self.spikes[i]), int(self.stuck_intervals[i]),
                       float(self.estimated_share_pct[i]))
            for i in range(self.day_start_ns.size)
        )


def quality_ledger(
    meter: str,
    consumption: IntervalConsumption,
    *,
    expected_interval_s: float,
    gap_factor: float = 2.0,
    tz: dt.tzinfo | None = None,
    first_ns: int | None = None,
    last_ns: int | None = None,
) -> QualityLedger:
    """Daily quality ledger of one meter.

    Parameters
    ----------
    meter : str
        Meter id.
    consumption : IntervalConsumption
        From :func:`analytics.consumption.counter_to_deltas`.
    expected_interval_s : float
        Nominal reading interval. [s]
    gap_factor : float
        An interval longer than this many nominal intervals is a gap. [1]
    tz : tzinfo
        Calendar time zone.
    first_ns, last_ns : int, optional
        Span of days to report (default: the data's span). [UTC ns]
    """
    tz = tz or local_tz()
    s, e = consumption.start_ns, consumption.end_ns
    lo = first_ns if first_ns is not None else (int(s[0]) if s.size else 0)
    hi = last_ns if last_ns is not None else (int(e[-1]) if e.size else lo)
    days = calendar_boundaries_ns(lo, hi, "day", tz)
    nd = days.size - 1
    z = np.zeros(nd)
    if s.size == 0:
        zi = np.zeros(nd, dtype=np.int64)
        return QualityLedger(meter, days[:-1].copy(), z, zi, z.copy(), zi, zi, zi, zi, zi, np.full(nd, np.nan))
    dur_s = (e - s) / NS_PER_S
    gap = dur_s > gap_factor * expected_interval_s
    ok = ~gap
    cov = rollup(s[ok], e[ok], np.zeros(ok.sum()), "day", tz, boundaries_ns=days).coverage if ok.any() else z
    ro = rollup(s, e, consumption.deltas, "day", tz, estimated=consumption.estimated, boundaries_ns=days)
    with np.errstate(invalid="ignore", divide="ignore"):
        est_share = np.where(ro.sums > 0, 100.0 * ro.estimated_sums / ro.sums, np.nan)

    def day_of(t: np.ndarray) -> np.ndarray:
        return np.searchsorted(days, t, side="right") - 1

    def count(t: np.ndarray) -> np.ndarray:
        d = day_of(np.asarray(t, dtype=np.int64))
        d = d[(d >= 0) & (d < nd)]
        return np.bincount(d, minlength=nd).astype(np.int64)

    gap_count = count(s[gap])
    longest = np.zeros(nd)
    for a, b in zip(s[gap].tolist(), e[gap].tolist()):
        for k in range(max(int(day_of(np.array([a]))[0]), 0), min(int(day_of(np.array([b - 1]))[0]), nd - 1) + 1):
            part = (min(b, int(days[k + 1])) - max(a, int(days[k]))) / NS_PER_S
            longest[k] = max(longest[k], part)

    def ev(kind: str) -> np.ndarray:
        return count(np.array([x.time_ns for x in consumption.events if x.kind == kind], dtype=np.int64))

    return QualityLedger(
        meter=meter,
        day_start_ns=days[:-1].copy(),
        coverage_pct=100.0 * np.asarray(cov),
        gap_count=gap_count,
        longest_gap_s=longest,
        resets=ev("reset"),
        rollovers=ev("rollover"),
        replacements=ev("replacement"),
        spikes=ev("spike"),
        stuck_intervals=count(s[consumption.stuck]),
        estimated_share_pct=est_share,
    )


def imported_ledger(meter: str, times_ns: np.ndarray, period_end_ns: np.ndarray, boundaries_ns: np.ndarray
                    ) -> QualityLedger:
    """Daily quality ledger of a meter's imported energy rows (``terril import``).

    A row covers ``[time, period_end)`` when its period end is known; daily rows (a data step of
    20 h or more) cover their local day (23, 24 or 25 h); finer rows (load curves) cover up to the
    next row, at most the data's own step around them. **Coverage** is the share of the day
    covered; a **gap** is a stretch between covered rows (counted on the day it starts, longest
    portion per day). Imported energy has no counter: resets, rollovers, replacements, spikes
    and stuck intervals are 0, nothing is estimated.

    Parameters
    ----------
    meter : str
        Meter id.
    times_ns : ndarray of int64
        Row times (start of what each row covers), sorted. [UTC ns]
    period_end_ns : ndarray of float
        Exclusive end of each row's period, NaN when the row does not say. [UTC ns]
    boundaries_ns : ndarray of int64
        Local day boundaries (:func:`analytics.consumption.calendar_boundaries_ns`). [UTC ns]
    """
    from analytics.consumption import data_step_s

    days = np.asarray(boundaries_ns, dtype=np.int64)
    nd = max(days.size - 1, 0)
    zi = np.zeros(nd, dtype=np.int64)
    t = np.asarray(times_ns, dtype=np.int64)
    cov = np.zeros(nd)
    gap_count = zi.copy()
    longest = np.zeros(nd)
    if t.size and nd:
        end = np.asarray(period_end_ns, dtype=float)
        diffs = np.maximum(np.r_[t[1:], t[-1:]] - t, 0)
        if t.size >= 2:
            diffs[-1] = diffs[-2]  # the last row: its neighbours' step
            step_s = data_step_s(t, t + np.maximum(diffs, 1), 1.0)
        else:
            step_s = np.full(1, 86_400.0)
        k = np.clip(np.searchsorted(days, t, side="right") - 1, 0, nd - 1)
        stop = np.where(step_s >= DAILY_STEP_S, days[k + 1], t + np.minimum(diffs, step_s * 1e9).astype(np.int64))
        stop = np.where(np.isfinite(end), np.nan_to_num(end, nan=0.0).astype(np.int64), stop)
        # rows of several kinds may overlap: cover their union, as non-overlapping pieces
        order = np.argsort(t, kind="stable")
        lo, hi = t[order], np.maximum.accumulate(np.maximum(stop, t)[order])
        lo = np.maximum(lo, np.r_[lo[:1], hi[:-1]])
        keep = hi > lo
        lo, hi = lo[keep], hi[keep]
        if lo.size:
            cov = np.clip(np.asarray(rollup(lo, hi, np.zeros(lo.size), "day", boundaries_ns=days).coverage,
                                     dtype=float), 0.0, 1.0)
            g0, g1 = hi[:-1], lo[1:]
            is_gap = g1 > g0
            for a, b in zip(g0[is_gap].tolist(), g1[is_gap].tolist()):
                first = int(np.searchsorted(days, a, side="right")) - 1
                if 0 <= first < nd:
                    gap_count[first] += 1
                for j in range(max(first, 0), min(int(np.searchsorted(days, b - 1, side="right")) - 1, nd - 1) + 1):
                    longest[j] = max(longest[j], (min(b, int(days[j + 1])) - max(a, int(days[j]))) / NS_PER_S)
    return QualityLedger(meter, days[:-1].copy(), 100.0 * cov, gap_count, longest, zi, zi.copy(), zi.copy(),
                         zi.copy(), zi.copy(), np.zeros(nd))


def day_sources(live_coverage_pct: np.ndarray, imported_coverage_pct: np.ndarray,
                min_live_pct: float = MIN_LIVE_DAY_COVERAGE_PCT) -> np.ndarray:
    """Where each day's figure comes from: ``live``, ``imported`` or ``none``.

    Live data wins where it covers at least ``min_live_pct`` of the day; imported history fills
    the other days it covers; a day that has only sparse live data stays ``live`` (with its low
    coverage), a day with nothing is ``none``. NaN coverage means no data.
    """
    live = np.nan_to_num(np.asarray(live_coverage_pct, dtype=float), nan=0.0)
    imp = np.nan_to_num(np.asarray(imported_coverage_pct, dtype=float), nan=0.0)
    return np.where(live >= min_live_pct, "live",
                    np.where(imp > 0, "imported", np.where(live > 0, "live", "none"))).astype(object)
