"""Tests of jaxfb.theory moments: energy mean/variance and the Gram spectrum.

Exact code is checked against the definitions (explicit circulant matrices, float64 NumPy);
the closed forms against Monte Carlo with ``|estimate - truth| < K * SE`` and ``K = 5``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _support import circulant_gram, make_signals

import jaxfb
from jaxfb import theory

K = 5.0  # tolerance in standard errors, fixed in advance


# per-weight variance and excess kurtosis, from the definitions of the distributions
def weight_moments(init: str, J: int, T: int) -> tuple[float, float]:
    if init == "gaussian":
        return 1.0 / (J * T), 0.0
    if init == "uniform":  # U(-b, b): E w^4 / (E w^2)^2 = (b^4/5) / (b^2/3)^2 = 9/5
        return 1.0 / (J * T), 9.0 / 5.0 - 3.0
    if init == "rademacher":  # w^4 = sigma^4
        return 1.0 / (J * T), 1.0 - 3.0
    if init == "pytorch":  # U(-1/sqrt(T), 1/sqrt(T)): variance 1/(3T)
        return 1.0 / (3.0 * T), 9.0 / 5.0 - 3.0
    if init == "he_normal":
        return 2.0 / T, 0.0
    raise KeyError(init)


# ---------------------------------------------------------------------------------------------
# exact checks against the definitions


@pytest.mark.parametrize("init", ["gaussian", "uniform", "rademacher", "pytorch", "he_normal"])
def test_variance_and_mean_match_quadratic_form_definition(x64, init):
    N, J = 24, 3
    lengths = (1, 5, 12, 13, 24)  # 2T - 1 > N for the last three
    sigs = make_signals(N)
    X = np.stack(list(sigs.values()))
    got_var = np.asarray(theory.energy_variance(X, J, lengths, init=init))
    got_mean = np.asarray(theory.energy_mean(X, J, lengths, init=init))
    for i, (name, x) in enumerate(sigs.items()):
        for j, T in enumerate(lengths):
            Q = circulant_gram(x, T)
            s2, g2 = weight_moments(init, J, T)
            var = J * (2 * s2**2 * np.trace(Q @ Q) + g2 * s2**2 * np.sum(np.diag(Q) ** 2))
            mean = J * s2 * np.trace(Q)
            scale = J * 2 * s2**2 * np.trace(Q @ Q)  # Rademacher on an impulse cancels to 0
            msg = f"{name} T={T}"
            atol = 1e-14 * scale
            np.testing.assert_allclose(got_var[i, j], var, rtol=1e-12, atol=atol, err_msg=msg)
            np.testing.assert_allclose(got_mean[i, j], mean, rtol=1e-12, err_msg=msg)


def test_impulse_and_alternating_closed_forms(x64):
    N = 128
    x = make_signals(N)
    X = np.stack([x["impulse"], x["alternating"]])
    lengths = np.array([1, 2, 7, 64, 127, 128])
    for J in (1, 10, 40):
        var = np.asarray(theory.energy_variance(X, J, tuple(lengths)))
        np.testing.assert_allclose(var[0], 2.0 / (J * lengths), rtol=1e-12)
        np.testing.assert_allclose(var[1], np.full(lengths.shape, 2.0 / J), rtol=1e-12)
        # uniform weights: (2 + g2)/(J T) = 0.8/(J T) and 2/J - 1.2/(J T)
        var_u = np.asarray(theory.energy_variance(X, J, tuple(lengths), init="uniform"))
        np.testing.assert_allclose(var_u[0], 0.8 / (J * lengths), rtol=1e-12)
        np.testing.assert_allclose(var_u[1], 2.0 / J - 1.2 / (J * lengths), rtol=1e-12)
        mean = np.asarray(theory.energy_mean(X, J, tuple(lengths)))
        np.testing.assert_allclose(mean, np.ones((2, lengths.size)), rtol=1e-14)


def test_mean_default_is_signal_energy(x64):
    x = np.arange(1.0, 6.0)
    np.testing.assert_allclose(float(theory.energy_mean(x)), np.sum(x**2), rtol=1e-15)
    np.testing.assert_allclose(
        np.asarray(theory.energy_mean(x, 4, [1, 3, 5])), np.full(3, np.sum(x**2)), rtol=1e-14
    )
    # PyTorch's raw variance 1/(3T): E = J T / (3 T) ||x||^2 = J/3 ||x||^2
    np.testing.assert_allclose(
        float(theory.energy_mean(x, 6, 4, init="pytorch")), 2.0 * np.sum(x**2), rtol=1e-14
    )


def test_gram_eigenvalues_match_explicit_circulant(x64):
    N = 32
    sigs = make_signals(N)
    X = np.stack(list(sigs.values()))
    for T in (1, 4, 17, 32):
        lam = np.asarray(theory.gram_eigenvalues(X, T))
        assert lam.shape == (len(sigs), T)
        for got, (name, x) in zip(lam, sigs.items(), strict=True):
            Q = circulant_gram(x, T)
            ref = np.linalg.eigvalsh(Q)
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * ref.max(), err_msg=name)
            # trace identities used by the bounds
            np.testing.assert_allclose(got.sum(), T * np.sum(x**2), rtol=1e-12)
            np.testing.assert_allclose(np.sum(got**2), np.trace(Q @ Q), rtol=1e-12)


def test_gram_eigenvalues_float32_default():
    x = make_signals(64)["decaying_tone"]
    lam = theory.gram_eigenvalues(jnp.asarray(x, jnp.float32), 16)
    assert lam.dtype == jnp.float32
    ref = np.linalg.eigvalsh(circulant_gram(x, 16))
    np.testing.assert_allclose(np.asarray(lam), ref, atol=1e-5 * ref.max())


# ---------------------------------------------------------------------------------------------
# vectorisation, jit, recompiles


def test_vectorised_over_lengths_and_signals(x64):
    sigs = make_signals(64)
    X = np.stack(list(sigs.values())).reshape(5, 1, 64)
    lengths = [1, 8, 33, 64]
    var = np.asarray(theory.energy_variance(X, 7, lengths))
    assert var.shape == (5, 1, 4)
    assert theory.energy_variance(X, 7, 33).shape == (5, 1)
    np.testing.assert_allclose(np.asarray(theory.energy_variance(X, 7, 33)), var[..., 2])
    for i, x in enumerate(sigs.values()):  # batch rows equal single-signal calls
        np.testing.assert_allclose(var[i, 0], np.asarray(theory.energy_variance(x, 7, lengths)))
    lam = np.asarray(theory.gram_eigenvalues(X, 8))
    assert lam.shape == (5, 1, 8)
    np.testing.assert_allclose(lam[2, 0], np.asarray(theory.gram_eigenvalues(X[2, 0], 8)))


def test_vmap_and_jit_match_and_no_recompile(x64):
    from jaxfb.theory import _moments

    X = jnp.asarray(np.stack(list(make_signals(64).values())))
    direct = theory.energy_variance(X, 5, (4, 16))
    vm = jax.vmap(lambda x: theory.energy_variance(x, 5, (4, 16)))(X)
    jt = jax.jit(lambda x: theory.energy_variance(x, 5, (4, 16)))(X)
    np.testing.assert_allclose(np.asarray(vm), np.asarray(direct), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(jt), np.asarray(direct), rtol=1e-14)
    theory.energy_variance(X, 5, (4, 16))
    size = _moments._variance_kernel._cache_size()
    theory.energy_variance(X + 1.0, 5, (4, 16))
    theory.energy_variance(X, 9, (4, 16))  # J is not a compile-time constant
    assert _moments._variance_kernel._cache_size() == size


# ---------------------------------------------------------------------------------------------
# Monte Carlo


def _mc_energies(key, signals: np.ndarray, J: int, T: int, draws: int, init: str):
    w = jaxfb.random_filterbank(key, J, T, batch_shape=(draws, 1), init=init)
    return np.asarray(jaxfb.energy(w, jnp.asarray(signals)))  # (draws, S)


def _mean_var_z(e: np.ndarray, mean: np.ndarray, var: np.ndarray):
    """z-scores of the sample mean and sample variance against the truths (per column)."""
    B = e.shape[0]
    m = e.mean(axis=0)
    c = e - m
    s2 = (c**2).sum(axis=0) / (B - 1)
    m4 = (c**4).mean(axis=0)
    se_mean = np.sqrt(s2 / B)
    se_var = np.sqrt((m4 - s2**2) / B)  # delta-method SE of the sample variance
    return (m - mean) / se_mean, (s2 - var) / se_var, se_var


def test_energy_mean_and_variance_monte_carlo(x64):
    N, J, T, B = 64, 8, 32, 10000
    sigs = make_signals(N)
    X = np.stack(list(sigs.values()))
    e = _mc_energies(jax.random.key(1), X, J, T, B, "gaussian")
    z_mean, z_var, _ = _mean_var_z(
        e, np.asarray(theory.energy_mean(X)), np.asarray(theory.energy_variance(X, J, T))
    )
    assert np.all(np.abs(z_mean) < K), dict(zip(sigs, z_mean, strict=True))
    assert np.all(np.abs(z_var) < K), dict(zip(sigs, z_var, strict=True))


@pytest.mark.parametrize(
    "init",
    [
        "uniform",
        pytest.param("rademacher", marks=pytest.mark.slow),
        pytest.param("pytorch", marks=pytest.mark.slow),
    ],
)
def test_kurtosis_term_monte_carlo(x64, init):
    """The fourth-cumulant term is needed, and the Gaussian formula is rejected.

    Power: with ``B = 10000`` draws the SE of the sample variance is about
    ``Var * sqrt((kurt - 1) / B) ~ 1.5-4%`` of ``Var``, while the kurtosis term
    ``g2 J sigma^4 T R(0)^2`` is 60% (uniform) to 100% (Rademacher) of the Gaussian variance for
    the impulse and white noise, 19-30% for the decaying tone (``J = 4``, ``T = 16``): a shift of
    about 100 SE (impulse), 65 SE (noise) and 14 SE (tone) between the two formulas. The test
    asserts this separation (> 2K SE) before relying on it, so it cannot pass by lack of power,
    and it asserts that the Gaussian-only formula is rejected at K SE.
    """
    N, J, T, B = 64, 4, 16, 10000
    sigs = make_signals(N)
    names = ["impulse", "white_noise", "decaying_tone"]
    X = np.stack([sigs[k] for k in names])
    e = _mc_energies(jax.random.key(7), X, J, T, B, init)
    var = np.asarray(theory.energy_variance(X, J, T, init=init))
    mean = np.asarray(theory.energy_mean(X, J, T, init=init))
    s2, _ = weight_moments(init, J, T)
    var_gauss_formula = np.array(
        [2 * J * s2**2 * np.trace(circulant_gram(x, T) @ circulant_gram(x, T)) for x in X]
    )
    # Rademacher weights on an impulse: the energy is the constant sum of w^2 (variance 0)
    const = var == 0
    assert list(np.flatnonzero(const)) == ([0] if init == "rademacher" else [])
    assert np.all(np.abs(e[:, const] - mean[const][None, :]) <= 1e-12 * mean[const])
    e, mean, var = e[:, ~const], mean[~const], var[~const]
    var_gauss_formula = var_gauss_formula[~const]
    z_mean, z_var, se_var = _mean_var_z(e, mean, var)
    assert np.all(np.abs(var - var_gauss_formula) > 2 * K * se_var)  # power of the test
    assert np.all(np.abs(z_mean) < K), z_mean
    assert np.all(np.abs(z_var) < K), z_var
    z_wrong = (e.var(axis=0, ddof=1) - var_gauss_formula) / se_var
    assert np.all(np.abs(z_wrong) > K)


# ---------------------------------------------------------------------------------------------
# errors


def test_errors_name_the_argument():
    x = np.ones(16)
    with pytest.raises(ValueError, match="length"):
        theory.energy_variance(x, 4, 17)
    with pytest.raises(ValueError, match=r"length\[1\]"):
        theory.energy_variance(x, 4, [4, 32])
    with pytest.raises(ValueError, match="length"):
        theory.energy_variance(x, 4, [])
    with pytest.raises(ValueError, match="num_filters"):
        theory.energy_variance(x, 0, 4)
    with pytest.raises(TypeError, match="length"):
        theory.energy_variance(x, 4, 4.5)
    with pytest.raises(ValueError, match="x"):
        theory.energy_variance(np.array([1.0, np.nan, 0.0]), 4, 2)
    with pytest.raises(ValueError, match=r"x must have shape"):
        theory.energy_variance(np.float64(1.0), 4, 1)
    with pytest.raises(ValueError, match="init"):
        theory.energy_variance(x, 4, 4, init="xavier")
    with pytest.raises(ValueError, match="num_filters and length"):
        theory.energy_mean(x, init="pytorch")
    with pytest.raises(ValueError, match="length"):
        theory.gram_eigenvalues(x, 17)
    with pytest.raises(TypeError, match="length"):
        theory.gram_eigenvalues(x, [2, 3])
    # a zero signal has a well-defined variance (zero)
    assert float(theory.energy_variance(np.zeros(8), 2, 4)) == 0.0


@pytest.mark.parametrize("init", ["gaussian", "uniform", "rademacher"])
def test_energy_variance_bound_is_the_largest_variance_and_the_alternating_sign_attains_it(init):
    """The bound against the variance of every test signal, from the definition (float64 NumPy):
    ``Var = 2 J s^4 tr(Q_T^2) + g2 J s^4 sum_k Q_kk^2`` with ``s^2 = 1/(J T)``."""
    J, n, lengths = 6, 64, [1, 2, 7, 32, 64]
    g2 = jaxfb.INITS[init].excess_kurtosis
    bound = theory.energy_variance_bound(J, lengths, init=init)
    for T, b in zip(lengths, bound, strict=True):
        s4 = 1.0 / (J * T) ** 2
        assert b == pytest.approx(J * s4 * T * (2 * T + g2), rel=1e-12)
        for name, x in make_signals(n).items():
            Q = circulant_gram(x, T)
            var = 2 * J * s4 * np.trace(Q @ Q) + g2 * J * s4 * np.sum(np.diag(Q) ** 2)
            assert var <= b * (1 + 1e-12), (name, T)
            if name == "alternating":
                assert var == pytest.approx(b, rel=1e-12)
    assert theory.energy_variance_bound(J, 64) == pytest.approx(2 / J, rel=1e-12)
    with pytest.raises(ValueError, match="length"):
        theory.energy_variance_bound(J, 0)
