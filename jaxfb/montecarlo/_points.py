r"""One point of a sweep: its key, its per-draw statistic, its run, its files and table rows.

A *point* is one ``(J, T, N, init, C, d)``: a 1-D convolution layer with ``J`` output channels,
``C`` input channels (default 1), filters of length ``T``, stride ``d`` (default 1) on circular
signals of length ``N``. Its draws give the frame bounds ``A``, ``B`` (the extreme eigenvalues of
``Phi^T Phi``, as :func:`jaxfb.conv_frame_bounds`: no renormalisation by the stride),
``kappa = B/A`` and ``log kappa``. At ``C = d = 1`` (a filterbank) and when the sweep has
signals, the energy ``||Phi x||^2`` of every signal comes from the same draws (one draw of ``w``
serves every signal, docs/theory.md section 1; the energies come from the Littlewood-Paley sum
already computed for the frame bounds). The draws go through the point's ``method``
(``"weights"``, ``"gram"`` or ``"spectrum"``, exact paths of one law, see
:func:`jaxfb.sample_frame_bounds` and :func:`point_method`).

- A point's key is ``fold_in(fold_in(key(seed), h0), h1)`` with ``(h0, h1)`` the first eight
  bytes of the SHA-256 of the canonical JSON (:func:`jaxfb.io.to_json`) of
  ``{"J", "T", "N", "init"}``, plus ``"C"`` and ``"stride"`` where they are not 1 (so the points
  of sweeps older than these axes keep their keys and files): it depends on the seed and the
  point, not on its place in the grid, the other points, the number of draws (the first ``n``
  draws of a longer run are the ``n`` draws of a shorter one) or the signals.
- A finished point is two files written atomically: ``<stem>.npz`` (arrays
  ``"<stat>.<output>"``), then ``<stem>.json`` (its configuration, key words, versions, device,
  timings and summary rows), which marks it done; ``<stem>.ckpt`` checkpoints it meanwhile.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import math
import os
import struct
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import io
from .._conv import conv_frame_bounds
from .._gram import METHODS, _draw_lp, _lp_method, equivalent_filterbank, path_cost
from .._sampling import init_spec, random_filterbank
from ._driver import TargetSE, monte_carlo
from ._reducers import Count, Histogram, Max, Min, Moments, Samples, histogram_quantile
from ._signals import energy_from_lp, make_sweep_signal, spectral_weights

__all__ = [
    "DEFAULT_QUANTILES",
    "FORMAT",
    "STATISTICS",
    "load_point",
    "no_frame",
    "point_key",
    "point_method",
    "point_statistic",
    "run_point",
    "summary_columns",
    "summary_table",
]

FORMAT = "jaxfb.sweep.point/1"
STATISTICS = ("A", "B", "kappa", "log_kappa", "energy")
"""Per-draw statistics of a sweep point (``energy`` only when the sweep has signals)."""
DEFAULT_QUANTILES = (0.05, 0.25, 0.75, 0.95)
"""Quantiles in the summary table besides the median."""

# Fixed histogram edges used when samples are not kept: geometric for positive statistics (bins
# 0.23 % wide over 1e-8 .. 1e8), linear for log kappa (0.0025 wide over 0 .. 20).
POSITIVE_EDGES = ("geomspace", 1e-8, 1e8, 16001)
LOG_EDGES = ("linspace", 0.0, 20.0, 8001)
_STRING_COLUMNS = ("init", "signal", "dtype", "quantile_method", "method", "file")
_INT_COLUMNS = ("J", "T", "N", "C", "stride", "draws", "seed")
# columns that rows written before the axes existed lack: their value there (one definition,
# shared with jaxfb.io.read_summary, which reads old summary files the same way)
_AXIS_DEFAULTS = io._LAYER_DEFAULTS


def _edges(spec) -> np.ndarray:
    kind, lo, hi, num = spec
    return getattr(np, kind)(lo, hi, num)


def _qname(p: float) -> str:
    pct = 100.0 * p
    if abs(pct - round(pct)) < 1e-9:
        return f"q{round(pct):02d}"
    return "q" + f"{pct:g}".replace(".", "p")


def summary_columns(
    quantiles: Sequence[float] = DEFAULT_QUANTILES, *, signals: bool = True
) -> list[str]:
    """Column names of the summary table, in order (no ``signal``/``energy_*`` without signals)."""
    cols = ["J", "T", "N", "C", "stride", "init", *(["signal"] if signals else [])]
    cols += ["draws", "seed", "dtype", "quantile_method", "method"]
    per = ["mean", "se", "std", "min", "max", "median", *(_qname(p) for p in quantiles)]
    for s in STATISTICS if signals else STATISTICS[:-1]:
        cols += [f"{s}_{x}" for x in (*per, "nonfinite")]
    return [*cols, "kappa_ratio_of_means", "wall_time_s", "file"]


# ---------------------------------------------------------------------------------------------
# keys and the statistic


def _tag_words(tag: dict) -> tuple[int, int]:
    """Two uint32 words of a point's tag: the key derivation of the module docstring."""
    return struct.unpack("<II", hashlib.sha256(io.to_json(tag).encode()).digest()[:8])


def _folded_key(seed: int, tag: dict) -> jax.Array:
    w0, w1 = _tag_words(tag)
    key = jax.random.key(seed)
    return jax.random.fold_in(jax.random.fold_in(key, np.uint32(w0)), np.uint32(w1))


def _point_tag(
    num_filters: int, length: int, n: int, init: str, in_channels: int = 1, stride: int = 1
) -> dict:
    """The fields a point's key is derived from: ``C`` and ``stride`` only where not 1."""
    tag: dict[str, Any] = {"J": num_filters, "T": length, "N": n, "init": init}
    if in_channels != 1:
        tag["C"] = in_channels
    if stride != 1:
        tag["stride"] = stride
    return tag


def point_key(
    seed: int,
    num_filters: int,
    length: int,
    n: int,
    init: str,
    *,
    in_channels: int = 1,
    stride: int = 1,
) -> jax.Array:
    """The PRNG key of a sweep point: from the seed and the point's configuration alone (at
    ``in_channels = stride = 1`` the key of the filterbank point, as before these axes)."""
    return _folded_key(seed, _point_tag(num_filters, length, n, init, in_channels, stride))


def no_frame(num_filters: int, length: int, *, in_channels: int = 1, stride: int = 1) -> bool:
    """Whether no layer of this shape is a frame: ``A = 0`` exactly at every draw.

    That is ``J < d C`` (each of the ``N/d`` frequency blocks of ``Phi^T Phi``, of size
    ``d C``, has rank at most ``J``) or ``T < d`` (some input samples reach no output); see
    :func:`jaxfb.conv_frame_bounds`.
    """
    return num_filters < stride * in_channels or length < stride


def point_method(
    num_filters: int,
    length: int,
    n: int,
    init: str,
    method: str = "auto",
    *,
    in_channels: int = 1,
    stride: int = 1,
) -> str:
    """The path a point's draws take; static in the point, so a device, batch or chunk never
    changes it.

    At ``C = d = 1`` the Littlewood-Paley paths of :func:`jaxfb.sample_frame_bounds`
    (``"auto"``: spectrum at ``T = N``, gram where ``J > T``, by their cost). Otherwise the
    layer's ``J`` rows of length ``C T``: ``"gram"`` (the ``K = C T`` rows of
    :func:`jaxfb.equivalent_filterbank`, exact for the Gaussian inits) where ``J > C T`` and it
    is cheaper by the cost model of :func:`jaxfb.sample_frame_bounds`, applied to the
    equivalent single-channel filterbank (length ``C T``, signal ``N C``, stride ``d C``);
    ``"weights"`` otherwise, and for non-Gaussian inits; ``"spectrum"`` never. An explicit
    method that does not apply raises ``ValueError``.
    """
    J, T, C, d = num_filters, length, in_channels, stride
    if C == 1 and d == 1:
        return _lp_method(J, T, n, init, method)
    where = f"in_channels={C}, stride={d}"
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "spectrum":
        raise ValueError(
            f"method='spectrum' does not apply at {where}: it needs in_channels 1, stride 1 and "
            "length == n; use method='auto', 'gram' or 'weights'"
        )
    why = None
    if init_spec(init).family != "normal":
        why = f"it needs Gaussian weights, got init={init!r} (non-Gaussian)"
    elif J <= C * T:
        why = f"it needs num_filters > in_channels * length (J > C T), got J={J}, C={C}, T={T}"
    if method == "gram" and why is not None:
        raise ValueError(
            f"method='gram' does not apply at {where}: {why}; use method='auto' or 'weights'"
        )
    if method != "auto" or why is not None:
        return "weights" if method == "auto" else method
    costs = {m: path_cost(m, J, C * T, n * C, d * C) for m in ("gram", "weights")}
    return "gram" if costs["gram"] < costs["weights"] else "weights"


def point_statistic(
    num_filters: int,
    length: int,
    n: int,
    init: str,
    weights=None,
    dtype=None,
    method: str = "weights",
    *,
    in_channels: int = 1,
    stride: int = 1,
):
    r"""The per-draw statistic of a sweep point, ``key -> dict`` of ``A, B, kappa, log_kappa``
    (and ``energy``, shape ``(S,)``, when ``weights`` of shape ``(n//2 + 1, S)`` is given, see
    :func:`~jaxfb.montecarlo._signals.spectral_weights`; only at ``in_channels = stride = 1``).
    ``kappa = inf`` when ``A = 0``.

    ``method`` (resolved by :func:`point_method`) is the exact path of the draws: at
    ``in_channels = stride = 1`` the Littlewood-Paley sum all the statistics come from (see
    :func:`jaxfb.sample_frame_bounds`); otherwise the layer's weights
    (:func:`jaxfb.random_filterbank` with ``in_channels``) or their equivalent filterbank
    (:func:`jaxfb.equivalent_filterbank`, scaled to the init's variance), whose frame bounds
    :func:`jaxfb.conv_frame_bounds` computes at the stride. The paths share one law, not their
    draws.

    The same arguments return the same function object, so the engine's compiled batch function
    is reused when a point is run again in the same process.
    """
    if dtype is None:
        dtype = jax.dtypes.canonicalize_dtype(jnp.float64)
    dtype = np.dtype(dtype)
    layer = (in_channels, stride)
    if weights is None:
        return _point_statistic(num_filters, length, n, init, None, None, dtype.name, method, layer)
    if layer != (1, 1):
        raise ValueError(
            f"signal energies need in_channels=1 and stride=1, got in_channels={in_channels}, "
            f"stride={stride}: sweep the energies at C = d = 1"
        )
    w = np.ascontiguousarray(weights, np.float64)
    return _point_statistic(
        num_filters, length, n, init, w.tobytes(), w.shape, dtype.name, method, layer
    )


def _layer_bounds(key, J, T, n, init, method, dtype, layer):
    """``(A, B)`` of one draw of the conv layer ``(J, C, T)`` at stride ``d`` (``layer``)."""
    C, d = layer
    if method == "gram":  # exact for the normal family: scale the 1/(J T) bank to the init's
        spec = init_spec(init)
        var = spec.variance(J, T, rescale=spec.name == "gaussian", in_channels=C)
        w = equivalent_filterbank(key, J, T, in_channels=C, dtype=dtype)
        w = w * jnp.asarray(math.sqrt(var * J * T), dtype)
    elif method == "weights":
        w = random_filterbank(key, J, T, in_channels=C, init=init, dtype=dtype)
    else:
        raise ValueError(f"method {method!r} does not apply at in_channels={C}, stride={d}")
    return conv_frame_bounds(w, n, stride=d)


@functools.lru_cache(maxsize=64)
def _point_statistic(
    num_filters, length, n, init, weight_bytes, weight_shape, dtype_name, method, layer=(1, 1)
):
    dtype = np.dtype(dtype_name)
    wts = None
    if weight_bytes is not None:
        wts = np.frombuffer(weight_bytes, np.float64).reshape(weight_shape).astype(dtype)

    def statistic(key):
        if layer == (1, 1):
            lp = _draw_lp(key, num_filters, length, n, init, method, dtype)
            A, B = jnp.min(lp, axis=-1), jnp.max(lp, axis=-1)
        else:
            A, B = _layer_bounds(key, num_filters, length, n, init, method, dtype, layer)
        positive = A > 0
        kappa = jnp.where(positive, B / jnp.where(positive, A, 1), jnp.inf)
        out = {"A": A, "B": B, "kappa": kappa, "log_kappa": jnp.log(kappa)}
        if wts is not None:
            out["energy"] = energy_from_lp(lp, jnp.asarray(wts))
        return out

    return statistic


def point_reducers(keep_samples: bool, probs: tuple[float, ...]) -> dict:
    """A point's reducers: samples (exact quantiles) or fixed-edge histograms."""
    base = (Count(), Moments(), Min(), Max())
    if keep_samples:
        return {"*": (*base, Samples(quantiles=probs))}
    pos = Histogram(tuple(_edges(POSITIVE_EDGES)))
    return {"log_kappa": (*base, Histogram(tuple(_edges(LOG_EDGES)))), "*": (*base, pos)}


def _point_targets(config: dict) -> tuple[TargetSE, ...]:
    """The precision targets a sweep point runs under (none without ``target``).

    A target on ``kappa`` is not applied where ``J <= 4``: ``Var[kappa]`` is infinite there
    (docs/theory.md section 2), so its standard error means nothing. For a layer (``C``
    input channels, stride ``d``) the exemption is ``J <= d C + 3``, the same at ``C = d = 1``
    and on the safe side elsewhere (the frequency blocks are ``d C x d C``); where no layer is a
    frame (:func:`no_frame`) no target on ``kappa`` or ``log kappa`` (infinite at every draw)
    is applied.
    """
    target = config.get("target")
    if not target:
        return ()
    J, T = config["J"], config["T"]
    C, d = config.get("C", 1), config.get("stride", 1)
    dead = no_frame(J, T, in_channels=C, stride=d)
    return tuple(
        TargetSE(name, rel=target["rse"], min_draws=target["min_draws"])
        for name in target["stats"]
        if not (name == "kappa" and J <= d * C + 3)
        and not (dead and name in ("kappa", "log_kappa"))
    )


# ---------------------------------------------------------------------------------------------
# the summary rows of a point


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
    base.update({k: config.get(k, one) for k, one in _AXIS_DEFAULTS.items()})
    base["draws"] = draws  # the draws made (num_draws, or fewer when a target was met)
    base["quantile_method"] = "exact" if config["keep_samples"] else "histogram"
    base["method"] = config.get("method", "weights")
    for s in ("A", "B", "kappa", "log_kappa"):
        base.update(_leaf_columns(s, stats[s], None, probs, quantiles))
    if no_frame(base["J"], base["T"], in_channels=base["C"], stride=base["stride"]):
        # A = 0 exactly, kappa = inf at every draw: a histogram has no bin for it, so its
        # quantiles would read nan
        for s in ("kappa", "log_kappa"):
            base.update({f"{s}_{_qname(p)}": math.inf for p in quantiles})
            base[f"{s}_median"] = math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        base["kappa_ratio_of_means"] = float(
            np.float64(base["B_mean"]) / np.float64(base["A_mean"])
        )
    base["wall_time_s"] = wall
    base["file"] = file
    if not config["signals"]:
        return [base]
    return [
        {**base, "signal": name, **_leaf_columns("energy", stats["energy"], i, probs, quantiles)}
        for i, name in enumerate(config["signals"])
    ]


def summary_table(rows: list[dict], columns: list[str]) -> dict[str, np.ndarray]:
    """The rows as ``{column: 1-D array}`` (ints, floats, strings; a missing int is -1, a
    missing ``C`` or ``stride``, in the rows of points written before those axes, is 1)."""
    table = {}
    for c in columns:
        vals = [r.get(c, _AXIS_DEFAULTS.get(c)) for r in rows]
        if c in _STRING_COLUMNS:
            table[c] = np.asarray(["" if x is None else str(x) for x in vals])
        elif c in _INT_COLUMNS or c.endswith("_nonfinite"):
            table[c] = np.asarray([-1 if x is None else int(x) for x in vals], np.int64)
        else:
            table[c] = np.asarray([math.nan if x is None else float(x) for x in vals], np.float64)
    return table


# ---------------------------------------------------------------------------------------------
# files


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


def load_point(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a sweep point: ``(metadata from its .json, arrays from its .npz)``.

    ``path`` may name either file or their common stem (``folder / "J40_T1024_..."``); the
    ``file`` column of a sweep's summary names the ``.npz``.
    """
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".json", ".npz") else p
    meta = io.load_json(stem.with_suffix(".json"))
    with np.load(stem.with_suffix(".npz"), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return meta, arrays


def run_point(
    folder: Path, stem: str, config: dict, env: dict, *, writer: bool, callback, **engine
) -> dict:
    """Run one point on the engine (resuming its checkpoint), write its files, return its
    metadata (whose ``rows`` are its summary rows). Only ``writer`` writes the files."""
    J, T, N, ini, seed = (config[k] for k in ("J", "T", "N", "init", "seed"))
    layer = {"in_channels": config.get("C", 1), "stride": config.get("stride", 1)}
    sigs = config["signals"]
    signals = weights = None
    if sigs:
        signals = np.stack(
            [make_sweep_signal(s, N, _folded_key(seed, {"signal": s, "N": N})) for s in sigs]
        )
        weights = spectral_weights(signals)
    probs = tuple(sorted({*config["quantiles"], 0.5}))
    targets = _point_targets(config)
    ckpt = folder / f"{stem}.ckpt"
    t0 = time.perf_counter()
    res = monte_carlo(
        point_statistic(
            J,
            T,
            N,
            ini,
            weights,
            jnp.dtype(config["dtype"]),
            config.get("method", "weights"),
            **layer,
        ),
        point_key(seed, J, T, N, ini, **layer),
        config["draws"],
        reducers=point_reducers(config["keep_samples"], probs),
        progress=False,
        callback=callback,
        targets=targets or None,
        checkpoint=ckpt,  # read by every process, written by process 0
        checkpoint_mismatch="restart",  # e.g. another batch size: the point starts over
        **engine,
    )
    wall = time.perf_counter() - t0
    meta = {
        "format": FORMAT,
        "config": config,
        "point_key": {
            "seed": seed,
            "fold_in": list(_tag_words(_point_tag(J, T, N, ini, *layer.values()))),
        },
        **env,
        "wall_time_s": wall,
        "draws": res.num_draws,
        "targets": [t._asdict() for t in targets],
        "targets_met": res.targets_met,
        "method": config.get("method", "weights"),
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
        io.save_npz(folder / f"{stem}.npz", _arrays(res.stats, signals, sigs))
        io.save_json(folder / f"{stem}.json", meta)  # last: marks the point finished
        ckpt.unlink(missing_ok=True)
    return meta
