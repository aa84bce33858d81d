"""Exact median under a budget that binds: the radius branch and bound with a knapsack row.

Problem
-------
Open a set ``S`` of between ``lo`` and ``hi`` sites and serve every demand from its nearest open
site, minimising ``f(S) = Σ_i w_i min_{j∈S} c_ij``, subject to the budget
``Σ_{j∈S} F_j + serving ≤ B``. Here the serving cost (variable cost per unit served and pair
costs, :func:`placement.formulations.builders.cost_expression`) does not depend on which open
site serves a demand point (:func:`budget_applies`: no pair costs, one variable cost for every
allowed site, so ``serving = V · W``), so the budget is a knapsack row on the sites alone,
``Σ_j F_j y_j ≤ B − V · W``, and the nearest-site assignment is optimal for every ``S``.

Model
-----
The master of :mod:`placement.formulations.radius` (``min Σ_i w_i θ_i``, radius cuts generated
as needed) with its count row widened from ``Σ_j y_j = p`` to ``lo ≤ Σ_j y_j ≤ hi`` (radius cuts
and coverage rows hold for any count) and the knapsack row. Its branch and bound, reduced-cost
fixing and strong branching are the radius solver's, unchanged (they hold for any extra rows);
only the incumbents differ, every one checked against the budget:

1. the cheapest cover: the open set of least fixed cost that gives every demand point an
   allowed site within the count limits (a set-cover MIP in HiGHS, as
   :mod:`placement.diagnose` uses to refuse a budget below it), then
2. :func:`budget_swap_search`: best-improvement add / drop / swap moves that keep the budget,
   the count limits and every demand point served; also from the relaxation's optimum (given
   as ``start``) cut down to the budget by dropping the sites of least latency cost per dollar,
3. at the root, the same search from the LP's largest ``y`` taken greedily within the budget.

World instance (3,038 demand points x 169 regions, 150 ms, 2 MW and 5 M$ a site, at most 12
sites): see benchmarks/constraints_bench.py (``budget_tight``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import highspy
import numpy as np
import numpy.typing as npt

from placement.errors import ValidationError
from placement.formulations._cover import cheapest_cover
from placement.formulations._gap import rel_gap
from placement.formulations.contract import active_features
from placement.formulations.data import ModelData
from placement.formulations.radius import (
    ExactSolution,
    RootRestart,
    _Solver,
    exact_start,
    infeasible_solution,
)
from placement.heuristics import Inputs, assign_nearest, site_indices

__all__ = [
    "BUDGET_TOL",
    "budget_applies",
    "budget_condition",
    "budget_counts",
    "budget_swap_search",
    "cheapest_cover_set",
    "serving_usd",
    "solve_pmedian_budget",
]

#: Relative slack of the budget, as :func:`placement.formulations.relax.violations` checks it.
BUDGET_TOL = 1e-9
#: Time of the cheapest-cover MIP (it takes 0.3 s on the world instance).
COVER_TIME_S = 5.0
#: Share of the time left for the incumbents of every count before the trees (covers + swaps).
INCUMBENT_SHARE = 0.2


def serving_usd(data: ModelData) -> float | None:
    """The serving part of the budget when no assignment changes it (None when one does).

    That is when there are no pair costs on primary pairs and every allowed site has the same
    variable cost per unit (``V · W`` then, whatever serves whom).
    """
    ok = data.primary_ok
    if bool(np.any(data.pair_cost_usd[ok] != 0)):
        return None
    sites = np.unique(data.pair_j[ok])
    v = data.variable_usd_per_unit[sites]
    if len(v) and not bool(np.all(v == v[0])):
        return None
    return float(v[0]) * data.total_weight if len(v) else 0.0


def budget_counts(data: ModelData) -> tuple[int, int]:
    """The count limits of a median under a budget: ``n_sites``, else ``min_sites`` (at least 1)
    to ``max_sites`` or every site not forbidden (more sites may not fit in the budget)."""
    exact = data.n_sites_exact
    if exact is not None:
        return int(exact), int(exact)
    lo = max(1, int(data.min_sites or 0))
    available = data.n_sites - int(data.forbidden.sum())
    hi = min(int(data.max_sites), available) if data.max_sites is not None else available
    return lo, max(lo, hi)


def budget_condition(data: ModelData) -> str | None:
    """None when the budget is a knapsack row on the sites (:func:`serving_usd`), else why not.

    The condition of ``fast-budget-median``'s
    :class:`~placement.formulations.contract.Capabilities` (its features say the rest: a median,
    redundancy 1, a budget and no other restricting constraint).
    """
    if serving_usd(data) is None:
        return (
            "budget: the serving cost depends on the assignment (pair costs, or variable costs "
            "that differ between sites)"
        )
    return None


def budget_applies(data: ModelData) -> bool:
    """True when :func:`solve_pmedian_budget` covers ``data``.

    A median objective with redundancy 1 whose only restricting constraint is the budget, with
    a serving cost that no assignment changes (:func:`serving_usd`).
    """
    others = ("capacity", "sla_share", "max_per_provider", "single_sourcing")
    active = active_features(data)
    return (
        data.objective == "median"
        and data.redundancy == 1
        and data.budget_usd is not None
        and not any(f in active for f in others)
        and budget_condition(data) is None
    )


def cheapest_cover_set(
    inp: Inputs, fixed: np.ndarray, lo: int, hi: int, deadline: float
) -> tuple[np.ndarray | None, float]:
    """Open set of least ``Σ fixed`` serving every demand point with ``lo ≤ |S| ≤ hi``.

    A HiGHS set-cover MIP (:func:`~placement.formulations._cover.cheapest_cover`). Returns the
    best set found (None when none) and a proven lower bound of the least cost (``inf`` when no
    such set exists, ``-inf`` when nothing was proven by ``deadline``).
    """
    fin = np.isfinite(inp.cost)
    masks = fin[~fin.all(axis=1)]  # a row allowed everywhere is covered by any site
    nz = masks.sum(axis=1)
    starts = np.zeros(len(masks), np.int64)
    np.cumsum(nz[:-1], out=starts[1:])
    found = cheapest_cover(
        starts,
        np.nonzero(masks)[1],
        fixed,
        inp.must_open,
        inp.forbidden,
        min_count=lo,
        max_count=hi,
        deadline=deadline,
    )
    return found.open_sites, found.bound


def _objective(cost: np.ndarray, w: np.ndarray, sites: np.ndarray) -> float:
    if len(sites) == 0:
        return math.inf
    d = cost[:, sites].min(axis=1)
    return float(w @ d) if bool(np.isfinite(d).all()) else math.inf


def _fit_to_budget(
    inp: Inputs, fixed: np.ndarray, limit: float, lo: int, hi: int, start: np.ndarray
) -> np.ndarray | None:
    """``start`` cut to at most ``hi`` sites and the budget by dropping, greedily, the site of
    least objective increase per dollar saved (every demand point kept served), or None."""
    is_open = np.zeros(inp.n_sites, bool)
    is_open[np.asarray(start, np.int64)] = True
    is_open &= ~inp.forbidden
    is_open |= inp.must_open
    cost, w = inp.cost, inp.weights
    rows = np.arange(cost.shape[0])
    while is_open.sum() > hi or fixed[is_open].sum() > limit:
        sites = np.flatnonzero(is_open)
        if len(sites) <= lo or len(sites) < 2:
            return None
        sub = cost[:, sites]
        order = np.argsort(sub, axis=1, kind="stable")[:, :2]
        d1, d2 = sub[rows, order[:, 0]], sub[rows, order[:, 1]]
        if not np.isfinite(d1).all():
            return None
        # the objective's increase when each open site closes (its points go to their second)
        # (a point of weight 0 with one reachable open site still blocks the closing: inf,
        # computed on the finite entries only, so 0 × inf never makes a nan)
        second = np.isfinite(d2)
        lost = np.full(len(d2), np.inf)
        lost[second] = w[second] * (d2[second] - d1[second])
        increase = np.zeros(len(sites))
        np.add.at(increase, order[:, 0], lost)
        score = increase / np.maximum(fixed[sites], 1e-12)
        score[inp.must_open[sites]] = np.inf
        k = int(np.argmin(score))
        if not math.isfinite(score[k]):
            return None
        is_open[sites[k]] = False
    sites = np.flatnonzero(is_open)
    return sites if len(sites) >= lo and math.isfinite(_objective(cost, w, sites)) else None


def budget_swap_search(
    inp: Inputs,
    fixed: np.ndarray,
    limit: float,
    lo: int,
    hi: int,
    start: npt.ArrayLike,
    *,
    deadline: float = math.inf,
    max_moves: int = 1000,
) -> tuple[np.ndarray, float]:
    """Best-improvement add / drop / swap search keeping ``Σ fixed ≤ limit`` and the count.

    ``start`` must meet the budget, the count limits and serve every demand point (else it is
    returned with objective ``inf``). Returns the open set and ``Σ_i w_i`` times its nearest cost.
    """
    cost, w = inp.cost, inp.weights.astype(float)
    n_d = cost.shape[0]
    is_open = np.zeros(inp.n_sites, bool)
    is_open[np.asarray(start, np.int64)] = True
    sites = np.flatnonzero(is_open)
    cur = _objective(cost, w, sites)
    spent = float(fixed[is_open].sum())
    if (
        not math.isfinite(cur)
        or spent > limit
        or not (lo <= len(sites) <= hi)
        or (inp.forbidden & is_open).any()
        or (inp.must_open & ~is_open).any()
    ):
        return sites, math.inf
    rows = np.arange(n_d)
    fin_all = np.isfinite(cost)
    for _ in range(max_moves):
        if time.perf_counter() > deadline:
            break
        sites = np.flatnonzero(is_open)
        sub = cost[:, sites]
        order = np.argsort(sub, axis=1, kind="stable")
        d1 = sub[rows, order[:, 0]]
        d2 = sub[rows, order[:, 1]] if len(sites) > 1 else np.full(n_d, np.inf)
        first = sites[order[:, 0]]
        spent = float(fixed[is_open].sum())
        cand = np.flatnonzero(~is_open & ~inp.forbidden)
        best, move = cur * (1 - 1e-12) - 1e-12, None
        if len(cand):
            c_in = np.where(fin_all[:, cand], cost[:, cand], np.inf)
            # adds
            if len(sites) < hi:
                ok = fixed[cand] + spent <= limit
                if ok.any():
                    gain = w @ np.maximum(d1[:, None] - c_in[:, ok], 0.0)
                    k = int(np.argmax(gain))
                    if cur - gain[k] < best:
                        best, move = cur - float(gain[k]), (-1, int(cand[ok][k]))
            # swaps
            for a in sites.tolist():
                if inp.must_open[a] or time.perf_counter() > deadline:
                    continue
                ok = spent - fixed[a] + fixed[cand] <= limit
                if not ok.any():
                    continue
                base = np.where(first == a, d2, d1)
                gone = ~np.isfinite(base)
                cb = c_in[:, ok]
                fb = np.where(gone, 0.0, base)
                obj = float(w[~gone] @ fb[~gone]) - w[~gone] @ np.maximum(
                    fb[~gone, None] - cb[~gone], 0.0
                )
                if gone.any():
                    obj = obj + w[gone] @ np.where(np.isfinite(cb[gone]), cb[gone], 0.0)
                    obj = np.where(np.isfinite(cb[gone]).all(axis=0), obj, np.inf)
                k = int(np.argmin(obj))
                if obj[k] < best:
                    best, move = float(obj[k]), (a, int(cand[ok][k]))
        # drops (free budget for better swaps later; rarely better by themselves)
        if len(sites) > lo:
            for a in sites.tolist():
                if inp.must_open[a]:
                    continue
                base = np.where(first == a, d2, d1)
                if np.isfinite(base).all():
                    obj = float(w @ base)
                    if obj < best:
                        best, move = obj, (a, -1)
        if move is None:
            break
        a, b = move
        if a >= 0:
            is_open[a] = False
        if b >= 0:
            is_open[b] = True
        cur = _objective(cost, w, np.flatnonzero(is_open))
    sites = np.flatnonzero(is_open)
    return sites, _objective(cost, w, sites)


class _BudgetSolver(_Solver):
    """:class:`~placement.formulations.radius._Solver` with a count range and the budget row.

    ``run`` is the parent's, with ``warm_start=False`` so that it runs none of its budget-blind
    heuristics; :meth:`_build` sets the budget-feasible incumbent and switches ``warm_start`` on
    so that the root LP is rounded by :meth:`_round`.
    """

    cluster_cuts = False  # the clusters' k-median costs ignore the budget
    support_heuristic = False  # its sub-solve over the root's support ignores the budget

    def __init__(
        self,
        inp: Inputs,
        fixed: np.ndarray,
        limit: float,
        lo: int,
        start: np.ndarray | None,
        deadline: float,
        gap_rel: float,
        threads: int | None,
        verbose: bool,
        t0: float,
        incumbent: tuple[np.ndarray, float] | None = None,
        restart: RootRestart | None = None,
        cover: np.ndarray | None = None,
    ) -> None:
        super().__init__(inp, deadline, gap_rel, threads, verbose, False, t0, None, restart)
        self.given = incumbent
        self.fixed = np.asarray(fixed, float)
        self.limit = float(limit)
        self.lo = int(lo)
        self.start = start
        self.start_won = False
        self.cover = cover

    def _within(self, sites: np.ndarray) -> bool:
        spent = float(self.fixed[sites].sum())
        return spent <= self.limit + BUDGET_TOL * max(1.0, abs(self.limit))

    def _incumbent(self, sites: np.ndarray | None, how: str) -> bool:
        """The budget swap search from ``sites``; True when it improved the incumbent."""
        if sites is None:
            return False
        found, obj = budget_swap_search(
            self.inp, self.fixed, self.limit, self.lo, self.inp.p, sites, deadline=self.deadline
        )
        if math.isfinite(obj) and obj < self.ub and self._within(found):
            self._log(f"{how}: incumbent {self.ub} -> {obj}")
            self.ub, self.best_open = obj, found
            return True
        return False

    def _build(self) -> None:
        super()._build()
        inp, h = self.inp, self.h
        n_s = inp.n_sites
        h.changeRowBounds(0, float(self.lo), float(inp.p))  # the count row: a range
        scale = 1.0 / max(abs(self.limit), float(self.fixed.max(initial=0.0)), 1.0)
        h.addRows(
            1,
            np.array([-highspy.kHighsInf]),
            np.array([self.limit * scale]),
            n_s,
            np.array([0], np.int32),
            np.arange(n_s, dtype=np.int32),
            self.fixed * scale,
        )
        self.n_base_rows = h.getNumRow()
        if self.cover is not None and self._within(self.cover):
            self._incumbent(self.cover, "cheapest cover")
        if self.start is not None and len(self.start):
            fit = _fit_to_budget(inp, self.fixed, self.limit, self.lo, inp.p, self.start)
            self.start_won = self._incumbent(fit, "start fitted to the budget")
        if self.given is not None and self.given[1] < self.ub:
            # the best solution of another count: a threshold for pruning this count's tree
            self.best_open, self.ub = self.given
        self.warm_start = True  # from here on: run() rounds the root LP with _round

    def _true_cost(self, y: np.ndarray) -> tuple[np.ndarray, float]:
        open_sites = np.flatnonzero(y > 0.5)
        if not self._within(open_sites) or not (self.lo <= len(open_sites) <= self.inp.p):
            # an integer LP point over the budget by the LP's tolerance: its node is closed by
            # the caller, so nothing below the node's bound is proven
            bound = float(self.h.getInfo().objective_function_value)
            self.pruned_floor = min(self.pruned_floor, bound)
            return open_sites, math.inf
        return super()._true_cost(y)

    def _round(self, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """The LP's largest ``y`` taken greedily within the budget, then the swap search."""
        score = np.where(hi > 0.5, y, -1.0) + 2.0 * lo
        is_open = lo > 0.5
        for j in np.argsort(-score, kind="stable").tolist():
            if is_open.sum() >= self.inp.p or score[j] < 1e-6:
                break
            if hi[j] > 0.5 and not is_open[j]:
                trial = is_open.copy()
                trial[j] = True
                if self._within(np.flatnonzero(trial)):
                    is_open = trial
        sites = np.flatnonzero(is_open)
        if math.isfinite(_objective(self.inp.cost, self.inp.weights, sites)):
            self._incumbent(sites, "root rounding")
        else:
            fit = _fit_to_budget(
                self.inp, self.fixed, self.limit, self.lo, self.inp.p, np.flatnonzero(y > 1e-6)
            )
            self._incumbent(fit, "root rounding fitted to the budget")


def solve_pmedian_budget(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike | None,
    fixed: npt.ArrayLike,
    limit: float,
    min_count: int,
    max_count: int,
    *,
    must_open: npt.ArrayLike | None = None,
    forbidden: npt.ArrayLike | None = None,
    initial_open: npt.ArrayLike | None = None,
    time_limit_s: float | None = None,
    gap_rel: float = 1e-9,
    threads: int | None = None,
    verbose: bool = False,
    progress: Callable[..., None] | None = None,
) -> ExactSolution:
    """Solve the median with ``min_count ≤ |S| ≤ max_count`` and ``Σ_{j∈S} fixed_j ≤ limit``.

    Parameters
    ----------
    cost : array_like, shape (n_demand, n_sites)
        Costs, ``np.inf`` where a pair is not allowed.
    weights : array_like, shape (n_demand,), optional
        Non-negative weights (ones when None).
    fixed : array_like, shape (n_sites,)
        Non-negative cost of opening each site (USD a year).
    limit : float
        Budget for ``Σ fixed`` of the open sites (the serving cost already taken off).
    min_count, max_count : int
        Count limits (``1 ≤ min_count ≤ max_count``).
    must_open, forbidden : array_like, optional
        Boolean masks or index arrays of sites.
    initial_open : array_like of int, optional
        A starting open set (need not meet the budget: sites are dropped greedily until it
        does, then the swap search improves it). The optimum does not depend on it.
    time_limit_s : float, optional
        Wall-clock limit; when it stops the search the incumbent is returned as ``"feasible"``
        with the smallest bound of the open nodes.
    gap_rel : float
        Relative gap at which the search stops.
    threads : int, optional
        HiGHS threads.
    verbose : bool
        Log the search.
    progress : callable, optional
        Called as the branch and bound goes.

    Returns
    -------
    ExactSolution
        ``status`` ``"infeasible"`` when no allowed open set within the count limits meets the
        budget and serves every demand point.

    Raises
    ------
    placement.errors.ValidationError
        For malformed inputs.
    """
    t0 = time.perf_counter()
    lo, hi = int(min_count), int(max_count)
    if lo < 1 or hi < lo:
        raise ValidationError(
            "count limits must satisfy 1 <= min_count <= max_count",
            table="parameter",
            field="min_count",
            value=(min_count, max_count),
        )
    f = np.asarray(fixed, dtype=float)
    if f.ndim != 1 or not np.all(np.isfinite(f)) or (f < 0).any():
        raise ValidationError(
            "fixed must be finite and non-negative, one per site", table="parameter", field="fixed"
        )
    if not math.isfinite(float(limit)):
        raise ValidationError("limit must be finite", table="parameter", field="limit", value=limit)
    ready = exact_start(cost, weights, hi, must_open, forbidden, time_limit_s, t0)
    if ready.inp is None:
        return ready.infeasible
    inp, deadline = ready.inp, ready.deadline
    if len(f) != inp.n_sites:
        raise ValidationError(
            f"fixed has {len(f)} values for {inp.n_sites} sites", table="parameter", field="fixed"
        )
    start = site_indices(initial_open, inp.n_sites, "initial_open")
    return _by_count(
        inp,
        f,
        float(limit),
        lo,
        hi,
        start,
        deadline,
        gap_rel,
        threads,
        verbose,
        progress,
        t0,
        inp.n_demand,
    )


def _by_count(
    inp: Inputs,
    fixed: np.ndarray,
    limit: float,
    lo: int,
    hi: int,
    start: np.ndarray | None,
    deadline: float,
    gap_rel: float,
    threads: int | None,
    verbose: bool,
    progress: Callable[..., None] | None,
    t0: float,
    n_demand: int,
) -> ExactSolution:
    """One branch and bound per count ``k`` (``hi`` down to ``lo``), sharing the incumbent.

    With the count fixed the radius LP is much stronger than with a range (world, 80 M$, at
    most 12 sites: the range's tree was unproven after 1,227 nodes in 60 s, each count from 7
    to 10 is proven at its root). A count whose cheapest cover is over the budget (or does not
    exist) is skipped; the others' trees prune against the best solution of any count.
    """
    best: tuple[np.ndarray, float] | None = None
    bounds: list[float] = []
    nodes, n_vars, n_rows, start_won = 0, 0, 0, False
    build_s = solve_s = heur_s = 0.0
    restart: RootRestart | None = None
    must = int(inp.must_open.sum())
    tol = BUDGET_TOL * max(1.0, abs(limit))
    # no more sites than the cheapest ones that fit in the budget
    others = np.sort(fixed[~inp.must_open & ~inp.forbidden])
    spend = float(fixed[inp.must_open].sum()) + np.concatenate([[0.0], np.cumsum(others)])
    fits = int(np.searchsorted(spend, limit + tol, side="right")) - 1 + must
    counts = list(range(min(hi, fits), max(lo, must, 1) - 1, -1))
    stopped = False
    # first every count's incumbent (cheapest cover + swaps), so that each tree prunes against
    # the best of all counts (world, 60 M$: the 9-site tree took 689 nodes against its own
    # incumbent, none against the 8-site one)
    covers: dict[int, np.ndarray | None] = {}
    skip: set[int] = set()

    def offer(sites: np.ndarray, obj: float, from_start: bool) -> None:
        nonlocal best, start_won
        if math.isfinite(obj) and (best is None or obj < best[1]):
            best = (np.asarray(sites, np.int64), float(obj))
            start_won = from_start

    now = time.perf_counter()
    phase1_end = now + INCUMBENT_SHARE * (deadline - now) if math.isfinite(deadline) else math.inf
    if start is not None and len(start):
        fit = _fit_to_budget(inp, fixed, limit, max(lo, 1), hi, start)
        if fit is not None:
            offer(
                *budget_swap_search(inp, fixed, limit, max(lo, 1), hi, fit, deadline=phase1_end),
                True,
            )
    for k in counts:
        if time.perf_counter() >= phase1_end:
            break  # the other counts get their cover at their tree
        cover_deadline = min(deadline, time.perf_counter() + COVER_TIME_S)
        cover, least = cheapest_cover_set(inp, fixed, k, k, cover_deadline)
        if least > limit + tol:
            skip.add(k)  # no k sites serve everyone within the budget
            continue
        covers[k] = cover
        if cover is not None and float(fixed[cover].sum()) <= limit + tol:
            sub = dataclasses.replace(inp, p=k)
            offer(*budget_swap_search(sub, fixed, limit, k, k, cover, deadline=phase1_end), False)
    heur_s = time.perf_counter() - t0
    for pos, k in enumerate(counts):
        if time.perf_counter() >= deadline:
            stopped = True
            bounds.extend([-math.inf] * (len(counts) - pos))
            break
        if k not in covers and k not in skip:
            cover_deadline = min(deadline, time.perf_counter() + COVER_TIME_S)
            covers[k], least = cheapest_cover_set(inp, fixed, k, k, cover_deadline)
            if least > limit + tol:
                skip.add(k)
        if k in skip:
            bounds.append(math.inf)
            continue
        sub = dataclasses.replace(inp, p=k)
        solver = _BudgetSolver(
            sub,
            fixed,
            limit,
            k,
            None,
            deadline,
            gap_rel,
            threads,
            verbose,
            t0,
            incumbent=best,
            restart=restart,
            cover=covers.get(k),
        )
        solver.progress = progress
        out = solver.run()
        restart = solver.root_restart or restart
        nodes += out.nodes
        n_vars, n_rows = max(n_vars, out.n_vars), max(n_rows, out.n_rows)
        build_s += out.build_s
        solve_s += out.solve_s
        offer(out.open_sites, out.objective, False)
        if out.status == "infeasible":
            bounds.append(math.inf)
        elif out.status == "no_solution":
            bounds.append(-math.inf if math.isinf(out.best_bound) else out.best_bound)
        else:
            bounds.append(out.best_bound)
        if out.status in ("feasible", "no_solution") or out.message:
            stopped = stopped or out.status != "optimal"
    build_s = max(build_s, 0.0)
    if best is None:
        if not stopped and all(math.isinf(b) and b > 0 for b in bounds):
            return infeasible_solution(
                n_demand,
                f"no {lo}..{hi} allowed sites serve every demand within a budget of {limit:,.6g}",
                time.perf_counter() - t0,
            )
        return ExactSolution(
            open_sites=np.zeros(0, dtype=np.int64),
            assignment=np.full(n_demand, -1, dtype=np.int64),
            objective=math.inf,
            best_bound=min(bounds, default=-math.inf),
            gap=math.inf,
            status="no_solution",
            build_s=build_s,
            solve_s=solve_s,
            heuristic_objective=math.inf,
            n_vars=n_vars,
            n_rows=n_rows,
            message="stopped by the time limit before any solution was found",
            nodes=nodes,
        )
    sites, ub = best
    bound = min(min(bounds, default=ub), ub)
    proven = (ub - bound) <= max(gap_rel * abs(ub), 1e-9)
    return ExactSolution(
        open_sites=np.sort(sites),
        assignment=assign_nearest(inp.cost, sites).astype(np.int64),
        objective=ub,
        best_bound=bound,
        gap=0.0 if proven else rel_gap(ub, bound),
        status="optimal" if proven else "feasible",
        build_s=build_s,
        solve_s=solve_s,
        heuristic_objective=ub,
        n_vars=n_vars,
        n_rows=n_rows,
        heuristic_s=heur_s,
        message="" if proven else f"stopped by the time limit after {nodes} nodes",
        warm_start_used=start_won,
        nodes=nodes,
    )
