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
