r"""Scaling-law models for the condition number of a random filterbank, and their registry.

A :class:`Model` predicts a target (for the laws: :math:`\mathbb E[\log\kappa]`) from covariates
(for the laws: the number of filters ``J`` and the filter length ``T``) and a parameter vector.
The built-in laws (Haider et al. 2024, Sec. III, and jaxfb's refinements), with
:math:`u = \log T / J`:

- ``"paper"``: :math:`\log\frac{1 + c\sqrt u}{1 - c\sqrt u}` (the paper's :math:`\tilde\kappa`
  has ``c = 2``);
- ``"extreme"``: :math:`\log\frac{1 + a_B\sqrt{\log(b_B T)/J}}{1 - a_A\sqrt{\log(b_A T)/J}}`,
  the extreme-value picture: ``B`` and ``A`` are the max and min of ``b T`` independent
  frequencies of variance :math:`\propto 1/J`;
- ``"poly"``: :math:`a_1\sqrt u + a_2 u + a_3 u^{3/2}` (linear in its parameters);
- ``"orderstat"``: :math:`\mathbb E[\log\max] - \mathbb E[\log\min]` of ``m = b (T - 2)``
  independent :math:`\mathrm{Gamma}(J, 1/J)` values (the interior frequencies of ``LP / E LP``)
  and two :math:`\mathrm{Gamma}(J/2, 2/J)` (``k = 0, N/2``), with separate counts ``b_B``,
  ``b_A`` for the max and the min: exact at ``b_B = b_A = 1/2`` when ``T = N`` (``b`` is the
  fraction of the ``T - 2`` non-end frequencies that count as independent; ``T = 2`` has none
  whatever ``b``, so the law is smooth in ``b`` at every ``T >= 2``);
- ``"orderstat_n"``: ``"orderstat"`` for any signal length ``N >= T`` (covariates ``J, T, N``):
  ``m = b (L - 2)`` with the effective length :math:`L = 2(m^{\rm th} + 1)` from the interior
  counts :math:`m^{\rm th}` of :func:`jaxfb.theory.effective_counts` (``L = T`` when ``T = N``,
  so it reduces to ``"orderstat"``; ``b_B = b_A = 1/2`` uses the counts of jaxfb's theory
  predictor at the medians of ``A`` and ``B``, fixed, where the predictor lets them vary with
  the level, docs/theory.md);
- ``"collapse"``: ``"extreme"`` with one amplitude and one count, in the collapse variable
  :math:`v = \log(bT)/J^\beta` with :math:`\beta` free (``beta = 1`` tests the paper's
  variable ``log T / J``).

Forms with a pole (``1 - q = 0``) predict ``+inf`` beyond it. While fitting, the predictions are
continued smoothly past a margin ``floor`` (see :func:`log_ratio`), which acts as a steep penalty
and keeps every fit on the feasible side of the pole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .. import theory

__all__ = [
    "LAWS",
    "MODELS",
    "Model",
    "effective_lengths",
    "get_model",
    "log_ratio",
    "neg_log1m",
    "register_model",
]


@dataclass(frozen=True, eq=False)
class Model:
    r"""A parametric model ``target = fn(params, *covariates)`` fitted by weighted least squares.

    Instances hash by identity, so a model is a valid static argument of a jitted function: the fit
    compiles once per model and data shape.

    Attributes:
        name: registry name.
        param_names: names of the ``k`` parameters, in the order of ``params``.
        fn: ``fn(params, *features, floor=0.0) -> prediction``, where ``features =
            prepare(*covariates)`` (by default the covariates themselves, each of shape
            ``(n,)``). ``params`` has shape ``(k,)``; the prediction has shape ``(n,)``. It must
            be a jit-traceable JAX function. ``floor`` (a static Python float) is the margin below
            which a pole is continued smoothly while fitting (``0.0``: exact, ``+inf`` beyond
            the pole); forms without a pole ignore it.
        init: ``init(*covariates, y) -> params0``, a NumPy starting point computed from the data
            (NumPy ``float64`` arrays). It must be a feasible point (finite predictions).
        formula: the formula, in plain text.
        description: one line for tables and ``--help``.
        covariates: names of the covariates, ``("J", "T")`` for the scaling laws.
        target: what the prediction is (``"log_kappa"``: :math:`\mathbb E[\log\kappa]`).
        prepare: ``prepare(*covariates, *host_outputs) -> tuple of arrays``, parameter-free
            work done once per data set, outside the optimiser (e.g. special functions on a
            quadrature grid); jit-traceable. ``None`` passes its arguments through.
        host: ``host(*covariates) -> tuple of (n,) arrays``, parameter-free work that is not
            JAX code (NumPy/SciPy, e.g. :mod:`jaxfb.theory`'s quadrature), run eagerly on NumPy
            ``float64`` covariates before ``prepare``, which receives its outputs after the
            covariates. ``None``: no host step.
        check: ``check(*covariates)``, run on concrete NumPy ``float64`` covariates before a
            fit or a prediction; raises ``ValueError`` naming the covariate for values outside
            the model's domain (e.g. ``T > N``). ``None``: no constraint beyond finiteness.
    """

    name: str
    param_names: tuple[str, ...]
    fn: Callable[..., jax.Array] = field(repr=False)
    init: Callable[..., np.ndarray] = field(repr=False)
    formula: str = ""
    description: str = ""
    covariates: tuple[str, ...] = ("J", "T")
    target: str = "log_kappa"
    prepare: Callable[..., tuple] | None = field(default=None, repr=False)
    check: Callable[..., None] | None = field(default=None, repr=False)
    host: Callable[..., tuple] | None = field(default=None, repr=False)

    @property
    def num_params(self) -> int:
        return len(self.param_names)

    def host_inputs(self, *covariates) -> tuple:
        """``host(*covariates)`` as arrays of the covariates' dtype (``()`` without a host step).

        Runs eagerly: the covariates must be concrete (not traced).
        """
        if self.host is None:
            return ()
        dtype = jnp.result_type(float, *covariates)
        out = self.host(*(np.asarray(x, np.float64) for x in covariates))
        return tuple(jnp.asarray(x, dtype) for x in out)

    def prepared(self, *args) -> tuple:
        """``prepare(*args)`` (or ``args``), for ``args = (*covariates, *host_inputs)``."""
        return tuple(args) if self.prepare is None else tuple(self.prepare(*args))

    def features(self, *covariates) -> tuple:
        """The features ``fn`` takes: :meth:`prepared` of the covariates and :meth:`host_inputs`."""
        return self.prepared(*covariates, *self.host_inputs(*covariates))

    def validate(self, *covariates) -> None:
        """Run :attr:`check` (if any) on the covariates, as NumPy ``float64`` arrays."""
        if self.check is not None:
            self.check(*(np.asarray(x, np.float64).reshape(-1) for x in covariates))


def neg_log1m(q: jax.Array, floor: float = 0.0) -> jax.Array:
    r"""``-log(1 - q)``: ``+inf`` for ``q >= 1``, or continued past a margin ``floor`` (fitting).

    With ``m = 1 - q``: for ``m > floor`` the value is exact; for ``m <= floor`` it is the
    tangent line of ``-log m`` at ``m = floor``, :math:`-\log f + (f - m)/f`, which is finite,
    continuously differentiable and rises with slope ``1/floor``: a steep penalty that keeps a fit
    inside the domain. ``floor = 0`` gives the exact function (``+inf`` at and beyond the pole).

    Args:
        q: array.
        floor: static Python float ``>= 0``.

    Returns:
        array of the shape of ``q``.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxfb.scaling._models import neg_log1m
        >>> neg_log1m(jnp.array([0.0, 1.0, 2.0])).tolist()
        [-0.0, inf, inf]
    """
    m = 1 - jnp.asarray(q)
    if floor <= 0:
        ok = m > 0
        return jnp.where(ok, -jnp.log(jnp.where(ok, m, 1)), jnp.inf)
    inside = m > floor
    f = jnp.asarray(floor, m.dtype)
    return jnp.where(inside, -jnp.log(jnp.where(inside, m, 1)), -jnp.log(f) + (f - m) / f)


def log_ratio(p: jax.Array, q: jax.Array, floor: float = 0.0) -> jax.Array:
    r""":math:`\log\frac{1 + p}{1 - q}`, with the pole at ``q = 1`` handled by :func:`neg_log1m`.

    Args:
        p: array ``> -1``.
        q: array (broadcast against ``p``).
        floor: see :func:`neg_log1m`.

    Returns:
        the broadcast array.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxfb.scaling._models import log_ratio
        >>> round(float(log_ratio(jnp.array(0.5), jnp.array(0.5))), 6)  # log 3
        1.098612
    """
    return jnp.log1p(p) + neg_log1m(q, floor)


def _sqrt_pos(x: jax.Array) -> jax.Array:
    """``sqrt(max(x, 0))`` with a finite gradient everywhere (zero where ``x <= 0``)."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1)), 0)


def _u(J, T):
    return jnp.log(T) / J


# --- starting points (NumPy, float64) --------------------------------------------------------


def _c_start(J, T, y):
    """``c`` of the paper's form from the data: ``y ~ 2 c sqrt(u)``, kept well inside the pole."""
    u = np.log(T) / J
    ok = (u > 0) & np.isfinite(y) & (y > 0)
    if not ok.any():
        return 1.0
    # invert y = 2 artanh(c sqrt(u)) point by point, then take the median
    c = np.median(np.tanh(y[ok] / 2) / np.sqrt(u[ok]))
    return float(min(c, 0.9 / np.sqrt(u.max())))


def _init_paper(J, T, y):
    return np.array([_c_start(J, T, y)])


def _init_extreme(J, T, y):
    c = _c_start(J, T, y)
    return np.array([c, 0.0, 0.9 * c, 0.0])


def _init_poly(J, T, y):
    u = np.log(T) / J
    X = np.stack([np.sqrt(u), u, u**1.5], axis=-1)
    return np.linalg.lstsq(X, y, rcond=None)[0]


def _init_collapse(J, T, y):
    return np.array([_c_start(J, T, y), 0.0, 1.0])


# --- the laws ------------------------------------------------------------------------------


def _paper(params, J, T, floor=0.0):
    z = params[0] * jnp.sqrt(_u(J, T))
    return log_ratio(z, z, floor)


def _extreme(params, J, T, floor=0.0):
    a_up, log_b_up, a_lo, log_b_lo = params[0], params[1], params[2], params[3]
    logT = jnp.log(T)
    p = a_up * _sqrt_pos((logT + log_b_up) / J)
    q = a_lo * _sqrt_pos((logT + log_b_lo) / J)
    return log_ratio(p, q, floor)


def _poly(params, J, T, floor=0.0):
    s = jnp.sqrt(_u(J, T))
    return s * (params[0] + s * (params[1] + s * params[2]))


# Order statistics of the Littlewood-Paley sum. With u = LP / E[LP], an interior frequency is
# Gamma(J, 1/J) (chi2_{2J} / 2J) and k = 0, N/2 are Gamma(J/2, 2/J) (chi2_J / J); for T = N the
# m = T/2 - 1 interior values and the two ends are independent, so with F = P(u <= x) and
# s = log x,  E[log kappa] = E[log max] - E[log min] = int (F_min(s) - F_max(s)) ds  exactly.
# The integral is a trapezoid sum over s = z / sqrt(J), z in [-30, 10]: spectrally accurate
# (error < 1e-6 for J >= 1 with 256 nodes). The incomplete gamma functions do not depend on the
# parameters (the counts), so ``prepare`` evaluates them once per data set.
_OS_Z = np.linspace(-30.0, 10.0, 256)
_LOG_FLOOR = -1e4  # log1p(-1) = -inf, clamped so that m * log(...) has a finite gradient


def _prepare_orderstat(J, T):
    Jc = J[:, None]
    x = jnp.exp(jnp.asarray(_OS_Z, J.dtype)[None, :] / jnp.sqrt(Jc))
    gi, gc = jax.scipy.special.gammainc, jax.scipy.special.gammaincc

    def log1m(p):
        return jnp.maximum(jnp.log1p(-p), _LOG_FLOOR)

    # log P(u > x) and log P(u <= x) for the interior (shape J) and end (shape J/2) frequencies
    log_sf = log1m(gi(Jc, Jc * x))
    log_sf_end = log1m(gi(Jc / 2, Jc * x / 2))
    log_cdf = log1m(gc(Jc, Jc * x))
    log_cdf_end = log1m(gc(Jc / 2, Jc * x / 2))
    h = jnp.asarray(_OS_Z[1] - _OS_Z[0], J.dtype) / jnp.sqrt(J)
    return T, log_sf, log_sf_end, log_cdf, log_cdf_end, h


def _orderstat_integral(m_up, m_lo, log_sf, log_sf_end, log_cdf, log_cdf_end, h):
    """``E[log max] - E[log min]`` for ``(n,)`` interior counts ``m_up`` (max), ``m_lo`` (min)."""
    m_up = jnp.maximum(m_up, 0)[:, None]
    m_lo = jnp.maximum(m_lo, 0)[:, None]
    f_min = -jnp.expm1(m_lo * log_sf + 2 * log_sf_end)  # P(min <= x)
    f_max = jnp.exp(m_up * log_cdf + 2 * log_cdf_end)  # P(max <= x)
    g = f_min - f_max
    return h * (jnp.sum(g, axis=-1) - 0.5 * (g[:, 0] + g[:, -1]))


def _orderstat(params, T, log_sf, log_sf_end, log_cdf, log_cdf_end, h, floor=0.0):
    return _orderstat_integral(
        params[0] * (T - 2), params[1] * (T - 2), log_sf, log_sf_end, log_cdf, log_cdf_end, h
    )


# The N-aware law. For T < N the interior values of LP are correlated; jaxfb.theory replaces
# them by m_A (min) and m_B (max) independent Gamma(J, 1/J) values (a discrete Rice / clumping
# model, exact m = N/2 - 1 at T = N). The law keeps the "orderstat" form m = b (L - 2) with the
# effective length L = 2 (m_theory + 1): the filter length whose T = N law has the same
# interior count. L = T when T = N (set exactly, so the law *is* "orderstat" there), and
# b_B = b_A = 1/2 reproduces the theory's counts at the medians (fixed here; the predictor
# itself lets them vary with the level). The counts are NumPy/SciPy quadrature: the
# model's ``host`` step computes them once per data set (the theory caches them per J, T, N).


def _check_orderstat_n(J, T, N):
    bad = T > N
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"N must be >= T (filters no longer than the signal) for model 'orderstat_n', "
            f"got N[{i}] = {N[i]:g} < T[{i}] = {T[i]:g}"
        )
    # the theory's counts (needed where T < N) are defined on integers
    need = T < N
    for name, x in (("J", J), ("T", T), ("N", N)):
        bad = (x < 1) | (need & (x != np.rint(x)))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{name} must be >= 1, and an integer where T < N, for model 'orderstat_n' "
                f"(the theory's effective counts), got {name}[{i}] = {x[i]:g}"
            )


def effective_lengths(num_filters, length, n) -> np.ndarray:
    r"""Effective lengths ``(L_B, L_A)`` of the ``"orderstat_n"`` law: :math:`L = 2(m + 1)`.

    ``m`` is the interior count of :func:`jaxfb.theory.effective_counts` (``m_B`` for the
    maximum, ``m_A`` for the minimum): ``L`` is the filter length whose ``T = N`` law has the
    same number of independent interior frequencies. ``L = T`` exactly where ``T = N``; for
    ``T < N`` it is about ``2.4 T`` to ``3.6 T`` on fine grids (``N >= 4T``, ``T >= 64``; more
    for ``L_A`` at ``J <= 4``), less for short filters, and it saturates near ``N``.
    NumPy code (the theory's quadrature, cached per ``(J, T, N)``).

    Args:
        num_filters: ``(n,)`` numbers of filters ``J`` (integers ``>= 1``).
        length: ``(n,)`` filter lengths ``T`` (integers ``>= 1``).
        n: ``(n,)`` signal lengths ``N >= T`` (integers).

    Returns:
        ``(n, 2)`` float64 array of ``[L_B, L_A]``.

    Examples:
        >>> from jaxfb.scaling._models import effective_lengths
        >>> effective_lengths([8, 8], [64, 64], [64, 1024]).round(1).tolist()
        [[64.0, 64.0], [158.3, 233.2]]
    """
    J, T, N = (
        np.atleast_1d(np.asarray(x, np.float64)).reshape(-1) for x in (num_filters, length, n)
    )
    J, T, N = np.broadcast_arrays(J, T, N)
    _check_orderstat_n(J, T, N)
    out = np.stack([T, T], axis=-1).astype(np.float64)
    sel = T < N
    if sel.any():
        ji, ti, ni = (x[sel].astype(np.int64) for x in (J, T, N))
        counts = theory.effective_counts(ji, ti, ni)
        out[sel, 0] = 2 * (np.asarray(counts.upper) + 1)
        out[sel, 1] = 2 * (np.asarray(counts.lower) + 1)
    return out


def _host_orderstat_n(J, T, N):
    lengths = effective_lengths(J, T, N)
    return lengths[:, 0], lengths[:, 1]


def _prepare_orderstat_n(J, T, N, L_B, L_A):
    # exactly T where T = N: the law is then "orderstat" to the last bit
    same = T == N
    _, *gamma = _prepare_orderstat(J, T)
    return (jnp.where(same, T, L_B), jnp.where(same, T, L_A), *gamma)


def _orderstat_n(params, L_B, L_A, log_sf, log_sf_end, log_cdf, log_cdf_end, h, floor=0.0):
    return _orderstat_integral(
        params[0] * (L_B - 2), params[1] * (L_A - 2), log_sf, log_sf_end, log_cdf, log_cdf_end, h
    )


def _init_orderstat(J, T, y):
    return np.array([0.5, 0.5])


def _init_orderstat_n(J, T, N, y):
    return np.array([0.5, 0.5])


def _collapse(params, J, T, floor=0.0):
    c, log_b, beta = params[0], params[1], params[2]
    v = (jnp.log(T) + log_b) / J**beta
    z = c * _sqrt_pos(v)
    return log_ratio(z, z, floor)


MODELS: dict[str, Model] = {}
"""The model registry: name -> :class:`Model`. Add forms with :func:`register_model`."""


def register_model(model: Model, *, overwrite: bool = False) -> Model:
    """Add ``model`` to :data:`MODELS` under ``model.name``; returns it.

    Args:
        model: a :class:`Model`.
        overwrite: replace an existing model of the same name (default: raise).

    Returns:
        ``model``.

    Examples:
        >>> import jax.numpy as jnp, numpy as np
        >>> from jaxfb import scaling
        >>> def sqrt_law(params, J, T, floor=0.0):
        ...     return params[0] * jnp.sqrt(jnp.log(T) / J)
        >>> m = scaling.Model("sqrt_u", ("a",), sqrt_law, lambda J, T, y: np.array([1.0]))
        >>> scaling.register_model(m).name
        'sqrt_u'
        >>> del scaling.MODELS["sqrt_u"]  # (keep the registry clean in this example)
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a jaxfb.scaling.Model, got {type(model).__name__}")
    if model.name in MODELS and not overwrite:
        raise ValueError(f"a model named {model.name!r} is already registered (overwrite=True)")
    MODELS[model.name] = model
    return model


def get_model(model: str | Model) -> Model:
    """Return ``model`` itself, or the registered model of that name (clear error otherwise).

    Examples:
        >>> from jaxfb.scaling._models import get_model
        >>> get_model("paper").param_names
        ('c',)
    """
    if isinstance(model, Model):
        return model
    if not isinstance(model, str) or model not in MODELS:
        raise ValueError(f"model must be a Model or one of {sorted(MODELS)}, got {model!r}")
    return MODELS[model]


for _m in (
    Model(
        "paper",
        ("c",),
        _paper,
        _init_paper,
        "log((1 + c sqrt(u)) / (1 - c sqrt(u))),  u = log T / J",
        "the paper's kappa_tilde with a free constant (paper: c = 2)",
    ),
    Model(
        "extreme",
        ("a_B", "log_b_B", "a_A", "log_b_A"),
        _extreme,
        _init_extreme,
        "log((1 + a_B sqrt(log(b_B T)/J)) / (1 - a_A sqrt(log(b_A T)/J)))",
        "extreme values of b T independent frequencies, separate for B and A",
    ),
    Model(
        "orderstat",
        ("b_B", "b_A"),
        _orderstat,
        _init_orderstat,
        "E[log max] - E[log min] of m Gamma(J, 1/J) and 2 Gamma(J/2, 2/J) values, "
        "m = b (T - 2) (b_B for max, b_A for min)",
        "order statistics of the Littlewood-Paley sum with free effective counts "
        "(exact at b_B = b_A = 1/2 when T = N)",
        prepare=_prepare_orderstat,
    ),
    Model(
        "orderstat_n",
        ("b_B", "b_A"),
        _orderstat_n,
        _init_orderstat_n,
        "orderstat with m = b (L - 2), L = 2 (m_theory(J, T, N) + 1) (L = T when T = N)",
        "order statistics with the theory's effective counts for N >= T, scaled by b_B, b_A "
        "(b = 1/2: jaxfb.theory's counts at the medians; T = N: orderstat)",
        covariates=("J", "T", "N"),
        prepare=_prepare_orderstat_n,
        check=_check_orderstat_n,
        host=_host_orderstat_n,
    ),
    Model(
        "poly",
        ("a1", "a2", "a3"),
        _poly,
        _init_poly,
        "a1 sqrt(u) + a2 u + a3 u^(3/2),  u = log T / J",
        "flexible series in sqrt(log T / J) (linear in its parameters)",
    ),
    Model(
        "collapse",
        ("c", "log_b", "beta"),
        _collapse,
        _init_collapse,
        "log((1 + c sqrt(v)) / (1 - c sqrt(v))),  v = log(b T) / J^beta",
        "symmetric extreme form in a free collapse variable (beta = 1: log T / J)",
    ),
):
    register_model(_m)

LAWS: tuple[str, ...] = tuple(MODELS)
"""Names of the built-in scaling laws (``analyze(models="all")``, ``jaxfb fit --model all``)."""
