"""The engine statistics: padded and nested samplers are exact; one compile per bucket."""

import math

import jax
import jax.numpy as jnp
import numpy as np

import jaxfb
from jaxfb.montecarlo import _buckets


def test_padded_nested_sampler_is_the_truncated_filterbank():
    """Zeroed taps beyond T and nested filter blocks give exactly the library's bounds."""
    filters, T, L, n = (2, 3, 7), 5, 8, 32
    d = _buckets.draw(_buckets.frames_statistic(filters, L, n), jax.random.key(0), 4, T)
    for i in range(4):  # draw i uses fold_in(key, i)
        k = jax.random.fold_in(jax.random.key(0), i)
        w = _buckets.masked_filterbank(k, jnp.int32(T), filters[-1], L, 1)
        assert np.all(np.asarray(w[:, T:]) == 0)
        for j, J in enumerate(filters):
            ref = jaxfb.frame_bounds(w[:J, :T] / np.sqrt(J), n)
            np.testing.assert_allclose(d.values["A"][i, j], ref.lower, rtol=2e-5)
            np.testing.assert_allclose(d.values["B"][i, j], ref.upper, rtol=2e-5)


def test_padded_sampler_has_the_paper_variance():
    """Energy of an impulse: mean 1, variance 2/(J T) (per-tap variance 1/(J T))."""
    J, T = 4, 6
    x = jnp.asarray(np.eye(1, 64), jnp.float32)
    stat = _buckets.energy_statistic(J, 16)
    e = _buckets.draw(stat, jax.random.key(1), 4000, T, signals=x).values["energy"][:, 0]
    se = math.sqrt(2 / (J * T) / e.size)
    assert abs(e.mean() - 1) < 5 * se
    assert abs(e.var() / (2 / (J * T)) - 1) < 5 * math.sqrt(2 / e.size) * 2


def test_one_compile_per_bucket():
    """Every T of a bucket runs the same function object: the engine compiles it once."""
    stat = _buckets.frames_statistic((2, 5), 16, 64)
    assert stat is _buckets.frames_statistic((2, 5), 16, 64)
    _buckets.draw(stat, jax.random.key(0), 8, 9)
    for T in (10, 16):
        assert _buckets.draw(stat, jax.random.key(T), 8, T).compile_time == 0.0


def test_energy_statistic_bounds_are_the_frame_bounds_of_the_same_banks():
    """With ``bounds``, ``A <= energy / ||x||^2 <= B`` per draw, and the bounds are those of
    ``jaxfb.frame_bounds`` of the drawn bank."""
    J, L, n, T = 4, 16, 64, 9
    x = np.stack([np.eye(n)[0], (-1.0) ** np.arange(n) / 8.0]).astype(np.float32)
    stat = _buckets.energy_statistic(J, L, True)
    d = _buckets.draw(stat, jax.random.key(3), 16, T, signals=jnp.asarray(x)).values
    assert d["energy"].shape == (16, 2) and d["A"].shape == d["B"].shape == (16,)
    assert np.all(d["A"][:, None] <= d["energy"] * (1 + 1e-5))
    assert np.all(d["energy"] <= d["B"][:, None] * (1 + 1e-5))
    k = jax.random.fold_in(jax.random.key(3), 5)
    w = _buckets.masked_filterbank(k, jnp.int32(T), J, L, J)
    A, B = jaxfb.frame_bounds(w[:, :T], n)
    np.testing.assert_allclose([d["A"][5], d["B"][5]], [A, B], rtol=1e-5)
