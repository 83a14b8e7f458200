"""The ``jaxfb`` command line: ``jaxfb <command> --help`` for each command.

Each command lives in its own module ``jaxfb/cli/_<command>.py`` exposing
``add_parser(subparsers)``, which registers the sub-parser and sets ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["build_parser", "main"]

# Order shown in ``jaxfb --help``.
_COMMANDS = ("info", "frames", "bench", "sweep", "fit", "reproduce")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="jaxfb",
        description="Monte Carlo studies of random convolutional filterbanks (JAX).",
    )
    parser.add_argument("--version", action="version", version=f"jaxfb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(f"._{name}", __name__).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError) as err:
        print(f"jaxfb {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
