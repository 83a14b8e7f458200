"""The command line: argument parsing, info, frames, bench (tiny sizes)."""

import argparse
import json

import pytest

from jaxfb.cli import main
from jaxfb.cli._args import byte_size, parse_int_list


def test_int_lists_and_ranges():
    assert parse_int_list("8:1024:x2") == [8, 16, 32, 64, 128, 256, 512, 1024]
    assert parse_int_list("2:10:2") == [2, 4, 6, 8, 10]
    assert parse_int_list("5") == [5]
    assert parse_int_list("3,1,3,2:4") == [3, 1, 2, 4]
    assert parse_int_list("10:100:x10") == [10, 100]
    for bad in ["", "a", "1:2:3:4", "8:4:x1", "1:5:0", "5:1", "1,,2"]:
        with pytest.raises(ValueError):
            parse_int_list(bad)


def test_byte_sizes():
    assert byte_size("2GB") == 2 * 10**9
    assert byte_size("512MiB") == 512 * 2**20
    assert byte_size("1000") == 1000
    with pytest.raises(argparse.ArgumentTypeError, match="cannot parse 'lots'"):
        byte_size("lots")


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "jaxfb" in out and "backend" in out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_frames_table(capsys):
    assert main(["frames", "--J", "6", "--N", "64", "--T", "4,64", "--draws", "50"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if not ln.startswith("#")]
    assert lines[0].split()[0] == "T" and [ln.split()[0] for ln in lines[1:]] == ["4", "64"]


def test_frames_rejects_t_larger_than_n(capsys):
    assert main(["frames", "--N", "64", "--T", "128", "--draws", "10"]) == 2
    assert "--T contains 128" in capsys.readouterr().err


def test_bench_tiny(tmp_path, capsys):
    out = tmp_path / "b.json"
    args = ["bench", "--J", "4", "--N", "64", "--T", "4,64", "--draws", "20"]
    assert main([*args, "--numpy-draws", "5", "--repeat", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["T"] for r in rows] == [4, 64]
    assert all(r["ratio_to_floor"] > 0 and r["numpy_fb_per_s"] > 0 for r in rows)
