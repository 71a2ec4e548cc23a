"""Broker hard-kill benchmark: what Mosquitto loses when SIGKILLed, and what its persistence costs.

Starts its own local stack in a temporary folder. For each persistence setting given (the
``autosave_*`` lines of ``mosquitto.conf``), on a fresh broker:

1. a persistent session (the collector's: clean start off, session expiry, QoS 1 subscription
   to ``terril/#``) is created, then disconnected, so that the broker queues for it;
2. a publisher sends ``--messages`` QoS 1 messages as fast as the broker takes them
   (``--rate 0``) or at a fixed rate; the rate at which the broker acknowledges them (PUBACK)
   is the cost figure;
3. Mosquitto is SIGKILLed: ``--kill at-end`` once every message was acknowledged, or
   ``--kill mid`` when half of them were;
4. Mosquitto is started again on the same data, the session reconnected and drained: every
   message acknowledged to the publisher that does not come out is **lost**.

Usage::

    python bench/broker_kill.py [--messages N] [--rate R] [--kill at-end|mid] [--setting S ...]

A setting is ``interval:N`` (``autosave_interval N``: a full save every N seconds) or
``changes:N`` (``autosave_on_changes true`` + ``autosave_interval N``: a full save every N
changes). Default: the stack's own setting, then a few others.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from terril.stack import (  # noqa: E402
    MOSQUITTO_AUTOSAVE,
    kill_mosquitto,
    stack_down,
    stack_up,
    start_mosquitto,
)

SESSION_ID = "bench-collector"


def autosave_lines(setting: str) -> list[str]:
    """``interval:N`` or ``changes:N`` -> the mosquitto.conf lines."""
    kind, _, n = setting.partition(":")
    if kind == "interval":
        return [f"autosave_interval {int(n)}"]
    if kind == "changes":
        return ["autosave_on_changes true", f"autosave_interval {int(n)}"]
    raise SystemExit(f"bad setting {setting!r}: use interval:N or changes:N")


def set_autosave(conf: Path, lines: list[str]) -> None:
    text = re.sub(r"^autosave_\w+ .*\n", "", conf.read_text(encoding="utf-8"), flags=re.M)
    conf.write_text(text.replace("persistence true\n", "persistence true\n" + "\n".join(lines) + "\n"),
                    encoding="utf-8")


def _client(state, role: str, client_id: str) -> mqtt.Client:  # noqa: ANN001
    user, password = state.mqtt_credentials(role)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.username_pw_set(user, password)
    return c


def _session(state, on_message=None) -> mqtt.Client:  # noqa: ANN001
    """Connect the persistent session (QoS 1 on terril/#) and wait for its SUBACK."""
    c = _client(state, "collector", SESSION_ID)
    done = threading.Event()
    c.on_subscribe = lambda *a, **k: done.set()
    c.on_connect = lambda cl, *a, **k: cl.subscribe("terril/#", qos=1)
    if on_message:
        c.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    c.connect("127.0.0.1", state.mqtt_port, clean_start=False, properties=props)
    c.loop_start()
    if not done.wait(60):
        raise SystemExit("no SUBACK from the broker")
    return c


def run(state, setting: str, n: int, rate: float, kill: str, consumer: bool) -> dict[str, float]:  # noqa: ANN001
    set_autosave(state.mosquitto_conf, autosave_lines(setting))
    kill_mosquitto(state)
    for f in (state.mosquitto_dir / "data").glob("*"):
        f.unlink()
    start_mosquitto(state)
    got: set[int] = set()
    quiet = [time.monotonic()]

    def on_message(c, u, m):  # noqa: ANN001
        got.add(int(m.payload.split(b":")[1].strip(b" }")))
        quiet[0] = time.monotonic()

    s = _session(state, on_message)
    if not consumer:
        s.disconnect()
        s.loop_stop()

    acked_mids: set[int] = set()  # paho numbers messages 1, 2, 3...: unique below 65,535 messages
    mids: list[int] = []
    pub = _client(state, "simulator", f"bench-pub-{uuid.uuid4().hex[:6]}")
    pub.max_inflight_messages_set(200)
    pub.max_queued_messages_set(0)
    # no lock of ours around publish(): paho calls on_publish under its own lock
    pub.on_publish = lambda c, u, mid, rc=None, props=None: acked_mids.add(mid)
    pub.connect("127.0.0.1", state.mqtt_port)
    pub.loop_start()
    killed = threading.Event()
    t0 = time.monotonic()
    for i in range(n):
        if rate > 0:
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if kill == "mid" and len(acked_mids) >= n // 2:
            kill_mosquitto(state)
            killed.set()
            break
        mids.append(pub.publish(f"terril/site-00/dev-{i % 50:02d}/telemetry", b'{"seq": %d}' % i, qos=1).mid)
    deadline = time.monotonic() + 600
    while not killed.is_set() and len(acked_mids) < n and time.monotonic() < deadline:
        if kill == "mid" and len(acked_mids) >= n // 2:
            kill_mosquitto(state)
            killed.set()
        time.sleep(0.001)
    elapsed = time.monotonic() - t0
    acked = {i for i, mid in enumerate(mids) if mid in acked_mids}
    acked_n = len(acked)
    if not killed.is_set():
        kill_mosquitto(state)
    pub.loop_stop()
    if consumer:
        s.loop_stop()
    start_mosquitto(state)
    s = _session(state, on_message)
    while time.monotonic() - quiet[0] < 2.0:
        time.sleep(0.1)
    s.disconnect()
    s.loop_stop()
    lost = len(acked - got)
    return {"acked": acked_n, "lost": lost, "rate": acked_n / elapsed if not killed.is_set() else float("nan"),
            "seconds": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=0.0, help="messages/s (0: as fast as the broker acks)")
    parser.add_argument("--kill", choices=("at-end", "mid"), default="at-end")
    parser.add_argument("--setting", action="append", help="interval:N or changes:N (repeatable)")
    parser.add_argument("--consumer", action="store_true",
                        help="the session stays connected and consumes (no backlog) instead of being offline")
    args = parser.parse_args()
    default = "changes:" + MOSQUITTO_AUTOSAVE[1].split()[1] if len(MOSQUITTO_AUTOSAVE) == 2 \
        else "interval:" + MOSQUITTO_AUTOSAVE[0].split()[1]
    settings = args.setting or list(dict.fromkeys([default, "interval:30", "changes:1000", "changes:100"]))
    with tempfile.TemporaryDirectory(prefix="terril-broker-kill-") as tmp:
        state, _ = stack_up(Path(tmp) / "stack")
        try:
            print(f"{args.messages} QoS 1 messages, {'consumer connected' if args.consumer else 'backlog'}, "
                  f"kill {args.kill}, rate "
                  f"{'max' if args.rate <= 0 else f'{args.rate:g}/s'}")
            print(f"{'setting':<14} {'acked':>7} {'lost':>6} {'PUBACK rate /s':>15} {'seconds':>8}")
            for setting in settings:
                r = run(state, setting, args.messages, args.rate, args.kill, args.consumer)
                print(f"{setting:<14} {r['acked']:>7.0f} {r['lost']:>6.0f} {r['rate']:>15.0f} {r['seconds']:>8.1f}",
                      flush=True)
        finally:
            stack_down(Path(tmp) / "stack")


if __name__ == "__main__":
    main()
