r"""Sweeps: Monte Carlo over a grid of ``(J, T, N, init)`` points (and signals), resumable.

A *point* is one ``(J, T, N, init)``: its draws give the frame bounds ``A``, ``B``, ``kappa = B/A``
and ``log kappa``, and, when the sweep has signals, the energy ``||Phi x||^2`` of every signal
from the same draws (one draw of ``w`` serves every signal, SPEC section 1; the energies come from
the Littlewood-Paley sum already computed for the frame bounds). The summary table has one row
per ``(point, signal)``.

Reproducibility and resumption:

- a point's key is ``fold_in(fold_in(key(seed), h0), h1)`` with ``(h0, h1)`` from a SHA-256 of
  ``{"J", "T", "N", "init"}``: it depends on the seed and the point, not on its place in the grid,
  the other points, the number of draws (the first ``n`` draws of a longer run are the ``n``
  draws of a shorter one) or the signals;
- each finished point is written atomically (``.npz`` arrays, then its ``.json`` sidecar, each by
  temp file + ``os.replace``); the ``.json`` marks the point done;
- a rerun skips every point whose ``.json`` holds the same configuration, so an interrupted run
  (Ctrl-C, ``kill -9``) loses at most the point in progress and resumes to identical results;
- the point in progress is itself checkpointed (``<name>.ckpt``, every ``checkpoint_every``
  seconds, see :func:`~jaxfb.montecarlo.monte_carlo`), so a long point loses at most that much
  work; the checkpoint is removed once the point's files are written.

Precision targets: with ``target_rse``, ``num_draws`` is a ceiling and each point draws
``min_draws, 2 min_draws, 4 min_draws, ...`` filterbanks until the standard error of the mean of
every statistic in ``target_stats`` is at most ``target_rse`` times the mean's magnitude. A target
on ``kappa`` is not applied where ``J <= 4``: ``Var[kappa]`` is infinite there (SPEC section 2),
so its standard error means nothing; ``log kappa`` carries the target there.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import itertools
import math
import struct
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validation as v
from .._frames import littlewood_paley
from .._sampling import init_spec, random_filterbank
from . import _io
from ._driver import _MAX_DRAWS, TargetSE, monte_carlo, parse_bytes
from ._reducers import Count, Histogram, Max, Min, Moments, Samples, histogram_quantile
from ._signals import SIGNAL_NAMES, energy_from_lp, make_sweep_signal, spectral_weights

__all__ = [
    "DEFAULT_QUANTILES",
    "KEEP_SAMPLES_MAX_DRAWS",
    "STATISTICS",
    "point_key",
    "point_statistic",
    "summary_columns",
    "sweep",
]

FORMAT = "jaxfb.sweep.point/1"
STATISTICS = ("A", "B", "kappa", "log_kappa", "energy")
"""Per-draw statistics of a sweep point (``energy`` only when the sweep has signals)."""
DEFAULT_QUANTILES = (0.05, 0.25, 0.75, 0.95)
"""Quantiles in the summary table besides the median."""
KEEP_SAMPLES_MAX_DRAWS = 10**6
"""``keep_samples=None`` keeps samples (exact quantiles) up to this many draws per point."""

# Fixed histogram edges used when samples are not kept: geometric for positive statistics (bins
# 0.23 % wide over 1e-8 .. 1e8), linear for log kappa (0.0025 wide over 0 .. 20).
_POSITIVE_EDGES = ("geomspace", 1e-8, 1e8, 16001)
_LOG_EDGES = ("linspace", 0.0, 20.0, 8001)
_ELSEWHERE: dict = {}  # a point process 0 found finished and this process cannot read
_STRING_COLUMNS = ("init", "signal", "dtype", "quantile_method", "file")


def _edges(spec) -> np.ndarray:
    kind, lo, hi, num = spec
    return getattr(np, kind)(lo, hi, num)


def _qname(p: float) -> str:
    pct = 100.0 * p
    if abs(pct - round(pct)) < 1e-9:
        return f"q{round(pct):02d}"
    return "q" + f"{pct:g}".replace(".", "p")


def summary_columns(quantiles: Sequence[float] = DEFAULT_QUANTILES) -> list[str]:
    """Column names of the summary table, in order."""
    cols = ["J", "T", "N", "init", "signal", "draws", "seed", "dtype", "quantile_method"]
    per = [
        "mean",
        "se",
        "std",
        "min",
        "max",
        "median",
        *(_qname(p) for p in quantiles),
        "nonfinite",
    ]
    for s in STATISTICS:
        cols += [f"{s}_{x}" for x in per]
    return [*cols, "kappa_ratio_of_means", "wall_time_s", "file"]


def _tag_words(tag: dict) -> tuple[int, int]:
    digest = hashlib.sha256(_io.dumps(tag).encode()).digest()
    return struct.unpack("<II", digest[:8])


def point_key(seed: int, num_filters: int, length: int, n: int, init: str) -> jax.Array:
    """The PRNG key of a sweep point: from the seed and the point's configuration alone."""
    w0, w1 = _tag_words({"J": num_filters, "T": length, "N": n, "init": init})
    key = jax.random.key(seed)
    return jax.random.fold_in(jax.random.fold_in(key, np.uint32(w0)), np.uint32(w1))


def _signal_key(seed: int, name: str, n: int) -> jax.Array:
    w0, w1 = _tag_words({"signal": name, "N": n})
    key = jax.random.key(seed)
    return jax.random.fold_in(jax.random.fold_in(key, np.uint32(w0)), np.uint32(w1))


def point_statistic(num_filters: int, length: int, n: int, init: str, weights=None, dtype=None):
    r"""The per-draw statistic of a sweep point, ``key -> dict`` of ``A, B, kappa, log_kappa``
    (and ``energy``, shape ``(S,)``, when ``weights`` of shape ``(n//2 + 1, S)`` is given, see
    :func:`~jaxfb.montecarlo._signals.spectral_weights`). ``kappa = inf`` when ``A = 0``.

    The same arguments return the same function object, so the engine's compiled batch function
    is reused when a point is run again in the same process.
    """
    if dtype is None:
        dtype = jax.dtypes.canonicalize_dtype(jnp.float64)
    dtype = np.dtype(dtype)
    if weights is None:
        return _point_statistic(num_filters, length, n, init, None, None, dtype.name)
    w = np.ascontiguousarray(weights, np.float64)
    return _point_statistic(num_filters, length, n, init, w.tobytes(), w.shape, dtype.name)


@functools.lru_cache(maxsize=64)
def _point_statistic(num_filters, length, n, init, weight_bytes, weight_shape, dtype_name):
    dtype = np.dtype(dtype_name)
    wts = None
    if weight_bytes is not None:
        wts = np.frombuffer(weight_bytes, np.float64).reshape(weight_shape).astype(dtype)

    def statistic(key):
        w = random_filterbank(key, num_filters, length, init=init, dtype=dtype)
        lp = littlewood_paley(w, n)
        A, B = jnp.min(lp, axis=-1), jnp.max(lp, axis=-1)
        positive = A > 0
        kappa = jnp.where(positive, B / jnp.where(positive, A, 1), jnp.inf)
        out = {"A": A, "B": B, "kappa": kappa, "log_kappa": jnp.log(kappa)}
        if wts is not None:
            out["energy"] = energy_from_lp(lp, jnp.asarray(wts))
        return out

    return statistic


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


def _reducers(keep_samples: bool, probs: tuple[float, ...]):
    base = (Count(), Moments(), Min(), Max())
    if keep_samples:
        return {"*": (*base, Samples(quantiles=probs))}
    pos = Histogram(tuple(_edges(_POSITIVE_EDGES)))
    return {"log_kappa": (*base, Histogram(tuple(_edges(_LOG_EDGES)))), "*": (*base, pos)}


def _leaf_columns(name: str, st: dict, index, probs, quantiles) -> dict[str, Any]:
    def pick(a):
        a = np.asarray(a)
        return a if index is None else a[..., index]

    if "quantiles" in st:
        qv = pick(st["quantiles"])
    else:
        counts = st["hist_counts"] if index is None else st["hist_counts"][index]
        qv = histogram_quantile(
            counts,
            st["hist_edges"],
            probs,
            underflow=pick(st["hist_underflow"]),
            overflow=pick(st["hist_overflow"]),
        )
    qd = {p: float(q) for p, q in zip(probs, np.asarray(qv).reshape(len(probs)), strict=True)}
    row = {f"{name}_{x}": float(pick(st[x])) for x in ("mean", "se", "std", "min", "max")}
    row[f"{name}_median"] = qd[0.5]
    row.update({f"{name}_{_qname(p)}": qd[p] for p in quantiles})
    row[f"{name}_nonfinite"] = int(pick(st["nonfinite"]))
    return row


def _rows(config: dict, stats: dict, wall: float, file: str, draws: int) -> list[dict]:
    quantiles = tuple(config["quantiles"])
    probs = tuple(sorted({*quantiles, 0.5}))
    base = {k: config[k] for k in ("J", "T", "N", "init", "seed", "dtype")}
    base["draws"] = draws  # the draws made (num_draws, or fewer when a target was met)
    base["quantile_method"] = "exact" if config["keep_samples"] else "histogram"
    for s in ("A", "B", "kappa", "log_kappa"):
        base.update(_leaf_columns(s, stats[s], None, probs, quantiles))
    with np.errstate(divide="ignore", invalid="ignore"):
        base["kappa_ratio_of_means"] = float(
            np.float64(base["B_mean"]) / np.float64(base["A_mean"])
        )
    base["wall_time_s"] = wall
    base["file"] = file
    if not config["signals"]:
        return [{**base, "signal": ""}]
    return [
        {**base, "signal": name, **_leaf_columns("energy", stats["energy"], i, probs, quantiles)}
        for i, name in enumerate(config["signals"])
    ]


def _arrays(stats: dict, signals: np.ndarray | None, names: Sequence[str]) -> dict[str, np.ndarray]:
    out = {}
    for leaf, st in stats.items():
        for k, a in st.items():
            a = np.asarray(a)
            if k == "samples":
                a = a.astype(np.float32)
            out[f"{leaf}.{k}"] = a
    if signals is not None:
        out["signals"] = signals
        out["signal_names"] = np.asarray(list(names))
    return out


def _table(rows: list[dict], columns: list[str]) -> dict[str, np.ndarray]:
    table = {}
    for c in columns:
        vals = [r.get(c) for r in rows]
        if c in _STRING_COLUMNS:
            table[c] = np.asarray(["" if x is None else str(x) for x in vals])
        elif c in ("J", "T", "N", "draws", "seed") or c.endswith("_nonfinite"):
            table[c] = np.asarray([-1 if x is None else int(x) for x in vals])
        else:
            table[c] = np.asarray([math.nan if x is None else float(x) for x in vals], np.float64)
    return table


def sweep(
    out: str | Path,
    *,
    num_filters: int | Sequence[int],
    length: int | Sequence[int],
    n: int | Sequence[int],
    num_draws: int,
    seed: int,
    init: str | Sequence[str] = "gaussian",
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
) -> dict[str, np.ndarray]:
    r"""Run (or resume) a Monte Carlo sweep over the grid ``J x T x N x init`` and tabulate it.

    Every point draws ``num_draws`` filterbanks and reduces ``A``, ``B``, ``kappa``,
    ``log kappa`` (and the energy of each signal) with streaming statistics; see the module
    docstring for keys, files and resumption. ``out`` receives, per point, ``<name>.npz`` (arrays:
    ``"<stat>.<output>"``, e.g. ``"kappa.mean"``, ``"kappa.samples"`` (float32) or
    ``"kappa.hist_counts"``; plus ``"signals"``) and ``<name>.json`` (configuration, seed, key
    words, versions, device, wall time, summary rows), and ``summary.csv`` for the whole grid.

    Args:
        out: results folder (created; must be writable).
        num_filters, length, n: ``J``, ``T``, ``N``: an int or a sequence of ints each; every
            combination must have ``T <= N``. ``n="T"`` sets ``N = T`` at every point (the
            ``N`` frequencies of the Littlewood-Paley sum are then independent).
        num_draws: filterbanks per point, ``1 <= num_draws < 2**32``.
        seed: the sweep's seed (no default: say which).
        init: init name(s), see :data:`jaxfb.INITS`.
        signals: signal name(s) from :data:`jaxfb.signals.SIGNALS` (e.g. ``"impulse"``,
            ``"alternating"``, ``"white_noise"``, ``"lazy_random_walk"``), or ``None``. Random
            signals are drawn once per ``(seed, name, N)`` and saved with the point.
        keep_samples: keep every draw (saved as float32; exact quantiles). Default: when
            ``num_draws <= 10**6``; otherwise fixed-edge histograms give the quantiles (to a
            bin, 0.23 % relative) and memory does not grow with ``num_draws``.
        quantiles: probabilities tabulated besides the median.
        batch_size, microbatch, memory_budget, devices: passed to :func:`monte_carlo`
            (execution only: they are not part of a point's identity, and a finished point is
            reused whatever they were).
        progress: tqdm bar (points, draws/s, ETA); ``None``: only on a terminal.
        target_rse: relative standard error to reach, e.g. ``0.01``; ``num_draws`` is then the
            ceiling, and the ``draws`` column holds the draws made (see the module docstring).
        target_stats: statistics the target applies to, from ``A, B, kappa, log_kappa``
            (``kappa`` is exempt where ``J <= 4``).
        min_draws: first count at which a target is looked at (then doubling).
        checkpoint_every: seconds between checkpoints of the point in progress.

    Returns:
        The summary table as ``{column: 1-D array}`` (one entry per ``(point, signal)`` row;
        columns in :func:`summary_columns` order), the same as ``summary.csv``.

    Multi-host (after :func:`jax.distributed.initialize`): every process calls ``sweep`` with the
    same arguments; each point is sharded over all devices; process 0 alone writes, and the
    processes follow process 0's view of which points are finished. The table is complete on
    process 0 (elsewhere it lacks the points this process cannot read from ``out``).

    Raises:
        ValueError: an empty grid, ``T > N``, an unknown init or signal, bad counts; raised before
            anything is written.
        OSError: ``out`` cannot be created or written.

    Examples:
        >>> import tempfile
        >>> from jaxfb import montecarlo as mc
        >>> t = mc.sweep(tempfile.mkdtemp(), num_filters=10, length=16, n=64, num_draws=200,
        ...              seed=0, signals=["impulse", "alternating"], progress=False)
        >>> t["signal"].tolist(), bool((t["kappa_median"] > 1).all())
        (['impulse', 'alternating'], True)
    """
    # ---- validate everything before touching the disk
    Js = _as_list("num_filters", num_filters, int)
    Ts = _as_list("length", length, int)
    same_n = isinstance(n, str) and n == "T"
    Ns = ["T"] if same_n else _as_list("n", n, int)
    inits = _as_list("init", init, str)
    sigs = _as_list("signals", signals, str)
    for axis, vals in (("num_filters", Js), ("length", Ts), ("n", Ns), ("init", inits)):
        if not vals:
            raise ValueError(f"empty grid: {axis} has no values")
    for name in inits:
        init_spec(name)
    for name in sigs:
        if name not in SIGNAL_NAMES:
            raise ValueError(f"unknown signal {name!r}; choose from {', '.join(SIGNAL_NAMES)}")
    bad = [(T, N) for T in Ts for N in Ns if N != "T" and T > N]
    if bad:
        raise ValueError(
            f"filter length T must be <= signal length N; the grid has T > N at (T, N) = {bad}"
        )
    num_draws = v.static_int("num_draws", num_draws, minimum=1)
    if num_draws >= _MAX_DRAWS:
        raise ValueError(f"num_draws must be < 2**32, got {num_draws}")
    seed = v.static_int("seed", seed)
    target = None
    if target_rse is not None:
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
        target = {"rse": float(target_rse), "stats": tstats, "min_draws": min_draws}
    checkpoint_every = float(checkpoint_every)
    if not checkpoint_every >= 0:
        raise ValueError(f"checkpoint_every must be >= 0 seconds, got {checkpoint_every}")
    quantiles = tuple(float(q) for q in quantiles)
    if any(not (0.0 < q < 1.0) for q in quantiles):
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {quantiles}")
    if keep_samples is None:
        keep_samples = num_draws <= KEEP_SAMPLES_MAX_DRAWS
    keep_samples = bool(keep_samples)
    if memory_budget is not None:
        memory_budget = parse_bytes(memory_budget)
    if batch_size is not None:
        v.static_int("batch_size", batch_size, minimum=1)
    if microbatch is not None:
        v.static_int("microbatch", microbatch, minimum=1)
    dtype = jax.dtypes.canonicalize_dtype(jnp.float64)

    writer = jax.process_index() == 0
    folder = _io.check_writable(out) if writer else Path(out)
    if writer:
        _io.remove_stale_temporaries(folder)

    # ---- plan: which points are done
    hist = (
        None if keep_samples else {"positive": list(_POSITIVE_EDGES), "log_kappa": list(_LOG_EDGES)}
    )
    points = []
    for J, T, N, ini in itertools.product(Js, Ts, Ns, inits):
        N = T if N == "T" else N
        config = {
            "J": J, "T": T, "N": N, "init": ini, "signals": sigs, "draws": num_draws,
            "seed": seed, "dtype": str(np.dtype(dtype)), "keep_samples": keep_samples,
            "quantiles": list(quantiles), "histogram": hist, "format": FORMAT,
        }  # fmt: skip
        if target is not None:  # absent otherwise: older configurations keep their names
            config["target"] = target
        digest = hashlib.sha256(_io.dumps(config).encode()).hexdigest()[:10]
        stem = f"J{J}_T{T}_N{N}_{ini}_{digest}"
        meta = _finished(folder / f"{stem}.json", config)
        points.append((config, stem, meta))
    if jax.process_count() > 1:
        # every process follows process 0's plan (read before anyone writes): the processes must
        # run the same points together, even where their view of the folder differs
        from jax.experimental import multihost_utils

        finished = np.asarray([meta is not None for _, _, meta in points], np.int32)
        finished = np.asarray(multihost_utils.broadcast_one_to_all(finished))
        points = [
            (config, stem, (meta or _ELSEWHERE) if f else None)
            for (config, stem, meta), f in zip(points, finished, strict=True)
        ]

    todo = [p for p in points if p[2] is None]
    bar = None
    if todo and (progress or (progress is None and sys.stderr.isatty())):
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo) * num_draws, unit="draw", unit_scale=True, desc="sweep")
    env = _io.environment()
    rows: list[dict] = []
    done = 0
    try:
        for config, stem, meta in points:
            if meta is None:
                done += 1
                if bar is not None:
                    bar.set_description(
                        f"point {done}/{len(todo)} J={config['J']} T={config['T']} N={config['N']}"
                    )
                meta = _run_point(
                    folder, stem, config, env, writer, checkpoint_every=checkpoint_every,
                    batch_size=batch_size, microbatch=microbatch, memory_budget=memory_budget,
                    devices=devices, callback=None if bar is None else bar.update,
                )  # fmt: skip
                if bar is not None:  # stopped at its target, or resumed a checkpoint
                    bar.total -= num_draws - meta["draws"] + meta.get("resumed_draws", 0)
                    bar.refresh()
            rows.extend(meta.get("rows", []))
    finally:
        if bar is not None:
            bar.close()
    columns = summary_columns(quantiles)
    if writer:
        _io.write_csv(folder / "summary.csv", columns, rows)
    return _table(rows, columns)


def _finished(path: Path, config: dict) -> dict | None:
    """The metadata of a finished point with this exact configuration, else ``None``."""
    import json

    if not path.exists() or not path.with_suffix(".npz").exists():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT or _io.dumps(meta.get("config")) != _io.dumps(config):
        return None
    return meta


def _point_targets(config: dict) -> tuple[TargetSE, ...]:
    """The precision targets a sweep point runs under (none without ``target``)."""
    target = config.get("target")
    if not target:
        return ()
    return tuple(
        TargetSE(name, rel=target["rse"], min_draws=target["min_draws"])
        for name in target["stats"]
        if not (name == "kappa" and config["J"] <= 4)
    )


def _run_point(folder, stem, config, env, writer, *, callback, checkpoint_every, **engine) -> dict:
    J, T, N, ini, seed = (config[k] for k in ("J", "T", "N", "init", "seed"))
    sigs = config["signals"]
    signals = weights = None
    if sigs:
        signals = np.stack([make_sweep_signal(s, N, _signal_key(seed, s, N)) for s in sigs])
        weights = spectral_weights(signals)
    statistic = point_statistic(J, T, N, ini, weights, jnp.dtype(config["dtype"]))
    probs = tuple(sorted({*config["quantiles"], 0.5}))
    key = point_key(seed, J, T, N, ini)
    targets = _point_targets(config)
    ckpt = folder / f"{stem}.ckpt"
    t0 = time.perf_counter()
    res = monte_carlo(
        statistic,
        key,
        config["draws"],
        reducers=_reducers(config["keep_samples"], probs),
        progress=False,
        callback=callback,
        targets=targets or None,
        checkpoint=ckpt,  # read by every process, written by process 0
        checkpoint_every=checkpoint_every,
        checkpoint_mismatch="restart",  # e.g. another batch size: the point starts over
        **engine,
    )
    wall = time.perf_counter() - t0
    w0, w1 = _tag_words({"J": J, "T": T, "N": N, "init": ini})
    meta = {
        "format": FORMAT,
        "config": config,
        "point_key": {"seed": seed, "fold_in": [w0, w1]},
        **env,
        "wall_time_s": wall,
        "draws": res.num_draws,
        "targets": [t._asdict() for t in targets],
        "targets_met": res.targets_met,
        "resumed_draws": res.resumed_draws,
        "compile_time_s": res.compile_time,
        "batch_size": res.batch_size,
        "microbatch": res.microbatch,
        "num_batches": res.num_batches,
        "device_bytes": res.device_bytes,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "arrays": f"{stem}.npz",
        "rows": _rows(config, res.stats, wall, f"{stem}.npz", res.num_draws),
    }
    if writer:
        _io.save_npz(folder / f"{stem}.npz", _arrays(res.stats, signals, sigs))
        _io.save_json(folder / f"{stem}.json", meta)  # last: marks the point finished
        ckpt.unlink(missing_ok=True)
    return meta
