"""Reading a sweep's CSV summary (and per-draw samples) for the scaling-law fits."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_COLUMNS", "load_point_samples", "load_samples", "read_summary"]

DEFAULT_COLUMNS: dict[str, str] = {
    "J": "J",
    "T": "T",
    "N": "N",
    "init": "init",
    "draws": "draws",
    "kappa_mean": "kappa_mean",
    "kappa_se": "kappa_se",
    "log_kappa_mean": "log_kappa_mean",
    "log_kappa_se": "log_kappa_se",
    "kappa_median": "kappa_median",
    "file": "file",
}
"""Canonical field -> CSV column of the sweep engine's summary; override any with ``columns=``."""


_TEXT_FIELDS = ("init", "file")


def _is_float(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def _parse(values: list[str]) -> np.ndarray:
    try:
        return np.array([float(x) for x in values], np.float64)
    except ValueError:
        return np.array(values, dtype=object).astype(str)


def _matches(value: str, wanted: str) -> bool:
    if value == wanted:
        return True
    try:
        return math.isclose(float(value), float(wanted), rel_tol=0, abs_tol=0)
    except ValueError:
        return False


def read_summary(
    path,
    *,
    columns: Mapping[str, str] | None = None,
    required: Sequence[str] = ("J", "T"),
    where: Mapping[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """Read a sweep summary CSV into canonical fields (``J``, ``T``, ``log_kappa_mean``, ...).

    Args:
        path: CSV file with a header row.
        columns: overrides of :data:`DEFAULT_COLUMNS` (canonical field -> CSV column name).
        required: canonical fields that must be present (a clear ``ValueError`` lists the
            missing ones and the header).
        where: keep only rows whose CSV column equals the value (``{"init": "gaussian"}``;
            numbers compare numerically, so ``"N": "1024"`` matches ``1024.0``).

    Returns:
        dict canonical field -> ``(n,)`` array (float64, or str for non-numeric columns), for
        every canonical field present in the file.

    Examples:
        >>> import pathlib, tempfile
        >>> from jaxfb.scaling import read_summary
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
        >>> _ = p.write_text("J,T,my_mean,my_se\\n8,64,1.5,0.01\\n")
        >>> read_summary(p, columns={"log_kappa_mean": "my_mean"})["log_kappa_mean"].tolist()
        [1.5]
    """
    path = Path(path)
    mapping = dict(DEFAULT_COLUMNS)
    if columns:
        unknown = set(columns) - set(DEFAULT_COLUMNS)
        if unknown:
            raise ValueError(
                f"columns has unknown field(s) {sorted(unknown)}; "
                f"fields are {list(DEFAULT_COLUMNS)}"
            )
        mapping.update(columns)
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    if not header:
        raise ValueError(f"{path}: empty file or no header row")
    missing = [f for f in required if mapping[f] not in header]
    if missing:
        desc = ", ".join(f"{f!r} (column {mapping[f]!r})" for f in missing)
        raise ValueError(
            f"{path}: missing column(s) {desc}; found {header}. "
            "Map a field to another column with --column FIELD=COLUMN (columns={...} in Python)."
        )
    for col, value in (where or {}).items():
        if col not in header:
            raise ValueError(f"{path}: cannot filter on {col!r}: no such column in {header}")
        rows = [r for r in rows if _matches(r[col], str(value))]
    if not rows:
        raise ValueError(f"{path}: no rows left after filtering with {dict(where or {})}")
    out = {field: _parse([r[col] for r in rows]) for field, col in mapping.items() if col in header}
    for field in required:
        if field not in _TEXT_FIELDS and out[field].dtype.kind not in "fiu":
            bad = next(x for x in out[field] if not _is_float(x))
            raise ValueError(f"{path}: column {mapping[field]!r} must be numeric, found {bad!r}")
    return out


def load_samples(path, num_filters, length, *, template: str = "J{J}_T{T}") -> list[np.ndarray]:
    """Load per-point draws from an ``.npz`` whose arrays are named by ``template``.

    Args:
        path: ``.npz`` file (e.g. ``samples.npz`` of ``experiments/scaling_quick.py``).
        num_filters, length: ``(n,)`` ``J`` and ``T`` of the points, in the fit's order.
        template: array name for a point, formatted with integer ``J`` and ``T``.

    Returns:
        list of ``n`` 1-D float64 arrays.
    """
    with np.load(path) as data:
        out = []
        for J, T in zip(np.asarray(num_filters), np.asarray(length), strict=True):
            name = template.format(J=int(J), T=int(T))
            if name not in data:
                raise ValueError(f"{path}: no array {name!r} for the point J={J:g}, T={T:g}")
            out.append(np.asarray(data[name], np.float64).reshape(-1))
    return out


def load_point_samples(folder, files, *, array: str = "log_kappa.samples") -> list[np.ndarray]:
    """Load per-point draws from a sweep's point files (the summary's ``file`` column).

    Args:
        folder: the sweep folder (where ``summary.csv`` and the point ``.npz`` files are).
        files: ``(n,)`` file names relative to ``folder``, in the fit's order.
        array: the array holding the draws (the sweep engine stores ``"log_kappa.samples"``
            when it keeps samples).

    Returns:
        list of ``n`` 1-D float64 arrays.
    """
    out = []
    for name in files:
        path = Path(folder) / str(name)
        if not path.exists():
            raise ValueError(f"point file {path} (from the 'file' column) does not exist")
        with np.load(path) as data:
            if array not in data:
                raise ValueError(
                    f"{path} has no array {array!r} (arrays: {sorted(data.files)}); "
                    "rerun the sweep keeping samples, or bootstrap parametrically"
                )
            out.append(np.asarray(data[array], np.float64).reshape(-1))
    return out
