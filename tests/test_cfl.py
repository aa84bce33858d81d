"""The exact capacitated fixed-charge solver (placement.formulations.cfl) against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from placement.formulations.cfl import cardinality_bound
from placement.problem import Problem


def _instance(seed: int, n: int = 9, m: int = 5, restrict: bool = False):
    rng = np.random.default_rng(seed)
    w = rng.integers(1, 20, n).astype(float)
    cost = rng.uniform(1, 100, (n, m)) * w[:, None]
    fixed = rng.uniform(50, 400, m)
    cap = rng.uniform(0.25, 0.6, m) * w.sum()
    allowed = np.ones((n, m), dtype=bool)
    if restrict:
        allowed = rng.random((n, m)) < 0.7
        allowed[np.arange(n), rng.integers(0, m, n)] = True
    return w, cost, fixed, cap, allowed


def _problem(w, cost, fixed, cap, allowed, **kw):
    lat = np.where(allowed, 1.0, np.inf)
    return Problem.from_cost_matrix(
        lat,
        weights=w,
        fixed_cost=fixed,
        capacity=cap,
        assignment_cost=np.where(allowed, cost, 0.0),
        objective="cost",
        **kw,
    )


def _brute_force(w, cost, fixed, cap, allowed) -> float:
    n, m = cost.shape
    best = np.inf
    for k in range(1, m + 1):
        for sub in itertools.combinations(range(m), k):
            sub = list(sub)
            if cap[sub].sum() < w.sum() - 1e-9:
                continue
            ok = allowed[:, sub]
            if not ok.any(axis=1).all():
                continue
            c = np.where(ok, cost[:, sub], 0.0).ravel()
            bounds = [(0, 1 if a else 0) for a in ok.ravel()]
            a_eq = np.kron(np.eye(n), np.ones(k))
            a_ub = np.zeros((k, n * k))
            for i in range(n):
                for q in range(k):
                    a_ub[q, i * k + q] = w[i]
            res = linprog(c, A_ub=a_ub, b_ub=cap[sub], A_eq=a_eq, b_eq=np.ones(n), bounds=bounds)
            if res.status == 0:
                best = min(best, res.fun + fixed[sub].sum())
    return best


@pytest.mark.parametrize("seed", range(8))
def test_matches_brute_force_and_pulp(seed):
    restrict = seed % 2 == 1
    w, cost, fixed, cap, allowed = _instance(seed, restrict=restrict)
    prob = _problem(w, cost, fixed, cap, allowed)
    r = prob.solve()
    assert r.solver["method"] == "fast-cfl"
    assert r.status == "optimal"
    expected = _brute_force(w, cost, fixed, cap, allowed)
    assert r.objective == pytest.approx(expected, rel=1e-7)
    ref = prob.solve(method="pulp")
    assert ref.status == "optimal"
    assert r.objective == pytest.approx(ref.objective, rel=1e-7)
    # the reported shares serve every demand fully within the capacities
    a = r.assignments
    assert np.allclose(a.groupby("demand_id")["share"].sum().to_numpy(), 1.0)
    loads = r.open_sites.set_index("site_id")["load"]
    caps = dict(zip([f"s{j}" for j in range(len(cap))], cap, strict=True))
    assert all(loads[s] <= caps[s] * (1 + 1e-7) + 1e-7 for s in loads.index)
    assert r.metrics["total_cost_usd_per_year"] == pytest.approx(r.objective, rel=1e-7)


def test_must_open_forbidden_and_site_count():
    w, cost, fixed, cap, allowed = _instance(11, n=8, m=5)
    cap = np.full(5, w.sum())  # one site could serve all
    kw = {"must_open": ["s1"], "forbidden": ["s0"], "max_sites": 2}
    prob = _problem(w, cost, fixed, cap, allowed, **kw)
    r = prob.solve()
    ref = prob.solve(method="pulp")
    assert r.solver["method"] == "fast-cfl"
    assert r.status == ref.status == "optimal"
    assert r.objective == pytest.approx(ref.objective, rel=1e-7)
    assert "s1" in set(r.open_sites["site_id"])
    assert "s0" not in set(r.open_sites["site_id"])
    assert len(r.open_sites) <= 2


def test_infeasible_capacity_explained():
    w, cost, fixed, cap, allowed = _instance(3)
    cap = np.full(5, w.sum() / 10)
    r = _problem(w, cost, fixed, cap, allowed).solve()
    assert r.status == "infeasible"
    assert "capacity" in r.message


def test_time_limited_run_is_honest():
    w, cost, fixed, cap, allowed = _instance(5, n=400, m=40)
    cap = np.full(40, w.sum() / 6.5)
    r = _problem(w, cost, fixed, cap, allowed).solve(time_limit_s=0.5)
    assert r.status in ("optimal", "feasible", "no_solution")
    if r.status == "feasible":
        assert r.best_bound is None or r.best_bound <= r.objective * (1 + 1e-9)
        assert r.gap is not None and r.gap >= 0
        assert "gap" in r.message
    if r.status in ("optimal", "feasible"):
        served = r.assignments.groupby("demand_id")["share"].sum()
        assert len(served) == 400
        assert np.allclose(served.to_numpy(), 1.0)


def test_cardinality_bound():
    assert cardinality_bound(np.array([5.0, 3.0, 8.0]), 10.0) == 2
    assert cardinality_bound(np.array([5.0, 5.0]), 10.0) == 2
    assert cardinality_bound(np.array([5.0, 4.0]), 10.0) is None
    assert cardinality_bound(np.array([5.0]), 0.0) == 0


@pytest.mark.parametrize("seed", range(6))
def test_initial_open_gives_the_same_optimum(seed):
    """solve_cfl with a warm start (optimal, arbitrary, too small, breaking the count) is exact."""
    from placement.formulations.cfl import solve_cfl

    restrict = seed % 2 == 1
    w, cost, fixed, cap, allowed = _instance(40 + seed, restrict=restrict)
    expected = _brute_force(w, cost, fixed, cap, allowed)
    data = _problem(w, cost, fixed, cap, allowed).model_data()
    cold = solve_cfl(data)
    assert cold.status == "optimal" and not cold.warm_start_used
    assert cold.objective == pytest.approx(expected, rel=1e-7)
    rng = np.random.default_rng(seed)
    for start in (cold.open_sites, rng.choice(5, 2, replace=False), np.array([0]), np.arange(5)):
        warm = solve_cfl(data, initial_open=start)
        assert warm.status == "optimal"
        assert warm.objective == pytest.approx(expected, rel=1e-7)
    assert solve_cfl(data, initial_open=cold.open_sites).warm_start_used
    # a site count the start breaks: the start is dropped, the answer still exact
    prob = _problem(w, cost, fixed, cap, allowed, max_sites=3)
    ref = prob.solve(method="pulp")
    warm = solve_cfl(prob.model_data(), initial_open=np.arange(5))
    assert not warm.warm_start_used
    assert warm.objective == pytest.approx(ref.objective, rel=1e-7)


def test_problem_warm_start_on_the_capacitated_path():
    w, cost, fixed, cap, allowed = _instance(21)
    prob = _problem(w, cost, fixed, cap, allowed)
    cold = prob.solve()
    warm = prob.solve(warm_start=cold)
    assert warm.solver["method"] == "fast-cfl" and warm.solver["warm_start"]
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    pulp_warm = prob.solve(method="pulp", warm_start=["s0", "s1", "s2"])
    assert pulp_warm.status == "optimal" and pulp_warm.solver["warm_start"]
    assert pulp_warm.objective == pytest.approx(cold.objective, rel=1e-7)


def test_transport_moves_drop_then_add_then_swap():
    """The local search's neighbourhood: drops within the site count, then adds, then swaps."""
    from placement.formulations.cfl import _Transport

    y = np.array([True, True, False, False])
    must = np.array([True, False, False, False])
    got = [
        tuple(np.flatnonzero(c))
        for c in _Transport._moves(y, must, [0, 1, 2, 3], 1, 3, float("inf"))
    ]
    assert got == [(0,), (0, 1, 2), (0, 1, 3), (0, 2), (0, 3)]
    # a count of exactly 2 leaves only the swaps; a passed clock only the drops
    got = [tuple(np.flatnonzero(c)) for c in _Transport._moves(y, must, [0, 1, 2, 3], 2, 2, 1e300)]
    assert got == [(0, 2), (0, 3)]
    stopped = _Transport._moves(y, must, [0, 1, 2, 3], 1, 3, float("-inf"))
    assert [tuple(np.flatnonzero(c)) for c in stopped] == [(0,)]


@pytest.mark.parametrize("seed", range(4))
def test_transport_local_search_ends_in_a_local_optimum(seed):
    """No drop / add / swap of the returned open set is cheaper; its cost is its transport LP's."""
    from placement.formulations.cfl import _Transport

    w, cost, fixed, cap, _ = _instance(seed)
    n, m = cost.shape
    pi, pj = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    ev = _Transport(pi, pj, w, cap, cost.ravel(), fixed, n, m)
    none, every = np.zeros(m, dtype=bool), np.ones(m, dtype=bool)
    inf = float("inf")
    best, y, z = ev.local_search(np.zeros(m), none, every, -inf, inf, inf)
    assert y is not None and z is not None
    assert best == pytest.approx(fixed @ y + cost.ravel() @ z)
    y = y > 0.5
    for cand in _Transport._moves(y, none, list(range(m)), -inf, inf, inf):
        assert ev.evaluate(cand)[0] >= best - 1e-9 * best
