"""Exact sampling below the weight-RNG floor: draws/s of frame bounds by the direct path
(``method="weights"``) against the Bartlett (``"gram"``) and spectrum (``"spectrum"``) paths.

    python benchmarks/bench_gram.py [--reps 7] [--scale 1.0] [--json bench_gram.json]

For each ``(J, T, N, stride)`` it times, in the same run and interleaved repetition by
repetition: ``jaxfb.sample_frame_bounds(..., method="weights")`` and ``method="spectrum"``
(``T = N``, stride 1) or ``"gram"`` (the path ``"auto"`` picks there), each one jitted call on
a batch of draws; the **RNG floor** (``jax.random.normal`` of the ``J T`` weights per draw,
jitted); a plain **NumPy** implementation (Generator normals, ``np.fft.rfft`` of size ``N``,
the Littlewood-Paley sum, min/max; stride 1 only); and at ``T = N`` the spectrum path built on
``jax.random.gamma``. Warm-up calls (compilation) are excluded; every call ends with
``block_until_ready``. The table shows the best of ``--reps`` repetitions (the JSON keeps every
time), the median of the per-repetition ratios, and the ratio of process CPU seconds (all
threads), the steadier measure of work on a machine shared with other jobs. See
``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

import jaxfb
from jaxfb import io

# (J, T, N, stride, draws per call, NumPy draws per call)
ROWS = [
    (256, 32, 1024, 1, 512, 32),
    (256, 8, 1024, 1, 1024, 32),
    (128, 32, 1024, 1, 512, 32),  # J = 4 T
    (256, 32, 1024, 2, 256, 0),  # stride 2
    (40, 1024, 1024, 1, 256, 64),
    (256, 4096, 4096, 1, 8, 4),
]


def _jax_timer(fn, key):
    fn = jax.jit(fn)
    jax.block_until_ready(fn(key))  # compile and warm up

    def once(i):
        k = jax.random.fold_in(key, i + 1)
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn(k))
        return time.perf_counter() - t0, time.process_time() - c0

    return once


def _numpy_timer(J, T, N, draws, seed=0):
    rng = np.random.default_rng(seed)
    sigma = 1.0 / np.sqrt(J * T)

    def run():
        w = rng.standard_normal((draws, J, T), dtype=np.float32) * np.float32(sigma)
        W = np.fft.rfft(w, n=N, axis=-1)
        lp = np.sum(W.real**2 + W.imag**2, axis=-2)
        return lp.min(axis=-1), lp.max(axis=-1)

    run()

    def once(i):
        t0, c0 = time.perf_counter(), time.process_time()
        run()
        return time.perf_counter() - t0, time.process_time() - c0

    return once


def _spectrum_by_jax_gamma(J, N, draws):
    """Frame bounds at ``T = N`` from ``jax.random.gamma``: chi2_J/J edges, Gamma(J)/J inside."""
    edge = np.zeros(N // 2 + 1, dtype=bool)
    edge[0] = True
    edge[-1] |= N % 2 == 0
    shape = np.broadcast_to(np.where(edge, J / 2, J), (draws, N // 2 + 1))
    scale = np.broadcast_to(np.where(edge, 2 / J, 1 / J).astype(np.float32), shape.shape)

    def fn(k):
        lp = jax.random.gamma(k, shape) * scale
        return lp.min(axis=-1), lp.max(axis=-1)

    return fn


def bench_row(J, T, N, stride, draws, numpy_draws, reps, key):
    """Time the four contenders at one point, interleaved; return a JSON-ready dict."""
    kw = dict(batch_shape=(draws,), stride=stride)
    fast_method = "spectrum" if (T == N and stride == 1) else "gram"
    timers = {
        "weights": (
            draws,
            _jax_timer(
                lambda k: jaxfb.sample_frame_bounds(k, J, T, N, method="weights", **kw), key
            ),
        ),
        "fast": (
            draws,
            _jax_timer(
                lambda k: jaxfb.sample_frame_bounds(k, J, T, N, method=fast_method, **kw), key
            ),
        ),
        "floor": (draws, _jax_timer(lambda k: jax.random.normal(k, (draws, J, T)), key)),
    }
    if fast_method == "spectrum":  # the same law from jax.random.gamma (a per-entry loop)
        timers["spectrum_jax_gamma"] = (draws, _jax_timer(_spectrum_by_jax_gamma(J, N, draws), key))
    if numpy_draws:
        timers["numpy"] = (numpy_draws, _numpy_timer(J, T, N, numpy_draws))
    times = {name: [] for name in timers}
    for i in range(reps):
        for name, (_, once) in timers.items():
            times[name].append(once(i))
    cpu = {name: [c for _, c in ts] for name, ts in times.items()}
    times = {name: [t for t, _ in ts] for name, ts in times.items()}
    rate = {name: timers[name][0] / min(ts) for name, ts in times.items()}
    cpu_rate = {name: timers[name][0] / min(ts) for name, ts in cpu.items()}
    return {
        "J": J, "T": T, "N": N, "stride": stride, "draws_per_call": draws,
        "numpy_draws_per_call": numpy_draws, "fast_method": fast_method,
        "draws_per_s": rate, "seconds": times,
        "draws_per_cpu_s": cpu_rate, "cpu_seconds": cpu,
        "speedup_cpu_time": cpu_rate["fast"] / cpu_rate["weights"],
        "speedup_fast_over_weights": rate["fast"] / rate["weights"],
        # per repetition, weights and fast ran back to back: robust to load that comes and goes
        "speedup_median_of_reps": float(np.median(np.divide(times["weights"], times["fast"]))),
        "weights_over_floor": rate["weights"] / rate["floor"],
        "fast_over_floor": rate["fast"] / rate["floor"],
        "fast_over_jax_gamma": rate["fast"] / rate.get("spectrum_jax_gamma", float("nan")),
    }  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions (best is shown)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply draws per call")
    parser.add_argument("--rows", type=str, default="", help="comma-separated row indices")
    parser.add_argument("--json", type=str, default="bench_gram.json", help="results file")
    args = parser.parse_args(argv)
    rows = [ROWS[int(i)] for i in args.rows.split(",")] if args.rows else ROWS
    key = jax.random.key(0)
    results = []
    head = "| J | T | N | stride | path | weights /s | fast /s | speedup (best) | speedup (median) "
    head += "| speedup (CPU time) "
    head += "| RNG floor /s | fast / floor | NumPy /s | jax.random.gamma /s |"
    print(head + "\n|" + "--:|" * 4 + ":--|" + "--:|" * 9)
    for J, T, N, stride, draws, numpy_draws in rows:
        draws = max(1, int(draws * args.scale))
        numpy_draws = max(1, int(numpy_draws * args.scale)) if numpy_draws else 0
        r = bench_row(J, T, N, stride, draws, numpy_draws, args.reps, key)
        results.append(r)
        rate = r["draws_per_s"]
        numpy_rate = f"{rate['numpy']:.0f}" if "numpy" in rate else "n/a"
        gamma_rate = rate.get("spectrum_jax_gamma")
        gamma_rate = "n/a" if gamma_rate is None else f"{gamma_rate:.0f}"
        print(
            f"| {J} | {T} | {N} | {stride} | {r['fast_method']} | {rate['weights']:.0f} | "
            f"{rate['fast']:.0f} | {r['speedup_fast_over_weights']:.1f}x | "
            f"{r['speedup_median_of_reps']:.1f}x | {r['speedup_cpu_time']:.1f}x | "
            f"{rate['floor']:.0f} | "
            f"{r['fast_over_floor']:.1f}x | {numpy_rate} | {gamma_rate} |",
            flush=True,
        )
    io.save_json(args.json, {"reps": args.reps, "rows": results, **jaxfb.environment()})
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
