"""The collector service: metrics and health, the watchdog, graceful shutdown, redeliveries, ``terril spool``."""

from __future__ import annotations

import random
import time
import uuid

import httpx
import orjson
import paho.mqtt.client as mqtt
import pytest
from typer.testing import CliRunner

from collector.mapping import Pipeline
from collector.service import Collector
from collector.spool import Spool
from collector.watchdog import Watchdog, backoff_s, expected_silence_s
from firmware_sim.publisher import Publisher
from helpers import count_points, endpoint, make_registry, start_collector, wait_for
from terril.cli.spool import spool_app
from terril.endpoints import MqttEndpoint
from terril.settings import CollectorSettings, MqttSettings
from terril.timeutil import NS_PER_S

T0_S = 1_767_222_000


def native(registry, n: int, k0: int = 0) -> list[tuple[str, bytes]]:  # noqa: ANN001
    out = []
    for k in range(k0, k0 + n):
        d = registry.devices[k % len(registry.devices)]
        out.append((f"terril/{d.site}/{d.id}/telemetry",
                    orjson.dumps({"time": T0_S + 60 * k, "energy_import_wh": 1000.0 + k})))
    return out


# ---- pure parts ----
def test_expected_silence_comes_from_the_shortest_device_interval():
    assert expected_silence_s([900, 60, 300]) == 180
    assert expected_silence_s([5]) == 60  # never below the floor
    assert expected_silence_s([]) is None


def test_watchdog_judges_silence_since_the_later_of_connection_and_last_message():
    w = Watchdog(10)
    assert not w.is_stalled(now_s=105, connected=True, connected_since_s=100, last_message_s=0)
    assert w.is_stalled(now_s=111, connected=True, connected_since_s=100, last_message_s=0)
    assert not w.is_stalled(now_s=111, connected=True, connected_since_s=100, last_message_s=105)
    assert not w.is_stalled(now_s=999, connected=False, connected_since_s=100, last_message_s=0)
    assert not Watchdog(0).is_stalled(now_s=999, connected=True, connected_since_s=0, last_message_s=0)


def test_backoff_grows_to_its_ceiling_with_jitter():
    rng = random.Random(1)
    waits = [backoff_s(a, 1.0, 30.0, rng) for a in range(10)]
    assert all(0.5 * min(30, 2 ** a) <= w <= min(30, 2 ** a) for a, w in enumerate(waits))
    assert len({round(backoff_s(8, 1.0, 30.0, rng), 6) for _ in range(20)}) > 1  # jittered


def test_a_redelivered_message_keeps_its_first_receipt_time(tmp_path):
    """A payload without device time is stamped at its first receipt; the DUP copy gets the same stamp."""
    registry = make_registry(1, 1)
    c = Collector(Pipeline(registry), MqttEndpoint("127.0.0.1", 1, None, None), None,  # type: ignore[arg-type]
                  MqttSettings(client_id="t-dup"), CollectorSettings(), data_dir=tmp_path)
    msg = mqtt.MQTTMessage(mid=7, topic=b"terril/site-00/site-00-d00/telemetry")
    msg.payload, msg.qos = b'{"power_w": 12.5}', 1
    c.on_message(c.session, msg)
    time.sleep(0.01)
    msg.dup = True
    c.on_message(c.session, msg)
    first, second = c.outbox.buffered_lines()
    assert first.rsplit(" ", 1)[1] == second.rsplit(" ", 1)[1]  # same timestamp: the same point
    other = mqtt.MQTTMessage(mid=8, topic=b"terril/site-00/site-00-d00/telemetry")
    other.payload, other.qos = b'{"power_w": 13}', 1
    c.on_message(c.session, other)
    assert c.outbox.buffered_lines()[2].rsplit(" ", 1)[1] != first.rsplit(" ", 1)[1]


def test_a_redelivery_of_a_repeated_payload_is_not_stamped_with_an_earlier_message(tmp_path):
    """A device sends the same payload twice (no device time, a value that did not move); the second is
    redelivered (DUP) after a reconnection before it was processed: it is its own point, not the first's."""
    registry = make_registry(1, 1)
    c = Collector(Pipeline(registry), MqttEndpoint("127.0.0.1", 1, None, None), None,  # type: ignore[arg-type]
                  MqttSettings(client_id="t-dup2"), CollectorSettings(), data_dir=tmp_path)
    topic, payload = b"terril/site-00/site-00-d00/telemetry", b'{"power_w": 12.5}'
    a = mqtt.MQTTMessage(mid=7, topic=topic)
    a.payload, a.qos = payload, 1
    c.on_message(c.session, a)
    time.sleep(0.01)
    b = mqtt.MQTTMessage(mid=9, topic=topic)  # a later publication, same payload; its first delivery was lost
    b.payload, b.qos, b.dup = payload, 1, True
    c.on_message(c.session, b)
    first, second = c.outbox.buffered_lines()
    assert first.rsplit(" ", 1)[1] != second.rsplit(" ", 1)[1]  # two points, as two publications


# ---- against the real broker and database ----
@pytest.mark.integration
def test_metrics_and_health_endpoints(private_stack, private_influx):
    # exact counts: a broker free of other tests' retained messages (a demo run before this test leaves
    # retained device messages that this registry quarantines, and quarantine records are points written)
    stack, influx_db = private_stack, private_influx
    registry = make_registry(1, 5)
    collector = start_collector(stack, registry, influx_db, metrics_port=0)
    publisher = Publisher(endpoint(stack, "simulator"))
    publisher.connect()
    try:
        for topic, payload in native(registry, 200):
            publisher.publish(topic, payload)
        publisher.publish("terril/site-00/site-00-d00/telemetry", b"not json")
        assert wait_for(lambda: collector.stats.messages_acked >= 201, 20)
        base = f"http://127.0.0.1:{collector.metrics_port}"
        text = httpx.get(f"{base}/metrics", timeout=5).text
        # the broker also hands us the retained status of every collector (not device data)
        assert f"terril_collector_messages_received_total {collector.stats.messages_received:.1f}" in text
        assert collector.stats.messages_received >= 201
        assert "terril_collector_points_written_total 201.0" in text  # 200 readings + 1 quarantine record
        assert 'terril_collector_quarantined_total{reason="not_json"} 1.0' in text
        assert "terril_collector_write_latency_seconds_count" in text
        health = httpx.get(f"{base}/health", timeout=5)
        assert health.status_code == 200 and health.json()["connected"] is True
        collector.write_stats()
        stats = influx_db.query('SELECT last("messages_received") FROM collector_stats')
        assert stats[0].values[0][1] == collector.stats.messages_received
    finally:
        publisher.close()
        collector.stop()


@pytest.mark.integration
def test_watchdog_recovers_a_connection_that_is_up_but_silent(stack, influx_db):
    registry = make_registry(1, 2)
    collector = start_collector(stack, registry, influx_db, watchdog_silence_s=1.5)
    publisher = Publisher(endpoint(stack, "simulator"))
    publisher.connect()
    try:
        session = collector.session
        generation = session.generation
        # the broker forgets our subscriptions: the connection stays up, nothing arrives
        session.client.unsubscribe([collector.share(f) for f in collector.pipeline.subscriptions()])
        assert wait_for(lambda: collector.stats.watchdog_recoveries >= 1, 10)
        # dropped (generation + 1), then connected again (+ 2), and subscribed again
        assert wait_for(lambda: session.generation >= generation + 2 and session.connected.is_set(), 15)
        time.sleep(0.3)  # the SUBACK
        for topic, payload in native(registry, 50):
            publisher.publish(topic, payload)
        assert wait_for(lambda: count_points(influx_db) == 50, 20)
    finally:
        publisher.close()
        collector.stop()


@pytest.mark.integration
def test_graceful_stop_acknowledges_what_was_stored_and_a_restart_resumes_exactly(stack, influx_db, tmp_path):
    registry = make_registry(2, 10)
    messages = native(registry, 6000)
    client_id = f"t-stop-{uuid.uuid4().hex[:6]}"

    def collector() -> Collector:
        c = Collector(Pipeline(registry), endpoint(stack, "collector"), influx_db,
                      MqttSettings(client_id=client_id, session_expiry_s=120), CollectorSettings(), data_dir=tmp_path)
        c.start()
        assert c.wait_connected(10)
        return c

    first = collector()
    time.sleep(0.2)
    publisher = Publisher(endpoint(stack, "simulator"))
    publisher.connect()
    try:
        for i, (topic, payload) in enumerate(messages):
            publisher.publish(topic, payload)
            if i == 2000:
                assert wait_for(lambda: first.stats.messages_acked > 500, 10)
                first.stop()  # mid-stream
        assert publisher.wait_all_acked(len(messages), 30)
        assert first.pending() == 0  # everything taken in was stored and acknowledged
        assert count_points(influx_db) == first.stats.readings_decoded < len(messages)
        second = collector()
        try:
            assert wait_for(lambda: count_points(influx_db) == len(messages), 30)
            time.sleep(0.5)
            assert count_points(influx_db) == len(messages)
        finally:
            second.stop()
    finally:
        publisher.close()


@pytest.mark.integration
def test_spool_drain_command_replays_into_influxdb(stack, influx_db, tmp_path, monkeypatch):
    folder = tmp_path / "spool" / "t-drain"
    lines = [f"reading,meter=m{k % 7} energy_import_wh={k} {(T0_S + k) * NS_PER_S}" for k in range(3000)]
    with Spool(folder, 10_000_000) as spool:
        for i in range(0, 3000, 500):
            spool.append(lines[i:i + 500], 500)
    monkeypatch.setenv("TERRIL_INFLUX__URL", stack.influx_url)
    monkeypatch.setenv("TERRIL_INFLUX__DATABASE", influx_db.database)
    runner = CliRunner()
    stats = runner.invoke(spool_app, ["stats", "--data-dir", str(tmp_path), "--client-id", "t-drain", "--json"])
    assert orjson.loads(stats.output)["points"] == 3000
    result = runner.invoke(spool_app, ["drain", "--data-dir", str(tmp_path), "--client-id", "t-drain"])
    assert result.exit_code == 0, result.output
    assert "3000 points written" in result.output
    assert count_points(influx_db, field="energy_import_wh") == 3000
    with Spool(folder, 10_000_000) as spool:
        assert spool.is_empty()
