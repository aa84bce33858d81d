"""Every exact solver behind the one contract, and the dispatch that fails closed.

:data:`SOLVERS` lists the solvers in order of preference: the fast exact ones first, the PuLP
backend (which handles every objective and constraint) last. :func:`choose_solver` takes the
first whose :class:`~placement.formulations.contract.Capabilities` declare every active feature
of the lowered problem; :func:`solve_data` runs it and applies the one gap / "proven" rule of
:mod:`placement.formulations._gap` to whatever it returns, so no path can label a loose stop
``optimal``.

To add a solver: write a class with ``name``, ``capabilities`` and ``solve(data, request)``
returning a :class:`~placement.formulations.contract.Solution`, and list it in :data:`SOLVERS`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import warnings
from typing import Any

import numpy as np

from placement.errors import SolverError, ValidationError
from placement.formulations._gap import OPTIMALITY_TOLERANCE
from placement.formulations.contract import (
    FEATURES,
    Capabilities,
    Solution,
    Solver,
    SolveRequest,
)
from placement.formulations.data import ModelData, nearest_assignments
from placement.progress import RelaxationReporter

__all__ = [
    "SOLVERS",
    "BudgetMedian",
    "CflSolver",
    "FastCenter",
    "FastMedian",
    "FastPercentile",
    "LagrangianSolver",
    "PulpSolver",
    "RedundantCenter",
    "RedundantMedian",
    "check_method",
    "choose_solver",
    "finalize",
    "solve_data",
]

log = logging.getLogger("placement.solve")

_FIXINGS = frozenset({"pair_rules", "must_open", "forbidden", "n_sites", "max_sites"})


def _count(data: ModelData) -> int:
    """The number of sites a fixed-count solver opens (more never hurts median or center)."""
    if data.n_sites_exact is not None:
        return int(data.n_sites_exact)
    available = data.n_sites - int(data.forbidden.sum())
    return int(min(data.max_sites, available)) if data.max_sites is not None else available


def _primary_matrix(data: ModelData) -> np.ndarray:
    """Dense demand × site latency of the primary-allowed pairs (``inf`` elsewhere).

    When the pairs are the whole grid row by row, all allowed (a full matrix, as lowering gives
    it), their latency is that matrix: a view, not a copy, of
    :class:`~placement.matrix.CostMatrix`'s array when the problem came from one.
    """
    n, m = data.n_demand, data.n_sites
    if data.n_pairs == n * m and bool(data.primary_ok.all()):
        rows, cols = data.pair_i.reshape(n, m), data.pair_j.reshape(n, m)
        if (rows == np.arange(n)[:, None]).all() and (cols == np.arange(m)[None, :]).all():
            return data.latency_ms.reshape(n, m)
    cost = np.full((data.n_demand, data.n_sites), np.inf)
    ok = data.primary_ok
    cost[data.pair_i[ok], data.pair_j[ok]] = data.latency_ms[ok]
    return cost


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[np.asarray(idx, dtype=np.int64)] = True
    return out


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _from_kernel(
    sol: Any,
    data: ModelData,
    rows: list[tuple[int, int, int, float]] | None,
    stats: dict[str, Any],
    *,
    restart: Any = None,
) -> Solution:
    """A fast kernel's own result type (``ExactSolution``, ``RedundantSolution``, …) as a Solution."""
    found = sol.status in ("optimal", "feasible") and math.isfinite(sol.objective)
    open_mask = _mask(data.n_sites, sol.open_sites) if found else None
    if found and rows is None:
        rows = [(p, r, i, 1.0) for p, r, i in nearest_assignments(data, open_mask)]
    return Solution(
        status=sol.status if found or sol.status not in ("optimal", "feasible") else "no_solution",
        objective=float(sol.objective) if found else None,
        bound=_finite(sol.best_bound),
        open_mask=open_mask,
        rows=list(rows or []) if found else [],
        build_s=float(sol.build_s),
        solve_s=float(sol.solve_s),
        raw_status=sol.status,
        message=getattr(sol, "message", ""),
        stats={"n_vars": int(sol.n_vars), "n_rows": int(sol.n_rows), **stats},
        restart=restart,
    )


def _start_idx(request: SolveRequest) -> np.ndarray | None:
    return None if request.start is None else np.flatnonzero(request.start)


def _common(request: SolveRequest) -> dict[str, Any]:
    o = request.options
    return {
        "time_limit_s": request.remaining_s(),
        "gap_rel": o.gap_rel,
        "threads": o.threads,
        "verbose": o.verbose,
    }


class FastMedian:
    """Fast exact p-median (:mod:`~placement.formulations.radius`), redundancy 1."""

    name = "fast-median"
    capabilities = Capabilities(objectives=frozenset({"median"}), features=_FIXINGS)

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:
        from placement.formulations.radius import RootRestart, solve_pmedian

        restart = request.restart if isinstance(request.restart, RootRestart) else None
        # weights as shares of the total: the objective is then the mean latency (ms) and the
        # LP coefficients stay well scaled (raw user counts reach 1e9 user-ms)
        sol = solve_pmedian(
            _primary_matrix(data),
            data.weight / data.total_weight,
            _count(data),
            must_open=data.must_open,
            forbidden=data.forbidden,
            initial_open=_start_idx(request),
            restart=restart,
            progress=request.progress,
            **_common(request),
        )
        stats = {
            "nodes": int(sol.nodes),
            "warm_start_incumbent": bool(sol.warm_start_used),
            "restarted": bool(sol.restarted),
        }
        return _from_kernel(sol, data, None, stats, restart=sol.restart)


class FastPercentile:
    """Fast exact p-median with a percentile SLA (:mod:`~placement.formulations.percentile`).

    Single sourcing changes nothing here: the nearest-site assignment, optimal for the latency
    and for the share within the SLA at once, is never split.
    """

    name = "fast-percentile"
    capabilities = Capabilities(
        objectives=frozenset({"median"}),
        features=_FIXINGS | {"sla_share", "single_sourcing"},
        requires=frozenset({"sla_share"}),
    )

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:
        from placement.formulations.percentile import SHARE_TOL, solve_pmedian_share

        sol = solve_pmedian_share(
            _primary_matrix(data),
            data.weight / data.total_weight,
            _count(data),
            float(data.sla_ms) + 1e-9,  # as relax.violations counts a pair within the SLA
            float(data.sla_share) * (1.0 - SHARE_TOL),
            must_open=data.must_open,
            forbidden=data.forbidden,
            initial_open=_start_idx(request),
            progress=request.progress,
            **_common(request),
        )
        stats = {"nodes": int(sol.nodes), "warm_start_incumbent": bool(sol.warm_start_used)}
        return _from_kernel(sol, data, None, stats)


class FastCenter:
    """Fast exact p-center (:mod:`~placement.formulations.center`), redundancy 1."""

    name = "fast-center"
    capabilities = Capabilities(objectives=frozenset({"center"}), features=_FIXINGS)

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:
        from placement.formulations.center import solve_pcenter

        sol = solve_pcenter(
            _primary_matrix(data),
            _count(data),
            must_open=data.must_open,
            forbidden=data.forbidden,
            initial_open=_start_idx(request),
            **_common(request),
        )
        stats = {"warm_start_incumbent": bool(sol.warm_start_used)}
        return _from_kernel(sol, data, None, stats)


_REDUNDANT = _FIXINGS | {"backup_rules", "failure_domain"}


class RedundantMedian:
    """Fast exact median with backups (:mod:`~placement.formulations.redundant`)."""

    name = "fast-redundant-median"
    capabilities = Capabilities(
        objectives=frozenset({"median"}),
        min_redundancy=2,
        max_redundancy=None,
        features=_REDUNDANT | {"backup_weight"},
    )

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:
        from placement.formulations.redundant import solve_redundant_median

        sol = solve_redundant_median(
            data, initial_open=_start_idx(request), progress=request.progress, **_common(request)
        )
        stats = {
            "warm_start_incumbent": bool(sol.warm_start),
            # demand points left after merging those every open set serves identically
            "n_demand_solved": int(sol.n_demand_solved),
        }
        return _from_kernel(sol, data, sol.rows, stats)


class RedundantCenter:
    """Fast exact center with one backup (:mod:`~placement.formulations.redundant_center`)."""

    name = "fast-redundant-center"
    capabilities = Capabilities(
        objectives=frozenset({"center"}), min_redundancy=2, max_redundancy=2, features=_REDUNDANT
    )

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:
        from placement.formulations.redundant_center import solve_redundant_center

        # the bisection takes no warm start: it is solved cold
        sol = solve_redundant_center(data, **_common(request))
        stats = {"warm_start_incumbent": None, "warm_start_handed": False}
        return _from_kernel(sol, data, sol.rows, stats)


class CflSolver:
    """Fast exact capacitated fixed-charge location (:mod:`~placement.formulations.cfl`)."""

    name = "fast-cfl"
    capabilities = Capabilities(
        objectives=frozenset({"cost"}),
        features=_FIXINGS
        | {"min_sites", "capacity", "pair_cost", "fixed_cost", "variable_cost", "latency_penalty"},
        requires=frozenset({"capacity"}),
    )

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:
        from placement.formulations.cfl import solve_cfl

        sol = solve_cfl(data, initial_open=_start_idx(request), **_common(request))
        stats = {"warm_start_incumbent": bool(sol.warm_start_used)}
        return _from_kernel(sol, data, sol.rows, stats)


class LagrangianSolver:
    """Uncapacitated cost objective: Lagrangian bound and reduced MIP (:mod:`~.lagrangian`);
    the weighted objective as the cost objective it equals (``lagrangian.weighted_as_cost``)."""

    name = "lagrangian-flp"
    capabilities = Capabilities(
        objectives=frozenset({"cost", "weighted"}),
        features=_FIXINGS
        | {"min_sites", "pair_cost", "fixed_cost", "variable_cost", "latency_penalty"},
    )

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:
        from placement.formulations.lagrangian import solve_lagrangian

        return _lagrangian_solution(solve_lagrangian, data, request, None)


#: The stats of :func:`~placement.formulations.lagrangian.solve_lagrangian` passed on (with a
#: capacity, those of the strong LP and its rounding, :mod:`~.cfl_lp`).
_LAGRANGIAN_STATS = (
    "iterations",
    "mip_pairs",
    "sites_closed",
    "lp_rounds",
    "lp_sites",
    "lp_proven",
    "lp_value",
    "rounding_objective",
    "mip_sites",
    "mip_proven",
    "bb_nodes",
)


def _lagrangian_solution(
    solve: Any, data: ModelData, request: SolveRequest, incumbent: Any, **kw: Any
) -> Solution:
    """:func:`~placement.formulations.lagrangian.solve_lagrangian` as a Solution."""
    t0 = time.perf_counter()
    left = request.remaining_s()
    res = solve(
        data,
        deadline=math.inf if left is None else t0 + left,
        incumbent=incumbent,
        gap_rel=request.options.gap_rel,
        threads=request.options.threads,
        verbose=request.options.verbose,
        **kw,
    )
    stats = {
        "n_vars": data.n_sites + int(res.stats.get("mip_pairs", 0)),
        "n_rows": data.n_demand + int(res.stats.get("mip_pairs", 0)),
        "warm_start_incumbent": False,
        "lagrangian_bound": res.lp_bound,
        **{k: v for k, v in res.stats.items() if k in _LAGRANGIAN_STATS},
    }
    return Solution(
        status=res.status,
        objective=res.objective,
        bound=_finite(res.bound),
        open_mask=res.open_mask,
        rows=res.rows,
        build_s=0.0,
        solve_s=time.perf_counter() - t0,
        raw_status=res.status,
        message="" if res.status == "optimal" else f"lagrangian: gap {res.stats.get('gap')}",
        stats=stats,
    )


class PulpSolver:
    """The PuLP formulations (:mod:`~.assignment`, :mod:`~.covering`) with HiGHS or CBC."""

    name = "pulp"
    capabilities = Capabilities(
        objectives=frozenset({"median", "center", "coverage", "set-cover", "cost", "weighted"}),
        max_redundancy=None,
        features=FEATURES,
    )

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:
        from placement.formulations.assignment import build_assignment_model
        from placement.formulations.covering import build_covering_model
        from placement.solve import solve_model

        t0 = time.perf_counter()
        if data.objective in ("coverage", "set-cover"):
            prob, y = build_covering_model(data)
            z: dict[int, dict[int, Any]] = {}
        else:
            prob, y, z = build_assignment_model(data)
        mip_start = None if request.start is None else _pulp_start(data, prob, y, z, request.start)
        options = request.options
        left = request.remaining_s()
        if left is not None:
            options = dataclasses.replace(options, time_limit_s=left)
        build_s = time.perf_counter() - t0
        out = solve_model(prob, options, start=mip_start, spent_s=build_s)
        sense = -1 if data.objective == "coverage" else 1
        stats = {
            "n_vars": len(prob.variables()),
            "n_rows": prob.numConstraints(),
            "warm_start_handed": mip_start is not None,
            "warm_start_incumbent": None,  # HiGHS / CBC check the start themselves
        }
        common = {
            "build_s": build_s,
            "solve_s": out.solve_s,
            "raw_status": out.raw_status,
            "message": out.message,
            "stats": stats,
            "sense": sense,
        }
        bound = None if out.best_bound is None else sense * out.best_bound
        if out.status not in ("optimal", "feasible") or out.objective is None:
            status = out.status if out.status in ("infeasible", "no_solution") else "no_solution"
            return Solution(status=status, bound=bound, **common)
        vals = out.values
        open_mask = np.array([vals.get(v.name, 0.0) > 0.5 for v in y])
        return Solution(
            status=out.status,
            objective=sense * out.objective,
            bound=bound,
            open_mask=open_mask,
            rows=_pulp_rows(data, z, vals, open_mask),
            **common,
        )


def _pulp_rows(
    data: ModelData, z: dict[int, dict[int, Any]], vals: dict[str, float], open_mask: np.ndarray
) -> list[tuple[int, int, int, float]]:
    """Assignment rows of a PuLP solution (nearest open sites where that is the optimum's)."""
    reassign = (
        data.redundancy == 1
        and data.capacity is None
        and data.sla_share is None
        and data.objective in ("median", "center", "coverage", "set-cover")
    ) or not z
    if reassign:
        return [(p, r, i, 1.0) for p, r, i in nearest_assignments(data, open_mask)]
    rows = []
    for r, zr in z.items():
        for p, var in zr.items():
            share = vals.get(var.name, 0.0)
            if share > 1e-7:
                rows.append((p, r, int(data.pair_i[p]), min(1.0, share)))
    return rows


def _pulp_start(
    data: ModelData,
    prob: Any,
    y: list[Any],
    z: dict[int, dict[int, Any]],
    mask: np.ndarray,
) -> dict[str, float] | None:
    """A MIP start for the PuLP model: the open set, and the assignment where it is cheap.

    None when the set leaves a demand point without an allowed open site (no solution).
    """
    values = {v.name: float(mask[j]) for j, v in enumerate(y)}
    if data.objective in ("coverage", "set-cover") or not z:
        return values  # the other variables are continuous: the solver completes them
    ok = data.primary_ok & mask[data.pair_j]
    served = np.zeros(data.n_demand, dtype=bool)
    served[data.pair_i[ok]] = True
    if not served.all():
        return None
    if data.capacity is not None:
        return values  # shares under capacities: left to the solver
    if data.objective in ("cost", "weighted") and data.redundancy == 1:
        # cheapest open pair of every demand point (the objective's own coefficients)
        pairs = np.fromiter(z[1].keys(), dtype=np.int64, count=len(z[1]))
        pairs = pairs[mask[data.pair_j[pairs]]]
        coef = prob.objective
        c = np.array([coef.get(z[1][int(p)], 0.0) for p in pairs], dtype=float)
        order = np.lexsort((data.pair_j[pairs], data.latency_ms[pairs], c, data.pair_i[pairs]))
        ii = data.pair_i[pairs][order]
        best = pairs[order][np.r_[True, ii[1:] != ii[:-1]]]
        rows = [(int(p), 1) for p in best]
    else:
        rows = [(p, r) for p, r, _ in nearest_assignments(data, mask)]
    counts = np.bincount([r for _, r in rows], minlength=data.redundancy + 1)
    if (counts[1:] < data.n_demand).any():
        return values  # backups not found greedily: the solver completes the start
    for zr in z.values():
        for var in zr.values():
            values[var.name] = 0.0
    for p, r in rows:
        values[z[r][p].name] = 1.0
    if data.objective == "center":
        values["L"] = float(max(data.latency_ms[p] for p, r in rows if r == 1))
    return values


def _without_budget(data: ModelData, request: SolveRequest) -> _Relaxed | None:
    """The problem without its budget, by ``fast-median`` (:func:`_solve_relaxation`), the
    first step of both budget solvers; None when no fast solver covers it (``min_sites``)."""
    from placement.formulations.relax import relaxation

    relaxed = relaxation(data)
    assert relaxed is not None  # the budget is active
    rdata, dropped = relaxed
    fast = choose_solver(rdata, "auto")
    return None if fast is _PULP else _solve_relaxation(data, rdata, dropped, fast, request)


def _with_relaxation(out: Solution, rel: _Relaxed | None, how: str, t0: float) -> Solution:
    """A budget solver's answer with the larger of its bound and the relaxation's (never above
    the answer) and the relaxation note ending in ``how``."""
    rsol = None if rel is None else rel.rsol
    rbound = rsol.bound if rsol is not None and rsol.sense == 1 else None
    bound = out.bound
    if rbound is not None and out.status != "infeasible" and (bound is None or rbound > bound):
        bound = rbound
    if out.found and bound is not None and out.objective is not None:
        bound = min(bound, out.objective)
    stats = dict(out.stats)
    if rel is not None:
        stats = {**rel.rsol.stats, **stats}
        stats["relaxation"] = (
            f"{rel.what}: bound {'none' if rbound is None else f'{rbound:.9g}'}, "
            + "; ".join(rel.broken)
            + f"; {how}"
        )
    return dataclasses.replace(
        out, bound=bound, build_s=0.0, solve_s=time.perf_counter() - t0, stats=stats
    )


def _budget_condition(data: ModelData) -> str | None:
    """:func:`~placement.formulations.budget.budget_condition` (imported when first needed)."""
    from placement.formulations.budget import budget_condition

    return budget_condition(data)


class BudgetMedian:
    """Fast exact median under a budget (:mod:`~placement.formulations.budget`), relaxation first.

    Applies when the serving cost does not depend on the assignment (its condition,
    :func:`~placement.formulations.budget.budget_condition`): the budget is then a knapsack row
    on the sites. First the problem without the budget (``fast-median``, half the time left,
    :func:`_solve_relaxation`): when its optimum meets the budget, or it is infeasible, that is
    the answer; otherwise :func:`~placement.formulations.budget.solve_pmedian_budget` (one radius
    branch and bound per site count with the budget row), started from the relaxation's open
    sites, with the larger of the two bounds. With ``min_sites`` (which ``fast-median`` does not
    declare) the branch and bound runs alone.
    """

    name = "fast-budget-median"
    capabilities = Capabilities(
        objectives=frozenset({"median"}),
        features=_FIXINGS | {"budget", "min_sites"},
        requires=frozenset({"budget"}),
        condition=_budget_condition,
    )

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:
        from placement.formulations.budget import budget_applies, budget_counts

        if not budget_applies(data):
            raise SolverError("the budget's serving cost depends on the assignment")
        t0 = time.perf_counter()
        rel = _without_budget(data, request)
        if rel is not None and rel.settled is not None:
            return rel.settled
        rsol = None if rel is None else rel.rsol
        lo, hi = budget_counts(data)
        if request.progress is not None:
            request.progress(message="budget branch and bound", force=True)
        start = rsol.open_mask if rsol is not None and rsol.found else request.start
        sol = _budget_kernel(data, request, None if start is None else np.flatnonzero(start))
        stats = {"nodes": int(sol.nodes), "warm_start_incumbent": bool(sol.warm_start_used)}
        out = _from_kernel(sol, data, None, stats)
        how = f"budget branch and bound over site counts {lo}..{hi} ({stats['nodes']} nodes)"
        return _with_relaxation(out, rel, how, t0)


def _budget_lagrange_condition(data: ModelData) -> str | None:
    """:func:`~placement.formulations.budget_lagrange.budget_lagrange_condition`."""
    from placement.formulations.budget_lagrange import budget_lagrange_condition

    return budget_lagrange_condition(data)


class BudgetLagrange:
    """A median under a budget whose serving cost depends on the assignment (its condition):
    the Lagrangian on the budget, each multiplier a weighted solve of ``lagrangian-flp``
    (:mod:`~placement.formulations.budget_lagrange`), after the problem without the budget
    (``fast-median``, :func:`_solve_relaxation`), whose optimum settles it when it meets the
    budget; then a branch and bound over the sites with Lagrangian node bounds closes the
    duality gap. Optimal when the tree is exhausted (or the bound meets the incumbent before),
    else ``feasible`` with the gap left at the time limit."""

    name = "budget-lagrangian"
    capabilities = Capabilities(
        objectives=frozenset({"median"}),
        features=_FIXINGS | {"budget", "min_sites"},
        requires=frozenset({"budget"}),
        condition=_budget_lagrange_condition,
    )

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:
        from placement.formulations.budget_lagrange import (
            budget_lagrange_applies,
            solve_budget_lagrange,
        )

        if not budget_lagrange_applies(data):
            raise SolverError("not a median under a budget with assignment-dependent costs")
        t0 = time.perf_counter()
        rel = _without_budget(data, request)
        if rel is not None and rel.settled is not None:
            return rel.settled
        rsol = None if rel is None else rel.rsol
        if request.progress is not None:
            request.progress(message="budget Lagrangian", force=True)
        start = rsol.open_mask if rsol is not None and rsol.found else request.start
        left = request.remaining_s()
        res = solve_budget_lagrange(
            data,
            deadline=math.inf if left is None else time.perf_counter() + left,
            start_mask=start,
            threads=request.options.threads,
        )
        out = Solution(
            status=res.status,
            objective=res.objective,
            bound=_finite(res.bound),
            open_mask=res.open_mask,
            rows=res.rows,
            raw_status=res.status,
            message="" if res.status == "optimal" else f"budget Lagrangian: gap {res.stats['gap']}",
            stats={"budget_solves": res.stats["solves"], "bb_nodes": res.stats.get("bb_nodes", 0)},
        )
        how = f"Lagrangian on the budget ({res.stats['solves']} weighted solves"
        how += f", {res.stats['bb_nodes']} nodes)" if "bb_nodes" in res.stats else ")"
        return _with_relaxation(out, rel, how, t0)


#: The solvers, in order of preference (the PuLP backend, which covers everything, last).
SOLVERS: tuple[Solver, ...] = (
    FastMedian(),
    FastPercentile(),
    BudgetMedian(),
    BudgetLagrange(),
    FastCenter(),
    RedundantMedian(),
    RedundantCenter(),
    CflSolver(),
    LagrangianSolver(),
    PulpSolver(),
)
_PULP = SOLVERS[-1]
_LAGRANGIAN = SOLVERS[-2]
_BUDGET = SOLVERS[2]

METHODS = ("auto", "pulp", "fast")


def check_method(method: str) -> None:
    """Refuse a ``method`` other than those of :data:`METHODS`, naming the field."""
    if method not in METHODS:
        raise ValidationError(
            "must be 'auto', 'pulp' or 'fast'", table="parameter", field="method", value=method
        )


def choose_solver(data: ModelData, method: str = "auto") -> Solver:
    """The first solver of :data:`SOLVERS` that declares everything ``data`` needs.

    Parameters
    ----------
    data : ModelData
        The lowered problem.
    method : {"auto", "pulp", "fast"}
        ``pulp`` forces the PuLP backend; ``fast`` refuses to fall back to it.

    Returns
    -------
    Solver

    Raises
    ------
    placement.errors.ValidationError
        For ``method="fast"`` when no fast solver covers the problem (the message says what
        each one lacks), or an unknown method.
    """
    check_method(method)
    if method == "pulp":
        return _PULP
    for solver in SOLVERS[:-1]:
        if solver.capabilities.covers(data):
            return solver
    if method == "fast":
        lacks = "; ".join(f"{s.name}: {', '.join(s.capabilities.gaps(data))}" for s in SOLVERS[:-1])
        raise ValidationError(
            f"the fast solvers do not cover this problem ({lacks})",
            table="parameter",
            field="method",
            value=method,
        )
    return _PULP


def _stop_reason(sol: Solution, request: SolveRequest) -> str:
    """Why an incumbent was not proven optimal, in words."""
    gap = sol.gap
    with_gap = f"with gap {gap:.4%}" if gap is not None else "without a proven bound"
    limit = request.options.time_limit_s
    if limit is not None and (request.timed_out() or "time" in sol.raw_status.lower()):
        return f"stopped by the time limit ({limit:g} s) {with_gap}"
    asked = request.options.gap_rel
    if asked > OPTIMALITY_TOLERANCE and gap is not None and gap <= asked * (1 + 1e-9):
        return f"stopped at the requested gap_rel={asked:g} {with_gap}"
    detail = f": {sol.message}" if sol.message else ""
    return f"not proven optimal {with_gap} (solver status {sol.raw_status or 'unknown'}){detail}"


def finalize(sol: Solution, request: SolveRequest) -> Solution:
    """Apply the one status rule: ``optimal`` only when the bound proves it.

    An incumbent whose bound does not prove it within
    :data:`~placement.formulations._gap.OPTIMALITY_TOLERANCE` is ``feasible``, with the reason
    it stopped (time limit, a requested gap, the solver's own word); a solver's
    ``"feasible"`` whose bound does prove it is ``optimal``.
    """
    if not sol.found:
        status = sol.status if sol.status in ("infeasible", "no_solution") else "no_solution"
        message = sol.message
        if status == "no_solution" and not message:
            limit = request.options.time_limit_s
            message = (
                f"stopped by the time limit ({limit:g} s) before finding a solution"
                if limit is not None and request.timed_out()
                else f"the solver stopped without a solution ({sol.raw_status or 'unknown'})"
            )
        return dataclasses.replace(
            sol, status=status, objective=None, open_mask=None, rows=[], message=message
        )
    if sol.proven:
        return dataclasses.replace(sol, status="optimal", message="")
    return dataclasses.replace(sol, status="feasible", message=_stop_reason(sol, request))


def _checked(data: ModelData, sol: Solution, solver: Solver) -> Solution:
    """``sol`` when it meets every constraint of ``data``; else :class:`SolverError`.

    The post-check of every fast answer (:func:`~placement.formulations.verify.broken_constraints`,
    relative slack :data:`~placement.formulations.verify.CHECK_TOL`): never a wrong answer.
    """
    from placement.formulations.verify import broken_constraints

    if sol.found and (broken := broken_constraints(data, sol)):
        raise SolverError(f"{solver.name} returned an answer that breaks {'; '.join(broken)}")
    return sol


def _fallback(exc: SolverError, solver: Solver, data: ModelData, request: SolveRequest) -> Solution:
    """The PuLP model's solution after a fast solver failed, with a ``RuntimeWarning``.

    Not when the model is one :func:`_pulp_too_big` refuses or its build would not fit in the
    time left (:func:`_pulp_has_time`; the build does not look at the clock): then no
    solution, saying why, instead of a build that runs far past the time limit.
    """
    why = _pulp_skip_reason(data, request, time.perf_counter(), time.process_time())
    if why is not None:
        warnings.warn(
            f"{solver.name} solver failed ({exc}); the PuLP model is not built ({why})",
            RuntimeWarning,
            stacklevel=3,
        )
        return Solution(
            status="no_solution",
            raw_status="time limit: too little time left to build the PuLP model",
            message=f"{solver.name} failed ({exc}) and the PuLP model was not built ({why})",
        )
    warnings.warn(
        f"{solver.name} solver failed ({exc}); solving the PuLP model instead",
        RuntimeWarning,
        stacklevel=3,
    )
    return _PULP.solve(data, request)


def solve_data(
    data: ModelData, request: SolveRequest, method: str = "auto"
) -> tuple[Solution, Solver]:
    """Choose a solver for ``data``, run it, check its answer and apply :func:`finalize`.

    Every answer of a fast solver (or of the relaxation-first routes, and an incumbent before
    it replaces the PuLP model's answer there) is checked against every constraint of ``data``
    (:func:`~placement.formulations.verify.broken_constraints`) before it is returned. A fast solver that raises :class:`~placement.errors.SolverError` (numerical
    trouble) or whose answer breaks a constraint is replaced by the PuLP backend with a
    ``RuntimeWarning`` (with ``method="fast"`` the error is raised); one that stops without any
    solution before the deadline hands the problem to the PuLP model, whose proof of
    infeasibility or solution is returned (``method="auto"`` only).

    Returns
    -------
    (Solution, Solver)
        The finalized solution and the solver that produced it.
    """
    solver = choose_solver(data, method)
    if solver is _PULP and method == "auto":
        first = _relaxation_first(data, request)
        if first is not None:
            sol, used = first
            if used is _PULP:
                return first
            try:
                return _checked(data, sol, used), used
            except SolverError as exc:
                return finalize(_fallback(exc, used, data, request), request), _PULP
    log.debug("solver %s for %s", solver.name, data.objective)
    if request.progress is not None:
        request.progress(message=f"solving with {solver.name}", force=True)
    try:
        sol = solver.solve(data, request)
        if solver is not _PULP:
            sol = _checked(data, sol, solver)
    except SolverError as exc:
        if method == "fast" or solver is _PULP:
            raise
        sol = _fallback(exc, solver, data, request)
        solver = _PULP
    if (
        method == "auto"
        and solver is not _PULP
        and sol.status == "no_solution"
        and not request.timed_out()
        and _pulp_too_big(data, request) is None
    ):
        # a fast solver that stopped without any solution, with time left, has not shown that
        # none exists: the PuLP model decides (a proof of infeasibility, or a solution)
        log.debug("%s found no solution: solving the PuLP model", solver.name)
        verdict = _PULP.solve(data, request)
        if verdict.status == "infeasible" or verdict.found:
            sol, solver = verdict, _PULP
    return finalize(sol, request), solver


#: Share of the time left that the percentile SLA's Lagrangian search may use (after the
#: relaxation) before the PuLP model gets the rest.
LAGRANGE_TIME_SHARE = 0.5


def _percentile_lagrange(data: ModelData, request: SolveRequest, fast: Solver, t0: float) -> Any:
    """:func:`~placement.formulations.relax.percentile_lagrange` with FastMedian, or None."""
    from placement.formulations.radius import solve_pmedian
    from placement.formulations.relax import percentile_applies, percentile_lagrange

    if not isinstance(fast, FastMedian) or not percentile_applies(data):
        return None
    left = request.remaining_s()
    now = time.perf_counter()
    deadline = math.inf if left is None else now + LAGRANGE_TIME_SHARE * left
    opts = request.options
    share = data.weight / data.total_weight

    def pmedian(matrix: np.ndarray, start: np.ndarray | None, left_s: float) -> Any:
        sol = solve_pmedian(
            matrix,
            share,
            _count(data),
            must_open=data.must_open,
            forbidden=data.forbidden,
            initial_open=None if start is None else np.flatnonzero(start),
            time_limit_s=None if not math.isfinite(left_s) else max(0.05, left_s),
            gap_rel=opts.gap_rel,
            threads=opts.threads,
        )
        bound = _finite(sol.best_bound)
        if sol.status not in ("optimal", "feasible") or bound is None:
            return None
        return _mask(data.n_sites, sol.open_sites), bound

    return percentile_lagrange(data, pmedian, deadline=deadline)


#: Share of the time left that the capacity incumbent's local search may use (after the
#: relaxation) before the PuLP model gets the rest.
CAPACITY_SEARCH_SHARE = 0.25


def _capacity_incumbent(
    data: ModelData, request: SolveRequest, start: np.ndarray, share: float = CAPACITY_SEARCH_SHARE
) -> Any:
    """:func:`~placement.formulations.relax.capacity_incumbent` from ``start``, or None.

    With backups (median), :func:`~placement.formulations.relax.capacity_redundant_incumbent`.
    """
    from placement.formulations.relax import (
        capacity_applies,
        capacity_incumbent,
        capacity_redundant_incumbent,
    )

    left = request.remaining_s()
    budget = 30.0 if left is None else share * left
    deadline = time.perf_counter() + budget
    if capacity_applies(data):
        return capacity_incumbent(data, start, deadline=deadline, budget_s=budget)
    if data.capacity is not None and data.redundancy > 1:
        return capacity_redundant_incumbent(data, start, deadline=deadline, budget_s=budget)
    return None


#: PuLP model build and transfer to HiGHS, CPU seconds per pair (measured: 4.1 s for the
#: world instance's 226k pairs on an idle core), and how many builds' time it needs left.
PULP_BUILD_CPU_S_PER_PAIR = 2e-5
PULP_BUILDS_NEEDED = 3.0


def _pulp_has_time(data: ModelData, request: SolveRequest, t0: float, c0: float) -> bool:
    """False when the time left is under ``PULP_BUILDS_NEEDED`` estimated PuLP model builds.

    The estimate scales the build's CPU seconds by the wall/CPU ratio of the phase so far (the
    machine's load), since the PuLP build does not look at the clock: on the world instance
    under load it took 19-75 s of wall and ran past the time limit.
    """
    left = request.remaining_s()
    if left is None:
        return True
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    slowdown = max(1.0, wall / cpu) if cpu > 0.05 else 1.0
    build_s = PULP_BUILD_CPU_S_PER_PAIR * data.n_pairs * data.redundancy * slowdown
    return left >= PULP_BUILDS_NEEDED * build_s


def _pulp_skip_reason(data: ModelData, request: SolveRequest, t0: float, c0: float) -> str | None:
    """Why the PuLP model is not built now (None: it is): :func:`_pulp_too_big`, or a time
    left under :data:`PULP_BUILDS_NEEDED` estimated builds (:func:`_pulp_has_time`)."""
    too_big = _pulp_too_big(data, request)
    if too_big is None and not _pulp_has_time(data, request, t0, c0):
        return f"the time left is under {PULP_BUILDS_NEEDED:g} estimated builds"
    return too_big


#: With a capacity (median, redundancy 1), the share of the time left that the capacity
#: incumbent's local search may use before :func:`~.lagrangian.solve_lagrangian` gets the rest
#: (there the strong LP's site branch and bound finds and proves the optimum itself: on the
#: world instance at load 8, 0.1 proves 28.950697 in 36 s of wall, 18 CPU s, where 0.4 left the
#: branch and bound too little time; the search's incumbent only starts the LP's multipliers).
#: The PuLP model is not built: under load its build alone took 19-75 s on the world instance.
LAGRANGIAN_CAPACITY_SEARCH_SHARE = 0.1
#: Pairs from which a capacity problem goes to the Lagrangian bound instead of the PuLP model:
#: below, PuLP + HiGHS prove such problems outright (tests/test_relax.py); on the world
#: instance (226k pairs) its LP relaxation alone does not end within a minute.
LAGRANGIAN_CAPACITY_MIN_PAIRS = 50_000


#: Time left (s) under which a percentile SLA at ``LAGRANGIAN_CAPACITY_MIN_PAIRS`` pairs or more
#: keeps the Lagrangian search's incumbent and bound without building the PuLP model.
PERCENTILE_PULP_MIN_LEFT_S = 120.0


def _pulp_too_big(data: ModelData, request: SolveRequest) -> str | None:
    """Why the PuLP model is not built after the relaxation (None: it is).

    A capacity with backups at ``LAGRANGIAN_CAPACITY_MIN_PAIRS`` pairs or more: its PuLP model
    (610k columns on the world instance with redundancy 2) took 40 s of wall to build under
    load and found no solution in a 60-s limit. A percentile SLA at that size with less than
    ``PERCENTILE_PULP_MIN_LEFT_S`` left: on the world instance (cap 60, 3 runs) the PuLP model
    took 25 CPU s and 1.7 GB and ended with the Lagrangian search's incumbent and bound, no
    better (with 300 s it raised the bound from 28.2895 to 28.311, still unproven).
    """
    if data.n_pairs * data.redundancy < LAGRANGIAN_CAPACITY_MIN_PAIRS:
        return None
    if data.capacity is not None and data.redundancy > 1:
        return f"at least {LAGRANGIAN_CAPACITY_MIN_PAIRS:,} pairs with backups and a capacity"
    left = request.remaining_s()
    if data.sla_share is not None and left is not None and left < PERCENTILE_PULP_MIN_LEFT_S:
        return (
            f"at least {LAGRANGIAN_CAPACITY_MIN_PAIRS:,} pairs with a percentile SLA and "
            f"under {PERCENTILE_PULP_MIN_LEFT_S:g} s left"
        )
    return None


def _capacity_by_lagrangian(data: ModelData) -> bool:
    """True when a capacity problem is bounded by :mod:`~.lagrangian` instead of PuLP."""
    from placement.formulations.lagrangian import lagrangian_applies
    from placement.formulations.relax import capacity_applies

    return (
        data.capacity is not None
        and int(data.primary_ok.sum()) >= LAGRANGIAN_CAPACITY_MIN_PAIRS
        and capacity_applies(data)
        and lagrangian_applies(data)
    )


def _capacity_bound_note(lb: float, stats: dict[str, Any]) -> str:
    """How the capacity bound was found: the strong LP (site pricing) or the knapsack ascent."""
    if stats.get("lp_proven"):
        how = f"the strong LP's optimum, {stats.get('lp_rounds')} LPs over {stats.get('lp_sites')} sites"
    else:
        how = "capacity knapsacks; the strong LP over a subset of sites unfinished"
    note = f"Lagrangian bound {lb:.9g} ({how})"
    if stats.get("mip_sites") is not None:
        done = "proven" if stats.get("mip_proven") else "stopped"
        note += (
            f"; site branch and bound over {stats['mip_sites']} sites left by reduced-cost "
            f"fixing ({stats.get('bb_nodes', 0)} nodes): {done}"
        )
    if stats.get("rounding_objective") is not None:
        note += f"; LP rounding {stats['rounding_objective']:.9g}"
    return note


def _capacity_lagrangian(
    data: ModelData,
    request: SolveRequest,
    rsol: Solution,
    incumbent: Solution,
    what: str,
    broken: list[str],
    t0: float,
) -> tuple[Solution, Solver]:
    """The capacity incumbent with the larger of the relaxation's and the Lagrangian bound."""
    from placement.formulations.lagrangian import solve_lagrangian

    start = (incumbent.open_mask, incumbent.rows, incumbent.objective)
    sol = _lagrangian_solution(solve_lagrangian, data, request, start, ascent_share=1.0)
    rbound = rsol.bound if rsol.sense == 1 else None
    bound = sol.bound
    if rbound is not None and (bound is None or rbound > bound):
        bound = rbound
    if sol.found and bound is not None and sol.objective is not None:
        bound = min(bound, sol.objective)
    lb = sol.stats.get("lagrangian_bound")
    note = f"{what}: bound {'none' if rbound is None else f'{rbound:.9g}'}, " + "; ".join(
        [*broken, _capacity_bound_note(lb, sol.stats)]
    )
    out = dataclasses.replace(
        sol,
        bound=bound,
        solve_s=time.perf_counter() - t0,
        stats={**rsol.stats, **sol.stats, "relaxation": note},
    )
    return finalize(out, request), _LAGRANGIAN


#: The strong LP of capacity + backups (:mod:`~.cfl_redundant_lp`), CPU seconds per pair of
#: its merged demand classes and rank (world instance, 243k class pairs at redundancy 2:
#: proven in 3 LPs, 11-12 CPU s on a quiet machine), and how many such estimates of wall time
#: it needs left to start (scaled by the phase's wall/CPU ratio as for the PuLP build): its
#: first LP (a fifth of the estimate) gives a rounding and duals that the subgradient ascent
#: raises when the pricing cannot end in time; with less, the relaxation's bound and swaps.
CAPRED_LP_CPU_S_PER_PAIR = 2.5e-5
CAPRED_LP_ESTIMATES_NEEDED = 0.5
#: Seconds before the time limit at which the swaps of the capacity + backups incumbent stop.
CAPRED_MARGIN_S = 0.5
#: Capacity + backups by the strong LP: the share of the time left that the relaxation without
#: the capacity gets when the LP will run (:func:`_capred_lp_runs`), and the share that the
#: capacity incumbent's search gets after it. The LP's bound supersedes the relaxation's, so
#: only its incumbent is needed (the relaxation's heuristic finds it in 0.2 s on the world
#: instance, whose proof then took 9.7 s of a 60-s limit), and the LP's rounding and swaps
#: find better sets than the search (world: 57.28 after 1 s of search, 57.43 after 14 s; the
#: rounding and swaps reach the optimum 56.4101 from either).
CAPRED_RELAXATION_SHARE = 0.05
CAPRED_SEARCH_SHARE = 0.1


def _capred_lp_need_s(data: ModelData, slowdown: float = 1.0) -> float:
    """Estimated wall seconds of the strong LP of capacity + backups (its class pairs)."""
    from placement.formulations.cfl_redundant_lp import class_pairs

    return CAPRED_LP_CPU_S_PER_PAIR * class_pairs(data) * data.redundancy * slowdown


def _capred_lp_runs(data: ModelData, request: SolveRequest) -> bool:
    """True when capacity + backups goes to the strong LP (:func:`_capacity_redundant_by_lp`)
    with a time limit that leaves it two estimates (:func:`_capred_lp_need_s`): the relaxation
    and the incumbent search before it then get :data:`CAPRED_RELAXATION_SHARE` and
    :data:`CAPRED_SEARCH_SHARE`. Without a limit they keep their own shares."""
    left = request.remaining_s()
    return (
        left is not None and _capacity_redundant_by_lp(data) and left >= 2 * _capred_lp_need_s(data)
    )


def _capacity_redundant_by_lp(data: ModelData) -> bool:
    """True for capacity + backups (median) too big for the PuLP model (``_pulp_too_big``)."""
    from placement.formulations.cfl_redundant_lp import redundant_capacity_applies

    return (
        redundant_capacity_applies(data)
        and data.n_pairs * data.redundancy >= LAGRANGIAN_CAPACITY_MIN_PAIRS
    )


def _capacity_redundant(
    data: ModelData,
    request: SolveRequest,
    rsol: Solution,
    incumbent: Solution,
    what: str,
    broken: list[str],
    t0: float,
    c0: float,
    fast: Solver,
) -> tuple[Solution, Solver]:
    """Capacity + backups at scale: the incumbent valued exactly, the strong LP's bound on the
    demand classes when the time left allows its first LP (its duals raised by a subgradient
    ascent when the pricing cannot end in time), its rounding and, the LP proven, a site
    branch and bound over it (:func:`~.cfl_redundant_lp.solve_capacity_redundant`).

    The bound is the larger of the relaxation's (without the capacity) and the LP's
    Lagrangian bound; the status ``optimal`` only when it meets the incumbent.
    """
    from placement.formulations.cfl_redundant_lp import (
        evaluate_open,
        improve_open,
        solve_capacity_redundant,
    )

    left = request.remaining_s()
    deadline = math.inf if left is None else time.perf_counter() + left
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    slowdown = max(1.0, wall / cpu) if cpu > 0.05 else 1.0
    need_s = _capred_lp_need_s(data, slowdown)
    best = (incumbent.objective, incumbent.open_mask, incumbent.rows)
    rbound = rsol.bound if rsol.sense == 1 else None
    notes = list(broken)
    stats: dict[str, Any] = {}
    if left is None or left >= CAPRED_LP_ESTIMATES_NEEDED * need_s:
        extra = rsol.open_mask if rsol.found else None
        res = solve_capacity_redundant(
            data,
            incumbent.open_mask,
            incumbent.rows,
            incumbent.objective,
            deadline=deadline,
            extra_open=extra,
            verbose=request.options.verbose,
        )
        stats = dict(res.stats)
        if res.incumbent is not None:
            best = res.incumbent
        if math.isfinite(res.bound) and (rbound is None or res.bound > rbound):
            rbound = res.bound
        how = "proven" if res.stats.get("lp_proven") else "unfinished"
        if res.stats.get("lp_ascent_steps"):
            how += f", its duals raised by {res.stats['lp_ascent_steps']} subgradient steps"
        notes.append(
            f"strong LP with capacity and backups {how} ({res.stats.get('lp_rounds')} LPs over "
            f"{res.stats.get('lp_sites')} sites, Lagrangian bound "
            f"{res.stats.get('capred_lp_bound', res.bound):.9g}); "
            f"{res.stats.get('rounding_sets')} open sets near its y valued"
            + (
                f"; site branch and bound {'proven' if res.stats['bb_proven'] else 'unfinished'} "
                f"({res.stats['bb_nodes']} nodes, {res.stats['bb_sites_free']} sites free, "
                f"bound {res.bound:.9g})"
                if "bb_nodes" in res.stats
                else ""
            )
        )
    else:
        got = evaluate_open(data, incumbent.open_mask, deadline)
        if got is not None and got[0] < incumbent.objective:
            best = (got[0], incumbent.open_mask, got[1])
        swapped = improve_open(data, best[1], best[2], best[0], deadline - CAPRED_MARGIN_S)
        if swapped is not None:
            best = swapped
        notes.append(
            f"strong LP with capacity and backups skipped (about {need_s:.0f} s needed, "
            f"{left:.0f} s left); the incumbent's open set valued exactly "
            f"({'none' if got is None else f'{got[0]:.9g}'}) and improved by swaps valued "
            f"exactly ({best[0]:.9g})"
        )
    objective, mask, rows = best
    bound = None if rbound is None else min(rbound, objective)
    note = f"{what}: bound {'none' if rbound is None else f'{rbound:.9g}'}, " + "; ".join(notes)
    by_clock = left is not None and (
        not stats or time.perf_counter() >= deadline - 2 * CAPRED_MARGIN_S - 1.0
    )
    sol = Solution(
        status="feasible",
        objective=objective,
        bound=bound,
        open_mask=np.asarray(mask, dtype=bool).copy(),
        rows=list(rows),
        build_s=0.0,
        solve_s=time.perf_counter() - t0,
        # the LP skipped for want of time, or a stage stopped at the deadline (less a margin):
        # finalize's message then says "stopped by the time limit"
        raw_status="capacity-redundant: time limit" if by_clock else "capacity-redundant",
        stats={**rsol.stats, **stats, "relaxation": note},
    )
    return finalize(sol, request), fast


#: Share of the time left that the relaxation may use before the PuLP model gets the rest.
RELAXATION_TIME_SHARE = 0.5


@dataclasses.dataclass(frozen=True)
class _Relaxed:
    """A fast solver's run on the relaxation (:func:`_solve_relaxation`)."""

    rsol: Solution  # finalized on the relaxation's own request
    what: str  # "<solver> without <dropped features>"
    broken: list[str]  # the dropped constraints its solution breaks (in words)
    settled: Solution | None  # the answer when the relaxation settles the problem, else None
    t0: float  # perf_counter and process_time when it started
    c0: float


def _solve_relaxation(
    data: ModelData,
    rdata: ModelData,
    dropped: tuple[str, ...],
    fast: Solver,
    request: SolveRequest,
    share: float = RELAXATION_TIME_SHARE,
) -> _Relaxed:
    """``fast`` on the relaxation ``rdata`` with ``share`` of the time left.

    It settles the problem when the relaxation is infeasible (so is the problem) or its optimum
    meets the dropped constraints (as it is, or with open sites swapped for co-located twins,
    :func:`~placement.formulations.relax.twin_repair`): ``settled`` is then the answer, proven by
    the relaxation's bound. Raises :class:`~placement.errors.SolverError` as ``fast`` does.
    """
    from placement.formulations.relax import twin_repair, violations

    t0, c0 = time.perf_counter(), time.process_time()
    left = request.remaining_s()
    sub = dataclasses.replace(
        request,
        restart=None,
        deadline=request.deadline if left is None else t0 + share * left,
    )
    what = f"{fast.name} without {', '.join(dropped)}"
    if request.progress is not None:
        request.progress(message=f"relaxation first: {what}", force=True)
        # its incumbents may break the dropped constraints: only its bound is the problem's
        sub = dataclasses.replace(
            sub, progress=RelaxationReporter(request.progress, f"relaxation ({what})")
        )
    rsol = finalize(fast.solve(rdata, sub), sub)
    spent = time.perf_counter() - t0
    if rsol.status == "infeasible":
        stats = {**rsol.stats, "relaxation": f"{what}: infeasible, so is the problem"}
        sol = dataclasses.replace(rsol, stats=stats, build_s=0.0, solve_s=spent)
        return _Relaxed(rsol, what, [], sol, t0, c0)
    broken = violations(data, rsol) if rsol.found else ["no solution"]
    how = "its optimum meets them"
    if rsol.status == "optimal" and broken:
        twin = twin_repair(data, rsol)
        if twin is not None:
            rsol, broken = twin, []
            how = "its optimum, with open sites swapped for co-located twins, meets them"
    settled = None
    if rsol.status == "optimal" and not broken:
        stats = {**rsol.stats, "relaxation": f"{what}: {how}"}
        settled = dataclasses.replace(rsol, stats=stats, build_s=0.0, solve_s=spent)
    return _Relaxed(rsol, what, broken, settled, t0, c0)


def _relaxation_first(data: ModelData, request: SolveRequest) -> tuple[Solution, Solver] | None:
    """Solve the relaxation without the restricting constraints with a fast exact solver.

    Returns its optimum when that meets the dropped constraints (proven by the relaxation's
    bound) or when the relaxation is infeasible (so is the problem); otherwise the PuLP model's
    solution started from the relaxation's open sites, with the larger of the two bounds. None
    when no fast solver covers the relaxation (the caller solves the PuLP model as before).
    See :mod:`placement.formulations.relax`.
    """
    from placement.formulations.relax import relaxation, violations
    from placement.formulations.verify import broken_constraints

    relaxed = relaxation(data)
    if relaxed is None:
        return None
    rdata, dropped = relaxed
    fast = choose_solver(rdata, "auto")
    if fast is _PULP:
        return None
    capred_lp = _capred_lp_runs(data, request)
    share = CAPRED_RELAXATION_SHARE if capred_lp else RELAXATION_TIME_SHARE
    try:
        rel = _solve_relaxation(data, rdata, dropped, fast, request, share)
    except SolverError as exc:
        log.debug("relaxation %s failed: %s", f"{fast.name} without {dropped}", exc)
        return None
    if rel.settled is not None:
        return finalize(rel.settled, request), fast
    rsol, what, broken, t0, c0 = rel.rsol, rel.what, rel.broken, rel.t0, rel.c0
    lagr = _percentile_lagrange(data, request, fast, t0) if rsol.found else None
    if lagr is not None and lagr.infeasible:
        note = (
            f"{what}: no {_count(data)} sites serve sla_share within sla_ms (p-median of 0/1 costs)"
        )
        sol = Solution(
            status="infeasible",
            build_s=0.0,
            solve_s=time.perf_counter() - t0,
            raw_status="infeasible",
            message="the percentile SLA cannot be met: " + note,
            stats={**rsol.stats, "relaxation": note},
        )
        return finalize(sol, request), fast
    if lagr is not None and lagr.solution is not None:
        if lagr.solution.status == "optimal":
            stats = {
                **rsol.stats,
                "relaxation": f"{what}: Lagrangian penalty of the percentile SLA "
                f"({lagr.solves} p-median solves) proves its best SLA-meeting optimum",
            }
            sol = dataclasses.replace(
                rsol,
                status="optimal",
                objective=lagr.solution.objective,
                bound=lagr.solution.bound,
                open_mask=lagr.solution.open_mask,
                rows=lagr.solution.rows,
                build_s=0.0,
                solve_s=time.perf_counter() - t0,
                stats=stats,
            )
            return finalize(sol, request), fast
    incumbent = None if lagr is None else lagr.solution
    by_lagrangian = _capacity_by_lagrangian(data)
    if incumbent is None and rsol.found:
        if capred_lp:
            share = CAPRED_SEARCH_SHARE
        elif by_lagrangian:
            share = LAGRANGIAN_CAPACITY_SEARCH_SHARE
        else:
            share = CAPACITY_SEARCH_SHARE
        incumbent = _capacity_incumbent(data, request, rsol.open_mask, share)
    if by_lagrangian and incumbent is not None:
        return _capacity_lagrangian(data, request, rsol, incumbent, what, broken, t0)
    if incumbent is not None and _capacity_redundant_by_lp(data):
        return _capacity_redundant(data, request, rsol, incumbent, what, broken, t0, c0, fast)
    spent = time.perf_counter() - t0
    start = request.start
    if start is None and incumbent is not None:
        start = incumbent.open_mask
    if start is None and rsol.found:
        start = rsol.open_mask
    why = _pulp_skip_reason(data, request, t0, c0)
    skipped = incumbent is not None and why is not None
    if skipped:
        # the PuLP model could not even be built in the time left: the incumbent, with its bound
        sol = Solution(
            status="no_solution",
            raw_status="time limit: too little time left to build the PuLP model",
            stats=rsol.stats,
        )
        broken = [*broken, f"PuLP model skipped ({why})"]
    else:
        sol = _PULP.solve(data, dataclasses.replace(request, start=start))
    rbound = rsol.bound if rsol.sense == 1 else None
    if lagr is not None and math.isfinite(lagr.bound):
        rbound = lagr.bound if rbound is None else max(rbound, lagr.bound)
        broken = [*broken, f"Lagrangian bound {lagr.bound:.9g} after {lagr.solves} p-median solves"]
    bound = sol.bound
    if rbound is not None and (bound is None or rbound > bound):
        bound = rbound
    if sol.found and rbound is not None and sol.objective is not None:
        bound = min(bound, sol.objective) if bound is not None else None  # never above it
    note = f"{what}: bound {'none' if rbound is None else f'{rbound:.9g}'}, " + "; ".join(broken)
    out = dataclasses.replace(
        sol,
        bound=bound,
        solve_s=sol.solve_s + spent,
        stats={**sol.stats, "relaxation": note},
    )
    if (
        incumbent is not None
        and (not out.found or out.objective > incumbent.objective)
        and not broken_constraints(data, incumbent)  # the post-check, as solve_data's
    ):
        # the Lagrangian search's or the transportation LPs' incumbent meets every constraint
        out = dataclasses.replace(
            out,
            status="feasible",
            objective=incumbent.objective,
            open_mask=incumbent.open_mask,
            rows=incumbent.rows,
            bound=bound if bound is None else min(bound, incumbent.objective),
        )
    if not out.found and rsol.found and not violations(data, rsol):  # relaxation's is feasible
        out = dataclasses.replace(
            rsol,
            bound=bound,
            build_s=sol.build_s,
            solve_s=sol.solve_s + spent,
            stats={**rsol.stats, "relaxation": note},
        )
    return finalize(out, request), fast if skipped else _PULP


def _budget_kernel(data: ModelData, request: SolveRequest, initial_open: Any) -> Any:
    """:func:`~placement.formulations.budget.solve_pmedian_budget` on ``data``."""
    from placement.formulations.budget import budget_counts, serving_usd, solve_pmedian_budget

    lo, hi = budget_counts(data)
    limit = float(data.budget_usd) - float(serving_usd(data) or 0.0)
    return solve_pmedian_budget(
        _primary_matrix(data),
        data.weight / data.total_weight,
        data.fixed_usd,
        limit,
        lo,
        hi,
        must_open=data.must_open,
        forbidden=data.forbidden,
        initial_open=initial_open,
        progress=request.progress,
        **_common(request),
    )
