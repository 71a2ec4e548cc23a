"""Device provisioning: add a device to the registry and the broker, rotate or revoke its credentials, list them.

A device's password is drawn with :func:`secrets.token_urlsafe`, hashed into the
broker's password file and returned once (the caller prints it); it is never
stored in clear. Each change regenerates the ACL from the registry and reloads
the broker: SIGHUP to the local stack's Mosquitto, which re-reads its password
and ACL files and (2.0.11, checked by tests/security) disconnects at once the
clients whose account is gone. For a broker elsewhere (Docker), the caller is
told how to reload it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terril.errors import ConfigError, IdentifierError, ProvisioningError, RegistryError
from terril.ids import validate_id
from terril.registry import DEMO_REGISTRY_PATH, Registry, load_registry
from terril.registry_edit import add_entry
from terril.security.broker import (
    SERVICE_ACCOUNTS,
    read_password_entries,
    reload_broker,
    remove_password,
    set_passwords,
    write_broker_files,
)
from terril.security.topics import FORMAT_TOPICS, check_topics, device_topics, validate_topic_key

#: Characters of entropy source for passwords: 32 bytes -> 43 URL-safe characters.
PASSWORD_BYTES = 32


@dataclass(frozen=True, slots=True)
class BrokerTarget:
    """The broker files to update and, for the local stack, the Mosquitto process to reload."""

    directory: Path  # holds passwd and acl
    registry_path: Path
    simulator: bool = False  # the local stack's simulator account
    pid: int | None = None
    conf: Path | None = None

    @property
    def passwd(self) -> Path:
        return self.directory / "passwd"


@dataclass(frozen=True, slots=True)
class DeviceCredentials:
    """What a device needs to connect: shown once, never stored in clear."""

    device: str
    username: str
    password: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]

    def __repr__(self) -> str:  # never show the password
        return f"DeviceCredentials({self.device!r}, publish={self.publish!r})"


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What a change did to the broker."""

    changed: bool
    reloaded: bool


@dataclass(frozen=True, slots=True)
class DeviceAccess:
    """One registry device and its broker access."""

    device: str
    site: str
    format: str
    has_account: bool
    publish: tuple[str, ...]


def local_target(state: Any, registry_path: str | os.PathLike[str] | None) -> BrokerTarget:
    """The local stack's broker (``state`` is a :class:`terril.stack.StackState`)."""
    path = Path(registry_path) if registry_path else Path(state.registry) if state.registry else _default_registry()
    return BrokerTarget(state.mosquitto_dir, path, simulator=True, pid=state.mosquitto_pid, conf=state.mosquitto_conf)


def files_target(directory: str | os.PathLike[str], registry_path: str | os.PathLike[str] | None) -> BrokerTarget:
    """Broker files written by ``terril broker config`` (reloaded by the operator)."""
    return BrokerTarget(Path(directory), Path(registry_path) if registry_path else _default_registry())


def _default_registry() -> Path:
    return Path(os.environ.get("TERRIL_REGISTRY") or DEMO_REGISTRY_PATH)


def new_device_entry(device: str, site: str, fmt: str, meters: Sequence[str], *, topic: str | None = None,
                     interval_s: float = 900.0, model: str = "",
                     channels: Sequence[Mapping[str, Any]] | None = None,
                     unmapped_channels: str | None = None) -> dict[str, Any]:
    """A registry ``[[devices]]`` entry from command-line values, each checked where it enters.

    ``meters``: ``METER`` (channel ``main``; only when there is one) or ``CHANNEL=METER``.
    ``channels``: the channel entries already resolved against the format's channel table
    (``collector.onboarding.plan_channels``, what ``terril devices add`` uses); they replace ``meters``.
    """
    validate_id(device, "device")
    validate_id(site, "site")
    if fmt not in FORMAT_TOPICS:
        raise ConfigError(f"unknown format {fmt[:40]!r}; known: {', '.join(sorted(FORMAT_TOPICS))}")
    if topic is not None:
        validate_topic_key(topic)
    if not meters and not channels:
        raise ConfigError("give at least one --meter METER (or CHANNEL=METER)")
    if channels is not None:
        for ch in channels:
            validate_id(ch["meter"], "meter")
            validate_topic_key(ch["channel"], "channel")
    channels = [dict(ch) for ch in channels] if channels is not None else []
    for spec in meters if not channels else ():
        channel, sep, meter = spec.partition("=")
        if not sep:
            if len(meters) > 1:
                raise ConfigError(f"--meter {spec[:40]!r}: with several meters, write CHANNEL=METER")
            channel, meter = "main", spec
        validate_id(meter, "meter")
        validate_topic_key(channel, "channel")
        channels.append({"channel": channel, "meter": meter})
    if len(model) > 200 or not model.isprintable():
        raise ConfigError("--model must be printable text of 200 characters at most")
    entry: dict[str, Any] = {"id": device, "site": site, "format": fmt}
    if topic is not None:
        entry["topic"] = topic
    entry.update({"interval_s": float(interval_s), "model": model, "channels": channels})
    if unmapped_channels is not None:
        entry["unmapped_channels"] = unmapped_channels
    return entry


def _checked(registry: Registry) -> Registry:
    problems = check_topics(registry)
    if problems:
        raise ProvisioningError(f"{registry.source}: {problems[0]}", hint="choose another device topic or id")
    return registry


def append_device(registry_path: Path, entry: dict[str, Any]) -> Registry:
    """Append ``entry`` to the registry file (comments kept) after validating the result; returns the new registry."""
    if registry_path.resolve() == DEMO_REGISTRY_PATH.resolve():
        raise ProvisioningError("the bundled demo registry is read-only",
                                hint="copy it, then pass --registry FILE (or set TERRIL_REGISTRY)")
    try:
        return add_entry(registry_path, "devices", entry, check=_checked)
    except RegistryError as err:
        if any(p.reason == "duplicate id" for p in err.problems):
            raise ProvisioningError(f"device {entry['id']!r} is already in {registry_path}",
                                    hint="use `terril devices rotate` for new credentials") from None
        raise


def apply_registry(target: BrokerTarget, registry: Registry) -> bool:
    """Regenerate the ACL (and prune accounts) from ``registry``, then reload the local broker if any."""
    write_broker_files(registry, target.directory, simulator=target.simulator, conf=False)
    if target.pid is not None and target.conf is not None:
        return reload_broker(target.pid, target.conf)
    return False


def _issue(target: BrokerTarget, registry: Registry, device_id: str) -> tuple[DeviceCredentials, bool]:
    device = registry.device_by_id.get(device_id)
    if device is None:
        raise ProvisioningError(f"no device {device_id!r} in {registry.source}",
                                hint="add it with `terril devices add`")
    topics = device_topics(device)
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    set_passwords(target.passwd, {device.id: password})
    reloaded = apply_registry(target, registry)
    return DeviceCredentials(device.id, device.id, password, topics.publish, topics.subscribe), reloaded


def add_device(target: BrokerTarget, entry: dict[str, Any]) -> tuple[DeviceCredentials, bool]:
    """Append the device to the registry, give it an account, update the ACL, reload. Returns (credentials, reloaded)."""
    registry = append_device(target.registry_path, entry)
    return _issue(target, registry, entry["id"])


def rotate_device(target: BrokerTarget, device_id: str) -> tuple[DeviceCredentials, bool]:
    """A new password for a registry device (the old one stops working at the reload)."""
    validate_id(device_id, "device")
    return _issue(target, _checked(load_registry(target.registry_path)), device_id)


def revoke_device(target: BrokerTarget, device_id: str) -> ChangeResult:
    """Remove the device's account and reload: the broker refuses it and drops its connections at once."""
    validate_id(device_id, "device")
    if device_id in SERVICE_ACCOUNTS.values():
        raise IdentifierError(f"{device_id!r} is a service account, not a device")
    removed = remove_password(target.passwd, device_id)
    reloaded = False
    if target.pid is not None and target.conf is not None:
        reloaded = reload_broker(target.pid, target.conf)
    return ChangeResult(removed, reloaded)


def list_devices(target: BrokerTarget) -> list[DeviceAccess]:
    """Every registry device with its topics and whether it has an account."""
    registry = load_registry(target.registry_path)
    accounts = read_password_entries(target.passwd)
    out = []
    for d in registry.devices:
        try:
            publish = device_topics(d).publish
        except (KeyError, IdentifierError):
            publish = ()
        out.append(DeviceAccess(d.id, d.site, d.format, d.id in accounts, publish))
    return out
