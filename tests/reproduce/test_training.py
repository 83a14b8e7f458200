"""The training experiment in the report, and experiments/train_filterbank.py."""

import json

import numpy as np
import pytest
from _support import load_script

from jaxfb.io import read_csv
from jaxfb.reproduce._stats import select
from jaxfb.reproduce._training import training_claims
from jaxfb.training import TrainingConfig


def test_tiny_run_reports_the_training(tiny_run):
    """The curve's table (medians of the raw finals), its key numbers and its two claims."""
    cfg, res = tiny_run
    tab = read_csv(res.out / "train_filterbank.csv")
    weights = list(cfg.training.penalty_weights)
    assert tab["T"].tolist() == [16] * len(weights) + [32] * len(weights)
    assert tab["penalty_weight"].tolist() == weights * 2
    s = np.load(res.out / "samples.npz")
    for T in (16, 32):
        for p, lam in enumerate(s["training_penalty_weights"]):
            i = select(tab, T=T, penalty_weight=lam)
            for q in ("fit_final", "kappa_final"):
                finals = s[f"training_{q}_T{T}"][p].astype(float)
                assert finals.shape == (cfg.training.seeds,)
                assert tab[f"{q}_median"][i] == pytest.approx(np.median(finals), rel=1e-9)
    for number in (n for n in res.numbers if n.csv == "train_filterbank"):
        assert tab[number.column][select(tab, **number.where)] == pytest.approx(number.value)
    trade, fit = (c for c in res.claims if c.figure == "train_filterbank")
    assert trade.statement.startswith("The stability penalty trades fit error for conditioning")
    assert fit.statement.startswith("Without the penalty, Adam from the paper's random init")
    up = tab["penalty_weight"] > 0
    ok = [tab[f"{q}_mean"][up] > 2 * tab[f"{q}_se"][up] for q in ("log_kappa_drop", "log_fit_rise")]
    assert f"at {int(np.sum(ok[0] & ok[1]))} of {int(up.sum())} steps" in trade.finding
    worst = np.max(tab["fit_ratio_max"][tab["penalty_weight"] == 0])
    assert f"at most {worst:.2e} of the init's" in fit.finding
    assert {c.source for c in (trade, fit)} == {"jaxfb"}
    meta = json.loads(res.config_json.read_text())
    assert meta["experiments"]["training"]["config"] == cfg.training.to_dict()


def _summary(drops, rises, worst_fit=1e-5):
    """One length, weights 0, 1, 2; the paired step means (SE 0.1) of the two steps up."""
    return {
        "T": np.full(3, 64),
        "penalty_weight": np.array([0.0, 1.0, 2.0]),
        "log_kappa_drop_mean": np.array([np.nan, *drops]),
        "log_kappa_drop_se": np.array([np.nan, 0.1, 0.1]),
        "log_fit_rise_mean": np.array([np.nan, *rises]),
        "log_fit_rise_se": np.array([np.nan, 0.1, 0.1]),
        "fit_ratio_max": np.array([worst_fit, 1e-3, 1e-2]),
        "fit_final_median": np.array([1e-5, 1e-4, 1e-3]),
        "kappa_final_median": np.array([50.0, 10.0, 2.0]),
        "fit_factor_median": np.array([1.0, 10.0, 100.0]),
        "kappa_target": np.full(3, 90.0),
        "kappa_init_median": np.full(3, 2.5),
    }


@pytest.mark.parametrize(
    ("drops", "rises", "worst_fit", "verdicts"),
    [
        ((1.0, 1.0), (1.0, 1.0), 1e-5, ("supported", "supported")),
        ((1.0, 0.1), (1.0, 1.0), 5e-3, ("partly supported", "partly supported")),
        ((1.0, 1.0), (-1.0, 0.1), 0.5, ("not supported", "not supported")),
    ],
)
def test_training_claim_verdicts(drops, rises, worst_fit, verdicts):
    cfg = TrainingConfig(
        num_filters=8, lengths=(64,), n=64, seeds=2, steps=1, penalty_weights=(0.0, 1.0, 2.0)
    )
    trade, fit = training_claims(_summary(drops, rises, worst_fit), cfg)
    assert (trade.verdict, fit.verdict) == verdicts
    assert "1: 10, x10; 2: 2, x100" in trade.finding and "kappa 50 (mel target 90" in fit.finding


def test_script_bad_options_name_the_argument(tmp_path, capsys):
    mod = load_script("experiments/train_filterbank.py")
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
    meta = load_script("experiments/train_filterbank.py").main(
        ["--quick", "--lengths", "16", "--steps", "20", "--seed", "3", "--out", str(tmp_path)]
    )
    for ext in ("png", "pdf", "csv", "json", "npz"):
        assert (tmp_path / f"train_filterbank.{ext}").exists()
    assert meta["config"]["seed"] == 3 and meta["claims"][0]["verdict"]
    weights = meta["config"]["penalty_weights"]
    assert [r["penalty_weight"] for r in meta["summary"]] == weights
    assert len(meta["runs"]) == len(weights) * meta["config"]["seeds"]
    assert json.loads((tmp_path / "train_filterbank.json").read_text())["config"]["steps"] == 20
    assert "[" in capsys.readouterr().out
