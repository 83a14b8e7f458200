"""Column tables of the reproduction (``{name: 1-D array}``, written by
:func:`jaxfb.io.write_csv`): row-wise concatenation and row lookup."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["concat", "select"]

Table = dict[str, np.ndarray]


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
