"""Streaming reducers: merges against NumPy on the full data, histograms, plans (host side)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxfb import montecarlo as mc
from jaxfb.montecarlo._reducers import (
    DEFAULT_REDUCERS,
    _moments_of,
    histogram_quantile,
    resolve_reducers,
)


def _chunks(x, sizes):
    out, i = [], 0
    for s in sizes:
        out.append(x[i : i + s])
        i += s
    assert i == len(x)
    return out


def test_chan_merge_matches_numpy_and_beats_naive_sums():
    rng = np.random.default_rng(0)
    # a large offset and a small spread: sum(x^2) - n mean^2 cancels catastrophically
    x = 1e8 + rng.standard_normal((10_000, 3))
    r = mc.Moments()
    state = r.init((3,), np.float64)
    for c in _chunks(x, [1, 999, 17, 4983, 4000]):
        state = r.update(state, {"values": c, "mask": np.ones(len(c), bool)})
    out = r.finalize(state)
    np.testing.assert_allclose(out["mean"], x.mean(axis=0), rtol=1e-14)
    # x itself is only known to ~1e-16 * 1e8: the variance to ~1e-8 relative
    np.testing.assert_allclose(out["var"], x.var(axis=0, ddof=1), rtol=1e-7)
    np.testing.assert_allclose(out["se"], x.std(axis=0, ddof=1) / 100, rtol=1e-7)
    assert set(out) == {"mean", "var", "std", "se"}  # the count is Count's
    naive = (np.sum(x**2, axis=0) - 10_000 * x.mean(axis=0) ** 2) / 9_999
    assert np.max(np.abs(naive / x.var(axis=0, ddof=1) - 1)) > 1e-3  # the naive formula fails


def test_merge_is_order_independent_and_masks_padding():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(1000) * 3 + 2
    r = mc.Moments()
    parts = [_moments_of(c) for c in _chunks(x, [100, 250, 650])]
    a = r.merge(r.merge(parts[0], parts[1]), parts[2])
    b = r.merge(parts[2], r.merge(parts[1], parts[0]))
    for k in ("n", "mean", "m2"):
        np.testing.assert_allclose(a[k], b[k], rtol=1e-13)
    # a padded batch: masked entries (huge values) must not count
    padded = np.concatenate([x[:10], np.full(6, 1e30)])
    mask = np.arange(16) < 10
    s = r.update(r.init((), np.float64), {"values": padded, "mask": mask})
    np.testing.assert_allclose(r.finalize(s)["mean"], x[:10].mean(), rtol=1e-14)
    assert np.isnan(r.finalize(_moments_of(x[:1]))["var"])  # one draw: no variance


def test_histogram_quantile_within_one_bin_and_nan_outside():
    rng = np.random.default_rng(2)
    x = rng.lognormal(size=50_000)
    edges = np.geomspace(1e-3, 1e3, 3001)
    counts, _ = np.histogram(x, edges)
    q = (0.01, 0.05, 0.5, 0.95, 0.99)
    est = histogram_quantile(counts, edges, q)
    exact = np.quantile(x, q)
    width = np.diff(edges)[np.searchsorted(edges, exact) - 1]
    assert np.all(np.abs(est - exact) <= 1.5 * width), (est, exact)
    # mass outside the edges: quantiles that fall there are NaN, the others shift correctly
    edges2 = np.linspace(0.5, 2.0, 301)
    c2, _ = np.histogram(x, edges2)
    under, over = int(np.sum(x < 0.5)), int(np.sum(x > 2.0))
    est2 = histogram_quantile(c2, edges2, [0.05, 0.5, 0.95], underflow=under, overflow=over)
    assert np.isnan(est2[0]) and np.isnan(est2[2])
    assert abs(est2[1] - np.median(x)) <= 1.5 * (edges2[1] - edges2[0])
    with pytest.raises(ValueError, match="edges must have shape"):
        histogram_quantile(c2, edges2[:-1], 0.5)


def test_histogram_summarize_matches_numpy_with_edges_nan_and_mask():
    edges = np.linspace(-1.0, 1.0, 9)
    h = mc.Histogram(tuple(edges))
    v = jnp.asarray(
        [[-2.0, 0.1], [-1.0, 1.0], [1.0, jnp.nan], [0.99, 5.0], [0.3, 0.3]], jnp.float32
    )
    mask = jnp.asarray([True, True, True, True, False])
    part = h.summarize(v, mask)
    state = h.update(h.init((2,), jnp.float32), np.asarray(part))
    out = h.finalize(state)
    for j in range(2):
        col = np.asarray(v)[:4, j]
        ref, _ = np.histogram(col[~np.isnan(col)], edges)
        np.testing.assert_array_equal(out["hist_counts"][j], ref)
    np.testing.assert_array_equal(out["hist_underflow"], [1, 0])
    np.testing.assert_array_equal(out["hist_overflow"], [0, 1])
    np.testing.assert_array_equal(out["hist_nan"], [0, 1])
    assert out["hist_counts"].shape == (2, 8)
    with pytest.raises(ValueError, match="strictly increasing"):
        mc.Histogram((0.0, 0.0, 1.0))


def test_min_max_count_samples_summaries():
    v = jnp.asarray([[1.0, -np.inf], [3.0, 2.0], [-7.0, 0.0]], jnp.float32)
    mask = jnp.asarray([True, True, False])  # the -7 is padding
    for r, key, want in (
        (mc.Min(), "min", [1.0, -np.inf]),
        (mc.Max(), "max", [3.0, 2.0]),
    ):
        s = r.update(r.init((2,), jnp.float32), np.asarray(r.summarize(v, mask)))
        np.testing.assert_array_equal(r.finalize(s)[key], want)
    c = mc.Count()
    s = c.update(c.init((2,), jnp.float32), jax.device_get(c.summarize(v, mask)))
    out = c.finalize(s)
    assert int(out["count"]) == 2
    np.testing.assert_array_equal(out["nonfinite"], [0, 1])
    smp = mc.Samples(quantiles=(0.5,))
    s = smp.init((2,), jnp.float32)
    s = smp.update(s, jax.device_get(smp.summarize(v, mask)))
    s = smp.merge(s, smp.update(smp.init((2,), jnp.float32), {"values": v[:1], "mask": mask[:1]}))
    out = smp.finalize(s)
    np.testing.assert_array_equal(out["samples"], np.asarray(v)[[0, 1, 0]])
    # the median of (-inf, 2, -inf) is -inf, not NaN (np.quantile would interpolate inf - inf)
    np.testing.assert_array_equal(out["quantiles"][0], [1.0, -np.inf])
    with pytest.raises(ValueError, match="quantiles"):
        mc.Samples(quantiles=(1.5,))


def test_resolve_reducers_patterns_and_errors():
    shapes = {"A": jax.ShapeDtypeStruct((), jnp.float32), "fb": (jnp.zeros(3), jnp.zeros(()))}
    plans, _ = resolve_reducers(shapes, {"A": mc.Min(), "fb/*": [mc.Max(), mc.Count()]})
    assert [(p.name, p.shape, [type(r).__name__ for r in p.reducers]) for p in plans] == [
        ("A", (), ["Min"]),
        ("fb/0", (3,), ["Max", "Count"]),
        ("fb/1", (), ["Max", "Count"]),
    ]
    plans, _ = resolve_reducers(jnp.zeros(2), None)
    assert plans[0].name == "value" and plans[0].reducers == DEFAULT_REDUCERS
    with pytest.raises(ValueError, match="no reducers for statistic leaf 'fb/0'"):
        resolve_reducers(shapes, {"A": mc.Min()})
    with pytest.raises(ValueError, match="both produce 'min'"):
        resolve_reducers(shapes, [mc.Min(), mc.Min()])
    with pytest.raises(TypeError, match="Reducer"):
        resolve_reducers(shapes, {"*": "mean"})
    # two histograms of one leaf need different prefixes
    resolve_reducers(shapes, [mc.Histogram((0.0, 1.0)), mc.Histogram((0.0, 2.0), prefix="h2")])
