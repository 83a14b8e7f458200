"""Test signals for energy-deviation studies: the paper's, synthetic recordings, and WAV files.

Every generator returns a ``(n,)`` array (``n`` a static Python int), float32 by default and
float64 under ``jax_enable_x64``, with unit Euclidean norm unless ``normalize=False``. Random
generators take a PRNG key first and nothing else random.

- Deterministic: :func:`impulse`, :func:`alternating` (Nyquist tone), :func:`pure_tone`,
  :func:`decaying_tone`, :func:`harmonic_pulse_train`.
- Random: :func:`white_noise`, :func:`lazy_random_walk` (the paper's "Brownian-like" walk).
- Synthetic stand-ins for the paper's recordings (1 s at 22050 Hz): :func:`snare`,
  :func:`speech`, :func:`flute`.
- Files: :func:`load_audio` (WAV, mono, resampled, cropped).
- By name: :data:`SIGNALS` and :func:`make_signal`.

Examples:
    >>> import jax
    >>> from jaxfb import signals
    >>> x = signals.make_signal("lazy_random_walk", 1024, key=jax.random.key(0))
    >>> x.shape, x.dtype
    ((1024,), dtype('float32'))
"""

from ._audio import load_audio as load_audio
from ._elementary import alternating as alternating
from ._elementary import decaying_tone as decaying_tone
from ._elementary import harmonic_pulse_train as harmonic_pulse_train
from ._elementary import impulse as impulse
from ._elementary import lazy_random_walk as lazy_random_walk
from ._elementary import pure_tone as pure_tone
from ._elementary import white_noise as white_noise
from ._registry import SIGNALS as SIGNALS
from ._registry import SignalSpec as SignalSpec
from ._registry import make_signal as make_signal
from ._synthetic import VOWEL_FORMANTS as VOWEL_FORMANTS
from ._synthetic import flute as flute
from ._synthetic import snare as snare
from ._synthetic import speech as speech

__all__ = [
    "SIGNALS",
    "VOWEL_FORMANTS",
    "SignalSpec",
    "alternating",
    "decaying_tone",
    "flute",
    "harmonic_pulse_train",
    "impulse",
    "lazy_random_walk",
    "load_audio",
    "make_signal",
    "pure_tone",
    "snare",
    "speech",
    "white_noise",
]
