"""The training experiment (:mod:`jaxfb.training`) as the report's figure, numbers and claim, and
the standalone outputs of ``experiments/train_filterbank.py`` (:func:`save_training`)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
from matplotlib.figure import Figure

from .. import io
from .._env import environment
from ..training import TrainingConfig, TrainingResult, train_filterbanks, training_table
from . import _plotting
from ._config import ReproduceConfig
from ._results import Claim, ExperimentOutput, FigureOutput, KeyNumber, Rule

__all__ = ["FIGURE", "plot_training", "run_training", "save_training", "training_claims"]

FIGURE = "train_filterbank"
"""Basename of the figure, its CSV table and (standalone) its JSON and NPZ files."""


def _label(lam: float) -> str:
    return "no penalty" if lam == 0 else f"penalty {lam:g}"


_LAM_COLORS = ("tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown")


@_plotting._styled
def plot_training(result: TrainingResult, table: dict[str, np.ndarray]) -> Figure:
    """Trajectories at the middle length; final fit error and ``kappa`` against ``T``."""
    from matplotlib.ticker import LogFormatter

    cfg = result.config
    fig, axes = _plotting._figure(2, 2, 2.4)
    (ax_fit, ax_kap), (ax_fit_T, ax_kap_T) = axes
    T_show = cfg.lengths[len(cfg.lengths) // 2]
    steps = np.arange(1, cfg.steps + 1)
    T_all = np.asarray(table["T"], float)
    lam_all = np.asarray(table["penalty_weight"], float)
    for p, lam in enumerate(cfg.penalty_weights):
        color = _LAM_COLORS[p % len(_LAM_COLORS)]
        for s in range(cfg.seeds):
            kw = {"color": color, "alpha": 0.6, "lw": 0.9, "label": _label(lam) if s == 0 else None}
            ax_fit.plot(steps, result.trajectories[f"fit_T{T_show}"][p, s], **kw)
            ax_kap.plot(steps, result.trajectories[f"kappa_T{T_show}"][p, s], **kw)
        rows = lam_all == lam
        T = T_all[rows]
        for ax, q in ((ax_fit_T, "fit_final"), (ax_kap_T, "kappa_final")):
            y, err = table[f"{q}_mean"][rows], np.nan_to_num(table[f"{q}_se"][rows])
            ax.errorbar(T, y, yerr=err, color=color, marker="o", capsize=2, label=_label(lam))
    base = lam_all == 0
    ax_kap_T.plot(T_all[base], table["kappa_target"][base], "k--", label="mel target")
    ax_kap_T.plot(T_all[base], table["kappa_init_mean"][base], "k:", label="random init")
    ax_fit_T.plot(T_all[base], table["fit_init_mean"][base], "k:", label="random init")
    i_show = int(np.flatnonzero(base & (T_all == T_show))[0])
    ax_kap.axhline(table["kappa_target"][i_show], color="k", ls="--", lw=0.9, label="mel target")
    for ax in (ax_fit, ax_kap):
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
        _plotting._log_y(ax)
        ax.set_xlabel("Adam step")
    for ax in (ax_fit_T, ax_kap_T):
        _plotting._log2_axis(ax, T_all)
        _plotting._log_y(ax)
        ax.set_xlabel("filter length T")
    ax_fit.set_title(f"fit error during training, T = {T_show}")
    ax_kap.set_title(f"condition number during training, T = {T_show}")
    ax_fit_T.set_title("final fit error (mean +- SE over seeds)")
    ax_kap_T.set_title("final condition number (mean +- SE)")
    _plotting._merged_legend(fig, axes.flat, ncols=4)
    fig.suptitle(
        f"J = {cfg.num_filters} filters fitted to a mel filterbank (N = {cfg.n}, {cfg.seeds} "
        f"seeds, {cfg.steps} Adam steps)",
        fontsize=_plotting.RC["axes.titlesize"] + 1,
    )
    return fig


def training_numbers(table: dict[str, np.ndarray]) -> list[KeyNumber]:
    """Final fit error and condition number (mean, SE over seeds) per ``T`` and penalty weight."""
    out = []
    for i in range(len(table["T"])):
        T, lam = int(table["T"][i]), float(table["penalty_weight"][i])
        where, head = {"T": T, "penalty_weight": lam}, f"Training, T = {T}, {_label(lam)}: final"
        ratio, cost = math.exp(table["log_kappa_ratio_mean"][i]), table["fit_cost_mean"][i]
        vs = f"; vs no penalty: kappa / {ratio:.3g}, fit error {cost:+.2e}" if lam > 0 else ""
        kappa_note = (
            f"mel target {table['kappa_target'][i]:.4g}; random init "
            f"{table['kappa_init_mean'][i]:.3g}"
        )
        for what, q, note in (
            ("fit error", "fit_final", f"random init {table['fit_init_mean'][i]:.3g}{vs}"),
            ("condition number", "kappa_final", kappa_note),
        ):
            value, se = float(table[f"{q}_mean"][i]), float(table[f"{q}_se"][i])
            out.append(KeyNumber(f"{head} {what}", value, se, FIGURE, where, f"{q}_mean", note))
    return out


_CLAIM_RULE = (
    "supported: at every T, mean over seeds of log(kappa without / with the penalty) > 2 paired "
    "SE, and the penalised fit error < 10% of the random init's; partly: kappa lowered so at >= "
    "half of the lengths"
)
_CLAIM_WHY = "A learned front end can be kept stable by a penalty that costs little accuracy."


def training_claims(table: dict[str, np.ndarray], config: TrainingConfig) -> list[Claim]:
    """Per positive penalty weight: does the penalty lower ``kappa`` at a small fit-error cost?"""
    claims = []
    T_all, lam_all = np.asarray(table["T"], int), np.asarray(table["penalty_weight"], float)
    base = lam_all == 0
    for lam in config.penalty_weights[1:]:
        rows = lam_all == lam
        T, col = T_all[rows], {k: np.asarray(v)[rows] for k, v in table.items()}
        d, d_se = col["log_kappa_ratio_mean"], col["log_kappa_ratio_se"]
        lowered = d > 2 * np.nan_to_num(d_se, nan=np.inf)
        fit_ok = col["fit_final_mean"] <= 0.1 * col["fit_init_mean"]
        factor, cost = np.exp(d), col["fit_cost_mean"]
        k_b, k_p = table["kappa_final_mean"][base][-1], col["kappa_final_mean"][-1]
        f_b, f_p = table["fit_final_mean"][base][-1], col["fit_final_mean"][-1]
        # a length whose penalised fit is poor keeps the score below "every length"
        score = float(lowered.sum()) if fit_ok.all() else min(lowered.sum(), len(T) - 0.5)
        evidence = {"score": score, "lengths": len(T), "half_of_lengths": len(T) / 2}
        evidence.update(lengths_lowered=int(lowered.sum()), lengths_fit_kept=int(fit_ok.sum()))
        finding = (
            f"the penalty lowers kappa by a factor {math.exp(d.mean()):.3g} (geometric mean over "
            f"T; {factor.min():.3g} to {factor.max():.3g}; beyond 2 paired SE at "
            f"{int(lowered.sum())} of {len(T)} lengths) at a fit-error cost of {cost.mean():+.2e} "
            "(mean over T of the paired difference; the fit error is relative to the target's "
            f"spectral power, {col['fit_init_mean'].mean():.2f} at the random init; penalised at "
            f"most {col['fit_final_mean'].max():.2e}, below 10% of the init's at "
            f"{int(fit_ok.sum())} of {len(T)} lengths). At T = {T[-1]}: kappa {k_b:.3g} -> "
            f"{k_p:.3g} (mel target {col['kappa_target'][-1]:.3g}), fit error {f_b:.2e} -> "
            f"{f_p:.2e}."
        )
        statement = (
            f"Training with the stability penalty (lambda = {lam:g}) lowers the condition number "
            f"at a small fit-error cost (J = {config.num_filters} filters fitted to a mel "
            "filterbank)"
        )
        rule = Rule("score", ">=", "lengths", partly="half_of_lengths", text=_CLAIM_RULE)
        claims.append(Claim(statement, evidence, rule, finding, _CLAIM_WHY, FIGURE, "jaxfb"))
    return claims


def _caption(cfg: TrainingConfig) -> str:
    return (
        f"{cfg.num_filters} filters of length T fitted by Adam ({cfg.steps} steps, {cfg.seeds} "
        f"seeds sharing their random inits across penalty weights) to a mel filterbank "
        f"({cfg.sample_rate:g} Hz), minimising the relative power-spectrum error on an N = "
        f"{cfg.n} grid plus lambda log smooth_condition_number (temperature {cfg.temperature:g};"
        f" lambda = {', '.join(f'{p:g}' for p in cfg.penalty_weights)}). Top: trajectories at "
        "the middle length, one line per seed. Bottom: final fit error and condition number "
        "against T, mean +- SE over seeds, with the mel target's and the random init's "
        "condition numbers. Standalone: experiments/train_filterbank.py."
    )


def run_training(config: ReproduceConfig, key: jax.Array) -> ExperimentOutput:
    """The training experiment of :func:`jaxfb.reproduce.run`: figure, table, numbers, verdict."""
    cfg, out = config.training, ExperimentOutput()
    res = train_filterbanks(key, cfg)
    out.timings["train"] = res.timings["total"]
    t0 = time.perf_counter()
    table = training_table(res)
    fig = plot_training(res, table)
    out.timings["figures"] = time.perf_counter() - t0
    title = "Training random filterbanks with a stability penalty"
    out.figures.append(FigureOutput(FIGURE, title, _caption(cfg), fig, table))
    out.numbers += training_numbers(table)
    out.claims += training_claims(table, cfg)
    out.samples.update({f"training_{k}": v for k, v in res.trajectories.items()})
    for T in cfg.lengths:
        rows = [r for r in res.rows if r["T"] == T]
        out.samples[f"training_fit_final_T{T}"] = np.asarray([r["fit_final"] for r in rows])
        out.samples[f"training_kappa_final_T{T}"] = np.asarray([r["kappa_final"] for r in rows])
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

    The JSON sidecar holds the config with its seed, versions, the device, timings, the
    per-seed final numbers (``results``) and the claims with their verdicts; the NPZ the
    trajectories ``fit_T{T}``, ``kappa_T{T}``, ``smooth_kappa_T{T}`` of shape
    ``(penalty weights, seeds, steps)``.
    """
    path = io.check_writable(out, argument="out")
    t0 = time.perf_counter()
    table = training_table(result)
    _plotting.save_figure(plot_training(result, table), path / FIGURE)
    io.write_csv(path / f"{FIGURE}.csv", table)
    io.save_npz(path / f"{FIGURE}.npz", result.trajectories)
    meta = {
        "experiment": FIGURE,
        "config": {**result.config.to_dict(), "seed": seed, **(extra or {})},
        "argv": list(argv) if argv is not None else None,
        **environment(),
        "timings_s": {**result.timings, "write": time.perf_counter() - t0},
        "results": result.rows,
        "claims": [
            {"claim": c.statement, "verdict": c.verdict, "finding": c.finding, "rule": c.rule.text}
            for c in training_claims(table, result.config)
        ],
        "files": [f"{FIGURE}.{ext}" for ext in ("png", "pdf", "csv", "npz")],
    }
    io.save_json(path / f"{FIGURE}.json", meta)
    return meta
