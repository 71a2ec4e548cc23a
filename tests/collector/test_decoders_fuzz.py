"""Property tests: every decoder, fed random bytes, random JSON or mutated real payloads, raises only DecodeError.

A decoder must either return a well-formed :class:`Decoded` (canonical quantities, finite
values, the receive time kept) or raise :class:`DecodeError` with a known reason code.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.decoders import REASONS, all_decoders
from collector.decoders.detect import detect_format
from terril.errors import DecodeError
from terril.quantities import QUANTITIES
from terril.readings import Decoded

GOLDEN = Path(__file__).parent / "golden"
RECEIVED_NS = 1_700_000_000_000_000_000
SETTINGS = settings(max_examples=int(__import__("os").environ.get("TERRIL_FUZZ_EXAMPLES", "200")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fixture(path: Path) -> tuple[str, bytes]:
    lines = path.read_bytes().split(b"\n")
    i = 0
    while lines[i].startswith(b"# "):
        i += 1
    return lines[i].decode("utf-8"), b"\n".join(lines[i + 1:])[:-1]


REAL: list[tuple[str, bytes]] = [_fixture(p) for p in sorted(GOLDEN.glob("*/*/input.txt"))]
EXTRA_TOPICS = [
    "terril/ecole-a/linky-1/telemetry", "tele/pow1/SENSOR", "stat/pow1/STATUS10", "shellies/x/emeter/0/total",
    "shellypro3em-1/status/em:0", "solar/114190641177/0/yieldtotal", "solar/dtu/status", "teleinfo/012345678912",
    "wmbusmeters/12345678", "fronius-bridge/meter/m1/values", "pvsolar/7E16A12F", "inverter/hm/ch1/YieldDay",
    "homeassistant/sensor/x/y/config",
]
TOPICS = sorted({t for t, _ in REAL} | set(EXTRA_TOPICS))
DECODERS = sorted(all_decoders().items())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=30,
)
# keys the decoders look at, so random JSON reaches deep code paths
known_keys = st.sampled_from([
    "Time", "ENERGY", "TIC", "Total", "Power", "TotalTariff", "StatusSNS", "method", "params", "ts", "em:0",
    "emdata:0", "em1:1", "switch:0", "aenergy", "total", "a_act_power", "total_act", "ADCO", "ADSC", "DATE",
    "timestamp", "raw", "value", "dst", "date", "BASE", "HCHC", "EAST", "PAPP", "SINSTS", "total_m3",
    "total_energy_consumption_kwh", "media", "t1_temperature_c", "time", "ac_energy", "phases", "inputs", "id",
    "AC_Energy_WH", "state_topic", "device_class", "unit_of_measurement", "energy_import_wh", "channel",
])
structured_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10**20, max_value=10**20) | st.floats() | st.text(max_size=12)
    | st.sampled_from(["Online", "E210415200146", "2024-01-01T00:00:00", "summer", "NotifyStatus", "heat", "0.5"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(known_keys, children, max_size=6),
    max_leaves=25,
)


def _check(decoder_name: str, topic: str, payload: bytes) -> None:
    decoder = all_decoders()[decoder_name]
    try:
        result = decoder.decode(topic, payload, RECEIVED_NS)
    except DecodeError as err:
        assert err.reason in REASONS, err.reason
        return
    assert isinstance(result, Decoded)
    for r in result.readings:
        assert r.quantity in QUANTITIES
        assert isinstance(r.value, float) and math.isfinite(r.value)
        assert r.received_ns == RECEIVED_NS and r.format == decoder_name
        assert r.channel is None or isinstance(r.channel, str)
    for a in result.availability:
        assert isinstance(a.online, bool)


@pytest.mark.parametrize("name", [n for n, _ in DECODERS])
@SETTINGS
@given(topic=st.sampled_from(TOPICS) | st.text(max_size=40), payload=st.binary(max_size=300))
def test_random_bytes(name: str, topic: str, payload: bytes) -> None:
    _check(name, topic, payload)


@pytest.mark.parametrize("name", [n for n, _ in DECODERS])
@SETTINGS
@given(topic=st.sampled_from(TOPICS), value=json_values | structured_json)
def test_random_json(name: str, topic: str, value: object) -> None:
    _check(name, topic, json.dumps(value, allow_nan=True).encode())


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    topic, payload = draw(st.sampled_from(REAL))
    data = bytearray(payload)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from([b"\x00", b"\"", b",", b"{", b"]", b"1e999", b"-", b"\xc3", b"\t"]))
        else:
            del data[pos:pos + draw(st.integers(1, 8))]
    return topic, bytes(data)


@pytest.mark.parametrize("name", [n for n, _ in DECODERS])
@SETTINGS
@given(case=mutated())
def test_mutated_real_payloads(name: str, case: tuple[str, bytes]) -> None:
    _check(name, *case)


@SETTINGS
@given(topic=st.sampled_from(TOPICS) | st.text(max_size=40), payload=st.binary(max_size=200))
def test_detect_format_is_total(topic: str, payload: bytes) -> None:
    assert detect_format(topic, payload) in (None, *all_decoders())


# ---- hostile values in otherwise real payloads: beyond float range, beyond year 9999, deep nesting, wrong types
NATIVE_SAMPLES = [
    ("terril/s/d/telemetry", b'{"energy_import_wh": 1, "power_w": 2.5, "time": "2026-01-01T00:00:00Z", "channel": "main"}'),
    ("terril/s/d/telemetry", b'[{"power_w": 1, "time": 1767222000}, {"energy_import_wh": 3}]'),
]
HOSTILE_TEXT = st.sampled_from([
    "1e400", "-1e400", "1e308", "1" + "0" * 400, "-1" + "0" * 400, "1e-400",  # beyond float range
    '"10000-01-01T00:00:00Z"', '"9999-12-31T23:59:59-14:00"', '"0001-01-01T00:00:00+14:00"',  # beyond the calendar
    '"9999-12-31T23:59:59"', '"0001-01-01T00:00:00"', '"H991231235959"', '"2024-02-30T25:61:00Z"',
    "253402300800", "253402300800000", "-62135596801",  # epoch seconds / ms beyond year 9999, before year 1
    "[" * 2000 + "]" * 2000, '{"a":' * 2000 + "1" + "}" * 2000,  # deep nesting
    "true", "null", '""', "[]", "{}", '"12abc"', '"1e999"', '{"total": "x"}',  # wrong types
]) | st.integers(min_value=-(10**30), max_value=10**30).map(str) | st.integers(300, 700).map(lambda n: "9" * n)


def _leaf_paths(obj: object, path: tuple = ()) -> list[tuple]:
    if isinstance(obj, dict):
        out = [path] if path else []
        return out + [p for k, v in obj.items() for p in _leaf_paths(v, path + (k,))]
    if isinstance(obj, list):
        out = [path] if path else []
        return out + [p for i, v in enumerate(obj) for p in _leaf_paths(v, path + (i,))]
    return [path]


def _claimed_json(name: str) -> list[tuple[str, object]]:
    decoder = all_decoders()[name]
    out = []
    for topic, payload in REAL + NATIVE_SAMPLES:
        if not decoder.claims(topic):
            continue
        try:
            out.append((topic, json.loads(payload)))
        except ValueError:
            pass
    return out


@pytest.mark.parametrize("name", [n for n, _ in DECODERS])
@SETTINGS
@given(data=st.data())
def test_hostile_values_in_real_payloads(name: str, data: st.DataObject) -> None:
    cases = _claimed_json(name)
    if not cases:
        pytest.skip(f"no JSON sample on a topic {name} claims")
    topic, obj = data.draw(st.sampled_from(cases))
    paths = _leaf_paths(obj)
    path = data.draw(st.sampled_from(paths)) if paths else ()
    hostile = data.draw(HOSTILE_TEXT)
    if not path:
        payload = hostile
    else:
        copy = json.loads(json.dumps(obj))
        cursor = copy
        for part in path[:-1]:
            cursor = cursor[part]
        cursor[path[-1]] = "\x00HOSTILE\x00"
        payload = json.dumps(copy).replace('"\\u0000HOSTILE\\u0000"', hostile)
    _check(name, topic, payload.encode())


@pytest.mark.parametrize("payload, reason", [
    (b'{"energy_import_wh": 1' + b"0" * 400 + b"}", "bad_value"),
    (b'{"energy_import_wh": 1, "time": 1' + b"0" * 400 + b"}", "implausible_time"),
    (b'{"energy_import_wh": 1, "time": "0001-01-01T00:00:00+14:00"}', "bad_time"),
    (b'{"energy_import_wh": 1e400}', "bad_value"),
])
def test_native_numbers_and_times_beyond_range_are_decode_errors(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        all_decoders()["native"].decode("terril/s/d/telemetry", payload, RECEIVED_NS)
    assert info.value.reason == reason
