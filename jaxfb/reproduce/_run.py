"""The runner: checks the inputs, runs the experiments, writes the outputs and reports, resumes
from per-experiment checkpoints (``checkpoints/NAME.{json,npz}``; ``docs/reproduction.md``)."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import jax

from .. import _identity, _resume, io
from .._env import environment
from .._resume import Stored
from ..signals._audio import check_audio_files
from ._audio import run_audio
from ._config import ReproduceConfig
from ._energy import run_energy
from ._frames import run_frames
from ._plotting import save_figure
from ._report import write_reports
from ._results import Claim, ExperimentOutput, FigureOutput, KeyNumber, Rule
from ._training import run_training

__all__ = ["CHECKPOINTS", "RunResult", "experiment_key", "run"]

CHECKPOINTS = "checkpoints"
"""Subfolder of the output folder holding the checkpoints."""

RUNNERS: dict[str, Callable[[ReproduceConfig, jax.Array], ExperimentOutput]] = {
    "energy": run_energy,
    "audio": run_audio,
    "frames": run_frames,
    "training": run_training,
}


class RunResult(NamedTuple):
    """What :func:`run` wrote (paths; figure basenames, each with ``.png``, ``.pdf``, ``.csv``)
    and computed (key numbers, claims, seconds per experiment and phase); the experiments
    ``resumed`` from checkpoints; ``partial``: the outputs of an interrupted run."""

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


def experiment_key(seed: int, name: str) -> jax.Array:
    """The PRNG key of experiment ``name``: depends on the seed and the name only."""
    return jax.random.fold_in(jax.random.key(seed), zlib.crc32(name.encode()) & 0x7FFFFFFF)


def inputs(config: ReproduceConfig, name: str) -> dict[str, Any]:
    """Everything that determines the numbers of experiment ``name`` (its checkpoint's identity)."""
    data = config.to_dict()
    shared = (
        ("seed",)
        if name == "training"
        else ("seed", "draws", "levels", "theory_points", "length_buckets")
    )
    record: dict[str, Any] = {k: data[k] for k in shared}
    record[name] = data[name]
    if name == "audio" and config.audio.files:
        record["audio_files_sha256"] = [_resume.file_digest(f) for f in config.audio.files]
    env = environment()
    return {
        "experiment": name,
        "config": record,
        "versions": {k: env["versions"][k] for k in ("jaxfb", "jax", "jaxlib")},
        "jaxfb_source_sha256": _identity.source_digest(),
        "device": {k: env["device"][k] for k in ("backend", "x64")},
    }


def _record(res: ExperimentOutput) -> dict[str, Any]:
    """The JSON form of an experiment's output, without samples and figure objects."""
    figures = [{"name": f.name, "title": f.title, "caption": f.caption} for f in res.figures]
    numbers, claims = (
        [dataclasses.asdict(n) for n in res.numbers],
        [dataclasses.asdict(c) for c in res.claims],
    )
    record = {"figures": figures, "numbers": numbers, "claims": claims, "notes": res.notes}
    return io.from_json(io.to_json({**record, "sources": res.sources, "metadata": res.metadata}))


def load_checkpoint(out: Path, name: str, inp, *, need_samples: bool) -> tuple[Stored | None, str]:
    """The checkpoint of ``name`` (:func:`jaxfb._resume.load`) if it matches ``inp`` and the
    files of its figures are all there; else ``(None, why)`` (``""``: none)."""
    hit, why = _resume.load(out / CHECKPOINTS, name, inp, need_arrays=need_samples)
    figures = hit.payload["record"]["figures"] if hit is not None else []
    missing = [
        f"{f['name']}.{ext}"
        for f in figures
        for ext in ("png", "pdf", "csv")
        if not (out / f"{f['name']}.{ext}").exists()
    ]
    if missing:
        return None, f"files of its figures are missing ({', '.join(missing)})"
    return hit, why


def check_inputs(config: ReproduceConfig, out: str | os.PathLike) -> Path:
    """Check every input before the first experiment: audio files, then the output folder."""
    if not isinstance(config, ReproduceConfig):
        raise TypeError(f"config must be a ReproduceConfig, got {type(config).__name__}")
    if config.audio is not None and config.audio.files:
        check_audio_files(config.audio.files, rate=config.audio.rate, argument="--audio")
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"--out {str(out)!r} exists and is not a directory")
    return io.check_writable(path, argument="--out")


def _compute(config, path: Path, name: str, inp) -> Stored:
    """Run experiment ``name``, write its figures and its checkpoint."""
    # the figures about to be overwritten belong to no checkpoint until the new one
    (path / CHECKPOINTS / f"{name}.json").unlink(missing_ok=True)
    t0, c0 = time.perf_counter(), time.process_time()
    res = RUNNERS[name](config, experiment_key(config.seed, name))
    t_write = time.perf_counter()
    for fig in res.figures:
        save_figure(fig.figure, path / fig.name)
        io.write_csv(path / f"{fig.name}.csv", fig.table)
        fig.figure = None  # free the matplotlib figure
    t_done = time.perf_counter()
    timings = {**res.timings, "write": t_done - t_write, "total": t_done - t0}
    timings["cpu_total"] = time.process_time() - c0
    payload = {"record": _record(res), "timings": timings}
    samples = dict(res.samples) if config.save_samples else None
    return _resume.save(path / CHECKPOINTS, name, inp, payload, samples)


def run(
    config: ReproduceConfig,
    out: str | os.PathLike,
    *,
    argv: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
    resume: bool = True,
) -> RunResult:
    """Run the experiments of ``config`` and write figures, data and reports into ``out``.

    Every input is checked first; each experiment draws through
    :func:`jaxfb.montecarlo.monte_carlo` and writes its figures and checkpoint; then
    ``samples.npz``, ``config.json`` and ``report.md`` / ``report.html``. A rerun into ``out``
    loads the experiments whose checkpoints have the same inputs; if an experiment raises
    (Ctrl-C included), a partial report of the finished ones is written first. The files and the
    resume rules: ``docs/reproduction.md``.

    Args:
        config: what to run (:meth:`ReproduceConfig.quick`, :meth:`ReproduceConfig.full`, ...).
        out: output folder (created if missing).
        argv: the command line that started the run, recorded in ``config.json``.
        log: called with one line per finished or loaded experiment (default: loaded and
            recomputed checkpoints are announced on stderr).
        resume: load matching checkpoints (``False``: recompute them).

    Raises:
        OSError: ``out`` cannot be written (``NotADirectoryError``: it is a file).
        FileNotFoundError: an audio file is missing; ``ValueError``: it cannot be read.
    """
    path = check_inputs(config, out)
    notice = log or (lambda msg: print(f"jaxfb reproduce: {msg}", file=sys.stderr, flush=True))
    log = log or (lambda _msg: None)
    done: dict[str, Stored] = {}
    resumed: list[str] = []
    started = datetime.now(timezone.utc)
    t_start, cpu_start = time.perf_counter(), time.process_time()
    name = None
    try:
        for name in config.experiments:
            inp = inputs(config, name)
            hit, why = load_checkpoint(path, name, inp, need_samples=config.save_samples)
            if hit is not None and resume:
                notice(
                    f"{name}: loaded from {CHECKPOINTS}/{name}.json (finished "
                    f"{hit.finished_utc} with the same inputs), not recomputed"
                )
                done[name] = hit
                resumed.append(name)
                continue
            if why and resume:
                notice(f"{name}: recomputing, {why}")
            done[name] = _compute(config, path, name, inp)
            log(
                f"{name}: {len(done[name].payload['record']['figures'])} figures in "
                f"{done[name].payload['timings']['total']:.1f} s"
            )
    except BaseException as err:
        partial = {
            "experiment": name,
            "error": type(err).__name__ + (f": {err}" if str(err) else ""),
            "finished": list(done),
            "pending": [e for e in config.experiments if e not in done],
        }
        try:
            _write_outputs(config, path, done, resumed, argv, started, t_start, cpu_start, partial)
            notice(
                f"stopped in {name} ({partial['error']}); wrote a partial report of "
                f"{', '.join(done) or 'no experiments'} to {path}; rerun the same command to "
                "finish (finished experiments are loaded, not recomputed)"
            )
        except Exception as write_err:  # never mask the original exception
            notice(f"could not write the partial report: {write_err}")
        raise
    return _write_outputs(config, path, done, resumed, argv, started, t_start, cpu_start, None)


def _audio_line(files) -> str:
    """Which audio the audio figures use: the paper's recordings are not shipped."""
    if files:
        names = ", ".join(f"`{Path(f).name}`" for f in files)
        return f"- Audio: the audio figures use the recordings given with `--audio`: {names}."
    return (
        "- Audio: the audio figures use **synthetic stand-ins** for the paper's recordings "
        "(snare, speech, flute from `jaxfb.signals`); pass `--audio FILE ...` for recordings."
    )


def _header(config, meta, done, resumed, argv, partial) -> list[str]:
    versions, device, host = meta["versions"], meta["device"], meta["host"]
    header = []
    if partial is not None:
        header.append(
            f"- **Partial report**: the run stopped in `{partial['experiment']}` "
            f"({partial['error']}); finished: {', '.join(partial['finished']) or 'none'}; "
            f"not finished: {', '.join(partial['pending']) or 'none'}. Rerun the same command "
            f"to finish: the finished experiments are loaded from `{CHECKPOINTS}/`, not "
            "recomputed."
        )
    sharded = max(
        (d.payload["record"]["metadata"].get("num_devices", 1) for d in done.values()), default=1
    )
    header += [
        f"- Mode: **{config.mode}**, seed {config.seed}, {config.draws} draws per point; run "
        f"started {meta['started_utc']}, {meta['total_seconds']:.0f} s in all "
        f"({meta['total_cpu_seconds']:.0f} s of CPU time, all threads).",
        f"- jaxfb {versions['jaxfb']}, JAX {versions['jax']}; backend {device['backend']} "
        f"({device['kind']}, {device['count']} device(s), draws sharded over {sharded}); "
        f"host CPUs: {host['cpus']}.",
        "- Regenerate: `"
        + (" ".join(argv) if argv else f"jaxfb reproduce --out DIR --seed {config.seed}")
        + "` (the full configuration is in `config.json`).",
    ]
    if config.audio is not None:
        header.insert(-3, _audio_line(config.audio.files))
    if resumed:
        header.append(
            f"- Resumed: {', '.join(resumed)} loaded from `{CHECKPOINTS}/` (finished by an "
            "earlier run into this folder with the same inputs and versions; their timings "
            "are that run's)."
        )
    return header


def _write_outputs(config, path, done, resumed, argv, started, t_start, cpu_start, partial):
    """``samples.npz`` (complete runs), ``config.json`` and the reports of ``done``."""
    if partial is None and config.save_samples:
        io.save_npz(
            path / "samples.npz", {k: v for d in done.values() for k, v in d.arrays.items()}
        )
    figures = [
        FigureOutput(f["name"], f["title"], f["caption"], None, {})
        for d in done.values()
        for f in d.payload["record"]["figures"]
    ]
    numbers = [KeyNumber(**n) for d in done.values() for n in d.payload["record"]["numbers"]]
    claims = [
        Claim(**{**c, "rule": Rule(**c["rule"])})
        for d in done.values()
        for c in d.payload["record"]["claims"]
    ]
    sources = {k: v for d in done.values() for k, v in d.payload["record"]["sources"].items()}
    notes = [n for d in done.values() for n in d.payload["record"]["notes"]]
    timings = {n: d.payload["timings"] for n, d in done.items()}
    meta = {
        "config": config.to_dict(),
        "seed": config.seed,
        "mode": config.mode,
        "argv": list(argv) if argv is not None else None,
        "started_utc": started.isoformat(timespec="seconds"),
        "partial": partial is not None,
        **({"interrupted": partial} if partial is not None else {}),
        "resumed_experiments": list(resumed),
        **environment(),
        "timings_seconds": timings,
        "total_seconds": time.perf_counter() - t_start,
        "total_cpu_seconds": time.process_time() - cpu_start,
        "sources": sources,
        "experiments": {n: d.payload["record"]["metadata"] for n, d in done.items()},
        "figures": [f.name for f in figures],
        "key_numbers": [dataclasses.asdict(n) for n in numbers],
        "claims": [{**dataclasses.asdict(c), "verdict": c.verdict} for c in claims],
    }
    io.save_json(path / "config.json", meta)
    header = _header(config, meta, done, resumed, argv, partial)
    content = {"numbers": numbers, "claims": claims, "figures": figures, "sources": sources}
    md, page = write_reports(path, header=header, timings=timings, notes=notes, **content)
    files = (path, md, page, path / "config.json", [f.name for f in figures])
    return RunResult(*files, numbers, claims, timings, tuple(resumed), partial is not None)
