"""The few InfluxDB reads the portal needs that no command makes yet (each one small and parametrised).

Everything else the portal shows comes from the functions the commands use
(:mod:`analytics.jobs.alerts`, :mod:`analytics.reports.inputs`, :mod:`analytics.pv.jobs`,
:mod:`analytics.jobs.summary`, :mod:`collector.unmapped`). These mirror the Grafana panels'
queries (dashboards/building.py, dashboards/town.py, dashboards/quality.py).
"""

from __future__ import annotations

import math

from terril.ids import validate_id
from terril.influx import InfluxClient


def _num(v: object) -> float:
    return float(v) if v is not None else math.nan


def pv_power_now_w(client: InfluxClient, since_ns: int) -> dict[str, tuple[int, float]]:
    """Last PV power per PV meter since ``since_ns`` (meter -> (time_ns, W))."""
    q = f'SELECT last("power_w") FROM "reading" WHERE "carrier" = \'pv\' AND time >= {int(since_ns)} GROUP BY "meter"'
    return {s.tags.get("meter", ""): (int(s.values[0][0]), _num(s.values[0][1])) for s in client.query(q) if s.values}


def baseline_totals(client: InfluxClient, start_ns: int, end_ns: int) -> dict[str, tuple[float, float]]:
    """Per meter: (actual, expected) energy over [start, end) from ``baseline_daily`` [Wh]."""
    q = ('SELECT sum("actual_wh"), sum("expected_wh") FROM "baseline_daily" '
         f'WHERE time >= {int(start_ns)} AND time < {int(end_ns)} GROUP BY "meter"')
    return {s.tags.get("meter", ""): (_num(s.values[0][1]), _num(s.values[0][2])) for s in client.query(q) if s.values}


def baseline_daily(client: InfluxClient, meter: str, start_ns: int, end_ns: int) -> list[tuple[int, float, float]]:
    """(time_ns, actual_wh, expected_wh) per day of one meter."""
    validate_id(meter, "meter")
    q = ('SELECT "actual_wh", "expected_wh" FROM "baseline_daily" WHERE "meter" = $meter '
         f'AND time >= {int(start_ns)} AND time < {int(end_ns)}')
    return [(int(r[0]), _num(r[1]), _num(r[2])) for s in client.query(q, params={"meter": meter}) for r in s.values]


def quality_by_site(client: InfluxClient, start_ns: int, end_ns: int) -> dict[str, float]:
    """Mean daily coverage per site over [start, end) from ``data_quality`` [%]."""
    q = (f'SELECT mean("coverage_pct") FROM "data_quality" WHERE time >= {int(start_ns)} AND time < {int(end_ns)} '
         'GROUP BY "site"')
    return {s.tags.get("site", ""): _num(s.values[0][1]) for s in client.query(q) if s.values}


def savings_by_site(client: InfluxClient) -> dict[str, tuple[float, float, float]]:
    """Per site: avoided energy [Wh], value [€] and CO₂e [kg] summed over every stored ``savings_monthly`` point."""
    # PV production is no saving: rows an earlier version wrote for PV meters are left out
    q = ('SELECT sum("avoided_wh"), sum("avoided_eur"), sum("avoided_co2_kg") FROM "savings_monthly" '
         'WHERE time > 0 AND "carrier" != \'pv\' GROUP BY "site"')
    return {s.tags.get("site", ""): (_num(s.values[0][1]), _num(s.values[0][2]), _num(s.values[0][3]))
            for s in client.query(q) if s.values}


def last_message_by_device(client: InfluxClient, since_ns: int) -> dict[str, int]:
    """The last time each registry device published a reading since ``since_ns`` (device -> ns)."""
    q = f'SELECT last("received_ns") FROM "reading" WHERE time >= {int(since_ns)} GROUP BY "device"'
    out = {}
    for s in client.query(q):
        if s.values and s.values[0][1] is not None:
            out[s.tags.get("device", "")] = int(s.values[0][0])
    return out


def last_reading_by_meter(client: InfluxClient, since_ns: int) -> dict[str, int]:
    """The time of each meter's last reading since ``since_ns`` (meter -> ns)."""
    q = f'SELECT last("received_ns") FROM "reading" WHERE time >= {int(since_ns)} GROUP BY "meter"'
    return {s.tags.get("meter", ""): int(s.values[0][0]) for s in client.query(q) if s.values}
