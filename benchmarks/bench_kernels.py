"""Kernel benchmark (issue 2): ``python benchmarks/bench_kernels.py [--T 8:1024:x2 ...]``.

Same as ``jaxfb bench``; see ``jaxfb bench --help``.
"""

import sys

from jaxfb.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
