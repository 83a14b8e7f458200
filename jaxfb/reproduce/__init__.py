"""Reproduce every figure of Haider et al. (2024) with jaxfb, and check the paper's claims.

:func:`run` takes a :class:`ReproduceConfig` (presets ``quick`` and ``full``; one config per
experiment) and writes each figure (PNG, PDF, CSV), every draw, ``config.json`` and a report with
the key numbers and a verdict on each :class:`Claim` (:func:`judge` of its :class:`Rule`). Every
draw goes through :func:`jaxfb.montecarlo.monte_carlo`. See ``docs/reproduction.md``.

Examples:
    >>> from jaxfb import reproduce
    >>> cfg = reproduce.ReproduceConfig.quick(seed=0)
    >>> cfg.draws, cfg.frames.lengths[-1]
    (200, 1024)
"""

from ._config import EXPERIMENTS as EXPERIMENTS
from ._config import AudioConfig as AudioConfig
from ._config import EnergyConfig as EnergyConfig
from ._config import FramesConfig as FramesConfig
from ._config import ReproduceConfig as ReproduceConfig
from ._results import Claim as Claim
from ._results import Rule as Rule
from ._results import judge as judge
from ._run import RunResult as RunResult
from ._run import run as run
from ._training import save_training as save_training

__all__ = [
    "EXPERIMENTS",
    "AudioConfig",
    "Claim",
    "EnergyConfig",
    "FramesConfig",
    "ReproduceConfig",
    "Rule",
    "RunResult",
    "judge",
    "run",
    "save_training",
]
