r"""Exact sampling below the weight-RNG floor: the Bartlett (Gram) and spectrum paths.

For Gaussian weights every statistic jaxfb simulates is a quadratic function of the weights
``W`` (shape ``(J, T)``): the Littlewood-Paley sum :math:`LP(k) = f_k^H W^\top W f_k` (``f_k``
the first ``T`` entries of the ``k``-th Fourier vector), the strided blocks
:math:`M_k[a, b] = \frac1d f_{k+aL}^H W^\top W f_{k+bL}`, the energy
:math:`\|\Phi x\|^2 = \operatorname{tr}(C_T W^\top W C_T^\top)` of any signal. So the joint law of
all of them depends on ``W`` only through the Gram matrix
:math:`W^\top W = \sum_j w_j w_j^\top \sim \mathrm{Wishart}_T(J, \sigma^2 I)`, and two exact
samplers need far fewer random numbers than the ``J T`` normals of the direct path:

- **Bartlett (Gram) path, J > T.** With ``L`` lower triangular, :math:`L_{kk}^2 \sim
  \chi^2_{J-k}` (``k = 0 .. T-1``) and :math:`L_{kt} \sim \mathcal N(0, 1)` below the diagonal,
  all independent, :math:`L L^\top \sim \mathrm{Wishart}_T(J, I)` (Bartlett's decomposition).
  The ``T`` filters ``V = sigma L^T`` (rows of ``V`` = columns of ``L``) have
  :math:`V^\top V = \sigma^2 L L^\top \overset{d}{=} W^\top W`: ``T (T + 1) / 2`` random numbers
  instead of ``J T``, and every kernel downstream runs on ``T`` filters instead of ``J``.
- **Spectrum path, T = n, stride 1.** The ``n``-point DFT of ``n`` i.i.d. Gaussian taps has
  independent coefficients, so ``LP(k)`` is :math:`T\sigma^2\chi^2_J` at ``k = 0`` (and
  ``k = n/2``, ``n`` even) and :math:`T\sigma^2\,\mathrm{Gamma}(J, 1)` at the interior
  frequencies, all independent: ``n//2 + 1`` gamma draws, no FFT.

The gamma draws use Marsaglia and Tsang's rejection sampler, redrawn in batch until every entry
is accepted (exact, never truncated). See ``docs/theory.md`` and ``docs/performance.md``.
"""

from __future__ import annotations

import functools
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import _validation as v
from ._frames import FrameBounds, _choose_method, _lp_cost, frame_bounds, littlewood_paley
from ._sampling import _check_key, init_spec, random_filterbank

__all__ = ["METHODS", "equivalent_filterbank", "path_cost", "sample_frame_bounds"]

METHODS = ("auto", "weights", "gram", "spectrum")

# Cost model (``path_cost``): one random normal costs about as much as 20 flops of the kernels
# (the project's CPU: about 50 M normals/s against about 1 G "flops"/s in _lp_cost's units); a
# gamma draw consumes a normal and a uniform, plus a few per cent of redraws.
_RNG_COST = 20.0
_NUMBERS_PER_GAMMA = 2.2
# The gamma sampler redraws rejected proposals by rows of this many entries.
_BLOCK = 32
# Marsaglia-Tsang rejects a proposal with probability below this / (a - 1/3) for every a >= 1
# (by quadrature: 0.0322 / (a - 1/3) at a = 1, 0.0279 at a = 40, 0.0278 as a -> infinity)
_MT_REJECTION = 0.033


# --------------------------------------------------------------------------------------------
# Gamma and chi-squared draws (Marsaglia-Tsang, batched rejection)


def _log1p_tail(y: jax.Array) -> jax.Array:
    r""":math:`g(y) = \log(1+y) - y + y^2/2 - y^3/3 = \sum_{k \ge 4} (-1)^{k+1} y^k / k`.

    The Marsaglia-Tsang acceptance exponent is ``3 d g(c x)``; written naively,
    ``0.5 x^2 + d (1 - v + log v)`` loses about ``d`` ulps to cancellation (``d`` is the gamma
    shape, up to thousands here). The series is used for ``|y| < 0.1``, the direct form beyond.
    """
    terms = 12 if jnp.finfo(y.dtype).bits <= 32 else 20
    poly = jnp.zeros_like(y)
    for k in range(terms, 3, -1):  # Horner: sum_{k=4}^{terms} (-1)^{k+1} y^(k-4) / k
        poly = poly * y + ((-1.0) ** (k + 1)) / k
    series = (y * y) * (y * y) * poly
    small = jnp.abs(y) < 0.1
    ys = jnp.where(small, 0.5, y)  # keep the unused branch finite
    direct = jnp.log1p(ys) - ys + ys * ys * (0.5 - ys / 3)
    return jnp.where(small, series, direct)


def _words(key: jax.Array, shape: tuple[int, ...], dtype) -> jax.Array:
    """Random unsigned words as wide as ``dtype`` (the raw material of :func:`_uniform_from`)."""
    return jax.random.bits(key, shape, np.dtype(f"uint{jnp.finfo(dtype).bits}"))


def _uniform_from(words: jax.Array, dtype, lo=0.0, hi=1.0) -> jax.Array:
    """Uniform on ``[lo, hi)`` from :func:`_words`, as :func:`jax.random.uniform` maps its bits:
    the top ``nmant`` bits become the mantissa of a float in ``[1, 2)``, minus 1."""
    finfo = jnp.finfo(dtype)
    shift = np.asarray(finfo.bits - finfo.nmant, words.dtype)
    one = np.asarray(np.array(1.0, dtype).view(words.dtype))
    x = jax.lax.bitcast_convert_type((words >> shift) | one, dtype) - np.asarray(1.0, dtype)
    lo, hi = np.asarray(lo, dtype), np.asarray(hi, dtype)
    return jnp.maximum(lo, x * (hi - lo) + lo)


def _normal_from(words: jax.Array, dtype) -> jax.Array:
    """Standard normals from :func:`_words`, as :func:`jax.random.normal` maps its bits:
    ``sqrt(2) erfinv(u)``, ``u`` uniform on ``(-1, 1)``."""
    lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype))
    u = _uniform_from(words, dtype, lo, 1.0)
    return np.asarray(math.sqrt(2), dtype) * jax.lax.erf_inv(u)


def _mt_accept(x: jax.Array, u: jax.Array, d: jax.Array) -> jax.Array:
    """The Marsaglia-Tsang proposal made of the normal ``x`` and the uniform ``u`` for
    ``d = a - 1/3`` (``a >= 1``): its value where accepted, ``-1`` where rejected (an accepted
    value is ``> 0``)."""
    y = x * jax.lax.rsqrt(9 * d)
    ok = y > -1
    y = jnp.where(ok, y, 0)
    # accept iff U < exp(3 d g(y)) with U = 1 - u uniform on (0, 1]
    accepted = ok & (jnp.log1p(-u) < 3 * d * _log1p_tail(y))
    return jnp.where(accepted, d * (1 + y) ** 3, -1)


def _mt_candidates(key: jax.Array, d: jax.Array) -> jax.Array:
    """One Marsaglia-Tsang proposal per entry of ``d = a - 1/3`` (``a >= 1``), from fresh
    numbers drawn with ``key`` (see :func:`_mt_accept`).

    One output array, so the compiled code computes the normal once (with two outputs, value and
    flag, XLA duplicated the normal into both fusions: about 25% more time per entry on CPU).
    """
    kx, ku = jax.random.split(key)
    x = jax.random.normal(kx, d.shape, d.dtype)
    u = jax.random.uniform(ku, d.shape, d.dtype)
    return _mt_accept(x, u, d)


def _gamma(
    key: jax.Array, a, batch: tuple[int, ...], dtype, first: tuple | None = None
) -> jax.Array:
    r"""Exact ``Gamma(a, 1)`` draws of shape ``(*batch, *a.shape)``; ``a`` concrete, ``a > 0``.

    Marsaglia and Tsang (2000): :math:`d = a - 1/3`, :math:`v = (1 + x/\sqrt{9d})^3` with
    :math:`x \sim \mathcal N(0,1)`, accepted with probability :math:`\exp(x^2/2 + d - dv +
    d\log v)` (at least 0.95 for ``a >= 1``, tending to 1). Every entry gets one proposal; then a
    ``lax.while_loop`` gathers the rows of ``_BLOCK`` entries that hold a rejection (into a
    fixed-size buffer, so shapes stay static) and redraws their rejected entries until all are
    accepted: each entry keeps its first accepted proposal, and every proposal is a fresh draw
    whatever happened to the other entries, so the draws are i.i.d. with exactly the target law.
    Shapes below 1 use :math:`\mathrm{Gamma}(a) = \mathrm{Gamma}(a + 1)\,U^{1/a}`
    (e.g. ``a = 1/2`` for :math:`\chi^2_1`). Deterministic for a key; jit/vmap safe.

    ``first = (x, u)``, a normal and a uniform per draw (shape ``(*batch, *a.shape)``, i.i.d. and
    independent of ``key``), makes the first proposals from them instead of from ``key``: a
    caller that needs other random numbers too can draw them all in one call (one pass of the
    generator instead of several small ones; see :func:`_bartlett`).
    """
    a = np.asarray(a, dtype=np.float64)
    if not np.all(a > 0):
        raise ValueError(f"gamma shapes must be > 0, got min {a.min()}")
    shape = (*batch, *a.shape)
    boost = a < 1
    a_mt = np.where(boost, a + 1, a)
    size = math.prod(shape)
    # rows of _BLOCK entries (padding accepted from the start); a round redraws whole rows that
    # hold a rejected entry, keeping the accepted ones: only small arrays are compacted
    rows = -(-size // _BLOCK)
    d_entries = jnp.broadcast_to(jnp.asarray(a_mt - 1.0 / 3.0, dtype), shape)
    d = jnp.pad(d_entries.reshape(-1), (0, rows * _BLOCK - size), constant_values=1)
    d = d.reshape(rows, _BLOCK)
    key_first, key_loop, key_boost = jax.random.split(key, 3)
    if first is None:
        value = _mt_candidates(key_first, d)  # > 0: accepted
        value = jnp.where((jnp.arange(rows * _BLOCK) >= size).reshape(rows, _BLOCK), 1, value)
    else:
        x, u = first
        value = _mt_accept(x, u, d_entries).reshape(-1)
        value = jnp.pad(value, (0, rows * _BLOCK - size), constant_values=1)
        value = value.reshape(rows, _BLOCK)
    # at most (expected rejections) rows hold one; the buffer takes 4 standard deviations more
    # (more rounds run if it overflows)
    expected = _MT_REJECTION * float(np.sum(np.broadcast_to(1 / (a_mt - 1 / 3), shape)))
    buffer = min(rows, math.ceil(expected + 4 * math.sqrt(expected)) + 8)

    def redraw(carry):
        i, value = carry
        (idx,) = jnp.nonzero(jnp.any(value <= 0, axis=1), size=buffer, fill_value=rows)
        take = jnp.minimum(idx, rows - 1)
        old = value[take]
        new = jnp.where(old > 0, old, _mt_candidates(jax.random.fold_in(key_loop, i), d[take]))
        return i + 1, value.at[idx].set(new, mode="drop")  # idx == rows: padding, dropped

    carry = (jnp.zeros((), jnp.int32), value)
    _, value = jax.lax.while_loop(lambda c: jnp.any(c[1] <= 0), redraw, carry)
    out = value.reshape(-1)[:size].reshape(shape)
    if boost.any():
        u = jax.random.uniform(key_boost, shape, dtype)
        inv_a = jnp.broadcast_to(jnp.asarray(np.where(boost, 1.0 / a, 0.0), dtype), shape)
        out = out * jnp.exp(jnp.log1p(-u) * inv_a)  # U^(1/a) where a < 1, else 1
    return out


def _chi2(key: jax.Array, dof, batch: tuple[int, ...], dtype) -> jax.Array:
    r""":math:`\chi^2_k = 2\,\mathrm{Gamma}(k/2, 1)` draws (any ``k > 0``; odd ``k`` exact too)."""
    return 2 * _gamma(key, np.asarray(dof, np.float64) / 2, batch, dtype)


# --------------------------------------------------------------------------------------------
# The equivalent filterbank and the spectrum


def _triangle_index(T: int) -> np.ndarray:
    """Gather map ``(T*T,)`` into ``[diag (T), strict upper triangle (row-major), 0]``."""
    idx = np.full((T, T), T + T * (T - 1) // 2, dtype=np.int32)
    idx[np.arange(T), np.arange(T)] = np.arange(T)
    rows, cols = np.triu_indices(T, k=1)
    idx[rows, cols] = T + np.arange(rows.size)
    return idx.reshape(-1)


def _bartlett(key, J: int, T: int, batch: tuple[int, ...], scale: float, dtype) -> jax.Array:
    """``(*batch, T, T)`` upper-triangular ``scale * L^T`` (Bartlett factor, ``J >= T``).

    One call of the generator gives the ``T (T - 1) / 2`` normals below the diagonal and the
    first Marsaglia-Tsang proposal (a normal and a uniform) of each of the ``T`` chi-squared
    diagonal entries; only rejected proposals are redrawn, from ``key``'s second half. At
    ``(J, T) = (128, 32)`` and 512 draws on the project's 2-core CPU, this one call of 560 words
    a draw took about two thirds of the time of three calls (496 normals, then 32 normals and
    32 uniforms): small arrays pay the generator's fixed costs (``docs/performance.md``).
    """
    m = T * (T - 1) // 2
    key_words, key_chi2 = jax.random.split(key)
    words = _words(key_words, (*batch, m + 2 * T), dtype)
    normals = _normal_from(words[..., : m + T], dtype)
    z = normals[..., :m]
    first = (normals[..., m:], _uniform_from(words[..., m + T :], dtype))
    diag = jnp.sqrt(2 * _gamma(key_chi2, (J - np.arange(T)) / 2, batch, dtype, first=first))
    flat = jnp.concatenate([diag, z, jnp.zeros((*batch, 1), dtype)], axis=-1)
    # gathered as L (rows of L contiguous), then transposed: the kernels' Gram matrix
    # V^T V = L L^T then contracts the contiguous axis (about 8% faster on CPU at T = 32)
    index = _triangle_index(T).reshape(T, T).T.reshape(-1)
    L = jnp.take(flat, index, axis=-1).reshape((*batch, T, T))
    return jnp.swapaxes(L, -1, -2) * jnp.asarray(scale, dtype)


def _spectrum_lp(key, J: int, n: int, batch: tuple[int, ...], gain: float, dtype) -> jax.Array:
    """``(*batch, n//2 + 1)`` Littlewood-Paley sum of ``J`` Gaussian filters of length ``T = n``.

    ``gain = T sigma^2``: edges ``gain chi2_J = 2 gain Gamma(J/2)``, interior ``gain Gamma(J)``.
    """
    m = n // 2 + 1
    edge = np.zeros(m, dtype=bool)
    edge[0] = True
    edge[-1] |= n % 2 == 0
    g = _gamma(key, np.where(edge, J / 2, J), batch, dtype)
    return g * jnp.broadcast_to(jnp.asarray(np.where(edge, 2 * gain, gain), dtype), g.shape)


@partial(jax.jit, static_argnames=("J", "T", "batch", "scale", "dtype"))
def _jit_bartlett(key, *, J, T, batch, scale, dtype):
    return _bartlett(key, J, T, batch, scale, dtype)


def equivalent_filterbank(
    key: jax.Array,
    num_filters: int,
    length: int,
    *,
    in_channels: int | None = None,
    batch_shape: int | tuple[int, ...] = (),
    dtype=None,
) -> jax.Array:
    r"""``K = min(J, T)`` filters whose Gram matrix has the law of ``J`` Gaussian filters'.

    For the paper's init, :math:`w_j[t] \sim \mathcal N(0, \sigma^2)`, :math:`\sigma^2 = 1/(JT)`,
    every statistic jaxfb computes is a quadratic function of the weights and so depends on them
    only through :math:`W^\top W \sim \mathrm{Wishart}_T(J, \sigma^2 I)`: the Littlewood-Paley
    sum, frame bounds and condition numbers at any stride (:func:`jaxfb.frame_bounds` with
    ``stride=d``), and the energies :math:`\|\Phi x\|^2` of any signals, jointly
    (:func:`jaxfb.energy`). For ``J > T`` this function returns the ``(T, T)`` upper-triangular
    :math:`V = \sigma L^\top` built from Bartlett's factor of a :math:`\mathrm{Wishart}_T(J, I)`
    matrix,

    .. math:: L_{kk} = \sqrt{\chi^2_{J-k}}, \quad L_{kt} \sim \mathcal N(0, 1)\ (t < k),
              \qquad V^\top V = \sigma^2 L L^\top \overset{d}{=} W^\top W,

    so any of those statistics of ``V`` has exactly the law (jointly) it has for the ``J``-filter
    bank, from ``T (T + 1) / 2`` random numbers instead of ``J T`` and with ``T`` filters for
    the kernels to process instead of ``J``. Statistics that are not quadratic in the weights
    (anything looking at single filters, e.g. their norms one by one) do not carry over. For
    ``J <= T`` there is nothing to gain: the result is :func:`jaxfb.random_filterbank`'s plain
    Gaussian weights, ``K = J``. See ``docs/theory.md`` ("Exact sampling below the weight-RNG
    floor").

    With ``in_channels = C_in`` the weights are a conv layer ``(J, C_in, T)`` with the same
    :math:`\sigma^2 = 1/(JT)` (:func:`jaxfb.random_filterbank`); every statistic of
    :func:`jaxfb.conv_frame_bounds` is a quadratic function of the ``J`` rows of length ``C_in T``,
    so the Bartlett factor of a :math:`\mathrm{Wishart}_{C_{in}T}(J, \sigma^2 I)` matrix, its
    ``K = min(J, C_in T)`` rows reshaped to ``(K, C_in, T)``, has their law.

    Args:
        key: a JAX PRNG key; the only source of randomness.
        num_filters: ``J >= 1``, static Python int.
        length: ``T >= 1``, static Python int.
        in_channels: ``C_in >= 1``, static Python int, or ``None`` (default: a filterbank).
        batch_shape: leading batch shape (static), default ``()``.
        dtype: a float dtype; default float32, or float64 when ``jax_enable_x64`` is on.

    Returns:
        ``(*batch_shape, K, T)`` weights, ``K = min(J, T)``; with ``in_channels``,
        ``(*batch_shape, K, C_in, T)``, ``K = min(J, C_in T)``.

    Examples:
        >>> import jax, jaxfb
        >>> v = jaxfb.equivalent_filterbank(jax.random.key(0), 256, 32, batch_shape=(4,))
        >>> v.shape  # 32 filters stand in for 256
        (4, 32, 32)
        >>> A, B = jaxfb.frame_bounds(v, 1024)  # same law as for the 256 filters
        >>> bool((0 < A).all() and (A < B).all())
        True
        >>> jaxfb.equivalent_filterbank(jax.random.key(0), 256, 4, in_channels=8).shape
        (32, 8, 4)
    """
    _check_key(key)
    J = v.static_int("num_filters", num_filters, minimum=1)
    T = v.static_int("length", length, minimum=1)
    C = 1 if in_channels is None else v.static_int("in_channels", in_channels, minimum=1)
    batch = v.shape_tuple("batch_shape", batch_shape)
    dtype = v.float_dtype(dtype)
    if J <= C * T:
        return random_filterbank(key, J, T, in_channels=in_channels, batch_shape=batch, dtype=dtype)
    V = _jit_bartlett(key, J=J, T=C * T, batch=batch, scale=1.0 / math.sqrt(J * T), dtype=dtype)
    return V if in_channels is None else V.reshape((*batch, C * T, C, T))


# --------------------------------------------------------------------------------------------
# Frame bounds by the cheapest exact path


def _kernel_cost(J: int, T: int, n: int, stride: int) -> float:
    """Flops of the frame-bound kernel for ``J`` filters (the units of ``_frames._lp_cost``)."""
    if stride == 1:
        return _lp_cost(_choose_method(J, T, n), J, T, n)
    blocks = n // stride // 2 + 1  # J FFTs of size n, the d x d blocks, their eigenvalues
    return 2.5 * J * n * math.log2(n) + 8.0 * J * blocks * stride**2 + 10.0 * blocks * stride**3


def path_cost(method: str, num_filters: int, length: int, n: int, stride: int = 1) -> float:
    r"""Estimated cost of one frame-bound draw by ``method``, in flop units (for ``"auto"``).

    Random numbers cost ``20`` units each (a normal; a gamma draw counts ``2.2``: a normal, a
    uniform and the few per cent of redraws) and the kernel its flop count:

    - ``"weights"``: ``20 J T`` + the frame-bound kernel on ``J`` filters;
    - ``"gram"``: ``20 (T (T - 1) / 2 + 2.2 T)`` + the kernel on ``T`` filters;
    - ``"spectrum"``: ``20 * 2.2 (n//2 + 1)`` + a min and a max, no FFT.

    The kernel at stride 1 is the Littlewood-Paley flop model of :func:`jaxfb.littlewood_paley`'s
    ``method="auto"``; at stride ``d``, ``J`` FFTs of size ``n``, the ``d x d`` blocks and their
    eigenvalues. For the gram path's ``T <= 64`` filters at stride ``d > 1`` that overstates the
    kernel that runs (their Gram matrix's polyphase lag sums and ``d`` FFTs of size ``n``, faster
    than the FFT kernel on the same filters in every case measured, see ``docs/performance.md``),
    which only favours ``"weights"``: the order stays right. Where a path applies it is the
    cheaper one: ``"spectrum"`` < ``"gram"`` < ``"weights"``.
    """
    J, T = num_filters, length
    if method == "weights":
        return _RNG_COST * J * T + _kernel_cost(J, T, n, stride)
    if method == "gram":
        numbers = T * (T - 1) / 2 + _NUMBERS_PER_GAMMA * T
        return _RNG_COST * numbers + _kernel_cost(T, T, n, stride)
    if method == "spectrum":
        return (_RNG_COST * _NUMBERS_PER_GAMMA + 2.0) * (n // 2 + 1)
    raise ValueError(f"method must be one of {METHODS[1:]}, got {method!r}")


def _why_not(method: str, J: int, T: int, n: int, stride: int, init: str) -> str | None:
    """Why ``method`` does not apply at this point (``None`` when it does)."""
    if method == "weights":
        return None
    if init_spec(init).family != "normal":
        return f"it needs Gaussian weights, got init={init!r} (non-Gaussian)"
    if method == "gram" and J <= T:
        return f"it needs num_filters > length (J > T), got J={J}, T={T}"
    if method == "spectrum" and (T != n or stride != 1):
        return f"it needs length == n and stride 1, got T={T}, n={n}, stride={stride}"
    return None


def _resolve_method(method: str, J: int, T: int, n: int, stride: int, init: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "auto":
        usable = [m for m in METHODS[1:] if _why_not(m, J, T, n, stride, init) is None]
        return min(usable, key=lambda m: path_cost(m, J, T, n, stride))
    reason = _why_not(method, J, T, n, stride, init)
    if reason is not None:
        raise ValueError(
            f"method={method!r} does not apply: {reason}; use method='auto' or 'weights'"
        )
    return method


@partial(jax.jit, static_argnames=("J", "T", "n", "batch", "method", "init", "stride", "dtype"))
def _sample_frame_bounds(key, *, J, T, n, batch, method, init, stride, dtype):
    spec = init_spec(init)
    if method == "weights":
        w = random_filterbank(key, J, T, batch_shape=batch, init=init, dtype=dtype)
        return frame_bounds(w, n, stride=stride)
    # the normal-family inits as random_filterbank draws them ("gaussian": 1/(J T), others raw)
    var = spec.variance(J, T, rescale=spec.name == "gaussian")
    if method == "spectrum":
        lp = _spectrum_lp(key, J, n, batch, T * var, dtype)
        return FrameBounds(jnp.min(lp, axis=-1), jnp.max(lp, axis=-1))
    V = _bartlett(key, J, T, batch, math.sqrt(var), dtype)
    if stride > 1 and T <= _LAG_KERNEL_MAX_LENGTH:  # d FFTs instead of T
        return FrameBounds(*_strided_bounds_from_gram(V, n, stride))
    return frame_bounds(V, n, stride=stride)


def sample_frame_bounds(
    key: jax.Array,
    num_filters: int,
    length: int,
    n: int,
    *,
    batch_shape: int | tuple[int, ...] = (),
    method: str = "auto",
    init: str = "gaussian",
    stride: int = 1,
    dtype=None,
) -> FrameBounds:
    r"""Draw the frame bounds ``(A, B)`` of random filterbanks by the cheapest exact path.

    Every method draws from the same law, that of
    ``jaxfb.frame_bounds(jaxfb.random_filterbank(key, J, T, init=init), n, stride=stride)``;
    they differ in cost (and in the draws a key gives):

    - ``"weights"``: exactly that, ``J T`` random weights and the frame-bound kernel;
    - ``"gram"`` (``J > T``, Gaussian init): the ``T`` filters of
      :func:`equivalent_filterbank` (Bartlett's factor of the Wishart Gram matrix),
      ``T (T + 1) / 2`` random numbers, the kernel on ``T`` filters instead of ``J``; any stride;
    - ``"spectrum"`` (``T = n``, stride 1, Gaussian init): the ``n//2 + 1`` values of the
      Littlewood-Paley sum are independent, :math:`\chi^2_J / J` at ``k = 0`` and ``k = n/2``
      and :math:`\mathrm{Gamma}(J, 1/J)` in between (for variance ``1/(J T)``): ``n//2 + 1``
      gamma draws, no FFT; ``A`` and ``B`` are their min and max;
    - ``"auto"`` (default): the cheapest that applies by a cost model (each random number
      counts 20 flops, a gamma draw 2.2 numbers, plus the kernel's flops; see
      ``docs/performance.md``), falling back to ``"weights"``. Where they apply, ``"spectrum"``
      and ``"gram"`` are the cheaper ones, except for tiny banks (``J = 1, T = n = 8``: 8
      normals beat 5 gamma draws).

    "Gaussian" means the normal-family inits (``"gaussian"``, ``"glorot_normal"``,
    ``"lecun_normal"``, ``"he_normal"``) with the variance :func:`jaxfb.random_filterbank` gives
    them. Gamma draws are exact (Marsaglia-Tsang, redrawn until accepted).

    Args:
        key: a JAX PRNG key; the only source of randomness.
        num_filters: ``J >= 1``, static Python int.
        length: ``T >= 1``, static Python int.
        n: signal length ``N >= T``, static Python int.
        batch_shape: leading batch shape (static), default ``()``.
        method: ``"auto"``, ``"weights"``, ``"gram"`` or ``"spectrum"``; an explicit method that
            does not apply raises ``ValueError``.
        init: an init name of :func:`jaxfb.random_filterbank` (default ``"gaussian"``).
        stride: decimation factor ``d >= 1`` dividing ``n``, static Python int (default 1).
        dtype: a float dtype; default float32, or float64 when ``jax_enable_x64`` is on.

    Returns:
        ``FrameBounds(lower, upper)``, each of shape ``batch_shape``.

    Examples:
        >>> import jax, jaxfb
        >>> A, B = jaxfb.sample_frame_bounds(jax.random.key(0), 40, 1024, 1024, batch_shape=(1000,))
        >>> A.shape, bool((0 < A).all() and (A < B).all())  # 513 gamma draws each, no FFT
        ((1000,), True)
        >>> round(float(A.mean()), 1), round(float(B.mean()), 1)  # exact: 0.5854, 1.5556
        (0.6, 1.6)
    """
    _check_key(key)
    J = v.static_int("num_filters", num_filters, minimum=1)
    T = v.static_int("length", length, minimum=1)
    n = v.signal_length("n", n, T)
    stride = v.stride("stride", stride, n)
    batch = v.shape_tuple("batch_shape", batch_shape)
    init_spec(init)
    dtype = v.float_dtype(dtype)
    method = _resolve_method(method, J, T, n, stride, init)
    return _sample_frame_bounds(
        key, J=J, T=T, n=n, batch=batch, method=method, init=init, stride=stride, dtype=dtype
    )


# --------------------------------------------------------------------------------------------
# The engine's draws: one Littlewood-Paley sum per key, by the cheapest exact path


def _lp_method(num_filters: int, length: int, n: int, init: str, method: str = "auto") -> str:
    """The path a Littlewood-Paley draw of ``(J, T, n, init)`` takes (``method="auto"``: the
    cheapest exact one by :func:`path_cost` at stride 1; an explicit one is checked).

    Static in ``(J, T, n, init)``: it depends on no device, batch or chunk, so a sweep point
    draws through one path whatever runs it."""
    return _resolve_method(method, num_filters, length, n, 1, init)


def _draw_lp(key: jax.Array, num_filters: int, length: int, n: int, init: str, method: str, dtype):
    r"""One draw of the Littlewood-Paley sum ``(n//2 + 1,)`` of ``J`` filters of ``init`` through
    ``method`` (resolved, see :func:`lp_method`); traceable, one key per draw (vmap over keys).

    Every method draws from the law of ``littlewood_paley(random_filterbank(key, J, T,
    init=init), n)``, jointly over the frequencies, so the frame bounds and the energies of any
    signals computed from it have their exact joint law; the draws a key gives differ by method.
    """
    J, T = num_filters, length
    if method == "weights":
        w = random_filterbank(key, J, T, init=init, dtype=dtype)
        return littlewood_paley(w, n)
    spec = init_spec(init)
    var = spec.variance(J, T, rescale=spec.name == "gaussian")
    if method == "spectrum":
        return _spectrum_lp(key, J, n, (), T * var, dtype)
    if method == "gram":
        return littlewood_paley(_bartlett(key, J, T, (), math.sqrt(var), dtype), n)
    raise ValueError(f"method must be one of {METHODS[1:]}, got {method!r}")


# --------------------------------------------------------------------------------------------
# Nested banks: J_1 < J_2 < ... filters from one draw, by Wishart additivity


def _nested_step_method(filters: int, padded: int, n: int) -> str:
    """How one increment of ``m`` filters (taps ``< padded``) is drawn: ``"gram"`` (a Bartlett
    factor of ``Wishart_L(m)``, needs ``m >= L``) when cheaper by :func:`path_cost`'s units, else
    ``"weights"`` (``m`` Gaussian filters)."""
    m, L = filters, padded
    direct = _RNG_COST * m * L + _kernel_cost(m, L, n, 1)
    if m < L:
        return "weights"
    gram = _RNG_COST * (L * (L - 1) / 2 + _NUMBERS_PER_GAMMA * L) + _kernel_cost(L, L, n, 1)
    return "gram" if gram < direct else "weights"


@functools.lru_cache(maxsize=64)
def _nested_frames_statistic(filters: tuple[int, ...], padded: int, n: int):
    r"""``(stat, methods)``: ``stat(key, {"T"}) -> {"A", "B"}`` (each ``(len(filters),)``), the
    frame bounds of the nested banks of the first ``J_1 < J_2 < ...`` filters of one draw of
    Gaussian filters with variance ``1/T`` per tap on the taps ``t < T <= padded`` (``T`` traced,
    zero beyond), each bound divided by its ``J``; ``methods`` names the path of each increment.

    The Gram matrix of the first ``J_{i+1}`` filters is that of the first ``J_i`` plus an
    independent :math:`\mathrm{Wishart}(J_{i+1} - J_i)` (additivity), so each increment's
    Littlewood-Paley sum is drawn on its own (key ``fold_in(key, i)``) by
    :func:`_nested_step_method`'s cheaper path, ``m`` Gaussian filters or the ``L`` rows of a
    Bartlett factor, and added to the running sum: every bank has its exact law, and the banks
    their exact joint law. A principal block of a Wishart matrix is Wishart, so zeroing the taps
    ``t >= T`` of the ``L x L`` factor leaves the exact law at length ``T``.
    """
    steps = list(zip((0, *filters[:-1]), filters, strict=True))
    methods = tuple(_nested_step_method(hi - lo, padded, n) for lo, hi in steps)
    dtype = v.float_dtype(None)

    def stat(key, args):
        T = jnp.asarray(args["T"])
        scale = jnp.where(jnp.arange(padded) < T, jax.lax.rsqrt(T.astype(dtype)), 0).astype(dtype)
        lp, lower, upper = None, [], []
        for i, ((lo, hi), method) in enumerate(zip(steps, methods, strict=True)):
            k = jax.random.fold_in(key, i)
            if method == "gram":
                w = _bartlett(k, hi - lo, padded, (), 1.0, dtype)
            else:
                w = jax.random.normal(k, (hi - lo, padded), dtype)
            block = littlewood_paley(w * scale[None, :], n)
            lp = block if lp is None else lp + block
            lower.append(jnp.min(lp) / hi)
            upper.append(jnp.max(lp) / hi)
        return {"A": jnp.stack(lower), "B": jnp.stack(upper)}

    return stat, methods


# --------------------------------------------------------------------------------------------
# Strided frame bounds of a short bank from its Gram matrix (the equivalent filterbank's kernel)

# the lag-domain kernel below builds a (T^2, d (2T - 1)) map; longer filters use the FFT kernel
_LAG_KERNEL_MAX_LENGTH = 64


@functools.lru_cache(maxsize=32)
def _polyphase_lag_map(T: int, d: int) -> np.ndarray:
    """``(T*T, d*(2T-1))`` 0/1 map: ``G.ravel() @ map`` gives ``r_p(tau) = sum_{t = p mod d}
    G[t, t - tau]`` at column ``p (2T - 1) + tau + T - 1``."""
    t, s = np.divmod(np.arange(T * T), T)
    out = np.zeros((T * T, d * (2 * T - 1)), np.float32)
    out[np.arange(T * T), (t % d) * (2 * T - 1) + (t - s) + T - 1] = 1
    return out


def _strided_bounds_from_gram(w: jax.Array, n: int, stride: int) -> tuple[jax.Array, jax.Array]:
    r"""The strided frame bounds of ``(..., K, T)`` filters (as :func:`jaxfb.frame_bounds` with
    ``stride=d``), through their Gram matrix :math:`G = w^\top w` instead of ``K`` FFTs of size
    ``n``; for short filters (``T <= 64``), so for the equivalent filterbank cheaper than the
    direct kernel's ``K`` FFTs.

    With :math:`\hat w_j(m) = \sum_t w_j[t] e^{-2\pi i m t/n}`, ``L = n/d`` and
    :math:`\omega = e^{2\pi i/d}`, the blocks :math:`M_k[a, b] = \frac1d \sum_j
    \overline{\hat w_j(k + aL)}\,\hat w_j(k + bL)` are
    :math:`M_k[a, b] = \frac1d \sum_p \omega^{(a - b) p} R_p(k + bL)` with
    :math:`R_p(m) = \sum_\tau r_p(\tau) e^{2\pi i m\tau/n}` and the polyphase lag sums
    :math:`r_p(\tau) = \sum_{t \equiv p\ (d)} G[t, t - \tau]`: ``d`` FFTs of size ``n``. The
    ``2 x 2`` blocks' eigenvalues are in closed form, larger ones by ``eigvalsh``.
    """
    K, T = w.shape[-2:]
    d, L = stride, n // stride
    batch = w.shape[:-2]
    hi = jax.lax.Precision.HIGHEST
    gram = jnp.einsum("...jt,...js->...ts", w, w, precision=hi).reshape((*batch, T * T))
    lags = jnp.matmul(gram, jnp.asarray(_polyphase_lag_map(T, d), w.dtype), precision=hi)
    lags = lags.reshape((*batch, d, 2 * T - 1))
    # tau = -(T-1) .. T-1 at index tau mod n; sum_tau r e^{+i..} = conj(fft(r)) for real r
    circ = jnp.zeros((*batch, d, n), w.dtype).at[..., np.arange(1 - T, T) % n].set(lags)
    R = jnp.conj(jnp.fft.fft(circ, axis=-1)).reshape((*batch, d, d, L))[..., : L // 2 + 1]
    a = np.arange(d)
    phase = np.exp(2j * np.pi * np.outer(a, a) / d)  # omega^(a p)
    mix = (phase[:, None, :] * np.conj(phase)[None, :, :]) / d  # [a, b, p]: omega^((a - b) p)/d
    M = jnp.einsum("abp,...pbk->...kab", jnp.asarray(mix, R.dtype), R, precision=hi)
    if d == 2:
        mean = 0.5 * (M[..., 0, 0].real + M[..., 1, 1].real)
        rad = jnp.sqrt(
            0.25 * (M[..., 0, 0].real - M[..., 1, 1].real) ** 2 + jnp.abs(M[..., 1, 0]) ** 2
        )
        low, high = mean - rad, mean + rad
    else:
        lam = jnp.linalg.eigvalsh(M)
        low, high = lam[..., 0], lam[..., -1]
    upper = jnp.max(high, axis=-1).astype(w.dtype)
    if min(K, T) < d:
        return jnp.zeros_like(upper), upper
    return jnp.maximum(jnp.min(low, axis=-1), 0).astype(w.dtype), upper
