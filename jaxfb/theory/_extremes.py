r"""Extremes of independent Gamma variables, by deterministic quadrature (NumPy/SciPy).

The exact laws of the frame bounds when ``T = N`` and jaxfb's predictor for ``T < N`` are both
*extremes of independent groups of Gamma variables*. A group is ``Group(shape, count, role)``:
``count`` i.i.d. copies of :math:`\mathrm{Gamma}(\alpha, 1/\alpha)` (mean 1, variance
:math:`1/\alpha`; ``chi2_J / J`` is ``alpha = J/2``, ``chi2_{2J} / (2J)`` is ``alpha = J``) that
enter the minimum ``A`` (``role="min"``), the maximum ``B`` (``role="max"``) or both
(``role="both"``, integer ``count``). With :math:`S_g, F_g, f_g, h_g = f_g/S_g` the survival
function, cdf, density and hazard of group ``g`` and :math:`n_g` its count,

.. math::
    P(A > a) = \prod_{g \in \min} S_g(a)^{n_g}, \qquad P(B \le b) = \prod_{g\in\max} F_g(b)^{n_g},

    P(A \in da,\ \arg\min \in g) = n_g h_g(a) P(A > a)\,da,

    P(B \le b \mid A = a, \arg\min \in g) = \prod_{h \in \mathrm{both}}
        \Bigl(1 - \tfrac{S_h(b)}{S_h(a)}\Bigr)^{n_h - [h = g]}
        \prod_{h \in \max\text{-only}} F_h(b)^{n_h}, \quad b \ge a,

so that every functional of ``(A, B)`` is at most a double integral: an outer integral over
``A`` and, for ``kappa = B/A``, an inner one over ``B`` given ``A``, e.g.

.. math:: \mathbb E[\kappa] = 1 + \int_0^\infty P(A\in da) \sum_g \pi_g(a)\,
          \frac1a\int_a^\infty Q_g(b \mid a)\,db, \qquad Q_g = 1 - P(B \le b \mid A = a, g).

Both integrals use composite Gauss-Legendre rules on panels whose ends are quantiles of ``A``
(outer, in ``log a``) and of ``B`` (inner), computed by bisection, so the nodes follow the mass
for every ``(J, count)``, from ``chi2_1`` to ``Gamma(256)`` and counts from 1 to thousands; all
probabilities are combined in log space (``log1p``, ``expm1``). Relative accuracy is about
``1e-9`` or better on the means (node doubling; ``scipy.integrate.quad`` in the tests).

This module is private NumPy code, not a JAX kernel: it is neither jitted nor traced.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import special

__all__ = ["Extremes", "Group"]

# Panel ends, as log survival probabilities. Lower quantiles p and upper quantiles 1 - q.
_P_LOW = np.array([1e-40, 1e-30, 1e-22, 1e-16, 1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 0.05, 0.15])
_P_MID = np.array([0.3, 0.5, 0.7])
_Q_HIGH = np.array([0.15, 0.05, 1e-2, 1e-3, 1e-4, 1e-6, 1e-9, 1e-12, 1e-16, 1e-22])
# log P(X > x) at the panel ends, increasing x.
_LOG_SF_ENDS = np.concatenate([np.log1p(-_P_LOW), np.log1p(-_P_MID), np.log(_Q_HIGH)])

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)
_LOG_X_RANGE = (-690.0, 12.0)  # bisection bracket for log x (x = 1e-300 .. 1.6e5)
_BISECTIONS = 90


class Group(NamedTuple):
    """``count`` i.i.d. ``Gamma(shape, scale=1/shape)`` variables entering ``role``.

    ``level`` (``"min"`` and ``"max"`` groups only) makes the count depend on the level:
    ``level(x) -> (m(x), m'(x))``, so that the group contributes ``S(x)^{m(x)}`` to
    ``P(A > x)`` (``F(x)^{m(x)}`` to ``P(B <= x)``); ``count`` is then an upper bound of ``m``.
    """

    shape: float
    count: float
    role: str  # "both", "min" or "max"
    level: object = None


def _gl_panels(ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights on consecutive panels ``ends[..., i:i+2]``."""
    lo, hi = ends[..., :-1, None], ends[..., 1:, None]
    half = 0.5 * (hi - lo)
    x = lo + half * (_GL_NODES + 1.0)
    w = half * _GL_WEIGHTS
    shape = (*ends.shape[:-1], -1)
    return x.reshape(shape), w.reshape(shape)


class Extremes:
    """Distribution of ``(A, B) = (min, max)`` over independent Gamma groups (see module doc)."""

    def __init__(self, groups: list[Group], ratio_scale: float = 1.0):
        groups = [
            Group(float(g.shape), float(g.count), g.role, g.level) for g in groups if g.count > 0
        ]
        for g in groups:
            if g.level is not None and g.role == "both":
                raise ValueError("a level-dependent count needs role 'min' or 'max'")
            if g.role not in ("both", "min", "max"):
                raise ValueError(f"role must be 'both', 'min' or 'max', got {g.role!r}")
            if g.role == "both" and g.count != round(g.count):
                raise ValueError(f"a 'both' group needs an integer count, got {g.count}")
        if not any(g.role != "max" for g in groups) or not any(g.role != "min" for g in groups):
            raise ValueError("need at least one variable in the minimum and one in the maximum")
        self.groups = groups
        self.min_groups = [g for g in groups if g.role in ("both", "min")]
        self.max_groups = [g for g in groups if g.role in ("both", "max")]
        self.min_shape = min(g.shape for g in groups)
        self.ratio_scale = float(ratio_scale)
        self.total = sum(g.count for g in groups)
        self._outer = None

    # ---- one group ---------------------------------------------------------------------------
    @staticmethod
    def _logsf(g: Group, x):
        """``log S(x)``, accurate in both tails (``log1p(-F)`` where ``F < 1/2``)."""
        x = np.asarray(x, float)
        shape, x = x.shape, x.reshape(-1)
        F = special.gammainc(g.shape, g.shape * x)
        out = np.log1p(-np.minimum(F, 0.5))
        upper = F >= 0.5
        if np.any(upper):
            with np.errstate(divide="ignore"):
                out[upper] = np.log(special.gammaincc(g.shape, g.shape * x[upper]))
        return out.reshape(shape)

    @staticmethod
    def _logcdf(g: Group, x):
        """``log F(x)``, accurate in both tails (``log1p(-S)`` where ``S < 1/2``)."""
        x = np.asarray(x, float)
        shape, x = x.shape, x.reshape(-1)
        S = special.gammaincc(g.shape, g.shape * x)
        out = np.log1p(-np.minimum(S, 0.5))
        lower = S >= 0.5
        if np.any(lower):
            with np.errstate(divide="ignore"):
                out[lower] = np.log(special.gammainc(g.shape, g.shape * x[lower]))
        return out.reshape(shape)

    @staticmethod
    def _count(g: Group, x):
        """``m(x)``: the constant count, or the level-dependent one."""
        return g.count if g.level is None else g.level(np.asarray(x, float))[0]

    @staticmethod
    def _logpdf(g: Group, x):
        a = g.shape
        with np.errstate(divide="ignore"):
            return a * np.log(a) + special.xlogy(a - 1.0, x) - a * x - special.gammaln(a)

    # ---- marginals of A and B ----------------------------------------------------------------
    def logsf_min(self, x):
        """``log P(A > x)``."""
        return sum(self._count(g, x) * self._logsf(g, x) for g in self.min_groups)

    def logcdf_max(self, x):
        """``log P(B <= x)``."""
        return sum(self._count(g, x) * self._logcdf(g, x) for g in self.max_groups)

    def _rate(self, g: Group, x, log_tail, sign=-1.0):
        """``-/+ d/dx`` of ``m log S`` (``m log F``): ``m f/S - m' log S`` (``m f/F + m' log F``).

        ``sign`` is ``-1`` for a min group (``log_tail = log S``), ``+1`` for a max group.
        """
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            ratio = np.exp(self._logpdf(g, x) - log_tail)
            if g.level is None:
                return g.count * ratio
            m, dm = g.level(np.asarray(x, float))
            return m * ratio + sign * dm * np.where(np.isfinite(log_tail), log_tail, 0.0)

    def _hazard_terms(self, x):
        """``n_g h_g(x)`` for the min groups (list of arrays)."""
        return [self._rate(g, x, self._logsf(g, x)) for g in self.min_groups]

    def pdf_min(self, x):
        x = np.asarray(x, float)
        with np.errstate(invalid="ignore", over="ignore"):
            out = np.exp(self.logsf_min(x)) * sum(self._hazard_terms(x))
        return np.where(np.isfinite(out), out, 0.0)

    def pdf_max(self, x):
        x = np.asarray(x, float)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            rev = sum(self._rate(g, x, self._logcdf(g, x), 1.0) for g in self.max_groups)
            out = np.exp(self.logcdf_max(x)) * rev
        return np.where(np.isfinite(out), out, 0.0)

    def _quantiles(self, fn, targets, increasing: bool):
        """Solve ``fn(exp(t)) = target`` by vectorised bisection in ``t = log x``."""
        lo = np.full(np.shape(targets), _LOG_X_RANGE[0])
        hi = np.full(np.shape(targets), _LOG_X_RANGE[1])
        for _ in range(_BISECTIONS):
            mid = 0.5 * (lo + hi)
            val = fn(np.exp(mid))
            above = val > targets if increasing else val < targets
            hi = np.where(above, mid, hi)
            lo = np.where(above, lo, mid)
        return np.exp(0.5 * (lo + hi))

    def quantiles_min(self, log_sf):
        """``x`` with ``log P(A > x) = log_sf``."""
        return self._quantiles(self.logsf_min, log_sf, increasing=False)

    def quantiles_max(self, log_sf):
        """``x`` with ``log P(B > x) = log_sf``."""

        def logsf_max(x):
            with np.errstate(divide="ignore"):
                return np.log(-np.expm1(self.logcdf_max(x)))

        return self._quantiles(logsf_max, log_sf, increasing=False)

    # ---- outer rule over A (in log a) --------------------------------------------------------
    def outer(self):
        """Nodes ``a`` and weights ``w`` with ``sum w f(a) ~= E f(A)``, plus the hazard shares."""
        if self._outer is None:
            ends = np.log(self.quantiles_min(_LOG_SF_ENDS))
            t, wt = _gl_panels(ends)
            a = np.exp(t)
            terms = self._hazard_terms(a)
            total = sum(terms)
            with np.errstate(invalid="ignore", over="ignore"):
                dens = np.exp(self.logsf_min(a)) * total * a  # density of log A
                dens = np.where(np.isfinite(dens), dens, 0.0)
                shares = [
                    np.where(total > 0, tm / np.where(total > 0, total, 1.0), 0.0) for tm in terms
                ]
            self._outer = (a, wt * dens, shares)
        return self._outer

    def expect_min(self, fn=lambda a: a):
        a, w, _ = self.outer()
        return float(np.sum(w * fn(a)))

    def expect_max(self, fn=lambda b: b):
        ends = np.log(self.quantiles_max(_LOG_SF_ENDS))
        u, wu = _gl_panels(ends)
        b = np.exp(u)
        return float(np.sum(wu * self.pdf_max(b) * b * fn(b)))

    # ---- B given A ---------------------------------------------------------------------------
    def _cond_factors(self, b, a):
        """Per max-group ``log`` factors of ``P(B <= b | A = a)``, ``b >= a`` (broadcast).

        ``log(1 - S_h(b)/S_h(a))`` for "both" groups, ``log F_h(b)`` for max-only groups.
        """
        out = []
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            for h in self.max_groups:
                if h.role == "max":
                    out.append(self._logcdf(h, b) * (1.0 if h.level is None else h.level(b)[0]))
                    continue
                ratio = np.exp(self._logsf(h, b) - self._logsf(h, a))
                ratio = np.where(np.isfinite(ratio), np.minimum(ratio, 1.0), 1.0)
                out.append(np.log1p(-ratio))
        return out

    def _log_cond_cdf(self, factors, g_index):
        """``log P(B <= b | A = a, argmin in min_groups[g_index])`` from :meth:`_cond_factors`."""
        gmin = self.min_groups[g_index]
        out = 0.0
        for h, fac in zip(self.max_groups, factors, strict=True):
            n = 1.0 if h.level is not None else h.count - (1.0 if h is gmin else 0.0)
            if n == 0:
                continue
            with np.errstate(invalid="ignore"):
                out = out + np.where(fac == -np.inf, -np.inf, n * fac)
        return out

    def conditional_tail_integrals(self, a, shares, *, log_weight=False):
        r"""``sum_g pi_g(a) int_a^inf Q_g(b|a) w(b) db`` with ``w = 1`` (or ``1/b``).

        Below ``c = max(a, q_B(1e-40))`` the conditional probability that ``B`` has not yet
        been passed is ``1`` up to ``1e-40``, so that stretch is integrated in closed form
        (``c - a``, or ``log(c/a)``); the rest uses Gauss-Legendre panels between quantiles of
        ``B`` and a final exponential-tail panel.
        """
        qb = self.quantiles_max(_LOG_SF_ENDS)
        c = np.maximum(a, qb[0])
        ends = np.maximum(c[:, None], qb[None, 1:])
        tail = (45.0 + np.log1p(self.total)) / self.min_shape
        ends = np.concatenate([c[:, None], ends, ends[:, -1:] + tail], axis=1)
        b, wb = _gl_panels(ends)
        if log_weight:
            wb = wb / b
            total = np.log(c / a)
        else:
            total = c - a
        factors = self._cond_factors(b, a[:, None])
        live = b > a[:, None]  # nodes of collapsed panels carry no weight
        for gi, share in enumerate(shares):
            if not np.any(share > 0):
                continue
            q = -np.expm1(self._log_cond_cdf(factors, gi))
            total = total + share * np.sum(np.where(live, wb * q, 0.0), axis=1)
        return total

    # ---- functionals of kappa ----------------------------------------------------------------
    # ``kappa = ratio_scale * B / A``: the ratio's law is that of ``B/A`` scaled (``1``: none).
    def mean_ratio(self):
        """``E[kappa]`` (finite only when ``E[1/A]`` is; the caller checks)."""
        a, w, shares = self.outer()
        inner = self.conditional_tail_integrals(a, shares)
        return self.ratio_scale * (1.0 + float(np.sum(w * inner / a)))

    def mean_log_ratio(self):
        """``E[log kappa]``."""
        a, w, shares = self.outer()
        inner = self.conditional_tail_integrals(a, shares, log_weight=True)
        return float(np.sum(w * inner)) + math.log(self.ratio_scale)

    def ratio_sf(self, r):
        """``P(kappa > r)`` for an array ``r`` (and the cdf, ``P(kappa <= r)``)."""
        a, w, shares = self.outer()
        r = np.asarray(r, float) / self.ratio_scale
        flat = r.reshape(-1)
        b = flat[None, :] * a[:, None]
        sf = np.zeros(flat.shape)
        cdf = np.zeros(flat.shape)
        factors = self._cond_factors(b, a[:, None])
        for gi, share in enumerate(shares):
            logc = self._log_cond_cdf(factors, gi)
            sf = sf + np.sum((w * share)[:, None] * -np.expm1(logc), axis=0)
            cdf = cdf + np.sum((w * share)[:, None] * np.exp(logc), axis=0)
        below = flat < 1.0
        sf = np.where(below, 1.0, np.clip(sf, 0.0, 1.0))
        cdf = np.where(below, 0.0, np.clip(cdf, 0.0, 1.0))
        return sf.reshape(r.shape), cdf.reshape(r.shape)

    def ratio_pdf(self, r):
        """Density of ``B/A`` at ``r > 1`` (``0`` for ``r < 1``).

        ``d/dr P(B <= rA) = E[A * d/db P(B <= b | A) at b = rA]``; the derivative of the
        product is taken factor by factor in log space (each factor ``R_h = 1 - S_h(b)/S_h(a)``
        divided out before it can vanish).
        """
        a, w, shares = self.outer()
        r = np.asarray(r, float) / self.ratio_scale
        flat = r.reshape(-1)
        b = flat[None, :] * a[:, None]
        A = a[:, None]
        pdf = np.zeros(flat.shape)
        factors = self._cond_factors(b, A)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            # d/db of one factor, divided by the factor: f(b)/F(b), or f(b)/(S(a) - S(b))
            dlog = []
            for h, fac in zip(self.max_groups, factors, strict=True):
                if h.level is not None:  # d/db of m(b) log F(b), as log
                    dlog.append(np.log(self._rate(h, b, self._logcdf(h, b), 1.0)))
                elif h.role == "max":
                    dlog.append(self._logpdf(h, b) - fac)
                else:
                    dlog.append(self._logpdf(h, b) - self._logsf(h, A) - fac)
            for gi, share in enumerate(shares):
                gmin = self.min_groups[gi]
                logc = self._log_cond_cdf(factors, gi)
                dens = np.zeros_like(b)
                for h, dl in zip(self.max_groups, dlog, strict=True):
                    n = 1.0 if h.level is not None else h.count - (1.0 if h is gmin else 0.0)
                    if n == 0:
                        continue
                    term = np.exp(np.log(n) + dl + logc)
                    dens = dens + np.where(np.isfinite(term), term, 0.0)
                pdf = pdf + np.sum((w * share * a)[:, None] * dens, axis=0)
        pdf = np.where(flat < 1.0, 0.0, pdf) / self.ratio_scale
        return pdf.reshape(r.shape)
