"""Strided filterbanks: frame bounds against the dense frame operator; aliasing moments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfb
from jaxfb import _frames

# --------------------------------------------------------------------------------------------
# dense references (NumPy float64, straight from the definition)


def dense_analysis(w: np.ndarray, n: int, d: int) -> np.ndarray:
    """``(J n/d, n)`` matrix of ``x -> ((x (*) w_j)[m d])_{j, m}``, circular convolution."""
    J, T = w.shape
    wp = np.zeros((J, n))
    wp[:, :T] = w
    m = np.arange(n // d)[:, None]
    t = np.arange(n)[None, :]
    # (x (*) w)[i] = sum_t x[t] w[(i - t) mod n], at i = m d
    return wp[:, (m * d - t) % n].reshape(J * (n // d), n)


def dense_frame_spectrum(w, n, d) -> np.ndarray:
    Phi = dense_analysis(np.asarray(w, np.float64), n, d)
    return np.linalg.eigvalsh(Phi.T @ Phi)


def numpy_aliasing(w, n, d) -> np.ndarray:
    L = n // d
    W = np.fft.fft(np.asarray(w, np.float64), n=n, axis=-1)
    k = np.arange(L // 2 + 1)
    f = k[:, None] + L * np.arange(d)[None, :]  # (L//2 + 1, d)
    H = W[:, f]  # (J, L//2 + 1, d)
    return np.einsum("jka,jkb->kab", H.conj(), H) / d


CASES = [  # (n, d, J, T): even/odd n, odd/even L = n/d, T = n, and min(J, T) < d (no frame)
    (12, 1, 3, 5),
    (12, 2, 3, 5),
    (12, 3, 4, 7),
    (12, 4, 5, 12),
    (15, 3, 4, 6),
    (9, 3, 3, 9),
    (12, 4, 2, 7),  # J < d
    (12, 4, 5, 3),  # T < d
]


@pytest.mark.parametrize(("n", "d", "J", "T"), CASES)
def test_bounds_match_dense_frame_operator(x64, n, d, J, T):
    rng = np.random.default_rng(1000 * n + 10 * d + J)
    w = rng.standard_normal((J, T))
    lam = dense_frame_spectrum(w, n, d)
    A, B = jaxfb.frame_bounds(jnp.asarray(w), n, stride=d)
    assert A.dtype == jnp.float64
    np.testing.assert_allclose(float(B), lam[-1], rtol=1e-12)
    if min(J, T) < d:
        assert float(A) == 0.0  # no frame: structural zero, not a rounding residue
        assert abs(lam[0]) < 1e-12 * lam[-1]
        assert float(jaxfb.condition_number(jnp.asarray(w), n, stride=d)) == np.inf
    else:
        np.testing.assert_allclose(float(A), lam[0], rtol=1e-10, atol=1e-13 * lam[-1])
        kappa = jaxfb.condition_number(jnp.asarray(w), n, stride=d)
        np.testing.assert_allclose(float(kappa), lam[-1] / lam[0], rtol=1e-9)
    # All n eigenvalues of S = Phi^T Phi are those of the blocks M_0 .. M_{L-1}
    M = np.asarray(jaxfb.aliasing_matrices(jnp.asarray(w), n, d))
    L = n // d
    assert M.shape == (L // 2 + 1, d, d)
    np.testing.assert_allclose(M, numpy_aliasing(w, n, d), rtol=1e-12, atol=1e-12)
    # blocks k > L//2 mirror k' = L - k (real filters)
    blocks = [M[min(k, L - k)] for k in range(L)]
    lam_blocks = np.sort(np.concatenate([np.linalg.eigvalsh(b) for b in blocks]))
    np.testing.assert_allclose(lam_blocks, lam, atol=1e-11)
    # the diagonal is LP / d
    lp_full = np.sum(np.abs(np.fft.fft(w, n=n, axis=-1)) ** 2, axis=0)
    f = np.arange(L // 2 + 1)[:, None] + L * np.arange(d)[None, :]
    np.testing.assert_allclose(np.einsum("kaa->ka", M).real, lp_full[f] / d, rtol=1e-12)


def test_mirror_symmetry_of_blocks(x64):
    """M_{L-k}[a, b] = M_k[d-1-b, d-1-a] for real filters (why k <= L//2 suffices)."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((3, 7))
    n, d = 24, 3
    L = n // d
    W = np.fft.fft(w, n=n, axis=-1)
    f = np.arange(L)[:, None] + L * np.arange(d)[None, :]
    H = W[:, f]
    Mfull = np.einsum("jka,jkb->kab", H.conj(), H) / d
    for k in range(1, L):
        np.testing.assert_allclose(Mfull[L - k], Mfull[k][::-1, ::-1].T, atol=1e-12)


@pytest.mark.parametrize("T", [pytest.param(1, marks=pytest.mark.slow), 32])
def test_stride_one_blocks_are_littlewood_paley(x64, T):
    w = jaxfb.random_filterbank(jax.random.key(T), 5, T, batch_shape=(3,))
    lp = jaxfb.littlewood_paley(w, 32, method="fft")
    # the 1 x 1 blocks of stride 1 are LP(k) itself
    M = jaxfb.aliasing_matrices(w, 32, 1)
    np.testing.assert_allclose(M[..., 0, 0].real, lp, rtol=1e-12, atol=1e-14)
    # and stride 1 is the unchanged Littlewood-Paley path of frame_bounds
    np.testing.assert_array_equal(
        jaxfb.frame_bounds(w, 32, stride=1).lower, jaxfb.frame_bounds(w, 32).lower
    )


def test_condition_number_is_ratio_of_strided_bounds(x64):
    w = jaxfb.random_filterbank(jax.random.key(1), 4, 7, batch_shape=(2,))
    for d in (1, 3):
        A, B = jaxfb.frame_bounds(w, 12, stride=d)
        np.testing.assert_allclose(jaxfb.condition_number(w, 12, stride=d), B / A, rtol=1e-12)


def test_float32_accuracy():
    w64 = np.random.default_rng(5).standard_normal((2, 40, 64)) / np.sqrt(40 * 64)
    w32 = jnp.asarray(w64, jnp.float32)
    for d in (2, 8):
        A, B = jaxfb.frame_bounds(w32, 128, stride=d)
        assert A.dtype == jnp.float32
        for i in range(2):
            lam = dense_frame_spectrum(w64[i], 128, d)
            assert abs(float(B[i]) - lam[-1]) < 1e-5 * lam[-1]
            assert abs(float(A[i]) - lam[0]) < 1e-5 * lam[-1]


def test_batched_equals_stacked(x64):
    w = jaxfb.random_filterbank(jax.random.key(2), 4, 7, batch_shape=(2, 2))
    A, B = jaxfb.frame_bounds(w, 12, stride=3)
    assert A.shape == B.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            a, b = jaxfb.frame_bounds(w[i, j], 12, stride=3)
            np.testing.assert_allclose(A[i, j], a, rtol=1e-13)
            np.testing.assert_allclose(B[i, j], b, rtol=1e-13)
    # vmap agrees with the batch dimension
    Av, _ = jax.vmap(lambda x: jaxfb.frame_bounds(x, 12, stride=3))(w.reshape(4, 4, 7))
    np.testing.assert_allclose(Av, A.reshape(4), rtol=1e-13)


def test_no_retrace():
    kernel = _frames._strided_frame_bounds
    w1 = jaxfb.random_filterbank(jax.random.key(0), 5, 11, batch_shape=(3,))
    w2 = jaxfb.random_filterbank(jax.random.key(1), 5, 11, batch_shape=(3,))
    jaxfb.frame_bounds(w1, 44, stride=4)
    size = kernel._cache_size()
    jaxfb.frame_bounds(w2, 44, stride=4)
    assert kernel._cache_size() == size
    # and it composes with an outer jit (n, stride static)
    f = jax.jit(lambda w: jaxfb.frame_bounds(w, 44, stride=4).lower)
    np.testing.assert_allclose(f(w2), jaxfb.frame_bounds(w2, 44, stride=4).lower, rtol=1e-6)


@pytest.mark.parametrize(
    ("stride", "err", "match"),
    [
        (0, ValueError, "stride must be >= 1"),
        (5, ValueError, "stride=5 must divide"),
        (2.0, TypeError, "stride must be a static Python int"),
        (True, TypeError, "stride must be a static Python int"),
    ],
)
def test_bad_stride(stride, err, match):
    w = jnp.ones((2, 3))
    for f in (
        lambda: jaxfb.frame_bounds(w, 12, stride=stride),
        lambda: jaxfb.condition_number(w, 12, stride=stride),
        lambda: jaxfb.aliasing_matrices(w, 12, stride),
        lambda: jaxfb.aliasing_moments(2, 3, 12, stride),
    ):
        with pytest.raises(err, match=match):
            f()


def test_bad_filterbank():
    with pytest.raises(ValueError, match="must be >= the filter length"):
        jaxfb.frame_bounds(jnp.ones((2, 16)), 8, stride=2)
    with pytest.raises(ValueError, match="non-finite"):
        jaxfb.frame_bounds(jnp.full((2, 4), jnp.nan), 8, stride=2)


# --------------------------------------------------------------------------------------------
# moments of the aliasing terms


def exact_moments(J, T, n, d, s2, g2):
    """Mean / variance / pseudo-variance of M_k[a, b] as Gaussian quadratic forms in w.

    M_k[a, b] = (1/d) sum_j w_j^T Q w_j with Q = conj(e_a) e_b^T, e_a[t] = exp(-2 pi i f_a t / n);
    for w ~ iid (variance s2, excess kurtosis g2) and symmetric complex A, B:
    Cov(w^T A w, w^T B w) = 2 s2^2 tr(A B) + g2 s2^2 sum_t A_tt B_tt (bilinear, no conjugates).
    """
    L = n // d
    t = np.arange(T)
    out = np.zeros((3, L // 2 + 1, d, d), complex)
    for k in range(L // 2 + 1):
        for a in range(d):
            for b in range(d):
                ea = np.exp(-2j * np.pi * (k + a * L) * t / n)
                eb = np.exp(-2j * np.pi * (k + b * L) * t / n)
                Q = np.outer(ea.conj(), eb)
                Qs = (Q + Q.T) / 2
                dg = np.diag(Qs)
                out[0, k, a, b] = J * s2 * np.trace(Qs) / d
                out[1, k, a, b] = (
                    J * s2**2 * (2 * np.trace(Qs @ Qs.conj()) + g2 * np.sum(dg * dg.conj())) / d**2
                )
                out[2, k, a, b] = J * s2**2 * (2 * np.trace(Qs @ Qs) + g2 * np.sum(dg * dg)) / d**2
    return out


@pytest.mark.parametrize(
    ("J", "T", "n", "d", "g2"),
    [(3, 6, 24, 3, 0.0), (3, 6, 24, 4, 0.0), (2, 5, 20, 2, -2.0), (4, 16, 16, 4, -1.2)],
)
def test_aliasing_moments_exact(J, T, n, d, g2):
    s2 = 0.37
    m = jaxfb.aliasing_moments(J, T, n, d, variance=s2, excess_kurtosis=g2)
    ref = exact_moments(J, T, n, d, s2, g2)
    np.testing.assert_allclose(m.mean, ref[0], atol=1e-12)
    np.testing.assert_allclose(m.variance, ref[1].real, atol=1e-12)
    assert np.max(np.abs(ref[1].imag)) < 1e-12
    np.testing.assert_allclose(m.pseudo_variance, ref[2], atol=1e-12)


@pytest.mark.parametrize(("T", "d"), [(8, 4), (6, 4), (5, 4), (6, 6), (9, 6), (7, 2)])
def test_aliasing_mean_vanishes_iff_order_divides_length(T, d):
    """E M_k[a, b] = 0 iff d / gcd(d, b - a) divides T; all aliasing means vanish iff d | T."""
    n = 24 * d
    mean = jaxfb.aliasing_moments(5, T, n, d).mean
    a, b = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
    order = d // np.gcd(d, np.abs(b - a))
    zero = (T % order) == 0
    off = a != b
    assert np.max(np.abs(mean[:, zero & off]), initial=0.0) < 1e-15
    assert np.min(np.abs(mean[:, ~zero]), initial=np.inf) > 0.1 / (d * T)
    assert np.all(zero[off]) == (T % d == 0)
    np.testing.assert_allclose(mean[:, ~off], 1 / d, rtol=1e-12)  # E[LP] / d, paper's init


@pytest.mark.parametrize(
    ("init", "J", "T", "n", "d"),
    [
        ("gaussian", 3, 6, 24, 4),
        pytest.param("gaussian", 4, 12, 24, 3, marks=pytest.mark.slow),
        pytest.param("rademacher", 3, 5, 20, 2, marks=pytest.mark.slow),
    ],
)
def test_aliasing_moments_monte_carlo(x64, init, J, T, n, d):
    S = 20000
    w = jaxfb.random_filterbank(jax.random.key(11), J, T, batch_shape=(S,), init=init)
    M = np.asarray(jaxfb.aliasing_matrices(w, n, d))  # (S, L//2 + 1, d, d)
    g2 = jaxfb.INITS[init].excess_kurtosis
    mom = jaxfb.aliasing_moments(J, T, n, d, excess_kurtosis=g2)
    k_se = 5.0
    se = np.sqrt(S)

    def check(samples, truth):
        for part in (np.real, np.imag):
            x, t = part(samples), part(truth)
            err = np.abs(x.mean(0) - t)
            assert np.all(err <= k_se * x.std(0) / se + 1e-12), np.max(err / (x.std(0) / se))

    check(M, mom.mean)
    dev = M - mom.mean
    check(np.abs(dev) ** 2, mom.variance)
    check(dev**2, mom.pseudo_variance)


def exact_conv_moments(J, C, T, n, d, s2, g2):
    """Moments of M_k[(a, c), (b, c')] as quadratic forms in one output channel's C T weights.

    M = (1/d) sum_j w_j^T Q w_j, w_j = (w[j, 0, :], ..., w[j, C-1, :]) and Q = conj(u) v^T with
    u = e_a in channel c's slot and v = e_b in channel c''s (zeros elsewhere); then the same
    bilinear covariance formula as :func:`exact_moments`, entry [k, a C + c, b C + c'].
    """
    L = n // d
    t = np.arange(T)
    out = np.zeros((3, L // 2 + 1, d * C, d * C), complex)
    for k in range(L // 2 + 1):
        for x in range(d * C):
            for y in range(d * C):
                (a, c), (b, c2) = divmod(x, C), divmod(y, C)
                u, v = np.zeros(C * T, complex), np.zeros(C * T, complex)
                u[c * T : (c + 1) * T] = np.exp(-2j * np.pi * (k + a * L) * t / n)
                v[c2 * T : (c2 + 1) * T] = np.exp(-2j * np.pi * (k + b * L) * t / n)
                Qs = (np.outer(u.conj(), v) + np.outer(v, u.conj())) / 2
                dg = np.diag(Qs)
                out[0, k, x, y] = J * s2 * np.trace(Qs) / d
                var = 2 * np.trace(Qs @ Qs.conj()) + g2 * np.sum(dg * dg.conj())
                out[1, k, x, y] = J * s2**2 * var / d**2
                out[2, k, x, y] = J * s2**2 * (2 * np.trace(Qs @ Qs) + g2 * np.sum(dg * dg)) / d**2
    return out


@pytest.mark.parametrize(
    ("J", "C", "T", "n", "d", "g2"),
    [(3, 2, 6, 24, 3, 0.0), (2, 3, 5, 20, 2, -1.2), (4, 2, 4, 8, 1, -2.0), (3, 2, 8, 16, 4, 0.5)],
)
def test_conv_aliasing_moments_exact(J, C, T, n, d, g2):
    s2 = 0.37
    m = jaxfb.aliasing_moments(J, T, n, d, variance=s2, excess_kurtosis=g2, in_channels=C)
    ref = exact_conv_moments(J, C, T, n, d, s2, g2)
    assert m.mean.shape == (n // d // 2 + 1, d * C, d * C)
    np.testing.assert_allclose(m.mean, ref[0], atol=1e-12)
    np.testing.assert_allclose(m.variance, ref[1].real, atol=1e-12)
    assert np.max(np.abs(ref[1].imag)) < 1e-12
    np.testing.assert_allclose(m.pseudo_variance, ref[2], atol=1e-12)


def test_conv_aliasing_moments_one_channel_is_the_filterbank():
    """in_channels=1 returns the single-channel arrays bit for bit."""
    for kw in ({}, {"variance": 0.3, "excess_kurtosis": -1.2}):
        one, ref = (
            jaxfb.aliasing_moments(3, 6, 24, 4, in_channels=1, **kw),
            jaxfb.aliasing_moments(3, 6, 24, 4, **kw),
        )
        for x, y in zip(one, ref, strict=True):
            assert x.shape == y.shape and np.array_equal(x, y)


@pytest.mark.parametrize(
    ("init", "J", "C", "T", "n", "d"),
    [("uniform", 3, 2, 5, 20, 2), pytest.param("gaussian", 2, 3, 6, 24, 3, marks=pytest.mark.slow)],
)
def test_conv_aliasing_moments_monte_carlo(x64, init, J, C, T, n, d):
    """Sample means of M, |M - mean|^2, (M - mean)^2 of conv blocks within 5 SE of the formulas:
    a diagonal entry, a same-channel aliasing entry (a != b), a cross-channel entry at one alias
    and a cross-channel aliasing entry, at three frequencies (uniform: excess kurtosis -6/5)."""
    from jaxfb import _conv

    S = 20000
    w = jaxfb.random_filterbank(
        jax.random.key(12), J, T, in_channels=C, batch_shape=(S,), init=init
    )
    M = np.asarray(_conv.conv_blocks(w, n, d, 1))  # (S, L//2 + 1, d C, d C)
    g2 = jaxfb.INITS[init].excess_kurtosis
    mom = jaxfb.aliasing_moments(J, T, n, d, excess_kurtosis=g2, in_channels=C)
    L = n // d
    ks = np.array([0, 1, L // 2])
    # (a C + c, b C + c'): diagonal, aliasing same channel, cross channel, cross channel aliasing
    xs = np.array([0, 0, 0, 1])
    ys = np.array([0, C, 1, C])
    sel = (slice(None), ks[:, None], xs, ys)
    k_se, root = 5.0, np.sqrt(S)

    def check(samples, truth):
        for part in (np.real, np.imag):
            x, t = part(samples), part(truth)
            err = np.abs(x.mean(0) - t)
            assert np.all(err <= k_se * x.std(0) / root + 1e-12), np.max(err / (x.std(0) / root))

    mean = mom.mean[sel[1:]]
    check(M[sel], mean)
    dev = M[sel] - mean
    check(np.abs(dev) ** 2, mom.variance[sel[1:]])
    check(dev**2, mom.pseudo_variance[sel[1:]])
    # the cross-channel entries are genuinely different from the same-channel ones
    assert not np.allclose(mom.variance[1, 0, 1], mom.variance[1, 0, 0])
