r"""Streaming reducers: statistics of a stream of draws, merged across batches and devices.

A reducer summarises the values one statistic leaf takes over many draws without keeping them
(except :class:`Samples`, which keeps them on purpose). It has four parts, split between the
device and the host:

- ``init(shape, dtype) -> state``: the empty state (host, NumPy), the identity of ``merge``.
- ``summarize(values, mask) -> partial``: runs on the device, inside the compiled batch
  function. ``values`` is ``(B, *shape)`` (``B`` draws of the leaf), ``mask`` is ``(B,)`` bool
  and marks the real draws (the last batch is padded to the compiled size).
- ``update(state, partial) -> state``: folds one batch's partial into the state (host).
- ``merge(a, b) -> state``: combines two states (host), associative; ``update`` is
  ``merge(state, <state of the batch>)``.
- ``finalize(state) -> dict[str, ndarray]``: named results.

Exact reducers (:class:`Count`, :class:`Min`, :class:`Max`, :class:`Histogram`) reduce on the
device in the leaf's own dtype; only a tiny summary crosses to the host, and the result does not
depend on how draws were split into batches or devices (bitwise). :class:`Moments` accumulates in
float64 with Chan et al.'s pairwise update: on the device when ``jax_enable_x64`` is on, and
otherwise on the host from the batch's values (the device cannot hold float64 then).

Which leaves get which reducers is a *plan*: see :func:`resolve_reducers`.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "DEFAULT_REDUCERS",
    "Count",
    "Histogram",
    "LeafPlan",
    "Max",
    "Min",
    "Moments",
    "Reducer",
    "Samples",
    "histogram_quantile",
    "leaf_name",
    "quantile_linear",
    "resolve_reducers",
]


def _x64() -> bool:
    return jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64


def _mask_like(mask: jax.Array, values: jax.Array) -> jax.Array:
    """``(B,)`` mask reshaped to broadcast against ``(B, *shape)`` without rank promotion."""
    return mask.reshape(mask.shape + (1,) * (values.ndim - 1))


def _extreme(dtype, *, largest: bool):
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.floating):
        return np.inf if largest else -np.inf
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return info.max if largest else info.min
    if dtype == np.bool_:
        return largest
    raise TypeError(f"cannot take the min/max of values of dtype {dtype}")


class Reducer:
    """Base class of the streaming reducers (see the module docstring for the protocol).

    Subclasses are frozen dataclasses: hashable, so a compiled batch function can be cached per
    plan. ``outputs`` lists the names ``finalize`` returns (used to detect clashes).
    """

    outputs: tuple[str, ...] = ()

    def init(self, shape: tuple[int, ...], dtype) -> Any:
        raise NotImplementedError

    def summarize(self, values: jax.Array, mask: jax.Array) -> Any:
        raise NotImplementedError

    def update(self, state: Any, partial: Any) -> Any:
        raise NotImplementedError

    def merge(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def finalize(self, state: Any) -> dict[str, np.ndarray]:
        raise NotImplementedError


@dataclass(frozen=True)
class Count(Reducer):
    """Number of draws (``count``) and, per element, of non-finite values (``nonfinite``).

    ``nonfinite`` counts NaN and infinities, e.g. ``kappa = inf`` when ``A = 0``.
    """

    outputs = ("count", "nonfinite")

    def init(self, shape, dtype):
        return {"count": np.int64(0), "nonfinite": np.zeros(shape, np.int64)}

    def summarize(self, values, mask):
        m = _mask_like(mask, values)
        bad = (
            jnp.logical_not(jnp.isfinite(values))
            if jnp.issubdtype(values.dtype, jnp.inexact)
            else jnp.zeros(values.shape, bool)
        )
        return {
            "count": jnp.sum(mask, dtype=jnp.int32),
            "nonfinite": jnp.sum(jnp.logical_and(bad, m), axis=0, dtype=jnp.int32),
        }

    def update(self, state, partial):
        return self.merge(state, partial)

    def merge(self, a, b):
        return {
            "count": np.int64(a["count"]) + np.int64(b["count"]),
            "nonfinite": np.asarray(a["nonfinite"], np.int64)
            + np.asarray(b["nonfinite"], np.int64),
        }

    def finalize(self, state):
        return {"count": np.asarray(state["count"]), "nonfinite": np.asarray(state["nonfinite"])}


def _moments_of(values: np.ndarray) -> dict[str, np.ndarray]:
    """Count, mean and centred sum of squares of ``values`` along axis 0, in float64 (two-pass)."""
    v = np.asarray(values, np.float64)
    n = v.shape[0]
    if n == 0:
        z = np.zeros(v.shape[1:])
        return {"n": np.float64(0), "mean": z, "m2": z.copy()}
    with np.errstate(invalid="ignore", over="ignore"):
        mean = v.mean(axis=0)
        m2 = np.sum((v - mean) ** 2, axis=0)
    return {"n": np.float64(n), "mean": mean, "m2": m2}


def chan_merge(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, np.ndarray]:
    r"""Merge two ``(n, mean, m2)`` summaries (Chan, Golub & LeVeque 1979), in float64.

    .. math:: n = n_a + n_b,\quad \delta = \bar x_b - \bar x_a,\quad
              \bar x = \bar x_a + \delta\,n_b/n,\quad M_2 = M_{2,a} + M_{2,b} + \delta^2 n_a n_b/n
    """
    na, nb = np.float64(a["n"]), np.float64(b["n"])
    if nb == 0:
        return {
            "n": na,
            "mean": np.asarray(a["mean"], np.float64),
            "m2": np.asarray(a["m2"], np.float64),
        }
    if na == 0:
        return {
            "n": nb,
            "mean": np.asarray(b["mean"], np.float64),
            "m2": np.asarray(b["m2"], np.float64),
        }
    n = na + nb
    ma, mb = np.asarray(a["mean"], np.float64), np.asarray(b["mean"], np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        delta = mb - ma
        mean = ma + delta * (nb / n)
        m2 = (
            np.asarray(a["m2"], np.float64)
            + np.asarray(b["m2"], np.float64)
            + delta**2 * (na * nb / n)
        )
    return {"n": n, "mean": mean, "m2": m2}


@dataclass(frozen=True)
class Moments(Reducer):
    r"""Mean, variance (``ddof=1``), standard deviation and standard error, accumulated in float64.

    Each batch is reduced to ``(n, mean, M2)`` with a two-pass formula, and batches are combined
    with Chan et al.'s update (:func:`chan_merge`), which stays accurate where the naive
    ``sum(x^2) - n mean^2`` cancels. With ``jax_enable_x64`` on, the batch reduction runs on the
    device in float64; otherwise the batch's values go to the host and are reduced there in
    float64 (``B`` numbers per element per batch). Non-finite values propagate (``inf``/``NaN``).

    Outputs: ``mean``, ``var``, ``std``, ``se`` (``std / sqrt(count)``); the number of draws is
    :class:`Count`'s ``count`` (and the run's ``num_draws``).
    """

    outputs = ("mean", "var", "std", "se")

    def init(self, shape, dtype):
        return {"n": np.float64(0), "mean": np.zeros(shape), "m2": np.zeros(shape)}

    def summarize(self, values, mask):
        if not _x64():
            return {"values": values, "mask": mask}
        v = values.astype(jnp.float64)
        m = _mask_like(mask, v)
        n = jnp.sum(mask, dtype=jnp.float64)
        mean = jnp.sum(jnp.where(m, v, 0.0), axis=0) / jnp.maximum(n, 1.0)
        m2 = jnp.sum(jnp.where(m, (v - mean[None]) ** 2, 0.0), axis=0)
        return {"n": n, "mean": mean, "m2": m2}

    def update(self, state, partial):
        if "values" in partial:
            partial = _moments_of(np.asarray(partial["values"])[np.asarray(partial["mask"])])
        return chan_merge(state, partial)

    def merge(self, a, b):
        return chan_merge(a, b)

    def finalize(self, state):
        n = float(state["n"])
        mean = np.asarray(state["mean"], np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = (
                np.asarray(state["m2"], np.float64) / (n - 1)
                if n > 1
                else np.full_like(mean, np.nan)
            )
            std = np.sqrt(var)
            se = std / math.sqrt(n) if n > 0 else np.full_like(mean, np.nan)
        return {"mean": mean, "var": var, "std": std, "se": se}


@dataclass(frozen=True)
class Min(Reducer):
    """Elementwise minimum over draws (``min``). Exact; NaN propagates."""

    outputs = ("min",)

    def init(self, shape, dtype):
        return np.full(shape, _extreme(dtype, largest=True), np.result_type(dtype, np.float64))

    def summarize(self, values, mask):
        fill = jnp.asarray(_extreme(values.dtype, largest=True), values.dtype)
        return jnp.min(jnp.where(_mask_like(mask, values), values, fill), axis=0)

    def update(self, state, partial):
        return self.merge(state, partial)

    def merge(self, a, b):
        return np.minimum(a, np.asarray(b, a.dtype))

    def finalize(self, state):
        return {"min": np.asarray(state)}


@dataclass(frozen=True)
class Max(Reducer):
    """Elementwise maximum over draws (``max``). Exact; NaN propagates."""

    outputs = ("max",)

    def init(self, shape, dtype):
        return np.full(shape, _extreme(dtype, largest=False), np.result_type(dtype, np.float64))

    def summarize(self, values, mask):
        fill = jnp.asarray(_extreme(values.dtype, largest=False), values.dtype)
        return jnp.max(jnp.where(_mask_like(mask, values), values, fill), axis=0)

    def update(self, state, partial):
        return self.merge(state, partial)

    def merge(self, a, b):
        return np.maximum(a, np.asarray(b, a.dtype))

    def finalize(self, state):
        return {"max": np.asarray(state)}


@dataclass(frozen=True)
class Histogram(Reducer):
    """Counts in fixed bins ``[e_0, e_1), ..., [e_{k-1}, e_k]`` (NumPy's convention), exact.

    Values below ``e_0`` or above ``e_k`` are counted in ``underflow`` / ``overflow``, NaNs in
    ``nan``, so nothing is dropped silently. The edges are rounded once to the leaf's dtype and
    the rounded edges are the ones reported (and used): a count is exact for the edges returned.

    Args:
        edges: strictly increasing bin edges, at least two (e.g. ``np.geomspace(1e-3, 1e3, 601)``).
        prefix: output names are ``{prefix}_counts``, ``{prefix}_edges``, ``{prefix}_underflow``,
            ``{prefix}_overflow``, ``{prefix}_nan`` (default ``"hist"``); change it to keep two
            histograms of one leaf apart.

    Counts have shape ``(*shape, k)``.
    """

    edges: tuple[float, ...]
    prefix: str = "hist"
    outputs: tuple[str, ...] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        e = np.asarray(self.edges, np.float64)
        if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or not np.all(np.diff(e) > 0):
            raise ValueError(
                f"Histogram edges must be a 1-D strictly increasing finite sequence of at least "
                f"two values, got shape {e.shape}"
            )
        object.__setattr__(self, "edges", tuple(float(x) for x in e))
        p = self.prefix
        object.__setattr__(
            self,
            "outputs",
            tuple(f"{p}_{s}" for s in ("counts", "edges", "underflow", "overflow", "nan")),
        )

    def _edges(self, dtype) -> np.ndarray:
        dtype = np.dtype(dtype) if np.issubdtype(np.dtype(dtype), np.floating) else np.float64
        e = np.asarray(self.edges, np.float64).astype(dtype)
        if not np.all(np.diff(e) > 0):
            raise ValueError(f"Histogram edges are not strictly increasing once rounded to {dtype}")
        return e

    def init(self, shape, dtype):
        k = len(self.edges) - 1
        return {
            "counts": np.zeros((*shape, k + 3), np.int64),
            "edges": self._edges(dtype).astype(np.float64),
        }

    def summarize(self, values, mask):
        k = len(self.edges) - 1
        dtype = values.dtype if jnp.issubdtype(values.dtype, jnp.floating) else jnp.float32
        e = jnp.asarray(self._edges(dtype))
        v = values.astype(dtype)
        # slot 0: underflow, 1..k: bins, k + 1: overflow, k + 2: NaN
        slot = jnp.searchsorted(e, v, side="right")
        slot = jnp.where(v == e[-1], k, slot)
        slot = jnp.where(jnp.isnan(v), k + 2, slot)
        B = values.shape[0]
        size = math.prod(values.shape[1:])
        flat = slot.reshape(B, size)
        element = jnp.broadcast_to(jnp.arange(size)[None, :], (B, size))
        weight = jnp.broadcast_to(mask[:, None], (B, size)).astype(jnp.int32)
        counts = jnp.zeros((size, k + 3), jnp.int32).at[element, flat].add(weight)
        return counts.reshape(*values.shape[1:], k + 3)

    def update(self, state, partial):
        return {"counts": state["counts"] + np.asarray(partial, np.int64), "edges": state["edges"]}

    def merge(self, a, b):
        return {"counts": a["counts"] + b["counts"], "edges": a["edges"]}

    def finalize(self, state):
        c = state["counts"]
        p = self.prefix
        return {
            f"{p}_counts": c[..., 1:-2],
            f"{p}_edges": state["edges"],
            f"{p}_underflow": c[..., 0],
            f"{p}_overflow": c[..., -2],
            f"{p}_nan": c[..., -1],
        }


@dataclass(frozen=True)
class Samples(Reducer):
    """Keep every draw (in draw order) and, optionally, exact quantiles of them.

    Memory grows with the number of draws: ``count * prod(shape)`` values of the leaf's dtype.
    Quantiles use NumPy's default definition (linear interpolation, as ``np.quantile``) in
    float64, see :func:`quantile_linear`.

    Args:
        quantiles: probabilities in ``[0, 1]``; output ``quantiles`` has shape
            ``(len(quantiles), *shape)``. Empty for none.
        keep: return the samples as output ``samples`` (``(count, *shape)``); ``False`` keeps them
            only until the quantiles are computed.
    """

    quantiles: tuple[float, ...] = ()
    keep: bool = True
    outputs: tuple[str, ...] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        q = tuple(float(p) for p in np.atleast_1d(np.asarray(self.quantiles, np.float64)))
        if any(not (0.0 <= p <= 1.0) for p in q):
            raise ValueError(f"quantiles must lie in [0, 1], got {self.quantiles!r}")
        object.__setattr__(self, "quantiles", q)
        names = (("samples",) if self.keep else ()) + (("quantiles",) if q else ())
        object.__setattr__(self, "outputs", names)

    def init(self, shape, dtype):
        return {"chunks": [], "shape": tuple(shape), "dtype": np.dtype(dtype)}

    def summarize(self, values, mask):
        return {"values": values, "mask": mask}

    def update(self, state, partial):
        v = np.asarray(partial["values"])[np.asarray(partial["mask"])]
        return {**state, "chunks": [*state["chunks"], v]}

    def merge(self, a, b):
        return {**a, "chunks": [*a["chunks"], *b["chunks"]]}

    def finalize(self, state):
        if state["chunks"]:
            s = np.concatenate(state["chunks"], axis=0)
        else:
            s = np.zeros((0, *state["shape"]), state["dtype"])
        out = {}
        if self.keep:
            out["samples"] = s
        if self.quantiles:
            if s.shape[0]:
                out["quantiles"] = quantile_linear(s, self.quantiles)
            else:
                out["quantiles"] = np.full((len(self.quantiles), *state["shape"]), np.nan)
        return out


def quantile_linear(samples: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """``np.quantile(samples, q, axis=0)`` (linear interpolation, NumPy's default), in float64,
    except that two equal infinite neighbours give that infinity instead of ``NaN``."""
    s = np.sort(np.asarray(samples, np.float64), axis=0)
    h = (s.shape[0] - 1) * np.asarray(q, np.float64)
    lo = np.floor(h).astype(int)
    hi = np.minimum(lo + 1, s.shape[0] - 1)
    frac = (h - lo).reshape((-1,) + (1,) * (s.ndim - 1))
    a, b = s[lo], s[hi]
    with np.errstate(invalid="ignore"):
        val = a + frac * (b - a)
    return np.where((a == b) | (frac == 0), a, val)


DEFAULT_REDUCERS: tuple[Reducer, ...] = (Count(), Moments(), Min(), Max())
"""Reducers given to every leaf when ``reducers=None``: count, mean/variance, min, max."""


def histogram_quantile(
    counts: np.ndarray,
    edges: np.ndarray,
    q: float | Sequence[float],
    *,
    underflow: np.ndarray | int = 0,
    overflow: np.ndarray | int = 0,
) -> np.ndarray:
    """Quantiles read off a fixed-edge histogram, interpolating linearly inside a bin.

    The error is at most one bin width (plus the sampling error of the quantile itself). A
    quantile that falls in the underflow or overflow is ``NaN``: the histogram cannot place it.

    Args:
        counts: ``(..., k)`` bin counts.
        edges: ``(k + 1,)`` bin edges.
        q: probability or probabilities in ``[0, 1]``.
        underflow, overflow: ``(...)`` counts outside the edges (they shift the CDF).

    Returns:
        ``(len(q), ...)`` array (or ``(...)`` for a scalar ``q``).
    """
    counts = np.asarray(counts, np.float64)
    edges = np.asarray(edges, np.float64)
    if edges.shape != (counts.shape[-1] + 1,):
        raise ValueError(f"edges must have shape ({counts.shape[-1] + 1},), got {edges.shape}")
    scalar = np.ndim(q) == 0
    qs = np.atleast_1d(np.asarray(q, np.float64))
    under = np.asarray(underflow, np.float64)[..., None]
    over = np.asarray(overflow, np.float64)[..., None]
    total = under + counts.sum(axis=-1, keepdims=True) + over  # (..., 1)
    cum = under + np.cumsum(counts, axis=-1)  # count up to each right edge
    out = np.empty((qs.size, *counts.shape[:-1]))
    k = counts.shape[-1]
    for i, p in enumerate(qs):
        target = p * total  # (..., 1)
        # the first non-empty bin whose right edge holds at least `target` of the mass
        ok = (cum >= target) & (counts > 0)
        j = np.argmax(ok, axis=-1)[..., None]
        c = np.take_along_axis(counts, j, axis=-1)
        left = np.take_along_axis(cum, j, axis=-1) - c
        frac = np.clip((target - left) / np.where(c > 0, c, 1.0), 0.0, 1.0)
        val = edges[j] + frac * (edges[np.minimum(j + 1, k)] - edges[j])
        bad = ~ok.any(axis=-1, keepdims=True) | (target < under) | (target > total - over)
        out[i] = np.where(bad, np.nan, val)[..., 0]
    return out[0] if scalar else out


class LeafPlan(NamedTuple):
    """One statistic leaf and its reducers, as resolved by :func:`resolve_reducers`."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    reducers: tuple[Reducer, ...]


def _key_name(k) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def leaf_name(path) -> str:
    """``"a/b/0"`` for the pytree path of a leaf (``"value"`` for a bare array)."""
    return "/".join(_key_name(k) for k in path) or "value"


def _as_reducers(spec, where: str) -> tuple[Reducer, ...]:
    if isinstance(spec, Reducer):
        return (spec,)
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        out = tuple(spec)
        if all(isinstance(r, Reducer) for r in out):
            return out
    raise TypeError(f"reducers{where} must be a Reducer or a sequence of Reducers, got {spec!r}")


def resolve_reducers(out_shapes, reducers=None) -> tuple[tuple[LeafPlan, ...], Any]:
    """Match every leaf of a statistic's output to its reducers.

    Args:
        out_shapes: the statistic's output for one draw (arrays or ``ShapeDtypeStruct``\\ s).
        reducers: ``None`` (:data:`DEFAULT_REDUCERS` for every leaf); a :class:`Reducer` or a
            sequence of them (for every leaf); or a mapping from leaf names to either, where a
            leaf's name is its pytree path joined by ``/`` (``"A"``, ``"fb/lower"``, ``"0"``;
            ``"value"`` for a bare array) and keys may be ``fnmatch`` patterns (``"*"``). The
            first matching key wins; a leaf that no key matches is an error.

    Returns:
        ``(plans, treedef)``: one :class:`LeafPlan` per leaf, in pytree order.
    """
    flat, treedef = jax.tree_util.tree_flatten_with_path(out_shapes)
    if not flat:
        raise ValueError("the statistic returned no arrays")
    plans = []
    for path, leaf in flat:
        name = leaf_name(path)
        if reducers is None:
            rs = DEFAULT_REDUCERS
        elif isinstance(reducers, Mapping):
            match = next((k for k in reducers if fnmatch.fnmatchcase(name, k)), None)
            if match is None:
                raise ValueError(
                    f"no reducers for statistic leaf {name!r}: the keys of reducers are "
                    f"{list(reducers)}; add {name!r} or a pattern such as '*'"
                )
            rs = _as_reducers(reducers[match], f"[{match!r}]")
        else:
            rs = _as_reducers(reducers, "")
        if not rs:
            raise ValueError(f"statistic leaf {name!r} has an empty list of reducers")
        seen: dict[str, Reducer] = {}
        for r in rs:
            for o in r.outputs:
                if o in seen:
                    raise ValueError(
                        f"reducers {seen[o]!r} and {r!r} of leaf {name!r} both produce {o!r}"
                    )
                seen[o] = r
        plans.append(LeafPlan(name, tuple(leaf.shape), np.dtype(leaf.dtype), rs))
    names = [p.name for p in plans]
    if len(set(names)) != len(names):
        raise ValueError(f"statistic leaves have clashing names {names}")
    return tuple(plans), treedef
