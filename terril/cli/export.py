"""``terril export readings``: a site's (or a meter's) stored points exactly as stored, CSV or JSON lines."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from terril.cli._common import (
    ConfigOpt, DataDirOpt, err_console, influx_client, load_registry, load_settings, unknown_site,
)
from terril.errors import ConfigError

export_app = typer.Typer(help="Export stored data.", no_args_is_help=True)


class ExportFormat(str, Enum):
    csv = "csv"
    jsonl = "jsonl"


@export_app.command("readings")
def export_readings_cmd(site: Annotated[str, typer.Option(help="Site id.")],
                        start: Annotated[str, typer.Option(help="Start: YYYY-MM-DD (the town's midnight) or RFC 3339.")],
                        end: Annotated[str, typer.Option(help="End (exclusive): YYYY-MM-DD (end of that day) or RFC 3339.")],
                        meter: Annotated[Optional[str], typer.Option(help="Only this meter.")] = None,
                        format: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl.")] = ExportFormat.csv,
                        output: Annotated[Optional[Path], typer.Option("-o", "--output", help="File (default: stdout).")] = None,
                        data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Export the stored points of a site (or one meter) exactly as stored, one per row or line."""
    from terril.export import write_export
    from terril.ids import validate_id
    from terril.timeutil import parse_time_arg

    validate_id(site, "site")
    if meter is not None:
        validate_id(meter, "meter")
    from terril.cli.usage import translate_usage_message

    settings = load_settings(config, data_dir)
    reg = load_registry(settings)  # the town's midnight; the site and meter must be its own
    fr = (reg.town.language or "fr") != "en"

    def refuse(fr_text: str, en_text: str) -> ConfigError:
        return ConfigError(fr_text if fr else en_text).said_in("fr" if fr else "en")

    if site not in reg.site_by_id:
        raise unknown_site(reg, site, "fr" if fr else "en")
    if meter is not None and reg.meter_by_id.get(meter) is None:
        raise refuse(f"compteur inconnu : {meter!r} (voyez `terril registry show`)",
                     f"unknown meter {meter!r} (see `terril registry show`)")
    try:
        start_ns = parse_time_arg(start)
        end_ns = parse_time_arg(end, end_of_day=True)
    except ValueError as err:
        raise refuse(f"--start/--end : {translate_usage_message(f'Invalid value: {err}', 'fr')}",
                     f"bad --start/--end: {err}") from None
    if end_ns <= start_ns:
        raise refuse(f"--end ({end}) n'est pas après --start ({start}) : rien à exporter",
                     f"--end ({end}) is not after --start ({start}): nothing to export")
    with influx_client(settings, "reader") as client:
        if output is None:
            n = write_export(client, sys.stdout, site, start_ns, end_ns, meter, format.value)
        else:
            with open(output, "w", encoding="utf-8", newline="") as f:
                n = write_export(client, f, site, start_ns, end_ns, meter, format.value)
    if fr:
        err_console.print(f"{n} point{'s' if n > 1 else ''} exporté{'s' if n > 1 else ''}"
                          + (f" dans {output}" if output else ""), highlight=False)
    else:
        err_console.print(f"{n} points exported" + (f" to {output}" if output else ""), highlight=False)
