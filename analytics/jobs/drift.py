"""Baselines and drift for every meter, from the daily and hourly rollups and weather in InfluxDB, to alerts.

The I/O of the drift job: :func:`run_drift` reads each meter's daily and hourly series and its site's
weather, runs the pure models of :mod:`analytics.drift_models` (:func:`~analytics.drift_models.analyse_meter`:
baselines, per-month bias check, CUSUM/EWMA charts, night base load), writes ``baseline_daily``
(expected, actual, residual and CUSUM per day) and returns the alerts, costed with the town's prices;
silent and stuck meters come from the raw readings (:func:`run_silent`, :func:`analytics.drift.detect_stuck`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from analytics.consumption import calendar_boundaries_ns, data_step_s
from analytics.degree_days import MIN_STATION_DAY_COVERAGE, daily_temperature
from analytics.drift import (
    Alert,
    detect_silent,
    detect_stuck,
    with_cost,
)
from analytics.drift_models import DAY_NS, MeterInputs, analyse_meter, hourly_means
from analytics.jobs.alerts import TITLES, AlertRecord, new_alert_id
from analytics.influx_queries import query_meter_series, query_station_temperatures
from analytics.jobs.rollups import MeterRollup, expected_interval_s
from terril.carriers import CARRIERS
from terril.influx import InfluxClient
from terril.readings import Point
from terril.registry import Meter, Registry
from terril.settings import PricesSettings

DEFAULT_PRICES = PricesSettings()


def unit_value(carrier: str, prices: PricesSettings = DEFAULT_PRICES) -> tuple[float, float]:
    """Price [€/kWh; €/m³ for water] and emission factor [kg CO₂e/kWh] that cost an alert of ``carrier``.

    From the ``prices.*`` settings (defaults: docs/settings.md), the same ones that value the savings.
    """
    table = {
        "electricity": (prices.electricity_eur_per_kwh, prices.electricity_kg_co2e_per_kwh),
        "pv": (prices.electricity_eur_per_kwh, prices.electricity_kg_co2e_per_kwh),
        "gas": (prices.gas_eur_per_kwh, prices.gas_kg_co2e_per_kwh),
        "heat": (prices.heat_eur_per_kwh, prices.heat_kg_co2e_per_kwh),
        "water": (prices.water_eur_per_m3, 0.0),
    }
    return table.get(carrier, (0.0, 0.0))




@dataclass
class DriftReport:
    """What the drift job did, per meter."""

    fitted: dict[str, str] = field(default_factory=dict)   # meter -> model kind
    skipped: dict[str, str] = field(default_factory=dict)  # meter -> reason codes
    alerts: list[AlertRecord] = field(default_factory=list)


def _daily(client: InfluxClient, meter: Meter, start_ns: int, end_ns: int) -> tuple[np.ndarray, np.ndarray]:
    spec = CARRIERS[meter.carrier]
    fld = spec.rollup_field
    t, s = query_meter_series(client, meter.id, [fld, "coverage_pct"], start_ns, end_ns, "consumption_daily")
    v = spec.rollup_to_daily(s[fld])
    v = np.where(s["coverage_pct"] >= 90.0, v, np.nan)
    return t, v


def _weather(client: InfluxClient, registry: Registry, start_ns: int, end_ns: int,
             site_id: str | None = None) -> dict[int, float]:
    """Daily mean temperature by local midnight of ``site_id``'s own weather source (its
    ``weather_meter``'s station, or its imported ``weather_station``), else the town's first station."""
    src = registry.weather_source(site_id or "")
    if src is None:
        return {}
    if src.meter is None:  # an imported station's daily or hourly values, per local day as the report reads them
        t, v = query_station_temperatures(client, str(src.station), start_ns, end_ns)
        if not t.size:
            return {}
        days = calendar_boundaries_ns(int(start_ns), int(max(end_ns, start_ns + 1)) - 1, "day")
        dtc = daily_temperature(t, v, boundaries_ns=days, min_hourly_coverage=MIN_STATION_DAY_COVERAGE)
        return {int(k): float(m) for k, m in zip(dtc.day_start_ns, dtc.mean_c) if np.isfinite(m)}
    q = f"SELECT temp_mean_c FROM weather_daily WHERE site = $site AND time >= {start_ns} AND time < {end_ns}"
    return {int(r[0]): float(r[1]) for s in client.query(q, params={"site": src.meter.site}) for r in s.values
            if r[1] is not None}




def cost_until_ns(a: Alert, analysed_to_ns: int | None) -> int | None:
    """Where an alert's cost stops: a resolved episode at its end, an open one at the end of the
    analysed data (the cost so far, as a PV alert's), else at its detection."""
    if a.state != "open":
        return a.end_ns or None
    return max(int(analysed_to_ns), a.detected_ns) if analysed_to_ns else None


def _record(a: Alert, meter: Meter, prices: PricesSettings, analysed_to_ns: int | None = None) -> AlertRecord:
    a = with_cost(a, *unit_value(meter.carrier, prices), until_ns=cost_until_ns(a, analysed_to_ns))
    fr, en = TITLES.get(a.kind, (a.kind, a.kind))
    water = meter.carrier == "water"  # daily series in m³, not kWh
    # a rate beside the daily excess: W for a base load (or an excess whose share means nothing), L/h for water
    watts = a.magnitude_w
    if not water and not math.isfinite(watts) and not math.isfinite(a.magnitude_pct):
        watts = a.magnitude_kwh_per_day * 1000.0 / 24.0
    return AlertRecord(new_alert_id(meter.id, a.kind, a.onset_ns), meter.site, meter.id, a.kind,
                       "open" if a.state == "open" else "resolved", a.onset_ns, a.detected_ns,
                       math.nan if water else a.magnitude_kwh_per_day, a.magnitude_pct,
                       a.cost_eur if a.cost_eur is not None else math.nan,
                       a.co2_kg if a.co2_kg is not None else math.nan, fr, en,
                       magnitude_m3_per_day=a.magnitude_kwh_per_day if water else math.nan,
                       magnitude_w=math.nan if water else watts,
                       magnitude_l_per_h=a.magnitude_kwh_per_day * 1000.0 / 24.0 if water else math.nan,
                       carrier=meter.carrier, end_ns=a.end_ns or 0)


def run_drift(client: InfluxClient, registry: Registry, end_ns: int, *, history_days: int = 730,
              baseline_days: int = 365, rollups: dict[str, MeterRollup] | None = None,
              meters: list[Meter] | None = None, prices: PricesSettings = DEFAULT_PRICES) -> DriftReport:
    """Fit baselines, detect drift, base-load, silent and stuck meters up to ``end_ns``."""
    report = DriftReport()
    start_ns = end_ns - history_days * DAY_NS
    # each site's own weather source (Site.weather_meter / weather_station), read once per source
    daily_by_source: dict[str, dict[int, float]] = {}
    hourly_by_source: dict[str, tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]] = {}

    def site_weather(site_id: str) -> tuple[dict[int, float], np.ndarray | None, np.ndarray | None,
                                            np.ndarray | None]:
        src = registry.weather_source(site_id)
        key = src.key if src is not None else ""
        if key not in daily_by_source:
            daily_by_source[key] = _weather(client, registry, start_ns, end_ns, site_id)
            hourly: tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None] = (None, None, None)
            if src is not None and src.meter is not None:
                # the station's temperature, and its irradiance (lighting follows daylight: the electricity
                # models' daylight term); a station without a pyranometer has no irradiance (all NaN)
                wt, ws = query_meter_series(client, src.meter.id, ["temp_air_c", "irradiance_w_m2"], start_ns, end_ns)
                hourly = (wt, ws["temp_air_c"], ws["irradiance_w_m2"])
            hourly_by_source[key] = hourly
        return daily_by_source[key], *hourly_by_source[key]

    points: list[Point] = []
    targets = meters if meters is not None else [m for m in registry.meters if m.carrier in
                                                  ("electricity", "gas", "heat", "water")]
    for meter in targets:
        site = registry.site_by_id[meter.site]
        temps, weather_t, weather_c, weather_g = site_weather(meter.site)
        t, kwh = _daily(client, meter, start_ns, end_ns)
        th = wh = ht = hg = None
        if meter.carrier in ("electricity", "gas", "heat"):
            th, sh = query_meter_series(client, meter.id, ["consumption_wh"], start_ns, end_ns, "consumption_hourly")
            wh = sh["consumption_wh"]
            ht = hourly_means(weather_t, weather_c, th) if weather_t is not None else None
            if meter.carrier == "electricity" and weather_t is not None and weather_g is not None:
                hg = hourly_means(weather_t, weather_g, th)
        inputs = MeterInputs(t, kwh, np.array([temps.get(int(x), np.nan) for x in t]), th, wh, ht, hg)
        res = analyse_meter(meter, site, registry, inputs, baseline_days=baseline_days)
        if res.qualifies:
            report.fitted[meter.id] = res.model_kind or ""
        else:
            report.skipped[meter.id] = ",".join(res.reasons)
        report.alerts.extend(_record(a, meter, prices, end_ns) for a in res.alerts)
        tags = {"site": meter.site, "meter": meter.id, "carrier": meter.carrier}
        if res.expected is not None:
            # the expected series is shown even for a model that does not qualify (flagged so);
            # only a qualifying model is trusted for drift alerts
            resid = kwh - res.expected
            cusum = np.nancumsum(np.where(np.isfinite(resid), resid, 0.0))
            for i in range(t.size):
                if np.isfinite(res.expected[i]):
                    f = {"expected_wh": float(res.expected[i]) * 1000, "cusum_wh": float(cusum[i]) * 1000,
                         "model_qualified": bool(res.qualifies)}
                    if np.isfinite(kwh[i]):
                        f["actual_wh"] = float(kwh[i]) * 1000
                        f["residual_wh"] = float(resid[i]) * 1000
                    points.append(Point("baseline_daily", tags, f, int(t[i])))
        if res.base_load_w is not None and res.base_load_day_ns is not None:
            for i in range(res.base_load_day_ns.size):
                if np.isfinite(res.base_load_w[i]):
                    points.append(Point("baseline_daily", tags, {"base_load_w": float(res.base_load_w[i])},
                                        int(res.base_load_day_ns[i])))
        roll = rollups.get(meter.id) if rollups else None
        has_pv = any(a.site == meter.site for a in registry.pv_arrays)
        if roll is not None and roll.consumption is not None and not has_pv:
            # a frozen import register is expected while PV covers the load: no stuck watch on PV sites.
            # A register frozen now raises an open alert; an episode over inside the analysed window a
            # resolved one, with its real start and end (what a town sees after a back-fill)
            report.alerts.extend(_record(a, meter, prices, end_ns) for a in detect_stuck(meter.id, roll.consumption))
    client.write_points(points)
    return report


def run_silent(client: InfluxClient, registry: Registry, start_ns: int, end_ns: int, missing_intervals: int = 2,
               *, prices: PricesSettings = DEFAULT_PRICES,
               reading_times: dict[str, np.ndarray] | None = None) -> list[AlertRecord]:
    """Silent meters: no reading for ``missing_intervals`` expected intervals.

    "Now" is the freshest reading of the whole fleet (capped at ``end_ns``), so that
    analysing a backfilled period does not call every meter silent. A gap still running gives an
    open alert; a gap that ended inside ``[start_ns, end_ns)`` a resolved one with its real start
    and end (after a back-fill, the past episodes are raised and closed at once).
    ``reading_times`` gives, for some meters, the times of their readings (points holding
    ``received_ns``) in exactly ``[start_ns, end_ns)``, sorted, as the rollups of the same run read
    them (:attr:`analytics.jobs.rollups.MeterRollup.reading_times_ns`): those are not read again.
    """
    last: dict[str, int] = {}
    times: dict[str, np.ndarray] = {}
    for meter in registry.meters:
        if reading_times is not None and meter.id in reading_times:
            t = reading_times[meter.id]
        else:
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
        # gaps judged against the data's own step (a meter back-filled at 1 h is not silent every hour)
        per_gap = data_step_s(t[:-1], t[1:], interval) if t.size >= 2 else None
        for a in detect_silent(meter.id, t, expected_interval_s=interval, missing_intervals=missing_intervals,
                               now_ns=now + int(interval * 1e9) - 1, interval_s_per_gap=per_gap):
            out.append(_record(a, meter, prices, now))
    return out


def day_start(date: dt.date) -> int:
    from terril.timeutil import local_midnight_ns

    return local_midnight_ns(date)
