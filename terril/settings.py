"""One settings tree: defaults, then an optional TOML config file, then ``TERRIL_*`` environment
variables (nested with ``__``, e.g. ``TERRIL_INFLUX__URL``), then CLI flags.

Secrets come only from the environment or from files (``*_file`` options, Docker
secrets); they are held as ``SecretStr`` so that printing settings masks them.
``terril settings show`` prints the resolved tree with secrets masked.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from terril.errors import ConfigError

CONFIG_ENV = "TERRIL_CONFIG"


def default_data_dir() -> Path:
    """Per-user data folder (``~/.local/share/terril`` on Linux)."""
    return Path(platformdirs.user_data_dir("terril", appauthor=False))


class MqttSettings(BaseModel):
    """How to reach the MQTT broker."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="mqtt://host:port or mqtts://host:port; empty = the local stack")
    username: str | None = Field(None, description="MQTT user name; empty = the local stack's account for the role")
    password: SecretStr | None = Field(None, description="MQTT password (prefer password_file)")
    password_file: Path | None = Field(None, description="file holding the MQTT password")
    ca_file: Path | None = Field(None, description="CA certificate for mqtts:// (TLS)")
    client_id: str = Field("terril-collector", description="stable client id (persistent session)")
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keepalive")
    session_expiry_s: int = Field(7 * 86_400, ge=0, description="MQTT v5 session expiry: how long the broker keeps our queue")
    receive_maximum: int = Field(2_000, ge=1, le=65_535, description="MQTT v5 Receive Maximum: unacknowledged messages in flight")
    share_group: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                    description="MQTT v5 shared-subscription group, to spread load over collectors")
    takeover: bool = Field(True, description="in a share group, drain the broker session of a peer collector that went offline")
    reconnect_min_s: float = Field(1.0, gt=0, le=60, description="first wait before reconnecting to the broker")
    reconnect_max_s: float = Field(30.0, gt=0, le=600, description="longest wait between reconnection attempts (plus jitter)")


class InfluxSettings(BaseModel):
    """How to reach InfluxDB (v1 HTTP API)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="http://host:8086; empty = the local stack")
    database: str = Field("terril", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", description="database name")
    username: str | None = Field(None, description="InfluxDB user (auth on)")
    password: SecretStr | None = Field(None, description="InfluxDB password (prefer password_file)")
    password_file: Path | None = Field(None, description="file holding the InfluxDB password")
    timeout_s: float = Field(10.0, gt=0, le=300, description="HTTP timeout")


class CollectorSettings(BaseModel):
    """Batching and limits of the collector."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(5_000, ge=1, le=100_000, description="points per write")
    flush_interval_s: float = Field(0.5, gt=0, le=60, description="longest a point waits before a write")
    gzip_level: int = Field(1, ge=0, le=9, description="gzip level of write bodies (0 = off)")
    quarantine_payload_bytes: int = Field(512, ge=16, le=65_536, description="payload bytes kept in quarantine")
    metrics_port: int | None = Field(None, ge=0, le=65_535, description="Prometheus /metrics and /health port (empty = off)")
    metrics_host: str = Field("127.0.0.1", description="address the /metrics and /health server listens on")
    stats_interval_s: float = Field(10.0, gt=0, le=3600, description="how often the counters are written to collector_stats")
    spool_dir: Path | None = Field(None, description="spool folder (empty = <data_dir>/spool/<client_id>)")
    spool_max_bytes: int = Field(1 << 30, ge=4096, description="bound of the spool on disk; when full, stop acknowledging")
    spool_segment_bytes: int = Field(16 << 20, ge=1024, description="size at which a new spool segment file is started")
    retry_max_s: float = Field(5.0, gt=0, le=300, description="longest wait between two InfluxDB write attempts")
    watchdog_silence_s: float | None = Field(None, ge=0, description="reconnect when connected but silent this long "
                                             "(empty = 3x the shortest device interval, at least 60 s; 0 = off)")
    shutdown_timeout_s: float = Field(30.0, gt=0, le=600, description="longest a graceful stop waits for the last writes")


class PricesSettings(BaseModel):
    """Tariffs and CO₂e factors that value energy (savings, alert costs). Defaults: illustrative 2025
    public-buyer prices; emission factors from ADEME Base Carbone / Base Empreinte (docs/savings.md)."""

    model_config = ConfigDict(extra="forbid")

    electricity_eur_per_kwh: float = Field(0.20, ge=0, le=10, description="electricity, all-in price [€/kWh]")
    gas_eur_per_kwh: float = Field(0.10, ge=0, le=10, description="natural gas, all-in price [€/kWh PCS]")
    heat_eur_per_kwh: float = Field(0.11, ge=0, le=10, description="heat network, all-in price [€/kWh]")
    water_eur_per_m3: float = Field(4.0, ge=0, le=100, description="water, price [€/m³]")
    electricity_kg_co2e_per_kwh: float = Field(0.052, ge=0, le=2, description="electricity, mix moyen (ADEME, 2022) [kg CO₂e/kWh]")
    gas_kg_co2e_per_kwh: float = Field(0.227, ge=0, le=2, description="natural gas per kWh PCI (ADEME Base Carbone id 38952) [kg CO₂e/kWh]")
    heat_kg_co2e_per_kwh: float = Field(0.113, ge=0, le=2, description="heat network, national average (FEDENE/SNCU 2024) [kg CO₂e/kWh]")
    gas_kwh_basis: Literal["pcs", "pci"] = Field("pcs", description="gas kWh of meters and bills: gross (pcs) or net (pci) calorific value")


class PortalSettings(BaseModel):
    """The web portal (``terril web``, docs/portal.md)."""

    model_config = ConfigDict(extra="forbid")

    public_page: bool = Field(False, description="serve the public page \"L'énergie de nos bâtiments publics\" without login")
    grafana_url: str | None = Field(None, pattern=r"^https?://[^\s\"'<>]+$",
                                    description="Grafana's base URL, for the links to each building's dashboard")
    secure_cookies: bool = Field(False, description="always mark cookies Secure (they are anyway when the request came over HTTPS)")
    session_max_age_s: int = Field(8 * 3600, ge=60, le=30 * 86_400, description="a session expires this long after login")
    secret_key_file: Path | None = Field(None, description="file holding the key that signs cookies (default: generated in the data folder)")
    cache_ttl_s: float = Field(60.0, ge=0, le=86_400, description="how long the public page's figures are reused")
    login_attempts: int = Field(5, ge=1, le=1000, description="failed logins allowed per address and per user name in login_window_s")
    login_window_s: float = Field(300.0, ge=1, le=86_400, description="window of the login rate limit")
    broker_dir: Path | None = Field(None, description="broker password and ACL files (`terril broker config`) the "
                                    "device add flow updates; empty = the local stack's broker")


class Settings(BaseSettings):
    """The whole settings tree."""

    model_config = SettingsConfigDict(env_prefix="TERRIL_", env_nested_delimiter="__", extra="forbid")

    registry: Path | None = Field(None, description="registry file (default: the demo registry)")
    data_dir: Path = Field(default_factory=default_data_dir, description="local stack, spool and state")
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    collector: CollectorSettings = Field(default_factory=CollectorSettings)
    prices: PricesSettings = Field(default_factory=PricesSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)


def _secret(value: SecretStr | None, path: Path | None, what: str) -> str | None:
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(f"{what}: cannot read {path}: {err.strerror}") from err
    return value.get_secret_value() if value is not None else None


def mqtt_password(settings: Settings) -> str | None:
    """The MQTT password from the environment or its file."""
    return _secret(settings.mqtt.password, settings.mqtt.password_file, "mqtt.password_file")


def influx_password(settings: Settings) -> str | None:
    """The InfluxDB password from the environment or its file."""
    return _secret(settings.influx.password, settings.influx.password_file, "influx.password_file")


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Build the settings tree. Raises ConfigError naming the file, the field and the reason."""
    path = config_file or os.environ.get(CONFIG_ENV)
    file_data: dict[str, Any] = {}
    source = "environment (TERRIL_*)"
    if path:
        source = str(path)
        try:
            file_data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise ConfigError(f"{path}: config file not found") from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from err
    data = {**file_data, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Settings(**data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        more = f" (and {len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
        raise ConfigError(f"{source}: setting {field!r}: {first['msg']}{more}",
                          hint="see `terril settings show` and docs/settings.md") from err


def describe_settings(settings: Settings) -> dict[str, Any]:
    """The resolved settings as plain data, secrets masked."""
    return settings.model_dump(mode="json")
