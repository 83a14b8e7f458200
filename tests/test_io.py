"""jaxfb.io: atomic writes, the JSON rule for non-finite numbers, CSV tables, sweep summaries."""

import math
import os
import stat

import numpy as np
import pytest

from jaxfb import io


def test_json_round_trips_exactly(tmp_path):
    doc = {
        "floats": [0.1, 1 / 3, 1e-300, -2.5e300, math.inf, -math.inf, math.nan],
        "ints": [0, -7, 2**40],
        "nested": {"x": None, "flag": True, "s": "text"},
        "array": np.arange(3.0) / 7,
        "scalar": np.float32(0.25),
        "tuple": (1, 2),
    }
    io.save_json(tmp_path / "d.json", doc)
    back = io.load_json(tmp_path / "d.json")
    assert back["floats"][:6] == doc["floats"][:6]
    assert math.isnan(back["floats"][6])
    assert back["ints"] == doc["ints"]
    assert back["nested"] == doc["nested"]
    assert back["array"] == (np.arange(3.0) / 7).tolist()
    assert back["scalar"] == 0.25 and back["tuple"] == [1, 2]
    # strict JSON: no NaN/Infinity tokens
    assert "NaN" not in (tmp_path / "d.json").read_text()
    assert "Infinity" not in (tmp_path / "d.json").read_text()


def test_json_refuses_unknown_types():
    with pytest.raises(TypeError, match="object"):
        io.to_json({"x": object()})


def test_csv_round_trip(tmp_path):
    table = {
        "J": np.array([8, 16, 32]),
        "kappa": np.array([1 / 3, math.inf, math.nan]),
        "name": np.array(["a", "b", "c"]),
    }
    io.write_csv(tmp_path / "t.csv", table)
    back = io.read_csv(tmp_path / "t.csv")
    assert back["J"].dtype.kind == "i" and back["J"].tolist() == [8, 16, 32]
    np.testing.assert_array_equal(back["kappa"], table["kappa"])
    assert back["name"].tolist() == ["a", "b", "c"]
    with pytest.raises(ValueError, match="differ in length"):
        io.write_csv(tmp_path / "u.csv", {"a": [1, 2], "b": [1]})


def test_read_summary_maps_and_filters(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("J,T,N,my_mean,init\n8,64,1024,1.5,gaussian\n16,64,1024.0,1.2,glorot\n")
    d = io.read_summary(p, columns={"log_kappa_mean": "my_mean"}, where={"N": 1024})
    assert d["log_kappa_mean"].tolist() == [1.5, 1.2]
    d = io.read_summary(tmp_path / "s.csv", where={"init": "glorot"})
    assert d["J"].tolist() == [16]
    with pytest.raises(ValueError, match="log_kappa_se"):
        io.read_summary(p, required=("J", "log_kappa_se"))
    with pytest.raises(ValueError, match="where"):
        io.read_summary(p, where={"init": "he"})
    with pytest.raises(ValueError, match="columns"):
        io.read_summary(p, columns={"nonsense": "x"})
    # a summary from before the layer axes is single-channel at stride 1
    assert io.read_summary(p, where={"C": 1, "stride": 1})["J"].tolist() == [8, 16]
    with pytest.raises(ValueError, match="no row"):
        io.read_summary(p, where={"C": 2})
    with pytest.raises(ValueError, match="no column 'dilation'"):
        io.read_summary(p, where={"dilation": 1})


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "f.txt"
    io.atomic_write_text(target, "old")

    def fail(f):
        f.write(b"partial")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        io.atomic_write(target, fail)
    assert target.read_text() == "old"
    assert [x.name for x in tmp_path.iterdir()] == ["f.txt"]


def test_atomic_write_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        io.atomic_write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644


def test_check_writable_names_the_argument(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match=r"^out: "):
        io.check_writable(blocker / "sub", argument="out")
    assert io.check_writable(tmp_path / "new").is_dir()
