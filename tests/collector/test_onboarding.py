"""Onboarding end to end, one vendor family at a time, with the collector already running.

The collector starts once, on a registry file holding only a site. For each family, as an
operator would: ``terril meters add`` and ``terril devices add`` (their command functions,
in-process), then the device publishes a golden payload from ``tests/collector/golden/`` with
its own new credentials; the readings must be in InfluxDB, exactly those of the channels
``devices add`` mapped, with no hand edit and no collector restart.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from test_golden import GOLDEN, read_fixture

from collector.decoders import get_decoder
from collector.mapping import Pipeline
from collector.onboarding import plan_channels
from collector.reload import local_broker_sync
from collector.service import Collector
from helpers import endpoint, wait_for
from terril.cli.registry import meters_add_cmd
from terril.cli.security import devices_add_cmd
from terril.endpoints import MqttEndpoint, make_mqtt_client
from terril.influx import InfluxClient
from terril.registry import load_registry
from terril.settings import CollectorSettings, MqttSettings
from terril.stack import stack_down, stack_up
from terril.timeutil import parse_rfc3339

pytestmark = pytest.mark.integration

SITE = """# Onboarding test registry: a comment that must survive every edit
[town]
name = "Test"

[[sites]]
id = "mairie"
name = "Mairie"
kind = "town_hall"
latitude = 50.46
longitude = 2.79
"""

#: family -> (golden case, format, topic to publish on (None: the fixture's), device key)
FAMILIES = {
    "shelly_gen2_plug_gen4": ("shelly_gen2/gen4_1pm_switch0", "shelly_gen2", None,
                              "aiida/12345678-1234-1234-1234-123456789abc"),  # a prefix of two levels
    "shelly_gen2_pro3em": ("shelly_gen2/pro3em_emdata0_wh", "shelly_gen2", "shellypro3em-8813bfe14804/events/rpc",
                           "shellypro3em-8813bfe14804"),
    "shelly_gen1": ("shelly_gen1/emeter_total_wh", "shelly_gen1", None, "shellyem3-8CAAB5616291"),
    "tasmota": ("tasmota/sensor_pow_r2", "tasmota", None, "pow1"),
    "opendtu": ("opendtu/ch0_yieldtotal_kwh", "opendtu", None, "114190641177"),
    "ahoydtu": ("ahoydtu/ch0_p_ac", "ahoydtu", None, "HM600-garage"),
    "sunspec": ("sunspec/fronius_inverter_values", "sunspec", None, "primo"),
    "wmbusmeters": ("wmbusmeters/kamheat_multical603", "wmbusmeters", None, "Heat"),
    "linky_historic_tasmota": ("linky_tic/tasmota_tic_full_frame", "linky_tic", "tele/denky_D6C0C0/SENSOR",
                               "denky_D6C0C0"),  # HCHC and HCHP kept apart on one meter
    "linky_standard_raw_frame": ("linky_tic/raw_standard_frame_triphase", "linky_tic", "teleinfo/031776013513",
                                 "031776013513"),  # standard mode: EAST, SINSTS... on main, the rest counted
    "linky_teleinfo2mqtt": ("linky_tic/teleinfo2mqtt_base_leading_zero_id", "linky_tic", None, "012345678912"),
    "native": (None, "native", None, None),
    "ha_discovery": ("ha_discovery/teleinfo2mqtt_base", "ha_discovery", None, "teleinfo"),
}


@pytest.fixture(scope="module")
def onboarding(tmp_path_factory):
    """A stack of its own, a registry file with one site, and a collector watching that file."""
    root = tmp_path_factory.mktemp("onboarding")
    state, _ = stack_up(root / "stack")
    registry_path = root / "registry.toml"
    registry_path.write_text(SITE, encoding="utf-8")
    influx = InfluxClient(state.influx_url, "onboarding")
    influx.create_database()
    collector = Collector(Pipeline(load_registry(registry_path)), endpoint(state, "collector"), influx,
                          MqttSettings(client_id=f"onb-{uuid.uuid4().hex[:6]}", session_expiry_s=60),
                          CollectorSettings(flush_interval_s=0.1))
    collector.watch_registry(registry_path, interval_s=0.1,
                             on_devices_changed=local_broker_sync(state.data_dir, registry_path))
    collector.start()
    assert collector.wait_connected(10)
    try:
        yield state, registry_path, influx, collector
    finally:
        collector.stop()
        influx.close()
        stack_down(root / "stack")


def _publish(state, device_id: str, password: str, topic: str, payload: bytes) -> int:
    """Publish once with the device's own account; the PUBACK reason code (0: a subscriber took it)."""
    client = make_mqtt_client(MqttEndpoint("127.0.0.1", state.mqtt_port, device_id, password), f"dev-{device_id}")
    done = threading.Event()
    codes: list[int] = []

    def on_publish(c, userdata, mid, reason_code=None, properties=None):  # noqa: ANN001
        codes.append(reason_code.value if reason_code is not None else 0)
        done.set()

    client.on_publish = on_publish
    # the broker was reloaded by `devices add` (SIGHUP): the account may take a moment to exist
    assert wait_for(lambda: client.connect("127.0.0.1", state.mqtt_port) == 0 and client.loop(1.0) == 0
                    and client.is_connected(), 5, 0.2), "the device's new account was refused"
    client.loop_start()
    client.publish(topic, payload, qos=1)
    assert done.wait(5)
    client.disconnect()
    client.loop_stop()
    return codes[0]


def _expected_fields(case: str, fmt: str, plan) -> dict[str, float]:  # noqa: ANN001
    """What the meter must hold: the golden readings of the channels the plan maps (renames applied)."""
    expected = json.loads((GOLDEN / case / "expected.json").read_text(encoding="utf-8"))
    by_channel = {c["channel"]: c for c in plan.channels}
    fields: dict[str, float] = {}
    for r in expected.get("readings", []):
        ch = by_channel.get(r["channel"]) if r["channel"] is not None else \
            by_channel.get("main", plan.channels[0])
        if ch is not None:
            fields[ch.get("rename", {}).get(r["quantity"], r["quantity"])] = float(r["value"])
    return fields


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_device_added_by_the_book_is_stored_at_once(onboarding, family, capsys):
    state, registry_path, influx, collector = onboarding
    case, fmt, topic, key = FAMILIES[family]
    device_id, meter_id = f"d-{family.replace('_', '-')}", f"m-{family.replace('_', '-')}"
    meters_add_cmd(meter_id, site="mairie", carrier="pv" if fmt in ("opendtu", "ahoydtu", "sunspec") else
                   "heat" if fmt == "wmbusmeters" else "electricity", registry=registry_path)
    devices_add_cmd(device_id, site="mairie", format=fmt, meter=[meter_id], topic=key, registry=registry_path,
                    data_dir=Path(state.data_dir), json_out=True)
    creds = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert registry_path.read_text(encoding="utf-8").startswith("# Onboarding test registry")  # comments kept
    assert wait_for(lambda: device_id in collector.pipeline.registry.device_by_id, 10), "collector did not reload"

    if case is None:  # native: the device speaks Terril's own JSON
        topic, payload = f"terril/mairie/{device_id}/telemetry", b'{"energy_import_wh": 1234.5, "power_w": 42}'
        want = {"energy_import_wh": 1234.5, "power_w": 42.0}
    else:
        fixture_topic, payload = read_fixture(GOLDEN / case / "input.txt")
        expected_topic = json.loads((GOLDEN / case / "expected.json").read_text(encoding="utf-8")).get("topic")
        topic = topic or expected_topic or fixture_topic
        want = _expected_fields(case, fmt, plan_channels(fmt, [meter_id]))
    assert get_decoder(fmt).device_key(topic) == (key or device_id)
    quarantined = sum(collector.stats.quarantined.values())
    received = collector.stats.messages_received
    assert _publish(state, creds["username"], creds["password"], topic, payload) == 0  # not "no subscribers"
    assert wait_for(lambda: collector.stats.messages_received > received and collector.pending() == 0, 10)

    if not want:  # discovery configs: accepted and counted, never readings, never quarantined
        assert fmt == "ha_discovery"
        assert sum(collector.stats.quarantined.values()) == quarantined
        return

    def stored() -> dict[str, float]:
        out: dict[str, float] = {}
        for s in influx.query(f"SELECT * FROM reading WHERE \"meter\" = '{meter_id}'"):
            for rec in s.records():
                out.update({k: v for k, v in rec.items() if isinstance(v, (int, float)) and k not in
                            ("time", "received_ns")})
        return out

    assert wait_for(lambda: stored().keys() >= want.keys(), 10), (stored(), want)
    got = stored()
    assert got.keys() == want.keys()
    for name, value in want.items():
        assert math.isclose(got[name], value, rel_tol=1e-9, abs_tol=1e-9), (name, got[name], value)
    assert sum(collector.stats.quarantined.values()) == quarantined
    if case is not None and "time" in json.dumps(json.loads((GOLDEN / case / "expected.json").read_text())):
        times = {r["time"] for r in json.loads((GOLDEN / case / "expected.json").read_text())["readings"]}
        if len(times) == 1 and None not in times:  # the device's own time is the point's time
            row = influx.query(f"SELECT * FROM reading WHERE \"meter\" = '{meter_id}'")[0]
            assert int(row.values[0][0]) == parse_rfc3339(times.pop())


def test_an_unknown_device_is_proposed_with_the_format_and_channels_it_speaks(onboarding):
    from collector.unmapped import proposal_toml, query_unmapped
    from firmware_sim.publisher import Publisher

    state, _, influx, collector = onboarding
    topic, payload = read_fixture(GOLDEN / "tasmota/sensor_pow_r2/input.txt")
    topic = topic.replace("pow1", "pow-unknown")
    pub = Publisher(endpoint(state, "simulator"))
    pub.connect()
    try:
        pub.publish(topic, payload)
        assert pub.wait_all_acked(1)
    finally:
        pub.close()
    assert wait_for(lambda: any(d.key == "pow-unknown" for d in query_unmapped(influx)), 10)
    (found,) = [d for d in query_unmapped(influx) if d.key == "pow-unknown"]
    assert (found.format, found.channels) == ("tasmota", ["main"])  # not linky_tic, which claims the topic too
    assert "--format tasmota --topic pow-unknown --meter METER" in proposal_toml(found)


def test_a_gateway_publishes_its_discovery_configs_with_its_own_account(onboarding, capsys):
    state, registry_path, _, collector = onboarding
    meters_add_cmd("m-gw", site="mairie", carrier="electricity", registry=registry_path)
    devices_add_cmd("gw-tasmota", site="mairie", format="tasmota", meter=["m-gw"], topic="gw1",
                    registry=registry_path, data_dir=Path(state.data_dir), json_out=True)
    creds = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert wait_for(lambda: "gw-tasmota" in collector.pipeline.registry.device_by_id, 10)
    _, payload = read_fixture(GOLDEN / "ha_discovery/teleinfo2mqtt_base/input.txt")
    quarantined, received = sum(collector.stats.quarantined.values()), collector.stats.messages_received
    assert _publish(state, creds["username"], creds["password"], "homeassistant/sensor/gw1/energy/config",
                    payload) == 0
    assert wait_for(lambda: collector.stats.messages_received > received and collector.pending() == 0, 10)
    assert sum(collector.stats.quarantined.values()) == quarantined  # accepted, counted, not a format mismatch
