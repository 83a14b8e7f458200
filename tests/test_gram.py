"""Exact sampling below the weight-RNG floor (jaxfb/_gram.py): the gamma sampler against SciPy,
the equivalent filterbank and the fast frame-bound paths against the direct path, in law.

Statistical checks use thresholds fixed in advance: KS p-values must exceed P_MIN = 1e-3, and
differences of means (variances, covariances) must be below K_SE = 5 standard errors of the
difference, each standard error estimated from the samples themselves.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import jaxfb
from jaxfb import _gram, io, theory

P_MIN = 1e-3
K_SE = 5.0


def _keys(seed):
    return jax.random.split(jax.random.key(seed), 2)


def _assert_same_mean(a, b, what):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert abs(a.mean() - b.mean()) < K_SE * se, (what, a.mean(), b.mean(), se)


def _assert_same_law(a, b, what):
    _assert_same_mean(a, b, what)
    p = stats.ks_2samp(np.asarray(a, np.float64), np.asarray(b, np.float64)).pvalue
    assert p > P_MIN, (what, p)


# --- gamma and chi-squared draws ------------------------------------------------------------


@pytest.mark.parametrize("shape", [0.5, 1.0, 1.5, 3.0, 40.0, 2048.0])
def test_gamma_matches_scipy_by_ks(shape):
    x = _gram._gamma(jax.random.key(11), np.array([shape]), (4000,), jnp.float32)[:, 0]
    assert x.dtype == jnp.float32 and bool(jnp.all(x > 0))
    p = stats.kstest(np.asarray(x, np.float64), stats.gamma(shape).cdf).pvalue
    assert p > P_MIN, (shape, p)


@pytest.mark.parametrize("dof", [1, 3, 7, 255])
def test_chi2_odd_dof_matches_scipy_by_ks(dof):
    x = _gram._chi2(jax.random.key(12), np.array([dof]), (4000,), jnp.float32)[:, 0]
    p = stats.kstest(np.asarray(x, np.float64), stats.chi2(dof).cdf).pvalue
    assert p > P_MIN, (dof, p)


def test_gamma_mixed_shapes_in_one_call_float64(x64):
    shapes = np.array([0.5, 1.0, 2.5, 100.0])
    x = _gram._gamma(jax.random.key(13), shapes, (3000,), jnp.float64)
    assert x.shape == (3000, 4) and x.dtype == jnp.float64
    for i, a in enumerate(shapes):
        p = stats.kstest(np.asarray(x[:, i]), stats.gamma(a).cdf).pvalue
        assert p > P_MIN, (a, p)


def test_gamma_is_deterministic_and_vmap_equals_single_calls():
    shapes = np.array([0.5, 1.0, 40.0])
    keys = jax.random.split(jax.random.key(14), 5)
    one = jax.jit(lambda k: _gram._gamma(k, shapes, (7,), jnp.float32))
    np.testing.assert_array_equal(one(keys[0]), one(keys[0]))
    batched = jax.vmap(one)(keys)
    stacked = jnp.stack([one(k) for k in keys])
    # the same draws (vectorised arithmetic may round differently)
    np.testing.assert_allclose(batched, stacked, rtol=1e-5)
    assert not np.array_equal(np.asarray(stacked[0]), np.asarray(stacked[1]))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_words_map_to_floats_as_jax_random_does(dtype, request):
    # the one-call generator of the Bartlett factor maps its words to floats as JAX does, so for
    # the same key the floats are JAX's own uniforms and normals, bit for bit
    if dtype == "float64":
        request.getfixturevalue("x64")
    key, dt = jax.random.key(21), jnp.dtype(dtype)
    words = _gram._words(key, (5000,), dt)
    np.testing.assert_array_equal(
        _gram._uniform_from(words, dt), jax.random.uniform(key, (5000,), dt)
    )
    np.testing.assert_array_equal(
        _gram._normal_from(words, dt), jax.random.normal(key, (5000,), dt)
    )


def test_gamma_from_supplied_first_proposals_matches_scipy_by_ks():
    shapes = np.array([0.5, 1.0, 3.0, 63.5])
    kx, ku, kg = jax.random.split(jax.random.key(22), 3)
    first = (jax.random.normal(kx, (4000, 4)), jax.random.uniform(ku, (4000, 4)))
    x = np.asarray(_gram._gamma(kg, shapes, (4000,), jnp.float32, first=first), np.float64)
    for i, a in enumerate(shapes):
        p = stats.kstest(x[:, i], stats.gamma(a).cdf).pvalue
        assert p > P_MIN, (a, p)


@pytest.mark.parametrize("J, T", [(40, 12), (12, 12)])
def test_bartlett_entries_have_their_laws_and_are_uncorrelated(J, T):
    # Bartlett's factor (unscaled): diagonal k ~ sqrt(chi2_{J-k}), above it N(0, 1), all
    # independent. J = T (nested banks' increments) reaches chi2_1, the boosted gamma shape 1/2.
    draws = 4000
    key = jax.random.key(23)
    v = _gram._jit_bartlett(key, J=J, T=T, batch=(draws,), scale=1.0, dtype=jnp.float32)
    if J > T:  # the public function returns the same draws, scaled by 1/sqrt(J T)
        np.testing.assert_allclose(
            jaxfb.equivalent_filterbank(key, J, T, batch_shape=draws) * np.sqrt(J * T),
            v,
            rtol=1e-5,
        )
    v = np.asarray(v, np.float64)
    for k in range(T):
        p = stats.kstest(v[:, k, k] ** 2, stats.chi2(J - k).cdf).pvalue
        assert p > P_MIN, ("diagonal", k, p)
    rows, cols = np.triu_indices(T, 1)
    upper = v[:, rows, cols]
    p = stats.kstest(upper.ravel()[::7], stats.norm.cdf).pvalue
    assert p > P_MIN, ("off-diagonal", p)
    # correlations of every pair of entries (diagonal and off-diagonal): 0 within K_SE / sqrt(n)
    entries = np.concatenate([v[:, np.arange(T), np.arange(T)], upper], axis=1)
    corr = np.corrcoef(entries, rowvar=False)[np.triu_indices(entries.shape[1], 1)]
    # a maximum over many pairs: Bonferroni over the pairs, then K_SE-like normal quantile
    z = stats.norm.isf(P_MIN / 2 / corr.size)
    assert np.abs(corr).max() < z / np.sqrt(draws), (np.abs(corr).max(), z / np.sqrt(draws))


def test_log1p_tail_is_accurate_in_float32():
    # reference in float64: the alternating series to 60 terms where it converges fast, the
    # direct form elsewhere (cancellation costs float64 little at |y| >= 0.3)
    y = np.concatenate([-np.geomspace(0.9, 1e-3, 200), np.geomspace(1e-3, 3.0, 200)])
    k = np.arange(4, 64)
    series = np.sum((-1.0) ** (k + 1) * y[:, None] ** k / k, axis=1)
    direct = np.log1p(y) - y + y * y / 2 - y**3 / 3
    ref = np.where(np.abs(y) < 0.3, series, direct)
    got = np.asarray(_gram._log1p_tail(jnp.asarray(y, jnp.float32)), np.float64)
    rel = np.abs(got - ref) / np.abs(ref)
    assert rel.max() < 1e-4, (y[np.argmax(rel)], rel.max())


def _mt_rejection_by_quadrature(a):
    """Marsaglia-Tsang's rejection probability for ``Gamma(a)`` by its definition, in float64:
    ``1 - E[exp(3 d g(x / sqrt(9 d))) 1(x > -sqrt(9 d))]``, ``x ~ N(0, 1)``, ``d = a - 1/3``."""
    d = a - 1 / 3
    x = np.linspace(-12, 12, 240_001)
    y = x / np.sqrt(9 * d)
    ok = y > -1
    ys = np.where(ok, y, 0)
    g = np.log1p(ys) - ys + ys**2 / 2 - ys**3 / 3
    density = stats.norm.pdf(x) * np.where(ok, np.exp(3 * d * g), 0)
    return 1 - np.sum(density) * (x[1] - x[0])


@pytest.mark.parametrize("a", [1.0, 4.0, 40.0])
def test_mt_rejections_have_the_exact_rate(a):
    # one proposal per entry: the fraction rejected (value -1) is binomial around the exact rate
    draws = 200_000
    d = jnp.full((draws,), a - 1 / 3, jnp.float32)
    value = np.asarray(_gram._mt_candidates(jax.random.key(15), d))
    assert np.all((value > 0) | (value == -1))
    truth = _mt_rejection_by_quadrature(a)
    se = np.sqrt(truth * (1 - truth) / draws)
    assert abs(np.mean(value == -1) - truth) < K_SE * se, (a, np.mean(value == -1), truth)


def test_mt_rejection_bound_sizing_the_redraw_buffer_holds():
    for a in (1.0, 1.2, 1.5, 2.0, 4.0, 10.0, 40.0, 1000.0):
        assert _mt_rejection_by_quadrature(a) <= _gram._MT_REJECTION / (a - 1 / 3), a


def test_gamma_rejects_bad_shapes():
    with pytest.raises(ValueError, match="> 0"):
        _gram._gamma(jax.random.key(0), np.array([0.0, 1.0]), (), jnp.float32)


# --- the equivalent filterbank ----------------------------------------------------------------


def test_equivalent_filterbank_shapes_dtype_and_structure():
    v = jaxfb.equivalent_filterbank(jax.random.key(1), 20, 6, batch_shape=(3, 2))
    assert v.shape == (3, 2, 6, 6) and v.dtype == jnp.float32
    vv = np.asarray(v)
    assert np.all(np.tril(vv, -1) == 0) and np.all(np.diagonal(vv, axis1=-2, axis2=-1) > 0)
    # J <= T: the plain Gaussian weights
    w = jaxfb.equivalent_filterbank(jax.random.key(2), 6, 20, batch_shape=4)
    np.testing.assert_array_equal(
        w, jaxfb.random_filterbank(jax.random.key(2), 6, 20, batch_shape=4)
    )


def test_equivalent_filterbank_float64_and_jit(x64):
    key = jax.random.key(3)
    v = jaxfb.equivalent_filterbank(key, 9, 8)
    assert v.dtype == jnp.float64 and v.shape == (8, 8)
    jitted = jax.jit(lambda k: jaxfb.equivalent_filterbank(k, 9, 8))(key)
    np.testing.assert_allclose(jitted, v, rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_filters=0, length=4), "num_filters"),
        (dict(num_filters=4, length=0), "length"),
        (dict(num_filters=4, length=2, batch_shape=(-1,)), "batch_shape"),
    ],
)
def test_equivalent_filterbank_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        jaxfb.equivalent_filterbank(jax.random.key(0), **kwargs)


def test_equivalent_filterbank_rejects_non_keys():
    with pytest.raises(TypeError, match="key"):
        jaxfb.equivalent_filterbank(np.array([1.0, 2.0]), 4, 2)


def test_gram_matrix_has_the_wishart_moments():
    # G = V^T V ~ Wishart_T(J, sigma^2 I): E G = J sigma^2 I, Var G_ij = J sigma^4 (1 + d_ij)
    J, T, draws = 12, 5, 20000
    v = jaxfb.equivalent_filterbank(jax.random.key(4), J, T, batch_shape=draws, dtype=jnp.float32)
    v = np.asarray(v, np.float64)
    G = np.einsum("bkt,bks->bts", v, v)
    s2 = 1.0 / (J * T)
    mean, var = J * s2 * np.eye(T), J * s2**2 * (1 + np.eye(T))
    se_mean = np.sqrt(var / draws)
    assert np.all(np.abs(G.mean(0) - mean) < K_SE * se_mean)
    # variance of the sample variance: (E(G - m)^4 - var^2) / draws, estimated from the draws
    c = G - G.mean(0)
    se_var = np.sqrt(((c**4).mean(0) - c.var(0) ** 2) / draws)
    assert np.all(np.abs(c.var(0) - var) < K_SE * se_var)


def test_energies_of_several_signals_have_the_direct_joint_law():
    J, T, N, draws = 24, 8, 32, 4000
    n = np.arange(N)
    x = np.stack(
        [
            (n == 0).astype(float),
            (-1.0) ** n / np.sqrt(N),
            np.random.default_rng(0).standard_normal(N),
        ]
    ).astype(np.float32)
    x = jnp.asarray(x)
    k1, k2 = _keys(5)
    w = jaxfb.random_filterbank(k1, J, T, batch_shape=(draws, 1))
    v = jaxfb.equivalent_filterbank(k2, J, T, batch_shape=(draws, 1))
    assert v.shape == (draws, 1, T, T)
    e_w = np.asarray(jaxfb.energy(w, x), np.float64)  # (draws, 3)
    e_v = np.asarray(jaxfb.energy(v, x), np.float64)
    for s in range(3):
        _assert_same_law(e_w[:, s], e_v[:, s], f"energy of signal {s}")
        # second moments: var and covariances as means of centred products
        for t in range(s, 3):
            pw = (e_w[:, s] - e_w[:, s].mean()) * (e_w[:, t] - e_w[:, t].mean())
            pv = (e_v[:, s] - e_v[:, s].mean()) * (e_v[:, t] - e_v[:, t].mean())
            _assert_same_mean(pw, pv, f"covariance of signals {s}, {t}")
    # and the closed-form variance of each energy (Gaussian init)
    closed = np.asarray(theory.energy_variance(x, J, T), np.float64)
    for s in range(3):
        c = e_v[:, s] - e_v[:, s].mean()
        se = np.sqrt(((c**4).mean() - c.var() ** 2) / draws)
        assert abs(c.var() - closed[s]) < K_SE * se, (s, c.var(), closed[s], se)


# --- frame bounds by every path ---------------------------------------------------------------

POINTS = [  # (J, T, n, stride)
    (9, 8, 64, 1),  # J = T + 1
    (64, 4, 128, 1),  # J >> T
    (33, 32, 32, 1),  # T = n: gram and spectrum
    (5, 16, 16, 1),  # T = n, J < T: spectrum only
    (12, 8, 512, 1),  # large n
    (20, 8, 64, 2),  # stride 2
    (7, 6, 24, 3),  # stride 3, J = T + 1
    (1, 7, 7, 1),  # one filter, odd n: chi2_1 at k = 0
]


def _applicable(J, T, n, stride):
    out = []
    if J > T:
        out.append("gram")
    if T == n and stride == 1:
        out.append("spectrum")
    return out


@pytest.mark.parametrize("J, T, n, stride", POINTS)
def test_fast_paths_have_the_law_of_the_direct_path(J, T, n, stride):
    draws = 3000
    keys = jax.random.split(jax.random.key(6 + J + T + n + stride), 3)
    kw = dict(batch_shape=draws, stride=stride)
    direct = jaxfb.sample_frame_bounds(keys[0], J, T, n, method="weights", **kw)
    methods = _applicable(J, T, n, stride)
    assert methods
    for key, method in zip(keys[1:], methods, strict=False):
        fast = jaxfb.sample_frame_bounds(key, J, T, n, method=method, **kw)
        assert fast.lower.shape == (draws,) and fast.lower.dtype == jnp.float32
        assert bool(jnp.all(fast.lower <= fast.upper))
        if min(J, T) < stride:
            assert bool(jnp.all(fast.lower == 0))
        else:
            _assert_same_law(direct.lower, fast.lower, f"A by {method}")
        _assert_same_law(direct.upper, fast.upper, f"B by {method}")


@pytest.mark.parametrize("J, n", [(3, 16), (40, 64), (8, 33)])
def test_spectrum_path_matches_the_exact_means(J, n):
    draws = 4000
    A, B = jaxfb.sample_frame_bounds(jax.random.key(7), J, n, n, batch_shape=draws)
    exact = theory.expected_frame_bounds(J, n, n)
    for got, want in ((A, exact.lower), (B, exact.upper)):
        got = np.asarray(got, np.float64)
        se = got.std(ddof=1) / np.sqrt(draws)
        assert abs(got.mean() - float(want)) < K_SE * se, (J, n, got.mean(), float(want), se)


@pytest.mark.slow
def test_spectrum_path_matches_the_exact_means_at_the_papers_size():
    draws = 20000
    A, B = jaxfb.sample_frame_bounds(jax.random.key(8), 40, 1024, 1024, batch_shape=draws)
    exact = theory.expected_frame_bounds(40, 1024, 1024)
    for got, want in ((A, exact.lower), (B, exact.upper)):
        got = np.asarray(got, np.float64)
        se = got.std(ddof=1) / np.sqrt(draws)
        assert abs(got.mean() - float(want)) < K_SE * se, (got.mean(), float(want), se)


@pytest.mark.slow
@pytest.mark.parametrize("J, T, n, stride", [(256, 32, 1024, 1), (160, 40, 320, 4)])
def test_gram_path_at_larger_sizes(J, T, n, stride):
    draws = 4000
    k1, k2 = _keys(9)
    direct = jaxfb.sample_frame_bounds(
        k1, J, T, n, batch_shape=draws, method="weights", stride=stride
    )
    fast = jaxfb.sample_frame_bounds(k2, J, T, n, batch_shape=draws, method="gram", stride=stride)
    _assert_same_law(direct.lower, fast.lower, "A")
    _assert_same_law(direct.upper, fast.upper, "B")


def test_gram_path_with_another_normal_init():
    # he_normal: variance 2 / T, as random_filterbank draws it
    J, T, n, draws = 10, 4, 16, 3000
    k1, k2 = _keys(10)
    kw = dict(batch_shape=draws, init="he_normal")
    direct = jaxfb.sample_frame_bounds(k1, J, T, n, method="weights", **kw)
    fast = jaxfb.sample_frame_bounds(k2, J, T, n, method="gram", **kw)
    _assert_same_law(direct.upper, fast.upper, "B")
    _assert_same_law(direct.lower, fast.lower, "A")


def test_auto_picks_the_cheapest_path_that_applies():
    pick = _gram._resolve_method
    assert pick("auto", 40, 1024, 1024, 1, "gaussian") == "spectrum"
    assert pick("auto", 256, 32, 1024, 1, "gaussian") == "gram"
    assert pick("auto", 256, 32, 1024, 2, "gaussian") == "gram"
    assert pick("auto", 40, 64, 1024, 1, "gaussian") == "weights"
    assert pick("auto", 256, 32, 1024, 1, "pytorch") == "weights"
    for J, T, n in [(256, 32, 1024), (9, 8, 8), (4096, 64, 64)]:  # J > T: gram applies
        costs = {m: _gram.path_cost(m, J, T, n) for m in ("weights", "gram", "spectrum")}
        assert costs["gram"] < costs["weights"], costs
    assert pick("auto", 1, 8, 8, 1, "gaussian") == "weights"  # 8 normals beat 5 gamma draws
    for J, T in [(2, 64), (40, 1024), (512, 256)]:  # T = n: spectrum applies
        assert _gram.path_cost("spectrum", J, T, T) < _gram.path_cost("weights", J, T, T)
        assert J <= T or _gram.path_cost("spectrum", J, T, T) < _gram.path_cost("gram", J, T, T)


def test_auto_falls_back_to_the_weights_path():
    key = jax.random.key(11)
    auto = jaxfb.sample_frame_bounds(key, 4, 8, 32, batch_shape=5, init="pytorch")
    weights = jaxfb.sample_frame_bounds(
        key, 4, 8, 32, batch_shape=5, init="pytorch", method="weights"
    )
    np.testing.assert_array_equal(auto.lower, weights.lower)
    np.testing.assert_array_equal(auto.upper, weights.upper)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((8, 8, 64), dict(method="gram"), "J > T"),
        ((4, 8, 64), dict(method="gram"), "J > T"),
        ((4, 8, 64), dict(method="spectrum"), "length == n"),
        ((4, 8, 8), dict(method="spectrum", stride=2), "stride 1"),
        ((16, 8, 8), dict(method="gram", init="uniform"), "Gaussian"),
        ((16, 8, 8), dict(method="spectrum", init="rademacher"), "Gaussian"),
        ((16, 8, 8), dict(method="fast"), "method"),
        ((16, 8, 8), dict(init="nope"), "init"),
        ((16, 8, 4), {}, "n=4"),
        ((16, 8, 12), dict(stride=5), "stride"),
        ((0, 8, 12), {}, "num_filters"),
    ],
)
def test_sample_frame_bounds_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        jaxfb.sample_frame_bounds(jax.random.key(0), *args, **kwargs)


@pytest.mark.parametrize("J, T, n", [(40, 16, 16), (20, 4, 32)])
def test_sample_frame_bounds_under_jit_and_vmap(J, T, n):
    keys = jax.random.split(jax.random.key(12), 4)

    def one(k):
        return jaxfb.sample_frame_bounds(k, J, T, n)

    eager = [one(k) for k in keys]
    jitted = jax.jit(one)(keys[0])
    np.testing.assert_allclose(jitted.upper, eager[0].upper, rtol=1e-6)
    batched = jax.vmap(one)(keys)
    np.testing.assert_allclose(batched.lower, jnp.stack([e.lower for e in eager]), rtol=1e-5)
    np.testing.assert_allclose(batched.upper, jnp.stack([e.upper for e in eager]), rtol=1e-5)


def test_sample_frame_bounds_float64(x64):
    A, B = jaxfb.sample_frame_bounds(jax.random.key(13), 40, 64, 64, batch_shape=3)
    assert A.dtype == jnp.float64 and B.dtype == jnp.float64
    A, B = jaxfb.sample_frame_bounds(jax.random.key(13), 40, 8, 64, batch_shape=3)
    assert A.dtype == jnp.float64 and bool(jnp.all(A < B))


def test_a_second_call_with_the_same_shapes_does_not_compile_again():
    kernel = _gram._sample_frame_bounds
    for method in ("gram", "spectrum"):
        jaxfb.sample_frame_bounds(jax.random.key(1), 13, 11, 11, batch_shape=3, method=method)
        before = kernel._cache_size()
        jaxfb.sample_frame_bounds(jax.random.key(2), 13, 11, 11, batch_shape=3, method=method)
        assert kernel._cache_size() == before
    jaxfb.equivalent_filterbank(jax.random.key(1), 13, 11, batch_shape=2)
    before = _gram._jit_bartlett._cache_size()
    jaxfb.equivalent_filterbank(jax.random.key(3), 13, 11, batch_shape=2)
    assert _gram._jit_bartlett._cache_size() == before


@pytest.mark.slow
def test_bench_microbatch_runs_on_a_tiny_workload(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_microbatch.py"
    out = tmp_path / "mb.json"
    args = ["--reps", "1", "--scale", "0.01", "--points", "1", "--microbatches", "16,128"]
    run = subprocess.run(
        [sys.executable, str(script), *args, "--json", str(out)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    (row,) = io.load_json(out)["rows"]
    assert (row["J"], row["T"], row["method"]) == (256, 8, "gram")
    assert set(row["draws_per_s"]) == {"16", "128"} and row["default_draws_per_s"] > 0
    if jax.default_backend() == "cpu":  # a few kB a draw: the CPU cap
        assert row["default_microbatch"] == 1024
    else:  # accelerators allow wider
        assert row["default_microbatch"] >= 1024
    table = (tmp_path / "mb.md").read_text().splitlines()
    assert len(table) == 3 and table[2].startswith("| 256 | 8 | 1024 | gram | ")


def test_bench_gram_runs_on_a_tiny_workload(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gram.py"
    out = tmp_path / "bench.json"
    args = ["--reps", "1", "--scale", "0.004", "--rows", "1,4", "--json", str(out)]
    run = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = io.load_json(out)["rows"]
    assert [r["fast_method"] for r in rows] == ["gram", "spectrum"]
    assert all(r["draws_per_s"]["fast"] > 0 and r["draws_per_s"]["numpy"] > 0 for r in rows)


def test_spectrum_values_have_the_law_of_the_direct_littlewood_paley_sum():
    # T = n: LP(k) by the spectrum sampler against LP(k) of Gaussian weights, one KS per frequency
    # (chi2_J / J at k = 0 and n/2, Gamma(J, 1/J) inside), and no correlation between frequencies
    J, n, draws = 3, 8, 4000
    k1, k2 = _keys(15)
    lp_w = jaxfb.littlewood_paley(jaxfb.random_filterbank(k1, J, n, batch_shape=draws), n)
    lp_s = _gram._spectrum_lp(k2, J, n, (draws,), 1.0 / J, jnp.float32)
    assert lp_s.shape == lp_w.shape == (draws, n // 2 + 1)
    lp_w, lp_s = np.asarray(lp_w, np.float64), np.asarray(lp_s, np.float64)
    for f in range(n // 2 + 1):
        _assert_same_law(lp_w[:, f], lp_s[:, f], f"LP({f})")
        edge = f in (0, n // 2)
        law = stats.chi2(J, scale=1 / J) if edge else stats.gamma(J, scale=1 / J)
        assert stats.kstest(lp_s[:, f], law.cdf).pvalue > P_MIN, f
    c = lp_s - lp_s.mean(0)
    for f in range(n // 2):
        prod = c[:, f] * c[:, f + 1]  # mean 0 for independent neighbours
        se = prod.std(ddof=1) / np.sqrt(draws)
        assert abs(prod.mean()) < K_SE * se, (f, prod.mean(), se)


@pytest.mark.parametrize(
    "K, T, n, stride",
    [(8, 8, 64, 2), (5, 16, 64, 4), (32, 32, 1024, 2), (3, 7, 63, 3), (1, 8, 16, 2), (6, 5, 40, 8)],
)
def test_strided_bounds_from_the_gram_matrix_are_the_direct_kernels(x64, K, T, n, stride):
    """The lag-domain kernel of the gram path at stride d against frame_bounds (d FFTs of size
    n per filter, eigvalsh), float64: the same numbers up to rounding, A = 0 where min(K, T) < d."""
    w = jax.random.normal(jax.random.key(K * T + stride), (3, K, T), jnp.float64)
    want = jaxfb.frame_bounds(w, n, stride=stride)
    got = _gram._strided_bounds_from_gram(w, n, stride)
    scale = float(jnp.max(want.upper))
    np.testing.assert_allclose(got[0], want.lower, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(got[1], want.upper, rtol=1e-12)
    if min(K, T) < stride:
        assert np.all(np.asarray(got[0]) == 0)


# --------------------------------------------------------------------------------------------
# conv layers: in_channels


def test_equivalent_filterbank_in_channels_shape_and_plain_path():
    v = jaxfb.equivalent_filterbank(jax.random.key(5), 30, 4, in_channels=3, batch_shape=2)
    assert v.shape == (2, 12, 3, 4)  # K = min(J, C_in T) = 12
    flat = np.asarray(v).reshape(2, 12, 12)
    assert np.all(np.tril(flat, -1) == 0)
    w = jaxfb.equivalent_filterbank(jax.random.key(6), 10, 4, in_channels=3)  # J <= C_in T
    np.testing.assert_array_equal(
        w, jaxfb.random_filterbank(jax.random.key(6), 10, 4, in_channels=3)
    )


def test_equivalent_filterbank_in_channels_has_the_wishart_moments():
    # rows of length C_in T: G = V^T V ~ Wishart_{C_in T}(J, I/(J T))
    J, C, T, draws = 15, 2, 3, 20000
    v = jaxfb.equivalent_filterbank(jax.random.key(7), J, T, in_channels=C, batch_shape=draws)
    v = np.asarray(v, np.float64).reshape(draws, C * T, C * T)
    G = np.einsum("bkt,bks->bts", v, v)
    s2 = 1.0 / (J * T)
    mean, var = J * s2 * np.eye(C * T), J * s2**2 * (1 + np.eye(C * T))
    assert np.all(np.abs(G.mean(0) - mean) < K_SE * np.sqrt(var / draws))
    c = G - G.mean(0)
    se_var = np.sqrt(((c**4).mean(0) - c.var(0) ** 2) / draws)
    assert np.all(np.abs(c.var(0) - var) < K_SE * se_var)


def test_equivalent_conv_layer_bounds_have_the_direct_law():
    J, C, T, n, d, draws = 16, 2, 3, 12, 2, 3000
    direct = jaxfb.random_filterbank(jax.random.key(8), J, T, in_channels=C, batch_shape=draws)
    equiv = jaxfb.equivalent_filterbank(jax.random.key(9), J, T, in_channels=C, batch_shape=draws)
    assert equiv.shape[-3] == C * T < J
    for a, b in zip(
        jaxfb.conv_frame_bounds(direct, n, stride=d),
        jaxfb.conv_frame_bounds(equiv, n, stride=d),
        strict=True,
    ):
        assert stats.ks_2samp(np.asarray(a), np.asarray(b)).pvalue > 1e-4
