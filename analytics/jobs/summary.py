"""Per-site summary of a period: meters, points stored, energy consumed, PV produced.

Consumption is derived from the raw counters with :func:`analytics.consumption.counter_to_deltas`,
as the rollups do: a reset or a replacement books nothing false, an upward spike (one absurd reading)
is interpolated away, never booked as consumption. Gas is converted with the meter's own kWh/m³
(:mod:`terril.carriers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analytics.consumption import counter_to_deltas
from terril.carriers import CARRIERS, COUNTER_FIELDS
from terril.influx import InfluxClient
from terril.registry import Meter, Registry

#: counter events that count as resets in the summary
_RESETS = ("reset", "rollover", "replacement")


@dataclass
class SiteSummary:
    """Figures of one site over the period."""

    site: str
    name: str
    meters: int
    points: int = 0
    consumed_kwh: float = 0.0
    produced_kwh: float = 0.0
    exported_kwh: float = 0.0
    water_m3: float = 0.0
    counter_resets: int = 0
    by_carrier_kwh: dict[str, float] = field(default_factory=dict)


def counter_consumption(times_ns: np.ndarray, values: np.ndarray, meter: Meter) -> tuple[float, int]:
    """Consumption of a raw counter series with the meter's multiplier [counter unit], and how many
    resets, rollovers and replacements it crossed (:func:`analytics.consumption.counter_to_deltas`)."""
    ok = np.isfinite(values)
    if ok.sum() < 2:
        return 0.0, 0
    ic = counter_to_deltas(times_ns[ok], values[ok], multiplier=meter.multiplier, rollover_wh=meter.rollover_wh)
    return float(ic.deltas.sum()), sum(e.kind in _RESETS for e in ic.events)


def query_site_summaries(client: InfluxClient, registry: Registry, start_ns: int, end_ns: int) -> list[SiteSummary]:
    """One :class:`SiteSummary` per registry site, from what InfluxDB holds in [start, end)."""
    window = f"time >= {int(start_ns)} AND time < {int(end_ns)}"
    points: dict[str, int] = {}
    for s in client.query(f"SELECT count(received_ns) FROM reading WHERE {window} GROUP BY meter"):
        points[s.tags.get("meter", "")] = int(s.values[0][1]) if s.values else 0
    series: dict[str, dict[str, np.ndarray]] = {}
    cols = ", ".join(f'"{c}"' for c in COUNTER_FIELDS)
    for s in client.query_chunks(f"SELECT {cols} FROM reading WHERE {window} GROUP BY meter"):
        meter = s.tags.get("meter", "")
        rows = np.array([[np.nan if v is None else float(v) for v in row] for row in s.values], dtype=float)
        if rows.size == 0:
            continue
        cur = {"time": np.array([int(row[0]) for row in s.values], dtype=np.int64)}
        cur.update({c: rows[:, i + 1] for i, c in enumerate(COUNTER_FIELDS)})
        prev = series.get(meter)
        series[meter] = cur if prev is None else {c: np.concatenate([prev[c], cur[c]]) for c in cur}
    out = []
    for site in registry.sites:
        meters = registry.meters_of_site(site.id)
        summary = SiteSummary(site.id, site.name, len(meters))
        for m in meters:
            summary.points += points.get(m.id, 0)
            data = series.get(m.id)
            if data is None:
                continue
            spec = CARRIERS.get(m.carrier)
            if spec is None:
                continue
            for raw, derived in spec.counters:
                amount, resets = counter_consumption(data["time"], data[raw], m)
                summary.counter_resets += resets
                if derived == "export_wh":
                    summary.exported_kwh += spec.counter_to_daily(m, amount)
                elif spec.daily_unit == "m³":
                    summary.water_m3 += amount
                elif derived == "production_wh":
                    summary.produced_kwh += spec.counter_to_daily(m, amount)
                else:
                    kwh = spec.counter_to_daily(m, amount)
                    summary.consumed_kwh += kwh
                    summary.by_carrier_kwh[m.carrier] = summary.by_carrier_kwh.get(m.carrier, 0) + kwh
        out.append(summary)
    return out
