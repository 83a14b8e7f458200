"""``jaxfb bench``: throughput of sampling + frame bounds against the RNG floor and NumPy.

Prints :func:`jaxfb.benchmark_kernels`'s rows as they are measured (see its docstring for what
is timed); ``--json`` also writes them, with the environment, through :mod:`jaxfb.io`.
"""

from __future__ import annotations

from ._args import int_list, plain_text


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark sampling + frame bounds against the RNG floor and a NumPy loop",
        description=plain_text(__doc__),
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


def run(args) -> int:
    from .. import KernelTiming, benchmark_kernels, environment, io

    timings = benchmark_kernels(
        args.J,
        args.N,
        args.T,
        draws=args.draws,
        numpy_draws=args.numpy_draws,
        repeat=args.repeat,
        seed=args.seed,
    )
    env = environment()
    print(f"# jaxfb {env['versions']['jaxfb']}, jax {env['versions']['jax']}, ", end="")
    print(f"backend {env['device']['backend']}: {', '.join(env['device']['devices'])}")
    print(f"# J={args.J} N={args.N} draws={args.draws} (best of {args.repeat})")
    print(KernelTiming.header())
    rows = []
    for timing in timings:
        rows.append(timing.as_dict())
        print(timing.row(), flush=True)
    if args.json:
        io.save_json(args.json, {"environment": env, "rows": rows})
    return 0
