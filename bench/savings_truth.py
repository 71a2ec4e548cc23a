"""Scan: does the savings model find the demo's true savings inside its 90 % interval?

The demo's story (terril/cli/demo.py ``works_date``, ``_savings``): 400 days of history before a
"now", the two works (``basly-led`` on ``ecole-basly-elec``, ``bigotte-chaudiere`` on
``salle-bigotte-gaz``) re-dated a year after the history starts, the baseline the year before
them and the reporting period the days since. For each seed and "now" day, the simulator's true
daily energies (the same shortcut as tests/analytics/test_savings_known_truth.py: no broker, no
database) go through :func:`analytics.reports.savings_report.compute_savings`; the simulator's
true saving (``FleetSimulation.measure_avoided_kwh``) is compared with the measured one.

    nice .venv/bin/python bench/savings_truth.py --seeds 0-15 --days 2026-01-15,2026-04-30,2026-07-15,2026-12-06,2026-12-07

Prints one line per case and, per meter, the share of cases whose truth lies inside the 90 %
interval and the mean and spread of the bias (measured − true) / true.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.reports.savings_report import compute_savings  # noqa: E402
from analytics.savings import Period  # noqa: E402
from terril.cli.simulated_inputs import DEMO_HISTORY_DAYS, DEMO_WORKS, demo_works_bundle  # noqa: E402
from terril.registry import load_registry  # noqa: E402

SITES = ["ecole-basly", "salle-bigotte"]  # the sites of DEMO_WORKS
WORKS = DEMO_WORKS
HISTORY_DAYS = DEMO_HISTORY_DAYS  # the demo's 400 days before its live day, and the live day


def simulate(now: dt.date, seed: int, step_s: float = 900.0):  # noqa: ANN201
    """(registry, simulation, daily bundle, local-midnight bounds, works date) of the demo run on ``now``."""
    return demo_works_bundle(load_registry(), now, seed, step_s=step_s, history_days=HISTORY_DAYS)


def measure(now: dt.date, seed: int, step_s: float = 900.0) -> list[dict]:
    """One case: per works meter, measured and true saving, 90 % half-width, the model's figures."""
    reg, sim, bundle, bounds, works = simulate(now, seed, step_s)
    baseline = Period(bundle.dates[0].astype(dt.date), works - dt.timedelta(days=1))
    reporting = Period(works, bundle.dates[-1].astype(dt.date))
    rm = reporting.mask(bundle.dates)
    result = compute_savings(bundle, reg, SITES, baseline, reporting)
    rows = []
    for meter_id in WORKS:
        s = next(m for m in result.meters if m.meter == meter_id)
        valid_idx = np.flatnonzero(rm)[np.asarray(s.valid, bool)]
        truth = sum(sim.measure_avoided_kwh(meter_id, int(bounds[i]), int(bounds[i + 1])) for i in valid_idx)
        m = s.model
        rows.append({"now": str(now), "seed": seed, "meter": meter_id, "avoided_kwh": s.avoided_kwh,
                     "u90_kwh": s.u90_kwh, "true_kwh": truth, "qualifies": s.qualifies,
                     "inside": bool(abs(s.avoided_kwh - truth) <= s.u90_kwh),
                     "bias": (s.avoided_kwh - truth) / truth if truth else float("nan"),
                     "actual_kwh": s.actual_total_kwh, "adjusted_kwh": s.adjusted_baseline_total_kwh,
                     "kind": m.kind, "balance_c": m.heating_balance_c, "slope": m.heating_slope,
                     "cvrmse": m.metrics.cvrmse, "days": s.reporting_valid_days})
    return rows


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-15")
    ap.add_argument("--days", default="2026-01-15,2026-04-30,2026-07-15,2026-12-06,2026-12-07")
    ap.add_argument("--step", type=float, default=900.0, help="simulation step [s]")
    ap.add_argument("--json", type=Path, help="write every case here")
    args = ap.parse_args()
    rows: list[dict] = []
    t0 = time.monotonic()
    for day in args.days.split(","):
        for seed in _seeds(args.seeds):
            for r in measure(dt.date.fromisoformat(day), seed, args.step):
                rows.append(r)
                print(f"{r['now']} seed {r['seed']:2d} {r['meter']:18s} measured {r['avoided_kwh']:9.0f} ± {r['u90_kwh']:7.0f}"
                      f"  true {r['true_kwh']:8.0f}  bias {100 * r['bias']:+6.1f} %  {'in ' if r['inside'] else 'OUT'}"
                      f"  {r['kind']} Tb={r['balance_c']:.1f} cv={100 * r['cvrmse']:.1f} %", flush=True)
    print(f"\n{len(rows)} cases in {time.monotonic() - t0:.0f} s")
    for meter_id in WORKS:
        rs = [r for r in rows if r["meter"] == meter_id]
        b = np.array([r["bias"] for r in rs])
        inside = sum(r["inside"] for r in rs)
        counted = sum(r["inside"] and r["qualifies"] for r in rs)  # the demo's « inside »: qualified too
        print(f"{meter_id:18s} inside 90 %: {inside}/{len(rs)} ({100 * inside / len(rs):.0f} %), qualified and "
              f"inside {counted}/{len(rs)}  "
              f"bias mean {100 * np.nanmean(b):+.1f} %  median {100 * np.nanmedian(b):+.1f} %  "
              f"sd {100 * np.nanstd(b):.1f} %")
        for day in args.days.split(","):
            rd = [r for r in rs if r["now"] == day]
            bd = np.array([r["bias"] for r in rd])
            print(f"    {day}: inside {sum(r['inside'] for r in rd)}/{len(rd)}  bias mean {100 * np.nanmean(bd):+.1f} %")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
