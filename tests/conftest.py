"""Test configuration: strict broadcasting, and helpers shared by the test modules."""

import jax
import pytest

# Catch silent rank promotion in library code (STYLE.md); restored after the session.
_previous = jax.config.jax_numpy_rank_promotion


def pytest_configure(config):
    jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_unconfigure(config):
    jax.config.update("jax_numpy_rank_promotion", _previous)


@pytest.fixture
def x64():
    """Run a test with float64 enabled, restoring the previous setting afterwards."""
    with jax.enable_x64(True):
        yield
