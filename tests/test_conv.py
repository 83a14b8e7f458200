"""Conv layers: frame bounds against the dense operator; C_in = 1 is the filterbank kernel;
batching, jit, vmap; bad input; kernel layouts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfb
from jaxfb import _conv

# --------------------------------------------------------------------------------------------
# dense reference (NumPy float64, straight from the definition)


def dense_conv(w: np.ndarray, n: int, d: int, q: int) -> np.ndarray:
    """``(C_out n/d, C_in n)`` matrix of ``y_j[m] = sum_{c,t} w[j,c,t] x_c[(m d - t q) mod n]``."""
    J, C, T = w.shape
    L = n // d
    P = np.zeros((J, L, C, n))
    j, m, c, t = np.meshgrid(np.arange(J), np.arange(L), np.arange(C), np.arange(T), indexing="ij")
    np.add.at(P, (j, m, c, (m * d - t * q) % n), w[j, c, t])
    return P.reshape(J * L, C * n)


def dense_spectrum(w, n, d, q) -> np.ndarray:
    Phi = dense_conv(np.asarray(w, np.float64), n, d, q)
    return np.linalg.eigvalsh(Phi.T @ Phi)


def random_case(seed: int):
    """Random small ``(w, n, d, q)`` with ``(T - 1) q + 1 <= n``."""
    rng = np.random.default_rng(seed)
    J, C, T, q = (int(x) for x in rng.integers([1, 1, 1, 1], [7, 5, 6, 4]))
    d = int(rng.choice([1, 2, 3, 4]))
    n = d * int(rng.integers(1, 6))
    while (T - 1) * q + 1 > n:
        n += d
    return rng.standard_normal((J, C, T)), n, d, q


@pytest.mark.parametrize("seed", range(24))
def test_bounds_match_dense_operator(x64, seed):
    w, n, d, q = random_case(seed)
    lam = dense_spectrum(w, n, d, q)
    A, B = jaxfb.conv_frame_bounds(jnp.asarray(w), n, stride=d, dilation=q)
    assert A.dtype == jnp.float64
    np.testing.assert_allclose(float(B), lam[-1], rtol=1e-12)
    np.testing.assert_allclose(float(A), max(lam[0], 0.0), rtol=1e-10, atol=1e-12 * lam[-1])
    kappa = float(jaxfb.conv_condition_number(jnp.asarray(w), n, stride=d, dilation=q))
    if lam[0] > 1e-9 * lam[-1]:
        np.testing.assert_allclose(kappa, lam[-1] / lam[0], rtol=1e-8)


@pytest.mark.parametrize(
    ("J", "C", "T", "n", "d", "q"),
    [(3, 2, 3, 8, 2, 1), (5, 3, 4, 12, 3, 2), (2, 2, 6, 12, 1, 1), (4, 2, 1, 6, 3, 1)],
)
def test_no_frame_is_an_exact_zero(x64, J, C, T, n, d, q):
    """C_out < d C_in, or fewer taps than d C_in reach: A = 0 structurally, kappa = inf."""
    w = np.random.default_rng(J * C * T).standard_normal((J, C, T))
    lam = dense_spectrum(w, n, d, q)
    A, B = jaxfb.conv_frame_bounds(jnp.asarray(w), n, stride=d, dilation=q)
    np.testing.assert_allclose(float(B), lam[-1], rtol=1e-12)
    if J < d * C or T * C < d * C:
        assert float(A) == 0.0
        assert abs(lam[0]) < 1e-12 * lam[-1]
        assert float(jaxfb.conv_condition_number(jnp.asarray(w), n, stride=d, dilation=q)) == (
            np.inf
        )
    else:
        np.testing.assert_allclose(float(A), lam[0], rtol=1e-10, atol=1e-12 * lam[-1])


@pytest.mark.parametrize(("n", "d"), [(64, 1), (64, 2), (60, 4), (63, 3)])
def test_one_input_channel_is_the_filterbank_kernel(n, d):
    w = jaxfb.random_filterbank(jax.random.key(n + d), 6, 16, batch_shape=(3,))
    conv = jaxfb.conv_frame_bounds(w[..., None, :], n, stride=d)
    bank = jaxfb.frame_bounds(w, n, stride=d)
    np.testing.assert_array_equal(conv.lower, bank.lower)
    np.testing.assert_array_equal(conv.upper, bank.upper)
    np.testing.assert_array_equal(
        jaxfb.conv_condition_number(w[..., None, :], n, stride=d),
        jaxfb.condition_number(w, n, stride=d),
    )


@pytest.mark.parametrize("d", [1, 2])
def test_dilation_is_the_zero_inserted_filter(x64, d):
    w = np.random.default_rng(d).standard_normal((4, 1, 5))
    q = 3
    dilated = np.zeros((4, (5 - 1) * q + 1))
    dilated[:, ::q] = w[:, 0]
    conv = jaxfb.conv_frame_bounds(jnp.asarray(w), 40, stride=d, dilation=q)
    bank = jaxfb.frame_bounds(jnp.asarray(dilated), 40, stride=d)
    np.testing.assert_allclose(conv, bank, rtol=1e-13)


def test_batch_dims_and_vmap_match_stacked_calls(x64):
    w = jaxfb.random_filterbank(jax.random.key(1), 8, 5, in_channels=3, batch_shape=(2, 3))
    n, d, q = 24, 2, 3
    stacked = np.array(
        [
            [jaxfb.conv_frame_bounds(w[i, k], n, stride=d, dilation=q) for k in range(3)]
            for i in range(2)
        ]
    )  # (2, 3, 2)
    batched = jaxfb.conv_frame_bounds(w, n, stride=d, dilation=q)
    np.testing.assert_allclose(np.stack(batched, -1), stacked, rtol=1e-13)
    mapped = jax.vmap(jax.vmap(lambda u: jaxfb.conv_frame_bounds(u, n, stride=d, dilation=q)))(w)
    np.testing.assert_allclose(np.stack(mapped, -1), stacked, rtol=1e-13)
    jitted = jax.jit(lambda u: jaxfb.conv_condition_number(u, n, stride=d, dilation=q))(w)
    np.testing.assert_allclose(jitted, stacked[..., 1] / stacked[..., 0], rtol=1e-12)


def test_no_recompilation_on_second_call():
    kernels = (_conv._conv_frame_bounds, _conv._conv_condition_number)
    w1 = jaxfb.random_filterbank(jax.random.key(0), 6, 3, in_channels=2)
    w2 = jaxfb.random_filterbank(jax.random.key(1), 6, 3, in_channels=2)
    jaxfb.conv_frame_bounds(w1, 12, stride=3)
    jaxfb.conv_condition_number(w1, 12, stride=3)
    sizes = [k._cache_size() for k in kernels]
    jaxfb.conv_frame_bounds(w2, 12, stride=3)
    jaxfb.conv_condition_number(w2, 12, stride=3)
    assert [k._cache_size() for k in kernels] == sizes


def numpy_blocks(w: np.ndarray, n: int, d: int, q: int) -> np.ndarray:
    """``sum_j conj(h_jc(k + aL)) h_jc'(k + bL) / d`` at ``[k, a C + c, b C + c']``."""
    *batch, J, C, T = w.shape
    h = np.zeros((*batch, J, C, n))
    h[..., np.arange(T) * q] = w
    H = np.fft.fft(h, axis=-1)
    L = n // d
    f = np.arange(L // 2 + 1)[:, None] + L * np.arange(d)[None]  # (K, d)
    V = np.moveaxis(H[..., f], (-2, -1), (-4, -2))  # (..., K, J, d, C)
    V = V.reshape((*V.shape[:-2], d * C))
    return np.einsum("...jx,...jy->...xy", V.conj(), V) / d


@pytest.mark.parametrize("use_dft", [True, False])
@pytest.mark.parametrize(
    ("C", "T", "n", "d", "q"), [(3, 4, 12, 3, 2), (2, 5, 16, 4, 3), (4, 3, 9, 1, 1)]
)
def test_blocks_match_the_definition_on_both_spectrum_paths(
    x64, monkeypatch, use_dft, C, T, n, d, q
):
    """Short-filter DFT and real-FFT paths give the documented blocks entry by entry."""
    from jaxfb import _strided

    monkeypatch.setattr(_strided, "_use_dft", lambda C, T, n: use_dft)
    w = np.random.default_rng(C * T).standard_normal((2, 5, C, T))
    M = np.asarray(_conv.conv_blocks(jnp.asarray(w), n, d, q))
    np.testing.assert_allclose(M, numpy_blocks(w, n, d, q), rtol=0, atol=1e-12)


def test_memory_is_the_blocks():
    """The compiled kernel's temporaries grow like the spectra + blocks (linearly in ``n``), far
    below the operator (``n^2``). Differences between sizes cancel the fixed workspaces that GPU
    solvers and FFT plans reserve (about 34 MB on an H200 at these sizes)."""
    J, C, T, d = 16, 8, 8, 2
    w = jnp.zeros((J, C, T), jnp.float32)
    assert _conv.conv_blocks(w, 256, d, 1).shape == (256 // d // 2 + 1, d * C, d * C)

    def temp(n):
        compiled = _conv._conv_frame_bounds.lower(w, n, d, 1).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    def dense(n):
        return J * (n // d) * C * n * 4

    assert temp(1024) - temp(512) < (dense(1024) - dense(512)) / 16


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((np.ones((2, 3)), 8), {}, ValueError, r"w must have shape \(\.\.\., C_out, C_in, T\)"),
        ((np.ones((2, 1, 5)), 8), {"dilation": 2}, ValueError, "n >= 9"),
        ((np.ones((2, 1, 9)), 8), {}, ValueError, "effective filter length"),
        ((np.ones((2, 1, 3)), 8), {"stride": 3}, ValueError, "stride=3 must divide"),
        ((np.ones((2, 1, 3)), 8.0), {}, TypeError, "n must be a static Python int"),
        ((np.ones((2, 1, 3)), 8), {"stride": 2.0}, TypeError, "stride must be"),
        ((np.ones((2, 1, 3)), 8), {"dilation": "2"}, TypeError, "dilation must be"),
        ((np.ones((2, 1, 3)), 8), {"dilation": 0}, ValueError, "dilation must be >= 1"),
        ((np.ones((2, 0, 3)), 8), {}, ValueError, "C_out, C_in, T >= 1"),
        ((np.full((2, 1, 3), np.nan), 8), {}, ValueError, "w has 6 non-finite"),
    ],
)
@pytest.mark.parametrize("fn", [jaxfb.conv_frame_bounds, jaxfb.conv_condition_number])
def test_bad_input_names_the_argument(fn, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(*args, **kwargs)


def test_traced_static_argument_says_how_to_fix():
    w = np.ones((2, 1, 3))
    with pytest.raises(TypeError, match="static_argnames"):
        jax.jit(lambda d: jaxfb.conv_frame_bounds(w, 8, stride=d))(2)


# --------------------------------------------------------------------------------------------
# layouts


def test_conv_kernel_layouts():
    k = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)  # batch 2, (3, 4, 5)
    for layout in ("torch", "equinox"):
        np.testing.assert_array_equal(jaxfb.conv_kernel(k, layout), k)
    for layout in ("flax", "keras"):  # (T, C_in, C_out) -> (C_out, C_in, T)
        out = np.asarray(jaxfb.conv_kernel(k, layout))
        assert out.shape == (2, 5, 4, 3)
        for j, c, t in [(0, 0, 0), (4, 3, 2), (1, 2, 0)]:
            assert out[1, j, c, t] == k[1, t, c, j]


def test_flax_and_torch_kernels_of_one_layer_give_the_same_bounds():
    torch_w = np.random.default_rng(0).standard_normal((6, 3, 4))
    flax_w = np.transpose(torch_w, (2, 1, 0))
    a = jaxfb.conv_frame_bounds(jaxfb.conv_kernel(torch_w, "torch"), 16, stride=2)
    b = jaxfb.conv_frame_bounds(jaxfb.conv_kernel(flax_w, "flax"), 16, stride=2)
    np.testing.assert_array_equal(a, b)


def test_cross_correlation_has_the_same_bounds(x64):
    """Frameworks compute x[md + tq]: reversed filters and a shifted input, the same bounds."""
    w, n, d, q = random_case(7)
    lam = dense_spectrum(w[..., ::-1], n, d, q)
    A, B = jaxfb.conv_frame_bounds(jnp.asarray(w), n, stride=d, dilation=q)
    np.testing.assert_allclose([float(A), float(B)], [max(lam[0], 0), lam[-1]], atol=1e-12 * B)


@pytest.mark.parametrize(
    ("kernel", "layout", "error", "match"),
    [
        (np.ones((2, 3, 4)), "pytorch", ValueError, "layout must be one of"),
        (np.ones((2, 3)), "flax", ValueError, r"kernel must have shape \(T, C_in, C_out\)"),
        (None, "torch", TypeError, "kernel must be an array"),
    ],
)
def test_conv_kernel_bad_input(kernel, layout, error, match):
    with pytest.raises(error, match=match):
        jaxfb.conv_kernel(kernel, layout)


@pytest.mark.slow
def test_bench_conv_runs_on_a_tiny_workload(tmp_path):
    """benchmarks/bench_conv.py end to end (its loops are checked against jaxfb in the run)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_conv.py"
    out = tmp_path / "b.json"
    cmd = [sys.executable, str(script), "--reps", "1", "--rows", "6,3,4,32,2;5,1,16,32,4"]
    proc = subprocess.run([*cmd, "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert [(r["J"], r["C_in"], r["stride"]) for r in rows] == [(6, 3, 2), (5, 1, 4)]
