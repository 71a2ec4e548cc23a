"""The local stack: up twice is harmless, status tells, down stops exactly what up started."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from terril import processes
from terril import stack as stack_module
from terril.errors import MissingBinaryError, StackError
from terril.stack import influx_ready, mqtt_ready, read_state, stack_down, stack_status, stack_up

pytestmark = pytest.mark.integration


def _terril(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terril.cli", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def test_up_status_down_through_the_cli(tmp_path: Path):
    env = dict(os.environ, COLUMNS="200")
    data = str(tmp_path / "data")
    first = _terril("stack", "up", "--data-dir", data, "--json", env=env)
    assert first.returncode == 0, first.stderr
    status = json.loads(first.stdout)
    assert status["running"] is True
    assert status["mqtt_url"].startswith("mqtt://127.0.0.1:") and status["influx_url"].startswith("http://127.0.0.1:")
    state = read_state(data)
    pids = (state.mosquitto_pid, state.influxd_pid)

    again = _terril("stack", "up", "--data-dir", data, env=env)
    assert again.returncode == 0 and "déjà en marche" in again.stdout  # the town speaks French
    assert (read_state(data).mosquitto_pid, read_state(data).influxd_pid) == pids

    st = _terril("stack", "status", "--data-dir", data, "--json", env=env)
    assert json.loads(st.stdout)["running"] is True
    assert mqtt_ready(state) and influx_ready(state)

    down = _terril("stack", "down", "--data-dir", data, env=env)
    assert down.returncode == 0 and "mosquitto" in down.stdout and "influxdb" in down.stdout
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or b"Z" in Path(f"/proc/{pid}/stat").read_bytes().split(b") ")[1][:1]
    st = _terril("stack", "status", "--data-dir", data, "--json", env=env)
    assert json.loads(st.stdout)["running"] is False and st.returncode == 0
    assert _terril("stack", "status", "--data-dir", data, env=env).returncode == 1
    assert _terril("stack", "down", "--data-dir", data, env=env).stdout.strip() == "Rien ne tournait."


def test_down_leaves_foreign_processes_alone(tmp_path: Path, stack):
    # a state file pointing at PIDs that are not ours (the test session's own stack) must not stop them
    state, _ = stack_up(tmp_path / "mine")
    stack_down(tmp_path / "mine")
    forged = read_state(tmp_path / "mine")
    forged.mosquitto_pid = stack.mosquitto_pid
    forged.influxd_pid = stack.influxd_pid
    (tmp_path / "mine" / "stack" / "state.json").write_text(json.dumps(forged.__dict__))
    assert stack_down(tmp_path / "mine") == []
    assert mqtt_ready(stack) and influx_ready(stack)


def test_missing_binary_names_the_package(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(processes, "_SEARCH_DIRS", ())
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingBinaryError) as info:
        stack_up(tmp_path / "x")
    assert "apt-get install" in str(info.value)
    env = dict(os.environ, PATH=str(tmp_path), COLUMNS="200")
    result = subprocess.run([sys.executable, "-c",
                             "import terril.processes as s; s._SEARCH_DIRS=(); import sys; sys.argv=['terril','stack','up',"
                             f"'--data-dir','{tmp_path / 'y'}']; from terril.cli import main; main()"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in result.stderr
    assert any("install the Debian package 'influxdb'" in ln or "install the Debian package 'mosquitto'" in ln
               for ln in lines)


def test_status_of_an_empty_folder(tmp_path: Path):
    status = stack_status(tmp_path)
    assert status["running"] is False and status["mqtt_url"] is None


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", stack_module.free_port()))
    sock.listen(1)
    return sock


def test_a_port_taken_after_it_was_chosen_is_chosen_again(monkeypatch, tmp_path: Path):
    # CI, 6 Dec 2026: "Mosquitto exited during start-up ... Address already in use". A port chosen
    # free can be taken before the server binds it; stack up must choose again, not fail.
    taken = _listening_socket()
    real_free_port = stack_module.free_port
    handed = []

    def free_port_taken_first() -> int:
        port = taken.getsockname()[1] if not handed else real_free_port()
        handed.append(port)
        return port

    monkeypatch.setattr(stack_module, "free_port", free_port_taken_first)
    try:
        state, started = stack_up(tmp_path / "s")
        assert started and handed[0] == taken.getsockname()[1]
        assert taken.getsockname()[1] not in (state.mqtt_port, state.influx_port, state.influx_rpc_port)
        assert mqtt_ready(state) and influx_ready(state)
        assert read_state(tmp_path / "s").mqtt_port == state.mqtt_port
    finally:
        stack_down(tmp_path / "s")
        taken.close()


def test_a_taken_port_the_user_chose_is_named(tmp_path: Path):
    taken = _listening_socket()
    try:
        with pytest.raises(StackError) as info:
            stack_up(tmp_path / "s", mqtt_port=taken.getsockname()[1])
        assert "Address already in use" in info.value.message and "port" in info.value.message
        assert "--mqtt-port" in (info.value.hint or "")
        assert not any(stack_status(tmp_path / "s")[k] for k in ("mosquitto", "influxdb"))
    finally:
        stack_down(tmp_path / "s")
        taken.close()


def test_free_ports_lie_below_the_ephemeral_range():
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {stack_module.free_port() for _ in range(20)}
    assert all(stack_module.FREE_PORT_RANGE[0] <= p < min(low, stack_module.FREE_PORT_RANGE[1]) for p in ports)
