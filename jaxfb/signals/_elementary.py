r"""Elementary test signals: impulse, alternating sign, tones, pulse trains, noise, lazy walks.

Every generator returns a ``(n,)`` array (``n`` a static Python int), float32 by default and
float64 when ``jax_enable_x64`` is on, scaled to unit Euclidean norm unless ``normalize=False``.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validation as v
from ._common import check_key, finish, positive_float, resolve_dtype

__all__ = [
    "alternating",
    "decaying_tone",
    "harmonic_pulse_train",
    "impulse",
    "lazy_random_walk",
    "pure_tone",
    "white_noise",
]

#: The authors' lazy random walk (``brownian_noise(N, 0.15)`` in their ``fb_utils.py``): a step
#: is -1 or +1 with probability 0.15 each and 0 with probability 0.7, and the walk is confined
#: to ``{-1, 0, 1}`` (a step that would leave it is dropped).
PAPER_P_STAY = 0.7
PAPER_BOUND = 1


def impulse(n: int, *, position: int = 0, normalize: bool = True, dtype: Any = None) -> jax.Array:
    r"""Unit impulse :math:`x[k] = \delta[k - k_0]`.

    Its circular autocorrelation is :math:`R(\tau) = \delta[\tau]`, so the energy variance under
    the paper's Gaussian init is :math:`2/(JT)` (docs/theory.md, section 2), the smallest of any
    unit-norm signal. The position does not matter for any filterbank statistic (circular shift
    invariance); the authors' notebook puts it at ``513``.

    Args:
        n: signal length ``N >= 1``, static Python int.
        position: index ``0 <= position < n`` of the nonzero sample, static Python int.
        normalize: kept for a uniform signature; the impulse already has unit norm.
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(n,)`` array.

    Examples:
        >>> from jaxfb import signals
        >>> signals.impulse(4, position=1).tolist()
        [0.0, 1.0, 0.0, 0.0]
    """
    n = v.static_int("n", n, minimum=1)
    position = v.static_int("position", position, minimum=0)
    if position >= n:
        raise ValueError(f"position={position} must be < n={n}")
    dtype = resolve_dtype(dtype)
    return jnp.zeros((n,), dtype).at[position].set(1)


def alternating(n: int, *, normalize: bool = True, dtype: Any = None) -> jax.Array:
    r"""Alternating sign :math:`x[k] = (-1)^k / \sqrt N`: the Nyquist tone.

    :math:`R(\tau) = (-1)^\tau` for even ``N``, so :math:`\sum_{|\tau|<T}(T-|\tau|)R(\tau)^2 =
    T^2` and the energy variance under the paper's Gaussian init is :math:`2/J` for every ``T``
    (docs/theory.md, section 2): the largest of any unit-norm signal. (The constant signal has
    the same ``|R|`` and hence the same energy distribution; the authors' notebook builds its
    "sine" as ``-np.ones(N)**np.arange(N)``, which by operator precedence is that constant.)

    Args:
        n: signal length ``N >= 1``, static Python int.
        normalize: scale to unit norm (default); ``False`` gives entries ``+-1``.
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(n,)`` array.

    Examples:
        >>> from jaxfb import signals
        >>> signals.alternating(4).tolist()
        [0.5, -0.5, 0.5, -0.5]
    """
    n = v.static_int("n", n, minimum=1)
    dtype = resolve_dtype(dtype)
    x = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0).astype(dtype)
    return finish(x, normalize, "alternating")


def _normalized_frequency(frequency: Any, sample_rate: float | None) -> Any:
    """Frequency in cycles per sample, checked against ``[0, 1/2]`` when it is concrete."""
    if sample_rate is not None:
        sample_rate = positive_float("sample_rate", sample_rate)
    if isinstance(frequency, bool):
        raise TypeError(f"frequency must be a number, got {frequency!r}")
    if v.is_concrete(frequency):
        f = np.asarray(frequency)
        if f.ndim != 0 or not np.issubdtype(f.dtype, np.number) or np.iscomplexobj(f):
            raise TypeError(f"frequency must be a real scalar, got {frequency!r}")
        nyquist = 0.5 if sample_rate is None else sample_rate / 2
        unit = "cycles/sample" if sample_rate is None else "Hz"
        if not (np.isfinite(f) and 0 <= f <= nyquist):
            hint = ""
            if sample_rate is None and np.isfinite(f) and f > nyquist:
                hint = (
                    f"; without sample_rate the frequency is in cycles per sample. If "
                    f"{frequency!r} is in Hz, pass the sample rate too, e.g. "
                    f"frequency={frequency!r}, sample_rate=22050.0"
                )
            raise ValueError(
                f"frequency={frequency!r} must lie in [0, {nyquist:g}] {unit} (0 to Nyquist)" + hint
            )
    return frequency if sample_rate is None else frequency / sample_rate


def _cosine(n: int, f: Any, phase: Any, dtype) -> jax.Array:
    k = jnp.arange(n, dtype=dtype)
    cycles = jnp.asarray(f, dtype) * k
    cycles = cycles - jnp.floor(cycles)  # keep the argument of cos small (float32 accuracy)
    return jnp.cos(2 * jnp.pi * cycles + jnp.asarray(phase, dtype))


def pure_tone(
    n: int,
    frequency: float,
    *,
    sample_rate: float | None = None,
    phase: float = 0.0,
    normalize: bool = True,
    dtype: Any = None,
) -> jax.Array:
    r"""Sampled cosine :math:`x[k] = \cos(2\pi f k / f_s + \varphi)`.

    ``frequency = 0.5`` (cycles per sample) with ``phase = 0`` is :func:`alternating`;
    ``frequency = m / n`` puts the tone exactly on DFT bin ``m``.

    Args:
        n: signal length ``N >= 1``, static Python int.
        frequency: in cycles per sample (``0 .. 0.5``) when ``sample_rate`` is ``None``, else in
            Hz (``0 .. sample_rate / 2``). May be a traced scalar (checked only when concrete).
        sample_rate: sampling rate in Hz, or ``None`` for normalized frequency.
        phase: phase :math:`\varphi` in radians.
        normalize: scale to unit norm (default); ``False`` leaves amplitude 1.
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(n,)`` array.

    Raises:
        ValueError: frequency outside ``[0, Nyquist]``, or a concrete all-zero tone (e.g. a
            Nyquist sine) with ``normalize=True``.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxfb import signals
        >>> x = signals.pure_tone(1024, 440.0, sample_rate=22050.0)
        >>> int(jnp.argmax(jnp.abs(jnp.fft.rfft(x))))  # 440 / 22050 * 1024 = 20.4
        20
    """
    n = v.static_int("n", n, minimum=1)
    dtype = resolve_dtype(dtype)
    f = _normalized_frequency(frequency, sample_rate)
    return finish(_cosine(n, f, phase, dtype), normalize, "pure_tone")


def decaying_tone(
    n: int,
    frequency: float,
    *,
    decay: float | None = None,
    sample_rate: float | None = None,
    phase: float = 0.0,
    normalize: bool = True,
    dtype: Any = None,
) -> jax.Array:
    r"""Exponentially damped cosine :math:`x[k] = e^{-k/(\tau f_s)}\cos(2\pi f k/f_s + \varphi)`.

    The impulse response of a resonance (a struck bar or string mode): a line broadened to a
    Lorentzian of half-width :math:`1/(2\pi\tau)`.

    Args:
        n: signal length ``N >= 1``, static Python int.
        frequency: as in :func:`pure_tone` (cycles per sample, or Hz with ``sample_rate``).
        decay: time constant :math:`\tau` (amplitude falls by ``1/e``), in samples, or in
            seconds with ``sample_rate``; default ``n / 8`` samples.
        sample_rate: sampling rate in Hz, or ``None`` for normalized units.
        phase: phase :math:`\varphi` in radians.
        normalize: scale to unit norm (default).
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(n,)`` array.

    Examples:
        >>> from jaxfb import signals
        >>> x = signals.decaying_tone(1024, 0.1, decay=64.0, normalize=False)
        >>> round(float(x[64]), 4)  # e^{-1} cos(2 pi 6.4)
        -0.2976
    """
    n = v.static_int("n", n, minimum=1)
    dtype = resolve_dtype(dtype)
    f = _normalized_frequency(frequency, sample_rate)
    if decay is None:
        tau = n / 8
    else:
        tau = positive_float("decay", decay)
        if sample_rate is not None:
            tau *= float(sample_rate)
    envelope = jnp.exp(-jnp.arange(n, dtype=dtype) / jnp.asarray(tau, dtype))
    return finish(envelope * _cosine(n, f, phase, dtype), normalize, "decaying_tone")


def harmonic_pulse_train(
    n: int,
    period: int,
    *,
    num_harmonics: int | None = None,
    normalize: bool = True,
    dtype: Any = None,
) -> jax.Array:
    r"""Periodic pulse train with fundamental :math:`1/P` cycles per sample.

    With ``num_harmonics=None`` it is the impulse train :math:`x[k] = 1` if ``k % P == 0``
    else ``0``: the sum of all ``P`` harmonics of :math:`1/P`, DC included, with equal
    amplitudes. With ``num_harmonics = H`` it is the band-limited, zero-mean train
    :math:`x[k] = \sum_{h=1}^{H} \cos(2\pi h k / P)`, ``1 <= H <= P/2``. Either way ``x`` is
    ``P``-periodic, its circular autocorrelation peaks at multiples of ``P`` when ``P`` divides
    ``n``, and its DFT is supported on multiples of bin ``n / P``.

    Args:
        n: signal length ``N >= 1``, static Python int.
        period: ``1 <= P <= n`` samples, static Python int.
        num_harmonics: ``None`` (impulse train) or ``H`` (band-limited), static Python int.
        normalize: scale to unit norm (default); ``False`` leaves unit pulses.
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(n,)`` array.

    Examples:
        >>> from jaxfb import signals
        >>> signals.harmonic_pulse_train(8, 4, normalize=False).tolist()
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    """
    n = v.static_int("n", n, minimum=1)
    P = v.static_int("period", period, minimum=1)
    if P > n:
        raise ValueError(f"period={P} must be <= n={n}")
    dtype = resolve_dtype(dtype)
    if num_harmonics is None:
        one_period = np.zeros(P)
        one_period[0] = 1.0
    else:
        H = v.static_int("num_harmonics", num_harmonics, minimum=1)
        if 2 * H > P:
            raise ValueError(
                f"num_harmonics={H} must be <= period/2 = {P / 2:g} (harmonics up to Nyquist)"
            )
        spectrum = np.zeros(P // 2 + 1)
        spectrum[1 : H + 1] = 1.0
        if 2 * H == P:  # the Nyquist bin enters irfft once, not twice
            spectrum[H] = 2.0
        one_period = np.fft.irfft(spectrum, P) * (P / 2)
    x = np.tile(one_period, -(-n // P))[:n]
    return finish(jnp.asarray(x, dtype), normalize, "harmonic_pulse_train")


@partial(jax.jit, static_argnames=("n", "dtype"))
def _white_noise(key, *, n, dtype):
    return jax.random.normal(key, (n,), dtype)


def white_noise(key: jax.Array, n: int, *, normalize: bool = True, dtype: Any = None) -> jax.Array:
    r"""Gaussian white noise :math:`x[k] \sim \mathcal N(0, 1)` i.i.d., then scaled to unit norm.

    :math:`\mathbb E R(\tau) = \delta[\tau]` (up to the normalization), so white noise behaves
    like an impulse on average, with fluctuations of order :math:`1/\sqrt N` in ``R(tau)``.

    Args:
        key: a JAX PRNG key; the only source of randomness.
        n: signal length ``N >= 1``, static Python int.
        normalize: scale to unit norm (default).
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(n,)`` array.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from jaxfb import signals
        >>> x = signals.white_noise(jax.random.key(0), 1024)
        >>> round(float(jnp.linalg.norm(x)), 5)
        1.0
    """
    check_key(key)
    n = v.static_int("n", n, minimum=1)
    dtype = resolve_dtype(dtype)
    return finish(_white_noise(key, n=n, dtype=dtype), normalize, "white_noise")


@partial(jax.jit, static_argnames=("n", "bound", "dtype"))
def _lazy_walk(key, p_stay, *, n, bound, dtype):
    u = jax.random.uniform(key, (n - 1,), dtype)
    p_move = (1 - jnp.asarray(p_stay, dtype)) / 2
    # Same thresholds as the authors' code: down if u < p, up if u > 1 - p.
    steps = (u > 1 - p_move).astype(jnp.int32) - (u < p_move).astype(jnp.int32)
    if bound is None:
        walk = jnp.cumsum(steps)
    else:

        def step(position, s):
            position = jnp.clip(position + s, -bound, bound)
            return position, position

        _, walk = jax.lax.scan(step, jnp.int32(0), steps)
    return jnp.concatenate([jnp.zeros((1,), jnp.int32), walk]).astype(dtype)


def lazy_random_walk(
    key: jax.Array,
    n: int,
    *,
    p_stay: float = PAPER_P_STAY,
    bound: int | None = PAPER_BOUND,
    normalize: bool = True,
    dtype: Any = None,
) -> jax.Array:
    r"""The paper's "Brownian-like" lazy random walk, started at 0.

    Each of the ``n - 1`` steps is 0 with probability ``p_stay`` and ``-1`` or ``+1`` with
    probability ``(1 - p_stay) / 2`` each. With ``bound = b`` the walk is confined to
    ``{-b, ..., b}``: a step that would leave it is dropped (the walk stays put).

    The defaults reproduce the authors' code (``brownian_noise(N, 0.15)`` in ``fb_utils.py`` of
    their repository ``danedane-haider/Random-Filterbanks``): each move has probability 0.15, so
    ``p_stay = 0.7``, and the walk lives on ``{-1, 0, 1}`` (``bound=1``). That walk is a Markov
    chain with uniform stationary law on the three states; at stationarity a step is 0 with
    probability ``p_stay + (1 - p_stay)/3 = 0.8``. Pass ``bound=None`` for the unbounded lazy
    walk (steps i.i.d., a discrete Brownian motion).

    Args:
        key: a JAX PRNG key; the only source of randomness.
        n: signal length ``N >= 1``, static Python int.
        p_stay: probability ``0 <= p_stay <= 1`` of a zero step (may be traced).
        bound: ``b >= 1`` confines the walk to ``[-b, b]``; ``None`` for no bound. Static.
        normalize: scale to unit norm (default); ``False`` returns the integer-valued walk.
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(n,)`` array; ``x[0] = 0`` before normalization.

    Raises:
        ValueError: a concrete walk that never leaves 0 (e.g. ``n == 1`` or ``p_stay == 1``)
            cannot be normalized; under ``jit``/``vmap`` it is returned as zeros.

    Examples:
        >>> import jax
        >>> from jaxfb import signals
        >>> w = signals.lazy_random_walk(jax.random.key(0), 1024, normalize=False)
        >>> sorted(set(w.tolist())) == [-1.0, 0.0, 1.0]
        True
    """
    check_key(key)
    n = v.static_int("n", n, minimum=1)
    if bound is not None:
        bound = v.static_int("bound", bound, minimum=1)
    if isinstance(p_stay, bool):
        raise TypeError(f"p_stay must be a probability, got {p_stay!r}")
    if v.is_concrete(p_stay):
        p = float(np.asarray(p_stay))
        if not (math.isfinite(p) and 0 <= p <= 1):
            raise ValueError(f"p_stay must lie in [0, 1], got {p_stay!r}")
    dtype = resolve_dtype(dtype)
    if n == 1:
        walk = jnp.zeros((1,), dtype)
    else:
        walk = _lazy_walk(key, p_stay, n=n, bound=bound, dtype=dtype)
    return finish(walk, normalize, "lazy_random_walk")
