"""The ``terril devices`` and ``terril broker`` commands: device credentials and broker configuration.

Errors are :class:`~terril.errors.TerrilError` subclasses, turned into one message by
``terril.cli.main``. A device password is printed once, on stdout, and stored nowhere in clear.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from terril.cli._common import DataDirOpt, JsonOpt, RegistryOpt, console, err_console

devices_app = typer.Typer(help="Device accounts on the MQTT broker: add, rotate, revoke, list.", no_args_is_help=True)
broker_app = typer.Typer(help="Mosquitto configuration generated from the registry.", no_args_is_help=True)

BrokerDirOpt = Annotated[Optional[Path], typer.Option(
    "--broker-dir", help="Folder of broker files from `terril broker config` (default: the local stack's broker).")]

_RELOAD_HINT = {
    "en": ("reload the broker so that it takes effect, e.g. `docker compose kill -s HUP mosquitto` "
           "(Mosquitto re-reads its password and ACL files on SIGHUP)"),
    "fr": ("rechargez le broker pour que cela prenne effet, par exemple `docker compose kill -s HUP mosquitto` "
           "(Mosquitto relit ses fichiers de mots de passe et d'ACL sur SIGHUP)"),
}


def _lang(target) -> str:  # noqa: ANN001
    """The town's language, from the registry the broker target edits."""
    from terril.cli.usage import usage_language

    return usage_language(getattr(target, "registry_path", None))


def _print_credentials(creds, reloaded: bool, local: bool, json_out: bool, lang: str = "en") -> None:  # noqa: ANN001
    fr = lang == "fr"
    if json_out:
        print(json.dumps({"device": creds.device, "username": creds.username, "password": creds.password,
                          "publish": list(creds.publish), "subscribe": list(creds.subscribe)}))
    elif fr:
        console.print(f"Appareil [bold]{creds.device}[/bold] — identifiants MQTT (affichés une seule fois, conservés "
                      "nulle part en clair) :")
        print(f"  utilisateur : {creds.username}")
        print(f"  mot de passe : {creds.password}")
        console.print(f"  peut publier sur : {', '.join(creds.publish)}", highlight=False)
    else:
        console.print(f"Device [bold]{creds.device}[/bold] — MQTT credentials (shown once, stored nowhere in clear):")
        print(f"  username: {creds.username}")
        print(f"  password: {creds.password}")
        console.print(f"  may publish to: {', '.join(creds.publish)}", highlight=False)
    if local and not reloaded:
        err_console.print("Le broker local ne tourne pas : le compte sera actif au prochain `terril stack up`." if fr
                          else "The local broker is not running: the account is active at the next `terril stack up`.")
    elif not local:
        err_console.print(_RELOAD_HINT[lang])


@devices_app.command("add")
def devices_add_cmd(device: Annotated[str, typer.Argument(help="Device id (a-z, 0-9, '-', '_').")],
                    site: Annotated[str, typer.Option(help="Site id of the device.")],
                    format: Annotated[str, typer.Option("--format", help="Payload format (native, tasmota, ...).")],
                    meter: Annotated[list[str], typer.Option(help="METER (the format's default channels, the whole device) or CHANNEL=METER; repeat. `terril devices channels FORMAT` lists them.")],
                    topic: Annotated[Optional[str], typer.Option(help="Vendor topic key (Tasmota topic, Shelly prefix, serial).")] = None,
                    interval_s: Annotated[float, typer.Option(min=1, max=86_400, help="Publishing interval [s].")] = 900.0,
                    model: Annotated[str, typer.Option(help="Model (free text).")] = "",
                    registry: RegistryOpt = None, broker_dir: BrokerDirOpt = None, data_dir: DataDirOpt = None,
                    json_out: JsonOpt = False) -> None:
    """Add a device to the registry file and give it a broker account (password printed once)."""
    from collector.onboarding import plan_channels
    from terril.broker_target import broker_target, remember_registry
    from terril.security.provisioning import add_device, new_device_entry

    plan = plan_channels(format, meter)  # the channels the format really emits (its decoder's table)
    entry = new_device_entry(device, site, format, meter, topic=topic, interval_s=interval_s, model=model,
                             channels=plan.channels, unmapped_channels=plan.unmapped_channels)
    target = broker_target(broker_dir, registry, data_dir)
    creds, reloaded = add_device(target, entry)
    remember_registry(target, data_dir)
    mapped = ", ".join(f"{c['channel']} -> {c['meter']}" for c in plan.channels)
    lang = _lang(target)
    err_console.print(f"{device!r} ajouté à {target.registry_path} (canaux {mapped})." if lang == "fr"
                      else f"Added {device!r} to {target.registry_path} (channels {mapped}).", highlight=False)
    for note in plan.notes:
        err_console.print(f"note : {note}" if lang == "fr" else f"note: {note}", highlight=False)
    _print_credentials(creds, reloaded, target.pid is not None, json_out, lang)


@devices_app.command("rotate")
def devices_rotate_cmd(device: Annotated[str, typer.Argument(help="Device id.")], registry: RegistryOpt = None,
                       broker_dir: BrokerDirOpt = None, data_dir: DataDirOpt = None, json_out: JsonOpt = False) -> None:
    """Give a registry device a new password (the old one stops working at once)."""
    from terril.broker_target import broker_target, remember_registry
    from terril.security.provisioning import rotate_device

    target = broker_target(broker_dir, registry, data_dir)
    creds, reloaded = rotate_device(target, device)
    remember_registry(target, data_dir)
    _print_credentials(creds, reloaded, target.pid is not None, json_out, _lang(target))


@devices_app.command("revoke")
def devices_revoke_cmd(device: Annotated[str, typer.Argument(help="Device id.")], registry: RegistryOpt = None,
                       broker_dir: BrokerDirOpt = None, data_dir: DataDirOpt = None) -> None:
    """Remove a device's account: the broker refuses it and drops its connection at once."""
    from terril.broker_target import broker_target
    from terril.security.provisioning import revoke_device

    target = broker_target(broker_dir, registry, data_dir)
    result = revoke_device(target, device)
    lang = _lang(target)
    if lang == "fr":
        if not result.changed:
            console.print(f"{device!r} n'avait pas de compte.", highlight=False)
        else:
            console.print(f"Compte de {device!r} révoqué" + (" (broker rechargé ; ses connexions ont été coupées)."
                                                              if result.reloaded else "."), highlight=False)
    elif not result.changed:
        console.print(f"{device!r} had no account.", highlight=False)
    else:
        console.print(f"Revoked {device!r}" + (" (broker reloaded; its connections were dropped)."
                                               if result.reloaded else "."), highlight=False)
    if target.pid is None and result.changed:
        err_console.print(_RELOAD_HINT[lang])


@devices_app.command("list")
def devices_list_cmd(registry: RegistryOpt = None, broker_dir: BrokerDirOpt = None, data_dir: DataDirOpt = None,
                     json_out: JsonOpt = False) -> None:
    """The registry's devices, their topics, and whether they have an account."""
    from terril.broker_target import broker_target
    from terril.security.provisioning import list_devices

    rows = list_devices(broker_target(broker_dir, registry, data_dir))
    if json_out:
        print(json.dumps([{"device": r.device, "site": r.site, "format": r.format, "account": r.has_account,
                           "publish": list(r.publish)} for r in rows]))
        return
    table = Table(title="Devices / appareils")
    for col in ("device", "site", "format", "account", "may publish to"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.device, r.site, r.format, "yes" if r.has_account else "—", ", ".join(r.publish))
    console.print(table)


@broker_app.command("config")
def broker_config_cmd(out: Annotated[Path, typer.Option("--out", help="Folder for mosquitto.conf, passwd and acl.")],
                      registry: RegistryOpt = None,
                      certs_dir: Annotated[str, typer.Option(help="Certificate folder as mounted in the broker container.")] = "/mosquitto/certs",
                      require_client_cert: Annotated[bool, typer.Option(help="Mutual TLS: devices need a client certificate.")] = False) -> None:
    """Write the production broker files: no anonymous access, one account per device, ACL from the registry."""
    from terril.registry import load_registry
    from terril.security.broker import write_broker_files

    reg = load_registry(registry)
    files = write_broker_files(reg, out, certs_dir=certs_dir, require_client_certificate=require_client_cert)
    devices = sum(1 for d in reg.devices if d.id in files.accounts)
    console.print(f"Wrote {files.conf}, {files.passwd} and {files.acl}: {len(reg.devices)} devices in the ACL, "
                  f"{devices} with an account (add accounts with `terril devices add|rotate --broker-dir {out}`).")
    for s in files.secrets:
        console.print(f"  new service password: {s} (0600; mount it as a Docker secret)")
