"""Helpers of the security tests: an MQTT client that records reason codes."""

from __future__ import annotations

import time

import paho.mqtt.client as mqtt

from terril.endpoints import MqttEndpoint, make_mqtt_client, unique_client_id


class Client:
    """A connected MQTT v5 client that records CONNACK, PUBACK reason codes and disconnections."""

    def __init__(self, endpoint: MqttEndpoint, client_id: str | None = None) -> None:
        self.connack: mqtt.ReasonCode | None = None
        self.pubacks: dict[int, mqtt.ReasonCode] = {}
        self.disconnects: list[mqtt.ReasonCode] = []
        self.client = make_mqtt_client(endpoint, client_id or unique_client_id("sec"))
        self.client.on_connect = lambda c, u, f, rc, p=None: setattr(self, "connack", rc)
        self.client.on_publish = lambda c, u, mid, rc=None, p=None: self.pubacks.__setitem__(mid, rc)
        self.client.on_disconnect = lambda c, u, f, rc, p=None: self.disconnects.append(rc)
        self.endpoint = endpoint

    def connect(self, timeout_s: float = 5.0) -> mqtt.ReasonCode | None:
        self.client.connect(self.endpoint.host, self.endpoint.port, keepalive=10)
        self.client.loop_start()
        deadline = time.monotonic() + timeout_s
        while self.connack is None and not self.disconnects and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.connack

    def publish(self, topic: str, payload: bytes, timeout_s: float = 5.0) -> mqtt.ReasonCode | None:
        info = self.client.publish(topic, payload, qos=1)
        deadline = time.monotonic() + timeout_s
        while info.mid not in self.pubacks and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.pubacks.get(info.mid)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
