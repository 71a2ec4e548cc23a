"""A one-year backfill of the demo fleet with the demo fault scenario, through the real broker into InfluxDB.

Runs the commands a town would run — ``terril collect`` and ``terril simulate --start … --end …
--scenario … --truth …`` — as processes against a stack of its own, then checks that the run
completed, that the ground truth lists every fault of the scenario, and that InfluxDB holds
exactly the points the simulator announced, over the whole year. An hourly step keeps it near a
minute (the 15-minute year is measured in docs/simulator.md). The fleet is cut to the devices the
scenario's faults are on (10 of 53 devices, on 9 sites): the others add messages, not cases.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from terril.influx import InfluxClient
from terril.registry import DEMO_REGISTRY_PATH, load_registry
from terril.stack import stack_down, stack_up
from terril.timeutil import parse_time_arg
from tests.analytics.pv.pv_helpers import to_toml
from tests.helpers import count_points, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "firmware_sim" / "scenarios" / "demo-faults.toml"
STEP_S = 3600


def _query_time_ns(client: InfluxClient, selector: str) -> int:
    series = client.query(f'SELECT {selector}("received_ns") FROM "reading"')
    return int(series[0].values[0][0])


def _scenario_registry(path: Path) -> int:
    """Write the demo registry cut to the devices of the scenario's faults to ``path``; its device count.

    A device is kept when it feeds a faulty meter or is faulty itself, with every meter it feeds
    and its site; the PV arrays, measures and planned roofs left refer only to what is kept.
    """
    full = load_registry()
    meters: set[str] = set()
    devices: set[str] = set()
    for f in tomllib.loads(SCENARIO.read_text(encoding="utf-8"))["faults"]:
        if "meter" in f:
            meters.add(f["meter"])
        if "device" in f:
            devices.add(f["device"])
    devices |= {d.id for d in full.devices if any(ch.meter in meters for ch in d.channels)}
    meters |= {ch.meter for d in full.devices if d.id in devices for ch in d.channels}
    sites = {full.meter_by_id[m].site for m in meters}
    data = tomllib.loads(DEMO_REGISTRY_PATH.read_text(encoding="utf-8"))
    data["sites"] = [e for e in data["sites"] if e["id"] in sites]
    data["meters"] = [e for e in data["meters"] if e["id"] in meters]
    data["devices"] = [e for e in data["devices"] if e["id"] in devices]
    data["pv_arrays"] = [e for e in data.get("pv_arrays", []) if e["meter"] in meters]
    data["measures"] = [e for e in data.get("measures", []) if set(e.get("meters", ())) <= meters
                        and e["site"] in sites]
    data["planned_roofs"] = [e for e in data.get("planned_roofs", []) if e["site"] in sites]
    path.write_text(to_toml(data), encoding="utf-8")
    return len(load_registry(path).devices)


def test_one_year_backfill_with_faults(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    registry_path = tmp_path / "registry.toml"
    n_devices = _scenario_registry(registry_path)
    state, _ = stack_up(data_dir, registry_path=registry_path)
    env = dict(os.environ, TERRIL_DATA_DIR=str(data_dir), COLUMNS="250", TERRIL_REGISTRY=str(registry_path))
    for var in ("TERRIL_CONFIG", "TERRIL_MQTT__URL", "TERRIL_INFLUX__URL"):
        env.pop(var, None)
    truth = tmp_path / "truth.json"
    influx = InfluxClient(state.influx_url, state.database)
    collector = None
    try:
        influx.create_database()
        collector = subprocess.Popen([sys.executable, "-m", "terril.cli", "collect"], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(2.0)  # let it subscribe before the first publication (QoS 1 queues only for known sessions)
        assert collector.poll() is None, collector.communicate()[0]
        t0 = time.monotonic()
        sim = subprocess.run([sys.executable, "-m", "terril.cli", "simulate", "--start", "2024-01-01",
                              "--end", "2024-12-31", "--step", str(STEP_S), "--scenario", str(SCENARIO),
                              "--truth", str(truth)], cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                             timeout=600)
        sim_s = time.monotonic() - t0
        assert sim.returncode == 0, sim.stdout + sim.stderr
        m = re.search(r"Published ([\d,]+) messages \(([\d,]+) points\)", sim.stdout)
        assert m, sim.stdout
        messages, points = (int(g.replace(",", "")) for g in m.groups())
        assert messages > 365 * 24 * 0.75 * n_devices  # each device each hour, give or take offline periods

        # the ground truth lists every fault of the scenario file
        faults = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))["faults"]
        listed = {(f["id"], f["kind"]) for f in json.loads(truth.read_text(encoding="utf-8"))}
        assert listed == {(f["id"], f["kind"]) for f in faults}

        # InfluxDB holds exactly the announced points once the collector has caught up
        assert wait_for(lambda: count_points(influx) >= points, timeout_s=180, interval_s=1.0), \
            (count_points(influx), points)
        time.sleep(2.0)
        assert count_points(influx) == points
        elapsed_s = time.monotonic() - t0
        assert collector.poll() is None  # still running: no fatal error

        # the readings span the whole year (Europe/Paris), on the hourly grid
        assert _query_time_ns(influx, "first") == parse_time_arg("2024-01-01")
        assert _query_time_ns(influx, "last") == parse_time_arg("2024-12-31", end_of_day=True) - STEP_S * 10**9
        print(f"\none year at {STEP_S} s: {messages} messages, {points} points; simulate {sim_s:.1f} s, "
              f"{elapsed_s:.1f} s end to end")
    finally:
        if collector is not None:
            collector.terminate()
            try:
                collector.wait(timeout=30)
            except subprocess.TimeoutExpired:
                collector.kill()
        influx.close()
        stack_down(data_dir)
