"""jaxfb: Monte Carlo studies of random convolutional filterbanks in JAX.

The kernels (sampling, Littlewood-Paley sums, frame bounds and condition numbers, strided ones
and those of multichannel conv layers included, energy responses) are pure, jit- and
vmap-compatible functions with explicit PRNG keys. Subpackages: :mod:`jaxfb.theory` (closed
forms, exact distributions, frame-bound predictions), :mod:`jaxfb.signals` (test signals and WAV
loading), :mod:`jaxfb.montecarlo` (the streaming, sharded engine and resumable sweeps),
:mod:`jaxfb.scaling` (fitted condition-number laws), :mod:`jaxfb.io` (the one I/O layer: atomic
writes, JSON, CSV).
"""

from . import io as io
from . import montecarlo as montecarlo
from . import scaling as scaling
from . import signals as signals
from . import theory as theory
from ._bench import KernelTiming as KernelTiming
from ._bench import benchmark_kernels as benchmark_kernels
from ._conv import conv_condition_number as conv_condition_number
from ._conv import conv_frame_bounds as conv_frame_bounds
from ._conv import conv_kernel as conv_kernel
from ._energy import autocorrelation as autocorrelation
from ._energy import energy as energy
from ._env import environment as environment
from ._env import package_version as _package_version
from ._frames import FrameBounds as FrameBounds
from ._frames import condition_number as condition_number
from ._frames import filter_autocorrelation as filter_autocorrelation
from ._frames import frame_bounds as frame_bounds
from ._frames import littlewood_paley as littlewood_paley
from ._gram import equivalent_filterbank as equivalent_filterbank
from ._gram import sample_frame_bounds as sample_frame_bounds
from ._penalty import conv_smooth_condition_number as conv_smooth_condition_number
from ._penalty import conv_tightness_penalty as conv_tightness_penalty
from ._penalty import smooth_condition_number as smooth_condition_number
from ._penalty import tightness_penalty as tightness_penalty
from ._sampling import INITS as INITS
from ._sampling import InitSpec as InitSpec
from ._sampling import random_filterbank as random_filterbank
from ._strided import AliasingMoments as AliasingMoments
from ._strided import aliasing_matrices as aliasing_matrices
from ._strided import aliasing_moments as aliasing_moments
from ._targets import mel_filterbank as mel_filterbank

__version__ = _package_version()

__all__ = [
    "INITS",
    "AliasingMoments",
    "FrameBounds",
    "InitSpec",
    "KernelTiming",
    "aliasing_matrices",
    "aliasing_moments",
    "autocorrelation",
    "benchmark_kernels",
    "condition_number",
    "conv_condition_number",
    "conv_frame_bounds",
    "conv_kernel",
    "conv_smooth_condition_number",
    "conv_tightness_penalty",
    "energy",
    "environment",
    "equivalent_filterbank",
    "filter_autocorrelation",
    "frame_bounds",
    "io",
    "littlewood_paley",
    "mel_filterbank",
    "montecarlo",
    "random_filterbank",
    "sample_frame_bounds",
    "scaling",
    "signals",
    "smooth_condition_number",
    "theory",
    "tightness_penalty",
]
