r"""Scaling laws of the condition number of random filterbanks: models, fits, intervals, rules.

The paper (Haider et al. 2024) predicts :math:`\kappa \approx \tilde\kappa(J, T)`, a function of
``u = log T / J``; this package measures the law instead. It fits parametric forms
(:data:`MODELS`) to Monte Carlo means of ``log kappa`` by weighted least squares (optax L-BFGS,
jit-compiled once per model and data shape), gives delta-method (:func:`fit`) and bootstrap
(:func:`bootstrap`) intervals and AIC/BIC comparisons (:func:`compare`), and extracts the
practical rule ``J*(T; kappa0)``, the fewest filters keeping ``E[kappa] <= kappa0``
(:func:`critical_filters`, :func:`fit_critical_rule`, :func:`log_linearity_test`).
Plots live in :mod:`jaxfb.scaling.plots` (imported on demand; needs matplotlib); the command
line is ``jaxfb fit``.
"""

from ._bootstrap import Bootstrap as Bootstrap
from ._bootstrap import bootstrap as bootstrap
from ._critical import RULES as RULES
from ._critical import CriticalFilters as CriticalFilters
from ._critical import RuleComparison as RuleComparison
from ._critical import critical_filters as critical_filters
from ._critical import fit_critical_rule as fit_critical_rule
from ._critical import log_linearity_test as log_linearity_test
from ._fit import Comparison as Comparison
from ._fit import FitResult as FitResult
from ._fit import compare as compare
from ._fit import fit as fit
from ._fit import fit_model as fit_model
from ._io import DEFAULT_COLUMNS as DEFAULT_COLUMNS
from ._io import load_point_samples as load_point_samples
from ._io import load_samples as load_samples
from ._io import read_summary as read_summary
from ._models import LAWS as LAWS
from ._models import MODELS as MODELS
from ._models import Model as Model
from ._models import effective_lengths as effective_lengths
from ._models import get_model as get_model
from ._models import log_ratio as log_ratio
from ._models import neg_log1m as neg_log1m
from ._models import register_model as register_model
from ._reference import score_predictions as score_predictions
from ._reference import theory_reference as theory_reference
