"""Exact p-center by bisection: brute force with masks and disallowed pairs, OR-Library."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from placement import orlib
from placement.formulations.center import solve_pcenter

ORLIB = orlib.shared_orlib_dir()


def _brute(cost, p, must=(), forb=()):
    best = math.inf
    for s in itertools.combinations(range(cost.shape[1]), p):
        if not set(must) <= set(s) or set(forb) & set(s):
            continue
        best = min(best, float(cost[:, list(s)].min(axis=1).max()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 11))
    m = int(rng.integers(4, 9))
    p = int(rng.integers(1, min(4, m) + 1))
    cost = rng.integers(0, 30, size=(n, m)).astype(float)
    sol = solve_pcenter(cost, p)
    assert sol.status == "optimal" and sol.gap == 0.0
    assert sol.objective == _brute(cost, p)
    assert len(sol.open_sites) == p
    assert cost[np.arange(n), sol.assignment].max() == sol.objective


@pytest.mark.parametrize("seed", range(8))
def test_masks_and_disallowed(seed):
    rng = np.random.default_rng(50 + seed)
    n, m, p = 9, 8, 3
    cost = rng.uniform(1, 40, size=(n, m)).round(1)
    cost[rng.uniform(size=(n, m)) < 0.35] = np.inf
    for i in range(n):
        if not np.isfinite(cost[i]).any():
            cost[i, i % m] = 5.0
    must, forb = [seed % m], [(seed + 1) % m]
    opt = _brute(cost, p, must, forb)
    sol = solve_pcenter(cost, p, must_open=must, forbidden=forb)
    if math.isinf(opt):
        assert sol.status == "infeasible"
    else:
        assert sol.status == "optimal" and sol.objective == opt
        assert must[0] in sol.open_sites and forb[0] not in sol.open_sites


def test_zero_weight_demands_ignored():
    cost = np.array([[1.0, 9.0], [9.0, 1.0], [50.0, 60.0]])
    assert solve_pcenter(cost, 1).objective == 50.0
    assert solve_pcenter(cost, 1, weights=[1, 1, 0]).objective == 9.0


@pytest.mark.skipif(ORLIB is None, reason="../shared OR-Library not available")
def test_orlib_known_radii():
    # p-center optima of the OR-Library graphs (pmed1: 127, pmed5: 48, pmed11: 59)
    for k, radius in ((1, 127), (5, 48), (11, 59)):
        inst = orlib.read_pmed(ORLIB / "pmed" / f"pmed{k}.txt")
        sol = solve_pcenter(inst.cost, inst.p, time_limit_s=30)
        assert sol.status == "optimal" and sol.objective == radius


@pytest.mark.parametrize("seed", range(10))
def test_initial_open_gives_the_same_optimum(seed):
    """The warm start's radius bounds the bisection; good or bad, the optimum is unchanged."""
    rng = np.random.default_rng(700 + seed)
    n, m, p = 10, 8, 3
    cost = rng.integers(1, 60, size=(n, m)).astype(float)
    cost[rng.uniform(size=(n, m)) < 0.3] = np.inf
    for i in range(n):
        if not np.isfinite(cost[i]).any():
            cost[i, i % m] = 5.0
    must, forb = [0], [1]
    opt = _brute(cost, p, must, forb)
    cold = solve_pcenter(cost, p, must_open=must, forbidden=forb)
    starts = [
        cold.open_sites,
        rng.choice(m, p, replace=False),
        np.array([3]),
        np.arange(m),  # too many: ignored
        np.array([1, 2]),  # forbidden dropped, must-open added
    ]
    for start in starts:
        for heuristic in (True, False):
            sol = solve_pcenter(
                cost, p, must_open=must, forbidden=forb, initial_open=start, warm_start=heuristic
            )
            if math.isinf(opt):
                assert sol.status == "infeasible"
                continue
            assert sol.status == "optimal" and sol.objective == pytest.approx(opt)
            assert len(sol.open_sites) == p and 0 in sol.open_sites and 1 not in sol.open_sites
    if math.isfinite(opt):
        warm = solve_pcenter(cost, p, must_open=must, forbidden=forb, initial_open=starts[0])
        assert warm.warm_start_used and warm.heuristic_objective == pytest.approx(opt)
        assert not solve_pcenter(
            cost, p, must_open=must, forbidden=forb, initial_open=np.arange(m)
        ).warm_start_used


def test_initial_open_bad_indices_rejected():
    with pytest.raises(ValueError, match="initial_open"):
        solve_pcenter(np.ones((3, 4)), 2, initial_open=[-1])


@pytest.mark.parametrize("seed", range(6))
def test_cover_test_answers_every_radius(seed):
    """One set-cover test of the bisection: 'yes' (with a cover) exactly at radii >= the optimum."""
    import time

    from placement.formulations.center import _PCenterRun
    from placement.heuristics import prepare_inputs

    rng = np.random.default_rng(100 + seed)
    n, m, p = 8, 6, int(rng.integers(1, 4))
    cost = rng.integers(0, 30, size=(n, m)).astype(float)
    opt = _brute(cost, p)
    run = _PCenterRun(
        prepare_inputs(cost, None, p, None, None), time.perf_counter(), math.inf, None, False
    )
    for r in np.unique(cost):
        ans, sites = run.test(float(r))
        assert ans == ("yes" if r >= opt else "no")
        if ans == "yes":
            assert 1 <= len(sites) <= p
            assert cost[:, sites].min(axis=1).max() <= r
