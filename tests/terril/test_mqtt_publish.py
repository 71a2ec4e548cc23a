"""The kernel's QoS-1 publisher against the real broker: clearing retained messages.

``terril demo`` clears the retained device messages an earlier run left on its stack (SunSpec and
OpenDTU values carry a device time that could fall in the new run's live window), so that what
InfluxDB holds can be checked against what was published.
"""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from terril.endpoints import MqttEndpoint, make_mqtt_client
from terril.mqtt_publish import MqttPublisher

pytestmark = pytest.mark.integration


def _retained(endpoint: MqttEndpoint, topic_filter: str) -> dict[str, bytes]:
    """The retained messages the broker hands a new subscription to ``topic_filter``."""
    got: dict[str, bytes] = {}
    subscribed = threading.Event()
    client = make_mqtt_client(endpoint, f"probe-{uuid.uuid4().hex[:6]}")
    client.on_connect = lambda c, *a, **k: c.subscribe(topic_filter, qos=1)
    client.on_subscribe = lambda *a, **k: subscribed.set()
    client.on_message = lambda c, u, m: got.__setitem__(m.topic, m.payload) if m.retain else None
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        threading.Event().wait(0.5)  # retained messages follow the SUBACK at once
    finally:
        client.disconnect()
        client.loop_stop()
    return got


def test_clear_retained_deletes_all_but_the_kept_prefixes(private_stack) -> None:  # noqa: ANN001
    user, password = private_stack.mqtt_credentials("admin")
    endpoint = MqttEndpoint("127.0.0.1", private_stack.mqtt_port, user, password)
    pub = MqttPublisher(endpoint)
    pub.connect()
    try:
        pub.publish("sunspec/inverter/salle-jaures/values", b'{"W": 1200, "time": 1796600000}', retain=True)
        pub.publish("opendtu/114182845673/0/power", b"512.3", retain=True)
        pub.publish("terril/_collector/c1/status", b"online", retain=True)
        pub.publish("terril/site-a/dev-1/telemetry", b'{"not": "retained"}')
        assert pub.wait_all_acked(4, 10)
        assert set(_retained(endpoint, "#")) == {"sunspec/inverter/salle-jaures/values", "opendtu/114182845673/0/power",
                                                 "terril/_collector/c1/status"}
        assert pub.clear_retained("#", keep_prefixes=("$", "terril/_collector/")) == 2
        assert _retained(endpoint, "#") == {"terril/_collector/c1/status": b"online"}
        assert pub.clear_retained("#", keep_prefixes=("$", "terril/_collector/")) == 0  # nothing left to clear
    finally:
        pub.close()
