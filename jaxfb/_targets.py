r"""Deterministic target filterbanks (what a learned front end is often asked to resemble).

:func:`mel_filterbank` gives FIR filters of length ``T``: Gaussian-windowed cosines centred on
mel-spaced frequencies, with bandwidths that grow like the mel scale. They serve as fitting
targets in the training experiments (``experiments/train_filterbank.py``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from . import _validation as v

__all__ = ["hz_to_mel", "mel_filterbank", "mel_to_hz"]

# FWHM of a Gaussian in units of its standard deviation
_FWHM = 2.0 * math.sqrt(2.0 * math.log(2.0))


def hz_to_mel(f):
    """HTK mel scale, :math:`2595 \\log_{10}(1 + f/700)`."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def mel_to_hz(m):
    """Inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


def mel_filterbank(
    num_filters: int,
    length: int,
    sample_rate: float,
    *,
    fmin: float = 0.0,
    fmax: float | None = None,
    dtype=None,
) -> jax.Array:
    r"""Mel-spaced FIR filterbank: Gaussian-windowed cosines of length ``T``.

    With ``J + 2`` points equally spaced on the mel scale from ``fmin`` to ``fmax``
    (:math:`f_0 < f_1 < \dots < f_{J+1}`, in Hz), filter ``j = 1..J`` is

    .. math:: h_j[t] = c\, g_j[t] \cos\!\big(2\pi f_j (t - t_0)/f_s\big),\qquad
              g_j[t] = e^{-(t - t_0)^2 / (2 s_j^2)},\qquad t_0 = \lfloor T/2 \rfloor,

    whose frequency response is a Gaussian bump at :math:`\pm f_j` with full width at half
    maximum :math:`(f_{j+1} - f_{j-1})/2` (the half-maximum width of the usual triangular mel
    filter), i.e. :math:`s_j = f_s / (2\pi\sigma_j)` samples with
    :math:`\sigma_j = (f_{j+1} - f_{j-1}) / (2\cdot 2\sqrt{2\ln 2})` Hz. Windows longer than the
    filter allows are capped at :math:`s_j \le T/6` (short filters cannot resolve low
    frequencies; their bands widen). Each filter is scaled to peak response 1 (equal-height
    bands), then the whole bank by one constant :math:`c` so that :math:`\|h\|_F^2 = 1`, the
    expected squared norm of the paper's random init (so :math:`\overline{LP} = 1` for both).

    Args:
        num_filters: ``J >= 1``, static Python int.
        length: ``T >= 1``, static Python int.
        sample_rate: :math:`f_s > 0` in Hz.
        fmin: lowest mel point :math:`f_0` in Hz, ``0 <= fmin < fmax``.
        fmax: highest mel point :math:`f_{J+1}` in Hz, ``<= sample_rate / 2`` (default).
        dtype: float dtype; default float32, or float64 when ``jax_enable_x64`` is on.

    Returns:
        ``(J, T)`` array, filters ordered by increasing centre frequency.

    Examples:
        >>> import jaxfb
        >>> h = jaxfb.mel_filterbank(40, 256, 16000.0)
        >>> h.shape, round(float((h**2).sum()), 5)
        ((40, 256), 1.0)
    """
    J = v.static_int("num_filters", num_filters, minimum=1)
    T = v.static_int("length", length, minimum=1)
    sr = float(sample_rate)
    if not (math.isfinite(sr) and sr > 0):
        raise ValueError(f"sample_rate must be finite and > 0, got {sample_rate!r}")
    fmax = sr / 2 if fmax is None else float(fmax)
    fmin = float(fmin)
    if not (0 <= fmin < fmax <= sr / 2):
        raise ValueError(
            f"need 0 <= fmin < fmax <= sample_rate / 2, got fmin={fmin}, fmax={fmax}, "
            f"sample_rate={sr}"
        )
    if dtype is None:
        dtype = jax.dtypes.canonicalize_dtype(jnp.float64)
    f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), J + 2))
    centre = f[1:-1, None]
    sigma_hz = (f[2:] - f[:-2])[:, None] / (2.0 * _FWHM)
    s = np.minimum(sr / (2.0 * np.pi * sigma_hz), T / 6.0)  # window std in samples
    # centre at floor(T/2): an even-length symmetric filter would vanish at Nyquist
    t = np.arange(T)[None, :] - T // 2
    h = np.exp(-0.5 * (t / s) ** 2) * np.cos(2.0 * np.pi * centre * t / sr)
    # equal peak response on a fine grid, then one global scale to ||h||_F = 1
    peak = np.abs(np.fft.rfft(h, n=max(8 * T, 4096), axis=-1)).max(axis=-1, keepdims=True)
    h = h / peak
    h = h / np.sqrt(np.sum(h**2))
    return jnp.asarray(h, dtype)
