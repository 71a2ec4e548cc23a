"""Known-truth tests of the all-season string-loss rule (peer ratio) and of its single-array fallback.

The demo's fault (``firmware_sim/demo.py``, ``bigotte-string``: 25 % of the Bigotte sports hall's
array lost) injected in the simulator on the three arrays of the demo's test buildings (Bigotte,
Basly school, town hall), whose weather is the simulator's (one station for the town). The former
rule (own history, days ≥ 1500 Wh/m²) sees nothing in December; the peer rule must flag the loss
within a week, summer and winter, and raise nothing on healthy arrays over a year, snow-like days
included.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from analytics.pv import faults as pvf
from analytics.pv.jobs import (ArrayAnalysis, PvSettings, analyse_array, array_alerts, string_loss_alerts,
                               town_peer_pi)
from pv_helpers import readings, simulate, station_weather, subset
from terril.registry import Registry, load_registry
from terril.timeutil import local_date, local_midnight_ns

NS_DAY = 86_400 * 10**9
TOWN = ["salle-bigotte", "ecole-basly", "mairie", "station-meteo"]
FAULTY = "bigotte-toiture"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return subset(load_registry(), TOWN)


@pytest.fixture(scope="module")
def solo_registry() -> Registry:
    return subset(load_registry(), ["salle-bigotte", "station-meteo"])


def _analyse(reg: Registry, chunk, start: dt.date, end: dt.date, step_s: float = 900.0,
             snow: dict[str, list[tuple[dt.date, float]]] | None = None) -> dict[str, ArrayAnalysis]:
    """Every array analysed as ``run_pv`` does (one grid); ``snow``: per array, days whose production
    is scaled by a factor (the counter's increments of that day, as a covered roof would give)."""
    _, w = station_weather(chunk, start, end, step_s)
    out = {}
    for arr in reg.pv_arrays:
        t, v = readings(chunk, arr.meter, "energy_produced_wh")
        if snow and arr.id in snow:
            inc = np.diff(v, prepend=v[0])
            for day, factor in snow[arr.id]:
                m = (t > local_midnight_ns(day)) & (t <= local_midnight_ns(day + dt.timedelta(days=1)))
                inc[m] *= factor
            v = v[0] + np.cumsum(inc)
        out[arr.id] = analyse_array(arr, reg.site_by_id[arr.site], w, t, v)
    return out


def _string_alerts(res: dict[str, ArrayAnalysis]) -> dict[str, tuple]:
    peers = town_peer_pi(res)
    return {k: string_loss_alerts(a, PvSettings(), peers.get(k)) for k, a in res.items()}


# (onset, seed): mid-December and mid-January (the former rule's blind season), late November,
# and a summer date where the former rule already worked
CASES = [(dt.date(2024, 12, 12), 3), (dt.date(2024, 12, 16), 11), (dt.date(2025, 1, 14), 5),
         (dt.date(2024, 11, 25), 8), (dt.date(2025, 7, 9), 11)]


@pytest.mark.parametrize("onset,seed", CASES, ids=[f"{o}-s{s}" for o, s in CASES])
def test_demo_string_failure_flagged_within_a_week_with_peers(registry: Registry, onset: dt.date, seed: int) -> None:
    start, end = onset - dt.timedelta(days=40), onset + dt.timedelta(days=9)
    _, ch = simulate(registry, start, end, seed=seed,
                     faults=[{"kind": "pv_string_failure", "meter": "bigotte-toiture-pv", "start": onset, "pct": 25}])
    res = _analyse(registry, ch, start, end)
    found = _string_alerts(res)
    a = res[FAULTY]
    former = pvf.detect_string_loss(a.array.meter, a.day_start_ns, a.day_production_wh, a.day_expected_wh,
                                    a.day_irradiation_wh_m2, a.day_availability_pct, pvf.FORMER_STRING_LOSS)
    print(onset, seed, "former rule:", [(str(local_date(x.onset_ns)), round(x.magnitude_pct, 1)) for x in former])
    alerts = found[FAULTY]
    assert len(alerts) == 1, alerts
    al = alerts[0]
    print("peer rule: onset", local_date(al.onset_ns), "detected", local_date(al.detected_ns - 1),
          f"{al.magnitude_pct:.1f} % {al.magnitude_kwh_per_day:.1f} kWh/day")
    assert onset - dt.timedelta(days=1) <= local_date(al.onset_ns) <= onset + dt.timedelta(days=3)
    assert al.detected_ns <= local_midnight_ns(onset + dt.timedelta(days=8))
    assert al.state == "open"
    assert al.magnitude_pct == pytest.approx(-25.0, abs=7.0)
    # the energy missing per day: a third of what the array still made on the alert's days (0.25 / 0.75)
    days = np.isin(a.day_start_ns, al.evidence.time_ns)
    made_kwh = float(np.mean(a.day_production_wh[days])) / 1000.0
    assert -al.magnitude_kwh_per_day == pytest.approx(made_kwh / 3.0, rel=0.3)
    # the healthy arrays raise nothing
    assert all(not found[k] for k in found if k != FAULTY), found


def test_no_false_string_loss_over_a_year_with_peers_or_alone(registry: Registry) -> None:
    """Healthy arrays, a whole year (July to July, so a whole winter), half-hour steps: no alert,
    with peers, or each array alone (the fallback); the former rule is printed for comparison."""
    start, end = dt.date(2024, 7, 1), dt.date(2025, 7, 1)
    _, ch = simulate(registry, start, end, seed=17, step_s=1800.0)
    res = _analyse(registry, ch, start, end, step_s=1800.0)
    found = _string_alerts(res)
    assert all(not v for v in found.values()), found
    for k, a in res.items():
        args = (a.array.meter, a.day_start_ns, a.day_production_wh, a.day_expected_wh, a.day_irradiation_wh_m2,
                a.day_availability_pct)
        print(k, "former rule:", [str(local_date(x.onset_ns)) for x in pvf.detect_string_loss(*args, pvf.FORMER_STRING_LOSS)])
        assert string_loss_alerts(a, PvSettings(), None) == (), k


def test_snow_like_days_raise_no_string_loss(registry: Registry) -> None:
    """Snow: every roof covered for two days (nothing produced), then the flattest roof (Bigotte,
    10°) still half covered for two more days while the others have shed theirs."""
    start, end = dt.date(2024, 12, 1), dt.date(2025, 2, 1)
    _, ch = simulate(registry, start, end, seed=23)
    d0 = dt.date(2025, 1, 8)
    days = [d0 + dt.timedelta(days=i) for i in range(4)]
    snow = {k.id: [(days[0], 0.02), (days[1], 0.02)] for k in registry.pv_arrays}
    snow[FAULTY] += [(days[2], 0.5), (days[3], 0.6)]
    res = _analyse(registry, ch, start, end, snow=snow)
    a = res[FAULTY]
    i = np.searchsorted(a.day_start_ns, local_midnight_ns(days[0]))
    assert a.day_production_wh[i + 2] < 0.6 * a.day_expected_wh[i + 2]  # the snow is in the data
    found = _string_alerts(res)
    assert all(not v for v in found.values()), found


@pytest.mark.parametrize("onset,seed", [(dt.date(2024, 12, 12), 3), (dt.date(2025, 1, 14), 5),
                                        (dt.date(2025, 7, 9), 11)])
def test_single_array_town_falls_back_on_its_own_history(solo_registry: Registry, onset: dt.date, seed: int) -> None:
    """Alone, the array is judged on its own days of ≥ 600 Wh/m² with a 15 % tolerance: the
    demo's 25 % loss is still found in winter, later than with peers (within three weeks)."""
    start, end = onset - dt.timedelta(days=40), onset + dt.timedelta(days=22)
    _, ch = simulate(solo_registry, start, end, seed=seed,
                     faults=[{"kind": "pv_string_failure", "meter": "bigotte-toiture-pv", "start": onset, "pct": 25}])
    res = _analyse(solo_registry, ch, start, end)
    assert town_peer_pi(res) == {}
    alerts = [al for al in array_alerts(res[FAULTY]) if al.kind == "pv_string_loss"]
    assert len(alerts) == 1, alerts
    al = alerts[0]
    print(onset, "alone: onset", local_date(al.onset_ns), "detected", local_date(al.detected_ns - 1),
          f"{al.magnitude_pct:.1f} %")
    assert onset - dt.timedelta(days=1) <= local_date(al.onset_ns)
    assert al.detected_ns <= local_midnight_ns(onset + dt.timedelta(days=21))
    assert al.magnitude_pct == pytest.approx(-25.0, abs=8.0)


def test_peer_median_ignores_the_array_itself_and_needs_usable_peers() -> None:
    p = np.array([[750.0, 100.0], [1000.0, 1000.0], [900.0, np.nan]])
    x = np.full((3, 2), 1000.0)
    h = np.array([[2000.0, 2000.0], [2000.0, 100.0], [2000.0, 2000.0]])
    av = np.full((3, 2), 100.0)
    med, n = pvf.peer_pi(p, x, h, av)
    # day 0: array 0's peers are 1.0 and 0.9; day 1: array 0 has no usable peer (one too dark, one silent)
    assert med[0, 0] == pytest.approx(0.95) and n[0, 0] == 2
    assert np.isnan(med[0, 1]) and n[0, 1] == 0
    assert med[2, 1] == pytest.approx(0.1) and n[2, 1] == 1
    with pytest.raises(ValueError, match="day grid"):
        a = _fake_analysis(3)
        town_peer_pi({"a": a, "b": dataclasses.replace(a, day_start_ns=a.day_start_ns + NS_DAY)})


def _fake_analysis(n: int) -> ArrayAnalysis:
    z = np.zeros(n)
    return ArrayAnalysis(None, np.zeros(2, np.int64), z, z, z, z, z, z, np.arange(n, dtype=np.int64) * NS_DAY,  # type: ignore[arg-type]
                         z, z, z, z, z, z)


#: The four clocks of tests/test_demo_any_day.py (the last one is the session's demo, DEMO_NOW).
DEMO_CLOCKS = ("2026-01-15T14:00:00+01:00", "2026-04-30T14:00:00+02:00", "2026-07-15T14:00:00+02:00",
               "2026-12-06T14:00:00+01:00")


@pytest.mark.parametrize("now", DEMO_CLOCKS, ids=[c[:10] for c in DEMO_CLOCKS])
def test_demo_fleet_string_failure_found_on_the_demo_days(now: str) -> None:
    """The demo's own faults (``demo_scenario``: Bigotte's string 20 days before the end, the church's
    inverter off for a morning the day before...) on every PV array of the registry, 60 days up to
    the demo's clock: Bigotte's loss is flagged within a week, and no other array gets a string loss."""
    from firmware_sim.demo import demo_scenario

    reg = subset(load_registry(), {a.site for a in load_registry().pv_arrays} | {"station-meteo"})
    end_ns = int(dt.datetime.fromisoformat(now).timestamp()) * 10**9
    faults = [f for f in demo_scenario(reg, end_ns - 3 * NS_DAY, end_ns)["faults"] if f["kind"].startswith(("pv", "inverter"))]
    string = next(f for f in faults if f["id"] == "bigotte-string")
    onset = string["start"]
    end = local_date(end_ns)  # the analysis stops at the last complete day, as the demo's would
    start = end - dt.timedelta(days=60)
    _, ch = simulate(reg, start, end, seed=11, faults=[{k: v for k, v in f.items() if k != "id"} for f in faults])
    res = _analyse(reg, ch, start, end)
    found = _string_alerts(res)
    alerts = found[FAULTY]
    assert len(alerts) == 1, alerts
    al = alerts[0]
    a = res[FAULTY]
    former = pvf.detect_string_loss(a.array.meter, a.day_start_ns, a.day_production_wh, a.day_expected_wh,
                                    a.day_irradiation_wh_m2, a.day_availability_pct, pvf.FORMER_STRING_LOSS)
    print(now[:10], "former rule:", [str(local_date(x.detected_ns - 1)) for x in former])
    print(now[:10], "onset", onset, "flagged from", local_date(al.onset_ns), "on", local_date(al.detected_ns - 1),
          f"{al.magnitude_pct:.1f} % {al.magnitude_kwh_per_day:.1f} kWh/day")
    assert onset - dt.timedelta(days=1) <= local_date(al.onset_ns)
    assert al.detected_ns <= local_midnight_ns(onset + dt.timedelta(days=8))
    assert al.magnitude_pct == pytest.approx(-25.0, abs=7.0)
    assert all(not v for k, v in found.items() if k != FAULTY), {k: v for k, v in found.items() if v}
