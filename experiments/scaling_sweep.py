"""The scaling-law sweeps of issue 5: condition numbers over (J, T) at N = T, N = 1024, N = 4096.

Runs :func:`jaxfb.montecarlo.sweep` (the engine: resumable, one ``.npz`` + ``.json`` per point)
with a precision target: each point draws ``min_draws, 2 min_draws, ...`` filterbanks until the
standard error of mean log kappa, and of mean kappa where ``Var[kappa]`` is finite (``J > 4``), is
under ``target_rse`` (1 %) of the mean. Then fits the scaling laws of :mod:`jaxfb.scaling` to each
setting with ``jaxfb fit`` (nonparametric bootstrap over the kept draws).

Writes, under ``--out`` (default ``results/scaling`` or ``results/scaling_quick_grid``):

- ``N_T/``, ``N1024/``, ``N4096/``: the sweeps (``summary.csv`` + point files);
- ``runs.json``: the configuration, the seed, versions, device and wall time of each setting;
- ``fit_N_T/``, ``fit_N1024/``, ``fit_N4096/``: what ``jaxfb fit`` writes (``fit.json`` and plots).

Usage::

    python experiments/scaling_sweep.py --quick          # scaled-down grid, a few CPU minutes
    python experiments/scaling_sweep.py                  # the issue's grid (see docs/scaling.md)
    python experiments/scaling_sweep.py --fit-only       # refit finished sweeps

Interrupted runs resume where they stopped (rerun the same command).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import jax

from jaxfb import montecarlo as mc
from jaxfb.montecarlo import _io

FULL = {
    "seed": 2025,
    "num_filters": [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256],
    "lengths": [2**k for k in range(1, 13)],  # 2 .. 4096
    "settings": {"N_T": "T", "N1024": 1024, "N4096": 4096},
    "target_rse": 0.01,
    "target_stats": ["log_kappa", "kappa"],
    "min_draws": 500,
    "max_draws": 2**18,
    "bootstrap": 200,
    "rule_min_length": 64,
}
QUICK = {
    **FULL,
    "num_filters": [2, 4, 8, 16, 32, 64],
    "lengths": [2**k for k in range(1, 9)],  # 2 .. 256
    "settings": {"N_T": "T", "N256": 256},
    "target_rse": 0.03,
    "min_draws": 200,
    "max_draws": 2**14,
    "bootstrap": 100,
    "rule_min_length": 16,
}


def simulate(cfg: dict, out: Path, progress: bool | None) -> dict:
    runs = {}
    path = out / "runs.json"
    if path.exists():
        runs = json.loads(path.read_text()).get("runs", {})
    for name, n in cfg["settings"].items():
        lengths = [T for T in cfg["lengths"] if n == "T" or T <= n]
        print(f"--- {name}: J = {cfg['num_filters']}, T = {lengths}, N = {n}", flush=True)
        t0 = time.perf_counter()
        table = mc.sweep(
            out / name,
            num_filters=cfg["num_filters"],
            length=lengths,
            n=n,
            num_draws=cfg["max_draws"],
            seed=cfg["seed"],
            target_rse=cfg["target_rse"],
            target_stats=cfg["target_stats"],
            min_draws=cfg["min_draws"],
            progress=progress,
        )
        wall = time.perf_counter() - t0
        runs[name] = {
            "N": n,
            "points": len(table["J"]),
            "draws": int(table["draws"].sum()),
            "wall_time_s_this_call": wall,
            "wall_time_s_sum_of_points": float(table["wall_time_s"].sum()),
        }
        print(f"{name}: {runs[name]}", flush=True)
        _io.save_json(
            path,
            {"script": "experiments/scaling_sweep.py", "config": cfg, "runs": runs,
             **_io.environment()},
        )  # fmt: skip
    return runs


def fit(cfg: dict, out: Path, settings) -> int:
    """Every law (bootstrap over the kept draws, jaxfb.theory's prediction scored beside them),
    then the J* rule again on ``T >= rule_min_length`` with scaled errors (``fit_large_T_*``)."""
    from jaxfb.cli import main

    rc = 0
    for name in settings:
        summary = out / name / "summary.csv"
        if not summary.exists():
            print(f"no sweep in {summary.parent}; run without --fit-only first", file=sys.stderr)
            return 2
        print(f"\n=== fit {name}", flush=True)
        args = ["fit", str(summary), "--out", str(out / f"fit_{name}"), "--samples", "files"]
        args += ["--bootstrap", str(cfg["bootstrap"]), "--seed", str(cfg["seed"]), "--theory"]
        rc = rc or main(args)
        print(f"\n=== J* rule on T >= {cfg['rule_min_length']}, {name}", flush=True)
        law = "orderstat" if name == "N_T" else "orderstat_n"
        args = ["fit", str(summary), "--out", str(out / f"fit_large_T_{name}"), "--no-plots"]
        args += ["--model", law, "--rule-min-length", str(cfg["rule_min_length"])]
        rc = rc or main([*args, "--scale-errors"])
    return rc


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the scaled-down grid")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--fit-only", action="store_true", help="refit finished sweeps")
    p.add_argument("--no-fit", action="store_true", help="simulate only")
    p.add_argument("--settings", help="comma-separated subset of the settings (e.g. N_T,N1024)")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None)
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    args = p.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    out = args.out or Path("results/scaling_quick_grid" if args.quick else "results/scaling")
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}; results -> {out}")
    settings = list(cfg["settings"])
    if args.settings:
        settings = [s.strip() for s in args.settings.split(",") if s.strip()]
        unknown = [s for s in settings if s not in cfg["settings"]]
        if unknown:
            p.error(f"--settings: unknown {unknown}; choose from {list(cfg['settings'])}")
        cfg = {**cfg, "settings": {s: cfg["settings"][s] for s in settings}}
    if not args.fit_only:
        simulate(cfg, out, args.progress)
    if args.no_fit:
        return 0
    return fit(cfg, out, settings)


if __name__ == "__main__":
    sys.exit(main())
