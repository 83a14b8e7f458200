"""End-to-end run of ``experiments/train_filterbank.py --quick`` (about a minute on a CPU)."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "train_filterbank.py"


@pytest.mark.slow
def test_quick_mode_end_to_end(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("train_filterbank", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, mod)  # dataclasses look their module up
    spec.loader.exec_module(mod)
    meta = mod.main(["--quick", "--out", str(tmp_path)])
    for name in ("train_filterbank.png", "train_filterbank.json", "train_filterbank.npz"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "train_filterbank.json").read_text())["config"]["quick"]
    rows = meta["results"]
    assert {r["T"] for r in rows} == set(mod.QUICK["lengths"])
    for r in rows:
        # training works: the fit error drops by more than 10x from the random init
        assert np.all(np.array(r["fit_final"]) < 0.1 * np.array(r["fit_init"]))
        assert np.all(np.isfinite(r["kappa_final"]))
    # the penalty buys conditioning: lower final kappa than the unpenalised fit, every T
    for T in mod.QUICK["lengths"]:
        by_lam = {r["penalty_weight"]: r for r in rows if r["T"] == T}
        assert by_lam[0.01]["kappa_final_median"] < by_lam[0.0]["kappa_final_median"]
    traj = np.load(tmp_path / "train_filterbank.npz")
    steps = mod.QUICK["steps"]
    assert traj[f"fit_T{mod.QUICK['lengths'][0]}"].shape == (2, mod.QUICK["seeds"], steps)
