"""The strong LP bound of the capacitated median with backups (formulations/cfl_redundant_lp.py).

Small random instances (redundancy 2, two or three failure domains, a capacity on the primary
load) against two independent oracles: the enumeration of open sets (``oracle.brute``, each
assignment a ``scipy`` LP with the domain and capacity rows) and the strong LP over every pair
as one dense ``scipy.optimize.linprog`` model. The bound must never exceed the optimum, and
must equal the strong LP when the site pricing says proven.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from oracle import brute, median_data
from scipy.optimize import linprog

from placement.formulations import cfl_redundant_lp
from placement.formulations._gap import is_proven
from placement.formulations.contract import Solution
from placement.formulations.data import ModelData
from placement.formulations.relax import violations


def _data(seed: int) -> tuple[ModelData, np.ndarray]:
    rng = np.random.default_rng(700 + seed)
    n, m = int(rng.integers(5, 8)), int(rng.integers(4, 7))
    lat = rng.integers(1, 80, size=(n, m)).astype(float)
    ok = lat <= 75.0 if seed % 3 else np.ones((n, m), dtype=bool)
    ok[np.arange(n), np.argsort(lat, axis=1)[:, :3].T] = True
    w = rng.integers(1, 20, size=n).astype(float)
    k = int(rng.integers(2, 4))
    domain = np.r_[np.arange(2 + seed % 2), rng.integers(0, 2 + seed % 2, size=m - 2 - seed % 2)]
    return median_data(
        lat,
        ok,
        w,
        k,
        domain=domain,
        provider=domain.copy(),
        redundancy=2,
        capacity=np.full(m, float(rng.uniform(1.05, 1.6)) / k * float(w.sum())),
    )


def _strong_lp(data: ModelData) -> float:
    """The LP over every pair: y, z_p1, z_p2 (one dense linprog model)."""
    n, m, P = data.n_demand, data.n_sites, data.n_pairs
    w, cap, beta = data.weight, np.asarray(data.capacity), data.backup_weight
    c_p = w[data.pair_i] / w.sum() * data.latency_ms
    nv = m + 2 * P
    c = np.r_[np.zeros(m), c_p, beta * c_p]
    z1, z2 = m + np.arange(P), m + P + np.arange(P)
    a_eq = np.zeros((2 * n + 1, nv))
    a_eq[data.pair_i, z1] = 1.0
    a_eq[n + data.pair_i, z2] = 1.0
    a_eq[2 * n, :m] = 1.0
    b_eq = np.r_[np.ones(2 * n), [data.n_sites_exact]]
    rows = []
    for p in range(P):  # linking
        row = np.zeros(nv)
        row[[z1[p], z2[p]]] = 1.0
        row[data.pair_j[p]] = -1.0
        rows.append((row, 0.0))
    for i in range(n):  # domains
        for g in np.unique(data.domain):
            sel = (data.pair_i == i) & (data.domain[data.pair_j] == g)
            if sel.sum() > 1:
                row = np.zeros(nv)
                row[z1[sel]] = row[z2[sel]] = 1.0
                rows.append((row, 1.0))
    for j in range(m):  # capacity of the primaries
        row = np.zeros(nv)
        sel = data.pair_j == j
        row[z1[sel]] = w[data.pair_i[sel]]
        row[j] = -cap[j]
        rows.append((row, 0.0))
    a_ub = np.array([r for r, _ in rows])
    b_ub = np.array([b for _, b in rows])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, 1), method="highs")
    return float(res.fun) if res.status == 0 else math.inf


@pytest.mark.parametrize("seed", range(12))
def test_bound_against_enumeration_and_the_strong_lp(seed):
    data, lat = _data(seed)
    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    best = brute(lat, data.weight, [k], k=2, domain=data.domain, cap=cap)
    strong = _strong_lp(data)
    assert strong <= best + 1e-9
    got = cfl_redundant_lp.redundant_capacity_bound(data, deadline=time.perf_counter() + 30)
    if math.isinf(strong):  # no fractional solution: the pricing finds no feasible S either
        assert not got.proven
        return
    assert got.proven
    assert got.bound <= best + 1e-9
    assert got.bound == pytest.approx(strong, rel=1e-7, abs=1e-9)
    assert got.lp_value == pytest.approx(strong, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_bound_is_valid_for_any_multipliers(seed):
    # L(u, mu) at random multipliers (mu of either sign: it is clipped at 0) stays below the
    # strong LP; a bound that dropped the domain or capacity rows' effect would pass it
    data, lat = _data(seed)
    strong = _strong_lp(data)
    if math.isinf(strong):  # an infeasible LP: no integer solution either, nothing to bound
        k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
        assert math.isinf(brute(lat, data.weight, [k], k=2, domain=data.domain, cap=cap))
        return
    md = cfl_redundant_lp._Model(data)
    rng = np.random.default_rng(seed)
    scale = data.weight / data.weight.sum() * 60.0
    for _ in range(20):
        u = rng.uniform(0.0, 1.5, size=(2, data.n_demand)) * scale
        mu = rng.normal(0.0, 1.0, size=(data.n_demand, md.n_dom)) * scale[:, None]
        lb, _v = md.bound(u, mu)
        assert lb <= strong + 1e-9


@pytest.mark.parametrize("seed", range(8))
def test_evaluate_open_is_the_exact_assignment_of_every_open_set(seed):
    # every admissible open set: the fixed-y LP against the oracle's own assignment LP (domain
    # and capacity rows); one that dropped a domain or capacity row would undercut the oracle
    from oracle import assignment_lp, subsets

    data, lat = _data(seed)
    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    seen = 0
    for s in subsets(data.n_sites, [k]):
        mask = np.zeros(data.n_sites, dtype=bool)
        mask[list(s)] = True
        want = assignment_lp(lat, data.weight, s, k=2, domain=data.domain, cap=cap)
        got = cfl_redundant_lp.evaluate_open(data, mask, time.perf_counter() + 30)
        if want is None:
            assert got is None
            continue
        seen += 1
        assert got is not None
        # capacities a 1e-6 margin below: never under the oracle, at most a hair above it
        assert want - 1e-9 <= got[0] <= want * (1 + 1e-5) + 1e-9
        sol = Solution(status="feasible", objective=got[0], open_mask=mask, rows=got[1])
        assert violations(data, sol) == []
        share = data.weight / data.weight.sum()
        value = sum(
            (1.0 if r == 1 else data.backup_weight) * share[i] * data.latency_ms[p] * x
            for p, r, i, x in got[1]
        )
        assert value == pytest.approx(got[0], rel=1e-9, abs=1e-12)
    assert seen or math.isinf(brute(lat, data.weight, [k], k=2, domain=data.domain, cap=cap))


@pytest.mark.parametrize("seed", range(8))
def test_solve_capacity_redundant_bounds_and_improves_an_incumbent(seed):
    # from the worst admissible open set: the bound stays below the enumerated optimum, the
    # incumbent found above it and feasible; proven LP: its bound at least the strong LP's;
    # the site tree ended: the optimum found and proven
    data, lat = _data(seed)
    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    best = brute(lat, data.weight, [k], k=2, domain=data.domain, cap=cap)
    if math.isinf(best):
        return
    values = _values(data, lat)
    worst_s = max(values, key=values.get)
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[list(worst_s)] = True
    start = cfl_redundant_lp.evaluate_open(data, mask, time.perf_counter() + 30)
    assert start is not None
    res = cfl_redundant_lp.solve_capacity_redundant(
        data, mask, start[1], start[0], deadline=time.perf_counter() + 30
    )
    assert res.bound <= best + 1e-9
    if res.stats["lp_proven"]:  # the strong LP's bound, or the site tree's above it
        assert res.bound >= _strong_lp(data) * (1 - 1e-7) - 1e-9
    if res.stats.get("bb_proven"):  # the tree ended: at the optimum, with its proof
        value = res.incumbent[0] if res.incumbent is not None else start[0]
        assert value == pytest.approx(best, rel=1e-5, abs=1e-9)
        assert is_proven(value, res.bound)
    if res.incumbent is not None:
        value, open_mask, rows = res.incumbent
        assert best - 1e-9 <= value < start[0]
        sol = Solution(status="feasible", objective=value, open_mask=open_mask, rows=rows)
        assert violations(data, sol) == []


@pytest.mark.parametrize("seed", range(8))
def test_improve_open_swaps_to_feasible_sets_valued_exactly(seed):
    # every closed site a candidate: the swaps from the worst open set end at a set whose
    # value is the oracle's for it, above the enumerated optimum, with rows that meet it

    data, lat = _data(seed)
    values = _values(data, lat)
    if not values:
        return
    worst = max(values, key=values.get)
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[list(worst)] = True
    start = cfl_redundant_lp.evaluate_open(data, mask, time.perf_counter() + 30)
    got = cfl_redundant_lp.improve_open(
        data, mask, start[1], start[0], time.perf_counter() + 30, np.flatnonzero(~mask)
    )
    if min(values.values()) < values[worst] * (1 - 1e-6):
        assert got is not None  # the worst set: no neighbour is worse, here one is better
    if got is None:
        return
    value, open_mask, rows = got
    s = tuple(int(j) for j in np.flatnonzero(open_mask))
    assert value == pytest.approx(values[s], rel=1e-5, abs=1e-9)
    assert min(values.values()) - 1e-9 <= value < start[0]
    assert violations(data, Solution("feasible", value, open_mask=open_mask, rows=rows)) == []


def _values(data: ModelData, lat: np.ndarray) -> dict[tuple[int, ...], float]:
    """Every admissible open set of ``data``'s site count and its exact value (the oracle's
    assignment LP with backups, domains and capacities); infeasible sets left out."""
    from oracle import assignment_lp, subsets

    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    values = {}
    for s in subsets(data.n_sites, [k]):
        v = assignment_lp(lat, data.weight, s, k=2, domain=data.domain, cap=cap)
        if v is not None:
            values[s] = v
    return values


def _bb_data(seed: int) -> tuple[ModelData, np.ndarray]:
    """Bigger than :func:`_data` (12-16 points, 8-9 sites, 3 open): the strong LP is often
    fractional there, so the site branch and bound has to branch."""
    rng = np.random.default_rng(900 + seed)
    n, m = int(rng.integers(12, 17)), int(rng.integers(8, 10))
    pts, sites = rng.uniform(0, 100, size=(n, 2)), rng.uniform(0, 100, size=(m, 2))
    lat = np.hypot(*(pts[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)) + 1.0
    w = rng.integers(1, 20, size=n).astype(float)
    domain = np.arange(m) % 2
    return median_data(
        lat,
        np.ones((n, m), dtype=bool),
        w,
        3,
        domain=domain,
        provider=domain.copy(),
        redundancy=2,
        capacity=np.full(m, float(rng.uniform(0.36, 0.5)) * float(w.sum())),
    )


def _tree(data: ModelData, start_mask: np.ndarray, deadline_s: float = 60.0):
    start = cfl_redundant_lp.evaluate_open(data, start_mask, time.perf_counter() + 30)
    assert start is not None
    res, md, lp, u, mu = cfl_redundant_lp._strong_lp(
        data, time.perf_counter() + 30, start_mask, start[1], False
    )
    assert res.proven
    got = cfl_redundant_lp._site_bb(
        data,
        md,
        lp,
        u,
        mu,
        (start[0], start_mask, start[1]),
        time.perf_counter() + deadline_s,
    )
    return start, res, got


@pytest.mark.parametrize("seed", range(10))
def test_site_bb_proves_the_enumerated_optimum(seed):
    # from the worst admissible open set, the tree ends with the enumerated optimum (valued
    # exactly, capacities a 1e-6 margin below) and a bound equal to it; a tree that pruned a
    # node it should have kept, or took the LP over S for a bound, ends above or below it

    data, lat = _bb_data(seed)
    values = _values(data, lat)
    assert values
    best = min(values.values())
    worst = max(values, key=values.get)
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[list(worst)] = True
    start, res, got = _tree(data, mask)
    assert res.bound <= best + 1e-9
    assert got.stats["bb_proven"]
    value, open_mask, rows = (
        got.incumbent if got.incumbent is not None else (start[0], mask, start[1])
    )
    assert value == pytest.approx(best, rel=1e-5, abs=1e-9)
    assert got.bound <= best + 1e-9
    assert is_proven(value, got.bound)
    assert violations(data, Solution("feasible", value, open_mask=open_mask, rows=rows)) == []


def test_site_bb_branches_on_some_instances():
    # the instances above are not all integral at the root: the tree is exercised
    branched = 0
    for seed in range(10):
        data, _lat = _bb_data(seed)
        mask = np.zeros(data.n_sites, dtype=bool)
        mask[:3] = True
        if cfl_redundant_lp.evaluate_open(data, mask, time.perf_counter() + 30) is None:
            continue
        _start, _res, got = _tree(data, mask)
        branched += got.stats["bb_nodes"] > 1
    assert branched >= 2


def test_site_bb_stopped_reports_a_bound_below_the_optimum():
    # no time: the tree stops at once; its bound is still a bound (the root's, fixed sites
    # or not) and it claims no proof
    from oracle import assignment_lp, subsets

    data, lat = _bb_data(3)
    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    best = brute(lat, data.weight, [k], k=2, domain=data.domain, cap=cap)
    worst = max(
        (s for s in subsets(data.n_sites, [k])),
        key=lambda s: assignment_lp(lat, data.weight, s, k=2, domain=data.domain, cap=cap) or -1.0,
    )
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[list(worst)] = True
    _start, res, got = _tree(data, mask, deadline_s=0.0)
    assert not got.stats["bb_proven"]
    assert got.bound <= best + 1e-9
    assert got.bound >= res.bound - 1e-9


@pytest.mark.parametrize("seed", range(10))
def test_site_bb_prices_in_sites_outside_its_lp(seed):
    # the tree started from an LP over a poor incumbent's sites alone: every node's bound is
    # the Lagrangian one over all sites, so the sites it lacks join S and the tree still ends
    # at the enumerated optimum; taking the LP over S for the bound would stop at the start

    data, lat = _bb_data(seed)
    values = _values(data, lat)
    best = min(values.values())
    worst = max(values, key=values.get)
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[list(worst)] = True
    start = cfl_redundant_lp.evaluate_open(data, mask, time.perf_counter() + 30)
    md = cfl_redundant_lp._Model(data)
    lp = cfl_redundant_lp._SiteLP(md)
    lp.add_sites([int(j) for j in np.flatnonzero(mask)])
    _value, u, mu = lp.run(time.perf_counter() + 30)
    got = cfl_redundant_lp._site_bb(
        data, md, lp, u, mu, (start[0], mask, start[1]), time.perf_counter() + 60
    )
    assert got.stats["bb_proven"]
    value = got.incumbent[0] if got.incumbent is not None else start[0]
    assert value == pytest.approx(best, rel=1e-5, abs=1e-9)
    assert got.bound <= best + 1e-9


def _twin_data(seed: int) -> tuple[ModelData, np.ndarray]:
    """20 points, 7 locations, 3 of them with a second site of another failure domain (the
    same latency column and capacity: co-located twins), 3 domains, 4 open, a capacity of 27 %
    of the weight: the strong LP is fractional on some seeds, its y moving between twins."""
    rng = np.random.default_rng(1000 + seed)
    n, places = 20, 7
    pts, where = rng.uniform(0, 100, size=(n, 2)), rng.uniform(0, 100, size=(places, 2))
    twins = rng.choice(places, size=3, replace=False)
    loc = np.r_[np.arange(places), twins]
    lat = np.hypot(*(pts[:, None, :] - where[loc][None, :, :]).transpose(2, 0, 1)) + 1.0
    w = rng.integers(1, 20, size=n).astype(float)
    domain = np.r_[np.arange(places) % 3, (np.arange(places) % 3)[twins] + 1] % 3
    return median_data(
        lat,
        np.ones((n, len(loc)), dtype=bool),
        w,
        4,
        domain=domain,
        provider=domain.copy(),
        redundancy=2,
        capacity=np.full(len(loc), 0.27 * float(w.sum())),
    )


def test_twin_groups_are_the_co_located_sites():
    data, _lat = _twin_data(0)
    md = cfl_redundant_lp._Model(data)
    groups = sorted(sorted(g.tolist()) for g in cfl_redundant_lp._twin_groups(md))
    places = data.n_sites - 3
    lat = np.full((data.n_demand, data.n_sites), np.nan)
    lat[data.pair_i, data.pair_j] = data.latency_ms
    want = sorted(
        sorted([int(t), j])
        for j in range(places, data.n_sites)
        for t in np.flatnonzero((lat[:, :places] == lat[:, [j]]).all(axis=0))
    )
    assert len(groups) == 3 and groups == want
    assert all(len(set(data.domain[g].tolist())) == 2 for g in groups)


@pytest.mark.parametrize("start", ["best", "worst"])
@pytest.mark.parametrize("seed", range(12))
def test_site_bb_with_twins_proves_the_enumerated_optimum(seed, start, monkeypatch):
    # twins make the LP's y move from a closed site to its twin: the tree branches on the
    # twins' sum (one of them open, or none), bounds a node that needs one of a group open at
    # the group's cheapest site, fixes sites at each node's duals and (node LPs cut into runs
    # of 3 iterations here) prunes a node by L at an unfinished LP's duals. Each is exact
    # only if right: a wrong group bound, node fixing or cut ends the tree above the
    # enumerated optimum or with a bound above it
    monkeypatch.setattr(cfl_redundant_lp, "BB_CHUNK", 3)
    data, lat = _twin_data(seed)
    values = _values(data, lat)
    best = min(values.values())
    pick = min if start == "best" else max
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[list(pick(values, key=values.get))] = True
    first, res, got = _tree(data, mask)
    assert got.stats["bb_proven"]
    value, open_mask, rows = (
        got.incumbent if got.incumbent is not None else (first[0], mask, first[1])
    )
    assert value == pytest.approx(best, rel=1e-5, abs=1e-9)
    assert res.bound - 1e-9 <= got.bound <= best + 1e-9
    assert violations(data, Solution("feasible", value, open_mask=open_mask, rows=rows)) == []


def test_site_bb_uses_its_groups_node_fixing_and_cutoffs(monkeypatch):
    # the trees of the test above branch on groups, fix sites at nodes and prune nodes by an
    # unfinished LP's L: that test checks these pieces
    monkeypatch.setattr(cfl_redundant_lp, "BB_CHUNK", 3)
    totals = dict.fromkeys(["bb_group_branches", "bb_node_fixed", "bb_cutoffs"], 0)
    for seed in (0, 3, 10):
        data, lat = _twin_data(seed)
        values = _values(data, lat)
        for pick in (min, max):
            mask = np.zeros(data.n_sites, dtype=bool)
            mask[list(pick(values, key=values.get))] = True
            _first, _res, got = _tree(data, mask)
            for key in totals:
                totals[key] += got.stats[key]
    assert all(v > 0 for v in totals.values()), totals


def _dup_data(seed: int) -> tuple[ModelData, np.ndarray]:
    """:func:`_data` with copies of some demand points whose latency rows differ from their
    original's by a constant (one class each) and one copy whose row does not (its own class)."""
    base, _ = _data(seed)
    rng = np.random.default_rng(800 + seed)
    n, m = base.n_demand, base.n_sites
    lat = np.full((n, m), np.inf)
    lat[base.pair_i, base.pair_j] = base.latency_ms
    ok = np.isfinite(lat)
    src = np.r_[np.arange(min(3, n)), [0]]
    shift = rng.uniform(0.5, 6.0, size=(len(src), 1))
    new = lat[src] + shift
    new[-1, np.flatnonzero(ok[0])[0]] += 7.0  # not a constant shift: stays apart
    lat2 = np.vstack([lat, new])
    ok2 = np.vstack([ok, ok[src]])
    w = np.r_[base.weight, rng.integers(1, 20, size=len(src)).astype(float)]
    lat2 = np.where(ok2, lat2, 0.0)
    return median_data(
        lat2,
        ok2,
        w,
        int(base.n_sites_exact),
        domain=base.domain,
        provider=base.provider,
        redundancy=2,
        capacity=np.asarray(base.capacity) * w.sum() / base.weight.sum(),
    )


@pytest.mark.parametrize("seed", range(8))
def test_classes_keep_the_strong_lp_and_the_solutions(seed):
    # the merged points' LP has the full LP's optimum; the solver's answer on the data with
    # copies is above the enumerated optimum, its bound below it, its rows meet every row of
    # the original data; a class rows' round trip keeps the cost
    data, lat = _dup_data(seed)
    cl = cfl_redundant_lp._Classes.of(data)
    assert cl.merged and cl.data.n_demand == data.n_demand - 3
    assert cl.cls[-1] != cl.cls[0]  # the copy with a non-constant shift
    strong = _strong_lp(data)
    assert _strong_lp(cl.data) == pytest.approx(strong, rel=1e-7, abs=1e-9)
    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    best = brute(lat, data.weight, [k], k=2, domain=data.domain, cap=cap)
    if math.isinf(best):
        return
    values = _values(data, lat)
    worst_s = max(values, key=values.get)
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[list(worst_s)] = True
    start = cfl_redundant_lp.evaluate_open(data, mask, time.perf_counter() + 30)
    there = cl.to_rows(cl.to_class_rows(start[1]))
    assert cfl_redundant_lp._rows_cost(data, there) == pytest.approx(start[0], rel=1e-9)
    sol = Solution(status="feasible", objective=start[0], open_mask=mask, rows=there)
    assert violations(data, sol) == []
    res = cfl_redundant_lp.solve_capacity_redundant(
        data, mask, start[1], start[0], deadline=time.perf_counter() + 30
    )
    assert res.bound <= best + 1e-9
    if res.stats["lp_proven"]:
        assert res.bound >= strong * (1 - 1e-7) - 1e-9
    if res.incumbent is not None:
        value, open_mask, rows = res.incumbent
        assert best - 1e-9 <= value < start[0]
        assert cfl_redundant_lp._rows_cost(data, rows) == pytest.approx(value, rel=1e-12)
        sol = Solution(status="feasible", objective=value, open_mask=open_mask, rows=rows)
        assert violations(data, sol) == []


def _ascended(md: cfl_redundant_lp._Model, target: float) -> float:
    u = cfl_redundant_lp._start(md)
    mu = np.zeros((md.n, md.n_dom if md.need_dom else 1))
    lb, _u, _mu, _steps = md.ascend(u, mu, target, math.inf, max_steps=3000)
    return lb


@pytest.mark.parametrize("seed", range(12))
def test_ascent_reaches_the_strong_lp_from_the_cheapest_pairs(seed):
    # the subgradient ascent of L(u, mu) from each point's cheapest pairs: at most the strong
    # LP (every L is a bound) and at it within 1e-6 after 3,000 steps on these instances
    data, lat = _data(seed)
    strong = _strong_lp(data)
    if math.isinf(strong):
        return
    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    best = brute(lat, data.weight, [k], k=2, domain=data.domain, cap=cap)
    lb = _ascended(cfl_redundant_lp._Model(data), best * 1.05)
    assert lb <= strong + 1e-9
    assert lb == pytest.approx(strong, rel=1e-6)


class _DroppedDomainTerm(cfl_redundant_lp._Model):
    """L without the domain rows' constant −Σμ: not a bound (the ascent raises μ past it)."""

    def pick(self, u, mu, v, must=None, openable=None):
        return super().pick(u, mu, v, must, openable) + float(np.maximum(mu, 0.0).sum())


def test_the_ascent_finds_a_wrong_lagrangian_above_the_optimum():
    # the checks above can fail: a dropped domain term or a knapsack of half the capacity
    # gives a "bound" above the enumerated optimum on some of these instances
    over = {"domain term": 0, "half knapsack": 0}
    for seed in range(12):
        data, lat = _data(seed)
        k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
        best = brute(lat, data.weight, [k], k=2, domain=data.domain, cap=cap)
        if math.isinf(best):
            continue
        over["domain term"] += _ascended(_DroppedDomainTerm(data), best * 1.05) > best + 1e-6
        half = cfl_redundant_lp._Model(data, cap_scale=0.5)
        over["half knapsack"] += _ascended(half, best * 1.05) > best + 1e-6
    assert over["domain term"] > 0 and over["half knapsack"] > 0, over


@pytest.mark.parametrize("seed", range(4))
def test_site_bb_takes_the_incumbent_found_beside_it(seed):
    # the swaps' thread hands the tree a better set through ``poll``: the tree takes that very
    # set (the same rows object, not one it found itself) and still proves the optimum

    data, lat = _bb_data(seed)
    values = _values(data, lat)
    best_s, worst_s = min(values, key=values.get), max(values, key=values.get)
    if values[best_s] >= values[worst_s] * (1 - 1e-6):
        return
    best_mask = np.zeros(data.n_sites, dtype=bool)
    best_mask[list(best_s)] = True
    got_best = cfl_redundant_lp.evaluate_open(data, best_mask, time.perf_counter() + 30)
    offered = (got_best[0], best_mask, got_best[1])
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[list(worst_s)] = True
    start = cfl_redundant_lp.evaluate_open(data, mask, time.perf_counter() + 30)
    _res, md, lp, u, mu = cfl_redundant_lp._strong_lp(
        data, time.perf_counter() + 30, mask, start[1], False
    )
    polls = []

    def poll():
        polls.append(1)
        return offered

    got = cfl_redundant_lp._site_bb(
        data, md, lp, u, mu, (start[0], mask, start[1]), time.perf_counter() + 60, poll=poll
    )
    assert polls and got.stats["bb_proven"]
    assert got.incumbent is not None and got.incumbent[2] is offered[2]
    assert got.incumbent[0] == pytest.approx(values[best_s], rel=1e-5, abs=1e-9)
    assert is_proven(got.incumbent[0], got.bound)


def test_improve_open_reports_each_better_set_and_stops_when_asked():
    from oracle import assignment_lp, subsets

    data, lat = _data(2)
    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    values = {
        s: v
        for s in subsets(data.n_sites, [k])
        if (v := assignment_lp(lat, data.weight, s, k=2, domain=data.domain, cap=cap)) is not None
    }
    worst = max(values, key=values.get)
    assert min(values.values()) < values[worst] * (1 - 1e-6)
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[list(worst)] = True
    start = cfl_redundant_lp.evaluate_open(data, mask, time.perf_counter() + 30)
    seen = []
    got = cfl_redundant_lp.improve_open(
        data,
        mask,
        start[1],
        start[0],
        time.perf_counter() + 30,
        np.flatnonzero(~mask),
        on_better=seen.append,
    )
    assert got is not None and seen and seen[-1][0] == got[0]
    assert [v for v, *_ in seen] == sorted((v for v, *_ in seen), reverse=True)
    assert all(v < start[0] for v, *_ in seen)
    stopped = cfl_redundant_lp.improve_open(
        data,
        mask,
        start[1],
        start[0],
        time.perf_counter() + 30,
        np.flatnonzero(~mask),
        on_better=seen.append,
        should_stop=lambda: True,
    )
    assert stopped is None


def test_an_error_in_the_swaps_thread_reaches_the_caller(monkeypatch):
    data, _lat = _bb_data(0)
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[:3] = True
    start = cfl_redundant_lp.evaluate_open(data, mask, time.perf_counter() + 30)

    def broken(*a, **k):
        raise RuntimeError("swaps broke")

    monkeypatch.setattr(cfl_redundant_lp, "improve_open", broken)
    with pytest.raises(RuntimeError, match="swaps broke"):
        cfl_redundant_lp.solve_capacity_redundant(
            data, mask, start[1], start[0], deadline=time.perf_counter() + 30
        )
