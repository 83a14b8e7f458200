"""Every number quoted in README.md and docs/*.md with a source marker equals its source, and the
results sections quote no decimal number without one (the convention of docs/index.md, "Where the
numbers come from").

A marker is an HTML comment placed right after the number it sources, on the same line::

    the mean condition number is 2.679<!-- q: docs/figures/x.json#fits/0/kappa -->

It names a results file (JSON, or CSV read as a list of row objects) and a path into it; the
value there, formatted with the precision of the quoted text (or ``fmt=``/``sig=``), must read
exactly as the last number before the marker.
"""

import math
import pathlib
import re
import urllib.parse

import numpy as np
import pytest

from jaxfb import io

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

MARKER = re.compile(r"<!--\s*q:\s*(?P<body>[^>]*?)\s*-->")
TABLE_MARKER = re.compile(r"<!--\s*q-table:\s*(?P<script>\S+)\s+(?P<file>\S+)\s*-->")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?:[eE][-+]?\d+)?")
CODE_SPAN = re.compile(r"`[^`]*`")

# Results sections (a heading and everything under it) where every decimal number in prose must
# carry a marker. The tables after a ``<!-- q-table: SCRIPT -->`` line (up to the next paragraph
# or heading) are written by SCRIPT and exempt; inline code spans are exempt (commands, code).
GUARDED = {
    "README.md": ["What the paper gets right and wrong"],
    "docs/scaling.md": ["Results"],
    "docs/reproduction.md": ["Key numbers of the full run"],
}
# Decimal numbers that are inputs or names, not results (a marker ``<!-- q: given -->`` after a
# number says the same in place).
DEFINITIONS = [
    re.compile(r"\bp = 0\.\d+"),
    re.compile(r"\bkappa0 = [\d.]+(?:, [\d.]+)*"),
    re.compile(r"\blambda = 0\.\d+"),
    re.compile(r"\b(?:JAX|jaxfb|Python) (?:>= )?\d+\.\d+(?:\.\d+)?"),
]


# --- parsing -------------------------------------------------------------------------------


def prose_lines(text: str):
    """``(line number, line, heading path)`` for every line outside fenced code blocks."""
    fenced, headings = False, []
    for i, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        m = re.match(r"^(#+) (.*)", line)
        if m:
            level = len(m.group(1))
            above = headings[: level - 1] + [""] * (level - 1 - len(headings))
            headings = [*above, m.group(2).strip()]
            continue
        yield i, line, tuple(headings)


def live_markers(line: str):
    """Source markers of ``line`` that are not inside a code span (those only show the syntax)."""
    spans = [m.span() for m in CODE_SPAN.finditer(line)]
    return [m for m in MARKER.finditer(line) if not any(a <= m.start() < b for a, b in spans)]


def markers(text: str):
    """``(line number, quoted token, marker body)`` for every source marker of a page."""
    for i, line, _ in prose_lines(text):
        start = 0
        for m in live_markers(line):
            before = CODE_SPAN.sub(lambda s: s.group(0).strip("`"), line[start : m.start()])
            tokens = NUMBER.findall(before)
            yield i, (tokens[-1] if tokens else None), m.group("body")
            start = m.end()


def _split(body: str):
    source, *opts = body.split()
    options = dict(o.split("=", 1) for o in opts)
    if "#" not in source:
        return source, None, options
    path, key = source.split("#", 1)
    return path, key, options


def _rows(path: pathlib.Path):
    table = io.read_csv(path)
    names = list(table)
    return [{n: table[n][i].item() for n in names} for i in range(len(table[names[0]]))]


def _equal(a, b: str) -> bool:
    if isinstance(a, (int, float, np.number)) and not isinstance(a, bool):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
        except ValueError:
            return False
    return str(a) == b


def _step(node, segment: str):
    segment = urllib.parse.unquote(segment.replace("~1", "/").replace("~0", "~"))
    if segment == "*":
        return list(node.values()) if isinstance(node, dict) else list(node)
    if segment.startswith("[") and segment.endswith("]"):
        wanted = dict(c.split("=", 1) for c in segment[1:-1].split(","))
        hits = [r for r in node if all(_equal(r.get(k), v) for k, v in wanted.items())]
        if len(hits) != 1:
            raise KeyError(f"{segment} selects {len(hits)} rows, not 1")
        return hits[0]
    if isinstance(node, list):
        return node[int(segment)]
    return node[segment]


def resolve(key: str, data):
    """The value at ``key`` (``a/0/b``, ``[J=40,T=1024]/col``, ``*``, ``|min``/``|max``/``|len``,
    ``|num0``: the first number in a text value)."""
    key, _, reduce = key.partition("|")
    node, mapped = data, False
    for segment in key.strip("/").split("/"):
        if mapped:
            node = [_step(n, segment) for n in node]
        else:
            node = _step(node, segment)
            mapped = segment == "*"
    if reduce.startswith("num"):  # the n-th number inside a text field, e.g. a note
        return float(NUMBER.findall(node)[int(reduce[3:])])
    if reduce:
        return {"min": min, "max": max, "len": len}[reduce](node)
    return node


def render(value, quoted: str, options: dict) -> str:
    """``value`` formatted as the document should quote it."""
    value = float(value) * float(options.get("scale", 1))
    if "sig" in options:
        digits = int(options["sig"]) - 1 - math.floor(math.log10(abs(value))) if value else 0
        value = round(value, digits)
        return f"{value:.{max(digits, 0)}f}"
    if "fmt" in options:
        return format(value, options["fmt"])
    mantissa, e, _ = quoted.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return format(value, f".{decimals}{'e' if e else 'f'}")


def normalise(token: str) -> str:
    token = token.lower()
    mantissa, e, exponent = token.partition("e")
    if e:
        sign = "-" if exponent.startswith("-") else ""
        token = f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return "0" if token in ("-0", "-0.0") else token


_cache: dict = {}


def load(path: str):
    if path not in _cache:
        file = ROOT / path
        _cache[path] = _rows(file) if file.suffix == ".csv" else io.load_json(file)
    return _cache[path]


def check(quoted: str | None, body: str) -> str | None:
    """``None`` when the marker holds, else why not."""
    path, key, options = _split(body)
    if path == "given":
        return None if quoted is not None else "no number before a 'given' marker"
    if key is None:
        return f"marker {body!r} has no '#key'"
    if quoted is None:
        return f"no number before the marker {body!r}"
    if not (ROOT / path).is_file():
        return f"{path} does not exist"
    try:
        value = resolve(key, load(path))
    except (KeyError, IndexError, ValueError, TypeError) as err:
        return f"{path}#{key}: {err!r}"
    text = render(value, quoted, options)
    tokens = NUMBER.findall(text)
    if not tokens or normalise(tokens[-1]) != normalise(quoted):
        return f"quoted {quoted}, but {path}#{key} = {value!r} reads {text}"
    return None


def unsourced(text: str, sections: list[str], name: str) -> list[str]:
    """Decimal numbers in the guarded sections of page ``name`` that no marker claims."""
    out, exempt_table, section = [], False, None
    for i, line, headings in prose_lines(text):
        if TABLE_MARKER.match(line.strip()):
            exempt_table, section = True, headings
            continue
        is_row = line.lstrip().startswith("|")
        if headings != section or (line.strip() and not is_row):
            exempt_table = False  # a marker covers the tables up to the next paragraph
        if not any(h.startswith(s) for s in sections for h in headings if h):
            continue
        if is_row and exempt_table:
            continue
        claimed, start = set(), 0
        for m in live_markers(line):
            spans = [t for t in NUMBER.finditer(line, start, m.start())]
            if spans:
                claimed.add(spans[-1].end())
            start = m.end()
        bare = CODE_SPAN.sub(lambda s: " " * len(s.group(0)), MARKER.sub(_blank, line))
        for d in DEFINITIONS:
            bare = d.sub(_blank, bare)
        for m in DECIMAL.finditer(bare):
            if m.end() not in claimed:
                out.append(f"{name}:{i}: {m.group(0)}")
    return out


def _blank(m: re.Match) -> str:
    return " " * len(m.group(0))


# --- tests ---------------------------------------------------------------------------------

QUOTES = [
    pytest.param(p, i, q, b, id=f"{p.relative_to(ROOT)}:{i}")
    for p in PAGES
    for i, q, b in markers(p.read_text())
]


@pytest.mark.parametrize("page, line, quoted, body", QUOTES)
def test_quoted_number_matches_its_source(page, line, quoted, body):
    problem = check(quoted, body)
    assert problem is None, f"{page.relative_to(ROOT)}:{line}: {problem}"


def generated_tables(text: str):
    """``(marker, rows)``: each ``q-table`` marker with the table rows it covers."""
    out, rows, section = [], None, None
    for _, line, headings in prose_lines(text):
        m = TABLE_MARKER.match(line.strip())
        if m:
            rows, section = [], headings
            out.append((m, rows))
            continue
        is_row = line.lstrip().startswith("|")
        if headings != section or (line.strip() and not is_row):
            rows = None
        if rows is not None and is_row:
            rows.append(line.strip())
    return out


TABLES = [
    pytest.param(m, rows, id=f"{p.relative_to(ROOT)}:{m.group('file')}")
    for p in PAGES
    for m, rows in generated_tables(p.read_text())
]


@pytest.mark.parametrize("marker, rows", TABLES)
def test_generated_tables_are_the_scripts_output(marker, rows):
    """Every row after ``<!-- q-table: SCRIPT FILE -->`` is a line of FILE, which SCRIPT wrote."""
    assert (ROOT / marker.group("script")).is_file(), marker.group(0)
    written = {line.strip() for line in (ROOT / marker.group("file")).read_text().splitlines()}
    assert rows, f"{marker.group(0)} covers no table"
    stale = [r for r in rows if r not in written]
    assert not stale, f"rows not in {marker.group('file')}:\n" + "\n".join(stale)


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_results_sections_quote_only_sourced_numbers(name):
    missing = unsourced((ROOT / name).read_text(), GUARDED[name], name)
    assert not missing, "numbers without a source marker:\n" + "\n".join(missing)


def test_guarded_sections_exist():
    for name, sections in GUARDED.items():
        headings = {h for _, _, hs in prose_lines((ROOT / name).read_text()) for h in hs}
        for s in sections:
            assert any(h.startswith(s) for h in headings), f"{name}: no section {s!r}"


def test_the_checker_can_fail(tmp_path):
    """A wrong quote, a wrong key and an unmarked number are all caught."""
    io.save_json(
        tmp_path / "r.json",
        {"fits": [{"model": "paper", "c": 0.48987}], "n": 140, "note": "exact 0.0231; alpha 1.13"},
    )
    src = f"{tmp_path / 'r.json'}#fits/[model=paper]/c"  # an absolute path stays absolute
    assert check("0.490", src) is None
    assert check("0.4899", src) is None
    assert check("0.4898", src) is not None
    assert check("0.49", f"{src} fmt=.3f") is not None
    assert check("0.5", f"{src} sig=1") is None
    assert check("49.0", f"{src} scale=100 fmt=.1f") is None
    assert check("140", f"{tmp_path / 'r.json'}#n") is None
    assert check("0.490", f"{tmp_path / 'r.json'}#fits/0/missing") is not None
    assert check("0.490", f"{tmp_path / 'r.json'}#fits/*/c|max") is None
    assert check("0.490", "given") is None
    assert check("1.13", f"{tmp_path / 'r.json'}#note|num1") is None
    assert check("0.023", f"{tmp_path / 'r.json'}#note|num0") is None
    assert check("0.024", f"{tmp_path / 'r.json'}#note|num0") is not None
    text = "## Results\n\nc = 0.490 and 0.5<!-- q: given -->, `x = 1.5`, 2.25\n\n## Other\n\n3.5\n"
    assert unsourced(text, ["Results"], "f.md") == ["f.md:3: 0.490", "f.md:3: 2.25"]
    table = "| a |\n| 1.5 |\n\n| 2.5 |\n\ntext\n\n| 3.5 |\n"
    text = f"## Results\n\n<!-- q-table: x.py t.md -->\n{table}"
    assert unsourced(text, ["Results"], "f.md") == ["f.md:11: 3.5"]
    covered = [(m.group("file"), rows) for m, rows in generated_tables(text)]
    assert covered == [("t.md", ["| a |", "| 1.5 |", "| 2.5 |"])]
    quotes = list(markers("a 1.25 +- 0.5<!-- q: given --> and `z = 3.75` <!-- q: given -->"))
    assert [q for _, q, _ in quotes] == ["0.5", "3.75"]
