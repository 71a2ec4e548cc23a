"""Benchmark: baselines and drift for 1,000 synthetic meters × 2 years of daily data, plus
hourly base load, against a bare ``np.linalg.lstsq`` on the same arrays.

Run: ``.venv/bin/python bench/analytics.py [n_meters]``. Prints compute times and ratios.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.baseline import fit_daily  # noqa: E402
from analytics.drift import DEFAULT_BASELOAD, DEFAULT_DRIFT, estimate_noise, run_charts  # noqa: E402
from analytics.synthetic import daily_fleet, hourly_base_load_w  # noqa: E402


def main(n_meters: int = 1000) -> None:
    rng = np.random.default_rng(2024)
    n_base, n_mon = 365, 365
    fleet = daily_fleet(rng, n_meters, n_base + n_mon, cv=0.10, rho=0.3, drift_pct=10.0,
                        onset_range=(n_base + 30, n_base + n_mon - 30), drift_share=0.5)
    x = fleet.weekend[:, None]
    temp = fleet.temp_c

    # bare least squares on the same arrays: one design (intercept, HDD at 15 °C, weekend) per meter
    design = np.column_stack([np.ones(n_base), np.maximum(15.0 - temp[:n_base], 0.0), x[:n_base, 0]])
    t0 = time.perf_counter()
    for i in range(n_meters):
        np.linalg.lstsq(design, fleet.observed_kwh[i, :n_base], rcond=None)
    t_lstsq = time.perf_counter() - t0

    t0 = time.perf_counter()
    resid = np.empty((n_meters, n_mon))
    sig = np.empty(n_meters)
    rho = np.empty(n_meters)
    lvl = np.empty(n_meters)
    qualified = 0
    for i in range(n_meters):
        obs = fleet.observed_kwh[i]
        m = fit_daily(temp[:n_base], obs[:n_base], regressors=x[:n_base], regressor_names=("weekend",),
                      is_electricity=False)
        qualified += m.qualifies
        pred = m.predict(temp, x)
        noise = estimate_noise(obs[:n_base] - pred[:n_base], float(np.mean(pred[:n_base])))
        resid[i] = obs[n_base:] - pred[n_base:]
        sig[i], rho[i], lvl[i] = noise.sigma, noise.rho1, noise.mean_level
    t_fit = time.perf_counter() - t0

    t0 = time.perf_counter()
    run = run_charts(resid, sig, rho, lvl, DEFAULT_DRIFT)
    t_drift = time.perf_counter() - t0

    t0 = time.perf_counter()
    load = hourly_base_load_w(rng, n_meters, n_base + n_mon, day_cv=0.04, day_rho=0.3)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    p5 = np.percentile(load[:, :, 0:5], 5, axis=2)
    base = p5[:, :n_base]
    mean = base.mean(axis=1)
    c = base - mean[:, None]
    rho_b = np.clip((c[:, 1:] * c[:, :-1]).sum(axis=1) / (c * c).sum(axis=1), 0.0, 0.9)
    run_b = run_charts(p5[:, n_base:] - mean[:, None], base.std(axis=1, ddof=1), rho_b, mean, DEFAULT_BASELOAD)
    t_base = time.perf_counter() - t0

    drifted = fleet.onset_day >= 0
    onset = fleet.onset_day - n_base
    first = np.array([
        (lambda idx: idx[0] if idx.size else 10**6)(np.flatnonzero(run.alarm_up[i, max(onset[i], 0):]))
        for i in range(n_meters)
    ])
    clean_alarms = (run.alarm_up | run.alarm_down)[~drifted].sum()
    print(f"meters: {n_meters}, baseline {n_base} d + monitoring {n_mon} d; residual CV 10 %, AR(1) 0.3")
    print(f"np.linalg.lstsq (3 columns, per meter):   {t_lstsq:8.3f} s")
    print(f"change-point fit + predict + noise:       {t_fit:8.3f} s  (ratio {t_fit / t_lstsq:6.1f}×; "
          f"{qualified} models qualify)")
    print(f"CUSUM + EWMA charts, all meters:          {t_drift:8.3f} s  (ratio {t_drift / t_lstsq:6.1f}×)")
    print(f"base load P5 + charts (hourly, {n_meters}×{n_base + n_mon}×24): {t_base:8.3f} s  "
          f"(ratio {t_base / t_lstsq:6.1f}×; synthetic generation {t_gen:.2f} s not counted)")
    print(f"+10 % drifts detected within 21 days: {np.mean(first[drifted] + 1 <= 21):.2f}; "
          f"median delay {np.median(first[drifted]) + 1:.0f} d; "
          f"false alarms on clean meters: {clean_alarms / max((~drifted).sum(), 1):.3f} per meter-year")
    print(f"base-load alarms (no injected rise): {(run_b.alarm_up.sum()) / n_meters:.3f} per meter-year")


def demo_fleet_end_to_end(history_days: int = 400) -> None:
    """The analytics jobs end to end on the demo fleet in real InfluxDB: a full run over
    ``history_days`` of 15-minute data, then the incremental daily run after one more day."""
    import tempfile
    from pathlib import Path

    from analytics.analyze import analyze
    from firmware_sim.session import bulk_load, new_simulation
    from terril.influx import InfluxClient
    from terril.registry import load_registry
    from terril.stack import stack_down, stack_up
    from terril.timeutil import NS_PER_S, now_ns

    day = 86_400 * NS_PER_S
    end = now_ns() // (900 * NS_PER_S) * (900 * NS_PER_S)
    start = end - (history_days + 1) * day
    registry = load_registry()
    with tempfile.TemporaryDirectory(prefix="terril-bench-analytics-") as tmp:
        state, _ = stack_up(tmp)
        try:
            client = InfluxClient(state.influx_url, "bench", timeout_s=300)
            client.create_database()

            def write(points: list) -> int:  # noqa: ANN001
                return client.write_points(points, batch=20_000)

            sim = new_simulation(registry, start, seed=3, step_s=900)
            t0 = time.perf_counter()
            n = bulk_load(sim, registry, write, end - day)
            t_load = time.perf_counter() - t0
            t0 = time.perf_counter()
            full = analyze(client, registry, Path(tmp), since_ns=start, end_ns=end - day)
            t_full = time.perf_counter() - t0
            n2 = bulk_load(sim, registry, write, end)
            t0 = time.perf_counter()
            inc = analyze(client, registry, Path(tmp), end_ns=end)
            t_inc = time.perf_counter() - t0
        finally:
            stack_down(tmp)
    print(f"\ndemo fleet end to end ({len(registry.meters)} meters, 15-minute data, real InfluxDB):")
    print(f"  bulk load of {history_days} days ({n:,} points):          {t_load:8.1f} s")
    print(f"  full analytics run over {history_days} days:               {t_full:8.1f} s  "
          f"({full.meters_rolled_up} meters, {len(full.baselines_fitted)} baselines, {full.pv_arrays} PV arrays)")
    print(f"  incremental daily run (+1 day, {n2:,} points):         {t_inc:8.1f} s  "
          f"({inc.meters_rolled_up} meters recomputed from the month start; ratio full/incremental "
          f"{t_full / max(t_inc, 1e-9):.1f}×)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
    demo_fleet_end_to_end()
