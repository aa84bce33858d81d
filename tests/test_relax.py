"""Relaxation first: restricting constraints dropped, a fast solver, the optimum checked."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from placement.formulations.contract import Solution
from placement.formulations.relax import relaxation, violations
from placement.problem import Problem


def _problem(seed: int, **kw) -> tuple[Problem, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, m = 24, 8
    xy_d, xy_s = rng.uniform(0, 100, (n, 2)), rng.uniform(0, 100, (m, 2))
    lat = 1.0 + np.linalg.norm(xy_d[:, None, :] - xy_s[None, :, :], axis=2)
    w = rng.integers(1, 20, n).astype(float)
    sites = pd.DataFrame(
        {
            "site_id": [f"s{j}" for j in range(m)],
            "lat_deg": 0.0,
            "lon_deg": 0.0,
            "provider": ["a", "a", "a", "a", "b", "b", "c", "c"],
        }
    )
    demand = pd.DataFrame(
        {"demand_id": [f"d{i}" for i in range(n)], "lat_deg": 0.0, "lon_deg": 0.0, "weight": w}
    )
    table = pd.DataFrame(
        [
            {"demand_id": f"d{i}", "site_id": f"s{j}", "latency_ms": lat[i, j]}
            for i in range(n)
            for j in range(m)
        ]
    )
    kw.setdefault("n_sites", 3)
    return Problem(sites, demand, latency=table, **kw), lat, w


def _brute(lat, w, p, ok) -> float:
    """Best median over every open set of size p that ``ok(open set)`` accepts (nearest site)."""
    best = np.inf
    for s in itertools.combinations(range(lat.shape[1]), p):
        if ok(s):
            best = min(best, float(w @ lat[:, list(s)].min(axis=1)) / w.sum())
    return best


@pytest.mark.parametrize("limit", [1, 2])
@pytest.mark.parametrize("seed", range(3))
def test_provider_limits_proven_on_the_relaxation_or_by_pulp(seed, limit):
    prob, lat, w = _problem(seed, max_sites_per_provider=limit)
    res = prob.solve()
    pulp = prob.solve(method="pulp")
    provider = np.array(list("aaaabbcc"))
    expected = _brute(
        lat, w, 3, lambda s: max(np.unique(provider[list(s)], return_counts=True)[1]) <= limit
    )
    assert res.status == pulp.status == "optimal"
    assert res.objective == pytest.approx(expected, rel=1e-9)
    assert pulp.objective == pytest.approx(expected, rel=1e-9)
    assert "relaxation" in res.solver
    free = _brute(lat, w, 3, lambda s: True)
    if expected > free * (1 + 1e-9):  # the limit binds: PuLP solved it, started and bounded
        assert res.solver["method"] == "pulp"
        assert "provider limit" in res.solver["relaxation"]
    else:  # the unconstrained optimum meets the limit: proven by the fast solver
        assert res.solver["method"] == "fast-median"
        assert "meets them" in res.solver["relaxation"]
    assert res.best_bound <= res.objective * (1 + 1e-9)


def test_loose_capacity_and_percentile_sla_need_no_pulp_model():
    prob, _, w = _problem(1)
    free = prob.solve()
    assert free.solver["method"] == "fast-median" and "relaxation" not in free.solver
    loose = prob.replace(capacity=float(w.sum()), sla_ms=500.0, sla_share=0.9)
    res = loose.solve()
    assert res.status == "optimal" and res.solver["method"] == "fast-median"
    assert "without sla_share, capacity" in res.solver["relaxation"]
    assert res.objective == pytest.approx(free.objective, rel=1e-12)
    assert res.objective == pytest.approx(loose.solve(method="pulp").objective, rel=1e-9)
    assert res.gap == pytest.approx(0.0, abs=1e-9)


def test_binding_capacity_keeps_the_pulp_optimum_and_a_valid_bound():
    prob, _, w = _problem(2)
    tight = prob.replace(capacity=0.36 * float(w.sum()), single_sourcing=True)
    res = tight.solve()
    pulp = tight.solve(method="pulp")
    assert res.status == pulp.status == "optimal"
    assert res.objective == pytest.approx(pulp.objective, rel=1e-9)
    assert res.solver["method"] == "pulp" and "capacity" in res.solver["relaxation"]
    free = prob.solve().objective
    assert res.objective > free  # binds
    assert free * (1 - 1e-9) <= res.best_bound <= res.objective * (1 + 1e-9)


def test_violations_name_each_broken_constraint():
    prob, _, _ = _problem(3, capacity=1.0, max_sites_per_provider={"a": 0}, sla_ms=1.0)
    data = prob.replace(sla_share=0.99).model_data()
    relaxed, dropped = relaxation(data)
    assert set(dropped) == {"capacity", "sla_share", "max_per_provider"}
    assert relaxed.capacity is None and relaxed.sla_share is None and not relaxed.max_per_provider
    open_mask = np.zeros(data.n_sites, dtype=bool)
    open_mask[[0, 4, 6]] = True
    ok = data.primary_ok & open_mask[data.pair_j]
    rows = []
    for i in range(data.n_demand):
        pairs = np.flatnonzero(ok & (data.pair_i == i))
        p = pairs[np.argmin(data.latency_ms[pairs])]
        rows.append((int(p), 1, i, 1.0))
    found = violations(data, Solution("optimal", objective=1.0, open_mask=open_mask, rows=rows))
    assert [v.split(":")[0] for v in found] == ["percentile SLA", "capacity", "provider limit"]
    assert violations(data, Solution("no_solution")) == ["no solution"]


@pytest.mark.parametrize("seed", range(3))
def test_twin_sites_of_another_provider_settle_provider_limits(seed):
    rng = np.random.default_rng(seed)
    n = 15
    base = 1.0 + rng.uniform(0, 100, (n, 3))
    lat = np.hstack([base, base])  # sites 3..5 are co-located twins of 0..2
    providers = ["a", "a", "a", "b", "b", "b"]
    sites = pd.DataFrame(
        {
            "site_id": [f"s{j}" for j in range(6)],
            "lat_deg": 0.0,
            "lon_deg": 0.0,
            "provider": providers,
        }
    )
    w = rng.integers(1, 9, n).astype(float)
    demand = pd.DataFrame(
        {"demand_id": [f"d{i}" for i in range(n)], "lat_deg": 0.0, "lon_deg": 0.0, "weight": w}
    )
    table = pd.DataFrame(
        [
            {"demand_id": f"d{i}", "site_id": f"s{j}", "latency_ms": lat[i, j]}
            for i in range(n)
            for j in range(6)
        ]
    )
    prob = Problem(sites, demand, latency=table, n_sites=3, max_sites_per_provider={"a": 1})
    res = prob.solve()
    free = prob.replace(max_sites_per_provider=None).solve()
    assert res.status == "optimal" and res.solver["method"] == "fast-median"
    assert "twins" in res.solver["relaxation"]
    assert res.objective == pytest.approx(free.objective, rel=1e-12)
    assert res.objective == pytest.approx(prob.solve(method="pulp").objective, rel=1e-9)
    opened = [providers[int(s[1:])] for s in res.open_site_ids]
    assert opened.count("a") <= 1 and len(opened) == 3
    # every point keeps its latency: the assignment moved to the twins
    a = res.assignments
    assert np.allclose(
        np.sort(a["latency_ms"].to_numpy()),
        np.sort(free.assignments["latency_ms"].to_numpy()),
    )


def _covered(lat, w, s, sla_ms) -> float:
    return float(w[lat[:, list(s)].min(axis=1) <= sla_ms].sum()) / w.sum()


@pytest.mark.parametrize("share", [0.6, 0.75, 0.9])
@pytest.mark.parametrize("seed", range(4))
def test_percentile_sla_by_lagrangian_penalties_matches_enumeration(seed, share):
    prob, lat, w = _problem(seed, sla_ms=30.0, sla_share=share)
    res = prob.solve()
    expected = _brute(lat, w, 3, lambda s: _covered(lat, w, s, 30.0) >= share - 1e-12)
    if not np.isfinite(expected):
        assert res.status == "infeasible"
        return
    assert res.status == "optimal"
    assert res.objective == pytest.approx(expected, rel=1e-9)
    assert res.best_bound <= res.objective * (1 + 1e-9)
    opened = [int(s[1:]) for s in res.open_sites["site_id"]]
    assert _covered(lat, w, opened, 30.0) >= share - 1e-12


def test_percentile_lagrange_bound_and_incumbent_bracket_the_optimum():
    from placement.formulations import registry
    from placement.formulations.radius import solve_pmedian
    from placement.formulations.relax import percentile_applies, percentile_lagrange

    for seed in range(6):
        prob, lat, w = _problem(seed, sla_ms=30.0, sla_share=0.75)
        data = prob.lower().data
        assert percentile_applies(data)
        share = data.weight / data.total_weight

        def pmedian(matrix, start, left_s, data=data, share=share):
            sol = solve_pmedian(matrix, share, 3)
            return registry._mask(data.n_sites, sol.open_sites), sol.best_bound

        out = percentile_lagrange(data, pmedian, deadline=np.inf)
        expected = _brute(lat, w, 3, lambda s, lat=lat, w=w: _covered(lat, w, s, 30.0) >= 0.75)
        if not np.isfinite(expected):
            assert out.solution is None
            continue
        assert out.bound <= expected * (1 + 1e-9)
        if out.solution is not None:
            assert out.solution.objective >= expected * (1 - 1e-9)
            assert not violations(data, out.solution)


def test_unreachable_percentile_sla_is_proven_infeasible_without_pulp():
    # all 8 sites serve 73 % within 20 ms, the best 3 only 49.6 %: only the count makes it fail
    prob, lat, w = _problem(2, sla_ms=20.0, sla_share=0.6)
    assert _covered(lat, w, range(8), 20.0) >= 0.6
    assert not np.isfinite(_brute(lat, w, 3, lambda s: _covered(lat, w, s, 20.0) >= 0.6))
    res = prob.solve()
    assert res.status == "infeasible"
    assert res.solver["method"] == "fast-percentile"  # the share row in the radius LP
    assert "0.6 of the weight within the SLA" in res.message


@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_capacity_incumbent_is_feasible_and_not_below_the_optimum(seed, single):
    from placement.formulations.relax import capacity_applies, capacity_incumbent

    prob, _, w = _problem(seed)
    prob = prob.replace(capacity=0.36 * float(w.sum()), single_sourcing=single)
    data = prob.lower().data
    assert capacity_applies(data)
    free = prob.replace(capacity=None).solve()
    start = np.isin(prob.sites["site_id"], free.open_sites["site_id"])
    inc = capacity_incumbent(data, start, deadline=np.inf, budget_s=30.0)
    res = prob.solve()
    pulp = prob.solve(method="pulp")
    assert res.status == pulp.status == "optimal"
    assert res.objective == pytest.approx(pulp.objective, rel=1e-9)
    assert inc is not None and not violations(data, inc)
    assert inc.open_mask.sum() == 3
    assert inc.objective >= pulp.objective * (1 - 1e-9)
    load = np.zeros(data.n_sites)
    for p, _, i, share in inc.rows:
        load[data.pair_j[p]] += data.weight[i] * share
    assert (load <= data.capacity * (1 - 1e-7)).all()  # the margin below every capacity
    if single:
        assert all(share == 1.0 for *_, share in inc.rows)
        assert len(inc.rows) == data.n_demand
