"""The devices page's add flow: an unmapped device seen on the broker gets a registry entry and a
broker account from the portal, its credentials shown once."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from portal_helpers import PASSWORD, make_portal  # type: ignore[import-not-found]
from terril.lineprotocol import format_point
from terril.readings import Point
from terril.registry import load_registry
from terril.security.broker import read_password_entries

pytestmark = pytest.mark.integration


def test_add_an_unmapped_device_shows_its_credentials_once(private_stack, portal_data, tmp_path) -> None:  # noqa: ANN001
    from portal.app import create_app

    key = "shellyplus1pm-c0ffee00beef"
    portal_data.client.write_lines((format_point(Point(
        "quarantine", {"reason": "unknown_device", "format": "shelly_gen2"},
        {"topic": f"{key}/status/switch:0", "payload": '{"id":0,"apower":12.5,"aenergy":{"total":10.0}}',
         "payload_bytes": 48, "detail": "not in the registry", "device": key}, time.time_ns())) + "\n").encode())
    reg_path = tmp_path / "registry.toml"
    shutil.copy(load_registry(None).source, reg_path)
    with open(reg_path, "a", encoding="utf-8") as f:  # the new plug's meter, declared before the device
        f.write('\n[[meters]]\nid = "mediatheque-prise-elec"\nsite = "mediatheque"\ncarrier = "electricity"\nusage = "sub"\n')
    p = make_portal(Path(private_stack.data_dir), portal_data.client, reg_path)
    c = TestClient(create_app(p), follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    assert c.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}).status_code == 303
    page = c.get("/devices").text
    assert key in page and 'action="/devices/add"' in page
    assert '<option value="mediatheque-prise-elec">' in page and '<option value="mediatheque-elec">' not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/devices/add", data={"csrf_token": token, "device": "mediatheque-prise", "site": "mediatheque",
                                      "format": "shelly_gen2", "meter": "mediatheque-prise-elec", "topic": key})
    assert r.status_code == 200, r.text[-500:]
    assert r.headers["cache-control"] == "no-store"
    password = re.search(r'<code id="device-password">([^<]+)</code>', r.text).group(1)
    assert len(password) >= 16
    assert "mediatheque-prise" in load_registry(reg_path).device_by_id
    assert "mediatheque-prise" in read_password_entries(Path(private_stack.mosquitto_dir) / "passwd")
    again = c.get("/devices").text
    assert "mediatheque-prise" in again and password not in again
    assert password not in (Path(private_stack.data_dir) / "portal" / "audit.jsonl").read_text()
    assert [e["action"] for e in p.audit.entries(limit=1)] == ["device_added"]
    # a lecteur sees the unmapped device but no add form
    lc = TestClient(create_app(p), follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', lc.get("/login").text).group(1)
    lc.post("/login", data={"username": "luc", "password": PASSWORD, "csrf_token": token})
    assert 'action="/devices/add"' not in lc.get("/devices").text
