"""Drift-detection scoring: simulate the demo fleet for two years with injected faults, run the
analytics jobs on real InfluxDB, and score the alerts against the simulator's ground truth.

Per seed: 2024 is the baseline year, 2025 is monitored. Two of the electricity meters the
base-load watch covers (no PV on the site, not heated electrically) get a night base-load rise
(+15 % to +33 % of the night load), a third of the other consumption meters a consumption drift
(+10 % to +25 %, abrupt, onset in 2025 with the whole detection window inside the year), four
water/gas meters go silent for two days, the rest stay clean. Readings are written straight to InfluxDB in the collector's schema (the MQTT path
is measured by bench/ingest.py), then :func:`analytics.analyze.analyze` runs as
``terril analyze`` would.

Prints: detection rate of drifts ≥ 10 % within 21 days, onset-date error, delay to detection,
base-load rises ≥ 15 % detected within 7 days, silent meters detected within two expected
intervals, and false alarms per meter-year on clean meters. Targets (issue 7): ≥ 90 %, ≥ 90 %
(base load), 100 % (silent), ≤ 0.25 false alarms per meter-year.

Usage: ``python bench/drift.py [--seeds 6] [--first-seed 0] [--verbose] [--dump DIR]`` (about 2.5 min per
seed on 2 cores; six seeds give 48 drifts, 12 base-load rises and about 80 clean meter-years).
(``--dump`` saves the drift job's inputs per seed to replay :func:`analytics.drift_models.analyse_meter`).
"""

from __future__ import annotations

import argparse
import signal
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.jobs.alerts import query_alerts  # noqa: E402
from analytics.analyze import analyze  # noqa: E402
from analytics.jobs.drift import run_silent  # noqa: E402
from analytics.jobs.rollups import expected_interval_s  # noqa: E402
from firmware_sim.faults import parse_scenario  # noqa: E402
from firmware_sim.fleet import FleetSimulation  # noqa: E402
from terril.influx import InfluxClient  # noqa: E402
from terril.readings import Point  # noqa: E402
from terril.registry import load_registry  # noqa: E402
from terril.stack import stack_down, stack_up  # noqa: E402
from terril.timeutil import NS_PER_S, local_midnight_ns  # noqa: E402

DAY = 86_400 * NS_PER_S
VERBOSE = False
START = dt.date(2024, 1, 1)
MONITOR = dt.date(2025, 1, 1)
END = dt.date(2026, 1, 1)


def baseload_candidates(registry) -> list:
    """Electricity meters whose night base load is watched: sites without PV (a PV site's import is still
    the load at night, but keep the scored set unambiguous) and not heated electrically."""
    pv_sites = {a.site for a in registry.pv_arrays}
    return [m for m in registry.meters if m.carrier == "electricity" and m.site not in pv_sites
            and registry.site_by_id[m.site].heating_carrier not in ("electricity", "none")]


def make_scenario(registry, rng: np.random.Generator, n_baseload: int = 2) -> tuple[dict, dict[str, str]]:
    """Faults on part of the fleet; returns the scenario data and each meter's role.

    ``n_baseload`` of the :func:`baseload_candidates` get a night base-load rise; a third of the other
    consumption meters get a consumption drift; some water and gas meters go silent. Every onset
    leaves the whole detection window (21 days, 7 for base load) inside the monitored year.
    """
    candidates = baseload_candidates(registry)
    if len(candidates) < n_baseload:
        raise ValueError(f"only {len(candidates)} meters can take a base-load rise")
    chosen = [candidates[int(i)] for i in rng.choice(len(candidates), size=n_baseload, replace=False)]
    roles: dict[str, str] = {}
    faults = []
    for m in chosen:
        site = registry.site_by_id[m.site]
        onset = MONITOR + dt.timedelta(days=int(rng.integers(20, 330)))
        base_w = max(site.floor_area_m2, 200.0) * 1.0 * float(rng.choice([0.3, 0.5]))
        faults.append({"id": f"baseload-{m.id}", "kind": "consumption_drift", "meter": m.id, "start": onset,
                       "base_load_w": base_w})
        roles[m.id] = "baseload"
    consumption = [m for m in registry.meters if m.carrier in ("electricity", "gas", "heat") and m.id not in roles]
    order = rng.permutation(len(consumption))
    for rank, i in enumerate(order):
        m = consumption[int(i)]
        onset = MONITOR + dt.timedelta(days=int(rng.integers(20, 300)))
        if m.carrier in ("gas", "heat"):
            # a heating drift shows only while heating: onsets in the heating season (21 Jan-31 Mar,
            # 8 Oct-11 Dec, so that the 21-day window ends inside the heating season and the data)
            day = int(rng.integers(0, 135))
            onset = MONITOR + dt.timedelta(days=day + 20 if day < 70 else day - 70 + 280)
        if rank % 3 == 0:
            pct = float(rng.choice([10, 15, 20, 25]))
            faults.append({"id": f"drift-{m.id}", "kind": "consumption_drift", "meter": m.id, "start": onset,
                           "pct": pct})
            roles[m.id] = f"drift:{pct}"
        else:
            roles[m.id] = "clean"
    silent = [m for m in registry.meters if m.carrier in ("water", "gas") and roles.get(m.id, "clean") == "clean"][:4]
    for m in silent:
        onset = MONITOR + dt.timedelta(days=int(rng.integers(20, 300)), hours=int(rng.integers(0, 24)))
        faults.append({"id": f"silent-{m.id}", "kind": "meter_offline", "meter": m.id, "start": onset,
                       "end": onset + dt.timedelta(days=2)})
        roles[m.id] = "silent"
    return {"name": "scoring", "faults": faults}, roles


def make_shaped_scenario(registry, rng: np.random.Generator, n_night: int = 2, n_leaks: int = 2
                         ) -> tuple[dict, dict[str, str]]:
    """Faults of every shape on part of the fleet; returns the scenario data and each meter's role.

    Roles: ``step:PCT`` (abrupt +10 to +25 %), ``ramp:PCT:DAYS`` (+10 to +20 % reached linearly over
    30-60 days), ``night`` (a base load left on: +30 to +50 % of the night load on an electricity meter
    the base-load watch covers, or a gas plant that no longer stops at night, 3-6 W/m²), ``leak``
    (20-60 L/h on a water meter), ``silent`` (two days without messages), ``clean``. Every fault's
    scoring window (21 days after it reached +10 %) ends inside the monitored year, and inside the
    heating season for gas and heat drifts.
    """
    roles: dict[str, str] = {}
    faults = []
    candidates = baseload_candidates(registry)
    for i in rng.choice(len(candidates), size=min(n_night, len(candidates)), replace=False):
        m = candidates[int(i)]
        site = registry.site_by_id[m.site]
        onset = MONITOR + dt.timedelta(days=int(rng.integers(20, 330)))
        faults.append({"id": f"night-{m.id}", "kind": "consumption_drift", "meter": m.id, "start": onset,
                       "base_load_w": max(site.floor_area_m2, 200.0) * float(rng.choice([0.3, 0.5]))})
        roles[m.id] = "night"
    water = [m for m in registry.meters if m.carrier == "water"]
    for i in rng.choice(len(water), size=min(n_leaks, len(water)), replace=False):
        m = water[int(i)]
        onset = MONITOR + dt.timedelta(days=int(rng.integers(20, 330)))
        faults.append({"id": f"leak-{m.id}", "kind": "consumption_drift", "meter": m.id, "start": onset,
                       "base_flow_m3_h": float(rng.choice([0.02, 0.04, 0.06]))})
        roles[m.id] = "leak"
    consumption = [m for m in registry.meters if m.carrier in ("electricity", "gas", "heat") and m.id not in roles]
    order = rng.permutation(len(consumption))
    gas_night_done = False
    for rank, i in enumerate(order):
        m = consumption[int(i)]
        heating = m.carrier in ("gas", "heat")
        if rank % 3 != 0:
            if heating and not gas_night_done and rank % 3 == 1:
                site = registry.site_by_id[m.site]
                day = int(rng.integers(0, 60))
                onset = MONITOR + dt.timedelta(days=day + 15 if day < 40 else day - 40 + 285)
                faults.append({"id": f"night-{m.id}", "kind": "consumption_drift", "meter": m.id, "start": onset,
                               "base_load_w": max(site.floor_area_m2, 200.0) * float(rng.choice([3.0, 6.0]))})
                roles[m.id] = "night"
                gas_night_done = True
            else:
                roles[m.id] = "clean"
            continue
        ramp = rank % 2 == 0
        pct = float(rng.choice([10, 15, 20])) if ramp else float(rng.choice([10, 15, 20, 25]))
        ramp_days = float(rng.integers(30, 61)) if ramp else 0.0
        need = int(ramp_days * 10.0 / pct) + 21  # days from onset to the end of the scoring window
        if heating:
            # inside the heating season: a window ending before 15 May, or starting in October
            if rng.random() < 0.5:
                onset = MONITOR + dt.timedelta(days=int(rng.integers(15, max(16, 134 - need))))
            else:
                onset = MONITOR + dt.timedelta(days=int(rng.integers(275, max(276, 360 - need))))
        else:
            onset = MONITOR + dt.timedelta(days=int(rng.integers(20, 360 - need)))
        fault = {"id": f"drift-{m.id}", "kind": "consumption_drift", "meter": m.id, "start": onset, "pct": pct}
        if ramp:
            fault["ramp_days"] = ramp_days
        faults.append(fault)
        roles[m.id] = f"ramp:{pct:g}:{ramp_days:g}" if ramp else f"step:{pct:g}"
    silent = [m for m in registry.meters if m.carrier in ("water", "gas") and roles.get(m.id, "clean") == "clean"][:4]
    for m in silent:
        onset = MONITOR + dt.timedelta(days=int(rng.integers(20, 300)), hours=int(rng.integers(0, 24)))
        faults.append({"id": f"silent-{m.id}", "kind": "meter_offline", "meter": m.id, "start": onset,
                       "end": onset + dt.timedelta(days=2)})
        roles[m.id] = "silent"
    for m in registry.meters:
        if m.carrier in ("electricity", "gas", "heat", "water") and m.id not in roles:
            roles[m.id] = "clean"
    return {"name": "shapes", "faults": faults}, roles


def write_fleet(client: InfluxClient, registry, sim: FleetSimulation, end_ns: int) -> int:
    n = 0
    for chunk in sim.run(end_ns, chunk_s=14 * 86_400):
        points = []
        for msg in chunk.messages():
            for ch in msg.channels:
                meter = registry.meter_by_id[ch.meter_id]
                fields = {q: float(v) for q, v in ch.values.items()}
                fields["received_ns"] = msg.time_ns
                points.append(Point("reading", {"site": meter.site, "meter": meter.id, "carrier": meter.carrier,
                                                "device": msg.device_id}, fields, msg.time_ns))
        n += client.write_points(points, batch=20_000)
    return n


def score_alerts(alerts, roles: dict[str, str], onsets_ns: dict[str, int], monitor_ns: int, registry
                 ) -> dict[str, list]:
    """Score drift and base-load alerts against the truth (silent meters are scored apart).

    A fault counts as detected only by an upward alert of its own meter detected after the true onset
    and within the window (21 days for drifts, 7 for base load); every alert of a clean meter detected
    in the monitored year, and every alert of a faulty meter detected in the monitored year before its
    onset, is a false alarm.
    """
    out: dict[str, list] = {"drift": [], "baseload": [], "silent": [], "false": [], "clean_years": [0.0]}
    for meter_id, role in roles.items():
        mine = [a for a in alerts if a.meter == meter_id and a.kind in ("drift_up", "baseload_up", "drift_down",
                                                                        "baseload_down")]
        if role.startswith("drift") or role == "baseload":
            onset = onsets_ns[meter_id]
            window = 21 if role.startswith("drift") else 7
            hits = [a for a in mine if a.kind in ("drift_up", "baseload_up") and onset <= a.detected_ns
                    <= onset + window * DAY]
            first = min(hits, key=lambda a: a.detected_ns) if hits else None
            rec = (role, first is not None, (first.detected_ns - onset) / DAY if first else None,
                   abs(first.onset_ns - onset) / DAY if first else None, first.kind if first else None,
                   registry.meter_by_id[meter_id].carrier)
            if VERBOSE:
                print(f"    {meter_id:<22} {role:<12} onset {dt.date.fromtimestamp(onset / 1e9)}  "
                      f"{'found after %.0f d' % rec[2] if first else 'missed'}; alerts: "
                      f"{[(a.kind, str(dt.date.fromtimestamp(a.detected_ns / 1e9))) for a in mine]}")
            out["drift" if role.startswith("drift") else "baseload"].append(rec)
            out["false"] += [a for a in mine if monitor_ns <= a.detected_ns < onset]
        elif role == "clean":
            false = [a for a in mine if a.detected_ns >= monitor_ns]
            if VERBOSE and false:
                print(f"    {meter_id:<22} clean        false alarms: "
                      f"{[(a.kind, str(dt.date.fromtimestamp(a.detected_ns / 1e9))) for a in false]}")
            out["false"] += false
            out["clean_years"][0] += 1.0
    return out


def dump_inputs(client: InfluxClient, registry, path: Path, roles: dict[str, str], onsets_ns: dict[str, int],
                start_ns: int, end_ns: int) -> None:
    """Save what the drift job reads (daily and hourly rollups, weather) with the truth, to tune offline."""
    import pickle

    from analytics.jobs.drift import _daily, _weather
    from analytics.influx_queries import query_meter_series

    daily, hourly = {}, {}
    for m in registry.meters:
        if m.carrier in ("electricity", "gas", "heat", "water"):
            daily[m.id] = _daily(client, m, start_ns, end_ns)
        if m.carrier in ("electricity", "gas", "heat"):
            th, sh = query_meter_series(client, m.id, ["consumption_wh"], start_ns, end_ns, "consumption_hourly")
            hourly[m.id] = (th, sh["consumption_wh"])
        if m.carrier == "weather":
            tw, sw = query_meter_series(client, m.id, ["temp_air_c", "irradiance_w_m2"], start_ns, end_ns)
            hourly["_weather"] = (tw, sw["temp_air_c"], sw["irradiance_w_m2"])
    data = {"roles": roles, "onsets_ns": onsets_ns, "daily": daily, "hourly": hourly,
            "temps": _weather(client, registry, start_ns, end_ns), "start_ns": start_ns, "end_ns": end_ns}
    path.write_bytes(pickle.dumps(data))


def score_seed(state, seed: int, dump: Path | None = None) -> dict[str, list]:
    registry = load_registry()
    rng = np.random.default_rng(seed)
    data, roles = make_scenario(registry, rng)
    scenario = parse_scenario(data, registry)
    start_ns, monitor_ns, end_ns = local_midnight_ns(START), local_midnight_ns(MONITOR), local_midnight_ns(END)
    client = InfluxClient(state.influx_url, f"drift_{seed}", timeout_s=120)
    client.create_database()
    t0 = time.perf_counter()
    sim = FleetSimulation(registry, start_ns - 900 * NS_PER_S, seed=seed, step_s=900, scenario=scenario)
    points = write_fleet(client, registry, sim, end_ns - 1)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        analyze(client, registry, Path(tmp), since_ns=start_ns, end_ns=end_ns)
    t2 = time.perf_counter()
    print(f"  seed {seed}: {points:,} points written in {t1 - t0:.0f} s, analytics in {t2 - t1:.0f} s")
    alerts = query_alerts(client)
    truth = {t.meter: t for t in sim.ground_truth}
    onsets = {m: truth[m].start_ns for m, role in roles.items() if role != "clean"}
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        dump_inputs(client, registry, dump / f"seed-{seed}.pkl", roles, onsets, start_ns - 400 * DAY, end_ns)
    out = score_alerts(alerts, roles, onsets, monitor_ns, registry)
    for meter_id, role in roles.items():
        if role == "silent":
            interval = expected_interval_s(registry, meter_id)
            check = onsets[meter_id] + int((2 * interval + 60) * NS_PER_S)
            found = [a for a in run_silent(client, registry, check - 30 * DAY, check) if a.meter == meter_id]
            out["silent"].append((role, bool(found)))
    client.query(f'DROP DATABASE "drift_{seed}"', method="POST", epoch=None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="one line per faulty meter")
    parser.add_argument("--dump", type=Path, default=None, help="save the drift job's inputs per seed (pickle)")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    # a kill (SIGTERM) unwinds like Ctrl-C, so that the stack this run started is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    total: dict[str, list] = {"drift": [], "baseload": [], "silent": [], "false": [], "clean_years": [0.0]}
    with tempfile.TemporaryDirectory(prefix="terril-drift-") as tmp:
        state, _ = stack_up(tmp)
        try:
            print(f"drift scoring: demo fleet, baseline {START.year}, monitored {MONITOR.year}, {args.seeds} seeds")
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                res = score_seed(state, seed, args.dump)
                for k in ("drift", "baseload", "silent", "false"):
                    total[k] += res[k]
                total["clean_years"][0] += res["clean_years"][0]
        finally:
            stack_down(tmp)
    drift = total["drift"]
    found = [d for d in drift if d[1]]
    print(f"{'drifts ≥ 10 % detected within 21 days':<52} {len(found)}/{len(drift)} = "
          f"{len(found) / max(len(drift), 1):.0%}  (target ≥ 90 %)")
    for pct in sorted({d[0] for d in drift}):
        sub = [d for d in drift if d[0] == pct]
        print(f"{'  ' + pct.replace('drift:', '+') + ' %':<52} {sum(d[1] for d in sub)}/{len(sub)}")
    for carrier in ("electricity", "gas", "heat"):
        sub = [d for d in drift if d[5] == carrier]
        if sub:
            by_model = sum(1 for d in sub if d[4] == "drift_up")
            by_night = sum(1 for d in sub if d[4] == "baseload_up")
            print(f"{'  ' + carrier:<52} {sum(d[1] for d in sub)}/{len(sub)}"
                  f"  (by the consumption model {by_model}, by the night base load {by_night})")
    if found:
        print(f"{'  delay to detection, median [days]':<52} {np.median([d[2] for d in found]):.1f}")
        print(f"{'  onset-date error, median / max [days]':<52} {np.median([d[3] for d in found]):.1f} / "
              f"{max(d[3] for d in found):.1f}")
    base = total["baseload"]
    print(f"{'base-load rises detected within 7 days':<52} {sum(b[1] for b in base)}/{len(base)}  (target ≥ 90 %)")
    silent = total["silent"]
    print(f"{'silent meters detected within 2 intervals':<52} {sum(s[1] for s in silent)}/{len(silent)}")
    years = max(total["clean_years"][0], 1e-9)
    print(f"{'false alarms per clean meter-year':<52} {len(total['false']) / years:.2f}  "
          f"({len(total['false'])} over {years:.0f} meter-years; target ≤ 0.25)")


if __name__ == "__main__":
    main()
