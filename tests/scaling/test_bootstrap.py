"""jaxfb.scaling.bootstrap: parametric and nonparametric intervals agree with the delta method
within the bootstrap's own sampling error (SD of an SD estimate ~ SE / sqrt(2 B))."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

from jaxfb import scaling


def test_bootstrap_is_float64_reproducible_and_validated(data):
    y, se = data.noisy(data.truth_y("paper"), seed=24)
    res = scaling.fit(data.J, data.T, y, se, model="paper")
    boot = scaling.bootstrap(jax.random.key(2), res, num_resamples=8)
    assert boot.params.shape == (8, 1) and boot.params.dtype == np.float64
    again = scaling.bootstrap(jax.random.key(2), res, num_resamples=8)
    np.testing.assert_array_equal(again.params, boot.params)
    with pytest.raises(ValueError, match="num_resamples"):
        scaling.bootstrap(jax.random.key(2), res, num_resamples=1)
    with pytest.raises(TypeError, match="FitResult"):
        scaling.bootstrap(jax.random.key(2), "fit")


@pytest.mark.slow
def test_parametric_bootstrap_matches_delta_method(data):
    y, se = data.noisy(data.truth_y("paper"), seed=13, rel=0.01)
    res = scaling.fit(data.J, data.T, y, se, model="paper")
    B = 400
    boot = scaling.bootstrap(jax.random.key(0), res, num_resamples=B)
    assert boot.kind == "parametric" and boot.num_failed == 0
    assert boot.params.shape == (B, 1)
    assert abs(boot.stderr[0] / res.stderr[0] - 1) < data.K / math.sqrt(2 * B)
    np.testing.assert_allclose(boot.ci, res.ci, atol=data.K * res.stderr[0] / math.sqrt(2 * B) * 2)


@pytest.mark.slow
def test_nonparametric_bootstrap_over_draws(data):
    # per-point draws with known spread; their means and SEs are the data
    rng = np.random.default_rng(14)
    y0 = data.truth_y("paper")
    draws = 100
    sd = 0.05 * (1 + y0)
    samples = [y0[i] + sd[i] * rng.standard_normal(draws) for i in range(y0.size)]
    y = np.array([s.mean() for s in samples])
    se = np.array([s.std(ddof=1) / math.sqrt(draws) for s in samples])
    res = scaling.fit(data.J, data.T, y, se, model="paper")
    B = 400
    boot = scaling.bootstrap(jax.random.key(1), res, num_resamples=B, samples=samples)
    assert boot.kind == "nonparametric" and boot.num_failed == 0
    assert abs(boot.stderr[0] / res.stderr[0] - 1) < data.K / math.sqrt(2 * B) + 0.05
    with pytest.raises(ValueError, match="per-draw values behind y"):
        scaling.bootstrap(jax.random.key(1), res, num_resamples=4, samples=samples[::-1])
