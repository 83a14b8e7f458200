"""Shape arguments that arrive traced under ``jax.jit`` say which argument and how to fix it."""

import functools

import jax
import jax.numpy as jnp
import pytest

import jaxfb
from jaxfb import theory

STATIC_HINT = r"static_argnames.*static_argnums.*functools\.partial"


@pytest.mark.parametrize(
    "name, call",
    [
        ("num_filters", lambda J: jaxfb.random_filterbank(jax.random.key(0), J, 8)),
        ("length", lambda T: jaxfb.random_filterbank(jax.random.key(0), 4, T)),
        ("n", lambda n: jaxfb.frame_bounds(jnp.ones((4, 8)), n)),
        ("stride", lambda d: jaxfb.frame_bounds(jnp.ones((4, 8)), 16, stride=d)),
        ("n", lambda n: jaxfb.littlewood_paley(jnp.ones((4, 8)), n)),
        ("num_filters", lambda J: theory.energy_mean(jnp.ones(16), J, 8)),
        ("length", lambda T: theory.energy_variance(jnp.ones(16), 4, T)),
    ],
)
def test_traced_shape_argument_names_it_and_says_make_it_static(name, call):
    with pytest.raises(TypeError, match=rf"^{name} is traced.*{STATIC_HINT}"):
        jax.jit(call)(8)


def test_the_advice_works():
    # what the message says to do compiles and runs
    f = jax.jit(lambda key, J: jaxfb.random_filterbank(key, J, 8), static_argnames="J")
    assert f(jax.random.key(0), 4).shape == (4, 8)
    g = jax.jit(functools.partial(jaxfb.frame_bounds, n=16))
    assert g(jnp.ones((4, 8))).lower.shape == ()
