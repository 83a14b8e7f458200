r"""Bootstrap intervals for scaling-law fits: parametric (from means and SEs) or over the draws.

Each resample redoes the Monte Carlo summary and the fit:

- parametric (no ``samples``): :math:`y_i^* = y_i + s_i\varepsilon_i`, :math:`\varepsilon_i\sim
  \mathcal N(0, 1)`, fitted with the original weights;
- nonparametric (``samples``, the per-draw values behind each mean): each point's draws are
  resampled with replacement, and :math:`y_i^*`, :math:`s_i^*` are their mean and standard error.

All resamples are fitted in one jitted program (a ``lax.map`` of L-BFGS solves started at the
estimate).
Intervals are percentile intervals of the refitted parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validation as v
from ._fit import FitResult, _features, _floor, _gtol, _solve_batch

__all__ = ["Bootstrap", "bootstrap"]


class Bootstrap(NamedTuple):
    """Bootstrap distribution of the parameters of a fit."""

    params: np.ndarray
    """``(B, k)`` refitted parameters (failed refits removed)."""
    stderr: np.ndarray
    """``(k,)`` standard deviation of ``params``."""
    cov: np.ndarray
    """``(k, k)`` covariance of ``params``."""
    ci: np.ndarray
    """``(k, 2)`` percentile intervals at ``level``."""
    level: float
    num_failed: int
    """Resamples whose refit did not converge or left the domain (dropped)."""
    kind: str
    """``"parametric"`` or ``"nonparametric"``."""


def _pad_samples(samples: Sequence, y: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = y.shape[0]
    if len(samples) != n:
        raise ValueError(f"samples must hold one array per point ({n}), got {len(samples)}")
    rows = []
    for i, s in enumerate(samples):
        s = np.asarray(s, np.float64).reshape(-1)
        if s.size < 2:
            raise ValueError(f"samples[{i}] must hold at least 2 draws, got {s.size}")
        if not np.all(np.isfinite(s)):
            raise ValueError(f"samples[{i}] has non-finite draws")
        # the samples must be the draws behind y (same order): a cheap consistency check
        if np.isfinite(se[i]) and abs(s.mean() - y[i]) > 0.05 * se[i] + 1e-6 * (1 + abs(y[i])):
            raise ValueError(
                f"samples[{i}] has mean {s.mean():.6g} but y[{i}] = {y[i]:.6g} "
                f"(se {se[i]:.3g}): samples must be the per-draw values behind y, in its order"
            )
        rows.append(s)
    counts = np.array([r.size for r in rows])
    padded = np.zeros((n, counts.max()))
    for i, r in enumerate(rows):
        padded[i, : r.size] = r
    return padded, counts


@partial(jax.jit, static_argnames=("batch_size",))
def _resample_draws(keys, padded, counts, batch_size):
    """Means and SEs of each point's draws resampled with replacement, for each key."""
    n, dmax = padded.shape
    cols = jnp.arange(dmax)[None, :]
    mask = cols < counts[:, None]
    cnt = counts.astype(padded.dtype)

    def one(key):
        u = jax.random.uniform(key, (n, dmax), padded.dtype)
        idx = jnp.minimum(jnp.floor(u * cnt[:, None]).astype(jnp.int32), counts[:, None] - 1)
        x = jnp.take_along_axis(padded, idx, axis=1)
        mean = jnp.sum(jnp.where(mask, x, 0), axis=1) / cnt
        dev = jnp.where(mask, x - mean[:, None], 0)
        var = jnp.sum(dev * dev, axis=1) / (cnt - 1)
        return mean, jnp.sqrt(var / cnt)

    return jax.lax.map(one, keys, batch_size=batch_size)


def bootstrap(
    key: jax.Array,
    result: FitResult,
    *,
    num_resamples: int = 1000,
    samples: Sequence | None = None,
    level: float | None = None,
    max_iter: int = 1000,
) -> Bootstrap:
    r"""Bootstrap the parameters of a fit: parametric from ``(y, se)``, or over per-point draws.

    Parametric: :math:`y^*_i = y_i + s_i\varepsilon_i`, refitted with weights :math:`1/s_i^2`.
    Nonparametric (``samples`` given): the draws of each point are resampled with replacement and
    the fit uses their new mean and standard error. The refits run in one jitted program (L-BFGS
    from ``result.params``); intervals are the ``(1 -/+ level)/2`` percentiles.

    Args:
        key: a JAX PRNG key.
        result: a :class:`FitResult` (from :func:`fit` or :func:`fit_model`).
        num_resamples: ``B``, static Python int.
        samples: optional sequence of ``n`` 1-D arrays, the per-draw values whose means are
            ``result.y`` (e.g. ``log kappa`` of every draw), in the same order as the data.
        level: interval level; default ``result.level``.
        max_iter: L-BFGS iteration cap per refit.

    Returns:
        :class:`Bootstrap` with ``params (B, k)``, ``stderr``, ``cov``, ``ci (k, 2)`` (float64,
        whatever the ``jax_enable_x64`` flag).

    Examples:
        >>> import jax, numpy as np
        >>> from jaxfb import scaling
        >>> J, T = np.meshgrid([8.0, 16, 32, 64], [16.0, 64, 256, 1024])
        >>> J, T = J.ravel(), T.ravel()
        >>> y = np.log((1 + np.sqrt(np.log(T) / J)) / (1 - np.sqrt(np.log(T) / J)))
        >>> res = scaling.fit(J, T, y, np.full_like(y, 0.01), model="paper")
        >>> boot = scaling.bootstrap(jax.random.key(0), res, num_resamples=200)
        >>> boot.params.shape
        (200, 1)
    """
    if not isinstance(result, FitResult):
        raise TypeError(f"result must be a FitResult, got {type(result).__name__}")
    B = v.static_int("num_resamples", num_resamples, minimum=2)
    level = result.level if level is None else float(level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if result.model.num_params == 0:
        raise ValueError(f"model {result.model.name!r} has no parameters to bootstrap")
    with jax.enable_x64(True):
        return _bootstrap_float64(key, result, B, samples, level, max_iter)


def _bootstrap_float64(key, result, B, samples, level, max_iter) -> Bootstrap:
    """The body of :func:`bootstrap`, run with float64 enabled."""
    model = result.model
    dtype = jnp.float64
    xs = tuple(jnp.asarray(x, dtype) for x in result.covariates)
    y = jnp.asarray(result.y, dtype)
    se = jnp.asarray(result.se, dtype)
    n = y.shape[0]
    if samples is None:
        kind = "parametric"
        eps = jax.random.normal(key, (B, n), dtype)
        ys = y[None, :] + jnp.where(jnp.isfinite(se), se, 0)[None, :] * eps
        ses = jnp.broadcast_to(se[None, :], (B, n))
    else:
        kind = "nonparametric"
        padded, counts = _pad_samples(samples, result.y, result.se)
        keys = jax.random.split(key, B)
        ys, ses = _resample_draws(
            keys, jnp.asarray(padded, dtype), jnp.asarray(counts, jnp.int32), batch_size=16
        )
        ses = jnp.maximum(ses, jnp.finfo(dtype).tiny)
        ses = jnp.where(jnp.isfinite(se)[None, :], ses, jnp.inf)
    feats = _features(model, xs)
    theta0 = jnp.asarray(result.params, dtype)
    theta, chi2, iters, _ = _solve_batch(
        model, theta0, feats, ys, ses, _gtol(dtype), max_iter, floor=_floor(dtype)
    )
    theta = np.asarray(theta, np.float64)
    ok = np.all(np.isfinite(theta), axis=1) & np.isfinite(np.asarray(chi2))
    ok &= np.asarray(iters) < max_iter
    params = theta[ok]
    if params.shape[0] < 2:
        raise ValueError(
            f"only {params.shape[0]} of {B} bootstrap refits converged inside the domain"
        )
    alpha = 0.5 * (1 - level)
    ci = np.stack(
        [np.quantile(params, alpha, axis=0), np.quantile(params, 1 - alpha, axis=0)], axis=-1
    )
    cov = np.atleast_2d(np.cov(params, rowvar=False))
    return Bootstrap(
        params=params,
        stderr=np.sqrt(np.diag(cov)),
        cov=cov,
        ci=ci,
        level=level,
        num_failed=int(B - params.shape[0]),
        kind=kind,
    )
