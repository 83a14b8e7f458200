r"""Energy responses :math:`\|\Phi x\|^2` and circular autocorrelations.

The energy of a signal depends on it only through its circular autocorrelation ``R(tau)`` at lags
``|tau| < T`` and on the filters only through their summed autocorrelation ``r_w(tau)``:

.. math:: \|\Phi x\|^2 = \sum_{|\tau|<T} r_w(\tau) R(\tau)
          = r_w(0)R(0) + 2\sum_{\tau=1}^{T-1} r_w(\tau) R(\tau).

(``R`` is ``N``-periodic, so this holds for every ``T <= N``.) One draw of ``w`` therefore serves
every signal at once: a product over ``T`` lags.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _validation as v
from ._frames import _summed_autocorrelation

__all__ = ["autocorrelation", "energy"]


def _circular_autocorrelation(x: jax.Array, max_lag: int) -> jax.Array:
    N = x.shape[-1]
    X = jnp.fft.rfft(x, axis=-1)
    R = jnp.fft.irfft(X.real**2 + X.imag**2, n=N, axis=-1)
    return R[..., :max_lag].astype(x.dtype)


_jit_circular_autocorrelation = jax.jit(_circular_autocorrelation, static_argnums=1)


def autocorrelation(x: jax.Array, max_lag: int) -> jax.Array:
    r"""Circular autocorrelation :math:`R(\tau) = \sum_n x[n]\,x[(n+\tau) \bmod N]`.

    Args:
        x: ``(..., N)`` real signals.
        max_lag: number of lags returned, ``1 <= max_lag <= N``, static Python int.

    Returns:
        ``(..., max_lag)`` array ``R(0) .. R(max_lag - 1)``; ``R(0) = ||x||^2``.

    Examples:
        >>> import jax.numpy as jnp, jaxfb
        >>> jaxfb.autocorrelation(jnp.array([1.0, -1.0, 1.0, -1.0]), 2)
        Array([ 4., -4.], dtype=float32)
    """
    x = v.float_array("x", x)
    v.check_rank("x", x, 1, "(..., N)")
    N = x.shape[-1]
    max_lag = v.static_int("max_lag", max_lag, minimum=1)
    if max_lag > N:
        raise ValueError(f"max_lag={max_lag} must be <= the signal length N={N}")
    v.check_finite("x", x)
    return _jit_circular_autocorrelation(x, max_lag)


@jax.jit
def _energy(w, x):
    T = w.shape[-1]
    dtype = jnp.result_type(w.dtype, x.dtype)
    r_w = _summed_autocorrelation(w.astype(dtype))
    R = _circular_autocorrelation(x.astype(dtype), T)
    rank = max(r_w.ndim, R.ndim)
    r_w = r_w.reshape((1,) * (rank - r_w.ndim) + r_w.shape)
    R = R.reshape((1,) * (rank - R.ndim) + R.shape)
    # sum over |tau| < T of r_w(tau) R(tau): lag 0 once, lags 1..T-1 twice
    weights = jnp.full((1,) * (rank - 1) + (T,), 2.0, dtype).at[..., 0].set(1.0)
    return jnp.sum(r_w * (R * weights), axis=-1)


def energy(w: jax.Array, x: jax.Array) -> jax.Array:
    r"""Energy response :math:`\|\Phi x\|^2 = \sum_j \|x \circledast w_j\|^2` (circular, length N).

    Computed exactly through the lag identity (docs/theory.md, section 1; Haider et al. 2024,
    Eq. (4)), never by convolving: ``J`` FFTs of size ``>= 2T - 1`` for the filters, one of size
    ``N`` for the signal, and a product over ``2T - 1`` lags.

    Batch dimensions broadcast: to evaluate ``S`` signals against each of ``B`` filterbanks
    without redrawing, pass ``w[:, None]`` of shape ``(B, 1, J, T)`` and ``x`` of shape ``(S, N)``
    to get ``(B, S)``; each filterbank's autocorrelation is computed once.

    Args:
        w: ``(..., J, T)`` filterbank.
        x: ``(..., N)`` real signals, ``N >= T``.

    Returns:
        ``broadcast(w.shape[:-2], x.shape[:-1])`` array of energies.

    Examples:
        >>> import jax, jax.numpy as jnp, jaxfb
        >>> w = jaxfb.random_filterbank(jax.random.key(0), 10, 64, batch_shape=(1000, 1))
        >>> x = jnp.zeros((2, 1024)).at[:, 0].set(1.0)  # two unit impulses
        >>> jaxfb.energy(w, x).shape
        (1000, 2)
    """
    w, _, T = v.filterbank("w", w)
    x = v.float_array("x", x)
    v.check_rank("x", x, 1, "(..., N)")
    N = x.shape[-1]
    if T > N:
        raise ValueError(f"filter length T={T} (w.shape={w.shape}) must be <= signal length N={N}")
    v.check_finite("x", x)
    try:
        jnp.broadcast_shapes(w.shape[:-2], x.shape[:-1])
    except ValueError:
        raise ValueError(
            f"batch shapes of w {w.shape[:-2]} (w.shape={w.shape}) and x {x.shape[:-1]} "
            f"(x.shape={x.shape}) do not broadcast"
        ) from None
    return _energy(w, x)
