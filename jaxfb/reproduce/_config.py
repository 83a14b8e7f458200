"""The configuration of a reproduction run: sizes, grids, draws and the seed, with presets.

A :class:`ReproduceConfig` is a frozen dataclass of plain Python values (ints, floats, tuples of
ints, strings), so it is hashable, prints readably and round-trips through JSON
(:meth:`ReproduceConfig.to_dict` / :meth:`ReproduceConfig.from_dict`). Two presets:

- :meth:`ReproduceConfig.full`: the paper's experiments (Haider et al. 2024; SPEC
  section 5): ``T = 8, 16, ..., 1024`` and 1000 draws per point;
- :meth:`ReproduceConfig.quick`: the same experiments on powers of two ``T = 8 .. 1024`` with 200
  draws, for a look in a couple of minutes on a laptop.

Both also run the training experiment (``"training"``: random filterbanks fitted to a mel
filterbank with and without the stability penalty, :mod:`jaxfb.reproduce._training`), with the
sizes of the ``training_*`` fields: by default those of :class:`~jaxfb.reproduce.TrainingConfig`
at ``T = 32, 128, 512, 1024`` (its standalone study also runs 64 and 256; about 1-2 minutes on
two CPU cores), in the quick preset ``T = 32, 64``, ``n = 256``, 2 seeds, 150 steps (about 10
seconds); ``training=False`` leaves it out.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ._training import TrainingConfig, check_training_options

__all__ = ["EXPERIMENTS", "ReproduceConfig"]

EXPERIMENTS = ("energy", "audio", "frames", "training")
"""The built-in experiments, in the order they run (see :func:`jaxfb.reproduce.run`)."""

_TRAINING = TrainingConfig()
_TRAINING_QUICK = TrainingConfig.quick()

_TRAINING_FIELDS = tuple(f.name for f in dataclasses.fields(TrainingConfig))
_PAPER_LENGTHS = tuple(range(8, 1025, 8))
_POW2_LENGTHS = tuple(2**k for k in range(3, 11))
_SWEEP_FILTERS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64)


def _ints(name: str, values: Any, *, minimum: int = 1) -> tuple[int, ...]:
    if isinstance(values, int) and not isinstance(values, bool):
        values = (values,)
    try:
        out = tuple(int(v) for v in values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of ints, got {values!r}") from None
    if not out:
        raise ValueError(f"{name} must not be empty")
    bad = [v for v in out if v < minimum]
    if bad:
        raise ValueError(f"{name} must contain ints >= {minimum}, got {bad[0]} in {out}")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} has duplicates: {out}")
    return tuple(sorted(out))


def _pow2_buckets(lengths: tuple[int, ...]) -> tuple[int, ...]:
    """Padded lengths: the powers of two covering ``lengths`` (and the largest length)."""
    top = max(lengths)
    out = {min(top, 1 << max(0, (t - 1).bit_length())) for t in lengths}
    return tuple(sorted(out))


@dataclass(frozen=True)
class ReproduceConfig:
    """Everything that determines the numbers of a reproduction run.

    Attributes:
        seed: PRNG seed; every draw of every experiment derives from ``jax.random.key(seed)``
            by ``fold_in`` (experiment, point, chunk), so equal configs give equal numbers.
        draws: Monte Carlo draws (filterbanks) per point.
        mode: ``"quick"``, ``"full"`` or ``"custom"`` (a label, recorded in ``config.json``).
        experiments: which of :data:`EXPERIMENTS` to run, in this order (and any registered
            with :func:`jaxfb.reproduce.register_experiment`); not empty, no duplicates.
        training: run the training experiment. ``None`` (the default): as ``experiments``
            says (so an explicit subset without ``"training"``, e.g. ``experiments=("energy",)``,
            does not train); ``True`` adds ``"training"`` to ``experiments`` (last) if absent;
            ``False`` removes it. After validation ``training`` is a bool, ``True`` exactly when
            ``"training"`` is in ``experiments``; :meth:`replace` with ``experiments`` alone
            derives it again, with ``training`` alone adds or removes ``"training"``.
        levels: tail levels ``p`` of the deviation bounds, distinct (the paper's ``0.05``
            first). The first sets the quantile of the claims and key numbers (``1 - p``,
            95% for ``0.05``), the last the exceedance key number.
        energy_n: signal length of the elementary signals (impulse, random walk, alternating).
        energy_filters: ``J`` of the energy experiments.
        energy_lengths: filter lengths ``T`` of the elementary-signal experiment.
        audio_n: length of the audio signals in samples (1 s at ``audio_rate``).
        audio_rate: sampling rate in Hz of the audio signals.
        audio_lengths: filter lengths ``T`` of the audio experiment; its histograms use the
            largest.
        audio_files: WAV files to use instead of the synthetic snare, speech and flute.
        frames_n: signal length ``N`` of the frame-bound experiments.
        frames_filters: ``J`` of the frame-bound figure (the paper's 40).
        frames_lengths: filter lengths ``T`` of the frame-bound and condition-number figures.
        kappa_filters: ``J`` values of the condition number against ``T``.
        sweep_filters: ``J`` values of the condition number against ``J``.
        sweep_lengths: the ``T`` at which the whole ``J`` sweep is simulated (a subset of
            ``frames_lengths``); every other ``T`` simulates ``kappa_filters`` and
            ``frames_filters`` only.
        fit_min_filters: smallest ``J`` entering the fitted scaling law.
        theory_points: at most this many filter lengths get the exact (host-side, float64)
            quantiles and tail probabilities; a log-spaced subset of the simulated lengths that
            keeps the powers of two and both ends.
        length_buckets: padded filter lengths of the compiled kernels (one compilation each);
            a length ``T`` runs in the smallest bucket ``>= T`` with its taps beyond ``T`` set to
            zero, which is exact (see ``docs/reproduction.md``). ``()``: powers of two (capped
            at the largest ``T``). The bucket of each experiment's largest ``T`` must not
            exceed that experiment's signal length (``energy_n``, ``audio_n``, ``frames_n``):
            a ``ValueError`` names both settings otherwise. Buckets are not capped silently,
            because the bucket sets the shape of the random draws and so the numbers. The
            training experiment does not use buckets.
        chunk: most draws per call of a compiled kernel (bounds memory: ``chunk * J * T``
            weights).
        hist_bins: bins of the energy histograms.
        save_samples: also write every draw to ``samples.npz`` (a bool).

    The ``training_*`` fields (``training_num_filters``, ``training_lengths``, ``training_n``,
    ``training_sample_rate``, ``training_seeds``, ``training_penalty_weights``,
    ``training_temperature``, ``training_steps``, ``training_learning_rate``) are the fields of
    the training experiment's :class:`~jaxfb.reproduce.TrainingConfig` without the prefix (see
    :meth:`training_config`). Its initial filterbanks derive from ``seed`` like every other
    draw.
    """

    seed: int = 0
    draws: int = 1000
    mode: str = "custom"
    experiments: tuple[str, ...] = EXPERIMENTS
    levels: tuple[float, ...] = (0.05, 0.01)
    energy_n: int = 1024
    energy_filters: int = 10
    energy_lengths: tuple[int, ...] = _PAPER_LENGTHS
    audio_n: int = 22050
    audio_rate: int = 22050
    audio_lengths: tuple[int, ...] = _PAPER_LENGTHS
    audio_files: tuple[str, ...] = ()
    frames_n: int = 1024
    frames_filters: int = 40
    frames_lengths: tuple[int, ...] = _PAPER_LENGTHS
    kappa_filters: tuple[int, ...] = (5, 10, 40)
    sweep_filters: tuple[int, ...] = _SWEEP_FILTERS
    sweep_lengths: tuple[int, ...] = _POW2_LENGTHS
    fit_min_filters: int = 8
    theory_points: int = 24
    length_buckets: tuple[int, ...] = ()
    chunk: int = 128
    hist_bins: int = 50
    save_samples: bool = True
    training: bool | None = None
    training_num_filters: int = _TRAINING.num_filters
    training_lengths: tuple[int, ...] = (32, 128, 512, 1024)
    training_n: int = _TRAINING.n
    training_sample_rate: float = _TRAINING.sample_rate
    training_seeds: int = _TRAINING.seeds
    training_penalty_weights: tuple[float, ...] = _TRAINING.penalty_weights
    training_temperature: float = _TRAINING.temperature
    training_steps: int = _TRAINING.steps
    training_learning_rate: float = _TRAINING.learning_rate
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Options of registered (non built-in) experiments; not validated here."""

    def __post_init__(self):
        def setf(name, value):
            object.__setattr__(self, name, value)

        for name in ("seed",):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {value!r}")
            if not 0 <= value < 2**63:
                raise ValueError(f"{name} must be in [0, 2**63), got {value}")
        for name, minimum in (
            ("draws", 2),
            ("energy_n", 2),
            ("energy_filters", 1),
            ("audio_n", 2),
            ("audio_rate", 1),
            ("frames_n", 2),
            ("frames_filters", 1),
            ("fit_min_filters", 1),
            ("theory_points", 2),
            ("chunk", 1),
            ("hist_bins", 2),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {value!r}")
            if value < minimum:
                raise ValueError(f"{name} must be >= {minimum}, got {value}")
        for name in (
            "energy_lengths",
            "audio_lengths",
            "frames_lengths",
            "kappa_filters",
            "sweep_filters",
            "sweep_lengths",
        ):
            setf(name, _ints(name, getattr(self, name)))
        for name, n in (
            ("energy_lengths", self.energy_n),
            ("audio_lengths", self.audio_n),
            ("frames_lengths", self.frames_n),
        ):
            if max(getattr(self, name)) > n:
                raise ValueError(f"{name} has T={max(getattr(self, name))} > the signal length {n}")
        missing = sorted(set(self.sweep_lengths) - set(self.frames_lengths))
        if missing:
            raise ValueError(f"sweep_lengths {missing} are not in frames_lengths")
        try:
            levels = tuple(float(p) for p in self.levels)
        except (TypeError, ValueError):
            raise TypeError(f"levels must be a sequence of floats, got {self.levels!r}") from None
        if not levels or any(not 0 < p < 1 for p in levels):
            raise ValueError(f"levels must be in (0, 1), got {self.levels}")
        if len(set(levels)) != len(levels):
            raise ValueError(f"levels has duplicates: {levels}")
        setf("levels", levels)
        setf("audio_files", tuple(str(f) for f in self.audio_files))
        if not isinstance(self.save_samples, bool):
            raise TypeError(f"save_samples must be a bool, got {self.save_samples!r}")
        if self.training is not None and not isinstance(self.training, bool):
            raise TypeError(f"training must be a bool or None, got {self.training!r}")
        if isinstance(self.experiments, str):
            raise TypeError(
                f"experiments must be a sequence of names, got the string {self.experiments!r}"
            )
        experiments = tuple(str(e) for e in self.experiments)
        dupes = sorted({e for e in experiments if experiments.count(e) > 1})
        if dupes:
            raise ValueError(f"experiments has duplicates {dupes}: {experiments}")
        if self.training is False:
            experiments = tuple(e for e in experiments if e != "training")
        elif self.training is True and "training" not in experiments:
            experiments = (*experiments, "training")
        if not experiments:
            raise ValueError(
                "experiments must name at least one experiment, got "
                f"{tuple(self.experiments)!r}"
                + (" (training=False removed 'training')" if self.experiments else "")
            )
        setf("experiments", experiments)
        setf("training", "training" in experiments)
        training = check_training_options(
            {f: getattr(self, f"training_{f}") for f in _TRAINING_FIELDS},
            label=lambda f: f"training_{f}",
        )
        for f, value in training.items():
            setf(f"training_{f}", value)
        if self.mode not in ("quick", "full", "custom"):
            raise ValueError(f"mode must be 'quick', 'full' or 'custom', got {self.mode!r}")
        buckets = tuple(self.length_buckets)
        if buckets:
            buckets = _ints("length_buckets", buckets)
            top = max(self.energy_lengths + self.audio_lengths + self.frames_lengths)
            if max(buckets) < top:
                raise ValueError(
                    f"length_buckets {buckets} must reach the largest filter length {top}"
                )
        setf("length_buckets", buckets)
        # the kernels pad to the bucket, which must fit in the signal (L <= N); the largest T
        # of an experiment has the largest bucket, so checking it suffices (always true for
        # the default buckets, which stop at the largest T)
        for lengths, n in (
            ("energy_lengths", "energy_n"),
            ("audio_lengths", "audio_n"),
            ("frames_lengths", "frames_n"),
        ):
            T, N = max(getattr(self, lengths)), getattr(self, n)
            L = self.bucket(T, getattr(self, lengths))
            if L > N:
                fit = tuple(sorted({*buckets, T}))
                raise ValueError(
                    f"length_buckets {buckets}: {lengths} T={T} runs in the bucket {L} > "
                    f"{n} = {N} (a bucket must not exceed the signal length); add a bucket "
                    f"in [{T}, {N}], e.g. length_buckets={fit}, or pass length_buckets=()"
                )

    # -- presets ---------------------------------------------------------------------------------

    @classmethod
    def full(cls, *, seed: int = 0, draws: int | None = None, **overrides) -> ReproduceConfig:
        """The paper's sizes: ``T = 8, 16, ..., 1024``, 1000 draws per point."""
        return cls(seed=seed, draws=1000 if draws is None else draws, mode="full", **overrides)

    @classmethod
    def quick(cls, *, seed: int = 0, draws: int | None = None, **overrides) -> ReproduceConfig:
        """Powers of two ``T = 8 .. 1024``, 200 draws, three compiled lengths per experiment.

        The training experiment uses :meth:`TrainingConfig.quick`'s sizes (``T = 32, 64``,
        ``n = 256``, 2 seeds, 150 steps).
        """
        opts: dict[str, Any] = dict(
            training_lengths=_TRAINING_QUICK.lengths,
            training_n=_TRAINING_QUICK.n,
            training_seeds=_TRAINING_QUICK.seeds,
            training_steps=_TRAINING_QUICK.steps,
            energy_lengths=_POW2_LENGTHS,
            audio_lengths=_POW2_LENGTHS,
            frames_lengths=_POW2_LENGTHS,
            sweep_lengths=_POW2_LENGTHS,
            sweep_filters=(1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 40, 48, 64),
            length_buckets=(32, 256, 1024),
            hist_bins=30,
        )
        opts.update(overrides)
        return cls(seed=seed, draws=200 if draws is None else draws, mode="quick", **opts)

    # -- derived quantities ----------------------------------------------------------------------

    def buckets_for(self, lengths: tuple[int, ...]) -> tuple[int, ...]:
        """The padded lengths that ``lengths`` run in."""
        return self.length_buckets or _pow2_buckets(lengths)

    def bucket(self, length: int, lengths: tuple[int, ...]) -> int:
        """The padded length of ``length`` (smallest bucket ``>= length``)."""
        return min(b for b in self.buckets_for(lengths) if b >= length)

    def theory_lengths(self, lengths: tuple[int, ...]) -> tuple[int, ...]:
        """Log-spaced subset of ``lengths`` (with both ends and the powers of two)."""
        lengths = tuple(sorted(lengths))
        if len(lengths) <= self.theory_points:
            return lengths
        keep = {lengths[0], lengths[-1]}
        keep |= {t for t in lengths if t & (t - 1) == 0}
        lo, hi = math.log(lengths[0]), math.log(lengths[-1])
        for i in range(self.theory_points):
            target = math.exp(lo + (hi - lo) * i / (self.theory_points - 1))
            keep.add(min(lengths, key=lambda t: abs(math.log(t) - math.log(target))))
        return tuple(sorted(keep))

    def training_config(self) -> TrainingConfig:
        """The :class:`~jaxfb.reproduce.TrainingConfig` of the ``training_*`` fields."""
        return TrainingConfig(**{f: getattr(self, f"training_{f}") for f in _TRAINING_FIELDS})

    @property
    def frames_filter_set(self) -> tuple[int, ...]:
        """``J`` values simulated at every frame length."""
        return tuple(sorted({self.frames_filters, *self.kappa_filters}))

    @property
    def sweep_filter_set(self) -> tuple[int, ...]:
        """``J`` values simulated at the sweep lengths."""
        return tuple(sorted({*self.frames_filter_set, *self.sweep_filters}))

    # -- serialisation ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (tuples become lists)."""
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReproduceConfig:
        """Inverse of :meth:`to_dict` (unknown keys raise ``TypeError``)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise TypeError(f"unknown config keys: {unknown}")
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**kw)

    def replace(self, **changes) -> ReproduceConfig:
        """A copy with ``changes`` (validated again).

        ``experiments`` without ``training`` derives ``training`` from the new list;
        ``training`` without ``experiments`` adds (``True``) or removes (``False``)
        ``"training"``.

        Examples:
            >>> cfg = ReproduceConfig.quick(training=False)
            >>> cfg.replace(training=True).experiments
            ('energy', 'audio', 'frames', 'training')
            >>> cfg.replace(experiments=("energy",)).training
            False
        """
        if "experiments" in changes and "training" not in changes:
            changes["training"] = None
        return dataclasses.replace(self, **changes)
