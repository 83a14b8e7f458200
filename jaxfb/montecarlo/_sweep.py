r"""Sweeps: Monte Carlo over a grid of ``(J, T, N, C, d, init)`` points (and signals), resumable.

A sweep is a grid of points (see :mod:`jaxfb.montecarlo._points` for one point's key, statistic
and files) run one after the other on the engine, each sharded over every device, and a summary
table with one row per ``(point, signal)``.

Resumption:

- a point is done when the folder holds a ``.json`` of the same configuration (found by its
  content, whatever the file's name) and its ``.npz``; a rerun skips it, so an interrupted run
  (Ctrl-C, ``kill -9``) resumes to identical results;
- the point in progress is checkpointed (``<name>.ckpt``, every ``checkpoint_every`` seconds,
  see :func:`~jaxfb.montecarlo.monte_carlo`), and at once on ``SIGINT`` or ``SIGTERM``: the
  sweep then says that the same call resumes and re-raises (``KeyboardInterrupt`` for SIGINT,
  ``SystemExit(128 + signal)`` otherwise), so a long point loses nothing to Ctrl-C and at most
  ``checkpoint_every`` seconds to ``kill -9``;
- at the start the sweep says (on stderr) how many points are done, which point resumes from a
  checkpoint at how many draws, and how many points of another configuration (other draws,
  seed, signals, ...) the folder holds; those are left as they are and are not in the table.

Paths: each point draws by the cheapest exact path for its ``(J, T, N, C, d, init)``
(``method="auto"``, see :func:`~jaxfb.montecarlo._points.point_method`: at ``C = d = 1`` the
spectrum at ``T = N``, the equivalent filterbank where ``J > T``, the weights otherwise, see
:func:`jaxfb.sample_frame_bounds`; for a layer the equivalent filterbank where ``J > C T`` and
cheaper, the weights otherwise), recorded in its ``.json`` and the ``method`` column. The choice
depends on the point alone, and the point's key, its ``fold_in(key, i)`` draws, resumption and
precision targets work the same on every path.

Layers: ``in_channels`` (``C``) and ``stride`` (``d``) make each point a 1-D convolution layer
``(J, C, T)`` at stride ``d`` (:func:`jaxfb.conv_frame_bounds`; ``A`` and ``B`` are not
renormalised by the stride). At ``C = d = 1`` a point's configuration, key and file name are those
of the filterbank point of sweeps older than these axes, so those resume. A layer with
``J < d C`` or ``T < d`` is never a frame: it is run (``A = 0``, ``kappa = inf`` at every draw,
counted in ``*_nonfinite``) and the sweep warns once.

Precision targets: with ``target_rse``, ``num_draws`` is a ceiling and each point draws
``min_draws, 2 min_draws, 4 min_draws, ...`` filterbanks until the standard error of the mean of
every statistic in ``target_stats`` is at most ``target_rse`` times the mean's magnitude. A target
on ``kappa`` is not applied where ``J <= 4``: ``Var[kappa]`` is infinite there (docs/theory.md
section 2), so its standard error means nothing; ``log kappa`` carries the target there.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _identity as _id
from .. import _validation as v
from .. import io
from .._env import environment
from .._sampling import init_spec
from ._checkpoint import saved_draws
from ._layout import MAX_DRAWS, parse_bytes
from ._points import (
    DEFAULT_QUANTILES,
    FORMAT,
    LOG_EDGES,
    POSITIVE_EDGES,
    no_frame,
    point_method,
    run_point,
    summary_columns,
    summary_table,
)
from ._signals import SIGNAL_NAMES

__all__ = ["KEEP_SAMPLES_MAX_DRAWS", "sweep"]

KEEP_SAMPLES_MAX_DRAWS = 10**6
"""``keep_samples=None`` keeps samples (exact quantiles) up to this many draws per point."""
_SETTINGS = ("draws", "seed", "signals", "dtype", "keep_samples", "quantiles", "target")
_ELSEWHERE = {"rows": []}  # a point process 0 found finished and this process cannot read


class _Point(NamedTuple):
    config: dict[str, Any]
    stem: str

    def label(self) -> str:
        c = self.config
        layer = "".join(f" {k}={c[k]}" for k in ("C", "stride") if k in c)
        return f"J={c['J']} T={c['T']} N={c['N']}{layer} {c['init']}"


def sweep(
    out: str | Path,
    *,
    num_filters: int | Sequence[int],
    length: int | Sequence[int],
    n: int | Sequence[int],
    num_draws: int,
    seed: int,
    init: str | Sequence[str] = "gaussian",
    in_channels: int | Sequence[int] = 1,
    stride: int | Sequence[int] = 1,
    signals: str | Sequence[str] | None = None,
    keep_samples: bool | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    batch_size: int | None = None,
    microbatch: int | None = None,
    memory_budget: int | str | None = None,
    devices=None,
    progress: bool | None = None,
    target_rse: float | None = None,
    target_stats: str | Sequence[str] = ("log_kappa", "kappa"),
    min_draws: int = 1000,
    checkpoint_every: float = 60.0,
    method: str = "auto",
) -> dict[str, np.ndarray]:
    r"""Run (or resume) a Monte Carlo sweep over the grid ``J x T x N x C x d x init`` and
    tabulate it.

    Every point draws ``num_draws`` filterbanks and reduces ``A``, ``B``, ``kappa``,
    ``log kappa`` (and the energy of each signal) with streaming statistics; see the module
    docstring for resumption and interruptions. ``out`` receives, per point, ``<name>.npz``
    (arrays ``"<stat>.<output>"``, e.g. ``"kappa.mean"``, ``"kappa.samples"`` (float32) or
    ``"kappa.hist_counts"``; plus ``"signals"``) and ``<name>.json`` (configuration, seed, key
    words, versions, device, wall time, summary rows; read both with
    :func:`~jaxfb.montecarlo.load_point`), and ``summary.csv`` for the whole grid
    (:func:`~jaxfb.montecarlo.read_summary`).

    Args:
        out: results folder (created; must be writable).
        num_filters, length, n: ``J``, ``T``, ``N``: an int or a sequence of ints each; every
            combination must have ``T <= N``. ``n="T"`` sets ``N = T`` at every point (the
            ``N`` frequencies of the Littlewood-Paley sum are then independent).
        num_draws: filterbanks per point, ``1 <= num_draws < 2**32``.
        seed: the sweep's seed (no default: say which).
        init: init name(s), see :data:`jaxfb.INITS`.
        in_channels: ``C``, input channels of the layer: an int or a sequence of ints ``>= 1``
            (default 1, a filterbank). Weights ``(J, C, T)`` of :func:`jaxfb.random_filterbank`
            with ``in_channels=C`` (variance ``1/(J T)`` for ``"gaussian"``, the framework's
            fan-in/fan-out variances for the framework inits).
        stride: ``d``, the layer's stride: an int or a sequence of ints ``>= 1``, each dividing
            every ``N`` of the grid (default 1). ``A`` and ``B`` are those of
            :func:`jaxfb.conv_frame_bounds` (no renormalisation by the stride). Points with
            ``J < d C`` or ``T < d`` are no frame (``A = 0``, ``kappa = inf``): they are run
            and recorded, with one warning.
        signals: signal name(s) from :data:`jaxfb.signals.SIGNALS` (e.g. ``"impulse"``,
            ``"alternating"``, ``"white_noise"``, ``"lazy_random_walk"``), or ``None``. Random
            signals are drawn once per ``(seed, name, N)`` and saved with the point. Only with
            ``in_channels = stride = 1``.
        keep_samples: keep every draw (saved as float32; exact quantiles). Default: when
            ``num_draws <= 10**6``; otherwise fixed-edge histograms give the quantiles (to a
            bin, 0.23 % relative) and memory does not grow with ``num_draws``.
        quantiles: probabilities tabulated besides the median.
        batch_size, microbatch, memory_budget, devices: passed to
            :func:`~jaxfb.montecarlo.monte_carlo` (execution only: they are not part of a
            point's identity, and a finished point is reused whatever they were).
        progress: a tqdm bar over the grid's points (``True``); one line per finished point on
            stderr (``None`` without a terminal; with one, the bar); neither (``False``).
        target_rse: relative standard error to reach, e.g. ``0.01``; ``num_draws`` is then the
            ceiling, and the ``draws`` column holds the draws made (see the module docstring).
        target_stats: statistics the target applies to, from ``A, B, kappa, log_kappa``
            (``kappa`` is exempt where ``J <= 4``, for a layer ``J <= d C + 3``).
        min_draws: first count at which a target is looked at (then doubling).
        checkpoint_every: seconds between checkpoints of the point in progress.
        method: how each point draws its Littlewood-Paley sum (the frame bounds and energies
            come from it): ``"auto"`` (default) the cheapest exact path for the point, chosen
            from ``(J, T, N, C, d, init)`` alone: ``"spectrum"`` at ``T = N`` and ``C = d = 1``
            (independent gamma values, no FFT), ``"gram"`` where ``J > C T`` (the ``C T``
            rows of :func:`jaxfb.equivalent_filterbank`), ``"weights"`` (``J C T`` random
            weights) where neither applies or is cheaper, or for a non-Gaussian init; or one of
            these names for every point (``ValueError`` where it does not apply). The paths
            share one law, not their draws: the results of two methods agree within Monte Carlo
            error. The method is part of a point's configuration (its ``.json`` and the
            ``method`` column), so a point drawn by another path is not resumed as this one.

    Returns:
        The summary table as ``{column: 1-D array}`` (one entry per ``(point, signal)`` row;
        columns ``J, T, N, C, stride, init, [signal,] draws, seed, ...``, then
        ``<stat>_<value>`` for ``A, B, kappa, log_kappa`` (and ``energy`` with signals)), the
        same as ``summary.csv``.

    Multi-host (after :func:`jax.distributed.initialize`): every process calls ``sweep`` with the
    same arguments; each point is sharded over all devices; process 0 alone writes (and
    speaks), and the processes follow process 0's view of which points are finished. The table
    is complete on process 0 (elsewhere it lacks the points this process cannot read).

    Raises:
        ValueError: an empty grid, ``T > N``, a stride that does not divide ``N``, signals with
            ``C`` or ``d`` other than 1, an unknown init or signal, bad counts; raised before
            anything is written.
        OSError: ``out`` cannot be created or written.
        KeyboardInterrupt, SystemExit: on SIGINT, SIGTERM, after checkpointing the point.

    Examples:
        >>> import tempfile
        >>> from jaxfb import montecarlo as mc
        >>> t = mc.sweep(tempfile.mkdtemp(), num_filters=10, length=16, n=64, num_draws=200,
        ...              seed=0, signals=["impulse", "alternating"], progress=False)
        >>> t["signal"].tolist(), bool((t["kappa_median"] > 1).all())
        (['impulse', 'alternating'], True)
    """
    settings = _settings(
        num_draws=num_draws, seed=seed, signals=signals, keep_samples=keep_samples,
        quantiles=quantiles, target_rse=target_rse, target_stats=target_stats,
        min_draws=min_draws,
    )  # fmt: skip
    points = _expand(num_filters, length, n, init, settings, method, in_channels, stride)
    engine = _engine_options(batch_size, microbatch, memory_budget, devices, checkpoint_every)
    writer = jax.process_index() == 0
    folder = io.check_writable(out) if writer else Path(out)
    if writer:
        io.remove_stale_temporaries(folder)
    done, foreign = _scan(folder, points)
    if writer:
        _announce(folder, points, done, foreign)
    metas = _run_points(folder, points, done, writer, progress, engine)
    columns = summary_columns(settings["quantiles"], signals=bool(settings["signals"]))
    table = summary_table([row for m in metas for row in m.get("rows", [])], columns)
    if writer:
        io.write_csv(folder / "summary.csv", table)
    return table


# ---------------------------------------------------------------------------------------------
# the grid


def _as_list(name: str, value, kind) -> list:
    if value is None:
        return []
    if isinstance(value, (str, int, np.integer)) and not isinstance(value, bool):
        value = [value]
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{name} must be a value or a sequence of values, got {value!r}") from None
    out = []
    for i, x in enumerate(items):
        x = v.static_int(f"{name}[{i}]", x, minimum=1) if kind is int else x
        if kind is str and not isinstance(x, str):
            raise TypeError(f"{name}[{i}] must be a string, got {x!r}")
        if x not in out:
            out.append(x)
    return out


def _target(target_rse, target_stats, min_draws, num_draws) -> dict | None:
    if target_rse is None:
        return None
    if isinstance(target_rse, bool) or not (
        isinstance(target_rse, (int, float)) and 0 < target_rse < math.inf
    ):
        raise ValueError(f"target_rse must be a positive number, got {target_rse!r}")
    tstats = _as_list("target_stats", target_stats, str)
    for name in tstats:
        if name not in ("A", "B", "kappa", "log_kappa"):
            raise ValueError(
                f"target_stats: unknown statistic {name!r}; choose from A, B, kappa, log_kappa"
            )
    if not tstats:
        raise ValueError("target_stats is empty")
    min_draws = v.static_int("min_draws", min_draws, minimum=2)
    if min_draws > num_draws:
        raise ValueError(f"min_draws ({min_draws}) must be <= num_draws ({num_draws})")
    return {"rse": float(target_rse), "stats": tstats, "min_draws": min_draws}


def _settings(
    *, num_draws, seed, signals, keep_samples, quantiles, target_rse, target_stats, min_draws
) -> dict[str, Any]:
    """The part of every point's configuration that the grid's axes do not set (validated)."""
    sigs = _as_list("signals", signals, str)
    for name in sigs:
        if name not in SIGNAL_NAMES:
            raise ValueError(f"unknown signal {name!r}; choose from {', '.join(SIGNAL_NAMES)}")
    num_draws = v.static_int("num_draws", num_draws, minimum=1)
    if num_draws >= MAX_DRAWS:
        raise ValueError(f"num_draws must be < 2**32, got {num_draws}")
    quantiles = [float(q) for q in quantiles]
    if any(not (0.0 < q < 1.0) for q in quantiles):
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {quantiles}")
    keep = bool(num_draws <= KEEP_SAMPLES_MAX_DRAWS if keep_samples is None else keep_samples)
    out = {
        "signals": sigs, "draws": num_draws, "seed": v.static_int("seed", seed),
        "dtype": str(np.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))),
        "keep_samples": keep, "quantiles": quantiles, "format": FORMAT,
        "histogram": None if keep else {
            "positive": list(POSITIVE_EDGES), "log_kappa": list(LOG_EDGES)},
    }  # fmt: skip
    target = _target(target_rse, target_stats, min_draws, num_draws)
    if target is not None:  # absent otherwise: older configurations keep their names
        out["target"] = target
    return out


def _check_layers(Ts, Ns, Cs, ds, settings: dict) -> None:
    """A stride must divide every ``N`` of the grid; signals need ``C = d = 1``."""
    lengths = sorted({T if N == "T" else N for T in Ts for N in Ns})
    bad = sorted({(d, N) for d in ds for N in lengths if N % d})
    if bad:
        raise ValueError(
            f"stride must divide the signal length N; the grid has (stride, N) = {bad}: pick "
            "strides that divide every N of the grid (or signal lengths that are multiples of "
            "every stride)"
        )
    if settings["signals"] and (Cs != [1] or ds != [1]):
        raise ValueError(
            f"signals: the energies are swept at in_channels=1 and stride=1 only, this grid has "
            f"in_channels={Cs}, stride={ds}; sweep the signals in a grid of their own"
        )


def _warn_no_frames(points: list[_Point]) -> None:
    """One warning for the points that are never frames (``A = 0``, ``kappa = inf``)."""
    layers = [(p, p.config.get("C", 1), p.config.get("stride", 1)) for p in points]
    dead = [
        p for p, C, d in layers if no_frame(p.config["J"], p.config["T"], in_channels=C, stride=d)
    ]
    if dead:
        warnings.warn(
            f"{len(dead)} point(s) of the grid are no frame (J < stride * C, or T < stride), e.g. "
            f"{dead[0].label()}: A = 0 and kappa = inf at every draw; they are run and "
            "recorded so (see jaxfb.conv_frame_bounds)",
            RuntimeWarning,
            stacklevel=3,
        )


def _expand(
    num_filters, length, n, init, settings: dict, method="auto", in_channels=1, stride=1
) -> list[_Point]:
    """Every point of the grid ``J x T x N x C x d x init``, in that order (validated), each
    with the path that draws it (``"method"``; absent for ``"weights"``, so that the points of
    sweeps older than the other paths keep their names) and ``"C"``, ``"stride"`` where not 1
    (the same reason)."""
    Js = _as_list("num_filters", num_filters, int)
    Ts = _as_list("length", length, int)
    Ns = ["T"] if isinstance(n, str) and n == "T" else _as_list("n", n, int)
    Cs = _as_list("in_channels", in_channels, int)
    ds = _as_list("stride", stride, int)
    inits = _as_list("init", init, str)
    axes = {"num_filters": Js, "length": Ts, "n": Ns, "in_channels": Cs, "stride": ds}
    for axis, vals in (*axes.items(), ("init", inits)):
        if not vals:
            raise ValueError(f"empty grid: {axis} has no values")
    for name in inits:
        init_spec(name)
    bad = [(T, N) for T in Ts for N in Ns if N != "T" and T > N]
    if bad:
        raise ValueError(
            f"filter length T must be <= signal length N; the grid has T > N at (T, N) = {bad}"
        )
    _check_layers(Ts, Ns, Cs, ds, settings)
    points = []
    for J, T, N, C, d, ini in itertools.product(Js, Ts, Ns, Cs, ds, inits):
        N = T if N == "T" else N
        config = {"J": J, "T": T, "N": N, "init": ini, **settings}
        layer = {k: x for k, x in (("C", C), ("stride", d)) if x != 1}
        config.update(layer)
        path = point_method(J, T, N, ini, method, in_channels=C, stride=d)
        if path != "weights":
            config["method"] = path
        tag = (f"_C{C}" if C != 1 else "") + (f"_d{d}" if d != 1 else "")
        stem = f"J{J}_T{T}_N{N}{tag}_{ini}_{_id.digest(config)[:10]}"
        points.append(_Point(config, stem))
    _warn_no_frames(points)
    return points


def _engine_options(batch_size, microbatch, memory_budget, devices, checkpoint_every) -> dict:
    every = float(checkpoint_every)
    if not every >= 0:
        raise ValueError(f"checkpoint_every must be >= 0 seconds, got {every}")
    if batch_size is not None:
        v.static_int("batch_size", batch_size, minimum=1)
    if microbatch is not None:
        v.static_int("microbatch", microbatch, minimum=1)
    return {
        "batch_size": batch_size,
        "microbatch": microbatch,
        "memory_budget": None if memory_budget is None else parse_bytes(memory_budget),
        "devices": devices,
        "checkpoint_every": every,
    }


# ---------------------------------------------------------------------------------------------
# what the folder holds


def _scan(folder: Path, points: list[_Point]) -> tuple[dict[str, dict], list[dict]]:
    """``(metadata of the finished points by stem, configurations of other sweeps' points)``.

    A point is finished when a ``.json`` of the folder holds its configuration and its ``.npz``
    exists. Multi-host: every process follows process 0's view.
    """
    wanted = {_id.digest(p.config): p.stem for p in points}
    done: dict[str, dict] = {}
    foreign = []
    for f in sorted(folder.glob("J*.json")):
        try:
            meta = io.load_json(f)
        except ValueError as err:  # written atomically: not a torn point, someone else's file
            raise ValueError(
                f"out: {f} is not readable JSON ({err}); move it out of the sweep's folder"
            ) from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            continue
        stem = wanted.get(_id.digest(meta.get("config")))
        if stem is None:
            foreign.append(meta.get("config") or {})
        elif f.with_suffix(".npz").exists():
            done[stem] = meta
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        flags = np.asarray([p.stem in done for p in points], np.int32)
        flags = np.asarray(multihost_utils.broadcast_one_to_all(flags))
        done = {
            p.stem: done.get(p.stem, _ELSEWHERE) for p, f in zip(points, flags, strict=True) if f
        }
    return done, foreign


def _count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _say(text: str) -> None:
    print(f"sweep: {text}", file=sys.stderr, flush=True)


def _differences(configs: list[dict], settings: dict) -> str:
    """``"draws=1000 where this sweep has 2000"``: the settings where other points differ."""
    parts = []
    for k in _SETTINGS:
        theirs = sorted({io.to_json(c.get(k), indent=None) for c in configs})
        ours = io.to_json(settings.get(k), indent=None)
        if theirs != [ours]:
            parts.append(f"{k}={' or '.join(theirs)} where this sweep has {ours}")
    return "; ".join(parts)


def _announce(folder: Path, points: list[_Point], done: dict, foreign: list[dict]) -> None:
    """Say what is done, what resumes from a checkpoint, and what belongs to other sweeps."""
    resumed = []
    for p in points:
        draws = None if p.stem in done else saved_draws(folder / f"{p.stem}.ckpt")
        if draws:
            resumed.append(f"{p.label()} from {_count(draws)} draws")
    if done or resumed:
        text = f"resuming: {len(done)} of {len(points)} points done"
        _say("; ".join([text, *resumed]))
    if foreign:
        diff = _differences(foreign, points[0].config)
        what = f"of another configuration ({diff})" if diff else "outside this grid"
        _say(
            f"{folder} also holds {len(foreign)} point(s) {what}; they are kept, and left out "
            "of summary.csv"
        )


# ---------------------------------------------------------------------------------------------
# running the points


class _Reporter:
    """Progress over the grid: a tqdm bar of points, or one stderr line per finished point."""

    def __init__(self, total: int, done: int, progress: bool | None, writer: bool):
        tty = sys.stderr.isatty()
        self.total, self.done = total, done
        self.lines = writer and progress is None and not tty
        self.bar = None
        self.point_draws, self._shown = 0, 0.0
        if writer and (progress or (progress is None and tty)) and done < total:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=done, unit="point", desc="sweep")

    def start(self, point: _Point) -> None:
        self.point_draws, self._shown = 0, time.monotonic()
        if self.bar is not None:
            self.bar.set_postfix_str("", refresh=False)
            self.bar.set_description(point.label())

    def draws(self, n: int) -> None:
        """The engine's callback: the current point's draws, in the bar (twice a second)."""
        self.point_draws += n
        if self.bar is not None and time.monotonic() - self._shown >= 0.5:
            self.bar.set_postfix_str(f"{_count(self.point_draws)} draws")
            self._shown = time.monotonic()

    def finished(self, point: _Point, meta: dict) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        if self.lines:
            row = meta["rows"][0]
            _say(
                f"point {self.done}/{self.total} {point.label()}: {_count(meta['draws'])} draws "
                f"in {meta['wall_time_s']:.3g} s; kappa {row['kappa_mean']:.4g} "
                f"+- {row['kappa_se']:.2g}, log kappa {row['log_kappa_mean']:.4g} "
                f"+- {row['log_kappa_se']:.2g}"
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextlib.contextmanager
def _interruptible():
    """Turn SIGINT and SIGTERM into exceptions (a checkpoint is written on the way out) for the
    duration of the block; the previous handlers are restored after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _run_points(folder: Path, points, done: dict, writer: bool, progress, engine) -> list[dict]:
    """Run every unfinished point in order; the metadata of every point, in grid order."""
    env = environment()
    report = _Reporter(len(points), len(done), progress, writer)
    metas, current = [], None
    try:
        with _interruptible():
            for p in points:
                meta = done.get(p.stem)
                if meta is None:
                    current = p
                    report.start(p)
                    saved = saved_draws(folder / f"{p.stem}.ckpt")
                    meta = run_point(
                        folder,
                        p.stem,
                        p.config,
                        env,
                        writer=writer,
                        callback=report.draws,
                        **engine,
                    )
                    if writer and saved and meta["resumed_draws"] < saved:
                        _say(
                            f"{p.label()}: its checkpoint ({_count(saved)} draws) was written by "
                            "another version of jaxfb or at other sizes (--batch-size, "
                            "--microbatch), so the point started over"
                        )
                    report.finished(p, meta)
                    current = None
                metas.append(meta)
    except (KeyboardInterrupt, SystemExit):
        report.close()
        if writer:
            _interrupted(folder, points, len(metas), current)
        raise
    finally:
        report.close()
    return metas


def _interrupted(folder: Path, points: list[_Point], finished: int, current) -> None:
    where = ""
    if current is not None:
        draws = saved_draws(folder / f"{current.stem}.ckpt")
        where = f"; {current.label()} checkpointed at {_count(draws or 0)} draws"
    _say(
        f"interrupted: {finished} of {len(points)} points done{where}. "
        "Run the same command again to resume."
    )
