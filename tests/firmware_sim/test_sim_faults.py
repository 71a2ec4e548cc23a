"""Known-truth tests of fault injection: each fault is in the ground truth and visible in the data."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from conftest import DEMO_SCENARIO
from firmware_sim.faults import FAULT_KINDS, ground_truth_json, parse_scenario, read_scenario
from terril.errors import ConfigError
from terril.timeutil import parse_rfc3339, parse_time_arg


def test_demo_scenario_has_every_kind_and_truth_json(registry, year_faults) -> None:
    sim, _ = year_faults
    scenario = read_scenario(DEMO_SCENARIO, registry)
    assert {f.kind for f in scenario.faults} == set(FAULT_KINDS)
    truth = json.loads(ground_truth_json(sim.ground_truth))
    assert len(truth) == len(scenario.faults)
    by_id = {t["id"]: t for t in truth}
    drift = by_id["basly-gas-drift"]
    assert drift["kind"] == "consumption_drift" and drift["device"] == "ecole-basly-gazpar"
    assert drift["meter"] == "ecole-basly-gaz" and drift["magnitude"] == 25 and drift["unit"] == "%"
    assert drift["start"] == "2024-02-04T23:00:00Z"  # Paris midnight
    assert by_id["pasteur-water-reset"]["start_ns"] == parse_rfc3339("2024-09-16T10:30:00+02:00")
    assert by_id["eglise-inverter-off"]["end"] == "2024-07-14T22:00:00Z"


def test_invalid_scenarios_are_rejected_with_location(registry) -> None:
    with pytest.raises(ConfigError, match=r"faults\[0\]\.meter: unknown meter"):
        parse_scenario({"faults": [{"kind": "stuck_meter", "meter": "nope", "start": dt.date(2024, 1, 1)}]}, registry)
    with pytest.raises(ConfigError, match=r"faults\[0\]"):
        parse_scenario({"faults": [{"kind": "pv_string_failure", "meter": "mairie-gaz", "pct": 10,
                                    "start": dt.date(2024, 1, 1)}]}, registry)
    with pytest.raises(ConfigError, match=r"faults\[0\]\.pct"):
        parse_scenario({"faults": [{"kind": "pv_string_failure", "meter": "ctm-toiture-pv", "pct": 150,
                                    "start": dt.date(2024, 1, 1)}]}, registry)
    with pytest.raises(ConfigError, match="kind"):
        parse_scenario({"faults": [{"kind": "meteor", "meter": "mairie-gaz", "start": dt.date(2024, 1, 1)}]}, registry)


def _mask(chunk, start: str, end: str | None = None):
    """Samples whose interval lies in [start, end): physics (the interval's energy) is affected there."""
    t = chunk.time_ns
    m = t > parse_time_arg(start)
    if end:
        m &= t <= parse_time_arg(end)
    return m


def _instants(chunk, start: str, end: str):
    """Instants in [start, end): registers and transmission are affected there."""
    t = chunk.time_ns
    return (t >= parse_time_arg(start)) & (t < parse_time_arg(end))


def test_consumption_drift_is_in_the_data(year_clean, year_faults) -> None:
    _, clean = year_clean
    _, faulty = year_faults
    q = "interval_volume_m3"
    a = clean.series["ecole-basly-gaz"].true_values[q]
    b = faulty.series["ecole-basly-gaz"].true_values[q]
    before, after = _mask(faulty, "2023-12-01", "2024-02-05"), _mask(faulty, "2024-02-27")
    np.testing.assert_array_equal(a[before], b[before])
    assert b[after].sum() / a[after].sum() == pytest.approx(1.25, rel=1e-9)
    # base load: +1.5 kW on the town hall meter (before PV netting): +36 kWh a day, seen in the import counter
    imp_a = clean.series["mairie-elec"].true_values["interval_energy_import_wh"]
    imp_b = faulty.series["mairie-elec"].true_values["interval_energy_import_wh"]
    may = _mask(faulty, "2024-05-01", "2024-06-01")
    assert (imp_b[may] - imp_a[may]).sum() / 31 == pytest.approx(36_000, rel=0.15)
    leak = _mask(faulty, "2024-06-11", "2024-07-07")
    water_extra = (faulty.series["salle-bigotte-eau"].true_values["interval_volume_m3"]
                   - clean.series["salle-bigotte-eau"].true_values["interval_volume_m3"])
    assert water_extra[leak].sum() == pytest.approx(0.12 * 24 * 26, rel=0.05)
    assert water_extra[_mask(faulty, "2024-07-09")].sum() == pytest.approx(0.0, abs=1e-9)


def test_stuck_meter_freezes_the_register_and_loses_the_consumption(year_faults) -> None:
    _, chunk = year_faults
    s = chunk.series["ecole-curie-elec"]
    stuck = _instants(chunk, "2024-03-11", "2024-03-18")
    v = s.values["energy_import_wh"]
    assert np.all(s.stuck == stuck)
    assert np.ptp(v[stuck]) == 0
    assert np.all(s.values["power_w"][stuck] == 0)
    lost = s.true_values["interval_energy_import_wh"][stuck].sum()
    assert lost > 10_000
    last = np.flatnonzero(stuck)[-1]
    true_gap = s.true_values["energy_import_wh"][-1] - s.values["energy_import_wh"][-1]
    assert true_gap == pytest.approx(lost, abs=2)
    assert v[last + 1] - v[last] == pytest.approx(s.true_values["interval_energy_import_wh"][last + 1], abs=1.01)


def test_offline_meter_sends_nothing_then_catches_up(year_faults) -> None:
    _, chunk = year_faults
    s = chunk.series["salle-fetes-gaz"]
    off = _instants(chunk, "2024-05-02", "2024-05-06")
    assert not s.online[off].any() and s.online[~off].all()
    first, last = parse_time_arg("2024-05-01"), parse_time_arg("2024-05-08")
    sent = [m.time_ns for m in _messages_between(chunk, first, last) if m.device_id == "salle-fetes-gazpar"]
    assert not [t for t in sent if parse_time_arg("2024-05-02") <= t < parse_time_arg("2024-05-06")]
    assert len(sent) == 7 * 24 - 4 * 24


def _messages_between(chunk, first: int, last: int):
    return [m for m in chunk.messages(devices={"salle-fetes-gazpar"}) if first <= m.time_ns < last]


def test_counter_reset_and_meter_replacement(year_faults) -> None:
    _, chunk = year_faults
    reset_at = parse_rfc3339("2024-09-16T10:30:00+02:00")
    w = chunk.series["ecole-pasteur-eau"].values["volume_m3"]
    i = int(np.searchsorted(chunk.time_ns, reset_at))
    assert w[i - 1] > 1000 and w[i] < 1.0 and np.all(np.diff(w[i:]) >= 0)
    g = chunk.series["ctm-gaz"].values["volume_m3"]
    j = int(np.searchsorted(chunk.time_ns, parse_time_arg("2024-10-07")))
    assert g[j - 1] > 10_000 and 12.5 <= g[j] < 13.5


def test_pv_faults_are_in_the_data(year_clean, year_faults) -> None:
    _, clean = year_clean
    _, faulty = year_faults
    a = clean.series["ctm-toiture-pv"].true_values["power_w"]
    b = faulty.series["ctm-toiture-pv"].true_values["power_w"]
    after = _mask(faulty, "2024-05-21")
    assert b[after].sum() / a[after].sum() == pytest.approx(0.67, rel=1e-6)
    off = _mask(faulty, "2024-07-01", "2024-07-15")
    s = faulty.series["eglise-toiture-pv"]
    assert np.all(s.true_values["power_w"][off] == 0)
    silent = _instants(faulty, "2024-07-01", "2024-07-15")
    assert not s.online[silent].any() and s.online[~silent].all()
    assert clean.series["eglise-toiture-pv"].true_values["power_w"][off].sum() > 0
    # without the inverter, the church imports more
    imp = "interval_energy_import_wh"
    assert faulty.series["eglise-elec"].true_values[imp][off].sum() > clean.series["eglise-elec"].true_values[imp][off].sum()


def test_malformed_payload_rate(year_faults) -> None:
    _, chunk = year_faults
    s = chunk.series["ecole-ferry-chaleur"]
    rate = s.malformed[s.due].mean()
    assert 0.01 < rate < 0.03
    assert not chunk.series["ecole-ferry-elec"].malformed.any()
