"""The layout of a run: memory estimates, the microbatch, memory sizes, batch sizes."""

import jax
import jax.numpy as jnp
import pytest

import jaxfb
from jaxfb.montecarlo import _layout


def statistic(key):
    return jaxfb.littlewood_paley(jaxfb.random_filterbank(key, 5, 12), 32)


def test_microbatch_from_memory_budget():
    key = jax.random.key(0)
    per_draw = _layout.statistic_bytes(statistic, key)
    assert per_draw > 5 * 12 * 4  # at least the filterbank itself
    assert _layout.choose_microbatch(per_draw, 10**12, "cpu") == 1024  # capped on CPU
    assert _layout.choose_microbatch(per_draw, 10**12, "gpu") == 16384
    assert _layout.choose_microbatch(per_draw, 5 * per_draw, "gpu") == 4  # power of two that fits
    assert _layout.choose_microbatch(per_draw, 1, "cpu") == 1


def test_microbatch_on_cpu_keeps_its_largest_array_within_the_cache_bound():
    bound = _layout._CPU_ARRAY_BYTES
    choose = _layout.choose_microbatch
    assert choose(100, 10**12, "cpu", largest_bytes=bound // 64) == 64
    assert choose(100, 10**12, "cpu", largest_bytes=bound // 64 + 1) == 32  # just over: halves
    assert choose(100, 10**12, "cpu", largest_bytes=1) == 1024  # the CPU cap
    assert choose(100, 10**12, "cpu", largest_bytes=10 * bound) == 1  # one draw at least
    assert choose(100, 400, "cpu", largest_bytes=1) == 4  # the memory budget still binds
    assert choose(100, 10**12, "gpu", largest_bytes=10 * bound) == 16384  # CPU only


def test_largest_intermediate_is_the_largest_array_of_one_draw_sub_jaxprs_included():
    key = jax.random.key(0)

    def flat(key):
        return jnp.sum(jnp.ones((30, 40), jnp.float32) * 2)

    def nested(key):  # the body's (60, 50) arrays, stacked over 3 steps by the map
        return jax.lax.map(lambda i: jnp.ones((60, 50), jnp.float32) * i, jnp.arange(3.0)).sum()

    assert _layout.largest_intermediate_bytes(flat, key) == 30 * 40 * 4
    assert _layout.largest_intermediate_bytes(nested, key) == 3 * 60 * 50 * 4
    per_draw = _layout.largest_intermediate_bytes(statistic, key)
    assert 5 * 12 * 4 <= per_draw < _layout.statistic_bytes(statistic, key)


def test_parse_bytes():
    assert (
        _layout.parse_bytes("1.5GiB") == 3 * 2**29 and _layout.parse_bytes("512MB") == 512 * 10**6
    )
    assert _layout.parse_bytes(4096) == 4096 and _layout.parse_bytes("1e9") == 10**9
    for bad, error in (("lots", ValueError), (0, ValueError), (True, TypeError)):
        with pytest.raises(error, match="memory_budget"):
            _layout.parse_bytes(bad)


def test_batch_rounds_up_to_whole_microbatches_and_stops_at_what_the_draws_need():
    key = jax.random.key(0)
    kw = dict(out_bytes=4, devices=jax.devices()[:1], memory_budget=None, first_check=None)
    lay = _layout.plan_layout(statistic, key, 1000, microbatch=8, batch_size=100, **kw)
    assert (lay.microbatch, lay.steps, lay.batch) == (8, 13, 104)
    assert _layout.plan_layout(statistic, key, 20, microbatch=8, batch_size=10**6, **kw).batch == 24
    assert (
        _layout.plan_layout(statistic, key, 10**6, microbatch=8, batch_size=None, **kw).batch
        == 4096
    )
    capped = _layout.plan_layout(
        statistic, key, 10**6, microbatch=8, batch_size=None, **{**kw, "first_check": 50}
    )
    assert capped.batch == 56
    with pytest.raises(ValueError, match="devices is empty"):
        _layout.plan_layout(
            statistic, key, 10, microbatch=8, batch_size=None, **{**kw, "devices": ()}
        )
