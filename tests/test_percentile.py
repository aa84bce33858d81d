"""Exact p-median under a percentile SLA (formulations/percentile.py) against enumeration and PuLP."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from placement.errors import ValidationError
from placement.formulations.percentile import share_swap_search, solve_pmedian_share
from placement.heuristics import prepare_inputs
from placement.problem import Problem


def _instance(seed: int, n: int, m: int, *, holes: float = 0.0, integer: bool = False):
    """Clustered demand and sites in a square; ``holes`` of the pairs disallowed."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100, (3, 2))
    xy_d = centres[rng.integers(0, 3, n)] + rng.normal(0, 15, (n, 2))
    xy_s = rng.uniform(0, 100, (m, 2))
    cost = 1.0 + np.linalg.norm(xy_d[:, None, :] - xy_s[None, :, :], axis=2)
    if integer:
        cost = np.round(cost)
    if holes:
        off = rng.random((n, m)) < holes
        off[np.arange(n), rng.integers(0, m, n)] = False  # every demand keeps a site
        cost[off] = np.inf
    w = rng.integers(0, 20, n).astype(float)  # some zero weights
    w[0] = max(w[0], 1.0)
    return cost, w


def _subsets(m: int, p: int, must: np.ndarray, forb: np.ndarray):
    for s in itertools.combinations(range(m), p):
        chosen = np.zeros(m, dtype=bool)
        chosen[list(s)] = True
        if (chosen & forb).any() or (must & ~chosen).any():
            continue
        yield list(s)


def _brute_nearest(cost, w, p, sla, min_within, must, forb) -> tuple[float, list[int] | None]:
    """Best open set by enumeration, each demand at its nearest open site."""
    best, arg = math.inf, None
    for s in _subsets(cost.shape[1], p, must, forb):
        d = cost[:, s].min(axis=1)
        if not np.isfinite(d).all():
            continue
        inside = float(w[d <= sla].sum())
        if inside < min_within:
            continue
        obj = float(w @ d)
        if obj < best:
            best, arg = obj, s
    return best, arg


def _brute_assignments(cost, w, p, sla, min_within, must, forb) -> float:
    """Best open set and assignment by enumerating both: any demand to any allowed open site.

    Independent of the argument that the nearest open site is best for the latency and for
    the share at once (tiny instances only).
    """
    n = cost.shape[0]
    best = math.inf
    for s in _subsets(cost.shape[1], p, must, forb):
        options = [[j for j in s if np.isfinite(cost[i, j])] for i in range(n)]
        if any(not o for o in options):
            continue
        for choice in itertools.product(*options):
            c = cost[np.arange(n), list(choice)]
            if float(w[c <= sla].sum()) < min_within:
                continue
            best = min(best, float(w @ c))
    return best


def _check(sol, cost, w, p, sla, min_within, must, forb, expected):
    if not math.isfinite(expected):
        assert sol.status == "infeasible"
        return
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert sol.best_bound <= sol.objective + 1e-9
    s = list(sol.open_sites)
    assert len(s) == p and not forb[s].any() and must[np.flatnonzero(must)].all()
    assert set(np.flatnonzero(must)) <= set(s)
    d = cost[:, s].min(axis=1)
    assert float(w[d <= sla].sum()) >= min_within
    assert float(w @ d) == pytest.approx(sol.objective, rel=1e-12)
    assert (sol.assignment >= 0).all() and set(sol.assignment) <= set(s)


@pytest.mark.parametrize("seed", range(6))
def test_nearest_site_enumeration_agrees_with_enumerating_assignments(seed):
    # the reduction the solver rests on: for a fixed open set, nearest sites are optimal
    cost, w = _instance(seed, 7, 5, holes=0.2)
    rng = np.random.default_rng(100 + seed)
    must, forb = np.zeros(5, bool), np.zeros(5, bool)
    sla = float(np.quantile(cost[np.isfinite(cost)], 0.3))
    for share in (0.3, 0.6, 0.8, 0.95):
        min_within = share * w.sum()
        p = int(rng.integers(1, 4))
        exp, _ = _brute_nearest(cost, w, p, sla, min_within, must, forb)
        assert _brute_assignments(cost, w, p, sla, min_within, must, forb) == pytest.approx(exp)
        sol = solve_pmedian_share(cost, w, p, sla, min_within)
        _check(sol, cost, w, p, sla, min_within, must, forb, exp)


@pytest.mark.parametrize("seed", range(24))
def test_matches_enumeration_on_random_instances(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(12, 31)), int(rng.integers(6, 10))
    cost, w = _instance(seed, n, m, holes=[0.0, 0.3][seed % 2], integer=seed % 3 == 0)
    p = int(rng.integers(2, 5))
    must, forb = np.zeros(m, bool), np.zeros(m, bool)
    if seed % 4 == 1:
        must[int(rng.integers(0, m))] = True
    if seed % 4 == 2:
        forb[rng.choice(m, 2, replace=False)] = True
    sla = float(np.quantile(cost[np.isfinite(cost)], rng.uniform(0.15, 0.4)))
    # a share between the unconstrained optimum's and the best possible: the row binds
    _, free_s = _brute_nearest(cost, w, p, sla, -1.0, must, forb)
    if free_s is None:  # no p allowed sites serve every demand
        sol = solve_pmedian_share(cost, w, p, sla, 0.0, must_open=must, forbidden=forb)
        assert sol.status == "infeasible"
        return
    top = max(float(w[cost[:, s].min(axis=1) <= sla].sum()) for s in _subsets(m, p, must, forb))
    have = float(w[cost[:, free_s].min(axis=1) <= sla].sum())
    for min_within in (have + 0.5 * (top - have), top, top + 0.5, have):
        exp, _ = _brute_nearest(cost, w, p, sla, min_within, must, forb)
        sol = solve_pmedian_share(cost, w, p, sla, min_within, must_open=must, forbidden=forb)
        _check(sol, cost, w, p, sla, min_within, must, forb, exp)


def test_branching_instances_match_enumeration():
    # larger than the random ones: the root LP leaves a gap that the tree must close
    nodes = []
    must, forb = np.zeros(14, bool), np.zeros(14, bool)
    for seed, quantile, frac in [(62, 0.25, 0.3), (64, 0.1, 0.6), (64, 0.1, 0.9), (50, 0.1, 0.3)]:
        cost, w = _instance(seed, 60, 14)
        sla = float(np.quantile(cost, quantile))
        _, free_s = _brute_nearest(cost, w, 4, sla, -1.0, must, forb)
        have = float(w[cost[:, free_s].min(axis=1) <= sla].sum())
        top = max(
            float(w[cost[:, s].min(axis=1) <= sla].sum()) for s in _subsets(14, 4, must, forb)
        )
        min_within = have + frac * (top - have)
        exp, _ = _brute_nearest(cost, w, 4, sla, min_within, must, forb)
        sol = solve_pmedian_share(cost, w, 4, sla, min_within)
        _check(sol, cost, w, 4, sla, min_within, must, forb, exp)
        nodes.append(sol.nodes)
    assert min(nodes) >= 2 and max(nodes) >= 4  # the tree was used


def test_time_limit_keeps_bound_and_incumbent_honest():
    cost, w = _instance(7, 200, 40)
    sla = float(np.quantile(cost, 0.1))
    sol = solve_pmedian_share(cost, w, 8, sla, 0.75 * w.sum(), time_limit_s=1e-3)
    full = solve_pmedian_share(cost, w, 8, sla, 0.75 * w.sum())
    assert full.status == "optimal"
    assert sol.status in ("feasible", "no_solution", "optimal")
    if sol.status != "no_solution":
        assert sol.objective >= full.objective - 1e-9
    assert not sol.best_bound > full.objective + 1e-9


def test_share_swap_search_repairs_an_infeasible_start():
    cost, w = _instance(3, 80, 12)
    sla = float(np.quantile(cost, 0.15))
    inp = prepare_inputs(cost, w, 3)
    # the start: the three sites that cover least within the SLA
    worst = np.argsort(((cost <= sla) * w[:, None]).sum(axis=0))[:3]
    must, forb = np.zeros(12, bool), np.zeros(12, bool)
    top = max(float(w[cost[:, s].min(axis=1) <= sla].sum()) for s in _subsets(12, 3, must, forb))
    need = 0.9 * top
    res = share_swap_search(inp, sla, need, worst)
    assert res.feasible and res.within_weight >= need and len(res.open_sites) == 3
    assert res.objective == pytest.approx(float(w @ cost[:, res.open_sites].min(axis=1)))


def test_bad_sla_is_refused():
    cost, w = _instance(0, 10, 5)
    with pytest.raises(ValidationError, match="sla"):
        solve_pmedian_share(cost, w, 2, float("nan"), 1.0)


def _problem(seed: int, n: int = 70, m: int = 16, **kw) -> tuple[Problem, np.ndarray, np.ndarray]:
    cost, w = _instance(seed, n, m)
    w = w + 1.0
    sites = pd.DataFrame(
        {
            "site_id": [f"s{j}" for j in range(m)],
            "lat_deg": 0.0,
            "lon_deg": 0.0,
            "provider": ["a", "b"] * (m // 2),
        }
    )
    demand = pd.DataFrame(
        {"demand_id": [f"d{i}" for i in range(n)], "lat_deg": 0.0, "lon_deg": 0.0, "weight": w}
    )
    i, j = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    table = pd.DataFrame(
        {
            "demand_id": [f"d{k}" for k in i.ravel()],
            "site_id": [f"s{k}" for k in j.ravel()],
            "latency_ms": cost.ravel(),
        }
    )
    return Problem(sites, demand, latency=table, **kw), cost, w


@pytest.mark.parametrize(
    ("seed", "sla_ms", "share"),
    [
        (0, 15.0, 0.21),
        (1, 15.0, 0.40),
        (1, 35.0, 0.94),
        (3, 25.0, 0.78),
        (4, 35.0, 0.97),
        (2, 35.0, 0.99),
        (3, 15.0, 0.5),
    ],
)
def test_planner_percentile_sla_matches_the_pulp_model(seed, sla_ms, share):
    # shares between the unconstrained optimum's and the best four sites' (the last: above it)
    prob, cost, w = _problem(seed, n_sites=4, sla_ms=sla_ms, sla_share=share)
    res = prob.solve()
    pulp = prob.solve(method="pulp")
    assert res.solver["method"] == "fast-percentile"
    assert res.status == pulp.status
    if res.status == "infeasible":
        assert (seed, share) == (3, 0.5)
        return
    assert res.status == "optimal"
    assert res.objective == pytest.approx(pulp.objective, rel=1e-7)
    assert res.objective > prob.replace(sla_share=None).solve().objective  # the SLA binds
    a = res.assignments
    assert (a["share"] == 1.0).all() and len(a) == len(w)
    within = float(a.loc[a["latency_ms"] <= sla_ms, "weight"].sum()) / w.sum()
    opened = [int(s[1:]) for s in res.open_site_ids]
    assert within == pytest.approx(float(w[cost[:, opened].min(axis=1) <= sla_ms].sum()) / w.sum())
    assert within >= share - 1e-9


def test_planner_unreachable_share_is_infeasible_and_method_fast_covers_it():
    prob, cost, w = _problem(1, n_sites=3, sla_ms=20.0, sla_share=0.6)
    top = max(
        float(w[cost[:, list(s)].min(axis=1) <= 20.0].sum()) / w.sum()
        for s in itertools.combinations(range(16), 3)
    )
    assert top < 0.6  # no three sites reach it
    res = prob.solve(method="fast")
    assert res.status == "infeasible" and res.solver["method"] == "fast-percentile"
    assert prob.solve(method="pulp").status == "infeasible"


def test_degenerate_slas_and_shares():
    rng = np.random.default_rng(0)
    cost, w = rng.uniform(1, 10, (30, 6)), rng.uniform(0, 1, 30)
    free = solve_pmedian_share(cost, w, 2, -1.0, 0.0)  # nothing within, nothing required
    must, forb = np.zeros(6, bool), np.zeros(6, bool)
    exp, _ = _brute_nearest(cost, w, 2, -1.0, -1.0, must, forb)
    assert free.status == "optimal" and free.objective == pytest.approx(exp)
    # every pair within (no class column at all): the p-median optimum again
    every = solve_pmedian_share(cost, w, 2, np.inf, 0.99 * w.sum())
    assert every.status == "optimal" and every.objective == pytest.approx(exp)
    assert solve_pmedian_share(cost, w, 2, -1.0, 0.1).status == "infeasible"
    assert solve_pmedian_share(cost, w, 2, 5.0, 1.01 * w.sum()).status == "infeasible"


def test_initial_open_is_repaired_and_reported():
    cost, w = _instance(64, 60, 14)
    sla = float(np.quantile(cost, 0.1))
    must = np.zeros(14, bool)
    _, free_s = _brute_nearest(cost, w, 4, sla, -1.0, must, must)
    have = float(w[cost[:, free_s].min(axis=1) <= sla].sum())
    top = max(float(w[cost[:, s].min(axis=1) <= sla].sum()) for s in _subsets(14, 4, must, must))
    need = have + 0.6 * (top - have)
    cold = solve_pmedian_share(cost, w, 4, sla, need)
    # the optimum as the start: it is the first incumbent (nothing beats it)
    warm = solve_pmedian_share(cost, w, 4, sla, need, initial_open=cold.open_sites)
    assert warm.warm_start_used and warm.objective == pytest.approx(cold.objective)
    assert not cold.warm_start_used
    # the free optimum (it breaks the share row) as the start: repaired, the same optimum
    repaired = solve_pmedian_share(cost, w, 4, sla, need, initial_open=free_s)
    assert repaired.status == "optimal" and repaired.objective == pytest.approx(cold.objective)
