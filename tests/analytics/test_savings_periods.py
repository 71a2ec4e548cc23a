"""Baseline and reporting periods a savings report can measure (IPMVP: after the baseline, up to today).

`terril report savings --baseline 2025-10-26..2026-10-25 --period 2026-10-01..2026-12-06` measured
a reporting period that overlapped its own baseline, and `--period 2026-10-26..2027-12-06` wrote
`savings_monthly` rows for a year not yet lived (315 rows instead of 63), both without a word.
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.savings import Period, PeriodProblem, measurable_periods
from helpers import run_terril

D = dt.date
BASE = Period(D(2025, 10, 26), D(2026, 10, 25))
TODAY = D(2026, 12, 7)


def test_a_reporting_period_after_the_baseline_and_before_today_is_kept() -> None:
    rep = Period(D(2026, 10, 26), D(2026, 12, 6))
    assert measurable_periods(BASE, rep, TODAY) == (rep, [])


def test_a_reporting_period_that_overlaps_the_baseline_is_refused() -> None:
    with pytest.raises(PeriodProblem) as info:
        measurable_periods(BASE, Period(D(2026, 10, 1), D(2026, 12, 6)), TODAY)
    assert info.value.key == "periods.overlap" and info.value.fmt["first"] == "2026-10-26"
    with pytest.raises(PeriodProblem):  # a reporting period before the baseline is refused too
        measurable_periods(BASE, Period(D(2024, 1, 1), D(2024, 12, 31)), TODAY)


def test_a_reporting_period_in_the_future_is_refused_and_one_running_past_today_stops_today() -> None:
    with pytest.raises(PeriodProblem) as info:
        measurable_periods(BASE, Period(D(2027, 1, 1), D(2027, 3, 31)), TODAY)
    assert info.value.key == "periods.future"
    rep, notes = measurable_periods(BASE, Period(D(2026, 10, 26), D(2027, 12, 6)), TODAY)
    assert rep == Period(D(2026, 10, 26), TODAY)
    assert notes == [("periods.clamped", {"end": "2027-12-06", "today": "2026-12-07"})]


def test_the_cli_says_so_in_the_town_s_language(monkeypatch) -> None:
    monkeypatch.delenv("TERRIL_REGISTRY", raising=False)
    monkeypatch.setenv("TERRIL_NOW", "2026-12-07")
    common = ("report", "savings", "--portfolio", "--baseline", "2025-10-26..2026-10-25", "-o", "/tmp/never.pdf")
    overlap = run_terril(*common, "--period", "2026-10-01..2026-12-06")
    assert overlap.returncode == 2
    said = " ".join(overlap.stderr.split())
    assert "erreur : la période de suivi 2026-10-01..2026-12-06 commence avant la fin de la référence" in said
    assert "le 2026-10-26 ou après" in said
    future = run_terril(*common, "--period", "2027-01-01..2027-03-31", "--lang", "en")
    assert future.returncode == 2 and "error: the reporting period starts on 2027-01-01, after today" in " ".join(
        future.stderr.split())
    bad = run_terril(*common, "--period", "2026-10-26..soon")
    assert bad.returncode == 2 and "erreur : période invalide" in bad.stderr and "AAAA-MM-JJ..AAAA-MM-JJ" in bad.stderr
    fmt = run_terril(*common, "--period", "2026-10-26..2026-12-06", "--format", "docx")
    assert fmt.returncode == 2 and "erreur : --format 'docx' : attendu l'un de pdf" in fmt.stderr
    site = run_terril("report", "savings", "--site", "nope", "--baseline", "2025-10-26..2026-10-25",
                      "--period", "2026-10-26..2026-12-06", "-o", "/tmp/never.pdf")
    assert site.returncode == 2 and "erreur : site inconnu : 'nope' ; le registre a : mairie" in site.stderr
