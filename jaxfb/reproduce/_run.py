"""The runner: experiments in order, figures (PNG, PDF, CSV), samples, config.json and reports."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from .._env import environment
from ..io import atomic_write_bytes
from ._checkpoint import (
    CHECKPOINTS,
    Checkpoint,
    fingerprint_inputs,
    load_checkpoint,
    output_record,
    save_checkpoint,
)
from ._config import EXPERIMENTS, ReproduceConfig
from ._plotting import save_figure
from ._report import write_reports
from ._results import Claim, ExperimentOutput, FigureOutput, KeyNumber
from ._tables import write_csv

__all__ = ["EXPERIMENT_REGISTRY", "RunResult", "register_experiment", "run"]

Experiment = Callable[..., ExperimentOutput]
"""``fn(config, key, *, progress) -> ExperimentOutput``."""


def _builtin() -> dict[str, Experiment]:
    from ._audio import run_audio
    from ._energy import run_energy
    from ._frames import run_frames
    from ._training import run_training

    return {
        "energy": run_energy,
        "audio": run_audio,
        "frames": run_frames,
        "training": run_training,
    }


EXPERIMENT_REGISTRY: dict[str, Experiment] = {}
"""Experiments added with :func:`register_experiment` (the built-in ones are not listed here)."""


def register_experiment(name: str, fn: Experiment, *, overwrite: bool = False) -> None:
    """Add an experiment that :func:`run` runs when ``config.experiments`` names it.

    ``fn(config, key, *, progress)`` gets the run's :class:`ReproduceConfig` (its ``extra`` dict
    holds the experiment's own options), a PRNG key derived from the seed and ``name`` only, and
    whether to show progress; it returns an :class:`ExperimentOutput` whose figures, key numbers
    and claims go into the report. This is the hook for experiments owned elsewhere (e.g. the
    training of a filterbank with a tightness penalty). A name of :data:`EXPERIMENTS` (a
    built-in experiment) or one already registered is refused unless ``overwrite=True``, which
    makes :func:`run` call ``fn`` in its place.

    Examples:
        >>> from jaxfb import reproduce
        >>> def noop(config, key, *, progress):
        ...     return reproduce.ExperimentOutput(notes=["nothing to see"])
        >>> reproduce.register_experiment("noop", noop, overwrite=True)
        >>> del reproduce.EXPERIMENT_REGISTRY["noop"]
    """
    if not name.isidentifier():
        raise ValueError(f"experiment name must be an identifier, got {name!r}")
    if name in EXPERIMENTS and not overwrite:
        raise ValueError(
            f"{name!r} is a built-in experiment; pass overwrite=True to replace it in run()"
        )
    if name in EXPERIMENT_REGISTRY and not overwrite:
        raise ValueError(f"an experiment named {name!r} is already registered (overwrite=True)")
    EXPERIMENT_REGISTRY[name] = fn


class RunResult(NamedTuple):
    """What :func:`run` wrote and computed.

    Attributes:
        out: the output directory.
        report_md, report_html, config_json: paths.
        figures: basenames of the figures (each with ``.png``, ``.pdf``, ``.csv``).
        numbers: the key numbers of the report.
        claims: the claims with their verdicts.
        timings: seconds per experiment and phase (of the run that computed it, for a
            resumed experiment).
        resumed: the experiments loaded from checkpoints instead of recomputed.
        partial: ``True`` for the outputs written on the way out of an interrupted run (never
            returned by :func:`run`, which raises then; recorded in ``config.json``).
    """

    out: Path
    report_md: Path
    report_html: Path
    config_json: Path
    figures: list[str]
    numbers: list[KeyNumber]
    claims: list[Claim]
    timings: dict[str, dict[str, float]]
    resumed: tuple[str, ...] = ()
    partial: bool = False


def prepare_output(out: str | os.PathLike) -> Path:
    """Create ``out`` (with parents) and check that files can be written there."""
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"--out {str(out)!r} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".jaxfb-write-test-"):
            pass
    except OSError as err:
        raise PermissionError(
            f"--out {str(out)!r} is not writable: {err.strerror or err}"
        ) from None
    return path


def experiment_key(seed: int, name: str) -> jax.Array:
    """The PRNG key of experiment ``name``: depends on the seed and the name only."""
    return jax.random.fold_in(jax.random.key(seed), zlib.crc32(name.encode()) & 0x7FFFFFFF)


def run(
    config: ReproduceConfig,
    out: str | os.PathLike,
    *,
    progress: bool | None = None,
    argv: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
    resume: bool = True,
) -> RunResult:
    """Run the experiments of ``config`` and write figures, data and reports into ``out``.

    Writes, for each figure, ``NAME.png``, ``NAME.pdf`` and ``NAME.csv`` (the plotted data);
    ``samples.npz`` (every draw, if ``config.save_samples``); ``config.json`` (the config with
    its seed, versions of jaxfb and JAX, the device, timings per experiment, sources of the
    theory curves, the command line); ``report.md`` and ``report.html`` (key numbers with
    standard errors, the paper's claims with verdicts computed from this run, the figures).

    Interruptions lose no finished work. After each experiment its figures are written and
    ``checkpoints/NAME.json`` (numbers, claims, notes, timings, figure captions) and
    ``checkpoints/NAME.npz`` (its samples) are written atomically, tagged with a fingerprint of
    the inputs that determine its numbers (:mod:`jaxfb.reproduce._checkpoint`). A rerun into the
    same ``out`` loads every experiment whose checkpoint matches instead of recomputing it (and
    says so through ``log``, or on stderr without one; ``config.json`` lists them under
    ``resumed_experiments``), so its report has the numbers of an uninterrupted run; a
    checkpoint of other inputs is recomputed and overwritten. If an experiment raises (a
    ``KeyboardInterrupt`` included), ``config.json`` and the reports of the finished experiments
    are written, marked partial, before the exception propagates.

    Args:
        config: what to run (:meth:`ReproduceConfig.quick`, :meth:`ReproduceConfig.full`, ...).
        out: output directory (created if missing).
        progress: show tqdm progress bars; default: when stderr is a terminal.
        argv: the command line that started the run (program first), recorded in
            ``config.json`` and quoted in the report.
        log: called with one line per finished or loaded experiment (default: silent, except
            that loaded and recomputed checkpoints are announced on stderr).
        resume: load matching checkpoints from ``out``; ``False`` recomputes every experiment
            (and overwrites the checkpoints).

    Returns:
        :class:`RunResult`.

    Raises:
        PermissionError: ``out`` cannot be written.
        FileNotFoundError: an audio file of ``config.audio_files`` is missing.
        ValueError: an unknown experiment name.
    """
    registry = {**_builtin(), **EXPERIMENT_REGISTRY}
    unknown = [e for e in config.experiments if e not in registry]
    if unknown:
        raise ValueError(f"unknown experiments {unknown}; choose from {sorted(registry)}")
    if "audio" in config.experiments and config.audio_files:
        from ._audio import check_audio_files

        check_audio_files(config.audio_files)
    path = prepare_output(out)
    if progress is None:
        progress = sys.stderr.isatty()
    notice = log or (lambda msg: print(f"jaxfb reproduce: {msg}", file=sys.stderr, flush=True))
    log = log or (lambda _msg: None)

    collected = _Collected(started=datetime.now(timezone.utc))
    t_start = time.perf_counter()
    cpu_start = time.process_time()
    current = None
    try:
        for name in config.experiments:
            current = name
            fn = registry[name]
            inputs = fingerprint_inputs(config, name, fn if name in EXPERIMENT_REGISTRY else None)
            done, why = None, ""
            if resume:
                done, why = load_checkpoint(path, name, inputs, need_samples=config.save_samples)
            if done is not None:
                notice(
                    f"{name}: loaded from {CHECKPOINTS}/{name}.json (finished "
                    f"{done.finished_utc} with the same inputs), not recomputed"
                )
                collected.add(name, done, resumed=True)
                continue
            if why:
                notice(f"{name}: recomputing, {why}")
            # the figures about to be overwritten belong to no checkpoint until the new one
            (path / CHECKPOINTS / f"{name}.json").unlink(missing_ok=True)
            t0 = time.perf_counter()
            c0 = time.process_time()
            res = fn(config, experiment_key(config.seed, name), progress=progress)
            t_write = time.perf_counter()
            for fig in res.figures:
                if hasattr(fig.figure, "savefig"):
                    save_figure(fig.figure, path / fig.name)
                else:  # a writer owned by the experiment: base path -> NAME.png and NAME.pdf
                    fig.figure(path / fig.name)
                write_csv(path / f"{fig.name}.csv", fig.table)
                fig.figure = None  # free the matplotlib figure
            t_done = time.perf_counter()
            timings = {
                **res.timings,
                "write": t_done - t_write,
                "total": t_done - t0,
                "cpu_total": time.process_time() - c0,
            }
            done = save_checkpoint(
                path,
                name,
                inputs,
                output_record(res),
                timings,
                dict(res.samples) if config.save_samples else None,
            )
            collected.add(name, done, resumed=False)
            log(f"{name}: {len(res.figures)} figures in {t_done - t0:.1f} s")
        current = None
    except BaseException as err:
        pending = [e for e in config.experiments if e not in collected.timings]
        partial = {
            "experiment": current,
            "error": type(err).__name__ + (f": {err}" if str(err) else ""),
            "finished": list(collected.timings),
            "pending": pending,
        }
        try:
            _write_outputs(
                config, path, collected, argv, t_start, cpu_start, partial=partial, samples=False
            )
            notice(
                f"stopped in {current} ({partial['error']}); wrote a partial report of "
                f"{', '.join(collected.timings) or 'no experiments'} to {path}; rerun the same "
                "command to finish (finished experiments are loaded, not recomputed)"
            )
        except Exception as write_err:  # never mask the original exception
            notice(f"could not write the partial report: {write_err}")
        raise
    return _write_outputs(
        config, path, collected, argv, t_start, cpu_start, partial=None, samples=config.save_samples
    )


class _Collected:
    """What the finished (computed or loaded) experiments produced, in the config's order."""

    def __init__(self, started: datetime):
        self.started = started
        self.figures: list[FigureOutput] = []
        self.numbers: list[KeyNumber] = []
        self.claims: list[Claim] = []
        self.samples: dict[str, np.ndarray] = {}
        self.sources: dict[str, str] = {}
        self.notes: list[str] = []
        self.metadata: dict[str, dict[str, Any]] = {}
        self.timings: dict[str, dict[str, float]] = {}
        self.resumed: list[str] = []

    def add(self, name: str, done: Checkpoint, *, resumed: bool) -> None:
        self.figures += done.figures
        self.numbers += done.numbers
        self.claims += done.claims
        self.samples.update(done.samples)
        self.sources.update(done.sources)
        self.notes += done.notes
        if done.metadata:
            self.metadata[name] = done.metadata
        self.timings[name] = done.timings
        if resumed:
            self.resumed.append(name)


def _write_outputs(
    config: ReproduceConfig,
    path: Path,
    done: _Collected,
    argv: Sequence[str] | None,
    t_start: float,
    cpu_start: float,
    *,
    partial: dict[str, Any] | None,
    samples: bool,
) -> RunResult:
    """``samples.npz`` (if ``samples``), ``config.json`` and the reports of ``done``."""
    if samples and done.samples:
        np.savez(path / "samples.npz", **done.samples)
    total = time.perf_counter() - t_start
    cpu_total = time.process_time() - cpu_start
    env = environment()
    versions, device, host = env["versions"], env["device"], env["host"]
    meta = {
        "config": config.to_dict(),
        "seed": config.seed,
        "mode": config.mode,
        "argv": list(argv) if argv is not None else None,
        "started_utc": done.started.isoformat(timespec="seconds"),
        "partial": partial is not None,
        **({"interrupted": partial} if partial is not None else {}),
        "resumed_experiments": list(done.resumed),
        **env,
        "timings_seconds": done.timings,
        "total_seconds": total,
        "total_cpu_seconds": cpu_total,
        "sources": done.sources,
        "experiments": done.metadata,
        "figures": [f.name for f in done.figures],
        "key_numbers": [
            {
                "label": n.label,
                "value": n.value,
                "se": n.se,
                "csv": n.csv,
                "where": n.where,
                "column": n.column,
                "note": n.note,
            }
            for n in done.numbers
        ],
        "claims": [
            {"claim": c.claim, "verdict": c.verdict, "evidence": c.evidence, "rule": c.rule}
            for c in done.claims
        ],
    }
    config_json = path / "config.json"
    atomic_write_bytes(
        config_json, (json.dumps(_clean(meta), indent=2, allow_nan=False) + "\n").encode()
    )
    header = []
    if partial is not None:
        header.append(
            f"- **Partial report**: the run stopped in `{partial['experiment']}` "
            f"({partial['error']}); finished: {', '.join(partial['finished']) or 'none'}; "
            f"not finished: {', '.join(partial['pending']) or 'none'}. Rerun the same command "
            f"to finish: the finished experiments are loaded from `{CHECKPOINTS}/`, not "
            "recomputed."
        )
    header += [
        f"- Mode: **{config.mode}**, seed {config.seed}, {config.draws} draws per point; "
        f"run started {meta['started_utc']}, {total:.0f} s in all ({cpu_total:.0f} s of CPU "
        "time, all threads).",
        f"- jaxfb {versions['jaxfb']}, JAX {versions['jax']}; backend {device['backend']} "
        f"({device['kind']}, {device['count']} device(s)); host CPUs: "
        f"{host['cpus']}.",
        "- Regenerate: `"
        + (" ".join(argv) if argv else f"jaxfb reproduce --out DIR --seed {config.seed}")
        + "` (the full configuration is in `config.json`).",
    ]
    if done.resumed:
        header.append(
            f"- Resumed: {', '.join(done.resumed)} loaded from `{CHECKPOINTS}/` (finished by an "
            "earlier run into this directory with the same inputs and versions; their timings "
            "are that run's)."
        )
    md, page = write_reports(
        path,
        header=header,
        numbers=done.numbers,
        claims=done.claims,
        figures=done.figures,
        sources=done.sources,
        timings=done.timings,
        notes=done.notes,
    )
    return RunResult(
        path,
        md,
        page,
        config_json,
        [f.name for f in done.figures],
        done.numbers,
        done.claims,
        done.timings,
        tuple(done.resumed),
        partial is not None,
    )


def _clean(obj):
    """JSON-safe copy: NumPy scalars to Python, non-finite floats to ``"inf"``/``"nan"``."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
        return v
    return obj
