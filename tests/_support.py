"""Reference helpers shared by test modules (on ``sys.path`` through pytest's ``pythonpath``).

Test modules cannot import one another under ``--import-mode=importlib``; what several of them
need (test signals built from their definitions, explicit circulant matrices, spectra) lives
here, written with NumPy only so it stays independent of the code under test.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root."""

SR = 22050
"""Sample rate of the signal tests, in Hz."""


def make_signals(n: int) -> dict[str, np.ndarray]:
    """Five unit-norm float64 test signals of length ``n``, built from their definitions."""
    t = np.arange(n)
    rng = np.random.default_rng(20240101)
    sigs = {
        "impulse": (t == 0).astype(float),
        "white_noise": rng.standard_normal(n),
        "alternating": (-1.0) ** t,
        "pulse_train": (t % 8 == 0).astype(float),
        "decaying_tone": np.exp(-t / (n / 8)) * np.cos(2 * np.pi * 0.11 * t),
    }
    return {k: v / np.linalg.norm(v) for k, v in sigs.items()}


def circulant_gram(x: np.ndarray, T: int) -> np.ndarray:
    """``Q_T = C_T^T C_T`` with ``C[n, k] = x[(n - k) mod N]`` (the definition, O(N^2))."""
    N = x.size
    C = np.array([[x[(n - k) % N] for k in range(N)] for n in range(N)])
    CT = C[:, :T]
    return CT.T @ CT


def norm(x) -> float:
    """Euclidean norm in float64."""
    return float(np.linalg.norm(np.asarray(x, np.float64)))


def power_spectrum(x, sample_rate: float = SR) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and ``|rfft(x)|^2`` in float64."""
    X = np.abs(np.fft.rfft(np.asarray(x, np.float64))) ** 2
    return np.fft.rfftfreq(len(x), 1 / sample_rate), X


def load_script(relative: str):
    """Import a repository script (``experiments/...py``, not a package module) by its path.

    Registered in ``sys.modules`` as ``_jaxfb_<stem>`` while it runs, so the dataclasses and
    pickled worker functions it defines resolve their module.
    """
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(f"_jaxfb_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
