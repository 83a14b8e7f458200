r"""Energy closed forms on a precomputed spectrum, on the host in float64.

Every energy prediction is a function of the eigenvalues :math:`\lambda` of the Toeplitz Gram
matrix :math:`Q_T` of the signal (``docs/theory.md``). The public kernels compute each from ``x``
with a function compiled per length; over many lengths (the reproduction's grids) compiling
dominates, so this module takes the spectrum, computed once per ``(signal, T)``, and evaluates the
same closed forms on it (the tests check them against the public kernels).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg

from ._chisq_mixture import EnergyDistribution

__all__ = [
    "BOUNDS",
    "bounds_at_levels",
    "deviation_bounds",
    "energy_density",
    "gram_eigenvalues",
]


def gram_eigenvalues(x: np.ndarray, length: int) -> np.ndarray:
    """Float64 eigenvalues of :math:`Q_T` for signals ``(S, N)``: ``(S, T)``, ascending."""
    x = np.asarray(x, np.float64)
    X = np.fft.rfft(x, axis=-1)
    R = np.fft.irfft(np.abs(X) ** 2, n=x.shape[-1], axis=-1)[..., :length]
    return np.stack([linalg.eigvalsh(linalg.toeplitz(r)) for r in R])


def _exact_chernoff(lam: np.ndarray, num_filters: int, ell: float) -> float:
    r"""Upper exact Chernoff deviation ``t / E - 1``, ``t`` solving :math:`\sup_s(st - K) = \ell`.

    :math:`K(s) = -\tfrac J2\sum_k \log(1 - a_k s)`, :math:`a_k = 2\sigma^2\lambda_k`; the rate
    :math:`I(s) = s K'(s) - K(s)` increases on :math:`0 < s < 1/a_{\max}`; solved by bisection in
    ``v = -log(1 - a_max s)``. Scale-free: :math:`\sigma^2` cancels in ``t / E``.
    """
    a = np.clip(lam, 0.0, None) / lam.max()  # a_k / a_max
    a = a[a > 0]
    half_j = 0.5 * num_filters
    mean = half_j * a.sum()

    def rate_and_t(v):
        s = -math.expm1(-v)  # a_max s in (0, 1)
        one_minus = 1.0 - a * s
        t = half_j * np.sum(a / one_minus)
        k = -half_j * np.sum(np.log(one_minus))
        return s * t - k, t

    lo, hi = 0.0, 1.0
    while rate_and_t(hi)[0] < ell:
        lo, hi = hi, 2.0 * hi
        if hi > 1e4:
            raise FloatingPointError("exact Chernoff: no root below v = 1e4")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if rate_and_t(mid)[0] < ell:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * hi:
            break
    return rate_and_t(hi)[1] / mean - 1.0


BOUNDS = ("cantelli", "paper", "laurent_massart", "exact_chernoff")
"""Names of the deviation bounds, in the order they are plotted."""


def deviation_bounds(lam: np.ndarray, num_filters: int, p: float) -> dict[str, np.ndarray]:
    r"""Upper deviation bounds :math:`\alpha` at level ``p`` from the spectra ``lam (S, T)``.

    The formulas of :func:`jaxfb.theory.cantelli_deviation` and
    :func:`jaxfb.theory.chernoff_deviation` (variants ``"paper"`` (not a valid bound),
    ``"laurent_massart"``, ``"exact"``) on a precomputed spectrum.

    Returns:
        ``{name: (S,) array}`` for the names in :data:`BOUNDS`.
    """
    lam = np.clip(np.asarray(lam, np.float64), 0.0, None)
    J = float(num_filters)
    ell = math.log(1.0 / p)
    total = lam.sum(axis=-1)  # T ||x||^2
    norm2 = np.sum(lam * lam, axis=-1)
    lam_max = lam.max(axis=-1)
    out = {}
    out["cantelli"] = np.sqrt((1.0 / p - 1.0) * 2.0 * norm2 / J) / total
    out["paper"] = (ell * lam_max + np.sqrt((ell * lam_max) ** 2 + 2 * ell * J * norm2)) / (
        J * total
    )
    out["laurent_massart"] = 2.0 * (np.sqrt(J * ell * norm2) + ell * lam_max) / (J * total)
    out["exact_chernoff"] = np.array([_exact_chernoff(row, num_filters, ell) for row in lam])
    return out


def bounds_at_levels(lam: np.ndarray, num_filters: int, levels) -> dict[float, dict]:
    r"""Each bound of :func:`deviation_bounds` at each level ``p``, checked against the exact law.

    Returns ``{p: {name: alpha, "exact_quantile": q, "NAME_exceedance_exact": P}}``, each ``(S,)``:
    ``q`` the exact ``1 - p`` quantile of the deviation :math:`\|\Phi x\|^2/\mathbb E - 1` and
    ``P`` the exact probability that the deviation exceeds the bound's ``alpha`` (the bound is
    valid at ``p`` when ``P <= p``), from :class:`jaxfb.theory.EnergyDistribution` of ``lam``.
    """
    dist = EnergyDistribution(lam, num_filters)
    mean, lv = np.asarray(dist.mean), np.asarray(levels, np.float64)
    q = np.asarray(dist.isf(np.broadcast_to(lv[:, None], (lv.size, mean.size))))
    alphas = [deviation_bounds(lam, num_filters, p) for p in levels]
    th = np.stack([np.stack([(1.0 + b[k]) * mean for k in BOUNDS]) for b in alphas])
    sf = np.asarray(dist.sf(th))  # (levels, bounds, S)
    return {
        p: {
            **alphas[i],
            "exact_quantile": q[i] / mean - 1.0,
            **{f"{k}_exceedance_exact": sf[i, j] for j, k in enumerate(BOUNDS)},
        }
        for i, p in enumerate(levels)
    }


def energy_density(lam: np.ndarray, num_filters: int, t: np.ndarray) -> np.ndarray:
    r"""Density of :math:`\|\Phi x\|^2 = \sigma^2\sum_k\lambda_k Y_k` at ``t`` (one signal).

    Second-order saddlepoint density (Daniels 1954), renormalised; :math:`K(s) = -\tfrac J2
    \sum_k\log(1 - 2a_k s)`, :math:`a_k = \lambda_k/(JT)`. Its error is far below what a
    histogram resolves (tested against the exact cdf of
    :class:`jaxfb.theory.EnergyDistribution`), for one vectorised root-finding.

    Args:
        lam: ``(T,)`` eigenvalues of :math:`Q_T`.
        num_filters: ``J``.
        t: ``(G,)`` thresholds.

    Returns:
        ``(G,)`` densities.
    """
    lam = np.clip(np.asarray(lam, np.float64), 0.0, None)
    t = np.asarray(t, np.float64)
    J = float(num_filters)
    a = lam[lam > 1e-14 * lam.max()] / (J * lam.size)  # sigma^2 lambda_k
    a_max = a.max()
    mean = J * a.sum()

    def derivatives(s, orders):
        r = a[None, :] / (1.0 - 2.0 * a[None, :] * s[:, None])
        coef = {1: J, 2: 2 * J, 3: 8 * J, 4: 48 * J}
        return [coef[k] * np.sum(r**k, axis=-1) for k in orders]

    def density(tt):
        # K'(s) = t on s < 1/(2 a_max): K' increases from 0 to +inf and is convex, so
        # Newton's method inside a shrinking bracket (bisection when it leaves it) converges
        hi = np.full(tt.shape, 0.5 / a_max)
        lo = np.full(tt.shape, -1.0 / a_max)
        while np.any(low := derivatives(lo, (1,))[0] > tt):
            lo = np.where(low, 4 * lo, lo)
        s = np.zeros(tt.shape)
        for _ in range(60):
            k1, k2 = derivatives(s, (1, 2))
            f = k1 - tt
            hi = np.where(f > 0, s, hi)
            lo = np.where(f > 0, lo, s)
            step = s - f / k2
            s_new = np.where((step > lo) & (step < hi), step, 0.5 * (lo + hi))
            if np.all(np.abs(s_new - s) <= 1e-13 * (np.abs(s) + 1.0 / a_max)):
                s = s_new
                break
            s = s_new
        k2, k3, k4 = derivatives(s, (2, 3, 4))
        k0 = -0.5 * J * np.log1p(-2.0 * a[None, :] * s[:, None]).sum(-1)
        correction = 1.0 + k4 / (8 * k2**2) - 5 * k3**2 / (24 * k2**3)
        return np.exp(k0 - s * tt) / np.sqrt(2 * np.pi * k2) * correction

    sd = math.sqrt(2 * J * np.sum(a * a))
    grid = np.linspace(max(mean - 12 * sd, 1e-6 * mean), mean + 40 * sd, 801)
    norm = np.trapezoid(density(grid), grid)
    out = np.zeros(t.shape)
    pos = t > 0
    out[pos] = density(t[pos]) / norm
    return out
