"""The dashboards proven against InfluxDB filled by the demo: every query runs and every panel has data.

The demo runs once per session (the ``demo_run`` fixture of tests/conftest.py), shared with every
other test that reads a demo database; ``dashboards check`` runs in-process.
"""

from __future__ import annotations

import pytest

from helpers import run_terril as _run

# the session's demo (a year of history, analytics, savings) is set up inside this test's time budget
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]


def test_dashboards_check_passes_on_the_demo(demo_run):
    demo, env, db = demo_run.result, demo_run.env, demo_run.database
    assert demo.returncode == 0, demo.stderr[-3000:] + demo.stdout[-3000:]
    assert "tout est stocké" in demo.stdout
    # the demo's injected faults are found: the silent water meter, the frozen register, the heating drift
    for found in ("mairie-eau", "mediatheque-elec", "ecole-curie-gaz", "bigotte-toiture-pv"):
        assert found in demo.stdout
    # at the demo's clock (it runs as if it were tests/helpers.DEMO_NOW), as the demo's last lines say
    now = demo_run.summary["clock_now"]
    check = _run("dashboards", "check", "--influx-url", demo_run.influx_url, "--database", db, "--report",
                 "--now", now, env=env)
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
    for lang in ("en",):
        again = _run("dashboards", "check", "--influx-url", demo_run.influx_url, "--database", db, "--lang", lang,
                     "--now", now, env=env)
        assert again.returncode == 0, again.stdout[-3000:]
