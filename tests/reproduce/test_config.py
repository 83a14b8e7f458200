"""ReproduceConfig: nested experiment configs, validation, presets, JSON round trip."""

import json

import pytest

from jaxfb import reproduce
from jaxfb.training import TrainingConfig

R = reproduce.ReproduceConfig


def test_round_trip_and_presets():
    for cfg in (R.quick(seed=3), R.full(), R.quick(audio=None, training=None)):
        assert R.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    quick, full = R.quick(), R.full()
    assert quick.experiments == full.experiments == reproduce.EXPERIMENTS
    assert quick.training == TrainingConfig.quick() and quick.draws == 200
    assert full.training.lengths == (32, 128, 512, 1024) and full.draws == 1000
    assert quick.theory_lengths(quick.energy.lengths) == quick.energy.lengths
    th = full.theory_lengths(full.energy.lengths)
    assert th[0] == 8 and th[-1] == 1024 and 64 in th and len(th) < len(full.energy.lengths)
    assert full.bucket(520, full.frames.lengths) == 1024
    with pytest.raises(TypeError, match="unknown config keys"):
        R.from_dict({"energy_lengths": [8]})


def test_none_leaves_an_experiment_out_and_dicts_update():
    cfg = R.quick(training=None, audio=None)
    assert cfg.experiments == ("energy", "frames")
    back = cfg.replace(training={"steps": 7})
    assert back.training == TrainingConfig(steps=7) and back.experiments[-1] == "training"
    assert R.quick().replace(audio={"filters": 5}).audio.lengths == R.quick().audio.lengths
    with pytest.raises(ValueError, match="at least one experiment"):
        R(energy=None, audio=None, frames=None, training=None)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"seed": 1.5}, TypeError, "seed must be a static Python int"),
        ({"draws": 1}, ValueError, "draws must be >= 2, got 1"),
        ({"energy": {"lengths": (8, 2048)}}, ValueError, "energy.lengths has T=2048"),
        ({"frames": {"sweep_lengths": (24,)}}, ValueError, "frames.sweep_lengths"),
        ({"levels": (0.05, 0.01, 0.05)}, ValueError, "levels must be distinct"),
        ({"save_samples": "no"}, TypeError, "save_samples must be a bool, got 'no'"),
        ({"audio": {"files": "a.wav"}}, TypeError, "audio.files must be a sequence"),
        ({"training": {"seeds": 1}}, ValueError, "seeds must be >= 2, got 1"),
        ({"training": {"penalty_weights": (0.01,)}}, ValueError, "must include 0"),
        ({"training": "yes"}, TypeError, "training must be a TrainingConfig"),
        ({"mode": "fast"}, ValueError, "mode must be"),
    ],
)
def test_bad_values_are_named(changes, error, match):
    with pytest.raises(error, match=match):
        R.quick().replace(**changes)


def test_length_buckets_must_fit_the_signal_of_each_experiment():
    to512 = tuple(2**k for k in range(3, 10))
    with pytest.raises(ValueError, match=r"length_buckets .*energy.lengths T=512 .*energy.n = 512"):
        R.quick(energy={"n": 512, "lengths": to512})
    with pytest.raises(ValueError, match=r"audio.lengths T=300 .*audio.n = 300"):
        R.quick(audio={"n": 300, "lengths": (8, 300)})
    ok = R.quick(energy={"n": 512, "lengths": to512}, length_buckets=(32, 256, 512, 1024))
    assert ok.bucket(512, ok.energy.lengths) == 512
    assert R(energy={"n": 512, "lengths": to512}).bucket(300, to512) == 512
