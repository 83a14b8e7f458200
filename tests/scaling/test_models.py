"""The laws of jaxfb/scaling/_models.py against their definitions (float64), and the registry."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gammainc, gammaincc

from jaxfb import scaling, theory
from jaxfb.scaling._models import effective_lengths, get_model, neg_log1m


def test_neg_log1m_is_exact_inside_and_c1_at_the_floor(x64):
    q = jnp.array([0.0, 0.5, 0.9, 1.0, 1.5])
    exact = neg_log1m(q)
    np.testing.assert_allclose(exact[:3], -np.log1p(-np.asarray(q[:3])), rtol=1e-14)
    assert np.all(np.isinf(exact[3:])) and np.all(exact[3:] > 0)
    f = 1e-3
    cont = neg_log1m(q, f)
    assert np.all(np.isfinite(cont))
    np.testing.assert_allclose(cont[:3], exact[:3], rtol=1e-14)
    # value and slope (1 / floor) continuous at m = 1 - q = floor: one-sided differences
    h = 1e-7
    q0 = 1 - f
    vals = np.asarray(neg_log1m(jnp.array([q0 - h, q0, q0 + h]), f))
    left, right = (vals[1] - vals[0]) / h, (vals[2] - vals[1]) / h
    np.testing.assert_allclose([left, right], 1 / f, rtol=1e-3)
    assert right > 10 * (1 / (1 - 0.5))  # steep beyond the margin: a penalty


def _exact_orderstat(j, t, b_max, b_min):
    """E[log max] - E[log min] of b (t - 2) interior Gamma(j, 1/j) and two Gamma(j/2, 2/j),
    by adaptive quadrature of int (F_min - F_max) ds."""

    def integrand(s):
        x = math.exp(s)
        f_min = 1 - gammaincc(j, j * x) ** (b_min * (t - 2)) * gammaincc(j / 2, j * x / 2) ** 2
        f_max = gammainc(j, j * x) ** (b_max * (t - 2)) * gammainc(j / 2, j * x / 2) ** 2
        return f_min - f_max

    return quad(integrand, -40, 8, limit=400, epsabs=1e-11, points=[0.0])[0]


def test_orderstat_law_is_exact_order_statistics_at_b_half(data):
    # T = N: T/2 - 1 interior Gamma(J, 1/J) and two Gamma(J/2, 2/J) ends, independent
    Jv, Tv = np.array([4.0, 16.0]), np.array([4.0, 64.0])
    pred = data.law("orderstat", [0.5, 0.5], Jv, Tv)
    for i in range(2):
        exact = _exact_orderstat(Jv[i], Tv[i], 0.5, 0.5)
        assert abs(pred[i] - exact) < 1e-7, (Jv[i], Tv[i], pred[i], exact)


def test_orderstat_n_reduces_to_orderstat_at_n_equal_t(data):
    # the same numbers to the last bit as "orderstat", and the closed-form integral with
    # m = b (T - 2) (away from b = 1/2 too)
    params = np.array([0.6, 0.4])
    J, T = data.J, data.T
    np.testing.assert_array_equal(
        data.law("orderstat_n", params, J, T, T), data.law("orderstat", params, J, T)
    )
    np.testing.assert_array_equal(effective_lengths(J, T, T), np.stack([T, T], -1))
    for j, t in ((4.0, 4.0), (16.0, 64.0), (128.0, 1024.0)):
        one = data.law("orderstat_n", params, [j], [t], [t])[0]
        exact = _exact_orderstat(j, t, 0.6, 0.4)
        assert abs(one - exact) < 1e-7, (j, t, one, exact)


def test_orderstat_n_at_half_has_the_theory_counts(data):
    # b_B = b_A = 1/2 gives jaxfb.theory's counts at the medians of A and B (the predictor
    # itself lets the counts vary with the level, so its E[log kappa] differs: by about 2.5 %
    # at J = 4, T = 8, N = 1024, less at larger J)
    Jr, Tr, Nr = np.array([4, 16, 64]), np.array([8, 64, 16]), np.array([1024, 256, 64])
    counts = theory.effective_counts(Jr, Tr, Nr)
    lengths = effective_lengths(Jr, Tr, Nr)
    np.testing.assert_allclose(lengths[:, 0], 2 * (counts.upper + 1), rtol=1e-15)
    np.testing.assert_allclose(lengths[:, 1], 2 * (counts.lower + 1), rtol=1e-15)
    assert np.all(lengths > Tr[:, None]) and np.all(lengths <= Nr[:, None])
    ref = theory.expected_log_condition_number(Jr, Tr, Nr)
    np.testing.assert_allclose(data.law("orderstat_n", [0.5, 0.5], Jr, Tr, Nr), ref, rtol=0.03)


def test_effective_lengths_validate_n():
    with pytest.raises(ValueError, match=r"N must be >= T"):
        effective_lengths(8, 64, 32)


def test_orderstat_is_smooth_in_b_at_t_2(x64):
    # T = 2 has no interior frequency whatever b: the prediction there does not depend on b, so
    # the law has no kink at b = 1/2 (a kink made fits stick there and truncated bootstraps)
    m = get_model("orderstat")
    feats = m.features(jnp.asarray([8.0, 8.0]), jnp.asarray([2.0, 64.0]))
    grad = jax.jacfwd(lambda p: m.fn(p, *feats))(jnp.array([0.5, 0.5]))
    assert np.all(np.asarray(grad[0]) == 0) and np.all(np.abs(np.asarray(grad[1])) > 1e-3)
    lo, hi = (np.asarray(m.fn(jnp.array([b, b]), *feats)) for b in (0.45, 0.55))
    assert lo[0] == hi[0] and lo[1] < hi[1]


def test_registry():
    assert set(scaling.LAWS) >= {"paper", "extreme", "poly", "collapse", "orderstat", "orderstat_n"}
    assert get_model("paper") is scaling.MODELS["paper"]
    with pytest.raises(ValueError, match="model must be"):
        get_model("nope")
    with pytest.raises(ValueError, match="already registered"):
        scaling.register_model(scaling.MODELS["paper"])
    with pytest.raises(TypeError, match="Model"):
        scaling.register_model("paper")


@pytest.mark.slow
def test_registered_custom_model_is_fitted(data):
    def power_law(params, J, T, floor=0.0):
        return params[0] * (jnp.log(T) / J) ** params[1]

    model = scaling.Model(
        "test_power_u", ("a", "p"), power_law, lambda J, T, y: np.array([1.0, 0.5])
    )
    scaling.register_model(model)
    try:
        y0 = 2.0 * (np.log(data.T) / data.J) ** 0.6
        y, se = data.noisy(y0, seed=19)
        res = scaling.fit(data.J, data.T, y, se, model="test_power_u")
        data.within_k_se(res, np.array([2.0, 0.6]))
    finally:
        del scaling.MODELS["test_power_u"]
