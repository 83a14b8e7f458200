"""Argument types shared by the commands: integer lists and ranges, byte sizes."""

import argparse

import pytest

from jaxfb.cli._args import byte_size, int_list, parse_int_list


def test_int_lists_and_ranges():
    assert parse_int_list("8:1024:x2") == [8, 16, 32, 64, 128, 256, 512, 1024]
    assert parse_int_list("2:10:2") == [2, 4, 6, 8, 10]
    assert parse_int_list("5") == [5]
    assert parse_int_list("3,1,3,2:4") == [3, 1, 2, 4]
    assert parse_int_list("10:100:x10") == [10, 100]
    for bad in ["", "a", "1:2:3:4", "8:4:x1", "1:5:0", "5:1", "1,,2"]:
        with pytest.raises(ValueError):
            parse_int_list(bad)
    with pytest.raises(argparse.ArgumentTypeError, match="cannot parse 'a'"):
        int_list("a")


def test_byte_sizes():
    assert byte_size("2GB") == 2 * 10**9
    assert byte_size("512MiB") == 512 * 2**20
    assert byte_size("1000") == 1000
    with pytest.raises(argparse.ArgumentTypeError, match="cannot parse 'lots'"):
        byte_size("lots")
