"""``placement.solve``: limits counted over the whole solve, honest status when they stop it."""

from __future__ import annotations

import time

import numpy as np
import pulp

from placement.solve import SolverOptions, solve_model


def _market_split(seed: int = 3, m: int = 4, n: int = 36) -> pulp.LpProblem:
    """A market-split instance (Cornuéjols & Dawande 1999): tiny, and minutes of branching."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(m, n))
    rhs = a.sum(axis=1) // 2
    prob = pulp.LpProblem("market_split", pulp.LpMinimize)
    x = [prob.add_variable(f"x{j}", cat="Binary") for j in range(n)]
    s_plus = [prob.add_variable(f"sp{i}", lowBound=0) for i in range(m)]
    s_minus = [prob.add_variable(f"sm{i}", lowBound=0) for i in range(m)]
    prob += pulp.lpSum(s_plus) + pulp.lpSum(s_minus)
    for i in range(m):
        prob += pulp.lpSum(int(a[i, j]) * x[j] for j in range(n)) + s_plus[i] - s_minus[i] == int(
            rhs[i]
        )
    return prob


def test_time_already_spent_counts_against_the_limit():
    prob = _market_split()
    t = time.perf_counter()
    out = solve_model(prob, SolverOptions(time_limit_s=6.0), spent_s=5.5)
    wall = time.perf_counter() - t
    # 0.5 s left; the same call without spent_s branches for the whole 6 s
    assert wall < 3.0
    assert out.status in ("feasible", "no_solution")
    if out.status == "feasible":
        assert out.best_bound is not None and out.best_bound <= out.objective + 1e-9


def test_the_limit_itself_still_stops_the_solve():
    prob = _market_split()
    t = time.perf_counter()
    out = solve_model(prob, SolverOptions(time_limit_s=1.0))
    wall = time.perf_counter() - t
    assert 0.9 <= wall < 4.0  # it does not end before the limit on its own
    assert out.status in ("feasible", "no_solution")


def test_spent_beyond_the_limit_leaves_a_token_second():
    out = solve_model(_market_split(), SolverOptions(time_limit_s=1.0), spent_s=5.0)
    assert out.status in ("feasible", "no_solution", "optimal")


def test_cbc_gets_the_rest_of_the_limit():
    prob = _market_split()
    t = time.perf_counter()
    out = solve_model(prob, SolverOptions(solver="cbc", time_limit_s=6.0), spent_s=5.0)
    assert time.perf_counter() - t < 4.5
    assert out.status in ("feasible", "no_solution")
