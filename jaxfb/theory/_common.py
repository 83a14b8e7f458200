"""Argument handling and small kernels shared by the theory modules (private)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validation as v
from .._sampling import INITS, init_spec

__all__ = [
    "autocorrelation_lags",
    "autocorrelation_np",
    "broadcast_batch",
    "gaussian_variance",
    "gram_eigenvalues_np",
    "gram_matrix",
    "host_side",
    "init_variance",
    "lengths_arg",
    "level_arg",
    "signals_arg",
]


def host_side(function: str, *, hint: str = "", **args) -> None:
    """Refuse traced arguments of a host-side (NumPy/SciPy) theory function, saying what to do.

    Called first thing by every such function: inside ``jax.jit`` (or ``vmap``/``grad``) its
    arguments are tracers without values, and NumPy would fail with a cryptic
    ``TracerArrayConversionError``.
    """
    for name, value in args.items():
        if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(value)):
            raise TypeError(
                f"jaxfb.theory.{function} is host-side NumPy/SciPy code (float64), "
                f"not a JAX kernel, but its argument {name} is traced ({type(value).__name__}): "
                f"it was called inside jax.jit, vmap or grad. Call it outside jit with concrete "
                f"values (Python numbers or NumPy arrays) and pass its result into the jitted "
                f"function as an argument or constant{hint}"
            )


def signals_arg(x, *, nonzero: bool) -> jax.Array:
    """Validate signals ``x`` of shape ``(..., N)``; ``nonzero`` forbids all-zero signals."""
    x = v.float_array("x", x)
    v.check_rank("x", x, 1, "(..., N)")
    v.check_finite("x", x)
    if nonzero:
        v.check_nonzero_rows("x", x)
    return x


def lengths_arg(length, n: int) -> tuple[tuple[int, ...], bool]:
    """Normalise ``length`` (a static int or a sequence of them) to ``(lengths, is_scalar)``."""
    scalar = not isinstance(length, (Sequence, np.ndarray)) or isinstance(length, str)
    if isinstance(length, np.ndarray) and length.ndim == 0:
        length, scalar = length.item(), True
    items = (length,) if scalar else tuple(length)
    if not items:
        raise ValueError("length must be a filter length or a non-empty sequence of them, got []")
    lengths = []
    for i, t in enumerate(items):
        name = "length" if scalar else f"length[{i}]"
        t = v.static_int(name, t, minimum=1)
        if t > n:
            raise ValueError(f"{name}={t} must be <= the signal length N={n}")
        lengths.append(t)
    return tuple(lengths), scalar


def level_arg(name: str, p, dtype) -> jax.Array:
    """A probability level in the open interval (0, 1) (checked when concrete)."""
    p = v.float_array(name, p)
    if v.is_concrete(p) and p.size:
        # the cast value is checked, in NumPy: a trace would stage jnp's cast of a concrete level
        a = np.asarray(p).astype(np.dtype(dtype))
        bad = ~((a > 0) & (a < 1))
        if np.any(bad):
            first = a[bad].ravel()[0]
            raise ValueError(f"{name} must lie in the open interval (0, 1), got {first!r}")
    return p.astype(dtype)


def broadcast_batch(names: tuple[str, str], a_batch, b_batch) -> tuple[int, ...]:
    """Broadcast two batch shapes with an error naming both arguments."""
    try:
        return tuple(np.broadcast_shapes(tuple(a_batch), tuple(b_batch)))
    except ValueError:
        raise ValueError(
            f"{names[0]} of shape {tuple(a_batch)} does not broadcast against the batch shape "
            f"{tuple(b_batch)} of {names[1]}"
        ) from None


def gaussian_variance(init: str, rescale, num_filters: int, length: int) -> float:
    """Per-weight variance of a normal init (the chi-squared model needs Gaussian weights)."""
    spec = init_spec(init)
    if spec.family != "normal":
        raise ValueError(
            f"init={init!r} has {spec.family} weights: the chi-squared representation, the exact "
            "distribution and the Chernoff bounds hold for Gaussian weights only (normal inits: "
            f"{sorted(k for k, s in INITS.items() if s.family == 'normal')})"
        )
    return init_variance(init, rescale, num_filters, length)


def init_variance(init: str, rescale, num_filters: int, length: int) -> float:
    """Per-weight variance of ``init`` exactly as :func:`jaxfb.random_filterbank` draws it."""
    spec = init_spec(init)
    if rescale is None:
        rescale = spec.name in ("gaussian", "uniform", "rademacher")
    return float(spec.variance(num_filters, length, rescale=bool(rescale)))


def autocorrelation_lags(x: jax.Array, max_lag: int) -> jax.Array:
    """Circular ``R(0 .. max_lag - 1)`` of ``(..., N)`` signals (traceable, dtype of ``x``)."""
    n = x.shape[-1]
    X = jnp.fft.rfft(x, axis=-1)
    R = jnp.fft.irfft(X.real**2 + X.imag**2, n=n, axis=-1)
    return R[..., :max_lag].astype(x.dtype)


def gram_matrix(R: jax.Array) -> jax.Array:
    """Symmetric Toeplitz ``Q[k, l] = R(|k - l|)`` from lags ``R(0 .. T-1)``: ``(..., T, T)``."""
    T = R.shape[-1]
    idx = np.abs(np.arange(T)[:, None] - np.arange(T)[None, :])
    return R[..., idx]


def autocorrelation_np(x: np.ndarray, max_lag: int) -> np.ndarray:
    """NumPy float64 version of :func:`autocorrelation_lags`."""
    x = np.asarray(x, dtype=np.float64)
    X = np.fft.rfft(x, axis=-1)
    R = np.fft.irfft(X.real**2 + X.imag**2, n=x.shape[-1], axis=-1)
    return R[..., :max_lag]


def gram_eigenvalues_np(x: np.ndarray, length: int) -> np.ndarray:
    """Float64 eigenvalues of ``Q_T`` (ascending), ``(..., N) -> (..., T)``, on the host."""
    R = autocorrelation_np(x, length)
    idx = np.abs(np.arange(length)[:, None] - np.arange(length)[None, :])
    return np.linalg.eigvalsh(R[..., idx])
