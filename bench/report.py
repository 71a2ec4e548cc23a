"""Time to produce the portfolio savings PDF for the demo fleet, beside the time to compute
the same figures without rendering (same inputs, same run), and their ratio.

    python bench/report.py [--seed 1]

Inputs: the fleet simulator's daily data for every site with energy meters over a baseline
year and a reporting year (generated once, not timed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# run as a script: bench/ (which holds analytics.py) must not shadow the analytics package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.reports.render import write_report  # noqa: E402
from analytics.reports.savings_report import build_savings_report, compute_savings  # noqa: E402
from terril.cli.examples import BASELINE, REPORTING  # noqa: E402
from terril.cli.simulated_inputs import simulated_input_bundle  # noqa: E402
from terril.registry import load_registry  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    reg = load_registry()
    sites = [s.id for s in reg.sites if any(m.site == s.id and m.carrier in ("electricity", "gas", "heat")
                                             for m in reg.meters)]
    t = time.perf_counter()
    bundle = simulated_input_bundle(reg, sites, BASELINE.start, REPORTING.end, seed=args.seed)
    sim_s = time.perf_counter() - t
    compute_s, total_s, pages = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            t = time.perf_counter()
            result = compute_savings(bundle, reg, sites, BASELINE, REPORTING)
            compute_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            result = compute_savings(bundle, reg, sites, BASELINE, REPORTING)
            path = write_report(build_savings_report(result, reg, "fr"), Path(tmp) / "portfolio.pdf", "pdf")
            total_s.append(time.perf_counter() - t)
            pages = path.read_bytes().count(b"/Type /Page\n") + path.read_bytes().count(b"/Type /Page ")
    c, p = min(compute_s), min(total_s)
    print(f"sites {len(sites)}, meters {len(bundle.meters)}, days {bundle.dates.size} (simulated in {sim_s:.1f} s)")
    print(f"compute figures only: {c:.2f} s (best of {args.repeat})")
    print(f"compute + portfolio PDF ({pages} pages): {p:.2f} s (best of {args.repeat})")
    print(f"ratio PDF / compute: {p / c:.1f}x")


if __name__ == "__main__":
    main()
