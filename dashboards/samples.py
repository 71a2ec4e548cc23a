"""SAMPLE DATA for the dashboard check: small, schema-conformant points for the measurements analytics writes.

This is not analytics. It writes plausible, deterministic points with exactly the
measurement, tag and field names of docs/schema.md, so that ``terril dashboards check``
can prove every panel query against real InfluxDB before the analytics jobs that fill
these measurements exist (tests/dashboards/test_check.py; the lead will switch that test
to the real analytics output). It also writes ``collector_stats`` with the spool fields
(``spool_depth_points``, ``points_spooled``, ``points_replayed``, ``acks_pending``) the collector is gaining.
Never run it against a production database.
"""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np

from terril.influx import InfluxClient
from terril.readings import Point
from terril.registry import Registry
from terril.timeutil import NS_PER_S, PARIS, local_date, local_midnight_ns

#: typical daily consumption per carrier [Wh/day] (water and gas also as volume [m³/day])
_DAILY_WH = {"electricity": 180_000.0, "gas": 420_000.0, "heat": 380_000.0, "water": 0.0}
_DAILY_M3 = {"gas": 40.0, "water": 3.5}
CONSUMING = ("electricity", "gas", "heat", "water")


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def local_days(start_ns: int, end_ns: int) -> list[int]:
    """Local (Europe/Paris) midnights [ns] of the days that start in [start_ns, end_ns)."""
    day = local_date(start_ns)
    out = []
    while True:
        t = local_midnight_ns(day)
        if t >= end_ns:
            return out
        if t >= start_ns:
            out.append(t)
        day += dt.timedelta(days=1)


def local_months(start_ns: int, end_ns: int) -> list[int]:
    """Local month starts [ns] in [start_ns, end_ns)."""
    d = local_date(start_ns).replace(day=1)
    out = []
    while local_midnight_ns(d) < end_ns:
        if local_midnight_ns(d) >= start_ns:
            out.append(local_midnight_ns(d))
        d = (d + dt.timedelta(days=32)).replace(day=1)
    return out


def sample_derived_points(registry: Registry, start_ns: int, end_ns: int) -> list[Point]:
    """The sample points (pure): daily and monthly rollups, quality, weather, baselines, alerts, PV, rollout, savings."""
    days = local_days(start_ns, end_ns)
    months = local_months(start_ns, end_ns)
    points: list[Point] = []
    doy = np.array([dt.datetime.fromtimestamp(t / NS_PER_S, PARIS).timetuple().tm_yday for t in days])
    season = np.cos(2 * np.pi * (doy - 15) / 365.25)  # 1 in mid-January, -1 in mid-July
    temp_c = 11.0 - 7.5 * season
    sun = 0.55 - 0.4 * season  # relative daily irradiation
    weather = [m for m in registry.meters if m.carrier == "weather"]
    for m in weather:
        rng = _rng(m.id)
        t = temp_c + rng.normal(0, 2.0, len(days))
        for i, t0 in enumerate(days):
            points.append(Point("weather_daily", {"site": m.site}, {
                "temp_mean_c": round(float(t[i]), 2), "temp_min_c": round(float(t[i] - 4), 2),
                "temp_max_c": round(float(t[i] + 4), 2), "hdd_meteo_k_d": round(max(0.0, 18 - float(t[i])), 2),
                "hdd_costic_k_d": round(max(0.0, 18 - float(t[i])) * 0.95, 2), "cdd_k_d": 0.0,
                "coverage_pct": 100.0}, t0))
    for m in registry.meters:
        rng = _rng(m.id)
        tags = {"site": m.site, "meter": m.id, "carrier": m.carrier}
        if m.carrier in CONSUMING:
            heating = m.carrier in ("gas", "heat")
            scale = (1.0 + 1.2 * np.clip(season, 0, None)) if heating else (1.0 + 0.15 * season)
            wh = _DAILY_WH[m.carrier] * scale * rng.uniform(0.85, 1.15, len(days))
            m3 = _DAILY_M3.get(m.carrier, 0.0) * scale * rng.uniform(0.85, 1.15, len(days))
            cusum = 0.0
            for i, t0 in enumerate(days):
                fields: dict[str, float | int | bool | str] = {"coverage_pct": 100.0, "estimated_pct": 0.0}
                if m.carrier == "water":
                    fields["volume_m3"] = round(float(m3[i]), 3)
                else:
                    fields["consumption_wh"] = round(float(wh[i]), 1)
                    if m.carrier == "gas":
                        fields["volume_m3"] = round(float(m3[i]), 3)
                points.append(Point("consumption_daily", tags, fields, t0))
                if m.carrier != "water":
                    expected = float(wh[i]) * 0.97
                    cusum += float(wh[i]) - expected
                    points.append(Point("baseline_daily", tags, {
                        "expected_wh": round(expected, 1), "actual_wh": round(float(wh[i]), 1),
                        "residual_wh": round(float(wh[i]) - expected, 1), "cusum_wh": round(cusum, 1),
                        "base_load_w": round(float(wh[i]) / 24 * 0.35, 1)}, t0))
            for mi, t0 in enumerate(months):
                n_days = sum(1 for t in days if t0 <= t < (months[mi + 1] if mi + 1 < len(months) else end_ns))
                fields = {"coverage_pct": 100.0, "estimated_pct": 0.0}
                if m.carrier == "water":
                    fields["volume_m3"] = round(_DAILY_M3["water"] * n_days, 3)
                else:
                    fields["consumption_wh"] = round(_DAILY_WH[m.carrier] * n_days, 1)
                points.append(Point("consumption_monthly", tags, fields, t0))
                if m.carrier != "water":
                    avoided = _DAILY_WH[m.carrier] * n_days * 0.08
                    points.append(Point("savings_monthly", tags, {
                        "adjusted_baseline_wh": round(_DAILY_WH[m.carrier] * n_days, 1),
                        "actual_wh": round(_DAILY_WH[m.carrier] * n_days - avoided, 1),
                        "avoided_wh": round(avoided, 1), "avoided_eur": round(avoided / 1000 * 0.2, 2),
                        "avoided_co2_kg": round(avoided / 1000 * 0.06, 2),
                        "cumulative_avoided_wh": round(avoided * (mi + 1), 1)}, t0))
        if m.carrier != "weather":
            for i, t0 in enumerate(days):
                cov = float(min(100.0, rng.normal(98.5, 2.0)))
                points.append(Point("data_quality", {"site": m.site, "meter": m.id}, {
                    "coverage_pct": round(cov, 2), "gaps": int(cov < 97), "longest_gap_s": 1800 if cov < 97 else 0,
                    "resets": 0, "spikes": 0, "stuck_intervals": 0, "estimated_pct": 0.0, "quarantined": 0,
                    "source": "live", "origin": m.id}, t0))
    # PV per array and per site
    pv_sites: dict[str, float] = {}
    for a in registry.pv_arrays:
        rng = _rng(a.id)
        pv_sites[a.site] = pv_sites.get(a.site, 0.0) + a.kwp
        pr = rng.uniform(78, 86) - (6 if a.technology == "amorphous_si" else 0)
        for i, t0 in enumerate(days):
            irr = float(5200 * sun[i] * rng.uniform(0.6, 1.1))  # [Wh/m²/day]
            expected = a.kwp * irr  # Wh: kWp × kWh/m² × 1000
            prod = expected * pr / 100
            points.append(Point("pv_daily", {"site": a.site, "array": a.id, "technology": a.technology}, {
                "production_wh": round(prod, 1), "expected_wh": round(expected, 1),
                "specific_yield_kwh_kwp": round(prod / 1000 / a.kwp, 3), "performance_ratio_pct": round(pr, 2),
                "availability_pct": 100.0, "irradiation_wh_m2": round(irr, 1)}, t0))
    for site, kwp in sorted(pv_sites.items()):
        for i, t0 in enumerate(days):
            prod = kwp * 5200 * float(sun[i]) * 0.8
            self_c = prod * 0.7
            points.append(Point("pv_site_daily", {"site": site}, {
                "production_wh": round(prod, 1), "self_consumed_wh": round(self_c, 1),
                "export_wh": round(prod - self_c, 1), "self_consumption_pct": 70.0, "self_sufficiency_pct": 18.0}, t0))
    # rollout: one point per day per stage, from the registry's arrays and planned roofs
    stages = ("experimentation", "pilot", "deployment", "massification")
    for t0 in days:
        day = local_date(t0)
        tot_kwp = tot_plan = 0.0
        tot_eq = tot_el = 0
        for stage in stages:
            arrays = [a for a in registry.pv_arrays if a.rollout_stage == stage and a.commissioned <= day]
            planned = [r for r in registry.planned_roofs if r.stage == stage]
            kwp = sum(a.kwp for a in arrays)
            plan = kwp + sum(r.planned_kwp for r in planned)
            equipped = len({a.site for a in arrays})
            eligible = equipped + len(planned)
            tot_kwp, tot_plan, tot_eq, tot_el = tot_kwp + kwp, tot_plan + plan, tot_eq + equipped, tot_el + eligible
            points.append(Point("rollout", {"stage": stage}, {
                "kwp_installed": kwp, "kwp_planned": plan, "roofs_equipped": equipped, "roofs_eligible": eligible,
                "production_cum_wh": 0.0, "co2_avoided_kg": 0.0, "pv_share_pct": 0.0}, t0))
        points.append(Point("rollout", {"stage": "all"}, {
            "kwp_installed": tot_kwp, "kwp_planned": tot_plan, "roofs_equipped": tot_eq, "roofs_eligible": tot_el,
            "production_cum_wh": round(tot_kwp * 1000 * 1000, 1), "co2_avoided_kg": round(tot_kwp * 60, 1),
            "pv_share_pct": 12.5}, t0))
    points += _sample_alerts_and_events(registry, days)
    return points


def _sample_alerts_and_events(registry: Registry, days: list[int]) -> list[Point]:
    if not days:
        return []
    points = []
    recent = days[-min(3, len(days))]
    elec = [m for m in registry.meters if m.carrier == "electricity"]
    pv = [m for m in registry.meters if m.carrier == "pv"]
    water = [m for m in registry.meters if m.carrier == "water"]
    samples = [(elec[0], "drift", "open", ("Dérive de consommation à la hausse", "Consumption drifting up")),
               (elec[-1], "base_load", "resolved", ("Talon de consommation en hausse", "Night base load rising")),
               (water[0], "silent", "open", ("Compteur muet", "Silent meter")),
               (pv[0], "pv_offline", "open", ("Onduleur hors ligne", "Inverter offline"))]
    for i, (m, kind, state, (fr, en)) in enumerate(samples):
        t0 = recent + i * 3600 * NS_PER_S
        points.append(Point("alert", {"site": m.site, "meter": m.id, "kind": kind, "state": state}, {
            "alert_id": f"sample{i:04d}", "onset_ns": t0, "magnitude_kwh_per_day": 12.5, "magnitude_pct": 8.0,
            "cost_eur": 2.5, "co2_kg": 0.7, "title_fr": fr, "title_en": en}, t0))
    for i, kind in enumerate(("reset", "spike")):
        m = elec[i % len(elec)]
        points.append(Point("counter_event", {"site": m.site, "meter": m.id, "kind": kind}, {
            "before": 1_234_567.0, "after": 12.0 if kind == "reset" else 9_999_999.0,
            "detail": f"energy_import_wh {kind}"}, recent + (i + 1) * 7200 * NS_PER_S))
    return points


def sample_collector_points(end_ns: int, duration_s: int = 6 * 3600, every_s: int = 10,
                            collector: str = "terril-collector") -> list[Point]:
    """``collector_stats`` as one collector writes them: cumulative counters every ``every_s`` seconds."""
    n = duration_s // every_s
    points = []
    for i in range(n + 1):
        t = end_ns - (n - i) * every_s * NS_PER_S
        points.append(Point("collector_stats", {"collector": collector}, {
            "messages_received": 50 * i, "readings_decoded": 120 * i, "points_written": 100 * i,
            "messages_acked": 50 * i, "write_batches": i, "write_retries": i // 500, "reconnections": i // 1000,
            "quarantined": i // 20, "write_latency_ms": 8.0 + (i % 7), "spool_depth_points": (i % 30) // 10,
            "points_spooled": i // 100, "points_replayed": i // 100, "acks_pending": i % 5}, t))
    return points


def write_sample_derived(client: InfluxClient, registry: Registry, start_ns: int, end_ns: int) -> int:
    """Write the SAMPLE derived points and collector stats for [start_ns, end_ns); return the number of points."""
    points = sample_derived_points(registry, start_ns, end_ns) + sample_collector_points(end_ns)
    client.write_points(points)
    return len(points)
