"""Frame bounds of conv layers: ``jaxfb.conv_frame_bounds`` against per-frequency loops.

    python benchmarks/bench_conv.py [--reps 5] [--json bench_conv.json]
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_conv.py ...  # single-threaded LAPACK/BLAS

For each ``(J, C_in, T, n, d)`` (float64, one layer per call) it times, in the same run and
interleaved repetition by repetition:

- **jaxfb**: ``jaxfb.conv_frame_bounds(w, n, stride=d)``, jitted (the ``n/(2d) + 1`` Hermitian
  blocks ``V_k^H V_k / d`` of size ``d C_in`` from the filter spectra at the frequencies they
  need, three real batched matrix products, batched singular values);
- **NumPy loop**: ``np.fft.fft`` of every dilated filter, then a Python loop over the
  ``n/(2d) + 1`` frequencies, each building its block ``G_k^H G_k / d`` and calling
  ``np.linalg.eigvalsh``;
- **hybra-style loop**: the approach of hybra's frame-bound routine: a Python loop over all
  ``n/d`` frequencies, each computing the DFT values it needs directly from the filters (a
  ``(J C_in T) x d`` Fourier matrix product) and the block's eigenvalues.

All three agree (checked each run). Warm-up calls (compilation) are excluded; every jaxfb call
ends with ``block_until_ready``. Each timed call follows a 0.2 s pause: NumPy's BLAS worker
threads keep spinning for a while after a call and would otherwise slow the next method's
(on 2 cores, a 1 ms jaxfb call after the hybra-style loop took up to 20 times its time). The
table shows the best of ``--reps`` repetitions (the JSON keeps every time, the BLAS thread
setting and the load average) and the median of the per-repetition ratios. See
``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxfb
from jaxfb import io

ROWS = [(64, 16, 16, 1024, 2), (40, 1, 1024, 1024, 4)]  # (J, C_in, T, n, d)
PAUSE = 0.2  # seconds before each timed call: BLAS worker threads spin on after a call


def numpy_loop(w: np.ndarray, n: int, d: int) -> tuple[float, float]:
    """FFTs first, then one ``d C_in`` eigenproblem per frequency ``k = 0 .. L//2``."""
    J, C, _ = w.shape
    L = n // d
    W = np.fft.fft(w, n=n, axis=-1)  # (J, C, n)
    lo, hi = np.inf, -np.inf
    for k in range(L // 2 + 1):
        G = W[:, :, k + L * np.arange(d)].transpose(0, 2, 1).reshape(J, d * C)
        lam = np.linalg.eigvalsh(G.conj().T @ G / d)
        lo, hi = min(lo, lam[0]), max(hi, lam[-1])
    return max(lo, 0.0), hi


def hybra_loop(w: np.ndarray, n: int, d: int) -> tuple[float, float]:
    """Per frequency ``k = 0 .. L-1``: the DFT values at ``k + aL`` from the taps, then eigvalsh."""
    J, C, T = w.shape
    L = n // d
    t = np.arange(T)
    flat = w.reshape(J * C, T)
    lo, hi = np.inf, -np.inf
    for k in range(L):
        f = k + L * np.arange(d)
        F = np.exp(-2j * np.pi * np.outer(t, f) / n)  # (T, d)
        G = (flat @ F).reshape(J, C, d).transpose(0, 2, 1).reshape(J, d * C)
        lam = np.linalg.eigvalsh(G.conj().T @ G / d)
        lo, hi = min(lo, lam[0]), max(hi, lam[-1])
    return max(lo, 0.0), hi


def bench_row(J, C, T, n, d, reps, seed=0):
    w = jaxfb.random_filterbank(jax.random.key(seed), J, T, in_channels=C, dtype=jnp.float64)
    wn = np.asarray(w)
    fn = jax.jit(lambda w: jaxfb.conv_frame_bounds(w, n, stride=d))
    ref = jax.block_until_ready(fn(w))  # compile
    ref = (float(ref.lower), float(ref.upper))
    methods = {
        "jaxfb": lambda: jax.block_until_ready(fn(w)),
        "numpy_loop": lambda: numpy_loop(wn, n, d),
        "hybra_loop": lambda: hybra_loop(wn, n, d),
    }
    for name in ("numpy_loop", "hybra_loop"):
        A, B = methods[name]()
        assert abs(A - ref[0]) <= 1e-10 * ref[1] and abs(B - ref[1]) <= 1e-10 * ref[1], name
    times = {m: [] for m in methods}
    for _ in range(reps):
        for m, f in methods.items():
            time.sleep(PAUSE)
            t0 = time.perf_counter()
            f()
            times[m].append(time.perf_counter() - t0)
    ratios = {
        m: float(np.median(np.array(times[m]) / np.array(times["jaxfb"])))
        for m in ("numpy_loop", "hybra_loop")
    }
    return {
        "J": J,
        "C_in": C,
        "T": T,
        "n": n,
        "stride": d,
        "blocks": n // d // 2 + 1,
        "block_size": d * C,
        "lower": ref[0],
        "upper": ref[1],
        "seconds": times,
        "best_seconds": {m: min(v) for m, v in times.items()},
        "median_ratio_over_jaxfb": ratios,
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rows", default=None, help="J,C,T,n,d;... (default: the two documented)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    rows = ROWS
    if args.rows:
        rows = [tuple(int(x) for x in r.split(",")) for r in args.rows.split(";")]
    out = []
    load_start = list(os.getloadavg())  # 1, 5, 15 min: timings on a shared machine are noisy
    print(f"{'(J, C_in, T, n, d)':24s} {'jaxfb':>10s} {'NumPy loop':>12s} {'hybra loop':>12s}")
    for row in rows:
        r = bench_row(*row, reps=args.reps)
        out.append(r)
        b, q = r["best_seconds"], r["median_ratio_over_jaxfb"]
        print(
            f"{row!s:24s} {b['jaxfb'] * 1e3:8.2f}ms {b['numpy_loop'] * 1e3:10.1f}ms "
            f"{b['hybra_loop'] * 1e3:10.1f}ms   x{q['numpy_loop']:.1f} x{q['hybra_loop']:.1f}"
        )
    if args.json:
        record = {
            "environment": jaxfb.environment(),
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
            "load_average": {"start": load_start, "end": list(os.getloadavg())},
            "rows": out,
        }
        io.save_json(args.json, record)


if __name__ == "__main__":
    main()
