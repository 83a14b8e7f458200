r"""Design rule: how many filters keep the mean condition number below a target.

``required_filters(kappa0, T, N)`` is the smallest integer ``J`` with ``E[kappa] <= kappa0`` for
``J`` Gaussian filters of length ``T`` on signals of length ``N``; ``E[kappa]`` is
:func:`jaxfb.theory.expected_condition_number`, exact when ``T = N`` and jaxfb's predictor when
``T < N``. ``required_filters_slope(kappa0)`` is the large-deviation asymptote of the exact rule:
``J* ~ log(T) / u*(kappa0)`` filters, ``1 / u*`` per e-fold of ``T``. See docs/theory.md,
"Design rule: how many filters".

Host-side NumPy/SciPy code (a data-dependent search over quadratures), not a JAX kernel.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from ._common import host_side
from ._frame_bounds import expected_condition_number
from ._frame_model import model_extremes

__all__ = ["required_filters", "required_filters_slope"]

# Largest J the search tries before declaring kappa0 too close to 1.
_MAX_FILTERS = 2**24
# Halvings of J - 2 tried when the real crossing lies in (2, 3].
_MAX_HALVINGS = 40


def _kappa0_array(kappa0) -> np.ndarray:
    arr = np.asarray(kappa0)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"kappa0 must be a real number > 1, got {kappa0!r}")
    arr = arr.astype(np.float64)
    bad = ~(np.isfinite(arr) & (arr > 1.0))
    if np.any(bad):
        value = arr.reshape(-1)[np.argmax(bad.reshape(-1))]
        raise ValueError(
            f"kappa0 must be finite and > 1 (E[kappa] >= 1 always), got {value}; "
            "pass a target such as kappa0=2"
        )
    return arr


def _size_array(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{name} must be an integer (or an integer array), got {value!r} "
            f"(dtype {arr.dtype}); pass e.g. {name}=1024"
        )
    if arr.size and arr.min() < 1:
        raise ValueError(f"{name} must be >= 1, got {arr.reshape(-1)[np.argmin(arr)]}")
    return arr.astype(np.int64)


def _arguments(kappa0, length, n):
    k0 = _kappa0_array(kappa0)
    T = _size_array("length", length)
    N = _size_array("n", n)
    k0, T, N = np.broadcast_arrays(k0, T, N)
    if np.any(T > N):
        i = np.argmax((T > N).reshape(-1))
        raise ValueError(
            f"length={T.reshape(-1)[i]} must be <= n={N.reshape(-1)[i]} "
            "(filters no longer than the signal)"
        )
    return k0, T, N


def required_filters_slope(kappa0):
    r"""Asymptotic slope of the exact design rule: filters per e-fold of ``T`` (an asymptote).

    For ``T = N`` the ``N/2 - 1`` interior values of the Littlewood-Paley sum are i.i.d.
    :math:`\mathrm{Gamma}(J, 1/J)`, the mean of ``J`` unit exponentials, whose tails obey
    Cramér's theorem :math:`P(X \le x) \approx e^{-J I(x)}` (``x < 1``) and
    :math:`P(X \ge x) \approx e^{-J I(x)}` (``x > 1``), with the rate
    :math:`I(x) = x - 1 - \log x`. The minimum and maximum of ``m = N/2 - 1`` of them sit where
    ``m e^{-J I(x)} ~ 1``: with :math:`u = \log(m) / J` fixed as ``T`` and ``J`` grow,
    ``A -> x_-(u)``, ``B -> x_+(u)`` with :math:`I(x_-) = I(x_+) = u`, and
    ``kappa -> x_+ / x_-``. Holding ``kappa = kappa0`` fixes ``u = u*(kappa0)``, so
    ``J* ~ log(T) / u*``. Writing ``x_+ = kappa0 x_-`` in ``I(x_-) = I(x_+)`` gives the closed form

    .. math:: x_- = \frac{\log\kappa_0}{\kappa_0 - 1}, \qquad
              u^* = I(x_-) = x_- - 1 - \log x_-,

    and :math:`u^* = (\log\kappa_0)^2/8 - (\log\kappa_0)^4/576 + O((\log\kappa_0)^6)`; the first
    term alone (a Gaussian approximation of the extremes) gives ``8 / (log kappa0)^2``, a slightly
    smaller slope. The returned ``1 / u*`` is a limit as ``T -> infinity``: the exact rule's local
    slope approaches it from below, roughly as ``1 / (u* + 1/(2 J*))`` (the ``sqrt(J)``
    prefactor of the Gamma tails): for ``kappa0 = 2`` it is 15.85 between ``T = 2^15`` and
    ``2^16``, 95 % of 16.76 (docs/theory.md).

    Args:
        kappa0: target ``E[kappa]``, finite and ``> 1`` (float or array).

    Returns:
        float64 (array of ``kappa0``'s shape): ``1 / u*(kappa0)``.

    Raises:
        ValueError: ``kappa0 <= 1`` or not finite.

    Examples:
        >>> from jaxfb import theory
        >>> [round(float(theory.required_filters_slope(k)), 2) for k in (1.5, 2.0, 4.0)]
        [48.77, 16.76, 4.27]
    """
    host_side("required_filters_slope", kappa0=kappa0)
    k0 = _kappa0_array(kappa0)
    e = k0 - 1.0
    d = np.log1p(e) / e - 1.0  # x_- - 1, in (-1, 0)
    u = d - np.log1p(d)  # I(x_-)
    out = 1.0 / u
    return out[()] if out.ndim == 0 else out


def _smallest_filters(kappa0: float, T: int, N: int) -> int:
    """Smallest integer ``J`` with ``E[kappa] <= kappa0``: exponential bracket, then bisection."""
    if T == 1:
        return 1  # kappa = 1 for every J

    def feasible(J: int) -> bool:  # E[kappa] = inf for J <= 2 (T >= 2): no call needed
        return J >= 3 and float(expected_condition_number(J, T, N)) <= kappa0

    guess = math.log(max(N / 2.0, 2.0)) * float(required_filters_slope(kappa0))
    J = int(min(max(3, math.ceil(guess)), _MAX_FILTERS))
    if feasible(J):
        lo, hi = J // 2, J
        while feasible(lo):
            lo, hi = lo // 2, lo
    else:
        lo, hi = J, 2 * J
        while not feasible(hi):
            if hi >= _MAX_FILTERS:
                raise ValueError(
                    f"kappa0={kappa0} needs more than {_MAX_FILTERS} filters at length={T}, "
                    f"n={N}; choose a larger kappa0"
                )
            lo, hi = hi, 2 * hi
    while hi - lo > 1:  # invariant: lo infeasible (or < 3), hi feasible
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if feasible(mid) else (mid, hi)
    return hi


def _crossing(kappa0: float, T: int, N: int, J_int: int) -> float:
    """Real ``J`` in ``(J_int - 1, J_int]`` with ``E[kappa](J) = kappa0`` (shapes continued)."""
    if T == 1:
        return 1.0

    def excess(J: float) -> float:
        return model_extremes(float(J), T, N)[0].mean_ratio() - kappa0

    if excess(J_int) == 0.0:
        return float(J_int)
    lo = J_int - 1.0
    if J_int == 3:  # E[kappa] -> inf as J -> 2+: find a finite point above the crossing
        step = 0.5
        for _ in range(_MAX_HALVINGS):
            lo = 2.0 + step
            if excess(lo) > 0.0:
                break
            step /= 2.0
        else:
            raise ValueError(f"kappa0={kappa0} is reached within {step} of J = 2; not resolved")
    return float(optimize.brentq(excess, lo, float(J_int), xtol=1e-9, rtol=1e-12))


def required_filters(kappa0, length, n, *, continuous: bool = False):
    r"""Fewest Gaussian filters ``J`` with ``E[kappa] <= kappa0`` (length ``T``, signal ``N``).

    .. math:: J^*(\kappa_0; T, N) = \min\{J \in \mathbb N : \mathbb E[\kappa](J, T, N)
              \le \kappa_0\},

    with ``E[kappa]`` from :func:`jaxfb.theory.expected_condition_number`:

    * ``length == n``: **exact**. The ``N//2 + 1`` values of the Littlewood-Paley sum are
      independent, ``chi2_J / J`` at ``k = 0`` and ``k = N/2`` and ``Gamma(J, 1/J)`` at the
      ``N/2 - 1`` interior frequencies; ``E[kappa]`` is a double integral over their extremes.
    * ``length < n``: a **model**, jaxfb's effective-count predictor (its measured error is in
      docs/predictor_table.md).

    ``E[kappa] = inf`` for ``J <= 2`` (``T >= 2``), so ``J* >= 3``; ``T = 1`` gives ``kappa = 1``
    and ``J* = 1``. ``E[kappa]`` decreases in ``J`` (checked on grids of consecutive ``J`` in the
    tests and in ``experiments/design_rule.py``), so the search is an exponential bracket from
    the asymptotic guess ``log(N/2) * required_filters_slope(kappa0)`` followed by a bisection on
    integers: ``O(log J*)`` evaluations of ``E[kappa]`` (about 10 to 20).

    Not jit-traceable: each evaluation is a deterministic NumPy/SciPy quadrature on the host, and
    the search is control flow on the values (a loop whose length depends on them).

    Args:
        kappa0: target mean condition number, finite and ``> 1`` (float or array).
        length: filter length ``T >= 1`` (int or integer array).
        n: signal length ``N >= T`` (int or integer array).
        continuous: if ``True``, return instead the real ``J`` (float64) at which
            ``E[kappa] = kappa0``, with the Gamma shapes ``J/2`` and ``J`` of the law continued
            to real ``J``; ``J* = ceil`` of it. It is smooth in ``T`` and gives local slopes
            ``dJ*/d log T`` without the integer steps. About 10 more evaluations.

    Returns:
        int64 (float64 with ``continuous``), the broadcast shape of the three arguments; a NumPy
        scalar when they are all scalars.

    Raises:
        ValueError: ``kappa0 <= 1`` or not finite, ``length < 1``, ``n < 1``, ``length > n``,
            non-integer sizes (each naming the argument and its value).

    Examples:
        >>> import numpy as np
        >>> from jaxfb import theory
        >>> J = int(theory.required_filters(2.0, 1024, 1024))
        >>> J
        80
        >>> float(theory.expected_condition_number(J, 1024, 1024)) <= 2.0
        True
        >>> float(theory.expected_condition_number(J - 1, 1024, 1024)) > 2.0
        True
        >>> theory.required_filters(2.0, np.array([64, 1024]), 1024).tolist()
        [55, 80]
    """
    host_side("required_filters", kappa0=kappa0, length=length, n=n)
    k0, T, N = _arguments(kappa0, length, n)
    out = np.empty(k0.shape, dtype=np.float64 if continuous else np.int64)
    for idx in np.ndindex(k0.shape):
        args = float(k0[idx]), int(T[idx]), int(N[idx])
        J = _smallest_filters(*args)
        out[idx] = _crossing(*args, J) if continuous else J
    return out[()] if out.ndim == 0 else out
