"""Tests of device behaviour transformations: ordering, duplicates, skew, backlog, LWT, rollover."""

from __future__ import annotations

import datetime as dt

from firmware_sim.behaviour import BehaviourParams, clock_offset_ns, plan_emissions
from firmware_sim.faults import parse_scenario
from firmware_sim.fleet import FleetSimulation
from terril.timeutil import parse_time_arg


def _messages(registry, include_offline=True):
    scenario = parse_scenario({"faults": [{"kind": "meter_offline", "meter": "mairie-eau", "start": dt.date(2024, 3, 2),
                                           "end": dt.date(2024, 3, 3)}]}, registry)
    sim = FleetSimulation(registry, parse_time_arg("2024-03-01"), seed=3, scenario=scenario)
    return list(sim.advance(parse_time_arg("2024-03-04")).messages(include_offline=include_offline))


def test_emissions_are_sorted_and_deterministic(registry) -> None:
    msgs = _messages(registry)
    params = BehaviourParams(duplicate_rate=0.05, reorder_rate=0.05)
    a = list(plan_emissions(msgs, seed=1, params=params))
    b = list(plan_emissions(msgs, seed=1, params=params))
    assert a == b
    sends = [e.send_ns for e in a]
    assert sends == sorted(sends)
    live = [e for e in a if e.kind == "message" and not e.duplicate]
    assert len(live) == sum(m.online for m in msgs)
    dups = [e for e in a if e.duplicate]
    assert 0.02 * len(live) < len(dups) < 0.08 * len(live)
    # some messages overtaken: their values' instants are out of order in publication order
    overtaken = 0
    for device in {e.device_id for e in live}:
        true_times = [e.true_time_ns for e in live if e.device_id == device]
        overtaken += true_times != sorted(true_times)
    assert overtaken > 0


def test_clock_skew_moves_device_timestamps(registry) -> None:
    msgs = [m for m in _messages(registry) if m.online]
    out = [e for e in plan_emissions(msgs, seed=2, params=BehaviourParams(duplicate_rate=0, reorder_rate=0))
           if e.kind == "message"]
    off = clock_offset_ns(2, "mairie-linky", 20.0)
    assert off != 0
    assert all(e.message.time_ns - e.true_time_ns == off for e in out if e.device_id == "mairie-linky")


def test_offline_device_lwt_and_backlog(registry) -> None:
    msgs = _messages(registry)
    dropped = [e for e in plan_emissions(msgs, seed=1) if e.device_id == "mairie-eau-wmbus"]
    avail = [(e.online, e.send_ns) for e in dropped if e.kind == "availability"]
    assert [a[0] for a in avail] == [False, True]
    assert sum(e.kind == "message" and not e.duplicate for e in dropped) == 3 * 24 - 24
    kept = [e for e in plan_emissions(msgs, seed=1, params=BehaviourParams(backlog_devices=frozenset({"mairie-eau-wmbus"})))
            if e.device_id == "mairie-eau-wmbus" and e.kind == "message" and not e.duplicate]
    burst = [e for e in kept if e.backlog]
    assert len(burst) == 24 and len(kept) == 3 * 24
    back_online = avail[1][1]
    assert all(e.send_ns > back_online for e in burst)
    assert all(e.true_time_ns < parse_time_arg("2024-03-03") for e in burst)


def test_counter_rollover(registry) -> None:
    msgs = [m for m in _messages(registry) if m.online and m.device_id == "mairie-linky"]
    out = [e.message for e in plan_emissions(msgs, seed=1, params=BehaviourParams(
        rollover_devices=frozenset({"mairie-linky"}), rollover_wh=1e6, duplicate_rate=0, reorder_rate=0))]
    assert all(m.channels[0].values["energy_import_wh"] < 1e6 for m in out)
    assert msgs[0].channels[0].values["energy_import_wh"] > 1e6
