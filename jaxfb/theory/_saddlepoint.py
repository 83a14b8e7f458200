r"""Cumulant-generating-function numerics for chi-squared mixtures (private, NumPy or JAX).

The energy :math:`E = \|\Phi x\|^2 = \sigma^2 \sum_k \lambda_k Y_k`, :math:`Y_k \sim \chi^2_J`
i.i.d., is handled in normalised form :math:`X = E / \mathbb E E = \sum_k a_k Y_k / J` with
:math:`a_k = \lambda_k / \sum \lambda`. Write :math:`r_k = \lambda_k / \lambda_{\max}` and
:math:`\zeta = 2 a_{\max} s / J` (so the cumulant generating function of ``X`` is finite for
:math:`\zeta < 1`):

.. math::
    K(\zeta) = -\tfrac J2 \sum_k \log(1 - r_k \zeta), \qquad
    K'(\zeta)\,\tfrac{2 a_{\max}}{J} = \sum_k \frac{a_k}{1 - r_k\zeta}.

Every quantity below is parametrised by :math:`v \in \mathbb R` through
:math:`\zeta = 1 - e^{-v}`, so that :math:`w_k = 1 - r_k\zeta = (1 - r_k) + r_k e^{-v}` is
computed in logs without cancellation (:math:`v > 0`: upper tail, :math:`v < 0`: lower tail):

- the saddlepoint equation :math:`\sum_k a_k / w_k(v) = x`;
- the Chernoff exponent :math:`h(v) = \sup_s (s x - K) = \tfrac J2 \sum_k
  (w_k^{-1} - 1 + \log w_k) \ge 0` at :math:`x = \sum_k a_k / w_k(v)`, a sum of non-negative
  terms (so :math:`\hat w = \operatorname{sign}(v)\sqrt{2h}` has no cancellation);
- Lugannani-Rice with Daniels' second-order correction.

The functions take an array namespace ``xp`` (``numpy`` or ``jax.numpy``) so that the host-side
exact distribution (float64 NumPy) and the jit-able JAX kernels share one implementation.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.scipy.special as jsp
import numpy as np
import scipy.special as sp

__all__ = [
    "Spectrum",
    "chernoff_parameter",
    "lugannani_rice",
    "saddlepoint_parameter",
    "spectrum",
]

# Bisection steps: brackets are at most ~1500 wide, so 64 halvings reach ~1e-16 absolute.
_BISECTIONS = 64


class Spectrum(NamedTuple):
    """Normalised eigenvalues, shape ``(..., T)`` (``a_max`` and ``lam_sum``: ``(...)``)."""

    log_r: object  # log(lambda_k / lambda_max); -inf for dropped eigenvalues
    log1m_r: object  # log(1 - r_k); -inf where r_k = 1
    log_a: object  # log(lambda_k / sum(lambda))
    mult: object  # multiplicity of each eigenvalue (1, or counts of repeated values)
    a_max: object  # lambda_max / sum(lambda)
    lam_sum: object  # sum(lambda) = T ||x||^2 (of the kept eigenvalues)
    lam_max: object
    count: object  # number of kept eigenvalues, with multiplicity


def _np_logsumexp(a, axis):
    """``log sum exp`` along ``axis`` (no SciPy dispatch overhead in inner loops)."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)


def _ops(xp):
    if xp is np:
        return _np_logsumexp, sp.ndtr, sp.log_ndtr
    return jax.nn.logsumexp, jsp.ndtr, jsp.log_ndtr


def fori_loop(xp, n: int, body, init):
    """``lax.fori_loop`` for JAX, a plain loop for NumPy."""
    if xp is np:
        val = init
        for i in range(n):
            val = body(i, val)
        return val
    return jax.lax.fori_loop(0, n, body, init)


def spectrum(lam, xp, *, floor_factor: float | None = None, mult=None) -> Spectrum:
    """Normalise eigenvalues ``(..., T)`` of ``Q_T``; values at rounding level become zero.

    ``floor_factor`` times ``lambda_max`` is the rounding level (default
    ``8 sqrt(T) eps``); negative values (rounding of a PSD matrix) are always dropped.
    """
    T = lam.shape[-1]
    eps = float(np.finfo(lam.dtype).eps)
    if floor_factor is None:
        floor_factor = 8.0 * math.sqrt(T) * eps
    lam_max = xp.max(lam, axis=-1, keepdims=True)
    keep = lam > floor_factor * lam_max
    lam = xp.where(keep, lam, 0.0)
    if mult is None:
        mult = xp.ones_like(lam)
    lam_sum = xp.sum(mult * lam, axis=-1, keepdims=True)
    r = lam / lam_max
    with np.errstate(divide="ignore"):
        log_r = xp.where(keep, xp.log(xp.where(keep, r, 1.0)), -xp.inf)
        log1m_r = xp.log1p(-xp.minimum(r, 1.0))
        log_a = xp.where(keep, xp.log(xp.where(keep, lam / lam_sum, 1.0)), -xp.inf)
    count = xp.sum(xp.where(keep, mult, 0.0), axis=-1)
    return Spectrum(
        log_r,
        log1m_r,
        log_a,
        mult,
        (lam_max / lam_sum)[..., 0],
        lam_sum[..., 0],
        lam_max[..., 0],
        count,
    )


def log_w(v, spec: Spectrum, xp):
    """``log w_k = log((1 - r_k) + r_k e^{-v})``: ``v (...,)`` -> ``(..., T)``.

    Near the mean (``|v| < 1``) as ``log1p(r_k expm1(-v))``, which keeps the relative accuracy
    of the small values; elsewhere as a ``logaddexp``, which keeps it when ``w_k`` is tiny.
    """
    v = v[..., None]
    small = xp.abs(v) < 1.0
    near = xp.log1p(xp.exp(spec.log_r) * xp.expm1(-xp.where(small, v, 0.0)))
    far = xp.logaddexp(spec.log1m_r, spec.log_r - v)
    return xp.where(small, near, far)


def _phi(L, xp):
    """``e^{-L} - 1 + L >= 0`` without cancellation for small ``|L|`` (series to ``L^7``)."""
    series = L * L * (0.5 - L * (1 / 6 - L * (1 / 24 - L * (1 / 120 - L * (1 / 720 - L / 5040)))))
    return xp.where(xp.abs(L) < 0.1, series, xp.expm1(-L) + L)


def log_mean_shift(v, spec: Spectrum, xp):
    """``log x(v) = log sum_k a_k / w_k(v)`` (the saddlepoint of threshold ``x``)."""
    lse = _ops(xp)[0]
    return lse(spec.log_a + xp.log(spec.mult) - log_w(v, spec, xp), axis=-1)


def exponent(v, spec: Spectrum, num_filters: int, xp):
    """Chernoff exponent ``h(v) = (J/2) sum_k (1/w_k - 1 + log w_k) >= 0``."""
    L = log_w(v, spec, xp)
    return 0.5 * num_filters * xp.sum(spec.mult * _phi(L, xp), axis=-1)


def _bisect(xp, f, lo, hi):
    """Bracket the root of increasing ``f`` in ``[lo, hi]``; returns ``(lo, hi)``."""

    def body(_, carry):
        lo, hi = carry
        mid = 0.5 * (lo + hi)
        above = f(mid) > 0
        return xp.where(above, lo, mid), xp.where(above, mid, hi)

    return fori_loop(xp, _BISECTIONS, body, (lo, hi))


def saddlepoint_parameter(x, spec: Spectrum, xp):
    """``v`` solving ``sum_k a_k / w_k(v) = x`` for normalised thresholds ``x > 0``: ``(...)``."""
    log_x = xp.log(x)
    log_amax = xp.log(spec.a_max)
    upper = log_x >= 0
    hi = xp.where(upper, log_x - log_amax + 1.0, 0.0)
    lo = xp.where(upper, 0.0, log_x - log_amax - xp.log(spec.count) - 1.0)
    lo, hi = _bisect(xp, lambda v: log_mean_shift(v, spec, xp) - log_x, lo, hi)
    return 0.5 * (lo + hi)


def chernoff_parameter(level, spec: Spectrum, num_filters, upper, xp):
    """``v`` with ``h(v) = level`` on the upper (``v > 0``) or lower (``v < 0``) side.

    ``upper`` is a bool or a bool array broadcasting with ``level``; ``num_filters`` may be a
    traced scalar. Returns the end of the final bracket on the conservative side
    (``h(v) >= level``), so a bound built from it is never below the exact Chernoff bound.
    """
    zero = xp.zeros_like(level)
    lo = xp.where(upper, zero, -(2.0 * level / num_filters + 3.0))
    hi = xp.where(upper, xp.log1p(2.0 * level / num_filters) + 3.0, zero)
    sign = xp.where(upper, 1.0, -1.0)
    lo, hi = _bisect(xp, lambda v: sign * (exponent(v, spec, num_filters, xp) - level), lo, hi)
    return xp.where(upper, hi, lo)


def lugannani_rice(v, spec: Spectrum, num_filters: int, xp, *, second_order: bool = True):
    r"""``(w_hat, B)`` with :math:`P(X > x) \approx \Phi(-\hat w) + \varphi(\hat w) B`.

    :math:`B = 1/\hat u - 1/\hat w` (first order) plus Daniels' (1987) second-order term
    :math:`\hat u^{-1}(\hat\kappa_4/8 - 5\hat\kappa_3^2/24) - \hat\kappa_3/(2\hat u^2)
    - \hat u^{-3} + \hat w^{-3}`, with :math:`\hat u = \hat\zeta\sqrt{K''(\hat\zeta)}` and
    :math:`\hat\kappa_j = K^{(j)}/K''^{j/2}` at the saddlepoint. Singular at ``v = 0``.
    """
    J = float(num_filters)
    L = log_w(v, spec, xp)
    rho = xp.exp(spec.log_r - L)  # r_k / w_k
    h = 0.5 * J * xp.sum(spec.mult * _phi(L, xp), axis=-1)
    w_hat = xp.sign(v) * xp.sqrt(2.0 * h)
    z = -xp.expm1(-v)
    k2 = 0.5 * J * xp.sum(spec.mult * rho**2, axis=-1)
    u_hat = z * xp.sqrt(k2)
    B = 1.0 / u_hat - 1.0 / w_hat
    if second_order:
        k3 = J * xp.sum(spec.mult * rho**3, axis=-1) / k2**1.5
        k4 = 3.0 * J * xp.sum(spec.mult * rho**4, axis=-1) / k2**2
        B = B + (
            (k4 / 8.0 - 5.0 * k3**2 / 24.0) / u_hat
            - k3 / (2.0 * u_hat**2)
            - 1.0 / u_hat**3
            + 1.0 / w_hat**3
        )
    return w_hat, B


def _log_pdf_normal(w, xp):
    return -0.5 * w * w - 0.5 * math.log(2.0 * math.pi)


def lr_log_tails(v, spec: Spectrum, num_filters: int, xp, *, second_order: bool = True):
    """``(log sf, log cdf)`` from Lugannani-Rice at parameters ``v`` (no band handling)."""
    log_ndtr = _ops(xp)[2]
    w_hat, B = lugannani_rice(v, spec, num_filters, xp, second_order=second_order)
    log_phi = _log_pdf_normal(w_hat, xp)
    tiny = float(np.finfo(w_hat.dtype).tiny)
    # Mills ratios Phi(-|w|)/phi(w), finite for every w
    mills_up = xp.exp(log_ndtr(-w_hat) - log_phi)
    mills_lo = xp.exp(log_ndtr(w_hat) - log_phi)
    log_sf_up = log_phi + xp.log(xp.maximum(mills_up + B, tiny))
    log_cdf_lo = log_phi + xp.log(xp.maximum(mills_lo - B, tiny))
    upper = w_hat >= 0
    log_sf = xp.where(upper, log_sf_up, xp.log1p(-xp.exp(xp.minimum(log_cdf_lo, 0.0))))
    log_cdf = xp.where(upper, xp.log1p(-xp.exp(xp.minimum(log_sf_up, 0.0))), log_cdf_lo)
    return xp.minimum(log_sf, 0.0), xp.minimum(log_cdf, 0.0)


def saddlepoint_density(v, spec: Spectrum, num_filters, xp):
    r"""Saddlepoint density of ``X`` at ``x(v)``: :math:`\varphi(\hat w) / \sqrt{K_X''(\hat s)}`."""
    L = log_w(v, spec, xp)
    rho = xp.exp(spec.log_r - L)
    k2 = 0.5 * num_filters * xp.sum(spec.mult * rho**2, axis=-1)  # K'' in units of zeta
    h = 0.5 * num_filters * xp.sum(spec.mult * _phi(L, xp), axis=-1)  # w_hat^2 / 2
    b_max = 2.0 * spec.a_max / num_filters  # zeta = b_max s
    return xp.exp(-h) / (math.sqrt(2.0 * math.pi) * b_max * xp.sqrt(k2))


def band_halfwidth(dtype) -> float:
    """Half-width (in ``w_hat``) of the band around the mean where LR is interpolated."""
    return 0.01 if np.dtype(dtype) == np.float64 else 0.1


def saddlepoint_log_tails(x, spec: Spectrum, num_filters: int, xp, *, second_order=True):
    """Saddlepoint ``(log sf, log cdf)`` of normalised thresholds ``x`` (broadcast with ``spec``).

    ``x <= 0`` gives ``(0, -inf)``, ``x = inf`` gives ``(-inf, 0)``. Within ``|w_hat| < delta``
    of the mean (where the formula is 0/0 and loses digits to rounding) the sf is a cubic
    Hermite interpolant in ``x`` between the band edges, with slopes ``-f_hat`` (saddlepoint
    density).
    """
    dtype = x.dtype
    x_pos = x > 0
    x_fin = xp.isfinite(x)
    xs = xp.where(x_pos & x_fin, x, 1.0)
    v = saddlepoint_parameter(xs, spec, xp)
    log_sf, log_cdf = lr_log_tails(v, spec, num_filters, xp, second_order=second_order)
    # band around the mean: parameters where |w_hat| = delta on either side
    delta = band_halfwidth(dtype)
    level = xp.full(spec.a_max.shape, 0.5 * delta * delta, dtype=dtype)
    v_edges = xp.stack(
        [
            chernoff_parameter(level, spec, num_filters, False, xp),
            chernoff_parameter(level, spec, num_filters, True, xp),
        ]
    )
    spec2 = Spectrum(*(xp.stack([a, a]) for a in spec))
    x_edges = xp.exp(log_mean_shift(v_edges, spec2, xp))
    ls_edges, _ = lr_log_tails(v_edges, spec2, num_filters, xp, second_order=second_order)
    sf_edges = xp.exp(ls_edges)
    slope = -saddlepoint_density(v_edges, spec2, num_filters, xp)
    width = x_edges[1] - x_edges[0]
    u = (xs - x_edges[0]) / width
    sf_band = (
        (2 * u**3 - 3 * u**2 + 1) * sf_edges[0]
        + (u**3 - 2 * u**2 + u) * width * slope[0]
        + (3 * u**2 - 2 * u**3) * sf_edges[1]
        + (u**3 - u**2) * width * slope[1]
    )
    in_band = (xs > x_edges[0]) & (xs < x_edges[1])
    log_sf = xp.where(in_band, xp.log(sf_band), log_sf)
    log_cdf = xp.where(in_band, xp.log1p(-sf_band), log_cdf)
    log_sf = xp.where(x_pos, xp.where(x_fin, log_sf, -xp.inf), 0.0)
    log_cdf = xp.where(x_pos, xp.where(x_fin, log_cdf, 0.0), -xp.inf)
    return log_sf, log_cdf
