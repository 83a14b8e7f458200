"""README.md opens with the two set-up commands, and CI runs the README's test command."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block and text.index(block.group(0)) < text.index("\n## "), "README must open with them"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_main_job_and_test_commands():
    main, tests = readme_commands()
    assert "pip install -e ." in main and "jaxfb " in main
    assert 'pip install -e ".[test]"' in tests and "pytest" in tests


def test_ci_runs_the_readme_test_command():
    test_cmd = readme_commands()[1].split("&&")[-1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd in ci.splitlines(), f"{test_cmd!r} not a line of .ci/run"
