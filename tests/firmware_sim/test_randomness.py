"""Tests of the counter-based random numbers used for chunk-invariant simulation."""

from __future__ import annotations

import numpy as np

from firmware_sim.randomness import normal, stream_key, uniform, uniform_scalar


def test_uniform_is_a_pure_function_of_key_and_index() -> None:
    key = stream_key(7, "site", "mairie")
    idx = np.arange(-50, 100_000, 7)
    u = uniform(key, idx)
    np.testing.assert_array_equal(u, uniform(key, idx))
    np.testing.assert_array_equal(u[10:20], uniform(key, idx[10:20]))  # no dependence on the batch
    assert [uniform_scalar(key, int(i)) for i in idx[:50]] == u[:50].tolist()
    assert 0 < u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02
    assert stream_key(7, "site", "mairie") != stream_key(8, "site", "mairie")


def test_normal_has_unit_variance() -> None:
    z = normal(stream_key(1, "x"), np.arange(200_000))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
