r"""Frame bounds of multichannel, strided and dilated 1-D convolution layers.

A layer with weights ``w`` of shape ``(C_out, C_in, T)`` (PyTorch's and Equinox's ``Conv1d``
layout), stride ``d`` and dilation ``q`` acts on ``C_in`` circular signals of length ``n``,

.. math:: y_j[m] = \sum_{c=0}^{C_{in}-1}\sum_{t=0}^{T-1} w[j, c, t]\, x_c[(md - tq) \bmod n],
          \qquad m = 0, \dots, n/d - 1,

and its optimal frame bounds are the extreme eigenvalues of :math:`S = \Phi^\top\Phi` on
:math:`\mathbb R^{C_{in} \times n}` (no renormalisation by the stride). With
:math:`h_{j,c}` the dilated filter (``w[j, c, t]`` at sample ``tq``), :math:`L = n/d` and
:math:`f_a = k + aL`, Parseval gives :math:`S \cong \bigoplus_{k=0}^{L-1} M_k` with the
``d C_in x d C_in`` polyphase blocks

.. math:: M_k[(a, c), (b, c')] = \frac1d \sum_{j} \overline{\hat h_{j,c}(f_a)}\,\hat h_{j,c'}(f_b)

(``C_in x C_in`` per frequency at stride 1). They are computed directly, as
:math:`M_k = V_k^H V_k / d` with :math:`V_k[j, (a, c)] = \hat h_{j,c}(f_a)` (``C_out x d C_in``):
the ``C_out C_in`` filter spectra at the ``n/2 + 1`` frequencies :math:`f_a` the blocks need
(a cosine/sine matrix product for short filters, else one real FFT per filter), then three real
batched matrix products over ``k = 0 .. n/(2d)`` (real filters: :math:`M_{L-k}` has the spectrum
of :math:`M_k`). Their eigenvalues (singular values beyond ``8 x 8``: no eigenvectors) give
:math:`A = \min_k \lambda_{\min}(M_k)` and :math:`B = \max_k \lambda_{\max}(M_k)`. Memory: the
spectra and the blocks, never the dense operator. With ``C_in = 1`` the computation is the one
of :func:`jaxfb.frame_bounds` on the dilated filters. The layer is also a single-channel
filterbank on the interleaved signal :math:`x'[sC + c] = x_c[s]` (stride ``dC``, filters
:func:`equivalent_filters`), whose blocks are unitarily equivalent to the :math:`M_k`.
See ``docs/conv.md``.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from . import _validation as v
from ._frames import FrameBounds, _choose_method, _littlewood_paley, _safe_ratio
from ._strided import _blocks, block_extremes

__all__ = ["LAYOUTS", "conv_condition_number", "conv_frame_bounds", "conv_kernel"]

LAYOUTS = {
    "torch": "(C_out, C_in, T)",
    "equinox": "(C_out, C_in, T)",
    "flax": "(T, C_in, C_out)",
    "keras": "(T, C_in, C_out)",
}
"""Kernel layouts accepted by :func:`conv_kernel`: name -> order of the last three axes."""


def resolve_conv(w, n, stride, dilation) -> tuple[jax.Array, int, int, int]:
    """Validate conv weights ``(..., C_out, C_in, T)`` and the static ``n``, stride, dilation."""
    w = v.float_array("w", w)
    v.check_rank("w", w, 3, "(..., C_out, C_in, T)")
    if min(w.shape[-3:]) < 1:
        raise ValueError(
            f"w must have C_out, C_in, T >= 1 in its last three axes (..., C_out, C_in, T), "
            f"got shape {w.shape}"
        )
    v.check_finite("w", w)
    dilation = v.static_int("dilation", dilation, minimum=1)
    n = v.static_int("n", n, minimum=1)
    T = w.shape[-1]
    span = (T - 1) * dilation + 1
    if span > n:
        raise ValueError(
            f"the effective filter length (T - 1) * dilation + 1 = ({T} - 1) * {dilation} + 1 = "
            f"{span} exceeds n={n}: pass a signal length n >= {span}, or a smaller dilation"
        )
    stride = v.stride("stride", stride, n)
    return w, n, stride, dilation


def equivalent_filters(w: jax.Array, dilation: int) -> jax.Array:
    """``(..., C_out, C_in, T) -> (..., C_out, ((T - 1) q + 1) C_in)``: dilate, interleave.

    The single-channel filters ``w'_j[s C + C - 1 - c] = h_{j,c}[s]`` of the layer on the
    interleaved signal (see the module docstring); for ``C_in = 1`` and ``q = 1`` this is ``w``.
    """
    *batch, J, C, T = w.shape
    if dilation > 1:  # zero-insert: w[t] at sample t q (pad + reshape, no scatter)
        pad = [(0, 0)] * (w.ndim) + [(0, dilation - 1)]
        w = jnp.pad(w[..., None], pad).reshape((*batch, J, C, T * dilation))
        w = w[..., : (T - 1) * dilation + 1]
    span = w.shape[-1]
    u = jnp.swapaxes(jnp.flip(w, axis=-2), -1, -2)  # (..., J, span, C), channel C - 1 - c
    return u.reshape((*batch, J, span * C))


def conv_blocks(w: jax.Array, n: int, stride: int, dilation: int) -> jax.Array:
    """``(..., C_out, C_in, T) -> (..., n/d//2 + 1, d C_in, d C_in)`` Hermitian blocks.

    ``M_k[(a, c), (b, c')]`` at ``[..., k, a C + c, b C + c']`` (traceable, not validated).
    """
    return _blocks(w, n, stride, dilation)


def conv_extremes(w: jax.Array, n: int, stride: int, dilation: int):
    """``(A, B)``, each ``(...)``, of a validated layer: traceable, not jitted."""
    J, C, T = w.shape[-3:]
    if C == 1 and stride == 1:  # 1 x 1 blocks: the Littlewood-Paley sum, no eigenproblem
        u = equivalent_filters(w, dilation)
        lp = _littlewood_paley(u, n, _choose_method(u.shape[-2], u.shape[-1], n))
        return jnp.min(lp, axis=-1), jnp.max(lp, axis=-1)
    # rank <= C_out; with a span (T - 1) q + 1 < d some input samples reach no output
    singular = min(J, ((T - 1) * dilation + 1) * C) < stride * C
    return block_extremes(conv_blocks(w, n, stride, dilation), singular)


@partial(jax.jit, static_argnames=("n", "stride", "dilation"))
def _conv_frame_bounds(w, n, stride, dilation):
    return FrameBounds(*conv_extremes(w, n, stride, dilation))


@partial(jax.jit, static_argnames=("n", "stride", "dilation"))
def _conv_condition_number(w, n, stride, dilation):
    A, B = conv_extremes(w, n, stride, dilation)
    return _safe_ratio(B, A)


def conv_frame_bounds(w: jax.Array, n: int, *, stride: int = 1, dilation: int = 1) -> FrameBounds:
    r"""Optimal frame bounds of a 1-D convolution layer on circular signals of length ``n``.

    .. math:: A\|x\|^2 \le \sum_j \|y_j\|^2 \le B\|x\|^2, \qquad
              y_j[m] = \sum_{c}\sum_{t} w[j, c, t]\, x_c[(md - tq) \bmod n]

    for every ``x`` in :math:`\mathbb R^{C_{in} \times n}`, with stride ``d`` and dilation ``q``;
    no renormalisation by the stride (the paper's init gives bounds about ``1/d``). Computed from
    ``n/(2d) + 1`` Hermitian blocks of size ``d C_in`` (per-frequency ``C_in x C_in`` matrices at
    stride 1), exact up to float rounding; ``C_in = 1`` is :func:`jaxfb.frame_bounds` with
    ``stride=d`` on the dilated filters. Frameworks compute a cross-correlation
    (``x[md + tq]``); its bounds are the same (a time reversal of the filters and a circular shift
    of the input), so weights go in as they are (see :func:`conv_kernel` for other layouts).
    With fewer output channels, or taps, than ``d C_in`` no frame exists: ``A = 0`` exactly.
    See ``docs/conv.md``.

    Args:
        w: ``(..., C_out, C_in, T)`` real weights (leading dimensions are batch dimensions).
        n: signal length, static Python int, ``>= (T - 1) * dilation + 1``.
        stride: ``d >= 1`` dividing ``n``, static Python int.
        dilation: ``q >= 1``, static Python int.

    Returns:
        ``FrameBounds(lower, upper)``, each of shape ``(...)``.

    Examples:
        >>> import jax, jaxfb
        >>> w = jaxfb.random_filterbank(jax.random.key(0), 64, 8, in_channels=16)
        >>> A, B = jaxfb.conv_frame_bounds(w, 256, stride=2)  # 64 outputs >= d C_in = 32
        >>> bool(0 < A < B)
        True
        >>> float(jaxfb.conv_frame_bounds(w, 256, stride=8).lower)  # 64 < d C_in = 128
        0.0
    """
    w, n, stride, dilation = resolve_conv(w, n, stride, dilation)
    return _conv_frame_bounds(w, n, stride, dilation)


def conv_condition_number(w: jax.Array, n: int, *, stride: int = 1, dilation: int = 1) -> jax.Array:
    r"""Condition number :math:`\kappa = B / A` of a 1-D convolution layer (``+inf`` if ``A = 0``).

    Args:
        w: ``(..., C_out, C_in, T)`` real weights.
        n: signal length, static Python int, ``>= (T - 1) * dilation + 1``.
        stride: ``d >= 1`` dividing ``n``, static Python int.
        dilation: ``q >= 1``, static Python int.

    Returns:
        ``(...)`` array of condition numbers ``>= 1`` (never NaN); see :func:`conv_frame_bounds`.

    Examples:
        >>> import jax.numpy as jnp, jaxfb
        >>> w = jnp.zeros((2, 2, 3)).at[0, 0, 0].set(1.0).at[1, 1, 0].set(1.0)
        >>> round(float(jaxfb.conv_condition_number(w, 8)), 5)  # identity on two channels
        1.0
        >>> float(jaxfb.conv_condition_number(w, 8, stride=2))  # 2 outputs, d C_in = 4
        inf
    """
    w, n, stride, dilation = resolve_conv(w, n, stride, dilation)
    return _conv_condition_number(w, n, stride, dilation)


def conv_kernel(kernel, layout: str) -> jax.Array:
    r"""A 1-D conv kernel from a framework's layout, as ``(..., C_out, C_in, T)`` for jaxfb.

    ``layout`` names the order of the last three axes (leading axes are kept as batch axes):

    ========================  ======================
    ``"torch"``, ``"equinox"``  ``(C_out, C_in, T)``
    ``"flax"``, ``"keras"``     ``(T, C_in, C_out)``
    ========================  ======================

    (PyTorch ``Conv1d.weight``, Equinox ``nn.Conv1d.weight``, Flax linen/nnx ``Conv`` kernel,
    Keras ``Conv1D`` kernel.) Pass plain arrays (``tensor.detach().numpy()``,
    ``np.asarray(params["kernel"])``): no framework is imported. Grouped convolutions are not
    converted.

    Args:
        kernel: array-like with at least 3 dimensions.
        layout: one of ``"torch"``, ``"equinox"``, ``"flax"``, ``"keras"``.

    Returns:
        ``(..., C_out, C_in, T)`` float array.

    Examples:
        >>> import numpy as np, jaxfb
        >>> jaxfb.conv_kernel(np.zeros((5, 16, 32)), "flax").shape  # (T, C_in, C_out)
        (32, 16, 5)
    """
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ValueError(
            f"layout must be one of {sorted(LAYOUTS)} (the framework the kernel comes from), "
            f"got {layout!r}"
        )
    k = v.float_array("kernel", kernel)
    v.check_rank("kernel", k, 3, LAYOUTS[layout])
    if LAYOUTS[layout].startswith("(T"):
        k = jnp.swapaxes(k, -1, -3)
    return k
