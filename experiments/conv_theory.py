"""Frame-bound theory of random conv layers against Monte Carlo: grid, holdout, figure.

For each point ``(J, C, d, T, n)`` (``J`` output channels, ``C`` input channels, stride ``d``,
``T`` taps, circular signals of length ``n``) draws layers at the paper's init
(Gaussian weights of variance ``1/(J T)``, drawn exactly and cheaply as
``jaxfb.equivalent_filterbank(key, J, T, in_channels=C)``: ``min(J, C T)`` rows with the law of
the ``J`` filters' Gram matrix), computes their exact frame bounds (``jaxfb.conv_frame_bounds``)
through ``jaxfb.montecarlo.monte_carlo``, and
compares ``E[A]``, ``E[B]``, ``E[kappa]`` with ``jaxfb.theory.expected_frame_bounds`` /
``expected_condition_number`` (exact when ``T = n``, the effective-count predictor when
``T < n``) and the Marchenko-Pastur edges. Nothing in the theory is fitted to these runs; the
first eight holdout points (other ``C``, ``d = 3``, other ``n``) were chosen after the grid, the
last six (``T / d`` from 2 to 4) after the predictor's change for short polyphase components,
and were not looked at while making it.

Writes ``conv_theory.json`` (config, versions, timings, rows, theory curves) and
``conv_theory.csv`` (the error table) and, from them, ``conv_theory_table.md`` (the table of
docs/conv_theory.md) and ``conv_theory.png`` to ``--out`` (default ``docs/figures``).

    python experiments/conv_theory.py                 # grid + holdout, 800 draws a point
    python experiments/conv_theory.py --draws 100     # quick look
    python experiments/conv_theory.py --plot-only     # redraw the figure from the JSON
    python experiments/conv_theory.py --curves-only   # complete the theory curves, redraw
    python experiments/conv_theory.py --theory-only   # recompute the theory, keep the MC
"""

from __future__ import annotations

import os

# Many small LAPACK eigenproblems: threaded BLAS only oversubscribes the cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import platform
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import jax
import numpy as np

import jaxfb
from jaxfb import io, theory
from jaxfb import montecarlo as mc


def _grid_points() -> list[tuple[int, int, int, int, int]]:
    """The documented grid: C in {1, 4, 16}, d in {1, 2, 4}, J = max(2p, 16), max(8p, 32)
    with p = d C, T = n = 128 (exact) and T = 32, 16 (predictor; T / d from 4 to 32)."""
    out = []
    for C in (1, 4, 16):
        for d in (1, 2, 4):
            p = d * C
            for J in sorted({max(2 * p, 16), max(8 * p, 32)}):
                for T in (128, 32, 16):
                    out.append((J, C, d, T, 128))
    return out


HOLDOUT = [
    (40, 3, 1, 96, 96),
    (40, 3, 1, 24, 96),
    (24, 8, 1, 12, 96),
    (60, 5, 3, 48, 96),
    (100, 12, 3, 96, 96),
    (100, 12, 3, 24, 96),
    (72, 8, 2, 32, 96),
    (200, 16, 4, 64, 256),
    # short polyphase components, T / d <= 4 (chosen after the change, not used to make it)
    (20, 1, 2, 8, 96),
    (24, 2, 3, 12, 96),
    (48, 6, 2, 8, 64),
    (96, 8, 4, 16, 256),
    (30, 4, 2, 6, 96),
    (40, 2, 4, 8, 64),
]


@dataclass
class Config:
    seed: int = 20261204
    draws: int = 800
    grid: list = field(default_factory=_grid_points)
    holdout: list = field(default_factory=lambda: list(HOLDOUT))
    curve_channels: tuple[int, ...] = (1, 4, 16)
    curve_strides: tuple[int, ...] = (1, 2, 4)
    curve_ratios: tuple[float, ...] = (1.5, 2, 3, 4, 6, 8, 12, 16)
    out: str = "docs/figures"


def _statistic(key, *, J, C, T, n, d):
    w = jaxfb.equivalent_filterbank(key, J, T, in_channels=C)  # J filters' law, min(J, CT) rows
    A, B = jaxfb.conv_frame_bounds(w, n, stride=d)
    return {"A": A, "B": B, "kappa": B / A}


def simulate(point, key, draws: int) -> dict:
    J, C, d, T, n = point
    stat = partial(_statistic, J=J, C=C, T=T, n=n, d=d)
    r = mc.monte_carlo(stat, key, draws, progress=False)
    return {
        f"{leaf}_{s}": float(r.stats[leaf][s])
        for leaf in ("A", "B", "kappa")
        for s in ("mean", "se")
    }


def predict(point) -> dict:
    J, C, d, T, n = point
    lo, hi = theory.expected_frame_bounds(J, T, n, in_channels=C, stride=d)
    kappa = theory.expected_condition_number(J, T, n, in_channels=C, stride=d)
    mp_lo, mp_hi = theory.marchenko_pastur_edges(J, in_channels=C, stride=d)
    return {
        "A_theory": float(lo),
        "B_theory": float(hi),
        "kappa_theory": float(kappa),
        "A_mp": float(mp_lo),
        "B_mp": float(mp_hi),
    }


def row(split: str, point, key, draws: int) -> dict:
    J, C, d, T, n = point
    t0 = time.perf_counter()
    out = {"split": split, "J": J, "C": C, "d": d, "T": T, "n": n, "exact": T == n}
    out.update(simulate(point, key, draws))
    out["mc_s"] = time.perf_counter() - t0
    return compare(out)


def compare(out: dict) -> dict:
    """Add the theory, its errors and z-scores to a row holding the Monte Carlo columns."""
    t0 = time.perf_counter()
    J, C, d, T, n = (out[k] for k in ("J", "C", "d", "T", "n"))
    out.update(predict((J, C, d, T, n)))
    for q in ("A", "B", "kappa"):
        out[f"{q}_err_pct"] = 100.0 * (out[f"{q}_theory"] / out[f"{q}_mean"] - 1.0)
        out[f"{q}_z"] = (out[f"{q}_theory"] - out[f"{q}_mean"]) / out[f"{q}_se"]
    out["theory_s"] = time.perf_counter() - t0
    split = out["split"]
    print(
        f"{split:7s} J={J:4d} C={C:3d} d={d} T={T:4d} n={n:4d}  "
        + "  ".join(
            f"{q}: MC {out[q + '_mean']:.4f}+-{out[q + '_se']:.4f} th {out[q + '_theory']:.4f}"
            f" ({out[q + '_err_pct']:+.2f}%)"
            for q in ("A", "B", "kappa")
        ),
        flush=True,
    )
    return out


def curves(cfg: Config, known: list[dict] = ()) -> list[dict]:
    """Exact ``E[kappa]`` at ``T = n = 128`` against ``J`` (``ratio * d C``, and the grid's);
    entries of ``known`` (a previous run's curves) are reused."""
    done = {(c["C"], c["d"], c["J"]): c["kappa_theory"] for c in known}
    out = []
    for C in cfg.curve_channels:
        for d in cfg.curve_strides:
            p = C * d
            Js = {round(ratio * p) for ratio in cfg.curve_ratios}
            Js |= {J for (J, c, s, _, _) in cfg.grid if (c, s) == (C, d)}
            for J in sorted(J for J in Js if J >= p + 3):
                if (C, d, J) not in done:
                    done[C, d, J] = float(
                        theory.expected_condition_number(J, 128, 128, in_channels=C, stride=d)
                    )
                out.append({"C": C, "d": d, "J": J, "kappa_theory": done[C, d, J]})
    return out


def run(cfg: Config) -> dict:
    key = jax.random.key(cfg.seed)
    t0 = time.perf_counter()
    rows = [
        row(split, tuple(p), jax.random.fold_in(key, i), cfg.draws)
        for i, (split, p) in enumerate(
            [("grid", p) for p in cfg.grid] + [("holdout", p) for p in cfg.holdout]
        )
    ]
    t1 = time.perf_counter()
    curve = curves(cfg)
    return {
        "config": asdict(cfg),
        "versions": {
            "jaxfb": jaxfb.__version__,
            "jax": jax.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "device": str(jax.devices()[0]),
        "timings_s": {"rows": t1 - t0, "curves": time.perf_counter() - t1},
        "rows": rows,
        "curves": curve,
        "summary": summary(rows),
    }


def summary(rows: list[dict]) -> dict:
    """Largest |error| (percent) and |z| per split and law: exact (``T = n``), predictor with
    ``T / d >= 8`` and with ``T / d < 8`` (``predictor_Td4``: 2 to 4 in the grid and holdout);
    the largest relative Monte Carlo standard error."""
    kinds = {
        "exact": lambda r: r["exact"],
        "predictor_Td8plus": lambda r: not r["exact"] and r["T"] // r["d"] >= 8,
        "predictor_Td4": lambda r: not r["exact"] and r["T"] // r["d"] < 8,
    }
    out = {}
    for split in ("grid", "holdout"):
        for kind, pick in kinds.items():
            sel = [r for r in rows if r["split"] == split and pick(r)]
            out[f"{split}_{kind}_points"] = len(sel)
            for q in ("A", "B", "kappa"):
                errs = [abs(r[f"{q}_err_pct"]) for r in sel if np.isfinite(r[f"{q}_err_pct"])]
                zs = [abs(r[f"{q}_z"]) for r in sel if np.isfinite(r[f"{q}_z"])]
                out[f"{split}_{kind}_{q}_max_abs_err_pct"] = max(errs) if errs else None
                out[f"{split}_{kind}_{q}_max_abs_z"] = max(zs) if zs else None
    # the largest Monte Carlo standard error, in percent of the mean (against the 5 % goal)
    out["max_rel_se_pct"] = max(
        100.0 * r[f"{q}_se"] / abs(r[f"{q}_mean"]) for r in rows for q in ("A", "B", "kappa")
    )
    return out


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = result["config"]
    strides = cfg["curve_strides"]
    fig, axes = plt.subplots(1, len(strides), figsize=(4.6 * len(strides), 4.0), sharey=True)
    rows = [r for r in result["rows"] if r["split"] == "grid"]
    for ax, d in zip(axes, strides, strict=True):
        for i, C in enumerate(cfg["curve_channels"]):
            color = f"C{i}"
            cur = [c for c in result["curves"] if c["C"] == C and c["d"] == d]
            ax.plot(
                [c["J"] for c in cur],
                [c["kappa_theory"] for c in cur],
                "-",
                color=color,
                label=f"C={C}: theory (T = n, exact)",
            )
            for T, marker in ((128, "o"), (32, "s"), (16, "^")):
                pts = [r for r in rows if r["C"] == C and r["d"] == d and r["T"] == T]
                ax.errorbar(
                    [r["J"] * (1.0 + 0.04 * (T < 128) + 0.04 * (T < 32)) for r in pts],
                    [r["kappa_mean"] for r in pts],
                    yerr=[2 * r["kappa_se"] for r in pts],
                    fmt=marker,
                    mfc="none" if T < 128 else color,
                    color=color,
                    ms=4,
                    capsize=2,
                    label=f"C={C}, T={T}: Monte Carlo" if d == strides[0] else None,
                )
                if T < 128:
                    ax.plot(
                        [r["J"] * (1.0 + 0.04 + 0.04 * (T < 32)) for r in pts],
                        [r["kappa_theory"] for r in pts],
                        "_",
                        ms=9,
                        color=color,
                    )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("J (output channels)")
        ax.set_title(f"stride d = {d}, n = 128")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("E[kappa] at init")
    axes[0].legend(fontsize=6.5)
    fig.suptitle(
        "E[kappa] of random conv layers at init, n = 128: Monte Carlo (+-2 SE; filled: T = n, "
        "open squares/triangles: T = 32/16) and theory (lines: exact T = n; bars: predictor)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def table(rows: list[dict]) -> dict:
    cols = [
        "split", "J", "C", "d", "T", "n", "exact",
        "A_mean", "A_se", "A_theory", "A_err_pct",
        "B_mean", "B_se", "B_theory", "B_err_pct",
        "kappa_mean", "kappa_se", "kappa_theory", "kappa_err_pct",
        "A_mp", "B_mp",
    ]  # fmt: skip
    return {c: [r[c] for r in rows] for c in cols}


def markdown(rows: list[dict]) -> str:
    """The error table as Markdown (pasted into docs/conv_theory.md)."""
    head = (
        "| split | J | C | d | T | n | law | E[A] MC | err A | E[B] MC | err B | "
        "E[kappa] MC | err kappa |\n" + "|" + " --- |" * 13
    )
    lines = [head]
    for r in rows:
        cells = [r["split"], r["J"], r["C"], r["d"], r["T"], r["n"]]
        cells.append("exact" if r["exact"] else "predictor")
        for q in ("A", "B", "kappa"):
            cells.append(f"{r[q + '_mean']:.4g} +- {r[q + '_se']:.2g}")
            cells.append(f"{r[q + '_err_pct']:+.1f}% ({r[q + '_z']:+.1f} SE)")
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=Config.seed)
    p.add_argument("--draws", type=int, default=Config.draws)
    p.add_argument("--out", default=Config.out)
    p.add_argument("--plot-only", action="store_true", help="redraw the figure from the JSON")
    p.add_argument(
        "--curves-only", action="store_true", help="complete the theory curves in the JSON"
    )
    p.add_argument(
        "--theory-only",
        action="store_true",
        help="recompute the theory columns of every row, keeping the Monte Carlo ones",
    )
    a = p.parse_args(argv)
    out = io.check_writable(a.out)
    if a.theory_only:
        result = io.load_json(out / "conv_theory.json")
        t0 = time.perf_counter()
        result["rows"] = [compare(dict(r)) for r in result["rows"]]
        result["theory_recomputed"] = {
            "versions": {"jaxfb": jaxfb.__version__, "jax": jax.__version__},
            "rows_s": time.perf_counter() - t0,
            "note": "theory columns recomputed; Monte Carlo columns from the run in 'timings_s'",
        }
        io.write_csv(out / "conv_theory.csv", table(result["rows"]))
    elif a.plot_only or a.curves_only:
        result = io.load_json(out / "conv_theory.json")
        if a.curves_only:
            cfg = Config(**{k: v for k, v in result["config"].items() if k != "out"}, out=a.out)
            t0 = time.perf_counter()
            result["curves"] = curves(cfg, result["curves"])
            result["timings_s"]["curves"] = time.perf_counter() - t0
    else:
        result = run(Config(seed=a.seed, draws=a.draws, out=a.out))
        io.write_csv(out / "conv_theory.csv", table(result["rows"]))
    result["summary"] = summary(result["rows"])
    io.save_json(out / "conv_theory.json", result)
    io.atomic_write_text(out / "conv_theory_table.md", markdown(result["rows"]))
    plot(result, out / "conv_theory.png")
    for k, v in result["summary"].items():
        print(f"{k}: {v}")
    return result


if __name__ == "__main__":
    main()
