"""Golden import cases: one folder per case in ``data/imports/golden`` with ``input.*`` and
``expected.json`` — real portal exports (origins in ``data/imports/README.md``) and variants
written for each quirk (``make_variants.py``). Adding a case needs no code.

``expected.json`` holds the call (``kind`` — default ``auto`` —, ``station``, ``unit``, and
``timezone``: the town's zone, default Europe/Paris) and the days to check, then what the import must give: format detected, stored kind, rows kept,
rejections by reason, the sums in canonical units, the first and last instants (UTC) and the
hours each checked local day (in the case's zone) covers (23 and 25 on clock-change days in
Paris; for instants, the number of observations). An error case holds ``error``: the reason of the ImportFileError.

To (re)write the expected results after a deliberate change: ``TERRIL_BLESS=1 pytest
tests/analytics/test_imports_golden.py`` — then review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analytics.imports import ImportResult, parse_import
from terril.errors import ImportFileError
from terril.timeutil import PARIS

GOLDEN = Path(__file__).parent / "data" / "imports" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.json").exists())
BLESS = os.environ.get("TERRIL_BLESS") == "1"


def _iso(t_ns: int) -> str:
    return dt.datetime.fromtimestamp(t_ns / 1e9, dt.timezone.utc).isoformat()


def day_hours(result: ImportResult, days: list[str], tz: dt.tzinfo = PARIS) -> dict[str, float]:
    """Hours covered by the values starting on each local day of ``tz`` (observations count for instants)."""
    out = {d: 0.0 for d in days}
    for v in result.values:
        d = dt.datetime.fromtimestamp(v.time_ns / 1e9, tz).date().isoformat()
        if d in out:
            out[d] += v.span_s / 3600.0 if v.span_s else 1.0
    return {d: round(h, 4) for d, h in out.items()}


def summarize(result: ImportResult, days: list[str], tz: dt.tzinfo = PARIS) -> dict:
    return {
        "format": result.format, "kind": result.kind, "station": result.station,
        "rows_read": result.rows_read, "rows_kept": result.rows_kept, "rejected": result.rejected_by_reason(),
        "gaps": len(result.gaps), "sums": {k: round(v, 3) for k, v in sorted(result.sums().items())},
        "first": _iso(result.values[0].time_ns) if result.values else None,
        "last": _iso(result.values[-1].time_ns) if result.values else None,
        "day_hours": day_hours(result, days, tz),
    }


def run_case(case: str) -> tuple[dict, dict]:
    folder = GOLDEN / case
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    data = next(p for p in sorted(folder.iterdir()) if p.name.startswith("input.")).read_bytes()
    call = dict(expected["call"])
    kind = call.pop("kind", "auto")
    tz = ZoneInfo(call.pop("timezone", "Europe/Paris"))
    try:
        got = summarize(parse_import(data, kind, tz=tz, **call), expected.get("check_days", []), tz)
    except ImportFileError as err:
        got = {"error": err.reason}
    return expected, got


@pytest.mark.parametrize("case", CASES)
def test_golden_import(case: str) -> None:
    expected, got = run_case(case)
    if BLESS:
        keep = {"call": expected["call"], "check_days": expected.get("check_days", [])}
        (GOLDEN / case / "expected.json").write_text(json.dumps({**keep, **got}, indent=1, ensure_ascii=False) + "\n",
                                                     encoding="utf-8")
        return
    want = {k: v for k, v in expected.items() if k not in ("call", "check_days")}
    assert want, f"{case}: expected.json has no expected results (run with TERRIL_BLESS=1 and review)"
    if "sums" in want:  # floats: compare with a tolerance, the rest exactly
        assert set(got["sums"]) == set(want["sums"])
        for k, v in want["sums"].items():
            assert got["sums"][k] == pytest.approx(v, rel=1e-9, abs=1e-6), k
        got = {**got, "sums": want["sums"]}
    assert got == want


def test_every_format_has_golden_cases_over_both_clock_changes() -> None:
    """Each format the detector knows has a case, and each has a 23- and a 25-hour day checked
    (SYNOP observations are 3-hourly: its variant checks a 23-hour day's count instead)."""
    from analytics.imports import FORMATS

    seen: dict[str, set[float]] = {}
    for case in CASES:
        exp = json.loads((GOLDEN / case / "expected.json").read_text(encoding="utf-8"))
        if "format" in exp and "timezone" not in exp["call"]:
            seen.setdefault(exp["format"], set()).update(exp["day_hours"].values())
    assert set(FORMATS) | {"generic"} <= set(seen)
    for fmt in set(FORMATS) - {"meteofrance_synop"} | {"generic"}:
        assert {23.0, 25.0} <= seen[fmt], fmt


def test_damaged_files_give_an_import_error_never_another_exception() -> None:
    """Cut and corrupted copies of every golden input, under every kind: only ImportFileError."""
    import random

    from analytics.imports import KINDS

    rnd = random.Random(20261206)
    for case in CASES:
        data = next((GOLDEN / case).glob("input.*")).read_bytes()
        variants = [data[: rnd.randrange(len(data) + 1)] for _ in range(3)]
        for _ in range(3):
            b = bytearray(data)
            for _ in range(4):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            variants.append(bytes(b))
        for v in variants:
            for kind in ("auto", rnd.choice(KINDS[1:])):
                try:
                    parse_import(v, kind, tz=PARIS)
                except ImportFileError:
                    pass


def test_a_gzip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    from analytics.imports import core

    monkeypatch.setattr(core, "MAX_UNCOMPRESSED_BYTES", 10_000)
    with pytest.raises(ImportFileError) as err:
        parse_import(gzip.compress(b"time;value_kwh\n" + b"2024-01-01;1\n" * 5000), tz=PARIS)
    assert err.value.reason == "bad_file" and "split it" in err.value.message
