"""The reproduction's draws: the engine's bucketed filterbank statistics
(:mod:`jaxfb.montecarlo._buckets`), under the names the experiments use."""

from ..montecarlo._buckets import Draws, draw, energy_statistic, frames_statistic

__all__ = ["Draws", "draw", "energy_statistic", "frames_statistic"]
