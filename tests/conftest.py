"""Test fixtures: a real Mosquitto and a real InfluxDB on free ports, started once per test session.

Integration tests never mock the broker or the database. Each test that writes
gets its own InfluxDB database, so tests cannot see each other's points.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# One BLAS thread per process, set before numpy loads OpenBLAS (inherited by the xdist workers and by
# every `terril` subprocess a test starts): the suite already runs two workers per core, and each
# least-squares fit of the baselines spinning a second thread on an occupied core cost ~7x its CPU
# time (0.38 s instead of 0.05 s for one hourly TOWT fit, measured on the 2-core machine).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# OpenDSM, the test-only oracle of tests/analytics/test_savings_oracle.py, JIT-compiles its fits
# with numba: on a new venv (every CI run) the compile cost about 33 s of CPU for two fits that run
# interpreted in 12 s (the same fits, measured on the 2-core machine). Terril itself uses no numba.
os.environ.setdefault("NUMBA_DISABLE_JIT", "1")

from helpers import DEMO_NOW  # noqa: E402
from terril.influx import InfluxClient  # noqa: E402
from terril.stack import StackState, stack_down, stack_up  # noqa: E402

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
    summary: dict | None  # its demo-summary.json (None when the demo failed)


#: the demo the session shares: 3 live days through MQTT after the default 400 days of history
DEMO_ARGS = ("demo", "--days", "3", "--seed", "11", "--now", DEMO_NOW, "--keep-stack")
#: The tests that read the session's demo (node id prefixes). ``make test`` hands them to one worker
#: as one unit (see :func:`pytest_xdist_make_scheduler`): otherwise it could run once per worker.
DEMO_SESSION_TESTS = ("tests/dashboards/test_check_demo.py::",
                      f"tests/test_demo_any_day.py::test_demo_savings_and_dashboards_on_any_day[{DEMO_NOW[:10]}]")
#: Modules whose tests share nothing but the session stack and each take minutes: ``make test``
#: hands their tests out one by one, so that the workers share them.
ONE_BY_ONE_MODULES = ("tests/test_demo_any_day.py",)


@pytest.fixture(scope="session")
def demo_run(stack: StackState) -> DemoRun:
    """``terril demo`` (:data:`DEMO_ARGS`) run once per test session into its own database of the session stack.

    The full demo (a year of history, analytics, savings) is the slowest thing the suite does;
    every test that reads a demo database shares this one and must not write into it (and is
    listed in :data:`DEMO_SESSION_TESTS`). The demo's exit code is the test's business
    (``result.returncode``): a failed demo fails the tests that use it, not the session.
    """
    database = "demo_session"
    env = dict(os.environ, TERRIL_DATA_DIR=stack.data_dir, COLUMNS="200", TERRIL_INFLUX__URL=stack.influx_url,
               TERRIL_INFLUX__DATABASE=database)
    env.pop("TERRIL_REGISTRY", None)
    env.pop("TERRIL_CONFIG", None)
    result = subprocess.run([sys.executable, "-m", "terril.cli", *DEMO_ARGS], capture_output=True, text=True,
                            timeout=1800, env=env)
    summary = None
    if result.returncode == 0:  # read at once: another demo of this worker's session writes the same file
        summary = json.loads((Path(stack.data_dir) / "demo-summary.json").read_text(encoding="utf-8"))
    return DemoRun(result, env, stack.influx_url, database, summary)


def _shares_demo(nodeid: str) -> bool:
    return nodeid.startswith(DEMO_SESSION_TESTS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests of the session's demo first, then those of :data:`ONE_BY_ONE_MODULES` (minutes
    each), then the modules holding a ``slow`` test (each module's own order unchanged).

    With ``make test``'s workers, a long unit handed out last runs alone at the end while
    the others idle; started first, the short modules fill in around it. A test using
    ``demo_run`` must be listed in :data:`DEMO_SESSION_TESTS`, or the demo could run once per worker.
    """
    for item in items:
        if "demo_run" in getattr(item, "fixturenames", ()) and not _shares_demo(item.nodeid):
            raise pytest.UsageError(f"{item.nodeid} uses demo_run: add it to DEMO_SESSION_TESTS in tests/conftest.py")
    slow_modules = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    # stable: False sorts first
    items.sort(key=lambda item: (not _shares_demo(item.nodeid), item.nodeid.split("::")[0] not in ONE_BY_ONE_MODULES,
                                 item.nodeid.split("::")[0] not in slow_modules))


@pytest.hookimpl(optionalhook=True)  # an xdist hook: `-p no:xdist` runs without it
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN001, ANN201
    """``--dist loadfile`` (make test), with two exceptions: the tests of :data:`DEMO_SESSION_TESTS`
    form one unit (one worker runs the demo, once), and the tests of :data:`ONE_BY_ONE_MODULES`
    are units of their own."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class DemoAwareFileScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if _shares_demo(nodeid):
                return "demo_run"
            if nodeid.split("::")[0] in ONE_BY_ONE_MODULES:
                return nodeid
            return super()._split_scope(nodeid)

    return DemoAwareFileScheduling(config, log)
