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
from ._config import ReproduceConfig
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
    training of a filterbank with a tightness penalty).

    Examples:
        >>> from jaxfb import reproduce
        >>> def noop(config, key, *, progress):
        ...     return reproduce.ExperimentOutput(notes=["nothing to see"])
        >>> reproduce.register_experiment("noop", noop, overwrite=True)
        >>> del reproduce.EXPERIMENT_REGISTRY["noop"]
    """
    if not name.isidentifier():
        raise ValueError(f"experiment name must be an identifier, got {name!r}")
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
        timings: seconds per experiment and phase.
    """

    out: Path
    report_md: Path
    report_html: Path
    config_json: Path
    figures: list[str]
    numbers: list[KeyNumber]
    claims: list[Claim]
    timings: dict[str, dict[str, float]]


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
) -> RunResult:
    """Run the experiments of ``config`` and write figures, data and reports into ``out``.

    Writes, for each figure, ``NAME.png``, ``NAME.pdf`` and ``NAME.csv`` (the plotted data);
    ``samples.npz`` (every draw, if ``config.save_samples``); ``config.json`` (the config with
    its seed, versions of jaxfb and JAX, the device, timings per experiment, sources of the
    theory curves, the command line); ``report.md`` and ``report.html`` (key numbers with
    standard errors, the paper's claims with verdicts computed from this run, the figures).

    Args:
        config: what to run (:meth:`ReproduceConfig.quick`, :meth:`ReproduceConfig.full`, ...).
        out: output directory (created if missing).
        progress: show tqdm progress bars; default: when stderr is a terminal.
        argv: the command line that started the run (program first), recorded in
            ``config.json`` and quoted in the report.
        log: called with one line per finished experiment (default: silent).

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
    log = log or (lambda _msg: None)

    started = datetime.now(timezone.utc)
    t_start = time.perf_counter()
    figures: list[FigureOutput] = []
    numbers: list[KeyNumber] = []
    claims: list[Claim] = []
    samples: dict[str, np.ndarray] = {}
    sources: dict[str, str] = {}
    notes: list[str] = []
    metadata: dict[str, dict[str, Any]] = {}
    timings: dict[str, dict[str, float]] = {}
    cpu_start = time.process_time()
    for name in config.experiments:
        t0 = time.perf_counter()
        c0 = time.process_time()
        res = registry[name](config, experiment_key(config.seed, name), progress=progress)
        t_write = time.perf_counter()
        for fig in res.figures:
            if hasattr(fig.figure, "savefig"):
                save_figure(fig.figure, path / fig.name)
            else:  # a writer owned by the experiment: base path -> NAME.png and NAME.pdf
                fig.figure(path / fig.name)
            write_csv(path / f"{fig.name}.csv", fig.table)
        t_done = time.perf_counter()
        timings[name] = {
            **res.timings,
            "write": t_done - t_write,
            "total": t_done - t0,
            "cpu_total": time.process_time() - c0,
        }
        figures += res.figures
        numbers += res.numbers
        claims += res.claims
        samples.update(res.samples)
        sources.update(res.sources)
        notes += res.notes
        if res.metadata:
            metadata[name] = res.metadata
        log(f"{name}: {len(res.figures)} figures in {t_done - t0:.1f} s")
        for fig in res.figures:  # free the matplotlib figures
            fig.figure = None

    if config.save_samples and samples:
        np.savez(path / "samples.npz", **samples)
    total = time.perf_counter() - t_start
    cpu_total = time.process_time() - cpu_start
    env = environment()
    versions, device, host = env["versions"], env["device"], env["host"]
    meta = {
        "config": config.to_dict(),
        "seed": config.seed,
        "mode": config.mode,
        "argv": list(argv) if argv is not None else None,
        "started_utc": started.isoformat(timespec="seconds"),
        **env,
        "timings_seconds": timings,
        "total_seconds": total,
        "total_cpu_seconds": cpu_total,
        "sources": sources,
        "experiments": metadata,
        "figures": [f.name for f in figures],
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
            for n in numbers
        ],
        "claims": [
            {"claim": c.claim, "verdict": c.verdict, "evidence": c.evidence, "rule": c.rule}
            for c in claims
        ],
    }
    config_json = path / "config.json"
    config_json.write_text(json.dumps(_clean(meta), indent=2, allow_nan=False) + "\n")
    header = [
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
    md, page = write_reports(
        path,
        header=header,
        numbers=numbers,
        claims=claims,
        figures=figures,
        sources=sources,
        timings=timings,
        notes=notes,
    )
    return RunResult(
        path, md, page, config_json, [f.name for f in figures], numbers, claims, timings
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
