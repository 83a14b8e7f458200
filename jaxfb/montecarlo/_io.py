"""Files of a sweep: atomic writes, point files (.npz + .json), the CSV summary, run metadata."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import socket
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "atomic_write_bytes",
    "check_writable",
    "environment",
    "load_point",
    "read_summary",
    "remove_stale_temporaries",
    "write_csv",
]

_TMP_PREFIX = ".jaxfb-tmp-"


def _tmp_name(final: Path) -> str:
    return f"{_TMP_PREFIX}{socket.gethostname()}-{os.getpid()}-{final.name}-"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem allows opening a directory
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[io.BufferedWriter], None]) -> None:
    """Write ``path`` all at once: ``write(f)`` fills a temporary file next to it, which is
    flushed, fsynced and moved into place with :func:`os.replace`. Readers (and a rerun after
    ``kill -9``) see the old file or the complete new one, never a torn one. The file gets the
    usual permissions (``0o666`` less the umask), not :func:`tempfile.mkstemp`'s ``0o600``."""
    final = Path(path)
    tmp = final.parent / f"{_tmp_name(final)}{uuid.uuid4().hex}"
    try:
        with open(tmp, "xb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(final.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """:func:`atomic_write` of a bytes object."""
    atomic_write(path, lambda f: f.write(data))


def save_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Atomically write ``arrays`` as an uncompressed ``.npz``."""
    atomic_write(path, lambda f: np.savez(f, **arrays))


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _finite_json(o):
    """JSON has no inf/NaN: write them as the strings ``"inf"``, ``"-inf"``, ``"nan"``."""
    if isinstance(o, float) and not math.isfinite(o):
        return "nan" if math.isnan(o) else ("inf" if o > 0 else "-inf")
    if isinstance(o, dict):
        return {k: _finite_json(x) for k, x in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite_json(x) for x in o]
    return o


def dumps(obj: Any) -> str:
    """Canonical JSON (sorted keys; inf/NaN as strings); also used to hash configurations."""
    plain = json.loads(json.dumps(obj, default=_json_default))
    return json.dumps(_finite_json(plain), sort_keys=True, indent=1, allow_nan=False)


def save_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as JSON."""
    atomic_write_bytes(path, (dumps(obj) + "\n").encode())


def load_point(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a sweep point: ``(metadata from its .json, arrays from its .npz)``.

    ``path`` may name either file or the common stem.
    """
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".json", ".npz") else p
    meta = json.loads(stem.with_suffix(".json").read_text())
    with np.load(stem.with_suffix(".npz"), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return meta, arrays


def check_writable(folder: str | os.PathLike) -> Path:
    """Create ``folder`` if needed and prove it is writable by writing and removing a file."""
    p = Path(folder)
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=_TMP_PREFIX + "probe-", dir=p)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OSError(f"output folder {str(p)!r} is not writable: {err}") from None
    return p


def remove_stale_temporaries(folder: Path) -> int:
    """Delete temporaries left by killed runs of this host (their process is gone)."""
    host = socket.gethostname()
    removed = 0
    for f in folder.glob(_TMP_PREFIX + "*"):
        rest = f.name[len(_TMP_PREFIX) :]
        if not rest.startswith(host + "-"):
            continue
        pid = rest[len(host) + 1 :].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running: not ours to delete
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        with contextlib.suppress(OSError):
            f.unlink()
            removed += 1
    return removed


def _fmt(x: Any) -> str:
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    if isinstance(x, (np.integer,)):
        return str(int(x))
    return str(x)


def write_csv(path: str | os.PathLike, columns: Sequence[str], rows: Sequence[Mapping]) -> None:
    """Atomically write ``rows`` (dicts) as CSV with the given column order (missing: empty)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow(["" if row.get(c) is None else _fmt(row.get(c)) for c in columns])
    atomic_write_bytes(path, buf.getvalue().encode())


def _column(values: list[str]) -> np.ndarray:
    for kind in (int, float):
        try:
            return np.asarray([kind(x) if x != "" else math.nan for x in values])
        except ValueError:
            continue
    return np.asarray(values)


def read_summary(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a sweep's ``summary.csv`` into ``{column: 1-D array}`` (ints, floats or strings)."""
    p = Path(path)
    if p.is_dir():
        p = p / "summary.csv"
    with p.open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{p} is empty")
    header, body = rows[0], rows[1:]
    return {h: _column([r[i] for r in body]) for i, h in enumerate(header)}


def environment() -> dict[str, Any]:
    """Versions and devices, for the JSON sidecars (:func:`jaxfb.environment`)."""
    from .._env import environment as env

    return env()
