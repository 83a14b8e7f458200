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
  atomically to ``path`` at most every ``checkpoint_every`` seconds, at the end, and at once
  when the run is interrupted by an exception (``KeyboardInterrupt`` from Ctrl-C included); a
  later call with the same statistic, key, sizes and reducers resumes from there (with the
  sizes left to their defaults, at the sizes the file was written with), so an
  interrupted run resumes to the same numbers and ``kill -9`` loses at most
  ``checkpoint_every`` seconds. The file is a pickle: load only checkpoints you wrote.

Multi-host: call :func:`jax.distributed.initialize` first; the mesh then spans every process's
devices (``jax.devices()``), each process runs the same loop, and every process ends with the
same (replicated) result. See ``docs/performance.md``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _identity as _id
from .. import _validation as v
from ._batch import compiled_batch, fetch, key_parts, no_args
from ._checkpoint import (
    Checkpoint,
    CheckpointMismatch,
    Snapshot,
    check_processes_agree,
    run_identity,
    saved_layout,
)
from ._layout import MAX_DRAWS, Layout, plan_layout
from ._reducers import LeafPlan, Moments, resolve_reducers

__all__ = ["MonteCarloResult", "TargetSE", "monte_carlo"]


class MonteCarloResult(NamedTuple):
    """What :func:`monte_carlo` returns; ``print(result)`` shows :meth:`summary`.

    Attributes:
        stats: ``{leaf name: {output name: numpy.ndarray}}``, e.g. ``stats["kappa"]["mean"]``.
            Every value is a NumPy array, a 0-d array for a scalar (``float(x)`` or ``x.item()``
            gives the number); a leaf of shape ``s`` has ``mean`` of shape ``s``. The count of
            draws is ``count`` (from :class:`~jaxfb.montecarlo.Count`) and ``num_draws``.
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

    def summary(self) -> str:
        """A header line (draws, devices, time) and one line per leaf: ``mean +- se``."""
        head = (
            f"MonteCarloResult: {self.num_draws} draws on {self.num_devices} device(s) in "
            f"{self.wall_time:.3g} s (compile {self.compile_time:.3g} s)"
        )
        if self.resumed_draws:
            head += f", {self.resumed_draws} resumed from a checkpoint"
        if self.targets_met is not None:
            head += f", targets {'met' if self.targets_met else 'not met'}"
        return "\n".join([head, *(_leaf_line(k, st) for k, st in self.stats.items())])

    def __repr__(self) -> str:
        return self.summary()


def _leaf_line(name: str, st: dict[str, np.ndarray]) -> str:
    if "mean" in st:
        mean, se = np.asarray(st["mean"]), np.asarray(st["se"])
        if mean.ndim == 0:
            return f"  {name}: {float(mean):.6g} +- {float(se):.2g}"
        return (
            f"  {name} {mean.shape}: mean in [{np.min(mean):.6g}, {np.max(mean):.6g}], "
            f"se <= {np.max(se):.2g}"
        )
    return f"  {name}: {', '.join(sorted(st))}"


class TargetSE(NamedTuple):
    r"""A precision target: stop once the standard error of the mean of one leaf is small.

    Met when ``se <= rel * |mean|`` (if ``rel`` is given) and ``se <= abs`` (if ``abs`` is
    given), for every element of the leaf, the mean and SE coming from the leaf's
    :class:`~jaxfb.montecarlo.Moments` reducer (which the leaf must have). A non-finite mean or
    SE never meets a target.

    Args:
        leaf: the statistic leaf's name (e.g. ``"log_kappa"``; a nested leaf's path joined by
            ``/``, as for ``reducers`` in :func:`monte_carlo`).
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
            from leaf names to either. A leaf's name is its pytree path joined by ``/``
            (``"A"``, ``"fb/lower"``, ``"0"``; ``"value"`` for a bare array); keys may be
            ``fnmatch`` patterns (``"*"``), the first match wins, and a leaf no key matches
            is an error.
        batch_size: draws per call, all devices together; rounded up to a multiple of
            ``microbatch * num_devices`` and capped at what ``num_draws`` needs. Default:
            about 4096 draws per device, within the memory budget.
        microbatch: draws vectorised at once on a device. Default: the largest power of two
            whose estimated working set (every intermediate of one draw's jaxpr) fits
            ``memory_budget``, capped at 16384 on accelerators; on CPU at 1024 and where the
            largest array of a microbatch would pass 4 MiB (one draw's largest intermediate
            times the microbatch: wide for small draws, narrow for large ones).
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
            targets) is an error, never silently overwritten. With ``microbatch`` and
            ``batch_size`` left to their defaults, a checkpoint of this run is resumed at the
            sizes it was written with, whatever the defaults are now. Multi-host: every
            process reads it (only process 0 writes), so it must be on a filesystem they all
            share.
        checkpoint_every: seconds between checkpoint writes.
        checkpoint_mismatch: what to do with a checkpoint file written by a different run:
            ``"raise"`` (a ``ValueError``) or ``"restart"`` (ignore it; it is overwritten).

    Returns:
        :class:`MonteCarloResult`; ``result.stats[leaf][output]``, e.g.
        ``result.stats["kappa"]["mean"]`` (NumPy arrays, 0-d for scalars).

    Examples:
        >>> import jax, jaxfb
        >>> from jaxfb import montecarlo as mc
        >>> def stat(key):
        ...     A, B = jaxfb.frame_bounds(jaxfb.random_filterbank(key, 10, 16), 64)
        ...     return {"A": A, "B": B}
        >>> r = mc.monte_carlo(stat, jax.random.key(0), 1000, reducers=[mc.Moments(), mc.Min()])
        >>> sorted(r.stats["A"])
        ['mean', 'min', 'se', 'std', 'var']
    """
    t_start = time.perf_counter()
    kdata, impl = key_parts(key)
    num_draws = v.static_int("num_draws", num_draws, minimum=1)
    if num_draws >= MAX_DRAWS:
        raise ValueError(f"num_draws must be < 2**32, got {num_draws}")
    targets = _check_targets(targets)
    checkpoint_every = _check_checkpoint(checkpoint, checkpoint_every, checkpoint_mismatch)
    if args is None:
        statistic = no_args(statistic)
    else:
        args = jax.tree.map(jnp.asarray, args)
    plans, treedef = resolve_reducers(jax.eval_shape(statistic, key, args), reducers)
    _check_target_leaves(targets, plans)
    stat_id = None if checkpoint is None else _identity(statistic, key, args)
    if checkpoint is not None and microbatch is None and batch_size is None:
        # resume at the sizes the checkpoint was written with (the defaults may differ since)
        identity = run_identity(_run_record(stat_id, key, num_draws, None, plans, targets))
        saved = saved_layout(checkpoint, identity)
        if saved is not None:
            microbatch, batch_size = saved["microbatch"], saved["batch"]
    layout = plan_layout(
        lambda k: statistic(k, args),
        key,
        num_draws,
        out_bytes=sum(math.prod(p.shape) * p.dtype.itemsize for p in plans),
        devices=devices,
        microbatch=microbatch,
        batch_size=batch_size,
        memory_budget=memory_budget,
        first_check=min(t.min_draws for t in targets) if targets else None,
    )
    (compiled, device_bytes), compile_time = compiled_batch(
        statistic, plans, treedef, kdata, impl, layout, args
    )
    start = Snapshot(
        tuple(tuple(r.init(p.shape, p.dtype) for r in p.reducers) for p in plans), 0, None
    )
    ckpt = None
    if checkpoint is not None:
        record = _run_record(stat_id, key, num_draws, layout, plans, targets)
        ckpt = Checkpoint(checkpoint, record, checkpoint_every)
        start = _resume(ckpt, start, checkpoint_mismatch)
    run = _Run(compiled, kdata, args, plans, layout, ckpt, start)
    run.loop(targets, num_draws, progress=progress, callback=callback)
    return MonteCarloResult(
        stats=run.stats(),
        num_draws=run.snap.draws,
        batch_size=layout.batch,
        microbatch=layout.microbatch,
        num_batches=run.batches,
        num_devices=len(layout.devices),
        wall_time=time.perf_counter() - t_start,
        compile_time=compile_time,
        device_bytes=device_bytes,
        targets_met=run.snap.targets_met if targets else None,
        resumed_draws=start.draws,
    )


def _check_checkpoint(checkpoint, checkpoint_every, checkpoint_mismatch) -> float:
    if checkpoint_mismatch not in ("raise", "restart"):
        raise ValueError(
            f"checkpoint_mismatch must be 'raise' or 'restart', got {checkpoint_mismatch!r}"
        )
    every = float(checkpoint_every)
    if not every >= 0:
        raise ValueError(f"checkpoint_every must be >= 0 seconds, got {every}")
    if checkpoint is not None and jax.process_index() == 0:  # the process that writes it
        folder = os.path.dirname(os.path.abspath(os.fspath(checkpoint)))
        if not os.path.isdir(folder):
            raise ValueError(f"checkpoint: folder {folder!r} does not exist")
        if not os.access(folder, os.W_OK):
            raise ValueError(f"checkpoint: folder {folder!r} is not writable")
    return every


def _check_target_leaves(targets: tuple[TargetSE, ...], plans: tuple[LeafPlan, ...]) -> None:
    by_name = {p.name: p for p in plans}
    for t in targets:
        if t.leaf not in by_name:
            raise ValueError(
                f"targets: {t.leaf!r} is not a leaf of the statistic (leaves: {sorted(by_name)})"
            )
        if not any(isinstance(r, Moments) for r in by_name[t.leaf].reducers):
            raise ValueError(f"targets: leaf {t.leaf!r} needs a Moments reducer")


def _identity(statistic, key, args) -> str:
    """What ``statistic`` computes (:func:`jaxfb._identity.function_digest`) with these ``args``.

    Two statistics with the same output shapes but different filters, sizes, closed-over arrays
    or ``args`` values differ here, so a checkpoint of one is never resumed by the other.
    """
    return _id.digest([_id.function_digest(statistic, key, args), _id.values_digest(args)])


def _run_record(stat_id: str, key, num_draws, layout: Layout | None, plans, targets) -> dict:
    """What a checkpoint must match to be resumed: the run's identity (``stat_id``:
    :func:`_identity`) and its batch grid (``None`` before it is planned)."""
    return {
        "statistic": stat_id,
        "key": _id.values_digest(key),
        "num_draws": num_draws,
        "batch": None if layout is None else layout.batch,
        "microbatch": None if layout is None else layout.microbatch,
        "leaves": [[p.name, list(p.shape), str(p.dtype), repr(p.reducers)] for p in plans],
        "targets": [t._asdict() for t in targets],
        "x64": bool(jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64),
    }


def _resume(ckpt: Checkpoint, start: Snapshot, mismatch: str) -> Snapshot:
    """The checkpoint's snapshot (or ``start`` without one, or after a restarted mismatch)."""
    try:
        saved = ckpt.load()
    except CheckpointMismatch:
        if mismatch == "raise":
            raise
        saved = None
    snap = start if saved is None else saved
    if jax.process_count() > 1:
        check_processes_agree(ckpt.path, snap)
    return snap


class _Run:
    """The host side of a run: calls the compiled batch function, folds the partials into one
    consistent :class:`Snapshot` (replaced whole, so an interruption never sees half a batch),
    checks the targets on their schedule and checkpoints."""

    def __init__(self, compiled, kdata, args, plans, layout: Layout, ckpt, start: Snapshot):
        self.compiled, self.kdata, self.args = compiled, kdata, args
        self.plans, self.batch, self.ckpt = plans, layout.batch, ckpt
        self.snap = start
        self.batches = 0
        self._on_draws: Callable[[int], None] = lambda n: None

    def stats(self) -> dict[str, dict[str, np.ndarray]]:
        out = {}
        for plan, st in zip(self.plans, self.snap.states, strict=True):
            merged: dict[str, np.ndarray] = {}
            for r, s in zip(plan.reducers, st, strict=True):
                merged.update(r.finalize(s))
            out[plan.name] = {k: np.asarray(x) for k, x in merged.items()}
        return out

    def _absorb(self, partials, n: int) -> None:
        host = fetch(partials)
        states = tuple(
            tuple(r.update(s, part) for r, s, part in zip(plan.reducers, st, hp, strict=True))
            for plan, st, hp in zip(self.plans, self.snap.states, host, strict=True)
        )
        self.snap = self.snap._replace(states=states, draws=self.snap.draws + n)
        self._on_draws(n)
        if self.ckpt is not None and self.ckpt.due():
            self.ckpt.save(self.snap)

    def _segment(self, end: int) -> None:
        """Reduce the draws ``snap.draws .. end - 1``, one batch in flight ahead of the host."""
        pending = None
        for b0 in range(self.snap.draws, end, self.batch):
            out = self.compiled(self.kdata, np.uint32(b0), np.uint32(end), self.args)  # async
            self.batches += 1
            if pending is not None:
                self._absorb(*pending)
            pending = (out, min(self.batch, end - b0))
        if pending is not None:
            self._absorb(*pending)

    def _steps(self, targets, num_draws: int) -> None:
        for end in _schedule(targets, num_draws):
            if targets and self.snap.targets_met is True:
                return
            if end < self.snap.draws or (
                end == self.snap.draws and self.snap.targets_met is not None
            ):
                continue  # a checkpoint already passed (and looked at) this count
            self._segment(end)
            if targets:
                st = self.stats()
                met = all(_met(t, st[t.leaf], self.snap.draws) for t in targets)
                self.snap = self.snap._replace(targets_met=met)

    def loop(self, targets, num_draws: int, *, progress, callback) -> None:
        """Run to the end (or the targets); checkpoint at the end and on any interruption."""
        start, bar = self.snap, None
        finished = bool(targets) and start.targets_met is True
        if not finished and (progress or (progress is None and sys.stderr.isatty())):
            from tqdm.auto import tqdm

            bar = tqdm(
                total=num_draws, initial=start.draws, unit="draw", unit_scale=True, leave=False
            )

        def on_draws(n: int) -> None:
            if bar is not None:
                bar.update(n)
            if callback is not None:
                callback(n)

        self._on_draws = on_draws
        try:
            self._steps(targets, num_draws)
        except BaseException:  # Ctrl-C, a signal, a failing callback: keep what was done
            if self.ckpt is not None and self.snap is not start:
                self.ckpt.save(self.snap)
            raise
        finally:
            if bar is not None:
                bar.close()
        if self.ckpt is not None:
            self.ckpt.save(self.snap)
            if jax.process_count() > 1:  # no process reads it again before it is written
                from jax.experimental import multihost_utils

                multihost_utils.sync_global_devices("jaxfb.montecarlo checkpoint written")
