"""The demo's Décret tertiaire story: the demo registry's works (terril/data/loos-en-gohelle.toml
``[[measures]]``, demo values) leave a mix of buildings on the trajectory and late, each for a
reason its works explain.

Cheap stand-in for the demo's last-year statuses (tests/test_demo_any_day.py runs the demo itself
and only checks that every building has a status): the simulator's true consumption of each
reference year and of 2025 at an hourly step, the demo's two works re-dated after 2025 as
`terril demo` does (a year into its history), through the statuses `terril report tertiaire
--simulate` computes. The demo itself takes last year's months from invoices and from its measured
history, so its percentages differ by a little; the statuses are the same on these seeds.
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.reports.tertiaire_report import subject_sites
from firmware_sim.demo import DEMO_MEASURES
from firmware_sim.faults import Scenario
from terril.cli.simulated_inputs import simulated_statuses
from terril.registry import load_registry
from terril.timeutil import local_midnight_ns

pytestmark = pytest.mark.slow  # about 5 s a seed: six simulated years

#: What the demo registry's works should give: buildings renovated since their reference year are on
#: the trajectory (or already at −40 %); the Bigotte sports hall (only LED: its boiler comes in the
#: demo's history), the community hall (nothing done) and Base 11/19 (only LED) are late.
ON_TRACK = {"mairie", "ctm", "ecole-basly", "ecole-ferry", "ecole-curie", "salle-jaures"}
LATE = {"salle-bigotte", "salle-fetes", "base-11-19"}


# seed 0 is `terril demo`'s default (make demo), seed 3 the demo test's
@pytest.mark.parametrize("seed", [0, 3])
def test_the_demo_registry_gives_buildings_on_track_and_late(seed: int) -> None:
    full = load_registry()
    reg = full.subset([s.id for s in subject_sites(full)])  # as the demo simulates its invoices: only what they need
    works = local_midnight_ns(dt.date(2026, 11, 2))  # the demo run on 6 December 2026 re-dates them there
    scenario = Scenario("demo-works", "the demo's works re-dated into its history",
                        measure_dates=tuple((m, works) for m in DEMO_MEASURES))
    statuses = {s.site: s for s in simulated_statuses(reg, 2025, seed, scenario=scenario)[0]}
    assert set(statuses) == ON_TRACK | LATE
    got = {site: s.status for site, s in statuses.items()}
    assert {s for s, st in got.items() if st in ("on_track", "achieved")} == ON_TRACK, got
    assert {s for s, st in got.items() if st == "late"} == LATE, got
    for site in ON_TRACK - {"mairie"}:  # relative target: at least 3 points ahead of the trajectory
        st = statuses[site]
        assert st.reduction >= st.target + 0.03, (site, st.reduction, st.target)
    mairie = statuses["mairie"]  # the absolute target (Cabs): at least 5 % under its path
    assert mairie.target_kind == "absolute" and mairie.intensity_kwh_m2 <= 0.95 * mairie.absolute_path_kwh_m2
    for site in LATE:  # clearly late, not by a rounding
        st = statuses[site]
        assert st.reduction <= st.target - 0.05, (site, st.reduction, st.target)
