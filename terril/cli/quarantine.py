"""``terril quarantine list|replay``: see what the collector refused, and store it once the registry is fixed.

``list`` reads the ``quarantine`` measurement (newest first); ``replay`` decodes the matching
records again against the current registry and stores those that now pass, exactly once
(:mod:`collector.quarantine_store`). Summaries are in French by default (``--lang en``).
"""

from __future__ import annotations

import json
import re
from typing import Annotated

import typer
from rich.table import Table

from terril.cli._common import ConfigOpt, DataDirOpt, RegistryOpt, console, influx_client, load_settings

quarantine_app = typer.Typer(help="Messages the collector refused: list them, replay them once the registry is fixed.",
                             no_args_is_help=True)

ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Only this reason code (unknown_channel, ...).")]
DeviceOpt = Annotated[str | None, typer.Option("--device", help="Only this device (registry id, or the key its topic names).")]
SinceOpt = Annotated[str, typer.Option("--since", help="From when: 30m, 12h, 7d, a date (Europe/Paris) or RFC 3339.")]
LangOpt = Annotated[str, typer.Option("--lang", help="fr or en.")]

_RELATIVE = re.compile(r"(\d{1,6})\s*([mhd])")
_UNIT_S = {"m": 60, "h": 3600, "d": 86_400}


def parse_since(text: str, now_ns: int) -> int:
    """``30m``/``12h``/``7d`` before ``now_ns``, or a date / RFC 3339 time, as UTC ns."""
    from terril.errors import ConfigError
    from terril.timeutil import NS_PER_S, parse_time_arg

    m = _RELATIVE.fullmatch(text.strip())
    if m:
        return now_ns - int(m.group(1)) * _UNIT_S[m.group(2)] * NS_PER_S
    try:
        return parse_time_arg(text)
    except ValueError:
        raise ConfigError(f"--since {text[:40]!r}: expected 30m, 12h, 7d, YYYY-MM-DD or an RFC 3339 time") from None


def _lang(lang: str) -> str:
    from terril.errors import ConfigError

    if lang not in ("fr", "en"):
        raise ConfigError(f"--lang {lang[:8]!r}: expected fr or en")
    return lang


def _num(n: int, lang: str) -> str:
    return f"{n:,}".replace(",", "\u202f" if lang == "fr" else ",")


@quarantine_app.command("list")
def quarantine_list_cmd(reason: ReasonOpt = None, device: DeviceOpt = None, since: SinceOpt = "7d",
                        limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1,
                                                           max=100_000)] = 50,
                        json_out: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
                        lang: LangOpt = "fr", data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Quarantined messages, newest first: time, reason, device, topic, what was wrong, replayed or not."""
    from collector.quarantine_store import query_quarantine
    from terril.timeutil import format_rfc3339_ns, now_ns

    lang = _lang(lang)
    settings = load_settings(config, data_dir)
    since_ns = parse_since(since, now_ns())
    with influx_client(settings, "reader") as client:
        records = query_quarantine(client, since_ns=since_ns, reason=reason, device=device, limit=limit,
                                   newest_first=True)
    if json_out:
        for r in records:
            print(json.dumps(r.as_json(), ensure_ascii=False))
        return
    if not records:
        console.print("Aucun message en quarantaine." if lang == "fr" else "No quarantined message.")
        return
    fr = lang == "fr"
    table = Table(title=("Quarantaine" if fr else "Quarantine") + f" ({_num(len(records), lang)})")
    for col in (("heure", "raison", "appareil", "topic", "détail", "rejoué") if fr else
                ("time", "reason", "device", "topic", "detail", "replayed")):
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(format_rfc3339_ns(r.time_ns), r.reason, r.device, r.topic, r.detail,
                      ("oui" if fr else "yes") if r.replayed_ns else "")
    console.print(table)


@quarantine_app.command("replay")
def quarantine_replay_cmd(reason: ReasonOpt = None, device: DeviceOpt = None, since: SinceOpt = "7d",
                          dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be stored; "
                                                                "write nothing.")] = False,
                          lang: LangOpt = "fr", registry: RegistryOpt = None, data_dir: DataDirOpt = None,
                          config: ConfigOpt = None) -> None:
    """Decode quarantined messages again against the current registry; store those that now pass, exactly once."""
    from collector.mapping import Pipeline
    from collector.quarantine_store import query_quarantine, replay
    from collector.writer import RetryLater
    from terril.errors import InfluxUnavailableError
    from terril.registry import load_registry
    from terril.timeutil import now_ns

    lang = _lang(lang)
    settings = load_settings(config, data_dir, registry)
    pipeline = Pipeline(load_registry(settings.registry))
    since_ns = parse_since(since, now_ns())
    with influx_client(settings, "analytics") as client:
        records = query_quarantine(client, since_ns=since_ns, reason=reason, device=device)
        try:
            result = replay(client, pipeline, records, dry_run=dry_run)
        except RetryLater as err:
            raise InfluxUnavailableError(f"InfluxDB unavailable during the replay: {err}",
                                         hint="run the replay again when it answers: what was stored is marked, "
                                              "nothing is stored twice") from None
    n = lambda v: _num(v, lang)  # noqa: E731
    still = ", ".join(f"{k} {n(v)}" for k, v in sorted(result.still_rejected.items()))
    if lang == "fr":
        verb = "seraient stockés" if dry_run else "stockés"
        print(f"{n(result.examined)} messages examinés : {n(result.stored)} {verb} ({n(result.points)} points), "
              f"{n(result.already_replayed)} déjà rejoués, {n(sum(result.still_rejected.values()))} toujours refusés"
              + (f" ({still})" if still else "") + f", {n(result.not_replayable)} non rejouables"
              + (f", {n(result.write_rejected)} lignes refusées par InfluxDB" if result.write_rejected else "") + ".")
    else:
        verb = "would be stored" if dry_run else "stored"
        print(f"{n(result.examined)} messages examined: {n(result.stored)} {verb} ({n(result.points)} points), "
              f"{n(result.already_replayed)} already replayed, {n(sum(result.still_rejected.values()))} still refused"
              + (f" ({still})" if still else "") + f", {n(result.not_replayable)} not replayable"
              + (f", {n(result.write_rejected)} lines refused by InfluxDB" if result.write_rejected else "") + ".")
    if result.write_rejected:
        raise typer.Exit(1)
