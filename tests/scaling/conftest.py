"""Shared data of the jaxfb.scaling tests: one grid, known laws, noisy Monte Carlo-like data.

Every fit test runs on the same 54-point grid (J = 4..128, T = 4..1024) so that the jitted
solvers compile once per model for the whole session. Tolerances are fixed in advance:
estimates within K = 5 standard errors of the truth; coverage counts within 4 binomial SDs.
"""

from __future__ import annotations

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxfb import scaling
from jaxfb.scaling._models import get_model

K = 5.0  # |estimate - truth| <= K * SE

GRID_J, GRID_T = np.meshgrid([4.0, 8, 16, 32, 64, 128], 2.0 ** np.arange(2, 11), indexing="ij")
J = GRID_J.ravel()
T = GRID_T.ravel()

TRUTH = {
    "paper": np.array([0.7]),
    "poly": np.array([2.1, 0.28, 0.03]),
    "extreme": np.array([2.0, -1.1, 0.68, 0.4]),
    "collapse": np.array([0.63, 0.06, 0.77]),
    "orderstat": np.array([0.5, 0.5]),
}

# points with N = T, N = 256 and N = 1024 (T <= N): the law's effective lengths come from
# jaxfb.theory's counts wherever T < N (a quadrature per point, cached per (J, T, N))
NJ, NT, NN = (
    np.array(x, np.float64)
    for x in zip(
        *[
            (j, t, n)
            for j in (4, 16, 64)
            for t in (4, 16, 64, 256)
            for n in (t, 256, 1024)
            if t <= n and not (n == 256 and t == 256)
        ],
        strict=True,
    )
)
TRUTH_N = np.array([0.56, 0.46])


def law(model: str, params, *covariates) -> np.ndarray:
    """The registered law ``model`` at ``params``, evaluated in float64 at the covariates."""
    m = get_model(model)
    with jax.enable_x64(True):
        feats = m.features(*(jnp.asarray(np.asarray(x, np.float64)) for x in covariates))
        return np.asarray(m.fn(jnp.asarray(params, jnp.float64), *feats), np.float64)


def truth_y(model: str, params=None) -> np.ndarray:
    return law(model, TRUTH[model] if params is None else params, J, T)


def noisy(y0: np.ndarray, seed: int, rel: float = 0.005):
    """Monte Carlo-like data: ``se = rel * (1 + y)``, ``y = y0 + se * N(0, 1)``."""
    se = rel * (1 + y0)
    rng = np.random.default_rng(seed)
    return y0 + se * rng.standard_normal(y0.shape), se


def within_k_se(res, truth):
    z = np.abs(np.asarray(res.params) - truth) / np.asarray(res.stderr)
    assert np.all(z < K), f"{res.model.name}: |est - truth| / SE = {z} (est {res.params})"
    # the test has power: intervals are narrow compared with the parameters
    assert np.all(res.stderr < 0.25 * np.maximum(np.abs(truth), 0.2)), res.stderr


@pytest.fixture(scope="session")
def data():
    """The helpers and constants above, as one namespace."""
    return SimpleNamespace(
        K=K,
        J=J,
        T=T,
        TRUTH=TRUTH,
        NJ=NJ,
        NT=NT,
        NN=NN,
        TRUTH_N=TRUTH_N,
        law=law,
        truth_y=truth_y,
        noisy=noisy,
        within_k_se=within_k_se,
    )


@pytest.fixture(scope="session")
def fit_n():
    """``orderstat_n`` fitted to noisy data from itself at ``TRUTH_N`` (one compile per session):
    ``(FitResult, y, se)``."""
    y, se = noisy(law("orderstat_n", TRUTH_N, NJ, NT, NN), seed=20)
    return scaling.fit(NJ, NT, y, se, model="orderstat_n", n=NN), y, se
