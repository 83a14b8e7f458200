"""The energy experiments: claims as data, tables against the draws and the exact theory."""

import math

import numpy as np
import pytest

from jaxfb.io import read_csv
from jaxfb.reproduce._energy import EnergyStudy, growth_claim
from jaxfb.reproduce._stats import select


def _study(quantiles, se, levels=(0.1, 0.05)):
    lengths = (8, 16, 32)
    table = {
        "signal": np.array(["a"] * 3),
        "T": np.array(lengths),
        "quantile": np.array(quantiles),
        "quantile_se": np.array(se),
    }
    return EnergyStudy(["a"], lengths, None, levels, {levels[0]: table}, {})


def test_growth_claim_names_the_quantile_of_the_first_level():
    claim = growth_claim(_study([0.1, 0.2, 0.3], [0.01] * 3), "stem", "test")
    assert "90% quantile" in claim.rule.text and "95%" not in claim.rule.text
    assert "90% quantile grows" in claim.finding and claim.verdict == "supported"
    assert claim.figure == "stem_p1"
    flat = growth_claim(_study([0.1, 0.11, 0.1], [0.01] * 3), "stem", "test")
    assert flat.verdict == "not supported"
    nan = growth_claim(_study([0.1, 0.2, 0.3], [math.nan] * 3), "stem", "test")
    assert nan.verdict == "not supported" and "undetermined" in nan.finding


def test_exceedance_se_uses_the_exact_probability(tiny_run):
    """The rate of draws above alpha is a mean of Bernoulli(P), P exact: SE sqrt(P(1-P)/n)."""
    _, res = tiny_run
    for name, p in (("energy_elementary_p01", 0.01), ("energy_audio_p05", 0.05)):
        tab = read_csv(res.out / f"{name}.csv")
        P, n = tab["paper_exceedance_exact"], tab["draws"]
        ok = np.isfinite(P)
        assert ok.sum() >= 4
        expected = np.sqrt(P[ok] * (1 - P[ok]) / n[ok])
        np.testing.assert_allclose(tab["paper_exceedance_se"][ok], expected, rtol=1e-9)
        assert not np.allclose(expected, np.sqrt(p * (1 - p) / n[ok]), rtol=1e-3)
    number = next(n for n in res.numbers if n.label.startswith("Draws above the paper's alpha"))
    tab = read_csv(res.out / f"{number.csv}.csv")
    P = tab["paper_exceedance_exact"][select(tab, **number.where)]
    assert number.se == pytest.approx(math.sqrt(P * (1 - P) / 40), rel=1e-9)


def test_chernoff_verdict_follows_the_exact_tail(tiny_run):
    _, res = tiny_run
    tab = read_csv(res.out / "energy_elementary_p01.csv")
    fails = np.nanmax(tab["paper_exceedance_exact"]) > 0.01
    claim = next(
        c
        for c in res.claims
        if c.statement.startswith("The paper's Chernoff bound holds at p = 0.01 (elementary")
    )
    assert (claim.verdict == "not supported") == fails
    assert claim.evidence["points_failing"] == int(np.sum(tab["paper_exceedance_exact"] > 0.01))
    i = select(tab, signal="impulse", T=32)
    assert tab["paper_fails"][i] == float(tab["paper"][i] < tab["exact_quantile"][i])
