"""Exact capacitated fixed-charge location with split allocation (``objective="cost"``).

Model
-----
The same model as :mod:`placement.formulations.assignment` for ``objective="cost"`` with a
capacity, ``single_sourcing=False`` and redundancy 1: ``y_j`` binary (site open), ``z_p`` ∈ [0, 1]
the share of demand ``i(p)`` served by site ``j(p)`` (only pairs with ``primary_ok`` at sites that
are not forbidden), minimising

    Σ_j F_j y_j + Σ_p (V_j w_i + C_p + λ w_i d_p) z_p

subject to

    Σ_{p∋i} z_p = 1                          every demand i            (assignment)
    Σ_{p∋j} w_i z_p − cap_j y_j ≤ 0           every site j              (capacity)
    Σ_j y_j  = N / ≤ N / ≥ N                  when a site count is given.

It is built directly as a HiGHS model from numpy arrays (no PuLP, no MPS file), which alone takes
the build of a 100 × 1000 OR-Library instance from seconds to milliseconds.

Valid inequalities
------------------
Each of the following holds at every *integer* feasible point, so adding it leaves the set of
integer solutions — and hence the optimum — unchanged, while it tightens the LP relaxation that
branch and bound prunes with:

* linking ``z_p − y_j ≤ 0`` (implied by the capacity row when ``y_j = 0``, and by ``z_p ≤ 1``
  when ``y_j = 1``);
* aggregate capacity ``Σ_j cap_j y_j ≥ W`` (sum the capacity rows and use the assignment rows);
* cardinality ``Σ_j y_j ≥ K`` where ``K`` is the least number of openable sites whose capacities
  can hold ``W`` (take the largest capacities first): an open set with fewer sites violates the
  aggregate row. For equal capacities this is the rounded aggregate row ``Σ y_j ≥ ⌈W / cap⌉``;
  on Beasley's capa8000 it takes the LP gap from 2.1 % to 0.06 %.

Warm start
----------
``initial_open`` (e.g. the optimum of a neighbouring sweep point) replaces the rounding of the LP's
``y`` as the start of the drop / add / swap search for the first incumbent (which HiGHS receives
as its starting solution and which drives the reduced-cost tightening). Forbidden sites are
dropped, must-open ones added and sites opened until the capacity holds all demand; a start that
then breaks the site count or serves no feasible solution is ignored and the LP rounding is used.
The proof is HiGHS's either way, so the optimum does not change; among several equal-cost optima
another may be returned.

Heuristic first
---------------
Before the LP, :func:`placement.formulations.cfl_heuristic.cfl_heuristic` (Lagrangian bound,
transportation-LP local search; milliseconds on small instances, about half a second on a
100 × 1000 one) gives an incumbent and a valid lower bound. It runs its whole course (its own
iteration and move limits end it) unless the time limit comes first; the LP gets the time left
after it, and is skipped when that could not even cover HiGHS's set-up of the LP (estimated as ten
model builds) rather than overrun the limit. The heuristic is the anytime part of the solve: a
limit too short for the root LP is better spent finishing the heuristic's search, whose answer is
then the result, than splitting it with an LP that cannot end (its quality when cut by the clock
depends on where the cut falls: on capa 8000, 0.000 % above the optimum with its whole course of
about a second, 0.3 % to 13 % when cut at 0.55-0.6 s). Its open set is the start of the drop /
add / swap search of "Warm start" (in place of the given ``initial_open``, which the heuristic
tries first), its solution is HiGHS's starting solution, and its bound joins the final bound. So
a run stopped by its time limit before the root LP ends (about 30 s on Beasley's capa) still returns ``"feasible"`` with
the heuristic's solution and an honest gap; a heuristic whose gap already meets ``gap_rel`` ends
the solve as ``"optimal"``.

Exactness
---------
``status == "optimal"`` is HiGHS's branch-and-bound proof on this model (relative gap at most
``gap_rel``, absolute ``1e-9``): the model has exactly the integer solutions of the PuLP model, so
its optimum is the optimum of the problem. The returned objective is recomputed from the
solution's shares (``Σ F_j y_j + Σ c_p z_p`` over the reported rows). On a time limit the result is
``"feasible"`` with the best of HiGHS's and the heuristic's incumbents and the best of their
bounds (all valid, so the gap is honest), or ``"no_solution"`` without an incumbent;
``"infeasible"`` is HiGHS's proof that no open set can serve all demand within the capacities
(:meth:`Problem.explain_infeasible` usually says why before the solver runs).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from placement._highs import new_highs
from placement.formulations._gap import rel_gap
from placement.formulations.cfl_heuristic import cfl_heuristic
from placement.formulations.data import ModelData

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["CflSolution", "cardinality_bound", "solve_cfl"]


@dataclass(frozen=True)
class CflSolution:
    """Result of :func:`solve_cfl`.

    Attributes
    ----------
    status : str
        ``"optimal"`` (proven), ``"feasible"`` (time limit, with an incumbent), ``"infeasible"``
        or ``"no_solution"``.
    objective : float
        Annual cost of the returned solution (``inf`` if none).
    best_bound : float
        Proven lower bound (``-inf`` if none).
    gap : float
        Relative gap (0 when proven optimal, ``inf`` without a solution).
    open_sites : numpy.ndarray of int
        Sorted indices of the open sites.
    rows : list of (pair index, rank, demand index, share)
        Primary shares (rank 1) of every demand point.
    build_s, solve_s : float
        Seconds building the HiGHS model and solving it.
    n_vars, n_rows : int
        Size of the HiGHS model.
    message : str
        How the solve stopped.
    cardinality : int
        The ``K`` of the cardinality row.
    warm_start_used : bool
        True when the given ``initial_open`` set led to the first incumbent.
    """

    status: str
    objective: float
    best_bound: float
    gap: float
    open_sites: np.ndarray
    rows: list[tuple[int, int, int, float]] = field(default_factory=list)
    build_s: float = 0.0
    solve_s: float = 0.0
    n_vars: int = 0
    n_rows: int = 0
    message: str = ""
    cardinality: int = 0
    warm_start_used: bool = False


def cardinality_bound(capacity: np.ndarray, total: float, tol: float = 1e-9) -> int | None:
    """Least number of the given capacities whose sum reaches ``total`` (None if none does)."""
    cap = np.sort(np.asarray(capacity, dtype=float))[::-1]
    if total <= tol:
        return 0
    csum = np.cumsum(cap)
    if len(csum) == 0 or csum[-1] + tol * max(1.0, total) < total:
        return None
    return int(np.searchsorted(csum, total - tol * max(1.0, total)) + 1)


def solve_cfl(
    data: ModelData,
    *,
    time_limit_s: float | None = None,
    gap_rel: float = 1e-9,
    threads: int | None = None,
    verbose: bool = False,
    initial_open: np.ndarray | None = None,
) -> CflSolution:
    """Solve the capacitated fixed-charge problem with split allocation to proven optimality.

    Parameters
    ----------
    data : ModelData
        ``objective="cost"``, ``capacity`` set, ``single_sourcing`` False, redundancy 1; no
        percentile SLA, budget or provider limits.
    time_limit_s : float, optional
        Wall-clock limit; a stopped run returns ``"feasible"`` with its gap.
    gap_rel : float
        Relative gap at which HiGHS stops.
    threads : int, optional
        HiGHS threads.
    verbose : bool
        Print the HiGHS log.
    initial_open : numpy.ndarray of int, optional
        Site indices of a known solution to start the incumbent search from (see "Warm start" in
        the module docstring); the optimum is unchanged.

    Returns
    -------
    CflSolution
    """
    _check_cfl_data(data)
    run = _CflRun(data, time_limit_s, gap_rel, verbose, initial_open)
    run.build(threads)
    run.start()
    if run.relax():
        run.incumbent()
        run.tighten()
    run.take_heuristic()
    run.branch()
    return run.solution()


def _check_cfl_data(data: ModelData) -> None:
    """Raise ValueError unless ``data`` is a problem :func:`solve_cfl` handles."""
    if data.capacity is None or data.objective != "cost" or data.redundancy != 1:
        raise ValueError("solve_cfl needs objective='cost', a capacity and redundancy 1")
    if data.single_sourcing or data.sla_share is not None or data.budget_usd is not None:
        raise ValueError("solve_cfl does not handle single sourcing, percentile SLA or budget")
    if data.max_per_provider:
        raise ValueError("solve_cfl does not handle per-provider limits")


class _CflRun:
    """One run of :func:`solve_cfl`: its arrays, HiGHS model and incumbent, one method per step.

    The steps, in order: :meth:`build` (HiGHS model), :meth:`start` (heuristic incumbent and
    Lagrangian bound), :meth:`relax` (LP relaxation), :meth:`incumbent` (rounding + local search)
    and :meth:`tighten` (reduced-cost bounds) when the LP is optimal, :meth:`take_heuristic`,
    :meth:`branch` (branch and bound) and :meth:`solution` (the result).
    """

    def __init__(
        self,
        data: ModelData,
        time_limit_s: float | None,
        gap_rel: float,
        verbose: bool,
        initial_open: np.ndarray | None,
    ) -> None:
        """Start the clock, fix the deadline and take the arrays of the usable pairs."""
        from placement.formulations.radius import site_indices

        self.t0 = time.perf_counter()
        # the limit counts from this call's start, like every solver's (the caller passes what is
        # left of the deadline it started when Problem.solve was entered)
        self.deadline = math.inf if time_limit_s is None else self.t0 + float(time_limit_s)
        self.data, self.gap_rel, self.verbose = data, gap_rel, verbose
        m = self.m = data.n_sites
        self.n = data.n_demand
        self.initial = site_indices(initial_open, m, "initial_open")
        usable = data.usable_primary()
        self.pos = pos = np.flatnonzero(usable)
        self.pi = pi = data.pair_i[pos]
        self.pj = pj = data.pair_j[pos]
        self.w = w = data.weight.astype(float)
        self.cap = data.capacity.astype(float)
        self.n_pairs = len(pos)
        self.cost_z = (
            data.variable_usd_per_unit[pj] * w[pi]
            + data.pair_cost_usd[pos]
            + data.latency_penalty_usd_per_unit_ms * w[pi] * data.latency_ms[pos]
        ).astype(float)
        self.fixed = data.fixed_usd.astype(float)
        self.total = float(w.sum())
        self.ncol = m + self.n_pairs
        self.openable = ~data.forbidden
        self.k_min = cardinality_bound(self.cap[self.openable], self.total) or 0
        count_lo = data.min_sites if data.min_sites is not None else -math.inf
        count_hi = data.max_sites if data.max_sites is not None else math.inf
        if data.n_sites_exact is not None:
            count_lo = count_hi = data.n_sites_exact
        self.count_lo, self.count_hi = count_lo, count_hi
        # the incumbent (cost, y, z) and the LP's bound; set by the steps
        self.ub: float = math.inf
        self.best_y: np.ndarray | None = None
        self.best_z: np.ndarray | None = None
        self.warm_used = False
        self.lp_bound = -math.inf

    # ------------------------------------------------------------------ steps
    def build(self, threads: int | None) -> None:
        """Build the HiGHS model: site and share columns with their costs, then every row."""
        self.h = h = new_highs(output_flag=bool(self.verbose))
        if threads:
            h.setOptionValue("threads", int(threads))
        m, ncol, data = self.m, self.ncol, self.data
        self.lo = np.zeros(ncol)
        self.hi = np.ones(ncol)
        self.lo[:m] = data.must_open.astype(float)
        self.hi[:m] = (~data.forbidden).astype(float)
        h.addVars(ncol, self.lo, self.hi)
        costs = np.concatenate([self.fixed, self.cost_z])
        h.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), costs)
        self._add_model_rows()
        self.build_s = time.perf_counter() - self.t0
        self.t1 = time.perf_counter()

    def _add_model_rows(self) -> None:
        """Assignment, capacity, aggregate, cardinality, site-count and linking rows."""
        import highspy
        import scipy.sparse as sp

        h, m, n, n_pairs, ncol = self.h, self.m, self.n, self.n_pairs, self.ncol
        pi, pj, w, cap = self.pi, self.pj, self.w, self.cap
        inf = highspy.kHighsInf
        zcol = m + np.arange(n_pairs)
        # assignment rows
        self._add_csr(
            np.ones(n),
            np.ones(n),
            sp.csr_matrix((np.ones(n_pairs), (pi, zcol)), shape=(n, ncol)),
        )
        # capacity rows
        cap_mat = sp.csr_matrix(
            (
                np.concatenate([w[pi], -cap]),
                (np.concatenate([pj, np.arange(m)]), np.concatenate([zcol, np.arange(m)])),
            ),
            shape=(m, ncol),
        )
        self._add_csr(np.full(m, -inf), np.zeros(m), cap_mat)
        sites = np.arange(m, dtype=np.int32)
        # aggregate capacity and cardinality (valid inequalities, see the module docstring)
        h.addRow(self.total, inf, m, sites, cap)
        if self.k_min > 0:
            h.addRow(float(self.k_min), inf, m, sites, np.ones(m))
        count_lo, count_hi = self.count_lo, self.count_hi
        if math.isfinite(count_lo) or math.isfinite(count_hi):
            h.addRow(float(count_lo), float(count_hi), m, sites, np.ones(m))
        # linking rows z_p - y_j <= 0
        link = sp.csr_matrix(
            (
                np.concatenate([np.ones(n_pairs), -np.ones(n_pairs)]),
                (np.concatenate([np.arange(n_pairs)] * 2), np.concatenate([zcol, pj])),
            ),
            shape=(n_pairs, ncol),
        )
        self._add_csr(np.full(n_pairs, -inf), np.zeros(n_pairs), link)

    def _add_csr(self, lower: np.ndarray, upper: np.ndarray, mat: sp.csr_matrix) -> None:
        """Add the rows of a CSR matrix with their bounds to the model."""
        mat.sort_indices()
        self.h.addRows(
            mat.shape[0],
            lower,
            upper,
            mat.nnz,
            mat.indptr[:-1].astype(np.int32),
            mat.indices.astype(np.int32),
            mat.data.astype(float),
        )

    def _remaining(self) -> float:
        """Seconds left before the deadline (at least 0.01), HiGHS's infinity without one."""
        if math.isfinite(self.deadline):
            return max(0.01, self.deadline - time.perf_counter())
        import highspy

        return highspy.kHighsInf

    def start(self) -> None:
        """Run the heuristic: a first incumbent and the Lagrangian bound (module docstring)."""
        # its whole course unless the limit comes first. The LP is started only with time for
        # HiGHS's set-up (scaling, presolve, first factorisation: up to ten model builds before
        # it first looks at the clock), else it would overrun the limit for nothing.
        data, deadline = self.data, self.deadline
        self.lp_setup_s = max(0.02, 10.0 * self.build_s)
        left_s = deadline - time.perf_counter()
        count_lo, count_hi = self.count_lo, self.count_hi
        heur = cfl_heuristic(
            self.fixed,
            self.pi,
            self.pj,
            self.cost_z,
            self.w,
            self.cap,
            must_open=data.must_open,
            forbidden=data.forbidden,
            min_sites=int(count_lo) if math.isfinite(count_lo) else None,
            max_sites=int(count_hi) if math.isfinite(count_hi) else None,
            initial_open=self.initial,
            time_budget_s=max(0.0, left_s) if math.isfinite(deadline) else None,
        )
        self.heur = heur
        self.heur_y: np.ndarray | None = None
        if math.isfinite(heur.objective_usd):
            self.heur_y = np.zeros(self.m)
            self.heur_y[heur.open_sites] = 1.0
            self.initial = heur.open_sites
        self.heur_proves = self.heur_y is not None and heur.gap <= self.gap_rel
        if self.verbose:
            print(
                f"cfl: heuristic {heur.objective_usd:.6f} bound {heur.lower_bound_usd:.6f} "
                f"in {heur.elapsed_s:.3f} s ({heur.n_transport_lps} transportation LPs)"
            )

    def relax(self) -> bool:
        """Solve the LP relaxation (bound, reduced costs, a y to round); True when it is optimal."""
        import highspy

        h = self.h
        lp_ran = not self.heur_proves and self.deadline - time.perf_counter() > self.lp_setup_s
        t_lp = time.perf_counter()
        if lp_ran:
            h.setOptionValue("time_limit", self._remaining())
            h.run()
        self.lp_s = time.perf_counter() - t_lp
        lp_status = h.getModelStatus()
        if not (lp_ran or self.heur_proves):
            lp_status = highspy.HighsModelStatus.kTimeLimit
        self.lp_status = lp_status
        if lp_status != highspy.HighsModelStatus.kOptimal:
            return False
        self.lp_bound = float(h.getInfo().objective_function_value)
        sol = h.getSolution()
        self.x_lp = np.asarray(sol.col_value)
        self.rc = np.asarray(sol.col_dual)
        return True

    def incumbent(self) -> None:
        """Round the LP's y (or start from the warm start), then drop / add / swap with LPs."""
        m, must_open, openable = self.m, self.data.must_open, self.openable
        count_lo, count_hi, deadline = self.count_lo, self.count_hi, self.deadline
        ev = _Transport(self.pi, self.pj, self.w, self.cap, self.cost_z, self.fixed, self.n, m)
        # as long as the LP took (at least 0.05 s, at most 30 s): small instances are cheaper to
        # finish by branch and bound than by many transportation LPs
        budget_s = min(30.0, max(0.05, self.lp_s))
        initial = self.initial
        if initial is not None and len(initial):
            y0 = np.zeros(m)
            y0[initial] = 1.0
            ub, best_y, best_z = ev.local_search(
                y0, must_open, openable, count_lo, count_hi, deadline, budget_s=budget_s
            )
            if best_y is not None and not (count_lo <= best_y.sum() <= count_hi):
                ub, best_y, best_z = math.inf, None, None  # the start broke the site count
            self.warm_used = best_y is not None
            self.ub, self.best_y, self.best_z = ub, best_y, best_z
        if not self.warm_used:
            self.ub, self.best_y, self.best_z = ev.local_search(
                self.x_lp[:m], must_open, openable, count_lo, count_hi, deadline, budget_s=budget_s
            )

    def tighten(self) -> None:
        """Reduced-cost tightening (module docstring): keeps every solution of cost <= ub."""
        if not math.isfinite(self.ub):
            return
        m, ub, rc = self.m, self.ub, self.rc
        margin = ub - self.lp_bound + 1e-9 * max(1.0, abs(ub))
        ylo, yhi = self.lo[:m].copy(), self.hi[:m].copy()
        ry = rc[:m]
        yhi[(ry > margin) & (ylo < 0.5)] = 0.0
        ylo[(-ry > margin) & (yhi > 0.5)] = 1.0
        rz = rc[m:]
        zhi = np.where(rz > 0, np.minimum(1.0, margin / np.maximum(rz, 1e-300)), 1.0)
        self.h.changeColsBounds(
            self.ncol,
            np.arange(self.ncol, dtype=np.int32),
            np.concatenate([ylo, np.zeros(self.n_pairs)]),
            np.concatenate([yhi, zhi]),
        )
        n_closed = int((yhi < 0.5).sum() - (self.hi[:m] < 0.5).sum())
        if self.verbose:
            print(f"cfl: LP {self.lp_bound:.6f} UB {ub:.6f}; reduced costs close {n_closed} sites")

    def take_heuristic(self) -> None:
        """Make the heuristic's solution the incumbent when it is cheaper; settle warm_used."""
        heur = self.heur
        if self.heur_y is not None and heur.objective_usd < self.ub:
            self.ub, self.best_y, self.best_z = heur.objective_usd, self.heur_y, heur.share
        # the given start led to the first incumbent: in the heuristic, or (when the heuristic
        # found nothing) in the search above
        self.warm_used = heur.start_used or (self.heur_y is None and self.warm_used)

    def branch(self) -> None:
        """Branch and bound on the tightened model, warm-started with the incumbent."""
        import highspy

        h, m, ub = self.h, self.m, self.ub
        sites = np.arange(m, dtype=np.int32)
        h.changeColsIntegrality(m, sites, np.full(m, highspy.HighsVarType.kInteger))
        h.setOptionValue("mip_rel_gap", float(self.gap_rel))
        h.setOptionValue("mip_abs_gap", 1e-9)
        if self.best_y is not None:
            start = highspy.HighsSolution()
            xs = np.zeros(self.ncol)
            xs[:m] = self.best_y
            xs[m:] = self.best_z
            start.col_value = list(xs)
            start.value_valid = True
            h.setSolution(start)
        lp_proves = (
            self.best_y is not None
            and ub - self.lp_bound <= self.gap_rel * max(1.0, abs(ub)) + 1e-9
        )
        self.lp_proves = lp_proves or self.heur_proves
        # an LP stopped by the time limit leaves no time for branching
        stopped = (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kTimeLimit)
        self.mip_ran = (
            self.lp_status not in stopped
            and not self.lp_proves
            and self.deadline - time.perf_counter() > 0.02
        )
        if self.mip_ran:  # HiGHS's time limit counts the LP's run too
            h.setOptionValue("time_limit", h.getRunTime() + self._remaining())
            h.run()
        self.solve_s = time.perf_counter() - self.t1

    def solution(self) -> CflSolution:
        """The result: infeasible, no solution, or the best solution with its bound and status."""
        import highspy

        h = self.h
        status = highspy.HighsModelStatus
        infeasible = status.kInfeasible
        info = h.getInfo()
        ms = h.getModelStatus()
        if not (self.mip_ran or self.lp_proves) and self.lp_status != infeasible:
            ms = status.kTimeLimit  # stopped before (or instead of) branching
        self.n_vars, self.n_rows = int(h.getNumCol()), int(h.getNumRow())
        if self.best_y is None and (ms == infeasible or self.lp_status == infeasible):
            msg = "HiGHS proved that no open set serves all demand within the capacities"
            return self._empty("infeasible", math.inf, msg)
        optimal = self.mip_ran and ms == status.kOptimal
        if self.lp_proves:
            # the incumbent meets the LP bound: optimal without branching
            ms, optimal = status.kOptimal, True
        bound = self._bound(ms, info)
        x = self._best_x(info, optimal)
        if ms == infeasible and self.best_y is not None:
            # nothing strictly better than the incumbent exists within the tightened bounds
            optimal, bound = True, self.ub
        if x is None:
            msg = f"stopped ({h.modelStatusToString(ms)}) before finding a solution"
            return self._empty("no_solution", bound, msg)
        return self._assemble(x, ms, info, optimal, bound)

    # ------------------------------------------------------------------ result helpers
    def _bound(self, ms: Any, info: Any) -> float:
        """The best valid lower bound: HiGHS's, the LP's, the heuristic's and the incumbent's."""
        import highspy

        infeasible = highspy.HighsModelStatus.kInfeasible
        if ms != infeasible and not self.lp_proves:
            bound = float(info.mip_dual_bound)
        else:
            bound = math.inf
        if not self.mip_ran and not self.lp_proves:
            bound = -math.inf
        if not math.isfinite(bound) and ms != infeasible:
            bound = -math.inf
        if self.best_y is not None:
            # the tightened model holds only solutions of cost <= ub; the incumbent covers the rest
            bound = min(bound, self.ub)
        return max(bound, self.lp_bound, self.heur.lower_bound_usd)

    def _best_x(self, info: Any, optimal: bool) -> np.ndarray | None:
        """The columns of the cheaper of HiGHS's solution and the incumbent (None if neither)."""
        m = self.m
        has_sol = self.mip_ran and (info.primal_solution_status == 2 or optimal)
        incumbent = None
        if self.best_y is not None:
            incumbent = np.concatenate([self.best_y, self.best_z])
        if not has_sol:
            return incumbent
        x = np.asarray(self.h.getSolution().col_value)
        y_mip = (x[:m] > 0.5).astype(float)
        val_mip = float(self.fixed @ y_mip + self.cost_z @ np.clip(x[m:], 0.0, 1.0))
        if incumbent is not None and val_mip >= self.ub:
            return incumbent
        return x

    def _empty(self, status: str, bound: float, message: str) -> CflSolution:
        """A result without a solution (``"infeasible"`` or ``"no_solution"``)."""
        return CflSolution(
            status,
            math.inf,
            bound,
            math.inf,
            np.zeros(0, dtype=np.int64),
            build_s=self.build_s,
            solve_s=self.solve_s,
            n_vars=self.n_vars,
            n_rows=self.n_rows,
            message=message,
            cardinality=self.k_min,
        )

    def _assemble(
        self, x: np.ndarray, ms: Any, info: Any, optimal: bool, bound: float
    ) -> CflSolution:
        """The result of the columns ``x``: renormalised shares, recomputed cost, status, gap."""
        import highspy

        m, n, pi, pj = self.m, self.n, self.pi, self.pj
        y = x[:m] > 0.5
        z = np.clip(x[m:], 0.0, 1.0)
        keep = (z > 1e-9) & y[pj]
        # shares per demand renormalised to 1 (removes 1e-9-level solver noise)
        sums = np.bincount(pi[keep], weights=z[keep], minlength=n)
        share = z[keep] / sums[pi[keep]]
        obj = float(self.fixed[y].sum() + (self.cost_z[keep] * share).sum())
        rows = [
            (int(p), 1, int(i), float(s))
            for p, i, s in zip(self.pos[keep], pi[keep], share, strict=True)
        ]
        if optimal:
            status, gap, message = "optimal", 0.0, ""
            if self.mip_ran and ms == highspy.HighsModelStatus.kOptimal and not self.lp_proves:
                # HiGHS's proof holds in its own objective space (it reports a value that may
                # differ from the recomputed cost by a constant): carry its gap over
                mip_gap_usd = max(0.0, info.objective_function_value - info.mip_dual_bound)
                bound = max(bound, obj - mip_gap_usd)
            bound = min(bound, obj)
        else:
            status = "feasible"
            gap = rel_gap(obj, bound)
            message = f"stopped ({self.h.modelStatusToString(ms)}) with gap {gap:.4%}"
        return CflSolution(
            status,
            obj,
            bound,
            gap,
            np.flatnonzero(y).astype(np.int64),
            rows,
            self.build_s,
            self.solve_s,
            self.n_vars,
            self.n_rows,
            message,
            self.k_min,
            self.warm_used,
        )


class _Transport:
    """Cost of an open set: fixed costs plus the transportation LP over its pairs."""

    def __init__(
        self,
        pi: np.ndarray,
        pj: np.ndarray,
        w: np.ndarray,
        cap: np.ndarray,
        cost_z: np.ndarray,
        fixed: np.ndarray,
        n: int,
        m: int,
    ) -> None:
        self.pi, self.pj, self.w, self.cap = pi, pj, w, cap
        self.cost_z, self.fixed, self.n, self.m = cost_z, fixed, n, m
        self.cache: dict[bytes, tuple[float, np.ndarray | None]] = {}
        self.total = float(w.sum())
        #: with ``keep_duals``, the assignment rows' duals of every solved open set (by key)
        self.keep_duals = False
        self.duals: dict[bytes, np.ndarray] = {}

    def evaluate(self, y: np.ndarray) -> tuple[float, np.ndarray | None]:
        """(cost, z over all pairs) of the open set ``y`` (bool); ``inf`` if infeasible."""
        key = np.packbits(y).tobytes()
        if key in self.cache:
            return self.cache[key]
        out = self._solve(y, key)
        self.cache[key] = out
        return out

    def _solve(self, y: np.ndarray, key: bytes = b"") -> tuple[float, np.ndarray | None]:
        import highspy
        import scipy.sparse as sp

        if self.cap[y].sum() + 1e-9 * max(1.0, self.total) < self.total:
            return math.inf, None
        sel = np.flatnonzero(y[self.pj])
        covered = np.zeros(self.n, dtype=bool)
        covered[self.pi[sel]] = True
        if not covered.all():
            return math.inf, None
        open_idx = np.flatnonzero(y)
        site_row = np.full(self.m, -1)
        site_row[open_idx] = np.arange(len(open_idx))
        k = len(sel)
        rows = np.concatenate([self.pi[sel], self.n + site_row[self.pj[sel]]])
        cols = np.concatenate([np.arange(k), np.arange(k)])
        vals = np.concatenate([np.ones(k), self.w[self.pi[sel]]])
        a = sp.csc_matrix((vals, (rows, cols)), shape=(self.n + len(open_idx), k))
        a.sort_indices()
        lp = highspy.HighsLp()
        lp.num_col_ = k
        lp.num_row_ = a.shape[0]
        lp.col_cost_ = self.cost_z[sel]
        lp.col_lower_ = np.zeros(k)
        lp.col_upper_ = np.ones(k)
        lp.row_lower_ = np.concatenate(
            [np.ones(self.n), np.full(len(open_idx), -highspy.kHighsInf)]
        )
        lp.row_upper_ = np.concatenate([np.ones(self.n), self.cap[open_idx]])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        h = new_highs()
        h.passModel(lp)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return math.inf, None
        z = np.zeros(len(self.pi))
        z[sel] = np.clip(np.asarray(h.getSolution().col_value), 0.0, 1.0)
        if self.keep_duals:
            self.duals[key] = np.asarray(h.getSolution().row_dual, dtype=float)[: self.n].copy()
        return float(self.fixed[y].sum() + self.cost_z @ z), z

    def local_search(
        self,
        y_lp: np.ndarray,
        must_open: np.ndarray,
        openable: np.ndarray,
        count_lo: float,
        count_hi: float,
        deadline: float,
        budget_s: float = 30.0,
    ) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        """Round the LP's ``y`` and improve by drop / add / swap; (cost, y, z) or (inf, None, None)."""
        stop = min(deadline, time.perf_counter() + budget_s)
        order = np.lexsort((-self.cap, -y_lp))
        order = order[openable[order]]
        best, y, z = self._round(y_lp, order, must_open, openable, count_lo, stop)
        if not math.isfinite(best):
            return math.inf, None, None
        cands = [int(j) for j in order][: max(20, int(y.sum()) * 3)]
        improved = True
        while improved and time.perf_counter() < stop:
            improved = False
            for cand in self._moves(y, must_open, cands, count_lo, count_hi, stop):
                val, zc = self.evaluate(cand)
                if val < best - 1e-9 * max(1.0, abs(best)):  # the first improving move is taken
                    best, y, z = val, cand, zc
                    improved = True
                    break
        return best, y.astype(float), z

    def _round(
        self,
        y_lp: np.ndarray,
        order: np.ndarray,
        must_open: np.ndarray,
        openable: np.ndarray,
        count_lo: float,
        stop: float,
    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        """Open ``y_lp > 0.5`` and must-open sites, then more in ``order`` until feasible."""
        y = (y_lp > 0.5) & openable
        y |= must_open
        for j in order:  # open by LP value until the capacity holds all demand
            if self.cap[y].sum() >= self.total and y.sum() >= count_lo:
                break
            y[j] = True
        best, z = self.evaluate(y)
        for j in order:
            if math.isfinite(best) or time.perf_counter() > stop:
                break
            if not y[j]:
                y[j] = True
                best, z = self.evaluate(y)
        return best, y, z

    @staticmethod
    def _moves(
        y: np.ndarray,
        must_open: np.ndarray,
        cands: list[int],
        count_lo: float,
        count_hi: float,
        stop: float,
    ) -> Iterator[np.ndarray]:
        """The open sets one drop, add or swap away from ``y``, in that order, within the count."""
        free = np.flatnonzero(y & ~must_open)
        for j in free:  # drop
            cand = y.copy()
            cand[j] = False
            if count_lo <= cand.sum() <= count_hi:
                yield cand
        if time.perf_counter() > stop:
            return
        for j in cands:  # add
            if y[j]:
                continue
            cand = y.copy()
            cand[j] = True
            if count_lo <= cand.sum() <= count_hi:
                yield cand
        for j in free:  # swap (keeps the count)
            if time.perf_counter() > stop:
                return
            for k in cands:
                if y[k]:
                    continue
                cand = y.copy()
                cand[j] = False
                cand[k] = True
                yield cand
