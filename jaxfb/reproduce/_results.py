"""What an experiment hands back: figures, key numbers, and claims (:mod:`jaxfb._claims`: data,
judged by :func:`~jaxfb._claims.judge`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._claims import VERDICTS, Claim, Rule, judge

__all__ = ["VERDICTS", "Claim", "ExperimentOutput", "FigureOutput", "KeyNumber", "Rule", "judge"]


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
