"""jaxfb.scaling.fit: known laws recovered within K standard errors, agreement with scipy's
curve_fit, delta-method coverage, float64 whatever the x64 flag, named parameters, predict."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize, stats

from jaxfb import scaling
from jaxfb.scaling import _fit
from jaxfb.scaling._models import get_model


@pytest.mark.parametrize("model", ["paper", "poly"])
def test_fit_recovers_known_parameters(data, model):
    y, se = data.noisy(data.truth_y(model), seed=1)
    res = scaling.fit(data.J, data.T, y, se, model=model)
    assert res.converged and res.feasible
    data.within_k_se(res, data.TRUTH[model])
    # a correct model fits: chi2 consistent with its degrees of freedom
    assert stats.chi2.sf(res.chi2, res.dof) > 1e-4
    np.testing.assert_allclose(res.residuals, (y - res.fitted) / se, rtol=1e-12)
    k = len(data.TRUTH[model])
    assert res.aic == pytest.approx(res.chi2 + 2 * k)
    assert res.bic == pytest.approx(res.chi2 + k * math.log(data.J.size))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["extreme", "collapse", "orderstat"])
def test_fit_recovers_known_parameters_nonlinear(data, model):
    y, se = data.noisy(data.truth_y(model), seed=2)
    res = scaling.fit(data.J, data.T, y, se, model=model)
    assert res.converged and res.feasible
    data.within_k_se(res, data.TRUTH[model])
    assert stats.chi2.sf(res.chi2, res.dof) > 1e-4


@pytest.mark.parametrize("flag", [False, True])
def test_fit_is_float64_whatever_the_x64_flag(data, flag):
    """float64 in both flag states (identical numbers), and the global flag left as it was."""
    y = data.truth_y("paper")
    se = np.full(y.shape, 1e-3)
    with jax.enable_x64(flag):
        res = scaling.fit(data.J, data.T, y, se, model="paper")
        pred = res.predict(data.J, data.T)
        assert jax.config.jax_enable_x64 is flag
    assert res.params.dtype == res.stderr.dtype == res.cov.dtype == pred.dtype == np.float64
    # exact data: float32 could not get closer than about 1e-7
    assert abs(res.params[0] - 0.7) < 1e-10
    np.testing.assert_allclose(pred, y, rtol=1e-12)
    with jax.enable_x64(not flag):
        other = scaling.fit(data.J, data.T, y, se, model="paper")
    np.testing.assert_array_equal(other.params, res.params)


def test_fit_leaves_the_global_x64_flag_unchanged(data):
    before = jax.config.jax_enable_x64
    y, se = data.noisy(data.truth_y("paper"), seed=22)
    res = scaling.fit(data.J, data.T, y, se, model="paper")
    res.predict(8.0, 64.0)
    scaling.bootstrap(jax.random.key(3), res, num_resamples=4)
    assert jax.config.jax_enable_x64 == before


def test_default_model_is_the_recommended_law_and_needs_n(data):
    y = data.law("orderstat", [0.5, 0.5], data.J, data.T)
    se = np.full(y.shape, 0.01)
    with pytest.raises(ValueError, match=r"'orderstat_n' depends on the signal length: pass n="):
        scaling.fit(data.J, data.T, y, se)
    res = scaling.fit(data.J, data.T, y, se, n=data.T)
    assert res.model.name == "orderstat_n" == _fit.DEFAULT_MODEL
    np.testing.assert_allclose(res.params, [0.5, 0.5], atol=1e-8)


def test_parameters_by_name_and_predict_at_other_params(data):
    y, se = data.noisy(data.truth_y("poly"), seed=23)
    res = scaling.fit(data.J, data.T, y, se, model="poly")
    names = res.model.param_names
    assert list(res.estimates) == list(names) == list(res.param_dict)
    for i, e in enumerate(res.estimates.values()):
        assert e.value == res.params[i] and e.stderr == res.stderr[i]
        assert (e.lower, e.upper) == tuple(res.ci[i])
    # predict(params=theta) is the law at theta (linear in theta for "poly")
    theta = np.array([1.0, -0.5, 0.25])
    s = np.sqrt(np.log(data.T) / data.J)
    expected = theta[0] * s + theta[1] * s**2 + theta[2] * s**3
    np.testing.assert_allclose(res.predict(data.J, data.T, params=theta), expected, rtol=1e-13)
    np.testing.assert_array_equal(res.predict(data.J, data.T, params=res.params), res.fitted)
    with pytest.raises(ValueError, match=r"params must have shape \(3,\)"):
        res.predict(data.J, data.T, params=[1.0, 2.0])


def test_orderstat_n_validates_n(data, fit_n):
    y, se = np.ones(3), np.full(3, 0.01)
    Jv, Tv = np.array([4.0, 8, 16]), np.array([16.0, 64, 256])
    with pytest.raises(ValueError, match=r"N must be >= T .*N\[2\] = 128 < T\[2\] = 256"):
        scaling.fit(Jv, Tv, y, se, model="orderstat_n", n=np.array([64.0, 128, 128]))
    with pytest.raises(ValueError, match=r"n must be a scalar or have the shape of length"):
        scaling.fit(Jv, Tv, y, se, model="orderstat_n", n=np.array([64.0, 128]))
    with pytest.raises(ValueError, match=r"J must be >= 1, and an integer where T < N.*J\[1\]"):
        scaling.fit(np.array([4.0, 8.5, 16]), Tv, y, se, model="orderstat_n", n=1024)
    # laws of (J, T) alone ignore n
    res = scaling.fit(
        data.J, data.T, *data.noisy(data.truth_y("paper"), seed=21), model="paper", n=1024
    )
    assert res.model.covariates == ("J", "T")
    # predictions are checked too; non-integer T is fine where N = T (no theory needed)
    fit = fit_n[0]
    with pytest.raises(ValueError, match=r"N must be >= T"):
        fit.predict(8.0, 64.0, 32.0)
    assert np.isfinite(fit.predict(8.0, 50.5, 50.5))


@pytest.mark.slow
def test_orderstat_n_recovers_known_parameters_at_several_n(data, fit_n):
    res, y, se = fit_n
    assert res.converged and res.feasible and res.model.covariates == ("J", "T", "N")
    data.within_k_se(res, data.TRUTH_N)
    assert stats.chi2.sf(res.chi2, res.dof) > 1e-4
    np.testing.assert_allclose(res.predict(data.NJ, data.NT, data.NN), res.fitted, rtol=1e-12)
    # the data's N-dependence is real: the law of (J, T) alone cannot fit it
    old = scaling.fit(data.NJ, data.NT, y, se, model="orderstat")
    assert stats.chi2.sf(old.chi2, old.dof) < 1e-6
    # a scalar n broadcasts
    one = data.NN == 1024
    J1, T1, y1, s1 = data.NJ[one], data.NT[one], y[one], se[one]
    a = scaling.fit(J1, T1, y1, s1, model="orderstat_n", n=1024)
    b = scaling.fit(J1, T1, y1, s1, model="orderstat_n", n=data.NN[one])
    np.testing.assert_array_equal(a.params, b.params)


def _curve_fit(data, model, y, se, p0):
    m = get_model(model)
    with jax.enable_x64(True):
        feats = m.features(jnp.asarray(data.J), jnp.asarray(data.T))

        def f(_, *p):
            with jax.enable_x64(True):
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
def test_fit_agrees_with_scipy_curve_fit(data, model):
    y, se = data.noisy(data.truth_y(model), seed=3)
    res = scaling.fit(data.J, data.T, y, se, model=model)
    popt, pcov = _curve_fit(data, model, y, se, data.TRUTH[model] * 1.05)
    np.testing.assert_allclose(res.params, popt, rtol=1e-4)
    np.testing.assert_allclose(res.cov, pcov, rtol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["extreme", "collapse", "orderstat"])
def test_fit_agrees_with_scipy_curve_fit_nonlinear(data, model):
    y, se = data.noisy(data.truth_y(model), seed=3)
    res = scaling.fit(data.J, data.T, y, se, model=model)
    popt, pcov = _curve_fit(data, model, y, se, res.params * (1 + 1e-3))
    np.testing.assert_allclose(res.params, popt, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(res.cov)), np.sqrt(np.diag(pcov)), rtol=1e-3)


def test_fit_is_compiled_once_per_model_and_shape(data):
    y1, se1 = data.noisy(data.truth_y("paper"), seed=4)
    y2, se2 = data.noisy(data.truth_y("paper"), seed=5)
    scaling.fit(data.J, data.T, y1, se1, model="paper")
    size = _fit._solve._cache_size()
    r2 = scaling.fit(data.J, data.T, y2, se2, model="paper")
    r3 = scaling.fit(data.J, data.T, y1 * 1.01, se1 * 2, model="paper", max_iter=300)
    assert _fit._solve._cache_size() == size, "a second fit with the same shapes retraced"
    assert r2.params[0] != r3.params[0]


def test_infinite_se_excludes_a_point(data):
    J, T = data.J, data.T
    y, se = data.noisy(data.truth_y("poly"), seed=18)
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


def test_hessian_and_gauss_newton_covariances_agree_on_a_good_fit(data):
    y, se = data.noisy(data.truth_y("paper"), seed=6)
    gn = scaling.fit(data.J, data.T, y, se, model="paper")
    he = scaling.fit(data.J, data.T, y, se, model="paper", covariance="hessian")
    # they differ by the residual-curvature term, small for a correct model with small noise
    np.testing.assert_allclose(he.stderr, gn.stderr, rtol=0.05)
    scaled = scaling.fit(data.J, data.T, y, se, model="paper", absolute_sigma=False)
    np.testing.assert_allclose(scaled.cov, gn.cov * gn.chi2 / gn.dof, rtol=1e-10)


def test_paper_form_pole_is_respected(data):
    # c close to the pole of the largest u on the grid: the fit must stay feasible
    c_true = 0.97 / math.sqrt(math.log(1024) / 4)
    y, se = data.noisy(data.truth_y("paper", np.array([c_true])), seed=7)
    res = scaling.fit(data.J, data.T, y, se, model="paper")
    assert res.feasible and res.converged
    assert abs(res.params[0] - c_true) < data.K * res.stderr[0]
    assert res.params[0] * math.sqrt(math.log(1024) / 4) < 1
    # beyond the pole a prediction is +inf, never NaN
    far = res.predict(np.array([1.0, 64.0]), np.array([1024.0, 1024.0]))
    assert np.isinf(far[0]) and far[0] > 0 and np.isfinite(far[1])
    # an infeasible starting point is refused with a clear message
    with pytest.raises(ValueError, match="init"):
        scaling.fit(data.J, data.T, y, se, model="paper", init=[2.0])


def test_predict_broadcasts(data):
    y, se = data.noisy(data.truth_y("paper"), seed=8)
    res = scaling.fit(data.J, data.T, y, se, model="paper")
    grid = res.predict(np.array([[8.0], [16.0]]), np.array([[64.0, 256.0, 1024.0]]))
    assert grid.shape == (2, 3)
    np.testing.assert_allclose(res.predict(data.J, data.T), res.fitted, rtol=1e-12)


def test_fit_validates_inputs(data):
    J, T = data.J, data.T
    y, se = data.noisy(data.truth_y("paper"), seed=9)
    with pytest.raises(ValueError, match="se must be > 0"):
        scaling.fit(J, T, y, np.where(T == 4, 0.0, se), model="paper")
    with pytest.raises(ValueError, match="non-finite"):
        scaling.fit(J, T, np.where(T == 4, np.nan, y), se, model="paper")
    with pytest.raises(ValueError, match="T must have the shape"):
        scaling.fit(J, T[:-1], y, se, model="paper")
    with pytest.raises(ValueError, match="covariance"):
        scaling.fit(J, T, y, se, model="paper", covariance="sandwich")


def test_compare_prefers_the_true_law(data):
    y, se = data.noisy(data.truth_y("paper"), seed=10)
    fits = {m: scaling.fit(data.J, data.T, y, se, model=m) for m in ("paper", "poly")}
    comp = scaling.compare(fits)
    assert comp.names[0] == "paper" and comp.delta_aic[0] == 0
    assert comp.weights.sum() == pytest.approx(1.0)
    other = scaling.fit(data.J, data.T, y * 1.001, se, model="paper")
    with pytest.raises(ValueError, match="share their data"):
        scaling.compare([fits["paper"], other])


def _coverage(data, model: str, num_fits: int, seed: int):
    truth = data.TRUTH[model]
    y0 = data.truth_y(model)
    hits95 = np.zeros(truth.shape, int)
    hits68 = np.zeros(truth.shape, int)
    for i in range(num_fits):
        y, se = data.noisy(y0, seed=1000 * seed + i, rel=0.01)
        res = scaling.fit(data.J, data.T, y, se, model=model)
        hits95 += (res.ci[:, 0] <= truth) & (truth <= res.ci[:, 1])
        hits68 += np.abs(res.params - truth) <= res.stderr
    return hits95, hits68


def _assert_binomial(hits, n, p):
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    assert np.all(np.abs(hits - mean) <= 4 * sd), f"coverage {hits}/{n}, expected {mean:.1f}"


def test_delta_method_intervals_cover_at_the_nominal_rate(data):
    n = 200
    hits95, hits68 = _coverage(data, "paper", n, seed=11)
    _assert_binomial(hits95, n, 0.95)
    _assert_binomial(hits68, n, stats.norm.cdf(1) - stats.norm.cdf(-1))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["poly", "orderstat"])
def test_delta_method_intervals_cover_multiparameter(data, model):
    n = 200
    hits95, hits68 = _coverage(data, model, n, seed=12)
    _assert_binomial(hits95, n, 0.95)
    _assert_binomial(hits68, n, stats.norm.cdf(1) - stats.norm.cdf(-1))


def test_inflated_intervals_equal_curve_fit_scaled_covariance_when_the_law_misfits(data):
    """Noise 3x the stated SE: chi2/dof ~ 9, and the inflated SEs are scipy's
    ``absolute_sigma=False`` SEs; the interval uses Student's t with ``dof``."""
    y0 = data.truth_y("paper")
    y, se = data.noisy(y0, seed=21)
    y = y0 + 3 * (y - y0)
    res = scaling.fit(data.J, data.T, y, se, model="paper")
    assert res.reduced_chi2 > 4
    popt, pcov = optimize.curve_fit(
        lambda x, c: data.law("paper", [c], x[0], x[1]),
        np.stack([data.J, data.T]),
        y,
        p0=res.params,
        sigma=se,
        absolute_sigma=False,
    )
    np.testing.assert_allclose(res.params, popt, rtol=1e-4)
    np.testing.assert_allclose(res.inflated_stderr, np.sqrt(np.diag(pcov)), rtol=1e-3)
    q = stats.t.ppf(0.975, res.dof)
    lo, hi = res.inflated_estimates["c"][2:]
    np.testing.assert_allclose([lo, hi], res.params[0] + np.array([-q, q]) * res.inflated_stderr[0])
    assert res.to_dict()["misfit_scale"] == pytest.approx(math.sqrt(res.reduced_chi2))


def test_inflated_intervals_equal_the_plain_ones_when_the_law_fits(data):
    y, se = data.noisy(data.truth_y("paper"), seed=22)
    res = scaling.fit(data.J, data.T, y, se * 2, model="paper")  # chi2/dof ~ 1/4
    assert res.reduced_chi2 < 1 and res.misfit_scale == 1.0
    np.testing.assert_array_equal(res.inflated_ci, res.ci)
    scaled = scaling.fit(data.J, data.T, y, se, model="paper", absolute_sigma=False)
    assert scaled.misfit_scale == 1.0  # already scaled by chi2/dof
    np.testing.assert_array_equal(scaled.inflated_ci, scaled.ci)


def test_inflated_intervals_cover_when_the_errors_are_understated(data):
    """With the stated SEs 3x too small the plain 95 % intervals cover far less often; the
    inflated ones cover at the nominal rate (within 4 binomial SDs)."""
    y0, truth, n = data.truth_y("paper"), data.TRUTH["paper"], 100
    plain = inflated = 0
    for i in range(n):
        y, se = data.noisy(y0, seed=5000 + i)
        res = scaling.fit(data.J, data.T, y0 + 3 * (y - y0), se, model="paper")
        plain += int((res.ci[0, 0] <= truth[0]) & (truth[0] <= res.ci[0, 1]))
        inflated += int((res.inflated_ci[0, 0] <= truth[0]) & (truth[0] <= res.inflated_ci[0, 1]))
    _assert_binomial(np.array([inflated]), n, 0.95)
    # plain coverage is P(|Z| < 1.96 / 3) = 0.49
    _assert_binomial(np.array([plain]), n, 2 * stats.norm.cdf(1.96 / 3) - 1)
