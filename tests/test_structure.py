"""The shape the package keeps, checked by reading the source with :mod:`ast` (no JAX import).

Each check is a function of the project root, so that it can be tried on small synthetic trees
(the ``test_checker_*`` tests) as well as run on this repository (the ``test_repository_*``
tests):

- no import cycle among ``jaxfb`` modules: relative and absolute imports, function-local ones
  included. Imports under ``if TYPE_CHECKING:`` do not count: they never run, and they are the
  sanctioned way to name a type from a module that may not be imported at run time. Importing
  a package runs its ``__init__``, so ``from .sub import x`` depends on ``sub/__init__.py``; a
  module's own parent packages are already being imported and add no edge, unless a name that is
  not a submodule is taken from one (``from .. import __version__`` depends on the parent's
  ``__init__`` having run to that point);
- no function in ``jaxfb/`` longer than 120 lines (its body, docstring excluded); argparse
  declarations are exempt (functions named ``add_parser``, or whose statements are mostly
  ``add_argument`` calls);
- ``__all__`` in every public module (no component of its dotted name starts with ``_``);
- ``jaxfb.montecarlo`` and ``jaxfb.scaling`` export at most 15 names;
- ``jaxfb/reproduce/`` holds at most 2,500 lines;
- the product speaks of itself: no references to the project's process documents (the
  specification, the style guide, numbered issues, a ``../shared`` folder) in ``jaxfb/``,
  ``experiments/``, ``benchmarks/`` or ``docs/``;
- ``experiments/`` and ``benchmarks/`` use public names only (no ``jaxfb.cli``, no private
  module or private attribute of ``jaxfb``).
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "jaxfb"
MAX_FUNCTION_LINES = 120
MAX_EXPORTS = {"jaxfb.montecarlo": 15, "jaxfb.scaling": 15}
MAX_PACKAGE_LINES = {"jaxfb.reproduce": 2500}
WORD_FOLDERS = ("jaxfb", "experiments", "benchmarks", "docs")
PUBLIC_ONLY_FOLDERS = ("experiments", "benchmarks")
TEXT_SUFFIXES = {".py", ".md", ".txt", ".rst", ".json", ".csv", ".toml", ".yaml", ".yml", ".cfg"}
# Case-sensitive: the capitalised specification's name, the style guide's file, "issue 7" or
# "issue #7", and the shared folder beside the repository.
FORBIDDEN_WORDS = re.compile(r"\bSPEC\b|\bSTYLE\.md\b|\bissue #?\d+|\.\./shared")
ARGPARSE_CALLS = {
    "add_argument",
    "add_argument_group",
    "add_mutually_exclusive_group",
    "add_parser",
    "add_subparsers",
    "set_defaults",
}


# ---------------------------------------------------------------------------------------------
# reading the package


def modules(root: Path, package: str = PACKAGE) -> dict[str, tuple[Path, ast.Module]]:
    """``{dotted name: (path, tree)}`` of every ``.py`` file under ``root/package``."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = (path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every ``import`` / ``from ... import`` in ``tree``, at any depth, outside TYPE_CHECKING."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (n for stmt in node.orelse for n in _import_nodes_of(stmt))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _import_nodes(node)


def _ancestors(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _from_base(name: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` statement reads from."""
    if not node.level:
        return node.module or ""
    parts = name.split(".") if is_package else name.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def import_graph(root: Path, package: str = PACKAGE) -> dict[str, set[str]]:
    """``{module: modules it imports}`` within ``package`` (see the module docstring's rules)."""
    mods = modules(root, package)
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, (path, tree) in mods.items():
        is_package = path.name == "__init__.py"
        mine = _ancestors(name)
        for node in _import_nodes(tree):
            targets = set()
            if isinstance(node, ast.Import):
                for alias in node.names:
                    # `import a.b.c` runs a, a.b and a.b.c
                    targets |= ({alias.name} | _ancestors(alias.name)) - mine
            else:
                base = _from_base(name, is_package, node)
                subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods}
                attributes = len(subs) < len(node.names)
                targets |= subs | (_ancestors(base) - mine)
                if base not in mine or attributes:
                    targets.add(base)
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle ``[a, b, ..., a]`` per strongly connected component: a shortest one through the
    component's first module (breadth-first search inside it)."""
    return [_shortest_cycle(graph, set(c), c[0]) for c in strongly_connected(graph)]


def _shortest_cycle(graph: dict[str, set[str]], component: set[str], start: str) -> list[str]:
    previous = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{start} is in a strongly connected component but on no cycle")


# ---------------------------------------------------------------------------------------------
# the checks (each returns its shortfalls as readable lines; empty means the check holds)


def check_import_cycles(root: Path, package: str = PACKAGE) -> list[str]:
    graph = import_graph(root, package)
    out = []
    for component in strongly_connected(graph):
        cycle = _shortest_cycle(graph, set(component), component[0])
        line = " -> ".join(cycle)
        if len(component) > len(cycle) - 1:
            line += f" (one of the cycles among {', '.join(component)})"
        out.append(line)
    return out


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def _is_argparse_declaration(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if node.name == "add_parser":
        return True

    def declares(stmt: ast.stmt) -> bool:
        return any(
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in ARGPARSE_CALLS
            for n in ast.walk(stmt)
        )

    return 2 * sum(declares(stmt) for stmt in node.body) > len(node.body)


def check_function_lengths(
    root: Path, package: str = PACKAGE, limit: int = MAX_FUNCTION_LINES
) -> list[str]:
    found = []
    for path, tree in modules(root, package).values():
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            lines = _body_lines(node)
            if lines > limit and not _is_argparse_declaration(node):
                found.append((str(path.relative_to(root)), node.lineno, node.name, lines))
    return [f"{p}:{n} {name}: {lines} lines (limit {limit})" for p, n, name, lines in sorted(found)]


def _all_node(tree: ast.Module) -> ast.expr | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return node.value
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "__all__":
            return node.value
    return None


def check_public_modules_have_all(root: Path, package: str = PACKAGE) -> list[str]:
    out = []
    for name, (path, tree) in modules(root, package).items():
        public = not any(part.startswith("_") for part in name.split("."))
        if public and _all_node(tree) is None:
            out.append(f"{name} ({path.relative_to(root)}) has no __all__")
    return out


def check_export_counts(root: Path, limits: dict[str, int] = MAX_EXPORTS) -> list[str]:
    mods = modules(root, next(iter(limits)).split(".")[0])
    out = []
    for name, limit in limits.items():
        if name not in mods:
            continue
        value = _all_node(mods[name][1])
        if value is None:
            continue  # reported by check_public_modules_have_all
        try:
            names = ast.literal_eval(value)
        except ValueError:
            out.append(f"{name}.__all__ is not a literal list of names")
            continue
        if len(names) > limit:
            out.append(f"{name} exports {len(names)} names (limit {limit}): {sorted(names)}")
    return out


def check_package_sizes(root: Path, limits: dict[str, int] = MAX_PACKAGE_LINES) -> list[str]:
    out = []
    for name, limit in limits.items():
        folder = root.joinpath(*name.split("."))
        files = sorted(folder.rglob("*.py"))
        lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)
        if lines > limit:
            biggest = sorted(files, key=lambda p: -len(p.read_text(encoding="utf-8").splitlines()))
            top = ", ".join(str(p.relative_to(root)) for p in biggest[:3])
            out.append(
                f"{folder.relative_to(root)}/ has {lines} lines (limit {limit}); most in {top}"
            )
    return out


def check_forbidden_words(root: Path, folders=WORD_FOLDERS) -> list[str]:
    out = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if not path.is_file() or path.suffix not in TEXT_SUFFIXES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), 1):
                for match in FORBIDDEN_WORDS.finditer(line):
                    out.append(f"{path.relative_to(root)}:{number}: {match.group(0)!r}")
    return out


def _private_prefix(dotted: str, package: str) -> str | None:
    """The shortest prefix of ``dotted`` that is ``package.cli`` or private, else ``None``."""
    parts = dotted.split(".")
    if parts[0] != package:
        return None
    for i, part in enumerate(parts[1:], 2):
        dunder = part.startswith("__") and part.endswith("__")
        if (i == 2 and part == "cli") or (part.startswith("_") and not dunder):
            return ".".join(parts[:i])
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def check_public_imports(
    root: Path, folders=PUBLIC_ONLY_FOLDERS, package: str = PACKAGE
) -> list[str]:
    out = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            used = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    used |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    used.add(node.module)
                    used |= {f"{node.module}.{a.name}" for a in node.names}
                elif isinstance(node, ast.Attribute):
                    used.add(_dotted(node) or "")
            private = {_private_prefix(name, package) for name in used} - {None}
            for name in sorted(private):
                out.append(f"{path.relative_to(root)} uses {name} (CLI or private)")
    return out


# ---------------------------------------------------------------------------------------------
# the checks on this repository


def _report(problems: list[str], what: str) -> str:
    return f"{len(problems)} {what}:\n  " + "\n  ".join(problems)


def test_repository_has_no_import_cycle():
    cycles = check_import_cycles(ROOT)
    assert not cycles, _report(cycles, "import cycle(s) among jaxfb modules")


def test_repository_functions_are_short():
    long = check_function_lengths(ROOT)
    assert not long, _report(long, f"function(s) longer than {MAX_FUNCTION_LINES} lines")


def test_repository_public_modules_declare_all():
    missing = check_public_modules_have_all(ROOT)
    assert not missing, _report(missing, "public module(s) without __all__")


def test_repository_engine_and_scaling_export_few_names():
    wide = check_export_counts(ROOT)
    assert not wide, _report(wide, "namespace(s) exporting too many names")


def test_repository_reproduce_is_small():
    big = check_package_sizes(ROOT)
    assert not big, _report(big, "package(s) over their size")


def test_repository_speaks_of_itself():
    words = check_forbidden_words(ROOT)
    assert not words, _report(words, "reference(s) to documents outside the repository")


def test_repository_experiments_and_benchmarks_use_public_names():
    private = check_public_imports(ROOT)
    assert not private, _report(private, "use(s) of the CLI or private jaxfb names")


# ---------------------------------------------------------------------------------------------
# the checkers on synthetic trees


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_checker_finds_cycles_through_relative_and_local_imports(tmp_path):
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "from ._a import f\n",
            "pkg/_a.py": "from ._b import g\ndef f():\n    return g()\n",
            # function-local import: counts
            "pkg/_b.py": "def g():\n    from ._a import f\n    return f\n",
            "pkg/sub/__init__.py": "from ._c import h\n",
            # `from .. import _d` depends on pkg._d only, not on pkg/__init__
            "pkg/sub/_c.py": "from .. import _d\nh = 1\n",
            "pkg/_d.py": "import math\n",
        },
    )
    graph = import_graph(root, "pkg")
    assert graph["pkg"] == {"pkg._a"}
    assert graph["pkg._b"] == {"pkg._a"}
    assert graph["pkg.sub._c"] == {"pkg._d"}
    assert check_import_cycles(root, "pkg") == ["pkg._a -> pkg._b -> pkg._a"]


def test_checker_cycle_rules_for_parents_type_checking_and_absolute_imports(tmp_path):
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "from . import _env\nfrom .sub import x\n__version__ = '1'\n",
            # a name (not a submodule) from the parent package: a real dependency, a cycle
            "pkg/_env.py": "def v():\n    from . import __version__\n    return __version__\n",
            # absolute import of a sibling subpackage runs its __init__
            "pkg/sub/__init__.py": "x = 1\n",
            "pkg/other/__init__.py": "",
            "pkg/other/_m.py": "import pkg.sub._n\n",
            "pkg/sub/_n.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from ..other import _m\n"  # never runs: no edge
            ),
        },
    )
    graph = import_graph(root, "pkg")
    assert graph["pkg._env"] == {"pkg"}
    assert graph["pkg.other._m"] == {"pkg.sub", "pkg.sub._n"}
    assert graph["pkg.sub._n"] == set()
    assert check_import_cycles(root, "pkg") == ["pkg -> pkg._env -> pkg"]


def test_checker_cycle_of_three_and_none_in_a_tree(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]
    graph = {"a": {"b", "c"}, "b": {"a"}, "c": {"b"}, "x": {"y"}, "y": {"x"}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["x", "y"]]
    assert import_cycles(graph) == [["a", "b", "a"], ["x", "y", "x"]]
    assert import_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_checker_long_functions(tmp_path):
    doc = '    """' + "doc\n" * 30 + '    """\n'
    body = "    x = 1\n" * 120
    parser = "    p = sub.add_parser('x')\n" + "    p.add_argument('--a')\n" * 130
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/_m.py": f"def ok():\n{doc}{body}\n"  # 120 lines of body: allowed
            f"def long():\n{body}    return x\n"  # 121
            f"def declare(sub):\n{parser}\n"  # mostly add_argument: exempt
            "class C:\n    def method(self):\n" + "        y = 2\n" * 125,
        },
    )
    assert [line.split(" ", 1)[1] for line in check_function_lengths(root, "pkg")] == [
        "long: 121 lines (limit 120)",
        "method: 125 lines (limit 120)",
    ]


def test_checker_public_modules_without_all(tmp_path):
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "__all__ = ['f']\n",
            "pkg/_private.py": "f = 1\n",
            "pkg/plots.py": "g = 1\n",
            "pkg/sub/__init__.py": "h = 1\n",
            "pkg/sub/_inner.py": "",
            "pkg/_hidden/__init__.py": "",
            "pkg/_hidden/visible.py": "",  # under a private package: private
            "pkg/typed.py": "__all__: list[str] = []\n",
        },
    )
    assert [line.split(" ")[0] for line in check_public_modules_have_all(root, "pkg")] == [
        "pkg.plots",
        "pkg.sub",
    ]


def test_checker_export_counts(tmp_path):
    names = [f"n{i}" for i in range(16)]
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/wide/__init__.py": f"__all__ = {names!r}\n",
            "pkg/narrow/__init__.py": f"__all__ = {names[:15]!r}\n",
            "pkg/built/__init__.py": "__all__ = ['a'] + ['b']\n",
        },
    )
    limits = {"pkg.wide": 15, "pkg.narrow": 15, "pkg.built": 15, "pkg.absent": 15}
    out = check_export_counts(root, limits)
    assert len(out) == 2
    assert out[0].startswith("pkg.wide exports 16 names (limit 15)")
    assert out[1] == "pkg.built.__all__ is not a literal list of names"


def test_checker_package_size(tmp_path):
    root = _tree(tmp_path, {"pkg/rep/a.py": "x = 1\n" * 6, "pkg/rep/sub/b.py": "y = 2\n" * 5})
    assert check_package_sizes(root, {"pkg.rep": 11}) == []
    (out,) = check_package_sizes(root, {"pkg.rep": 10})
    assert out.startswith("pkg/rep/ has 11 lines (limit 10); most in pkg/rep/a.py")


def test_checker_forbidden_words(tmp_path):
    root = _tree(
        tmp_path,
        {
            "pkg/a.py": "# as in SPEC section 2\n# fine: the spec of a format\n",
            "docs/b.md": "see SPEC §3\nissue 7 and issue #12\nan issue with 3 parts\n",
            "experiments/c.py": "open('../shared/x')\n",
            "benchmarks/d.json": '{"note": "STYLE.md"}\n',
            "docs/e.png": "SPEC section 1",  # not text: skipped
            "tests/f.py": "# SPEC section 1\n",  # not a scanned folder
        },
    )
    out = check_forbidden_words(root, ("pkg", "experiments", "benchmarks", "docs"))
    assert out == [
        "pkg/a.py:1: 'SPEC'",
        "experiments/c.py:1: '../shared'",
        "benchmarks/d.json:1: 'STYLE.md'",
        "docs/b.md:1: 'SPEC'",
        "docs/b.md:2: 'issue 7'",
        "docs/b.md:2: 'issue #12'",
    ]


def test_checker_public_imports(tmp_path):
    root = _tree(
        tmp_path,
        {
            "experiments/ok.py": (
                "import jaxfb\nfrom jaxfb import io, theory\nfrom jaxfb.signals import snare\n"
                "print(jaxfb.__version__, jaxfb.theory.kappa_tilde)\n"
            ),
            "experiments/bad.py": (
                "from jaxfb.cli import main\n"
                "def f():\n    from jaxfb.reproduce._run import g\n    return g\n"
            ),
            "benchmarks/bad.py": (
                "import jaxfb\nfrom jaxfb import _frames\nx = jaxfb.montecarlo._io.atomic_write\n"
            ),
        },
    )
    assert check_public_imports(root, ("experiments", "benchmarks"), "jaxfb") == [
        "experiments/bad.py uses jaxfb.cli (CLI or private)",
        "experiments/bad.py uses jaxfb.reproduce._run (CLI or private)",
        "benchmarks/bad.py uses jaxfb._frames (CLI or private)",
        "benchmarks/bad.py uses jaxfb.montecarlo._io (CLI or private)",
    ]


@pytest.mark.parametrize(
    "check",
    [
        check_import_cycles,
        check_function_lengths,
        check_public_modules_have_all,
        check_forbidden_words,
        check_public_imports,
    ],
)
def test_checkers_pass_on_a_clean_tree(tmp_path, check):
    root = _tree(
        tmp_path,
        {
            "jaxfb/__init__.py": "from ._a import f\n__all__ = ['f']\n",
            "jaxfb/_a.py": "from . import _b\ndef f():\n    return _b.g()\n",
            "jaxfb/_b.py": "def g():\n    return 1\n",
            "experiments/e.py": "import jaxfb\njaxfb.f()\n",
            "benchmarks/b.py": "from jaxfb import f\n",
            "docs/index.md": "See docs/theory.md.\n",
        },
    )
    assert check(root) == []
