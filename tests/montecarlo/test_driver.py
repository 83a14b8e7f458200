"""The Monte Carlo driver: batch-size and device-count invariance, streaming moments, one compile.

Compilation dominates the cost of these tests on a small CPU (the threefry PRNG takes seconds to
compile), so the reference runs are shared by a module fixture and the statistic is one
module-level function (the driver caches its compiled batch function).
"""

import math
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from _engine_cases import FB_KEY, FB_REDUCERS, TARGET, fb_statistic
from _engine_cases import assert_same_results as _assert_same_results
from _engine_cases import rse as _rse

import jaxfb
from jaxfb import montecarlo as mc
from jaxfb.montecarlo import _batch, _driver

# T = 12 <= 32 takes the Littlewood-Paley path with a vmapped matrix product (lags ->
# frequencies), whose rounding changes with the batch width: the microbatch is what keeps every
# draw's value fixed. The same source runs in the 4-device subprocess.
STATISTIC_SRC = """
import jax, jax.numpy as jnp, numpy as np
import jaxfb
from jaxfb import montecarlo as mc

def statistic(key):
    w = jaxfb.random_filterbank(key, 5, 12)
    lp = jaxfb.littlewood_paley(w, 32)
    A, B = jnp.min(lp), jnp.max(lp)
    return {"A": A, "B": B, "lp": lp[:4]}

EDGES = tuple(np.linspace(0.0, 3.0, 61))
REDUCERS = {"*": (mc.Count(), mc.Moments(), mc.Min(), mc.Max(), mc.Histogram(EDGES), mc.Samples())}
"""
namespace: dict = {}
exec(STATISTIC_SRC, namespace)
statistic, REDUCERS, EDGES = namespace["statistic"], namespace["REDUCERS"], namespace["EDGES"]

KEY_SEED = 7
DRAWS = 203  # not a multiple of any batch size used: the last batch is padded and masked
MICRO = 8
EXACT = ("count", "nonfinite", "min", "max", "hist_counts", "hist_underflow", "hist_overflow")
MOMENTS = ("mean", "var", "std", "se")


def _run(batch_size, **kw):
    return mc.monte_carlo(
        statistic,
        jax.random.key(KEY_SEED),
        DRAWS,
        reducers=REDUCERS,
        batch_size=batch_size,
        microbatch=MICRO,
        **kw,
    )


@pytest.fixture(scope="module")
def runs():
    # 26 calls of one microbatch each; one call of 26 microbatches (capped at what 203 draws need)
    return {b: _run(b) for b in (8, 10_000)}


def _assert_same(r1, r2):
    assert r1.stats.keys() == r2.stats.keys()
    for leaf in r1.stats:
        a, b = r1.stats[leaf], r2.stats[leaf]
        for k in (*EXACT, "samples"):
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{leaf}.{k}")
        for k in MOMENTS:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=0, err_msg=f"{leaf}.{k}")


def test_batch_size_invariance(runs):
    assert [r.batch_size for r in runs.values()] == [8, 208]
    assert [r.num_batches for r in runs.values()] == [26, 1]
    _assert_same(runs[8], runs[10_000])


def test_draw_i_uses_fold_in_key_i(runs):
    s = runs[8].stats
    assert s["A"]["samples"].shape == (DRAWS,) and s["lp"]["samples"].shape == (DRAWS, 4)
    key = jax.random.key(KEY_SEED)
    idx = np.array([0, 1, 100, DRAWS - 1])
    # evaluated apart from the engine (another batch width: equal up to rounding)
    one = jax.jit(jax.vmap(lambda i: statistic(jax.random.fold_in(key, i))))(idx)
    np.testing.assert_allclose(s["A"]["samples"][idx], one["A"], rtol=2e-6)
    np.testing.assert_allclose(s["lp"]["samples"][idx], one["lp"], rtol=2e-6)
    assert not np.allclose(s["A"]["samples"][1], s["A"]["samples"][0])


def test_streaming_statistics_match_numpy_on_kept_samples(runs):
    for st in runs[10_000].stats.values():
        x = st["samples"].astype(np.float64)
        assert int(st["count"]) == DRAWS and "n" not in st  # one count field
        np.testing.assert_allclose(st["mean"], x.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(st["var"], x.var(axis=0, ddof=1), rtol=1e-12)
        np.testing.assert_allclose(st["se"], x.std(axis=0, ddof=1) / np.sqrt(DRAWS), rtol=1e-12)
        np.testing.assert_array_equal(st["min"], x.min(axis=0))
        np.testing.assert_array_equal(st["max"], x.max(axis=0))
        edges = st["hist_edges"]
        np.testing.assert_array_equal(edges, np.float32(EDGES))
        flat = x.reshape(DRAWS, -1)
        ref = np.stack([np.histogram(flat[:, j], edges)[0] for j in range(flat.shape[1])])
        np.testing.assert_array_equal(st["hist_counts"].reshape(ref.shape), ref)
        assert np.all(st["hist_overflow"] + st["hist_counts"].sum(-1) == DRAWS)


_COMPILES: list = []
jax.monitoring.register_event_duration_secs_listener(
    lambda name, _secs, **_kw: _COMPILES.append(name) if "backend_compile" in name else None
)


def test_one_compile_serves_every_batch_and_is_reused():
    traces = []

    def counted(key):
        traces.append(1)
        return statistic(key)

    kw = dict(reducers=[mc.Min(), mc.Max()], batch_size=16, microbatch=MICRO)
    # the "rbg" PRNG compiles in a fraction of threefry's time; the driver is the same
    k1, k2 = jax.random.key(1, impl="rbg"), jax.random.key(2, impl="rbg")
    n0 = len(_COMPILES)
    r1 = mc.monte_carlo(counted, k1, 100, **kw)  # 7 batches, the last one partial
    assert r1.num_batches == 7 and r1.compile_time > 0
    assert len(_COMPILES) - n0 == 1  # one XLA compilation for all 7 batches
    n1, t1 = len(_COMPILES), len(traces)
    r2 = mc.monte_carlo(counted, k2, 37, **kw)  # other key, other count: same function
    assert r2.num_batches == 3 and r2.compile_time == 0.0
    assert len(_COMPILES) == n1  # nothing compiled
    assert len(traces) - t1 <= 1  # at most jax.eval_shape, never a lowering


def test_x64_moments_on_device_invariant_and_exact(x64):
    def stat64(key):
        return jaxfb.random_filterbank(key, 3, 4, batch_shape=(2,))[:, 0, 0] * 1e3 + 1e6

    kw = dict(reducers=(mc.Moments(), mc.Samples()), microbatch=4)
    key = jax.random.key(3, impl="rbg")
    a = mc.monte_carlo(stat64, key, 150, batch_size=4, **kw).stats["value"]
    b = mc.monte_carlo(stat64, key, 150, batch_size=40, **kw).stats["value"]
    assert a["samples"].dtype == np.float64
    np.testing.assert_array_equal(a["samples"], b["samples"])
    x = a["samples"]
    for k, ref in (("mean", x.mean(axis=0)), ("var", x.var(axis=0, ddof=1))):
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12)
        np.testing.assert_allclose(a[k], ref, rtol=1e-12)


def test_bad_arguments_fail_before_compiling():
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="num_draws must be >= 1"):
        mc.monte_carlo(statistic, key, 0)
    with pytest.raises(ValueError, match="num_draws must be < 2"):
        mc.monte_carlo(statistic, key, 2**32)
    with pytest.raises(TypeError, match="key must be a JAX PRNG key"):
        mc.monte_carlo(statistic, 0, 10)
    with pytest.raises(ValueError, match="no reducers for statistic leaf 'lp'"):
        mc.monte_carlo(statistic, key, 10, reducers={"A": mc.Min(), "B": mc.Min()})
    with pytest.raises(ValueError, match="memory_budget"):
        mc.monte_carlo(statistic, key, 10, memory_budget="lots")
    with pytest.raises(ValueError, match="microbatch must be >= 1"):
        mc.monte_carlo(statistic, key, 10, microbatch=0)


DEVICE_SCRIPT = """
import os, sys, json
import numpy as np
import jax
assert jax.device_count() == {devices}, jax.devices()
{src}
out = {{}}
for b in (96,):  # 24 draws per device: 3 microbatches per call, 3 calls, the last partial
    r = mc.monte_carlo(statistic, jax.random.key({seed}), {draws}, reducers=REDUCERS,
                       batch_size=b, microbatch={micro})
    assert r.num_devices == {devices} and r.batch_size == b, r
    for leaf, st in r.stats.items():
        for k, a in st.items():
            out[f"{{b}}/{{leaf}}/{{k}}"] = np.asarray(a)
np.savez(sys.argv[1], **out)
"""


def _host_devices_run(tmp_path, devices: int) -> dict:
    """The DEVICE_SCRIPT runs on ``devices`` CPU devices in a fresh process."""
    script = DEVICE_SCRIPT.format(
        src=textwrap.dedent(STATISTIC_SRC), seed=KEY_SEED, draws=DRAWS, micro=MICRO, devices=devices
    )
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    env["JAX_PLATFORMS"] = "cpu"
    path = tmp_path / f"host{devices}.npz"
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return np.load(path)


def test_device_count_invariance_4_host_devices(tmp_path, runs):
    four = _host_devices_run(tmp_path, 4)
    if jax.default_backend() == "cpu":
        ref = runs[8].stats
    else:  # bit-for-bit holds on one backend: the reference is one CPU device, not this GPU/TPU
        one = _host_devices_run(tmp_path, 1)
        ref = {leaf: {k: one[f"96/{leaf}/{k}"] for k in st} for leaf, st in runs[8].stats.items()}
    for b in (96,):
        for leaf, st in ref.items():
            for k in (*EXACT, "samples"):
                np.testing.assert_array_equal(four[f"{b}/{leaf}/{k}"], st[k], err_msg=f"{b} {k}")
            for k in MOMENTS:
                np.testing.assert_allclose(four[f"{b}/{leaf}/{k}"], st[k], rtol=1e-12, atol=0)
    assert len(four.files) == sum(len(st) for st in ref.values())


MULTI_PROCESS_SCRIPT = """
import os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
import jax
jax.config.update("jax_cpu_collectives_implementation", "gloo")
port, pid, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
jax.distributed.initialize(f"127.0.0.1:{{port}}", num_processes=2, process_id=pid)
assert jax.process_count() == 2 and jax.device_count() == 4 and jax.local_device_count() == 2
{src}
ckpt = os.path.join(os.path.dirname(path), "shared.ckpt")  # every process reads it
r = mc.monte_carlo(statistic, jax.random.key({seed}), {draws}, reducers=REDUCERS,
                   batch_size=64, microbatch={micro}, checkpoint=ckpt)
assert r.num_devices == 4 and r.resumed_draws == 0
again = mc.monte_carlo(statistic, jax.random.key({seed}), {draws}, reducers=REDUCERS,
                       batch_size=64, microbatch={micro}, checkpoint=ckpt)
assert again.resumed_draws == {draws} and again.num_batches == 0, again
np.savez(path, **{{f"{{leaf}}/{{k}}": np.asarray(a) for leaf, st in r.stats.items()
                   for k, a in st.items()}})
"""


@pytest.mark.slow
def test_two_processes_match_one(tmp_path, runs):
    """Multi-host path: jax.distributed with 2 processes x 2 CPU devices (gloo collectives)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = MULTI_PROCESS_SCRIPT.format(
        src=textwrap.dedent(STATISTIC_SRC), seed=KEY_SEED, draws=DRAWS, micro=MICRO
    )
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(port), str(pid), str(tmp_path / f"p{pid}.npz")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for pid in (0, 1)
    ]
    try:
        logs = [p.communicate(timeout=240) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (_, err) in zip(procs, logs, strict=True):
        assert p.returncode == 0, err[-3000:]
    ref = runs[8].stats
    for pid in (0, 1):  # every process ends with the whole (replicated) result
        got = np.load(tmp_path / f"p{pid}.npz")
        for leaf, st in ref.items():
            for k in (*EXACT, "samples"):
                np.testing.assert_array_equal(got[f"{leaf}/{k}"], st[k], err_msg=f"{pid} {k}")
            for k in MOMENTS:
                np.testing.assert_allclose(got[f"{leaf}/{k}"], st[k], rtol=1e-12, atol=0)


def test_args_are_traced_operands_one_compile():
    """Runs with the same statistic and args of the same shapes share one compiled function;
    the values of args change the numbers exactly as a closure would."""

    def stat(key, args):
        return {"x": jax.random.normal(key) * args["scale"] + args["shift"]}

    _batch._COMPILED.clear()
    key = jax.random.key(3)
    a = mc.monte_carlo(stat, key, 300, args={"scale": 2.0, "shift": 1.0}, microbatch=8)
    b = mc.monte_carlo(stat, key, 300, args={"scale": 3.0, "shift": -1.0}, microbatch=8)
    assert len(_batch._COMPILED) == 1
    assert b.compile_time == 0.0
    closure = mc.monte_carlo(
        lambda k: {"x": jax.random.normal(k) * 3.0 - 1.0}, key, 300, microbatch=8
    )
    np.testing.assert_allclose(b.stats["x"]["mean"], closure.stats["x"]["mean"], rtol=1e-6)
    np.testing.assert_allclose(
        (a.stats["x"]["mean"] - 1.0) / 2.0, (b.stats["x"]["mean"] + 1.0) / 3.0, rtol=1e-5
    )


def test_args_values_are_part_of_the_checkpoint_identity(tmp_path):
    def stat(key, args):
        return {"x": jax.random.normal(key) + args}

    ck = tmp_path / "c.ckpt"
    mc.monte_carlo(stat, jax.random.key(0), 64, args=np.float32(1.0), checkpoint=ck)
    with pytest.raises(ValueError, match="different run"):
        mc.monte_carlo(stat, jax.random.key(0), 64, args=np.float32(2.0), checkpoint=ck)


# ---- precision targets (TargetSE)


def test_target_stops_at_the_first_scheduled_count_that_meets_it():
    r = mc.monte_carlo(
        fb_statistic, FB_KEY, 10**5, targets=TARGET, reducers=FB_REDUCERS, batch_size=64
    )
    n = r.num_draws
    assert r.targets_met is True and _rse(r) <= TARGET.rel
    # n is on the schedule 50 * 2^k, and the previous count did not meet the target
    k = math.log2(n / TARGET.min_draws)
    assert k == int(k) and k >= 1, n
    before = mc.monte_carlo(fb_statistic, FB_KEY, n // 2, reducers=FB_REDUCERS, batch_size=64)
    assert _rse(before) > TARGET.rel
    # the draws made are the first n draws: the same as a fixed run of n
    fixed = mc.monte_carlo(fb_statistic, FB_KEY, n, reducers=FB_REDUCERS, batch_size=64)
    _assert_same_results(r, fixed, exact=False)  # the checks split the batches differently


def test_default_batch_is_no_bigger_than_the_first_checked_count():
    r = mc.monte_carlo(
        fb_statistic, FB_KEY, 10**6, targets=TARGET, reducers=FB_REDUCERS, microbatch=8
    )
    assert r.batch_size == 56  # 50 rounded up to a multiple of the microbatch
    assert (
        mc.monte_carlo(fb_statistic, FB_KEY, 1000, reducers=FB_REDUCERS, microbatch=8).batch_size
        == 1000
    )


def test_target_draws_do_not_depend_on_the_batch_size():
    a = mc.monte_carlo(
        fb_statistic, FB_KEY, 10**5, targets=TARGET, reducers=FB_REDUCERS, batch_size=48
    )
    b = mc.monte_carlo(
        fb_statistic, FB_KEY, 10**5, targets=TARGET, reducers=FB_REDUCERS, batch_size=256
    )
    assert a.num_draws == b.num_draws
    for name in ("min", "max", "count"):
        np.testing.assert_array_equal(a.stats["A"][name], b.stats["A"][name])
    np.testing.assert_allclose(a.stats["A"]["mean"], b.stats["A"]["mean"], rtol=1e-12)


def test_unreachable_target_stops_at_the_ceiling():
    t = mc.TargetSE("log_kappa", rel=1e-6, min_draws=64)
    r = mc.monte_carlo(fb_statistic, FB_KEY, 300, targets=t, reducers=FB_REDUCERS)
    assert r.num_draws == 300 and r.targets_met is False
    assert mc.monte_carlo(fb_statistic, FB_KEY, 300, reducers=FB_REDUCERS).targets_met is None


def test_absolute_and_several_targets():
    ts = [mc.TargetSE("log_kappa", abs=0.02, min_draws=40), mc.TargetSE("A", rel=0.02)]
    r = mc.monte_carlo(fb_statistic, FB_KEY, 10**5, targets=ts, reducers=FB_REDUCERS)
    assert r.targets_met
    assert r.stats["log_kappa"]["se"] <= 0.02
    assert r.stats["A"]["se"] <= 0.02 * r.stats["A"]["mean"]


def test_each_target_waits_for_its_own_min_draws():
    # the first target alone is met at its first check; the second may not be looked at before
    # 4096 draws, so the run cannot stop earlier
    early = mc.TargetSE("A", rel=0.5, min_draws=64)
    assert (
        mc.monte_carlo(fb_statistic, FB_KEY, 8192, targets=early, reducers=FB_REDUCERS).num_draws
        == 64
    )
    late = mc.TargetSE("log_kappa", rel=0.5, min_draws=4096)
    r = mc.monte_carlo(fb_statistic, FB_KEY, 8192, targets=[early, late], reducers=FB_REDUCERS)
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
        mc.monte_carlo(fb_statistic, FB_KEY, 100, targets=targets, reducers=FB_REDUCERS)


def test_target_needs_moments():
    with pytest.raises(ValueError, match="'A' needs a Moments reducer"):
        mc.monte_carlo(
            fb_statistic, FB_KEY, 100, targets=mc.TargetSE("A", rel=0.1), reducers=mc.Min()
        )


def test_schedule():
    t = mc.TargetSE("x", rel=0.1, min_draws=100)
    assert _driver._schedule((t,), 1000) == [100, 200, 400, 800, 1000]
    assert _driver._schedule((t,), 800) == [100, 200, 400, 800]
    assert _driver._schedule((t,), 50) == [50]
    assert _driver._schedule((), 1000) == [1000]


# ---- the result


def test_stats_are_numpy_arrays_with_one_count_and_the_result_reads_well(runs):
    r = runs[8]
    for leaf, st in r.stats.items():
        for k, a in st.items():
            assert type(a) is np.ndarray, (leaf, k, type(a))  # 0-d arrays for scalars
        assert "n" not in st and st["count"].shape == () and int(st["count"]) == DRAWS
    assert r.stats["A"]["mean"].shape == () and r.stats["lp"]["mean"].shape == (4,)
    lines = repr(r).splitlines()
    assert repr(r) == r.summary() and len(lines) == 1 + len(r.stats)
    assert f"{DRAWS} draws on 1 device(s)" in lines[0]
    name, rest = lines[1].strip().split(": ")
    mean, se = (float(x) for x in rest.split(" +- "))
    assert name == "A"
    np.testing.assert_allclose(mean, r.stats["A"]["mean"], rtol=1e-5)
    np.testing.assert_allclose(se, r.stats["A"]["se"], rtol=0.05)
    assert lines[3].strip().startswith("lp (4,): mean in [")
