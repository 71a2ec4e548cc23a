"""Test fixtures: a real Mosquitto and a real InfluxDB on free ports, started once per test session.

Integration tests never mock the broker or the database. Each test that writes
gets its own InfluxDB database, so tests cannot see each other's points.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from terril.influx import InfluxClient
from terril.stack import StackState, stack_down, stack_up

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    """The local stack (Mosquitto + InfluxDB child processes) for the whole test session."""
    data_dir = tmp_path_factory.mktemp("stack")
    state, _ = stack_up(data_dir)
    try:
        yield state
    finally:
        stack_down(data_dir)


@pytest.fixture
def influx_db(stack: StackState) -> Iterator[InfluxClient]:
    """A fresh, empty InfluxDB database for one test (dropped afterwards)."""
    name = "t_" + uuid.uuid4().hex[:12]
    client = InfluxClient(stack.influx_url, name)
    client.create_database()
    try:
        yield client
    finally:
        try:
            client.query(f'DROP DATABASE "{name}"', method="POST", epoch=None)
        finally:
            client.close()


@pytest.fixture
def cli_env(stack: StackState, tmp_path: Path) -> dict[str, str]:
    """Environment for running the `terril` command against the test stack."""
    env = dict(os.environ)
    env["TERRIL_DATA_DIR"] = stack.data_dir
    env.pop("TERRIL_REGISTRY", None)
    env.pop("TERRIL_CONFIG", None)
    env["COLUMNS"] = "200"
    return env


@pytest.fixture
def private_stack(tmp_path: Path) -> Iterator[StackState]:
    """A Mosquitto and an InfluxDB of the test's own (about 0.1 s to start).

    For tests that count exactly what a broker delivers: the session broker keeps other tests'
    retained messages (device statuses, vendor values that real devices retain).
    """
    state, _ = stack_up(tmp_path / "private-stack")
    try:
        yield state
    finally:
        stack_down(tmp_path / "private-stack")


@pytest.fixture
def private_influx(private_stack: StackState) -> Iterator[InfluxClient]:
    """The database of :func:`private_stack`."""
    client = InfluxClient(private_stack.influx_url, "private")
    client.create_database()
    try:
        yield client
    finally:
        client.close()


@dataclass(frozen=True)
class DemoRun:
    """One run of ``terril demo`` into the session stack: its output and where its data is."""

    result: subprocess.CompletedProcess[str]
    env: dict[str, str]
    influx_url: str
    database: str


#: the demo the session shares: 3 live days through MQTT after the default 400 days of history
DEMO_ARGS = ("demo", "--days", "3", "--seed", "11", "--keep-stack")


@pytest.fixture(scope="session")
def demo_run(stack: StackState) -> DemoRun:
    """``terril demo`` (:data:`DEMO_ARGS`) run once per test session into its own database of the session stack.

    The full demo (a year of history, analytics, savings) is the slowest thing the suite does;
    every test that reads a demo database shares this one and must not write into it. The
    demo's exit code is the test's business (``result.returncode``): a failed demo fails the
    tests that use it, not the session.
    """
    database = "demo_session"
    env = dict(os.environ, TERRIL_DATA_DIR=stack.data_dir, COLUMNS="200", TERRIL_INFLUX__URL=stack.influx_url,
               TERRIL_INFLUX__DATABASE=database)
    env.pop("TERRIL_REGISTRY", None)
    env.pop("TERRIL_CONFIG", None)
    result = subprocess.run([sys.executable, "-m", "terril.cli", *DEMO_ARGS], capture_output=True, text=True,
                            timeout=1800, env=env)
    return DemoRun(result, env, stack.influx_url, database)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules holding a ``slow`` test run first (each module's own order unchanged).

    With ``make test``'s two workers (``--dist loadfile``), a long module handed out last runs
    alone at the end while the other worker idles; started first, the short modules fill in
    around it.
    """
    slow_modules = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow_modules)  # stable: False sorts first
