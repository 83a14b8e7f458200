"""The design rule ``J*(T; kappa0)``: fewest Gaussian filters with ``E[kappa] <= kappa0``.

Computes, with ``jaxfb.theory.required_filters`` (deterministic quadrature, no sampling):

- the exact rule at ``T = N = 2^3 .. 2^16`` for ``kappa0 = 1.5, 2, 4``: the integer ``J*``, the
  exact ``E[kappa]`` at ``J*`` and ``J* - 1`` (bracketing ``kappa0``), and the real crossing
  ``J_c`` (``continuous=True``; ``J* = ceil(J_c)``);
- local slopes ``(J_c(2T) - J_c(T)) / log 2`` (filters per e-fold of ``T``), the next-order
  prediction ``1 / (u* + 1/(2 J))`` at the mean ``J`` of the two ends, and the large-deviation
  asymptote ``1 / u*`` (``required_filters_slope``) with the Gaussian ``8 / (log kappa0)^2``;
- the predictor's rule for ``T < N`` at ``kappa0 = 2``, ``N = 1024`` and ``4096`` (a model);
- a check that ``E[kappa]`` decreases over consecutive ``J`` (the bisection relies on it).

Writes ``docs/figures/design_rule.json`` (``jaxfb.io.save_json``) and
``docs/figures/design_rule.md``, the Markdown tables quoted in docs/theory.md ("Design rule: how
many filters"). About two CPU minutes.

Usage::

    python experiments/design_rule.py
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np

import jaxfb
from jaxfb import io, theory

ROOT = Path(__file__).resolve().parents[1]

CONFIG = {
    "kappa0": [1.5, 2.0, 4.0],
    "lengths": [2**k for k in range(3, 17)],
    "summary_lengths": [2**k for k in (4, 6, 8, 10, 12, 14, 16)],
    "model": {
        "kappa0": 2.0,
        "pairs": [
            [64, 1024],
            [256, 1024],
            [1024, 1024],
            [64, 4096],
            [256, 4096],
            [1024, 4096],
            [4096, 4096],
        ],
    },
    "monotone": [
        {"length": 64, "n": 64, "max_filters": 200},
        {"length": 4096, "n": 4096, "max_filters": 200},
        {"length": 256, "n": 1024, "max_filters": 120},
    ],
}


def exact_rule(kappa0: float, lengths: list[int]) -> list[dict]:
    """``J*``, ``J_c`` and the bracketing ``E[kappa]`` at ``T = N`` for each length."""
    T = np.array(lengths)
    J = theory.required_filters(kappa0, T, T)
    Jc = theory.required_filters(kappa0, T, T, continuous=True)
    at = theory.expected_condition_number(J, T, T)
    below = theory.expected_condition_number(J - 1, T, T)
    return [
        {
            "kappa0": kappa0,
            "T": int(t),
            "N": int(t),
            "J": int(j),
            "J_continuous": float(jc),
            "mean_kappa_at_J": float(a),
            "mean_kappa_at_J_minus_1": float(b),
        }
        for t, j, jc, a, b in zip(T, J, Jc, at, below, strict=True)
    ]


def local_slopes(rows: list[dict]) -> list[dict]:
    """Slopes of ``J_c`` between consecutive lengths, against the next-order prediction."""
    out = []
    for r0, r1 in itertools.pairwise(rows):
        k0 = r0["kappa0"]
        slope = (r1["J_continuous"] - r0["J_continuous"]) / math.log(r1["T"] / r0["T"])
        asym = float(theory.required_filters_slope(k0))
        J_mid = 0.5 * (r0["J_continuous"] + r1["J_continuous"])
        refined = 1.0 / (1.0 / asym + 1.0 / (2.0 * J_mid))
        out.append(
            {
                "kappa0": k0,
                "T_from": r0["T"],
                "T_to": r1["T"],
                "slope": slope,
                "next_order": refined,
                "fraction_of_asymptote": slope / asym,
            }
        )
    return out


def model_rule(kappa0: float, pairs: list[list[int]]) -> list[dict]:
    T = np.array([p[0] for p in pairs])
    N = np.array([p[1] for p in pairs])
    J = theory.required_filters(kappa0, T, N)
    at = theory.expected_condition_number(J, T, N)
    below = theory.expected_condition_number(J - 1, T, N)
    return [
        {
            "kappa0": kappa0,
            "T": int(t),
            "N": int(n),
            "J": int(j),
            "exact": bool(t == n),
            "mean_kappa_at_J": float(a),
            "mean_kappa_at_J_minus_1": float(b),
        }
        for t, n, j, a, b in zip(T, N, J, at, below, strict=True)
    ]


def monotone(length: int, n: int, max_filters: int) -> dict:
    J = np.arange(3, max_filters + 1)
    E = theory.expected_condition_number(J, length, n)
    steps = np.diff(E)
    return {
        "T": length,
        "N": n,
        "J_from": 3,
        "J_to": max_filters,
        "decreasing": bool(np.all(steps < 0)),
        "largest_step": float(steps.max()),
    }


def asymptote(kappa0s: list[float]) -> list[dict]:
    out = []
    for k0 in kappa0s:
        x_minus = math.log(k0) / (k0 - 1.0)
        out.append(
            {
                "kappa0": k0,
                "slope": float(theory.required_filters_slope(k0)),
                "u_star": x_minus - 1.0 - math.log(x_minus),
                "x_minus": x_minus,
                "x_plus": k0 * x_minus,
                "gaussian_slope": 8.0 / math.log(k0) ** 2,
            }
        )
    return out


def markdown(result: dict) -> str:
    """The tables quoted in docs/theory.md."""
    rows = {(r["kappa0"], r["T"]): r for r in result["exact"]}
    slopes = {(s["kappa0"], s["T_to"]): s for s in result["slopes"]}
    lines = [
        "| `T = N` | `J*` | `E[kappa](J*)` | `E[kappa](J* - 1)` | `J_c` | "
        "slope from `T/2` | next order `1/(u* + 1/(2J))` | slope `* u*` |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for T in result["config"]["lengths"]:
        r, s = rows[(2.0, T)], slopes.get((2.0, T))
        tail = (
            f"{s['slope']:.2f} | {s['next_order']:.2f} | {s['fraction_of_asymptote']:.3f}"
            if s
            else "— | — | —"
        )
        lines.append(
            f"| {T} | {r['J']} | {r['mean_kappa_at_J']:.4f} | "
            f"{r['mean_kappa_at_J_minus_1']:.4f} | {r['J_continuous']:.2f} | {tail} |"
        )
    kappa0s = result["config"]["kappa0"]
    header = " | ".join(f"`kappa0 = {k:g}`" for k in kappa0s)
    lines += ["", f"| `T = N` | {header} |", "| --- |" + " --- |" * len(kappa0s)]
    for T in result["config"]["summary_lengths"]:
        cells = [f"{rows[(k, T)]['J']}" for k in kappa0s]
        lines.append(f"| {T} | " + " | ".join(cells) + " |")
    top = result["config"]["lengths"][-1]
    lines += [
        "",
        "| `kappa0` | slope, `T = 2^15 .. 2^16` | next order | asymptote `1/u*` | "
        "Gaussian `8/(log kappa0)^2` | `x_-` | `x_+` |",
        "| --- |" + " --- |" * 6,
    ]
    for a in result["asymptote"]:
        s = slopes[(a["kappa0"], top)]
        lines.append(
            f"| {a['kappa0']:g} | {s['slope']:.2f} | {s['next_order']:.2f} | "
            f"{a['slope']:.2f} | {a['gaussian_slope']:.2f} | {a['x_minus']:.4f} | "
            f"{a['x_plus']:.4f} |"
        )
    lines += [
        "",
        "| `T` | `N` | `J*` | `E[kappa](J*)` | `E[kappa](J* - 1)` | law |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["model"]:
        law = "exact" if r["exact"] else "model"
        lines.append(
            f"| {r['T']} | {r['N']} | {r['J']} | {r['mean_kappa_at_J']:.4f} | "
            f"{r['mean_kappa_at_J_minus_1']:.4f} | {law} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    start = time.time()
    exact = [r for k0 in CONFIG["kappa0"] for r in exact_rule(k0, CONFIG["lengths"])]
    slopes = [
        s for k0 in CONFIG["kappa0"] for s in local_slopes([r for r in exact if r["kappa0"] == k0])
    ]
    result = {
        "command": "python experiments/design_rule.py",
        "jaxfb_version": jaxfb.__version__,
        "config": CONFIG,
        "asymptote": asymptote(CONFIG["kappa0"]),
        "exact": exact,
        "slopes": slopes,
        "model": model_rule(CONFIG["model"]["kappa0"], CONFIG["model"]["pairs"]),
        "monotone": [monotone(**m) for m in CONFIG["monotone"]],
    }
    result["seconds"] = time.time() - start
    table = markdown(result)
    io.save_json(ROOT / "docs" / "figures" / "design_rule.json", result)
    io.atomic_write_text(ROOT / "docs" / "figures" / "design_rule.md", table)
    print(table)
    for m in result["monotone"]:
        print(
            f"E[kappa] decreasing over J = 3..{m['J_to']} at T={m['T']}, N={m['N']}: "
            f"{m['decreasing']}"
        )
    print(f"{result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
