"""The scaling-law sweeps of docs/scaling.md: condition numbers over (J, T) at N = T, 1024, 4096.

Runs :func:`jaxfb.montecarlo.sweep` (the engine: resumable, one ``.npz`` + ``.json`` per point)
with a precision target: each point draws ``min_draws, 2 min_draws, ...`` filterbanks until the
standard error of mean log kappa, and of mean kappa where ``Var[kappa]`` is finite (``J > 4``), is
under ``target_rse`` (1 %) of the mean. Then fits the scaling laws of :mod:`jaxfb.scaling` to each
setting with :func:`jaxfb.scaling.analyze` (nonparametric bootstrap over the kept draws).

Writes, under ``--out`` (default ``results/scaling`` or ``results/scaling_quick_grid``):

- ``N_T/``, ``N1024/``, ``N4096/``: the sweeps (``summary.csv`` + point files);
- ``runs.json``: the configuration, the seed, versions, device and wall time of each setting;
- ``fit_N_T/``, ``fit_N1024/``, ``fit_N4096/``: ``fit.json`` and plots of every law;
  ``fit_large_T_*/``: the J* rule on ``T >= rule_min_length`` (scaled errors);
- ``tables.md``: the tables of docs/scaling.md, from the ``fit.json`` files.

Usage::

    python experiments/scaling_sweep.py --quick          # scaled-down grid, a few CPU minutes
    python experiments/scaling_sweep.py                  # the full grid (see docs/scaling.md)
    python experiments/scaling_sweep.py --fit-only       # refit finished sweeps
    python experiments/scaling_sweep.py --fit-only --refit-from docs/figures/scaling_sweep

The last one refits without the point files (which are not committed): put the committed
``{setting}_summary.csv`` (``{setting}_tight_summary.csv`` with ``--tight``) at
``OUT/{setting}/summary.csv``; the laws are refitted without a bootstrap, each law keeps the
bootstrap of the committed ``{setting}[_tight]_fit.json`` if its fit is unchanged (same
parameters) or gets a parametric bootstrap (from the means and SEs) if it changed (the laws that
use jaxfb.theory's effective counts, after a change of the predictor), and ``fit.json`` records
under ``"refit"`` what was carried and every law's previous ``chi2/dof`` and parameters.

Interrupted runs resume where they stopped (rerun the same command).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np

import jaxfb
from jaxfb import io, scaling
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
TIGHT = {
    **FULL,
    "target_rse": 0.001,  # ten times tighter: about 100 times the draws
    "min_draws": 1000,
    "max_draws": 2**21,
    "bootstrap": 0,  # over 10**6 draws a point keeps histograms, not samples: delta-method CIs
    "tight_min_ratio": 4,  # fixed N: only the points with J >= 4 T
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


def _grids(cfg: dict, n) -> list[tuple[list[int], list[int]]]:
    """``[(Js, Ts)]``: the grid of a setting, or (``tight_min_ratio`` at fixed ``N``) one grid
    per ``T`` holding the ``J >= ratio T``."""
    lengths = [T for T in cfg["lengths"] if n == "T" or T <= n]
    ratio = cfg.get("tight_min_ratio")
    if ratio is None or n == "T":
        return [(cfg["num_filters"], lengths)]
    grids = [([J for J in cfg["num_filters"] if J >= ratio * T], [T]) for T in lengths]
    return [(Js, Ts) for Js, Ts in grids if Js]


def _sweep_setting(cfg: dict, folder: Path, n, progress: bool | None) -> dict:
    """Run (or resume) one setting's grids into ``folder``; its summary table (all grids)."""
    tables = []
    for Js, Ts in _grids(cfg, n):
        print(f"--- {folder.name}: J = {Js}, T = {Ts}, N = {n}", flush=True)
        tables.append(
            mc.sweep(
                folder,
                num_filters=Js,
                length=Ts,
                n=n,
                num_draws=cfg["max_draws"],
                seed=cfg["seed"],
                target_rse=cfg["target_rse"],
                target_stats=cfg["target_stats"],
                min_draws=cfg["min_draws"],
                progress=progress,
            )
        )
    table = {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}
    io.write_csv(folder / "summary.csv", table)  # every grid of the setting
    return table


def simulate(cfg: dict, out: Path, progress: bool | None) -> dict:
    runs = {}
    path = out / "runs.json"
    if path.exists():
        runs = io.load_json(path).get("runs", {})
    for name, n in cfg["settings"].items():
        t0 = time.perf_counter()
        table = _sweep_setting(cfg, out / name, n, progress)
        wall = time.perf_counter() - t0
        runs[name] = {
            "N": n,
            "points": len(table["J"]),
            "draws": int(table["draws"].sum()),
            "wall_time_s_this_call": wall,
            "wall_time_s_sum_of_points": float(table["wall_time_s"].sum()),
            "methods": {str(m): int((table["method"] == m).sum()) for m in set(table["method"])},
        }
        print(f"{name}: {runs[name]}", flush=True)
        record = {"script": "experiments/scaling_sweep.py", "config": cfg, "runs": runs}
        io.save_json(path, {**record, **jaxfb.environment()})
    return runs


def _same_params(new: dict, old: dict) -> bool:
    a, b = new.get("params"), old.get("params")
    if a is None or b is None or set(a) != set(b):
        return False
    return all(np.isclose(a[k], b[k], rtol=1e-9, atol=0.0) for k in a)


def _carry_bootstraps(cfg: dict, summary: Path, fit_json: Path, previous: Path) -> dict:
    """Give the refit in ``fit_json`` (fitted without a bootstrap) the bootstraps of the
    committed fit ``previous`` where a law's parameters are unchanged, and a parametric bootstrap
    where they changed; records what was done under ``"refit"``: the fits of ``previous``
    (``previous_fits``), those of the sweep's own run (``first_fits``, kept through every
    refit) and how many refits there have been (``refits``)."""
    report, old = io.load_json(fit_json), io.load_json(previous)
    carried, changed = [], []
    for law, m in report["models"].items():
        o = old["models"].get(law, {})
        if "bootstrap" not in o:
            continue
        if _same_params(m, o):
            m["bootstrap"] = o["bootstrap"]
            carried.append(law)
        else:
            changed.append(law)
    if changed and cfg["bootstrap"]:
        boot = scaling.analyze(
            summary,
            models=changed,
            bootstrap=cfg["bootstrap"],
            key=jax.random.key(cfg["seed"]),
            theory=False,
        ).to_dict()
        for law in changed:
            report["models"][law]["bootstrap"] = boot["models"][law]["bootstrap"]
    previous_fits = {
        law: {k: m[k] for k in ("reduced_chi2", "params") if k in m}
        for law, m in old["models"].items()
    }
    report["refit"] = {
        "previous": str(previous),
        "reason": "refitted from the summary without the point files (not committed)",
        "bootstrap_carried": carried,
        "bootstrap_parametric": changed,
        "previous_fits": previous_fits,
        # the fits of the sweep's own run, carried through every later refit
        "first_fits": old.get("refit", {}).get("first_fits")
        or old.get("refit", {}).get("previous_fits")
        or previous_fits,
        "refits": old.get("refit", {}).get("refits", 1) + 1 if "refit" in old else 1,
    }
    io.save_json(fit_json, report)
    return report["refit"]


def fit(cfg: dict, out: Path, settings, previous: Path | None = None, stem: str = "") -> int:
    """Every law (bootstrap over the kept draws, jaxfb.theory's prediction scored beside them),
    then the J* rule again on ``T >= rule_min_length`` with scaled errors (``fit_large_T_*``).
    With ``previous`` (a folder of committed ``{setting}{stem}_fit.json``), no point files are
    read: see :func:`_carry_bootstraps`.
    A setting whose fit fails is reported and the others still run; the return code is 1 then."""
    rc = 0
    extra = {"script": "experiments/scaling_sweep.py", "seed": cfg["seed"]}
    for name in settings:
        summary = out / name / "summary.csv"
        if not summary.exists():
            print(f"no sweep in {summary.parent}; run without --fit-only first", file=sys.stderr)
            return 2
        print(f"\n=== fit {name}", flush=True)
        law = "orderstat" if name == "N_T" else "orderstat_n"
        try:
            boot = 0 if previous else cfg["bootstrap"]
            every = scaling.analyze(
                summary,
                models="all",
                bootstrap=boot,
                samples="files" if boot else None,
                key=jax.random.key(cfg["seed"]),
                theory=True,
            )
            print(every.summary())
            written = every.save(out / f"fit_{name}", extra=extra)
            if previous:
                old = previous / f"{name}{stem}_fit.json"
                print(f"bootstraps: {_carry_bootstraps(cfg, summary, written[-1], old)}")
            print(f"\n=== J* rule on T >= {cfg['rule_min_length']}, {name}", flush=True)
            large = scaling.analyze(
                summary,
                models=[law],
                rule_min_length=cfg["rule_min_length"],
                absolute_sigma=False,
            )
            print(large.summary())
            large.save(out / f"fit_large_T_{name}", figures=False, extra=extra)
        except ValueError as err:  # reported; the other settings still run
            print(f"fit of {name} failed: {err}", file=sys.stderr)
            rc = 1
    return rc


def _pm(x, se, digits=3):
    return f"{x:.{digits}f} +- {se:.{digits}f}"


def tables(cfg: dict, out: Path, settings) -> str:
    """Markdown tables (laws, J* rule) from the ``fit.json`` files, for docs/scaling.md."""
    runs = io.load_json(out / "runs.json")["runs"]
    lines = []
    for name in settings:
        fit = io.load_json(out / f"fit_{name}" / "fit.json")
        large = io.load_json(out / f"fit_large_T_{name}" / "fit.json")
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
    io.atomic_write_text(out / "tables.md", text)
    return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the scaled-down grid")
    p.add_argument(
        "--tight",
        action="store_true",
        help="0.1%% standard error: N = T everywhere, fixed N where J >= 4 T",
    )
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--fit-only", action="store_true", help="refit finished sweeps")
    p.add_argument("--no-fit", action="store_true", help="simulate only")
    p.add_argument("--tables-only", action="store_true", help="write tables.md from the fits")
    p.add_argument(
        "--refit-from",
        type=Path,
        metavar="DIR",
        help="with --fit-only: refit without the point files, keeping the bootstraps of DIR's "
        "{setting}[_tight]_fit.json for unchanged laws (parametric bootstrap for changed ones)",
    )
    p.add_argument("--settings", help="comma-separated subset of the settings (e.g. N_T,N1024)")
    p.add_argument("--num-filters", help="comma-separated subset of J (e.g. the finished ones)")
    p.add_argument("--lengths", help="comma-separated subset of T")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None)
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    args = p.parse_args(argv)
    cfg = QUICK if args.quick else TIGHT if args.tight else FULL
    default = "scaling_quick_grid" if args.quick else "scaling_tight" if args.tight else "scaling"
    out = args.out or Path("results") / default
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}; results -> {out}")
    settings = list(cfg["settings"])
    if args.settings:
        settings = [s.strip() for s in args.settings.split(",") if s.strip()]
        unknown = [s for s in settings if s not in cfg["settings"]]
        if unknown:
            p.error(f"--settings: unknown {unknown}; choose from {list(cfg['settings'])}")
        cfg = {**cfg, "settings": {s: cfg["settings"][s] for s in settings}}
    for name, flag in (("num_filters", args.num_filters), ("lengths", args.lengths)):
        if flag:
            subset = [int(x) for x in flag.split(",") if x.strip()]
            unknown = sorted(set(subset) - set(cfg[name]))
            if unknown:
                p.error(f"--{name.replace('_', '-')}: {unknown} not in the grid {cfg[name]}")
            cfg = {**cfg, name: subset}
    if args.tables_only:
        print(tables(cfg, out, settings))
        return 0
    if not args.fit_only:
        simulate(cfg, out, args.progress)
    if args.no_fit:
        return 0
    if args.refit_from and not args.fit_only:
        p.error("--refit-from refits finished sweeps: add --fit-only")
    rc = fit(cfg, out, settings, args.refit_from, "_tight" if args.tight else "")
    if rc == 0:
        print(tables(cfg, out, settings))
    return rc


if __name__ == "__main__":
    sys.exit(main())
