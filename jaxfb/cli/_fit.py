"""``jaxfb fit``: fit the scaling laws of kappa to a sweep's CSV summary, with the J* rule."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

_TARGETS = {
    "log_kappa": ("log_kappa_mean", "log_kappa_se", "E[log kappa]"),
    "log_mean_kappa": ("kappa_mean", "kappa_se", "log E[kappa]"),
}


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{flag} expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def add_parser(sub) -> None:
    from ..scaling import LAWS

    p = sub.add_parser(
        "fit",
        help="fit scaling laws of kappa (and the J* rule) to a sweep's summary.csv",
        description="Fit scaling laws E[log kappa] = f(J, T) (f(J, T, N) for orderstat_n, from the "
        "N column) to a sweep's CSV summary by weighted least squares (optax L-BFGS, Monte "
        "Carlo SEs as weights), print the fitted table with delta-method (and optional "
        "bootstrap) intervals and AIC/BIC, read the rule J*(T; kappa0) (fewest filters with "
        "E[kappa] <= kappa0) off the table and fit J* = a + b log T against a power-law "
        "alternative. Writes fit.json and PNG plots with --out.",
    )
    p.add_argument("results", type=Path, help="sweep summary CSV (e.g. OUT/summary.csv)")
    p.add_argument(
        "--model",
        nargs="+",
        default=None,
        metavar="NAME",
        help=f"laws to fit (default: all of {', '.join(LAWS)}; orderstat_n only when some "
        "T < N, as it equals orderstat where N = T)",
    )
    p.add_argument(
        "--target",
        choices=tuple(_TARGETS),
        default="log_kappa",
        help="fit E[log kappa] (default; columns log_kappa_mean, log_kappa_se) or log E[kappa] "
        "(columns kappa_mean, kappa_se; SE by the delta method)",
    )
    p.add_argument("--out", type=Path, default=None, help="folder for fit.json and the plots")
    p.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="read FIELD (J, T, N, init, draws, kappa_mean, kappa_se, log_kappa_mean, "
        "log_kappa_se, kappa_median) from COLUMN; repeatable",
    )
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="keep rows with COLUMN == VALUE (e.g. init=gaussian, N=1024); repeatable",
    )
    p.add_argument(
        "--kappa0",
        type=float,
        nargs="+",
        default=[1.5, 2.0, 4.0],
        help="thresholds of the J* rule (default 1.5 2 4)",
    )
    p.add_argument(
        "--rule-min-length",
        type=float,
        default=0.0,
        metavar="T",
        help="fit the J* rule on T >= this only (default: all T)",
    )
    p.add_argument(
        "--bootstrap", type=int, default=0, metavar="B", help="bootstrap resamples (default 0: off)"
    )
    p.add_argument(
        "--samples",
        default=None,
        metavar="NPZ|files",
        help="per-draw log kappa for a nonparametric bootstrap: an .npz with arrays named "
        "J{J}_T{T}, or 'files' to read the sweep's point files (column 'file', array "
        "'log_kappa.samples'); default: parametric bootstrap from the means and SEs",
    )
    p.add_argument("--seed", type=int, default=0, help="bootstrap PRNG seed (default 0)")
    p.add_argument(
        "--scale-errors",
        action="store_true",
        help="scale the covariance by chi2/dof (absorbs model misfit; default: SEs are absolute)",
    )
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument(
        "--theory",
        action="store_true",
        help="also score jaxfb.theory's parameter-free prediction (needs an N column; slow: "
        "a quadrature per point)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument(
        "--float32",
        action="store_true",
        help="fit in float32 (default: float64, enabled for this command only)",
    )
    p.set_defaults(func=run)


def _load(args):
    from ..scaling import read_summary

    columns = _pairs(args.column, "--column")
    where = _pairs(args.where, "--where")
    mean_col, se_col, label = _TARGETS[args.target]
    required = ("J", "T", mean_col, se_col)
    data = read_summary(args.results, columns=columns, required=required, where=where)
    J, T = data["J"], data["T"]
    if args.target == "log_kappa":
        y, se = data[mean_col], data[se_col]
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.log(data[mean_col])
            se = data[se_col] / data[mean_col]
    N = data.get("N")
    if N is not None and N.dtype.kind not in "fiu":
        raise ValueError(f"{args.results}: the N column must be numeric, found {N[0]!r}")
    rows = np.arange(J.size)
    keep = np.isfinite(y) & np.isfinite(se) & (se > 0) & np.isfinite(J) & np.isfinite(T)
    dropped = [
        {"J": float(J[i]), "T": float(T[i]), "reason": "non-finite mean or SE <= 0"}
        | ({} if N is None else {"N": float(N[i])})
        for i in rows[~keep]
    ]
    # rows repeated per signal carry the same kappa statistics: keep one of each. Several
    # signal lengths N are one data set (laws of N fit them jointly); several inits are not.
    seen, uniq = {}, []
    for i in rows[keep]:
        key = (J[i], T[i]) if N is None else (J[i], T[i], N[i])
        if key in seen:
            j = seen[key]
            if y[i] != y[j] or se[i] != se[j]:
                extra = [c for c in ("init", "draws") if c in data and data[c][i] != data[c][j]]
                at = f"J={J[i]:g}, T={T[i]:g}" + ("" if N is None else f", N={N[i]:g}")
                hint = ", ".join(f"--where {c}={data[c][i]}" for c in extra) or "--where COL=VAL"
                raise ValueError(
                    f"{args.results}: several rows with {at} and different "
                    f"{mean_col}; select one sweep with --where (e.g. {hint})"
                )
            continue
        seen[key] = i
        uniq.append(i)
    idx = np.array(uniq, dtype=int)
    N = None if N is None else N[idx]
    return data, idx, J[idx], T[idx], N, y[idx], se[idx], dropped, label


def _samples(args, data, idx, J, T):
    from ..scaling import load_point_samples, load_samples

    if args.samples is None:
        return None
    if args.target != "log_kappa":
        raise ValueError("--samples needs --target log_kappa (the samples are per-draw log kappa)")
    if args.samples == "files":
        if "file" not in data:
            raise ValueError(f"{args.results} has no 'file' column for --samples files")
        return load_point_samples(args.results.parent, data["file"][idx])
    return load_samples(args.samples, J, T)


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or not np.isfinite(x):
        return "nan"
    return f"{x:.{digits}g}"


def run(args) -> int:
    import jax

    from .. import scaling
    from .._env import environment

    if args.bootstrap < 0:
        raise ValueError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    if not 0 < args.level < 1:
        raise ValueError(f"--level must be in (0, 1), got {args.level}")
    for name in args.model or ():
        scaling.get_model(name)  # a clear error for an unknown name
    data, idx, J, T, N, y, se, dropped, label = _load(args)
    if args.model:
        names = list(args.model)
    else:
        # "orderstat_n" is "orderstat" where N = T: fit it only when it differs
        differs = N is not None and bool(np.any(T < N))
        names = [m for m in scaling.LAWS if differs or m != "orderstat_n"]
    if y.size == 0:
        raise ValueError(f"{args.results}: no usable rows (all means non-finite or SEs zero)")
    samples = _samples(args, data, idx, J, T)
    several_n = N is not None and len(set(zip(J.tolist(), T.tolist(), strict=True))) < J.size
    print(f"# jaxfb fit {args.results}: target {label}, {y.size} points", end="")
    print(f" ({len(dropped)} dropped: non-finite mean or zero SE)" if dropped else "")
    absolute = not args.scale_errors
    report = {
        "command": "jaxfb fit",
        "argv": sys.argv[1:],
        "source": str(args.results),
        "target": args.target,
        "num_points": int(y.size),
        "dropped": dropped,
        "absolute_sigma": absolute,
        "level": args.level,
        "models": {},
        **environment(),
    }
    fits = {}
    with jax.enable_x64(not args.float32):
        for name in names:
            try:
                if N is None and "N" in scaling.get_model(name).covariates:
                    raise ValueError("needs the signal length N (column N, or --column N=COLUMN)")
                fits[name] = scaling.fit(
                    J, T, y, se, model=name, n=N, level=args.level, absolute_sigma=absolute
                )
            except ValueError as err:
                print(f"# {name}: fit failed: {err}")
                report["models"][name] = {"error": str(err)}
        if not fits:
            raise ValueError("no model could be fitted")
        laws = dict(fits)
        if args.theory:
            if N is None:
                raise ValueError("--theory needs the signal length N (column N, or --column N=COL)")
            fits["theory"] = scaling.theory_reference(J, T, N, y, se, target=args.target)
        comp = scaling.compare(fits)
        boots, boot_errors = {}, {}
        if args.bootstrap:
            key = jax.random.key(args.seed)
            for i, name in enumerate(laws):
                try:
                    boots[name] = scaling.bootstrap(
                        jax.random.fold_in(key, i),
                        fits[name],
                        num_resamples=args.bootstrap,
                        samples=samples,
                        level=args.level,
                    )
                except ValueError as err:  # e.g. an ill-posed law whose refits do not converge
                    boot_errors[name] = str(err)
                    print(f"# note: {name}: bootstrap failed ({err}); delta-method intervals only")
        _print_fits(fits, comp, boots, args.level)
        if several_n:
            print("# J* rule skipped: several N per (J, T); select one N with --where N=VALUE")
            crit, rules = {}, {}
        else:
            crit, rules = _critical(args, data, idx, report)

    for name, f in fits.items():
        entry = f.to_dict()
        if name in boots:
            b = boots[name]
            entry["bootstrap"] = {
                "kind": b.kind,
                "num_resamples": args.bootstrap,
                "num_failed": b.num_failed,
                "seed": args.seed,
                "stderr": dict(zip(f.model.param_names, b.stderr.tolist(), strict=True)),
                "ci": dict(zip(f.model.param_names, b.ci.tolist(), strict=True)),
            }
        if name in boot_errors:
            entry["bootstrap"] = {"error": boot_errors[name], "num_resamples": args.bootstrap}
        report["models"][name] = entry
    report["comparison"] = {
        n: {"aic": a, "bic": b, "delta_aic": da, "delta_bic": db, "akaike_weight": w}
        for n, a, b, da, db, w in zip(
            comp.names,
            comp.aic.tolist(),
            comp.bic.tolist(),
            comp.delta_aic.tolist(),
            comp.delta_bic.tolist(),
            comp.weights.tolist(),
            strict=True,
        )
    }
    report["best_model"] = comp.names[0]
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        if not args.no_plots:
            report["plots"] = _plots(args.out, laws, crit, rules, args.kappa0)
        path = args.out / "fit.json"
        path.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
        extra = f" and {len(report['plots'])} plots" if "plots" in report else ""
        print(f"# wrote {path}{extra}")
    return 0


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


def _nan_none(values):
    return [None if not np.isfinite(v) else float(v) for v in values]


def _critical(args, data, idx, report):
    from ..scaling import critical_filters, log_linearity_test

    crit, rules = {}, {}
    if "kappa_mean" not in data or "kappa_se" not in data:
        print("# J* rule skipped: the table has no kappa_mean / kappa_se columns")
        return crit, rules
    J, T = data["J"][idx], data["T"][idx]
    kappa, kse = data["kappa_mean"][idx], data["kappa_se"][idx]
    finite = ~np.isnan(kappa)
    out = {}
    for k0 in args.kappa0:
        c = critical_filters(J[finite], T[finite], kappa[finite], k0, se=kse[finite])
        crit[k0] = c
        entry = {
            "T": c.length.tolist(),
            "J_star": _nan_none(c.num_filters),
            "se": _nan_none(c.se),
            "status": c.status.tolist(),
        }
        sel = (c.length >= args.rule_min_length) & np.isfinite(c.num_filters) & (c.se > 0)
        if sel.sum() >= 4:
            # excluded entries get se = inf: the shape, and so the compiled solver, is shared
            test = log_linearity_test(
                c.length,
                np.where(sel, c.num_filters, np.nan),
                np.where(sel, c.se, np.inf),
                absolute_sigma=not args.scale_errors,
            )
            rules[k0] = test
            entry["rule_min_length"] = args.rule_min_length
            entry["rule_log"] = test.log.to_dict()
            entry["rule_power"] = test.power.to_dict()
            entry["lr_statistic"] = test.lr_statistic
            entry["p_value"] = test.p_value
            entry["delta_aic_power_minus_log"] = test.delta_aic
        else:
            entry["rule_log"] = None
            entry["note"] = f"only {int(sel.sum())} bracketed J* values: rule not fitted (need 4)"
        out[str(k0)] = entry
    report["critical"] = out
    _print_critical(crit, rules, args)
    return crit, rules


def _print_fits(fits, comp, boots, level):
    w = max(10, *(len(name) for name in comp.names))
    print(
        f"{'model':<{w}} {'k':>2} {'chi2/dof':>9} {'AIC':>10} {'dAIC':>9} {'BIC':>10}  params +- SE"
    )
    for name in comp.names:
        f = fits[name]
        d = comp.delta_aic[comp.names.index(name)]
        ps = ", ".join(
            f"{p} = {_fmt(v, 5)} +- {_fmt(s, 2)}"
            for p, v, s in zip(f.model.param_names, f.params, f.stderr, strict=True)
        )
        ps = ps or f"(no parameters: {f.model.description})"
        flag = "" if f.converged else "  [not converged]"
        flag += "" if f.feasible else "  [infeasible]"
        print(
            f"{name:<{w}} {f.model.num_params:>2} {_fmt(f.reduced_chi2):>9} {f.aic:>10.2f} "
            f"{d:>9.2f} {f.bic:>10.2f}  {ps}{flag}"
        )
        if name in boots:
            b = boots[name]
            cis = ", ".join(
                f"{p} in [{_fmt(lo, 5)}, {_fmt(hi, 5)}]"
                for p, (lo, hi) in zip(f.model.param_names, b.ci, strict=True)
            )
            print(f"{'':<{w}}    bootstrap ({b.kind}, {len(b.params)} refits) {level:.0%}: {cis}")
    if fits[comp.names[0]].reduced_chi2 > 2:
        print(
            f"# note: chi2/dof of the best law is {fits[comp.names[0]].reduced_chi2:.3g} > 2: the "
            "delta-method intervals assume the law is exact; consider --scale-errors"
        )


def _print_critical(crit, rules, args):
    if not crit:
        return
    k0s = list(crit)
    print(
        "# J*(T; kappa0): fewest filters with E[kappa] <= kappa0 "
        "(interpolated in log J, log log kappa)"
    )
    print(f"{'T':>7} " + " ".join(f"{'kappa0=' + format(k, 'g'):>18}" for k in k0s))
    Ts = crit[k0s[0]].length
    for i, t in enumerate(Ts):
        cells = []
        for k in k0s:
            c = crit[k]
            if c.status[i] == "ok":
                cells.append(f"{c.num_filters[i]:>9.2f} +- {c.se[i]:<5.2g}")
            else:
                cells.append(f"{c.status[i]:>18}")
        print(f"{t:>7g} " + " ".join(cells))
    for k in k0s:
        if k not in rules:
            continue
        r = rules[k]
        (a, b), sb = r.log.params, r.log.stderr[1]
        lo, hi = r.log.ci[1]
        g, sg = r.power.params[2], r.power.stderr[2]
        rng = f"T >= {args.rule_min_length:g}" if args.rule_min_length > 0 else "all T"
        print(
            f"# kappa0={k:g} ({rng}): J* = {a:.3g} + {b:.4g} log T, b = {b:.4g} +- {sb:.2g} "
            f"[{lo:.4g}, {hi:.4g}], chi2/dof {_fmt(r.log.reduced_chi2, 3)}; power: gamma = "
            f"{g:.3g} +- {sg:.2g}, chi2/dof {_fmt(r.power.reduced_chi2, 3)}; LR = "
            f"{r.lr_statistic:.3g} (p = {r.p_value:.2g}), AIC(power) - AIC(log) = {r.delta_aic:.3g}"
        )


def _plots(out: Path, fits, crit, rules, kappa0) -> list[str]:
    from ..scaling import plots

    best = min(fits, key=lambda k: fits[k].aic)
    written = []
    fit = fits[best]
    n = None
    if "N" in fit.model.covariates:
        T, N = fit.covariates[1:3]
        if np.unique(N).size > 1 and not np.all(N == T):
            n = float(np.max(N))  # several fixed N: the plane of the largest
    contours = plots.plot_contours(fit, kappa0=kappa0, critical=crit, rules=rules, n=n)
    figures = (
        ("collapse.png", plots.plot_collapse(fits, best=best)),
        ("contours.png", contours),
        ("residuals.png", plots.plot_residuals(fits)),
    )
    for name, fig in figures:
        fig.savefig(out / name, dpi=120)
        written.append(name)
    return written
