"""Fixtures of the portal tests: a small data set written straight into a test InfluxDB database,
a portal on it (in process for the HTTP tests, under uvicorn for the browser tests), and accounts
of each role. Session-scoped so that the whole folder stays lean.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from portal_helpers import HISTORY_DAYS, PortalData, make_portal, write_portal_data  # type: ignore[import-not-found]
from terril.influx import InfluxClient
from terril.registry import load_registry
from terril.stack import free_port
from terril.timeutil import PARIS


@pytest.fixture(scope="session")
def portal_data(stack) -> Iterator[PortalData]:  # noqa: ANN001
    name = "portal_" + uuid.uuid4().hex[:10]
    client = InfluxClient(stack.influx_url, name)
    client.create_database()
    today = dt.datetime.now(PARIS).date()
    drift, silent = write_portal_data(client, today)
    try:
        yield PortalData(client, today, drift, silent, HISTORY_DAYS)
    finally:
        client.query(f'DROP DATABASE "{name}"', method="POST", epoch=None)
        client.close()


@pytest.fixture(scope="session")
def portal(portal_data: PortalData, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The portal on the test data, its registry a copy of the demo registry (the add-device flow writes it)."""
    data_dir = tmp_path_factory.mktemp("portal")
    reg_path = data_dir / "registry.toml"
    shutil.copy(load_registry(None).source, reg_path)
    return make_portal(data_dir, portal_data.client, reg_path)


@pytest.fixture(scope="session")
def portal_server(portal) -> Iterator[str]:  # noqa: ANN001
    """The portal under uvicorn on a free loopback port; yields its base URL."""
    import uvicorn

    from portal.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(portal), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
