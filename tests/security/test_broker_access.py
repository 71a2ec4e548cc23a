"""The real Mosquitto enforces the generated accounts: anonymous refused, devices confined, revocation at once, TLS."""

from __future__ import annotations

import os
import socket
import ssl
import stat
import time
import uuid

import pytest
from paho.mqtt.reasoncodes import ReasonCode

from helpers import count_points, start_collector, wait_for
from sec_helpers import Client
from terril.endpoints import MqttEndpoint, influx_endpoint, mqtt_endpoint
from terril.influx import InfluxClient
from terril.security.broker import read_password_entries
from terril.security.provisioning import local_target, new_device_entry, add_device, revoke_device, rotate_device
from terril.settings import Settings

pytestmark = pytest.mark.integration

NOT_AUTHORIZED = 135
BAD_CREDENTIALS = 134


def _ep(state, user=None, password=None, tls=False) -> MqttEndpoint:
    if tls:
        return MqttEndpoint("127.0.0.1", state.mqtt_tls_port, user, password, True, str(state.ca_file))
    return MqttEndpoint("127.0.0.1", state.mqtt_port, user, password)


def _device(secure_stack, device_id: str):
    """Fresh credentials for a registry device of the secure stack (rotate = issue a new password)."""
    creds, reloaded = rotate_device(local_target(secure_stack.state, secure_stack.registry_path), device_id)
    assert reloaded
    time.sleep(0.2)  # SIGHUP is asynchronous
    return creds


def test_anonymous_and_wrong_password_are_refused(secure_stack):
    state = secure_stack.state
    for user, password in ((None, None), ("ecole-linky", "not-the-password"), ("terril-admin", "")):
        c = Client(_ep(state, user, password))
        rc = c.connect()
        c.close()
        assert rc is not None and rc.is_failure and rc.value in (NOT_AUTHORIZED, BAD_CREDENTIALS), (user, rc)


def test_stack_files_are_private_and_hold_no_clear_device_password(secure_stack):
    state = secure_stack.state
    creds = _device(secure_stack, "ecole-gazpar")
    passwd = state.mosquitto_dir / "passwd"
    assert stat.S_IMODE(passwd.stat().st_mode) == 0o600
    assert read_password_entries(passwd)["ecole-gazpar"].startswith("$7$")  # PBKDF2-SHA512 hash
    for path in state.root.rglob("*"):
        if path.is_file():
            assert creds.password.encode() not in path.read_bytes(), path
    for path in (state.root / "secrets").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_device_cannot_publish_outside_its_topics_and_nothing_reaches_influxdb(secure_stack):
    state = secure_stack.state
    settings = Settings(data_dir=state.data_dir)
    admin = influx_endpoint(settings, "admin").client()
    db = "t_" + uuid.uuid4().hex[:10]
    admin.query(f'CREATE DATABASE "{db}"', method="POST", epoch=None)
    user, password = state.influx_credentials("collector")
    writer = InfluxClient(state.influx_url, db, username=user, password=password)
    admin.query(f'GRANT WRITE ON "{db}" TO "{user}"', method="POST", epoch=None)
    reader = InfluxClient(state.influx_url, db, username="terril_admin", password=state.influx_credentials("admin")[1])
    collector = start_collector(state, secure_stack.registry, writer)
    creds = _device(secure_stack, "ecole-linky")
    dev = Client(_ep(state, creds.username, creds.password))
    try:
        assert not dev.connect().is_failure
        now = int(time.time())
        foreign = dev.publish("terril/ecole/ecole-gazpar/telemetry", f'{{"time": {now}, "volume_m3": 1}}'.encode())
        assert foreign is not None and foreign.value == NOT_AUTHORIZED  # PUBACK 135 with MQTT v5
        for topic in ("terril/_alerts/x", "terril/_collector/x/status", "tele/x/SENSOR", "terril/ecole/other/telemetry"):
            assert dev.publish(topic, b"{}").value == NOT_AUTHORIZED, topic
        own = dev.publish("terril/ecole/ecole-linky/telemetry", f'{{"time": {now}, "energy_import_wh": 5}}'.encode())
        assert own is not None and not own.is_failure
        assert wait_for(lambda: count_points(reader) == 1, 15)
        time.sleep(0.5)  # a refused message would arrive no later than the accepted one
        series = reader.query('SHOW SERIES FROM "reading"')
        assert [v[0] for s in series for v in s.values] == [
            "reading,carrier=electricity,device=ecole-linky,meter=ecole-elec,site=ecole"]
        assert count_points(reader, "quarantine", "payload_bytes") == 0
        # the collector saw only the accepted message (and its own retained status, which it ignores)
        assert collector.stats.readings_decoded == 1 and not collector.stats.quarantined
    finally:
        dev.close()
        collector.stop()
        admin.query(f'DROP DATABASE "{db}"', method="POST", epoch=None)
        for c in (admin, writer, reader):
            c.close()


def test_revoked_device_is_disconnected_and_refused_at_once(secure_stack):
    state = secure_stack.state
    creds = _device(secure_stack, "ecole-gazpar")
    dev = Client(_ep(state, creds.username, creds.password))
    assert not dev.connect().is_failure
    assert not dev.publish("terril/ecole/ecole-gazpar/status", b"online").is_failure
    t0 = time.monotonic()
    result = revoke_device(local_target(state, secure_stack.registry_path), "ecole-gazpar")
    assert result.changed and result.reloaded
    # Mosquitto 2.0.11 drops the connections of an account removed by a SIGHUP reload
    assert wait_for(lambda: bool(dev.disconnects), 5, 0.02)
    elapsed = time.monotonic() - t0
    dev.close()
    again = Client(_ep(state, creds.username, creds.password))
    rc = again.connect()
    again.close()
    assert rc is not None and rc.value in (NOT_AUTHORIZED, BAD_CREDENTIALS)
    assert elapsed < 2.0


def test_device_added_from_the_command_values_can_publish_at_once(secure_stack):
    state = secure_stack.state
    entry = new_device_entry("ecole-sous-pm", "ecole", "shelly_gen2", ["ecole-sous"], topic="shellyplus1pm-a8032ab1")
    creds, reloaded = add_device(local_target(state, secure_stack.registry_path), entry)
    assert reloaded and "ecole-sous-pm" in secure_stack.registry.device_by_id
    time.sleep(0.2)
    dev = Client(_ep(state, creds.username, creds.password))
    assert not dev.connect().is_failure
    assert not dev.publish("shellyplus1pm-a8032ab1/events/rpc", b"{}").is_failure
    assert dev.publish("shellyplus1pm-other/events/rpc", b"{}").value == NOT_AUTHORIZED
    assert dev.publish("terril/ecole/ecole-sous-pm/telemetry", b"{}").value == NOT_AUTHORIZED
    dev.close()


def test_tls_listener_with_the_generated_ca(secure_stack):
    state = secure_stack.state
    user, password = state.mqtt_credentials("admin")
    ok = Client(_ep(state, user, password, tls=True))
    assert not ok.connect().is_failure
    ok.close()
    # the collector's endpoint from settings: mqtts:// URL and CA file
    settings = Settings(data_dir=state.data_dir, mqtt={"url": state.mqtts_url, "ca_file": str(state.ca_file),
                                                       "username": user, "password": password})
    ep = mqtt_endpoint(settings)
    assert ep.tls and ep.port == state.mqtt_tls_port
    c = Client(ep)
    assert not c.connect().is_failure
    c.close()
    # without our CA the server certificate is not trusted
    untrusted = Client(MqttEndpoint("127.0.0.1", state.mqtt_tls_port, user, password, True, None))
    with pytest.raises(ssl.SSLCertVerificationError):
        untrusted.connect()
    # plain MQTT to the TLS port gets no CONNACK: the server waits for a TLS ClientHello and drops us
    with socket.create_connection(("127.0.0.1", state.mqtt_tls_port), timeout=3) as s:
        s.sendall(bytes([0x10, 0x0D, 0x00, 0x04]) + b"MQTT" + bytes([0x05, 0x02, 0x00, 0x0A, 0x00, 0x00, 0x00]))
        try:
            answer = s.recv(16)
        except (ConnectionResetError, socket.timeout):
            answer = b""
    assert not answer.startswith(b"\x20")  # 0x20 = CONNACK
    plain = Client(MqttEndpoint("127.0.0.1", state.mqtt_tls_port, user, password))
    rc = plain.connect(timeout_s=3)
    plain.close()
    assert rc is None or rc.is_failure


def test_local_endpoint_uses_tls_when_a_ca_is_configured(secure_stack):
    state = secure_stack.state
    ep = mqtt_endpoint(Settings(data_dir=state.data_dir, mqtt={"ca_file": str(state.ca_file)}), "collector")
    assert ep.tls and ep.port == state.mqtt_tls_port and ep.username == "terril-collector"
    c = Client(ep)
    assert not c.connect().is_failure
    c.close()
