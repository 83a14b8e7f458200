"""``jaxfb reproduce``: every figure of the paper, its data, and a report checking its claims."""

from __future__ import annotations

import sys

from ._args import int_list


def add_parser(sub) -> None:
    """Add the ``reproduce`` subcommand and its options to ``sub``.

    Args:
        sub: the subparsers object of the ``jaxfb`` parser
            (``argparse.ArgumentParser.add_subparsers()``); the new parser's ``func`` default
            is :func:`run`.
    """
    p = sub.add_parser(
        "reproduce",
        help="make every figure of Haider et al. (2024) with a report checking its claims",
        description="Reproduce the experiments of Haider, Lostanlen, Ehler, Balazs, "
        "'Instabilities in Convnets for Raw Audio' (IEEE SPL 2024): energy deviation against "
        "the filter length (elementary and audio signals, with the Cantelli and Chernoff bounds "
        "and the exact quantiles), histograms, frame bounds and condition numbers against T and "
        "J with the paper's and jaxfb's predictions and a fitted law; and the training "
        "experiment (random filterbanks fitted to a mel filterbank by Adam with and without "
        "the stability penalty). Writes PNG + PDF + CSV per figure, samples.npz, config.json "
        "and report.md / report.html into --out.",
        epilog="Examples: jaxfb reproduce --out results/quick --quick ; "
        "jaxfb reproduce --out results/paper-only --no-training ; "
        "jaxfb reproduce --out results/paper (the paper's 1000 draws per point) ; "
        "jaxfb reproduce --out results/mine --quick --audio a.wav b.wav",
    )
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="powers of two T = 8..1024 and 200 draws, the training's trade-off curve at "
        "T = 64 (N = 256, 1000 steps) instead of the paper's T = 8, 16, ..., 1024 and 1000 "
        "draws and the curve at T = 32, 128, 512, 1024 (2000 steps); both train 6 penalty "
        "weights x 3 seeds",
    )
    p.add_argument(
        "--draws",
        type=int,
        default=None,
        help="draws per point (default 1000, or 200 with --quick)",
    )
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    p.add_argument(
        "--audio",
        nargs="+",
        metavar="FILE",
        default=None,
        help="WAV files to use instead of the synthetic snare, speech and flute (1 s at "
        "22050 Hz is used: resampled, cropped or zero-padded)",
    )
    p.add_argument(
        "--experiments",
        type=lambda s: [e.strip() for e in s.split(",") if e.strip()],
        default=None,
        help="comma-separated subset of energy,audio,frames,training (default: all)",
    )
    p.add_argument(
        "--no-training",
        action="store_true",
        help="leave out the training experiment (filterbanks fitted to a mel target with and "
        "without the stability penalty)",
    )
    p.add_argument(
        "--lengths",
        type=int_list,
        default=None,
        help="filter lengths T of the energy, audio and frames experiments, e.g. 8:256:x2 "
        "(default: the preset's; the training keeps its own)",
    )
    p.add_argument("--no-samples", action="store_true", help="do not write samples.npz")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="recompute every experiment; by default a rerun into the same --out loads the "
        "experiments an earlier (e.g. interrupted) run finished with the same configuration "
        "from --out/checkpoints instead of recomputing them",
    )
    p.set_defaults(func=run)


def build_config(args):
    """The :class:`~jaxfb.reproduce.ReproduceConfig` of parsed arguments."""
    from ..reproduce import EXPERIMENTS, ReproduceConfig

    changes: dict = {}
    if args.draws is not None and args.draws < 2:
        raise ValueError(f"--draws must be >= 2, got {args.draws}")
    if args.experiments:
        unknown = [e for e in args.experiments if e not in EXPERIMENTS]
        if unknown:
            raise ValueError(f"unknown experiments {unknown}; choose from {list(EXPERIMENTS)}")
        changes.update({e: None for e in EXPERIMENTS if e not in args.experiments})
    if args.no_training:
        changes["training"] = None
    if not set(EXPERIMENTS) - set(changes):
        raise ValueError("--experiments and --no-training leave no experiment to run")
    if args.lengths:
        lengths = tuple(sorted(set(args.lengths)))
        if min(lengths) < 2:
            raise ValueError(f"--lengths must be >= 2 (log T is used), got {min(lengths)}")
        sweep = tuple(t for t in lengths if t & (t - 1) == 0) or (lengths[-1],)
        for e, sub in (("energy", {}), ("audio", {}), ("frames", {"sweep_lengths": sweep})):
            if e not in changes:
                changes[e] = {"lengths": lengths, **sub}
        changes.update(length_buckets=(), mode="custom")
    if args.audio and "audio" not in changes:
        changes["audio"] = {"files": tuple(args.audio)}
    if args.no_samples:
        changes["save_samples"] = False
    preset = ReproduceConfig.quick if args.quick else ReproduceConfig.full
    return preset(seed=args.seed, draws=args.draws, **changes)


def run(args) -> int:
    """Run ``jaxfb reproduce`` for parsed ``args`` and print where the report is.

    Announces the run on stderr (and each finished or loaded experiment as it goes), then prints
    the paths of ``report.md`` and ``report.html`` and every claim with its verdict on stdout.

    Args:
        args: the namespace of :func:`add_parser`'s parser.

    Returns:
        The exit status, ``0``. Bad arguments raise before any experiment runs:
        ``ValueError`` (an unreadable ``--audio`` file too), ``OSError`` for an unwritable
        ``--out``, ``FileNotFoundError`` for a missing ``--audio`` file; :func:`jaxfb.cli.main`
        reports them with exit status 2.
    """
    import time

    from ..reproduce import run as run_reproduction

    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    cfg = build_config(args)
    argv = _argv(args)
    print(
        f"jaxfb reproduce: {cfg.mode} run, seed {cfg.seed}, {cfg.draws} draws per point, "
        f"experiments {', '.join(cfg.experiments)} -> {args.out}",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    res = run_reproduction(
        cfg,
        args.out,
        argv=argv,
        log=lambda msg: print(f"  {msg}", file=sys.stderr, flush=True),
        resume=not args.fresh,
    )
    total = time.perf_counter() - t0
    resumed = f" ({', '.join(res.resumed)} loaded from checkpoints)" if res.resumed else ""
    print(
        f"wrote {len(res.figures)} figures (PNG, PDF, CSV), config.json and the report in "
        f"{total:.0f} s{resumed}:"
    )
    print(f"  {res.report_md}")
    print(f"  {res.report_html}")
    for c in res.claims:
        print(f"  [{c.verdict}] {c.statement}")
    return 0


def _argv(args) -> list[str]:
    out = ["jaxfb", "reproduce", "--out", str(args.out)]
    if args.quick:
        out.append("--quick")
    if args.draws is not None:
        out += ["--draws", str(args.draws)]
    out += ["--seed", str(args.seed)]
    if args.audio:
        out += ["--audio", *args.audio]
    if args.experiments:
        out += ["--experiments", ",".join(args.experiments)]
    if args.lengths:
        out += ["--lengths", ",".join(map(str, args.lengths))]
    if args.no_training:
        out.append("--no-training")
    if args.no_samples:
        out.append("--no-samples")
    if args.fresh:
        out.append("--fresh")
    return out
