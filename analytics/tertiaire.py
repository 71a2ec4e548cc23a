"""Décret tertiaire (Éco Énergie Tertiaire) tracker: reference and yearly consumption per
carrier, an estimated climate adjustment of the heating share, both targets of CCH R174-23 —
the relative −40/−50/−60 % trajectory and the absolute level Cabs (kWh/m², the building's
value with its climate and usage modulations) — the status of each building against the
target its entity chose, and the per-building, per-carrier export for OPERAT.

Pure functions. Climate adjustment (analytics-spec §5.2, §6.5, project stance):
``C_adj = C·(1 − s) + C·s·DJU_ref/DJU_year`` with ``s`` the heating share of the carrier,
DJU by the COSTIC ("professionnels") method. It is an estimate: the official adjusted value
is the one on the OPERAT certificate. No public source gives OPERAT's bulk-import layout
(spec §6.6), so the export layout is configurable (:class:`OperatLayout`).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Relative targets (CCH L174-1): year → reduction vs the reference consumption. [1]
MILESTONES: tuple[tuple[int, float], ...] = ((2030, 0.40), (2040, 0.50), (2050, 0.60))
#: Floor area from which a building is subject (≥ 1 000 m² of tertiary use). [m²]
MIN_FLOOR_AREA_M2 = 1000.0
#: Share of a carrier's consumption that is space heating, by (carrier, site heating carrier),
#: used when no sub-metering allocates it (arrêté 10 April 2020 art. 5 II allows default
#: values; these are the project's defaults, to be replaced by measured shares).
DEFAULT_HEATING_SHARE: dict[tuple[str, str], float] = {
    ("gas", "gas"): 0.85, ("heat", "heat"): 0.85, ("fuel_oil", "fuel_oil"): 0.85,
    ("electricity", "electricity"): 0.60,
}
#: Terril carrier → OPERAT energy type (spec §6.6 worksheet vocabulary).
OPERAT_ENERGY: dict[str, str] = {"electricity": "electricity", "gas": "natural_gas", "heat": "heating_network",
                                 "fuel_oil": "fuel_oil"}


def heating_share(carrier: str, site_heating_carrier: str) -> float:
    """Default heating share of ``carrier`` in a building heated by ``site_heating_carrier``. [1]"""
    return DEFAULT_HEATING_SHARE.get((carrier, site_heating_carrier), 0.0)


def target_reduction(year: int, reference_year: int) -> float:
    """Reduction due by ``year`` on the linear path from the reference year (0) through the
    milestones (−40 % in 2030, −50 % in 2040, −60 % in 2050). [1]"""
    points = [(reference_year, 0.0)] + [m for m in MILESTONES if m[0] > reference_year]
    if year <= reference_year:
        return 0.0
    for (y0, r0), (y1, r1) in zip(points[:-1], points[1:]):
        if year <= y1:
            return r0 + (r1 - r0) * (year - y0) / (y1 - y0)
    return MILESTONES[-1][1]


def climate_adjusted_kwh(kwh: float, heating_share_: float, dju_year: float, dju_reference: float) -> float:
    """``C·(1 − s) + C·s·DJU_ref/DJU_year``. [kWh]"""
    if not (dju_year > 0 and math.isfinite(dju_year)):
        return math.nan
    return kwh * (1.0 - heating_share_) + kwh * heating_share_ * dju_reference / dju_year


def year_total(dates: np.ndarray, values: np.ndarray, year: int, min_coverage: float = 0.9) -> tuple[float, float]:
    """Sum of ``values`` over calendar ``year`` scaled to the full year when days are missing,
    and the coverage; NaN when coverage < ``min_coverage``. [same unit, 1]"""
    d = np.asarray(dates, dtype="datetime64[D]")
    v = np.asarray(values, dtype=float)
    sel = d.astype("datetime64[Y]").astype(int) + 1970 == year
    n_days = _n_days(year)
    ok = sel & np.isfinite(v)
    cov = ok.sum() / n_days
    if cov < min_coverage:
        return math.nan, float(cov)
    return float(v[ok].sum() / cov), float(cov)


@dataclass(frozen=True, slots=True)
class ImportedPeriod:
    """Consumption over a period longer than a day: an invoice, a monthly value (``terril
    import --kind invoice|monthly``), a distributor's reading period. Local days, ``end``
    exclusive. [kWh]"""

    start: dt.date
    end: dt.date
    kwh: float
    kind: str = "invoice"


@dataclass(frozen=True, slots=True)
class AnnualTotal:
    """A carrier's total over one calendar year and where it came from.

    ``kwh`` is scaled to the whole year (``(measured_kwh + period_kwh) / coverage``), NaN when
    ``coverage`` is below the threshold; ``measured_days`` are days with a daily value (meters,
    daily imports), ``period_days`` the other days of the year that imported periods cover, and
    ``period_kwh`` the part of those periods booked on them. [kWh, 1, day, kWh]"""

    kwh: float
    coverage: float
    measured_days: int = 0
    measured_kwh: float = 0.0
    period_days: int = 0
    period_kwh: float = 0.0


def _n_days(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def annual_total(dates: np.ndarray, daily_kwh: np.ndarray, periods: Sequence[ImportedPeriod], year: int,
                 min_coverage: float = 0.9) -> AnnualTotal:
    """A calendar year's total from daily values and imported periods (invoices, months).

    The rule (docs/savings.md § Décret tertiaire):

    * a day of ``year`` with a daily value counts that value ("measured");
    * a period counts pro rata of its days that fall in ``year`` and have no daily value: a
      period inside the year and without daily data counts whole; one straddling 1 January
      counts the share of its days in the year; days already measured are not counted twice;
      where periods overlap each other, the earlier-starting one keeps the shared days;
    * coverage = (measured days + period days) / days of the year; below ``min_coverage`` (the
      daily rule's threshold) the total is NaN, else the sum is scaled to the year by the
      coverage, as :func:`year_total` does.

    Pro rata is only used to split a period between years and around measured days: no daily
    profile is invented, the daily series is left as it is.
    """
    n_year = _n_days(year)
    first = np.datetime64(dt.date(year, 1, 1), "D")
    covered = np.zeros(n_year, dtype=bool)
    d = np.asarray(dates, dtype="datetime64[D]")
    v = np.asarray(daily_kwh, dtype=float)
    i = (d - first).astype(int)
    ok = (i >= 0) & (i < n_year) & np.isfinite(v)
    covered[i[ok]] = True
    measured_days = int(covered.sum())
    measured_kwh = float(v[ok].sum())
    period_days = 0
    period_kwh = 0.0
    for p in sorted(periods, key=lambda p: (p.start, p.end)):
        n = (p.end - p.start).days
        if n <= 0 or not math.isfinite(p.kwh):
            continue
        lo = max((np.datetime64(p.start, "D") - first).astype(int), 0)
        hi = min((np.datetime64(p.end, "D") - first).astype(int), n_year)
        if hi <= lo:
            continue
        free = ~covered[lo:hi]
        k = int(free.sum())
        covered[lo:hi] = True
        period_days += k
        period_kwh += p.kwh * k / n
    cov = (measured_days + period_days) / n_year
    total = (measured_kwh + period_kwh) / cov if cov >= min_coverage else math.nan
    return AnnualTotal(total, float(cov), measured_days, measured_kwh, period_days, period_kwh)


@dataclass(frozen=True, slots=True)
class CarrierYear:
    """One carrier of one building in one year; ``measured_days`` and ``period_days`` say where
    its total came from (:class:`AnnualTotal`)."""

    carrier: str
    year: int
    raw_kwh: float
    adjusted_kwh: float
    dju: float
    heating_share: float
    coverage: float
    measured_days: int = 0
    period_days: int = 0

    @property
    def origin(self) -> str:
        """``measured`` (daily data only), ``invoices`` (imported periods only), ``mixed``, or ``none``."""
        if self.measured_days and self.period_days:
            return "mixed"
        return "measured" if self.measured_days else ("invoices" if self.period_days else "none")


@dataclass(frozen=True, slots=True)
class TertiaireStatus:
    """A building's position on the trajectory in ``year``.

    Attributes
    ----------
    reduction : float
        ``1 − adjusted(year)/adjusted(reference)``, all carriers. [1]
    target : float
        Reduction due by ``year`` on the linear path. [1]
    gap_kwh : float
        ``adjusted(year) − (1 − target)·adjusted(reference)``: positive = late by that much. [kWh]
    status : str
        Status against the target the entity chose (``target_kind``): ``achieved``,
        ``on_track``, ``late``, ``no_data`` ("données insuffisantes", never counted on track).
    target_kind : str
        ``relative`` (−40/−50/−60 %) or ``absolute`` (Cabs).
    relative_status, absolute_status : str
        Both targets side by side; ``absolute_status`` is ``not_set`` without a Cabs.
    cabs_kwh_m2 : float
        The building's 2030 Cabs (modulations applied), NaN when not set. [kWh/m²]
    intensity_kwh_m2, reference_intensity_kwh_m2 : float
        Climate-adjusted consumption per m² in ``year`` and in the reference year. [kWh/m²]
    absolute_path_kwh_m2 : float
        Intensity due by ``year`` on the straight line from the reference intensity to Cabs in
        2030 (Cabs itself from 2030); NaN without a reference. [kWh/m²]
    """

    site: str
    floor_area_m2: float
    reference_year: int
    year: int
    reference: tuple[CarrierYear, ...]
    current: tuple[CarrierYear, ...]
    reference_kwh: float
    current_kwh: float
    reduction: float
    target: float
    gap_kwh: float
    status: str
    target_kind: str = "relative"
    relative_status: str = "no_data"
    absolute_status: str = "not_set"
    cabs_kwh_m2: float = math.nan
    intensity_kwh_m2: float = math.nan
    reference_intensity_kwh_m2: float = math.nan
    absolute_path_kwh_m2: float = math.nan


#: Year of the first absolute level (the arrêté's Cabs are set per decade; 2040 and 2050 come
#: with later arrêtés). [year]
CABS_YEAR = 2030


def absolute_path_kwh_m2(year: int, reference_year: int, reference_intensity_kwh_m2: float, cabs_kwh_m2: float) -> float:
    """Intensity due by ``year`` on the straight line from the reference year's intensity to Cabs
    in 2030 (Cabs from 2030 on). [kWh/m²]"""
    if not (math.isfinite(reference_intensity_kwh_m2) and math.isfinite(cabs_kwh_m2)):
        return math.nan
    if year >= CABS_YEAR or reference_year >= CABS_YEAR:
        return cabs_kwh_m2
    if year <= reference_year:
        return reference_intensity_kwh_m2
    f = (year - reference_year) / (CABS_YEAR - reference_year)
    return reference_intensity_kwh_m2 + (cabs_kwh_m2 - reference_intensity_kwh_m2) * f


def building_status(site: str, floor_area_m2: float, reference_year: int, year: int,
                    reference: Sequence[CarrierYear], current: Sequence[CarrierYear], *,
                    target: str = "relative", cabs_kwh_m2: float | None = None) -> TertiaireStatus:
    """The status of a building from its carrier-years (adjusted values), against both targets;
    ``status`` is the one of the ``target`` the entity chose (``relative`` or ``absolute``).

    A building without usable reference data is ``no_data`` on the relative target; on the
    absolute target it is ``achieved`` when its intensity is at or below Cabs, else ``no_data``
    (no trajectory without a reference), never ``on_track``.
    """
    if target not in ("relative", "absolute"):
        raise ValueError(f"unknown Décret tertiaire target {target!r}: expected 'relative' or 'absolute'")
    if target == "absolute" and cabs_kwh_m2 is None:
        raise ValueError("the absolute target needs the building's Cabs [kWh/m²]")
    ref = sum(c.adjusted_kwh for c in reference)
    cur = sum(c.adjusted_kwh for c in current)
    due = target_reduction(year, reference_year) if reference_year else math.nan
    ref_ok = bool(reference) and math.isfinite(ref) and ref > 0 and bool(reference_year)
    cur_ok = bool(current) and math.isfinite(cur)
    if ref_ok and cur_ok:
        reduction = 1.0 - cur / ref
        gap = cur - (1.0 - due) * ref
        rel = "achieved" if reduction >= MILESTONES[0][1] else ("on_track" if gap <= 0 else "late")
    else:
        reduction, gap, rel = math.nan, math.nan, "no_data"
    area_ok = floor_area_m2 > 0
    intensity = cur / floor_area_m2 if cur_ok and area_ok else math.nan
    ref_intensity = ref / floor_area_m2 if ref_ok and area_ok else math.nan
    cabs = float(cabs_kwh_m2) if cabs_kwh_m2 is not None else math.nan
    path = absolute_path_kwh_m2(year, reference_year, ref_intensity, cabs) if reference_year else math.nan
    if not math.isfinite(cabs):
        ab = "not_set"
    elif not math.isfinite(intensity):
        ab = "no_data"
    elif intensity <= cabs:
        ab = "achieved"
    elif math.isfinite(path):
        ab = "on_track" if intensity <= path else "late"
    else:
        ab = "no_data"
    status = rel if target == "relative" else ab
    return TertiaireStatus(site, floor_area_m2, reference_year, year, tuple(reference), tuple(current), ref, cur,
                           reduction, due, gap, status, target, rel, ab, cabs, intensity, ref_intensity, path)


def _year_reason(items: Sequence[CarrierYear], which: str) -> str | None:
    """``{which}_weather`` when consumption is complete but the year's DJU is not, ``{which}_incomplete``
    when consumption is missing, None when every carrier has an adjusted value."""
    if items and all(math.isfinite(c.adjusted_kwh) for c in items):
        return None
    if items and all(math.isfinite(c.raw_kwh) for c in items):
        return f"{which}_weather"
    return f"{which}_incomplete"


def no_data_reasons(st: TertiaireStatus, target: str | None = None) -> tuple[str, ...]:
    """Why a building's status on ``target`` (default: the one its entity chose) is ``no_data``
    ("données insuffisantes"), as codes, empty when it has a status: ``no_reference_year`` (none in
    the registry), ``reference_incomplete`` / ``year_incomplete`` (consumption covers under 90 % of
    the days), ``reference_weather`` / ``year_weather`` (consumption complete, the year's
    temperatures not: no DJU)."""
    target = target or st.target_kind
    if (st.relative_status if target == "relative" else st.absolute_status) != "no_data":
        return ()
    out: list[str] = []
    # the relative target needs the reference; the absolute one needs it unless Cabs is already met
    needs_reference = target == "relative" or math.isfinite(st.intensity_kwh_m2)
    if needs_reference:
        if not st.reference_year:
            out.append("no_reference_year")
        else:
            r = _year_reason(st.reference, "reference")
            if r:
                out.append(r)
    y = _year_reason(st.current, "year")
    if y:
        out.append(y)
    return tuple(out)


def carrier_year(carrier: str, year: int, dates: np.ndarray, kwh: np.ndarray, hdd_k_d: np.ndarray,
                 share: float, dju_reference: float, periods: Sequence[ImportedPeriod] = ()) -> CarrierYear:
    """Raw and climate-adjusted consumption of one carrier in one calendar year: daily values
    completed by imported periods (:func:`annual_total`); the year's DJU from the daily degree days."""
    tot = annual_total(dates, kwh, periods, year)
    dju, _ = year_total(dates, hdd_k_d, year)
    return CarrierYear(carrier, year, tot.kwh, climate_adjusted_kwh(tot.kwh, share, dju, dju_reference), dju, share,
                       tot.coverage, tot.measured_days, tot.period_days)


# ---------------------------------------------------------------------------------------
# OPERAT export


@dataclass(frozen=True, slots=True)
class OperatRow:
    """One row of the declaration worksheet: one EFA × year × energy (CCH R174-27 items)."""

    efa_id: str
    efa_name: str
    siret: str
    building_ids: str
    activity_category: str
    surface_m2: float
    year: int
    energy_type: str
    consumption_kwh_final: float
    pdl_pce: str
    source: str
    reference_year: bool
    ev_charging_kwh: float
    comment: str


#: The default column layout: (header, OperatRow attribute), spec §6.6.
DEFAULT_OPERAT_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (name, name) for name in ("efa_id", "efa_name", "siret", "building_ids", "activity_category", "surface_m2", "year",
                              "energy_type", "consumption_kwh_final", "pdl_pce", "source", "reference_year",
                              "ev_charging_kwh", "comment"))


#: Column headers of the declaration worksheet per language (the field ids stay the codes).
OPERAT_HEADERS: dict[str, dict[str, str]] = {
    "fr": {"efa_id": "Identifiant EFA", "efa_name": "Nom de l'EFA", "siret": "SIRET", "building_ids": "Bâtiments",
           "activity_category": "Catégorie d'activité", "surface_m2": "Surface assujettie [m²]", "year": "Année",
           "energy_type": "Type d'énergie", "consumption_kwh_final": "Consommation d'énergie finale [kWh]",
           "pdl_pce": "PDL/PCE", "source": "Source", "reference_year": "Année de référence",
           "ev_charging_kwh": "Recharge VE [kWh]", "comment": "Commentaire"},
    "en": {"efa_id": "EFA id", "efa_name": "EFA name", "siret": "SIRET", "building_ids": "Buildings",
           "activity_category": "Activity category", "surface_m2": "Subject floor area [m²]", "year": "Year",
           "energy_type": "Energy type", "consumption_kwh_final": "Final energy consumption [kWh]",
           "pdl_pce": "PDL/PCE", "source": "Source", "reference_year": "Reference year",
           "ev_charging_kwh": "EV charging [kWh]", "comment": "Comment"},
}


@dataclass(frozen=True, slots=True)
class OperatLayout:
    """A configurable CSV layout: which columns (header → attribute), separator, decimal mark."""

    columns: tuple[tuple[str, str], ...] = DEFAULT_OPERAT_COLUMNS
    separator: str = ";"
    decimal: str = ","
    bom: bool = True

    def __post_init__(self) -> None:
        known = set(OperatRow.__slots__)  # type: ignore[attr-defined]
        bad = [a for _, a in self.columns if a not in known]
        if bad:
            raise ValueError(f"unknown OPERAT columns {bad}: expected attributes of OperatRow {sorted(known)}")


def operat_layout(lang: str) -> OperatLayout:
    """The default worksheet in ``lang``: translated headers, and in French ``;`` with a decimal
    comma, in English ``,`` with a point. Values stay codes (``energy_type`` = spec §6.6 vocabulary)."""
    if lang not in OPERAT_HEADERS:
        raise ValueError(f"unknown language {lang!r}: expected one of {sorted(OPERAT_HEADERS)}")
    heads = OPERAT_HEADERS[lang]
    cols = tuple((heads[attr], attr) for _, attr in DEFAULT_OPERAT_COLUMNS)
    return OperatLayout(cols, separator=";" if lang == "fr" else ",", decimal="," if lang == "fr" else ".")


def operat_rows(status: TertiaireStatus, *, efa_name: str, activity_category: str, siret: str = "",
                pdl_pce: dict[str, str] | None = None, source: str = "meter", lang: str = "fr") -> list[OperatRow]:
    """The reference year's and the declared year's rows of one building (raw final energy:
    OPERAT applies its own climate adjustment); the comment is in ``lang``. ``source`` is that of
    measured days: a carrier-year from invoices only says ``invoice``, one from both ``{source}+invoice``."""
    rows = []
    for items, is_ref in ((status.reference, True), (status.current, False)):
        for c in items:
            if not math.isfinite(c.raw_kwh):
                continue
            rows.append(OperatRow(status.site, efa_name, siret, status.site, activity_category, status.floor_area_m2,
                                  c.year, OPERAT_ENERGY.get(c.carrier, "other"), round(c.raw_kwh, 0),
                                  (pdl_pce or {}).get(c.carrier, ""),
                                  {"invoices": "invoice", "mixed": f"{source}+invoice"}.get(c.origin, source), is_ref, 0.0,
                                  f"{'couverture' if lang == 'fr' else 'coverage'} {100 * c.coverage:.0f} %"))
    return rows


def operat_csv(rows: Sequence[OperatRow], layout: OperatLayout = OperatLayout()) -> bytes:
    """The rows as CSV in ``layout`` (UTF-8, BOM by default, ``;`` and decimal comma)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=layout.separator, lineterminator="\r\n")
    w.writerow([h for h, _ in layout.columns])
    for r in rows:
        out = []
        for _, attr in layout.columns:
            v = getattr(r, attr)
            if isinstance(v, bool):
                out.append("1" if v else "0")
            elif isinstance(v, float):
                s = f"{v:.0f}" if v == int(v) else repr(v)
                out.append(s.replace(".", layout.decimal))
            else:
                out.append(str(v))
        w.writerow(out)
    return (("\ufeff" if layout.bom else "") + buf.getvalue()).encode("utf-8")


__all__ = [
    "AnnualTotal", "CABS_YEAR", "CarrierYear", "ImportedPeriod", "annual_total", "DEFAULT_OPERAT_COLUMNS", "MILESTONES", "absolute_path_kwh_m2", "OperatLayout", "OperatRow", "TertiaireStatus",
    "OPERAT_HEADERS", "building_status", "carrier_year", "climate_adjusted_kwh", "heating_share", "no_data_reasons", "operat_csv",
    "operat_layout", "operat_rows",
    "target_reduction", "year_total",
]
