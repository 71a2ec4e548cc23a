"""The demo gives a savings report with numbers whatever the day it runs.

`terril demo --now D` is run on five buildings of the demo fleet (those whose works, faults and
meters the town dashboards show) for four days spread over the year; on the last day the
session's demo (the whole fleet, ``demo_run`` of tests/conftest.py) is the one read. Each time the demo's two
works (a relighting and a boiler replacement, re-dated a year into its history) are measured by
the savings report, and the simulator's true saving must fall inside each 90 % interval; the
portfolio's avoided energy is not zero; no meter is excluded for a gap the demo made itself; every
Décret tertiaire building has a status for last year (the demo imports the invoices and weather
it needs); and every Grafana panel has data at the demo's clock.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import DEMO_NOW

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Four days of the year, mid-afternoon local time (PV producing, "today" has data).
DAYS = ("2026-01-15T14:00:00+01:00", "2026-04-30T14:00:00+02:00", "2026-07-15T14:00:00+02:00",
        "2026-12-06T14:00:00+01:00")
#: The works' buildings, and those of the faults the dashboards show (silent meter, reset, frozen register).
SITES = "ecole-basly,salle-bigotte,mairie,ecole-pasteur,mediatheque"
#: Reasons that would mean the demo left a hole in its own data.
GAP_REASONS = {"baseline.month_temperature_coverage", "baseline.insufficient_days", "baseline.insufficient_temperature",
               "baseline.period_too_short", "savings.no_valid_reporting_days"}


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terril.cli", *args], capture_output=True, text=True, timeout=900,
                          env=env)


@pytest.mark.parametrize("now", DAYS, ids=[d[:10] for d in DAYS])
def test_demo_savings_and_dashboards_on_any_day(now: str, stack, cli_env, request) -> None:  # noqa: ANN001
    if now == DEMO_NOW:  # the session's demo (the whole fleet) runs on this day: read it
        shared = request.getfixturevalue("demo_run")
        demo, env, database = shared.result, shared.env, shared.database
        assert demo.returncode == 0, demo.stderr[-3000:] + demo.stdout[-3000:]
        summary = shared.summary
    else:
        database = "demo_" + now[:10].replace("-", "")
        env = dict(cli_env, TERRIL_INFLUX__URL=stack.influx_url, TERRIL_INFLUX__DATABASE=database)
        demo = _run("demo", "--days", "1", "--seed", "3", "--sites", SITES, "--now", now, "--keep-stack", env=env)
        assert demo.returncode == 0, demo.stderr[-3000:] + demo.stdout[-3000:]
        summary = json.loads((Path(stack.data_dir) / "demo-summary.json").read_text(encoding="utf-8"))
    assert summary["points_stored"] == summary["points_expected"]
    savings = summary["savings"]
    assert math.isfinite(savings["portfolio_avoided_kwh"]) and savings["portfolio_avoided_kwh"] != 0.0
    works = {m["measure"]: m for m in savings["measures"]}
    assert set(works) == {"basly-led", "bigotte-chaudiere"}, savings["measures"]
    for m in works.values():
        assert m["qualifies"], m
        assert m["true_avoided_kwh"] > 0.0, m
        # the simulator's true saving lies inside the report's 90 % interval
        assert abs(m["avoided_kwh"] - m["true_avoided_kwh"]) <= m["u90_kwh"], m
        assert m["inside_90"]
        assert m["description"] in demo.stdout.replace("\n", " ") or m["measure"] in demo.stdout
    for meter, reasons in savings["excluded"].items():
        assert not GAP_REASONS & set(reasons), (meter, reasons)
    # the Décret tertiaire: with the reference years' invoices and last year's months before the
    # history imported, every subject building has a status for last year (none « données insuffisantes »)
    tertiaire = summary["tertiaire"]
    assert tertiaire["year"] == int(summary["now"][:4]) - 1
    assert tertiaire["buildings"] > 0 and tertiaire["no_data"] == 0, tertiaire["statuses"]
    assert tertiaire["on_track"] + tertiaire["late"] == tertiaire["buildings"]
    assert f"Décret tertiaire {tertiaire['year']}" in demo.stdout
    check = _run("dashboards", "check", "--influx-url", stack.influx_url, "--database", database,
                 "--now", summary["clock_now"], env=env)
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
