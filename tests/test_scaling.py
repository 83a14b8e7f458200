"""Tests of jaxfb.scaling: fits recover known laws, intervals cover, the J* rule, the CLI.

Every fit test runs in float64 on the same 54-point grid (J = 4..128, T = 4..1024) so that the
jitted solvers compile once per model for the whole module. Tolerances are fixed in advance:
estimates within K = 5 standard errors of the truth; coverage counts within 4 binomial SDs.
"""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize, stats
from scipy.integrate import quad

from jaxfb import scaling
from jaxfb.cli import main
from jaxfb.scaling import _fit

K = 5.0  # |estimate - truth| <= K * SE

GRID_J, GRID_T = np.meshgrid([4.0, 8, 16, 32, 64, 128], 2.0 ** np.arange(2, 11), indexing="ij")
J = GRID_J.ravel()
T = GRID_T.ravel()

TRUTH = {
    "paper": np.array([0.7]),
    "poly": np.array([2.1, 0.28, 0.03]),
    "extreme": np.array([2.0, -1.1, 0.68, 0.4]),
    "collapse": np.array([0.63, 0.06, 0.77]),
    "orderstat": np.array([0.5, 0.5]),
}


def truth_y(model: str, params=None) -> np.ndarray:
    m = scaling.get_model(model)
    p = TRUTH[model] if params is None else params
    with jax.enable_x64(True):
        feats = m.features(jnp.asarray(J), jnp.asarray(T))
        return np.asarray(m.fn(jnp.asarray(p, jnp.float64), *feats), np.float64)


def noisy(y0: np.ndarray, seed: int, rel: float = 0.005):
    """Monte Carlo-like data: ``se = rel * (1 + y)``, ``y = y0 + se * N(0, 1)``."""
    se = rel * (1 + y0)
    rng = np.random.default_rng(seed)
    return y0 + se * rng.standard_normal(y0.shape), se


def within_k_se(res, truth):
    z = np.abs(res.params - truth) / res.stderr
    assert np.all(z < K), f"{res.model.name}: |est - truth| / SE = {z} (est {res.params})"
    # the test has power: intervals are narrow compared with the parameters
    assert np.all(res.stderr < 0.25 * np.maximum(np.abs(truth), 0.2)), res.stderr


# --- models -----------------------------------------------------------------------------------


def test_neg_log1m_is_exact_inside_and_c1_at_the_floor(x64):
    q = jnp.array([0.0, 0.5, 0.9, 1.0, 1.5])
    exact = scaling.neg_log1m(q)
    np.testing.assert_allclose(exact[:3], -np.log1p(-np.asarray(q[:3])), rtol=1e-14)
    assert np.all(np.isinf(exact[3:])) and np.all(exact[3:] > 0)
    f = 1e-3
    cont = scaling.neg_log1m(q, f)
    assert np.all(np.isfinite(cont))
    np.testing.assert_allclose(cont[:3], exact[:3], rtol=1e-14)
    # value and slope (1 / floor) continuous at m = 1 - q = floor: one-sided differences
    h = 1e-7
    q0 = 1 - f
    vals = np.asarray(scaling.neg_log1m(jnp.array([q0 - h, q0, q0 + h]), f))
    left, right = (vals[1] - vals[0]) / h, (vals[2] - vals[1]) / h
    np.testing.assert_allclose([left, right], 1 / f, rtol=1e-3)
    assert right > 10 * (1 / (1 - 0.5))  # steep beyond the margin: a penalty


def test_orderstat_law_is_exact_order_statistics_at_b_half(x64):
    # T = N: T/2 - 1 interior Gamma(J, 1/J) and two Gamma(J/2, 2/J) ends, independent. Compare
    # with an adaptive-quadrature integral of E[log max] - E[log min] = int (F_min - F_max) ds.
    from scipy.special import gammainc, gammaincc

    m = scaling.get_model("orderstat")
    Jv, Tv = np.array([4.0, 16.0]), np.array([4.0, 64.0])
    pred = np.asarray(m.fn(jnp.array([0.5, 0.5]), *m.features(jnp.asarray(Jv), jnp.asarray(Tv))))
    for i in range(2):
        j, cnt = Jv[i], Tv[i] / 2 - 1

        def integrand(s, j=j, cnt=cnt):
            x = math.exp(s)
            f_min = 1 - gammaincc(j, j * x) ** cnt * gammaincc(j / 2, j * x / 2) ** 2
            f_max = gammainc(j, j * x) ** cnt * gammainc(j / 2, j * x / 2) ** 2
            return f_min - f_max

        exact = quad(integrand, -40, 8, limit=400, epsabs=1e-11, points=[0.0])[0]
        assert abs(pred[i] - exact) < 1e-7, (Jv[i], Tv[i], pred[i], exact)


# --- the N-aware order-statistics law ----------------------------------------------------------

# points with N = T, N = 256 and N = 1024 (T <= N): the law's effective lengths come from
# jaxfb.theory's counts wherever T < N (a quadrature per point, cached per (J, T, N))
_NJ, _NT, _NN = (
    np.array(x, np.float64)
    for x in zip(
        *[
            (j, t, n)
            for j in (4, 16, 64)
            for t in (4, 16, 64, 256)
            for n in (t, 256, 1024)
            if t <= n and not (n == 256 and t == 256)
        ],
        strict=True,
    )
)
TRUTH_N = np.array([0.56, 0.46])


def _law_n(params, Jv, Tv, Nv):
    m = scaling.get_model("orderstat_n")
    with jax.enable_x64(True):
        feats = m.features(jnp.asarray(Jv), jnp.asarray(Tv), jnp.asarray(Nv))
        return np.asarray(m.fn(jnp.asarray(params, jnp.float64), *feats), np.float64)


def test_orderstat_n_reduces_to_orderstat_at_n_equal_t(x64):
    # the same numbers to the last bit as "orderstat", and the closed-form integral of
    # E[log max] - E[log min] with m = b (T - 2) (away from b = 1/2 too)
    from scipy.special import gammainc, gammaincc

    params = np.array([0.6, 0.4])
    old = scaling.get_model("orderstat")
    feats = old.features(jnp.asarray(J), jnp.asarray(T))
    expected = np.asarray(old.fn(jnp.asarray(params), *feats))
    np.testing.assert_array_equal(_law_n(params, J, T, T), expected)
    np.testing.assert_array_equal(scaling.effective_lengths(J, T, T), np.stack([T, T], -1))
    for j, t in ((4.0, 4.0), (16.0, 64.0), (128.0, 1024.0)):

        def integrand(s, j=j, t=t):
            x = math.exp(s)
            f_min = 1 - gammaincc(j, j * x) ** (0.4 * (t - 2)) * gammaincc(j / 2, j * x / 2) ** 2
            f_max = gammainc(j, j * x) ** (0.6 * (t - 2)) * gammainc(j / 2, j * x / 2) ** 2
            return f_min - f_max

        exact = quad(integrand, -40, 8, limit=400, epsabs=1e-11, points=[0.0])[0]
        law = _law_n(params, np.array([j]), np.array([t]), np.array([t]))[0]
        assert abs(law - exact) < 1e-7, (j, t, law, exact)


def test_orderstat_n_at_half_is_the_theory_predictor(x64):
    # b_B = b_A = 1/2 gives jaxfb.theory's counts; its E[log kappa] is an independent
    # quadrature (a 2-D integral over the joint law of A and B) of the same model
    from jaxfb import theory

    Jr, Tr, Nr = np.array([4, 16, 64]), np.array([8, 64, 16]), np.array([1024, 256, 64])
    counts = theory.effective_counts(Jr, Tr, Nr)
    lengths = scaling.effective_lengths(Jr, Tr, Nr)
    np.testing.assert_allclose(lengths[:, 0], 2 * (counts.upper + 1), rtol=1e-15)
    np.testing.assert_allclose(lengths[:, 1], 2 * (counts.lower + 1), rtol=1e-15)
    assert np.all(lengths > Tr[:, None]) and np.all(lengths <= Nr[:, None])
    ref = theory.expected_log_condition_number(Jr, Tr, Nr)
    law = _law_n([0.5, 0.5], *(x.astype(np.float64) for x in (Jr, Tr, Nr)))
    np.testing.assert_allclose(law, ref, rtol=1e-8)


@pytest.fixture(scope="module")
def fit_n():
    """``orderstat_n`` fitted to noisy data from itself at ``TRUTH_N`` (one compile per module)."""
    y, se = noisy(_law_n(TRUTH_N, _NJ, _NT, _NN), seed=20)
    with jax.enable_x64(True):
        return scaling.fit(_NJ, _NT, y, se, model="orderstat_n", n=_NN), y, se


def test_contour_plot_of_a_law_of_n(x64, fit_n):
    from jaxfb.scaling import plots

    fit = fit_n[0]
    with pytest.raises(ValueError, match=r"n is required: .* several signal lengths N"):
        plots.plot_contours(fit)
    with pytest.raises(ValueError, match=r'n must be a signal length or "T" \(N = T\), got .x.'):
        plots.plot_contours(fit, n="x")
    with pytest.raises(ValueError, match=r"n must be a finite signal length >= 2, got 1.0"):
        plots.plot_contours(fit, n=1)
    fig = plots.plot_contours(fit, n="1024", kappa0=(2.0,))  # a number as text is a length
    (ax,) = fig.axes
    assert ax.get_xlabel() and ax.get_ylabel() and ax.collections  # the contour was drawn


@pytest.mark.slow
def test_orderstat_n_recovers_known_parameters_at_several_n(x64, fit_n):
    res, y, se = fit_n
    assert res.converged and res.feasible and res.model.covariates == ("J", "T", "N")
    within_k_se(res, TRUTH_N)
    assert stats.chi2.sf(res.chi2, res.dof) > 1e-4
    np.testing.assert_allclose(res.predict(_NJ, _NT, _NN), res.fitted, rtol=1e-12)
    # the data's N-dependence is real: the law of (J, T) alone cannot fit it
    old = scaling.fit(_NJ, _NT, y, se, model="orderstat")
    assert stats.chi2.sf(old.chi2, old.dof) < 1e-6
    # a scalar n broadcasts
    one = _NN == 1024
    a = scaling.fit(_NJ[one], _NT[one], y[one], se[one], model="orderstat_n", n=1024)
    b = scaling.fit(_NJ[one], _NT[one], y[one], se[one], model="orderstat_n", n=_NN[one])
    np.testing.assert_array_equal(a.params, b.params)


def test_orderstat_n_validates_n(x64, fit_n):
    y, se = np.ones(3), np.full(3, 0.01)
    Jv, Tv = np.array([4.0, 8, 16]), np.array([16.0, 64, 256])
    with pytest.raises(ValueError, match=r"orderstat_n.*signal length: pass n="):
        scaling.fit(Jv, Tv, y, se, model="orderstat_n")
    with pytest.raises(ValueError, match=r"N must be >= T .*N\[2\] = 128 < T\[2\] = 256"):
        scaling.fit(Jv, Tv, y, se, model="orderstat_n", n=np.array([64.0, 128, 128]))
    with pytest.raises(ValueError, match=r"N must be >= T"):
        scaling.effective_lengths(8, 64, 32)
    with pytest.raises(ValueError, match=r"n must be a scalar or have the shape of length"):
        scaling.fit(Jv, Tv, y, se, model="orderstat_n", n=np.array([64.0, 128]))
    with pytest.raises(ValueError, match=r"J must be >= 1, and an integer where T < N.*J\[1\]"):
        scaling.fit(np.array([4.0, 8.5, 16]), Tv, y, se, model="orderstat_n", n=1024)
    # laws of (J, T) alone ignore n
    res = scaling.fit(J, T, *noisy(truth_y("paper"), seed=21), model="paper", n=1024)
    assert res.model.covariates == ("J", "T")
    # predictions are checked too; non-integer T is fine where N = T (no theory needed)
    fit = fit_n[0]
    with pytest.raises(ValueError, match=r"N must be >= T"):
        fit.predict(8.0, 64.0, 32.0)
    assert np.isfinite(fit.predict(8.0, 50.5, 50.5))


def test_registry():
    assert set(scaling.LAWS) >= {"paper", "extreme", "poly", "collapse", "orderstat", "orderstat_n"}
    assert scaling.get_model("paper") is scaling.MODELS["paper"]
    with pytest.raises(ValueError, match="model must be"):
        scaling.get_model("nope")
    with pytest.raises(ValueError, match="already registered"):
        scaling.register_model(scaling.MODELS["paper"])
    with pytest.raises(TypeError, match="Model"):
        scaling.register_model("paper")


@pytest.mark.slow
def test_registered_custom_model_is_fitted(x64):
    def power_law(params, J, T, floor=0.0):
        return params[0] * (jnp.log(T) / J) ** params[1]

    model = scaling.Model(
        "test_power_u", ("a", "p"), power_law, lambda J, T, y: np.array([1.0, 0.5])
    )
    scaling.register_model(model)
    try:
        y0 = 2.0 * (np.log(T) / J) ** 0.6
        y, se = noisy(y0, seed=19)
        res = scaling.fit(J, T, y, se, model="test_power_u")
        within_k_se(res, np.array([2.0, 0.6]))
    finally:
        del scaling.MODELS["test_power_u"]


# --- fits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["paper", "poly"])
def test_fit_recovers_known_parameters(x64, model):
    y, se = noisy(truth_y(model), seed=1)
    res = scaling.fit(J, T, y, se, model=model)
    assert res.converged and res.feasible
    within_k_se(res, TRUTH[model])
    # a correct model fits: chi2 consistent with its degrees of freedom
    assert stats.chi2.sf(res.chi2, res.dof) > 1e-4
    np.testing.assert_allclose(res.residuals, (y - res.fitted) / se, rtol=1e-12)
    assert res.aic == pytest.approx(res.chi2 + 2 * len(TRUTH[model]))
    assert res.bic == pytest.approx(res.chi2 + len(TRUTH[model]) * math.log(J.size))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["extreme", "collapse", "orderstat"])
def test_fit_recovers_known_parameters_nonlinear(x64, model):
    y, se = noisy(truth_y(model), seed=2)
    res = scaling.fit(J, T, y, se, model=model)
    assert res.converged and res.feasible
    within_k_se(res, TRUTH[model])
    assert stats.chi2.sf(res.chi2, res.dof) > 1e-4


def _curve_fit(model, y, se, p0):
    m = scaling.get_model(model)
    feats = m.features(jnp.asarray(J), jnp.asarray(T))

    def f(_, *p):
        return np.asarray(m.fn(jnp.asarray(p, jnp.float64), *feats), np.float64)

    return optimize.curve_fit(
        f,
        np.zeros_like(y),
        y,
        p0=p0,
        sigma=se,
        absolute_sigma=True,
        xtol=1e-15,
        ftol=1e-15,
        gtol=1e-15,
        maxfev=100000,
    )


@pytest.mark.parametrize("model", ["paper", "poly"])
def test_fit_agrees_with_scipy_curve_fit(x64, model):
    y, se = noisy(truth_y(model), seed=3)
    res = scaling.fit(J, T, y, se, model=model)
    popt, pcov = _curve_fit(model, y, se, TRUTH[model] * 1.05)
    np.testing.assert_allclose(res.params, popt, rtol=1e-4)
    np.testing.assert_allclose(res.cov, pcov, rtol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["extreme", "collapse", "orderstat"])
def test_fit_agrees_with_scipy_curve_fit_nonlinear(x64, model):
    y, se = noisy(truth_y(model), seed=3)
    res = scaling.fit(J, T, y, se, model=model)
    popt, pcov = _curve_fit(model, y, se, res.params * (1 + 1e-3))
    np.testing.assert_allclose(res.params, popt, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(res.cov)), np.sqrt(np.diag(pcov)), rtol=1e-3)


def test_fit_is_compiled_once_per_model_and_shape(x64):
    y1, se1 = noisy(truth_y("paper"), seed=4)
    y2, se2 = noisy(truth_y("paper"), seed=5)
    scaling.fit(J, T, y1, se1, model="paper")
    size = _fit._solve._cache_size()
    r2 = scaling.fit(J, T, y2, se2, model="paper")
    r3 = scaling.fit(J, T, y1 * 1.01, se1 * 2, model="paper", max_iter=300)
    assert _fit._solve._cache_size() == size, "a second fit with the same shapes retraced"
    assert r2.params[0] != r3.params[0]


def test_infinite_se_excludes_a_point(x64):
    y, se = noisy(truth_y("poly"), seed=18)
    drop = (J == 4) & (T == 1024)
    masked = scaling.fit(J, T, np.where(drop, 123.0, y), np.where(drop, np.inf, se), model="poly")
    assert masked.num_points == J.size - 1 and masked.dof == J.size - 4
    assert np.isnan(masked.residuals[drop]).all() and np.isfinite(masked.residuals[~drop]).all()
    # the linear model's exact weighted least-squares solution without the point
    u = np.log(T[~drop]) / J[~drop]
    X = np.stack([np.sqrt(u), u, u**1.5], axis=-1) / se[~drop, None]
    exact = np.linalg.lstsq(X, y[~drop] / se[~drop], rcond=None)[0]
    np.testing.assert_allclose(masked.params, exact, rtol=1e-6)
    np.testing.assert_allclose(masked.cov, np.linalg.inv(X.T @ X), rtol=1e-6)


def test_hessian_and_gauss_newton_covariances_agree_on_a_good_fit(x64):
    y, se = noisy(truth_y("paper"), seed=6)
    gn = scaling.fit(J, T, y, se, model="paper")
    he = scaling.fit(J, T, y, se, model="paper", covariance="hessian")
    # they differ by the residual-curvature term, small for a correct model with small noise
    np.testing.assert_allclose(he.stderr, gn.stderr, rtol=0.05)
    scaled = scaling.fit(J, T, y, se, model="paper", absolute_sigma=False)
    np.testing.assert_allclose(scaled.cov, gn.cov * gn.chi2 / gn.dof, rtol=1e-10)


def test_paper_form_pole_is_respected(x64):
    # c close to the pole of the largest u on the grid: the fit must stay feasible
    c_true = 0.97 / math.sqrt(math.log(1024) / 4)
    y, se = noisy(truth_y("paper", np.array([c_true])), seed=7)
    res = scaling.fit(J, T, y, se, model="paper")
    assert res.feasible and res.converged
    assert abs(res.params[0] - c_true) < K * res.stderr[0]
    assert res.params[0] * math.sqrt(math.log(1024) / 4) < 1
    # beyond the pole a prediction is +inf, never NaN
    far = np.asarray(res.predict(np.array([1.0, 64.0]), np.array([1024.0, 1024.0])))
    assert np.isinf(far[0]) and far[0] > 0 and np.isfinite(far[1])
    # an infeasible starting point is refused with a clear message
    with pytest.raises(ValueError, match="init"):
        scaling.fit(J, T, y, se, model="paper", init=[2.0])


def test_predict_broadcasts(x64):
    y, se = noisy(truth_y("paper"), seed=8)
    res = scaling.fit(J, T, y, se, model="paper")
    grid = res.predict(np.array([[8.0], [16.0]]), np.array([[64.0, 256.0, 1024.0]]))
    assert grid.shape == (2, 3)
    np.testing.assert_allclose(res.predict(J, T), res.fitted, rtol=1e-12)


def test_fit_validates_inputs(x64):
    y, se = noisy(truth_y("paper"), seed=9)
    with pytest.raises(ValueError, match="se must be > 0"):
        scaling.fit(J, T, y, np.where(T == 4, 0.0, se))
    with pytest.raises(ValueError, match="non-finite"):
        scaling.fit(J, T, np.where(T == 4, np.nan, y), se)
    with pytest.raises(ValueError, match="T must have the shape"):
        scaling.fit(J, T[:-1], y, se)
    with pytest.raises(ValueError, match="covariance"):
        scaling.fit(J, T, y, se, covariance="sandwich")


def test_compare_prefers_the_true_law(x64):
    y, se = noisy(truth_y("paper"), seed=10)
    fits = {m: scaling.fit(J, T, y, se, model=m) for m in ("paper", "poly")}
    comp = scaling.compare(fits)
    assert comp.names[0] == "paper" and comp.delta_aic[0] == 0
    assert comp.weights.sum() == pytest.approx(1.0)
    other = scaling.fit(J, T, y * 1.001, se, model="paper")
    with pytest.raises(ValueError, match="share their data"):
        scaling.compare([fits["paper"], other])


def _coverage(model: str, num_fits: int, seed: int):
    truth = TRUTH[model]
    y0 = truth_y(model)
    hits95 = np.zeros(truth.shape, int)
    hits68 = np.zeros(truth.shape, int)
    for i in range(num_fits):
        y, se = noisy(y0, seed=1000 * seed + i, rel=0.01)
        res = scaling.fit(J, T, y, se, model=model)
        hits95 += (res.ci[:, 0] <= truth) & (truth <= res.ci[:, 1])
        hits68 += np.abs(res.params - truth) <= res.stderr
    return hits95, hits68


def _assert_binomial(hits, n, p):
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    assert np.all(np.abs(hits - mean) <= 4 * sd), f"coverage {hits}/{n}, expected {mean:.1f}"


def test_delta_method_intervals_cover_at_the_nominal_rate(x64):
    n = 200
    hits95, hits68 = _coverage("paper", n, seed=11)
    _assert_binomial(hits95, n, 0.95)
    _assert_binomial(hits68, n, stats.norm.cdf(1) - stats.norm.cdf(-1))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["poly", "orderstat"])
def test_delta_method_intervals_cover_multiparameter(x64, model):
    n = 200
    hits95, hits68 = _coverage(model, n, seed=12)
    _assert_binomial(hits95, n, 0.95)
    _assert_binomial(hits68, n, stats.norm.cdf(1) - stats.norm.cdf(-1))


def test_score_predictions_is_a_zero_parameter_fit(x64):
    y = np.array([1.0, 2.0, 3.0, 4.0])
    res = scaling.score_predictions(y + np.array([0.1, -0.2, 0.0, 0.3]), y, np.full(4, 0.1))
    assert res.model.num_params == 0 and res.dof == 4
    assert res.chi2 == pytest.approx(1 + 4 + 0 + 9) and res.aic == res.bic == res.chi2
    np.testing.assert_allclose(res.residuals, [-1.0, 2.0, 0.0, -3.0], atol=1e-12)


def test_orderstat_is_smooth_in_b_at_t_2(x64):
    # T = 2 has no interior frequency whatever b: the prediction there does not depend on b, so
    # the law has no kink at b = 1/2 (a kink made fits stick there and truncated bootstraps)
    m = scaling.get_model("orderstat")
    feats = m.features(jnp.asarray([8.0, 8.0]), jnp.asarray([2.0, 64.0]))
    grad = jax.jacfwd(lambda p: m.fn(p, *feats))(jnp.array([0.5, 0.5]))
    assert np.all(np.asarray(grad[0]) == 0) and np.all(np.abs(np.asarray(grad[1])) > 1e-3)
    lo, hi = (np.asarray(m.fn(jnp.array([b, b]), *feats)) for b in (0.45, 0.55))
    assert lo[0] == hi[0] and lo[1] < hi[1]


@pytest.mark.slow
def test_theory_reference_equals_orderstat_at_half(x64):
    # two independent implementations of the exact T = N law: jaxfb.theory's quadrature and the
    # "orderstat" law at b_B = b_A = 1/2
    Jr, Tr = np.array([4.0, 16.0, 64.0]), np.array([8.0, 64.0, 512.0])
    ref = scaling.theory_reference(Jr, Tr, Tr, np.zeros(3), np.ones(3))
    m = scaling.get_model("orderstat")
    law = np.asarray(m.fn(jnp.array([0.5, 0.5]), *m.features(jnp.asarray(Jr), jnp.asarray(Tr))))
    np.testing.assert_allclose(ref.fitted, law, rtol=1e-6)


# --- bootstrap ----------------------------------------------------------------------------


@pytest.mark.slow
def test_parametric_bootstrap_matches_delta_method(x64):
    y, se = noisy(truth_y("paper"), seed=13, rel=0.01)
    res = scaling.fit(J, T, y, se, model="paper")
    B = 400
    boot = scaling.bootstrap(jax.random.key(0), res, num_resamples=B)
    assert boot.kind == "parametric" and boot.num_failed == 0
    assert boot.params.shape == (B, 1)
    # SD of a bootstrap SD estimate ~ SE / sqrt(2 B)
    assert abs(boot.stderr[0] / res.stderr[0] - 1) < K / math.sqrt(2 * B)
    np.testing.assert_allclose(boot.ci, res.ci, atol=K * res.stderr[0] / math.sqrt(2 * B) * 2)
    again = scaling.bootstrap(jax.random.key(0), res, num_resamples=B)
    np.testing.assert_array_equal(again.params, boot.params)


@pytest.mark.slow
def test_nonparametric_bootstrap_over_draws(x64):
    # per-point draws with known spread; their means and SEs are the data
    rng = np.random.default_rng(14)
    y0 = truth_y("paper")
    draws = 100
    sd = 0.05 * (1 + y0)
    samples = [y0[i] + sd[i] * rng.standard_normal(draws) for i in range(y0.size)]
    y = np.array([s.mean() for s in samples])
    se = np.array([s.std(ddof=1) / math.sqrt(draws) for s in samples])
    res = scaling.fit(J, T, y, se, model="paper")
    B = 400
    boot = scaling.bootstrap(jax.random.key(1), res, num_resamples=B, samples=samples)
    assert boot.kind == "nonparametric" and boot.num_failed == 0
    assert abs(boot.stderr[0] / res.stderr[0] - 1) < K / math.sqrt(2 * B) + 0.05
    with pytest.raises(ValueError, match="per-draw values behind y"):
        scaling.bootstrap(jax.random.key(1), res, num_resamples=4, samples=samples[::-1])


# --- the J* rule ----------------------------------------------------------------------------


def _rule_table(alpha=3.0):
    # E[kappa] = exp(sqrt(alpha log T / J)): log log kappa is linear in log J, so the
    # interpolation is exact and J* = alpha log T / log(kappa0)^2
    Jt, Tt = np.meshgrid(2.0 ** np.arange(1, 11), 2.0 ** np.arange(2, 11), indexing="ij")
    Jt, Tt = Jt.ravel(), Tt.ravel()
    return Jt, Tt, np.exp(np.sqrt(alpha * np.log(Tt) / Jt))


@pytest.mark.parametrize("kappa0", [1.5, 2.0, 4.0])
def test_critical_filters_known_answer(kappa0):
    Jt, Tt, kap = _rule_table()
    crit = scaling.critical_filters(Jt, Tt, kap, kappa0, se=0.01 * kap)
    expected = 3.0 * np.log(np.unique(Tt)) / math.log(kappa0) ** 2
    ok = crit.status == "ok"
    assert ok.sum() >= 5
    np.testing.assert_allclose(crit.num_filters[ok], expected[ok], rtol=1e-12)
    assert np.all((expected[~ok] < 2) | (expected[~ok] > 1024))
    assert set(crit.status[~ok]) <= {"below_grid", "above_grid"}


def test_critical_filters_se_is_the_delta_method():
    Jt, Tt, kap = _rule_table()
    se = 0.02 * kap
    crit = scaling.critical_filters(Jt, Tt, kap, 2.0, se=se)
    i = int(np.flatnonzero(crit.status == "ok")[3])
    t = crit.length[i]
    # numerical derivative of J* with respect to every table entry at this T
    grad = np.zeros_like(kap)
    for r in np.flatnonzero(Tt == t):
        h = 1e-6 * kap[r]
        up, dn = kap.copy(), kap.copy()
        up[r] += h
        dn[r] -= h
        jp = scaling.critical_filters(Jt, Tt, up, 2.0).num_filters[i]
        jm = scaling.critical_filters(Jt, Tt, dn, 2.0).num_filters[i]
        grad[r] = (jp - jm) / (2 * h)
    assert np.count_nonzero(grad) == 2  # only the two bracketing points matter
    np.testing.assert_allclose(crit.se[i], np.sqrt(np.sum((grad * se) ** 2)), rtol=1e-5)


def test_critical_filters_status_and_validation():
    Jt = np.array([2.0, 4, 8, 2, 4, 8])
    Tt = np.array([4.0, 4, 4, 1024, 1024, 1024])
    kap = np.array([np.inf, 1.8, 1.3, 50.0, 20.0, 10.0])
    c = scaling.critical_filters(Jt, Tt, kap, 2.0)
    assert c.status.tolist() == ["nonfinite", "above_grid"]
    c = scaling.critical_filters(Jt, Tt, kap, 60.0)
    assert c.status.tolist() == ["nonfinite", "below_grid"]
    with pytest.raises(ValueError, match="kappa0 must be > 1"):
        scaling.critical_filters(Jt, Tt, kap, 1.0)
    with pytest.raises(ValueError, match="duplicate J"):
        scaling.critical_filters(np.r_[Jt, 2.0], np.r_[Tt, 4.0], np.r_[kap, 3.0], 2.0)


TS = 2.0 ** np.arange(2, 11)  # the 9 lengths of GRID_T: the CLI test reuses the compiled rules


def test_log_rule_recovered_and_not_rejected(x64):
    rng = np.random.default_rng(15)
    se = np.full(TS.shape, 0.3)
    Js = 2.0 + 4.0 * np.log(TS) + se * rng.standard_normal(TS.shape)
    test = scaling.log_linearity_test(TS, Js, se)
    within_k_se(test.log, np.array([2.0, 4.0]))
    assert abs(test.power.params[2]) < K * test.power.stderr[2]
    assert test.p_value > 1e-3 and test.lr_statistic >= 0


def test_power_rule_detected(x64):
    rng = np.random.default_rng(16)
    se = np.full(TS.shape, 0.3)
    Js = 1.0 + 2.0 * TS**0.4 + se * rng.standard_normal(TS.shape)
    test = scaling.log_linearity_test(TS, Js, se)
    assert test.p_value < 1e-6 and test.delta_aic < -10
    assert abs(test.power.params[2] - 0.4) < K * test.power.stderr[2]
    crit = scaling.CriticalFilters(TS, Js, se, np.full(TS.shape, "ok"), 2.0)
    again = scaling.fit_critical_rule(crit, form="power")
    np.testing.assert_allclose(again.params, test.power.params, rtol=1e-10)


# --- reading tables and the command line ----------------------------------------------------


def _write_csv(path, y, se, extra_cols=True):
    kap = np.exp(y) * (1 + 0.02)  # E[kappa] a little above exp E[log kappa]
    with open(path, "w") as fh:
        fh.write("J,T,N,init,draws,kappa_mean,kappa_se,log_kappa_mean,log_kappa_se,kappa_median\n")
        for j, t, m, s, k in zip(J, T, y, se, kap, strict=True):
            row = [float(x) for x in (k, 0.01 * k, m, s, k)]
            fh.write(f"{j:g},{t:g},{t:g},gaussian,1000," + ",".join(map(repr, row)) + "\n")
        # a row the fit must drop (T = 1: kappa = 1 exactly, zero SE)
        fh.write("8,1,1,gaussian,1000,1.0,0.0,0.0,0.0,1.0\n")


def test_read_summary_columns_and_filters(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("J,T,init,mean,err\n4,8,gaussian,1.5,0.1\n4,8,pytorch,1.7,0.1\n")
    d = scaling.read_summary(
        p,
        columns={"log_kappa_mean": "mean", "log_kappa_se": "err"},
        required=("J", "T", "log_kappa_mean"),
        where={"init": "pytorch", "J": "4.0"},
    )
    assert d["log_kappa_mean"].tolist() == [1.7] and d["init"].tolist() == ["pytorch"]
    with pytest.raises(ValueError, match=r"missing column\(s\) 'log_kappa_se'"):
        scaling.read_summary(p, required=("J", "log_kappa_se"))
    with pytest.raises(ValueError, match="no rows left"):
        scaling.read_summary(p, where={"init": "glorot"})


def test_cli_fit_writes_table_json_and_plots(x64, tmp_path, capsys):
    y, se = noisy(truth_y("paper"), seed=17)
    csv_path = tmp_path / "summary.csv"
    _write_csv(csv_path, y, se)
    out = tmp_path / "fit"
    rc = main(["fit", str(csv_path), "--model", "paper", "poly", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "paper" in captured.out and "J*(T; kappa0)" in captured.out
    assert "1 dropped" in captured.out
    report = json.loads((out / "fit.json").read_text())
    assert report["num_points"] == J.size
    c = report["models"]["paper"]["params"]["c"]
    assert abs(c - 0.7) < K * report["models"]["paper"]["stderr"]["c"]
    assert report["best_model"] == "paper"
    assert set(report["critical"]) == {"1.5", "2.0", "4.0"}
    for name in ("collapse.png", "contours.png", "residuals.png"):
        assert (out / name).stat().st_size > 10_000
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_fit_missing_column_fails_clearly(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text("J,T,kappa_mean\n4,8,2.0\n")
    rc = main(["fit", str(p)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "log_kappa_mean" in err and "--column" in err
    rc = main(["fit", str(p), "--model", "nope"])
    assert rc == 2 and "model must be" in capsys.readouterr().err


def test_cli_fit_refuses_mixed_sweeps(tmp_path, capsys):
    p = tmp_path / "mixed.csv"
    p.write_text(
        "J,T,N,init,log_kappa_mean,log_kappa_se\n"
        "4,8,8,gaussian,1.5,0.01\n4,8,8,pytorch,1.6,0.01\n4,16,16,gaussian,1.8,0.01\n"
    )
    rc = main(["fit", str(p), "--model", "paper"])
    err = capsys.readouterr().err
    assert rc == 2 and "--where" in err and "init=" in err


def _write_n_csv(path, y, se, with_n=True):
    with open(path, "w") as fh:
        fh.write(("J,T,N" if with_n else "J,T") + ",init,log_kappa_mean,log_kappa_se\n")
        for j, t, n, m, s in zip(_NJ, _NT, _NN, y, se, strict=True):
            cells = [f"{j:g}", f"{t:g}"] + ([f"{n:g}"] if with_n else [])
            fh.write(",".join([*cells, "gaussian", repr(float(m)), repr(float(s))]) + "\n")


@pytest.mark.slow
def test_cli_fit_orderstat_n_over_several_n(x64, tmp_path, capsys, fit_n):
    _, y, se = fit_n
    csv_path = tmp_path / "summary.csv"
    _write_n_csv(csv_path, y, se)
    out = tmp_path / "fit"
    rc = main(["fit", str(csv_path), "--model", "orderstat", "orderstat_n", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    # rows at the same (J, T) with different N are one data set; the J* table needs one N
    assert f"{_NJ.size} points" in captured.out and "J* rule skipped" in captured.out
    report = json.loads((out / "fit.json").read_text())
    assert report["best_model"] == "orderstat_n"
    entry = report["models"]["orderstat_n"]
    for name, truth in zip(("b_B", "b_A"), TRUTH_N, strict=True):
        assert abs(entry["params"][name] - truth) < K * entry["stderr"][name]
    for name in ("collapse.png", "contours.png", "residuals.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_fit_orderstat_n_needs_the_n_column(tmp_path, capsys):
    p = tmp_path / "no_n.csv"
    _write_n_csv(p, np.ones(_NJ.size), np.full(_NJ.size, 0.01), with_n=False)
    rc = main(["fit", str(p), "--model", "orderstat_n"])
    captured = capsys.readouterr()
    assert rc == 2
    assert "orderstat_n: fit failed" in captured.out and "signal length N" in captured.out


def test_cli_fit_survives_a_failed_bootstrap(x64, tmp_path, capsys, monkeypatch):
    """A law whose bootstrap refits fail keeps its delta-method fit; the others are unaffected."""
    y, se = noisy(truth_y("paper"), seed=18)
    csv_path = tmp_path / "summary.csv"
    _write_csv(csv_path, y, se)
    real = scaling.bootstrap

    def flaky(key, result, **kw):
        if result.model.name == "poly":
            raise ValueError("only 0 of 4 bootstrap refits succeeded")
        return real(key, result, **kw)

    monkeypatch.setattr(scaling, "bootstrap", flaky)
    out = tmp_path / "fit"
    args = ["fit", str(csv_path), "--model", "paper", "poly", "--bootstrap", "4", "--no-plots"]
    assert main([*args, "--out", str(out)]) == 0
    assert "poly: bootstrap failed (only 0 of 4" in capsys.readouterr().out
    report = json.loads((out / "fit.json").read_text())
    assert report["models"]["poly"]["bootstrap"]["error"].startswith("only 0 of 4")
    assert "stderr" in report["models"]["paper"]["bootstrap"]
    assert set(report["models"]["poly"]["params"]) == {"a1", "a2", "a3"}
