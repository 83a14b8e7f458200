r"""Energy deviation on audio: curves, histograms, spectrograms.

The paper's recordings (snare, speech, flute; 1 s at 22050 Hz) are replaced by jaxfb's synthetic
stand-ins (:func:`jaxfb.signals.snare`, :func:`~jaxfb.signals.speech`,
:func:`~jaxfb.signals.flute`) unless WAV files are given (:func:`jaxfb.signals.load_audio`: mono,
resampled to ``rate``, cropped or zero-padded to ``n`` samples, unit norm).
"""

from __future__ import annotations

import time

import jax
import numpy as np
from scipy import signal as sps

from .. import signals as sig
from ..signals._audio import check_audio_files
from ..theory import _spectral
from . import _plotting
from ._config import AudioConfig, ReproduceConfig
from ._energy import EnergyStudy, bound_claims, run_study
from ._results import ExperimentOutput, FigureOutput
from ._stats import concat

__all__ = ["audio_signals", "run_audio"]


def audio_signals(key: jax.Array, cfg: AudioConfig) -> dict[str, np.ndarray]:
    """``{name: (n,) unit-norm signal}``: the WAV files, or the synthetic three."""
    if cfg.files:
        out = {}
        for path in check_audio_files(cfg.files, argument="audio.files"):
            name = path.stem
            while name in out:
                name += "'"
            out[name] = np.asarray(
                sig.load_audio(str(path), sr=cfg.rate, duration=cfg.n / cfg.rate)
            )
        return {k: v[: cfg.n] for k, v in out.items()}
    k1, k2, k3 = jax.random.split(key, 3)
    return {
        "snare (synthetic)": np.asarray(sig.snare(k1, cfg.n, sample_rate=cfg.rate)),
        "speech (synthetic)": np.asarray(sig.speech(k2, cfg.n, sample_rate=cfg.rate)),
        "flute (synthetic)": np.asarray(sig.flute(k3, cfg.n, sample_rate=cfg.rate)),
    }


def histogram_table(study: EnergyStudy, bins: int) -> dict[str, np.ndarray]:
    """Histogram of ``||Phi x||^2 / ||x||^2`` at the largest ``T`` and the exact density."""
    T = study.lengths[-1]
    dist = study.distributions[T]
    draws = study.deviations.shape[1]
    parts = []
    for s, name in enumerate(study.names):
        e = 1.0 + study.deviations[-1, :, s].astype(np.float64)
        counts, edges = np.histogram(e, bins=bins)
        centers = 0.5 * (edges[1:] + edges[:-1])
        scale = float(np.asarray(dist.mean).ravel()[s])  # ||x||^2: energies are relative
        grid = np.linspace(edges[0], edges[-1], 4 * bins)
        x = np.concatenate([centers, grid])
        dens = _spectral.energy_density(dist.eigenvalues[s], dist.num_filters, x * scale) * scale
        nan = np.full(grid.size, np.nan)
        parts.append(
            {
                "kind": np.array(["bin"] * bins + ["curve"] * grid.size),
                "signal": np.array([name] * x.size),
                "T": np.full(x.size, T),
                "x": x,
                "left": np.concatenate([edges[:-1], nan]),
                "right": np.concatenate([edges[1:], nan]),
                "count": np.concatenate([counts, nan]),
                "empirical_density": np.concatenate([counts / (draws * np.diff(edges)), nan]),
                "theory_density": dens,
            }
        )
    return concat(parts)


def spectrogram_table(signals: dict[str, np.ndarray], rate: int) -> dict[str, np.ndarray]:
    """Long-format spectrograms (``signal, time, freq, db``): Hann window of 512, hop 512."""
    parts = []
    window = {"window": "hann", "nperseg": 512, "noverlap": 0, "scaling": "spectrum"}
    for name, x in signals.items():
        f, t, S = sps.spectrogram(np.asarray(x, np.float64), fs=rate, mode="magnitude", **window)
        db = np.round(20 * np.log10(np.maximum(S, 1e-12)), 2)
        tt, ff = np.meshgrid(t, f, indexing="ij")
        parts.append(
            {
                "signal": np.full(tt.size, name),
                "time": tt.ravel(),
                "freq": ff.ravel(),
                "db": db.T.ravel(),
            }
        )
    return concat(parts)


_HISTOGRAM_CAPTION = (
    "Histograms of ||Phi x||^2 / ||x||^2 over {draws} random filterbanks (J = {J}, T = {T}, N = "
    "{N}) with the exact density of the weighted chi-squared law (second-order saddlepoint "
    "density, renormalised, on the exact spectrum; it agrees with the derivative of the exact "
    "cdf of jaxfb.theory.EnergyDistribution to about 1e-4)."
)
_SPECTROGRAM_CAPTION = (
    "Magnitude spectrograms (Hann window of 512 samples, no overlap, dB) of the audio signals "
    "({source}, {N} samples at {rate} Hz)."
)


def run_audio(config: ReproduceConfig, key: jax.Array) -> ExperimentOutput:
    """The audio experiment: deviation curves, histograms at the largest ``T``, spectrograms."""
    cfg = config.audio
    source = "WAV files" if cfg.files else "synthetic stand-ins"
    title, make = f"Energy deviation, audio ({source})", lambda k: audio_signals(k, cfg)
    out, study, signals = run_study(config, key, cfg, make, "energy_audio", title, "audio")
    t0 = time.perf_counter()
    hist, T = histogram_table(study, cfg.hist_bins), study.lengths[-1]
    fmt = {"draws": config.draws, "J": cfg.filters, "T": T, "N": cfg.n, "rate": cfg.rate}
    fig = _plotting.plot_histograms(hist, f"Energy at T = {T}, audio ({source})")
    title = f"Histograms of the energy at T = {T}, audio"
    out.figures.append(
        FigureOutput("energy_audio_histograms", title, _HISTOGRAM_CAPTION.format(**fmt), fig, hist)
    )
    spec = spectrogram_table(signals, cfg.rate)
    fig = _plotting.plot_spectrograms(spec, f"Audio signals ({source})")
    caption = _SPECTROGRAM_CAPTION.format(source=source, **fmt)
    out.figures.append(
        FigureOutput("audio_spectrograms", "Spectrograms of the audio signals", caption, fig, spec)
    )
    out.timings["figures"] += time.perf_counter() - t0
    out.claims += bound_claims(study, "energy_audio", "audio")
    out.notes.append(f"Audio signals: {', '.join(study.names)} ({source}).")
    return out
