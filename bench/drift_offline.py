"""Offline drift scoring: the drift job's pure core on simulated rollups, without InfluxDB.

The same chain as ``bench/drift.py`` up to the database: the simulator's published readings
(resolution, register behaviour, offline steps) → :func:`analytics.consumption.counter_to_deltas`
→ hourly and daily rollups in local time with the job's coverage rule → the weather station's
daily and hourly temperatures, and its hourly irradiance for the electricity models' daylight term (the
published ``irradiance_w_m2``, as the drift job reads it; a cache made before it was kept has none) →
:func:`analytics.drift_models.analyse_meter` per meter. The rollups
of each seed are cached (``--cache DIR``), so that tuning replays the detection in seconds.

Fault shapes (:func:`bench.drift.make_shaped_scenario`): steps (+10 to +25 %), ramps (+10 to
+20 % over 30-60 days), night loads on electricity (a base load left on), heating that no longer
stops at night on gas, water leaks (20-60 L/h). A drift counts as found when an upward alert of its
meter is detected after its onset and within 21 days of the day it reached +10 % (a ramp reaches
it at ``onset + ramp_days·10/pct``); night loads and leaks within 21 days of onset. False alarms:
every upward alert of a clean meter in the monitored year, and of a faulty one before its onset.

Usage: ``python bench/drift_offline.py --seeds 100 101 102 [--cache /tmp/terril-drift-cache]
[--set confirm_days=0 ...]`` (about 1.5 min per seed to simulate on one core, then seconds per replay
of the charts; ``--set`` overrides a chart setting of :class:`analytics.drift.DriftSettings`). The
cached fits are the models of the code that made them: delete ``seed-N-fit.pkl`` after changing a
model. Tuning seeds (0-2, 6-11), check seeds (3-5) and held-out seeds (100-107; 108-115, scored once in the
fourth round; 116-123, simulated at the start of the sixth round and scored once at its end) must differ:
docs/analytics.md §7.2.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.consumption import counter_to_deltas, data_step_s, rollup, rollup_consumption  # noqa: E402
from analytics.degree_days import daily_temperature  # noqa: E402
from analytics.drift_models import (  # noqa: E402
    MeterInputs,
    after_season_end,
    analyse_meter,
    chart_drift,
    hourly_means,
    job_settings,
)
from analytics.jobs.rollups import expected_interval_s  # noqa: E402
from terril.carriers import CARRIERS  # noqa: E402
from bench.drift import END, MONITOR, START, make_shaped_scenario  # noqa: E402
from firmware_sim.faults import parse_scenario  # noqa: E402
from firmware_sim.fleet import FleetSimulation  # noqa: E402
from terril.calendar import local_dates  # noqa: E402
from terril.registry import load_registry  # noqa: E402
from terril.timeutil import NS_PER_S, local_midnight_ns  # noqa: E402

DAY = 86_400 * NS_PER_S
UP = ("drift_up", "baseload_up")


def simulate_inputs(registry, seed: int) -> dict:
    """Simulate the fleet for a seed (baseline year + monitored year) and build every meter's drift inputs."""
    rng = np.random.default_rng(seed)
    data, roles = make_shaped_scenario(registry, rng)
    scenario = parse_scenario(data, registry)
    start_ns, end_ns = local_midnight_ns(START), local_midnight_ns(END)
    sim = FleetSimulation(registry, start_ns - 900 * NS_PER_S, seed=seed, step_s=900, scenario=scenario)
    times: dict[str, list] = {}
    values: dict[tuple[str, str], list] = {}
    for chunk in sim.run(end_ns - 1, chunk_s=30 * 86_400):
        for mid, s in chunk.series.items():
            m = s.due & s.online
            times.setdefault(mid, []).append(chunk.time_ns[m])
            for q, v in s.values.items():
                values.setdefault((mid, q), []).append(np.asarray(v, dtype=float)[m])
    t_of = {k: np.concatenate(v) for k, v in times.items()}
    v_of = {k: np.concatenate(v) for k, v in values.items()}
    wm = next(m for m in registry.meters if m.carrier == "weather")
    wt, wv = t_of[wm.id], v_of[(wm.id, "temp_air_c")]
    daily_t = daily_temperature(wt, wv)
    temp_by_day = dict(zip(daily_t.day_start_ns.tolist(), daily_t.mean_c.tolist()))
    inputs = {}
    for m in registry.meters:
        if m.carrier not in ("electricity", "gas", "heat", "water"):
            continue
        spec = CARRIERS[m.carrier]
        t, v = t_of[m.id], v_of[(m.id, spec.counter)]
        ok = np.isfinite(v)
        t, v = t[ok], v[ok]
        ic = counter_to_deltas(t, v, multiplier=m.multiplier, rollover_wh=m.rollover_wh)
        interval = expected_interval_s(registry, m.id)
        covered_iv = (ic.end_ns - ic.start_ns) <= 2e9 * data_step_s(ic.start_ns, ic.end_ns, interval)
        day = rollup_consumption(ic, "day")
        bounds = np.r_[day.bucket_start_ns, day.bucket_end_ns[-1:]]
        cov = rollup(ic.start_ns[covered_iv], ic.end_ns[covered_iv], np.zeros(int(covered_iv.sum())), "day",
                     boundaries_ns=bounds).coverage
        inside = (day.bucket_start_ns >= start_ns) & (day.bucket_start_ns < end_ns)
        d0 = day.bucket_start_ns[inside]
        daily = np.where(cov[inside] >= 0.9, spec.counter_to_daily(m, day.sums[inside]), np.nan)
        th = wh = ht = None
        if m.carrier != "water":
            hour = rollup_consumption(ic, "hour")
            h_in = (hour.bucket_start_ns >= start_ns) & (hour.bucket_start_ns < end_ns)
            th, wh = hour.bucket_start_ns[h_in], spec.energy_wh(m, hour.sums[h_in])
            ht = hourly_means(wt, wv, th)
        inputs[m.id] = MeterInputs(d0, daily, np.array([temp_by_day.get(int(x), np.nan) for x in d0]), th, wh, ht)
    truth = {t.meter: t for t in sim.ground_truth}
    faults = {f["meter"]: f for f in data["faults"]}
    # the weather station's published irradiance (what the drift job reads from InfluxDB), for the
    # electricity models' daylight term
    irr = v_of.get((wm.id, "irradiance_w_m2"))
    return {"roles": roles, "inputs": inputs, "faults": faults,
            "weather": (wt, wv, irr),
            "onsets_ns": {m: truth[m].start_ns for m in roles if roles[m] != "clean" and m in truth}}


def due_ns(role: str, onset_ns: int, fault: dict) -> int:
    """When a fault must have been found: 21 days after it reached +10 % (a ramp reaches it late)."""
    shape = role.split(":")[0]
    if shape == "ramp":
        pct, ramp = float(fault["pct"]), float(fault["ramp_days"])
        return onset_ns + int(ramp * min(10.0 / pct, 1.0) * DAY) + 21 * DAY
    return onset_ns + 21 * DAY


def fit_seed(registry, seed_data: dict) -> dict[str, dict]:
    """Stage 1 (slow): :func:`analytics.drift_models.analyse_meter` on every scored meter; keeps what the charts
    need, so that stage 2 replays them with other settings in seconds."""
    fits = {}
    for meter_id, role in seed_data["roles"].items():
        if role == "silent" or meter_id not in seed_data["inputs"]:
            continue
        meter = registry.meter_by_id[meter_id]
        inp = seed_data["inputs"][meter_id]
        wt, _, irr = seed_data.get("weather", (None, None, None))
        if irr is not None and inp.hour_start_ns is not None and meter.carrier == "electricity":
            # the station's published irradiance, as the drift job reads it
            inp = dataclasses.replace(inp, hourly_irradiance_w_m2=hourly_means(wt, irr, inp.hour_start_ns))
        res = analyse_meter(meter, registry.site_by_id[meter.site], registry, inp, baseline_days=366)
        fits[meter_id] = {"carrier": meter.carrier, "t": inp.day_start_ns, "chart_obs": res.chart_obs, "expected": res.expected,
                          "qualifies": res.qualifies, "settings": res.chart_settings, "per_day": res.per_day,
                          "n_base": res.n_base, "kind": res.model_kind,
                          "baseload": [a for a in res.alerts if a.kind.startswith("baseload")]}
    return fits


def alerts_of(meter_id: str, fit: dict, overrides: dict) -> list:
    """Stage 2 (fast): the drift charts of one fitted meter with ``overrides`` of its chart settings."""
    out = list(fit["baseload"])
    if fit["qualifies"] and fit["expected"] is not None and fit["settings"] is not None:
        # the job's current settings for the carrier (the cached fit may predate them), with the in-control
        # run length of the fit (scaled for a plant that runs on demand)
        settings = job_settings(fit["carrier"])
        season_days = overrides.pop("season_end_days", None) if overrides else None
        settings = dataclasses.replace(settings, arl0_days=fit["settings"].arl0_days, **overrides)
        obs = fit["chart_obs"]
        if season_days is not None and fit["carrier"] in ("gas", "heat") and fit["kind"] != "operating":
            obs = np.where(after_season_end(local_dates(fit["t"]), obs, fit["n_base"], season_days), np.nan, obs)
        if season_days is not None:
            overrides["season_end_days"] = season_days
        out += chart_drift(meter_id, fit["t"], obs, fit["expected"], fit["n_base"], settings, fit["per_day"])
    return out


def score(registry, seed_data: dict, fits: dict[str, dict], overrides: dict, verbose: bool = False
          ) -> dict[str, list]:
    """Score the upward alerts of every meter of a seed against the truth."""
    roles, onsets = seed_data["roles"], seed_data["onsets_ns"]
    monitor_ns = local_midnight_ns(MONITOR)
    out: dict[str, list] = {"faults": [], "false": [], "clean_years": [0.0]}
    for meter_id, fit in fits.items():
        role = roles[meter_id]
        meter = registry.meter_by_id[meter_id]
        fit.setdefault("carrier", meter.carrier)
        mine = [a for a in alerts_of(meter_id, fit, overrides) if a.kind in UP]
        if role == "clean":
            false = [a for a in mine if a.detected_ns >= monitor_ns]
            out["false"] += [(meter_id, a.kind, a.detected_ns) for a in false]
            out["clean_years"][0] += 1.0
            if verbose and false:
                print(f"    {meter_id:<24} clean   false: "
                      f"{[(a.kind, str(dt.date.fromtimestamp(a.detected_ns / 1e9))) for a in false]}")
            continue
        onset = onsets[meter_id]
        due = due_ns(role, onset, seed_data["faults"][meter_id])
        hits = [a for a in mine if onset <= a.detected_ns <= due]
        first = min(hits, key=lambda a: a.detected_ns) if hits else None
        out["faults"].append((role, meter.carrier, first is not None,
                              (first.detected_ns - onset) / DAY if first else None, fit["qualifies"]))
        out["false"] += [(meter_id, a.kind, a.detected_ns) for a in mine if monitor_ns <= a.detected_ns < onset]
        if verbose:
            print(f"    {meter_id:<24} {role:<12} onset {dt.date.fromtimestamp(onset / 1e9)} "
                  f"{'found after %.0f d' % ((first.detected_ns - onset) / DAY) if first else 'MISSED'}"
                  f" (model {fit['kind']}, qualifies {fit['qualifies']}); "
                  f"{[(a.kind, str(dt.date.fromtimestamp(a.detected_ns / 1e9))) for a in mine]}")
    return out


def report(total: dict[str, list]) -> None:
    faults = total["faults"]
    shapes = sorted({f[0].split(":")[0] for f in faults})
    drifts = [f for f in faults if f[0].split(":")[0] in ("step", "ramp")]
    print(f"{'drifts ≥ 10 % (steps and ramps) found in time':<50} {sum(f[2] for f in drifts)}/{len(drifts)} = "
          f"{sum(f[2] for f in drifts) / max(len(drifts), 1):.0%}  (target ≥ 90 %)")
    for shape in shapes:
        sub = [f for f in faults if f[0].split(":")[0] == shape]
        found = [f for f in sub if f[2]]
        delay = f", median delay from onset {np.median([f[3] for f in found]):.0f} d" if found else ""
        print(f"{'  ' + shape:<50} {len(found)}/{len(sub)}{delay}")
        for carrier in sorted({f[1] for f in sub}):
            c = [f for f in sub if f[1] == carrier]
            print(f"{'    ' + carrier:<50} {sum(f[2] for f in c)}/{len(c)} (model qualified on "
                  f"{sum(f[4] for f in c)})")
    years = max(total["clean_years"][0], 1e-9)
    print(f"{'false alarms per clean meter-year':<50} {len(total['false']) / years:.3f}  "
          f"({len(total['false'])} over {years:.0f} meter-years; target ≤ 0.15)")


def _cached(path: Path, compute):  # noqa: ANN001, ANN202
    """``compute()``, pickled at ``path`` the first time and read back afterwards."""
    if path.exists():
        return pickle.loads(path.read_bytes())
    value = compute()
    path.write_bytes(pickle.dumps(value))
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/terril-drift-cache"))
    parser.add_argument("--small-shift", type=float, default=None, help="override small_shift_pct [%%]")
    parser.add_argument("--small-arl0", type=float, default=None, help="override small_shift_arl0_days")
    parser.add_argument("--season-end-days", type=int, default=None,
                        help="override the days after the learnt end of the heating season that are not charted")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a chart setting (DriftSettings field), e.g. noise_by_weekday=false")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    overrides: dict = {}
    if args.season_end_days is not None:
        overrides["season_end_days"] = args.season_end_days
    if args.small_shift is not None:
        overrides["small_shift_pct"] = args.small_shift
    if args.small_arl0 is not None:
        overrides["small_shift_arl0_days"] = args.small_arl0
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = (value.lower() in ("1", "true", "yes") if value.lower() in ("0", "1", "true", "false",
                                                                                      "yes", "no") else float(value))
    registry = load_registry()
    args.cache.mkdir(parents=True, exist_ok=True)
    total: dict[str, list] = {"faults": [], "false": [], "clean_years": [0.0]}
    for seed in args.seeds:
        t0 = time.perf_counter()
        data = _cached(args.cache / f"seed-{seed}.pkl", lambda: simulate_inputs(registry, seed))
        t1 = time.perf_counter()
        fits = _cached(args.cache / f"seed-{seed}-fit.pkl", lambda: fit_seed(registry, data))
        t2 = time.perf_counter()
        res = score(registry, data, fits, overrides, args.verbose)
        print(f"  seed {seed}: inputs {t1 - t0:.0f} s, models {t2 - t1:.0f} s, charts {time.perf_counter() - t2:.0f} s")
        total["faults"] += res["faults"]
        total["false"] += res["false"]
        total["clean_years"][0] += res["clean_years"][0]
    print(f"offline drift scoring, seeds {args.seeds}, overrides {overrides or 'none (the job defaults)'}")
    report(total)


if __name__ == "__main__":
    main()
