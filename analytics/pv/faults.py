"""PV faults: inverter offline in daylight, string loss, soiling/degradation trend, clipping.

Each detector is a pure function over one array's bucket or daily series and returns
:class:`analytics.drift.Alert` values (the same form as the consumption drift alerts), with
kinds ``pv_offline``, ``pv_string_loss``, ``pv_degradation`` and ``pv_clipping``. The rules and
their default thresholds are written in ``docs/pv.md`` § Faults.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analytics.drift import Alert, Evidence

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
S_PER_H = 3600.0


# ------------------------------------------------------------------------------ inverter offline

@dataclass(frozen=True, slots=True)
class OfflineSettings:
    """Inverter-offline rule.

    Attributes
    ----------
    daylight_fraction_of_p0 : float
        A bucket is daylight when the expected mean power exceeds this fraction of P0. [1]
    down_fraction : float
        A daylight bucket is down when it produced less than this fraction of expectation,
        or when no reading covers it. [1]
    min_outage_s : float
        Daylight time down, in a row (nights do not break a run), that raises the alert. [s]
    """

    daylight_fraction_of_p0: float = 0.05
    down_fraction: float = 0.1
    min_outage_s: float = 2 * 3600.0


def detect_offline(meter: str, bucket_start_ns: npt.ArrayLike, bucket_end_ns: npt.ArrayLike,
                   production_wh: npt.ArrayLike, expected_wh: npt.ArrayLike, kwp: float,
                   settings: OfflineSettings = OfflineSettings()) -> tuple[Alert, ...]:
    """Inverter offline: a run of daylight buckets without production.

    Parameters
    ----------
    meter : str
        The array's PV meter id.
    bucket_start_ns, bucket_end_ns : array of int
        Bucket bounds. [UTC ns]
    production_wh : array of float
        Production per bucket; NaN where no reading covers the bucket (counted as down). [Wh]
    expected_wh : array of float
        Expected production per bucket; NaN where the weather is unknown (not judged). [Wh]
    kwp : float
        P0. [kWp]

    Returns
    -------
    tuple of Alert
        One per outage; ``onset_ns`` is the first down daylight bucket, ``detected_ns`` the end
        of the bucket where the daylight outage reached ``min_outage_s``; ``state`` is ``open``
        when the last daylight bucket is still down, else ``closed``. Magnitude: expected
        energy lost per day of outage (kWh/day) and −100 %.
    """
    s = np.asarray(bucket_start_ns, dtype=np.int64)
    e = np.asarray(bucket_end_ns, dtype=np.int64)
    p = np.asarray(production_wh, dtype=float)
    x = np.asarray(expected_wh, dtype=float)
    dur_s = (e - s) / NS_PER_S
    day = np.isfinite(x) & (x > settings.daylight_fraction_of_p0 * kwp * 1000.0 * dur_s / S_PER_H)
    idx = np.flatnonzero(day)
    if idx.size == 0:
        return ()
    down = ~(np.isfinite(p[idx]) & (p[idx] >= settings.down_fraction * x[idx]))
    alerts: list[Alert] = []
    k = 0
    while k < idx.size:
        if not down[k]:
            k += 1
            continue
        j = k
        while j + 1 < idx.size and down[j + 1]:
            j += 1
        run = idx[k:j + 1]
        cum = np.cumsum(dur_s[run])
        hit = np.flatnonzero(cum >= settings.min_outage_s)
        if hit.size:
            first, last = int(run[0]), int(run[-1])
            lost = float(np.sum(np.clip(x[run] - np.nan_to_num(p[run]), 0.0, None)))
            span_days = max((int(e[last]) - int(s[first])) / NS_PER_DAY, 1.0)
            open_ = j == idx.size - 1
            alerts.append(Alert(
                kind="pv_offline", meter=meter, onset_ns=int(s[first]), detected_ns=int(e[run[hit[0]]]),
                magnitude_kwh_per_day=lost / 1000.0 / span_days, magnitude_pct=-100.0,
                evidence=Evidence(s[run].copy(), np.nan_to_num(p[run]) - x[run], cum / 3600.0),
                # over when the next daylight bucket produced again
                state="open" if open_ else "closed", end_ns=None if open_ else int(s[idx[j + 1]])))
        k = j + 1
    return tuple(alerts)


# ------------------------------------------------------------------------------ string loss

@dataclass(frozen=True, slots=True)
class StringLossSettings:
    """String-loss rule on the array's own daily performance index ``PI = actual / expected``.

    The defaults are those of an array without peers (a town with a single array): days of
    ≥ 600 Wh/m² (some in every winter month) and a 15 % tolerance, which pays for the noisier PI
    of those days; :data:`FORMER_STRING_LOSS` is the rule every array had before the peer rule
    (figures in docs/pv.md).

    Attributes
    ----------
    min_irradiation_wh_m2 : float
        A day is usable ("bright enough") when its POA irradiation is at least this. [Wh/m²]
    min_availability_pct : float
        Days with an outage are left to the offline detector. [%]
    baseline_days : int
        Usable days before the tested day whose median PI is the reference.
    min_baseline_days : int
        Fewer usable days: no judgement.
    drop_pct : float
        A day is low when its PI is below the reference by more than this. [%]
    confirm_days : int
        Consecutive low usable days that raise the alert (the alert is dated on the last).
    """

    min_irradiation_wh_m2: float = 600.0
    min_availability_pct: float = 95.0
    baseline_days: int = 30
    min_baseline_days: int = 10
    drop_pct: float = 15.0
    confirm_days: int = 3


#: The rule of every array before the peer rule: sunny days only (≥ 1500 Wh/m², none in a
#: December of the Pas-de-Calais) and a 10 % tolerance; kept for comparison.
FORMER_STRING_LOSS = StringLossSettings(min_irradiation_wh_m2=1500.0, drop_pct=10.0)


def usable_days(production_wh: npt.ArrayLike, expected_wh: npt.ArrayLike, irradiation_wh_m2: npt.ArrayLike,
                availability: npt.ArrayLike, min_irradiation_wh_m2: float, min_availability_pct: float) -> np.ndarray:
    """Days fit for a performance judgement: finite data, enough sun, no outage."""
    p = np.asarray(production_wh, dtype=float)
    x = np.asarray(expected_wh, dtype=float)
    h = np.asarray(irradiation_wh_m2, dtype=float)
    a = np.asarray(availability, dtype=float)
    return (np.isfinite(p) & np.isfinite(x) & (x > 0) & np.isfinite(h) & (h >= min_irradiation_wh_m2)
            & np.isfinite(a) & (a >= min_availability_pct))


def detect_string_loss(meter: str, day_start_ns: npt.ArrayLike, production_wh: npt.ArrayLike,
                       expected_wh: npt.ArrayLike, irradiation_wh_m2: npt.ArrayLike, availability: npt.ArrayLike,
                       settings: StringLossSettings = StringLossSettings()) -> tuple[Alert, ...]:
    """String loss: a persistent drop of the daily PI against the array's own recent median.

    The reference is the median PI of the ``baseline_days`` usable days before the tested
    day, frozen while an alert is open; the alert is raised on the ``confirm_days``-th
    consecutive usable day whose PI is more than ``drop_pct`` below it, with onset on the first
    of them, and closed after ``confirm_days`` consecutive usable days back within ``drop_pct/2``.
    Comparing the array to itself cancels the bias of the irradiance model.

    Returns
    -------
    tuple of Alert
        Magnitude: mean energy missing per usable day (kWh/day) and the median relative drop (%, negative).
    """
    p = np.asarray(production_wh, dtype=float)
    x = np.asarray(expected_wh, dtype=float)
    ok = usable_days(p, x, irradiation_wh_m2, availability, settings.min_irradiation_wh_m2,
                     settings.min_availability_pct)
    return _step_alerts(meter, day_start_ns, p, x, ok, settings.baseline_days, settings.min_baseline_days,
                        settings.drop_pct, settings.confirm_days)


def _step_alerts(meter: str, day_start_ns: npt.ArrayLike, p: np.ndarray, x: np.ndarray, ok: np.ndarray,
                 baseline_days: int, min_baseline_days: int, drop_pct: float, confirm_days: int) -> tuple[Alert, ...]:
    """The step rule of :func:`detect_string_loss` on ``PI = p / x`` over the days where ``ok``."""
    t = np.asarray(day_start_ns, dtype=np.int64)
    idx = np.flatnonzero(ok)
    pi = p[idx] / x[idx]
    alerts: list[Alert] = []
    low_run: list[int] = []
    ok_run = 0
    ref = float("nan")
    episode: list[int] | None = None
    thr = drop_pct / 100.0

    def close(state: str) -> None:
        assert episode is not None
        members = np.asarray(episode)
        ratio = pi[members] / ref
        missing = (x[idx[members]] * ref - p[idx[members]]) / 1000.0
        alerts.append(Alert(
            kind="pv_string_loss", meter=meter, onset_ns=int(t[idx[members[0]]]),
            detected_ns=int(t[idx[members[confirm_days - 1]]]) + NS_PER_DAY,
            magnitude_kwh_per_day=-float(np.mean(missing)), magnitude_pct=float(np.median(ratio) - 1.0) * 100.0,
            evidence=Evidence(t[idx[members]].copy(), -missing, ratio), state=state,
            end_ns=int(t[idx[members[-1]]]) + NS_PER_DAY if state == "closed" else None))

    for k in range(idx.size):
        if episode is None:
            past = pi[max(0, k - baseline_days):k]
            # the reference ignores the days already in the current low run
            past = past[:past.size - len(low_run)] if low_run else past
            if past.size < min_baseline_days:
                continue
            ref_k = float(np.median(past))
            if pi[k] < (1.0 - thr) * ref_k:
                if not low_run:
                    ref = ref_k
                low_run.append(k)
                if len(low_run) >= confirm_days:
                    episode = list(low_run)
                    low_run = []
                    ok_run = 0
            else:
                low_run = []
        else:
            if pi[k] >= (1.0 - thr / 2.0) * ref:
                ok_run += 1
                if ok_run >= confirm_days:
                    close("closed")
                    episode = None
                    ok_run = 0
            else:
                ok_run = 0
                episode.append(k)
    if episode is not None:
        close("open")
    return tuple(alerts)


@dataclass(frozen=True, slots=True)
class PeerStringLossSettings:
    """String-loss rule against the other arrays of the town (all seasons, dark days included).

    The arrays of a town share the weather, so on the same day the irradiance model errs on all
    of them alike: the array's PI divided by the median PI of its peers (the *peer ratio*) is
    steady even on days too dark for :class:`StringLossSettings`. A step of that ratio is a loss
    of this array, not of the sky.

    Attributes
    ----------
    min_irradiation_wh_m2 : float
        A day is usable when the array's POA irradiation is at least this; the same for each peer. [Wh/m²]
    min_availability_pct : float
        Days with an outage (of the array or of a peer) are left out. [%]
    min_peers : int
        Usable peers needed on a day (the median of one peer is that peer).
    baseline_days, min_baseline_days, drop_pct, confirm_days
        As in :class:`StringLossSettings`, on the peer ratio. 12 % and 4 days rather than 10 % and
        3: the simulated arrays share one sky, real neighbours do not quite (docs/pv.md gives the
        false alarms with per-roof noise added).
    """

    min_irradiation_wh_m2: float = 300.0
    min_availability_pct: float = 95.0
    min_peers: int = 1
    baseline_days: int = 30
    min_baseline_days: int = 10
    drop_pct: float = 12.0
    confirm_days: int = 4


def peer_pi(production_wh: npt.ArrayLike, expected_wh: npt.ArrayLike, irradiation_wh_m2: npt.ArrayLike,
            availability: npt.ArrayLike, settings: PeerStringLossSettings = PeerStringLossSettings()
            ) -> tuple[np.ndarray, np.ndarray]:
    """Median PI of the *other* arrays, per array and day.

    Parameters
    ----------
    production_wh, expected_wh, irradiation_wh_m2, availability : 2-D arrays (arrays × days)
        Daily figures of the town's arrays on a shared day grid. [Wh, Wh, Wh/m², %]

    Returns
    -------
    (median, count) : 2-D arrays (arrays × days)
        Median PI of the usable peers (NaN below ``min_peers``) and how many there were.
    """
    p = np.atleast_2d(np.asarray(production_wh, dtype=float))
    x = np.atleast_2d(np.asarray(expected_wh, dtype=float))
    ok = usable_days(p, x, irradiation_wh_m2, availability, settings.min_irradiation_wh_m2,
                     settings.min_availability_pct)
    pi = np.where(ok, p / np.where(x > 0, x, np.nan), np.nan)
    med = np.full(p.shape, np.nan)
    count = np.zeros(p.shape, dtype=int)
    for i in range(p.shape[0]):
        others = np.delete(pi, i, axis=0)
        n = np.sum(np.isfinite(others), axis=0)
        count[i] = n
        enough = n >= max(settings.min_peers, 1)
        if enough.any():
            med[i, enough] = np.nanmedian(others[:, enough], axis=0)
    return med, count


def detect_string_loss_peers(meter: str, day_start_ns: npt.ArrayLike, production_wh: npt.ArrayLike,
                             expected_wh: npt.ArrayLike, irradiation_wh_m2: npt.ArrayLike,
                             availability: npt.ArrayLike, peer_median_pi: npt.ArrayLike,
                             settings: PeerStringLossSettings = PeerStringLossSettings()) -> tuple[Alert, ...]:
    """String loss judged on the peer ratio ``PI / median PI of the peers`` (see :class:`PeerStringLossSettings`).

    The step rule is that of :func:`detect_string_loss` with the expectation replaced by
    ``expected × median PI of the peers`` (what the array would have made had it done as well
    as its neighbours that day), so the magnitude is the energy missing against the neighbours
    (kWh/day) and the median relative drop (%, negative).
    """
    p = np.asarray(production_wh, dtype=float)
    x = np.asarray(expected_wh, dtype=float)
    m = np.asarray(peer_median_pi, dtype=float)
    ok = (usable_days(p, x, irradiation_wh_m2, availability, settings.min_irradiation_wh_m2,
                      settings.min_availability_pct) & np.isfinite(m) & (m > 0))
    x_peer = np.where(ok, x * np.where(np.isfinite(m), m, 0.0), np.nan)
    return _step_alerts(meter, day_start_ns, p, x_peer, ok, settings.baseline_days, settings.min_baseline_days,
                        settings.drop_pct, settings.confirm_days)


# ------------------------------------------------------------------------------ trend

@dataclass(frozen=True, slots=True)
class Trend:
    """Relative trend of the performance index.

    Attributes
    ----------
    rate_pct_per_year : float
        Theil-Sen slope divided by the median PI. [%/yr]
    low_pct_per_year, high_pct_per_year : float
        95 % confidence interval of the slope (Sen). [%/yr]
    days : int
        Usable days used.
    span_days : float
        Time between the first and last of them. [d]
    """

    rate_pct_per_year: float
    low_pct_per_year: float
    high_pct_per_year: float
    days: int
    span_days: float


def pi_trend(day_start_ns: npt.ArrayLike, pi: npt.ArrayLike) -> Trend:
    """Theil-Sen trend of a daily performance index (robust to outliers), relative to its median."""
    from scipy.stats import theilslopes

    t = np.asarray(day_start_ns, dtype=np.int64)
    y = np.asarray(pi, dtype=float)
    ok = np.isfinite(y)
    t, y = t[ok], y[ok]
    if y.size < 10:
        return Trend(float("nan"), float("nan"), float("nan"), int(y.size), 0.0)
    years = (t - t[0]) / NS_PER_DAY / 365.25
    slope, _, lo, hi = theilslopes(y, years, 0.95)
    med = float(np.median(y))
    return Trend(100.0 * slope / med, 100.0 * lo / med, 100.0 * hi / med, int(y.size),
                 float((t[-1] - t[0]) / NS_PER_DAY))


def yoy_ratios(day_start_ns: npt.ArrayLike, pi: npt.ArrayLike, later_from_ns: int | None = None) -> np.ndarray:
    """``PI(d + 365) / PI(d) − 1`` over every usable pair of days a year apart (the later day at or
    after ``later_from_ns`` when given). [1]"""
    t = np.asarray(day_start_ns, dtype=np.int64)
    y = np.asarray(pi, dtype=float)
    if t.size == 0:
        return np.zeros(0)
    day = np.round((t - t[0]) / NS_PER_DAY).astype(int)
    pos = {int(d): i for i, d in enumerate(day)}
    out = []
    for i, d in enumerate(day.tolist()):
        j = pos.get(d + 365)
        if j is None or not (np.isfinite(y[i]) and np.isfinite(y[j]) and y[i] > 0):
            continue
        if later_from_ns is not None and t[j] < later_from_ns:
            continue
        out.append(y[j] / y[i] - 1.0)
    return np.asarray(out, dtype=float)


def _median_trend(r: np.ndarray, span: float, n_boot: int, seed: int, min_pairs: int) -> Trend:
    if r.size < min_pairs:
        return Trend(float("nan"), float("nan"), float("nan"), int(r.size), span)
    rng = np.random.default_rng(seed)
    boot = np.median(r[rng.integers(0, r.size, size=(n_boot, r.size))], axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return Trend(100.0 * float(np.median(r)), 100.0 * float(lo), 100.0 * float(hi), int(r.size), span)


def yoy_rate(day_start_ns: npt.ArrayLike, pi: npt.ArrayLike, n_boot: int = 500, seed: int = 0) -> Trend:
    """Year-on-year degradation rate: median of ``PI(d + 365) / PI(d) − 1`` over usable day pairs.

    Comparing each day with the same day a year later removes the seasonal pattern that a
    straight-line fit mistakes for a trend (the RdTools year-on-year method, Jordan et al. 2018).
    The interval is a bootstrap of the median over pairs. Needs ≥ 30 pairs.
    """
    t = np.asarray(day_start_ns, dtype=np.int64)
    span = float((t[-1] - t[0]) / NS_PER_DAY) if t.size else 0.0
    return _median_trend(yoy_ratios(t, pi), span, n_boot, seed, 30)


@dataclass(frozen=True, slots=True)
class TrendSettings:
    """Soiling and degradation rules (a trend alert needs its whole confidence interval beyond the threshold).

    Both are year on year, on the performance index (production over the temperature- and
    irradiance-corrected expectation): never a straight line through a few weeks of PR, whose
    seasonal swing (the irradiance model's bias, 78 % in June to 111 % in December on the
    simulated fleet) a 60-day slope took for −45 to −71 %/yr of degradation.

    Attributes
    ----------
    degradation_threshold_pct_per_year : float
        Long-term loss rate that is abnormal (typical crystalline modules lose 0.5–0.8 %/yr). [%/yr]
    degradation_min_span_days : float
        Span of data needed for a degradation verdict: about two years, so that the year-on-year
        pairs cover every season twice over. [d]
    soiling_window_days : float
        Recent window for soiling. [d]
    soiling_threshold_pct : float
        Loss of the recent window against the same days a year earlier, beyond the array's
        long-term year-on-year rate, that is abnormal. [%]
    min_irradiation_wh_m2, min_availability_pct : float
        Usable days, as for the string loss.
    """

    degradation_threshold_pct_per_year: float = -1.5
    degradation_min_span_days: float = 700.0
    soiling_window_days: float = 60.0
    soiling_threshold_pct: float = -5.0
    min_irradiation_wh_m2: float = 1500.0
    min_availability_pct: float = 95.0


def detect_trend(meter: str, day_start_ns: npt.ArrayLike, production_wh: npt.ArrayLike, expected_wh: npt.ArrayLike,
                 irradiation_wh_m2: npt.ArrayLike, availability: npt.ArrayLike,
                 settings: TrendSettings = TrendSettings()) -> tuple[Alert, ...]:
    """Degradation and soiling, both year on year, as ``pv_degradation`` alerts.

    Degradation: the year-on-year rate over the whole history (:func:`yoy_rate`), judged after
    ``degradation_min_span_days``. Soiling: the days of the recent window against the same days a
    year earlier (median of the ratios), less the long-term rate where one is known. An alert needs
    the upper bound of the 95 % interval below the threshold. Its magnitude is the rate
    (``magnitude_pct``, %/yr; % for soiling) and the energy per day it costs (kWh/day).
    ``evidence.statistic`` holds the PI relative to its median; onset is the first day of the
    window, detection the day after its last day.
    """
    t = np.asarray(day_start_ns, dtype=np.int64)
    p = np.asarray(production_wh, dtype=float)
    x = np.asarray(expected_wh, dtype=float)
    ok = usable_days(p, x, irradiation_wh_m2, availability, settings.min_irradiation_wh_m2, settings.min_availability_pct)
    if not ok.any():
        return ()
    alerts: list[Alert] = []
    pi_all = np.where(ok, p / np.where(x > 0, x, np.nan), np.nan)
    span = float((t[ok][-1] - t[ok][0]) / NS_PER_DAY)
    deg = yoy_rate(t[ok], pi_all[ok])
    med = float(np.median(pi_all[ok]))
    if np.isfinite(deg.rate_pct_per_year) and span >= settings.degradation_min_span_days \
            and deg.high_pct_per_year < settings.degradation_threshold_pct_per_year:
        sel = ok
        mean_expected_kwh = float(np.mean(x[sel])) / 1000.0
        lost = -deg.rate_pct_per_year / 100.0 * deg.span_days / 365.25 * mean_expected_kwh * med
        alerts.append(Alert(kind="pv_degradation", meter=meter, onset_ns=int(t[sel][0]),
                            detected_ns=int(t[sel][-1]) + NS_PER_DAY, magnitude_kwh_per_day=-lost,
                            magnitude_pct=deg.rate_pct_per_year,
                            evidence=Evidence(t[sel].copy(), p[sel] - x[sel] * med, pi_all[sel] / med), state="open"))
    # soiling: the recent window against the same days one year earlier (seasons cancel out)
    start = int(t[ok][-1]) - int(settings.soiling_window_days * NS_PER_DAY)
    r = yoy_ratios(t[ok], pi_all[ok], later_from_ns=start)
    soil = _median_trend(r, settings.soiling_window_days, 500, 0, max(10, int(0.3 * settings.soiling_window_days)))
    if np.isfinite(soil.rate_pct_per_year) and not alerts:
        base = deg.rate_pct_per_year if np.isfinite(deg.rate_pct_per_year) and deg.days >= 120 else 0.0
        if soil.high_pct_per_year - base < settings.soiling_threshold_pct:
            sel = ok & (t >= start)
            loss_pct = soil.rate_pct_per_year - base
            lost_kwh = -loss_pct / 100.0 * float(np.mean(p[sel])) / 1000.0 / max(1.0 + loss_pct / 100.0, 0.05)
            alerts.append(Alert(kind="pv_degradation", meter=meter, onset_ns=int(t[sel][0]),
                                detected_ns=int(t[sel][-1]) + NS_PER_DAY, magnitude_kwh_per_day=-lost_kwh,
                                magnitude_pct=loss_pct,
                                evidence=Evidence(t[sel].copy(), p[sel] - x[sel] * med, pi_all[sel] / med),
                                state="open"))
    return tuple(alerts)


# ------------------------------------------------------------------------------ clipping

@dataclass(frozen=True, slots=True)
class ClippingSettings:
    """Clipping rule.

    Attributes
    ----------
    plateau_fraction : float
        A bucket is clipped when its mean power is at least this fraction of the inverter's AC
        limit (the registry's ``inverter_ac_kw``) and the unclipped expectation is above it. [1]
    min_loss_pct : float
        Clipped energy (expected above the limit) that raises the alert, in percent of the
        production of the window. [%]
    """

    plateau_fraction: float = 0.97
    min_loss_pct: float = 1.0


def detect_clipping(meter: str, bucket_start_ns: npt.ArrayLike, bucket_end_ns: npt.ArrayLike,
                    production_wh: npt.ArrayLike, expected_unclipped_wh: npt.ArrayLike, inverter_ac_kw: float | None,
                    settings: ClippingSettings = ClippingSettings()) -> tuple[Alert, ...]:
    """Clipping: production held at the inverter's limit while more was available.

    Parameters
    ----------
    production_wh : array of float
        Production per bucket. [Wh]
    expected_unclipped_wh : array of float
        Expected AC production per bucket without the inverter limit. [Wh]
    inverter_ac_kw : float or None
        AC limit; without it, the highest observed mean power is taken as the limit. [kW]

    Returns
    -------
    tuple of Alert
        At most one for the window: onset the first clipped bucket, detection the end of the
        window, magnitude the clipped energy per day (kWh/day, negative) and its share of
        production (%, negative).
    """
    s = np.asarray(bucket_start_ns, dtype=np.int64)
    e = np.asarray(bucket_end_ns, dtype=np.int64)
    p = np.asarray(production_wh, dtype=float)
    x = np.asarray(expected_unclipped_wh, dtype=float)
    if p.size == 0 or not np.isfinite(p).any():
        return ()
    hours = (e - s) / NS_PER_S / S_PER_H
    power_w = p / hours
    limit_w = inverter_ac_kw * 1000.0 if inverter_ac_kw is not None else float(np.nanmax(power_w))
    if not limit_w > 0:
        return ()
    clipped = np.isfinite(power_w) & (power_w >= settings.plateau_fraction * limit_w) & np.isfinite(x) & (x > limit_w * hours)
    if not clipped.any():
        return ()
    lost_wh = float(np.sum(x[clipped] - p[clipped].clip(None, limit_w * hours[clipped])))
    produced = float(np.nansum(p))
    share = 100.0 * lost_wh / produced if produced > 0 else float("inf")
    if share < settings.min_loss_pct:
        return ()
    days = max((int(e[-1]) - int(s[0])) / NS_PER_DAY, 1.0)
    first = int(np.flatnonzero(clipped)[0])
    return (Alert(kind="pv_clipping", meter=meter, onset_ns=int(s[first]), detected_ns=int(e[-1]),
                  magnitude_kwh_per_day=-lost_wh / 1000.0 / days, magnitude_pct=-share,
                  evidence=Evidence(s[clipped].copy(), p[clipped] - x[clipped], power_w[clipped] / limit_w),
                  state="open"),)
