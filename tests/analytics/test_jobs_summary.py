"""The per-site summary (demo, portal) computes consumption as the rollups do, from the counters'
deltas through ``counter_to_deltas``, with the carriers' table (terril/carriers.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.jobs.summary import query_site_summaries
from terril.readings import Point
from terril.registry import parse_registry
from terril.timeutil import NS_PER_S, local_midnight_ns

pytestmark = pytest.mark.integration

STEP_NS = 900 * NS_PER_S


def _registry():
    return parse_registry({
        "sites": [{"id": "ecole", "name": "École", "kind": "primary_school", "latitude": 50.46, "longitude": 2.79,
                   "floor_area_m2": 1000, "school_week": "four_days"}],
        "meters": [{"id": "ecole-elec", "site": "ecole", "carrier": "electricity"},
                   {"id": "ecole-gaz", "site": "ecole", "carrier": "gas", "gas_kwh_per_m3": 10.0}],
        "devices": [{"id": "ecole-linky", "site": "ecole", "interval_s": 900, "channels": [{"meter": "ecole-elec"}]},
                    {"id": "ecole-gazpar", "site": "ecole", "interval_s": 900, "channels": [{"meter": "ecole-gaz"}]}],
    })


def _points(meter: str, carrier: str, device: str, field: str, values: list[float], start_ns: int) -> list[Point]:
    return [Point("reading", {"site": "ecole", "meter": meter, "carrier": carrier, "device": device},
                  {field: v, "received_ns": 1}, start_ns + i * STEP_NS) for i, v in enumerate(values)]


def test_an_upward_spike_is_not_counted_as_consumption(influx_db):
    start = local_midnight_ns(dt.date(2026, 3, 2))
    # +250 Wh every 15 min, one absurd reading in the middle (a garbled frame)
    elec = [5_000.0, 5_250.0, 5_500.0, 9_000_000.0, 6_000.0, 6_250.0, 6_500.0]
    # +0.5 m³ every 15 min at 10 kWh/m³ (the meter's own coefficient), one spike as well
    gas = [100.0, 100.5, 101.0, 101.5, 90_000.0, 102.5, 103.0]
    influx_db.write_points(_points("ecole-elec", "electricity", "ecole-linky", "energy_import_wh", elec, start)
                           + _points("ecole-gaz", "gas", "ecole-gazpar", "volume_m3", gas, start))
    [s] = query_site_summaries(influx_db, _registry(), start, start + 86_400 * NS_PER_S)
    assert s.by_carrier_kwh["electricity"] == pytest.approx(1.5)  # 6 × 250 Wh, not 9 000 kWh
    assert s.by_carrier_kwh["gas"] == pytest.approx(30.0)  # 6 × 0.5 m³ × 10 kWh/m³
    assert s.consumed_kwh == pytest.approx(31.5)
    assert s.counter_resets == 0
    assert s.points == 14
