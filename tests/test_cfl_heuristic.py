"""The capacitated fixed-charge heuristic and its bounds (placement.formulations.cfl_heuristic)."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from scipy.optimize import linprog

from placement import orlib
from placement.formulations.cfl_heuristic import cfl_heuristic, simple_lower_bound
from placement.problem import Problem

#: How much CPU past its time limit a solve may take (model build and result assembly run outside
#: the solver's clock). The tests measure the process's CPU, not the wall: on a loaded 2-core
#: machine the wall stretches with other processes (it failed at load 10), the CPU does not, and
#: a solver that ignored its limit would still overrun it by far.
LOADED_OVERRUN_S = 1.0


def _instance(seed: int, n: int = 9, m: int = 6, equal_caps: bool = False, sparse: bool = False):
    """Random instance as pair arrays (pair cost = cost of serving all of demand i from j)."""
    rng = np.random.default_rng(seed)
    w = rng.integers(1, 20, n).astype(float)
    if seed % 4 == 3:
        w[0] = 0.0  # a demand of zero weight
    cost = rng.uniform(1, 100, (n, m)) * np.maximum(w, 1.0)[:, None]
    fixed = rng.uniform(50, 600, m)
    if equal_caps:
        cap = np.full(m, rng.uniform(0.25, 0.5) * w.sum())
    else:
        cap = rng.uniform(0.2, 0.6, m) * w.sum()
    allowed = np.ones((n, m), dtype=bool)
    if sparse:
        allowed = rng.random((n, m)) < 0.7
        allowed[np.arange(n), rng.integers(0, m, n)] = True
    ii, jj = np.nonzero(allowed)
    return {
        "fixed_usd": fixed,
        "pair_i": ii,
        "pair_j": jj,
        "pair_cost_usd": cost[ii, jj],
        "weight": w,
        "capacity": cap,
    }


def _transport(inst: dict, open_sites: list[int]) -> float:
    """Fixed cost plus the transportation LP of an open set (scipy linprog), inf if infeasible."""
    w = inst["weight"]
    n = len(w)
    sel = np.flatnonzero(np.isin(inst["pair_j"], open_sites))
    if len(np.unique(inst["pair_i"][sel])) < n:
        return math.inf
    k = len(sel)
    a_eq = np.zeros((n, k))
    a_eq[inst["pair_i"][sel], np.arange(k)] = 1.0
    a_ub = np.zeros((len(open_sites), k))
    row = {j: r for r, j in enumerate(open_sites)}
    for col, p in enumerate(sel):
        a_ub[row[int(inst["pair_j"][p])], col] = w[inst["pair_i"][p]]
    res = linprog(
        inst["pair_cost_usd"][sel],
        A_ub=a_ub,
        b_ub=inst["capacity"][open_sites],
        A_eq=a_eq,
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    if res.status != 0:
        return math.inf
    return float(res.fun + inst["fixed_usd"][open_sites].sum())


def _brute_force(inst: dict, must=None, forbidden=None, lo=None, hi=None) -> float:
    m = len(inst["fixed_usd"])
    must = np.zeros(m, bool) if must is None else must
    forbidden = np.zeros(m, bool) if forbidden is None else forbidden
    best = math.inf
    for k in range(1, m + 1):
        if (lo is not None and k < lo) or (hi is not None and k > hi):
            continue
        for sub in itertools.combinations(range(m), k):
            mask = np.zeros(m, bool)
            mask[list(sub)] = True
            if (must & ~mask).any() or (forbidden & mask).any():
                continue
            best = min(best, _transport(inst, list(sub)))
    return best


def _check_solution(inst: dict, r, must=None, forbidden=None, lo=None, hi=None) -> None:
    """Shares sum to 1, capacities hold, fixings and count respected, objective recomputed."""
    w, cap = inst["weight"], inst["capacity"]
    m, n = len(cap), len(w)
    open_mask = np.zeros(m, bool)
    open_mask[r.open_sites] = True
    share = r.share
    assert share.shape == inst["pair_i"].shape
    assert (share >= -1e-12).all() and (share <= 1 + 1e-9).all()
    assert np.all(share[~open_mask[inst["pair_j"]]] == 0.0)
    sums = np.bincount(inst["pair_i"], weights=share, minlength=n)
    np.testing.assert_allclose(sums, 1.0, atol=1e-7)
    load = np.bincount(inst["pair_j"], weights=share * w[inst["pair_i"]], minlength=m)
    assert (load <= cap * (1 + 1e-7) + 1e-7).all()
    if must is not None:
        assert open_mask[must].all()
    if forbidden is not None:
        assert not open_mask[forbidden].any()
    if lo is not None:
        assert open_mask.sum() >= lo
    if hi is not None:
        assert open_mask.sum() <= hi
    obj = inst["fixed_usd"][open_mask].sum() + inst["pair_cost_usd"] @ share
    assert r.objective_usd == pytest.approx(obj, rel=1e-9)


@pytest.mark.parametrize("seed", range(10))
def test_feasible_and_bracketing_the_brute_force_optimum(seed):
    inst = _instance(seed, equal_caps=seed % 3 == 0, sparse=seed % 2 == 1)
    r = cfl_heuristic(**inst)
    opt = _brute_force(inst)
    assert math.isfinite(opt)
    _check_solution(inst, r)
    assert r.lower_bound_usd <= opt * (1 + 1e-9) + 1e-9
    assert r.objective_usd >= opt * (1 - 1e-9) - 1e-9
    assert 0.0 <= r.gap < math.inf
    assert simple_lower_bound(**inst) <= opt * (1 + 1e-9) + 1e-9
    assert not r.stopped_by_time


@pytest.mark.parametrize("seed", range(6))
def test_bound_with_few_knapsack_pairs_stays_valid(seed):
    """Only each demand's 2 cheapest pairs in the knapsacks: u is capped, the bound stays valid."""
    inst = _instance(200 + seed, n=10, m=6, equal_caps=seed % 2 == 0)
    opt = _brute_force(inst)
    r = cfl_heuristic(**inst, top_pairs=2)
    _check_solution(inst, r)
    assert r.lower_bound_usd <= opt * (1 + 1e-9) + 1e-9 <= r.objective_usd * (1 + 2e-9) + 2e-9


@pytest.mark.parametrize("seed", range(6))
def test_fixings_and_site_count(seed):
    inst = _instance(100 + seed, n=8, m=6, sparse=seed % 2 == 0)
    m = 6
    must = np.zeros(m, bool)
    must[seed % m] = True
    forbidden = np.zeros(m, bool)
    forbidden[(seed + 2) % m] = True
    inst["capacity"] = np.full(m, inst["weight"].sum() * 0.7)  # two sites hold everything
    lo, hi = (2, 3) if seed % 3 else (3, 3)
    kw = {"must_open": must, "forbidden": forbidden, "min_sites": lo, "max_sites": hi}
    opt = _brute_force(inst, must, forbidden, lo, hi)
    r = cfl_heuristic(**inst, **kw)
    if not math.isfinite(opt):
        assert not math.isfinite(r.objective_usd)
        return
    _check_solution(inst, r, must, forbidden, lo, hi)
    assert r.lower_bound_usd <= opt * (1 + 1e-9) + 1e-9 <= r.objective_usd * (1 + 2e-9) + 2e-9
    assert simple_lower_bound(**inst, **kw) <= opt * (1 + 1e-9) + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_no_time_at_all_still_gives_a_valid_bound(seed):
    # a budget already spent (a loaded machine, a tiny time limit): the first Lagrangian step
    # still runs, so a stopped solve reports a finite bound below the optimum
    inst = _instance(seed)
    r = cfl_heuristic(**inst, time_budget_s=0.0)
    assert r.n_lagrange_iter == 1 and math.isfinite(r.lower_bound_usd)
    assert r.lower_bound_usd <= _brute_force(inst) * (1 + 1e-9)
    assert r.lower_bound_usd >= simple_lower_bound(**inst) * (1 - 1e-9)


def test_infeasible_capacity_has_no_solution_and_an_infinite_bound():
    inst = _instance(7)
    inst["capacity"] = np.full(6, inst["weight"].sum() / 10)
    r = cfl_heuristic(**inst)
    assert r.objective_usd == math.inf and len(r.open_sites) == 0
    assert r.lower_bound_usd == math.inf and r.gap == math.inf
    assert simple_lower_bound(**inst) == math.inf


def test_initial_open_is_tried_first_and_a_count_breaking_one_is_ignored():
    inst = _instance(3)
    best = cfl_heuristic(**inst)
    again = cfl_heuristic(**inst, initial_open=best.open_sites)
    assert again.start_used
    assert again.objective_usd == pytest.approx(best.objective_usd, rel=1e-9)
    broken = cfl_heuristic(**inst, initial_open=np.arange(6), max_sites=3)
    assert not broken.start_used
    assert len(broken.open_sites) <= 3


def test_deterministic():
    inst = _instance(5, n=60, m=15)
    a = cfl_heuristic(**inst)
    b = cfl_heuristic(**inst)
    assert a.objective_usd == b.objective_usd
    assert a.lower_bound_usd == b.lower_bound_usd
    np.testing.assert_array_equal(a.open_sites, b.open_sites)
    np.testing.assert_array_equal(a.share, b.share)


def _mid_size_problem(seed: int = 0, n: int = 1000, m: int = 100) -> tuple[Problem, dict]:
    """Euclidean 1000 x 100 instance whose root LP takes tens of seconds (so limits stop it)."""
    rng = np.random.default_rng(seed)
    xy_d = rng.uniform(0, 100, (n, 2))
    xy_s = rng.uniform(0, 100, (m, 2))
    dist = np.linalg.norm(xy_d[:, None, :] - xy_s[None, :, :], axis=2)
    w = rng.integers(5, 50, n).astype(float)
    cost = dist * w[:, None]
    fixed = rng.uniform(20000, 40000, m)
    cap = np.full(m, w.sum() / 7.5)
    prob = Problem.from_cost_matrix(
        np.zeros_like(cost),
        weights=w,
        fixed_cost=fixed,
        capacity=cap,
        assignment_cost=cost,
        objective="cost",
    )
    return prob, {"w": w, "cap": cap}


@pytest.mark.parametrize("limit_s", [0.001, 0.3, 1.0])
def test_time_limited_solve_through_problem_is_feasible_with_an_honest_gap(limit_s):
    prob, arrays = _mid_size_problem()
    t = time.process_time()
    r = prob.solve(time_limit_s=limit_s)
    cpu = time.process_time() - t
    assert r.solver["method"] == "fast-cfl"
    assert r.status in ("feasible", "optimal")
    assert cpu <= limit_s + LOADED_OVERRUN_S  # ~0.1 s over on an idle machine
    assert r.best_bound is not None and r.best_bound <= r.objective * (1 + 1e-9)
    assert r.gap == pytest.approx((r.objective - r.best_bound) / abs(r.objective), abs=1e-9)
    if r.status == "feasible":
        assert "gap" in r.message
    served = r.assignments.groupby("demand_id")["share"].sum()
    assert len(served) == len(arrays["w"])
    np.testing.assert_allclose(served.to_numpy(), 1.0, atol=1e-7)
    assert r.metrics["total_cost_usd_per_year"] == pytest.approx(r.objective, rel=1e-7)


@pytest.fixture(scope="module")
def cap_folder():
    folder = orlib.shared_orlib_dir()
    if folder is None or not (folder / "cap" / "capa.txt").is_file():
        pytest.skip("../shared/benchmarks/orlib/cap not found (set PLACEMENT_SHARED)")
    return folder / "cap"


@pytest.mark.parametrize("name", ["cap41", "cap71", "cap101", "cap131"])
def test_orlib_small_instances_bracket_the_published_optimum(cap_folder, name):
    opt = orlib.read_capopt(cap_folder / "capopt.txt")[name]
    inst = orlib.read_cap(cap_folder / f"{name}.txt")
    n, m = inst.cost.shape
    ii, jj = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    r = cfl_heuristic(
        inst.fixed_cost, ii, jj, inst.cost.ravel(), inst.demand, inst.capacity, time_budget_s=5
    )
    assert r.lower_bound_usd <= opt * (1 + 1e-9)
    assert r.objective_usd >= opt * (1 - 1e-9)
    assert r.objective_usd <= opt * 1.005


def test_capa_in_one_second_through_problem(cap_folder):
    """A 1-second limit: feasible, within about the second, with a valid bound and its gap."""
    opt = orlib.read_capopt(cap_folder / "capopt_long.txt")["capa8000"]
    inst = orlib.read_cap(cap_folder / "capa.txt", capacity=8000)
    prob = Problem.from_cost_matrix(
        np.zeros_like(inst.cost),
        weights=inst.demand,
        fixed_cost=inst.fixed_cost,
        capacity=inst.capacity,
        assignment_cost=inst.cost,
        objective="cost",
    )
    t = time.process_time()
    r = prob.solve(time_limit_s=1)
    cpu = time.process_time() - t
    assert r.status == "feasible"
    # 1.0-1.1 s measured idle; the exact solve without a limit takes about a minute, so this
    # still catches an ignored limit
    assert cpu <= 1.0 + LOADED_OVERRUN_S
    assert r.best_bound <= opt * (1 + 1e-9)
    assert r.objective >= opt * (1 - 1e-9)  # the published optimum has 3 decimals
    assert r.gap == pytest.approx((r.objective - r.best_bound) / r.objective, abs=1e-9)
    # its quality is not asserted here: the heuristic's phases end by the clock, so where the
    # second cuts its search depends on the machine (0.000 % above the optimum with its whole
    # course, 8.8 % once in CI). The deterministic whole course is checked below; the
    # 1-second figure is the benchmark's (benchmarks/orlib_bench.py, capa rows).


def test_capa_whole_course_of_the_heuristic_is_near_optimal(cap_folder):
    """Without a clock the heuristic is deterministic: its whole course (about a second here)
    is what a 1-second limit gets on a machine like the benchmark's."""
    opts = orlib.read_capopt(cap_folder / "capopt_long.txt")
    inst = orlib.read_cap(cap_folder / "capa.txt", capacity=8000)
    n, m = inst.cost.shape
    ii, jj = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    args = (inst.fixed_cost, ii, jj, inst.cost.ravel(), inst.demand, inst.capacity)
    r = cfl_heuristic(*args)
    opt = opts["capa8000"]
    assert not r.stopped_by_time
    assert r.lower_bound_usd <= opt * (1 + 1e-9)
    assert opt * (1 - 1e-9) <= r.objective_usd <= opt * 1.005
    again = cfl_heuristic(*args)
    assert again.objective_usd == r.objective_usd
    assert np.array_equal(again.open_sites, r.open_sites)
