"""Cross-check of the adjusted baseline against an independent implementation: OpenDSM's
eemeter daily model (opendsm 1.2.7, test-only dependency) on its own shipped sample data.

The two models differ (ours: CalTRACK 2.0 grid search, OLS; OpenDSM 1.2.7 ``DailyModel``:
optimised balance points, seasonal/weekday splits, robust loss), so they must agree on the
adjusted baseline over the reporting year within 5 %, not to the kWh.
"""

from __future__ import annotations


import numpy as np
import pytest

pytestmark = pytest.mark.slow

opendsm = pytest.importorskip("opendsm", reason="opendsm==1.2.7 (with multimethod<2) is not installed")

from analytics.savings import Period, meter_savings  # noqa: E402


@pytest.mark.parametrize("sample", ["il-gas-hdd-only-daily", "il-electricity-cdd-hdd-daily"])
def test_adjusted_baseline_agrees_with_opendsm(sample: str) -> None:
    import pandas as pd
    from opendsm.eemeter import DailyBaselineData, DailyModel, DailyReportingData
    from opendsm.eemeter.samples import load_sample

    meter, temp_f, meta = load_sample(sample)
    is_elec = "electricity" in sample
    bs = meta["blackout_start_date"]
    be = meta["blackout_end_date"]
    base = meter.loc[bs - pd.Timedelta(days=365): bs - pd.Timedelta(days=1)]
    rep = meter.loc[be: be + pd.Timedelta(days=364)]
    model = DailyModel().fit(DailyBaselineData.from_series(base, temp_f, is_electricity_data=is_elec))
    pred = model.predict(DailyReportingData.from_series(rep, temp_f, is_electricity_data=is_elec))
    theirs = float(pred["predicted"].sum())

    # ours on the same days: daily mean temperature in °C from the same hourly series (UTC days, as theirs)
    days = pd.date_range(base.index[0], rep.index[-1], freq="D", tz="UTC")
    t_c = ((temp_f - 32.0) / 1.8).resample("D").mean().reindex(days)
    kwh = meter["value"].reindex(days)
    dates = np.array([d.date() for d in days], dtype="datetime64[D]")
    ours = meter_savings(
        meter="oracle", site="oracle", carrier="electricity" if is_elec else "gas", dates=dates,
        energy_kwh=kwh.to_numpy(float), temp_mean_c=t_c.to_numpy(float), regressors=None,
        baseline=Period(base.index[0].date(), base.index[-1].date()),
        reporting=Period(rep.index[0].date(), rep.index[-1].date()),
    )
    assert ours.model is not None and ours.model.verdict.status != "reject"
    # same reporting days on both sides
    mask = np.isin(ours.dates, np.array([d.date() for d in pred.index], dtype="datetime64[D]"))
    ours_total = float(np.nansum(ours.adjusted_baseline_kwh[mask]))
    print(f"{sample}: ours {ours_total:.1f}, opendsm {theirs:.1f}, diff {100 * (ours_total / theirs - 1):+.2f} %")
    assert ours_total == pytest.approx(theirs, rel=0.05), (ours_total, theirs, ours.model.kind)

