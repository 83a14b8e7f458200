r"""Moments of the energy :math:`\|\Phi x\|^2` under i.i.d. random filters, and the Gram spectrum.

For a filterbank of ``J`` filters of length ``T`` with i.i.d. zero-mean weights of variance
:math:`\sigma^2` and excess kurtosis :math:`g_2`, each filter contributes a quadratic form
:math:`\|x \circledast w_j\|^2 = w_j^\top Q_T w_j` with the symmetric Toeplitz Gram matrix
:math:`(Q_T)_{kl} = R(k - l)` (``R`` the circular autocorrelation of ``x``), so

.. math::
    \mathbb E\|\Phi x\|^2 = J T \sigma^2 \|x\|^2, \qquad
    \operatorname{Var}\|\Phi x\|^2 = 2 J \sigma^4 \operatorname{tr}(Q_T^2)
        + g_2 J \sigma^4 \sum_k (Q_T)_{kk}^2
    = 2 J \sigma^4 \sum_{|\tau| < T} (T - |\tau|) R(\tau)^2 + g_2 J \sigma^4 T R(0)^2 .
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validation as v
from .._sampling import init_spec
from ._common import autocorrelation_lags, gram_matrix, init_variance, lengths_arg, signals_arg

__all__ = ["energy_mean", "energy_variance", "energy_variance_bound", "gram_eigenvalues"]


def _lag_weights(lengths: tuple[int, ...]) -> np.ndarray:
    """``W[i, tau] = c_tau (T_i - tau)_+`` with ``c_0 = 1``, ``c_tau = 2``: ``(L, max T)``."""
    t_max = max(lengths)
    tau = np.arange(t_max)
    c = np.where(tau == 0, 1.0, 2.0)
    return np.stack([c * np.maximum(T - tau, 0) for T in lengths])


@partial(jax.jit, static_argnames=("lengths",))
def _trace_q_squared(x: jax.Array, lengths: tuple[int, ...]) -> tuple[jax.Array, jax.Array]:
    """``(tr(Q_T^2) for each T: (..., L), R(0): (...))``."""
    R = autocorrelation_lags(x, max(lengths))
    W = jnp.asarray(_lag_weights(lengths).T, dtype=x.dtype)
    trq2 = jnp.matmul(R * R, W, precision=jax.lax.Precision.HIGHEST)
    return trq2, R[..., 0]


@partial(jax.jit, static_argnames=("lengths",))
def _variance_kernel(x, gauss_coef, kurt_coef, lengths):
    trq2, r0 = _trace_q_squared(x, lengths)
    shape = (1,) * (trq2.ndim - 1) + (len(lengths),)
    var = gauss_coef.reshape(shape) * trq2 + kurt_coef.reshape(shape) * (r0 * r0)[..., None]
    # >= 0 exactly (tr Q^2 >= T R(0)^2 and g2 >= -2); Rademacher on an impulse cancels to 0
    return jnp.maximum(var, 0)


@partial(jax.jit, static_argnames=("num",))
def _mean_kernel(x, coef, num):
    r0 = jnp.sum(x * x, axis=-1)
    return coef.reshape((1,) * r0.ndim + (num,)) * r0[..., None]


def _moment_coefficients(init, rescale, num_filters, lengths):
    spec = init_spec(init)
    J = v.static_int("num_filters", num_filters, minimum=1)
    sig2 = np.array([init_variance(init, rescale, J, T) for T in lengths])
    return spec, J, sig2


def energy_mean(
    x: jax.Array,
    num_filters: int | None = None,
    length: int | tuple[int, ...] | None = None,
    *,
    init: str = "gaussian",
    rescale: bool | None = None,
) -> jax.Array:
    r"""Mean energy :math:`\mathbb E\|\Phi x\|^2 = J T \sigma^2 \|x\|^2` of a random filterbank.

    With the paper's variance :math:`\sigma^2 = 1/(JT)` (``init="gaussian"``, or any init with
    ``rescale=True``) this is :math:`\|x\|^2` for every ``J`` and ``T`` (Haider et al. 2024,
    Sec. III-A), and ``num_filters`` and ``length`` may be omitted. Framework inits with their
    raw variance (``init="pytorch"``, ...) need both, as in :func:`jaxfb.random_filterbank`.

    Args:
        x: ``(..., N)`` real signals.
        num_filters: ``J >= 1``, static Python int (optional for variance ``1/(J T)``).
        length: ``T`` (static int, ``1 <= T <= N``) or a sequence of ``L`` lengths.
        init: a name in :data:`jaxfb.INITS` (any i.i.d. zero-mean init; only its variance
            matters here).
        rescale: as in :func:`jaxfb.random_filterbank`.

    Returns:
        ``(...)`` array, or ``(..., L)`` when ``length`` is a sequence. dtype of ``x``.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxfb import theory
        >>> x = jnp.array([3.0, 4.0, 0.0, 0.0])
        >>> float(theory.energy_mean(x))
        25.0
        >>> float(theory.energy_mean(x, 10, 4, init="pytorch"))  # J T / (3 T) ||x||^2
        83.33...
    """
    x = signals_arg(x, nonzero=False)
    spec = init_spec(init)
    needs_shape = rescale is False or (rescale is None and spec.name not in _RESCALED_BY_DEFAULT)
    if num_filters is None or length is None:
        if needs_shape:
            raise ValueError(
                f"num_filters and length are required for init={init!r} with its raw variance "
                f"(got num_filters={num_filters!r}, length={length!r})"
            )
        return jnp.sum(x * x, axis=-1)
    lengths, scalar = lengths_arg(length, x.shape[-1])
    _, J, sig2 = _moment_coefficients(init, rescale, num_filters, lengths)
    coef = jnp.asarray(J * np.asarray(lengths) * sig2, dtype=x.dtype)
    out = _mean_kernel(x, coef, len(lengths))
    return out[..., 0] if scalar else out


_RESCALED_BY_DEFAULT = ("gaussian", "uniform", "rademacher")


def energy_variance(
    x: jax.Array,
    num_filters: int,
    length: int | tuple[int, ...],
    *,
    init: str = "gaussian",
    rescale: bool | None = None,
) -> jax.Array:
    r"""Variance of the energy :math:`\|\Phi x\|^2` for i.i.d. zero-mean random filters.

    .. math::
        \operatorname{Var}\|\Phi x\|^2
        = 2 J \sigma^4 \sum_{|\tau| < T} (T - |\tau|)\, R(\tau)^2 + g_2\, J \sigma^4\, T R(0)^2

    with ``R`` the circular autocorrelation of ``x`` (``R(0) = ||x||^2``), :math:`\sigma^2` the
    per-weight variance of ``init`` (as :func:`jaxfb.random_filterbank` draws it) and
    :math:`g_2` its excess kurtosis (``jaxfb.INITS[init].excess_kurtosis``: 0 for normal inits,
    ``-6/5`` uniform, ``-2`` Rademacher). The first term is the Gaussian variance of Haider et al.
    2024 (Sec. III-A); the second is the fourth-cumulant term of a quadratic form in non-Gaussian
    weights, :math:`g_2 \sigma^4 J \sum_k (Q_T)_{kk}^2` (see ``docs/theory.md``). Unit impulse:
    ``(2 + g_2) / (J T)``; unit alternating sign: ``2/J + g_2/(J T)``.

    Cost: one FFT of size ``N`` and a ``(max T) x L`` product, whatever the number of lengths.

    Args:
        x: ``(..., N)`` real signals.
        num_filters: ``J >= 1``, static Python int.
        length: ``T`` (static int, ``1 <= T <= N``) or a sequence of ``L`` lengths.
        init: a name in :data:`jaxfb.INITS`.
        rescale: as in :func:`jaxfb.random_filterbank` (default: the init as named).

    Returns:
        ``(...)`` array, or ``(..., L)`` when ``length`` is a sequence. dtype of ``x``.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxfb import theory
        >>> impulse = jnp.zeros(1024).at[0].set(1.0)
        >>> (theory.energy_variance(impulse, 10, [8, 64]) * jnp.array([80.0, 640.0])).round(4)
        Array([2., 2.], dtype=float32)
        >>> round(float(theory.energy_variance(impulse, 10, 64, init="uniform")), 5)  # 0.8/(J T)
        0.00125
    """
    x = signals_arg(x, nonzero=False)
    lengths, scalar = lengths_arg(length, x.shape[-1])
    spec, J, sig2 = _moment_coefficients(init, rescale, num_filters, lengths)
    gauss = jnp.asarray(2.0 * J * sig2**2, dtype=x.dtype)
    kurt = jnp.asarray(spec.excess_kurtosis * J * sig2**2 * np.asarray(lengths), dtype=x.dtype)
    out = _variance_kernel(x, gauss, kurt, lengths)
    return out[..., 0] if scalar else out


def energy_variance_bound(
    num_filters: int,
    length: int | tuple[int, ...],
    *,
    init: str = "gaussian",
    rescale: bool | None = None,
) -> float | np.ndarray:
    r"""The largest variance of the energy over unit-norm signals, and who attains it.

    .. math::
        \sup_{\|x\| = 1} \operatorname{Var}\|\Phi x\|^2 = J \sigma^4 T (2T + g_2)
        \quad (= 2/J \text{ for Gaussian weights of variance } 1/(JT))

    In :func:`energy_variance`, :math:`|R(\tau)| \le R(0) = 1` bounds the first term by
    :math:`2 J \sigma^4 \sum_{|\tau| < T} (T - |\tau|) = 2 J \sigma^4 T^2`, and the kurtosis
    term :math:`g_2 J \sigma^4 T` does not depend on ``x``. Equality holds exactly when
    :math:`|R(\tau)| = 1` for every :math:`|\tau| < T`: the alternating sign :math:`(-1)^n`
    (even ``N``) and the constant signal, at every ``T`` (``docs/theory.md``).

    Args:
        num_filters: ``J >= 1``, static Python int.
        length: ``T >= 1`` (static int) or a sequence of lengths.
        init: a name in :data:`jaxfb.INITS`; ``rescale`` as in :func:`jaxfb.random_filterbank`.

    Returns:
        a float, or a float64 array over the lengths when ``length`` is a sequence.

    Examples:
        >>> from jaxfb import theory
        >>> round(theory.energy_variance_bound(10, 64), 12)  # 2 / J
        0.2
        >>> theory.energy_variance_bound(10, [8, 64]).round(12).tolist()
        [0.2, 0.2]
        >>> round(theory.energy_variance_bound(10, 64, init="rademacher"), 6)  # (2 - 2/T) / J
        0.196875
    """
    lengths, scalar = lengths_arg(length, np.iinfo(np.int64).max)
    spec, J, sig2 = _moment_coefficients(init, rescale, num_filters, lengths)
    T = np.asarray(lengths, np.float64)
    out = J * sig2**2 * T * (2 * T + spec.excess_kurtosis)
    return float(out[0]) if scalar else out


@partial(jax.jit, static_argnames=("length",))
def _gram_eigenvalues(x: jax.Array, length: int) -> jax.Array:
    return jnp.linalg.eigvalsh(gram_matrix(autocorrelation_lags(x, length)))


def gram_eigenvalues(x: jax.Array, length: int) -> jax.Array:
    r"""Eigenvalues :math:`\lambda_1 \le \dots \le \lambda_T` of the Gram matrix :math:`Q_T`.

    :math:`Q_T = C_T^\top C_T` with :math:`C_T` the first ``T`` columns of the circulant matrix of
    ``x``; it is the symmetric Toeplitz matrix :math:`(Q_T)_{kl} = R(k - l)` and is built from
    the autocorrelation (one FFT of size ``N``), never from the ``N x T`` circulant. For Gaussian
    weights :math:`\|\Phi x\|^2 = \sigma^2 \sum_k \lambda_k Y_k` with i.i.d.
    :math:`Y_k \sim \chi^2_J`; :math:`\sum_k \lambda_k = T\|x\|^2` and
    :math:`\sum_k \lambda_k^2 = \sum_{|\tau|<T} (T - |\tau|) R(\tau)^2`. :math:`Q_T` is positive
    semi-definite; eigenvalues that are zero come out as rounding noise of either sign.

    Args:
        x: ``(..., N)`` real signals.
        length: ``T``, static Python int, ``1 <= T <= N``.

    Returns:
        ``(..., T)`` eigenvalues in ascending order (``jnp.linalg.eigvalsh``), dtype of ``x``.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxfb import theory
        >>> x = jnp.array([1.0, -1.0, 1.0, -1.0])  # alternating sign: Q_T = ||x||^2 s s^T
        >>> lam = theory.gram_eigenvalues(x, 3)  # ascending: two zeros, then T ||x||^2
        >>> float(lam[-1].round(4)), float(abs(lam[:2]).max().round(4))
        (12.0, 0.0)
    """
    x = signals_arg(x, nonzero=False)
    lengths, scalar = lengths_arg(length, x.shape[-1])
    if not scalar:
        raise TypeError(f"length must be a single static int here, got {length!r}")
    return _gram_eigenvalues(x, lengths[0])
