"""``terril collect`` (the collector), ``terril run`` (the collector plus periodic analytics),
``terril decode`` (one payload through a decoder) and ``terril devices unmapped``."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from terril.cli._common import (
    ConfigOpt, DataDirOpt, RegistryOpt, console, err_console, influx_client, load_registry, load_settings,
)
from terril.errors import ConfigError, TerrilError


def _start_collector(settings, reg):  # noqa: ANN001, ANN202
    """The collector of ``collect`` and ``run``, reloading its registry live (file change or SIGHUP;
    the local broker's ACL follows)."""
    from collector.build import build_collector
    from collector.reload import local_broker_sync
    from collector.service import influx_startup_note

    collector = build_collector(settings, reg)
    note = influx_startup_note(collector.influx)  # InfluxDB down is no reason not to start: the collector spools
    if note:
        err_console.print(f"[yellow]{note}[/yellow]")
    collector.watch_registry(reg.source, on_devices_changed=local_broker_sync(settings.data_dir, reg.source))
    return collector


def collect_cmd(registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Run the collector: MQTT -> decode -> InfluxDB, until SIGTERM or Ctrl-C."""
    settings = load_settings(config, data_dir, registry)
    reg = load_registry(settings)
    collector = _start_collector(settings, reg)
    influx = collector.influx
    fr = (reg.town.language or "fr") != "en"
    if fr:
        err_console.print(f"Collecte pour les {len(reg.devices)} appareils de {reg.town.name} → {influx.url} "
                          f"(base {influx.database}). Ctrl-C pour arrêter.", highlight=False)
    else:
        err_console.print(f"Collecting for {len(reg.devices)} devices of {reg.town.name} → {influx.url} "
                          f"(db {influx.database}). Ctrl-C to stop.", highlight=False)
    collector.run_forever()
    s = collector.stats
    q = sum(s.quarantined.values())
    if fr:
        err_console.print(f"Arrêté : {s.messages_received} messages, {s.points_written} points écrits, "
                          f"{q} en quarantaine.", highlight=False)
    else:
        err_console.print(f"Stopped: {s.messages_received} messages, {s.points_written} points written, "
                          f"{q} quarantined.", highlight=False)


def run_cmd(registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
            analyze_every: Annotated[float, typer.Option(min=10, help="Seconds between incremental analytics runs.")] = 900.0) -> None:
    """The service: the collector, plus the analytics every --analyze-every seconds, until SIGTERM."""
    import threading

    settings = load_settings(config, data_dir, registry)
    reg = load_registry(settings)
    collector = _start_collector(settings, reg)  # the analytics read the registry in force

    from analytics.analyze import analyze
    from terril.cli.analyze import publish_open_alerts
    from terril.endpoints import influx_endpoint

    stop = threading.Event()
    log = logging.getLogger("terril.run")

    def scheduler() -> None:
        # InfluxDB may be down now: each run that fails is retried at the next period
        with influx_endpoint(settings, "analytics", require_running=False).client(settings.influx.timeout_s) as client:
            while not stop.wait(analyze_every):
                try:
                    current = collector.pipeline.registry
                    report = analyze(client, current, Path(settings.data_dir), prices=settings.prices)
                    if not report.nothing_new:
                        publish_open_alerts(settings, current, client)
                        log.info("analytics: %d meters, %d alerts open", report.meters_rolled_up, report.alerts_open)
                except TerrilError as err:
                    log.warning("analytics run failed, will retry: %s", err)

    thread = threading.Thread(target=scheduler, name="terril-analytics", daemon=True)
    thread.start()
    if (reg.town.language or "fr") != "en":
        err_console.print(f"Terril en marche : collecteur pour {len(reg.devices)} appareils, analyses toutes les "
                          f"{analyze_every:g} s.", highlight=False)
    else:
        err_console.print(f"Terril running: collector for {len(reg.devices)} devices, analytics every "
                          f"{analyze_every:g} s.", highlight=False)
    try:
        collector.run_forever()
    finally:
        stop.set()


def decode_cmd(topic: Annotated[str, typer.Option(help="MQTT topic the payload was published on.")],
               format: Annotated[str, typer.Option("--format", help="Decoder name, or auto.")] = "auto") -> None:
    """Decode one payload read on stdin: one JSON line per canonical reading (exit 3 if rejected)."""
    from collector.decoders import all_decoders, candidates, get_decoder
    from terril.errors import DecodeError
    from terril.timeutil import format_rfc3339_ns, now_ns

    payload = sys.stdin.buffer.read()
    if format == "auto":
        try:
            from collector.decoders.detect import detect_format  # type: ignore[import-not-found]

            name = detect_format(topic, payload)
        except ImportError:
            found = candidates(topic)
            name = found[0].name if found else None
        decoder = get_decoder(name) if name else None
        if decoder is None:
            print(json.dumps({"error": "unknown_format", "detail": "no decoder recognises this topic and payload"}))
            raise typer.Exit(3)
    else:
        decoder = get_decoder(format)
        if decoder is None:
            raise ConfigError(f"unknown format {format!r}; known: {', '.join(sorted(all_decoders()))}")
    try:
        decoded = decoder.decode(topic, payload, now_ns())
    except DecodeError as err:
        print(json.dumps({"error": err.reason, "detail": err.detail}))
        raise typer.Exit(3) from None
    for r in decoded.readings:
        print(json.dumps({"device": r.device, "channel": r.channel, "quantity": r.quantity, "value": r.value,
                          "time": format_rfc3339_ns(r.time_ns) if r.time_ns is not None else None,
                          "format": r.format}))
    for a in decoded.availability:
        print(json.dumps({"device": a.device, "channel": None, "quantity": "online", "value": a.online,
                          "time": None, "format": a.format}))


def devices_unmapped_cmd(days: Annotated[int, typer.Option(min=1, max=3660, help="Look back this many days.")] = 30,
                         json_out: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
                         data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Devices seen on the broker but not in the registry, with their family and a proposed registry entry."""
    from dataclasses import asdict

    from collector.unmapped import proposal_toml, query_unmapped
    from terril.timeutil import format_rfc3339_ns

    settings = load_settings(config, data_dir)
    with influx_client(settings, "reader") as client:
        found = query_unmapped(client, days)
    if json_out:
        for d in found:
            print(json.dumps({**asdict(d), "proposal": proposal_toml(d)}, ensure_ascii=False))
        return
    if not found:
        console.print("No unknown device in the last %d days / aucun appareil inconnu." % days)
        return
    for d in found:
        console.print(f"[bold]{d.key}[/bold] ({d.format}): {d.messages} messages, last {format_rfc3339_ns(d.last_ns)} "
                      f"on {d.topic}")
        console.print(proposal_toml(d), highlight=False, markup=False)
        console.print()
