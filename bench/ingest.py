"""Ingest benchmark: MQTT -> collector -> InfluxDB, against a bare paho-mqtt subscriber on the same stream.

Starts its own local stack in a temporary folder, then, in one run on this machine:

1. baseline: a bare paho-mqtt subscriber (QoS 1, automatic acks) receives N native messages
   published by a separate process; rate = N / (last receive - first receive);
2. Terril: the collector (QoS 1, persistent session, acks only after InfluxDB accepted the
   points) receives the same N messages from the same publisher; rate = N / (last message
   stored and acknowledged - first receive), and the points in InfluxDB are counted.

Prints both rates and their ratio. Usage: ``python bench/ingest.py [--messages N] [--devices D]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

T0 = 1_767_222_000  # 2026-01-01T00:00:00+01:00


def messages(n: int, devices: int):
    """The benchmark stream: device k publishes a native counter reading every 15 minutes."""
    for i in range(n):
        d = i % devices
        k = i // devices
        topic = f"terril/site-{d // 10:02d}/site-{d // 10:02d}-d{d % 10:02d}/telemetry"
        yield topic, orjson.dumps({"time": T0 + k * 900, "energy_import_wh": 1_000_000 + 250.5 * k, "power_w": 1002.0})


def publish(port: int, user: str, password_file: str, n: int, devices: int) -> None:
    """Child-process publisher: QoS 1 as fast as the broker takes it."""
    from firmware_sim.publisher import Publisher
    from terril.endpoints import MqttEndpoint

    pub = Publisher(MqttEndpoint("127.0.0.1", port, user, Path(password_file).read_text().strip()),
                    max_inflight=200)
    pub.connect()
    for topic, payload in messages(n, devices):
        pub.publish(topic, payload)
    pub.wait_all_acked(n, timeout_s=600)
    pub.close()


def _start_publisher(state, n: int, devices: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--publish", str(state.mqtt_port), "terril-simulator",
                             str(state.secret_file("simulator")), str(n), str(devices)])


def bare_subscriber_rate(state, n: int, devices: int) -> float:
    import paho.mqtt.client as mqtt

    user, password = state.mqtt_credentials("collector")
    got = {"n": 0, "first": 0.0, "last": 0.0}
    done = threading.Event()
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)

    def on_message(c, u, m):  # noqa: ANN001
        now = time.perf_counter()
        if got["n"] == 0:
            got["first"] = now
        got["n"] += 1
        got["last"] = now
        if got["n"] >= n:
            done.set()

    client.on_message = on_message
    client.on_subscribe = lambda *a, **k: subscribed.set()
    client.on_connect = lambda c, *a, **k: c.subscribe("terril/+/+/telemetry", qos=1)
    client.connect("127.0.0.1", state.mqtt_port)
    client.loop_start()
    subscribed.wait(10)
    pub = _start_publisher(state, n, devices)
    done.wait(600)
    pub.wait()
    client.disconnect()
    client.loop_stop()
    return got["n"] / (got["last"] - got["first"])


def collector_rate(state, n: int, devices: int) -> tuple[float, int]:
    from helpers import count_points, make_registry, start_collector
    from terril.influx import InfluxClient

    registry = make_registry(n_sites=(devices + 9) // 10, devices_per_site=10)
    influx = InfluxClient(state.influx_url, "bench")
    influx.create_database()
    collector = start_collector(state, registry, influx)
    pub = _start_publisher(state, n, devices)
    first = None
    while collector.stats.messages_acked < n:
        if first is None and collector.stats.messages_received > 0:
            first = time.perf_counter()
        time.sleep(0.002)
    end = time.perf_counter()
    pub.wait()
    collector.stop()
    return n / (end - (first or end)), count_points(influx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--publish", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        port, user, pw, n, devices = args.publish
        publish(int(port), user, pw, int(n), int(devices))
        return
    from terril.stack import stack_down, stack_up

    with tempfile.TemporaryDirectory(prefix="terril-bench-") as tmp:
        state, _ = stack_up(tmp)
        try:
            n, d = args.messages, args.devices
            print(f"ingest benchmark: {n} native messages (1 point each) from {d} devices, QoS 1, same machine")
            bare = bare_subscriber_rate(state, n, d)
            terril, stored = collector_rate(state, n, d)
        finally:
            stack_down(tmp)
    print(f"{'bare paho-mqtt subscriber (receive only)':<48} {bare:>10,.0f} msg/s")
    print(f"{'terril collector (decode, write, durable ack)':<48} {terril:>10,.0f} msg/s")
    print(f"{'ratio terril / bare':<48} {terril / bare:>10.2f}")
    print(f"{'points stored / published':<48} {stored:>10,} / {n:,}")
    if stored != n:
        sys.exit(1)


if __name__ == "__main__":
    main()
