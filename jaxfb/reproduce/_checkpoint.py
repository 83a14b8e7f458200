"""Per-experiment checkpoints of a reproduction run: what a finished experiment produced.

After each experiment :func:`jaxfb.reproduce.run` writes ``checkpoints/NAME.json`` (its key
numbers, claims, notes, timings, sources, metadata and figure captions) and, when samples are
kept, ``checkpoints/NAME.npz`` (its draws) into the output directory, each atomically (a
temporary file renamed over the target). The JSON is tagged with a *fingerprint*: a SHA-256 of
everything that determines the experiment's numbers:

- the configuration fields the experiment reads (:func:`fingerprint_inputs`): the seed and the
  shared sizes (``draws``, ``levels``, ``chunk``, ``length_buckets``, ...) and the experiment's
  own fields, but not the fields owned only by another built-in experiment, nor ``mode``,
  ``save_samples``, ``experiments`` and ``training``; the training experiment reads the seed and
  its ``training_*`` fields only; a registered experiment (also one registered under a built-in
  name) reads everything, ``extra`` included, and its function's qualified name is part of the
  fingerprint;
- the SHA-256 of each ``audio_files`` WAV (for ``"audio"``);
- the versions of jaxfb, JAX and jaxlib, a digest of jaxfb's source files
  (:func:`source_digest`), the backend and the x64 flag.

A rerun into the same directory with the same fingerprint loads a checkpoint instead of
recomputing the experiment (:func:`load_checkpoint`); any difference recomputes it and
overwrites the checkpoint. The figures' PNG, PDF and CSV files must still be there.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .._env import environment
from ..io import atomic_write_bytes
from ._config import EXPERIMENTS, ReproduceConfig
from ._results import Claim, ExperimentOutput, FigureOutput, KeyNumber

__all__ = [
    "CHECKPOINTS",
    "Checkpoint",
    "fingerprint",
    "fingerprint_inputs",
    "load_checkpoint",
    "output_record",
    "save_checkpoint",
]

CHECKPOINTS = "checkpoints"
"""Subdirectory of the output directory holding the checkpoints."""

_FORMAT = 1
_NOT_NUMBERS = ("mode", "save_samples", "experiments", "training")
_OWNED = {
    "energy": ("energy_n", "energy_lengths"),
    "audio": ("audio_n", "audio_rate", "audio_lengths", "audio_files", "hist_bins"),
    "frames": (
        "frames_n",
        "frames_filters",
        "frames_lengths",
        "kappa_filters",
        "sweep_filters",
        "sweep_lengths",
        "fit_min_filters",
    ),
}


def _plain(obj: Any) -> Any:
    """JSON-ready copy with exact floats: NumPy scalars to Python, tuples and arrays to lists."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fingerprint_inputs(config: ReproduceConfig, name: str, fn: Any = None) -> dict[str, Any]:
    """Everything that determines the numbers of experiment ``name`` (JSON-ready).

    Args:
        config: the run's configuration.
        name: the experiment.
        fn: ``None`` for a built-in experiment; the function of a registered one (one that
            replaces a built-in included), which may read any field: then the whole
            configuration, ``extra`` and the function's qualified name are the inputs.
    """
    data = config.to_dict()
    for k in _NOT_NUMBERS:
        data.pop(k)
    if fn is None and name == "training":
        data = {k: v for k, v in data.items() if k == "seed" or k.startswith("training_")}
    elif fn is None and name in EXPERIMENTS:
        others = {f for e, owned in _OWNED.items() if e != name for f in owned}
        data = {
            k: v
            for k, v in data.items()
            if k not in others and k != "extra" and not k.startswith("training_")
        }
    else:
        data["extra"] = json.loads(json.dumps(_plain(data["extra"]), default=repr))
        data["function"] = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
    if name == "audio" and fn is None and config.audio_files:
        data["audio_files_sha256"] = [_sha256_file(f) for f in config.audio_files]
    env = environment()
    return {
        "experiment": name,
        "config": _plain(data),
        "versions": {k: env["versions"][k] for k in ("jaxfb", "jax", "jaxlib")},
        "jaxfb_source_sha256": source_digest(),
        "device": {k: env["device"][k] for k in ("backend", "x64")},
    }


@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """SHA-256 of the jaxfb package's Python sources (relative paths and contents).

    Part of every fingerprint, so that a checkpoint written by other code (an edited development
    checkout, whose version number has not changed) is recomputed, not reused.
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def fingerprint(inputs: dict[str, Any]) -> str:
    """SHA-256 of :func:`fingerprint_inputs`' dict (canonical JSON)."""
    text = json.dumps(inputs, sort_keys=True, allow_nan=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def output_record(res: ExperimentOutput) -> dict[str, Any]:
    """The JSON form of what an experiment produced (without its samples and figure objects).

    Floats survive a JSON round trip exactly (``NaN`` and ``Infinity`` included), so a report
    built from a loaded record equals one built from the fresh record.
    """
    return json.loads(
        json.dumps(
            _plain(
                {
                    "figures": [
                        {"name": f.name, "title": f.title, "caption": f.caption}
                        for f in res.figures
                    ],
                    "numbers": [dataclasses.asdict(n) for n in res.numbers],
                    "claims": [dataclasses.asdict(c) for c in res.claims],
                    "notes": list(res.notes),
                    "sources": dict(res.sources),
                    "metadata": dict(res.metadata),
                }
            ),
            allow_nan=True,
        )
    )


class Checkpoint:
    """A finished experiment, as the runner uses it: a record, its timings and its samples.

    Attributes:
        figures: :class:`FigureOutput` with ``figure=None`` and an empty table (the files are
            on disk).
        numbers, claims, notes, sources, metadata: as in :class:`ExperimentOutput`.
        timings: seconds per phase of the run that computed it.
        samples: its draws (empty when not kept).
        finished_utc: when it finished.
    """

    def __init__(self, record: dict[str, Any], timings, samples, finished_utc: str):
        self.figures = [
            FigureOutput(f["name"], f["title"], f["caption"], None, {}) for f in record["figures"]
        ]
        self.numbers = [KeyNumber(**n) for n in record["numbers"]]
        self.claims = [Claim(**c) for c in record["claims"]]
        self.notes = list(record["notes"])
        self.sources = dict(record["sources"])
        self.metadata = dict(record["metadata"])
        self.timings = dict(timings)
        self.samples = dict(samples)
        self.finished_utc = finished_utc


def save_checkpoint(
    out: Path,
    name: str,
    inputs: dict[str, Any],
    record: dict[str, Any],
    timings: dict[str, float],
    samples: dict[str, np.ndarray] | None,
) -> Checkpoint:
    """Write ``checkpoints/NAME.npz`` (if ``samples`` is not ``None``), then ``NAME.json``.

    The JSON goes last and names the SHA-256 of the NPZ, so a JSON on disk always describes a
    complete pair.
    """
    folder = out / CHECKPOINTS
    folder.mkdir(exist_ok=True)
    sample_info = None
    if samples is not None:
        buf = io.BytesIO()
        np.savez(buf, **samples)
        data = buf.getvalue()
        atomic_write_bytes(folder / f"{name}.npz", data)
        sample_info = {
            "file": f"{name}.npz",
            "sha256": hashlib.sha256(data).hexdigest(),
            "names": sorted(samples),
        }
    finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    doc = {
        "format": _FORMAT,
        "experiment": name,
        "fingerprint": fingerprint(inputs),
        "inputs": inputs,
        "jaxfb_version": inputs["versions"]["jaxfb"],
        "finished_utc": finished,
        "record": record,
        "timings": _plain(timings),
        "samples": sample_info,
    }
    text = json.dumps(doc, indent=1, allow_nan=True) + "\n"
    atomic_write_bytes(folder / f"{name}.json", text.encode())
    return Checkpoint(record, timings, samples or {}, finished)


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    keys = sorted(set(old) | set(new))
    out = []
    for k in keys:
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}")
    return out


def load_checkpoint(
    out: Path, name: str, inputs: dict[str, Any], *, need_samples: bool
) -> tuple[Checkpoint | None, str]:
    """The checkpoint of ``name`` in ``out`` if it matches ``inputs``, else ``None``.

    Returns:
        ``(checkpoint, why)``: ``why`` says why there is none (``""`` when there is no file
        at all, so a first run stays quiet).
    """
    folder = out / CHECKPOINTS
    path = folder / f"{name}.json"
    if not path.exists():
        return None, ""
    try:
        doc = json.loads(path.read_text())
        if doc.get("format") != _FORMAT or doc.get("experiment") != name:
            return None, "its checkpoint has another format"
        if doc.get("fingerprint") != fingerprint(inputs):
            diff = _differences(doc.get("inputs", {}), inputs)
            return None, f"its checkpoint is of different inputs ({', '.join(diff) or '?'})"
        record = doc["record"]
        missing = [
            f"{f['name']}.{ext}"
            for f in record["figures"]
            for ext in ("png", "pdf", "csv")
            if not (out / f"{f['name']}.{ext}").exists()
        ]
        if missing:
            return None, f"files of its figures are missing ({', '.join(missing)})"
        samples: dict[str, np.ndarray] = {}
        info = doc.get("samples")
        if need_samples:
            if info is None:
                return None, "its checkpoint has no samples (written with save_samples=False)"
            npz = folder / info["file"]
            if not npz.exists() or _sha256_file(npz) != info["sha256"]:
                return None, f"its samples {npz.name} are missing or changed"
            with np.load(npz) as z:
                samples = {k: z[k] for k in info["names"]}
        return Checkpoint(record, doc["timings"], samples, doc["finished_utc"]), ""
    except (OSError, ValueError, KeyError, TypeError) as err:
        return None, f"its checkpoint cannot be read ({type(err).__name__}: {err})"
