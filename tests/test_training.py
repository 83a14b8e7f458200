"""jaxfb.training: the trade-off curve (shapes, keys, the plain fit at weight 0, the penalty's
effect), its summary against the definition, one compile per shape, bad input."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxfb import mel_filterbank, random_filterbank, training
from jaxfb.training import (
    TrainingConfig,
    penalty_tradeoff,
    tradeoff_evidence,
    tradeoff_summary,
    train_filterbanks,
    training_record,
    training_table,
)

J, T, N = 8, 16, 32
TARGET = mel_filterbank(J, T, 16000.0)
WEIGHTS = (0.0, 0.01, 0.1)


@pytest.fixture(scope="module")
def curve():
    return penalty_tradeoff(jax.random.key(0), TARGET, WEIGHTS, num_seeds=4, n=N, steps=60)


def _fit_np(w, h, n):
    """The relative power-spectrum error, in float64 NumPy."""
    pw = np.abs(np.fft.rfft(np.asarray(w, np.float64), n=n, axis=-1)) ** 2
    ph = np.abs(np.fft.rfft(np.asarray(h, np.float64), n=n, axis=-1)) ** 2
    return np.sum((pw - ph) ** 2) / np.sum(ph**2)


def _kappa_np(w, n):
    lp = np.sum(np.abs(np.fft.fft(np.asarray(w, np.float64), n=n, axis=-1)) ** 2, axis=0)
    return lp.max() / lp.min()


def test_curve_layout_and_inits(curve):
    P, S = len(WEIGHTS), 4
    for field in curve._fields[:-1]:
        assert getattr(curve, field).shape == (P * S,), field
    assert curve.weight.tolist() == [w for w in WEIGHTS for _ in range(S)]
    assert curve.seed.tolist() == list(range(S)) * P
    # every weight starts from the same inits: seed i is fold_in(key, i)
    for i in range(S):
        w0 = random_filterbank(jax.random.fold_in(jax.random.key(0), i), J, T)
        at = curve.seed == i
        np.testing.assert_allclose(curve.fit_init[at], _fit_np(w0, TARGET, N), rtol=1e-4)
        np.testing.assert_allclose(curve.kappa_init[at], _kappa_np(w0, N), rtol=1e-4)
    assert curve.kappa_target == pytest.approx(_kappa_np(TARGET, N), rel=1e-4)
    assert np.all(curve.fit_final[curve.weight == 0] < curve.fit_init[curve.weight == 0])


def test_same_key_same_curve_and_no_recompile(curve):
    before = training._train._cache_size()
    again = penalty_tradeoff(jax.random.key(0), TARGET, WEIGHTS, num_seeds=4, n=N, steps=60)
    assert training._train._cache_size() == before
    for a, b in zip(curve, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_penalty_lowers_kappa_beyond_the_seed_noise(curve):
    """Paired over 4 seeds: log kappa(0) - log kappa(0.1) > 0 by more than 3 standard errors."""
    d = np.log(curve.kappa_final[curve.weight == 0]) - np.log(
        curve.kappa_final[curve.weight == 0.1]
    )
    se = d.std(ddof=1) / math.sqrt(d.size)
    assert d.mean() > 3 * se and d.mean() > 0


def test_weight_zero_is_the_plain_fit(x64):
    """Weight 0 equals an independent Adam loop on the fit error alone, from the same inits."""
    steps, lr = 25, 0.05 / math.sqrt(J * T)
    curve = penalty_tradeoff(jax.random.key(3), TARGET, [0.0, 0.1], num_seeds=2, n=N, steps=steps)
    h = jnp.asarray(TARGET, jnp.float64)
    ph = jnp.abs(jnp.fft.rfft(h, n=N)) ** 2

    def fit(w):
        return jnp.sum((jnp.abs(jnp.fft.rfft(w, n=N)) ** 2 - ph) ** 2) / jnp.sum(ph**2)

    opt = optax.adam(optax.cosine_decay_schedule(lr, steps, alpha=0.01))

    @jax.jit
    def step(w, state):
        updates, state = opt.update(jax.grad(fit)(w), state)
        return optax.apply_updates(w, updates), state

    for i in range(2):
        w = random_filterbank(jax.random.fold_in(jax.random.key(3), i), J, T)
        state = opt.init(w)
        for _ in range(steps):
            w, state = step(w, state)
        at = (curve.weight == 0) & (curve.seed == i)
        assert curve.fit_final[at][0] == pytest.approx(_fit_np(w, h, N), rel=1e-9)
        assert curve.kappa_final[at][0] == pytest.approx(_kappa_np(w, N), rel=1e-9)


def test_train_filterbanks_is_the_curve_at_each_length():
    cfg = TrainingConfig(
        num_filters=J, lengths=(T,), n=N, seeds=4, steps=60, penalty_weights=WEIGHTS
    )
    res = train_filterbanks(jax.random.key(5), cfg)
    direct = penalty_tradeoff(
        jax.random.fold_in(jax.random.key(5), T), TARGET, WEIGHTS, num_seeds=4, n=N, steps=60
    )
    for a, b in zip(res.curves[T], direct, strict=True):
        np.testing.assert_array_equal(a, b)
    table = training_table(res)
    assert table["T"].tolist() == [T] * 12 and table["seed"].tolist() == list(range(4)) * 3
    record = training_record(res)
    assert len(record["runs"]) == 12 and len(record["summary"]) == 3
    assert record["runs"][5]["kappa_final"] == table["kappa_final"][5]


def _table():
    """Two seeds, weights 0, 1, 2 at one length, with chosen finals."""
    fit = np.array([1e-4, 2e-4, 3e-4, 5e-4, 9e-3, 8e-3])
    kappa = np.array([50.0, 40.0, 10.0, 9.0, 3.0, 2.0])
    return {
        "T": np.full(6, 64),
        "penalty_weight": np.repeat([0.0, 1.0, 2.0], 2),
        "seed": np.tile([0, 1], 3),
        "fit_init": np.full(6, 2.0),
        "kappa_init": np.array([2.0, 3.0] * 3),
        "fit_final": fit,
        "kappa_final": kappa,
        "smooth_kappa_final": kappa,
        "kappa_target": np.full(6, 100.0),
    }


def test_summary_and_evidence_against_the_definition():
    s = tradeoff_summary(_table())
    assert s["penalty_weight"].tolist() == [0.0, 1.0, 2.0]
    np.testing.assert_allclose(s["fit_final_median"], [1.5e-4, 4e-4, 8.5e-3])
    np.testing.assert_allclose(s["kappa_final_max"], [50, 10, 3])
    np.testing.assert_allclose(s["fit_factor_median"], [1, (3 + 2.5) / 2, (90 + 40) / 2])
    np.testing.assert_allclose(s["kappa_factor_median"], [1, (5 + 40 / 9) / 2, (50 / 3 + 20) / 2])
    np.testing.assert_allclose(s["fit_ratio_max"], [1e-4, 2.5e-4, 4.5e-3])
    drop = np.log([50 / 10, 40 / 9])
    assert s["log_kappa_drop_mean"][1] == pytest.approx(drop.mean())
    assert s["log_kappa_drop_se"][1] == pytest.approx(drop.std(ddof=1) / math.sqrt(2))
    assert math.isnan(s["log_fit_rise_mean"][0])
    e = tradeoff_evidence(s)
    # both steps lower kappa and raise the fit in both seeds, beyond 2 SE
    assert e["steps"] == 2 and e["monotone_steps"] == 2
    noisy = _table()
    noisy["fit_final"][5] = 4e-4  # seed 1 now fits better at weight 2 than at weight 1
    assert tradeoff_evidence(tradeoff_summary(noisy))["monotone_steps"] == 1
    assert e["worst_fit_ratio"] == pytest.approx(1e-4) and e["kappa_target"] == 100.0
    assert e["kappa_unpenalised"] == 45.0 and e["kappa_init"] == 2.5 and e["T"] == 64


def test_bad_input_names_the_argument():
    key = jax.random.key(0)
    cases = [
        ({"target": TARGET[0]}, ValueError, "target must have shape"),
        ({"weights": [0.0, -1.0]}, ValueError, "weights must be finite and >= 0"),
        ({"weights": []}, ValueError, "weights must be a non-empty"),
        ({"weights": ["a"]}, TypeError, "weights must be a sequence of numbers"),
        ({"num_seeds": 0}, ValueError, "num_seeds must be >= 1"),
        ({"n": 8}, ValueError, "n=8 must be >= the filter length T=16"),
        ({"learning_rate": -1.0}, ValueError, "learning_rate must be finite and > 0"),
        ({"temperature": "hot"}, TypeError, "temperature must be a number"),
    ]
    for change, err, message in cases:
        kw = {"target": TARGET, "weights": WEIGHTS, "num_seeds": 2, "steps": 1, **change}
        with pytest.raises(err, match=message):
            penalty_tradeoff(key, kw.pop("target"), kw.pop("weights"), **kw)
    no_base = {k: v[2:] for k, v in _table().items()}
    with pytest.raises(ValueError, match="no unpenalised run"):
        tradeoff_summary(no_base)


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
