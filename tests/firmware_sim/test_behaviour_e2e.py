"""Device behaviour through the real broker and collector: what the simulator predicts is what InfluxDB holds.

Three simulated days of the demo fleet with duplicates, out-of-order delivery, clock skew, an outage
with a backlog (a buffering gateway), an outage without one (a radio meter), Last-Will messages and a
counter rollover, published over MQTT in each device's own format and stored by the collector.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from firmware_sim.behaviour import BehaviourParams, clock_offset_ns, plan_emissions
from firmware_sim.faults import parse_scenario
from firmware_sim.publisher import Publisher, PublishReport
from firmware_sim.runner import Encoding
from firmware_sim.session import fleet_messages, new_simulation, run_fleet
from terril.registry import load_registry
from terril.timeutil import NS_PER_S, parse_time_arg
from tests.helpers import count_points, endpoint, start_collector, wait_for

STEP_S = 900
BUFFERING = "salle-fetes-gazpar"  # native pulse gateway: keeps its readings while offline
BUFFERING_METER = "salle-fetes-gaz"
DROPPING_METER = "mairie-eau"  # wM-Bus radio meter: what is sent while the gateway is down is lost
ROLLOVER = "mairie-linky"
ROLLOVER_METER = "mairie-elec"
ROLLOVER_WH = 1e6


def test_emissions_encode_at_their_sending_instant_with_the_device_clock() -> None:
    """Pure: publications follow ``send_ns``; points follow the skewed device time; LWT is a status message."""
    registry = load_registry()
    scenario = parse_scenario({"faults": [{"id": "down", "kind": "meter_offline", "meter": "pf-cigs-pv",
                                           "start": dt.date(2024, 6, 2), "end": dt.date(2024, 6, 3)}]}, registry)
    sim = new_simulation(registry, parse_time_arg("2024-06-01"), seed=5, step_s=STEP_S, scenario=scenario)
    inverter = next(d for d in registry.devices if d.channels[0].meter == "pf-cigs-pv")
    params = BehaviourParams(backlog_devices=frozenset({inverter.id}), duplicate_rate=0.0, reorder_rate=0.0)
    emissions = [e for e in plan_emissions(fleet_messages(sim, parse_time_arg("2024-06-04") - 1), 5, params)
                 if e.device_id == inverter.id]
    realtime = Encoding(registry, backfill=False)
    assert realtime.encoder_of(inverter) == "opendtu"  # its own format carries no time ...
    offset_ns = clock_offset_ns(5, inverter.id, params.clock_skew_sigma_s)
    kinds = set()
    for e in emissions:
        for out in realtime.encode_emission(e):
            assert out.time_ns == e.send_ns
            if e.kind == "availability":
                kinds.add(e.online)
                assert out.topic.endswith(f"/{inverter.id}/status") and out.retain and out.points == ()
            elif e.backlog:  # ... so its backlog goes out in native JSON, with the device's (skewed) times
                assert out.topic.endswith("/telemetry")
                assert {t for _, t in out.points} == {e.true_time_ns + offset_ns}
            else:  # live OpenDTU messages are stamped with the collector's receive time
                assert all(t is None for _, t in out.points)
    assert kinds == {False, True}
    assert sum(e.backlog for e in emissions) == 24 * 3600 // STEP_S


def test_report_counts_a_repeated_point_once_and_receive_time_points_always() -> None:
    report = PublishReport()
    report.add_points([("a", 10), ("b", 10)])
    report.add_points([("a", 10), ("a", None)])  # a duplicate, and a point stamped on reception
    assert report.expected_points == 3 and report.overwritten_points == 1
    report.add_points([("a", 5), ("a", None), ("b", 10)])  # a late message, another reception, a repeat
    assert report.expected_points == 5 and report.overwritten_points == 2
    assert dict(report.points_by_meter) == {"a": 4, "b": 1}


def _times_ns(client, meter: str, start_ns: int, end_ns: int) -> list[int]:
    series = client.query(f"SELECT \"received_ns\" FROM \"reading\" WHERE \"meter\" = '{meter}' "
                          f"AND time >= {start_ns} AND time < {end_ns}")
    return [int(row[0]) for s in series for row in s.values]


@pytest.mark.integration
@pytest.mark.slow
def test_behaviour_is_stored_exactly_as_predicted(private_stack, private_influx) -> None:
    stack, influx_db = private_stack, private_influx  # exact counts: a broker free of other tests' retained messages
    registry = load_registry()
    outage = (dt.date(2024, 3, 2), dt.date(2024, 3, 3))
    scenario = parse_scenario({"faults": [
        {"id": "gateway-down", "kind": "meter_offline", "meter": BUFFERING_METER, "start": outage[0], "end": outage[1]},
        {"id": "radio-down", "kind": "meter_offline", "meter": DROPPING_METER, "start": outage[0], "end": outage[1]},
    ]}, registry)
    behaviour = BehaviourParams(duplicate_rate=0.03, reorder_rate=0.02, backlog_devices=frozenset({BUFFERING}),
                                rollover_devices=frozenset({ROLLOVER}), rollover_wh=ROLLOVER_WH)
    start_ns, end_ns = parse_time_arg("2024-03-01"), parse_time_arg("2024-03-04")
    seed = 11

    collector = start_collector(stack, registry, influx_db)
    publisher = Publisher(endpoint(stack, "simulator"))
    publisher.connect()
    try:
        report = run_fleet(publisher, registry, start_ns, end_ns, seed=seed, step_s=STEP_S, scenario=scenario,
                           behaviour=behaviour).report
    finally:
        publisher.close()
    try:
        def settled() -> bool:
            return (collector.stats.messages_acked >= report.messages and collector.pending() == 0
                    and count_points(influx_db) >= report.expected_points)

        if not wait_for(settled, timeout_s=180):  # say where the points went: which meters, acked or not, quarantined
            per_meter = influx_db.query('SELECT count("received_ns") FROM "reading" GROUP BY "meter"')
            got = {s.tags["meter"]: int(s.values[0][1]) for s in per_meter}
            short = {m: (got.get(m, 0), n) for m, n in report.points_by_meter.items() if got.get(m, 0) != n}
            st = collector.stats
            pytest.fail(f"stored {count_points(influx_db)} of {report.expected_points} points; meters short (stored, "
                        f"predicted): {short}; messages published {report.messages}, received {st.messages_received}, "
                        f"acked {st.messages_acked}, pending {collector.pending()}, duplicate copies "
                        f"{st.duplicate_copies}, quarantined {dict(st.quarantined)}, reconnections {st.reconnections}")
        time.sleep(1.0)  # nothing more must arrive: a late duplicate stored as a new point would show here
        assert collector.fatal is None
        stored = count_points(influx_db)
    finally:
        collector.stop()

    # the behaviour happened: the same points were published more than once
    assert report.overwritten_points > 0.01 * report.expected_points
    # ... and yet InfluxDB holds exactly the predicted points, meter by meter
    assert stored == report.expected_points
    per_meter = influx_db.query('SELECT count("received_ns") FROM "reading" GROUP BY "meter"')
    assert {s.tags["meter"]: int(s.values[0][1]) for s in per_meter} == dict(report.points_by_meter)

    # clock skew: a native device's points sit at its own clock offset from the step grid
    offset_ns = clock_offset_ns(seed, BUFFERING, behaviour.clock_skew_sigma_s)
    assert offset_ns != 0
    gas_times = _times_ns(influx_db, BUFFERING_METER, start_ns - NS_PER_S * 3600, end_ns + NS_PER_S * 3600)
    assert gas_times and all((t - offset_ns) % (STEP_S * NS_PER_S) == 0 for t in gas_times)

    # outages: the buffering gateway's backlog filled the day, the radio meter's day is lost
    # (an hour off each end: skewed clocks put the readings next to the outage seconds away from it)
    day = (parse_time_arg(outage[0].isoformat()) + 3600 * NS_PER_S, parse_time_arg(outage[1].isoformat()) - 3600 * NS_PER_S)
    assert len(_times_ns(influx_db, BUFFERING_METER, *day)) >= 20
    assert _times_ns(influx_db, DROPPING_METER, *day) == []
    assert len(_times_ns(influx_db, DROPPING_METER, start_ns, day[0])) > 0

    # Last Will and birth messages of both devices reached the collector
    status = influx_db.query("SELECT \"online\" FROM \"device_status\" WHERE \"device\" = 'mairie-eau-wmbus'")
    flags = [row[1] for s in status for row in s.values]
    assert False in flags and True in flags

    # rollover: the Linky's register wrapped below 1 MWh
    top = influx_db.query(f"SELECT max(\"energy_import_wh\") FROM \"reading\" WHERE \"meter\" = '{ROLLOVER_METER}'")
    assert 0 < top[0].values[0][1] < ROLLOVER_WH
