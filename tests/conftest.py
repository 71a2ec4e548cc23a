"""Test fixtures: a real Mosquitto and a real InfluxDB on free ports, started once per test session.

Integration tests never mock the broker or the database. Each test that writes
gets its own InfluxDB database, so tests cannot see each other's points.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
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
