"""The weighted set-cover MIP: the cheapest open set that gives every demand point a site.

One HiGHS model for the two places that need it: the infeasibility diagnosis (how many sites,
or how much fixed cost, an SLA takes: :mod:`placement.diagnose`) and the budget solver's first
incumbents (:mod:`placement.formulations.budget`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from placement._highs import new_highs, run_until

__all__ = ["CoverResult", "cheapest_cover"]


@dataclass(frozen=True)
class CoverResult:
    """What :func:`cheapest_cover` found.

    Attributes
    ----------
    open_sites : numpy.ndarray or None
        Positions of the best open set found (None when none was found).
    bound : float
        A proven lower bound on the least cost (``inf`` when no such set exists, ``-inf`` when
        nothing was proven in the time).
    proven : bool
        True when ``open_sites`` is optimal (its cost equals ``bound``).
    """

    open_sites: np.ndarray | None
    bound: float
    proven: bool


def cheapest_cover(
    row_starts: np.ndarray,
    row_sites: np.ndarray,
    cost: np.ndarray,
    must_open: np.ndarray,
    forbidden: np.ndarray,
    *,
    min_count: int | None = None,
    max_count: int | None = None,
    deadline: float = math.inf,
) -> CoverResult:
    """Least ``Σ cost_j`` of an open set with a site of every row, must-open sites open.

    Parameters
    ----------
    row_starts, row_sites : numpy.ndarray
        The rows still to cover in compressed form: row ``r``'s allowed sites are
        ``row_sites[row_starts[r]:row_starts[r + 1]]``.
    cost : numpy.ndarray, shape (n_sites,)
        Cost of opening each site (ones to count sites).
    must_open, forbidden : numpy.ndarray of bool, shape (n_sites,)
        Sites fixed open and closed.
    min_count, max_count : int, optional
        Limits on the number of open sites.
    deadline : float
        ``time.perf_counter()`` value at which the search stops.
    """
    import highspy

    m = len(cost)
    h = new_highs()
    empty = np.zeros(0, np.int32)
    h.addCols(
        m,
        np.asarray(cost, dtype=float),
        np.asarray(must_open, dtype=float),
        (~np.asarray(forbidden, dtype=bool)).astype(float),
        0,
        empty,
        empty,
        np.zeros(0),
    )
    n_rows = len(row_starts)
    if n_rows:
        h.addRows(
            n_rows,
            np.ones(n_rows),
            np.full(n_rows, highspy.kHighsInf),
            len(row_sites),
            np.asarray(row_starts, dtype=np.int32),
            np.asarray(row_sites, dtype=np.int32),
            np.ones(len(row_sites)),
        )
    if min_count is not None or max_count is not None:
        h.addRows(
            1,
            np.array([-highspy.kHighsInf if min_count is None else float(min_count)]),
            np.array([highspy.kHighsInf if max_count is None else float(max_count)]),
            m,
            np.array([0], np.int32),
            np.arange(m, dtype=np.int32),
            np.ones(m),
        )
    h.changeColsIntegrality(
        m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger)
    )
    verdict = run_until(h, deadline)
    if verdict == "infeasible":
        return CoverResult(None, math.inf, False)
    info = h.getInfo()
    if not info.valid:  # stopped before it ran
        return CoverResult(None, -math.inf, False)
    bound = float(info.mip_dual_bound)
    if verdict == "optimal":
        bound = float(info.objective_function_value)
    bound = bound if math.isfinite(bound) else -math.inf
    if info.primal_solution_status != 2:  # no feasible point
        return CoverResult(None, bound, False)
    x = np.asarray(h.getSolution().col_value)
    return CoverResult(np.flatnonzero(x > 0.5), bound, verdict == "optimal")
