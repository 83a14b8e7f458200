"""jaxfb.scaling.analyze: the jaxfb fit workflow as a library call (fits within K SE of a known
law, rows dropped and merged, the J* rule, every failure with its reason, save and round trip)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from jaxfb import io, scaling
from jaxfb.scaling import _analysis


def _table(data, y, se, *, n_column=True, kappa=True):
    """A sweep-like table of the shared grid, plus a row to drop and a repeated row."""
    J, T = data.J, data.T
    table = {"J": J.astype(int), "T": T.astype(int), "log_kappa_mean": y, "log_kappa_se": se}
    if n_column:
        table["N"] = T.astype(int)
    if kappa:
        k = np.exp(y) * 1.02  # E[kappa] a little above exp E[log kappa]
        table |= {"kappa_mean": k, "kappa_se": 0.01 * k}
    # T = 1: kappa = 1 exactly, zero SE (dropped); and the first row once more (merged)
    extra = {"J": 8, "T": 1, "N": 1, "log_kappa_mean": 0.0, "log_kappa_se": 0.0}
    extra |= {"kappa_mean": 1.0, "kappa_se": 0.0}
    return {c: np.r_[x, extra[c], x[0]] for c, x in table.items()}


@pytest.fixture(scope="module")
def known(data):
    """Noisy data from the recommended law at TRUTH_N (N = T), and its analysis."""
    y, se = data.noisy(data.law("orderstat_n", data.TRUTH_N, data.J, data.T, data.T), seed=40)
    return y, se, scaling.analyze(_table(data, y, se))


def test_analyze_recovers_the_known_law(data, known):
    _, _, result = known
    assert list(result.fits) == ["orderstat_n"] and result.best == "orderstat_n"
    fit = result.fits["orderstat_n"]
    data.within_k_se(fit, data.TRUTH_N)
    assert fit.params.dtype == np.float64 and fit.num_points == data.J.size
    assert len(result.dropped) == 1 and result.dropped[0]["T"] == 1
    assert result.points.J.size == data.J.size  # the repeated row was merged
    assert result.failures == {} and result.rule_skipped is None
    assert set(result.critical) == {1.5, 2.0, 4.0}
    assert jax.config.jax_enable_x64 is False  # the global flag untouched


def test_summary_prints_fits_and_every_rule_with_its_reason(known):
    _, _, result = known
    text = result.summary()
    assert "56 points" not in text and f"{result.points.J.size} points" in text
    assert "1 dropped" in text and "orderstat_n" in text and "b_B = " in text
    assert "J*(T; kappa0)" in text
    for k0 in result.kappa0:
        assert (k0 in result.rules) != (k0 in result.rule_failures)
        assert f"# kappa0={k0:g} (all T): " in text
    for reason in result.rule_failures.values():
        assert reason in text


def test_rule_not_fitted_is_reported(data, known):
    y, se, _ = known
    result = scaling.analyze(_table(data, y, se), models="paper", rule_min_length=512)
    # T >= 512 leaves 2 lengths: too few for the rule, at every kappa0
    assert result.rules == {}
    text = result.summary()
    for k0 in result.kappa0:
        reason = result.rule_failures[k0]
        assert "bracketed J* values with T >= 512: rule not fitted (need 4)" in reason
        assert f"# kappa0={k0:g} (T >= 512): {reason}" in text
    report = result.to_dict()
    assert report["critical"]["2.0"]["note"] == result.rule_failures[2.0]


def test_failed_fits_and_skipped_rule_are_reported(data, known):
    y, se, _ = known
    table = _table(data, y, se, n_column=False, kappa=False)
    result = scaling.analyze(table, models=["paper", "orderstat_n"])
    assert list(result.fits) == ["paper"]
    reason = result.failures["orderstat_n"]
    assert "signal length N" in reason
    text = result.summary()
    assert f"# orderstat_n: fit failed: {reason}" in text
    assert "# J* rule skipped: the table has no kappa_mean / kappa_se columns" in text
    assert result.to_dict()["models"]["orderstat_n"] == {"error": reason}
    with pytest.raises(ValueError, match=r"no law could be fitted \(orderstat_n: needs the"):
        scaling.analyze(table)  # the default law needs N
    assert scaling.analyze(table, n="T").fits["orderstat_n"].converged


def test_failed_bootstrap_is_reported(data, known, monkeypatch):
    y, se, _ = known
    real = _analysis.bootstrap

    def flaky(key, result, **kw):
        if result.model.name == "poly":
            raise ValueError("only 0 of 4 bootstrap refits converged inside the domain")
        return real(key, result, **kw)

    monkeypatch.setattr(_analysis, "bootstrap", flaky)
    result = scaling.analyze(
        _table(data, y, se), models=["paper", "poly"], bootstrap=4, key=jax.random.key(0)
    )
    assert set(result.bootstraps) == {"paper"}
    assert "# poly: bootstrap failed: only 0 of 4" in result.summary()
    entry = result.to_dict()["models"]["poly"]
    assert entry["bootstrap"]["error"].startswith("only 0 of 4")
    assert set(entry["params"]) == {"a1", "a2", "a3"}


def test_save_round_trip(data, known, tmp_path):
    _, _, result = known
    written = result.save(tmp_path / "out", extra={"note": "test"})
    assert [p.name for p in written] == [
        "collapse.png",
        "contours.png",
        "residuals.png",
        "fit.json",
    ]
    for p in written[:-1]:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = io.load_json(written[-1])
    assert back["note"] == "test" and back["versions"]["jax"] == jax.__version__
    expected = io.from_json(io.to_json(result.to_dict()))
    assert {k: back[k] for k in expected} == expected
    entry = back["models"]["orderstat_n"]
    assert entry["params"] == result.fits["orderstat_n"].param_dict
    # non-finite numbers survive (J* not bracketed is NaN)
    js = np.array(back["critical"]["1.5"]["J_star"], float)
    np.testing.assert_array_equal(js, result.critical[1.5].num_filters)
    again = result.save(tmp_path / "bare", figures=False)
    assert [p.name for p in again] == ["fit.json"]


def test_analyze_reads_files_with_columns_and_where(data, known, tmp_path):
    y, se, _ = known
    table = _table(data, y, se)
    table["my_mean"] = table.pop("log_kappa_mean")
    table["init"] = np.full(table["J"].shape, "gaussian")
    other = {c: x[:3] for c, x in table.items()}
    other["init"] = np.full(3, "pytorch")
    other["my_mean"] = other["my_mean"] + 0.1  # another sweep: other means
    io.write_csv(tmp_path / "summary.csv", {c: np.r_[table[c], other[c]] for c in table})
    with pytest.raises(ValueError, match=r"several rows with J=4, T=4, N=4 .* init=pytorch"):
        scaling.analyze(tmp_path, columns={"log_kappa_mean": "my_mean"}, models="paper")
    result = scaling.analyze(
        tmp_path,
        columns={"log_kappa_mean": "my_mean"},
        where={"init": "gaussian"},
        models="paper",
    )
    assert result.source == str(tmp_path) and result.points.J.size == data.J.size
    with pytest.raises(ValueError, match=r"missing column\(s\) \['log_kappa_mean'\]"):
        scaling.analyze(tmp_path / "summary.csv", models="paper")


def test_analyze_validates_its_arguments(data, known):
    y, se, _ = known
    table = _table(data, y, se)
    with pytest.raises(ValueError, match=r"bootstrap=4 needs key="):
        scaling.analyze(table, bootstrap=4)
    with pytest.raises(ValueError, match=r"samples= feeds the bootstrap"):
        scaling.analyze(table, samples="files")
    with pytest.raises(ValueError, match=r"model must be a Model or one of"):
        scaling.analyze(table, models=["nope"])
    with pytest.raises(ValueError, match=r"target must be one of"):
        scaling.analyze(table, target="kappa")
    with pytest.raises(ValueError, match=r"columns= and where= apply when reading a file"):
        scaling.analyze(table, where={"N": 4})
    with pytest.raises(ValueError, match=r"n='T': table has an N column already"):
        scaling.analyze(table, n="T")
    table.pop("N")
    with pytest.raises(ValueError, match=r"n must be a signal length or 'T' \(N = T\), got 'x'"):
        scaling.analyze(table, n="x")
    with pytest.raises(TypeError, match=r"summary must be a path .* got int"):
        scaling.analyze(3)
