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
1. Greedy + swap heuristic (:func:`placement.heuristics.pmedian_heuristic`) → incumbent and
   upper bound; its tight cuts seed the master.
2. LP cutting-plane loop with warm-started dual simplex until no cut is violated (LP bound).
3. Reduced-cost fixing (the LP bound plus a site's reduced cost above the incumbent proves the
   site closed; Briant & Naddef 2004 use the same idea on Lagrangian costs), then the loop again.
4. MIP on the master with the incumbent as a warm start; an integer ``y`` whose true cost exceeds
   its ``θ`` gets its tight cuts and the MIP is re-solved. The MIP dual bound is a valid lower
   bound throughout (the master is a relaxation), so the reported gap is honest.

Status, gap and bounds are read from HiGHS itself (``getModelStatus``, ``getInfo``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

from placement.errors import InfeasibleError, SolverError
from placement.heuristics import Inputs, assign_nearest, pmedian_heuristic, prepare_inputs

__all__ = ["ExactSolution", "solve_pmedian"]

_MS = highspy.HighsModelStatus


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


def _rel_gap(obj: float, bound: float) -> float:
    if not math.isfinite(obj):
        return math.inf
    return max(0.0, (obj - bound) / max(abs(obj), 1e-9))


def _new_highs(verbose: bool, threads: int | None) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    return h


def _infeasible(n_demand: int, message: str, build_s: float) -> ExactSolution:
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


class _Separator:
    """Per-demand sorted sites and vectorised radius-cut separation."""

    def __init__(self, cost: np.ndarray, rows: np.ndarray, pareto: str = "min") -> None:
        self.pareto = pareto
        c = cost[rows]
        self.order = np.argsort(c, axis=1, kind="stable").astype(np.int32)
        ds = np.take_along_axis(c, self.order, axis=1)
        self.finite = np.isfinite(ds)
        self.ds = np.where(self.finite, ds, 0.0)
        self.n_fin = self.finite.sum(axis=1)
        n, m = ds.shape
        new = np.ones((n, m), dtype=bool)
        new[:, 1:] = ds[:, 1:] != ds[:, :-1]
        self.gstart = np.maximum.accumulate(np.where(new, np.arange(m)[None, :], 0), axis=1)

    def levels(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cut level of every demand at ``y``: (group start g, level D, cut right-hand value)."""
        ys = y[self.order]
        ys[~self.finite] = 0.0
        excl = np.cumsum(ys, axis=1) - ys
        at_level = np.take_along_axis(excl, self.gstart, axis=1)
        if self.pareto == "max":
            over = at_level > 1.0 + 1e-9
        else:
            over = at_level >= 1.0 - 1e-9
        over |= ~self.finite
        rr = np.arange(len(ys))
        # last level whose closer sites hold less than one open site (all terms non-negative)
        first_over = np.where(over.any(axis=1), np.argmax(over, axis=1), over.shape[1])
        t = np.minimum(first_over, self.n_fin) - 1
        g = self.gstart[rr, t]
        d = self.ds[rr, t]
        dy = np.cumsum(self.ds * ys, axis=1) - self.ds * ys
        value = d - d * excl[rr, g] + dy[rr, g]
        return g, d, value

    def rows(
        self, sel: np.ndarray, g: np.ndarray, d: np.ndarray, theta_col: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """CSR arrays (starts, indices, values, lower) of the cuts of demands ``sel``."""
        gs = g[sel]
        width = int(gs.max(initial=0))
        mask = np.arange(width)[None, :] < gs[:, None]
        idx = self.order[sel, :width]
        val = d[sel][:, None] - self.ds[sel, :width]
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
        return starts, indices, values, d[sel].astype(float)


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
    t0 = time.perf_counter()
    deadline = math.inf if time_limit_s is None else t0 + float(time_limit_s)
    n_demand = int(np.shape(cost)[0]) if np.ndim(cost) == 2 else 0
    try:
        inp = prepare_inputs(cost, weights, p, must_open, forbidden)
    except InfeasibleError as exc:
        return _infeasible(n_demand, str(exc), time.perf_counter() - t0)
    return _Solver(inp, deadline, gap_rel, threads, verbose, warm_start, t0).run()


class _Solver:
    def __init__(
        self,
        inp: Inputs,
        deadline: float,
        gap_rel: float,
        threads: int | None,
        verbose: bool,
        warm_start: bool,
        t0: float,
    ) -> None:
        self.inp = inp
        self.deadline = deadline
        self.gap_rel = gap_rel
        self.threads = threads
        self.verbose = verbose
        self.warm_start = warm_start
        self.t0 = t0

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

    def run(self) -> ExactSolution:  # noqa: C901 - one linear algorithm, kept in one place
        inp = self.inp
        n_d, n_s = inp.n_demand, inp.n_sites
        t_h0 = time.perf_counter()
        if self.warm_start:
            heur = pmedian_heuristic(inp)
            best_open, ub = heur.open_sites, heur.objective
        else:
            best_open, ub = np.zeros(0, dtype=np.int64), math.inf
        heur_obj = ub
        heur_s = time.perf_counter() - t_h0
        self._log(f"heuristic {ub} in {heur_s:.3f}s")

        # integrality of the objective: a better solution is at least `step` better
        fin = np.isfinite(inp.cost)
        wc = np.where(fin, inp.cost, 0.0) * inp.weights[:, None]
        integral = bool(np.all(np.abs(wc - np.round(wc)) < 1e-9))
        step = 1.0 if integral else 0.0

        priced = np.flatnonzero(inp.weights > 0)
        sep = _Separator(inp.cost, priced)
        n_t = len(priced)
        theta_col = n_s + np.arange(n_t, dtype=np.int32)

        h = _new_highs(self.verbose, self.threads)
        lb_y = inp.must_open.astype(float)
        ub_y = (~inp.forbidden).astype(float)
        theta_lb = sep.ds[:, 0].copy()
        col_cost = np.concatenate([np.zeros(n_s), inp.weights[priced]])
        col_lb = np.concatenate([lb_y, theta_lb])
        col_ub = np.concatenate([ub_y, np.full(n_t, highspy.kHighsInf)])
        h.addCols(
            n_s + n_t,
            col_cost,
            col_lb,
            col_ub,
            0,
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0),
        )
        h.addRows(
            1,
            np.array([float(inp.p)]),
            np.array([float(inp.p)]),
            n_s,
            np.array([0], np.int32),
            np.arange(n_s, dtype=np.int32),
            np.ones(n_s),
        )
        # coverage rows for demands with disallowed sites (identical rows merged)
        partial = ~fin[:, ~inp.forbidden].all(axis=1)
        if partial.any():
            masks = np.unique(fin[partial], axis=0)
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
        n_cuts = 0

        def add_cuts(sel: np.ndarray, g: np.ndarray, d: np.ndarray) -> None:
            nonlocal n_cuts
            if len(sel) == 0:
                return
            starts, indices, values, lower = sep.rows(sel, g, d, theta_col)
            h.addRows(
                len(sel),
                lower,
                np.full(len(sel), highspy.kHighsInf),
                len(indices),
                starts,
                indices,
                values,
            )
            n_cuts += len(sel)

        if math.isfinite(ub):
            y_h = np.zeros(n_s)
            y_h[best_open] = 1.0
            g, d, _ = sep.levels(y_h)
            add_cuts(np.arange(n_t), g, d)
            # also the next level down for every demand: cheap and usually binding in the LP
        build_s = time.perf_counter() - self.t0
        self._log(f"built: {n_s + n_t} cols, {h.getNumRow()} rows")

        h.setOptionValue("solver", "simplex")
        h.setOptionValue("presolve", "off")
        lp_bound = -math.inf
        status_msg = ""

        def cut_loop() -> bool:
            """LP cutting planes; returns False when stopped by the time limit."""
            nonlocal lp_bound
            it = 0
            while True:
                rem = self._remaining()
                if rem <= 0:
                    return False
                h.setOptionValue("time_limit", max(rem, 1e-3))
                h.run()
                ms = h.getModelStatus()
                if ms == _MS.kInfeasible:
                    raise _Infeasible
                if ms == _MS.kTimeLimit:
                    return False
                if ms != _MS.kOptimal:
                    raise SolverError(f"HiGHS LP status {h.modelStatusToString(ms)}")
                x = np.asarray(h.getSolution().col_value)
                y = x[:n_s]
                th = x[n_s:]
                g, d, val = sep.levels(y)
                viol = val - th
                tol = 1e-6 * np.maximum(1.0, d)
                sel = np.flatnonzero(viol > tol)
                lp_bound = h.getInfo().objective_function_value
                it += 1
                self._log(
                    f"LP it {it}: bound {lp_bound:.4f}, {len(sel)} violated, rows {h.getNumRow()}"
                )
                if len(sel) == 0:
                    return True
                add_cuts(sel, g, d)

        class _Infeasible(Exception):
            pass

        def fix_by_reduced_cost() -> int:
            if not math.isfinite(ub):
                return 0
            thr = ub - max(step, self.gap_rel * abs(ub)) + 1e-6
            sol = h.getSolution()
            rc = np.asarray(sol.col_dual)[:n_s]
            x = np.asarray(sol.col_value)[:n_s]
            cur_lb = np.asarray(h.getLp().col_lower_)[:n_s]
            cur_ub = np.asarray(h.getLp().col_upper_)[:n_s]
            close = (x < 1e-9) & (cur_ub > 0.5) & (lp_bound + rc > thr)
            open_ = (x > 1 - 1e-9) & (cur_lb < 0.5) & (lp_bound - rc > thr)
            ids = np.flatnonzero(close)
            if len(ids):
                h.changeColsBounds(
                    len(ids), ids.astype(np.int32), np.zeros(len(ids)), np.zeros(len(ids))
                )
            ids1 = np.flatnonzero(open_)
            if len(ids1):
                h.changeColsBounds(
                    len(ids1), ids1.astype(np.int32), np.ones(len(ids1)), np.ones(len(ids1))
                )
            return len(ids) + len(ids1)

        best_bound = -math.inf
        finished = False
        t_solve0 = time.perf_counter()
        try:
            ok = cut_loop()
            if ok:
                best_bound = lp_bound
                for _ in range(3):
                    nfix = fix_by_reduced_cost()
                    self._log(f"reduced-cost fixing: {nfix} sites fixed")
                    if nfix == 0:
                        break
                    ok = cut_loop()
                    if not ok:
                        break
            if (
                ok
                and math.isfinite(ub)
                and lp_bound >= ub - max(step, self.gap_rel * abs(ub)) + 1e-6
            ):
                best_bound = ub if step else lp_bound
                finished = True
            # MIP phase
            if ok and not finished:
                h.changeColsIntegrality(
                    n_s, np.arange(n_s, dtype=np.int32), np.full(n_s, highspy.HighsVarType.kInteger)
                )
                h.setOptionValue("presolve", "choose")
                h.setOptionValue("mip_rel_gap", self.gap_rel)
                h.setOptionValue("mip_abs_gap", max(step * 0.999, 1e-6) if step else 1e-6)
                while True:
                    rem = self._remaining()
                    if rem <= 0:
                        break
                    h.setOptionValue("time_limit", max(rem, 1e-3))
                    if math.isfinite(ub):
                        x0 = np.zeros(n_s + n_t)
                        x0[best_open] = 1.0
                        ys = x0[:n_s]
                        _, dd, vv = sep.levels(ys)
                        x0[n_s:] = vv
                        h.setSolution(n_s + n_t, np.arange(n_s + n_t, dtype=np.int32), x0)
                    h.run()
                    ms = h.getModelStatus()
                    info = h.getInfo()
                    if ms == _MS.kInfeasible:
                        if math.isfinite(ub):  # nothing better than the incumbent exists
                            best_bound = ub
                            finished = True
                            break
                        raise _Infeasible
                    mip_bound = info.mip_dual_bound
                    if math.isfinite(mip_bound):
                        best_bound = max(best_bound, mip_bound)
                    sol_ok = info.primal_solution_status == 2
                    if sol_ok:
                        x = np.asarray(h.getSolution().col_value)
                        y = np.round(x[:n_s])
                        open_sites, true = self._true_cost(y)
                        if true < ub:
                            ub, best_open = true, open_sites
                        g, d, val = sep.levels(y)
                        th = x[n_s:]
                        sel = np.flatnonzero(val - th > 1e-6 * np.maximum(1.0, d))
                        self._log(
                            f"MIP {h.modelStatusToString(ms)}: obj {info.objective_function_value}, "
                            f"bound {mip_bound}, true {true}, {len(sel)} cuts violated"
                        )
                        if ms == _MS.kOptimal and len(sel) == 0:
                            best_bound = max(best_bound, min(mip_bound, ub))
                            finished = True
                            break
                        if len(sel):
                            add_cuts(sel, g, d)
                            if ms == _MS.kOptimal:
                                continue
                    if ms == _MS.kTimeLimit:
                        break
                    if ms != _MS.kOptimal:
                        raise SolverError(f"HiGHS MIP status {h.modelStatusToString(ms)}")
        except _Infeasible:
            return _infeasible(
                n_d,
                "no choice of p allowed sites serves every demand within its allowed costs",
                build_s,
            )
        solve_s = time.perf_counter() - t_solve0
        if step and math.isfinite(best_bound):
            best_bound = math.ceil(best_bound - 1e-6)  # integral objective: round the bound up
        if not math.isfinite(ub):
            status = "no_solution"
            gap = math.inf
            status_msg = "stopped by the time limit before any solution was found"
        else:
            proven = (ub - best_bound) <= max(self.gap_rel * abs(ub), 1e-9)
            best_bound = min(best_bound, ub)
            gap = 0.0 if proven else _rel_gap(ub, best_bound)
            status = "optimal" if proven else "feasible"
            if not proven:
                status_msg = "stopped by the time limit"
        assignment = (
            assign_nearest(inp.cost, best_open)
            if len(best_open)
            else np.full(n_d, -1, dtype=np.int64)
        )
        return ExactSolution(
            open_sites=np.sort(np.asarray(best_open, dtype=np.int64)),
            assignment=assignment.astype(np.int64),
            objective=float(ub),
            best_bound=float(best_bound),
            gap=float(gap),
            status=status,
            build_s=build_s,
            solve_s=solve_s,
            heuristic_objective=float(heur_obj),
            n_vars=int(h.getNumCol()),
            n_rows=int(h.getNumRow()),
            heuristic_s=heur_s,
            message=status_msg,
        )
