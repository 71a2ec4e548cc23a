"""A quarantine you can act on: list it, count it per reason, log it without flooding, replay it exactly once.

The replay test runs the real collector against the real broker and database: messages of a
channel the registry lacks are quarantined; once the channel is added, ``terril quarantine replay``
stores them, at the timestamps they would have had; a second replay writes nothing more.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from collector.quarantine import RAW_BUDGET_BYTES, RAW_MAX_BYTES, RAW_PER_KEY, QuarantineLog, Rejection, rejection_point
from firmware_sim.publisher import Publisher
from helpers import count_points, endpoint, start_collector, wait_for
from terril.cli import app
from terril.registry import parse_registry
from terril.timeutil import NS_PER_S, format_rfc3339_ns

SITE = {"id": "s", "name": "S", "kind": "school", "latitude": 50.4, "longitude": 2.8}
REGISTRY_TOML = """\
[[sites]]
id = "s"
name = "S"
kind = "school"
latitude = 50.4
longitude = 2.8

[[meters]]
id = "m"
site = "s"
carrier = "electricity"

[[meters]]
id = "m2"
site = "s"
carrier = "electricity"
usage = "sub"

[[devices]]
id = "d"
site = "s"
channels = [{ channel = "main", meter = "m" }, { channel = "sub", meter = "m2" }]
"""


def test_log_is_one_line_per_device_and_reason_per_interval(caplog: pytest.LogCaptureFixture):
    now = [0.0]
    logger = logging.getLogger("test.quarantine")
    qlog = QuarantineLog(logger, interval_s=60, max_lines=3, clock=lambda: now[0])

    def rej(device: str, reason: str = "unknown_channel") -> Rejection:
        return Rejection(reason, "no channel 'sub'", f"terril/s/{device}/telemetry", b"{}", 0, "native", device)

    with caplog.at_level(logging.WARNING, logger="test.quarantine"):
        logged = [qlog.note(rej("d")) for _ in range(1000)]
        assert logged.count(True) == 1
        assert qlog.note(rej("d", "out_of_range")) and qlog.note(rej("e"))
        assert not qlog.note(rej("f"))  # 3 lines this minute already: the limit holds for new keys too
        now[0] = 61.0
        assert qlog.note(rej("d"))
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("quarantined unknown_channel from device d on terril/s/d/telemetry")
    assert "1 more rejections not logged" in lines[-2]
    assert lines[-1].endswith("(+999 more since the last line)")
    assert len(lines) == 5


def test_whole_payloads_are_kept_for_replay_within_bounds():
    now = [0.0]
    qlog = QuarantineLog(logging.getLogger("test.quarantine"), interval_s=60, clock=lambda: now[0])

    def rej(device: str, size: int = 100) -> Rejection:
        return Rejection("unknown_device", "", f"terril/s/{device}/telemetry", b"x" * size, 0, "native", device)

    assert [qlog.keep_raw(rej("d")) for _ in range(RAW_PER_KEY + 5)].count(True) == RAW_PER_KEY
    assert qlog.keep_raw(rej("e")) and not qlog.keep_raw(rej("e", RAW_MAX_BYTES + 1))
    big = sum(qlog.keep_raw(rej(f"k{i}", RAW_MAX_BYTES)) for i in range(RAW_BUDGET_BYTES // RAW_MAX_BYTES + 10))
    assert big == (RAW_BUDGET_BYTES - (RAW_PER_KEY + 1) * 100) // RAW_MAX_BYTES  # a flood keeps previews only
    now[0] = 60.0
    assert qlog.keep_raw(rej("d"))
    assert "payload_b64" in rejection_point(rej("d")).fields
    assert "payload_b64" not in rejection_point(rej("d"), keep_raw=False).fields


@pytest.mark.integration
def test_replay_stores_what_now_passes_exactly_once(private_stack, private_influx, cli_env, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture):
    # exact quarantine counts: a broker of its own (the session broker keeps other tests' retained statuses)
    stack, influx_db = private_stack, private_influx
    before = parse_registry({"sites": [SITE], "meters": [{"id": "m", "site": "s", "carrier": "electricity"}],
                             "devices": [{"id": "d", "site": "s", "channels": [{"channel": "main", "meter": "m"}]}]})
    t0 = (time.time_ns() // NS_PER_S - 3600) * NS_PER_S
    sub = [  # channel "sub" is not in the registry yet: unknown_channel
        {"channel": "sub", "energy_import_wh": 1000.5, "time": format_rfc3339_ns(t0)},
        {"channel": "sub", "energy_import_wh": 1001.25, "time": t0 // NS_PER_S + 900},
        {"channel": "sub", "power_w": 420.0},  # no device time: stored at its receive time
        {"channel": "sub", "power_w": 421.0},
    ]
    good = {"channel": "main", "energy_import_wh": 5.0, "time": t0 // NS_PER_S}
    absurd = {"channel": "main", "energy_import_wh": 1e308}  # stays out_of_range after the replay
    collector = start_collector(stack, before, influx_db, metrics_port=0)
    publisher = Publisher(endpoint(stack, "simulator"))
    publisher.connect()
    try:
        with caplog.at_level(logging.WARNING, logger="terril.collector"):
            for body in [*sub, good, absurd]:
                publisher.publish("terril/s/d/telemetry", orjson.dumps(body))
            assert publisher.wait_all_acked(6)
            assert wait_for(lambda: collector.stats.messages_acked >= 6, 20)
        metrics = httpx.get(f"http://127.0.0.1:{collector.metrics_port}/metrics").text
    finally:
        publisher.close()
        collector.stop()
    assert 'terril_collector_quarantined_total{reason="unknown_channel"} 4.0' in metrics
    assert 'terril_collector_quarantined_total{reason="out_of_range"} 1.0' in metrics
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("quarantined ")]
    assert len([m for m in logged if m.startswith("quarantined unknown_channel from device d ")]) == 1, logged
    assert len([m for m in logged if m.startswith("quarantined out_of_range from device d ")]) == 1, logged
    assert count_points(influx_db) == 1

    env = {**cli_env, "TERRIL_DATA_DIR": stack.data_dir, "TERRIL_INFLUX__DATABASE": influx_db.database}
    fixed = tmp_path / "fixed.toml"
    fixed.write_text(REGISTRY_TOML, encoding="utf-8")

    runner = CliRunner()

    def terril(*args: str):  # noqa: ANN202 - in-process: four interpreter starts would cost seconds
        r = runner.invoke(app, ["quarantine", *args], env=env)
        assert r.exit_code == 0 and r.exception is None, (r.output, r.exception)
        return r

    listed = [json.loads(line) for line in terril("list", "--json", "--reason", "unknown_channel").output.splitlines()]
    assert len(listed) == 4 and all(r["replayable"] and r["replayed_ns"] is None for r in listed)
    assert {r["device"] for r in listed} == {"d"}
    received = {json.loads(r["payload"]).get("power_w"): r["time_ns"] for r in listed}  # the receive times kept

    first = terril("replay", "--registry", str(fixed), "--lang", "en").output
    assert "5 messages examined: 4 stored (4 points), 0 already replayed, 1 still refused (out_of_range 1)" in first
    second = terril("replay", "--registry", str(fixed), "--lang", "en").output
    assert "5 messages examined: 0 stored (0 points), 4 already replayed, 1 still refused" in second

    assert count_points(influx_db) == 5  # 1 stored live + 4 replayed, once each
    stored = {}
    for s in influx_db.query('SELECT "energy_import_wh", "power_w" FROM reading WHERE "meter" = \'m2\''):
        for t, energy, power in s.values:
            stored[int(t)] = energy if energy is not None else power
    # device times where the message had one, else the receive time the quarantine kept
    assert stored == {t0: 1000.5, t0 + 900 * NS_PER_S: 1001.25, received[420.0]: 420.0, received[421.0]: 421.0}
    assert count_points(influx_db, "quarantine", "payload_bytes") == 5
    replayed = [json.loads(line) for line in terril("list", "--json").output.splitlines()]
    assert sorted(r["reason"] for r in replayed if r["replayed_ns"]) == ["unknown_channel"] * 4
    table = terril("list", "--device", "d", "--since", "2h").output
    assert "Quarantaine (5)" in table and table.count("oui") == 4
