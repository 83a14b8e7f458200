"""Mel target filterbank: centres, bandwidths, normalisation, argument checks."""

import numpy as np
import pytest

import jaxfb
from jaxfb._targets import hz_to_mel, mel_to_hz


def test_mel_scale_round_trip():
    f = np.array([0.0, 100.0, 1000.0, 8000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, atol=1e-9)
    assert hz_to_mel(1000.0) == pytest.approx(999.9855, abs=1e-3)  # HTK: 1000 Hz ~ 1000 mel


def test_centres_bandwidths_and_normalisation(x64):
    J, T, sr = 20, 2048, 16000.0
    h = np.asarray(jaxfb.mel_filterbank(J, T, sr))
    assert h.shape == (J, T) and h.dtype == np.float64
    assert np.sum(h**2) == pytest.approx(1.0, rel=1e-12)
    f = mel_to_hz(np.linspace(0.0, hz_to_mel(sr / 2), J + 2))
    nfft = 1 << 16
    H = np.abs(np.fft.rfft(h, n=nfft, axis=-1))
    freqs = np.fft.rfftfreq(nfft, 1 / sr)
    # equal peak responses
    np.testing.assert_allclose(H.max(-1), H.max(), rtol=1e-3)
    sigma = (f[2:] - f[:-2]) / (2 * 2 * np.sqrt(2 * np.log(2)))
    s_samples = sr / (2 * np.pi * sigma)
    for j in range(J):
        if s_samples[j] > T / 6 or f[j + 1] < 4 * sigma[j]:
            continue  # window capped, or the two lobes at +-f_j overlap
        peak = freqs[np.argmax(H[j])]
        assert abs(peak - f[j + 1]) < 0.02 * sigma[j] + sr / nfft
        above = freqs[H[j] >= H[j].max() / 2]
        fwhm = above.max() - above.min()
        assert fwhm == pytest.approx((f[j + 2] - f[j]) / 2, rel=0.01)


def test_short_filters_cap_the_window():
    h = np.asarray(jaxfb.mel_filterbank(40, 32, 16000.0))
    assert np.all(np.isfinite(h))
    # lowest filter: window std capped at T/6 samples, so its energy is spread over the filter
    assert np.count_nonzero(np.abs(h[0]) > 1e-3 * np.abs(h[0]).max()) > 20


def test_bad_arguments():
    with pytest.raises(ValueError, match="sample_rate"):
        jaxfb.mel_filterbank(4, 8, 0.0)
    with pytest.raises(ValueError, match="fmax"):
        jaxfb.mel_filterbank(4, 8, 8000.0, fmax=5000.0)
    with pytest.raises(ValueError, match="num_filters must be >= 1"):
        jaxfb.mel_filterbank(0, 8, 8000.0)
