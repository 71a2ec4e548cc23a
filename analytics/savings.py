"""Measured savings (IPMVP options B and C): adjusted baseline, avoided energy, normalised
savings, their ASHRAE Guideline 14 uncertainty, and their value in euros and kg CO₂e.

Pure functions over daily arrays. The baseline model is
:func:`analytics.baseline.fit_daily` (CalTRACK-style daily change-point model with day-type
regressors); the uncertainty is :func:`analytics.baseline.fractional_savings_uncertainty`
(G14 Annex B, autocorrelation-corrected). Formulas and sources: ``docs/savings.md``.

Sign convention: savings are positive (``avoided = adjusted baseline − actual``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from analytics.baseline import MIN_DAILY_COVERAGE, DailyChangePointModel, fit_daily, fractional_savings_uncertainty
from analytics.degree_days import HEATING_BASE_C, hdd_from_mean
from terril.calendar import day_types

#: Day-type regressors used for every site (a regressor constant over the baseline is
#: dropped by the fit, e.g. ``school_day`` for a town hall).
REGRESSOR_NAMES: tuple[str, ...] = ("school_day", "holiday", "weekend", "wednesday", "public_holiday")
#: Carriers with a weather-dependent whole-building model (option C or B on a sub-meter).
MODELLED_CARRIERS: tuple[str, ...] = ("electricity", "gas", "heat")
#: Ratio of gross (PCS) to net (PCI) calorific value of natural gas (Base Carbone comment,
#: secondary source, analytics-spec §8): gas bills are in kWh PCS, CO₂ factors per kWh PCI.
GAS_PCS_PER_PCI = 1.1


# ---------------------------------------------------------------------------------------
# tariffs and emission factors


@dataclass(frozen=True, slots=True)
class EmissionFactor:
    """A CO₂e emission factor with its provenance.

    Attributes
    ----------
    carrier : str
        Energy carrier.
    kg_co2e_per_kwh : float
        Factor. [kg CO₂e/kWh] (per kWh PCI for gas)
    name : str
        Name of the factor in its source.
    source : str
        Where it comes from.
    vintage : str
        Year of the data (millésime).
    """

    carrier: str
    kg_co2e_per_kwh: float
    name: str
    source: str
    vintage: str


#: Default factors (analytics-spec §8; every value to be re-checked against the official
#: ADEME CSV before release, the spec flags them as secondary sources).
DEFAULT_EMISSION_FACTORS: tuple[EmissionFactor, ...] = (
    EmissionFactor("electricity", 0.052, "Électricité, France continentale, mix moyen consommation",
                   "ADEME Base Empreinte (52,0 gCO2/kWh, quoted by public code; secondary)", "2022"),
    EmissionFactor("gas", 0.227, "Gaz naturel – 2015 – mix moyen – consommation (PCI)",
                   "ADEME Base Carbone V23.6 id 38952; DPE 2021 / RE2020 table", "2015 (LCA 2018)"),
    EmissionFactor("heat", 0.113, "Réseau de chaleur, moyenne nationale (ACV)",
                   "FEDENE/SNCU 2024 survey of 2023 data (secondary)", "2023"),
    EmissionFactor("fuel_oil", 0.324, "Fioul domestique", "ADEME Base Carbone V23.10 id 14084 (secondary)", "2023"),
    EmissionFactor("pv", 0.052, "PV self-consumed, avoided grid electricity (location-based)",
                   "same as electricity", "2022"),
)


@dataclass(frozen=True, slots=True)
class ValueFactors:
    """Tariffs and CO₂e factors used to value avoided energy.

    Attributes
    ----------
    tariff_eur_per_kwh : tuple of (carrier, €/kWh)
        Average all-in price per carrier. [€/kWh]
    emission_factors : tuple of EmissionFactor
        CO₂e factor per carrier.
    gas_kwh_basis : str
        ``pcs`` when gas kWh are on the gross calorific value (bills, meters with a PCS
        coefficient): divided by :data:`GAS_PCS_PER_PCI` before applying the PCI factor.
    tariff_source : str
        Where the tariffs come from.
    """

    tariff_eur_per_kwh: tuple[tuple[str, float], ...] = (
        ("electricity", 0.20), ("gas", 0.10), ("heat", 0.11), ("fuel_oil", 0.12), ("pv", 0.20),
    )
    emission_factors: tuple[EmissionFactor, ...] = DEFAULT_EMISSION_FACTORS
    gas_kwh_basis: str = "pcs"
    tariff_source: str = ("illustrative 2025 public-buyer averages (the defaults of the prices.* settings); "
                          "set the town's contract prices in settings")

    def tariff(self, carrier: str) -> float:
        """Price of one kWh of ``carrier`` (0 when unknown). [€/kWh]"""
        return dict(self.tariff_eur_per_kwh).get(carrier, 0.0)

    def factor(self, carrier: str) -> EmissionFactor | None:
        """The emission factor of ``carrier``, if any."""
        return next((f for f in self.emission_factors if f.carrier == carrier), None)

    def co2_kg(self, carrier: str, kwh: float) -> float:
        """kg CO₂e of ``kwh`` of ``carrier`` (gas converted PCS → PCI when needed). [kg]"""
        f = self.factor(carrier)
        if f is None:
            return 0.0
        if carrier == "gas" and self.gas_kwh_basis == "pcs":
            kwh = kwh / GAS_PCS_PER_PCI
        return kwh * f.kg_co2e_per_kwh

    def eur(self, carrier: str, kwh: float) -> float:
        """Value of ``kwh`` of ``carrier``. [€]"""
        return kwh * self.tariff(carrier)


DEFAULT_VALUE_FACTORS = ValueFactors()


def value_factors_from_prices(prices: object) -> ValueFactors:
    """:class:`ValueFactors` from the ``prices`` settings (:class:`terril.settings.PricesSettings`)."""
    import dataclasses

    p = prices
    tariffs = (("electricity", p.electricity_eur_per_kwh), ("gas", p.gas_eur_per_kwh),  # type: ignore[attr-defined]
               ("heat", p.heat_eur_per_kwh), ("fuel_oil", 0.12), ("pv", p.electricity_eur_per_kwh))  # type: ignore[attr-defined]
    values = {"electricity": p.electricity_kg_co2e_per_kwh, "gas": p.gas_kg_co2e_per_kwh,  # type: ignore[attr-defined]
              "heat": p.heat_kg_co2e_per_kwh, "pv": p.electricity_kg_co2e_per_kwh}  # type: ignore[attr-defined]
    factors = tuple(f if f.carrier not in values or values[f.carrier] == f.kg_co2e_per_kwh else
                    dataclasses.replace(f, kg_co2e_per_kwh=values[f.carrier], source="settings (prices.*)",
                                        vintage="set by the operator")
                    for f in DEFAULT_EMISSION_FACTORS)
    return ValueFactors(tariffs, factors, p.gas_kwh_basis,  # type: ignore[attr-defined]
                        "settings (prices.*)" if tariffs != ValueFactors().tariff_eur_per_kwh[:len(tariffs)]
                        else ValueFactors().tariff_source)


# ---------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True, slots=True)
class NonRoutineAdjustment:
    """A logged, dated, signed non-routine adjustment of the adjusted baseline.

    Attributes
    ----------
    meter : str
        Meter it applies to.
    start, end : date
        Days it covers (inclusive); its energy is spread evenly over them.
    energy_kwh : float
        Energy added to the adjusted baseline (negative removes). [kWh]
    reason : str
        Why (floor area added, new equipment, ...). Required.
    """

    meter: str
    start: dt.date
    end: dt.date
    energy_kwh: float
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("a non-routine adjustment needs a reason")
        if self.end < self.start:
            raise ValueError("adjustment end before start")


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of local dates."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @classmethod
    def parse(cls, text: str) -> "Period":
        """``2024-01-01..2024-12-31`` → Period."""
        a, sep, b = text.partition("..")
        if not sep:
            raise ValueError(f"expected START..END, got {text!r}")
        return cls(dt.date.fromisoformat(a.strip()), dt.date.fromisoformat(b.strip()))

    def mask(self, dates: np.ndarray) -> np.ndarray:
        """Which ``dates`` (datetime64[D]) fall inside."""
        d = np.asarray(dates, dtype="datetime64[D]")
        return (d >= np.datetime64(self.start)) & (d <= np.datetime64(self.end))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


class PeriodProblem(ValueError):
    """Baseline and reporting periods that cannot be measured: ``key`` names the message
    (``analytics/reports/i18n.py``, ``periods.*``) and ``fmt`` its figures."""

    def __init__(self, key: str, **fmt: object) -> None:
        super().__init__(f"{key}: {fmt}")
        self.key = key
        self.fmt = fmt


def measurable_periods(baseline: Period, reporting: Period, today: dt.date) -> tuple[Period, list[tuple[str, dict]]]:
    """The reporting period to measure, and notes (message key, figures) on what was changed.

    IPMVP measures savings after the baseline: a reporting period that starts on or before the
    baseline's last day would compare the baseline with itself (:class:`PeriodProblem`
    ``periods.overlap``). One that starts after ``today`` has nothing to measure
    (``periods.future``); one that ends after it stops at ``today`` (note ``periods.clamped``),
    rather than a report and ``savings_monthly`` rows for months not yet lived.
    """
    if reporting.start <= baseline.end:
        raise PeriodProblem("periods.overlap", reporting=f"{reporting.start}..{reporting.end}",
                            baseline=f"{baseline.start}..{baseline.end}",
                            first=(baseline.end + dt.timedelta(days=1)).isoformat())
    if reporting.start > today:
        raise PeriodProblem("periods.future", start=reporting.start.isoformat(), today=today.isoformat())
    if reporting.end > today:
        return Period(reporting.start, today), [("periods.clamped", {"end": reporting.end.isoformat(),
                                                                      "today": today.isoformat()})]
    return reporting, []


#: Conventional French heating season, 1 October to 20 May (232 days; analytics-spec §5.1).
HEATING_SEASON_END = (5, 20)
#: Days after the learnt end of a heating season whose state is uncertain (the last days of a season are
#: often warm, so the plant may have stayed on longer than it showed): the drift charts skip them. [day]
SEASON_END_UNCERTAIN_DAYS = 10
#: Base of the season-aware heating regressors. [°C]
SEASON_HDD_BASE_C = 16.0
#: Extra regressors for heating carriers (gas, heat): degree days outside the heating season
#: (the plant is off: cancels the heating slope) and degree days on occupied days in season
#: (comfort set point vs set-back).
HEATING_REGRESSOR_NAMES: tuple[str, ...] = ("off_season_hdd", "occupied_hdd")
#: Smoothing of the daily mean temperature for heating carriers (building inertia):
#: ``T_s[i] = α·T[i] + (1 − α)·T_s[i−1]``. [1]
INERTIA_ALPHA = 0.6


def in_heating_season(dates: np.ndarray) -> np.ndarray:
    """True from 1 October to 20 May."""
    d = np.asarray(dates, dtype="datetime64[D]")
    month = d.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (d - d.astype("datetime64[M]")).astype(int) + 1
    end_m, end_d = HEATING_SEASON_END
    return (month >= 10) | (month < end_m) | ((month == end_m) & (dom <= end_d))


def _month_day(dates: np.ndarray) -> np.ndarray:
    """``month·100 + day`` of each date (the same calendar day every year, leap or not). [1]"""
    d = np.asarray(dates, dtype="datetime64[D]")
    month = d.astype("datetime64[M]").astype(int) % 12 + 1
    return month * 100 + (d - d.astype("datetime64[M]")).astype(int) + 1


def learnt_heating_season(dates: np.ndarray, energy: np.ndarray, baseline: np.ndarray | None = None
                          ) -> tuple[int, int] | None:
    """The heating season a plant really keeps, learnt on the ``baseline`` days: ``(end, start)`` as
    ``month·100 + day`` (on up to ``end`` and from ``start`` on, every year), or None without enough data.

    A day is heated when its energy is clearly above the summer level (the 90th percentile of
    July-August, so that a summer closure does not lower it, + 15 % of the spread to the winter
    median). The season ends on the last spring day on which the plant clearly ran (above twice the
    summer level and 3 % of the spread, with another such day in its week): late-season heating is
    light, and a threshold set for the winter misses it. It starts on the first autumn day the plant
    clearly ran, with another such day in the week after (one busy day in September does not start
    it), or on the first autumn day whose week (median of the 7 days around it) is heated if that
    is earlier. Early-season heating is light too: the heated-week rule alone started the season
    12 to 27 days late after a warm start of October, and the off-season level learnt that heating
    as hot water (a sports hall's June 15 % high, its boiler saving in July measured +87 %). A conventional end (20 May)
    instead of the plant's own (the simulated plants stop on 15 May) made every model predict heating
    on the cold days in between: +19 to +22 % from 8 May to 4 June on every gas meter (issue 16).
    """
    d = np.asarray(dates, dtype="datetime64[D]")
    e = np.asarray(energy, dtype=float)
    if baseline is not None:
        d, e = d[np.asarray(baseline, bool)], e[np.asarray(baseline, bool)]
    month = d.astype("datetime64[M]").astype(int) % 12 + 1
    md = _month_day(d)
    summer, winter = e[(month == 7) | (month == 8)], e[(month == 1) | (month == 2) | (month == 12)]
    if np.isfinite(summer).sum() < 20 or np.isfinite(winter).sum() < 20:
        return None
    lo, hi = float(np.nanpercentile(summer, 90)), float(np.nanmedian(winter))
    if not hi > lo:
        return None
    threshold = lo + 0.15 * (hi - lo)
    week = np.array([np.nanmedian(e[max(i - 3, 0):i + 4]) if np.isfinite(e[max(i - 3, 0):i + 4]).any() else np.nan
                     for i in range(e.size)])
    on_week = np.isfinite(week) & (week > threshold)
    spring, autumn = (month >= 3) & (month <= 6), (month >= 8) & (month <= 11)
    if not (on_week & spring).any() or not (on_week & autumn).any():
        return None
    # the end: the last spring day the plant clearly ran (late-season heating is light: a day is heated
    # when above twice the summer level and 3 % of the spread), with another such day in its week
    lo_day = max(2.0 * lo, lo + 0.03 * (hi - lo))
    ran = np.isfinite(e) & (e > lo_day)
    ran_week = np.array([ran[max(i - 6, 0):i + 1].sum() >= 2 for i in range(e.size)])
    last = ran & ran_week & spring
    end = int(md[last].max()) if last.any() else int(md[on_week & spring].max())
    # the start: the first autumn day the plant clearly ran, with another such day in the week after
    # (early-autumn heating is light too), and no later than the first heated week
    ran_next = np.array([ran[i:i + 7].sum() >= 2 for i in range(e.size)])
    first = ran & ran_next & autumn
    start = int(md[on_week & autumn].min())
    if first.any():
        start = min(start, int(md[first].min()))
    return end, start


def season_mask(dates: np.ndarray, bounds: tuple[int, int] | None) -> np.ndarray:
    """Per day, in the heating season ``bounds`` (:func:`learnt_heating_season`); the conventional
    season (:func:`in_heating_season`) when None."""
    if bounds is None:
        return in_heating_season(dates)
    md = _month_day(dates)
    return (md <= bounds[0]) | (md >= bounds[1])


def smoothed_temperature(temp_mean_c: np.ndarray, alpha: float = INERTIA_ALPHA) -> np.ndarray:
    """Exponentially smoothed daily mean temperature (NaN days carry the previous value). [°C]"""
    t = np.asarray(temp_mean_c, dtype=float)
    out = np.empty_like(t)
    prev = np.nan
    for i, v in enumerate(t):
        if not np.isfinite(v):
            out[i] = np.nan
            continue
        prev = v if not np.isfinite(prev) else alpha * v + (1.0 - alpha) * prev
        out[i] = prev
    return out


def heating_regressors(dates: np.ndarray, temp_c: np.ndarray, occupied: np.ndarray,
                       season: np.ndarray | None = None) -> np.ndarray:
    """Columns :data:`HEATING_REGRESSOR_NAMES`, on ``season`` (per day; default the conventional one). [K·day]"""
    season = in_heating_season(dates) if season is None else np.asarray(season, bool)
    hdd = np.maximum(SEASON_HDD_BASE_C - np.asarray(temp_c, dtype=float), 0.0)
    return np.column_stack([np.where(season, 0.0, hdd), np.where(season, hdd, 0.0) * np.asarray(occupied, float)])


def model_inputs(dates: np.ndarray, temp_mean_c: np.ndarray, carrier: str, school_week: str | None,
                 season: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Temperature, regressors and their names used for a meter of ``carrier``.

    Electricity: daily mean temperature and the day types. Heating carriers (gas, heat):
    smoothed temperature, day types and the season-aware heating regressors, occupied days
    being school days for schools and working days otherwise, on the plant's own heating
    ``season`` (:func:`learnt_heating_season`) when known, else the conventional one.
    """
    x = day_type_regressors(dates, school_week)
    if carrier not in ("gas", "heat"):
        return np.asarray(temp_mean_c, dtype=float), x, REGRESSOR_NAMES
    ts = smoothed_temperature(temp_mean_c)
    occupied = x[:, 0] if school_week else 1.0 - np.maximum(x[:, 2], x[:, 4])
    regs = heating_regressors(dates, ts, occupied, season_mask(dates, season) if season is not None else None)
    return ts, np.column_stack([x, regs]), REGRESSOR_NAMES + HEATING_REGRESSOR_NAMES


#: Day types of the savings models: the drift models' ones, plus Sunday (a sports hall opens on
#: Sunday mornings only, not as on Saturdays) and the site's annual closures.
SAVINGS_DAY_TYPES: tuple[str, ...] = REGRESSOR_NAMES + ("sunday", "closed")
#: Temperature given to the change-point term outside the heating season: above every balance
#: point of the grid, so that the heating term is zero there. [°C]
OFF_SEASON_TEMP_C = 40.0


def night_hours(dates: np.ndarray, latitude_deg: float) -> np.ndarray:
    """Hours between sunset and sunrise on each day (Cooper's declination, no refraction). [h]"""
    d = np.asarray(dates, dtype="datetime64[D]")
    doy = (d - d.astype("datetime64[Y]")).astype(int) + 1
    decl = np.radians(23.44) * np.sin(2.0 * np.pi * (284 + doy) / 365.0)
    w0 = np.arccos(np.clip(-np.tan(np.radians(latitude_deg)) * np.tan(decl), -1.0, 1.0))
    return 24.0 - 2.0 * np.degrees(w0) / 15.0


def savings_model_inputs(dates: np.ndarray, temp_mean_c: np.ndarray, carrier: str, school_week: str | None,
                         closures: Sequence[str] = (), pv_kwh: np.ndarray | None = None,
                         latitude_deg: float | None = None, season: tuple[int, int] | None = None
                         ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Temperature, regressors and their names of a meter's savings (baseline) model.

    Heating carriers (gas, heat): the day types act separately in and out of the heating season
    (an additive "closed" or "holiday" effect learnt on winter days, where the plant heats, would
    otherwise predict summer days below zero), the level out of season has its own intercept
    (``off_season``: hot water only), the heating term sees the smoothed temperature in season
    only, and each day type has its own degree-day slope (a sports hall heated on Saturday for
    ten hours and on Sunday for four). This removed the late-spring and summer over-prediction of
    the single-intercept model (a sports hall's gas: +150 kWh/day, +110 % in June).

    Electricity: the day types; the night's length on occupied and unoccupied days (lighting:
    without it a school's winter lighting was read as heating and its spring as savings); and
    where the site has PV the same day's production on occupied and unoccupied days (the meter
    measures the import, which falls as the roof produces: IPMVP treats on-site generation as
    an independent variable).

    Parameters
    ----------
    dates : ndarray of datetime64[D]
        Local days.
    temp_mean_c : ndarray of float
        Daily mean temperature. [°C]
    carrier : str
        The meter's carrier.
    school_week : str or None
        The site's school week (None: not a school).
    closures : sequence of str
        The site's annual closures (``"08-01/08-25"``).
    pv_kwh : ndarray of float, optional
        The site's PV production per day. [kWh]
    latitude_deg : float, optional
        The site's latitude, for the night length (electricity). [°]
    season : (int, int), optional
        The heating season the plant keeps (:func:`learnt_heating_season`); default the
        conventional one (1 October – 20 May).
    """
    from terril.calendar import is_closed

    d = np.asarray(dates, dtype="datetime64[D]")
    x = day_type_regressors(d, school_week)
    weekday = (d.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    sunday = (weekday == 6).astype(float)
    closed = is_closed(d, tuple(closures)).astype(float) if closures else np.zeros(d.size)
    days = np.column_stack([x, sunday, closed])
    names = SAVINGS_DAY_TYPES
    if carrier in ("gas", "heat"):
        ts = smoothed_temperature(temp_mean_c)
        season = season_mask(d, season).astype(float)
        hdd = season * np.maximum(SEASON_HDD_BASE_C - ts, 0.0)
        temp = np.where(season > 0, ts, np.where(np.isfinite(ts), OFF_SEASON_TEMP_C, np.nan))
        # a common in-season slope, for the days no day type marks (a sports hall's or an office's
        # ordinary weekdays); a school's day types (school day, holiday, weekend, public holiday)
        # mark every day, their slopes already sum to it: the common column would make the fit
        # singular (every school's heating « described by no model » on seed 0)
        common = () if school_week else (hdd,)
        cols = np.column_stack([days * season[:, None], days * (1.0 - season)[:, None], 1.0 - season,
                                *common, days * hdd[:, None]])
        all_names = (tuple(f"{n}_in_season" for n in names) + tuple(f"{n}_off_season" for n in names)
                     + ("off_season",) + (() if school_week else ("hdd16_in_season",))
                     + tuple(f"{n}_hdd" for n in names))
        return temp, cols, all_names
    temp = np.asarray(temp_mean_c, dtype=float)
    occupied = x[:, 0] if school_week else 1.0 - np.maximum(x[:, 2], x[:, 4])
    occupied = occupied * (1.0 - closed)
    season = in_heating_season(d).astype(float)  # conventional: a calendar of day types, not a plant's
    # day types in season too: lighting and heating auxiliaries make a winter school day dearer
    cols = [days, days * season[:, None]]
    names = names + tuple(f"{n}_in_season" for n in names)
    if latitude_deg is not None:
        night = night_hours(d, latitude_deg)
        cols += [night * occupied, night * (1.0 - occupied)]
        names = names + ("night_occupied_h", "night_unoccupied_h")
    if pv_kwh is not None:
        # the import falls with the production until the roof covers the load: a saturating response
        pv = np.asarray(pv_kwh, dtype=float)
        cols += [pv * occupied, pv * (1.0 - occupied), (pv * occupied) ** 2, (pv * (1.0 - occupied)) ** 2]
        names = names + ("pv_occupied_kwh", "pv_unoccupied_kwh", "pv_occupied_kwh2", "pv_unoccupied_kwh2")
    return temp, np.column_stack(cols), names


def day_type_regressors(dates: np.ndarray, school_week: str | None) -> np.ndarray:
    """The day-type regressor matrix (columns :data:`REGRESSOR_NAMES`) for a site. [1]

    ``public_holiday`` marks a holiday on a working day only: one on a Saturday or a Sunday is already
    a weekend day, and counting both effects would predict a closed building's weekend holiday below
    its weekend (below zero for an office).
    """
    types = day_types(np.asarray(dates, dtype="datetime64[D]"), school_week)
    cols = {n: getattr(types, n) for n in REGRESSOR_NAMES}
    cols["public_holiday"] = types.public_holiday & ~types.weekend
    return np.column_stack([cols[n].astype(float) for n in REGRESSOR_NAMES])


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, eq=False)
class MeterSavings:
    """Savings of one meter over one reporting period.

    Daily arrays cover the reporting period (``dates``); totals are over the valid days
    (actual and temperature both present), CalTRACK §3.5.
    """

    meter: str
    site: str
    carrier: str
    option: str  # "B" | "C"
    baseline: Period
    reporting: Period
    model: DailyChangePointModel | None
    dates: np.ndarray
    actual_kwh: np.ndarray
    adjusted_baseline_kwh: np.ndarray  # model + NRA, per day (NaN where temperature missing)
    valid: np.ndarray
    adjusted_baseline_total_kwh: float
    actual_total_kwh: float
    avoided_kwh: float
    nra_kwh: float
    savings_fraction: float
    u68_kwh: float
    u90_kwh: float
    normalised_savings_kwh: float  # per typical year, NaN if not computed
    normal_year_hdd: float
    avoided_eur: float
    avoided_co2_kg: float
    baseline_days: int
    baseline_valid_days: int
    reporting_valid_days: int
    reasons: tuple[str, ...] = ()
    adjustments: tuple[NonRoutineAdjustment, ...] = ()
    baseline_months: int = 0  # calendar months touched by the baseline period
    baseline_months_with_temperature: int = 0  # of which with >= 90 % of days with a temperature
    forced: bool = False  # counted although unqualified (--include-unqualified), with a warning

    @property
    def qualifies(self) -> bool:
        """The baseline model qualifies and the reporting period has valid days."""
        return not self.reasons

    @property
    def computable(self) -> bool:
        """Figures exist (a fitted model and valid reporting days), qualified or not."""
        return self.reporting_valid_days > 0 and math.isfinite(self.avoided_kwh)

    @property
    def counted(self) -> bool:
        """Summed into totals: qualified, or forced in (``include_unqualified``) and computable."""
        return self.qualifies or (self.forced and self.computable)

    @property
    def fsu90(self) -> float:
        """Fractional savings uncertainty at 90 %. [1]"""
        return self.u90_kwh / abs(self.avoided_kwh) if self.avoided_kwh else math.inf

    @property
    def fsu68(self) -> float:
        """Fractional savings uncertainty at 68 %. [1]"""
        return self.u68_kwh / abs(self.avoided_kwh) if self.avoided_kwh else math.inf

    @property
    def significant(self) -> bool:
        """|avoided| exceeds the 90 % uncertainty."""
        return self.qualifies and abs(self.avoided_kwh) > self.u90_kwh

    def model_parameters(self) -> dict[str, object]:
        """The fitted model as plain data (for the report metadata)."""
        m = self.model
        if m is None:
            return {"meter": self.meter, "model": None}

        def r(x: float) -> float | None:
            return round(float(x), 6) if math.isfinite(x) else None

        return {
            "meter": self.meter, "option": self.option, "baseline": str(self.baseline), "reporting": str(self.reporting),
            "kind": m.kind, "intercept_kwh_d": r(m.intercept), "heating_balance_c": r(m.heating_balance_c),
            "heating_slope_kwh_kd": r(m.heating_slope), "cooling_balance_c": r(m.cooling_balance_c),
            "cooling_slope_kwh_kd": r(m.cooling_slope),
            "regressors": {n: r(c) for n, c in zip(m.regressor_names, m.regressor_coefs)},
            "n": m.metrics.n, "p": m.metrics.p, "cvrmse": r(m.metrics.cvrmse), "nmbe": r(m.metrics.nmbe),
            "rho1": r(m.metrics.rho1),
        }


def _uncertainty_kwh(model: DailyChangePointModel, m_days: int, adjusted_kwh: float, confidence: float) -> float:
    """Absolute G14 savings uncertainty ``ΔE = FSU·|AEU| = 1.26·t·CV·sqrt(n/n'·(1+2/n')/m)·E_adjB``. [kWh]"""
    met = model.metrics
    if m_days <= 0 or not math.isfinite(met.cvrmse) or met.n <= met.p:
        return math.nan
    # F = 1 gives the bracket 1.26·t·CV·sqrt(...) itself
    k = fractional_savings_uncertainty(met.cvrmse, met.n, met.p, m_days, 1.0, rho1=met.rho1,
                                       confidence=confidence, autocorrelation=True)
    return k * abs(adjusted_kwh)


def typical_year_temperature(dates: np.ndarray, temp_mean_c: np.ndarray, window_days: int = 15) -> np.ndarray:
    """A typical year: for each day of year (1..366), the mean over the years available of the
    daily mean temperature, smoothed by a ``window_days`` circular moving average. [°C]

    Returns an array of length 366 indexed by day of year − 1 (NaN where no data).
    """
    d = np.asarray(dates, dtype="datetime64[D]")
    t = np.asarray(temp_mean_c, dtype=float)
    doy = (d - d.astype("datetime64[Y]")).astype(int)
    ok = np.isfinite(t)
    s = np.bincount(doy[ok], weights=t[ok], minlength=366)[:366]
    c = np.bincount(doy[ok], minlength=366)[:366].astype(float)
    k = np.ones(window_days)
    pad = window_days // 2
    s2 = np.convolve(np.r_[s[-pad:], s, s[:pad]], k, mode="valid")
    c2 = np.convolve(np.r_[c[-pad:], c, c[:pad]], k, mode="valid")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c2 > 0, s2 / c2, np.nan)


def normal_temperature_for(dates: np.ndarray, typical_c: np.ndarray) -> np.ndarray:
    """The typical-year temperature on each of ``dates`` (by day of year). [°C]"""
    d = np.asarray(dates, dtype="datetime64[D]")
    doy = (d - d.astype("datetime64[Y]")).astype(int)
    return np.asarray(typical_c)[np.clip(doy, 0, 365)]


def meter_savings(
    *,
    meter: str,
    site: str,
    carrier: str,
    dates: np.ndarray,
    energy_kwh: np.ndarray,
    temp_mean_c: np.ndarray,
    regressors: np.ndarray | None,
    baseline: Period,
    reporting: Period,
    option: str = "C",
    adjustments: Sequence[NonRoutineAdjustment] = (),
    factors: ValueFactors = DEFAULT_VALUE_FACTORS,
    typical_temp_c: np.ndarray | None = None,
    regressor_names: tuple[str, ...] = REGRESSOR_NAMES,
    normal_year: tuple[np.ndarray, np.ndarray | None] | None = None,
    allow_cooling: bool | None = None,
) -> MeterSavings:
    """Avoided energy of one meter (IPMVP option C on a whole-building meter, option B on the
    sub-meter of an isolated system — same computation, different boundary).

    ``E_adjB = Σ_t f_B(x_R,t) + NRA``; ``AEU = E_adjB − E_R`` over the reporting days where
    both the metered energy and the temperature exist; ``ΔE = 1.26·t·CV·sqrt(n/n'·(1+2/n')/m)·E_adjB``
    (G14 Annex B); normalised savings ``Σ f_B(x_N) − Σ f_R(x_N)`` over a typical year when
    ``typical_temp_c`` is given and the reporting period is long enough to fit ``f_R``.

    Parameters
    ----------
    dates : ndarray of datetime64[D]
        Local days covering both periods.
    energy_kwh : ndarray of float
        Daily consumption (NaN = missing). [kWh]
    temp_mean_c : ndarray of float
        Daily mean temperature. [°C]
    regressors : ndarray, shape (n, k), optional
        Day-type regressors (columns ``regressor_names``).
    baseline, reporting : Period
        Inclusive date ranges.
    option : str
        ``"C"`` or ``"B"`` (recorded in the result).
    adjustments : sequence of NonRoutineAdjustment
        Non-routine adjustments of this meter (others are ignored).
    factors : ValueFactors
        Tariffs and CO₂e factors.
    typical_temp_c : ndarray, optional
        Typical-year temperature by day of year (:func:`typical_year_temperature`). [°C]
    normal_year : (ndarray, ndarray or None), optional
        The model inputs of one typical year (temperature [°C], regressors), instead of
        ``typical_temp_c`` when the regressors depend on the temperature.
    allow_cooling : bool, optional
        Let the model learn a cooling term (default: electricity meters); an air-conditioned site's.
    """
    if option not in ("B", "C"):
        raise ValueError("option must be 'B' or 'C'")
    d = np.asarray(dates, dtype="datetime64[D]")
    y = np.asarray(energy_kwh, dtype=float)
    temp = np.asarray(temp_mean_c, dtype=float)
    x = None if regressors is None else np.asarray(regressors, dtype=float).reshape(d.size, -1)
    names = regressor_names if x is not None else ()
    bm, rm = baseline.mask(d), reporting.mask(d)
    is_elec = carrier == "electricity"
    cooling = is_elec if allow_cooling is None else allow_cooling
    model = fit_daily(temp[bm], y[bm], regressors=None if x is None else x[bm], regressor_names=names,
                      dates=d[bm], is_electricity=is_elec, allow_cooling=cooling)
    rd, ry, rt = d[rm], y[rm], temp[rm]
    rx = None if x is None else x[rm]
    pred = model.predict(rt, rx) if np.isfinite(model.intercept) else np.full(rd.size, np.nan)
    nra_daily = np.zeros(rd.size)
    used_adj = []
    for a in adjustments:
        if a.meter != meter:
            continue
        used_adj.append(a)
        span = (np.datetime64(a.end) - np.datetime64(a.start)).astype(int) + 1
        inside = (rd >= np.datetime64(a.start)) & (rd <= np.datetime64(a.end))
        nra_daily[inside] += a.energy_kwh / span
    adj = pred + nra_daily
    valid = np.isfinite(ry) & np.isfinite(adj)
    reasons = list(model.reasons)
    if not valid.any():
        reasons.append("savings.no_valid_reporting_days")
    b_months = d[bm].astype("datetime64[M]")
    months = np.unique(b_months)
    months_ok = sum(int(np.isfinite(temp[bm][b_months == mth]).mean() >= MIN_DAILY_COVERAGE) for mth in months)
    e_adj = float(adj[valid].sum())
    e_act = float(ry[valid].sum())
    aeu = e_adj - e_act
    m_days = int(valid.sum())
    u68 = _uncertainty_kwh(model, m_days, e_adj, 0.68) if m_days else math.nan
    u90 = _uncertainty_kwh(model, m_days, e_adj, 0.90) if m_days else math.nan

    norm = math.nan
    normal_hdd = math.nan
    tn = xn = None
    if normal_year is not None:
        tn, xn = normal_year
    elif typical_temp_c is not None:
        # one typical year from the reporting start, with the reporting calendar's day types
        nd = np.arange(np.datetime64(reporting.start), np.datetime64(reporting.start) + 365)
        tn = normal_temperature_for(nd, typical_temp_c)
        if x is not None:
            xn = x[rm][: nd.size] if rm.sum() >= nd.size else None
            if xn is None:
                tn = None
    if tn is not None and np.isfinite(model.intercept) and rd.size >= 300:
        normal_hdd = float(np.nansum(hdd_from_mean(tn, HEATING_BASE_C)))
        rep_model = fit_daily(rt, ry, regressors=rx, regressor_names=names, dates=rd, is_electricity=is_elec,
                              allow_cooling=cooling)
        if np.isfinite(rep_model.intercept):
            norm = float(np.nansum(model.predict(tn, xn)) - np.nansum(rep_model.predict(tn, xn)))

    return MeterSavings(
        meter=meter, site=site, carrier=carrier, option=option, baseline=baseline, reporting=reporting, model=model,
        dates=rd, actual_kwh=ry, adjusted_baseline_kwh=adj, valid=valid,
        adjusted_baseline_total_kwh=e_adj, actual_total_kwh=e_act, avoided_kwh=aeu,
        nra_kwh=float(nra_daily[valid].sum()),
        savings_fraction=aeu / e_adj if e_adj else math.nan,
        u68_kwh=u68, u90_kwh=u90, normalised_savings_kwh=norm, normal_year_hdd=normal_hdd,
        avoided_eur=factors.eur(carrier, aeu), avoided_co2_kg=factors.co2_kg(carrier, aeu),
        baseline_days=int(bm.sum()), baseline_valid_days=int(model.metrics.n),
        reporting_valid_days=m_days, reasons=tuple(dict.fromkeys(reasons)), adjustments=tuple(used_adj),
        baseline_months=int(months.size), baseline_months_with_temperature=months_ok,
    )


def pv_option_b(
    *,
    meter: str,
    site: str,
    dates: np.ndarray,
    production_kwh: np.ndarray,
    reporting: Period,
    self_consumed_kwh: np.ndarray | None = None,
    export_eur_per_kwh: float = 0.0,
    factors: ValueFactors = DEFAULT_VALUE_FACTORS,
    meter_accuracy: float = 0.02,
) -> MeterSavings:
    """IPMVP option B for a PV array: the baseline of the isolated system is zero production,
    so the avoided grid energy is the measured production (or its self-consumed part when
    known); uncertainty = meter accuracy (class 1/2 %: ±2 % as a 90 % bound, half at 68 %).
    CO₂: location-based, self-consumed kWh × electricity factor (spec §8); €: self-consumed
    × electricity tariff + exported × ``export_eur_per_kwh``.
    """
    d = np.asarray(dates, dtype="datetime64[D]")
    rm = reporting.mask(d)
    p = np.asarray(production_kwh, dtype=float)[rm]
    sc = p if self_consumed_kwh is None else np.asarray(self_consumed_kwh, dtype=float)[rm]
    valid = np.isfinite(p) & np.isfinite(sc)
    prod = float(p[valid].sum())
    used = float(sc[valid].sum())
    exported = prod - used
    eur = factors.eur("electricity", used) + exported * export_eur_per_kwh
    return MeterSavings(
        meter=meter, site=site, carrier="pv", option="B", baseline=reporting, reporting=reporting, model=None,
        dates=d[rm], actual_kwh=np.where(valid, 0.0, np.nan), adjusted_baseline_kwh=np.where(valid, sc, np.nan),
        valid=valid, adjusted_baseline_total_kwh=used, actual_total_kwh=0.0, avoided_kwh=used, nra_kwh=0.0,
        savings_fraction=math.nan, u68_kwh=used * meter_accuracy / 1.645,
        u90_kwh=used * meter_accuracy, normalised_savings_kwh=math.nan, normal_year_hdd=math.nan,
        avoided_eur=eur, avoided_co2_kg=factors.co2_kg("electricity", used), baseline_days=0, baseline_valid_days=0,
        reporting_valid_days=int(valid.sum()), reasons=() if valid.any() else ("savings.no_valid_reporting_days",),
    )


# ---------------------------------------------------------------------------------------
# aggregation


@dataclass(frozen=True, slots=True)
class SavingsTotal:
    """Savings summed over meters (a building, a carrier, the portfolio).

    Uncertainties are combined in quadrature, ``ΔE = sqrt(Σ ΔE_i²)`` (CalTRACK §4.3.2.5:
    meters' errors assumed independent).
    """

    label: str
    carrier: str  # a carrier or "total"
    meters: tuple[str, ...]
    adjusted_baseline_kwh: float
    actual_kwh: float
    avoided_kwh: float
    u68_kwh: float
    u90_kwh: float
    normalised_savings_kwh: float
    avoided_eur: float
    avoided_co2_kg: float
    excluded: tuple[str, ...] = ()  # meters left out (not computed)
    forced: tuple[str, ...] = ()  # meters counted although unqualified

    @property
    def computed(self) -> bool:
        """At least one meter is counted: the sums mean something (else they are "not computed")."""
        return bool(self.meters)

    @property
    def avoided_pct(self) -> float:
        """Avoided energy in % of the adjusted baseline. [%]"""
        return 100.0 * self.avoided_kwh / self.adjusted_baseline_kwh if self.adjusted_baseline_kwh else math.nan

    @property
    def significant(self) -> bool:
        return abs(self.avoided_kwh) > self.u90_kwh


def total(label: str, carrier: str, items: Iterable[MeterSavings]) -> SavingsTotal:
    """Sum the counted meters' savings (:attr:`MeterSavings.counted`: qualified, or forced in);
    the others are left out and must be reported as such (``excluded``)."""
    items = list(items)
    ok = [s for s in items if s.counted]
    norm = [s.normalised_savings_kwh for s in ok if math.isfinite(s.normalised_savings_kwh)]
    return SavingsTotal(
        label=label, carrier=carrier, meters=tuple(s.meter for s in ok),
        adjusted_baseline_kwh=sum(s.adjusted_baseline_total_kwh for s in ok),
        actual_kwh=sum(s.actual_total_kwh for s in ok),
        avoided_kwh=sum(s.avoided_kwh for s in ok),
        u68_kwh=math.sqrt(sum(s.u68_kwh**2 for s in ok if math.isfinite(s.u68_kwh))),
        u90_kwh=math.sqrt(sum(s.u90_kwh**2 for s in ok if math.isfinite(s.u90_kwh))),
        normalised_savings_kwh=sum(norm) if len(norm) == len(ok) and ok else math.nan,
        avoided_eur=sum(s.avoided_eur for s in ok),
        avoided_co2_kg=sum(s.avoided_co2_kg for s in ok),
        excluded=tuple(s.meter for s in items if not s.counted),
        forced=tuple(s.meter for s in ok if not s.qualifies),
    )


@dataclass(frozen=True, slots=True)
class MonthlySavings:
    """One row of ``savings_monthly`` (docs/schema.md)."""

    meter: str
    site: str
    carrier: str
    month: dt.date  # first day of the month
    adjusted_baseline_wh: float
    actual_wh: float
    avoided_wh: float
    avoided_eur: float
    avoided_co2_kg: float
    cumulative_avoided_wh: float
    valid_days: int


def monthly_savings(s: MeterSavings, factors: ValueFactors = DEFAULT_VALUE_FACTORS) -> tuple[MonthlySavings, ...]:
    """Calendar-month sums of the valid reporting days, with the running total."""
    if s.dates.size == 0:
        return ()
    months = s.dates.astype("datetime64[M]")
    out: list[MonthlySavings] = []
    cum = 0.0
    value_carrier = "electricity" if s.carrier == "pv" else s.carrier
    for mth in np.unique(months):
        sel = (months == mth) & s.valid
        base = float(s.adjusted_baseline_kwh[sel].sum())
        act = float(s.actual_kwh[sel].sum())
        av = base - act
        cum += av
        out.append(MonthlySavings(
            s.meter, s.site, s.carrier, mth.astype("datetime64[D]").astype(dt.date),
            base * 1000.0, act * 1000.0, av * 1000.0, factors.eur(value_carrier, av),
            factors.co2_kg(value_carrier, av), cum * 1000.0, int(sel.sum())))
    return tuple(out)


def cusum_kwh(actual_kwh: np.ndarray, expected_kwh: np.ndarray) -> np.ndarray:
    """Running sum of ``actual − expected`` (missing days add 0). [kWh]"""
    r = np.asarray(actual_kwh, dtype=float) - np.asarray(expected_kwh, dtype=float)
    return np.cumsum(np.where(np.isfinite(r), r, 0.0))


# ---------------------------------------------------------------------------------------
# measures


@dataclass(frozen=True, slots=True)
class MeasureResult:
    """A retrofit measure's realised savings against its expectation.

    Attributes
    ----------
    status : str
        ``on_track`` (expected within the 90 % band of the realised), ``below``, ``above``
        or ``no_data``.
    simple_payback_years : float
        ``cost / avoided € per year`` (NaN when savings ≤ 0). [year]
    """

    measure: str
    site: str
    kind: str
    date: dt.date
    cost_eur: float
    expected_pct: float
    realised_pct: float
    u90_pct: float
    avoided_kwh: float
    avoided_eur_per_year: float
    simple_payback_years: float
    status: str
    meters: tuple[str, ...]


def measure_result(measure_id: str, site: str, kind: str, date: dt.date, cost_eur: float,
                   expected_savings_pct: float, savings: Sequence[MeterSavings]) -> MeasureResult:
    """Realised savings of a measure (sum over its meters' savings) and simple payback."""
    ok = [s for s in savings if s.counted]
    if not ok:
        return MeasureResult(measure_id, site, kind, date, cost_eur, expected_savings_pct, math.nan, math.nan,
                             math.nan, math.nan, math.nan, "no_data", tuple(s.meter for s in savings))
    tot = total(measure_id, "total", ok)
    days = sum(s.reporting_valid_days for s in ok) / len(ok)
    per_year = tot.avoided_eur * 365.0 / days if days else math.nan
    realised = tot.avoided_pct
    u90_pct = 100.0 * tot.u90_kwh / tot.adjusted_baseline_kwh if tot.adjusted_baseline_kwh else math.nan
    if abs(realised - expected_savings_pct) <= u90_pct:
        status = "on_track"
    else:
        status = "below" if realised < expected_savings_pct else "above"
    payback = cost_eur / per_year if per_year and per_year > 0 else math.nan
    return MeasureResult(measure_id, site, kind, date, cost_eur, expected_savings_pct, realised, u90_pct,
                         tot.avoided_kwh, per_year, payback, status, tuple(s.meter for s in ok))


def parameters_json(items: Iterable[MeterSavings]) -> str:
    """The fitted models of every meter, compact JSON (report metadata)."""
    return json.dumps([s.model_parameters() for s in items], separators=(",", ":"), sort_keys=True)


__all__ = [
    "HEATING_REGRESSOR_NAMES", "in_heating_season", "learnt_heating_season", "season_mask", "model_inputs",
    "smoothed_temperature", "heating_regressors",
    "DEFAULT_EMISSION_FACTORS", "DEFAULT_VALUE_FACTORS", "EmissionFactor", "MeasureResult", "MeterSavings",
    "MonthlySavings", "NonRoutineAdjustment", "Period", "REGRESSOR_NAMES", "SavingsTotal", "ValueFactors",
    "cusum_kwh", "day_type_regressors", "measure_result", "meter_savings", "monthly_savings", "normal_temperature_for",
    "parameters_json", "pv_option_b", "total", "typical_year_temperature",
]

