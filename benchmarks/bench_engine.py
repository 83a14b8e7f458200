"""Benchmark of the Monte Carlo engine against the RNG floor and the bare kernel.

Workload: frame bounds A, B, kappa and log kappa of Gaussian filterbanks at N = 1024,
J = 40, T = 1024, with streaming statistics (count, float64 moments, min, max, fixed-edge
histograms: what ``jaxfb sweep --no-keep-samples`` runs), for ``--draws`` filterbanks.

In the same run and on the same device it also times:

- the RNG floor: ``jax.random.normal`` of shape ``(m, J, T)``, ``m`` the engine's microbatch
  (the shape it generates at once), looped over ``--baseline-draws`` draws: the least an exact
  simulation must do;
- the bare kernel: ``frame_bounds(random_filterbank(key, J, T, batch_shape=(m,)), N)`` under
  one ``jax.jit``, looped likewise, results left on the device (no reduction, no host traffic).

and reports draws/s, the ratio to the floor, the engine's overhead over the bare kernel, the
peak resident memory of the process (measured right after the engine run, before the other
timings), and the time 10^7 draws would take at the measured rate.

    python benchmarks/bench_engine.py --draws 100000          # about 2 to 4 minutes on 2 cores
    python benchmarks/bench_engine.py --draws 10000000        # the full goal (GPU)
    python benchmarks/bench_engine.py --draws 10000000 --checkpoint results/bench_1e7.ckpt

With ``--checkpoint`` the engine run saves its state every ``--checkpoint-every`` seconds and a
rerun of the same command resumes it (a 10^7 run on a CPU can span several sittings). The
wall and CPU time of every sitting, with the draws it computed, go to ``<checkpoint>.log.json``
(rewritten as often as the checkpoint, at least every minute, so a killed sitting is
counted up to its last write); the rate printed
is then all draws computed (draws lost to a kill and recomputed included) over all sittings'
wall time, and the peak RSS the largest of any sitting.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxfb
from jaxfb import io
from jaxfb import montecarlo as mc

# The reducers of ``jaxfb sweep --no-keep-samples``: fixed-edge histograms, geometric for the
# positive statistics, linear for log kappa.
_BASE = (mc.Count(), mc.Moments(), mc.Min(), mc.Max())
REDUCERS = {
    "log_kappa": (*_BASE, mc.Histogram(tuple(np.linspace(0.0, 20.0, 8001)))),
    "*": (*_BASE, mc.Histogram(tuple(np.geomspace(1e-8, 1e8, 16001)))),
}


def frame_bound_statistic(J: int, T: int, N: int):
    """A sweep point's per-draw statistic: ``A, B, kappa, log kappa`` of one filterbank."""

    def statistic(key):
        lp = jaxfb.littlewood_paley(jaxfb.random_filterbank(key, J, T), N)
        A, B = jnp.min(lp), jnp.max(lp)
        kappa = jnp.where(A > 0, B / jnp.where(A > 0, A, 1), jnp.inf)
        return {"A": A, "B": B, "kappa": kappa, "log_kappa": jnp.log(kappa)}

    return statistic


def _peak_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # Linux reports KiB


def _time_loop(fn, key, num_batches: int) -> tuple[float, float]:
    """Wall and process CPU seconds for ``num_batches`` calls (after a compiling warm-up)."""
    jax.block_until_ready(fn(key))
    c0, t0 = time.process_time(), time.perf_counter()
    out = [fn(jax.random.fold_in(key, i)) for i in range(num_batches)]
    jax.block_until_ready(out)
    return time.perf_counter() - t0, time.process_time() - c0


def _numpy_streaming(J: int, T: int, N: int, draws: int, seed: int) -> tuple[float, float]:
    """Wall and CPU seconds per draw of the same job in plain NumPy, one filterbank at a time.

    Draw the ``(J, T)`` Gaussian weights, zero-pad to ``N``, FFT, sum ``|W|^2`` over filters,
    take min and max (``A``, ``B``), and fold ``A, B, kappa, log kappa`` into running
    (Welford) moments, minima, maxima and fixed-edge histograms: the paper's code style with
    the engine's streaming statistics.
    """
    rng = np.random.default_rng(seed)
    sigma = 1.0 / np.sqrt(J * T)
    edges = np.linspace(-1.0, 12.0, 257)
    n, mean, m2 = 0, np.zeros(4), np.zeros(4)
    lo, hi, hist = np.full(4, np.inf), np.full(4, -np.inf), np.zeros((4, 258), np.int64)
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(draws):
        w = rng.standard_normal((J, T)) * sigma
        lp = np.sum(np.abs(np.fft.rfft(w, n=N, axis=-1)) ** 2, axis=0)
        a, b = lp.min(), lp.max()
        x = np.array([a, b, b / a, np.log(b / a)])
        n += 1
        d = x - mean
        mean += d / n
        m2 += d * (x - mean)
        lo, hi = np.minimum(lo, x), np.maximum(hi, x)
        hist[np.arange(4), np.searchsorted(edges, x)] += 1
    assert n == draws and np.all(np.isfinite(m2))
    return (time.perf_counter() - t0) / draws, (time.process_time() - c0) / draws


def _run_header(args) -> dict:
    return {"draws": args.draws, "J": args.J, "T": args.T, "N": args.N, "seed": args.seed}


def _save_log(path, sittings, args) -> None:
    io.save_json(path, {**_run_header(args), "sittings": sittings})


def _load_sittings(path, args) -> list:
    """The sittings logged so far for this run; another run's log is refused."""
    if not os.path.exists(path):
        return []
    log = io.load_json(path)
    theirs = {k: log.get(k) for k in _run_header(args)}
    if theirs != _run_header(args):
        raise SystemExit(
            f"{path} logs another run ({theirs}, not {_run_header(args)}): "
            "use another --checkpoint for this one"
        )
    return log["sittings"]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--draws", type=int, default=100_000)
    p.add_argument("--J", type=int, default=40)
    p.add_argument("--T", type=int, default=1024)
    p.add_argument("--N", type=int, default=1024)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--microbatch", type=int, default=None)
    p.add_argument("--memory-budget", default=None)
    p.add_argument(
        "--baseline-draws",
        type=int,
        default=None,
        help="draws for the floor and kernel timings (default: min(draws, 20000))",
    )
    p.add_argument(
        "--numpy-draws",
        type=int,
        default=200,
        help="draws for the plain NumPy loop (default 200; 0 skips it)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--checkpoint", metavar="FILE", help="save and resume the engine run here")
    p.add_argument("--checkpoint-every", type=float, default=60.0, metavar="SECONDS")
    args = p.parse_args(argv)
    J, T, N = args.J, args.T, args.N

    key = jax.random.key(args.seed)
    statistic = frame_bound_statistic(J, T, N)  # one function object: one compile for both runs
    kw = dict(
        reducers=REDUCERS,
        microbatch=args.microbatch,
        memory_budget=args.memory_budget,
    )
    sittings, log_path = [], None
    if args.checkpoint:  # checked before anything is compiled
        log_path = args.checkpoint + ".log.json"
        sittings = _load_sittings(log_path, args)
    rss0 = _peak_rss_bytes()
    # warm-up: one batch compiles the function the timed run reuses (same batch geometry)
    n_dev = jax.device_count()
    first = args.batch_size or min(args.draws, 4096 * n_dev)
    warm = mc.monte_carlo(statistic, key, first, batch_size=args.batch_size, **kw)
    kw.update(microbatch=warm.microbatch)
    c0, w0 = time.process_time(), time.perf_counter()
    if args.checkpoint:
        sittings.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "draws": 0})
        last = [time.monotonic()]

        def account(n):
            s = sittings[-1]
            s["draws"] += n
            s["wall_s"], s["cpu_s"] = time.perf_counter() - w0, time.process_time() - c0
            s["peak_rss_bytes"], s["load_average"] = _peak_rss_bytes(), os.getloadavg()
            if time.monotonic() - last[0] >= min(60.0, args.checkpoint_every):
                _save_log(log_path, sittings, args)
                last[0] = time.monotonic()

        kw.update(
            checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every, callback=account
        )
    res = mc.monte_carlo(
        statistic, key, args.draws, batch_size=warm.batch_size, progress=None, **kw
    )
    engine_wall, engine_cpu = time.perf_counter() - w0, time.process_time() - c0
    peak = _peak_rss_bytes()
    assert res.compile_time == 0.0 and res.batch_size == warm.batch_size
    computed = args.draws
    if sittings:
        sittings[-1].update(wall_s=engine_wall, cpu_s=engine_cpu, peak_rss_bytes=peak)
        _save_log(log_path, sittings, args)
        engine_wall = sum(s.get("wall_s", 0.0) for s in sittings)
        engine_cpu = sum(s.get("cpu_s", 0.0) for s in sittings)
        computed = sum(s["draws"] for s in sittings)
        peak = max(s.get("peak_rss_bytes", 0) for s in sittings)
    engine_rate = computed / engine_wall

    # baselines at the shape the engine generates at once (one microbatch), same device and run
    b = res.microbatch
    base_draws = args.baseline_draws or min(args.draws, 20_000)
    nb = max(1, -(-base_draws // b))
    sigma = 1.0 / np.sqrt(J * T)
    floor = jax.jit(lambda k: jnp.sum(jax.random.normal(k, (b, J, T)) * sigma, axis=(1, 2)))
    kernel = jax.jit(
        lambda k: jaxfb.frame_bounds(jaxfb.random_filterbank(k, J, T, batch_shape=(b,)), N)
    )
    t_floor, c_floor = (x / (nb * b) for x in _time_loop(floor, key, nb))
    t_kernel, c_kernel = (x / (nb * b) for x in _time_loop(kernel, key, nb))
    t_np = c_np = math.nan
    if args.numpy_draws > 0:
        t_np, c_np = _numpy_streaming(J, T, N, args.numpy_draws, args.seed)

    dev = jax.devices()
    out = {
        "workload": {"J": J, "T": T, "N": N, "draws": args.draws, "init": "gaussian"},
        "engine": {
            "draws_per_s": engine_rate,
            "us_per_draw": 1e6 / engine_rate,
            "cpu_us_per_draw": 1e6 * engine_cpu / computed,
            "compile_s": warm.compile_time,
            "batch_size": res.batch_size,
            "microbatch": res.microbatch,
            "num_batches": res.num_batches,
            "sittings": len(sittings) or 1,
            "draws_computed": computed,
            "xla_device_bytes": res.device_bytes,
            "peak_rss_bytes": peak,
            "peak_rss_before_bytes": rss0,
        },
        "floor": {"us_per_draw": 1e6 * t_floor, "cpu_us_per_draw": 1e6 * c_floor},
        "kernel": {"us_per_draw": 1e6 * t_kernel, "cpu_us_per_draw": 1e6 * c_kernel},
        "numpy": {"us_per_draw": 1e6 * t_np, "cpu_us_per_draw": 1e6 * c_np},
        "numpy_draws": args.numpy_draws,
        "speedup_engine_over_numpy": t_np * engine_rate,
        "speedup_engine_over_numpy_cpu": c_np / (engine_cpu / computed),
        "ratio_engine_to_floor": (1 / engine_rate) / t_floor,
        "ratio_engine_to_floor_cpu": (engine_cpu / computed) / c_floor,
        "ratio_kernel_to_floor": t_kernel / t_floor,
        "ratio_kernel_to_floor_cpu": c_kernel / c_floor,
        "baseline_draws": nb * b,
        "extrapolated_1e7_s": 1e7 / engine_rate,
        "load_average": os.getloadavg(),
        "machine": {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "platform": dev[0].platform,
            "device_kind": dev[0].device_kind,
            "devices": len(dev),
        },
        "versions": {"jax": jax.__version__, "jaxfb": jaxfb.__version__},
        "kappa_mean": float(res.stats["kappa"]["mean"]),
    }
    e = out["engine"]
    print(
        f"# {out['machine']['cpu']}, {out['machine']['cores']} cores, "
        f"{dev[0].platform} x{len(dev)}; jax {jax.__version__}; "
        f"load average {out['load_average'][0]:.1f}"
    )
    print(
        f"# J={J} T={T} N={N} draws={args.draws} batch={e['batch_size']} "
        f"microbatch={e['microbatch']} batches={e['num_batches']}"
    )
    print(f"{'':22}{'us/draw':>9}{'draws/s':>9}{'x floor':>9}{'CPU us/draw':>13}{'x floor':>9}")
    rows = (
        ("RNG floor", out["floor"], 1.0, 1.0),
        (
            "bare kernel",
            out["kernel"],
            out["ratio_kernel_to_floor"],
            out["ratio_kernel_to_floor_cpu"],
        ),
        ("engine (streaming)", e, out["ratio_engine_to_floor"], out["ratio_engine_to_floor_cpu"]),
        ("NumPy loop (streaming)", out["numpy"], t_np / t_floor, c_np / c_floor),
    )
    for name, r, ratio, ratio_cpu in rows:
        print(
            f"{name:22}{r['us_per_draw']:>9.0f}{1e6 / r['us_per_draw']:>9.0f}{ratio:>9.2f}"
            f"{r['cpu_us_per_draw']:>13.0f}{ratio_cpu:>9.2f}"
        )
    print(
        f"compile {e['compile_s']:.1f} s; peak RSS {peak / 2**20:.0f} MiB "
        f"(XLA: {(e['xla_device_bytes'] or 0) / 2**20:.1f} MiB per batch)"
    )
    if sittings:
        print(
            f"{len(sittings)} sitting(s): {computed} draws computed in {engine_wall / 3600:.2f} h "
            f"wall ({args.draws} in the result)"
        )
    print(
        f"engine over the NumPy loop: {out['speedup_engine_over_numpy']:.1f}x wall, "
        f"{out['speedup_engine_over_numpy_cpu']:.1f}x CPU ({args.numpy_draws} NumPy draws)"
    )
    print(f"10^7 draws at this rate: {out['extrapolated_1e7_s'] / 3600:.2f} h (extrapolated)")
    if args.json:
        io.save_json(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
