"""Baselines and drift for every meter, from the daily rollups and weather in InfluxDB, to alerts.

Per meter: the first ``baseline_days`` of history (daily ``consumption_daily`` and the
town's ``weather_daily``) fit a daily change-point model with day types as regressors
(school day, holiday, weekend, Wednesday, public holiday — from :mod:`terril.calendar`);
the following days are monitored with CUSUM/EWMA on the residuals
(:func:`analytics.drift.detect_drift`); the night base load from ``consumption_hourly`` is
watched (:func:`analytics.drift.detect_baseload_drift`); silent and stuck meters come from
the raw readings. ``baseline_daily`` gets expected, actual, residual and CUSUM per day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from analytics.baseline import fit_daily
from analytics.drift import (
    Alert,
    detect_baseload_drift,
    detect_drift,
    detect_silent,
    detect_stuck,
    daily_load_statistic,
    estimate_noise,
    with_cost,
)
from analytics.jobs.alerts import TITLES, AlertRecord, new_alert_id
from analytics.jobs.io import query_meter_series, write_points
from analytics.jobs.rollups import MeterRollup, expected_interval_s
from analytics.savings import model_inputs
from terril.calendar import local_dates
from terril.influx import InfluxClient
from terril.readings import Point
from terril.registry import Meter, Registry

#: Default prices [EUR/kWh, EUR/m³ for water] and emission factors [kg CO2e/kWh], used to cost alerts.
#: CO2: ADEME Base Carbone (electricity mix moyen 2022: 0.052; natural gas 2015 mix moyen: 0.227 PCI;
#: district heating national average FEDENE/SNCU 2024: 0.113). Prices: typical 2025 public-buyer tariffs.
PRICE_EUR = {"electricity": 0.20, "gas": 0.10, "heat": 0.11, "water": 4.0, "pv": 0.20}
CO2_KG = {"electricity": 0.052, "gas": 0.227, "heat": 0.113, "water": 0.0, "pv": 0.052}
DAY_NS = 86_400 * 10**9
#: Days of night-load history before the base-load watch starts.
MIN_BASELOAD_DAYS = 60


@dataclass
class DriftReport:
    """What the drift job did, per meter."""

    fitted: dict[str, str] = field(default_factory=dict)   # meter -> model kind
    skipped: dict[str, str] = field(default_factory=dict)  # meter -> reason codes
    alerts: list[AlertRecord] = field(default_factory=list)


def _daily(client: InfluxClient, meter: Meter, start_ns: int, end_ns: int) -> tuple[np.ndarray, np.ndarray]:
    fld = "volume_m3" if meter.carrier == "water" else ("production_wh" if meter.carrier == "pv" else "consumption_wh")
    t, s = query_meter_series(client, meter.id, [fld, "coverage_pct"], start_ns, end_ns, "consumption_daily")
    v = s[fld] if meter.carrier == "water" else s[fld] / 1000.0
    v = np.where(s["coverage_pct"] >= 90.0, v, np.nan)
    return t, v


def _weather(client: InfluxClient, registry: Registry, start_ns: int, end_ns: int) -> dict[int, float]:
    wm = next((m for m in registry.meters if m.carrier == "weather"), None)
    if wm is None:
        return {}
    q = f"SELECT temp_mean_c FROM weather_daily WHERE site = $site AND time >= {start_ns} AND time < {end_ns}"
    return {int(r[0]): float(r[1]) for s in client.query(q, params={"site": wm.site}) for r in s.values
            if r[1] is not None}


def collapse_episodes(alerts: tuple[Alert, ...] | list[Alert], gap_days: float = 14.0) -> list[Alert]:
    """One alert per episode: the charts restart after each alarm, so a lasting shift alarms again
    and again; alarms of the same kind following each other within ``gap_days`` are one episode,
    reported with its first onset and detection and the mean magnitude."""
    out: list[Alert] = []
    gap = int(gap_days * DAY_NS)
    for a in sorted(alerts, key=lambda a: (a.kind, a.detected_ns)):
        last = out[-1] if out else None
        if last is not None and last.kind == a.kind and a.onset_ns <= last_detected[0] + gap:
            n = last_detected[1] + 1
            mag = (last.magnitude_kwh_per_day * (n - 1) + a.magnitude_kwh_per_day) / n
            pct = (last.magnitude_pct * (n - 1) + a.magnitude_pct) / n
            out[-1] = dataclasses.replace(last, magnitude_kwh_per_day=mag, magnitude_pct=pct)
            last_detected = (a.detected_ns, n)
        else:
            out.append(a)
            last_detected = (a.detected_ns, 1)
    return out


def _record(a: Alert, meter: Meter) -> AlertRecord:
    a = with_cost(a, PRICE_EUR.get(meter.carrier, 0.0), CO2_KG.get(meter.carrier, 0.0))
    fr, en = TITLES.get(a.kind, (a.kind, a.kind))
    water = meter.carrier == "water"  # daily series in m³, not kWh
    return AlertRecord(new_alert_id(meter.id, a.kind, a.onset_ns), meter.site, meter.id, a.kind,
                       "open" if a.state == "open" else "resolved", a.onset_ns, a.detected_ns,
                       math.nan if water else a.magnitude_kwh_per_day, a.magnitude_pct,
                       a.cost_eur if a.cost_eur is not None else math.nan,
                       a.co2_kg if a.co2_kg is not None else math.nan, fr, en,
                       magnitude_m3_per_day=a.magnitude_kwh_per_day if water else math.nan)


def run_drift(client: InfluxClient, registry: Registry, end_ns: int, *, history_days: int = 730,
              baseline_days: int = 365, rollups: dict[str, MeterRollup] | None = None,
              meters: list[Meter] | None = None) -> DriftReport:
    """Fit baselines, detect drift, base-load, silent and stuck meters up to ``end_ns``."""
    report = DriftReport()
    start_ns = end_ns - history_days * DAY_NS
    temps = _weather(client, registry, start_ns, end_ns)
    points: list[Point] = []
    targets = meters if meters is not None else [m for m in registry.meters if m.carrier in
                                                  ("electricity", "gas", "heat", "water")]
    for meter in targets:
        site = registry.site_by_id[meter.site]
        t, kwh = _daily(client, meter, start_ns, end_ns)
        if t.size < 30:
            report.skipped[meter.id] = "baseline.period_too_short"
        else:
            n_base = min(baseline_days, t.size - 1)
            raw_temp = np.array([temps.get(int(x), np.nan) for x in t])
            dates = local_dates(t)
            # the same model inputs as the savings reports: day types, and for heating carriers a
            # smoothed temperature and heating-season terms (plain daily models do not qualify for gas)
            temp, regs, names = model_inputs(dates, raw_temp, meter.carrier, site.school_week)
            with np.errstate(invalid="ignore", divide="ignore"):
                model = fit_daily(temp[:n_base], kwh[:n_base], regressors=regs[:n_base], regressor_names=names,
                                  dates=dates[:n_base], is_electricity=meter.carrier == "electricity")
            if not model.qualifies:
                report.skipped[meter.id] = ",".join(model.reasons)
            else:
                report.fitted[meter.id] = model.kind
            if np.isfinite(model.intercept):
                # the expected series is shown even for a model that does not qualify (flagged so);
                # only a qualifying model is trusted for drift alerts
                expected = model.predict(temp, regs)
                resid = kwh - expected
                if model.qualifies:
                    noise = estimate_noise(resid[:n_base], float(np.nanmean(expected[:n_base])))
                    found = detect_drift(meter.id, t[n_base:], kwh[n_base:], expected[n_base:], noise)
                    report.alerts.extend(_record(a, meter) for a in collapse_episodes(found))
                cusum = np.nancumsum(np.where(np.isfinite(resid), resid, 0.0))
                for i in range(t.size):
                    if np.isfinite(expected[i]):
                        f = {"expected_wh": float(expected[i]) * 1000, "cusum_wh": float(cusum[i]) * 1000,
                             "model_qualified": bool(model.qualifies)}
                        if np.isfinite(kwh[i]):
                            f["actual_wh"] = float(kwh[i]) * 1000
                            f["residual_wh"] = float(resid[i]) * 1000
                        points.append(Point("baseline_daily", {"site": meter.site, "meter": meter.id,
                                                               "carrier": meter.carrier}, f, int(t[i])))
        if meter.carrier == "electricity" and site.heating_carrier != "electricity":
            # night base load; not on electrically heated buildings, whose night load follows the weather
            th, sh = query_meter_series(client, meter.id, ["consumption_wh"], start_ns, end_ns, "consumption_hourly")
            if th.size >= 24 * (MIN_BASELOAD_DAYS + 7):
                days, load = daily_load_statistic(th, sh["consumption_wh"])  # Wh in one hour = mean W
                n_base = min(baseline_days, max(MIN_BASELOAD_DAYS, days.size // 2))
                if np.isfinite(load[:n_base]).sum() >= 10 and days.size > n_base:
                    report.alerts.extend(_record(a, meter) for a in
                                         collapse_episodes(detect_baseload_drift(meter.id, days, load, n_base)))
                    for i in range(days.size):
                        if np.isfinite(load[i]):
                            points.append(Point("baseline_daily", {"site": meter.site, "meter": meter.id,
                                                                   "carrier": meter.carrier},
                                                {"base_load_w": float(load[i])}, int(days[i])))
        roll = rollups.get(meter.id) if rollups else None
        has_pv = any(a.site == meter.site for a in registry.pv_arrays)
        if roll is not None and roll.consumption is not None and not has_pv:
            # a frozen import register is expected while PV covers the load: no stuck watch on PV sites.
            # Only a register frozen now raises an alert; past episodes stay in data_quality/counter_event.
            report.alerts.extend(_record(a, meter) for a in detect_stuck(meter.id, roll.consumption)
                                 if a.state == "open")
    write_points(client, points)
    return report


def run_silent(client: InfluxClient, registry: Registry, start_ns: int, end_ns: int, missing_intervals: int = 2
               ) -> list[AlertRecord]:
    """Silent meters: no reading for ``missing_intervals`` expected intervals.

    "Now" is the freshest reading of the whole fleet (capped at ``end_ns``), so that
    analysing a backfilled period does not call every meter silent.
    """
    last: dict[str, int] = {}
    times: dict[str, np.ndarray] = {}
    for meter in registry.meters:
        t, _ = query_meter_series(client, meter.id, ["received_ns"], start_ns, end_ns)
        times[meter.id] = t
        if t.size:
            last[meter.id] = int(t[-1])
    if not last:
        return []
    now = min(end_ns, max(last.values()))
    out = []
    for meter in registry.meters:
        t = times[meter.id]
        if t.size == 0:
            continue
        interval = expected_interval_s(registry, meter.id)
        for a in detect_silent(meter.id, t, expected_interval_s=interval, missing_intervals=missing_intervals,
                               now_ns=now + int(interval * 1e9) - 1):
            if a.state == "open":  # past gaps are in the data-quality ledger
                out.append(_record(a, meter))
    return out


def day_start(date: dt.date) -> int:
    from terril.timeutil import local_midnight_ns

    return local_midnight_ns(date)
