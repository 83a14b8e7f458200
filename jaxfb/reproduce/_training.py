"""The training experiment (:mod:`jaxfb.training`) as the report's figure, numbers and claims, and
the standalone outputs of ``experiments/train_filterbank.py`` (:func:`save_training`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
from matplotlib.figure import Figure

from .. import io
from .. import training as tr
from .._env import environment
from .._figures import RC, figure, log_y, merged_legend, save_figure, styled
from ..training import TrainingConfig, TrainingResult
from ._config import ReproduceConfig
from ._results import Claim, ExperimentOutput, FigureOutput, KeyNumber, Rule

__all__ = ["FIGURE", "plot_training", "run_training", "save_training", "training_claims"]

FIGURE = "train_filterbank"
"""Basename of the figure, its CSV table (the curve's medians) and (standalone) its JSON and NPZ."""


@styled
def plot_training(table: dict, summary: dict, cfg: TrainingConfig) -> Figure:
    """Fit error against ``kappa``, one panel per ``T``: a point per run, the median curve."""
    from matplotlib import colormaps
    from matplotlib.ticker import LogFormatter

    lengths, weights = cfg.lengths, cfg.penalty_weights
    ncols = min(len(lengths), 2)
    fig, axes = figure(-(-len(lengths) // ncols), ncols, 2.8)
    colors = colormaps["viridis"](np.linspace(0, 0.9, len(weights)))
    for ax, T in zip(axes.flat, lengths, strict=False):
        runs, med = table["T"] == T, summary["T"] == T
        for lam, color in zip(weights, colors, strict=True):
            at = runs & (table["penalty_weight"] == lam)
            kw = {"color": "tab:red", "marker": "X", "s": 40, "label": "no penalty (each seed)"}
            if lam > 0:
                kw = {"color": color, "marker": "o", "s": 16, "label": f"lambda = {lam:g}"}
            ax.scatter(table["kappa_final"][at], table["fit_final"][at], zorder=3, **kw)
        curve = (summary["kappa_final_median"][med], summary["fit_final_median"][med])
        ax.plot(*curve, "k-", lw=0.9, label="median over seeds")
        for q, ls, label in (
            ("kappa_target", "--", "mel target's kappa"),
            ("kappa_init_median", ":", "random init's kappa (median)"),
        ):
            ax.axvline(summary[q][med][0], color="k", ls=ls, lw=0.9, label=label)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
        ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.5)))
        log_y(ax)
        ax.set(title=f"T = {T}", xlabel="final condition number kappa", ylabel="final fit error")
    for ax in axes.flat[len(lengths) :]:
        ax.set_visible(False)
    merged_legend(fig, axes.flat, ncols=4)
    fig.suptitle(
        f"Penalty trade-off: J = {cfg.num_filters} filters fitted to a mel filterbank (N = "
        f"{cfg.n}, {cfg.seeds} seeds, {cfg.steps} Adam steps)",
        fontsize=RC["axes.titlesize"] + 1,
    )
    return fig


_FIT, _KAPPA = "fit_final_median", "kappa_final_median"


def training_numbers(summary: dict[str, np.ndarray]) -> list[KeyNumber]:
    """The unpenalised fit at every ``T``; ``kappa`` and the fit-error factor per weight at the
    largest ``T`` (medians over seeds)."""
    out, lam, T = [], summary["penalty_weight"], summary["T"]
    for i in np.flatnonzero((lam == 0) | (T == T.max())):
        col = {k: x[i] for k, x in summary.items()}
        where = {"T": int(col["T"]), "penalty_weight": float(col["penalty_weight"])}
        head = f"Training, T = {where['T']}, lambda = {where['penalty_weight']:g}: median final"
        note = f"mel target {col['kappa_target']:.4g}; random init {col['kappa_init_median']:.3g}"
        if col["penalty_weight"] > 0:
            note += f"; fit error {col['fit_final_median']:.2e}, x{col['fit_factor_median']:.3g}"
            note += " of the unpenalised (paired)"
        else:
            fit, init = col["fit_final_median"], f"random init {col['fit_init_median']:.3g}"
            out.append(KeyNumber(f"{head} fit error", fit, None, FIGURE, where, _FIT, init))
        kappa = col["kappa_final_median"]
        out.append(KeyNumber(f"{head} kappa", kappa, None, FIGURE, where, _KAPPA, note))
    return out


_TRADE_RULE = (
    "supported: every step up in weight, at every T, lowers log kappa and raises log fit error by "
    "more than 2 paired standard errors (over seeds); partly: at half of the steps or more"
)
_FIT_RULE = (
    "supported: the largest unpenalised fit_final / fit_init (T, seeds) <= 1e-3; partly: 1e-2"
)


def training_claims(summary: dict[str, np.ndarray], config: TrainingConfig) -> list[Claim]:
    """What the curve shows: the penalty trades fit error for ``kappa``; the plain fit is easy."""
    e, lam, T = tr.tradeoff_evidence(summary), summary["penalty_weight"], summary["T"]
    setup = (
        f"J = {config.num_filters} filters fitted to a mel filterbank, {config.steps} Adam steps"
    )
    at_top = (
        f"At T = {e['T']} the unpenalised fit ends at kappa {e['kappa_unpenalised']:.3g} (mel "
        f"target {e['kappa_target']:.3g}, random init {e['kappa_init']:.3g}) with fit error "
        f"{e['fit_unpenalised']:.2e}"
    )
    claims, top = [], (T == T.max()) & (lam > 0)
    if e["steps"]:
        col = (lam[top], summary["kappa_final_median"][top], summary["fit_factor_median"][top])
        curve = "; ".join(f"{w:g}: {k:.3g}, x{f:.3g}" for w, k, f in zip(*col, strict=True))
        finding = (
            f"{at_top}; with the penalty (lambda: kappa, fit error factor paired with the "
            f"unpenalised run; medians over {config.seeds} seeds) {curve}. Each step up in weight "
            f"lowers kappa and raises the fit error beyond 2 paired SE at {e['monotone_steps']} "
            f"of {e['steps']} steps (T = {', '.join(str(t) for t in config.lengths)})."
        )
        statement = (
            "The stability penalty trades fit error for conditioning: a larger weight gives a "
            f"lower kappa and a higher fit error ({setup})"
        )
        why = "No weight gives a low kappa for free: choosing lambda picks a point on this curve."
        evidence = {k: e[k] for k in ("monotone_steps", "steps")} | {"half": e["steps"] / 2}
        rule = Rule("monotone_steps", ">=", "steps", partly="half", text=_TRADE_RULE)
        claims.append(Claim(statement, evidence, rule, finding, why, FIGURE, "jaxfb"))
    finding = (
        f"{at_top}; over every T and seed the unpenalised fit error ends at most "
        f"{e['worst_fit_ratio']:.2e} of the init's. The random init is well conditioned here "
        f"(kappa {e['kappa_init']:.3g}) and the fit's kappa rises from it towards the target's: "
        "this run does not test whether an ill-conditioned init makes training hard; it shows "
        "that this fit is not hard, and that the unpenalised fit's poor conditioning comes from "
        "the target."
    )
    statement = (
        "Without the penalty, Adam from the paper's random init fits the mel target accurately "
        f"(fit error below 1e-3 of the init's at every T and seed; {setup})"
    )
    why = "The fit needs no help from conditioning; the penalty is a choice of a better frame."
    rule = Rule("worst_fit_ratio", "<=", 1e-3, partly=1e-2, text=_FIT_RULE)
    evidence = {"worst_fit_ratio": e["worst_fit_ratio"]}
    claims.append(Claim(statement, evidence, rule, finding, why, FIGURE, "jaxfb"))
    return claims


def _caption(cfg: TrainingConfig) -> str:
    return (
        f"{cfg.num_filters} filters of length T fitted by Adam ({cfg.steps} steps, {cfg.seeds} "
        f"seeds sharing their random inits across penalty weights) to a mel filterbank "
        f"({cfg.sample_rate:g} Hz), minimising the relative power-spectrum error on an N = "
        f"{cfg.n} grid plus lambda log smooth_condition_number (temperature {cfg.temperature:g};"
        f" lambda = {', '.join(f'{p:g}' for p in cfg.penalty_weights)}). One point per (lambda, "
        "seed): final fit error against final condition number; red crosses: no penalty; black "
        "line: medians over seeds; dashed: the mel target's own kappa; dotted: the random "
        "init's. Standalone: experiments/train_filterbank.py."
    )


def run_training(config: ReproduceConfig, key: jax.Array) -> ExperimentOutput:
    """The training experiment of :func:`jaxfb.reproduce.run`: figure, table, numbers, verdicts."""
    cfg, out = config.training, ExperimentOutput()
    res = tr.train_filterbanks(key, cfg)
    out.timings["train"] = res.timings["total"]
    t0 = time.perf_counter()
    table = tr.training_table(res)
    summary = tr.tradeoff_summary(table)
    fig = plot_training(table, summary, cfg)
    out.timings["figures"] = time.perf_counter() - t0
    title = "The stability penalty's trade-off: fit error against condition number"
    out.figures.append(FigureOutput(FIGURE, title, _caption(cfg), fig, summary))
    out.numbers += training_numbers(summary)
    out.claims += training_claims(summary, cfg)
    for T, c in res.curves.items():
        for q in ("fit_final", "kappa_final"):
            out.samples[f"training_{q}_T{T}"] = getattr(c, q).reshape(len(cfg.penalty_weights), -1)
    out.samples["training_penalty_weights"] = np.asarray(cfg.penalty_weights)
    out.metadata.update(config=cfg.to_dict(), timings_seconds=dict(res.timings))
    out.metadata["num_devices"] = res.num_devices
    out.metadata["key"] = "experiment_key(seed, 'training'); length T: fold_in(key, T)"
    return out


def save_training(
    result: TrainingResult,
    out: str | Path,
    *,
    seed: int,
    extra: dict[str, Any] | None = None,
    argv: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write ``train_filterbank.{png,pdf,csv,json,npz}`` into ``out`` and return the JSON dict.

    The JSON sidecar holds the config with its seed, versions, the device, timings, every run
    (``runs``: one record per ``(T, weight, seed)``), the curve's medians (``summary``, also the
    CSV) and the claims with their verdicts; the NPZ the runs' columns.
    """
    path = io.check_writable(out, argument="out")
    t0 = time.perf_counter()
    table = tr.training_table(result)
    summary = tr.tradeoff_summary(table)
    save_figure(plot_training(table, summary, result.config), path / FIGURE)
    io.write_csv(path / f"{FIGURE}.csv", summary)
    io.save_npz(path / f"{FIGURE}.npz", table)
    meta = {"experiment": FIGURE, **tr.training_record(result), **environment()}
    meta["config"].update(seed=seed, **(extra or {}))
    meta["timings_s"]["write"] = time.perf_counter() - t0
    meta["argv"] = list(argv) if argv is not None else None
    meta["claims"] = [
        {"claim": c.statement, "verdict": c.verdict, "finding": c.finding, "rule": c.rule.text}
        for c in training_claims(summary, result.config)
    ]
    meta["files"] = [f"{FIGURE}.{ext}" for ext in ("png", "pdf", "csv", "npz")]
    io.save_json(path / f"{FIGURE}.json", meta)
    return meta
