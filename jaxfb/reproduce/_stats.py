"""Column tables (``{name: 1-D array}``, written by :func:`jaxfb.io.write_csv`) and the summary
statistics of draws."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

__all__ = ["concat", "mean_se", "quantile_se", "ratio_of_means", "select"]

Table = dict[str, np.ndarray]

_Z95 = 1.959963984540054


def concat(tables: list[Mapping[str, np.ndarray]]) -> Table:
    """Row-wise concatenation of tables with the same columns."""
    return {c: np.concatenate([np.asarray(t[c]) for t in tables]) for c in tables[0]}


def select(table: Mapping[str, np.ndarray], **where) -> int:
    """Index of the unique row where every column equals the given value."""
    mask = np.ones(len(next(iter(table.values()))), dtype=bool)
    for col, val in where.items():
        column = np.asarray(table[col])
        if column.dtype.kind in "fiu":
            mask &= np.isclose(column.astype(float), float(val), rtol=0, atol=1e-9)
        else:
            mask &= column == str(val)
    idx = np.flatnonzero(mask)
    if idx.size != 1:
        raise KeyError(f"{idx.size} rows match {where}")
    return int(idx[0])


def mean_se(x: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and its standard error ``std / sqrt(n)`` along ``axis``."""
    x = np.asarray(x, np.float64)
    n = x.shape[axis]
    with np.errstate(invalid="ignore"):
        return x.mean(axis=axis), x.std(axis=axis, ddof=1) / math.sqrt(n)


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
