"""``jaxfb`` without a command, and how ``main`` reports bad input."""

import re

import pytest

from jaxfb.cli import build_parser, main


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_every_command_is_registered():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"info", "frames", "bench"} <= set(sub.choices)


def test_bad_input_is_one_line_on_stderr_and_exit_2(capsys):
    assert main(["bench", "--J", "0", "--T", "8", "--draws", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("jaxfb bench: error: num_filters")


def _commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)


# reStructuredText a terminal would show raw: ``literals``, :role:`targets`, `links`_, literal
# blocks (a line ending in "::") and directives.
RST_MARKUP = re.compile(r"``|:[\w:]+:`|`[^`\n]+`_|::$|^\s*\.\. \w+::", re.M)


@pytest.mark.parametrize("command", [None, *_commands()])
def test_help_shows_no_restructuredtext_markup(command, capsys):
    argv = ["--help"] if command is None else [command, "--help"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: jaxfb" in out
    assert not RST_MARKUP.search(out), RST_MARKUP.search(out).group(0)
    assert "`" not in out


def test_rst_pattern_catches_markup():
    for text in ("a ``b`` c", "see :func:`jaxfb.f`", ":math:`x`", "Example::", "`x`_"):
        assert RST_MARKUP.search(text), text
    assert not RST_MARKUP.search("host:port, 8:1024:x2, e.g. --T 2:10:2")
