"""What each page shows, computed from InfluxDB through the commands' own functions (pure shaping here).

Functions return plain dicts and lists that the templates render and that
``portal/static/portal.js`` turns into charts; numbers stay numbers (the template formats
them in the page's language).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence

import numpy as np

from analytics.jobs.alerts import query_alerts
from analytics.jobs.summary import query_site_summaries
from analytics.pv.jobs import query_pv_site_daily, query_rollout
from analytics.reports.inputs import InputBundle, query_input_bundle
from portal import queries
from terril.influx import InfluxClient
from terril.registry import Registry
from terril.settings import PricesSettings
from terril.timeutil import local_date, local_midnight_ns, local_tz

DAY_NS = 86_400 * 10**9
ENERGY_CARRIERS = ("electricity", "gas", "heat")


def today() -> dt.date:
    """Today in the town's time zone (``[town] timezone``, set when the registry is loaded)."""
    return dt.datetime.now(local_tz()).date()


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def public_sites(reg: Registry) -> list[str]:
    """Sites with an energy meter (those whose consumption the public page shows)."""
    return [s.id for s in reg.sites if any(m.site == s.id and m.carrier in ENERGY_CARRIERS for m in reg.meters)]


def _day_unix_s(dates: np.ndarray) -> list[int]:
    return [int((local_midnight_ns(dt.date.fromisoformat(str(d))) // 10**9)) for d in dates]


def site_daily_kwh(bundle: InputBundle, site: str) -> dict[str, np.ndarray]:
    """Daily kWh per energy carrier of one site (NaN days count as missing only when all meters miss)."""
    out: dict[str, np.ndarray] = {}
    for m in bundle.meters:
        if m.site != site or m.carrier not in ENERGY_CARRIERS:
            continue
        v = np.asarray(m.energy_kwh, dtype=float)
        prev = out.get(m.carrier)
        out[m.carrier] = v if prev is None else np.where(np.isnan(prev), v, np.where(np.isnan(v), prev, prev + v))
    return out


def monthly(dates: np.ndarray, values: np.ndarray) -> tuple[list[str], list[float | None]]:
    months: dict[str, list[float]] = {}
    for d, v in zip(dates, values):
        months.setdefault(str(d)[:7], []).append(float(v))
    labels = sorted(months)
    return labels, [(_finite(float(np.nansum(months[k]))) if not np.all(np.isnan(months[k])) else None) for k in labels]


def public_page(client: InfluxClient, reg: Registry, prices: PricesSettings, now_ns: int | None = None) -> dict:
    """Aggregates only: PV now/today/this year, CO₂ avoided, rollout timeline, consumption trend and savings."""
    now_ns = now_ns or time.time_ns()
    day = local_date(now_ns)
    midnight = local_midnight_ns(day)
    year_start = local_midnight_ns(dt.date(day.year, 1, 1))
    power = queries.pv_power_now_w(client, now_ns - 3 * 3600 * 10**9)
    summaries = query_site_summaries(client, reg, midnight, now_ns)
    today_kwh = sum(s.produced_kwh for s in summaries)
    pv_days = query_pv_site_daily(client, year_start, midnight)
    year_kwh = sum(float(np.nansum(f["production_wh"])) for _, f in pv_days.values()) / 1000 + today_kwh
    from analytics.pv.rollout import rollout_status_data

    rollout = rollout_status_data(reg, day, query_rollout(client, midnight + DAY_NS - 1))
    sites = public_sites(reg)
    first = dt.date(day.year - 1, day.month, 1)
    bundle = query_input_bundle(client, reg, sites, first, day - dt.timedelta(days=1))
    savings = queries.savings_by_site(client)
    buildings = []
    for sid in sites:
        per_carrier = site_daily_kwh(bundle, sid)
        if not per_carrier:
            continue
        total = np.nansum(np.vstack(list(per_carrier.values())), axis=0)
        allnan = np.all(np.isnan(np.vstack(list(per_carrier.values()))), axis=0)
        total = np.where(allnan, np.nan, total)
        labels, values = monthly(bundle.dates, total)
        sv = savings.get(sid)
        buildings.append({"site": sid, "name": reg.site_by_id[sid].name, "kind": reg.site_by_id[sid].kind,
                          "months": labels, "kwh": values,
                          "year_kwh": _finite(float(np.nansum(total[-365:]))) if not np.all(allnan) else None,
                          "avoided_kwh": _finite(sv[0] / 1000) if sv else None,
                          "avoided_eur": _finite(sv[1]) if sv else None})
    return {
        "as_of_ns": now_ns, "day": day.isoformat(),
        "pv_now_kw": sum(v for _, v in power.values() if math.isfinite(v)) / 1000 if power else None,
        "pv_now_at_ns": max(t for t, _ in power.values()) if power else None,
        "pv_today_kwh": today_kwh, "pv_year_kwh": year_kwh,
        "co2_year_kg": year_kwh * prices.electricity_kg_co2e_per_kwh,
        "kwp_installed": rollout["kwp_installed"], "kwp_planned": rollout["kwp_planned_total"],
        "roofs_equipped": rollout["roofs_equipped"], "roofs_eligible": rollout["roofs_eligible"],
        "register": [{k: r[k] for k in ("site_name", "stage", "status", "date", "kwp_installed", "kwp_planned",
                                        "technology")} for r in rollout["register"]],
        "timeline": rollout["timeline"],
        "timeline_rows": [[str(r["year"]), r["kwp_installed"], r["kwp_planned"]] for r in rollout["timeline"]],
        "buildings": buildings,
    }


def opendata_csv(client: InfluxClient, reg: Registry, site: str, start: dt.date, end: dt.date) -> str:
    """Daily consumption of one building per energy carrier, CSV (``date,carrier,energy_kwh``; dot decimals)."""
    bundle = query_input_bundle(client, reg, [site], start, end)
    per_carrier = site_daily_kwh(bundle, site)
    lines = ["date,site,carrier,energy_kwh"]
    for i, d in enumerate(bundle.dates):
        for carrier in sorted(per_carrier):
            v = per_carrier[carrier][i]
            lines.append(f"{d},{site},{carrier},{'' if np.isnan(v) else f'{v:.3f}'}")
    return "\n".join(lines) + "\n"


def overview(client: InfluxClient, reg: Registry, now_ns: int | None = None) -> dict:
    """Per building: this month's consumption against its baseline, open alerts, data quality, PV production."""
    now_ns = now_ns or time.time_ns()
    day = local_date(now_ns)
    month_start = local_midnight_ns(day.replace(day=1))
    base = queries.baseline_totals(client, month_start, now_ns)
    alerts = query_alerts(client, state="open")
    # the last 7 whole days: today's ledger counts the hours not yet come as missing (the demo's
    # healthy fleet showed 87-88 % at 05:00)
    today_ns = local_midnight_ns(day)
    quality = queries.quality_by_site(client, local_midnight_ns(day - dt.timedelta(days=7)), today_ns)
    pv = query_pv_site_daily(client, month_start, now_ns)
    rows = []
    for s in reg.sites:
        if all(m.carrier == "weather" for m in reg.meters_of_site(s.id)):
            continue  # the weather station is no building
        meters = [m for m in reg.meters_of_site(s.id) if m.carrier in ENERGY_CARRIERS]
        actual = sum(base[m.id][0] for m in meters if m.id in base and math.isfinite(base[m.id][0]))
        expected = sum(base[m.id][1] for m in meters if m.id in base and math.isfinite(base[m.id][1]))
        has_base = any(m.id in base for m in meters)
        pv_wh = float(np.nansum(pv[s.id][1]["production_wh"])) if s.id in pv else None
        rows.append({"site": s.id, "name": s.name, "kind": s.kind,
                     "actual_kwh": actual / 1000 if has_base else None,
                     "expected_kwh": expected / 1000 if has_base else None,
                     "delta_pct": (100 * (actual - expected) / expected) if has_base and expected > 0 else None,
                     "open_alerts": sum(a.site == s.id for a in alerts),
                     "coverage_pct": _finite(quality.get(s.id, math.nan)),
                     "pv_kwh": pv_wh / 1000 if pv_wh is not None else None, "tertiaire": s.tertiaire})
    return {"month": day.replace(day=1).isoformat(), "rows": rows, "open_alerts": len(alerts)}


def building(client: InfluxClient, reg: Registry, site: str, days: int = 90, now_ns: int | None = None) -> dict:
    """A building's daily consumption against its baseline, drift periods, alerts, measures, meters and devices."""
    now_ns = now_ns or time.time_ns()
    day = local_date(now_ns)
    start = day - dt.timedelta(days=days)
    bundle = query_input_bundle(client, reg, [site], start, day - dt.timedelta(days=1))
    per_carrier = site_daily_kwh(bundle, site)
    t0, t1 = local_midnight_ns(start), local_midnight_ns(day)
    expected = np.full(bundle.dates.size, np.nan)
    idx = {str(d): i for i, d in enumerate(bundle.dates)}
    for m in reg.meters_of_site(site):
        if m.carrier not in ENERGY_CARRIERS:
            continue
        for t, _actual, exp in queries.baseline_daily(client, m.id, t0, t1):
            i = idx.get(str(local_date(t)))
            if i is not None and math.isfinite(exp):
                expected[i] = (0 if np.isnan(expected[i]) else expected[i]) + exp / 1000
    alerts = query_alerts(client, site=site)
    drift = [{"from": int(local_midnight_ns(max(local_date(a.onset_ns), start)) // 10**9), "to": int(t1 // 10**9)}
             for a in alerts if a.kind.startswith(("drift", "baseload")) and a.state != "resolved"]
    last_meter = queries.last_reading_by_meter(client, now_ns - 30 * DAY_NS)
    last_device = queries.last_message_by_device(client, now_ns - 30 * DAY_NS)
    carriers = sorted(per_carrier)
    if per_carrier:
        stacked = np.vstack([per_carrier[c] for c in carriers])
        total = np.where(np.all(np.isnan(stacked), axis=0), np.nan, np.nansum(stacked, axis=0))
    else:
        total = np.full(bundle.dates.size, np.nan)
    rows = [[str(d)] + [_finite(float(per_carrier[c][i])) for c in carriers]
            + [_finite(float(total[i])), _finite(float(expected[i]))] for i, d in enumerate(bundle.dates)]
    return {
        "site": reg.site_by_id[site], "x": _day_unix_s(bundle.dates), "rows": rows,
        "carriers": carriers, "total": [_finite(float(v)) for v in total],
        "expected": [_finite(float(v)) for v in expected], "drift": drift,
        "sources": sorted({m.source for m in bundle.meters}),
        "alerts": alerts,
        "measures": [m for m in reg.measures if m.site == site],
        "meters": [{"meter": m, "last_ns": last_meter.get(m.id)} for m in reg.meters_of_site(site)],
        "devices": [{"device": d, "last_ns": last_device.get(d.id)} for d in reg.devices if d.site == site],
    }


def chart_from_months(labels: Sequence[str], values: Sequence[float | None]) -> dict:
    return {"x": [int(local_midnight_ns(dt.date.fromisoformat(m + "-01")) // 10**9) for m in labels],
            "values": list(values)}
