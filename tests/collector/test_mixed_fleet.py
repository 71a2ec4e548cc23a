"""End to end with the demo fleet: every vendor format through the real broker, counter resets injected.

Two simulated January days of the Loos-en-Gohelle registry are published over MQTT in each
device's own format (Linky TIC via teleinfo2mqtt, wmbusmeters heat and water, SunSpec bridge,
OpenDTU, Tasmota, Shelly Pro 3EM, native JSON) while a scenario resets the registers of meters
fed by six of those formats. The collector stores the points; the test then checks against the
simulator's ground truth (an identical, deterministic re-run) that:

1. every format stored points, and exactly the points the publisher predicted;
2. the stored counters are the simulated registers in canonical units (Wh, m³), within the
   vendor format's printing resolution, and Linky apparent power is ``apparent_power_va``;
3. the analytics rollups flag each reset as a ``reset`` counter event and book, on the reset day,
   between 0 and the true consumption (never a negative or giant figure), and no day of any
   meter exceeds the truth by more than the register resolution.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pytest
from helpers import count_points, endpoint, start_collector, wait_for

from analytics.analyze import analyze
from firmware_sim.encoders import SPECS, DeviceState
from firmware_sim.faults import parse_scenario
from firmware_sim.fleet import COUNTER_RESOLUTION
from firmware_sim.publisher import Publisher
from firmware_sim.runner import ENCODER_FOR
from firmware_sim.session import new_simulation, run_fleet
from terril.registry import load_registry
from terril.timeutil import NS_PER_S, PARIS, local_midnight_ns

pytestmark = pytest.mark.integration

SEED = 11
STEP_S = 900.0
DAY_1 = dt.date(2026, 1, 12)  # a Monday in the heating season: every carrier consumes
START_NS = local_midnight_ns(DAY_1)
END_NS = local_midnight_ns(DAY_1 + dt.timedelta(days=2))
RESET_DAY = DAY_1 + dt.timedelta(days=1)

#: meter -> (local time of the reset on RESET_DAY, format that feeds it); six formats
RESETS: dict[str, tuple[dt.time, str]] = {
    "base-11-19-elec": (dt.time(8, 0), "linky_tic"),  # index below half its 1 GWh rollover
    "ecole-curie-elec": (dt.time(10, 0), "linky_tic"),  # index above half its 1 GWh rollover
    "ecole-ferry-chaleur": (dt.time(9, 0), "wmbusmeters"),  # heat, 1 kWh register
    "ecole-pasteur-eau": (dt.time(10, 30), "wmbusmeters"),  # hourly water meter, reset between readings
    "mairie-toiture-pv": (dt.time(12, 15), "sunspec"),
    "pf-cdte-pv": (dt.time(11, 0), "opendtu"),
    "ctm-ateliers-elec": (dt.time(14, 0), "tasmota"),
    "mediatheque-elec": (dt.time(15, 45), "shelly_gen2"),
}

#: (registry format, counter quantity) -> finest step the vendor prints, in canonical units
#: (Tasmota and wmbusmeters kWh with 3 decimals = 1 Wh, TIC integer Wh, SunSpec inverter Wh with
#: 1 decimal, Shelly Wh with 3 decimals, wmbusmeters m³ with 3 decimals; native JSON is exact).
FORMAT_RESOLUTION: dict[tuple[str, str], float] = {
    ("linky_tic", "energy_import_wh"): 1.0,
    ("linky_tic", "energy_export_wh"): 1.0,
    ("tasmota", "energy_import_wh"): 1.0,
    ("tasmota", "energy_export_wh"): 1.0,
    ("shelly_gen2", "energy_import_wh"): 0.001,
    ("shelly_gen2", "energy_export_wh"): 0.001,
    ("sunspec", "energy_produced_wh"): 0.1,
    ("wmbusmeters", "energy_import_wh"): 1.0,
    ("wmbusmeters", "volume_m3"): 0.001,
}
#: Linky meters whose index is past half their rollover_wh when reset: such a reset must not be taken
#: for a rollover (it once was, booking ~174 MWh in 15 minutes)
PAST_HALF_REGISTER = frozenset({"ecole-curie-elec"})
COUNTER_FIELDS = ("energy_import_wh", "energy_export_wh", "energy_produced_wh", "volume_m3")
#: carrier -> (raw counter, field of consumption_daily)
MAIN_COUNTER = {"electricity": ("energy_import_wh", "consumption_wh"), "heat": ("energy_import_wh", "consumption_wh"),
                "water": ("volume_m3", "volume_m3"), "gas": ("volume_m3", "volume_m3"),
                "pv": ("energy_produced_wh", "production_wh")}


def _reset_ns(meter: str) -> int:
    at, _ = RESETS[meter]
    return int(dt.datetime.combine(RESET_DAY, at, tzinfo=PARIS).timestamp()) * NS_PER_S


def _scenario(registry):
    faults = [{"kind": "counter_reset", "id": f"reset-{m}", "meter": m,
               "start": dt.datetime.combine(RESET_DAY, at)}  # naive = Europe/Paris
              for m, (at, _) in RESETS.items()]
    return parse_scenario({"name": "mixed-fleet-resets", "faults": faults}, registry)


def _truth(registry, scenario):
    """The identical simulation re-run: per meter, sample times, reported values and true values."""
    sim = new_simulation(registry, START_NS, seed=SEED, step_s=STEP_S, scenario=scenario)
    times, values, truth = [], defaultdict(lambda: defaultdict(list)), defaultdict(lambda: defaultdict(list))
    for chunk in sim.run(END_NS - 1, chunk_s=86_400.0):
        times.append(chunk.time_ns)
        for mid, s in chunk.series.items():
            for q, arr in s.values.items():
                values[mid][q].append(arr)
            for q, arr in s.true_values.items():
                truth[mid][q].append(arr)

    def cat(d):
        return {m: {q: np.concatenate(a) for q, a in qs.items()} for m, qs in d.items()}

    return np.concatenate(times), cat(values), cat(truth)


def _linky_apparent_frames(registry, t_ns, values):
    """Linky standard frames repeating the fleet's EAST/EAIT at a few instants, now with SINSTS (VA).

    The simulated fleet gives Linky no apparent power (it simulates active power, which a Linky does
    not publish); these frames carry what a real Linky adds, at the same instants, so the stored
    points keep their count and gain ``apparent_power_va``.
    """
    frames, sent = [], {}
    encoder = SPECS[ENCODER_FOR[("linky_tic", "electricity")]].encode
    for d in registry.devices:
        if d.format != "linky_tic":
            continue
        meter = d.channels[0].meter
        for i in range(8, t_ns.size, 24):  # every 6 h
            va = float(round(max(values[meter]["power_w"][i], 0.0) / 0.92))
            state = DeviceState(d.topic or d.id, int(t_ns[i]), {
                (None, "energy_import_wh"): float(values[meter]["energy_import_wh"][i]),
                (None, "energy_export_wh"): float(values[meter]["energy_export_wh"][i]),
                (None, "apparent_power_va"): va})
            frames.extend(encoder(state))
            sent[(meter, int(t_ns[i]))] = va
    return frames, sent


class _RecordingPublisher(Publisher):
    """A publisher that remembers the topics it left a retained message on (statuses, SunSpec values)."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.retained: set[str] = set()

    def publish(self, topic: str, payload: bytes, retain: bool = False, qos: int = 1) -> None:
        if retain:
            self.retained.add(topic)
        super().publish(topic, payload, retain=retain, qos=qos)

    def clear_retained(self) -> None:
        """Delete them (an empty retained payload), so later tests' collectors do not receive them."""
        base, topics = self.acked, sorted(self.retained)
        for topic in topics:
            super().publish(topic, b"", retain=True)
        assert self.wait_all_acked(base + len(topics), timeout_s=30)


def _query_rows(client, q):
    out = []
    for s in client.query_chunks(q):
        for row in s.values:
            out.append((s.tags, dict(zip(s.columns, row))))
    return out


def test_mixed_fleet_lands_in_canonical_units_and_resets_book_no_consumption(private_stack, private_influx, tmp_path):
    stack, influx_db = private_stack, private_influx  # exact counts: a broker free of other tests' retained messages
    registry = load_registry()
    scenario = _scenario(registry)
    fmt_of_device = {d.id: d.format for d in registry.devices}
    fmt_of_meter = {ch.meter: d.format for d in registry.devices for ch in d.channels}
    assert {fmt for _, fmt in RESETS.values()} >= {"linky_tic", "wmbusmeters", "sunspec", "tasmota"}
    assert all(fmt_of_meter[m] == fmt for m, (_, fmt) in RESETS.items())
    t_ns, sim_values, sim_truth = _truth(registry, scenario)
    for m in ("base-11-19-elec", "ecole-curie-elec"):  # one reset below, one past half the rollover
        before = sim_values[m]["energy_import_wh"][np.searchsorted(t_ns, _reset_ns(m)) - 1]
        assert (before >= registry.meter_by_id[m].rollover_wh / 2) == (m in PAST_HALF_REGISTER), (m, before)
    frames, sent_va = _linky_apparent_frames(registry, t_ns, sim_values)

    collector = start_collector(stack, registry, influx_db)
    publisher = _RecordingPublisher(endpoint(stack, "simulator"))
    publisher.connect()
    try:
        sim = new_simulation(registry, START_NS, seed=SEED, step_s=STEP_S, scenario=scenario)
        result = run_fleet(publisher, registry, START_NS, END_NS, sim=sim)
        base = publisher.acked
        for topic, payload, retain in frames:
            publisher.publish(topic, payload, retain=retain)
        assert publisher.wait_all_acked(base + len(frames), timeout_s=60)
        report = result.report
        assert report.receive_time_points == 0  # backfill: every point has its device time
        assert wait_for(lambda: count_points(influx_db) >= report.expected_points, 60, 0.25)
        assert wait_for(lambda: collector.stats.messages_acked >= report.messages + len(frames), 30)
    finally:
        collector.stop()
        try:
            publisher.clear_retained()
        finally:
            publisher.close()

    # 1. every format stored points, exactly the expected ones, nothing quarantined
    assert count_points(influx_db) == report.expected_points
    per_format: dict[str, int] = defaultdict(int)
    for s in influx_db.query('SELECT count("received_ns") FROM "reading" GROUP BY "device"'):
        per_format[fmt_of_device[s.tags["device"]]] += int(s.values[0][1])
    assert set(per_format) == {d.format for d in registry.devices}
    assert all(n > 0 for n in per_format.values()), per_format
    assert sum(collector.stats.quarantined.values()) == 0, collector.stats.quarantined

    # 2. canonical units: every stored counter is the simulated register within the vendor's resolution
    index = {int(t): i for i, t in enumerate(t_ns)}
    checked: dict[str, int] = defaultdict(int)
    fields = ", ".join(f'"{f}"' for f in (*COUNTER_FIELDS, "power_w", "apparent_power_va"))
    for tags, row in _query_rows(influx_db, f'SELECT {fields} FROM "reading" GROUP BY "meter", "device"'):
        meter, fmt = tags["meter"], fmt_of_device[tags["device"]]
        i = index[round(row["time"] / NS_PER_S) * NS_PER_S]
        for q in COUNTER_FIELDS:
            if row.get(q) is None:
                continue
            want = float(sim_values[meter][q][i])
            res = FORMAT_RESOLUTION.get((fmt, q), 0.0)
            assert abs(row[q] - want) <= res / 2 + 1e-9 * abs(want), (meter, fmt, q, row["time"], row[q], want)
            checked[fmt] += 1
        if fmt == "linky_tic":
            assert row.get("power_w") is None, (meter, row)
            key = (meter, int(row["time"]))
            if key in sent_va:
                assert row["apparent_power_va"] == sent_va[key]
                checked["linky_va"] += 1
            else:
                assert row.get("apparent_power_va") is None
    assert set(checked) == set(per_format) | {"linky_va"}, checked
    assert checked["linky_va"] == len(sent_va)

    # 3. resets are flagged, and no day books more than the truth (nor anything negative)
    analyze(influx_db, registry, tmp_path, since_ns=START_NS, end_ns=END_NS)
    events = defaultdict(list)
    for tags, row in _query_rows(influx_db, 'SELECT "before", "after" FROM "counter_event" GROUP BY "meter", "kind"'):
        events[tags["meter"]].append((tags["kind"], int(row["time"]), row["before"], row["after"]))
    problems: dict[str, list[str]] = defaultdict(list)  # meter -> what is wrong
    interval_of = {ch.meter: d.interval_s for d in registry.devices for ch in d.channels}
    for meter in RESETS:
        at = _reset_ns(meter)
        step_ns = int(max(interval_of[meter], STEP_S) * NS_PER_S)
        kinds = [(k, t) for k, t, _, _ in events.get(meter, [])]
        if not any(k == "reset" and at <= t < at + step_ns for k, t in kinds):
            problems[meter].append(f"no reset event at {at}: {events.get(meter)}")
        if any(k in ("rollover", "replacement") for k, _ in kinds):
            problems[meter].append(f"reset taken for another event: {kinds}")
    unexpected = {m: ev for m, ev in events.items() if m not in RESETS
                  and any(k in ("reset", "rollover", "replacement") for k, *_ in ev)}
    assert not unexpected

    daily = defaultdict(dict)
    for tags, row in _query_rows(influx_db, 'SELECT * FROM "consumption_daily" GROUP BY "meter"'):
        daily[tags["meter"]][int(row["time"])] = row
    stored_times = defaultdict(list)
    for tags, row in _query_rows(influx_db, 'SELECT "received_ns" FROM "reading" GROUP BY "meter"'):
        stored_times[tags["meter"]].append(int(row["time"]))
    reset_day_ns = local_midnight_ns(RESET_DAY)
    days_checked = 0
    for m in registry.meters:
        if m.carrier not in MAIN_COUNTER:
            continue
        raw, derived = MAIN_COUNTER[m.carrier]
        res = COUNTER_RESOLUTION[(m.carrier, raw)]
        first, last = min(stored_times[m.id]), max(stored_times[m.id])
        interval = sim_truth[m.id]["interval_" + raw]
        assert m.id not in RESETS or reset_day_ns in daily[m.id], m.id
        assert daily[m.id], m.id
        for day_ns, row in daily[m.id].items():
            day_end = local_midnight_ns((dt.datetime.fromtimestamp(day_ns / NS_PER_S, PARIS) + dt.timedelta(days=1)).date())
            span = (t_ns > max(day_ns, first)) & (t_ns <= min(day_end, last))  # what the readings cover
            true_day = float(interval[span].sum())
            booked = float(row[derived])
            days_checked += 1
            # the reset day may lose what was counted between the last reading and the reset
            low = 0.0 if m.id in RESETS and day_ns == reset_day_ns else true_day - 2 * res - 1e-6
            if not low <= booked <= true_day + res + 1e-6:
                problems[m.id].append(f"day {day_ns}: booked {booked} {derived}, true {true_day:.3f}")
    assert days_checked >= 2 * len([m for m in registry.meters if m.carrier in MAIN_COUNTER])

    assert not problems, problems
