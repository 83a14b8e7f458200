"""Per-draw samples behind a sweep's means, for the nonparametric bootstrap of the fits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["load_point_samples", "load_samples"]


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
