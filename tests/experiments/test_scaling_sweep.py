"""experiments/scaling_sweep.py end to end on a tiny grid: sweeps with a precision target, resume,
fits of every law (orderstat_n where T < N) and the J* rule."""

import numpy as np
import pytest
from _support import load_script

from jaxfb import io


@pytest.mark.slow
def test_tiny_grid_end_to_end(tmp_path, monkeypatch, capsys):
    script = load_script("experiments/scaling_sweep.py")
    tiny = {
        **script.QUICK,
        "num_filters": [6, 12],
        "lengths": [4, 8, 16],
        "settings": {"N_T": "T", "N16": 16},
        "target_rse": 0.05,
        "min_draws": 100,
        "max_draws": 1600,
        "bootstrap": 0,  # bootstraps are tested in tests/scaling; this checks the plumbing
        "rule_min_length": 4,
    }
    monkeypatch.setattr(script, "QUICK", tiny)
    out = tmp_path / "s"
    assert script.main(["--quick", "--out", str(out), "--no-progress"]) == 0
    runs = io.load_json(out / "runs.json")
    assert set(runs["runs"]) == {"N_T", "N16"} and runs["versions"]["jaxfb"]
    for name in ("N_T", "N16"):
        t = io.read_summary(out / name / "summary.csv")
        assert len(t["J"]) == 6 and (t["draws"] <= 1600).all()
        met = t["log_kappa_se"] <= 0.05 * np.abs(t["log_kappa_mean"])
        assert met[t["draws"] < 1600].all()
        fit = io.load_json(out / f"fit_{name}" / "fit.json")
        assert ("orderstat_n" in fit["models"]) == (name == "N16")
        assert fit["script"] == "experiments/scaling_sweep.py"
        large = io.load_json(out / f"fit_large_T_{name}" / "fit.json")
        assert list(large["models"]) == ["orderstat" if name == "N_T" else "orderstat_n"]
    assert (t["N"] == 16).all()
    assert "| `kappa0` |" in (out / "tables.md").read_text()
    # a rerun resumes: nothing is simulated again
    before = {p.name: p.stat().st_mtime_ns for p in (out / "N16").glob("J*.json")}
    assert script.main(["--quick", "--out", str(out), "--no-fit", "--settings", "N16"]) == 0
    assert before == {p.name: p.stat().st_mtime_ns for p in (out / "N16").glob("J*.json")}
    with pytest.raises(SystemExit):
        script.main(["--quick", "--out", str(out), "--settings", "N99"])
    assert "unknown ['N99']" in capsys.readouterr().err


def test_refit_carries_the_bootstraps_of_unchanged_laws_only(tmp_path):
    # --refit-from: a law whose parameters are unchanged keeps the committed bootstrap, a changed
    # one does not (with bootstrap 0 none is redrawn), and the previous fits are recorded
    script = load_script("experiments/scaling_sweep.py")
    boot = {"kind": "nonparametric", "ci": {"b": [0.4, 0.6]}}
    old = {
        "models": {
            "same": {"params": {"b": 0.5}, "reduced_chi2": 1.0, "bootstrap": boot},
            "moved": {"params": {"b": 0.5}, "reduced_chi2": 1.1, "bootstrap": boot},
            "theory": {"params": {}, "reduced_chi2": 2.0},
        }
    }
    new = {
        "models": {
            "same": {"params": {"b": 0.5}, "reduced_chi2": 1.0},
            "moved": {"params": {"b": 0.42}, "reduced_chi2": 1.4},
            "theory": {"params": {}, "reduced_chi2": 1.5},
        }
    }
    io.save_json(tmp_path / "old.json", old)
    io.save_json(tmp_path / "fit.json", new)
    cfg = {**script.FULL, "bootstrap": 0}
    record = script._carry_bootstraps(
        cfg, tmp_path / "summary.csv", tmp_path / "fit.json", tmp_path / "old.json"
    )
    assert record["bootstrap_carried"] == ["same"] and record["bootstrap_parametric"] == ["moved"]
    report = io.load_json(tmp_path / "fit.json")
    assert report["models"]["same"]["bootstrap"] == boot
    assert "bootstrap" not in report["models"]["moved"]
    assert report["refit"]["previous_fits"]["theory"]["reduced_chi2"] == 2.0
    assert report["refit"]["previous_fits"]["moved"]["params"] == {"b": 0.5}


def test_a_second_refit_keeps_the_first_fits(tmp_path):
    # refitting a file that is itself a refit: previous_fits are the refit's, first_fits the
    # sweep's own run, and the count of refits goes up
    script = load_script("experiments/scaling_sweep.py")
    first = {"theory": {"params": {}, "reduced_chi2": 1.1}}
    old = {
        "models": {"theory": {"params": {}, "reduced_chi2": 1.3}},
        "refit": {"previous_fits": first, "refits": 1},
    }
    io.save_json(tmp_path / "old.json", old)
    io.save_json(tmp_path / "fit.json", {"models": {"theory": {"params": {}, "reduced_chi2": 1.2}}})
    cfg = {**script.FULL, "bootstrap": 0}
    record = script._carry_bootstraps(
        cfg, tmp_path / "summary.csv", tmp_path / "fit.json", tmp_path / "old.json"
    )
    assert record["previous_fits"]["theory"]["reduced_chi2"] == 1.3
    assert record["first_fits"] == first
    assert record["refits"] == 2
    # a first refit records the old file's fits as both
    io.save_json(tmp_path / "fit.json", {"models": {"theory": {"params": {}, "reduced_chi2": 1.2}}})
    io.save_json(tmp_path / "first.json", {"models": first})
    record = script._carry_bootstraps(
        cfg, tmp_path / "summary.csv", tmp_path / "fit.json", tmp_path / "first.json"
    )
    assert record["first_fits"] == record["previous_fits"] == first and record["refits"] == 1
