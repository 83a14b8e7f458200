"""The compiled batch function of a Monte Carlo run, and the cache that shares it between runs.

One call evaluates the draws ``start .. start + batch - 1`` (sharded over a 1-D mesh, axis
``"draws"``; each device maps ``steps`` microbatches of ``microbatch`` vectorised draws), masks
the ones at or past ``num_draws`` and returns every reducer's partial summary (replicated). The
compiled function is cached by what it depends on: the statistic, the reducer plans, the key's
implementation, the devices, the layout, the x64 flag and the structure, shapes and dtypes of
``args`` (not their values, which are traced operands).
"""

from __future__ import annotations

import functools
import time
from collections import OrderedDict
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from .._sampling import _check_key
from ._layout import Layout

__all__ = ["compiled_batch", "fetch", "key_parts", "no_args"]

AXIS = "draws"


def key_parts(key) -> tuple[np.ndarray, Any]:
    """``(key data as uint32 NumPy, impl or None for a raw uint32 key)``."""
    _check_key(key)
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return np.asarray(jax.random.key_data(key)), jax.random.key_impl(key)
    return np.asarray(key), None


def _make_batch_fn(statistic, plans, treedef, impl, mesh, microbatch: int, steps: int):
    """The jitted batch function ``(kdata, start, num_draws, args) -> reducer partials``."""
    n_dev = mesh.devices.size
    batch = n_dev * microbatch * steps

    def wrap(kdata):
        return kdata if impl is None else jax.random.wrap_key_data(kdata, impl=impl)

    def per_device(kdata, idx, args):  # idx: this device's (microbatch * steps,) draw indices
        key = wrap(kdata)

        def draw(i):
            return statistic(jax.random.fold_in(key, i), args)

        out = jax.lax.map(jax.vmap(draw), idx.reshape(steps, microbatch))
        return jax.tree.map(lambda x: x.reshape(steps * microbatch, *x.shape[2:]), out)

    sharded = jax.shard_map(per_device, mesh=mesh, in_specs=(P(), P(AXIS), P()), out_specs=P(AXIS))

    def batch_fn(kdata, start, num_draws, args):
        idx = start + jnp.arange(batch, dtype=jnp.uint32)
        mask = idx < num_draws
        leaves = jax.tree.leaves(sharded(kdata, idx, args))
        if len(leaves) != len(plans):
            raise ValueError("the statistic's output structure changed between traces")
        return [
            tuple(r.summarize(x, mask) for r in plan.reducers)
            for plan, x in zip(plans, leaves, strict=True)
        ]

    replicated = NamedSharding(mesh, P())
    return jax.jit(batch_fn, in_shardings=replicated, out_shardings=replicated)


@functools.lru_cache(maxsize=64)
def no_args(statistic):
    """``statistic(key)`` as ``f(key, args)`` (one wrapper per statistic: compile caches hit)."""

    def with_args(key, args):
        del args
        return statistic(key)

    return with_args


_COMPILED: OrderedDict = OrderedDict()
_COMPILED_MAX = 16


def _args_signature(args) -> tuple:
    """What a compiled batch function depends on in ``args``: structure, shapes, dtypes."""
    leaves, treedef = jax.tree.flatten(args)
    return (str(treedef), tuple((np.shape(x), str(jnp.result_type(x))) for x in leaves))


def compiled_batch(statistic, plans, treedef, kdata, impl, layout: Layout, args):
    """``((compiled, device_bytes), compile_seconds)``: the batch function of a run, compiled
    once and then taken from the cache (``compile_seconds == 0``)."""
    x64 = bool(jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64)
    cache_key = (statistic, plans, treedef, str(impl), layout, x64, _args_signature(args))
    hit = _COMPILED.get(cache_key)
    if hit is not None:
        _COMPILED.move_to_end(cache_key)
        return hit, 0.0
    t0 = time.perf_counter()
    mesh = Mesh(np.asarray(layout.devices, dtype=object), (AXIS,))
    fn = _make_batch_fn(statistic, plans, treedef, impl, mesh, layout.microbatch, layout.steps)
    compiled = fn.lower(kdata, np.uint32(0), np.uint32(0), args).compile()
    try:
        ma = compiled.memory_analysis()
        device_bytes = int(
            ma.temp_size_in_bytes + ma.argument_size_in_bytes + ma.output_size_in_bytes
        )
    except Exception:  # not every backend reports it: the result says None
        device_bytes = None
    entry = (compiled, device_bytes)
    _COMPILED[cache_key] = entry
    while len(_COMPILED) > _COMPILED_MAX:
        _COMPILED.popitem(last=False)
    return entry, time.perf_counter() - t0


def fetch(tree):
    if jax.process_count() == 1:
        return jax.device_get(tree)
    # replicated outputs: every process reads its own copy
    return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)), tree)
