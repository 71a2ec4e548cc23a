"""Rule tests of the vendor decoders: topic layouts, device keys, time rules, detection, HA proposals."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.decoders import get_decoder
from collector.decoders._common import load_json, paris_local_to_ns
from collector.decoders.detect import detect_format
from collector.decoders.ha_discovery import propose_registry_entry
from collector.decoders.linky_tic import parse_tic_frame
from terril.errors import DecodeError
from terril.timeutil import parse_rfc3339

GOLDEN = Path(__file__).parent / "golden"
RECEIVED_NS = 1_700_000_000_000_000_000


def _fixture(path: Path) -> tuple[str, bytes]:
    lines = path.read_bytes().split(b"\n")
    i = 0
    while lines[i].startswith(b"# "):
        i += 1
    return lines[i].decode("utf-8"), b"\n".join(lines[i + 1:])[:-1]


@pytest.mark.parametrize("topic, key", [
    ("tele/pow1/SENSOR", "pow1"),
    ("pow1/tele/SENSOR", "pow1"),
    ("a/b/c/pow1/tele/SENSOR", "pow1"),
    ("stat/pow1/STATUS10", "pow1"),
    ("tele/pow1/RESULT", None),
    ("tele/a/b/SENSOR", None),
])
def test_tasmota_structural_topics(topic: str, key: str | None) -> None:
    assert get_decoder("tasmota").device_key(topic) == key


def test_tasmota_custom_fulltopic_decodes_like_default() -> None:
    payload = b'{"Time":"2024-01-15T07:30:00","ENERGY":{"Total":1.5}}'
    a = get_decoder("tasmota").decode("tele/pow1/SENSOR", payload, RECEIVED_NS)
    b = get_decoder("tasmota").decode("site/x/pow1/tele/SENSOR", payload, RECEIVED_NS)
    assert a.readings == b.readings
    assert a.readings[0].value == 1500.0
    assert a.readings[0].time_ns == parse_rfc3339("2024-01-15T06:30:00Z")  # Paris winter, UTC+1


def test_tasmota_time_with_offset_is_used_as_is() -> None:
    r = get_decoder("tasmota").decode("tele/p/SENSOR", b'{"Time":"2021-06-27T15:03:44+02:00","ENERGY":{"Power":5}}', 0)
    assert r.readings[0].time_ns == parse_rfc3339("2021-06-27T13:03:44Z")


def test_tasmota_unsynchronised_clock_falls_back_to_receive_time() -> None:
    r = get_decoder("tasmota").decode("tele/p/SENSOR", b'{"Time":"1970-01-01T00:00:12","ENERGY":{"Power":5}}', 0)
    assert r.readings[0].time_ns is None
    assert any("implausible_time" in n for n in r.notes)


def test_paris_local_time_dst() -> None:
    # autumn: 02:30 happens twice on 2024-10-27; fold=0 = first occurrence (summer time, UTC+2)
    assert paris_local_to_ns("2024-10-27T02:30:00") == parse_rfc3339("2024-10-27T00:30:00Z")
    assert paris_local_to_ns("2024-03-31T01:59:59") == parse_rfc3339("2024-03-31T00:59:59Z")
    assert paris_local_to_ns("2024-03-31T03:00:00") == parse_rfc3339("2024-03-31T01:00:00Z")


def test_absent_is_unknown_not_zero() -> None:
    # a NotifyStatus delta carrying only one phase emits only that phase
    payload = b'{"method":"NotifyStatus","params":{"ts":1700000000.5,"em:0":{"id":0,"b_act_power":12.5}}}'
    r = get_decoder("shelly_gen2").decode("shellypro3em-1/events/rpc", payload, RECEIVED_NS)
    assert [(x.channel, x.quantity, x.value) for x in r.readings] == [("L2", "power_w", 12.5)]
    assert r.readings[0].time_ns == 1_700_000_000_500_000_000


def test_json_duplicate_keys_and_constants_rejected() -> None:
    with pytest.raises(DecodeError) as info:
        load_json(b'{"a":1,"a":2}')
    assert info.value.reason == "duplicate_key"
    with pytest.raises(DecodeError) as info:
        load_json(b'{"a":NaN}')
    assert info.value.reason == "not_json"
    with pytest.raises(DecodeError) as info:
        load_json(b"[" * 100_000)
    assert info.value.reason == "not_json"


def test_tic_identifiers_stay_strings() -> None:
    topic, payload = _fixture(GOLDEN / "linky_tic" / "teleinfo2mqtt_base_leading_zero_id" / "input.txt")
    r = get_decoder("linky_tic").decode(topic, payload, RECEIVED_NS)
    assert r.readings[0].device == "012345678912"
    assert "ADCO=012345678912" in r.notes


def test_tic_frame_checksum_detects_a_flipped_digit() -> None:
    topic, payload = _fixture(GOLDEN / "linky_tic" / "raw_historique_frame_hc" / "input.txt")
    frame = parse_tic_frame(payload)
    assert frame.mode == "historique" and frame.labels()["HCHC"] == "000837362"
    with pytest.raises(DecodeError) as info:
        parse_tic_frame(payload.replace(b"HCHC 000837362", b"HCHC 000837363"))
    assert info.value.reason == "bad_value"


def test_device_key_matches_reading_device_for_every_golden_case() -> None:
    for case in sorted(GOLDEN.glob("*/*/input.txt")):
        fmt = case.parent.parent.name
        topic, payload = _fixture(case)
        decoder = get_decoder(fmt)
        if fmt == "linky_tic" and payload.lstrip()[:1] == b"\x02":
            topic = "tic/021528603314"
        try:
            result = decoder.decode(topic, payload, RECEIVED_NS)
        except DecodeError:
            continue
        key = decoder.device_key(topic)
        assert all(r.device == key for r in result.readings), case
        assert all(a.device == key for a in result.availability), case


@pytest.mark.parametrize("case, expected", [
    ("tasmota/sensor_pow_r2", "tasmota"),
    ("tasmota/custom_fulltopic_energy_plus_tic", "tasmota"),
    ("shelly_gen1/emeter_total_wh", "shelly_gen1"),
    ("shelly_gen1/online_false", "shelly_gen1"),
    ("shelly_gen2/online_true", "shelly_gen2"),
    ("shelly_gen2/pro3em_emdata0_wh", "shelly_gen2"),
    ("opendtu/ch1_dc_power", "opendtu"),
    ("opendtu/dtu_status_lwt", "opendtu"),
    ("opendtu/ac_yieldtotal_kwh", "opendtu"),
    ("ahoydtu/ch0_yieldtotal_kwh", "ahoydtu"),
    ("linky_tic/teleinfo2mqtt_base_leading_zero_id", "linky_tic"),
    ("linky_tic/teleinfo2mqtt_standard_producer_nul_in_msg", "linky_tic"),  # topic aiida/test: found by payload
    ("linky_tic/raw_standard_frame_triphase", "linky_tic"),
    ("wmbusmeters/iperl_water", "wmbusmeters"),
    ("sunspec/fronius_meter_values_kwh", "sunspec"),
    ("sunspec/solaredgedc_single_topic", "sunspec"),
    ("sunspec/fronius_availability", "sunspec"),
    ("ha_discovery/teleinfo2mqtt_base", "ha_discovery"),
])
def test_detect_format_on_real_payloads(case: str, expected: str) -> None:
    topic, payload = _fixture(GOLDEN / case / "input.txt")
    assert detect_format(topic, payload) == expected


def test_detect_format_unknown() -> None:
    assert detect_format("some/random/topic", b"hello") is None
    assert detect_format("x/online", b"yes") is None


def test_ha_discovery_proposal() -> None:
    topic, payload = _fixture(GOLDEN / "ha_discovery" / "teleinfo2mqtt_sinsts_va" / "input.txt")
    p = propose_registry_entry(topic, payload)
    assert p is not None
    assert (p.device_key, p.format, p.quantity, p.unit, p.channel) == ("012345678912", "linky_tic", "apparent_power_va", "VA", None)
    abbreviated = (b'{"~":"tele/pow1","stat_t":"~/SENSOR","dev_cla":"energy","unit_of_meas":"kWh",'
                   b'"val_tpl":"{{value_json.ENERGY.Total}}"}')
    p = propose_registry_entry("homeassistant/sensor/pow1_total/config", abbreviated)
    assert p is not None and (p.device_key, p.format, p.quantity, p.unit) == ("pow1", "tasmota", "energy_import_wh", "kWh")
    assert propose_registry_entry("homeassistant/sensor/x/config", b'{"stat_t":"a/b","dev_cla":"humidity"}') is None
    assert propose_registry_entry("not/discovery", payload) is None
