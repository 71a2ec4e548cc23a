"""``terril demo``: the whole product in one command, on the local stack.

1. start Mosquitto and InfluxDB (child processes);
2. load a year of history of the Loos-en-Gohelle fleet through the collector's pipeline
   (the archive a town imports when it starts), with faults placed to show (firmware_sim.demo);
3. simulate the last days live: every device publishes in its own format over MQTT, the
   collector stores them, and every published point is checked to be stored;
4. run the analytics (rollups, quality, degree days, baselines, drift, PV performance, rollout)
   and a savings report;
5. print what was stored per site, what Terril found, what the simulator had injected, and
   where to look next.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from terril.errors import TerrilError

_N = 86_400 * 10**9


def _fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}".replace(",", " ")


def demo_cmd(days: Annotated[int, typer.Option(min=1, max=366, help="Days simulated live through MQTT (ending today 00:00).")] = 7,
             history_days: Annotated[int, typer.Option(min=0, max=1100, help="Days of history loaded before them (0 = none; baselines need a year).")] = 400,
             seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
             step: Annotated[float, typer.Option(min=60, max=3600, help="Simulation step [s].")] = 900.0,
             faults: Annotated[bool, typer.Option(help="Inject the demo's faults (drift, silent meter, PV string ...).")] = True,
             analytics: Annotated[bool, typer.Option(help="Run the analytics and the savings report after collecting.")] = True,
             keep_stack: Annotated[bool, typer.Option("--keep-stack", help="Leave Mosquitto and InfluxDB running.")] = False,
             serve: Annotated[bool, typer.Option("--serve", help="Then serve the web portal on the demo data until Ctrl-C (prints the URL and a demo login).")] = False,
             registry: Annotated[Optional[Path], typer.Option("--registry", envvar="TERRIL_REGISTRY", help="Registry file.")] = None,
             data_dir: Annotated[Optional[Path], typer.Option("--data-dir", envvar="TERRIL_DATA_DIR", help="Data folder.")] = None,
             config: Annotated[Optional[Path], typer.Option("--config", envvar="TERRIL_CONFIG", help="Settings file.")] = None) -> None:
    """Start the local stack, load a year of history, simulate the last days live through MQTT, analyse, summarise."""
    from analytics.jobs.summary import query_site_summaries
    from collector.mapping import Pipeline
    from collector.service import Collector
    from firmware_sim.demo import demo_scenario
    from firmware_sim.faults import ground_truth_json, parse_scenario
    from firmware_sim.publisher import Publisher
    from firmware_sim.session import bulk_load, new_simulation, run_fleet
    from terril.cli import _progress, _registry, _settings, console, err_console
    from terril.endpoints import influx_endpoint, mqtt_endpoint
    from terril.stack import stack_down, stack_up
    from terril.timeutil import format_rfc3339_ns

    settings = _settings(config, data_dir, registry)
    reg = _registry(settings)
    with err_console.status("Starting the local stack (Mosquitto, InfluxDB)…"):
        state, started = stack_up(settings.data_dir, database=settings.influx.database,
                                  registry_path=settings.registry)
    err_console.print(f"Local stack {'started' if started else 'already running'}: MQTT {state.mqtt_url}, "
                      f"InfluxDB {state.influx_url}")
    # the live days run up to now (on the step grid), so that "today" has data too
    step_ns = int(step * 1e9)
    end_ns = time.time_ns() // step_ns * step_ns
    start_ns = end_ns - days * _N
    hist_start_ns = start_ns - history_days * _N
    scenario = parse_scenario(demo_scenario(reg, start_ns, end_ns), reg) if faults else None
    admin = influx_endpoint(settings, "admin").client(settings.influx.timeout_s)
    admin.create_database()
    influx = influx_endpoint(settings, "collector").client(settings.influx.timeout_s)
    reader = influx_endpoint(settings, "reader").client(settings.influx.timeout_s)
    sim = new_simulation(reg, hist_start_ns, seed=seed, step_s=step, scenario=scenario)
    t0 = time.monotonic()
    if history_days:
        with _progress() as progress:
            task = progress.add_task(f"History {format_rfc3339_ns(hist_start_ns)[:10]} → "
                                     f"{format_rfc3339_ns(start_ns - 1)[:10]} (bulk load)",
                                     total=(start_ns - hist_start_ns) / 1e9)

            def write(lines: list[str]) -> None:
                for i in range(0, len(lines), 20_000):
                    influx.write_lines(("\n".join(lines[i:i + 20_000]) + "\n").encode())

            history_points = bulk_load(sim, reg, write, start_ns, on_progress=lambda s: progress.advance(task, s))
        err_console.print(f"History: {_fmt(history_points)} points loaded in {time.monotonic() - t0:.0f} s.")
    # a session of its own that the broker forgets soon: the demo must not inherit another run's queue
    mqtt_settings = settings.mqtt.model_copy(update={"client_id": f"terril-demo-{os.getpid()}", "session_expiry_s": 60})
    collector = Collector(Pipeline(reg), mqtt_endpoint(settings, "collector"), influx, mqtt_settings, settings.collector,
                          data_dir=settings.data_dir)
    collector.start()
    import threading

    stats_stop = threading.Event()

    def stats_loop() -> None:  # the collector's own counters, for the collector-health dashboard
        while not stats_stop.wait(2.0):
            collector.write_stats()

    threading.Thread(target=stats_loop, name="terril-demo-stats", daemon=True).start()
    try:
        if not collector.wait_connected(15):
            raise TerrilError("the collector could not connect to the local broker", hint="see `terril stack status`")
        t1 = time.monotonic()
        publisher = Publisher(mqtt_endpoint(settings, "simulator"))
        publisher.connect()
        try:
            with _progress() as progress:
                task = progress.add_task(f"Live {format_rfc3339_ns(start_ns)[:10]} → "
                                         f"{format_rfc3339_ns(end_ns - 1)[:10]} (MQTT, each device in its format)",
                                         total=(end_ns - start_ns) / 1e9)
                result = run_fleet(publisher, reg, start_ns, end_ns, sim=sim,
                                   on_progress=lambda s: progress.advance(task, s))
        finally:
            publisher.close()
        report = result.report
        # an electrician installed a Shelly plug that nobody declared yet: it lands in quarantine
        # (unknown_device), and `terril devices unmapped` proposes its registry entry
        publisher = Publisher(mqtt_endpoint(settings, "simulator"))
        publisher.connect()
        try:
            publisher.publish("shellyplus1pm-a8032ab1c2d3/status/switch:0",
                              b'{"id":0,"source":"init","output":true,"apower":412.5,"voltage":231.2,'
                              b'"aenergy":{"total":18234.112}}')
            publisher.wait_all_acked(1, timeout_s=30)
        finally:
            publisher.close()
        with err_console.status("Waiting for the collector to store everything…"):
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and collector.fatal is None:
                # every telemetry message and every device's retained status message
                if (collector.stats.messages_acked >= report.messages + len(reg.devices) + 1
                        and collector.pending() == 0):
                    break
                time.sleep(0.1)
        live_s = time.monotonic() - t1
        collector.write_stats()
    except BaseException:
        stats_stop.set()
        collector.stop()
        raise
    if collector.fatal is not None:
        stats_stop.set()
        collector.stop()
        raise collector.fatal  # type: ignore[misc]
    truth_path = Path(settings.data_dir) / "demo-ground-truth.json"
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(ground_truth_json(sim.ground_truth), encoding="utf-8")

    summaries = query_site_summaries(reader, reg, start_ns, end_ns)
    table = Table(title=f"{reg.town.name}: {days} days live "
                        f"({format_rfc3339_ns(start_ns)[:10]} → {format_rfc3339_ns(end_ns - 1)[:10]})")
    for col, just in (("site", "left"), ("name", "left"), ("meters", "right"), ("points stored", "right"),
                      ("kWh consumed", "right"), ("kWh PV produced", "right"), ("water m³", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    total_points = 0
    for s in summaries:
        total_points += s.points
        table.add_row(s.site, s.name, str(s.meters), _fmt(s.points), _fmt(s.consumed_kwh),
                      _fmt(s.produced_kwh) if s.produced_kwh else "", f"{s.water_m3:.1f}" if s.water_m3 else "")
    table.add_row("total", "", str(sum(s.meters for s in summaries)), _fmt(total_points),
                  _fmt(sum(s.consumed_kwh for s in summaries)), _fmt(sum(s.produced_kwh for s in summaries)),
                  f"{sum(s.water_m3 for s in summaries):.1f}", style="bold")
    console.print(table)
    expected = report.expected_points
    verdict = "[green]all stored[/green]" if expected == total_points else "[red]MISMATCH[/red]"
    quarantined = sum(collector.stats.quarantined.values())
    console.print(f"Published {_fmt(report.messages)} messages ({_fmt(expected)} points); stored {_fmt(total_points)}: "
                  f"{verdict}; quarantined {quarantined} (corrupted payloads and an undeclared device, each with its "
                  f"reason); {live_s:.1f} s end to end.")

    try:  # the collector keeps running (and reporting its own health) while the analytics run
        if analytics:
            _analytics(settings, reg, hist_start_ns, start_ns, end_ns, history_days, sim, console, err_console)
    finally:
        collector.write_stats()
        stats_stop.set()
        collector.stop()

    first_site = summaries[0].site if summaries else "SITE"
    console.print("\nNext steps / pour aller plus loin:")
    console.print(f"  terril export readings --site {first_site} --start {format_rfc3339_ns(start_ns)} "
                  f"--end {format_rfc3339_ns(end_ns)} --format csv")
    console.print("  terril alerts list                 # what Terril found / les alertes")
    console.print("  terril devices unmapped            # devices seen but not in the registry, with a proposed entry")
    console.print("  terril rollout status              # the PV rollout, from experimentation to massification")
    console.print("  terril dashboards check --report   # every Grafana panel's query against this database")
    console.print(f"  ground truth of the injected faults: {truth_path}")
    console.print(f"  (the data stays in {state.data_dir}; `terril stack up` brings it back)")
    if serve:
        __import__("portal.demo").demo.serve_demo(settings, console)
    if not keep_stack:
        stack_down(settings.data_dir)
        console.print("Local stack stopped (use --keep-stack to leave it running).")
    if expected != total_points:
        raise typer.Exit(1)


def _analytics(settings, reg, hist_start_ns: int, start_ns: int, end_ns: int, history_days: int, sim,  # noqa: ANN001
               console, err_console) -> None:  # noqa: ANN001
    from analytics.jobs.alerts import query_alerts
    from analytics.jobs.analyze import analyze
    from terril.cli import _alerts_table, _publish_alerts
    from terril.endpoints import influx_endpoint
    from terril.timeutil import local_date

    client = influx_endpoint(settings, "analytics").client(max(settings.influx.timeout_s, 60.0))
    t0 = time.monotonic()
    with err_console.status("Analytics: rollups, quality, degree days, baselines, drift…") as status:
        rep = analyze(client, reg, Path(settings.data_dir), since_ns=hist_start_ns, end_ns=end_ns,
                      prices=settings.prices,
                      progress=lambda what: status.update(f"Analytics: {what}"))
        published = _publish_alerts(settings, reg, client)
    console.print(f"Analytics in {time.monotonic() - t0:.0f} s: {rep.meters_rolled_up} meters rolled up, "
                  f"{len(rep.baselines_fitted)} baselines fitted, {rep.pv_arrays} PV arrays, {rep.counter_events} counter events; "
                  f"{published} meters' alerts published on terril/_alerts/#.")
    recent = [a for a in query_alerts(client) if a.detected_ns >= start_ns - 45 * _N]
    if recent:
        console.print(_alerts_table(recent, "fr"))
    if sim.ground_truth:
        truth = Table(title="Injected by the simulator / injecté par le simulateur")
        for col in ("fault", "meter / device", "from", "what"):
            truth.add_column(col)
        for t in sim.ground_truth:
            truth.add_row(t.kind, t.meter or t.device, str(local_date(t.start_ns)), t.description)
        console.print(truth)
    if history_days >= 365:
        _savings(settings, reg, client, hist_start_ns, end_ns, console, err_console)


def _savings(settings, reg, client, hist_start_ns: int, end_ns: int, console, err_console) -> None:  # noqa: ANN001
    from analytics.cli_reports import write_savings_monthly
    from analytics.reports.inputs import query_input_bundle
    from analytics.reports.render import write_report
    from analytics.reports.savings_report import build_savings_report, compute_savings
    from analytics.savings import Period, value_factors_from_prices
    from terril.timeutil import local_date

    first = local_date(hist_start_ns)
    last = local_date(end_ns - 1)
    baseline = Period(first, first + dt.timedelta(days=364))
    reporting = Period(baseline.end + dt.timedelta(days=1), last)
    sites = [s.id for s in reg.sites if any(m.site == s.id and m.carrier in ("electricity", "gas", "heat")
                                            for m in reg.meters)]
    with err_console.status("Savings report (IPMVP, ASHRAE Guideline 14)…"):
        bundle = query_input_bundle(client, reg, sites, baseline.start, reporting.end)
        result = compute_savings(bundle, reg, sites, baseline, reporting,
                                 factors=value_factors_from_prices(settings.prices))
        written = write_savings_monthly(client, result)
        out = Path(settings.data_dir) / "reports" / f"savings-{reporting.start}-{reporting.end}-fr.pdf"
        out.parent.mkdir(parents=True, exist_ok=True)
        write_report(build_savings_report(result, reg, "fr"), out, "pdf")
    pf = result.portfolio
    console.print(f"Savings {reporting.start} → {reporting.end} vs the year before: {_fmt(pf.avoided_kwh)} kWh "
                  f"± {_fmt(pf.u90_kwh)} (90 %), {_fmt(pf.avoided_eur)} €; {written} savings_monthly points; "
                  f"report: {out}")
