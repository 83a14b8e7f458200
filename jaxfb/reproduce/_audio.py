r"""Energy deviation on audio: curves, histograms, spectrograms.

The paper's recordings (snare, speech, flute; 1 s at 22050 Hz) are replaced by jaxfb's synthetic
stand-ins (:func:`jaxfb.signals.snare`, :func:`~jaxfb.signals.speech`,
:func:`~jaxfb.signals.flute`) unless WAV files are given (:func:`jaxfb.signals.load_audio`,
mono, resampled to ``audio_rate``, cropped or zero-padded to ``audio_n`` samples, unit norm).
Energies use circular convolution of length ``N = audio_n``; the kernels cost the same for any
``N`` (one FFT of the signal, then ``2T - 1`` lags).
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import numpy as np
from scipy import signal as sps

from .. import signals as sig
from . import _plotting, _theory
from ._config import ReproduceConfig
from ._energy import (
    EnergyStudy,
    bound_claims,
    energy_claims,
    energy_figures,
    energy_numbers,
    energy_study,
)
from ._results import ExperimentOutput, FigureOutput

__all__ = ["audio_signals", "check_audio_files", "run_audio"]


def check_audio_files(paths) -> list[Path]:
    """Resolve ``paths``; raise ``FileNotFoundError`` naming the first missing one."""
    out = []
    for p in paths:
        path = Path(p).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"--audio file not found: {str(p)!r}")
        out.append(path)
    return out


def audio_signals(key: jax.Array, config: ReproduceConfig) -> dict[str, np.ndarray]:
    """``{name: (audio_n,) unit-norm signal}``: the WAV files, or the synthetic three."""
    n, rate = config.audio_n, config.audio_rate
    if config.audio_files:
        out = {}
        for path in check_audio_files(config.audio_files):
            x = sig.load_audio(str(path), sr=rate, duration=n / rate)
            name = path.stem
            while name in out:
                name += "'"
            out[name] = np.asarray(x)[:n]
        return out
    k1, k2, k3 = jax.random.split(key, 3)
    return {
        "snare (synthetic)": np.asarray(sig.snare(k1, n, sample_rate=rate)),
        "speech (synthetic)": np.asarray(sig.speech(k2, n, sample_rate=rate)),
        "flute (synthetic)": np.asarray(sig.flute(k3, n, sample_rate=rate)),
    }


def histogram_table(study: EnergyStudy, bins: int) -> dict[str, np.ndarray]:
    """Histogram of ``||Phi x||^2 / ||x||^2`` at the largest ``T`` and the exact density."""
    T = study.lengths[-1]
    dist = study.distributions[T]
    rows: dict[str, list] = {
        k: []
        for k in (
            "kind",
            "signal",
            "T",
            "x",
            "left",
            "right",
            "count",
            "empirical_density",
            "theory_density",
        )
    }
    draws = study.deviations.shape[1]
    for s, name in enumerate(study.names):
        e = 1.0 + study.deviations[-1, :, s].astype(np.float64)
        counts, edges = np.histogram(e, bins=bins)
        width = np.diff(edges)
        centers = 0.5 * (edges[1:] + edges[:-1])
        lam = dist.eigenvalues[s]
        scale = float(np.asarray(dist.mean).ravel()[s])  # ||x||^2: energies are relative
        grid = np.linspace(edges[0], edges[-1], 4 * bins)
        dens = (
            _theory.energy_density(lam, dist.num_filters, np.concatenate([centers, grid]) * scale)
            * scale
        )
        dens_c, dens_g = dens[:bins], dens[bins:]
        for i in range(bins):
            _append(
                rows,
                "bin",
                name,
                T,
                centers[i],
                edges[i],
                edges[i + 1],
                counts[i],
                counts[i] / (draws * width[i]),
                dens_c[i],
            )
        for g, d in zip(grid, dens_g, strict=True):
            _append(rows, "curve", name, T, g, np.nan, np.nan, np.nan, np.nan, d)
    return {k: np.asarray(v) for k, v in rows.items()}


def _append(rows, *values):
    for k, v in zip(rows, values, strict=True):
        rows[k].append(v)


def spectrogram_table(signals: dict[str, np.ndarray], rate: int) -> dict[str, np.ndarray]:
    """Long-format spectrograms (``signal, time, freq, db``): Hann window of 512, hop 512.

    Magnitudes in dB (0.01 dB resolution) relative to full scale of the unit-norm signal.
    """
    parts = {"signal": [], "time": [], "freq": [], "db": []}
    for name, x in signals.items():
        f, t, S = sps.spectrogram(
            np.asarray(x, np.float64),
            fs=rate,
            window="hann",
            nperseg=512,
            noverlap=0,
            scaling="spectrum",
            mode="magnitude",
        )
        db = np.round(20 * np.log10(np.maximum(S, 1e-12)), 2)
        tt, ff = np.meshgrid(t, f, indexing="ij")
        parts["signal"].append(np.full(tt.size, name))
        parts["time"].append(tt.ravel())
        parts["freq"].append(ff.ravel())
        parts["db"].append(db.T.ravel())
    return {k: np.concatenate(v) for k, v in parts.items()}


def run_audio(config: ReproduceConfig, key: jax.Array, *, progress: bool) -> ExperimentOutput:
    """The audio experiment: deviation curves, histograms at the largest ``T``, spectrograms."""
    out = ExperimentOutput()
    sig_key, sim_key = jax.random.split(key)
    signals = audio_signals(sig_key, config)
    study = energy_study(
        sim_key,
        signals,
        config,
        config.audio_lengths,
        desc="audio",
        progress=progress,
        timings=out.timings,
    )
    t0 = time.perf_counter()
    source = "WAV files" if config.audio_files else "synthetic stand-ins"
    out.figures += energy_figures(study, "energy_audio", f"Energy deviation, audio ({source})")
    hist = histogram_table(study, config.hist_bins)
    T = study.lengths[-1]
    out.figures.append(
        FigureOutput(
            name="energy_audio_histograms",
            title=f"Histograms of the energy at T = {T}, audio",
            caption=f"Histograms of ||Phi x||^2 / ||x||^2 over {config.draws} random filterbanks "
            f"(J = {config.energy_filters}, T = {T}, N = {config.audio_n}) with the exact "
            "density of the weighted chi-squared law (second-order saddlepoint density, "
            "renormalised, on the exact spectrum; it agrees with the derivative of the exact cdf "
            "of jaxfb.theory.EnergyDistribution to about 1e-4).",
            figure=_plotting.plot_histograms(hist, f"Energy at T = {T}, audio ({source})"),
            table=hist,
        )
    )
    spec = spectrogram_table(signals, config.audio_rate)
    out.figures.append(
        FigureOutput(
            name="audio_spectrograms",
            title="Spectrograms of the audio signals",
            caption="Magnitude spectrograms (Hann window of 512 samples, no overlap, dB) of the "
            f"audio signals ({source}, {config.audio_n} samples at {config.audio_rate} Hz).",
            figure=_plotting.plot_spectrograms(spec, f"Audio signals ({source})"),
            table=spec,
        )
    )
    out.timings["figures"] = time.perf_counter() - t0
    out.claims += energy_claims(study, label="audio")
    out.claims += bound_claims(study, label="audio")
    out.numbers += energy_numbers(study, "energy_audio", label="audio")
    out.samples["energy_audio_deviation"] = study.deviations
    out.samples["energy_audio_lengths"] = np.asarray(study.lengths)
    out.notes.append(f"Audio signals: {', '.join(study.names)} ({source}).")
    return out
