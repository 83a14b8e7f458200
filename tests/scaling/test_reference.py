"""Parameter-free references scored like fits (jaxfb/scaling/_reference.py)."""

from __future__ import annotations

import numpy as np
import pytest

from jaxfb import scaling
from jaxfb.scaling._reference import score_predictions


def test_score_predictions_is_a_zero_parameter_fit():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    res = score_predictions(y + np.array([0.1, -0.2, 0.0, 0.3]), y, np.full(4, 0.1))
    assert res.model.num_params == 0 and res.dof == 4
    assert res.chi2 == pytest.approx(1 + 4 + 0 + 9) and res.aic == res.bic == res.chi2
    np.testing.assert_allclose(res.residuals, [-1.0, 2.0, 0.0, -3.0], atol=1e-12)


@pytest.mark.slow
def test_theory_reference_equals_orderstat_at_half(data):
    # two independent implementations of the exact T = N law: jaxfb.theory's quadrature and the
    # "orderstat" law at b_B = b_A = 1/2
    Jr, Tr = np.array([4.0, 16.0, 64.0]), np.array([8.0, 64.0, 512.0])
    ref = scaling.theory_reference(Jr, Tr, Tr, np.zeros(3), np.ones(3))
    np.testing.assert_allclose(ref.fitted, data.law("orderstat", [0.5, 0.5], Jr, Tr), rtol=1e-6)
