r"""Closed forms and exact distributions for random filterbanks (Haider et al. 2024).

Energy of a signal under a random Gaussian filterbank: moments, deviation bounds at level ``p``
(Cantelli, Chernoff: a valid default and the paper's variant), and the exact distribution of
:math:`\|\Phi x\|^2 = \sigma^2 \sum_k \lambda_k Y_k`, :math:`Y_k \sim \chi^2_J`.

Frame bounds: the paper's approximations (labelled ``paper_*`` and :func:`kappa_tilde`), the exact
laws of ``A``, ``B`` and ``kappa`` when ``T = N`` (:func:`frame_bound_distribution`), and jaxfb's
effective-count predictor for ``T < N`` (:func:`expected_frame_bounds`,
:func:`expected_condition_number`; ``inf`` where a mean does not exist, with
:func:`median_condition_number` and :func:`expected_log_condition_number` beside them).
Design rule: :func:`required_filters`, the fewest filters with ``E[kappa] <= kappa0``, and its
large-deviation asymptote :func:`required_filters_slope` (filters per e-fold of ``T``).
Conv layers (``in_channels``, ``stride`` of :func:`expected_frame_bounds` and
:func:`expected_condition_number`; :func:`conv_frame_bound_law`, :func:`marchenko_pastur_edges`):
see ``docs/conv_theory.md``. See ``docs/theory.md``.

Argument order, one convention for every function here: the point of evaluation first (a
threshold ``t``, a probability ``q`` or a target ``kappa0``), then the signal ``x``, then the
sizes in the order ``num_filters`` (``J``), ``length`` (``T``), ``n`` (``N``); options are
keyword-only. Two functions break it and keep their order for existing callers:
:func:`cantelli_deviation` and :func:`chernoff_deviation` take the level ``p`` last,
``(x, num_filters, length, p)``.

Host-side functions (the exact distributions, the frame-bound predictions, the design rule) are
NumPy/SciPy code: call them outside ``jax.jit`` with concrete values; traced arguments raise a
``TypeError`` that says so.
"""

from ._bounds import cantelli_deviation as cantelli_deviation
from ._bounds import chernoff_deviation as chernoff_deviation
from ._chisq_mixture import EnergyDistribution as EnergyDistribution
from ._chisq_mixture import energy_distribution as energy_distribution
from ._chisq_mixture import energy_quantile as energy_quantile
from ._chisq_mixture import energy_sf as energy_sf
from ._conv import ConvFrameBoundLaw as ConvFrameBoundLaw
from ._conv import conv_frame_bound_law as conv_frame_bound_law
from ._conv import marchenko_pastur_edges as marchenko_pastur_edges
from ._design import required_filters as required_filters
from ._design import required_filters_slope as required_filters_slope
from ._frame_bounds import EffectiveCounts as EffectiveCounts
from ._frame_bounds import ExpectedFrameBounds as ExpectedFrameBounds
from ._frame_bounds import FrameBoundDistribution as FrameBoundDistribution
from ._frame_bounds import chi2_extreme_means as chi2_extreme_means
from ._frame_bounds import effective_counts as effective_counts
from ._frame_bounds import expected_condition_number as expected_condition_number
from ._frame_bounds import expected_frame_bounds as expected_frame_bounds
from ._frame_bounds import expected_log_condition_number as expected_log_condition_number
from ._frame_bounds import frame_bound_distribution as frame_bound_distribution
from ._frame_bounds import kappa_tilde as kappa_tilde
from ._frame_bounds import median_condition_number as median_condition_number
from ._frame_bounds import paper_asymptotic_bounds as paper_asymptotic_bounds
from ._frame_bounds import paper_expected_frame_bounds as paper_expected_frame_bounds
from ._frame_model import EDGE_WIDTH as EDGE_WIDTH
from ._frame_model import EDGE_WIDTH_RATE as EDGE_WIDTH_RATE
from ._moments import energy_mean as energy_mean
from ._moments import energy_variance as energy_variance
from ._moments import energy_variance_bound as energy_variance_bound
from ._moments import gram_eigenvalues as gram_eigenvalues

__all__ = [
    "EDGE_WIDTH",
    "EDGE_WIDTH_RATE",
    "ConvFrameBoundLaw",
    "EffectiveCounts",
    "EnergyDistribution",
    "ExpectedFrameBounds",
    "FrameBoundDistribution",
    "cantelli_deviation",
    "chernoff_deviation",
    "chi2_extreme_means",
    "conv_frame_bound_law",
    "effective_counts",
    "energy_distribution",
    "energy_mean",
    "energy_quantile",
    "energy_sf",
    "energy_variance",
    "energy_variance_bound",
    "expected_condition_number",
    "expected_frame_bounds",
    "expected_log_condition_number",
    "frame_bound_distribution",
    "gram_eigenvalues",
    "kappa_tilde",
    "marchenko_pastur_edges",
    "median_condition_number",
    "paper_asymptotic_bounds",
    "paper_expected_frame_bounds",
    "required_filters",
    "required_filters_slope",
]
