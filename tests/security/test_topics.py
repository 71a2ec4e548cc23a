"""Device topic namespaces: derived from the format, covering what the decoders read, never overlapping."""

from __future__ import annotations

from pathlib import Path

import pytest
from paho.mqtt.client import topic_matches_sub

from collector.decoders import all_decoders, get_decoder
from terril.errors import ConfigError, IdentifierError
from terril.registry import Device, load_registry, parse_registry
from terril.security.broker import acl_text
from terril.security.topics import (
    FORMAT_TOPICS,
    check_topics,
    device_topics,
    filters_overlap,
    is_valid_topic_key,
)

GOLDEN = Path(__file__).resolve().parent.parent / "collector" / "golden"


@pytest.mark.parametrize("a, b, expected", [
    ("a/b/#", "a/b", True), ("a/b/#", "a/c/#", False), ("+/x/y", "a/+/y", True), ("+/x/y", "a/z/y", False),
    ("a/b", "a/b/c", False), ("#", "anything/at/all", True), ("a/+", "a/b/c", False), ("+/+/+", "a/b/c", True),
    ("tele/t1/#", "t1/tele/#", False), ("tele/tele/#", "tele/+/SENSOR", True),
])
def test_filters_overlap(a: str, b: str, expected: bool):
    assert filters_overlap(a, b) is expected and filters_overlap(b, a) is expected


def test_every_vendor_decoder_has_a_topic_layout():
    named = {n for n, d in all_decoders().items() if d.topic_filters}
    # Home Assistant discovery configs are never readings, but a gateway or node account publishes them
    assert set(FORMAT_TOPICS) == named


def _golden_topics():
    for folder in sorted(GOLDEN.glob("*/*")):
        fmt = folder.parent.name
        if fmt not in FORMAT_TOPICS or not (folder / "input.txt").exists():
            continue
        lines = (folder / "input.txt").read_text(encoding="utf-8").splitlines()
        topic = next((ln for ln in lines if not ln.startswith("#")), "")
        decoder = get_decoder(fmt)
        key = decoder.device_key(topic)
        # what the collector reads must be allowed; layouts it does not subscribe to (deep custom
        # prefixes) are neither collected nor allowed (docs/security.md)
        subscribed = any(topic_matches_sub(f, topic) for f in decoder.topic_filters)
        if key is not None and is_valid_topic_key(key) and subscribed:
            yield pytest.param(fmt, topic, key, id=f"{fmt}/{folder.name}")


@pytest.mark.parametrize("fmt, topic, key", list(_golden_topics()))
def test_acl_covers_every_golden_topic_of_the_device(fmt: str, topic: str, key: str):
    device = Device(id="dev-1", site="site-1", format=fmt, topic=key, channels=[{"meter": "m"}])
    allowed = device_topics(device).publish
    assert any(topic_matches_sub(f, topic) for f in allowed), (topic, allowed)
    # and the same device cannot publish under another key of the same family
    other = device_topics(Device(id="dev-2", site="site-1", format=fmt, topic=key + "x", channels=[{"meter": "m"}]))
    assert not any(topic_matches_sub(f, topic) for f in other.publish)


def test_demo_registry_generates_an_acl_with_one_user_per_device():
    reg = load_registry()
    assert check_topics(reg) == []
    acl = acl_text(reg)
    users = [ln.split(" ", 1)[1] for ln in acl.splitlines() if ln.startswith("user ")]
    assert users == ["terril-admin", "terril-collector", *[d.id for d in reg.devices]]
    assert "terril-simulator" not in acl  # production: no simulator account
    assert acl.splitlines()[0].startswith("#") and not any(ln.startswith("topic") for ln in acl.split("user ")[0].splitlines())
    native = next(d for d in reg.devices if d.format == "native")
    block = acl.split(f"user {native.id}\n", 1)[1].split("\n\n", 1)[0]
    assert block == f"topic write terril/{native.site}/{native.id}/#"


def _registry(devices: list[dict]) -> dict:
    return {"sites": [{"id": "s", "name": "S", "kind": "school", "latitude": 50, "longitude": 2}],
            "meters": [{"id": f"m{i}", "site": "s", "carrier": "electricity"} for i in range(len(devices))],
            "devices": [{"site": "s", "channels": [{"meter": f"m{i}"}], **d} for i, d in enumerate(devices)]}


@pytest.mark.parametrize("topic", ["a b", "x/#", "$SYS", "tasmota_ü", "a/b/c/d/e", "-lead", "a//b", "q'uote",
                                   'dq"x', "semi;colon", "eq=x", "back\\slash", "ｔasmota"])
def test_hostile_vendor_topic_never_reaches_the_acl(topic: str):
    try:
        reg = parse_registry(_registry([{"id": "d0", "format": "tasmota", "topic": topic}]))
    except ConfigError:
        return  # refused by the registry already
    with pytest.raises(ConfigError, match="invalid"):
        acl_text(reg)


@pytest.mark.parametrize("devices, why", [
    ([{"id": "d0", "format": "tasmota", "topic": "plug"}, {"id": "d1", "format": "linky_tic", "topic": "plug"}],
     "share topics"),
    ([{"id": "d0", "format": "shelly_gen2", "topic": "terril/_alerts"}], "invalid"),
    ([{"id": "d0", "format": "tasmota", "topic": "terril"}], "reaches Terril's topics"),
    ([{"id": "d0", "format": "native"}, {"id": "d1", "format": "sunspec", "topic": "x"},
      {"id": "d2", "format": "shelly_gen1", "topic": "inverter"}], "share topics"),
    ([{"id": "terril-admin", "format": "native"}], "reserved for service accounts"),
    ([{"id": "d0", "format": "native", "topic": "other"}], "leave 'topic' empty"),
    ([{"id": "d0", "format": "zigbee2mqtt", "topic": "x"}], "no topic layout"),
])
def test_clashing_or_reserved_namespaces_are_refused(devices: list[dict], why: str):
    reg = parse_registry(_registry(devices))
    with pytest.raises(ConfigError, match=why):
        acl_text(reg)
    assert any(why in p for p in check_topics(reg))


def test_device_topics_refuses_service_names():
    with pytest.raises(IdentifierError):
        device_topics(Device(id="terril-collector", site="s", channels=[{"meter": "m"}]))
