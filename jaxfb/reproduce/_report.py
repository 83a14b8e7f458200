"""``report.md`` and a self-contained ``report.html`` (PNGs inlined), from one list of blocks.

Verdicts first, then the figure gallery and figures, then collapsible details
(``docs/reproduction.md``).
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from ..io import atomic_write_text
from ._results import VERDICTS, Claim, FigureOutput, KeyNumber

__all__ = ["format_number", "number_source", "write_reports"]

TITLE = "Reproduction of Haider et al. (2024), *Instabilities in Convnets for Raw Audio*"
_GROUPS = (("paper", "Claims of the paper"), ("jaxfb", "jaxfb's own checks"))
_EVIDENCE_HEAD = ["#", "claim", "verdict", "evidence", "decision rule"]


def format_number(value: float | None, digits: int = 5) -> str:
    """``digits`` significant digits; ``inf``, ``nan`` and ``None`` (``-``) spelled out.

    Examples:
        >>> format_number(float("-inf")), format_number(2 / 3, 3), format_number(None)
        ('-inf', '0.667', '-')
    """
    if value is None:
        return "-"
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return format(v, f".{digits}g")


def number_source(n: KeyNumber) -> str:
    """``"kappa_vs_T.csv [J=40, T=1024] mean_kappa"``, or ``"-"`` when not in a CSV."""
    if n.csv is None:
        return "-"
    where = ", ".join(f"{k}={v}" for k, v in n.where.items())
    return f"{n.csv}.csv [{where}] {n.column}"


# -- content: built once -------------------------------------------------------------------------
# A block is a tuple: ("h", level, text, anchor) | ("p", text) | ("list" or "header", [text])
# | ("table", head, rows, row_anchors, css_class) | ("figure", FigureOutput)
# | ("gallery", [FigureOutput]) | ("details", summary, [block]). Text is inline Markdown
# (**bold**, *italic*, `code`, [text](#anchor)); a table cell is text or ("badge", verdict).


def _anchor(figure: str) -> str:
    return "fig-" + re.sub(r"[^A-Za-z0-9_-]+", "-", figure)


def _figure_link(claim: Claim, numbers: dict[str, int]) -> str:
    """``[Figure k](#fig-name)``: figures are numbered in the order of the report."""
    if claim.figure is None:
        return "-"
    if claim.figure not in numbers:
        return f"{claim.figure} (not made)"
    return f"[Figure {numbers[claim.figure]}](#{_anchor(claim.figure)})"


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
    blocks: list[tuple] = [("h", 2, "Figures", "figures"), ("gallery", figures)]
    for k, f in enumerate(figures, 1):
        shown = [
            f"[#{i}](#verdict-{i}) {c.verdict}"
            for i, c in enumerate(claims, 1)
            if c.figure == f.name
        ]
        files = f"Files: `{f.name}.png`, `{f.name}.pdf`, data `{f.name}.csv`."
        blocks += [("h", 3, f"Figure {k}. {f.title}", _anchor(f.name)), ("figure", f)]
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


# -- Markdown ------------------------------------------------------------------------------------


def _md_cell(cell) -> str:
    text = f"**{cell[1]}**" if isinstance(cell, tuple) else str(cell)
    return text.replace("|", "\\|").replace("\n", " ")


def _md(blocks: list[tuple]) -> list[str]:
    lines: list[str] = []
    for kind, *a in blocks:
        if kind == "h":
            lines += [f'<a id="{a[2]}"></a>', ""] if a[2] else []
            lines += ["#" * a[0] + " " + a[1], ""]
        elif kind == "p":
            lines += [a[0], ""]
        elif kind in ("list", "header"):
            lines += [f"- {t}" for t in a[0]] + [""]
        elif kind == "table":
            head, rows, ids, _ = a
            lines += ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
            for r, row in enumerate(rows):
                cells = [_md_cell(c) for c in row]
                cells[0] = (f'<a id="{ids[r]}"></a>' if ids else "") + cells[0]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
        elif kind == "figure":
            lines += [f"![{a[0].title}]({a[0].name}.png)", ""]
        elif kind == "gallery":
            lines += [f"{k}. [{f.title}](#{_anchor(f.name)})" for k, f in enumerate(a[0], 1)]
            lines.append("")
        elif kind == "details":
            lines += [f"## {a[0]}", "", *_md(a[1])]
    return lines


# -- HTML ----------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif;
       max-width: 1200px; margin: 1.5em auto; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.3em; } h3 { margin: 1.2em 0 0.4em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.header p { font-size: 0.85em; color: #555; margin: 0.15em 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.85em; width: 100%; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.35em 0.5em; vertical-align: top;
         text-align: left; }
th { background: #f5f5f5; border-bottom: 2px solid #ccc; }
tr:target { background: #fff7d6; } td.num { text-align: right; white-space: nowrap; }
table.verdicts { table-layout: fixed; } table.verdicts td { overflow-wrap: anywhere; }
.verdicts th:nth-child(1) { width: 3%; } .verdicts th:nth-child(2) { width: 19%; }
.verdicts th:nth-child(3) { width: 38%; } .verdicts th:nth-child(4) { width: 20%; }
.verdicts th:nth-child(5) { width: 11%; } .verdicts th:nth-child(6) { width: 9%; }
.badge { display: inline-block; padding: 0.1em 0.55em; border-radius: 0.8em; color: #fff;
         font-weight: 600; font-size: 0.9em; white-space: nowrap; }
.v-supported { background: #2e7d32; } .v-partly-supported { background: #b7791f; }
.v-not-supported { background: #c62828; } .v-undecided { background: #757575; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr));
           gap: 0.8em; }
.gallery a { display: block; border: 1px solid #e3e3e3; border-radius: 4px; padding: 0.4em;
             text-decoration: none; color: #222; font-size: 0.85em; }
.gallery a:hover { border-color: #888; }
.gallery img { width: 100%; height: 150px; object-fit: contain; display: block; }
figure { margin: 0.5em 0; } figure img { max-width: 100%; }
details { margin: 0.5em 0; } summary { cursor: pointer; font-weight: 600; font-size: 1.05em; }
a { color: #1a5fb4; } code { font-size: 0.85em; background: #f3f3f3; padding: 0 0.2em; }
"""


def _inline_html(text: str) -> str:
    """Escape ``text`` and render its inline Markdown: ``**bold**``, code spans and links.

    Examples:
        >>> _inline_html("Mode: **quick** & `a < b`, see [figure](#fig-x)")
        'Mode: <strong>quick</strong> &amp; <code>a &lt; b</code>, see <a href="#fig-x">figure</a>'
    """

    def rich(chunk: str) -> str:
        chunk = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(chunk, quote=False))
        chunk = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"<em>\1</em>", chunk)
        return re.sub(r"\[([^\]]+)\]\((#[\w-]+)\)", r'<a href="\2">\1</a>', chunk)

    chunks = str(text).split("`")
    if len(chunks) % 2 == 0:  # an unmatched backtick: no code spans
        return rich(text)
    return "".join(
        f"<code>{html.escape(c, quote=False)}</code>" if i % 2 else rich(c)
        for i, c in enumerate(chunks)
    )


def _html_cell(cell, tag: str = "td") -> str:
    if isinstance(cell, tuple):
        v = cell[1]
        return f"<{tag}><span class='badge v-{v.replace(' ', '-')}'>{html.escape(v)}</span></{tag}>"
    num = tag == "td" and re.fullmatch(r"-?(\d[\d.e+-]*|nan|inf)", str(cell))
    attr = " class='num'" if num else ""
    return f"<{tag}{attr}>{_inline_html(cell)}</{tag}>"


def _html_table(head: list[str], rows: list[list], ids: list[str] | None, css: str) -> list[str]:
    lines = [f"<table class='{css}'><tr>" + "".join(_html_cell(h, "th") for h in head) + "</tr>"]
    for r, row in enumerate(rows):
        rid = f" id='{ids[r]}'" if ids else ""
        lines.append(f"<tr{rid}>" + "".join(_html_cell(c) for c in row) + "</tr>")
    return [*lines, "</table>"]


def _png(out: Path, name: str, scale: float | None = None) -> str:
    """``data:`` URI of ``out/name.png`` (scaled down by ``scale`` for a thumbnail)."""
    data = (out / f"{name}.png").read_bytes()
    if scale is not None:
        from PIL import Image

        image, buf = Image.open(io.BytesIO(data)), io.BytesIO()
        image.thumbnail((round(image.width * scale), round(image.height * scale)))
        image.save(buf, format="PNG", optimize=True)
        data = buf.getvalue()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _html(blocks: list[tuple], out: Path) -> list[str]:
    e, parts = html.escape, []
    for kind, *a in blocks:
        if kind == "h":
            anchor = f" id='{a[2]}'" if a[2] else ""
            parts.append(f"<h{a[0]}{anchor}>{_inline_html(a[1])}</h{a[0]}>")
        elif kind == "p":
            parts.append(f"<p>{_inline_html(a[0])}</p>")
        elif kind == "list":
            parts += ["<ul>", *(f"<li>{_inline_html(t)}</li>" for t in a[0]), "</ul>"]
        elif kind == "header":
            lines = (f"<p>{_inline_html(t)}</p>" for t in a[0])
            parts += ["<div class='header'>", *lines, "</div>"]
        elif kind == "table":
            parts += _html_table(*a)
        elif kind == "figure":
            image = f"<img alt='{e(a[0].title)}' src='{_png(out, a[0].name)}'>"
            parts.append(f"<figure>{image}</figure>")
        elif kind == "gallery":
            parts.append("<div class='gallery'>")
            parts += [
                f"<a href='#{_anchor(f.name)}'><img alt='{e(f.title)}' "
                f"src='{_png(out, f.name, 0.35)}'>Figure {k}. {e(f.title)}</a>"
                for k, f in enumerate(a[0], 1)
            ]
            parts.append("</div>")
        elif kind == "details":
            parts += [f"<details><summary>{e(a[0])}</summary>", *_html(a[1], out), "</details>"]
    return parts


def _page(blocks: list[tuple], out: Path) -> str:
    body = "\n".join(_html(blocks, out))
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>jaxfb reproduction report</title>\n<style>{_CSS}</style></head><body>\n"
        f"{body}\n</body></html>\n"
    )


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
    atomic_write_text(md_path, "\n".join(_md(blocks)))
    atomic_write_text(html_path, _page(blocks, out))
    return md_path, html_path
