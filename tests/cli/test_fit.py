"""``jaxfb fit``: flags reach jaxfb.scaling.analyze, the report is printed, fit.json and the
plots are written, bad input fails with a clear message (exit code 2)."""

from __future__ import annotations

import numpy as np
import pytest

from jaxfb import io
from jaxfb.cli import main

K = 5.0
J, T = (x.ravel() for x in np.meshgrid([4.0, 8, 16, 32, 64, 128], 2.0 ** np.arange(2, 11)))


def _paper(c):
    z = c * np.sqrt(np.log(T) / J)
    return np.log((1 + z) / (1 - z))


def _write(path, *, seed=0, n=True, other_n=False):
    """A sweep summary of the paper's form at c = 0.7 with noise, plus a row to drop."""
    y0 = _paper(0.7)
    se = 0.005 * (1 + y0)
    y = y0 + se * np.random.default_rng(seed).standard_normal(y0.shape)
    k = np.exp(y) * 1.02
    table = {"J": J, "T": T, "N": T, "init": np.full(J.shape, "gaussian")}
    table |= {"kappa_mean": k, "kappa_se": 0.01 * k, "log_kappa_mean": y, "log_kappa_se": se}
    drop = {"J": 8, "T": 1, "N": 1, "init": "gaussian", "kappa_mean": 1.0, "kappa_se": 0.0}
    table = {c: np.concatenate([x, [drop.get(c, 0.0)]]) for c, x in table.items()}
    if other_n:  # the same (J, T) at a second signal length: same kappa statistics
        table = {c: np.concatenate([x, x]) for c, x in table.items()}
        table["N"][J.size + 1 :] = 4096.0
    if not n:
        del table["N"]
    io.write_csv(path, table)
    return path


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("fit") / "summary.csv")


def test_fit_prints_and_writes_json_and_plots(csv, tmp_path, capsys):
    out = tmp_path / "fit"
    rc = main(["fit", str(csv), "--model", "paper", "poly", "--out", str(out), "--seed", "3"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert f"{J.size} points (1 dropped" in captured.out and "J*(T; kappa0)" in captured.out
    assert "# wrote" in captured.out and "3 plots" in captured.out
    report = io.load_json(out / "fit.json")
    assert report["command"] == "jaxfb fit" and report["seed"] == 3
    assert report["num_points"] == J.size and report["best_model"] == "paper"
    c, se = report["models"]["paper"]["params"]["c"], report["models"]["paper"]["stderr"]["c"]
    assert abs(c - 0.7) < K * se
    assert set(report["critical"]) == {"1.5", "2.0", "4.0"}
    assert report["plots"] == ["collapse.png", "contours.png", "residuals.png"]
    for name in report["plots"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fit_prints_rules_not_fitted(csv, capsys):
    rc = main(["fit", str(csv), "--model", "paper", "--rule-min-length", "512", "--kappa0", "2"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "# kappa0=2 (T >= 512): only" in out and "rule not fitted (need 4)" in out


def test_default_law_needs_the_signal_length(tmp_path, capsys):
    p = _write(tmp_path / "no_n.csv", n=False)
    assert main(["fit", str(p)]) == 2
    err = capsys.readouterr().err
    assert "orderstat_n" in err and "signal length N" in err
    assert main(["fit", str(p), "--n", "T", "--kappa0", "2"]) == 0
    out = capsys.readouterr().out
    assert "orderstat_n" in out and "b_B = " in out
    assert main(["fit", str(p), "--n", "x"]) == 2
    assert "--n must be a signal length or T, got 'x'" in capsys.readouterr().err


def test_fit_reports_a_failed_law_and_a_skipped_rule(tmp_path, capsys):
    p = _write(tmp_path / "two_n.csv", other_n=True)
    assert main(["fit", str(p), "--model", "paper"]) == 0
    out = capsys.readouterr().out
    assert "# J* rule skipped: several N per (J, T)" in out
    p = _write(tmp_path / "no_n.csv", n=False)
    assert main(["fit", str(p), "--model", "paper", "orderstat_n"]) == 0
    assert "# orderstat_n: fit failed: needs the signal length N" in capsys.readouterr().out


def test_fit_missing_column_fails_clearly(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text("J,T,kappa_mean\n4,8,2.0\n")
    assert main(["fit", str(p)]) == 2
    err = capsys.readouterr().err
    assert "log_kappa_mean" in err and "--column" in err
    assert main(["fit", str(p), "--model", "nope"]) == 2
    assert "model must be" in capsys.readouterr().err


def test_fit_refuses_mixed_sweeps(tmp_path, capsys):
    p = tmp_path / "mixed.csv"
    p.write_text(
        "J,T,N,init,log_kappa_mean,log_kappa_se\n"
        "4,8,8,gaussian,1.5,0.01\n4,8,8,pytorch,1.6,0.01\n4,16,16,gaussian,1.8,0.01\n"
    )
    assert main(["fit", str(p), "--model", "paper"]) == 2
    err = capsys.readouterr().err
    assert "--where" in err and "init=" in err
