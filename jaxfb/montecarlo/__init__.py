"""The Monte Carlo engine: batched, sharded, streaming statistics of random filterbanks.

- :func:`monte_carlo` runs a per-draw statistic ``statistic(key) -> pytree`` over many draws
  (draw ``i`` uses ``jax.random.fold_in(key, i)``), sharded over every device, and reduces the
  leaves with streaming reducers (:class:`Count`, :class:`Moments`, :class:`Min`, :class:`Max`,
  :class:`Histogram`, :class:`Samples`).
- :func:`sweep` runs a grid of ``(J, T, N, init)`` points (and signals), writing each finished
  point atomically and resuming where it stopped; it returns the summary table.
"""

from ._driver import MonteCarloResult as MonteCarloResult
from ._driver import TargetSE as TargetSE
from ._driver import choose_microbatch as choose_microbatch
from ._driver import default_memory_budget as default_memory_budget
from ._driver import monte_carlo as monte_carlo
from ._driver import parse_bytes as parse_bytes
from ._driver import statistic_bytes as statistic_bytes
from ._io import load_point as load_point
from ._io import read_summary as read_summary
from ._reducers import DEFAULT_REDUCERS as DEFAULT_REDUCERS
from ._reducers import Count as Count
from ._reducers import Histogram as Histogram
from ._reducers import LeafPlan as LeafPlan
from ._reducers import Max as Max
from ._reducers import Min as Min
from ._reducers import Moments as Moments
from ._reducers import Reducer as Reducer
from ._reducers import Samples as Samples
from ._reducers import chan_merge as chan_merge
from ._reducers import histogram_quantile as histogram_quantile
from ._reducers import quantile_linear as quantile_linear
from ._reducers import resolve_reducers as resolve_reducers
from ._signals import spectral_weights as spectral_weights
from ._sweep import DEFAULT_QUANTILES as DEFAULT_QUANTILES
from ._sweep import KEEP_SAMPLES_MAX_DRAWS as KEEP_SAMPLES_MAX_DRAWS
from ._sweep import point_key as point_key
from ._sweep import point_statistic as point_statistic
from ._sweep import summary_columns as summary_columns
from ._sweep import sweep as sweep
