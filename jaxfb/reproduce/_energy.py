r"""Energy deviation of random filterbanks against the filter length (Haider et al. 2024).

For each filter length ``T`` one set of ``draws`` Gaussian filterbanks (``J`` filters, variance
``1/(J T)``) is applied to every signal at once (:func:`jaxfb.energy` with ``w[:, None]``), and the
relative deviation :math:`\|\Phi x\|^2/\|x\|^2 - 1` is summarised: mean, 5-95% band and the
``1 - p`` quantile. Theory at a log-spaced subset of lengths: the exact ``1 - p`` quantile,
Cantelli's, the paper's Chernoff (labelled: not a valid bound), Laurent-Massart's and the exact
Chernoff deviation; and the exact probability that the energy exceeds the paper's bound, which is
above ``p`` at ``p = 0.01`` for broadband signals.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from .. import signals as sig
from .. import theory
from . import _plotting, _theory
from ._config import ReproduceConfig
from ._results import Claim, ExperimentOutput, FigureOutput, KeyNumber
from ._simulate import energy_draws
from ._tables import concat, mean_se, quantile_se, select

__all__ = ["EnergyStudy", "energy_study", "level_tag", "run_energy"]

BAND = (0.05, 0.95)


def level_tag(p: float) -> str:
    """``0.05 -> "p05"``, ``0.01 -> "p01"``, ``0.001 -> "p001"``."""
    return "p" + f"{p:.10f}".rstrip("0").split(".")[1]


def _progress(iterable, *, desc: str, enabled: bool, total: int | None = None):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


def _point_key(key: jax.Array, length: int) -> jax.Array:
    return jax.random.fold_in(key, length)


class EnergyStudy:
    """Draws and theory of one energy experiment (several signals, several lengths).

    Attributes:
        names: signal names, ``(S,)``.
        lengths: simulated ``T``, ``(L,)``.
        theory_lengths: the subset with exact theory.
        deviations: ``(L, draws, S)`` relative deviations (float32).
        levels: the ``p`` values.
        tables: ``{p: table}`` (the CSV of each level's figure).
        distributions: ``{T: EnergyDistribution}`` at the theory lengths (batch ``(S,)``).
    """

    def __init__(self, names, lengths, theory_lengths, deviations, levels, tables, distributions):
        self.names = names
        self.lengths = lengths
        self.theory_lengths = theory_lengths
        self.deviations = deviations
        self.levels = levels
        self.tables = tables
        self.distributions = distributions


def energy_study(
    key: jax.Array,
    signals: dict[str, np.ndarray],
    config: ReproduceConfig,
    lengths: tuple[int, ...],
    *,
    desc: str,
    progress: bool,
    timings: dict[str, float],
) -> EnergyStudy:
    """Simulate and summarise the energy deviations of ``signals`` over ``lengths``."""
    names = list(signals)
    xs_np = np.stack([np.asarray(signals[n], np.float64) for n in names])
    norms = np.sum(xs_np * xs_np, axis=-1)
    xs = jnp.asarray(xs_np, jnp.float32)
    J = config.energy_filters
    draws = config.draws

    t0 = time.perf_counter()
    dev = np.empty((len(lengths), draws, len(names)), np.float32)
    for i, T in enumerate(_progress(lengths, desc=desc, enabled=progress)):
        e = energy_draws(
            _point_key(key, T), xs, J, T, config.bucket(T, lengths), draws, config.chunk
        )
        dev[i] = e / norms[None, :] - 1.0
    timings["simulate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    theory_lengths = config.theory_lengths(lengths)
    bounds: dict[tuple[int, float], dict[str, np.ndarray]] = {}
    quantiles: dict[tuple[int, float], np.ndarray] = {}
    exceed: dict[tuple[int, float], dict[str, np.ndarray]] = {}
    distributions = {}
    for T in _progress(theory_lengths, desc=f"{desc} theory", enabled=progress):
        lam = _theory.gram_eigenvalues(xs_np, T)
        dist = theory.EnergyDistribution(lam, J)
        distributions[T] = dist
        mean = np.asarray(dist.mean)
        levels = np.asarray(config.levels)
        q = np.asarray(dist.isf(np.broadcast_to(levels[:, None], (levels.size, len(names)))))
        alphas = [_theory.deviation_bounds(lam, J, p) for p in config.levels]
        # every bound at every level in one call: thresholds (levels, bounds, S)
        th = np.stack([np.stack([(1.0 + b[k]) * mean for k in _theory.BOUNDS]) for b in alphas])
        sf = np.asarray(dist.sf(th))
        for i, p in enumerate(config.levels):
            bounds[T, p] = alphas[i]
            quantiles[T, p] = q[i] / mean - 1.0
            exceed[T, p] = {k: sf[i, j] for j, k in enumerate(_theory.BOUNDS)}
    timings["theory"] = time.perf_counter() - t0

    tables = {}
    for p in config.levels:
        rows = []
        for s, name in enumerate(names):
            d = dev[:, :, s].astype(np.float64)  # (L, draws)
            m, m_se = mean_se(d, axis=1)
            q, q_se = quantile_se(d, 1 - p, axis=1)
            theory_cols = {
                k: np.full(len(lengths), np.nan)
                for k in (
                    *_theory.BOUNDS,
                    "exact_quantile",
                    *(f"{b}_exceedance_exact" for b in _theory.BOUNDS),
                )
            }
            emp_rate = np.full(len(lengths), np.nan)
            emp_se = np.full(len(lengths), np.nan)
            fails = np.full(len(lengths), np.nan)
            for i, T in enumerate(lengths):
                if T not in distributions:
                    continue
                for k in _theory.BOUNDS:
                    theory_cols[k][i] = bounds[T, p][k][s]
                    theory_cols[f"{k}_exceedance_exact"][i] = exceed[T, p][k][s]
                theory_cols["exact_quantile"][i] = quantiles[T, p][s]
                alpha = bounds[T, p]["paper"][s]
                emp_rate[i] = np.mean(d[i] > alpha)
                # the rate is a mean of `draws` Bernoulli(P) with P the exact probability
                P = float(np.clip(exceed[T, p]["paper"][s], 0.0, 1.0))
                emp_se[i] = np.sqrt(P * (1 - P) / draws)
                fails[i] = float(alpha < quantiles[T, p][s])
            rows.append(
                {
                    "signal": np.array([name] * len(lengths)),
                    "T": np.asarray(lengths),
                    "J": np.full(len(lengths), J),
                    "N": np.full(len(lengths), xs_np.shape[-1]),
                    "draws": np.full(len(lengths), draws),
                    "mean": m,
                    "mean_se": m_se,
                    "band_lo": np.quantile(d, BAND[0], axis=1),
                    "band_hi": np.quantile(d, BAND[1], axis=1),
                    "quantile": q,
                    "quantile_se": q_se,
                    **theory_cols,
                    "paper_exceedance_empirical": emp_rate,
                    "paper_exceedance_se": emp_se,
                    "paper_fails": fails,
                }
            )
        tables[p] = concat(rows)
    return EnergyStudy(
        names, tuple(lengths), theory_lengths, dev, config.levels, tables, distributions
    )


def energy_figures(study: EnergyStudy, stem: str, title: str) -> list[FigureOutput]:
    """One figure per level: ``{stem}_{p05, p01, ...}``."""
    out = []
    for p in study.levels:
        q = 100 * (1 - p)
        caption = (
            "Relative energy deviation ||Phi x||^2/||x||^2 - 1 of "
            f"{int(study.tables[p]['draws'][0])} "
            f"random Gaussian filterbanks (J = {int(study.tables[p]['J'][0])}, variance 1/(JT)) "
            f"per filter length T: mean, 5-95% band and {q:g}% quantile of the draws; the exact "
            f"{q:g}% quantile and the deviation bounds alpha at p = {p:g}: Cantelli, the paper's "
            "Chernoff formula (not a valid bound), Laurent-Massart and the exact Chernoff bound. "
            f"Crosses mark lengths where the paper's alpha lies below the exact {q:g}% quantile, "
            "i.e. where it fails to bound."
        )
        out.append(
            FigureOutput(
                name=f"{stem}_{level_tag(p)}",
                title=f"{title}, p = {p:g}",
                caption=caption,
                figure=_plotting.plot_energy(study.tables[p], p, title),
                table=study.tables[p],
            )
        )
    return out


def _trend(lengths, values, se) -> str:
    """``"grows"``, ``"shrinks"`` or ``"flat"``: a significant change from the first to the last T
    (more than 3 standard errors) agreeing with the rank correlation's sign; ``"undetermined"``
    (with a reason) where a standard error is ``nan``."""
    from scipy import stats

    rho = (
        stats.spearmanr(lengths, values).statistic
        if len(lengths) > 2
        else np.sign(values[-1] - values[0])
    )
    change = values[-1] - values[0]
    if not np.isfinite(se[-1]) or not np.isfinite(se[0]):
        return "undetermined (standard error undefined: too few draws)"
    sig_ = abs(change) > 3 * np.hypot(se[-1], se[0])
    if sig_ and change > 0 and rho > 0.5:
        return "grows"
    if sig_ and change < 0 and rho < -0.5:
        return "shrinks"
    return "flat"


def energy_claims(study: EnergyStudy, *, label: str) -> list[Claim]:
    """The claim that the deviation grows with ``T``, checked per signal."""
    claims = []
    p0 = study.levels[0]
    table = study.tables[p0]
    trends = {}
    for name in study.names:
        rows = np.asarray(table["signal"]) == name
        trends[name] = _trend(
            np.asarray(table["T"])[rows], table["quantile"][rows], table["quantile_se"][rows]
        )
    growing = [n for n, t in trends.items() if t == "grows"]
    verdict = (
        "supported"
        if len(growing) == len(trends)
        else "partly supported"
        if growing
        else "not supported"
    )
    claims.append(
        Claim(
            claim=f"The energy deviation grows with the filter length T ({label})",
            verdict=verdict,
            evidence="; ".join(
                f"{n}: {100 * (1 - p0):g}% quantile {trends[n]} "
                f"({_fmt_q(table, n, study.lengths[0])} at T = {study.lengths[0]} -> "
                f"{_fmt_q(table, n, study.lengths[-1])} at T = {study.lengths[-1]})"
                for n in study.names
            ),
            rule=f"per signal: the change of the {100 * (1 - p0):g}% quantile from the smallest "
            "to the largest T exceeds 3 standard errors and agrees in sign with Spearman's rank "
            "correlation (|rho| > 0.5); supported if it grows for every signal, partly if for "
            "some",
        )
    )
    return claims


def _fmt_q(table, name, T):
    i = select(table, signal=name, T=T)
    return f"{table['quantile'][i]:.3g} +- {table['quantile_se'][i]:.1g}"


def bound_claims(study: EnergyStudy, *, label: str) -> list[Claim]:
    """Does each bound hold (exact exceedance probability <= p) at every theory point?"""
    claims = []
    valid = ("cantelli", "laurent_massart", "exact_chernoff")
    worst_valid = 0.0
    for p in study.levels:
        tab = study.tables[p]
        P = np.asarray(tab["paper_exceedance_exact"], float)
        ok = np.isfinite(P)
        n_fail = int(np.sum(P[ok] > p))
        i = int(np.nanargmax(P))
        evidence = (
            f"exact P(||Phi x||^2 > (1 + alpha_paper) ||x||^2) exceeds p = {p:g} at {n_fail} of "
            f"{int(ok.sum())} (signal, T) points; the largest is {P[i]:.4g} "
            f"({tab['signal'][i]}, T = {int(tab['T'][i])}), where "
            f"{tab['paper_exceedance_empirical'][i]:.4g} of the {int(tab['draws'][i])} draws "
            f"exceed the paper's alpha (standard error {tab['paper_exceedance_se'][i]:.2g} at the "
            "exact probability)"
        )
        claims.append(
            Claim(
                claim=f"The paper's Chernoff bound holds at p = {p:g} ({label})",
                verdict="supported" if n_fail == 0 else "not supported",
                evidence=evidence,
                rule="the exact tail probability (jaxfb.theory.EnergyDistribution.sf) at the "
                "paper's alpha is <= p at every signal and theory length",
            )
        )
        for k in valid:
            Pk = np.asarray(tab[f"{k}_exceedance_exact"], float)
            worst_valid = max(worst_valid, float(np.nanmax(Pk)) / p)
    claims.append(
        Claim(
            claim="jaxfb's valid bounds (Cantelli, Laurent-Massart, exact Chernoff) hold "
            f"({label})",
            verdict="supported" if worst_valid <= 1.0 + 1e-9 else "not supported",
            evidence=f"the largest exact exceedance probability at these bounds' alpha is "
            f"{worst_valid:.3g} times its level p, over every signal, theory length and level",
            rule="exact tail probability at each bound's alpha <= p everywhere",
        )
    )
    return claims


def energy_numbers(study: EnergyStudy, stem: str, *, label: str) -> list[KeyNumber]:
    """Quantiles at the largest ``T`` and the paper's exceedance at the last level."""
    out = []
    T = study.lengths[-1]
    p0 = study.levels[0]
    tab = study.tables[p0]
    csv = f"{stem}_{level_tag(p0)}"
    for name in study.names:
        i = select(tab, signal=name, T=T)
        out.append(
            KeyNumber(
                label=f"{100 * (1 - p0):g}% quantile of the deviation, {name} ({label}), T = {T}",
                value=float(tab["quantile"][i]),
                se=float(tab["quantile_se"][i]),
                csv=csv,
                where={"signal": name, "T": T},
                column="quantile",
                note=f"exact {tab['exact_quantile'][i]:.4g}; paper's alpha {tab['paper'][i]:.4g}",
            )
        )
    p1 = study.levels[-1]
    tab = study.tables[p1]
    csv = f"{stem}_{level_tag(p1)}"
    P = np.asarray(tab["paper_exceedance_exact"], float)
    if np.any(np.isfinite(P)):
        i = int(np.nanargmax(P))
        name, T = str(tab["signal"][i]), int(tab["T"][i])
        out.append(
            KeyNumber(
                label=f"Draws above the paper's alpha at p = {p1:g}: worst point, {name} "
                f"({label}), "
                f"T = {T}",
                value=float(tab["paper_exceedance_empirical"][i]),
                se=float(tab["paper_exceedance_se"][i]),
                csv=csv,
                where={"signal": name, "T": T},
                column="paper_exceedance_empirical",
                note=f"exact probability {P[i]:.4g} vs p = {p1:g}",
            )
        )
    return out


def periodic_claim(study: EnergyStudy, periodic: str) -> Claim:
    """Does the periodic signal deviate more than every other signal at every ``T``?"""
    p0 = study.levels[0]
    tab = study.tables[p0]
    others = [n for n in study.names if n != periodic]
    wins = 0
    for T in study.lengths:
        i = select(tab, signal=periodic, T=T)
        lo = tab["quantile"][i] - 2 * tab["quantile_se"][i]
        best_other = max(
            tab["quantile"][select(tab, signal=o, T=T)]
            + 2 * tab["quantile_se"][select(tab, signal=o, T=T)]
            for o in others
        )
        wins += bool(lo > best_other)
    n = len(study.lengths)
    undefined = int(np.sum(~np.isfinite(np.asarray(tab["quantile_se"], float))))
    verdict = "supported" if wins == n else "partly supported" if wins else "not supported"
    return Claim(
        claim="Periodic signals deviate more (alternating sign vs impulse and random walk)",
        verdict=verdict,
        evidence=f"the {periodic}'s {100 * (1 - p0):g}% quantile exceeds every other signal's at "
        f"{wins} of {n} lengths (2-standard-error intervals disjoint)"
        + (
            f"; the standard error is undefined (too few draws for this quantile) at "
            f"{undefined} (signal, T) points, which count as not shown"
            if undefined
            else ""
        ),
        rule="supported if at every T, partly if at some",
    )


def elementary_signals(key: jax.Array, n: int) -> dict[str, np.ndarray]:
    """The paper's three signals: unit impulse, lazy random walk, alternating sign (unit norm)."""
    return {
        "impulse": np.asarray(sig.impulse(n)),
        "random walk": np.asarray(sig.lazy_random_walk(key, n)),
        "alternating sign": np.asarray(sig.alternating(n)),
    }


def run_energy(config: ReproduceConfig, key: jax.Array, *, progress: bool) -> ExperimentOutput:
    """The elementary-signal experiment: figures, key numbers, claims."""
    out = ExperimentOutput()
    sig_key, sim_key = jax.random.split(key)
    signals = elementary_signals(sig_key, config.energy_n)
    study = energy_study(
        sim_key,
        signals,
        config,
        config.energy_lengths,
        desc="energy",
        progress=progress,
        timings=out.timings,
    )
    t0 = time.perf_counter()
    out.figures += energy_figures(
        study, "energy_elementary", "Energy deviation, elementary signals"
    )
    out.timings["figures"] = time.perf_counter() - t0
    out.claims += energy_claims(study, label="elementary signals")
    out.claims.append(periodic_claim(study, "alternating sign"))
    out.numbers += energy_numbers(study, "energy_elementary", label="elementary")
    out.samples["energy_elementary_deviation"] = study.deviations
    out.samples["energy_elementary_lengths"] = np.asarray(study.lengths)
    out.claims += bound_claims(study, label="elementary signals")
    out.sources["energy theory"] = (
        "host float64 spectra (jaxfb.reproduce._theory) + jaxfb.theory.EnergyDistribution"
    )
    return out
