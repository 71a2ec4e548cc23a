"""The native decoder and the mapping pipeline (pure; no broker needed)."""

from __future__ import annotations

import pytest

from collector.decoders import get_decoder
from collector.mapping import Pipeline
from helpers import make_registry
from terril.errors import DecodeError

D = get_decoder("native")
TOPIC = "terril/site-00/site-00-d00/telemetry"


def test_object_with_time_and_several_quantities():
    decoded = D.decode(TOPIC, b'{"time": "2026-01-01T00:15:00+01:00", "energy_import_wh": 1234, "power_w": 5.5}', 7)
    assert [(r.quantity, r.value, r.time_ns, r.received_ns) for r in decoded.readings] == [
        ("energy_import_wh", 1234.0, 1_767_222_900 * 10**9, 7), ("power_w", 5.5, 1_767_222_900 * 10**9, 7)]


def test_backlog_array_and_epoch_seconds():
    decoded = D.decode(TOPIC, b'[{"time": 1767222000, "power_w": 1}, {"time": 1767222900.5, "power_w": 2}]', 1)
    assert [r.time_ns for r in decoded.readings] == [1_767_222_000 * 10**9, 1_767_222_900_500_000_000]


def test_without_time_the_device_time_is_unknown():
    assert D.decode(TOPIC, b'{"power_w": 1}', 99).readings[0].time_ns is None


@pytest.mark.parametrize("payload, reason", [
    (b"", "not_json"), (b"\xff\xfe", "not_utf8"), (b"[]", "no_readings"), (b"{}", "no_readings"),
    (b'{"time": 1767222000}', "no_readings"), (b"3", "bad_shape"), (b'["x"]', "bad_shape"),
    (b'{"power_kw": 1}', "unknown_field"), (b'{"power_w": true}', "bad_value"), (b'{"power_w": null}', "bad_value"),
    (b'{"power_w": "1"}', "bad_value"), (b'{"power_w": 1, "time": "yesterday"}', "bad_time"),
    (b'{"power_w": 1, "time": "2026-01-01T00:00:00"}', "bad_time"),
    (b'{"power_w": 1, "time": 99999999999}', "implausible_time"), (b'{"power_w": 1, "time": 1}', "implausible_time"),
    (b'{"power_w": 1, "channel": 3}', "bad_value"), (b"[" + b'{"power_w":1},' * 10_001 + b'{"power_w":1}]', "too_many_readings"),
    (b" " * (256 * 1024 + 1), "too_large"),
])
def test_rejections_have_reason_codes(payload, reason):
    with pytest.raises(DecodeError) as info:
        D.decode(TOPIC, payload, 1)
    assert info.value.reason == reason


@pytest.mark.parametrize("payload, online", [(b"online", True), (b"offline", False), (b'{"online": false}', False)])
def test_status(payload, online):
    decoded = D.decode("terril/site-00/site-00-d00/status", payload, 1)
    assert decoded.availability[0].online is online


def test_pipeline_maps_to_site_meter_and_groups_fields_by_time():
    pipeline = Pipeline(make_registry(1, 2))
    out = pipeline.process(TOPIC, b'[{"time": 1767222000, "energy_import_wh": 10, "power_w": 2},'
                                  b' {"time": 1767222900, "energy_import_wh": 11}]', 5)
    assert out.rejection is None and out.readings == 3
    assert [(p.tags, p.fields, p.time_ns) for p in out.points] == [
        ({"site": "site-00", "meter": "site-00-m00", "carrier": "electricity", "device": "site-00-d00"},
         {"energy_import_wh": 10.0, "power_w": 2.0, "received_ns": 5}, 1_767_222_000 * 10**9),
        ({"site": "site-00", "meter": "site-00-m00", "carrier": "electricity", "device": "site-00-d00"},
         {"energy_import_wh": 11.0, "received_ns": 5}, 1_767_222_900 * 10**9)]


def test_pipeline_ignores_terril_own_topics_and_rejects_unknown_format():
    pipeline = Pipeline(make_registry(1, 1))
    assert pipeline.process("terril/_collector/c1/status", b"online", 1).points == ()
    assert pipeline.process("terril/_collector/c1/status", b"online", 1).rejection is None
    assert pipeline.process("some/other/topic", b"1", 1).rejection.reason == "unknown_format"
