"""Command-line glue for reports and historic imports: ``terril report savings|tertiaire``
and ``terril import``, plus the two jobs that write to InfluxDB (``imported`` points and
``savings_monthly`` points). The numbers come from :mod:`analytics.savings`,
:mod:`analytics.tertiaire` and :mod:`analytics.imports`; this module only wires I/O.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from analytics.imports import KINDS, ImportResult, parse_import
from terril.errors import ConfigError
from terril.ids import validate_id
from terril.influx import InfluxClient
from terril.lineprotocol import format_point
from terril.readings import Point

console = Console()
err_console = Console(stderr=True)
report_app = typer.Typer(help="Savings and Décret tertiaire reports (PDF, XLSX, CSV, JSON; fr/en).", no_args_is_help=True)

RegistryOpt = Annotated[Optional[Path], typer.Option("--registry", envvar="TERRIL_REGISTRY", help="Registry file (TOML).")]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", envvar="TERRIL_DATA_DIR", help="Local stack data folder.")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", envvar="TERRIL_CONFIG", help="Settings file (TOML).")]


# ---------------------------------------------------------------------------------------
# jobs


def imported_points(result: ImportResult, *, site: str, meter: str, source: str, kind: str) -> list[Point]:
    """``imported`` points of a parsed file: tags site, meter, source, kind; fields with units in their names."""
    for value, what in ((site, "site"), (meter, "meter"), (source, "source")):
        validate_id(value, what)
    tags = {"site": site, "meter": meter, "source": source, "kind": kind}
    return [Point("imported", tags, dict(v.fields), v.time_ns) for v in result.values]


def write_imported(client: InfluxClient, result: ImportResult, *, site: str, meter: str, source: str, kind: str,
                   batch: int = 5000) -> int:
    """Write an import's points through :func:`terril.lineprotocol.format_point`; returns the count."""
    lines = [format_point(p) for p in imported_points(result, site=site, meter=meter, source=source, kind=kind)]
    for i in range(0, len(lines), batch):
        client.write_lines(("\n".join(lines[i:i + batch]) + "\n").encode())
    return len(lines)


def write_savings_monthly(client: InfluxClient, result) -> int:  # noqa: ANN001
    """Write the ``savings_monthly`` points of a :class:`~analytics.reports.savings_report.SavingsResult`."""
    from analytics.reports.savings_report import savings_monthly_points

    lines = [format_point(p) for p in savings_monthly_points(result)]
    if lines:
        client.write_lines(("\n".join(lines) + "\n").encode())
    return len(lines)


# ---------------------------------------------------------------------------------------
# commands


def _settings_registry(config: Path | None, data_dir: Path | None, registry: Path | None):  # noqa: ANN202
    from terril.registry import load_registry
    from terril.settings import load_settings

    settings = load_settings(config, data_dir=data_dir, registry=registry)
    return settings, load_registry(settings.registry)


def _client(settings) -> InfluxClient:  # noqa: ANN001
    from terril.endpoints import influx_endpoint

    return influx_endpoint(settings, "analytics").client(settings.influx.timeout_s)


def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV file to import.", exists=True, dir_okay=False)],
    kind: Annotated[str, typer.Option(help=f"Layout: {', '.join(KINDS)} (see docs/savings.md).")],
    meter: Annotated[str, typer.Option(help="Registry meter id the data belongs to.")],
    source: Annotated[str, typer.Option(help="Short id of the origin, e.g. enedis-2023 (stored as a tag).")],
    unit: Annotated[Optional[str], typer.Option(help="Unit of the values when the file has none (kWh, Wh, W, m3, °C…).")] = None,
    kwh_per_m3: Annotated[Optional[float], typer.Option(help="Gas conversion coefficient [kWh/m³] (default: the meter's).")] = None,
    step_min: Annotated[Optional[float], typer.Option(help="Load-curve interval [min] (default: from the file).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Validate and report only; write nothing.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
) -> None:
    """Import historic data (distributor exports, gas, invoices, temperatures) into `imported`."""
    settings, reg = _settings_registry(config, data_dir, registry)
    validate_id(source, "source")
    m = reg.meter_by_id.get(meter)
    if m is None:
        raise ConfigError(f"unknown meter {meter!r}: see `terril registry show`")
    result = parse_import(file.read_bytes(), kind, unit=unit, kwh_per_m3=kwh_per_m3 or m.gas_kwh_per_m3,
                          step_min=step_min)
    written = 0
    if not dry_run and result.values:
        with _client(settings) as client:
            written = write_imported(client, result, site=m.site, meter=m.id, source=source, kind=kind)
    summary = {"file": str(file), "kind": kind, "unit": result.unit, "rows_read": result.rows_read,
               "rows_kept": result.rows_kept, "rejected": result.rejected_by_reason(), "gaps": len(result.gaps),
               "ambiguous_times": result.ambiguous_times, "points_written": written, "notes": list(result.notes)}
    if json_out:
        print(json.dumps(summary))
        return
    console.print(f"{file.name}: {result.rows_read} rows read, {result.rows_kept} kept, "
                  f"{len(result.rejected)} rejected, {len(result.gaps)} gaps; {written} points written"
                  + (" (dry run)" if dry_run else ""))
    for reason, n in sorted(result.rejected_by_reason().items()):
        first = next(r for r in result.rejected if r.reason == reason)
        console.print(f"  {reason}: {n} (first at line {first.line}: {first.text[:60]!r})")
    for note in result.notes:
        console.print(f"  note: {note}")


def _check_format_lang(format: str, lang: str | None) -> None:
    from analytics.reports.render import FORMATS

    if format not in FORMATS:
        raise ConfigError(f"--format {format!r}: expected one of {', '.join(FORMATS)}")
    if lang is not None and lang not in ("fr", "en"):
        raise ConfigError(f"--lang {lang!r}: expected fr or en")


def _sites(reg, site: list[str] | None, portfolio: bool) -> list[str]:  # noqa: ANN001
    if portfolio:
        return [s.id for s in reg.sites if any(m.site == s.id and m.carrier in ("electricity", "gas", "heat")
                                                for m in reg.meters)]
    if not site:
        raise ConfigError("give --site S (repeatable) or --portfolio")
    for s in site:
        validate_id(s, "site")
        if s not in reg.site_by_id:
            raise ConfigError(f"unknown site {s!r}")
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

    from analytics.reports.inputs import query_input_bundle, simulated_input_bundle
    from analytics.reports.render import write_report
    from analytics.reports.i18n import t
    from analytics.reports.savings_report import build_savings_report, compute_savings, savings_summary_line
    from analytics.savings import Period, value_factors_from_prices

    _check_format_lang(format, lang)
    try:
        base, rep = Period.parse(baseline), Period.parse(period)
    except ValueError as err:
        raise ConfigError(f"bad period: {err}") from err
    settings, reg = _settings_registry(config, data_dir, registry)
    lang = lang or reg.town.language
    sites = _sites(reg, site, portfolio)
    start, end = min(base.start, rep.start), max(base.end, rep.end)
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task(t("cli.progress.loading", lang), total=None)
        if simulate is not None:
            bundle = simulated_input_bundle(reg, sites, start, end, seed=simulate)
        else:
            with _client(settings) as client:
                bundle = query_input_bundle(client, reg, sites, start, end)
        progress.update(task, description=t("cli.progress.fitting", lang), total=len(bundle.meters), completed=0)
        result = compute_savings(bundle, reg, sites, base, rep, factors=value_factors_from_prices(settings.prices),
                                 progress=lambda _m: progress.advance(task), include_unqualified=include_unqualified)
        progress.update(task, description=t("cli.progress.rendering", lang), total=None)
        path = write_report(build_savings_report(result, reg, lang), output, format)
    written = 0
    if write_monthly and simulate is None:
        with _client(settings) as client:
            written = write_savings_monthly(client, result)
    console.print(f"{path}: {savings_summary_line(result, lang)}"
                  + (f" ; {written} points savings_monthly" if lang == "fr" else f"; {written} savings_monthly points"),
                  markup=False, highlight=False)


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
    import numpy as np

    from analytics.reports.inputs import InputBundle, query_input_bundle
    from analytics.reports.render import input_hash, write_report
    from analytics.reports.tertiaire_report import (
        build_tertiaire_report, compute_statuses, reference_years, simulated_statuses, subject_sites,
    )
    from analytics.reports.i18n import t
    from analytics.tertiaire import operat_csv, operat_layout, operat_rows, year_total

    _check_format_lang(format, lang)
    settings, reg = _settings_registry(config, data_dir, registry)
    lang = lang or reg.town.language
    if simulate is not None:
        statuses, sha, rng, dju_ref = simulated_statuses(reg, year, simulate)
        dju_ref = dju_reference or dju_ref
    else:
        subj = subject_sites(reg)
        with _client(settings) as client:
            current = query_input_bundle(client, reg, [s.id for s in subj], dt.date(year, 1, 1), dt.date(year, 12, 31))
            reference: dict[int, InputBundle] = {}
            for ry in reference_years(subj):
                reference[ry] = query_input_bundle(client, reg, [s.id for s in subj if s.reference_year == ry],
                                                   dt.date(ry, 1, 1), dt.date(ry, 12, 31))
        bundles = [current, *reference.values()]
        djus = [year_total(b.dates, b.hdd_k_d, int(str(b.dates[0])[:4]))[0] for b in bundles]
        dju_ref = dju_reference or float(np.nanmean(djus))
        statuses = compute_statuses(reg, year, reference, current, dju_ref)
        sha = input_hash(*(b.sha256() for b in bundles))
        rng = f"reference years {sorted(reference)}; year {year}"
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


__all__ = ["import_cmd", "imported_points", "report_app", "write_imported", "write_savings_monthly"]
