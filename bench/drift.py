"""Drift-detection scoring: simulate the demo fleet for two years with injected faults, run the
analytics jobs on real InfluxDB, and score the alerts against the simulator's ground truth.

Per seed: 2024 is the baseline year, 2025 is monitored. About a third of the consumption
meters get a consumption drift (+10 % to +25 %, abrupt, onset in 2025), some electricity
meters a night base-load rise (+15 % to +40 %), some meters go silent for two days, the rest
stay clean. Readings are written straight to InfluxDB in the collector's schema (the MQTT path
is measured by bench/ingest.py), then :func:`analytics.jobs.analyze.analyze` runs as
``terril analyze`` would.

Prints: detection rate of drifts ≥ 10 % within 21 days, onset-date error, delay to detection,
base-load rises ≥ 15 % detected within 7 days, silent meters detected within two expected
intervals, and false alarms per meter-year on clean meters. Targets (issue 7): ≥ 90 %, ≥ 90 %
(base load), 100 % (silent), ≤ 0.25 false alarms per meter-year.

Usage: ``python bench/drift.py [--seeds 2]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.jobs.alerts import query_alerts  # noqa: E402
from analytics.jobs.analyze import analyze  # noqa: E402
from analytics.jobs.drift import run_silent  # noqa: E402
from analytics.jobs.rollups import expected_interval_s  # noqa: E402
from firmware_sim.faults import parse_scenario  # noqa: E402
from firmware_sim.fleet import FleetSimulation  # noqa: E402
from terril.influx import InfluxClient  # noqa: E402
from terril.lineprotocol import format_point  # noqa: E402
from terril.readings import Point  # noqa: E402
from terril.registry import load_registry  # noqa: E402
from terril.stack import stack_down, stack_up  # noqa: E402
from terril.timeutil import NS_PER_S, local_midnight_ns  # noqa: E402

DAY = 86_400 * NS_PER_S
VERBOSE = False
START = dt.date(2024, 1, 1)
MONITOR = dt.date(2025, 1, 1)
END = dt.date(2026, 1, 1)


def make_scenario(registry, rng: np.random.Generator) -> tuple[dict, dict[str, str]]:
    """Faults on part of the fleet; returns the scenario data and each meter's role."""
    consumption = [m for m in registry.meters if m.carrier in ("electricity", "gas", "heat")]
    order = rng.permutation(len(consumption))
    roles: dict[str, str] = {}
    faults = []
    for rank, i in enumerate(order):
        m = consumption[int(i)]
        onset = MONITOR + dt.timedelta(days=int(rng.integers(20, 300)))
        if m.carrier in ("gas", "heat"):
            # a heating drift shows only while heating: onsets in the heating season (Jan-Mar, Oct-Dec)
            day = int(rng.integers(0, 150))
            onset = MONITOR + dt.timedelta(days=day + 20 if day < 70 else day - 70 + 280)
        if rank % 3 == 0:
            pct = float(rng.choice([10, 15, 20, 25]))
            faults.append({"id": f"drift-{m.id}", "kind": "consumption_drift", "meter": m.id, "start": onset,
                           "pct": pct})
            roles[m.id] = f"drift:{pct}"
        elif rank % 3 == 1 and m.carrier == "electricity":
            site = registry.site_by_id[m.site]
            if site.heating_carrier == "electricity" or any(a.site == m.site for a in registry.pv_arrays):
                roles[m.id] = "clean"
                continue
            base_w = max(site.floor_area_m2, 200.0) * 1.0 * float(rng.choice([0.3, 0.5]))
            faults.append({"id": f"baseload-{m.id}", "kind": "consumption_drift", "meter": m.id, "start": onset,
                           "base_load_w": base_w})
            roles[m.id] = "baseload"
        else:
            roles[m.id] = "clean"
    silent = [m for m in registry.meters if m.carrier in ("water", "gas") and roles.get(m.id, "clean") == "clean"][:4]
    for m in silent:
        onset = MONITOR + dt.timedelta(days=int(rng.integers(20, 300)), hours=int(rng.integers(0, 24)))
        faults.append({"id": f"silent-{m.id}", "kind": "meter_offline", "meter": m.id, "start": onset,
                       "end": onset + dt.timedelta(days=2)})
        roles[m.id] = "silent"
    return {"name": "scoring", "faults": faults}, roles


def write_fleet(client: InfluxClient, registry, sim: FleetSimulation, end_ns: int) -> int:
    n = 0
    for chunk in sim.run(end_ns, chunk_s=14 * 86_400):
        lines = []
        for msg in chunk.messages():
            for ch in msg.channels:
                meter = registry.meter_by_id[ch.meter_id]
                fields = {q: float(v) for q, v in ch.values.items()}
                fields["received_ns"] = msg.time_ns
                lines.append(format_point(Point("reading", {"site": meter.site, "meter": meter.id,
                                                            "carrier": meter.carrier, "device": msg.device_id},
                                                fields, msg.time_ns)))
        for i in range(0, len(lines), 20_000):
            client.write_lines(("\n".join(lines[i:i + 20_000]) + "\n").encode())
        n += len(lines)
    return n


def score_seed(state, seed: int) -> dict[str, list]:
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
    out: dict[str, list] = {"drift": [], "baseload": [], "silent": [], "false": [], "clean_years": [0.0]}
    for meter_id, role in roles.items():
        mine = [a for a in alerts if a.meter == meter_id and a.kind in ("drift_up", "baseload_up", "drift_down",
                                                                        "baseload_down")]
        if role.startswith("drift") or role == "baseload":
            onset = truth[meter_id].start_ns
            kind = "drift_up" if role.startswith("drift") else "baseload_up"
            window = 21 if role.startswith("drift") else 7
            hits = [a for a in mine if a.kind in (kind, "drift_up", "baseload_up") and a.detected_ns >= onset
                    and a.detected_ns <= onset + window * DAY]
            first = min(hits, key=lambda a: a.detected_ns) if hits else None
            rec = (role, first is not None, (first.detected_ns - onset) / DAY if first else None,
                   abs(first.onset_ns - onset) / DAY if first else None)
            if VERBOSE:
                print(f"    {meter_id:<22} {role:<12} onset {dt.date.fromtimestamp(onset / 1e9)}  "
                      f"{'found after %.0f d' % rec[2] if first else 'missed'}; alerts: "
                      f"{[(a.kind, str(dt.date.fromtimestamp(a.detected_ns / 1e9))) for a in mine]}")
            out["drift" if role.startswith("drift") else "baseload"].append(rec)
            out["false"] += [a for a in mine if a.detected_ns < onset and a.detected_ns >= monitor_ns]
        elif role == "clean":
            out["false"] += [a for a in mine if a.detected_ns >= monitor_ns]
            out["clean_years"][0] += 1.0
        elif role == "silent":
            t = truth[meter_id]
            interval = expected_interval_s(registry, meter_id)
            check = t.start_ns + int((2 * interval + 60) * NS_PER_S)
            found = [a for a in run_silent(client, registry, check - 30 * DAY, check) if a.meter == meter_id]
            out["silent"].append((role, bool(found)))
    client.query(f'DROP DATABASE "drift_{seed}"', method="POST", epoch=None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="one line per faulty meter")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    total: dict[str, list] = {"drift": [], "baseload": [], "silent": [], "false": [], "clean_years": [0.0]}
    with tempfile.TemporaryDirectory(prefix="terril-drift-") as tmp:
        state, _ = stack_up(tmp)
        try:
            print(f"drift scoring: demo fleet, baseline {START.year}, monitored {MONITOR.year}, {args.seeds} seeds")
            for seed in range(args.seeds):
                res = score_seed(state, seed)
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
