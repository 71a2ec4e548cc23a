"""Ingest benchmark: MQTT -> collector -> InfluxDB, against a bare paho-mqtt subscriber on the same stream.

Starts its own local stack in a temporary folder, then, in one run on this machine:

1. baseline: a bare paho-mqtt subscriber (QoS 1, automatic acks) receives N native messages
   published by a separate process; rate = N / (last receive - first receive);
2. Terril: the collector (QoS 1, persistent session, acks only after InfluxDB accepted the
   points) receives the same N messages from the same publisher; rate = N / (last message
   stored and acknowledged - first receive), and the points in InfluxDB are counted.

Prints both rates and their ratio, and the CPU per message of each one's network thread
(read from /proc: the steadier figure when other work shares the machine), then:

3. latency: a steady 2,000 readings/s (1,000 messages/s of 2 readings) for ``--latency-s``
   seconds; a poller counts the points InfluxDB returns every 20 ms, and since messages are
   stored in order, the k-th point became queryable when the count passed k: its latency is
   that instant minus its publish instant (p50, p99);
4. spool: ``terril collect`` as a child process, InfluxDB stopped, ``--backlog`` readings
   published and spooled (durable acks), the child's peak RSS (VmHWM) read from /proc; then
   InfluxDB restarted and the time to drain the spool measured: catch-up rate, as a multiple
   of the rate at which the same collector took the readings in.

Usage: ``python bench/ingest.py [--messages N] [--devices D] [--latency-s S] [--backlog R]``.
"""

from __future__ import annotations

import argparse
import os
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


def _thread_cpu_s(name: str) -> float:
    """CPU time [s] used so far by this process's thread called ``name`` (Linux /proc); NaN when absent."""
    for t in threading.enumerate():
        if t.name == name and t.native_id is not None:
            fields = Path(f"/proc/self/task/{t.native_id}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return float("nan")


def bare_subscriber_rate(state, n: int, devices: int) -> tuple[float, float]:
    """(messages/s, CPU of the network thread per message [µs])."""
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
    thread = "paho-mqtt-client-bench-bare"  # paho's network thread: receive, parse, ack
    cpu0 = _thread_cpu_s(thread)
    pub = _start_publisher(state, n, devices)
    done.wait(600)
    cpu_us = (_thread_cpu_s(thread) - cpu0) / n * 1e6
    pub.wait()
    client.disconnect()
    client.loop_stop()
    return got["n"] / (got["last"] - got["first"]), cpu_us


def collector_rate(state, n: int, devices: int) -> tuple[float, int, float]:
    """(messages/s, points stored, CPU of the network thread per message [µs])."""
    from helpers import count_points, make_registry, start_collector
    from terril.influx import InfluxClient

    registry = make_registry(n_sites=(devices + 9) // 10, devices_per_site=10)
    influx = InfluxClient(state.influx_url, "bench")
    influx.create_database()
    collector = start_collector(state, registry, influx)
    thread = f"paho-mqtt-client-{collector.client_id}"  # receive, parse, decode, map, check, format, queue the ack
    cpu0 = _thread_cpu_s(thread)
    pub = _start_publisher(state, n, devices)
    first = None
    while collector.stats.messages_acked < n:
        if first is None and collector.stats.messages_received > 0:
            first = time.perf_counter()
        time.sleep(0.002)
    end = time.perf_counter()
    cpu_us = (_thread_cpu_s(thread) - cpu0) / n * 1e6
    pub.wait()
    collector.stop()
    return n / (end - (first or end)), count_points(influx), cpu_us


READINGS_PER_MESSAGE = 2  # energy_import_wh and power_w


def latency(state, seconds: float, devices: int, readings_per_s: float = 2000.0) -> tuple[float, float, int, int]:
    """Publish-to-queryable latency at a steady rate: (p50 [s], p99 [s], published, stored)."""
    import numpy as np

    from firmware_sim.publisher import Publisher
    from helpers import count_points, make_registry, start_collector
    from terril.endpoints import MqttEndpoint
    from terril.influx import InfluxClient

    registry = make_registry(n_sites=(devices + 9) // 10, devices_per_site=10)
    influx = InfluxClient(state.influx_url, "bench_latency")
    influx.create_database()
    collector = start_collector(state, registry, influx)
    user, password = state.mqtt_credentials("simulator")
    pub = Publisher(MqttEndpoint("127.0.0.1", state.mqtt_port, user, password))
    pub.connect()
    rate = readings_per_s / READINGS_PER_MESSAGE
    n = int(seconds * rate)
    published = np.zeros(n)
    stream = list(messages(n, devices))

    def run() -> None:
        start = time.perf_counter()
        for i, (topic, payload) in enumerate(stream):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            published[i] = time.perf_counter()
            pub.publish(topic, payload)

    thread = threading.Thread(target=run)
    thread.start()
    queryable = np.full(n, np.nan)
    seen = 0
    deadline = time.perf_counter() + seconds + 30
    poll = InfluxClient(state.influx_url, "bench_latency")
    while seen < n and time.perf_counter() < deadline:
        series = poll.query('SELECT count("power_w") FROM reading')
        now = time.perf_counter()
        count = int(series[0].values[0][1]) if series else 0
        if count > seen:
            queryable[seen:count] = now
            seen = count
        time.sleep(0.02)
    thread.join()
    pub.close()
    collector.stop()
    lat = queryable[:seen] - published[:seen]
    return float(np.percentile(lat, 50)), float(np.percentile(lat, 99)), n, count_points(influx)


def registry_toml(registry) -> str:  # noqa: ANN001
    """The benchmark registry as a TOML file, for ``terril collect`` in a child process."""
    out = ['[town]\nname = "Benchville"\ntimezone = "Europe/Paris"\nlatitude = 50.46\nlongitude = 2.79\n']
    for s in registry.sites:
        out.append(f'[[sites]]\nid = "{s.id}"\nname = "{s.name}"\nkind = "school"\nfloor_area_m2 = 1000\n'
                   "latitude = 50.46\nlongitude = 2.79\n")
    for m in registry.meters:
        out.append(f'[[meters]]\nid = "{m.id}"\nsite = "{m.site}"\ncarrier = "electricity"\n')
    for d in registry.devices:
        out.append(f'[[devices]]\nid = "{d.id}"\nsite = "{d.site}"\nformat = "native"\n'
                   f'[[devices.channels]]\nchannel = "main"\nmeter = "{d.channels[0].meter}"\n')
    return "\n".join(out)


def _metrics(port: int) -> dict[str, float]:
    import httpx

    out = {}
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return out
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def spool_backlog(state, tmp: str, readings: int, devices: int) -> dict[str, float]:
    """Spool ``readings`` during an InfluxDB outage in a child collector; then time the catch-up."""
    from helpers import count_points, make_registry, wait_for
    from terril.influx import InfluxClient
    from terril.stack import free_port, start_influxd, stop_influxd

    registry = make_registry(n_sites=(devices + 9) // 10, devices_per_site=10)
    reg_file = Path(tmp) / "bench-registry.toml"
    reg_file.write_text(registry_toml(registry), encoding="utf-8")
    n = readings // READINGS_PER_MESSAGE
    port = free_port()
    InfluxClient(state.influx_url, "bench_spool").create_database()  # the collector's account only writes
    env = dict(os.environ, TERRIL_DATA_DIR=state.data_dir, TERRIL_REGISTRY=str(reg_file),
               TERRIL_INFLUX__DATABASE="bench_spool", TERRIL_MQTT__CLIENT_ID="bench-spool",
               TERRIL_COLLECTOR__METRICS_PORT=str(port), TERRIL_COLLECTOR__RETRY_MAX_S="1")
    for key in ("TERRIL_CONFIG", "TERRIL_INFLUX__URL", "TERRIL_MQTT__URL"):
        env.pop(key, None)
    child = subprocess.Popen([sys.executable, "-m", "terril.cli", "collect"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=open(Path(tmp) / "bench-collector.log", "wb"))
    try:
        assert wait_for(lambda: _metrics(port).get("terril_collector_connected") == 1.0, 30), "collector not up"
        stop_influxd(state)
        pub = _start_publisher(state, n, devices)
        first = None
        deadline = time.perf_counter() + 900
        while True:
            m = _metrics(port)
            if first is None and m.get("terril_collector_messages_received_total", 0) > 0:
                first = time.perf_counter()
            if m.get("terril_collector_points_spooled_total", 0) >= n:
                break
            if child.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"the collector stopped or stalled; see {Path(tmp) / 'bench-collector.log'}")
            time.sleep(0.05)
        spooled_at = time.perf_counter()
        pub.wait()
        ingest = readings / (spooled_at - (first or spooled_at))
        rss_mb = _vm_hwm_mb(child.pid)
        depth = _metrics(port)
        start_influxd(state)
        back = time.perf_counter()
        while _metrics(port).get("terril_collector_spool_depth_points", 1) > 0:
            if child.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"the collector stopped or stalled; see {Path(tmp) / 'bench-collector.log'}")
            time.sleep(0.02)
        drained = time.perf_counter()
        influx = InfluxClient(state.influx_url, "bench_spool")
        stored = count_points(influx)
        rss_mb = max(rss_mb, _vm_hwm_mb(child.pid))
    finally:
        child.terminate()
        child.wait(60)
    catch_up = readings / (drained - back)
    return {"ingest": ingest, "rss_mb": rss_mb, "catch_up": catch_up, "stored": stored, "published": n,
            "spool_mb": depth.get("terril_collector_spool_bytes", 0) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--latency-s", type=float, default=20.0, help="length of the steady-rate latency run [s]")
    parser.add_argument("--backlog", type=int, default=1_000_000, help="readings spooled during the outage")
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
            bare, bare_cpu_us = bare_subscriber_rate(state, n, d)
            terril, stored, terril_cpu_us = collector_rate(state, n, d)
            p50, p99, lat_n, lat_stored = latency(state, args.latency_s, d)
            spool = spool_backlog(state, tmp, args.backlog, d)
        finally:
            stack_down(tmp)
    print(f"{'bare paho-mqtt subscriber (receive only)':<48} {bare:>10,.0f} msg/s")
    print(f"{'terril collector (decode, write, durable ack)':<48} {terril:>10,.0f} msg/s")
    print(f"{'ratio terril / bare':<48} {terril / bare:>10.2f}")
    print(f"{'CPU per message, network thread: bare':<48} {bare_cpu_us:>10.0f} µs")
    print(f"{'CPU per message, network thread: terril':<48} {terril_cpu_us:>10.0f} µs   (the steadier figure on a "
          "busy machine)")
    print(f"{'points stored / published':<48} {stored:>10,} / {n:,}")
    print(f"{'terril end to end, readings/s (2 per message)':<48} {terril * READINGS_PER_MESSAGE:>10,.0f} readings/s")
    print(f"{'publish-to-queryable p50 at 2,000 readings/s':<48} {p50:>10.3f} s")
    print(f"{'publish-to-queryable p99 at 2,000 readings/s':<48} {p99:>10.3f} s   (target < 2 s)")
    print(f"{'  points stored / published (latency run)':<48} {lat_stored:>10,} / {lat_n:,}")
    print(f"{'spool: readings spooled during the outage':<48} {args.backlog:>10,}   ({spool['spool_mb']:.0f} MB on disk)")
    print(f"{'spool: ingest rate while spooling':<48} {spool['ingest']:>10,.0f} readings/s")
    print(f"{'spool: peak RSS of the collector process':<48} {spool['rss_mb']:>10.0f} MB   (target < 300 MB)")
    print(f"{'spool: catch-up rate once InfluxDB is back':<48} {spool['catch_up']:>10,.0f} readings/s")
    print(f"{'catch-up / spooling ingest rate':<48} {spool['catch_up'] / spool['ingest']:>10.1f} x   (target >= 2)")
    print(f"{'catch-up / end-to-end ingest rate':<48} "
          f"{spool['catch_up'] / (terril * READINGS_PER_MESSAGE):>10.1f} x")
    print(f"{'  points stored / published (spool run)':<48} {int(spool['stored']):>10,} / {int(spool['published']):,}")
    if stored != n or lat_stored != lat_n or spool["stored"] != spool["published"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
