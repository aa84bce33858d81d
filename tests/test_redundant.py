"""The exact redundant-median solver (column generation) against PuLP and exhaustive enumeration.

The oracle enumerates every admissible set of open sites and, for each demand point, every
primary and every choice of ``k − 1`` backups in distinct failure domains: it shares no code with
either formulation.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pandas as pd
import pytest

from placement.formulations import redundant
from placement.formulations.redundant import solve_redundant_median
from placement.problem import Problem


def _problem(lat, w, dom, **kwargs):
    """Problem on a full latency table (zero coordinates; ``dom`` the zone of each site)."""
    n, m = lat.shape
    sites = pd.DataFrame(
        {
            "site_id": [f"s{j}" for j in range(m)],
            "lat_deg": 0.0,
            "lon_deg": 0.0,
            "zone": [f"z{g}" for g in dom],
        }
    )
    demand = pd.DataFrame(
        {"demand_id": [f"d{i}" for i in range(n)], "lat_deg": 0.0, "lon_deg": 0.0, "weight": w}
    )
    ii, jj = np.nonzero(np.ones((n, m), dtype=bool))
    table = pd.DataFrame(
        {
            "demand_id": demand["demand_id"].to_numpy()[ii],
            "site_id": sites["site_id"].to_numpy()[jj],
            "latency_ms": lat[ii, jj],
        }
    )
    return Problem(
        sites, demand, latency=table, objective="median", failure_domain="zone", **kwargs
    )


def _instance(seed: int, *, n: int = 6, m: int = 6, k: int = 2, n_dom: int = 3, **kwargs):
    rng = np.random.default_rng(seed)
    lat = rng.integers(1, 80, size=(n, m)).astype(float)
    w = rng.integers(1, 10, size=n).astype(float)
    dom = rng.integers(0, n_dom, size=m)
    return _problem(lat, w, dom, redundancy=k, **kwargs), lat, w, dom


def _oracle(lat, w, dom, *, k, p, beta, sla, backup_sla, must=(), forbidden=()):
    """Exhaustive optimum (weighted mean, backups weighted by β), or None when infeasible."""
    n, m = lat.shape
    prim_ok = lat <= (sla if sla is not None else np.inf)
    back_ok = lat <= (backup_sla if backup_sla is not None else np.inf)
    best = None
    for S in itertools.combinations(range(m), p):
        if not set(must) <= set(S) or set(forbidden) & set(S):
            continue
        total = 0.0
        for i in range(n):
            ci = math.inf
            for j in S:
                if not prim_ok[i, j]:
                    continue
                rest = [b for b in S if b != j and back_ok[i, b]]
                for backs in itertools.combinations(rest, k - 1):
                    doms = [dom[j], *(dom[b] for b in backs)]
                    if len(set(doms)) < k:
                        continue
                    ci = min(ci, lat[i, j] + beta * sum(lat[i, b] for b in backs))
            total += w[i] * ci
        if math.isfinite(total) and (best is None or total < best):
            best = total
    return None if best is None else best / w.sum()


def _assert_proven(sol, expect):
    """``sol`` is the enumerated answer ``expect``: infeasible when None, else proven optimal
    with objective and bound at it."""
    if expect is None:
        assert sol.status == "infeasible"
        return
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expect, rel=1e-7, abs=1e-9)
    assert sol.best_bound == pytest.approx(expect, rel=1e-7, abs=1e-9)


def _check_rows(res, beta):
    a = res.assignments
    assert (a["share"] == 1.0).all()
    scale = np.where(a["rank"] == 1, 1.0, beta)
    obj = float((a["weight"] * a["latency_ms"] * scale).sum() / res.metrics["total_weight"])
    assert obj == pytest.approx(res.objective, rel=1e-9, abs=1e-9)


CASES = [
    # seed, k, n_dom, p, beta, sla, backup_sla, must, forbidden
    (1, 2, 3, 3, 0.5, None, None, (), ()),
    (2, 2, 2, 3, 0.0, 60, None, (), ()),
    (3, 2, 3, 2, 1.0, None, 50, (), ()),
    (4, 3, 3, 4, 0.5, 70, 75, (), ()),
    (5, 3, 4, 3, 1.0, None, None, (0,), ()),
    (6, 2, 3, 3, 0.5, 65, 70, (), (1,)),
    (7, 2, 2, 4, 0.0, None, 60, (2,), (3,)),
    (8, 3, 3, 5, 0.5, None, 70, (), ()),
    (9, 2, 3, 2, 1.0, 70, None, (), (0,)),
    (10, 3, 5, 3, 0.0, 75, 75, (1,), ()),
]


@pytest.mark.parametrize("seed,k,n_dom,p,beta,sla,backup_sla,must,forbidden", CASES)
def test_matches_pulp_and_enumeration(seed, k, n_dom, p, beta, sla, backup_sla, must, forbidden):
    prob, lat, w, dom = _instance(
        seed,
        k=k,
        n_dom=n_dom,
        n_sites=p,
        backup_weight=beta,
        max_latency_ms=sla,
        backup_max_latency_ms=backup_sla,
        must_open=[f"s{j}" for j in must],
        forbidden=[f"s{j}" for j in forbidden],
    )
    expect = _oracle(
        lat,
        w,
        dom,
        k=k,
        p=p,
        beta=beta,
        sla=sla,
        backup_sla=backup_sla,
        must=must,
        forbidden=forbidden,
    )
    ours = prob.solve()
    pulp = prob.solve(method="pulp")
    if expect is None:
        assert ours.status == "infeasible"
        assert pulp.status == "infeasible"
        assert solve_redundant_median(prob.model_data()).status == "infeasible"
        return
    assert ours.solver["method"] == "fast-redundant-median"
    assert 1 <= ours.solver["n_demand_solved"] <= len(lat)
    assert ours.status == "optimal"
    assert pulp.status == "optimal"
    assert ours.objective == pytest.approx(expect, rel=1e-7, abs=1e-9)
    assert pulp.objective == pytest.approx(expect, rel=1e-7, abs=1e-9)
    assert ours.gap == 0.0
    assert ours.best_bound == pytest.approx(expect, rel=1e-7, abs=1e-9)
    _check_rows(ours, beta)
    for j in must:
        assert f"s{j}" in set(ours.open_sites["site_id"])
    for j in forbidden:
        assert f"s{j}" not in set(ours.open_sites["site_id"])


@pytest.mark.parametrize("seed", range(20, 40))
def test_random_against_enumeration(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 4))
    n_dom = int(rng.integers(k, 5))
    p = int(rng.integers(k, 6))
    beta = float(rng.choice([0.0, 0.5, 1.0]))
    sla = None if rng.random() < 0.5 else 65.0
    backup_sla = None if rng.random() < 0.5 else 70.0
    prob, lat, w, dom = _instance(
        seed,
        n=7,
        m=7,
        k=k,
        n_dom=n_dom,
        n_sites=p,
        backup_weight=beta,
        max_latency_ms=sla,
        backup_max_latency_ms=backup_sla,
    )
    expect = _oracle(lat, w, dom, k=k, p=p, beta=beta, sla=sla, backup_sla=backup_sla)
    sol = solve_redundant_median(prob.model_data())
    if expect is None:
        assert sol.status == "infeasible"
        return
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expect, rel=1e-7, abs=1e-9)
    assert sol.best_bound <= sol.objective + 1e-9


@pytest.mark.parametrize("seed", range(60, 72))
def test_single_site_domains_against_enumeration(seed):
    """Domains with one candidate site per demand get no domain row (the linking row implies it);
    mixed with domains of two and three sites (the demo's city domains), SLAs thinning them."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 4))
    dom = np.array([0, 0, 0, 1, 1, 2, 3, 4])
    lat = rng.integers(1, 80, size=(7, len(dom))).astype(float)
    w = rng.integers(1, 10, size=7).astype(float)
    p = int(rng.integers(k, 6))
    sla = None if rng.random() < 0.3 else 60.0
    backup_sla = None if rng.random() < 0.3 else 65.0
    prob = _problem(
        lat,
        w,
        dom,
        redundancy=k,
        n_sites=p,
        backup_weight=0.5,
        max_latency_ms=sla,
        backup_max_latency_ms=backup_sla,
    )
    expect = _oracle(lat, w, dom, k=k, p=p, beta=0.5, sla=sla, backup_sla=backup_sla)
    sol = solve_redundant_median(prob.model_data(), aggregate=False)
    _assert_proven(sol, expect)


def _fractional_instance():
    # found by search with these seeds: the LP relaxation has a fractional y, so the
    # reduced-cost filtered MIP runs
    return _instance(FRACTIONAL_SEED, n=12, m=9, k=2, n_dom=3, n_sites=3, backup_weight=0.5)


FRACTIONAL_SEED = 3


def test_fractional_lp_goes_through_the_site_branching():
    prob, lat, w, dom = _fractional_instance()
    sol = solve_redundant_median(prob.model_data())
    assert sol.n_branch_lps > 0 and not sol.used_mip
    assert sol.lp_bound < sol.objective - 1e-9
    expect = _oracle(lat, w, dom, k=2, p=3, beta=0.5, sla=None, backup_sla=None)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expect, rel=1e-9)


def test_fractional_lp_goes_through_the_mip(monkeypatch):
    # with no LP solve allowed to the site branching, the HiGHS MIP proves the optimum
    monkeypatch.setattr(redundant, "_BRANCH_MAX_LPS", 0)
    prob, lat, w, dom = _fractional_instance()
    sol = solve_redundant_median(prob.model_data())
    assert sol.used_mip
    assert sol.lp_bound < sol.objective - 1e-9
    expect = _oracle(lat, w, dom, k=2, p=3, beta=0.5, sla=None, backup_sla=None)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expect, rel=1e-9)
    assert prob.solve(method="pulp").objective == pytest.approx(expect, rel=1e-7)


def test_infeasible_domains():
    # every site in one failure domain: no backup can be in another domain
    prob, *_ = _instance(3, k=2, n_dom=1, n_sites=3)
    assert prob.solve().status == "infeasible"
    sol = solve_redundant_median(prob.model_data())
    assert sol.status == "infeasible"
    assert sol.rows == []


def test_infeasible_backup_sla():
    prob, *_ = _instance(3, k=2, n_dom=3, n_sites=2, backup_max_latency_ms=2)
    sol = solve_redundant_median(prob.model_data())
    assert sol.status == "infeasible"
    assert prob.solve().status == "infeasible"


def test_tiny_time_limit_is_honest():
    prob, *_ = _instance(11, n=60, m=25, k=2, n_dom=3, n_sites=6, backup_weight=0.5)
    full = solve_redundant_median(prob.model_data())
    assert full.status == "optimal"
    sol = solve_redundant_median(prob.model_data(), time_limit_s=1e-6)
    assert sol.status in ("feasible", "no_solution", "optimal")
    if sol.status == "feasible":
        assert sol.objective >= full.objective - 1e-9
        assert sol.best_bound <= full.objective + 1e-9
        assert sol.gap > 0 or sol.objective == pytest.approx(sol.best_bound)
    elif sol.status == "no_solution":
        assert sol.rows == []
    res = prob.solve(time_limit_s=1e-6)
    assert res.status in ("feasible", "no_solution", "optimal")


def test_sample_start_path(monkeypatch):
    # the weighted-sample start (used above 600 demand points) on a small instance
    import placement.formulations.redundant as red

    prob, *_ = _instance(12, n=40, m=12, k=2, n_dom=3, n_sites=4, backup_weight=0.5)
    data = prob.model_data()
    expect = solve_redundant_median(data)
    monkeypatch.setattr(red, "_SAMPLE_SIZE", 15)
    sol = solve_redundant_median(data)
    assert sol.status == expect.status == "optimal"
    assert sol.objective == pytest.approx(expect.objective, rel=1e-9)
    assert prob.solve(method="pulp").objective == pytest.approx(sol.objective, rel=1e-7)


def _clustered_instance(seed, n_groups=6, per_group=4, m=9, k=2, n_dom=3, p=4):
    """Demand points in groups whose latency rows differ by a constant (mergeable)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(5.0, 60.0, size=(n_groups, m))
    offsets = rng.uniform(0.0, 8.0, size=(n_groups, per_group))
    lat = (base[:, None, :] + offsets[:, :, None]).reshape(-1, m)
    n = lat.shape[0]
    w = rng.integers(0, 50, size=n).astype(float)
    w[0] = 0.0  # a zero-weight point still has to be served
    dom = np.arange(m) % n_dom
    prob = _problem(lat, w, dom, n_sites=p, redundancy=k, backup_weight=0.5)
    return prob, lat, w, dom


@pytest.mark.parametrize("seed", range(20, 30))
def test_aggregation_matches_enumeration(seed):
    from placement.formulations.redundant import _aggregate

    prob, lat, w, dom = _clustered_instance(seed)
    data = prob.model_data()
    agg = _aggregate(data)
    assert agg is not None and agg.data.n_demand == 6  # four points per group merge
    assert agg.data.total_weight == pytest.approx(data.total_weight)
    expect = _oracle(lat, w, dom, k=2, p=4, beta=0.5, sla=None, backup_sla=None)
    merged = solve_redundant_median(data)
    plain = solve_redundant_median(data, aggregate=False)
    assert merged.status == plain.status == "optimal"
    assert merged.n_demand_solved == 6 and plain.n_demand_solved == len(lat)
    assert merged.objective == pytest.approx(expect, rel=1e-9)
    assert plain.objective == pytest.approx(expect, rel=1e-9)
    # the assignment covers every original point at both ranks
    assert sorted({(i, r) for _, r, i, _ in merged.rows}) == [
        (i, r) for i in range(len(lat)) for r in (1, 2)
    ]


def test_aggregation_keeps_sla_classes_apart():
    from placement.formulations.redundant import _aggregate

    prob, lat, *_ = _clustered_instance(3)
    # rows equal up to a constant, but an SLA that only some points of a group meet: those
    # points reach fewer sites and must not be merged with the others
    tight = prob.replace(max_latency_ms=float(np.quantile(lat, 0.6)))
    data = tight.model_data()
    agg = _aggregate(data)
    assert agg is None or agg.data.n_demand > 6
    merged = solve_redundant_median(data)
    plain = solve_redundant_median(data, aggregate=False)
    assert merged.status == plain.status
    if plain.status == "optimal":
        assert merged.objective == pytest.approx(plain.objective, rel=1e-9)
        assert tight.solve(method="pulp").objective == pytest.approx(merged.objective, rel=1e-7)


def test_aggregation_none_when_nothing_merges():
    from placement.formulations.redundant import _aggregate

    prob, *_ = _instance(5, n=8, m=6, k=2, n_dom=3, n_sites=3, backup_weight=0.5)
    assert _aggregate(prob.model_data()) is None


def test_warm_start_same_optimum():
    prob, *_ = _clustered_instance(7)
    data = prob.model_data()
    cold = solve_redundant_median(data)
    warm = solve_redundant_median(data, initial_open=np.array([0, 1, 2, 3]))
    bad = solve_redundant_median(data, initial_open=np.array([0, 1]))  # wrong count: ignored
    assert warm.warm_start and not bad.warm_start and not cold.warm_start
    for sol in (warm, bad):
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(cold.objective, rel=1e-9)


def test_sample_start_fractional(monkeypatch):
    import placement.formulations.redundant as red

    prob, lat, w, dom = _fractional_instance()
    sol = solve_redundant_median(prob.model_data())
    expect = _oracle(lat, w, dom, k=2, p=3, beta=0.5, sla=None, backup_sla=None)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expect, rel=1e-9)
    prob, *_ = _instance(12, n=40, m=12, k=2, n_dom=3, n_sites=4, backup_weight=0.5)
    data = prob.model_data()
    plain = solve_redundant_median(data)
    monkeypatch.setattr(red, "_SAMPLE_SIZE", 15)
    sampled = solve_redundant_median(data)
    assert sampled.status == plain.status == "optimal"
    assert sampled.objective == pytest.approx(plain.objective, rel=1e-9)


@pytest.mark.parametrize("seed", range(40, 56))
def test_screening_bound_against_enumeration(seed, monkeypatch):
    """The screening bound (master LP over every pair a better solution could use, capped at the
    incumbent) proves the enumerated optimum; without screening pricing proves the same one."""
    import placement.formulations.redundant as red

    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 4))
    n_dom = int(rng.integers(k, 5))
    p = int(rng.integers(k, 6))
    beta = float(rng.choice([0.0, 0.5, 1.0]))
    prob, lat, w, dom = _instance(
        seed, n=9, m=8, k=k, n_dom=n_dom, n_sites=p, backup_weight=beta, max_latency_ms=70.0
    )
    expect = _oracle(lat, w, dom, k=k, p=p, beta=beta, sla=70.0, backup_sla=None)
    data = prob.model_data()
    sols = {}
    for cap in (-1, 10**9):
        monkeypatch.setattr(red, "_SCREEN_MIN_PAIRS", cap)
        sols[cap] = solve_redundant_median(data)
    assert not sols[-1].screened
    for sol in sols.values():
        _assert_proven(sol, expect)


def test_screening_is_used_and_ends_pricing_early(monkeypatch):
    """On an instance whose pricing takes several rounds, screening ends it in fewer."""
    import placement.formulations.redundant as red

    prob, *_ = _instance(7, n=60, m=16, k=2, n_dom=3, n_sites=4, backup_weight=0.5)
    data = prob.model_data()
    monkeypatch.setattr(red, "_SCREEN_MIN_PAIRS", -1)
    plain = solve_redundant_median(data, aggregate=False)
    monkeypatch.setattr(red, "_SCREEN_MIN_PAIRS", 10**9)
    screened = solve_redundant_median(data, aggregate=False)
    assert screened.screened and not plain.screened
    assert screened.status == plain.status == "optimal"
    assert screened.objective == pytest.approx(plain.objective, rel=1e-9)
    assert screened.n_pricing_rounds <= plain.n_pricing_rounds


def _min_feasible_count(lat, dom, *, k, sla, backup_sla):
    """Fewest open sites that give every demand point a primary and k − 1 backups (enumeration)."""
    n, m = lat.shape
    prim_ok = lat <= sla
    back_ok = lat <= backup_sla
    for p in range(1, m + 1):
        for S in itertools.combinations(range(m), p):
            if all(
                any(
                    prim_ok[i, j]
                    and len({dom[b] for b in S if b != j and back_ok[i, b]} - {dom[j]}) >= k - 1
                    for j in S
                )
                for i in range(n)
            ):
                return p
    return None


@pytest.mark.parametrize("seed", range(50, 70))
def test_feasibility_mip_when_the_greedy_start_fails(seed, monkeypatch):
    # the greedy start is forced infeasible, so the feasibility MIP decides: a proof of
    # infeasibility whose site count matches enumeration, or a start that leads to the optimum
    import placement.formulations.redundant as red

    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 4))
    n_dom = int(rng.integers(k, 5))
    p = int(rng.integers(k, 6))
    beta = float(rng.choice([0.0, 0.5, 1.0]))
    sla, backup_sla = 40.0, float(rng.choice([50.0, 1e6]))  # 1e6: no binding backup SLA
    prob, lat, w, dom = _instance(
        seed,
        n=8,
        m=8,
        k=k,
        n_dom=n_dom,
        n_sites=p,
        backup_weight=beta,
        max_latency_ms=sla,
        backup_max_latency_ms=backup_sla,
    )
    data = prob.model_data()
    if data.primary_ok.reshape(-1).sum() == 0:
        pytest.skip("no primary pair")
    expect = _oracle(lat, w, dom, k=k, p=p, beta=beta, sla=sla, backup_sla=backup_sla)
    need = _min_feasible_count(lat, dom, k=k, sla=sla, backup_sla=backup_sla)
    assert (expect is None) == (need is None or need > p)
    calls = []

    def infeasible_greedy(self, *args, **kwargs):
        calls.append(1)
        return np.arange(p, dtype=np.int64)[:0]  # empty set: never feasible

    monkeypatch.setattr(red._Solver, "_greedy", infeasible_greedy)
    sol = solve_redundant_median(data)
    assert calls
    if expect is None:
        assert sol.status == "infeasible"
        if need is not None:
            assert f"at least {need} sites, more than the {p} allowed" in sol.message
        return
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expect, rel=1e-7, abs=1e-9)


def test_infeasible_site_count_is_proven_at_once():
    # 3 clusters of demand, each reachable within the SLA from its own 2 sites only: 3 sites are
    # needed for the primaries; with 2 allowed the LP relaxation is still feasible (fractional y)
    n_per, m = 4, 6
    lat = np.full((3 * n_per, m), 100.0)
    for c in range(3):
        lat[c * n_per : (c + 1) * n_per, 2 * c : 2 * c + 2] = 10.0 + c
    dom = np.array([0, 1, 0, 1, 0, 1])
    w = np.ones(3 * n_per)
    prob = _problem(lat, w, dom, redundancy=2, n_sites=2, max_latency_ms=50)
    sol = solve_redundant_median(prob.model_data())
    assert sol.status == "infeasible"
    assert sol.n_pricing_rounds == 0  # decided before any column generation
    assert "at least 3 sites, more than the 2 allowed" in sol.message
    assert _oracle(lat, w, dom, k=2, p=2, beta=0.5, sla=50, backup_sla=None) is None
    ok = _problem(lat, w, dom, redundancy=2, n_sites=3, max_latency_ms=50)
    expect = _oracle(lat, w, dom, k=2, p=3, beta=0.5, sla=50, backup_sla=None)
    assert solve_redundant_median(ok.model_data()).objective == pytest.approx(expect, rel=1e-9)


@pytest.mark.parametrize("seed", range(70, 82))
def test_stalled_screening_against_enumeration(seed, monkeypatch):
    """Screening only once the master's LP equals the incumbent (the stalled share): the bound
    still proves the enumerated optimum."""
    import placement.formulations.redundant as red

    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 4))
    n_dom = int(rng.integers(k, 5))
    p = int(rng.integers(k, 6))
    beta = float(rng.choice([0.0, 0.5, 1.0]))
    prob, lat, w, dom = _instance(
        seed, n=14, m=9, k=k, n_dom=n_dom, n_sites=p, backup_weight=beta, max_latency_ms=70.0
    )
    expect = _oracle(lat, w, dom, k=k, p=p, beta=beta, sla=70.0, backup_sla=None)
    monkeypatch.setattr(red, "_SCREEN_MIN_PAIRS", 0)
    monkeypatch.setattr(red, "_SCREEN_SHARE", 0.0)
    monkeypatch.setattr(red, "_SCREEN_STALLED_SHARE", 1e9)
    sol = solve_redundant_median(prob.model_data(), aggregate=False)
    _assert_proven(sol, expect)


@pytest.mark.filterwarnings("ignore:dropped cities without an internet-share value")
def test_readme_old_example_is_proven_infeasible():
    """Issue 18: the README's old example (6 sites, 80 ms, a backup at another provider) was
    `no_solution` at the 120-s limit; the feasibility MIP proves it infeasible by the site count
    (the fewest sites giving every city a primary within 80 ms is more than 6)."""
    import placement as pl

    # on backbone latencies (the issue's instance): with users' access added, the presolve check
    # already finds cities with no site within 80 ms, before any solver
    prob = Problem(
        pl.catalog.sites(),
        pl.demand.from_cities(),
        latency=pl.latency.UserLatencyModel(access="none"),
        objective="median",
        n_sites=6,
        max_latency_ms=80,
        redundancy=2,
        failure_domain="provider",
    )
    res = prob.solve()
    assert res.status == "infeasible"
    assert res.solver["method"] == "fast-redundant-median"
    assert "sites, more than the 6 allowed" in res.message


@pytest.mark.parametrize("seed", range(90, 102))
def test_count_bound_is_valid_and_screens(seed, monkeypatch):
    """The site-count Lagrangian bound (``_Solver._count_bound``: assignment and domain rows
    relaxed, the count kept) never exceeds the enumerated optimum in any pricing round, reaches the
    LP optimum when pricing has converged, and screening with it still proves the optimum."""
    import placement.formulations.redundant as red

    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 4))
    n_dom = int(rng.integers(k, 5))
    p = int(rng.integers(k, 6))
    beta = float(rng.choice([0.0, 0.5, 1.0]))
    must = (int(rng.integers(0, 9)),) if seed % 3 == 0 else ()
    forbidden = (
        tuple(j for j in (int(rng.integers(0, 9)),) if j not in must) if seed % 4 == 0 else ()
    )
    prob, lat, w, dom = _instance(
        seed,
        n=14,
        m=9,
        k=k,
        n_dom=n_dom,
        n_sites=p,
        backup_weight=beta,
        max_latency_ms=70.0,
        must_open=[f"s{j}" for j in must],
        forbidden=[f"s{j}" for j in forbidden],
    )
    expect = _oracle(
        lat, w, dom, k=k, p=p, beta=beta, sla=70.0, backup_sla=None, must=must, forbidden=forbidden
    )
    seen: list[tuple[float, float]] = []
    original = red._Solver._count_bound

    def record(self):
        bound, excess = original(self)
        seen.append((bound * self.unit, self.h.getInfo().objective_function_value * self.unit))
        return bound, excess

    monkeypatch.setattr(red._Solver, "_count_bound", record)
    monkeypatch.setattr(red, "_SCREEN_MIN_PAIRS", -1)
    plain = solve_redundant_median(prob.model_data(), aggregate=False)
    monkeypatch.setattr(red, "_SCREEN_MIN_PAIRS", 10**9)
    monkeypatch.setattr(red, "_SCREEN_COUNT", 1)
    screened = solve_redundant_median(prob.model_data(), aggregate=False)
    if expect is None:
        assert plain.status == screened.status == "infeasible"
        return
    assert seen
    for bound, _ in seen:
        assert bound <= expect + 1e-9
    for sol in (plain, screened):
        _assert_proven(sol, expect)
    # the last round of the run without screening: when pricing converged there (the LP bound
    # is reported), the count bound equals the LP optimum
    bound, lp = seen[plain.n_pricing_rounds - 1]
    if math.isfinite(plain.lp_bound) and lp == pytest.approx(plain.lp_bound, rel=1e-9):
        assert bound == pytest.approx(lp, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("seed", range(24))
def test_domain_search_costs_equal_the_evaluator(seed):
    # the vectorised swap evaluator (per-domain best and second best) prices every open set,
    # feasible or not, exactly as _Evaluator.cost; its interchange ends at a swap-local optimum
    import placement.formulations.redundant as red

    rng = np.random.default_rng(seed)
    n_dom = int(rng.integers(1, 10))  # up to one site per domain (m = 9)
    beta = float(rng.choice([0.0, 0.5, 1.0]))
    prob, *_ = _instance(
        seed,
        n=12,
        m=9,
        k=2,
        n_dom=n_dom,
        n_sites=3,
        backup_weight=beta,
        max_latency_ms=50.0,
        backup_max_latency_ms=70.0,
    )
    data = prob.model_data()
    solver = red._Solver(data, math.inf, 1e-9, None, False, 0.0)
    solver._prepare()
    ds = red._DomainSearch(solver.ev, solver.dom, solver.n_dom)
    for size in (1, 2, 3, 4):
        for S in itertools.combinations(range(data.n_sites), size):
            S = np.array(S)
            assert ds.cost(S) == pytest.approx(solver.ev.cost(S)[0], rel=1e-12)
    allowed = np.arange(data.n_sites)
    start = ds.greedy(np.zeros(0, dtype=np.int64), allowed, 3)
    cur, val, _ = ds.interchange(start, np.zeros(0, dtype=np.int64), allowed, 100, math.inf)
    assert len(cur) == 3 and val == pytest.approx(solver.ev.cost(cur)[0], rel=1e-12)
    for a in cur:
        for c in np.setdiff1d(allowed, cur):
            assert solver.ev.cost(np.r_[cur[cur != a], c])[0] >= val - 1e-9 * max(1.0, val)


def test_spent_time_limit_returns_the_start_without_a_bound():
    # a limit already spent after the start heuristic: its open set, "feasible" without a bound,
    # at the cost the evaluator gives it (no LP built)
    prob, lat, w, dom = _instance(4, n=10, m=8, k=2, n_dom=3, n_sites=3, backup_weight=0.5)
    sol = solve_redundant_median(prob.model_data(), time_limit_s=0.0)
    assert sol.status == "feasible" and sol.best_bound == -math.inf
    assert sol.n_pricing_rounds == 0 and len(sol.open_sites) == 3
    S = sol.open_sites
    expect = (
        sum(
            w[i]
            * min(
                lat[i, j] + 0.5 * min(lat[i, b] for b in S if dom[b] != dom[j])
                for j in S
                if any(dom[b] != dom[j] for b in S)
            )
            for i in range(10)
        )
        / w.sum()
    )
    assert sol.objective == pytest.approx(expect, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_warm_start_gets_the_interchange(seed, monkeypatch):
    # a feasible but poor warm start (the costliest feasible set) is improved by the vectorised
    # interchange before pricing, as the cold start is: pricing starts from a swap-local optimum,
    # and the answer is the enumerated optimum
    import placement.formulations.redundant as red

    prob, lat, w, dom = _instance(
        seed, n=10, m=8, k=2, n_dom=3, n_sites=3, backup_weight=0.5, backup_max_latency_ms=70.0
    )
    data = prob.model_data()
    ev = red._Solver(data, math.inf, 1e-9, None, False, 0.0)
    ev._prepare()
    costs = {S: ev.ev.cost(np.array(S)) for S in itertools.combinations(range(8), 3)}
    feasible = {S: v for S, (v, f) in costs.items() if f}
    if not feasible:
        pytest.skip("no feasible open set for this seed")
    worst = max(feasible, key=lambda S: feasible[S])
    seen = {}
    orig = red._Solver._column_generation

    def spy(self):
        seen["start"] = (self.ub, np.array(self.best), self.domain_searched)
        return orig(self)

    monkeypatch.setattr(red._Solver, "_column_generation", spy)
    sol = solve_redundant_median(data, initial_open=np.array(worst), aggregate=False)
    expect = _oracle(lat, w, dom, k=2, p=3, beta=0.5, sla=None, backup_sla=70.0)
    assert sol.warm_start and sol.status == "optimal"
    assert sol.objective == pytest.approx(expect, rel=1e-9)
    if "start" in seen:  # (pricing ran)
        ub, cur, searched = seen["start"]
        assert searched and ub <= feasible[worst]
        for a in cur:
            for c in np.setdiff1d(np.arange(8), cur):
                v, f = ev.ev.cost(np.r_[cur[cur != a], c])
                assert not f or v >= ub - 1e-9 * max(1.0, ub)


def test_strict_interchange_keeps_a_small_town_within_its_sla():
    # d1 (weight 0.01) has s0 as its only site within the 50-ms SLA: the plain interchange,
    # whose penalty for a missing rank is weighted by the demand point, closes s0 for s1 (d0,
    # weight 100, gains 34 ms) and ends infeasible; the strict one (feasibility first) keeps s0
    import placement.formulations.redundant as red

    lat = np.array([[40.0, 1.0, 30.0], [10.0, 200.0, 200.0]])
    w = np.array([100.0, 0.01])
    prob = _problem(
        lat,
        w,
        [0, 0, 1],
        redundancy=2,
        n_sites=2,
        backup_weight=0.5,
        max_latency_ms=50.0,
        backup_max_latency_ms=300.0,
    )
    solver = red._Solver(prob.model_data(), math.inf, 1e-9, None, False, 0.0)
    solver._prepare()
    fixed, allowed = np.zeros(0, dtype=np.int64), np.arange(3)
    start = np.array([0, 2])
    assert solver.ev.cost(start)[1]
    plain = red._DomainSearch(solver.ev, solver.dom, solver.n_dom)
    cur, _, _ = plain.interchange(start, fixed, allowed, 10, math.inf)
    assert list(cur) == [1, 2] and not solver.ev.cost(cur)[1]
    strict = red._DomainSearch(solver.ev, solver.dom, solver.n_dom, strict=True)
    cur, _, moves = strict.interchange(start, fixed, allowed, 10, math.inf)
    assert list(cur) == [0, 2] and moves == 0 and solver.ev.cost(cur)[1]
    # from the infeasible set it repairs the SLA first
    cur, _, _ = strict.interchange(np.array([1, 2]), fixed, allowed, 10, math.inf)
    assert list(cur) == [0, 2]
    expect = _oracle(lat, w, [0, 0, 1], k=2, p=2, beta=0.5, sla=50.0, backup_sla=300.0)
    sol = solve_redundant_median(prob.model_data(), initial_open=np.array([1, 2]))
    _assert_proven(sol, expect)
    assert sol.warm_start and list(sol.open_sites) == [0, 2]


@pytest.mark.parametrize("seed", range(8))
def test_infeasible_warm_start_is_repaired_or_dropped(seed):
    # a warm start that breaks the SLA (a looser sweep point's optimum) goes through the strict
    # interchange: the answer is the enumerated one either way, and a repaired start is feasible
    import placement.formulations.redundant as red

    kw = dict(n_sites=3, backup_weight=0.5, max_latency_ms=45.0, backup_max_latency_ms=70.0)
    prob, lat, w, dom = _instance(seed, n=10, m=8, k=2, n_dom=3, **kw)
    data = prob.model_data()
    solver = red._Solver(data, math.inf, 1e-9, None, False, 0.0)
    solver._prepare()
    infeasible = [
        S for S in itertools.combinations(range(8), 3) if not solver.ev.cost(np.array(S))[1]
    ]
    expect = _oracle(lat, w, dom, k=2, p=3, beta=0.5, sla=45.0, backup_sla=70.0)
    for S in infeasible[:: max(1, len(infeasible) // 4)]:
        sol = solve_redundant_median(data, initial_open=np.array(S), aggregate=False)
        _assert_proven(sol, expect)
        if expect is None:
            assert not sol.warm_start


def _plain_start(monkeypatch):
    """No interchange and no LP rounding: the site branching starts from the greedy set and
    must find the optimum itself (its incumbents come from integral nodes)."""

    def unchanged(self, start, fixed, allowed, max_moves, deadline):
        cur = np.unique(np.asarray(start, dtype=np.int64))
        return cur, self.cost(cur), 0

    monkeypatch.setattr(redundant._DomainSearch, "interchange", unchanged)
    monkeypatch.setattr(redundant._Solver, "_round", lambda self, y: None)


# seeds whose LP is fractional and whose site branching takes 7 to 33 LP solves
@pytest.mark.parametrize("seed", [27, 107, 127, 148, 160, 174, 175])
def test_site_branching_against_enumeration(seed, monkeypatch):
    _plain_start(monkeypatch)
    prob, lat, w, dom = _instance(seed, n=14, m=10, k=2, n_dom=3, n_sites=3, backup_weight=0.5)
    sol = solve_redundant_median(prob.model_data(), aggregate=False)
    assert sol.n_branch_lps >= 7 and not sol.used_mip
    assert sol.lp_bound < sol.objective - 1e-9
    _assert_proven(sol, _oracle(lat, w, dom, k=2, p=3, beta=0.5, sla=None, backup_sla=None))


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5, 6, 7])
def test_site_branching_with_slas_against_enumeration(seed, monkeypatch):
    _plain_start(monkeypatch)
    prob, lat, w, dom = _instance(
        seed,
        n=14,
        m=10,
        k=2,
        n_dom=3,
        n_sites=4,
        backup_weight=0.5,
        max_latency_ms=45,
        backup_max_latency_ms=70,
    )
    sol = solve_redundant_median(prob.model_data(), aggregate=False)
    _assert_proven(sol, _oracle(lat, w, dom, k=2, p=4, beta=0.5, sla=45, backup_sla=70))


def test_site_branching_stopped_by_its_lp_limit_is_honest(monkeypatch):
    # two LP solves, then the HiGHS MIP: same optimum; with the MIP off, the bound of the open
    # nodes is reported (below the optimum) and the status is "feasible"
    _plain_start(monkeypatch)
    prob, lat, w, dom = _instance(175, n=14, m=10, k=2, n_dom=3, n_sites=3, backup_weight=0.5)
    expect = _oracle(lat, w, dom, k=2, p=3, beta=0.5, sla=None, backup_sla=None)
    monkeypatch.setattr(redundant, "_BRANCH_MAX_LPS", 2)
    sol = solve_redundant_median(prob.model_data(), aggregate=False)
    assert sol.used_mip and sol.n_branch_lps >= 2
    _assert_proven(sol, expect)
    monkeypatch.setattr(redundant._Solver, "_mip", lambda self, lb, lo, hi: (lb, "time"))
    sol = solve_redundant_median(prob.model_data(), aggregate=False)
    assert sol.status == "feasible"
    assert sol.lp_bound - 1e-9 <= sol.best_bound < expect - 1e-6
    assert sol.objective >= expect - 1e-9


def _master_after_one_lp(seed: int):
    """A solver whose master holds only the initial pairs, solved once (dual simplex)."""
    prob, *_ = _instance(seed, n=30, m=12, k=2, n_dom=3, n_sites=3, backup_weight=0.5)
    t0 = time.perf_counter()
    s = redundant._Solver(prob.model_data(), t0 + 60.0, 1e-9, None, False, t0)
    s._prepare()
    s.ub, s.best = math.inf, np.zeros(0, dtype=np.int64)
    s._build()
    s._add_pairs(s._initial_pairs(1))
    s.h.setOptionValue("simplex_strategy", 1)
    assert s._run() == "optimal"
    return s


def _absorbable(s) -> np.ndarray:
    """Omitted pairs of negative reduced cost at sites whose ``y_j`` is nonbasic at 0, the
    smallest deficits first while their sum fits in ``y_j``'s reduced cost."""
    duals = s._dual_arrays()
    worst = redundant._rowmin(duals.rc)
    absorb = s._y_at_lower() & ~s.data.must_open
    out = []
    for j in np.flatnonzero(absorb):
        cand = np.flatnonzero(~s.in_model & (s.cand_site == j) & (worst < -1e-9))
        room = duals.col_dual_y[j] - 1e-9
        for q in cand[np.argsort(-worst[cand])]:
            if -worst[q] > room:
                break
            room += worst[q]
            out.append(q)
    return np.array(out, dtype=np.int64)


@pytest.mark.parametrize("seed", range(6))
def test_absorbed_basis_keeps_the_master_optimal(seed, monkeypatch):
    # pairs that only a closed site's y_j reduced cost made dual feasible enter with the
    # basis of the extended duals: the master stays optimal (no simplex iteration, same
    # value); HiGHS's own extension of the basis (new slacks basic) is dual infeasible there
    def enter(s, absorbed: bool) -> tuple[int, int, float, float]:
        value = float(s.h.getInfo().objective_function_value)
        rc, absorb = s._dual_arrays().rc, s._y_at_lower() & ~s.data.must_open
        pos = _absorbable(s)
        n_cols0 = s.n_cols
        s._add_pairs(pos)
        if absorbed:
            s._absorbed_basis(pos, n_cols0, rc, absorb)
        assert s._run() == "optimal"
        info = s.h.getInfo()
        return len(pos), info.simplex_iteration_count, value, info.objective_function_value

    n_pos, iters, before, after = enter(_master_after_one_lp(seed), True)
    assert n_pos > 0
    assert iters == 0
    assert after == pytest.approx(before, rel=1e-12)
    _, iters_plain, _, after_plain = enter(_master_after_one_lp(seed), False)
    assert iters_plain > 0
    assert after_plain == pytest.approx(after, rel=1e-9)
