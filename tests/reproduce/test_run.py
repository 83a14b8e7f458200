"""The runner: outputs, reports, determinism, resuming after an interruption, partial reports."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from _support import load_script

import jaxfb
from jaxfb import reproduce
from jaxfb.io import read_csv
from jaxfb.reproduce import _run
from jaxfb.reproduce._stats import select

from .conftest import FIGURES, tiny_config


def test_tiny_run_writes_every_figure_and_the_reports(tiny_run):
    cfg, res = tiny_run
    out = res.out
    assert set(res.figures) == FIGURES
    for name in FIGURES:
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
        assert (out / f"{name}.csv").stat().st_size > 100
    page = res.report_html.read_text()
    # every figure inlined twice: its gallery thumbnail and the figure itself
    assert page.count("src='data:image/png;base64,") == 2 * len(FIGURES)
    md = res.report_md.read_text()
    assert all(f"]({name}.png)" in md for name in FIGURES)
    meta = json.loads(res.config_json.read_text())
    assert meta["seed"] == 7 and meta["config"]["draws"] == 40
    assert meta["versions"]["jax"] == jax.__version__
    assert set(meta["timings_seconds"]) == set(reproduce.EXPERIMENTS)
    assert reproduce.ReproduceConfig.from_dict(meta["config"]) == cfg
    for name in reproduce.EXPERIMENTS:
        assert meta["experiments"][name]["num_devices"] == jax.local_device_count()
    assert {c["verdict"] for c in meta["claims"]} <= set(reproduce._results.VERDICTS)
    samples = np.load(out / "samples.npz")
    assert samples["energy_elementary_deviation"].shape == (2, 40, 3)
    weights = len(cfg.training.penalty_weights)
    assert samples["training_fit_final_T32"].shape == (weights, 2)  # (penalty weights, seeds)
    assert samples["energy_elementary_frame_bounds"].shape == (2, 40, 2)  # (T, draws, A/B)


def test_the_report_header_says_which_audio_the_audio_figures_use(tiny_run):
    _, res = tiny_run
    md, page = res.report_md.read_text(), res.report_html.read_text()
    header = md[: md.index("## Verdicts")]
    assert "the audio figures use **synthetic stand-ins** for the paper's recordings" in header
    assert "use <strong>synthetic stand-ins</strong>" in page[: page.index("id='verdicts'")]
    line = _run._audio_line(("/data/snare.wav", "speech.wav"))
    assert "recordings given with `--audio`: `snare.wav`, `speech.wav`" in line
    assert "synthetic" not in line


def _report_rows(md: str):
    section = md.split("## Key numbers", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| ") and "---" not in ln]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in rows[1:]]


def test_report_numbers_agree_with_the_csvs(tiny_run):
    _, res = tiny_run
    rows = _report_rows(res.report_md.read_text())
    meta = json.loads(res.config_json.read_text())["key_numbers"]
    assert len(rows) == len(meta) >= 8
    checked = 0
    for (label, value, _se, stored, _note), number in zip(rows, meta, strict=True):
        assert label.replace("\\|", "|") == number["label"]
        stored = stored.strip("`")  # the report sets the source in code type
        if stored == "-":
            continue
        m = re.fullmatch(r"(\S+)\.csv \[(.*)\] (\S+)", stored)
        table = read_csv(res.out / f"{m.group(1)}.csv")
        row = select(table, **dict(kv.split("=", 1) for kv in m.group(2).split(", ")))
        stored_value = float(table[m.group(3)][row])
        assert float(value) == pytest.approx(stored_value, rel=1e-4, abs=1e-12), label
        assert number["value"] == pytest.approx(stored_value, rel=1e-10, abs=1e-14)
        checked += 1
    assert checked >= 6


def test_same_seed_same_numbers(tiny_run, tmp_path):
    cfg, first = tiny_run
    second = reproduce.run(cfg.replace(training=None, audio=None), tmp_path, log=print)
    for name in second.figures:
        assert (first.out / f"{name}.csv").read_bytes() == (tmp_path / f"{name}.csv").read_bytes()
    s1, s2 = np.load(first.out / "samples.npz"), np.load(tmp_path / "samples.npz")
    for k in s2.files:
        np.testing.assert_array_equal(s1[k], s2[k])
    other = reproduce.run(
        tiny_config(seed=8, audio=None, frames=None, training=None), tmp_path / "other", log=print
    )
    a = read_csv(first.out / "energy_elementary_p05.csv")["mean"]
    assert not np.array_equal(a, read_csv(other.out / "energy_elementary_p05.csv")["mean"])


def _sections(md: str) -> str:
    """The report without its header (dates, run times) and timings."""
    return md.split("## Key numbers", 1)[1].split("## Timings", 1)[0]


def test_interrupted_run_resumes_with_the_numbers_of_an_uninterrupted_one(tmp_path, monkeypatch):
    cfg = tiny_config(audio=None, frames=None)
    calls = []
    real = _run.RUNNERS["training"]

    def flaky(config, key):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt  # Ctrl-C during the second experiment
        return real(config, key)

    monkeypatch.setitem(_run.RUNNERS, "training", flaky)
    out, ref_out = tmp_path / "run", tmp_path / "ref"
    with pytest.raises(KeyboardInterrupt):
        reproduce.run(cfg, out, log=print)
    meta = json.loads((out / "config.json").read_text())
    assert meta["partial"] is True and meta["interrupted"] == {
        "experiment": "training",
        "error": "KeyboardInterrupt",
        "finished": ["energy"],
        "pending": ["training"],
    }
    assert meta["figures"][0] == "energy_elementary_p05"
    assert "**Partial report**: the run stopped in `training`" in (out / "report.md").read_text()
    assert (out / "checkpoints" / "energy.npz").exists()
    assert not (out / "checkpoints" / "training.json").exists()

    def recomputed(*args):
        raise AssertionError("energy was recomputed")

    monkeypatch.setitem(_run.RUNNERS, "energy", recomputed)
    msgs = []
    res = reproduce.run(cfg, out, log=msgs.append)
    monkeypatch.undo()
    ref = reproduce.run(cfg, ref_out, log=print)  # uninterrupted, elsewhere
    assert res.resumed == ("energy",) and ref.resumed == ()
    assert any(m.startswith("energy: loaded from checkpoints/energy.json") for m in msgs)
    meta, ref_meta = (json.loads((d / "config.json").read_text()) for d in (out, ref_out))
    assert meta["partial"] is False and meta["resumed_experiments"] == ["energy"]
    for k in ("key_numbers", "claims", "figures", "sources"):
        assert meta[k] == ref_meta[k], k
    for m in (meta, ref_meta):
        m["experiments"]["training"].pop("timings_seconds")
    assert meta["experiments"] == ref_meta["experiments"]
    assert _sections(res.report_md.read_text()) == _sections(ref.report_md.read_text())
    s, r = np.load(out / "samples.npz"), np.load(ref_out / "samples.npz")
    assert sorted(s.files) == sorted(r.files)
    for k in s.files:
        np.testing.assert_array_equal(s[k], r[k])


def test_checkpoints_of_other_inputs_are_recomputed(tmp_path, monkeypatch):
    real, calls = _run.RUNNERS["energy"], []
    monkeypatch.setitem(_run.RUNNERS, "energy", lambda *a: calls.append(1) or real(*a))
    cfg = tiny_config(audio=None, frames=None, training=None)
    assert reproduce.run(cfg, tmp_path, log=print).resumed == () and calls == [1]
    # fields energy does not read (mode, the other experiments) keep its checkpoint
    assert _run.inputs(cfg, "energy") == _run.inputs(tiny_config(), "energy")
    msgs = []
    assert reproduce.run(cfg.replace(mode="custom"), tmp_path, log=msgs.append).resumed == (
        "energy",
    )
    assert calls == [1]
    more = reproduce.run(cfg.replace(draws=41), tmp_path, log=msgs.append)
    assert calls == [1, 1] and more.resumed == ()
    assert any("its checkpoint is of different inputs (config.draws)" in m for m in msgs)
    saved = json.loads((tmp_path / "checkpoints" / "energy.json").read_text())
    assert saved["inputs"]["versions"]["jaxfb"] == jaxfb.__version__
    reproduce.run(cfg.replace(save_samples=False), tmp_path, log=print)
    assert calls == [1, 1, 1]
    again = reproduce.run(cfg, tmp_path, log=msgs.append)
    assert calls == [1, 1, 1, 1] and again.resumed == ()
    assert any("has no samples" in m for m in msgs)
    reproduce.run(cfg, tmp_path, resume=False, log=print)  # --fresh
    assert calls == [1, 1, 1, 1, 1]
    monkeypatch.setattr(jaxfb._identity, "source_digest", lambda: "0" * 64)
    edited = reproduce.run(cfg, tmp_path, log=msgs.append)
    assert calls == [1, 1, 1, 1, 1, 1] and edited.resumed == ()
    assert any("(jaxfb_source_sha256)" in m for m in msgs[-3:]), msgs[-3:]


def test_a_recomputation_invalidates_the_old_checkpoint_first(tmp_path, monkeypatch):
    cfg = tiny_config(audio=None, frames=None, training=None)
    reproduce.run(cfg, tmp_path, log=print)

    def stopped(*args):
        raise RuntimeError("stopped")

    monkeypatch.setitem(_run.RUNNERS, "energy", stopped)
    with pytest.raises(RuntimeError, match="stopped"):
        reproduce.run(cfg.replace(draws=41), tmp_path, log=print)
    assert not (tmp_path / "checkpoints" / "energy.json").exists()


def test_inputs_are_checked_before_any_experiment(tmp_path, monkeypatch):
    monkeypatch.setitem(_run.RUNNERS, "energy", lambda *a: pytest.fail("ran before the checks"))
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(ValueError, match=r"bad\.wav' cannot be read"):
        reproduce.run(tiny_config(audio={"files": (str(bad),)}), tmp_path / "o")
    with pytest.raises(FileNotFoundError, match=r"nope\.wav"):
        reproduce.run(tiny_config(audio={"files": ("nope.wav",)}), tmp_path / "o")
    assert not (tmp_path / "o").exists()
    with pytest.raises(NotADirectoryError):
        reproduce.run(tiny_config(), bad)


def test_experiment_keys_depend_on_the_seed_and_the_name_only():
    data = {
        (seed, name): tuple(np.asarray(jax.random.key_data(_run.experiment_key(seed, name))))
        for seed in (0, 1)
        for name in reproduce.EXPERIMENTS
    }
    assert len(set(data.values())) == len(data)


_SHARDED = """
import json, sys
import jax
from jaxfb import reproduce
sys.path.insert(0, {tests!r})
from conftest import tiny_config
res = reproduce.run(tiny_config(audio=None), {out!r}, log=lambda _m: None)
meta = json.loads(res.config_json.read_text())
print(json.dumps({{"devices": jax.local_device_count(),
    "num_devices": {{k: v["num_devices"] for k, v in meta["experiments"].items()}},
    "numbers": [n["value"] for n in meta["key_numbers"]]}}))
"""


def _sharded_run(tmp_path, devices: int) -> dict:
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(jaxfb.__file__).parents[1]), env.get("PYTHONPATH", "")]
    )
    code = _SHARDED.format(tests=str(Path(__file__).parent), out=str(tmp_path / str(devices)))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_draws_shard_over_every_device_with_the_same_numbers(tmp_path):
    """Two (forced host) devices: every experiment records num_devices == 2, same numbers."""
    one, two = _sharded_run(tmp_path, 1), _sharded_run(tmp_path, 2)
    assert two["devices"] == 2 and set(two["num_devices"].values()) == {2}
    assert set(one["num_devices"].values()) == {1}
    np.testing.assert_allclose(two["numbers"], one["numbers"], rtol=1e-6)


def test_reproduce_paper_script(monkeypatch, tmp_path):
    """experiments/reproduce_paper.py: training by default, --with-training a no-op alias."""
    mod = load_script("experiments/reproduce_paper.py")
    assert mod.FULL.training.lengths == (32, 128, 512, 1024)
    assert mod.QUICK == reproduce.ReproduceConfig.quick(seed=mod.SEED)
    seen = []

    def fake_run(config, out, **kw):
        seen.append(config)
        return reproduce.RunResult(Path(out), "report", "", "", [], [], [], {})

    monkeypatch.setattr(reproduce, "run", fake_run)
    for flags, training in (([], True), (["--with-training"], True), (["--no-training"], False)):
        assert mod.main(["--quick", "--out", str(tmp_path), *flags]) == 0
        assert (seen[-1].training is not None) is training and seen[-1].mode == "quick"
    with pytest.raises(SystemExit):
        mod.main(["--with-training", "--no-training"])


@pytest.mark.slow
def test_real_quick_run(tmp_path):
    res = reproduce.run(reproduce.ReproduceConfig.quick(seed=0), tmp_path, log=print)
    assert set(res.figures) == FIGURES
    verdicts = {c.statement: c.verdict for c in res.claims}
    assert verdicts["The paper's kappa_tilde predicts the condition number"] == "not supported"
    assert verdicts["The paper's Chernoff bound holds at p = 0.05 (elementary signals)"] == (
        "supported"
    )
    assert verdicts["The paper's Chernoff bound holds at p = 0.01 (elementary signals)"] == (
        "not supported"
    )
    tab = read_csv(res.out / "kappa_vs_T.csv")
    i = select(tab, J=40, T=1024)
    assert abs(tab["mean_kappa"][i] - tab["jaxfb_kappa"][i]) < 5 * tab["mean_kappa_se"][i]
    for start in ("The stability penalty trades", "Without the penalty"):
        claim = next(c for c in res.claims if c.statement.startswith(start))
        assert claim.verdict == "supported", claim.finding
