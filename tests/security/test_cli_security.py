"""`terril broker config` and `terril devices add|list|revoke` (sub-apps of terril.cli.security)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from terril.cli.security import broker_app, devices_app
from terril.errors import IdentifierError, RegistryError
from terril.registry import DEMO_REGISTRY_PATH, load_registry
from terril.security.broker import read_password_entries

app = typer.Typer()
app.add_typer(devices_app, name="devices")
app.add_typer(broker_app, name="broker")
runner = CliRunner()


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    path = tmp_path / "registry.toml"
    path.write_bytes(DEMO_REGISTRY_PATH.read_bytes()
                     + b'\n[[meters]]\nid = "mairie-sous-compteur"\nsite = "mairie"\ncarrier = "electricity"\nusage = "sub"\n')
    return path


def test_broker_config_then_device_add_list_revoke(tmp_path: Path, registry_file: Path):
    out = tmp_path / "broker"
    r = runner.invoke(app, ["broker", "config", "--out", str(out), "--registry", str(registry_file)])
    assert r.exit_code == 0, r.output
    conf = (out / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "listener 8883" in conf and "certfile /mosquitto/certs/server.crt" in conf
    assert "autosave_on_changes true\nautosave_interval 1\n" in conf  # a save per change (docs/delivery.md)
    assert set(read_password_entries(out / "passwd")) == {"terril-admin", "terril-collector"}
    for secret in (out / "secrets").iterdir():
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    args = ["--registry", str(registry_file), "--broker-dir", str(out)]
    r = runner.invoke(app, ["devices", "add", "mairie-pm", "--site", "mairie", "--format", "tasmota",
                            "--meter", "main=mairie-sous-compteur", "--topic", "mairie_pm", *args, "--json"])
    assert r.exit_code == 0, r.output
    creds = json.loads(r.stdout.strip().splitlines()[-1])
    assert creds["username"] == "mairie-pm" and len(creds["password"]) >= 40
    assert creds["publish"][:2] == ["tele/mairie_pm/#", "stat/mairie_pm/#"]
    assert creds["password"] not in registry_file.read_text() and creds["password"] not in (out / "passwd").read_text()
    assert "mairie-pm" in load_registry(registry_file).device_by_id
    assert "user mairie-pm\ntopic write tele/mairie_pm/#" in (out / "acl").read_text()
    r = runner.invoke(app, ["devices", "list", *args, "--json"])
    rows = {row["device"]: row for row in json.loads(r.stdout)}
    assert rows["mairie-pm"]["account"] is True and rows["mairie-linky"]["account"] is False
    r = runner.invoke(app, ["devices", "revoke", "mairie-pm", *args])
    assert r.exit_code == 0 and "révoqué" in r.stdout  # the town speaks French
    assert "mairie-pm" not in read_password_entries(out / "passwd")


def test_device_add_refuses_bad_values_and_leaves_the_registry_unchanged(tmp_path: Path, registry_file: Path):
    before = registry_file.read_bytes()
    args = ["--registry", str(registry_file), "--broker-dir", str(tmp_path / "b")]
    r = runner.invoke(app, ["devices", "add", 'x"; DROP', "--site", "mairie", "--format", "native", "--meter", "m",
                            *args])
    assert r.exit_code != 0 and isinstance(r.exception, IdentifierError)
    r = runner.invoke(app, ["devices", "add", "new-dev", "--site", "mairie", "--format", "native",
                            "--meter", "no-such-meter", *args])
    assert isinstance(r.exception, RegistryError)
    assert any("unknown meter" in p.reason for p in r.exception.problems)
    assert registry_file.read_bytes() == before
    r = runner.invoke(app, ["devices", "add", "new-dev", "--site", "mairie", "--format", "native", "--meter", "m",
                            "--registry", str(DEMO_REGISTRY_PATH), "--broker-dir", str(tmp_path / "b")])
    assert r.exception is not None and "read-only" in r.exception.message
