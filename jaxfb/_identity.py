"""One identity scheme for everything jaxfb resumes: Monte Carlo checkpoints, sweep points and
the reproduction's finished experiments.

A run is identified by a *record*, a JSON-able dict of what determines its numbers; its
fingerprint is :func:`digest` of the record, the SHA-256 of its canonical JSON
(:func:`jaxfb.io.to_json`). Two helpers fill records: :func:`function_digest` (what a traced
function computes: its jaxpr and the values of the arrays it closes over) and
:func:`source_digest` (jaxfb's own source files, so an edited checkout never reuses the results
of the old code).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .io import to_json

__all__ = ["digest", "function_digest", "source_digest", "values_digest"]


def digest(record: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``record``."""
    return hashlib.sha256(to_json(record, indent=None).encode()).hexdigest()


def _array_bytes(x: Any) -> tuple[str, bytes]:
    if jnp.issubdtype(getattr(x, "dtype", np.float32), jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    a = np.ascontiguousarray(np.asarray(x))
    return f"{a.dtype}{a.shape}", a.tobytes()


def function_digest(fn, *example_args) -> str:
    """A digest of what ``fn`` computes: its jaxpr for ``example_args`` and its constants' values.

    Two functions with the same output shapes but different sizes, filters or closed-over arrays
    differ here. (The jaxpr's text can change with the JAX version: a digest from another
    version counts as another function's.)
    """
    closed = jax.make_jaxpr(fn)(*example_args)
    h = hashlib.sha256(str(closed.jaxpr).encode())
    for c in closed.consts:
        meta, data = _array_bytes(c)
        h.update(meta.encode())
        h.update(data)
    return h.hexdigest()


def values_digest(tree: Any) -> str:
    """A digest of a pytree of arrays: structure, dtypes, shapes and values."""
    leaves, treedef = jax.tree.flatten(tree)
    h = hashlib.sha256(str(treedef).encode())
    for leaf in leaves:
        meta, data = _array_bytes(leaf)
        h.update(meta.encode())
        h.update(data)
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """SHA-256 of the jaxfb package's Python sources (relative paths and contents)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()
