"""energy and autocorrelation against explicit circular convolutions (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfb


def energy_definition(w: np.ndarray, x: np.ndarray) -> float:
    """sum_j ||x (*) w_j||^2 with the circular convolution written out."""
    N = x.shape[-1]
    total = 0.0
    for wj in w:
        h = np.zeros(N)
        h[: len(wj)] = wj
        y = np.array([sum(h[t] * x[(m - t) % N] for t in range(N)) for m in range(N)])
        total += float(y @ y)
    return total


@pytest.mark.parametrize(
    "J,T,N", [(1, 1, 1), (2, 1, 6), (3, 4, 9), (2, 7, 7), (3, 6, 8), (4, 5, 16)]
)
def test_energy_matches_circular_convolution(x64, J, T, N):
    rng = np.random.default_rng(J * 100 + T * 10 + N)
    w = rng.standard_normal((J, T))
    x = rng.standard_normal(N)
    got = float(jaxfb.energy(jnp.asarray(w), jnp.asarray(x)))
    np.testing.assert_allclose(got, energy_definition(w, x), rtol=1e-12)


@pytest.mark.parametrize("T,N", [(5, 16), (9, 16), (16, 16), (13, 15)])
def test_energy_identity_with_littlewood_paley(x64, T, N):
    """||Phi x||^2 = (1/N) sum_k LP(k) |x_hat(k)|^2 (docs/theory.md, section 1)."""
    rng = np.random.default_rng(T + N)
    w = jnp.asarray(rng.standard_normal((3, 4, T)))
    x = jnp.asarray(rng.standard_normal((3, N)))
    lp_half = np.asarray(jaxfb.littlewood_paley(w, N))
    lp = np.concatenate([lp_half, lp_half[:, 1 : (N + 1) // 2][:, ::-1]], axis=-1)
    xhat2 = np.abs(np.fft.fft(np.asarray(x), axis=-1)) ** 2
    want = np.sum(lp * xhat2, axis=-1) / N
    np.testing.assert_allclose(np.asarray(jaxfb.energy(w, x)), want, rtol=1e-12)
    # and the frame inequality A ||x||^2 <= ||Phi x||^2 <= B ||x||^2
    A, B = jaxfb.frame_bounds(w, N)
    e = np.asarray(jaxfb.energy(w, x))
    nx = np.sum(np.asarray(x) ** 2, axis=-1)
    assert np.all(np.asarray(A) * nx <= e * (1 + 1e-12))
    assert np.all(e <= np.asarray(B) * nx * (1 + 1e-12))


def test_one_draw_serves_every_signal():
    key = jax.random.key(0)
    w = jaxfb.random_filterbank(key, 10, 32, batch_shape=(5,))
    x = jax.random.normal(jax.random.key(1), (7, 256))
    table = jaxfb.energy(w[:, None], x)
    assert table.shape == (5, 7)
    single = np.array([[float(jaxfb.energy(w[b], x[s])) for s in range(7)] for b in range(5)])
    np.testing.assert_allclose(np.asarray(table), single, rtol=2e-6)
    # broadcasting a single signal against many filterbanks
    assert jaxfb.energy(w, x[0]).shape == (5,)
    vm = jax.vmap(lambda wb: jaxfb.energy(wb, x))(w)
    np.testing.assert_allclose(np.asarray(vm), np.asarray(table), rtol=2e-6)


def test_energy_float32_close_to_float64():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 10, 300)) / np.sqrt(3000)
    x = rng.standard_normal((4, 1024))
    with jax.enable_x64(True):
        ref = np.asarray(jaxfb.energy(jnp.asarray(w), jnp.asarray(x)))
    got = jaxfb.energy(jnp.asarray(w, jnp.float32), jnp.asarray(x, jnp.float32))
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-5)


def test_energy_is_differentiable_in_the_filters(x64):
    rng = np.random.default_rng(2)
    w = jnp.asarray(rng.standard_normal((3, 5)))
    x = jnp.asarray(rng.standard_normal(12))
    # energy is a quadratic form in w: <grad, w> = 2 * energy
    g = jax.grad(lambda w: jaxfb.energy(w, x))(w)
    np.testing.assert_allclose(float(jnp.sum(g * w)), 2 * float(jaxfb.energy(w, x)), rtol=1e-12)


def test_autocorrelation_matches_definition(x64):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 11))
    R = np.asarray(jaxfb.autocorrelation(jnp.asarray(x), 11))
    want = np.array(
        [[sum(xb[n] * xb[(n + tau) % 11] for n in range(11)) for tau in range(11)] for xb in x]
    )
    np.testing.assert_allclose(R, want, rtol=1e-12, atol=1e-12)


def test_filter_autocorrelation_matches_definition(x64):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((2, 3, 6))
    r = np.asarray(jaxfb.filter_autocorrelation(jnp.asarray(w)))
    want = np.array(
        [[sum(np.dot(wj[: 6 - tau], wj[tau:]) for wj in wb) for tau in range(6)] for wb in w]
    )
    np.testing.assert_allclose(r, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: jaxfb.energy(jnp.ones((2, 9)), jnp.ones(8)),
            r"T=9 .* must be <= signal length N=8",
        ),
        (
            lambda: jaxfb.energy(jnp.ones((2, 3)), jnp.array([1.0, jnp.nan, 0.0])),
            "x has 1 non-finite",
        ),
        (
            lambda: jaxfb.energy(jnp.ones((4, 2, 3)), jnp.ones((3, 8))),
            r"batch shapes of w \(4,\) .* and x \(3,\)",
        ),
        (
            lambda: jaxfb.energy(jnp.ones((2, 3)), jnp.float32(1.0)),
            r"x must have shape \(\.\.\., N\)",
        ),
        (lambda: jaxfb.autocorrelation(jnp.ones(4), 5), r"max_lag=5 must be <= the signal length"),
        (lambda: jaxfb.autocorrelation(jnp.ones(4), 0), r"max_lag must be >= 1"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
