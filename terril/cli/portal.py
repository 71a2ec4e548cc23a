"""``terril web`` (serve the portal) and ``terril users add|passwd|remove|list`` (portal accounts).

Passwords are read from a prompt (or
``--password-file`` / ``TERRIL_USER_PASSWORD`` for scripts), never from the command line,
and never printed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from terril.cli._common import ConfigOpt, DataDirOpt, RegistryOpt, console, err_console, load_settings
from terril.errors import ConfigError

users_app = typer.Typer(help="Web portal accounts (roles: lecteur < technicien < gestionnaire < admin).",
                        no_args_is_help=True)

PasswordFileOpt = Annotated[Optional[Path], typer.Option(
    "--password-file", help="Read the password from this file (else TERRIL_USER_PASSWORD, else a prompt).")]


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(f"cannot read {password_file}: {err.strerror}") from err
    env = os.environ.get("TERRIL_USER_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise ConfigError("no password given", hint="use --password-file FILE or TERRIL_USER_PASSWORD, or a terminal")
    return typer.prompt("Password / mot de passe", hide_input=True, confirmation_prompt=True)


def _fr(settings) -> bool:  # noqa: ANN001
    """The town speaks French (its registry's ``[town] language``, read without loading the registry)."""
    from terril.cli.usage import usage_language

    return usage_language(settings.registry) == "fr"


@users_app.command("add")
def users_add_cmd(name: Annotated[str, typer.Argument(help="User name (a-z, 0-9, '.', '_', '-').")],
                  role: Annotated[str, typer.Option(help="lecteur, technicien, gestionnaire or admin.")] = "lecteur",
                  display_name: Annotated[str, typer.Option(help="Full name (free text).")] = "",
                  password_file: PasswordFileOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Create a portal account (the password is hashed with argon2)."""
    from portal.audit import AuditLog
    from portal.users import UserStore

    settings = load_settings(config, data_dir)
    user = UserStore(settings.data_dir).add(name, role, _password(password_file), display_name)
    AuditLog(settings.data_dir).record("cli", "user_added", user.name, role=user.role)
    console.print(f"Compte « {user.name} » créé avec le rôle {user.role}." if _fr(settings)
                  else f"User {user.name!r} added with role {user.role}.", highlight=False)


@users_app.command("passwd")
def users_passwd_cmd(name: Annotated[str, typer.Argument(help="User name.")], password_file: PasswordFileOpt = None,
                     data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Set a new password for a portal account."""
    from portal.audit import AuditLog
    from portal.users import UserStore

    settings = load_settings(config, data_dir)
    UserStore(settings.data_dir).set_password(name, _password(password_file))
    AuditLog(settings.data_dir).record("cli", "user_password_changed", name)
    console.print(f"Mot de passe de « {name} » changé." if _fr(settings) else f"Password of {name!r} changed.",
                  highlight=False)


@users_app.command("remove")
def users_remove_cmd(name: Annotated[str, typer.Argument(help="User name.")],
                     data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Remove a portal account (its sessions stop at their next request)."""
    from portal.audit import AuditLog
    from portal.users import UserStore

    settings = load_settings(config, data_dir)
    UserStore(settings.data_dir).remove(name)
    AuditLog(settings.data_dir).record("cli", "user_removed", name)
    console.print(f"Compte « {name} » supprimé." if _fr(settings) else f"User {name!r} removed.", highlight=False)


@users_app.command("list")
def users_list_cmd(data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """List portal accounts and their roles."""
    from portal.users import UserStore

    settings = load_settings(config, data_dir)
    fr = _fr(settings)
    users = UserStore(settings.data_dir).list()
    if not users:
        console.print("Aucun compte du portail : `terril users add NOM --role admin`." if fr
                      else "No portal account yet: `terril users add NAME --role admin`.")
        return
    table = Table()
    for col in (("compte", "rôle", "nom") if fr else ("user", "role", "name")):
        table.add_column(col)
    for u in users:
        table.add_row(u.name, u.role, u.display_name)
    console.print(table)


def web_cmd(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
            port: Annotated[int, typer.Option(min=1, max=65_535, help="Port to listen on.")] = 8080,
            public: Annotated[Optional[bool], typer.Option("--public/--no-public",
                                                           help="Serve the public page (default: setting portal.public_page).")] = None,
            registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Serve the web portal (staff pages and, if enabled, the public page) until Ctrl-C."""
    from portal.server import build_portal, serve
    from portal.users import UserStore

    settings = load_settings(config, data_dir, registry)
    portal = build_portal(settings, public_page=public)
    portal.reader.ping()
    fr = _fr(settings)
    if not UserStore(settings.data_dir).list():
        err_console.print("[yellow]Aucun compte du portail[/yellow] : créez-en un avec `terril users add NOM --role admin`."
                          if fr else
                          "[yellow]No portal account yet[/yellow]: create one with `terril users add NAME --role admin`.")
    if fr:
        err_console.print(f"Portail sur http://{host}:{port}/ (page publique "
                          f"{'activée' if portal.public_page else 'désactivée'}). Ctrl-C pour arrêter.")
    else:
        err_console.print(f"Portal on http://{host}:{port}/ (public page {'on' if portal.public_page else 'off'}). "
                          "Ctrl-C to stop.")
    serve(portal, host, port)
