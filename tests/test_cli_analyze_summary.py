"""`terril analyze` says what it did in the town's language, with that language's numbers and the
reasons a baseline was not fitted in words (it printed English and reason codes in a French CLI)."""

from __future__ import annotations

from analytics.analyze import AnalyzeReport
from terril.cli.analyze import analyze_summary_lines
from terril.timeutil import local_midnight_ns


def _report() -> AnalyzeReport:
    import datetime as dt

    return AnalyzeReport(window_start_ns=local_midnight_ns(dt.date(2025, 10, 1)), meters_rolled_up=52,
                         rollup_points=572_722, counter_events=2, weather_days=408,
                         baselines_fitted={"mairie-elec": "towt"},
                         baselines_skipped={"mairie-eau": "baseline.insufficient_days"},
                         alerts_open=5, alerts_new=1, pv_arrays=14,
                         step_notes={"mairie-toiture-pv": "data at 900 s, declared 300 s"})


def test_the_summary_is_french_for_a_french_town() -> None:
    lines = analyze_summary_lines(_report(), 53, "fr")
    text = "\n".join(line for line, _ in lines)
    assert "Analyse depuis le 2025-10-01 : 52 compteurs agrégés (572\u202f722 points)" in text
    assert "Références ajustées : 1 ; non ajustées : 1 (par ex. mairie-eau : " in text
    assert "baseline.insufficient_days" not in text
    assert "Alertes ouvertes : 5 (nouvelles : 1) ; alertes de 53 compteurs publiées" in text
    assert "PV : 14 installations analysées" in text
    warnings = [line for line, warn in lines if warn]
    assert len(warnings) == 1 and "attention :" in warnings[0] and "mairie-toiture-pv" in warnings[0]
    for word in ("Analysed", "Baselines", "Alerts open", "warning"):
        assert word not in text


def test_the_summary_is_english_on_demand() -> None:
    text = "\n".join(line for line, _ in analyze_summary_lines(_report(), 0, "en"))
    assert "Analysed from 2025-10-01: 52 meters rolled up (572722 points)" in text
    assert "Alerts open: 5 (new: 1)" in text and "published" not in text
    assert "Analyse depuis" not in text


def test_nothing_new_is_said_in_either_language() -> None:
    quiet = AnalyzeReport(nothing_new=True)
    assert analyze_summary_lines(quiet, 0, "fr")[0][0].startswith("Rien de nouveau")
    assert analyze_summary_lines(quiet, 0, "en")[0][0].startswith("Nothing new")
