"""Fixtures of the security tests: a stack of their own with TLS, InfluxDB authentication and device accounts.

Tests that reconfigure the broker (add, rotate, revoke accounts) use this stack, never
the session stack of tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from terril.registry import Registry, load_registry
from terril.stack import StackState, stack_down, stack_up

REGISTRY_TOML = """
[town]
name = "Testville"

[[sites]]
id = "ecole"
name = "École"
kind = "school"
latitude = 50.46
longitude = 2.79

[[meters]]
id = "ecole-elec"
site = "ecole"
carrier = "electricity"

[[meters]]
id = "ecole-gaz"
site = "ecole"
carrier = "gas"

[[meters]]
id = "ecole-sous"
site = "ecole"
carrier = "electricity"
usage = "sub"

[[devices]]
id = "ecole-linky"
site = "ecole"
channels = [{ channel = "main", meter = "ecole-elec" }]

[[devices]]
id = "ecole-gazpar"
site = "ecole"
channels = [{ channel = "main", meter = "ecole-gaz" }]
"""


@dataclass
class SecureStack:
    """The security tests' stack and its registry file."""

    state: StackState
    registry_path: Path

    @property
    def registry(self) -> Registry:
        return load_registry(self.registry_path)


@pytest.fixture(scope="session")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureStack]:
    """A stack with a TLS listener, InfluxDB authentication and a small registry (editable by the tests)."""
    root = tmp_path_factory.mktemp("secure")
    registry_path = root / "registry.toml"
    registry_path.write_text(REGISTRY_TOML, encoding="utf-8")
    state, _ = stack_up(root / "data", registry_path=registry_path, tls=True, influx_auth=True)
    try:
        yield SecureStack(state, registry_path)
    finally:
        stack_down(root / "data")
