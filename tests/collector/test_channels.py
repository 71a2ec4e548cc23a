"""Channel tables, onboarding plans, channel collisions, registry edits and the registry watcher (pure, fast).

Plus one integration check: a topic matching two of the collector's filters is stored once.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from test_golden import CASES, read_fixture

from collector.decoders import all_decoders, get_decoder
from collector.mapping import Pipeline, all_subscriptions, canonical_filter
from collector.onboarding import plan_channels
from collector.reload import RegistryWatcher
from collector.unmapped import UnmappedDevice, inspect_sample, proposal_toml
from helpers import endpoint, start_collector, wait_for
from terril.errors import ConfigError, RegistryError
from terril.registry import DEMO_REGISTRY_PATH, load_registry, parse_registry
from terril.registry_edit import add_entry

GOLDEN = Path(__file__).parent / "golden"
RECEIVED_NS = 1_767_222_000 * 10**9


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_golden_channel_is_in_its_decoder_table(case: Path):
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    decoder = get_decoder(case.parent.name)
    for r in expected.get("readings", []):
        assert (r["channel"] or "main") in decoder.channels, (r["channel"], list(decoder.channels))


@pytest.mark.parametrize("fmt", sorted(all_decoders()))
def test_a_bare_meter_maps_the_format_default_channels(fmt: str):
    decoder = get_decoder(fmt)
    plan = plan_channels(fmt, ["m"])
    assert [c["channel"] for c in plan.channels] == list(decoder.default_channels)
    assert set(decoder.default_channels) <= set(decoder.channels)
    assert set(plan.ignored).isdisjoint(decoder.default_channels)
    assert (plan.unmapped_channels == "ignore") == bool(plan.ignored)


def test_channel_plans_refuse_what_would_store_nothing_or_overwrite():
    with pytest.raises(ConfigError, match="emits no channel 'main2'") as info:
        plan_channels("shelly_gen2", ["main2=m"])
    with pytest.raises(ConfigError, match="emits no channel"):
        plan_channels("shelly_gen1", ["main=m"])
    assert "switch:0" in (info.value.hint or "")
    with pytest.raises(ConfigError, match="one meter takes one channel"):
        plan_channels("shelly_gen2", ["L1=m", "L2=m"])
    three = plan_channels("shelly_gen2", ["main=tot", "L1=a", "L2=b", "L3=c"])
    assert three.unmapped_channels == "ignore" and "N" in three.ignored and "0" in three.ignored
    assert plan_channels("native", ["anything=m"]).unmapped_channels is None  # native names channels freely
    linky = plan_channels("linky_tic", ["m"])
    assert {c["channel"]: c.get("rename") for c in linky.channels} == {
        "main": None, "HCHC": {"energy_import_wh": "energy_import_offpeak_wh"},
        "HCHP": {"energy_import_wh": "energy_import_peak_wh"}}


def _linky_registry(channels: list[dict]) -> dict:
    return {"sites": [{"id": "s", "name": "S", "kind": "school", "latitude": 50, "longitude": 2}],
            "meters": [{"id": "m", "site": "s", "carrier": "electricity"}],
            "devices": [{"id": "linky", "site": "s", "format": "linky_tic", "topic": "denky_D6C0C0",
                         "channels": channels, "unmapped_channels": "ignore"}]}


def test_two_channels_giving_one_quantity_to_one_meter_are_quarantined_never_overwritten():
    topic, payload = read_fixture(GOLDEN / "linky_tic/tasmota_tic_full_frame/input.txt")
    topic = "tele/denky_D6C0C0/SENSOR"
    clash = Pipeline(parse_registry(_linky_registry([{"channel": "HCHC", "meter": "m"},
                                                     {"channel": "HCHP", "meter": "m"}])))
    out = clash.process(topic, payload, RECEIVED_NS)
    assert out.rejection is not None and out.rejection.reason == "channel_collision"
    assert "HCHC" in out.rejection.detail and "HCHP" in out.rejection.detail
    plan = plan_channels("linky_tic", ["m"])
    ok = Pipeline(parse_registry(_linky_registry(list(plan.channels))))
    out = ok.process(topic, payload, RECEIVED_NS)
    assert out.rejection is None
    (point,) = out.points
    assert {"energy_import_offpeak_wh", "energy_import_peak_wh", "apparent_power_va"} <= set(point.fields)


def test_unknown_devices_get_the_format_terril_decode_sees_and_their_channels():
    reg = parse_registry({"sites": [{"id": "s", "name": "S", "kind": "school", "latitude": 50, "longitude": 2}],
                          "meters": [{"id": "m", "site": "s", "carrier": "electricity"}],
                          "devices": [{"id": "x", "site": "s", "format": "linky_tic", "topic": "other",
                                       "channels": [{"meter": "m"}]}]})
    topic, payload = read_fixture(GOLDEN / "tasmota/sensor_pow_r2/input.txt")
    rej = Pipeline(reg).process(topic, payload, RECEIVED_NS).rejection
    assert (rej.reason, rej.format, rej.device) == ("unknown_device", "tasmota", "pow1")
    d = UnmappedDevice("pow1", "linky_tic", topic=topic, sample=payload.decode())
    inspect_sample(d)
    assert d.format == "tasmota" and d.channels == ["main"]
    topic, payload = read_fixture(GOLDEN / "shelly_gen2/pro3em_emdata0_wh/input.txt")
    d = UnmappedDevice("?", "unknown", topic=topic, sample=payload.decode())
    inspect_sample(d)
    assert d.channels == ["main", "L1", "L2", "L3"]
    assert 'channel = "L3"' in proposal_toml(d) and "--format shelly_gen2" in proposal_toml(d)


def test_overlapping_filters_have_one_canonical_filter():
    subs = all_subscriptions()
    assert len(subs) == len(set(subs))
    for topic in ("shellies/em3-1/online", "a/b/c/d/events/rpc", "tele/pow1/SENSOR"):
        i = canonical_filter(topic)
        assert i is not None
    assert subs[canonical_filter("shellies/em3-1/online")] in ("shellies/+/online", "+/+/online")
    assert canonical_filter("a/b/c/d/e/events/rpc") is None  # deeper than the 4 levels the ACL allows


REG = """# top comment, kept
[[sites]]
id = "s"  # inline comment, kept
name = "S"
kind = "school"
latitude = 50.0
longitude = 2.0
"""


def test_registry_edits_keep_comments_and_write_nothing_when_invalid(tmp_path: Path):
    path = tmp_path / "r.toml"
    path.write_text(REG, encoding="utf-8")
    reg = add_entry(path, "meters", {"id": "m", "site": "s", "carrier": "gas"})
    assert reg.meter_by_id["m"].carrier == "gas"
    text = path.read_text(encoding="utf-8")
    assert text.startswith(REG) and "# inline comment, kept" in text
    with pytest.raises(RegistryError) as info:
        add_entry(path, "meters", {"id": "m2", "site": "nowhere", "carrier": "gas"})
    assert any("unknown site 'nowhere'" in p.reason for p in info.value.problems)
    with pytest.raises(RegistryError, match="already holds"):
        add_entry(path, "meters", {"id": "m", "site": "s", "carrier": "gas"})
    assert path.read_text(encoding="utf-8") == text  # nothing written
    with pytest.raises(RegistryError, match="read-only"):
        add_entry(DEMO_REGISTRY_PATH, "sites", {"id": "x"})


def test_the_watcher_debounces_refuses_bad_files_and_keeps_the_previous_registry(tmp_path: Path):
    path = tmp_path / "r.toml"
    path.write_text(REG, encoding="utf-8")
    applied = []
    changed = []
    w = RegistryWatcher(path, load_registry(path), applied.append, on_devices_changed=changed.append)
    assert not w.poll()
    path.write_text(REG + 'name2 = "x"\n', encoding="utf-8")  # invalid: unknown field
    assert not w.poll()  # first sight of a change: wait one more poll (the write may not be finished)
    assert not w.poll() and w.refused == 1 and "name2" in w.last_errors[0]
    assert w.current.sites[0].name == "S" and not applied
    add_ok = REG.replace('name = "S"', 'name = "T"')
    path.write_text(add_ok, encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # a distinct mtime whatever the clock resolution
    w.poll()
    assert w.poll() and w.current.sites[0].name == "T" and len(applied) == 1
    assert not changed  # no device changed: the broker is left alone
    w.request()  # SIGHUP: reload at once, without waiting for a change
    assert w.poll() and len(applied) == 2


@pytest.mark.integration
def test_a_topic_matching_two_filters_is_stored_once(private_stack, private_influx):
    stack, influx_db = private_stack, private_influx  # a broker of its own: no retained message of other tests
    reg = parse_registry({"sites": [{"id": "s", "name": "S", "kind": "school", "latitude": 50, "longitude": 2}],
                          "meters": [{"id": "m", "site": "s", "carrier": "electricity"}],
                          "devices": [{"id": "g1", "site": "s", "format": "shelly_gen1", "topic": "em3-dup",
                                       "channels": [{"channel": "0", "meter": "m"}]}]})
    from firmware_sim.publisher import Publisher

    collector = start_collector(stack, reg, influx_db)
    pub = Publisher(endpoint(stack, "simulator"))
    pub.connect()
    try:
        pub.publish("shellies/em3-dup/online", b"true")  # shellies/+/online and +/+/online
        pub.publish("shellies/em3-dup/emeter/0/total", b"1234.5")
        assert pub.wait_all_acked(2)
        assert wait_for(lambda: collector.stats.messages_received >= 2 and collector.pending() == 0, 10)
        time.sleep(0.3)
    finally:
        pub.close()
        collector.stop()
    assert collector.stats.duplicate_copies == 1  # (messages_received also counts our own retained status)
    status = influx_db.query('SELECT count("online") FROM device_status')
    assert int(status[0].values[0][1]) == 1
    assert int(influx_db.query('SELECT count("energy_import_wh") FROM reading')[0].values[0][1]) == 1
    assert not influx_db.query('SELECT * FROM quarantine')
