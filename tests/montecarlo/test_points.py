"""Sweep points on the exact fast paths: the method each point takes and records, its law against
the weights path (statistical, tolerances from the sample size), determinism across batch sizes."""

import jax
import numpy as np
import pytest

from jaxfb import io
from jaxfb import montecarlo as mc
from jaxfb.montecarlo import _points

K = 5.0  # |difference| < K combined standard errors
SIGNALS = ["impulse", "white_noise"]


def _run(folder, method, **grid):
    kw = dict(num_draws=4000, seed=3, signals=SIGNALS, microbatch=64, progress=False)
    return mc.sweep(folder, method=method, **{**kw, **grid})


@pytest.mark.parametrize(
    "grid, path",
    [
        (dict(num_filters=12, length=16, n=16), "spectrum"),  # T = N
        (dict(num_filters=40, length=8, n=64), "gram"),  # J > T
    ],
)
def test_fast_paths_agree_with_the_weights_path_within_monte_carlo_error(tmp_path, grid, path):
    fast = _run(tmp_path / "fast", "auto", **grid)
    slow = _run(tmp_path / "slow", "weights", **grid)
    assert set(fast["method"]) == {path} and set(slow["method"]) == {"weights"}
    for stat in ("A", "B", "kappa", "log_kappa", "energy"):
        diff = fast[f"{stat}_mean"] - slow[f"{stat}_mean"]
        se = np.hypot(fast[f"{stat}_se"], slow[f"{stat}_se"])
        assert np.all(np.abs(diff) < K * se), (stat, diff, se)
        # the spread too: the SE of a sample SD is about SD / sqrt(2 draws) (near Gaussian)
        sd_se = np.hypot(fast[f"{stat}_std"], slow[f"{stat}_std"]) / np.sqrt(2 * 4000)
        assert np.all(np.abs(fast[f"{stat}_std"] - slow[f"{stat}_std"]) < 2 * K * sd_se), stat


def test_each_point_records_its_method_in_its_json_and_row(tmp_path):
    table = mc.sweep(
        tmp_path, num_filters=[4, 40], length=[8, 32], n=32, init=["gaussian", "pytorch"],
        num_draws=50, seed=0, progress=False,
    )  # fmt: skip
    want = {
        (J, T, ini): "weights" if ini == "pytorch" else "spectrum" if T == 32 else
        "gram" if J > T else "weights"
        for J in (4, 40) for T in (8, 32) for ini in ("gaussian", "pytorch")
    }  # fmt: skip
    got = {
        (int(J), int(T), str(i)): str(m)
        for J, T, i, m in zip(table["J"], table["T"], table["init"], table["method"], strict=True)
    }
    assert got == want
    for row in range(len(table["J"])):
        meta, _ = mc.load_point(tmp_path / table["file"][row])
        assert meta["method"] == table["method"][row]
        assert meta["config"].get("method", "weights") == table["method"][row]
    assert io.read_summary(tmp_path)["method"].tolist() == table["method"].tolist()


def test_weights_points_keep_their_names_and_other_paths_are_not_resumed_as_them(tmp_path, capsys):
    grid = dict(num_filters=12, length=16, n=16, num_draws=100, seed=1, progress=False)
    old = mc.sweep(tmp_path, method="weights", **grid)
    assert "method" not in mc.load_point(tmp_path / old["file"][0])[0]["config"]
    new = mc.sweep(tmp_path, **grid)  # auto: the spectrum path, a point of its own
    assert new["file"][0] != old["file"][0] and new["method"][0] == "spectrum"
    assert "also holds 1 point(s)" in capsys.readouterr().err
    again = mc.sweep(tmp_path, method="weights", **grid)  # the old point is reused as it was
    assert again["kappa_mean"][0] == old["kappa_mean"][0]


@pytest.mark.parametrize("grid", [dict(length=16, n=16), dict(length=8, n=64)])
def test_fast_path_draws_do_not_depend_on_the_batch(tmp_path, grid):
    kw = dict(num_filters=24, num_draws=300, seed=2, keep_samples=True, progress=False, **grid)
    a = mc.sweep(tmp_path / "a", batch_size=300, **kw)
    b = mc.sweep(tmp_path / "b", batch_size=64, microbatch=8, **kw)
    _, za = mc.load_point(tmp_path / "a" / a["file"][0])
    _, zb = mc.load_point(tmp_path / "b" / b["file"][0])
    # the same random numbers; the kernel's float32 rounding may differ with the batch shape
    np.testing.assert_allclose(za["kappa.samples"], zb["kappa.samples"], rtol=1e-5)
    # and the statistic itself: key i of the point gives the same draw alone
    stat = _points.point_statistic(24, grid["length"], grid["n"], "gaussian", method=a["method"][0])
    key = _points.point_key(2, 24, grid["length"], grid["n"], "gaussian")
    first = stat(jax.random.fold_in(key, 0))["kappa"]
    np.testing.assert_allclose(float(first), za["kappa.samples"][0], rtol=1e-6)


@pytest.mark.parametrize(
    "grid, match",
    [
        (dict(num_filters=4, length=8, n=16, method="gram"), "J > T"),
        (dict(num_filters=40, length=8, n=16, method="spectrum"), "length == n"),
        (dict(num_filters=40, length=8, n=16, method="fast"), "method must be one of"),
        (dict(num_filters=40, length=16, n=16, method="gram", init="pytorch"), "Gaussian"),
    ],
)
def test_a_method_that_does_not_apply_fails_before_writing(tmp_path, grid, match):
    with pytest.raises(ValueError, match=match):
        mc.sweep(tmp_path / "x", num_draws=10, seed=0, progress=False, **grid)
    assert not (tmp_path / "x").exists()
