"""The savings and Décret tertiaire reports' inputs fed by the fleet simulator, instead of InfluxDB.

``terril report savings|tertiaire --simulate SEED``, the example reports (:mod:`terril.cli.examples`),
the report benchmark and tests use them. They live in the composition root because they join two
components that never import each other: analytics (the :class:`~analytics.reports.inputs.InputBundle`)
and the simulator (:class:`~firmware_sim.fleet.FleetSimulation`'s true interval energies).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.degree_days import hdd_costic
from analytics.reports.inputs import InputBundle, MeterDaily, meters_for_report
from analytics.reports.render import input_hash
from analytics.reports.tertiaire_report import compute_statuses, reference_years, subject_sites
from analytics.tertiaire import TertiaireStatus, year_total
from firmware_sim.faults import Scenario
from firmware_sim.fleet import FleetSimulation
from terril.carriers import CARRIERS
from terril.registry import Meter, Registry
from terril.timeutil import local_midnight_ns


def _days(start: dt.date, end: dt.date) -> np.ndarray:
    return np.arange(np.datetime64(start), np.datetime64(end) + 1)


@dataclass(frozen=True, eq=False)
class SimulatedDaily:
    """The simulator's true daily values over local days: kWh per meter, temperatures. [kWh, °C]"""

    dates: np.ndarray
    energy_kwh: dict[str, np.ndarray]
    temp_mean_c: np.ndarray
    temp_min_c: np.ndarray
    temp_max_c: np.ndarray


def simulated_daily(registry: Registry, meters: Sequence[Meter], start: dt.date, end: dt.date, *, seed: int = 1,
                    step_s: float = 3600.0, scenario: Scenario | None = None) -> SimulatedDaily:
    """True interval energies of ``meters`` summed per local day over [start, end], and the town
    weather's daily mean, minimum and maximum (the simulation runs ``registry``: pass a
    :meth:`~terril.registry.Registry.subset` to simulate only what is needed)."""
    return _simulate_days(registry, meters, start, end, seed=seed, step_s=step_s, scenario=scenario)[0]


def _simulate_days(registry: Registry, meters: Sequence[Meter], start: dt.date, end: dt.date, *, seed: int,
                   step_s: float, scenario: Scenario | None) -> tuple[SimulatedDaily, FleetSimulation, np.ndarray]:
    """:func:`simulated_daily`, with the simulation (its ground truth) and the local-midnight bounds
    of the days and the day after ``end``. [UTC ns]"""
    dates = _days(start, end)
    bounds = np.array([local_midnight_ns(d) for d in _days(start, end + dt.timedelta(days=1)).astype(dt.date)],
                      dtype=np.int64)
    sim = FleetSimulation(registry, int(bounds[0]), seed=seed, step_s=step_s, scenario=scenario)
    acc = {m.id: np.zeros(dates.size) for m in meters}
    t_sum = np.zeros(dates.size)
    t_cnt = np.zeros(dates.size)
    tmin = np.full(dates.size, np.inf)
    tmax = np.full(dates.size, -np.inf)
    step_ns = int(step_s * 1e9)
    for chunk in sim.run(int(bounds[-1]), chunk_s=60 * 86_400.0):
        mid = chunk.time_ns - step_ns // 2
        idx = np.searchsorted(bounds, mid, side="right") - 1
        ok = (idx >= 0) & (idx < dates.size)
        for m in meters:
            spec = CARRIERS[m.carrier]
            e = spec.counter_to_daily(m, chunk.series[m.id].true_values[f"interval_{spec.counter}"])
            acc[m.id] += np.bincount(idx[ok], weights=e[ok], minlength=dates.size)[: dates.size]
        temp = chunk.weather.temp_air_c
        t_sum += np.bincount(idx[ok], weights=temp[ok], minlength=dates.size)[: dates.size]
        t_cnt += np.bincount(idx[ok], minlength=dates.size)[: dates.size]
        np.minimum.at(tmin, idx[ok], temp[ok])
        np.maximum.at(tmax, idx[ok], temp[ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        tmean = np.where(t_cnt > 0, t_sum / np.maximum(t_cnt, 1), np.nan)
    return SimulatedDaily(dates, acc, tmean, np.where(np.isfinite(tmin), tmin, np.nan),
                          np.where(np.isfinite(tmax), tmax, np.nan)), sim, bounds


def simulated_input_bundle(registry: Registry, site_ids: Sequence[str], start: dt.date, end: dt.date, *,
                           seed: int = 1, step_s: float = 3600.0, scenario: Scenario | None = None) -> InputBundle:
    """Daily inputs from the fleet simulator (true interval energies summed per local day)."""
    meters = meters_for_report(registry, site_ids)
    d = simulated_daily(registry, meters, start, end, seed=seed, step_s=step_s, scenario=scenario)
    hdd = hdd_costic(d.temp_min_c, d.temp_max_c)
    return InputBundle(d.dates, d.temp_mean_c, hdd,
                       tuple(MeterDaily(m.id, m.site, m.carrier, d.energy_kwh[m.id], "simulator") for m in meters),
                       weather_source=f"simulator seed {seed}")


def simulated_statuses(registry: Registry, year: int, seed: int, *, scenario: Scenario | None = None
                       ) -> tuple[list[TertiaireStatus], str, str, float]:
    """Statuses from the simulator: each reference year and ``year`` simulated separately
    (``scenario``: e.g. measures re-dated as the demo does)."""
    sites = subject_sites(registry)
    ids = [s.id for s in sites]
    current = simulated_input_bundle(registry, ids, dt.date(year, 1, 1), dt.date(year, 12, 31), seed=seed,
                                     scenario=scenario)
    reference: dict[int, InputBundle] = {}
    for ry in reference_years(sites):
        rids = [s.id for s in sites if s.reference_year == ry]
        reference[ry] = simulated_input_bundle(registry, rids, dt.date(ry, 1, 1), dt.date(ry, 12, 31), seed=seed,
                                               scenario=scenario)
    bundles = [current, *reference.values()]
    djus = [year_total(b.dates, b.hdd_k_d, int(str(b.dates[0])[:4]))[0] for b in bundles]
    dju_ref = float(np.nanmean(djus))
    sha = input_hash(*(b.sha256() for b in bundles))
    rng = f"reference years {sorted(reference)}; year {year}; DJU_ref = mean of the simulated years"
    return compute_statuses(registry, year, reference, current, dju_ref), sha, rng, dju_ref


#: The demo's two works and the meters they are measured on (terril/cli/demo.py ``works_date``)
DEMO_WORKS = {"ecole-basly-elec": "basly-led", "salle-bigotte-gaz": "bigotte-chaudiere"}
#: The demo's 400 days of history before its live day, and the live day
DEMO_HISTORY_DAYS = 401


def demo_works_bundle(registry: Registry, now: dt.date, seed: int, *, step_s: float = 900.0,
                      history_days: int = DEMO_HISTORY_DAYS
                      ) -> tuple[Registry, FleetSimulation, InputBundle, np.ndarray, dt.date]:
    """The demo's savings story on ``now`` without broker or database: ``history_days`` local days
    before ``now``, the demo's works (:data:`DEMO_WORKS`) re-dated a year after the first, the
    simulator's true daily energies of the sites of those works. Returns (registry of those
    sites, simulation — its ``measure_avoided_kwh`` is the truth —, daily bundle, local-midnight
    bounds of the days and ``now``, works date). Used by the known-truth tests and
    ``bench/savings_truth.py``."""
    from firmware_sim.faults import parse_scenario

    reg = registry.subset(sorted({registry.meter_by_id[m].site for m in DEMO_WORKS}))
    first = now - dt.timedelta(days=history_days)
    works = first + dt.timedelta(days=365)
    scenario = parse_scenario({"measures": [{"measure": m, "date": works} for m in DEMO_WORKS.values()]}, reg)
    meters = [m for m in reg.meters if m.carrier in ("electricity", "gas", "pv")]
    d, sim, bounds = _simulate_days(reg, meters, first, now - dt.timedelta(days=1), seed=seed, step_s=step_s,
                                    scenario=scenario)
    bundle = InputBundle(d.dates, d.temp_mean_c, np.zeros(d.dates.size),
                         tuple(MeterDaily(m.id, m.site, m.carrier, d.energy_kwh[m.id], "simulator") for m in meters))
    return reg, sim, bundle, bounds, works
