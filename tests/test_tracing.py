"""Kernels under ``jit`` with concrete arrays closed over (not passed as arguments).

Input checks run on concrete values only; a concrete array captured by a traced function must be
checked in NumPy, not staged into the trace (where ``bool()`` of the check would fail). Each
result is compared with the same call made outside ``jit``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfb
from jaxfb import theory

X = jnp.sin(0.3 * jnp.arange(32.0)) + 0.1
W = jaxfb.random_filterbank(jax.random.key(0), 4, 8)
KEY = jax.random.key(1)
LEVELS = jnp.asarray([0.05, 0.01])

CASES = {
    "energy, signal closed over": lambda k: jaxfb.energy(jaxfb.random_filterbank(k, 4, 8), X),
    "energy, filters closed over": lambda k: jaxfb.energy(W, X * jax.random.uniform(k)),
    "frame_bounds": lambda k: jaxfb.frame_bounds(W * jax.random.uniform(k), 32),
    "smooth_condition_number": lambda k: (
        jaxfb.smooth_condition_number(W, 32) * jax.random.uniform(k)
    ),
    "tightness_penalty": lambda k: jaxfb.tightness_penalty(W, 32) * jax.random.uniform(k),
    "cantelli_deviation, level closed over": lambda k: theory.cantelli_deviation(
        X * jax.random.uniform(k), 4, 8, LEVELS
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_under_jit_with_closed_over_arrays(name):
    f = CASES[name]
    traced = jax.jit(f)(KEY)
    eager = f(KEY)
    for a, b in zip(jax.tree.leaves(traced), jax.tree.leaves(eager), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5)


def test_closed_over_bad_inputs_are_still_rejected_when_traced():
    bad = X.at[3].set(jnp.nan)
    with pytest.raises(ValueError, match="non-finite"):
        jax.jit(lambda k: jaxfb.energy(jaxfb.random_filterbank(k, 4, 8), bad))(KEY)
    zero = jnp.zeros((4, 8))
    with pytest.raises(ValueError, match="all-zero filterbank"):
        jax.jit(lambda s: jaxfb.tightness_penalty(zero, 32) * s)(1.0)
    p_bad = jnp.asarray(1.5)
    with pytest.raises(ValueError, match=r"open interval \(0, 1\)"):
        jax.jit(lambda s: theory.cantelli_deviation(X * s, 4, 8, p_bad))(1.0)


def test_level_is_checked_after_its_cast_to_the_signal_dtype():
    # 1 - 1e-10 is inside (0, 1) in float64 but rounds to 1.0 in the float32 of the signal
    with jax.enable_x64(True):
        x = jnp.ones(32, jnp.float32)
        with pytest.raises(ValueError, match=r"open interval \(0, 1\), got .*1\.0"):
            theory.cantelli_deviation(x, 4, 8, 1 - 1e-10)
        p = jnp.asarray(1 - 1e-10)  # float64, closed over by a traced function
        with pytest.raises(ValueError, match=r"open interval \(0, 1\)"):
            jax.jit(lambda s: theory.cantelli_deviation(x * s, 4, 8, p))(1.0)
