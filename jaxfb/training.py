r"""Training random filterbanks to a mel target, with and without a stability penalty.

Each run starts from the paper's Gaussian init (``J`` filters of length ``T``, variance
``1/(J T)``) and minimises with Adam (cosine-decayed step ``learning_rate / sqrt(J T)``) the
relative power-spectrum error to the target ``h = jaxfb.mel_filterbank(J, T, sample_rate)``,

.. math:: \mathrm{fit}(w) = \frac{\sum_{j,k} (|\hat w_j(k)|^2 - |\hat h_j(k)|^2)^2}
                                 {\sum_{j,k} |\hat h_j(k)|^4}

on the ``n``-point grid, ``k = 0..n//2`` (phase-free), plus :math:`\lambda \log \kappa_\tau(w)`
with :math:`\kappa_\tau` = :func:`jaxfb.smooth_condition_number` at temperature ``tau``;
``lambda = 0`` is the unpenalised fit. Logged every step: the fit error, the true condition
number and the smooth one. All seeds and penalty weights of one ``T`` train in one compiled,
vmapped ``lax.scan`` (compiled once per shape). The mel target is itself a poor frame (its
Littlewood-Paley sum dips at Nyquist), so an exact fit inherits its ``kappa``; the penalty trades
a little fit for conditioning.

Keys: the initial filterbanks of length ``T`` are drawn by :func:`jaxfb.montecarlo.monte_carlo`
with key ``fold_in(key, T)`` (seed ``i`` uses ``fold_in(fold_in(key, T), i)``), shared by every
penalty weight (paired comparisons). See ``docs/reproduction.md``.
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

from ._frames import condition_number
from ._penalty import smooth_condition_number
from ._sampling import random_filterbank
from ._targets import mel_filterbank
from .montecarlo import Samples, monte_carlo

__all__ = ["TrainingConfig", "TrainingResult", "train_filterbanks", "training_table"]


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
        seeds: random initialisations per ``(T, penalty weight)`` (``>= 2``: standard errors).
        penalty_weights: weights ``lambda`` of ``log smooth_condition_number`` (sorted); must
            include ``0``, the unpenalised baseline.
        temperature: ``tau`` of :func:`jaxfb.smooth_condition_number`.
        steps: Adam steps.
        learning_rate: peak step size in units of the init's weight scale ``1/sqrt(J T)``;
            cosine decay to 1% of it.

    Examples:
        >>> from jaxfb.training import TrainingConfig
        >>> TrainingConfig.quick().lengths, TrainingConfig().lengths[-1]
        ((32, 64), 1024)
    """

    num_filters: int = 40
    lengths: tuple[int, ...] = (32, 64, 128, 256, 512, 1024)
    n: int = 1024
    sample_rate: float = 16000.0
    seeds: int = 3
    penalty_weights: tuple[float, ...] = (0.0, 0.01)
    temperature: float = 0.05
    steps: int = 3000
    learning_rate: float = 0.05

    def __post_init__(self):
        values = _checked({f.name: getattr(self, f.name) for f in fields(self)}, str)
        for k, v in values.items():
            object.__setattr__(self, k, v)

    @classmethod
    def checked(cls, values: dict[str, Any], label: Callable[[str], str]) -> TrainingConfig:
        """``TrainingConfig(**values)``, with errors naming a field as ``label(field)`` (e.g.
        a command line's flag)."""
        return cls(**_checked(values, label))

    @classmethod
    def quick(cls, **overrides) -> TrainingConfig:
        """``T = 32, 64``, ``n = 256``, 2 seeds, 150 steps: a few seconds on a CPU."""
        return cls(**{"lengths": (32, 64), "n": 256, "seeds": 2, "steps": 150, **overrides})

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

    Returns ``{"w": (P, S, J, T), "history": (fit, kappa, smooth) each (P, S, steps)``,
    ``"init": (fit, kappa)`` each ``(S,)``, ``"final": (fit, kappa, smooth)`` each ``(P, S)``,
    ``"kappa_target": ()}``.
    """
    target_power = _power_spectra(target, n)
    scale = jnp.sum(target_power**2)
    opt = optax.adam(optax.cosine_decay_schedule(lr, steps, alpha=0.01))

    def smooth(w):
        return smooth_condition_number(w, n, temperature=temperature, method="fft")

    def train_one(w_init, lam_p):
        def loss(w):
            f = _fit_error(w, target_power, scale, n)
            ks = smooth(w)
            return f + lam_p * jnp.log(ks), (f, ks)

        def step(carry, _):
            w, state = carry
            (_, (f, ks)), g = jax.value_and_grad(loss, has_aux=True)(w)
            kappa = condition_number(w, n, method="fft")
            updates, state = opt.update(g, state)
            return (optax.apply_updates(w, updates), state), (f, kappa, ks)

        (w, _), hist = jax.lax.scan(step, (w_init, opt.init(w_init)), None, length=steps)
        return w, hist

    per_seed = jax.vmap(train_one, in_axes=(0, None))
    w, hist = jax.vmap(per_seed, in_axes=(None, 0))(w0, lam)
    tp_b = target_power.reshape((1, 1, *target_power.shape))  # explicit batch broadcast
    return {
        "w": w,
        "history": hist,
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


class TrainingResult(NamedTuple):
    """What :func:`train_filterbanks` computed.

    Attributes:
        config: the :class:`TrainingConfig`.
        rows: one dict per ``(T, penalty weight)``: per-seed ``fit_init``, ``fit_final``,
            ``kappa_init``, ``kappa_final``, ``smooth_kappa_final`` (lists), ``kappa_target``,
            and the medians ``fit_final_median``, ``kappa_final_median``.
        trajectories: ``{"fit_T32": (P, S, steps), "kappa_T32": ..., "smooth_kappa_T32": ...}``.
        timings: seconds per length (``"T32"``: compilation and training) and ``"total"``.
        num_devices: devices the initial filterbanks were drawn on.
    """

    config: TrainingConfig
    rows: list[dict[str, Any]]
    trajectories: dict[str, np.ndarray]
    timings: dict[str, float]
    num_devices: int = 1


def train_filterbanks(
    key: jax.Array, config: TrainingConfig, *, log: Callable[[str], None] | None = None
) -> TrainingResult:
    """Train ``config.seeds`` random filterbanks per length and penalty weight to the mel target.

    Args:
        key: PRNG key; length ``T`` draws its initial filterbanks with ``fold_in(key, T)``.
        config: sizes and hyperparameters.
        log: called with one line per ``(T, penalty weight)`` (default: silent).

    Returns:
        :class:`TrainingResult`.

    Examples:
        >>> import jax
        >>> from jaxfb.training import TrainingConfig, train_filterbanks
        >>> cfg = TrainingConfig(num_filters=8, lengths=(16,), n=64, seeds=2, steps=40)
        >>> res = train_filterbanks(jax.random.key(0), cfg)
        >>> res.trajectories["fit_T16"].shape, [r["penalty_weight"] for r in res.rows]
        ((2, 2, 40), [0.0, 0.01])
    """
    J, n, weights = config.num_filters, config.n, config.penalty_weights
    rows: list[dict[str, Any]] = []
    trajectories: dict[str, np.ndarray] = {}
    timings: dict[str, float] = {}
    devices = 1
    t_start = time.perf_counter()
    for T in config.lengths:
        t0 = time.perf_counter()
        mc = monte_carlo(
            _init_statistic(J, T),
            jax.random.fold_in(key, T),
            config.seeds,
            reducers=Samples(),
            progress=False,
        )
        devices = max(devices, mc.num_devices)
        w0 = jnp.asarray(mc.stats["w"]["samples"])
        dtype = w0.dtype
        lam = jnp.asarray(weights, dtype)
        lr = jnp.asarray(config.learning_rate / math.sqrt(J * T), dtype)
        tau = jnp.asarray(config.temperature, dtype)
        target = mel_filterbank(J, T, config.sample_rate).astype(dtype)
        out = jax.block_until_ready(_train(w0, lam, target, lr, tau, n=n, steps=config.steps))
        timings[f"T{T}"] = time.perf_counter() - t0
        fit_init, kappa_init = (np.asarray(a) for a in out["init"])
        fit_final, kappa_final, smooth_final = (np.asarray(a) for a in out["final"])
        kappa_target = float(out["kappa_target"])
        for p, lam_p in enumerate(weights):
            rows.append(
                {
                    "T": T,
                    "penalty_weight": lam_p,
                    "fit_init": fit_init.tolist(),
                    "fit_final": fit_final[p].tolist(),
                    "kappa_init": kappa_init.tolist(),
                    "kappa_final": kappa_final[p].tolist(),
                    "smooth_kappa_final": smooth_final[p].tolist(),
                    "kappa_target": kappa_target,
                    "fit_final_median": float(np.median(fit_final[p])),
                    "kappa_final_median": float(np.median(kappa_final[p])),
                }
            )
            if log is not None:
                log(
                    f"T={T:5d} lam={lam_p:<6g} fit {np.median(fit_init):.3f} -> "
                    f"{np.median(fit_final[p]):.2e}   kappa {np.median(kappa_init):.2f} -> "
                    f"{np.median(kappa_final[p]):.2f} (target {kappa_target:.1f})"
                )
        for name, hist in zip(("fit", "kappa", "smooth_kappa"), out["history"], strict=True):
            trajectories[f"{name}_T{T}"] = np.asarray(hist)
    timings["total"] = time.perf_counter() - t_start
    return TrainingResult(config, rows, trajectories, timings, devices)


def _mean_se(x) -> tuple[float, float]:
    x = np.asarray(x, np.float64)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def training_table(result: TrainingResult) -> dict[str, np.ndarray]:
    """A row per ``(T, penalty weight)``: means and standard errors over seeds.

    Columns: ``T``, ``penalty_weight``, ``seeds``; ``fit_init_*``, ``fit_final_*``,
    ``kappa_init_*``, ``kappa_final_*`` (``_mean``, ``_se``; ``_median`` for the final values),
    ``smooth_kappa_final_mean``, ``kappa_target``; and, paired with the unpenalised run of the
    same seeds (``nan`` on its own rows), ``log_kappa_ratio_mean`` / ``_se`` (mean of
    ``log(kappa_final(0) / kappa_final(lambda))``) and ``fit_cost_mean`` / ``_se`` (mean of
    ``fit_final(lambda) - fit_final(0)``).
    """
    base = {r["T"]: r for r in result.rows if r["penalty_weight"] == 0.0}
    cols: dict[str, list] = {}
    for r in result.rows:
        row: dict[str, Any] = {"T": r["T"], "penalty_weight": r["penalty_weight"]}
        row["seeds"] = len(r["fit_final"])
        for q in ("fit_init", "fit_final", "kappa_init", "kappa_final"):
            row[f"{q}_mean"], row[f"{q}_se"] = _mean_se(r[q])
            if q.endswith("final"):
                row[f"{q}_median"] = float(np.median(r[q]))
        row["smooth_kappa_final_mean"] = float(np.mean(r["smooth_kappa_final"]))
        row["kappa_target"] = r["kappa_target"]
        b = base[r["T"]]
        stats = (math.nan,) * 4
        if r["penalty_weight"] != 0.0:
            log_ratio = np.log(np.asarray(b["kappa_final"])) - np.log(np.asarray(r["kappa_final"]))
            cost = np.asarray(r["fit_final"]) - np.asarray(b["fit_final"])
            stats = (*_mean_se(log_ratio), *_mean_se(cost))
        names = ("log_kappa_ratio_mean", "log_kappa_ratio_se", "fit_cost_mean", "fit_cost_se")
        row.update(zip(names, stats, strict=True))
        for k, v in row.items():
            cols.setdefault(k, []).append(v)
    return {k: np.asarray(v) for k, v in cols.items()}
