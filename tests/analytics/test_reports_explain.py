"""Reports that explain instead of printing zeros (issue #14 item 6): reason codes become
sentences with their figures and what to do, excluded meters are "not computed" rather than
summed as zero, ``include_unqualified`` counts them with a visible warning, and PV is reported
as production, not as a 100 % saving."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from analytics.reports.reasons import KNOWN_CODES, explain, reason_why, short_reason
from analytics.reports.savings_report import build_savings_report, compute_savings, savings_summary_line
from terril.cli.examples import BASELINE, REPORTING
from terril.cli.simulated_inputs import simulated_input_bundle
from terril.registry import load_registry

SITES = ("ecole-basly",)  # gas + electricity + a PV roof


@pytest.fixture(scope="module")
def data():  # noqa: ANN201
    reg = load_registry()
    bundle = simulated_input_bundle(reg, SITES, BASELINE.start, REPORTING.end, seed=1)
    # the baseline's temperature is known for 7 calendar months out of 12 (+ the partial 13th)
    months = bundle.dates.astype("datetime64[M]")
    gap = (months >= np.datetime64("2024-01")) & (months <= np.datetime64("2024-05"))
    holed = dataclasses.replace(bundle, temp_mean_c=np.where(gap, np.nan, bundle.temp_mean_c))
    return reg, bundle, holed


def _text(report) -> str:  # noqa: ANN001
    parts = list(report.summary.paragraphs)
    for s in report.sections:
        parts += s.paragraphs
    return "\n".join(parts)


def test_nothing_computed_says_why_and_never_zero(data) -> None:  # noqa: ANN001
    reg, _, holed = data
    r = compute_savings(holed, reg, SITES, BASELINE, REPORTING)
    cons = [s for s in r.meters if s.carrier != "pv"]
    assert cons and all("baseline.month_temperature_coverage" in s.reasons for s in cons)
    assert not r.portfolio.computed and set(r.portfolio.excluded) == {s.meter for s in cons}
    fr = build_savings_report(r, reg, "fr")
    text = _text(fr)
    assert "ont consommé 0 kWh" not in text and "0 kWh" not in " ".join(fr.summary.paragraphs[:1])
    months = cons[0].baseline_months
    ok = cons[0].baseline_months_with_temperature
    assert months == 13 and ok == months - 5
    assert f"la référence ne couvre que {ok} mois sur {months}" in text
    assert "À faire :" in text and "importez les températures manquantes" in text
    assert "baseline.month_temperature_coverage" not in text  # a sentence, not a code
    per = fr.summary.tables[0]
    total = per.rows[-1]
    assert total[0] == "Total" and total[2] == "non calculé" and all(v is None for v in total[3:9])
    en = build_savings_report(r, reg, "en")
    assert f"the baseline covers only {ok} months out of {months}" in _text(en)
    assert en.summary.tables[0].rows[-1][2] == "not computed"
    assert "not computed" in savings_summary_line(r, "en") and "0 kWh" not in savings_summary_line(r, "en")


def _scattered(bundle):  # noqa: ANN001, ANN202
    """The electricity's daily values scattered by ±50 % (seeded): a meter whose model fails the gate."""
    rng = np.random.default_rng(4)
    return dataclasses.replace(bundle, meters=tuple(
        dataclasses.replace(m, energy_kwh=m.energy_kwh * rng.uniform(0.5, 1.5, m.energy_kwh.size))
        if m.meter == "ecole-basly-elec" else m for m in bundle.meters))


def test_include_unqualified_counts_them_with_a_warning(data) -> None:  # noqa: ANN001
    reg, bundle, _ = data
    noisy = _scattered(bundle)
    base = compute_savings(noisy, reg, SITES, BASELINE, REPORTING)
    forced = compute_savings(noisy, reg, SITES, BASELINE, REPORTING, include_unqualified=True)
    unq = [s for s in base.meters if s.carrier != "pv" and not s.qualifies and s.computable]
    assert unq, "the scattered electricity fails the CV(RMSE) gate (gl14.cvrmse_too_high)"
    assert set(forced.portfolio.forced) == {s.meter for s in unq}
    assert set(base.portfolio.meters).isdisjoint(s.meter for s in unq)
    extra = sum(s.avoided_kwh for s in unq)
    assert forced.portfolio.avoided_kwh == pytest.approx(base.portfolio.avoided_kwh + extra)
    rep = build_savings_report(forced, reg, "fr")
    assert rep.summary.paragraphs[0].startswith("ATTENTION")
    assert "--include-unqualified" in savings_summary_line(forced, "fr")
    per_meter = next(tb for s in rep.sections for tb in s.tables if tb.key == "per_meter")
    row = next(r for r in per_meter.rows if r[0] == unq[0].meter)
    assert row[-1].startswith("inclus sans qualification") and row[6] == pytest.approx(unq[0].avoided_kwh)


def test_pv_is_production_not_a_saving(data) -> None:  # noqa: ANN001
    reg, bundle, _ = data
    r = compute_savings(bundle, reg, SITES, BASELINE, REPORTING)
    pv = [s for s in r.meters if s.carrier == "pv"]
    assert pv and all(math.isnan(s.savings_fraction) for s in pv)
    assert not {s.meter for s in pv} & set(r.portfolio.meters)
    rep = build_savings_report(r, reg, "en")
    tables = {tb.key: tb for tb in rep.all_tables()}
    prod = tables["pv_production"]
    assert [row[0] for row in prod.rows] == [s.meter for s in pv]
    assert prod.rows[0][2] == pytest.approx(pv[0].adjusted_baseline_total_kwh) and prod.rows[0][2] > 0
    assert prod.rows[0][3] == "not metered"
    assert all(row[0] not in {s.meter for s in pv} for row in tables["per_meter"].rows)
    assert all(row[1] != "photovoltaics" for row in tables["per_building"].rows)


def test_every_known_code_reads_as_a_sentence_in_both_languages() -> None:
    for code in KNOWN_CODES:
        for lang in ("fr", "en"):
            assert code not in reason_why(code, lang) and code not in short_reason(code, lang)
    assert "gl14.made_up" in reason_why("gl14.made_up", "fr")  # unknown codes still get a sentence


def test_cvrmse_reason_names_the_figure(data) -> None:  # noqa: ANN001
    reg, bundle, _ = data
    r = compute_savings(_scattered(bundle), reg, SITES, BASELINE, REPORTING)
    s = next(m for m in r.meters if "gl14.cvrmse_too_high" in m.reasons)
    cv = 100 * s.model.metrics.cvrmse
    fr = explain(s, "fr")
    assert f"CV(RMSE) {cv:.1f}".replace(".", ",") in fr and "25 %" in fr
