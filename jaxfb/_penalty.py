r"""Differentiable conditioning penalties for training filterbanks.

The condition number :math:`\kappa = \max_k LP(k) / \min_k LP(k)` is a ratio of extremes: its
gradient only sees the two worst frequencies, and it jumps when the arg-max moves. Two smooth
surrogates, both scale-free (invariant under ``w -> c w``) and batched over leading dimensions:

- :func:`smooth_condition_number`: log-sum-exp soft maximum and soft minimum of
  :math:`\log LP(k)` at a temperature :math:`\tau`, which brackets :math:`\kappa`:
  :math:`\kappa \le \kappa_\tau \le \kappa\,K^{2\tau}` with ``K = n//2 + 1`` frequencies.
- :func:`tightness_penalty`: the squared coefficient of variation of :math:`LP` over the DFT
  grid, :math:`\operatorname{Var}(LP)/\operatorname{mean}(LP)^2`, zero exactly for tight frames.
  By Parseval it is a sum over filter autocorrelation lags, no frequency grid needed.

Everything is computed after rescaling ``w`` by ``1 / max|w|`` (a constant for the gradient, which
is exact for a scale-free function), so tiny or huge weights neither underflow nor overflow in
float32.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import _validation as v
from ._conv import conv_blocks, equivalent_filters, resolve_conv
from ._frames import _choose_method, _littlewood_paley, _resolve, _summed_autocorrelation

__all__ = [
    "conv_smooth_condition_number",
    "conv_tightness_penalty",
    "smooth_condition_number",
    "tightness_penalty",
]


def _check_nonzero_filterbank(w: jax.Array, core: int = 2) -> None:
    """Raise on an all-zero filterbank (last ``core`` axes: 2 for a filterbank, 3 for a layer)."""
    if v.is_concrete(w) and w.size:
        axes = tuple(range(-core, 0))
        zero = ~np.any(np.asarray(w) != 0, axis=axes)  # NumPy: never staged into a trace
        if np.any(zero):
            idx = tuple(int(i) for i in np.argwhere(np.atleast_1d(zero))[0])
            raise ValueError(
                f"w contains an all-zero filterbank (at batch index {idx[: zero.ndim]}); "
                "its conditioning is undefined"
            )


def _rescale(w: jax.Array, core: int = 2) -> tuple[jax.Array, jax.Array]:
    """``w / max|w|`` per filterbank (scale treated as a constant) and a nonzero mask ``(...)``.

    The filterbank is the last ``core`` axes (2: ``(J, T)``; 3: a conv layer ``(J, C_in, T)``).
    """
    axes = tuple(range(-core, 0))
    s = jax.lax.stop_gradient(jnp.max(jnp.abs(w), axis=axes, keepdims=True))
    nonzero = jnp.squeeze(s, axes) > 0
    return w / jnp.where(s > 0, s, 1), nonzero


def _check_temperature(temperature) -> None:
    if isinstance(temperature, jax.core.Tracer):
        return
    t = np.asarray(temperature)
    if t.shape != ():
        raise ValueError(f"temperature must be a scalar, got shape {t.shape}")
    if not (np.isfinite(t) and t > 0):
        raise ValueError(f"temperature must be finite and > 0, got {temperature!r}")


def _soft_ratio(ell: jax.Array, temperature, nonzero: jax.Array) -> jax.Array:
    """``exp(soft max - soft min)`` of ``log ell`` over the last axis; ``+inf`` where zero."""
    # ell is only accurate to ~eps (relative to its mean 1): values below eps^2 are noise; the
    # floor also keeps the log and its gradient finite where ell vanishes
    tiny = jnp.asarray(jnp.finfo(ell.dtype).eps ** 2, ell.dtype)
    log_ell = jnp.log(jnp.maximum(ell, tiny))
    tau = jnp.asarray(temperature, ell.dtype)
    soft_log_max = tau * jax.nn.logsumexp(log_ell / tau, axis=-1)
    soft_log_min = -tau * jax.nn.logsumexp(-log_ell / tau, axis=-1)
    return jnp.where(nonzero, jnp.exp(soft_log_max - soft_log_min), jnp.inf)


@partial(jax.jit, static_argnames=("n", "method"))
def _smooth_condition_number(w, temperature, n, method):
    u, nonzero = _rescale(w)
    mean = jnp.sum(u * u, axis=(-2, -1))  # (1/n) sum_k LP(k) over the full grid (Parseval)
    mean = jnp.where(nonzero, mean, 1)
    ell = _littlewood_paley(u, n, method) / mean[..., None]
    return _soft_ratio(ell, temperature, nonzero)


def smooth_condition_number(
    w: jax.Array, n: int, *, temperature: float = 0.05, method: str = "auto"
) -> jax.Array:
    r"""Smooth upper bound on the condition number: soft max over soft min of the LP sum.

    With :math:`\ell(k) = LP(k) / \overline{LP}` (:math:`\overline{LP} = \|w\|_F^2` is the mean of
    ``LP`` over the ``n``-point grid) and :math:`K = n//2 + 1` frequencies ``k = 0..n//2``,

    .. math:: \log \kappa_\tau = \tau \log\sum_{k} e^{\log \ell(k)/\tau}
              + \tau \log\sum_{k} e^{-\log \ell(k)/\tau}
              \quad\Big(= \log \frac{\|\ell\|_{1/\tau}}{\|\ell^{-1}\|_{1/\tau}^{-1}}\Big).

    Log-sum-exp lies between the maximum and the maximum plus :math:`\tau \log K`, so

    .. math:: \kappa \;\le\; \kappa_\tau \;\le\; \kappa\, K^{2\tau},
              \qquad \kappa_\tau \to \kappa \ (\tau \to 0).

    The temperature acts on :math:`\log LP`, so it is scale-free (``w -> c w`` changes nothing)
    and the result never overflows for reasonable ``tau``. ``LP`` values below
    :math:`\epsilon^2 \overline{LP}` (``eps`` the dtype's machine epsilon) are raised to that floor:
    the gradient stays finite where ``LP`` vanishes, and the bounds above hold whenever
    :math:`A \ge \epsilon^2 \overline{LP}`. Smaller ``tau`` tracks :math:`\kappa` more closely
    but concentrates the gradient on fewer frequencies.

    Args:
        w: ``(..., J, T)`` filterbank (leading dimensions are batch dimensions).
        n: signal length ``N >= T``, static Python int.
        temperature: :math:`\tau > 0`, a scalar (may be traced; changing it does not recompile).
        method: how ``LP`` is computed, see :func:`jaxfb.littlewood_paley`.

    Returns:
        ``(...)`` array, :math:`\kappa_\tau \ge 1`; ``+inf`` for an all-zero filterbank (which
        raises ``ValueError`` when ``w`` is concrete).

    Examples:
        >>> import jax, jaxfb
        >>> w = jaxfb.random_filterbank(jax.random.key(0), 40, 64)
        >>> k, ks = jaxfb.condition_number(w, 256), jaxfb.smooth_condition_number(w, 256)
        >>> bool(k <= ks <= k * 129 ** 0.1)
        True
        >>> g = jax.grad(lambda w: jax.numpy.log(jaxfb.smooth_condition_number(w, 256)))(w)
        >>> g.shape
        (40, 64)
    """
    w, n, method = _resolve(w, n, method)
    _check_nonzero_filterbank(w)
    _check_temperature(temperature)
    # one dtype for every temperature (Python float, NumPy or JAX scalar): no recompiles
    return _smooth_condition_number(w, jnp.asarray(temperature, w.dtype), n, method)


@partial(jax.jit, static_argnames=("n",))
def _tightness_penalty(w, n):
    T = w.shape[-1]
    u, nonzero = _rescale(w)
    r = _summed_autocorrelation(u)  # (..., T), r[0] = ||u||^2 > 0 where nonzero
    r0 = jnp.where(nonzero, r[..., 0], 1)
    if 2 * T - 1 <= n:  # lags do not overlap when periodised
        off = 2 * jnp.sum(r[..., 1:] ** 2, axis=-1)
    else:  # n-periodise the symmetric lag sequence first (lags tau and n - tau coincide)
        seq = jnp.zeros((*r.shape[:-1], n), r.dtype).at[..., :T].add(r)
        seq = seq.at[..., n - T + 1 :].add(r[..., :0:-1])
        off = jnp.sum(seq[..., 1:] ** 2, axis=-1)
    return jnp.where(nonzero, off / r0**2, jnp.inf)


def tightness_penalty(w: jax.Array, n: int) -> jax.Array:
    r"""Squared coefficient of variation of the Littlewood-Paley sum: zero iff the frame is tight.

    Over the full ``n``-point grid, with :math:`r_n` the ``n``-periodised summed autocorrelation
    of the filters (Parseval: :math:`\frac1n\sum_k LP(k)^2 = \sum_\tau r_n(\tau)^2`),

    .. math:: P(w) = \frac{\frac1n\sum_{k=0}^{n-1} (LP(k) - \overline{LP})^2}{\overline{LP}^2}
              = \frac{\sum_{\tau=1}^{n-1} r_n(\tau)^2}{r_w(0)^2},
              \qquad \overline{LP} = r_w(0) = \|w\|_F^2,

    which is :math:`2\sum_{\tau=1}^{T-1} r_w(\tau)^2 / r_w(0)^2` when ``2T - 1 <= n``. It is
    smooth (a polynomial ratio in ``w``), scale-free, needs no frequency grid, and is bounded by
    the condition number (Bhatia-Davis: :math:`\operatorname{Var} \le (B - \mu)(\mu - A)`):

    .. math:: 0 \le P(w) \le \frac{(\kappa - 1)^2}{4\kappa}.

    Args:
        w: ``(..., J, T)`` filterbank (leading dimensions are batch dimensions).
        n: signal length ``N >= T``, static Python int.

    Returns:
        ``(...)`` array, ``>= 0``; ``+inf`` for an all-zero filterbank (which raises
        ``ValueError`` when ``w`` is concrete).

    Examples:
        >>> import jax.numpy as jnp, jaxfb
        >>> float(jaxfb.tightness_penalty(jnp.array([[1.0, 0.0, 0.0]]), 8))  # a Dirac is tight
        0.0
        >>> float(jaxfb.tightness_penalty(jnp.array([[1.0, 1.0]]), 8))  # LP = 2 + 2 cos
        0.5
    """
    w, _, T = v.filterbank("w", w)
    n = v.signal_length("n", n, T)
    _check_nonzero_filterbank(w)
    return _tightness_penalty(w, n)


# --------------------------------------------------------------------------------------------
# Conv layers (..., C_out, C_in, T): the eigenvalues of the d C_in x d C_in blocks play LP's part


def _conv_mean(u: jax.Array, stride: int, nonzero: jax.Array) -> jax.Array:
    """Mean eigenvalue of the frame operator, ``tr(S) / (C_in n) = ||u||^2 / (C_in d)``."""
    mean = jnp.sum(u * u, axis=(-3, -2, -1)) / (u.shape[-2] * stride)
    return jnp.where(nonzero, mean, 1)


@partial(jax.jit, static_argnames=("n", "stride", "dilation"))
def _conv_smooth_condition_number(w, temperature, n, stride, dilation):
    u, nonzero = _rescale(w, 3)
    mean = _conv_mean(u, stride, nonzero)
    lam = jnp.linalg.eigvalsh(conv_blocks(u, n, stride, dilation)).astype(u.dtype)
    ell = lam.reshape((*lam.shape[:-2], -1)) / mean[..., None]
    return _soft_ratio(ell, temperature, nonzero)


def conv_smooth_condition_number(
    w: jax.Array, n: int, *, stride: int = 1, dilation: int = 1, temperature: float = 0.05
) -> jax.Array:
    r"""Smooth upper bound on the condition number of a 1-D conv layer (soft max / soft min).

    The conv-layer form of :func:`smooth_condition_number`: the role of ``LP(k)`` is played by the
    ``K = (n/d//2 + 1) d C_in`` eigenvalues :math:`\lambda` of the polyphase blocks of
    :func:`jaxfb.conv_frame_bounds`, normalised by their mean :math:`\operatorname{tr}S/(C_{in}n)
    = \|w\|_F^2 / (C_{in} d)`; :math:`\kappa \le \kappa_\tau \le \kappa K^{2\tau}`. Gradients
    flow through ``jnp.linalg.eigvalsh`` (well defined while the eigenvalues are distinct, which
    random weights almost surely give). With ``C_in = 1`` and stride 1 this is
    :func:`smooth_condition_number` of the dilated filters (no eigenproblem).

    Args:
        w: ``(..., C_out, C_in, T)`` real weights.
        n: signal length, static Python int, ``>= (T - 1) * dilation + 1``.
        stride: ``d >= 1`` dividing ``n``, static Python int.
        dilation: ``q >= 1``, static Python int.
        temperature: :math:`\tau > 0`, a scalar (may be traced; changing it does not recompile).

    Returns:
        ``(...)`` array, :math:`\kappa_\tau \ge 1`; ``+inf`` for all-zero weights (which raise
        ``ValueError`` when ``w`` is concrete).

    Examples:
        >>> import jax, jaxfb
        >>> w = jaxfb.random_filterbank(jax.random.key(0), 32, 8, in_channels=4)
        >>> k = jaxfb.conv_condition_number(w, 64, stride=2)
        >>> ks = jaxfb.conv_smooth_condition_number(w, 64, stride=2)
        >>> bool(k <= ks <= k * (17 * 8) ** 0.1)
        True
        >>> loss = lambda w: jax.numpy.log(jaxfb.conv_smooth_condition_number(w, 64, stride=2))
        >>> jax.grad(loss)(w).shape
        (32, 4, 8)
    """
    w, n, stride, dilation = resolve_conv(w, n, stride, dilation)
    _check_nonzero_filterbank(w, 3)
    _check_temperature(temperature)
    tau = jnp.asarray(temperature, w.dtype)
    if w.shape[-2] == 1 and stride == 1:
        u = equivalent_filters(w, dilation)
        return _smooth_condition_number(u, tau, n, _choose_method(*u.shape[-2:], n))
    return _conv_smooth_condition_number(w, tau, n, stride, dilation)


@partial(jax.jit, static_argnames=("n", "stride", "dilation"))
def _conv_tightness_penalty(w, n, stride, dilation):
    u, nonzero = _rescale(w, 3)
    mean = _conv_mean(u, stride, nonzero)
    M = conv_blocks(u, n, stride, dilation)  # (..., L//2 + 1, D, D)
    D, L = M.shape[-1], n // stride
    eye = jnp.eye(D, dtype=u.dtype).reshape((1,) * (M.ndim - 2) + (D, D))
    dev = M - mean[..., None, None, None] * eye
    fro = jnp.sum(dev.real**2 + dev.imag**2, axis=(-2, -1))  # sum of (lambda - mean)^2 per block
    # blocks k and L - k have one spectrum: count each of k = 1 .. (L-1)//2 twice
    k = np.arange(L // 2 + 1)
    weight = np.where((k == 0) | (2 * k == L), 1.0, 2.0).reshape((1,) * (fro.ndim - 1) + (-1,))
    var = jnp.sum(fro * jnp.asarray(weight, u.dtype), axis=-1) / (n * w.shape[-2])
    return jnp.where(nonzero, var / mean**2, jnp.inf)


def conv_tightness_penalty(
    w: jax.Array, n: int, *, stride: int = 1, dilation: int = 1
) -> jax.Array:
    r"""Squared coefficient of variation of the frame operator's spectrum: zero iff tight.

    The conv-layer form of :func:`tightness_penalty`: over the ``C_in n`` eigenvalues of
    :math:`S = \Phi^\top\Phi`, with mean :math:`\mu = \|w\|_F^2/(C_{in} d)`,

    .. math:: P(w) = \frac{\operatorname{Var}(\lambda)}{\mu^2}
              = \frac{\sum_{k=0}^{L-1}\|M_k - \mu I\|_F^2}{C_{in} n\,\mu^2}
              \le \frac{(\kappa - 1)^2}{4\kappa},

    from the Frobenius norms of the polyphase blocks :math:`M_k` (no eigenproblem, so the
    gradient is a polynomial ratio's). With ``C_in = 1`` and stride 1 it equals
    :func:`tightness_penalty` of the dilated filters.

    Args:
        w: ``(..., C_out, C_in, T)`` real weights.
        n: signal length, static Python int, ``>= (T - 1) * dilation + 1``.
        stride: ``d >= 1`` dividing ``n``, static Python int.
        dilation: ``q >= 1``, static Python int.

    Returns:
        ``(...)`` array, ``>= 0``; ``+inf`` for all-zero weights (which raise ``ValueError`` when
        ``w`` is concrete).

    Examples:
        >>> import jax.numpy as jnp, jaxfb
        >>> w = jnp.zeros((2, 2, 3)).at[0, 0, 0].set(1.0).at[1, 1, 0].set(1.0)
        >>> bool(jaxfb.conv_tightness_penalty(w, 8) < 1e-12)  # identity on two channels: tight
        True
    """
    w, n, stride, dilation = resolve_conv(w, n, stride, dilation)
    _check_nonzero_filterbank(w, 3)
    return _conv_tightness_penalty(w, n, stride, dilation)
