"""``jaxfb fit``: the scaling analysis of a sweep's CSV summary (:func:`jaxfb.scaling.analyze`)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..scaling import LAWS, analyze
from ..scaling._fit import DEFAULT_MODEL


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{flag} expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fit",
        help="fit scaling laws of kappa (and the J* rule) to a sweep's summary.csv",
        description="Fit scaling laws E[log kappa] = f(J, T, N) to a sweep's CSV summary by "
        "weighted least squares (optax L-BFGS in float64, Monte Carlo SEs as weights), print "
        "the fitted table with delta-method (and optional bootstrap) intervals and AIC/BIC, "
        "read the rule J*(T; kappa0) (fewest filters with E[kappa] <= kappa0) off the table and "
        "fit J* = a + b log T against a power-law alternative; every law, bootstrap or rule "
        "that could not be fitted is printed with its reason. Writes fit.json and PNG plots "
        "with --out. The same analysis in Python: jaxfb.scaling.analyze.",
    )
    p.add_argument("results", type=Path, help="sweep summary CSV (e.g. OUT/summary.csv)")
    p.add_argument(
        "--model",
        nargs="+",
        default=None,
        metavar="NAME",
        help=f"laws to fit (default: {DEFAULT_MODEL}, the law docs/scaling.md recommends; it "
        f"needs the N column or --n), or 'all' for {', '.join(LAWS)} (orderstat_n only when "
        "some T < N, as it equals orderstat where N = T)",
    )
    p.add_argument(
        "--target",
        choices=("log_kappa", "log_mean_kappa"),
        default="log_kappa",
        help="fit E[log kappa] (default; columns log_kappa_mean, log_kappa_se) or log E[kappa] "
        "(columns kappa_mean, kappa_se; SE by the delta method)",
    )
    p.add_argument(
        "--n",
        default=None,
        metavar="N|T",
        help="signal length of every row when the table has no N column (a number, or T for N = T)",
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
    p.set_defaults(func=run)


def _models(names):
    if names is None:
        return None
    return "all" if names == ["all"] else names


def run(args) -> int:
    import jax

    if args.n is not None and args.n != "T":
        try:
            args.n = float(args.n)
        except ValueError:
            raise ValueError(f"--n must be a signal length or T, got {args.n!r}") from None
    result = analyze(
        args.results,
        models=_models(args.model),
        target=args.target,
        n=args.n,
        columns=_pairs(args.column, "--column"),
        where=_pairs(args.where, "--where"),
        kappa0=args.kappa0,
        rule_min_length=args.rule_min_length,
        bootstrap=args.bootstrap,
        samples=args.samples,
        key=jax.random.key(args.seed) if args.bootstrap else None,
        absolute_sigma=not args.scale_errors,
        level=args.level,
        theory=args.theory,
    )
    print(result.summary())
    if args.out is not None:
        extra = {"command": "jaxfb fit", "argv": sys.argv[1:], "seed": args.seed}
        written = result.save(args.out, figures=not args.no_plots, extra=extra)
        plots = f" and {len(written) - 1} plots" if len(written) > 1 else ""
        print(f"# wrote {written[-1]}{plots}")
    return 0
