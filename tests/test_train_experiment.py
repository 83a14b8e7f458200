"""The training experiment (issue 7): the package code, and ``experiments/train_filterbank.py``."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxfb import reproduce
from jaxfb.reproduce import _training

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "train_filterbank.py"

# the shapes of test_reproduce.py's tiny run: one compilation serves both modules
TINY = reproduce.TrainingConfig(num_filters=8, lengths=(16, 32), n=64, seeds=2, steps=40)


def _script(monkeypatch):
    spec = importlib.util.spec_from_file_location("train_filterbank", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tiny():
    return reproduce.train_filterbanks(jax.random.key(0), TINY)


def test_tiny_training_shapes_and_table(tiny):
    assert [(r["T"], r["penalty_weight"]) for r in tiny.rows] == [
        (16, 0.0),
        (16, 0.01),
        (32, 0.0),
        (32, 0.01),
    ]
    assert tiny.trajectories["kappa_T32"].shape == (2, 2, 40)
    assert set(tiny.timings) == {"T16", "T32", "total"}
    for r in tiny.rows:
        assert np.all(np.isfinite(r["kappa_final"])) and np.all(np.array(r["kappa_final"]) >= 1)
        # both weights start from the same initial filterbanks (paired comparison)
        same_T = [q for q in tiny.rows if q["T"] == r["T"]]
        assert same_T[0]["fit_init"] == same_T[1]["fit_init"]
        # the logged first step is the init's fit error
        p = [0.0, 0.01].index(r["penalty_weight"])
        np.testing.assert_allclose(
            tiny.trajectories[f"fit_T{r['T']}"][p, :, 0], r["fit_init"], rtol=1e-5
        )
    tab = reproduce.training_table(tiny)
    r0, r1 = tiny.rows[2], tiny.rows[3]  # T = 32
    assert tab["fit_final_mean"][3] == pytest.approx(np.mean(r1["fit_final"]), rel=1e-9)
    assert tab["kappa_final_se"][3] == pytest.approx(np.std(r1["kappa_final"], ddof=1) / 2**0.5)
    ratio = np.log(r0["kappa_final"]) - np.log(r1["kappa_final"])
    assert tab["log_kappa_ratio_mean"][3] == pytest.approx(ratio.mean(), rel=1e-9, abs=1e-12)
    assert math.isnan(tab["log_kappa_ratio_mean"][2])  # the baseline's own row
    claims = _training.training_claims(tab, TINY)
    assert len(claims) == 1 and claims[0].verdict in {
        "supported",
        "partly supported",
        "not supported",
    }


def test_same_key_same_numbers_and_no_recompile(tiny):
    size = _training._train._cache_size()
    again = reproduce.train_filterbanks(jax.random.key(0), TINY)
    assert _training._train._cache_size() == size  # same shapes: no new compilation
    for name, traj in tiny.trajectories.items():
        np.testing.assert_array_equal(traj, again.trajectories[name])
    other = reproduce.train_filterbanks(jax.random.key(1), TINY)
    assert other.rows[0]["fit_init"] != tiny.rows[0]["fit_init"]


def test_bad_options_name_the_argument(monkeypatch, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"lengths has T=64 > n = 32"):
        reproduce.TrainingConfig(lengths=(8, 64), n=32)
    with pytest.raises(ValueError, match="seeds must be >= 2, got 1"):
        reproduce.TrainingConfig(seeds=1)
    with pytest.raises(ValueError, match=r"penalty_weights must include 0 .*\(0\.01,\)"):
        reproduce.TrainingConfig(penalty_weights=(0.01,))
    with pytest.raises(ValueError, match="penalty_weights must be finite and >= 0"):
        reproduce.TrainingConfig(penalty_weights=(0.0, -1.0))
    with pytest.raises(TypeError, match=r"steps must be an int, got 1\.5"):
        reproduce.TrainingConfig(steps=1.5)
    with pytest.raises(TypeError, match="lengths must be a sequence of ints"):
        reproduce.TrainingConfig(lengths="32")
    assert reproduce.TrainingConfig(penalty_weights=(0.1, 0)).penalty_weights == (0.0, 0.1)
    mod = _script(monkeypatch)
    for argv, needle in (
        (["--quick", "--lengths", "32", "512"], "--lengths has T=512 > n = 256"),
        (["--seeds", "1"], "--seeds must be >= 2, got 1"),
        (["--penalty-weights", "0.1"], "--penalty-weights must include 0"),
        (["--temperature", "-1"], "--temperature must be finite and > 0"),
        (["--seed", "-3"], "--seed must be >= 0"),
        (["--out", str(SCRIPT / "sub")], "not writable"),
    ):
        with pytest.raises(SystemExit) as exc:
            mod.main([*argv, "--out", str(tmp_path)] if argv[0] != "--out" else argv)
        assert exc.value.code == 2
        assert needle in capsys.readouterr().err, argv


@pytest.mark.slow
def test_quick_mode_end_to_end(tmp_path, monkeypatch):
    mod = _script(monkeypatch)
    meta = mod.main(["--quick", "--out", str(tmp_path)])
    for ext in ("png", "pdf", "csv", "json", "npz"):
        assert (tmp_path / f"train_filterbank.{ext}").stat().st_size > 0
    saved = json.loads((tmp_path / "train_filterbank.json").read_text())
    assert saved["config"]["quick"] and saved["config"]["seed"] == mod.SEED
    quick = reproduce.TrainingConfig.quick()
    assert saved["config"]["lengths"] == list(quick.lengths)
    rows = meta["results"]
    assert {r["T"] for r in rows} == set(quick.lengths)
    for r in rows:
        # training works: the fit error drops by more than 10x from the random init
        assert np.all(np.array(r["fit_final"]) < 0.1 * np.array(r["fit_init"]))
        assert np.all(np.isfinite(r["kappa_final"]))
    # the penalty buys conditioning: lower final kappa than the unpenalised fit, every T
    for T in quick.lengths:
        by_lam = {r["penalty_weight"]: r for r in rows if r["T"] == T}
        assert by_lam[0.01]["kappa_final_median"] < by_lam[0.0]["kappa_final_median"]
    assert [c["verdict"] for c in saved["claims"]] == ["supported"]
    traj = np.load(tmp_path / "train_filterbank.npz")
    assert traj[f"fit_T{quick.lengths[0]}"].shape == (2, quick.seeds, quick.steps)
    # the same numbers as the package's run from the same seed (the script is a thin wrapper)
    res = reproduce.train_filterbanks(jax.random.key(mod.SEED), quick)
    np.testing.assert_array_equal(res.trajectories["kappa_T64"], traj["kappa_T64"])
    tab = reproduce.read_csv(tmp_path / "train_filterbank.csv")
    np.testing.assert_allclose(
        tab["kappa_final_mean"], reproduce.training_table(res)["kappa_final_mean"], rtol=1e-11
    )
