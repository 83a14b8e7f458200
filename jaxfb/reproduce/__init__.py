"""Reproduce every figure of Haider et al. (2024) with jaxfb, and check the paper's claims.

:func:`run` takes a :class:`ReproduceConfig` (explicit seed; presets
:meth:`ReproduceConfig.quick` and :meth:`ReproduceConfig.full`) and writes, into one directory,
each figure as PNG and PDF with its data as CSV, every draw (``samples.npz``), ``config.json``
(config, versions, device, timings) and a report (``report.md``, self-contained
``report.html``) with the key numbers and their standard errors and a verdict, computed from the
run, on each of the paper's claims. The run includes the training experiment (random filterbanks
fitted to a mel filterbank with and without the stability penalty; :class:`TrainingConfig`,
:func:`train_filterbanks`), which ``experiments/train_filterbank.py`` also runs on its own. The
command line is ``jaxfb reproduce``; see ``docs/reproduction.md``.

Examples:
    >>> from jaxfb import reproduce
    >>> cfg = reproduce.ReproduceConfig.quick(seed=0)
    >>> cfg.draws, cfg.frames_lengths[-1]
    (200, 1024)
"""

from ._config import EXPERIMENTS as EXPERIMENTS
from ._config import ReproduceConfig as ReproduceConfig
from ._results import Claim as Claim
from ._results import ExperimentOutput as ExperimentOutput
from ._results import FigureOutput as FigureOutput
from ._results import KeyNumber as KeyNumber
from ._run import EXPERIMENT_REGISTRY as EXPERIMENT_REGISTRY
from ._run import RunResult as RunResult
from ._run import experiment_key as experiment_key
from ._run import register_experiment as register_experiment
from ._run import run as run
from ._tables import read_csv as read_csv
from ._training import TrainingConfig as TrainingConfig
from ._training import TrainingResult as TrainingResult
from ._training import save_training as save_training
from ._training import train_filterbanks as train_filterbanks
from ._training import training_table as training_table

__all__ = [
    "EXPERIMENTS",
    "EXPERIMENT_REGISTRY",
    "Claim",
    "ExperimentOutput",
    "FigureOutput",
    "KeyNumber",
    "ReproduceConfig",
    "RunResult",
    "TrainingConfig",
    "TrainingResult",
    "experiment_key",
    "read_csv",
    "register_experiment",
    "run",
    "save_training",
    "train_filterbanks",
    "training_table",
]
