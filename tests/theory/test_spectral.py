"""The host-side spectral closed forms (jaxfb.theory._spectral) against jaxfb.theory's kernels."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxfb import signals, theory
from jaxfb.theory import _spectral


def _signals(n):
    key = jax.random.key(3)
    walk = np.asarray(signals.lazy_random_walk(key, n), np.float64)
    return np.stack([np.eye(1, n)[0], walk, np.asarray(signals.alternating(n), np.float64)])


def test_host_bounds_match_jaxfb_theory():
    """The host-side closed forms equal jaxfb.theory's kernels (float32 there)."""
    xs = _signals(128)
    J, T = 10, 24
    lam = _spectral.gram_eigenvalues(xs, T)
    ref_lam = np.asarray(theory.gram_eigenvalues(jnp.asarray(xs), T))
    np.testing.assert_allclose(lam, ref_lam, rtol=1e-4, atol=1e-4 * lam.max())
    for p in (0.05, 0.01):
        mine = _spectral.deviation_bounds(lam, J, p)
        x32 = jnp.asarray(xs, jnp.float32)
        ref = {
            "cantelli": theory.cantelli_deviation(x32, J, T, p),
            "paper": theory.chernoff_deviation(x32, J, T, p, variant="paper"),
            "laurent_massart": theory.chernoff_deviation(x32, J, T, p, variant="laurent_massart"),
            "exact_chernoff": theory.chernoff_deviation(x32, J, T, p, variant="exact"),
        }
        for k, v in ref.items():
            np.testing.assert_allclose(mine[k], np.asarray(v), rtol=2e-4, err_msg=k)
    # impulse, J = 10, T = 64, p = 0.01 -> the paper's alpha 0.127 (docs/theory.md)
    alpha = _spectral.deviation_bounds(_spectral.gram_eigenvalues(np.eye(1, 1024), 64), 10, 0.01)
    assert round(float(alpha["paper"][0]), 3) == 0.127


def test_saddlepoint_density_matches_exact_cdf():
    for lam in _spectral.gram_eigenvalues(_signals(256), 32):
        dist = theory.EnergyDistribution(lam, 10)
        t = np.asarray(dist.ppf(np.array([0.02, 0.2, 0.5, 0.8, 0.98])))
        h = 1e-5 * float(np.sqrt(dist.variance))
        exact = (dist.cdf(t + h) - dist.cdf(t - h)) / (2 * h)
        np.testing.assert_allclose(_spectral.energy_density(lam, 10, t), exact, rtol=2e-3)


def test_bounds_at_levels_checks_each_bound_against_the_exact_law():
    """The exact quantile sits where the exact tail equals p; the tail at each alpha is
    jaxfb.theory.energy_sf at (1 + alpha) ||x||^2."""
    xs, J, T = _signals(64), 6, 16
    lam = _spectral.gram_eigenvalues(xs, T)
    rows = _spectral.bounds_at_levels(lam, J, (0.05, 0.01))
    dist = theory.EnergyDistribution(lam, J)
    mean = np.asarray(dist.mean)
    for p, row in rows.items():
        np.testing.assert_allclose(dist.sf((1 + row["exact_quantile"]) * mean), p, rtol=1e-6)
        for k in _spectral.BOUNDS:
            alpha = _spectral.deviation_bounds(lam, J, p)[k]
            np.testing.assert_array_equal(row[k], alpha)
            tail = dist.sf((1 + alpha) * mean)
            np.testing.assert_allclose(row[f"{k}_exceedance_exact"], tail, rtol=1e-12)
        assert np.all(row["cantelli_exceedance_exact"] <= p)  # a valid bound
