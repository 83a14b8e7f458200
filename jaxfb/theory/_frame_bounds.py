r"""Frame-bound theory: the paper's approximations, the exact ``T = N`` law, jaxfb's predictor.

For ``J`` Gaussian filters of length ``T`` (variance ``1/(J T)``) on signals of length ``N``,
``A = min_k LP(k)``, ``B = max_k LP(k)`` and ``kappa = B / A`` (see :func:`jaxfb.frame_bounds`).

* **The paper's approximations** (Haider et al. 2024, Sec. III-B): ``A`` and ``B`` are taken as
  the minimum and maximum of ``T`` i.i.d. ``chi2_J / J`` variables (:func:`chi2_extreme_means`,
  :func:`paper_expected_frame_bounds`), asymptotically ``1 -/+ 2 sqrt(log T / J)``
  (:func:`paper_asymptotic_bounds`), giving :func:`kappa_tilde`.
* **The exact law when** ``T = N`` (:func:`frame_bound_distribution`): the ``N//2 + 1`` values of
  ``LP`` are independent, ``chi2_J / J`` at ``k = 0`` (and ``k = N/2`` for even ``N``) and
  ``Gamma(J, 1/J) = chi2_{2J} / (2J)`` at the ``N/2 - 1`` (even) or ``(N - 1)/2`` (odd) interior
  frequencies, so ``A``, ``B`` and ``kappa`` have exact order-statistics laws.
* **jaxfb's predictor when** ``T < N`` (a model, calibrated on Monte Carlo): the same law with
  the interior replaced by level-dependent effective numbers ``m_A(x)``, ``m_B(x)`` of
  independent frequencies, obtained from the level-crossing (discrete Rice) rate of the
  trigonometric polynomial ``LP`` (see :mod:`jaxfb.theory._frame_model`).

Every function here is NumPy/SciPy code evaluated by deterministic quadrature (composite
Gauss-Legendre on quantile panels, all probabilities in log space), not a JAX kernel: it is not
jitted, traced or differentiable, and it returns NumPy float64 values. Inputs may be Python ints
or integer arrays (broadcast together); results of the same shape.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy import optimize

from ._common import host_side
from ._conv import conv_arguments, conv_mean_kappa, conv_means
from ._extremes import Extremes, Group
from ._frame_model import (
    CONSTANTS,
    EDGE_INTERPOLATION,
    EDGE_WIDTH,
    EDGE_WIDTH_RATE,
    KAPPA_COUPLING,
    MIN_EDGE_WIDTH,
    MIN_EDGE_WIDTH_RATE,
    model_extremes,
)

__all__ = [
    "EffectiveCounts",
    "ExpectedFrameBounds",
    "FrameBoundDistribution",
    "chi2_extreme_means",
    "effective_counts",
    "expected_condition_number",
    "expected_frame_bounds",
    "expected_log_condition_number",
    "frame_bound_distribution",
    "kappa_tilde",
    "median_condition_number",
    "paper_asymptotic_bounds",
    "paper_expected_frame_bounds",
]


class ExpectedFrameBounds(NamedTuple):
    """Expected (or predicted) frame bounds ``(E[A], E[B])``."""

    lower: np.ndarray
    """``E[A]`` (NumPy float64, the broadcast shape of the inputs)."""
    upper: np.ndarray
    """``E[B]``."""


class EffectiveCounts(NamedTuple):
    """Number of independent interior ``Gamma(J, 1/J)`` frequencies in the model of ``A``, ``B``."""

    lower: np.ndarray
    """``m_A``: the count entering the minimum."""
    upper: np.ndarray
    """``m_B``: the count entering the maximum."""


# ---------------------------------------------------------------------------------------------
# argument handling


def _int_array(name: str, value, minimum: int) -> np.ndarray:
    if isinstance(value, bool) or (isinstance(value, np.ndarray) and value.dtype == bool):
        raise TypeError(f"{name} must be an integer (or integer array), got {value!r}")
    arr = np.asarray(value)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an integer (or integer array), got {value!r}")
    if arr.size and arr.min() < minimum:
        bad = arr.reshape(-1)[np.argmin(arr.reshape(-1))]
        raise ValueError(f"{name} must be >= {minimum}, got {bad}")
    return arr.astype(np.int64)


def _lengths(num_filters, length, n=None):
    """Validate ``J >= 1``, ``T >= 1``, ``n >= T`` (broadcast) and return int64 arrays."""
    J = _int_array("num_filters", num_filters, 1)
    T = _int_array("length", length, 1)
    if n is None:
        J, T = np.broadcast_arrays(J, T)
        return J, T
    N = _int_array("n", n, 1)
    J, T, N = np.broadcast_arrays(J, T, N)
    if N.size and np.any(N < T):
        i = np.argmax((N < T).reshape(-1))
        raise ValueError(
            f"n={N.reshape(-1)[i]} must be >= the filter length, length={T.reshape(-1)[i]}"
        )
    return J, T, N


def _map(fn, *arrays, outputs: int = 1):
    """Apply a scalar function elementwise over broadcast int arrays; 0-d results as scalars."""
    shape = arrays[0].shape
    outs = [np.empty(shape, dtype=float) for _ in range(outputs)]
    for idx in np.ndindex(shape):
        val = fn(*(int(a[idx]) for a in arrays))
        if outputs == 1:
            val = (val,)
        for o, v in zip(outs, val, strict=True):
            o[idx] = v
    outs = [o[()] if o.ndim == 0 else o for o in outs]
    return outs[0] if outputs == 1 else outs


# ---------------------------------------------------------------------------------------------
# the paper's approximations


@lru_cache(maxsize=4096)
def _chi2_extremes(J: int, count: int) -> tuple[float, float]:
    X = Extremes([Group(J / 2, count, "both")])
    return X.expect_min(), X.expect_max()


def chi2_extreme_means(num_filters, count) -> ExpectedFrameBounds:
    r"""Expected minimum and maximum of ``count`` i.i.d. :math:`\chi^2_J / J` variables.

    .. math:: \mathbb E[\min] = \int_0^\infty S(x)^{T}\,dx, \qquad
              \mathbb E[\max] = \int_0^\infty \bigl(1 - F(x)^{T}\bigr)\,dx,

    with ``F``, ``S`` the cdf and survival function of :math:`\chi^2_J / J` and ``T = count``,
    computed by quadrature (relative accuracy ~1e-9 or better), not by simulation. These are the
    paper's approximations of ``E[A]`` and ``E[B]`` when ``count = T`` (Haider et al. 2024,
    Sec. III-B; see :func:`paper_expected_frame_bounds`).

    NumPy code (not jitted); arguments broadcast.

    Args:
        num_filters: ``J >= 1`` (int or integer array), the degrees of freedom.
        count: number of i.i.d. variables ``>= 1`` (int or integer array).

    Returns:
        ``ExpectedFrameBounds(lower, upper)`` of float64, shape of the broadcast inputs.

    Examples:
        >>> from jaxfb import theory
        >>> lo, hi = theory.chi2_extreme_means(4, 1)  # one variable: both are its mean
        >>> round(float(lo), 10), round(float(hi), 10)
        (1.0, 1.0)
    """
    host_side("chi2_extreme_means", num_filters=num_filters, count=count)
    J, T = np.broadcast_arrays(
        _int_array("num_filters", num_filters, 1), _int_array("count", count, 1)
    )
    lo, hi = _map(_chi2_extremes, J, T, outputs=2)
    return ExpectedFrameBounds(lo, hi)


def paper_expected_frame_bounds(num_filters, length) -> ExpectedFrameBounds:
    r"""The paper's approximation of ``(E[A], E[B])``: extremes of ``T`` i.i.d. :math:`\chi^2_J/J`.

    Haider et al. (2024, Sec. III-B) model the ``T`` values of the Littlewood-Paley sum as
    independent :math:`\chi^2_J / J`. The model is off in two ways (see ``docs/theory.md``):
    the interior frequencies are :math:`\chi^2_{2J}/(2J)` (variance ``1/J``, not ``2/J``), and
    the number of independent frequencies is not ``T``. Use :func:`expected_frame_bounds` for
    predictions.

    Args:
        num_filters: ``J >= 1``.
        length: ``T >= 1``.

    Returns:
        ``ExpectedFrameBounds(lower, upper)`` = :func:`chi2_extreme_means` ``(J, T)``.

    Examples:
        >>> from jaxfb import theory
        >>> lo, hi = theory.paper_expected_frame_bounds(40, 1024)
        >>> round(float(lo), 3), round(float(hi), 3)
        (0.429, 1.89)
    """
    host_side("paper_expected_frame_bounds", num_filters=num_filters, length=length)
    return chi2_extreme_means(num_filters, length)


def paper_asymptotic_bounds(num_filters, length) -> ExpectedFrameBounds:
    r"""The paper's asymptotic frame bounds :math:`1 \mp 2\sqrt{\log T / J}` (natural log).

    Haider et al. (2024, Sec. III-B). The lower value is returned as is, also where it is
    negative (``J < 4 log T``), which is where :func:`kappa_tilde` is undefined.

    Args:
        num_filters: ``J >= 1``.
        length: ``T >= 1``.

    Returns:
        ``ExpectedFrameBounds(lower, upper)`` of float64.

    Examples:
        >>> from jaxfb import theory
        >>> lo, hi = theory.paper_asymptotic_bounds(40, 1024)
        >>> round(float(lo), 4), round(float(hi), 4)
        (0.1674, 1.8326)
    """
    host_side("paper_asymptotic_bounds", num_filters=num_filters, length=length)
    J, T = _lengths(num_filters, length)
    eps = 2.0 * np.sqrt(np.log(T) / J)
    lo, hi = 1.0 - eps, 1.0 + eps
    if lo.ndim == 0:
        lo, hi = lo[()], hi[()]
    return ExpectedFrameBounds(lo, hi)


def kappa_tilde(num_filters, length):
    r"""The paper's approximate condition number :math:`\tilde\kappa(J, T)`.

    .. math:: \tilde\kappa = \frac{1 + 2\sqrt{\log T / J}}{1 - 2\sqrt{\log T / J}}

    (Haider et al. 2024, Sec. III-B, natural log). It is undefined once the denominator is not
    positive, ``J <= 4 log T``; there ``+inf`` is returned (never NaN or a negative number).
    It overestimates the mean condition number heavily (``J = 40``, ``T = N = 1024``: 10.94
    against an exact ``E[kappa] = 2.67``); see :func:`expected_condition_number`.

    Args:
        num_filters: ``J >= 1`` (int or integer array).
        length: ``T >= 1`` (int or integer array).

    Returns:
        float64 array (or scalar) of the broadcast shape, ``>= 1`` or ``inf``.

    Examples:
        >>> from jaxfb import theory
        >>> round(float(theory.kappa_tilde(40, 1024)), 3)
        10.944
        >>> float(theory.kappa_tilde(4, 8))  # J <= 4 log T: undefined
        inf
    """
    host_side("kappa_tilde", num_filters=num_filters, length=length)
    J, T = _lengths(num_filters, length)
    eps = 2.0 * np.sqrt(np.log(T) / J)
    ok = eps < 1.0
    out = np.where(ok, (1.0 + eps) / np.where(ok, 1.0 - eps, 1.0), np.inf)
    return out[()] if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------------
# the exact T = N law and the predictor's law


class FrameBoundDistribution:
    r"""Law of ``(A, B, kappa)`` for ``J`` Gaussian filters of length ``T`` on ``N`` samples.

    Exact when ``T == N`` (``exact`` is ``True``), and also when ``T <= 2``; otherwise jaxfb's
    effective-count model (see :func:`expected_frame_bounds`). Create it with
    :func:`frame_bound_distribution`. All methods take array arguments and return float64 NumPy
    arrays of the same shape; they are NumPy/SciPy code (not jitted).

    The variables are independent groups of :math:`\mathrm{Gamma}(\alpha, 1/\alpha)`:
    ``alpha = J/2`` for the edge frequencies and ``alpha = J`` for the interior ones, so

    .. math::
        P(A > a) = \prod_g S_g(a)^{n_g},\quad P(B \le b) = \prod_g F_g(b)^{n_g},\quad
        P(\kappa \le r) = \int_0^\infty P(A \in da)\,P(B \le ra \mid A = a),

    the last by one-dimensional quadrature (the conditional law is explicit), and the moments of
    ``kappa`` by a two-dimensional one.

    Attributes:
        num_filters, length, n: ``J``, ``T``, ``N``.
        exact: whether the law is exact (``T == N`` or ``T <= 2`` with even ``N``).
        counts: ``EffectiveCounts(m_A, m_B)``, the interior counts (``N/2 - 1`` each when exact;
            for the model, the level-dependent counts at the medians of ``A`` and ``B``).
    """

    def __init__(
        self,
        num_filters: int,
        length: int,
        n: int,
        constants: tuple = CONSTANTS,
    ):
        self.num_filters, self.length, self.n = num_filters, length, n
        self._x, m_a, m_b = model_extremes(num_filters, length, n, constants)
        self.counts = EffectiveCounts(float(m_a), float(m_b))
        self.exact = length == n or length == 1 or (length == 2 and n % 2 == 0)
        self._cache: dict[str, float] = {}

    def __repr__(self) -> str:
        kind = "exact" if self.exact else "model"
        return (
            f"FrameBoundDistribution(num_filters={self.num_filters}, length={self.length}, "
            f"n={self.n}, {kind}, counts=({self.counts.lower:.4g}, {self.counts.upper:.4g}))"
        )

    # -- A and B ------------------------------------------------------------------------------
    def lower_cdf(self, x):
        """``P(A <= x)``."""
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = -np.expm1(self._x.logsf_min(np.maximum(x, 0.0)))
        return np.where(x > 0, out, 0.0)

    def lower_sf(self, x):
        """``P(A > x)``."""
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(self._x.logsf_min(np.maximum(x, 0.0)))
        return np.where(x > 0, out, 1.0)

    def lower_pdf(self, x):
        """Density of ``A``."""
        x = np.asarray(x, float)
        return np.where(x > 0, self._x.pdf_min(np.where(x > 0, x, 1.0)), 0.0)

    def upper_cdf(self, x):
        """``P(B <= x)``."""
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.exp(self._x.logcdf_max(np.maximum(x, 0.0)))
        return np.where(x > 0, out, 0.0)

    def upper_sf(self, x):
        """``P(B > x)``."""
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = -np.expm1(self._x.logcdf_max(np.maximum(x, 0.0)))
        return np.where(x > 0, out, 1.0)

    def upper_pdf(self, x):
        """Density of ``B``."""
        x = np.asarray(x, float)
        return np.where(x > 0, self._x.pdf_max(np.where(x > 0, x, 1.0)), 0.0)

    # -- kappa --------------------------------------------------------------------------------
    def kappa_cdf(self, r):
        """``P(kappa <= r)`` (``0`` below 1; absolute accuracy ~1e-12)."""
        return self._x.ratio_sf(np.asarray(r, float))[1]

    def kappa_sf(self, r):
        """``P(kappa > r)``, computed directly (not as ``1 - cdf``)."""
        return self._x.ratio_sf(np.asarray(r, float))[0]

    def kappa_pdf(self, r):
        """Density of ``kappa`` (``T = 1``: ``kappa = 1`` surely, the density is 0 everywhere)."""
        return self._x.ratio_pdf(np.asarray(r, float))

    # -- moments ------------------------------------------------------------------------------
    def _cached(self, key, fn):
        if key not in self._cache:
            self._cache[key] = float(fn())
        return self._cache[key]

    def mean_lower(self) -> float:
        """``E[A]``."""
        return self._cached("EA", self._x.expect_min)

    def mean_upper(self) -> float:
        """``E[B]``."""
        return self._cached("EB", self._x.expect_max)

    def _kappa_is_one(self) -> bool:
        return self.length == 1 or (self.n == 1)

    def mean_kappa(self) -> float:
        """``E[kappa]``; ``inf`` when it does not exist (``J <= 2`` and ``T >= 2``)."""
        if self._kappa_is_one():
            return 1.0
        if self.num_filters <= 2:
            return math.inf
        return self._cached("Ek", self._x.mean_ratio)

    def mean_log_kappa(self) -> float:
        """``E[log kappa]`` (finite for every ``J``)."""
        if self._kappa_is_one():
            return 0.0
        return self._cached("Elogk", self._x.mean_log_ratio)

    def kappa_quantile(self, q: float) -> float:
        """The ``q``-quantile of ``kappa`` (``0 < q < 1``), by root finding on :meth:`kappa_sf`."""
        if not 0.0 < q < 1.0:
            raise ValueError(f"q must be in (0, 1), got {q}")
        if self._kappa_is_one():
            return 1.0

        def f(log_r):
            return float(self.kappa_sf(math.exp(log_r))) - (1.0 - q)

        hi = 1.0
        while f(hi) > 0:
            hi *= 2.0
        return math.exp(optimize.brentq(f, 0.0, hi, xtol=1e-13, rtol=1e-13))

    def median_kappa(self) -> float:
        """Median of ``kappa``."""
        return self._cached("medk", lambda: self.kappa_quantile(0.5))


@lru_cache(maxsize=4096)
def _distribution(J: int, T: int, N: int, constants: tuple = CONSTANTS) -> FrameBoundDistribution:
    return FrameBoundDistribution(J, T, N, constants)


def _nonnegative(name: str, value) -> float:
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def frame_bound_distribution(
    num_filters: int,
    n: int,
    *,
    length: int | None = None,
    edge_width: float = EDGE_WIDTH,
    edge_width_rate: float = EDGE_WIDTH_RATE,
    min_edge_width: float = MIN_EDGE_WIDTH,
    min_edge_width_rate: float = MIN_EDGE_WIDTH_RATE,
    kappa_coupling: float = KAPPA_COUPLING,
    edge_interpolation: float = EDGE_INTERPOLATION,
):
    r"""Exact law of the frame bounds ``A``, ``B`` and of ``kappa`` when ``T = N``.

    When the filters are as long as the signal, their ``N``-point DFT coefficients are an
    orthogonal transform of i.i.d. Gaussians, so the ``N//2 + 1`` values of ``LP`` are
    independent: :math:`\chi^2_J/J` at ``k = 0`` and ``k = N/2`` (even ``N``),
    :math:`\chi^2_{2J}/(2J)` at the ``N/2 - 1`` (even) or ``(N-1)/2`` (odd) others. ``A``, ``B``
    are their min and max and

    .. math:: P(A > a) = S_e(a)^{n_e} S_i(a)^{n_i}, \qquad
              P(B \le b) = F_e(b)^{n_e} F_i(b)^{n_i}.

    With ``length < n`` the returned object holds jaxfb's model for ``T < N`` instead
    (``exact=False``; see :func:`expected_frame_bounds`). Its calibrated ingredients are the
    half-widths :math:`(\pi/T)[1 + (c - 1)(1 - T/N)^p]`, :math:`c = a + b/\sqrt T`, of the edge
    frequencies' neighbourhoods, one for the maximum (``a = edge_width``,
    ``b = edge_width_rate``) and one for the minimum (``min_edge_width``,
    ``min_edge_width_rate``), the exponent ``p = edge_interpolation``, and the exponent
    ``gamma = kappa_coupling`` of ``kappa = (1 - 2/(JT))^gamma B/A``; the defaults are the
    calibrated values (docs/theory.md, "Calibration"; :data:`EDGE_WIDTH`,
    :data:`EDGE_WIDTH_RATE` for the maximum).

    Args:
        num_filters: ``J >= 1``, a Python int.
        n: ``N >= 1``, a Python int.
        length: ``T`` with ``1 <= T <= N``; default ``N`` (the exact case).
        edge_width: ``a >= 0`` of the maximum's edge in the ``T < N`` model (default calibrated).
        edge_width_rate: ``b >= 0`` of the maximum's edge (default calibrated).
        min_edge_width: ``a >= 0`` of the minimum's edge (default calibrated).
        min_edge_width_rate: ``b >= 0`` of the minimum's edge (default calibrated).
        kappa_coupling: ``gamma >= 0`` of the ``kappa`` coupling (default calibrated).
        edge_interpolation: ``p >= 0`` of the edges' coarse-grid factor (default calibrated).

    Returns:
        a :class:`FrameBoundDistribution` with ``lower_cdf/sf/pdf``, ``upper_cdf/sf/pdf``,
        ``kappa_cdf/sf/pdf``, ``mean_lower``, ``mean_upper``, ``mean_kappa``, ``median_kappa``,
        ``mean_log_kappa``, ``kappa_quantile``.

    Examples:
        >>> from jaxfb import theory
        >>> d = theory.frame_bound_distribution(40, 1024)
        >>> round(d.mean_lower(), 4), round(d.mean_upper(), 4), round(d.mean_kappa(), 4)
        (0.5854, 1.5556, 2.6718)
        >>> float(d.kappa_cdf(2.0)) < 0.5 < float(d.kappa_cdf(3.0))
        True
    """
    host_side(
        "frame_bound_distribution",
        num_filters=num_filters,
        n=n,
        length=length,
        edge_width=edge_width,
        edge_width_rate=edge_width_rate,
        min_edge_width=min_edge_width,
        min_edge_width_rate=min_edge_width_rate,
        kappa_coupling=kappa_coupling,
        edge_interpolation=edge_interpolation,
    )
    if length is None:
        length = n
    J, T, N = _lengths(num_filters, length, n)
    if J.ndim or T.ndim or N.ndim:
        raise TypeError("frame_bound_distribution takes scalar ints (one law at a time)")
    constants = (
        _nonnegative("min_edge_width", min_edge_width),
        _nonnegative("min_edge_width_rate", min_edge_width_rate),
        _nonnegative("edge_width", edge_width),
        _nonnegative("edge_width_rate", edge_width_rate),
        _nonnegative("kappa_coupling", kappa_coupling),
        _nonnegative("edge_interpolation", edge_interpolation),
    )
    return _distribution(int(J), int(T), int(N), constants)


# ---------------------------------------------------------------------------------------------
# predictions (exact when T == N)


def expected_frame_bounds(
    num_filters, length, n, *, in_channels=1, stride=1
) -> ExpectedFrameBounds:
    r"""``(E[A], E[B])``: exact when ``length == n``, jaxfb's best predictor when ``length < n``.

    ``T = N`` (and ``T <= 2``): exact order statistics of independent edge
    (:math:`\chi^2_J/J`) and interior (:math:`\chi^2_{2J}/(2J)`) frequencies,
    :math:`\mathbb E[A] = \int_0^\infty P(A > a)\,da` and likewise for ``B``.

    ``T < N``: **a model** (jaxfb's predictor), not an exact law. The two edge frequencies stay
    exact and the interior is replaced by level-dependent numbers ``m_A(x)`` (for ``A``) and
    ``m_B(x)`` (for ``B``) of independent :math:`\chi^2_{2J}/(2J)` variables,
    :math:`P(A > x) = S_e(x)^2 S(x)^{m_A(x)}`, :math:`P(B \le x) = F_e(x)^2 F(x)^{m_B(x)}`,

    .. math:: m(x) = 1 + (P - 1)\,\frac{\log\bigl(1 - U(x)/S(x)\bigr)}{\log S(x)},

    where ``U(x)`` is the probability that two neighbouring grid values of ``LP`` straddle the
    level ``x`` (Kibble's bivariate Gamma law with the correlation :math:`D_T(2\pi/N)^2/T^2` of a
    degree ``T - 1`` trigonometric polynomial; Rice's formula on fine grids), ``S`` is the
    interior survival function (``F`` for ``B``) and ``P`` the number of grid points outside the
    edges' neighbourhoods (half-width :math:`(\pi/T)[1 + (c - 1)(1 - T/N)^p]`,
    :math:`c = a + b/\sqrt T`, one ``(a, b)`` for each side); ``kappa = (1 - 2/(JT))^gamma B/A``.
    The six constants were fitted to Monte Carlo at ``J in {3, 5, 8, 16, 64}``,
    ``T in {4, ..., 256}``, ``N in {4T, 1024, 4096}`` (docs/theory.md, "Calibration").
    Measured error on held-out points (``J in {4, 6, 10, 24}``, ``T in {6, ..., 192}``,
    ``N in {2T, 3T, 2048}``; the ``held-out`` rows of docs/predictor_table.md): for ``J >= 5``
    ``E[A]`` within 0.54%, ``E[B]`` within 0.66%, ``E[kappa]`` within 0.82%; for ``J in {3, 4}``
    ``E[A]``, ``E[B]`` within 1.12%. The Monte Carlo relative SEs at those points are 0.03% to
    0.2%. See docs/theory.md for the derivation.

    Conv layers (``in_channels = C``, ``stride = d``, weights ``(J, C, T)`` with variance
    ``1/(J T)``, see :func:`jaxfb.conv_frame_bounds`): the bounds are extremes over
    independent ``d C x d C`` real and complex Wishart blocks, exact when ``length == n``,
    with the effective counts above at ``(J, T/d, n/d)`` otherwise (``docs/conv_theory.md``).
    ``E[A] = 0`` when ``J < d C``.

    NumPy code (not jitted); arguments broadcast; results are cached per ``(J, T, N)``.

    Args:
        num_filters: ``J >= 1`` (int or integer array), the output channels.
        length: ``T >= 1`` (int or integer array).
        n: ``N >= T`` (int or integer array).
        in_channels: ``C >= 1`` (int or integer array); default 1.
        stride: ``d >= 1`` dividing ``length`` and ``n`` (int or integer array); default 1.

    Returns:
        ``ExpectedFrameBounds(lower, upper)`` of float64, the broadcast shape.

    Examples:
        >>> from jaxfb import theory
        >>> lo, hi = theory.expected_frame_bounds(40, 1024, 1024)  # exact
        >>> round(float(lo), 4), round(float(hi), 4)
        (0.5854, 1.5556)
    """
    host_side(
        "expected_frame_bounds",
        num_filters=num_filters,
        length=length,
        n=n,
        in_channels=in_channels,
        stride=stride,
    )
    J, T, N = _lengths(num_filters, length, n)
    conv = conv_arguments(J, T, N, in_channels, stride)
    if conv is not None:
        return ExpectedFrameBounds(*_map(conv_means, *conv, outputs=2))

    def one(j, t, m):
        d = _distribution(j, t, m)
        return d.mean_lower(), d.mean_upper()

    lo, hi = _map(one, J, T, N, outputs=2)
    return ExpectedFrameBounds(lo, hi)


def expected_condition_number(num_filters, length, n, *, in_channels=1, stride=1):
    r"""``E[kappa] = E[B / A]``: exact when ``length == n``, predicted when ``length < n``.

    .. math:: \mathbb E[\kappa] = 1 + \int_0^\infty P(A \in da)\,\frac1a
              \int_a^\infty P(B > b \mid A = a)\,db

    (two-dimensional quadrature over the law of :func:`frame_bound_distribution`).
    ``LP(0)`` is :math:`\chi^2_J/J` for every ``T``, so ``E[1/A] = inf`` and the mean does not
    exist for ``J <= 2`` (``T >= 2``): ``+inf`` is returned there (and its variance is infinite
    for ``J <= 4``); use :func:`median_condition_number` or
    :func:`expected_log_condition_number` instead. ``T = 1`` gives ``kappa = 1``.

    Conv layers (``in_channels``, ``stride``; see :func:`expected_frame_bounds`): the same
    formula over the joint law of the blocks; ``inf`` when ``J < d C + 2``.

    Args:
        num_filters: ``J >= 1`` (int or integer array).
        length: ``T >= 1``.
        n: ``N >= T``.
        in_channels: ``C >= 1``; default 1.
        stride: ``d >= 1`` dividing ``length`` and ``n``; default 1.

    Returns:
        float64 (array) of the broadcast shape: ``>= 1``, or ``inf``.

    Examples:
        >>> from jaxfb import theory
        >>> round(float(theory.expected_condition_number(40, 1024, 1024)), 4)
        2.6718
        >>> float(theory.expected_condition_number(2, 64, 64))
        inf
    """
    host_side(
        "expected_condition_number",
        num_filters=num_filters,
        length=length,
        n=n,
        in_channels=in_channels,
        stride=stride,
    )
    J, T, N = _lengths(num_filters, length, n)
    conv = conv_arguments(J, T, N, in_channels, stride)
    if conv is not None:
        return _map(conv_mean_kappa, *conv)
    return _map(lambda j, t, m: _distribution(j, t, m).mean_kappa(), J, T, N)


def median_condition_number(num_filters, length, n):
    r"""Median of ``kappa``: exact when ``length == n``, predicted when ``length < n``.

    Solves :math:`P(\kappa > r) = 1/2` with the one-dimensional quadrature of
    :meth:`FrameBoundDistribution.kappa_sf`. Defined for every ``J`` (use it where the mean is
    infinite, ``J <= 2``).

    Args:
        num_filters: ``J >= 1``.
        length: ``T >= 1``.
        n: ``N >= T``.

    Returns:
        float64 (array) of the broadcast shape.

    Examples:
        >>> from jaxfb import theory
        >>> m = float(theory.median_condition_number(2, 64, 64))
        >>> 1 < m < float("inf")
        True
    """
    host_side("median_condition_number", num_filters=num_filters, length=length, n=n)
    J, T, N = _lengths(num_filters, length, n)
    return _map(lambda j, t, m: _distribution(j, t, m).median_kappa(), J, T, N)


def expected_log_condition_number(num_filters, length, n):
    r"""``E[log kappa]``: exact when ``length == n``, predicted when ``length < n``.

    .. math:: \mathbb E[\log\kappa] = \int_0^\infty P(A \in da)
              \int_a^\infty \frac{P(B > b \mid A = a)}{b}\,db,

    finite for every ``J`` (``log kappa`` has all moments), so it is the summary to average
    and to fit scaling laws on when ``J`` is small.

    Args:
        num_filters: ``J >= 1``.
        length: ``T >= 1``.
        n: ``N >= T``.

    Returns:
        float64 (array) of the broadcast shape, ``>= 0``.

    Examples:
        >>> from jaxfb import theory
        >>> round(float(theory.expected_log_condition_number(40, 1024, 1024)), 4)
        0.9787
    """
    host_side("expected_log_condition_number", num_filters=num_filters, length=length, n=n)
    J, T, N = _lengths(num_filters, length, n)
    return _map(lambda j, t, m: _distribution(j, t, m).mean_log_kappa(), J, T, N)


def effective_counts(num_filters, length, n) -> EffectiveCounts:
    r"""Interior counts ``(m_A, m_B)`` of independent :math:`\chi^2_{2J}/(2J)` frequencies.

    ``N/2 - 1`` (even ``N``) or ``(N - 1)/2`` (odd) each when ``T = N``; from the crossing model
    of :func:`expected_frame_bounds` when ``T < N`` (a model). On fine grids (``N >= 4T``,
    ``T >= 64``) and ``J >= 8``, ``m_A`` is about ``1.4 T`` to ``2.2 T`` (up to about ``3.3 T``
    for ``J = 3, 4``) and ``m_B`` about ``1.2 T`` to ``1.6 T`` (docs/theory.md, "The predictor
    for ``T < N``"); they are smaller for short filters, whose edges take a larger share of the
    band.

    Args:
        num_filters: ``J >= 1``.
        length: ``T >= 1``.
        n: ``N >= T``.

    Returns:
        ``EffectiveCounts(lower, upper)`` of float64.

    Examples:
        >>> from jaxfb import theory
        >>> tuple(float(c) for c in theory.effective_counts(8, 64, 64))
        (31.0, 31.0)
    """
    host_side("effective_counts", num_filters=num_filters, length=length, n=n)
    J, T, N = _lengths(num_filters, length, n)
    lo, hi = _map(lambda j, t, m: tuple(_distribution(j, t, m).counts), J, T, N, outputs=2)
    return EffectiveCounts(lo, hi)
