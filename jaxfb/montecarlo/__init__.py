"""The Monte Carlo engine: batched, sharded, streaming statistics of random filterbanks.

- :func:`monte_carlo` runs a per-draw statistic ``statistic(key) -> pytree`` over many draws
  (draw ``i`` uses ``jax.random.fold_in(key, i)``), sharded over every device, and reduces the
  leaves with streaming reducers (:class:`Count`, :class:`Moments`, :class:`Min`, :class:`Max`,
  :class:`Histogram`, :class:`Samples`; :class:`Reducer` is their base class); it returns a
  :class:`MonteCarloResult`, can stop at a precision target (:class:`TargetSE`) and resumes
  from a checkpoint.
- :func:`sweep` runs a grid of ``(J, T, N, init)`` points (and signals), writing each finished
  point atomically and resuming where it stopped; it returns the summary table, which
  :func:`read_summary` reads back from ``summary.csv`` (the same function as
  :func:`jaxfb.io.read_summary`), and :func:`load_point` reads one point's files.
"""

from ..io import read_summary as read_summary
from ._driver import MonteCarloResult as MonteCarloResult
from ._driver import TargetSE as TargetSE
from ._driver import monte_carlo as monte_carlo
from ._points import load_point as load_point
from ._reducers import Count as Count
from ._reducers import Histogram as Histogram
from ._reducers import Max as Max
from ._reducers import Min as Min
from ._reducers import Moments as Moments
from ._reducers import Reducer as Reducer
from ._reducers import Samples as Samples
from ._sweep import sweep as sweep

__all__ = [
    "Count",
    "Histogram",
    "Max",
    "Min",
    "Moments",
    "MonteCarloResult",
    "Reducer",
    "Samples",
    "TargetSE",
    "load_point",
    "monte_carlo",
    "read_summary",
    "sweep",
]
