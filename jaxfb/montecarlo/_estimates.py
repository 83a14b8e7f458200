r"""Estimates from kept draws (:class:`~jaxfb.montecarlo.Samples`) with their standard errors.

What the streaming reducers report for a mean (:class:`~jaxfb.montecarlo.Moments`), computed
from an array of draws: the mean, a variance and a quantile (distribution-free interval), and a
ratio of two paired means (delta method), each with its standard error; and whether a curve of
such estimates trends (:func:`trend`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["mean_se", "quantile_se", "ratio_of_means", "trend", "variance_se"]

_Z95 = 1.959963984540054


def mean_se(x: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and its standard error ``std / sqrt(n)`` along ``axis`` (``nan`` for one
    draw)."""
    x = np.asarray(x, np.float64)
    n = x.shape[axis]
    mean = x.mean(axis=axis)
    if n < 2:
        return mean, np.full_like(mean, np.nan)
    with np.errstate(invalid="ignore"):
        return mean, x.std(axis=axis, ddof=1) / math.sqrt(n)


def variance_se(x: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Sample variance (``ddof=1``) and its standard error along ``axis``.

    :math:`\operatorname{Var} s^2 = (\mu_4 - \sigma^4 (n - 3)/(n - 1)) / n`, with the central
    moments :math:`\mu_4`, :math:`\sigma^2` estimated from the draws.
    """
    x = np.asarray(x, np.float64)
    n = x.shape[axis]
    d = x - x.mean(axis=axis, keepdims=True)
    var, m4 = np.sum(d * d, axis=axis) / (n - 1), np.mean(d**4, axis=axis)
    return var, np.sqrt(np.maximum(m4 - var * var * (n - 3) / (n - 1), 0.0) / n)


def quantile_se(x: np.ndarray, q: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Sample quantile and its standard error: the half-width over 1.96 of the distribution-free
    95% interval :math:`[x_{(k_-)}, x_{(k_+)}]`, :math:`k_\pm = n q \pm 1.96\sqrt{n q (1 - q)}`;
    ``nan`` where the interval leaves the sample (clipping would understate it)."""
    x = np.sort(np.asarray(x, np.float64), axis=axis)
    n = x.shape[axis]
    value = np.quantile(x, q, axis=axis)
    half = _Z95 * math.sqrt(n * q * (1 - q))
    lo = math.floor(n * q - half) - 1  # 0-based indices of the order statistics k_-, k_+
    hi = math.ceil(n * q + half) - 1
    if lo < 0 or hi > n - 1:
        return value, np.full(np.shape(value), np.nan)[()]
    x_lo = np.take(x, lo, axis=axis)
    x_hi = np.take(x, hi, axis=axis)
    with np.errstate(invalid="ignore"):
        return value, (x_hi - x_lo) / (2 * _Z95)


def ratio_of_means(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``mean(b) / mean(a)`` and its delta-method standard error (paired 1-D draws)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ma, mb, c = a.mean(), b.mean(), np.cov(a, b, ddof=1)
    r = mb / ma
    var = r * r * (c[1, 1] / mb**2 + c[0, 0] / ma**2 - 2 * c[0, 1] / (ma * mb)) / a.size
    return r, np.sqrt(np.maximum(var, 0.0))


def trend(x, values, se) -> str:
    """``"grows"``, ``"shrinks"`` or ``"flat"``: a change from the first to the last point of
    more than 3 standard errors agreeing with Spearman's rank correlation with ``x``
    (``|rho| > 0.5``); ``"undetermined ..."`` where an end's standard error is ``nan``."""
    if not (np.isfinite(se[-1]) and np.isfinite(se[0])):
        return "undetermined (standard error undefined: too few draws)"
    if len(x) > 2:
        rho = stats.spearmanr(x, values).statistic
    else:
        rho = np.sign(values[-1] - values[0])
    change = values[-1] - values[0]
    big = abs(change) > 3 * np.hypot(se[-1], se[0])
    if big and change > 0 and rho > 0.5:
        return "grows"
    return "shrinks" if big and change < 0 and rho < -0.5 else "flat"
