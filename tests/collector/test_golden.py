"""Golden-folder tests of the vendor decoders: one folder per case, adding a case needs no code.

Layout: ``tests/collector/golden/<format>/<case>/input.txt`` + ``expected.json``.

``input.txt`` is a payload fixture as copied from a public source (``# source:`` and
``# note:`` header lines, then the topic line, then the payload; exactly one trailing
``\\n`` is dropped). ``expected.json`` holds the canonical result written by hand:

* ``"error": "<reason>"``: decoding must raise ``DecodeError`` with that reason; or
* ``"readings"``: list of ``{"channel", "quantity", "value", "time"}`` (``device`` defaults
  to the top-level ``"device"``; ``time`` is RFC 3339 UTC or null = no device time),
  compared as a multiset, values to a relative 1e-9;
* ``"availability"``: list of ``{"device", "online"}``;
* ``"ignored"``: bool (default false);
* ``"topic"``: optional topic override (raw TIC frames have no MQTT topic);
* ``"notes_contain"``: optional list of substrings that must each appear in some note.

Every reading must carry the fixed receive time of the test and the folder's format name.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from collector.decoders import REASONS, get_decoder
from terril.errors import DecodeError
from terril.timeutil import parse_rfc3339

GOLDEN = Path(__file__).parent / "golden"
RECEIVED_NS = 1_700_000_000_123_456_789
CASES = sorted(p for p in GOLDEN.glob("*/*") if (p / "input.txt").is_file())


def read_fixture(path: Path) -> tuple[str, bytes]:
    """(topic, payload) of a fixture file: header lines, topic line, payload, one trailing LF."""
    lines = path.read_bytes().split(b"\n")
    i = 0
    while lines[i].startswith(b"# "):
        i += 1
    assert i > 0 and lines[0].startswith(b"# source:"), f"{path}: the fixture must start with '# source:'"
    topic = lines[i].decode("utf-8")
    payload = b"\n".join(lines[i + 1:])
    assert payload.endswith(b"\n"), f"{path}: the payload must end with exactly one LF"
    return topic, payload[:-1]


def _key(device: str, channel: str | None, quantity: str) -> tuple[str, str, str]:
    return device, channel or "", quantity


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_case(case: Path) -> None:
    fmt = case.parent.name
    decoder = get_decoder(fmt)
    assert decoder is not None, f"no decoder registered as {fmt!r}"
    topic, payload = read_fixture(case / "input.txt")
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    topic = expected.get("topic", topic)
    if "error" in expected:
        assert expected["error"] in REASONS
        with pytest.raises(DecodeError) as info:
            decoder.decode(topic, payload, RECEIVED_NS)
        assert info.value.reason == expected["error"], info.value
        return
    result = decoder.decode(topic, payload, RECEIVED_NS)
    assert result.ignored == expected.get("ignored", False), result.notes
    default_device = expected.get("device")
    want = {}
    for r in expected.get("readings", []):
        key = _key(r.get("device", default_device), r["channel"], r["quantity"])
        assert key not in want, f"duplicate expected reading {key}"
        want[key] = (float(r["value"]), None if r["time"] is None else parse_rfc3339(r["time"]))
    got = {}
    for r in result.readings:
        key = _key(r.device, r.channel, r.quantity)
        assert key not in got, f"decoder emitted {key} twice"
        assert r.received_ns == RECEIVED_NS and r.format == fmt
        got[key] = (r.value, r.time_ns)
    assert sorted(got) == sorted(want), f"missing {sorted(set(want) - set(got))}, extra {sorted(set(got) - set(want))}"
    for key, (value, time_ns) in want.items():
        assert math.isclose(got[key][0], value, rel_tol=1e-9, abs_tol=1e-9), (key, got[key][0], value)
        assert got[key][1] == time_ns, (key, got[key][1], time_ns)
    want_av = sorted((a["device"], a["online"]) for a in expected.get("availability", []))
    assert sorted((a.device, a.online) for a in result.availability) == want_av
    assert all(a.received_ns == RECEIVED_NS and a.format == fmt for a in result.availability)
    for fragment in expected.get("notes_contain", []):
        assert any(fragment in n for n in result.notes), (fragment, result.notes)


def test_every_vendor_family_has_three_cases() -> None:
    counts: dict[str, int] = {}
    for case in CASES:
        counts[case.parent.name] = counts.get(case.parent.name, 0) + 1
    for fmt in ("tasmota", "shelly_gen1", "shelly_gen2", "opendtu", "ahoydtu", "linky_tic", "wmbusmeters",
                "sunspec", "ha_discovery"):
        assert counts.get(fmt, 0) >= 3, f"{fmt}: {counts.get(fmt, 0)} golden cases"
