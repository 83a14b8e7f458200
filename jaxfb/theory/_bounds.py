r"""Deviation bounds for the energy of a signal under a random filterbank.

Each function returns the relative deviation :math:`\alpha` at level ``p``:

.. math:: P\bigl(\|\Phi x\|^2 \ge (1 + \alpha)\,\mathbb E\|\Phi x\|^2\bigr) \le p
          \quad\text{(upper tail)}, \qquad
          P\bigl(\|\Phi x\|^2 \le (1 - \alpha)\,\mathbb E\|\Phi x\|^2\bigr) \le p
          \quad\text{(lower tail)}

(:math:`\mathbb E\|\Phi x\|^2 = \|x\|^2` for the paper's variance :math:`1/(JT)`). With
:math:`\ell = \log(1/p)`, :math:`\lambda` the eigenvalues of :math:`Q_T` (so
:math:`\sum\lambda = T\|x\|^2`):

- Cantelli: :math:`\alpha = \sqrt{(1/p - 1)\operatorname{Var}}/\mathbb E`, valid for every i.i.d.
  init and both tails.
- Laurent-Massart (sub-gamma, valid, the default):
  :math:`\alpha = 2(\sqrt{J\ell}\,\|\lambda\|_2 + \ell\lambda_{\max})/(J T\|x\|^2)`; lower tail
  :math:`2\sqrt{J\ell}\,\|\lambda\|_2/(J T \|x\|^2)`.
- Exact Chernoff (valid, tightest of the three Chernoff forms):
  :math:`\inf_s e^{K(s) - s t} = p` solved for ``t`` from the cumulant generating function.
- The paper's (Haider et al. 2024, as coded by the authors):
  :math:`\alpha = (\ell\lambda_{\max} + \sqrt{\ell^2\lambda_{\max}^2 + 2\ell J\|\lambda\|_2^2})
  /(J T \|x\|^2)`; **not a valid bound** (its exponent is twice Bernstein's), kept to reproduce
  the paper's figures.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validation as v
from ._common import (
    autocorrelation_lags,
    broadcast_batch,
    gram_matrix,
    lengths_arg,
    level_arg,
    signals_arg,
)
from ._moments import _moment_coefficients, _variance_kernel
from ._saddlepoint import chernoff_parameter, log_mean_shift, spectrum

__all__ = ["cantelli_deviation", "chernoff_deviation"]

_VARIANTS = ("laurent_massart", "exact", "paper")
_TAILS = ("upper", "lower")


def _levels(p, x):
    """Validate ``p`` and return ``(p, out_batch_shape)``."""
    p = level_arg("p", p, x.dtype)
    batch = broadcast_batch(("p", "x"), p.shape, x.shape[:-1])
    return p, batch


def cantelli_deviation(
    x: jax.Array,
    num_filters: int,
    length: int | tuple[int, ...],
    p,
    *,
    init: str = "gaussian",
    rescale: bool | None = None,
) -> jax.Array:
    r"""Cantelli deviation ``alpha`` at level ``p``, valid for every i.i.d. init and both tails.

    .. math:: \alpha = \sqrt{(1/p - 1)\operatorname{Var}\|\Phi x\|^2}\,/\,
              \mathbb E\|\Phi x\|^2

    Cantelli's one-sided Chebyshev inequality :math:`P(E - \mathbb E E \ge a) \le
    \operatorname{Var}/(\operatorname{Var} + a^2)` at :math:`a = \alpha\,\mathbb E E` gives
    :math:`P(E \ge (1 + \alpha)\mathbb E E) \le p`, and the same ``alpha`` bounds the lower
    tail. Valid for every i.i.d. init (the variance includes the kurtosis term, see
    :func:`energy_variance`). This is the paper's Cantelli bound (Haider et al. 2024,
    Sec. III-A) for ``init="gaussian"``, where :math:`\mathbb E E = \|x\|^2`.

    Args:
        x: ``(..., N)`` real, nonzero signals.
        num_filters: ``J >= 1``, static int.
        length: ``T`` (static int) or a sequence of ``L`` lengths.
        p: level(s) in ``(0, 1)``, broadcast against ``x.shape[:-1]``.
        init, rescale: the weight init, as in :func:`jaxfb.random_filterbank`.

    Returns:
        ``broadcast(p.shape, x.shape[:-1])`` array, with a trailing ``L`` axis when ``length`` is
        a sequence. dtype of ``x``.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxfb import theory
        >>> impulse = jnp.zeros(1024).at[0].set(1.0)  # Var = 2 / (J T)
        >>> theory.cantelli_deviation(impulse, 10, [64, 1024], 0.05).round(4)
        Array([0.2437, 0.0609], dtype=float32)
    """
    x = signals_arg(x, nonzero=True)
    p, batch = _levels(p, x)
    lengths, scalar = lengths_arg(length, x.shape[-1])
    spec, J, sig2 = _moment_coefficients(init, rescale, num_filters, lengths)
    T = np.asarray(lengths, dtype=np.float64)
    coefs = np.stack([2.0 * J * sig2**2, spec.excess_kurtosis * J * sig2**2 * T, J * T * sig2])
    alpha = _cantelli_kernel(x, p, jnp.asarray(coefs, x.dtype), lengths=lengths, batch=batch)
    return alpha[..., 0] if scalar else alpha


@partial(jax.jit, static_argnames=("lengths", "batch"))
def _cantelli_kernel(x, p, coefs, *, lengths, batch):
    var = _variance_kernel(x, coefs[0], coefs[1], lengths)  # (..., L)
    r0 = jnp.sum(x * x, axis=-1, keepdims=True)
    mean = coefs[2].reshape((1,) * (r0.ndim - 1) + (len(lengths),)) * r0
    L = len(lengths)
    var = jnp.broadcast_to(var, (*batch, L))
    mean = jnp.broadcast_to(mean, (*batch, L))
    pp = jnp.broadcast_to(p, batch)[..., None]
    return jnp.sqrt((1.0 / pp - 1.0) * var) / mean


@partial(jax.jit, static_argnames=("length", "exact", "batch"))
def _chernoff_kernel(x, p, num_filters, upper, *, length, exact, batch):
    """``alpha`` for one length. ``exact``: the exact Chernoff bound; otherwise the tuple
    ``(laurent_massart, paper)``. ``num_filters`` and ``upper`` are traced scalars."""
    T, J = length, num_filters
    ell = jnp.broadcast_to(-jnp.log(p), batch)
    R = autocorrelation_lags(x, T)
    lam = jnp.linalg.eigvalsh(gram_matrix(R))  # (..., T)
    if exact:
        spec = spectrum(jnp.broadcast_to(lam, (*batch, T)), jnp)
        vv = chernoff_parameter(ell, spec, J, upper, jnp)
        x_p = jnp.exp(log_mean_shift(vv, spec, jnp))
        return jnp.where(upper, x_p - 1.0, 1.0 - x_p)
    tau = np.arange(T)
    weights = np.where(tau == 0, 1.0, 2.0) * (T - tau)
    weights = jnp.asarray(weights.reshape((1,) * (R.ndim - 1) + (T,)), dtype=x.dtype)
    norm2 = jnp.broadcast_to(jnp.sum(weights * R * R, axis=-1), batch)  # tr(Q^2) = ||lam||^2
    lam_max = jnp.broadcast_to(jnp.max(lam, axis=-1), batch)
    denom = J * T * jnp.broadcast_to(R[..., 0], batch)  # J sum(lambda) = J T ||x||^2
    spread = 2.0 * jnp.sqrt(J * ell * norm2)
    lm = jnp.where(upper, spread + 2.0 * ell * lam_max, spread) / denom
    paper = (ell * lam_max + jnp.sqrt((ell * lam_max) ** 2 + 2.0 * ell * J * norm2)) / denom
    return lm, paper


def chernoff_deviation(
    x: jax.Array,
    num_filters: int,
    length: int | tuple[int, ...],
    p,
    *,
    variant: str = "laurent_massart",
    tail: str = "upper",
) -> jax.Array:
    r"""Chernoff-type deviation :math:`\alpha` at level ``p`` for a Gaussian filterbank.

    With :math:`\ell = \log(1/p)` and :math:`\lambda` the eigenvalues of :math:`Q_T`
    (:func:`gram_eigenvalues`), :math:`\|\Phi x\|^2 = \sigma^2\sum_k \lambda_k Y_k`,
    :math:`Y_k \sim \chi^2_J`, and ``alpha`` is relative to the mean (so it does not depend on
    :math:`\sigma^2`; any normal init):

    - ``"laurent_massart"`` (default, valid): Laurent & Massart (2000), Lemma 1, applied to the
      ``J T`` weighted :math:`\chi^2_1` terms,
      :math:`\alpha = 2(\sqrt{J\ell}\,\|\lambda\|_2 + \ell\lambda_{\max})/(J T \|x\|^2)`;
      lower tail :math:`2\sqrt{J\ell}\,\|\lambda\|_2 / (J T \|x\|^2)`.
    - ``"exact"`` (valid, tighter): ``t`` solving :math:`\inf_s \exp(K(s) - s t) = p` with
      :math:`K(s) = -\tfrac J2\sum_k\log(1 - 2\sigma^2\lambda_k s)` (``s < 0`` for the lower
      tail), found by bisection; :math:`\alpha = |t/\mathbb E - 1|`.
    - ``"paper"``: the formula of Haider et al. (2024) as coded by the authors,
      :math:`\alpha = (\ell\lambda_{\max} + \sqrt{\ell^2\lambda_{\max}^2 +
      2\ell J\|\lambda\|_2^2})/(J T\|x\|^2)`. **Not a valid bound**: its exponent is twice
      Bernstein's. It holds at ``p = 0.05`` but fails below (unit impulse, ``J = 10``,
      ``T = 64``, ``p = 0.01``: ``alpha = 0.127``, true exceedance ``0.0137``). Upper tail only.

    Each length costs one ``T x T`` symmetric eigendecomposition; a sequence of lengths loops
    over them (one compiled kernel per length, cached).

    Args:
        x: ``(..., N)`` real, nonzero signals.
        num_filters: ``J >= 1``, static int.
        length: ``T`` (static int) or a sequence of ``L`` lengths.
        p: level(s) in ``(0, 1)``, broadcast against ``x.shape[:-1]``.
        variant: ``"laurent_massart"``, ``"exact"`` or ``"paper"``.
        tail: ``"upper"`` or ``"lower"``.

    Returns:
        ``broadcast(p.shape, x.shape[:-1])`` array of ``alpha >= 0``, with a trailing ``L`` axis
        when ``length`` is a sequence. dtype of ``x``.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxfb import theory
        >>> impulse = jnp.zeros(1024).at[0].set(1.0)
        >>> [round(float(theory.chernoff_deviation(impulse, 10, 64, 0.01, variant=m)), 3)
        ...  for m in ("laurent_massart", "exact", "paper")]
        [0.184, 0.179, 0.127]
    """
    if variant not in _VARIANTS:
        raise ValueError(f"variant must be one of {_VARIANTS}, got {variant!r}")
    if tail not in _TAILS:
        raise ValueError(f"tail must be one of {_TAILS}, got {tail!r}")
    if variant == "paper" and tail == "lower":
        raise ValueError("variant='paper' has no lower-tail formula; use tail='upper'")
    x = signals_arg(x, nonzero=True)
    J = v.static_int("num_filters", num_filters, minimum=1)
    p, batch = _levels(p, x)
    lengths, scalar = lengths_arg(length, x.shape[-1])
    upper = tail == "upper"
    J_arr, up_arr = jnp.asarray(J, x.dtype), jnp.asarray(upper)
    exact = variant == "exact"
    kw = {"exact": exact, "batch": batch}
    outs = [_chernoff_kernel(x, p, J_arr, up_arr, length=T, **kw) for T in lengths]
    if not exact:
        outs = [o[0] if variant == "laurent_massart" else o[1] for o in outs]
    return outs[0] if scalar else jnp.stack(outs, axis=-1)
