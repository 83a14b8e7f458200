"""Kernel benchmark: sampling + frame bounds against the RNG floor and a NumPy loop.

    python benchmarks/bench_kernels.py [--J 40] [--N 1024] [--T 8,64,1024] [--json FILE]

The same rows as ``jaxfb bench`` (:func:`jaxfb.benchmark_kernels`), written with the
environment to ``--json`` when given. docs/performance.md reports them.
"""

import argparse

import jaxfb


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--J", type=int, default=40, help="number of filters")
    p.add_argument("--N", type=int, default=1024, help="signal length")
    p.add_argument("--T", default="8,16,32,64,128,256,512,1024", help="comma-separated lengths")
    p.add_argument("--draws", type=int, default=1000, help="filterbanks per point")
    p.add_argument("--numpy-draws", type=int, default=200, help="filterbanks for the NumPy loop")
    p.add_argument("--repeat", type=int, default=5, help="timed repetitions, best kept")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed")
    p.add_argument("--json", metavar="FILE", help="also write the rows and environment as JSON")
    args = p.parse_args()
    lengths = [int(t) for t in args.T.split(",")]
    timings = jaxfb.benchmark_kernels(
        args.J,
        args.N,
        lengths,
        draws=args.draws,
        numpy_draws=args.numpy_draws,
        repeat=args.repeat,
        seed=args.seed,
    )
    env = jaxfb.environment()
    print(f"# {env['device']['backend']}: {', '.join(env['device']['devices'])}")
    print(jaxfb.KernelTiming.header())
    rows = []
    for timing in timings:
        rows.append(timing.as_dict())
        print(timing.row(), flush=True)
    if args.json:
        jaxfb.io.save_json(args.json, {"environment": env, "rows": rows})


if __name__ == "__main__":
    main()
