"""Exact p-center by bisection over candidate radii with set-covering feasibility MIPs (HiGHS).

The optimal p-center radius is one of the distinct allowed costs. For a radius ``r`` the question
"can ``p`` sites serve every demand within ``r``?" is a set-covering problem:
``min Σ_j y_j`` s.t. ``Σ_{j : c_ij ≤ r} y_j ≥ 1`` for every demand, with required sites fixed open
and forbidden ones closed; ``r`` is feasible iff that minimum is at most ``p`` (left-over sites can
be opened anywhere without raising the radius). Bisection over the sorted candidate radii needs
``O(log n)`` such tests (Minieka 1970, "The m-center problem", SIAM Review 12:138–139; Daskin 2000,
"A new approach to solving the vertex p-center problem to optimality", Papers in Regional
Science 79:365–387; Elloumi, Labbé & Pochet 2004, INFORMS J. Comput. 16:84–94 for the bounds).

Each test first solves the covering LP: an LP minimum above ``p`` proves ``r`` infeasible without
branching. Otherwise the MIP is solved with ``Σ y ≤ p`` and stops at its first feasible point.
The search interval starts at ``[max_i min_j c_ij, heuristic radius]``; a feasible cover's actual
largest distance (often below the tested ``r``) tightens the upper end.

A warm start (``initial_open``, e.g. the optimum of a neighbouring sweep point) is completed to
``p`` sites and its radius replaces the heuristic's as the upper end (the heuristic then runs only
when the given set covers no feasible solution). The bisection proves the optimum either way, so
only the number of tests and, among equal-radius optima, the set returned may change.
"""

from __future__ import annotations

import math
import time
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

from placement._highs import new_highs
from placement.errors import SolverError
from placement.formulations._rows import unique_bool_rows
from placement.formulations.radius import (
    ExactSolution,
    exact_start,
    infeasible_solution,
    site_indices,
)
from placement.heuristics import Inputs, assign_nearest, pcenter_heuristic

__all__ = ["solve_pcenter"]

_MS = highspy.HighsModelStatus


def _radius(inp: Inputs, active: np.ndarray, open_sites: np.ndarray) -> float:
    a = assign_nearest(inp.cost, open_sites)
    if (a < 0).any():
        return math.inf
    return float(inp.cost[np.arange(inp.n_demand), a][active].max())


def pad_cover(inp: Inputs, open_sites: np.ndarray) -> np.ndarray:
    """Complete a cover to exactly p sites, greedily lowering the total weighted cost.

    Opening more sites never breaks a cover, so the radius (and, in
    :mod:`placement.formulations.redundant_center`, a primary-and-backup cover) is kept.
    """
    is_open = np.zeros(inp.n_sites, dtype=bool)
    is_open[open_sites] = True
    is_open |= inp.must_open
    if is_open.sum() >= inp.p:
        return np.flatnonzero(is_open)
    c = np.where(np.isfinite(inp.cost), inp.cost, 1e300)
    d1 = c[:, is_open].min(axis=1)
    while is_open.sum() < inp.p:
        saving = (np.maximum(d1[:, None] - c, 0.0) * inp.weights[:, None]).sum(axis=0)
        saving[is_open | inp.forbidden] = -1.0
        j = int(np.argmax(saving))
        is_open[j] = True
        d1 = np.minimum(d1, c[:, j])
    return np.flatnonzero(is_open)


def _reduce(cov: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Set-cover dominance reductions (Toregas et al. 1971 style).

    A demand whose covering sites include all covering sites of another demand is implied by it
    and dropped; a free site whose covered demands are a subset of another site's is dropped (a
    cover using it stays a cover after swapping it for the other one). Equal sites keep the lowest
    index.

    Returns
    -------
    (rows, keep_col)
        The remaining covering rows and a mask of the sites that may still be opened.
    """
    cov = unique_bool_rows(cov)
    f = cov.astype(np.float32)
    inter = f @ f.T  # |cover(i) ∩ cover(k)|
    size = f.sum(axis=1)
    sub = inter >= size[:, None] - 0.5  # cover(i) ⊆ cover(k)
    np.fill_diagonal(sub, False)
    implied = sub.any(axis=0)  # k has a subset row i (rows are distinct, so i != k strictly)
    cov = cov[~implied]
    f = cov.astype(np.float32)
    inter = f.T @ f  # |rows(j) ∩ rows(j')|
    size = f.sum(axis=0)
    sub = inter >= size[:, None] - 0.5  # rows(j) ⊆ rows(j')
    np.fill_diagonal(sub, False)
    n_s = cov.shape[1]
    idx = np.arange(n_s)
    equal = sub & sub.T
    strict = sub & ~sub.T
    # j is dominated by a strictly larger site, or by an equal site of lower index
    dominated = strict.any(axis=1) | (equal & (idx[None, :] < idx[:, None])).any(axis=1)
    keep_col = ~(dominated & free)
    return cov, keep_col


def solve_pcenter(
    cost: npt.ArrayLike,
    p: int,
    *,
    weights: npt.ArrayLike | None = None,
    must_open: npt.ArrayLike | None = None,
    forbidden: npt.ArrayLike | None = None,
    time_limit_s: float | None = None,
    gap_rel: float = 1e-9,
    threads: int | None = None,
    verbose: bool = False,
    warm_start: bool = True,
    initial_open: npt.ArrayLike | None = None,
) -> ExactSolution:
    """Solve the p-center problem (minimise the largest demand-to-nearest-site cost) exactly.

    Parameters
    ----------
    cost : array_like, shape (n_demand, n_sites)
        Costs (e.g. latency), ``np.inf`` for a pair that is not allowed.
    p : int
        Number of sites to open (exactly).
    weights : array_like, shape (n_demand,), optional
        Demands of weight 0 do not count in the objective (they are still assigned). The
        objective itself is unweighted.
    must_open, forbidden : array_like, optional
        Boolean masks of shape ``(n_sites,)`` or arrays of site indices.
    time_limit_s : float, optional
        Wall-clock limit; when it stops the bisection the best radius found is returned with
        status ``"feasible"`` and the gap to the smallest radius not yet proven infeasible.
    gap_rel : float
        Relative gap accepted as optimal (the bisection is exact; kept for a uniform signature).
    threads : int, optional
        HiGHS threads.
    verbose : bool
        Print the bisection's progress.
    warm_start : bool
        Start from the greedy + swap p-center heuristic's radius as the upper end.
    initial_open : array_like of int, optional
        Site indices of a known solution (e.g. the previous point of a sweep): forbidden sites
        are dropped, must-open ones added and the set completed to ``p`` sites; its radius is the
        upper end of the bisection instead of the heuristic's. A set of more than ``p`` sites, or
        one that leaves a demand without an allowed site, is ignored (the heuristic is used if
        ``warm_start``). The optimum is unchanged.

    Returns
    -------
    ExactSolution
        ``objective`` is the largest cost from a (positive-weight) demand to its nearest open site.
    """
    ready = exact_start(cost, weights, p, must_open, forbidden, time_limit_s)
    if ready.inp is None:
        return ready.infeasible
    inp, t0, deadline = ready.inp, ready.t0, ready.deadline
    run = _PCenterRun(inp, t0, deadline, threads, verbose)
    run.start(initial_open, warm_start)
    run.bisect()
    return run.result()


class _PCenterRun:
    """One run of :func:`solve_pcenter`: the bounds, the covering tests and the bisection.

    The steps, in order: :meth:`start` (upper end from the warm start or the heuristic),
    :meth:`bisect` (set-cover tests over the candidate radii, each by :meth:`test`) and
    :meth:`result`.
    """

    def __init__(
        self, inp: Inputs, t0: float, deadline: float, threads: int | None, verbose: bool
    ) -> None:
        """Keep the inputs and the deadline; take the active demands and the trivial lower bound."""
        self.inp, self.t0, self.deadline = inp, t0, deadline
        self.threads, self.verbose = threads, verbose
        active = inp.weights > 0
        if not active.any():
            active = np.ones(inp.n_demand, dtype=bool)
        self.active = active
        self.c_act = inp.cost[active]
        self.allowed = ~inp.forbidden
        # trivial lower bound: every demand is at least as far as its nearest allowed site
        lb = float(self.c_act.min(axis=1).max())
        if inp.must_open.any():
            lb = max(lb, 0.0)
        self.lb = lb
        self.heur_s = 0.0
        self.best_open, self.ub = np.zeros(0, dtype=np.int64), math.inf
        self.warm_used = False
        self.n_vars = inp.n_sites
        self.n_rows = 0
        self.stopped = False
        self.infeasible_below = lb  # every radius < this is proven infeasible

    def log(self, msg: str) -> None:
        """Print a progress line when verbose."""
        if self.verbose:
            print(f"[center {time.perf_counter() - self.t0:7.2f}s] {msg}", flush=True)

    def start(self, initial_open: npt.ArrayLike | None, warm_start: bool) -> None:
        """Upper end: the given start completed to p sites, else the heuristic's radius."""
        inp = self.inp
        initial = site_indices(initial_open, inp.n_sites, "initial_open")
        if initial is not None and len(initial):
            given = initial[~inp.forbidden[initial]]
            if len(np.union1d(given, np.flatnonzero(inp.must_open))) <= inp.p:
                start = pad_cover(inp, given)
                radius = _radius(inp, self.active, start)
                if math.isfinite(radius):
                    self.best_open, self.ub, self.warm_used = start, radius, True
            self.log(f"warm start radius {self.ub}")
        if warm_start and not self.warm_used:
            th = time.perf_counter()
            heur = pcenter_heuristic(inp)
            self.heur_s = time.perf_counter() - th
            self.best_open, self.ub = heur.open_sites, heur.objective
        self.heur_obj = self.ub
        self.log(f"heuristic radius {self.ub} in {self.heur_s:.3f}s, lower bound {self.lb}")
        vals = self.c_act[:, self.allowed]
        self.radii = np.unique(vals[np.isfinite(vals)])
        self.build_s = time.perf_counter() - self.t0

    def bisect(self) -> None:
        """Bisection over the candidate radii in ``[lb, ub)``, until they meet or time runs out."""
        self.t_solve = time.perf_counter()
        radii, ub = self.radii, self.ub
        lo_i = int(np.searchsorted(radii, self.lb, side="left"))
        hi_i = int(np.searchsorted(radii, ub, side="left")) if math.isfinite(ub) else len(radii)
        # radii[hi_i] is known feasible (or hi_i == len(radii): unknown)
        while lo_i < hi_i:
            mid = (lo_i + hi_i) // 2
            r = float(radii[mid])
            ans, sites = self.test(r)
            self.log(f"radius {r}: {ans}")
            if ans == "time":
                self.stopped = True
                break
            if ans == "yes":
                hi_i = self._accept(sites)
            else:
                lo_i = mid + 1
                self.infeasible_below = float(radii[mid + 1]) if mid + 1 < len(radii) else math.inf
        self.solve_s = time.perf_counter() - self.t_solve

    def _accept(self, sites: np.ndarray) -> int:
        """Pad a feasible cover to p sites, keep it if better; the index of its actual radius."""
        sites = pad_cover(self.inp, sites)
        actual = _radius(self.inp, self.active, sites)
        if actual < self.ub:
            self.ub, self.best_open = actual, sites
        return int(np.searchsorted(self.radii, actual, side="left"))

    # ------------------------------------------------------------------ one test
    def test(self, r: float) -> tuple[str, np.ndarray]:
        """'yes' with a cover, 'no', or 'time'."""
        h = self._cover_model(r)
        if h is None:
            return "no", np.zeros(0, dtype=np.int64)
        answer = self._cover_lp(h)
        if answer is not None:
            return answer
        return self._cover_mip(h)

    def _cover_model(self, r: float) -> highspy.Highs | None:
        """The reduced covering model of radius ``r`` (None when a demand has no site within r)."""
        inp, allowed = self.inp, self.allowed
        cover = (self.c_act <= r) & allowed[None, :]
        rows_need = ~(cover[:, inp.must_open].any(axis=1))
        cov = cover[rows_need]
        if (~cov.any(axis=1)).any():
            return None
        cov, keep_col = _reduce(cov, allowed & ~inp.must_open)
        nz_r, nz_c = np.nonzero(cov)
        n_r = cov.shape[0]
        self.n_rows = n_r + 1
        starts = np.searchsorted(nz_r, np.arange(n_r)).astype(np.int32)
        h = new_highs() if self.threads is None else new_highs(threads=int(self.threads))
        n_s = inp.n_sites
        lo = inp.must_open.astype(float)
        hi = (allowed & (keep_col | inp.must_open)).astype(float)
        empty = np.zeros(0, np.int32)
        h.addCols(n_s, np.ones(n_s), lo, hi, 0, empty, empty, np.zeros(0))
        if n_r:
            h.addRows(
                n_r,
                np.ones(n_r),
                np.full(n_r, highspy.kHighsInf),
                len(nz_c),
                starts,
                nz_c.astype(np.int32),
                np.ones(len(nz_c)),
            )
        return h

    def _cover_lp(self, h: highspy.Highs) -> tuple[str, np.ndarray] | None:
        """Solve the covering LP: an answer when it settles the test, None to go on to the MIP."""
        rem = self.deadline - time.perf_counter()
        if rem <= 0:
            return "time", np.zeros(0, dtype=np.int64)
        h.setOptionValue("time_limit", max(rem, 1e-3))
        h.run()  # covering LP
        ms = h.getModelStatus()
        if ms == _MS.kTimeLimit:
            return "time", np.zeros(0, dtype=np.int64)
        if ms == _MS.kInfeasible:
            return "no", np.zeros(0, dtype=np.int64)
        if ms != _MS.kOptimal:
            raise SolverError(f"HiGHS LP status {h.modelStatusToString(ms)}")
        lp = h.getInfo().objective_function_value
        if lp > self.inp.p + 1e-6:
            return "no", np.zeros(0, dtype=np.int64)
        x = np.asarray(h.getSolution().col_value)
        if np.all(np.abs(x - np.round(x)) < 1e-9):
            return "yes", np.flatnonzero(x > 0.5)
        return None

    def _cover_mip(self, h: highspy.Highs) -> tuple[str, np.ndarray]:
        """Add ``Σ y ≤ p`` and solve the covering MIP to its first feasible point."""
        n_s = self.inp.n_sites
        h.addRows(
            1,
            np.array([-highspy.kHighsInf]),
            np.array([float(self.inp.p)]),
            n_s,
            np.array([0], np.int32),
            np.arange(n_s, dtype=np.int32),
            np.ones(n_s),
        )
        self.n_rows += 1
        h.changeColsIntegrality(
            n_s, np.arange(n_s, dtype=np.int32), np.full(n_s, highspy.HighsVarType.kInteger)
        )
        h.setOptionValue("mip_max_improving_sols", 1)  # any cover with <= p sites answers
        rem = self.deadline - time.perf_counter()
        if rem <= 0:
            return "time", np.zeros(0, dtype=np.int64)
        h.setOptionValue("time_limit", h.getRunTime() + max(rem, 1e-3))
        h.run()
        ms = h.getModelStatus()
        info = h.getInfo()
        if info.primal_solution_status == 2:
            x = np.asarray(h.getSolution().col_value)
            return "yes", np.flatnonzero(x > 0.5)
        if ms == _MS.kInfeasible:
            return "no", np.zeros(0, dtype=np.int64)
        if ms in (_MS.kTimeLimit, _MS.kInterrupt):
            return "time", np.zeros(0, dtype=np.int64)
        raise SolverError(f"HiGHS MIP status {h.modelStatusToString(ms)}")

    # ------------------------------------------------------------------ result
    def result(self) -> ExactSolution:
        """The best cover with its bound, or no solution / infeasible."""
        inp, ub = self.inp, self.ub
        if not math.isfinite(ub):
            if self.stopped:
                return self._solution(
                    open_sites=np.zeros(0, dtype=np.int64),
                    assignment=np.full(inp.n_demand, -1, dtype=np.int64),
                    objective=math.inf,
                    best_bound=self.infeasible_below,
                    gap=math.inf,
                    status="no_solution",
                    heuristic_objective=self.heur_obj,
                    message="stopped by the time limit",
                )
            return infeasible_solution(
                inp.n_demand,
                "no set of as many allowed sites as asked covers every demand point",
                self.build_s,
            )
        bound = min(max(self.infeasible_below, self.lb), ub)
        proven = not self.stopped or bound >= ub
        if not self.stopped:
            bound = ub
        gap = 0.0 if proven else max(0.0, (ub - bound) / max(abs(ub), 1e-9))
        return self._solution(
            open_sites=np.sort(np.asarray(self.best_open, dtype=np.int64)),
            assignment=assign_nearest(inp.cost, self.best_open).astype(np.int64),
            objective=float(ub),
            best_bound=float(bound),
            gap=float(gap),
            status="optimal" if proven else "feasible",
            heuristic_objective=float(self.heur_obj),
            message="" if proven else "stopped by the time limit",
        )

    def _solution(self, **fields: Any) -> ExactSolution:
        """An ExactSolution with the run's sizes, times and warm-start flag."""
        return ExactSolution(
            build_s=self.build_s,
            solve_s=self.solve_s,
            n_vars=self.n_vars,
            n_rows=self.n_rows,
            heuristic_s=self.heur_s,
            warm_start_used=self.warm_used,
            **fields,
        )
