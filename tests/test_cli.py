"""The command line: --help everywhere, --version, the demo end to end, and export of exactly what was published.

The demos run as subprocesses; ``--help``, the usage errors, export, analyze and alerts run
in-process (``helpers.run_terril``: the same ``terril.cli.main``, without a 1-2 s interpreter start
each); ``--version`` and one ``--help`` keep a real subprocess as a smoke test of ``python -m terril.cli``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest

from helpers import run_terril
from terril import __version__
from terril.cli import app


def _commands(group, prefix=()):
    import typer.main

    click_group = typer.main.get_command(group)
    out = []

    def walk(cmd, path):
        out.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, (*path, name))

    walk(click_group, prefix)
    return out


def _run(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "terril.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_version():
    result = _run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"terril {__version__}"


def test_help_through_a_real_subprocess():
    result = _run("--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize("path", _commands(app))
def test_help_on_every_command(path):
    result = run_terril(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_usage_errors_are_one_message_not_a_traceback():
    result = run_terril("export", "readings", "--site", "BAD SITE", "--start", "2026-01-01", "--end", "2026-01-02")
    assert result.returncode == 2
    assert "invalid site id" in result.stderr and "Traceback" not in result.stderr
    result = run_terril("simulate", "--days", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.integration
def test_demo_then_export_returns_exactly_the_published_points(stack, cli_env):
    result = _run("demo", "--days", "1", "--history-days", "0", "--no-analytics", "--seed", "3", "--keep-stack",
                  "--lang", "en", env=cli_env)
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert "all stored" in out
    m = re.search(r"Published ([\d,]+) messages \(([\d,]+) points\); stored ([\d,]+)", out)
    assert m, out
    published_points = int(m.group(2).replace(",", ""))
    assert int(m.group(3).replace(",", "")) == published_points
    for site in ("ecole-basly", "salle-bigotte", "plateforme-pv", "eglise"):
        assert site in out
    span = re.search(r"--start (\S+) --end (\S+)", out)
    start, end = span.group(1), span.group(2)

    from terril.registry import load_registry

    total = 0
    for site in load_registry().sites:
        exp = run_terril("export", "readings", "--site", site.id, "--start", start, "--end", end, "--format", "csv",
                         env=cli_env)
        assert exp.returncode == 0, exp.stderr
        rows = list(csv.DictReader(io.StringIO(exp.stdout)))
        assert all(r["site"] == site.id for r in rows)
        total += len(rows)
    assert total == published_points

    jl = run_terril("export", "readings", "--site", "plateforme-pv", "--meter", "pf-cdte-pv", "--start", start,
                    "--end", end, "--format", "jsonl", env=cli_env)
    lines = [json.loads(x) for x in jl.stdout.splitlines()]
    assert lines and all(x["meter"] == "pf-cdte-pv" and "energy_produced_wh" in x for x in lines)
    assert len(lines) == 24 * 4  # a 5-minute inverter, simulated at the demo's 15-minute step, over one day


@pytest.mark.integration
def test_demo_run_again_on_its_stack_stores_exactly_what_it_published(private_stack, cli_env):
    """A second run on the same stack and day (another seed) once found more points than it published:
    the first run's retained SunSpec values and its readings in the window were counted again."""
    env = dict(cli_env, TERRIL_DATA_DIR=private_stack.data_dir)
    for seed in ("3", "5"):
        result = _run("demo", "--days", "1", "--history-days", "0", "--no-analytics", "--seed", seed, "--keep-stack",
                      "--lang", "en", env=env)
        assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
        m = re.search(r"Published ([\d,]+) messages \(([\d,]+) points\); stored ([\d,]+): all stored", result.stdout)
        assert m and m.group(2) == m.group(3), result.stdout[-3000:]


@pytest.mark.integration
def test_analyze_and_alerts_commands(stack, cli_env, tmp_path):
    env = dict(cli_env, TERRIL_INFLUX__URL=stack.influx_url, TERRIL_INFLUX__DATABASE="cli_analyze")
    demo = _run("demo", "--days", "2", "--history-days", "0", "--no-analytics", "--seed", "5", "--keep-stack", env=env)
    assert demo.returncode == 0, demo.stderr
    result = run_terril("analyze", "--json", "--no-publish", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["nothing_new"] is False
    assert report["meters_rolled_up"] == 52  # every metered carrier; the weather meter goes to weather_daily
    assert report["weather_days"] >= 2
    assert "mairie-elec" in report["baselines_skipped"]  # two days cannot make a baseline, and it says why
    assert "baseline.period_too_short" in report["baselines_skipped"]["mairie-elec"]
    again = json.loads(run_terril("analyze", "--json", "--no-publish", env=env).stdout)
    assert again["nothing_new"] is True
    listing = run_terril("alerts", "list", "--json", env=env)
    assert listing.returncode == 0
    assert all(json.loads(line)["state"] in ("open", "acknowledged", "resolved") for line in listing.stdout.splitlines())
    bad = run_terril("alerts", "ack", "nope!", env=env)
    assert bad.returncode == 2 and "invalid alert id" in bad.stderr
    missing = run_terril("alerts", "ack", "0123456789ab", env=env)  # the town's language
    assert missing.returncode == 2 and "erreur : aucune alerte n'a l'identifiant '0123456789ab'" in missing.stderr
    missing = run_terril("alerts", "ack", "0123456789ab", "--lang", "en", env=env)
    assert missing.returncode == 2 and "error: no alert with id" in missing.stderr
    found = [json.loads(line) for line in listing.stdout.splitlines()]
    assert found, "the demo's two live days with their faults raise at least one alert"
    acked = run_terril("alerts", "ack", found[0]["alert_id"], env=env)  # in the town's language: French
    assert acked.returncode == 0 and acked.stdout.strip().endswith("→ prise en compte"), acked.stdout
    done = run_terril("alerts", "resolve", found[0]["alert_id"], "--lang", "en", env=env)
    assert done.returncode == 0 and done.stdout.strip().endswith("→ resolved"), done.stdout
