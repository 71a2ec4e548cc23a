"""Simulator speed: a year of the whole demo fleet at 15 min, beside the same year for one site.

The claim "a year for the fleet takes under 10 s on one core" used to be a wall-clock
assertion in tests/firmware_sim/test_fleet.py; a test cannot tell a slow simulator from a busy
machine, so the claim is measured here. The baseline, measured in the same run, is the same
year for the weather station alone (the weather model is the fixed cost of any simulation), so
that the ratio says what the fleet's sites add whatever the machine's load.

Run: ``.venv/bin/python bench/simulate.py [--repeat 1] [--max-s 10]`` (exit 1 when the best fleet
year takes longer than ``--max-s``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from firmware_sim.fleet import FleetSimulation  # noqa: E402
from terril.registry import Registry, load_registry  # noqa: E402
from terril.timeutil import parse_time_arg  # noqa: E402

START, END = "2023-01-01", "2024-01-01"
STEPS_PER_YEAR = 365 * 96


def one_site(registry: Registry, site: str) -> Registry:
    """The part of ``registry`` about one site."""
    return Registry(registry.town, tuple(s for s in registry.sites if s.id == site),
                    tuple(m for m in registry.meters if m.site == site),
                    tuple(d for d in registry.devices if d.site == site),
                    tuple(a for a in registry.pv_arrays if a.site == site), (),
                    tuple(r for r in registry.planned_roofs if r.site == site))


def year_s(registry: Registry) -> float:
    """Seconds to simulate START..END in monthly chunks (seed 5, the default 15-minute step)."""
    t0 = time.perf_counter()
    sim = FleetSimulation(registry, parse_time_arg(START), seed=5)
    steps = sum(c.time_ns.size for c in sim.run(parse_time_arg(END), chunk_s=31 * 86_400))
    elapsed_s = time.perf_counter() - t0
    if steps != STEPS_PER_YEAR:
        raise SystemExit(f"expected {STEPS_PER_YEAR} steps, got {steps}")
    return elapsed_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (the best is kept)")
    parser.add_argument("--max-s", type=float, default=10.0, help="target for the fleet year [s]")
    args = parser.parse_args(argv)
    fleet = load_registry()
    year_s(one_site(fleet, "station-meteo"))  # imports and caches warmed outside the timings
    base_s = min(year_s(one_site(fleet, "station-meteo")) for _ in range(args.repeat))
    fleet_s = min(year_s(fleet) for _ in range(args.repeat))
    print(f"a year at 15 min, {STEPS_PER_YEAR} steps, monthly chunks")
    print(f"  weather station alone (baseline): {base_s:6.2f} s")
    print(f"  whole fleet ({len(fleet.sites)} sites, {len(fleet.meters)} meters): {fleet_s:6.2f} s "
          f"({fleet_s / base_s:.1f}x the baseline; target {args.max_s:.0f} s)")
    return 0 if fleet_s <= args.max_s else 1


if __name__ == "__main__":
    raise SystemExit(main())
