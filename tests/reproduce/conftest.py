"""A tiny reproduction config shared by the reproduce tests (seconds, not minutes)."""

from __future__ import annotations

import pytest

from jaxfb import reproduce


def tiny_config(**changes) -> reproduce.ReproduceConfig:
    """Every experiment at toy sizes: ``T = 8, 32`` in one compiled bucket, 40 draws."""
    base = reproduce.ReproduceConfig.quick(
        seed=7,
        draws=40,
        length_buckets=(32,),
        energy={"lengths": (8, 32)},
        audio={"lengths": (8, 32), "n": 4096, "hist_bins": 8},
        frames={
            "lengths": (8, 32),
            "sweep_lengths": (8, 32),
            "sweep_filters": (1, 2, 3, 4, 8, 16),
            "fit_min_filters": 5,
        },
        training={"num_filters": 8, "lengths": (16, 32), "n": 64, "seeds": 2, "steps": 40},
    )
    return base.replace(**changes)


FIGURES = {
    "energy_elementary_p05",
    "energy_elementary_p01",
    "energy_audio_p05",
    "energy_audio_p01",
    "energy_audio_histograms",
    "audio_spectrograms",
    "frame_bounds",
    "kappa_vs_T",
    "kappa_vs_J",
    "kappa_scaling",
    "train_filterbank",
}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One tiny run of every experiment (shared by the tests that read its outputs)."""
    cfg = tiny_config()
    return cfg, reproduce.run(cfg, tmp_path_factory.mktemp("tiny"), log=lambda _m: None)
