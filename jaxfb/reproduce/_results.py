"""What an experiment hands back: figures, key numbers, claims (data, judged by :func:`judge`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["VERDICTS", "Claim", "ExperimentOutput", "FigureOutput", "KeyNumber", "Rule", "judge"]

VERDICTS = ("supported", "partly supported", "not supported", "undecided")


@dataclass(frozen=True)
class Rule:
    """A decision rule: compare one evidence number with a threshold (and an optional second,
    weaker one for "partly supported").

    Attributes:
        quantity: key of :attr:`Claim.evidence` that is judged.
        op: ``"<="`` (small is good) or ``">="`` (large is good).
        supported: threshold: a number, or the key of another evidence number.
        partly: weaker threshold for "partly supported" (same kinds), or ``None``.
        text: the rule in plain words, for the report.
    """

    quantity: str
    op: str
    supported: float | str
    partly: float | str | None = None
    text: str = ""


@dataclass
class Claim:
    """A claim, the numbers it rests on and its rule; :attr:`verdict` is :func:`judge` of it.

    Attributes:
        statement: what was tested (the paper's claim in its words or close; or jaxfb's own).
        evidence: ``{name: float}``, the numbers the verdict rests on.
        rule: the :class:`Rule` applied to ``evidence``.
        finding: what was found, one or two sentences quoting the numbers.
        why: why it matters, one plain sentence.
        figure: name of the figure that shows it, or ``None``.
        source: ``"paper"`` (a claim of the paper) or ``"jaxfb"`` (the project's own check).
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
        """``"supported"``, ``"partly supported"``, ``"not supported"`` or ``"undecided"``."""
        return judge(self)


def _threshold(value, evidence) -> float:
    return float(evidence[value]) if isinstance(value, str) else float(value)


def _passes(x: float, op: str, t: float) -> bool:
    return x <= t if op == "<=" else x >= t


def judge(claim: Claim) -> str:
    """The one verdict function every experiment shares.

    ``"undecided"`` when the judged number is NaN or the threshold is not finite; otherwise
    ``"supported"`` if it passes ``rule.supported``, ``"partly supported"`` if it passes
    ``rule.partly``, else ``"not supported"``.

    Examples:
        >>> rule = Rule("error", "<=", 0.05, partly=0.2)
        >>> [judge(Claim("x", {"error": e}, rule, "")) for e in (0.1, 0.01)]
        ['partly supported', 'supported']
    """
    r = claim.rule
    x = float(claim.evidence[r.quantity])
    if not math.isfinite(_threshold(r.supported, claim.evidence)) or math.isnan(x):
        return "undecided"
    if _passes(x, r.op, _threshold(r.supported, claim.evidence)):
        return "supported"
    if r.partly is not None and _passes(x, r.op, _threshold(r.partly, claim.evidence)):
        return "partly supported"
    return "not supported"


@dataclass
class FigureOutput:
    """A figure (``name.png``, ``.pdf``) and the table it plots (``name.csv``): a ``title`` and a
    ``caption`` for the report, the matplotlib ``figure`` (``None`` once written)."""

    name: str
    title: str
    caption: str
    figure: Any
    table: dict[str, np.ndarray]


@dataclass
class KeyNumber:
    """One number of the report: ``label``, ``value``, its standard error ``se`` (``None`` for
    exact values), where it is stored (``csv`` basename, row ``where``, ``column``; ``None``
    when in no CSV) and a ``note`` (a comparison or a source)."""

    label: str
    value: float
    se: float | None = None
    csv: str | None = None
    where: dict[str, Any] = field(default_factory=dict)
    column: str | None = None
    note: str = ""


@dataclass
class ExperimentOutput:
    """Everything an experiment produced: figures, key numbers, claims, raw draws (``samples``
    for ``samples.npz``), seconds per phase, the source of each theory curve, notes, and
    ``metadata`` for ``config.json`` (``experiments.NAME``; ``num_devices`` among them)."""

    figures: list[FigureOutput] = field(default_factory=list)
    numbers: list[KeyNumber] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
