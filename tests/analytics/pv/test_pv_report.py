"""The PV report's summary and alert table say what its tables hold, in the report's language."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.jobs.alerts import AlertRecord
from analytics.pv.jobs import PV_DAILY_FIELDS, PvDailyTable
from analytics.pv.report import build_pv_report
from terril.registry import load_registry
from terril.timeutil import local_midnight_ns


def _daily(reg, days: int, ratios: dict[str, float]) -> PvDailyTable:  # noqa: ANN001
    """``days`` days of two arrays producing ``ratio`` × their expected 10 kWh/kWp."""
    arr, site, tech, t, f = [], [], [], [], {k: [] for k in PV_DAILY_FIELDS}
    for a_id, ratio in ratios.items():
        a = reg.array_by_id[a_id]
        for d in range(days):
            arr.append(a.id)
            site.append(a.site)
            tech.append(a.technology)
            t.append(local_midnight_ns(dt.date(2026, 11, 1) + dt.timedelta(days=d)))
            expected = 10_000.0 * a.kwp
            for k, v in (("production_wh", expected * ratio), ("expected_wh", expected),
                         ("specific_yield_kwh_kwp", 10 * ratio), ("performance_ratio_pct", 85 * ratio),
                         ("availability_pct", 100.0), ("irradiation_wh_m2", 12_000.0), ("coverage_pct", 100.0)):
                f[k].append(v)
    return PvDailyTable(np.array(arr), np.array(site), np.array(tech), np.array(t, dtype=np.int64),
                        {k: np.array(v) for k, v in f.items()})


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_lost_production_is_the_shortfall_of_the_arrays_below_expectation(lang: str) -> None:
    # The December demo's report said « Écart à la production attendue : 0 kWh, soit 47 € »: the kWh
    # netted a string failure against the arrays producing above their model, the € did not.
    reg = load_registry()
    short, above = "bigotte-toiture", "ctm-toiture"
    daily = _daily(reg, 10, {short: 0.75, above: 1.10})
    onset = local_midnight_ns(dt.date(2026, 11, 3))
    alert = AlertRecord("a1", reg.array_by_id[short].site, reg.array_by_id[short].meter, "pv_string_loss", "open",
                        onset, onset, -250.0, -25.0, 70.0, 0.0, "Perte de production", "Production loss", carrier="pv")
    report = build_pv_report(reg, daily, {}, [alert], dt.date(2026, 11, 1), dt.date(2026, 11, 10), lang)
    lost_kwh = 10 * 10.0 * reg.array_by_id[short].kwp * 0.25
    summary = " ".join(report.summary.paragraphs)
    number = f"{lost_kwh:,.0f}".replace(",", "\u202f" if lang == "fr" else ",")
    assert f"{number} kWh" in summary, summary
    assert (" 0 kWh" not in summary), summary
    alerts = next(tb for s in report.sections for tb in s.tables if tb.key == "alerts")
    assert alerts.rows[0][3] == ("ouverte" if lang == "fr" else "open")
