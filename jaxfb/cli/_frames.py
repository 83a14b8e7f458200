"""``jaxfb frames``: a quick Monte Carlo table of frame bounds and condition numbers."""

from __future__ import annotations

import math

import numpy as np

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


def simulate(key, J: int, T: int, N: int, draws: int, init: str, chunk: int = 4096):
    """Frame bounds of ``draws`` filterbanks, in chunks of at most ``chunk``: ``(A, B)`` arrays."""
    import jax

    from .._frames import frame_bounds
    from .._sampling import random_filterbank

    size = min(chunk, draws)

    @jax.jit
    def batch(k):
        return frame_bounds(random_filterbank(k, J, T, batch_shape=(size,), init=init), N)

    A, B = [], []
    for i in range(math.ceil(draws / size)):
        a, b = batch(jax.random.fold_in(key, i))
        A.append(np.asarray(a, np.float64))
        B.append(np.asarray(b, np.float64))
    return np.concatenate(A)[:draws], np.concatenate(B)[:draws]


def run(args) -> int:
    import jax

    from .._sampling import init_spec
    from .._validation import static_int

    J = static_int("--J", args.J, minimum=1)
    N = static_int("--N", args.N, minimum=1)
    draws = static_int("--draws", args.draws, minimum=2)
    init_spec(args.init)
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
        A, B = simulate(jax.random.fold_in(key, T), J, T, N, draws, args.init)
        with np.errstate(divide="ignore"):
            kappa = np.where(A > 0, B / np.where(A > 0, A, 1), np.inf)
        se = lambda a: a.std(ddof=1) / math.sqrt(len(a))  # noqa: E731
        u = 2 * math.sqrt(math.log(T) / J)
        tilde = (1 + u) / (1 - u) if u < 1 else math.inf
        print(
            f"{T:>5} {A.mean():>9.4f} {se(A):>7.4f} {B.mean():>9.4f} {se(B):>7.4f} "
            f"{np.median(kappa):>9.3f} {kappa.mean():>9.3f} {se(kappa):>7.3f} "
            f"{B.mean() / A.mean():>13.3f} {tilde:>9.3f}",
            flush=True,
        )
    return 0
