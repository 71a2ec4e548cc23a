"""The savings report from the fleet simulator: the windows of école Curie (−10 % gas,
2024-08-19) are recovered within the stated uncertainty; the other schools show no
significant change; every figure in the report comes from the computation."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path

import openpyxl
import pytest

from analytics.reports.render import write_report
from analytics.reports.savings_report import build_savings_report, compute_savings, savings_monthly_points
from terril.cli.examples import BASELINE, REPORTING, SCHOOLS
from terril.cli.simulated_inputs import simulated_input_bundle
from terril.registry import load_registry


@pytest.fixture(scope="module")
def result():  # noqa: ANN201
    reg = load_registry()
    bundle = simulated_input_bundle(reg, SCHOOLS, BASELINE.start, REPORTING.end, seed=1)
    return reg, compute_savings(bundle, reg, SCHOOLS, BASELINE, REPORTING)


def test_known_retrofit_recovered_and_others_unchanged(result) -> None:  # noqa: ANN001
    _, r = result
    curie = next(s for s in r.meters if s.meter == "ecole-curie-gaz")
    assert curie.qualifies
    assert abs(curie.savings_fraction - 0.10) * curie.adjusted_baseline_total_kwh <= curie.u90_kwh
    others = [s for s in r.meters if s.qualifies and s.carrier in ("gas", "heat") and s.site != "ecole-curie"]
    assert others and all(abs(s.avoided_kwh) <= s.u90_kwh for s in others)
    m = next(x for x in r.measures if x.measure == "curie-menuiseries")
    assert m.status == "on_track" and m.simple_payback_years > 0
    # PV changes the net import of the schools with a roof: with the site's production as a regressor
    # their electricity model qualifies, and shows no change where no measure was made
    basly = next(s for s in r.meters if s.meter == "ecole-basly-elec")
    assert basly.qualifies and abs(basly.avoided_kwh) <= basly.u90_kwh
    pts = savings_monthly_points(r)
    assert pts and {p.measurement for p in pts} == {"savings_monthly"}
    assert sum(p.fields["avoided_wh"] for p in pts if p.tags["meter"] == "ecole-curie-gaz") == pytest.approx(
        curie.avoided_kwh * 1000.0)


def test_report_carries_figures_and_reproducibility(result, tmp_path: Path) -> None:  # noqa: ANN001
    reg, r = result
    rep = build_savings_report(r, reg, "en", generated_at=dt.datetime(2025, 9, 15, tzinfo=dt.timezone.utc))
    assert rep.metadata["input_sha256"] == r.bundle.sha256()
    assert "ecole-curie-gaz" in rep.metadata["model_parameters"]
    per = rep.summary.tables[0]
    total = per.rows[-1]
    assert total[0] == "Total" and total[4] == pytest.approx(r.portfolio.avoided_kwh)
    wb = openpyxl.load_workbook(write_report(rep, tmp_path / "s.xlsx", "xlsx"))
    assert {"Per building", "Per meter", "Monthly", "Completeness", "Reproducibility"} <= set(wb.sheetnames)
    pdf = write_report(rep, tmp_path / "s.pdf", "pdf")
    assert pdf.stat().st_size > 50_000
    # the PDF gives the parameters' fingerprint, not pages of raw JSON (the XLSX and JSON hold the text)
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    params = rep.metadata["model_parameters"]
    digest = hashlib.sha256(params.encode("utf-8")).hexdigest()
    assert f"{len(r.meters)} fitted models" in text and digest in text.replace(" ", "")
    assert '"cvrmse"' in params and '"cvrmse"' not in text


def test_the_weekly_chart_leaves_out_a_partial_week_instead_of_falling_to_zero() -> None:
    # The December demo's report ended every weekly chart with a fall to zero: its reporting period
    # ended on a day not yet measured (6 weeks and 1 day). A week is its mean valid day × 7.
    import numpy as np

    from analytics.reports.savings_report import _week_sums

    dates = np.arange(np.datetime64("2026-10-26"), np.datetime64("2026-12-08"))  # 43 days
    kwh = np.full(dates.size, 100.0)
    valid = np.ones(dates.size, bool)
    valid[-1] = False  # today: not a whole day yet
    valid[7:10] = False  # a week with three days missing
    starts, (weekly,) = _week_sums(dates, kwh, valid=valid)
    assert starts.size == 7
    assert np.allclose(weekly[:6], 700.0)  # the gap week too: its 4 valid days, × 7
    assert np.isnan(weekly[6])
    valid[7:11] = False  # 3 valid days left: too few to stand for a week
    assert np.isnan(_week_sums(dates, kwh, valid=valid)[1][0][1])


@pytest.mark.parametrize("days,lang", [(43, "fr"), (43, "en"), (400, "fr"), (12, "fr")])
def test_date_axes_have_several_distinct_labels(days: int, lang: str) -> None:
    # A 6-week chart had one label (« 11/26 ») or the same month three times (« 11/26 11/26 12/26 »).
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from analytics.reports.savings_report import _fmt_axis

    x = np.arange(np.datetime64("2026-10-26"), np.datetime64("2026-10-26") + days).astype(dt.date)
    fig, ax = plt.subplots(figsize=(6.5, 2.5))
    try:
        ax.plot(x, np.arange(days, dtype=float))
        _fmt_axis(ax, lang)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    finally:
        plt.close(fig)
    assert len(labels) >= 3, labels
    assert len(set(labels)) == len(labels), labels
