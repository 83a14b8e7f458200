"""The stability penalty's trade-off curve: filterbanks fitted to a mel target at many weights.

A thin wrapper of the library's training workflow (:func:`jaxfb.training.train_filterbanks`, which
runs :func:`jaxfb.training.penalty_tradeoff` at each length; also run, with its figure, numbers
and verdicts, by ``jaxfb reproduce``). Each run starts from the paper's Gaussian init (``J``
filters of length ``T``) and minimises, with Adam, the relative power-spectrum error to the target
``h = jaxfb.mel_filterbank(J, T, sr)``

    fit(w) = sum_{j,k} (|w_hat_j(k)|^2 - |h_hat_j(k)|^2)^2 / sum_{j,k} |h_hat_j(k)|^4

(``n``-point grid, ``k = 0..n//2``; phase-free, as a learned front end would be judged), plus
``lam * log(jaxfb.smooth_condition_number(w, n, temperature=tau))``, once per penalty weight
``lam`` (``0``: the unpenalised fit) and seed; the seeds' inits are shared by every weight. The
curve is the final fit error against the final condition number ``kappa``; an exact fit has the
mel target's own ``kappa``.

Writes ``train_filterbank.png``, ``.pdf`` (fit error against ``kappa``, one panel per ``T``),
``.csv`` (medians over seeds per ``T`` and weight, with paired factors and steps),
``train_filterbank.json`` (config with its seed, versions, device, timings, every run, the medians,
the verdicts) and ``train_filterbank.npz`` (every run) to ``--out``.

    python experiments/train_filterbank.py --out docs/figures          # full curve (minutes)
    python experiments/train_filterbank.py --quick --out /tmp/tf       # seconds on a 2-core CPU
"""

from __future__ import annotations

import argparse
import sys
import time

import jax

from jaxfb import io
from jaxfb.reproduce import save_training
from jaxfb.training import TrainingConfig, train_filterbanks

SEED = 20240705
OUT = "docs/figures"
FLAGS = ("seeds", "steps", "lengths", "penalty_weights", "temperature")


def _flag(field: str) -> str:
    """How an error names a config field: its flag, where it has one."""
    return "--" + field.replace("_", "-") if field in FLAGS else field


def main(argv: list[str] | None = None) -> dict:
    """Parse ``argv``, train, write the outputs to ``--out`` and print the verdicts.

    Args:
        argv: the command-line arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        The JSON sidecar written to ``--out/train_filterbank.json``, as a dict (config with
        its seed, versions, device, timings, per-seed results, claims).

    Raises:
        SystemExit: bad arguments or an unwritable ``--out`` (status 2, before training).
    """
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="T = 64, n = 256, 1000 steps")
    p.add_argument("--out", default=OUT, help=f"output directory (default {OUT})")
    p.add_argument("--seed", type=int, default=SEED, help=f"PRNG seed (default {SEED})")
    p.add_argument("--seeds", type=int, default=None, help="initialisations per point (>= 2)")
    p.add_argument("--steps", type=int, default=None, help="Adam steps")
    p.add_argument("--lengths", type=int, nargs="+", default=None, help="filter lengths T")
    p.add_argument(
        "--penalty-weights",
        type=float,
        nargs="+",
        default=None,
        help="weights of log smooth kappa; must include 0 (default 0 1e-5 1e-4 1e-3 1e-2 0.1)",
    )
    p.add_argument("--temperature", type=float, default=None, help="of the smooth kappa")
    a = p.parse_args(argv)
    if a.seed < 0:
        p.error(f"--seed must be >= 0, got {a.seed}")
    base = TrainingConfig.quick() if a.quick else TrainingConfig()
    values = {**base.to_dict()}
    for name in FLAGS:
        if getattr(a, name) is not None:
            values[name] = getattr(a, name)
    try:
        cfg = TrainingConfig.checked(values, label=_flag)
    except (TypeError, ValueError) as err:
        p.error(str(err))
    try:
        io.check_writable(a.out, argument="--out")  # fail before training, not after
    except OSError as err:
        p.error(str(err))
    t0 = time.perf_counter()
    res = train_filterbanks(jax.random.key(a.seed), cfg, log=lambda msg: print(msg, flush=True))
    given = sys.argv[1:] if argv is None else argv
    meta = save_training(
        res,
        a.out,
        seed=a.seed,
        extra={"quick": a.quick},
        argv=["python", "experiments/train_filterbank.py", *given],
    )
    for claim in meta["claims"]:
        print(f"[{claim['verdict']}] {claim['claim']}: {claim['finding']}")
    total = time.perf_counter() - t0
    print(f"wrote {a.out}/train_filterbank.{{png,pdf,csv,json,npz}} in {total:.1f} s")
    return meta


if __name__ == "__main__":
    main()
