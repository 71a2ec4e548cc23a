"""The ``terril`` command: the composition root, the only code that imports every component.

One module per command group (:mod:`terril.cli.stack`, :mod:`~terril.cli.collect`,
:mod:`~terril.cli.analyze`, ...); the options, consoles and settings loading they share are in
:mod:`terril.cli._common`. This module builds ``app`` from them (the order below is the order of
``terril --help``) and turns errors into messages (:func:`main`). See docs/architecture.md.

Every error a user can cause ends as one clear message on stderr with what to do
next and a non-zero exit code; unexpected errors are written to a crash file,
never shown as a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Annotated

import typer

from terril import __version__
from terril.cli import (
    analyze,
    collect,
    dashboards,
    demo,
    export,
    portal,
    pv,
    quarantine,
    registry,
    reports,
    security,
    simulate,
    spool,
    stack,
)
from terril.cli._common import console, err_console
from terril.errors import TerrilError

app = typer.Typer(help="Terril: energy monitoring for public buildings (Terril : suivi énergétique des bâtiments publics).",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _version(value: bool) -> None:
    if value:
        console.print(f"terril {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Show the version and exit.")] = False,
          verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More log output.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# ---------------------------------------------------------------- the command tree
app.add_typer(stack.stack_app, name="stack")
app.add_typer(registry.registry_app, name="registry")
app.add_typer(export.export_app, name="export")
app.add_typer(stack.settings_app, name="settings")
app.command("collect")(collect.collect_cmd)
app.command("simulate")(simulate.simulate_cmd)
app.add_typer(analyze.alerts_app, name="alerts")
app.add_typer(pv.rollout_app, name="rollout")
app.add_typer(pv.pv_app, name="pv")
app.add_typer(reports.report_app, name="report")
app.command("import")(reports.import_cmd)
app.add_typer(dashboards.dashboards_app, name="dashboards")
app.add_typer(spool.spool_app, name="spool")
app.add_typer(quarantine.quarantine_app, name="quarantine")
security.devices_app.command("unmapped")(collect.devices_unmapped_cmd)
security.devices_app.command("channels")(registry.devices_channels_cmd)
app.add_typer(security.devices_app, name="devices")
app.add_typer(security.broker_app, name="broker")
app.add_typer(registry.sites_app, name="sites")
app.add_typer(registry.meters_app, name="meters")
app.command("web")(portal.web_cmd)
app.add_typer(portal.users_app, name="users")
app.command("analyze")(analyze.analyze_cmd)
app.command("run")(collect.run_cmd)
app.command("decode")(collect.decode_cmd)
app.command("demo")(demo.demo_cmd)


# ---------------------------------------------------------------- entry point
def _is_click_error(err: BaseException) -> bool:
    """A usage error of click, or of the copy of click Typer ships (either may raise)."""
    names = {c.__name__ for c in type(err).__mro__}
    return "ClickException" in names and hasattr(err, "show")


def main() -> None:
    """Entry point: run the CLI, turning every error into a message, never a traceback."""
    try:
        rc = app(standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except TerrilError as err:
        fr = err.lang == "fr"
        err_console.print(f"[red]{'erreur :' if fr else 'error:'}[/red] {err.message}", highlight=False)
        if getattr(err, "problems", None):
            for p in err.problems:  # type: ignore[attr-defined]
                err_console.print(f"  {p}", highlight=False, markup=False, soft_wrap=True)
        if err.hint:
            err_console.print(f"{'conseil :' if fr else 'hint:'} {err.hint}", highlight=False)
        sys.exit(err.exit_code)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as err:  # click usage errors and anything unexpected
        # usage errors (click's, or the copy typer vendors): shown as click shows them
        if _is_click_error(err):
            from terril.cli.usage import show_usage_error

            sys.exit(show_usage_error(err))
        crash_dir = Path(os.environ.get("TERRIL_DATA_DIR") or Path.home() / ".local/share/terril") / "logs"
        try:
            crash_dir.mkdir(parents=True, exist_ok=True)
            crash = crash_dir / f"crash-{int(time.time())}.txt"
            crash.write_text(traceback.format_exc(), encoding="utf-8")
            where = f"details in {crash}"
        except OSError:
            where = "no crash file could be written"
        err_console.print(f"[red]internal error:[/red] {type(err).__name__}: {str(err)[:200]} ({where}); "
                          "please report it", highlight=False)
        sys.exit(70)
