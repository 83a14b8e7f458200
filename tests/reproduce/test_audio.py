"""Audio signals: WAV files are read (and checked up front), names kept distinct."""

import numpy as np
import pytest
from scipy.io import wavfile

from jaxfb.reproduce import AudioConfig
from jaxfb.reproduce._audio import audio_signals
from jaxfb.signals._audio import check_audio_files


def test_wav_files_become_unit_norm_signals_of_n_samples(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        paths.append(str(tmp_path / folder / "snare.wav"))
        wavfile.write(paths[-1], 8000, (0.1 * rng.standard_normal(8000)).astype(np.float32))
    assert [p.name for p in check_audio_files(paths, rate=8000)] == ["snare.wav"] * 2
    cfg = AudioConfig(n=4000, rate=8000, lengths=(8,), files=tuple(paths))
    signals = audio_signals(None, cfg)
    assert list(signals) == ["snare", "snare'"]
    for x in signals.values():
        assert x.shape == (4000,) and np.sum(x.astype(float) ** 2) == pytest.approx(1.0, rel=1e-3)
