"""Signals by name, for sweeps and the command line."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import jax

from . import _elementary as el
from . import _synthetic as syn

__all__ = ["SIGNALS", "SignalSpec", "make_signal"]


@dataclass(frozen=True)
class SignalSpec:
    """A named signal generator.

    Attributes:
        name: the registry name accepted by :func:`make_signal`.
        function: the generator, called as ``function(n, **kw)`` or, when ``random``,
            ``function(key, n, **kw)``.
        random: whether the generator needs a PRNG key.
        defaults: keyword arguments used unless the caller overrides them.
        description: one line for docs and ``jaxfb info``.
    """

    name: str
    function: Callable[..., jax.Array]
    random: bool
    defaults: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


SIGNALS: Mapping[str, SignalSpec] = MappingProxyType(
    {
        s.name: s
        for s in (
            SignalSpec("impulse", el.impulse, False, {}, "unit impulse at sample 0"),
            SignalSpec("alternating", el.alternating, False, {}, "alternating sign (Nyquist tone)"),
            SignalSpec(
                "lazy_random_walk",
                el.lazy_random_walk,
                True,
                {},
                "the paper's lazy random walk on {-1, 0, 1}, P(move) = 0.15 each way",
            ),
            SignalSpec("white_noise", el.white_noise, True, {}, "Gaussian white noise"),
            SignalSpec(
                "pure_tone",
                el.pure_tone,
                False,
                MappingProxyType({"frequency": 0.125}),
                "cosine at 0.125 cycles/sample (frequency=..., sample_rate=...)",
            ),
            SignalSpec(
                "decaying_tone",
                el.decaying_tone,
                False,
                MappingProxyType({"frequency": 0.125}),
                "damped cosine at 0.125 cycles/sample, time constant n/8 (decay=...)",
            ),
            SignalSpec(
                "pulse_train",
                el.harmonic_pulse_train,
                False,
                MappingProxyType({"period": 32}),
                "impulse train with period 32 samples (period=..., num_harmonics=...)",
            ),
            SignalSpec("snare", syn.snare, True, {}, "synthetic snare hit at 22050 Hz"),
            SignalSpec("speech", syn.speech, True, {}, "synthetic voiced speech at 22050 Hz"),
            SignalSpec("flute", syn.flute, True, {}, "synthetic flute note (A4) at 22050 Hz"),
        )
    }
)


def make_signal(name: str, n: int, *, key: jax.Array | None = None, **kwargs: Any) -> jax.Array:
    """Generate a registered signal by name.

    Names: ``impulse``, ``alternating``, ``lazy_random_walk``, ``white_noise``, ``pure_tone``,
    ``decaying_tone``, ``pulse_train``, ``snare``, ``speech``, ``flute``
    (``jaxfb.signals.SIGNALS`` lists them with their defaults). Keyword arguments override the
    registry defaults and go to the generator.

    Args:
        name: registry name.
        n: signal length, static Python int.
        key: a JAX PRNG key, required by random signals; ignored by deterministic ones.
        **kwargs: passed to the generator (e.g. ``frequency=``, ``sample_rate=``, ``p_stay=``).

    Returns:
        ``(n,)`` array, unit norm unless ``normalize=False`` is passed (where supported).

    Raises:
        ValueError: unknown name (the message lists the choices), or a random signal without
            ``key``.

    Examples:
        >>> import jax
        >>> from jaxfb import signals
        >>> signals.make_signal("pure_tone", 1024, frequency=0.25).shape
        (1024,)
        >>> signals.make_signal("speech", 22050, key=jax.random.key(0)).shape
        (22050,)
    """
    spec = SIGNALS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"unknown signal {name!r}; choose one of: {', '.join(SIGNALS)}")
    options = {**spec.defaults, **kwargs}
    if spec.random:
        if key is None:
            raise ValueError(
                f"signal {name!r} is random and needs a PRNG key: "
                f"make_signal({name!r}, n, key=jax.random.key(seed))"
            )
        return spec.function(key, n, **options)
    return spec.function(n, **options)
