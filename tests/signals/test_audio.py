"""load_audio: WAV decoding, mono mixdown, resampling, cropping and padding, bad files."""

import struct

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.io.wavfile
import scipy.signal
from _support import norm as _norm

from jaxfb import signals

# --------------------------------------------------------------------------------------------
# load_audio


def _write(path, rate, data):
    scipy.io.wavfile.write(path, rate, data)
    return str(path)


def _stereo_int16(seconds=1.2, rate=44100):
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * rate)) / rate
    left = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    right = 0.2 * np.sin(2 * np.pi * 660 * t + 1) + 0.05 * rng.standard_normal(t.size)
    return (np.stack([left, right], axis=1) * 32767).astype(np.int16)


def test_load_audio_int16_stereo_resampled(tmp_path, x64):
    data = _stereo_int16()
    path = _write(tmp_path / "stereo.wav", 44100, data)
    mono = data.astype(np.float64).mean(axis=1) / 32768
    full = scipy.signal.resample_poly(mono, 1, 2)

    x = signals.load_audio(path, sr=22050, duration=1.0, normalize=False)
    assert x.shape == (22050,) and x.dtype == jnp.float64
    np.testing.assert_allclose(x, full[:22050], rtol=0, atol=1e-12)
    y = signals.load_audio(path)  # defaults: 22050 Hz, 1 s, unit norm
    np.testing.assert_allclose(y, full[:22050] / np.linalg.norm(full[:22050]), atol=1e-12)
    # an offset crops the resampled signal at offset * sr (no edge effects)
    z = signals.load_audio(path, duration=0.5, offset=0.1, normalize=False)
    np.testing.assert_allclose(z, full[2205 : 2205 + 11025], atol=1e-12)
    whole = signals.load_audio(path, duration=None, normalize=False)
    np.testing.assert_allclose(whole, full, atol=1e-12)


def test_load_audio_float_mono_and_other_rates(tmp_path, x64):
    rng = np.random.default_rng(2)
    data = (0.1 * rng.standard_normal(30000)).astype(np.float32)
    path = _write(tmp_path / "mono.wav", 22050, data)
    x = signals.load_audio(path, duration=1.0, normalize=False)
    np.testing.assert_array_equal(x, data[:22050].astype(np.float64))
    assert signals.load_audio(path).dtype == jnp.float64

    path48 = _write(tmp_path / "rate48k.wav", 48000, data)  # 22050 / 48000 = 147 / 320
    x = signals.load_audio(path48, duration=0.5, normalize=False)
    full = scipy.signal.resample_poly(data.astype(np.float64), 147, 320)
    np.testing.assert_allclose(x, full[:11025], atol=1e-12)

    ints = {np.uint8: (data * 127 + 128), np.int32: data * 2**31}
    for kind, raw in ints.items():
        p = _write(tmp_path / f"{kind.__name__}.wav", 22050, raw.astype(kind))
        y = signals.load_audio(p, normalize=False)
        np.testing.assert_allclose(y, data[:22050], atol=1.5 / 128)


def test_load_audio_float32_default(tmp_path):
    path = _write(tmp_path / "a.wav", 44100, _stereo_int16(0.5))
    x = signals.load_audio(path, duration=0.25)
    assert x.dtype == jnp.float32 and x.shape == (5512,)
    assert abs(_norm(x) - 1) < 1e-5


def test_load_audio_pads_short_files(tmp_path):
    data = (np.ones(1000) * 1000).astype(np.int16)
    path = _write(tmp_path / "short.wav", 22050, data)
    with pytest.warns(UserWarning, match="zero-padding"):
        x = signals.load_audio(path, duration=0.1, normalize=False)
    assert x.shape == (2205,)
    np.testing.assert_allclose(x[:1000], 1000 / 32768)
    np.testing.assert_array_equal(x[1000:], 0)
    with pytest.raises(ValueError, match=r"short\.wav.*pad=True"):
        signals.load_audio(path, duration=0.1, pad=False)
    with pytest.raises(ValueError, match=r"offset=1\.0 s is past the end of .*short\.wav"):
        signals.load_audio(path, offset=1.0)


def _wav_bytes(data, rate=22050):
    import io

    buffer = io.BytesIO()
    scipy.io.wavfile.write(buffer, rate, data)
    return buffer.getvalue()


def test_load_audio_bad_files(tmp_path):
    good = _wav_bytes((np.arange(1000) % 50 * 100).astype(np.int16))
    cases = {
        "empty.wav": (b"", "empty"),
        "text.wav": (b"this is not audio at all, just some text\n" * 4, "not a WAV file"),
        "truncated.wav": (good[:-500], "truncated.*2000 bytes.*1500 are present"),
        "header_only.wav": (good[:44], "truncated"),
        "no_data.wav": (good[:36], "no 'data' chunk"),
        "cut_header.wav": (good[:10], "not a WAV file"),
        "silent.wav": (_wav_bytes(np.zeros(30000, np.int16)), "silent"),
    }
    for name, (content, match) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match=match) as info:
            signals.load_audio(path)
        assert str(path) in str(info.value), name
    # silent audio is fine without normalization
    np.testing.assert_array_equal(
        signals.load_audio(tmp_path / "silent.wav", normalize=False), np.zeros(22050)
    )
    missing = tmp_path / "missing.wav"
    with pytest.raises(FileNotFoundError, match=r"missing\.wav"):
        signals.load_audio(missing)
    # an inconsistent RIFF size must not hide a short data chunk
    bad = bytearray(good[:-500])
    bad[4:8] = struct.pack("<I", len(bad) - 8)
    (tmp_path / "riff_ok_data_short.wav").write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="truncated"):
        signals.load_audio(tmp_path / "riff_ok_data_short.wav")
