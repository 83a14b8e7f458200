"""Argument types shared by the commands: integer lists and ranges, byte sizes."""

from __future__ import annotations

import argparse
import re


def parse_int_list(text: str) -> list[int]:
    """Parse ``"8,16,32"``, ``"2:10:2"`` (arithmetic, inclusive) or ``"8:1024:x2"`` (geometric).

    Items are comma-separated and may mix forms: ``"2,3,8:64:x2"``. Duplicates are dropped,
    order is kept.

    >>> parse_int_list("8:64:x2")
    [8, 16, 32, 64]
    >>> parse_int_list("2:10:4,12")
    [2, 6, 10, 12]
    """
    out: list[int] = []
    for item in str(text).split(","):
        item = item.strip()
        if not item:
            raise ValueError(f"empty item in integer list {text!r}")
        parts = item.split(":")
        try:
            if len(parts) == 1:
                values = [int(parts[0])]
            elif len(parts) in (2, 3):
                start, stop = int(parts[0]), int(parts[1])
                step = parts[2] if len(parts) == 3 else "1"
                if step.lower().startswith("x"):
                    factor = float(step[1:])
                    if factor <= 1 or start < 1:
                        raise ValueError
                    values, v = [], float(start)
                    while round(v) <= stop:
                        values.append(round(v))
                        v *= factor
                else:
                    inc = int(step)
                    if inc < 1:
                        raise ValueError
                    values = list(range(start, stop + 1, inc))
            else:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"cannot parse {item!r} in {text!r}: use 8,16,32 or start:stop:step "
                "(e.g. 2:10:2) or start:stop:xFACTOR (e.g. 8:1024:x2)"
            ) from None
        if not values:
            raise ValueError(f"range {item!r} is empty")
        out.extend(v for v in values if v not in out)
    return out


def int_list(text: str) -> list[int]:
    """argparse ``type=`` wrapper of :func:`parse_int_list`."""
    try:
        return parse_int_list(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def byte_size(text: str) -> int:
    """argparse ``type=`` wrapper of the engine's memory-size parser."""
    from ..montecarlo._layout import parse_bytes

    try:
        return parse_bytes(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def plain_text(text: str) -> str:
    """A docstring as ``--help`` shows it: reStructuredText markup removed.

    Roles (``:func:`x```) become ``x``, double backticks are dropped and a literal-block ``::``
    becomes ``:``.

    >>> plain_text("Prints :func:`jaxfb.f`'s rows; ``--json`` also writes them. Example::")
    "Prints jaxfb.f's rows; --json also writes them. Example:"
    """
    text = re.sub(r":[\w:]+:`~?([^`]+)`", r"\1", text)
    text = text.replace("``", "")
    return re.sub(r"::$", ":", text, flags=re.M)
