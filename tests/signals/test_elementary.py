"""The elementary signals against their definitions, their energy statistics, argument checks."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _support import SR
from _support import norm as _norm
from _support import power_spectrum as _power_spectrum

import jaxfb
from jaxfb import signals

K_SE = 5.0  # tolerance of every statistical test, in standard errors


# --------------------------------------------------------------------------------------------
# Deterministic signals against their definitions


def test_impulse_and_alternating(x64):
    np.testing.assert_array_equal(signals.impulse(5, position=3), [0, 0, 0, 1, 0])
    np.testing.assert_allclose(
        signals.alternating(6), (-1.0) ** np.arange(6) / np.sqrt(6), rtol=1e-15
    )
    np.testing.assert_array_equal(signals.alternating(5, normalize=False), [1, -1, 1, -1, 1])
    # the Nyquist tone is a pure tone at 1/2 cycle per sample
    np.testing.assert_allclose(signals.pure_tone(64, 0.5), signals.alternating(64), atol=1e-15)


def test_pure_tone_definition_and_dft_peak(x64):
    n = 1000
    k = np.arange(n)
    x = signals.pure_tone(n, 0.123, phase=0.4, normalize=False)
    np.testing.assert_allclose(x, np.cos(2 * np.pi * 0.123 * k + 0.4), atol=1e-12)
    # on bin m the DFT has exactly two lines, +-m
    X = np.abs(np.fft.fft(np.asarray(signals.pure_tone(n, 37 / n))))
    assert set(np.flatnonzero(X > 1e-9)) == {37, n - 37}
    # in Hz: 440 Hz at 22050 Hz over 1 s is bin 440
    x = signals.pure_tone(SR, 440.0, sample_rate=SR)
    freqs, P = _power_spectrum(x)
    assert freqs[np.argmax(P)] == 440.0
    assert P[440] / P.sum() > 1 - 1e-9


def test_decaying_tone_definition(x64):
    k = np.arange(512)
    x = signals.decaying_tone(512, 0.05, decay=40.0, phase=1.0, normalize=False)
    np.testing.assert_allclose(x, np.exp(-k / 40) * np.cos(2 * np.pi * 0.05 * k + 1.0), atol=1e-12)
    # seconds with a sample rate; default time constant n / 8 samples
    y = signals.decaying_tone(512, 1102.5, decay=40.0 / SR, sample_rate=SR, normalize=False)
    np.testing.assert_allclose(y, np.exp(-k / 40) * np.cos(2 * np.pi * 0.05 * k), atol=1e-12)
    z = signals.decaying_tone(512, 0.05, normalize=False)
    np.testing.assert_allclose(z[64], np.exp(-1) * np.cos(2 * np.pi * 0.05 * 64), atol=1e-12)


@pytest.mark.parametrize("period, num_harmonics", [(32, None), (32, 5), (32, 16), (31, 15)])
def test_pulse_train_periodicity(x64, period, num_harmonics):
    n = 31 * 32
    x = signals.harmonic_pulse_train(n, period, num_harmonics=num_harmonics)
    k = np.arange(n)
    if num_harmonics is None:
        expected = (k % period == 0).astype(float)
    else:
        h = np.arange(1, num_harmonics + 1)
        expected = np.cos(2 * np.pi * np.outer(k, h) / period).sum(axis=1)
    np.testing.assert_allclose(x, expected / np.linalg.norm(expected), atol=1e-12)
    # circular autocorrelation: maximal (= R(0)) exactly at multiples of the period
    R = np.asarray(jaxfb.autocorrelation(x, n))
    on = k % period == 0
    np.testing.assert_allclose(R[on], 1.0, atol=1e-12)
    assert np.max(R[~on]) < 1 - 0.01
    # DFT supported on multiples of the fundamental bin n / period
    X = np.abs(np.fft.fft(np.asarray(x)))
    assert np.all(X[k % (n // period) != 0] < 1e-9)


# --------------------------------------------------------------------------------------------
# Energy statistics under random Gaussian filterbanks (docs/theory.md, section 2)


def test_energy_variance_of_alternating_and_impulse():
    """Var ||Phi x||^2 = 2/J for the alternating sign (any T), 2/(J T) for the impulse.

    One draw of length-256 Gaussian filterbanks serves every T: the first T taps of each
    filter, times sqrt(256 / T), are exactly a Gaussian filterbank of length T with variance
    1/(J T) (and it costs one compilation of the sampler instead of three).
    """
    J, N, draws, chunks, T_max = 10, 1024, 20_000, 4, 256
    x = jnp.stack([signals.alternating(N), signals.impulse(N)])
    energies = {T: [] for T in (8, 64, 256)}
    for key in jax.random.split(jax.random.key(2024), chunks):
        w = jaxfb.random_filterbank(key, J, T_max, batch_shape=(draws // chunks, 1))
        for T in energies:
            w_T = w[..., :T] * math.sqrt(T_max / T)
            energies[T].append(np.asarray(jaxfb.energy(w_T, x), np.float64))
    for T, chunks_T in energies.items():
        E = np.concatenate(chunks_T)
        for column, truth in ((0, 2 / J), (1, 2 / (J * T))):
            e = E[:, column]
            d = e - e.mean()
            s2 = np.mean(d**2)
            se_var = np.sqrt((np.mean(d**4) - s2**2) / draws)
            assert abs(s2 - truth) < K_SE * se_var, (T, column, s2, truth, se_var)
            assert abs(e.mean() - 1) < K_SE * np.sqrt(s2 / draws)


# --------------------------------------------------------------------------------------------
# Random signals


def _authors_walk(u, p_move):
    """The rule of the authors' ``brownian_noise``, step by step."""
    walk = [0]
    for r in u:
        down = r < p_move and walk[-1] > -1
        up = r > 1 - p_move and walk[-1] < 1
        walk.append(walk[-1] - down + up)
    return np.array(walk, float)


def test_lazy_random_walk_follows_the_authors_rule():
    key, n = jax.random.key(7), 400
    u = np.asarray(jax.random.uniform(key, (n - 1,), jnp.float32))
    x = signals.lazy_random_walk(key, n, normalize=False)
    np.testing.assert_array_equal(x, _authors_walk(u, 0.15))
    unbounded = signals.lazy_random_walk(key, n, bound=None, normalize=False)
    steps = (u > 0.85).astype(int) - (u < 0.15)
    np.testing.assert_array_equal(unbounded, np.concatenate([[0], np.cumsum(steps)]))


@pytest.mark.parametrize("p_stay", [0.5, 0.7])
def test_lazy_random_walk_step_distribution(p_stay):
    M = 200_000  # i.i.d. steps of one unbounded walk
    x = np.asarray(signals.lazy_random_walk(jax.random.key(11), M + 1, p_stay=p_stay, bound=None))
    steps = np.round(np.diff(x) * (1 / np.min(np.abs(np.diff(x))[np.diff(x) != 0])))
    assert set(np.unique(steps)) == {-1.0, 0.0, 1.0}
    for value, p in ((0, p_stay), (1, (1 - p_stay) / 2), (-1, (1 - p_stay) / 2)):
        frac = np.mean(steps == value)
        assert abs(frac - p) < K_SE * math.sqrt(p * (1 - p) / M), (value, frac, p)


def test_bounded_walk_stationary_law_and_vmap():
    """On {-1, 0, 1} the walk's stationary law is uniform and a step is 0 w.p. 0.8."""
    M, n = 20_000, 64  # mixing: the second eigenvalue is 0.85, and 0.85**62 < 1e-4
    keys = jax.random.split(jax.random.key(5), M)
    walk = jax.vmap(lambda k, p: signals.lazy_random_walk(k, n, p_stay=p, normalize=False))
    walks = np.asarray(walk(keys, jnp.full(M, 0.7)))
    assert set(np.unique(walks)) == {-1.0, 0.0, 1.0}
    for state in (-1, 0, 1):
        frac = np.mean(walks[:, -1] == state)
        assert abs(frac - 1 / 3) < K_SE * math.sqrt(2 / 9 / M)
    zero = np.mean(walks[:, -1] == walks[:, -2])
    assert abs(zero - 0.8) < K_SE * math.sqrt(0.16 / M)
    # vmap equals the single calls; p_stay is traced (no recompilation)
    singles = [signals.lazy_random_walk(k, n, normalize=False) for k in keys[:3]]
    np.testing.assert_array_equal(walks[:3], np.stack(singles))
    # a walk that never moves is returned as zeros under vmap (never NaN)
    normalized = jax.vmap(lambda k, p: signals.lazy_random_walk(k, n, p_stay=p))
    x = np.asarray(normalized(keys, jnp.full(M, 0.7).at[0].set(1.0)))
    np.testing.assert_array_equal(x[0], 0.0)
    assert abs(_norm(x[1]) - 1) < 1e-5


def test_white_noise_compiles_once_and_is_deterministic():
    from jaxfb.signals import _elementary

    x = signals.white_noise(jax.random.key(1), 128)
    before = _elementary._white_noise._cache_size()
    np.testing.assert_array_equal(x, signals.white_noise(jax.random.key(1), 128))
    assert not np.allclose(x, signals.white_noise(jax.random.key(2), 128))
    assert _elementary._white_noise._cache_size() == before
    batched = jax.vmap(lambda k: signals.white_noise(k, 128))(jnp.stack([jax.random.key(1)]))
    np.testing.assert_allclose(batched[0], x, rtol=1e-6)


def test_jit_with_traced_frequency():
    tone = jax.jit(lambda f: signals.pure_tone(256, f))
    np.testing.assert_allclose(tone(0.1), signals.pure_tone(256, 0.1), atol=1e-6)


# --------------------------------------------------------------------------------------------
# Argument checks


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: signals.impulse(0), ValueError, "n must be >= 1"),
        (lambda: signals.impulse(8, position=8), ValueError, "position=8 must be < n=8"),
        (lambda: signals.alternating(8.0), TypeError, "n must be a static Python int"),
        (lambda: signals.pure_tone(8, 0.6), ValueError, r"frequency=0.6 must lie in \[0, 0.5\]"),
        (lambda: signals.pure_tone(8, 12000.0, sample_rate=SR), ValueError, "11025"),
        (lambda: signals.decaying_tone(8, 0.1, decay=0.0), ValueError, "decay"),
        (lambda: signals.harmonic_pulse_train(8, 9), ValueError, "period=9 must be <= n=8"),
        (lambda: signals.harmonic_pulse_train(8, 4, num_harmonics=3), ValueError, "num_harm"),
        (lambda: signals.white_noise(jnp.zeros(2), 8), TypeError, "key"),
        (
            lambda: signals.lazy_random_walk(jax.random.key(0), 8, p_stay=1.5),
            ValueError,
            r"p_stay must lie in \[0, 1\]",
        ),
        (lambda: signals.lazy_random_walk(jax.random.key(0), 1), ValueError, "all zeros"),
        (
            lambda: signals.lazy_random_walk(jax.random.key(0), 8, p_stay=1.0),
            ValueError,
            "lazy_random_walk is all zeros",
        ),
    ],
)
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("make", [signals.pure_tone, signals.decaying_tone])
def test_frequency_above_half_without_sample_rate_suggests_hz(make):
    with pytest.raises(ValueError, match=r"frequency=440.*cycles per sample.*sample_rate="):
        make(64, 440)
    with pytest.raises(ValueError, match=r"frequency=0.75") as err:
        make(64, 0.75)
    assert "sample_rate=" in str(err.value)
    with pytest.raises(ValueError) as err:  # with a sample rate the Hz hint does not apply
        make(64, 20_000.0, sample_rate=22050.0)
    assert "cycles per sample" not in str(err.value)
    assert make(64, 440.0, sample_rate=22050.0).shape == (64,)
