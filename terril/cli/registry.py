"""``terril registry check|show``, ``terril sites add``, ``terril meters add`` and ``terril devices
channels``: the registry from the command line.

Entries are appended with
:func:`terril.registry_edit.add_entry`: the whole registry is validated first (every problem
listed, nothing written), the file's comments are kept, and a running collector reloads it
within a second. Devices are added with ``terril devices add`` (which also gives them a
broker account).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from terril.cli._common import JsonOpt, RegistryEditOpt, RegistryOpt, console, err_console

registry_app = typer.Typer(help="The registry of sites, meters, devices and PV arrays.", no_args_is_help=True)
sites_app = typer.Typer(help="Sites of the registry (bâtiments): add.", no_args_is_help=True)
meters_app = typer.Typer(help="Meters of the registry (compteurs): add.", no_args_is_help=True)

@registry_app.command("check")
def registry_check_cmd(file: Annotated[Path, typer.Argument(help="Registry file (TOML) to check.")]) -> None:
    """List every error of a registry file with its location and reason; exit 2 if any."""
    from terril.errors import RegistryError
    from terril.registry import load_registry

    try:
        reg = load_registry(file)
    except RegistryError as err:
        err_console.print(f"[red]{err.message}[/red]")
        for p in err.problems:
            err_console.print(f"  {p}", highlight=False, markup=False, soft_wrap=True)  # file:line: location: reason
        raise typer.Exit(2) from None
    console.print(f"[green]OK[/green] {file}: {len(reg.sites)} sites, {len(reg.meters)} meters, "
                  f"{len(reg.devices)} devices, {len(reg.pv_arrays)} PV arrays")


@registry_app.command("show")
def registry_show_cmd(registry: RegistryOpt = None) -> None:
    """Show the sites of a registry with their meters."""
    from terril.registry import load_registry

    reg = load_registry(registry)
    table = Table(title=f"{reg.town.name} — {reg.source}")
    for col in ("site", "name", "kind", "m²", "meters", "PV kWp"):
        table.add_column(col)
    for s in reg.sites:
        kwp = sum(a.kwp for a in reg.pv_arrays if a.site == s.id)
        table.add_row(s.id, s.name, s.kind, f"{s.floor_area_m2:.0f}",
                      ", ".join(f"{m.id} ({m.carrier})" for m in reg.meters_of_site(s.id)), f"{kwp:g}" if kwp else "")
    console.print(table)


def _path(registry: Path | None) -> Path:
    from terril.errors import ConfigError

    if registry is None:
        raise ConfigError("no registry file to edit", hint="pass --registry FILE or set TERRIL_REGISTRY "
                          "(the bundled demo registry is read-only)")
    return registry


def _add(registry: Path | None, section: str, entry: dict[str, Any]) -> None:
    from terril.registry_edit import add_entry

    path = _path(registry)
    reg = add_entry(path, section, entry)
    err_console.print(f"Added {section[:-1]} {entry['id']!r} to {path} ({len(reg.sites)} sites, "
                      f"{len(reg.meters)} meters, {len(reg.devices)} devices).", highlight=False)


@sites_app.command("add")
def sites_add_cmd(site: Annotated[str, typer.Argument(help="Site id (a-z, 0-9, '-', '_').")],
                  name: Annotated[str, typer.Option(help="Display name.")],
                  kind: Annotated[str, typer.Option(help="school, town_hall, sports_hall, church, library, ...")],
                  latitude: Annotated[float, typer.Option(help="WGS84 latitude [°].")],
                  longitude: Annotated[float, typer.Option(help="WGS84 longitude [°].")],
                  floor_area_m2: Annotated[float, typer.Option(help="Heated floor area [m²].")] = 0.0,
                  heating_carrier: Annotated[str, typer.Option(help="gas, heat, electricity or none.")] = "none",
                  tertiaire: Annotated[bool, typer.Option(help="Subject to the Décret tertiaire.")] = False,
                  registry: RegistryEditOpt = None) -> None:
    """Add a site to the registry file (validated, comments kept)."""
    from terril.ids import validate_id

    validate_id(site, "site")
    _add(registry, "sites", {"id": site, "name": name, "kind": kind, "floor_area_m2": floor_area_m2,
                             "latitude": latitude, "longitude": longitude, "heating_carrier": heating_carrier,
                             "tertiaire": tertiaire})


@meters_app.command("add")
def meters_add_cmd(meter: Annotated[str, typer.Argument(help="Meter id (a-z, 0-9, '-', '_').")],
                   site: Annotated[str, typer.Option(help="Site id of the meter.")],
                   carrier: Annotated[str, typer.Option(help="electricity, gas, heat, water, pv or weather.")],
                   usage: Annotated[str, typer.Option(help="main, sub, heating, lighting, hot_water, production, "
                                                           "weather.")] = "main",
                   name: Annotated[str, typer.Option(help="Display name.")] = "",
                   multiplier: Annotated[float, typer.Option(help="CT ratio or pulse weight (applied to counters).")] = 1.0,
                   registry: RegistryEditOpt = None) -> None:
    """Add a meter to the registry file (validated, comments kept)."""
    from terril.ids import validate_id

    validate_id(meter, "meter")
    validate_id(site, "site")
    _add(registry, "meters", {"id": meter, "site": site, "carrier": carrier, "usage": usage, "name": name,
                              "multiplier": multiplier})


def devices_channels_cmd(format: Annotated[str, typer.Argument(help="Payload format (tasmota, shelly_gen2, ...).")],
                         json_out: JsonOpt = False) -> None:
    """The channels a format emits, and those a bare `devices add --meter METER` maps."""
    from collector.decoders import get_decoder
    from collector.onboarding import known_channels

    known_channels(format)  # ConfigError naming the known formats
    decoder = get_decoder(format)
    assert decoder is not None
    if json_out:
        print(json.dumps({"format": format, "channels": dict(decoder.channels),
                          "default": list(decoder.default_channels), "free": decoder.free_channels}))
        return
    for name, what in decoder.channels.items():
        mark = "*" if name in decoder.default_channels else " "
        console.print(f"{mark} {name:<8} {what}", highlight=False, markup=False)
    console.print("* mapped by a bare --meter METER; others: --meter CHANNEL=METER"
                  + (" (any other name the payload gives is accepted)" if decoder.free_channels else ""),
                  highlight=False, markup=False)
