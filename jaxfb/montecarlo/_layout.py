r"""How a Monte Carlo run is laid out on the devices: memory estimates, microbatch, batch size.

A run evaluates ``batch = num_devices * microbatch * steps`` draws per call of its compiled
function: every device maps ``steps`` microbatches of ``microbatch`` vectorised draws. The
microbatch is the largest power of two whose estimated working set (:func:`statistic_bytes`)
fits the memory budget, capped per platform; on CPU also the largest power of two whose largest
array (one draw's largest intermediate, :func:`largest_intermediate_bytes`, times the
microbatch) stays within a cache-sized bound. The number of steps aims at about 4096 draws per
device and call, within the budget, and no further than ``num_draws`` needs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from .. import _validation as v

__all__ = [
    "Layout",
    "choose_microbatch",
    "default_memory_budget",
    "largest_intermediate_bytes",
    "parse_bytes",
    "plan_layout",
    "statistic_bytes",
]

MAX_DRAWS = 2**32  # draw indices are folded into the key as uint32
# Largest microbatch per platform.
_MAX_MICROBATCH = {"cpu": 1024}
_MAX_MICROBATCH_ACCEL = 16384
# On CPU, the largest array of a microbatch (one draw's largest intermediate times the
# microbatch) is kept within this many bytes: small draws (the fast paths' few-kB arrays) gain
# from wide vmaps, which spread each operation's fixed costs, and large ones lose once their
# arrays leave the cache. docs/performance.md ("Microbatch on CPU") has the measurements.
_CPU_ARRAY_BYTES = 4 << 20
# Draws per device per call (amortises the host round trip of the reducer partials).
_TARGET_DRAWS_PER_DEVICE = 4096

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)


def parse_bytes(size: int | float | str) -> int:
    """``"512MB"``, ``"2GB"``, ``"1.5GiB"``, ``"1e9"`` or a number of bytes -> int (``> 0``).

    ``k, M, G, T`` are powers of 1000, ``Ki, Mi, Gi, Ti`` powers of 1024.
    """
    if isinstance(size, bool):
        raise TypeError(f"memory_budget must be a size, got {size!r}")
    if isinstance(size, (int, float, np.integer, np.floating)):
        out = int(size)
    else:
        m = _SIZE.match(str(size))
        if m is None:
            raise ValueError(f"memory_budget: cannot parse {size!r} (use e.g. 512MB, 2GB, 1GiB)")
        base = 1024 if m.group(3) else 1000
        out = int(float(m.group(1)) * base ** " kmgt".index(m.group(2).lower() or " "))
    if out <= 0:
        raise ValueError(f"memory_budget must be positive, got {size!r}")
    return out


def default_memory_budget(device: jax.Device) -> int:
    """Bytes one device may spend on a batch: a quarter of an accelerator's memory, 1 GiB on CPU."""
    if device.platform != "cpu":
        try:
            limit = (device.memory_stats() or {}).get("bytes_limit")
        except Exception:  # backends without memory_stats: the CPU default applies
            limit = None
        if limit:
            return int(limit) // 4
    return 1 << 30


def _aval_bytes(aval) -> int:
    shape = getattr(aval, "shape", None)
    if shape is None:
        return 0
    try:
        itemsize = np.dtype(aval.dtype).itemsize
    except TypeError:  # PRNG key dtypes
        itemsize = 8
    return math.prod(shape) * itemsize


def _jaxpr_bytes(jaxpr) -> tuple[int, int]:
    """``(sum, max)`` of the bytes of every intermediate of ``jaxpr`` and its sub-jaxprs."""
    from jax.extend.core import jaxprs_in_params

    total = largest = 0
    for eqn in jaxpr.eqns:
        sizes = [_aval_bytes(o.aval) for o in eqn.outvars]
        total += sum(sizes)
        largest = max(largest, *sizes, 0)
        for sub in jaxprs_in_params(eqn.params):
            sub_total, sub_largest = _jaxpr_bytes(sub)
            total += sub_total
            largest = max(largest, sub_largest)
    return total, largest


def _footprint(statistic: Callable, key: jax.Array) -> tuple[int, int]:
    """``(statistic_bytes, largest_intermediate_bytes)`` of one draw, from one trace."""
    closed = jax.make_jaxpr(statistic)(key)
    sizes = [_aval_bytes(a) for a in closed.out_avals]
    total, largest = _jaxpr_bytes(closed.jaxpr)
    return max(1, total + sum(sizes)), max(1, largest, *sizes)


def statistic_bytes(statistic: Callable, key: jax.Array) -> int:
    """Upper estimate of one draw's device memory: every intermediate of the jaxpr, none reused.

    XLA reuses buffers and fuses, so its real working set is smaller (3 to 5 times for the frame
    bound kernel); the estimate needs no compilation and does not depend on compiler choices.
    """
    return _footprint(statistic, key)[0]


def largest_intermediate_bytes(statistic: Callable, key: jax.Array) -> int:
    """Bytes of one draw's largest intermediate array (the size that a microbatch multiplies)."""
    return _footprint(statistic, key)[1]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _floor_pow2(x: float) -> int:
    return 1 << max(0, math.floor(math.log2(max(x, 1.0))))


def choose_microbatch(
    bytes_per_draw: int, budget: int, platform: str, largest_bytes: int | None = None
) -> int:
    """Largest power of two ``m`` with ``m * bytes_per_draw <= budget``, capped per platform;
    on CPU with ``largest_bytes`` (one draw's largest array) also ``m * largest_bytes`` within
    the cache-sized bound."""
    cap = _MAX_MICROBATCH.get(platform, _MAX_MICROBATCH_ACCEL)
    if platform == "cpu" and largest_bytes is not None:
        cap = min(cap, _floor_pow2(_CPU_ARRAY_BYTES / max(largest_bytes, 1)))
    return max(1, min(cap, _floor_pow2(budget / max(bytes_per_draw, 1))))


class Layout(NamedTuple):
    """Where and how wide a run computes: ``batch = len(devices) * microbatch * steps``."""

    devices: tuple[Any, ...]
    microbatch: int
    steps: int

    @property
    def batch(self) -> int:
        return len(self.devices) * self.microbatch * self.steps


def plan_layout(
    statistic: Callable,
    key: jax.Array,
    num_draws: int,
    *,
    out_bytes: int,
    devices,
    microbatch: int | None,
    batch_size: int | None,
    memory_budget: int | str | None,
    first_check: int | None,
) -> Layout:
    """The :class:`Layout` of a run of ``statistic(key) -> outputs of out_bytes`` per draw.

    ``first_check`` (the first draw count a precision target looks at) caps the default batch,
    so that little padding is computed before the first check.
    """
    devices = tuple(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices is empty")
    n_dev = len(devices)
    budget = (
        default_memory_budget(devices[0]) if memory_budget is None else parse_bytes(memory_budget)
    )
    if microbatch is None:
        platform = devices[0].platform
        total, largest = _footprint(statistic, key)
        microbatch = choose_microbatch(
            total, budget, platform, largest if platform == "cpu" else None
        )
    microbatch = v.static_int("microbatch", microbatch, minimum=1)
    max_steps = _ceil_div(_ceil_div(num_draws, n_dev), microbatch)
    if batch_size is None:
        # the batch's per-draw outputs are held a few times over (sharded, gathered, fetched)
        by_memory = max(1, budget // (8 * max(out_bytes, 1) * n_dev))
        target = max(2 * microbatch, min(_TARGET_DRAWS_PER_DEVICE, by_memory))
        steps = max(1, min(max_steps, target // microbatch))
        if first_check is not None:
            steps = max(1, min(steps, _ceil_div(_ceil_div(first_check, n_dev), microbatch)))
    else:
        batch_size = v.static_int("batch_size", batch_size, minimum=1)
        steps = max(1, min(max_steps, _ceil_div(batch_size, n_dev * microbatch)))
    layout = Layout(devices, microbatch, steps)
    if layout.batch + num_draws > MAX_DRAWS:
        raise ValueError("num_draws plus the padding of the last batch must stay below 2**32")
    return layout
