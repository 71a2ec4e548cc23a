"""``terril demo --serve``: after the demo, serve the portal on its data until Ctrl-C, with a demo login.

The demo account (``demo``, role ``admin``) gets a new random password at each run, printed once.
The public page is on, as in any demo.
"""

from __future__ import annotations

import secrets
import socket

from rich.console import Console

DEMO_USER = "demo"


def _free_port(host: str, preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind((host, preferred))
            return preferred
        except OSError:
            s.bind((host, 0))
            return s.getsockname()[1]


def serve_demo(settings, console: Console, host: str = "127.0.0.1", port: int = 8080) -> None:  # noqa: ANN001
    """Create or reset the demo login, print the URL and the login, serve until Ctrl-C."""
    from portal.server import build_portal, serve
    from portal.users import UserStore

    password = secrets.token_urlsafe(12)
    store = UserStore(settings.data_dir)
    if store.get(DEMO_USER) is None:
        store.add(DEMO_USER, "admin", password, "Démo")
    else:
        store.set_password(DEMO_USER, password)
    portal = build_portal(settings, public_page=True)
    port = _free_port(host, port)

    def ready() -> None:
        console.print(f"\n[bold]Web portal / portail web:[/bold] http://{host}:{port}/")
        console.print(f"  public page / page publique: http://{host}:{port}/public")
        console.print(f"  login / identifiant: [bold]{DEMO_USER}[/bold]   password / mot de passe: [bold]{password}[/bold]")
        console.print("  Ctrl-C to stop / pour arrêter.")

    serve(portal, host, port, on_ready=ready)
