"""The input bundle of the savings and Décret tertiaire reports, and where it comes from.

A report takes a pure :class:`InputBundle` (local days, per-meter daily kWh, daily mean
temperature and heating degree days). Two sources fill it:

* :func:`query_input_bundle` — InfluxDB: ``consumption_daily`` and ``weather_daily`` (the
  analytics rollups), falling back per meter to the raw ``reading`` counters (deltas through
  :func:`analytics.consumption.counter_to_deltas`, summed per local day) and then to
  ``imported`` data (``terril import``); the weather falls back to the station's raw
  ``temp_air_c`` readings, then to imported temperatures;
* the fleet simulator, for the examples, the benchmark and the tests: ``simulated_input_bundle``
  in :mod:`terril.cli.simulated_inputs` (analytics never imports the simulator).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.consumption import counter_to_deltas, rollup_consumption
from analytics.degree_days import MIN_STATION_DAY_COVERAGE, daily_temperature, hdd_costic, hdd_from_mean
from analytics.influx_queries import query_imported_energy, query_imported_periods, query_station_temperatures
from analytics.reports.render import input_hash
from analytics.tertiaire import ImportedPeriod
from terril.ids import validate_id
from terril.carriers import CARRIERS
from terril.influx import InfluxClient
from terril.registry import Meter, Registry, WeatherSource
from terril.timeutil import local_midnight_ns

DAY_NS = 86_400 * 10**9
#: Daily coverage below which a day of consumption is treated as missing (CalTRACK §2.2). [%]
MIN_DAY_COVERAGE_PCT = 50.0


@dataclass(frozen=True, eq=False)
class MeterDaily:
    """Daily consumption of one meter, aligned on the bundle's days.

    Attributes
    ----------
    energy_kwh : ndarray of float
        Consumption (production for PV) per local day, NaN when missing. [kWh]
    source : str
        ``consumption_daily``, ``reading``, ``imported`` or ``simulator``.
    """

    meter: str
    site: str
    carrier: str
    energy_kwh: np.ndarray
    source: str
    #: Where each day's value came from (``consumption_daily``, ``reading``, ``imported``, ...;
    #: ``""`` where the day is missing). None: every day from ``source``.
    day_source: np.ndarray | None = None
    #: Imported periods longer than a day (invoices, monthly values) that reach into the bundle's
    #: days; never spread into ``energy_kwh`` (annual totals only, :func:`analytics.tertiaire.annual_total`).
    periods: tuple[ImportedPeriod, ...] = ()

    def source_periods(self, dates: np.ndarray) -> tuple[tuple[str, str, str], ...]:
        """Consecutive runs of days from one source: ``(source, first day, last day)``."""
        if self.day_source is None:
            ok = np.isfinite(np.asarray(self.energy_kwh, float))
            src = np.where(ok, self.source, "")
        else:
            src = np.asarray(self.day_source, dtype=object)
        runs: list[tuple[str, str, str]] = []
        start = 0
        for i in range(1, src.size + 1):
            if i == src.size or src[i] != src[start]:
                if src[start]:
                    runs.append((str(src[start]), str(dates[start]), str(dates[i - 1])))
                start = i
        return tuple(runs)


@dataclass(frozen=True, eq=False)
class SiteWeather:
    """The daily weather of one source and the sites that use it."""

    key: str  # meter:<id> | station:<id>
    label: str  # the key and where the values came from, e.g. "station:62160001 (imported)"
    sites: tuple[str, ...]
    temp_mean_c: np.ndarray
    hdd_k_d: np.ndarray


@dataclass(frozen=True, eq=False)
class InputBundle:
    """Everything a savings or tertiaire report computes from.

    Attributes
    ----------
    dates : ndarray of datetime64[D]
        Consecutive local (Europe/Paris) days.
    temp_mean_c : ndarray of float
        Daily mean temperature of the town's weather station. [°C]
    hdd_k_d : ndarray of float
        Heating degree days, base 18 °C (COSTIC when Tn/Tx are known, else on the mean). [K·day]
    meters : tuple of MeterDaily
        Daily consumption per meter.
    weather_source : str
        Where the temperatures come from.
    """

    dates: np.ndarray
    temp_mean_c: np.ndarray
    hdd_k_d: np.ndarray
    meters: tuple[MeterDaily, ...]
    weather_source: str = ""
    #: Per-site weather where sites name their own source (``Site.weather_meter`` /
    #: ``Site.weather_station``); a site not listed uses ``temp_mean_c``/``hdd_k_d``.
    site_weather: tuple[SiteWeather, ...] = ()

    def __post_init__(self) -> None:
        n = np.asarray(self.dates).size
        for a in (self.temp_mean_c, self.hdd_k_d, *(m.energy_kwh for m in self.meters),
                  *(w.temp_mean_c for w in self.site_weather), *(w.hdd_k_d for w in self.site_weather)):
            if np.asarray(a).shape != (n,):
                raise ValueError("every daily array must have the length of dates")

    def meter(self, meter_id: str) -> MeterDaily | None:
        return next((m for m in self.meters if m.meter == meter_id), None)

    def _weather_of(self, site: str) -> SiteWeather | None:
        return next((w for w in self.site_weather if site in w.sites), None)

    def temp_of(self, site: str) -> np.ndarray:
        """Daily mean temperature of ``site``'s own weather source. [°C]"""
        w = self._weather_of(site)
        return self.temp_mean_c if w is None else w.temp_mean_c

    def hdd_of(self, site: str) -> np.ndarray:
        """Heating degree days of ``site``'s own weather source. [K·day]"""
        w = self._weather_of(site)
        return self.hdd_k_d if w is None else w.hdd_k_d

    def weather_label_of(self, site: str) -> str:
        """Where ``site``'s temperatures come from (``meter:…``/``station:…`` and the measurement)."""
        w = self._weather_of(site)
        return self.weather_source if w is None else w.label

    def sha256(self) -> str:
        """Hash of the data (days, weather, every meter's id and values)."""
        items: list[object] = [np.asarray(self.dates, dtype="datetime64[D]").astype(np.int64),
                               np.asarray(self.temp_mean_c, float), np.asarray(self.hdd_k_d, float)]
        for w in sorted(self.site_weather, key=lambda w: w.key):
            items += [w.key, ",".join(w.sites), np.asarray(w.temp_mean_c, float), np.asarray(w.hdd_k_d, float)]
        for m in sorted(self.meters, key=lambda m: m.meter):
            items += [m.meter, m.carrier, np.asarray(m.energy_kwh, float)]
            if m.periods:
                items += [";".join(f"{p.start}/{p.end}/{p.kwh!r}/{p.kind}" for p in m.periods)]
        return input_hash(*items)

    def data_range(self) -> str:
        if np.asarray(self.dates).size == 0:
            return ""
        return f"{self.dates[0]}..{self.dates[-1]}"

    def restrict(self, meter_ids: Sequence[str]) -> "InputBundle":
        keep = set(meter_ids)
        return dataclasses.replace(self, meters=tuple(m for m in self.meters if m.meter in keep))


def _days(start: dt.date, end: dt.date) -> np.ndarray:
    return np.arange(np.datetime64(start), np.datetime64(end) + 1)


def _index_of(dates: np.ndarray, times_ns: np.ndarray) -> np.ndarray:
    """Index in ``dates`` of each local-midnight timestamp (−1 when outside)."""
    starts = np.array([local_midnight_ns(d) for d in dates.astype(dt.date)], dtype=np.int64)
    i = np.searchsorted(starts, times_ns, side="right") - 1
    return np.where((i >= 0) & (i < dates.size), i, -1)


def meters_for_report(registry: Registry, site_ids: Sequence[str]) -> list[Meter]:
    """Energy meters of the sites (electricity, gas, heat, PV), in registry order."""
    want = set(site_ids)
    return [m for m in registry.meters if m.site in want and m.carrier in ("electricity", "gas", "heat", "pv")]


# ---------------------------------------------------------------------------------------
# InfluxDB


def _select(client: InfluxClient, q: str, params: dict[str, str]) -> list[list[object]]:
    rows: list[list[object]] = []
    for s in client.query_chunks(q, params=params):
        rows.extend(s.values)
    return rows


def _daily_from_rollup(client: InfluxClient, meter: Meter, dates: np.ndarray, t0: int, t1: int) -> np.ndarray | None:
    spec = CARRIERS[meter.carrier]
    fld = spec.rollup_field
    q = (f'SELECT "{fld}", "coverage_pct" FROM "consumption_daily" WHERE meter = $meter '
         f"AND time >= {t0} AND time < {t1}")
    rows = _select(client, q, {"meter": meter.id})
    if not rows:
        return None
    out = np.full(dates.size, np.nan)
    t = np.array([int(r[0]) for r in rows], dtype=np.int64)
    idx = _index_of(dates, t)
    for i, r in zip(idx, rows):
        v, cov = r[1], r[2]
        if i >= 0 and v is not None and (cov is None or float(cov) >= MIN_DAY_COVERAGE_PCT):
            out[i] = spec.rollup_to_daily(float(v))
    return out


def _daily_from_readings(client: InfluxClient, meter: Meter, dates: np.ndarray, t0: int, t1: int) -> np.ndarray | None:
    spec = CARRIERS[meter.carrier]
    fld = spec.counter
    # one reading before the range is needed for the first day's delta: look back one day
    q = (f'SELECT "{fld}" FROM "reading" WHERE meter = $meter AND time >= {t0 - DAY_NS} AND time < {t1 + DAY_NS}')
    rows = [r for r in _select(client, q, {"meter": meter.id}) if r[1] is not None]
    if len(rows) < 2:
        return None
    t = np.array([int(r[0]) for r in rows], dtype=np.int64)
    v = np.array([float(r[1]) for r in rows])
    ic = counter_to_deltas(t, v, multiplier=meter.multiplier, rollover_wh=meter.rollover_wh)
    roll = rollup_consumption(ic, "day")
    out = np.full(dates.size, np.nan)
    idx = _index_of(dates, roll.bucket_start_ns)
    for i, s, c in zip(idx, roll.sums, roll.coverage):
        if i >= 0 and c * 100.0 >= MIN_DAY_COVERAGE_PCT:
            e = spec.counter_to_daily(meter, s)
            out[i] = e / max(c, 1e-9) if c < 1.0 else e
    return out


def _daily_from_imported(client: InfluxClient, meter: Meter, dates: np.ndarray, t0: int, t1: int) -> np.ndarray | None:
    # daily or finer energy (the rows the data-quality ledger also reads, analytics.jobs.sources)
    rows = query_imported_energy(client, meter.id, t0, t1)
    if not rows.time_ns.size:
        return None
    idx = _index_of(dates, rows.time_ns)
    ok = idx >= 0
    sums = np.bincount(idx[ok], weights=rows.energy_wh[ok] / 1000.0, minlength=dates.size)[: dates.size]
    seen = np.bincount(idx[ok], minlength=dates.size)[: dates.size] > 0
    return np.where(seen, sums, np.nan)


def _merged_daily(client: InfluxClient, meter: Meter, dates: np.ndarray, t0: int, t1: int,
                  with_periods: bool = False) -> MeterDaily:
    """One daily series from every source: live data (the ``consumption_daily`` rollups, else the raw
    ``reading`` counters) wins wherever it has a day; imported history fills the other days. With
    ``with_periods``, the imported periods longer than a day (invoices, months) come along."""
    values = np.full(dates.size, np.nan)
    day_source = np.full(dates.size, "", dtype=object)
    live = _daily_from_rollup(client, meter, dates, t0, t1)
    live_source = "consumption_daily"
    if live is None or not np.isfinite(live).any():
        live, live_source = _daily_from_readings(client, meter, dates, t0, t1), "reading"
    if live is not None:
        ok = np.isfinite(live)
        values[ok], day_source[ok] = live[ok], live_source
    if not np.isfinite(values).all():
        imported = _daily_from_imported(client, meter, dates, t0, t1)
        if imported is not None:
            fill = ~np.isfinite(values) & np.isfinite(imported)
            values[fill], day_source[fill] = imported[fill], "imported"
    used = [s for s in dict.fromkeys(day_source.tolist()) if s]
    periods: tuple[ImportedPeriod, ...] = ()
    if with_periods:
        periods = tuple(ImportedPeriod(a, b, kwh, kind) for a, b, kwh, kind in query_imported_periods(client, meter.id, t0, t1))
    return MeterDaily(meter.id, meter.site, meter.carrier, values, "+".join(used) if used else "none",
                      day_source=day_source, periods=periods)


def query_input_bundle(client: InfluxClient, registry: Registry, site_ids: Sequence[str], start: dt.date,
                       end: dt.date, *, with_periods: bool = False) -> InputBundle:
    """Load the daily inputs of ``site_ids`` over ``[start, end]`` (local days) from InfluxDB.

    Per meter and day: ``consumption_daily`` (days with coverage < 50 % are missing), else the raw
    ``reading`` counters; ``imported`` data fills the days live data does not cover (live wins where
    both exist; :meth:`MeterDaily.source_periods` says which source each period came from).
    Weather: each site's own source (:func:`_weather`); the bundle's main series is the first site's.
    ``with_periods``: each meter also carries its imported periods longer than a day (invoices,
    monthly values; the Décret tertiaire's annual totals use them, the savings models do not).
    """
    for s in site_ids:
        validate_id(s, "site")
    dates = _days(start, end)
    t0 = local_midnight_ns(start)
    t1 = local_midnight_ns(end + dt.timedelta(days=1))
    meters = [_merged_daily(client, m, dates, t0, t1, with_periods) for m in meters_for_report(registry, site_ids)]
    # each site's own weather source (Registry.weather_source), read once per source
    by_key: dict[str, list[str]] = {}
    sources = {}
    for sid in dict.fromkeys([*site_ids, *(m.site for m in meters)]):
        src = registry.weather_source(sid)
        if src is not None:
            by_key.setdefault(src.key, []).append(sid)
            sources[src.key] = src
    # the bundle's main series is the first site's (so that every series in the bundle is one a site uses)
    default = sources[next(iter(by_key))] if by_key else None
    temp, hdd, wsrc = _weather(client, default, dates, t0, t1) if default is not None else (
        np.full(dates.size, np.nan), np.full(dates.size, np.nan), "none")
    site_weather = []
    for key, sids in by_key.items():
        if default is not None and key == default.key:
            continue
        w_temp, w_hdd, w_src = _weather(client, sources[key], dates, t0, t1)
        site_weather.append(SiteWeather(key, f"{key} ({w_src})", tuple(sids), w_temp, w_hdd))
    if default is not None:
        wsrc = f"{default.key} ({wsrc})"
    return InputBundle(dates, temp, hdd, tuple(meters), weather_source=wsrc, site_weather=tuple(site_weather))


def _weather(client: InfluxClient, source: WeatherSource, dates: np.ndarray, t0: int, t1: int
             ) -> tuple[np.ndarray, np.ndarray, str]:
    """Daily temperature and degree days of one weather source.

    A registry weather meter: its site's ``weather_daily`` rollups (days without one taken from
    temperatures imported under the meter, e.g. Météo-France history before the station was
    installed), else its raw ``temp_air_c`` readings, else temperatures imported under that meter.
    An imported station: the ``imported``
    temperatures tagged with its ``station``. Never another station's values.
    """
    temp = np.full(dates.size, np.nan)
    hdd = np.full(dates.size, np.nan)
    wm = source.meter
    if wm is not None:
        q = (f'SELECT "temp_mean_c", "hdd_costic_k_d" FROM "weather_daily" WHERE site = $site '
             f"AND time >= {t0} AND time < {t1}")
        rows = _select(client, q, {"site": wm.site})
        if rows:
            idx = _index_of(dates, np.array([int(r[0]) for r in rows], dtype=np.int64))
            for i, r in zip(idx, rows):
                if i >= 0:
                    temp[i] = np.nan if r[1] is None else float(r[1])
                    hdd[i] = np.nan if r[2] is None else float(r[2])
            hdd = np.where(np.isfinite(hdd), hdd, hdd_from_mean(temp))
            label = "weather_daily"
            if not np.isfinite(hdd).all():  # days before the station was installed: imported history fills them
                groups = _imported_temperature_groups(client, wm, t0, t1)
                if len(groups) == 1:
                    i_temp, i_hdd = _temps_to_daily(dates, groups[0])
                    fill = ~np.isfinite(hdd) & np.isfinite(i_hdd)
                    if fill.any():
                        temp, hdd = np.where(fill, i_temp, temp), np.where(fill, i_hdd, hdd)
                        label = "weather_daily+imported"
            return temp, hdd, label
        q = f'SELECT "temp_air_c" FROM "reading" WHERE meter = $meter AND time >= {t0} AND time < {t1}'
        rows = [r for r in _select(client, q, {"meter": wm.id}) if r[1] is not None]
        if rows:
            return _temps_to_daily(dates, rows) + ("reading",)
        # temperatures imported under the meter: one station's only (several would be pooled)
        groups = _imported_temperature_groups(client, wm, t0, t1)
        if len(groups) == 1:
            return _temps_to_daily(dates, groups[0]) + ("imported",)
        if len(groups) > 1:
            return temp, hdd, "several stations imported under this meter: name one with weather_station"
        return temp, hdd, "none"
    t, v = query_station_temperatures(client, str(source.station), t0, t1)
    if t.size:
        return _temps_to_daily(dates, [[ti, vi] for ti, vi in zip(t.tolist(), v.tolist())]) + ("imported",)
    return temp, hdd, "none"


def _imported_temperature_groups(client: InfluxClient, meter: Meter, t0: int, t1: int) -> list[list[list[object]]]:
    """The temperatures imported under a weather meter, one list of rows per station: ``[time, temp_air_c,
    temp_min_c, temp_max_c]`` (the daily minimum and maximum of a Météo-France daily file, else None)."""
    q = (f'SELECT "temp_air_c", "temp_min_c", "temp_max_c" FROM "imported" WHERE kind = \'temperature\' '
         f'AND meter = $meter AND time >= {t0} AND time < {t1} GROUP BY "station"')
    groups = [[r for r in s.values if r[1] is not None] for s in client.query_chunks(q, params={"meter": meter.id})]
    return [g for g in groups if g]


def _temps_to_daily(dates: np.ndarray, rows: list[list[object]]) -> tuple[np.ndarray, np.ndarray]:
    """Daily mean and COSTIC degree days of a station's readings, hourly or daily (coverage judged on the
    data's own step by :func:`daily_temperature`, as the drift job does)."""
    t = np.array([int(r[0]) for r in rows], dtype=np.int64)
    v = np.array([float(r[1]) for r in rows])
    if rows and all(len(r) >= 4 and r[2] is not None and r[3] is not None for r in rows):
        # daily values with their minimum and maximum (Météo-France TN/TX): COSTIC on them, as the rollups
        idx = _index_of(dates, t)
        ok = idx >= 0
        mean, tn, tx = (np.full(dates.size, np.nan) for _ in range(3))
        mean[idx[ok]] = v[ok]
        tn[idx[ok]] = np.array([float(r[2]) for r in rows])[ok]
        tx[idx[ok]] = np.array([float(r[3]) for r in rows])[ok]
        return mean, hdd_costic(tn, tx)
    order = np.argsort(t, kind="stable")
    bounds = np.array([local_midnight_ns(d) for d in _days(dates[0].astype(dt.date),
                                                           dates[-1].astype(dt.date) + dt.timedelta(days=1)).astype(dt.date)],
                      dtype=np.int64)
    dtc = daily_temperature(t[order], v[order], boundaries_ns=bounds, min_hourly_coverage=MIN_STATION_DAY_COVERAGE)
    return dtc.mean_c, hdd_costic(dtc.min_c, dtc.max_c)


__all__ = ["InputBundle", "MeterDaily", "SiteWeather", "meters_for_report", "query_input_bundle"]
