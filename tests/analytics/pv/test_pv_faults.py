"""Known-truth tests of the PV fault rules on the fleet simulator (faults injected with ground truth)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.pv import faults as pvf
from analytics.pv.jobs import PvSettings, analyse_array, array_alerts, string_loss_alerts, town_peer_pi
from pv_helpers import readings, simulate, station_weather, subset
from terril.registry import Registry, load_registry
from terril.timeutil import local_date, local_midnight_ns

NS_DAY = 86_400 * 10**9


@pytest.fixture(scope="module")
def registry() -> Registry:
    return subset(load_registry(), ["ctm", "plateforme-pv", "station-meteo"])


def _analyse(reg: Registry, chunk, start: dt.date, end: dt.date, until_ns: int | None = None):
    _, w = station_weather(chunk, start, end, 900, until_ns)
    out = {}
    for arr in reg.pv_arrays:
        t, v = readings(chunk, arr.meter, "energy_produced_wh")
        if until_ns is not None:
            t, v = t[t <= until_ns], v[t <= until_ns]
        out[arr.id] = analyse_array(arr, reg.site_by_id[arr.site], w, t, v, data_end_ns=until_ns)
    return out


@pytest.mark.parametrize("onset,seed", [(dt.date(2024, 5, 20), 3), (dt.date(2024, 7, 9), 11), (dt.date(2024, 9, 2), 5)])
def test_string_loss_20_pct_flagged_within_7_sunny_days(registry: Registry, onset: dt.date, seed: int) -> None:
    start, end = onset - dt.timedelta(days=45), onset + dt.timedelta(days=30)
    _, ch = simulate(registry, start, end, seed=seed,
                     faults=[{"kind": "pv_string_failure", "meter": "ctm-toiture-pv", "start": onset, "pct": 20}])
    res = _analyse(registry, ch, start, end)
    a = res["ctm-toiture"]
    alerts = [al for al in array_alerts(a) if al.kind == "pv_string_loss"]
    assert len(alerts) == 1
    al = alerts[0]
    assert local_date(al.onset_ns) >= onset - dt.timedelta(days=1)
    sunny = pvf.usable_days(a.day_production_wh, a.day_expected_wh, a.day_irradiation_wh_m2, a.day_availability_pct,
                            pvf.FORMER_STRING_LOSS.min_irradiation_wh_m2, 95.0)
    after = (a.day_start_ns >= local_midnight_ns(onset)) & (a.day_start_ns < al.detected_ns)
    former = pvf.detect_string_loss(a.array.meter, a.day_start_ns, a.day_production_wh, a.day_expected_wh,
                                    a.day_irradiation_wh_m2, a.day_availability_pct, pvf.FORMER_STRING_LOSS)
    print("alone: sunny days to detection:", int(np.sum(sunny & after)), f"{al.magnitude_pct:.1f} %; former rule:",
          [(int(np.sum(sunny & (a.day_start_ns >= local_midnight_ns(onset)) & (a.day_start_ns < f.detected_ns))),
            round(f.magnitude_pct, 1)) for f in former])
    assert 1 <= int(np.sum(sunny & after)) <= 7
    assert al.magnitude_pct == pytest.approx(-20.0, abs=4.0)
    assert al.state == "open"
    # the healthy arrays of the same run raise no string-loss or offline alert
    for k, other in res.items():
        if k != "ctm-toiture":
            assert not [x for x in array_alerts(other) if x.kind in ("pv_string_loss", "pv_offline")], k
    # the same with the town's other arrays as peers (what run_pv does): the all-season peer rule
    peers = town_peer_pi(res)
    found = {k: string_loss_alerts(other, PvSettings(), peers[k]) for k, other in res.items()}
    assert len(found["ctm-toiture"]) == 1
    pal = found["ctm-toiture"][0]
    n_peer = int(np.sum(sunny & (a.day_start_ns >= local_midnight_ns(onset)) & (a.day_start_ns < pal.detected_ns)))
    print("peer rule: sunny days to detection:", n_peer, f"{pal.magnitude_pct:.1f} %")
    assert local_date(pal.onset_ns) >= onset - dt.timedelta(days=1)
    assert 1 <= n_peer <= 7
    assert pal.magnitude_pct == pytest.approx(-20.0, abs=4.0)
    assert all(not v for k, v in found.items() if k != "ctm-toiture"), found


def test_inverter_offline_for_a_day_is_flagged_the_same_day(registry: Registry) -> None:
    day = dt.date(2024, 6, 12)
    start, end = day - dt.timedelta(days=20), day + dt.timedelta(days=3)
    _, ch = simulate(registry, start, end, seed=4, faults=[
        {"kind": "inverter_offline", "meter": "ctm-toiture-pv", "start": day, "end": day + dt.timedelta(days=1)}])
    # the job runs at 18:00 the same day: the inverter has said nothing since midnight
    run_at = local_midnight_ns(day) + 18 * 3600 * 10**9
    res = _analyse(registry, ch, start, day + dt.timedelta(days=1), until_ns=run_at)
    alerts = [al for al in array_alerts(res["ctm-toiture"]) if al.kind == "pv_offline"]
    assert len(alerts) == 1
    al = alerts[0]
    assert local_date(al.onset_ns) == day and local_date(al.detected_ns) == day
    assert al.detected_ns <= run_at and al.state == "open"
    assert al.magnitude_pct == -100.0 and al.magnitude_kwh_per_day > 10.0
    # after the fact (data of the following days): one closed alert on that day, nothing on the others
    res2 = _analyse(registry, ch, start, end)
    alerts2 = [al for al in array_alerts(res2["ctm-toiture"]) if al.kind == "pv_offline"]
    assert [(local_date(a.onset_ns), a.state) for a in alerts2] == [(day, "closed")]
    # its real end: the inverter's first production the next morning; stored resolved, with that end
    assert local_date(alerts2[0].end_ns) == day + dt.timedelta(days=1)
    from analytics.pv.jobs import PvSettings, alert_record

    rec = alert_record(alerts2[0], registry.array_by_id["ctm-toiture"], 30.0, PvSettings())
    assert rec.state == "resolved" and rec.end_ns == alerts2[0].end_ns and rec.as_json()["end"]
    assert res2["ctm-toiture"].day_availability_pct[res2["ctm-toiture"].day_start_ns == local_midnight_ns(day)][0] == 0.0
    for k, other in res2.items():
        if k != "ctm-toiture":
            assert not [x for x in array_alerts(other) if x.kind == "pv_offline"], k


def test_communication_gap_with_catch_up_is_not_an_outage() -> None:
    """A silent day whose counter catches up afterwards produced normally: no alert, availability 100 %."""
    n = 96 * 3
    g = np.arange(n + 1, dtype=np.int64) * 900 * 10**9
    hours = (np.arange(n) % 96) / 4.0
    expected = np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None) * 2500.0
    produced = expected * 0.9
    # readings every 15 min, except none during the whole second day
    t = g.copy()
    c = np.r_[0.0, np.cumsum(produced)]
    keep = (t < 96 * 900 * 10**9) | (t >= 192 * 900 * 10**9)
    from analytics.pv.performance import availability_pct, counter_on_grid

    amount, _ = counter_on_grid(t[keep][:-1], t[keep][1:], np.diff(c[keep]), g, weight=expected)
    assert amount[96:192] == pytest.approx(produced[96:192], rel=1e-6)
    assert not pvf.detect_offline("m", g[:-1], g[1:], amount, expected, 10.0)
    assert availability_pct(amount, expected, 10.0, 900.0) == 100.0


def test_clipping_detected_on_an_undersized_inverter() -> None:
    n = 96 * 10
    g = np.arange(n + 1, dtype=np.int64) * 900 * 10**9
    hours = (np.arange(n) % 96) / 4.0
    unclipped = np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None) * 10_000.0 * 0.25  # 10 kW peak, Wh per 15 min
    produced = np.minimum(unclipped, 8_000.0 * 0.25)  # 8 kW inverter
    alerts = pvf.detect_clipping("m", g[:-1], g[1:], produced, unclipped, 8.0)
    assert len(alerts) == 1 and alerts[0].kind == "pv_clipping"
    lost = float(np.sum(unclipped - produced))
    assert -alerts[0].magnitude_kwh_per_day == pytest.approx(lost / 1000.0 / 10.0, rel=1e-6)
    assert not pvf.detect_clipping("m", g[:-1], g[1:], unclipped, unclipped, 12.0)


def test_degradation_trend_recovered() -> None:
    """Two years of daily PI losing 3 %/yr (with noise) is flagged with the right rate; 0.5 %/yr is not."""
    rng = np.random.default_rng(4)
    days = np.arange(730)
    t = days.astype(np.int64) * NS_DAY + local_midnight_ns(dt.date(2022, 1, 1))
    expected = np.full(days.size, 40_000.0)
    irr = np.full(days.size, 3000.0)
    avail = np.full(days.size, 100.0)
    for rate, flagged in ((-3.0, True), (-0.5, False)):
        prod = expected * 0.85 * (1 + rate / 100.0 * days / 365.25) * (1 + rng.normal(0, 0.03, days.size))
        alerts = pvf.detect_trend("m", t, prod, expected, irr, avail)
        deg = [a for a in alerts if a.onset_ns == t[0]]
        assert bool(deg) is flagged
        tr = pvf.pi_trend(t, prod / expected)
        assert tr.rate_pct_per_year == pytest.approx(rate, abs=0.4)
