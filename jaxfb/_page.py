"""One page, two renderings: a list of blocks as Markdown and as a self-contained HTML page.

Any results folder can present itself with it: headings, paragraphs, lists, tables (a cell may
be a badge), figures (PNG files of the folder, inlined as ``data:`` URIs, so the page travels
alone), a gallery of thumbnails and collapsible details. The reproduction's report is one such
page (``docs/reproduction.md``).

A block is a tuple:

- ``("h", level, text, anchor)``: a heading (``anchor`` its id, or ``None``);
- ``("p", text)``, ``("list", [text])``, ``("header", [text])`` (the small print under a title);
- ``("table", head, rows, row_ids, css_class)``: ``row_ids`` one id per row, or ``None``;
- ``("figure", name, title)``: ``name.png`` of the folder;
- ``("gallery", [(name, label)])``: thumbnails linking to :func:`anchor` of ``name``;
- ``("details", summary, [block])``: collapsed in HTML, a section in Markdown.

Text is inline Markdown (``**bold**``, ``*italic*``, code spans, ``[text](#anchor)``); a table
cell is text or ``("badge", word)``, drawn as a pill of class ``v-word`` (the four verdict words
have colours).
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from pathlib import Path

__all__ = ["anchor", "format_number", "html_page", "markdown"]


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


def anchor(figure: str) -> str:
    """The id of figure ``figure``'s section: ``"fig-"`` and the name, other characters ``-``."""
    return "fig-" + re.sub(r"[^A-Za-z0-9_-]+", "-", figure)


# -- Markdown ------------------------------------------------------------------------------------


def _md_cell(cell) -> str:
    text = f"**{cell[1]}**" if isinstance(cell, tuple) else str(cell)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(blocks: list[tuple]) -> str:
    """The blocks as Markdown (figures link to the PNGs beside the page)."""
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
            lines += [f"![{a[1]}]({a[0]}.png)", ""]
        elif kind == "gallery":
            lines += [f"- [{label}](#{anchor(name)})" for name, label in a[0]] + [""]
        elif kind == "details":
            lines += [f"## {a[0]}", "", markdown(a[1])]
    return "\n".join(lines)


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
.badge { display: inline-block; padding: 0.1em 0.55em; border-radius: 0.8em; color: #fff;
         font-weight: 600; font-size: 0.9em; white-space: nowrap; background: #757575; }
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


def _png(folder: Path, name: str, scale: float | None = None) -> str:
    """``data:`` URI of ``folder/name.png`` (scaled down by ``scale`` for a thumbnail)."""
    data = (folder / f"{name}.png").read_bytes()
    if scale is not None:
        from PIL import Image

        image, buf = Image.open(io.BytesIO(data)), io.BytesIO()
        image.thumbnail((round(image.width * scale), round(image.height * scale)))
        image.save(buf, format="PNG", optimize=True)
        data = buf.getvalue()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _html(blocks: list[tuple], folder: Path) -> list[str]:
    e, parts = html.escape, []
    for kind, *a in blocks:
        if kind == "h":
            attr = f" id='{a[2]}'" if a[2] else ""
            parts.append(f"<h{a[0]}{attr}>{_inline_html(a[1])}</h{a[0]}>")
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
            parts.append(f"<figure><img alt='{e(a[1])}' src='{_png(folder, a[0])}'></figure>")
        elif kind == "gallery":
            parts.append("<div class='gallery'>")
            parts += [
                f"<a href='#{anchor(name)}'><img alt='{e(label)}' "
                f"src='{_png(folder, name, 0.35)}'>{e(label)}</a>"
                for name, label in a[0]
            ]
            parts.append("</div>")
        elif kind == "details":
            parts += [f"<details><summary>{e(a[0])}</summary>", *_html(a[1], folder), "</details>"]
    return parts


def html_page(blocks: list[tuple], folder: str | Path, *, title: str, css: str = "") -> str:
    """The blocks as one HTML page with the PNGs of ``folder`` inlined; ``css`` adds rules."""
    body = "\n".join(_html(blocks, Path(folder)))
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}{css}</style></head><body>\n"
        f"{body}\n</body></html>\n"
    )
