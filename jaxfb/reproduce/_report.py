"""The run's report: ``report.md`` beside the figures, and a self-contained ``report.html``.

Both are generated from the same structured content (key numbers, claims with their computed
verdicts, figures with captions, sources, timings); the HTML inlines every PNG as base64 so the
one file can be mailed or archived on its own.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path
from typing import Any

from ._results import Claim, FigureOutput, KeyNumber

__all__ = ["format_number", "number_source", "write_reports"]

_VERDICT_MARK = {"supported": "yes", "partly supported": "partly", "not supported": "no"}


def format_number(value: float | None, digits: int = 5) -> str:
    """``digits`` significant digits; ``inf``, ``nan`` and ``None`` (``-``) spelled out."""
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


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown(
    header: list[str],
    numbers: list[KeyNumber],
    claims: list[Claim],
    figures: list[FigureOutput],
    sources: dict[str, str],
    timings: dict[str, dict[str, float]],
    notes: list[str],
) -> str:
    lines = [
        "# Reproduction of Haider et al. (2024), *Instabilities in Convnets for Raw Audio*",
        "",
    ]
    lines += [*header, ""]
    lines += ["## Key numbers", ""]
    lines += ["| quantity | value | std. error | stored in | note |", "|---|---|---|---|---|"]
    for n in numbers:
        lines.append(
            f"| {_md_cell(n.label)} | {format_number(n.value)} | "
            f"{format_number(n.se, 2) if n.se is not None else '-'} | "
            f"{_md_cell(number_source(n))} | {_md_cell(n.note)} |"
        )
    lines += ["", "## Claims checked against this run", ""]
    lines += ["| claim | verdict | evidence | decision rule |", "|---|---|---|---|"]
    for c in claims:
        lines.append(
            f"| {_md_cell(c.claim)} | **{c.verdict}** | {_md_cell(c.evidence)} | "
            f"{_md_cell(c.rule)} |"
        )
    lines += ["", "## Figures", ""]
    for f in figures:
        lines += [
            f"### {f.title}",
            "",
            f"![{f.title}]({f.name}.png)",
            "",
            f"{f.caption}",
            "",
            f"Files: [{f.name}.png]({f.name}.png), [{f.name}.pdf]({f.name}.pdf), "
            f"data [{f.name}.csv]({f.name}.csv).",
            "",
        ]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines += ["## Where the theory curves come from", ""]
    lines += [f"- {k}: {v}" for k, v in sources.items()] + [""]
    lines += ["## Timings (seconds)", ""]
    phases = sorted({p for t in timings.values() for p in t})
    lines += ["| experiment | " + " | ".join(phases) + " |", "|---" * (len(phases) + 1) + "|"]
    for name, t in timings.items():
        lines.append(
            f"| {name} | " + " | ".join(f"{t[p]:.1f}" if p in t else "-" for p in phases) + " |"
        )
    lines.append("")
    return "\n".join(lines)


_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.v-supported { color: #176317; font-weight: bold; }
.v-partly { color: #8a6100; font-weight: bold; }
.v-not { color: #a01515; font-weight: bold; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; }
code { font-size: 0.9em; }
"""


def _inline_html(text: str) -> str:
    """Escape ``text`` and render its inline Markdown: ``**bold**`` and backtick code spans.

    Examples:
        >>> _inline_html("Mode: **quick** & `a < b`")
        'Mode: <strong>quick</strong> &amp; <code>a &lt; b</code>'
    """

    def bold(chunk: str) -> str:
        return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(chunk))

    chunks = text.split("`")
    if len(chunks) % 2 == 0:  # an unmatched backtick: no code spans
        return bold(text)
    return "".join(
        f"<code>{html.escape(c)}</code>" if i % 2 else bold(c) for i, c in enumerate(chunks)
    )


def _verdict_class(verdict: str) -> str:
    return {"supported": "v-supported", "partly supported": "v-partly"}.get(verdict, "v-not")


def _html(
    header: list[str],
    numbers: list[KeyNumber],
    claims: list[Claim],
    figures: list[FigureOutput],
    sources: dict[str, str],
    timings: dict[str, dict[str, float]],
    notes: list[str],
    out: Path,
) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>jaxfb reproduction report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Reproduction of Haider et al. (2024), <i>Instabilities in Convnets for Raw Audio</i>"
        "</h1>",
    ]
    parts += [f"<p>{_inline_html(h.removeprefix('- '))}</p>" for h in header if h.strip()]
    parts += [
        "<h2>Key numbers</h2>",
        "<table><tr><th>quantity</th><th>value</th>"
        "<th>std. error</th><th>stored in</th><th>note</th></tr>",
    ]
    for n in numbers:
        parts.append(
            f"<tr><td>{e(n.label)}</td><td class='num'>{e(format_number(n.value))}</td>"
            f"<td class='num'>{e(format_number(n.se, 2)) if n.se is not None else '-'}</td>"
            f"<td><code>{e(number_source(n))}</code></td><td>{e(n.note)}</td></tr>"
        )
    parts += [
        "</table>",
        "<h2>Claims checked against this run</h2>",
        "<table><tr><th>claim</th><th>verdict</th><th>evidence</th><th>decision rule</th></tr>",
    ]
    for c in claims:
        parts.append(
            f"<tr><td>{e(c.claim)}</td><td class='{_verdict_class(c.verdict)}'>{e(c.verdict)}"
            f"</td><td>{e(c.evidence)}</td><td>{e(c.rule)}</td></tr>"
        )
    parts += ["</table>", "<h2>Figures</h2>"]
    for f in figures:
        data = base64.b64encode((out / f"{f.name}.png").read_bytes()).decode("ascii")
        parts += [
            f"<h3>{e(f.title)}</h3>",
            f"<figure><img alt='{e(f.title)}' src='data:image/png;base64,{data}'>",
            f"<figcaption>{e(f.caption)} Files: <code>{e(f.name)}.png</code>, "
            f"<code>{e(f.name)}.pdf</code>, data <code>{e(f.name)}.csv</code>.</figcaption>"
            "</figure>",
        ]
    if notes:
        parts += ["<h2>Notes</h2><ul>"] + [f"<li>{e(n)}</li>" for n in notes] + ["</ul>"]
    parts += ["<h2>Where the theory curves come from</h2><ul>"]
    parts += [f"<li>{e(k)}: {e(v)}</li>" for k, v in sources.items()] + ["</ul>"]
    phases = sorted({p for t in timings.values() for p in t})
    parts += ["<h2>Timings (seconds)</h2><table><tr><th>experiment</th>"]
    parts += [f"<th>{e(p)}</th>" for p in phases] + ["</tr>"]
    for name, t in timings.items():
        cells = "".join(
            f"<td class='num'>{t[p]:.1f}</td>" if p in t else "<td>-</td>" for p in phases
        )
        parts.append(f"<tr><td>{e(name)}</td>{cells}</tr>")
    parts += ["</table>", "</body></html>", ""]
    return "\n".join(parts)


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
    """Write ``report.md`` and ``report.html`` into ``out`` (the PNGs must already be there)."""
    md = _markdown(header, numbers, claims, figures, sources, timings, notes)
    page = _html(header, numbers, claims, figures, sources, timings, notes, out)
    md_path, html_path = out / "report.md", out / "report.html"
    md_path.write_text(md, encoding="utf-8")
    html_path.write_text(page, encoding="utf-8")
    return md_path, html_path
