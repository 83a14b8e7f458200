"""docs/api.md reads as plain Markdown and stays true: its signature tables name real objects
with their real positional arguments, and every ``python`` block on the page runs."""

import contextlib
import importlib
import inspect
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
API = (ROOT / "docs" / "api.md").read_text()

ROW = re.compile(r"^\| (`[^|]*`) \|", re.M)  # first cell of a table row: code spans
SPAN = re.compile(r"`([\w.]+)(?:\(([^`]*)\))?`")
POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def table_entries(text: str = API) -> list[tuple[str, str | None]]:
    """``(dotted name, argument list or None)`` for every entry of every signature table.

    A cell may hold several spans (`` `jaxfb.m.A()`, `B()` ``): a bare name belongs to the module
    of the span before it.
    """
    out = []
    for cell in ROW.findall(text):
        module = None
        for name, args in SPAN.findall(cell):
            if name.startswith("jaxfb."):
                module = name.rsplit(".", 1)[0]
            elif module is not None:
                name = f"{module}.{name}"
            else:
                continue
            out.append((name, args if f"{name.rsplit('.', 1)[-1]}(" in cell else None))
    return out


def resolve(dotted: str):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def check_arguments(obj, args: str) -> None:
    """The names before ``*`` are the leading positional parameters (every required one
    included); the names after it are parameters of ``obj``."""
    sig = inspect.signature(obj)
    items = [a.strip() for a in args.split(",") if a.strip()]
    star = items.index("*") if "*" in items else len(items)
    listed, keywords = items[:star], [k for k in items[star + 1 :] if not k.startswith("**")]
    positional = [p for p in sig.parameters.values() if p.kind in POSITIONAL]
    required = [p.name for p in positional if p.default is inspect.Parameter.empty]
    names = [p.name for p in positional]
    assert listed == names[: len(listed)], f"positional {listed} != {names}"
    assert len(listed) >= len(required), f"{listed} leaves out required {required}"
    unknown = [k for k in keywords if k not in sig.parameters]
    assert not unknown, f"{unknown} are not parameters of {sig}"
    if any(k.startswith("**") for k in items):
        assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())


ENTRIES = table_entries()


def test_every_section_opens_with_a_table_and_an_example():
    sections = re.split(r"^## ", API, flags=re.M)[1:]
    assert len(sections) >= 10
    for section in sections:
        title, body = section.split("\n", 1)
        assert "\n::: " in body, f"section {title!r} has no generated entries"
        intro = body.split("\n::: ")[0]
        assert "| --- |" in intro, f"section {title!r}: no table before its ::: entries"
        assert "```python" in intro, f"section {title!r}: no example before its ::: entries"


@pytest.mark.parametrize("name, args", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_table_entry_exists_with_its_arguments(name, args):
    obj = resolve(name)
    if args is not None:
        check_arguments(obj, args)


def test_the_table_check_can_fail():
    def f(a, b, *, c=1):
        return a, b, c

    check_arguments(f, "a, b, *, c")
    for bad in ("b, a", "a", "a, b, *, d", "a, b, c"):
        with pytest.raises(AssertionError):
            check_arguments(f, bad)
    assert ("jaxfb.x.A", "") in table_entries("| `jaxfb.x.A()`, `B(k)` | z |\n")
    assert ("jaxfb.x.B", "k") in table_entries("| `jaxfb.x.A()`, `B(k)` | z |\n")


BLOCKS = re.findall(r"```python\n(.*?)```", API, re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_python_block_runs(index):
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(BLOCKS[index], f"docs/api.md block {index}", "exec"), {})
