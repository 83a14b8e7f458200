"""jaxfb.benchmark_kernels and benchmarks/bench_kernels.py on a tiny workload.

The throughputs themselves are not checked (speed is measured by running the benchmark, never by
a timed test): only the rows' structure, the method choice, the ratios' definitions and the
argument checks.
"""

import subprocess
import sys
from pathlib import Path

import pytest

import jaxfb
from jaxfb import _frames, io

ROOT = Path(__file__).resolve().parents[1]


def test_rows_in_order_with_the_auto_method_and_ratios():
    rows = list(jaxfb.benchmark_kernels(4, 64, [4, 64], draws=8, numpy_draws=2, repeat=1))
    assert [(r.J, r.N, r.T, r.draws) for r in rows] == [(4, 64, 4, 8), (4, 64, 64, 8)]
    for r in rows:
        assert r.auto == _frames._choose_method(4, r.T, 64)
        assert r.ratio_to_floor == r.auto_fb_per_s / r.floor_fb_per_s
        assert r.speedup_vs_numpy == r.auto_fb_per_s / r.numpy_fb_per_s
        assert set(r.as_dict()) == {*r._fields, "ratio_to_floor", "speedup_vs_numpy"}
        assert len(r.row().split()) == 9  # one cell per column of the header


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_filters": 0}, "num_filters must be >= 1"),
        ({"lengths": [128]}, "n=64 must be >= the filter length T=128"),
        ({"draws": 0}, "draws must be >= 1"),
        ({"repeat": 1.5}, "repeat must be a static Python int"),
    ],
)
def test_bad_arguments_raise_at_the_call(kwargs, match):
    args = {"num_filters": 4, "n": 64, "lengths": [8], **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        jaxfb.benchmark_kernels(args.pop("num_filters"), args.pop("n"), args.pop("lengths"), **args)


def test_benchmark_script_prints_and_writes_the_rows(tmp_path):
    out = tmp_path / "k.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_kernels.py"), "--J", "4", "--N", "32"]
    cmd += ["--T", "8", "--draws", "8", "--numpy-draws", "2", "--repeat", "1", "--json", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1].split()[0] == "8"
    assert [r["T"] for r in io.load_json(out)["rows"]] == [8]
