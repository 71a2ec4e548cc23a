"""Known truth on the simulator: the drift job's pure core (:func:`analytics.drift_models.analyse_meter`)
run on two monitored years of simulated meters, with and without an injected drift.

The chain is the real one without the database: the simulator's counters (resolution, register
behaviour), counter deltas, hourly and daily rollups in local time, the weather station's readings
for the temperatures, one baseline year then two monitored years.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pytest

from analytics.consumption import counter_to_deltas, rollup_consumption
from analytics.degree_days import daily_temperature
from analytics.drift_models import MeterInputs, analyse_meter, hourly_means
from firmware_sim.faults import parse_scenario
from firmware_sim.fleet import FleetSimulation
from terril.carriers import CARRIERS
from terril.registry import Registry, load_registry, parse_registry
from terril.timeutil import local_midnight_ns

DAY = 86_400 * 10**9
START = dt.date(2024, 1, 1)
END = dt.date(2027, 1, 1)  # one baseline year, two monitored years
SITES = ("mairie", "ecole-ferry", "station-meteo")


def small_registry() -> Registry:
    """The demo registry cut down to the town hall, a school and the weather station, without PV."""
    import tomllib

    from terril.registry import DEMO_REGISTRY_PATH

    data = tomllib.loads(DEMO_REGISTRY_PATH.read_text(encoding="utf-8"))
    keep = set(SITES)
    data["sites"] = [s for s in data["sites"] if s["id"] in keep]
    data["meters"] = [m for m in data["meters"] if m["site"] in keep and m["carrier"] != "pv"]
    meters = {m["id"] for m in data["meters"]}
    data["devices"] = [d for d in data["devices"] if d["site"] in keep
                       and all(c["meter"] in meters for c in d["channels"])]
    data["pv_arrays"] = []  # no PV: the electricity meters measure the buildings' own use
    data["planned_roofs"] = [r for r in data.get("planned_roofs", []) if r["site"] in keep]
    data["measures"] = [x for x in data.get("measures", []) if x["site"] in keep and x.get("kind") != "pv"]
    return parse_registry(data, source="<demo, three sites>")


@lru_cache(maxsize=4)
def simulated_inputs(seed: int, drift: tuple[str, float, str] | None = None) -> tuple[Registry, dict[str, MeterInputs]]:
    """Drift-job inputs of every energy meter of :func:`small_registry`, simulated three years."""
    registry = small_registry()
    scenario = None
    if drift is not None:
        meter, pct, start = drift
        scenario = parse_scenario({"name": "test", "faults": [{"id": "drift", "kind": "consumption_drift",
                                                                "meter": meter, "start": start, "pct": pct}]},
                                  registry)
    start_ns, end_ns = local_midnight_ns(START), local_midnight_ns(END)
    sim = FleetSimulation(registry, start_ns - 900 * 10**9, seed=seed, step_s=900, scenario=scenario)
    series: dict[tuple[str, str], tuple[list, list]] = {}
    for chunk in sim.run(end_ns - 1, chunk_s=30 * 86_400):
        for msg in chunk.messages():
            for ch in msg.channels:
                for q, v in ch.values.items():
                    ts, vs = series.setdefault((ch.meter_id, q), ([], []))
                    ts.append(msg.time_ns)
                    vs.append(float(v))
    wm = next(m for m in registry.meters if m.carrier == "weather")
    wt, wv = (np.asarray(x) for x in series[(wm.id, "temp_air_c")])
    daily_t = daily_temperature(wt, wv)
    temp_by_day = dict(zip(daily_t.day_start_ns.tolist(), daily_t.mean_c.tolist()))
    out = {}
    for m in registry.meters:
        if m.carrier not in ("electricity", "gas", "heat"):
            continue
        spec = CARRIERS[m.carrier]
        t, v = (np.asarray(x) for x in series[(m.id, spec.counter)])
        ic = counter_to_deltas(t, v, multiplier=m.multiplier, rollover_wh=m.rollover_wh)
        day, hour = rollup_consumption(ic, "day"), rollup_consumption(ic, "hour")
        inside = (day.bucket_start_ns >= start_ns) & (day.bucket_start_ns < end_ns)
        d0 = day.bucket_start_ns[inside]
        kwh = np.where(day.coverage[inside] >= 0.9, spec.counter_to_daily(m, day.sums[inside]), np.nan)
        h_in = (hour.bucket_start_ns >= start_ns) & (hour.bucket_start_ns < end_ns)
        th = hour.bucket_start_ns[h_in]
        out[m.id] = MeterInputs(d0, kwh, np.array([temp_by_day.get(int(x), np.nan) for x in d0]), th,
                                spec.energy_wh(m, hour.sums[h_in]), hourly_means(wt, wv, th))
    return registry, out


def _alerts(registry: Registry, inputs: MeterInputs, meter_id: str):
    meter = registry.meter_by_id[meter_id]
    res = analyse_meter(meter, registry.site_by_id[meter.site], registry, inputs, baseline_days=365)
    return res, [a for a in res.alerts if a.kind in ("drift_up", "drift_down", "baseload_up", "baseload_down")]


@pytest.mark.parametrize("meter_id", ["mairie-gaz", "mairie-elec", "ecole-ferry-chaleur"])
def test_a_meter_with_no_change_gives_no_alert_over_two_simulated_years(meter_id):
    # seed 0, fixed before the test was first run; the harness (bench/drift.py) measures the rate over the fleet
    registry, inputs = simulated_inputs(0)
    res, alerts = _alerts(registry, inputs[meter_id], meter_id)
    assert res.qualifies, res.reasons
    assert inputs[meter_id].day_start_ns.size >= 3 * 365
    assert alerts == [], [(a.kind, dt.datetime.fromtimestamp(a.detected_ns / 1e9).date()) for a in alerts]


def test_an_injected_15pct_drift_is_found_with_its_onset_within_a_week():
    # +15 % on the town hall's gas from 2025-11-12 (heating season of the first monitored year)
    onset = dt.datetime(2025, 11, 12, tzinfo=dt.timezone.utc)
    registry, inputs = simulated_inputs(0, ("mairie-gaz", 15.0, onset.isoformat()))
    _, alerts = _alerts(registry, inputs["mairie-gaz"], "mairie-gaz")
    onset_ns = int(onset.timestamp() * 1e9)
    found = [a for a in alerts if a.kind == "drift_up" and a.detected_ns > onset_ns]
    assert found, alerts
    first = found[0]
    assert first.detected_ns - onset_ns <= 21 * DAY
    assert abs(first.onset_ns - onset_ns) <= 7 * DAY
    assert 5.0 < first.magnitude_pct < 30.0
    assert not [a for a in alerts if a.detected_ns < onset_ns and a.detected_ns >= local_midnight_ns(dt.date(2025, 1, 1))]


@pytest.mark.parametrize("meter_id", ["mairie-gaz", "mairie-elec", "ecole-ferry-chaleur", "ecole-ferry-elec"])
def test_no_baseline_runs_biased_in_any_month_nor_at_the_end_of_the_heating_season(meter_id):
    """Issue 16, item 1: the per-month NMBE of the baseline year stays within ±3 % (the fit rescales a
    biased month, or the meter is not modelled and says why); the heating plants' season ends when they
    stop (15 May in the simulator), not on the conventional 20 May, so the late spring of the next,
    unseen year is not over-predicted (it was +19 to +22 % from 8 May to 4 June on every gas meter)."""
    from analytics.baseline import monthly_nmbe_pct
    from terril.calendar import local_dates

    registry, inputs = simulated_inputs(0)
    res, _ = _alerts(registry, inputs[meter_id], meter_id)
    inp = inputs[meter_id]
    dates = local_dates(inp.day_start_ns)
    if not res.qualifies:
        assert res.reasons, "a meter that is not modelled says why"
        return
    after = monthly_nmbe_pct(dates[:365], inp.energy[:365], res.expected[:365])
    assert np.nanmax(np.abs(after)) <= 3.0 + 1e-9, np.round(after, 1)
    for year in (2025, 2026):
        late = (dates >= np.datetime64(f"{year}-05-08")) & (dates <= np.datetime64(f"{year}-06-04"))
        ok = late & np.isfinite(inp.energy) & np.isfinite(res.expected)
        bias = 100.0 * (res.expected[ok].sum() / inp.energy[ok].sum() - 1.0)
        print(f"{meter_id} {year}: 8 May-4 June expected/actual - 1 = {bias:+.1f} %; months rescaled "
              f"{res.corrected_months}; NMBE before {np.round(res.monthly_nmbe_pct, 1)}")
        assert abs(bias) <= 10.0
