"""Fit random filterbanks to a mel filterbank by gradient descent, with and without a penalty.

A thin wrapper of the library's training workflow (:func:`jaxfb.training.train_filterbanks`, also
run, with its figure, numbers and verdict, by ``jaxfb reproduce``). Each run starts from the paper's
Gaussian init (``J`` filters of length ``T``) and minimises, with Adam, the relative
power-spectrum error to the target ``h = jaxfb.mel_filterbank(J, T, sr)``

    fit(w) = sum_{j,k} (|w_hat_j(k)|^2 - |h_hat_j(k)|^2)^2 / sum_{j,k} |h_hat_j(k)|^4

(``n``-point grid, ``k = 0..n//2``; phase-free, as a learned front end would be judged), plus
``lam * log(jaxfb.smooth_condition_number(w, n, temperature=tau))``. ``lam = 0`` is the
unpenalised fit. Logged every step: the fit error, the true condition number ``kappa`` and the
smooth one. All seeds and penalty weights of one ``T`` train in one compiled, vmapped
``lax.scan``. The mel target itself is a poor frame (its Littlewood-Paley sum dips at Nyquist,
above the top band), so an exact fit inherits its ``kappa``; the penalty trades a little fit for
conditioning.

Writes ``train_filterbank.png``, ``.pdf``, ``.csv`` (the figure and its table: mean and standard
error over seeds per ``T`` and penalty weight), ``train_filterbank.json`` (config with its seed,
versions, device, timings, per-seed final numbers, the verdict) and ``train_filterbank.npz``
(trajectories) to ``--out``.

    python experiments/train_filterbank.py --out docs/figures          # full study (~2 CPU min)
    python experiments/train_filterbank.py --quick --out /tmp/tf       # ~15 s on a 2-core CPU
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
    p.add_argument("--quick", action="store_true", help="T = 32, 64, n = 256, 2 seeds, 150 steps")
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
        help="weights of log smooth kappa; must include 0 (default 0 0.01)",
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
