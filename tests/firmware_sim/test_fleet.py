"""Known-truth tests of the fleet orchestrator: counters, PV balance, determinism, chunking, measures, messages."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from firmware_sim.fleet import COUNTER_RESOLUTION, FleetSimulation
from helpers import subset_registry
from terril.timeutil import parse_time_arg

COUNTERS = ("energy_import_wh", "energy_export_wh", "volume_m3", "energy_produced_wh")


def test_interval_sums_equal_counter_differences(year_clean) -> None:
    sim, chunk = year_clean
    checked = 0
    for meter_id, s in chunk.series.items():
        for q in COUNTERS:
            if q not in s.values:
                continue
            res = COUNTER_RESOLUTION[(s.carrier, q)]
            start = sim.initial_values[meter_id][q]
            interval = s.true_values["interval_" + q]
            assert np.all(interval >= 0)
            # reported registers: differences over any span equal the consumption within one resolution step
            for a, b in ((0, 1000), (5000, 20000), (0, interval.size - 1)):
                diff = s.values[q][b] - (start if a == 0 else s.values[q][a - 1])
                assert diff == pytest.approx(interval[a:b + 1].sum(), abs=res * 1.01, rel=1e-9), (meter_id, q)
            assert np.all(np.diff(s.values[q]) >= -1e-9)  # no fault: counters never go down
            checked += 1
    assert checked > 40


def test_self_consumed_plus_exported_equals_produced(year_clean, registry) -> None:
    _, chunk = year_clean
    h = chunk.step_s / 3600
    for site_id, site in chunk.sites.items():
        np.testing.assert_allclose(site.self_consumed_w + site.export_w, site.pv_w, atol=1e-6)
        np.testing.assert_allclose(site.import_w - site.export_w, site.load_w - site.pv_w, atol=1e-6)
    # and on the meters: PV counters vs the site's electricity meter export counter
    site = chunk.sites["ctm"]
    produced_wh = chunk.series["ctm-toiture-pv"].true_values["interval_energy_produced_wh"].sum()
    exported_wh = chunk.series["ctm-elec"].true_values["interval_energy_export_wh"].sum()
    self_wh = site.self_consumed_w.sum() * h
    assert produced_wh > 20_000_000  # 36 kWp: ~30 MWh a year
    assert exported_wh + self_wh == pytest.approx(produced_wh, rel=1e-9)
    assert 0 < exported_wh < produced_wh
    # the test platform consumes almost nothing: nearly everything is exported
    pf = chunk.sites["plateforme-pv"]
    assert pf.export_w.sum() > 0.9 * pf.pv_w.sum()


def test_deterministic_under_seed(registry) -> None:
    t0, t1 = parse_time_arg("2024-03-01"), parse_time_arg("2024-03-08")
    a = FleetSimulation(registry, t0, seed=42).advance(t1)
    b = FleetSimulation(registry, t0, seed=42).advance(t1)
    c = FleetSimulation(registry, t0, seed=43).advance(t1)
    for meter_id in a.series:
        for q, v in a.series[meter_id].values.items():
            np.testing.assert_array_equal(v, b.series[meter_id].values[q])
    diff = a.series["mairie-elec"].values["power_w"] - c.series["mairie-elec"].values["power_w"]
    assert np.abs(diff).max() > 100


def test_chunked_run_equals_single_run(registry) -> None:
    t0, t1 = parse_time_arg("2024-01-29"), parse_time_arg("2024-02-12")
    whole = FleetSimulation(registry, t0, seed=9).advance(t1)
    sim = FleetSimulation(registry, t0, seed=9)
    parts = list(sim.run(t1, chunk_s=86_400 * 3 + 900 * 7))
    assert len(parts) == 5 and sim.cursor_ns == t1
    np.testing.assert_array_equal(np.concatenate([p.time_ns for p in parts]), whole.time_ns)
    for meter_id, s in whole.series.items():
        for q, v in s.values.items():
            joined = np.concatenate([p.series[meter_id].values[q] for p in parts])
            res = COUNTER_RESOLUTION.get((s.carrier, q), 0.0)
            np.testing.assert_allclose(joined, v, atol=res + 1e-6, rtol=0, err_msg=f"{meter_id} {q}")


def test_measure_lowers_consumption_from_its_date(registry) -> None:
    # mairie-isolation: -20 % on mairie-gaz from 2021-10-15 (the town hall's earlier works apply to both runs)
    t0, t1 = parse_time_arg("2021-10-01"), parse_time_arg("2021-11-01")
    without = dataclasses.replace(registry, measures=tuple(m for m in registry.measures if m.id != "mairie-isolation"))
    a = FleetSimulation(registry, t0, seed=1).advance(t1)
    b = FleetSimulation(without, t0, seed=1).advance(t1)
    gas_a = a.series["mairie-gaz"].true_values["interval_volume_m3"]
    gas_b = b.series["mairie-gaz"].true_values["interval_volume_m3"]
    after = a.time_ns > parse_time_arg("2021-10-15")
    assert gas_b[after].sum() > 100
    assert gas_a[after].sum() / gas_b[after].sum() == pytest.approx(0.8, abs=1e-9)
    np.testing.assert_array_equal(gas_a[~after], gas_b[~after])
    np.testing.assert_array_equal(a.series["mairie-elec"].true_values["power_w"], b.series["mairie-elec"].true_values["power_w"])


def test_pv_produces_only_from_commissioning(registry) -> None:
    # jaures-toiture is commissioned on 2022-08-01
    sim = FleetSimulation(registry, parse_time_arg("2022-07-25"), seed=2)
    chunk = sim.advance(parse_time_arg("2022-08-08"))
    p = chunk.series["jaures-toiture-pv"].true_values["power_w"]
    before = chunk.time_ns <= parse_time_arg("2022-08-01") - 2 * 3600 * 10**9
    assert np.all(p[before] == 0)
    assert p[~before].max() > 10_000
    assert sim.initial_values["jaures-toiture-pv"]["energy_produced_wh"] == 0


def test_initial_indexes_are_plausible(year_clean) -> None:
    sim, _ = year_clean
    for meter_id, init in sim.initial_values.items():
        for q, v in init.items():
            if q in ("energy_import_wh", "volume_m3"):
                assert v > 0, (meter_id, q)
    assert sim.initial_values["pf-hjt-pv"]["energy_produced_wh"] > 3 * 950 * 3 * 1000 * 0.5


def test_messages_follow_device_intervals_in_time_order(registry) -> None:
    sim = FleetSimulation(registry, parse_time_arg("2024-06-10"), seed=4, step_s=300)
    chunk = sim.advance(parse_time_arg("2024-06-11"))
    msgs = list(chunk.messages())
    times = [m.time_ns for m in msgs]
    assert times == sorted(times)
    per_device: dict[str, int] = {}
    for m in msgs:
        per_device[m.device_id] = per_device.get(m.device_id, 0) + 1
    for d in registry.devices:
        assert per_device[d.id] == pytest.approx(86_400 / max(d.interval_s, 300), abs=1), d.id
    platform = {m.device_id: m for m in msgs if registry.device_by_id[m.device_id].site == "plateforme-pv"
                and registry.device_by_id[m.device_id].format == "opendtu"}
    assert len(platform) == 6  # one Hoymiles inverter per technology
    assert {m.channels[0].meter_id for m in platform.values()} == {a.meter for a in registry.pv_arrays
                                                                     if a.site == "plateforme-pv"}
    linky = next(m for m in msgs if m.device_id == "mairie-linky")
    assert set(linky.channels[0].values) == {"energy_import_wh", "energy_export_wh", "power_w"}
    meteo = next(m for m in msgs if m.device_id == "station-meteo-capteurs")
    assert set(meteo.channels[0].values) == {"temp_air_c", "irradiance_w_m2"}


def test_a_year_in_monthly_chunks_has_every_step(registry) -> None:
    # the step count needs no fleet: one site; the speed claim (a fleet year under 10 s) is bench/simulate.py
    sim = FleetSimulation(subset_registry(registry, ["eglise"]), parse_time_arg("2023-01-01"), seed=5)
    n = sum(c.time_ns.size for c in sim.run(parse_time_arg("2024-01-01"), chunk_s=31 * 86_400))
    assert n == 365 * 96
