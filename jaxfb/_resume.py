"""Finished work stored with the identity of its inputs, and reused only for the same inputs.

A job ``name`` leaves ``name.json`` in a folder: the fingerprint (:func:`jaxfb._identity.digest`)
and the record of its inputs, when it finished, a JSON payload, and the SHA-256 of its arrays in
``name.npz`` (written first, so a JSON never names arrays that are not there). :func:`load` gives
the stored job back only when the inputs are the same, and otherwise says why not: which inputs
changed, or what is missing. The reproduction resumes its experiments this way
(``docs/reproduction.md``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import _identity, io

__all__ = ["Stored", "differences", "file_digest", "load", "save"]


class Stored(NamedTuple):
    """A stored job: its JSON ``payload``, its ``arrays`` (empty unless asked for), and the UTC
    time it finished."""

    payload: dict[str, Any]
    arrays: dict[str, np.ndarray]
    finished_utc: str


def file_digest(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two nested records.

    Examples:
        >>> differences({"a": 1, "b": {"c": 2, "d": 3}}, {"a": 1, "b": {"c": 5}})
        ['b.c', 'b.d']
    """
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}")
    return out


def save(folder: Path, name: str, inputs, payload: dict, arrays: dict | None) -> Stored:
    """Store job ``name``: ``name.npz`` (unless ``arrays`` is ``None``), then ``name.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    info = None
    if arrays is not None:
        io.save_npz(folder / f"{name}.npz", arrays)
        info = {"file": f"{name}.npz", "sha256": file_digest(folder / f"{name}.npz")}
    finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    doc = {"fingerprint": _identity.digest(inputs), "inputs": inputs, "finished_utc": finished}
    io.save_json(folder / f"{name}.json", {**doc, "payload": payload, "arrays": info})
    return Stored(payload, dict(arrays or {}), finished)


def load(folder: Path, name: str, inputs, *, need_arrays: bool) -> tuple[Stored | None, str]:
    """Job ``name`` if it was stored with the same ``inputs``; else ``(None, why)`` (``""``: never
    stored). A file that cannot be read is a reason, never an error."""
    path = folder / f"{name}.json"
    if not path.exists():
        return None, ""
    try:
        doc = io.load_json(path)
        if doc["fingerprint"] != _identity.digest(inputs):
            diff = ", ".join(differences(doc["inputs"], io.from_json(io.to_json(inputs))))
            return None, f"its checkpoint is of different inputs ({diff or '?'})"
        arrays, info = {}, doc["arrays"]
        if need_arrays:
            if info is None:
                return None, "its checkpoint has no samples (it was stored without them)"
            npz = folder / info["file"]
            if not npz.exists() or file_digest(npz) != info["sha256"]:
                return None, f"its samples {npz.name} are missing or changed"
            with np.load(npz) as z:
                arrays = {k: z[k] for k in z.files}
        return Stored(doc["payload"], arrays, doc["finished_utc"]), ""
    except (OSError, ValueError, KeyError, TypeError) as err:
        return None, f"its checkpoint cannot be read ({type(err).__name__}: {err})"
