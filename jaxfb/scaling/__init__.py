r"""Scaling laws of the condition number of random filterbanks: models, fits, intervals, rules.

The paper (Haider et al. 2024) predicts :math:`\kappa \approx \tilde\kappa(J, T)`, a function of
``u = log T / J``; this package measures the law instead (docs/scaling.md). The whole workflow is
one call, :func:`analyze` (a sweep table in, a :class:`ScalingAnalysis` out: fits, intervals,
model comparison, the rule ``J*(T; kappa0)``, every failure with its reason, ``summary()``,
``figures()``, ``save(folder)``); ``jaxfb fit`` is its command line. The pieces:

- :func:`fit` a law (:data:`MODELS`, :data:`LAWS`; add one with :class:`Model` and
  :func:`register_model`) to Monte Carlo means of ``log kappa`` by weighted least squares
  (optax L-BFGS, float64, jit-compiled once per model and data shape), with delta-method
  intervals in the :class:`FitResult`; :func:`bootstrap` intervals; :func:`compare` by AIC/BIC;
  :func:`theory_reference` scores :mod:`jaxfb.theory`'s parameter-free prediction like a law;
- the practical rule ``J*(T; kappa0)``, the fewest filters keeping ``E[kappa] <= kappa0``:
  :func:`critical_filters` reads it off a table, :func:`fit_critical_rule` fits
  ``J* = a + b log T``, :func:`log_linearity_test` tests it against a power law.

Figures live in :mod:`jaxfb.scaling.plots` (matplotlib, imported on demand).
"""

from ._analysis import ScalingAnalysis as ScalingAnalysis
from ._analysis import analyze as analyze
from ._bootstrap import bootstrap as bootstrap
from ._critical import critical_filters as critical_filters
from ._critical import fit_critical_rule as fit_critical_rule
from ._critical import log_linearity_test as log_linearity_test
from ._fit import FitResult as FitResult
from ._fit import compare as compare
from ._fit import fit as fit
from ._models import LAWS as LAWS
from ._models import MODELS as MODELS
from ._models import Model as Model
from ._models import register_model as register_model
from ._reference import theory_reference as theory_reference

__all__ = [
    "LAWS",
    "MODELS",
    "FitResult",
    "Model",
    "ScalingAnalysis",
    "analyze",
    "bootstrap",
    "compare",
    "critical_filters",
    "fit",
    "fit_critical_rule",
    "log_linearity_test",
    "register_model",
    "theory_reference",
]
