"""The Décret tertiaire report: per subject building, reference and current consumption per
carrier, climate-adjusted (estimate), trajectory and status; plus the OPERAT worksheet."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import numpy as np

from analytics.reports.i18n import format_number, t
from analytics.reports.inputs import InputBundle
from analytics.reports.model import Figure, Report, Section, Table, report_metadata
from analytics.reports.render import PALETTE
from analytics.tertiaire import (
    CABS_YEAR, MILESTONES, MIN_FLOOR_AREA_M2, TertiaireStatus, building_status, carrier_year, heating_share,
    no_data_reasons, target_reduction,
)
from terril.registry import Registry, Site
from terril.tertiaire_cabs import cabs_2030, climate_zone_of_department


def subject_sites(registry: Registry) -> list[Site]:
    """Sites with ``tertiaire = true`` and ≥ 1 000 m² (with or without a reference year: those
    without one are reported with "données insuffisantes" on the relative target)."""
    return [s for s in registry.sites if s.tertiaire and s.floor_area_m2 >= MIN_FLOOR_AREA_M2]


def site_cabs(site: Site, lang: str = "fr") -> tuple[float | None, str]:
    """The building's 2030 Cabs [kWh/m²] and where it comes from: the registry's
    ``tertiaire_cabs_kwh_m2`` (OPERAT's value) when given, else the arrêté's table for its
    ``tertiaire_category``, climate zone and altitude; ``(None, "")`` without either."""
    if site.tertiaire_cabs_kwh_m2 is not None:
        return float(site.tertiaire_cabs_kwh_m2), site.tertiaire_cabs_source
    if site.tertiaire_category is None or site.tertiaire_climate_zone is None or site.tertiaire_altitude_m is None:
        return None, ""
    c = cabs_2030(site.tertiaire_category, site.tertiaire_climate_zone, site.tertiaire_altitude_m,
                  site.tertiaire_hours_per_year, occupancy_pct=site.tertiaire_occupancy_pct,
                  floor_area_per_unit_m2=site.tertiaire_floor_area_per_unit_m2, tv_broadcast=site.tertiaire_tv_broadcast)
    iiu = []  # the usage intensity indicators that modulated USE, as given
    if c.hours_per_year is not None:
        iiu.append(t("tertiaire.iiu_hours", lang, h=format_number(c.hours_per_year, lang)))
    if c.occupancy_pct is not None:
        iiu.append(t("tertiaire.iiu_occupancy", lang, pct=format_number(c.occupancy_pct, lang)))
    if c.floor_area_per_unit_m2 is not None:
        iiu.append(t(f"tertiaire.iiu_area.{c.sub_category.area_unit}", lang,
                     m2=format_number(c.floor_area_per_unit_m2, lang)))
    if c.tv_broadcast:
        iiu.append(t("tertiaire.iiu_tv", lang))
    hours = f" ({', '.join(iiu)})" if iiu else ""
    zone = c.zone
    if site.tertiaire_department is not None and climate_zone_of_department(site.tertiaire_department) == c.zone:
        zone += t("tertiaire.zone_department", lang, d=site.tertiaire_department)  # the zone the arrêté gives it
    return c.cabs_kwh_m2, t("tertiaire.cabs_from_table", lang, page=c.sub_category.annex_page,
                            label=c.sub_category.label, zone=zone,
                            band=t(f"tertiaire.altitude.{c.altitude_band}", lang),
                            cvc=format_number(c.cvc_kwh_m2, lang),
                            use=format_number(c.use_kwh_m2, lang, 0 if float(c.use_kwh_m2).is_integer() else 1),
                            hours=hours)


def reference_years(sites: Sequence[Site]) -> list[int]:
    """The distinct reference years of ``sites`` (those without one are left out)."""
    return sorted({int(s.reference_year) for s in sites if s.reference_year})


def compute_statuses(registry: Registry, year: int, reference: dict[int, InputBundle], current: InputBundle,
                     dju_reference: float) -> list[TertiaireStatus]:
    """Statuses of the subject sites; ``reference`` maps a reference year to its bundle."""
    out = []
    for site in subject_sites(registry):
        ref_b = reference.get(int(site.reference_year or 0))
        ref, cur = [], []
        for b, y, acc in ((ref_b, site.reference_year, ref), (current, year, cur)):
            if b is None:
                continue
            for md in b.meters:
                if md.site != site.id or md.carrier == "pv":
                    continue
                share = heating_share(md.carrier, site.heating_carrier)
                acc.append(carrier_year(md.carrier, int(y), b.dates, md.energy_kwh, b.hdd_of(md.site), share,
                                        dju_reference, md.periods))
        out.append(building_status(site.id, site.floor_area_m2, int(site.reference_year or 0), year, ref, cur,
                                   target=site.tertiaire_target, cabs_kwh_m2=site_cabs(site)[0]))
    return out


def _draw_trajectory(st: TertiaireStatus, lang: str):  # noqa: ANN202
    def draw(ax) -> None:  # noqa: ANN001
        years = np.arange(st.reference_year, 2051)
        target = [(1 - target_reduction(int(y), st.reference_year)) * st.reference_kwh / 1000 for y in years]
        ax.plot(years, target, color=PALETTE["primary"], lw=1.4, label=t("tertiaire.legend.target", lang))
        for y, r in MILESTONES:
            ax.plot([y], [(1 - r) * st.reference_kwh / 1000], "o", color=PALETTE["primary"], ms=4)
        raw = sum(c.raw_kwh for c in st.current) / 1000
        colour = PALETTE["accent"] if st.status in ("on_track", "achieved") else PALETTE["warn"]
        ax.plot([st.reference_year], [st.reference_kwh / 1000], "s", color=PALETTE["grey"], ms=6)
        ax.plot([st.year], [st.current_kwh / 1000], "D", color=colour, ms=7, label=t("tertiaire.legend.adjusted", lang))
        ax.plot([st.year], [raw], "x", color=PALETTE["actual"], ms=7, label=t("tertiaire.legend.raw", lang))
        if np.isfinite(st.cabs_kwh_m2):
            cabs_mwh = st.cabs_kwh_m2 * st.floor_area_m2 / 1000
            ax.plot([CABS_YEAR, 2050], [cabs_mwh, cabs_mwh], ls="--", color=PALETTE["accent"], lw=1.2,
                    label=t("tertiaire.legend.cabs", lang))
        ax.set_ylabel("MWh")
        ax.set_ylim(0, None)
        ax.yaxis.set_major_formatter(lambda v, _: format_number(v, lang))
        ax.grid(True, color="#dddddd", lw=0.5)
        ax.legend(loc="lower left", frameon=False)
    return draw


def _why_parts(st: TertiaireStatus, lang: str, target: str | None) -> list[tuple[str, str]]:
    """Each reason of a "not enough data" as (what is missing, what to do), from one text per reason
    (``tertiaire.why.*``: « what : what to do »)."""
    sep = " : " if lang == "fr" else ": "
    out = []
    for r in no_data_reasons(st, target):
        text = t(f"tertiaire.why.{r}", lang, year=st.reference_year if r.startswith("reference") else st.year)
        what, _, do = text.partition(sep)
        out.append((what, do))
    return out


def no_data_why(st: TertiaireStatus, lang: str, target: str | None = None, *, advice: bool = True) -> str | None:
    """Why a building has "not enough data" on ``target`` (default: the one its entity chose) and, with
    ``advice``, what to do, in ``lang`` (None when it has enough): the PDF and the portal's page say
    the same. The PDF's table gives what is missing, and the advice once in its note
    (:func:`no_data_advice`): in a narrow column the whole text ran over its 12 lines."""
    parts = _why_parts(st, lang, target)
    if not parts:
        return None
    sep = " : " if lang == "fr" else ": "
    return (" ; " if lang == "fr" else "; ").join(f"{what}{sep}{do}" if advice and do else what
                                                   for what, do in parts)


def no_data_advice(statuses: Sequence[TertiaireStatus], lang: str, target: str | None = None) -> str:
    """What to do about every "not enough data" of ``statuses``, each advice once (a table's note)."""
    advice = list(dict.fromkeys(do for s in statuses for _, do in _why_parts(s, lang, target) if do))
    if not advice:
        return ""
    return t("tertiaire.note.no_data", lang, advice=(" ; " if lang == "fr" else "; ").join(advice))


def build_tertiaire_report(statuses: Sequence[TertiaireStatus], registry: Registry, year: int, lang: str, *,
                           input_sha256: str, data_range: str, dju_reference: float,
                           generated_at: dt.datetime | None = None) -> Report:
    sites = registry.site_by_id
    n_on = sum(s.status in ("on_track", "achieved") for s in statuses)
    n_late = sum(s.status == "late" for s in statuses)
    n_nodata = sum(s.status == "no_data" for s in statuses)

    def st(code: str) -> str:
        return t(f"tertiaire.status.{code}", lang)

    status_rows = tuple(
        (sites[s.site].name, s.floor_area_m2, t(f"tertiaire.target.{s.target_kind}", lang), st(s.status),
         st(s.relative_status), st(s.absolute_status)) for s in statuses)
    status_table = Table("status", t("tertiaire.table.status", lang),
                         (t("col.site", lang), t("col.surface_m2", lang), t("col.target_chosen", lang),
                          t("col.status", lang), t("col.status_relative", lang), t("col.status_absolute", lang)),
                         status_rows, notes=t("tertiaire.note.status", lang),
                         column_keys=("site", "surface_m2", "target", "status", "relative_status", "absolute_status"))
    relative_rows = tuple(
        (sites[s.site].name, s.reference_year or None, s.reference_kwh if s.reference else None,
         s.current_kwh if s.current else None, 100 * s.reduction, 100 * s.target, s.gap_kwh, st(s.relative_status),
         no_data_why(s, lang, "relative", advice=False)) for s in statuses)
    relative_table = Table("relative", t("tertiaire.table.relative", lang),
                           (t("col.site", lang), t("col.reference_year", lang), t("col.reference_kwh", lang),
                            t("col.adjusted_kwh", lang), t("col.reduction_pct", lang), t("col.target_pct", lang),
                            t("col.gap_kwh", lang), t("col.status", lang), t("col.note", lang)), relative_rows,
                           notes=no_data_advice(statuses, lang, "relative"),
                           column_keys=("site", "reference_year", "reference_kwh", "adjusted_kwh", "reduction_pct",
                                        "target_pct", "gap_kwh", "status", "note"))
    absolute_rows = tuple(
        (sites[s.site].name, s.cabs_kwh_m2, s.reference_intensity_kwh_m2, s.intensity_kwh_m2, s.absolute_path_kwh_m2,
         st(s.absolute_status), site_cabs(sites[s.site], lang)[1] or None) for s in statuses)
    absolute_table = Table("absolute", t("tertiaire.table.absolute", lang),
                           (t("col.site", lang), t("col.cabs_kwh_m2", lang), t("col.reference_kwh_m2", lang),
                            t("col.kwh_m2", lang), t("col.path_kwh_m2", lang), t("col.status", lang),
                            t("col.source", lang)), absolute_rows, notes=t("tertiaire.note.absolute", lang),
                           column_keys=("site", "cabs_kwh_m2", "reference_intensity_kwh_m2", "intensity_kwh_m2",
                                        "path_kwh_m2", "status", "cabs_source"))
    year_rows = tuple((sites[s.site].name, t(f"carrier.{c.carrier}", lang), c.year, c.raw_kwh, c.dju,
                       100 * c.heating_share, c.adjusted_kwh, 100 * c.coverage, c.measured_days, c.period_days)
                      for s in statuses for c in (*s.reference, *s.current))
    years_table = Table("years", t("tertiaire.table.years", lang),
                        (t("col.site", lang), t("col.carrier", lang), t("col.year", lang), t("col.raw_kwh", lang),
                         t("col.dju", lang), t("col.heating_share_pct", lang),
                         t("col.adjusted_kwh", lang), t("col.coverage_pct", lang), t("col.measured_days", lang),
                         t("col.invoice_days", lang)), year_rows,
                        column_keys=("site", "carrier", "year", "raw_kwh", "dju", "heating_share_pct", "adjusted_kwh",
                                     "coverage_pct", "measured_days", "invoice_days"),
                        notes=(f"DJU de référence : {format_number(dju_reference, lang)} (méthode COSTIC, base 18 °C). "
                               if lang == "fr" else
                               f"Reference HDD: {format_number(dju_reference, lang)} (COSTIC method, base 18 °C). ")
                        + t("tertiaire.note.origin", lang))
    summary = Section(t("tertiaire.summary.title", lang),
                      (t("tertiaire.summary.lead", lang, n=len(statuses), year=year, on_track=n_on, late=n_late,
                         no_data=n_nodata),
                       t("tertiaire.summary.targets", lang,
                         n_abs=sum(s.target_kind == "absolute" for s in statuses),
                         n_rel=sum(s.target_kind == "relative" for s in statuses)),
                       t("tertiaire.summary.caveat", lang)), (status_table, relative_table, absolute_table))
    sections = [Section(t("tertiaire.fig.trajectory", lang), (), (),
                        tuple(Figure(f"traj-{s.site}", sites[s.site].name, _draw_trajectory(s, lang), height_in=2.9)
                              for s in statuses if s.relative_status != "no_data"))]
    sections.append(Section(t("tertiaire.table.years", lang), (), (years_table,)))
    params = json.dumps({"dju_reference": round(dju_reference, 1), "milestones": MILESTONES,
                         "heating_shares": {s.site: {c.carrier: c.heating_share for c in s.current} for s in statuses}},
                        separators=(",", ":"))
    md = report_metadata(data_range=data_range, input_sha256=input_sha256, model_parameters=params,
                         generated_at=generated_at)
    return Report("tertiaire", lang, t("tertiaire.title", lang),
                  t("tertiaire.subtitle", lang, town=registry.town.name, year=year), summary, tuple(sections), md)


__all__ = ["build_tertiaire_report", "compute_statuses", "reference_years", "subject_sites"]
