"""Per-site summary of a period: meters, points stored, energy consumed, PV produced.

Consumption is derived from the raw counters' deltas; a negative delta (a reset or a
replacement) is flagged and books nothing, never negative or huge consumption.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from terril.influx import InfluxClient
from terril.registry import Registry

COUNTERS = ("energy_import_wh", "energy_export_wh", "energy_produced_wh", "volume_m3")


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


def counter_consumption(values: np.ndarray) -> tuple[float, int]:
    """Sum of the non-negative deltas of a raw counter series, and the number of drops flagged."""
    v = values[~np.isnan(values)]
    if len(v) < 2:
        return 0.0, 0
    d = np.diff(v)
    return float(d[d >= 0].sum()), int((d < 0).sum())


def query_site_summaries(client: InfluxClient, registry: Registry, start_ns: int, end_ns: int) -> list[SiteSummary]:
    """One :class:`SiteSummary` per registry site, from what InfluxDB holds in [start, end)."""
    window = f"time >= {int(start_ns)} AND time < {int(end_ns)}"
    points: dict[str, int] = {}
    for s in client.query(f"SELECT count(received_ns) FROM reading WHERE {window} GROUP BY meter"):
        points[s.tags.get("meter", "")] = int(s.values[0][1]) if s.values else 0
    series: dict[str, dict[str, np.ndarray]] = {}
    cols = ", ".join(f'"{c}"' for c in COUNTERS)
    for s in client.query_chunks(f"SELECT {cols} FROM reading WHERE {window} GROUP BY meter"):
        meter = s.tags.get("meter", "")
        arr = np.array([[np.nan if v is None else float(v) for v in row[1:]] for row in s.values], dtype=float)
        if arr.size == 0:
            continue
        prev = series.get(meter)
        cur = {c: arr[:, i] for i, c in enumerate(COUNTERS)}
        series[meter] = cur if prev is None else {c: np.concatenate([prev[c], cur[c]]) for c in COUNTERS}
    out = []
    for site in registry.sites:
        meters = registry.meters_of_site(site.id)
        summary = SiteSummary(site.id, site.name, len(meters))
        for m in meters:
            summary.points += points.get(m.id, 0)
            data = series.get(m.id)
            if data is None:
                continue
            if m.carrier in ("electricity", "heat"):
                kwh, resets = counter_consumption(data["energy_import_wh"])
                kwh /= 1000
                summary.consumed_kwh += kwh * m.multiplier
                summary.by_carrier_kwh[m.carrier] = summary.by_carrier_kwh.get(m.carrier, 0) + kwh * m.multiplier
                exp, r2 = counter_consumption(data["energy_export_wh"])
                summary.exported_kwh += exp / 1000 * m.multiplier
                summary.counter_resets += resets + r2
            elif m.carrier == "gas":
                m3, resets = counter_consumption(data["volume_m3"])
                kwh = m3 * (m.gas_kwh_per_m3 or 11.2) * m.multiplier
                summary.consumed_kwh += kwh
                summary.by_carrier_kwh["gas"] = summary.by_carrier_kwh.get("gas", 0) + kwh
                summary.counter_resets += resets
            elif m.carrier == "water":
                m3, resets = counter_consumption(data["volume_m3"])
                summary.water_m3 += m3 * m.multiplier
                summary.counter_resets += resets
            elif m.carrier == "pv":
                kwh, resets = counter_consumption(data["energy_produced_wh"])
                summary.produced_kwh += kwh / 1000 * m.multiplier
                summary.counter_resets += resets
        out.append(summary)
    return out
