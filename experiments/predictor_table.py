"""Frame-bound predictions against Monte Carlo: jaxfb's predictor, the exact T = N law, the paper's.

For every ``J in {2, 3, 4, 8, 16, 40, 64, 128, 256}``, ``T in {2, 4, ..., 4096}`` and
``N in {T, 1024, 4096}`` (``T <= N``), simulates ``A``, ``B``, ``kappa = B/A`` with
``jaxfb.random_filterbank`` + ``jaxfb.frame_bounds`` (one jitted batch per point, fixed seed),
and compares the means with

- ``jaxfb.theory.expected_frame_bounds`` / ``expected_condition_number`` /
  ``expected_log_condition_number`` / ``median_condition_number`` (exact when ``T = N``),
- the paper's approximations: extremes of ``T`` i.i.d. ``chi2_J / J``
  (``paper_expected_frame_bounds``), ``1 -/+ 2 sqrt(log T / J)`` and ``kappa_tilde``.

Writes ``docs/predictor_table.csv`` (one row per point), ``docs/predictor_table.md`` (summary and
full table), ``docs/predictor_table.json`` (sidecar: config, seed, versions, device, timings,
summary) and ``docs/figures/frame_bounds_theory.png``.

``--calibrate`` instead re-runs the calibration of the predictor's model constant (the
edge-neighbourhood width ``jaxfb.theory.EDGE_WIDTH`` and its rate ``EDGE_WIDTH_RATE``, the
``edge_width`` / ``edge_width_rate`` of ``jaxfb.theory.frame_bound_distribution``): Monte Carlo on
a separate grid with a separate seed, then a grid search minimising the summed squared z-scores
of ``E[A]`` and ``E[B]``; it writes ``docs/predictor_calibration.json``.

Every file is written through ``jaxfb.io`` (atomic; JSON with ``"nan"``/``"inf"`` strings).

Usage::

    python experiments/predictor_table.py               # full table (~20-40 CPU minutes)
    python experiments/predictor_table.py --quick       # a small subset (~2 minutes)
    python experiments/predictor_table.py --calibrate   # re-derive the model constant
    python experiments/predictor_table.py --plot-only   # redraw the figure from the CSV

Draws per point: ``10000`` for ``J <= 2``, ``20000`` for ``J in {3, 4}`` (heavy tails:
``Var[kappa] = inf``, the SE column is then only indicative; compare the median and
``E[log kappa]`` there) and
``clip(filters_budget // J, min_draws, max_draws)`` otherwise, at most ``big_draws`` once
``J N >= big_JN``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from functools import partial
from pathlib import Path

import jax
import numpy as np

import jaxfb
from jaxfb import io, theory

ROOT = Path(__file__).resolve().parents[1]

CONFIG = {
    "seed": 20240917,
    "num_filters": [2, 3, 4, 8, 16, 40, 64, 128, 256],
    "lengths": [2**k for k in range(1, 13)],
    "n": ["T", 1024, 4096],
    "init": "gaussian",
    "heavy_tail_J": 4,
    "heavy_tail_draws": 20000,
    "filters_budget": 40000,
    "min_draws": 200,
    "max_draws": 5000,
    "big_JN": 256 * 2048,
    "big_draws": 200,
    "batch_weights": 2**24,  # at most this many weights per jitted batch
    "dtype": "float32",
}

QUICK = dict(CONFIG, num_filters=[3, 8, 40], lengths=[4, 32, 256], n=["T", 1024])

CALIBRATION = {
    "seed": 77,
    "num_filters": [3, 8, 40, 256],
    "lengths": [4, 8, 32, 128],
    "oversampling": [2, 4, 16],  # N = r T, plus N = 1024 and 4096
    "n_fixed": [1024, 4096],
    "draws_budget": 3e7,  # draws = clip(budget / (J N), 300, 4000)
    "edge_width": [1.3, 1.4, 1.5, 1.6],
    "edge_width_rate": [0.5, 1.0, 2.0],
}


def points(cfg: dict) -> list[tuple[int, int, int]]:
    out = []
    for J, T in itertools.product(cfg["num_filters"], cfg["lengths"]):
        ns = sorted({T if n == "T" else n for n in cfg["n"]})
        out += [(J, T, N) for N in ns if N >= T]
    return out


def draws_for(J: int, N: int, cfg: dict) -> int:
    if J <= 2:  # E[kappa] = inf: only the median and E[log kappa] are compared
        return cfg["heavy_tail_draws"] // 2
    if J <= cfg["heavy_tail_J"]:
        return cfg["heavy_tail_draws"]
    d = int(np.clip(cfg["filters_budget"] // J, cfg["min_draws"], cfg["max_draws"]))
    if J * N >= cfg["big_JN"]:
        d = min(d, cfg["big_draws"])
    return d


@partial(jax.jit, static_argnames=("J", "T", "N", "batch"))
def _bounds(key, J, T, N, batch):
    w = jaxfb.random_filterbank(key, J, T, batch_shape=(batch,))
    return jaxfb.frame_bounds(w, N)


def simulate(J: int, T: int, N: int, draws: int, seed: int, batch_weights: int):
    """``(A, B)``, float64, ``draws`` samples; the key is folded from ``(seed, J, T, N)``."""
    batch = max(1, min(draws, batch_weights // (J * T)))
    n_batches = -(-draws // batch)
    key = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), J), T), N)
    A, B = [], []
    for k in jax.random.split(key, n_batches):
        lo, hi = _bounds(k, J, T, N, batch)
        A.append(np.asarray(lo, np.float64))
        B.append(np.asarray(hi, np.float64))
    return np.concatenate(A)[:draws], np.concatenate(B)[:draws]


def _mean_se(x):
    return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(x.size))


def _median_ci(x):
    """Median and a distribution-free 95% CI from order statistics (normal approx. of ranks)."""
    xs = np.sort(x)
    n = xs.size
    half = 1.959963984540054 * math.sqrt(n) / 2
    lo = xs[max(0, math.floor(n / 2 - half))]
    hi = xs[min(n - 1, math.ceil(n / 2 + half))]
    return float(np.median(xs)), float(lo), float(hi)


def row_for(J, T, N, cfg, seed):
    draws = draws_for(J, N, cfg)
    t0 = time.perf_counter()
    A, B = simulate(J, T, N, draws, seed, cfg["batch_weights"])
    t_mc = time.perf_counter() - t0
    kappa = B / A
    t0 = time.perf_counter()
    lo, hi = theory.expected_frame_bounds(J, T, N)
    pk = float(theory.expected_condition_number(J, T, N))
    plog = float(theory.expected_log_condition_number(J, T, N))
    pmed = float(theory.median_condition_number(J, T, N))
    counts = theory.effective_counts(J, T, N)
    plo, phi = theory.paper_expected_frame_bounds(J, T)
    alo, ahi = theory.paper_asymptotic_bounds(J, T)
    kt = float(theory.kappa_tilde(J, T))
    t_th = time.perf_counter() - t0
    mA, sA = _mean_se(A)
    mB, sB = _mean_se(B)
    mk, sk = _mean_se(kappa)
    ml, sl = _mean_se(np.log(kappa))
    med, med_lo, med_hi = _median_ci(kappa)
    return {
        "J": J,
        "T": T,
        "N": N,
        "exact": int(T == N or T <= 2),
        "draws": draws,
        "mc_A": mA,
        "mc_A_se": sA,
        "mc_B": mB,
        "mc_B_se": sB,
        "mc_kappa": mk,
        "mc_kappa_se": sk,
        "mc_log_kappa": ml,
        "mc_log_kappa_se": sl,
        "mc_kappa_median": med,
        "mc_kappa_median_lo": med_lo,
        "mc_kappa_median_hi": med_hi,
        "mc_ratio_of_means": mB / mA,
        "pred_A": float(lo),
        "pred_B": float(hi),
        "pred_kappa": pk,
        "pred_log_kappa": plog,
        "pred_kappa_median": pmed,
        "count_A": float(counts.lower),
        "count_B": float(counts.upper),
        "paper_A": float(plo),
        "paper_B": float(phi),
        "paper_asym_A": float(alo),
        "paper_asym_B": float(ahi),
        "kappa_tilde": kt,
        "err_A": float(lo) / mA - 1,
        "err_B": float(hi) / mB - 1,
        "err_kappa": pk / mk - 1 if math.isfinite(pk) else math.nan,
        "err_log_kappa": plog - ml,
        "err_median": pmed / med - 1,
        "err_kappa_tilde": kt / mk - 1 if math.isfinite(kt) else math.inf,
        "seconds_mc": t_mc,
        "seconds_theory": t_th,
    }


# ---------------------------------------------------------------------------------------------
# outputs


def _fmt(x, se=None, digits=4):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    s = f"{x:.{digits}g}"
    return s if se is None else f"{s} ± {se:.2g}"


def _pct(e):
    if isinstance(e, float) and math.isinf(e):
        return "undef."
    if isinstance(e, float) and math.isnan(e):
        return "—"
    return f"{100 * e:+.1f}%"


def summarise(rows: list[dict]) -> dict:
    def worst(sel, key):
        vals = [(abs(r[key]), r) for r in rows if sel(r) and math.isfinite(r[key])]
        if not vals:
            return None
        v, r = max(vals, key=lambda t: t[0])
        se_key = {"err_A": "mc_A_se", "err_B": "mc_B_se", "err_kappa": "mc_kappa_se"}.get(key)
        rel_se = (
            r[se_key] / r[{"mc_A_se": "mc_A", "mc_B_se": "mc_B", "mc_kappa_se": "mc_kappa"}[se_key]]
            if se_key
            else None
        )
        return {"abs_err": v, "J": r["J"], "T": r["T"], "N": r["N"], "rel_se": rel_se}

    out = {}
    groups = {
        "J>=8, T<N": lambda r: r["J"] >= 8 and not r["exact"],
        "J in {3,4}, T<N": lambda r: r["J"] in (3, 4) and not r["exact"],
        "J=2, T<N": lambda r: r["J"] == 2 and not r["exact"],
        "exact (T=N or T=2)": lambda r: bool(r["exact"]),
    }
    for name, sel in groups.items():
        out[name] = {
            k: worst(sel, k) for k in ("err_A", "err_B", "err_kappa", "err_log_kappa", "err_median")
        }
        kt = [r["err_kappa_tilde"] for r in rows if sel(r)]
        out[name]["kappa_tilde_undefined"] = int(sum(math.isinf(e) for e in kt))
        fin = [abs(e) for e in kt if math.isfinite(e)]
        out[name]["kappa_tilde_max_abs_err"] = max(fin) if fin else None
        out[name]["points"] = sum(1 for r in rows if sel(r))
        z = [
            abs(r["err_kappa"] * r["mc_kappa"] / r["mc_kappa_se"])
            for r in rows
            if sel(r) and r["J"] > 4 and math.isfinite(r["err_kappa"])
        ]
        out[name]["max_abs_z_kappa"] = max(z) if z else None
    return out


def write_rows(rows: list[dict], path: Path) -> None:
    io.write_csv(path, {k: [r[k] for r in rows] for k in rows[0]})


def read_rows(path: Path) -> list[dict]:
    table = io.read_csv(path)
    return [
        dict(zip(table, values, strict=True))
        for values in zip(*(c.tolist() for c in table.values()), strict=True)
    ]


def write_markdown(rows, summary, meta, path: Path):
    L = []
    L.append("# Frame-bound predictor against Monte Carlo\n")
    L.append(
        "Generated by `experiments/predictor_table.py` (seed "
        f"{meta['config']['seed']}, {len(rows)} points, {meta['timings']['total_s']:.0f} s on "
        f"{meta['device']}). `pred` is `jaxfb.theory.expected_frame_bounds` / "
        "`expected_condition_number` (exact when `T = N` or `T = 2`, the effective-count model "
        "otherwise); `kappa_tilde` is the paper's approximation. Errors are relative to the Monte "
        "Carlo mean; `±` is one standard error. For `J <= 4` the variance of `kappa` is infinite, "
        "so its SE is only indicative (compare `E[log kappa]` and the median there); for `J <= 2` "
        "the mean itself is infinite.\n"
    )
    L.append("## Summary: largest absolute relative error per group\n")
    L.append(
        "| group | points | E[A] | E[B] | E[kappa] | E[log kappa] (abs.) | median kappa | "
        "kappa_tilde max err | kappa_tilde undefined | max abs z (E[kappa], J>4) |"
    )
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for name, s in summary.items():

        def cell(k, pct=True, s=s):
            v = s[k]
            if v is None:
                return "—"
            where = f" (J={v['J']}, T={v['T']}, N={v['N']})"
            return (f"{100 * v['abs_err']:.1f}%" if pct else f"{v['abs_err']:.3f}") + where

        kt = s["kappa_tilde_max_abs_err"]
        z = s["max_abs_z_kappa"]
        L.append(
            f"| {name} | {s['points']} | {cell('err_A')} | {cell('err_B')} | {cell('err_kappa')} | "
            f"{cell('err_log_kappa', pct=False)} | {cell('err_median')} | "
            f"{'—' if kt is None else f'{100 * kt:.0f}%'} | {s['kappa_tilde_undefined']} | "
            f"{'—' if z is None else f'{z:.1f}'} |"
        )
    L.append("")
    L.append("## All points\n")
    L.append(
        "| J | T | N | draws | MC E[A] | pred | err | MC E[B] | pred | err | MC E[kappa] | pred | "
        "err | kappa_tilde | MC E[log kappa] | pred | MC median | pred | m_A | m_B |"
    )
    L.append("|" + "---|" * 20)
    for r in rows:
        L.append(
            f"| {r['J']} | {r['T']} | {r['N']}{'*' if r['exact'] else ''} | {r['draws']} | "
            f"{_fmt(r['mc_A'], r['mc_A_se'])} | {_fmt(r['pred_A'])} | {_pct(r['err_A'])} | "
            f"{_fmt(r['mc_B'], r['mc_B_se'])} | {_fmt(r['pred_B'])} | {_pct(r['err_B'])} | "
            f"{_fmt(r['mc_kappa'], r['mc_kappa_se'])} | {_fmt(r['pred_kappa'])} | "
            f"{_pct(r['err_kappa'])} | {_fmt(r['kappa_tilde'])} | "
            f"{_fmt(r['mc_log_kappa'], r['mc_log_kappa_se'])} | {_fmt(r['pred_log_kappa'])} | "
            f"{_fmt(r['mc_kappa_median'])} | {_fmt(r['pred_kappa_median'])} | "
            f"{r['count_A']:.4g} | {r['count_B']:.4g} |"
        )
    L.append("\n`*`: exact law (`T = N`, or `T = 2` with even `N`).\n")
    io.atomic_write_text(path, "\n".join(L))


def plot(rows, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    ax = axes[0]
    J, N = 40, 1024
    sel = sorted((r for r in rows if r["J"] == J and r["N"] == N), key=lambda r: r["T"])
    if sel:
        T = np.array([r["T"] for r in sel], float)
        Tf = np.unique(np.round(np.geomspace(2, N, 60)).astype(int))
        fb = theory.expected_frame_bounds(J, Tf, N)
        pap = theory.paper_expected_frame_bounds(J, Tf)
        asy = theory.paper_asymptotic_bounds(J, Tf)
        for key, col, lab in (("A", "C0", "A"), ("B", "C3", "B")):
            ax.errorbar(
                T,
                [r[f"mc_{key}"] for r in sel],
                yerr=[5 * r[f"mc_{key}_se"] for r in sel],
                fmt="o",
                color=col,
                ms=4,
                label=f"Monte Carlo E[{lab}] (±5 SE)",
            )
        ax.plot(Tf, fb.lower, "-", color="C0", label="jaxfb predictor")
        ax.plot(Tf, fb.upper, "-", color="C3")
        ax.plot(
            Tf, pap.lower, "--", color="C0", alpha=0.7, label="paper: extremes of T iid chi2_J/J"
        )
        ax.plot(Tf, pap.upper, "--", color="C3", alpha=0.7)
        ax.plot(Tf, asy.lower, ":", color="C0", label="paper: 1 ∓ 2 sqrt(log T / J)")
        ax.plot(Tf, asy.upper, ":", color="C3")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("filter length T")
        ax.set_ylabel("frame bound")
        ax.set_title(f"Expected frame bounds, J = {J}, N = {N}")
        ax.set_ylim(0, 2.2)
        ax.legend(fontsize=7, loc="upper left")
    ax = axes[1]
    for J, col in ((8, "C2"), (40, "C1"), (256, "C4")):
        sel = sorted((r for r in rows if r["J"] == J and r["N"] == 1024), key=lambda r: r["T"])
        if not sel:
            continue
        T = np.array([r["T"] for r in sel], float)
        ax.errorbar(
            T,
            [r["mc_kappa"] for r in sel],
            yerr=[5 * r["mc_kappa_se"] for r in sel],
            fmt="o",
            color=col,
            ms=4,
            label=f"J = {J}: Monte Carlo",
        )
        Tf = np.unique(np.round(np.geomspace(2, 1024, 40)).astype(int))
        ax.plot(
            Tf,
            theory.expected_condition_number(J, Tf, 1024),
            "-",
            color=col,
            label=f"J = {J}: jaxfb predictor",
        )
        kt = np.asarray(theory.kappa_tilde(J, Tf))
        ax.plot(
            Tf[np.isfinite(kt)],
            kt[np.isfinite(kt)],
            "--",
            color=col,
            alpha=0.7,
            label=f"J = {J}: paper kappa_tilde",
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("filter length T")
    ax.set_ylabel("E[kappa]")
    ax.set_title("Mean condition number, N = 1024")
    ax.legend(fontsize=7, ncol=1, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def meta_for(cfg, timings, summary=None):
    return {
        "script": "experiments/predictor_table.py",
        "config": cfg,
        "model_constants": {
            "EDGE_WIDTH": theory.EDGE_WIDTH,
            "EDGE_WIDTH_RATE": theory.EDGE_WIDTH_RATE,
        },
        **jaxfb.environment(),
        "timings": timings,
        "summary": summary,
    }


# ---------------------------------------------------------------------------------------------
# calibration of the model constant


def calibrate(out: Path) -> int:
    cfg = CALIBRATION
    grid = []
    for J, T in itertools.product(cfg["num_filters"], cfg["lengths"]):
        for N in sorted({r * T for r in cfg["oversampling"]} | set(cfg["n_fixed"])):
            if N > T:
                grid.append((J, T, N))
    t0 = time.perf_counter()
    data = []
    for J, T, N in grid:
        draws = int(np.clip(cfg["draws_budget"] / (J * N), 300, 4000))
        A, B = simulate(J, T, N, draws, cfg["seed"], CONFIG["batch_weights"])
        data.append((J, T, N, draws, *_mean_se(A), *_mean_se(B)))
        print(f"calib MC J={J} T={T} N={N} draws={draws}", flush=True)
    t_mc = time.perf_counter() - t0
    results = []
    for c, beta in itertools.product(cfg["edge_width"], cfg["edge_width_rate"]):
        chi2 = 0.0
        worst = 0.0
        for J, T, N, _, mA, sA, mB, sB in data:
            law = theory.frame_bound_distribution(
                J, N, length=T, edge_width=c, edge_width_rate=beta
            )
            eA, eB = law.mean_lower(), law.mean_upper()
            chi2 += ((eA - mA) / sA) ** 2 + ((eB - mB) / sB) ** 2
            worst = max(worst, abs(eA / mA - 1), abs(eB / mB - 1))
        results.append(
            {"edge_width": c, "edge_width_rate": beta, "chi2": chi2, "max_rel_err": worst}
        )
        print(f"c={c} beta={beta} chi2={chi2:.1f} max_rel_err={worst:.3f}", flush=True)
    best = min(results, key=lambda r: r["chi2"])
    meta = meta_for(cfg, {"monte_carlo_s": t_mc, "total_s": time.perf_counter() - t0})
    meta.update(
        {
            "points": len(grid),
            "dof": 2 * len(grid),
            "grid_search": results,
            "best": best,
            "data": [
                dict(zip(("J", "T", "N", "draws", "A", "A_se", "B", "B_se"), d, strict=True))
                for d in data
            ],
        }
    )
    io.save_json(out / "predictor_calibration.json", meta)
    print("best", best)
    return 0


# ---------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    ap.add_argument("--quick", action="store_true", help="a small subset of the grid")
    ap.add_argument("--calibrate", action="store_true", help="re-derive the model constant")
    ap.add_argument("--plot-only", action="store_true", help="redraw the figure from the CSV")
    args = ap.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.calibrate:
        return calibrate(out)
    stem = "predictor_table_quick" if args.quick else "predictor_table"
    figure = (
        out
        / "figures"
        / ("frame_bounds_theory_quick.png" if args.quick else "frame_bounds_theory.png")
    )
    if args.plot_only:
        plot(read_rows(out / f"{stem}.csv"), figure)
        return 0
    cfg = QUICK if args.quick else CONFIG
    t_start = time.perf_counter()
    rows = []
    for J, T, N in points(cfg):
        r = row_for(J, T, N, cfg, cfg["seed"])
        rows.append(r)
        print(
            f"J={J:3d} T={T:4d} N={N:4d} draws={r['draws']:5d}  A {_pct(r['err_A'])}  "
            f"B {_pct(r['err_B'])}  kappa {_pct(r['err_kappa'])} "
            f"(SE {r['mc_kappa_se'] / r['mc_kappa']:.1%})"
            f"  log {r['err_log_kappa']:+.3f}  kt {_pct(r['err_kappa_tilde'])}  "
            f"[{r['seconds_mc']:.1f}s mc, {r['seconds_theory']:.1f}s th]",
            flush=True,
        )
    total = time.perf_counter() - t_start
    timings = {
        "total_s": total,
        "monte_carlo_s": sum(r["seconds_mc"] for r in rows),
        "theory_s": sum(r["seconds_theory"] for r in rows),
    }
    summary = summarise(rows)
    meta = meta_for(cfg, timings, summary)
    write_rows(rows, out / f"{stem}.csv")
    write_markdown(rows, summary, meta, out / f"{stem}.md")
    io.save_json(out / f"{stem}.json", meta)
    plot(rows, figure)
    print(io.to_json(summary))
    print(f"total {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
