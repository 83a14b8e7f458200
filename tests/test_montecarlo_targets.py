"""Precision targets (stop at the first scheduled count where the SE is small) and checkpoints
(an interrupted run resumes to the same numbers) of the Monte Carlo driver and of sweeps."""

import json
import math
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfb
from jaxfb import montecarlo as mc
from jaxfb.cli import main as cli_main
from jaxfb.montecarlo import _driver


def statistic(key):
    A, B = jaxfb.frame_bounds(jaxfb.random_filterbank(key, 6, 8), 32)
    return {"A": A, "log_kappa": jnp.log(B / A)}


KEY = jax.random.key(3)
REDUCERS = {"*": (mc.Count(), mc.Moments(), mc.Min(), mc.Max())}
TARGET = mc.TargetSE("log_kappa", rel=0.02, min_draws=50)


def _rse(r):
    st = r.stats["log_kappa"]
    return float(st["se"] / abs(st["mean"]))


def _assert_same(a, b, *, exact=True):
    """Equal results: bitwise, or (``exact=False``, other batch boundaries) bitwise for the exact
    reducers and to 1e-12 for the float64 moments, whose merge order then differs."""
    assert a.num_draws == b.num_draws
    for leaf in a.stats:
        for name in a.stats[leaf]:
            x, y = a.stats[leaf][name], b.stats[leaf][name]
            if exact or name in ("min", "max", "n", "count"):
                np.testing.assert_array_equal(x, y, f"{leaf}.{name}")
            else:
                np.testing.assert_allclose(x, y, rtol=1e-12, err_msg=f"{leaf}.{name}")


def test_target_stops_at_the_first_scheduled_count_that_meets_it():
    r = mc.monte_carlo(statistic, KEY, 10**5, targets=TARGET, reducers=REDUCERS, batch_size=64)
    n = r.num_draws
    assert r.targets_met is True and _rse(r) <= TARGET.rel
    # n is on the schedule 50 * 2^k, and the previous count did not meet the target
    k = math.log2(n / TARGET.min_draws)
    assert k == int(k) and k >= 1, n
    before = mc.monte_carlo(statistic, KEY, n // 2, reducers=REDUCERS, batch_size=64)
    assert _rse(before) > TARGET.rel
    # the draws made are the first n draws: the same as a fixed run of n
    fixed = mc.monte_carlo(statistic, KEY, n, reducers=REDUCERS, batch_size=64)
    _assert_same(r, fixed, exact=False)  # the checks split the batches differently


def test_default_batch_is_no_bigger_than_the_first_checked_count():
    r = mc.monte_carlo(statistic, KEY, 10**6, targets=TARGET, reducers=REDUCERS, microbatch=8)
    assert r.batch_size == 56  # 50 rounded up to a multiple of the microbatch
    assert mc.monte_carlo(statistic, KEY, 1000, reducers=REDUCERS, microbatch=8).batch_size == 1000


def test_target_draws_do_not_depend_on_the_batch_size():
    a = mc.monte_carlo(statistic, KEY, 10**5, targets=TARGET, reducers=REDUCERS, batch_size=48)
    b = mc.monte_carlo(statistic, KEY, 10**5, targets=TARGET, reducers=REDUCERS, batch_size=256)
    assert a.num_draws == b.num_draws
    for name in ("min", "max", "n"):
        np.testing.assert_array_equal(a.stats["A"][name], b.stats["A"][name])
    np.testing.assert_allclose(a.stats["A"]["mean"], b.stats["A"]["mean"], rtol=1e-12)


def test_unreachable_target_stops_at_the_ceiling():
    t = mc.TargetSE("log_kappa", rel=1e-6, min_draws=64)
    r = mc.monte_carlo(statistic, KEY, 300, targets=t, reducers=REDUCERS)
    assert r.num_draws == 300 and r.targets_met is False
    assert mc.monte_carlo(statistic, KEY, 300, reducers=REDUCERS).targets_met is None


def test_absolute_and_several_targets():
    ts = [mc.TargetSE("log_kappa", abs=0.02, min_draws=40), mc.TargetSE("A", rel=0.02)]
    r = mc.monte_carlo(statistic, KEY, 10**5, targets=ts, reducers=REDUCERS)
    assert r.targets_met
    assert r.stats["log_kappa"]["se"] <= 0.02
    assert r.stats["A"]["se"] <= 0.02 * r.stats["A"]["mean"]


def test_each_target_waits_for_its_own_min_draws():
    # the first target alone is met at its first check; the second may not be looked at before
    # 4096 draws, so the run cannot stop earlier
    early = mc.TargetSE("A", rel=0.5, min_draws=64)
    assert mc.monte_carlo(statistic, KEY, 8192, targets=early, reducers=REDUCERS).num_draws == 64
    late = mc.TargetSE("log_kappa", rel=0.5, min_draws=4096)
    r = mc.monte_carlo(statistic, KEY, 8192, targets=[early, late], reducers=REDUCERS)
    assert r.targets_met is True and r.num_draws == 4096


@pytest.mark.parametrize(
    "targets, match",
    [
        (mc.TargetSE("A", rel=True), r"targets\[0\].rel must be a positive number"),
        (mc.TargetSE("kappa", rel=0.1), "'kappa' is not a leaf"),
        (mc.TargetSE("A"), "needs rel or abs"),
        (mc.TargetSE("A", rel=-0.1), r"targets\[0\].rel must be a positive number"),
        (mc.TargetSE("A", abs=math.nan), r"targets\[0\].abs must be a positive number"),
        (mc.TargetSE("A", rel=0.1, min_draws=0), r"targets\[0\].min_draws must be >= 1"),
        (["A"], r"targets\[0\] must be a jaxfb.montecarlo.TargetSE"),
    ],
)
def test_bad_targets(targets, match):
    with pytest.raises((ValueError, TypeError), match=match):
        mc.monte_carlo(statistic, KEY, 100, targets=targets, reducers=REDUCERS)


def test_target_needs_moments():
    with pytest.raises(ValueError, match="'A' needs a Moments reducer"):
        mc.monte_carlo(statistic, KEY, 100, targets=mc.TargetSE("A", rel=0.1), reducers=mc.Min())


class Interrupt(Exception):
    pass


def _interrupt_after(calls):
    seen = []

    def callback(n):
        seen.append(n)
        if len(seen) == calls:
            raise Interrupt

    return callback


@pytest.mark.parametrize("with_target", [False, True])
def test_interrupted_run_resumes_from_its_checkpoint_to_the_same_numbers(tmp_path, with_target):
    kw = dict(reducers={"*": (*REDUCERS["*"], mc.Samples())}, batch_size=32, microbatch=8)
    if with_target:
        kw["targets"] = TARGET
    ref = mc.monte_carlo(statistic, KEY, 2000, **kw)
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(Interrupt):
        mc.monte_carlo(
            statistic, KEY, 2000, checkpoint=ckpt, checkpoint_every=0,
            callback=_interrupt_after(5), **kw,
        )  # fmt: skip
    saved = pickle.loads(ckpt.read_bytes())
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
    for change in (dict(num_draws=200), dict(key=jax.random.key(4)), dict(batch_size=64)):
        kw = {**base, **change}
        with pytest.raises(ValueError, match="written by a different run"):
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


def test_schedule():
    t = mc.TargetSE("x", rel=0.1, min_draws=100)
    assert _driver._schedule((t,), 1000) == [100, 200, 400, 800, 1000]
    assert _driver._schedule((t,), 800) == [100, 200, 400, 800]
    assert _driver._schedule((t,), 50) == [50]
    assert _driver._schedule((), 1000) == [1000]


# ---- sweeps

SWEEP = dict(
    num_filters=[3, 8], length=[4, 16], n=16, num_draws=20000, seed=2, microbatch=8,
    progress=False, target_rse=0.02, min_draws=100,
)  # fmt: skip


@pytest.fixture(scope="module")
def target_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("target_sweep")
    return out, mc.sweep(out, **SWEEP)


def test_sweep_meets_its_targets_with_kappa_exempt_where_its_variance_is_infinite(target_sweep):
    out, t = target_sweep
    assert (t["draws"] < SWEEP["num_draws"]).all()
    assert (t["log_kappa_se"] <= 0.02 * np.abs(t["log_kappa_mean"])).all()
    big = t["J"] > 4
    assert (t["kappa_se"][big] <= 0.02 * t["kappa_mean"][big]).all()
    for f in out.glob("J*.json"):
        meta = json.loads(f.read_text())
        leaves = [x["leaf"] for x in meta["targets"]]
        assert leaves == (["log_kappa"] if meta["config"]["J"] <= 4 else ["log_kappa", "kappa"])
        assert meta["targets_met"] is True and meta["draws"] == meta["rows"][0]["draws"]
    assert not list(out.glob("*.ckpt"))  # removed once the point was written
    # the draws are the first draws of the point's key: a fixed-count point agrees
    row = 0
    fixed = mc.sweep(
        out / "fixed", num_filters=int(t["J"][row]), length=int(t["T"][row]), n=16,
        num_draws=int(t["draws"][row]), seed=2, microbatch=8, progress=False,
    )  # fmt: skip
    for c in ("kappa_min", "kappa_max", "log_kappa_median"):
        assert fixed[c][0] == t[c][row], c


def test_sweep_target_bad_arguments(tmp_path):
    for change, match in [
        (dict(target_rse=0), "target_rse must be a positive number"),
        (dict(target_stats=["energy"]), "target_stats: unknown statistic 'energy'"),
        (dict(min_draws=10**6), r"min_draws \(1000000\) must be <= num_draws"),
        (dict(checkpoint_every=-5), "checkpoint_every must be >= 0"),
    ]:
        with pytest.raises(ValueError, match=match):
            mc.sweep(tmp_path / "never", **{**SWEEP, **change})
    assert not (tmp_path / "never").exists()


def test_cli_sweep_with_target(target_sweep, tmp_path, capsys):
    _, t = target_sweep
    out = tmp_path / "cli"
    args = ["sweep", "--out", str(out), "--J", "3,8", "--T", "4,16", "--N", "16", "--seed", "2"]
    args += ["--draws", "2e4", "--microbatch", "8", "--no-progress", "--target-rse", "0.02"]
    args += ["--min-draws", "100"]
    assert cli_main(args) == 0
    table = mc.read_summary(out)
    np.testing.assert_array_equal(table["draws"], t["draws"])
    np.testing.assert_array_equal(table["kappa_max"], t["kappa_max"])


LONG_POINT = dict(
    num_filters=4, length=16, n=16, num_draws=60000, seed=9, keep_samples=False,
    microbatch=8, batch_size=64, progress=False, checkpoint_every=0.0,
)  # fmt: skip


@pytest.mark.slow
def test_kill_9_mid_point_resumes_from_the_checkpoint(tmp_path, kill_9_sweep):
    out = tmp_path / "killed"

    def checkpointed():
        ckpts = list(out.glob("*.ckpt"))
        return bool(ckpts) and pickle.loads(ckpts[0].read_bytes())["draws"] >= 5000

    kill_9_sweep(out, LONG_POINT, checkpointed, what="no checkpoint was written")
    ckpts = list(out.glob("*.ckpt"))
    assert not list(out.glob("J*.json")), "the kill landed after the point finished"
    saved = pickle.loads(ckpts[0].read_bytes())["draws"]
    resumed = mc.sweep(out, **LONG_POINT)
    meta = json.loads(next(out.glob("J*.json")).read_text())
    assert meta["resumed_draws"] >= saved >= 5000
    ref = mc.sweep(tmp_path / "reference", **LONG_POINT)
    for c in ref:
        if c not in ("wall_time_s",):
            np.testing.assert_array_equal(ref[c], resumed[c], err_msg=c)
    assert not list(out.glob("*.ckpt"))


def test_sweep_with_n_equal_to_t(tmp_path, capsys):
    kw = dict(num_filters=4, num_draws=64, seed=1, microbatch=8, progress=False)
    t = mc.sweep(tmp_path / "a", length=[4, 8], n="T", **kw)
    assert t["N"].tolist() == t["T"].tolist() == [4, 8]
    one = mc.sweep(tmp_path / "b", length=8, n=8, **kw)  # the same point, the same key
    assert one["kappa_max"][0] == t["kappa_max"][1]
    args = ["sweep", "--out", str(tmp_path / "c"), "--J", "4", "--T", "4,8", "--N", "T"]
    assert cli_main([*args, "--draws", "64", "--seed", "1", "--microbatch", "8"]) == 0
    np.testing.assert_array_equal(mc.read_summary(tmp_path / "c")["kappa_max"], t["kappa_max"])
