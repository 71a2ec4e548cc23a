"""Shared test helpers: small registries, a collector running in a thread, waiting for counts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from collector.mapping import Pipeline
from collector.service import Collector
from terril.endpoints import MqttEndpoint
from terril.influx import InfluxClient
from terril.registry import Registry, parse_registry
from terril.settings import CollectorSettings, MqttSettings
from terril.stack import StackState


def make_registry(n_sites: int, devices_per_site: int, fmt: str = "native") -> Registry:
    """A registry of ``n_sites`` schools, each with ``devices_per_site`` electricity devices (one meter each)."""
    sites, meters, devices = [], [], []
    for s in range(n_sites):
        sid = f"site-{s:02d}"
        sites.append({"id": sid, "name": f"Site {s}", "kind": "school", "floor_area_m2": 1000,
                      "latitude": 50.46, "longitude": 2.79})
        for d in range(devices_per_site):
            mid, did = f"{sid}-m{d:02d}", f"{sid}-d{d:02d}"
            meters.append({"id": mid, "site": sid, "carrier": "electricity"})
            devices.append({"id": did, "site": sid, "format": fmt, "channels": [{"channel": "main", "meter": mid}]})
    return parse_registry({"sites": sites, "meters": meters, "devices": devices}, source="<test>")


def endpoint(stack: StackState, role: str) -> MqttEndpoint:
    user, password = stack.mqtt_credentials(role)
    return MqttEndpoint("127.0.0.1", stack.mqtt_port, user, password)


def start_collector(stack: StackState, registry: Registry, influx: InfluxClient, **collector_kw) -> Collector:
    """A collector connected to the test stack, writing into ``influx``'s database."""
    mqtt_settings = MqttSettings(client_id=f"test-{uuid.uuid4().hex[:8]}", session_expiry_s=60)
    c = Collector(Pipeline(registry), endpoint(stack, "collector"), influx, mqtt_settings,
                  CollectorSettings(**collector_kw))
    c.start()
    assert c.wait_connected(10), "collector did not connect"
    time.sleep(0.2)  # let the SUBACK arrive before publishers start
    return c


def wait_for(predicate: Callable[[], bool], timeout_s: float = 30.0, interval_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


def count_points(client: InfluxClient, measurement: str = "reading", field: str = "received_ns") -> int:
    series = client.query(f'SELECT count("{field}") FROM "{measurement}"')
    return int(series[0].values[0][1]) if series else 0
