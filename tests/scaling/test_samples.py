"""Loading the per-draw samples behind a sweep's means (jaxfb/scaling/_samples.py)."""

from __future__ import annotations

import numpy as np
import pytest

from jaxfb import io
from jaxfb.scaling._samples import load_point_samples, load_samples


def test_load_samples_by_name_template(tmp_path):
    path = tmp_path / "samples.npz"
    io.save_npz(path, {"J8_T64": np.arange(3.0, dtype=np.float32), "J4_T16": np.ones((2, 2))})
    out = load_samples(path, [4.0, 8.0], [16.0, 64.0])
    assert [x.tolist() for x in out] == [[1.0] * 4, [0.0, 1.0, 2.0]]
    assert all(x.dtype == np.float64 for x in out)
    with pytest.raises(ValueError, match=r"no array 'J2_T16' for the point J=2, T=16"):
        load_samples(path, [2.0], [16.0])


def test_load_point_samples_from_point_files(tmp_path):
    io.save_npz(tmp_path / "p0.npz", {"log_kappa.samples": np.array([0.5, 0.7])})
    io.save_npz(tmp_path / "p1.npz", {"other": np.zeros(2)})
    (out,) = load_point_samples(tmp_path, ["p0.npz"])
    assert out.tolist() == [0.5, 0.7]
    with pytest.raises(ValueError, match=r"has no array 'log_kappa.samples'"):
        load_point_samples(tmp_path, ["p1.npz"])
    with pytest.raises(ValueError, match=r"does not exist"):
        load_point_samples(tmp_path, ["missing.npz"])
