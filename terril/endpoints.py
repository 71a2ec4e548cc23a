"""Where the broker and the database are: from the settings, or from the running local stack.

Every command that talks to MQTT or InfluxDB resolves its endpoints here, so
that ``terril collect`` and ``terril simulate`` work against the local stack
with no configuration and against production with ``TERRIL_MQTT__URL`` etc.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from terril.errors import ConfigError, StackError
from terril.influx import InfluxClient
from terril.settings import Settings, influx_password, mqtt_password
from terril.stack import StackState, is_running, read_state

_C = TypeVar("_C", bound=mqtt.Client)


@dataclass(frozen=True)
class MqttEndpoint:
    """A broker address and the credentials to use there."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool = False
    ca_file: str | None = None

    def __repr__(self) -> str:  # never show the password
        return f"MqttEndpoint({self.host}:{self.port}, user={self.username!r}, tls={self.tls})"

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


@dataclass(frozen=True)
class InfluxEndpoint:
    """An InfluxDB address, database and credentials."""

    url: str
    database: str
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        return f"InfluxEndpoint({self.url}, db={self.database!r}, user={self.username!r})"

    def client(self, timeout_s: float = 10.0, gzip_level: int = 1) -> InfluxClient:
        return InfluxClient(self.url, self.database, username=self.username, password=self.password,
                            timeout_s=timeout_s, gzip_level=gzip_level)


def local_stack(settings: Settings, needs: tuple[str, ...] = ("mosquitto", "influxdb")) -> StackState:
    """The local stack of ``settings.data_dir`` with the servers in ``needs`` running, or a StackError
    saying how to start it."""
    state = read_state(settings.data_dir)
    if state is None or not all(alive for name, alive in is_running(state).items() if name in needs):
        raise StackError(f"the local stack in {settings.data_dir} is not running",
                         hint="start it with `terril stack up`, or set TERRIL_MQTT__URL and TERRIL_INFLUX__URL")
    return state


def mqtt_endpoint(settings: Settings, role: str = "collector") -> MqttEndpoint:
    """Broker endpoint for ``role`` (collector, simulator, admin)."""
    if settings.mqtt.url:
        parsed = urlparse(settings.mqtt.url)
        if parsed.scheme not in ("mqtt", "mqtts") or not parsed.hostname:
            raise ConfigError(f"setting 'mqtt.url': {settings.mqtt.url!r} is not mqtt://host:port or mqtts://host:port")
        tls = parsed.scheme == "mqtts"
        return MqttEndpoint(parsed.hostname, parsed.port or (8883 if tls else 1883), settings.mqtt.username,
                            mqtt_password(settings), tls, str(settings.mqtt.ca_file) if settings.mqtt.ca_file else None)
    state = local_stack(settings, ("mosquitto",))
    user, password = state.mqtt_credentials(role)
    if settings.mqtt.ca_file is not None and state.mqtt_tls_port:
        # a CA configured for the local stack: use its TLS listener
        return MqttEndpoint("127.0.0.1", state.mqtt_tls_port, user, password, True, str(settings.mqtt.ca_file))
    return MqttEndpoint("127.0.0.1", state.mqtt_port, user, password)


def influx_endpoint(settings: Settings, role: str = "admin", *, require_running: bool = True) -> InfluxEndpoint:
    """InfluxDB endpoint from the settings, or the local stack's for ``role``.

    ``require_running=False``: the local stack's address even while its InfluxDB is down (the
    collector starts and spools during an outage).

    Roles on a local stack started with ``--influx-auth``: ``collector`` (write only),
    ``reader`` (read only: exports, Grafana), ``analytics`` (read and write the database),
    ``admin``. With explicit settings (``TERRIL_INFLUX__URL``) the configured user is used:
    each production process gets its own user through its own environment.
    """
    if settings.influx.url:
        return InfluxEndpoint(settings.influx.url, settings.influx.database, settings.influx.username,
                              influx_password(settings))
    state = local_stack(settings, ("influxdb",) if require_running else ())
    user, password = state.influx_credentials(role)
    return InfluxEndpoint(state.influx_url, settings.influx.database, user, password)


def make_mqtt_client(endpoint: MqttEndpoint, client_id: str, *, clean_start: bool = True,
                     session_expiry_s: int | None = None, manual_ack: bool = False,
                     client_class: type[_C] = mqtt.Client) -> _C:  # type: ignore[assignment]
    """A paho MQTT v5 client configured for ``endpoint`` (not yet connected); ``client_class``: paho's
    ``Client`` or a subclass of it (the collector's reads its messages faster)."""
    client = client_class(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                          manual_ack=manual_ack)
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password)
    if endpoint.tls:
        context = ssl.create_default_context(cafile=endpoint.ca_file) if endpoint.ca_file else ssl.create_default_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        client.tls_set_context(context)
    return client


def unique_client_id(prefix: str) -> str:
    """A client id for short-lived clients (simulator, tools)."""
    return f"{prefix}-{os.getpid()}-{os.urandom(3).hex()}"
