"""Exact p-median (Benders radius formulation): brute force, masks, OR-Library, time limits."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from placement import orlib
from placement.errors import ValidationError
from placement.formulations.radius import ExactSolution, RootRestart, solve_pmedian

ORLIB = orlib.shared_orlib_dir()


def _brute(cost, w, p, must=(), forb=()):
    best = math.inf
    for s in itertools.combinations(range(cost.shape[1]), p):
        if not set(must) <= set(s) or set(forb) & set(s):
            continue
        v = float(np.dot(w, cost[:, list(s)].min(axis=1)))
        best = min(best, v)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 11))
    m = int(rng.integers(4, 9))
    p = int(rng.integers(1, min(4, m) + 1))
    cost = rng.integers(0, 30, size=(n, m)).astype(float)
    w = rng.integers(0, 4, size=n).astype(float)
    sol = solve_pmedian(cost, w, p)
    assert isinstance(sol, ExactSolution)
    assert sol.status == "optimal" and sol.gap == 0.0
    assert sol.objective == pytest.approx(_brute(cost, w, p))
    assert len(sol.open_sites) == p and sol.best_bound == pytest.approx(sol.objective)
    # assignment: nearest open site, and consistent with the objective
    d = cost[np.arange(n), sol.assignment]
    np.testing.assert_allclose(d, cost[:, sol.open_sites].min(axis=1))
    assert float(np.dot(w, d)) == pytest.approx(sol.objective)


@pytest.mark.parametrize("seed", range(8))
def test_masks_and_disallowed_pairs(seed):
    rng = np.random.default_rng(100 + seed)
    n, m, p = 9, 8, 3
    cost = rng.uniform(1, 40, size=(n, m)).round(2)
    cost[rng.uniform(size=(n, m)) < 0.35] = np.inf
    for i in range(n):  # keep every demand servable
        if not np.isfinite(cost[i]).any():
            cost[i, i % m] = 5.0
    w = rng.uniform(0.5, 3, size=n).round(2)
    must = [int(rng.integers(m))]
    forb = [j for j in range(m) if j not in must][:1]
    opt = _brute(cost, w, p, must, forb)
    sol = solve_pmedian(cost, w, p, must_open=must, forbidden=forb)
    if math.isinf(opt):
        assert sol.status == "infeasible" and sol.message
    else:
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(opt, rel=1e-9)
        assert set(must) <= set(sol.open_sites.tolist())
        assert not set(forb) & set(sol.open_sites.tolist())
        assert np.isfinite(cost[np.arange(n), sol.assignment]).all()


def test_infeasible_cover_reported():
    inf = np.inf
    # two demands that no single site serves, p = 1
    cost = np.array([[1.0, inf], [inf, 1.0]])
    sol = solve_pmedian(cost, None, 1)
    assert sol.status == "infeasible"
    assert sol.open_sites.size == 0 and (sol.assignment == -1).all()
    assert solve_pmedian(cost, None, 1, must_open=[0, 1]).status == "infeasible"


def test_no_warm_start_same_answer():
    rng = np.random.default_rng(5)
    cost = rng.integers(1, 60, size=(40, 40)).astype(float)
    a = solve_pmedian(cost, None, 6)
    b = solve_pmedian(cost, None, 6, warm_start=False)
    assert a.status == b.status == "optimal"
    assert a.objective == b.objective


@pytest.mark.skipif(ORLIB is None, reason="../shared OR-Library not available")
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_orlib_pmed_1_to_5_optimal(k):
    opt = orlib.read_pmedopt(ORLIB / "pmed" / "pmedopt.txt")
    inst = orlib.read_pmed(ORLIB / "pmed" / f"pmed{k}.txt")
    sol = solve_pmedian(inst.cost, None, inst.p, time_limit_s=30)
    assert sol.status == "optimal" and sol.gap == 0.0
    assert sol.objective == opt[inst.name]
    assert sol.best_bound == opt[inst.name]


@pytest.mark.skipif(ORLIB is None, reason="../shared OR-Library not available")
def test_time_limit_is_honest():
    opt = orlib.read_pmedopt(ORLIB / "pmed" / "pmedopt.txt")
    inst = orlib.read_pmed(ORLIB / "pmed" / "pmed36.txt")  # needs a few hundred nodes
    sol = solve_pmedian(inst.cost, None, inst.p, time_limit_s=0.3)
    assert sol.status in ("feasible", "optimal")
    assert sol.best_bound <= opt[inst.name] <= sol.objective
    if sol.status == "feasible":
        assert sol.gap > 0 and sol.message
        assert sol.gap == pytest.approx((sol.objective - sol.best_bound) / sol.objective)
    else:
        assert sol.objective == opt[inst.name]


@pytest.mark.parametrize("seed", range(10))
def test_initial_open_gives_the_same_optimum(seed):
    """A warm start (good, wrong size, forbidden, infeasible) never changes the optimum."""
    rng = np.random.default_rng(500 + seed)
    n, m, p = 10, 8, 3
    cost = rng.uniform(1, 40, size=(n, m)).round(2)
    cost[rng.uniform(size=(n, m)) < 0.3] = np.inf
    for i in range(n):
        if not np.isfinite(cost[i]).any():
            cost[i, i % m] = 5.0
    w = rng.uniform(0.5, 3, size=n).round(2)
    must, forb = [0], [1]
    opt = _brute(cost, w, p, must, forb)
    cold = solve_pmedian(cost, w, p, must_open=must, forbidden=forb)
    assert not cold.warm_start_used
    starts = [
        cold.open_sites,  # the optimum itself
        rng.choice(m, p, replace=False),  # any set
        np.array([2]),  # too few
        np.arange(m),  # too many
        np.array([1, 2, 3]),  # a forbidden site, must-open missing
        np.array([int(np.argmax(np.isinf(cost).sum(axis=0)))]),  # likely serves no solution
    ]
    for start in starts:
        for heuristic in (True, False):
            sol = solve_pmedian(
                cost,
                w,
                p,
                must_open=must,
                forbidden=forb,
                initial_open=start,
                warm_start=heuristic,
            )
            if math.isinf(opt):
                assert sol.status == "infeasible"
                continue
            assert sol.status == "optimal"
            assert sol.objective == pytest.approx(opt)
            assert len(sol.open_sites) == p and 0 in sol.open_sites and 1 not in sol.open_sites
    if math.isfinite(opt):
        kw = {"must_open": must, "forbidden": forb, "initial_open": starts[0]}
        alone = solve_pmedian(cost, w, p, warm_start=False, **kw)  # no greedy: the start only
        assert alone.warm_start_used and alone.heuristic_objective == pytest.approx(opt)
        both = solve_pmedian(cost, w, p, **kw)  # the better of start and greedy (greedy on ties)
        assert both.heuristic_objective == pytest.approx(opt)
        assert both.warm_start_used == (cold.heuristic_objective > opt + 1e-9)


def test_initial_open_bad_indices_rejected():
    cost = np.arange(12, dtype=float).reshape(3, 4)
    with pytest.raises(ValueError, match="initial_open"):
        solve_pmedian(cost, None, 2, initial_open=[0, 7])
    with pytest.raises(ValueError, match="initial_open"):
        solve_pmedian(cost, None, 2, initial_open=[0.5])
    mask = np.array([True, False, True, False])
    assert solve_pmedian(cost, None, 2, initial_open=mask, warm_start=False).warm_start_used


def test_pseudo_costs_most_fractional_until_observed_then_product_score():
    from placement.formulations.radius import _PseudoCosts

    pc = _PseudoCosts(4)
    y = np.array([0.5, 0.3, 0.9, 0.0])
    fractional = np.array([True, True, True, False])
    assert pc.choose(y, fractional) == 0  # nothing observed: most fractional
    # site 1: large gains both ways; site 0: closing it costs nothing
    pc.observe(1, 0, 0.3, 30.0)  # down: 100 per unit
    pc.observe(1, 1, 0.7, 70.0)  # up: 100 per unit
    pc.observe(0, 0, 0.5, 0.0)
    pc.observe(0, 1, 0.5, 50.0)
    assert pc.total[0, 1] == pytest.approx(100.0) and pc.count[1, 0] == 1
    # scores: site 0 ~ 1e-6 * 50; site 1: 30 * 70; site 2 (unobserved, means 50 / 100): 45 * 10
    assert pc.choose(y, fractional) == 1
    assert pc.choose(y, np.array([True, False, True, False])) == 2
    # the scores strong branching ranks candidates by agree with choose
    assert int(np.argmax(np.where(fractional, pc.scores(y), -1.0))) == 1
    # observed once each way: unreliable (below _RELIABLE); site 2 never observed
    assert pc.unreliable().tolist() == [True, True, True, True]
    for _ in range(4):
        pc.observe(1, 0, 0.3, 30.0)
        pc.observe(1, 1, 0.7, 70.0)
    assert pc.unreliable().tolist() == [True, False, True, True]
    # negative gains (numerical noise) count as none
    pc.observe(3, 0, 1.0, -5.0)
    assert pc.total[0, 3] == 0.0 and pc.count[0, 3] == 1


def test_branching_instance_proves_optimum_with_basis_restarts():
    # random non-metric costs whose root LP is fractional: the tree visits "closed" children
    # that restart from a stored basis, and branches by pseudo-costs; enumeration must agree
    rng = np.random.default_rng(17)
    cost = rng.integers(0, 100, size=(30, 14)).astype(float)
    w = rng.integers(1, 5, size=30).astype(float)
    sol = solve_pmedian(cost, w, 4)
    assert sol.nodes >= 9  # branched at least four times
    assert sol.status == "optimal" and sol.gap == 0.0
    assert sol.objective == pytest.approx(_brute(cost, w, 4))
    # the same under a limit that leaves nothing to stop: identical answer
    again = solve_pmedian(cost, w, 4, time_limit_s=60)
    assert again.objective == sol.objective and again.nodes == sol.nodes


@pytest.mark.parametrize("seed", range(40))
def test_branching_random_instances_match_enumeration(seed):
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 100, size=(30, 14)).astype(float)
    w = rng.integers(1, 5, size=30).astype(float)
    sol = solve_pmedian(cost, w, 4, warm_start=bool(seed % 2))
    assert sol.status == "optimal" and sol.nodes >= 1
    assert sol.objective == pytest.approx(_brute(cost, w, 4))


@pytest.mark.parametrize("seed", range(12))
def test_strong_branching_at_every_node_matches_enumeration(seed, monkeypatch):
    # strong branching on every fractional site at every node (pseudo-costs never reliable):
    # its fixings (a child LP infeasible or above the threshold) must not cut off the optimum
    from placement.formulations import radius

    monkeypatch.setattr(radius, "_RELIABLE", 10**9)
    monkeypatch.setattr(radius, "_SB_CANDIDATES", 100)
    monkeypatch.setattr(radius, "_SB_SHARE", 1e9)
    monkeypatch.setattr(radius._Solver, "sb_free_share", -1.0)  # whatever the root fixing left
    rng = np.random.default_rng(100 + seed)
    cost = rng.integers(0, 100, size=(30, 14)).astype(float)
    w = rng.integers(1, 5, size=30).astype(float)
    sol = solve_pmedian(cost, w, 4, warm_start=bool(seed % 2))
    assert sol.status == "optimal" and sol.gap == 0.0
    assert sol.objective == pytest.approx(_brute(cost, w, 4))


@pytest.mark.parametrize("free_share", [-1.0, 2.0])
def test_strong_branching_rule_never_changes_the_optimum(free_share, monkeypatch):
    # the root decides whether reliability branching runs (sb_free_share): always (-1) or
    # never (2) must prove the same optimum, the one enumeration finds
    from placement.formulations import radius

    monkeypatch.setattr(radius._Solver, "sb_free_share", free_share)
    calls = []
    real = radius._Solver._strong_branch

    def spy(self, *args, **kwargs):
        calls.append(self.sb_on)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(radius._Solver, "_strong_branch", spy)
    rng = np.random.default_rng(17)
    cost = rng.integers(0, 100, size=(30, 14)).astype(float)
    w = rng.integers(1, 5, size=30).astype(float)
    sol = solve_pmedian(cost, w, 4)
    assert sol.status == "optimal" and sol.objective == pytest.approx(_brute(cost, w, 4))
    assert calls and set(calls) == {free_share < 0}


def _random_instance(seed: int, n: int = 24, m: int = 12, holes: float = 0.0):
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 100, size=(n, m)).astype(float)
    if holes:
        cost[rng.uniform(size=(n, m)) < holes] = np.inf
        for i in range(n):  # keep every demand servable
            if not np.isfinite(cost[i]).any():
                cost[i, i % m] = 50.0
    # zero weights (demand rows without a θ column) only where every pair is allowed, so that
    # the enumeration's 0 * inf never arises
    w = rng.integers(1 if holes else 0, 5, size=n).astype(float)
    return cost, w


@pytest.mark.parametrize("seed", range(12))
def test_restart_sweep_over_p_matches_enumeration(seed):
    # a sweep over p, each solve restarted from the previous root LP: every point still exact
    cost, w = _random_instance(seed, holes=0.2 if seed % 3 == 0 else 0.0)
    prev = None
    for p in range(2, 7):
        sol = solve_pmedian(cost, w, p, restart=None if prev is None else prev.restart)
        assert sol.status == "optimal" and sol.gap == 0.0
        assert sol.objective == pytest.approx(_brute(cost, w, p))
        assert sol.restarted == (prev is not None)
        assert isinstance(sol.restart, RootRestart)
        # only binding cuts are kept, one basis status per column and per kept row
        r = sol.restart
        assert len(r.demand) == len(r.level) == len(r.row_status) - r.n_base_rows
        assert len(r.col_status) == cost.shape[1] + int((w > 0).sum())
        assert (r.row_status[r.n_base_rows :] != 1).all()  # 1 = HiGHS kBasic
        prev = sol


@pytest.mark.parametrize("seed", range(8))
def test_restart_from_other_costs_and_fixings_is_still_exact(seed):
    # a radius cut holds for every level whatever the costs: a restart made on one cost matrix
    # and other fixings may start another problem of the same shape without changing its optimum
    cost_a, w = _random_instance(seed)
    cost_b, _ = _random_instance(seed + 1000)
    w_b = np.where(w > 0, w + 1.0, 0.0)  # same demand rows priced
    made = solve_pmedian(cost_a, w, 3, must_open=[0])
    must, forb = [1], [0, 2]
    sol = solve_pmedian(cost_b, w_b, 4, must_open=must, forbidden=forb, restart=made.restart)
    assert sol.restarted
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(_brute(cost_b, w_b, 4, must, forb))


def test_restart_of_another_shape_is_ignored():
    cost, w = _random_instance(3)
    small = solve_pmedian(cost[:, :10], w, 3)
    sol = solve_pmedian(cost, w, 3, restart=small.restart)
    assert not sol.restarted and sol.status == "optimal"
    assert sol.objective == pytest.approx(_brute(cost, w, 3))
    # other demand rows priced (a weight set to zero): ignored as well
    w0 = w.copy()
    w0[np.flatnonzero(w > 0)[0]] = 0.0
    sol = solve_pmedian(cost, w0, 3, restart=solve_pmedian(cost, w, 3).restart)
    assert not sol.restarted
    assert sol.objective == pytest.approx(_brute(cost, w0, 3))


def test_restart_must_be_a_root_restart():
    cost, w = _random_instance(4)
    with pytest.raises(ValidationError, match="restart"):
        solve_pmedian(cost, w, 3, restart=([0, 1], [5.0, 6.0]))


def test_restart_repr_is_short():
    cost, w = _random_instance(5)
    r = solve_pmedian(cost, w, 3).restart
    assert repr(r) == f"RootRestart({len(r.demand)} cuts, 24 demand rows x 12 sites)"


@pytest.mark.parametrize("seed", range(6))
def test_restart_of_the_same_problem_needs_no_new_cut(seed):
    # the kept cuts and basis are the root LP's optimum: re-solving the same problem from them
    # adds no cut at the root (a restart that lost cuts or mapped them to other demand rows would)
    cost, w = _random_instance(seed, n=40, m=15)
    first = solve_pmedian(cost, w, 4, warm_start=False)
    again = solve_pmedian(cost, w, 4, warm_start=False, restart=first.restart)
    assert again.restarted and again.objective == pytest.approx(first.objective)
    r = first.restart
    added = again.n_rows - r.n_base_rows - len(r.demand)
    if again.nodes == 1:
        assert added == 0
    # the root LP from the restart binds no cut the first root did not keep (the rows of the
    # whole solves are not comparable: the cuts not binding at the root are deleted)
    assert len(again.restart.demand) <= len(r.demand)


def test_inconsistent_restart_is_ignored_not_trusted():
    import dataclasses

    cost, w = _random_instance(6)
    r = solve_pmedian(cost, w, 3).restart
    broken = [
        dataclasses.replace(r, row_status=r.row_status[:-1]),
        dataclasses.replace(r, demand=r.demand + cost.shape[0]),
        dataclasses.replace(r, level=r.level[:-1]),
        dataclasses.replace(r, col_status=r.col_status[:-1]),
    ]
    for bad in broken:
        sol = solve_pmedian(cost, w, 4, restart=bad)
        assert not sol.restarted
        assert sol.objective == pytest.approx(_brute(cost, w, 4))


def test_spent_time_limit_returns_the_heuristic_without_building_the_lp():
    # a limit already spent when the heuristic ends: its answer, "feasible" without a bound
    rng = np.random.default_rng(3)
    cost = rng.integers(1, 100, size=(40, 40)).astype(float)
    sol = solve_pmedian(cost, np.ones(40), 5, time_limit_s=0.0)
    assert sol.status == "feasible"
    assert sol.best_bound == -math.inf and sol.gap == math.inf
    assert sol.n_rows == 0 and len(sol.open_sites) == 5
    assert sol.objective == pytest.approx(cost[:, sol.open_sites].min(axis=1).sum())


def test_objective_step_of_integer_costs_and_weights():
    from placement.formulations.radius import objective_step

    rng = np.random.default_rng(11)
    cost = rng.integers(1, 50, size=(30, 8)).astype(float)
    cost[rng.random(cost.shape) < 0.2] = np.inf
    assert objective_step(cost, np.ones(30)) == 1.0
    assert objective_step(cost, np.full(30, 1 / 30)) == pytest.approx(1 / 30)
    k = rng.integers(1, 5, 30) * 2.0  # integer weights with gcd 2, as shares of their total
    assert objective_step(cost, k / k.sum()) == pytest.approx(2 / k.sum())
    assert objective_step(cost + 0.5, np.full(30, 1 / 30)) == 0.0  # costs not integer
    assert objective_step(cost, rng.uniform(0.1, 1.0, 30)) == 0.0  # weights on no lattice
    assert objective_step(cost, np.full(30, 1e-7)) == 0.0  # a step below the tolerance


def test_shares_of_unit_weights_prove_the_optimum_with_the_step():
    # weights 1/n (as Problem.solve passes them) keep the integer lattice: bound = objective
    rng = np.random.default_rng(12)
    cost = rng.integers(1, 40, size=(14, 7)).astype(float)
    w = np.full(14, 1 / 14)
    sol = solve_pmedian(cost, w, 3)
    best = _brute(cost, np.ones(14), 3) / 14
    assert sol.status == "optimal" and sol.objective == pytest.approx(best, rel=1e-12)
    assert sol.best_bound == pytest.approx(best, rel=1e-12)


def _naive_levels(cost, y):
    """Most violated radius cut of each demand by enumeration of its levels."""
    d_out, v_out = [], []
    for row in cost:
        levels = np.unique(row[np.isfinite(row)])
        best = None
        for level in levels:  # the cut's value at y: D - sum over c < D of (D - c) y
            value = level - float(np.sum(np.where(row < level, level - row, 0.0) * y))
            if best is None or value > best[1] + 1e-12:
                best = (level, value)
        d_out.append(best[0])
        v_out.append(best[1])
    return np.array(d_out), np.array(v_out)


@pytest.mark.parametrize("seed", range(5))
def test_separation_finds_the_most_violated_level(seed):
    # ties (integer costs), disallowed pairs and supports of every width, prefix doubling
    # included (m > 64)
    from placement.formulations.radius import _Separator

    rng = np.random.default_rng(40 + seed)
    n, m = 25, 150
    cost = rng.integers(0, 30, size=(n, m)).astype(float)
    cost[rng.random((n, m)) < 0.3] = np.inf
    cost[:, 0] = rng.integers(0, 30, n)
    sep = _Separator(cost, np.arange(n))
    for k in (1, 3, 20, 149):
        y = np.zeros(m)
        supp = rng.choice(m, k, replace=False)
        y[supp] = rng.uniform(0.05, 1.0, k)
        y *= min(k, 4) / y.sum()
        y = np.minimum(y, 1.0)
        d, value = sep.levels(y)
        _, nv = _naive_levels(cost, y)
        np.testing.assert_allclose(value, nv, rtol=1e-12, atol=1e-9)  # as violated as the best
        fin = np.isfinite(cost)
        # and d is a level of that demand with that value
        assert all(d[i] in cost[i][fin[i]] for i in range(n))
