"""The synthetic recordings (snare, speech, flute): determinism and the spectra they promise."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.io.wavfile
import scipy.signal
from _support import SR
from _support import norm as _norm
from _support import power_spectrum as _power_spectrum

import jaxfb
from jaxfb import signals
from jaxfb.signals import _synthetic

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
