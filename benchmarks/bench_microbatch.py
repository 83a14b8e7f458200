"""How the engine's speed depends on the microbatch, and what the default picks, on this machine.

    python benchmarks/bench_microbatch.py [--reps 2] [--scale 1.0] [--json bench_microbatch.json]

writes the JSON and, beside it, the printed table (same name, ``.md``).

For each sweep point ``(J, T, N, method)`` it runs ``jaxfb.montecarlo.sweep`` (streaming
statistics, no samples kept: what ``jaxfb sweep --no-keep-samples`` runs) once per microbatch in
``MICROBATCHES`` and once with the default (``microbatch=None``), each ``--reps`` times into a
fresh folder, and reports the best draws/s of each (the first repetition includes compiling;
the engine caches the compiled function, so the best is a warm run). The table shows every
microbatch's rate relative to the fastest, the default's choice and its rate, and the rate at
128 (the CPU default before it depended on the draw's largest array). See
``docs/performance.md``, "Microbatch on CPU".
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import jaxfb
from jaxfb import io
from jaxfb import montecarlo as mc

MICROBATCHES = (16, 32, 64, 128, 256, 512, 1024)
# (J, T, N, method, draws per run)
POINTS = [
    (128, 32, 1024, "gram", 100_000),
    (256, 8, 1024, "gram", 200_000),
    (128, 32, 1024, "weights", 30_000),
    (16, 64, 1024, "weights", 50_000),
    (40, 256, 1024, "weights", 10_000),
    (40, 1024, 1024, "weights", 4_096),
    (40, 1024, 1024, "spectrum", 60_000),
    (256, 4096, 4096, "spectrum", 20_000),
]


def _rate(J, T, N, method, draws, microbatch, reps):
    """Best draws/s of ``reps`` sweeps of one point, and the microbatch the runs used."""
    best, used = 0.0, None
    for rep in range(reps):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            mc.sweep(
                out,
                num_filters=J,
                length=T,
                n=N,
                num_draws=draws,
                seed=rep,
                method=method,
                progress=False,
                keep_samples=False,
                microbatch=microbatch,
            )
            best = max(best, draws / (time.perf_counter() - t0))
            (point,) = Path(out).glob("*.json")  # the one point's metadata
            used = int(io.load_json(point)["microbatch"])
    return best, used


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2, help="runs per microbatch (best is kept)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply draws per run")
    parser.add_argument("--json", type=str, default="bench_microbatch.json", help="results file")
    parser.add_argument("--points", type=str, default="", help="comma-separated point indices")
    parser.add_argument(
        "--microbatches", type=str, default=",".join(map(str, MICROBATCHES)), help="to time"
    )
    args = parser.parse_args(argv)
    points = [POINTS[int(i)] for i in args.points.split(",")] if args.points else POINTS
    sizes = [int(m) for m in args.microbatches.split(",")]
    head = "| J | T | N | method | " + " | ".join(map(str, sizes))
    head += " | default | default / best | 128 / best |"
    lines = [head, "|" + "--:|" * 3 + ":--|" + "--:|" * (len(sizes) + 3)]
    print("\n".join(lines))
    rows = []
    for J, T, N, method, draws in points:
        draws = max(1, int(draws * args.scale))
        rates = {m: _rate(J, T, N, method, draws, m, args.reps)[0] for m in sizes}
        default, chosen = _rate(J, T, N, method, draws, None, args.reps)
        best = max(rates.values())
        at128 = rates.get(128, float("nan"))
        rows.append(
            {
                "J": J, "T": T, "N": N, "method": method, "draws": draws,
                "default_microbatch": chosen,
                "draws_per_s": {str(m): r for m, r in rates.items()},
                "default_draws_per_s": default, "default_over_best": default / best,
                "mb128_over_best": at128 / best, "default_over_mb128": default / at128,
            }
        )  # fmt: skip
        cells = " | ".join(f"{rates[m] / best:.2f}" for m in sizes)
        lines.append(
            f"| {J} | {T} | {N} | {method} | {cells} | {chosen} | "
            f"{default / best:.2f} | {at128 / best:.2f} |"
        )
        print(lines[-1], flush=True)
    io.save_json(args.json, {"reps": args.reps, "rows": rows, **jaxfb.environment()})
    table = Path(args.json).with_suffix(".md")
    io.atomic_write_text(table, "\n".join(lines) + "\n")
    print(f"wrote {args.json} and {table}")


if __name__ == "__main__":
    main()
