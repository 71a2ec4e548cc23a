"""Plausible values: a reading outside its quantity's physical range is quarantined as ``out_of_range``.

Defaults live in the vocabulary of quantities (terril/quantities.py); a meter may override them.
"""

from __future__ import annotations

import pytest

from collector.mapping import Pipeline
from terril.errors import RegistryError
from terril.quantities import QUANTITIES, plausible_range
from terril.registry import parse_registry

RECEIVED_NS = 1_767_222_000_000_000_000
SITE = {"id": "s", "name": "S", "kind": "school", "latitude": 50.4, "longitude": 2.8}


def _pipeline(**meter_extra: object) -> Pipeline:
    return Pipeline(parse_registry({
        "sites": [SITE],
        "meters": [{"id": "m", "site": "s", "carrier": "electricity", **meter_extra}],
        "devices": [{"id": "d", "site": "s", "channels": [{"channel": "main", "meter": "m"}]}],
    }))


def _process(pipeline: Pipeline, body: bytes):  # noqa: ANN202
    return pipeline.process("terril/s/d/telemetry", body, RECEIVED_NS)


@pytest.mark.parametrize("body", [
    b'{"energy_import_wh": 1e308}', b'{"energy_import_wh": -5}', b'{"power_w": 3e9}',
    b'{"power_w": 1500, "voltage_v": 23000}', b'{"power_factor": 1.8}', b'{"temp_air_c": 95}',
])
def test_implausible_readings_are_quarantined_as_out_of_range(body: bytes):
    out = _process(_pipeline(), body)
    assert out.rejection is not None and out.rejection.reason == "out_of_range", out
    assert out.points == ()
    assert "plausible range" in out.rejection.detail and out.rejection.device == "d"


@pytest.mark.parametrize("body", [
    b'{"energy_import_wh": 123456789.5}', b'{"power_w": -4500, "voltage_v": 231.2, "power_factor": -1}',
    b'{"temp_air_c": -59.9}', b'{"energy_import_wh": 0}',
])
def test_plausible_readings_are_stored(body: bytes):
    out = _process(_pipeline(), body)
    assert out.rejection is None and len(out.points) == 1


def test_a_meter_overrides_a_range_and_the_default_stays_elsewhere():
    narrow = _pipeline(plausible={"power_w": [-1000, 36000]})
    assert _process(narrow, b'{"power_w": 40000}').rejection.reason == "out_of_range"
    assert _process(narrow, b'{"power_w": 35999}').rejection is None
    assert _process(_pipeline(), b'{"power_w": 40000}').rejection is None
    wide = _pipeline(plausible={"voltage_v": [0, 30000]})  # a medium-voltage meter reporting primary volts
    assert _process(wide, b'{"voltage_v": 20400}').rejection is None


@pytest.mark.parametrize("override, words", [
    ({"power_kw": [0, 1]}, "not a canonical quantity"),
    ({"power_w": [10, 1]}, "min < max"),
    ({"power_w": [0, float("inf")]}, "finite"),
    ({"power_w": "big"}, "valid"),
])
def test_overrides_are_validated(override: dict, words: str):
    with pytest.raises(RegistryError) as info:
        _pipeline(plausible=override)
    assert any(words in p.reason and p.location.startswith("meters[0]") for p in info.value.problems), \
        info.value.problems


def test_every_quantity_has_a_finite_range_holding_ordinary_values():
    for name in QUANTITIES:
        low, high = plausible_range(name)
        assert -1e13 < low < high < 1e13, name
    assert plausible_range("temp_air_c") == (-60.0, 80.0)
    assert plausible_range("energy_import_wh")[0] == 0.0
