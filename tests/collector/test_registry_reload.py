"""Live registry reload: SIGHUP and file changes under a 2,000 msg/s stream, with exact counts.

``terril collect`` runs as a real process on a stack of the test's own. While 20 native
devices stream at 2,000 messages per second, the registry file gains a device and SIGHUP
reloads it (and the broker's ACL with it); then a broken file is refused (the previous registry
stays in force); then the good file comes back. Every message sent must be stored exactly once, the new device's too,
and nothing quarantined.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import orjson
import pytest

from firmware_sim.publisher import Publisher
from helpers import count_points, endpoint, wait_for
from terril.influx import InfluxClient

pytestmark = pytest.mark.integration

N_DEVICES = 20
RATE_MSG_S = 2000
STREAM_S = 3.0
T0_S = 1_767_222_000  # 2026-01-01T00:00:00+01:00


def _registry(extra: bool) -> str:
    lines = ['# reload test registry', '[[sites]]', 'id = "s"', 'name = "S"', 'kind = "school"',
             'latitude = 50.46', 'longitude = 2.79', '']
    ids = [f"d{i:02d}" for i in range(N_DEVICES)] + (["late"] if extra else [])
    for d in ids:
        lines += ['[[meters]]', f'id = "m-{d}"', 'site = "s"', 'carrier = "electricity"', '']
    for d in ids:
        lines += ['[[devices]]', f'id = "{d}"', 'site = "s"', 'format = "native"',
                  f'channels = [{{ channel = "main", meter = "m-{d}" }}]', '']
    return "\n".join(lines)


def _write(path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # as editors and `terril ... add` do: readers see the old or the new file


def test_sighup_reload_under_a_2000_msg_s_stream_loses_and_doubles_nothing(private_stack, tmp_path):
    registry = tmp_path / "registry.toml"
    _write(registry, _registry(extra=False))
    env = dict(os.environ, TERRIL_DATA_DIR=private_stack.data_dir)
    env.pop("TERRIL_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "terril.cli", "collect", "--registry", str(registry)],
                            env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    influx = InfluxClient(private_stack.influx_url, private_stack.database)
    publisher = Publisher(endpoint(private_stack, "simulator"))
    sent = 0
    try:
        assert wait_for(lambda: any("Collecte pour" in ln for ln in log), 30), log  # the town speaks French
        time.sleep(0.5)  # SUBACKs
        publisher.connect()
        start = time.monotonic()
        total = int(RATE_MSG_S * STREAM_S)
        late_from = None
        for k in range(total):
            elapsed = k / RATE_MSG_S
            due = start + elapsed
            if due > time.monotonic():
                time.sleep(max(0.0, due - time.monotonic()))
            if k == int(total * 0.2):  # a device is added, and SIGHUP
                _write(registry, _registry(extra=True))
                proc.send_signal(signal.SIGHUP)
            if k == int(total * 0.5):  # a broken file: refused, the previous registry stays
                _write(registry, _registry(extra=True).replace('kind = "school"', 'kind = "castle"'))
                proc.send_signal(signal.SIGHUP)
            if k == int(total * 0.7):  # the good file again
                _write(registry, _registry(extra=True))
                proc.send_signal(signal.SIGHUP)
            if late_from is None and any("reloaded:" in ln for ln in log):
                late_from = k
            device = "late" if late_from is not None and k % 10 == 0 else f"d{k % N_DEVICES:02d}"
            payload = orjson.dumps({"time": T0_S + k, "energy_import_wh": float(k)})
            publisher.publish(f"terril/s/{device}/telemetry", payload)
            sent += 1
        rate = total / (time.monotonic() - start)
        assert publisher.wait_all_acked(sent, 60)
        assert late_from is not None and late_from < total * 0.5, "the added device was not reloaded in time"
        assert wait_for(lambda: count_points(influx) >= sent, 60)
    finally:
        publisher.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        reader.join(5)
    points = count_points(influx)
    quarantined = influx.query('SELECT count("reason") FROM quarantine')
    late = influx.query("SELECT count(\"energy_import_wh\") FROM reading WHERE \"meter\" = 'm-late'")
    influx.close()
    print(f"stream: {sent} messages at {rate:.0f} msg/s; stored {points}; "
          f"reloads {sum('reloaded:' in ln for ln in log)}, refused {sum('refused' in ln for ln in log)}")
    assert proc.returncode == 0, log[-20:]
    assert points == sent  # none lost, none written twice (each message is its own (meter, time) point)
    assert not quarantined
    assert int(late[0].values[0][1]) == len(range(late_from + (-late_from % 10), sent, 10))
    assert sum("reloaded:" in ln for ln in log) == 2  # the device added, then the good file back
    assert sum("refused" in ln for ln in log) == 1
    # the devices changed once (the bad file and the same file again change nothing): the broker follows once
    assert sum("broker ACL regenerated, Mosquitto reloaded" in ln for ln in log) == 1, log
    assert any("sites[0] (id 's').kind" in ln for ln in log)  # the refusal names the problem
