"""Line protocol: escaping, integers, NaN/±Inf, empty fields, and a round trip of hostile values through real InfluxDB."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from terril.lineprotocol import LineProtocolError, format_point, format_points
from terril.readings import Point


def test_escaping_of_each_element():
    p = Point("my meas,x", {"tag key": "a=b,c d", "z": "1"}, {"f=1": 'say "hi" \\ ok', "n": 3}, 42)
    assert format_point(p) == r'my\ meas\,x,tag\ key=a\=b\,c\ d,z=1 f\=1="say \"hi\" \\ ok",n=3i 42'


def test_tags_are_sorted_and_empty_tag_values_dropped():
    p = Point("m", {"b": "2", "a": "1", "c": ""}, {"v": 1.5}, 1)
    assert format_point(p) == "m,a=1,b=2 v=1.5 1"


def test_integers_floats_booleans():
    p = Point("m", {}, {"i": 7, "f": 7.0, "b": True, "big": 2**62, "neg": -1.25e-7}, 5)
    assert format_point(p) == "m i=7i,f=7.0,b=true,big=4611686018427387904i,neg=-1.25e-07 5"


def test_nan_and_inf_fields_are_dropped_and_a_point_without_fields_refused():
    p = Point("m", {}, {"a": math.nan, "b": 1.0, "c": math.inf, "d": -math.inf}, 1)
    assert format_point(p) == "m b=1.0 1"
    with pytest.raises(LineProtocolError):
        format_point(Point("m", {}, {"a": math.nan}, 1))
    with pytest.raises(LineProtocolError):
        format_point(Point("m", {"t": "x"}, {}, 1))
    body, skipped = format_points([Point("m", {}, {"a": math.nan}, 1), Point("m", {}, {"a": 1}, 2)])
    assert body == b"m a=1i 2\n" and skipped == 1


@pytest.mark.parametrize("bad", ["a\\b", "line\nbreak", "tab\there", "cr\r", "nul\x00"])
def test_unrepresentable_tags_are_refused_not_altered(bad):
    with pytest.raises(LineProtocolError):
        format_point(Point("m", {"t": bad}, {"v": 1}, 1))
    with pytest.raises(LineProtocolError):
        format_point(Point("m", {bad: "x"}, {"v": 1}, 1))
    with pytest.raises(LineProtocolError):
        format_point(Point(bad, {}, {"v": 1}, 1))


# Tag values: any printable text without backslash. String fields: anything.
tag_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda s: s.isprintable() and "\\" not in s)
field_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


_case = iter(range(10**9))


@pytest.mark.integration
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tag=tag_text, text=field_text, number=finite, integer=st.integers(-(2**63), 2**63 - 1))
@example(tag="0", text="\x85\u2028 NEL and LINE SEPARATOR stay inside the string", number=0.0, integer=0)
@example(tag='"; DROP SERIES FROM /.*/', text='"; DROP SERIES FROM /.*/', number=1e308, integer=-(2**63))
def test_hostile_values_round_trip_through_real_influxdb(influx_db, tag, text, number, integer):
    case = str(next(_case))
    point = Point("hostile", {"site": tag, "case": case}, {"text": text, "number": number, "integer": integer},
                  1_000_000_007)
    influx_db.write_lines((format_point(point) + "\n").encode())
    series = influx_db.query('SELECT "site", "text", "number", "integer" FROM "hostile" WHERE "case" = $case',
                             params={"case": case})
    assert len(series) == 1 and len(series[0].values) == 1
    t, site, stored_text, stored_number, stored_integer = series[0].values[0]
    assert t == 1_000_000_007
    assert site == tag
    assert stored_text == text
    # InfluxDB's JSON writes large floats without a decimal point: compare as floats
    assert float(stored_number) == number
    assert stored_integer == integer
    # the hostile tag created exactly one series and altered no other
    assert len(influx_db.query('SHOW SERIES FROM "hostile" WHERE "case" = $case', params={"case": case})[0].values) == 1


def test_numpy_scalars_are_written_as_plain_numbers():
    import numpy as np

    p = Point("m", {}, {"f": np.float64(1.5), "i": np.int64(7), "b": np.bool_(True), "g": np.float32(0.25)}, 1)
    assert format_point(p) == "m f=1.5,i=7i,b=true,g=0.25 1"
