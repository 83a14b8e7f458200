r"""Frame-bound theory of random multichannel, strided conv layers (host-side NumPy/SciPy).

A layer of ``J`` filters on ``C`` input channels, ``T`` taps, stride ``d`` (dividing ``n`` and
``T``), circular on signals of length ``n``, with i.i.d. Gaussian weights of variance
``1/(J T)`` (the paper's init, ``E[Phi^T Phi] = I / d``). Its frame operator is block diagonal
over ``k = 0 .. L - 1`` (``L = n / d``) with ``p x p`` blocks, ``p = d C``,

.. math:: M_k = \frac1d \sum_{j=1}^{J} \overline{v_j(k)}\, v_j(k)^\top,\qquad
          v_j(k) = \bigl(\hat w_{j,c}(k + aL)\bigr)_{a < d,\ c < C} \in \mathbb C^{p}.

Up to a diagonal unitary, ``v_j(k)`` is the ``L``-point DFT at ``k`` of the ``p`` polyphase
components ``w[j, c, r + d s]`` (length ``T / d`` each), so the strided layer is the stride-1
layer with ``p`` channels, ``T / d`` taps and ``L`` samples, scaled by ``1/d``:

* ``k = 0`` and ``k = L/2`` (even ``L``): ``v_j(k)`` is a real Gaussian vector (after a unitary
  change of basis), ``d M_k`` is a real Wishart :math:`W_p(J, I/J)`;
* other ``k``: ``d M_k`` is a complex Wishart :math:`CW_p(J, I/J)`, exactly when ``T = n``
  (approximately, away from the edges, otherwise).

When ``T = n`` the ``L//2 + 1`` blocks ``k <= L/2`` are independent and carry the whole
spectrum (``M_{L-k}`` is ``M_k`` up to conjugation), so ``A = min_k lambda_min(M_k)`` and
``B = max_k lambda_max(M_k)`` have exact laws:

.. math:: P(a < A,\ B \le b) = \prod_k P\bigl(\mathrm{eig}(M_k) \subset (a, b]\bigr).

Each factor is computed numerically exactly: for the complex (Laguerre unitary) blocks as the
finite-rank Fredholm determinant :math:`\det(I - \int_{(a,b]^c} \phi\phi^\top)` of the ``p``
orthonormal Laguerre functions; for the real (Laguerre orthogonal) blocks as de Bruijn's
Pfaffian :math:`\sqrt{\det \mathcal A_{(a,b]} / \det \mathcal A_{(0,\infty)}}`. All integrals
are composite Gauss-Legendre rules in ``s = sqrt(x)`` (which removes the ``x^{-1/2}``
singularity of the real case), with cumulative integration matrices on each panel.

When ``T < n`` the blocks are correlated; the predictor keeps the two real edge blocks exact and
replaces the ``L/2 - 1`` interior complex blocks by level-dependent effective numbers ``m_A(x)``,
``m_B(x)`` of independent ones: jaxfb's single-channel crossing model at ``(J, T/d, n/d)``
(:func:`jaxfb.theory.effective_counts`) with the block's extreme eigenvalue taken as the
Littlewood-Paley process run ``s(x)`` times faster, ``s`` the ratio of their Rice crossing rates at
equal tail probability (one-step crossings on a grid ``s`` times coarser, edge neighbourhoods ``s``
times narrower; ``docs/conv_theory.md``). No constant is fitted to conv layers; ``d C = 1`` is the
single-channel model.

The large-``J``, large-``p`` limit of ``(A, B)`` is the Marchenko-Pastur support
:math:`\bigl((1 \mp \sqrt{p/J})^2 / d\bigr)` (:func:`marchenko_pastur_edges`). See
``docs/conv_theory.md``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.polynomial import legendre
from scipy import special, stats
from scipy.interpolate import PchipInterpolator

from ._frame_model import (
    EDGE_WIDTH,
    EDGE_WIDTH_RATE,
    MIN_EDGE_WIDTH,
    MIN_EDGE_WIDTH_RATE,
    crossing_probability,
    edge_half_width,
    interior_points,
)

__all__ = [
    "ConvFrameBoundLaw",
    "conv_frame_bound_law",
    "marchenko_pastur_edges",
]

_NODES = 20  # Gauss-Legendre nodes per panel
_PANEL = 0.5  # panel width in s = sqrt(x), x in units of a Wishart(J, I) eigenvalue
_MARGIN = 8.0  # grid covers s in [sqrt(J) - sqrt(p) - margin, sqrt(J) + sqrt(p) + margin]
_WINDOW = 1e-15  # probabilities below this are treated as 0 (the E[kappa] window)
_LEVELS = 32  # levels at which the level-dependent counts are computed
_MIN_EDGE = (MIN_EDGE_WIDTH, MIN_EDGE_WIDTH_RATE)  # the single-channel model's edge widths
_EDGE = (EDGE_WIDTH, EDGE_WIDTH_RATE)


class _Grid(NamedTuple):
    s: np.ndarray  # (P, q) nodes in s
    w: np.ndarray  # (P, q) weights in s
    x: np.ndarray  # (P, q) s^2
    h: float  # panel width
    lo: float  # s at the left end
    hi: float  # s at the right end


@lru_cache(maxsize=1)
def _panel_rule(q: int = _NODES):
    """Gauss-Legendre nodes/weights on [-1, 1] and the integration matrix from -1 to each node."""
    t, wt = legendre.leggauss(q)
    V = legendre.legvander(t, q - 1)  # V[i, k] = P_k(t_i)
    Vint = np.stack(
        [legendre.legval(t, legendre.legint(np.eye(q)[k], lbnd=-1)) for k in range(q)], axis=1
    )
    return t, wt, Vint @ np.linalg.inv(V)


def _grid(J: int, p: int) -> _Grid:
    t, wt, _ = _panel_rule()
    lo = max(0.0, math.sqrt(J) - math.sqrt(p) - _MARGIN)
    hi = math.sqrt(J) + math.sqrt(p) + _MARGIN
    panels = max(1, math.ceil((hi - lo) / _PANEL))
    h = (hi - lo) / panels
    left = lo + h * np.arange(panels)
    s = left[:, None] + 0.5 * h * (t[None, :] + 1.0)
    return _Grid(s, np.broadcast_to(0.5 * h * wt, s.shape).copy(), s * s, h, lo, hi)


def _cumulative(g: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Integrals from the grid's left end to each node, and from each node to its right end.

    ``g``: ``(P, q, ...)`` integrand values (already times the Jacobian); returns two arrays of
    the same shape.
    """
    _, wt, S = _panel_rule()
    inner = 0.5 * h * np.einsum("ij,pj...->pi...", S, g)
    totals = 0.5 * h * np.einsum("j,pj...->p...", wt, g)
    before = np.cumsum(totals, axis=0) - totals
    after = np.sum(totals, axis=0) - before - totals
    fwd = before[:, None] + inner
    bwd = after[:, None] + (totals[:, None] - inner)
    return fwd, bwd


def _laguerre(x: np.ndarray, p: int, alpha: float) -> np.ndarray:
    """``(..., p)`` orthonormal Laguerre polynomials for the weight ``x^alpha e^{-x}``, times
    ``sqrt(Gamma(alpha + 1))`` (degree 0 is 1)."""
    out = np.empty((*x.shape, p))
    out[..., 0] = 1.0
    if p > 1:
        out[..., 1] = (1.0 + alpha - x) / math.sqrt(1.0 + alpha)
    for k in range(1, p - 1):
        out[..., k + 1] = (
            (2 * k + 1 + alpha - x) * out[..., k] - math.sqrt(k * (k + alpha)) * out[..., k - 1]
        ) / math.sqrt((k + 1) * (k + alpha + 1))
    return out


def _log1m_det(C: np.ndarray) -> np.ndarray:
    """``log det(I - C)`` for symmetric ``C`` with spectrum in ``[0, 1]`` (``-inf`` at 1)."""
    mu = np.clip(np.linalg.eigvalsh(C), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return np.sum(np.log1p(-mu), axis=-1)


class _Complex:
    """Laguerre unitary block: eigenvalues of a complex Wishart ``CW_p(J, I)`` (unit variance)."""

    def __init__(self, J: int, p: int, grid: _Grid):
        alpha = J - p
        x = grid.x
        logw = 0.5 * special.xlogy(alpha, x) - 0.5 * x - 0.5 * special.gammaln(alpha + 1)
        phi = np.exp(logw)[..., None] * _laguerre(x, p, alpha)  # (P, q, p)
        g = phi[..., :, None] * phi[..., None, :] * (2.0 * grid.s)[..., None, None]
        self.fwd, self.bwd = (c.reshape(-1, p, p) for c in _cumulative(g, grid.h))

    def log_inside(self, ia: np.ndarray | None, ib: np.ndarray | None) -> np.ndarray:
        """``log P(eig in (x[ia], x[ib]])``; ``None``: the grid's end (0 or infinity)."""
        C = 0.0
        if ia is not None:
            C = C + self.fwd[ia]
        if ib is not None:
            C = C + self.bwd[ib]
        return _log1m_det(C)


class _Real:
    """Laguerre orthogonal block: eigenvalues of a real Wishart ``W_p(J, I)``, by de Bruijn."""

    def __init__(self, J: int, p: int, grid: _Grid):
        gamma, alpha = 0.5 * (J - p - 1), J - p
        x = grid.x  # the Gauss-Legendre nodes are interior: x > 0
        logw = np.log(x) * gamma - 0.5 * x - 0.5 * special.gammaln(alpha + 1)
        f = (2.0 * grid.s * np.exp(logw))[..., None] * _laguerre(x, p, alpha)  # f_i dx/ds
        C, _ = _cumulative(f, grid.h)  # C_i(s) = int_lo^s f_i
        g = f[..., None, :] * C[..., :, None] - f[..., :, None] * C[..., None, :]  # (P,q,i,j)
        K, _ = _cumulative(g, grid.h)
        self.p = p
        # row 0 is the grid's left end (nothing integrated yet), row i + 1 is node i
        self.C = np.concatenate([np.zeros((1, p)), C.reshape(-1, p)])
        self.K = np.concatenate([np.zeros((1, p, p)), K.reshape(-1, p, p)])
        self._full = self._logdet(np.array([0]), np.array([len(self.C) - 1]))[0]

    def _matrix(self, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        Ca, Cb = self.C[ia], self.C[ib]
        A = (
            self.K[ib]
            - self.K[ia]
            - Ca[:, :, None] * Cb[:, None, :]
            + Ca[:, None, :] * Cb[:, :, None]
        )
        if self.p % 2:
            border = (Cb - Ca)[:, :, None]
            A = np.concatenate([A, border], axis=2)
            row = np.concatenate([-border[:, :, 0], np.zeros((len(ia), 1))], axis=1)
            A = np.concatenate([A, row[:, None, :]], axis=1)
        return A

    def _logdet(self, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):  # an empty interval: det = 0, probability 0
            sign, logdet = np.linalg.slogdet(self._matrix(ia, ib))
        return np.where(sign > 0, logdet, -np.inf)

    def log_inside(self, ia: np.ndarray | None, ib: np.ndarray | None) -> np.ndarray:
        """``log P(eig in (x[ia], x[ib]])``; ``None``: the grid's end (0 or infinity)."""
        n = len(ia) if ia is not None else len(ib)
        ia = np.zeros(n, int) if ia is None else np.asarray(ia) + 1
        ib = np.full(n, len(self.C) - 1) if ib is None else np.asarray(ib) + 1
        out = 0.5 * (self._logdet(ia, ib) - self._full)
        return np.minimum(out, 0.0)


# ---------------------------------------------------------------------------------------------
# the law of (A, B) for a conv layer


class ConvFrameBoundLaw:
    r"""Law of ``(A, B, kappa)`` of a random conv layer: ``J`` filters, ``C`` channels, stride d.

    Exact when ``T == n`` (independent real and complex Wishart blocks), jaxfb's effective-count
    model when ``T < n`` (``exact`` is ``False``; level-dependent counts). Create it with
    :func:`conv_frame_bound_law`.
    NumPy/SciPy code (not jitted); results are Python floats.

    Attributes:
        num_filters, length, n, in_channels, stride: ``J``, ``T``, ``n``, ``C``, ``d``.
        block_size: ``p = d C``, the size of a polyphase block.
        exact: whether the law is exact.
        counts: ``(real, complex_min, complex_max)``: the number of real Wishart blocks and of
            independent complex ones entering ``A`` and ``B`` (for ``T < n`` the level-dependent
            counts at the medians of ``A`` and ``B``).
    """

    def __init__(self, J: int, T: int, n: int, C: int, d: int):
        self.num_filters, self.length, self.n, self.in_channels, self.stride = J, T, n, C, d
        p, L, Tp = d * C, n // d, T // d
        self.block_size, self.exact = p, (T == n or Tp == 1)
        if Tp == L:
            real, m_a = (1 + (L % 2 == 0) if L > 1 else 1), float((L - 1) // 2)
            m_b = m_a
        elif Tp == 1:  # one polyphase tap: every block is the same real Wishart
            real, m_a, m_b = 1, 0.0, 0.0
        else:
            real, m_a, m_b = 2, None, None  # counts from crossings, on first use
        self.counts = (real, m_a, m_b)
        self._cache: dict = {}

    def __repr__(self) -> str:
        kind = "exact" if self.exact else "model"
        return (
            f"ConvFrameBoundLaw(num_filters={self.num_filters}, length={self.length}, "
            f"n={self.n}, in_channels={self.in_channels}, stride={self.stride}, {kind})"
        )

    @property
    def _singular(self) -> bool:
        return self.num_filters < self.block_size  # rank J < p: A = 0 surely

    def _tables(self):
        """Node tables of ``log P(A > x)``, ``log P(B <= x)`` and the block objects."""
        if "tables" not in self._cache:
            # J < p: the nonzero spectrum of W_p(J) is that of W_J(p) (swap the roles)
            J, p = max(self.num_filters, self.block_size), min(self.num_filters, self.block_size)
            grid = _grid(J, p)
            nodes = np.arange(grid.x.size)
            real = _Real(J, p, grid)
            r = self.counts[0]
            log_sa = r * real.log_inside(nodes, None)
            log_fb = r * real.log_inside(None, nodes)
            comp, m_a, m_b = None, self.counts[1], self.counts[2]
            if m_a is None or m_a > 0:
                comp = _Complex(J, p, grid)
                one_sa, one_fb = comp.log_inside(nodes, None), comp.log_inside(None, nodes)
                if m_a is None:
                    m_a, m_b = _crossing_counts(self, grid, one_sa, one_fb)
                log_sa = log_sa + _power(m_a, one_sa)
                log_fb = log_fb + _power(m_b, one_fb)
                if self.counts[1] is None:  # report the counts at the medians of A and B
                    i = int(np.argmin(np.abs(log_sa - math.log(0.5))))
                    k = int(np.argmin(np.abs(log_fb - math.log(0.5))))
                    self.counts = (r, float(m_a[i]), float(m_b[k]))
            self._m = (m_a, m_b)
            self._cache["tables"] = (grid, real, comp, log_sa, log_fb)
        return self._cache["tables"]

    def _scale(self) -> float:
        return 1.0 / (self.num_filters * self.stride)

    def mean_lower(self) -> float:
        """``E[A]`` (0 when ``J < d C``: every block is singular)."""
        if self._singular:
            return 0.0
        grid, _, _, log_sa, _ = self._tables()
        u = (grid.w * 2.0 * grid.s).reshape(-1)
        return float((grid.lo**2 + np.sum(u * np.exp(log_sa))) * self._scale())

    def mean_upper(self) -> float:
        """``E[B]``."""
        grid, _, _, _, log_fb = self._tables()
        u = (grid.w * 2.0 * grid.s).reshape(-1)
        return float((grid.lo**2 + np.sum(u * -np.expm1(log_fb))) * self._scale())

    def mean_kappa(self) -> float:
        """``E[kappa]``; ``inf`` where it does not exist (``J < d C + 2``: ``E[1/A] = inf``)."""
        if self.num_filters < self.block_size + 2:
            return math.inf
        if "kappa" not in self._cache:
            self._cache["kappa"] = _mean_ratio(self, *self._tables())
        return self._cache["kappa"]


def _power(m, log_p):
    """``m log_p``: the log-probability of ``m`` independent blocks (0 for ``m = 0``, even where
    ``log_p`` is ``-inf``)."""
    with np.errstate(invalid="ignore"):
        return np.where(m > 0, m * log_p, 0.0)


def _crossing_counts(law, grid, one_sa, one_fb):
    r"""Level-dependent counts ``m_A(x)``, ``m_B(x)`` at the grid's nodes.

    jaxfb's single-channel crossing model (docs/theory.md) at ``(J, T/d, n/d)``, with its edge
    half-widths (the minimum's for ``m_A``, the maximum's for ``m_B``), carried over from the
    Littlewood-Paley value to the extreme eigenvalue of a block: the derivative of
    ``lambda_min(M_k)`` is ``v^H M_k' v`` (``v`` its unit eigenvector), distributed, given the
    level ``y``, like the derivative of a single-channel Littlewood-Paley sum at level ``y``, so
    Rice's crossing rate :math:`\propto \sqrt{y}\,f_\lambda(y)` of the block is that of a
    Littlewood-Paley value at the level ``y'`` of the same tail probability times
    :math:`s(y) = \sqrt{y}\,f_\lambda(y) / (\sqrt{y'}\,f_{LP}(y'))`: at level ``y`` the block's
    extreme eigenvalue is the Littlewood-Paley process run ``s`` times faster. The one-step
    crossing probability ``U`` of a block is therefore the single-channel one at ``y'`` on the
    grid of spacing ``s (2 pi / L)`` (``n_eff = L / s``; ``U -> t (1 - t)``, independent
    neighbours, once ``s`` reaches ``L / (T/d)``, the correlation length), and
    :math:`m(y) = 1 + (P - 1)\log(1 - U/t)/\log t` with the block's survival (cdf, for the
    maximum) ``t``; tabulated at ``_LEVELS`` levels, PCHIP in ``log y``, constant beyond. For
    ``d C = 1`` (``s = 1``) these are the single-channel model's counts.
    """
    J, Tp, L = law.num_filters, law.length // law.stride, law.n // law.stride
    x = grid.x.reshape(-1)
    y = x / J  # levels on the scale of d M_k (mean 1)
    lp = stats.gamma(J, scale=1.0 / J)  # an interior Littlewood-Paley value
    out = []
    for one, side, edge in ((one_sa, "min", _MIN_EDGE), (one_fb, "max", _EDGE)):
        ell = edge_half_width(Tp, L, edge)
        tail = np.exp(one)  # P(lambda_min > y) or P(lambda_max <= y) per block
        slope = np.abs(np.gradient(tail, y))
        ok = np.flatnonzero((tail > 0.5) & (tail < 1.0 - 1e-14) & (slope > 0))
        pick = ok[np.unique(np.linspace(0, len(ok) - 1, _LEVELS).round().astype(int))]
        m = []
        for i in pick:
            t = float(tail[i])
            y_lp = float(lp.isf(t) if side == "min" else lp.ppf(t))
            s = math.sqrt(y[i]) * slope[i] / (math.sqrt(y_lp) * float(lp.pdf(y_lp)))
            # the edge's neighbourhood shrinks with the time scale, to half a grid step at least
            P = (math.pi - 2.0 * max(ell / s, math.pi / L)) * L / (2.0 * math.pi)
            u = crossing_probability(y_lp, J, Tp, L / s)
            ratio = math.log1p(-min(u / t, 1.0 - 1e-15)) / math.log(t)
            m.append(max(P, 0.0) if P <= 1.0 else 1.0 + (P - 1.0) * min(ratio, 1.0))
        if len(pick) < 2:
            out.append(np.full(x.size, m[0] if m else interior_points(Tp, L, edge)))
            continue
        spline = PchipInterpolator(np.log(y[pick]), m)
        out.append(spline(np.clip(np.log(y), np.log(y[pick[0]]), np.log(y[pick[-1]]))))
    return out


def _mean_ratio(law, grid, real, comp, log_sa, log_fb) -> float:
    r"""``E[B/A] = \int_0^\infty db \int_0^\infty P(A < a, B > b)\, da / a^2``.

    ``P(A < a, B > b) = P(A < a) - P(B \le b) + P(A \ge a, B \le b)``; the last term, the only
    one that is not a marginal, is needed where both marginals are away from 0 and 1.
    """
    x = grid.x.reshape(-1)
    u = (grid.w * 2.0 * grid.s).reshape(-1)
    p_a = -np.expm1(log_sa)  # P(A < x)
    f_b = np.exp(log_fb)  # P(B <= x)
    x_end = grid.hi**2
    win_a = (p_a > _WINDOW) & (np.exp(log_sa) > _WINDOW)
    above_a = np.exp(log_sa) <= _WINDOW
    win_b = (f_b > _WINDOW) & (1.0 - f_b > _WINDOW)
    below_b = f_b <= _WINDOW
    inv = u / (x * x)
    tail_a = np.sum(inv * p_a) + 1.0 / x_end  # int P(A < a) da / a^2
    total = (grid.lo**2 + np.sum(u[below_b])) * tail_a
    ia = np.flatnonzero(win_a)
    r = law.counts[0]
    m_a, m_b = (np.broadcast_to(np.asarray(c, float), x.shape) for c in law._m)
    for ib in np.flatnonzero(win_b):
        rest = (1.0 - f_b[ib]) * (np.sum(inv[above_a]) + 1.0 / x_end)
        a = ia[x[ia] < x[ib]]
        joint = np.zeros(len(ia))
        if len(a):
            log_h = r * real.log_inside(a, np.full(len(a), ib))
            if comp is not None:  # the min(m_A, m_B) blocks common to A and B
                m = np.minimum(m_a[a], m_b[ib])
                log_h = log_h + _power(m, comp.log_inside(a, np.full(len(a), ib)))
                log_h = log_h + _power(m_a[a] - m, comp.log_inside(a, None))
                log_h = log_h + _power(m_b[ib] - m, comp.log_inside(None, np.full(len(a), ib)))
            joint[: len(a)] = np.exp(log_h)
        inner = np.sum(inv[ia] * (p_a[ia] - f_b[ib] + joint))
        total += u[ib] * (inner + rest)
    return float(total)


@lru_cache(maxsize=1024)
def _law(J: int, T: int, n: int, C: int, d: int) -> ConvFrameBoundLaw:
    return ConvFrameBoundLaw(J, T, n, C, d)


def _static(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a Python int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def conv_frame_bound_law(
    num_filters: int, n: int, *, length: int | None = None, in_channels: int = 1, stride: int = 1
) -> ConvFrameBoundLaw:
    r"""Law of the frame bounds of a random conv layer: exact when ``length == n``.

    ``J = num_filters`` filters on ``C = in_channels`` channels with ``T = length`` taps,
    stride ``d``, i.i.d. :math:`\mathcal N(0, 1/(JT))` weights (the paper's init,
    ``jaxfb.random_filterbank(key, J, T, in_channels=C)``), circular on ``n`` samples. With
    ``p = d C`` and ``L = n / d``, ``d M_k`` is a real Wishart :math:`W_p(J, I/J)` at ``k = 0``
    and ``k = L/2`` and a complex Wishart :math:`CW_p(J, I/J)` elsewhere, independent when
    ``T = n``:

    .. math:: P(A > a,\ B \le b) = \prod_{k=0}^{L/2} P\bigl(\mathrm{eig}(M_k) \subset (a, b]\bigr),

    each factor a Fredholm determinant (complex) or de Bruijn Pfaffian (real) of Laguerre
    functions, by quadrature. ``T < n``: jaxfb's level-dependent effective counts at
    ``(J, T/d, n/d)``, carried over to blocks by Rice's formula (``exact = False``). See
    ``docs/conv_theory.md``.

    Cost: the quadrature grows with the block size ``p``. Over the table of
    ``docs/conv_theory.md`` (``docs/figures/conv_theory.json``, ``theory_s``) a law took a median
    of about 0.5 s, 0.04 s for single-channel blocks and up to about 13 s at ``p = 64``
    (``C = 16``, ``d = 4``); laws are cached per ``(J, T, n, C, d)``.

    Args:
        num_filters: ``J >= 1`` (output channels), Python int.
        n: signal length, Python int, divisible by ``stride``.
        length: ``T``, ``stride <= T <= n``, divisible by ``stride``; default ``n``.
        in_channels: ``C >= 1``.
        stride: ``d >= 1``.

    Returns:
        a :class:`ConvFrameBoundLaw` (``mean_lower``, ``mean_upper``, ``mean_kappa``).

    Examples:
        >>> from jaxfb import theory
        >>> law = theory.conv_frame_bound_law(64, 64, in_channels=4, stride=2)
        >>> law.exact, law.counts
        (True, (2, 15.0, 15.0))
        >>> 0 < law.mean_lower() < 0.5 < law.mean_upper()
        True
    """
    J = _static("num_filters", num_filters, 1)
    n = _static("n", n, 1)
    T = n if length is None else _static("length", length, 1)
    C = _static("in_channels", in_channels, 1)
    d = _static("stride", stride, 1)
    if T > n:
        raise ValueError(f"length={T} must be <= n={n}")
    if n % d or T % d:
        raise ValueError(
            f"stride={d} must divide length={T} and n={n} (equal polyphase components)"
        )
    return _law(J, T, n, C, d)


def marchenko_pastur_edges(num_filters, *, in_channels, stride: int = 1):
    r"""The Marchenko-Pastur edges: the large-``J``, large-``C`` limit of ``(A, B)``.

    .. math:: A \to \frac{(1 - \sqrt{dC/J})^2}{d}, \qquad B \to \frac{(1 + \sqrt{dC/J})^2}{d}

    as ``J, C -> inf`` with ``d C / J`` fixed (below 1) and ``n`` fixed: every block ``d M_k`` is
    a Wishart matrix :math:`W_{dC}(J, I/J)` whose spectrum fills the Marchenko-Pastur support
    :math:`[(1-\sqrt{y})^2, (1+\sqrt{y})^2]`, ``y = dC/J``, with edge fluctuations of order
    :math:`J^{-2/3}`. For ``dC >= J`` the lower edge is 0 (the blocks are singular). NumPy code;
    arguments broadcast.

    Args:
        num_filters: ``J >= 1`` (int or integer array), the output channels.
        in_channels: ``C >= 1`` (int or integer array).
        stride: ``d >= 1`` (int).

    Returns:
        ``(lower, upper)`` float64 arrays (0-d for scalars).

    Examples:
        >>> from jaxfb import theory
        >>> lo, hi = theory.marchenko_pastur_edges(64, in_channels=16)
        >>> float(lo), float(hi)
        (0.25, 2.25)
    """
    J = np.asarray(num_filters, dtype=float)
    C = np.asarray(in_channels, dtype=float)
    for name, val in (("num_filters", J), ("in_channels", C), ("stride", np.asarray(stride))):
        if np.any(val < 1) or np.any(val != np.floor(val)):
            raise ValueError(f"{name} must be an integer >= 1, got {val!r}")
    y = np.sqrt(stride * C / J)
    lo = np.where(y < 1, (1 - y) ** 2, 0.0) / stride
    return lo, (1 + y) ** 2 / stride


def conv_arguments(J: np.ndarray, T: np.ndarray, N: np.ndarray, in_channels, stride):
    """Validate ``in_channels``, ``stride`` against validated ``J``, ``T``, ``N``; broadcast.

    Returns ``None`` for the single-channel, stride-1 layer (``in_channels == stride == 1``
    everywhere), else the five broadcast int64 arrays.
    """
    out = []
    for name, value in (("in_channels", in_channels), ("stride", stride)):
        arr = np.asarray(value)
        if isinstance(value, bool) or arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must be an integer (or integer array), got {value!r}")
        if arr.size and arr.min() < 1:
            raise ValueError(f"{name} must be >= 1, got {arr.min()}")
        out.append(arr.astype(np.int64))
    C, d = out
    if np.all(C == 1) and np.all(d == 1):
        return None
    J, T, N, C, d = np.broadcast_arrays(J, T, N, C, d)
    for what, bad in (("n", N % d != 0), ("length", T % d != 0)):
        if np.any(bad):
            i = np.argmax(bad.reshape(-1))
            raise ValueError(
                f"stride={d.reshape(-1)[i]} must divide {what}="
                f"{(N if what == 'n' else T).reshape(-1)[i]}: the theory of strided layers "
                f"needs polyphase components of equal length (pick a stride dividing both "
                f"length and n)"
            )
    return J, T, N, C, d


def conv_means(J: int, T: int, n: int, C: int, d: int) -> tuple[float, float]:
    """``(E[A], E[B])`` of the layer (exact when ``T == n``)."""
    law = _law(J, T, n, C, d)
    return law.mean_lower(), law.mean_upper()


def conv_mean_kappa(J: int, T: int, n: int, C: int, d: int) -> float:
    """``E[kappa]`` of the layer (exact when ``T == n``; ``inf`` for ``J < d C + 2``)."""
    return _law(J, T, n, C, d).mean_kappa()
