"""Reproduce every figure of Haider et al. (2024) and check the paper's claims.

A thin wrapper of :func:`jaxfb.reproduce.run` with the configuration spelled out: the paper's
sizes (``N = 1024``, ``J = 10`` for the energy experiments, ``J = 40`` for the frame bounds,
``T = 8, 16, ..., 1024``, 1000 draws per point) and an explicit seed, plus the training
experiment (``J = 40`` random filterbanks fitted to a mel filterbank by Adam with and
without the stability penalty, ``T = 32, 128, 512, 1024``, 3 seeds, 3000 steps, as in
``jaxfb reproduce``; ``experiments/train_filterbank.py`` also runs ``T = 64, 256``; its
``--quick`` sizes with ``--quick``). Writes, under
``--out`` (default ``results/reproduce_paper``): each figure as PNG, PDF and CSV,
``samples.npz``, ``config.json`` (config, versions, device, timings) and ``report.md`` /
``report.html``.

Usage::

    python experiments/reproduce_paper.py                  # the paper's sizes (~7-10 CPU min)
    python experiments/reproduce_paper.py --quick          # powers of two, 200 draws (~1 min)
    python experiments/reproduce_paper.py --quick --seed 1 --out results/quick_seed1
    python experiments/reproduce_paper.py --no-training    # the paper's experiments only

The same runs from the command line: ``jaxfb reproduce --out DIR [--quick] [--no-training]``.
``--with-training`` is accepted for old command lines and changes nothing: the training
experiment is part of every run unless ``--no-training`` is given.
"""

from __future__ import annotations

import argparse
import sys

from jaxfb import reproduce
from jaxfb.training import TrainingConfig

SEED = 2024

FULL = reproduce.ReproduceConfig.full(
    seed=SEED,
    draws=1000,
    energy=reproduce.EnergyConfig(filters=10),
    frames=reproduce.FramesConfig(filters=40, kappa_filters=(5, 10, 40)),
    training=TrainingConfig(
        num_filters=40,
        lengths=(32, 128, 512, 1024),
        n=1024,
        seeds=3,
        steps=3000,
        penalty_weights=(0.0, 0.01),
    ),
)
QUICK = reproduce.ReproduceConfig.quick(seed=SEED)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/reproduce_paper")
    parser.add_argument("--quick", action="store_true", help="powers of two, 200 draws")
    parser.add_argument("--seed", type=int, default=SEED)
    training = parser.add_mutually_exclusive_group()
    training.add_argument(
        "--with-training",
        action="store_true",
        help="no-op, kept for old command lines: the training runs unless --no-training",
    )
    training.add_argument(
        "--no-training", action="store_true", help="leave out the training experiment"
    )
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    given = sys.argv[1:] if argv is None else argv
    command = ["python", "experiments/reproduce_paper.py", *given]
    config = QUICK if args.quick else FULL
    config = config.replace(seed=args.seed, **({"training": None} if args.no_training else {}))
    res = reproduce.run(
        config,
        args.out,
        argv=command,
        log=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    print(res.report_md)
    for claim in res.claims:
        print(f"[{claim.verdict}] {claim.statement}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
