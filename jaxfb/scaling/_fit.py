r"""Weighted least-squares fits of scaling laws with optax's L-BFGS, and delta-method intervals.

Every fit minimises the weighted chi-square of ``n`` points with Monte Carlo standard errors
:math:`s_i`,

.. math:: \chi^2(\theta) = \sum_{i=1}^n \Big(\frac{f(\theta; x_i) - y_i}{s_i}\Big)^2,

with full-batch L-BFGS (:func:`optax.lbfgs` and its zoom line search) inside one jitted
``while_loop``. Parameters are rescaled by the Gauss-Newton diagonal at the starting point, so the
optimiser sees unit curvature in every direction. The covariance is the inverse of the Gauss-Newton
matrix :math:`J^\top W J` (``W = diag(1/s^2)``, ``J = df/dtheta``) or of the Hessian of
:math:`\chi^2/2`; multiplied by :math:`\chi^2/\nu` when the errors are not absolute.

Fits and predictions run in float64 whatever the global ``jax_enable_x64`` flag: the work is done
inside the scoped ``jax.enable_x64(True)`` context, which restores the flag on exit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import stats

from .. import _validation as v
from ._models import Model, get_model

__all__ = ["DEFAULT_MODEL", "Comparison", "Estimate", "FitResult", "compare", "fit", "fit_model"]

_COVARIANCES = ("gauss_newton", "hessian")

DEFAULT_MODEL = "orderstat_n"
"""The law :func:`fit` and ``jaxfb fit`` use by default: exact order statistics of the
Littlewood-Paley sum with the theory's effective counts, the one law that fits every sweep of
docs/scaling.md to the Monte Carlo precision (it is ``"orderstat"`` where ``N = T``)."""


class Estimate(NamedTuple):
    """One fitted parameter: its value, standard error and ``level`` interval."""

    value: float
    stderr: float
    lower: float
    upper: float


def _floor(dtype) -> float:
    """Margin below which poles are continued while fitting: ``sqrt(eps)`` of the dtype."""
    return float(np.sqrt(np.finfo(dtype).eps))


def _gtol(dtype) -> float:
    return 1e-10 if np.finfo(dtype).bits >= 64 else 1e-5


def _weighted(pred, y, se):
    """``(pred - y) / se``, exactly 0 where ``se = inf`` (an excluded point)."""
    w = jnp.where(jnp.isfinite(se), 1 / se, 0)
    return jnp.where(w > 0, (pred - y) * w, 0)


def _residual_fn(model: Model, feats, y, se, floor):
    def resid(theta):
        return _weighted(model.fn(theta, *feats, floor=floor), y, se)

    return resid


def _solve_impl(model, theta0, feats, y, se, gtol, max_iter, floor):
    """L-BFGS on ``chi2 / 2`` from ``theta0``; returns ``(theta, chi2, iterations, grad_norm)``."""
    resid = _residual_fn(model, feats, y, se, floor)
    # diagonal preconditioning: unit Gauss-Newton curvature per parameter at the start
    d = jnp.sqrt(jnp.sum(jax.jacfwd(resid)(theta0) ** 2, axis=0))
    scale = jnp.where(jnp.isfinite(d) & (d > 0), 1 / jnp.where(d > 0, d, 1), 1).astype(y.dtype)

    def loss(z):
        r = resid(theta0 + scale * z)
        return 0.5 * jnp.sum(r * r)

    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(loss)
    eps = jnp.finfo(y.dtype).eps

    def step(carry):
        z, state, best, stall = carry
        value, grad = value_and_grad(z, state=state)
        updates, state = opt.update(grad, state, z, value=value, grad=grad, value_fn=loss)
        z = optax.apply_updates(z, updates)
        new = optax.tree.get(state, "value")
        # progress is measured against the best value so far: at the rounding floor the value
        # can alternate between two neighbours forever
        improved = new < best - 4 * eps * jnp.abs(best)
        return z, state, jnp.minimum(best, new), jnp.where(improved, 0, stall + 1)

    def keep_going(carry):
        _, state, _, stall = carry
        it = optax.tree.get(state, "count")
        g = optax.tree.norm(optax.tree.get(state, "grad"))
        value = optax.tree.get(state, "value")
        small = g <= gtol * (1 + jnp.sqrt(2 * jnp.abs(value)))
        return (it == 0) | ((it < max_iter) & ~small & (stall < 3))

    z0 = jnp.zeros_like(theta0)
    init = (z0, opt.init(z0), jnp.asarray(jnp.inf, y.dtype), jnp.asarray(0))
    z, state, _, _ = jax.lax.while_loop(keep_going, step, init)
    theta = theta0 + scale * z
    r = resid(theta)
    grad_norm = optax.tree.norm(optax.tree.get(state, "grad"))
    return theta, jnp.sum(r * r), optax.tree.get(state, "count"), grad_norm


_solve = jax.jit(_solve_impl, static_argnames=("model", "floor"))
"""Jitted single fit: compiles once per model, data shape and dtype."""


def _solve_batch_impl(model, theta0, feats, ys, ses, gtol, max_iter, floor):
    # a sequential map, not vmap: every fit stops at its own convergence (a vmapped while loop
    # runs all lanes to the slowest) and the program compiles about twice as fast
    def one(data):
        return _solve_impl(model, theta0, feats, data[0], data[1], gtol, max_iter, floor)

    return jax.lax.map(one, (ys, ses))


_solve_batch = jax.jit(_solve_batch_impl, static_argnames=("model", "floor"))
"""Jitted batch of fits of one model to ``(B, n)`` data (bootstrap), from a common start."""


@partial(jax.jit, static_argnames=("model",))
def _prepared(model, args):
    return model.prepared(*args)


def _features(model, xs):
    """``model.features(*xs)``: the host step eagerly, ``prepare`` jitted."""
    return _prepared(model, (*xs, *model.host_inputs(*xs)))


@partial(jax.jit, static_argnames=("model",))
def _predict(model, theta, feats):
    return model.fn(theta, *feats, floor=0.0)


@partial(jax.jit, static_argnames=("model",))
def _jacobian(model, theta, feats):
    return jax.jacfwd(lambda t: model.fn(t, *feats, floor=0.0))(theta)


@partial(jax.jit, static_argnames=("model",))
def _hessian(model, theta, feats, y, se):
    def half_chi2(t):
        r = _weighted(model.fn(t, *feats, floor=0.0), y, se)
        return 0.5 * jnp.sum(r * r)

    return jax.hessian(half_chi2)(theta)


def _inverse(matrix: np.ndarray) -> np.ndarray:
    k = matrix.shape[0]
    if k == 0:
        return np.zeros((0, 0))
    if not np.all(np.isfinite(matrix)):
        return np.full((k, k), np.inf)
    try:
        inv = np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return np.full((k, k), np.inf)
    return 0.5 * (inv + inv.T)


@dataclass(frozen=True)
class FitResult:
    r"""A fitted model: estimates, their covariance and intervals, and goodness of fit.

    Attributes:
        model: the :class:`~jaxfb.scaling.Model`.
        params: ``(k,)`` estimates, in ``model.param_names`` order.
        cov: ``(k, k)`` covariance of the estimates (delta method).
        stderr: ``(k,)`` standard errors, ``sqrt(diag(cov))``.
        ci: ``(k, 2)`` ``level`` confidence intervals ``params -/+ z stderr`` (a Student-t
            quantile with ``dof`` degrees of freedom when ``absolute_sigma`` is false).
        level: confidence level of ``ci``.
        chi2: weighted chi-square at the estimate, :math:`\sum_i r_i^2`.
        aic: :math:`\chi^2 + 2k`; bic: :math:`\chi^2 + k\log n` (Gaussian likelihood with known
            variances, up to a constant shared by every model fitted to the same data).
        residuals: ``(n,)`` standardised residuals :math:`r_i = (y_i - \hat y_i)/s_i` (NaN at
            excluded points, ``se = inf``).
        fitted: ``(n,)`` predictions at the data.
        covariates, y, se: the data (NumPy arrays, ``(n,)`` each).
        converged: the optimiser stopped on its gradient test (not on ``max_iter``).
        iterations: L-BFGS iterations.
        feasible: every prediction at the data is finite (no point beyond a pole).
        absolute_sigma: the ``se`` were taken as absolute (covariance not rescaled).
        covariance_method: ``"gauss_newton"`` or ``"hessian"``.

    A law that misfits (``reduced_chi2 > 1``) has intervals that are too narrow: they only carry
    the Monte Carlo noise. :attr:`misfit_scale`, :attr:`inflated_stderr`, :attr:`inflated_ci`
    and :attr:`inflated_estimates` give the quasi-likelihood correction: standard errors times
    ``sqrt(chi2 / dof)`` when that exceeds 1, intervals from Student's t with ``dof`` degrees of
    freedom; for a law that fits they equal ``stderr`` and ``ci``.
    """

    model: Model
    params: np.ndarray
    cov: np.ndarray
    stderr: np.ndarray
    ci: np.ndarray
    level: float
    chi2: float
    aic: float
    bic: float
    residuals: np.ndarray
    fitted: np.ndarray
    covariates: tuple[np.ndarray, ...] = field(repr=False)
    y: np.ndarray = field(repr=False)
    se: np.ndarray = field(repr=False)
    converged: bool = True
    iterations: int = 0
    feasible: bool = True
    absolute_sigma: bool = True
    covariance_method: str = "gauss_newton"

    @property
    def num_points(self) -> int:
        """Points in the fit (those with a finite ``se``)."""
        return int(np.sum(np.isfinite(self.se)))

    @property
    def dof(self) -> int:
        """Degrees of freedom ``n - k``."""
        return self.num_points - self.model.num_params

    @property
    def reduced_chi2(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else math.nan

    @property
    def misfit_scale(self) -> float:
        """``sqrt(max(1, chi2 / dof))``; 1 when ``absolute_sigma`` is false (already scaled)."""
        if not self.absolute_sigma:
            return 1.0
        return math.sqrt(max(1.0, self.reduced_chi2)) if self.dof > 0 else math.inf

    @property
    def inflated_stderr(self) -> np.ndarray:
        """``(k,)`` standard errors times :attr:`misfit_scale` (the quasi-likelihood SEs)."""
        return self.stderr * self.misfit_scale

    @property
    def inflated_ci(self) -> np.ndarray:
        """``(k, 2)`` ``level`` intervals with :attr:`inflated_stderr`; equal to ``ci`` unless
        the law misfits (``reduced_chi2 > 1``), then with Student's t quantile for ``dof``.

        Examples:
            >>> import numpy as np
            >>> from jaxfb import scaling
            >>> T = np.array([8.0, 16, 32, 64, 128])
            >>> y = 3 + 5 * np.log(T) + np.array([0.3, -0.3, 0.3, -0.3, 0.3])
            >>> rule = scaling.fit_critical_rule(T, y, np.full(5, 0.1))
            >>> round(rule.reduced_chi2, 1), round(rule.misfit_scale, 2)  # sqrt(14.4)
            (14.4, 3.79)
            >>> bool(np.all(np.diff(rule.inflated_ci) > np.diff(rule.ci)))
            True
        """
        scale = self.misfit_scale
        if scale == 1.0:
            return self.ci
        q = stats.t.ppf(0.5 + self.level / 2, self.dof)
        half = q * self.inflated_stderr
        return np.stack([self.params - half, self.params + half], axis=-1)

    @property
    def inflated_estimates(self) -> dict[str, Estimate]:
        """:attr:`estimates` with :attr:`inflated_stderr` and :attr:`inflated_ci`."""
        rows = zip(
            self.model.param_names, self.params, self.inflated_stderr, self.inflated_ci, strict=True
        )
        return {n: Estimate(float(p), float(s), float(lo), float(hi)) for n, p, s, (lo, hi) in rows}

    @property
    def p_value(self) -> float:
        """``P(chi2_dof > chi2)``: small values flag a model that misfits the data."""
        return float(stats.chi2.sf(self.chi2, self.dof)) if self.dof > 0 else math.nan

    @property
    def param_dict(self) -> dict[str, float]:
        """``{name: value}`` of the parameters, in ``model.param_names`` order."""
        return {n: float(p) for n, p in zip(self.model.param_names, self.params, strict=True)}

    @property
    def estimates(self) -> dict[str, Estimate]:
        """``{name: Estimate(value, stderr, lower, upper)}``, in ``model.param_names`` order.

        Examples:
            >>> import numpy as np
            >>> from jaxfb import scaling
            >>> T = np.array([8.0, 16, 32, 64])
            >>> rule = scaling.fit_critical_rule(T, 3 + 5 * np.log(T), np.full(4, 0.1))
            >>> round(rule.estimates["b"].value, 6)
            5.0
        """
        rows = zip(self.model.param_names, self.params, self.stderr, self.ci, strict=True)
        return {n: Estimate(float(p), float(s), float(lo), float(hi)) for n, p, s, (lo, hi) in rows}

    def predict(self, *covariates, params=None) -> np.ndarray:
        """Model prediction (``+inf`` beyond a pole) at covariates that broadcast together.

        For the scaling laws ``predict(J, T)`` (``predict(J, T, N)`` for laws that take the
        signal length, ``"orderstat_n"``) returns :math:`\\mathbb E[\\log\\kappa]`;
        ``np.exp`` of it is the (geometric-mean) condition number. Evaluated in float64.

        Args:
            *covariates: one array per ``model.covariates``.
            params: ``(k,)`` parameters in ``model.param_names`` order at which to evaluate the
                law (default: the estimates ``self.params``), e.g. for numerical derivatives.

        Returns:
            NumPy float64 array of the broadcast shape of the covariates.
        """
        if len(covariates) != len(self.model.covariates):
            raise TypeError(
                f"predict takes the covariates {self.model.covariates}, "
                f"got {len(covariates)} arrays"
            )
        k = self.model.num_params
        theta = self.params if params is None else np.asarray(params, np.float64).reshape(-1)
        if theta.shape != (k,):
            raise ValueError(
                f"params must have shape ({k},) (one value per {self.model.param_names}), "
                f"got shape {np.shape(params)}"
            )
        with jax.enable_x64(True):
            xs = np.broadcast_arrays(
                *(
                    np.asarray(v.float_array(n, x), np.float64)
                    for n, x in zip(self.model.covariates, covariates, strict=True)
                )
            )
            shape = xs[0].shape
            self.model.validate(*xs)
            xs = tuple(jnp.asarray(x.reshape(-1)) for x in xs)
            pred = _predict(self.model, jnp.asarray(theta), _features(self.model, xs))
            return np.asarray(pred, np.float64).reshape(shape)

    def to_dict(self) -> dict[str, Any]:
        """A summary for :func:`jaxfb.io.to_json` (no data arrays except the residuals).

        Parameters, standard errors and intervals are keyed by name; non-finite numbers stay
        floats (``jaxfb.io`` writes them as ``"nan"``, ``"inf"``).
        """
        names = self.model.param_names
        return {
            "model": self.model.name,
            "formula": self.model.formula,
            "params": dict(zip(names, self.params.tolist(), strict=True)),
            "stderr": dict(zip(names, self.stderr.tolist(), strict=True)),
            "ci": dict(zip(names, self.ci.tolist(), strict=True)),
            "level": self.level,
            "cov": self.cov.tolist(),
            "chi2": float(self.chi2),
            "dof": self.dof,
            "reduced_chi2": float(self.reduced_chi2),
            "p_value": float(self.p_value),
            "aic": float(self.aic),
            "bic": float(self.bic),
            "num_points": self.num_points,
            "converged": self.converged,
            "iterations": self.iterations,
            "feasible": self.feasible,
            "absolute_sigma": self.absolute_sigma,
            "misfit_scale": float(self.misfit_scale),
            "inflated_stderr": dict(zip(names, self.inflated_stderr.tolist(), strict=True)),
            "inflated_ci": dict(zip(names, self.inflated_ci.tolist(), strict=True)),
            "covariance_method": self.covariance_method,
            "residuals": self.residuals.tolist(),
        }


def _check_data(model: Model, covariates, y, se):
    if len(covariates) != len(model.covariates):
        raise ValueError(
            f"model {model.name!r} takes covariates {model.covariates}, "
            f"got {len(covariates)} arrays"
        )
    y = v.float_array("y", y)
    se = v.float_array("se", se)
    if y.ndim != 1:
        raise ValueError(f"y must have shape (n,), got shape {y.shape}")
    n = y.shape[0]
    xs = []
    for name, x in zip(model.covariates, covariates, strict=True):
        x = v.float_array(name, x)
        if x.shape != (n,):
            raise ValueError(f"{name} must have the shape of y {(n,)}, got shape {x.shape}")
        v.check_finite(name, x)
        xs.append(x)
    model.validate(*xs)
    if se.shape != (n,):
        raise ValueError(f"se must have the shape of y {(n,)}, got shape {se.shape}")
    v.check_finite("y", y)
    bad = jnp.isnan(se) | (se <= 0)
    if bool(jnp.any(bad)):
        i = int(jnp.argmax(bad))
        raise ValueError(
            f"se must be > 0 (or +inf to exclude a point), got se[{i}] = {float(se[i])}"
        )
    used = int(jnp.sum(jnp.isfinite(se)))
    if used < max(model.num_params, 1):
        raise ValueError(
            f"need at least {max(model.num_params, 1)} points with a finite se for model "
            f"{model.name!r}, got {used}"
        )
    return tuple(x.astype(jnp.float64) for x in xs), y.astype(jnp.float64), se.astype(jnp.float64)


def fit_model(
    model: str | Model,
    covariates: tuple,
    y,
    se,
    *,
    init=None,
    level: float = 0.95,
    absolute_sigma: bool = True,
    covariance: str = "gauss_newton",
    max_iter: int = 1000,
) -> FitResult:
    r"""Fit any :class:`Model` by weighted least squares (L-BFGS); the engine behind :func:`fit`.

    Args:
        model: a :class:`Model` or a registered name.
        covariates: tuple of ``(n,)`` arrays, one per ``model.covariates``.
        y: ``(n,)`` targets.
        se: ``(n,)`` standard errors ``> 0`` (weights ``1/se^2``). ``se = +inf`` excludes a point
            (weight 0; its residual is NaN) while keeping the data shape, so fits of subsets of
            one table reuse the compiled solver.
        init: ``(k,)`` starting point; default ``model.init(*covariates, y)``.
        level: confidence level of the intervals.
        absolute_sigma: take ``se`` as absolute (default). If false, the covariance is scaled by
            :math:`\chi^2/\nu` and intervals use Student's t (``scipy.optimize.curve_fit``'s
            default), which absorbs a model misfit into the error bars.
        covariance: ``"gauss_newton"`` (:math:`(J^\top W J)^{-1}`) or ``"hessian"``
            (inverse Hessian of :math:`\chi^2/2` from :func:`jax.hessian`).
        max_iter: L-BFGS iteration cap.

    Returns:
        :class:`FitResult` (float64, whatever the ``jax_enable_x64`` flag).
    """
    model = get_model(model)
    if covariance not in _COVARIANCES:
        raise ValueError(f"covariance must be one of {_COVARIANCES}, got {covariance!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    max_iter = v.static_int("max_iter", max_iter, minimum=1)
    with jax.enable_x64(True):
        return _fit_float64(
            model, tuple(covariates), y, se, init, level, absolute_sigma, covariance, max_iter
        )


def _fit_float64(model, covariates, y, se, init, level, absolute_sigma, covariance, max_iter):
    """The body of :func:`fit_model`, run with float64 enabled."""
    xs, y, se = _check_data(model, covariates, y, se)
    dtype = y.dtype
    k = model.num_params
    np_xs = tuple(np.asarray(x, np.float64) for x in xs)
    used = np.isfinite(np.asarray(se))
    if init is None:
        init = model.init(*(x[used] for x in np_xs), np.asarray(y, np.float64)[used])
    theta0 = jnp.asarray(np.asarray(init, np.float64).reshape(-1), dtype)
    if theta0.shape != (k,):
        raise ValueError(
            f"init must have shape ({k},) for model {model.name!r}, got {theta0.shape}"
        )
    feats = _features(model, xs)
    if not bool(np.all(np.isfinite(np.asarray(_predict(model, theta0, feats)))[used])):
        raise ValueError(
            f"init={np.asarray(theta0).tolist()} gives non-finite predictions for model "
            f"{model.name!r} (beyond a pole?); pass a feasible init"
        )
    if k:
        theta, chi2, iters, gnorm = _solve(
            model, theta0, feats, y, se, _gtol(dtype), max_iter, floor=_floor(dtype)
        )
        iters = int(iters)
        converged = iters < max_iter and bool(jnp.isfinite(gnorm))
    else:
        theta, iters, converged = theta0, 0, True
    fitted = _predict(model, theta, feats)
    r = np.where(used, -np.asarray(_weighted(fitted, y, se), np.float64), np.nan)
    chi2 = float(np.sum(r[used] ** 2))
    n = int(used.sum())
    if covariance == "gauss_newton":
        jac = np.asarray(_jacobian(model, theta, feats), np.float64)[used]
        jac = jac / np.asarray(se, np.float64)[used, None]
        info = jac.T @ jac
    else:
        info = np.asarray(_hessian(model, theta, feats, y, se), np.float64)
    cov = _inverse(info)
    dof = n - k
    if not absolute_sigma:
        cov = cov * (chi2 / dof if dof > 0 else math.inf)
        q = stats.t.ppf(0.5 + level / 2, dof) if dof > 0 else math.inf
    else:
        q = stats.norm.ppf(0.5 + level / 2)
    stderr = np.sqrt(np.maximum(np.diag(cov), 0))
    params = np.asarray(theta, np.float64)
    ci = np.stack([params - q * stderr, params + q * stderr], axis=-1).reshape(k, 2)
    return FitResult(
        model=model,
        params=params,
        cov=cov,
        stderr=stderr,
        ci=ci,
        level=float(level),
        chi2=chi2,
        aic=chi2 + 2 * k,
        bic=chi2 + k * math.log(n),
        residuals=r,
        fitted=np.asarray(fitted, np.float64),
        covariates=np_xs,
        y=np.asarray(y, np.float64),
        se=np.asarray(se, np.float64),
        converged=converged,
        iterations=iters,
        feasible=bool(np.all(np.isfinite(np.asarray(fitted))[used])),
        absolute_sigma=bool(absolute_sigma),
        covariance_method=covariance,
    )


def fit(
    num_filters,
    length,
    y,
    se,
    *,
    model: str | Model = DEFAULT_MODEL,
    n=None,
    init=None,
    level: float = 0.95,
    absolute_sigma: bool = True,
    covariance: str = "gauss_newton",
    max_iter: int = 1000,
) -> FitResult:
    r"""Fit a scaling law :math:`\mathbb E[\log\kappa] = f(\theta; J, T[, N])` to Monte Carlo means.

    Weighted least squares with the Monte Carlo standard errors as weights, minimised by optax's
    full-batch L-BFGS (jit-compiled once per model and data shape):

    .. math:: \hat\theta = \arg\min_\theta \sum_i \Big(\frac{f(\theta; J_i, T_i) - y_i}{s_i}\Big)^2

    Intervals are from the delta method (``covariance=``); see :func:`bootstrap` for resampling
    intervals and :func:`compare` for AIC/BIC model comparison. The fit runs in float64 whatever
    the ``jax_enable_x64`` flag (in the scoped ``jax.enable_x64(True)`` context; the global flag
    is unchanged afterwards).

    Args:
        num_filters: ``(n,)`` numbers of filters ``J``.
        length: ``(n,)`` filter lengths ``T``.
        y: ``(n,)`` targets, usually the Monte Carlo mean of ``log kappa`` per point (any target
            the model predicts, e.g. ``log`` of the mean of ``kappa``).
        se: ``(n,)`` their standard errors, ``> 0``.
        model: a registered name (:data:`MODELS`: ``"orderstat_n"``, ``"orderstat"``,
            ``"paper"``, ``"extreme"``, ``"poly"``, ``"collapse"``) or a :class:`Model`. Default
            ``"orderstat_n"``, the law docs/scaling.md recommends (the only one that fits every
            measured sweep; the paper's form is rejected there); it needs ``n``.
        n: ``(n,)`` signal lengths ``N >= T``: required by laws whose covariates include ``N``
            (``"orderstat_n"``; a scalar broadcasts; ``n=length`` for sweeps with ``N = T``),
            ignored by laws of ``(J, T)`` alone, so one call pattern serves every law in
            :data:`LAWS`.
        init, level, absolute_sigma, covariance, max_iter: see :func:`fit_model`.

    Returns:
        :class:`FitResult` with ``params``, ``cov``, ``ci``, ``chi2``, ``aic``, ``bic``,
        standardised ``residuals`` and a ``predict(J, T)`` method (``predict(J, T, N)`` for
        laws of ``N``).

    Examples:
        >>> import numpy as np
        >>> from jaxfb import scaling
        >>> J, T = np.meshgrid([8.0, 16, 32, 64], [16.0, 64, 256, 1024])
        >>> J, T = J.ravel(), T.ravel()
        >>> u = np.log(T) / J
        >>> y = np.log((1 + 0.9 * np.sqrt(u)) / (1 - 0.9 * np.sqrt(u)))
        >>> res = scaling.fit(J, T, y, np.full_like(y, 0.01), model="paper")
        >>> round(float(res.params[0]), 3)
        0.9

        The signal length enters the ``"orderstat_n"`` law, whose counts at ``b_B = b_A = 1/2``
        are :mod:`jaxfb.theory`'s at the medians; fitted to the theory's prediction (whose
        counts vary with the level), it finds other ``b``:

        >>> from jaxfb import theory
        >>> J, T = np.array([8, 8, 32, 32]), np.array([16, 64, 16, 64])
        >>> y = theory.expected_log_condition_number(J, T, 1024)
        >>> res = scaling.fit(J, T, y, np.full(4, 0.01), model="orderstat_n", n=1024)
        >>> np.round(res.params, 3).tolist()
        [0.354, 0.586]
    """
    model = get_model(model)
    covariates = (num_filters, length)
    if "N" in model.covariates:
        if n is None:
            raise ValueError(
                f"model {model.name!r} depends on the signal length: pass n= (the N of each "
                "point, one N for all, or n=length when N = T), or choose another model="
            )
        if model.covariates != ("J", "T", "N"):
            raise ValueError(
                f"fit passes covariates (J, T, N); model {model.name!r} takes "
                f"{model.covariates}: use fit_model"
            )
        shape = np.shape(length)
        if np.ndim(n) == 0:
            n = np.full(shape, n, np.result_type(float, np.asarray(n)))
        elif np.shape(n) != shape:
            raise ValueError(
                f"n must be a scalar or have the shape of length {shape}, got {np.shape(n)}"
            )
        covariates = (num_filters, length, n)
    return fit_model(
        model,
        covariates,
        y,
        se,
        init=init,
        level=level,
        absolute_sigma=absolute_sigma,
        covariance=covariance,
        max_iter=max_iter,
    )


class Comparison(NamedTuple):
    """Information-criterion comparison of models fitted to the same data (sorted by AIC)."""

    names: tuple[str, ...]
    num_params: np.ndarray
    chi2: np.ndarray
    aic: np.ndarray
    bic: np.ndarray
    delta_aic: np.ndarray
    """``AIC - min AIC``: above about 10, a model has essentially no support."""
    delta_bic: np.ndarray
    weights: np.ndarray
    """Akaike weights ``exp(-delta_aic / 2)``, normalised."""


def compare(fits) -> Comparison:
    """Rank fits of different models to the same data by AIC (also BIC, Akaike weights).

    Args:
        fits: sequence (or dict of name -> fit) of :class:`FitResult` on identical data.

    Returns:
        :class:`Comparison`, rows sorted by increasing AIC.

    Examples:
        >>> import numpy as np
        >>> from jaxfb import scaling
        >>> J, T = np.meshgrid([8.0, 16, 32, 64], [16.0, 64, 256, 1024])
        >>> J, T = J.ravel(), T.ravel()
        >>> y = 2.4 * np.sqrt(np.log(T) / J)
        >>> se = np.full_like(y, 0.01)
        >>> fits = [scaling.fit(J, T, y, se, model=m) for m in ("paper", "poly")]
        >>> scaling.compare(fits).names[0]
        'poly'
    """
    fits = list(fits.values()) if isinstance(fits, dict) else list(fits)
    if not fits:
        raise ValueError("fits must not be empty")
    y0 = fits[0].y
    for f in fits[1:]:
        if f.y.shape != y0.shape or not np.array_equal(f.y, y0):
            raise ValueError(
                f"fits must share their data: {f.model.name!r} was fitted to different y"
            )
    aic = np.array([f.aic for f in fits])
    order = np.argsort(aic, kind="stable")
    fits = [fits[i] for i in order]
    aic = aic[order]
    bic = np.array([f.bic for f in fits])
    d_aic = aic - aic.min()
    w = np.exp(-0.5 * d_aic)
    return Comparison(
        names=tuple(f.model.name for f in fits),
        num_params=np.array([f.model.num_params for f in fits]),
        chi2=np.array([f.chi2 for f in fits]),
        aic=aic,
        bic=bic,
        delta_aic=d_aic,
        delta_bic=bic - bic.min(),
        weights=w / w.sum(),
    )
