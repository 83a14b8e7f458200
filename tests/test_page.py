"""jaxfb._page: one list of blocks, rendered as Markdown and as one self-contained HTML page."""

from __future__ import annotations

import base64

import numpy as np
from matplotlib.figure import Figure

from jaxfb._figures import save_figure
from jaxfb._page import anchor, format_number, html_page, markdown


def _blocks():
    table = ("table", ["name", "verdict"], [["a | b", ("badge", "partly supported")]], ["r1"], "t")
    return [
        ("h", 1, "A *page*", None),
        ("header", ["run `x < y` on **two** devices"]),
        ("gallery", [("fig a", "Figure 1. first")]),
        ("h", 2, "Figure 1. first", anchor("fig a")),
        ("figure", "fig a", "first"),
        ("details", "More", [table, ("list", ["unmatched ` backtick & <tag>"])]),
    ]


def test_markdown_and_html_carry_the_same_content(tmp_path):
    fig = Figure(figsize=(1, 1))
    fig.subplots().plot(np.arange(3))
    save_figure(fig, tmp_path / "fig a", dpi=20)
    md = markdown(_blocks())
    page = html_page(_blocks(), tmp_path, title="t & u", css=".t { color: red; }")
    assert anchor("fig a") == "fig-fig-a"
    assert f'<a id="{anchor("fig a")}"></a>' in md and f"](#{anchor('fig a')})" in md
    assert "![first](fig a.png)" in md and "a \\| b" in md and "**partly supported**" in md
    assert "## More" in md and md.index("## More") > md.index("![first]")
    assert "<title>t &amp; u</title>" in page and ".t { color: red; }" in page
    assert "<code>x &lt; y</code>" in page and "<strong>two</strong>" in page
    assert "<em>page</em>" in page
    assert "class='badge v-partly-supported'" in page and "<tr id='r1'>" in page
    assert "unmatched ` backtick &amp; &lt;tag&gt;" in page
    assert page.count("<details>") == 1 and page.count("</details>") == 1
    images = page.split("src='data:image/png;base64,")[1:]
    assert len(images) == 2  # the thumbnail and the figure, both inlined
    full = base64.b64decode(images[1].split("'")[0])
    assert full == (tmp_path / "fig a.png").read_bytes()


def test_format_number_spells_out_non_finite_values():
    assert [format_number(v) for v in (float("nan"), float("inf"), None)] == ["nan", "inf", "-"]
    assert format_number(123456.7, 3) == "1.23e+05"
