"""Tests of jaxfb.theory deviation bounds (Cantelli, Chernoff variants).

Closed forms are checked against the formulas of docs/theory.md evaluated with NumPy eigenvalues
of explicit circulant Gram matrices (float64); validity against exact tail probabilities (the
exact inversion, itself checked against scipy's chi2 in tests/theory/test_chisq_mixture.py, and
scipy directly for the impulse).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
import scipy.stats
from _support import circulant_gram, make_signals

from jaxfb import theory

LEVELS = np.array([0.05, 1e-2, 1e-3, 1e-4, 1e-6])


# One canonical configuration shared by the exact tests, so compiled kernels are reused:
# five signals of length 32 against five levels (batch (5, 5): levels x signals).
N0, J0, T0 = 32, 6, 12
SIGNALS = make_signals(N0)
X0 = np.stack(list(SIGNALS.values()))
P0 = LEVELS[:, None]


def spec_quantities(x: np.ndarray, J: int, T: int):
    lam = np.linalg.eigvalsh(circulant_gram(x, T))
    return lam, lam.max(), np.sum(lam**2), J * T * np.sum(x**2)


def test_laurent_massart_and_paper_formulas(x64):
    for T in (T0, N0):
        lm_up = np.asarray(theory.chernoff_deviation(X0, J0, T, P0))
        lm_lo = np.asarray(theory.chernoff_deviation(X0, J0, T, P0, tail="lower"))
        paper = np.asarray(theory.chernoff_deviation(X0, J0, T, P0, variant="paper"))
        assert lm_up.shape == (LEVELS.size, len(SIGNALS))
        ell = np.log(1 / LEVELS)
        for i, x in enumerate(X0):
            _, lmax, norm2, denom = spec_quantities(x, J0, T)
            lm = 2 * (np.sqrt(J0 * ell * norm2) + ell * lmax) / denom
            np.testing.assert_allclose(lm_up[:, i], lm, rtol=1e-10)
            lm = 2 * np.sqrt(J0 * ell * norm2) / denom
            np.testing.assert_allclose(lm_lo[:, i], lm, rtol=1e-10)
            ref = (ell * lmax + np.sqrt(ell**2 * lmax**2 + 2 * ell * J0 * norm2)) / denom
            np.testing.assert_allclose(paper[:, i], ref, rtol=1e-10)


def test_cantelli_formula(x64):
    for init in ("gaussian", "uniform", "pytorch"):
        got = np.asarray(theory.cantelli_deviation(X0, J0, T0, P0, init=init))
        var = np.asarray(theory.energy_variance(X0, J0, T0, init=init))
        mean = np.asarray(theory.energy_mean(X0, J0, T0, init=init))
        np.testing.assert_allclose(got, np.sqrt((1 / P0 - 1) * var) / mean, rtol=1e-12)
        if init == "gaussian":  # the paper's alpha for a unit impulse: sqrt((1/p - 1) 2/(J T))
            np.testing.assert_allclose(got[0, 0], np.sqrt(19 * 2 / (J0 * T0)), rtol=1e-12)


def _chernoff_bound(lam: np.ndarray, J: int, t_rel: float, upper: bool) -> float:
    """``inf_s exp(K(s) - s t)`` for ``X = sum lam Y / (J sum lam)`` by scalar minimisation."""
    a = lam / lam.sum()
    b = 2 * a / J
    s_max = 1 / b.max()

    def obj(s):
        return -0.5 * J * np.sum(np.log1p(-b * s)) - s * t_rel

    opts = {"xatol": 1e-12}
    if upper:
        res = scipy.optimize.minimize_scalar(
            obj, bounds=(0, s_max * (1 - 1e-12)), method="bounded", options=opts
        )
    else:  # s = -expm1(u) covers (-inf, 0)
        res = scipy.optimize.minimize_scalar(
            lambda u: obj(-np.expm1(u)), bounds=(0, 40), method="bounded", options=opts
        )
    return np.exp(res.fun)


def test_exact_chernoff_solves_the_legendre_equation(x64):
    up = np.asarray(theory.chernoff_deviation(X0, J0, T0, P0, variant="exact"))
    lo = np.asarray(theory.chernoff_deviation(X0, J0, T0, P0, variant="exact", tail="lower"))
    for i, (name, x) in enumerate(SIGNALS.items()):
        lam = np.linalg.eigvalsh(circulant_gram(x, T0))
        lam = lam[lam > 1e-12 * lam.max()]
        for k, p in enumerate(LEVELS):
            got_up = _chernoff_bound(lam, J0, 1 + up[k, i], True)
            np.testing.assert_allclose(got_up, p, rtol=1e-6, err_msg=f"{name} upper p={p}")
            if lo[k, i] < 1:
                got_lo = _chernoff_bound(lam, J0, 1 - lo[k, i], False)
                np.testing.assert_allclose(got_lo, p, rtol=1e-6, err_msg=f"{name} lower p={p}")


CONFIGS = [
    pytest.param(4, 16, 64, marks=pytest.mark.slow),
    (10, 64, 128),
    pytest.param(40, 32, 64, marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("J", "T", "N"), CONFIGS)
def test_valid_bounds_bound_the_exact_exceedance(x64, J, T, N):
    """Cantelli, Laurent-Massart and exact Chernoff hold for p = 0.05 .. 1e-6, both tails."""
    sigs = make_signals(N)
    X = np.stack(list(sigs.values()))
    P = LEVELS[:, None]
    up = {
        "cantelli": theory.cantelli_deviation(X, J, T, P),
        "laurent_massart": theory.chernoff_deviation(X, J, T, P),
        "exact": theory.chernoff_deviation(X, J, T, P, variant="exact"),
    }
    lo = {
        "cantelli": up["cantelli"],
        "laurent_massart": theory.chernoff_deviation(X, J, T, P, tail="lower"),
        "exact": theory.chernoff_deviation(X, J, T, P, variant="exact", tail="lower"),
    }
    dist = theory.energy_distribution(X, J, T)
    mean = dist.mean  # = ||x||^2 = 1
    np.testing.assert_allclose(mean, 1.0, rtol=1e-12)
    for name in up:
        a_up, a_lo = np.asarray(up[name]), np.asarray(lo[name])
        assert a_up.shape == (LEVELS.size, len(sigs))
        sf = dist.sf((1 + a_up) * mean)
        cdf = dist.cdf(np.maximum(1 - a_lo, 0) * mean)
        assert np.all(sf <= P), (name, sf / P)
        assert np.all(cdf <= P), (name, cdf / P)
    # the exact Chernoff bound is the tightest valid Chernoff-type bound
    assert np.all(np.asarray(up["exact"]) <= np.asarray(up["laurent_massart"]))
    assert np.all(np.asarray(lo["exact"]) <= np.asarray(lo["laurent_massart"]))
    # and it is not vacuous: within a factor 2.5 of the exact quantile deviation at p = 1e-6
    q = dist.isf(1e-6) / mean - 1
    assert np.all(np.asarray(up["exact"])[-1] <= 2.5 * q)


def test_paper_variant_is_not_a_bound_below_005(x64):
    """Unit impulse, J = 10, T = 64, p = 0.01: alpha = 0.127, exceedance 0.0137 (docs/theory.md)."""
    J, T, p = 10, 64, 0.01
    x = make_signals(1024)["impulse"]
    alpha = float(theory.chernoff_deviation(x, J, T, p, variant="paper"))
    ell = np.log(1 / p)
    np.testing.assert_allclose(alpha, (ell + np.sqrt(ell**2 + 2 * ell * J * T)) / (J * T))
    assert abs(alpha - 0.127) < 5e-4
    exceed = float(theory.energy_sf(1 + alpha, x, J, T))  # ||x||^2 = 1
    # independent check: ||Phi x||^2 = chi2_{J T} / (J T) for a unit impulse
    np.testing.assert_allclose(exceed, scipy.stats.chi2.sf(J * T * (1 + alpha), J * T), rtol=1e-9)
    assert exceed > p
    assert abs(exceed - 0.0137) < 5e-4
    # at the paper's p = 0.05 it happens to hold
    a05 = float(theory.chernoff_deviation(x, J, T, 0.05, variant="paper"))
    assert float(theory.energy_sf(1 + a05, x, J, T)) < 0.05
    # the valid default at the same level does bound it
    a_lm = float(theory.chernoff_deviation(x, J, T, p))
    assert float(theory.energy_sf(1 + a_lm, x, J, T)) <= p


def test_lengths_sequence_and_broadcasting(x64):
    lengths = (4, T0)
    seq = np.asarray(theory.chernoff_deviation(X0, J0, lengths, P0, variant="exact"))
    assert seq.shape == (LEVELS.size, 5, 2)
    one = np.asarray(theory.chernoff_deviation(X0, J0, T0, P0, variant="exact"))
    np.testing.assert_allclose(seq[..., 1], one, rtol=1e-13)
    c = np.asarray(theory.cantelli_deviation(X0, J0, lengths, P0))
    assert c.shape == (LEVELS.size, 5, 2)
    np.testing.assert_allclose(c[..., 1], np.asarray(theory.cantelli_deviation(X0, J0, T0, P0)))
    # alpha decreases in p, for every signal and length
    assert np.all(np.diff(seq, axis=0) > 0)
    # a scalar level broadcasts against the signals
    a = np.asarray(theory.chernoff_deviation(X0, J0, T0, 0.01))
    np.testing.assert_allclose(a, np.asarray(theory.chernoff_deviation(X0, J0, T0, P0))[1])


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["laurent_massart", "exact", "paper"])
def test_float32_matches_float64(variant):
    x = make_signals(64)["decaying_tone"]
    a32 = theory.chernoff_deviation(jnp.asarray(x, jnp.float32), 8, 16, 0.01, variant=variant)
    assert a32.dtype == jnp.float32
    with jax.enable_x64(True):
        a64 = theory.chernoff_deviation(x, 8, 16, 0.01, variant=variant)
    np.testing.assert_allclose(float(a32), float(a64), rtol=1e-4)


def test_jit(x64):
    f = jax.jit(lambda x, p: theory.chernoff_deviation(x, J0, T0, p, variant="exact"))
    ref = np.asarray(theory.chernoff_deviation(X0, J0, T0, P0, variant="exact"))
    np.testing.assert_allclose(np.asarray(f(jnp.asarray(X0), jnp.asarray(P0))), ref, rtol=1e-13)


def test_no_recompile_for_new_values(x64):
    from jaxfb.theory import _bounds

    theory.chernoff_deviation(X0, J0, T0, P0, variant="exact")
    size = _bounds._chernoff_kernel._cache_size()
    theory.chernoff_deviation(2 * X0, J0 + 3, T0, P0 / 2, variant="exact", tail="lower")
    assert _bounds._chernoff_kernel._cache_size() == size


def test_errors_name_the_argument():
    x = np.ones(16)
    for bad in (0.0, 1.0, -0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match="p must lie in"):
            theory.chernoff_deviation(x, 4, 8, bad)
        with pytest.raises(ValueError, match="p must lie in"):
            theory.cantelli_deviation(x, 4, 8, bad)
    with pytest.raises(ValueError, match="p must lie in"):
        theory.chernoff_deviation(x, 4, 8, [0.1, 2.0])
    with pytest.raises(ValueError, match="length"):
        theory.chernoff_deviation(x, 4, 17, 0.1)
    with pytest.raises(ValueError, match="length"):
        theory.cantelli_deviation(x, 4, [4, 17], 0.1)
    with pytest.raises(ValueError, match="num_filters"):
        theory.chernoff_deviation(x, 0, 4, 0.1)
    with pytest.raises(ValueError, match=r"all-zero signal \(at batch index \(1,\)\)"):
        theory.chernoff_deviation(np.stack([np.ones(16), np.zeros(16)]), 4, 4, 0.1)
    with pytest.raises(ValueError, match="x contains an all-zero"):
        theory.cantelli_deviation(np.zeros(16), 4, 4, 0.1)
    with pytest.raises(ValueError, match="variant"):
        theory.chernoff_deviation(x, 4, 4, 0.1, variant="bernstein")
    with pytest.raises(ValueError, match="tail"):
        theory.chernoff_deviation(x, 4, 4, 0.1, tail="both")
    with pytest.raises(ValueError, match="paper"):
        theory.chernoff_deviation(x, 4, 4, 0.1, variant="paper", tail="lower")
    with pytest.raises(ValueError, match="p of shape"):
        theory.chernoff_deviation(np.ones((3, 16)), 4, 4, np.full(2, 0.1))


@pytest.mark.slow
def test_valid_bounds_in_the_papers_setting(x64):
    """N = 1024, J = 10, T = 64 and 1024: the valid bounds hold from p = 0.05 to 1e-6."""
    J, N = 10, 1024
    sigs = make_signals(N)
    P = LEVELS[:, None]
    for T, names in ((64, list(sigs)), (N, ["decaying_tone", "white_noise"])):
        X = np.stack([sigs[k] for k in names])
        dist = theory.energy_distribution(X, J, T)
        for variant in ("laurent_massart", "exact"):
            for tail in ("upper", "lower"):
                a = np.asarray(theory.chernoff_deviation(X, J, T, P, variant=variant, tail=tail))
                if tail == "upper":
                    prob = dist.sf((1 + a) * dist.mean)
                else:
                    prob = dist.cdf(np.maximum(1 - a, 0) * dist.mean)
                assert np.all(prob <= P), (T, variant, tail, prob / P)
        a = np.asarray(theory.cantelli_deviation(X, J, T, P))
        assert np.all(dist.sf((1 + a) * dist.mean) <= P)
