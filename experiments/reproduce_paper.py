"""Reproduce every figure of Haider et al. (2024) and check the paper's claims (issue 6).

A thin wrapper of :func:`jaxfb.reproduce.run` with the configuration spelled out: the paper's
sizes (``N = 1024``, ``J = 10`` for the energy experiments, ``J = 40`` for the frame bounds,
``T = 8, 16, ..., 1024``, 1000 draws per point) and an explicit seed. Writes, under ``--out``
(default ``results/reproduce_paper``): each figure as PNG, PDF and CSV, ``samples.npz``,
``config.json`` (config, versions, device, timings) and ``report.md`` / ``report.html``.

Usage::

    python experiments/reproduce_paper.py                  # the paper's sizes (~10-15 CPU min)
    python experiments/reproduce_paper.py --quick          # powers of two, 200 draws (~2 min)
    python experiments/reproduce_paper.py --quick --seed 1 --out results/quick_seed1

The same runs from the command line: ``jaxfb reproduce --out DIR [--quick]``.

``--with-training`` adds the training experiment of ``experiments/train_filterbank.py`` (fitting
filterbanks to a mel filterbank with and without the tightness penalty; its ``--quick`` sizes
with ``--quick``) to the same report, through :func:`jaxfb.reproduce.register_experiment`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

from jaxfb import reproduce

SEED = 2024

FULL = reproduce.ReproduceConfig.full(
    seed=SEED,
    draws=1000,
    energy_filters=10,
    frames_filters=40,
    kappa_filters=(5, 10, 40),
)
QUICK = reproduce.ReproduceConfig.quick(seed=SEED)


def _load_script(name: str):
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_jaxfb_experiment_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while executing it
    spec.loader.exec_module(module)
    return module


def training_experiment(config, key, *, progress):
    """``experiments/train_filterbank.py`` as a reproduction experiment (figure, table, numbers)."""
    tf = _load_script("train_filterbank")
    quick = config.mode == "quick"
    cfg = tf.Config(seed=config.seed, quick=quick, **(dict(tf.QUICK) if quick else {}))
    res = tf.run(cfg)
    rows = res["rows"]
    table = {
        "T": np.array([r["T"] for r in rows]),
        "penalty_weight": np.array([r["penalty_weight"] for r in rows]),
        "fit_final_median": np.array([r["fit_final_median"] for r in rows]),
        "kappa_final_median": np.array([r["kappa_final_median"] for r in rows]),
        "kappa_target": np.array([r["kappa_target"] for r in rows]),
        "kappa_init_median": np.array([float(np.median(r["kappa_init"])) for r in rows]),
    }

    def write(base: Path) -> None:
        tf.plot(cfg, res, base.with_suffix(".png"))
        tf.plot(cfg, res, base.with_suffix(".pdf"))

    numbers = [
        reproduce.KeyNumber(
            f"Median condition number after training, T = {r['T']}, "
            f"penalty {r['penalty_weight']:g}",
            r["kappa_final_median"],
            None,
            "train_filterbank",
            {"T": r["T"], "penalty_weight": r["penalty_weight"]},
            "kappa_final_median",
            f"mel target {r['kappa_target']:.3g}; fit error {r['fit_final_median']:.2e}",
        )
        for r in rows
        if r["T"] == max(cfg.lengths)
    ]
    return reproduce.ExperimentOutput(
        figures=[
            reproduce.FigureOutput(
                "train_filterbank",
                "Training random filterbanks with a tightness penalty",
                f"{cfg.num_filters} filters fitted to a mel filterbank by Adam from the paper's "
                "random init, with and without the smooth condition-number penalty "
                "(experiments/train_filterbank.py).",
                write,
                table,
            )
        ],
        numbers=numbers,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/reproduce_paper")
    parser.add_argument("--quick", action="store_true", help="powers of two, 200 draws")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--with-training", action="store_true", help="add experiments/train_filterbank.py"
    )
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    command = ["python", "experiments/reproduce_paper.py", *given]
    config = (QUICK if args.quick else FULL).replace(seed=args.seed)
    if args.with_training:
        reproduce.register_experiment("training", training_experiment, overwrite=True)
        config = config.replace(experiments=(*config.experiments, "training"))
    res = reproduce.run(
        config,
        args.out,
        argv=command,
        log=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    print(res.report_md)
    for claim in res.claims:
        print(f"[{claim.verdict}] {claim.claim}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
