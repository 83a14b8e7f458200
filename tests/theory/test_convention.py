"""One argument order across jaxfb.theory (stated in its docstring and docs/theory.md)."""

import inspect

import pytest

from jaxfb import theory

POINT = ("t", "q", "p", "kappa0")  # where a distribution or rule is evaluated
SIGNAL = ("x",)
SIZES = ("num_filters", "length", "count", "n")  # count plays T's role in chi2_extreme_means
# The documented exceptions (level p last), kept for their callers.
EXCEPTIONS = {
    "cantelli_deviation": ("x", "num_filters", "length", "p"),
    "chernoff_deviation": ("x", "num_filters", "length", "p"),
}


def _functions():
    for name in theory.__all__:
        obj = getattr(theory, name)
        if inspect.isfunction(obj):
            yield name, obj


def _positional(fn) -> tuple[str, ...]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(p.name for p in inspect.signature(fn).parameters.values() if p.kind in kinds)


def _rank(name: str) -> tuple[int, int]:
    for group, names in enumerate((POINT, SIGNAL, SIZES)):
        if name in names:
            # length and count both sit between num_filters and n
            return group, (names.index(name) if name != "count" else SIZES.index("length"))
    raise AssertionError(f"{name!r} is positional but neither a point, a signal nor a size")


def follows_convention(params: tuple[str, ...]) -> bool:
    ranks = [_rank(p) for p in params]
    return ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


@pytest.mark.parametrize("name, fn", list(_functions()))
def test_point_then_signal_then_sizes_and_options_keyword_only(name, fn):
    params = _positional(fn)
    if name in EXCEPTIONS:
        assert params == EXCEPTIONS[name] and not follows_convention(params)
    else:
        assert follows_convention(params), f"{name}{inspect.signature(fn)}"


def test_the_check_can_fail():
    assert not follows_convention(("x", "t", "num_filters"))
    assert not follows_convention(("length", "num_filters"))
    assert not follows_convention(("num_filters", "length", "n", "x"))
    with pytest.raises(AssertionError, match="method"):
        follows_convention(("x", "method"))


def test_convention_is_documented():
    assert "Argument order" in theory.__doc__
    assert all(name in theory.__doc__ for name in EXCEPTIONS)
