"""A connected QoS-1 MQTT publisher with a bounded in-flight window, for every part that publishes.

Used by the alerts (``terril analyze`` publishes each meter's open alerts as retained messages)
and by the fleet simulator (:mod:`firmware_sim.publisher` paces its message plans through it).
QoS 1 throughout: :meth:`MqttPublisher.wait_all_acked` says when the broker has acknowledged
what was published.
"""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt

from terril.endpoints import MqttEndpoint, make_mqtt_client, unique_client_id
from terril.errors import MqttError


class MqttPublisher:
    """A connected QoS-1 publisher with a bounded in-flight window.

    ``who`` names the publisher in errors ("the broker refused the simulator"); the client id is
    ``client_id``, else a unique one starting with ``client_id_prefix``.
    """

    #: Default client id prefix and the name used in errors; subclasses set their own.
    client_id_prefix = "terril"
    who = "the publisher"

    def __init__(self, endpoint: MqttEndpoint, client_id: str | None = None, max_inflight: int = 500) -> None:
        self._client = make_mqtt_client(endpoint, client_id or unique_client_id(self.client_id_prefix))
        self._client.max_inflight_messages_set(max_inflight)
        self._client.max_queued_messages_set(0)
        self._window = threading.BoundedSemaphore(max_inflight * 4)
        self._acked = 0
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._client.on_connect = self._on_connect
        self._client.on_publish = self._on_publish
        self.endpoint = endpoint

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):  # noqa: ANN001
        if not reason_code.is_failure:
            self._connected.set()
        else:
            self._refused = reason_code

    def _on_publish(self, client, userdata, mid, reason_code=None, properties=None):  # noqa: ANN001
        with self._lock:
            self._acked += 1
        self._window.release()

    def connect(self, timeout_s: float = 10.0) -> None:
        self._refused = None
        try:
            self._client.connect(self.endpoint.host, self.endpoint.port, keepalive=30)
        except OSError as err:
            raise MqttError(f"cannot reach the MQTT broker at {self.endpoint.url}: {err}",
                            hint="is the broker running? `terril stack status`") from err
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self._client.loop_stop()
            raise MqttError(f"the broker at {self.endpoint.url} refused {self.who}: {self._refused}",
                            hint=f"check the MQTT credentials of {self.who}")

    def publish(self, topic: str, payload: bytes, retain: bool = False, qos: int = 1) -> None:
        self._window.acquire()
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
            self._window.release()
            raise MqttError(f"publish failed on {topic[:80]}: {mqtt.error_string(info.rc)}")
        if qos == 0:
            self._window.release()

    def wait_all_acked(self, expected: int, timeout_s: float = 120.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._acked >= expected:
                    return True
            time.sleep(0.02)
        return False

    def clear_retained(self, topic_filter: str = "#", keep_prefixes: tuple[str, ...] = ("$",),
                       settle_s: float = 0.5, timeout_s: float = 30.0) -> int:
        """Delete the retained messages under ``topic_filter`` (an empty retained payload on each
        topic), except on topics starting with one of ``keep_prefixes``; the number deleted.

        The broker hands a new subscription every retained message at once; ``settle_s`` after
        the last one arrived (or after the subscription, if none) the set is taken as complete.
        The account needs read and write access to ``topic_filter``.
        """
        found: set[str] = set()
        last = [time.monotonic()]
        subscribed = threading.Event()

        def on_message(client, userdata, msg):  # noqa: ANN001
            if msg.retain and msg.payload and not msg.topic.startswith(keep_prefixes):
                with self._lock:
                    found.add(msg.topic)
            last[0] = time.monotonic()

        def on_subscribe(client, userdata, mid, reason_codes, properties=None):  # noqa: ANN001
            last[0] = time.monotonic()
            subscribed.set()

        self._client.on_message = on_message
        self._client.on_subscribe = on_subscribe
        self._client.subscribe(topic_filter, qos=0)
        if not subscribed.wait(timeout_s):
            raise MqttError(f"the broker at {self.endpoint.url} did not answer {self.who}'s subscription to "
                            f"{topic_filter}")
        while time.monotonic() - last[0] < settle_s:
            time.sleep(0.05)
        self._client.unsubscribe(topic_filter)
        self._client.on_message = None
        with self._lock:
            topics = sorted(found)
        base = self.acked
        for topic in topics:
            self.publish(topic, b"", retain=True)
        if not self.wait_all_acked(base + len(topics), timeout_s):
            raise MqttError(f"the broker did not acknowledge the deletion of {len(topics)} retained messages")
        return len(topics)

    @property
    def acked(self) -> int:
        with self._lock:
            return self._acked

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
