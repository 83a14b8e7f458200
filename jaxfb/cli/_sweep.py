"""``jaxfb sweep``: a resumable Monte Carlo sweep over (J, T, N, C, stride, init[, signal]).

Example::

    jaxfb sweep --out results/fb --J 10,40 --T 8:1024:x2 --N 1024 --init gaussian --draws 100000

writes one ``.npz`` + ``.json`` per point and ``summary.csv`` (means, standard errors and
quantiles of A, B, kappa, log kappa; energies per signal) in ``--out``. Rerunning the same command
skips finished points; an interrupted run resumes to identical results (the point in progress
is checkpointed every ``--checkpoint-every`` seconds, and at once on Ctrl-C or SIGTERM; the exit
code is then 130 or 143). With ``--target-rse 0.01`` each point draws
until the standard errors of mean log kappa and mean kappa are under 1% (``--draws`` the ceiling)::

    jaxfb sweep --out results/s --J 2:256:x2 --T 2:4096:x2 --N 4096 --draws 1e6 --target-rse 0.01

``--C`` (input channels) and ``--stride`` make each point a 1-D convolution layer with J output
channels (frame bounds of jaxfb.conv_frame_bounds, not renormalised by the stride)::

    jaxfb sweep --out results/conv --J 64 --C 1,4,16 --T 8 --N 256 --stride 1,2,4 --draws 1e4

A stride must divide N. A layer with J < stride x C (or T < stride) is never a frame: it is run
and recorded with A = 0, kappa = inf (one warning says how many, with an example).
"""

from __future__ import annotations

import argparse

from ._args import byte_size, int_list, plain_text


def _names(text: str) -> list[str]:
    out = [s.strip() for s in str(text).split(",") if s.strip()]
    if not out:
        raise argparse.ArgumentTypeError(f"empty list {text!r}")
    return out


def _count(text: str) -> int:
    """``100000``, ``1e5`` or ``10**5`` -> int."""
    t = str(text).strip()
    try:
        if "**" in t:
            base, exp = t.split("**")
            value = int(base) ** int(exp)
        else:
            f = float(t)
            value = int(f)
            if value != f:
                raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    return value


def _signal_lengths(text: str):
    return "T" if str(text).strip() == "T" else int_list(text)


def _probabilities(text: str) -> list[float]:
    try:
        return [float(s) for s in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of probabilities: {text!r}") from None


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="resumable Monte Carlo sweep of frame bounds (and energies) over a grid",
        description=plain_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", required=True, metavar="DIR", help="results folder (created)")
    p.add_argument(
        "--J", type=int_list, default=[40], help="numbers of filters, e.g. 10,40 (default 40)"
    )
    p.add_argument(
        "--T",
        type=int_list,
        default=[1024],
        help="filter lengths, e.g. 8:1024:x2 or 2:10:2 (default 1024)",
    )
    p.add_argument(
        "--N",
        type=_signal_lengths,
        default=[1024],
        help="signal lengths (default 1024), or T for N = T at every point",
    )
    p.add_argument(
        "--C",
        type=int_list,
        default=[1],
        help="input channels of the layer, e.g. 1,4,16 (default 1: a filterbank)",
    )
    p.add_argument(
        "--stride",
        type=int_list,
        default=[1],
        help="strides, e.g. 1,2,4, each dividing every N (default 1)",
    )
    p.add_argument(
        "--init",
        type=_names,
        default=["gaussian"],
        help="init name(s), comma-separated (default gaussian)",
    )
    p.add_argument(
        "--signal",
        type=_names,
        default=None,
        help="signals for the energy statistic, e.g. impulse,alternating,white_noise",
    )
    p.add_argument("--draws", type=_count, default=10**5, help="filterbanks per point (1e5)")
    p.add_argument("--seed", type=int, default=0, help="sweep seed (default 0)")
    p.add_argument("--batch-size", type=int, default=None, help="draws per compiled call")
    p.add_argument("--microbatch", type=int, default=None, help="draws vectorised per device")
    p.add_argument(
        "--memory-budget", type=byte_size, default=None, help="per-device memory, e.g. 1GB"
    )
    keep = p.add_mutually_exclusive_group()
    keep.add_argument(
        "--keep-samples",
        dest="keep_samples",
        action="store_true",
        default=None,
        help="keep every draw (exact quantiles; default when draws <= 1e6)",
    )
    keep.add_argument(
        "--no-keep-samples",
        dest="keep_samples",
        action="store_false",
        help="fixed-edge histograms instead (memory flat in the number of draws)",
    )
    p.add_argument(
        "--quantiles",
        type=_probabilities,
        default=None,
        help="probabilities tabulated besides the median (default 0.05,0.25,0.75,0.95)",
    )
    p.add_argument(
        "--target-rse",
        type=float,
        default=None,
        metavar="R",
        help="draw until the standard error of each --target-stats mean is <= R x |mean| "
        "(checked at --min-draws, then doubling; --draws is then the ceiling)",
    )
    p.add_argument(
        "--target-stats",
        type=_names,
        default=["log_kappa", "kappa"],
        help="statistics the target applies to (default log_kappa,kappa; kappa is exempt "
        "for J <= 4, where its variance is infinite)",
    )
    p.add_argument(
        "--min-draws",
        type=_count,
        default=1000,
        help="with --target-rse: first count looked at (default 1000)",
    )
    p.add_argument(
        "--checkpoint-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="checkpoint the point in progress this often (default 60)",
    )
    p.add_argument("--x64", action="store_true", help="simulate in float64")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="progress bar (default: only on a terminal)",
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="no bar")
    p.add_argument(
        "--distributed",
        action="store_true",
        help="call jax.distributed.initialize() first (multi-host; see docs/performance.md); "
        "SLURM, Open MPI, Kubernetes and Cloud TPU launches are detected automatically",
    )
    p.add_argument("--coordinator", help="with --distributed: host:port of process 0")
    p.add_argument("--num-processes", type=int, help="with --distributed: number of processes")
    p.add_argument("--process-id", type=int, help="with --distributed: this process's index")
    p.set_defaults(func=run)


def run(args) -> int:
    import contextlib

    import jax

    from ..montecarlo import sweep

    manual = (args.coordinator, args.num_processes, args.process_id)
    if any(x is not None for x in manual) and not args.distributed:
        raise ValueError("--coordinator, --num-processes and --process-id need --distributed")
    if args.distributed:
        jax.distributed.initialize(
            coordinator_address=args.coordinator,
            num_processes=args.num_processes,
            process_id=args.process_id,
        )
    optional = {"quantiles": args.quantiles} if args.quantiles is not None else {}
    with jax.enable_x64(True) if args.x64 else contextlib.nullcontext():
        table = sweep(
            args.out,
            num_filters=args.J,
            length=args.T,
            n=args.N,
            init=args.init,
            in_channels=args.C,
            stride=args.stride,
            signals=args.signal,
            num_draws=args.draws,
            seed=args.seed,
            keep_samples=args.keep_samples,
            batch_size=args.batch_size,
            microbatch=args.microbatch,
            memory_budget=args.memory_budget,
            progress=args.progress,
            target_rse=args.target_rse,
            target_stats=args.target_stats,
            min_draws=args.min_draws,
            checkpoint_every=args.checkpoint_every,
            **optional,
        )
    if jax.process_index() == 0:
        points = len(set(table["file"].tolist()))
        print(f"{points} points, {len(table['J'])} rows -> {args.out}/summary.csv")
    return 0
