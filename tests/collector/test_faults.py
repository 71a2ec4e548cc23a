"""Fault tests against the real Mosquitto and InfluxDB: nothing lost, nothing counted twice.

Each test streams 20,000 readings at QoS 1 to collectors running as subprocesses
(``python -m terril.cli collect``, so that they can be SIGKILLed), injects one fault, and then
checks that InfluxDB holds exactly the published set: same count, same values, no duplicates.
The module starts its own stack in a temporary folder, so that stopping servers here does not
disturb the session stack of the other tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.spool import read_spool_stats
from helpers import make_registry, wait_for
from terril.influx import InfluxClient
from terril.stack import free_port, stack_down, stack_up, start_influxd, start_mosquitto, stop_influxd, stop_mosquitto
from terril.timeutil import NS_PER_S

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
READINGS = 20_000
#: the InfluxDB outage of the default run [s]: long enough to spool thousands of readings and replay them
SHORT_OUTAGE_S = 10.0
#: the outage the issue asks for [s]: under the ``long`` marker (``make test`` and CI run it; ``-m "not long"`` skips it)
LONG_OUTAGE_S = 60.0
T0_NS = 1_767_222_000 * NS_PER_S  # 2026-01-01T00:00:00+01:00
REGISTRY = make_registry(n_sites=5, devices_per_site=10)


def _registry_toml() -> str:
    out = ['[town]\nname = "Faultville"\ntimezone = "Europe/Paris"\nlatitude = 50.46\nlongitude = 2.79\n']
    for s in REGISTRY.sites:
        out.append(f'[[sites]]\nid = "{s.id}"\nname = "{s.name}"\nkind = "school"\nfloor_area_m2 = 1000\n'
                   f"latitude = 50.46\nlongitude = 2.79\n")
    for m in REGISTRY.meters:
        out.append(f'[[meters]]\nid = "{m.id}"\nsite = "{m.site}"\ncarrier = "electricity"\n')
    for d in REGISTRY.devices:
        out.append(f'[[devices]]\nid = "{d.id}"\nsite = "{d.site}"\nformat = "native"\ninterval_s = 60\n'
                   f'[[devices.channels]]\nchannel = "main"\nmeter = "{d.channels[0].meter}"\n')
    return "\n".join(out)


def stream() -> tuple[list[tuple[str, bytes]], dict[tuple[str, int], float]]:
    """READINGS native messages (one reading each) and the (meter, time) -> value they must become."""
    messages, sent = [], {}
    for k in range(READINGS // len(REGISTRY.devices)):
        for j, d in enumerate(REGISTRY.devices):
            t = T0_NS + k * 60 * NS_PER_S
            value = 1_000_000.0 + k * 12.5 + j / 8
            sent[(d.channels[0].meter, t)] = value
            messages.append((f"terril/{d.site}/{d.id}/telemetry",
                             b'{"time": %d, "energy_import_wh": %r}' % (t // NS_PER_S, value)))
    assert len(messages) == READINGS
    return messages, sent


class StreamPublisher:
    """QoS 1 with a persistent session: what the broker has not acknowledged is sent again after a restart."""

    def __init__(self, state, messages: list[tuple[str, bytes]], rate_per_s: float) -> None:  # noqa: ANN001
        self.messages, self.rate = messages, rate_per_s
        self.acked = 0
        self.sent = 0
        self._lock = threading.Lock()
        user, password = state.mqtt_credentials("simulator")
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"fault-pub-{uuid.uuid4().hex[:6]}",
                                  protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user, password)
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]
        self.client.on_publish = self._on_publish
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 600
        self.client.connect("127.0.0.1", state.mqtt_port, clean_start=False, properties=props)
        self.client.loop_start()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_publish(self, client, userdata, mid, reason_code=None, properties=None):  # noqa: ANN001
        with self._lock:
            self.acked += 1

    def _run(self) -> None:
        start = time.monotonic()
        for i, (topic, payload) in enumerate(self.messages):
            delay = start + i / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.client.publish(topic, payload, qos=1)
            self.sent = i + 1

    def start(self) -> "StreamPublisher":
        self.thread.start()
        return self

    def finish(self, timeout_s: float = 120) -> None:
        self.thread.join(timeout_s)
        assert wait_for(lambda: self.acked >= len(self.messages), timeout_s), \
            f"the broker acknowledged {self.acked} of {len(self.messages)}"
        self.client.disconnect()
        self.client.loop_stop()


class CollectorProcess:
    """``terril collect`` as a child process against the fault stack."""

    def __init__(self, state, tmp: Path, database: str, client_id: str, **env: str) -> None:  # noqa: ANN001
        self.state, self.client_id = state, client_id
        registry = tmp / "registry.toml"
        if not registry.exists():
            registry.write_text(_registry_toml(), encoding="utf-8")
        self.env = dict(os.environ, TERRIL_DATA_DIR=state.data_dir, TERRIL_REGISTRY=str(registry),
                        TERRIL_INFLUX__DATABASE=database, TERRIL_MQTT__CLIENT_ID=client_id,
                        TERRIL_MQTT__SESSION_EXPIRY_S="600", TERRIL_MQTT__RECONNECT_MAX_S="2",
                        TERRIL_COLLECTOR__RETRY_MAX_S="2", TERRIL_COLLECTOR__STATS_INTERVAL_S="2",
                        **env)
        for key in ("TERRIL_CONFIG", "TERRIL_INFLUX__URL", "TERRIL_MQTT__URL"):
            self.env.pop(key, None)
        self.log = tmp / f"collector-{client_id}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def spool_dir(self) -> Path:
        return Path(self.state.data_dir) / "spool" / self.client_id

    def start(self) -> "CollectorProcess":
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "terril.cli", "collect"], cwd=ROOT, env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)
        # connected and subscribed: its retained status says online
        assert wait_for(lambda: _status(self.state, self.client_id) == b"online", 20), self.tail()
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def _status(state, client_id: str) -> bytes | None:  # noqa: ANN001
    """The retained status of a collector (None when there is none)."""
    user, password = state.mqtt_credentials("admin")
    got: dict[str, bytes] = {}
    done = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5)
    c.username_pw_set(user, password)
    c.on_connect = lambda cl, *a, **k: cl.subscribe(f"terril/_collector/{client_id}/status", qos=0)
    c.on_message = lambda cl, u, m: (got.__setitem__("v", m.payload), done.set())
    try:
        c.connect("127.0.0.1", state.mqtt_port)
    except OSError:
        return None
    c.loop_start()
    done.wait(0.5)
    c.disconnect()
    c.loop_stop()
    return got.get("v")


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory):  # noqa: ANN001, ANN201
    data_dir = tmp_path_factory.mktemp("fault-stack")
    state, _ = stack_up(data_dir)
    try:
        yield state
    finally:
        stack_down(data_dir)


@pytest.fixture
def db(fault_stack):  # noqa: ANN001, ANN201
    name = "f_" + uuid.uuid4().hex[:10]
    client = InfluxClient(fault_stack.influx_url, name)
    client.create_database()
    yield client
    try:
        client.query(f'DROP DATABASE "{name}"', method="POST", epoch=None)
    except Exception:  # noqa: BLE001  (the server may be down after a failed test)
        pass
    client.close()


def _stored(db: InfluxClient) -> tuple[int, dict[tuple[str, int], float]]:
    count = 0
    for s in db.query('SELECT count("received_ns") FROM reading'):
        count = int(s.values[0][1])
    values: dict[tuple[str, int], float] = {}
    for series in db.query_chunks("SELECT energy_import_wh FROM reading GROUP BY meter"):
        for t, v in series.values:
            values[(series.tags["meter"], int(t))] = v
    return count, values


def assert_exactly(db: InfluxClient, sent: dict[tuple[str, int], float], timeout_s: float = 90) -> None:
    def complete() -> bool:
        try:
            return _stored(db)[0] >= len(sent)
        except Exception:  # noqa: BLE001
            return False

    wait_for(complete, timeout_s, 0.5)
    time.sleep(1.0)  # anything late (a duplicate) would show now
    count, values = _stored(db)
    assert count == len(sent) == READINGS
    assert values == sent


def _metrics(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


@pytest.mark.parametrize("outage_s", [SHORT_OUTAGE_S, pytest.param(LONG_OUTAGE_S, marks=pytest.mark.long)],
                         ids=lambda s: f"{s:.0f}s")
def test_influxdb_down_mid_stream(fault_stack, db, tmp_path, outage_s):
    messages, sent = stream()
    rate = READINGS / (outage_s + 8)  # the stream outlasts the outage
    port = free_port()
    collector = CollectorProcess(fault_stack, tmp_path, db.database, "fault-influx",
                                 TERRIL_COLLECTOR__METRICS_PORT=str(port)).start()
    pub = StreamPublisher(fault_stack, messages, rate).start()
    try:
        time.sleep(3)
        stop_influxd(fault_stack)
        outage_start = time.monotonic()
        assert wait_for(lambda: read_spool_stats(collector.spool_dir).readings > 1000, 30), collector.tail()
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert health.status_code == 200 and health.json()["spooling"] is True  # spooling is healthy
        time.sleep(max(0.0, outage_s - (time.monotonic() - outage_start)))
        start_influxd(fault_stack)
        pub.finish()
        assert_exactly(db, sent)
        m = _metrics(port)
        assert m["terril_collector_points_spooled_total"] > 1000
        assert m["terril_collector_points_replayed_total"] == m["terril_collector_points_spooled_total"]
        assert wait_for(lambda: read_spool_stats(collector.spool_dir).records == 0, 10)
    finally:
        start_influxd(fault_stack) if not _influx_up(fault_stack) else None
        assert collector.stop() == 0, collector.tail()


def _influx_up(state) -> bool:  # noqa: ANN001
    try:
        return httpx.get(f"{state.influx_url}/ping", timeout=1).status_code == 204
    except httpx.HTTPError:
        return False


def test_mosquitto_restarted_mid_stream(fault_stack, db, tmp_path):
    messages, sent = stream()
    collector = CollectorProcess(fault_stack, tmp_path, db.database, "fault-broker").start()
    pub = StreamPublisher(fault_stack, messages, 2000).start()
    try:
        time.sleep(3)
        stop_mosquitto(fault_stack)
        time.sleep(2)
        start_mosquitto(fault_stack)
        pub.finish()
        assert_exactly(db, sent)
    finally:
        assert collector.stop() == 0, collector.tail()


def test_collector_sigkilled_mid_stream_and_restarted(fault_stack, db, tmp_path):
    messages, sent = stream()
    collector = CollectorProcess(fault_stack, tmp_path, db.database, "fault-kill").start()
    pub = StreamPublisher(fault_stack, messages, 2000).start()
    try:
        time.sleep(4)
        collector.kill()
        assert 0 < pub.sent < READINGS, "the kill must land mid-stream"
        time.sleep(2)
        collector.start()
        pub.finish()
        assert_exactly(db, sent)
    finally:
        assert collector.stop() == 0, collector.tail()


def test_share_group_member_sigkilled_others_take_over(fault_stack, db, tmp_path):
    messages, sent = stream()
    group = {"TERRIL_MQTT__SHARE_GROUP": "faults"}
    a = CollectorProcess(fault_stack, tmp_path, db.database, "fault-share-a", **group).start()
    b = CollectorProcess(fault_stack, tmp_path, db.database, "fault-share-b", **group).start()
    pub = StreamPublisher(fault_stack, messages, 2000).start()
    try:
        time.sleep(4)
        a.kill()
        assert 0 < pub.sent < READINGS
        pub.finish()
        assert_exactly(db, sent)  # a is never restarted: b took its share and its waiting session over
        assert "took over the session of fault-share-a" in b.tail()
    finally:
        assert b.stop() == 0, b.tail()


def test_spool_quota_reached_during_an_outage_stops_acks_and_loses_nothing(fault_stack, db, tmp_path):
    messages, sent = stream()
    port = free_port()
    quota = 300_000  # bytes: about 2,500 points, far less than the stream
    collector = CollectorProcess(fault_stack, tmp_path, db.database, "fault-quota",
                                 TERRIL_COLLECTOR__SPOOL_MAX_BYTES=str(quota),
                                 TERRIL_COLLECTOR__SPOOL_SEGMENT_BYTES="65536",
                                 TERRIL_COLLECTOR__METRICS_PORT=str(port)).start()
    pub = StreamPublisher(fault_stack, messages, 4000)
    try:
        stop_influxd(fault_stack)
        pub.start()
        assert wait_for(lambda: _metrics(port).get("terril_collector_spool_full_total", 0) >= 1, 30), collector.tail()
        time.sleep(2)
        m = _metrics(port)
        assert m["terril_collector_spool_bytes"] <= quota
        assert m["terril_collector_acks_pending"] > 0  # holding: the broker keeps the rest
        acked = m["terril_collector_messages_acked_total"]
        time.sleep(2)
        assert _metrics(port)["terril_collector_messages_acked_total"] == acked  # no acks while full
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 503
        start_influxd(fault_stack)
        pub.finish()
        assert_exactly(db, sent)
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    finally:
        start_influxd(fault_stack) if not _influx_up(fault_stack) else None
        assert collector.stop() == 0, collector.tail()
