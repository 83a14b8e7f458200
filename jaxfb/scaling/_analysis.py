r"""The scaling analysis of a sweep table in one call: :func:`analyze` -> :class:`ScalingAnalysis`.

:func:`analyze` reads a sweep summary (a ``summary.csv`` or a table of columns), fits the laws of
:math:`\mathbb E[\log\kappa]` (:func:`~jaxfb.scaling.fit`), ranks them (:func:`compare`),
optionally bootstraps them and scores :mod:`jaxfb.theory`'s prediction, reads the rule
``J*(T; kappa0)`` off the table and fits it (:func:`log_linearity_test`). Nothing it could not do
is dropped in silence: a law that failed, a bootstrap that failed, a rule not fitted, all carry
their reason, which :meth:`ScalingAnalysis.summary` prints and :meth:`ScalingAnalysis.save` writes.
``jaxfb fit`` is this function plus argument parsing.
"""

from __future__ import annotations

import io as _stdio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from .. import io
from .._env import environment
from ._bootstrap import Bootstrap, bootstrap
from ._critical import CriticalFilters, RuleComparison, critical_filters, log_linearity_test
from ._fit import DEFAULT_MODEL, Comparison, FitResult, compare, fit
from ._models import LAWS, get_model
from ._reference import theory_reference
from ._report import report_dict, summary_text
from ._samples import load_point_samples, load_samples

__all__ = ["Points", "ScalingAnalysis", "analyze"]

TARGETS: dict[str, tuple[str, str, str]] = {
    "log_kappa": ("log_kappa_mean", "log_kappa_se", "E[log kappa]"),
    "log_mean_kappa": ("kappa_mean", "kappa_se", "log E[kappa]"),
}
"""target -> (mean column, SE column, label)."""

_RULE_MIN_POINTS = 4  # the power-law alternative has 3 parameters: one degree of freedom left


class Points(NamedTuple):
    """The points the laws are fitted to (one per distinct ``(J, T[, N])``), as float64."""

    J: np.ndarray
    T: np.ndarray
    N: np.ndarray | None
    """``None`` when the table has no signal length."""
    y: np.ndarray
    se: np.ndarray
    rows: np.ndarray
    """``(n,)`` rows of the (filtered) table the points come from."""


def _read(summary, columns, where):
    """``(table, source, folder)`` from a path or a mapping of columns."""
    if isinstance(summary, (str, os.PathLike)):
        path = Path(summary)
        table = io.read_summary(path, columns=columns, where=where)
        folder = path if path.is_dir() else path.parent
        return table, str(path), folder
    if isinstance(summary, Mapping):
        if columns or where:
            raise ValueError(
                "columns= and where= apply when reading a file; for a table (a mapping of "
                "columns) rename the keys or select the rows before calling analyze"
            )
        table = {str(k): np.asarray(x).reshape(-1) for k, x in summary.items()}
        return table, None, None
    raise TypeError(
        "summary must be a path to a sweep's summary.csv (or its folder) or a mapping "
        f"column -> array, got {type(summary).__name__}"
    )


def _numeric(table, name, source) -> np.ndarray:
    x = np.asarray(table[name])
    if x.dtype.kind not in "iuf":
        raise ValueError(f"{source}: column {name!r} must be numeric, found {x.reshape(-1)[0]!r}")
    return x.astype(np.float64)


def _points(table, target, n, source):
    """The distinct points of the table, and the rows dropped (non-finite mean or SE <= 0)."""
    mean_col, se_col, _ = TARGETS[target]
    missing = [c for c in ("J", "T", mean_col, se_col) if c not in table]
    if missing:
        raise ValueError(
            f"{source}: missing column(s) {missing} for target={target!r}; found {list(table)}. "
            "Map a field to another column with columns={FIELD: COLUMN} (jaxfb fit: --column "
            "FIELD=COLUMN)"
        )
    J, T = _numeric(table, "J", source), _numeric(table, "T", source)
    mean, s = _numeric(table, mean_col, source), _numeric(table, se_col, source)
    if target == "log_kappa":
        y, se = mean, s
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            y, se = np.log(mean), s / mean
    if n is None:
        N = _numeric(table, "N", source) if "N" in table else None
    elif "N" in table:
        raise ValueError(
            f"n={n!r}: {source} has an N column already; select one N with where={{'N': ...}}"
        )
    elif isinstance(n, str) and n == "T":
        N = T.copy()
    else:
        try:
            N = np.full(T.shape, float(n))
        except (TypeError, ValueError):
            raise ValueError(f"n must be a signal length or 'T' (N = T), got {n!r}") from None
    rows = np.arange(J.size)
    keep = np.isfinite(y) & np.isfinite(se) & (se > 0) & np.isfinite(J) & np.isfinite(T)
    dropped = tuple(
        {"J": J[i], "T": T[i], "reason": "non-finite mean or SE <= 0"}
        | ({} if N is None else {"N": N[i]})
        for i in rows[~keep]
    )
    # rows repeated per signal carry the same kappa statistics: keep one of each. Several
    # signal lengths N are one data set (laws of N fit them jointly); several inits are not.
    seen, uniq = {}, []
    for i in rows[keep]:
        key = (J[i], T[i]) if N is None else (J[i], T[i], N[i])
        if key in seen:
            j = seen[key]
            if y[i] != y[j] or se[i] != se[j]:
                extra = [
                    c
                    for c in ("init", "draws", "C", "stride")
                    if c in table and table[c][i] != table[c][j]
                ]
                at = f"J={J[i]:g}, T={T[i]:g}" + ("" if N is None else f", N={N[i]:g}")
                hint = ", ".join(f"{c}={table[c][i]}" for c in extra) or "COLUMN=VALUE"
                raise ValueError(
                    f"{source}: several rows with {at} and different {mean_col}; select one "
                    f"sweep with where= (jaxfb fit: --where), e.g. {hint}"
                )
            continue
        seen[key] = i
        uniq.append(i)
    if not uniq:
        raise ValueError(f"{source}: no usable rows (every mean non-finite or SE <= 0)")
    idx = np.array(uniq, dtype=int)
    N = None if N is None else N[idx]
    return Points(J[idx], T[idx], N, y[idx], se[idx], idx), dropped


def _check_models(models) -> list[str] | str:
    """The law names asked for (``"all"`` kept as is), each checked against the registry."""
    if models is None:
        return [DEFAULT_MODEL]
    if isinstance(models, str) and models == "all":
        return "all"
    names = [models] if isinstance(models, str) else list(models)
    if not names:
        raise ValueError("models must name at least one law (or be 'all', or None)")
    for name in names:
        get_model(name)  # a clear error for an unknown name
    return names


def _model_names(models, points: Points) -> list[str]:
    if models != "all":
        return models
    # "orderstat_n" is "orderstat" where N = T: fitted only where it differs
    differs = points.N is not None and bool(np.any(points.T < points.N))
    return [m for m in LAWS if differs or m != "orderstat_n"]


def _fit_laws(points: Points, names, level, absolute_sigma):
    fits, failures = {}, {}
    for name in names:
        if points.N is None and "N" in get_model(name).covariates:
            failures[name] = "needs the signal length N (an N column, columns={'N': COLUMN}, or n=)"
            continue
        try:
            fits[name] = fit(
                points.J,
                points.T,
                points.y,
                points.se,
                model=name,
                n=points.N,
                level=level,
                absolute_sigma=absolute_sigma,
            )
        except ValueError as err:
            failures[name] = str(err)
    if not fits:
        reasons = "; ".join(f"{k}: {r}" for k, r in failures.items())
        raise ValueError(f"no law could be fitted ({reasons})")
    return fits, failures


def _samples(samples, target, table, points: Points, folder):
    if samples is None:
        return None
    if target != "log_kappa":
        raise ValueError("samples= needs target='log_kappa' (the samples are per-draw log kappa)")
    if isinstance(samples, str) and samples == "files":
        if "file" not in table or folder is None:
            raise ValueError(
                "samples='files' needs a summary file with a 'file' column (the sweep's point "
                "files, kept with keep_samples)"
            )
        return load_point_samples(folder, np.asarray(table["file"])[points.rows])
    return load_samples(samples, points.J, points.T)


def _bootstraps(key, laws, num_resamples, samples, level):
    boots, failures = {}, {}
    for i, (name, f) in enumerate(laws.items()):
        try:
            boots[name] = bootstrap(
                jax.random.fold_in(key, i),
                f,
                num_resamples=num_resamples,
                samples=samples,
                level=level,
            )
        except ValueError as err:  # e.g. an ill-posed law whose refits do not converge
            failures[name] = str(err)
    return boots, failures


def _rules(table, points: Points, kappa0, rule_min_length, absolute_sigma):
    """``(critical, rules, reasons, skipped)``: the J* tables, fitted rules, why not fitted."""
    if points.N is not None and len(set(zip(points.J, points.T, strict=True))) < points.J.size:
        return {}, {}, {}, "several N per (J, T); select one N (where={'N': VALUE})"
    if "kappa_mean" not in table or "kappa_se" not in table:
        return {}, {}, {}, "the table has no kappa_mean / kappa_se columns"
    kappa = np.asarray(table["kappa_mean"], np.float64)[points.rows]
    kse = np.asarray(table["kappa_se"], np.float64)[points.rows]
    finite = ~np.isnan(kappa)
    J, T = points.J[finite], points.T[finite]
    critical, rules, reasons = {}, {}, {}
    for k0 in kappa0:
        c = critical_filters(J, T, kappa[finite], k0, se=kse[finite])
        critical[k0] = c
        sel = (c.length >= rule_min_length) & np.isfinite(c.num_filters) & (c.se > 0)
        used = int(sel.sum())
        if used < _RULE_MIN_POINTS:
            at = f" with T >= {rule_min_length:g}" if rule_min_length > 0 else ""
            reasons[k0] = (
                f"only {used} bracketed J* values{at}: rule not fitted (need {_RULE_MIN_POINTS})"
            )
            continue
        try:
            # excluded entries get se = inf: the shape, and so the compiled solver, is shared
            rules[k0] = log_linearity_test(
                c.length,
                np.where(sel, c.num_filters, np.nan),
                np.where(sel, c.se, np.inf),
                absolute_sigma=absolute_sigma,
            )
        except ValueError as err:
            reasons[k0] = f"rule fit failed: {err}"
    return critical, rules, reasons, None


def analyze(
    summary,
    *,
    models: str | Sequence[str] | None = None,
    target: str = "log_kappa",
    n: float | str | None = None,
    columns: Mapping[str, str] | None = None,
    where: Mapping[str, Any] | None = None,
    kappa0: Sequence[float] = (1.5, 2.0, 4.0),
    rule_min_length: float = 0.0,
    bootstrap: int = 0,
    samples: str | os.PathLike | None = None,
    key: jax.Array | None = None,
    absolute_sigma: bool = True,
    level: float = 0.95,
    theory: bool = False,
) -> ScalingAnalysis:
    r"""Fit the scaling laws of a sweep table, rank them, and fit the rule ``J*(T; kappa0)``.

    The workflow of ``jaxfb fit`` (see docs/scaling.md): rows with a non-finite mean or a zero SE
    are dropped (and listed); rows repeated per signal are merged; the laws are fitted by
    weighted least squares (float64) with delta-method intervals and ranked by AIC; with
    ``bootstrap=B`` each law is bootstrapped too; ``J*(T; kappa0)`` is read off ``E[kappa]``
    for each ``kappa0`` and ``J* = a + b log T`` tested against a power law.

    Args:
        summary: a sweep's ``summary.csv`` (or its folder), read by :func:`jaxfb.io.read_summary`,
            or a table ``{column: (rows,) array}`` with columns ``J``, ``T``, the target's mean
            and SE (``log_kappa_mean``, ``log_kappa_se``), and optionally ``N``, ``kappa_mean``,
            ``kappa_se`` (for the rule), ``init``, ``draws``, ``file``.
        models: law names (:data:`MODELS`), ``"all"`` (every law of :data:`LAWS`, ``orderstat_n``
            only where some ``T < N``), or ``None``: the recommended ``"orderstat_n"``.
        target: ``"log_kappa"`` (:math:`\mathbb E[\log\kappa]`, default) or ``"log_mean_kappa"``
            (:math:`\log\mathbb E[\kappa]`, SE by the delta method).
        n: the signal length of every row when the table has no ``N`` column: a number, or
            ``"T"`` for ``N = T``. ``None`` (default) reads the ``N`` column if there is one.
        columns: ``{field: CSV column}`` for a file whose columns are named differently.
        where: keep the rows of the file whose column equals the value (``{"N": 1024}``).
        kappa0: thresholds of the rule ``J*(T; kappa0)``.
        rule_min_length: fit the rule on ``T >= rule_min_length`` only.
        bootstrap: resamples per law (``0``: none).
        samples: for a nonparametric bootstrap over the draws: an ``.npz`` with arrays named
            ``J{J}_T{T}``, or ``"files"`` for the sweep's point files (column ``file``).
            Default: parametric bootstrap from the means and SEs.
        key: JAX PRNG key of the bootstrap (required when ``bootstrap > 0``).
        absolute_sigma: take the SEs as absolute (default); ``False`` scales the covariances by
            ``chi2/dof`` (absorbs a misfit into the intervals).
        level: interval level.
        theory: also score :mod:`jaxfb.theory`'s parameter-free prediction (needs ``N``; a
            quadrature per point where ``T < N``).

    Returns:
        :class:`ScalingAnalysis`.

    Examples:
        >>> import numpy as np
        >>> from jaxfb import scaling, theory
        >>> J, T = np.meshgrid([8, 16, 32], [8, 16, 32])
        >>> J, T = J.ravel(), T.ravel()
        >>> y = np.asarray(theory.expected_log_condition_number(J, T, T))
        >>> table = {"J": J, "T": T, "log_kappa_mean": y, "log_kappa_se": np.full(9, 0.01)}
        >>> result = scaling.analyze(table, n="T")
        >>> [round(e.value, 3) for e in result.fits["orderstat_n"].estimates.values()]
        [0.5, 0.5]
        >>> result.rule_skipped
        'the table has no kappa_mean / kappa_se columns'
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {list(TARGETS)}, got {target!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if not isinstance(bootstrap, int) or bootstrap < 0 or bootstrap == 1:
        raise ValueError(f"bootstrap must be 0 (off) or an int >= 2, got {bootstrap!r}")
    if bootstrap and key is None:
        raise ValueError(f"bootstrap={bootstrap} needs key= (e.g. jax.random.key(0))")
    if samples is not None and not bootstrap:
        raise ValueError("samples= feeds the bootstrap: pass bootstrap=B > 0 as well")
    kappa0 = tuple(float(k) for k in np.atleast_1d(kappa0))
    models = _check_models(models)
    table, source, folder = _read(summary, columns, where)
    label = source or "table"
    points, dropped = _points(table, target, n, label)
    names = _model_names(models, points)
    draws = _samples(samples, target, table, points, folder) if bootstrap else None
    laws, failures = _fit_laws(points, names, level, absolute_sigma)
    fits = dict(laws)
    if theory:
        if points.N is None:
            raise ValueError("theory=True needs the signal length N (an N column, or n=)")
        fits["theory"] = theory_reference(
            points.J, points.T, points.N, points.y, points.se, target=target
        )
    boots, boot_failures = {}, {}
    if bootstrap:
        boots, boot_failures = _bootstraps(key, laws, bootstrap, draws, level)
    critical, rules, rule_failures, skipped = _rules(
        table, points, kappa0, float(rule_min_length), absolute_sigma
    )
    return ScalingAnalysis(
        source=source,
        target=target,
        points=points,
        dropped=dropped,
        fits=fits,
        failures=failures,
        comparison=compare(fits),
        bootstraps=boots,
        bootstrap_failures=boot_failures,
        num_resamples=bootstrap,
        bootstrap_kind="nonparametric" if draws is not None else "parametric",
        critical=critical,
        rules=rules,
        rule_failures=rule_failures,
        rule_skipped=skipped,
        kappa0=kappa0,
        rule_min_length=float(rule_min_length),
        level=float(level),
        absolute_sigma=bool(absolute_sigma),
    )


@dataclass(frozen=True, eq=False)
class ScalingAnalysis:
    """What :func:`analyze` found: the fits, their ranking and intervals, the ``J*`` rule, and
    the reason for everything that could not be done.

    Attributes:
        source: the summary file read (``None`` for a table passed in).
        target: ``"log_kappa"`` or ``"log_mean_kappa"``.
        points: the :class:`Points` fitted.
        dropped: the rows dropped (``{"J", "T", ["N",] "reason"}`` each).
        fits: law name -> :class:`FitResult` (and ``"theory"`` with ``theory=True``).
        failures: law name -> why it could not be fitted.
        comparison: :class:`Comparison` of ``fits`` (AIC ranking).
        bootstraps: law name -> :class:`Bootstrap`; bootstrap_failures: law name -> reason.
        num_resamples: bootstrap resamples per law (0: none); bootstrap_kind: its kind.
        critical: ``kappa0`` -> :class:`CriticalFilters` (the ``J*`` table).
        rules: ``kappa0`` -> :class:`RuleComparison` (``log`` and ``power`` fits, LR test).
        rule_failures: ``kappa0`` -> why its rule was not fitted.
        rule_skipped: why no ``J*`` table was read at all (``None`` if one was).
        kappa0, rule_min_length, level, absolute_sigma: the settings.
    """

    source: str | None
    target: str
    points: Points
    dropped: tuple[dict, ...]
    fits: dict[str, FitResult]
    failures: dict[str, str]
    comparison: Comparison
    bootstraps: dict[str, Bootstrap]
    bootstrap_failures: dict[str, str]
    num_resamples: int
    bootstrap_kind: str
    critical: dict[float, CriticalFilters]
    rules: dict[float, RuleComparison]
    rule_failures: dict[float, str]
    rule_skipped: str | None
    kappa0: tuple[float, ...]
    rule_min_length: float
    level: float
    absolute_sigma: bool

    @property
    def laws(self) -> dict[str, FitResult]:
        """The fitted laws (``fits`` without the parameter-free ``"theory"``)."""
        return {k: f for k, f in self.fits.items() if k != "theory"}

    @property
    def best(self) -> str:
        """The law (or ``"theory"``) with the lowest AIC."""
        return self.comparison.names[0]

    def summary(self) -> str:
        """The report ``jaxfb fit`` prints: fits ranked by AIC, failures with their reasons,
        bootstrap intervals, the ``J*`` table and the fitted rules."""
        return summary_text(self)

    def to_dict(self) -> dict[str, Any]:
        """Everything in :meth:`summary` and more (covariances, residuals), JSON-ready through
        :func:`jaxfb.io.to_json` (the content of ``fit.json``)."""
        return report_dict(self)

    def figures(self) -> dict[str, Any]:
        """``{"collapse", "contours", "residuals"}`` -> :class:`matplotlib.figure.Figure` of the
        laws (see :mod:`jaxfb.scaling.plots`); the contours are those of the best law."""
        from . import plots  # matplotlib is imported when figures are asked for, not before

        laws = self.laws
        best = min(laws, key=lambda k: laws[k].aic)
        fit = laws[best]
        n = None
        if "N" in fit.model.covariates:
            T, N = fit.covariates[1:3]
            if np.unique(N).size > 1 and not np.all(N == T):
                n = float(np.max(N))  # several fixed N: the plane of the largest
        return {
            "collapse": plots.plot_collapse(laws, best=best),
            "contours": plots.plot_contours(
                fit, kappa0=self.kappa0, critical=self.critical, rules=self.rules, n=n
            ),
            "residuals": plots.plot_residuals(laws),
        }

    def save(self, folder, *, figures: bool = True, extra: Mapping | None = None) -> list[Path]:
        """Write ``fit.json`` (:meth:`to_dict`, the environment, ``extra``) and the PNG figures.

        Args:
            folder: created if needed (:func:`jaxfb.io.check_writable`).
            figures: also write ``collapse.png``, ``contours.png``, ``residuals.png``.
            extra: more top-level entries of ``fit.json`` (``jaxfb fit`` adds its argv, seed).

        Returns:
            the paths written, ``fit.json`` last.
        """
        out = io.check_writable(folder, argument="folder")
        written = []
        if figures:
            for name, fig in self.figures().items():
                buf = _stdio.BytesIO()
                fig.savefig(buf, format="png", dpi=120)
                io.atomic_write_bytes(out / f"{name}.png", buf.getvalue())
                written.append(out / f"{name}.png")
        report = {**self.to_dict(), **environment(), **dict(extra or {})}
        report["plots"] = [p.name for p in written]
        io.save_json(out / "fit.json", report)
        return [*written, out / "fit.json"]
