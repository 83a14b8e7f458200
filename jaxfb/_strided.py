r"""Frame bounds of decimated (strided) filterbanks, and the moments of their aliasing terms.

With stride ``d`` dividing ``n`` (``L = n / d`` outputs per filter), the analysis operator is
:math:`(\Phi_d x)_j[m] = (x \circledast w_j)[m d]`, ``m = 0 .. L-1``. Its frame operator
:math:`S = \Phi_d^\top \Phi_d` is not diagonalised by the DFT any more (decimation aliases the
``d`` frequencies ``k, k + L, ..., k + (d-1) L`` onto one), but it is block-diagonalised: with
:math:`f_a = k + aL`, Parseval on both sides gives

.. math:: \frac{\|\Phi_d x\|^2}{\|x\|^2}
          = \frac{\sum_{k=0}^{L-1} v_k^H M_k v_k}{\sum_{k=0}^{L-1} v_k^H v_k},\qquad
          v_k[a] = \hat x(f_a),\qquad
          M_k[a, b] = \frac1d \sum_{j=1}^{J} \overline{\hat w_j(f_a)}\,\hat w_j(f_b),

so the optimal bounds are :math:`A = \min_k \lambda_{\min}(M_k)` and
:math:`B = \max_k \lambda_{\max}(M_k)` (the uniform-filterbank bounds of LTFAT's
``filterbankbounds``). The diagonal of :math:`M_k` is :math:`LP(f_a)/d`; the off-diagonal entries
are the *aliasing terms*. For stride 1, :math:`M_k = LP(k)` and the bounds are the stride-1 ones.
Real filters give :math:`M_{L-k}[a, b] = M_k[d-1-b, d-1-a]` (same spectrum), so only
``k = 0 .. L//2`` is needed.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _validation as v

__all__ = ["AliasingMoments", "aliasing_matrices", "aliasing_moments"]


def _resolve(w, n, stride):
    w, _, T = v.filterbank("w", w)
    n = v.signal_length("n", n, T)
    return w, n, v.stride("stride", stride, n)


def _use_dft(C: int, T: int, n: int) -> bool:
    """Direct DFT (a ``T x n/2`` cosine/sine matrix product) rather than a real FFT of size ``n``.

    Measured on CPU (``docs/performance.md``, conv section): with one input channel the FFT is
    as fast at ``T = 8`` and faster beyond; with several, gathering the FFT's output into the
    ``(k, j, (a, c))`` layout costs more than ``2 T`` multiply-adds per value up to about
    ``T = 4 log2 n``. Integer phases ``t q f mod n`` stay exact in int32 for ``n <= 2**15``.
    """
    return C > 1 and n <= 2**15 and T <= 4 * max(1, n.bit_length() - 1)


def _polyphase_spectra(w: jax.Array, n: int, stride: int, dilation: int):
    r"""``(..., J, C, T) -> (re, im)``, each ``(..., L//2 + 1, J, d C)`` real.

    ``re + i im`` at ``[..., k, j, a C + c]`` is :math:`\hat h_{j,c}(k + aL)`, the ``n``-point DFT
    of the filter ``w[..., j, c, :]`` dilated by ``q`` (tap ``t`` at sample ``t q``), for the
    ``L//2 + 1`` frequencies ``k`` that the blocks need and the ``d`` aliases ``a``.
    """
    d, L = stride, n // stride
    K = L // 2 + 1
    *batch, J, C, T = w.shape
    if _use_dft(C, T, n):
        # phases (t q mod n)(k + a L) mod n, exact integers: one real product per part
        t = (jnp.arange(T, dtype=jnp.int32) * dilation) % n
        f = jnp.arange(K, dtype=jnp.int32)[:, None] + L * jnp.arange(d, dtype=jnp.int32)[None]
        ang = ((t[:, None, None] * f[None]) % n).astype(w.dtype) * (2 * np.pi / n)  # (T, K, d)
        hi = jax.lax.Precision.HIGHEST
        re = jnp.einsum("...jct,tka->...kjac", w, jnp.cos(ang), precision=hi)
        im = jnp.einsum("...jct,tka->...kjac", w, -jnp.sin(ang), precision=hi)
    else:
        if dilation > 1:  # zero-insert: w[t] at sample t q (pad + reshape, no scatter)
            h = jnp.pad(w[..., None], [(0, 0)] * w.ndim + [(0, dilation - 1)])
            w = h.reshape((*batch, J, C, T * dilation))[..., : (T - 1) * dilation + 1]
        f = np.arange(K)[:, None] + L * np.arange(d)[None]  # (K, d); real filters: w(n - f) = conj
        W = jnp.fft.rfft(w, n=n, axis=-1)[..., np.minimum(f, n - f)]  # (..., J, C, K, d)
        W = jnp.moveaxis(W, (-2, -1), (-4, -2))  # (..., K, J, d, C)
        conj = jnp.asarray(f > n // 2).reshape((1,) * len(batch) + (K, 1, d, 1))
        re, im = W.real, jnp.where(conj, -W.imag, W.imag)
    shape = (*batch, K, J, d * C)
    return re.reshape(shape), im.reshape(shape)


def _blocks(w: jax.Array, n: int, stride: int, dilation: int) -> jax.Array:
    r"""``(..., J, C, T) -> (..., L//2 + 1, d C, d C)``: the blocks :math:`V_k^H V_k / d`.

    Three real batched matrix products (``dot_general`` with the frequency as batch dimension)
    instead of one complex one: :math:`\operatorname{Re} = a^\top a + b^\top b`,
    :math:`\operatorname{Im} = a^\top b - (a^\top b)^\top` for :math:`V = a + ib`.
    """
    re, im = _polyphase_spectra(w, n, stride, dilation)
    gram = partial(jnp.einsum, "...jx,...jy->...xy", precision=jax.lax.Precision.HIGHEST)
    cross = gram(re, im)
    M = jax.lax.complex(gram(re, re) + gram(im, im), cross - jnp.swapaxes(cross, -1, -2))
    return M / jnp.asarray(stride, w.dtype)


def block_extremes(M: jax.Array, singular: bool) -> tuple[jax.Array, jax.Array]:
    """``(min_k lambda_min(M_k), max_k lambda_max(M_k))`` of PSD blocks ``(..., K, D, D)``.

    The eigenvalues of a Hermitian positive semi-definite matrix are its singular values. On CPU
    ``jnp.linalg.eigvalsh`` always computes the eigenvectors too; beyond ``D = 8`` the singular
    values (``svd(compute_uv=False)``, no vectors) are faster, by about 20 times at ``D = 24``
    under load, and below it ``eigvalsh`` is (``docs/performance.md``, conv section).
    ``singular``: every block has rank ``< D``, the lower bound is exactly 0.
    """
    if M.shape[-1] <= 8:
        lam = jnp.linalg.eigvalsh(M)  # (..., K, D), ascending; reads the lower triangle
        lo, hi = jnp.maximum(jnp.min(lam[..., 0], axis=-1), 0), jnp.max(lam[..., -1], axis=-1)
    else:
        s = jnp.linalg.svd(M, compute_uv=False)  # (..., K, D), descending
        lo, hi = jnp.min(s[..., -1], axis=-1), jnp.max(s[..., 0], axis=-1)
    return (jnp.zeros_like(hi) if singular else lo), hi


def _aliasing_matrices(w: jax.Array, n: int, stride: int) -> jax.Array:
    """``(..., J, T) -> (..., L//2 + 1, d, d)`` complex Hermitian blocks ``M_k``."""
    return _blocks(w[..., None, :], n, stride, 1)


def aliasing_extremes(w: jax.Array, n: int, stride: int) -> tuple[jax.Array, jax.Array]:
    """``(min_k lambda_min(M_k), max_k lambda_max(M_k))``, each ``(...)``: traceable, not jitted.

    The optimal frame bounds of the strided filterbank (:func:`jaxfb.frame_bounds` with
    ``stride=``, which wraps them in a ``FrameBounds``). With fewer filters, or taps, than the
    stride (``min(J, T) < d``: every block has rank ``<= min(J, T)``) the lower bound is exactly 0.
    """
    J, T = w.shape[-2:]
    # T < d: some input samples never reach an output
    return block_extremes(_aliasing_matrices(w, n, stride), min(J, T) < stride)


def aliasing_matrices(w: jax.Array, n: int, stride: int) -> jax.Array:
    r"""The ``d x d`` blocks :math:`M_k` of the frame operator of a strided filterbank.

    .. math:: M_k[a, b] = \frac1d \sum_{j=1}^{J} \overline{\hat w_j(k + aL)}\,\hat w_j(k + bL),
              \qquad L = n/d,\quad k = 0, \dots, L//2,

    with :math:`\hat w_j` the ``n``-point DFT of the zero-padded filter. The frame operator of
    :math:`(\Phi_d x)_j[m] = (x \circledast w_j)[md]` is unitarily equivalent to
    :math:`\bigoplus_{k=0}^{L-1} M_k`; for real filters the blocks ``k > L//2`` add nothing new,
    :math:`M_{L-k}[a, b] = M_k[d-1-b, d-1-a]` (same spectrum).
    The diagonal holds :math:`LP(k + aL)/d`, the off-diagonal entries are the aliasing terms.

    Args:
        w: ``(..., J, T)`` real filterbank.
        n: signal length ``N >= T``, static Python int.
        stride: decimation factor ``d >= 1`` dividing ``n``, static Python int.

    Returns:
        ``(..., n // stride // 2 + 1, stride, stride)`` complex Hermitian positive semi-definite.

    Examples:
        >>> import jax, jaxfb
        >>> w = jaxfb.random_filterbank(jax.random.key(0), 40, 64)
        >>> jaxfb.aliasing_matrices(w, 1024, 4).shape
        (129, 4, 4)
    """
    w, n, stride = _resolve(w, n, stride)
    return _jit_aliasing_matrices(w, n, stride)


_jit_aliasing_matrices = jax.jit(_aliasing_matrices, static_argnames=("n", "stride"))


class AliasingMoments(NamedTuple):
    """Entrywise moments of the aliasing matrices :math:`M_k` under i.i.d. random weights.

    Shape ``(L//2 + 1, d C, d C)`` (``(L//2 + 1, d, d)`` for one input channel), indexed like the
    blocks: ``[k, a C + c, b C + c']`` is the entry :math:`M_k[(a, c), (b, c')]`.
    """

    mean: np.ndarray
    r"""``E[M_k[a, b]]``, complex."""
    variance: np.ndarray
    r"""``E|M_k[a, b] - mean|^2``, real."""
    pseudo_variance: np.ndarray
    r"""``E[(M_k[a, b] - mean)^2]``, complex; with ``variance`` it gives
    ``Var Re = (variance + Re pseudo) / 2`` and ``Var Im = (variance - Re pseudo) / 2``."""


def _dirichlet(m: np.ndarray, T: int, n: int) -> np.ndarray:
    """``D_T(m) = sum_{t<T} exp(-2 pi i m t / n)`` for integer frequencies ``m`` (exact)."""
    t = np.arange(T)
    return np.exp(-2j * np.pi * ((m[..., None] * t) % n) / n).sum(axis=-1)


def aliasing_moments(
    num_filters: int,
    length: int,
    n: int,
    stride: int,
    *,
    variance: float | None = None,
    excess_kurtosis: float = 0.0,
    in_channels: int = 1,
) -> AliasingMoments:
    r"""Closed-form mean, variance and pseudo-variance of the entries of the aliasing matrices.

    For i.i.d. zero-mean weights :math:`w_j[t]` of variance :math:`\sigma^2` and excess kurtosis
    :math:`g_2` (``J`` filters of length ``T``), with :math:`f_a = k + aL`, :math:`L = n/d` and
    :math:`D_T(m) = \sum_{t=0}^{T-1} e^{-2\pi i m t/n}`, Isserlis' theorem (plus the fourth
    cumulant :math:`g_2\sigma^4`) gives, for every entry including the diagonal,

    .. math::
        \mathbb E\,M_k[a,b] &= \frac{J\sigma^2}{d}\,D_T(f_b - f_a), \\
        \mathbb E\,|M_k[a,b] - \mathbb E M_k[a,b]|^2
            &= \frac{J\sigma^4}{d^2}\left(T^2 + |D_T(f_a + f_b)|^2 + g_2 T\right), \\
        \mathbb E\,(M_k[a,b] - \mathbb E M_k[a,b])^2
            &= \frac{J\sigma^4}{d^2}\left(D_T(f_b - f_a)^2 + D_T(-2f_a)\,D_T(2f_b)
               + g_2 D_T(2(f_b - f_a))\right).

    Since :math:`f_b - f_a = (b - a)L`, :math:`D_T(f_b - f_a) = \sum_{t<T} e^{-2\pi i(b-a)t/d}`,
    independent of ``k``: an aliasing term (``a != b``) has mean zero exactly when
    ``d / gcd(d, b - a)`` divides ``T``, so all of them do exactly when ``d`` divides ``T``;
    otherwise the mean is of size :math:`J\sigma^2/d` (``1/(dT)`` for the paper's init).
    With the paper's :math:`\sigma^2 = 1/(JT)` every entry has variance
    :math:`(1 + |D_T(f_a+f_b)|^2/T^2)/(J d^2)`, between ``1/(J d^2)`` and ``2/(J d^2)``, and close
    to ``1/(J d^2)`` unless :math:`f_a + f_b` is within about ``n/T`` of a multiple of ``n``;
    compare the diagonal's mean ``1/d``. (For ``d = 1`` and ``T = n`` this is
    ``Var LP(k) = 1/J`` at interior frequencies and ``2/J`` at ``k = 0, n/2``.)

    **Conv layers** (``in_channels = C``, weights ``w[j, c, t]`` i.i.d., ``J = C_out``): the block
    :math:`M_k[(a,c),(b,c')] = \frac1d\sum_j \overline{A_j} B_j` with
    :math:`A_j = \hat w_{j,c}(f_a)`, :math:`B_j = \hat w_{j,c'}(f_b)`
    (:func:`jaxfb.conv_frame_bounds`).
    A same-channel entry (``c = c'``) is the single-channel entry above (the filters
    ``w[:, c, :]`` form a filterbank). A cross-channel entry (``c != c'``) is a sum over ``j`` of
    products of two independent zero-mean variables, so its mean is 0 and of Isserlis' three
    pairings only the one inside each factor survives, with no fourth cumulant:
    :math:`\mathbb E|M|^2 = \frac{J}{d^2}\mathbb E|A|^2\,\mathbb E|B|^2` and
    :math:`\mathbb E M^2 = \frac{J}{d^2}\mathbb E\overline A^2\,\mathbb E B^2`, that is

    .. math::
        \mathbb E\,|M_k[(a,c),(b,c')]|^2 = \frac{J\sigma^4}{d^2}\,T^2, \qquad
        \mathbb E\,M_k[(a,c),(b,c')]^2 = \frac{J\sigma^4}{d^2}\,D_T(-2f_a)\,D_T(2f_b)
        \qquad (c \ne c'):

    the terms :math:`|D_T(f_a+f_b)|^2`, :math:`D_T(f_b-f_a)^2` (pairings of :math:`A` with
    :math:`B`) and the :math:`g_2` terms drop out. See ``docs/conv.md``, "Aliasing moments".

    Args:
        num_filters: ``J >= 1`` (output channels), static Python int.
        length: ``T >= 1``, static Python int.
        n: signal length ``N >= T``.
        stride: ``d >= 1`` dividing ``n``.
        variance: per-weight variance :math:`\sigma^2`; default the paper's ``1/(J T)`` (also
            for conv layers: ``jaxfb.random_filterbank``'s default for any ``in_channels``).
        excess_kurtosis: :math:`g_2` of one weight (0 Gaussian, ``-6/5`` uniform, ``-2``
            Rademacher; ``jaxfb.INITS[init].excess_kurtosis``).
        in_channels: ``C >= 1``, static Python int; ``1`` is the filterbank (same numbers).

    Returns:
        ``AliasingMoments(mean, variance, pseudo_variance)``, NumPy float64/complex128 arrays of
        shape ``(L//2 + 1, d C, d C)``, indexed ``[k, a C + c, b C + c']`` like
        :func:`aliasing_matrices` (``C = 1``) and the blocks of :func:`jaxfb.conv_frame_bounds`.

    Examples:
        >>> import jaxfb
        >>> m = jaxfb.aliasing_moments(40, 1024, 1024, 4)  # J d^2 Var = 1 + |D_T|^2 / T^2
        >>> bool(abs(m.mean[5, 0, 1]) < 1e-12), round(float(m.variance[5, 0, 1] * 40 * 16), 9)
        (True, 1.0)
        >>> mc = jaxfb.aliasing_moments(40, 16, 1024, 4, in_channels=3)  # [k, a C + c, b C + c']
        >>> mc.mean.shape, complex(mc.mean[5, 0, 1]), round(float(mc.variance[5, 0, 1] * 640), 9)
        ((129, 12, 12), 0j, 1.0)
    """
    J = v.static_int("num_filters", num_filters, minimum=1)
    T = v.static_int("length", length, minimum=1)
    C = v.static_int("in_channels", in_channels, minimum=1)
    n = v.signal_length("n", n, T)
    d = v.stride("stride", stride, n)
    if variance is None:
        variance = 1.0 / (J * T)
    s2 = float(variance)
    if not (np.isfinite(s2) and s2 >= 0):
        raise ValueError(f"variance must be finite and >= 0, got {variance!r}")
    g2 = float(excess_kurtosis)
    if not (np.isfinite(g2) and g2 >= -2):
        raise ValueError(f"excess_kurtosis must be finite and >= -2, got {excess_kurtosis!r}")
    L = n // d
    k = np.arange(L // 2 + 1)[:, None, None]
    a = np.arange(d)[None, :, None]
    b = np.arange(d)[None, None, :]
    fa, fb = k + a * L, k + b * L
    diff = np.broadcast_to(fb - fa, (L // 2 + 1, d, d))
    D_diff = _dirichlet(diff, T, n)
    mean = J * s2 / d * D_diff
    var = J * s2**2 / d**2 * (T**2 + np.abs(_dirichlet(fa + fb, T, n)) ** 2 + g2 * T)
    D_a = _dirichlet(np.broadcast_to(-2 * fa, diff.shape), T, n)
    D_b = _dirichlet(np.broadcast_to(2 * fb, diff.shape), T, n)
    pseudo = J * s2**2 / d**2 * (D_diff**2 + D_a * D_b + g2 * _dirichlet(2 * diff, T, n))
    if C == 1:
        return AliasingMoments(mean, var, pseudo)
    cross = (
        np.zeros_like(mean),
        np.full_like(var, J * s2**2 / d**2 * T**2),
        J * s2**2 / d**2 * D_a * D_b,
    )
    same = np.eye(C, dtype=bool)[None, None, :, None, :]  # [k, a, c, b, c']
    shape = (L // 2 + 1, d * C, d * C)
    return AliasingMoments(
        *(
            np.where(same, s[:, :, None, :, None], x[:, :, None, :, None]).reshape(shape)
            for s, x in zip((mean, var, pseudo), cross, strict=True)
        )
    )
