"""What the demo imports for the Décret tertiaire (terril.cli.demo.invoice_months): every month of
each reference year, and last year's months that start before the history."""

from __future__ import annotations

import datetime as dt

from terril.cli.demo import invoice_months


def test_reference_years_whole_and_last_years_months_before_the_history() -> None:
    plan = invoice_months({2010: ["a", "b"], 2012: ["c"]}, ["a", "b", "c"], 2025, dt.date(2025, 10, 31))
    assert plan[2010] == (["a", "b"], list(range(1, 13)))
    assert plan[2012] == (["c"], list(range(1, 13)))
    # October starts before the history (31 October): imported, its measured day not counted twice
    assert plan[2025] == (["a", "b", "c"], list(range(1, 11)))


def test_a_history_that_covers_last_year_needs_no_invoices_for_it() -> None:
    plan = invoice_months({2011: ["a"]}, ["a"], 2025, dt.date(2024, 12, 11))
    assert set(plan) == {2011}
    # a history starting on 1 January needs none either
    assert set(invoice_months({}, ["a"], 2025, dt.date(2025, 1, 1))) == set()


def test_a_reference_year_that_is_last_year_merges_its_sites() -> None:
    plan = invoice_months({2025: ["a"]}, ["a", "b"], 2025, dt.date(2025, 6, 10))
    assert plan[2025] == (["a", "b"], list(range(1, 7)))
