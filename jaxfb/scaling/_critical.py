r"""The practical rule: the fewest filters ``J*(T; kappa0)`` that keep ``E[kappa] <= kappa0``.

``J*`` is read off a sweep table (for each ``T``, the first crossing of ``kappa0`` as ``J``
grows, interpolated between grid points), then fitted as

.. math:: J^* = a + b\log T \qquad\text{(the scaling law's prediction)}

against the Box-Cox alternative :math:`J^* = a + b\,(T^\gamma - 1)/\gamma`, which is a power law
:math:`a' + b' T^\gamma` for :math:`\gamma \ne 0` and contains the logarithmic rule at
:math:`\gamma = 0`; the nested pair is compared by a likelihood-ratio test and by AIC.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from scipy import stats

from ._fit import FitResult, fit_model
from ._models import Model

__all__ = [
    "CriticalFilters",
    "RuleComparison",
    "critical_filters",
    "fit_critical_rule",
    "log_linearity_test",
]


class CriticalFilters(NamedTuple):
    """``J*(T; kappa0)`` read off a table, one entry per distinct ``T`` (sorted)."""

    length: np.ndarray
    """``(m,)`` filter lengths ``T``."""
    num_filters: np.ndarray
    """``(m,)`` ``J*``; NaN where the table does not bracket ``kappa0`` (see ``status``)."""
    se: np.ndarray
    """``(m,)`` standard error of ``J*`` from the SEs of the two bracketing means (NaN without)."""
    status: np.ndarray
    """``(m,)`` ``"ok"``; ``"below_grid"`` (``E[kappa] <= kappa0`` already at the smallest ``J``);
    ``"above_grid"`` (never reached); ``"nonfinite"`` (a bracketing mean is infinite)."""
    kappa0: float


def critical_filters(num_filters, length, kappa, kappa0: float, *, se=None) -> CriticalFilters:
    r"""Read ``J*(T; kappa0)``, the fewest filters with ``E[kappa] <= kappa0``, off a sweep table.

    For each ``T``, with the points sorted by ``J``, the first grid point ``J_{k+1}`` with
    ``kappa <= kappa0`` and its predecessor ``J_k`` bracket the crossing; ``J*`` interpolates
    linearly in ``(log J, log log kappa)``, the coordinates in which the small-``u`` law
    :math:`\log\kappa \propto J^{-1/2}` is a straight line:

    .. math:: \log J^* = \log J_k + t\,(\log J_{k+1} - \log J_k),\qquad
              t = \frac{g_0 - g_k}{g_{k+1} - g_k},\quad g = \log\log\kappa.

    The standard error propagates the SEs ``s_k`` of the two means (delta method):
    :math:`\mathrm{Var}\log J^* = \Delta^2[(1-t)^2\sigma_k^2 + t^2\sigma_{k+1}^2]/(g_{k+1}-g_k)^2`
    with :math:`\sigma = s/(\kappa\log\kappa)` and :math:`\Delta = \log J_{k+1} - \log J_k`.

    Args:
        num_filters: ``(n,)`` ``J`` of each table row.
        length: ``(n,)`` ``T`` of each row.
        kappa: ``(n,)`` mean condition number ``E[kappa]`` (``inf`` allowed: ``J <= 2``).
        kappa0: the threshold, ``> 1``.
        se: optional ``(n,)`` standard errors of ``kappa``.

    Returns:
        :class:`CriticalFilters`, one entry per distinct ``T`` in increasing order.

    Examples:
        >>> import numpy as np
        >>> from jaxfb import scaling
        >>> J = np.array([4.0, 8, 16, 32, 4, 8, 16, 32])
        >>> T = np.array([16.0, 16, 16, 16, 256, 256, 256, 256])
        >>> kappa = np.exp(np.sqrt(np.log(T) / J))  # E[kappa] = kappa0 at J = log T / log(kappa0)^2
        >>> crit = scaling.critical_filters(J, T, kappa, 2.0)
        >>> np.round(crit.num_filters, 3).tolist()
        [5.771, 11.542]
    """
    J = np.asarray(num_filters, np.float64).reshape(-1)
    T = np.asarray(length, np.float64).reshape(-1)
    K = np.asarray(kappa, np.float64).reshape(-1)
    if not (J.shape == T.shape == K.shape):
        raise ValueError(
            "num_filters, length and kappa must have equal shapes, "
            f"got {J.shape}, {T.shape}, {K.shape}"
        )
    S = None if se is None else np.asarray(se, np.float64).reshape(-1)
    if S is not None and S.shape != K.shape:
        raise ValueError(f"se must have the shape of kappa {K.shape}, got {S.shape}")
    kappa0 = float(kappa0)
    if not kappa0 > 1:
        raise ValueError(f"kappa0 must be > 1, got {kappa0}")
    if np.any(~(J >= 1)):
        raise ValueError(f"num_filters must be >= 1, got {J[~(J >= 1)][0]}")
    if np.any(np.isnan(K)):
        raise ValueError("kappa has NaN entries")
    Ts = np.unique(T)
    out_j = np.full(Ts.shape, np.nan)
    out_se = np.full(Ts.shape, np.nan)
    status = np.empty(Ts.shape, dtype=object)
    g0 = math.log(math.log(kappa0))
    for i, t in enumerate(Ts):
        rows = np.flatnonzero(T == t)
        rows = rows[np.argsort(J[rows], kind="stable")]
        js, ks = J[rows], K[rows]
        if np.unique(js).size != js.size:
            raise ValueError(f"duplicate J values at T = {t:g}: filter the table first")
        below = np.flatnonzero(ks <= kappa0)
        if below.size == 0:
            status[i] = "above_grid"
            continue
        k1 = below[0]
        if k1 == 0:
            status[i] = "below_grid"
            continue
        k0 = k1 - 1
        if not (np.isfinite(ks[k0]) and ks[k1] > 1):
            status[i] = "nonfinite"
            continue
        x0, x1 = math.log(js[k0]), math.log(js[k1])
        ga, gb = math.log(math.log(ks[k0])), math.log(math.log(ks[k1]))
        frac = (g0 - ga) / (gb - ga)
        out_j[i] = math.exp(x0 + frac * (x1 - x0))
        status[i] = "ok"
        if S is not None:
            sa = S[rows[k0]] / (ks[k0] * math.log(ks[k0]))
            sb = S[rows[k1]] / (ks[k1] * math.log(ks[k1]))
            var_log = (x1 - x0) ** 2 * ((1 - frac) ** 2 * sa**2 + frac**2 * sb**2) / (gb - ga) ** 2
            out_se[i] = out_j[i] * math.sqrt(var_log)
    return CriticalFilters(Ts, out_j, out_se, status.astype(str), kappa0)


# --- the rule models: J* as a function of T -------------------------------------------------


def _rule_log(params, T, floor=0.0):
    return params[0] + params[1] * jnp.log(T)


def _boxcox(gamma, logT):
    """``(T^gamma - 1) / gamma``, continuous (and differentiable) through ``gamma = 0``."""
    gl = gamma * logT
    small = jnp.abs(gl) < 1e-4
    safe = jnp.where(small, 1.0, gamma)
    series = logT * (1 + gl / 2 + gl * gl / 6)
    return jnp.where(small, series, jnp.expm1(gl) / safe)


def _rule_power(params, T, floor=0.0):
    return params[0] + params[1] * _boxcox(params[2], jnp.log(T))


def _wls_line(T, y):
    X = np.stack([np.ones_like(T), np.log(T)], axis=-1)
    return np.linalg.lstsq(X, y, rcond=None)[0]


RULE_LOG = Model(
    "rule_log",
    ("a", "b"),
    _rule_log,
    lambda T, y: _wls_line(T, y),
    "J* = a + b log T",
    "logarithmic rule (the scaling law's prediction)",
    covariates=("T",),
    target="J_star",
)
RULE_POWER = Model(
    "rule_power",
    ("a", "b", "gamma"),
    _rule_power,
    lambda T, y: np.array([*_wls_line(T, y), 0.0]),
    "J* = a + b (T^gamma - 1) / gamma   (gamma = 0: a + b log T)",
    "power-law alternative in Box-Cox form (nests the logarithmic rule at gamma = 0)",
    covariates=("T",),
    target="J_star",
)
RULES = {"log": RULE_LOG, "power": RULE_POWER}


def _rule_data(crit_or_T, J_star, se):
    if isinstance(crit_or_T, CriticalFilters):
        if J_star is not None or se is not None:
            raise TypeError("pass either a CriticalFilters or (length, J_star, se), not both")
        T, J_star, se = crit_or_T.length, crit_or_T.num_filters, crit_or_T.se
    else:
        T = crit_or_T
        if J_star is None or se is None:
            raise TypeError("length, J_star and se are all required")
    T, J_star, se = (np.asarray(a, np.float64).reshape(-1) for a in (T, J_star, se))
    if not T.shape == J_star.shape == se.shape:
        raise ValueError(
            "length, J_star and se must have equal shapes, "
            f"got {T.shape}, {J_star.shape}, {se.shape}"
        )
    # unusable entries are excluded with se = inf, keeping the shape (one compile per table)
    keep = np.isfinite(J_star) & np.isfinite(se) & (se > 0)
    return T, np.where(keep, J_star, 0.0), np.where(keep, se, np.inf)


def fit_critical_rule(
    length, J_star=None, se=None, *, form: str = "log", absolute_sigma: bool = True, level=0.95
) -> FitResult:
    r"""Fit ``J*(T)`` by weighted least squares: ``"log"`` (:math:`a + b\log T`) or ``"power"``.

    ``"power"`` is the Box-Cox form :math:`a + b\,(T^\gamma - 1)/\gamma`, i.e. a power law
    :math:`a' + b'T^\gamma` (``b' = b/gamma``) that reduces to the logarithmic rule at
    ``gamma = 0``. Entries with a NaN ``J*`` or SE (not bracketed by the table) are excluded
    (``se = inf`` internally, which keeps the shape and so the compiled solver).

    Args:
        length: ``(m,)`` ``T``, or a :class:`CriticalFilters` (then omit ``J_star`` and ``se``).
        J_star: ``(m,)`` critical numbers of filters.
        se: ``(m,)`` their standard errors.
        form: ``"log"`` or ``"power"``.
        absolute_sigma, level: see :func:`fit_model`. The SEs of ``J*`` carry the Monte Carlo
            error only, not the interpolation error between grid points; use
            ``absolute_sigma=False`` when ``reduced_chi2`` is well above 1.

    Returns:
        :class:`FitResult`; for ``"log"``, ``params = (a, b)`` and ``ci[1]`` is the interval of
        the slope ``b`` (filters per e-fold of ``T``).

    Examples:
        >>> import numpy as np
        >>> from jaxfb import scaling
        >>> T = np.array([8.0, 16, 32, 64, 128, 256, 512, 1024])
        >>> rule = scaling.fit_critical_rule(T, 3 + 5 * np.log(T), np.full(8, 0.1))
        >>> np.round(rule.params, 3).tolist()
        [3.0, 5.0]
    """
    if form not in RULES:
        raise ValueError(f"form must be one of {sorted(RULES)}, got {form!r}")
    T, y, s = _rule_data(length, J_star, se)
    model = RULES[form]
    used = int(np.isfinite(s).sum())
    if used < model.num_params:
        raise ValueError(
            f"need at least {model.num_params} bracketed J* values for form={form!r}, got {used}"
        )
    return fit_model(model, (T,), y, s, absolute_sigma=absolute_sigma, level=level)


class RuleComparison(NamedTuple):
    """Logarithmic rule against the power-law alternative (nested at ``gamma = 0``)."""

    log: FitResult
    power: FitResult
    lr_statistic: float
    """``chi2_log - chi2_power``, asymptotically ``chi2_1`` if the rule is logarithmic."""
    p_value: float
    """``P(chi2_1 > lr_statistic)``: small values reject the logarithmic rule."""
    delta_aic: float
    """``AIC_power - AIC_log``: positive favours the logarithmic rule."""


def log_linearity_test(
    length, J_star=None, se=None, *, absolute_sigma: bool = True
) -> RuleComparison:
    r"""Test ``J* = a + b log T`` against ``a + b (T^gamma - 1)/gamma`` (likelihood ratio, AIC).

    With Gaussian errors of known variance the likelihood-ratio statistic is the drop in chi-square,
    :math:`\Lambda = \chi^2_{\log} - \chi^2_{\rm power} \sim \chi^2_1` under the logarithmic rule
    (Wilks; ``gamma = 0`` is interior to the alternative). With ``absolute_sigma=False`` the errors
    are scaled by the alternative's reduced chi-square and :math:`\Lambda/\hat\sigma^2` is
    referred to an F(1, m - 3) distribution.

    Args:
        length, J_star, se: as in :func:`fit_critical_rule`.
        absolute_sigma: take the SEs as exact (default).

    Returns:
        :class:`RuleComparison`.

    Examples:
        >>> import numpy as np
        >>> from jaxfb import scaling
        >>> T = np.array([8.0, 16, 32, 64, 128, 256, 512, 1024])
        >>> test = scaling.log_linearity_test(T, 2 + 4 * np.log(T), np.full(8, 0.2))
        >>> bool(test.p_value > 0.05 and test.delta_aic > 0)
        True
    """
    lin = fit_critical_rule(length, J_star, se, form="log", absolute_sigma=absolute_sigma)
    powr = fit_critical_rule(length, J_star, se, form="power", absolute_sigma=absolute_sigma)
    lr = max(lin.chi2 - powr.chi2, 0.0)
    if absolute_sigma:
        p = float(stats.chi2.sf(lr, 1))
    else:
        dof = powr.dof
        p = float(stats.f.sf(lr / (powr.chi2 / dof), 1, dof)) if dof > 0 else math.nan
    return RuleComparison(lin, powr, lr, p, powr.aic - lin.aic)
