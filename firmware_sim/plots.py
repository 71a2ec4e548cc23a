"""Figures of the simulated fleet for docs/simulator.md (PNG files in docs/img/).

Run ``.venv/bin/python -m firmware_sim.plots [OUTPUT_DIR]``; the figures are regenerated from the
demo registry with a fixed seed, so they change only when the models change. This module is the
I/O edge of the simulator's documentation: it writes files, the physics modules do not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from firmware_sim.fleet import FleetChunk, FleetSimulation
from terril.calendar import local_dates
from terril.carriers import gas_kwh_per_m3
from terril.registry import Registry, load_registry
from terril.timeutil import local_tz, parse_time_arg

SEED = 2024
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "img"


def _local(time_ns: np.ndarray) -> np.ndarray:
    import pandas as pd

    return pd.DatetimeIndex(time_ns.astype("datetime64[ns]"), tz="UTC").tz_convert(str(local_tz())).tz_localize(None).to_pydatetime()


def _run(registry: Registry, first: str, last: str, step_s: float = 900.0) -> FleetChunk:
    # warm the simulation up for a day so the first hours are not special
    return FleetSimulation(registry, parse_time_arg(first), seed=SEED, step_s=step_s).advance(parse_time_arg(last))


def _shade_occupancy(ax, x, occ) -> None:  # type: ignore[no-untyped-def]
    ax.fill_between(x, 0, 1, where=occ > 0.05, transform=ax.get_xaxis_transform(), color="0.9", step="mid",
                    label="occupied / occupé")


def _week_figure(chunk: FleetChunk, site_ids: list[str], titles: list[str], path: Path) -> None:
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    x = _local(chunk.time_ns - int(chunk.step_s * 5e8))
    fig, axes = plt.subplots(len(site_ids), 1, figsize=(11, 3.3 * len(site_ids)), sharex=True)
    for ax, site_id, title in zip(np.atleast_1d(axes), site_ids, titles):
        s = chunk.sites[site_id]
        _shade_occupancy(ax, x, s.occupancy)
        ax.plot(x, s.load_w / 1000, color="tab:blue", lw=1, label="electricity / électricité [kW]")
        ax.plot(x, (s.space_heat_w + s.dhw_heat_w) / 1000, color="tab:red", lw=1, label="heat / chaleur [kW]")
        if s.pv_w.max() > 0:
            ax.plot(x, s.pv_w / 1000, color="tab:orange", lw=1, label="PV [kW]")
        ax.set_ylabel("kW")
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper right", fontsize=8, ncol=4)
        ax.grid(alpha=0.3)
    ax2 = np.atleast_1d(axes)[-1]
    ax2.xaxis.set_major_formatter(mdates.DateFormatter("%a %d/%m"))
    ax2.xaxis.set_major_locator(mdates.DayLocator())
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_school_week(registry: Registry, out: Path) -> Path:
    """Two schools in a November week: four-day week (no school on Wednesday) and four and a half days."""
    chunk = _run(registry, "2024-11-17", "2024-11-25")
    path = out / "school-week.png"
    _week_figure(chunk, ["ecole-basly", "ecole-ferry"], [
        "École Basly (four-day week / semaine de 4 jours), 17-24 Nov 2024",
        "École Ferry (four and a half days / 4 jours et demi: Wednesday morning), 17-24 Nov 2024",
    ], path)
    return path


def plot_sports_hall_week(registry: Registry, out: Path) -> Path:
    """A sports hall in a January week: school PE by day, clubs in the evening, matches at the weekend."""
    chunk = _run(registry, "2024-01-14", "2024-01-22")
    path = out / "sports-hall-week.png"
    _week_figure(chunk, ["salle-bigotte"], ["Salle de sports de la Bigotte, 14-21 Jan 2024"], path)
    return path


def plot_church(registry: Registry, out: Path) -> Path:
    """The church over four weeks around Christmas: heated only for services and events."""
    import matplotlib.pyplot as plt

    chunk = _run(registry, "2024-12-01", "2024-12-29")
    x = _local(chunk.time_ns - int(chunk.step_s * 5e8))
    s = chunk.sites["eglise"]
    kwh_per_m3 = gas_kwh_per_m3(registry.meter_by_id["eglise-gaz"])
    gas_kw = chunk.series["eglise-gaz"].true_values["interval_volume_m3"] * kwh_per_m3 / (chunk.step_s / 3600)
    fig, ax = plt.subplots(figsize=(11, 3.6))
    _shade_occupancy(ax, x, s.occupancy)
    ax.plot(x, gas_kw, color="tab:red", lw=1, label=f"gas / gaz [kW, {kwh_per_m3:g} kWh/m³]")
    ax.plot(x, s.load_w / 1000, color="tab:blue", lw=1, label="electricity / électricité [kW]")
    ax.set_title("Église Saint-Vaast, December 2024: Sunday services, funerals, Christmas Eve", fontsize=10)
    ax.set_ylabel("kW")
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out / "church.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_pv(registry: Registry, out: Path) -> Path:
    """A school roof array over a week in June and a week in December, with its clear-sky output."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from firmware_sim.pv import array_ac_power_w

    array = registry.array_by_id["basly-toiture"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), sharey=True)
    for ax, (first, last, label) in zip(axes, [("2024-06-10", "2024-06-17", "June / juin"),
                                               ("2024-12-09", "2024-12-16", "December / décembre")]):
        chunk = _run(registry, first, last, step_s=300)
        x = _local(chunk.time_ns - int(chunk.step_s * 5e8))
        clear = array_ac_power_w(chunk.weather, array, clear_sky=True)
        ax.plot(x, clear / 1000, color="0.6", lw=0.8, ls="--", label="clear sky / ciel clair")
        ax.plot(x, chunk.series["basly-toiture-pv"].true_values["power_w"] / 1000, color="tab:orange", lw=1,
                label="AC power / puissance AC")
        ax.axhline(array.inverter_ac_kw or 0, color="tab:red", lw=0.6, ls=":", label="inverter limit / onduleur")
        ax.set_title(f"{array.kwp:g} kWp {array.technology}, tilt {array.tilt_deg:g}°, az {array.azimuth_deg:g}° — {label}",
                     fontsize=9)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m"))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("kW")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path = out / "pv-june-december.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_heating_year(registry: Registry, out: Path) -> Path:
    """A year of the town hall's gas against outdoor temperature: daily series and signature."""
    import matplotlib.pyplot as plt

    chunk = _run(registry, "2024-01-01", "2025-01-01")
    days = local_dates(chunk.time_ns - 1)
    unique, inv = np.unique(days, return_inverse=True)
    count = np.bincount(inv)
    temp = np.bincount(inv, chunk.weather.temp_air_c) / count
    gas_kwh = (np.bincount(inv, chunk.series["mairie-gaz"].true_values["interval_volume_m3"])
               * gas_kwh_per_m3(registry.meter_by_id["mairie-gaz"]))
    elec_kwh = np.bincount(inv, chunk.sites["mairie"].load_w) * chunk.step_s / 3600 / 1000
    weekday = (unique.astype("datetime64[D]").astype(np.int64) + 3) % 7
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [2, 1]})
    x = unique.astype("datetime64[D]").astype(object)
    ax1.plot(x, gas_kwh, color="tab:red", lw=0.8, label="gas / gaz [kWh/day]")
    ax1.plot(x, elec_kwh, color="tab:blue", lw=0.8, label="electricity / électricité [kWh/day]")
    ax1.set_ylabel("kWh/day")
    axt = ax1.twinx()
    axt.plot(x, temp, color="0.5", lw=0.6, label="outdoor / extérieure [°C]")
    axt.set_ylabel("°C")
    ax1.set_title("Hôtel de ville, 2024: daily energy and outdoor temperature", fontsize=10)
    ax1.legend(loc="upper center", fontsize=8)
    ax1.grid(alpha=0.3)
    work = weekday < 5
    ax2.scatter(temp[work], gas_kwh[work], s=6, color="tab:red", label="weekdays / semaine")
    ax2.scatter(temp[~work], gas_kwh[~work], s=6, color="tab:purple", label="weekends")
    ax2.set_xlabel("daily mean outdoor temperature [°C]")
    ax2.set_ylabel("gas [kWh/day]")
    ax2.set_title("Energy signature / signature énergétique", fontsize=10)
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    path = out / "heating-year.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_pv_platform(registry: Registry, out: Path) -> Path:
    """Monthly specific yield of the six technologies of the PV test platform in 2024."""
    import matplotlib.pyplot as plt

    chunk = _run(registry, "2024-01-01", "2025-01-01")
    month = (_month_index(chunk.time_ns - 1))
    fig, ax = plt.subplots(figsize=(11, 3.8))
    arrays = [a for a in registry.pv_arrays if a.site == "plateforme-pv"]
    width = 0.8 / len(arrays)
    for k, a in enumerate(arrays):
        e = np.bincount(month, chunk.series[a.meter].true_values["interval_energy_produced_wh"], minlength=12) / 1000 / a.kwp
        ax.bar(np.arange(12) + k * width, e, width, label=f"{a.technology} ({e.sum():.0f} kWh/kWp)")
    ax.set_xticks(np.arange(12) + 0.4, ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"])
    ax.set_ylabel("kWh/kWp")
    ax.set_title("PV test platform / plateforme d'essais, 2024: monthly specific yield by technology", fontsize=10)
    ax.legend(fontsize=8, ncol=3)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    path = out / "pv-platform.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _month_index(time_ns: np.ndarray) -> np.ndarray:
    days = local_dates(time_ns)
    return (days.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)


def write_all(out: Path = DEFAULT_OUT, registry: Registry | None = None) -> list[Path]:
    """Write every figure into ``out`` and return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    reg = registry or load_registry()
    return [plot_school_week(reg, out), plot_sports_hall_week(reg, out), plot_church(reg, out), plot_pv(reg, out),
            plot_heating_year(reg, out), plot_pv_platform(reg, out)]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_OUT
    for path in write_all(out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
