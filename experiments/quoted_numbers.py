"""Numbers quoted in README.md and docs/ that no other results file holds.

Writes ``docs/figures/quoted_numbers.json`` (``jaxfb.io.save_json``), read by the source markers of
the pages (docs/index.md, "Where the numbers come from"):

- ``paper_vs_exact``: at ``J = 40``, ``T = N = 1024`` the exact ``E[A]``, ``E[B]``, ``E[kappa]``
  (``jaxfb.theory``, exact at ``T = N``), the paper's ``kappa_tilde`` and frame bounds (its
  chi-squared extremes and its asymptotic ``1 -/+ 2 sqrt(log T / J)``), and a Monte Carlo check
  (``jaxfb.sample_frame_bounds``, exact sampling, 100 000 draws, seed 0);
- ``chernoff``: the paper's Chernoff formula for a unit impulse, ``J = 10``, ``T = 64``,
  ``p = 0.01``, and the exact exceedance probability of its ``alpha`` (``theory.energy_sf``);
- ``constants``: the fitted constants of the two misspecified laws, the paper's form
  (``c``) and the collapse (``beta`` of ``log(b T) / J^beta``), refitted to every committed sweep
  (``docs/figures/scaling_quick_summary.csv``, ``docs/figures/scaling_sweep/*_summary.csv``) on
  ``E[log kappa]`` and, like ``jaxfb reproduce``, on ``log E[kappa]`` for ``J >= 8``: value,
  delta-method and quasi-likelihood (``FitResult.inflated_ci``) 95 % intervals, ``chi2/dof``,
  and the range of ``J`` and ``T`` fitted;
- ``effective_counts``: the predictor's interior counts ``m_A / T``, ``m_B / T``
  (``theory.effective_counts``, a model) on fine grids (``N >= 4 T``, ``T >= 64``) and at a few
  short filters, with their ranges for ``J >= 8`` and ``J in {3, 4}``;
- ``docs/figures/scaling_quick_fit_large_T.json``: the ``J*`` rule of the quick dataset on
  ``T >= 64`` with scaled errors, refitted from the committed summary exactly as
  ``experiments/scaling_quick.py`` does (its ``fit_large_T/fit.json``; no sampling involved);
- ``sweeps``: points, draws and the ``chi2/dof`` of the order-statistics law per full sweep.

and ``docs/figures/quoted_constants.md``, the table of the constants quoted in docs/scaling.md
("Fitted constants of the rejected laws").

Usage::

    python experiments/quoted_numbers.py     # about a minute on a 2-core CPU
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

import jaxfb
from jaxfb import io, scaling, signals, theory

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "figures" / "quoted_numbers.json"
SWEEPS = {
    "quick_N_T": "docs/figures/scaling_quick_summary.csv",
    "N_T": "docs/figures/scaling_sweep/N_T_summary.csv",
    "N1024": "docs/figures/scaling_sweep/N1024_summary.csv",
    "N4096": "docs/figures/scaling_sweep/N4096_summary.csv",
}
LAWS = {"paper": "c", "collapse": "beta"}


def paper_vs_exact(J=40, T=1024, draws=100_000, seed=0) -> dict:
    bounds = theory.expected_frame_bounds(J, T, T)
    A, B = jaxfb.sample_frame_bounds(jax.random.key(seed), J, T, T, batch_shape=(draws,))
    kappa = np.asarray(B / A, np.float64)
    return {
        "J": J,
        "T": T,
        "N": T,
        "exact_mean_A": float(bounds[0]),
        "exact_mean_B": float(bounds[1]),
        "exact_mean_kappa": float(theory.expected_condition_number(J, T, T)),
        "kappa_tilde": float(theory.kappa_tilde(J, T)),
        "paper_chi2_extremes": [float(v) for v in theory.paper_expected_frame_bounds(J, T)],
        "paper_asymptotic": [float(v) for v in theory.paper_asymptotic_bounds(J, T)],
        "mc_draws": draws,
        "mc_seed": seed,
        "mc_mean_kappa": float(kappa.mean()),
        "mc_se_kappa": float(kappa.std(ddof=1) / np.sqrt(draws)),
        "mc_mean_A": float(np.mean(A)),
        "mc_se_A": float(np.std(np.asarray(A, np.float64), ddof=1) / np.sqrt(draws)),
        "mc_mean_B": float(np.mean(B)),
        "mc_se_B": float(np.std(np.asarray(B, np.float64), ddof=1) / np.sqrt(draws)),
    }


def _chernoff_level(x, J, T, p) -> dict:
    alpha = float(theory.chernoff_deviation(x, J, T, p, variant="paper"))
    mean = float(theory.energy_mean(x, J, T))
    return {
        "p": p,
        "paper_alpha": alpha,
        "exact_exceedance": float(theory.energy_sf((1 + alpha) * mean, x, J, T)),
        "exact_quantile_deviation": float(theory.energy_quantile(1 - p, x, J, T)) / mean - 1,
    }


def chernoff(J=10, T=64, p=0.01, levels=(0.05, 0.02, 0.01, 1e-4, 1e-6, 1e-8)) -> dict:
    """The paper's Chernoff ``alpha`` for a unit impulse against the exact law, at ``p`` (top
    level) and at every level of ``levels`` (the table of docs/theory.md)."""
    x = signals.impulse(T)
    return {
        "J": J,
        "T": T,
        "signal": "impulse",
        **_chernoff_level(x, J, T, p),
        "levels": [_chernoff_level(x, J, T, q) for q in levels],
    }


def _table(path: str, target: str, min_filters: int, min_length: int) -> dict:
    t = io.read_summary(ROOT / path)
    if target == "log_kappa":
        y, se = t["log_kappa_mean"], t["log_kappa_se"]
    else:  # log E[kappa], delta-method SE; E[kappa] is finite for J >= 3
        y, se = np.log(t["kappa_mean"]), t["kappa_se"] / t["kappa_mean"]
    keep = (
        (t["J"] >= min_filters)
        & (t["T"] >= min_length)
        & np.isfinite(y)
        & np.isfinite(se)
        & (se > 0)
    )
    return {k: np.asarray(v)[keep] for k, v in (("J", t["J"]), ("T", t["T"]), ("y", y), ("se", se))}


def constant(setting: str, law: str, target: str, min_filters=1, min_length=1) -> dict:
    d = _table(SWEEPS[setting], target, min_filters, min_length)
    res = scaling.fit(d["J"], d["T"], d["y"], d["se"], model=law)
    name = LAWS[law]
    est, wide = res.estimates[name], res.inflated_estimates[name]
    return {
        "setting": setting,
        "law": law,
        "param": name,
        "target": target,
        "J_min": int(d["J"].min()),
        "J_max": int(d["J"].max()),
        "T_min": int(d["T"].min()),
        "T_max": int(d["T"].max()),
        "num_points": res.num_points,
        "value": est.value,
        "stderr": est.stderr,
        "ci": [est.lower, est.upper],
        "inflated_stderr": wide.stderr,
        "inflated_ci": [wide.lower, wide.upper],
        "reduced_chi2": float(res.reduced_chi2),
    }


COUNT_POINTS = [
    (J, T, N)
    for J in (3, 4, 8, 16, 40, 64, 128, 256)
    for T in (64, 128, 256, 512, 1024)
    for N in (1024, 4096)
    if N >= 4 * T
] + [(40, 16, 1024), (40, 4, 1024), (8, 16, 4096)]


def effective_counts() -> dict:
    rows = []
    for J, T, N in COUNT_POINTS:
        m_a, m_b = theory.effective_counts(J, T, N)
        rows.append(
            {"J": J, "T": T, "N": N, "m_A_per_T": float(m_a) / T, "m_B_per_T": float(m_b) / T}
        )
    fine = [r for r in rows if r["T"] >= 64 and r["N"] >= 4 * r["T"]]

    def span(rs, key):
        return [min(r[key] for r in rs), max(r[key] for r in rs)]

    large, small = [r for r in fine if r["J"] >= 8], [r for r in fine if r["J"] <= 4]
    return {
        "points": rows,
        "fine_grid": "T >= 64, N >= 4 T",
        "J_at_least_8": {
            "m_A_per_T": span(large, "m_A_per_T"),
            "m_B_per_T": span(large, "m_B_per_T"),
        },
        "J_3_4": {"m_A_per_T": span(small, "m_A_per_T"), "m_B_per_T": span(small, "m_B_per_T")},
    }


def quick_rule_large_T() -> None:
    large = scaling.analyze(
        ROOT / SWEEPS["quick_N_T"], models=["orderstat"], rule_min_length=64, absolute_sigma=False
    )
    with tempfile.TemporaryDirectory() as tmp:
        large.save(tmp, figures=False, extra={"script": "experiments/quoted_numbers.py"})
        doc = io.load_json(Path(tmp) / "fit.json")
    io.save_json(OUT.with_name("scaling_quick_fit_large_T.json"), doc)


def sweeps() -> list[dict]:
    out = []
    for setting in ("N_T", "N1024", "N4096"):
        fits = io.load_json(ROOT / f"docs/figures/scaling_sweep/{setting}_fit.json")["models"]
        law = "orderstat" if setting == "N_T" else "orderstat_n"
        table = io.read_summary(ROOT / SWEEPS[setting])
        out.append(
            {
                "setting": setting,
                "num_points": int(table["J"].size),
                "draws": int(np.sum(table["draws"])),
                "min_draws": int(np.min(table["draws"])),
                "points_at_min_draws": int(np.sum(table["draws"] == np.min(table["draws"]))),
                "max_draws": int(np.max(table["draws"])),
                "law": law,
                "law_reduced_chi2": float(fits[law]["reduced_chi2"]),
                "theory_reduced_chi2": float(fits["theory"]["reduced_chi2"]),
            }
        )
    return out


DATA = {
    "quick_N_T": "quick, `N = T`",
    "N_T": "full, `N = T`",
    "N1024": "full, `N = 1024`",
    "N4096": "full, `N = 4096`",
}


def constants_table(constants: list[dict]) -> str:
    """The Markdown table of the fitted constants, one row per law, sweep, target and range."""
    rows = [
        "| law: constant | sweep | target | `J`, `T` fitted | points | value | 95 % CI, "
        "Monte Carlo errors only | 95 % CI, inflated by `sqrt(chi2/dof)` | `chi2/dof` |",
        "| --- | --- | --- | --- | ---: | ---: | --- | --- | ---: |",
    ]
    for c in constants:
        target = "`E[log kappa]`" if c["target"] == "log_kappa" else "`log E[kappa]`"
        rows.append(
            f"| `{c['law']}`: `{c['param']}` | {DATA[c['setting']]} | {target} "
            f"| {c['J_min']} .. {c['J_max']}, {c['T_min']} .. {c['T_max']} | {c['num_points']} "
            f"| {c['value']:.4f} | [{c['ci'][0]:.4f}, {c['ci'][1]:.4f}] "
            f"| [{c['inflated_ci'][0]:.3f}, {c['inflated_ci'][1]:.3f}] | {c['reduced_chi2']:.0f} |"
        )
    return "\n".join(rows) + "\n"


def main() -> int:
    start = time.perf_counter()
    quick_rule_large_T()
    constants = [
        constant(setting, law, "log_kappa")
        for law in LAWS
        for setting in ("quick_N_T", "N_T", "N1024", "N4096")
    ]
    # the range and target of the fit in ``jaxfb reproduce``: J >= 8, T = 8 .. 1024 at N = 1024
    constants += [constant("N1024", law, "log_mean_kappa", 8, 8) for law in LAWS]
    with jax.enable_x64(True):
        exact = paper_vs_exact()
        bound = chernoff()
        counts = effective_counts()
    doc = {
        "command": "python experiments/quoted_numbers.py",
        "jaxfb_version": jaxfb.__version__,
        "paper_vs_exact": exact,
        "chernoff": bound,
        "effective_counts": counts,
        "constants": constants,
        "sweeps": (runs := sweeps()),
        "sweeps_total": {
            k: sum(r[k] for r in runs) for k in ("num_points", "draws", "points_at_min_draws")
        },
        "seconds": time.perf_counter() - start,
    }
    io.save_json(OUT, doc)
    io.atomic_write_text(OUT.with_name("quoted_constants.md"), constants_table(constants))
    print(f"wrote {OUT.relative_to(ROOT)} in {doc['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
