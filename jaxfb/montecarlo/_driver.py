r"""The Monte Carlo driver: many draws of a per-draw statistic, batched, sharded and streamed.

Draw ``i`` (``0 <= i < num_draws``) evaluates ``statistic(jax.random.fold_in(key, i))``: its key
depends on ``(key, i)`` alone, never on the batch it falls in or the device that runs it.

Execution, per call of the one compiled batch function:

1. the global batch of ``batch_size`` draw indices ``start .. start + batch_size - 1`` is split
   evenly over the devices of a 1-D :class:`jax.sharding.Mesh` (axis ``"draws"``);
2. each device evaluates its share in fixed-size *microbatches* of ``microbatch`` draws
   (``jax.lax.map`` over ``jax.vmap``): the kernels always see the same shapes, so a draw's value
   is bitwise the same for any batch size and any number of devices (a vmapped matrix product, for
   one, may round differently at another batch width);
3. draws past ``num_draws`` (padding of the last batch) are masked out, not recompiled;
4. every reducer's ``summarize`` reduces the batch on the device; the small partials (replicated)
   cross to the host, where they are merged in float64 while the next batch already runs.

Precision targets and checkpoints:

- with ``targets`` (:class:`TargetSE`), ``num_draws`` is a ceiling: the run looks at the standard
  errors only after ``min_draws``, ``2 min_draws``, ``4 min_draws``, ... draws and stops at the
  first of these counts where every target is met. The counts are fixed in advance, so the
  draws that are made do not depend on the batch size or the devices either;
- with ``checkpoint=path``, the reducers' states and the number of draws reduced are written
  atomically to ``path`` at most every ``checkpoint_every`` seconds (and at the end); a later
  call with the same statistic, key, sizes and reducers resumes from there, so an interrupted run
  (Ctrl-C, ``kill -9``) loses at most ``checkpoint_every`` seconds and resumes to the same
  numbers. The file is a pickle: load only checkpoints you wrote.

Multi-host: call :func:`jax.distributed.initialize` first; the mesh then spans every process's
devices (``jax.devices()``), each process runs the same loop, and every process ends with the
same (replicated) result. See ``docs/performance.md``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import pickle
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from .. import _identity as _id
from .. import _validation as v
from .._sampling import _check_key
from ._reducers import Moments, resolve_reducers

__all__ = [
    "MonteCarloResult",
    "TargetSE",
    "choose_microbatch",
    "default_memory_budget",
    "monte_carlo",
    "parse_bytes",
    "statistic_bytes",
]

AXIS = "draws"
_MAX_DRAWS = 2**32  # draw indices are folded into the key as uint32
# Largest microbatch per platform: CPUs gain nothing from very wide vmaps, accelerators do.
_MAX_MICROBATCH = {"cpu": 128}
_MAX_MICROBATCH_ACCEL = 16384
# Draws per device per call (amortises the host round trip of the reducer partials).
_TARGET_DRAWS_PER_DEVICE = 4096


class MonteCarloResult(NamedTuple):
    """What :func:`monte_carlo` returns.

    Attributes:
        stats: ``{leaf name: {output name: ndarray}}``, e.g. ``stats["kappa"]["mean"]``.
        num_draws: draws reduced.
        batch_size: draws per call of the compiled function (all devices together).
        microbatch: draws vectorised at once on one device (fixes the rounding of every draw).
        num_batches: calls made.
        num_devices: devices the batch was sharded over.
        wall_time: seconds for the whole run, compilation included.
        compile_time: seconds spent tracing and compiling (0 when the function was cached).
        device_bytes: XLA's estimate of one device's memory for one batch (temporaries,
            arguments and outputs), or ``None`` where the backend does not report it.
        targets_met: with ``targets``, whether every target was met when the run stopped
            (``False``: ``num_draws`` reached the ceiling first); ``None`` without targets.
        resumed_draws: draws taken from a checkpoint rather than computed in this call.
    """

    stats: dict[str, dict[str, np.ndarray]]
    num_draws: int
    batch_size: int
    microbatch: int
    num_batches: int
    num_devices: int
    wall_time: float
    compile_time: float
    device_bytes: int | None
    targets_met: bool | None = None
    resumed_draws: int = 0


class TargetSE(NamedTuple):
    r"""A precision target: stop once the standard error of the mean of one leaf is small.

    Met when ``se <= rel * |mean|`` (if ``rel`` is given) and ``se <= abs`` (if ``abs`` is
    given), for every element of the leaf, the mean and SE coming from the leaf's
    :class:`~jaxfb.montecarlo.Moments` reducer (which the leaf must have). A non-finite mean or
    SE never meets a target.

    Args:
        leaf: the statistic leaf's name (e.g. ``"log_kappa"``; nested leaves as
            :func:`~jaxfb.montecarlo.resolve_reducers` names them).
        rel: relative target for ``se / |mean|``, e.g. ``0.01``.
        abs: absolute target for ``se``.
        min_draws: the first count at which the targets are looked at; later checks at
            ``2 min_draws, 4 min_draws, ...``.
    """

    leaf: str
    rel: float | None = None
    abs: float | None = None
    min_draws: int = 1000


def _check_targets(targets) -> tuple[TargetSE, ...]:
    if targets is None:
        return ()
    if isinstance(targets, TargetSE):
        targets = (targets,)
    out = []
    for i, t in enumerate(targets):
        if not isinstance(t, TargetSE):
            raise TypeError(f"targets[{i}] must be a jaxfb.montecarlo.TargetSE, got {t!r}")
        if t.rel is None and t.abs is None:
            raise ValueError(f"targets[{i}] ({t.leaf!r}) needs rel or abs")
        for name in ("rel", "abs"):
            x = getattr(t, name)
            number = isinstance(x, (int, float)) and not isinstance(x, bool)
            if x is not None and not (number and x > 0 and math.isfinite(x)):
                raise ValueError(f"targets[{i}].{name} must be a positive number, got {x!r}")
        v.static_int(f"targets[{i}].min_draws", t.min_draws, minimum=1)
        out.append(t)
    return tuple(out)


def _met(target: TargetSE, st: dict, draws: int) -> bool:
    """Whether ``target`` is met by the finalized statistics ``st`` after ``draws`` draws."""
    if draws < target.min_draws:
        return False
    mean, se = np.asarray(st["mean"], np.float64), np.asarray(st["se"], np.float64)
    ok = np.isfinite(mean) & np.isfinite(se)
    if target.rel is not None:
        ok &= se <= target.rel * np.abs(mean)
    if target.abs is not None:
        ok &= se <= target.abs
    return bool(np.all(ok))


def _schedule(targets: tuple[TargetSE, ...], num_draws: int) -> list[int]:
    """Draw counts at which targets are checked (the last one is ``num_draws``)."""
    if not targets:
        return [num_draws]
    first = min(t.min_draws for t in targets)
    out, n = [], first
    while n < num_draws:
        out.append(n)
        n *= 2
    return [*out, num_draws]


# ---------------------------------------------------------------------------------------------
# memory


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
        except Exception:  # backends without memory_stats
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


def _jaxpr_bytes(jaxpr) -> int:
    from jax.extend.core import jaxprs_in_params

    total = 0
    for eqn in jaxpr.eqns:
        total += sum(_aval_bytes(o.aval) for o in eqn.outvars)
        for sub in jaxprs_in_params(eqn.params):
            total += _jaxpr_bytes(sub)
    return total


def statistic_bytes(statistic: Callable, key: jax.Array) -> int:
    """Upper estimate of one draw's device memory: every intermediate of the jaxpr, none reused.

    XLA reuses buffers and fuses, so its real working set is smaller (3 to 5 times for the frame
    bound kernel); the estimate needs no compilation and does not depend on compiler choices.
    """
    closed = jax.make_jaxpr(statistic)(key)
    out = sum(_aval_bytes(a) for a in closed.out_avals)
    return max(1, _jaxpr_bytes(closed.jaxpr) + out)


def _floor_pow2(x: float) -> int:
    return 1 << max(0, math.floor(math.log2(max(x, 1.0))))


def choose_microbatch(bytes_per_draw: int, budget: int, platform: str) -> int:
    """Largest power of two ``m`` with ``m * bytes_per_draw <= budget``, capped per platform."""
    cap = _MAX_MICROBATCH.get(platform, _MAX_MICROBATCH_ACCEL)
    return max(1, min(cap, _floor_pow2(budget / max(bytes_per_draw, 1))))


# ---------------------------------------------------------------------------------------------
# the compiled batch function


def _key_parts(key) -> tuple[np.ndarray, Any]:
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
    return jax.jit(batch_fn, in_shardings=replicated, out_shardings=replicated), batch


@functools.lru_cache(maxsize=64)
def _no_args(statistic):
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


def _compiled(statistic, plans, treedef, kdata, impl, devices, microbatch, steps, args):
    x64 = bool(jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64)
    cache_key = (
        statistic, plans, treedef, str(impl), devices, microbatch, steps, x64,
        _args_signature(args),
    )  # fmt: skip
    hit = _COMPILED.get(cache_key)
    if hit is not None:
        _COMPILED.move_to_end(cache_key)
        return hit, 0.0
    t0 = time.perf_counter()
    mesh = Mesh(np.asarray(devices, dtype=object), (AXIS,))
    fn, batch = _make_batch_fn(statistic, plans, treedef, impl, mesh, microbatch, steps)
    compiled = fn.lower(kdata, np.uint32(0), np.uint32(0), args).compile()
    try:
        ma = compiled.memory_analysis()
        device_bytes = int(
            ma.temp_size_in_bytes + ma.argument_size_in_bytes + ma.output_size_in_bytes
        )
    except Exception:  # not every backend reports it
        device_bytes = None
    entry = (compiled, batch, device_bytes)
    _COMPILED[cache_key] = entry
    while len(_COMPILED) > _COMPILED_MAX:
        _COMPILED.popitem(last=False)
    return entry, time.perf_counter() - t0


def _fetch(tree):
    if jax.process_count() == 1:
        return jax.device_get(tree)
    # replicated outputs: every process reads its own copy
    return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)), tree)


# ---------------------------------------------------------------------------------------------


def monte_carlo(
    statistic: Callable[..., Any],
    key: jax.Array,
    num_draws: int,
    *,
    args: Any = None,
    reducers=None,
    batch_size: int | None = None,
    microbatch: int | None = None,
    memory_budget: int | str | None = None,
    devices: Sequence[jax.Device] | None = None,
    progress: bool | None = None,
    callback: Callable[[int], None] | None = None,
    targets: TargetSE | Sequence[TargetSE] | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: float = 60.0,
    checkpoint_mismatch: str = "raise",
) -> MonteCarloResult:
    r"""Reduce ``statistic`` over ``num_draws`` independent draws, streaming, on every device.

    Draw ``i`` computes ``statistic(jax.random.fold_in(key, i))``, so the draws (and, at a fixed
    ``microbatch``, their floating-point values) do not depend on ``batch_size`` or on the number
    of devices. One function is compiled for a run (the last, partial batch is padded and
    masked) and cached for the next run with the same statistic and sizes. Without
    :class:`~jaxfb.montecarlo.Samples` the host memory does not grow with ``num_draws``.

    Args:
        statistic: ``statistic(key) -> pytree of arrays`` for one draw (``statistic(key,
            args)`` when ``args`` is given); traced once under ``jax.vmap``, so it must be
            jit-compatible. Shapes must not depend on the key.
        key: a JAX PRNG key (``jax.random.key(seed)``).
        num_draws: number of draws, ``1 <= num_draws < 2**32``, static Python int.
        args: optional pytree of arrays passed to every draw as ``statistic(key, args)``, as
            traced operands: runs of the same ``statistic`` whose ``args`` have the same
            structure, shapes and dtypes share one compiled function (e.g. a filter length
            ``T`` passed as an int32 scalar, for one compile per padded length). Their values
            are part of a checkpoint's identity.
        reducers: which reducers each statistic leaf gets: ``None`` (count, moments, min,
            max for every leaf), a reducer or a sequence of them (for every leaf), or a mapping
            from leaf names (``fnmatch`` patterns allowed) to either; see
            :func:`~jaxfb.montecarlo.resolve_reducers`.
        batch_size: draws per call, all devices together; rounded up to a multiple of
            ``microbatch * num_devices`` and capped at what ``num_draws`` needs. Default:
            about 4096 draws per device, within the memory budget.
        microbatch: draws vectorised at once on a device. Default: the largest power of two
            whose estimated working set (:func:`statistic_bytes`) fits ``memory_budget``,
            capped at 128 on CPU and 16384 on accelerators.
        memory_budget: bytes one device may use for a batch (int or ``"512MB"``, ``"2GB"``);
            default a quarter of an accelerator's memory, 1 GiB on CPU.
        devices: devices to shard over (default ``jax.devices()``: every device of every
            process).
        progress: show a tqdm bar (``None``: only on a terminal).
        callback: called on the host with the number of new draws after every batch.
        targets: :class:`TargetSE` or a sequence of them: stop at the first scheduled count
            (``min_draws``, doubling) where all are met; ``num_draws`` is then the ceiling.
        checkpoint: file to save progress to and resume from (see the module docstring);
            a file written by a different run (other statistic, key, sizes, reducers or
            targets) is an error, never silently overwritten. Multi-host: every process reads
            it (only process 0 writes), so it must be on a filesystem they all share.
        checkpoint_every: seconds between checkpoint writes.
        checkpoint_mismatch: what to do with a checkpoint file written by a different run:
            ``"raise"`` (a ``ValueError``) or ``"restart"`` (ignore it; it is overwritten).

    Returns:
        :class:`MonteCarloResult`; ``result.stats[leaf][output]``, e.g.
        ``result.stats["kappa"]["mean"]``.

    Examples:
        >>> import jax, jaxfb
        >>> from jaxfb import montecarlo as mc
        >>> def stat(key):
        ...     A, B = jaxfb.frame_bounds(jaxfb.random_filterbank(key, 10, 16), 64)
        ...     return {"A": A, "B": B}
        >>> r = mc.monte_carlo(stat, jax.random.key(0), 1000, reducers=[mc.Moments(), mc.Min()])
        >>> sorted(r.stats["A"])
        ['mean', 'min', 'n', 'se', 'std', 'var']
    """
    t_start = time.perf_counter()
    kdata, impl = _key_parts(key)
    num_draws = v.static_int("num_draws", num_draws, minimum=1)
    if num_draws >= _MAX_DRAWS:
        raise ValueError(f"num_draws must be < 2**32, got {num_draws}")
    targets = _check_targets(targets)
    if checkpoint_mismatch not in ("raise", "restart"):
        raise ValueError(
            f"checkpoint_mismatch must be 'raise' or 'restart', got {checkpoint_mismatch!r}"
        )
    checkpoint_every = float(checkpoint_every)
    if not checkpoint_every >= 0:
        raise ValueError(f"checkpoint_every must be >= 0 seconds, got {checkpoint_every}")
    devices = tuple(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices is empty")
    n_dev = len(devices)
    budget = (
        default_memory_budget(devices[0]) if memory_budget is None else parse_bytes(memory_budget)
    )

    user_statistic = statistic
    if args is None:
        statistic = _no_args(user_statistic)
    else:
        args = jax.tree.map(jnp.asarray, args)
    out_shapes = jax.eval_shape(statistic, key, args)
    plans, treedef = resolve_reducers(out_shapes, reducers)
    names = {p.name for p in plans}
    for t in targets:
        if t.leaf not in names:
            raise ValueError(
                f"targets: {t.leaf!r} is not a leaf of the statistic (leaves: {sorted(names)})"
            )
        plan = next(p for p in plans if p.name == t.leaf)
        if not any(isinstance(r, Moments) for r in plan.reducers):
            raise ValueError(f"targets: leaf {t.leaf!r} needs a Moments reducer")
    if checkpoint is not None and jax.process_index() == 0:  # the process that writes it
        folder = os.path.dirname(os.path.abspath(os.fspath(checkpoint)))
        if not os.path.isdir(folder):
            raise ValueError(f"checkpoint: folder {folder!r} does not exist")
        if not os.access(folder, os.W_OK):
            raise ValueError(f"checkpoint: folder {folder!r} is not writable")
    out_bytes = sum(math.prod(p.shape) * p.dtype.itemsize for p in plans)

    if microbatch is None:
        microbatch = choose_microbatch(
            statistic_bytes(lambda k: statistic(k, args), key), budget, devices[0].platform
        )
    microbatch = v.static_int("microbatch", microbatch, minimum=1)
    per_device_needed = -(-num_draws // n_dev)
    max_steps = -(-per_device_needed // microbatch)
    if batch_size is None:
        # the batch's per-draw outputs are held a few times over (sharded, gathered, fetched)
        by_memory = max(1, budget // (8 * max(out_bytes, 1) * n_dev))
        target = max(2 * microbatch, min(_TARGET_DRAWS_PER_DEVICE, by_memory))
        steps = max(1, min(max_steps, target // microbatch))
        if targets:  # no bigger than the first checked count: little padding is computed
            first = -(-min(t.min_draws for t in targets) // n_dev)
            steps = max(1, min(steps, -(-first // microbatch)))
    else:
        batch_size = v.static_int("batch_size", batch_size, minimum=1)
        steps = max(1, min(max_steps, -(-batch_size // (n_dev * microbatch))))
    if (n_dev * microbatch * steps) + num_draws > _MAX_DRAWS:
        raise ValueError("num_draws plus the padding of the last batch must stay below 2**32")

    (compiled, batch, device_bytes), compile_time = _compiled(
        statistic, plans, treedef, kdata, impl, devices, microbatch, steps, args
    )
    states = [tuple(r.init(p.shape, p.dtype) for r in p.reducers) for p in plans]
    done, num_batches, resumed, met = 0, 0, 0, None
    fingerprint = None
    if checkpoint is not None:
        fingerprint = _fingerprint(
            kdata,
            impl,
            num_draws,
            batch,
            microbatch,
            plans,
            targets,
            _identity(statistic, key, args),
        )
        try:
            saved = _load_checkpoint(checkpoint, fingerprint)
        except _CheckpointMismatch:
            if checkpoint_mismatch == "raise":
                raise
            saved = None
        if saved is not None:
            states, done, met = saved["states"], saved["draws"], saved["targets_met"]
            resumed = done
        if jax.process_count() > 1:
            _check_processes_agree(checkpoint, done, met)

    def absorb(partials):
        host = _fetch(partials)
        for i, plan in enumerate(plans):
            states[i] = tuple(
                r.update(s, part)
                for r, s, part in zip(plan.reducers, states[i], host[i], strict=True)
            )

    def finalize():
        out: dict[str, dict[str, np.ndarray]] = {}
        for plan, st in zip(plans, states, strict=True):
            merged: dict[str, np.ndarray] = {}
            for r, s in zip(plan.reducers, st, strict=True):
                merged.update(r.finalize(s))
            out[plan.name] = merged
        return out

    stop = bool(targets) and met is True
    bar = None
    if not stop and (progress or (progress is None and sys.stderr.isatty())):
        from tqdm.auto import tqdm

        bar = tqdm(total=num_draws, initial=done, unit="draw", unit_scale=True, leave=False)
    last_save = time.monotonic()

    def step(n):
        nonlocal done, last_save
        done += n
        if bar is not None:
            bar.update(n)
        if callback is not None:
            callback(n)

    try:
        for seg_end in _schedule(targets, num_draws):
            if stop:
                break
            if seg_end < done or (seg_end == done and met is not None):
                continue  # a checkpoint already passed (and looked at) this count
            pending, pending_n = None, 0
            n_end = np.uint32(seg_end)
            for b0 in range(done, seg_end, batch):
                out = compiled(kdata, np.uint32(b0), n_end, args)  # asynchronous
                num_batches += 1
                if pending is not None:
                    absorb(pending)
                    step(pending_n)
                    if checkpoint is not None and time.monotonic() - last_save >= checkpoint_every:
                        _save_checkpoint(checkpoint, fingerprint, states, done, met)
                        last_save = time.monotonic()
                pending, pending_n = out, min(batch, seg_end - b0)
            if pending is not None:
                absorb(pending)
                step(pending_n)
            if targets:
                met = all(_met(t, finalize()[t.leaf], done) for t in targets)
                stop = met
        if checkpoint is not None:
            _save_checkpoint(checkpoint, fingerprint, states, done, met)
            if jax.process_count() > 1:  # no process reads it again before it is written
                from jax.experimental import multihost_utils

                multihost_utils.sync_global_devices("jaxfb.montecarlo checkpoint written")
    finally:
        if bar is not None:
            bar.close()

    return MonteCarloResult(
        stats=finalize(),
        num_draws=done,
        batch_size=batch,
        microbatch=microbatch,
        num_batches=num_batches,
        num_devices=n_dev,
        wall_time=time.perf_counter() - t_start,
        compile_time=compile_time,
        device_bytes=device_bytes,
        targets_met=met if targets else None,
        resumed_draws=resumed,
    )


# ---------------------------------------------------------------------------------------------
# checkpoints

_CKPT_FORMAT = "jaxfb.montecarlo.checkpoint/1"


class _CheckpointMismatch(ValueError):
    """A checkpoint file that another run wrote (or that cannot be read)."""


def _identity(statistic, key, args) -> str:
    """What ``statistic`` computes (:func:`jaxfb._identity.function_digest`) with these ``args``.

    Two statistics with the same output shapes but different filters, sizes, closed-over arrays
    or ``args`` values differ here, so a checkpoint of one is never resumed by the other.
    """
    return _id.digest([_id.function_digest(statistic, key, args), _id.values_digest(args)])


def _check_processes_agree(checkpoint, done: int, met) -> None:
    """Multi-host: every process must resume from the same checkpoint state."""
    from jax.experimental import multihost_utils

    code = {None: 0, False: 1, True: 2}[met]
    here = np.asarray([done >> 20, done & 0xFFFFF, code], np.int32)
    every = np.asarray(multihost_utils.process_allgather(here))
    if not np.all(every == every[0]):
        raise ValueError(
            f"checkpoint {os.fspath(checkpoint)!r}: the processes see different saved states "
            f"(draws {[(int(a) << 20) + int(b) for a, b, _ in every]}); put the checkpoint on a "
            "filesystem that every process shares"
        )


def _fingerprint(kdata, impl, num_draws, batch, microbatch, plans, targets, identity) -> str:
    """What a checkpoint must match to be resumed (the run's identity and its batch grid)."""
    text = repr(
        (
            identity,
            np.asarray(kdata).tolist(),
            str(impl),
            num_draws,
            batch,
            microbatch,
            [(p.name, p.shape, str(p.dtype), repr(p.reducers)) for p in plans],
            repr(targets),
            bool(jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _compact(state):
    """A reducer state with :class:`Samples`' chunks joined (smaller, faster pickles)."""
    if isinstance(state, dict) and isinstance(state.get("chunks"), list) and state["chunks"]:
        return {**state, "chunks": [np.concatenate(state["chunks"], axis=0)]}
    return state


def _save_checkpoint(path, fingerprint, states, draws, targets_met) -> None:
    if jax.process_index() != 0:
        return
    from ._io import atomic_write_bytes

    payload = {
        "format": _CKPT_FORMAT,
        "fingerprint": fingerprint,
        "draws": int(draws),
        "targets_met": targets_met,
        "states": [tuple(_compact(s) for s in st) for st in states],
    }
    atomic_write_bytes(path, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def _load_checkpoint(path, fingerprint) -> dict | None:
    path = os.fspath(path)
    if not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as f:
            payload = pickle.load(f)
    except Exception as e:
        raise _CheckpointMismatch(
            f"checkpoint {path!r} cannot be read ({e}); delete it to start over"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != _CKPT_FORMAT:
        raise _CheckpointMismatch(f"checkpoint {path!r} is not a jaxfb Monte Carlo checkpoint")
    if payload["fingerprint"] != fingerprint:
        raise _CheckpointMismatch(
            f"checkpoint {path!r} was written by a different run (key, num_draws, batch size, "
            "microbatch, reducers or targets differ); delete it or pass another path"
        )
    payload["states"] = [tuple(st) for st in payload["states"]]
    return payload
