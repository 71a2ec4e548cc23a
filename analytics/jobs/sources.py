"""Which source each day of a meter came from, in the data-quality ledger (``data_quality``).

Imported history (``terril import``) and live readings form one daily series: live wins where
it covers the day, imported history fills the rest (the rule of the savings report,
:func:`analytics.quality.day_sources`). This job writes that decision into the ledger: every
day gets the string fields ``source`` (``live`` or ``imported``) and ``origin`` (the device of
live data, the import's ``source`` tag of imported data); an imported day also gets the
imported rows' own quality (:func:`analytics.quality.imported_ledger`). It reads everything it decides from InfluxDB (live
coverage from ``consumption_daily``, imported rows from ``imported``), so the import and the
analytics run may come in any order and still agree.
"""

from __future__ import annotations

import numpy as np

from analytics.consumption import calendar_boundaries_ns
from analytics.influx_queries import query_imported_energy
from analytics.quality import day_sources, imported_ledger
from terril.ids import validate_id
from terril.influx import InfluxClient
from terril.readings import Point
from terril.carriers import carrier_of
from terril.registry import Meter, Registry

def live_origin(registry: Registry, meter_id: str) -> str:
    """The device(s) whose readings are the meter's live data (``live`` when none is declared)."""
    devices = [d.id for d in registry.devices if any(ch.meter == meter_id for ch in d.channels)]
    return "+".join(devices) or "live"


def write_ledger_sources(client: InfluxClient, registry: Registry, meter: Meter, start_ns: int, end_ns: int) -> int:
    """Write ``source``/``origin`` (and an imported day's coverage) into ``data_quality`` for the
    local days overlapping ``[start_ns, end_ns)``; returns the number of points written."""
    if carrier_of(meter) is None or end_ns <= start_ns:  # the carriers with counters have a ledger
        return 0
    validate_id(meter.id, "meter")
    days = calendar_boundaries_ns(int(start_ns), int(end_ns) - 1, "day")
    t0, t1 = int(days[0]), int(days[-1])
    live = np.full(days.size - 1, np.nan)
    q = (f"SELECT coverage_pct FROM consumption_daily WHERE meter = $meter "
         f"AND time >= {t0} AND time < {t1}")
    for s in client.query_chunks(q, params={"meter": meter.id}):
        for r in s.values:
            k = int(np.searchsorted(days, int(r[0]), side="right")) - 1
            if 0 <= k < live.size and r[1] is not None:
                live[k] = float(r[1])
    rows = query_imported_energy(client, meter.id, t0, t1)
    led = imported_ledger(meter.id, rows.time_ns, rows.period_end_ns, days)
    imported = led.coverage_pct
    # the origin of an imported day: the import source of its first row
    origin_of_day = {}
    for k, o in zip((np.searchsorted(days, rows.time_ns, side="right") - 1).tolist(), rows.origin):
        origin_of_day.setdefault(k, o)
    src = day_sources(live, imported)
    tags = {"site": meter.site, "meter": meter.id}
    device = live_origin(registry, meter.id)
    points = []
    for k in range(src.size):
        if src[k] == "live":
            points.append(Point("data_quality", tags, {"source": "live", "origin": device}, int(days[k])))
        elif src[k] == "imported":
            # the imported rows' own quality (same fields as the live ledger's, rollups.py)
            points.append(Point("data_quality", tags, {
                "source": "imported", "origin": origin_of_day.get(k, "imported"),
                "coverage_pct": round(float(imported[k]), 3), "gaps": int(led.gap_count[k]),
                "longest_gap_s": float(led.longest_gap_s[k]), "resets": 0, "spikes": 0, "stuck_intervals": 0,
                "estimated_pct": 0.0}, int(days[k])))
    return client.write_points(points)


__all__ = ["live_origin", "write_ledger_sources"]
