"""PV performance: expected output from the weather, IEC 61724 yields and ratios, self-consumption, losses.

Pure functions over numpy arrays; times are UTC nanoseconds (int64), energies Wh, powers W,
irradiances W/m², irradiations Wh/m². Nothing here does I/O.

Conventions (``docs/pv.md`` § Conventions):

* A **grid** is an increasing array of instants ``g``; bucket ``k`` is ``[g[k], g[k+1])``.
* A weather reading stamped ``t`` is the mean over the interval that ends at ``t`` (how the
  station and the simulator report), so it is assigned to the bucket containing ``t - ε``,
  and the sun's position is taken at the bucket's mid-point.
* Plane-of-array (POA) irradiance comes from the measured global horizontal irradiance (GHI):
  Erbs decomposition into beam and diffuse, Hay-Davies transposition, ground albedo 0.2.
* Expected AC power is PVWatts: ``P_dc = P0 · G_poa/1000 · (1 + γ (T_cell − 25 °C))``,
  ``P_ac = min(P_dc · (1 − losses/100), P_ac,max)``; cell temperature by the Faiman model.
* ``PR = Y_f / Y_r`` with ``Y_f = E / P0`` and ``Y_r = H_poa / G_ref`` (IEC 61724-1), the
  temperature-corrected PR divides by ``Σ P0 · G/G_ref · (1 + γ (T_cell − 25 °C)) · Δt`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NS_PER_S = 1_000_000_000
S_PER_H = 3600.0
G_REF_W_M2 = 1000.0
T_REF_C = 25.0
ALBEDO = 0.2
#: A bucket is "daylight" for availability when the expected output exceeds this fraction of
#: P0 (i.e. POA irradiance above ~50 W/m²). [1]
DAYLIGHT_FRACTION_OF_P0 = 0.05
#: A daylight bucket counts as available when it produced at least this fraction of expectation. [1]
AVAILABLE_FRACTION = 0.1

#: Typical power temperature coefficients γ_Pmp per technology. [%/K] Typical datasheet values
#: (manufacturers' data sheets; IEA-PVPS Task 13 reports give the same ranges); override per
#: array when the data sheet is known.
GAMMA_PCT_PER_K: dict[str, float] = {
    "mono_perc": -0.35,
    "polycrystalline": -0.40,
    "thin_film_cdte": -0.28,
    "thin_film_cigs": -0.36,
    "amorphous_si": -0.20,
    "heterojunction": -0.26,
    "topcon": -0.30,
    "bifacial": -0.35,
    "hybrid_pvt": -0.38,
}
DEFAULT_GAMMA_PCT_PER_K = -0.37


def gamma_of(technology: str) -> float:
    """Power temperature coefficient of a technology (default for unknown ones). [%/K]"""
    return GAMMA_PCT_PER_K.get(technology, DEFAULT_GAMMA_PCT_PER_K)


# ------------------------------------------------------------------------------ geometry

@dataclass(frozen=True, eq=False)
class SolarGeometry:
    """Sun position at instants (UTC ns).

    Attributes
    ----------
    time_ns : ndarray of int64
        Instants. [UTC ns]
    apparent_zenith_deg, zenith_deg, azimuth_deg : ndarray of float
        Sun position. [deg]
    dni_extra_w_m2 : ndarray of float
        Extraterrestrial normal irradiance. [W/m²]
    """

    time_ns: IntArray
    apparent_zenith_deg: FloatArray
    zenith_deg: FloatArray
    azimuth_deg: FloatArray
    dni_extra_w_m2: FloatArray


def _index(time_ns: npt.ArrayLike):  # noqa: ANN202 - pandas only at this edge
    import pandas as pd

    return pd.DatetimeIndex(np.asarray(time_ns, dtype=np.int64).astype("datetime64[ns]"), tz="UTC")


def solar_geometry(time_ns: npt.ArrayLike, latitude: float, longitude: float, altitude_m: float = 50.0) -> SolarGeometry:
    """Sun position (NREL SPA, pvlib) and extraterrestrial irradiance at ``time_ns``.

    Parameters
    ----------
    time_ns : array of int
        Instants. [UTC ns]
    latitude, longitude : float
        Place. [deg]
    altitude_m : float
        Altitude. [m]
    """
    import pvlib

    t = np.asarray(time_ns, dtype=np.int64)
    if t.size == 0:
        e = np.zeros(0)
        return SolarGeometry(t, e, e, e, e)
    idx = _index(t)
    sp = pvlib.solarposition.get_solarposition(idx, latitude, longitude, altitude=altitude_m)
    extra = pvlib.irradiance.get_extra_radiation(idx)
    return SolarGeometry(t, sp["apparent_zenith"].to_numpy(float), sp["zenith"].to_numpy(float),
                         sp["azimuth"].to_numpy(float), np.asarray(extra, dtype=float))


def poa_global_w_m2(ghi_w_m2: npt.ArrayLike, sun: SolarGeometry, tilt_deg: float, azimuth_deg: float,
                    albedo: float = ALBEDO) -> FloatArray:
    """Plane-of-array global irradiance from global horizontal irradiance.

    Erbs decomposition (``pvlib.irradiance.erbs``) then Hay-Davies transposition
    (``pvlib.irradiance.get_total_irradiance(model="haydavies")``). NaN GHI gives NaN.

    Parameters
    ----------
    ghi_w_m2 : array of float
        Global horizontal irradiance, same shape as ``sun.time_ns``. [W/m²]
    sun : SolarGeometry
        Sun position at the same instants.
    tilt_deg, azimuth_deg : float
        Array orientation (azimuth 180 = south). [deg]
    albedo : float
        Ground reflectance. [1]

    Returns
    -------
    ndarray of float
        POA global irradiance, ≥ 0, 0 when the sun is below the horizon. [W/m²]
    """
    import pvlib

    ghi = np.asarray(ghi_w_m2, dtype=float)
    missing = ~np.isfinite(ghi)
    g = np.clip(np.nan_to_num(ghi), 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        parts = pvlib.irradiance.erbs(g, sun.zenith_deg, _index(sun.time_ns))
        dni = np.nan_to_num(np.asarray(parts["dni"], dtype=float))
        dhi = np.nan_to_num(np.asarray(parts["dhi"], dtype=float))
        poa = pvlib.irradiance.get_total_irradiance(
            tilt_deg, azimuth_deg, sun.apparent_zenith_deg, sun.azimuth_deg, dni, g, dhi,
            dni_extra=sun.dni_extra_w_m2, albedo=albedo, model="haydavies")["poa_global"]
    out = np.clip(np.nan_to_num(np.asarray(poa, dtype=float)), 0.0, None)
    out = np.where(sun.apparent_zenith_deg < 90.0, out, 0.0)
    return np.where(missing, np.nan, out)


def clear_sky_ghi_w_m2(sun: SolarGeometry, latitude: float, longitude: float, altitude_m: float = 50.0) -> FloatArray:
    """Clear-sky global horizontal irradiance (Ineichen with pvlib's Linke turbidity climatology). [W/m²]"""
    import pvlib

    if sun.time_ns.size == 0:
        return np.zeros(0)
    loc = pvlib.location.Location(latitude, longitude, tz="UTC", altitude=altitude_m)
    import pandas as pd

    solpos = pd.DataFrame({"apparent_zenith": sun.apparent_zenith_deg, "zenith": sun.zenith_deg,
                           "apparent_elevation": 90.0 - sun.apparent_zenith_deg,
                           "azimuth": sun.azimuth_deg}, index=_index(sun.time_ns))
    cs = loc.get_clearsky(solpos.index, model="ineichen", solar_position=solpos)
    return np.clip(np.nan_to_num(cs["ghi"].to_numpy(float)), 0.0, None)


def clear_sky_index_from_fleet(actual_wh: npt.ArrayLike, clear_sky_expected_wh: npt.ArrayLike,
                               min_arrays: int = 3) -> FloatArray:
    """Clear-sky index per bucket estimated from a fleet of arrays (used without a weather station).

    ``k = median over arrays of (actual / clear-sky expected)``; the median makes one failing
    array harmless. Buckets with fewer than ``min_arrays`` usable arrays, or no clear-sky
    output, give NaN. Multiply the clear-sky GHI by ``k`` to estimate the GHI.

    Parameters
    ----------
    actual_wh : array (arrays, buckets)
        Measured production. [Wh]
    clear_sky_expected_wh : array (arrays, buckets)
        Expected production under clear sky. [Wh]
    min_arrays : int
        Arrays needed for an estimate.
    """
    a = np.atleast_2d(np.asarray(actual_wh, dtype=float))
    c = np.atleast_2d(np.asarray(clear_sky_expected_wh, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(c > 0, a / c, np.nan)
    n = np.sum(np.isfinite(r), axis=0)
    out = np.full(r.shape[1], np.nan)
    ok = n >= min_arrays
    if ok.any():
        out[ok] = np.nanmedian(r[:, ok], axis=0)
    return np.clip(out, 0.0, 1.5)


# ------------------------------------------------------------------------------ power model

def cell_temperature_c(poa_w_m2: npt.ArrayLike, temp_air_c: npt.ArrayLike, wind_speed_m_s: float = 1.0,
                       u0: float = 25.0, u1: float = 6.84) -> FloatArray:
    """Cell temperature, Faiman model ``T_c = T_a + G / (u0 + u1·WS)`` (pvlib.temperature.faiman). [°C]"""
    g = np.nan_to_num(np.asarray(poa_w_m2, dtype=float))
    ta = np.asarray(temp_air_c, dtype=float)
    return ta + g / (u0 + u1 * wind_speed_m_s)


def expected_dc_power_w(poa_w_m2: npt.ArrayLike, temp_cell_c: npt.ArrayLike, kwp: float,
                        gamma_pct_per_k: float) -> FloatArray:
    """PVWatts DC power ``P0 · G/1000 · (1 + γ (T_cell − 25))`` (pvlib.pvsystem.pvwatts_dc). [W]

    Parameters
    ----------
    poa_w_m2 : array of float
        Plane-of-array irradiance. [W/m²]
    temp_cell_c : array of float
        Cell temperature; NaN is taken as 25 °C (no correction). [°C]
    kwp : float
        Nameplate DC power P0. [kWp]
    gamma_pct_per_k : float
        Power temperature coefficient. [%/K]
    """
    g = np.asarray(poa_w_m2, dtype=float)
    tc = np.nan_to_num(np.asarray(temp_cell_c, dtype=float), nan=T_REF_C)
    return np.clip(kwp * 1000.0 * g / G_REF_W_M2 * (1.0 + gamma_pct_per_k / 100.0 * (tc - T_REF_C)), 0.0, None)


def expected_ac_power_w(dc_w: npt.ArrayLike, losses_pct: float, inverter_ac_kw: float | None = None) -> FloatArray:
    """AC power after system losses and inverter clipping ``min(P_dc (1 − L/100), P_ac,max)``. [W]"""
    ac = np.asarray(dc_w, dtype=float) * (1.0 - losses_pct / 100.0)
    if inverter_ac_kw is not None:
        ac = np.minimum(ac, inverter_ac_kw * 1000.0)
    return ac


# ------------------------------------------------------------------------------ data on a grid

def weather_on_grid(time_ns: npt.ArrayLike, values: npt.ArrayLike, grid_ns: npt.ArrayLike) -> FloatArray:
    """Mean of the gauge readings falling in each bucket (a reading stamped ``t`` covers the time before ``t``).

    Parameters
    ----------
    time_ns : array of int
        Reading times, sorted. [UTC ns]
    values : array of float
        Readings (NaN ignored). [any unit]
    grid_ns : array of int
        Bucket boundaries (n + 1 instants for n buckets). [UTC ns]

    Returns
    -------
    ndarray of float
        One mean per bucket, NaN where no reading falls in ``(g[k], g[k+1]]``.
    """
    t = np.asarray(time_ns, dtype=np.int64)
    v = np.asarray(values, dtype=float)
    g = np.asarray(grid_ns, dtype=np.int64)
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    k = np.searchsorted(g, t, side="left") - 1  # t in (g[k], g[k+1]]
    inside = (k >= 0) & (k < g.size - 1)
    n = g.size - 1
    sums = np.bincount(k[inside], weights=v[inside], minlength=n)[:n]
    counts = np.bincount(k[inside], minlength=n)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def counter_on_grid(start_ns: npt.ArrayLike, end_ns: npt.ArrayLike, deltas: npt.ArrayLike, grid_ns: npt.ArrayLike,
                    weight: npt.ArrayLike | None = None) -> tuple[FloatArray, FloatArray]:
    """Distribute counter interval amounts onto grid buckets.

    Inside a counter interval the amount is spread in proportion to ``weight`` (e.g. the
    expected production of each bucket, so that a catch-up after a communication gap is not
    spread over the night), or uniformly in time where the weight is zero over the whole
    interval or not given.

    Parameters
    ----------
    start_ns, end_ns : array of int
        Contiguous or gapped counter intervals, sorted. [UTC ns]
    deltas : array of float
        Amount per interval. [Wh]
    grid_ns : array of int
        Bucket boundaries (n + 1). [UTC ns]
    weight : array of float, optional
        Non-negative weight per bucket (n). [any]

    Returns
    -------
    amount : ndarray of float
        Amount per bucket; NaN where no counter interval covers the bucket at all. [Wh]
    coverage : ndarray of float
        Fraction of each bucket covered by counter intervals. [1]
    """
    s = np.asarray(start_ns, dtype=np.int64)
    e = np.asarray(end_ns, dtype=np.int64)
    d = np.asarray(deltas, dtype=float)
    g = np.asarray(grid_ns, dtype=np.int64)
    nb = g.size - 1
    if nb <= 0:
        return np.zeros(0), np.zeros(0)
    if s.size == 0:
        return np.full(nb, np.nan), np.zeros(nb)
    origin = int(g[0])
    gs = (g - origin) / NS_PER_S
    ss = (s - origin) / NS_PER_S
    es = (e - origin) / NS_PER_S
    w = np.zeros(nb) if weight is None else np.clip(np.nan_to_num(np.asarray(weight, dtype=float)), 0.0, None)
    # cumulative weight W(t), piecewise linear over the grid (constant outside it)
    wc = np.r_[0.0, np.cumsum(w)]

    def W(x: FloatArray) -> FloatArray:  # noqa: N802
        return np.interp(x, gs, wc)

    w_span = W(es) - W(ss)
    use_w = w_span > 1e-12 * max(float(wc[-1]), 1.0)

    def cum_at(x: FloatArray) -> FloatArray:
        """Cumulative amount at instants x (seconds from origin)."""
        c_end = np.cumsum(d)
        c_start = c_end - d
        j = np.searchsorted(es, x, side="left")  # first interval ending at or after x
        j = np.clip(j, 0, ss.size - 1)
        a, b = ss[j], es[j]
        inside = (x > a) & (x < b)
        frac_t = np.where(b > a, (x - a) / np.where(b > a, b - a, 1.0), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac_w = np.where(use_w[j], (W(x) - W(a)) / np.where(use_w[j], w_span[j], 1.0), frac_t)
        frac = np.clip(np.where(use_w[j], frac_w, frac_t), 0.0, 1.0)
        out = np.where(x >= b, c_end[j], np.where(inside, c_start[j] + d[j] * frac, c_start[j]))
        return out

    amount = np.diff(cum_at(gs))
    # coverage: time overlap of [g_k, g_k+1) with the union of intervals
    xp = np.empty(2 * ss.size)
    xp[0::2], xp[1::2] = ss, es
    cov_c = np.empty_like(xp)
    dur = es - ss
    cov_c[1::2] = np.cumsum(dur)
    cov_c[0::2] = cov_c[1::2] - dur
    covered = np.diff(np.interp(gs, xp, cov_c))
    coverage = np.clip(covered / np.diff(gs), 0.0, 1.0)
    amount = np.where(coverage > 0, amount, np.nan)
    return amount, coverage


# ------------------------------------------------------------------------------ yields and ratios

def final_yield_kwh_kwp(energy_wh: npt.ArrayLike, kwp: float) -> FloatArray:
    """Final yield ``Y_f = E / P0`` (IEC 61724-1); over a year: the specific yield. [kWh/kWp]"""
    return np.asarray(energy_wh, dtype=float) / 1000.0 / kwp


def reference_yield_h(irradiation_wh_m2: npt.ArrayLike) -> FloatArray:
    """Reference yield ``Y_r = H_poa / G_ref`` with G_ref = 1 kW/m² (IEC 61724-1). [h = kWh/kW]"""
    return np.asarray(irradiation_wh_m2, dtype=float) / G_REF_W_M2


def performance_ratio(energy_wh: npt.ArrayLike, kwp: float, irradiation_wh_m2: npt.ArrayLike) -> FloatArray:
    """Performance ratio ``PR = Y_f / Y_r`` (IEC 61724-1), NaN where ``Y_r`` is 0. [1]"""
    yf = final_yield_kwh_kwp(energy_wh, kwp)
    yr = reference_yield_h(irradiation_wh_m2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(yr > 0, yf / np.where(yr > 0, yr, 1.0), np.nan)


def temperature_corrected_pr(energy_wh: float, kwp: float, poa_w_m2: npt.ArrayLike, temp_cell_c: npt.ArrayLike,
                             gamma_pct_per_k: float, step_s: npt.ArrayLike | float) -> float:
    """Temperature-corrected PR (IEC 61724-1:2021): ``Σ E / Σ P0 · G/G_ref · (1 + γ (T_cell − 25)) · Δt``. [1]

    Parameters
    ----------
    energy_wh : float
        AC energy over the buckets summed below. [Wh]
    kwp : float
        P0. [kWp]
    poa_w_m2, temp_cell_c : array of float
        Mean POA irradiance and cell temperature per bucket (NaN buckets ignored). [W/m², °C]
    gamma_pct_per_k : float
        Power temperature coefficient. [%/K]
    step_s : float or array
        Bucket durations. [s]
    """
    ref = expected_dc_power_w(poa_w_m2, temp_cell_c, kwp, gamma_pct_per_k) * np.asarray(step_s, dtype=float) / S_PER_H
    den = float(np.nansum(ref))
    return float(energy_wh) / den if den > 0 else float("nan")


def availability_pct(production_wh: npt.ArrayLike, expected_wh: npt.ArrayLike, kwp: float, step_s: float) -> float:
    """Time-based availability: share of daylight buckets in which the array produced. [%]

    A bucket is daylight when its expected energy exceeds ``DAYLIGHT_FRACTION_OF_P0 · P0 · Δt``,
    and available when it produced at least ``AVAILABLE_FRACTION`` of the expectation. Buckets
    without production data count as unavailable (a silent inverter is not producing as far
    as anyone can tell); NaN when there is no daylight bucket.
    """
    p = np.asarray(production_wh, dtype=float)
    x = np.asarray(expected_wh, dtype=float)
    day = np.isfinite(x) & (x > DAYLIGHT_FRACTION_OF_P0 * kwp * 1000.0 * step_s / S_PER_H)
    if not day.any():
        return float("nan")
    up = day & np.isfinite(p) & (p >= AVAILABLE_FRACTION * x)
    return 100.0 * float(up.sum()) / float(day.sum())


# ------------------------------------------------------------------------------ self-consumption

@dataclass(frozen=True, eq=False)
class SelfConsumption:
    """Self-consumption per interval.

    Attributes
    ----------
    self_consumed_wh : ndarray
        PV energy used on site ``P − X`` (clipped to [0, P]). [Wh]
    site_consumption_wh : ndarray
        Energy the site used ``I + P − X``. [Wh]
    """

    production_wh: FloatArray
    import_wh: FloatArray
    export_wh: FloatArray
    self_consumed_wh: FloatArray
    site_consumption_wh: FloatArray

    def rates_pct(self) -> tuple[float, float]:
        """(self-consumption rate ``Σ(P − X) / Σ P``, self-sufficiency rate ``Σ(P − X) / Σ(I + P − X)``) over all intervals. [%]"""
        ok = np.isfinite(self.self_consumed_wh) & np.isfinite(self.site_consumption_wh)
        p = float(np.sum(self.production_wh[ok]))
        sc = float(np.sum(self.self_consumed_wh[ok]))
        cons = float(np.sum(self.site_consumption_wh[ok]))
        return (100.0 * sc / p if p > 0 else float("nan"), 100.0 * sc / cons if cons > 0 else float("nan"))


def self_consumption(production_wh: npt.ArrayLike, import_wh: npt.ArrayLike, export_wh: npt.ArrayLike) -> SelfConsumption:
    """Self-consumed PV and site consumption per interval (intervals of 30 min at most).

    ``self_consumed = P − X`` and ``site_consumption = I + P − X`` (taux d'autoconsommation
    and d'autoproduction, docs/pv.md § Self-consumption). ``P − X`` is clipped to [0, P] so that
    metering noise cannot book negative self-consumption; then ``self_consumed + export = P``
    wherever ``X ≤ P``.
    """
    p = np.asarray(production_wh, dtype=float)
    i = np.asarray(import_wh, dtype=float)
    x = np.asarray(export_wh, dtype=float)
    sc = np.clip(p - x, 0.0, None)
    sc = np.minimum(sc, p)
    return SelfConsumption(p, i, x, sc, i + sc)


# ------------------------------------------------------------------------------ losses and value

@dataclass(frozen=True, slots=True)
class Tariffs:
    """Prices that turn kWh into €. Defaults are illustrative placeholders, to be set by the town.

    Attributes
    ----------
    purchase_eur_per_kwh : float
        Price of electricity bought from the grid (avoided by self-consumption). [EUR/kWh]
    feed_in_eur_per_kwh : float
        Price paid for exported electricity (surplus feed-in tariff or PPA). [EUR/kWh]
    """

    purchase_eur_per_kwh: float = 0.20
    feed_in_eur_per_kwh: float = 0.10


def energy_value_eur(energy_wh: npt.ArrayLike, self_consumption_pct: npt.ArrayLike, tariffs: Tariffs) -> FloatArray:
    """Value of PV energy: self-consumed share at the purchase price, the rest at the feed-in price. [EUR]

    ``value = E/1000 · (s · c_purchase + (1 − s) · c_feed_in)`` with ``s`` the self-consumption
    rate; a NaN rate counts as full export (the conservative choice).
    """
    s = np.clip(np.nan_to_num(np.asarray(self_consumption_pct, dtype=float) / 100.0, nan=0.0), 0.0, 1.0)
    return np.asarray(energy_wh, dtype=float) / 1000.0 * (s * tariffs.purchase_eur_per_kwh
                                                           + (1.0 - s) * tariffs.feed_in_eur_per_kwh)


def losses_wh(production_wh: npt.ArrayLike, expected_wh: npt.ArrayLike) -> FloatArray:
    """Energy lost against expectation ``max(expected − actual, 0)``. [Wh]"""
    return np.clip(np.asarray(expected_wh, dtype=float) - np.asarray(production_wh, dtype=float), 0.0, None)
