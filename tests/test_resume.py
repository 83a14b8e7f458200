"""jaxfb._resume: a stored job comes back only for the same inputs, and says why not."""

from __future__ import annotations

import numpy as np

from jaxfb import _resume


def test_a_stored_job_comes_back_for_the_same_inputs_only(tmp_path):
    inputs = {"config": {"draws": 10, "seed": 0}, "version": "1"}
    arrays = {"x": np.arange(4.0)}
    saved = _resume.save(tmp_path, "job", inputs, {"answer": [1, 2]}, arrays)
    hit, why = _resume.load(tmp_path, "job", {**inputs}, need_arrays=True)
    assert why == "" and hit.payload == {"answer": [1, 2]}
    assert hit.finished_utc == saved.finished_utc
    np.testing.assert_array_equal(hit.arrays["x"], arrays["x"])
    assert _resume.load(tmp_path, "job", inputs, need_arrays=False)[0].arrays == {}
    other = {"config": {"draws": 11, "seed": 0}, "version": "2"}
    assert _resume.load(tmp_path, "job", other, need_arrays=False) == (
        None,
        "its checkpoint is of different inputs (config.draws, version)",
    )
    assert _resume.load(tmp_path, "other", inputs, need_arrays=False) == (None, "")


def test_missing_changed_or_unreadable_files_are_reasons_not_errors(tmp_path):
    inputs = {"a": 1}
    _resume.save(tmp_path, "job", inputs, {}, None)
    assert "has no samples" in _resume.load(tmp_path, "job", inputs, need_arrays=True)[1]
    _resume.save(tmp_path, "job", inputs, {}, {"x": np.zeros(2)})
    np.savez(tmp_path / "job.npz", x=np.ones(2))
    assert "missing or changed" in _resume.load(tmp_path, "job", inputs, need_arrays=True)[1]
    (tmp_path / "job.json").write_text("{not json")
    hit, why = _resume.load(tmp_path, "job", inputs, need_arrays=False)
    assert hit is None and why.startswith("its checkpoint cannot be read (")
