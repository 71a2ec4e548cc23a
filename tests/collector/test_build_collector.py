"""collector.build: the one place that builds a collector, and refuses payload formats no decoder knows.

`terril collect`, `terril run` and `terril demo` all build their collector there: before, only
`collect` refused an unknown format, `run` started and quarantined every message of that device.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit

from collector.build import build_collector
from helpers import make_registry, run_terril
from terril.errors import ConfigError
from terril.settings import load_settings


def _registry_file(tmp_path: Path, fmt: str) -> Path:
    sites = [{"id": "site-00", "name": "Site 0", "kind": "school", "floor_area_m2": 1000,
              "latitude": 50.46, "longitude": 2.79}]
    meters = [{"id": "site-00-m00", "site": "site-00", "carrier": "electricity"}]
    devices = [{"id": "site-00-d00", "site": "site-00", "format": fmt,
                "channels": [{"channel": "main", "meter": "site-00-m00"}]}]
    path = tmp_path / "registry.toml"
    path.write_text(tomlkit.dumps({"sites": sites, "meters": meters, "devices": devices}), encoding="utf-8")
    return path


def test_build_collector_refuses_unknown_formats(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path)
    with pytest.raises(ConfigError, match="unknown payload formats: teleinfo-v9"):
        build_collector(settings, make_registry(1, 2, fmt="teleinfo-v9"))


@pytest.mark.parametrize("command", ["collect", "run"])
def test_collect_and_run_refuse_unknown_formats_alike(tmp_path: Path, command: str) -> None:
    registry = _registry_file(tmp_path, "teleinfo-v9")
    result = run_terril(command, "--registry", str(registry), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "devices use unknown payload formats: teleinfo-v9" in " ".join(result.stderr.split())  # the console wraps
    assert "Traceback" not in result.stderr
