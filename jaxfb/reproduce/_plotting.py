"""The figures of the reproduction, drawn from their tables with one consistent style.

Every function takes the table that is written beside the figure as CSV and returns a
:class:`matplotlib.figure.Figure`; figures are built without :mod:`matplotlib.pyplot` (no global
state, no display: the Agg canvas renders PNG and the PDF backend the PDF), so a run behaves the
same on a headless machine, in a thread, or next to an interactive session.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "COLORS",
    "plot_energy",
    "plot_frame_bounds",
    "plot_histograms",
    "plot_kappa_vs_J",
    "plot_kappa_vs_T",
    "plot_scaling",
    "plot_spectrograms",
    "save_figure",
]

RC = {
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "legend.fontsize": 7,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.3,
    "lines.markersize": 3.5,
}

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
}

LABELS = {
    "cantelli": "Cantelli",
    "paper": "Chernoff, paper's formula (not a valid bound)",
    "laurent_massart": "Laurent-Massart (valid)",
    "exact_chernoff": "exact Chernoff (valid)",
}

WIDTH = 7.2  # inches: a two-column page


def _figure(nrows: int, ncols: int, height: float) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(WIDTH, height * nrows), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _styled(fn):
    """Build the figure under the style's rcParams (restored afterwards)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import matplotlib as mpl

        with mpl.rc_context(RC):
            return fn(*args, **kwargs)

    return wrapper


def _legend(ax_or_fig, **kw):
    kw.setdefault("frameon", False)
    return ax_or_fig.legend(**kw)


def save_figure(fig: Figure, base: str | Path, *, dpi: int = 150) -> list[Path]:
    """Write ``base.png`` and ``base.pdf`` (no timestamps: same data, same bytes)."""
    base = Path(base)
    png, pdf = base.with_suffix(".png"), base.with_suffix(".pdf")
    fig.savefig(png, dpi=dpi, metadata={"Software": None})
    fig.savefig(pdf, metadata={"Creator": None, "Producer": None, "CreationDate": None})
    return [png, pdf]


def _merged_legend(fig, axes, *, rename=None, ncols=3):
    """One legend below the panels with every distinct label of every panel."""
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    rename = rename or {}
    labels = [rename.get(lab, lab) for lab in labels]
    return _legend(fig, handles=handles, labels=labels, loc="outside lower center", ncols=ncols)


def _ordered(values) -> list[str]:
    seen: list[str] = []
    for v in np.asarray(values).tolist():
        if v not in seen:
            seen.append(v)
    return seen


def _log2_axis(ax, lengths, max_labels: int = 6):
    """Log-2 axis with plain labels at powers of two (every other one when they would crowd)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log", base=2)
    lengths = np.asarray(lengths, float)
    lo, hi = math.floor(math.log2(lengths.min())), math.ceil(math.log2(lengths.max()))
    ticks = [2**k for k in range(lo, hi + 1)]
    step = 1 if len(ticks) <= max_labels else 2
    labelled = ticks[::-1][::step][::-1]  # keep the largest length labelled
    ax.set_xticks(labelled)
    ax.set_xticklabels([str(t) for t in labelled])
    ax.set_xticks([t for t in ticks if t not in labelled], minor=True)
    ax.xaxis.set_minor_formatter(NullFormatter())


def _log_y(ax):
    """Log y-axis with plain-text tick labels (mathtext labels triple the layout time)."""
    from matplotlib.ticker import LogFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.5)))


def _grid_shape(count: int, max_cols: int = 3) -> tuple[int, int]:
    ncols = min(count, max_cols)
    return math.ceil(count / ncols), ncols


# -- energy ------------------------------------------------------------------------------------


@_styled
def plot_energy(table: dict, p: float, title: str) -> Figure:
    """Relative energy deviation against ``T`` per signal, with the bounds at level ``p``."""
    signals = _ordered(table["signal"])
    nrows, ncols = _grid_shape(len(signals))
    fig, axes = _figure(nrows, ncols, 2.5)
    q = 1 - p
    for ax, name in zip(axes.flat, signals, strict=False):
        rows = np.asarray(table["signal"]) == name
        T = np.asarray(table["T"], float)[rows]
        ax.fill_between(
            T,
            table["band_lo"][rows],
            table["band_hi"][rows],
            color=COLORS["band"],
            alpha=0.15,
            lw=0,
            label="5-95% of draws",
        )
        ax.plot(T, table["mean"][rows], color=COLORS["empirical"], label="mean")
        ax.plot(
            T,
            table["quantile"][rows],
            color=COLORS["empirical"],
            ls="--",
            label=f"{100 * q:g}% quantile (draws)",
        )
        th = rows & np.isfinite(np.asarray(table["exact_quantile"], float))
        Tt = np.asarray(table["T"], float)[th]
        ax.plot(
            Tt,
            table["exact_quantile"][th],
            color=COLORS["exact"],
            ls=":",
            marker=".",
            label=f"{100 * q:g}% quantile (exact)",
        )
        for key in ("cantelli", "laurent_massart", "exact_chernoff", "paper"):
            ax.plot(
                Tt,
                table[key][th],
                color=COLORS[key],
                ls="--" if key == "paper" else "-",
                lw=1.0,
                label=f"{LABELS[key]}",
            )
        fails = th & (np.asarray(table["paper_fails"], float) > 0)
        if np.any(fails):
            ax.plot(
                np.asarray(table["T"], float)[fails],
                table["paper"][fails],
                ls="none",
                marker="x",
                ms=6,
                mew=1.5,
                color=COLORS["paper"],
                label=f"paper's alpha < exact {100 * q:g}% quantile",
            )
        _log2_axis(ax, T)
        ax.set_title(name)
        ax.set_xlabel("filter length T")
        ax.set_ylabel(r"$\|\Phi x\|^2/\|x\|^2 - 1$")
    for ax in axes.flat[len(signals) :]:
        ax.set_visible(False)
    _merged_legend(fig, axes.flat[: len(signals)])
    fig.suptitle(f"{title}, p = {p:g}", fontsize=RC["axes.titlesize"] + 1)
    return fig


@_styled
def plot_histograms(table: dict, title: str) -> Figure:
    """Histograms of the energy with the exact density (``kind == "bin"`` / ``"curve"`` rows)."""
    kinds = np.asarray(table["kind"])
    signals = _ordered(table["signal"])
    nrows, ncols = _grid_shape(len(signals))
    fig, axes = _figure(nrows, ncols, 2.3)
    for ax, name in zip(axes.flat, signals, strict=False):
        sel = np.asarray(table["signal"]) == name
        bins = sel & (kinds == "bin")
        curve = sel & (kinds == "curve")
        left, right = table["left"][bins], table["right"][bins]
        ax.bar(
            left,
            table["empirical_density"][bins],
            width=right - left,
            align="edge",
            color=COLORS["empirical"],
            alpha=0.45,
            lw=0,
            label="draws",
        )
        ax.plot(
            table["x"][curve],
            table["theory_density"][curve],
            color=COLORS["exact"],
            lw=1.2,
            label="theory density",
        )
        ax.set_title(f"{name} (T = {int(table['T'][bins][0])})")
        ax.set_xlabel(r"$\|\Phi x\|^2/\|x\|^2$")
        ax.set_ylabel("density")
    for ax in axes.flat[len(signals) :]:
        ax.set_visible(False)
    _legend(axes.flat[0], loc="best")
    fig.suptitle(title, fontsize=RC["axes.titlesize"] + 1)
    return fig


@_styled
def plot_spectrograms(table: dict, title: str) -> Figure:
    """Spectrograms (dB) of the audio signals, from long-format rows ``signal, time, freq, db``."""
    signals = _ordered(table["signal"])
    nrows, ncols = _grid_shape(len(signals))
    fig, axes = _figure(nrows, ncols, 2.3)
    vmax = float(np.nanmax(np.asarray(table["db"], float)))
    for ax, name in zip(axes.flat, signals, strict=False):
        sel = np.asarray(table["signal"]) == name
        t = np.unique(table["time"][sel])
        f = np.unique(table["freq"][sel])
        db = np.asarray(table["db"][sel], float).reshape(t.size, f.size).T
        mesh = ax.pcolormesh(
            t,
            f / 1000,
            db,
            shading="auto",
            cmap="magma",
            vmin=vmax - 80,
            vmax=vmax,
            rasterized=True,
        )
        ax.set_title(name)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (kHz)")
        ax.grid(False)
        ax.grid(False)
    for ax in axes.flat[len(signals) :]:
        ax.set_visible(False)
    fig.colorbar(mesh, ax=axes.ravel().tolist(), label="dB", shrink=0.8)
    fig.suptitle(title, fontsize=RC["axes.titlesize"] + 1)
    return fig


# -- frames ------------------------------------------------------------------------------------


@_styled
def plot_frame_bounds(table: dict, title: str) -> Figure:
    """Mean frame bounds ``A``, ``B`` with their 5-95% spread against ``T``, and predictions."""
    fig, axes = _figure(1, 1, 3.2)
    ax = axes[0, 0]
    T = np.asarray(table["T"], float)
    for side, key in (("A", "lower"), ("B", "upper")):
        ax.fill_between(
            T, table[f"q05_{side}"], table[f"q95_{side}"], color=COLORS[key], alpha=0.15, lw=0
        )
        ax.plot(T, table[f"mean_{side}"], color=COLORS[key], label=f"mean {side} (5-95% band)")
        chi2 = np.asarray(table[f"paper_chi2_{side}"], float)
        ok = np.isfinite(chi2)  # computed at the theory lengths only
        ax.plot(
            T[ok],
            chi2[ok],
            color=COLORS[key],
            ls="--",
            lw=1.0,
            label=rf"paper: E {'min' if side == 'A' else 'max'} of T $\chi^2_J/J$",
        )
        asym = np.asarray(table[f"asymptotic_{side}"], float)
        ok = asym > 0
        ax.plot(
            T[ok],
            asym[ok],
            color=COLORS[key],
            ls=":",
            lw=1.0,
            label=rf"paper: $1 {'-' if side == 'A' else '+'} 2\sqrt{{\log T/J}}$",
        )
        pred = np.asarray(table[f"jaxfb_{side}"], float)
        ok = np.isfinite(pred)
        ax.plot(
            T[ok],
            pred[ok],
            color=COLORS["jaxfb"],
            lw=0.9,
            marker=".",
            label="jaxfb prediction (exact at T = N)" if side == "A" else None,
        )
        exact = ok & (T == np.asarray(table["N"], float))
        ax.plot(T[exact], pred[exact], ls="none", marker="*", ms=9, color=COLORS["jaxfb"])
    _log2_axis(ax, T)
    ax.axhline(1.0, color="grey", lw=0.6)
    ax.set_xlabel("filter length T")
    ax.set_ylabel("frame bound")
    J, N = int(table["J"][0]), int(table["N"][0])
    ax.set_title(f"{title} (J = {J}, N = {N})")
    _legend(fig, loc="outside lower center", ncols=3)
    return fig


def _kappa_lines(ax, x, rows, table, *, exact_label):
    mean = np.asarray(table["mean_kappa"], float)[rows]
    se = np.asarray(table["mean_kappa_se"], float)[rows]
    ok = np.isfinite(mean)
    if np.any(ok):
        ax.plot(x[ok], mean[ok], color=COLORS["empirical"], marker="o", label="mean kappa")
        band = ok & np.isfinite(se)
        ax.fill_between(
            x[band],
            (mean - 2 * se)[band],
            (mean + 2 * se)[band],
            color=COLORS["band"],
            alpha=0.2,
            lw=0,
        )
    ax.plot(
        x,
        np.asarray(table["median_kappa"], float)[rows],
        color=COLORS["empirical"],
        ls=":",
        label="median kappa",
    )
    ax.plot(
        x,
        np.asarray(table["ratio_of_means"], float)[rows],
        color="tab:cyan",
        ls="-.",
        lw=1.0,
        label="mean B / mean A",
    )
    if "cumulative_mean_kappa" in table:
        cum = np.asarray(table["cumulative_mean_kappa"], float)[rows]
        ok = np.isfinite(cum)
        ax.plot(
            x[ok],
            cum[ok],
            color="grey",
            lw=0.9,
            ls="--",
            label="authors' cumulative average over T",
        )
    tilde = np.asarray(table["kappa_tilde"], float)[rows]
    ok = np.isfinite(tilde)
    ax.plot(
        x[ok],
        tilde[ok],
        color=COLORS["paper"],
        ls="--",
        marker="s",
        ms=2.5,
        label=r"paper's $\tilde\kappa$ (where defined)",
    )
    pred = np.asarray(table["jaxfb_kappa"], float)[rows]
    ok = np.isfinite(pred)
    ax.plot(x[ok], pred[ok], color=COLORS["jaxfb"], lw=0.9, marker=".", label=exact_label)
    med = np.asarray(table["jaxfb_median_kappa"], float)[rows]
    ok = np.isfinite(med)
    if np.any(ok):
        ax.plot(
            x[ok],
            med[ok],
            color=COLORS["jaxfb"],
            lw=0.9,
            ls=":",
            label="jaxfb prediction of the median",
        )
    fitted = np.asarray(table["fitted_kappa"], float)[rows]
    ok = np.isfinite(fitted)
    if np.any(ok):
        ax.plot(x[ok], fitted[ok], color=COLORS["fit"], lw=1.0, ls="-", label="fitted law")


def _kappa_panels(
    table: dict, panel_by: str, values: list[int], x_by: str, xlabel: str, fit_label: str,
    title: str, height: float, max_cols: int = 3,
) -> Figure:  # fmt: skip
    """One panel of condition numbers against ``table[x_by]`` for each ``table[panel_by]`` value."""
    nrows, ncols = _grid_shape(len(values), max_cols)
    fig, axes = _figure(nrows, ncols, height)
    for ax, v in zip(axes.flat, values, strict=False):
        rows = np.asarray(table[panel_by], float) == v
        x = np.asarray(table[x_by], float)[rows]
        _kappa_lines(ax, x, rows, table, exact_label="jaxfb prediction of E kappa")
        _log2_axis(ax, x)
        _log_y(ax)
        ax.set_title(f"{panel_by} = {v}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("condition number")
    for ax in axes.flat[len(values) :]:
        ax.set_visible(False)
    _merged_legend(fig, axes.flat, rename={"fitted law": fit_label}, ncols=2)
    fig.suptitle(f"{title} (N = {int(table['N'][0])})", fontsize=RC["axes.titlesize"] + 1)
    return fig


@_styled
def plot_kappa_vs_T(table: dict, title: str, fit_label: str) -> Figure:
    """Condition numbers against ``T``, one panel per ``J``."""
    Js = sorted({int(j) for j in table["J"]})
    return _kappa_panels(table, "J", Js, "T", "filter length T", fit_label, title, 2.6)


@_styled
def plot_kappa_vs_J(table: dict, title: str, fit_label: str, max_panels: int = 4) -> Figure:
    """Condition numbers against ``J`` for several ``T`` (at most ``max_panels`` panels)."""
    Ts = sorted({int(t) for t in table["T"]})
    if len(Ts) > max_panels:
        idx = np.unique(np.round(np.linspace(0, len(Ts) - 1, max_panels)).astype(int))
        Ts = [Ts[i] for i in idx]
    return _kappa_panels(
        table, "T", Ts, "J", "number of filters J", fit_label, title, 2.5, max_cols=2
    )


@_styled
def plot_scaling(table: dict, title: str, fit_label: str) -> Figure:
    """``log`` of the mean condition number against ``log T / J``, every ``(J, T)`` point."""
    fig, axes = _figure(1, 1, 3.0)
    ax = axes[0, 0]
    u = np.asarray(table["u"], float)
    y = np.asarray(table["log_mean_kappa"], float)
    se = np.asarray(table["log_mean_kappa_se"], float)
    J = np.asarray(table["J"], float)
    sc = ax.scatter(u, y, c=np.log2(J), cmap="viridis", s=9, zorder=3)
    ax.errorbar(
        u,
        y,
        yerr=2 * np.where(np.isfinite(se), se, 0),
        ls="none",
        ecolor="grey",
        elinewidth=0.6,
        zorder=2,
    )
    order = np.argsort(u)
    tilde = np.asarray(table["log_kappa_tilde"], float)[order]
    ok = np.isfinite(tilde)
    ax.plot(
        u[order][ok], tilde[ok], color=COLORS["paper"], ls="--", label=r"paper's $\log\tilde\kappa$"
    )
    fit = np.asarray(table["fitted"], float)[order]
    ok = np.isfinite(fit)
    ax.plot(u[order][ok], fit[ok], color=COLORS["fit"], label=fit_label)
    cb = fig.colorbar(sc, ax=ax)
    ticks = sorted({round(float(v)) for v in np.log2(J)})
    cb.set_ticks(ticks)
    cb.set_ticklabels([str(2**t) for t in ticks])
    cb.set_label("J")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("u = log T / J")
    ax.set_ylabel("log mean kappa")
    ax.set_ylim(0, max(np.nanmax(y) * 1.3, 0.1))
    ax.set_title(title)
    _legend(ax, loc="upper left")
    return fig
