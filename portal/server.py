"""Serving the portal: a :class:`portal.app.Portal` on the configured InfluxDB, run by uvicorn.

Used by ``terril web`` and ``terril demo --serve`` (:mod:`portal.demo`).
"""

from __future__ import annotations

import os


def build_portal(settings, *, public_page: bool | None = None):  # noqa: ANN001, ANN201
    """A :class:`portal.app.Portal` on the configured InfluxDB (reader and analytics accounts)."""
    from portal.app import Portal
    from terril.endpoints import influx_endpoint
    from terril.registry import load_registry

    reg = load_registry(settings.registry)
    reader = influx_endpoint(settings, "reader").client(settings.influx.timeout_s)
    writer = influx_endpoint(settings, "analytics").client(max(settings.influx.timeout_s, 60.0))
    return Portal(settings, reg, reader, writer, public_page=public_page)


def serve(portal, host: str, port: int, *, on_ready=None) -> None:  # noqa: ANN001
    """Serve ``portal`` with uvicorn until Ctrl-C / SIGTERM (proxy headers trusted from loopback only)."""
    import uvicorn

    from portal.app import create_app

    config = uvicorn.Config(create_app(portal), host=host, port=port, log_level="warning", proxy_headers=True,
                            forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
                            server_header=False)
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready()
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown: that is a normal stop
        pass
