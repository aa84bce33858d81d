"""The budget Lagrangian (placement/formulations/budget_lagrange.py) against enumeration.

The oracle enumerates every open set within the count limits and fixings and, for each, solves
the assignment linear program under the budget with scipy's HiGHS (shares allowed, as the model
allows): the optimum of a median under a budget whose serving cost depends on who serves whom.
The Lagrangian dual alone (``branch_and_bound=False``, the solver of session 11) leaves a gap on
most of them; the branch and bound over the sites must end optimal at the enumerated optimum.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from oracle import median_data
from scipy.optimize import linprog

from placement.formulations import budget_lagrange as bl
from placement.formulations.contract import Solution
from placement.formulations.data import ModelData
from placement.formulations.relax import violations


def _data(seed: int, n: int = 9, m: int = 6, **kw: object) -> ModelData:
    rng = np.random.default_rng(seed)
    lat = rng.integers(1, 80, size=(n, m)).astype(float)
    sla = max(float(np.quantile(lat, 0.7)), float(lat.min(axis=1).max()))
    weight = rng.integers(1, 10, size=n).astype(float)
    fields: dict[str, object] = dict(
        fixed_usd=rng.integers(100, 600, size=m).astype(float),
        variable_usd_per_unit=rng.integers(1, 30, size=m).astype(float),
        max_sites=kw.pop("max_sites", 3),
    )
    return median_data(lat, lat <= sla, weight, None, **(fields | kw))[0]


def _lp(data: ModelData, mask: np.ndarray, budget: float) -> float:
    """Least mean latency of open set ``mask`` within ``budget`` (inf if none), by linprog."""
    ok = np.flatnonzero(mask[data.pair_j])
    if len(np.unique(data.pair_i[ok])) < data.n_demand:
        return math.inf
    w = data.weight
    pi, pj = data.pair_i[ok], data.pair_j[ok]
    m = w[pi] * data.latency_ms[ok] / w.sum()
    c = data.variable_usd_per_unit[pj] * w[pi] + data.pair_cost_usd[ok]
    a_eq = np.zeros((data.n_demand, len(ok)))
    a_eq[pi, np.arange(len(ok))] = 1.0
    room = budget - data.fixed_usd[mask].sum()
    ub = {} if math.isinf(budget) else {"A_ub": c[None, :], "b_ub": [room]}
    res = linprog(m, A_eq=a_eq, b_eq=np.ones(data.n_demand), bounds=(0, 1), **ub)
    return float(res.fun) if res.status == 0 else math.inf


def _optimum(data: ModelData, budget: float) -> float:
    """The least mean latency over every open set within the count limits and fixings."""
    if data.n_sites_exact is not None:
        lo = hi = data.n_sites_exact
    else:
        lo, hi = max(1, data.min_sites or 0), data.max_sites or data.n_sites
    best = math.inf
    for k in range(lo, hi + 1):
        for s in itertools.combinations(range(data.n_sites), k):
            mask = np.zeros(data.n_sites, dtype=bool)
            mask[list(s)] = True
            if (data.must_open & ~mask).any() or (data.forbidden & mask).any():
                continue
            best = min(best, _lp(data, mask, budget))
    return best


def _budgets(data: ModelData) -> list[float]:
    """From the cheapest cover's cost to above the unbudgeted optimum's."""
    costs = []
    for k in range(1, data.max_sites + 1):
        for s in itertools.combinations(range(data.n_sites), k):
            mask = np.zeros(data.n_sites, dtype=bool)
            mask[list(s)] = True
            if (data.forbidden & mask).any():
                continue
            if math.isfinite(_lp(data, mask, math.inf)):
                got = bl.assign_within_budget(data, mask, math.inf)
                rows = np.asarray(got[1])
                p = rows[:, 0].astype(int)
                serve = data.variable_usd_per_unit[data.pair_j[p]] * data.weight[data.pair_i[p]]
                serve = serve + data.pair_cost_usd[p]
                costs.append(data.fixed_usd[mask].sum() + serve.sum())
    costs.sort()
    return [costs[0] * 0.97, costs[0] * 1.05, float(np.median(costs)), costs[-1]]


@pytest.mark.parametrize("seed", range(8))
def test_assignment_within_budget_is_the_lp_optimum(seed):
    data = _data(seed)
    rng = np.random.default_rng(100 + seed)
    for _ in range(6):
        mask = rng.random(data.n_sites) < 0.5
        for budget in (1e9, float(rng.uniform(300, 2500))):
            want = _lp(data, mask, budget)
            got = bl.assign_within_budget(data, mask, budget)
            if math.isinf(want):
                assert got is None
                continue
            assert got is not None and got[0] == pytest.approx(want, rel=1e-6, abs=1e-9)
            rows = np.asarray(got[1])
            share = np.bincount(rows[:, 2].astype(int), rows[:, 3], minlength=data.n_demand)
            assert share == pytest.approx(1.0)
            p = rows[:, 0].astype(int)
            serve = data.variable_usd_per_unit[data.pair_j[p]] * data.weight[data.pair_i[p]]
            assert data.fixed_usd[mask].sum() + (serve * rows[:, 3]).sum() <= budget * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(10))
def test_bound_and_incumbent_bracket_the_enumerated_optimum(seed):
    base = _data(200 + seed)
    for budget in _budgets(base):
        data = ModelData(**{**base.__dict__, "budget_usd": budget})
        assert bl.budget_lagrange_applies(data)
        want = _optimum(data, budget)
        res = bl.solve_budget_lagrange(data, deadline=time.perf_counter() + 30)
        if math.isinf(want):
            assert res.status in ("infeasible", "no_solution")
            continue
        assert res.status != "infeasible"
        assert res.bound <= want * (1 + 1e-7) + 1e-9  # a valid lower bound
        if res.status == "no_solution":
            continue
        assert res.objective >= want * (1 - 1e-7) - 1e-9  # never better than the optimum
        # the branch and bound closes every duality gap the multiplier leaves
        assert res.status == "optimal"
        assert res.objective == pytest.approx(want, rel=1e-6)
        sol = Solution(
            status="feasible", objective=res.objective, open_mask=res.open_mask, rows=res.rows
        )
        assert violations(data, sol) == []


def test_the_registry_routes_assignment_dependent_budgets_here():
    """A median whose budget breaks the relaxation's optimum, with per-site variable costs:
    the relaxation first hands it to the budget Lagrangian, whose answer meets the budget and
    is no better than the enumerated optimum."""
    from placement.formulations import registry
    from placement.formulations.contract import SolveRequest

    base = _data(321)
    budget = _budgets(base)[1]
    data = ModelData(**{**base.__dict__, "budget_usd": budget})
    sol, solver = registry.solve_data(data, SolveRequest(deadline=time.perf_counter() + 30))
    assert solver.name == "budget-lagrangian"
    assert sol.status in ("optimal", "feasible")
    assert violations(data, sol) == []
    want = _optimum(data, budget)
    assert sol.objective >= want * (1 - 1e-7)
    assert sol.bound <= want * (1 + 1e-7)
    assert "Lagrangian on the budget" in sol.stats["relaxation"]


#: (seed, budget index) where the Lagrangian dual and its swaps alone end ``feasible`` with a
#: gap: the largest relative gaps of seeds 200-259, two of them with a worse incumbent too.
_GAPPED = [(257, 1), (221, 1), (226, 2), (213, 2), (248, 0), (238, 2)]


@pytest.mark.parametrize(("seed", "k"), _GAPPED)
def test_branch_and_bound_proves_what_the_dual_left_open(seed, k):
    base = _data(seed)
    budget = _budgets(base)[k]
    data = ModelData(**{**base.__dict__, "budget_usd": budget})
    want = _optimum(data, budget)
    old = bl.solve_budget_lagrange(data, deadline=time.perf_counter() + 30, branch_and_bound=False)
    assert old.status == "feasible" and old.stats["gap"] > 0.05
    res = bl.solve_budget_lagrange(data, deadline=time.perf_counter() + 30)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(want, rel=1e-6)
    assert res.bound == pytest.approx(want, rel=1e-6)
    assert res.stats["bb_nodes"] >= 1


@pytest.mark.parametrize("seed", range(6))
def test_counts_fixings_and_pair_costs(seed):
    """Eight sites, up to four open, with a forced site, a shut site, a least count or an exact
    one, and pair costs: every case optimal at the enumerated optimum."""
    rng = np.random.default_rng(500 + seed)
    base = _data(600 + seed, n=10, m=8, max_sites=4)
    extra: dict[str, object] = {
        "pair_cost_usd": rng.integers(0, 40, size=len(base.pair_i)).astype(float)
    }
    if seed % 3 == 0:
        extra["must_open"] = np.eye(8, dtype=bool)[seed % 8]
    if seed % 3 == 1:
        extra["forbidden"] = np.eye(8, dtype=bool)[(seed + 3) % 8]
        extra["min_sites"] = 2
    if seed % 3 == 2:
        extra["n_sites_exact"] = 3
    base = ModelData(**{**base.__dict__, **extra})
    solved = 0
    for budget in _budgets(base):
        data = ModelData(**{**base.__dict__, "budget_usd": budget})
        if not bl.budget_lagrange_applies(data):
            continue
        want = _optimum(data, budget)
        res = bl.solve_budget_lagrange(data, deadline=time.perf_counter() + 30)
        if math.isinf(want):
            assert res.status in ("infeasible", "no_solution")
            continue
        assert res.status == "optimal"
        assert res.objective == pytest.approx(want, rel=1e-6)
        sol = Solution(
            status="feasible", objective=res.objective, open_mask=res.open_mask, rows=res.rows
        )
        assert violations(data, sol) == []
        solved += 1
    assert solved >= 2


def test_a_wrong_node_bound_is_caught(monkeypatch):
    """A node bound 30 % too high (of the weighted problem's value) prunes the optimum of some
    of these cases, which then end ``optimal`` above the enumerated optimum: the checks above
    fail for a wrong node bound (with the swaps off, which find these small optima before the
    tree needs to; with the real bound every one of them is optimal at the optimum)."""
    cases = []
    for seed, k in [(212, 2), (213, 2), (221, 2), (226, 2)]:
        base = _data(seed)
        budget = _budgets(base)[k]
        data = ModelData(**{**base.__dict__, "budget_usd": budget})
        want = _optimum(data, budget)
        res = bl.solve_budget_lagrange(data, deadline=time.perf_counter() + 30)
        assert res.status == "optimal" and res.objective == pytest.approx(want, rel=1e-6)
        cases.append((data, want))
    real = bl._node_bound

    def inflated(node, u, target, deadline):
        val, u = real(node, u, target, deadline)
        return val + 0.3 * abs(val), u

    monkeypatch.setattr(bl, "_node_bound", inflated)
    # without the swaps the tree itself must find the optimum, past the nodes it prunes
    monkeypatch.setattr(bl, "_swap_search", lambda *args: None)
    wrong = 0
    for data, want in cases:
        res = bl.solve_budget_lagrange(data, deadline=time.perf_counter() + 30)
        if res.status == "optimal" and res.objective > want * (1 + 1e-6):
            wrong += 1
    assert wrong >= 1
