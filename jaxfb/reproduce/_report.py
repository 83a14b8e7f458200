"""``report.md`` and a self-contained ``report.html``: the run's content as blocks of
:mod:`jaxfb._page`. Verdicts first, then the figure gallery and figures, then collapsible details
(``docs/reproduction.md``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from .._page import anchor, format_number, html_page, markdown
from ..io import atomic_write_text
from ._results import VERDICTS, Claim, FigureOutput, KeyNumber

__all__ = ["number_source", "write_reports"]

TITLE = "Reproduction of Haider et al. (2024), *Instabilities in Convnets for Raw Audio*"
_GROUPS = (("paper", "Claims of the paper"), ("jaxfb", "jaxfb's own checks"))
_EVIDENCE_HEAD = ["#", "claim", "verdict", "evidence", "decision rule"]


def number_source(n: KeyNumber) -> str:
    """``"kappa_vs_T.csv [J=40, T=1024] mean_kappa"``, or ``"-"`` when not in a CSV."""
    if n.csv is None:
        return "-"
    where = ", ".join(f"{k}={v}" for k, v in n.where.items())
    return f"{n.csv}.csv [{where}] {n.column}"


# -- content: blocks of jaxfb._page, built once --------------------------------------------------


def _figure_link(claim: Claim, numbers: dict[str, int]) -> str:
    """``[Figure k](#fig-name)``: figures are numbered in the order of the report."""
    if claim.figure is None:
        return "-"
    if claim.figure not in numbers:
        return f"{claim.figure} (not made)"
    return f"[Figure {numbers[claim.figure]}](#{anchor(claim.figure)})"


def _verdict_blocks(claims: list[Claim], numbers: dict[str, int]) -> list[tuple]:
    counts = Counter(c.verdict for c in claims)
    tally = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    blocks: list[tuple] = [("h", 2, "Verdicts", "verdicts")]
    blocks.append(("p", f"{len(claims)} claims checked against this run: {tally or 'none'}."))
    head = ["#", "what was tested", "what was found", "why it matters", "verdict", "figure"]
    groups: dict[str, tuple[list, list]] = {source: ([], []) for source, _ in _GROUPS}
    for i, c in enumerate(claims, 1):
        rows, ids = groups["paper" if c.source == "paper" else "jaxfb"]
        link, badge = f"[{i}](#claim-{i})", ("badge", c.verdict)
        rows.append([link, c.statement, c.finding, c.why, badge, _figure_link(c, numbers)])
        ids.append(f"verdict-{i}")
    for source, heading in _GROUPS:
        rows, ids = groups[source]
        if rows:
            blocks += [("h", 3, heading, None), _table(head, rows, ids, "verdicts")]
    return blocks


def _figure_blocks(figures: list[FigureOutput], claims: list[Claim]) -> list[tuple]:
    gallery = [(f.name, f"Figure {k}. {f.title}") for k, f in enumerate(figures, 1)]
    blocks: list[tuple] = [("h", 2, "Figures", "figures"), ("gallery", gallery)]
    for k, f in enumerate(figures, 1):
        shown = [
            f"[#{i}](#verdict-{i}) {c.verdict}"
            for i, c in enumerate(claims, 1)
            if c.figure == f.name
        ]
        files = f"Files: `{f.name}.png`, `{f.name}.pdf`, data `{f.name}.csv`."
        blocks += [("h", 3, f"Figure {k}. {f.title}", anchor(f.name)), ("figure", f.name, f.title)]
        blocks.append(("p", f.caption))
        blocks.append(("p", files + (f" Claims shown: {'; '.join(shown)}." if shown else "")))
    return blocks


def _evidence(claim: Claim) -> str:
    return "; ".join(f"{k} = {format_number(v, 4)}" for k, v in claim.evidence.items())


def _detail_blocks(numbers, claims, sources, timings, notes) -> list[tuple]:
    nums = [
        [n.label, format_number(n.value), format_number(n.se, 2), f"`{number_source(n)}`", n.note]
        for n in numbers
    ]
    evidence = [
        [str(i), c.statement, ("badge", c.verdict), _evidence(c), c.rule.text or _rule_text(c)]
        for i, c in enumerate(claims, 1)
    ]
    phases = sorted({p for t in timings.values() for p in t})
    times = [
        [name, *(f"{t[p]:.1f}" if p in t else "-" for p in phases)] for name, t in timings.items()
    ]
    ids = [f"claim-{i}" for i in range(1, len(claims) + 1)]
    details = [
        ("Key numbers", _table(["quantity", "value", "std. error", "stored in", "note"], nums)),
        ("Evidence and decision rules", _table(_EVIDENCE_HEAD, evidence, ids)),
        ("Where the theory curves come from", ("list", [f"{k}: {v}" for k, v in sources.items()])),
        ("Timings (seconds)", _table(["experiment", *phases], times)),
        ("Notes", ("list", list(notes))),
    ]
    blocks: list[tuple] = [("h", 2, "Details", "details")]
    blocks.append(("p", "Key numbers, evidence and decision rules, sources, timings, notes."))
    return blocks + [("details", s, [b]) for s, b in details if b[2 if b[0] == "table" else 1]]


def _table(head: list[str], rows: list[list], ids: list[str] | None = None, css: str = ""):
    return ("table", head, rows, ids, css)


def _rule_text(claim: Claim) -> str:
    r = claim.rule
    partly = f"; partly if {r.quantity} {r.op} {r.partly}" if r.partly is not None else ""
    return f"supported if {r.quantity} {r.op} {r.supported}{partly}"


def _content(header, numbers, claims, figures, sources, timings, notes) -> list[tuple]:
    numbers_of = {f.name: k for k, f in enumerate(figures, 1)}
    blocks: list[tuple] = [("h", 1, TITLE, None)]
    blocks.append(("header", [h.removeprefix("- ") for h in header if h.strip()]))
    blocks += _verdict_blocks(claims, numbers_of) + _figure_blocks(figures, claims)
    return blocks + _detail_blocks(numbers, claims, sources, timings, notes)


_CSS = """
table.verdicts { table-layout: fixed; } table.verdicts td { overflow-wrap: anywhere; }
.verdicts th:nth-child(1) { width: 3%; } .verdicts th:nth-child(2) { width: 19%; }
.verdicts th:nth-child(3) { width: 38%; } .verdicts th:nth-child(4) { width: 20%; }
.verdicts th:nth-child(5) { width: 11%; } .verdicts th:nth-child(6) { width: 9%; }
"""


def write_reports(
    out: Path,
    *,
    header: list[str],
    numbers: list[KeyNumber],
    claims: list[Claim],
    figures: list[FigureOutput],
    sources: dict[str, str],
    timings: dict[str, dict[str, Any]],
    notes: list[str],
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``out`` (the PNGs must already be there):
    the same content in the same order (``docs/reproduction.md``)."""
    out = Path(out)
    blocks = _content(header, numbers, claims, figures, sources, timings, notes)
    md_path, html_path = out / "report.md", out / "report.html"
    atomic_write_text(md_path, markdown(blocks))
    page = html_page(blocks, out, title="jaxfb reproduction report", css=_CSS)
    atomic_write_text(html_path, page)
    return md_path, html_path
