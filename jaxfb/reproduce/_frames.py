r"""Frame bounds and condition numbers against ``T`` and ``J``, and the fitted laws.

Predictions from :mod:`jaxfb.theory`, laws from :func:`jaxfb.scaling.fit`; what is averaged and
where a mean or variance does not exist: ``docs/reproduction.md``.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import jax
import numpy as np
from scipy import stats

from .. import scaling, theory
from .._gram import _nested_frames_statistic
from ..montecarlo._buckets import draw
from ..montecarlo._estimates import mean_se, quantile_se, ratio_of_means
from . import _plotting
from ._config import ReproduceConfig
from ._results import Claim, ExperimentOutput, FigureOutput, KeyNumber, Rule
from ._stats import concat

__all__ = [
    "LawFit",
    "fit_laws",
    "kappa_log_mean_cov",
    "reversal_z",
    "run_frames",
    "sandwich_stderr",
]

_FORMULAS = {
    "paper": "log((1 + c sqrt u)/(1 - c sqrt u))",
    "poly": "a1 sqrt u + a2 u + a3 u^1.5",
    "collapse": "log((1 + c sqrt v)/(1 - c sqrt v)), v = log(b T)/J^beta",
}


def _summaries(A: np.ndarray, B: np.ndarray, J: int) -> dict[str, float]:
    """Per-point statistics of ``draws`` frame bounds."""
    A, B = A.astype(np.float64), B.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(A > 0, B / np.where(A > 0, A, 1.0), np.inf)
        log_kappa = np.log(kappa)
    out: dict[str, float] = {}
    for side, x in (("A", A), ("B", B)):
        out[f"mean_{side}"], out[f"se_{side}"] = (float(v) for v in mean_se(x))
        out[f"q05_{side}"], out[f"q95_{side}"] = (float(v) for v in np.quantile(x, [0.05, 0.95]))
    m, se = mean_se(kappa)
    out["mean_kappa"] = float(m) if J >= 3 else math.nan  # E[kappa] = inf for J <= 2
    out["mean_kappa_se"] = float(se) if J >= 5 else math.nan  # Var[kappa] = inf for J <= 4
    out["median_kappa"], out["median_kappa_se"] = (float(v) for v in quantile_se(kappa, 0.5))
    out["mean_log_kappa"], out["mean_log_kappa_se"] = (float(v) for v in mean_se(log_kappa))
    out["ratio_of_means"], out["ratio_of_means_se"] = (float(v) for v in ratio_of_means(A, B))
    return out


class LawFit(NamedTuple):
    """A fitted law of ``log E[kappa]``: ``{name: value}`` estimates, sandwich standard errors
    (correlated points), the independent-points ones, fit quality and the ``FitResult``."""

    model: str
    params: dict[str, float]
    stderr: dict[str, float]
    stderr_independent: dict[str, float]
    reduced_chi2: float
    aic: float
    result: object

    def predict(self, J, T) -> np.ndarray:
        """``log E[kappa]`` of the law at ``(J, T)``."""
        return np.asarray(self.result.predict(np.asarray(J, float), np.asarray(T, float)), float)

    @property
    def label(self) -> str:
        """Short, for legends."""
        return f"fitted law: {_FORMULAS[self.model]}"

    @property
    def description(self) -> str:
        """With the fitted values, for the report."""
        body = ", ".join(f"{k} = {v:.4g} +- {self.stderr[k]:.2g}" for k, v in self.params.items())
        return f"{_FORMULAS[self.model]} with {body}"


def sandwich_stderr(at_data, params: np.ndarray, se: np.ndarray, cov: np.ndarray) -> np.ndarray:
    r"""Standard errors of weighted least-squares estimates when the data are correlated.

    :math:`(X^T W X)^{-1} X^T W \Sigma W X (X^T W X)^{-1}` with :math:`W = \mathrm{diag}(1/s^2)`,
    :math:`X` the Jacobian of ``at_data`` (``params -> (n,)``) at ``params`` by central
    differences, :math:`\Sigma` = ``cov``; :math:`(X^T W X)^{-1}` when :math:`\Sigma = W^{-1}`.
    """
    params = np.asarray(params, np.float64)
    se, cov = np.asarray(se, np.float64), np.asarray(cov, np.float64)
    cols = []
    for k in range(params.size):
        h = 1e-6 * max(1.0, abs(params[k]))
        up, down = params.copy(), params.copy()
        up[k] += h
        down[k] -= h
        cols.append((np.asarray(at_data(up), float) - np.asarray(at_data(down), float)) / (2 * h))
    X = np.stack(cols, axis=1)
    WX = X / se[:, None] ** 2
    bread = np.linalg.inv(X.T @ WX)
    return np.sqrt(np.diag(bread @ (WX.T @ cov @ WX) @ bread))


def fit_laws(J, T, y, se, cov=None) -> tuple[dict[str, LawFit], dict[str, str]]:
    """Fit the ``paper``, ``poly`` and ``collapse`` forms of ``log E[kappa]`` (weights
    ``1 / se**2``); with ``cov`` the standard errors are :func:`sandwich_stderr`.

    Returns:
        ``(fits, failed)``: the converged fits, and ``{model: reason}`` for the others.
    """
    J, T, y, se = (np.asarray(a, np.float64) for a in (J, T, y, se))
    fits, failed = {}, {}
    for model in ("paper", "poly", "collapse"):
        if len(y) < 4:
            failed[model] = f"{len(y)} points (at least 4 needed)"
            continue
        res = scaling.fit(J, T, y, se, model=model)
        if not (res.converged and res.feasible):
            failed[model] = f"did not converge (converged={res.converged}, feasible={res.feasible})"
            continue
        theta, plain = np.asarray(res.params, float), np.asarray(res.stderr, float)
        sw = plain
        if cov is not None:
            sw = sandwich_stderr(lambda p, r=res: r.predict(J, T, params=p), theta, se, cov)
        names = res.model.param_names
        est, err, err_plain = (
            dict(zip(names, np.asarray(v).tolist(), strict=True)) for v in (theta, sw, plain)
        )
        fits[model] = LawFit(
            model, est, err, err_plain, float(res.reduced_chi2), float(res.aic), res
        )
    return fits, failed


def kappa_log_mean_cov(kappa: np.ndarray) -> np.ndarray:
    r"""``(m, m)`` covariance of ``log mean kappa`` of columns of shared draws ``(draws, m)``:
    :math:`\operatorname{Cov}(\kappa_i, \kappa_j)/(n\bar\kappa_i\bar\kappa_j)` (delta method)."""
    kappa = np.asarray(kappa, np.float64)
    m = kappa.mean(axis=0)
    return np.atleast_2d(np.cov(kappa, rowvar=False, ddof=1)) / (kappa.shape[0] * np.outer(m, m))


REVERSAL_FWER = 1e-3
"""Family-wise error of the reversal test of :func:`_trend_sign` over all pairs of a curve."""


def reversal_z(points: int, fwer: float = REVERSAL_FWER) -> float:
    """Bonferroni threshold: the one-sided normal ``z`` at ``fwer`` over ``points (points - 1)/2``
    pairs, so that noise on a plateau reverses no pair with probability ``>= 1 - fwer``."""
    pairs = max(points * (points - 1) // 2, 1)
    return float(stats.norm.isf(fwer / pairs))


def _trend_sign(x, y, se, fwer: float = REVERSAL_FWER) -> int:
    """+1 / -1 for a change between the ends of more than 3 combined standard errors that no pair
    ``x_i < x_j`` reverses by more than :func:`reversal_z` of them (plateaus allowed); else 0."""
    x, y, se = (np.asarray(a, np.float64) for a in (x, y, se))
    ok = np.isfinite(y) & np.isfinite(se)
    order = np.argsort(x[ok])
    y, se = y[ok][order], se[ok][order]
    if len(y) < 2 or abs(y[-1] - y[0]) <= 3 * np.hypot(se[-1], se[0]):
        return 0
    sign = 1 if y[-1] > y[0] else -1
    diff = sign * (y[None, :] - y[:, None]) / np.hypot(se[None, :], se[:, None])
    later = np.triu(np.ones((len(y), len(y)), dtype=bool), k=1)
    return sign if float(np.min(np.where(later, diff, np.inf))) > -reversal_z(len(y), fwer) else 0


def simulate(config: ReproduceConfig, key: jax.Array, out: ExperimentOutput) -> dict:
    """Draw every ``T`` through the engine, the nested banks by the cheapest exact path of each
    increment (``frames_methods``); the per-``(J, T)`` summaries (samples into ``out``)."""
    cfg, points, devices, methods = config.frames, {}, 1, {}
    for T in cfg.lengths:
        filters = cfg.sweep_filter_set if T in cfg.sweep_lengths else cfg.filter_set
        L = config.bucket(T, cfg.lengths)
        stat, methods[str(T)] = _nested_frames_statistic(filters, L, cfg.n)
        d = draw(stat, jax.random.fold_in(key, T), config.draws, T)
        devices = max(devices, d.num_devices)
        A, B = d.values["A"], d.values["B"]
        out.samples.update({f"frames_A_T{T}": A, f"frames_B_T{T}": B})
        out.samples[f"frames_J_T{T}"] = np.asarray(filters)
        for j, J in enumerate(filters):
            points[J, T] = _summaries(A[:, j], B[:, j], J)
    out.metadata.update(num_devices=devices, frames_methods=methods)
    return points


def predict(points: dict, config: ReproduceConfig) -> None:
    """The paper's and jaxfb's predictions (:mod:`jaxfb.theory`) into every point's row."""
    cfg = config.frames
    theory_lengths = set(config.theory_lengths(cfg.lengths))
    for (J, T), row in points.items():
        row["kappa_tilde"] = float(theory.kappa_tilde(J, T))
        for k in ("jaxfb_kappa", "jaxfb_median_kappa", "paper_chi2_A", "paper_chi2_B"):
            row[k] = math.nan
        row["asymptotic_A"], row["asymptotic_B"] = map(float, theory.paper_asymptotic_bounds(J, T))
        row["jaxfb_A"] = row["jaxfb_B"] = math.nan
        wanted = T in theory_lengths or T in cfg.sweep_lengths
        if wanted and (J in cfg.kappa_filters or T in cfg.sweep_lengths):
            row["jaxfb_kappa"] = float(theory.expected_condition_number(J, T, cfg.n))
            row["jaxfb_median_kappa"] = float(theory.median_condition_number(J, T, cfg.n))
        if J == cfg.filters and T in theory_lengths:
            a, b = theory.paper_expected_frame_bounds(J, T)
            row["paper_chi2_A"], row["paper_chi2_B"] = float(a), float(b)
            a, b = theory.expected_frame_bounds(J, T, cfg.n)
            row["jaxfb_A"], row["jaxfb_B"] = float(a), float(b)


def fit(points: dict, samples: dict, config: ReproduceConfig):
    """Fit the laws to ``log mean kappa`` at ``J >= max(fit_min_filters, 5)``; the fitted
    curve into the rows. Returns ``(fits, failed, law, fit_keys)``."""
    j_min = max(config.frames.fit_min_filters, 5)
    keys = [k for k, r in points.items() if k[0] >= j_min and r["mean_kappa_se"] > 0]
    y = np.array([math.log(points[k]["mean_kappa"]) for k in keys])
    se = np.array([points[k]["mean_kappa_se"] / points[k]["mean_kappa"] for k in keys])
    cov = np.zeros((len(keys), len(keys)))  # block diagonal: the nested banks of one T
    for T in config.frames.lengths:
        idx = [i for i, k in enumerate(keys) if k[1] == T]
        if idx:
            cols = [list(samples[f"frames_J_T{T}"]).index(keys[i][0]) for i in idx]
            A, B = samples[f"frames_A_T{T}"], samples[f"frames_B_T{T}"]
            kap = np.asarray(B, np.float64)[:, cols] / np.asarray(A, np.float64)[:, cols]
            cov[np.ix_(idx, idx)] = kappa_log_mean_cov(kap)
    Js, Ts = (np.array([k[i] for k in keys], float) for i in (0, 1))
    fits, failed = fit_laws(Js, Ts, y, se, cov=cov)
    law = min((fits[m] for m in ("paper", "poly") if m in fits), key=lambda f: f.aic, default=None)
    for (J, T), row in points.items():
        v = law.predict(J, T) if law is not None and J >= j_min else math.nan
        row["fitted_log_kappa"], row["fitted_kappa"] = float(v), float(np.exp(v))
    return fits, failed, law, keys


def _table(points, keys, N, draws):
    rows = [{"J": J, "T": T, "N": N, "draws": draws, **points[J, T]} for J, T in keys]
    return {c: np.array([r[c] for r in rows]) for c in rows[0]}


def _scaling_table(points, keys, used, N, draws) -> dict[str, np.ndarray]:
    """``log`` of the mean ``kappa`` against ``u = log T / J`` at ``keys``, and the fit's use."""
    sc = _table(points, keys, N, draws)
    J, T, mean = sc["J"].astype(float), sc["T"].astype(float), sc["mean_kappa"]
    out = {k: sc[k] for k in ("J", "T", "N", "draws")}
    with np.errstate(divide="ignore"):
        out.update(u=np.log(T) / J, log_mean_kappa=np.log(mean))
        out.update(log_mean_kappa_se=sc["mean_kappa_se"] / mean)
        out.update(log_kappa_tilde=np.log(sc["kappa_tilde"]), fitted=sc["fitted_log_kappa"])
    out["used_in_fit"] = np.array([int(k in used) for k in keys])
    return out


_CAPTIONS = {
    "frame_bounds": (
        "Mean frame bounds A (lower) and B (upper) of {draws} random Gaussian filterbanks (J = "
        "{J}, N = {N}) with their 5-95% spread, against the paper's predictions (the expected "
        "minimum and maximum of T i.i.d. chi2_J / J, and 1 -/+ 2 sqrt(log T / J)) and jaxfb's "
        "(exact at T = N)."
    ),
    "kappa_vs_T": (
        "Condition number kappa = B / A per T (mean over {draws} draws with a 2-standard-error "
        "band, median, and the ratio of means mean B / mean A) for J = {Js}; the paper's "
        "kappa_tilde (left out where undefined, J <= 4 log T), jaxfb's prediction of E[kappa] and "
        "the law fitted to these means."
    ),
    "kappa_vs_J": (
        "The same against J for several T. For J <= 2 the mean condition number is infinite "
        "(LP(0) ~ chi2_J / J); only the median is shown there."
    ),
    "kappa_scaling": (
        "log of the mean condition number at every simulated (J, T) with J >= 3 against u = log T "
        "/ J (colour: J), with the paper's log kappa_tilde and the fitted law; points on one "
        "curve would mean that kappa depends on (J, T) only through u."
    ),
}
_TITLES = {
    "frame_bounds": "Frame bounds against the filter length",
    "kappa_vs_T": "Condition numbers against the filter length",
    "kappa_vs_J": "Condition numbers against the number of filters",
    "kappa_scaling": "The scaling variable log T / J",
}


def figures(points, config: ReproduceConfig, fit_keys, law) -> list[FigureOutput]:
    """Frame bounds against ``T``; ``kappa`` against ``T`` and ``J``; the scaling variable."""
    cfg, draws = config.frames, config.draws
    N, lengths, J0 = cfg.n, cfg.lengths, cfg.filters
    fb = _table(points, [(J0, T) for T in lengths], N, draws)
    kT = concat([_table(points, [(J, T) for T in lengths], N, draws) for J in cfg.kappa_filters])
    # the published script's cumulative mean over T, for comparison only
    counts = np.arange(1, len(lengths) + 1)
    running = [np.cumsum(kT["mean_kappa"][kT["J"] == J]) / counts for J in cfg.kappa_filters]
    kT["cumulative_mean_kappa"] = np.concatenate(running)
    sweep = [[(J, T) for J in cfg.sweep_filter_set] for T in cfg.sweep_lengths]
    kJ = concat([_table(points, keys, N, draws) for keys in sweep])
    keys = [k for k in sorted(points) if k[0] >= 3]
    sc = _scaling_table(points, keys, set(fit_keys), N, draws)
    label = law.label if law is not None else "fitted law: none converged"
    plots = {
        "frame_bounds": (_plotting.plot_frame_bounds(fb, "Frame bounds"), fb),
        "kappa_vs_T": (_plotting.plot_kappa_vs_T(kT, "Condition number against T", label), kT),
        "kappa_vs_J": (_plotting.plot_kappa_vs_J(kJ, "Condition number against J", label), kJ),
        "kappa_scaling": (
            _plotting.plot_scaling(sc, "log mean kappa against log T / J", label),
            sc,
        ),
    }
    Js = ", ".join(map(str, cfg.kappa_filters))
    fmt = {"draws": draws, "J": J0, "N": N, "Js": Js}
    return [FigureOutput(k, _TITLES[k], _CAPTIONS[k].format(**fmt), *v) for k, v in plots.items()]


def _se_note(f: LawFit, name: str) -> str:
    return (
        f"SE allows for the correlation of the nested banks of one T (as if independent: "
        f"{f.stderr_independent[name]:.2g})"
    )


def _law_numbers(fits: dict[str, LawFit], j_min: int) -> list[KeyNumber]:
    """The fitted constants: ``c`` of the paper's form, ``beta`` of the collapse variable."""
    out = []
    if "paper" in fits:
        f, form = fits["paper"], "log E[kappa] = log((1 + c sqrt u)/(1 - c sqrt u))"
        head = f"Fitted constant c of the paper's form {form}, u = log T / J, J >= {j_min}"
        note = (
            f"the paper's kappa_tilde has c = 2; reduced chi2 {f.reduced_chi2:.3g}; "
            f"{_se_note(f, 'c')}; jaxfb.scaling.fit(model='paper')"
        )
        out.append(KeyNumber(head, f.params["c"], f.stderr["c"], note=note))
    if "collapse" in fits:
        f = fits["collapse"]
        head = "Fitted exponent beta of the collapse variable log(b T) / J^beta"
        note = (
            f"beta = 1: kappa depends on (J, T) through log T / J; reduced chi2 "
            f"{f.reduced_chi2:.3g}; {_se_note(f, 'beta')}; jaxfb.scaling.fit(model='collapse')"
        )
        out.append(KeyNumber(head, f.params["beta"], f.stderr["beta"], note=note))
    return out


def numbers(points, config: ReproduceConfig, fits: dict[str, LawFit]) -> list[KeyNumber]:
    """Mean ``kappa``, ``A``, ``B`` at the largest ``T``; the median at the smallest ``J``;
    the fitted constants."""
    cfg = config.frames
    J0, Tmax, N = cfg.filters, cfg.lengths[-1], cfg.n
    r, where = points[J0, Tmax], {"J": J0, "T": Tmax}
    note = (
        f"paper's kappa_tilde {r['kappa_tilde']:.4g}; jaxfb E[kappa] {r['jaxfb_kappa']:.4g}"
        f"{' (exact, T = N)' if Tmax == N else ''}; mean B / mean A {r['ratio_of_means']:.4g}"
    )
    fig = "kappa_vs_T" if J0 in cfg.kappa_filters else "frame_bounds"
    head = f"Mean condition number, J = {J0}, T = {Tmax}, N = {N}"
    out = [KeyNumber(head, r["mean_kappa"], r["mean_kappa_se"], fig, where, "mean_kappa", note)]
    for side, word, sign in (("A", "lower", "-"), ("B", "upper", "+")):
        note = (
            f"jaxfb {r[f'jaxfb_{side}']:.4g}; paper's chi2 extreme {r[f'paper_chi2_{side}']:.4g}; "
            f"paper's 1 {sign} 2 sqrt(log T / J) = {r[f'asymptotic_{side}']:.4g}"
        )
        head, col = f"Mean {word} frame bound {side}, J = {J0}, T = {Tmax}", f"mean_{side}"
        out.append(KeyNumber(head, r[col], r[f"se_{side}"], "frame_bounds", where, col, note))
    Jmin, Tsw = cfg.sweep_filter_set[0], cfg.sweep_lengths[-1]
    if Jmin <= 2:
        r2, head = (
            points[Jmin, Tsw],
            f"Median condition number, J = {Jmin}, T = {Tsw} (the mean is infinite)",
        )
        note, where = f"E[log kappa] = {r2['mean_log_kappa']:.4g}", {"J": Jmin, "T": Tsw}
        med, se = r2["median_kappa"], r2["median_kappa_se"]
        out.append(KeyNumber(head, med, se, "kappa_vs_J", where, "median_kappa", note))
    return out + _law_numbers(fits, max(cfg.fit_min_filters, 5))


_TREND_RULE = (
    "a change between the ends of the range larger than 3 standard errors, never reversed "
    "between two points by more than z standard errors, z the Bonferroni threshold for a "
    "family-wise error of {fwer:g} over the n (n - 1) / 2 pairs of a curve's n points ({z}; "
    "plateaus allowed); supported if for every J and T, partly if for some"
)


def _trend_claim(points, cfg) -> Claim:
    """``E[log kappa]`` grows with ``T`` at every ``J`` and falls with ``J`` at every ``T``."""

    def sign(keys, x):
        y, se = ([points[k][c] for k in keys] for c in ("mean_log_kappa", "mean_log_kappa_se"))
        return _trend_sign(x, y, se)

    lengths, js = cfg.lengths, cfg.sweep_filter_set
    t_signs = {J: sign([(J, T) for T in lengths], lengths) for J in cfg.kappa_filters}
    j_signs = {T: sign([(J, T) for J in js], js) for T in cfg.sweep_lengths}
    good = sum(s == 1 for s in t_signs.values()) + sum(s == -1 for s in j_signs.values())
    z = ", ".join(f"z = {reversal_z(n):.2f} for n = {n}" for n in sorted({len(lengths), len(js)}))
    text = _TREND_RULE.format(fwer=REVERSAL_FWER, z=z)
    rule = Rule("trends_shown", ">=", "trends", partly=1, text=text)
    finding = (
        f"E[log kappa] increases with T for J in {[J for J, s in t_signs.items() if s == 1]} of "
        f"{list(t_signs)}; decreases with J for T in "
        f"{[T for T, s in j_signs.items() if s == -1]} of {list(j_signs)}"
    )
    evidence = {"trends_shown": good, "trends": len(t_signs) + len(j_signs)}
    why = "Long filters and few of them make a random filterbank ill-conditioned."
    statement = "kappa worsens with T and improves with J"
    return Claim(statement, evidence, rule, finding, why, "kappa_vs_T")


def _tilde_claim(points, cfg) -> Claim:
    """Is the paper's ``kappa_tilde`` within 20% of the simulated mean at most points?"""
    defined = [r for (J, _), r in points.items() if J >= 3 and math.isfinite(r["kappa_tilde"])]
    ratio = np.array([r["kappa_tilde"] / r["mean_kappa"] for r in defined])
    undefined = sum(1 for (J, _), r in points.items() if J >= 3) - ratio.size
    within = float(np.mean(np.abs(np.log(ratio)) <= math.log(1.2))) if ratio.size else 0.0
    J0, T, r = cfg.filters, cfg.lengths[-1], points[cfg.filters, cfg.lengths[-1]]
    finding = "kappa_tilde is undefined at every simulated point"
    if ratio.size:
        finding = (
            f"kappa_tilde / mean kappa over {ratio.size} (J >= 3, T) points where kappa_tilde is "
            f"defined: median {np.median(ratio):.3g}, range {ratio.min():.3g} to "
            f"{ratio.max():.3g}, within 20% at {100 * within:.0f}% of them; undefined (J <= 4 "
            f"log T) at {undefined} more points where the mean is finite; at J = {J0}, T = {T}: "
            f"{r['kappa_tilde']:.3g} predicted, {r['mean_kappa']:.3g} +- "
            f"{r['mean_kappa_se']:.2g} simulated"
        )
    text = "supported if within 20% of the simulated mean at >= 80% of the points where defined"
    rule = Rule("fraction_within_20_percent", ">=", 0.8, text=text)
    evidence = {"fraction_within_20_percent": within, "points": ratio.size}
    why = "A closed form that predicts kappa would let one choose J and T without simulating."
    statement = "The paper's kappa_tilde predicts the condition number"
    return Claim(statement, evidence, rule, finding, why, "kappa_vs_T")


def _frame_bound_claim(points, cfg) -> Claim:
    """Median relative error of the paper's (and jaxfb's) frame-bound predictions at ``J0``."""
    J0 = cfg.filters
    rows = [points[J0, T] for T in cfg.lengths if np.isfinite(points[J0, T]["paper_chi2_A"])]
    err = {}
    for who, side in ((w, s) for w in ("", "jaxfb_") for s in "AB"):
        rel = [abs(r[f"{who or 'paper_chi2_'}{side}"] / r[f"mean_{side}"] - 1) for r in rows]
        err[f"{who}{side}"] = float(np.median(rel))
    finding = (
        f"J = {J0}: median relative error of the paper's prediction over {len(rows)} lengths "
        f"{100 * err['A']:.1f}% for A, {100 * err['B']:.1f}% for B (jaxfb's prediction: "
        f"{100 * err['jaxfb_A']:.1f}% and {100 * err['jaxfb_B']:.1f}%)"
    )
    text = "supported if the median relative error is <= 5% for A and B, partly if <= 20%"
    rule = Rule("worst_median_error", "<=", 0.05, partly=0.2, text=text)
    why = "The paper's account of instability rests on this model of the frame bounds."
    statement = "The frame bounds follow the extremes of T i.i.d. chi2_J / J"
    evidence = {"worst_median_error": max(err["A"], err["B"]), **err}
    return Claim(statement, evidence, rule, finding, why, "frame_bounds")


def _exact_claim(points, cfg) -> list[Claim]:
    """At ``T = N`` the exact law of jaxfb gives ``E[kappa]``: ``|z| <= 4`` (when simulated)."""
    J0, N, r = cfg.filters, cfg.n, points[cfg.filters, cfg.lengths[-1]]
    if cfg.lengths[-1] != N or not (
        math.isfinite(r["jaxfb_kappa"]) and math.isfinite(r["mean_kappa_se"])
    ):
        return []
    z = (r["mean_kappa"] - r["jaxfb_kappa"]) / r["mean_kappa_se"]
    finding = (
        f"J = {J0}, T = N = {N}: {r['mean_kappa']:.4g} +- {r['mean_kappa_se']:.2g} simulated vs "
        f"{r['jaxfb_kappa']:.4g} predicted (z = {z:.2f}; jaxfb.theory)"
    )
    statement = "jaxfb: the exact T = N law gives the mean condition number"
    why = "It checks the simulation against an exact result."
    rule = Rule("abs_z", "<=", 4, text="|z| <= 4")
    return [Claim(statement, {"abs_z": abs(z)}, rule, finding, why, "kappa_vs_T", "jaxfb")]


def claims(points, config: ReproduceConfig, fits, failed) -> list[Claim]:
    """The paper's claims on ``kappa`` and the frame bounds, and jaxfb's exact ``T = N`` law."""
    cfg = config.frames
    collapse = _collapse_claim(fits, failed, max(cfg.fit_min_filters, 5))
    out = [_trend_claim(points, cfg), _tilde_claim(points, cfg), collapse]
    return [*out, _frame_bound_claim(points, cfg), *_exact_claim(points, cfg)]


def _collapse_claim(fits, failed, j_min) -> Claim:
    """Is the fitted exponent ``beta`` of ``log(b T) / J^beta`` close to 1?"""
    f = fits.get("collapse")
    b, bse = (f.params["beta"], f.stderr["beta"]) if f else (math.nan, math.nan)
    finding = f"the collapse law was not fitted: {failed.get('collapse')}"
    if f:
        finding = (
            f"fitting log E[kappa] = {_FORMULAS['collapse']} to the points with J >= {j_min} "
            f"gives beta = {b:.3f} +- {bse:.2g} (jaxfb.scaling.fit(model='collapse'))"
        )
    evidence = {
        "abs_beta_minus_1": abs(b - 1.0),
        "tolerance": max(0.1, 1.96 * bse) if f else math.nan,
    }
    text = "supported if |beta - 1| <= max(0.1, 1.96 SE); partly if <= 0.25"
    rule = Rule("abs_beta_minus_1", "<=", "tolerance", partly=0.25, text=text)
    why = "One variable u = log T / J would then summarise the design trade-off."
    statement = "kappa depends on (J, T) roughly through log T / J"
    return Claim(statement, evidence, rule, finding, why, "kappa_scaling")


def run_frames(config: ReproduceConfig, key: jax.Array) -> ExperimentOutput:
    """Frame bounds against ``T``; condition numbers against ``T`` and ``J``; the fitted law."""
    out, t0 = ExperimentOutput(), time.perf_counter()
    points = simulate(config, key, out)
    out.timings["simulate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    predict(points, config)
    out.sources["jaxfb frame-bound predictions"] = "jaxfb.theory"
    fits, failed, law, fit_keys = fit(points, out.samples, config)
    out.sources["fitted law"] = "; ".join(
        [f"{m}: jaxfb.scaling.fit(model={m!r})" for m in fits]
        + [f"{m}: failed, {why}" for m, why in failed.items()]
    )
    out.timings["theory"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    out.figures += figures(points, config, fit_keys, law)
    out.timings["figures"] = time.perf_counter() - t0
    out.numbers += numbers(points, config, fits)
    if law is not None:
        out.notes.append(
            f"Plotted law: {law.description}, the lower-AIC of the paper's form and the "
            f"polynomial (reduced chi2 {law.reduced_chi2:.3g}), fitted to log of the mean "
            f"condition number at the {len(fit_keys)} points with J >= "
            f"{max(config.frames.fit_min_filters, 5)} (weights from the Monte Carlo standard "
            "errors); not drawn below that J. The nested banks of one T share their draws, so "
            "the fitted constants' standard errors are sandwich errors under that covariance."
        )
    out.claims += claims(points, config, fits, failed)
    return out
