r"""jaxfb's model of the frame bounds for ``T < N``: level-dependent counts from level crossings.

For ``T = N`` the ``N//2 + 1`` values ``LP(k)`` are independent (two ``chi2_J/J`` edges,
``N/2 - 1`` interior ``Gamma(J, 1/J)``). For ``T < N`` the sampled curve is a trigonometric
polynomial of degree ``T - 1`` evaluated on a grid finer than its correlation length ``2 pi / T``,
and neighbouring values are correlated. The model keeps the two exact edge variables
``LP(0)``, ``LP(N/2)`` (both ``chi2_J / J`` for every ``T >= 2``) and replaces the interior by
level-dependent numbers ``m_A(x)`` (for the minimum) and ``m_B(x)`` (for the maximum) of
independent ``Gamma(J, 1/J)`` variables:

.. math:: P(A > x) = S_e(x)^2\,S(x)^{m_A(x)}, \qquad P(B \le x) = F_e(x)^2\,F(x)^{m_B(x)},

with :math:`S_e, F_e` the edge (``chi2_J/J``) and :math:`S, F` the interior survival function and
cdf. The counts come from a discrete Rice (level-crossing) argument:

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
* A first-order Markov (clumping) step turns crossings into a count at every level:
  :math:`P(\min > x) \approx S(x)\,(1 - U/S)^{P-1} =: S(x)^{m_A(x)}` and likewise with ``F`` for
  the maximum, so :math:`m(x) = \min(P, 1) + (P - 1)_+ \log(1 - U/S) / \log S` (resp. ``F``),
  with ``P`` the number of grid points in the interior region. The count depends on the level:
  it grows into the far tails (where neighbours decouple), so the model's ``A`` and ``B`` are
  more spread than extremes of a fixed number of variables, as the Monte Carlo laws are. It is
  tabulated at 48 levels and interpolated (PCHIP in ``log x``).
* The interior region is :math:`[\ell, \pi - \ell]`: each edge variable accounts for its own
  neighbourhood, of half-width :math:`\ell = (\pi/T)[1 + (c - 1)(1 - T/N)^p]`,
  :math:`c = a + b/\sqrt T` (half a DFT bin at ``N = T``, ``(pi/T) c`` on fine grids), with one
  ``(a, b)`` for the minimum (:data:`MIN_EDGE_WIDTH`, :data:`MIN_EDGE_WIDTH_RATE`) and one for
  the maximum (:data:`EDGE_WIDTH`, :data:`EDGE_WIDTH_RATE`), and one exponent ``p``
  (:data:`EDGE_INTERPOLATION`) for how fast coarse grids (``N`` a few ``T``) approach the fine
  grid's width.
* ``kappa = c B / A`` with :math:`c = (1 - 2/(JT))^\gamma` (:data:`KAPPA_COUPLING` ``= gamma``):
  every ``LP(k)`` carries the common factor :math:`s = \|W\|_F^2` (variance ``2/(JT)``), which
  makes ``A`` and ``B`` positively correlated, while the model's interior groups for ``A`` and
  ``B`` are independent; ``c`` corrects the mean ratio for that (``(1 - 2/(JT))`` would be the
  correction if ``A/s`` and ``B/s`` were independent).

The six constants are fitted to Monte Carlo on the calibration points of
``experiments/predictor_table.py`` only (``J in {3, 5, 8, 16, 64}``, ``T in {4, ..., 256}``,
``N in {4T, 1024, 4096}``; docs/theory.md, "Calibration") and validated on held-out points (other
``J``, ``T``, ``N / T``); the measured errors are in docs/predictor_table.md. Private NumPy code.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import special, stats
from scipy.interpolate import PchipInterpolator

from ._extremes import Extremes, Group

__all__ = [
    "CONSTANTS",
    "EDGE_INTERPOLATION",
    "EDGE_WIDTH",
    "EDGE_WIDTH_RATE",
    "KAPPA_COUPLING",
    "MIN_EDGE_WIDTH",
    "MIN_EDGE_WIDTH_RATE",
    "exact_extremes",
    "model_extremes",
]

#: Edge half-width of the maximum: ``(pi / T) (EDGE_WIDTH + EDGE_WIDTH_RATE / sqrt(T))``.
EDGE_WIDTH = 1.23
#: The ``1 / sqrt(T)`` term of the maximum's edge half-width.
EDGE_WIDTH_RATE = 0.6
EDGE = (EDGE_WIDTH, EDGE_WIDTH_RATE)
#: Edge half-width of the minimum: ``(pi / T) (MIN_EDGE_WIDTH + MIN_EDGE_WIDTH_RATE / sqrt(T))``.
MIN_EDGE_WIDTH = 0.0
#: The ``1 / sqrt(T)`` term of the minimum's edge half-width.
MIN_EDGE_WIDTH_RATE = 2.6
#: Exponent ``gamma`` of the ``kappa`` coupling ``(1 - 2/(J T))^gamma``.
KAPPA_COUPLING = 0.25
#: Exponent ``p`` of the coarse-grid factor ``(1 - T/N)^p`` in the edge half-widths.
EDGE_INTERPOLATION = 2.0
#: ``(a_A, b_A, a_B, b_B, gamma, p)``, the calibrated constants (see the module docstring).
CONSTANTS = (
    MIN_EDGE_WIDTH,
    MIN_EDGE_WIDTH_RATE,
    EDGE_WIDTH,
    EDGE_WIDTH_RATE,
    KAPPA_COUPLING,
    EDGE_INTERPOLATION,
)

_LEVELS = 48  # levels at which the level-dependent counts are tabulated
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


def edge_half_width(
    length: int, n: int, edge: tuple[float, float] = EDGE, power: float = EDGE_INTERPOLATION
) -> float:
    """``ell``: the half-width, in radians, of an edge's neighbourhood.

    ``ell = (pi / T) [1 + (c - 1)(1 - T / N)^p]`` with ``c = a + b / sqrt(T)``,
    ``edge = (a, b)``, ``p = power``: half a DFT bin (``pi / T``) at ``N = T``, where the samples
    are independent, and ``(pi / T) c`` on fine grids.
    """
    width, rate = edge
    c = width + rate / math.sqrt(length)
    return (math.pi / length) * (1.0 + (c - 1.0) * (1.0 - length / n) ** power)


def interior_points(
    length: int, n: int, edge: tuple[float, float] = EDGE, power: float = EDGE_INTERPOLATION
) -> float:
    """``P = (pi - 2 ell) / Delta`` (``>= 0``): grid points in the interior region."""
    ell = edge_half_width(length, n, edge, power)
    return max(0.0, (math.pi - 2.0 * ell) * n / (2.0 * math.pi))


def _gamma_pdf(x, J: float):
    """Density of ``Gamma(J, 1/J)`` (the interior ``LP(k)``), without freezing a scipy law."""
    x = np.asarray(x, np.float64)
    with np.errstate(divide="ignore"):
        return np.exp(J * math.log(J) + (J - 1.0) * np.log(x) - J * x - special.gammaln(J))


def crossing_probability(x: float, num_filters: int, length: int, n: int) -> float:
    """``U(x) = P(X_k <= x < X_{k+1})`` for neighbouring interior grid values (see module doc)."""
    J = num_filters
    r2 = neighbour_correlation(length, n)
    if r2 == 0.0:
        return float(special.gammainc(J, J * x) * special.gammaincc(J, J * x))
    if 1.0 - r2 < _RICE_SWITCH:
        lam2 = (length * length - 1.0) / 12.0
        return float(2.0 * math.pi / n * math.sqrt(lam2 * x / (math.pi * J)) * _gamma_pdf(x, J))
    # X_{k+1} | X_k = y  is  (1 - r2)/(2J) * noncentral chi2(2J, 2J r2 y / (1 - r2)):
    # its spread is ~sd around y, so the panels crowd towards y = x.
    sd = math.sqrt(2.0 * r2 * (1.0 - r2) * x / J + (1.0 - r2) ** 2 / J)
    ends = np.clip(np.array([0.0, x - 40 * sd, x - 12 * sd, x - 4 * sd, x]), 0.0, x)
    nodes, weights = _GL32
    lo, hi = ends[:-1], ends[1:]
    keep = hi > lo
    lo, hi = lo[keep, None], hi[keep, None]
    y = lo + 0.5 * (hi - lo) * (nodes + 1.0)  # every panel's nodes, one scipy call
    sf = stats.ncx2.sf(2 * J * x / (1 - r2), 2 * J, 2 * J * r2 * y / (1 - r2))
    return float(np.sum(0.5 * (hi - lo) * weights * _gamma_pdf(y, J) * sf))


def effective_count(
    x: float,
    num_filters: int,
    length: int,
    n: int,
    *,
    side: str,
    edge: tuple[float, float] = EDGE,
    power: float = EDGE_INTERPOLATION,
) -> float:
    """``m(x)``: interior Gamma(J, 1/J) variables equivalent to the grid at level ``x``."""
    P = interior_points(length, n, edge, power)
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


def _count_curve(
    J: float, T: int, n: int, side: str, edge, power: float = EDGE_INTERPOLATION
) -> tuple[object, float]:
    """``x -> (m(x), m'(x))`` tabulated at ``_LEVELS`` levels (PCHIP in ``log x``), and ``P``.

    Outside the tabulated range (interior tail probabilities below ``1e-14``) ``m`` is constant.
    """
    P = interior_points(T, n, edge, power)
    g = stats.gamma(J, scale=1.0 / J)
    lo, hi = (g.ppf(1e-14), g.ppf(0.5)) if side == "min" else (g.ppf(0.5), g.isf(1e-14))
    t = np.linspace(math.log(lo), math.log(hi), _LEVELS)
    m = [effective_count(math.exp(v), J, T, n, side=side, edge=edge, power=power) for v in t]
    m = np.array(m)
    spline = PchipInterpolator(t, np.clip(m, min(P, 1.0), P))
    slope = spline.derivative()

    def level(x):
        lx = np.log(np.maximum(x, 1e-300))
        tc = np.clip(lx, t[0], t[-1])
        inside = (lx > t[0]) & (lx < t[-1])
        return spline(tc), np.where(inside, slope(tc) / np.maximum(x, 1e-300), 0.0)

    return level, P


@lru_cache(maxsize=4096)
def model_extremes(
    num_filters: float, length: int, n: int, constants: tuple = CONSTANTS
) -> tuple[Extremes, float, float]:
    """``(Extremes, m_A, m_B)`` of jaxfb's model (the exact law when ``length == n``).

    ``constants = (a_A, b_A, a_B, b_B, gamma, p)`` (default :data:`CONSTANTS`, the calibrated
    ones): the edge half-widths (``a + b/sqrt(T)`` on fine grids, see :func:`edge_half_width`)
    of the minimum and the maximum, the exponent of the ``kappa`` coupling and the coarse-grid
    exponent of the half-widths.
    ``m_A``, ``m_B`` are the level-dependent counts at the medians of ``A`` and ``B``.
    """
    J, T = num_filters, length
    if T == 1:
        return Extremes([Group(J / 2, 1, "both")]), 0.0, 0.0
    if T == n:
        return exact_extremes(J, n)
    a_a, b_a, a_b, b_b, gamma, power = constants
    edges = Group(J / 2, 2, "both")
    scale = (1.0 - 2.0 / (J * T)) ** gamma if T > 2 else 1.0  # T = 2: the exact edge law
    ca, p_a = _count_curve(J, T, n, "min", (a_a, b_a), power)
    cb, p_b = _count_curve(J, T, n, "max", (a_b, b_b), power)
    groups = [
        edges,
        Group(J, p_a, "min", ca if p_a > 1.0 else None),
        Group(J, p_b, "max", cb if p_b > 1.0 else None),
    ]
    model = Extremes(groups, ratio_scale=scale)
    m_a = float(ca(model.quantiles_min(np.log(0.5)))[0]) if p_a > 1.0 else p_a
    m_b = float(cb(model.quantiles_max(np.log(0.5)))[0]) if p_b > 1.0 else p_b
    return model, m_a, m_b
