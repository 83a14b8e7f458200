"""Tests for jaxfb.signals: definitions, unit norm, energy statistics, synthetic sounds, WAV I/O."""

import math
import struct

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.io.wavfile
import scipy.signal

import jaxfb
from jaxfb import signals
from jaxfb.signals import _synthetic

K_SE = 5.0  # tolerance of every statistical test, in standard errors
SR = 22050


def _norm(x):
    return float(np.linalg.norm(np.asarray(x, np.float64)))


def _power_spectrum(x):
    X = np.abs(np.fft.rfft(np.asarray(x, np.float64))) ** 2
    return np.fft.rfftfreq(len(x), 1 / SR), X


# --------------------------------------------------------------------------------------------
# Registry, unit norm, dtypes


@pytest.mark.parametrize("name", list(signals.SIGNALS))
def test_every_registered_signal_has_unit_norm(name):
    spec = signals.SIGNALS[name]
    n = SR if name in ("snare", "speech", "flute") else 1024
    x = signals.make_signal(name, n, key=jax.random.key(3))
    assert x.shape == (n,)
    assert x.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(x)))
    assert abs(_norm(x) - 1) < 1e-5
    if spec.random:
        y = signals.make_signal(name, n, key=jax.random.key(4))
        assert not np.allclose(x, y)


def test_dtype_follows_x64_flag(x64):
    key = jax.random.key(0)
    for x in (
        signals.impulse(16),
        signals.alternating(16),
        signals.pure_tone(16, 0.1),
        signals.decaying_tone(16, 0.1),
        signals.harmonic_pulse_train(16, 4),
        signals.white_noise(key, 16),
        signals.lazy_random_walk(key, 16),
    ):
        assert x.dtype == jnp.float64
        assert abs(_norm(x) - 1) < 1e-12
    assert signals.white_noise(key, 16, dtype=jnp.float32).dtype == jnp.float32


def test_registry_errors_and_overrides():
    with pytest.raises(ValueError, match=r"unknown signal 'sine'.*impulse.*flute"):
        signals.make_signal("sine", 64)
    with pytest.raises(ValueError, match="'white_noise' is random and needs a PRNG key"):
        signals.make_signal("white_noise", 64)
    # registry defaults are overridable; deterministic signals ignore the key
    x = signals.make_signal("pure_tone", 64, frequency=0.25, key=jax.random.key(0))
    np.testing.assert_array_equal(x, signals.pure_tone(64, 0.25))
    x = signals.make_signal("pulse_train", 64, period=8, normalize=False)
    np.testing.assert_array_equal(x, np.arange(64) % 8 == 0)
    for spec in signals.SIGNALS.values():
        assert spec.description


# --------------------------------------------------------------------------------------------
# Deterministic signals against their definitions


def test_impulse_and_alternating(x64):
    np.testing.assert_array_equal(signals.impulse(5, position=3), [0, 0, 0, 1, 0])
    np.testing.assert_allclose(
        signals.alternating(6), (-1.0) ** np.arange(6) / np.sqrt(6), rtol=1e-15
    )
    np.testing.assert_array_equal(signals.alternating(5, normalize=False), [1, -1, 1, -1, 1])
    # the Nyquist tone is a pure tone at 1/2 cycle per sample
    np.testing.assert_allclose(signals.pure_tone(64, 0.5), signals.alternating(64), atol=1e-15)


def test_pure_tone_definition_and_dft_peak(x64):
    n = 1000
    k = np.arange(n)
    x = signals.pure_tone(n, 0.123, phase=0.4, normalize=False)
    np.testing.assert_allclose(x, np.cos(2 * np.pi * 0.123 * k + 0.4), atol=1e-12)
    # on bin m the DFT has exactly two lines, +-m
    X = np.abs(np.fft.fft(np.asarray(signals.pure_tone(n, 37 / n))))
    assert set(np.flatnonzero(X > 1e-9)) == {37, n - 37}
    # in Hz: 440 Hz at 22050 Hz over 1 s is bin 440
    x = signals.pure_tone(SR, 440.0, sample_rate=SR)
    freqs, P = _power_spectrum(x)
    assert freqs[np.argmax(P)] == 440.0
    assert P[440] / P.sum() > 1 - 1e-9


def test_decaying_tone_definition(x64):
    k = np.arange(512)
    x = signals.decaying_tone(512, 0.05, decay=40.0, phase=1.0, normalize=False)
    np.testing.assert_allclose(x, np.exp(-k / 40) * np.cos(2 * np.pi * 0.05 * k + 1.0), atol=1e-12)
    # seconds with a sample rate; default time constant n / 8 samples
    y = signals.decaying_tone(512, 1102.5, decay=40.0 / SR, sample_rate=SR, normalize=False)
    np.testing.assert_allclose(y, np.exp(-k / 40) * np.cos(2 * np.pi * 0.05 * k), atol=1e-12)
    z = signals.decaying_tone(512, 0.05, normalize=False)
    np.testing.assert_allclose(z[64], np.exp(-1) * np.cos(2 * np.pi * 0.05 * 64), atol=1e-12)


@pytest.mark.parametrize("period, num_harmonics", [(32, None), (32, 5), (32, 16), (31, 15)])
def test_pulse_train_periodicity(x64, period, num_harmonics):
    n = 31 * 32
    x = signals.harmonic_pulse_train(n, period, num_harmonics=num_harmonics)
    k = np.arange(n)
    if num_harmonics is None:
        expected = (k % period == 0).astype(float)
    else:
        h = np.arange(1, num_harmonics + 1)
        expected = np.cos(2 * np.pi * np.outer(k, h) / period).sum(axis=1)
    np.testing.assert_allclose(x, expected / np.linalg.norm(expected), atol=1e-12)
    # circular autocorrelation: maximal (= R(0)) exactly at multiples of the period
    R = np.asarray(jaxfb.autocorrelation(x, n))
    on = k % period == 0
    np.testing.assert_allclose(R[on], 1.0, atol=1e-12)
    assert np.max(R[~on]) < 1 - 0.01
    # DFT supported on multiples of the fundamental bin n / period
    X = np.abs(np.fft.fft(np.asarray(x)))
    assert np.all(X[k % (n // period) != 0] < 1e-9)


# --------------------------------------------------------------------------------------------
# Energy statistics under random Gaussian filterbanks (SPEC section 2)


def test_energy_variance_of_alternating_and_impulse():
    """Var ||Phi x||^2 = 2/J for the alternating sign (any T), 2/(J T) for the impulse.

    One draw of length-256 Gaussian filterbanks serves every T: the first T taps of each
    filter, times sqrt(256 / T), are exactly a Gaussian filterbank of length T with variance
    1/(J T) (and it costs one compilation of the sampler instead of three).
    """
    J, N, draws, chunks, T_max = 10, 1024, 20_000, 4, 256
    x = jnp.stack([signals.alternating(N), signals.impulse(N)])
    energies = {T: [] for T in (8, 64, 256)}
    for key in jax.random.split(jax.random.key(2024), chunks):
        w = jaxfb.random_filterbank(key, J, T_max, batch_shape=(draws // chunks, 1))
        for T in energies:
            w_T = w[..., :T] * math.sqrt(T_max / T)
            energies[T].append(np.asarray(jaxfb.energy(w_T, x), np.float64))
    for T, chunks_T in energies.items():
        E = np.concatenate(chunks_T)
        for column, truth in ((0, 2 / J), (1, 2 / (J * T))):
            e = E[:, column]
            d = e - e.mean()
            s2 = np.mean(d**2)
            se_var = np.sqrt((np.mean(d**4) - s2**2) / draws)
            assert abs(s2 - truth) < K_SE * se_var, (T, column, s2, truth, se_var)
            assert abs(e.mean() - 1) < K_SE * np.sqrt(s2 / draws)


# --------------------------------------------------------------------------------------------
# Random signals


def _authors_walk(u, p_move):
    """The rule of the authors' ``brownian_noise``, step by step."""
    walk = [0]
    for r in u:
        down = r < p_move and walk[-1] > -1
        up = r > 1 - p_move and walk[-1] < 1
        walk.append(walk[-1] - down + up)
    return np.array(walk, float)


def test_lazy_random_walk_follows_the_authors_rule():
    key, n = jax.random.key(7), 400
    u = np.asarray(jax.random.uniform(key, (n - 1,), jnp.float32))
    x = signals.lazy_random_walk(key, n, normalize=False)
    np.testing.assert_array_equal(x, _authors_walk(u, 0.15))
    unbounded = signals.lazy_random_walk(key, n, bound=None, normalize=False)
    steps = (u > 0.85).astype(int) - (u < 0.15)
    np.testing.assert_array_equal(unbounded, np.concatenate([[0], np.cumsum(steps)]))


@pytest.mark.parametrize("p_stay", [0.5, 0.7])
def test_lazy_random_walk_step_distribution(p_stay):
    M = 200_000  # i.i.d. steps of one unbounded walk
    x = np.asarray(signals.lazy_random_walk(jax.random.key(11), M + 1, p_stay=p_stay, bound=None))
    steps = np.round(np.diff(x) * (1 / np.min(np.abs(np.diff(x))[np.diff(x) != 0])))
    assert set(np.unique(steps)) == {-1.0, 0.0, 1.0}
    for value, p in ((0, p_stay), (1, (1 - p_stay) / 2), (-1, (1 - p_stay) / 2)):
        frac = np.mean(steps == value)
        assert abs(frac - p) < K_SE * math.sqrt(p * (1 - p) / M), (value, frac, p)


def test_bounded_walk_stationary_law_and_vmap():
    """On {-1, 0, 1} the walk's stationary law is uniform and a step is 0 w.p. 0.8."""
    M, n = 20_000, 64  # mixing: the second eigenvalue is 0.85, and 0.85**62 < 1e-4
    keys = jax.random.split(jax.random.key(5), M)
    walk = jax.vmap(lambda k, p: signals.lazy_random_walk(k, n, p_stay=p, normalize=False))
    walks = np.asarray(walk(keys, jnp.full(M, 0.7)))
    assert set(np.unique(walks)) == {-1.0, 0.0, 1.0}
    for state in (-1, 0, 1):
        frac = np.mean(walks[:, -1] == state)
        assert abs(frac - 1 / 3) < K_SE * math.sqrt(2 / 9 / M)
    zero = np.mean(walks[:, -1] == walks[:, -2])
    assert abs(zero - 0.8) < K_SE * math.sqrt(0.16 / M)
    # vmap equals the single calls; p_stay is traced (no recompilation)
    singles = [signals.lazy_random_walk(k, n, normalize=False) for k in keys[:3]]
    np.testing.assert_array_equal(walks[:3], np.stack(singles))
    # a walk that never moves is returned as zeros under vmap (never NaN)
    normalized = jax.vmap(lambda k, p: signals.lazy_random_walk(k, n, p_stay=p))
    x = np.asarray(normalized(keys, jnp.full(M, 0.7).at[0].set(1.0)))
    np.testing.assert_array_equal(x[0], 0.0)
    assert abs(_norm(x[1]) - 1) < 1e-5


def test_white_noise_compiles_once_and_is_deterministic():
    from jaxfb.signals import _elementary

    x = signals.white_noise(jax.random.key(1), 128)
    before = _elementary._white_noise._cache_size()
    np.testing.assert_array_equal(x, signals.white_noise(jax.random.key(1), 128))
    assert not np.allclose(x, signals.white_noise(jax.random.key(2), 128))
    assert _elementary._white_noise._cache_size() == before
    batched = jax.vmap(lambda k: signals.white_noise(k, 128))(jnp.stack([jax.random.key(1)]))
    np.testing.assert_allclose(batched[0], x, rtol=1e-6)


def test_jit_with_traced_frequency():
    tone = jax.jit(lambda f: signals.pure_tone(256, f))
    np.testing.assert_allclose(tone(0.1), signals.pure_tone(256, 0.1), atol=1e-6)


# --------------------------------------------------------------------------------------------
# Synthetic recordings


def test_klatt_resonator_matches_recursive_filter(x64):
    n, fs, F, W = 3000, 22050.0, 700.0, 60.0
    x = np.random.default_rng(0).standard_normal(n)
    size = _synthetic._padded_size(n, (W,), fs)
    H = _synthetic.klatt_resonator_response(F, W, fs, size)
    y = np.asarray(_synthetic._apply_response(jnp.asarray(x), H, size))
    r = math.exp(-math.pi * W / fs)
    b, c = 2 * r * math.cos(2 * math.pi * F / fs), -r * r
    reference = scipy.signal.lfilter([1 - b - c], [1, -b, -c], x)
    np.testing.assert_allclose(y, reference, atol=1e-8 * np.max(np.abs(reference)))


@pytest.mark.parametrize("name", ["snare", "speech", "flute"])
def test_synthetic_recordings_are_deterministic(name):
    f = getattr(signals, name)
    jitted = getattr(_synthetic, "_" + name)
    x = f(jax.random.key(0))
    before = jitted._cache_size()
    np.testing.assert_array_equal(x, f(jax.random.key(0)))
    assert not np.allclose(x, f(jax.random.key(1)), atol=1e-3)
    assert jitted._cache_size() == before  # a new key does not recompile
    assert x.shape == (SR,) and abs(_norm(x) - 1) < 1e-5


def test_snare_is_a_decaying_broadband_hit():
    x = np.asarray(signals.snare(jax.random.key(0), onset=0.01), np.float64)
    assert np.all(x[: int(0.01 * SR)] == 0)  # silence before the hit
    assert np.sum(x[: SR // 4] ** 2) > 0.95  # energy in the first 250 ms
    freqs, P = _power_spectrum(x)
    assert P[freqs > 1000].sum() / P.sum() > 0.25  # snare wires: broadband
    low = freqs < 500
    assert abs(freqs[low][np.argmax(P[low])] - 185) < 0.05 * 185  # membrane fundamental


def test_speech_is_voiced_and_band_limited():
    x = np.asarray(signals.speech(jax.random.key(0), f0=120.0), np.float64)
    freqs, P = _power_spectrum(x)
    assert P[freqs < 4000].sum() / P.sum() > 0.99
    assert P[freqs > 1000].sum() / P.sum() > 1e-3  # formants above F1 are present
    # pitch: autocorrelation peak over lags of 60-400 Hz lies near 120 Hz
    R = np.asarray(jaxfb.autocorrelation(jnp.asarray(x), SR // 60 + 1), np.float64)
    lags = np.arange(SR // 400, SR // 60 + 1)
    pitch = SR / lags[np.argmax(R[lags])]
    assert 100 < pitch < 140, pitch
    # silence between syllables (4 slots of 250 ms, voiced over the middle 80 %)
    assert np.sum(x[: int(0.02 * SR)] ** 2) < 1e-6


def test_flute_has_harmonic_peaks():
    f0 = 440.0
    x = signals.flute(jax.random.key(0), f0=f0)
    freqs, P = _power_spectrum(x)  # 1 Hz bins
    assert abs(freqs[np.argmax(P)] - f0) <= 5
    near = np.abs(freqs / f0 - np.round(freqs / f0)) * f0 < 0.1 * f0
    assert P[near & (freqs > 0.5 * f0)].sum() / P.sum() > 0.95
    band = 0.05 * f0
    for h in range(1, 6):
        peak = P[np.abs(freqs - h * f0) < band].sum()
        trough = P[np.abs(freqs - (h + 0.5) * f0) < band].sum()
        assert peak > 100 * trough, h


def test_synthetic_bad_arguments():
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="f0"):
        signals.flute(key, f0=12000.0)
    with pytest.raises(ValueError, match="sample_rate"):
        signals.speech(key, sample_rate=-1.0)
    with pytest.raises(ValueError, match="highest formant"):
        signals.speech(key, 1000, sample_rate=6000.0)
    with pytest.raises(ValueError, match="onset"):
        signals.snare(key, 100, onset=0.5)
    with pytest.raises(TypeError, match="key"):
        signals.snare(0)


# --------------------------------------------------------------------------------------------
# Argument checks


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: signals.impulse(0), ValueError, "n must be >= 1"),
        (lambda: signals.impulse(8, position=8), ValueError, "position=8 must be < n=8"),
        (lambda: signals.alternating(8.0), TypeError, "n must be a static Python int"),
        (lambda: signals.pure_tone(8, 0.6), ValueError, r"frequency=0.6 must lie in \[0, 0.5\]"),
        (lambda: signals.pure_tone(8, 12000.0, sample_rate=SR), ValueError, "11025"),
        (lambda: signals.decaying_tone(8, 0.1, decay=0.0), ValueError, "decay"),
        (lambda: signals.harmonic_pulse_train(8, 9), ValueError, "period=9 must be <= n=8"),
        (lambda: signals.harmonic_pulse_train(8, 4, num_harmonics=3), ValueError, "num_harm"),
        (lambda: signals.white_noise(jnp.zeros(2), 8), TypeError, "key"),
        (
            lambda: signals.lazy_random_walk(jax.random.key(0), 8, p_stay=1.5),
            ValueError,
            r"p_stay must lie in \[0, 1\]",
        ),
        (lambda: signals.lazy_random_walk(jax.random.key(0), 1), ValueError, "all zeros"),
        (
            lambda: signals.lazy_random_walk(jax.random.key(0), 8, p_stay=1.0),
            ValueError,
            "lazy_random_walk is all zeros",
        ),
    ],
)
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


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
