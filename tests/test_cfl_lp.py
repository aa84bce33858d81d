"""The strong LP bound and LP rounding of the capacitated median (formulations/cfl_lp.py).

Small random instances against independent oracles: the exhaustive enumeration of open sets
(``oracle.brute``, each assignment a ``scipy`` LP; single sourcing by enumerating assignments)
and the strong LP over every pair built as one dense ``scipy.optimize.linprog`` model. The
bound must never exceed the optimum, must equal the strong LP when the site pricing says
proven, and the incumbent must be feasible (loads within the capacities, every demand point
served whole or in shares summing to 1) and not below the optimum.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from oracle import brute, median_data
from scipy.optimize import linprog

from placement.formulations import cfl_lp, lagrangian
from placement.formulations.data import ModelData


def _capacity_data(seed: int, single: bool) -> tuple[ModelData, np.ndarray]:
    rng = np.random.default_rng(500 + seed)
    n, m = int(rng.integers(6, 10)), int(rng.integers(4, 7))
    lat = rng.integers(1, 80, size=(n, m)).astype(float)
    ok = lat <= 70.0
    ok[np.arange(n), np.argmin(lat, axis=1)] = True  # every demand point reaches a site
    w = rng.integers(1, 20, size=n).astype(float)
    if seed % 4 == 0:
        w[0] = 0.0  # a demand point of zero weight takes no capacity
    k = int(rng.integers(2, 4))
    return median_data(
        lat,
        ok,
        w,
        k,
        capacity=np.full(m, float(rng.uniform(0.6, 0.9)) * float(w.sum())),
        single_sourcing=single,
    )


def _optimum(data: ModelData, lat: np.ndarray) -> float:
    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    if not data.single_sourcing:
        return brute(lat, data.weight, [k], cap=cap)
    best, share = math.inf, data.weight / data.total_weight
    rows = np.arange(data.n_demand)
    for s in itertools.combinations(range(data.n_sites), k):
        if not set(np.flatnonzero(data.must_open)) <= set(s):
            continue
        for pick in itertools.product(s, repeat=data.n_demand):
            pick = np.asarray(pick)
            if not np.isfinite(lat[rows, pick]).all():
                continue
            load = np.bincount(pick, weights=data.weight, minlength=data.n_sites)
            if (load <= cap + 1e-9).all():
                best = min(best, float(share @ lat[rows, pick]))
    return best


def _strong_lp(data: ModelData) -> float:
    """The LP with capacity and linking rows over every pair (must-open sites at 1), one dense
    linprog model."""
    n, m, P = data.n_demand, data.n_sites, data.n_pairs
    w, cap = data.weight, np.asarray(data.capacity)
    share = w / w.sum()
    c = np.r_[np.zeros(m), share[data.pair_i] * data.latency_ms]
    a_eq = np.zeros((n + 1, m + P))
    a_eq[data.pair_i, m + np.arange(P)] = 1.0
    a_eq[n, :m] = 1.0
    b_eq = np.r_[np.ones(n), [data.n_sites_exact]]
    a_ub = np.zeros((m + P, m + P))
    a_ub[data.pair_j, m + np.arange(P)] = w[data.pair_i]
    a_ub[np.arange(m), np.arange(m)] = -cap
    a_ub[m + np.arange(P), m + np.arange(P)] = 1.0
    a_ub[m + np.arange(P), data.pair_j] = -1.0
    bounds = [(1.0 if data.must_open[j] else 0.0, 1.0) for j in range(m)] + [(0, 1)] * P
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(m + P), A_eq=a_eq, b_eq=b_eq, bounds=bounds)
    return float(res.fun) if res.status == 0 else math.inf


def _check_feasible(data: ModelData, rows: list[tuple[int, int, int, float]]) -> None:
    arr = np.asarray(rows, dtype=float).reshape(-1, 4)
    pairs, dem, share = arr[:, 0].astype(int), arr[:, 2].astype(int), arr[:, 3]
    served = np.bincount(dem, weights=share, minlength=data.n_demand)
    assert served == pytest.approx(np.ones(data.n_demand))
    load = np.bincount(data.pair_j[pairs], weights=data.weight[dem] * share, minlength=data.n_sites)
    assert (load <= np.asarray(data.capacity) * (1 + 1e-9)).all()
    if data.single_sourcing:
        assert np.allclose(share, 1.0)


@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("seed", range(10))
def test_strong_lp_bound_and_rounding_against_enumeration(seed, single):
    data, lat = _capacity_data(seed, single)
    best = _optimum(data, lat)
    if math.isinf(best):
        pytest.skip("infeasible instance")
    strong = _strong_lp(data)
    assert strong <= best + 1e-9
    res = lagrangian.solve_lagrangian(data, deadline=time.perf_counter() + 30)
    assert res.bound <= best + 1e-9
    assert res.stats["lp_proven"]  # small instances: the site pricing ends
    assert res.stats["lp_value"] == pytest.approx(strong, rel=1e-7, abs=1e-9)
    assert res.lp_bound == pytest.approx(strong, rel=1e-7, abs=1e-9)
    # small instances: the site branch and bound over the sites left by fixing ends, and
    # proves the optimum (split) or bounds it by the split optimum (single sourcing)
    assert res.stats["mip_proven"]
    assert res.objective >= best - 1e-9
    if single:
        assert res.bound <= best + 1e-9
    else:
        assert res.status == "optimal"
        assert res.objective == pytest.approx(best, rel=1e-6)
    _check_feasible(data, res.rows)


@pytest.mark.parametrize("seed", range(6))
def test_site_pricing_bound_is_valid_from_any_start(seed):
    # one start site and a deadline before the first LP: the bound stays an L(u), below the LP
    data, lat = _capacity_data(seed, False)
    best = _optimum(data, lat)
    if math.isinf(best):
        pytest.skip("infeasible instance")
    arr = lagrangian._Arrays(data)
    rng = np.random.default_rng(seed)
    u = rng.normal(0, 30, size=data.n_demand) * arr.s
    lp = cfl_lp.SiteLP(arr)
    got = lp.solve(np.array([seed % data.n_sites]), time.perf_counter() + 30, u, -math.inf)
    assert got.bound <= _strong_lp(data) + 1e-9 <= best + 2e-9
    assert got.proven and got.bound == pytest.approx(_strong_lp(data), rel=1e-7, abs=1e-9)
    early = cfl_lp.SiteLP(arr).solve(np.array([0]), time.perf_counter() - 1, u, -math.inf)
    assert early.rounds == 0 and not early.proven and early.bound == -math.inf


@pytest.mark.parametrize("seed", range(4))
def test_rounding_keeps_the_sites_at_one_and_the_count(seed):
    data, lat = _capacity_data(seed, False)
    best = _optimum(data, lat)
    arr = lagrangian._Arrays(data)
    lp = cfl_lp.SiteLP(arr).solve(np.arange(data.n_sites), time.perf_counter() + 30)
    if lp.y is None:  # the LP is infeasible: so is every open set
        assert math.isinf(best)
        return
    got = cfl_lp.round_lp(arr, lp.y, None, time.perf_counter() + 30)
    if math.isinf(best):
        assert got is None
        return
    val, mask, z = got
    assert mask.sum() == data.n_sites_exact
    assert mask[lp.y > 1 - 1e-6].all()
    assert val == pytest.approx(float(arr.cost @ z))
    assert val >= best - 1e-9


def _twin_data(seed: int, single: bool) -> tuple[ModelData, np.ndarray]:
    """A random instance whose sites include twins: copies of a site's latency column (the
    same pairs and costs), groups of 2 and 3, one of them must open in some seeds."""
    rng = np.random.default_rng(900 + seed)
    n, m0 = int(rng.integers(6, 9)), int(rng.integers(3, 5))
    lat0 = rng.integers(1, 80, size=(n, m0)).astype(float)
    copies = [0, 0, 1] if seed % 2 else [0, 1]  # site 0 thrice (or twice), site 1 twice
    lat = np.concatenate([lat0, lat0[:, copies]], axis=1)
    m = lat.shape[1]
    ok = lat <= 70.0
    ok[np.arange(n), np.argmin(lat, axis=1)] = True
    ok[:, m0:] = ok[:, copies]
    w = rng.integers(1, 20, size=n).astype(float)
    k = int(rng.integers(2, 4))
    must = np.zeros(m, dtype=bool)
    if seed % 3 == 2:
        must[1] = must[m0 + len(copies) - 1] = True  # a whole twin group must open
    return median_data(
        lat,
        ok,
        w,
        k,
        must_open=must,
        capacity=np.full(m, float(rng.uniform(1.05, 1.6)) / k * float(w.sum())),
        single_sourcing=single,
    )


def _optimum_twins(data: ModelData, lat: np.ndarray) -> float:
    if data.single_sourcing:
        return _optimum(data, lat)
    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    return brute(lat, data.weight, [k], cap=cap, must=tuple(np.flatnonzero(data.must_open)))


@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_twin_groups_branch_and_bound_against_enumeration(seed, single):
    data, lat = _twin_data(seed, single)
    best = _optimum_twins(data, lat)
    arr = lagrangian._Arrays(data)
    site_lp = cfl_lp.SiteLP(arr)
    # the copies are grouped with their originals, nothing else
    m0 = data.n_sites - (3 if seed % 2 else 2)
    assert site_lp.rep[m0] == 0 and site_lp.rep[data.n_sites - 1] == 1
    assert len(site_lp.members) == m0
    res = lagrangian.solve_lagrangian(data, deadline=time.perf_counter() + 30)
    if math.isinf(best):  # no assignment fits the capacities: said so, never a wrong answer
        assert res.status == "no_solution" and res.objective is None
        assert math.isinf(_strong_lp(data))
        return
    assert res.bound <= best + 1e-9
    assert res.stats["lp_proven"]
    assert res.lp_bound <= _strong_lp(data) + 1e-9
    assert res.objective >= best - 1e-9
    if not single:
        assert res.status == "optimal"
        assert res.objective == pytest.approx(best, rel=1e-6)
    _check_feasible(data, res.rows)
    assert res.open_mask[data.must_open].all()


@pytest.mark.parametrize("seed", range(8))
def test_group_bound_is_valid_under_fixings(seed):
    # any u and any bounds on the groups' Y: the bound stays below the best open set that
    # meets them (enumeration with the fixings as must/forbidden sites); at the LP's duals
    # without fixings it equals the strong LP
    data, lat = _twin_data(seed, False)
    arr = lagrangian._Arrays(data)
    site_lp = cfl_lp.SiteLP(arr)
    reps, bottom, size = site_lp.all_groups()
    rng = np.random.default_rng(seed)
    k, cap = int(data.n_sites_exact), np.asarray(data.capacity)
    for trial in range(6):
        lo, hi = bottom.copy(), size.copy()
        t = int(rng.integers(len(reps)))
        if trial % 2:
            lo[t] = max(lo[t], float(rng.integers(1, size[t] + 1)))
        else:
            hi[t] = min(hi[t], float(rng.integers(0, size[t])))
        must, forbidden = [], []
        for g, r in enumerate(reps):
            members = site_lp.members[r]
            must += members[: int(lo[g])]
            forbidden += members[int(hi[g]) :]
        if set(must) & set(forbidden):
            continue
        best = brute(lat, data.weight, [k], cap=cap, must=tuple(must), forbidden=tuple(forbidden))
        u = rng.normal(0, 30, size=data.n_demand) * arr.s + arr.s * 20
        got = site_lp.group_bound(u, reps, lo, hi)
        assert got <= best + 1e-9
    strong = _strong_lp(data)
    lp = site_lp.solve(np.arange(data.n_sites), time.perf_counter() + 30)
    if math.isinf(strong):
        assert lp.y is None
        return
    assert lp.proven and lp.bound == pytest.approx(strong, rel=1e-7, abs=1e-9)
    assert site_lp.group_bound(lp.u, reps, bottom, size) == pytest.approx(strong, rel=1e-7)
