"""``terril rollout status`` and ``terril pv run|report``: the PV rollout and PV performance.

The numbers come from :mod:`analytics.pv` (:func:`analytics.pv.rollout.rollout_status_data`,
the jobs, the report); this module reads the options and prints.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from terril.cli._common import (
    ConfigOpt, DataDirOpt, RegistryOpt, console, err_console, influx_client, load_registry, load_settings,
)
from terril.errors import ConfigError, TerrilError

rollout_app = typer.Typer(help="The PV rollout, from experimentation to massification.", no_args_is_help=True)
pv_app = typer.Typer(help="PV performance: compute it, report it.", no_args_is_help=True)

STAGE_LABELS = {"experimentation": ("Expérimentation", "Experimentation"), "pilot": ("Pilote", "Pilot"),
                "deployment": ("Déploiement", "Deployment"), "massification": ("Massification", "Massification")}


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as err:
        raise ConfigError(f"bad {what} {text!r}: expected YYYY-MM-DD") from err


def _period(text: str) -> tuple[dt.date, dt.date]:
    if ".." not in text:
        raise ConfigError(f"bad --period {text!r}: expected START..END (YYYY-MM-DD..YYYY-MM-DD, END included)")
    a, b = text.split("..", 1)
    start, end = _date(a, "period start"), _date(b, "period end")
    if end < start:
        raise ConfigError(f"bad --period {text!r}: END before START")
    return start, end


@rollout_app.command("status")
def rollout_status_cmd(json_out: Annotated[bool, typer.Option("--json", help="Print JSON (for machines).")] = False,
                       at: Annotated[Optional[str], typer.Option("--at", help="Date YYYY-MM-DD (default: today).")] = None,
                       offline: Annotated[bool, typer.Option("--offline", help="Registry only: do not read InfluxDB.")] = False,
                       registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """The rollout funnel (experimentation → pilot → deployment → massification) and kWp over time.

    Production, CO₂ avoided and PV share come from the ``rollout`` measurement (written by
    ``terril pv run``) when InfluxDB is reachable.
    """
    from analytics.pv.rollout import rollout_status_data
    from terril.timeutil import local_midnight_ns

    day = _date(at, "--at") if at else dt.date.today()
    settings = load_settings(config, data_dir, registry)
    reg = load_registry(settings)
    stored = None
    note = None
    if not offline:
        try:
            from analytics.pv.jobs import query_rollout

            with influx_client(settings) as client:
                stored = query_rollout(client, local_midnight_ns(day + dt.timedelta(days=1)) - 1)
        except TerrilError as err:
            note = f"production figures unavailable: {err.message}"
    data = rollout_status_data(reg, day, stored)
    if json_out:
        if note:
            data["note"] = note
        print(json.dumps(data, ensure_ascii=False))
        return
    console.print(f"[bold]PV rollout / Déploiement du photovoltaïque[/bold] — {reg.town.name}, {day.isoformat()}")
    console.print(f"{data['kwp_installed']:g} kWp installed of {data['kwp_planned_total']:g} planned · "
                  f"roofs equipped {data['roofs_equipped']}/{data['roofs_eligible']} eligible")
    ft = Table(title="Funnel / Entonnoir")
    for c in ("Stage / Étape", "Roofs equipped", "Roofs to come", "kWp installed", "kWp planned", "From", "To"):
        ft.add_column(c, justify="left" if c.startswith("Stage") else "right")
    for s in data["stages"]:
        fr, en = STAGE_LABELS[s["stage"]]
        ft.add_row(f"{en} / {fr}", str(s["roofs_equipped"]), str(s["roofs_planned"]), f"{s['kwp_installed']:g}",
                   f"{s['kwp_planned']:g}", s["first_date"] or "", s["last_date"] or "")
    console.print(ft)
    tt = Table(title="kWp over time / kWc dans le temps")
    for c in ("Year / Année", "kWp installed", "kWp planned", "Roofs", "Production cum. [kWh]", "CO₂ avoided [kg]",
              "PV share [%]"):
        tt.add_column(escape(c), justify="right")
    for r in data["timeline"]:
        style = "dim" if r["future"] else None
        tt.add_row(str(r["year"]) + (" (plan)" if r["future"] else ""), f"{r['kwp_installed']:g}",
                   f"{r['kwp_planned']:g}", str(r["roofs_equipped"]), _num(r.get("production_cum_kwh")),
                   _num(r.get("co2_avoided_kg")), _num(r.get("pv_share_pct"), 2), style=style)
    console.print(tt)
    if note:
        err_console.print(f"[yellow]{note}[/yellow]")


def _num(v: float | None, nd: int = 0) -> str:
    return "—" if v is None else f"{v:,.{nd}f}"


@pv_app.command("run")
def pv_run_cmd(start: Annotated[str, typer.Option(help="First day YYYY-MM-DD (Europe/Paris).")],
               end: Annotated[str, typer.Option(help="Last day YYYY-MM-DD (included).")],
               registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
               json_out: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False) -> None:
    """Compute PV performance and write pv_daily, pv_site_daily, PV alerts and the rollout KPIs."""
    from analytics.pv.jobs import run_pv, run_rollout
    from terril.timeutil import local_midnight_ns

    a, b = _date(start, "--start"), _date(end, "--end")
    if b < a:
        raise ConfigError("--end before --start")
    settings = load_settings(config, data_dir, registry)
    reg = load_registry(settings)
    s_ns, e_ns = local_midnight_ns(a), local_midnight_ns(b + dt.timedelta(days=1))
    with influx_client(settings) as client:
        res = run_pv(client, reg, s_ns, e_ns)
        points = run_rollout(client, reg, s_ns, e_ns)
    summary = {"arrays": sorted(res.arrays), "sites": sorted(res.sites), "skipped": res.skipped,
               "points_written": res.points_written + len(points),
               "alerts": [r.as_json() for r in res.alerts]}
    if json_out:
        print(json.dumps(summary, ensure_ascii=False))
        return
    console.print(f"{len(res.arrays)} arrays, {len(res.sites)} sites analysed; {summary['points_written']} points written; "
                  f"{len(res.alerts)} PV alerts")
    for r in res.alerts:
        console.print(f"  {r.kind:15s} {r.meter:22s} {r.state:9s} onset {r.as_json()['onset']}  {r.title_en}")


class ReportFormat(str, Enum):
    pdf = "pdf"
    xlsx = "xlsx"
    csv = "csv"
    json = "json"


class Lang(str, Enum):
    fr = "fr"
    en = "en"


@pv_app.command("report")
def pv_report_cmd(period: Annotated[str, typer.Option(help="START..END, days YYYY-MM-DD, END included.")],
                  output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
                  format: Annotated[ReportFormat, typer.Option("--format", help="pdf, xlsx, csv or json.")] = ReportFormat.pdf,
                  lang: Annotated[Optional[Lang], typer.Option("--lang", help="fr or en (default: the registry's town.language).")] = None,
                  purchase_eur_per_kwh: Annotated[float, typer.Option(help="Purchase price avoided by self-consumption [EUR/kWh].")] = 0.20,
                  feed_in_eur_per_kwh: Annotated[float, typer.Option(help="Feed-in price of exported energy [EUR/kWh].")] = 0.10,
                  registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """PV report: production statement per array, performance, self-consumption, technologies, alerts."""
    from analytics.jobs.alerts import query_alerts
    from analytics.pv.jobs import query_pv_daily, query_pv_site_daily
    from analytics.pv.performance import Tariffs
    from analytics.pv.report import build_pv_report
    from analytics.reports.render import write_report
    from terril.timeutil import local_midnight_ns

    start, end = _period(period)
    settings = load_settings(config, data_dir, registry)
    reg = load_registry(settings)
    s_ns, e_ns = local_midnight_ns(start), local_midnight_ns(end + dt.timedelta(days=1))
    with influx_client(settings) as client:
        daily = query_pv_daily(client, s_ns, e_ns)
        sites = query_pv_site_daily(client, s_ns, e_ns)
        alerts = [a for a in query_alerts(client) if a.kind.startswith("pv_")]
    language = lang.value if lang else (reg.town.language or "fr")
    fr = language == "fr"
    if daily.time_ns.size == 0:
        raise TerrilError(f"aucune donnée pv_daily du {start} au {end}" if fr
                          else f"no pv_daily data between {start} and {end}",
                          hint=(f"lancez d'abord `terril pv run --start {start} --end {end}`" if fr
                                else f"run `terril pv run --start {start} --end {end}` first")).said_in(language)
    report = build_pv_report(reg, daily, sites, alerts, start, end, language,
                             tariffs=Tariffs(purchase_eur_per_kwh, feed_in_eur_per_kwh))
    path = write_report(report, output, format.value)
    import numpy as np

    from analytics.reports.i18n import format_number
    from terril.timeutil import local_date

    n = len(set(daily.array.tolist()))
    kwh = format_number(float(np.nansum(daily.fields["production_wh"])) / 1000.0, language)
    n_alerts = sum(start <= local_date(a.onset_ns) <= end for a in alerts)
    if fr:
        err_console.print(f"{path} : {n} installation{'s' if n > 1 else ''}, {kwh} kWh produits du "
                          f"{start} au {end}, {n_alerts} alerte{'s' if n_alerts > 1 else ''} photovoltaïque"
                          f"{'s' if n_alerts > 1 else ''}.", highlight=False)
    else:
        err_console.print(f"{path}: {n} array{'s' if n != 1 else ''}, {kwh} kWh produced from {start} to {end}, "
                          f"{n_alerts} PV alert{'s' if n_alerts != 1 else ''}.", highlight=False)
