r"""Exact tail probabilities of a chi-squared mixture by contour integration (NumPy, float64).

For :math:`X = \sum_k a_k Y_k / J` (normalised energy, see ``_saddlepoint``) with moment
generating function :math:`M(s) = e^{K(s)}`, the Bromwich inversion of
:math:`\int P(X > u) e^{s u} du = M(s)/s` gives, for any real :math:`c` with
:math:`0 < c < s_{\max}`,

.. math:: P(X > x) = \frac{1}{2\pi i}\int_{c - i\infty}^{c + i\infty}
          \frac{e^{K(s) - s x}}{s}\, ds ,

and for :math:`c < 0` the same integral equals :math:`-P(X \le x)` (the contour has passed the
pole at 0). Imhof's (1961) formula is this integral on the imaginary axis, where the result
:math:`\approx 10^{-10}` appears as the difference of two numbers near 1/2 and its relative
accuracy is lost. Here the contour is moved through the saddlepoint :math:`\hat s` of
:math:`K(s) - s x` (clamped away from the pole near the mean): the integrand is then of the size
of the result and no cancellation occurs (S. O. Rice 1980; Helstrom 1983). The vertical line is
bent into the parabola

.. math:: s(y) = c + i y + \frac{y^2}{4 d}, \qquad d = s_{\max} - c ,

whose focus is the first branch point :math:`s_{\max}` (so it keeps a distance :math:`\ge d`
from every singularity) and along which :math:`|e^{-s x}|` decays like a Gaussian. By
conjugate symmetry :math:`P = \frac{e^{K(c) - c x}}{\pi} \int_0^\infty
\operatorname{Im}\bigl[e^{K(s) - K(c) - (s - c) x}\, s'(y) / s(y)\bigr] dy`; the integrand is
analytic and even in ``y``, so the trapezoidal rule converges geometrically. The step is halved
until two successive sums agree to ``1e-12`` (relative) and the range is cut where the integrand
has dropped below ``e^{-50}`` of its value at the vertex. Products over eigenvalues are sums of
complex logs, repeated eigenvalues are grouped, and the result is returned as a log probability,
so probabilities far below the float64 range of ``1 - P`` keep their relative accuracy.
"""

from __future__ import annotations

import math

import numpy as np

from ._saddlepoint import Spectrum, log_w, saddlepoint_parameter

__all__ = ["exact_log_tails"]

_RTOL = 1e-12
_LOG_CUTOFF = 50.0
_MAX_DOUBLINGS = 14
_START_INTERVALS = 32
_CHUNK = 1 << 21  # complex entries per evaluation block


def _chunked(fn, y, rho, *cols, dtype=np.float64):
    """Evaluate ``fn(y, rho, *cols)`` over column blocks of ``y (n, m)`` to bound memory."""
    out = np.empty(y.shape, dtype=dtype)
    step = max(1, _CHUNK // max(1, rho.shape[-1] * y.shape[0]))
    for j in range(0, y.shape[1], step):
        out[:, j : j + step] = fn(y[:, j : j + step], rho, *cols)
    return out


def _sum_log_factors(y, rho, mult, d):
    """``sum_k m_k log(1 - rho_k (s - c))`` at ``y (n, m)``, real arithmetic: ``(re, im)``."""
    a = (y * y / (4.0 * d))[..., None]  # Re(s - c)
    re = 1.0 - rho[:, None, :] * a  # (n, m, T)
    im = rho[:, None, :] * y[..., None]  # -Im(1 - rho (s - c))
    log_abs = 0.5 * np.log(re * re + im * im)
    arg = np.arctan2(-im, re)
    return log_abs @ mult, arg @ mult


def _integrand_block(y, rho, mult, J, tau, d, zc):
    """Both integrands at ``y (n, m)``; ``rho (n, T)``, others ``(n, 1)``.

    Returns ``Im[e^Delta s'] + i Im[e^Delta s'/s]``: the density (real part) and the tail
    probability (imaginary part) share the nodes.
    """
    log_abs, arg = _sum_log_factors(y, rho, mult, d)
    dz = 1j * y + y * y / (4.0 * d)  # s - c
    delta = -0.5 * J * (log_abs + 1j * arg) - dz * tau
    g = np.exp(delta) * (1j + y / (2.0 * d))
    return g.imag + 1j * (g / (zc + dz)).imag


def _log_magnitude_block(y, rho, mult, J, tau, d, zc):
    """``log |exp(Delta) s'(y)/s(y)|`` at ``y (n, m)``."""
    log_abs, _ = _sum_log_factors(y, rho, mult, d)
    dz = 1j * y + y * y / (4.0 * d)
    re_delta = -0.5 * J * log_abs - dz.real * tau
    return re_delta + np.log(np.abs(1j + y / (2.0 * d))) - np.log(np.abs(zc + dz))


def exact_log_tails(x: np.ndarray, spec: Spectrum, num_filters: int):
    """``(log sf, log cdf, log pdf)`` of normalised thresholds ``x (n,)``, one spectrum ``(T,)``.

    The density is a by-product (same nodes, no separate convergence check): accurate to a few
    digits, used for Newton steps in the quantile search.
    """
    x = np.asarray(x, dtype=np.float64)
    log_sf = np.zeros(x.shape)
    log_cdf = np.full(x.shape, -np.inf)
    log_pdf = np.full(x.shape, -np.inf)
    pos = x > 0
    inf = np.isinf(x)
    log_sf[inf] = -np.inf
    log_cdf[inf] = 0.0
    todo = pos & ~inf
    if np.any(todo):
        log_sf[todo], log_cdf[todo], log_pdf[todo] = _exact_finite(x[todo], spec, num_filters)
    return log_sf, log_cdf, log_pdf


def _exact_finite(x, spec: Spectrum, num_filters: int):
    J = float(num_filters)
    mult = np.asarray(spec.mult, dtype=np.float64)
    r = np.exp(spec.log_r)
    v_hat = saddlepoint_parameter(x, spec, np)
    # keep the vertex away from the pole at 0: |w_hat| >~ 1/2 there
    s0 = math.sqrt(0.5 * J * float(np.sum(mult * r * r)))
    v_min = min(1.5 / s0, math.log(2.0))
    upper = x >= 1.0
    vc = np.where(upper, np.maximum(v_hat, v_min), np.minimum(v_hat, -v_min))
    L = log_w(vc, spec, np)  # (n, T)
    rho = np.exp(spec.log_r - L)
    zc = -np.expm1(-vc)  # vertex, in units of s_max
    d = np.exp(-vc)  # distance from the vertex to the first branch point
    tau = x * J / (2.0 * spec.a_max)  # threshold in the same units
    log_k0 = -0.5 * J * (L @ mult) - zc * tau
    k2 = 0.5 * J * ((rho * rho) @ mult)
    omega = 1.0 / np.sqrt(k2)  # width of the integrand at the vertex

    col = (slice(None), None)
    args = (rho, mult, J, tau[col], d[col], zc[col])
    # range: geometric grid out to where the integrand is negligible
    grid = np.geomspace(1e-2, 1e6, 49)[None, :] * np.maximum(omega, np.sqrt(d / tau))[col]
    mag = _chunked(_log_magnitude_block, grid, *args)
    mag0 = -np.log(np.abs(zc))
    above = mag > (mag0 - _LOG_CUTOFF)[col]
    last = grid.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1)
    last = np.where(above.any(axis=1), last, 0)
    if np.any(last >= grid.shape[1] - 1):
        raise FloatingPointError("exact inversion: integrand does not decay on the search grid")
    Y = grid[np.arange(grid.shape[0]), last + 1]

    # trapezoid on [0, Y] (half weight at 0; the integrand is even), halving the step
    n = _START_INTERVALS
    h = Y / n
    y = h[col] * np.arange(1, n + 1)[None, :]
    # at y = 0 the integrands are 1 (density) and 1/zc (tail)
    total = 0.5 * (1.0 + 1j / zc) + _chunked(_integrand_block, y, *args, dtype=complex).sum(1)
    integral = h * total.imag
    active = np.ones(x.shape, dtype=bool)
    for _ in range(_MAX_DOUBLINGS):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        h_new = h[idx] / 2
        y = h_new[:, None] * (2 * np.arange(n) + 1)[None, :]
        sub = (rho[idx], mult, J, tau[idx, None], d[idx, None], zc[idx, None])
        total[idx] += _chunked(_integrand_block, y, *sub, dtype=complex).sum(axis=1)
        new = h_new * total[idx].imag
        done = np.abs(new - integral[idx]) <= _RTOL * np.abs(new)
        integral[idx] = new
        h[idx] = h_new
        active[idx[done]] = False
        n *= 2
    if np.any(active):
        raise FloatingPointError("exact inversion: the trapezoidal rule did not converge")

    value = integral / math.pi  # sf * e^{-log_k0} (upper) or -cdf * e^{-log_k0} (lower)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_tail = log_k0 + np.log(np.where(upper, value, -value))
    log_tail = np.minimum(log_tail, 0.0)
    with np.errstate(divide="ignore"):
        other = np.log(-np.expm1(log_tail))
    log_sf = np.where(upper, log_tail, other)
    log_cdf = np.where(upper, other, log_tail)
    # density of X: e^{log_k0} / (pi b_max) * int_0^inf Im[e^Delta s'] dy, b_max = 2 a_max / J
    with np.errstate(divide="ignore", invalid="ignore"):
        dens = h * total.real / math.pi * J / (2.0 * spec.a_max)
        log_pdf = log_k0 + np.log(np.maximum(dens, 0.0))
    return log_sf, log_cdf, log_pdf
