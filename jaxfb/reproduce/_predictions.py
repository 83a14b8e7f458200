r"""Predictions of the frame bounds and condition numbers: the paper's and jaxfb's.

- The paper's (Haider et al. 2024): ``A`` and ``B`` are ``1/J`` times the minimum and
  maximum of ``T`` i.i.d. :math:`\chi^2_J` variables (:func:`paper_chi2_bounds`, by quadrature),
  asymptotically :math:`1 \mp 2\sqrt{\log T / J}` (:func:`asymptotic_bounds`), and
  :math:`\tilde\kappa = (1 + 2\sqrt{\log T/J})/(1 - 2\sqrt{\log T/J})` (:func:`kappa_tilde`,
  ``inf`` once :math:`J \le 4\log T`).
- jaxfb's (:func:`expected_frame_bounds`, :func:`expected_condition_number`,
  :func:`median_condition_number`): from :mod:`jaxfb.theory` (exact for ``T = N``; its predictor
  for ``T < N``).

Each function uses :mod:`jaxfb.theory` when it provides the name, and a private fallback
otherwise (so that the reproduction runs against older or partial versions of the theory
package). The fallback of jaxfb's predictor is the ``T = N`` law (``N/2 - 1`` independent
interior frequencies ``Gamma(J, 1/J)`` and the two ends ``chi2_J / J``) with, for ``T < N``,
effective counts ``1.8 T`` (minimum) and ``1.4 T`` (maximum) of independent interior
frequencies, saturating at ``N/2 - 1`` (SPEC section 2), and ``E[kappa] ~ E[B] E[1/A]``. The
jaxfb functions return ``(value, source)`` so that the report can say which one produced a curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special

from .. import theory

__all__ = [
    "asymptotic_bounds",
    "expected_condition_number",
    "expected_frame_bounds",
    "kappa_tilde",
    "median_condition_number",
    "paper_chi2_bounds",
]

_Z = np.linspace(math.log(1e-12), math.log(60.0), 24001)  # log-grid for the quadratures
_A = np.exp(_Z)
_DZ = _Z[1] - _Z[0]


def _trapezoid(f: np.ndarray) -> float:
    return float(_DZ * (np.sum(f) - 0.5 * (f[0] + f[-1])))


def _log_sf(shape: float, x: np.ndarray) -> np.ndarray:
    """``log P(G > x)`` for ``G ~ Gamma(shape, scale=1/shape)`` (mean 1), accurate in both tails."""
    upper = special.gammaincc(shape, shape * x)
    lower = special.gammainc(shape, shape * x)
    with np.errstate(divide="ignore"):
        return np.where(lower < 0.5, np.log1p(-lower), np.log(upper))


def _log_cdf(shape: float, x: np.ndarray) -> np.ndarray:
    upper = special.gammaincc(shape, shape * x)
    lower = special.gammainc(shape, shape * x)
    with np.errstate(divide="ignore"):
        return np.where(upper < 0.5, np.log1p(-upper), np.log(lower))


def _extreme_means(groups: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    """``(E[min], E[max], E[1/min])`` over independent groups ``(shape, count_min, count_max)``."""
    log_a = sum(cmin * _log_sf(s, _A) for s, cmin, _ in groups)  # log P(A > a)
    log_b = sum(cmax * _log_cdf(s, _A) for s, _, cmax in groups)  # log P(B <= b)
    mean_a = _trapezoid(np.exp(log_a) * _A)
    mean_b = _trapezoid(-np.expm1(log_b) * _A)
    min_shape = min(s for s, cmin, _ in groups if cmin > 0)
    if min_shape <= 1.0:  # E[1/A] diverges: the density of A at 0 is ~ a^(shape - 1)
        inv_a = math.inf
    else:
        inv_a = _trapezoid(-np.expm1(log_a) / _A)
    return mean_a, mean_b, inv_a


def kappa_tilde(num_filters: int, length: int) -> float:
    r"""The paper's :math:`\tilde\kappa(J, T)`; ``inf`` where undefined (:math:`J \le 4\log T`)."""
    fn = getattr(theory, "kappa_tilde", None)
    if fn is not None:
        return float(fn(num_filters, length))
    u = 2.0 * math.sqrt(math.log(length) / num_filters)
    return (1.0 + u) / (1.0 - u) if u < 1.0 else math.inf


def asymptotic_bounds(num_filters: int, length: int) -> tuple[float, float]:
    r""":math:`1 \mp 2\sqrt{\log T / J}`: the paper's asymptotic ``(A, B)``."""
    fn = getattr(theory, "paper_asymptotic_bounds", None)
    if fn is not None:
        a, b = fn(num_filters, length)
        return float(a), float(b)
    u = 2.0 * math.sqrt(math.log(length) / num_filters)
    return 1.0 - u, 1.0 + u


def paper_chi2_bounds(num_filters: int, length: int) -> tuple[float, float]:
    r"""``(E[min], E[max])`` of ``T`` i.i.d. :math:`\chi^2_J / J`: the paper's ``(A, B)``."""
    fn = getattr(theory, "paper_expected_frame_bounds", None)
    if fn is not None:
        a, b = fn(num_filters, length)
        return float(a), float(b)
    a, b, _ = _extreme_means([(num_filters / 2.0, length, length)])
    return a, b


def _fallback_groups(num_filters: int, length: int, n: int):
    interior = (n - 1) // 2  # k = 1 .. ceil(n/2) - 1
    ends = 2 if n % 2 == 0 else 1  # k = 0 (and k = n/2)
    if length >= n:
        c_min = c_max = float(interior)
    else:
        c_min, c_max = min(interior, 1.8 * length), min(interior, 1.4 * length)
    return [(float(num_filters), c_min, c_max), (num_filters / 2.0, ends, ends)]


def expected_frame_bounds(num_filters: int, length: int, n: int) -> tuple[float, float, str]:
    """``(E[A], E[B], source)``; ``source`` is ``"jaxfb.theory"`` or ``"fallback"``."""
    fn = getattr(theory, "expected_frame_bounds", None)
    if fn is not None:
        a, b = fn(num_filters, length, n)
        return float(a), float(b), "jaxfb.theory"
    a, b, _ = _extreme_means(_fallback_groups(num_filters, length, n))
    return a, b, "fallback"


def expected_condition_number(num_filters: int, length: int, n: int) -> tuple[float, str]:
    """``(E[kappa], source)``; ``inf`` where the mean does not exist (``J <= 2``)."""
    fn = getattr(theory, "expected_condition_number", None)
    if fn is not None:
        return float(fn(num_filters, length, n)), "jaxfb.theory"
    _, b, inv_a = _extreme_means(_fallback_groups(num_filters, length, n))
    return b * inv_a, "fallback"


def median_condition_number(num_filters: int, length: int, n: int) -> tuple[float, str]:
    """``(median of kappa, source)``; ``nan`` when :mod:`jaxfb.theory` does not provide it."""
    fn = getattr(theory, "median_condition_number", None)
    if fn is not None:
        return float(fn(num_filters, length, n)), "jaxfb.theory"
    return math.nan, "unavailable"
