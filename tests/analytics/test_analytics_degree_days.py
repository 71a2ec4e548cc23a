"""Known-truth tests for analytics.degree_days (DJU by the Météo-France and COSTIC methods)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.degree_days import cdd_meteo, daily_temperature, hdd_costic, hdd_from_mean, hdd_meteo
from terril.timeutil import local_midnight_ns

S = 1_000_000_000


def test_dju_by_hand():
    tn = np.array([2.0, 10.0, 18.0, 15.0, -5.0])
    tx = np.array([10.0, 20.0, 25.0, 25.0, 3.0])
    # Météo: max(0, 18 - (Tn+Tx)/2)
    assert hdd_meteo(tn, tx).tolist() == pytest.approx([12.0, 3.0, 0.0, 0.0, 19.0])
    # COSTIC: Tx <= 18 -> 18 - mean; Tn >= 18 -> 0; else (18-Tn)(0.08 + 0.42 (18-Tn)/(Tx-Tn))
    #   (10, 20): 8 * (0.08 + 0.42*0.8) = 3.328 ; (15, 25): 3 * (0.08 + 0.42*0.3) = 0.618
    assert hdd_costic(tn, tx).tolist() == pytest.approx([12.0, 3.328, 0.0, 0.618, 19.0])
    assert hdd_meteo(np.array([2.0]), np.array([10.0]), base_c=17.0)[0] == pytest.approx(11.0)
    assert cdd_meteo(np.array([20.0, 10.0]), np.array([30.0, 20.0])).tolist() == pytest.approx([3.0, 0.0])


def test_lille_december_2003_vector():
    # xpair: Lille 11-20 Dec 2003 = 123 DJU over 10 days (daily mean ≈ 5.7 °C)
    assert hdd_from_mean(np.full(10, 5.7)).sum() == pytest.approx(123.0)


def test_daily_temperature_on_a_25_hour_day():
    day = dt.date(2024, 10, 27)
    t0 = local_midnight_ns(day)
    t = t0 + np.arange(25) * 3600 * S  # 25 local hours
    temp = np.arange(25, dtype=float)  # 0 .. 24 °C
    d = daily_temperature(t, temp)
    assert d.day_start_ns[0] == t0
    assert d.min_c[0] == 0.0 and d.max_c[0] == 24.0
    assert d.mean_c[0] == pytest.approx(12.0)
    assert d.hourly_coverage[0] == pytest.approx(1.0)


def test_daily_temperature_marks_sparse_days_invalid():
    t0 = local_midnight_ns(dt.date(2024, 1, 10))
    t = t0 + np.arange(0, 20) * 3600 * S  # 20 of 24 hours
    d = daily_temperature(t, np.zeros(20))
    assert not d.valid[0] and np.isnan(d.mean_c[0])


def test_daily_temperature_judges_coverage_on_the_datas_own_step():
    days = [dt.date(2024, 10, 25) + dt.timedelta(days=i) for i in range(5)]  # 27 October: 25 hours
    bounds = np.array([local_midnight_ns(d) for d in [*days, days[-1] + dt.timedelta(days=1)]], dtype=np.int64)
    # a station's daily means at local midnight: every day is covered, the 25-hour day too
    daily = daily_temperature(bounds[:-1], np.arange(5.0), boundaries_ns=bounds)
    assert daily.valid.all() and daily.mean_c.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    # 3-hourly SYNOP observations; the third day has two of its eight
    t = np.concatenate([bounds[k] + np.arange(8) * 3 * 3600 * S for k in range(5)])
    keep = ~((t >= bounds[2]) & (t < bounds[3]) & (t >= bounds[2] + 6 * 3600 * S))
    synop = daily_temperature(t[keep], np.ones(int(keep.sum())), boundaries_ns=bounds, min_hourly_coverage=0.5)
    assert synop.valid.tolist() == [True, True, False, True, True]
    assert synop.hourly_coverage[2] == pytest.approx(6 / 25)  # two 3-hour slots of a 25-hour day
    # hourly data keep the hour rule
    h = bounds[0] + np.arange(20) * 3600 * S
    assert daily_temperature(h, np.ones(20), boundaries_ns=bounds[:2]).valid.tolist() == [False]
