r"""The exact distribution of the energy :math:`\|\Phi x\|^2` under a Gaussian filterbank.

With i.i.d. :math:`w_j[k] \sim \mathcal N(0, \sigma^2)`, each filter gives a Gaussian quadratic
form :math:`w_j^\top Q_T w_j`; diagonalising :math:`Q_T = U \operatorname{diag}(\lambda) U^\top`,

.. math:: \|\Phi x\|^2 \overset{d}{=} \sigma^2 \sum_{k=1}^{T} \lambda_k Y_k, \qquad
          Y_k \sim \chi^2_J \text{ i.i.d.},

a weighted sum of chi-squared variables that depends on ``x`` only through the spectrum of
:math:`Q_T` (Haider et al. 2024, Sec. III). This module gives its exact tail probabilities
(contour integration through the saddlepoint, ``_inversion``), a saddlepoint approximation
(Lugannani-Rice with Daniels' second-order term, ``_saddlepoint``), quantiles, and an
exact-in-distribution sampler that costs ``T`` chi-squared draws per sample, whatever ``J`` and
``N``.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validation as v
from .._sampling import _check_key
from ._common import (
    gaussian_variance,
    gram_eigenvalues_np,
    host_side,
    lengths_arg,
    signals_arg,
)
from ._inversion import exact_log_tails
from ._moments import _gram_eigenvalues
from ._saddlepoint import (
    Spectrum,
    chernoff_parameter,
    log_mean_shift,
    saddlepoint_log_tails,
    spectrum,
)

__all__ = ["EnergyDistribution", "energy_distribution", "energy_quantile", "energy_sf"]

_METHODS = ("exact", "saddlepoint")
_MERGE_RTOL = 1e-13  # eigenvalues closer than this (relative to lambda_max) are grouped
_QUANTILE_RTOL = 1e-13
_QUANTILE_ITERATIONS = 200


def _host_signals(x) -> np.ndarray:
    """Signals for host-side (float64) computation; refuses tracers with a clear message."""
    if isinstance(x, jax.core.Tracer):
        raise TypeError(
            "the exact energy distribution is computed on the host in float64 (NumPy/SciPy) and "
            "cannot be traced by jit/vmap; use energy_sf(..., method='saddlepoint') inside jit"
        )
    xa = np.asarray(x)
    if np.iscomplexobj(xa):
        raise TypeError(f"x must be real, got dtype {xa.dtype}")
    xa = xa.astype(np.float64)
    if xa.ndim < 1:
        raise ValueError(f"x must have shape (..., N) (rank >= 1), got shape {xa.shape}")
    bad = ~np.isfinite(xa)
    if np.any(bad):
        raise ValueError(f"x has {int(bad.sum())} non-finite entries (NaN or inf) out of {xa.size}")
    zero = ~np.any(xa != 0, axis=-1)
    if np.any(zero):
        idx = tuple(int(i) for i in np.argwhere(zero)[0])
        raise ValueError(
            f"x contains an all-zero signal (at batch index {idx}); its energy is degenerate"
        )
    return xa


def _host_probabilities(name: str, q, *, closed: bool) -> np.ndarray:
    qa = np.asarray(q, dtype=np.float64)
    bad = ~((qa >= 0) & (qa <= 1)) if closed else ~((qa > 0) & (qa < 1))
    if np.any(bad):
        interval = "[0, 1]" if closed else "(0, 1)"
        raise ValueError(f"{name} must lie in {interval}, got {qa[bad].ravel()[0]!r}")
    return qa


def _thresholds(t) -> np.ndarray:
    if isinstance(t, jax.core.Tracer):
        raise TypeError("t must be concrete for method='exact' (host-side float64 computation)")
    ta = np.asarray(t)
    if np.iscomplexobj(ta):
        raise TypeError(f"t must be real, got dtype {ta.dtype}")
    ta = ta.astype(np.float64)
    if np.any(np.isnan(ta)):
        raise ValueError(f"t has {int(np.isnan(ta).sum())} NaN entries out of {ta.size}")
    return ta


def _grouped_spectrum(lam: np.ndarray) -> Spectrum:
    """Spectrum of one signal with (nearly) repeated eigenvalues grouped."""
    lam = np.sort(lam)
    lam_max = lam[-1]
    lam = lam[lam > 0]
    # merge runs whose members lie within _MERGE_RTOL * lam_max of the run's first value
    starts = [0]
    for i in range(1, lam.size):
        if lam[i] - lam[starts[-1]] > _MERGE_RTOL * lam_max:
            starts.append(i)
    ends = [*starts[1:], lam.size]
    values = np.array([lam[s:e].mean() for s, e in zip(starts, ends, strict=True)])
    counts = np.array([e - s for s, e in zip(starts, ends, strict=True)], dtype=np.float64)
    values[-1] = lam_max
    return spectrum(values, np, floor_factor=0.0, mult=counts)


class EnergyDistribution:
    r"""Exact law of :math:`\|\Phi x\|^2 = \sigma^2 \sum_k \lambda_k Y_k`, :math:`Y_k\sim\chi^2_J`.

    Build it with :func:`energy_distribution` from signals, or directly from eigenvalues.
    Everything except :meth:`sample` runs on the host in float64 (NumPy/SciPy) and returns NumPy
    arrays; it is not jit-able. Batch dimensions of the eigenvalues lead; thresholds and levels
    broadcast against them.

    Tail probabilities (``method="exact"``, the default) come from the inversion integral of
    the moment generating function on a contour through the saddlepoint (see
    ``docs/theory.md``), with relative accuracy about ``1e-12`` for probabilities from 1/2 down
    to ``1e-300``; ``method="saddlepoint"`` is the Lugannani-Rice approximation with Daniels'
    second-order term (relative error ``~1e-3`` for ``J T`` in the tens, smaller for more
    degrees of freedom).

    Args:
        eigenvalues: ``(..., T)`` eigenvalues :math:`\lambda_k \ge 0` of :math:`Q_T`; values at
            rounding level (``<= 8 sqrt(T) eps lambda_max``, or negative) count as zero.
        num_filters: ``J >= 1``, Python int.
        weight_variance: :math:`\sigma^2 > 0`; default ``1/(J T)`` (the paper's).

    Examples:
        >>> import numpy as np
        >>> from jaxfb import theory
        >>> d = theory.EnergyDistribution(np.ones(64), 10)  # unit impulse: chi2_640 / 640
        >>> float(d.mean), round(float(d.variance), 6)
        (1.0, 0.003125)
        >>> float(d.sf(1.1273).round(4))  # the paper's alpha at p = 0.01 is exceeded
        0.0137
    """

    def __init__(self, eigenvalues, num_filters: int, weight_variance: float | None = None):
        lam = np.asarray(eigenvalues, dtype=np.float64)
        if lam.ndim < 1 or lam.shape[-1] < 1:
            raise ValueError(f"eigenvalues must have shape (..., T), got shape {lam.shape}")
        if not np.all(np.isfinite(lam)):
            raise ValueError("eigenvalues must be finite")
        J = v.static_int("num_filters", num_filters, minimum=1)
        T = lam.shape[-1]
        if weight_variance is None:
            weight_variance = 1.0 / (J * T)
        weight_variance = float(weight_variance)
        if not (weight_variance > 0 and math.isfinite(weight_variance)):
            raise ValueError(f"weight_variance must be positive and finite, got {weight_variance}")
        lam_max = np.max(lam, axis=-1, keepdims=True)
        if np.any(lam_max <= 0):
            raise ValueError(
                "eigenvalues must have a positive maximum in every batch entry (a zero signal "
                "has a degenerate energy)"
            )
        floor = 8.0 * math.sqrt(T) * np.finfo(np.float64).eps * lam_max
        lam = np.sort(np.where(lam > floor, lam, 0.0), axis=-1)
        self.eigenvalues: np.ndarray = lam
        """``(..., T)`` eigenvalues in ascending order, rounding noise set to zero."""
        self.num_filters: int = J
        self.weight_variance: float = weight_variance
        flat = lam.reshape(-1, T)
        self._spectra = [_grouped_spectrum(row) for row in flat]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.eigenvalues.shape[:-1]

    @property
    def length(self) -> int:
        return self.eigenvalues.shape[-1]

    @property
    def mean(self) -> np.ndarray:
        r""":math:`\sigma^2 J \sum_k \lambda_k = J T \sigma^2 \|x\|^2`, shape ``(...)``."""
        return self.weight_variance * self.num_filters * np.sum(self.eigenvalues, axis=-1)

    @property
    def variance(self) -> np.ndarray:
        r""":math:`2 J \sigma^4 \sum_k \lambda_k^2`, shape ``(...)``."""
        lam = self.eigenvalues
        return 2.0 * self.num_filters * self.weight_variance**2 * np.sum(lam * lam, axis=-1)

    # -- tail probabilities -------------------------------------------------------------------

    def _per_signal(self, arrays, fn):
        """Apply ``fn(*values, spectrum, mean) -> tuple of arrays`` signal by signal."""
        shape = np.broadcast_shapes(*(a.shape for a in arrays), self.batch_shape)
        flat = [np.broadcast_to(a, shape).ravel() for a in arrays]
        index = np.broadcast_to(
            np.arange(len(self._spectra)).reshape(self.batch_shape), shape
        ).ravel()
        mean = self.mean.ravel()
        outs = None
        for i in np.unique(index):
            sel = index == i
            res = fn(*(a[sel] for a in flat), self._spectra[i], mean[i])
            if outs is None:
                outs = [np.empty(index.shape) for _ in res]
            for o, r in zip(outs, res, strict=True):
                o[sel] = r
        if outs is None:  # empty input
            outs = [np.empty(index.shape), np.empty(index.shape)]
        return tuple(o.reshape(shape) for o in outs)

    def _log_tails(self, t, method: str):
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        t = _thresholds(t)
        J = self.num_filters

        def fn(tt, spec, mean):
            x = tt / mean
            with np.errstate(all="ignore"):
                if method == "exact":
                    return exact_log_tails(x, spec, J)[:2]
                return saddlepoint_log_tails(x, spec, J, np)

        return self._per_signal([t], fn)

    def logsf(self, t, *, method: str = "exact") -> np.ndarray:
        """``log P(E > t)``; ``t`` broadcasts against the batch shape."""
        return self._log_tails(t, method)[0]

    def logcdf(self, t, *, method: str = "exact") -> np.ndarray:
        """``log P(E <= t)``."""
        return self._log_tails(t, method)[1]

    def sf(self, t, *, method: str = "exact") -> np.ndarray:
        r"""Survival function :math:`P(\|\Phi x\|^2 > t)`, shape ``broadcast(t, batch)``."""
        return np.exp(self.logsf(t, method=method))

    def cdf(self, t, *, method: str = "exact") -> np.ndarray:
        r""":math:`P(\|\Phi x\|^2 \le t)`."""
        return np.exp(self.logcdf(t, method=method))

    # -- quantiles ----------------------------------------------------------------------------

    def ppf(self, q) -> np.ndarray:
        """Exact quantile ``t`` with ``P(E <= t) = q`` (``q`` in ``[0, 1]``; 0 -> 0, 1 -> inf)."""
        q = _host_probabilities("q", q, closed=True)
        upper = q >= 0.5
        # 1 - q is exact for q in [0.5, 1]
        return self._quantile(np.where(upper, 1.0 - q, q), upper)

    def isf(self, p) -> np.ndarray:
        """Exact ``t`` with ``P(E > t) = p`` (precise for tiny ``p``)."""
        p = _host_probabilities("p", p, closed=True)
        upper = p <= 0.5
        return self._quantile(np.where(upper, p, 1.0 - p), upper)

    def _quantile(self, prob: np.ndarray, upper: np.ndarray) -> np.ndarray:
        J = self.num_filters

        def fn(p, up, spec, mean):
            return (_quantile_one(p, up, spec, J) * mean,)

        return self._per_signal([prob, upper], fn)[0]

    # -- sampling -----------------------------------------------------------------------------

    def sample(self, key: jax.Array, shape: int | tuple[int, ...] = (), *, dtype=None):
        r"""Exact draws of the energy :math:`\sigma^2 \sum_k \lambda_k Y_k`, ``T`` chi-squared each.

        JAX, jit-compiled (``shape`` static); the cost is ``T`` chi-squared variables per sample
        (``Z^2`` for ``J = 1``, Marsaglia-Tsang gamma rejection otherwise, exact), independent of
        ``J`` and ``N``. Large sample shapes are drawn in chunks of about ``2^22`` variables.

        Args:
            key: a JAX PRNG key.
            shape: sample shape (static).
            dtype: float dtype; default float32, float64 when ``jax_enable_x64`` is on.

        Returns:
            ``(*shape, *batch_shape)`` JAX array of energies.

        Examples:
            >>> import jax, numpy as np
            >>> from jaxfb import theory
            >>> d = theory.energy_distribution(np.eye(1, 1024)[0], 10, 64)
            >>> d.sample(jax.random.key(0), (1000,)).shape
            (1000,)
        """
        _check_key(key)
        shape = v.shape_tuple("shape", shape)
        if dtype is None:
            dtype = jax.dtypes.canonicalize_dtype(jnp.float64)
        lam = jnp.asarray(self.eigenvalues * self.weight_variance, dtype=dtype)
        return _sample(key, lam, self.num_filters, shape)


_SAMPLE_CHUNK = 1 << 22  # chi-squared draws per chunk (bounded memory for large shapes)


def _chi2(key, df: int, shape, dtype):
    """Exact ``chi2_df`` draws: ``Z^2`` for ``df = 1``, else ``2 Gamma(df/2)`` by Marsaglia-Tsang.

    Marsaglia & Tsang (2000) for shape ``a = df/2 >= 1``: propose ``d v`` with
    ``v = (1 + c z)^3``, ``d = a - 1/3``, ``c = 1/sqrt(9 d)``, accept when
    ``log u < z^2/2 + d - d v + d log v``; acceptance is above 95%. Rejected entries are redrawn
    (a while loop over the whole array, a handful of rounds) until all are accepted, so the draws
    are exact. Much faster on CPU than ``jax.random.gamma`` (a per-element loop).
    """
    if df == 1:
        return jax.random.normal(key, shape, dtype) ** 2
    d = 0.5 * df - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)

    def body(state):
        k, x, done = state
        k, kz, ku = jax.random.split(k, 3)
        z = jax.random.normal(kz, shape, dtype)
        u = jax.random.uniform(ku, shape, dtype, minval=jnp.finfo(dtype).tiny)
        v = (1.0 + c * z) ** 3
        v_pos = jnp.where(v > 0, v, 1.0)
        ok = (v > 0) & (jnp.log(u) < 0.5 * z * z + d - d * v_pos + d * jnp.log(v_pos))
        x = jnp.where(~done & ok, d * v_pos, x)
        return k, x, done | ok

    init = (key, jnp.zeros(shape, dtype), jnp.zeros(shape, bool))
    _, x, _ = jax.lax.while_loop(lambda s: ~jnp.all(s[2]), body, init)
    return 2.0 * x


@partial(jax.jit, static_argnames=("num_filters", "shape"))
def _sample(key, lam, num_filters, shape):
    def draw(k, n):
        y = _chi2(k, num_filters, (n, *lam.shape), lam.dtype)
        return jnp.sum(y * lam[None], axis=-1)

    total = math.prod(shape)
    chunk = max(1, min(total, _SAMPLE_CHUNK // max(1, lam.size)))
    if chunk >= total:
        out = draw(key, total)
    else:  # bounded memory: a sequential map over chunks of samples
        n_chunks = -(-total // chunk)
        out = jax.lax.map(lambda k: draw(k, chunk), jax.random.split(key, n_chunks))
        out = out.reshape((n_chunks * chunk, *lam.shape[:-1]))[:total]
    return out.reshape((*shape, *lam.shape[:-1]))


def _quantile_one(prob, upper, spec: Spectrum, J: int) -> np.ndarray:
    """Normalised exact quantiles: ``P(X > x) = prob`` (``upper``) or ``P(X <= x) = prob``.

    Safeguarded Newton in ``u = log x`` on the exact log tail, inside the bracket given by the
    exact Chernoff bounds of both tails (``P(X >= x_hi) <= 1 - q`` and ``P(X <= x_lo) <= q``
    imply ``x_lo <= x_q <= x_hi``); a Newton step leaving the bracket is replaced by bisection.
    """
    out = np.empty(prob.shape)
    out[(prob == 0) & upper] = np.inf
    out[(prob == 0) & ~upper] = 0.0
    todo = prob > 0
    if not np.any(todo):
        return out
    p = prob[todo]
    up = upper[todo]
    log_p = np.log(p)
    with np.errstate(all="ignore"):
        l_upper = np.where(up, -log_p, -np.log1p(-p))  # log 1/P(X >= x_hi)
        l_lower = np.where(up, -np.log1p(-p), -log_p)  # log 1/P(X <= x_lo)
        v_hi = chernoff_parameter(np.maximum(l_upper, 1e-300), spec, J, True, np)
        v_lo = chernoff_parameter(np.maximum(l_lower, 1e-300), spec, J, False, np)
        lo = log_mean_shift(v_lo, spec, np)
        hi = log_mean_shift(v_hi, spec, np)
        u = 0.5 * (lo + hi)
        active = np.ones(p.size, dtype=bool)
        for _ in range(_QUANTILE_ITERATIONS):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            ui = u[idx]
            ls, lc, lf = exact_log_tails(np.exp(ui), spec, J)
            upi = up[idx]
            # G increasing in u, G(u_q) = 0
            G = np.where(upi, log_p[idx] - ls, lc - log_p[idx])
            dG = np.exp(lf + ui - np.where(upi, ls, lc))  # x f(x) / tail
            hi[idx] = np.where(G > 0, ui, hi[idx])
            lo[idx] = np.where(G > 0, lo[idx], ui)
            step = G / dG
            tol = _QUANTILE_RTOL * np.maximum(1.0, np.abs(ui))
            done = (np.abs(step) <= tol) | (G == 0) | (hi[idx] - lo[idx] <= tol)
            new = ui - step
            inside = np.isfinite(new) & (new >= lo[idx]) & (new <= hi[idx])
            new = np.where(inside, new, 0.5 * (lo[idx] + hi[idx]))
            u[idx] = np.where(G == 0, ui, new)
            active[idx[done]] = False
        if np.any(active):
            raise FloatingPointError("exact quantile: root finding did not converge")
    out[todo] = np.exp(u)
    return out


def energy_distribution(
    x,
    num_filters: int,
    length: int,
    *,
    init: str = "gaussian",
    rescale: bool | None = None,
) -> EnergyDistribution:
    r"""The exact distribution of :math:`\|\Phi x\|^2` for ``J`` Gaussian filters of length ``T``.

    Eigenvalues of :math:`Q_T` are computed in float64 on the host from the autocorrelation of
    ``x`` (never from the ``N x T`` circulant). Normal inits only (``"gaussian"``,
    ``"glorot_normal"``, ``"lecun_normal"``, ``"he_normal"``): the chi-squared representation
    needs Gaussian weights.

    Args:
        x: ``(..., N)`` real, nonzero signals (NumPy or concrete JAX arrays).
        num_filters: ``J >= 1``, static int.
        length: ``T``, static int, ``1 <= T <= N``.
        init: a normal init name in :data:`jaxfb.INITS`; sets :math:`\sigma^2`.
        rescale: as in :func:`jaxfb.random_filterbank`.

    Returns:
        :class:`EnergyDistribution` with batch shape ``x.shape[:-1]``.

    Examples:
        >>> import numpy as np
        >>> from jaxfb import theory
        >>> d = theory.energy_distribution(np.eye(1, 256)[0], 10, 64)  # unit impulse
        >>> float(d.ppf(0.95).round(4))  # chi2_640 95% quantile / 640
        1.0937
    """
    host_side("energy_distribution", x=x, num_filters=num_filters, length=length)
    xa = _host_signals(x)
    J = v.static_int("num_filters", num_filters, minimum=1)
    lengths, scalar = lengths_arg(length, xa.shape[-1])
    if not scalar:
        raise TypeError(f"length must be a single static int here, got {length!r}")
    T = lengths[0]
    sigma2 = gaussian_variance(init, rescale, J, T)
    return EnergyDistribution(gram_eigenvalues_np(xa, T), J, sigma2)


def energy_quantile(
    q, x, num_filters: int, length: int, *, init: str = "gaussian", rescale: bool | None = None
) -> np.ndarray:
    r"""Exact quantile of :math:`\|\Phi x\|^2`: ``t`` with :math:`P(\|\Phi x\|^2 \le t) = q`.

    Root-finding (Illinois) on the exact log cdf/sf, bracketed by the exact Chernoff bounds of
    both tails; relative accuracy ``~1e-12``. Host-side, float64.

    Args:
        q: levels in ``[0, 1]``, broadcast against ``x.shape[:-1]``.
        x: ``(..., N)`` real, nonzero signals.
        num_filters: ``J``, static int.
        length: ``T``, static int.
        init, rescale: see :func:`energy_distribution`.

    Returns:
        NumPy float64 array, shape ``broadcast(q.shape, x.shape[:-1])``.

    Examples:
        >>> import numpy as np
        >>> from jaxfb import theory
        >>> x = np.eye(1, 1024)[0]  # unit impulse; the paper's 95% quantile of ||Phi x||^2
        >>> theory.energy_quantile([0.05, 0.95], x, 10, 64).round(4)
        array([0.9099, 1.0937])
    """
    host_side("energy_quantile", q=q, x=x, num_filters=num_filters, length=length)
    return energy_distribution(x, num_filters, length, init=init, rescale=rescale).ppf(q)


@partial(jax.jit, static_argnames=("num_filters",))
def _saddlepoint_log_sf(t, lam, sigma2, num_filters):
    spec = spectrum(lam, jnp)
    mean = sigma2 * num_filters * spec.lam_sum
    log_sf, _ = saddlepoint_log_tails(t / mean, spec, num_filters, jnp)
    return log_sf


def energy_sf(
    t,
    x,
    num_filters: int,
    length: int,
    *,
    method: str = "exact",
    init: str = "gaussian",
    rescale: bool | None = None,
):
    r"""Tail probability :math:`P(\|\Phi x\|^2 > t)` for ``J`` Gaussian filters of length ``T``.

    .. math:: P\Bigl(\sigma^2 \sum_{k=1}^T \lambda_k Y_k > t\Bigr), \qquad Y_k \sim \chi^2_J,

    with :math:`\lambda_k` the eigenvalues of :math:`Q_T` (see :func:`gram_eigenvalues`).

    - ``method="exact"`` (default): inversion of the moment generating function on a contour
      through the saddlepoint (a deformed Imhof integral without its cancellation), relative
      accuracy about ``1e-12`` down to ``1e-300``. Host-side NumPy float64, not jit-able;
      returns a NumPy array.
    - ``method="saddlepoint"``: Lugannani-Rice with Daniels' second-order correction, a
      jit-able JAX kernel (dtype of ``x``) vectorised over thresholds and signals; returns a
      JAX array.

    Args:
        t: thresholds, broadcast against ``x.shape[:-1]``.
        x: ``(..., N)`` real, nonzero signals.
        num_filters: ``J >= 1``, static int.
        length: ``T``, static int, ``1 <= T <= N``.
        method: ``"exact"`` or ``"saddlepoint"``.
        init, rescale: a normal init (sets :math:`\sigma^2`), as in :func:`energy_distribution`.

    Returns:
        ``broadcast(t.shape, x.shape[:-1])`` array of probabilities.

    Examples:
        >>> import numpy as np
        >>> from jaxfb import theory
        >>> x = np.eye(1, 1024)[0]  # unit impulse, J = 10, T = 64: the paper's alpha = 0.127
        >>> float(theory.energy_sf(1.1273, x, 10, 64).round(4))  # exceeds p = 0.01
        0.0137
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if method == "exact":
        host_side(
            "energy_sf",
            t=t,
            x=x,
            num_filters=num_filters,
            length=length,
            hint="; inside jit use energy_sf(..., method='saddlepoint'), a JAX kernel",
        )
        return energy_distribution(x, num_filters, length, init=init, rescale=rescale).sf(t)
    x = signals_arg(x, nonzero=True)
    J = v.static_int("num_filters", num_filters, minimum=1)
    lengths, scalar = lengths_arg(length, x.shape[-1])
    if not scalar:
        raise TypeError(f"length must be a single static int here, got {length!r}")
    T = lengths[0]
    sigma2 = gaussian_variance(init, rescale, J, T)
    t = v.float_array("t", t).astype(x.dtype)
    v.check_finite("t", jnp.where(jnp.isinf(t), 0, t))  # inf thresholds are fine, NaN is not
    lam = _gram_eigenvalues(x, T)
    shape = jnp.broadcast_shapes(t.shape, x.shape[:-1])
    lam = jnp.broadcast_to(lam, (*shape, T))
    t = jnp.broadcast_to(t, shape)
    return jnp.exp(_saddlepoint_log_sf(t, lam, jnp.asarray(sigma2, x.dtype), J))
