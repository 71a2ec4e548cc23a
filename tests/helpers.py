"""Shared test helpers: small registries, a collector running in a thread, waiting for counts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable

from collector.mapping import Pipeline
from collector.service import Collector
from terril.endpoints import MqttEndpoint
from terril.influx import InfluxClient
from terril.registry import Registry, parse_registry
from terril.settings import CollectorSettings, MqttSettings
from terril.stack import StackState

#: The day the session's demo (``demo_run`` of tests/conftest.py) runs as if it were (``--now``): one of
#: tests/test_demo_any_day.py's days, whose case reads that demo instead of running one of its own.
DEMO_NOW = "2026-12-06T14:00:00+01:00"


def make_registry(n_sites: int, devices_per_site: int, fmt: str = "native") -> Registry:
    """A registry of ``n_sites`` schools, each with ``devices_per_site`` electricity devices (one meter each)."""
    sites, meters, devices = [], [], []
    for s in range(n_sites):
        sid = f"site-{s:02d}"
        sites.append({"id": sid, "name": f"Site {s}", "kind": "school", "floor_area_m2": 1000,
                      "latitude": 50.46, "longitude": 2.79})
        for d in range(devices_per_site):
            mid, did = f"{sid}-m{d:02d}", f"{sid}-d{d:02d}"
            meters.append({"id": mid, "site": sid, "carrier": "electricity"})
            devices.append({"id": did, "site": sid, "format": fmt, "channels": [{"channel": "main", "meter": mid}]})
    return parse_registry({"sites": sites, "meters": meters, "devices": devices}, source="<test>")


def endpoint(stack: StackState, role: str) -> MqttEndpoint:
    user, password = stack.mqtt_credentials(role)
    return MqttEndpoint("127.0.0.1", stack.mqtt_port, user, password)


def start_collector(stack: StackState, registry: Registry, influx: InfluxClient, **collector_kw) -> Collector:
    """A collector connected to the test stack, writing into ``influx``'s database."""
    mqtt_settings = MqttSettings(client_id=f"test-{uuid.uuid4().hex[:8]}", session_expiry_s=60)
    c = Collector(Pipeline(registry), endpoint(stack, "collector"), influx, mqtt_settings,
                  CollectorSettings(**collector_kw))
    c.start()
    assert c.wait_connected(10), "collector did not connect"
    time.sleep(0.2)  # let the SUBACK arrive before publishers start
    return c


def wait_for(predicate: Callable[[], bool], timeout_s: float = 30.0, interval_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


def count_points(client: InfluxClient, measurement: str = "reading", field: str = "received_ns") -> int:
    series = client.query(f'SELECT count("{field}") FROM "{measurement}"')
    return int(series[0].values[0][1]) if series else 0


def run_terril(*args: str, input: bytes | str | None = None, env: dict[str, str] | None = None,
               text: bool = True) -> "subprocess.CompletedProcess":
    """Run ``terril ARGS`` in this process, through the same entry point as the installed command.

    It calls :func:`terril.cli.main` (so errors become messages exactly as for a user) with
    stdin/stdout/stderr and the environment swapped by typer's ``CliRunner.isolation``, and
    returns what ``subprocess.run(..., capture_output=True)`` would: ``returncode``, ``stdout``,
    ``stderr`` (text, or bytes when ``text=False``). About 1 ms instead of a 1-2 s interpreter start;
    tests/test_cli.py keeps one real subprocess as a smoke test of the installed entry point.
    """
    import subprocess
    import sys

    from typer.testing import CliRunner

    from terril import cli

    overrides: dict[str, str | None] | None = None
    if env is not None:  # the child's whole environment, as subprocess.run(env=...) would have it
        import os

        overrides = {k: None for k in os.environ if k not in env}
        overrides.update(env)
    import logging

    runner = CliRunner()
    argv = sys.argv
    handlers = list(logging.root.handlers)  # the command's logging.basicConfig must not outlive it
    with runner.isolation(input=input, env=overrides) as (out, err, _):
        sys.argv = ["terril", *args]
        try:
            cli.main()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        finally:
            sys.argv = argv
            for handler in [h for h in logging.root.handlers if h not in handlers]:
                logging.root.removeHandler(handler)
            sys.stdout.flush()
            sys.stderr.flush()
        stdout, stderr = out.getvalue(), err.getvalue()
    if text:
        return subprocess.CompletedProcess(list(args), code, stdout.decode(), stderr.decode())
    return subprocess.CompletedProcess(list(args), code, stdout, stderr)


def subset_registry(registry: Registry, sites: Iterable[str]) -> Registry:
    """The part of ``registry`` about ``sites``: simulations cut to the sites a test needs."""
    keep = set(sites)
    return Registry(registry.town, tuple(s for s in registry.sites if s.id in keep),
                    tuple(m for m in registry.meters if m.site in keep),
                    tuple(d for d in registry.devices if d.site in keep),
                    tuple(a for a in registry.pv_arrays if a.site in keep), (),
                    tuple(r for r in registry.planned_roofs if r.site in keep))
