"""Cluster cost columns for the radius p-median master: per-cluster p-median lower bounds.

For a set ``K`` of demands and a set ``A`` of sites, every open set ``S`` serves ``K`` at a cost of
at least

    f(k) = min over T ⊆ A, |T| = k of  Σ_{i ∈ K} w_i · min(c(i, T), c(i, A^c)),   k = |S ∩ A|,

the best ``K`` can be served with ``k`` sites of ``A`` when every site outside ``A`` were open
(``c(i, A^c)`` may be replaced by anything smaller: :func:`cluster_bound` uses the smallest cost
from ``K`` to outside ``A`` for every demand, so that translated copies of a cluster share one
sub-problem). With any ``L(k) ≤ f(k)`` the master gets columns ``0 ≤ z_k ≤ 1`` and the rows

    Σ_k z_k = 1,    Σ_{j ∈ A} y_j = Σ_k k z_k,    Σ_{i ∈ K} w_i θ_i ≥ Σ_k L(k) z_k

(valid: at an integer point put ``z_k = 1`` at ``k = |S ∩ A|``; ``θ_i`` is at least ``i``'s
service cost there). The LP then prices the cluster at the lower convex hull of ``L`` at its
``Σ y``, and a fractional cluster sum can be branched on by closing the ``z`` of one side
(``Σ y ≤ k`` | ``≥ k + 1``), which splits the cluster's subproblem as single-site branching
does not. ``f(k)`` is a p-median itself: ``K`` x (``A`` + one extra site at the outside cost,
forced open) with ``k + 1`` sites, solved exactly by
:func:`placement.formulations.radius.solve_pmedian`; :func:`cluster_lower` has exact values near
the LP's cluster sum and the sub-problem's radius LP value ``v(k)`` elsewhere (``v`` is convex
in ``k``, the optimal value of an LP as a function of one right-hand side, and ``v ≤ f``).

The radius LP is weak on dense clusters: fl1400 p = 300 has four grid clusters of 221 points
that hold all but one of the root LP's fractional sites, each ≈ 4.3 below its integer cost (root
bound 6091.8, optimum 6109); with the columns the root bound is 6107.7.

Clusters (:func:`point_clusters`) are the connected components of the graph ``c(i, j) ≤ t`` on a
square, symmetric matrix whose demand ``i`` is site ``i`` (TSPLIB p-median instances), ``t`` the
median distance of a point to its nearest neighbour; ``K = A``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

#: Clusters smaller than this are not worth a sub-solve, larger ones cost too much.
MIN_CLUSTER = 8
MAX_CLUSTER = 400
#: LP values computed on each side of the exact window (see :func:`cluster_lower`).
_LP_WINDOW = 3


def point_clusters(cost: np.ndarray) -> list[np.ndarray]:
    """Clusters of a square, symmetric cost matrix whose point ``i`` is demand and site.

    The connected components of ``c(i, j) ≤ t`` (``t`` the median distance to a nearest
    neighbour) with ``MIN_CLUSTER`` to ``MAX_CLUSTER`` points; empty when the matrix is not
    square, not symmetric or has a non-zero diagonal, or when one component holds every point.
    """
    from scipy.sparse import csr_matrix  # here: the import costs 0.2 s, most solves need none
    from scipy.sparse.csgraph import connected_components

    n, m = cost.shape
    if n != m or n < 2 * MIN_CLUSTER:
        return []
    diag = np.diag(cost)
    if np.any(np.isfinite(diag) & (diag != 0)) or not np.array_equal(cost, cost.T):
        return []
    off = cost.copy()
    np.fill_diagonal(off, np.inf)
    nn = off.min(axis=1)
    nn = nn[np.isfinite(nn)]
    if len(nn) == 0:
        return []
    t = float(np.median(nn))
    n_comp, label = connected_components(csr_matrix(off <= t), directed=False)
    if n_comp < 2:
        return []
    size = np.bincount(label, minlength=n_comp)
    ok = np.flatnonzero((size >= MIN_CLUSTER) & (size <= MAX_CLUSTER))
    return [np.flatnonzero(label == c) for c in ok]


@dataclass
class ClusterBound:
    """Exact values ``f(k)`` and LP values ``v(k)`` of one cluster's sub-problem (cached)."""

    cost: np.ndarray  # K x (A + outside column)
    weights: np.ndarray
    exact: dict[int, float] = field(default_factory=dict)
    lp: dict[int, float] = field(default_factory=dict)
    threads: int | None = None
    #: an optimal choice of sites of A (positions among A) for each exact f(k)
    sets: dict[int, np.ndarray] = field(default_factory=dict)
    lp_solver: object = None
    sub_nodes: int = 0

    @property
    def n_sites(self) -> int:
        return self.cost.shape[1] - 1

    def f(self, k: int, deadline: float) -> float:
        """A lower bound on ``f(k)`` (exact unless the deadline stopped the sub-solve)."""
        if k not in self.exact:
            from placement.formulations.radius import solve_pmedian

            mo = np.zeros(self.cost.shape[1], dtype=bool)
            mo[-1] = True
            rem = deadline - time.perf_counter()
            if rem <= 0:
                return -math.inf
            sol = solve_pmedian(
                self.cost, self.weights, k + 1, must_open=mo, time_limit_s=rem, threads=self.threads
            )
            self.sub_nodes += sol.nodes
            if sol.status == "infeasible":
                val = math.inf
            elif math.isfinite(sol.best_bound):
                val = float(sol.best_bound)
            else:
                return -math.inf
            if sol.status != "optimal" and val < math.inf:
                return val  # not cached: a later call with more time may prove more
            self.exact[k] = val
            self.sets[k] = sol.open_sites[sol.open_sites < self.n_sites]
        return self.exact[k]

    def v(self, k: int, deadline: float) -> float:
        """The radius LP value of the sub-problem with ``k`` sites of ``A`` (``-inf`` if stopped)."""
        if k not in self.lp:
            from placement.formulations.radius import _Solver
            from placement.heuristics import prepare_inputs

            if self.lp_solver is None:
                mo = np.zeros(self.cost.shape[1], dtype=bool)
                mo[-1] = True
                inp = prepare_inputs(self.cost, self.weights, 1, mo, None)
                s = _Solver(inp, deadline, 1e-9, self.threads, False, False, time.perf_counter())
                s.ub, s.step = math.inf, 0.0
                s._build()
                s.nodes = 1
                self.lp_solver = s
            s = self.lp_solver
            s.deadline = deadline
            s.h.changeRowBounds(0, float(k + 1), float(k + 1))
            status, bound, _ = s._lp()
            if status == "time":
                return -math.inf
            self.lp[k] = bound if status == "optimal" else math.inf
        return self.lp[k]


def cluster_bound(
    cost: np.ndarray, weights: np.ndarray, members: np.ndarray, threads: int | None = None
) -> ClusterBound:
    """The sub-problem of cluster ``members`` (``K = A``) of a square cost matrix.

    ``threads`` must be the HiGHS threads of the calling solve (HiGHS shares one thread pool).
    """
    inside = np.zeros(cost.shape[1], dtype=bool)
    inside[members] = True
    rows = cost[members]
    if (~inside).any():
        # every demand's cost from outside lowered to the cluster's smallest one: a lower f, so
        # still a valid bound, and translated copies of a cluster share one sub-problem (cache)
        outside = np.full(len(members), rows[:, ~inside].min())
    else:
        outside = np.full(len(members), np.inf)
    sub = np.hstack([rows[:, members], outside[:, None]])
    return ClusterBound(
        cost=sub, weights=np.asarray(weights[members], dtype=float), threads=threads
    )


def cluster_lower(cb: ClusterBound, k0: int, deadline: float) -> np.ndarray | None:
    """Lower bounds ``L(k) ≤ f(k)`` for ``k = 0 … |A|`` (``inf`` where no choice serves ``K``).

    Exact at ``k0`` and ``k0 + 1``; the radius LP value ``v(k)`` at the ``_LP_WINDOW`` values of
    ``k`` on either side; beyond them the secant through the two outermost ``v`` values (below the
    convex ``v``, so below ``f``); then at least 0 and at least ``L`` of every larger ``k`` (``f``
    does not increase with ``k``). ``None`` when the deadline leaves no exact value.
    """
    m = cb.n_sites
    low = np.full(m + 1, -math.inf)
    ks = [k for k in (k0, k0 + 1) if 0 <= k <= m]
    for k in ks:
        low[k] = cb.f(k, deadline)
    if not np.isfinite(low[ks]).any() and not (low[ks] == math.inf).all():
        return None
    lo_k, hi_k = max(0, min(ks) - _LP_WINDOW), min(m, max(ks) + _LP_WINDOW)
    for k in range(lo_k, hi_k + 1):
        if k not in ks:
            low[k] = cb.v(k, deadline)
    # the tails: secant of the convex v through its two outermost values on each side
    for edge, inner, tail in (
        (lo_k, lo_k + 1, range(lo_k)),
        (hi_k, hi_k - 1, range(hi_k + 1, m + 1)),
    ):
        if len(tail) == 0 or edge in ks or inner in ks:
            continue
        ve, vi = cb.lp.get(edge, -math.inf), cb.lp.get(inner, -math.inf)
        if math.isfinite(ve) and math.isfinite(vi):
            for k in tail:
                low[k] = ve + (ve - vi) * abs(k - edge)
        elif ve == math.inf and edge == lo_k:
            low[:lo_k] = math.inf  # too few sites already at lo_k
    low = np.maximum(low, 0.0)
    return np.maximum.accumulate(low[::-1])[::-1]
