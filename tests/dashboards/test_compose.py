"""docker-compose.yml: valid against the Compose Specification, with the services, health checks, volumes and
mounts production needs, mounting the generated broker files and Grafana provisioning."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from dashboards.build import GENERATED_DIR, PROVISIONING_DIR
from terril.registry import load_registry

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "data" / "compose-spec.json"
_VAR = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip()
    return env


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation (``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}``, ``$$``)."""
    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3)
        value = env.get(name)
        if op in (":-", "-"):
            return value if value or (op == "-" and value is not None) else arg
        if op in (":?", "?") and not value:
            raise KeyError(f"required variable {name} is not set: {arg}")
        return value or ""
    return _VAR.sub(repl, text)


@pytest.fixture(scope="module")
def compose() -> dict:
    env = read_env(ROOT / ".env.example")
    return yaml.safe_load(interpolate((ROOT / "docker-compose.yml").read_text(encoding="utf-8"), env))


def test_valid_against_the_compose_specification(compose: dict) -> None:
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(compose)


def test_required_variables_are_in_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    env = read_env(ROOT / ".env.example")
    assert required <= set(env), required - set(env)
    assert "# --- deployment ---" in (ROOT / ".env.example").read_text(encoding="utf-8")
    with pytest.raises(KeyError):
        interpolate(text, {})


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian package docker-compose not installed")
def test_docker_compose_config_accepts_it() -> None:
    result = subprocess.run(["docker-compose", "--env-file", ".env.example", "--profile", "simulator", "config",
                             "--services"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"mosquitto", "influxdb", "grafana", "collector", "analytics", "portal", "proxy",
                                                    "simulator"}


def test_services_health_checks_restart_and_volumes(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"mosquitto", "influxdb", "grafana", "collector", "analytics", "portal", "proxy",
                                                    "simulator"}
    assert services["simulator"]["profiles"] == ["simulator"]
    for name, svc in services.items():
        if name == "simulator":
            continue
        assert svc["restart"] == "unless-stopped", name
        assert svc["healthcheck"]["test"], name
    assert services["influxdb"]["image"] == "influxdb:1.8"
    assert services["influxdb"]["environment"]["INFLUXDB_HTTP_AUTH_ENABLED"] == "true"
    assert services["collector"]["command"] == ["collect"] and services["analytics"]["command"] == ["run"]
    assert services["collector"]["build"] == "." and (ROOT / "Dockerfile").is_file()
    declared = set(compose["volumes"])
    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", []) if not v.startswith((".", "/"))}
    assert used == declared == {"mosquitto-data", "influxdb-data", "grafana-data", "collector-data", "analytics-data",
                                "portal-data", "proxy-data", "proxy-config"}
    assert services["collector"]["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    # the collector starts while InfluxDB is down, and spools
    assert services["collector"]["depends_on"]["influxdb"]["condition"] == "service_started"
    assert services["influxdb"]["environment"]["INFLUXDB_DATA_WAL_FSYNC_DELAY"] == "0s"


def _binds(svc: dict) -> dict[str, str]:
    """Container path -> host path (relative to the repository) of the bind mounts."""
    out = {}
    for v in svc.get("volumes", []):
        host, target = v.split(":")[:2]
        if host.startswith("./"):
            out[target] = host[2:]
    return out


def test_grafana_mounts_the_provisioning_and_generated_dashboards(compose: dict) -> None:
    grafana = compose["services"]["grafana"]
    binds = _binds(grafana)
    for kind in ("datasources", "dashboards", "alerting"):
        host = ROOT / binds[f"/etc/grafana/provisioning/{kind}"]
        assert host == PROVISIONING_DIR / kind and any(host.iterdir())
    assert ROOT / binds["/etc/terril/dashboards"] == GENERATED_DIR
    provider = yaml.safe_load((PROVISIONING_DIR / "dashboards" / "terril.yaml").read_text())["providers"][0]
    lang = grafana["environment"]["TERRIL_DASHBOARD_LANG"]
    path = provider["options"]["path"].replace("$__env{TERRIL_DASHBOARD_LANG}", lang)
    assert path.startswith("/etc/terril/dashboards/")
    assert any((GENERATED_DIR / Path(path).relative_to("/etc/terril/dashboards")).glob("*.json"))
    env = grafana["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == read_env(ROOT / ".env.example")["GRAFANA_ADMIN_PASSWORD"]
    ds = (PROVISIONING_DIR / "datasources" / "terril-influxdb.yaml").read_text()
    for var in re.findall(r"\$__env\{(\w+)\}", ds):
        assert var in env, var


def test_mosquitto_mounts_the_files_terril_broker_config_generates(compose: dict, tmp_path: Path) -> None:
    from terril.security.broker import write_broker_files

    if shutil.which("mosquitto_passwd") is None and not Path("/usr/bin/mosquitto_passwd").exists():
        pytest.skip("mosquitto_passwd (Debian package mosquitto) not installed")
    files = write_broker_files(load_registry(), tmp_path / "mosquitto")
    generated = {p.relative_to(files.directory).as_posix() for p in files.directory.rglob("*") if p.is_file()}
    mosquitto = compose["services"]["mosquitto"]
    binds = _binds(mosquitto)
    prefix = "deploy/mosquitto/"
    for target, host in binds.items():
        assert host.startswith(prefix), host
        rel = host[len(prefix):]
        if rel != "certs":  # certificates come from the operator's CA (docs/deploy.md)
            assert rel in generated, (rel, generated)
    conf = files.conf.read_text(encoding="utf-8")
    mounted_conf = {t for t, h in binds.items() if h == prefix + "mosquitto.conf"}
    assert mounted_conf == {"/mosquitto/config/mosquitto.conf"}
    for directive in ("password_file", "acl_file", "certfile", "keyfile", "cafile"):
        (path,) = re.findall(rf"^{directive} (\S+)$", conf, flags=re.M)
        assert path in binds or any(path.startswith(t + "/") for t in binds), (directive, path)
    persistence = re.search(r"^persistence_location (\S+)$", conf, flags=re.M).group(1).rstrip("/")
    assert f"mosquitto-data:{persistence}" in mosquitto["volumes"]
    for secret in compose["secrets"].values():
        rel = secret["file"].removeprefix("./" + prefix)
        assert rel in generated, rel
