r"""The reproduction's per-draw statistics, run by the engine :func:`jaxfb.montecarlo.monte_carlo`.

Draw layout. Every point (an experiment at one filter length ``T``) has its own key; draw ``i``
of it uses ``jax.random.fold_in(point_key, i)`` (the engine's rule), so the numbers depend on the
config and not on batch sizes or the number of devices the draws are sharded over.

Padded lengths. A statistic is compiled once per *bucket* ``L >= T`` (not once per ``T``): it
draws ``(J, L)`` i.i.d. normal weights, zeroes the taps ``t >= T`` and rescales the others to
variance ``1/(J T)``. A filter zero-padded from ``T`` to ``L <= N`` taps has exactly the same
circular convolutions, Littlewood-Paley sum and energy as the length-``T`` filter, so this is an
exact sampler of the paper's filterbank, with ``T`` a traced int32 operand (``args``) and the
statistic one function object per ``(bucket, J set, N)`` (:func:`functools.lru_cache`), so that
the engine's compile cache hits for every ``T`` of a bucket.

Nested filterbanks. The frame-bound statistic draws ``J_max`` filters once and reads off the
frame bounds of the banks made of the first ``J`` filters for every ``J`` of a set (the
Littlewood-Paley sum is additive over filters: ``LP_J = (1/J) sum_{j<J} |w_j^|^2`` for per-tap
variance ``1/T``). Each ``J`` has the exact law of a fresh ``J``-filter bank; draws are shared
(paired) across ``J``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._energy import energy
from .._frames import littlewood_paley
from .._sampling import random_filterbank
from ..montecarlo import Samples, monte_carlo

__all__ = ["Draws", "draw", "energy_statistic", "frames_statistic", "masked_filterbank"]


def masked_filterbank(key, length, num_filters: int, padded: int, variance_filters: int):
    """``(J, L)`` weights: variance ``1/(J' T)`` on taps ``< T``, zero beyond (``J'`` =
    ``variance_filters``: ``J`` for the paper's bank, ``1`` for variance ``1/T``)."""
    w = random_filterbank(key, num_filters, padded)  # variance 1/(J L)
    t = jnp.asarray(length, w.dtype)
    scale = jnp.sqrt(num_filters * padded / (variance_filters * t))
    mask = jnp.where(jnp.arange(padded) < length, scale, jnp.zeros((), w.dtype))
    return w * mask.astype(w.dtype)[None, :]


@functools.lru_cache(maxsize=64)
def energy_statistic(num_filters: int, padded: int):
    """``stat(key, {"T", "signals" (S, N)}) -> {"energy": (S,)}``: one bank serves every signal."""

    def stat(key, args):
        w = masked_filterbank(key, args["T"], num_filters, padded, num_filters)
        return {"energy": energy(w, args["signals"])}

    return stat


@functools.lru_cache(maxsize=64)
def frames_statistic(filters: tuple[int, ...], padded: int, n: int):
    """``stat(key, {"T"}) -> {"A", "B"}``, each ``(len(filters),)``: nested banks' bounds."""

    def stat(key, args):
        w = masked_filterbank(key, args["T"], filters[-1], padded, 1)  # variance 1/T per tap
        lp, lower, upper = None, [], []
        for lo, hi in zip((0, *filters[:-1]), filters, strict=True):
            block = littlewood_paley(w[lo:hi], n)
            lp = block if lp is None else lp + block
            lower.append(jnp.min(lp / hi))  # the bank of the first `hi` filters
            upper.append(jnp.max(lp / hi))
        return {"A": jnp.stack(lower), "B": jnp.stack(upper)}

    return stat


class Draws(NamedTuple):
    """Every draw of one point (``{leaf: (draws, ...)}``) and the devices they ran on."""

    values: dict[str, np.ndarray]
    num_devices: int


def draw(statistic, key: jax.Array, draws: int, length: int, **args) -> Draws:
    """All ``draws`` values of ``statistic`` at filter length ``length`` (the engine's Samples)."""
    operands = {"T": jnp.asarray(length, jnp.int32), **args}
    res = monte_carlo(statistic, key, draws, args=operands, reducers=Samples(), progress=False)
    return Draws({k: v["samples"] for k, v in res.stats.items()}, res.num_devices)
