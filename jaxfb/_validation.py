"""Argument checks shared by every public function.

All checks run in Python at call (or trace) time. Shape and static-int checks always run; value
checks (finiteness, zero signals) run only when the array is concrete, i.e. outside ``jax.jit``:
a traced array has no values to look at, and a check inside a compiled kernel would cost a host
round trip on every call.
"""

from __future__ import annotations

import operator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def is_concrete(x: Any) -> bool:
    """True when ``x`` holds values (not a tracer inside ``jit``/``vmap``/``grad``)."""
    return not isinstance(x, jax.core.Tracer)


def traced_static_message(name: str, value: Any, what: str = "int") -> str:
    """The error for a static argument that arrived as a tracer (under ``jit``/``vmap``/``grad``).

    It names the argument and says how to make it static.
    """
    base = name.split("[")[0]
    return (
        f"{name} is traced ({type(value).__name__}), but it must be a static Python {what}: "
        f"{name} sets an array shape or a loop length, which jit must know when it compiles. "
        f"It was passed as an argument of a jitted (or vmapped) function; make that argument "
        f'static with jax.jit(f, static_argnames="{base}") or static_argnums=..., or bind it '
        f"before jitting with functools.partial(f, {base}=...)"
    )


def static_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Return ``value`` as a Python int, or raise naming ``name``.

    Shape-setting arguments are static: they must be Python (or NumPy) integers, never traced
    arrays and never booleans.
    """
    if isinstance(value, jax.core.Tracer):
        raise TypeError(traced_static_message(name, value))
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a static Python int, got {value!r}")
    try:
        out = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be a static Python int, got {type(value).__name__} {value!r}"
        ) from None
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {out}")
    return out


def shape_tuple(name: str, value: Any) -> tuple[int, ...]:
    """Normalise a shape argument (int or sequence of ints) to a tuple of non-negative ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    try:
        dims = tuple(static_int(f"{name}[{i}]", d, minimum=0) for i, d in enumerate(value))
    except TypeError as err:
        if isinstance(value, (tuple, list)):
            raise
        raise TypeError(f"{name} must be a tuple of ints, got {value!r}") from err
    return dims


def float_array(name: str, x: Any) -> jax.Array:
    """Convert to a JAX array of an inexact dtype (ints and bools become the default float)."""
    if x is None:
        raise TypeError(f"{name} must be an array, got None")
    try:
        arr = jnp.asarray(x)
    except TypeError as err:
        raise TypeError(f"{name} must be array-like, got {type(x).__name__}") from err
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(jax.dtypes.canonicalize_dtype(jnp.float64))
    return arr


def check_rank(name: str, x: jax.Array, min_rank: int, what: str) -> None:
    if x.ndim < min_rank:
        raise ValueError(f"{name} must have shape {what} (rank >= {min_rank}), got shape {x.shape}")


def check_finite(name: str, x: jax.Array) -> None:
    """Raise if a concrete array holds NaN or inf. No-op on tracers.

    The check runs in NumPy: a concrete array closed over by a function being traced must not
    be staged into the trace (``jnp`` operations on it would give tracers).
    """
    if is_concrete(x) and x.size and not np.all(np.isfinite(a := np.asarray(x))):
        bad = int(np.sum(~np.isfinite(a)))
        raise ValueError(f"{name} has {bad} non-finite entries (NaN or inf) out of {x.size}")


def check_nonzero_rows(name: str, x: jax.Array) -> None:
    """Raise if a concrete signal array has an all-zero signal along its last axis."""
    if is_concrete(x) and x.size:
        zero = ~np.any(np.asarray(x) != 0, axis=-1)  # NumPy, as in check_finite
        if np.any(zero):
            idx = tuple(int(i) for i in np.argwhere(zero)[0])
            raise ValueError(
                f"{name} contains an all-zero signal (at batch index {idx}); "
                "a ratio to ||x||^2 is undefined"
            )


def filterbank(name: str, w: Any) -> tuple[jax.Array, int, int]:
    """Validate a filterbank ``w`` of shape ``(..., J, T)`` and return ``(w, J, T)``."""
    w = float_array(name, w)
    check_rank(name, w, 2, "(..., num_filters, length)")
    J, T = w.shape[-2], w.shape[-1]
    if J < 1:
        raise ValueError(f"{name} must have at least one filter (J >= 1), got shape {w.shape}")
    if T < 1:
        raise ValueError(f"{name} must have filter length T >= 1, got shape {w.shape}")
    check_finite(name, w)
    return w, J, T


def signal_length(name: str, n: Any, length: int, length_name: str = "filter length T") -> int:
    """Validate the DFT size ``n`` against a filter length."""
    n = static_int(name, n, minimum=1)
    if n < length:
        raise ValueError(f"{name}={n} must be >= the {length_name}={length}")
    return n


def stride(name: str, value: Any, n: int) -> int:
    """Validate a decimation factor: a static int ``>= 1`` that divides the signal length ``n``."""
    value = static_int(name, value, minimum=1)
    if n % value:
        raise ValueError(
            f"{name}={value} must divide the signal length n={n}: pick a divisor of n, or pad "
            "the signal to a multiple of the stride"
        )
    return value


def float_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a NumPy dtype: default float32, or float64 when ``jax_enable_x64`` is on."""
    if dtype is None:
        dtype = jax.dtypes.canonicalize_dtype(jnp.float64)
    dtype = jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"dtype must be a real floating dtype, got {dtype}")
    return dtype
