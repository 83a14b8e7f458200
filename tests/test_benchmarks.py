"""The benchmark scripts run end to end on a tiny workload (their numbers are not checked: speed
is measured by running them, never by a timed test)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--draws", "3000", "--J", "6", "--T", "16", "--N", "64", "--baseline-draws", "256"]


def _bench(*args):
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_engine.py"), *TINY, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_bench_engine_runs_resumes_and_refuses_another_runs_log(tmp_path):
    ckpt, out = tmp_path / "b.ckpt", tmp_path / "b.json"
    first = _bench("--numpy-draws", "20", "--checkpoint", str(ckpt), "--json", str(out))
    assert first.returncode == 0, first.stderr[-2000:]
    assert "NumPy loop (streaming)" in first.stdout and "engine over the NumPy loop" in first.stdout
    res = json.loads(out.read_text())
    assert res["engine"]["draws_computed"] == 3000 and res["numpy_draws"] == 20
    for k in ("ratio_engine_to_floor", "speedup_engine_over_numpy", "kappa_mean"):
        assert res[k] > 0, k
    # a rerun finds the run finished in its checkpoint: a second sitting computes nothing
    again = _bench("--numpy-draws", "0", "--checkpoint", str(ckpt), "--json", str(out))
    assert again.returncode == 0, again.stderr[-2000:]
    log = json.loads(Path(str(ckpt) + ".log.json").read_text())
    assert [s["draws"] for s in log["sittings"]] == [3000, 0]
    assert json.loads(out.read_text())["kappa_mean"] == res["kappa_mean"]
    # another workload with the same checkpoint is refused before anything runs
    other = _bench("--J", "7", "--checkpoint", str(ckpt))
    assert other.returncode != 0 and "logs another run" in other.stderr
    assert [
        s["draws"] for s in json.loads(Path(str(ckpt) + ".log.json").read_text())["sittings"]
    ] == [3000, 0]


def test_gpu_tables_render_every_benchmark_json(tmp_path):
    """gpu_tables.py turns the JSONs of a gpu_checks.sh sitting into one table per benchmark
    (here the CPU runs committed in docs/figures, under the names the GPU script writes)."""
    import shutil

    for name in ("bench_gram", "bench_conv"):
        shutil.copy(ROOT / "docs" / "figures" / f"{name}.json", tmp_path / f"{name}_gpu.json")
    cmd = [sys.executable, str(ROOT / "benchmarks" / "gpu_tables.py"), str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = (tmp_path / "bench_gpu.md").read_text()
    gram = json.loads((tmp_path / "bench_gram_gpu.json").read_text())["rows"]
    conv = json.loads((tmp_path / "bench_conv_gpu.json").read_text())["rows"]
    assert text.count("\n| ") == len(gram) + len(conv) + 4  # rows + header/rule of each table
    for r in gram:
        ratio = r["draws_per_s"]["fast"] / r["draws_per_s"]["weights"]
        assert f"| {r['J']} | {r['T']} | {r['N']} | {r['stride']} |" in text
        assert f"| {ratio:.1f}x |" in text


def test_gpu_checks_script_parses():
    proc = subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / "gpu_checks.sh")])
    assert proc.returncode == 0
