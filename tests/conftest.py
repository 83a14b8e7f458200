"""Test configuration: strict broadcasting, and helpers shared by the test modules."""

import os
import signal
import subprocess
import sys
import time

import jax
import pytest

# Catch silent rank promotion in library code; restored after the session.
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


@pytest.fixture
def kill_9_sweep():
    """Start ``mc.sweep(out, **grid)`` in a subprocess and ``kill -9`` it once ``ready()`` is true.

    Fails if the process exits first (with its stderr) or if ``ready()`` is still false after
    ``timeout`` seconds; the process is always reaped.
    """

    def run(out, grid, ready, timeout=240.0, what="the sweep never reached the kill point"):
        script = f"from jaxfb import montecarlo as mc; mc.sweep({str(out)!r}, **{grid!r})"
        proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + timeout
            while not ready():
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, what
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()

    return run
