"""Reproduce every figure of Haider et al. (2024) with jaxfb, and check the paper's claims.

:func:`run` takes a :class:`ReproduceConfig` (explicit seed; presets :meth:`ReproduceConfig.quick`
and :meth:`ReproduceConfig.full`; one config per experiment: :class:`EnergyConfig`,
:class:`AudioConfig`, :class:`FramesConfig`, :class:`jaxfb.training.TrainingConfig`) and writes,
into one folder, each figure as PNG and PDF with its data as CSV, every draw (``samples.npz``),
``config.json`` and a report (``report.md``, self-contained ``report.html``) with the key numbers,
their standard errors and a verdict on each claim, computed by :func:`judge` from the claim's
evidence and :class:`Rule`. Every draw goes through :func:`jaxfb.montecarlo.monte_carlo`. The
command line is ``jaxfb reproduce``; see ``docs/reproduction.md``.

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
from ._results import ExperimentOutput as ExperimentOutput
from ._results import FigureOutput as FigureOutput
from ._results import KeyNumber as KeyNumber
from ._results import Rule as Rule
from ._results import judge as judge
from ._run import RunResult as RunResult
from ._run import experiment_key as experiment_key
from ._run import run as run
from ._training import save_training as save_training

__all__ = [
    "EXPERIMENTS",
    "AudioConfig",
    "Claim",
    "EnergyConfig",
    "ExperimentOutput",
    "FigureOutput",
    "FramesConfig",
    "KeyNumber",
    "ReproduceConfig",
    "Rule",
    "RunResult",
    "experiment_key",
    "judge",
    "run",
    "save_training",
]
