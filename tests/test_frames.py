"""Littlewood-Paley sums, frame bounds and condition numbers against their definitions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfb
from jaxfb._frames import _condition_number, _frame_bounds, _littlewood_paley, fft_size

# (J, T, N): odd and even sizes, T = 1, T = N, odd N, 2T - 1 > N (lags wrap).
SIZES = [
    (1, 1, 1),
    (1, 1, 8),
    (3, 1, 7),
    (2, 5, 5),
    (4, 7, 16),
    (3, 8, 9),
    (5, 16, 17),
    (2, 33, 64),
    (6, 40, 48),
    (3, 64, 64),
]


def circulant_analysis(w: np.ndarray, n: int) -> np.ndarray:
    """Dense analysis operator Phi: (J n) x n, rows are circular shifts of the padded filters."""
    J, T = w.shape
    rows = []
    for j in range(J):
        h = np.zeros(n)
        h[:T] = w[j]
        # (x (*) h)[m] = sum_i h[(m - i) mod n] x[i]
        C = np.array([[h[(m - i) % n] for i in range(n)] for m in range(n)])
        rows.append(C)
    return np.concatenate(rows, axis=0)


def lp_definition(w: np.ndarray, n: int) -> np.ndarray:
    """sum_j |DFT_n(w_j)(k)|^2 by the explicit DFT sum, k = 0..n//2."""
    T = w.shape[-1]
    k = np.arange(n // 2 + 1)[:, None]
    t = np.arange(T)[None, :]
    E = np.exp(-2j * np.pi * k * t / n)
    return np.sum(np.abs(w @ E.T) ** 2, axis=-2)


def draw(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("method", ["fft", "autocorr", "auto"])
@pytest.mark.parametrize("J,T,N", SIZES)
def test_littlewood_paley_matches_definition_float64(x64, J, T, N, method):
    w = draw(J * 1000 + T * 10 + N, (2, J, T))
    got = np.asarray(jaxfb.littlewood_paley(jnp.asarray(w), N, method=method))
    want = lp_definition(w, N)
    assert got.dtype == np.float64
    assert got.shape == (2, N // 2 + 1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * want.max())


@pytest.mark.parametrize("J,T,N", SIZES)
def test_frame_bounds_are_extreme_eigenvalues_of_frame_operator(x64, J, T, N):
    w = draw(7 + J + T + N, (J, T))
    Phi = circulant_analysis(w, N)
    eig = np.linalg.eigvalsh(Phi.T @ Phi)
    A, B = jaxfb.frame_bounds(jnp.asarray(w), N)
    np.testing.assert_allclose(float(A), eig[0], rtol=1e-10, atol=1e-12 * eig[-1])
    np.testing.assert_allclose(float(B), eig[-1], rtol=1e-10)
    kappa = float(jaxfb.condition_number(jnp.asarray(w), N))
    if eig[0] > 1e-9 * eig[-1]:
        np.testing.assert_allclose(kappa, eig[-1] / eig[0], rtol=1e-8)


@pytest.mark.parametrize("J,T,N", [(4, 7, 16), (5, 16, 17), (40, 64, 1024), (8, 300, 1024)])
def test_float32_close_to_float64(J, T, N):
    w64 = draw(J + T, (3, J, T))
    with jax.enable_x64(True):
        ref = np.asarray(jaxfb.littlewood_paley(jnp.asarray(w64), N, method="fft"))
    for method in ("fft", "autocorr"):
        got = jaxfb.littlewood_paley(jnp.asarray(w64, jnp.float32), N, method=method)
        assert got.dtype == jnp.float32
        # relative to the scale of the sum (rounding in the lag path is absolute, ~eps * r(0))
        err = np.max(np.abs(np.asarray(got) - ref)) / np.max(ref)
        assert err < 2e-6, (method, err)


def test_fft_and_autocorr_paths_agree_on_random_banks():
    key = jax.random.key(3)
    for T, N in [(8, 1024), (32, 1024), (33, 1024), (200, 1024), (700, 1024), (1024, 1024)]:
        w = jaxfb.random_filterbank(key, 40, T, batch_shape=(4,))
        a = jaxfb.littlewood_paley(w, N, method="fft")
        b = jaxfb.littlewood_paley(w, N, method="autocorr")
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=3e-6 * float(a.max()))


def test_auto_prefers_lag_path_for_short_filters():
    from jaxfb._frames import _choose_method

    assert _choose_method(40, 8, 1024) == "autocorr"
    assert _choose_method(40, 1024, 1024) == "fft"


def test_fft_size_is_smooth_and_large_enough():
    for m in range(1, 3000, 7):
        L = fft_size(m)
        assert L >= m
        r = L
        for p in (2, 3, 5):
            while r % p == 0:
                r //= p
        assert r == 1
        assert L < 2 * m or m == 1


def test_lp_is_symmetric_and_matches_rfft_over_full_grid(x64):
    w = draw(1, (3, 10))
    full = np.sum(np.abs(np.fft.fft(w, 25, axis=-1)) ** 2, axis=0)
    got = np.asarray(jaxfb.littlewood_paley(jnp.asarray(w), 25))
    np.testing.assert_allclose(got, full[:13], rtol=1e-12)
    np.testing.assert_allclose(full[1:13], full[:12:-1], rtol=1e-12)


def test_batch_dimensions_and_vmap_equal_stacked_calls():
    w = jaxfb.random_filterbank(jax.random.key(0), 6, 12, batch_shape=(2, 3))
    batched = jaxfb.frame_bounds(w, 32)
    assert batched.lower.shape == (2, 3)
    single = [[jaxfb.frame_bounds(w[i, j], 32) for j in range(3)] for i in range(2)]
    np.testing.assert_array_equal(
        np.asarray(batched.upper), np.array([[s.upper for s in row] for row in single])
    )
    vm = jax.vmap(jax.vmap(lambda wi: jaxfb.condition_number(wi, 32)))(w)
    np.testing.assert_allclose(np.asarray(vm), np.asarray(jaxfb.condition_number(w, 32)), rtol=1e-6)


def test_kernels_compose_under_jit_and_grad():
    @jax.jit
    def f(key):
        w = jaxfb.random_filterbank(key, 8, 16, batch_shape=(5,))
        return jaxfb.condition_number(w, 64)

    k1 = f(jax.random.key(1))
    assert k1.shape == (5,) and bool(jnp.all(k1 >= 1))

    w = jaxfb.random_filterbank(jax.random.key(2), 8, 16)

    def upper(w):
        return jaxfb.frame_bounds(w, 64).upper

    g = jax.grad(upper)(w)
    assert g.shape == w.shape and bool(jnp.all(jnp.isfinite(g)))
    # B is 1-homogeneous of degree 2: <grad B, w> = 2 B (Euler's identity)
    np.testing.assert_allclose(float(jnp.sum(g * w)), 2 * float(upper(w)), rtol=1e-4)


@pytest.mark.parametrize("method", ["fft", "autocorr"])
def test_gradient_of_lp_matches_finite_differences(x64, method):
    w = jnp.asarray(draw(5, (3, 6)))
    v = jnp.asarray(draw(6, (3, 6)))

    def f(w):
        lp = jaxfb.littlewood_paley(w, 16, method=method)
        return jnp.sum(lp * jnp.cos(jnp.arange(9.0)))

    eps = 1e-6
    fd = (f(w + eps * v) - f(w - eps * v)) / (2 * eps)
    np.testing.assert_allclose(float(jnp.vdot(jax.grad(f)(w), v)), float(fd), rtol=1e-7)


def test_no_recompilation_on_second_call():
    key = jax.random.key(0)
    w = jaxfb.random_filterbank(key, 5, 9, batch_shape=(3,))
    for fn in (_littlewood_paley, _frame_bounds, _condition_number):
        fn.clear_cache()
    jaxfb.littlewood_paley(w, 30)
    jaxfb.frame_bounds(w, 30)
    jaxfb.condition_number(w, 30)
    sizes = [fn._cache_size() for fn in (_littlewood_paley, _frame_bounds, _condition_number)]
    w2 = jaxfb.random_filterbank(jax.random.key(1), 5, 9, batch_shape=(3,))
    jaxfb.littlewood_paley(w2, 30)
    jaxfb.frame_bounds(w2, 30)
    jaxfb.condition_number(w2, 30)
    assert [fn._cache_size() for fn in (_littlewood_paley, _frame_bounds, _condition_number)] == (
        sizes
    )
    assert sizes == [1, 1, 1]


def test_kappa_is_inf_not_nan_when_lower_bound_vanishes():
    # w = [1, 1] has a zero at the Nyquist frequency of an even grid: A = 0.
    w = jnp.array([[1.0, 1.0]])
    A, B = jaxfb.frame_bounds(w, 8)
    assert float(A) == 0.0
    assert float(B) == pytest.approx(4.0)
    assert float(jaxfb.condition_number(w, 8)) == np.inf
    # all-zero filters: A = B = 0, still inf and never NaN
    assert float(jaxfb.condition_number(jnp.zeros((2, 3)), 8)) == np.inf


def test_tight_frame_has_kappa_one():
    # the Dirac basis: J = 1, w = delta
    assert float(jaxfb.condition_number(jnp.array([[1.0]]), 16)) == 1.0
    # a unit-norm Haar pair is a tight frame with bound 2
    s = 1 / np.sqrt(2)
    w = jnp.array([[s, s], [s, -s]])
    A, B = jaxfb.frame_bounds(w, 16)
    np.testing.assert_allclose([float(A), float(B)], [2.0, 2.0], rtol=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: jaxfb.littlewood_paley(jnp.ones((2, 9)), 8), r"n=8 must be >= the filter length"),
        (lambda: jaxfb.frame_bounds(jnp.ones(9), 16), r"w must have shape .*got shape \(9,\)"),
        (lambda: jaxfb.frame_bounds(jnp.ones((0, 4)), 16), r"at least one filter"),
        (lambda: jaxfb.frame_bounds(jnp.ones((2, 0)), 16), r"T >= 1"),
        (lambda: jaxfb.condition_number(jnp.ones((2, 4)), 0), r"n must be >= 1, got 0"),
        (lambda: jaxfb.littlewood_paley(jnp.ones((2, 4)), 8, method="dft"), r"method must be"),
        (
            lambda: jaxfb.frame_bounds(jnp.array([[1.0, jnp.nan]]), 8),
            r"w has 1 non-finite entries",
        ),
        (lambda: jaxfb.frame_bounds(jnp.array([[1.0, jnp.inf]]), 8), r"w has 1 non-finite"),
    ],
)
def test_bad_input_raises_value_error_naming_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="n must be a static Python int"):
        jaxfb.frame_bounds(jnp.ones((2, 4)), 8.0)
    with pytest.raises(TypeError, match="n must be a static Python int"):
        jaxfb.frame_bounds(jnp.ones((2, 4)), True)
    with pytest.raises(TypeError, match="w must be real"):
        jaxfb.frame_bounds(jnp.ones((2, 4), jnp.complex64), 8)
