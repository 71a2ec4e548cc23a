"""The dashboards proven against InfluxDB filled by the demo: every query runs and every panel has data."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _run(*args, env):
    return subprocess.run([sys.executable, "-m", "terril.cli", *args], capture_output=True, text=True, timeout=900,
                          env=env)


def test_dashboards_check_passes_on_the_demo(stack, cli_env):
    env = dict(cli_env, TERRIL_INFLUX__URL=stack.influx_url, TERRIL_INFLUX__DATABASE="demo_check")
    demo = _run("demo", "--days", "3", "--seed", "11", "--keep-stack", env=env)
    assert demo.returncode == 0, demo.stderr[-3000:] + demo.stdout[-3000:]
    assert "tout est stocké" in demo.stdout
    # the demo's injected faults are found: the silent water meter, the frozen register, the heating drift
    for found in ("mairie-eau", "mediatheque-elec", "ecole-curie-gaz", "bigotte-toiture-pv"):
        assert found in demo.stdout
    check = _run("dashboards", "check", "--influx-url", stack.influx_url, "--database", "demo_check", "--report",
                 env=env)
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
    for lang in ("en",):
        again = _run("dashboards", "check", "--influx-url", stack.influx_url, "--database", "demo_check",
                     "--lang", lang, env=env)
        assert again.returncode == 0, again.stdout[-3000:]
