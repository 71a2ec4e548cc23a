"""Consumption rollups and the data-quality ledger, from raw counters to InfluxDB.

For each meter: read the raw counter readings of the window (plus the last reading
before it, so the first interval is known), derive interval consumption with counter
events flagged (:func:`analytics.consumption.counter_to_deltas`), sum it into local
Europe/Paris hours, days and months, and write ``consumption_hourly/daily/monthly``,
``counter_event`` and ``data_quality`` (docs/schema.md), whose days then say whether they are
live or filled by imported history (:mod:`analytics.jobs.sources`). Rewriting a window overwrites
the same points, so a recomputation after late data is idempotent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from analytics.consumption import (
    IntervalConsumption,
    counter_to_deltas,
    data_step_s,
    rollup,
    rollup_consumption,
    typical_step_s,
)
from analytics.influx_queries import query_last_before, query_meter_series
from analytics.jobs.sources import write_ledger_sources
from analytics.quality import quality_ledger
from terril.carriers import carrier_of
from terril.influx import InfluxClient
from terril.readings import Point
from terril.registry import Meter, Registry
from terril.timeutil import local_date, local_midnight_ns

PERIODS = (("hour", "consumption_hourly"), ("day", "consumption_daily"), ("month", "consumption_monthly"))


@dataclass
class MeterRollup:
    """What the rollup of one meter produced (kept for the drift job of the same run)."""

    meter: Meter
    consumption: IntervalConsumption | None = None
    daily_start_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    daily_main: np.ndarray = field(default_factory=lambda: np.zeros(0))  # kWh/day of the main counter
    daily_coverage: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # the times of the meter's readings (points holding ``received_ns``) in [window_start_ns, end): what
    # :func:`analytics.jobs.drift.run_silent` reads, handed over so that it need not read them again
    reading_times_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    window_start_ns: int | None = None
    points_written: int = 0
    events: int = 0
    step_note: str | None = None  # the data arrive at a coarser step than the device declares


def month_start_ns(time_ns: int) -> int:
    """Local (Europe/Paris) midnight of the first day of the month containing ``time_ns``."""
    d = local_date(time_ns)
    return local_midnight_ns(dt.date(d.year, d.month, 1))


def expected_interval_s(registry: Registry, meter_id: str) -> float:
    for d in registry.devices:
        if any(ch.meter == meter_id for ch in d.channels):
            return d.interval_s
    return 900.0


def rollup_meter(client: InfluxClient, registry: Registry, meter: Meter, start_ns: int, end_ns: int) -> MeterRollup:
    """Recompute and write the rollups of one meter for [month start of ``start_ns``, ``end_ns``)."""
    out = MeterRollup(meter)
    spec = carrier_of(meter)
    if spec is None:
        return out
    specs = spec.counters
    win_start = month_start_ns(start_ns)
    raw_fields = [raw for raw, _ in specs]
    # received_ns too, in the same query: the silent-meter check of the same run needs the times of
    # every reading (run_silent), and a second query of the year's rows cost InfluxDB as much again
    times, series = query_meter_series(client, meter.id, [*raw_fields, "received_ns"], win_start, end_ns)
    out.reading_times_ns = times[np.isfinite(series["received_ns"])]
    out.window_start_ns = win_start
    interval_s = expected_interval_s(registry, meter.id)
    points: list[Point] = []
    tags = {"site": meter.site, "meter": meter.id, "carrier": meter.carrier}
    per_bucket: dict[tuple[str, int], dict[str, float | int]] = {}
    for i, (raw, derived) in enumerate(specs):
        values = series[raw]
        ok = np.isfinite(values)
        t, v = times[ok], values[ok]
        prev = query_last_before(client, meter.id, raw, win_start)
        if prev is not None:
            t = np.r_[np.int64(prev[0]), t]
            v = np.r_[prev[1], v]
        if t.size < 2:
            continue
        # the data's own step (a back-fill at 1 h of a meter declared at 15 min is not a string of gaps)
        own_step_s = max(interval_s, typical_step_s(t)) if t.size >= 3 else interval_s
        if i == 0 and own_step_s > 1.5 * interval_s:
            out.step_note = (f"data at {own_step_s:g} s, declared {interval_s:g} s: coverage judged on the "
                             f"data's own step")
        # a frozen import register is normal while PV covers the load: no stuck watch on PV sites
        watch = meter.carrier == "electricity" and i == 0 and not any(a.site == meter.site for a in registry.pv_arrays)
        stuck = max(4, int(round(7_200 / own_step_s))) if watch else None
        ic = counter_to_deltas(t, v, multiplier=meter.multiplier, rollover_wh=meter.rollover_wh,
                               stuck_intervals=stuck)
        if i == 0:
            out.consumption = ic
            out.events = len(ic.events)
            for e in ic.events:
                if e.time_ns >= win_start:
                    points.append(Point("counter_event", {**tags, "kind": e.kind},
                                        {"before": e.before, "after": e.after, "detail": f"{raw} {e.kind}"}, e.time_ns))
        # coverage counts only intervals no longer than two steps of the data around them (a gap is not
        # covered; a coarser back-fill or import is)
        ok = (ic.end_ns - ic.start_ns) <= 2e9 * data_step_s(ic.start_ns, ic.end_ns, interval_s)
        for period, _measurement in PERIODS:
            ro = rollup_consumption(ic, period)
            if ro.sums.size:
                bounds = np.r_[ro.bucket_start_ns, ro.bucket_end_ns[-1:]]
                covered = (rollup(ic.start_ns[ok], ic.end_ns[ok], np.zeros(int(ok.sum())), period,
                                  boundaries_ns=bounds).coverage if ok.any() else np.zeros(ro.sums.size))
            # plain Python numbers, converted once per column (a year of hours is ~9,000 buckets per counter)
            starts, sums = ro.bucket_start_ns.tolist(), ro.sums.tolist()
            if i == 0 and sums:
                cover, estimated = covered.tolist(), ro.estimated_sums.tolist()
            day_start, day_main, day_cover = [], [], []
            for k, b0 in enumerate(starts):
                if b0 < win_start or b0 >= end_ns:
                    continue
                fields = per_bucket.setdefault((period, b0), {})
                total = sums[k]
                fields[derived] = total
                if i == 0:
                    fields["coverage_pct"] = round(100.0 * cover[k], 3)
                    fields["estimated_pct"] = round(100.0 * (estimated[k] / total), 3) if total > 0 else 0.0
                    if spec.rollup_field != derived:  # gas: the energy of the volume
                        fields[spec.rollup_field] = spec.energy_wh(meter, total)
                    if period == "day":
                        day_start.append(b0)
                        day_main.append(spec.rollup_to_daily(float(fields[spec.rollup_field])))
                        day_cover.append(cover[k])
            if day_start:
                out.daily_start_ns = np.r_[out.daily_start_ns, np.array(day_start, dtype=np.int64)]
                out.daily_main = np.r_[out.daily_main, np.array(day_main, dtype=float)]
                out.daily_coverage = np.r_[out.daily_coverage, np.array(day_cover, dtype=float)]
    measurement = dict(PERIODS)
    for (period, b0), fields in sorted(per_bucket.items()):
        points.append(Point(measurement[period], tags, fields, b0))
    if out.consumption is not None and out.consumption.start_ns.size:
        own = typical_step_s(out.consumption.start_ns) if out.consumption.start_ns.size >= 2 else interval_s
        ledger = quality_ledger(meter.id, out.consumption,
                                expected_interval_s=max(interval_s, own if np.isfinite(own) else interval_s),
                                first_ns=max(win_start, int(out.consumption.start_ns[0])), last_ns=end_ns)
        for q in ledger.days():
            if q.day_start_ns < win_start or q.day_start_ns >= end_ns:
                continue
            points.append(Point("data_quality", {"site": meter.site, "meter": meter.id}, {
                "coverage_pct": round(q.coverage_pct, 3), "gaps": q.gap_count, "longest_gap_s": q.longest_gap_s,
                "resets": q.resets + q.rollovers + q.replacements, "spikes": q.spikes,
                "stuck_intervals": q.stuck_intervals,
                "estimated_pct": 0.0 if not np.isfinite(q.estimated_share_pct) else round(q.estimated_share_pct, 3),
            }, q.day_start_ns))
    out.points_written = client.write_points(points)
    # which days are live and which imported history fills (after the live points: it reads them)
    out.points_written += write_ledger_sources(client, registry, meter, win_start, end_ns)
    return out
