"""One MQTT connection of the collector: its own (primary) or a peer's, taken over.

QoS 1, persistent session (stable client id, clean start off, session expiry), manual acks.
A :class:`Session` knows nothing of its owner: what to do with a message, on (re)connection,
on a lost connection and on a fatal error are callbacks given to it. Acks are only sent on
the connection that received their message (:meth:`Session.ack_many` drops an ack whose
connection is gone: the broker redelivers that message).
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.fast_publish import IntakeClient
from collector.watchdog import backoff_s
from terril.endpoints import MqttEndpoint, make_mqtt_client
from terril.errors import MqttError
from terril.settings import MqttSettings

log = logging.getLogger("terril.collector")


class Ack(NamedTuple):
    """What acknowledging one message takes: its connection (session + generation) and packet id."""

    session: "Session"
    generation: int
    mid: int
    qos: int


@dataclass(frozen=True, slots=True)
class Will:
    """The message the broker publishes when the connection is lost."""

    topic: str
    payload: bytes
    properties: Properties | None = None


class Session:
    """One MQTT connection, with its paho client and network thread.

    Parameters
    ----------
    endpoint, mqtt_settings, client_id
        Where to connect, how (keepalive, session expiry, receive maximum, reconnect delays) and as whom.
    primary
        The collector's own session (it reconnects for ever); else a peer's session taken
        over, which stops for good when its connection ends.
    on_message
        ``(session, message)``, on this session's network thread.
    on_connected
        ``(session)`` after each successful CONNACK (subscribe there).
    on_lost
        ``()`` when a primary session's connection is lost (paho then reconnects with backoff).
    on_fatal
        ``(error)`` when the broker refuses our credentials or subscriptions.
    halt
        Set when the owner stops: no more waiting for reconnection jitter.
    """

    def __init__(self, endpoint: MqttEndpoint, mqtt_settings: MqttSettings, client_id: str, *, primary: bool,
                 on_message: Callable[["Session", mqtt.MQTTMessage], None],
                 on_connected: Callable[["Session"], None],
                 on_fatal: Callable[[BaseException], None],
                 on_lost: Callable[[], None] | None = None,
                 halt: threading.Event, rng: random.Random, will: Will | None = None) -> None:
        self.endpoint = endpoint
        self.mqtt_settings = mqtt_settings
        self.client_id = client_id
        self.primary = primary
        self.generation = 0
        self.connected = threading.Event()
        # set once the broker acknowledged every subscription of this connection (see
        # :meth:`expect_subacks`): only from then on does it route what others publish to us
        self.subscribed = threading.Event()
        self._subacks_pending = 0
        self.connected_since = 0.0
        self.last_message = time.monotonic()
        self.unacked = 0
        self.attempt = 0
        self.closing = False
        self.finished = threading.Event()  # a takeover session that is done
        self.session_present = False
        self.unsubscribed = False
        self.ack_lock = threading.Lock()
        self._on_message_cb = on_message
        self._on_connected_cb = on_connected
        self._on_fatal = on_fatal
        self._on_lost = on_lost
        self._halt = halt
        self._rng = rng
        self.client = make_mqtt_client(endpoint, client_id, manual_ack=True, client_class=IntakeClient)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_pre_connect = self._on_pre_connect
        self.client.reconnect_delay_set(min_delay=mqtt_settings.reconnect_min_s,  # type: ignore[arg-type]
                                        max_delay=mqtt_settings.reconnect_max_s)  # type: ignore[arg-type]
        self.client.max_queued_messages_set(0)
        if will is not None:
            self.client.will_set(will.topic, will.payload, qos=1, retain=True, properties=will.properties)

    # ---- paho callbacks (this session's network thread) ----
    def _on_pre_connect(self, client, userdata):  # noqa: ANN001
        if self.attempt > 0:  # paho waits its exponential delay; add jitter so collectors do not reconnect in step
            extra = backoff_s(self.attempt, self.mqtt_settings.reconnect_min_s,
                              self.mqtt_settings.reconnect_max_s, self._rng) * 0.5
            self._halt.wait(extra)
        self.attempt += 1

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):  # noqa: ANN001
        if reason_code.is_failure:
            log.error("MQTT connection of %s refused: %s", self.client_id, reason_code)
            if reason_code.value in (134, 135):  # bad user name or password, not authorized
                self._on_fatal(MqttError(f"the broker refused our credentials ({reason_code})",
                                         hint="check TERRIL_MQTT__USERNAME and the password file"))
            return
        self.attempt = 0
        self.session_present = bool(flags.session_present)
        self.connected_since = time.monotonic()
        with self.ack_lock:
            self.generation += 1
            self.subscribed.clear()
            self.connected.set()
        self._on_connected_cb(self)

    def expect_subacks(self, n: int) -> None:
        """The connection callback is about to send ``n`` SUBSCRIBE packets: :attr:`subscribed` is
        set when the broker has acknowledged them all (at once when ``n`` is 0)."""
        with self.ack_lock:
            self._subacks_pending = n
            if n <= 0:
                self.subscribed.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None):  # noqa: ANN001
        refused = [str(rc) for rc in reason_codes if rc.is_failure]
        if refused:
            self._on_fatal(MqttError(f"the broker refused our subscriptions: {', '.join(refused)}",
                                     hint="check the collector account's ACL (it needs `topic read #`)"))
            return
        with self.ack_lock:
            self._subacks_pending -= 1
            if self._subacks_pending <= 0:
                self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):  # noqa: ANN001
        with self.ack_lock:
            self.connected.clear()
            self.subscribed.clear()
            self.generation += 1  # acks of that connection are void from now on
        if self.closing:
            return
        if not self.primary:
            # the peer came back (it took its session over) or another collector did: stop here
            log.info("session of %s released (%s)", self.client_id, reason_code)
            self.closing = True
            client.disconnect()  # stops paho's reconnect loop
            self.finished.set()
            return
        if self._on_lost is not None:
            self._on_lost()
        log.warning("MQTT connection lost (%s); reconnecting with backoff", reason_code)

    def _on_message(self, client, userdata, message):  # noqa: ANN001
        self.last_message = time.monotonic()
        self._on_message_cb(self, message)

    # ---- called from other threads ----
    def token(self, message: mqtt.MQTTMessage) -> Ack:
        """Count ``message`` as unacknowledged and return what acknowledging it takes (call under a lock that
        orders acks)."""
        with self.ack_lock:
            self.unacked += 1
            return Ack(self, self.generation, message.mid, message.qos)

    def ack_many(self, tokens: list[Ack]) -> int:
        """Send the PUBACKs of ``tokens`` (all of this session, in order) whose connection is still the current
        one; returns how many were sent, the others are dropped."""
        with self.ack_lock:
            self.unacked -= len(tokens)
            if not self.connected.is_set():
                return 0
            generation = self.generation
            current = [t for t in tokens if t.generation == generation]
            if all(t.qos == 1 for t in current):  # the collector subscribes at QoS 1: one write for the run
                self.client.puback_many([t.mid for t in current])
            else:
                for token in current:
                    self.client.ack(token.mid, token.qos)
        return len(current)

    def connect(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.mqtt_settings.session_expiry_s
        props.ReceiveMaximum = self.mqtt_settings.receive_maximum
        self.client.connect(self.endpoint.host, self.endpoint.port,
                            keepalive=self.mqtt_settings.keepalive_s, clean_start=False, properties=props)
        self.client.loop_start()

    def drop_connection(self) -> None:
        """Shut the socket down under paho's feet: paho sees a lost connection and reconnects."""
        sock = self.client.socket()
        if sock is None:
            return
        try:
            dup = socket.fromfd(sock.fileno(), socket.AF_INET, socket.SOCK_STREAM)
            try:
                dup.shutdown(socket.SHUT_RDWR)
            finally:
                dup.close()
        except OSError as err:
            log.warning("could not drop the connection of %s: %s", self.client_id, err)

    def retire(self) -> None:
        """End a taken-over session for good (session expiry 0 on DISCONNECT)."""
        self.closing = True
        props = Properties(PacketTypes.DISCONNECT)
        props.SessionExpiryInterval = 0
        self.client.disconnect(properties=props)

    def close(self) -> None:
        self.closing = True
        self.client.disconnect()
        self.client.loop_stop()
