"""Checkpoints of the Monte Carlo driver: an interrupted run resumes to the same numbers; a
checkpoint of another run is refused, never overwritten."""

import pickle

import jax
import jax.numpy as jnp
import pytest
from _engine_cases import FB_KEY as KEY
from _engine_cases import FB_REDUCERS as REDUCERS
from _engine_cases import TARGET
from _engine_cases import assert_same_results as _assert_same
from _engine_cases import fb_statistic as statistic

import jaxfb
from jaxfb import montecarlo as mc


class Interrupt(Exception):
    pass


def _interrupt_after(calls):
    seen = []

    def callback(n):
        seen.append(n)
        if len(seen) == calls:
            raise Interrupt

    return callback


def _interrupted_run(ckpt, num_draws: int, calls: int, **kw) -> dict:
    """Run ``statistic`` with a checkpoint, interrupted after ``calls`` batches; the saved
    checkpoint's payload."""
    with pytest.raises(Interrupt):
        mc.monte_carlo(
            statistic, KEY, num_draws, checkpoint=ckpt, checkpoint_every=0,
            callback=_interrupt_after(calls), **kw,
        )  # fmt: skip
    return pickle.loads(ckpt.read_bytes())


@pytest.mark.parametrize("with_target", [False, True])
def test_interrupted_run_resumes_from_its_checkpoint_to_the_same_numbers(tmp_path, with_target):
    kw = dict(reducers={"*": (*REDUCERS["*"], mc.Samples())}, batch_size=32, microbatch=8)
    if with_target:
        kw["targets"] = TARGET
    ref = mc.monte_carlo(statistic, KEY, 2000, **kw)
    ckpt = tmp_path / "run.ckpt"
    saved = _interrupted_run(ckpt, 2000, 5, **kw)
    assert 0 < saved["draws"] < ref.num_draws
    resumed = mc.monte_carlo(statistic, KEY, 2000, checkpoint=ckpt, **kw)
    assert resumed.resumed_draws == saved["draws"]
    _assert_same(ref, resumed)
    # a finished checkpoint answers at once
    again = mc.monte_carlo(statistic, KEY, 2000, checkpoint=ckpt, **kw)
    assert again.num_batches == 0 and again.resumed_draws == ref.num_draws
    _assert_same(ref, again)


def test_checkpoint_of_another_run_is_refused_not_overwritten(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    base = dict(key=KEY, num_draws=100, batch_size=32, microbatch=8)
    mc.monte_carlo(statistic, checkpoint=ckpt, reducers=REDUCERS, **base)
    data = ckpt.read_bytes()
    for change in (dict(num_draws=200), dict(key=jax.random.key(4))):
        kw = {**base, **change}
        with pytest.raises(ValueError, match="written by a different run"):
            mc.monte_carlo(statistic, checkpoint=ckpt, reducers=REDUCERS, **kw)
    # the same run at other sizes: the error says which sizes resume it
    for change in (dict(batch_size=64), dict(microbatch=16), dict(microbatch=None)):
        kw = {**base, **change}
        with pytest.raises(ValueError, match=r"pass batch_size=32, microbatch=8 \(or neither\)"):
            mc.monte_carlo(statistic, checkpoint=ckpt, reducers=REDUCERS, **kw)
    assert ckpt.read_bytes() == data
    restarted = mc.monte_carlo(
        statistic, checkpoint=ckpt, checkpoint_mismatch="restart", reducers=REDUCERS,
        **{**base, "num_draws": 200},
    )  # fmt: skip
    assert restarted.resumed_draws == 0 and restarted.num_draws == 200
    assert pickle.loads(ckpt.read_bytes())["draws"] == 200
    with pytest.raises(ValueError, match="checkpoint_mismatch must be 'raise' or 'restart'"):
        mc.monte_carlo(statistic, KEY, 100, checkpoint=ckpt, checkpoint_mismatch="ignore")

    # another statistic with the same leaves, shapes and dtypes (other filters) is another run
    data = ckpt.read_bytes()

    def other(key):
        A, B = jaxfb.frame_bounds(jaxfb.random_filterbank(key, 6, 4), 32)
        return {"A": A, "log_kappa": jnp.log(B / A)}

    same = {**base, "num_draws": 200}  # the run that wrote ckpt
    assert mc.monte_carlo(statistic, checkpoint=ckpt, reducers=REDUCERS, **same).num_batches == 0
    with pytest.raises(ValueError, match="written by a different run"):
        mc.monte_carlo(other, checkpoint=ckpt, reducers=REDUCERS, **same)
    x = jnp.arange(32.0)  # closed-over arrays are part of the statistic too

    def energy(y):
        return lambda key: {"e": jaxfb.energy(jaxfb.random_filterbank(key, 6, 8), y)}

    e_ckpt = tmp_path / "energy.ckpt"
    mc.monte_carlo(energy(x), checkpoint=e_ckpt, reducers=REDUCERS, **base)
    again = mc.monte_carlo(energy(x), checkpoint=e_ckpt, reducers=REDUCERS, **base)
    assert again.resumed_draws == 100  # the same statistic resumes
    with pytest.raises(ValueError, match="written by a different run"):
        mc.monte_carlo(energy(x + 1), checkpoint=e_ckpt, reducers=REDUCERS, **base)
    assert ckpt.read_bytes() == data
    with pytest.raises(ValueError, match=r"checkpoint: folder .* does not exist"):
        mc.monte_carlo(statistic, checkpoint=tmp_path / "no" / "run.ckpt", **base)
    ckpt.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot be read"):
        mc.monte_carlo(statistic, KEY, 100, checkpoint=ckpt, reducers=REDUCERS, batch_size=32)
    with pytest.raises(ValueError, match="checkpoint_every must be >= 0"):
        mc.monte_carlo(statistic, KEY, 100, checkpoint=ckpt, checkpoint_every=-1)


def test_defaults_resume_a_checkpoint_at_the_sizes_it_was_written_with(tmp_path, monkeypatch):
    # a run interrupted at explicit sizes (or under other defaults) resumes with the defaults
    # left alone at its own sizes, to the numbers of the uninterrupted run at those sizes
    kw = dict(reducers=REDUCERS, batch_size=32, microbatch=8)
    ref = mc.monte_carlo(statistic, KEY, 500, **kw)
    ckpt = tmp_path / "run.ckpt"
    saved = _interrupted_run(ckpt, 500, 3, **kw)
    assert saved["layout"] == {"batch": 32, "microbatch": 8} and 0 < saved["draws"] < 500
    fresh = mc.monte_carlo(statistic, KEY, 500, reducers=REDUCERS)
    assert fresh.microbatch != 8  # the defaults alone would lay it out otherwise
    resumed = mc.monte_carlo(statistic, KEY, 500, checkpoint=ckpt, reducers=REDUCERS)
    assert (resumed.microbatch, resumed.batch_size) == (8, 32)
    assert resumed.resumed_draws == saved["draws"]
    _assert_same(ref, resumed)
    # a file from before checkpoints recorded their layout cannot say: the defaults apply, and
    # the mismatch is the generic one
    old = {k: v for k, v in saved.items() if k not in ("identity", "layout")}
    ckpt.write_bytes(pickle.dumps(old))
    with pytest.raises(ValueError, match="written by a different run"):
        mc.monte_carlo(statistic, KEY, 500, checkpoint=ckpt, reducers=REDUCERS)
    assert mc.monte_carlo(statistic, KEY, 500, checkpoint=ckpt, **kw).resumed_draws > 0
