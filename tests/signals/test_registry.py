"""jaxfb.signals by name: every registered signal has unit norm and the x64 dtype; errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _support import SR
from _support import norm as _norm

from jaxfb import signals

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
