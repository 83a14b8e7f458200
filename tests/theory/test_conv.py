"""Frame-bound theory of random conv layers: block laws against their definitions, the exact
``T = n`` law against the single-channel law and against Monte Carlo, the keyword dispatch."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from scipy import integrate, stats

import jaxfb
from jaxfb import theory
from jaxfb.theory import _conv, _frame_model

# ---------------------------------------------------------------------------------------------
# one block: P(eig in (a, b]) against the definition


def _nodes(J, p, picks=(0.2, 0.45, 0.7)):
    grid = _conv._grid(J, p)
    x = grid.x.reshape(-1)
    return grid, x, [int(f * x.size) for f in picks]


@pytest.mark.parametrize("J", [1, 4, 9])
def test_one_channel_blocks_are_chi2_and_gamma(J):
    """p = 1: a real block is chi2_J, a complex one Gamma(J) (unit-variance Wishart)."""
    grid, x, idx = _nodes(J, 1)
    real, comp = _conv._Real(J, 1, grid), _conv._Complex(J, 1, grid)
    ia, ib = np.array(idx[:2]), np.array(idx[1:])
    ref_r = stats.chi2(J).cdf(x[ib]) - stats.chi2(J).cdf(x[ia])
    ref_c = stats.gamma(J).cdf(x[ib]) - stats.gamma(J).cdf(x[ia])
    np.testing.assert_allclose(np.exp(real.log_inside(ia, ib)), ref_r, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(np.exp(comp.log_inside(ia, ib)), ref_c, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(
        np.exp(comp.log_inside(ia, None)), stats.gamma(J).sf(x[ia]), rtol=1e-9, atol=1e-13
    )


def _two_eigenvalue_probability(a, b, J, beta):
    """P(both eigenvalues of a 2 x 2 Wishart in (a, b]) from the joint eigenvalue density."""
    if beta == 2:

        def dens(y, x):
            return (x * y) ** (J - 2) * np.exp(-x - y) * (x - y) ** 2

    else:

        def dens(y, x):
            return (x * y) ** ((J - 3) / 2) * np.exp(-(x + y) / 2) * abs(x - y)

    def square(lo, hi):  # twice the triangle y < x: no kink of |x - y| inside the domain
        return 2 * integrate.dblquad(dens, lo, hi, lo, lambda x: x, epsabs=1e-14, epsrel=1e-12)[0]

    return square(a, b) / square(0.0, 30.0 + 4 * J)


@pytest.mark.parametrize(
    ("J", "beta"), [(3, 1), pytest.param(6, 1, marks=pytest.mark.slow), (2, 2), (5, 2)]
)
def test_two_channel_blocks_against_joint_density(J, beta):
    """p = 2: the Pfaffian (real) and Fredholm determinant (complex) against a 2-D integral."""
    grid, x, idx = _nodes(J, 2)
    block = (_conv._Real if beta == 1 else _conv._Complex)(J, 2, grid)
    for ia, ib in [(idx[0], idx[1]), (idx[1], idx[2])]:
        got = float(np.exp(block.log_inside(np.array([ia]), np.array([ib]))[0]))
        ref = _two_eigenvalue_probability(x[ia], x[ib], J, beta)
        assert abs(got - ref) < 1e-8, (ia, ib, got, ref)


# ---------------------------------------------------------------------------------------------
# the law of (A, B, kappa)


@pytest.mark.parametrize(("J", "n"), [(5, 16), (12, 33)])
def test_single_channel_law_matches_frame_bound_distribution(J, n):
    """C = d = 1, T = n: the matrix machinery reproduces the exact single-channel law."""
    law = _conv._law(J, n, n, 1, 1)
    ref = theory.frame_bound_distribution(J, n)
    assert law.exact
    np.testing.assert_allclose(law.mean_lower(), ref.mean_lower(), rtol=1e-10)
    np.testing.assert_allclose(law.mean_upper(), ref.mean_upper(), rtol=1e-10)
    np.testing.assert_allclose(law.mean_kappa(), ref.mean_kappa(), rtol=1e-7)


def test_single_channel_predictor_is_the_single_channel_model():
    """C = d = 1, T < n: the block's time scale is 1, so the counts are the single-channel model's
    level-dependent counts (docs/theory.md), up to their interpolation, and so are E[A], E[B]."""
    for J, T, n in ((16, 16, 128), (8, 32, 1024), (5, 8, 64)):
        law = _conv._law(J, T, n, 1, 1)
        assert not law.exact
        grid, _, _, log_sa, log_fb = law._tables()
        y = grid.x.reshape(-1) / J
        for m, log_p, side, edge in (
            (law._m[0], log_sa, "min", _conv._MIN_EDGE),
            (law._m[1], log_fb, "max", _conv._EDGE),
        ):
            for q in (0.1, 0.5, 0.9):  # quantiles of A (of B)
                i = int(np.argmin(np.abs(np.exp(log_p) - q)))
                ref = _frame_model.effective_count(y[i], J, T, n, side=side, edge=edge)
                assert abs(m[i] / ref - 1) < 0.01, (J, T, n, side, q, m[i], ref)
        lo, hi = theory.expected_frame_bounds(J, T, n)
        assert abs(law.mean_lower() / lo - 1) < 1e-3 and abs(law.mean_upper() / hi - 1) < 1e-3


def test_counts_never_exceed_the_grid():
    """Coarse grids (T/d = 16, n/d = 32, 15 interior blocks): a block's extreme eigenvalue
    decorrelates faster than a Littlewood-Paley value, but never below independence."""
    law = _conv._law(60, 48, 96, 5, 3)
    law.mean_lower()
    for m in law._m:
        assert np.all(m <= 15 + 1e-9) and np.all(m >= 1.0), (m.min(), m.max())
    assert law.counts[1] <= 15 and law.counts[2] <= 15


def test_two_tap_polyphase_components_are_finite():
    """T / d = 2: the single-channel interior is empty; zero counts give no factor (no NaN)."""
    law = _conv.ConvFrameBoundLaw(40, 8, 64, 2, 4)
    vals = law.mean_lower(), law.mean_upper(), law.mean_kappa()
    assert np.all(np.isfinite(vals)) and 0 < vals[0] < vals[1], vals
    assert all(np.all(m >= 0) for m in law._m)


def test_quadrature_converges():
    """Halving the panel width changes nothing at 1e-9 (relative)."""
    J, T, n, C, d = 12, 8, 8, 2, 2
    coarse = _conv._law(J, T, n, C, d)
    vals = coarse.mean_lower(), coarse.mean_upper(), coarse.mean_kappa()
    old = _conv._PANEL
    try:
        _conv._PANEL = old / 2
        fine = _conv.ConvFrameBoundLaw(J, T, n, C, d)
        ref = fine.mean_lower(), fine.mean_upper(), fine.mean_kappa()
    finally:
        _conv._PANEL = old
    np.testing.assert_allclose(vals, ref, rtol=1e-9)


def _monte_carlo(J, C, T, n, d, draws, seed):
    w = jaxfb.random_filterbank(
        jax.random.key(seed), J, T, in_channels=C, batch_shape=(draws,), dtype=np.float64
    )
    A, B = jaxfb.conv_frame_bounds(w, n, stride=d)
    A, B = np.asarray(A), np.asarray(B)
    return A, B, B / A


@pytest.mark.parametrize(
    ("J", "C", "T", "n", "d"),
    [
        (12, 3, 16, 16, 1),
        (14, 2, 16, 16, 2),
        pytest.param(40, 4, 32, 32, 4, marks=pytest.mark.slow),
        pytest.param(24, 8, 24, 24, 1, marks=pytest.mark.slow),
    ],
)
def test_exact_law_against_monte_carlo(x64, J, C, T, n, d):
    """T = n: E[A], E[B], E[kappa] within 5 standard errors of 2000 draws."""
    A, B, kappa = _monte_carlo(J, C, T, n, d, 2000, seed=J * 100 + C)
    law = theory.conv_frame_bound_law(J, n, length=T, in_channels=C, stride=d)
    for sample, truth in ((A, law.mean_lower()), (B, law.mean_upper()), (kappa, law.mean_kappa())):
        se = sample.std() / math.sqrt(sample.size)
        assert abs(sample.mean() - truth) < 5 * se, (sample.mean(), truth, se)


@pytest.mark.parametrize(
    ("J", "C", "T", "n", "d"),
    [
        (12, 2, 8, 48, 2),  # p = 4 blocks, polyphase length 4, 24 blocks
        pytest.param(24, 3, 16, 64, 4, marks=pytest.mark.slow),  # p = 12, length 4
    ],
)
def test_predictor_at_short_polyphase_components(x64, J, C, T, n, d):
    """T / d = 4 (points not used to build the predictor): E[A], E[B], E[kappa] within the
    documented goal, 5 % of the Monte Carlo mean, plus 5 standard errors of 4000 draws."""
    w = jaxfb.equivalent_filterbank(
        jax.random.key(J * 1000 + C), J, T, in_channels=C, batch_shape=(4000,), dtype=np.float64
    )
    A, B = (np.asarray(v) for v in jaxfb.conv_frame_bounds(w, n, stride=d))
    law = theory.conv_frame_bound_law(J, n, length=T, in_channels=C, stride=d)
    assert not law.exact
    for sample, pred in ((A, law.mean_lower()), (B, law.mean_upper()), (B / A, law.mean_kappa())):
        mean, se = sample.mean(), sample.std() / math.sqrt(sample.size)
        assert abs(pred - mean) < 0.05 * mean + 5 * se, (mean, pred, se)


def test_exact_law_distribution_of_lower_bound(x64):
    """KS test of A's law (C = 2, d = 2, T = n = 12) at the grid nodes in its bulk."""
    J, C, d, n = 9, 2, 2, 12
    A, _, _ = _monte_carlo(J, C, n, n, d, 2000, seed=7)
    law = _conv._law(J, n, n, C, d)
    grid, _, _, log_sa, _ = law._tables()
    x = grid.x.reshape(-1) / (J * d)
    cdf = -np.expm1(log_sa)
    emp = np.searchsorted(np.sort(A), x) / A.size
    inside = (cdf > 1e-3) & (cdf < 1 - 1e-3)
    ks = np.max(np.abs(emp[inside] - cdf[inside]))
    assert ks < 1.63 / math.sqrt(A.size) * 1.2  # 1% level of the KS statistic, with margin


def test_singular_layers():
    """J < d C: every block is singular, A = 0 and kappa = inf; J < d C + 2: E[kappa] = inf."""
    lo, hi = theory.expected_frame_bounds(7, 8, 8, in_channels=4, stride=2)
    assert float(lo) == 0.0 and float(hi) > 0
    assert math.isinf(theory.expected_condition_number(7, 8, 8, in_channels=4, stride=2))
    assert math.isinf(theory.expected_condition_number(9, 8, 8, in_channels=4, stride=2))
    assert math.isfinite(theory.expected_condition_number(10, 8, 8, in_channels=4, stride=2))


def test_marchenko_pastur_is_the_large_layer_limit():
    """E[A], E[B] approach the Marchenko-Pastur edges as J and C grow with C/J fixed."""
    errs = []
    for J, C in ((16, 4), (64, 16), (256, 64)):
        lo, hi = theory.expected_frame_bounds(J, 2, 2, in_channels=C)
        mp_lo, mp_hi = theory.marchenko_pastur_edges(J, in_channels=C)
        errs.append((abs(lo / mp_lo - 1), abs(hi / mp_hi - 1)))
    errs = np.array(errs)
    assert np.all(np.diff(errs, axis=0) < 0), errs
    assert np.all(errs[-1] < 0.06), errs
    lo, hi = theory.marchenko_pastur_edges(64, in_channels=16, stride=2)
    assert (float(lo), float(hi)) == ((1 - math.sqrt(0.5)) ** 2 / 2, (1 + math.sqrt(0.5)) ** 2 / 2)


# ---------------------------------------------------------------------------------------------
# the keyword dispatch


def test_default_keywords_keep_single_channel_results():
    args = ([8, 40], [16, 64], [64, 64])
    base = theory.expected_frame_bounds(*args)
    same = theory.expected_frame_bounds(*args, in_channels=1, stride=1)
    np.testing.assert_array_equal(base.lower, same.lower)
    np.testing.assert_array_equal(base.upper, same.upper)
    k = theory.expected_condition_number(*args)
    np.testing.assert_array_equal(k, theory.expected_condition_number(*args, in_channels=1))


def test_keywords_broadcast():
    lo, hi = theory.expected_frame_bounds(24, 16, 16, in_channels=[1, 2], stride=[2, 1])
    assert lo.shape == hi.shape == (2,)
    assert lo[0] == theory.conv_frame_bound_law(24, 16, stride=2).mean_lower()


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"stride": 3}, ValueError, "stride=3 must divide n=16"),
        ({"stride": 4, "length": 6}, ValueError, "stride=4 must divide length=6"),
        ({"in_channels": 0}, ValueError, "in_channels must be >= 1"),
        ({"in_channels": True}, TypeError, "in_channels must be an integer"),
        ({"stride": 2.0}, TypeError, "stride must be an integer"),
    ],
)
def test_bad_keywords(kwargs, err, match):
    length = kwargs.pop("length", 16)
    with pytest.raises(err, match=match):
        theory.expected_frame_bounds(8, length, 16, **kwargs)
    with pytest.raises(err, match=match.split("=")[0]):
        theory.expected_condition_number(8, length, 16, **kwargs)


def test_law_bad_input():
    with pytest.raises(ValueError, match="stride=2 must divide length=3"):
        theory.conv_frame_bound_law(8, 16, length=3, stride=2)
    with pytest.raises(ValueError, match="length=32 must be <= n=16"):
        theory.conv_frame_bound_law(8, 16, length=32)
    with pytest.raises(TypeError, match="in_channels must be a Python int"):
        theory.conv_frame_bound_law(8, 16, in_channels=2.0)
    with pytest.raises(ValueError, match="num_filters must be an integer >= 1"):
        theory.marchenko_pastur_edges(0, in_channels=2)
