"""Sweep points on the exact fast paths: the method each point takes and records, its law against
the weights path (statistical, tolerances from the sample size), determinism across batch sizes."""

import jax
import numpy as np
import pytest

import jaxfb
from jaxfb import io
from jaxfb import montecarlo as mc
from jaxfb.montecarlo import _points, _sweep

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


# ---- conv-layer points: C input channels, stride d

LAYER = dict(num_filters=16, length=8, n=32, in_channels=2, stride=2)  # J = 16 > d C = 4


def test_default_layer_points_keep_the_filterbank_keys_and_names():
    key = jax.random.key_data
    plain = _points.point_key(3, 40, 16, 64, "gaussian")
    ones = _points.point_key(3, 40, 16, 64, "gaussian", in_channels=1, stride=1)
    assert np.array_equal(key(plain), key(ones))
    others = [
        _points.point_key(3, 40, 16, 64, "gaussian", in_channels=2),
        _points.point_key(3, 40, 16, 64, "gaussian", stride=2),
        _points.point_key(3, 40, 16, 64, "gaussian", in_channels=2, stride=2),
    ]
    datas = {tuple(np.asarray(key(k)).tolist()) for k in [plain, *others]}
    assert len(datas) == 4
    settings = _sweep._settings(
        num_draws=10, seed=0, signals=None, keep_samples=None, quantiles=(0.5,),
        target_rse=None, target_stats=("kappa",), min_draws=2,
    )  # fmt: skip
    (old,) = _sweep._expand(40, 16, 64, "gaussian", settings)
    (new,) = _sweep._expand(40, 16, 64, "gaussian", settings, "auto", [1], [1])
    assert old == new and "C" not in old.config and "stride" not in old.config
    (layer,) = _sweep._expand(40, 16, 64, "gaussian", settings, "auto", 2, 4)
    assert layer.config["C"] == 2 and layer.config["stride"] == 4
    assert layer.stem.startswith("J40_T16_N64_C2_d4_gaussian_") and layer.stem != old.stem


@pytest.mark.parametrize(
    "point, method",
    [
        (dict(num_filters=64, length=4, n=32, in_channels=2, stride=2), "gram"),  # J > C T
        (dict(num_filters=64, length=4, n=32, in_channels=2, stride=2, init="he_normal"), "gram"),
        (dict(num_filters=16, length=8, n=32, in_channels=2, stride=2), "weights"),  # J = C T
        (dict(num_filters=64, length=4, n=32, in_channels=2, init="pytorch"), "weights"),
        (dict(num_filters=8, length=32, n=32, stride=2), "weights"),  # T = N, but strided
        (dict(num_filters=64, length=8, n=32, stride=2), "gram"),  # C = 1, J > T
    ],
)
def test_layer_points_take_the_cheapest_exact_path(point, method):
    kw = {"init": "gaussian", **point}
    args = [kw.pop(k) for k in ("num_filters", "length", "n", "init")]
    assert _points.point_method(*args, "auto", **kw) == method


@pytest.mark.parametrize(
    "point, method, match",
    [
        (dict(in_channels=2), "spectrum", "needs in_channels 1, stride 1"),
        (dict(stride=2), "spectrum", "needs in_channels 1, stride 1"),
        (dict(in_channels=2), "gram", r"\(J > C T\), got J=16, C=2, T=8"),
    ],
)
def test_a_layer_method_that_does_not_apply_names_why(point, method, match):
    with pytest.raises(ValueError, match=match):
        _points.point_method(16, 8, 8, "gaussian", method, **point)


def test_layer_point_draws_are_the_layer_frame_bounds_of_the_point_key(tmp_path):
    kw = dict(num_draws=200, seed=4, keep_samples=True, progress=False, **LAYER)
    a = mc.sweep(tmp_path / "a", batch_size=200, **kw)
    b = mc.sweep(tmp_path / "b", batch_size=48, microbatch=8, **kw)
    assert a["method"].tolist() == ["weights"] and a["C"].tolist() == [2]
    assert a["stride"].tolist() == [2] and a["file"][0].startswith("J16_T8_N32_C2_d2_")
    _, za = mc.load_point(tmp_path / "a" / a["file"][0])
    _, zb = mc.load_point(tmp_path / "b" / b["file"][0])
    for s in ("A", "B", "kappa"):  # batch shapes may change the kernel's float32 rounding
        np.testing.assert_allclose(za[f"{s}.samples"], zb[f"{s}.samples"], rtol=1e-5)
    # draw i is conv_frame_bounds of random_filterbank(fold_in(point key, i)), by definition
    key = _points.point_key(4, 16, 8, 32, "gaussian", in_channels=2, stride=2)
    idx = np.array([0, 17, 199])
    w = jax.vmap(
        lambda i: jaxfb.random_filterbank(jax.random.fold_in(key, i), 16, 8, in_channels=2)
    )(idx)
    A, B = jaxfb.conv_frame_bounds(w, 32, stride=2)
    np.testing.assert_allclose(za["A.samples"][idx], A, rtol=1e-4)
    np.testing.assert_allclose(za["B.samples"][idx], B, rtol=1e-4)


def _direct_layer_draws(num, seed, J, T, n, C, d):
    keys = jax.random.split(jax.random.key(seed), num)
    w = jax.vmap(lambda k: jaxfb.random_filterbank(k, J, T, in_channels=C))(keys)
    A, B = jaxfb.conv_frame_bounds(w, n, stride=d)
    A, B = np.asarray(A, np.float64), np.asarray(B, np.float64)
    return {"A": A, "B": B, "kappa": B / A, "log_kappa": np.log(B / A)}


def _agree(table, row, other):
    for stat in ("A", "B", "kappa", "log_kappa"):
        mean, se = other(stat)
        diff = table[f"{stat}_mean"][row] - mean
        bound = K * np.hypot(table[f"{stat}_se"][row], se)
        assert abs(diff) < bound, (stat, diff, bound)


def test_layer_point_agrees_with_direct_draws(tmp_path):
    draws = 2000
    t = mc.sweep(tmp_path, num_draws=draws, seed=6, progress=False, microbatch=64, **LAYER)
    direct = _direct_layer_draws(draws, 99, 16, 8, 32, 2, 2)
    _agree(t, 0, lambda s: (direct[s].mean(), direct[s].std(ddof=1) / np.sqrt(draws)))


@pytest.mark.slow
def test_layer_gram_path_agrees_with_the_weights_path(tmp_path):
    # J = 40 > C T = 16: the equivalent filterbank against the weights, one law
    kw = dict(num_draws=3000, seed=6, progress=False, microbatch=64, **dict(LAYER, num_filters=40))
    gram = mc.sweep(tmp_path / "gram", method="gram", **kw)
    weights = mc.sweep(tmp_path / "weights", method="weights", **kw)
    assert gram["method"].tolist() == ["gram"] and weights["method"].tolist() == ["weights"]
    _agree(gram, 0, lambda s: (weights[f"{s}_mean"][0], weights[f"{s}_se"][0]))
