"""jaxfb.training: shapes, determinism, one compile per shape, the table against its definition."""

import math

import jax
import numpy as np
import pytest

from jaxfb import training
from jaxfb.training import TrainingConfig, train_filterbanks, training_table

TINY = TrainingConfig(num_filters=8, lengths=(16, 32), n=64, seeds=2, steps=40)


@pytest.fixture(scope="module")
def tiny():
    return train_filterbanks(jax.random.key(0), TINY)


def test_shapes_and_table(tiny):
    assert tiny.trajectories["fit_T16"].shape == (2, 2, 40)
    assert [(r["T"], r["penalty_weight"]) for r in tiny.rows] == [
        (16, 0.0),
        (16, 0.01),
        (32, 0.0),
        (32, 0.01),
    ]
    tab = training_table(tiny)
    for i, r in enumerate(tiny.rows):
        x = np.asarray(r["kappa_final"], float)
        assert tab["kappa_final_mean"][i] == pytest.approx(x.mean(), rel=1e-12)
        assert tab["kappa_final_se"][i] == pytest.approx(x.std(ddof=1) / math.sqrt(2), rel=1e-12)
    base, pen = tiny.rows[0], tiny.rows[1]
    ratio = np.log(np.asarray(base["kappa_final"])) - np.log(np.asarray(pen["kappa_final"]))
    assert tab["log_kappa_ratio_mean"][1] == pytest.approx(ratio.mean(), rel=1e-9)
    assert math.isnan(tab["log_kappa_ratio_mean"][0])
    # the fit improves on the random init
    assert np.all(np.asarray(base["fit_final"]) < np.asarray(base["fit_init"]))


def test_same_key_same_numbers_and_no_recompile(tiny):
    before = training._train._cache_size()
    again = train_filterbanks(jax.random.key(0), TINY)
    assert training._train._cache_size() == before
    for a, b in zip(tiny.rows, again.rows, strict=True):
        assert a == b


def test_bad_options_name_the_field():
    with pytest.raises(ValueError, match="seeds must be >= 2, got 1"):
        TrainingConfig(seeds=1)
    with pytest.raises(ValueError, match="--lengths has T=2048 > n = 1024"):
        TrainingConfig.checked(
            {**TrainingConfig().to_dict(), "lengths": [2048]},
            label=lambda f: "--" + f if f == "lengths" else f,
        )
    with pytest.raises(TypeError, match="temperature must be a number"):
        TrainingConfig(temperature="hot")
