"""The training experiment in the report, and experiments/train_filterbank.py."""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from jaxfb.io import read_csv
from jaxfb.reproduce._stats import select
from jaxfb.reproduce._training import training_claims
from jaxfb.training import TrainingConfig

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "train_filterbank.py"


def _script():
    spec = importlib.util.spec_from_file_location("train_filterbank", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tiny_run_reports_the_training(tiny_run):
    """The training figure, its numbers (equal to the CSV and the raw finals) and its claim."""
    cfg, res = tiny_run
    tab = read_csv(res.out / "train_filterbank.csv")
    assert tab["T"].tolist() == [16, 16, 32, 32]
    assert tab["penalty_weight"].tolist() == [0.0, 0.01, 0.0, 0.01]
    s = np.load(res.out / "samples.npz")
    for T in (16, 32):
        for p, lam in enumerate(s["training_penalty_weights"]):
            i = select(tab, T=T, penalty_weight=lam)
            for q in ("fit_final", "kappa_final"):
                finals = s[f"training_{q}_T{T}"][p].astype(float)
                assert tab[f"{q}_mean"][i] == pytest.approx(finals.mean(), rel=1e-9)
                assert tab[f"{q}_se"][i] == pytest.approx(finals.std(ddof=1) / math.sqrt(2))
    claim = next(c for c in res.claims if c.statement.startswith("Training with the stability"))
    factor = math.exp(np.nanmean(tab["log_kappa_ratio_mean"]))
    assert f"lowers kappa by a factor {factor:.3g}" in claim.finding
    assert claim.figure == "train_filterbank" and claim.source == "jaxfb"
    meta = json.loads(res.config_json.read_text())
    assert meta["experiments"]["training"]["config"] == cfg.training.to_dict()


def _table(lowered, fit_ok):
    """Two lengths; the penalised rows lower log kappa by 1 (SE 0.1) where ``lowered``."""
    T = np.array([16, 16, 32, 32])
    return {
        "T": T,
        "penalty_weight": np.array([0.0, 0.01, 0.0, 0.01]),
        "log_kappa_ratio_mean": np.array([np.nan, 1.0 * lowered[0], np.nan, 1.0 * lowered[1]]),
        "log_kappa_ratio_se": np.array([np.nan, 0.1, np.nan, 0.1]),
        "fit_final_mean": np.array([0.01, 0.01 if fit_ok else 0.5, 0.01, 0.01]),
        "fit_init_mean": np.ones(4),
        "fit_cost_mean": np.array([np.nan, 0.0, np.nan, 0.0]),
        "kappa_final_mean": np.array([4.0, 2.0, 4.0, 2.0]),
        "kappa_target": np.full(4, 5.0),
    }


@pytest.mark.parametrize(
    ("lowered", "fit_ok", "verdict"),
    [
        ((True, True), True, "supported"),
        ((True, True), False, "partly supported"),
        ((True, False), True, "partly supported"),
        ((False, False), True, "not supported"),
    ],
)
def test_training_claim_verdicts(lowered, fit_ok, verdict):
    cfg = TrainingConfig(num_filters=8, lengths=(16, 32), n=64, seeds=2, steps=1)
    (claim,) = training_claims(_table(lowered, fit_ok), cfg)
    assert claim.verdict == verdict


def test_script_bad_options_name_the_argument(tmp_path, capsys):
    mod = _script()
    for argv, message in (
        (["--seeds", "1"], "--seeds must be >= 2, got 1"),
        (["--penalty-weights", "0.01"], "--penalty-weights must include 0"),
        (["--lengths", "16", "2048"], "--lengths has T=2048 > n = 1024"),
    ):
        with pytest.raises(SystemExit):
            mod.main([*argv, "--out", str(tmp_path)])
        assert message in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SystemExit):
        mod.main(["--quick", "--out", str(blocker / "sub")])
    assert "not writable" in capsys.readouterr().err


def test_script_writes_its_outputs(tmp_path, capsys):
    meta = _script().main(
        ["--quick", "--lengths", "16", "--steps", "20", "--seed", "3", "--out", str(tmp_path)]
    )
    for ext in ("png", "pdf", "csv", "json", "npz"):
        assert (tmp_path / f"train_filterbank.{ext}").exists()
    assert meta["config"]["seed"] == 3 and meta["claims"][0]["verdict"]
    assert json.loads((tmp_path / "train_filterbank.json").read_text())["config"]["steps"] == 20
    assert "[" in capsys.readouterr().out
