"""`terril decode`: one JSON line per canonical reading, exit 0; a rejection prints its reason code, exit 3.

One golden case per family goes through the command with ``--format auto``, and its output must
equal the golden expectation written by hand (tests/collector/golden). The command runs in-process
(``helpers.run_terril``, through ``terril.cli.main`` as installed); tests/test_cli.py keeps the
subprocess smoke test of the entry point.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers import run_terril
from test_golden import read_fixture

GOLDEN = Path(__file__).parent / "golden"


def _decode(topic: str, payload: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return run_terril("decode", "--topic", topic, *args, input=payload, text=False)


def _first_case_with_readings(family: Path) -> Path | None:
    for case in sorted(family.iterdir()):
        exp = json.loads((case / "expected.json").read_text())
        if exp.get("readings") and "topic" not in exp and not exp.get("error"):
            return case
    return None


CASES = [c for f in sorted(GOLDEN.iterdir()) if f.is_dir() and (c := _first_case_with_readings(f)) is not None]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.parent.name}/{c.name}")
def test_decode_auto_matches_the_golden_expectation(case: Path) -> None:
    topic, payload = read_fixture(case / "input.txt")
    expected = json.loads((case / "expected.json").read_text())
    result = _decode(topic, payload)
    assert result.returncode == 0, result.stdout + result.stderr
    assert b"Traceback" not in result.stderr
    lines = [json.loads(x) for x in result.stdout.decode().splitlines()]
    readings = [x for x in lines if x["quantity"] != "online"]
    assert all(x["format"] == case.parent.name or case.parent.name == "linky_tic" for x in readings)
    got = sorted((x["channel"] or "", x["quantity"], x["value"], x["time"]) for x in readings)
    want = sorted((r["channel"] or "", r["quantity"], float(r["value"]), r.get("time")) for r in expected["readings"])
    assert got == want
    for x in readings:
        assert set(x) >= {"device", "channel", "quantity", "value", "time", "format"}


def test_rejections_print_a_reason_code_and_exit_3() -> None:
    bad = _decode("terril/mairie/mairie-linky/telemetry", b'{"power_w": 1, "power_w": 2}')
    assert bad.returncode == 3
    assert json.loads(bad.stdout) == {"error": "duplicate_key", "detail": json.loads(bad.stdout)["detail"]}
    unknown = _decode("some/unknown/topic", b"42")
    assert unknown.returncode == 3 and json.loads(unknown.stdout)["error"] == "unknown_format"
    forced = _decode("tele/pow1/SENSOR", b"\xff\xfe", "--format", "tasmota")
    assert forced.returncode == 3 and json.loads(forced.stdout)["error"] in ("not_utf8", "not_json")
    nope = _decode("tele/pow1/SENSOR", b"{}", "--format", "nosuchformat")
    assert nope.returncode == 2 and b"unknown format" in nope.stderr and b"Traceback" not in nope.stderr
