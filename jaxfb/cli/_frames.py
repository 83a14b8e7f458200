"""``jaxfb frames``: a quick Monte Carlo table of frame bounds and condition numbers.

Each row is one run of the engine (:func:`jaxfb.montecarlo.monte_carlo`) at one filter length,
next to the paper's :func:`jaxfb.theory.kappa_tilde`.
"""

from __future__ import annotations

from ._args import int_list


def add_parser(sub) -> None:
    p = sub.add_parser(
        "frames",
        help="Monte Carlo table of frame bounds A, B and condition number kappa over T",
        description="Draw random Gaussian filterbanks (variance 1/(J T)) and tabulate their "
        "frame bounds and condition numbers, with standard errors and the paper's "
        "kappa_tilde for comparison.",
    )
    p.add_argument("--J", type=int, default=40, help="number of filters (default 40)")
    p.add_argument("--N", type=int, default=1024, help="signal length (default 1024)")
    p.add_argument(
        "--T", type=int_list, default="8:1024:x2", help="filter lengths (default 8:1024:x2)"
    )
    p.add_argument("--draws", type=int, default=1000, help="filterbanks per T (default 1000)")
    p.add_argument("--init", default="gaussian", help="weight init (see jaxfb.INITS)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    p.set_defaults(func=run)


def _point(key, J: int, T: int, N: int, draws: int, init: str) -> dict:
    """The engine's moments of ``A``, ``B``, ``kappa`` and the median of ``kappa`` at one ``T``."""
    from .. import frame_bounds, random_filterbank
    from ..montecarlo import Moments, Samples, monte_carlo

    def statistic(k):
        A, B = frame_bounds(random_filterbank(k, J, T, init=init), N)
        return {"A": A, "B": B, "kappa": B / A}

    reducers = {
        "A": Moments(),
        "B": Moments(),
        "kappa": [Moments(), Samples(quantiles=(0.5,), keep=False)],
    }
    return monte_carlo(statistic, key, draws, reducers=reducers).stats


def run(args) -> int:
    import jax

    from .. import INITS, theory
    from .._validation import static_int

    J = static_int("--J", args.J, minimum=1)
    N = static_int("--N", args.N, minimum=1)
    draws = static_int("--draws", args.draws, minimum=2)
    if args.init not in INITS:
        raise ValueError(f"--init {args.init!r} is not one of {sorted(INITS)}")
    for T in args.T:
        if not 1 <= T <= N:
            raise ValueError(f"--T contains {T}: filter lengths must satisfy 1 <= T <= N={N}")
    key = jax.random.key(args.seed)
    print(f"# J={J} N={N} draws={draws} init={args.init} seed={args.seed}")
    print(
        f"{'T':>5} {'mean A':>9} {'+-se':>7} {'mean B':>9} {'+-se':>7} "
        f"{'median k':>9} {'mean k':>9} {'+-se':>7} {'mean B/mean A':>13} {'paper k~':>9}"
    )
    for T in args.T:
        s = _point(jax.random.fold_in(key, T), J, T, N, draws, args.init)
        A, B, k = s["A"], s["B"], s["kappa"]
        print(
            f"{T:>5} {A['mean']:>9.4f} {A['se']:>7.4f} {B['mean']:>9.4f} {B['se']:>7.4f} "
            f"{float(k['quantiles'][0]):>9.3f} {k['mean']:>9.3f} {k['se']:>7.3f} "
            f"{B['mean'] / A['mean']:>13.3f} {float(theory.kappa_tilde(J, T)):>9.3f}",
            flush=True,
        )
    return 0
