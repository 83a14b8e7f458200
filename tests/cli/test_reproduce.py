"""``jaxfb reproduce``: flags map onto ReproduceConfig; bad input fails before any work."""

import json
from pathlib import Path

from jaxfb import reproduce
from jaxfb.cli import build_parser, main
from jaxfb.cli._reproduce import build_config
from jaxfb.training import TrainingConfig


def _config(*extra):
    return build_config(build_parser().parse_args(["reproduce", "--out", "o", *extra]))


def test_flags_map_onto_the_config():
    quick, full = _config("--quick"), _config()
    assert quick == reproduce.ReproduceConfig.quick() and full == reproduce.ReproduceConfig.full()
    assert (
        quick.training == TrainingConfig.quick() and full.training.steps == TrainingConfig().steps
    )
    assert _config("--quick", "--no-training").experiments == ("energy", "audio", "frames")
    assert _config("--experiments", "energy,frames").experiments == ("energy", "frames")
    cfg = _config("--quick", "--lengths", "8,16,24", "--draws", "30", "--seed", "4")
    assert cfg.energy.lengths == cfg.frames.lengths == (8, 16, 24) and cfg.mode == "custom"
    assert cfg.frames.sweep_lengths == (8, 16) and cfg.draws == 30 and cfg.seed == 4
    assert _config("--audio", "a.wav").audio.files == ("a.wav",)
    assert not _config("--no-samples").save_samples


def test_tiny_energy_run(tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["reproduce", "--out", str(out), "--quick", "--draws", "20", "--lengths", "8,16",
            "--experiments", "energy", "--no-samples", "--seed", "2"]  # fmt: skip
    assert main(args) == 0
    stdout = capsys.readouterr().out
    assert "report.md" in stdout and "[not supported]" in stdout
    assert (out / "energy_elementary_p01.pdf").exists() and not (out / "samples.npz").exists()
    meta = json.loads((out / "config.json").read_text())
    assert meta["argv"][:4] == ["jaxfb", "reproduce", "--out", str(out)]
    assert meta["config"]["energy"]["lengths"] == [8, 16] and meta["config"]["training"] is None


def test_fresh_flag_turns_resumption_off(monkeypatch, tmp_path, capsys):
    seen = []

    def fake_run(config, out, **kw):
        seen.append(kw["resume"])
        return reproduce.RunResult(Path(out), "r.md", "r.html", "c.json", [], [], [], {})

    monkeypatch.setattr(reproduce, "run", fake_run)
    base = ["reproduce", "--out", str(tmp_path), "--quick"]
    assert main(base) == 0 and main([*base, "--fresh"]) == 0
    assert seen == [True, False]
    capsys.readouterr()


def test_bad_arguments_fail_clearly(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    assert main(["reproduce", "--out", str(blocker / "sub"), "--quick"]) == 2
    assert "not writable" in capsys.readouterr().err
    assert main(["reproduce", "--out", str(blocker), "--quick"]) == 2
    assert "is not a directory" in capsys.readouterr().err
    missing = tmp_path / "nope.wav"
    assert main(["reproduce", "--out", str(tmp_path / "o"), "--audio", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "--audio file not found" in err and "nope.wav" in err
    assert not (tmp_path / "o").exists()  # failed before writing anything
    for flags, message in (
        (["--draws", "1"], "--draws must be >= 2"),
        (["--lengths", "8,2048"], "2048"),
        (["--experiments", "trainin"], "unknown experiments ['trainin']"),
        (["--experiments", "training", "--no-training"], "leave no experiment"),
    ):
        assert main(["reproduce", "--out", str(tmp_path / "o"), *flags]) == 2
        assert message in capsys.readouterr().err
