r"""Figures for scaling-law fits (matplotlib, no pyplot: safe in scripts and on headless machines).

Each function returns a :class:`matplotlib.figure.Figure`; save it with ``fig.savefig(path)``
(PNG through the Agg canvas). Imported on demand, never by the fitting code.
"""

from __future__ import annotations

import itertools
import math
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


def _signal_length(fit: FitResult):
    """The data's ``N`` (``None`` for laws of ``(J, T)`` alone)."""
    return fit.covariates[2] if "N" in fit.model.covariates else None


def _int_grid(lo: float, hi: float, num: int) -> np.ndarray:
    """About ``num`` integers spaced geometrically from ``lo`` to ``hi`` (laws of ``N`` need
    integer ``J``, ``T`` wherever ``T < N``; each point costs a quadrature there)."""
    return np.unique(np.rint(np.geomspace(lo, hi, num)))


def _curves(fit: FitResult, sel: np.ndarray):
    """``(label, T grid, N grid)`` per curve through the points ``sel`` of one ``J``.

    Laws of ``(J, T)``: one curve (``N`` is ``None``). Laws of ``N``: one curve per signal
    length ``N`` shared by several points, and one with ``N = T`` through the points whose ``N``
    is their own ``T`` and no one else's (a sweep with ``N = T``).
    """
    T = fit.covariates[1][sel]
    N = _signal_length(fit)
    if N is None:
        return [("", np.geomspace(T.min(), T.max(), 60), None)]
    N = N[sel]
    out, alone = [], np.zeros(T.shape, bool)
    for n in np.unique(N):
        on = N == n
        if np.all(T[on] == n):
            alone |= on
            continue
        Tg = _int_grid(T[on].min(), T[on].max(), 24)
        out.append((f"N = {n:g}", Tg, np.full_like(Tg, n)))
    if alone.any():
        Tg = np.geomspace(T[alone].min(), T[alone].max(), 60)
        out.append(("N = T", Tg, Tg))
    return out


def plot_collapse(fits: Mapping[str, FitResult], *, best: str | None = None) -> Figure:
    r"""Data collapse: :math:`\mathbb E[\log\kappa]` against ``u = log T / J``, coloured by ``J``.

    Points are the data (with 2-SE bars); solid lines the ``best`` law (default: lowest AIC)
    along ``T`` for each ``J``; the dashed black line the fitted ``"paper"`` form (a function of
    ``u`` alone) and the dotted grey line the paper's :math:`\log\tilde\kappa` (``c = 2``) where
    it is defined. A law of ``u`` alone collapses all colours onto one curve. For a law of the
    signal length (``"orderstat_n"``) the lines follow the data's ``N``: one per fixed ``N``
    (line styles in order of ``N``) and one with ``N = T``.

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
    J, T = ref.covariates[:2]
    u = np.log(T) / J
    fig = Figure(figsize=(8.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    Js = np.unique(J)
    curves = {j: _curves(ref, J == j) for j in Js}
    labels = sorted({c[0] for cs in curves.values() for c in cs}, key=lambda k: (k == "N = T", k))
    styles = dict(zip(labels, itertools.cycle(("-", "--", "-.", ":")), strict=False))
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
        for label, Tg, Ng in curves[j]:
            xs = (np.full_like(Tg, j), Tg) if Ng is None else (np.full_like(Tg, j), Tg, Ng)
            pred = np.asarray(ref.predict(*xs))
            ax.plot(np.log(Tg) / j, pred, styles[label], color=color, lw=1)
    if len(labels) > 1:
        for label in labels:
            ax.plot([], [], styles[label], color="0.3", lw=1, label=f"law, {label}")
    ug = np.linspace(0, u.max(), 200)
    top = 1.15 * np.max(ref.y + 2 * ref.se)
    forms = [(2.0, ":", "0.5", r"paper $\log\tilde\kappa$ (c = 2)")]
    if "paper" in fits:
        c = float(fits["paper"].params[0])
        forms.insert(0, (c, "--", "k", f"paper form, c = {c:.3f}"))
    for c, style, color, label in forms:
        z = c * np.sqrt(ug)
        with np.errstate(divide="ignore", invalid="ignore"):
            curve = np.where(z < 1, np.log((1 + z) / (1 - z)), np.nan)
        if np.any(curve <= top):  # a legend entry only for a curve inside the plot
            ax.plot(ug, curve, style, color=color, lw=1, label=label)
    ax.set_xlabel(r"$u = \log T / J$")
    ax.set_ylabel(r"$\mathbb{E}[\log\kappa]$")
    ax.set_ylim(0, top)
    ax.set_title(f"data collapse; lines: {best} law per J")
    fig.legend(fontsize=7, loc="outside right upper")
    ax.grid(alpha=0.3)
    return fig


def plot_contours(
    fit: FitResult,
    *,
    kappa0: Sequence[float] = (1.5, 2.0, 4.0),
    critical: Mapping[float, CriticalFilters] | None = None,
    rules: Mapping[float, RuleComparison] | None = None,
    n: float | str | None = None,
) -> Figure:
    r"""Iso-kappa contours in the ``(log T, J)`` plane, with the ``J*`` table and fitted rules.

    Contours: :math:`\exp\mathbb E[\log\kappa] = \kappa_0` of the fitted law (a geometric mean,
    so they sit a little below the ``E[kappa] = kappa0`` rule). Markers: ``J*`` read off the
    table of ``E[kappa]`` (:func:`~jaxfb.scaling.critical_filters`), with 2-SE bars; lines: the
    fitted logarithmic rule ``J* = a + b log T``.

    Args:
        fit: a fitted law (covariates ``J``, ``T``, and ``N`` for ``"orderstat_n"``).
        kappa0: contour levels.
        critical: optional ``kappa0 -> CriticalFilters``.
        rules: optional ``kappa0 -> RuleComparison`` (its ``log`` fit is drawn).
        n: for a law of the signal length (``"orderstat_n"``): the ``N`` of the plane, or
            ``"T"`` for ``N = T``. Default: the data's ``N`` when it has one value (``"T"`` when
            ``N = T`` at every point); required otherwise. Ignored by laws of ``(J, T)``. With a
            fixed ``N`` the grid is coarser (integers; a quadrature of the theory per point:
            seconds).

    Returns:
        a Figure.
    """
    J, T = fit.covariates[:2]
    N = _signal_length(fit)
    if N is not None and n is None:
        if np.all(N == T):
            n = "T"
        elif np.unique(N).size == 1:
            n = float(N[0])
        else:
            raise ValueError(
                f"n is required: the data of the {fit.model.name!r} law has several signal "
                f"lengths N {np.unique(N).tolist()}"
            )
    if n is not None and n != "T":
        try:
            n = float(n)
        except (TypeError, ValueError):
            raise ValueError(f'n must be a signal length or "T" (N = T), got {n!r}') from None
        if not (math.isfinite(n) and n >= 2):
            raise ValueError(f"n must be a finite signal length >= 2, got {n!r}")
    fixed_n = N is not None and n != "T"
    fig = Figure(figsize=(8.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    # a modest grid: laws with a prepare step (orderstat) cost a quadrature per grid point
    t_hi = T.max() if not fixed_n else min(T.max(), float(n))
    if fixed_n:
        Tg = _int_grid(max(T.min(), 2.0), t_hi, 14)
        Jg = _int_grid(max(J.min() / 2, 1.0), 2 * J.max(), 12)
    else:
        Tg = np.geomspace(max(T.min(), 2.0), t_hi, 48)
        Jg = np.geomspace(max(J.min() / 2, 1.0), 2 * J.max(), 64)
    TT, JJ = np.meshgrid(Tg, Jg)
    xs = (JJ, TT) if N is None else (JJ, TT, TT if n == "T" else np.full_like(TT, n))
    with np.errstate(over="ignore"):
        K = np.ma.masked_invalid(np.exp(np.asarray(fit.predict(*xs), np.float64)))
    levels = sorted(float(k) for k in kappa0)
    colors = _colors(len(levels))
    cs = ax.contour(TT, JJ, K, levels=levels, colors=colors, linewidths=1.2)
    drawn = {
        float(lv): len(p.vertices) > 0 for lv, p in zip(cs.levels, cs.get_paths(), strict=True)
    }
    for color, k0 in zip(colors, levels, strict=True):
        # legend entries only for what is drawn: a contour inside the plane, finite J*
        if drawn.get(k0, False):
            ax.plot([], [], "-", color=color, label=f"exp E[log kappa] = {k0:g} (law)")
        c = (critical or {}).get(k0)
        ok = np.isfinite(c.num_filters) if c is not None else np.zeros(0, bool)
        if ok.any():
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
    at = "" if N is None else (", N = T" if n == "T" else f", N = {float(n):g}")
    ax.set_title(f"iso-kappa: exp E[log kappa] = kappa0 ({fit.model.name} law{at})")
    fig.legend(fontsize=7, loc="outside right upper")  # beside the plane, off the contours
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_residuals(fits: Mapping[str, FitResult]) -> Figure:
    r"""Standardised residuals :math:`(y_i - \hat y_i)/s_i` against ``u = log T / J`` per model.

    Args:
        fits: model name -> :class:`FitResult` (covariates ``J``, ``T`` and maybe ``N``).

    Returns:
        a Figure with one panel per model (``+-2`` band shaded) and a legend of the colours
        (one per ``J``).
    """
    names = list(fits)
    if not names:
        raise ValueError("fits must not be empty")
    ncol = min(3, len(names))
    nrow = -(-len(names) // ncol)
    fig = Figure(figsize=(4.0 * ncol + 1.0, 3.0 * nrow), layout="constrained")
    handles = {}
    for i, name in enumerate(names):
        f = fits[name]
        J, T = f.covariates[:2]
        u = np.log(T) / J
        ax = fig.add_subplot(nrow, ncol, i + 1)
        Js = np.unique(J)
        for color, j in zip(_colors(len(Js)), Js, strict=True):
            sel = J == j
            (line,) = ax.plot(u[sel], f.residuals[sel], "o-", ms=3, lw=0.6, color=color)
            handles.setdefault(f"{j:g}", line)
        ax.axhspan(-2, 2, color="0.9", zorder=0)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"{name}: chi2/dof = {f.reduced_chi2:.3g}", fontsize=9)
        ax.set_xlabel("log T / J", fontsize=8)
        ax.set_ylabel("standardised residual", fontsize=8)
    # one key for the colours of every panel (the fits share their points)
    fig.legend(
        list(handles.values()), list(handles), title="J", fontsize=7, loc="outside right upper"
    )
    return fig
