"""Technology comparison on the PV test platform: yields and PR per technology with uncertainty, ranking, verdict.

Input: the daily production and plane-of-array irradiation of each array. The comparison is
made on the **common days** (every compared array usable on that day), so that each
technology sees the same weather. Uncertainty: a moving-block bootstrap over days (blocks
of 7 days keep the weather's persistence), 95 % percentile intervals, paired across
technologies (the same resampled days for all), so a difference between two technologies has
its own interval. The "ready to scale" rule is a value (:class:`ScaleRule`) stated in words by
:func:`ScaleRule.describe`. Formulas: ``docs/pv.md`` § Technology comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analytics.pv.faults import NS_PER_DAY, yoy_rate

SEASONS: tuple[str, ...] = ("winter", "spring", "summer", "autumn")  # DJF, MAM, JJA, SON
_SEASON_OF_MONTH = np.array([0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0])  # index month-1


@dataclass(frozen=True, eq=False)
class ArrayDays:
    """One array's daily record.

    Attributes
    ----------
    array_id, technology : str
    kwp : float
        P0. [kWp]
    day_start_ns : ndarray of int64
        Local day starts. [UTC ns]
    month : ndarray of int
        Local calendar month of each day (1..12).
    production_wh, irradiation_wh_m2 : ndarray of float
        Daily production [Wh] and POA irradiation [Wh/m²]; NaN = unknown.
    usable : ndarray of bool
        Days fit for comparison (complete data, no outage).
    """

    array_id: str
    technology: str
    kwp: float
    day_start_ns: np.ndarray
    month: np.ndarray
    production_wh: np.ndarray
    irradiation_wh_m2: np.ndarray
    usable: np.ndarray


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with its 95 % interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class TechnologyResult:
    """One technology on the common days.

    Attributes
    ----------
    technology : str
    arrays : tuple of str
    kwp : float
        Total P0 of its arrays. [kWp]
    rank : int
        1 = best performance ratio.
    pr_pct : Interval
        Performance ratio. [%]
    specific_yield_kwh_kwp_yr : Interval
        Annualised final yield ``Σ Y_f · 365.25 / days``. [kWh/kWp/yr]
    seasonal_pr_pct : tuple of (season, float)
        PR per meteorological season (NaN when the season has no common day). [%]
    degradation_pct_per_year : Interval
        Year-on-year rate of the daily PR (NaN under 24 months of data). [%/yr]
    better_than_next : bool or None
        Whether the paired interval of ``PR − PR(next in rank)`` excludes 0 (None for the last).
    """

    technology: str
    arrays: tuple[str, ...]
    kwp: float
    rank: int
    pr_pct: Interval
    specific_yield_kwh_kwp_yr: Interval
    seasonal_pr_pct: tuple[tuple[str, float], ...]
    degradation_pct_per_year: Interval
    better_than_next: bool | None


@dataclass(frozen=True, slots=True)
class ScaleRule:
    """The "ready to scale" rule.

    A technology is ready when, over the last ``window_days`` of common data, it has at least
    ``min_days`` usable days, the lower bound of its PR interval is at least ``min_pr_pct``, and
    its degradation (when measurable) is not worse than ``max_degradation_pct_per_year``.
    """

    min_pr_pct: float = 80.0
    window_days: int = 365
    min_days: int = 250
    max_degradation_pct_per_year: float = -1.0

    def describe(self, lang: str = "en") -> str:
        """The rule in words."""
        if lang == "fr":
            return (f"Prête à déployer : sur les {self.window_days} derniers jours, au moins {self.min_days} jours "
                    f"exploitables, borne basse de l'intervalle à 95 % du PR ≥ {self.min_pr_pct:g} %, et dégradation "
                    f"mesurée (si mesurable) pas pire que {self.max_degradation_pct_per_year:g} %/an.")
        return (f"Ready to scale: over the last {self.window_days} days, at least {self.min_days} usable days, "
                f"lower bound of the 95 % PR interval ≥ {self.min_pr_pct:g} %, and measured degradation "
                f"(when measurable) not worse than {self.max_degradation_pct_per_year:g} %/yr.")


@dataclass(frozen=True, slots=True)
class Verdict:
    """Ready-to-scale verdict of one technology, with the reasons (stable codes) when not."""

    technology: str
    ready: bool
    reasons: tuple[str, ...]
    days: int
    pr_low_pct: float


@dataclass(frozen=True, slots=True)
class Comparison:
    """The comparison: results ranked by PR, the verdicts, and what was compared."""

    results: tuple[TechnologyResult, ...]
    verdicts: tuple[Verdict, ...]
    common_days: int
    first_day_ns: int
    last_day_ns: int
    rule: ScaleRule


def _block_indices(n: int, n_boot: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Moving-block bootstrap resamples of ``range(n)``: shape (n_boot, n)."""
    block = max(1, min(block, n))
    n_blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n_boot, -1)[:, :n]
    return idx


def _interval(value: float, samples: np.ndarray) -> Interval:
    lo, hi = np.nanpercentile(samples, [2.5, 97.5]) if samples.size else (np.nan, np.nan)
    return Interval(float(value), float(lo), float(hi))


def compare_technologies(arrays: Sequence[ArrayDays], *, rule: ScaleRule = ScaleRule(), n_boot: int = 1000,
                         block_days: int = 7, seed: int = 0) -> Comparison:
    """Compare technologies on their common usable days; rank by PR; give each a verdict.

    Parameters
    ----------
    arrays : sequence of ArrayDays
        Arrays on the same day grid (same ``day_start_ns``).
    rule : ScaleRule
        The ready-to-scale rule.
    n_boot, block_days, seed : int
        Bootstrap resamples, block length [d], random seed (results are reproducible).
    """
    if not arrays:
        raise ValueError("no arrays to compare")
    days = arrays[0].day_start_ns
    for a in arrays:
        if a.day_start_ns.shape != days.shape or np.any(a.day_start_ns != days):
            raise ValueError("arrays must share the same day grid")
    common = np.logical_and.reduce([a.usable & np.isfinite(a.production_wh) & np.isfinite(a.irradiation_wh_m2)
                                    & (a.irradiation_wh_m2 > 0) for a in arrays])
    techs = sorted({a.technology for a in arrays})
    sel = np.flatnonzero(common)
    n = sel.size
    if n < 2:
        raise ValueError("fewer than 2 common usable days")
    # per technology, per common day: energy [kWh], P0·H [kWp·kWh/m² = kWh at STC]
    e = np.zeros((len(techs), n))
    ref = np.zeros((len(techs), n))
    kwp = np.zeros(len(techs))
    members: dict[str, list[str]] = {t: [] for t in techs}
    for a in arrays:
        k = techs.index(a.technology)
        e[k] += a.production_wh[sel] / 1000.0
        ref[k] += a.kwp * a.irradiation_wh_m2[sel] / 1000.0
        kwp[k] += a.kwp
        members[a.technology].append(a.array_id)
    months = arrays[0].month[sel]
    pr = e.sum(axis=1) / ref.sum(axis=1)
    sy = e.sum(axis=1) / kwp * 365.25 / n
    rng = np.random.default_rng(seed)
    bi = _block_indices(n, n_boot, block_days, rng)
    e_b = e[:, bi].sum(axis=2)  # (techs, boot)
    ref_b = ref[:, bi].sum(axis=2)
    pr_b = e_b / ref_b
    sy_b = e_b / kwp[:, None] * 365.25 / n
    order = np.argsort(-pr, kind="stable")
    seasons = _SEASON_OF_MONTH[months - 1]
    # monthly PR series per technology (for the degradation trend)
    month_key = _year_month(days[sel])
    uniq_m = np.unique(month_key)
    results: list[TechnologyResult] = []
    for rank, k in enumerate(order, start=1):
        seasonal = []
        for si, name in enumerate(SEASONS):
            m = seasons == si
            seasonal.append((name, float(100.0 * e[k, m].sum() / ref[k, m].sum()) if m.any() else float("nan")))
        tr = yoy_rate(days[sel], e[k] / ref[k]) if uniq_m.size >= 24 else None
        if tr is not None and np.isfinite(tr.rate_pct_per_year):
            deg = Interval(tr.rate_pct_per_year, tr.low_pct_per_year, tr.high_pct_per_year)
        else:
            deg = Interval(float("nan"), float("nan"), float("nan"))
        better: bool | None = None
        if rank < len(order):
            nxt = order[rank]
            diff = pr_b[k] - pr_b[nxt]
            better = bool(np.nanpercentile(diff, 2.5) > 0)
        results.append(TechnologyResult(
            technology=techs[k], arrays=tuple(members[techs[k]]), kwp=float(kwp[k]), rank=rank,
            pr_pct=_interval(100.0 * pr[k], 100.0 * pr_b[k]),
            specific_yield_kwh_kwp_yr=_interval(sy[k], sy_b[k]),
            seasonal_pr_pct=tuple(seasonal), degradation_pct_per_year=deg, better_than_next=better))
    verdicts = _verdicts(techs, e, ref, days[sel], results, rule, n_boot, block_days, seed)
    return Comparison(tuple(results), verdicts, n, int(days[sel][0]), int(days[sel][-1]), rule)


def _verdicts(techs: list[str], e: np.ndarray, ref: np.ndarray, day_ns: np.ndarray,
              results: list[TechnologyResult], rule: ScaleRule, n_boot: int, block_days: int,
              seed: int) -> tuple[Verdict, ...]:
    last = int(day_ns[-1])
    window = day_ns > last - rule.window_days * NS_PER_DAY
    nw = int(window.sum())
    rng = np.random.default_rng(seed + 1)
    out = []
    by_tech = {r.technology: r for r in results}
    for k, tech in enumerate(techs):
        reasons = []
        if nw >= 2:
            bi = _block_indices(nw, n_boot, block_days, rng)
            pr_b = e[k, window][bi].sum(axis=1) / ref[k, window][bi].sum(axis=1)
            low = float(100.0 * np.percentile(pr_b, 2.5))
        else:
            low = float("nan")
        if nw < rule.min_days:
            reasons.append("not_enough_days")
        if not (low >= rule.min_pr_pct):
            reasons.append("pr_below_threshold")
        deg = by_tech[tech].degradation_pct_per_year.value
        if np.isfinite(deg) and deg < rule.max_degradation_pct_per_year:
            reasons.append("degradation_too_fast")
        out.append(Verdict(tech, not reasons, tuple(reasons), nw, low))
    return tuple(sorted(out, key=lambda v: [r.technology for r in results].index(v.technology)))


def _year_month(day_start_ns: np.ndarray) -> np.ndarray:
    """``year·12 + month − 1`` of each local day."""
    from terril.timeutil import local_date

    ds = [local_date(int(t) + 12 * 3600 * 10**9) for t in day_start_ns]
    return np.array([d.year * 12 + d.month - 1 for d in ds], dtype=int)


def months_of(day_start_ns: npt.ArrayLike) -> np.ndarray:
    """Local (Europe/Paris) calendar month (1..12) of each day start."""
    from terril.timeutil import local_date

    return np.array([local_date(int(t) + 12 * 3600 * 10**9).month for t in np.asarray(day_start_ns)], dtype=int)
