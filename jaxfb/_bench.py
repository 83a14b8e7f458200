"""Throughput of sampling + frame bounds against the RNG floor and a NumPy loop.

For each filter length ``T``, :func:`benchmark_kernels` times, in the same run and on the same
device:

- the RNG floor: ``jax.random.normal`` of shape ``(draws, J, T)`` (the least any exact
  simulation must do);
- jaxfb: ``frame_bounds(random_filterbank(...), N)`` fused under one ``jax.jit``, for the
  automatic method and for each explicit one;
- a reference-style NumPy loop, one filterbank at a time (draw, zero-pad, FFT, LP sum, min/max),
  as in the paper's published code.

Each timing is the best of ``repeat`` runs after a warm-up (compilation excluded). The command
``jaxfb bench`` and ``benchmarks/bench_kernels.py`` print these rows; docs/performance.md
reports them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import jax
import numpy as np

from . import _validation as v
from ._frames import _choose_method, frame_bounds
from ._sampling import random_filterbank

__all__ = ["KernelTiming", "benchmark_kernels"]


class KernelTiming(NamedTuple):
    """One row of :func:`benchmark_kernels`: throughputs in filterbanks per second."""

    J: int
    N: int
    T: int
    draws: int
    auto: str
    """The method ``method="auto"`` picks for ``(J, T, N)``."""
    floor_fb_per_s: float
    auto_fb_per_s: float
    fft_fb_per_s: float
    autocorr_fb_per_s: float
    numpy_fb_per_s: float

    @property
    def ratio_to_floor(self) -> float:
        """jaxfb's throughput over the RNG floor's (1 would be free frame bounds)."""
        return self.auto_fb_per_s / self.floor_fb_per_s

    @property
    def speedup_vs_numpy(self) -> float:
        """jaxfb's throughput over the NumPy loop's."""
        return self.auto_fb_per_s / self.numpy_fb_per_s

    def as_dict(self) -> dict:
        """The fields plus the two ratios, JSON-ready."""
        ratios = {"ratio_to_floor": self.ratio_to_floor, "speedup_vs_numpy": self.speedup_vs_numpy}
        return {**self._asdict(), **ratios}

    @staticmethod
    def header() -> str:
        """The column titles of :meth:`row`."""
        return (
            f"{'T':>5} {'path':>8} {'jaxfb fb/s':>11} {'floor fb/s':>11} {'ratio':>6} "
            f"{'fft fb/s':>10} {'lag fb/s':>10} {'numpy fb/s':>10} {'vs numpy':>8}"
        )

    def row(self) -> str:
        """This timing as one line of a fixed-width table (see :meth:`header`)."""
        return (
            f"{self.T:>5} {self.auto:>8} {self.auto_fb_per_s:>11.0f} {self.floor_fb_per_s:>11.0f} "
            f"{self.ratio_to_floor:>6.2f} {self.fft_fb_per_s:>10.0f} "
            f"{self.autocorr_fb_per_s:>10.0f} {self.numpy_fb_per_s:>10.0f} "
            f"{self.speedup_vs_numpy:>7.1f}x"
        )


def _best_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (compiles)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _numpy_loop(rng: np.random.Generator, draws: int, J: int, T: int, N: int) -> np.ndarray:
    """The paper's style: one filterbank at a time, zero-pad, FFT, LP sum, min/max."""
    out = np.empty((draws, 2))
    sigma = 1.0 / np.sqrt(J * T)
    for i in range(draws):
        w = rng.standard_normal((J, T)) * sigma
        W = np.fft.fft(np.pad(w, ((0, 0), (0, N - T))), axis=-1)
        lp = np.sum(np.abs(W) ** 2, axis=0)
        out[i] = lp.min(), lp.max()
    return out


def _timing(key, J, T, N, draws, numpy_draws, repeat, seed) -> KernelTiming:
    sigma = 1.0 / np.sqrt(J * T)
    floor = jax.jit(lambda k: jax.random.normal(k, (draws, J, T)) * sigma)
    rates = {"floor": draws / _best_time(lambda: floor(key).block_until_ready(), repeat)}
    for method in ("auto", "fft", "autocorr"):
        kern = jax.jit(
            lambda k, m=method: frame_bounds(
                random_filterbank(k, J, T, batch_shape=(draws,)), N, method=m
            )
        )
        t = _best_time(lambda kern=kern: jax.block_until_ready(kern(key)), repeat)
        rates[method] = draws / t
    rng = np.random.default_rng(seed)
    t_np = _best_time(lambda: _numpy_loop(rng, numpy_draws, J, T, N), 1)
    return KernelTiming(
        J=J,
        N=N,
        T=T,
        draws=draws,
        auto=_choose_method(J, T, N),
        floor_fb_per_s=rates["floor"],
        auto_fb_per_s=rates["auto"],
        fft_fb_per_s=rates["fft"],
        autocorr_fb_per_s=rates["autocorr"],
        numpy_fb_per_s=numpy_draws / t_np,
    )


def benchmark_kernels(
    num_filters: int,
    n: int,
    lengths: Sequence[int],
    *,
    draws: int = 1000,
    numpy_draws: int = 200,
    repeat: int = 5,
    seed: int = 0,
) -> Iterator[KernelTiming]:
    """Time sampling + frame bounds for each filter length, one :class:`KernelTiming` at a time.

    Arguments are checked at the call; the rows are measured as they are taken, so a caller
    can print each one as it comes. Timings are wall-clock on
    the default device, best of ``repeat`` after a warm-up; compare rows of one run only.

    Args:
        num_filters: ``J >= 1``.
        n: signal length ``N``.
        lengths: filter lengths ``1 <= T <= N``.
        draws: filterbanks per jaxfb and floor timing (``>= 1``).
        numpy_draws: filterbanks for the NumPy loop (``>= 1``).
        repeat: timed repetitions, the best kept (``>= 1``).
        seed: PRNG seed of the draws.

    Returns:
        An iterator of :class:`KernelTiming`, one per length, in the order given.

    Examples:
        >>> import jaxfb
        >>> (row,) = jaxfb.benchmark_kernels(4, 32, [8], draws=10, numpy_draws=2, repeat=1)
        >>> row.T, row.auto in ("fft", "autocorr"), row.ratio_to_floor > 0
        (8, True, True)
    """
    J = v.static_int("num_filters", num_filters, minimum=1)
    N = v.static_int("n", n, minimum=1)
    lengths = [v.static_int("lengths", T, minimum=1) for T in lengths]
    for T in lengths:
        v.signal_length("n", N, T)
    draws = v.static_int("draws", draws, minimum=1)
    numpy_draws = v.static_int("numpy_draws", numpy_draws, minimum=1)
    repeat = v.static_int("repeat", repeat, minimum=1)
    key = jax.random.key(seed)
    # a generator expression: the checks above run at the call, the timings as rows are taken
    return (_timing(key, J, T, N, draws, numpy_draws, repeat, seed) for T in lengths)
