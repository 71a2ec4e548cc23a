"""Shared simulations for the simulator's known-truth tests (computed once per session, ~2 s)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from firmware_sim.faults import read_scenario
from firmware_sim.fleet import FleetChunk, FleetSimulation
from terril.registry import Registry, load_registry
from terril.timeutil import parse_time_arg

DEMO_SCENARIO = Path(__file__).resolve().parents[2] / "firmware_sim" / "scenarios" / "demo-faults.toml"


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


def _year(registry: Registry, seed: int, scenario_path: Path | None) -> tuple[FleetSimulation, FleetChunk]:
    # the buildings as the model is calibrated, without the registry's works: those are the demo's story
    # (demo values, which change with it); test_fleet.py tests how a measure applies
    registry = dataclasses.replace(registry, measures=())
    scenario = read_scenario(scenario_path, registry) if scenario_path else None
    sim = FleetSimulation(registry, parse_time_arg("2024-01-01"), seed=seed, step_s=900, scenario=scenario)
    return sim, sim.advance(parse_time_arg("2025-01-01"))


@pytest.fixture(scope="session")
def year_clean(registry: Registry) -> tuple[FleetSimulation, FleetChunk]:
    """2024 at 15 min, seed 7, no faults, no measures."""
    return _year(registry, 7, None)


@pytest.fixture(scope="session")
def year_faults(registry: Registry) -> tuple[FleetSimulation, FleetChunk]:
    """2024 at 15 min, seed 7, the demo fault scenario, no measures."""
    return _year(registry, 7, DEMO_SCENARIO)


def daily_sum(time_ns: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of ``values`` per Europe/Paris day of the interval ending at ``time_ns``."""
    from terril.calendar import local_dates

    days = local_dates(time_ns - 1)
    unique, inverse = np.unique(days, return_inverse=True)
    return unique, np.bincount(inverse, values)
