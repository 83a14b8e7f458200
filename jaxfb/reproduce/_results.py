"""What an experiment hands back to the runner: figures, key numbers, claims and raw draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Claim", "ExperimentOutput", "FigureOutput", "KeyNumber"]


@dataclass
class FigureOutput:
    """A figure and the table it plots; the runner writes ``name.png``, ``name.pdf``, ``name.csv``.

    Attributes:
        name: file basename.
        title: one line for the report.
        caption: what the figure shows (a paragraph of the report).
        figure: a :class:`matplotlib.figure.Figure`, or a callable ``write(base: Path)`` that
            writes ``base.png`` and ``base.pdf`` itself (for experiments with their own plots).
        table: ``{column: 1-D array}``, the data of the figure.
    """

    name: str
    title: str
    caption: str
    figure: Any
    table: dict[str, np.ndarray]


@dataclass
class KeyNumber:
    """One number of the report's table, with where it is stored.

    Attributes:
        label: what it is.
        value: the number.
        se: its Monte Carlo standard error (``None`` for exact or derived values).
        csv: basename of the CSV holding it (``None`` if it is not in a CSV).
        where: the row of that CSV (``{column: value}``).
        column: the column of that CSV.
        note: a comparison or a source, for the table's last column.
    """

    label: str
    value: float
    se: float | None = None
    csv: str | None = None
    where: dict[str, Any] = field(default_factory=dict)
    column: str | None = None
    note: str = ""


@dataclass
class Claim:
    """A claim of the paper and whether this run supports it (computed, never hard-coded).

    Attributes:
        claim: the claim, in the paper's words or close to them.
        verdict: ``"supported"``, ``"partly supported"`` or ``"not supported"``.
        evidence: the numbers behind the verdict.
        rule: the decision rule applied to them.
    """

    claim: str
    verdict: str
    evidence: str
    rule: str = ""


@dataclass
class ExperimentOutput:
    """Everything an experiment produced.

    Attributes:
        figures: figures with their tables.
        numbers: key numbers for the report's table.
        claims: claims with verdicts.
        samples: raw draws for ``samples.npz`` (``{name: array}``).
        timings: seconds per phase (``{"simulate": ..., "theory": ..., "figures": ...}``).
        sources: which implementation produced each theory curve (``{curve: source}``).
        notes: extra lines for the report.
        metadata: JSON-serialisable facts for ``config.json`` (under ``experiments.NAME``):
            e.g. the experiment's own configuration and timings per point.
    """

    figures: list[FigureOutput] = field(default_factory=list)
    numbers: list[KeyNumber] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
