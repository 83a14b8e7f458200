r"""Littlewood-Paley sums, frame bounds and condition numbers of FIR filterbanks.

For ``w`` of shape ``(..., J, T)`` zero-padded to ``n`` samples, the Littlewood-Paley sum is
:math:`LP(k) = \sum_j |\hat w_j(k)|^2` on the ``n``-point DFT grid. It is the DFT of the
``n``-periodised summed autocorrelation of the filters,

.. math:: LP(k) = r_w(0) + 2\sum_{\tau=1}^{T-1} r_w(\tau)\cos(2\pi k\tau/n),\qquad
          r_w(\tau) = \sum_j\sum_t w_j[t]\,w_j[t+\tau],

which is what makes the cheap path possible: ``J`` FFTs of size ``>= 2T-1`` give ``r_w``, and one
transform of ``T`` lags gives the ``n//2 + 1`` frequencies (a small matrix product for short
filters, one real FFT of size ``n`` otherwise).
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _validation as v
from ._strided import aliasing_extremes

__all__ = [
    "FrameBounds",
    "condition_number",
    "filter_autocorrelation",
    "frame_bounds",
    "littlewood_paley",
]

# Above this many lags the lag -> frequency step uses an FFT of size n instead of a matrix product.
_MATMUL_MAX_LAGS = 32
# Up to this length the summed autocorrelation comes from the Gram matrix, not from FFTs.
_GRAM_MAX_LENGTH = 64
_METHODS = ("auto", "fft", "autocorr")


def fft_size(m: int) -> int:
    """Smallest 2^a 3^b 5^c >= m (a fast size for XLA's FFT)."""
    best = 1 << max(0, (m - 1).bit_length())
    p5 = 1
    while p5 < 2 * m:
        p35 = p5
        while p35 < 2 * m:
            q = p35
            while q < m:
                q *= 2
            best = min(best, q)
            p35 *= 3
        p5 *= 5
    return best


def _lp_cost(method: str, J: int, T: int, n: int) -> float:
    """Rough flop count per filterbank, used by ``method="auto"``."""
    nlogn = n * math.log2(max(n, 2))
    if method == "fft":
        return 2.5 * J * nlogn
    if T <= _GRAM_MAX_LENGTH:
        cost = 2.0 * J * T * T + 2.0 * T * T
    else:
        L = fft_size(2 * T - 1)
        cost = 2.5 * (J + 1) * L * math.log2(L) + J * L
    if T <= _MATMUL_MAX_LAGS:
        return cost + 2.0 * T * (n // 2 + 1)
    return cost + 2.5 * nlogn


def _choose_method(J: int, T: int, n: int) -> str:
    return min(("autocorr", "fft"), key=lambda m: _lp_cost(m, J, T, n))


def _summed_autocorrelation(w: jax.Array) -> jax.Array:
    """``r_w(tau)`` for ``tau = 0..T-1``: ``(..., J, T) -> (..., T)`` (linear, not periodised).

    Short filters (``T <= _GRAM_MAX_LENGTH``): the ``T x T`` Gram matrix over filters (one
    batched matrix product) and its diagonal sums (a reshape, no gather). Longer filters: ``J``
    real FFTs of size ``>= 2T - 1``.
    """
    T = w.shape[-1]
    if T == 1:
        return jnp.sum(w * w, axis=-2)
    if T <= _GRAM_MAX_LENGTH:
        # r(tau) = sum_t G[t, t + tau], G = sum_j w_j w_j^T. G[t, t + tau] is entry
        # t (T + 1) + tau of G's rows laid end to end: padded with T zeros and read as rows of
        # T + 1, row t holds G[t, t + tau] in column tau while t + tau < T (beyond, the next
        # row's head, masked). A masked column sum gives r: one pass over G, no flips.
        gram = jnp.einsum("...jt,...js->...ts", w, w, precision=jax.lax.Precision.HIGHEST)
        batch = gram.shape[:-2]
        flat = jnp.pad(gram.reshape((*batch, T * T)), [(0, 0)] * len(batch) + [(0, T)])
        rows = flat.reshape((*batch, T, T + 1))[..., :T]
        upper = np.add.outer(np.arange(T), np.arange(T)) < T
        return jnp.sum(jnp.where(upper, rows, 0), axis=-2)
    L = fft_size(2 * T - 1)
    W = jnp.fft.rfft(w, n=L, axis=-1)
    power = jnp.sum(W.real**2 + W.imag**2, axis=-2)
    return jnp.fft.irfft(power, n=L, axis=-1)[..., :T].astype(w.dtype)


def _cosine_matrix(T: int, n: int, dtype) -> jax.Array:
    """``C[tau, k] = c_tau cos(2 pi k tau / n)``, ``c_0 = 1``, ``c_tau = 2`` (float64 then cast)."""
    tau = np.arange(T)[:, None]
    k = np.arange(n // 2 + 1)[None, :]
    c = np.where(tau == 0, 1.0, 2.0) * np.cos(2.0 * np.pi * ((k * tau) % n) / n)
    return jnp.asarray(c, dtype=dtype)


def _lags_to_frequencies(r: jax.Array, n: int) -> jax.Array:
    """DFT of the ``n``-periodised symmetric sequence with lags ``r[0..T-1]``: ``(..., n//2+1)``."""
    T = r.shape[-1]
    if T <= _MATMUL_MAX_LAGS:
        return jnp.matmul(r, _cosine_matrix(T, n, r.dtype), precision=jax.lax.Precision.HIGHEST)
    seq = jnp.zeros((*r.shape[:-1], n), r.dtype)
    seq = seq.at[..., :T].add(r)
    if T > 1:
        # s[n - tau] += r(tau), tau = 1..T-1 (wraps onto itself when 2T - 1 > n)
        seq = seq.at[..., n - T + 1 :].add(r[..., :0:-1])
    return jnp.fft.rfft(seq, axis=-1).real.astype(r.dtype)


@partial(jax.jit, static_argnames=("n", "method"))
def _littlewood_paley(w: jax.Array, n: int, method: str) -> jax.Array:
    if method == "fft":
        W = jnp.fft.rfft(w, n=n, axis=-1)
        lp = jnp.sum(W.real**2 + W.imag**2, axis=-2).astype(w.dtype)
    else:
        lp = _lags_to_frequencies(_summed_autocorrelation(w), n)
        # exact LP is >= 0; rounding in the lag path can dip a hair below zero
        lp = jnp.maximum(lp, 0)
    return lp


def _resolve(w, n, method):
    w, J, T = v.filterbank("w", w)
    n = v.signal_length("n", n, T)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if method == "auto":
        method = _choose_method(J, T, n)
    return w, n, method


def filter_autocorrelation(w: jax.Array) -> jax.Array:
    r"""Summed linear autocorrelation of the filters, :math:`r_w(\tau)`, ``tau = 0..T-1``.

    .. math:: r_w(\tau) = \sum_{j=1}^{J}\sum_{t=0}^{T-1-\tau} w_j[t]\,w_j[t+\tau]

    (``r_w(-tau) = r_w(tau)``). Computed with ``J`` real FFTs of size ``>= 2T - 1``.

    Args:
        w: ``(..., J, T)`` filterbank.

    Returns:
        ``(..., T)`` array.

    Examples:
        >>> import jax.numpy as jnp, jaxfb
        >>> jaxfb.filter_autocorrelation(jnp.array([[1.0, 2.0, 3.0]]))
        Array([14.,  8.,  3.], dtype=float32)
    """
    w, _, _ = v.filterbank("w", w)
    return _jit_autocorr(w)


_jit_autocorr = jax.jit(_summed_autocorrelation)


def littlewood_paley(w: jax.Array, n: int, *, method: str = "auto") -> jax.Array:
    r"""Littlewood-Paley sum :math:`LP(k) = \sum_j |\hat w_j(k)|^2` on the ``n``-point DFT grid.

    Real filters give a symmetric sum, so only ``k = 0 .. n//2`` is returned. The energy of any
    signal obeys :math:`\|\Phi x\|^2 = \frac1n \sum_{k=0}^{n-1} LP(k) |\hat x(k)|^2`
    (Haider et al. 2024, Eq. (2)).

    Args:
        w: ``(..., J, T)`` filterbank (leading dimensions are batch dimensions).
        n: DFT size ``N >= T``, static Python int (the signal length).
        method: ``"fft"`` (``J`` real FFTs of size ``n``), ``"autocorr"`` (through the summed
            autocorrelation: ``J`` FFTs of size ``>= 2T - 1`` plus one lag-to-frequency
            transform), or ``"auto"`` (default: the cheaper of the two for ``(J, T, n)``).
            Both are exact up to rounding.

    Returns:
        ``(..., n//2 + 1)`` array, ``LP(0) .. LP(n//2)``, non-negative.

    Examples:
        >>> import jax, jaxfb
        >>> w = jaxfb.random_filterbank(jax.random.key(0), 40, 64)
        >>> jaxfb.littlewood_paley(w, 1024).shape
        (513,)
    """
    w, n, method = _resolve(w, n, method)
    return _littlewood_paley(w, n, method)


class FrameBounds(NamedTuple):
    """Optimal frame bounds ``A <= ||Phi x||^2 / ||x||^2 <= B`` of a filterbank."""

    lower: jax.Array
    """``A = min_k LP(k)``, shape ``(...)``."""
    upper: jax.Array
    """``B = max_k LP(k)``, shape ``(...)``."""


@partial(jax.jit, static_argnames=("n", "method"))
def _frame_bounds(w, n, method):
    lp = _littlewood_paley(w, n, method)
    return FrameBounds(jnp.min(lp, axis=-1), jnp.max(lp, axis=-1))


@partial(jax.jit, static_argnames=("n", "stride"))
def _strided_frame_bounds(w, n, stride):
    return FrameBounds(*aliasing_extremes(w, n, stride))


def frame_bounds(w: jax.Array, n: int, *, method: str = "auto", stride: int = 1) -> FrameBounds:
    r"""Optimal frame bounds of the filterbank ``w`` on signals of length ``n``.

    .. math:: A = \min_k LP(k), \qquad B = \max_k LP(k), \qquad
              A\|x\|^2 \le \|\Phi x\|^2 \le B\|x\|^2

    With ``stride = d > 1`` the outputs are decimated, :math:`(\Phi_d x)_j[m] =
    (x \circledast w_j)[md]`, ``m = 0 .. n/d - 1``, and the bounds are the extreme eigenvalues
    of the ``d x d`` aliasing matrices :math:`M_k` of :func:`aliasing_matrices`,

    .. math:: A = \min_k \lambda_{\min}(M_k), \qquad B = \max_k \lambda_{\max}(M_k)

    (one FFT of size ``n`` per filter and ``n/(2d) + 1`` Hermitian eigenproblems of size ``d``).
    With fewer filters, or taps, than the stride (``min(J, T) < d``) no frame exists: ``A = 0``
    exactly. For the paper's init :math:`\mathbb E\|\Phi_d x\|^2 = \|x\|^2/d`, so strided
    bounds are about ``1/d``. See ``docs/theory.md`` (strided filterbanks).

    Args:
        w: ``(..., J, T)`` real filterbank.
        n: signal length ``N >= T``, static Python int.
        method: how the Littlewood-Paley sum is computed, see :func:`littlewood_paley`
            (stride 1 only).
        stride: decimation factor ``d >= 1`` dividing ``n``, static Python int (default 1).

    Returns:
        ``FrameBounds(lower, upper)``, each of shape ``(...)``.

    Examples:
        >>> import jax, jaxfb
        >>> w = jaxfb.random_filterbank(jax.random.key(0), 40, 1024, batch_shape=(4,))
        >>> A, B = jaxfb.frame_bounds(w, 1024)
        >>> bool((0 < A).all() and (A < B).all())
        True
        >>> A4, B4 = jaxfb.frame_bounds(w[:, :, :64], 1024, stride=4)  # about 1/4 of the above
        >>> A4.shape, bool((0 < A4).all() and (A4 < B4).all())
        ((4,), True)
    """
    w, n, method = _resolve(w, n, method)
    stride = v.stride("stride", stride, n)
    if stride > 1:
        return _strided_frame_bounds(w, n, stride)
    return _frame_bounds(w, n, method)


def _safe_ratio(upper, lower):
    positive = lower > 0
    return jnp.where(positive, upper / jnp.where(positive, lower, 1), jnp.inf)


@partial(jax.jit, static_argnames=("n", "method"))
def _condition_number(w, n, method):
    A, B = _frame_bounds(w, n, method)
    return _safe_ratio(B, A)


@partial(jax.jit, static_argnames=("n", "stride"))
def _strided_condition_number(w, n, stride):
    A, B = aliasing_extremes(w, n, stride)
    return _safe_ratio(B, A)


def condition_number(w: jax.Array, n: int, *, method: str = "auto", stride: int = 1) -> jax.Array:
    r"""Condition number :math:`\kappa = B / A` of the filterbank ``w`` (``+inf`` if ``A = 0``).

    Args:
        w: ``(..., J, T)`` filterbank.
        n: signal length ``N >= T``, static Python int.
        method: see :func:`littlewood_paley` (stride 1 only).
        stride: decimation factor ``d >= 1`` dividing ``n``, static Python int (default 1);
            see :func:`frame_bounds`.

    Returns:
        ``(...)`` array of condition numbers ``>= 1`` (never NaN).

    Examples:
        >>> import jax.numpy as jnp, jaxfb
        >>> float(jaxfb.condition_number(jnp.array([[1.0, 0.0]]), 8))  # a Dirac is tight
        1.0
        >>> float(jaxfb.condition_number(jnp.ones((1, 4)), 8, stride=2))  # 1 filter, stride 2
        inf
    """
    w, n, method = _resolve(w, n, method)
    stride = v.stride("stride", stride, n)
    if stride > 1:
        return _strided_condition_number(w, n, stride)
    return _condition_number(w, n, method)
