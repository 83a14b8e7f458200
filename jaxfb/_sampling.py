"""Sampling random filterbanks: the paper's Gaussian init and the inits used in practice."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp

from . import _validation as v

__all__ = ["INITS", "InitSpec", "init_spec", "random_filterbank"]


@dataclass(frozen=True)
class InitSpec:
    """Description of an i.i.d. zero-mean weight initialisation for a ``(J, C_in, T)`` conv layer.

    Attributes:
        name: the ``init`` string accepted by :func:`random_filterbank`.
        family: ``"normal"``, ``"truncated_normal"`` (cut at two standard deviations of the
            underlying normal, as Flax and Keras do), ``"uniform"`` or ``"rademacher"``: the
            shape of the distribution.
        excess_kurtosis: ``g2 = E[w^4]/E[w^2]^2 - 3`` of one weight (0 normal, about -0.634
            truncated normal, -6/5 uniform, -2 Rademacher). It enters the energy variance (see
            ``jaxfb.theory``).
        fan_variance: ``(fan_in, fan_out) -> Var[w]`` of the init as the framework defines it;
            for a ``Conv1d`` layer ``fan_in = C_in T`` and ``fan_out = C_out T`` (PyTorch's
            ``_calculate_fan_in_and_fan_out``, Keras' and Flax's variance-scaling inits).
        description: one line for docs and ``jaxfb info``.
    """

    name: str
    family: str
    excess_kurtosis: float
    fan_variance: Callable[[int, int], float]
    description: str

    def raw_variance(self, num_filters: int, length: int, in_channels: int = 1) -> float:
        """The framework's variance for ``J = C_out`` filters, ``C_in`` channels, ``T`` taps."""
        return float(self.fan_variance(in_channels * length, num_filters * length))

    def variance(
        self, num_filters: int, length: int, *, rescale: bool, in_channels: int = 1
    ) -> float:
        """Per-weight variance: ``1/(J T)`` if ``rescale`` else the framework's own."""
        if rescale:
            return 1.0 / (num_filters * length)
        return self.raw_variance(num_filters, length, in_channels)


def _truncated_normal_moments(a: float) -> tuple[float, float]:
    """Variance and excess kurtosis of a standard normal truncated to ``[-a, a]``."""
    z = math.erf(a / math.sqrt(2.0))  # P(|N(0, 1)| <= a)
    tail = 2.0 * a * math.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi) / z  # 2 a phi(a) / z
    m2 = 1.0 - tail
    m4 = 3.0 * m2 - a * a * tail
    return m2, m4 / m2**2 - 3.0


# Flax's and Keras' "truncated_normal" variance scaling: N(0, 1) cut at +-2 standard deviations,
# rescaled to the init's variance (their constant .87962566103423978 is sqrt(_TRUNCATED_VAR))
_TRUNCATION = 2.0
_TRUNCATED_VAR, _TRUNCATED_EXCESS_KURTOSIS = _truncated_normal_moments(_TRUNCATION)

INITS: dict[str, InitSpec] = {
    s.name: s
    for s in (
        InitSpec(
            "gaussian",
            "normal",
            0.0,
            lambda fi, fo: 1.0 / fo,
            "the paper's N(0, 1/(J T)) = N(0, 1/fan_out), so that E||Phi x||^2 = ||x||^2",
        ),
        InitSpec(
            "pytorch",
            "uniform",
            -1.2,
            lambda fi, fo: 1.0 / (3.0 * fi),
            "PyTorch Conv1d default (kaiming_uniform a=sqrt(5)): "
            "U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in T",
        ),
        InitSpec(
            "glorot_normal",
            "normal",
            0.0,
            lambda fi, fo: 2.0 / (fi + fo),
            "Glorot/Xavier normal: N(0, 2/(fan_in + fan_out)), fan_in = C_in T, fan_out = J T",
        ),
        InitSpec(
            "glorot_uniform",
            "uniform",
            -1.2,
            lambda fi, fo: 2.0 / (fi + fo),
            "Glorot/Xavier uniform: U(-b, b), b = sqrt(6/(fan_in + fan_out))",
        ),
        InitSpec(
            "lecun_normal",
            "normal",
            0.0,
            lambda fi, fo: 1.0 / fi,
            "LeCun normal (untruncated): N(0, 1/fan_in), fan_in = C_in T",
        ),
        InitSpec(
            "he_normal",
            "normal",
            0.0,
            lambda fi, fo: 2.0 / fi,
            "He/Kaiming normal (untruncated): N(0, 2/fan_in), fan_in = C_in T",
        ),
        InitSpec(
            "lecun_truncated_normal",
            "truncated_normal",
            _TRUNCATED_EXCESS_KURTOSIS,
            lambda fi, fo: 1.0 / fi,
            "LeCun truncated normal, Flax's Conv default and Keras' LecunNormal: variance 1/fan_in",
        ),
        InitSpec(
            "glorot_truncated_normal",
            "truncated_normal",
            _TRUNCATED_EXCESS_KURTOSIS,
            lambda fi, fo: 2.0 / (fi + fo),
            "Glorot truncated normal, Keras' GlorotNormal: variance 2/(fan_in + fan_out)",
        ),
        InitSpec(
            "he_truncated_normal",
            "truncated_normal",
            _TRUNCATED_EXCESS_KURTOSIS,
            lambda fi, fo: 2.0 / fi,
            "He truncated normal, Keras' HeNormal: variance 2/fan_in",
        ),
        InitSpec(
            "uniform",
            "uniform",
            -1.2,
            lambda fi, fo: 1.0 / fo,
            "uniform with the paper's variance 1/(J T)",
        ),
        InitSpec(
            "rademacher",
            "rademacher",
            -2.0,
            lambda fi, fo: 1.0 / fo,
            "random signs +-1/sqrt(J T) (the paper's variance)",
        ),
    )
}


def init_spec(init: str) -> InitSpec:
    """Look up an init by name, with a clear error listing the choices."""
    if not isinstance(init, str) or init not in INITS:
        raise ValueError(f"init must be one of {sorted(INITS)}, got {init!r}")
    return INITS[init]


@partial(jax.jit, static_argnames=("shape", "family", "dtype"))
def _sample(key, scale, *, shape, family, dtype):
    if family == "normal":
        z = jax.random.normal(key, shape, dtype)
    elif family == "truncated_normal":
        z = jax.random.truncated_normal(key, -_TRUNCATION, _TRUNCATION, shape, dtype)
        z = z / math.sqrt(_TRUNCATED_VAR)
    elif family == "uniform":
        z = jax.random.uniform(key, shape, dtype, minval=-1.0, maxval=1.0) * math.sqrt(3.0)
    else:  # rademacher
        z = jax.random.rademacher(key, shape, dtype)
    return z * jnp.asarray(scale, dtype)


def _check_key(key) -> None:
    if not isinstance(key, jax.Array):
        raise TypeError(
            f"key must be a JAX PRNG key (jax.random.key(seed)), got {type(key).__name__}"
        )
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single key, got a key array of shape {key.shape}")
    elif key.ndim != 1 or key.dtype != jnp.uint32:
        raise TypeError(
            f"key must be a JAX PRNG key (jax.random.key(seed)), got array {key.dtype}{key.shape}"
        )


def random_filterbank(
    key: jax.Array,
    num_filters: int,
    length: int,
    *,
    in_channels: int | None = None,
    batch_shape: int | tuple[int, ...] = (),
    init: str = "gaussian",
    rescale: bool | None = None,
    dtype=None,
) -> jax.Array:
    r"""Draw random FIR filterbanks, or 1-D conv layers, with i.i.d. zero-mean weights.

    The paper's model (Haider et al. 2024, Sec. II) draws :math:`w_j[k] \sim \mathcal N(0,
    \sigma^2)` with :math:`\sigma^2 = 1/(JT)`, so that :math:`\mathbb E\|\Phi x\|^2 = \|x\|^2`.
    With ``in_channels = C_in`` the weights are a conv layer ``(J, C_in, T)`` (``J = C_out``;
    see :func:`jaxfb.conv_frame_bounds`) and the same :math:`\sigma^2 = 1/(JT) = 1/\text{fan\_out}`
    (independent of ``C_in``) gives :math:`\mathbb E[\Phi^\top\Phi] = I` at stride 1, and
    :math:`\mathbb E[\Phi_d^\top\Phi_d] = I/d` at stride ``d`` when ``d`` divides ``T`` (and
    ``gcd(d, dilation) = 1``); for any ``d`` the expected frame operator is diagonal with mean
    ``1/d``. See ``docs/conv.md``.

    Inits (``init=``), with ``fan_in = C_in T`` and ``fan_out = J T`` as PyTorch, Keras and Flax
    compute them for a ``Conv1d`` layer (``C_in = 1`` without ``in_channels``):

    - ``"gaussian"``: :math:`\mathcal N(0, 1/(JT))` (the paper's; default).
    - ``"pytorch"``: PyTorch's ``Conv1d`` default (``kaiming_uniform_(a=sqrt(5))``),
      :math:`U(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})`.
    - ``"glorot_normal"``, ``"glorot_uniform"``: Glorot/Xavier, variance
      ``2/(fan_in + fan_out)``.
    - ``"lecun_normal"`` (variance ``1/fan_in``), ``"he_normal"`` (``2/fan_in``), untruncated
      (PyTorch's ``kaiming_normal_``).
    - ``"lecun_truncated_normal"`` (Flax's ``Conv`` default and Keras' ``LecunNormal``),
      ``"glorot_truncated_normal"`` (Keras' ``GlorotNormal``), ``"he_truncated_normal"`` (Keras'
      ``HeNormal``): a normal cut at two standard deviations and rescaled to the same variances,
      as Flax's and Keras' variance-scaling inits draw them.
    - ``"uniform"``, ``"rademacher"``: uniform / random signs with variance ``1/(J T)``.

    Every init is available *raw* (the framework's own variance) or *rescaled* to the paper's
    variance ``1/(J T)``, keeping the shape of its distribution (and so its excess kurtosis,
    ``jaxfb.INITS[init].excess_kurtosis``). The default, ``rescale=None``, keeps each init as
    named: ``"gaussian"``, ``"uniform"`` and ``"rademacher"`` have variance ``1/(J T)``; the
    framework inits are raw.

    Args:
        key: a JAX PRNG key (``jax.random.key(seed)``); the only source of randomness.
        num_filters: ``J >= 1`` (output channels), static Python int.
        length: ``T >= 1``, static Python int.
        in_channels: ``C_in >= 1``, static Python int, or ``None`` (default: a filterbank
            ``(J, T)``, the same numbers as ``in_channels=1`` without that axis).
        batch_shape: leading batch shape (static), default ``()``.
        init: the initialisation, see above.
        rescale: ``True`` forces variance ``1/(J T)``, ``False`` the framework's raw variance.
        dtype: a float dtype; default float32, or float64 when ``jax_enable_x64`` is on.

    Returns:
        ``(*batch_shape, J, T)`` filter weights, or ``(*batch_shape, J, C_in, T)`` with
        ``in_channels``.

    Examples:
        >>> import jax, jaxfb
        >>> w = jaxfb.random_filterbank(jax.random.key(0), 40, 64, batch_shape=(8,))
        >>> w.shape
        (8, 40, 64)
        >>> jaxfb.random_filterbank(jax.random.key(0), 64, 8, in_channels=32).shape
        (64, 32, 8)
    """
    _check_key(key)
    J = v.static_int("num_filters", num_filters, minimum=1)
    T = v.static_int("length", length, minimum=1)
    C = 1 if in_channels is None else v.static_int("in_channels", in_channels, minimum=1)
    batch = v.shape_tuple("batch_shape", batch_shape)
    spec = init_spec(init)
    if rescale is None:
        rescale = spec.name in ("gaussian", "uniform", "rademacher")
    dtype = v.float_dtype(dtype)
    scale = math.sqrt(spec.variance(J, T, rescale=bool(rescale), in_channels=C))
    shape = (*batch, J, T) if in_channels is None else (*batch, J, C, T)
    return _sample(key, scale, shape=shape, family=spec.family, dtype=dtype)
