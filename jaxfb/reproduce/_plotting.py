"""The figures of the reproduction, drawn from the tables written beside them as CSV.

Drawn in jaxfb's house style (:mod:`jaxfb._figures`), legends in plain words below the panels;
where ``kappa_tilde`` is undefined (``J <= 4 log T``) the panel is shaded.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from .._figures import RC, band, curve, finish, panels, save_figure
from .._figures import figure as _figure
from .._figures import log2_axis as _log2_axis
from .._figures import log_y as _log_y
from .._figures import merged_legend as _merged_legend
from .._figures import styled as _styled

__all__ = [
    "COLORS",
    "UNDEFINED_LABEL",
    "plot_energy",
    "plot_frame_bounds",
    "plot_histograms",
    "plot_kappa_vs_J",
    "plot_kappa_vs_T",
    "plot_scaling",
    "plot_spectrograms",
    "save_figure",
]

COLORS = {
    "empirical": "tab:blue",
    "band": "tab:blue",
    "cantelli": "tab:green",
    "paper": "tab:red",
    "laurent_massart": "tab:purple",
    "exact_chernoff": "tab:orange",
    "exact": "black",
    "fit": "tab:green",
    "jaxfb": "black",
    "lower": "tab:blue",
    "upper": "tab:red",
    "undefined": "0.55",
}

BOUNDS = {  # column: legend label
    "cantelli": "Cantelli bound (valid)",
    "laurent_massart": "Laurent-Massart bound (valid)",
    "exact_chernoff": "exact Chernoff bound (valid)",
    "paper": "the paper's Chernoff bound (not a valid bound)",
}

#: Legend label of the shaded region where the paper's ``kappa_tilde`` is undefined.
UNDEFINED_LABEL = "the paper's kappa_tilde is undefined here (J <= 4 log T)"


def _undefined(ax, lo: float, hi: float) -> None:
    """Shade the x-range ``[lo, hi]`` (clipped to the axes) where ``kappa_tilde`` is undefined."""
    x0, x1 = ax.get_xlim()
    lo, hi = max(lo, x0), min(hi, x1)
    if hi > lo:
        ax.axvspan(
            lo, hi, color=COLORS["undefined"], alpha=0.18, lw=0, zorder=0, label=UNDEFINED_LABEL
        )
        ax.set_xlim(x0, x1)


def _ordered(values) -> list[str]:
    return list(dict.fromkeys(np.asarray(values).tolist()))


# -- energy ------------------------------------------------------------------------------------


def _energy_curves(q: str) -> tuple:
    """``(column, style, label)`` of the lines of one energy panel, drawn in this order."""
    blue, lines = COLORS["empirical"], {"lw": 1.0}
    exact = {"color": COLORS["exact"], "ls": ":", "marker": "."}
    return (
        ("mean", {"color": blue}, "mean of the draws"),
        ("quantile", {"color": blue, "ls": "--"}, f"{q} quantile of the draws"),
        ("exact_quantile", exact, f"exact {q} quantile"),
        *(
            (k, {**lines, "color": COLORS[k], "ls": "--" if k == "paper" else "-"}, label)
            for k, label in BOUNDS.items()
        ),
    )


@_styled
def plot_energy(table: dict, p: float, title: str) -> Figure:
    """Relative energy deviation against ``T`` per signal, with the bounds at level ``p``."""
    signals = _ordered(table["signal"])
    fig, axes = panels(len(signals), 2.5)
    q = f"{100 * (1 - p):g}%"
    col = {k: np.asarray(v, float) for k, v in table.items() if k != "signal"}
    cross = {"ls": "none", "marker": "x", "ms": 6, "mew": 1.5, "color": COLORS["paper"]}
    for ax, name in zip(axes.flat, signals, strict=False):
        rows = np.asarray(table["signal"]) == name
        T, c = col["T"][rows], {k: v[rows] for k, v in col.items()}
        spread = {"color": COLORS["band"], "alpha": 0.15, "label": "5-95% of the draws"}
        band(ax, T, c["band_lo"], c["band_hi"], **spread)
        for key, style, label in _energy_curves(q):
            curve(ax, T, c[key], label=label, **style)
        fails = np.isfinite(c["exact_quantile"]) & (c["paper_fails"] > 0)
        below = f"the paper's bound is below the exact {q} quantile"
        curve(ax, T[fails], c["paper"][fails], label=below, **cross)
        _log2_axis(ax, T)
        ax.set(title=name, xlabel="filter length T", ylabel=r"$\|\Phi x\|^2/\|x\|^2 - 1$")
    return finish(fig, axes, len(signals), f"{title}, p = {p:g}")


@_styled
def plot_histograms(table: dict, title: str) -> Figure:
    """Histograms of the energy with the exact density (``kind == "bin"`` / ``"curve"`` rows)."""
    kinds = np.asarray(table["kind"])
    signals = _ordered(table["signal"])
    fig, axes = panels(len(signals), 2.3)
    bar = {"align": "edge", "color": COLORS["empirical"], "alpha": 0.45, "lw": 0}
    for ax, name in zip(axes.flat, signals, strict=False):
        sel = np.asarray(table["signal"]) == name
        bins, curve = sel & (kinds == "bin"), sel & (kinds == "curve")
        left, width = table["left"][bins], table["right"][bins] - table["left"][bins]
        density = table["empirical_density"][bins]
        ax.bar(left, density, width=width, label="histogram of the draws", **bar)
        x, y = table["x"][curve], table["theory_density"][curve]
        ax.plot(x, y, color=COLORS["exact"], lw=1.2, label="exact density")
        name_T = f"{name} (T = {int(table['T'][bins][0])})"
        ax.set(title=name_T, ylabel="density", xlabel=r"$\|\Phi x\|^2/\|x\|^2$")
    return finish(fig, axes, len(signals), title)


@_styled
def plot_spectrograms(table: dict, title: str) -> Figure:
    """Spectrograms (dB) of the audio signals, from long-format rows ``signal, time, freq, db``."""
    signals = _ordered(table["signal"])
    fig, axes = panels(len(signals), 2.3)
    vmax = float(np.nanmax(np.asarray(table["db"], float)))
    mesh = {"shading": "auto", "cmap": "magma", "vmin": vmax - 80, "vmax": vmax, "rasterized": True}
    for ax, name in zip(axes.flat, signals, strict=False):
        sel = np.asarray(table["signal"]) == name
        t, f = np.unique(table["time"][sel]), np.unique(table["freq"][sel])
        db = np.asarray(table["db"][sel], float).reshape(t.size, f.size).T
        image = ax.pcolormesh(t, f / 1000, db, **mesh)
        ax.set(title=name, xlabel="time (s)", ylabel="frequency (kHz)")
        ax.grid(False)
    for ax in axes.flat[len(signals) :]:
        ax.set_visible(False)
    fig.colorbar(image, ax=axes.ravel().tolist(), label="dB", shrink=0.8)
    fig.suptitle(title, fontsize=RC["axes.titlesize"] + 1)
    return fig


# -- frames ------------------------------------------------------------------------------------


def _frame_bound_curves(side: str) -> tuple:
    """``(column, style, label)`` of the predictions of the lower (``A``) or upper (``B``) bound."""
    thin = {"color": COLORS["lower" if side == "A" else "upper"], "lw": 1.0}
    extreme, sign = ("min", "-") if side == "A" else ("max", "+")
    jaxfb = {"color": COLORS["jaxfb"], "lw": 0.9, "marker": "."}
    chi2, asymptotic = f"E {extreme} of T chi2_J / J", f"1 {sign} 2 sqrt(log T / J)"
    return (
        (f"paper_chi2_{side}", {**thin, "ls": "--"}, f"the paper's {side}: {chi2}"),
        (f"asymptotic_{side}", {**thin, "ls": ":"}, f"the paper's {side}: {asymptotic}"),
        (f"jaxfb_{side}", jaxfb, "jaxfb law (exact at T = N, star)" if side == "A" else None),
    )


@_styled
def plot_frame_bounds(table: dict, title: str) -> Figure:
    """Mean frame bounds ``A``, ``B`` with their 5-95% spread against ``T``, and predictions."""
    fig, axes = _figure(1, 1, 3.2)
    ax = axes[0, 0]
    col = {k: np.asarray(v, float) for k, v in table.items()}
    for k in ("asymptotic_A", "asymptotic_B"):  # the lower one is negative for large T
        col[k] = np.where(col[k] > 0, col[k], np.nan)
    T, star = col["T"], {"ls": "none", "marker": "*", "ms": 9, "color": COLORS["jaxfb"]}
    for side, word in (("A", "lower"), ("B", "upper")):
        color = COLORS[word]
        band(ax, T, col[f"q05_{side}"], col[f"q95_{side}"], color=color, alpha=0.15)
        mean = f"mean {word} bound {side} (band: 5-95% of the draws)"
        ax.plot(T, col[f"mean_{side}"], color=color, label=mean)
        for key, style, label in _frame_bound_curves(side):
            curve(ax, T, col[key], label=label, **style)
        exact = np.isfinite(col[f"jaxfb_{side}"]) & (T == col["N"])
        ax.plot(T[exact], col[f"jaxfb_{side}"][exact], **star)
    _log2_axis(ax, T)
    _undefined(ax, math.exp(col["J"][0] / 4), math.inf)  # there 1 - 2 sqrt(log T / J) <= 0
    ax.axhline(1.0, color="grey", lw=0.6)
    ax.set(xlabel="filter length T", ylabel="frame bound")
    ax.set_title(f"{title} (J = {int(col['J'][0])}, N = {int(col['N'][0])})")
    _merged_legend(fig, [ax], ncols=2)
    return fig


def _kappa_curves() -> tuple:
    """``(column, style, label)`` of the lines of one condition-number panel, in order."""
    blue, jaxfb = COLORS["empirical"], {"color": COLORS["jaxfb"], "lw": 0.9}
    mean, law = "mean condition number (band: 2 standard errors)", "jaxfb law for the"
    authors, exact = "the authors' curve: running mean over T", "(exact at T = N)"
    tilde = {"color": COLORS["paper"], "ls": "--", "marker": "s", "ms": 2.5}
    return (
        ("mean_kappa", {"color": blue, "marker": "o"}, mean),
        ("median_kappa", {"color": blue, "ls": ":"}, "median condition number"),
        ("ratio_of_means", {"color": "tab:cyan", "ls": "-.", "lw": 1.0}, "mean B / mean A"),
        ("cumulative_mean_kappa", {"color": "grey", "ls": "--", "lw": 0.9}, authors),
        ("kappa_tilde", tilde, "the paper's kappa_tilde"),
        ("jaxfb_kappa", {**jaxfb, "marker": "."}, f"{law} mean {exact}"),
        ("jaxfb_median_kappa", {**jaxfb, "ls": ":"}, f"{law} median {exact}"),
        ("fitted_kappa", {"color": COLORS["fit"], "lw": 1.0}, "fitted law"),
    )


def _kappapanels(table, panel_by: str, values, fit_label, title, height, max_cols=3) -> Figure:
    """One panel of condition numbers against ``T`` per ``J`` (``panel_by="J"``) or the reverse.

    The x-range where ``J <= 4 log T`` (the paper's ``kappa_tilde`` undefined) is shaded.
    """
    x_by = "T" if panel_by == "J" else "J"
    fig, axes = panels(len(values), height, max_cols)
    for ax, v in zip(axes.flat, values, strict=False):
        rows = np.asarray(table[panel_by], float) == v
        col = {k: np.asarray(table[k], float)[rows] for k in table}
        x, mean, se = col[x_by], col["mean_kappa"], col["mean_kappa_se"]
        band(ax, x, mean - 2 * se, mean + 2 * se, color=COLORS["band"], alpha=0.2)
        for key, style, label in _kappa_curves():
            if key in table:
                curve(ax, x, col[key], label=label, **style)
        _log2_axis(ax, x)
        _log_y(ax)
        if panel_by == "J":  # undefined for T >= exp(J / 4)
            _undefined(ax, math.exp(v / 4), math.inf)
        else:  # undefined for J <= 4 log T
            _undefined(ax, 0.0, 4 * math.log(v))
        xlabel = "filter length T" if x_by == "T" else "number of filters J"
        ax.set(title=f"{panel_by} = {v}", xlabel=xlabel, ylabel="condition number")
    title = f"{title} (N = {int(table['N'][0])})"
    return finish(fig, axes, len(values), title, ncols=2, rename={"fitted law": fit_label})


@_styled
def plot_kappa_vs_T(table: dict, title: str, fit_label: str) -> Figure:
    """Condition numbers against ``T``, one panel per ``J``."""
    Js = sorted({int(j) for j in table["J"]})
    return _kappapanels(table, "J", Js, fit_label, title, 2.6)


@_styled
def plot_kappa_vs_J(table: dict, title: str, fit_label: str, max_panels: int = 4) -> Figure:
    """Condition numbers against ``J`` for several ``T`` (at most ``max_panels`` panels)."""
    Ts = sorted({int(t) for t in table["T"]})
    if len(Ts) > max_panels:
        idx = np.unique(np.round(np.linspace(0, len(Ts) - 1, max_panels)).astype(int))
        Ts = [Ts[i] for i in idx]
    return _kappapanels(table, "T", Ts, fit_label, title, 2.5, max_cols=2)


@_styled
def plot_scaling(table: dict, title: str, fit_label: str) -> Figure:
    """``log`` of the mean condition number against ``u = log T / J``, every ``(J, T)`` point.

    The paper's ``kappa_tilde`` is undefined for ``u >= 1/4``: that range is shaded.
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, axes = _figure(1, 1, 3.0)
    ax = axes[0, 0]
    col = {k: np.asarray(v, float) for k, v in table.items()}
    u, y, se, J = col["u"], col["log_mean_kappa"], col["log_mean_kappa_se"], col["J"]
    points = {
        "cmap": "viridis",
        "s": 9,
        "zorder": 3,
        "label": "log mean condition number (colour: J)",
    }
    sc = ax.scatter(u, y, c=np.log2(J), **points)
    bars = {"ls": "none", "ecolor": "grey", "elinewidth": 0.6, "zorder": 2}
    ax.errorbar(u, y, yerr=2 * np.where(np.isfinite(se), se, 0), **bars)
    order, tilde = np.argsort(u), {"color": COLORS["paper"], "ls": "--"}
    curve(ax, u[order], col["log_kappa_tilde"][order], label="the paper's log kappa_tilde", **tilde)
    curve(ax, u[order], col["fitted"][order], color=COLORS["fit"], label=fit_label)
    cb = fig.colorbar(sc, ax=ax)
    ticks = sorted({round(float(v)) for v in np.log2(J)})
    cb.set_ticks(ticks)
    cb.set_ticklabels([str(2**t) for t in ticks])
    cb.set_label("J")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="u = log T / J", ylabel="log mean condition number", title=title)
    ax.set_ylim(0, max(np.nanmax(y) * 1.1, 0.1))
    _undefined(ax, 0.25, math.inf)
    _merged_legend(fig, [ax], ncols=2)
    return fig
