"""The collector's fast PUBLISH path gives the message paho's own handler gives, for any packet.

Each generated MQTT v5 PUBLISH body goes through :class:`collector.fast_publish.IntakeClient`
and through a plain paho ``Client``: same topic, packet id, flags, payload and properties,
same return code, or the same exception for a malformed packet. The batched PUBACKs are the
bytes paho's ``ack()`` would have queued one by one.
"""

from __future__ import annotations

import struct

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.fast_publish import IntakeClient, parse_publish_v5

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _client(cls: type[mqtt.Client], manual_ack: bool) -> tuple[mqtt.Client, list[mqtt.MQTTMessage]]:
    client = cls(mqtt.CallbackAPIVersion.VERSION2, client_id="t", protocol=mqtt.MQTTv5, manual_ack=manual_ack)
    got: list[mqtt.MQTTMessage] = []
    client.on_message = lambda c, u, m: got.append(m)
    return client, got


def _handle(cls: type[mqtt.Client], header: int, body: bytes, manual_ack: bool):  # noqa: ANN202
    client, got = _client(cls, manual_ack)
    client._in_packet = {"command": header, "packet": bytearray(body), "pos": 0}
    try:
        rc = client._handle_publish()
    except Exception as err:  # noqa: BLE001 - compared below: both must fail alike
        return ("raised", type(err)), [], client
    return ("rc", rc), [_fields(m) for m in got], client


def _fields(m: mqtt.MQTTMessage) -> tuple:
    props = m.properties
    return (m._topic, m.mid, m.dup, m.qos, m.retain, bytes(m.payload), type(m.payload),
            type(props), str(props), props.json(), props.isEmpty(), props.pack(),
            getattr(props, "SubscriptionIdentifier", None))


def _vbi(x: int) -> bytes:
    out = bytearray()
    while True:
        byte, x = x % 128, x // 128
        out.append(byte | (0x80 if x else 0))
        if not x:
            return bytes(out)


def publish_body(topic: bytes, qos: int, mid: int, props: bytes, payload: bytes) -> bytes:
    return struct.pack("!H", len(topic)) + topic + (struct.pack("!H", mid) if qos else b"") + props + payload


sub_ids = st.lists(st.integers(1, 268_435_455), max_size=3)


@st.composite
def properties(draw) -> bytes:  # noqa: ANN001
    """A properties section: subscription identifiers only (the fast path), or with other properties."""
    ids = draw(sub_ids)
    if draw(st.booleans()):
        return _vbi(sum(1 + len(_vbi(i)) for i in ids)) + b"".join(b"\x0b" + _vbi(i) for i in ids)
    p = Properties(PacketTypes.PUBLISH)
    for i in ids:
        p.SubscriptionIdentifier = i
    choice = draw(st.sampled_from(["user", "alias", "content", "expiry", "none"]))
    if choice == "user":
        p.UserProperty = (draw(st.text(max_size=8)), draw(st.text(max_size=8)))
    elif choice == "alias":
        p.TopicAlias = draw(st.integers(1, 65535))
    elif choice == "content":
        p.ContentType = draw(st.text(max_size=12))
    elif choice == "expiry":
        p.MessageExpiryInterval = draw(st.integers(0, 2**32 - 1))
    return p.pack()


@SETTINGS
@given(topic=st.one_of(st.text(max_size=40).map(str.encode), st.binary(max_size=12)), qos=st.integers(0, 2),
       mid=st.integers(1, 65535), dup=st.booleans(), retain=st.booleans(), props=properties(),
       payload=st.binary(max_size=64), manual_ack=st.booleans())
def test_same_message_as_paho(topic, qos, mid, dup, retain, props, payload, manual_ack) -> None:  # noqa: ANN001
    header = 0x30 | (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    body = publish_body(topic, qos, mid, props, payload)
    fast, fast_msgs, _ = _handle(IntakeClient, header, body, manual_ack)
    slow, slow_msgs, _ = _handle(mqtt.Client, header, body, manual_ack)
    assert fast == slow
    assert fast_msgs == slow_msgs


@SETTINGS
@given(body=st.binary(max_size=40), qos=st.integers(0, 1), cut=st.integers(0, 60))
def test_malformed_or_truncated_alike(body, qos, cut) -> None:  # noqa: ANN001
    good = publish_body(b"terril/s/d/telemetry", qos, 7, b"\x02\x0b\x01", b'{"power_w": 1}')
    for candidate in (body, good[:cut]):
        header = 0x30 | (qos << 1)
        assert _handle(IntakeClient, header, candidate, True)[:2] == _handle(mqtt.Client, header, candidate, True)[:2]


def test_fast_path_taken_for_the_collectors_stream() -> None:
    body = publish_body(b"terril/site-01/site-01-d03/telemetry", 1, 42, b"\x02\x0b\x01", b'{"power_w": 5}')
    assert parse_publish_v5(body, 1) == (b"terril/site-01/site-01-d03/telemetry", 42, [1], b'{"power_w": 5}')
    assert parse_publish_v5(body[:-5], 1) == (b"terril/site-01/site-01-d03/telemetry", 42, [1], b'{"power_w')
    assert parse_publish_v5(body[:30], 1) is None  # the topic cut short
    user = Properties(PacketTypes.PUBLISH)
    user.UserProperty = ("share_group", "g")
    assert parse_publish_v5(publish_body(b"t", 1, 1, user.pack(), b""), 1) is None  # paho's parser reads those


@pytest.mark.parametrize("manual_ack", [True])
def test_batched_pubacks_are_pahos_bytes(manual_ack: bool) -> None:
    mids = [1, 2, 300, 65535, 9]
    fast, _ = _client(IntakeClient, manual_ack)
    fast.puback_many(mids)
    slow, _ = _client(mqtt.Client, manual_ack)
    for mid in mids:
        slow.ack(mid, 1)
    assert b"".join(bytes(p["packet"]) for p in fast._out_packet) == b"".join(bytes(p["packet"]) for p in slow._out_packet)
    assert len(fast._out_packet) == 1
