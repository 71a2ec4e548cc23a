"""The ``terril`` command: wires the components together (the only kernel module that imports them).

Every error a user can cause ends as one clear message on stderr with what to do
next and a non-zero exit code; unexpected errors are written to a crash file,
never shown as a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import time
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from terril import __version__
from terril.errors import ConfigError, TerrilError

console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

app = typer.Typer(help="Terril: energy monitoring for public buildings (Terril : suivi énergétique des bâtiments publics).",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
stack_app = typer.Typer(help="Local stack: Mosquitto and InfluxDB as child processes.", no_args_is_help=True)
registry_app = typer.Typer(help="The registry of sites, meters, devices and PV arrays.", no_args_is_help=True)
export_app = typer.Typer(help="Export stored data.", no_args_is_help=True)
settings_app = typer.Typer(help="Settings (environment TERRIL_*, config file, flags).", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(registry_app, name="registry")
app.add_typer(export_app, name="export")
app.add_typer(settings_app, name="settings")

RegistryOpt = Annotated[Optional[Path], typer.Option("--registry", envvar="TERRIL_REGISTRY",
                                                     help="Registry file (default: the Loos-en-Gohelle demo registry).")]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", envvar="TERRIL_DATA_DIR",
                                                    help="Data folder of the local stack (default: per-user folder).")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", envvar="TERRIL_CONFIG", help="Settings file (TOML).")]


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


def _settings(config: Path | None = None, data_dir: Path | None = None, registry: Path | None = None):  # noqa: ANN202
    from terril.settings import load_settings

    return load_settings(config, data_dir=data_dir, registry=registry)


def _registry(settings):  # noqa: ANN001, ANN202
    from terril.registry import load_registry

    return load_registry(settings.registry)


# ---------------------------------------------------------------- stack
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

    settings = _settings(config, data_dir, registry)
    with err_console.status("Starting Mosquitto and InfluxDB…"):
        state, started = stack_up(settings.data_dir, mqtt_port=mqtt_port, influx_port=influx_port,
                                  database=settings.influx.database, registry_path=settings.registry,
                                  tls=tls or None, influx_auth=influx_auth or None)
    status = stack_status(settings.data_dir)
    if json_out:
        print(json.dumps(status))
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

    settings = _settings(config, data_dir)
    stopped = stack_down(settings.data_dir)
    console.print(f"Stopped: {', '.join(stopped)}" if stopped else "Nothing was running.")


@stack_app.command("restart")
def stack_restart_cmd(server: Annotated[str, typer.Argument(help="mosquitto or influxdb.")],
                      data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Restart one server of the local stack (same ports, config and data)."""
    from terril.stack import stack_restart

    settings = _settings(config, data_dir)
    with err_console.status(f"Restarting {server}…"):
        state = stack_restart(settings.data_dir, server)
    pid = state.mosquitto_pid if server == "mosquitto" else state.influxd_pid
    console.print(f"[green]{server} restarted[/green] (pid {pid})")


@stack_app.command("status")
def stack_status_cmd(data_dir: DataDirOpt = None, config: ConfigOpt = None,
                     json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Say whether the local stack runs, and where."""
    from terril.stack import stack_status

    settings = _settings(config, data_dir)
    status = stack_status(settings.data_dir)
    if json_out:
        print(json.dumps(status))
        return
    if status["running"]:
        console.print(f"[green]running[/green]  MQTT {status['mqtt_url']}  InfluxDB {status['influx_url']}")
    elif status["mosquitto"] or status["influxdb"]:
        down = "mosquitto" if not status["mosquitto"] else "influxdb"
        console.print(f"[yellow]{down} is down[/yellow] (data folder {status['data_dir']}); "
                      f"start it with `terril stack restart {down}`")
    else:
        console.print(f"[yellow]not running[/yellow] (data folder {status['data_dir']}); start it with `terril stack up`")
    if not status["running"]:
        raise typer.Exit(1)


# ---------------------------------------------------------------- registry
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


# ---------------------------------------------------------------- settings
@settings_app.command("show")
def settings_show_cmd(config: ConfigOpt = None, data_dir: DataDirOpt = None, registry: RegistryOpt = None) -> None:
    """Print the resolved settings tree, secrets masked."""
    from terril.settings import describe_settings

    print(json.dumps(describe_settings(_settings(config, data_dir, registry)), indent=2))


# ---------------------------------------------------------------- collect
@app.command("collect")
def collect_cmd(registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Run the collector: MQTT -> decode -> InfluxDB, until SIGTERM or Ctrl-C."""
    from collector.mapping import Pipeline
    from collector.service import Collector, influx_startup_note
    from terril.endpoints import influx_endpoint, mqtt_endpoint

    settings = _settings(config, data_dir, registry)
    reg = _registry(settings)
    pipeline = Pipeline(reg)
    if pipeline.unknown_formats:
        raise ConfigError(f"{reg.source}: devices use unknown payload formats: {', '.join(pipeline.unknown_formats)}")
    influx = influx_endpoint(settings, "collector", require_running=False).client(
        settings.influx.timeout_s, settings.collector.gzip_level)
    note = influx_startup_note(influx)  # InfluxDB down is no reason not to start: the collector spools
    if note:
        err_console.print(f"[yellow]{note}[/yellow]")
    collector = Collector(pipeline, mqtt_endpoint(settings, "collector"), influx, settings.mqtt, settings.collector,
                          data_dir=settings.data_dir)
    from collector.reload import local_broker_sync  # live reload: file change or SIGHUP; broker ACL follows

    collector.watch_registry(reg.source, on_devices_changed=local_broker_sync(settings.data_dir, reg.source))
    err_console.print(f"Collecting for {len(reg.devices)} devices of {reg.town.name} → {influx.url} "
                      f"(db {influx.database}). Ctrl-C to stop.")
    collector.run_forever()
    s = collector.stats
    err_console.print(f"Stopped: {s.messages_received} messages, {s.points_written} points written, "
                      f"{sum(s.quarantined.values())} quarantined.")


# ---------------------------------------------------------------- simulate
class SimMode(str, Enum):
    backfill = "backfill"
    realtime = "realtime"
    load = "load"


def _period(start: str | None, end: str | None, days: int) -> tuple[int, int]:
    from terril.timeutil import local_midnight_ns, local_tz, parse_time_arg

    try:
        if end is None:
            end_ns = local_midnight_ns(dt.datetime.now(local_tz()).date())
        else:
            end_ns = parse_time_arg(end, end_of_day=True)
        start_ns = parse_time_arg(start) if start else end_ns - days * 86_400 * 10**9
    except ValueError as err:
        raise ConfigError(f"bad --start/--end: {err}", hint="use YYYY-MM-DD or RFC 3339 with an offset") from err
    if start_ns >= end_ns:
        raise ConfigError(f"--start must be before --end (got {start} .. {end})")
    return start_ns, end_ns


def _progress():  # noqa: ANN202
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    TextColumn("{task.percentage:>3.0f} %"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err_console, transient=False)


def _simulate(settings, reg, start_ns: int, end_ns: int, seed: int, speed: float | None,  # noqa: ANN001, ANN202
              step_s: float = 300.0, scenario_file: Path | None = None, truth: Path | None = None,
              behaviour: bool = False):
    from firmware_sim.faults import ground_truth_json, read_scenario
    from firmware_sim.publisher import Publisher
    from firmware_sim.session import run_fleet
    from terril.endpoints import mqtt_endpoint
    from terril.timeutil import format_rfc3339_ns

    scenario = read_scenario(scenario_file, reg) if scenario_file else None
    publisher = Publisher(mqtt_endpoint(settings, "simulator"))
    publisher.connect()
    try:
        with _progress() as progress:
            label = (f"Simulating {format_rfc3339_ns(start_ns)[:10]} → {format_rfc3339_ns(end_ns - 1)[:10]}"
                     f" ({'backfill' if speed is None else f'×{speed:g}'})")
            task = progress.add_task(label, total=(end_ns - start_ns) / 1e9)
            from firmware_sim.behaviour import BehaviourParams

            result = run_fleet(publisher, reg, start_ns, end_ns, seed=seed, step_s=step_s, scenario=scenario,
                               speed=speed, behaviour=BehaviourParams() if behaviour else None,
                               on_progress=lambda s: progress.advance(task, s))
    finally:
        publisher.close()
    if truth is not None:
        truth.write_text(ground_truth_json(result.simulation.ground_truth), encoding="utf-8")
    return result.report


@app.command("simulate")
def simulate_cmd(registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
                 start: Annotated[Optional[str], typer.Option(help="Start: YYYY-MM-DD (Europe/Paris) or RFC 3339.")] = None,
                 end: Annotated[Optional[str], typer.Option(help="End (inclusive date, or exclusive RFC 3339); default: yesterday.")] = None,
                 days: Annotated[int, typer.Option(min=1, max=3660, help="Days before --end when --start is not given.")] = 7,
                 mode: Annotated[SimMode, typer.Option(help="backfill: as fast as possible; realtime: paced by --speed; load: synthetic devices at --rate.")] = SimMode.backfill,
                 speed: Annotated[float, typer.Option(min=0.001, help="Realtime: simulated seconds per second (1 = real time; 20000 = a day in ~4 s).")] = 1.0,
                 step: Annotated[float, typer.Option(min=60, max=3600, help="Simulation step [s] (devices report at their own interval, at most once a step).")] = 300.0,
                 scenario: Annotated[Optional[Path], typer.Option(help="Faults to inject (TOML, see docs/simulator.md).")] = None,
                 truth: Annotated[Optional[Path], typer.Option(help="Write the ground truth of injected faults (JSON) here.")] = None,
                 seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 0,
                 behaviour: Annotated[bool, typer.Option("--behaviour/--no-behaviour",
                                                         help="Devices misbehave as on a real network: clock skew, jitter, duplicates, late messages, Last Will (the expected points stay exact).")] = False,
                 devices: Annotated[int, typer.Option(min=1, max=100_000, help="Load mode: synthetic devices.")] = 1000,
                 rate: Annotated[float, typer.Option(min=1, help="Load mode: messages per second.")] = 1000.0,
                 messages: Annotated[int, typer.Option(min=1, help="Load mode: messages to publish.")] = 60_000,
                 registry_out: Annotated[Optional[Path], typer.Option(help="Load mode: write the synthetic registry here (for `terril collect --registry`).")] = None) -> None:
    """Publish the simulated fleet over MQTT, in each device's own format (backfill, real time or load)."""
    settings = _settings(config, data_dir, registry)
    if mode == SimMode.load:
        from firmware_sim.load import load_messages, registry_toml
        from firmware_sim.publisher import Publisher, publish_plan
        from terril.endpoints import mqtt_endpoint
        from terril.timeutil import now_ns

        if registry_out is not None:
            registry_out.write_text(registry_toml(devices), encoding="utf-8")
        publisher = Publisher(mqtt_endpoint(settings, "simulator"))
        publisher.connect()
        try:
            with _progress() as progress:
                task = progress.add_task(f"Load: {devices} devices at {rate:g} msg/s", total=messages)
                start_ns = (now_ns() // 60_000_000_000) * 60_000_000_000
                report = publish_plan(publisher, load_messages(devices, messages, start_ns), rate=rate,
                                      progress=lambda n: progress.advance(task, n))
        finally:
            publisher.close()
        console.print(f"Published {report.messages} messages from {devices} synthetic devices in {report.elapsed_s:.1f} s "
                      f"({report.messages / max(report.elapsed_s, 1e-9):,.0f} msg/s).")
        return
    reg = _registry(settings)
    start_ns, end_ns = _period(start, end, days)
    report = _simulate(settings, reg, start_ns, end_ns, seed, None if mode == SimMode.backfill else speed, step,
                       scenario, truth, behaviour)
    console.print(f"Published {report.messages:,} messages ({report.expected_points:,} points) for "
                  f"{len(reg.devices)} devices in {report.elapsed_s:.1f} s." + (f" Ground truth: {truth}" if truth else ""))


# ---------------------------------------------------------------- analytics
alerts_app = typer.Typer(help="Alerts: drift, base load, silent and stuck meters (alertes).", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


def devices_unmapped_cmd(days: Annotated[int, typer.Option(min=1, max=3660, help="Look back this many days.")] = 30,
                         json_out: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
                         data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Devices seen on the broker but not in the registry, with their family and a proposed registry entry."""
    from dataclasses import asdict

    from collector.unmapped import proposal_toml, query_unmapped
    from terril.endpoints import influx_endpoint
    from terril.timeutil import format_rfc3339_ns

    settings = _settings(config, data_dir)
    with influx_endpoint(settings, "reader").client(settings.influx.timeout_s) as client:
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


def _register_component_commands() -> None:
    """Sub-commands that live with their component (the CLI only wires them)."""
    from analytics.cli_reports import import_cmd, report_app
    from analytics.pv.cli import pv_app, rollout_app
    from collector.cli import spool_app
    from collector.quarantine_cli import quarantine_app
    from dashboards.cli import dashboards_app
    from terril.cli_security import broker_app, devices_app

    app.add_typer(rollout_app, name="rollout")
    app.add_typer(pv_app, name="pv")
    app.add_typer(report_app, name="report")
    app.command("import")(import_cmd)
    app.add_typer(dashboards_app, name="dashboards")
    app.add_typer(spool_app, name="spool")
    app.add_typer(quarantine_app, name="quarantine")
    devices_app.command("unmapped")(devices_unmapped_cmd)
    app.add_typer(devices_app, name="devices")
    app.add_typer(broker_app, name="broker")


_register_component_commands()
__import__("terril.cli_registry").cli_registry.register(app)  # sites add, meters add, devices channels
__import__("portal.cli").cli.register(app)  # terril web, terril users


def _publish_alerts(settings, reg, client) -> int:  # noqa: ANN001
    """Publish open alerts as retained MQTT messages; returns how many (0 when no broker answers)."""
    from analytics.jobs.analyze import publish_alerts
    from firmware_sim.publisher import Publisher
    from terril.endpoints import mqtt_endpoint
    from terril.errors import MqttError, StackError

    try:
        publisher = Publisher(mqtt_endpoint(settings, "collector"), max_inflight=100)
        publisher.connect(timeout_s=5)
    except (MqttError, StackError) as err:
        err_console.print(f"[yellow]warning:[/yellow] alerts not published over MQTT: {err}")
        return 0
    try:
        n = publish_alerts(lambda topic, payload: publisher.publish(topic, payload, retain=True), client, reg)
        publisher.wait_all_acked(n, timeout_s=30)
        return n
    finally:
        publisher.close()


@app.command("analyze")
def analyze_cmd(registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
                since: Annotated[Optional[str], typer.Option(help="Recompute from this date (YYYY-MM-DD) instead of incrementally.")] = None,
                until: Annotated[Optional[str], typer.Option(help="Analyse up to this instant (default: now).")] = None,
                site: Annotated[Optional[str], typer.Option(help="Only this site.")] = None,
                publish: Annotated[bool, typer.Option(help="Publish open alerts as retained MQTT messages.")] = True,
                json_out: Annotated[bool, typer.Option("--json", help="Print the run's report as JSON.")] = False) -> None:
    """One analytics run: rollups, data quality, degree days, baselines, drift and alerts (incremental)."""
    from dataclasses import asdict

    from analytics.jobs.analyze import analyze
    from terril.endpoints import influx_endpoint
    from terril.ids import validate_id
    from terril.timeutil import format_rfc3339_ns, parse_time_arg

    if site is not None:
        validate_id(site, "site")
    settings = _settings(config, data_dir, registry)
    reg = _registry(settings)
    try:
        since_ns = parse_time_arg(since) if since else None
        until_ns = parse_time_arg(until, end_of_day=True) if until else None
    except ValueError as err:
        raise ConfigError(f"bad --since/--until: {err}") from err
    with influx_endpoint(settings, "analytics").client(settings.influx.timeout_s) as client:
        with err_console.status("Analysing…") as status:
            report = analyze(client, reg, Path(settings.data_dir), since_ns=since_ns, end_ns=until_ns, site=site,
                             prices=settings.prices,
                             progress=lambda what: status.update(f"Analysing: {what}"))
        published = _publish_alerts(settings, reg, client) if publish and not report.nothing_new else 0
    if json_out:
        print(json.dumps(asdict(report), default=str))
        return
    if report.nothing_new:
        console.print("Nothing new since the last run (use --since DATE to recompute).")
        return
    console.print(f"Analysed from {format_rfc3339_ns(report.window_start_ns or 0)[:10]}: "
                  f"{report.meters_rolled_up} meters rolled up ({report.rollup_points} points), "
                  f"{report.counter_events} counter events, {report.weather_days} weather days.")
    if report.step_notes:
        first = next(iter(report.step_notes.items()))
        err_console.print(f"[yellow]warning:[/yellow] {len(report.step_notes)} meters send data at a coarser step "
                          f"than their device declares (e.g. {first[0]}: {first[1]})")
    console.print(f"Baselines fitted: {len(report.baselines_fitted)}; not fitted: {len(report.baselines_skipped)}"
                  + (f" (e.g. {next(iter(report.baselines_skipped.items()))[0]}: "
                     f"{next(iter(report.baselines_skipped.items()))[1]})" if report.baselines_skipped else ""))
    if report.pv_arrays:
        console.print(f"PV: {report.pv_arrays} arrays analysed (pv_daily, pv_site_daily, rollout).")
    console.print(f"Alerts open: {report.alerts_open} (new: {report.alerts_new})"
                  + (f"; {published} meters' alerts published on terril/_alerts/#" if published else ""))


def _alerts_table(alerts, lang: str = "fr") -> Table:  # noqa: ANN001
    from analytics.reports.i18n import format_number
    from terril.timeutil import format_rfc3339_ns

    table = Table(title="Alertes" if lang == "fr" else "Alerts")
    for col in ("id", "site", "meter" if lang == "en" else "compteur", "kind" if lang == "en" else "type",
                "state" if lang == "en" else "état", "onset" if lang == "en" else "début",
                "kWh/day" if lang == "en" else "kWh/j", "m³/day" if lang == "en" else "m³/j",
                "rate" if lang == "en" else "débit/puissance", "%", "€"):
        table.add_column(col, justify="left" if col in ("id", "site") else "right")
    for a in alerts:
        def num(v: float, decimals: int, unit: str = "") -> str:
            return "" if v != v else format_number(v, lang, decimals) + unit
        rate = num(a.magnitude_l_per_h, 0, " L/h") if a.magnitude_l_per_h == a.magnitude_l_per_h \
            else num(a.magnitude_w, 0, " W")
        table.add_row(a.alert_id, a.site, a.meter, a.title_fr if lang == "fr" else a.title_en, a.state,
                      format_rfc3339_ns(a.onset_ns)[:10], num(a.magnitude_kwh_per_day, 1),
                      num(a.magnitude_m3_per_day, 2), rate, num(a.magnitude_pct, 1), num(a.cost_eur, 0))
    return table


class AlertState(str, Enum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


@alerts_app.command("list")
def alerts_list_cmd(state: Annotated[Optional[AlertState], typer.Option(help="Only alerts in this state.")] = None,
                    site: Annotated[Optional[str], typer.Option(help="Only this site.")] = None,
                    lang: Annotated[str, typer.Option(help="fr or en.")] = "fr",
                    json_out: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
                    registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """List alerts (newest first)."""
    from analytics.jobs.alerts import query_alerts
    from terril.endpoints import influx_endpoint

    settings = _settings(config, data_dir, registry)
    with influx_endpoint(settings, "reader").client(settings.influx.timeout_s) as client:
        alerts = query_alerts(client, state=state.value if state else None, site=site)
    if json_out:
        for a in alerts:
            print(json.dumps(a.as_json(), ensure_ascii=False))
        return
    if not alerts:
        console.print("Aucune alerte." if lang == "fr" else "No alerts.")
        return
    console.print(_alerts_table(alerts, lang))


def _set_alert_state(alert_id: str, state: str, settings) -> None:  # noqa: ANN001
    from analytics.jobs.alerts import set_state
    from terril.endpoints import influx_endpoint
    from terril.ids import validate_id

    validate_id(alert_id, "alert")
    with influx_endpoint(settings, "analytics").client(settings.influx.timeout_s) as client:
        rec = set_state(client, alert_id, state)
        _publish_alerts(settings, _registry(settings), client)
    console.print(f"{rec.alert_id}: {rec.title_fr} / {rec.title_en} — {rec.meter} → {state}")


@alerts_app.command("ack")
def alerts_ack_cmd(alert_id: Annotated[str, typer.Argument(help="Alert id (see `terril alerts list`).")],
                   registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Acknowledge an alert (it stays visible until resolved)."""
    _set_alert_state(alert_id, "acknowledged", _settings(config, data_dir, registry))


@alerts_app.command("resolve")
def alerts_resolve_cmd(alert_id: Annotated[str, typer.Argument(help="Alert id (see `terril alerts list`).")],
                       registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Resolve an alert."""
    _set_alert_state(alert_id, "resolved", _settings(config, data_dir, registry))


@app.command("run")
def run_cmd(registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
            analyze_every: Annotated[float, typer.Option(min=10, help="Seconds between incremental analytics runs.")] = 900.0) -> None:
    """The service: the collector, plus the analytics every --analyze-every seconds, until SIGTERM."""
    import threading

    from analytics.jobs.analyze import analyze
    from collector.mapping import Pipeline
    from collector.service import Collector, influx_startup_note
    from terril.endpoints import influx_endpoint, mqtt_endpoint

    settings = _settings(config, data_dir, registry)
    reg = _registry(settings)
    influx = influx_endpoint(settings, "collector", require_running=False).client(
        settings.influx.timeout_s, settings.collector.gzip_level)
    note = influx_startup_note(influx)  # InfluxDB down is no reason not to start: the collector spools
    if note:
        err_console.print(f"[yellow]{note}[/yellow]")
    collector = Collector(Pipeline(reg), mqtt_endpoint(settings, "collector"), influx, settings.mqtt, settings.collector,
                          data_dir=settings.data_dir)
    from collector.reload import local_broker_sync  # live reload: the analytics read the registry in force

    collector.watch_registry(reg.source, on_devices_changed=local_broker_sync(settings.data_dir, reg.source))
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
                        _publish_alerts(settings, current, client)
                        log.info("analytics: %d meters, %d alerts open", report.meters_rolled_up, report.alerts_open)
                except TerrilError as err:
                    log.warning("analytics run failed, will retry: %s", err)

    thread = threading.Thread(target=scheduler, name="terril-analytics", daemon=True)
    thread.start()
    err_console.print(f"Terril running: collector for {len(reg.devices)} devices, analytics every {analyze_every:g} s.")
    try:
        collector.run_forever()
    finally:
        stop.set()


# ---------------------------------------------------------------- export
class ExportFormat(str, Enum):
    csv = "csv"
    jsonl = "jsonl"


@export_app.command("readings")
def export_readings_cmd(site: Annotated[str, typer.Option(help="Site id.")],
                        start: Annotated[str, typer.Option(help="Start: YYYY-MM-DD (Europe/Paris midnight) or RFC 3339.")],
                        end: Annotated[str, typer.Option(help="End (exclusive): YYYY-MM-DD (end of that day) or RFC 3339.")],
                        meter: Annotated[Optional[str], typer.Option(help="Only this meter.")] = None,
                        format: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl.")] = ExportFormat.csv,
                        output: Annotated[Optional[Path], typer.Option("-o", "--output", help="File (default: stdout).")] = None,
                        data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Export the stored points of a site (or one meter) exactly as stored, one per row or line."""
    from terril.endpoints import influx_endpoint
    from terril.export import write_export
    from terril.ids import validate_id
    from terril.timeutil import parse_time_arg

    validate_id(site, "site")
    if meter is not None:
        validate_id(meter, "meter")
    try:
        start_ns = parse_time_arg(start)
        end_ns = parse_time_arg(end, end_of_day=True)
    except ValueError as err:
        raise ConfigError(f"bad --start/--end: {err}") from err
    settings = _settings(config, data_dir)
    with influx_endpoint(settings, "reader").client(settings.influx.timeout_s) as client:
        if output is None:
            n = write_export(client, sys.stdout, site, start_ns, end_ns, meter, format.value)
        else:
            with open(output, "w", encoding="utf-8", newline="") as f:
                n = write_export(client, f, site, start_ns, end_ns, meter, format.value)
    err_console.print(f"{n} points exported" + (f" to {output}" if output else ""))


# ---------------------------------------------------------------- decode
@app.command("decode")
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


# ---------------------------------------------------------------- demo
def _register_demo() -> None:
    from terril.cli_demo import demo_cmd

    app.command("demo")(demo_cmd)


_register_demo()


# ---------------------------------------------------------------- entry point
def main() -> None:
    """Entry point: run the CLI, turning every error into a message, never a traceback."""
    try:
        rc = app(standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except TerrilError as err:
        err_console.print(f"[red]error:[/red] {err.message}", highlight=False)
        if getattr(err, "problems", None):
            for p in err.problems:  # type: ignore[attr-defined]
                err_console.print(f"  {p}", highlight=False, markup=False, soft_wrap=True)
        if err.hint:
            err_console.print(f"hint: {err.hint}", highlight=False)
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
        if type(err).__name__ in {"UsageError", "BadParameter", "MissingParameter", "NoSuchOption", "BadOptionUsage",
                                  "BadArgumentUsage", "ClickException", "FileError"} and hasattr(err, "show"):
            err.show()
            sys.exit(getattr(err, "exit_code", 2))
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


if __name__ == "__main__":
    main()
