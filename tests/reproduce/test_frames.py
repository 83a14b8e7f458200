"""Frame bounds and condition numbers: fitted laws with correlated points, tables vs draws."""

import math

import numpy as np
import pytest

from jaxfb.io import read_csv
from jaxfb.reproduce import _frames
from jaxfb.reproduce._frames import fit_laws, kappa_log_mean_cov, sandwich_stderr
from jaxfb.reproduce._stats import select


def test_sandwich_stderr_is_the_weighted_least_squares_covariance():
    """Linear model, correlated noise of known covariance: the sandwich error matches the spread
    of the weighted least-squares estimates over replicates, the independent-points one not."""
    rng = np.random.default_rng(0)
    n = 12
    X = np.stack([np.ones(n), np.linspace(0.0, 1.0, n)], axis=1)
    se = np.full(n, 0.1)
    cov = np.kron(np.eye(3), np.full((4, 4), 0.8) + 0.2 * np.eye(4)) * 0.01
    theta = np.array([1.0, -2.0])
    W = np.diag(1 / se**2)
    solve = np.linalg.solve(X.T @ W @ X, X.T @ W)
    reps = 4000
    estimates = (X @ theta + rng.multivariate_normal(np.zeros(n), cov, size=reps)) @ solve.T
    empirical = estimates.std(axis=0, ddof=1)
    tol = 5 / math.sqrt(2 * (reps - 1))  # 5 SE of a sample standard deviation, relative
    np.testing.assert_allclose(
        sandwich_stderr(lambda p: X @ p, theta, se, cov), empirical, rtol=tol
    )
    independent = sandwich_stderr(lambda p: X @ p, theta, se, np.diag(se**2))
    np.testing.assert_allclose(independent, np.sqrt(np.diag(np.linalg.inv(X.T @ W @ X))))
    assert np.all(np.abs(independent / empirical - 1) > 2 * tol)


def test_sandwich_with_independent_points_is_the_fit_error(x64):
    J, T = (a.ravel().astype(float) for a in np.meshgrid([8, 16, 32, 64], [16, 64, 256, 1024]))
    u = np.log(T) / J
    se = np.full(J.shape, 0.01)
    noise = se * np.random.default_rng(1).standard_normal(J.shape)
    y = np.log((1 + 0.5 * np.sqrt(u)) / (1 - 0.5 * np.sqrt(u))) + noise
    fits, failed = fit_laws(J, T, y, se, cov=np.diag(se**2))
    assert set(fits) | set(failed) == {"paper", "poly", "collapse"} and "paper" in fits
    for f in fits.values():
        for name in f.params:
            np.testing.assert_allclose(f.stderr[name], f.stderr_independent[name], rtol=1e-4)
    few, why = fit_laws(J[:3], T[:3], y[:3], se[:3])
    assert few == {} and "at least 4" in why["paper"]  # a failed fit is reported, not dropped


def test_log_mean_kappa_covariance_matches_its_definition():
    rng = np.random.default_rng(2)
    kappa = 1 + rng.gamma(4.0, size=(500, 1)) + 0.3 * rng.gamma(2.0, size=(500, 3))
    c = kappa_log_mean_cov(kappa)
    n, m = kappa.shape[0], kappa.mean(axis=0)
    for i in range(3):
        for j in range(3):
            d = (kappa[:, i] - m[i]) * (kappa[:, j] - m[j])
            np.testing.assert_allclose(c[i, j], d.sum() / (n - 1) / n / (m[i] * m[j]), rtol=1e-12)


def test_tables_agree_with_the_draws(tiny_run):
    _, res = tiny_run
    s = np.load(res.out / "samples.npz")
    A, B, Js = s["frames_A_T32"], s["frames_B_T32"], list(s["frames_J_T32"])
    k = B[:, Js.index(40)].astype(float) / A[:, Js.index(40)].astype(float)
    tab = read_csv(res.out / "kappa_vs_T.csv")
    assert tab["mean_kappa"][select(tab, J=40, T=32)] == pytest.approx(k.mean(), rel=1e-9)
    tab = read_csv(res.out / "kappa_vs_J.csv")
    assert math.isnan(tab["mean_kappa"][select(tab, J=2, T=32)])  # the mean does not exist
    c = [n for n in res.numbers if n.label.startswith("Fitted constant c of the paper's form")]
    assert c and "allows for the correlation of the nested banks" in c[0].note
    claim = next(c for c in res.claims if "kappa_tilde predicts" in c.statement)
    assert claim.figure == "kappa_vs_T" and claim.rule.quantity in claim.evidence


def test_reversal_threshold_is_bonferroni_over_the_pairs():
    from scipy import stats

    for n in (8, 16, 128):
        z = _frames.reversal_z(n, 1e-3)
        assert n * (n - 1) / 2 * stats.norm.sf(z) == pytest.approx(1e-3, rel=1e-9)
    assert _frames.reversal_z(8) < 4 < 4.5 < _frames.reversal_z(128)


def _plateau(n, rng):
    """A rise over the first 8 points, then a plateau; unit standard errors, N(0, 1) noise."""
    y = np.minimum(np.arange(n), 8) * 5.0 + rng.standard_normal(n)
    return np.arange(1, n + 1), y, np.ones(n)


def test_trend_noise_on_a_plateau_is_no_reversal():
    # 128 points: thousands of pairs, a few beyond 4 SE by chance; none beyond the Bonferroni z
    # (P(any) <= 1e-3 per curve), so every seed's curve counts as increasing
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert _frames._trend_sign(*_plateau(128, rng)) == 1
    x, _, se = _plateau(128, rng)
    y = np.minimum(np.arange(128), 8) * 5.0
    y[71] -= 4.5 * np.sqrt(2)  # a 4.5-SE dip: the old fixed 4-SE rule flipped the verdict here
    assert _frames._trend_sign(x, y, se) == 1
    assert _frames._trend_sign(x[::-1], -y, se) == 1  # order of x does not matter; sign of y does


def test_trend_a_real_reversal_beyond_the_threshold_counts():
    x, y, se = _plateau(128, np.random.default_rng(1))
    y[100:110] -= (_frames.reversal_z(128) + 1.5) * np.sqrt(2)  # a dip, back up after it
    assert _frames._trend_sign(x, y, se) == 0
    assert _frames._trend_sign(x, -y, se) == 0


def test_nested_banks_by_wishart_increments_have_the_weights_path_law():
    """The nested banks drawn by Wishart additivity (Bartlett increments where cheaper) against
    one bank of Gaussian weights sliced (the direct path): means of A, B, kappa per J within 5
    combined standard errors, at a T below the padded length (the masked taps)."""
    import jax

    from jaxfb._gram import _nested_frames_statistic
    from jaxfb.montecarlo import Samples, monte_carlo
    from jaxfb.montecarlo._buckets import frames_statistic

    filters, padded, n, T, draws = (2, 40, 100), 8, 64, 6, 4000
    fast, methods = _nested_frames_statistic(filters, padded, n)
    assert methods == ("weights", "gram", "gram")  # both kinds of increment are exercised
    args = {"T": np.int32(T)}
    out = []
    for stat, seed in ((fast, 0), (frames_statistic(filters, padded, n), 1)):
        res = monte_carlo(stat, jax.random.key(seed), draws, args=args, reducers=Samples())
        A, B = (np.asarray(res.stats[s]["samples"], np.float64) for s in ("A", "B"))
        out.append({"A": A, "B": B, "kappa": B / A})
    for name in ("A", "B", "kappa"):
        a, b = out[0][name], out[1][name]
        se = np.hypot(a.std(axis=0, ddof=1), b.std(axis=0, ddof=1)) / math.sqrt(draws)
        assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 5 * se), name
