"""``jaxfb frames``: the Monte Carlo table of frame bounds (tiny sizes)."""

from jaxfb.cli import main


def test_frames_table(capsys):
    assert main(["frames", "--J", "6", "--N", "64", "--T", "4,64", "--draws", "50"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if not ln.startswith("#")]
    assert lines[0].split()[0] == "T" and [ln.split()[0] for ln in lines[1:]] == ["4", "64"]


def test_frames_rejects_t_larger_than_n(capsys):
    assert main(["frames", "--N", "64", "--T", "128", "--draws", "10"]) == 2
    assert "--T contains 128" in capsys.readouterr().err


def test_frames_rejects_an_unknown_init(capsys):
    assert main(["frames", "--N", "64", "--T", "8", "--draws", "10", "--init", "foo"]) == 2
    assert "--init 'foo' is not one of" in capsys.readouterr().err
