"""A small frame-bound statistic and result checks shared by the engine's test modules (on
``sys.path`` through pytest's ``pythonpath``, like ``_support``)."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxfb
from jaxfb import montecarlo as mc


def fb_statistic(key):
    """Frame bounds of 6 Gaussian filters of 8 taps at ``n = 32``: ``A`` and ``log kappa``."""
    A, B = jaxfb.frame_bounds(jaxfb.random_filterbank(key, 6, 8), 32)
    return {"A": A, "log_kappa": jnp.log(B / A)}


FB_KEY = jax.random.key(3)
FB_REDUCERS = {"*": (mc.Count(), mc.Moments(), mc.Min(), mc.Max())}
TARGET = mc.TargetSE("log_kappa", rel=0.02, min_draws=50)


def rse(r):
    """Relative standard error of the mean of ``log_kappa`` in a result."""
    st = r.stats["log_kappa"]
    return float(st["se"] / abs(st["mean"]))


def assert_same_results(a, b, *, exact=True):
    """Equal results: bitwise, or (``exact=False``, other batch boundaries) bitwise for the exact
    reducers and to 1e-12 for the float64 moments, whose merge order then differs."""
    assert a.num_draws == b.num_draws
    for leaf in a.stats:
        for name in a.stats[leaf]:
            x, y = a.stats[leaf][name], b.stats[leaf][name]
            if exact or name in ("min", "max", "count"):
                np.testing.assert_array_equal(x, y, f"{leaf}.{name}")
            else:
                np.testing.assert_allclose(x, y, rtol=1e-12, err_msg=f"{leaf}.{name}")
