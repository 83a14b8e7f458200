"""Checkpoints of a Monte Carlo run: the reducers' states and the draws reduced, resumable.

A checkpoint is a pickle (it holds reducer states: arrays, lists of sample chunks) written
atomically (:func:`jaxfb.io.atomic_write_bytes`) by process 0. It carries the *fingerprint* of
the run that wrote it, :func:`jaxfb._identity.digest` of a record of everything that fixes the
run's numbers (what the statistic computes, the key, the sizes, the reducers, the targets), so a
checkpoint is only ever resumed by the same run. Load only checkpoints you wrote.
"""

from __future__ import annotations

import os
import pickle
import time
from typing import Any, NamedTuple

import jax
import numpy as np

from .. import _identity as _id
from ..io import atomic_write_bytes

__all__ = ["Checkpoint", "CheckpointMismatch", "Snapshot", "saved_draws", "saved_layout"]

_FORMAT = "jaxfb.montecarlo.checkpoint/1"
# The entries of a run's record that say how it was laid out, not what it computes: a checkpoint
# whose run differs only in these is this run at other sizes (resumable at its own sizes).
_LAYOUT = ("batch", "microbatch")


def run_identity(record: dict[str, Any]) -> str:
    """The digest of a run's record without its layout (:data:`_LAYOUT`)."""
    return _id.digest({k: v for k, v in record.items() if k not in _LAYOUT})


class CheckpointMismatch(ValueError):
    """A checkpoint file that another run wrote (or that cannot be read)."""


class Snapshot(NamedTuple):
    """A consistent state of a run: reducer states, draws reduced, targets met (or ``None``)."""

    states: tuple
    draws: int
    targets_met: bool | None


def _compact(state):
    """A reducer state with :class:`Samples`' chunks joined (smaller, faster pickles)."""
    if isinstance(state, dict) and isinstance(state.get("chunks"), list) and state["chunks"]:
        return {**state, "chunks": [np.concatenate(state["chunks"], axis=0)]}
    return state


def _read(path: str) -> dict | None:
    if not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as f:
            payload = pickle.load(f)
    except Exception as e:  # any unreadable file: reported, never resumed
        raise CheckpointMismatch(
            f"checkpoint {path!r} cannot be read ({e}); delete it to start over"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise CheckpointMismatch(f"checkpoint {path!r} is not a jaxfb Monte Carlo checkpoint")
    return payload


def saved_layout(path: str | os.PathLike, identity: str) -> dict[str, int] | None:
    """``{"batch", "microbatch"}`` a checkpoint of the run ``identity`` (:func:`run_identity`)
    was written with; ``None`` without a file, for another run's or an unreadable file, and for
    files written before checkpoints recorded their layout."""
    try:
        payload = _read(os.fspath(path))
    except CheckpointMismatch:
        return None
    if payload is None or payload.get("identity") != identity:
        return None
    layout = payload.get("layout")
    return None if layout is None else {k: int(layout[k]) for k in _LAYOUT}


def saved_draws(path: str | os.PathLike) -> int | None:
    """The draws a checkpoint file holds (``None``: no file, or not a readable checkpoint)."""
    try:
        payload = _read(os.fspath(path))
    except CheckpointMismatch:
        return None
    return None if payload is None else int(payload["draws"])


class Checkpoint:
    """The checkpoint file of one run: ``load`` what it saved, ``save`` a :class:`Snapshot`.

    Args:
        path: the file.
        record: what identifies the run (a JSON-able dict); its digest is the fingerprint.
        every: seconds between the saves that :meth:`due` allows.
    """

    def __init__(self, path: str | os.PathLike, record: dict[str, Any], every: float):
        self.path = os.fspath(path)
        self.fingerprint = _id.digest(record)
        self.identity = run_identity(record)
        self.layout = {k: int(record[k]) for k in _LAYOUT if k in record}
        self.every = every
        self._last = time.monotonic()

    def load(self) -> Snapshot | None:
        """The saved snapshot of this run, ``None`` without a file.

        Raises:
            CheckpointMismatch: the file was written by another run, or cannot be read.
        """
        payload = _read(self.path)
        if payload is None:
            return None
        if payload.get("fingerprint") != self.fingerprint:
            raise CheckpointMismatch(self._mismatch(payload))
        states = tuple(tuple(st) for st in payload["states"])
        return Snapshot(states, int(payload["draws"]), payload["targets_met"])

    def _mismatch(self, payload: dict) -> str:
        saved = payload.get("layout")
        if payload.get("identity") == self.identity and saved is not None:
            return (
                f"checkpoint {self.path!r} was written by this run at batch_size="
                f"{saved['batch']}, microbatch={saved['microbatch']} (this call: batch_size="
                f"{self.layout['batch']}, microbatch={self.layout['microbatch']}); pass "
                f"batch_size={saved['batch']}, microbatch={saved['microbatch']} (or neither) to "
                "resume it, or delete it to start over"
            )
        return (
            f"checkpoint {self.path!r} was written by a different run (key, num_draws, batch "
            "size, microbatch, reducers or targets differ); delete it or pass another path"
        )

    def due(self) -> bool:
        """Whether ``every`` seconds have passed since the last save."""
        return time.monotonic() - self._last >= self.every

    def save(self, snap: Snapshot) -> None:
        """Write ``snap`` atomically (process 0 only)."""
        self._last = time.monotonic()
        if jax.process_index() != 0:
            return
        payload = {
            "format": _FORMAT,
            "fingerprint": self.fingerprint,
            "identity": self.identity,
            "layout": self.layout,
            "draws": int(snap.draws),
            "targets_met": snap.targets_met,
            "states": [tuple(_compact(s) for s in st) for st in snap.states],
        }
        atomic_write_bytes(self.path, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def check_processes_agree(path, snap: Snapshot) -> None:
    """Multi-host: every process must resume from the same checkpoint state."""
    from jax.experimental import multihost_utils

    code = {None: 0, False: 1, True: 2}[snap.targets_met]
    done = snap.draws
    here = np.asarray([done >> 20, done & 0xFFFFF, code], np.int32)
    every = np.asarray(multihost_utils.process_allgather(here))
    if not np.all(every == every[0]):
        raise ValueError(
            f"checkpoint {os.fspath(path)!r}: the processes see different saved states "
            f"(draws {[(int(a) << 20) + int(b) for a, b, _ in every]}); put the checkpoint on a "
            "filesystem that every process shares"
        )
