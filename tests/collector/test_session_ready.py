"""A collector is ready only when the broker has acknowledged its subscriptions.

Between the CONNACK and the SUBACKs, a message another client publishes finds no subscription
and is routed nowhere: ``terril demo`` started its simulator on ``wait_connected`` and, on a
loaded machine, lost the first messages (its run then waited 3 minutes and ended in MISMATCH).
The callbacks are driven by hand here, so that their order is the test's, not the scheduler's.
"""

from __future__ import annotations

import random
import threading

from paho.mqtt.client import ConnectFlags
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from collector.session import Session
from terril.endpoints import MqttEndpoint
from terril.settings import MqttSettings

GRANTED_QOS1 = ReasonCode(PacketTypes.SUBACK, identifier=1)
REFUSED = ReasonCode(PacketTypes.SUBACK, identifier=0x87)  # not authorized
SUCCESS = ReasonCode(PacketTypes.CONNACK, identifier=0)


def _session(n_filters: int, fatal: list[BaseException]) -> Session:
    def connected(session: Session) -> None:
        session.expect_subacks(n_filters)  # what Collector._subscribe declares before its SUBSCRIBEs

    return Session(MqttEndpoint("127.0.0.1", 1, "u", "p"), MqttSettings(), "ready-test", primary=True,
                   on_message=lambda s, m: None, on_connected=connected, on_fatal=fatal.append,
                   halt=threading.Event(), rng=random.Random(0))


def test_subscribed_only_after_every_suback_and_cleared_on_disconnect() -> None:
    fatal: list[BaseException] = []
    s = _session(3, fatal)
    s._on_connect(s.client, None, ConnectFlags(session_present=False), SUCCESS)
    assert s.connected.is_set() and not s.subscribed.is_set()
    s._on_subscribe(s.client, None, 1, [GRANTED_QOS1])
    s._on_subscribe(s.client, None, 2, [GRANTED_QOS1])
    assert not s.subscribed.is_set()  # one SUBACK still to come
    s._on_subscribe(s.client, None, 3, [GRANTED_QOS1])
    assert s.subscribed.is_set()
    s.closing = True  # (no reconnection logic in this test)
    s._on_disconnect(s.client, None, None, SUCCESS)
    assert not s.subscribed.is_set() and not s.connected.is_set()
    # a new connection starts over
    s._on_connect(s.client, None, ConnectFlags(session_present=True), SUCCESS)
    assert not s.subscribed.is_set()
    assert not fatal


def test_a_refused_subscription_never_makes_it_ready() -> None:
    fatal: list[BaseException] = []
    s = _session(1, fatal)
    s._on_connect(s.client, None, ConnectFlags(session_present=False), SUCCESS)
    s._on_subscribe(s.client, None, 1, [REFUSED])
    assert not s.subscribed.is_set() and fatal


def test_no_filter_is_ready_at_once() -> None:
    s = _session(0, [])
    s._on_connect(s.client, None, ConnectFlags(session_present=False), SUCCESS)
    assert s.subscribed.is_set()
