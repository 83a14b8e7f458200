r"""Training random filterbanks to a target, and the trade-off curve of a stability penalty.

Each run starts from the paper's Gaussian init (``J`` filters of length ``T``, variance
``1/(J T)``) and minimises with Adam (cosine-decayed step ``learning_rate / sqrt(J T)``) the
relative power-spectrum error to a target ``h`` (here ``jaxfb.mel_filterbank(J, T, sample_rate)``),

.. math:: \mathrm{fit}(w) = \frac{\sum_{j,k} (|\hat w_j(k)|^2 - |\hat h_j(k)|^2)^2}
                                 {\sum_{j,k} |\hat h_j(k)|^4}

on the ``n``-point grid, ``k = 0..n//2`` (phase-free), plus :math:`\lambda \log \kappa_\tau(w)`
with :math:`\kappa_\tau` = :func:`jaxfb.smooth_condition_number` at temperature ``tau``;
``lambda = 0`` is the unpenalised fit. :func:`penalty_tradeoff` runs one such fit per
``(weight, seed)`` and reports the final fit error and condition number of each: the trade-off
curve (fit error against ``kappa``). An exact fit of the power spectra has the target's own
Littlewood-Paley sum, hence the target's ``kappa``; a mel filterbank is a poor frame (its sum dips
at Nyquist), so no weight gives a low ``kappa`` and an exact fit at once.

Keys: the initial filterbanks are drawn by :func:`jaxfb.montecarlo.monte_carlo` (seed ``i`` uses
``fold_in(key, i)``; :func:`train_filterbanks` passes ``fold_in(key, T)`` at length ``T``), shared
by every penalty weight (paired comparisons). See ``docs/reproduction.md``.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import _validation as v
from ._frames import condition_number
from ._penalty import smooth_condition_number
from ._sampling import random_filterbank
from ._targets import mel_filterbank
from .montecarlo import Samples, monte_carlo
from .montecarlo._estimates import mean_se

__all__ = [
    "Tradeoff",
    "TrainingConfig",
    "TrainingResult",
    "penalty_tradeoff",
    "tradeoff_evidence",
    "tradeoff_summary",
    "train_filterbanks",
    "training_record",
    "training_table",
]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _checked(values: dict[str, Any], label: Callable[[str], str]) -> dict[str, Any]:
    """Validated, normalised fields of a :class:`TrainingConfig` (errors named by ``label``)."""
    out = dict(values)
    for name, minimum in (("num_filters", 1), ("n", 2), ("seeds", 2), ("steps", 1)):
        v = out[name]
        if not _is_int(v):
            raise TypeError(f"{label(name)} must be an int, got {v!r}")
        if v < minimum:
            raise ValueError(f"{label(name)} must be >= {minimum}, got {v}")
        out[name] = int(v)
    for name in ("sample_rate", "temperature", "learning_rate"):
        v = out[name]
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise TypeError(f"{label(name)} must be a number, got {v!r}") from None
        if isinstance(v, bool) or not (math.isfinite(f) and f > 0):
            raise ValueError(f"{label(name)} must be finite and > 0, got {v!r}")
        out[name] = f
    lengths = (out["lengths"],) if _is_int(out["lengths"]) else out["lengths"]
    if isinstance(lengths, (str, bytes)) or not all(_is_int(t) for t in lengths):
        raise TypeError(f"{label('lengths')} must be a sequence of ints, got {lengths!r}")
    lengths = tuple(sorted(int(t) for t in lengths))
    if not lengths or len(set(lengths)) != len(lengths) or lengths[0] < 2:
        raise ValueError(f"{label('lengths')} must be distinct ints >= 2, got {lengths}")
    if lengths[-1] > out["n"]:
        raise ValueError(
            f"{label('lengths')} has T={lengths[-1]} > {label('n')} = {out['n']} (need T <= n)"
        )
    out["lengths"] = lengths
    weights = out["penalty_weights"]
    weights = (weights,) if isinstance(weights, (int, float)) else weights
    try:
        weights = tuple(sorted(float(p) for p in weights))
    except (TypeError, ValueError):
        raise TypeError(
            f"{label('penalty_weights')} must be a sequence of numbers, got {weights!r}"
        ) from None
    if any(not (math.isfinite(p) and p >= 0) for p in weights) or len(set(weights)) < len(weights):
        raise ValueError(f"{label('penalty_weights')} must be distinct, finite, >= 0: {weights}")
    if 0.0 not in weights:
        raise ValueError(
            f"{label('penalty_weights')} must include 0 (the unpenalised baseline), got {weights}"
        )
    out["penalty_weights"] = weights
    return out


@dataclass(frozen=True)
class TrainingConfig:
    """Sizes and hyperparameters of the training study (no seed: the key is passed separately).

    Attributes:
        num_filters: ``J``, filters of the bank and of the mel target.
        lengths: filter lengths ``T`` (each ``<= n``, sorted); one compiled training per length.
        n: DFT grid of the fit error and the (smooth) condition number.
        sample_rate: sampling rate in Hz of the mel target.
        seeds: random initialisations per ``T``, shared by every penalty weight (``>= 2``:
            standard errors of paired differences).
        penalty_weights: the trade-off curve's weights ``lambda`` of
            ``log smooth_condition_number`` (sorted); must include ``0``, the unpenalised fit.
        temperature: ``tau`` of :func:`jaxfb.smooth_condition_number`.
        steps: Adam steps.
        learning_rate: peak step size in units of the init's weight scale ``1/sqrt(J T)``;
            cosine decay to 1% of it.

    Examples:
        >>> from jaxfb.training import TrainingConfig
        >>> TrainingConfig.quick().lengths, TrainingConfig().penalty_weights[:3]
        ((64,), (0.0, 1e-05, 0.0001))
    """

    num_filters: int = 40
    lengths: tuple[int, ...] = (32, 128, 512, 1024)
    n: int = 1024
    sample_rate: float = 16000.0
    seeds: int = 3
    penalty_weights: tuple[float, ...] = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
    temperature: float = 0.05
    steps: int = 2000
    learning_rate: float = 0.05

    def __post_init__(self):
        values = _checked({f.name: getattr(self, f.name) for f in fields(self)}, str)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def checked(cls, values: dict[str, Any], label: Callable[[str], str]) -> TrainingConfig:
        """``TrainingConfig(**values)``, with errors naming a field as ``label(field)`` (e.g.
        a command line's flag)."""
        return cls(**_checked(values, label))

    @classmethod
    def quick(cls, **overrides) -> TrainingConfig:
        """``T = 64``, ``n = 256``, 1000 steps (every default weight, 3 seeds): seconds on a CPU."""
        return cls(**{"lengths": (64,), "n": 256, "steps": 1000, **overrides})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _power_spectra(w: jax.Array, n: int) -> jax.Array:
    W = jnp.fft.rfft(w, n=n, axis=-1)
    return W.real**2 + W.imag**2


def _fit_error(w, target_power, scale, n):
    return jnp.sum((_power_spectra(w, n) - target_power) ** 2, axis=(-2, -1)) / scale


@functools.partial(jax.jit, static_argnames=("n", "steps"))
def _train(w0, lam, target, lr, temperature, *, n: int, steps: int) -> dict[str, Any]:
    """Train ``w0 (S, J, T)`` once per weight of ``lam (P,)``; ``n``, ``steps`` static.

    Returns ``{"init": (fit, kappa)`` each ``(S,)``, ``"final": (fit, kappa, smooth)`` each
    ``(P, S)``, ``"kappa_target": ()}``.
    """
    target_power = _power_spectra(target, n)
    scale = jnp.sum(target_power**2)
    opt = optax.adam(optax.cosine_decay_schedule(lr, steps, alpha=0.01))

    def smooth(w):
        return smooth_condition_number(w, n, temperature=temperature, method="fft")

    def train_one(w_init, lam_p):
        def loss(w):
            return _fit_error(w, target_power, scale, n) + lam_p * jnp.log(smooth(w))

        def step(carry, _):
            w, state = carry
            updates, state = opt.update(jax.grad(loss)(w), state)
            return (optax.apply_updates(w, updates), state), None

        (w, _), _ = jax.lax.scan(step, (w_init, opt.init(w_init)), None, length=steps)
        return w

    w = jax.vmap(jax.vmap(train_one, in_axes=(0, None)), in_axes=(None, 0))(w0, lam)
    tp_b = target_power.reshape((1, 1, *target_power.shape))  # explicit batch broadcast
    return {
        "init": (
            _fit_error(w0, target_power[None], scale, n),
            condition_number(w0, n, method="fft"),
        ),
        "final": (_fit_error(w, tp_b, scale, n), condition_number(w, n, method="fft"), smooth(w)),
        "kappa_target": condition_number(target, n, method="fft"),
    }


@functools.lru_cache(maxsize=32)
def _init_statistic(num_filters: int, length: int):
    """One draw of the paper's init (one function per shape: the engine compiles it once)."""
    return lambda key: {"w": random_filterbank(key, num_filters, length)}


class Tradeoff(NamedTuple):
    """What :func:`penalty_tradeoff` computed: one entry per ``(weight, seed)``, weight-major.

    Attributes:
        weight: penalty weight ``lambda`` of the run, ``(P S,)``.
        seed: index ``i`` of its random init (key ``fold_in(key, i)``), ``(P S,)``; runs with
            the same seed start from the same filterbank.
        fit_init, kappa_init: fit error and condition number of that init, ``(P S,)``.
        fit_final, kappa_final, smooth_kappa_final: after training, ``(P S,)``.
        kappa_target: condition number of the target itself (a float).
    """

    weight: np.ndarray
    seed: np.ndarray
    fit_init: np.ndarray
    kappa_init: np.ndarray
    fit_final: np.ndarray
    kappa_final: np.ndarray
    smooth_kappa_final: np.ndarray
    kappa_target: float


def _positive(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return float(value)


def _weights(weights: Any) -> np.ndarray:
    try:
        lam = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"weights must be a sequence of numbers, got {weights!r}") from None
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"weights must be a non-empty 1-D sequence, got shape {lam.shape}")
    if not np.all(np.isfinite(lam) & (lam >= 0)):
        raise ValueError(f"weights must be finite and >= 0 (0: no penalty), got {lam.tolist()}")
    return lam


def penalty_tradeoff(
    key: jax.Array,
    target: Any,
    weights: Any,
    *,
    num_seeds: int,
    n: int | None = None,
    steps: int = 2000,
    learning_rate: float = 0.05,
    temperature: float = 0.05,
) -> Tradeoff:
    r"""Fit ``num_seeds`` random inits to ``target`` once per penalty weight: the trade-off curve.

    Every run minimises ``fit(w) + lambda log smooth_condition_number(w)`` (see the module
    docstring) with Adam from the paper's Gaussian init; the same ``num_seeds`` inits serve every
    weight (paired comparisons), and all runs train in one compiled, vmapped ``lax.scan``
    (compiled once per shape, ``n`` and ``steps``). ``lambda = 0`` is the plain fit.

    Args:
        key: PRNG key; init ``i`` is drawn by :func:`jaxfb.montecarlo.monte_carlo` with key
            ``fold_in(key, i)``.
        target: ``(J, T)`` filterbank to fit, e.g. :func:`jaxfb.mel_filterbank`.
        weights: penalty weights ``lambda >= 0``, ``(P,)``.
        num_seeds: random inits ``S >= 1``.
        n: DFT grid of the fit error and the condition numbers (default ``T``; ``>= T``).
        steps: Adam steps.
        learning_rate: peak step in units of the init's scale ``1/sqrt(J T)``; cosine decay to
            1% of it.
        temperature: ``tau`` of :func:`jaxfb.smooth_condition_number`.

    Returns:
        :class:`Tradeoff`, ``P S`` runs ordered weight-major.

    Examples:
        >>> import jax
        >>> from jaxfb import mel_filterbank
        >>> from jaxfb.training import penalty_tradeoff
        >>> h = mel_filterbank(8, 16, 16000.0)
        >>> curve = penalty_tradeoff(jax.random.key(0), h, [0.0, 0.1], num_seeds=2, steps=20)
        >>> curve.weight.tolist(), curve.seed.tolist()
        ([0.0, 0.0, 0.1, 0.1], [0, 1, 0, 1])
    """
    target, J, T = v.filterbank("target", target)
    if target.ndim != 2:
        raise ValueError(f"target must have shape (num_filters, length), got {target.shape}")
    lam = _weights(weights)
    S = v.static_int("num_seeds", num_seeds, minimum=1)
    n = v.signal_length("n", T if n is None else n, T)
    steps = v.static_int("steps", steps, minimum=1)
    lr = _positive("learning_rate", learning_rate) / math.sqrt(J * T)
    tau = _positive("temperature", temperature)
    mc = monte_carlo(_init_statistic(J, T), key, S, reducers=Samples(), progress=False)
    w0 = jnp.asarray(mc.stats["w"]["samples"])
    dt = w0.dtype
    out = _train(
        w0,
        jnp.asarray(lam, dt),
        target.astype(dt),
        jnp.asarray(lr, dt),
        jnp.asarray(tau, dt),
        n=n,
        steps=steps,
    )
    fit0, kappa0 = (np.tile(np.asarray(a, np.float64), lam.size) for a in out["init"])
    fit, kappa, smooth = (np.asarray(a, np.float64).ravel() for a in out["final"])
    return Tradeoff(
        np.repeat(lam, S),
        np.tile(np.arange(S), lam.size),
        fit0,
        kappa0,
        fit,
        kappa,
        smooth,
        float(out["kappa_target"]),
    )


class TrainingResult(NamedTuple):
    """What :func:`train_filterbanks` computed.

    Attributes:
        config: the :class:`TrainingConfig`.
        curves: ``{T: Tradeoff}``, the trade-off curve at each filter length.
        timings: seconds per length (``"T32"``: compilation and training) and ``"total"``.
        num_devices: devices visible to JAX (the inits are drawn on all of them).
    """

    config: TrainingConfig
    curves: dict[int, Tradeoff]
    timings: dict[str, float]
    num_devices: int = 1


def train_filterbanks(
    key: jax.Array, config: TrainingConfig, *, log: Callable[[str], None] | None = None
) -> TrainingResult:
    """The trade-off curve (:func:`penalty_tradeoff`) at every length, towards the mel target.

    Args:
        key: PRNG key; length ``T`` uses ``fold_in(key, T)``.
        config: sizes and hyperparameters.
        log: called with one line per ``(T, penalty weight)`` (default: silent).

    Returns:
        :class:`TrainingResult`.

    Examples:
        >>> import jax
        >>> from jaxfb.training import TrainingConfig, train_filterbanks
        >>> cfg = TrainingConfig(num_filters=8, lengths=(16,), n=64, seeds=2, steps=40)
        >>> res = train_filterbanks(jax.random.key(0), cfg)
        >>> res.curves[16].fit_final.shape == (2 * len(cfg.penalty_weights),)
        True
    """
    curves: dict[int, Tradeoff] = {}
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    for T in config.lengths:
        t0 = time.perf_counter()
        curves[T] = c = penalty_tradeoff(
            jax.random.fold_in(key, T),
            mel_filterbank(config.num_filters, T, config.sample_rate),
            config.penalty_weights,
            num_seeds=config.seeds,
            n=config.n,
            steps=config.steps,
            learning_rate=config.learning_rate,
            temperature=config.temperature,
        )
        timings[f"T{T}"] = time.perf_counter() - t0
        for lam in config.penalty_weights if log is not None else ():
            at = c.weight == lam
            log(
                f"T={T:5d} lam={lam:<7g} fit {np.median(c.fit_init[at]):.3f} -> "
                f"{np.median(c.fit_final[at]):.2e}   kappa {np.median(c.kappa_init[at]):.2f} -> "
                f"{np.median(c.kappa_final[at]):.3g} (target {c.kappa_target:.3g})"
            )
    timings["total"] = time.perf_counter() - t_start
    return TrainingResult(config, curves, timings, jax.device_count())


def training_table(result: TrainingResult) -> dict[str, np.ndarray]:
    """One row per run ``(T, penalty weight, seed)``: the trade-off curves as one table.

    Columns: ``T``, ``penalty_weight``, ``seed``, ``fit_init``, ``kappa_init``, ``fit_final``,
    ``kappa_final``, ``smooth_kappa_final``, ``kappa_target``.

    Args:
        result: a :class:`TrainingResult` (:func:`train_filterbanks`).

    Returns:
        ``{column: (runs,) array}``, ``runs = len(lengths) * len(penalty_weights) * seeds``.
    """
    cols: dict[str, list] = {}
    for T, c in result.curves.items():
        runs = {"T": np.full(c.weight.size, T), "penalty_weight": c.weight, "seed": c.seed}
        runs.update({q: getattr(c, q) for q in _RUN_FIELDS})
        runs["kappa_target"] = np.full(c.weight.size, c.kappa_target)
        for k, x in runs.items():
            cols.setdefault(k, []).append(x)
    return {k: np.concatenate(x) for k, x in cols.items()}


_RUN_FIELDS = ("fit_init", "kappa_init", "fit_final", "kappa_final", "smooth_kappa_final")


def tradeoff_summary(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One row per ``(T, penalty weight)`` of :func:`training_table`: medians over seeds.

    Columns: ``T``, ``penalty_weight``, ``seeds``; ``fit_final_median``, ``_min``, ``_max`` and
    the same for ``kappa_final``; ``fit_init_median``, ``kappa_init_median``, ``kappa_target``;
    ``fit_ratio_max`` (largest ``fit_final / fit_init`` over seeds). Paired by seed (every
    weight must have the same seeds at a ``T``): with the unpenalised run (weight 0 must be
    there), ``fit_factor_median`` (median of ``fit_final(lambda) / fit_final(0)``) and
    ``kappa_factor_median`` (of ``kappa_final(0) / kappa_final(lambda)``); with the next smaller
    weight (``nan`` on the smallest), the step up in weight: ``log_kappa_drop_mean`` / ``_se``
    (mean and standard error over seeds of ``log kappa_final`` before minus after) and
    ``log_fit_rise_mean`` / ``_se`` (of ``log fit_final`` after minus before).

    Args:
        table: the ``{column: (runs,) array}`` of :func:`training_table`.

    Returns:
        ``{column: (rows,) array}``, one row per ``(T, penalty weight)``.
    """
    cols: dict[str, list] = {}
    for T in np.unique(table["T"]):
        runs = {k: x[table["T"] == T] for k, x in table.items()}
        lams = np.unique(runs["penalty_weight"])
        if lams[0] != 0:
            raise ValueError(f"table has no unpenalised run (penalty_weight 0) at T={T}")
        per = []  # per weight: the runs sorted by seed
        for lam in lams:
            at = runs["penalty_weight"] == lam
            per.append({k: x[at][np.argsort(runs["seed"][at])] for k, x in runs.items()})
            if not np.array_equal(per[-1]["seed"], per[0]["seed"]):
                raise ValueError(f"table: weight {lam} at T={T} has other seeds than weight 0")
        for i, r in enumerate(per):
            row = {"T": int(T), "penalty_weight": float(lams[i]), "seeds": r["seed"].size}
            for q in ("fit_final", "kappa_final"):
                row.update({f"{q}_median": np.median(r[q]), f"{q}_min": r[q].min()})
                row[f"{q}_max"] = r[q].max()
            row["fit_init_median"] = np.median(r["fit_init"])
            row["kappa_init_median"] = np.median(r["kappa_init"])
            row["kappa_target"] = float(r["kappa_target"][0])
            row["fit_ratio_max"] = np.max(r["fit_final"] / r["fit_init"])
            row["fit_factor_median"] = np.median(r["fit_final"] / per[0]["fit_final"])
            row["kappa_factor_median"] = np.median(per[0]["kappa_final"] / r["kappa_final"])
            prev = per[max(i - 1, 0)]
            steps = {
                "log_kappa_drop": np.log(prev["kappa_final"]) - np.log(r["kappa_final"]),
                "log_fit_rise": np.log(r["fit_final"]) - np.log(prev["fit_final"]),
            }
            for name, d in steps.items():
                mean, se = map(float, mean_se(d)) if i else (math.nan, math.nan)
                row.update({f"{name}_mean": mean, f"{name}_se": se})
            for k, x in row.items():
                cols.setdefault(k, []).append(x)
    return {k: np.asarray(x) for k, x in cols.items()}


def tradeoff_evidence(summary: dict[str, np.ndarray]) -> dict[str, float]:
    """The numbers the curve's claims rest on, from :func:`tradeoff_summary`.

    Args:
        summary: the ``{column: (rows,) array}`` of :func:`tradeoff_summary`.

    Returns a ``{name: float}`` dict: ``monotone_steps`` (steps up in weight, over every
    ``T``, whose paired mean drop of
    ``log kappa`` and rise of ``log fit`` both exceed 2 standard errors and 0) out of ``steps``;
    ``worst_fit_ratio`` (largest unpenalised ``fit_final / fit_init`` over ``T`` and seeds); and
    at the largest length ``T``: the unpenalised medians ``kappa_unpenalised``,
    ``fit_unpenalised``, and ``kappa_target``, ``kappa_init``.
    """
    s, lam, T = summary, summary["penalty_weight"], summary["T"]
    up = lam > 0
    ok = [
        s[f"{q}_mean"][up] > 2 * np.nan_to_num(s[f"{q}_se"][up])
        for q in ("log_kappa_drop", "log_fit_rise")
    ]
    base = np.flatnonzero((lam == 0) & (T == T.max()))[0]
    return {
        "monotone_steps": int(np.sum(ok[0] & ok[1])),
        "steps": int(up.sum()),
        "worst_fit_ratio": float(np.max(s["fit_ratio_max"][lam == 0])),
        "T": int(T.max()),
        "kappa_unpenalised": float(s["kappa_final_median"][base]),
        "fit_unpenalised": float(s["fit_final_median"][base]),
        "kappa_target": float(s["kappa_target"][base]),
        "kappa_init": float(s["kappa_init_median"][base]),
    }


def _records(table: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    rows = zip(*(x.tolist() for x in table.values()), strict=True)
    return [dict(zip(table, row, strict=True)) for row in rows]


def training_record(result: TrainingResult) -> dict[str, Any]:
    """The study as JSON-ready data.

    Args:
        result: a :class:`TrainingResult` (:func:`train_filterbanks`).

    Returns:
        ``{"config", "timings_s", "runs", "summary"}``: ``runs`` one record per
        ``(T, weight, seed)`` (:func:`training_table`), ``summary`` one per ``(T, weight)``
        (:func:`tradeoff_summary`).
    """
    table = training_table(result)
    return {
        "config": result.config.to_dict(),
        "timings_s": dict(result.timings),
        "runs": _records(table),
        "summary": _records(tradeoff_summary(table)),
    }
