"""Estimates from kept draws: quantile, variance and ratio standard errors."""

import math

import numpy as np

from jaxfb.montecarlo._estimates import quantile_se, ratio_of_means, variance_se
from jaxfb.reproduce._stats import select


def test_quantile_and_ratio_standard_errors():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4000)
    q, se = quantile_se(x, 0.95)
    assert abs(q - 1.6449) < 5 * se and 0.01 < se < 0.1
    a, b = 1 + 0.1 * rng.standard_normal(4000), 2 + 0.1 * rng.standard_normal(4000)
    r, r_se = ratio_of_means(a, b)
    assert abs(r - 2) < 5 * r_se
    tab = {"s": np.array(["a", "c"]), "T": np.array([8, 16])}
    assert select(tab, s="c", T=16) == 1


def test_quantile_se_is_nan_where_the_interval_leaves_the_sample():
    """k_+ = n q + 1.96 sqrt(n q (1 - q)) must be <= n (and k_- >= 1) for an interval."""
    rng = np.random.default_rng(1)
    for n, q in ((200, 0.99), (40, 0.95), (200, 0.01)):
        k_lo = n * q - 1.959963984540054 * math.sqrt(n * q * (1 - q))
        k_hi = n * q + 1.959963984540054 * math.sqrt(n * q * (1 - q))
        assert math.floor(k_lo) < 1 or math.ceil(k_hi) > n
        x = rng.standard_normal(n)
        value, se = quantile_se(x, q)
        assert value == np.quantile(x, q) and math.isnan(se)
        _, se2 = quantile_se(rng.standard_normal((3, n)), q, axis=1)
        assert se2.shape == (3,) and np.all(np.isnan(se2))
    _, se = quantile_se(rng.standard_normal(1000), 0.99)
    assert 0 < se < 1


def test_variance_se_matches_the_spread_of_sample_variances():
    """Over 400 independent samples of chi2_10/10 (n = 200), the standard deviation of s^2 and
    the mean reported standard error agree, and s^2 is within 5 SE of the truth 2/10."""
    rng = np.random.default_rng(2)
    x = rng.chisquare(10, size=(400, 200)) / 10
    var, se = variance_se(x, axis=1)
    assert var.shape == se.shape == (400,)
    spread = var.std(ddof=1)
    assert abs(se.mean() / spread - 1) < 5 / math.sqrt(2 * 399)  # SE of a std over 400 values
    assert abs(var.mean() - 0.2) < 5 * spread / math.sqrt(400)
