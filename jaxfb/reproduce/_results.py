"""What an experiment hands back to the runner: figures, key numbers, claims and raw draws."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["VERDICTS", "Claim", "ExperimentOutput", "FigureOutput", "KeyNumber", "Rule", "judge"]


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


VERDICTS = ("supported", "partly supported", "not supported", "undecided")


@dataclass(frozen=True)
class Rule:
    """A decision rule: compare one evidence number with a threshold (and an optional second,
    weaker one for "partly supported").

    quantity: key of Claim.evidence that is judged.
    op: "<=" (small is good) or ">=" (large is good).
    supported: threshold: a number, or the key of another Claim.evidence number.
    partly: weaker threshold for "partly supported" (same kinds), or None.
    text: the rule in plain words, for the report ("supported if ... ; partly if ...").
    """

    quantity: str
    op: str
    supported: float | str
    partly: float | str | None = None
    text: str = ""


@dataclass
class Claim:
    """A claim is data: the statement, the numbers it rests on, the rule. Its verdict is
    computed by the one shared function `judge`, never written by hand.

    statement: what was tested (the paper's claim in its words or close; or jaxfb's own).
    evidence: {name: float}, the numbers the verdict rests on.
    rule: the Rule applied to evidence.
    finding: what was found, one or two sentences quoting the numbers.
    why: why it matters, one sentence (plain words, for the report's verdict table).
    figure: name (FigureOutput.name) of the figure that shows it, or None.
    source: "paper" (a claim of the paper) or "jaxfb" (the project's own check).
    """

    statement: str
    evidence: dict[str, float]
    rule: Rule
    finding: str
    why: str = ""
    figure: str | None = None
    source: str = "paper"

    @property
    def verdict(self) -> str:
        return judge(self)


def _threshold(value, evidence) -> float:
    return float(evidence[value]) if isinstance(value, str) else float(value)


def _passes(x: float, op: str, t: float) -> bool:
    return x <= t if op == "<=" else x >= t


def judge(claim: Claim) -> str:
    """The one verdict function every experiment shares."""
    r = claim.rule
    x = float(claim.evidence[r.quantity])
    if not math.isfinite(_threshold(r.supported, claim.evidence)) or math.isnan(x):
        return "undecided"
    if _passes(x, r.op, _threshold(r.supported, claim.evidence)):
        return "supported"
    if r.partly is not None and _passes(x, r.op, _threshold(r.partly, claim.evidence)):
        return "partly supported"
    return "not supported"
