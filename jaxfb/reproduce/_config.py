"""The configuration of a reproduction run: shared settings, one frozen config per experiment.

Hashable, validated, round-trips through JSON (:meth:`~ReproduceConfig.to_dict`, ``from_dict``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .._validation import static_int
from ..training import TrainingConfig

__all__ = ["EXPERIMENTS", "AudioConfig", "EnergyConfig", "FramesConfig", "ReproduceConfig"]

EXPERIMENTS = ("energy", "audio", "frames", "training")
"""The experiments, in the order they run."""

_PAPER_LENGTHS = tuple(range(8, 1025, 8))
_POW2_LENGTHS = tuple(2**k for k in range(3, 11))


def _ints(name: str, values: Any) -> tuple[int, ...]:
    values = (values,) if isinstance(values, int) and not isinstance(values, bool) else values
    try:
        out = tuple(sorted(int(v) for v in values))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of ints, got {values!r}") from None
    if not out or out[0] < 1 or len(set(out)) != len(out):
        raise ValueError(f"{name} must be distinct ints >= 1, not empty; got {out}")
    return out


def _check(obj, prefix: str, ints: dict[str, int], int_tuples: tuple[str, ...]) -> None:
    """Validate ``obj``'s int fields (``{name: minimum}``) and int tuples (sorted on the way)."""
    for name, minimum in ints.items():
        static_int(f"{prefix}.{name}", getattr(obj, name), minimum=minimum)
    for name in int_tuples:
        object.__setattr__(obj, name, _ints(f"{prefix}.{name}", getattr(obj, name)))
    if max(obj.lengths) > obj.n:
        raise ValueError(f"{prefix}.lengths has T={max(obj.lengths)} > {prefix}.n = {obj.n}")


@dataclass(frozen=True)
class EnergyConfig:
    """The energy deviation of the elementary signals: length ``n``, ``filters`` (``J``), the
    filter ``lengths`` ``T``."""

    n: int = 1024
    filters: int = 10
    lengths: tuple[int, ...] = _PAPER_LENGTHS

    def __post_init__(self):
        _check(self, "energy", {"n": 2, "filters": 1}, ("lengths",))


@dataclass(frozen=True)
class AudioConfig:
    """The energy deviation of audio: ``n`` samples at ``rate`` Hz, ``filters`` (``J``),
    ``lengths`` (the histograms use the largest), WAV ``files`` instead of the synthetic snare,
    speech and flute, and the ``hist_bins`` of the histograms."""

    n: int = 22050
    rate: int = 22050
    filters: int = 10
    lengths: tuple[int, ...] = _PAPER_LENGTHS
    files: tuple[str, ...] = ()
    hist_bins: int = 50

    def __post_init__(self):
        _check(self, "audio", {"n": 2, "rate": 1, "filters": 1, "hist_bins": 2}, ("lengths",))
        if isinstance(self.files, str):
            raise TypeError(f"audio.files must be a sequence of paths, got {self.files!r}")
        object.__setattr__(self, "files", tuple(str(f) for f in self.files))


@dataclass(frozen=True)
class FramesConfig:
    """Frame bounds and condition numbers against ``T`` and ``J``, and the fitted law.

    Attributes:
        n: signal length ``N``.
        filters: ``J`` of the frame-bound figure (the paper's 40).
        lengths: filter lengths ``T``.
        kappa_filters: ``J`` values of the condition number against ``T``.
        sweep_filters: ``J`` values of the condition number against ``J``, simulated at the
            ``sweep_lengths`` (a subset of ``lengths``).
        fit_min_filters: smallest ``J`` entering the fitted law (at least 5 is used).
    """

    n: int = 1024
    filters: int = 40
    lengths: tuple[int, ...] = _PAPER_LENGTHS
    kappa_filters: tuple[int, ...] = (5, 10, 40)
    sweep_filters: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64)
    sweep_lengths: tuple[int, ...] = _POW2_LENGTHS
    fit_min_filters: int = 8

    def __post_init__(self):
        tuples = ("lengths", "kappa_filters", "sweep_filters", "sweep_lengths")
        _check(self, "frames", {"n": 2, "filters": 1, "fit_min_filters": 1}, tuples)
        missing = sorted(set(self.sweep_lengths) - set(self.lengths))
        if missing:
            raise ValueError(f"frames.sweep_lengths {missing} are not in frames.lengths")

    @property
    def filter_set(self) -> tuple[int, ...]:
        """``J`` values simulated at every length."""
        return tuple(sorted({self.filters, *self.kappa_filters}))

    @property
    def sweep_filter_set(self) -> tuple[int, ...]:
        """``J`` values simulated at the sweep lengths."""
        return tuple(sorted({*self.filter_set, *self.sweep_filters}))


_SUB = {"energy": EnergyConfig, "audio": AudioConfig, "frames": FramesConfig}
_SUB["training"] = TrainingConfig


@dataclass(frozen=True)
class ReproduceConfig:
    """Everything that determines the numbers of a reproduction run.

    Attributes:
        seed: PRNG seed; experiment ``name`` draws from ``experiment_key(seed, name)``, its
            point ``T`` from ``fold_in`` of that, draw ``i`` from ``fold_in(point key, i)``.
        draws: Monte Carlo draws (filterbanks) per point.
        mode: ``"quick"``, ``"full"`` or ``"custom"`` (a label).
        levels: tail levels ``p``, distinct; the first sets the quantile of the claims
            (``1 - p``), the last the exceedance key number.
        theory_points: at most this many lengths get the exact theory (log-spaced, with both
            ends and the powers of two).
        length_buckets: padded filter lengths of the compiled statistics (one compile each);
            ``T`` runs in the smallest bucket ``>= T`` with its taps beyond ``T`` zero (exact).
            ``()``: powers of two capped at the largest ``T``. A bucket must not exceed the
            signal length of an experiment that uses it.
        save_samples: also write every draw to ``samples.npz``.
        energy, audio, frames, training: the experiments' configs (``None``: left out). A dict
            becomes the config; in :meth:`replace` it updates the current one.

    Examples:
        >>> cfg = ReproduceConfig.quick(seed=0)
        >>> cfg.draws, cfg.frames.lengths[-1], cfg.experiments
        (200, 1024, ('energy', 'audio', 'frames', 'training'))
        >>> cfg.replace(training=None, audio={"filters": 5}).audio.filters
        5
    """

    seed: int = 0
    draws: int = 1000
    mode: str = "custom"
    levels: tuple[float, ...] = (0.05, 0.01)
    theory_points: int = 24
    length_buckets: tuple[int, ...] = ()
    save_samples: bool = True
    energy: EnergyConfig | None = field(default_factory=EnergyConfig)
    audio: AudioConfig | None = field(default_factory=AudioConfig)
    frames: FramesConfig | None = field(default_factory=FramesConfig)
    training: TrainingConfig | None = field(
        default_factory=lambda: TrainingConfig(lengths=(32, 128, 512, 1024))
    )

    def __post_init__(self):
        setf = object.__setattr__
        for name, cls in _SUB.items():
            value = getattr(self, name)
            if isinstance(value, dict):
                setf(self, name, value := cls(**value))
            if value is not None and not isinstance(value, cls):
                raise TypeError(f"{name} must be a {cls.__name__}, a dict or None, got {value!r}")
        if not self.experiments:
            raise ValueError("the config must run at least one experiment (all are None)")
        if static_int("seed", self.seed, minimum=0) >= 2**63:
            raise ValueError(f"seed must be < 2**63, got {self.seed}")
        static_int("draws", self.draws, minimum=2)
        static_int("theory_points", self.theory_points, minimum=2)
        try:
            levels = tuple(float(p) for p in self.levels)
        except (TypeError, ValueError):
            raise TypeError(f"levels must be a sequence of floats, got {self.levels!r}") from None
        if not levels or any(not 0 < p < 1 for p in levels) or len(set(levels)) < len(levels):
            raise ValueError(f"levels must be distinct numbers in (0, 1), got {self.levels}")
        setf(self, "levels", levels)
        if not isinstance(self.save_samples, bool):
            raise TypeError(f"save_samples must be a bool, got {self.save_samples!r}")
        if self.mode not in ("quick", "full", "custom"):
            raise ValueError(f"mode must be 'quick', 'full' or 'custom', got {self.mode!r}")
        buckets = _ints("length_buckets", self.length_buckets) if self.length_buckets else ()
        setf(self, "length_buckets", buckets)
        for name in ("energy", "audio", "frames"):
            sub = getattr(self, name)
            T = max(sub.lengths) if sub is not None else 0
            if sub is not None and buckets and max(buckets) < T:
                raise ValueError(f"length_buckets {buckets} must reach {name}.lengths' T={T}")
            if sub is not None and (L := self.bucket(T, sub.lengths)) > sub.n:
                raise ValueError(
                    f"length_buckets {buckets}: {name}.lengths T={T} runs in the bucket {L} > "
                    f"{name}.n = {sub.n} (a bucket must not exceed the signal length); add a "
                    f"bucket in [{T}, {sub.n}], e.g. length_buckets={tuple(sorted({*buckets, T}))}"
                    ", or pass length_buckets=()"
                )

    @property
    def experiments(self) -> tuple[str, ...]:
        """The experiments this config runs, in order (those whose config is not ``None``)."""
        return tuple(e for e in EXPERIMENTS if getattr(self, e) is not None)

    @classmethod
    def full(cls, *, seed: int = 0, draws: int | None = None, **changes) -> ReproduceConfig:
        """The paper's sizes: ``T = 8, 16, ..., 1024``, 1000 draws per point."""
        base = cls(seed=seed, draws=1000 if draws is None else draws, mode="full")
        return base.replace(**changes)

    @classmethod
    def quick(cls, *, seed: int = 0, draws: int | None = None, **changes) -> ReproduceConfig:
        """Powers of two ``T = 8 .. 1024``, 200 draws, three compiled lengths, quick training."""
        sweep = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 40, 48, 64)
        base = cls(
            seed=seed,
            draws=200 if draws is None else draws,
            mode="quick",
            length_buckets=(32, 256, 1024),
            energy=EnergyConfig(lengths=_POW2_LENGTHS),
            audio=AudioConfig(lengths=_POW2_LENGTHS, hist_bins=30),
            frames=FramesConfig(lengths=_POW2_LENGTHS, sweep_filters=sweep),
            training=TrainingConfig.quick(),
        )
        return base.replace(**changes)

    def replace(self, **changes) -> ReproduceConfig:
        """A copy with ``changes`` (validated); a dict for an experiment updates its config."""
        for name, cls in _SUB.items():
            if isinstance(value := changes.get(name), dict):
                changes[name] = dataclasses.replace(getattr(self, name) or cls(), **value)
        return dataclasses.replace(self, **changes)

    def bucket(self, length: int, lengths: tuple[int, ...]) -> int:
        """The padded length of ``length`` (smallest bucket ``>= length``; see ``lengths``)."""
        top = max(lengths)
        buckets = self.length_buckets or {min(top, 1 << (t - 1).bit_length()) for t in lengths}
        return min(b for b in buckets if b >= length)

    def theory_lengths(self, lengths: tuple[int, ...]) -> tuple[int, ...]:
        """Log-spaced subset of ``lengths`` (with both ends and the powers of two)."""
        lengths = tuple(sorted(lengths))
        if len(lengths) <= self.theory_points:
            return lengths
        keep = {lengths[0], lengths[-1]} | {t for t in lengths if t & (t - 1) == 0}
        lo, hi = math.log(lengths[0]), math.log(lengths[-1])
        for i in range(self.theory_points):
            target = lo + (hi - lo) * i / (self.theory_points - 1)
            keep.add(min(lengths, key=lambda t: abs(math.log(t) - target)))
        return tuple(sorted(keep))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (experiment configs nested dicts; :mod:`jaxfb.io` writes tuples as
        lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReproduceConfig:
        """Inverse of :meth:`to_dict`, also of its JSON (every config turns lists back into
        tuples when it validates; unknown keys raise ``TypeError``)."""
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise TypeError(f"unknown config keys: {unknown}")
        return cls(**data)
