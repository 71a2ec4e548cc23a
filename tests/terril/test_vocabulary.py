"""Vocabulary, units, identifiers and time: the kernel's small pure pieces."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from terril.errors import IdentifierError
from terril.ids import is_valid_id, validate_id
from terril.quantities import QUANTITIES, glossary_markdown
from terril.timeutil import PARIS, format_rfc3339_ns, local_midnight_ns, parse_rfc3339, parse_time_arg
from terril.units import to_canonical

ROOT = Path(__file__).resolve().parents[2]


def test_every_quantity_name_carries_its_unit():
    suffix = {"Wh": "_wh", "W": "_w", "VA": "_va", "var": "_var", "varh": "_varh", "V": "_v", "A": "_a",
              "Hz": "_hz", "m³": "_m3", "m³/h": "_m3_h", "°C": "_c", "W/m²": "_w_m2", "%": "_pct", "m/s": "_m_s"}
    for q in QUANTITIES.values():
        if q.unit == "1":
            continue
        assert q.name.endswith(suffix[q.unit]), q.name


def test_glossary_doc_is_generated():
    assert (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8") == glossary_markdown(), \
        "run: python -m terril.quantities > docs/glossary.md"


@pytest.mark.parametrize("value, unit, expected", [
    (1.5, "kWh", (1500.0, "Wh")), (60, "Wmin", (1.0, "Wh")), (2, "kVA", (2000.0, "VA")), (250, "L", (0.25, "m³")),
])
def test_unit_conversions(value, unit, expected):
    converted, canonical = to_canonical(value, unit)
    assert converted == pytest.approx(expected[0]) and canonical == expected[1]


@pytest.mark.parametrize("good", ["ecole-basly", "a", "0cb815fcaf6c", "pf_mono-perc", "x" * 64])
def test_valid_ids(good):
    assert is_valid_id(good) and validate_id(good) == good


@pytest.mark.parametrize("bad", ["", "A", "-x", "_x", "a b", "a,b", "a=b", 'a"b', "é", "x" * 65, "a\nb", None, 3,
                                 '"; DROP SERIES FROM /.*/', "ѕite"])
def test_invalid_ids(bad):
    assert not is_valid_id(bad)
    with pytest.raises(IdentifierError):
        validate_id(bad, "site")


def test_rfc3339_round_trip_keeps_nanoseconds():
    t = parse_rfc3339("2026-03-29T01:59:59.123456789+01:00")
    assert format_rfc3339_ns(t) == "2026-03-29T00:59:59.123456789Z"
    assert parse_rfc3339("2026-01-01T00:00:00Z") == 1_767_225_600 * 10**9
    with pytest.raises(ValueError):
        parse_rfc3339("2026-01-01T00:00:00")  # no offset: refused, never guessed


def test_dates_are_paris_midnights_including_dst_days():
    for bad in ("bogus", "2026-13-01", "2026-03-29 08:00"):
        with pytest.raises(ValueError, match="neither a date YYYY-MM-DD nor an RFC 3339 time"):
            parse_time_arg(bad)
    start = parse_time_arg("2026-03-29")
    end = parse_time_arg("2026-03-29", end_of_day=True)
    assert end - start == 23 * 3600 * 10**9
    assert parse_time_arg("2026-10-25", end_of_day=True) - parse_time_arg("2026-10-25") == 25 * 3600 * 10**9
    assert local_midnight_ns(dt.date(2026, 1, 1), PARIS) == parse_rfc3339("2025-12-31T23:00:00Z")
