"""The house style of jaxfb's figures and the helpers every figure of a results folder shares.

Built without :mod:`matplotlib.pyplot` (no global state: headless, thread-safe). A figure is a
page-wide :class:`~matplotlib.figure.Figure` drawn under :data:`RC` (:func:`styled`), its panels'
legends merged into one below them (off the curves), and saved by :func:`save_figure` as PNG and
PDF with the same bytes for the same data. Used by the reproduction's figures and by any script
that adds a figure beside them.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "RC",
    "WIDTH",
    "band",
    "curve",
    "figure",
    "finish",
    "log2_axis",
    "log_y",
    "merged_legend",
    "panels",
    "save_figure",
    "styled",
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
"""The rcParams every figure is drawn under (:func:`styled`)."""

WIDTH = 7.2
"""Figure width in inches: a two-column page."""


def figure(nrows: int, ncols: int, height: float) -> tuple[Figure, np.ndarray]:
    """A page-wide figure of ``nrows x ncols`` panels, ``height`` inches per row."""
    fig = Figure(figsize=(WIDTH, height * nrows), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def panels(count: int, height: float, max_cols: int = 3) -> tuple[Figure, np.ndarray]:
    """A figure with room for ``count`` panels, at most ``max_cols`` per row."""
    ncols = min(count, max_cols)
    return figure(math.ceil(count / ncols), ncols, height)


def styled(fn):
    """Decorator: build the figure under :data:`RC` (restored afterwards)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import matplotlib as mpl

        with mpl.rc_context(RC):
            return fn(*args, **kwargs)

    return wrapper


def save_figure(fig: Figure, base: str | Path, *, dpi: int = 150) -> list[Path]:
    """Write ``base.png`` and ``base.pdf`` (no timestamps: same data, same bytes)."""
    base = Path(base)
    png, pdf = base.with_suffix(".png"), base.with_suffix(".pdf")
    fig.savefig(png, dpi=dpi, metadata={"Software": None})
    fig.savefig(pdf, metadata={"Creator": None, "Producer": None, "CreationDate": None})
    return [png, pdf]


def merged_legend(fig, axes, *, rename=None, ncols=3):
    """One legend below the panels (off the curves) with every distinct label of every panel."""
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    labels = [(rename or {}).get(lab, lab) for lab in labels]
    return fig.legend(
        handles=handles, labels=labels, loc="outside lower center", ncols=ncols, frameon=False
    )


def finish(fig, axes, count: int, title: str, ncols: int = 3, rename=None) -> Figure:
    """Hide the panels after the first ``count``, add the merged legend and the title."""
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    merged_legend(fig, axes.flat[:count], rename=rename, ncols=ncols)
    fig.suptitle(title, fontsize=RC["axes.titlesize"] + 1)
    return fig


def curve(ax, x, y, **kw) -> None:
    """Plot the finite points of ``y`` against ``x`` (nothing when there are none)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if np.any(ok):
        ax.plot(x[ok], y[ok], **kw)


def band(ax, x, lo, hi, **kw) -> None:
    """Fill between ``lo`` and ``hi`` where both are finite."""
    x, lo, hi = (np.asarray(v, float) for v in (x, lo, hi))
    ok = np.isfinite(lo) & np.isfinite(hi)
    if np.any(ok):
        ax.fill_between(x[ok], lo[ok], hi[ok], lw=0, **kw)


def log2_axis(ax, lengths, max_labels: int = 6):
    """Log-2 x-axis with plain labels at powers of two (every other one when they would crowd)."""
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


def log_y(ax):
    """Log y-axis with plain-text tick labels (mathtext labels triple the layout time)."""
    from matplotlib.ticker import LogFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.5)))
