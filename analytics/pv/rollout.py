"""The PV rollout, from experimentation to massification: register, funnel, and KPIs over time.

Pure functions over the registry (arrays with ``commissioned``, ``rollout_stage``,
``planned_kwp``; ``planned_roofs``; sites' ``eligible_roof_area_m2``) and over monthly energy
arrays computed by the jobs. A **roof** is a site: it is equipped when one of its arrays is
commissioned, eligible when the registry gives it an eligible roof area. Definitions and the
CO₂ factor's source: ``docs/pv.md`` § Rollout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from terril.registry import Registry
from terril.timeutil import local_date

STAGES: tuple[str, ...] = ("experimentation", "pilot", "deployment", "massification")


@dataclass(frozen=True, slots=True)
class EmissionFactor:
    """An emission factor with its provenance (values change every year: keep the vintage).

    Attributes
    ----------
    value_kg_per_kwh : float
        [kg CO2e/kWh]
    """

    factor_id: str
    name: str
    vintage: int
    value_kg_per_kwh: float
    source_url: str
    retrieved_on: str
    note: str = ""


#: Electricity, France continentale, "mix moyen – consommation" (location-based), vintage 2022:
#: 52.0 g CO2e/kWh, ADEME Base Empreinte. Secondary citation (public code quoting "52,0 gCO2/kWh
#: (millésime 2022)"); to be re-checked against the official Base Empreinte CSV before release.
ELECTRICITY_FR_MIX_2022 = EmissionFactor(
    factor_id="ademe-base-empreinte-electricite-mix-moyen-consommation-2022",
    name="Électricité, France continentale, mix moyen consommation",
    vintage=2022, value_kg_per_kwh=0.052,
    source_url="https://base-empreinte.ademe.fr/",
    retrieved_on="2025-01",
    note="secondary citation of ADEME Base Empreinte; ADEME recommends the 'mix moyen' factor for inventories",
)


@dataclass(frozen=True, slots=True)
class RolloutEntry:
    """One roof (site) or array in the rollout register.

    Attributes
    ----------
    status : str
        ``installed`` (commissioned on or before the date), ``planned`` (date in the future) or
        ``overdue`` (planned date passed, not installed).
    date : datetime.date
        Commissioning date, or planned date.
    kwp_installed, kwp_planned : float
        Installed power (0 when not installed) and planned power. [kWp]
    eligible_roof_area_m2 : float
        The site's eligible roof area. [m²]
    """

    site: str
    site_name: str
    array: str | None
    stage: str
    status: str
    date: dt.date
    kwp_installed: float
    kwp_planned: float
    technology: str | None
    eligible_roof_area_m2: float


def rollout_register(registry: Registry, at: dt.date) -> tuple[RolloutEntry, ...]:
    """Every array and planned roof with its stage and status on date ``at``, in date order."""
    out: list[RolloutEntry] = []
    for a in registry.pv_arrays:
        site = registry.site_by_id[a.site]
        installed = a.commissioned <= at
        out.append(RolloutEntry(
            site=a.site, site_name=site.name, array=a.id, stage=a.rollout_stage,
            status="installed" if installed else "planned", date=a.commissioned,
            kwp_installed=a.kwp if installed else 0.0, kwp_planned=a.planned_kwp or a.kwp,
            technology=a.technology, eligible_roof_area_m2=site.eligible_roof_area_m2))
    for r in registry.planned_roofs:
        site = registry.site_by_id[r.site]
        out.append(RolloutEntry(
            site=r.site, site_name=site.name, array=None, stage=r.stage,
            status="planned" if r.planned_date > at else "overdue", date=r.planned_date,
            kwp_installed=0.0, kwp_planned=r.planned_kwp, technology=None,
            eligible_roof_area_m2=site.eligible_roof_area_m2))
    return tuple(sorted(out, key=lambda e: (e.date, e.site, e.array or "")))


@dataclass(frozen=True, slots=True)
class StageFunnel:
    """One stage of the funnel on a date.

    Attributes
    ----------
    roofs_equipped : int
        Sites with at least one installed array of this stage.
    roofs_planned : int
        Sites of this stage with nothing installed yet.
    kwp_installed, kwp_planned : float
        Installed power, and the stage's planned total (installed and to come). [kWp]
    """

    stage: str
    roofs_equipped: int
    roofs_planned: int
    kwp_installed: float
    kwp_planned: float
    first_date: dt.date | None
    last_date: dt.date | None


def funnel(register: Sequence[RolloutEntry]) -> tuple[StageFunnel, ...]:
    """The funnel: per stage, roofs equipped / planned and kWp installed / planned."""
    out = []
    for stage in STAGES:
        es = [e for e in register if e.stage == stage]
        equipped = {e.site for e in es if e.status == "installed"}
        pending = {e.site for e in es if e.status != "installed"} - equipped
        dates = [e.date for e in es]
        out.append(StageFunnel(stage, len(equipped), len(pending), float(sum(e.kwp_installed for e in es)),
                               float(sum(e.kwp_planned for e in es)), min(dates) if dates else None,
                               max(dates) if dates else None))
    return tuple(out)


def eligible_roofs(registry: Registry) -> int:
    """Sites with an eligible roof area (the denominator of "roofs equipped / eligible")."""
    return sum(1 for s in registry.sites if s.eligible_roof_area_m2 > 0)


@dataclass(frozen=True, slots=True)
class RolloutKpi:
    """Rollout KPIs of one stage (or ``all``) at the start of one month.

    Attributes
    ----------
    kwp_installed : float
        Installed at the month's end. [kWp]
    kwp_planned : float
        Cumulative plan at the month's end: planned kWp of arrays commissioned and roofs planned
        by then. [kWp]
    roofs_equipped, roofs_eligible : int
        Equipped sites; eligible sites (``all`` only, else 0).
    production_cum_wh : float
        PV production from the first month given to this month's end. [Wh]
    co2_avoided_kg : float
        Cumulative self-consumed PV × electricity factor (location-based; exports not counted). [kg CO2e]
    pv_share_pct : float
        This month's production / the public buildings' electricity consumption (``all`` only). [%]
    """

    month: dt.date
    stage: str
    kwp_installed: float
    kwp_planned: float
    roofs_equipped: int
    roofs_eligible: int
    production_cum_wh: float
    co2_avoided_kg: float
    pv_share_pct: float


def _month_end(m: dt.date) -> dt.date:
    nxt = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def installed_at(registry: Registry, day: dt.date, stage: str = "all") -> tuple[float, float, int]:
    """(kWp installed, kWp planned to date, roofs equipped) on ``day`` for a stage or ``all``."""
    arrays = [a for a in registry.pv_arrays if stage == "all" or a.rollout_stage == stage]
    roofs = [r for r in registry.planned_roofs if stage == "all" or r.stage == stage]
    inst = [a for a in arrays if a.commissioned <= day]
    kwp = float(sum(a.kwp for a in inst))
    plan = float(sum(a.planned_kwp or a.kwp for a in inst) + sum(r.planned_kwp for r in roofs if r.planned_date <= day))
    return kwp, plan, len({a.site for a in inst})


def rollout_kpis(registry: Registry, months: Sequence[dt.date], production_wh: Mapping[str, np.ndarray],
                 self_consumed_wh: Mapping[str, np.ndarray], consumption_wh: np.ndarray,
                 factor: EmissionFactor = ELECTRICITY_FR_MIX_2022,
                 production_before_wh: Mapping[str, float] | None = None,
                 self_consumed_before_wh: Mapping[str, float] | None = None) -> tuple[RolloutKpi, ...]:
    """KPIs per month and stage (and ``all``).

    Parameters
    ----------
    months : sequence of date
        First days of consecutive months.
    production_wh, self_consumed_wh : mapping array id -> ndarray (len(months))
        Monthly production and self-consumed PV per array (NaN = unknown, counted as 0). [Wh]
    consumption_wh : ndarray (len(months))
        Monthly electricity consumption of the public buildings (import + self-consumed PV). [Wh]
    production_before_wh, self_consumed_before_wh : mapping array id -> float, optional
        Totals before the first month (to carry the cumulative figures). [Wh]
    """
    n = len(months)
    out: list[RolloutKpi] = []
    eligible = eligible_roofs(registry)
    before_p = production_before_wh or {}
    before_s = self_consumed_before_wh or {}
    for stage in (*STAGES, "all"):
        ids = [a.id for a in registry.pv_arrays if stage == "all" or a.rollout_stage == stage]
        prod = np.zeros(n)
        sc = np.zeros(n)
        for i in ids:
            if i in production_wh:
                prod += np.nan_to_num(np.asarray(production_wh[i], dtype=float))
            if i in self_consumed_wh:
                sc += np.nan_to_num(np.asarray(self_consumed_wh[i], dtype=float))
        cum_p = np.cumsum(prod) + sum(before_p.get(i, 0.0) for i in ids)
        cum_sc = np.cumsum(sc) + sum(before_s.get(i, 0.0) for i in ids)
        for k, m in enumerate(months):
            kwp, plan, roofs = installed_at(registry, _month_end(m), stage)
            cons = float(consumption_wh[k]) if k < len(consumption_wh) else float("nan")
            share = 100.0 * prod[k] / cons if stage == "all" and np.isfinite(cons) and cons > 0 else float("nan")
            out.append(RolloutKpi(m, stage, kwp, plan, roofs, eligible if stage == "all" else 0,
                                  float(cum_p[k]), float(cum_sc[k]) / 1000.0 * factor.value_kg_per_kwh, share))
    return tuple(out)


def allocate_site_to_arrays(site_amount_wh: np.ndarray, array_production_wh: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Split a site's amount (e.g. self-consumed PV) between its arrays in proportion to their production."""
    total = np.zeros_like(np.asarray(site_amount_wh, dtype=float))
    for p in array_production_wh.values():
        total = total + np.nan_to_num(np.asarray(p, dtype=float))
    out = {}
    for k, p in array_production_wh.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, np.nan_to_num(np.asarray(p, dtype=float)) / np.where(total > 0, total, 1.0), 0.0)
        out[k] = np.nan_to_num(np.asarray(site_amount_wh, dtype=float)) * share
    return out


def rollout_status_data(registry: Registry, at: dt.date, stored: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Everything ``terril rollout status`` and the portal's rollout page show, as JSON-ready data (pure).

    ``stored``: the ``rollout`` measurement's rows (``query_rollout``), or None when not read.
    """
    reg = rollout_register(registry, at)
    stages = funnel(reg)
    years = sorted({e.date.year for e in reg} | {at.year})
    timeline = []
    by_year = {}
    for r in stored or []:
        by_year[local_date(int(r["time_ns"])).year] = r  # last month stored in each year
    for y in range(years[0], max(years) + 1):
        end = min(dt.date(y, 12, 31), at) if y <= at.year else dt.date(y, 12, 31)
        kwp, plan, roofs = installed_at(registry, end)
        row: dict[str, Any] = {"year": y, "as_of": end.isoformat(), "kwp_installed": round(kwp, 3),
                               "kwp_planned": round(plan, 3), "roofs_equipped": roofs, "future": y > at.year}
        s = by_year.get(y)
        if s is not None and y <= at.year:
            row["production_cum_kwh"] = round(float(s.get("production_cum_wh") or 0.0) / 1000.0, 1)
            row["co2_avoided_kg"] = round(float(s.get("co2_avoided_kg") or 0.0), 1)
            if s.get("pv_share_pct") is not None:
                row["pv_share_pct"] = round(float(s["pv_share_pct"]), 2)
        timeline.append(row)
    kwp_now, plan_now, roofs_now = installed_at(registry, at)
    return {
        "at": at.isoformat(),
        "kwp_installed": round(kwp_now, 3),
        "kwp_planned_total": round(sum(e.kwp_planned for e in reg), 3),
        "roofs_equipped": roofs_now,
        "roofs_eligible": eligible_roofs(registry),
        "stages": [{"stage": s.stage, "roofs_equipped": s.roofs_equipped, "roofs_planned": s.roofs_planned,
                    "kwp_installed": round(s.kwp_installed, 3), "kwp_planned": round(s.kwp_planned, 3),
                    "first_date": s.first_date.isoformat() if s.first_date else None,
                    "last_date": s.last_date.isoformat() if s.last_date else None} for s in stages],
        "register": [{"site": e.site, "site_name": e.site_name, "array": e.array, "stage": e.stage, "status": e.status,
                      "date": e.date.isoformat(), "kwp_installed": e.kwp_installed, "kwp_planned": e.kwp_planned,
                      "technology": e.technology, "eligible_roof_area_m2": e.eligible_roof_area_m2} for e in reg],
        "timeline": timeline,
        "production_source": "influxdb rollout measurement" if stored else None,
    }
