"""Hostile identifiers and payloads: quarantined or stored as inert data; the database holds exactly what it should.

Runs against the session stack (read-only for the broker): the simulator account, which may
write anywhere on the local stack, plays the attacker, so that every message reaches the collector.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from paho.mqtt.client import topic_matches_sub

from collector.decoders import REASONS
from collector.mapping import Pipeline
from helpers import endpoint, make_registry, run_terril, start_collector, wait_for
from sec_helpers import Client
from terril.errors import ConfigError, IdentifierError
from terril.export import query_readings
from terril.ids import validate_id
from terril.registry import parse_registry

pytestmark = pytest.mark.integration

DROP = '"; DROP SERIES FROM /.*/ --'
HOSTILE_IDS = ['ecole"', "a,b", "a b", "a=b", "a\\b", DROP, "site-0\u0430", "ｓite-00", "site-00\n", "Site-00",
               "x'; DROP DATABASE terril; '", "../etc", "", "_collector", "é"]


def _topic(site: str, device: str) -> str:
    return f"terril/{site}/{device}/telemetry"


def _hostile_messages(now_s: int) -> list[tuple[str, bytes]]:
    ok_payload = json.dumps({"time": now_s, "energy_import_wh": 1}).encode()
    good_topic = _topic("site-00", "site-00-d00")
    out = []
    for bad in HOSTILE_IDS:
        if "\n" in bad or not bad or bad.startswith("_"):
            continue  # not a publishable topic level (pipeline test below), or Terril's own topics (ignored)
        out.append((_topic(bad, "site-00-d00"), ok_payload))
        out.append((_topic("site-00", bad), ok_payload))
    payloads = [
        {"time": now_s, f"energy_import_wh{DROP}": 1},
        {"time": now_s, "energy_import_wh": DROP},
        {"time": now_s, "power_w=1,evil=2": 1},
        {"time": now_s, "channel": 'main",site=x', "energy_import_wh": 1},
        {"time": now_s, "channel": "main\n", "energy_import_wh": 1},
        {"time": "2099-12-31T00:00:00Z", "energy_import_wh": 1},  # far future, inside 2000..2100
        {"time": now_s + 3 * 86_400, "energy_import_wh": 1},  # three days ahead of reception
        {"time": 1e300, "energy_import_wh": 1},
        {"time": now_s, "energy_import_wh": 1e309},
    ]
    out += [(good_topic, json.dumps(p).encode()) for p in payloads]
    out.append((good_topic, b"\xff\xfe" + ok_payload))
    out.append((good_topic, b"[" + b'{"energy_import_wh": 1},' * 40_000 + b"{}]"))  # 1 MB, 40 001 readings
    out.append((good_topic, b" " * (1024 * 1024)))
    return out


@pytest.fixture
def quiet_stack(tmp_path):
    """A broker of its own: the session broker holds other tests' retained messages, which would be counted here."""
    from terril.stack import stack_down, stack_up

    state, _ = stack_up(tmp_path / "quiet")
    try:
        yield state
    finally:
        stack_down(tmp_path / "quiet")


def test_hostile_corpus_is_quarantined_and_the_database_holds_exactly_the_expected_series(quiet_stack):
    from terril.influx import InfluxClient

    stack = quiet_stack
    influx_db = InfluxClient(stack.influx_url, "hostile")
    influx_db.create_database()
    registry = make_registry(1, 2)
    collector = start_collector(stack, registry, influx_db)
    attacker = Client(endpoint(stack, "simulator"))
    try:
        assert not attacker.connect().is_failure
        now_s = int(time.time())
        hostile = _hostile_messages(now_s)
        for topic, payload in hostile:
            rc = attacker.publish(topic, payload)
            assert rc is not None and not rc.is_failure, topic
        good = [(_topic("site-00", "site-00-d00"), json.dumps({"time": now_s - 60, "energy_import_wh": 7}).encode()),
                (_topic("site-00", "site-00-d01"), json.dumps({"time": now_s - 60, "power_w": 3.5}).encode())]
        for topic, payload in good:
            assert not attacker.publish(topic, payload).is_failure
        # topic levels holding "/" give topics with more levels: no subscription matches them, nobody receives them
        subscriptions = Pipeline(registry).subscriptions()
        delivered = [(t, p) for t, p in hostile if any(topic_matches_sub(f, t) for f in subscriptions)]
        assert len(hostile) - len(delivered) == 4
        assert wait_for(lambda: sum(collector.stats.quarantined.values()) >= len(delivered)
                        and collector.stats.readings_decoded >= 2 and collector.pending() == 0, 30), (
            len(delivered), collector.stats)
    finally:
        attacker.close()
        collector.stop()
    time.sleep(0.5)  # nothing more may arrive
    assert sum(collector.stats.quarantined.values()) == len(delivered)
    assert set(collector.stats.quarantined) <= set(REASONS)
    assert collector.stats.readings_decoded == 2

    measurements = {v[0] for s in influx_db.query("SHOW MEASUREMENTS") for v in s.values}
    assert measurements <= {"reading", "quarantine", "device_status", "collector_stats"}
    series = sorted(v[0] for s in influx_db.query('SHOW SERIES FROM "reading"') for v in s.values)
    assert series == ["reading,carrier=electricity,device=site-00-d00,meter=site-00-m00,site=site-00",
                      "reading,carrier=electricity,device=site-00-d01,meter=site-00-m01,site=site-00"]
    fields = {v[0] for s in influx_db.query('SHOW FIELD KEYS FROM "reading"') for v in s.values}
    assert fields == {"energy_import_wh", "power_w", "received_ns"}
    rows = influx_db.query('SELECT count("payload_bytes") FROM "quarantine"')
    assert rows[0].values[0][1] == len(delivered)
    tags = {v[1] for s in influx_db.query('SHOW TAG VALUES FROM "quarantine" WITH KEY = "reason"') for v in s.values}
    assert tags <= set(REASONS) and {"unknown_device", "implausible_time", "too_large"} <= tags
    # the hostile topic text is kept as inert data, exactly as received
    stored = {v[1] for s in influx_db.query('SELECT "topic" FROM "quarantine"') for v in s.values}
    for bad in ("x'; DROP DATABASE terril; '", 'ecole"', "a\\b", "a,b", "a=b", "site-0\u0430"):
        assert _topic(bad, "site-00-d00") in stored, bad

    # queries with hostile values: bound as parameters, they match nothing and alter nothing
    for bad in HOSTILE_IDS:
        with pytest.raises(IdentifierError):
            list(query_readings(influx_db, bad, 0, 2**62))  # refused where it enters
        # and even bound as a parameter by hand, the value is data, never InfluxQL
        assert influx_db.query('SELECT * FROM "reading" WHERE "site" = $site', params={"site": bad}) == []
    after = sorted(v[0] for s in influx_db.query('SHOW SERIES FROM "reading"') for v in s.values)
    assert after == series


def test_pipeline_limits_without_the_broker():
    """Inputs the broker cannot carry (10⁶-element arrays, newlines in topics) are refused by the pipeline."""
    pipeline = Pipeline(make_registry(1, 1))
    received = time.time_ns()
    huge = b"[" + b"0," * 999_999 + b"0]"
    assert pipeline.process(_topic("site-00", "site-00-d00"), huge, received).rejection.reason == "too_large"
    many = b"[" + b'{"power_w":1},' * 10_000 + b'{"power_w":1}]'  # under the size limit, over the count limit
    assert len(many) < 256 * 1024
    assert pipeline.process(_topic("site-00", "site-00-d00"), many, received).rejection.reason == "too_many_readings"
    for topic in (_topic("site-00\n", "site-00-d00"), _topic("site-00", "site-00-d00\r"), "terril/site-00//telemetry"):
        out = pipeline.process(topic, b'{"power_w": 1}', received)
        assert out.rejection is not None and not out.points


@pytest.mark.parametrize("bad", [i for i in HOSTILE_IDS if i])
def test_registry_refuses_hostile_identifiers(bad: str):
    data = {"sites": [{"id": bad, "name": "x", "kind": "school", "latitude": 50, "longitude": 2}]}
    try:
        registry = parse_registry(data)
    except ConfigError:
        return
    # only surrounding white space is stripped (pydantic str_strip_whitespace): what remains is a valid id
    assert bad != bad.strip() and validate_id(registry.sites[0].id) == bad.strip()


def test_cli_options_refuse_hostile_identifiers(stack, cli_env):
    result = run_terril("export", "readings", "--site", DROP, "--start", "2026-01-01", "--end", "2026-01-02",
                        env=cli_env)
    assert result.returncode == 2 and "invalid site id" in result.stderr and "Traceback" not in result.stderr


def test_device_provisioning_values_are_checked_where_they_enter(tmp_path):
    from terril.security.provisioning import new_device_entry

    for kwargs in ({"device": DROP}, {"site": "a b"}, {"fmt": "native\nuser x"}, {"topic": "x/#"},
                   {"meters": ["m1\n"]}, {"meters": ['main"=m1']}, {"topic": "ta\u0455mota"}):
        args = {"device": "d1", "site": "s1", "fmt": "tasmota", "meters": ["m1"], **kwargs}
        meters = args.pop("meters")
        with pytest.raises((ConfigError, IdentifierError)):
            new_device_entry(args.pop("device"), args.pop("site"), args.pop("fmt"), meters, **args)
    assert os.listdir(tmp_path) == []


def test_native_payload_with_a_repeated_key_is_quarantined():
    pipeline = Pipeline(make_registry(1, 1))
    payload = b'{"energy_import_wh": 1, "energy_import_wh": 2}'
    out = pipeline.process(_topic("site-00", "site-00-d00"), payload, time.time_ns())
    assert out.rejection is not None and out.rejection.reason == "duplicate_key"


def test_terril_own_topics_are_never_device_data():
    pipeline = Pipeline(make_registry(1, 1))
    out = pipeline.process("terril/_collector/site-00-d00/telemetry", b'{"energy_import_wh": 1}', time.time_ns())
    assert out.points == () and out.rejection is None  # ignored: only the collector's account may write there
