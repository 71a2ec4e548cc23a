"""A paho client that reads the collector's PUBLISH packets without paho's generic MQTT v5 properties parser.

paho-mqtt builds a :class:`~paho.mqtt.properties.Properties` object for every MQTT v5 message
it receives: its constructor fills two tables of 27 entries, ``unpack`` first clears every
name, and each property read goes through ``__setattr__``, which scans the name table several
times. For the collector's stream (one Subscription Identifier per message, nothing else)
that was about 40 % of the network thread's CPU, more than decoding, mapping and formatting
together (profile in docs/delivery.md).

:class:`IntakeClient` overrides paho's PUBLISH handler for the common case only: QoS 0 or 1,
a well-formed packet whose properties are Subscription Identifiers and nothing else, no paho
logging. It then reads topic, packet id, identifiers and payload directly and hands paho's
own ``on_message`` dispatch the same :class:`~paho.mqtt.client.MQTTMessage` paho would have
built, with a real ``Properties`` object. Anything else (QoS 2, other properties such as user
properties or a topic alias, a malformed packet, a logger) goes to paho's handler unchanged.
``tests/collector/test_fast_publish.py`` checks, on generated packets, that both give the
same message.

:meth:`IntakeClient.puback_many` queues the PUBACKs of a stored batch as one packet of
concatenated PUBACKs (the same bytes on the wire): one wake-up of the network thread and one
``send`` per batch, where ``ack()`` takes one of each per message.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

__all__ = ["IntakeClient", "parse_publish_v5", "publish_properties"]

_PUBACK = 0x40
_PUBACK_FORMAT = struct.Struct("!BBH")  # PUBACK, remaining length 2, packet id (reason code 0 omitted)
_SUBSCRIPTION_IDENTIFIER = 11  # MQTT v5 property identifier (a Variable Byte Integer)
#: a PUBLISH Properties object, whose tables (never mutated by paho) every fast-path object shares
_PROTOTYPE = Properties(PacketTypes.PUBLISH)
_SHARED = dict(_PROTOTYPE.__dict__)


def _vbi(buf: bytes | bytearray, pos: int) -> tuple[int, int] | None:
    """A Variable Byte Integer at ``pos``: (value, position after it), or None when malformed."""
    value = 0
    shift = 0
    for i in range(pos, min(pos + 4, len(buf))):
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            if i > pos and byte == 0:
                return None  # not the minimal encoding: let paho decide
            return value, i + 1
        shift += 7
    return None


def parse_publish_v5(packet: bytes | bytearray, qos: int) -> tuple[bytes, int, list[int], bytes] | None:
    """(topic, packet id, subscription identifiers, payload) of an MQTT v5 PUBLISH body (after the fixed
    header), or None when it is malformed or carries any other property than Subscription Identifiers."""
    n = len(packet)
    if n < 2:
        return None
    pos = 2 + ((packet[0] << 8) | packet[1])
    if pos > n:
        return None
    topic = bytes(packet[2:pos])
    mid = 0
    if qos > 0:
        if pos + 2 > n:
            return None
        mid = (packet[pos] << 8) | packet[pos + 1]
        pos += 2
    found = _vbi(packet, pos)
    if found is None:
        return None
    length, pos = found
    end = pos + length
    if end > n:
        return None
    sub_ids: list[int] = []
    while pos < end:
        if packet[pos] != _SUBSCRIPTION_IDENTIFIER:
            return None
        found = _vbi(packet, pos + 1)
        if found is None or found[1] > end or found[0] == 0:
            return None
        sub_ids.append(found[0])
        pos = found[1]
    return topic, mid, sub_ids, bytes(packet[end:])


def publish_properties(sub_ids: list[int]) -> Properties:
    """The PUBLISH ``Properties`` paho would build for these subscription identifiers (none: empty)."""
    props = object.__new__(Properties)
    attrs = props.__dict__
    attrs.update(_SHARED)
    if sub_ids:
        attrs["SubscriptionIdentifier"] = sub_ids
    return props


class IntakeClient(mqtt.Client):
    """paho's client, with a fast path for the PUBLISH packets the collector receives (see the module)."""

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        if (qos > 1 or self._protocol != mqtt.MQTTv5 or self._logger is not None
                or self.on_log is not None):
            return super()._handle_publish()
        parsed = parse_publish_v5(self._in_packet["packet"], qos)
        if parsed is None:
            return super()._handle_publish()
        topic, mid, sub_ids, payload = parsed
        message = mqtt.MQTTMessage(mid=mid, topic=topic)
        message.dup = (header & 0x08) != 0
        message.qos = qos
        message.retain = (header & 0x01) != 0
        message.properties = publish_properties(sub_ids)
        message.payload = payload
        message.timestamp = mqtt.time_func()
        self._handle_on_message(message)
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def puback_many(self, mids: Sequence[int]) -> mqtt.MQTTErrorCode:
        """Queue the PUBACKs of ``mids`` (QoS 1, manual acks), in order, as one write."""
        if not mids:
            return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
        if not self._manual_ack or self._logger is not None or self.on_log is not None:
            rc = mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
            for mid in mids:  # paho's own path, with its log line per ack
                rc = self.ack(mid, 1) or rc
            return rc
        pack = _PUBACK_FORMAT.pack
        return self._packet_queue(_PUBACK, b"".join([pack(_PUBACK, 2, mid) for mid in mids]), 0, 1)
