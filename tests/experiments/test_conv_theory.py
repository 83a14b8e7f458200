"""experiments/conv_theory.py --theory-only: the theory columns are recomputed from jaxfb.theory,
the Monte Carlo columns are kept, and the table files are rewritten from the rows."""

import pytest
from _support import ROOT, load_script

from jaxfb import io, theory


def test_theory_only_keeps_the_monte_carlo_and_recomputes_the_theory(tmp_path):
    script = load_script("experiments/conv_theory.py")
    committed = io.load_json(ROOT / "docs" / "figures" / "conv_theory.json")
    # two single-channel rows of the committed run (one exact, one predictor), theory spoiled
    rows = [r for r in committed["rows"] if r["C"] == 1 and r["d"] == 1][:3]
    assert {r["exact"] for r in rows} == {True, False}
    for r in rows:
        r["A_theory"] = r["B_theory"] = r["kappa_theory"] = -1.0
    io.save_json(tmp_path / "conv_theory.json", {**committed, "rows": rows})
    result = script.main(["--theory-only", "--out", str(tmp_path)])
    for old, new in zip(rows, result["rows"], strict=True):
        for q in ("A", "B", "kappa"):
            assert new[f"{q}_mean"] == old[f"{q}_mean"] and new[f"{q}_se"] == old[f"{q}_se"]
        J, T, n = new["J"], new["T"], new["n"]
        lo, hi = theory.expected_frame_bounds(J, T, n)
        assert new["A_theory"] == pytest.approx(float(lo), rel=1e-12)
        assert new["B_theory"] == pytest.approx(float(hi), rel=1e-12)
        kappa = float(theory.expected_condition_number(J, T, n))
        assert new["kappa_theory"] == pytest.approx(kappa, rel=1e-12)
        err = 100.0 * (new["kappa_theory"] / new["kappa_mean"] - 1.0)
        assert new["kappa_err_pct"] == pytest.approx(err, rel=1e-12)
    saved = io.load_json(tmp_path / "conv_theory.json")
    assert "theory_recomputed" in saved and saved["rows"][0]["A_theory"] != -1.0
    assert (tmp_path / "conv_theory.csv").exists() and (tmp_path / "conv_theory_table.md").exists()
