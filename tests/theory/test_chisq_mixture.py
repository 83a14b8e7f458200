"""Tests of the exact distribution of the energy (jaxfb.theory.EnergyDistribution, energy_sf).

References independent of the code under test: scipy.stats.chi2 (all eigenvalues equal), the
closed-form hypoexponential law (J = 2, distinct eigenvalues), Imhof's integral by adaptive
quadrature (moderate probabilities), and Monte Carlo with jaxfb.random_filterbank + jaxfb.energy
(KS tests with a fixed key).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.stats
from _support import make_signals

import jaxfb
from jaxfb import theory

K = 5.0  # tolerance in standard errors, fixed in advance


TAIL_PROBS = np.array([0.5, 0.1, 1e-2, 1e-4, 1e-6, 1e-8, 1e-10])


@pytest.mark.parametrize(("J", "T"), [(1, 1), (2, 3), (10, 64), (40, 1024)])
def test_exact_matches_chi2_when_eigenvalues_are_equal(J, T):
    """Unit impulse: ||Phi x||^2 = chi2_{J T} / (J T); relative error < 1e-6 down to 1e-10."""
    n = J * T
    dist = theory.EnergyDistribution(np.full(T, 2.5), J, weight_variance=0.4 / n)  # mean 1
    np.testing.assert_allclose(dist.mean, 1.0, rtol=1e-15)
    t_up = scipy.stats.chi2.isf(TAIL_PROBS, n) / n
    t_lo = scipy.stats.chi2.ppf(TAIL_PROBS, n) / n
    np.testing.assert_allclose(dist.sf(t_up), scipy.stats.chi2.sf(t_up * n, n), rtol=1e-6)
    np.testing.assert_allclose(dist.cdf(t_lo), scipy.stats.chi2.cdf(t_lo * n, n), rtol=1e-6)
    # far beyond: log probabilities keep their relative accuracy
    t_far = scipy.stats.chi2.isf(1e-200, n) / n
    np.testing.assert_allclose(dist.logsf(t_far), scipy.stats.chi2.logsf(t_far * n, n), rtol=1e-9)


def test_exact_for_unit_impulse_signal():
    x = make_signals(256)["impulse"]
    J, T = 10, 64
    t = scipy.stats.chi2.isf(TAIL_PROBS, J * T) / (J * T)
    got = theory.energy_sf(t, x, J, T)
    np.testing.assert_allclose(got, TAIL_PROBS, rtol=1e-6)


def test_exact_matches_hypoexponential_closed_form():
    """J = 2: lambda_k Y_k is exponential (mean 2 lambda_k); distinct rates have a closed form."""
    lam = np.array([3.0, 1.0, 0.5, 0.2])
    J = 2

    def sf(t):
        out = np.zeros_like(t)
        for k in range(lam.size):
            c = np.prod([lam[k] / (lam[k] - lam[j]) for j in range(lam.size) if j != k])
            out += c * np.exp(-t / (2 * lam[k]))
        return out

    dist = theory.EnergyDistribution(lam, J, weight_variance=1.0)
    t = np.array([20.0, 40.0, 80.0, 150.0, 300.0])  # sf from 1e-2 down to 1e-22
    np.testing.assert_allclose(dist.sf(t), sf(t), rtol=1e-9)
    np.testing.assert_allclose(dist.mean, J * lam.sum())
    np.testing.assert_allclose(dist.variance, 2 * J * np.sum(lam**2))


def imhof_sf(t: float, lam: np.ndarray, J: int) -> float:
    """Imhof (1961): P(sum lam_k chi2_J > t) by adaptive quadrature on the imaginary axis."""

    def f(u):
        theta = 0.5 * J * np.sum(np.arctan(lam * u)) - 0.5 * t * u
        rho = np.prod((1 + (lam * u) ** 2) ** (J / 4))
        return np.sin(theta) / (u * rho)

    val, _ = scipy.integrate.quad(f, 0, np.inf, limit=400, epsabs=1e-13, epsrel=1e-12)
    return 0.5 + val / np.pi


def test_exact_matches_imhof_quadrature():
    lam = np.random.default_rng(3).exponential(size=9)
    J = 3
    dist = theory.EnergyDistribution(lam, J, weight_variance=1.0)
    t = dist.mean * np.array([0.4, 0.8, 1.0, 1.3, 1.8])
    ref = np.array([imhof_sf(tt, lam, J) for tt in t])
    np.testing.assert_allclose(dist.sf(t), ref, rtol=1e-8)


def test_saddlepoint_is_close_to_exact(x64):
    J, T = 10, 32
    X = np.stack(list(make_signals(64).values()))
    dist = theory.energy_distribution(X, J, T)
    p = np.array([0.3, 1e-2, 1e-4, 1e-8])[:, None]
    t = dist.isf(p)  # (4, 5)
    exact = dist.sf(t)
    np.testing.assert_allclose(exact, np.broadcast_to(p, exact.shape), rtol=1e-9)
    sp_host = dist.sf(t, method="saddlepoint")
    np.testing.assert_allclose(sp_host, exact, rtol=2e-2)
    # the JAX kernel (float64 here) implements the same approximation, jit-able
    sp_jax = jax.jit(lambda t, x: theory.energy_sf(t, x, J, T, method="saddlepoint"))(t, X)
    assert isinstance(sp_jax, jax.Array)
    np.testing.assert_allclose(np.asarray(sp_jax), sp_host, rtol=1e-6)
    # lower tail, through the cdf
    tl = dist.ppf(p)
    np.testing.assert_allclose(dist.cdf(tl, method="saddlepoint"), dist.cdf(tl), rtol=2e-2)


@pytest.mark.slow
def test_saddlepoint_float32_default():
    x = make_signals(64)["decaying_tone"]
    # thresholds through the mean (the interpolated band) and into both tails
    t = jnp.array([0.3, 0.9, 0.99, 1.0, 1.01, 1.1, 2.0, 3.0], jnp.float32)[:, None]
    got = theory.energy_sf(t, jnp.asarray(x, jnp.float32)[None], 8, 16, method="saddlepoint")
    assert got.dtype == jnp.float32 and got.shape == (8, 1)
    ref = theory.energy_sf(np.asarray(t), x[None], 8, 16)
    np.testing.assert_allclose(np.asarray(got), ref, rtol=3e-3)


def test_exact_matches_simulated_energies_ks(x64):
    """KS test of the exact cdf against energies from random filterbanks (fixed key)."""
    J, T, B = 6, 16, 2000
    sigs = make_signals(64)
    X = np.stack([sigs[k] for k in ("white_noise", "pulse_train", "decaying_tone")])
    w = jaxfb.random_filterbank(jax.random.key(11), J, T, batch_shape=(B, 1))
    e = np.asarray(jaxfb.energy(w, jnp.asarray(X)))  # (B, 3)
    dist = theory.energy_distribution(X, J, T)
    for i in range(X.shape[0]):
        d_i = theory.EnergyDistribution(dist.eigenvalues[i], J)
        res = scipy.stats.kstest(e[:, i], d_i.cdf)
        assert res.pvalue > 1e-3, (i, res)


def test_sampler_matches_exact_distribution():
    """sample(): KS against the exact cdf, mean within K SE; shapes; no recompile; O(T) cost."""
    J, T, B = 5, 16, 2000
    sigs = make_signals(64)
    X = np.stack([sigs["decaying_tone"], sigs["impulse"]])
    dist = theory.energy_distribution(X, J, T)
    e = np.asarray(dist.sample(jax.random.key(5), (B,)))
    assert e.shape == (B, 2) and e.dtype == np.float32  # default dtype without x64
    for i in range(2):
        d_i = theory.EnergyDistribution(dist.eigenvalues[i], J)
        assert scipy.stats.kstest(e[:, i], d_i.cdf).pvalue > 1e-3
        assert abs(e[:, i].mean() - dist.mean[i]) < K * np.sqrt(dist.variance[i] / B)
    # the impulse is exactly chi2_{J T} / (J T)
    assert scipy.stats.kstest(e[:, 1] * J * T, scipy.stats.chi2(J * T).cdf).pvalue > 1e-3
    # the same shapes for signals 64 times longer: same compiled sampler (cost independent of N)
    from jaxfb.theory import _chisq_mixture

    size = _chisq_mixture._sample._cache_size()
    big = np.stack([make_signals(4096)["white_noise"], make_signals(4096)["impulse"]])
    e_big = theory.energy_distribution(big, J, T).sample(jax.random.key(6), (B,))
    assert e_big.shape == (B, 2)
    assert _chisq_mixture._sample._cache_size() == size


@pytest.mark.slow
@pytest.mark.parametrize("J", [1, 2, 3, 41])
def test_chi2_draws_of_the_sampler(J):
    """One eigenvalue: the sampler's chi2_J draws (both code paths) against scipy (KS)."""
    d = theory.EnergyDistribution(np.ones(1), J, weight_variance=1.0)
    e = np.asarray(d.sample(jax.random.key(J), (20000,)))
    assert scipy.stats.kstest(e, scipy.stats.chi2(J).cdf).pvalue > 1e-3


@pytest.mark.slow
def test_exact_matches_simulation_at_paper_size(x64):
    """KS of the exact cdf against simulated filterbanks at N = 1024, J = 10, T = 256."""
    J, T, B = 10, 256, 2000
    sigs = make_signals(1024)
    X = np.stack([sigs[k] for k in ("white_noise", "decaying_tone")])
    w = jaxfb.random_filterbank(jax.random.key(12), J, T, batch_shape=(B, 1))
    e = np.asarray(jaxfb.energy(w, jnp.asarray(X)))
    dist = theory.energy_distribution(X, J, T)
    for i in range(X.shape[0]):
        d_i = theory.EnergyDistribution(dist.eigenvalues[i], J)
        assert scipy.stats.kstest(e[:, i], d_i.cdf).pvalue > 1e-3


def test_quantiles_invert_the_cdf():
    J, T = 10, 64
    n = J * T
    d = theory.energy_distribution(make_signals(1024)["impulse"], J, T)
    q = np.array([1e-9, 0.05, 0.5, 0.95, 1 - 1e-9])
    np.testing.assert_allclose(d.ppf(q), scipy.stats.chi2.ppf(q, n) / n, rtol=1e-10)
    p = np.array([1e-12, 1e-6, 0.05])
    np.testing.assert_allclose(d.isf(p), scipy.stats.chi2.isf(p, n) / n, rtol=1e-10)
    assert d.ppf(0.0) == 0.0 and d.ppf(1.0) == np.inf
    # energy_quantile broadcasts levels against signals
    X = np.stack(list(make_signals(128).values()))
    tq = theory.energy_quantile(np.array([[0.05], [0.95]]), X, 4, 16)
    assert tq.shape == (2, 5)
    dX = theory.energy_distribution(X, 4, 16)
    np.testing.assert_allclose(dX.cdf(tq), np.broadcast_to([[0.05], [0.95]], (2, 5)), rtol=1e-9)


def test_moments_agree_with_closed_forms(x64):
    X = np.stack(list(make_signals(64).values()))
    for init in ("gaussian", "he_normal"):
        d = theory.energy_distribution(X, 7, 20, init=init)
        np.testing.assert_allclose(d.mean, np.asarray(theory.energy_mean(X, 7, 20, init=init)))
        np.testing.assert_allclose(
            d.variance, np.asarray(theory.energy_variance(X, 7, 20, init=init)), rtol=1e-10
        )
    # eigenvalues: rounding noise of the zero eigenvalues is set to exactly zero
    d = theory.energy_distribution(make_signals(64)["alternating"], 3, 8)
    assert np.count_nonzero(d.eigenvalues) == 1


def test_edge_thresholds():
    d = theory.energy_distribution(make_signals(32)["white_noise"], 4, 8)
    np.testing.assert_array_equal(d.sf([-1.0, 0.0, np.inf]), [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(d.cdf([-1.0, 0.0, np.inf]), [0.0, 0.0, 1.0])


def test_errors_name_the_argument():
    x = make_signals(32)["white_noise"]
    with pytest.raises(ValueError, match="init"):
        theory.energy_distribution(x, 4, 8, init="uniform")
    with pytest.raises(ValueError, match="x contains an all-zero"):
        theory.energy_sf(1.0, np.zeros(32), 4, 8)
    with pytest.raises(ValueError, match="length"):
        theory.energy_sf(1.0, x, 4, 33)
    with pytest.raises(ValueError, match="num_filters"):
        theory.energy_distribution(x, 0, 8)
    with pytest.raises(ValueError, match="method"):
        theory.energy_sf(1.0, x, 4, 8, method="imhof")
    with pytest.raises(ValueError, match="t has 1 NaN"):
        theory.energy_sf(np.nan, x, 4, 8)
    with pytest.raises(ValueError, match="q must lie in"):
        theory.energy_quantile(1.5, x, 4, 8)
    with pytest.raises(ValueError, match="x has 1 non-finite"):
        theory.energy_sf(1.0, np.where(np.arange(32) == 3, np.inf, x), 4, 8)
    with pytest.raises(TypeError, match="host"):
        jax.jit(lambda x: theory.energy_sf(1.0, x, 4, 8))(jnp.asarray(x))
    with pytest.raises(ValueError, match="eigenvalues"):
        theory.EnergyDistribution(np.zeros(4), 3)
