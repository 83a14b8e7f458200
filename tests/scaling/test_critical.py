"""The rule J*(T; kappa0): read off a table exactly where the interpolation is exact, its SE by
the delta method against finite differences, and the logarithmic / power-law rule fits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jaxfb import scaling
from jaxfb.scaling._critical import CriticalFilters


def _rule_table(alpha=3.0):
    # E[kappa] = exp(sqrt(alpha log T / J)): log log kappa is linear in log J, so the
    # interpolation is exact and J* = alpha log T / log(kappa0)^2
    Jt, Tt = np.meshgrid(2.0 ** np.arange(1, 11), 2.0 ** np.arange(2, 11), indexing="ij")
    Jt, Tt = Jt.ravel(), Tt.ravel()
    return Jt, Tt, np.exp(np.sqrt(alpha * np.log(Tt) / Jt))


@pytest.mark.parametrize("kappa0", [1.5, 2.0, 4.0])
def test_critical_filters_known_answer(kappa0):
    Jt, Tt, kap = _rule_table()
    crit = scaling.critical_filters(Jt, Tt, kap, kappa0, se=0.01 * kap)
    expected = 3.0 * np.log(np.unique(Tt)) / math.log(kappa0) ** 2
    ok = crit.status == "ok"
    assert ok.sum() >= 5
    np.testing.assert_allclose(crit.num_filters[ok], expected[ok], rtol=1e-12)
    assert np.all((expected[~ok] < 2) | (expected[~ok] > 1024))
    assert set(crit.status[~ok]) <= {"below_grid", "above_grid"}


def test_critical_filters_se_is_the_delta_method():
    Jt, Tt, kap = _rule_table()
    se = 0.02 * kap
    crit = scaling.critical_filters(Jt, Tt, kap, 2.0, se=se)
    i = int(np.flatnonzero(crit.status == "ok")[3])
    t = crit.length[i]
    # numerical derivative of J* with respect to every table entry at this T
    grad = np.zeros_like(kap)
    for r in np.flatnonzero(Tt == t):
        h = 1e-6 * kap[r]
        up, dn = kap.copy(), kap.copy()
        up[r] += h
        dn[r] -= h
        jp = scaling.critical_filters(Jt, Tt, up, 2.0).num_filters[i]
        jm = scaling.critical_filters(Jt, Tt, dn, 2.0).num_filters[i]
        grad[r] = (jp - jm) / (2 * h)
    assert np.count_nonzero(grad) == 2  # only the two bracketing points matter
    np.testing.assert_allclose(crit.se[i], np.sqrt(np.sum((grad * se) ** 2)), rtol=1e-5)


def test_critical_filters_status_and_validation():
    Jt = np.array([2.0, 4, 8, 2, 4, 8])
    Tt = np.array([4.0, 4, 4, 1024, 1024, 1024])
    kap = np.array([np.inf, 1.8, 1.3, 50.0, 20.0, 10.0])
    c = scaling.critical_filters(Jt, Tt, kap, 2.0)
    assert c.status.tolist() == ["nonfinite", "above_grid"]
    c = scaling.critical_filters(Jt, Tt, kap, 60.0)
    assert c.status.tolist() == ["nonfinite", "below_grid"]
    with pytest.raises(ValueError, match="kappa0 must be > 1"):
        scaling.critical_filters(Jt, Tt, kap, 1.0)
    with pytest.raises(ValueError, match="duplicate J"):
        scaling.critical_filters(np.r_[Jt, 2.0], np.r_[Tt, 4.0], np.r_[kap, 3.0], 2.0)


TS = 2.0 ** np.arange(2, 11)  # the 9 lengths of the shared grid: the rules compile once


def test_log_rule_recovered_and_not_rejected(data):
    rng = np.random.default_rng(15)
    se = np.full(TS.shape, 0.3)
    Js = 2.0 + 4.0 * np.log(TS) + se * rng.standard_normal(TS.shape)
    test = scaling.log_linearity_test(TS, Js, se)
    data.within_k_se(test.log, np.array([2.0, 4.0]))
    gamma = test.power.estimates["gamma"]
    assert abs(gamma.value) < data.K * gamma.stderr
    assert test.p_value > 1e-3 and test.lr_statistic >= 0


def test_power_rule_detected(data):
    rng = np.random.default_rng(16)
    se = np.full(TS.shape, 0.3)
    Js = 1.0 + 2.0 * TS**0.4 + se * rng.standard_normal(TS.shape)
    test = scaling.log_linearity_test(TS, Js, se)
    assert test.p_value < 1e-6 and test.delta_aic < -10
    assert abs(test.power.params[2] - 0.4) < data.K * test.power.stderr[2]
    crit = CriticalFilters(TS, Js, se, np.full(TS.shape, "ok"), 2.0)
    again = scaling.fit_critical_rule(crit, form="power")
    np.testing.assert_allclose(again.params, test.power.params, rtol=1e-10)
    with pytest.raises(ValueError, match="need at least 3 bracketed J"):
        scaling.fit_critical_rule(TS[:2], Js[:2], se[:2], form="power")
