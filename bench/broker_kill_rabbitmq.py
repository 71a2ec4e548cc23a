"""Broker hard-kill benchmark, RabbitMQ edition: the same measure as ``bench/broker_kill.py``.

RabbitMQ (Debian 12: 3.10.8, with its ``rabbitmq_mqtt`` plugin) stores QoS 1 messages for a
persistent MQTT session in a durable queue and, with publisher confirms, acknowledges (PUBACK)
a message once the queue has it — on disk for a persistent message. Its MQTT plugin speaks MQTT
3.1.1 only (no MQTT 5 before RabbitMQ 3.13), so this measures the broker, not Terril's
collector against it: a persistent session (clean session off, QoS 1 on ``terril/#``) is made
and left offline, ``--messages`` QoS 1 messages are published as fast as the broker
acknowledges them, the broker is SIGKILLed (its whole process group, which this script
started) once all were acknowledged or once half were (``--kill mid``), started again on the
same data, and the session is drained: every acknowledged message that does not come out is lost.

A private node (own name, ports, data folder, Erlang cookie) is started for the run and
stopped at the end; a RabbitMQ already running on the machine is left alone.

Usage: ``python bench/broker_kill_rabbitmq.py [--messages N] [--kill at-end|mid]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from terril.stack import free_port  # noqa: E402

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
USER, PASSWORD = "bench", "bench-" + uuid.uuid4().hex[:12]


class Node:
    """A private RabbitMQ node as a child process (its own session, so that it is killed whole)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.mqtt_port = free_port()
        amqp, dist = free_port(), free_port()
        (folder / "log").mkdir(parents=True, exist_ok=True)
        (folder / "enabled_plugins").write_text("[rabbitmq_mqtt].\n")
        (folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{amqp}\nmqtt.listeners.tcp.default = 127.0.0.1:{self.mqtt_port}\n"
            f"mqtt.allow_anonymous = false\ndefault_user = {USER}\ndefault_pass = {PASSWORD}\n"
            "loopback_users = none\n")
        self.env = dict(os.environ, HOME=str(folder), RABBITMQ_NODENAME=f"terrilbench{os.getpid()}@localhost",
                        RABBITMQ_NODE_PORT=str(amqp), RABBITMQ_DIST_PORT=str(dist),
                        RABBITMQ_MNESIA_BASE=str(folder / "mnesia"), RABBITMQ_LOG_BASE=str(folder / "log"),
                        RABBITMQ_ENABLED_PLUGINS_FILE=str(folder / "enabled_plugins"),
                        RABBITMQ_CONFIG_FILE=str(folder / "rabbitmq.conf"), RABBITMQ_PID_FILE=str(folder / "pid"))
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120) -> None:
        with open(self.folder / "log" / "stdout.log", "ab") as out:
            self.proc = subprocess.Popen([SERVER], env=self.env, cwd=self.folder, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"RabbitMQ exited; see {self.folder / 'log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.mqtt_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.25)
        raise SystemExit("RabbitMQ did not open its MQTT port in time")

    def kill(self) -> None:
        """SIGKILL the node's process group (the ones this script started) and reap it."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        time.sleep(0.5)


def _client(port: int, client_id: str, clean: bool) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                    clean_session=clean)
    c.username_pw_set(USER, PASSWORD)
    return c


def _session(port: int, on_message=None) -> mqtt.Client:  # noqa: ANN001
    c = _client(port, "bench-collector", clean=False)
    done = threading.Event()
    c.on_subscribe = lambda *a, **k: done.set()
    c.on_connect = lambda cl, *a, **k: cl.subscribe("terril/#", qos=1)
    if on_message:
        c.on_message = on_message
    c.connect("127.0.0.1", port)
    c.loop_start()
    if not done.wait(30):
        raise SystemExit("no SUBACK from RabbitMQ")
    return c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--kill", choices=("at-end", "mid"), default="at-end")
    args = parser.parse_args()
    if not Path(SERVER).exists():
        raise SystemExit(f"{SERVER} not found: apt-get install rabbitmq-server")
    n = args.messages
    assert n < 65_535, "paho message ids must not wrap: they name the messages here"
    tmp = Path(tempfile.mkdtemp(prefix="terril-rabbit-"))
    node = Node(tmp)
    try:
        node.start()
        s = _session(node.mqtt_port)
        s.disconnect()
        s.loop_stop()
        acked_mids: set[int] = set()
        mids: list[int] = []
        pub = _client(node.mqtt_port, f"bench-pub-{uuid.uuid4().hex[:6]}", clean=True)
        pub.max_inflight_messages_set(200)
        pub.max_queued_messages_set(0)
        pub.on_publish = lambda c, u, mid, rc=None, props=None: acked_mids.add(mid)
        pub.connect("127.0.0.1", node.mqtt_port)
        pub.loop_start()
        t0 = time.monotonic()
        for i in range(n):
            mids.append(pub.publish(f"terril/site-00/dev-{i % 50:02d}/telemetry", b'{"seq": %d}' % i, qos=1).mid)
        killed = False
        deadline = time.monotonic() + 600
        while len(acked_mids) < n and time.monotonic() < deadline:
            if args.kill == "mid" and len(acked_mids) >= n // 2:
                node.kill()
                killed = True
                break
            time.sleep(0.001)
        elapsed = time.monotonic() - t0
        if not killed:
            node.kill()
        pub.loop_stop()
        acked = {i for i, mid in enumerate(mids) if mid in acked_mids}
        node.start()
        got: set[int] = set()
        quiet = [time.monotonic()]

        def on_message(c, u, m):  # noqa: ANN001
            got.add(int(m.payload.split(b":")[1].strip(b" }")))
            quiet[0] = time.monotonic()

        s = _session(node.mqtt_port, on_message)
        while time.monotonic() - quiet[0] < 3.0:
            time.sleep(0.1)
        s.disconnect()
        s.loop_stop()
        rate = f"{len(acked) / elapsed:.0f}" if not killed else "n/a"
        print(f"RabbitMQ 3.10 (MQTT 3.1.1), {n} QoS 1 messages, backlog, kill {args.kill}: "
              f"acked {len(acked)}, lost {len(acked - got)}, PUBACK rate {rate} msg/s, {elapsed:.1f} s")
    except BaseException:
        print(f"logs kept in {tmp / 'log'}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if node.proc is not None and node.proc.poll() is None:
            node.kill()


if __name__ == "__main__":
    main()
