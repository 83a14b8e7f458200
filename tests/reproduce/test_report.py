"""The report of a small synthetic run: verdicts first, links that resolve, details collapsed."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from matplotlib.figure import Figure

from jaxfb._page import format_number
from jaxfb.reproduce._plotting import save_figure
from jaxfb.reproduce._report import number_source, write_reports
from jaxfb.reproduce._results import Claim, FigureOutput, KeyNumber, Rule

# (evidence x, expected verdict) under "supported if x <= 1; partly if x <= 2"
CASES = {
    "supported": 0.5,
    "partly supported": 1.5,
    "not supported": 3.0,
    "undecided": math.nan,
}


def _claims() -> list[Claim]:
    rule = Rule("x", "<=", 1.0, 2.0, text="supported if x <= 1; partly if x <= 2")
    claims = [
        Claim(
            f"paper claim that is {v}",
            {"x": x, "n": 7.0},
            rule,
            f"x = {x}",
            why=f"why {v}",
            figure="fig_a" if i % 2 else "fig b",
            source="paper",
        )
        for i, (v, x) in enumerate(CASES.items())
    ]
    by_key = Rule("err", ">=", "limit", text="")  # threshold named by an evidence key
    claims += [
        Claim(
            "jaxfb check, supported",
            {"err": 4.0, "limit": 3.0},
            by_key,
            "4 >= 3",
            figure="fig_a",
            source="jaxfb",
        ),
        Claim(
            "jaxfb check, infinite threshold",
            {"err": 4.0, "limit": math.inf},
            by_key,
            "threshold inf",
            figure=None,
            source="jaxfb",
        ),
        Claim(
            "jaxfb check whose figure was not made",
            {"err": 1.0, "limit": 3.0},
            by_key,
            "1 < 3",
            figure="missing",
            source="jaxfb",
        ),
    ]
    return claims


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    figures = []
    for name in ("fig_a", "fig b"):
        fig = Figure(figsize=(2, 1.5))
        fig.subplots().plot(np.arange(5), np.arange(5) ** 2)
        save_figure(fig, out / name, dpi=40)
        figures.append(FigureOutput(name, f"Title of {name}", f"Caption of {name}.", None, {}))
    numbers = [
        KeyNumber("a finite number", 1.2345678, 0.01, "fig_a", {"J": 5, "T": 8}, "mean", "n1"),
        KeyNumber("not a number", math.nan, None, None, {}, None, "n2"),
        KeyNumber("plus infinity", math.inf, math.nan, None),
        KeyNumber("minus infinite", -math.inf, None, None),
    ]
    claims = _claims()
    md, page = write_reports(
        out,
        header=["- Mode: **quick**, seed 0 & `a < b`"],
        numbers=numbers,
        claims=claims,
        figures=figures,
        sources={"theory curve": "jaxfb.theory"},
        timings={"energy": {"simulate": 1.25, "total": math.nan}, "frames": {"total": 2.0}},
        notes=["a note with <angle brackets>"],
    )
    return claims, numbers, md.read_text(), page.read_text()


class _Tags(HTMLParser):
    """Ids, local links, and the text inside ``<details>`` of an HTML page."""

    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.stack, self.in_details = set(), [], [], []
        self.outside_details = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.hrefs.append(attrs["href"][1:])
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack[-3:], tag)
        self.stack.pop()

    def handle_data(self, data):
        (self.in_details if "details" in self.stack else self.outside_details).append(data)


def _parsed(page: str) -> _Tags:
    void = r"<(meta|img)\b[^>]*>"  # void elements: no end tag
    tags = _Tags()
    tags.feed(re.sub(void, "", page))
    tags.close()
    return tags


def test_the_verdict_table_comes_before_the_first_figure(report):
    claims, _, md, page = report
    first_img = page.index("<img")
    for c in claims:
        assert page.index(c.statement) < first_img
        assert md.index(c.statement) < md.index("![")
    assert page.index("table class='verdicts'") < first_img
    assert (
        md.index("## Verdicts")
        < md.index("## Figures")
        < md.index("![")
        < md.index("## Key numbers")
    )


def test_every_verdict_is_computed_and_shown_with_its_badge(report):
    claims, _, md, page = report
    verdicts = [c.verdict for c in claims]
    expected = [*CASES, "supported", "undecided", "not supported"]
    assert verdicts == expected
    rows = re.findall(r"<tr id='verdict-(\d+)'>(.*?)</tr>", page)
    assert [int(i) for i, _ in rows] == list(range(1, len(claims) + 1))
    for (_, row), v in zip(rows, verdicts, strict=True):
        assert f"class='badge v-{v.replace(' ', '-')}'>{v}</span>" in row
    tally = "2 supported, 1 partly supported, 2 not supported, 2 undecided."
    assert f"7 claims checked against this run: {tally}" in page
    assert f"**{verdicts[3]}**" in md


def test_paper_claims_and_jaxfb_checks_are_two_groups(report):
    _, _, md, page = report
    assert page.index("Claims of the paper") < page.index("paper claim that is undecided")
    assert page.index("jaxfb's own checks") < page.index("jaxfb check, supported")
    assert page.index("paper claim that is undecided") < page.index("jaxfb's own checks")
    assert md.index("### jaxfb's own checks") < md.index("jaxfb check, supported")
    assert md.index("## Details") < md.index("## Key numbers") < md.index("## Notes")


def test_every_link_resolves_to_an_anchor_that_exists(report):
    claims, _, md, page = report
    tags = _parsed(page)
    assert tags.hrefs and set(tags.hrefs) <= tags.ids
    md_ids = set(re.findall(r'<a id="([^"]+)"></a>', md))
    md_links = re.findall(r"\]\(#([^)]+)\)", md)
    assert md_links and set(md_links) <= md_ids
    for i, c in enumerate(claims, 1):
        row = re.search(rf"<tr id='verdict-{i}'>(.*?)</tr>", page).group(1)
        links = re.findall(r'href="#(fig-[^"]+)">(Figure \d+)</a>', row)
        if c.figure in ("fig_a", "fig b"):
            assert len(links) == 1 and links[0][0] in tags.ids
            section = page.index(f"id='{links[0][0]}'")
            heading = re.search(rf"id='{links[0][0]}'>([^<]*)<", page).group(1)
            assert heading == f"{links[0][1]}. Title of {c.figure}"  # same number
            assert page.index("<img", section) < page.index("<h", section + 5)  # figure first
        else:
            assert links == []
    assert "missing (not made)" in page


def test_the_details_are_collapsed(report):
    _, numbers, _, page = report
    tags = _parsed(page)
    inside, outside = " ".join(tags.in_details), " ".join(tags.outside_details)
    for n in numbers:
        assert n.label in inside and n.label not in outside
    for text in ("supported if x &lt;= 1; partly if x &lt;= 2", "x = 0.5; n = 7"):
        assert text.replace("&lt;", "<") in inside
    assert "supported if err >= limit" in inside  # a rule without text is spelled out
    assert "jaxfb.theory" in inside and "<angle brackets>" in inside
    assert page.count("<details>") == 5 and "<details open" not in page


def test_non_finite_numbers_are_spelled_out(report):
    _, _, md, page = report
    assert format_number(math.nan) == "nan" and format_number(-math.inf) == "-inf"
    for cell in ("nan", "inf", "-inf"):
        assert f"<td class='num'>{cell}</td>" in page
    assert "| not a number | nan | - |" in md
    assert "| plus infinity | inf | nan |" in md
    assert "x = nan; n = 7" in md
    assert "| energy | 1.2 | nan |" in md and "| frames | - | 2.0 |" in md


def test_the_html_is_self_contained_and_escaped(report):
    _, numbers, _, page = report
    assert re.findall(r"src='([^']{0,22})", page) == ["data:image/png;base64,"] * 4
    assert "&lt;angle brackets&gt;" in page
    assert "<strong>quick</strong>" in page and "<code>a &lt; b</code>" in page
    assert number_source(numbers[0]) == "fig_a.csv [J=5, T=8] mean"


def test_an_empty_run_still_writes_both_reports(tmp_path):
    md, page = write_reports(
        tmp_path, header=[], numbers=[], claims=[], figures=[], sources={}, timings={}, notes=[]
    )
    assert "0 claims checked against this run: none." in md.read_text()
    tags = _parsed(page.read_text())
    assert set(tags.hrefs) <= tags.ids and "<details>" not in page.read_text()
