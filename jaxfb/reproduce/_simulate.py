r"""Chunked, jit-compiled Monte Carlo kernels of the reproduction: energies and frame bounds.

Draw layout. Every point (an experiment at one filter length ``T``) has its own key, and chunk
``i`` of its draws uses ``jax.random.fold_in(point_key, i)``; the compiled kernels see the same
shapes for every chunk, so a run's numbers depend on the config (seed, draws, chunk, buckets)
and on nothing else.

Padded lengths. A kernel is compiled once per *bucket* ``L >= T`` (not once per ``T``): it draws
``(batch, J, L)`` i.i.d. normal weights, zeroes the taps ``t >= T`` and rescales the others to
variance ``1/(J T)``. A filter zero-padded from ``T`` to ``L <= N`` taps has exactly the same
circular convolutions, Littlewood-Paley sum and energy as the length-``T`` filter, so this is an
exact sampler of the paper's filterbank, with ``T`` a traced argument.

Nested filterbanks. The frame-bound kernel draws ``J_max`` filters once and reads off the frame
bounds of the filterbanks made of the first ``J`` filters for every ``J`` of a set (the
Littlewood-Paley sum is additive over filters: ``LP_J = (1/J) sum_{j<J} |w_j^|^2`` for
per-tap variance ``1/T``). Each ``J`` has the exact law of a fresh ``J``-filter bank; draws are
shared (paired) across ``J``, which makes differences between ``J`` values more precise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._energy import energy
from .._frames import littlewood_paley
from .._sampling import random_filterbank

__all__ = ["batch_layout", "energy_draws", "frame_bound_draws", "run_chunks"]


def batch_layout(draws: int, chunk: int) -> tuple[int, int]:
    """``(num_chunks, batch)``: the fewest chunks of at most ``chunk`` draws, evenly sized."""
    num = max(1, math.ceil(draws / chunk))
    return num, math.ceil(draws / num)


def run_chunks(fn: Callable, key: jax.Array, draws: int, chunk: int):
    """Call ``fn(fold_in(key, i))`` per chunk; concatenate the leaves (NumPy), cut to ``draws``."""
    num, _ = batch_layout(draws, chunk)
    parts = [jax.tree.map(np.asarray, fn(jax.random.fold_in(key, i))) for i in range(num)]
    return jax.tree.map(lambda *xs: np.concatenate(xs, axis=0)[:draws], *parts)


def _masked_filterbank(key, length, num_filters, padded, batch, per_tap_variance_filters):
    """``(batch, J, L)`` weights: variance ``1/(J' T)`` on taps ``< T``, zero beyond.

    ``J' = per_tap_variance_filters`` (``J`` for the paper's bank; ``1`` gives variance ``1/T``).
    """
    w = random_filterbank(key, num_filters, padded, batch_shape=(batch,))  # variance 1/(J L)
    t = jnp.asarray(length, w.dtype)
    scale = jnp.sqrt(num_filters * padded / (per_tap_variance_filters * t))
    taps = jnp.arange(padded)
    mask = jnp.where(taps < length, scale, jnp.zeros((), w.dtype)).astype(w.dtype)
    return w * mask[None, None, :]


@partial(jax.jit, static_argnames=("num_filters", "padded", "batch"))
def _energy_batch(key, length, signals, *, num_filters, padded, batch):
    w = _masked_filterbank(key, length, num_filters, padded, batch, num_filters)
    return energy(w[:, None], signals)  # (batch, S): one draw of w serves every signal


def energy_draws(
    key: jax.Array,
    signals: jax.Array,
    num_filters: int,
    length: int,
    padded: int,
    draws: int,
    chunk: int,
) -> np.ndarray:
    r"""``(draws, S)`` energies :math:`\|\Phi x_s\|^2` of Gaussian filterbanks (var ``1/(J T)``).

    Args:
        key: PRNG key of this point.
        signals: ``(S, N)`` signals.
        num_filters: ``J``.
        length: ``T <= padded``.
        padded: compiled length ``L`` (``T <= L <= N``).
        draws: filterbanks.
        chunk: most draws per call.
    """
    _, batch = batch_layout(draws, chunk)
    fn = partial(
        _energy_batch,
        length=jnp.asarray(length, jnp.int32),
        signals=signals,
        num_filters=num_filters,
        padded=padded,
        batch=batch,
    )
    return run_chunks(fn, key, draws, chunk)


@partial(jax.jit, static_argnames=("filters", "padded", "n", "batch"))
def _frames_batch(key, length, *, filters, padded, n, batch):
    w = _masked_filterbank(key, length, filters[-1], padded, batch, 1)  # variance 1/T per tap
    lp = None
    lower, upper = [], []
    for lo, hi in zip((0, *filters[:-1]), filters, strict=True):
        block = littlewood_paley(w[:, lo:hi], n)
        lp = block if lp is None else lp + block
        lp_j = lp / hi  # the bank of the first `hi` filters, variance 1/(hi T)
        lower.append(jnp.min(lp_j, axis=-1))
        upper.append(jnp.max(lp_j, axis=-1))
    return jnp.stack(lower, axis=-1), jnp.stack(upper, axis=-1)


def frame_bound_draws(
    key: jax.Array,
    filters: tuple[int, ...],
    length: int,
    padded: int,
    n: int,
    draws: int,
    chunk: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``(A, B)``, each ``(draws, len(filters))``: frame bounds of nested Gaussian filterbanks.

    Args:
        key: PRNG key of this point.
        filters: increasing ``J`` values; column ``i`` is the bank of the first ``filters[i]``
            filters.
        length: ``T <= padded``.
        padded: compiled length ``L`` (``T <= L <= n``).
        n: signal length ``N``.
        draws: filterbanks.
        chunk: most draws per call.
    """
    _, batch = batch_layout(draws, chunk)
    fn = partial(
        _frames_batch,
        length=jnp.asarray(length, jnp.int32),
        filters=tuple(filters),
        padded=padded,
        n=n,
        batch=batch,
    )
    return run_chunks(fn, key, draws, chunk)
