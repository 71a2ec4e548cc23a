"""``terril stack up|down|restart|status`` (the local stack: Mosquitto and InfluxDB as child
processes) and ``terril settings show``."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from terril.cli._common import ConfigOpt, DataDirOpt, JsonOpt, RegistryOpt, console, err_console, load_settings
from terril.cli.usage import usage_language

stack_app = typer.Typer(help="Local stack: Mosquitto and InfluxDB as child processes.", no_args_is_help=True)
settings_app = typer.Typer(help="Settings (environment TERRIL_*, config file, flags).", no_args_is_help=True)


@stack_app.command("up")
def stack_up_cmd(data_dir: DataDirOpt = None, config: ConfigOpt = None,
                 mqtt_port: Annotated[Optional[int], typer.Option(help="MQTT port (default: free port).")] = None,
                 influx_port: Annotated[Optional[int], typer.Option(help="InfluxDB HTTP port (default: free port).")] = None,
                 tls: Annotated[bool, typer.Option("--tls", help="Add a TLS listener with a development CA.")] = False,
                 influx_auth: Annotated[bool, typer.Option("--influx-auth", help="InfluxDB with authentication and one user per role.")] = False,
                 registry: RegistryOpt = None,
                 json_out: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False) -> None:
    """Start Mosquitto and InfluxDB as child processes and wait until both answer (harmless if running).

    Broker accounts and ACLs are generated from the registry: one account per device."""
    from terril.stack import stack_status, stack_up

    settings = load_settings(config, data_dir, registry)
    fr = usage_language(settings.registry) == "fr"
    with err_console.status("Démarrage de Mosquitto et d'InfluxDB…" if fr else "Starting Mosquitto and InfluxDB…"):
        state, started = stack_up(settings.data_dir, mqtt_port=mqtt_port, influx_port=influx_port,
                                  database=settings.influx.database, registry_path=settings.registry,
                                  tls=tls or None, influx_auth=influx_auth or None)
    status = stack_status(settings.data_dir)
    if json_out:
        print(json.dumps(status))
        return
    if fr:
        word = "démarrée" if started else "déjà en marche"
        console.print(f"[green]Pile locale {word}[/green] dans {state.data_dir}", highlight=False)
        console.print(f"  MQTT     {state.mqtt_url}  (comptes dans {state.root / 'secrets'})", highlight=False)
        if getattr(state, "mqtts_url", None):
            console.print(f"  MQTTS    {state.mqtts_url}  (AC de développement : {state.ca_file})", highlight=False)
        console.print(f"  InfluxDB {state.influx_url}  base {state.database!r}", highlight=False)
        console.print("Pour l'arrêter : `terril stack down`.")
        return
    word = "started" if started else "already running"
    console.print(f"[green]Local stack {word}[/green] in {state.data_dir}")
    console.print(f"  MQTT     {state.mqtt_url}  (accounts in {state.root / 'secrets'})")
    if getattr(state, "mqtts_url", None):
        console.print(f"  MQTTS    {state.mqtts_url}  (development CA: {state.ca_file})")
    console.print(f"  InfluxDB {state.influx_url}  database {state.database!r}")
    console.print("Stop it with `terril stack down`.")


@stack_app.command("down")
def stack_down_cmd(data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Stop exactly the processes `terril stack up` started."""
    from terril.stack import stack_down

    settings = load_settings(config, data_dir)
    stopped = stack_down(settings.data_dir)
    if usage_language(settings.registry) == "fr":
        console.print(f"Arrêtés : {', '.join(stopped)}" if stopped else "Rien ne tournait.")
    else:
        console.print(f"Stopped: {', '.join(stopped)}" if stopped else "Nothing was running.")


@stack_app.command("restart")
def stack_restart_cmd(server: Annotated[str, typer.Argument(help="mosquitto or influxdb.")],
                      data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Restart one server of the local stack (same ports, config and data)."""
    from terril.stack import stack_restart

    settings = load_settings(config, data_dir)
    fr = usage_language(settings.registry) == "fr"
    with err_console.status(f"Redémarrage de {server}…" if fr else f"Restarting {server}…"):
        state = stack_restart(settings.data_dir, server)
    pid = state.mosquitto_pid if server == "mosquitto" else state.influxd_pid
    console.print(f"[green]{server} {'redémarré' if fr else 'restarted'}[/green] (pid {pid})")


@stack_app.command("status")
def stack_status_cmd(data_dir: DataDirOpt = None, config: ConfigOpt = None,
                     json_out: JsonOpt = False) -> None:
    """Say whether the local stack runs, and where."""
    from terril.stack import stack_status

    settings = load_settings(config, data_dir)
    status = stack_status(settings.data_dir)
    if json_out:
        print(json.dumps(status))
        return
    fr = usage_language(settings.registry) == "fr"
    if status["running"]:
        console.print(f"[green]{'en marche' if fr else 'running'}[/green]  MQTT {status['mqtt_url']}  "
                      f"InfluxDB {status['influx_url']}", highlight=False)
    elif status["mosquitto"] or status["influxdb"]:
        down = "mosquitto" if not status["mosquitto"] else "influxdb"
        console.print(f"[yellow]{down} est arrêté[/yellow] (dossier de données {status['data_dir']}) ; "
                      f"relancez-le avec `terril stack restart {down}`" if fr else
                      f"[yellow]{down} is down[/yellow] (data folder {status['data_dir']}); "
                      f"start it with `terril stack restart {down}`", highlight=False)
    else:
        console.print(f"[yellow]arrêtée[/yellow] (dossier de données {status['data_dir']}) ; démarrez-la avec "
                      "`terril stack up`" if fr else
                      f"[yellow]not running[/yellow] (data folder {status['data_dir']}); start it with `terril stack up`",
                      highlight=False)
    if not status["running"]:
        raise typer.Exit(1)


@settings_app.command("show")
def settings_show_cmd(config: ConfigOpt = None, data_dir: DataDirOpt = None, registry: RegistryOpt = None) -> None:
    """Print the resolved settings tree, secrets masked."""
    from terril.settings import describe_settings

    print(json.dumps(describe_settings(load_settings(config, data_dir, registry)), indent=2))
