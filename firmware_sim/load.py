"""Load mode: N synthetic devices publishing native readings at a steady total rate.

For benchmarks and fault tests: :func:`load_registry` describes the synthetic fleet (one
electricity meter per device, ten devices per site) so that a collector can be started
with the same registry (``terril simulate --mode load --registry-out FILE``), and
:func:`load_messages` yields the stream. Values are deterministic: device ``d`` at step
``k`` reports ``energy_import_wh = 1_000_000 + d + 250·k`` and ``power_w = 1000 + d % 100``.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from firmware_sim.runner import Outgoing
from terril.registry import Registry, parse_registry
from terril.timeutil import NS_PER_S, format_rfc3339_ns

DEVICES_PER_SITE = 10


def load_registry_data(n_devices: int) -> dict[str, list[dict[str, object]]]:
    """The registry (as TOML-ready data) of ``n_devices`` synthetic devices."""
    sites, meters, devices = [], [], []
    n_sites = (n_devices + DEVICES_PER_SITE - 1) // DEVICES_PER_SITE
    for s in range(n_sites):
        sid = f"load-{s:05d}"
        sites.append({"id": sid, "name": f"Load site {s}", "kind": "other", "latitude": 50.46, "longitude": 2.79})
    for d in range(n_devices):
        sid = f"load-{d // DEVICES_PER_SITE:05d}"
        meters.append({"id": f"{sid}-m{d % DEVICES_PER_SITE}", "site": sid, "carrier": "electricity"})
        devices.append({"id": f"{sid}-d{d % DEVICES_PER_SITE}", "site": sid, "format": "native", "interval_s": 60.0,
                        "channels": [{"channel": "main", "meter": f"{sid}-m{d % DEVICES_PER_SITE}"}]})
    return {"sites": sites, "meters": meters, "devices": devices}


def load_registry(n_devices: int) -> Registry:
    return parse_registry(load_registry_data(n_devices), source=f"<load:{n_devices}>")


def registry_toml(n_devices: int) -> str:
    """The synthetic registry as TOML text."""
    data = load_registry_data(n_devices)
    lines = ["# synthetic registry for terril simulate --mode load", ""]
    for s in data["sites"]:
        lines += ["[[sites]]", f'id = "{s["id"]}"', f'name = "{s["name"]}"', 'kind = "other"',
                  "latitude = 50.46", "longitude = 2.79", ""]
    for m in data["meters"]:
        lines += ["[[meters]]", f'id = "{m["id"]}"', f'site = "{m["site"]}"', 'carrier = "electricity"', ""]
    for d in data["devices"]:
        ch = d["channels"][0]  # type: ignore[index]
        lines += ["[[devices]]", f'id = "{d["id"]}"', f'site = "{d["site"]}"', 'format = "native"',
                  "interval_s = 60.0", f'channels = [{{ channel = "main", meter = "{ch["meter"]}" }}]', ""]
    return "\n".join(lines)


def load_messages(n_devices: int, n_messages: int, start_ns: int, step_s: float = 60.0) -> Iterator[Outgoing]:
    """``n_messages`` native messages round-robin over the devices, device time on a ``step_s`` grid."""
    step_ns = int(step_s * NS_PER_S)
    for i in range(n_messages):
        d, k = i % n_devices, i // n_devices
        sid = f"load-{d // DEVICES_PER_SITE:05d}"
        t = start_ns + k * step_ns
        payload = orjson.dumps({"time": format_rfc3339_ns(t), "energy_import_wh": 1_000_000.0 + d + 250.0 * k,
                                "power_w": 1000.0 + d % 100})
        yield Outgoing(t, f"terril/{sid}/{sid}-d{d % DEVICES_PER_SITE}/telemetry", payload, False,
                       f"{sid}-d{d % DEVICES_PER_SITE}", ((f"{sid}-m{d % DEVICES_PER_SITE}", t),))
