"""The budget branch and bound (placement/formulations/budget.py) against brute-force enumeration.

The oracle enumerates every open set within the count limits (``oracle.subsets``), keeps those
whose fixed costs fit in the budget and that give every demand point an allowed site, and takes
the least weighted nearest-site latency: the optimum of a median under a budget whose serving
cost does not depend on the assignment.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from oracle import subsets

from placement.formulations.budget import (
    _fit_to_budget,
    budget_applies,
    budget_swap_search,
    cheapest_cover_set,
    solve_pmedian_budget,
)
from placement.heuristics import prepare_inputs
from placement.problem import Problem


def _instance(seed: int, n: int = 9, m: int = 7, sla_q: float | None = 0.6):
    rng = np.random.default_rng(seed)
    lat = rng.integers(1, 80, size=(n, m)).astype(float)
    if sla_q is not None:
        sla = max(float(np.quantile(lat, sla_q)), float(lat.min(axis=1).max()))
        lat[lat > sla] = np.inf
    w = rng.integers(1, 10, size=n).astype(float)
    fixed = rng.integers(100, 1000, size=m).astype(float)
    return lat, w, fixed


def _brute(lat, w, fixed, budget, sizes, must=(), forbidden=()):
    """(optimum of Σ w·nearest / Σ w, its set) over sets within the budget; (inf, None) if none."""
    best, arg = math.inf, None
    for s in subsets(lat.shape[1], sizes, must, forbidden):
        s = list(s)
        if fixed[s].sum() > budget * (1 + 1e-9):
            continue
        d = lat[:, s].min(axis=1)
        if not np.isfinite(d).all():
            continue
        v = float(w @ d) / float(w.sum())
        if v < best - 1e-12:
            best, arg = v, s
    return best, arg


def _budgets(lat, w, fixed, sizes):
    """Budgets from just under the cheapest cover to above the unconstrained optimum's cost."""
    costs = sorted(
        {
            float(fixed[list(s)].sum())
            for s in subsets(lat.shape[1], sizes)
            if np.isfinite(lat[:, list(s)].min(axis=1)).all()
        }
    )
    if not costs:
        return []
    return [costs[0] - 1.0, costs[0], *np.quantile(costs, [0.2, 0.5, 0.8]).tolist(), costs[-1]]


@pytest.mark.parametrize("seed", range(12))
def test_solver_matches_enumeration(seed: int) -> None:
    lat, w, fixed = _instance(seed)
    m = lat.shape[1]
    lo, hi = (1, 4) if seed % 2 else (2, 3)
    sizes = range(lo, hi + 1)
    for budget in _budgets(lat, w, fixed, sizes):
        expected, _ = _brute(lat, w, fixed, budget, sizes)
        sol = solve_pmedian_budget(lat, w / w.sum(), fixed, budget, lo, hi)
        if math.isinf(expected):
            assert sol.status == "infeasible", (budget, sol)
            continue
        assert sol.status == "optimal", (budget, sol.message)
        assert sol.objective == pytest.approx(expected, rel=1e-9, abs=1e-9)
        assert fixed[sol.open_sites].sum() <= budget * (1 + 1e-9)
        assert lo <= len(sol.open_sites) <= hi
        assert sol.best_bound <= expected + 1e-9
        assert m == lat.shape[1]


@pytest.mark.parametrize("seed", range(6))
def test_fixings_match_enumeration(seed: int) -> None:
    lat, w, fixed = _instance(50 + seed, n=8, m=7, sla_q=None)
    must, forbidden = [seed % 7], [(seed + 3) % 7]
    sizes = range(2, 5)
    for budget in _budgets(lat, w, fixed, sizes)[1:]:
        expected, _ = _brute(lat, w, fixed, budget, sizes, must, forbidden)
        sol = solve_pmedian_budget(lat, w, fixed, budget, 2, 4, must_open=must, forbidden=forbidden)
        if math.isinf(expected):
            assert sol.status == "infeasible"
            continue
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(expected * w.sum(), rel=1e-9)
        assert must[0] in sol.open_sites and forbidden[0] not in sol.open_sites


@pytest.mark.parametrize("seed", range(8))
def test_problem_auto_matches_enumeration(seed: int) -> None:
    # through Problem.solve: fast-budget-median, the relaxation first, then the budget branch
    # and bound when its optimum breaks the budget; status, objective and a bound that never
    # passes the optimum
    lat, w, fixed = _instance(200 + seed)
    sizes = range(1, 4)
    sla = float(np.nanmax(np.where(np.isfinite(lat), lat, np.nan)))
    for budget in _budgets(lat, w, fixed, sizes)[1:]:
        expected, _ = _brute(lat, w, fixed, budget, sizes)
        r = Problem.from_cost_matrix(
            np.where(np.isfinite(lat), lat, sla + 100.0),
            weights=w,
            fixed_cost=fixed,
            objective="median",
            max_sites=3,
            max_latency_ms=sla,
            budget_usd_per_year=budget,
        ).solve()
        if math.isinf(expected):
            assert r.status == "infeasible"
            continue
        assert r.status == "optimal", r.message
        assert r.objective == pytest.approx(expected, rel=1e-9, abs=1e-9)
        assert r.best_bound <= expected + 1e-9
        unconstrained, _ = _brute(lat, w, fixed, math.inf, [3])
        assert r.solver["method"] == "fast-budget-median"
        if expected > unconstrained + 1e-9:  # the budget binds: the branch and bound answered
            assert "budget branch and bound" in r.solver["relaxation"]


def test_time_limited_bound_is_honest() -> None:
    # a run stopped early reports a bound at most the optimum (or none) and a feasible incumbent
    lat, w, fixed = _instance(7, n=10, m=8)
    sizes = range(1, 5)
    budget = _budgets(lat, w, fixed, sizes)[3]
    expected, _ = _brute(lat, w, fixed, budget, sizes)
    sol = solve_pmedian_budget(lat, w / w.sum(), fixed, budget, 1, 4, time_limit_s=1e-4)
    assert sol.status in ("optimal", "feasible", "no_solution")
    if sol.status != "no_solution":
        assert sol.objective >= expected - 1e-9
        assert fixed[sol.open_sites].sum() <= budget * (1 + 1e-9)
    assert sol.best_bound <= expected + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_cheapest_cover_and_swap_search(seed: int) -> None:
    lat, w, fixed = _instance(300 + seed)
    inp = prepare_inputs(lat, w, 4)
    cover, least = cheapest_cover_set(inp, fixed, 1, 4, math.inf)
    best = min(
        (
            float(fixed[list(s)].sum())
            for s in subsets(lat.shape[1], range(1, 5))
            if np.isfinite(lat[:, list(s)].min(axis=1)).all()
        ),
        default=math.inf,
    )
    assert least == pytest.approx(best)
    assert cover is not None and fixed[cover].sum() == pytest.approx(best)
    budget = best * 1.5
    sites, obj = budget_swap_search(inp, fixed, budget, 1, 4, cover)
    assert fixed[sites].sum() <= budget
    assert obj <= float(w @ lat[:, cover].min(axis=1)) + 1e-9
    assert obj == pytest.approx(float(w @ lat[:, sites].min(axis=1)))
    # an infeasible start (over the budget) is refused, not repaired silently
    _, bad = budget_swap_search(inp, fixed, best - 1.0, 1, 4, cover)
    assert math.isinf(bad)


def test_fit_to_budget_with_zero_weight_points_warns_nothing() -> None:
    # a weight-0 point reachable from one site only (what --unreachable exclude leaves): closing
    # that site is blocked, and no RuntimeWarning (0 × inf) reaches the user
    lat = np.array([[1.0, 5.0, np.inf], [4.0, 1.0, 9.0], [np.inf, np.inf, 2.0], [3.0, 2.0, 1.0]])
    w = np.array([2.0, 3.0, 0.0, 1.0])
    fixed = np.array([100.0, 100.0, 300.0])
    inp = prepare_inputs(lat, w, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = _fit_to_budget(inp, fixed, 450.0, 1, 3, np.arange(3))
    # site 2 is the only one serving point 2: it stays; dropping site 0 or 1 fits the budget
    assert kept is not None and 2 in kept.tolist() and fixed[kept].sum() <= 450.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _fit_to_budget(inp, fixed, 250.0, 1, 3, np.arange(3)) is None


def test_assignment_dependent_serving_cost_keeps_the_pulp_model() -> None:
    # pair costs change with the assignment: the knapsack row would be wrong, so not applied
    lat, w, fixed = _instance(9, sla_q=None)
    prob = Problem.from_cost_matrix(
        lat,
        weights=w,
        fixed_cost=fixed,
        assignment_cost=np.arange(lat.size, dtype=float).reshape(lat.shape),
        objective="median",
        max_sites=3,
        budget_usd_per_year=float(fixed.sum()),
    )
    assert not budget_applies(prob.lower().data)
    plain = Problem.from_cost_matrix(
        lat,
        weights=w,
        fixed_cost=fixed,
        objective="median",
        max_sites=3,
        budget_usd_per_year=float(fixed.sum()),
    )
    assert budget_applies(plain.lower().data)


def test_registry_budget_solver_direct() -> None:
    # the solver object of SOLVERS solves data directly
    from placement.formulations.contract import SolveRequest
    from placement.formulations.registry import _BUDGET

    lat, w, fixed = _instance(11, sla_q=None)
    budgets = _budgets(lat, w, fixed, range(1, 4))
    budget = budgets[2]
    data = (
        Problem.from_cost_matrix(
            lat,
            weights=w,
            fixed_cost=fixed,
            objective="median",
            max_sites=3,
            budget_usd_per_year=budget,
        )
        .lower()
        .data
    )
    sol = _BUDGET.solve(data, SolveRequest())
    expected, _ = _brute(lat, w, fixed, budget, range(1, 4))
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected, rel=1e-9)
    assert fixed[sol.open_mask].sum() <= budget


def test_a_budget_blind_incumbent_never_reaches_the_result(monkeypatch):
    """The radius solver's support sub-solve ignores the budget row, so the budget solver turns
    it off (with it on, six sites on a line: 2 sites costing 140 against a budget of 130 came
    back 'optimal'); and the registry checks every fast solver's answer: one that breaks a
    constraint goes to the PuLP model."""
    from placement.formulations import budget

    xs = np.array([0.0, 10.0, 20.0, 30.0, 40.0, 50.0])
    xd = np.array([1.0, 4.0, 12.0, 19.0, 26.0, 33.0, 41.0, 49.0])
    cost = 1.0 + np.abs(xd[:, None] - xs[None, :])
    kw = {
        "weights": np.array([5.0, 3, 4, 6, 2, 7, 3, 4]),
        "fixed_cost": np.array([100.0, 80, 60, 60, 80, 100]),
        "objective": "median",
        "n_sites": 2,
        "budget_usd_per_year": 130.0,
    }
    want = Problem.from_cost_matrix(cost, **kw).solve(method="pulp")
    got = Problem.from_cost_matrix(cost, **kw).solve()
    assert got.objective == pytest.approx(want.objective)
    assert got.metrics["total_cost_usd_per_year"] <= 130.0
    monkeypatch.setattr(budget._BudgetSolver, "support_heuristic", True)
    with pytest.warns(RuntimeWarning, match="breaks budget: 140 USD a year over 130"):
        forced = Problem.from_cost_matrix(cost, **kw).solve()
    assert forced.status == "optimal" and forced.metrics["total_cost_usd_per_year"] <= 130.0
    assert forced.objective == pytest.approx(want.objective)
