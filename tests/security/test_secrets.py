"""Secrets: every setting is listed in .env.example, and passwords never show in printed settings or endpoints."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from terril.endpoints import InfluxEndpoint, MqttEndpoint
from terril.settings import Settings, describe_settings

ROOT = Path(__file__).resolve().parent.parent.parent


def _env_names(model: type[BaseModel], prefix: str = "TERRIL_") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _env_names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_env_example_lists_every_setting():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = {line.lstrip("# ").split("=", 1)[0] for line in text.splitlines() if "=" in line}
    missing = [n for n in _env_names(Settings) if n not in listed]
    assert missing == []


def test_passwords_are_masked_when_settings_and_endpoints_are_shown(tmp_path: Path):
    secret = "s3cr3t-Value-xyz"
    settings = Settings(data_dir=tmp_path, mqtt={"password": secret}, influx={"password": secret})
    assert secret not in json.dumps(describe_settings(settings)) and secret not in repr(settings)
    assert secret not in repr(MqttEndpoint("h", 1, "u", secret)) and secret not in repr(InfluxEndpoint("u", "d", "u", secret))
