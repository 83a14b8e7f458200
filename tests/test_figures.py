"""jaxfb._figures: the house style, finite-only curves, one legend below, reproducible files."""

from __future__ import annotations

import numpy as np

from jaxfb import _figures as F


def test_curves_and_bands_skip_non_finite_points_and_the_legend_is_merged(tmp_path):
    fig, axes = F.panels(3, 2.0, max_cols=2)
    assert axes.shape == (2, 2)
    x = np.array([1.0, 2.0, 4.0, 8.0])
    for ax in axes.flat[:3]:
        F.curve(ax, x, [1.0, np.nan, 3.0, np.inf], label="finite")
        F.band(ax, x, x - 1, [np.nan, 2, 3, 4], label="band")
        F.curve(ax, x, [np.nan] * 4, label="never drawn")
        F.log2_axis(ax, x)
    line = axes[0, 0].get_lines()[0]
    assert line.get_xdata().tolist() == [1.0, 4.0] and len(axes[0, 0].get_lines()) == 1
    F.finish(fig, axes, 3, "title", rename={"band": "the band"})
    assert not axes[1, 1].get_visible() and axes[1, 0].get_visible()
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["finite", "the band"]


def test_saved_files_are_reproducible(tmp_path):
    def draw():
        fig, axes = F.styled(F.figure)(1, 1, 2.0)
        axes[0, 0].plot([1, 2, 3])
        return fig

    a = F.save_figure(draw(), tmp_path / "a")
    b = F.save_figure(draw(), tmp_path / "b")
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
    assert [p.suffix for p in a] == [".png", ".pdf"]
