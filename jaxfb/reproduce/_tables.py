"""Column tables (``{name: 1-D array}``), their CSV files, and the summary statistics of draws.

A table is a plain ``dict`` of equally long 1-D NumPy arrays (floats, ints or strings): what a
figure plots, written beside it as CSV with the same basename. Floats are written with 12
significant digits (``inf``, ``-inf`` and ``nan`` spelled out), so :func:`read_csv` returns what
the report quotes.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = [
    "concat",
    "mean_se",
    "quantile_se",
    "ratio_of_means",
    "read_csv",
    "select",
    "write_csv",
]

Table = dict[str, np.ndarray]

_Z95 = 1.959963984540054


def _fmt(value) -> str:
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return format(v, ".12g")


def write_csv(path: str | Path, table: Mapping[str, np.ndarray]) -> None:
    """Write ``table`` as CSV (header row, then one row per entry)."""
    cols = list(table)
    n = {len(np.asarray(table[c])) for c in cols}
    if len(n) > 1:
        raise ValueError(f"table columns differ in length: { {c: len(table[c]) for c in cols} }")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(cols)
        for row in zip(*(np.asarray(table[c]).tolist() for c in cols), strict=True):
            writer.writerow([_fmt(v) for v in row])


def read_csv(path: str | Path) -> Table:
    """Read a CSV written by :func:`write_csv`: numeric columns as float arrays, others as str."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    out: Table = {}
    for i, name in enumerate(header):
        values = [r[i] for r in body]
        try:
            out[name] = np.array([float(v) for v in values], dtype=np.float64)
        except ValueError:
            out[name] = np.array(values, dtype=str)
    return out


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
    r"""Sample quantile and a standard error from the distribution-free order-statistic interval.

    The 95% interval of the ``q`` quantile is :math:`[x_{(k_-)}, x_{(k_+)}]` with
    :math:`k_\pm = n q \pm 1.96\sqrt{n q (1 - q)}` (binomial normal approximation); the standard
    error is its half-width over 1.96. Where an end of the interval falls outside the sample
    (:math:`k_- < 1` or :math:`k_+ > n`: too few draws for so extreme a quantile, e.g. the 99%
    quantile of 200 draws) the standard error is ``nan``: clipping the index to the sample would
    understate it.
    """
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


def ratio_of_means(a: np.ndarray, b: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""``mean(b) / mean(a)`` and its delta-method standard error (paired draws)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    n = a.shape[axis]
    ma, mb = a.mean(axis=axis), b.mean(axis=axis)
    va, vb = a.var(axis=axis, ddof=1), b.var(axis=axis, ddof=1)
    cov = ((a - np.expand_dims(ma, axis)) * (b - np.expand_dims(mb, axis))).sum(axis=axis) / (n - 1)
    r = mb / ma
    var = r * r * (vb / mb**2 + va / ma**2 - 2 * cov / (ma * mb)) / n
    return r, np.sqrt(np.maximum(var, 0.0))
