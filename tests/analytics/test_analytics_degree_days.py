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
