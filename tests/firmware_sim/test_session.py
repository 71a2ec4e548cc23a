"""The demo's history load: the archive path gives the very points the collector stores from native JSON.

``bulk_load`` skips the JSON round trip (encode each message as native JSON, decode it again);
this checks, on the demo's own faults (offline meters, corrupted payloads, counter resets, a
stuck register ...), that what it maps is exactly what :meth:`collector.mapping.Pipeline.process`
makes of the native payloads of the same messages.
"""

from __future__ import annotations

import datetime as dt

from collector.mapping import Pipeline
from firmware_sim.demo import demo_scenario
from firmware_sim.faults import parse_scenario
from firmware_sim.runner import native_payload, native_topic
from firmware_sim.session import archive_columns, bulk_load, new_simulation
from terril.readings import Decoded, Point, Reading
from terril.registry import load_registry
from terril.timeutil import local_midnight_ns

SITES = ["mairie", "ecole-pasteur", "mediatheque", "salle-bigotte"]


def archive_readings(chunk, registry):  # noqa: ANN001, ANN201
    """The messages of :func:`firmware_sim.session.archive_columns` one by one, as the native decoder
    would give them: (device, readings, receive time), for :meth:`Pipeline.map_readings`."""
    for archive in archive_columns(chunk, registry):
        device_id = archive.device.id
        cols = [(channel, q, values.tolist()) for channel, q, values in archive.columns]
        for i, t in enumerate(archive.time_ns.tolist()):
            readings = tuple(Reading(device_id, channel, q, values[i], t, t + 1, "native") for channel, q, values in cols)
            yield archive.device, Decoded(readings=readings), t + 1


def _key(p: Point) -> tuple:
    return p.measurement, tuple(sorted(p.tags.items())), p.time_ns, tuple(sorted(p.fields.items()))


def _simulation():  # noqa: ANN202
    registry = load_registry().subset(SITES)
    start_ns = local_midnight_ns(dt.date(2026, 3, 1))
    end_ns = start_ns + 6 * 86_400 * 10**9
    # the demo's faults, placed in these six days (live period = the last three)
    scenario = parse_scenario(demo_scenario(registry, start_ns + 3 * 86_400 * 10**9, end_ns), registry)
    return registry, new_simulation(registry, start_ns, seed=5, scenario=scenario), end_ns


def test_archive_readings_map_to_the_points_of_native_payloads() -> None:
    registry, sim, end_ns = _simulation()
    pipeline = Pipeline(registry)
    archive, native, malformed, offline = [], [], 0, 0
    for chunk in sim.run(end_ns - 1, chunk_s=2 * 86_400.0):
        for device, decoded, received_ns in archive_readings(chunk, registry):
            archive.extend(pipeline.map_readings(device, decoded, received_ns, "native").points)
        for msg in chunk.messages(include_offline=True):
            if not msg.online:
                offline += 1
                continue
            if msg.malformed:  # a corrupted payload never reaches an archive
                malformed += 1
                continue
            device = registry.device_by_id[msg.device_id]
            outcome = pipeline.process(native_topic(device), native_payload(msg, device), msg.time_ns + 1)
            assert outcome.rejection is None, outcome.rejection
            native.extend(outcome.points)
    assert offline > 0  # the demo's faults are in these days
    assert len(native) > 3_000
    assert sorted(map(_key, archive)) == sorted(map(_key, native))


def _exact(p: Point) -> tuple:  # field order and value types too: the line protocol written is the same
    return p.measurement, p.tags, [(k, type(v), v) for k, v in p.fields.items()], type(p.time_ns), p.time_ns


def test_bulk_load_writes_what_the_archive_maps() -> None:
    """bulk_load maps a device's messages column by column: the very points, in the same order, that
    mapping the archive message by message gives (which the test above holds equal to native payloads)."""
    registry, sim, end_ns = _simulation()
    written: list[Point] = []

    def write(points: list[Point]) -> int:
        written.extend(points)
        return len(points)

    n = bulk_load(sim, registry, write, end_ns, chunk_s=2 * 86_400.0)
    assert n == len(written) > 3_000
    assert set(SITES) <= {p.tags["site"] for p in written}
    assert max(p.time_ns for p in written) < end_ns
    _, sim, _ = _simulation()
    pipeline = Pipeline(registry)
    expected = [p for chunk in sim.run(end_ns - 1, chunk_s=2 * 86_400.0)
                for device, decoded, received_ns in archive_readings(chunk, registry)
                for p in pipeline.map_readings(device, decoded, received_ns, "native").points]
    assert list(map(_exact, written)) == list(map(_exact, expected))
