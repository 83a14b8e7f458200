r"""Synthetic stand-ins for the paper's recordings: a snare hit, a voice, a flute note.

The paper evaluates energy deviations on three real recordings (snare, speech, flute; 1 s at
22050 Hz). Their files are not part of jaxfb, so these generators make signals with the same
broad structure, cheaply and reproducibly from a PRNG key:

- :func:`snare`: a decaying noise burst (the snare wires) over damped membrane modes.
- :func:`speech`: Rosenberg glottal pulses with a jittered, declining pitch contour, passed
  through formant resonators of a few vowels, in syllables.
- :func:`flute`: a harmonic tone with vibrato, tremolo and breath noise.

All parameters are static Python numbers (each distinct setting compiles once); the key is the
only source of randomness, so a key fixes the signal (for a given dtype and backend). Each
returns a unit-norm ``(n,)`` array; ``n`` defaults to 22050 (1 s at 22050 Hz).

The resonators are Klatt's two-pole formant filters
:math:`y[k] = A x[k] + B y[k-1] + C y[k-2]`, :math:`C = -r^2`,
:math:`B = 2r\cos(2\pi F/f_s)`, :math:`A = 1 - B - C`, :math:`r = e^{-\pi W/f_s}` (centre
``F``, bandwidth ``W``, unit gain at DC), applied by FFT with enough zero padding that the
result equals the recursive filter to about ``1e-9`` relative.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.fft

from .. import _validation as v
from ._common import check_key, finish, positive_float, resolve_dtype

__all__ = ["VOWEL_FORMANTS", "flute", "snare", "speech"]

DEFAULT_SAMPLE_RATE = 22050.0
DEFAULT_LENGTH = 22050

#: Formant centre frequencies ``(F1, F2, F3)`` in Hz of five vowels, adult male averages of
#: Peterson & Barney (1952); ``F4 = 3300`` Hz is added to all.
VOWEL_FORMANTS: dict[str, tuple[float, float, float]] = {
    "a": (730.0, 1090.0, 2440.0),  # /ɑ/ as in "father"
    "e": (530.0, 1840.0, 2480.0),  # /ɛ/ as in "bed"
    "i": (270.0, 2290.0, 3010.0),  # /i/ as in "beet"
    "o": (570.0, 840.0, 2410.0),  # /ɔ/ as in "bought"
    "u": (300.0, 870.0, 2240.0),  # /u/ as in "boot"
}
_F4 = 3300.0
_FORMANT_BANDWIDTHS = (60.0, 90.0, 150.0, 250.0)  # Hz, for F1..F4 (Klatt-like)

#: Mode frequency ratios of an ideal circular membrane (Bessel zeros j_mn / j_01).
_MEMBRANE_RATIOS = np.array([1.0, 1.593, 2.136, 2.296, 2.653, 2.918])
_MEMBRANE_AMPLITUDES = np.array([1.0, 0.7, 0.5, 0.45, 0.35, 0.3])


# ---------------------------------------------------------------------------------------------
# Filtering helpers (static NumPy responses, applied with JAX FFTs)


def klatt_resonator_response(
    centre: float, bandwidth: float, sample_rate: float, size: int
) -> np.ndarray:
    """Frequency response of Klatt's resonator on the ``rfft`` grid of length ``size``."""
    r = math.exp(-math.pi * bandwidth / sample_rate)
    b = 2 * r * math.cos(2 * math.pi * centre / sample_rate)
    c = -r * r
    z = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)
    return (1 - b - c) / (1 - b * z - c * z * z)


def _padded_size(n: int, bandwidths, sample_rate: float) -> int:
    """FFT length so the circular result equals the recursive filter (tail below ~1e-9)."""
    r = math.exp(-math.pi * min(bandwidths) / sample_rate)
    tail = math.ceil(math.log(1e-9) / math.log(r))
    return scipy.fft.next_fast_len(n + tail, real=True)


def _apply_response(x: jax.Array, response: np.ndarray, size: int) -> jax.Array:
    """Linear filtering of ``x (..., n)`` by a response on the ``rfft`` grid of ``size``."""
    n = x.shape[-1]
    X = jnp.fft.rfft(x, n=size, axis=-1)
    H = jnp.asarray(response, X.dtype)
    return jnp.fft.irfft(X * H, n=size, axis=-1)[..., :n].astype(x.dtype)


def _band_shape(n: int, sample_rate: float, low: float, high: float) -> np.ndarray:
    """Zero-phase magnitude on the ``rfft`` grid of ``n``: 2nd-order high-pass at ``low`` times
    2nd-order low-pass at ``high`` (Butterworth magnitudes), scaled to unit mean power."""
    f = np.fft.rfftfreq(n, 1 / sample_rate)
    with np.errstate(divide="ignore"):
        g = np.sqrt((f / low) ** 4 / (1 + (f / low) ** 4) / (1 + (f / high) ** 4))
    weights = np.full(f.shape, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    return g / math.sqrt(np.sum(weights * g**2) / n)


def _shaped_noise(z: jax.Array, sample_rate: float, low: float, high: float) -> jax.Array:
    """White noise ``z`` given the band shape of :func:`_band_shape` (circular filter)."""
    n = z.shape[-1]
    shape = jnp.asarray(_band_shape(n, sample_rate, low, high), z.dtype)
    return jnp.fft.irfft(jnp.fft.rfft(z) * shape, n=n).astype(z.dtype)


def _draws(key, dtype, normal: dict[str, tuple[int, ...]], uniform: dict[str, tuple[int, ...]]):
    """All the random numbers of a generator from one normal and one uniform draw.

    (One draw of each kind, sliced, compiles much faster than many small ones.)
    """
    k_normal, k_uniform = jax.random.split(key)
    out = {}
    for k, sizes, sampler in (
        (k_normal, normal, jax.random.normal),
        (k_uniform, uniform, jax.random.uniform),
    ):
        flat = sampler(k, (sum(math.prod(shape) for shape in sizes.values()),), dtype)
        start = 0
        for name, shape in sizes.items():
            out[name] = flat[start : start + math.prod(shape)].reshape(shape)
            start += math.prod(shape)
    return out


def _interp_uniform(t: jax.Array, rate: float, values: jax.Array) -> jax.Array:
    """Linear interpolation of ``values`` given at times ``0, 1/rate, 2/rate, ...``."""
    position = t * rate
    index = jnp.clip(jnp.floor(position).astype(jnp.int32), 0, values.shape[0] - 2)
    frac = position - index
    return values[index] * (1 - frac) + values[index + 1] * frac


def _raised_cosine_ramp(x: jax.Array) -> jax.Array:
    """0 for ``x <= 0``, 1 for ``x >= 1``, a half cosine in between."""
    return 0.5 - 0.5 * jnp.cos(jnp.pi * jnp.clip(x, 0.0, 1.0))


def _check_common(key, n, sample_rate, dtype):
    check_key(key)
    n = v.static_int("n", n, minimum=1)
    sample_rate = positive_float("sample_rate", sample_rate)
    return n, sample_rate, resolve_dtype(dtype)


def _below_nyquist(name: str, frequency: float, sample_rate: float) -> None:
    if frequency >= sample_rate / 2:
        raise ValueError(
            f"{name}={frequency:g} Hz must be below Nyquist ({sample_rate / 2:g} Hz "
            f"at sample_rate={sample_rate:g})"
        )


# ---------------------------------------------------------------------------------------------
# Snare


@partial(jax.jit, static_argnames=("n", "sample_rate", "params", "dtype"))
def _snare(key, *, n, sample_rate, params, dtype):
    fundamental, tone_decay, noise_decay, noise_level, onset = params
    m = len(_MEMBRANE_RATIOS)
    normal = {"freq": (m,), "wires": (n,), "click": (n,)}
    r = _draws(key, dtype, normal, {"amp": (m,), "phase": (m,)})
    t = jnp.arange(n, dtype=dtype) / sample_rate - onset
    on = (t >= 0).astype(dtype)
    t = jnp.maximum(t, 0)

    ratios = jnp.asarray(_MEMBRANE_RATIOS, dtype)
    freqs = fundamental * ratios * (1 + 0.01 * r["freq"])
    amps = jnp.asarray(_MEMBRANE_AMPLITUDES, dtype) * (0.7 + 0.6 * r["amp"])
    phases = 2 * jnp.pi * r["phase"]
    decays = tone_decay / ratios  # higher modes die faster
    cycles = t[:, None] * freqs[None, :]
    cycles = cycles - jnp.floor(cycles)
    modes = jnp.exp(-t[:, None] / decays[None, :]) * jnp.sin(2 * jnp.pi * cycles + phases[None, :])
    membrane = modes @ amps

    wires = _shaped_noise(r["wires"], sample_rate, 1000.0, 9000.0)
    click = r["click"] * jnp.exp(-t / 0.002)
    burst = noise_level * wires * jnp.exp(-t / noise_decay)
    return on * (membrane + burst + click)


def snare(
    key: jax.Array,
    n: int = DEFAULT_LENGTH,
    *,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    fundamental: float = 185.0,
    tone_decay: float = 0.12,
    noise_decay: float = 0.08,
    noise_level: float = 1.0,
    onset: float = 0.01,
    dtype: Any = None,
) -> jax.Array:
    r"""A synthetic snare-drum hit: damped membrane modes plus a decaying noise burst.

    Components, all starting at ``onset`` seconds (silence before):

    - membrane: six modes at the circular-membrane ratios ``1, 1.593, 2.136, 2.296, 2.653,
      2.918`` times ``fundamental`` (each jittered by 1 % rms), amplitudes
      ``1, 0.7, 0.5, 0.45, 0.35, 0.3`` (each times ``U(0.7, 1.3)``), random phases, and
      amplitude time constants ``tone_decay / ratio``;
    - snare wires: Gaussian noise band-limited to about 1-9 kHz (2nd-order high- and low-pass
      magnitudes), unit rms times ``noise_level``, decaying with time constant ``noise_decay``;
    - stick click: white Gaussian noise decaying with a 2 ms time constant.

    Args:
        key: a JAX PRNG key; the only source of randomness.
        n: length in samples, static Python int; default 22050 (1 s at 22050 Hz).
        sample_rate: in Hz.
        fundamental: lowest membrane mode in Hz (default 185 Hz).
        tone_decay: time constant of the lowest mode in seconds.
        noise_decay: time constant of the wire noise in seconds.
        noise_level: rms of the wire noise relative to the lowest mode's amplitude.
        onset: time of the hit in seconds.
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(n,)`` unit-norm array.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from jaxfb import signals
        >>> x = signals.snare(jax.random.key(0))
        >>> x.shape, round(float(jnp.linalg.norm(x)), 5)
        ((22050,), 1.0)
    """
    n, sample_rate, dtype = _check_common(key, n, sample_rate, dtype)
    params = (
        positive_float("fundamental", fundamental),
        positive_float("tone_decay", tone_decay),
        positive_float("noise_decay", noise_decay),
        positive_float("noise_level", noise_level, allow_zero=True),
        positive_float("onset", onset, allow_zero=True),
    )
    _below_nyquist("fundamental * 2.918 (highest mode)", params[0] * 2.918, sample_rate)
    if params[4] * sample_rate >= n:
        raise ValueError(f"onset={onset} s is past the end of the signal ({n} samples)")
    x = _snare(key, n=n, sample_rate=sample_rate, params=params, dtype=dtype)
    return finish(x, True, "snare")


# ---------------------------------------------------------------------------------------------
# Speech


def _rosenberg(u: jax.Array, open_phase: float = 0.4, closing_phase: float = 0.16) -> jax.Array:
    """Rosenberg (1971) glottal flow over one cycle, ``u`` in ``[0, 1)``: a raised-cosine
    opening over ``open_phase``, a quarter-cosine closing over ``closing_phase``, then closed."""
    opening = 0.5 - 0.5 * jnp.cos(jnp.pi * u / open_phase)
    closing = jnp.cos(0.5 * jnp.pi * (u - open_phase) / closing_phase)
    closed = u >= open_phase + closing_phase
    return jnp.where(u < open_phase, opening, jnp.where(closed, 0.0, closing))


@partial(jax.jit, static_argnames=("n", "sample_rate", "params", "dtype"))
def _speech(key, *, n, sample_rate, params, dtype):
    f0, jitter, shimmer, aspiration, num_syllables = params
    duration = n / sample_rate
    V = len(VOWEL_FORMANTS)
    drift_count = math.ceil(duration * 8.0) + 2
    jitter_count = math.ceil(duration * f0) + 2
    max_cycles = math.ceil(1.5 * f0 * duration) + 2
    rounds = -(-num_syllables // V)
    r = _draws(
        key,
        dtype,
        {
            "drift": (drift_count,),
            "jitter": (jitter_count,),
            "shimmer": (max_cycles,),
            "aspiration": (n,),
        },
        {"phase": (), "gain": (num_syllables, 1), "vowel": (rounds, V)},
    )
    t = jnp.arange(n, dtype=dtype) / sample_rate

    # Pitch: declination from 1.1 f0 to 0.9 f0, a slow random drift (3 % rms, 8 control points
    # per second) and fast jitter (one control point per nominal period).
    log_f = _interp_uniform(t, 8.0, 0.03 * r["drift"]) + _interp_uniform(
        t, f0, jitter * r["jitter"]
    )
    f_inst = f0 * (1.1 - 0.2 * t / duration) * jnp.exp(log_f)
    phase = r["phase"] + jnp.cumsum(f_inst / sample_rate)
    cycle = jnp.floor(phase)
    u = phase - cycle
    gains = 1 + shimmer * r["shimmer"]
    flow = gains[jnp.clip(cycle.astype(jnp.int32), 0, max_cycles - 1)] * _rosenberg(u)
    # Radiated source: the flow derivative (lip radiation), plus aspiration noise while open.
    source = jnp.diff(flow, prepend=jnp.zeros((1,), dtype))
    rms = jnp.sqrt(jnp.mean(source**2))
    source = source + aspiration * rms * _rosenberg(u) * r["aspiration"]

    # Syllables: equal slots, voiced over the middle 80 % with raised-cosine ramps; vowels
    # from random permutations of the five, so consecutive syllables mostly differ.
    slot = duration / num_syllables
    ramp = min(0.03, 0.2 * slot)
    starts = (jnp.arange(num_syllables, dtype=dtype) + 0.1) * slot
    ends = starts + 0.8 * slot
    envelopes = _raised_cosine_ramp((t[None, :] - starts[:, None]) / ramp) * _raised_cosine_ramp(
        (ends[:, None] - t[None, :]) / ramp
    )
    envelopes = envelopes * (0.7 + 0.3 * r["gain"])
    vowel = jnp.argsort(r["vowel"], axis=-1).reshape(-1)[:num_syllables]
    per_vowel = jax.nn.one_hot(vowel, V, dtype=dtype).T @ envelopes

    # Each vowel's vocal tract filters its own syllables: F1..F4 resonators in cascade.
    size = _padded_size(n, _FORMANT_BANDWIDTHS, sample_rate)
    responses = np.stack(
        [
            math.prod(
                klatt_resonator_response(f, w, sample_rate, size)
                for f, w in zip((*formants, _F4), _FORMANT_BANDWIDTHS, strict=True)
            )
            for formants in VOWEL_FORMANTS.values()
        ]
    )
    return jnp.sum(_apply_response(source[None, :] * per_vowel, responses, size), axis=0)


def speech(
    key: jax.Array,
    n: int = DEFAULT_LENGTH,
    *,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    f0: float = 120.0,
    jitter: float = 0.01,
    shimmer: float = 0.04,
    aspiration: float = 0.1,
    num_syllables: int | None = None,
    dtype: Any = None,
) -> jax.Array:
    r"""A synthetic voiced utterance: glottal pulses through vowel formant resonators.

    Source-filter model (Klatt 1980, simplified):

    - pitch contour: declines linearly from ``1.1 f0`` to ``0.9 f0`` over the signal, times
      ``exp(drift + jitter)`` with a slow drift (3 % rms, 8 random control points per second)
      and fast jitter (``jitter`` rms, one control point per nominal period), linearly
      interpolated; a random initial phase;
    - glottal flow: Rosenberg pulses (opening 40 %, closing 16 % of the period) with per-cycle
      amplitude shimmer (``shimmer`` rms); the source is its first difference (lip radiation)
      plus Gaussian aspiration noise gated by the glottal opening, at ``aspiration`` times the
      source rms;
    - syllables: ``num_syllables`` equal slots (default ``max(1, round(4 * seconds))``), voiced
      over the middle 80 % of each with 30 ms raised-cosine ramps and a gain ``U(0.7, 1)``;
      the vowels follow random permutations of :data:`VOWEL_FORMANTS` (/ɑ ɛ i ɔ u/), so
      consecutive syllables differ except across a permutation boundary;
    - vocal tract: a cascade of four Klatt resonators, F1-F3 from the vowel, F4 = 3300 Hz,
      bandwidths 60, 90, 150, 250 Hz, each vowel filtering its own syllables.

    Nearly all the energy lies below 4 kHz, as in real (male) speech.

    Args:
        key: a JAX PRNG key; the only source of randomness.
        n: length in samples, static Python int; default 22050 (1 s at 22050 Hz).
        sample_rate: in Hz; must exceed 2 * 3300 Hz (the highest formant).
        f0: mean fundamental frequency in Hz (default 120 Hz, a male voice).
        jitter: rms of the fast relative pitch perturbation.
        shimmer: rms of the per-cycle relative amplitude perturbation.
        aspiration: aspiration noise level relative to the voiced source rms.
        num_syllables: number of syllables (static int), default 4 per second.
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(n,)`` unit-norm array.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from jaxfb import signals
        >>> x = signals.speech(jax.random.key(0))
        >>> x.shape, round(float(jnp.linalg.norm(x)), 5)
        ((22050,), 1.0)
    """
    n, sample_rate, dtype = _check_common(key, n, sample_rate, dtype)
    _below_nyquist("the highest formant F4", _F4, sample_rate)
    f0 = positive_float("f0", f0)
    _below_nyquist("1.5 * f0", 1.5 * f0, sample_rate)
    if num_syllables is None:
        num_syllables = max(1, round(4 * n / sample_rate))
    params = (
        f0,
        positive_float("jitter", jitter, allow_zero=True),
        positive_float("shimmer", shimmer, allow_zero=True),
        positive_float("aspiration", aspiration, allow_zero=True),
        v.static_int("num_syllables", num_syllables, minimum=1),
    )
    x = _speech(key, n=n, sample_rate=sample_rate, params=params, dtype=dtype)
    return finish(x, True, "speech")


# ---------------------------------------------------------------------------------------------
# Flute


@partial(jax.jit, static_argnames=("n", "sample_rate", "params", "dtype"))
def _flute(key, *, n, sample_rate, params, dtype):
    f0, vibrato_rate, vibrato_depth, tremolo, rolloff, breath, attack, release, H = params
    r = _draws(key, dtype, {"rate": (), "breath": (n,)}, {"psi": (), "amp": (H,), "phase": (H,)})
    duration = n / sample_rate
    t = jnp.arange(n, dtype=dtype) / sample_rate

    # Vibrato: f(t) = f0 (1 + depth sin(2 pi rate t + psi)), integrated in closed form.
    rate = vibrato_rate * (1 + 0.05 * r["rate"])
    psi = 2 * jnp.pi * r["psi"]
    lfo = 2 * jnp.pi * rate * t + psi
    cycles = f0 * t
    cycles = cycles - jnp.floor(cycles)
    cycles = cycles - f0 * vibrato_depth / (2 * jnp.pi * rate) * jnp.cos(lfo)

    h = jnp.arange(1, H + 1, dtype=dtype)
    amps = rolloff ** (h - 1) * (0.8 + 0.4 * r["amp"])
    phases = 2 * jnp.pi * r["phase"]
    harmonic_cycles = cycles[:, None] * h[None, :]
    harmonic_cycles = harmonic_cycles - jnp.floor(harmonic_cycles)
    tone = jnp.sin(2 * jnp.pi * harmonic_cycles + phases[None, :]) @ amps
    tone = tone * (1 + tremolo * jnp.sin(lfo))

    rms = jnp.sqrt(jnp.sum(amps**2) / 2)
    noise = breath * rms * _shaped_noise(r["breath"], sample_rate, 500.0, 6000.0)
    attack = min(attack, duration / 4)
    release = min(release, duration / 4)
    envelope = _raised_cosine_ramp(t / attack) * _raised_cosine_ramp((duration - t) / release)
    return envelope * (tone + noise)


def flute(
    key: jax.Array,
    n: int = DEFAULT_LENGTH,
    *,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    f0: float = 440.0,
    vibrato_rate: float = 5.0,
    vibrato_depth: float = 0.01,
    tremolo: float = 0.1,
    rolloff: float = 0.5,
    breath: float = 0.05,
    attack: float = 0.06,
    release: float = 0.08,
    num_harmonics: int | None = None,
    dtype: Any = None,
) -> jax.Array:
    r"""A synthetic sustained flute note: harmonics with vibrato, tremolo and breath noise.

    - tone: harmonics ``h = 1..H`` of the instantaneous fundamental
      :math:`f(t) = f_0(1 + d\sin(2\pi r t + \psi))` (vibrato rate ``r`` jittered by 5 % rms,
      random phase :math:`\psi`), amplitudes ``rolloff**(h - 1)`` times ``U(0.8, 1.2)``, random
      phases; ``H`` defaults to every harmonic below Nyquist at the top of the vibrato;
    - tremolo: amplitude ``1 + tremolo * sin(2 pi r t + psi)``, in phase with the vibrato;
    - breath: Gaussian noise band-limited to about 0.5-6 kHz, rms ``breath`` times the tone rms;
    - envelope: raised-cosine attack and release (``attack``, ``release`` seconds, each at most
      a quarter of the signal).

    Args:
        key: a JAX PRNG key; the only source of randomness.
        n: length in samples, static Python int; default 22050 (1 s at 22050 Hz).
        sample_rate: in Hz.
        f0: fundamental in Hz (default 440 Hz, A4).
        vibrato_rate: in Hz.
        vibrato_depth: relative frequency deviation ``d`` (0.01 = +-17 cents).
        tremolo: relative amplitude modulation depth.
        rolloff: amplitude ratio of successive harmonics (0.5 = -6 dB per harmonic).
        breath: breath-noise level relative to the tone rms.
        attack: attack time in seconds.
        release: release time in seconds.
        num_harmonics: number of harmonics ``H`` (static int); default all below Nyquist.
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(n,)`` unit-norm array.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from jaxfb import signals
        >>> x = signals.flute(jax.random.key(0))
        >>> spectrum = jnp.abs(jnp.fft.rfft(x))  # 1 Hz bins
        >>> abs(int(jnp.argmax(spectrum)) - 440) <= 10
        True
    """
    n, sample_rate, dtype = _check_common(key, n, sample_rate, dtype)
    f0 = positive_float("f0", f0)
    vibrato_depth = positive_float("vibrato_depth", vibrato_depth, allow_zero=True)
    if vibrato_depth >= 1:
        raise ValueError(f"vibrato_depth must be < 1, got {vibrato_depth!r}")
    top = f0 * (1 + vibrato_depth)
    _below_nyquist("f0 * (1 + vibrato_depth)", top, sample_rate)
    if num_harmonics is None:
        num_harmonics = max(1, math.ceil(sample_rate / 2 / top) - 1)
    H = v.static_int("num_harmonics", num_harmonics, minimum=1)
    _below_nyquist("f0 * (1 + vibrato_depth) * num_harmonics", top * H, sample_rate)
    rolloff = positive_float("rolloff", rolloff)
    params = (
        f0,
        positive_float("vibrato_rate", vibrato_rate),
        vibrato_depth,
        positive_float("tremolo", tremolo, allow_zero=True),
        rolloff,
        positive_float("breath", breath, allow_zero=True),
        positive_float("attack", attack),
        positive_float("release", release),
        H,
    )
    if params[3] >= 1:
        raise ValueError(f"tremolo must be < 1, got {tremolo!r}")
    x = _flute(key, n=n, sample_rate=sample_rate, params=params, dtype=dtype)
    return finish(x, True, "flute")
