r"""jaxfb's model of the frame bounds for ``T < N``: effective counts from level crossings.

For ``T = N`` the ``N//2 + 1`` values ``LP(k)`` are independent (two ``chi2_J/J`` edges,
``N/2 - 1`` interior ``Gamma(J, 1/J)``). For ``T < N`` the sampled curve is a trigonometric
polynomial of degree ``T - 1`` evaluated on a grid finer than its correlation length ``2 pi / T``,
and neighbouring values are correlated. The model keeps the two exact edge variables
``LP(0)``, ``LP(N/2)`` (both ``chi2_J / J`` for every ``T >= 2``) and replaces the interior by
``m_A`` (for the minimum) and ``m_B`` (for the maximum) independent ``Gamma(J, 1/J)`` variables,
with the effective counts given by a discrete Rice (level-crossing) argument:

* Away from the edges the curve is, to ``O(1/T)``, a stationary ``chi2_{2J}/(2J)`` process whose
  underlying complex Gaussians have correlation :math:`c(\delta) = D_T(\delta)/T`,
  :math:`D_T(\delta) = \sin(T\delta/2)/\sin(\delta/2)`, so two neighbouring grid values
  (spacing :math:`\Delta = 2\pi/N`) form Kibble's bivariate Gamma law with correlation
  :math:`\rho^2 = c(\Delta)^2`, and

  .. math:: U(x) = P(X_k \le x < X_{k+1}) = \int_0^x f_J(y)\,
            P\bigl(\chi'^2_{2J}(\lambda(y)) > \tfrac{2Jx}{1-\rho^2}\bigr)\,dy,
            \qquad \lambda(y) = \frac{2J\rho^2 y}{1-\rho^2}

  (the crossing probability of one grid step; as :math:`\Delta \to 0` it tends to Rice's
  :math:`\Delta\,\nu(x)`, :math:`\nu(x) = \sqrt{\lambda_2 x / (\pi J)}\, f_J(x)`,
  :math:`\lambda_2 = (T^2-1)/12`, which is used once :math:`1 - \rho^2 < 10^{-5}`).
* A first-order Markov (clumping) step turns crossings into an effective count:
  :math:`P(\min > x) \approx S(x)\,(1 - U/S)^{P-1} =: S(x)^{m_A(x)}` and likewise with ``F`` for the
  maximum, so :math:`m(x) = \min(P, 1) + (P - 1)_+ \log(1 - U/S) / \log S` (resp. ``F``), where
  ``P`` is the number of grid points in the interior region. When ``T = N`` (``rho = 0``) this is
  exactly ``P = N/2 - 1``.
* The interior region is :math:`[\ell, \pi - \ell]`: each edge variable accounts for its own
  neighbourhood. With independent samples (``N = T``) that neighbourhood is half a DFT bin,
  :math:`\ell = \pi/T`; on a fine grid the edge's neighbourhood is wider. The model uses
  :math:`\ell = (\pi/T)\,[1 + (c_\infty - 1)(1 - (N/T)^{-\beta})]`, with the two constants
  :data:`EDGE_WIDTH` ``= c_inf`` and :data:`EDGE_WIDTH_RATE` ``= beta`` calibrated once against
  Monte Carlo (``experiments/predictor_table.py --calibrate``; a seed disjoint from the table's).
* The counts depend (weakly) on the level ``x``; they are evaluated at the medians of ``A`` and
  ``B`` of the model itself (a fixed point, three iterations).

Everything else (edges exact, counts by crossings) is derived, not fitted. Private NumPy code.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np
from scipy import special, stats

from ._extremes import Extremes, Group

__all__ = ["EDGE_WIDTH", "EDGE_WIDTH_RATE", "exact_extremes", "model_extremes"]

#: Edge neighbourhood half-width on a fine grid, in units of ``pi / T`` (calibrated).
EDGE_WIDTH = 1.5
#: How fast the edge neighbourhood widens with the oversampling ``N / T`` (calibrated).
EDGE_WIDTH_RATE = 1.0
EDGE = (EDGE_WIDTH, EDGE_WIDTH_RATE)

_FIXED_POINT_ITERATIONS = 3
_RICE_SWITCH = 1e-5  # use the continuum (Rice) limit once 1 - rho^2 is below this
_GL32 = np.polynomial.legendre.leggauss(32)


def exact_extremes(num_filters: int, n: int) -> tuple[Extremes, float, float]:
    """The exact ``T = N`` law: independent edges and interior frequencies.

    See docs/theory.md, "The exact law when ``T = N``".
    """
    J = num_filters
    if n == 1:
        groups = [Group(J / 2, 1, "both")]
        interior = 0
    else:
        edges = 2 if n % 2 == 0 else 1
        interior = (n - 1) // 2 if n % 2 else n // 2 - 1
        groups = [Group(J / 2, edges, "both"), Group(J, interior, "both")]
    return Extremes(groups), float(interior), float(interior)


def neighbour_correlation(length: int, n: int) -> float:
    """``rho^2 = (D_T(2 pi / N) / T)^2``: squared correlation of neighbouring grid values."""
    if n <= length:
        return 0.0
    return (math.sin(math.pi * length / n) / (length * math.sin(math.pi / n))) ** 2


def edge_half_width(length: int, n: int, edge: tuple[float, float] = EDGE) -> float:
    """``ell``: the half-width, in radians, of the neighbourhood each edge variable accounts for.

    ``edge = (c_inf, beta)``: the width on fine grids, in units of ``pi / T``, and its rate.
    """
    width, rate = edge
    r = n / length
    return (math.pi / length) * (1.0 + (width - 1.0) * (1.0 - r ** (-rate)))


def interior_points(length: int, n: int, edge: tuple[float, float] = EDGE) -> float:
    """``P = (pi - 2 ell) / Delta`` (``>= 0``): grid points in the interior region."""
    return max(0.0, (math.pi - 2.0 * edge_half_width(length, n, edge)) * n / (2.0 * math.pi))


def crossing_probability(x: float, num_filters: int, length: int, n: int) -> float:
    """``U(x) = P(X_k <= x < X_{k+1})`` for neighbouring interior grid values (see module doc)."""
    J = num_filters
    r2 = neighbour_correlation(length, n)
    g = stats.gamma(J, scale=1.0 / J)
    if r2 == 0.0:
        return float(g.cdf(x) * g.sf(x))
    if 1.0 - r2 < _RICE_SWITCH:
        lam2 = (length * length - 1.0) / 12.0
        return float(2.0 * math.pi / n * math.sqrt(lam2 * x / (math.pi * J)) * g.pdf(x))
    # X_{k+1} | X_k = y  is  (1 - r2)/(2J) * noncentral chi2(2J, 2J r2 y / (1 - r2)):
    # its spread is ~sd around y, so the panels crowd towards y = x.
    sd = math.sqrt(2.0 * r2 * (1.0 - r2) * x / J + (1.0 - r2) ** 2 / J)
    ends = np.clip(np.array([0.0, x - 40 * sd, x - 12 * sd, x - 4 * sd, x]), 0.0, x)
    nodes, weights = _GL32
    total = 0.0
    for lo, hi in itertools.pairwise(ends):
        if hi <= lo:
            continue
        y = lo + 0.5 * (hi - lo) * (nodes + 1.0)
        sf = stats.ncx2.sf(2 * J * x / (1 - r2), 2 * J, 2 * J * r2 * y / (1 - r2))
        total += float(np.sum(0.5 * (hi - lo) * weights * g.pdf(y) * sf))
    return total


def effective_count(
    x: float, num_filters: int, length: int, n: int, *, side: str, edge: tuple[float, float] = EDGE
) -> float:
    """``m(x)``: interior Gamma(J, 1/J) variables equivalent to the grid at level ``x``."""
    P = interior_points(length, n, edge)
    if P <= 0.0:
        return 0.0
    if P <= 1.0:
        return P
    J = num_filters
    u = crossing_probability(x, J, length, n)
    a = J
    if side == "min":
        tail = special.gammaincc(a, a * x)
        log_tail = math.log(tail) if tail > 0 else -math.inf
    else:
        tail = special.gammainc(a, a * x)
        log_tail = math.log(tail) if tail > 0 else -math.inf
    if not (0.0 < tail < 1.0) or not math.isfinite(log_tail) or u <= 0.0:
        return P  # far tails: neighbours decouple
    ratio = math.log1p(-min(u / tail, 1.0 - 1e-15)) / log_tail
    return 1.0 + (P - 1.0) * ratio


@lru_cache(maxsize=4096)
def model_extremes(
    num_filters: int, length: int, n: int, edge: tuple[float, float] = EDGE
) -> tuple[Extremes, float, float]:
    """``(Extremes, m_A, m_B)`` of jaxfb's model (the exact law when ``length == n``).

    ``edge = (EDGE_WIDTH, EDGE_WIDTH_RATE)`` by default: the calibrated constants.
    """
    J, T = num_filters, length
    if T == 1:
        return Extremes([Group(J / 2, 1, "both")]), 0.0, 0.0
    if T == n:
        return exact_extremes(J, n)
    edges = Group(J / 2, 2, "both")
    m_a = m_b = interior_points(T, n, edge)
    for _ in range(_FIXED_POINT_ITERATIONS):
        model = Extremes([edges, Group(J, m_a, "min"), Group(J, m_b, "max")])
        if m_a == 0.0 and m_b == 0.0:
            break
        x_a = float(model.quantiles_min(np.log(0.5)))
        x_b = float(model.quantiles_max(np.log(0.5)))
        m_a = effective_count(x_a, J, T, n, side="min", edge=edge)
        m_b = effective_count(x_b, J, T, n, side="max", edge=edge)
    return Extremes([edges, Group(J, m_a, "min"), Group(J, m_b, "max")]), m_a, m_b
