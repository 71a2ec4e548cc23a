"""Load mode: ``terril simulate --mode load`` with 10,000 synthetic devices, stored in full by a collector.

The synthetic registry written by ``--registry-out`` is the one the collector runs on; every one of
the 20,000 messages must land in InfluxDB, at the announced rate.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from terril.registry import load_registry
from tests.helpers import count_points, start_collector, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DEVICES, RATE, MESSAGES = 10_000, 2000, 20_000


def _simulate(cli_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terril.cli", "simulate", "--mode", "load", "--devices", str(DEVICES),
                           *args], cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=300, check=False)


def test_load_mode_is_stored_in_full(stack, influx_db, cli_env, tmp_path: Path) -> None:
    # the registry first (one message, published before anyone listens), so that the collector runs on it
    registry_file = tmp_path / "load.toml"
    first = _simulate(cli_env, "--messages", "1", "--registry-out", str(registry_file))
    assert first.returncode == 0, first.stdout + first.stderr
    registry = load_registry(registry_file)
    assert len(registry.devices) == DEVICES

    collector = start_collector(stack, registry, influx_db)
    try:
        again = tmp_path / "load-again.toml"
        run = _simulate(cli_env, "--rate", str(RATE), "--messages", str(MESSAGES), "--registry-out", str(again))
        assert run.returncode == 0, run.stdout + run.stderr
        assert again.read_text(encoding="utf-8") == registry_file.read_text(encoding="utf-8")
        m = re.search(r"Published (\d+) messages from (\d+) synthetic devices in ([\d.]+) s", run.stdout)
        assert m, run.stdout
        assert (int(m.group(1)), int(m.group(2))) == (MESSAGES, DEVICES)
        assert float(m.group(3)) >= 0.95 * MESSAGES / RATE  # paced, not faster than the asked rate
        assert wait_for(lambda: count_points(influx_db) >= MESSAGES, timeout_s=60, interval_s=0.5), \
            count_points(influx_db)
        assert collector.fatal is None
        assert count_points(influx_db) == MESSAGES
        # nothing of the load run was refused (the shared broker may replay other tests' retained messages)
        rejected = influx_db.query('SELECT "topic" FROM "quarantine"')
        assert [row[1] for r in rejected for row in r.values if str(row[1]).startswith("terril/load-")] == []
    finally:
        collector.stop()
