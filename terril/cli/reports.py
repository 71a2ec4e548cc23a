"""``terril report savings|tertiaire`` and ``terril import``: reports and historic imports.

The numbers come from :mod:`analytics.savings`, :mod:`analytics.tertiaire` and
:mod:`analytics.imports`; what is written to or read from InfluxDB from
:mod:`analytics.jobs.imported`, :mod:`analytics.jobs.savings` and
:mod:`analytics.jobs.tertiaire`; ``--simulate`` feeds the reports from the fleet simulator
(:mod:`terril.cli.simulated_inputs`). This module reads the options and prints.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import typer

from analytics.jobs.imported import STATION_RE, commit_import, existing_in_span
from analytics.jobs.tertiaire import query_tertiaire_statuses
from analytics.imports import KINDS, ImportResult, parse_import
from terril.cli._common import (
    ConfigOpt, DataDirOpt, RegistryOpt, console, err_console, influx_client, settings_and_registry, town_today,
    unknown_site,
)
from terril.errors import ConfigError, ImportFileError, InfluxError, StackError, TerrilError
from terril.ids import validate_id

report_app = typer.Typer(help="Savings and Décret tertiaire reports (PDF, XLSX, CSV, JSON; fr/en).", no_args_is_help=True)


def _iso_local(t_ns: int, timezone: str) -> str:
    """``t_ns`` as an ISO time in ``timezone`` (the town's ``[town] timezone``)."""
    return dt.datetime.fromtimestamp(t_ns / 1e9, ZoneInfo(timezone)).isoformat()


def _why_nothing_kept(result: ImportResult, lang: str) -> str:
    from analytics.imports.core import ACCEPTED_UNITS
    from analytics.imports.messages import reason_text, text

    by = result.rejected_by_reason()
    if not by:
        return text("no_rows", lang)
    reason, count = max(by.items(), key=lambda kv: kv[1])
    if reason == "unknown_unit":
        return text("unknown_unit_rows", lang, accepted=", ".join(ACCEPTED_UNITS))
    if len(result.rejected) == 1:
        return text("one_rejected", lang, reason=reason_text(reason, lang))
    return text("all_rejected", lang, n=len(result.rejected), reason=reason_text(reason, lang), count=count)


def _said_in(lang: str, err: TerrilError) -> TerrilError:
    """Mark an error whose message is written in ``lang``, so that its prefix is in the same language."""
    return err.said_in(lang)


def import_cmd(
    file: Annotated[Path, typer.Argument(help="File to import (CSV, JSON, XML, XLSX, or any of them gzipped).",
                                         exists=True, dir_okay=False)],
    meter: Annotated[str, typer.Option(help="Registry meter id the data belongs to.")],
    source: Annotated[str, typer.Option(help="Short id of the origin, e.g. enedis-2023 (stored as a tag).")],
    kind: Annotated[str, typer.Option(help="Format: auto (detect), or one of: " + ", ".join(KINDS[1:])
                                      + " (see docs/savings.md).")] = "auto",
    unit: Annotated[Optional[str], typer.Option(help="Unit of the values when the file has none "
                                                "(kWh, MWh, Wh, W, kW, m3, therm, °C).")] = None,
    kwh_per_m3: Annotated[Optional[float], typer.Option(help="Gas conversion coefficient [kWh/m³] (default: the meter's).")] = None,
    step_min: Annotated[Optional[float], typer.Option(help="Load-curve interval [min] (default: from the file).")] = None,
    station: Annotated[Optional[str], typer.Option(help="Weather station to keep (NUM_POSTE, SYNOP numer_sta); "
                                                   "stored as the tag `station`.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Validate and report what would be kept and rejected; write nothing.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    lang: Annotated[Optional[str], typer.Option(help="fr or en (default: the town's language, else fr).")] = None,
    registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
) -> None:
    """Import historic data (utility exports, gas, invoices, weather) into `imported`."""
    from analytics.imports.messages import LANGS, error_text, note_text, reason_text, sums_text, text

    settings, reg = settings_and_registry(config, data_dir, registry)
    lang = lang or getattr(reg.town, "language", None) or "fr"
    if lang not in LANGS:
        raise ConfigError(f"--lang must be fr or en, not {lang!r}")
    validate_id(source, "source")
    m = reg.meter_by_id.get(meter)
    if m is None:
        raise ConfigError(f"unknown meter {meter!r}: see `terril registry show`")
    if station is not None and not STATION_RE.match(station.strip()):
        raise ConfigError(f"bad --station {station!r}: letters, digits, - and _ only")
    try:
        data = file.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read {file}: {err.strerror}") from err
    try:
        # the town's zone sets the local days of daily values and of times without an offset
        result = parse_import(data, kind, tz=ZoneInfo(reg.town.timezone), unit=unit,
                              kwh_per_m3=kwh_per_m3 or m.gas_kwh_per_m3, step_min=step_min, station=station)
    except ImportFileError as err:
        raise _said_in(lang, ImportFileError(err.reason, f"{file.name}: {error_text(err, lang)}", **err.params)) from None
    except (ValueError, KeyError, IndexError, TypeError, OverflowError) as err:  # a damaged file the parsers missed
        raise _said_in(lang, ImportFileError(
            "bad_file", f"{file.name}: {text('bad_file', lang, kind=kind, error=type(err).__name__)}")) from None
    if not result.values:
        raise _said_in(lang, ImportFileError("nothing_kept", text("nothing_kept", lang, file=file.name,
                                                                  why=_why_nothing_kept(result, lang))))
    if result.carriers and m.carrier not in result.carriers:
        raise _said_in(lang, ConfigError(text("carrier", lang, meter=m.id, carrier=m.carrier,
                                              what=result.format or result.kind,
                                              allowed=f" {text('or', lang)} ".join(result.carriers))))
    sid = result.station or (station.strip() if station else "")
    if sid and not STATION_RE.match(sid):
        raise ImportFileError("bad_station", f"{file.name}: station id {sid!r} is not a valid tag")
    tag_station = sid if result.kind == "temperature" else None
    t0, t1 = result.values[0].time_ns, result.values[-1].time_ns
    field = result.main_field()
    written = 0
    overwritten: int | None = 0
    if dry_run:
        try:  # a dry run works without the database: the overwrite count is then unknown
            with influx_client(settings) as client:
                overwritten = existing_in_span(client, m.id, result.kind, tag_station, field, t0, t1)
        except (InfluxError, StackError):
            overwritten = None
    else:
        with influx_client(settings) as client:
            written, overwritten = commit_import(client, reg, m, result, source, station=sid or None)
        # the same audit log as the portal's imports: its Imports page lists this one too
        from portal.audit import AuditLog

        AuditLog(settings.data_dir).record("cli", "imported", m.id, site=m.site, file=file.name, kind=result.kind,
                                           source=source, rows_read=result.rows_read, rows_kept=result.rows_kept,
                                           rejected=len(result.rejected), points_written=written,
                                           points_overwritten=overwritten, sha256=hashlib.sha256(data).hexdigest())
    sums = result.sums()
    tz = reg.town.timezone  # the summary's times are the town's local times
    summary = {"file": str(file), "format": result.format, "kind": result.kind, "unit": result.unit,
               "station": sid or None, "rows_read": result.rows_read, "rows_kept": result.rows_kept,
               "rejected": result.rejected_by_reason(), "gaps": len(result.gaps), "step_s": result.step_s,
               "first": _iso_local(t0, tz), "last": _iso_local(t1, tz), "sums": sums,
               "ambiguous_times": result.ambiguous_times, "dry_run": dry_run,
               "points_written": written, "points_overwritten": overwritten, "notes": list(result.notes)}
    if json_out:
        print(json.dumps(summary, ensure_ascii=False))
        return
    console.print(text("summary", lang, file=file.name, format=result.format, read=result.rows_read,
                       kept=result.rows_kept, rejected=len(result.rejected), gaps=len(result.gaps)), highlight=False, markup=False)
    first_shown, last_shown = summary["first"], summary["last"]
    if max(v.span_s for v in result.values) > 86_400 + 3_600:
        # periods (invoices, months, meter readings): their days, up to the last period's last day
        zone = ZoneInfo(tz)
        last_end_s = (t1 + round(result.values[-1].span_s * 1e9)) // 10**9 - 1  # the last second it covers
        first_shown = dt.datetime.fromtimestamp(t0 // 10**9, zone).date().isoformat()
        last_shown = dt.datetime.fromtimestamp(last_end_s, zone).date().isoformat()
    console.print("  " + text("span", lang, first=first_shown, last=last_shown,
                              sums=sums_text(sums, result.rows_kept, lang)),
                  highlight=False, markup=False)
    for reason, n in sorted(result.rejected_by_reason().items()):
        first = next(r for r in result.rejected if r.reason == reason)
        console.print(text("reason", lang, reason=reason_text(reason, lang), n=n, line=first.line,
                           text=first.text[:60]), highlight=False, markup=False)
    for note in result.notes:
        console.print(text("note", lang, note=note_text(note, lang)), highlight=False, markup=False)
    if dry_run:
        console.print(text("dry_run", lang, n=result.rows_kept, over="?" if overwritten is None else overwritten),
                      highlight=False, markup=False)
        return
    console.print(text("written", lang, written=written, meter=m.id, source=source, kind=result.kind,
                       station=f", station {sid}" if tag_station else ""), highlight=False, markup=False)
    if overwritten:
        console.print(text("overwrote", lang, n=overwritten), highlight=False, markup=False)


def _check_format_lang(format: str, lang: str | None, town_lang: str = "fr") -> None:
    """A bad --lang (said in both languages), then a bad --format (in the report's language)."""
    from analytics.reports.i18n import t
    from analytics.reports.render import FORMATS

    if lang is not None and lang not in ("fr", "en"):
        raise ConfigError(f"--lang {lang!r}: expected fr or en / attendu fr ou en")
    if format not in FORMATS:
        words = lang or town_lang
        raise _said_in(words, ConfigError(t("cli.bad_format", words, format=repr(format), formats=", ".join(FORMATS))))


def _sites(reg, site: list[str] | None, portfolio: bool, lang: str = "en") -> list[str]:  # noqa: ANN001
    from analytics.reports.i18n import t

    if portfolio:
        return [s.id for s in reg.sites if any(m.site == s.id and m.carrier in ("electricity", "gas", "heat")
                                                for m in reg.meters)]
    if not site:
        raise _said_in(lang, ConfigError(t("cli.sites_missing", lang)))
    for s in site:
        validate_id(s, "site")
        if s not in reg.site_by_id:
            raise unknown_site(reg, s, lang)
    return list(site)


@report_app.command("savings")
def report_savings_cmd(
    baseline: Annotated[str, typer.Option(help="Baseline period START..END (dates, inclusive).")],
    period: Annotated[str, typer.Option(help="Reporting period START..END (dates, inclusive).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file (.zip or folder for csv).")],
    site: Annotated[Optional[list[str]], typer.Option("--site", help="Site id (repeatable).")] = None,
    portfolio: Annotated[bool, typer.Option(help="Every site with energy meters.")] = False,
    format: Annotated[str, typer.Option("--format", help="pdf, xlsx, csv or json.")] = "pdf",
    lang: Annotated[Optional[str], typer.Option(help="fr or en (default: the registry's town.language).")] = None,
    simulate: Annotated[Optional[int], typer.Option(help="Use the fleet simulator with this seed instead of InfluxDB.")] = None,
    include_unqualified: Annotated[bool, typer.Option(
        help="Also count meters whose model does not qualify (indicative, with a warning in the report).")] = False,
    write_monthly: Annotated[bool, typer.Option(help="Write savings_monthly points to InfluxDB.")] = True,
    registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
) -> None:
    """Measured savings (IPMVP C/B, ASHRAE G14 uncertainty) for sites or the portfolio."""
    from rich.progress import Progress

    from analytics.reports.inputs import query_input_bundle
    from terril.cli.simulated_inputs import simulated_input_bundle
    from analytics.reports.render import write_report
    from analytics.reports.i18n import t
    from analytics.reports.savings_report import build_savings_report, compute_savings, savings_summary_line
    from analytics.savings import Period, PeriodProblem, measurable_periods, value_factors_from_prices

    settings, reg = settings_and_registry(config, data_dir, registry)
    _check_format_lang(format, lang, reg.town.language or "fr")
    lang = lang or reg.town.language
    try:
        base, rep = Period.parse(baseline), Period.parse(period)
    except ValueError as err:
        raise _said_in(lang, ConfigError(t("periods.bad", lang, error=err))) from None
    if simulate is None:  # the simulator has no today: any period is simulated
        try:
            rep, notes = measurable_periods(base, rep, town_today())
        except PeriodProblem as problem:
            raise _said_in(lang, ConfigError(t(problem.key, lang, **problem.fmt))) from None
        for key, fmt in notes:
            err_console.print(t(key, lang, **fmt), highlight=False, markup=False)
    elif rep.start <= base.end:
        raise _said_in(lang, ConfigError(t("periods.overlap", lang, reporting=f"{rep.start}..{rep.end}",
                                           baseline=f"{base.start}..{base.end}",
                                           first=(base.end + dt.timedelta(days=1)).isoformat())))
    sites = _sites(reg, site, portfolio, lang)
    start, end = min(base.start, rep.start), max(base.end, rep.end)
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task(t("cli.progress.loading", lang), total=None)
        if simulate is not None:
            bundle = simulated_input_bundle(reg, sites, start, end, seed=simulate)
        else:
            with influx_client(settings) as client:
                bundle = query_input_bundle(client, reg, sites, start, end)
        progress.update(task, description=t("cli.progress.fitting", lang), total=len(bundle.meters), completed=0)
        result = compute_savings(bundle, reg, sites, base, rep, factors=value_factors_from_prices(settings.prices),
                                 progress=lambda _m: progress.advance(task), include_unqualified=include_unqualified)
        progress.update(task, description=t("cli.progress.rendering", lang), total=None)
        path = write_report(build_savings_report(result, reg, lang), output, format)
    written = 0
    if write_monthly and simulate is None:
        with influx_client(settings) as client:
            from analytics.jobs.savings import write_savings_monthly

            written = write_savings_monthly(client, result)
    console.print(f"{path}: {savings_summary_line(result, lang)}"
                  + (f" ; {written} points savings_monthly" if lang == "fr" else f"; {written} savings_monthly points"),
                  markup=False, highlight=False)


def _check_tertiaire_year(reg, year: int, lang: str) -> None:  # noqa: ANN001
    """A declared year has begun and follows a subject building's reference year; else a clear error."""
    from analytics.reports.i18n import t
    from analytics.reports.tertiaire_report import subject_sites

    today = town_today()
    if year > today.year:
        raise _said_in(lang, ConfigError(t("cli.tertiaire.future_year", lang, year=year, today=today.year,
                                           last=today.year - 1)))
    firsts = [int(s.reference_year) for s in subject_sites(reg) if s.reference_year]
    if firsts and year < min(firsts):
        raise _said_in(lang, ConfigError(t("cli.tertiaire.before_reference", lang, year=year, first=min(firsts))))


@report_app.command("tertiaire")
def report_tertiaire_cmd(
    year: Annotated[int, typer.Option(help="Declared year.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file.")],
    format: Annotated[str, typer.Option("--format", help="pdf, xlsx, csv or json.")] = "pdf",
    lang: Annotated[Optional[str], typer.Option(help="fr or en (default: the registry's town.language).")] = None,
    operat: Annotated[Optional[Path], typer.Option(help="Also write the OPERAT worksheet CSV here.")] = None,
    dju_reference: Annotated[Optional[float], typer.Option(help="Reference annual DJU (default: mean of the years read).")] = None,
    simulate: Annotated[Optional[int], typer.Option(help="Use the fleet simulator with this seed instead of InfluxDB.")] = None,
    registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
) -> None:
    """Décret tertiaire trajectory of every subject building, and the OPERAT export."""
    from analytics.reports.i18n import t
    from analytics.reports.render import write_report
    from analytics.reports.tertiaire_report import build_tertiaire_report
    from terril.cli.simulated_inputs import simulated_statuses
    from analytics.tertiaire import operat_csv, operat_layout, operat_rows

    settings, reg = settings_and_registry(config, data_dir, registry)
    _check_format_lang(format, lang, reg.town.language or "fr")
    lang = lang or reg.town.language
    _check_tertiaire_year(reg, year, lang)
    if simulate is not None:
        statuses, sha, rng, dju_ref = simulated_statuses(reg, year, simulate)
        dju_ref = dju_reference or dju_ref
    else:
        with influx_client(settings) as client:
            statuses, sha, rng, dju_ref = query_tertiaire_statuses(client, reg, year, dju_reference)
    rep = build_tertiaire_report(statuses, reg, year, lang, input_sha256=sha, data_range=rng, dju_reference=dju_ref)
    path = write_report(rep, output, format)
    if operat is not None:
        rows = [r for s in statuses for r in operat_rows(s, efa_name=reg.site_by_id[s.site].name,
                                                         activity_category=reg.site_by_id[s.site].kind, lang=lang)]
        operat.write_bytes(operat_csv(rows, operat_layout(lang)))
    console.print(f"{path}: " + t("cli.tertiaire.line", lang, n=len(statuses),
                                  late=sum(s.status == "late" for s in statuses),
                                  no_data=sum(s.status == "no_data" for s in statuses))
                  + (t("cli.tertiaire.operat", lang, path=operat) if operat else ""), markup=False, highlight=False)
