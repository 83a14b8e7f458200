r"""Figures for scaling-law fits (matplotlib, no pyplot: safe in scripts and on headless machines).

Each function returns a :class:`matplotlib.figure.Figure`; save it with ``fig.savefig(path)``
(PNG through the Agg canvas). Imported on demand, never by the fitting code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from ._critical import CriticalFilters, RuleComparison
from ._fit import FitResult

__all__ = ["plot_collapse", "plot_contours", "plot_residuals"]


def _colors(n):
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.0, 0.9, max(n, 1))]


def plot_collapse(fits: Mapping[str, FitResult], *, best: str | None = None) -> Figure:
    r"""Data collapse: :math:`\mathbb E[\log\kappa]` against ``u = log T / J``, coloured by ``J``.

    Points are the data (with 2-SE bars); solid lines the ``best`` law (default: lowest AIC)
    along ``T`` for each ``J``; the dashed black line the fitted ``"paper"`` form (a function of
    ``u`` alone) and the dotted grey line the paper's :math:`\log\tilde\kappa` (``c = 2``) where
    it is defined. A law of ``u`` alone collapses all colours onto one curve.

    Args:
        fits: model name -> :class:`FitResult`, all fitted to the same ``(J, T)`` data.
        best: name of the law drawn per ``J``.

    Returns:
        a Figure.
    """
    if not fits:
        raise ValueError("fits must not be empty")
    if best is None:
        best = min(fits, key=lambda k: fits[k].aic)
    ref = fits[best]
    J, T = ref.covariates
    u = np.log(T) / J
    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    ax = fig.add_subplot()
    Js = np.unique(J)
    for color, j in zip(_colors(len(Js)), Js, strict=True):
        sel = J == j
        ax.errorbar(
            u[sel],
            ref.y[sel],
            yerr=2 * ref.se[sel],
            fmt="o",
            ms=3.5,
            color=color,
            label=f"J = {j:g}",
        )
        Tg = np.geomspace(T[sel].min(), T[sel].max(), 60)
        pred = np.asarray(ref.predict(np.full_like(Tg, j), Tg))
        ax.plot(np.log(Tg) / j, pred, "-", color=color, lw=1)
    ug = np.linspace(0, u.max(), 200)
    if "paper" in fits:
        p = fits["paper"]
        c = p.params[0]
        z = c * np.sqrt(ug)
        with np.errstate(divide="ignore", invalid="ignore"):
            ax.plot(
                ug,
                np.where(z < 1, np.log((1 + z) / (1 - z)), np.nan),
                "k--",
                lw=1,
                label=f"paper form, c = {c:.3f}",
            )
    z2 = 2 * np.sqrt(ug)
    with np.errstate(divide="ignore", invalid="ignore"):
        ax.plot(
            ug,
            np.where(z2 < 1, np.log((1 + z2) / (1 - z2)), np.nan),
            ":",
            color="0.5",
            label=r"paper $\log\tilde\kappa$ (c = 2)",
        )
    ax.set_xlabel(r"$u = \log T / J$")
    ax.set_ylabel(r"$\mathbb{E}[\log\kappa]$")
    ax.set_ylim(0, 1.15 * np.max(ref.y + 2 * ref.se))
    ax.set_title(f"data collapse; lines: {best} law per J")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def plot_contours(
    fit: FitResult,
    *,
    kappa0: Sequence[float] = (1.5, 2.0, 4.0),
    critical: Mapping[float, CriticalFilters] | None = None,
    rules: Mapping[float, RuleComparison] | None = None,
) -> Figure:
    r"""Iso-kappa contours in the ``(log T, J)`` plane, with the ``J*`` table and fitted rules.

    Contours: :math:`\exp\mathbb E[\log\kappa] = \kappa_0` of the fitted law (a geometric mean,
    so they sit a little below the ``E[kappa] = kappa0`` rule). Markers: ``J*`` read off the
    table of ``E[kappa]`` (:func:`~jaxfb.scaling.critical_filters`), with 2-SE bars; lines: the
    fitted logarithmic rule ``J* = a + b log T``.

    Args:
        fit: a fitted law (covariates ``J``, ``T``).
        kappa0: contour levels.
        critical: optional ``kappa0 -> CriticalFilters``.
        rules: optional ``kappa0 -> RuleComparison`` (its ``log`` fit is drawn).

    Returns:
        a Figure.
    """
    J, T = fit.covariates
    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    ax = fig.add_subplot()
    # a modest grid: laws with a prepare step (orderstat) cost a quadrature per grid point
    Tg = np.geomspace(max(T.min(), 2.0), T.max(), 48)
    Jg = np.geomspace(max(J.min() / 2, 1.0), 2 * J.max(), 64)
    TT, JJ = np.meshgrid(Tg, Jg)
    with np.errstate(over="ignore"):
        K = np.ma.masked_invalid(np.exp(np.asarray(fit.predict(JJ, TT), np.float64)))
    levels = sorted(float(k) for k in kappa0)
    colors = _colors(len(levels))
    ax.contour(TT, JJ, K, levels=levels, colors=colors, linewidths=1.2)
    for color, k0 in zip(colors, levels, strict=True):
        ax.plot([], [], "-", color=color, label=f"exp E[log kappa] = {k0:g} (law)")
        if critical and k0 in critical:
            c = critical[k0]
            ok = np.isfinite(c.num_filters)
            ax.errorbar(
                c.length[ok],
                c.num_filters[ok],
                yerr=2 * np.nan_to_num(c.se[ok]),
                fmt="o",
                ms=4,
                color=color,
                label=f"J* table, kappa0 = {k0:g}",
            )
        if rules and k0 in rules:
            a, b = rules[k0].log.params
            ax.plot(
                Tg,
                a + b * np.log(Tg),
                "--",
                color=color,
                lw=1,
                label=f"J* = {a:.1f} + {b:.2f} log T",
            )
    ax.scatter(T, J, s=6, color="0.6", zorder=0, label="sweep grid")
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis, lo, hi in ((ax.xaxis, Tg[0], Tg[-1]), (ax.yaxis, Jg[0], Jg[-1])):
        ticks = 2.0 ** np.arange(np.floor(np.log2(lo)), np.ceil(np.log2(hi)) + 1)
        axis.set_ticks(ticks)
        axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlim(Tg[0], Tg[-1])
    ax.set_ylim(Jg[0], Jg[-1])
    ax.set_xlabel("filter length T")
    ax.set_ylabel("number of filters J")
    ax.set_title(f"iso-kappa: exp E[log kappa] = kappa0 ({fit.model.name} law)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_residuals(fits: Mapping[str, FitResult]) -> Figure:
    r"""Standardised residuals :math:`(y_i - \hat y_i)/s_i` against ``u = log T / J`` per model.

    Args:
        fits: model name -> :class:`FitResult` (laws with covariates ``J``, ``T``).

    Returns:
        a Figure with one panel per model (``+-2`` band shaded).
    """
    names = list(fits)
    if not names:
        raise ValueError("fits must not be empty")
    ncol = min(3, len(names))
    nrow = -(-len(names) // ncol)
    fig = Figure(figsize=(4.0 * ncol, 3.0 * nrow), layout="constrained")
    for i, name in enumerate(names):
        f = fits[name]
        J, T = f.covariates
        u = np.log(T) / J
        ax = fig.add_subplot(nrow, ncol, i + 1)
        Js = np.unique(J)
        for color, j in zip(_colors(len(Js)), Js, strict=True):
            sel = J == j
            ax.plot(u[sel], f.residuals[sel], "o-", ms=3, lw=0.6, color=color)
        ax.axhspan(-2, 2, color="0.9", zorder=0)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"{name}: chi2/dof = {f.reduced_chi2:.3g}", fontsize=9)
        ax.set_xlabel("log T / J", fontsize=8)
        ax.set_ylabel("standardised residual", fontsize=8)
    return fig
