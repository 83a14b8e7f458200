"""``jaxfb bench``: throughput of sampling + frame bounds against the RNG floor and NumPy.

For each filter length ``T`` it times, in the same run and on the same device:

- the RNG floor: ``jax.random.normal`` of shape ``(draws, J, T)`` (the least any exact
  simulation must do);
- jaxfb: ``frame_bounds(random_filterbank(...), N)`` fused under one ``jax.jit``, for the
  automatic method and for each explicit one;
- a reference-style NumPy loop, one filterbank at a time (draw, zero-pad, FFT, LP sum, min/max),
  as in the paper's published code.

Each timing is the best of ``--repeat`` runs after a warm-up (compilation excluded).
"""

from __future__ import annotations

import json
import time

import numpy as np

from ._args import int_list


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark sampling + frame bounds against the RNG floor and a NumPy loop",
        description=__doc__,
    )
    p.add_argument("--J", type=int, default=40, help="number of filters (default 40)")
    p.add_argument("--N", type=int, default=1024, help="signal length (default 1024)")
    p.add_argument(
        "--T", type=int_list, default="8:1024:x2", help="filter lengths (default 8:1024:x2)"
    )
    p.add_argument("--draws", type=int, default=1000, help="filterbanks per point (default 1000)")
    p.add_argument("--numpy-draws", type=int, default=200, help="filterbanks for the NumPy loop")
    p.add_argument("--repeat", type=int, default=5, help="timed repetitions, best kept")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    p.set_defaults(func=run)


def _best_time(fn, repeat: int) -> float:
    fn()  # warm-up (compiles)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def numpy_reference(rng: np.random.Generator, draws: int, J: int, T: int, N: int) -> np.ndarray:
    """The paper's style: one filterbank at a time, zero-pad, FFT, LP sum, min/max."""
    out = np.empty((draws, 2))
    sigma = 1.0 / np.sqrt(J * T)
    for i in range(draws):
        w = rng.standard_normal((J, T)) * sigma
        W = np.fft.fft(np.pad(w, ((0, 0), (0, N - T))), axis=-1)
        lp = np.sum(np.abs(W) ** 2, axis=0)
        out[i] = lp.min(), lp.max()
    return out


def benchmark(J: int, N: int, lengths, draws: int, numpy_draws: int, repeat: int, seed: int):
    import jax

    key = jax.random.key(seed)
    for T in lengths:
        yield _point(key, J, T, N, draws, numpy_draws, repeat, seed)


def _point(key, J, T, N, draws, numpy_draws, repeat, seed) -> dict:
    import jax

    from .._frames import _choose_method
    from .._frames import frame_bounds as fb
    from .._sampling import random_filterbank

    sigma = 1.0 / np.sqrt(J * T)
    floor = jax.jit(lambda k: jax.random.normal(k, (draws, J, T)) * sigma)
    t_floor = _best_time(lambda: floor(key).block_until_ready(), repeat)
    row = {"J": J, "N": N, "T": T, "draws": draws, "auto": _choose_method(J, T, N)}
    row["floor_fb_per_s"] = draws / t_floor
    for method in ("auto", "fft", "autocorr"):
        kern = jax.jit(
            lambda k, m=method: fb(random_filterbank(k, J, T, batch_shape=(draws,)), N, method=m)
        )
        t = _best_time(lambda kern=kern: jax.block_until_ready(kern(key)), repeat)
        row[f"{method}_fb_per_s"] = draws / t
    rng = np.random.default_rng(seed)
    t_np = _best_time(lambda: numpy_reference(rng, numpy_draws, J, T, N), 1)
    row["numpy_fb_per_s"] = numpy_draws / t_np
    row["ratio_to_floor"] = row["auto_fb_per_s"] / row["floor_fb_per_s"]
    row["speedup_vs_numpy"] = row["auto_fb_per_s"] / row["numpy_fb_per_s"]
    return row


HEADER = (
    f"{'T':>5} {'path':>8} {'jaxfb fb/s':>11} {'floor fb/s':>11} {'ratio':>6} "
    f"{'fft fb/s':>10} {'lag fb/s':>10} {'numpy fb/s':>10} {'vs numpy':>8}"
)


def format_row(r: dict) -> str:
    return (
        f"{r['T']:>5} {r['auto']:>8} {r['auto_fb_per_s']:>11.0f} {r['floor_fb_per_s']:>11.0f} "
        f"{r['ratio_to_floor']:>6.2f} {r['fft_fb_per_s']:>10.0f} {r['autocorr_fb_per_s']:>10.0f} "
        f"{r['numpy_fb_per_s']:>10.0f} {r['speedup_vs_numpy']:>7.1f}x"
    )


def run(args) -> int:
    from ._info import environment

    env = environment()
    print(f"# jaxfb {env['jaxfb']}, jax {env['jax']}, backend {env['backend']}: {env['devices']}")
    print(f"# J={args.J} N={args.N} draws={args.draws} (best of {args.repeat})")
    print(HEADER)
    rows = []
    for row in benchmark(
        args.J, args.N, args.T, args.draws, args.numpy_draws, args.repeat, args.seed
    ):
        rows.append(row)
        print(format_row(row), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "rows": rows}, f, indent=2)
    return 0
