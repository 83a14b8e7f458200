"""Host-side theory functions called under ``jax.jit`` say so and how to call them instead."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxfb import theory

HOST = r"jaxfb\.theory\.{name} is host-side NumPy.*argument {arg} is traced.*outside jit"


@pytest.mark.parametrize(
    "name, arg, call",
    [
        (
            "expected_condition_number",
            "num_filters",
            lambda J: theory.expected_condition_number(J, 8, 16),
        ),
        ("kappa_tilde", "length", lambda T: theory.kappa_tilde(40, T)),
        ("expected_frame_bounds", "n", lambda n: theory.expected_frame_bounds(4, 8, n).lower),
        ("required_filters", "kappa0", lambda k: theory.required_filters(k, 8, 16)),
        ("energy_quantile", "q", lambda q: theory.energy_quantile(q, np.ones(16), 4, 8)),
        ("energy_sf", "t", lambda t: theory.energy_sf(t, np.ones(16), 4, 8)),
    ],
)
def test_host_side_function_under_jit_says_call_it_outside(name, arg, call):
    with pytest.raises(TypeError, match=HOST.format(name=name, arg=arg)):
        jax.jit(call)(jnp.asarray(4.0 if arg in ("kappa0", "t") else 8))


def test_energy_sf_points_to_the_jit_able_method():
    with pytest.raises(TypeError, match="method='saddlepoint'"):
        jax.jit(lambda t: theory.energy_sf(t, np.ones(16), 4, 8))(1.0)
    sf = jax.jit(lambda t: theory.energy_sf(t, np.ones(16), 4, 8, method="saddlepoint"))(1.0)
    assert 0 < float(sf) < 1
