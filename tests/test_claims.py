"""The one verdict function: every verdict reachable, undecided on NaN."""

import math

import pytest

from jaxfb._claims import Claim, Rule, judge


def _claim(x, rule, **evidence):
    return Claim("s", {"x": x, **evidence}, rule, "finding")


@pytest.mark.parametrize(
    ("x", "expected"),
    [(0.01, "supported"), (0.05, "supported"), (0.1, "partly supported"), (0.3, "not supported")],
)
def test_small_is_good(x, expected):
    rule = Rule("x", "<=", 0.05, partly=0.2)
    assert judge(_claim(x, rule)) == expected == _claim(x, rule).verdict


def test_large_is_good_with_thresholds_from_the_evidence():
    rule = Rule("x", ">=", "n", partly="half")
    assert judge(_claim(4, rule, n=4, half=2)) == "supported"
    assert judge(_claim(3, rule, n=4, half=2)) == "partly supported"
    assert judge(_claim(1, rule, n=4, half=2)) == "not supported"


def test_no_partly_threshold_means_supported_or_not():
    rule = Rule("x", "<=", 0)
    assert judge(_claim(0, rule)) == "supported"
    assert judge(_claim(1, rule)) == "not supported"


def test_nan_or_infinite_threshold_is_undecided():
    assert judge(_claim(math.nan, Rule("x", "<=", 1.0))) == "undecided"
    assert judge(_claim(0.5, Rule("x", "<=", "t"), t=math.nan)) == "undecided"
    assert judge(_claim(0.5, Rule("x", ">=", math.inf))) == "undecided"
