"""``terril dashboards build|check|push``: Grafana dashboards as code (the work is in :mod:`dashboards`)."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from terril.cli._common import DataDirOpt, RegistryOpt, console, err_console, influx_client, load_settings

dashboards_app = typer.Typer(help="Grafana dashboards as code: build the JSON, check every query, push to Grafana.",
                             no_args_is_help=True)


class LangOpt(str, Enum):
    fr = "fr"
    en = "en"


TimezoneOpt = Annotated[Optional[str], typer.Option(
    "--timezone", help="IANA time zone the dashboards group days in (default: the registry's [town] timezone).")]


def _town_timezone(timezone: str | None, registry: Path | None) -> str:
    """The zone days are grouped in: ``--timezone``, else the registry's ``[town] timezone``."""
    from dashboards.panels import tz_clause
    from terril.errors import ConfigError

    if timezone is None:
        from terril.registry import load_registry

        timezone = load_registry(registry).town.timezone
    try:
        tz_clause(timezone)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    return timezone


@dashboards_app.command("build")
def build_cmd(lang: Annotated[Optional[LangOpt], typer.Option("--lang", help="Only this language (default: French and English).")] = None,
              out: Annotated[Optional[Path], typer.Option("--out", help="Write under this folder instead of the package (generated/, provisioning/).")] = None,
              check_only: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the committed files are stale.")] = False,
              timezone: TimezoneOpt = None, registry: RegistryOpt = None) -> None:
    """Write the dashboards (dashboards/generated/<lang>/<uid>.json), the alert rules and docs/dashboards.md."""
    from dashboards.build import DOCS_FILE, dashboards_markdown, generated_files, stale_files, write_generated
    from dashboards.panels import LANGS

    langs = (lang.value,) if lang else LANGS
    files = generated_files(langs, _town_timezone(timezone, registry))  # type: ignore[arg-type]
    if out is None and lang is None:
        files[DOCS_FILE] = dashboards_markdown()
    if check_only:
        stale = stale_files(files)
        for p in stale:
            err_console.print(f"stale: {p}")
        if stale:
            err_console.print("run `terril dashboards build` and commit the result")
            raise typer.Exit(1)
        console.print(f"[green]up to date[/green]: {len(files)} files")
        return
    docs = files.pop(DOCS_FILE, None)
    changed = write_generated(files, out)
    if docs is not None and (not DOCS_FILE.exists() or DOCS_FILE.read_text(encoding="utf-8") != docs):
        DOCS_FILE.write_text(docs, encoding="utf-8")
        changed.append(DOCS_FILE)
    console.print(f"{len(files) + (docs is not None)} files, {len(changed)} changed")
    for p in changed:
        console.print(f"  wrote {p}")


@dashboards_app.command("check")
def check_cmd(influx_url: Annotated[Optional[str], typer.Option("--influx-url", help="InfluxDB URL (default: the settings, or the local stack).")] = None,
              database: Annotated[Optional[str], typer.Option("--database", help="Database (default: the settings' influx.database).")] = None,
              username: Annotated[Optional[str], typer.Option("--username", envvar="TERRIL_INFLUX__USERNAME", help="InfluxDB user (read access is enough).")] = None,
              password_file: Annotated[Optional[Path], typer.Option("--password-file", envvar="TERRIL_INFLUX__PASSWORD_FILE", help="File holding the user's password.")] = None,
              lang: Annotated[LangOpt, typer.Option("--lang", help="Language of the dashboards to check.")] = LangOpt.fr,
              now: Annotated[Optional[str], typer.Option("--now", help="Evaluate relative times at this instant (RFC 3339; default: now).")] = None,
              report: Annotated[bool, typer.Option("--report", help="Print a table: dashboard, panel, rows.")] = False,
              data_dir: DataDirOpt = None, timezone: TimezoneOpt = None, registry: RegistryOpt = None) -> None:
    """Run every panel, variable, annotation and alert query as Grafana would; fail on an error or a panel without data."""
    from dashboards.build import DASHBOARDS, dashboard_model
    from dashboards.alerting import alerting_provisioning
    from dashboards.check import check_all
    from terril.influx import InfluxClient
    from terril.timeutil import parse_rfc3339

    if influx_url:
        password = password_file.read_text(encoding="utf-8").strip() if password_file else None
        client = InfluxClient(influx_url, database or "terril", username=username, password=password)
    else:
        client = influx_client(load_settings(None, data_dir), "reader")
        if database:
            client.database = database
    at = dt.datetime.fromtimestamp(parse_rfc3339(now) / 1e9, dt.timezone.utc) if now else None
    zone = _town_timezone(timezone, registry)
    with client:
        result = check_all(client, [dashboard_model(d, lang.value, zone) for d in DASHBOARDS],  # type: ignore[arg-type]
                           alerting_provisioning(lang.value), now=at)
    if report:
        table = Table(title=f"terril dashboards check — {client.url} db {client.database}")
        for col, just in (("dashboard", "left"), ("panel", "left"), ("rows", "right")):
            table.add_column(col, justify=just)  # type: ignore[arg-type]
        for dash, panel, rows in result.panel_rows():
            table.add_row(dash, panel, str(rows), style=None if rows else "red")
        console.print(table)
    failures = result.failures()
    queries = len(result.results)
    if failures:
        for f in failures:
            err_console.print(f"[red]FAIL[/red] {f}", highlight=False)
        err_console.print(f"{len(failures)} problem(s) in {queries} queries")
        raise typer.Exit(1)
    console.print(f"[green]OK[/green]: {queries} queries ran, every panel has data "
                  f"({len(result.panel_rows())} panels, {len(DASHBOARDS)} dashboards).")


@dashboards_app.command("push")
def push_cmd(url: Annotated[str, typer.Option("--url", help="Grafana URL, e.g. https://grafana.example.org")],
             token: Annotated[str, typer.Option("--token", envvar="TERRIL_GRAFANA_TOKEN", help="Service-account token (prefer the TERRIL_GRAFANA_TOKEN variable).")],
             lang: Annotated[LangOpt, typer.Option("--lang", help="Language of the dashboards.")] = LangOpt.fr,
             influx_url: Annotated[Optional[str], typer.Option("--influx-url", help="Also create/update the datasource, pointing Grafana to this InfluxDB URL.")] = None,
             database: Annotated[str, typer.Option("--database", help="Database of the datasource.")] = "terril",
             influx_user: Annotated[Optional[str], typer.Option("--influx-user", help="Read-only InfluxDB user of the datasource.")] = None,
             influx_password_file: Annotated[Optional[Path], typer.Option("--influx-password-file", help="File holding that user's password.")] = None,
             timezone: TimezoneOpt = None, registry: RegistryOpt = None) -> None:
    """Upload the dashboards and alert rules to a Grafana without file provisioning (grafana-client)."""
    from dashboards.build import DASHBOARDS, dashboard_model
    from dashboards.push import DatasourceSettings, grafana_api, push_all

    ds = None
    if influx_url:
        pw = influx_password_file.read_text(encoding="utf-8").strip() if influx_password_file else None
        ds = DatasourceSettings(influx_url, database, influx_user, pw)
    api = grafana_api(url, token)
    zone = _town_timezone(timezone, registry)
    report = push_all(api, [dashboard_model(d, lang.value, zone) for d in DASHBOARDS], datasource=ds,  # type: ignore[arg-type]
                      lang=lang.value)
    console.print(json.dumps({"folder_created": report.folder_created, "dashboards": report.dashboards,
                              "alert_rules": report.rules, "datasource": report.datasource}))
