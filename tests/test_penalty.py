"""Differentiable conditioning penalties: definitions, bounds, gradients, float32 robustness."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.special import logsumexp

import jaxfb
from jaxfb import _penalty


def numpy_lp_full(w, n):
    """``LP(k)``, ``k = 0..n-1``, float64, straight from the definition."""
    return np.sum(np.abs(np.fft.fft(np.asarray(w, np.float64), n=n, axis=-1)) ** 2, axis=-2)


def numpy_smooth_kappa(w, n, tau):
    lp = numpy_lp_full(w, n)[..., : n // 2 + 1]
    log_ell = np.log(lp / np.sum(np.asarray(w, np.float64) ** 2, axis=(-2, -1))[..., None])
    soft_log_max = tau * logsumexp(log_ell / tau, axis=-1)
    soft_log_min = -tau * logsumexp(-log_ell / tau, axis=-1)
    return np.exp(soft_log_max - soft_log_min)


def numpy_tightness(w, n):
    lp = numpy_lp_full(w, n)
    return lp.var(axis=-1) / lp.mean(axis=-1) ** 2


def central_difference_grad(f, w, h=1e-6):
    w = np.asarray(w, np.float64)
    g = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[idx] = h
        g[idx] = (float(f(jnp.asarray(w + e))) - float(f(jnp.asarray(w - e)))) / (2 * h)
    return g


# --------------------------------------------------------------------------------------------
# definitions


# Shapes are shared between tests so that compiled kernels are reused (the suite is
# compile-bound): x64 (3, 5) and (3, 3, 5) with n = 16; float32 (3, 3, 5) with n = 16.
SHAPES = [(3, 5, 16), (4, 16, 16), (2, 7, 11)]  # n even / odd, 2T - 1 <= n and > n


@pytest.mark.parametrize(("J", "T", "n"), SHAPES)
def test_smooth_condition_number_definition(x64, J, T, n):
    w = np.random.default_rng(J * T + n).standard_normal((J, T))
    for tau in (0.02, 0.3, 2.0):
        got = jaxfb.smooth_condition_number(jnp.asarray(w), n, temperature=tau)
        np.testing.assert_allclose(got, numpy_smooth_kappa(w, n, tau), rtol=1e-11)


@pytest.mark.parametrize(("J", "T", "n"), SHAPES)
def test_tightness_penalty_definition(x64, J, T, n):
    """Both branches: 2T - 1 <= n (lags apart) and 2T - 1 > n (lags wrap), odd and even n."""
    w = np.random.default_rng(J + T + n).standard_normal((J, T))
    got = jaxfb.tightness_penalty(jnp.asarray(w), n)
    np.testing.assert_allclose(got, numpy_tightness(w, n), rtol=1e-12)


def test_tight_frames_have_zero_penalty(x64):
    dirac = jnp.zeros((3, 5)).at[0, 2].set(3.0)
    shifts = jnp.eye(3, 5)  # three Diracs at different delays: LP = 3
    for w in (dirac, shifts):
        assert float(jaxfb.tightness_penalty(w, 16)) == 0.0
        np.testing.assert_allclose(
            jaxfb.smooth_condition_number(w, 16, temperature=0.1), 9 ** (2 * 0.1), rtol=1e-12
        )  # flat LP: K^{2 tau}, K = 9


# --------------------------------------------------------------------------------------------
# bounds and limits


def test_smooth_kappa_brackets_kappa(x64):
    w = jaxfb.random_filterbank(jax.random.key(0), 3, 5, batch_shape=(3,))
    n = 16
    K = n // 2 + 1
    kappa = np.asarray(jaxfb.condition_number(w, n))
    prev = None
    for tau in (1e-3, 1e-2, 0.05, 0.2, 1.0):
        ks = np.asarray(jaxfb.smooth_condition_number(w, n, temperature=tau))
        assert np.all(kappa <= ks * (1 + 1e-12))
        assert np.all(ks <= kappa * K ** (2 * tau) * (1 + 1e-12))
        if prev is not None:  # power means: non-decreasing in tau
            assert np.all(prev <= ks * (1 + 1e-12))
        prev = ks
    # tau -> 0: converges to kappa at the stated rate (here already to 0.5%)
    ks = np.asarray(jaxfb.smooth_condition_number(w, n, temperature=1e-3))
    np.testing.assert_allclose(ks, kappa, rtol=K**2e-3 - 1)


def test_tightness_bounded_by_kappa(x64):
    """0 <= Var/mean^2 <= (kappa - 1)^2 / (4 kappa) (Bhatia-Davis), tight for a 2-level LP."""
    w = jaxfb.random_filterbank(jax.random.key(1), 3, 5, batch_shape=(3,))
    kappa = np.asarray(jaxfb.condition_number(w, 16))
    p = np.asarray(jaxfb.tightness_penalty(w, 16))
    assert np.all(p > 0)
    assert np.all(p <= (kappa - 1) ** 2 / (4 * kappa))
    # equality: LP = 2 + 2 cos(2 pi k / 2) takes the values 0 and 4 only (n = 2)
    w2 = jnp.array([[1.0, 1.0]])
    assert float(jaxfb.tightness_penalty(w2, 2)) == pytest.approx(1.0, rel=1e-12)


def test_scale_free_float32():
    w = jaxfb.random_filterbank(jax.random.key(2), 3, 5, batch_shape=(3,))
    ref_k = jaxfb.smooth_condition_number(w, 16)
    ref_p = jaxfb.tightness_penalty(w, 16)
    for c in (1e-30, 1e-10, 1e10, 1e30):
        np.testing.assert_allclose(jaxfb.smooth_condition_number(c * w, 16), ref_k, rtol=1e-5)
        np.testing.assert_allclose(jaxfb.tightness_penalty(c * w, 16), ref_p, rtol=1e-5)


# --------------------------------------------------------------------------------------------
# gradients


@pytest.mark.parametrize(
    "which", ["smooth", "tight", pytest.param("tight_wrap", marks=pytest.mark.slow)]
)
def test_gradient_matches_finite_differences(x64, which):
    rng = np.random.default_rng(4)
    if which == "smooth":
        w, n = rng.standard_normal((3, 5)), 16

        def f(w):
            return jnp.log(jaxfb.smooth_condition_number(w, n, temperature=0.2))
    else:
        w, n = rng.standard_normal((3, 5)), (16 if which == "tight" else 7)

        def f(w):
            return jaxfb.tightness_penalty(w, n)

    g = np.asarray(jax.grad(f)(jnp.asarray(w)))
    g_fd = central_difference_grad(f, w)
    np.testing.assert_allclose(g, g_fd, rtol=1e-7, atol=1e-9 * np.abs(g_fd).max())
    # scale invariance (Euler): <grad, w> = 0
    assert abs(np.sum(g * w)) < 1e-12 * np.abs(g).max() * np.abs(w).max() * w.size


def test_gradients_batched_and_temperature_traced(x64):
    w = jaxfb.random_filterbank(jax.random.key(5), 3, 5, batch_shape=(3,))

    def total(w, tau):
        return jnp.sum(jnp.log(jaxfb.smooth_condition_number(w, 16, temperature=tau)))

    g = jax.grad(total)(w, 0.1)
    for i in range(3):
        gi = jax.grad(total)(w[i], 0.1)
        np.testing.assert_allclose(g[i], gi, rtol=1e-10, atol=1e-14)
    # derivative in the temperature itself, against central differences
    dtau = jax.grad(total, argnums=1)(w, 0.1)
    h = 1e-6
    fd = (total(w, 0.1 + h) - total(w, 0.1 - h)) / (2 * h)
    np.testing.assert_allclose(dtau, fd, rtol=1e-6)


def _extreme_filterbanks():
    zero_at_dc = jnp.zeros((3, 5)).at[:, :2].set(jnp.array([1.0, -1.0]))  # LP(0) = 0 exactly
    near_zero = zero_at_dc.at[0, 0].add(1e-4)  # LP(0) ~ 1e-8 of the mean
    dirac = jnp.zeros((3, 5)).at[:, 0].set(1.0)  # tight: every frequency is the extreme
    scaled = jaxfb.random_filterbank(jax.random.key(7), 3, 5)
    long = jaxfb.random_filterbank(jax.random.key(6), 40, 2048)  # T = n
    return [
        ("degenerate", jnp.stack([zero_at_dc, near_zero, dirac]), 16),
        ("scaled", jnp.stack([1e-25 * scaled, 1e25 * scaled, scaled]), 16),
        pytest.param("long", long, 2048, marks=pytest.mark.slow),
    ]


@pytest.mark.parametrize(("name", "w", "n"), _extreme_filterbanks(), ids=lambda p: p)
def test_float32_gradients_finite(name, w, n):
    assert w.dtype == jnp.float32
    for method in ("fft", "autocorr"):

        def loss(w, tau, method=method):
            ks = jaxfb.smooth_condition_number(w, n, temperature=tau, method=method)
            return jnp.sum(jnp.log(ks))

        for tau in (0.01, 0.5):
            val, g = jax.value_and_grad(loss)(w, jnp.float32(tau))
            assert np.isfinite(val) and np.all(np.isfinite(g)), (name, method, tau)
    val, g = jax.value_and_grad(lambda w: jnp.sum(jaxfb.tightness_penalty(w, n)))(w)
    assert np.isfinite(val) and np.all(np.isfinite(g)), name


def test_optax_reduces_penalties():
    n = 32
    w0 = jaxfb.random_filterbank(jax.random.key(9), 4, 8)
    opt = optax.adam(1e-2)

    def run(loss):
        @jax.jit
        def step(w, state):
            val, g = jax.value_and_grad(loss)(w)
            updates, state = opt.update(g, state)
            return optax.apply_updates(w, updates), state, val

        w, state = w0, opt.init(w0)
        for _ in range(100):
            w, state, _ = step(w, state)
        return w

    kappa0 = float(jaxfb.condition_number(w0, n))
    w = run(lambda w: jnp.log(_penalty._smooth_condition_number(w, 0.05, n, "fft")))
    assert float(jaxfb.condition_number(w, n)) < 1 + 0.2 * (kappa0 - 1)
    w = run(lambda w: _penalty._tightness_penalty(w, n))
    assert float(jaxfb.tightness_penalty(w, n)) < 0.1 * float(jaxfb.tightness_penalty(w0, n))


# --------------------------------------------------------------------------------------------
# API


def test_no_retrace_when_temperature_changes():
    kernel = _penalty._smooth_condition_number
    w = jaxfb.random_filterbank(jax.random.key(10), 3, 5, batch_shape=(3,))
    jaxfb.smooth_condition_number(w, 16, temperature=0.1)
    size = kernel._cache_size()
    jaxfb.smooth_condition_number(w + 1, 16, temperature=0.3)
    jaxfb.smooth_condition_number(w, 16, temperature=np.float64(0.2))
    assert kernel._cache_size() == size


def test_bad_input():
    w = jnp.ones((3, 5))
    for tau in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="temperature must be finite and > 0"):
            jaxfb.smooth_condition_number(w, 16, temperature=tau)
    with pytest.raises(ValueError, match="temperature must be a scalar"):
        jaxfb.smooth_condition_number(w, 16, temperature=jnp.ones(2))
    zero = jnp.zeros((3, 3, 5)).at[0].set(1.0)
    for f in (jaxfb.smooth_condition_number, jaxfb.tightness_penalty):
        with pytest.raises(ValueError, match=r"all-zero filterbank \(at batch index \(1,\)\)"):
            f(zero, 16)
        with pytest.raises(ValueError, match="must be >= the filter length"):
            f(w, 2)
        # traced: no error possible, +inf instead of NaN
        out = jax.jit(lambda w, f=f: f(w, 16))(zero)
        assert np.isfinite(out[0]) and np.all(np.isinf(out[1:]))


# --------------------------------------------------------------------------------------------
# conv layers (..., C_out, C_in, T)


def numpy_conv_blocks(w, n, d, q, half=True):
    """Polyphase blocks ``M_k[(a, c), (b, c')]``, ``k = 0 .. L//2`` (all ``L`` if not ``half``),
    from per-channel FFTs of the dilated filters; all ``L`` blocks hold the spectrum of S."""
    J, C, T = w.shape
    h = np.zeros((J, C, n))
    h[..., : (T - 1) * q + 1 : q] = w
    H = np.fft.fft(h, axis=-1)  # (J, C, n)
    L = n // d
    K = L // 2 + 1 if half else L
    f = np.arange(K)[:, None] + L * np.arange(d)[None, :]  # (K, d)
    G = H[:, :, f].transpose(0, 2, 3, 1).reshape(J, K, d * C)  # (J, K, (a, c))
    return np.einsum("jka,jkb->kab", G.conj(), G) / d


def numpy_conv_smooth_kappa(w, n, d, q, tau):
    lam = np.linalg.eigvalsh(numpy_conv_blocks(w, n, d, q)).ravel()
    log_ell = np.log(lam / (np.sum(w**2) / (w.shape[1] * d)))
    return np.exp(tau * logsumexp(log_ell / tau) + tau * logsumexp(-log_ell / tau))


# C_out >= d C_in and gcd(d, q) = 1: frames (A > 0)
CONV_CASES = [(7, 3, 4, 12, 2, 1), (7, 2, 3, 15, 3, 2), (6, 2, 5, 16, 1, 3), (9, 2, 4, 8, 4, 1)]


@pytest.mark.parametrize(("J", "C", "T", "n", "d", "q"), CONV_CASES)
def test_conv_penalties_definition(x64, J, C, T, n, d, q):
    w = np.random.default_rng(J + 10 * C + 100 * T).standard_normal((J, C, T))
    lam = np.sort(np.linalg.eigvalsh(numpy_conv_blocks(w, n, d, q, half=False)).ravel())
    P = float(jaxfb.conv_tightness_penalty(jnp.asarray(w), n, stride=d, dilation=q))
    np.testing.assert_allclose(P, lam.var() / lam.mean() ** 2, rtol=1e-11)
    kappa = lam[-1] / lam[0]
    assert P <= (kappa - 1) ** 2 / (4 * kappa) * (1 + 1e-12)
    for tau in (0.05, 0.3):
        ks = float(jaxfb.conv_smooth_condition_number(w, n, stride=d, dilation=q, temperature=tau))
        np.testing.assert_allclose(ks, numpy_conv_smooth_kappa(w, n, d, q, tau), rtol=1e-9)
        K = (n // d // 2 + 1) * d * C
        assert kappa * (1 - 1e-9) <= ks <= kappa * K ** (2 * tau) * (1 + 1e-9)


@pytest.mark.parametrize("q", [1, 2])
def test_conv_penalties_with_one_channel_are_the_filterbank_ones(x64, q):
    """The block path at C_in = 1, stride 1 equals the Littlewood-Paley path (dilated filters)."""
    w = np.random.default_rng(q).standard_normal((4, 1, 5))
    u = jnp.asarray(np.zeros((4, (5 - 1) * q + 1)).copy())
    u = u.at[:, ::q].set(w[:, 0])
    n = 16
    np.testing.assert_allclose(
        _penalty._conv_tightness_penalty(jnp.asarray(w), n, 1, q),
        jaxfb.tightness_penalty(u, n),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        _penalty._conv_smooth_condition_number(jnp.asarray(w), 0.1, n, 1, q),
        jaxfb.smooth_condition_number(u, n, temperature=0.1),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        jaxfb.conv_smooth_condition_number(w, n, dilation=q, temperature=0.1),
        jaxfb.smooth_condition_number(u, n, temperature=0.1),
        rtol=1e-12,
    )


@pytest.mark.parametrize("which", ["smooth", "tight"])
def test_conv_gradient_matches_finite_differences(x64, which):
    w, n, d, q = np.random.default_rng(5).standard_normal((5, 2, 3)), 12, 2, 1
    if which == "smooth":

        def f(w):
            return jnp.log(
                jaxfb.conv_smooth_condition_number(w, n, stride=d, dilation=q, temperature=0.2)
            )
    else:

        def f(w):
            return jaxfb.conv_tightness_penalty(w, n, stride=d, dilation=q)

    g = np.asarray(jax.grad(f)(jnp.asarray(w)))
    g_fd = central_difference_grad(f, w)
    np.testing.assert_allclose(g, g_fd, rtol=1e-6, atol=1e-8 * np.abs(g_fd).max())
    assert abs(np.sum(g * w)) < 1e-10 * np.abs(g).max() * np.abs(w).max() * w.size


def test_conv_penalties_batched_scale_free_and_bad_input():
    w = jaxfb.random_filterbank(jax.random.key(11), 6, 3, in_channels=2, batch_shape=(2,))
    for f in (
        lambda w: jaxfb.conv_smooth_condition_number(w, 12, stride=2),
        lambda w: jaxfb.conv_tightness_penalty(w, 12, stride=2),
    ):
        batched = np.asarray(f(w))
        np.testing.assert_allclose(batched, [f(w[0]), f(w[1])], rtol=1e-6)
        np.testing.assert_allclose(f(1e-20 * w), batched, rtol=1e-5)
        np.testing.assert_allclose(jax.vmap(f)(w), batched, rtol=1e-6)
    zero = w.at[1].set(0.0)
    for f in (jaxfb.conv_smooth_condition_number, jaxfb.conv_tightness_penalty):
        with pytest.raises(ValueError, match=r"all-zero filterbank \(at batch index \(1,\)\)"):
            f(zero, 12)
        with pytest.raises(ValueError, match="effective filter length"):
            f(w, 12, dilation=6)
    with pytest.raises(ValueError, match="temperature must be finite and > 0"):
        jaxfb.conv_smooth_condition_number(w, 12, temperature=0.0)
