"""Helpers shared by the signal generators: dtypes, argument checks, unit-norm scaling."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

from .. import _validation as v
from .._sampling import _check_key as check_key

__all__ = ["check_key", "finish", "positive_float", "resolve_dtype"]


def resolve_dtype(dtype: Any) -> jnp.dtype:
    """``dtype`` as a NumPy dtype: default float32, or float64 when ``jax_enable_x64`` is on."""
    return v.float_dtype(dtype)


def positive_float(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite Python float > 0 (or >= 0), or raise naming ``name``."""
    if isinstance(value, jax.core.Tracer):
        raise TypeError(v.traced_static_message(name, value, "number"))
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a static Python number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}") from None
    if not math.isfinite(out) or out < 0 or (out == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return out


def finish(x: jax.Array, normalize: bool, what: str) -> jax.Array:
    """Scale a 1-D signal to unit Euclidean norm when ``normalize`` is true.

    A concrete all-zero signal raises (unit norm is impossible); under ``jit``/``vmap`` the values
    are unknown at trace time, so an all-zero signal is returned as zeros, never as NaN.
    """
    if not normalize:
        return x
    norm = jnp.sqrt(jnp.sum(x * x))
    if v.is_concrete(norm) and not bool(norm > 0):
        raise ValueError(
            f"{what} is all zeros and cannot be scaled to unit norm; pass normalize=False"
        )
    return x / jnp.where(norm > 0, norm, jnp.ones_like(norm))
