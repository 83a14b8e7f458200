"""random_filterbank: shapes, dtypes, determinism, and the law of the weights (statistically)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import jaxfb

K = 5.0  # tolerance in standard errors, fixed in advance


def test_shape_dtype_and_determinism():
    key = jax.random.key(0)
    w = jaxfb.random_filterbank(key, 40, 64, batch_shape=(3, 2))
    assert w.shape == (3, 2, 40, 64) and w.dtype == jnp.float32
    np.testing.assert_array_equal(w, jaxfb.random_filterbank(key, 40, 64, batch_shape=(3, 2)))
    other = jaxfb.random_filterbank(jax.random.key(1), 40, 64, batch_shape=(3, 2))
    assert not np.array_equal(np.asarray(w), np.asarray(other))
    assert jaxfb.random_filterbank(key, 2, 3, batch_shape=5).shape == (5, 2, 3)
    assert jaxfb.random_filterbank(key, 2, 3).shape == (2, 3)
    # legacy uint32 keys work too
    assert jaxfb.random_filterbank(jax.random.PRNGKey(0), 2, 3).shape == (2, 3)


def test_dtype_follows_x64_flag_and_argument():
    key = jax.random.key(0)
    with jax.enable_x64(True):
        assert jaxfb.random_filterbank(key, 2, 3).dtype == jnp.float64
        assert jaxfb.random_filterbank(key, 2, 3, dtype=jnp.float32).dtype == jnp.float32
    assert jaxfb.random_filterbank(key, 2, 3, dtype=jnp.bfloat16).dtype == jnp.bfloat16


@pytest.mark.parametrize("init", sorted(jaxfb.INITS))
@pytest.mark.parametrize("rescale", [True, False])
def test_variance_and_kurtosis_of_each_init(init, rescale):
    J, T = 8, 32
    spec = jaxfb.INITS[init]
    var = spec.variance(J, T, rescale=rescale)
    w = np.asarray(
        jaxfb.random_filterbank(
            jax.random.key(11), J, T, batch_shape=(400,), init=init, rescale=rescale
        ),
        np.float64,
    ).ravel()
    n = w.size
    g2 = spec.excess_kurtosis
    # SE of the sample second moment: sqrt(Var[w^2] / n) = var * sqrt((2 + g2) / n)
    se_var = var * math.sqrt((2.0 + g2) / n)
    # (Rademacher weights have constant w^2: SE 0, allow rounding)
    assert abs(np.mean(w**2) - var) <= K * se_var + 1e-12 * var
    assert abs(np.mean(w)) < K * math.sqrt(var / n)
    # excess kurtosis of the sample, SE ~ sqrt(24/n) for a normal, smaller for lighter tails
    kurt = np.mean(w**4) / np.mean(w**2) ** 2 - 3.0
    assert abs(kurt - g2) <= K * math.sqrt(24.0 / n)


def test_raw_framework_inits_have_their_documented_scales():
    key = jax.random.key(2)
    T = 50
    w = jaxfb.random_filterbank(key, 4, T, batch_shape=(100,), init="pytorch")
    bound = 1 / math.sqrt(T)
    assert float(jnp.max(jnp.abs(w))) <= bound
    assert float(jnp.max(jnp.abs(w))) > 0.99 * bound  # the support is really [-b, b]
    r = jaxfb.random_filterbank(key, 4, T, init="rademacher")
    np.testing.assert_allclose(np.abs(np.asarray(r)), 1 / math.sqrt(4 * T), rtol=1e-6)
    # rescaled framework inits share the paper's variance
    assert jaxfb.INITS["he_normal"].variance(4, T, rescale=True) == 1 / (4 * T)
    assert jaxfb.INITS["glorot_normal"].variance(4, T, rescale=False) == 2 / (T + 4 * T)


@pytest.mark.parametrize("T", [1, 16, 256])
def test_gaussian_energy_is_unbiased(T):
    """E||Phi x||^2 = ||x||^2 (docs/theory.md, section 2), against the sample's own SE."""
    J, N, draws = 10, 512, 4000
    w = jaxfb.random_filterbank(jax.random.key(T), J, T, batch_shape=(draws, 1))
    rng = np.random.default_rng(0)
    x = np.stack([np.eye(N)[0], rng.standard_normal(N), (-1.0) ** np.arange(N)])
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    e = np.asarray(jaxfb.energy(w, jnp.asarray(x, jnp.float32)), np.float64)  # (draws, 3)
    se = e.std(axis=0, ddof=1) / math.sqrt(draws)
    assert np.all(np.abs(e.mean(axis=0) - 1.0) < K * se), (e.mean(axis=0), se)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(num_filters=0, length=4), ValueError, "num_filters must be >= 1, got 0"),
        (dict(num_filters=2, length=0), ValueError, "length must be >= 1, got 0"),
        (dict(num_filters=2.5, length=4), TypeError, "num_filters must be a static Python int"),
        (dict(num_filters=2, length=4, init="xavier"), ValueError, "init must be one of"),
        (dict(num_filters=2, length=4, batch_shape=(-1,)), ValueError, r"batch_shape\[0\]"),
        (dict(num_filters=2, length=4, dtype=jnp.int32), TypeError, "dtype must be a real"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        jaxfb.random_filterbank(jax.random.key(0), **kwargs)


def test_bad_key():
    with pytest.raises(TypeError, match="key must be a JAX PRNG key"):
        jaxfb.random_filterbank(0, 2, 3)
    with pytest.raises(ValueError, match="key must be a single key"):
        jaxfb.random_filterbank(jax.random.split(jax.random.key(0)), 2, 3)


# --------------------------------------------------------------------------------------------
# conv layers: in_channels


def test_in_channels_shape_and_same_numbers_as_a_filterbank():
    key = jax.random.key(3)
    w = jaxfb.random_filterbank(key, 6, 5, in_channels=4, batch_shape=(2,))
    assert w.shape == (2, 6, 4, 5)
    assert jaxfb.random_filterbank(key, 6, 5).shape == (6, 5)  # no in_channels: a filterbank
    one = jaxfb.random_filterbank(key, 6, 5, in_channels=1, init="pytorch")
    np.testing.assert_array_equal(one[:, 0, :], jaxfb.random_filterbank(key, 6, 5, init="pytorch"))
    with pytest.raises(ValueError, match="in_channels must be >= 1, got 0"):
        jaxfb.random_filterbank(key, 6, 5, in_channels=0)
    with pytest.raises(TypeError, match="in_channels must be a static Python int"):
        jaxfb.random_filterbank(key, 6, 5, in_channels=2.0)


# the frameworks' Conv1d variances, fan_in = C_in T, fan_out = C_out T (written out here)
FRAMEWORK_VARIANCE = {
    "gaussian": lambda J, C, T: 1 / (J * T),
    "pytorch": lambda J, C, T: (1 / math.sqrt(C * T)) ** 2 / 3,  # U(-1/sqrt(fan_in), ..)
    "glorot_normal": lambda J, C, T: 2 / (C * T + J * T),
    "glorot_uniform": lambda J, C, T: 2 / (C * T + J * T),
    "he_normal": lambda J, C, T: 2 / (C * T),
    "lecun_normal": lambda J, C, T: 1 / (C * T),
    "lecun_truncated_normal": lambda J, C, T: 1 / (C * T),
    "glorot_truncated_normal": lambda J, C, T: 2 / (C * T + J * T),
    "he_truncated_normal": lambda J, C, T: 2 / (C * T),
}


@pytest.mark.parametrize(
    "init", ["lecun_truncated_normal", "glorot_truncated_normal", "he_truncated_normal"]
)
def test_truncated_inits_follow_flax_and_keras(init):
    """N(0, 1) cut at +-2, scaled by sqrt(var) / 0.87962566103423978 (Flax's and Keras'
    variance_scaling): KS against scipy's truncnorm, the support, and the moments."""
    J, C, T = 8, 6, 5
    spec = jaxfb.INITS[init]
    var = FRAMEWORK_VARIANCE[init](J, C, T)
    std = math.sqrt(var) / 0.87962566103423978  # the underlying normal's, as the frameworks write
    w = jaxfb.random_filterbank(
        jax.random.key(13), J, T, in_channels=C, batch_shape=(100,), init=init
    )
    w = np.asarray(w, np.float64).ravel()
    assert np.max(np.abs(w)) <= 2 * std * (1 + 1e-6)
    assert stats.kstest(w, stats.truncnorm(-2, 2, scale=std).cdf).pvalue > 1e-4
    ref = stats.truncnorm(-2, 2)
    assert spec.excess_kurtosis == pytest.approx(float(ref.stats(moments="k")), rel=1e-12)
    assert float(ref.var()) == pytest.approx(0.87962566103423978**2, rel=1e-15)


@pytest.mark.parametrize("init", sorted(FRAMEWORK_VARIANCE))
def test_framework_inits_use_the_conv_fans(init):
    J, C, T, draws = 8, 6, 5, 200
    var = FRAMEWORK_VARIANCE[init](J, C, T)
    assert jaxfb.INITS[init].variance(J, T, rescale=False, in_channels=C) == pytest.approx(var)
    w = jaxfb.random_filterbank(
        jax.random.key(12), J, T, in_channels=C, batch_shape=(draws,), init=init
    )
    w = np.asarray(w, np.float64).ravel()
    se_var = var * math.sqrt((2.0 + jaxfb.INITS[init].excess_kurtosis) / w.size)
    assert abs(np.mean(w**2) - var) <= K * se_var
    if init == "pytorch":  # the support is [-1/sqrt(fan_in), 1/sqrt(fan_in)]
        bound = 1 / math.sqrt(C * T)
        assert bound * 0.99 < np.max(np.abs(w)) <= bound


@pytest.mark.parametrize(
    ("J", "C", "T", "n", "d", "q"), [(5, 3, 4, 8, 1, 1), (7, 2, 4, 12, 2, 3), (4, 2, 6, 12, 3, 1)]
)
def test_papers_init_has_expected_frame_operator_identity_over_stride(J, C, T, n, d, q):
    """E[Phi^T Phi] = I/d (d divides T, gcd(d, q) = 1): the mean of the d C_in x d C_in blocks."""
    from jaxfb import _conv

    draws = 4000
    w = jaxfb.random_filterbank(jax.random.key(J * C), J, T, in_channels=C, batch_shape=draws)
    M = np.asarray(_conv.conv_blocks(w, n, d, q), np.complex128)  # (draws, K, dC, dC)
    target = np.eye(d * C) / d
    for part in (np.real, np.imag):
        x = part(M)
        se = x.std(axis=0, ddof=1) / math.sqrt(draws)
        dev = np.abs(x.mean(axis=0) - part(target + 0j))
        assert np.all(dev <= K * se + 1e-6 / d), (part.__name__, dev.max(), se.max())
