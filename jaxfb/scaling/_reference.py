"""Parameter-free references scored like fitted laws: fixed predictions, and jaxfb's theory."""

from __future__ import annotations

import numpy as np

from .. import theory
from ._fit import FitResult, fit_model
from ._models import Model

__all__ = ["score_predictions", "theory_reference"]


def _identity(params, prediction, floor=0.0):
    return prediction


def score_predictions(prediction, y, se, *, name: str = "reference") -> FitResult:
    r"""Score fixed predictions against data like a fitted law with no parameters.

    The result has ``k = 0``: ``chi2``, ``aic = bic = chi2``, standardised ``residuals``; it
    compares with fitted laws through :func:`compare` (same ``y``). Its single covariate is the
    prediction itself, so ``result.predict(prediction)`` returns it unchanged.

    Args:
        prediction: ``(n,)`` predicted targets (finite).
        y: ``(n,)`` data.
        se: ``(n,)`` standard errors (``inf`` excludes a point).
        name: the name shown in tables.

    Returns:
        :class:`FitResult`.

    Examples:
        >>> import numpy as np
        >>> from jaxfb.scaling._reference import score_predictions
        >>> res = score_predictions(np.zeros(3), np.array([1.0, -1.0, 0.0]), np.ones(3))
        >>> res.chi2, res.model.num_params
        (2.0, 0)
    """
    model = Model(
        name,
        (),
        _identity,
        lambda prediction, y: np.zeros(0),
        "fixed predictions",
        "parameter-free reference",
        covariates=("prediction",),
    )
    return fit_model(model, (prediction,), y, se)


def theory_reference(num_filters, length, n, y, se, *, target: str = "log_kappa") -> FitResult:
    r"""Score :mod:`jaxfb.theory`'s parameter-free prediction of the target against the data.

    ``target="log_kappa"`` uses :func:`jaxfb.theory.expected_log_condition_number`,
    ``"log_mean_kappa"`` the log of :func:`jaxfb.theory.expected_condition_number` (exact
    order statistics when ``T = N``; jaxfb's effective-count model when ``T < N``). Points where
    the prediction is not finite (``E[kappa] = inf`` for ``J <= 2``) are excluded.

    Args:
        num_filters, length, n: ``(n,)`` ``J``, ``T``, ``N`` of the points (integers).
        y, se: ``(n,)`` data and standard errors.
        target: ``"log_kappa"`` or ``"log_mean_kappa"``.

    Returns:
        :class:`FitResult` named ``"theory"`` with ``k = 0`` (see :func:`score_predictions`).
    """
    J = np.asarray(num_filters).astype(int)
    T = np.asarray(length).astype(int)
    N = np.asarray(n).astype(int)
    if target == "log_kappa":
        pred = np.asarray(theory.expected_log_condition_number(J, T, N), np.float64)
    elif target == "log_mean_kappa":
        with np.errstate(divide="ignore"):
            pred = np.log(np.asarray(theory.expected_condition_number(J, T, N), np.float64))
    else:
        raise ValueError(f"target must be 'log_kappa' or 'log_mean_kappa', got {target!r}")
    se = np.asarray(se, np.float64)
    ok = np.isfinite(pred)
    return score_predictions(np.where(ok, pred, 0.0), y, np.where(ok, se, np.inf), name="theory")
