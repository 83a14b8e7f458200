"""Reading the user's own recordings (WAV) as unit-norm mono signals."""

from __future__ import annotations

import math
import os
import struct
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.io.wavfile
import scipy.signal

from ._common import positive_float, resolve_dtype

__all__ = ["check_audio_files", "load_audio"]

#: Largest numerator/denominator of the resampling ratio; beyond it the ratio is approximated.
MAX_RATIO_TERM = 1000

_INT_SCALE = {np.dtype(np.int16): 2.0**15, np.dtype(np.int32): 2.0**31, np.dtype(np.int64): 2.0**63}


def _check_container(path: str) -> None:
    """Check the RIFF/WAVE header and that the data chunk is as long as its header says."""
    size = os.path.getsize(path)
    if size == 0:
        raise ValueError(f"audio file {path!r} is empty (0 bytes)")
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX", b"RF64") or head[8:] != b"WAVE":
            raise ValueError(
                f"{path!r} is not a WAV file (it starts with {head[:12]!r}, not RIFF....WAVE); "
                "load_audio reads WAV only: convert other formats first (e.g. with ffmpeg)"
            )
        if head[:4] == b"RF64":  # chunk sizes live in the ds64 chunk; left to scipy's checks
            return
        endian = "<" if head[:4] == b"RIFF" else ">"
        pos = 12
        while True:
            f.seek(pos)
            chunk = f.read(8)
            if len(chunk) < 8:
                raise ValueError(
                    f"WAV file {path!r} has no 'data' chunk ({size} bytes): truncated or corrupt"
                )
            declared = struct.unpack(endian + "I", chunk[4:])[0]
            if chunk[:4] == b"data":
                present = size - pos - 8
                if declared > present:
                    raise ValueError(
                        f"WAV file {path!r} is truncated: its header declares {declared} bytes "
                        f"of audio data but only {present} are present"
                    )
                return
            pos += 8 + declared + (declared & 1)  # chunks are padded to even sizes


def _read_wav(path: str) -> tuple[int, np.ndarray]:
    """``(sample_rate, float64 data of shape (frames, channels))`` in ``[-1, 1]`` for PCM."""
    _check_container(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", scipy.io.wavfile.WavFileWarning)
        try:
            rate, data = scipy.io.wavfile.read(path)
        except (ValueError, struct.error, EOFError, IndexError) as err:
            raise ValueError(f"could not read WAV file {path!r}: {err}") from err
    for w in caught:
        if "EOF" in str(w.message) or "end of file" in str(w.message).lower():
            raise ValueError(f"WAV file {path!r} is truncated: {w.message}")
    data = np.asarray(data)
    if data.ndim == 1:
        data = data[:, None]
    if data.dtype == np.uint8:
        data = (data.astype(np.float64) - 128.0) / 128.0
    elif data.dtype in _INT_SCALE:  # 24-bit PCM arrives left-justified in int32
        data = data.astype(np.float64) / _INT_SCALE[data.dtype]
    elif np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float64)
    else:
        raise ValueError(f"WAV file {path!r} has unsupported sample type {data.dtype}")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise ValueError(f"WAV file {path!r} contains no audio samples")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"WAV file {path!r} contains non-finite samples (NaN or inf)")
    if rate <= 0:
        raise ValueError(f"WAV file {path!r} declares an invalid sample rate {rate}")
    return int(rate), data


def _resampling_ratio(target: float, source: int, path: str) -> Fraction:
    """``target / source`` as a fraction with terms <= MAX_RATIO_TERM (approximated if needed)."""
    exact = Fraction(target).limit_denominator(10**6) / source
    ratio = exact.limit_denominator(MAX_RATIO_TERM)
    if ratio.numerator > MAX_RATIO_TERM or ratio == 0:
        raise ValueError(
            f"cannot resample {path!r} from {source} Hz to {target:g} Hz: the rate ratio is "
            f"outside [1/{MAX_RATIO_TERM}, {MAX_RATIO_TERM}]"
        )
    if ratio != exact:
        warnings.warn(
            f"{path!r}: resampling {source} Hz -> {target:g} Hz by {ratio} instead of {exact} "
            f"(effective rate {source * float(ratio):.6g} Hz)",
            stacklevel=3,
        )
    return ratio


def load_audio(
    path: str | os.PathLike,
    sr: float = 22050,
    duration: float | None = 1.0,
    *,
    offset: float = 0.0,
    normalize: bool = True,
    pad: bool = True,
    dtype: Any = None,
) -> jax.Array:
    """Load a WAV file as a mono signal at rate ``sr``, cropped to ``duration`` seconds.

    Reads PCM (8-, 16-, 24-, 32-bit) and IEEE-float WAV files with ``scipy.io.wavfile``, scales
    integer samples to ``[-1, 1)``, mixes the channels to mono by their mean, and resamples with
    ``scipy.signal.resample_poly`` (polyphase Kaiser-windowed FIR anti-aliasing filter) by the
    exact ratio ``sr / file_rate`` when its terms are at most 1000 (e.g. 44100 -> 22050 is 1/2,
    48000 -> 22050 is 147/320), else by the nearest such fraction, with a warning.

    The result has ``round(duration * sr)`` samples starting at ``offset`` seconds: the file is
    *cropped* when it is longer; when what remains after ``offset`` is shorter, it is
    *zero-padded* at the end with a warning (or an error if ``pad=False``). Sample ``k`` is the
    file's signal at time ``offset + k / sr``; resampling sees the audio around the crop, so
    the crop has no artificial edges (at ``offset=0`` it equals the start of
    ``resample_poly`` applied to the whole file).

    The paper's recordings are 1 s at 22050 Hz, the defaults here.

    Args:
        path: path of a WAV file.
        sr: output sampling rate in Hz.
        duration: seconds to keep; ``None`` keeps everything after ``offset``.
        offset: start time in seconds.
        normalize: scale to unit Euclidean norm (default); otherwise keep the ``[-1, 1]``
            sample scale.
        pad: zero-pad (with a warning) when the file is shorter than ``offset + duration``;
            ``False`` raises instead.
        dtype: float dtype; default float32, or float64 under ``jax_enable_x64``.

    Returns:
        ``(round(duration * sr),)`` array.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: an empty, truncated (header declares more data than present), non-WAV or
            unreadable file; ``offset`` past the end; a short file with ``pad=False``; or
            silent (all-zero) audio with ``normalize=True``. Each message names ``path``.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np, scipy.io.wavfile
        >>> from jaxfb import signals
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        >>> tone = 8000 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)
        >>> scipy.io.wavfile.write(path, 44100, tone.astype(np.int16))
        >>> x = signals.load_audio(path, sr=22050, duration=0.5)
        >>> x.shape, round(float((x**2).sum()), 5)
        ((11025,), 1.0)
    """
    path = os.fspath(path)
    sr = positive_float("sr", sr)
    offset = positive_float("offset", offset, allow_zero=True)
    if duration is not None:
        duration = positive_float("duration", duration)
    dtype = resolve_dtype(dtype)
    if not os.path.exists(path):
        raise FileNotFoundError(f"audio file not found: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"audio path is a directory, not a WAV file: {path!r}")

    rate, data = _read_wav(path)
    mono = data.mean(axis=1)
    frames = mono.shape[0]
    start = round(offset * rate)  # in file samples
    if start >= frames:
        raise ValueError(
            f"offset={offset} s is past the end of {path!r} ({frames / rate:.6g} s long)"
        )

    ratio = _resampling_ratio(sr, rate, path)
    up, down = ratio.numerator, ratio.denominator
    available = math.ceil((frames - start) * up / down)  # output samples inside the file
    n = available if duration is None else max(1, round(duration * sr))
    if n > available:
        message = (
            f"{path!r} has only {available / sr:.6g} s of audio after offset={offset} s, "
            f"fewer than duration={duration} s"
        )
        if not pad:
            raise ValueError(message + " (pass pad=True to zero-pad)")
        warnings.warn(message + f"; zero-padding the last {n - available} samples", stacklevel=2)
    keep = min(n, available)

    if up == down:
        out = mono[start : start + keep]
    else:
        # resample_poly's filter reaches 10 * max(up, down) upsampled samples each side; take
        # that much context, starting a multiple of `down` before `start` so grids align.
        context = math.ceil(10 * max(up, down) / up) + 1
        lead = down * math.ceil(context / down)
        stop = min(frames, start + math.ceil(keep * down / up) + context)
        segment = mono[max(0, start - lead) : stop]
        if start < lead:  # zeros before the file, as resample_poly itself assumes
            segment = np.concatenate([np.zeros(lead - start), segment])
        first = lead * up // down
        out = scipy.signal.resample_poly(segment, up, down)[first : first + keep]
    out = np.concatenate([out, np.zeros(n - out.shape[0])])

    if normalize:
        norm = float(np.sqrt(np.sum(out**2)))
        if not norm > 0:
            raise ValueError(
                f"the audio of {path!r} from {offset} s ({n} samples at {sr:g} Hz) is silent "
                "(all zeros) and cannot be scaled to unit norm; pass normalize=False"
            )
        out = out / norm
    return jnp.asarray(out, dtype)


def check_audio_files(paths, *, rate: int | None = None, argument: str = "paths") -> list[Path]:
    """Resolve ``paths``; with ``rate``, also read the start of each (so that a run that needs
    them can refuse bad files before it starts). Errors name ``argument`` (e.g. ``"--audio"``).

    Raises:
        FileNotFoundError: naming the first missing file.
        ValueError: naming a file that cannot be read as audio, with the reason.
    """
    out = []
    for p in paths:
        path = Path(p).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{argument} file not found: {str(p)!r}")
        if rate is not None:
            try:
                load_audio(str(path), sr=rate, duration=0.01)
            except (ValueError, OSError, RuntimeError, EOFError) as err:
                raise ValueError(f"{argument} file {str(p)!r} cannot be read: {err}") from None
        out.append(path)
    return out
