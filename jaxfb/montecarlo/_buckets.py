r"""Per-draw statistics of filterbanks over many filter lengths, with few compiles.

One compiled function per padded length (bucket) ``L >= T``: the filter length ``T`` is an
operand, the ``(J, L)`` weights have the taps ``t >= T`` zeroed (exact), so every ``T`` of a
bucket shares one compile of :func:`~jaxfb.montecarlo.monte_carlo`'s draw; the frame-bound
statistic reads the nested banks of the first ``J`` filters off one bank of ``J_max``, so one
draw serves every ``J``. The reproduction draws through them (``docs/reproduction.md``).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._energy import energy
from .._frames import frame_bounds, littlewood_paley
from .._sampling import random_filterbank
from ._driver import monte_carlo
from ._reducers import Samples

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
def energy_statistic(num_filters: int, padded: int, bounds: bool = False):
    """``stat(key, {"T", "signals" (S, N)}) -> {"energy": (S,)}``: one bank serves every signal;
    with ``bounds``, also the bank's frame bounds ``"A"``, ``"B"`` at ``N`` (the extremes of the
    energy over every unit-norm signal)."""

    def stat(key, args):
        w = masked_filterbank(key, args["T"], num_filters, padded, num_filters)
        out = {"energy": energy(w, args["signals"])}
        if bounds:
            out["A"], out["B"] = frame_bounds(w, args["signals"].shape[-1])
        return out

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
    """Every draw of one point (``{leaf: (draws, ...)}``), the devices they ran on and the
    seconds spent compiling (0 when the bucket's function was compiled already)."""

    values: dict[str, np.ndarray]
    num_devices: int
    compile_time: float


def draw(statistic, key: jax.Array, draws: int, length: int, **args) -> Draws:
    """All ``draws`` values of ``statistic`` at filter length ``length`` (the engine's Samples)."""
    operands = {"T": jnp.asarray(length, jnp.int32), **args}
    res = monte_carlo(statistic, key, draws, args=operands, reducers=Samples(), progress=False)
    values = {k: v["samples"] for k, v in res.stats.items()}
    return Draws(values, res.num_devices, res.compile_time)
