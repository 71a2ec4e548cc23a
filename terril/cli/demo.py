"""``terril demo``: the whole product in one command, on the local stack.

1. start Mosquitto and InfluxDB (child processes);
2. load a year of history of the Loos-en-Gohelle fleet through the collector's pipeline
   (the archive a town imports when it starts), with faults placed to show (firmware_sim.demo);
3. simulate the last days live: every device publishes in its own format over MQTT, the
   collector stores them, and every published point is checked to be stored;
4. run the analytics (rollups, quality, degree days, baselines, drift, PV performance, rollout),
   import the Décret tertiaire buildings' invoices for their reference years and for last year's
   months before the history, with the weather station's daily temperatures (all simulated, through
   the path of `terril import`), compute last year's Décret tertiaire statuses, and a savings report;
5. print what was stored per site, what Terril found, what the simulator had injected, and
   where to look next.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.table import Table

from terril.cli._common import (
    ConfigOpt, DataDirOpt, RegistryOpt, console, err_console, load_registry, load_settings, now_ns, progress,
)
from terril.errors import TerrilError

_N = 86_400 * 10**9


#: Days of reporting the demo's works need after their date for a savings report to mean something.
MIN_REPORTING_DAYS = 14


def _l(key: str, lang: str, **fmt: object) -> str:
    """The demo's label ``key`` in ``lang`` (the labels live with the reports' in analytics.reports.i18n)."""
    from analytics.reports.i18n import t

    return t(f"demo.{key}", lang, **fmt)


def _fmt(value: float, digits: int = 0, lang: str = "en") -> str:
    """A number in ``lang``'s format: ``1 234,5`` in French (narrow no-break space), ``1,234.5`` in English."""
    from analytics.reports.i18n import format_number

    return format_number(value, lang, digits)


def works_date(hist_start_ns: int, end_ns: int) -> dt.date | None:
    """The date of the demo's works: a year after the history starts (a full baseline year before
    them), provided at least :data:`MIN_REPORTING_DAYS` of reporting follow; else None."""
    from terril.timeutil import local_date

    works = local_date(hist_start_ns) + dt.timedelta(days=365)
    if (local_date(end_ns - 1) - works).days + 1 < MIN_REPORTING_DAYS:
        return None
    return works


def demo_cmd(days: Annotated[int, typer.Option(min=1, max=366, help="Days simulated live through MQTT (ending today 00:00).")] = 7,
             history_days: Annotated[int, typer.Option(min=0, max=1100, help="Days of history loaded before them (0 = none; baselines need a year).")] = 400,
             seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
             step: Annotated[float, typer.Option(min=60, max=3600, help="Simulation step [s].")] = 900.0,
             faults: Annotated[bool, typer.Option(help="Inject the demo's faults (drift, silent meter, PV string ...).")] = True,
             analytics: Annotated[bool, typer.Option(help="Run the analytics and the savings report after collecting.")] = True,
             keep_stack: Annotated[bool, typer.Option("--keep-stack", help="Leave Mosquitto and InfluxDB running.")] = False,
             lang: Annotated[str, typer.Option("--lang", help="Language of the summary and report: fr or en.")] = "fr",
             sites: Annotated[Optional[str], typer.Option("--sites", help="Only these sites (comma-separated ids) and their weather station: a faster demo.")] = None,
             now: Annotated[Optional[str], typer.Option("--now", envvar="TERRIL_NOW", help="Run as if now were this instant: YYYY-MM-DD (local midnight) or RFC 3339. Default: the current time.")] = None,
             serve: Annotated[bool, typer.Option("--serve", help="Then serve the web portal on the demo data until Ctrl-C (prints the URL and a demo login).")] = False,
             registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Start the local stack, load a year of history, simulate the last days live through MQTT, analyse, summarise."""
    from analytics.jobs.summary import query_site_summaries
    from collector.build import build_collector
    from firmware_sim.demo import demo_scenario
    from firmware_sim.faults import ground_truth_json, parse_scenario
    from firmware_sim.publisher import Publisher
    from firmware_sim.session import bulk_load, new_simulation, run_fleet
    from terril.endpoints import influx_endpoint, mqtt_endpoint
    from terril.mqtt_publish import MqttPublisher
    from terril.stack import stack_down, stack_up
    from terril.timeutil import format_rfc3339_ns, local_date, local_midnight_ns

    if lang not in ("fr", "en"):
        raise typer.BadParameter(f"{lang!r}: choose fr or en", param_hint="--lang")
    settings = load_settings(config, data_dir, registry)
    reg = load_registry(settings)
    if sites:
        wanted = [x.strip() for x in sites.split(",") if x.strip()]
        unknown = [x for x in wanted if x not in reg.site_by_id]
        if unknown or not wanted:
            raise typer.BadParameter(f"unknown site(s) {', '.join(unknown) or '(none given / aucun)'}; the registry has "
                                     f"{', '.join(s.id for s in reg.sites)}", param_hint="--sites")
        reg = reg.subset(wanted)
    with err_console.status(_l("stack_starting", lang)):
        state, started = stack_up(settings.data_dir, database=settings.influx.database,
                                  registry_path=settings.registry)
    err_console.print(_l("stack_started", lang, state=_l("started" if started else "running", lang),
                         mqtt=state.mqtt_url, influx=state.influx_url))
    # the live days run up to now (on the step grid), so that "today" has data too
    step_ns = int(step * 1e9)
    injected_ns = now_ns(now)
    # every clock of the demo (the collector's receive times, quarantine, its own statistics) runs
    # from the injected now, so that the dashboards' "last 5 minutes" mean the demo's
    clock_offset_ns = injected_ns - time.time_ns() if now else 0

    def clock_ns() -> int:
        return time.time_ns() + clock_offset_ns

    end_ns = injected_ns // step_ns * step_ns
    start_ns = end_ns - days * _N
    # the history starts at a local midnight: a partial first day would leave the baseline's first
    # month without temperatures, a gap of the demo's own making
    hist_start_ns = local_midnight_ns(local_date(start_ns - history_days * _N)) if history_days else start_ns
    works = works_date(hist_start_ns, end_ns)
    scenario = parse_scenario(demo_scenario(reg, start_ns, end_ns, works_date=works if faults else None,
                                            lang=lang), reg) if faults else None
    admin = influx_endpoint(settings, "admin").client(settings.influx.timeout_s)
    admin.create_database()
    influx = influx_endpoint(settings, "collector").client(settings.influx.timeout_s)
    reader = influx_endpoint(settings, "reader").client(settings.influx.timeout_s)
    sim = new_simulation(reg, hist_start_ns, seed=seed, step_s=step, scenario=scenario)
    t0 = time.monotonic()
    if history_days:
        with progress() as bar:
            task = bar.add_task(_l("history_task", lang, a=local_date(hist_start_ns), b=local_date(start_ns - 1)),
                                     total=(start_ns - hist_start_ns) / 1e9)
            history_points = bulk_load(sim, reg, lambda points: influx.write_points(points, batch=20_000), start_ns,
                                       on_progress=lambda s: bar.advance(task, s))
        err_console.print(_l("history_done", lang, n=_fmt(history_points, 0, lang), s=f"{time.monotonic() - t0:.0f}"))
    # The live window starts clean, so that what InfluxDB holds can be checked against what was
    # published: an earlier run of the demo (or of `terril simulate`) on this stack may have left
    # readings in this window, and retained device messages (SunSpec and OpenDTU values, device
    # statuses) that the broker would hand the collector again, some with a device time inside the
    # window. Collector statuses, alerts and $SYS topics are kept. Only on the demo's own local stack:
    # a broker or a database configured elsewhere (mqtt.url, influx.url) is never cleaned.
    if not settings.influx.url:
        admin.execute(f"DELETE FROM reading WHERE time >= {start_ns} AND time < {end_ns}")
    if not settings.mqtt.url:
        cleaner = MqttPublisher(mqtt_endpoint(settings, "admin"), client_id=f"terril-demo-clean-{os.getpid()}")
        cleaner.connect()
        try:
            cleaner.clear_retained("#", keep_prefixes=("$", "terril/_collector/", "terril/_alerts/"))
        finally:
            cleaner.close()
    # a session of its own that the broker forgets soon: the demo must not inherit another run's queue
    mqtt_settings = settings.mqtt.model_copy(update={"client_id": f"terril-demo-{os.getpid()}", "session_expiry_s": 60})
    collector = build_collector(settings, reg, influx=influx, mqtt_settings=mqtt_settings, clock_ns=clock_ns)
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
            with progress() as bar:
                task = bar.add_task(_l("live_task", lang, a=local_date(start_ns), b=local_date(end_ns - 1)),
                                         total=(end_ns - start_ns) / 1e9)
                result = run_fleet(publisher, reg, start_ns, end_ns, sim=sim,
                                   on_progress=lambda s: bar.advance(task, s))
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
        with err_console.status(_l("waiting", lang)):
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
    # the acknowledgements said every message was handled; the check below is on what InfluxDB holds:
    # give a last batch still on its way a moment to land (the check itself is unchanged)
    deadline = time.monotonic() + 30
    while sum(s.points for s in summaries) < report.expected_points and time.monotonic() < deadline:
        time.sleep(0.5)
        summaries = query_site_summaries(reader, reg, start_ns, end_ns)
    table = Table(title=_l("table_title", lang, town=reg.town.name, days=days, a=local_date(start_ns),
                           b=local_date(end_ns - 1)))
    for col, just in (("col_site", "left"), ("col_name", "left"), ("col_meters", "right"), ("col_points", "right"),
                      ("col_kwh", "right"), ("col_pv", "right"), ("col_water", "right")):
        table.add_column(_l(col, lang), justify=just)  # type: ignore[arg-type]
    total_points = 0
    for s in summaries:
        total_points += s.points
        table.add_row(s.site, s.name, str(s.meters), _fmt(s.points, 0, lang), _fmt(s.consumed_kwh, 0, lang),
                      _fmt(s.produced_kwh, 0, lang) if s.produced_kwh else "",
                      _fmt(s.water_m3, 1, lang) if s.water_m3 else "")
    table.add_row(_l("total", lang), "", str(sum(s.meters for s in summaries)), _fmt(total_points, 0, lang),
                  _fmt(sum(s.consumed_kwh for s in summaries), 0, lang),
                  _fmt(sum(s.produced_kwh for s in summaries), 0, lang),
                  _fmt(sum(s.water_m3 for s in summaries), 1, lang), style="bold")
    console.print(table)
    expected = report.expected_points
    verdict = _l("all_stored" if expected == total_points else "mismatch", lang)
    quarantined = sum(collector.stats.quarantined.values())
    console.print(_l("published", lang, m=_fmt(report.messages, 0, lang), p=_fmt(expected, 0, lang),
                     s=_fmt(total_points, 0, lang), verdict=verdict, q=quarantined, t=_fmt(live_s, 1, lang)))
    if expected != total_points:  # say where: the meters whose stored points differ from those published
        window = f"time >= {int(start_ns)} AND time < {int(end_ns)}"
        stored = {s.tags.get("meter", ""): int(s.values[0][1]) for s in
                  reader.query(f"SELECT count(received_ns) FROM reading WHERE {window} GROUP BY meter") if s.values}
        for meter in sorted(set(stored) | set(report.points_by_meter)):
            if stored.get(meter, 0) != report.points_by_meter.get(meter, 0):
                err_console.print(_l("mismatch_meter", lang, meter=meter, p=report.points_by_meter.get(meter, 0),
                                     s=stored.get(meter, 0)))

    summary: dict[str, object] = {"now": format_rfc3339_ns(end_ns), "live_start": format_rfc3339_ns(start_ns),
                                  "history_start": format_rfc3339_ns(hist_start_ns),
                                  "sites": [s.id for s in reg.sites], "points_expected": expected,
                                  "points_stored": total_points}
    try:  # the collector keeps running (and reporting its own health) while the analytics run
        if analytics:
            summary["savings"], summary["tertiaire"] = _analytics(
                settings, reg, hist_start_ns, start_ns, end_ns, history_days, sim, console, err_console, works=works,
                lang=lang)
    finally:
        collector.write_stats()
        stats_stop.set()
        collector.stop()
    # the instant to check the dashboards at (`terril dashboards check --now`): the demo's clock
    summary["clock_now"] = format_rfc3339_ns(clock_ns())
    summary_path = Path(settings.data_dir) / "demo-summary.json"
    summary_path.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")

    first_site = summaries[0].site if summaries else "SITE"
    console.print(_l("next", lang))
    console.print(f"  terril export readings --site {first_site} --start {format_rfc3339_ns(start_ns)} "
                  f"--end {format_rfc3339_ns(end_ns)} --format csv")
    console.print(f"  terril alerts list                 # {_l('next_alerts', lang)}")
    console.print(f"  terril devices unmapped            # {_l('next_unmapped', lang)}")
    console.print(f"  terril rollout status              # {_l('next_rollout', lang)}")
    console.print("  terril dashboards check --report" + (f" --now {summary['clock_now']}" if now else "")
                  + f"   # {_l('next_dashboards', lang)}")
    console.print("  " + _l("next_truth", lang, p=truth_path))
    console.print("  " + _l("next_data", lang, d=state.data_dir))
    if serve:
        from portal.demo import serve_demo

        serve_demo(settings, console)
    if not keep_stack:
        stack_down(settings.data_dir)
        console.print(_l("stack_stopped", lang))
    if expected != total_points:
        raise typer.Exit(1)


def _analytics(settings, reg, hist_start_ns: int, start_ns: int, end_ns: int, history_days: int, sim,  # noqa: ANN001
               console, err_console, *, works: dt.date | None = None,  # noqa: ANN001
               lang: str = "fr") -> tuple[dict | None, dict | None]:
    """The analytics, the Décret tertiaire history (invoices, weather) and statuses, the savings report:
    (savings summary, tertiaire summary)."""
    from analytics.jobs.alerts import query_alerts
    from analytics.analyze import analyze
    from terril.cli.analyze import alerts_table, publish_open_alerts
    from terril.endpoints import influx_endpoint
    from terril.timeutil import local_date

    client = influx_endpoint(settings, "analytics").client(max(settings.influx.timeout_s, 60.0))
    t0 = time.monotonic()
    with err_console.status(_l("analytics_status", lang)) as status:
        rep = analyze(client, reg, Path(settings.data_dir), since_ns=hist_start_ns, end_ns=end_ns,
                      prices=settings.prices,
                      progress=lambda what: status.update(f"{_l('analytics_status', lang)} {what}"))
        published = publish_open_alerts(settings, reg, client)
    console.print(_l("analytics_done", lang, s=f"{time.monotonic() - t0:.0f}", m=rep.meters_rolled_up,
                     b=len(rep.baselines_fitted), pv=rep.pv_arrays, e=rep.counter_events, a=published))
    recent = [a for a in query_alerts(client) if a.detected_ns >= start_ns - 45 * _N]
    if recent:
        console.print(alerts_table(recent, lang))
    if sim.ground_truth:
        truth = Table(title=_l("truth_title", lang))
        for col in ("col_fault", "col_meter_device", "col_from", "col_what"):
            truth.add_column(_l(col, lang))
        for t in sim.ground_truth:
            truth.add_row(t.kind, t.meter or t.device, str(local_date(t.start_ns)), t.description)
        console.print(truth)
    tertiaire = None
    if history_days:
        t1 = time.monotonic()
        with err_console.status(_l("tertiaire_import_status", lang)):
            imported = _import_tertiaire_history(settings, reg, client, hist_start_ns, end_ns,
                                                 seed=int(getattr(sim, "seed", 0)), sim=sim)
        import_s = time.monotonic() - t1
        if imported:
            console.print(_l("tertiaire_import_done", lang, n=imported["invoices"], d=imported["weather_days"],
                             years=", ".join(imported["years"]), s=_fmt(import_s, 1, lang)))
            with err_console.status(_l("tertiaire_status", lang)):
                tertiaire = _tertiaire_line(reg, client, local_date(end_ns - 1).year - 1, console, lang)
            tertiaire["import"] = {**imported, "seconds": round(import_s, 2)}
            tertiaire["seconds"] = round(time.monotonic() - t1, 2)
    if history_days >= 365:
        return _savings(settings, reg, client, hist_start_ns, end_ns, console, err_console, sim=sim, works=works,
                        lang=lang), tertiaire
    return None, tertiaire


#: The step of the simulation that writes the demo's invoices and weather history: hourly is
#: plenty for monthly sums and daily minimum/maximum, and keeps it to about a second per year. [s]
INVOICE_STEP_S = 3600.0
#: The station id of the simulated Météo-France history (a simulated station, not a real NUM_POSTE).
DEMO_STATION = "sim-62"


def invoice_months(reference_years: dict[int, list[str]], all_sites: list[str], last_year: int,
                   history_first: dt.date) -> dict[int, tuple[list[str], list[int]]]:
    """What an energy manager imports for the Décret tertiaire: year → (sites, months). Every month of
    each building's reference year, and the months of ``last_year`` that start before the history
    (the month the history starts in included: its measured days are not counted twice)."""
    out: dict[int, tuple[list[str], list[int]]] = {}
    for ry, sites in sorted(reference_years.items()):
        months = [m for m in range(1, 13) if dt.date(ry, m, 1) < history_first]
        if months:
            out[ry] = (list(sites), months)
    last = [m for m in range(1, 13) if dt.date(last_year, m, 1) < history_first]
    if last:
        sites, months = out.get(last_year, ([], []))
        out[last_year] = (list(dict.fromkeys([*sites, *all_sites])), sorted(set(months) | set(last)))
    return out


def _import_tertiaire_history(settings, reg, client, hist_start_ns: int, end_ns: int, *, seed: int,  # noqa: ANN001
                              sim=None) -> dict:  # noqa: ANN001
    """As an energy manager would for the Décret tertiaire: import the monthly invoices of each subject
    building's reference year and of last year's months the history does not cover, and the weather
    station's Météo-France daily temperatures of those months, through the path of `terril import`
    (:func:`analytics.imports.parse_import`, :func:`analytics.jobs.imported.commit_import`: the parser's
    kind, idempotent re-imports, the quality ledger told which days the invoices fill). The
    simulator writes them (true energies, :data:`INVOICE_STEP_S` step, only the meters needed;
    the scenario's re-dated measures kept, its faults not)."""
    from zoneinfo import ZoneInfo

    from analytics.imports import parse_import
    from analytics.jobs.imported import commit_import
    from analytics.reports.inputs import meters_for_report
    from analytics.reports.tertiaire_report import subject_sites
    from firmware_sim.faults import Scenario
    from portal.audit import AuditLog
    from terril.cli.simulated_inputs import simulated_daily
    from terril.timeutil import local_date

    subj = subject_sites(reg)
    if not subj:
        return {}
    tz = ZoneInfo(reg.town.timezone)
    last_year = local_date(end_ns - 1).year - 1
    by_ref: dict[int, list[str]] = {}
    for s in subj:
        if s.reference_year:
            by_ref.setdefault(int(s.reference_year), []).append(s.id)
    plan = invoice_months(by_ref, [s.id for s in subj], last_year, local_date(hist_start_ns))
    redated = tuple(getattr(getattr(sim, "scenario", None), "measure_dates", ()) or ())
    prices = {"electricity": settings.prices.electricity_eur_per_kwh, "gas": settings.prices.gas_eur_per_kwh,
              "heat": settings.prices.heat_eur_per_kwh}
    invoices = points = 0
    weather_days = 0
    audit = AuditLog(settings.data_dir)  # the portal's Imports page lists what the demo imported
    for year, (site_ids, months) in plan.items():
        sub = reg.subset(site_ids)
        meters = [m for m in meters_for_report(sub, site_ids) if m.carrier != "pv"]
        first = dt.date(year, months[0], 1)
        last = dt.date(year + months[-1] // 12, months[-1] % 12 + 1, 1) - dt.timedelta(days=1)
        known = {m.id for m in sub.measures}
        scenario = Scenario("demo-invoices", "re-dated measures only",
                            measure_dates=tuple((m, t) for m, t in redated if m in known))
        d = simulated_daily(sub, meters, first, last, seed=seed, step_s=INVOICE_STEP_S, scenario=scenario)
        month_of = np.asarray(d.dates, dtype="datetime64[M]").astype(int) % 12 + 1
        keep = np.isin(month_of, months)
        for m in meters:
            lines = ["period_start;period_end;kwh;cost_eur"]
            for mo in months:
                kwh = float(d.energy_kwh[m.id][month_of == mo].sum())
                a = dt.date(year, mo, 1)
                b = dt.date(year + mo // 12, mo % 12 + 1, 1) - dt.timedelta(days=1)
                lines.append(f"{a};{b};{kwh:.0f};{kwh * prices.get(m.carrier, 0.0):.2f}")
            result = parse_import("\n".join(lines).encode(), "invoice", tz=tz)
            n = commit_import(client, reg, m, result, f"demo-factures-{year}")[0]
            audit.record("demo", "imported", m.id, site=m.site, file=f"factures-{m.id}-{year}.csv", kind=result.kind,
                         source=f"demo-factures-{year}", rows_read=result.rows_read, rows_kept=result.rows_kept,
                         rejected=len(result.rejected), points_written=n)
            points += n
            invoices += len(result.values)
        wsrc = {sub.weather_source(sid).meter.id: sub.weather_source(sid).meter for sid in site_ids
                if sub.weather_source(sid) is not None and sub.weather_source(sid).meter is not None}
        for wm in wsrc.values():  # the station's daily climatology file (Q_ layout: TN, TX, TM)
            lines = ["NUM_POSTE;AAAAMMJJ;TN;TX;TM"]
            for day, tn, tx, tm in zip(d.dates[keep], d.temp_min_c[keep], d.temp_max_c[keep], d.temp_mean_c[keep]):
                lines.append(f"{DEMO_STATION};{str(day).replace('-', '')};{tn:.1f};{tx:.1f};{tm:.1f}")
            result = parse_import("\n".join(lines).encode(), "meteofrance_daily", tz=tz)
            n = commit_import(client, reg, wm, result, f"demo-meteofrance-{year}")[0]
            audit.record("demo", "imported", wm.id, site=wm.site, file=f"Q_{DEMO_STATION}-{year}.csv",
                         kind=result.kind, source=f"demo-meteofrance-{year}", rows_read=result.rows_read,
                         rows_kept=result.rows_kept, rejected=len(result.rejected), points_written=n)
            points += n
            weather_days += len(result.values)
    return {"years": {str(y): {"sites": sites, "months": months} for y, (sites, months) in plan.items()},
            "invoices": invoices, "weather_days": weather_days, "points": points}


def _tertiaire_line(reg, client, year: int, console, lang: str) -> dict:  # noqa: ANN001
    """The Décret tertiaire statuses of ``year`` (the portal's and `terril report tertiaire`'s), one line."""
    from analytics.jobs.tertiaire import query_tertiaire_statuses

    statuses = query_tertiaire_statuses(client, reg, year)[0]
    n_on = sum(s.status in ("on_track", "achieved") for s in statuses)
    n_late = sum(s.status == "late" for s in statuses)
    n_none = sum(s.status == "no_data" for s in statuses)
    console.print(_l("tertiaire_line", lang, year=year, n=len(statuses), on=n_on, late=n_late, none=n_none))
    return {"year": year, "buildings": len(statuses), "on_track": n_on, "late": n_late, "no_data": n_none,
            "statuses": {s.site: {"status": s.status, "reduction_pct": round(100 * s.reduction, 1)
                                  if np.isfinite(s.reduction) else None,
                                  "target_pct": round(100 * s.target, 1)} for s in statuses}}


def _savings(settings, reg, client, hist_start_ns: int, end_ns: int, console, err_console, *,  # noqa: ANN001
             sim=None, works: dt.date | None = None, lang: str = "fr") -> dict:  # noqa: ANN001
    """The savings report of the demo: the year before its works as the baseline, the days since
    as the reporting period; each re-dated measure's result beside the simulator's true saving."""

    from analytics.jobs.savings import write_savings_monthly
    from analytics.reports.inputs import query_input_bundle
    from analytics.reports.render import write_report
    from analytics.reports.savings_report import build_savings_report, compute_savings
    from analytics.savings import Period, value_factors_from_prices
    from terril.timeutil import local_date, local_midnight_ns

    first = local_date(hist_start_ns)
    last = local_date(end_ns - 1)
    start_reporting = works or first + dt.timedelta(days=365)
    baseline = Period(first, start_reporting - dt.timedelta(days=1))
    reporting = Period(start_reporting, last)
    redated = dict(getattr(getattr(sim, "scenario", None), "measure_dates", ()) or ())
    measure_dates = {m: local_date(t) for m, t in redated.items()}
    sites = [s.id for s in reg.sites if any(m.site == s.id and m.carrier in ("electricity", "gas", "heat")
                                            for m in reg.meters)]
    with err_console.status(_l("savings_status", lang)):
        bundle = query_input_bundle(client, reg, sites, baseline.start, reporting.end)
        result = compute_savings(bundle, reg, sites, baseline, reporting,
                                 factors=value_factors_from_prices(settings.prices), measure_dates=measure_dates)
        written = write_savings_monthly(client, result)
        out = Path(settings.data_dir) / "reports" / f"savings-{reporting.start}-{reporting.end}-{lang}.pdf"
        out.parent.mkdir(parents=True, exist_ok=True)
        write_report(build_savings_report(result, reg, lang), out, "pdf")
    pf = result.portfolio
    not_computed = sum(1 for s in result.meters if not s.qualifies)
    console.print(_l("savings_line", lang, a=reporting.start, b=reporting.end, ba=baseline.start, bb=baseline.end,
                     kwh=_fmt(pf.avoided_kwh, 0, lang), u=_fmt(pf.u90_kwh, 0, lang), eur=_fmt(pf.avoided_eur, 0, lang),
                     n=not_computed, out=out))
    if pf.avoided_kwh < 0:
        console.print(_l("savings_negative", lang))
    # each re-dated measure: what the report measured beside what the simulator really avoided
    rows = []
    by_meter = {s.meter: s for s in result.meters}
    for ms in reg.measures:
        if ms.id not in measure_dates:
            continue
        for meter_id in ms.meters or ():
            s = by_meter.get(meter_id)
            if s is None:
                continue
            days = np.asarray(s.dates, dtype="datetime64[D]")[np.asarray(s.valid, dtype=bool)].astype(dt.date)
            truth = sum(sim.measure_avoided_kwh(meter_id, local_midnight_ns(d),
                                                local_midnight_ns(d + dt.timedelta(days=1))) for d in days)
            inside = bool(s.qualifies and abs(s.avoided_kwh - truth) <= s.u90_kwh)
            rows.append({"measure": ms.id, "site": ms.site, "meter": meter_id, "date": str(measure_dates[ms.id]),
                         "description": ms.description, "avoided_kwh": s.avoided_kwh, "u90_kwh": s.u90_kwh,
                         "true_avoided_kwh": truth, "qualifies": s.qualifies, "reasons": list(s.reasons),
                         "reporting_valid_days": s.reporting_valid_days, "inside_90": inside})
    if rows:
        table = Table(title=_l("works_title", lang))
        for col, just in (("col_measure", "left"), ("col_building", "left"), ("col_since", "left"),
                          ("col_avoided", "right"), ("± 90 %", "right"), ("col_true", "right"), ("col_inside", "left")):
            table.add_column(col if col.startswith("±") else _l(col, lang), justify=just)  # type: ignore[arg-type]
        names = reg.site_by_id
        for r in rows:
            table.add_row(f"{r['measure']} ({r['description']})", names[r["site"]].name, r["date"],
                          _fmt(r["avoided_kwh"], 0, lang), _fmt(r["u90_kwh"], 0, lang),
                          _fmt(r["true_avoided_kwh"], 0, lang), _l("yes" if r["inside_90"] else "no", lang))
        console.print(table)
    summary = {"baseline": [str(baseline.start), str(baseline.end)], "reporting": [str(reporting.start), str(reporting.end)],
               "portfolio_avoided_kwh": pf.avoided_kwh, "portfolio_u90_kwh": pf.u90_kwh,
               "excluded": {s.meter: list(s.reasons) for s in result.meters if not s.qualifies},
               "measures": rows, "savings_monthly_points": written, "report": str(out)}
    return summary
