"""``jaxfb bench``: prints jaxfb.benchmark_kernels' rows and writes them with jaxfb.io (tiny)."""

from jaxfb import io
from jaxfb.cli import main


def test_bench_tiny(tmp_path, capsys):
    out = tmp_path / "b.json"
    args = ["bench", "--J", "4", "--N", "64", "--T", "4,64", "--draws", "20"]
    assert main([*args, "--numpy-draws", "5", "--repeat", "1", "--json", str(out)]) == 0
    printed = [ln for ln in capsys.readouterr().out.splitlines() if not ln.startswith("#")]
    assert printed[0].split()[:2] == ["T", "path"]
    assert [ln.split()[0] for ln in printed[1:]] == ["4", "64"]
    doc = io.load_json(out)
    assert doc["environment"]["versions"]["jaxfb"]
    rows = doc["rows"]
    assert [r["T"] for r in rows] == [4, 64]
    assert all(r["ratio_to_floor"] > 0 and r["numpy_fb_per_s"] > 0 for r in rows)
