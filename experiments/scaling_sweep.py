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

import jaxfb
from jaxfb import io as jio
from jaxfb import montecarlo as mc

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
        jio.save_json(
            path,
            {"script": "experiments/scaling_sweep.py", "config": cfg, "runs": runs,
             **jaxfb.environment()},
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
        rc = main(args) or rc  # every fit runs, whatever failed before
        print(f"\n=== J* rule on T >= {cfg['rule_min_length']}, {name}", flush=True)
        law = "orderstat" if name == "N_T" else "orderstat_n"
        args = ["fit", str(summary), "--out", str(out / f"fit_large_T_{name}"), "--no-plots"]
        args += ["--model", law, "--rule-min-length", str(cfg["rule_min_length"])]
        rc = main([*args, "--scale-errors"]) or rc
    return rc


def _pm(x, se, digits=3):
    return f"{x:.{digits}f} +- {se:.{digits}f}"


def tables(cfg: dict, out: Path, settings) -> str:
    """Markdown tables (laws, J* rule) from the ``fit.json`` files, for docs/scaling.md."""
    runs = json.loads((out / "runs.json").read_text())["runs"]
    lines = []
    for name in settings:
        fit = json.loads((out / f"fit_{name}" / "fit.json").read_text())
        large = json.loads((out / f"fit_large_T_{name}" / "fit.json").read_text())
        run = runs.get(name, {})
        lines += [f"#### {name}: N = {cfg['settings'][name]}", ""]
        lines += [
            f"{fit['num_points']} points, {run.get('draws', '?')} draws in all; simulation "
            f"{run.get('wall_time_s_sum_of_points', float('nan')) / 60:.1f} min (sum over points).",
            "",
            "| law | parameters (95 % delta-method CI; bootstrap CI) | chi2/dof | AIC - best |",
            "| --- | --- | ---: | ---: |",
        ]
        comp = fit["comparison"]
        for law in sorted(comp, key=lambda k: comp[k]["delta_aic"]):
            m = fit["models"][law]
            if "params" not in m:
                continue
            parts = []
            for k, v in m["params"].items():
                lo, hi = m["ci"][k]
                txt = f"`{k}` = {v:.4g} [{lo:.4g}, {hi:.4g}]"
                b = m.get("bootstrap", {})
                if "ci" in b:
                    txt += f"; [{b['ci'][k][0]:.4g}, {b['ci'][k][1]:.4g}]"
                parts.append(txt)
            params = "; ".join(parts) or "none (parameter-free)"
            lines.append(
                f"| `{law}` | {params} | {m['reduced_chi2']:.3g} | {comp[law]['delta_aic']:.4g} |"
            )
        lines += ["", "| `T` | " + " | ".join(f"`kappa0 = {k}`" for k in fit["critical"]) + " |"]
        lines += ["| ---: |" + " ---: |" * len(fit["critical"])]
        crit = list(fit["critical"].values())
        for i, T in enumerate(crit[0]["T"]):
            cells = []
            for c in crit:
                ok = c["status"][i] == "ok"
                cells.append(_pm(c["J_star"][i], c["se"][i], 1) if ok else c["status"][i])
            lines.append(f"| {T:g} | " + " | ".join(cells) + " |")
        lines += ["", "| `kappa0` | `b`, all `T` | `b`, `T >= "
                  f"{cfg['rule_min_length']}` (scaled errors) | power law `gamma`, `T >= "
                  f"{cfg['rule_min_length']}` | LR p-value, `T >= {cfg['rule_min_length']}` |",
                  "| --- | --- | --- | --- | --- |"]  # fmt: skip
        for k0, c in fit["critical"].items():
            cl = large["critical"].get(k0, {})
            cells = []
            for rule in (c.get("rule_log"), cl.get("rule_log")):
                if rule is None:
                    cells.append("too few `J*` points")
                else:
                    b, (lo, hi) = rule["params"]["b"], rule["ci"]["b"]
                    cells.append(f"{b:.4g} [{lo:.4g}, {hi:.4g}]")
            g = cl.get("rule_power")
            if g is None:
                cells += ["n/a", "n/a"]
            else:
                gname = list(g["params"])[-1]  # J* = a + b (T^gamma - 1) / gamma
                cells += [_pm(g["params"][gname], g["stderr"][gname]), f"{cl['p_value']:.2g}"]
            lines.append(f"| {k0} | " + " | ".join(cells) + " |")
        lines.append("")
    text = "\n".join(lines)
    (out / "tables.md").write_text(text)
    return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the scaled-down grid")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--fit-only", action="store_true", help="refit finished sweeps")
    p.add_argument("--no-fit", action="store_true", help="simulate only")
    p.add_argument("--tables-only", action="store_true", help="write tables.md from the fits")
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
    if args.tables_only:
        print(tables(cfg, out, settings))
        return 0
    if not args.fit_only:
        simulate(cfg, out, args.progress)
    if args.no_fit:
        return 0
    rc = fit(cfg, out, settings)
    if rc == 0:
        print(tables(cfg, out, settings))
    return rc


if __name__ == "__main__":
    sys.exit(main())
