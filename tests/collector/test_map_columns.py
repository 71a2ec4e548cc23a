"""``Pipeline.map_columns`` (an archive read column by column) gives, row by row, what ``map_readings`` gives.

The bulk history load maps a device's messages a chunk at a time; every rule of the collector's
mapping (channels, renames, plausible ranges, commissioning and future times, unknown channels,
collisions) must give the very points of the message-by-message path, in the same order, with the
same field order and value types.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from collector.mapping import MAX_FUTURE_NS, Pipeline
from terril.readings import Decoded, Point, Reading
from terril.registry import Registry, parse_registry
from terril.timeutil import NS_PER_S, local_midnight_ns

SITE = {"id": "s", "name": "S", "kind": "school", "latitude": 50.4, "longitude": 2.8}
DAY_NS = 86_400 * NS_PER_S


def _registry(unmapped: str = "quarantine") -> Registry:
    return parse_registry({
        "sites": [SITE],
        "meters": [{"id": "elec", "site": "s", "carrier": "electricity", "plausible": {"power_w": [-1000, 36000]}},
                   {"id": "sub", "site": "s", "carrier": "electricity"},
                   {"id": "pv", "site": "s", "carrier": "pv"}],
        "devices": [{"id": "d", "site": "s", "unmapped_channels": unmapped,
                     "channels": [{"channel": "main", "meter": "elec"},
                                  {"channel": "HC", "meter": "sub", "rename": {"energy_import_wh": "energy_import_offpeak_wh"}},
                                  {"channel": "HP", "meter": "sub", "rename": {"energy_import_wh": "energy_import_peak_wh"}},
                                  {"channel": "inv", "meter": "pv"}]}],
        "pv_arrays": [{"id": "a", "site": "s", "meter": "pv", "kwp": 3, "tilt_deg": 30, "azimuth_deg": 180,
                       "technology": "mono_perc", "commissioned": "2026-03-02", "rollout_stage": "pilot"}],
    })


def _key(p: Point) -> tuple:
    return (p.measurement, p.tags, [(k, type(v), v) for k, v in p.fields.items()], type(p.time_ns), p.time_ns)


def _by_rows(pipeline: Pipeline, registry: Registry, columns, time_ns, received_ns) -> list[Point]:  # noqa: ANN001
    device = registry.device_by_id["d"]
    points: list[Point] = []
    for i, t in enumerate(time_ns.tolist()):
        readings = tuple(Reading("d", ch, q, float(v[i]), t, int(received_ns[i]), "native") for ch, q, v in columns)
        points.extend(pipeline.map_readings(device, Decoded(readings=readings), int(received_ns[i]), "native").points)
    return points


def _check(columns, time_ns, received_ns, unmapped: str = "quarantine") -> list[Point]:  # noqa: ANN001
    registry = _registry(unmapped)
    expected = _by_rows(Pipeline(registry), registry, columns, time_ns, received_ns)
    got = Pipeline(registry).map_columns(registry.device_by_id["d"], columns, time_ns, received_ns)
    assert list(map(_key, got)) == list(map(_key, expected))
    return got


# one message a day around the PV array's commissioning (2026-03-02: readings from 1 March count), received 1 ns after
TIMES_NS = local_midnight_ns(dt.date(2026, 2, 27)) + DAY_NS * np.arange(8, dtype=np.int64)


def test_every_rule_gives_the_points_of_the_message_by_message_path() -> None:
    columns = [
        ("main", "energy_import_wh", np.arange(1.0, 9.0)),
        ("main", "power_w", np.array([100.0, 2.0, -5.5, 40_000.0, np.nan, 3.0, 36_000.0, -1000.0])),  # elec: -1000..36000 W
        ("HC", "energy_import_wh", np.array([10.0, 11.0, 12.0, 13.0, 14.0, -1.0, 16.0, 17.0])),  # -1 Wh: out of range
        ("HP", "energy_import_wh", np.arange(20.0, 28.0)),
        ("inv", "energy_produced_wh", np.array([0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),  # before commissioning at first
        ("inv", "power_w", np.array([0.0, 0.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0])),
    ]
    got = _check(columns, TIMES_NS, TIMES_NS + 1)
    # rows 0-1 before the commissioning (minus a day), 3 above the range, 4 NaN, 5 below it: left out
    assert sorted({p.time_ns for p in got}) == TIMES_NS[[2, 6, 7]].tolist()
    assert [p.tags["meter"] for p in got[:3]] == ["elec", "sub", "pv"]
    assert list(got[1].fields) == ["energy_import_offpeak_wh", "energy_import_peak_wh", "received_ns"]


def test_a_device_time_too_far_ahead_of_reception_or_a_toy_receive_clock() -> None:
    columns = [("main", "energy_import_wh", np.arange(8, dtype=float))]
    received = TIMES_NS + 1
    received[2] = TIMES_NS[2] - MAX_FUTURE_NS - 1  # the device says a day and a nanosecond ahead
    received[3] = TIMES_NS[3] - MAX_FUTURE_NS  # exactly a day ahead: accepted
    received[4] = 5  # a toy receive time: the future rule does not apply
    got = _check(columns, TIMES_NS, received)
    assert len(got) == 7 and TIMES_NS[2] not in {p.time_ns for p in got}


@pytest.mark.parametrize("unmapped", ["quarantine", "ignore"])
def test_an_unknown_channel_is_ignored_or_rejects_every_message(unmapped: str) -> None:
    columns = [("main", "energy_import_wh", np.arange(8, dtype=float)), ("L9", "power_w", np.zeros(8))]
    got = _check(columns, TIMES_NS, TIMES_NS + 1, unmapped)
    assert len(got) == (8 if unmapped == "ignore" else 0)


def test_an_unnamed_channel_is_the_main_one_and_collisions_reject_every_message() -> None:
    unnamed = _check([(None, "power_w", np.ones(8))], TIMES_NS, TIMES_NS + 1)
    assert len(unnamed) == 8 and {p.tags["meter"] for p in unnamed} == {"elec"}
    # HC and HP both giving power_w to the meter "sub": the collector never lets one overwrite the other
    clash = [("HC", "power_w", np.ones(8)), ("HP", "power_w", np.ones(8))]
    assert _check(clash, TIMES_NS, TIMES_NS + 1) == []
    assert _check([], TIMES_NS, TIMES_NS + 1) == []
