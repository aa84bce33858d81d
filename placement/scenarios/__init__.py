"""What-if analysis: scenarios, comparisons, sweeps, Pareto frontiers and robustness.

- :class:`Scenario` — a named set of overrides on a base :class:`~placement.problem.Problem`
  (Python or TOML); :meth:`Scenario.apply` returns a new Problem.
- :func:`compare` — one tidy row per scenario, the base first.
- :func:`sweep` — the product of a grid of Problem arguments, serially, in local processes or on
  a Dask cluster, with the latency table computed once.
- :func:`pareto` / :func:`describe_steps` — the latency–cost frontier by the epsilon-constraint
  method, its knee, and the price of each step in words.
- :func:`robustness` — how the plan holds up when power prices and demand move.
"""

from placement.scenarios.compare import compare, result_row
from placement.scenarios.pareto import Frontier, describe_steps, knee_index, non_dominated, pareto
from placement.scenarios.robustness import Robustness, robustness
from placement.scenarios.scenario import DemandGrowth, NewSite, PriceRule, Scenario
from placement.scenarios.sweep import SweepResult, grid_points, sweep

__all__ = [
    "DemandGrowth",
    "Frontier",
    "NewSite",
    "PriceRule",
    "Robustness",
    "Scenario",
    "SweepResult",
    "compare",
    "describe_steps",
    "grid_points",
    "knee_index",
    "non_dominated",
    "pareto",
    "result_row",
    "robustness",
    "sweep",
]
