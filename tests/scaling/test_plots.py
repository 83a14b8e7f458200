"""jaxfb.scaling.plots: figures build, legends name only what is drawn and sit off the plane."""

from __future__ import annotations

import numpy as np
import pytest

from jaxfb import scaling
from jaxfb.scaling import plots
from jaxfb.scaling._critical import CriticalFilters


@pytest.fixture(scope="module")
def two_laws(data):
    y, se = data.noisy(data.truth_y("paper"), seed=30)
    return {m: scaling.fit(data.J, data.T, y, se, model=m) for m in ("paper", "poly")}


def _labels(fig):
    (legend,) = fig.legends  # one legend, on the figure beside the axes, not on the curves
    assert all(ax.get_legend() is None for ax in fig.axes)
    return [t.get_text() for t in legend.get_texts()], legend


def test_contour_legend_names_only_drawn_levels_and_tables(two_laws):
    fit = two_laws["paper"]
    Ts = np.unique(fit.covariates[1])
    nan = np.full(Ts.shape, np.nan)
    critical = {
        2.0: CriticalFilters(Ts, 3 + 5 * np.log(Ts), np.full(Ts.shape, 0.1), Ts.astype(str), 2.0),
        4.0: CriticalFilters(Ts, nan, nan, np.full(Ts.shape, "above_grid"), 4.0),
    }
    # kappa0 = 1e6 has no contour in the plane; kappa0 = 4 has no J* point
    fig = plots.plot_contours(fit, kappa0=(2.0, 4.0, 1e6), critical=critical)
    labels, _ = _labels(fig)
    assert "exp E[log kappa] = 2 (law)" in labels and "exp E[log kappa] = 4 (law)" in labels
    assert not any("1e+06" in s for s in labels)
    assert "J* table, kappa0 = 2" in labels and "J* table, kappa0 = 4" not in labels


def test_residual_plot_has_a_key_for_the_colours_of_j(two_laws, data):
    fig = plots.plot_residuals(two_laws)
    labels, legend = _labels(fig)
    assert legend.get_title().get_text() == "J"
    assert labels == [f"{j:g}" for j in np.unique(data.J)]
    assert len(fig.axes) == 2


def test_collapse_plot_legend(two_laws, data):
    fig = plots.plot_collapse(two_laws)
    labels, _ = _labels(fig)
    assert [s for s in labels if s.startswith("J = ")] == [f"J = {j:g}" for j in np.unique(data.J)]
    assert any(s.startswith("paper form, c = 0.7") for s in labels)


def test_contour_plot_of_a_law_of_n(fit_n):
    fit = fit_n[0]
    with pytest.raises(ValueError, match=r"n is required: .* several signal lengths N"):
        plots.plot_contours(fit)
    with pytest.raises(ValueError, match=r'n must be a signal length or "T" \(N = T\), got .x.'):
        plots.plot_contours(fit, n="x")
    with pytest.raises(ValueError, match=r"n must be a finite signal length >= 2, got 1.0"):
        plots.plot_contours(fit, n=1)
    fig = plots.plot_contours(fit, n="1024", kappa0=(2.0,))  # a number as text is a length
    (ax,) = fig.axes
    assert ax.get_xlabel() and ax.get_ylabel() and ax.collections  # the contour was drawn
