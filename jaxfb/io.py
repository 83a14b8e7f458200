r"""jaxfb's one I/O layer: atomic writes, JSON, CSV tables, the sweep summary, writable folders.

Every file jaxfb writes (sweep points and summaries, checkpoints, fit results, the reproduction's
tables, configs and reports, benchmark logs) goes through this module.

- **Atomic writes.** :func:`atomic_write` fills a temporary file beside the target, fsyncs it and
  moves it into place with :func:`os.replace`: a reader, or a rerun after ``kill -9``, sees the
  old file or the complete new one, never a torn one.
- **JSON, one rule for non-finite numbers.** JSON has no ``NaN`` or infinities, so
  :func:`to_json` writes them as the strings ``"nan"``, ``"inf"`` and ``"-inf"`` and
  :func:`from_json` reads those three strings back as floats: a document of finite and
  non-finite floats, ints, strings, bools, ``None``, lists and string-keyed dicts round-trips
  exactly (floats are written with :func:`repr`, which is exact). The three strings are
  therefore reserved: a string value ``"nan"`` comes back as a float. NumPy scalars and arrays
  become Python numbers and lists, tuples become lists, paths become strings.
- **CSV tables.** A table is ``{column: 1-D array}`` (numbers or strings); :func:`write_csv`
  writes floats with :func:`repr` (exact), ``None`` as an empty cell; :func:`read_csv` returns
  ints, floats (empty cells and ``nan``/``inf`` as floats) or strings per column, so a table
  written and read back compares equal.

Examples:
    >>> import math, pathlib, tempfile
    >>> from jaxfb import io
    >>> doc = {"a": [1.0, math.inf, math.nan], "b": "text"}
    >>> back = io.from_json(io.to_json(doc))
    >>> back["a"][1], math.isnan(back["a"][2]), back["b"]
    (inf, True, 'text')
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> io.write_csv(folder / "t.csv", {"J": [8, 16], "kappa": [2.5, math.inf]})
    >>> io.read_csv(folder / "t.csv")["kappa"].tolist()
    [2.5, inf]
"""

from __future__ import annotations

import contextlib
import csv
import io as _stdio
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
    "DEFAULT_COLUMNS",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_writable",
    "from_json",
    "load_json",
    "read_csv",
    "read_summary",
    "remove_stale_temporaries",
    "save_json",
    "save_npz",
    "to_json",
    "write_csv",
]

_TMP_PREFIX = ".jaxfb-tmp-"
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


# ---------------------------------------------------------------------------------------------
# atomic writes


def _tmp_name(final: Path) -> str:
    return f"{_TMP_PREFIX}{socket.gethostname()}-{os.getpid()}-{final.name}-"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem allows opening a directory
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None]) -> None:
    """Write ``path`` all at once: ``write(f)`` fills a binary temporary file next to it.

    The temporary is flushed, fsynced and moved into place with :func:`os.replace`; on any error
    (``KeyboardInterrupt`` included) it is removed and the old file, if any, is left as it was.
    The file gets the usual permissions (``0o666`` less the umask).
    """
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


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """:func:`atomic_write` of a string, UTF-8 encoded."""
    atomic_write_bytes(path, text.encode("utf-8"))


def save_npz(path: str | os.PathLike, arrays: Mapping[str, Any]) -> None:
    """Atomically write ``arrays`` as an uncompressed ``.npz``."""
    atomic_write(path, lambda f: np.savez(f, **{k: np.asarray(a) for k, a in arrays.items()}))


def check_writable(folder: str | os.PathLike, *, argument: str = "out") -> Path:
    """Create ``folder`` if needed and prove it writable by writing and removing a file.

    Raises:
        OSError: naming ``argument`` and the folder, with the reason.
    """
    p = Path(folder)
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=_TMP_PREFIX + "probe-", dir=p)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OSError(
            f"{argument}: folder {str(p)!r} is not writable ({err.strerror or err}); "
            "choose another folder or fix its permissions"
        ) from None
    return p


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Delete temporaries left in ``folder`` by killed processes of this host; return the count."""
    host = socket.gethostname()
    removed = 0
    for f in Path(folder).glob(_TMP_PREFIX + "*"):
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


# ---------------------------------------------------------------------------------------------
# JSON


def _encodable(obj: Any) -> Any:
    """A copy of ``obj`` with only JSON types; non-finite floats as the reserved strings."""
    if isinstance(obj, Mapping):
        return {str(k): _encodable(x) for k, x in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encodable(x) for x in obj]
    if isinstance(obj, np.ndarray):
        return _encodable(obj.tolist())
    if isinstance(obj, np.generic):
        return _encodable(obj.item())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot write {type(obj).__name__} as JSON: {obj!r}")


def _decoded(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _decoded(x) for k, x in obj.items()}
    if isinstance(obj, list):
        return [_decoded(x) for x in obj]
    if isinstance(obj, str) and obj in _NONFINITE:
        return _NONFINITE[obj]
    return obj


def to_json(obj: Any, *, indent: int | None = 1) -> str:
    """Canonical JSON of ``obj`` (sorted keys; the non-finite rule of this module's docstring).

    Also the canonical form jaxfb hashes to identify a configuration (``indent=None``).
    """
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        _encodable(obj), sort_keys=True, indent=indent, separators=separators, allow_nan=False
    )


def from_json(text: str) -> Any:
    """Inverse of :func:`to_json`: the strings ``"nan"``, ``"inf"``, ``"-inf"`` become floats."""
    return _decoded(json.loads(text))


def save_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write :func:`to_json` of ``obj`` (and a final newline) to ``path``."""
    atomic_write_text(path, to_json(obj) + "\n")


def load_json(path: str | os.PathLike) -> Any:
    """Read a file written by :func:`save_json`."""
    return from_json(Path(path).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# CSV tables


def _cell(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return str(int(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    return str(x)


def write_csv(path: str | os.PathLike, table: Mapping[str, Sequence[Any]]) -> None:
    """Atomically write ``table`` (``{column: 1-D values}``, equal lengths) as CSV.

    Floats are written exactly (:func:`repr`), ``None`` as an empty cell.
    """
    cols = list(table)
    values = [list(np.asarray(table[c], dtype=object).reshape(-1)) for c in cols]
    lengths = {c: len(x) for c, x in zip(cols, values, strict=True)}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"table: columns differ in length: {lengths}")
    buf = _stdio.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for row in zip(*values, strict=True):
        w.writerow([_cell(x) for x in row])
    atomic_write_text(path, buf.getvalue())


def _column(values: list[str]) -> np.ndarray:
    if values and all(x.lstrip("-").isdigit() for x in values):
        return np.asarray([int(x) for x in values])
    try:
        return np.asarray([float(x) if x != "" else math.nan for x in values], np.float64)
    except ValueError:
        return np.asarray(values, dtype=str)


def read_csv(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a CSV file with a header row into ``{column: 1-D array}``.

    A column of integers is an int array; a column of numbers (empty cells, ``nan``, ``inf``
    allowed) is float64; anything else is a string array.
    """
    p = Path(path)
    with p.open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{p}: empty file, no header row")
    header, body = rows[0], rows[1:]
    bad = [i + 2 for i, r in enumerate(body) if len(r) != len(header)]
    if bad:
        raise ValueError(f"{p}: rows {bad[:5]} do not have the header's {len(header)} cells")
    return {h: _column([r[i] for r in body]) for i, h in enumerate(header)}


DEFAULT_COLUMNS: dict[str, str] = {
    "J": "J",
    "T": "T",
    "N": "N",
    "init": "init",
    "draws": "draws",
    "kappa_mean": "kappa_mean",
    "kappa_se": "kappa_se",
    "log_kappa_mean": "log_kappa_mean",
    "log_kappa_se": "log_kappa_se",
    "kappa_median": "kappa_median",
    "file": "file",
}
"""Canonical field -> column of a sweep's ``summary.csv``; :func:`read_summary` maps others."""


def _matches(column: np.ndarray, wanted: Any) -> np.ndarray:
    if column.dtype.kind in "iuf":
        try:
            return column == float(wanted)
        except (TypeError, ValueError):
            return np.zeros(column.shape, bool)
    return column == str(wanted)


# sweep columns added with the conv-layer axes; older summaries are single-channel, stride 1
_LAYER_DEFAULTS = {"C": 1, "stride": 1}


def read_summary(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    required: Sequence[str] = (),
    where: Mapping[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """Read a sweep summary (``summary.csv``, or the folder holding it) into ``{column: array}``.

    Args:
        path: the CSV file, or a sweep folder with a ``summary.csv``.
        columns: ``{canonical field: CSV column}`` (fields of :data:`DEFAULT_COLUMNS`) for a
            table whose columns are named differently: the CSV column is returned under the
            canonical name as well as its own.
        required: canonical fields that must be present; the error lists the missing ones and
            the header.
        where: keep only the rows whose column equals the value (numbers compare numerically,
            so ``{"N": 1024}`` matches ``1024.0``). A summary written before the ``C`` and
            ``stride`` columns existed reads as ``C = 1``, ``stride = 1``.

    Returns:
        every column of the file (ints, floats or strings, as :func:`read_csv`), plus the
        canonical names of ``columns``.

    Examples:
        >>> import pathlib, tempfile
        >>> from jaxfb.io import read_summary
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
        >>> _ = p.write_text("J,T,my_mean\\n8,64,1.5\\n16,64,1.2\\n")
        >>> read_summary(p, columns={"log_kappa_mean": "my_mean"}, where={"J": 8})[
        ...     "log_kappa_mean"
        ... ].tolist()
        [1.5]
    """
    p = Path(path)
    if p.is_dir():
        p = p / "summary.csv"
    mapping = dict(DEFAULT_COLUMNS)
    unknown = sorted(set(columns or {}) - set(DEFAULT_COLUMNS))
    if unknown:
        raise ValueError(f"columns: unknown field(s) {unknown}; fields are {list(DEFAULT_COLUMNS)}")
    mapping.update(columns or {})
    table = read_csv(p)
    header = list(table)
    missing = [f for f in required if mapping.get(f, f) not in table]
    if missing:
        desc = ", ".join(f"{f!r} (column {mapping.get(f, f)!r})" for f in missing)
        raise ValueError(
            f"{p}: missing column(s) {desc}; found {header}. Map a field to another column with "
            "columns={FIELD: COLUMN} (jaxfb fit: --column FIELD=COLUMN)."
        )
    keep = np.ones(len(next(iter(table.values()))) if table else 0, bool)
    for col, value in (where or {}).items():
        if col not in table and col in _LAYER_DEFAULTS:  # a summary written before these axes
            table[col] = np.full(keep.size, _LAYER_DEFAULTS[col])
        if col not in table:
            raise ValueError(f"where: {p} has no column {col!r} (columns: {header})")
        keep &= _matches(table[col], value)
    if where and not keep.any():
        raise ValueError(f"where: no row of {p} has {dict(where)}")
    out = {c: x[keep] for c, x in table.items()}
    for field, col in mapping.items():
        if col in out and field not in out:
            out[field] = out[col]
    return out
