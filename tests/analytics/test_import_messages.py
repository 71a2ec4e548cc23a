"""What `terril import` prints, as pure functions: one language at a time, with the language's
typography (French puts a space before the semicolon)."""

from __future__ import annotations

from analytics.imports.messages import sums_text


def test_french_sums_use_spaced_semicolons_throughout() -> None:
    sums = {"t_min_c": 20.0, "t_max_c": 60.0, "energy_wh": 1_234_500.0}
    fr = sums_text(sums, 4, "fr")
    assert fr == "t_min_c (moyenne) 5,0 ; t_max_c (moyenne) 15,0 ; energy_wh 1\u202f234\u202f500,0 (1\u202f234,5 kWh)"
    assert fr.count(" ; ") == 2 and fr.replace(" ; ", "").count(";") == 0


def test_english_sums_use_plain_semicolons() -> None:
    en = sums_text({"t_min_c": 20.0, "volume_m3": 12.5}, 4, "en")
    assert en == "t_min_c (mean) 5.0; volume_m3 12.5"
