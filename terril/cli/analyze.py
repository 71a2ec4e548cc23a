"""``terril analyze`` (one analytics run) and ``terril alerts list|ack|resolve``; open alerts are
published as retained MQTT messages through the kernel's QoS-1 publisher."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from terril.cli._common import (
    ConfigOpt, DataDirOpt, RegistryOpt, console, err_console, influx_client, load_registry, load_settings,
    unknown_site,
)
from terril.errors import AlertNotFoundError, ConfigError

alerts_app = typer.Typer(help="Alerts: drift, base load, silent and stuck meters (alertes).", no_args_is_help=True)


def publish_open_alerts(settings, reg, client) -> int:  # noqa: ANN001
    """Publish open alerts as retained MQTT messages; returns how many (0 when no broker answers)."""
    from analytics.analyze import publish_alerts
    from terril.endpoints import mqtt_endpoint, unique_client_id
    from terril.errors import MqttError, StackError
    from terril.mqtt_publish import MqttPublisher

    try:
        publisher = MqttPublisher(mqtt_endpoint(settings, "collector"), unique_client_id("terril-alerts"),
                                  max_inflight=100)
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


def analyze_cmd(registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
                since: Annotated[Optional[str], typer.Option(help="Recompute from this date (YYYY-MM-DD) instead of incrementally.")] = None,
                until: Annotated[Optional[str], typer.Option(help="Analyse up to this instant (default: now).")] = None,
                site: Annotated[Optional[str], typer.Option(help="Only this site.")] = None,
                publish: Annotated[bool, typer.Option(help="Publish open alerts as retained MQTT messages.")] = True,
                json_out: Annotated[bool, typer.Option("--json", help="Print the run's report as JSON.")] = False,
                lang: Annotated[Optional[str], typer.Option("--lang", help="fr or en (default: the registry's town.language).")] = None) -> None:
    """One analytics run: rollups, data quality, degree days, baselines, drift and alerts (incremental)."""
    from dataclasses import asdict

    from analytics.analyze import analyze
    from terril.ids import validate_id
    from terril.timeutil import parse_time_arg

    if site is not None:
        validate_id(site, "site")
    settings = load_settings(config, data_dir, registry)
    reg = load_registry(settings)
    lang = _summary_lang(lang, reg)
    fr = lang == "fr"
    try:
        since_ns = parse_time_arg(since) if since else None
        until_ns = parse_time_arg(until, end_of_day=True) if until else None
    except ValueError as err:
        from terril.cli.usage import translate_usage_message

        raise ConfigError(f"--since/--until : {translate_usage_message(f'Invalid value: {err}', lang)}" if fr
                          else f"bad --since/--until: {err}").said_in(lang) from None
    with influx_client(settings, "analytics") as client:
        with err_console.status("Analyse…" if fr else "Analysing…") as status:
            report = analyze(client, reg, Path(settings.data_dir), since_ns=since_ns, end_ns=until_ns, site=site,
                             prices=settings.prices,
                             progress=lambda what: status.update(f"Analyse : {what}" if fr else f"Analysing: {what}"))
        published = publish_open_alerts(settings, reg, client) if publish and not report.nothing_new else 0
    if json_out:
        print(json.dumps(asdict(report), default=str))
        return
    for line, warn in analyze_summary_lines(report, published, lang):
        (err_console if warn else console).print(line, highlight=False)


def _summary_lang(lang: str | None, reg) -> str:  # noqa: ANN001
    if lang is not None and lang not in ("fr", "en"):
        raise typer.BadParameter(f"{lang!r}: choose fr or en", param_hint="--lang")
    return lang or (reg.town.language or "fr")


def analyze_summary_lines(report, published: int, lang: str) -> list[tuple[str, bool]]:  # noqa: ANN001
    """What ``terril analyze`` prints, in ``lang``: (line, is a warning)."""
    from analytics.reports.i18n import format_number
    from analytics.reports.reasons import short_reason
    from terril.timeutil import local_date

    fr = lang == "fr"
    n = lambda x: format_number(x, lang)  # noqa: E731
    if report.nothing_new:
        return [("Rien de nouveau depuis la dernière analyse (--since DATE pour tout recalculer)." if fr
                 else "Nothing new since the last run (use --since DATE to recompute).", False)]
    since = local_date(report.window_start_ns or 0).isoformat()  # the town's day (UTC said the day before)
    lines = [(f"Analyse depuis le {since} : {n(report.meters_rolled_up)} compteurs agrégés "
              f"({n(report.rollup_points)} points), {n(report.counter_events)} événements de compteur, "
              f"{n(report.weather_days)} jours de météo." if fr else
              f"Analysed from {since}: {report.meters_rolled_up} meters rolled up ({report.rollup_points} points), "
              f"{report.counter_events} counter events, {report.weather_days} weather days.", False)]
    if report.step_notes:
        first = next(iter(report.step_notes.items()))
        lines.append((f"[yellow]attention :[/yellow] {len(report.step_notes)} compteurs envoient leurs données à un pas "
                      f"plus long que celui que déclare leur appareil (par ex. {first[0]}) : leur couverture est "
                      f"jugée sur le pas de leurs données." if fr else
                      f"[yellow]warning:[/yellow] {len(report.step_notes)} meters send data at a coarser step "
                      f"than their device declares (e.g. {first[0]}: {first[1]})", True))
    skipped = ""
    if report.baselines_skipped:
        meter, codes = next(iter(report.baselines_skipped.items()))
        why = ", ".join(short_reason(c, lang) for c in codes.split(",") if c)
        skipped = f" (par ex. {meter} : {why})" if fr else f" (e.g. {meter}: {why})"
    lines.append((f"Références ajustées : {len(report.baselines_fitted)} ; non ajustées : "
                  f"{len(report.baselines_skipped)}{skipped}" if fr else
                  f"Baselines fitted: {len(report.baselines_fitted)}; not fitted: {len(report.baselines_skipped)}"
                  f"{skipped}", False))
    if report.pv_arrays:
        lines.append((f"PV : {report.pv_arrays} installations analysées (pv_daily, pv_site_daily, rollout)." if fr
                      else f"PV: {report.pv_arrays} arrays analysed (pv_daily, pv_site_daily, rollout).", False))
    pub = ""
    if published:
        pub = (f" ; alertes de {published} compteurs publiées sur terril/_alerts/#" if fr
               else f"; {published} meters' alerts published on terril/_alerts/#")
    lines.append((f"Alertes ouvertes : {report.alerts_open} (nouvelles : {report.alerts_new}){pub}" if fr
                  else f"Alerts open: {report.alerts_open} (new: {report.alerts_new}){pub}", False))
    return lines


#: Alert states as a user reads them (the portal's words).
_STATE_WORDS = {"fr": {"open": "ouverte", "acknowledged": "prise en compte", "resolved": "résolue"},
                "en": {"open": "open", "acknowledged": "acknowledged", "resolved": "resolved"}}


def alerts_table(alerts, lang: str = "fr") -> Table:  # noqa: ANN001
    from rich import box

    from analytics.reports.i18n import format_number
    from terril.timeutil import local_date

    fr = lang == "fr"
    # no vertical rules: the nine columns fit a 100-column terminal
    table = Table(title="Alertes" if fr else "Alerts", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  padding=(0, 1), collapse_padding=True)
    # the id is what `terril alerts ack|resolve` takes: never cut; the meter id names its site; words
    # wrap, figures stay on one line, each with the unit of its meter's carrier
    table.add_column("id", no_wrap=True, min_width=12)
    table.add_column("compteur" if fr else "meter", overflow="fold", ratio=2,
                     min_width=min(14, max((len(a.meter) for a in alerts), default=8)))
    table.add_column("type" if fr else "kind", ratio=3)
    words = _STATE_WORDS["fr" if fr else "en"]
    table.add_column("état" if fr else "state", no_wrap=True,
                     min_width=max((len(words.get(a.state, a.state)) for a in alerts), default=5))
    table.add_column("début" if fr else "onset", no_wrap=True)
    for col in ("excès/j" if fr else "excess/day", "W ou L/h" if fr else "W or L/h", "%", "€"):
        table.add_column(col, justify="right", no_wrap=True)
    for a in alerts:
        def num(v: float, decimals: int, unit: str = "") -> str:
            return "" if v != v else format_number(v, lang, decimals) + unit
        rate = num(a.magnitude_l_per_h, 0, " L/h") if a.magnitude_l_per_h == a.magnitude_l_per_h \
            else num(a.magnitude_w, 0, " W")
        per_day = num(a.magnitude_m3_per_day, 2, " m³") if a.magnitude_m3_per_day == a.magnitude_m3_per_day \
            else num(a.magnitude_kwh_per_day, 1, " kWh")
        table.add_row(a.alert_id, a.meter, a.title_fr if fr else a.title_en, words.get(a.state, a.state),
                      str(local_date(a.onset_ns)), per_day, rate, num(a.magnitude_pct, 1), num(a.cost_eur, 0))
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

    settings = load_settings(config, data_dir, registry)
    reg = load_registry(settings)  # a bad registry stops here; its town's time zone dates the alerts
    if site is not None and site not in reg.site_by_id:  # else « Aucune alerte. », as if the site were quiet
        raise unknown_site(reg, site, lang)
    with influx_client(settings, "reader") as client:
        alerts = query_alerts(client, state=state.value if state else None, site=site)
    if json_out:
        for a in alerts:
            print(json.dumps(a.as_json(), ensure_ascii=False))
        return
    if not alerts:
        console.print("Aucune alerte." if lang == "fr" else "No alerts.")
        return
    console.print(alerts_table(alerts, lang))


def _set_alert_state(alert_id: str, state: str, settings, lang: str | None) -> None:  # noqa: ANN001
    from analytics.jobs.alerts import set_state
    from terril.ids import validate_id

    validate_id(alert_id, "alert")
    reg = load_registry(settings)
    fr = (lang or reg.town.language or "fr") != "en"
    with influx_client(settings, "analytics") as client:
        try:
            rec = set_state(client, alert_id, state)
        except AlertNotFoundError as err:
            if fr:
                err.message = f"aucune alerte n'a l'identifiant {alert_id!r}"
                err.hint = "voyez `terril alerts list` (identifiants de 12 caractères)"
            raise err.said_in("fr" if fr else "en") from None
        publish_open_alerts(settings, reg, client)
    word = _STATE_WORDS["fr" if fr else "en"][state]
    console.print(f"{rec.alert_id}{' :' if fr else ':'} {rec.title_fr if fr else rec.title_en} — {rec.meter} → {word}",
                  highlight=False, markup=False)


LangOpt = Annotated[Optional[str], typer.Option("--lang", help="fr or en (default: the town's language).")]


@alerts_app.command("ack")
def alerts_ack_cmd(alert_id: Annotated[str, typer.Argument(help="Alert id (see `terril alerts list`).")],
                   lang: LangOpt = None,
                   registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Acknowledge an alert (it stays visible until resolved)."""
    _set_alert_state(alert_id, "acknowledged", load_settings(config, data_dir, registry), lang)


@alerts_app.command("resolve")
def alerts_resolve_cmd(alert_id: Annotated[str, typer.Argument(help="Alert id (see `terril alerts list`).")],
                       lang: LangOpt = None,
                       registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Resolve an alert."""
    _set_alert_state(alert_id, "resolved", load_settings(config, data_dir, registry), lang)
