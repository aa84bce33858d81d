"""Fast exact p-median by Benders row generation on the radius formulation, solved with HiGHS.

Model
-----
For demand ``i`` let ``D_i^1 < D_i^2 < …`` be its sorted distinct allowed costs. The radius
formulation (Elloumi 2010, "A tighter formulation of the p-median problem", J. Comb. Optim.
19:69–83; García, Labbé & Marín 2011, "Solving large p-median problems with a radius
formulation", INFORMS J. Comput. 23:546–556) prices demand ``i`` with a continuous ``θ_i``.
Projecting out its cover variables gives, for every level ``D = D_i^k``, the valid inequality

    θ_i + Σ_{j : c_ij < D} (D − c_ij) · y_j  ≥  D                        (radius cut)

which is tight at every integer ``y`` whose nearest open site is at distance ``D``. The
master problem ``min Σ_i w_i θ_i`` s.t. ``Σ_j y_j = p``, the cuts, and
``Σ_{j : c_ij < ∞} y_j ≥ 1`` for demands with disallowed sites, has the LP bound of the full radius
formulation (Duran-Mateluna, Ales & Elloumi 2023, "An efficient Benders decomposition for the
p-median problem", EJOR 308:84–96). Cuts are generated instead of enumerated: for a fractional
``y`` the most violated level of demand ``i`` is the first one at which the cumulative open
fraction of closer sites reaches 1, which numpy finds for all demands at once from a per-demand
sort of the sites.

Algorithm
---------
1. Greedy heuristic (:func:`placement.heuristics.pmedian_heuristic`; with its swap search only
   under a time limit of at most ``_SWAP_LIMIT_S``, as the root rounding of step 2 does the
   swaps from a better start) → incumbent and upper bound; its tight cuts seed the master. With ``initial_open`` (a warm start, e.g. the
   optimum of a neighbouring sweep point) a second swap search starts from that set (completed
   greedily to ``p`` sites) and the better of the two local optima is the incumbent (the greedy
   one on a tie): the greedy one costs little next to the proof, and a warm start can end in a worse local optimum, whose
   weaker bound would slow the search. The warm start changes only the first incumbent, never
   the proof, so the optimum is the same (among several equal-cost optima another may be
   returned).
2. LP cutting-plane loop with warm-started dual simplex until no cut is violated (LP bound; on
   matrices of at least ``_PURGE_MIN_PAIRS`` pairs the loop drops its slack cuts whenever it
   holds more than ``_PURGE_CUTS`` per demand),
   then LP rounding + swaps at the root for a better incumbent (before the reduced-cost fixing,
   which a better incumbent strengthens).
3. Reduced-cost fixing (the LP bound plus a site's reduced cost above the incumbent proves the
   site closed or open in every improving solution); the fixings are inherited by the subtree.
   Where it leaves most sites free on a square symmetric matrix (demand ``i`` = site ``i``, as
   TSPLIB), cluster columns (:mod:`placement.formulations._clusters`): for each dense cluster of
   points with a fractional root ``y``, columns ``z_k`` that price the cluster at (a lower bound
   of) its own ``k``-median cost, computed exactly near the LP's count by a sub-solve; then a
   decomposition heuristic (each cluster's optimal sites + the largest ``y`` elsewhere, swaps).
   The columns are removed again if they close less than ``_CLUSTER_KEEP_SHARE`` of the root
   gap; if they close at least ``_CLUSTER_BRANCH_SHARE`` the tree branches on fractional
   cluster sums (``Σ_{j ∈ K} y_j ≤ k | ≥ k + 1``) before sites. fl1400 p = 300 (four grid
   clusters of 221 points): root bound 6091.8 -> 6107.7 (optimum 6109), proven in 198 nodes.
   Where the fixing leaves most sites free, a support sub-solve as well: the same branch and
   bound on the sites of the root LP's support (at most ``_SUPPORT_NODES`` nodes), whose better
   incumbent strengthens the fixing (pcb3038 p = 200: proven in 323 nodes, not in 150 CPU s
   without it).
4. Depth-first branch and bound with pseudo-cost branching (the site with the largest product
   of estimated down and up bound gains; the most fractional one until gains have been
   observed; reliability branching: strong branching on up to ``_SB_CANDIDATES`` candidates
   whose pseudo-costs are still unreliable, in trees whose root reduced-cost fixing left most
   sites free); the cuts not binding at the root are deleted first (their slacks are basic, so
   the basis stays valid); every node re-runs the cut loop and the reduced-cost fixing on the same HiGHS LP,
   so each node has the full radius LP bound. Cuts are globally valid and stay in the master.
   The "open" child is solved right after its parent; the "closed" child, solved after the
   whole "open" subtree, restarts from its parent's optimal basis (stored on the stack) rather
   than from the last leaf's. (Full strong branching was tried: 4–5× fewer nodes on pmed36 but
   each child LP costs as much as a node, so it was slower overall; restricted to unreliable
   candidates and without separation in the child LPs it halves fl1400 p = 200 but slows
   rl1304 p = 10.) (A single HiGHS MIP on the master was tried and was
   10–20× slower on small-p instances: without lazy-constraint callbacks its tree only sees the
   root's cuts. The compact radius model restricted by reduced-cost fixing was slower still.)

When the time limit stops the search, the bound reported is the smallest bound of the open
nodes (at least the root LP bound), so the gap is honest. LP statuses and values are read from
HiGHS itself (``getModelStatus``, ``getInfo``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

from placement._highs import new_highs
from placement.errors import InfeasibleError, SolverError, ValidationError
from placement.formulations._clusters import (
    ClusterBound,
    cluster_bound,
    cluster_lower,
    point_clusters,
)
from placement.formulations._gap import rel_gap
from placement.formulations._rows import unique_bool_rows
from placement.heuristics import (
    Inputs,
    assign_nearest,
    pmedian_heuristic,
    prepare_inputs,
    site_indices,
)

__all__ = ["ExactSolution", "RootRestart", "site_indices", "solve_pmedian"]

_MS = highspy.HighsModelStatus
#: Cut rounds of one node's LP before the loop is declared stuck (SolverError).
_MAX_CUT_ROUNDS = 100_000
_BASIC = int(highspy.HighsBasisStatus.kBasic)
#: Reliability branching (``_SB_CANDIDATES = 0`` turns it off): strong branching (each child
#: LP over the node's cuts, without separation, at most ``_SB_ITERATIONS`` dual simplex
#: iterations) on the ``_SB_CANDIDATES`` best pseudo-cost candidates whose pseudo-costs were
#: observed fewer than ``_RELIABLE`` times in a direction, while its simplex iterations stay below
#: ``_SB_SHARE`` of the node LPs'. Measured (weights 1/n, CPU s, benchmarks/results/
#: tsplib_reliability_20261130.txt) with 4 candidates: fl1400 p = 200 7,058 nodes / 48.0 (off)
#: -> 2,739 / 21.9-23.7, but rl1304 p = 10 67 / 6.7-7.0 -> 40 / 8.4 (vm1748 p = 10 4.6 -> 4.9,
#: fl1400 p = 100 0.73 -> 0.87): on, the 31 TSPLIB cases gain ~20 s on fl1400 p = 200 against
#: +1-2 s on the small trees, which ``_SB_FREE_SHARE`` now keeps out (starting it after 100
#: nodes instead loses the fl1400 gain: 6,237 / 50.2).
_SB_CANDIDATES = 4
_SB_ITERATIONS = 1000
_RELIABLE = 4
_NO_LIMIT = 2**31 - 1
_SB_SHARE = 0.5
#: Reliability branching runs only when the root's reduced-cost fixing leaves more than this
#: share of the (not user-fixed) sites free. Measured at the root (weights 1/n, root incumbent):
#: the large trees leave nearly all free (fl1400 p = 200 1,400 of 1,400, u1432 p = 50 1,426 of
#: 1,432, relative gap 4-6e-3), the small ones a third or less (rl1304 p = 10 406 of 1,304,
#: vm1748 p = 10 195 of 1,748, fl1400 p = 100 429 of 1,400, gap <= 1.3e-3), where strong
#: branching costs more than the nodes it saves.
_SB_FREE_SHARE = 0.5
#: Cluster cuts (``_Solver._cluster_round``): rounds of cuts + LP at the root, and the time of
#: their sub-solves (seconds without a time limit, else a share of the time left).
_CLUSTER_ROUNDS = 10
_CLUSTER_S = 60.0
_CLUSTER_SHARE = 0.3
#: ... and only where the root's reduced-cost fixing left more than this share of the movable
#: sites free (a large tree ahead; measured with the columns on every root with a fractional
#: cluster, 31 TSPLIB cases: 0.3-0.5 CPU s more on fl1400 p = 100 (429 of 1,400 free), u1432
#: p = 100 9 -> 29 nodes)
_CLUSTER_FREE_SHARE = 0.5
#: Branching on fractional cluster sums (before any site) only when the cluster columns closed at
#: least this share of the root gap (to the incumbent after the cluster heuristic): then the gap
#: left is the clusters' allocation. Measured (weights 1/n): fl1400 p = 300 closes 0.79 and is
#: proven in 198 nodes with it, not in 4,556 (400 s) without; fl1400 p = 200 closes 0.18 and
#: takes 1,878 nodes without it (2,993 with it, before the cluster heuristic).
_CLUSTER_BRANCH_SHARE = 0.5
#: The columns are removed again when they closed less than this share of the root gap (u1432
#: p = 200: one cluster, 0.000 closed, 8 -> 14 nodes with the columns kept).
_CLUSTER_KEEP_SHARE = 0.05
#: Support sub-solve (``_Solver._support_incumbent``): where the root leaves a large tree, the
#: p-median restricted to the sites with a positive root ``y`` (and the incumbent's) is solved
#: by the same branch and bound, stopped after ``_SUPPORT_NODES`` nodes (a count, not a clock:
#: the result does not depend on the load), when the support has at most ``_SUPPORT_SHARE`` of
#: the sites.
_SUPPORT_NODES = 200
_SUPPORT_SHARE = 0.5
#: ... and, under a time limit, at most this share of the time left
_SUPPORT_TIME_SHARE = 0.3
#: ... and only where the root's reduced-cost fixing left more than this share of the movable
#: sites free (as ``_CLUSTER_FREE_SHARE``: a large tree ahead)
_SUPPORT_FREE_SHARE = 0.5
#: The root's cut loop drops its non-binding cuts whenever it holds more than this many per
#: priced demand (or twice what the last purge left): pcb3038 p = 5 added 15,300 cuts (long
#: ones: small p, large radii) before its root LP was optimal; with this and the _Separator
#: without copies, solve_pmedian's peak 1.26 -> 0.95 GB, 15.5 -> 11.6 CPU s (one run each).
_PURGE_CUTS = 2
#: ... on matrices of at least this many priced pairs only (N >= 2,000 squared: the paper's
#: TSPLIB cases, N <= 1,748, and everything smaller keep their root LP path unchanged)
_PURGE_MIN_PAIRS = 4_000_000


@dataclass(frozen=True, repr=False)
class RootRestart:
    """A solved root LP — its binding radius cuts and optimal basis — to restart a similar solve.

    A radius cut ``θ_i + Σ_j max(0, D − c_ij) y_j ≥ D`` holds for every level ``D`` whatever
    ``p``, the fixings or the costs, so a later solve with the same demand rows and sites (the next
    point of a sweep over ``n_sites``, must-open or forbidden sites) may start its master from
    these cuts and this basis. After a change of ``p`` the basis stays dual feasible and the dual
    simplex needs a few pivots where a cold start runs the whole cut loop again. Only cuts whose
    slack was non-basic (binding) are kept: dropping a row with a basic slack leaves a valid
    basis, and the pool stays small. A restart never changes the optimum, only the time to prove
    it; one made on a problem of another shape is ignored.

    Attributes
    ----------
    n_demand, n_sites : int
        Shape of the cost matrix it was made on.
    n_priced : int
        Demand rows with positive weight (each has a ``θ`` column).
    n_base_rows : int
        Rows before the first cut (the site count and the coverage rows).
    demand : numpy.ndarray of int
        Demand row of each cut.
    level : numpy.ndarray of float
        Level ``D`` of each cut.
    col_status, row_status : numpy.ndarray of int
        HiGHS basis statuses of the columns and of the base rows followed by the cuts.
    """

    n_demand: int
    n_sites: int
    n_priced: int
    n_base_rows: int
    demand: np.ndarray
    level: np.ndarray
    col_status: np.ndarray
    row_status: np.ndarray

    def __repr__(self) -> str:
        return (
            f"RootRestart({len(self.demand)} cuts, "
            f"{self.n_demand} demand rows x {self.n_sites} sites)"
        )


@dataclass(frozen=True)
class ExactSolution:
    """Result of an exact solve.

    Attributes
    ----------
    open_sites : numpy.ndarray of int
        Sorted indices of the open sites (empty when there is no solution).
    assignment : numpy.ndarray of int, shape (n_demand,)
        Nearest open site of each demand (``-1`` when there is no solution).
    objective : float
        Objective of the returned solution (``inf`` when there is none).
    best_bound : float
        Proven lower bound on the optimum.
    gap : float
        ``(objective − best_bound) / max(|objective|, 1e-9)`` (0 when proven optimal, ``inf`` when
        there is no solution).
    status : str
        ``"optimal"``, ``"feasible"`` (stopped by the time limit with an incumbent),
        ``"infeasible"`` or ``"no_solution"``.
    build_s : float
        Seconds spent validating, sorting, running the heuristic and building the model.
    solve_s : float
        Seconds spent in the LP/MIP solves and cut separation.
    heuristic_objective : float
        Objective of the heuristic warm start.
    n_vars : int
        Columns of the final model.
    n_rows : int
        Rows of the final model.
    heuristic_s : float
        Seconds of the heuristic (included in ``build_s``).
    message : str
        Why the problem is infeasible, or how the solve stopped.
    warm_start_used : bool
        True when a given ``initial_open`` set led to the first incumbent (better than the
        greedy + swap one, or the only one when ``warm_start`` is False).
    nodes : int
        Branch-and-bound nodes whose LP was solved (1 when the root closed the gap; 0 for
        solvers without a search tree, such as the p-center bisection).
    restart : RootRestart or None
        The root LP's binding cuts and basis, to pass as ``restart=`` to a neighbouring solve
        (None when the root LP was not solved).
    restarted : bool
        True when this solve started from a given ``restart``.
    """

    open_sites: np.ndarray
    assignment: np.ndarray
    objective: float
    best_bound: float
    gap: float
    status: str
    build_s: float
    solve_s: float
    heuristic_objective: float
    n_vars: int
    n_rows: int
    heuristic_s: float = 0.0
    message: str = ""
    warm_start_used: bool = False
    nodes: int = 0
    restart: RootRestart | None = None
    restarted: bool = False


def infeasible_solution(n_demand: int, message: str, build_s: float) -> ExactSolution:
    """The :class:`ExactSolution` of a problem with no feasible choice of sites."""
    return ExactSolution(
        open_sites=np.zeros(0, dtype=np.int64),
        assignment=np.full(n_demand, -1, dtype=np.int64),
        objective=math.inf,
        best_bound=math.inf,
        gap=math.inf,
        status="infeasible",
        build_s=build_s,
        solve_s=0.0,
        heuristic_objective=math.inf,
        n_vars=0,
        n_rows=0,
        message=message,
    )


@dataclass(frozen=True)
class ExactStart:
    """The prologue of every exact solve on a cost matrix (:func:`exact_start`).

    Attributes
    ----------
    inp : Inputs or None
        The checked inputs (None when they already prove the problem infeasible).
    infeasible : ExactSolution or None
        The answer when they do (:func:`infeasible_solution`, the reason as its message).
    t0 : float
        ``time.perf_counter()`` when the solve started.
    deadline : float
        ``t0 + time_limit_s`` (``inf`` without a limit).
    """

    inp: Inputs | None
    infeasible: ExactSolution | None
    t0: float
    deadline: float


def exact_start(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike | None,
    p: int,
    must_open: npt.ArrayLike | None,
    forbidden: npt.ArrayLike | None,
    time_limit_s: float | None,
    t0: float | None = None,
) -> ExactStart:
    """The clock, the deadline and the checked inputs of an exact solve, or its infeasibility.

    Shared by :func:`solve_pmedian`, :func:`~placement.formulations.percentile.solve_pmedian_share`,
    :func:`~placement.formulations.center.solve_pcenter` and
    :func:`~placement.formulations.budget.solve_pmedian_budget`: ``prepare_inputs`` raises
    :class:`~placement.errors.InfeasibleError` for a simple reason (a demand point without an
    allowed site, too few sites), which is an answer, not an error; malformed inputs still raise
    :class:`~placement.errors.ValidationError`. ``t0`` is now unless given.
    """
    t0 = time.perf_counter() if t0 is None else t0
    deadline = math.inf if time_limit_s is None else t0 + float(time_limit_s)
    try:
        inp = prepare_inputs(cost, weights, p, must_open, forbidden)
    except InfeasibleError as exc:
        n_demand = int(np.shape(cost)[0]) if np.ndim(cost) == 2 else 0
        done = infeasible_solution(n_demand, str(exc), time.perf_counter() - t0)
        return ExactStart(None, done, t0, deadline)
    return ExactStart(inp, None, t0, deadline)


class _Separator:
    """Per-demand sorted sites and vectorised radius-cut separation."""

    def __init__(self, cost: np.ndarray, rows: np.ndarray) -> None:
        # no copy of the matrix when every demand is priced (TSPLIB N = 3,038: 74 MB each)
        every = len(rows) == cost.shape[0] and np.array_equal(rows, np.arange(len(rows)))
        c = cost if every else cost[rows]
        self.order = np.argsort(c, axis=1, kind="stable").astype(np.int32)
        ds = np.take_along_axis(c, self.order, axis=1)
        self.finite = np.isfinite(ds)
        # the sorted costs with 0 for a disallowed pair (ds) and with inf (ds_inf): one array
        # when every pair is allowed
        self.ds = ds if self.finite.all() else np.where(self.finite, ds, 0.0)
        self.ds_inf = ds
        self.n_fin = self.finite.sum(axis=1)

    def levels(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Most violated cut of every demand at ``y``.

        Only the support of ``y`` matters: the open fraction within distance ``< D`` changes only at
        distances of support sites, so the cut level is the distance of the support site at which
        the cumulative fraction reaches 1 (the last level still short of one open site), or the
        largest allowed distance when it never does.

        Returns
        -------
        d : numpy.ndarray
            The level.
        value : numpy.ndarray
            The cut's right-hand side evaluated at ``y`` (θ must be at least this).
        """
        n, m = self.ds.shape
        d_max = self.ds[np.arange(n), self.n_fin - 1]
        ys = np.where(y > 1e-12, y, 0.0)
        d, value = d_max.copy(), d_max.copy()
        if not ys.any():
            return d, value
        # the cumulative open fraction along each demand's presorted sites, over a prefix of
        # them that doubles (x4) for the demands it does not reach 1 in: near a cut's level
        # the prefix is short (an n x m cumsum per LP was half the time of a node at p = 200)
        rows = np.arange(n)
        width = min(m, 64)
        while len(rows):
            yy = ys[self.order[rows, :width]]
            fin = self.finite[rows, :width]
            cum = np.cumsum(yy, axis=1)
            reach = (cum >= 1.0 - 1e-9) & fin
            hit = reach.any(axis=1)
            done = hit | (width >= m)
            r, k = rows[done], np.argmax(reach[done], axis=1)
            level = np.where(hit[done], self.ds[r, k], d_max[r])
            # the cut at level D: D - sum of (D - c) y over the sites closer than D (all of them
            # within the prefix: the sorted costs before the first reach)
            ds = self.ds[r, :width]
            gap = np.where(fin[done] & (ds < level[:, None]), level[:, None] - ds, 0.0)
            d[r] = level
            value[r] = level - (gap * yy[done]).sum(axis=1)
            rows = rows[~done]
            width = min(m, 4 * width)
        return d, value

    def rows(
        self, sel: np.ndarray, level: np.ndarray, theta_col: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """CSR arrays (starts, indices, values, lower) of the cuts of demands ``sel`` at ``level``.

        ``level[k]`` is the level of the cut of demand ``sel[k]`` (a demand may appear twice).
        """
        gs = (self.ds_inf[sel] < level[:, None]).sum(axis=1)
        width = int(gs.max(initial=0))
        mask = np.arange(width)[None, :] < gs[:, None]
        idx = self.order[sel, :width]
        val = level[:, None] - self.ds[sel, :width]
        counts = gs + 1
        starts = np.zeros(len(sel), dtype=np.int32)
        np.cumsum(counts[:-1], out=starts[1:])
        nnz = int(counts.sum())
        indices = np.empty(nnz, dtype=np.int32)
        values = np.empty(nnz)
        pos_theta = starts
        body = np.ones(nnz, dtype=bool)
        body[pos_theta] = False
        indices[pos_theta] = theta_col[sel]
        values[pos_theta] = 1.0
        indices[body] = idx[mask]
        values[body] = val[mask]
        return starts, indices, values, level.astype(float)


def solve_pmedian(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike | None,
    p: int,
    *,
    must_open: npt.ArrayLike | None = None,
    forbidden: npt.ArrayLike | None = None,
    time_limit_s: float | None = None,
    gap_rel: float = 1e-9,
    threads: int | None = None,
    verbose: bool = False,
    warm_start: bool = True,
    initial_open: npt.ArrayLike | None = None,
    restart: RootRestart | None = None,
    progress: Callable[..., None] | None = None,
) -> ExactSolution:
    """Solve the (weighted) p-median problem to proven optimality.

    Parameters
    ----------
    cost : array_like, shape (n_demand, n_sites)
        Cost of serving each demand from each site; ``np.inf`` for a pair that is not allowed.
    weights : array_like, shape (n_demand,), optional
        Non-negative demand weights (ones when ``None``).
    p : int
        Number of sites to open (exactly).
    must_open, forbidden : array_like, optional
        Boolean masks of shape ``(n_sites,)`` or arrays of site indices.
    time_limit_s : float, optional
        Wall-clock limit for the whole solve; when it stops the proof the best solution is
        returned with status ``"feasible"`` and its gap.
    gap_rel : float
        Relative gap at which a solution counts as optimal.
    threads : int, optional
        HiGHS threads (HiGHS default when ``None``).
    verbose : bool
        Print HiGHS logs and the cut loop's progress.
    warm_start : bool
        Use the greedy + swap heuristic as incumbent, seed cuts and for reduced-cost fixing.
    initial_open : array_like of int, optional
        Site indices of a known solution (e.g. the previous point of a sweep) to start a swap
        search from (in addition to the greedy + swap one when ``warm_start``, the better
        incumbent wins): forbidden sites are dropped, must-open ones added, a set of more than
        ``p`` sites is cut to ``p`` in the given order and a smaller one completed greedily. The
        optimum is unchanged; only the time to reach it (and, among several equal-cost optima,
        which one is returned) may differ.
    restart : RootRestart, optional
        :attr:`ExactSolution.restart` of an earlier solve on a cost matrix of the same shape
        (typically the neighbouring point of a sweep over ``p`` or over fixed sites): the root LP
        starts from its cuts and basis instead of the heuristic's cuts. Measured on the world
        instance (3,039 cities x 169 regions, ``p`` 7..14), 2-3x less time per point solved at
        the root. It never changes the optimum; a restart from a problem of another shape is
        ignored (``ExactSolution.restarted`` says whether it was used).
    progress : callable, optional
        A :class:`placement.progress.Reporter` (or any ``f(incumbent, bound, message)``) called
        as the branch and bound goes, with the incumbent and the proven bound.

    Returns
    -------
    ExactSolution

    Raises
    ------
    placement.errors.ValidationError
        For malformed inputs.
    placement.errors.SolverError
        If HiGHS fails.
    """
    ready = exact_start(cost, weights, p, must_open, forbidden, time_limit_s)
    if ready.inp is None:
        return ready.infeasible
    inp, t0, deadline = ready.inp, ready.t0, ready.deadline
    initial = site_indices(initial_open, inp.n_sites, "initial_open")
    if restart is not None and not isinstance(restart, RootRestart):
        raise ValidationError(
            "must be the RootRestart of an earlier solve (ExactSolution.restart)",
            table="parameter",
            field="restart",
            value=type(restart).__name__,
        )
    solver = _Solver(inp, deadline, gap_rel, threads, verbose, warm_start, t0, initial, restart)
    solver.progress = progress
    return solver.run()


_Node = tuple[float, np.ndarray, np.ndarray, Any, "tuple[int, int, float] | None"]

#: Smallest objective step worth using (below it the 1e-6 pruning tolerance would swallow it).
_MIN_STEP = 1e-5

#: With more time than this (or none given) the first incumbent is the greedy one without its swap
#: search: the root LP's rounding starts a swap search much nearer a local optimum (measured on
#: TSPLIB N = 1,304-1,748, p = 100-500: the greedy's swaps cost 0.5-5 s, 1.5-2x the whole
#: solve without them). A short limit keeps the swaps: the LP may not finish in time.
_SWAP_LIMIT_S = 10.0


def objective_step(cost: np.ndarray, weights: np.ndarray) -> float:
    """Spacing of a lattice every objective value lies on (0.0 when none is found).

    With integer weighted costs every solution's objective is an integer (step 1), so a node
    whose bound exceeds ``incumbent - 1`` holds nothing better. The same holds one scale down
    for integer costs and weights that are integer multiples of one value ``s`` (unit weights
    divided by their total, as :class:`~placement.formulations.registry.FastMedian` passes
    them: ``s = 1 / n``): every objective is a multiple of ``s``. Without it the search must
    close the gap to ``gap_rel`` (measured: u1432 p = 500 with weights ``1 / n``, 226 nodes and
    60 s unproven where the step ``1 / n`` proves it at the root in 0.6 s).
    """
    fin = np.isfinite(cost)
    c = np.where(fin, cost, 0.0)
    wc = c * weights[:, None]
    if bool(np.all(np.abs(wc - np.round(wc)) < 1e-9)):
        return 1.0
    if not bool(np.all(np.abs(c - np.round(c)) < 1e-9)):
        return 0.0
    pos = weights[weights > 0]
    if len(pos) == 0:
        return 0.0
    ratio = pos / pos.min()
    for q in range(1, 101):  # weights k_i * s with integer k_i: s = w_min / q
        r = ratio * q
        if bool(np.all(np.abs(r - np.round(r)) < 1e-9 * np.maximum(1.0, r))):
            step = float(pos.min()) / q
            return step if step >= _MIN_STEP else 0.0
    return 0.0


class _PseudoCosts:
    """Bound gain per unit change of ``y_j``, down (index 0) and up (1), observed at the children.

    Branching on the largest product of the estimated down and up gains (the usual pseudo-cost
    product score) instead of the most fractional site: measured on pmed1-40, 19.7 -> 19.0 s in
    total, pmed36 9.0 -> 8.1 s. Sites not yet branched on take the mean of the observed ones.
    """

    def __init__(self, n_sites: int) -> None:
        self.total = np.zeros((2, n_sites))
        self.count = np.zeros((2, n_sites))

    def observe(self, site: int, up: int, change: float, gain: float) -> None:
        self.total[up, site] += max(gain, 0.0) / max(change, 1e-6)
        self.count[up, site] += 1

    def choose(self, y: np.ndarray, fractional: np.ndarray) -> int:
        """Site to branch on among the ``fractional`` ones."""
        frac = np.abs(y - np.round(y))
        if not self.count.any():
            return int(np.argmax(np.where(fractional, frac, -1.0)))
        mean = self.total.sum(axis=1) / np.maximum(self.count.sum(axis=1), 1.0)
        per_unit = np.where(self.count > 0, self.total / np.maximum(self.count, 1.0), mean[:, None])
        down = np.maximum(per_unit[0] * y, 1e-6)
        up = np.maximum(per_unit[1] * (1.0 - y), 1e-6)
        return int(np.argmax(np.where(fractional, down * up, -1.0)))

    def scores(self, y: np.ndarray) -> np.ndarray:
        """Score of every site as :meth:`choose` ranks them (the fractionality before any gain)."""
        if not self.count.any():
            return np.abs(y - np.round(y))
        mean = self.total.sum(axis=1) / np.maximum(self.count.sum(axis=1), 1.0)
        per_unit = np.where(self.count > 0, self.total / np.maximum(self.count, 1.0), mean[:, None])
        down = np.maximum(per_unit[0] * y, 1e-6)
        up = np.maximum(per_unit[1] * (1.0 - y), 1e-6)
        return down * up

    def unreliable(self) -> np.ndarray:
        """Sites observed fewer than ``_RELIABLE`` times in either direction."""
        return self.count.min(axis=0) < _RELIABLE


class _Infeasible(Exception):
    """The master LP is infeasible (at the root: the instance is infeasible)."""


class _Solver:
    """Benders row generation + reduced-cost fixing + depth-first branch and bound."""

    #: strong branching needs more than this share of the movable sites free after the root's
    #: reduced-cost fixing (``_SB_FREE_SHARE``; a subclass may set its own)
    sb_free_share: float = _SB_FREE_SHARE
    #: cluster cuts at the root (:mod:`placement.formulations._clusters`); they need the master's
    #: columns to be the sites and the ``θ`` only, so a subclass with more columns has none
    cluster_cuts: bool = True
    #: branch on a fractional cluster sum before any site (see ``_cluster_split``)
    cluster_branching: bool = True
    #: the support sub-solve at a root that leaves a large tree (``_support_incumbent``)
    support_heuristic: bool = True
    #: stop after this many nodes (``None``: only the time limit stops the search)
    node_limit: int | None = None

    def __init__(
        self,
        inp: Inputs,
        deadline: float,
        gap_rel: float,
        threads: int | None,
        verbose: bool,
        warm_start: bool,
        t0: float,
        initial: np.ndarray | None = None,
        restart: RootRestart | None = None,
    ) -> None:
        self.inp = inp
        self.initial = initial
        self.restart = restart
        self.start_basis: Any = None
        self.root_restart: RootRestart | None = None
        # every cut added so far, in row order: position among the priced demands, level
        self.cut_pos: list[np.ndarray] = []
        self.cut_level: list[np.ndarray] = []
        self.deadline = deadline
        self.gap_rel = gap_rel
        self.threads = threads
        self.verbose = verbose
        self.warm_start = warm_start
        self.t0 = t0
        self.nodes = 0
        self.root_partial = -math.inf
        # a lower bound on every region pruned or fixed away against the threshold so far
        self.pruned_floor = math.inf
        self.progress: Callable[..., None] | None = None
        self.lp_iterations = 0  # simplex iterations of the node LPs (cut loops)
        self.sb_iterations = 0  # of the strong-branching child LPs
        self.sb_on = _SB_CANDIDATES > 0  # decided at the root (see _SB_FREE_SHARE)
        # cluster z columns (see _cluster_round): (columns, k of each, sub-problem, cost row, L)
        self.zcols: list[tuple[np.ndarray, np.ndarray, ClusterBound, int, np.ndarray]] = []
        self.branch_clusters = False  # decided at the root (see _CLUSTER_BRANCH_SHARE)
        self.purge_at = 0  # cut rows above which the root's cut loop drops slack ones (_build)

    # ------------------------------------------------------------------ helpers
    def _log(self, msg: str) -> None:
        if self.verbose:
            print(f"[radius {time.perf_counter() - self.t0:7.2f}s] {msg}", flush=True)

    def _remaining(self) -> float:
        return self.deadline - time.perf_counter()

    def _true_cost(self, y: np.ndarray) -> tuple[np.ndarray, float]:
        open_sites = np.flatnonzero(y > 0.5)
        assignment = assign_nearest(self.inp.cost, open_sites)
        if (assignment < 0).any():
            return open_sites, math.inf
        d = self.inp.cost[np.arange(self.inp.n_demand), assignment]
        return open_sites, float(np.dot(self.inp.weights, d))

    def _threshold(self) -> float:
        """Bound above which a node cannot hold a solution better than the incumbent."""
        if not math.isfinite(self.ub):
            return math.inf
        return self.ub - max(self.step, self.gap_rel * abs(self.ub)) + 1e-6

    def _pruned(self) -> None:
        """Record that a region was cut off against the current threshold.

        With integer costs (``step`` 1) and a gap below one unit the region holds nothing
        better than the incumbent; with a looser ``gap_rel`` it may hold solutions up to
        ``gap_rel`` better, and the reported bound must say so.
        """
        slack = self.gap_rel * abs(self.ub)
        # every region cut off had a bound of at least the threshold, ub - slack + 1e-6
        floor = self.ub if slack <= self.step else min(self.ub, self._threshold())
        self.pruned_floor = min(self.pruned_floor, floor)

    # ------------------------------------------------------------------ master LP
    def _build(self) -> None:
        inp = self.inp
        n_s = inp.n_sites
        self.priced = np.flatnonzero(inp.weights > 0)
        self.sep = _Separator(inp.cost, self.priced)
        self.n_t = len(self.priced)
        n_t = self.n_t
        self.theta_col = n_s + np.arange(n_t, dtype=np.int32)
        h = new_highs() if self.threads is None else new_highs(threads=int(self.threads))
        self.h = h
        col_cost = np.concatenate([np.zeros(n_s), inp.weights[self.priced]])
        col_lb = np.concatenate([inp.must_open.astype(float), self.sep.ds[:, 0]])
        col_ub = np.concatenate([(~inp.forbidden).astype(float), np.full(n_t, highspy.kHighsInf)])
        empty_i = np.zeros(0, np.int32)
        h.addCols(n_s + n_t, col_cost, col_lb, col_ub, 0, empty_i, empty_i, np.zeros(0))
        p = float(inp.p)
        h.addRows(
            1,
            np.array([p]),
            np.array([p]),
            n_s,
            np.array([0], np.int32),
            np.arange(n_s, dtype=np.int32),
            np.ones(n_s),
        )
        # coverage rows for demands with disallowed sites (identical rows merged)
        fin = np.isfinite(inp.cost)
        partial = ~fin[:, ~inp.forbidden].all(axis=1)
        if partial.any():
            masks = unique_bool_rows(fin[partial])
            nz = masks.sum(axis=1)
            starts = np.zeros(len(masks), np.int32)
            np.cumsum(nz[:-1], out=starts[1:])
            idx = np.nonzero(masks)[1].astype(np.int32)
            h.addRows(
                len(masks),
                np.ones(len(masks)),
                np.full(len(masks), highspy.kHighsInf),
                int(nz.sum()),
                starts,
                idx,
                np.ones(len(idx)),
            )
        self.n_base_rows = h.getNumRow()
        big = self.n_t * n_s >= _PURGE_MIN_PAIRS
        self.purge_at = _PURGE_CUTS * self.n_t if big else _NO_LIMIT
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("presolve", "off")

    def _add_cuts(self, sel: np.ndarray, level: np.ndarray) -> None:
        """Add the cuts of demands ``sel`` (positions among the priced ones) at ``level``."""
        if len(sel) == 0:
            return
        self.cut_pos.append(sel)
        self.cut_level.append(np.asarray(level, dtype=float))
        starts, indices, values, lower = self.sep.rows(sel, level, self.theta_col)
        self.h.addRows(
            len(sel),
            lower,
            np.full(len(sel), highspy.kHighsInf),
            len(indices),
            starts,
            indices,
            values,
        )

    def _lp(self) -> tuple[str, float, np.ndarray]:
        """Cut loop at the current bounds: ("optimal"|"infeasible"|"time", bound, y)."""
        h = self.h
        n_s = self.inp.n_sites
        for _ in range(_MAX_CUT_ROUNDS):
            rem = self._remaining()
            if rem <= 0:
                return "time", -math.inf, np.zeros(n_s)
            # HiGHS measures time_limit against its cumulative run time
            h.setOptionValue("time_limit", h.getRunTime() + max(rem, 1e-3))
            h.run()
            self.lp_iterations += int(h.getInfo().simplex_iteration_count)
            ms = h.getModelStatus()
            if ms == _MS.kInfeasible:
                return "infeasible", math.inf, np.zeros(n_s)
            if ms == _MS.kTimeLimit:
                return "time", -math.inf, np.zeros(n_s)
            if ms != _MS.kOptimal:
                raise SolverError(f"HiGHS LP status {h.modelStatusToString(ms)}")
            x = np.asarray(h.getSolution().col_value)
            bound = float(h.getInfo().objective_function_value)
            if self.nodes == 1:  # any LP of the root cut loop bounds the whole problem
                self.root_partial = max(self.root_partial, bound)
            y = x[:n_s]
            if bound >= self._threshold():
                return "optimal", bound, y  # pruned anyway; cuts would not change that
            d, val = self.sep.levels(y)
            sel = np.flatnonzero(val - x[n_s : n_s + self.n_t] > 1e-6 * np.maximum(1.0, d))
            if len(sel) == 0:
                return "optimal", bound, y
            if self.nodes == 1 and h.getNumRow() - self.n_base_rows > self.purge_at:
                # the root's cut loop keeps at most about _PURGE_CUTS cuts per priced demand:
                # the non-binding ones leave before more are added (they come back if violated)
                self._drop_slack_cuts()
                self.purge_at = max(self.purge_at, 2 * (h.getNumRow() - self.n_base_rows))
            self._add_cuts(sel, d[sel])
        # every round adds at least one violated cut of finitely many: a loop this long means
        # numerical trouble (the PuLP model answers instead)
        raise SolverError(f"cut loop did not converge in {_MAX_CUT_ROUNDS} rounds")

    def _restart_from(self, r: RootRestart | None) -> bool:
        """Add a restart's cuts and keep its basis for the root (False when it does not fit)."""
        if r is None:
            return False
        fits = (
            (r.n_demand, r.n_sites, r.n_priced, r.n_base_rows)
            == (self.inp.n_demand, self.inp.n_sites, self.n_t, self.n_base_rows)
            and len(r.level) == len(r.demand)
            and len(r.col_status) == self.inp.n_sites + self.n_t
            and len(r.row_status) == self.n_base_rows + len(r.demand)
            and (len(r.demand) == 0 or 0 <= r.demand.min() <= r.demand.max() < self.inp.n_demand)
        )
        pos = np.full(self.inp.n_demand, -1, dtype=np.int64)
        pos[self.priced] = np.arange(self.n_t)
        if not fits or (pos[r.demand] < 0).any():
            self._log("restart ignored: made on a problem of another shape")
            return False
        self._add_cuts(pos[r.demand], r.level)
        basis = highspy.HighsBasis()
        basis.col_status = [highspy.HighsBasisStatus(int(v)) for v in r.col_status]
        basis.row_status = [highspy.HighsBasisStatus(int(v)) for v in r.row_status]
        basis.valid = True
        self.start_basis = basis
        self._log(f"restart: {len(r.demand)} cuts and the root basis")
        return True

    def _keep_root(self) -> None:
        """Binding cuts and basis of the root LP just solved, as a :class:`RootRestart`."""
        b = self.h.getBasis()
        cols = np.fromiter((int(v) for v in b.col_status), dtype=np.int8)
        rows = np.fromiter((int(v) for v in b.row_status), dtype=np.int8)
        f = self.n_base_rows
        binding = rows[f:] != _BASIC
        pos = np.concatenate(self.cut_pos) if self.cut_pos else np.zeros(0, np.int64)
        level = np.concatenate(self.cut_level) if self.cut_level else np.zeros(0)
        self.root_restart = RootRestart(
            n_demand=self.inp.n_demand,
            n_sites=self.inp.n_sites,
            n_priced=self.n_t,
            n_base_rows=f,
            demand=self.priced[pos[binding]].astype(np.int64),
            level=level[binding],
            col_status=cols,
            row_status=np.concatenate([rows[:f], rows[f:][binding]]),
        )

    def _drop_slack_cuts(self) -> None:
        """Delete the cuts whose slack is basic (not binding) at the LP just solved."""
        b = self.h.getBasis()
        rows = np.fromiter((int(v) for v in b.row_status), dtype=np.int8)
        f = self.n_base_rows
        slack = rows[f:] == _BASIC
        if not slack.any():
            return
        idx = (np.flatnonzero(slack) + f).astype(np.int32)
        self.h.deleteRows(len(idx), idx)
        pos = np.concatenate(self.cut_pos)
        level = np.concatenate(self.cut_level)
        self.cut_pos, self.cut_level = [pos[~slack]], [level[~slack]]
        self._log(f"dropped {len(idx)} slack cuts, {self.h.getNumRow()} rows left")

    def _set_bounds(self, lo: np.ndarray, hi: np.ndarray) -> None:
        n_s = self.inp.n_sites
        self.h.changeColsBounds(n_s, np.arange(n_s, dtype=np.int32), lo[:n_s], hi[:n_s])
        if len(lo) > n_s:  # the cluster z columns follow the θ columns
            n_z = len(lo) - n_s
            z0 = n_s + self.n_t
            self.h.changeColsBounds(
                n_z, np.arange(z0, z0 + n_z, dtype=np.int32), lo[n_s:], hi[n_s:]
            )

    def _cluster_incumbent(self, y: np.ndarray, members_of: list[np.ndarray]) -> None:
        """Decomposition heuristic: each cluster's optimal sites at its LP count, the rest by ``y``.

        Every cluster with columns gets the optimal sites of its sub-problem (``ClusterBound.sets``)
        for the ``k`` of its largest ``z``; the remaining sites are the largest ``y`` outside the
        clusters (must-open ones first); a swap search from there. Measured on fl1400 p = 300:
        6112 at once (root rounding 6214), the tree then finds the optimum 6109 at node 191;
        with the columns but neither this nor cluster-sum branching the tree stopped at 6124
        after 18,375 nodes (600 s).
        """
        x = np.asarray(self.h.getSolution().col_value)
        start: list[np.ndarray] = []
        taken = np.zeros(self.inp.n_sites, dtype=bool)
        for (zc, ks, cb, _row, _low), members in zip(self.zcols, members_of, strict=True):
            k = int(ks[int(np.argmax(x[zc]))])
            if k not in cb.sets:
                return
            start.append(members[cb.sets[k]])
            taken[members] = True
        chosen = np.concatenate(start) if start else np.zeros(0, dtype=np.int64)
        if len(chosen) > self.inp.p:
            return
        score = np.where(taken | self.inp.forbidden, -np.inf, y + 2.0 * self.inp.must_open)
        rest = np.argsort(-score, kind="stable")[: self.inp.p - len(chosen)]
        sol = pmedian_heuristic(
            self.inp, initial=np.concatenate([chosen, rest]), deadline=self.deadline
        )
        if sol.objective < self.ub:
            self._log(f"cluster heuristic: incumbent {self.ub} -> {sol.objective}")
            self.ub, self.best_open = sol.objective, sol.open_sites

    def _cluster_split(self, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Positions in ``hi`` of the z to close in each child of a cluster-sum branching.

        The cluster whose sum ``s = Σ_k k z_k`` is the most fractional (None when every sum is
        integral): the "≤ floor(s)" child closes the z of larger k, the other one the rest.
        """
        if not self.zcols:
            return None
        x = np.asarray(self.h.getSolution().col_value)
        best, best_frac = None, 1e-6
        z0 = self.n_t  # position of a z column in lo/hi: column - n_t
        for zc, ks, *_ in self.zcols:
            s = float(np.dot(x[zc], ks))
            frac = abs(s - round(s))
            if frac > best_frac:
                k = math.floor(s)
                best, best_frac = (zc[ks > k] - z0, zc[ks <= k] - z0), frac
        return best

    def _set_basis(self, basis: Any) -> None:
        """Start the next LP from ``basis``; cuts added since it was taken enter as basic slacks."""
        n_rows = self.h.getNumRow()
        rows = list(basis.row_status)
        if len(rows) < n_rows:
            rows.extend([highspy.HighsBasisStatus.kBasic] * (n_rows - len(rows)))
            basis.row_status = rows
        self.h.setBasis(basis)

    def _rc_fix(self, bound: float, lo: np.ndarray, hi: np.ndarray) -> int:
        """Reduced-cost fixing at the current LP optimum; edits lo/hi in place."""
        thr = self._threshold()
        if not math.isfinite(thr):
            return 0
        n_s = self.inp.n_sites
        sol = self.h.getSolution()
        rc = np.asarray(sol.col_dual)[:n_s]
        lo, hi = lo[:n_s], hi[:n_s]  # views: the sites only
        close = (hi > 0.5) & (lo < 0.5) & (bound + rc > thr)
        open_ = (hi > 0.5) & (lo < 0.5) & (bound - rc > thr)
        hi[close] = 0.0
        lo[open_] = 1.0
        return int(close.sum() + open_.sum())

    def _round(self, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """LP rounding: open the p largest ``y`` (fixed sites respected), then swap search."""
        score = np.where(hi > 0.5, y, -1.0) + 2.0 * lo
        start = np.argsort(-score, kind="stable")[: self.inp.p]
        sol = pmedian_heuristic(self.inp, initial=start, deadline=self.deadline)
        if sol.objective < self.ub:
            self._log(f"root rounding: incumbent {self.ub} -> {sol.objective}")
            self.ub, self.best_open = sol.objective, sol.open_sites

    def _support_incumbent(self, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Support sub-solve: the p-median over the sites of the root LP's support.

        The sites with a positive root ``y`` (or open in the incumbent, or fixed open) among those
        still allowed; when they are at most ``_SUPPORT_SHARE`` of the sites (and the master
        has only the sites, the θ and cluster columns: not in a subclass that adds constraints
        of its own, such as the percentile share row), the problem
        restricted to them (every demand, the same weights) is solved by this branch and bound
        (no sub-solve of its own) from the incumbent, stopped after ``_SUPPORT_NODES`` nodes (and,
        under a time limit, after ``_SUPPORT_TIME_SHARE`` of the time left). Any
        set of ``p`` support sites is a solution of the whole problem, so its optimum only bounds
        the incumbent: it never changes the proof. Measured on pcb3038 p = 200 (weights 1/n): root
        rounding 237,934, root bound 237,328 with no site fixed; the sub-solve over 400 support
        sites gives 237,459 (200 nodes, 15 s wall at load 6), the reduced-cost fixing then closes
        263 sites and the tree proves 237,399 in 323 nodes, 36.5 CPU s (not proven in 150 CPU s
        before).
        """
        inp = self.inp
        n_s = inp.n_sites
        n_z = sum(len(z[0]) for z in self.zcols)
        if self.h.getNumCol() != n_s + self.n_t + n_z:
            return  # a subclass's master with columns of its own (constraints the sub-solve lacks)
        sup = ((y[:n_s] > 1e-6) | (lo[:n_s] > 0.5)) & (hi[:n_s] > 0.5)
        sup[self.best_open] = True
        sup &= ~inp.forbidden
        sites = np.flatnonzero(sup)
        if len(sites) <= inp.p or len(sites) > _SUPPORT_SHARE * n_s:
            return
        t_s0 = time.perf_counter()
        cost = inp.cost[:, sites]
        if not np.isfinite(cost).any(axis=1).all():
            return
        pos = np.full(n_s, -1, dtype=np.int64)
        pos[sites] = np.arange(len(sites))
        sub_inp = Inputs(
            cost=cost,
            weights=inp.weights,
            p=inp.p,
            must_open=inp.must_open[sites] | (lo[sites] > 0.5),
            forbidden=np.zeros(len(sites), dtype=bool),
        )
        initial = pos[self.best_open]
        rem = self._remaining()
        # under a time limit the sub-solve gets a share of the time left (none: the node count)
        sub_deadline = self.deadline if math.isinf(rem) else t_s0 + _SUPPORT_TIME_SHARE * rem
        sub = _Solver(
            sub_inp,
            sub_deadline,
            self.gap_rel,
            self.threads,
            False,
            True,
            t_s0,
            initial[initial >= 0],
        )
        sub.support_heuristic = False
        sub.node_limit = _SUPPORT_NODES
        res = sub.run()
        self._log(
            f"support sub-solve: {len(sites)} sites, {res.status} {res.objective} "
            f"({res.nodes} nodes, {time.perf_counter() - t_s0:.2f}s)"
        )
        if res.objective < self.ub - 1e-9 * max(1.0, abs(self.ub)):  # not a rounding-level tie
            self._log(f"support sub-solve: incumbent {self.ub} -> {res.objective}")
            self.ub, self.best_open = float(res.objective), sites[res.open_sites]

    def _cluster_round(
        self, status: str, bound: float, y: np.ndarray
    ) -> tuple[str, float, np.ndarray]:
        """Cluster cost columns at the root LP optimum (:mod:`placement.formulations._clusters`).

        For every cluster whose root ``y`` is fractional: columns ``z_k`` (``k = 0 … |A|``,
        ``Σ_k z_k = 1``, ``Σ_{j ∈ A} y_j = Σ_k k z_k``) and the row
        ``Σ_{i ∈ K} w_i θ_i ≥ Σ_k L(k) z_k`` with ``L(k) ≤ f(k)`` (exact near the LP's cluster sum,
        computed as the LP moves, up to ``_CLUSTER_ROUNDS`` rounds). Returns the LP's (status,
        bound, y) after them (unchanged when there are none); ``self.zcols`` holds each cluster's
        ``z`` columns for the branching on cluster sums.
        """
        n_s, n_t = self.inp.n_sites, self.n_t
        if not self.cluster_cuts or self.h.getNumCol() != n_s + n_t:
            return status, bound, y
        clusters = [
            c for c in point_clusters(self.inp.cost) if np.abs(y[c] - np.round(y[c])).max() > 1e-6
        ]
        if not clusters:
            return status, bound, y
        t_c0 = time.perf_counter()
        bound0 = bound
        rem = self._remaining()
        # the sub-solves get a share of the time (_CLUSTER_S without a limit)
        sub_deadline = t_c0 + (_CLUSTER_S if math.isinf(rem) else _CLUSTER_SHARE * rem)
        w = self.inp.weights
        pos = np.full(self.inp.n_demand, -1, dtype=np.int64)
        pos[self.priced] = np.arange(n_t)
        cache: dict[bytes, ClusterBound] = {}
        members_of: list[np.ndarray] = []
        h = self.h
        basis0, n_col0, n_row0 = h.getBasis(), h.getNumCol(), h.getNumRow()
        saved = (self.lp_iterations, self.ub, self.best_open)
        for members in clusters:
            cb0 = cluster_bound(self.inp.cost, w, members, self.threads)
            cb = cache.setdefault(cb0.cost.tobytes() + cb0.weights.tobytes(), cb0)
            k0 = math.floor(float(y[members].sum()) + 1e-6)
            low = cluster_lower(cb, k0, sub_deadline)
            if low is None:
                continue
            ks = np.flatnonzero(np.isfinite(low))
            col0 = h.getNumCol()
            nz = len(ks)
            empty_i = np.zeros(0, np.int32)
            h.addCols(nz, np.zeros(nz), np.zeros(nz), np.ones(nz), 0, empty_i, empty_i, np.zeros(0))
            zc = np.arange(col0, col0 + nz, dtype=np.int32)
            tp = pos[members]
            tp = tp[tp >= 0]
            row_sum = (np.concatenate([members, zc]), np.concatenate([np.ones(len(members)), -ks]))
            row_one = (zc, np.ones(nz))
            row_cost = (
                np.concatenate([n_s + tp, zc]),
                np.concatenate([w[self.priced[tp]], -low[ks]]),
            )
            r0 = h.getNumRow()
            for (idx, val), lower, upper in (
                (row_sum, 0.0, 0.0),
                (row_one, 1.0, 1.0),
                (row_cost, 0.0, highspy.kHighsInf),
            ):
                h.addRow(lower, upper, len(idx), idx.astype(np.int32), val.astype(float))
            self.zcols.append((zc, ks.astype(float), cb, r0 + 2, low))
            members_of.append(members)
        if not self.zcols:
            return status, bound, y
        status, bound, y = self._lp()
        n_exact = 0
        for _ in range(_CLUSTER_ROUNDS):
            if status != "optimal" or bound >= self._threshold():
                break
            # exact values where the LP mixes z at a k whose value is only a lower bound
            x = np.asarray(h.getSolution().col_value)
            changed = False
            for zc, ks, cb, _row, low in self.zcols:
                for i in np.flatnonzero(x[zc] > 1e-9):
                    k = int(ks[i])
                    if k in cb.exact or time.perf_counter() > sub_deadline:
                        continue
                    fk = cb.f(k, sub_deadline)
                    if fk > low[k] + 1e-12:
                        low[k] = fk
                        changed = True
                        n_exact += 1
            for zc, ks, cb, row, low in self.zcols:
                for i, k in enumerate(ks.astype(int)):
                    if k in cb.exact and cb.exact[k] > low[k]:
                        low[k] = cb.exact[k]
                        changed = True
                    h.changeCoeff(row, int(zc[i]), -float(low[k]))
            if not changed:
                break
            status, bound, y = self._lp()
        if status == "optimal" and bound < self._threshold() and self.warm_start:
            self._cluster_incumbent(y, members_of)
        if status == "optimal":
            # without an incumbent (warm_start off) the share closed counts as 0
            gap = self.ub - bound0
            closed = (bound - bound0) / max(gap, 1e-12) if math.isfinite(gap) else 0.0
            self.branch_clusters = self.cluster_branching and closed >= _CLUSTER_BRANCH_SHARE
            self._log(f"cluster columns closed {closed:.3f} of the root gap")
            if closed < _CLUSTER_KEEP_SHARE and bound < self._threshold():
                # not worth their place in every node's LP: the rows (and cuts) added since and
                # the columns deleted, the root's basis, strong-branching budget and incumbent
                # restored (a better incumbent from the cluster heuristic changes the tree's path:
                # u1432 p = 50 281 -> 321 nodes, vm1748 p = 100 10 -> 22 with it)
                rows = np.arange(n_row0, h.getNumRow(), dtype=np.int32)
                h.deleteRows(len(rows), rows)
                z = np.arange(n_col0, h.getNumCol(), dtype=np.int32)
                h.deleteCols(len(z), z)
                self.zcols = []
                self.branch_clusters = False
                self._set_basis(basis0)
                self.ub, self.best_open = saved[1], saved[2]
                status, bound, y = self._lp()
                self.lp_iterations = saved[0]
                self._log("cluster columns dropped")
        self._log(
            f"cluster columns: {len(self.zcols)} of {len(clusters)} clusters, bound {bound:.6f}, "
            f"{time.perf_counter() - t_c0:.2f}s"
        )
        return status, bound, y

    def _strong_branch(
        self,
        y: np.ndarray,
        fractional: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        bound: float,
        pseudo: _PseudoCosts,
    ) -> tuple[int, list[tuple[int, float]]]:
        """Reliability branching: the site to branch on, and fixings the child LPs proved.

        The best ``_SB_CANDIDATES`` fractional sites by pseudo-cost score whose pseudo-costs are
        unreliable get both child LPs solved (the node's cuts, no separation, from the previous
        child's basis, at most ``_SB_ITERATIONS`` dual simplex iterations; the dual objective so
        far is the gain). The gains feed the pseudo-costs. A child LP that is infeasible or optimal at
        or above the threshold proves the site at the other value in this subtree: the fixings
        are returned (site, value) and no site is chosen (-1). The LP is left at the node's
        bounds and basis.
        """
        score = pseudo.scores(y)
        cand = np.flatnonzero(fractional)
        unrel = cand[pseudo.unreliable()[cand]]
        if not self.sb_on or len(unrel) == 0 or self.sb_iterations > _SB_SHARE * self.lp_iterations:
            return int(cand[np.argmax(score[cand])]), []
        top = unrel[np.argsort(-score[unrel], kind="stable")[:_SB_CANDIDATES]]
        if len(top) == 0:
            return int(cand[np.argmax(score[cand])]), []
        h = self.h
        basis = h.getBasis()
        thr = self._threshold()
        fixes: list[tuple[int, float]] = []
        h.setOptionValue("simplex_iteration_limit", _SB_ITERATIONS)
        try:
            for j in top.tolist():
                gains = [math.nan, math.nan]
                for up in (0, 1):
                    if up:
                        h.changeColBounds(j, 1.0, float(hi[j]))
                    else:
                        h.changeColBounds(j, float(lo[j]), 0.0)
                    # no basis reset between children: a bound change keeps the last child's
                    # basis dual feasible (resetting to the node's basis costs a refactorization)
                    h.setOptionValue("time_limit", h.getRunTime() + max(self._remaining(), 1e-3))
                    h.run()
                    self.sb_iterations += int(h.getInfo().simplex_iteration_count)
                    ms = h.getModelStatus()
                    if ms == _MS.kInfeasible:
                        fixes.append((j, float(1 - up)))
                        gains[up] = math.inf
                    elif ms in (_MS.kOptimal, _MS.kIterationLimit):
                        obj = float(h.getInfo().objective_function_value)
                        gains[up] = obj - bound
                        if ms == _MS.kOptimal and obj >= thr:
                            fixes.append((j, float(1 - up)))
                            self._pruned()
                    elif ms == _MS.kTimeLimit:
                        break
                h.changeColBounds(j, float(lo[j]), float(hi[j]))
                change = (float(y[j]), float(1.0 - y[j]))
                for up in (0, 1):
                    if math.isfinite(gains[up]):
                        pseudo.observe(j, up, change[up], gains[up])
                if not (math.isnan(gains[0]) or math.isnan(gains[1])):
                    score[j] = max(gains[0], 1e-6) * max(gains[1], 1e-6)
                if self._remaining() <= 0:
                    break
        finally:
            h.setOptionValue("simplex_iteration_limit", _NO_LIMIT)
            h.setBasis(basis)
        if fixes:
            return -1, fixes
        return int(cand[np.argmax(score[cand])]), []

    # ------------------------------------------------------------------ main
    def run(self) -> ExactSolution:
        inp = self.inp
        n_d, n_s = inp.n_demand, inp.n_sites
        t_h0 = time.perf_counter()
        self.best_open, self.ub = np.zeros(0, dtype=np.int64), math.inf
        warm_used = False
        if self.initial is not None and len(self.initial):
            # swap search from the given set (completed greedily to p sites)
            heur = pmedian_heuristic(inp, initial=self.initial, deadline=self.deadline)
            if math.isfinite(heur.objective):
                self.best_open, self.ub = heur.open_sites, heur.objective
                warm_used = True
        if self.warm_start:
            # the greedy start as well (cheap next to the proof; with its swap search under a
            # short time limit, _SWAP_LIMIT_S): a warm start that ends in a worse local optimum
            # must not weaken the incumbent
            swaps = None if self._remaining() <= _SWAP_LIMIT_S else 0
            # a short limit on a large matrix leaves no time for the LP: iterated search to the end
            short = self.deadline - self.t0 <= 2.0 and n_d * n_s >= 1_000_000
            heur = pmedian_heuristic(
                inp,
                deadline=self.deadline,
                max_swaps=swaps,
                improve_until=self.deadline if short else None,
            )
            if heur.objective <= self.ub:  # ties: the cold path's incumbent
                self.best_open, self.ub = heur.open_sites, heur.objective
                warm_used = False
        heur_obj = self.ub
        heur_s = time.perf_counter() - t_h0
        self._log(f"heuristic {self.ub} in {heur_s:.3f}s")
        if self._remaining() <= 0 and math.isfinite(self.ub):
            # the time limit is spent: the heuristic's answer, without building the LP (a
            # second or more at N = 1,500), so a 1-s limit is not overrun by the model
            return ExactSolution(
                open_sites=np.sort(np.asarray(self.best_open, dtype=np.int64)),
                assignment=assign_nearest(inp.cost, self.best_open).astype(np.int64),
                objective=float(self.ub),
                best_bound=-math.inf,
                gap=math.inf,
                status="feasible",
                build_s=time.perf_counter() - self.t0,
                solve_s=0.0,
                heuristic_objective=float(heur_obj),
                n_vars=0,
                n_rows=0,
                heuristic_s=heur_s,
                message="stopped by the time limit after the heuristic, without a bound",
                warm_start_used=warm_used,
            )
        self.step = objective_step(inp.cost, inp.weights)

        self._build()
        restarted = self._restart_from(self.restart)
        if math.isfinite(self.ub) and not restarted:
            y_h = np.zeros(n_s)
            y_h[self.best_open] = 1.0
            d, _ = self.sep.levels(y_h)
            self._add_cuts(np.arange(self.n_t), d)
        build_s = time.perf_counter() - self.t0
        self._log(f"built: {self.h.getNumCol()} cols, {self.h.getNumRow()} rows")

        t_solve0 = time.perf_counter()
        lo = inp.must_open.astype(float)
        hi = (~inp.forbidden).astype(float)
        pseudo = _PseudoCosts(n_s)
        # depth first; each entry: (lower bound of the parent, lo, hi, basis to start from,
        # branching that made the node as (site, up?, change of y) for the pseudo-costs)
        stack: list[_Node] = [(-math.inf, lo, hi, self.start_basis, None)]
        root_bound = -math.inf
        stopped = False
        while stack:
            node = stack.pop()
            parent_bound, lo, hi, basis, branched = node
            if parent_bound >= self._threshold():
                self._pruned()
                continue
            if self._remaining() <= 0 or (
                self.node_limit is not None and self.nodes >= self.node_limit
            ):
                stack.append(node)
                stopped = True
                break
            self.nodes += 1
            if self.progress is not None:
                open_bounds = [n[0] for n in stack] + [parent_bound, self.pruned_floor]
                bound_now = max(min([*open_bounds, self.ub]), root_bound, self.root_partial)
                self.progress(self.ub, bound_now, f"branch and bound, {self.nodes} nodes")
            if basis is not None:
                self._set_basis(basis)
            self._set_bounds(lo, hi)
            status, bound, y = self._lp()
            if status == "time":
                stack.append(node)
                stopped = True
                break
            if status == "optimal" and branched is not None:
                pseudo.observe(*branched, bound - parent_bound)
            if status == "infeasible":
                if self.nodes == 1:
                    return infeasible_solution(
                        n_d,
                        "no set of as many allowed sites as asked serves every demand point within its limits",
                        build_s,
                    )
                continue
            if self.nodes == 1:
                self._keep_root()
                root_bound = bound
                # the cuts not binding at the root leave the LP (measured, weights 1/n: rl1304
                # p = 10 14.1 -> 7.0 CPU s, 6,600 -> 1,400 rows; the tree re-separates any it needs)
                self._drop_slack_cuts()
                if self.warm_start and bound < self._threshold():
                    # before the reduced-cost fixing, which the better incumbent strengthens
                    self._round(y, lo, hi)
                if bound < self._threshold() and self._rc_fix(bound, lo, hi):
                    self._pruned()
                movable = int((~inp.must_open & ~inp.forbidden).sum())
                free = int(((hi > 0.5) & (lo < 0.5)).sum())
                if bound < self._threshold() and free > _CLUSTER_FREE_SHARE * movable:
                    # a large tree ahead (the root fixed few sites): cluster columns
                    status, bound, y = self._cluster_round(status, bound, y)
                    if status == "time":
                        stack.append(node)
                        stopped = True
                        break
                    root_bound = max(root_bound, bound)
                    if self.zcols:  # the z columns' bounds join the nodes' (cluster branching)
                        n_z = sum(len(z[0]) for z in self.zcols)
                        lo = np.concatenate([lo, np.zeros(n_z)])
                        hi = np.concatenate([hi, np.ones(n_z)])
                if (
                    self.warm_start
                    and self.support_heuristic
                    and bound < self._threshold()
                    and free > _SUPPORT_FREE_SHARE * movable
                ):
                    self._support_incumbent(y, lo, hi)
            if bound < self._threshold() and self._rc_fix(bound, lo, hi):
                self._pruned()
            if self.nodes == 1:
                # strong branching only where the root's reduced-cost fixing left most sites
                # free (a large tree ahead); where it fixed most, the tree is small and the
                # child LPs cost more than the nodes they save
                movable = int((~inp.must_open & ~inp.forbidden).sum())
                free = int(((hi[:n_s] > 0.5) & (lo[:n_s] < 0.5)).sum())
                self.sb_on = self.sb_on and free > self.sb_free_share * movable
                self._log(
                    f"root bound {bound:.4f}, {int((hi[:n_s] < 0.5).sum())} sites closed, "
                    f"{free} free, strong branching {'on' if self.sb_on else 'off'}"
                )
            if bound >= self._threshold():
                self._pruned()
                continue
            frac = np.abs(y - np.round(y))
            if frac.max() < 1e-6:
                open_sites, true = self._true_cost(np.round(y))
                if true < self.ub:
                    self.ub, self.best_open = true, open_sites
                    self._log(f"node {self.nodes}: incumbent {true}")
                continue
            split = self._cluster_split(hi) if self.branch_clusters else None
            if split is not None:
                # a cluster's sum of y is fractional: Σ y ≤ k | Σ y ≥ k + 1 (the z of the other
                # side closed), the "≥" child first
                lo0, hi0 = lo.copy(), hi.copy()
                hi0[split[0]] = 0.0
                lo1, hi1 = lo.copy(), hi.copy()
                hi1[split[1]] = 0.0
                stack.append((bound, lo0, hi0, self.h.getBasis(), None))
                stack.append((bound, lo1, hi1, None, None))
                continue
            # branch on the best pseudo-cost score (most fractional until costs are observed);
            # the "open" child first
            j, fixes = self._strong_branch(y, frac > 1e-6, lo, hi, bound, pseudo)
            if fixes:
                values = {}
                for site, value in fixes:
                    values.setdefault(site, set()).add(value)
                if any(len(v) > 1 for v in values.values()):
                    continue  # both children of a site cut off: so is this node
                for site, value in fixes:
                    lo[site] = hi[site] = value
                stack.append((bound, lo, hi, self.h.getBasis(), None))
                continue
            lo0, hi0 = lo.copy(), hi.copy()
            hi0[j] = 0.0
            lo1, hi1 = lo.copy(), hi.copy()
            lo1[j] = 1.0
            # the "closed" child is solved after the whole "open" subtree: it restarts from this
            # node's optimal basis (one bound away) instead of the last leaf's (measured: 15-30 %
            # less time on pmed26-39); the "open" child follows this node directly
            stack.append((bound, lo0, hi0, self.h.getBasis(), (j, 0, float(y[j]))))
            stack.append((bound, lo1, hi1, None, (j, 1, float(1.0 - y[j]))))
        solve_s = time.perf_counter() - t_solve0
        self._log(f"{self.nodes} nodes, {self.h.getNumRow()} rows")

        status_msg = ""
        if stopped:
            open_bounds = [node[0] for node in stack if node[0] < self._threshold()]
            best_bound = min([*open_bounds, self.ub, self.pruned_floor])
            best_bound = max(best_bound, root_bound, self.root_partial)
        else:
            best_bound = min(self.ub, self.pruned_floor)
        ub = self.ub
        if self.step and math.isfinite(best_bound):
            best_bound = self.step * math.ceil((best_bound - 1e-6) / self.step)
        if not math.isfinite(ub):
            status = "no_solution"
            gap = math.inf
            status_msg = "stopped by the time limit before any solution was found"
        else:
            best_bound = min(best_bound, ub)
            proven = (ub - best_bound) <= max(self.gap_rel * abs(ub), 1e-9)
            gap = 0.0 if proven else rel_gap(ub, best_bound)
            status = "optimal" if proven else "feasible"
            if not proven:
                status_msg = f"stopped by the time limit after {self.nodes} nodes"
        if not math.isfinite(ub) and not stopped:
            return infeasible_solution(
                n_d,
                "no set of as many allowed sites as asked serves every demand point within its limits",
                build_s,
            )
        assignment = (
            assign_nearest(inp.cost, self.best_open)
            if len(self.best_open)
            else np.full(n_d, -1, dtype=np.int64)
        )
        return ExactSolution(
            open_sites=np.sort(np.asarray(self.best_open, dtype=np.int64)),
            assignment=assignment.astype(np.int64),
            objective=float(ub),
            best_bound=float(best_bound),
            gap=float(gap),
            status=status,
            build_s=build_s,
            solve_s=solve_s,
            heuristic_objective=float(heur_obj),
            n_vars=int(self.h.getNumCol()),
            n_rows=int(self.h.getNumRow()),
            heuristic_s=heur_s,
            message=status_msg,
            warm_start_used=warm_used,
            nodes=self.nodes,
            restart=self.root_restart,
            restarted=restarted,
        )
