"""End to end through the real broker and database: native readings in, exactly the same points out."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from firmware_sim.publisher import Publisher
from helpers import count_points, endpoint, make_registry, start_collector, wait_for
from terril.timeutil import NS_PER_S, format_rfc3339_ns

pytestmark = pytest.mark.integration

T0_NS = 1_767_222_000 * NS_PER_S  # 2026-01-01T00:00:00+01:00


def test_10000_readings_from_50_devices_land_exactly(private_stack, private_influx):
    # a broker of its own: the session broker keeps other tests' retained device statuses, which a
    # collector subscribed to every format receives (and quarantines as unknown devices)
    stack, influx_db = private_stack, private_influx
    registry = make_registry(n_sites=5, devices_per_site=10)
    assert len(registry.devices) == 50
    rng = np.random.default_rng(42)
    sent: dict[tuple[str, int], float] = {}
    messages = []
    for k in range(200):
        for d in registry.devices:
            t = T0_NS + k * 900 * NS_PER_S
            value = float(np.round(rng.uniform(0, 1e7), 3))
            sent[(d.channels[0].meter, t)] = value
            time_field: object = format_rfc3339_ns(t) if k % 2 else t // NS_PER_S  # both time forms
            messages.append((f"terril/{d.site}/{d.id}/telemetry",
                             orjson.dumps({"time": time_field, "energy_import_wh": value})))
    assert len(messages) == 10_000

    collector = start_collector(stack, registry, influx_db)
    publisher = Publisher(endpoint(stack, "simulator"))
    publisher.connect()
    try:
        for topic, payload in messages:
            publisher.publish(topic, payload)
        assert publisher.wait_all_acked(10_000, timeout_s=240)
        assert wait_for(lambda: collector.stats.messages_acked >= 10_000, 240)
    finally:
        publisher.close()
        collector.stop()

    assert count_points(influx_db) == 10_000
    stored: dict[tuple[str, int], float] = {}
    for series in influx_db.query_chunks("SELECT energy_import_wh FROM reading GROUP BY meter"):
        for t, v in series.values:
            stored[(series.tags["meter"], int(t))] = v
    assert stored == sent
    assert sum(collector.stats.quarantined.values()) == 0


def test_bad_messages_are_quarantined_and_the_loop_goes_on(private_stack, private_influx):
    stack, influx_db = private_stack, private_influx  # exact quarantine counts: a broker of its own
    registry = make_registry(n_sites=1, devices_per_site=2)
    collector = start_collector(stack, registry, influx_db)
    publisher = Publisher(endpoint(stack, "simulator"))
    publisher.connect()
    bad = [
        ("terril/site-00/intruder/telemetry", b'{"power_w": 1}', "unknown_device"),
        ("terril/site-00/site-00-d00/telemetry", b"not json", "not_json"),
        ("terril/site-00/site-00-d00/telemetry", b'{"power_kw": 1}', "unknown_field"),
        ("terril/site-00/site-00-d00/telemetry", b'{"power_w": "12"}', "bad_value"),
        ("terril/site-00/site-00-d00/telemetry", b'{"power_w": 1, "time": "2999-01-01T00:00:00Z"}', "implausible_time"),
        ("terril/site-99/site-00-d00/telemetry", b'{"power_w": 1}', "site_mismatch"),
        ("terril/site-00/site-00-d00/telemetry", b'{"power_w": 1, "channel": "nope"}', "unknown_channel"),
    ]
    good = ("terril/site-00/site-00-d01/telemetry", b'{"power_w": 5.5, "time": 1767222000}')
    try:
        for topic, payload, _ in bad:
            publisher.publish(topic, payload)
        publisher.publish(*good)
        assert publisher.wait_all_acked(len(bad) + 1)
        assert wait_for(lambda: collector.stats.messages_acked >= len(bad) + 1, 20)
    finally:
        publisher.close()
        collector.stop()
    reasons = {}
    for s in influx_db.query('SELECT "topic", "payload", "detail", "reason" FROM quarantine'):
        for row in s.values:
            reasons[row[4]] = row
    assert set(reasons) == {r for _, _, r in bad}
    assert reasons["not_json"][2] == "not json"
    assert reasons["unknown_device"][1] == "terril/site-00/intruder/telemetry"
    assert count_points(influx_db) == 1
    assert collector.stats.quarantined == {r: 1 for _, _, r in bad}
