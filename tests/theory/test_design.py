"""Design rule ``required_filters`` and its asymptote ``required_filters_slope``.

References are independent of the code under test: ``E[kappa]`` at ``T = N`` by a separate
float64 integration of the order-statistics law of the independent Littlewood-Paley values
(``scipy.stats`` chi2 / gamma, adaptive ``scipy.integrate.quad`` over ``log A`` and a trapezoid
rule in ``log(B - A)``), and the asymptote by nested ``scipy.optimize.brentq`` on the Cramér rate.
"""

import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from jaxfb import io, theory

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------------------------
# reference: E[kappa] at T = N from the definition


def _groups(J, n):
    """(distribution, count) of the independent LP values at T = N (n even)."""
    return [(stats.chi2(J, scale=1.0 / J), 2), (stats.gamma(J, scale=1.0 / J), n // 2 - 1)]


def _log_sf_min(groups, a):
    return sum(m * d.logsf(a) for d, m in groups)


def _quantile(fn, target, lo=1e-300, hi=50.0):
    """``x`` with ``fn(x) = target``, by brentq in ``log x``."""
    s = optimize.brentq(lambda t: fn(math.exp(t)) - target, math.log(lo), math.log(hi), rtol=1e-13)
    return math.exp(s)


def _ref_mean_ratio(groups):
    r"""``E[max/min]`` of independent variables, ``groups = [(scipy distribution, count), ...]``.

    ``E[B/A] = int sum_g P(A in da, argmin in g) [1 + (1/a) int_a^inf P(B > b | A=a, g) db]``,
    ``P(B > b | A = a, g) = 1 - prod_h (1 - S_h(b)/S_h(a))^{n_h - [h = g]}`` (the others are
    i.i.d. given ``> a``). Outer: ``quad`` over ``s = log a`` between the ``1e-30`` quantiles of
    ``A``; inner: trapezoid in ``v = log(b - a)`` (analytic, vanishing at both ends).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _ref_mean_ratio_quad(groups)


def _ref_mean_ratio_quad(groups):
    s_lo = math.log(_quantile(lambda a: np.log(-np.expm1(_log_sf_min(groups, a))), -69.0))
    s_hi = math.log(_quantile(lambda a: _log_sf_min(groups, a), -69.0))
    s_med = math.log(_quantile(lambda a: _log_sf_min(groups, a), math.log(0.5)))
    b_hi = _quantile(
        lambda b: special.logsumexp([math.log(m) + d.logsf(b) for d, m in groups]), -46.0, 0.5, 1e3
    )

    def outer(s):
        a = math.exp(s)
        v = np.arange(s - 30.0, math.log(b_hi), 0.02)  # below: < 1e-13 a
        b = a + np.exp(v)
        log_sf_a = [d.logsf(a) for d, _ in groups]
        log_keep = [
            np.log1p(-np.minimum(np.exp(d.logsf(b) - la), 1.0))
            for (d, _), la in zip(groups, log_sf_a, strict=True)
        ]
        total = 0.0
        for g, (dg, mg) in enumerate(groups):
            n_other = [m - (h == g) for h, (_, m) in enumerate(groups)]
            log_density = math.log(mg) + dg.logpdf(a) + np.dot(n_other, log_sf_a)
            log_cond = sum(k * lk for k, lk in zip(n_other, log_keep, strict=True) if k)
            tail = np.trapezoid(np.exp(v) * -np.expm1(log_cond), v)
            total += math.exp(log_density) * (a + tail)
        return total  # the density of log A times E[B | A = a, g] / a

    return integrate.quad(outer, s_lo, s_hi, points=[s_med], epsabs=0, epsrel=1e-10, limit=200)[0]


def ref_mean_kappa(J, n):
    """``E[kappa]`` at ``T = N`` (``n`` even) by :func:`_ref_mean_ratio`."""
    return _ref_mean_ratio(_groups(J, n))


@pytest.mark.parametrize("J", [3.0, 7.5, 40.0])
def test_reference_on_the_f_law(J):
    # T = N = 2: two independent chi2_J / J; kappa = max(F, 1/F), F ~ F(J, J), so
    # E[kappa] = 2 (E[F] - int_0^1 x f(x) dx) with E[F] = J / (J - 2)
    F = stats.f(J, J)
    closed = 2 * (J / (J - 2) - integrate.quad(lambda x: x * F.pdf(x), 0, 1, epsrel=1e-12)[0])
    assert _ref_mean_ratio([(stats.chi2(J, scale=1.0 / J), 2)]) == pytest.approx(closed, rel=1e-8)


def test_reference_on_two_different_variables():
    # X ~ chi2_J / J, Y ~ Gamma(J, 1/J) (the N = 3 law): E[max/min] =
    # int f_X(x) [x E(1/Y; Y < x) + E(Y; Y > x) / x] dx, with, for Y ~ Gamma(a, rate a),
    # E(1/Y; Y < x) = a/(a-1) P(Gamma(a-1, rate a) < x), E(Y; Y > x) = P(Gamma(a+1, rate a) > x)
    J = 5.0
    X = stats.chi2(J, scale=1.0 / J)

    def integrand(x):
        below = J / (J - 1) * special.gammainc(J - 1, J * x)
        above = special.gammaincc(J + 1, J * x)
        return X.pdf(x) * (x * below + above / x)

    closed = integrate.quad(integrand, 0, np.inf, epsrel=1e-12, limit=200)[0]
    ref = _ref_mean_ratio([(X, 1), (stats.gamma(J, scale=1.0 / J), 1)])
    assert ref == pytest.approx(closed, rel=1e-8)


# ---------------------------------------------------------------------------------------------
# the exact rule


@pytest.mark.parametrize(
    ("kappa0", "n"),
    [
        (1.5, 64),
        (2.0, 256),
        (2.0, 4096),
        (4.0, 1024),
        pytest.param(1.5, 4096, marks=pytest.mark.slow),
        pytest.param(4.0, 64, marks=pytest.mark.slow),
    ],
)
def test_exact_rule_brackets_kappa0_by_an_independent_integration(kappa0, n):
    J = int(theory.required_filters(kappa0, n, n))
    at, below = ref_mean_kappa(J, n), ref_mean_kappa(J - 1, n)
    assert at <= kappa0 < below, (J, at, below)
    # the bracket is not decided by the reference's error (~1e-9)
    assert min(kappa0 - at, below - kappa0) > 1e-7


def test_continuous_crossing_is_the_root_and_its_ceiling_the_rule():
    kappa0, n = 2.0, 1024
    Jc = float(theory.required_filters(kappa0, n, n, continuous=True))
    assert ref_mean_kappa(Jc, n) == pytest.approx(kappa0, abs=1e-8)  # real shapes J/2, J
    assert math.ceil(Jc) == int(theory.required_filters(kappa0, n, n))


@pytest.mark.parametrize(("length", "n"), [(64, 64), (16, 256)])
def test_mean_kappa_decreases_over_consecutive_filters(length, n):
    # the bisection relies on it; J <= 2 is inf (tested in test_frame_bounds)
    E = theory.expected_condition_number(np.arange(3, 41), length, n)
    assert np.all(np.diff(E) < 0)


def test_small_filters_and_trivial_lengths():
    # J <= 2 has E[kappa] = inf, so the answer is at least 3 however large kappa0 is
    assert int(theory.required_filters(1e6, 64, 64)) == 3
    assert math.isinf(theory.expected_condition_number(2, 64, 64))
    # T = 1: kappa = 1 for every J
    assert int(theory.required_filters(1.01, 1, 64)) == 1
    # T < N is the predictor's rule: it brackets the predictor's E[kappa]
    J = int(theory.required_filters(2.0, 64, 1024))
    assert theory.expected_condition_number(J, 64, 1024) <= 2.0
    assert theory.expected_condition_number(J - 1, 64, 1024) > 2.0


def test_vectorised_equals_scalar_calls():
    kappa0 = np.array([[[2.0]], [[4.0]]])  # (2, 1, 1)
    length = np.array([[1], [8], [32]])  # (3, 1)
    n = np.array([32, 64])  # (2,)
    out = theory.required_filters(kappa0, length, n)
    assert out.shape == (2, 3, 2) and out.dtype == np.int64
    for i, j, k in np.ndindex(out.shape):
        scalar = theory.required_filters(float(kappa0[i, 0, 0]), int(length[j, 0]), int(n[k]))
        assert out[i, j, k] == scalar
    assert np.ndim(theory.required_filters(2.0, 8, 8)) == 0
    slopes = theory.required_filters_slope(np.array([1.5, 2.0, 4.0]))
    assert slopes.shape == (3,)
    assert slopes[1] == theory.required_filters_slope(2.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(kappa0=1.0, length=8, n=8), "kappa0"),
        (dict(kappa0=0.5, length=8, n=8), "kappa0"),
        (dict(kappa0=math.inf, length=8, n=8), "kappa0"),
        (dict(kappa0=math.nan, length=8, n=8), "kappa0"),
        (dict(kappa0=np.array([2.0, 1.0]), length=8, n=8), "kappa0"),
        (dict(kappa0="2", length=8, n=8), "kappa0"),
        (dict(kappa0=2.0, length=16, n=8), "length"),
        (dict(kappa0=2.0, length=np.array([4, 16]), n=8), "length"),
        (dict(kappa0=2.0, length=0, n=8), "length"),
        (dict(kappa0=2.0, length=8, n=0), "n"),
        (dict(kappa0=2.0, length=8.5, n=16), "length"),
        (dict(kappa0=2.0, length=8.0, n=16), "length"),
        (dict(kappa0=2.0, length=8, n=np.array([16.0])), "n"),
        (dict(kappa0=2.0, length=True, n=16), "length"),
        (dict(kappa0=1.0001, length=64, n=64), "kappa0"),  # needs > 2^24 filters
    ],
)
def test_bad_input_raises_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        theory.required_filters(**kwargs)


@pytest.mark.parametrize("kappa0", [1.0, -2.0, math.inf, math.nan])
def test_slope_bad_input(kappa0):
    with pytest.raises(ValueError, match="kappa0"):
        theory.required_filters_slope(kappa0)


# ---------------------------------------------------------------------------------------------
# the asymptote


def _rate(x):
    return x - 1.0 - math.log(x)


def ref_slope(kappa0):
    """``1/u*``: ``I(x_-) = I(x_+) = u`` and ``x_+ / x_- = kappa0``, by nested brentq."""

    def log_ratio(u):
        x_minus = optimize.brentq(lambda x: _rate(x) - u, 1e-300, 1.0, xtol=1e-300, rtol=1e-15)
        x_plus = optimize.brentq(lambda x: _rate(x) - u, 1.0, 1e6, xtol=1e-300, rtol=1e-15)
        return math.log(x_plus / x_minus) - math.log(kappa0)

    u = optimize.brentq(log_ratio, 1e-12, 50.0, xtol=1e-300, rtol=1e-14)
    return 1.0 / u


@pytest.mark.parametrize("kappa0", [1.05, 1.5, 2.0, 4.0, 20.0])
def test_slope_solves_the_cramer_equations(kappa0):
    assert theory.required_filters_slope(kappa0) == pytest.approx(ref_slope(kappa0), rel=1e-9)


@pytest.mark.parametrize("kappa0", [1.5, 2.0, 4.0])
def test_slope_exceeds_the_gaussian_small_u_approximation(kappa0):
    # u* = L^2/8 - L^4/576 + O(L^6), L = log kappa0: the Gaussian 8 / L^2 is too small
    L = math.log(kappa0)
    slope = theory.required_filters_slope(kappa0)
    assert slope > 8.0 / L**2
    assert slope == pytest.approx(1.0 / (L**2 / 8 - L**4 / 576), rel=L**6 / 100)


def test_exact_local_slope_approaches_the_asymptote_from_below():
    kappa0 = 2.0
    T = np.array([64, 128, 2**15, 2**16])
    Jc = theory.required_filters(kappa0, T, T, continuous=True)
    slope_small = (Jc[1] - Jc[0]) / math.log(2.0)
    slope_large = (Jc[3] - Jc[2]) / math.log(2.0)
    asymptote = ref_slope(kappa0)
    assert slope_small < slope_large < asymptote
    assert slope_large > 0.85 * asymptote


# ---------------------------------------------------------------------------------------------
# the numbers quoted in docs/theory.md


def _section_tables(text):
    """Markdown tables of the section "Design rule: how many filters", as lists of cell rows."""
    section = text.split("## Design rule: how many filters", 1)[1].split("\n## ", 1)[0]
    tables, current = [], []
    for line in [*section.splitlines(), ""]:
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return [t for t in tables if len(t) > 2]


def _matches(cell, value):
    """``cell`` is ``value`` rounded to the cell's decimals (ints exactly)."""
    if "." not in cell:
        return int(cell) == value
    decimals = len(cell.split(".")[1])
    return abs(float(cell) - value) <= 0.5 * 10.0**-decimals + 1e-12


def test_docs_tables_quote_the_experiment_json():
    data = io.load_json(ROOT / "docs" / "figures" / "design_rule.json")
    tables = _section_tables((ROOT / "docs" / "theory.md").read_text(encoding="utf-8"))
    by_header = {re.sub(r"[`\s]", "", t[0][0] + t[0][1]): t[2:] for t in tables}
    exact = {(r["kappa0"], r["T"]): r for r in data["exact"]}
    slopes = {(s["kappa0"], s["T_to"]): s for s in data["slopes"]}

    rows = by_header["T=NJ*"]
    assert [int(r[0]) for r in rows] == data["config"]["lengths"]
    for cells in rows:
        r = exact[(2.0, int(cells[0]))]
        keys = ["J", "mean_kappa_at_J", "mean_kappa_at_J_minus_1", "J_continuous"]
        assert all(_matches(c, r[k]) for c, k in zip(cells[1:5], keys, strict=True)), cells
        s = slopes.get((2.0, int(cells[0])))
        if s is None:
            assert cells[5:] == ["—"] * 3
        else:
            keys = ["slope", "next_order", "fraction_of_asymptote"]
            assert all(_matches(c, s[k]) for c, k in zip(cells[5:], keys, strict=True)), cells

    rows = by_header["T=Nkappa0=1.5"]
    assert [int(r[0]) for r in rows] == data["config"]["summary_lengths"]
    for cells in rows:
        for c, k0 in zip(cells[1:], data["config"]["kappa0"], strict=True):
            assert _matches(c, exact[(k0, int(cells[0]))]["J"]), cells

    rows = by_header["kappa0slope,T=2^15..2^16"]
    top = data["config"]["lengths"][-1]
    assert len(rows) == len(data["asymptote"])
    for cells, a in zip(rows, data["asymptote"], strict=True):
        s = slopes[(a["kappa0"], top)]
        assert float(cells[0]) == a["kappa0"]
        values = [s["slope"], s["next_order"], a["slope"], a["gaussian_slope"]]
        values += [a["x_minus"], a["x_plus"]]
        assert all(_matches(c, v) for c, v in zip(cells[1:], values, strict=True)), cells

    rows = by_header["TN"]
    assert len(rows) == len(data["model"])
    for cells, r in zip(rows, data["model"], strict=True):
        values = [r["T"], r["N"], r["J"], r["mean_kappa_at_J"], r["mean_kappa_at_J_minus_1"]]
        assert all(_matches(c, v) for c, v in zip(cells[:5], values, strict=True)), cells
        assert cells[5] == ("exact" if r["exact"] else "model")
    assert all(m["decreasing"] for m in data["monotone"])


def test_experiment_json_agrees_with_the_function_at_two_points():
    data = io.load_json(ROOT / "docs" / "figures" / "design_rule.json")
    rows = [r for r in data["exact"] if r["kappa0"] == 2.0 and r["T"] in (64, 1024)]
    assert len(rows) == 2
    for r in rows:
        assert int(theory.required_filters(2.0, r["T"], r["N"])) == r["J"]
