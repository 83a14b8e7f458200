"""The text and the JSON document of a scaling analysis (what ``jaxfb fit`` prints and writes)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["report_dict", "summary_text"]

_LABELS = {"log_kappa": "E[log kappa]", "log_mean_kappa": "log E[kappa]"}


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or not np.isfinite(x):
        return "nan"
    return f"{x:.{digits}g}"


def _fit_lines(a) -> list[str]:
    comp, fits = a.comparison, a.fits
    w = max(10, *(len(name) for name in comp.names))
    lines = [
        f"{'model':<{w}} {'k':>2} {'chi2/dof':>9} {'AIC':>10} {'dAIC':>9} {'BIC':>10}  params +- SE"
    ]
    for name, d in zip(comp.names, comp.delta_aic, strict=True):
        f = fits[name]
        ps = ", ".join(
            f"{p} = {_fmt(e.value, 5)} +- {_fmt(e.stderr, 2)}" for p, e in f.estimates.items()
        )
        ps = ps or f"(no parameters: {f.model.description})"
        flag = "" if f.converged else "  [not converged]"
        flag += "" if f.feasible else "  [infeasible]"
        lines.append(
            f"{name:<{w}} {f.model.num_params:>2} {_fmt(f.reduced_chi2):>9} {f.aic:>10.2f} "
            f"{d:>9.2f} {f.bic:>10.2f}  {ps}{flag}"
        )
        if name in a.bootstraps:
            b = a.bootstraps[name]
            cis = ", ".join(
                f"{p} in [{_fmt(lo, 5)}, {_fmt(hi, 5)}]"
                for p, (lo, hi) in zip(f.model.param_names, b.ci, strict=True)
            )
            lines.append(
                f"{'':<{w}}    bootstrap ({b.kind}, {len(b.params)} refits) {a.level:.0%}: {cis}"
            )
    for name, reason in a.failures.items():
        lines.append(f"# {name}: fit failed: {reason}")
    for name, reason in a.bootstrap_failures.items():
        lines.append(f"# {name}: bootstrap failed: {reason}; delta-method intervals only")
    best = fits[comp.names[0]]
    if best.reduced_chi2 > 2:
        lines.append(
            f"# note: chi2/dof of the best law is {best.reduced_chi2:.3g} > 2: the delta-method "
            "intervals assume the law is exact; consider absolute_sigma=False (--scale-errors)"
        )
    return lines


def _rule_lines(a) -> list[str]:
    if a.rule_skipped is not None:
        return [f"# J* rule skipped: {a.rule_skipped}"]
    k0s = list(a.critical)
    lines = [
        "# J*(T; kappa0): fewest filters with E[kappa] <= kappa0 "
        "(interpolated in log J, log log kappa)",
        f"{'T':>7} " + " ".join(f"{'kappa0=' + format(k, 'g'):>18}" for k in k0s),
    ]
    for i, t in enumerate(a.critical[k0s[0]].length):
        cells = []
        for k in k0s:
            c = a.critical[k]
            ok = c.status[i] == "ok"
            cells.append(
                f"{c.num_filters[i]:>9.2f} +- {c.se[i]:<5.2g}" if ok else f"{c.status[i]:>18}"
            )
        lines.append(f"{t:>7g} " + " ".join(cells))
    rng = f"T >= {a.rule_min_length:g}" if a.rule_min_length > 0 else "all T"
    for k in k0s:
        if k in a.rule_failures:
            lines.append(f"# kappa0={k:g} ({rng}): {a.rule_failures[k]}")
            continue
        r = a.rules[k]
        (ia, ib), g = r.log.estimates.values(), r.power.estimates["gamma"]
        lines.append(
            f"# kappa0={k:g} ({rng}): J* = {ia.value:.3g} + {ib.value:.4g} log T, b = "
            f"{ib.value:.4g} +- {ib.stderr:.2g} [{ib.lower:.4g}, {ib.upper:.4g}], chi2/dof "
            f"{_fmt(r.log.reduced_chi2, 3)}; power: gamma = {g.value:.3g} +- {g.stderr:.2g}, "
            f"chi2/dof {_fmt(r.power.reduced_chi2, 3)}; LR = {r.lr_statistic:.3g} "
            f"(p = {r.p_value:.2g}), AIC(power) - AIC(log) = {r.delta_aic:.3g}"
        )
    return lines


def summary_text(a) -> str:
    """The report of :meth:`ScalingAnalysis.summary` (one string, lines joined by newlines)."""
    head = f"# {a.source or 'table'}: target {_LABELS[a.target]}, {a.points.J.size} points"
    if a.dropped:
        head += f" ({len(a.dropped)} dropped: non-finite mean or SE <= 0)"
    sigma = "absolute SEs" if a.absolute_sigma else "SEs scaled by chi2/dof"
    lines = [head, f"# {a.level:.0%} intervals, delta method ({sigma})"]
    return "\n".join([*lines, *_fit_lines(a), *_rule_lines(a)])


def _model_entry(a, name) -> dict[str, Any]:
    f = a.fits[name]
    entry = f.to_dict()
    if name in a.bootstraps:
        b = a.bootstraps[name]
        entry["bootstrap"] = {
            "kind": b.kind,
            "num_resamples": a.num_resamples,
            "num_failed": b.num_failed,
            "stderr": dict(zip(f.model.param_names, b.stderr.tolist(), strict=True)),
            "ci": dict(zip(f.model.param_names, b.ci.tolist(), strict=True)),
        }
    if name in a.bootstrap_failures:
        entry["bootstrap"] = {
            "error": a.bootstrap_failures[name],
            "num_resamples": a.num_resamples,
        }
    return entry


def _critical_entry(a, k0) -> dict[str, Any]:
    c = a.critical[k0]
    entry = {
        "T": c.length.tolist(),
        "J_star": c.num_filters.tolist(),
        "se": c.se.tolist(),
        "status": c.status.tolist(),
        "rule_min_length": a.rule_min_length,
    }
    if k0 in a.rules:
        test = a.rules[k0]
        entry["rule_log"] = test.log.to_dict()
        entry["rule_power"] = test.power.to_dict()
        entry["lr_statistic"] = test.lr_statistic
        entry["p_value"] = test.p_value
        entry["delta_aic_power_minus_log"] = test.delta_aic
    else:
        entry["rule_log"] = None
        entry["note"] = a.rule_failures[k0]
    return entry


def report_dict(a) -> dict[str, Any]:
    """The document of :meth:`ScalingAnalysis.to_dict` (``fit.json`` less the environment)."""
    comp = a.comparison
    models = {name: _model_entry(a, name) for name in a.fits}
    models |= {name: {"error": reason} for name, reason in a.failures.items()}
    rows = zip(
        comp.names, comp.aic, comp.bic, comp.delta_aic, comp.delta_bic, comp.weights, strict=True
    )
    out = {
        "source": a.source,
        "target": a.target,
        "num_points": int(a.points.J.size),
        "dropped": list(a.dropped),
        "absolute_sigma": a.absolute_sigma,
        "level": a.level,
        "kappa0": list(a.kappa0),
        "models": models,
        "comparison": {
            n: {"aic": x, "bic": b, "delta_aic": da, "delta_bic": db, "akaike_weight": w}
            for n, x, b, da, db, w in rows
        },
        "best_model": a.best,
        "critical": {str(k0): _critical_entry(a, k0) for k0 in a.critical},
    }
    if a.rule_skipped is not None:
        out["rule_skipped"] = a.rule_skipped
    return out
