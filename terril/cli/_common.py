"""What every ``terril`` command shares: the two consoles, the common options, the settings and
the registry loaded from them, an InfluxDB client per role, and the progress bar.

One definition each: a command module imports these instead of defining its own.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from terril.errors import ConfigError

if TYPE_CHECKING:
    from rich.progress import Progress

    from terril.influx import InfluxClient
    from terril.registry import Registry
    from terril.settings import Settings

#: Standard output (results) and standard error (progress, notes, errors); 120 columns when not a terminal.
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

RegistryOpt = Annotated[Optional[Path], typer.Option("--registry", envvar="TERRIL_REGISTRY",
                                                     help="Registry file (default: the Loos-en-Gohelle demo registry).")]
#: The registry file a command edits: no default (the bundled demo registry is read-only).
RegistryEditOpt = Annotated[Optional[Path], typer.Option("--registry", envvar="TERRIL_REGISTRY",
                                                         help="Registry file to edit (TOML).")]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", envvar="TERRIL_DATA_DIR",
                                                    help="Data folder of the local stack (default: per-user folder).")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", envvar="TERRIL_CONFIG", help="Settings file (TOML).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def load_settings(config: Path | None = None, data_dir: Path | None = None,
                  registry: Path | None = None) -> Settings:
    """The settings tree: environment, ``--config`` file, then the flags given."""
    from terril.settings import load_settings as load

    return load(config, data_dir=data_dir, registry=registry)


def load_registry(settings: Settings) -> Registry:
    """The registry the settings name (the demo registry by default)."""
    from terril.registry import load_registry as load

    return load(settings.registry)


def settings_and_registry(config: Path | None, data_dir: Path | None,
                          registry: Path | None) -> tuple[Settings, Registry]:
    settings = load_settings(config, data_dir, registry)
    return settings, load_registry(settings)


def now_ns(text: str | None = None) -> int:
    """"Now": ``text`` (``YYYY-MM-DD`` = the town's midnight, or RFC 3339; ``terril demo --now``, whose
    environment variable ``TERRIL_NOW`` the other commands read too), else the clock. [UTC ns]"""
    import time

    from terril.timeutil import parse_time_arg

    if text is None or not text.strip():
        return time.time_ns()
    try:
        return parse_time_arg(text)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--now (TERRIL_NOW)") from None


def town_today() -> dt.date:
    """The town's today (its time zone is set when the registry is loaded), at ``TERRIL_NOW`` when set."""
    import os

    from terril.timeutil import local_date

    return local_date(now_ns(os.environ.get("TERRIL_NOW")))


def unknown_site(reg: Registry, site: str, lang: str) -> ConfigError:
    """The error of a site id the registry does not have, naming those it has, in ``lang``."""
    from analytics.reports.i18n import t

    return ConfigError(t("cli.site_unknown", lang, site=repr(site),
                         known=", ".join(s.id for s in reg.sites))).said_in(lang)


def influx_client(settings: Settings, role: str = "analytics", timeout_s: float | None = None) -> InfluxClient:
    """A client of the configured InfluxDB with the account of ``role`` (reader, analytics, admin, ...)."""
    from terril.endpoints import influx_endpoint

    return influx_endpoint(settings, role).client(settings.influx.timeout_s if timeout_s is None else timeout_s)


def progress() -> Progress:
    """A progress bar on standard error (description, bar, percentage, elapsed and remaining time)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    TextColumn("{task.percentage:>3.0f} %"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err_console, transient=False)
