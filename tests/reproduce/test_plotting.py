"""The reproduction's figures on small synthetic tables: they draw, legends sit off the panels,
and the range where the paper's kappa_tilde is undefined (J <= 4 log T) is shaded."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle

from jaxfb.reproduce import _plotting as P

LENGTHS = [8, 16, 64, 256]
FILTERS = [3, 5, 10, 20, 40]
N = 256


def _kappa_tilde(J: int, T: int) -> float:
    """The paper's (1 + 2 sqrt(log T / J)) / (1 - 2 sqrt(log T / J)); inf where undefined."""
    r = 2 * math.sqrt(math.log(T) / J)
    return (1 + r) / (1 - r) if r < 1 else math.inf


def _kappa_table(cumulative: bool = True) -> dict[str, np.ndarray]:
    rows = [(J, T) for J in FILTERS for T in LENGTHS]
    J = np.array([r[0] for r in rows], float)
    T = np.array([r[1] for r in rows], float)
    mean = 1 + 4 * np.sqrt(np.log(T) / J)
    table = {
        "J": J,
        "T": T,
        "N": np.full(J.size, N),
        "mean_kappa": mean,
        "mean_kappa_se": np.where(J > 4, 0.02 * mean, np.nan),
        "median_kappa": 0.9 * mean,
        "ratio_of_means": 0.95 * mean,
        "kappa_tilde": np.array([_kappa_tilde(int(j), int(t)) for j, t in rows]),
        "jaxfb_kappa": np.where(T == N, mean, np.nan),
        "jaxfb_median_kappa": 0.9 * mean,
        "fitted_kappa": np.where(J >= 8, 1.02 * mean, np.nan),
    }
    if cumulative:
        table["cumulative_mean_kappa"] = 0.8 * mean
    return table


def _frame_table(J: int = 40) -> dict[str, np.ndarray]:
    T = np.array(LENGTHS, float)
    r = 2 * np.sqrt(np.log(T) / J)
    t = {"T": T, "J": np.full(T.size, J), "N": np.full(T.size, N)}
    for side, sign in (("A", -1), ("B", 1)):
        m = 1 + sign * r / 2
        t |= {
            f"mean_{side}": m,
            f"q05_{side}": m - 0.1,
            f"q95_{side}": m + 0.1,
            f"paper_chi2_{side}": m + sign * 0.1,
            f"asymptotic_{side}": 1 + sign * r,
            f"jaxfb_{side}": np.where(T >= 64, m, np.nan),
        }
    return t


def _energy_table() -> dict[str, np.ndarray]:
    signals = ["impulse", "random walk"]
    T = np.array(LENGTHS * 2, float)
    q = 1 / np.sqrt(T)
    return {
        "signal": np.repeat(signals, len(LENGTHS)),
        "T": T,
        "mean": 0 * T,
        "band_lo": -q,
        "band_hi": q,
        "quantile": q,
        "exact_quantile": np.where(T > 8, q, np.nan),
        "cantelli": 3 * q,
        "laurent_massart": 2 * q,
        "exact_chernoff": 1.5 * q,
        "paper": 0.9 * q,
        "paper_fails": (T > 8).astype(float),
    }


def _histogram_table() -> dict[str, np.ndarray]:
    edges = np.linspace(0.5, 1.5, 11)
    x = np.linspace(0.5, 1.5, 30)
    density = np.exp(-((x - 1) ** 2) / 0.02)
    n_bins, n_curve = edges.size - 1, x.size
    return {
        "kind": np.array(["bin"] * n_bins + ["curve"] * n_curve),
        "signal": np.array(["s"] * 40),
        "T": np.full(40, 64),
        "left": np.r_[edges[:-1], np.full(n_curve, np.nan)],
        "right": np.r_[edges[1:], np.full(n_curve, np.nan)],
        "empirical_density": np.r_[np.ones(n_bins), np.full(n_curve, np.nan)],
        "x": np.r_[np.full(n_bins, np.nan), x],
        "theory_density": np.r_[np.full(n_bins, np.nan), density],
    }


def _scaling_table(max_u: float) -> dict[str, np.ndarray]:
    u = np.linspace(0.05, max_u, 12)
    J = np.where(u < 0.2, 32, 4).astype(float)
    tilde = np.where(
        u < 0.25, np.log((1 + 2 * np.sqrt(u)) / (1 - 2 * np.sqrt(np.minimum(u, 0.2)))), np.inf
    )
    return {
        "u": u,
        "J": J,
        "log_mean_kappa": 2 * np.sqrt(u),
        "log_mean_kappa_se": 0.01 + 0 * u,
        "log_kappa_tilde": tilde,
        "fitted": 2.1 * np.sqrt(u),
    }


def _drawn(fig):
    FigureCanvasAgg(fig).draw()
    return fig


def _legend_texts(fig) -> list[str]:
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


def _shaded(ax) -> list[tuple[float, float]]:
    """x-extents of the shaded "kappa_tilde undefined" spans of ``ax``."""
    spans = []
    for p in ax.patches:
        if p.get_label() == P.UNDEFINED_LABEL:
            x = (
                p.get_path().transformed(p.get_patch_transform()).vertices[:, 0]
                if isinstance(p, Rectangle)
                else p.get_xy()[:, 0]
            )
            spans.append((float(np.min(x)), float(np.max(x))))
    return spans


def _figures():
    return {
        "energy": P.plot_energy(_energy_table(), 0.05, "energy"),
        "histograms": P.plot_histograms(_histogram_table(), "histograms"),
        "frame_bounds": P.plot_frame_bounds(_frame_table(), "frame bounds"),
        "kappa_vs_T": P.plot_kappa_vs_T(_kappa_table(), "kappa vs T", "fitted law"),
        "kappa_vs_J": P.plot_kappa_vs_J(_kappa_table(False), "kappa vs J", "fitted law", 2),
        "scaling": P.plot_scaling(_scaling_table(0.6), "scaling", "fitted law"),
    }


@pytest.fixture(scope="module")
def figures():
    return {k: _drawn(f) for k, f in _figures().items()}


def test_legends_sit_off_the_panels(figures):
    for name, fig in figures.items():
        assert fig.legends, name
        renderer = fig.canvas.get_renderer()
        for leg in fig.legends:
            box = leg.get_window_extent(renderer)
            for ax in fig.axes:
                assert not box.overlaps(ax.get_window_extent(renderer)), name
        assert not [ax for ax in fig.axes if ax.get_legend() is not None], name


def test_legends_speak_plain_words(figures):
    texts = " ".join(t for fig in figures.values() for t in _legend_texts(fig))
    assert "cumulative" not in texts and "$" not in texts
    kappa = " ".join(_legend_texts(figures["kappa_vs_T"]))
    assert "running mean over T" in kappa and "the paper's kappa_tilde" in kappa
    assert "exact at T = N" in kappa


@pytest.mark.parametrize("panel_by", ["J", "T"])
def test_the_undefined_kappa_tilde_range_is_shaded_where_J_le_4_log_T(figures, panel_by):
    fig = figures["kappa_vs_T" if panel_by == "J" else "kappa_vs_J"]
    table = _kappa_table()
    values = sorted(set(table[panel_by].astype(int)))
    if panel_by == "T":  # plot_kappa_vs_J shows max_panels = 2 lengths: the ends
        values = [values[0], values[-1]]
    panels = [ax for ax in fig.axes if ax.get_title().startswith(f"{panel_by} = ")]
    assert [ax.get_title() for ax in panels] == [f"{panel_by} = {v}" for v in values]
    x_by = "T" if panel_by == "J" else "J"
    for ax, v in zip(panels, values, strict=True):
        spans = _shaded(ax)
        assert len(spans) <= 1
        for x in sorted(set(table[x_by].astype(int))):
            J, T = (v, x) if panel_by == "J" else (x, v)
            inside = bool(spans) and spans[0][0] <= x <= spans[0][1]
            assert inside == (J <= 4 * math.log(T)), (panel_by, v, x)
    assert P.UNDEFINED_LABEL in _legend_texts(fig)


def test_no_shading_where_kappa_tilde_is_defined_everywhere():
    table = _kappa_table()
    keep = table["J"] == 40  # 40 > 4 log 256 = 22.2
    fig = _drawn(P.plot_kappa_vs_T({k: v[keep] for k, v in table.items()}, "t", "fit"))
    assert _shaded(fig.axes[0]) == [] and P.UNDEFINED_LABEL not in _legend_texts(fig)
    fig = _drawn(P.plot_scaling(_scaling_table(0.2), "s", "fit"))
    assert _shaded(fig.axes[0]) == []


def test_the_frame_bounds_shade_where_the_papers_lower_bound_is_not_positive(figures):
    assert _shaded(figures["frame_bounds"].axes[0]) == []  # J = 40 > 4 log 256
    ax = _drawn(P.plot_frame_bounds(_frame_table(10), "J = 10")).axes[0]
    ((lo, hi),) = _shaded(ax)
    assert lo == pytest.approx(math.exp(10 / 4)) and hi == pytest.approx(ax.get_xlim()[1])
    assert [line.get_label() for line in ax.lines if "1 - 2 sqrt" in line.get_label()]


def test_the_scaling_plot_shades_u_from_one_quarter(figures):
    ax = figures["scaling"].axes[0]
    ((lo, hi),) = _shaded(ax)
    assert lo == pytest.approx(0.25) and hi == pytest.approx(ax.get_xlim()[1])


def test_spectrograms_and_save_figure_write_png_and_pdf(tmp_path):
    t, f = np.arange(4) / 10, np.arange(3) * 1000.0
    tt, ff = np.meshgrid(t, f, indexing="ij")
    table = {
        "signal": np.array(["a"] * 12),
        "time": tt.ravel(),
        "freq": ff.ravel(),
        "db": -tt.ravel() * 100,
    }
    paths = P.save_figure(P.plot_spectrograms(table, "spec"), tmp_path / "spec", dpi=30)
    assert [p.name for p in paths] == ["spec.png", "spec.pdf"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[1].read_bytes()[:4] == b"%PDF"
