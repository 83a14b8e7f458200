"""``jaxfb`` without a command, and how ``main`` reports bad input."""

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
