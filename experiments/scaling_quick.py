"""A small real dataset for the scaling law of kappa and its fit (docs/scaling.md: Quick dataset).

Simulates the condition number of the paper's Gaussian filterbank with ``N = T`` on the grid
``J in {4, ..., 512}`` x ``T in {4, ..., 1024}`` (powers of two) with
``jaxfb.random_filterbank`` and ``jaxfb.condition_number``, then fits every scaling law of
:mod:`jaxfb.scaling` with :func:`jaxfb.scaling.analyze` (what ``jaxfb fit`` runs).

Writes, under ``--out`` (default ``results/scaling_quick``):

- ``summary.csv``: one row per ``(J, T)`` in the sweep engine's column layout
  (``J,T,N,init,draws,kappa_mean,kappa_se,log_kappa_mean,log_kappa_se,kappa_median``);
- ``samples.npz``: the per-draw ``log kappa`` of every point (for the nonparametric bootstrap);
- ``summary.json``: the JSON sidecar (config with its seed, versions, device, timings);
- ``fit/``: every law with a nonparametric bootstrap over the draws (400 resamples, seed 5) and
  the theory scored beside them (``fit.json`` and the PNG plots; the same as ``jaxfb fit
  summary.csv --model all --out fit --samples samples.npz --bootstrap 400 --seed 5 --theory``);
  ``fit_large_T/``: the J* rule refitted on ``T >= 64`` with scaled errors.

Usage::

    python experiments/scaling_quick.py            # simulate (about 2-4 CPU minutes) and fit
    python experiments/scaling_quick.py --fit-only # refit an existing summary.csv
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxfb
from jaxfb import io, scaling

CONFIG = {
    "seed": 5,
    "num_filters": [4, 8, 16, 32, 64, 128, 256, 512],
    "lengths": [4, 8, 16, 32, 64, 128, 256, 512, 1024],
    "n": "T",  # signal length N = T (the DFT coefficients are then independent)
    "init": "gaussian",
    # draws per point: clip(weights_budget // (J T), min_draws, max_draws)
    "weights_budget": 2**26,
    "min_draws": 1000,
    "max_draws": 4000,
    "chunk_weights": 2**23,  # filter weights held in memory per chunk
    "bootstrap": 400,
    "rule_min_length": 64,
}


def draws_for(J: int, T: int, cfg: dict) -> int:
    return int(min(cfg["max_draws"], max(cfg["min_draws"], cfg["weights_budget"] // (J * T))))


def _log_kappa_fn(J: int, T: int, batch: int):
    def fn(key):
        w = jaxfb.random_filterbank(key, J, T, batch_shape=(batch,))
        return jnp.log(jaxfb.condition_number(w, T))

    return jax.jit(fn)


def simulate(cfg: dict, out: Path) -> None:
    key = jax.random.key(cfg["seed"])
    rows, samples = [], {}
    t0 = time.perf_counter()
    timings = {}
    index = 0
    for J in cfg["num_filters"]:
        for T in cfg["lengths"]:
            draws = draws_for(J, T, cfg)
            chunk = max(1, min(draws, cfg["chunk_weights"] // (J * T)))
            nchunks = math.ceil(draws / chunk)
            fn = _log_kappa_fn(J, T, chunk)
            point_key = jax.random.fold_in(key, index)
            index += 1
            t = time.perf_counter()
            parts = [fn(jax.random.fold_in(point_key, c)) for c in range(nchunks)]
            logk = np.concatenate([np.asarray(p, np.float64) for p in parts])[:draws]
            timings[f"{J},{T}"] = time.perf_counter() - t
            kappa = np.exp(logk)
            rows.append(
                {
                    "J": J,
                    "T": T,
                    "N": T,
                    "init": cfg["init"],
                    "draws": draws,
                    "kappa_mean": kappa.mean(),
                    "kappa_se": kappa.std(ddof=1) / math.sqrt(draws),
                    "log_kappa_mean": logk.mean(),
                    "log_kappa_se": logk.std(ddof=1) / math.sqrt(draws),
                    "kappa_median": float(np.median(kappa)),
                }
            )
            samples[f"J{J}_T{T}"] = logk.astype(np.float32)
            print(
                f"J={J:4d} T={T:5d} draws={draws:5d}  E[log k]={logk.mean():.4f}  "
                f"E[k]={kappa.mean():.4f}  ({timings[f'{J},{T}']:.1f} s)",
                flush=True,
            )
    total = time.perf_counter() - t0
    io.check_writable(out, argument="--out")
    io.write_csv(out / "summary.csv", {c: [r[c] for r in rows] for c in rows[0]})
    io.save_npz(out / "samples.npz", samples)
    sidecar = {
        "script": "experiments/scaling_quick.py",
        "config": cfg,
        **jaxfb.environment(),
        "dtype": str(jnp.zeros(()).dtype),
        "timings_s": {"total": total, "per_point": timings},
    }
    io.save_json(out / "summary.json", sidecar)
    print(f"simulated {len(rows)} points in {total:.1f} s -> {out}")


def fit(cfg: dict, out: Path) -> int:
    """All laws with a nonparametric bootstrap over the draws, and the J* rule on all T; then the
    rule again on T >= ``rule_min_length`` only (``fit_large_T/``)."""
    summary = out / "summary.csv"
    every = scaling.analyze(
        summary,
        models="all",
        bootstrap=cfg["bootstrap"],
        samples=out / "samples.npz",
        key=jax.random.key(cfg["seed"]),
        theory=True,
    )
    print(every.summary())
    every.save(out / "fit", extra={"script": "experiments/scaling_quick.py", "seed": cfg["seed"]})
    print()
    large = scaling.analyze(
        summary,
        models=["orderstat"],
        rule_min_length=cfg["rule_min_length"],
        absolute_sigma=False,
    )
    print(large.summary())
    large.save(out / "fit_large_T", figures=False, extra={"script": "experiments/scaling_quick.py"})
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/scaling_quick"))
    parser.add_argument("--fit-only", action="store_true", help="refit an existing summary.csv")
    parser.add_argument("--no-fit", action="store_true", help="simulate only")
    args = parser.parse_args(argv)
    if not args.fit_only:
        simulate(CONFIG, args.out)
    if args.no_fit:
        return 0
    return fit(CONFIG, args.out)


if __name__ == "__main__":
    sys.exit(main())
