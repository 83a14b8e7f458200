"""Claims as data: a statement, the numbers it rests on and a decision rule, judged by one function.

A workflow's conclusions (the reproduction's verdicts on the paper, a script's check of its own
results) are :class:`Claim` objects; :func:`judge` turns each into a verdict, the same way for
every claim, so a reader can recompute any verdict from its evidence (``docs/reproduction.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["VERDICTS", "Claim", "Rule", "judge"]

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
