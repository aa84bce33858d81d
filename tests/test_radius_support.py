"""Support sub-solve and node limit of the radius p-median (placement.formulations.radius): brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import placement.formulations.radius as R
from placement.heuristics import prepare_inputs


def _cost_of(cost: np.ndarray, w: np.ndarray, sites) -> float:
    return float(np.dot(w, cost[:, list(sites)].min(axis=1)))


def _brute(cost: np.ndarray, w: np.ndarray, p: int, sites=None) -> float:
    sites = range(cost.shape[1]) if sites is None else sites
    return min(_cost_of(cost, w, s) for s in itertools.combinations(sites, p))


def _instance(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(12, 16))
    xy = rng.integers(0, 40, size=(n, 2)).astype(float)
    d = np.floor(np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)))
    w = rng.integers(1, 6, size=n).astype(float)
    return d, w, int(rng.integers(2, 5))


def _spy(monkeypatch) -> list[tuple[np.ndarray, float, float, np.ndarray]]:
    """Record every support sub-solve: (support sites, incumbent before, after, open sites)."""
    calls = []
    real = R._Solver._support_incumbent

    def spy(self, y, lo, hi):
        before = self.ub
        n_s = self.inp.n_sites
        sup = ((y[:n_s] > 1e-6) | (lo[:n_s] > 0.5)) & (hi[:n_s] > 0.5)
        sup[self.best_open] = True
        real(self, y, lo, hi)
        calls.append((np.flatnonzero(sup), before, self.ub, np.array(self.best_open)))

    monkeypatch.setattr(R._Solver, "_support_incumbent", spy)
    return calls


@pytest.mark.parametrize("seed", range(8))
def test_support_subsolve_matches_brute_force(seed, monkeypatch):
    monkeypatch.setattr(R, "_SUPPORT_FREE_SHARE", -1.0)  # at every root, even a small tree
    monkeypatch.setattr(R, "_SUPPORT_SHARE", 1.0)
    calls = _spy(monkeypatch)
    cost, w, p = _instance(seed)
    sol = R.solve_pmedian(cost, w, p)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(_brute(cost, w, p))
    # the objective is that of the returned sites (the sub-solve's sites mapped back)
    assert _cost_of(cost, w, sol.open_sites) == pytest.approx(sol.objective)
    for sup, before, after, open_sites in calls:
        assert after <= before
        if len(sup) > p:
            # the sub-solve's optimum over the support (200 nodes prove these tiny ones)
            best = _brute(cost, w, p, sup)
            assert after == pytest.approx(min(before, best))
            assert _cost_of(cost, w, open_sites) == pytest.approx(after)


def test_support_subsolve_runs_and_improves_a_bad_incumbent(monkeypatch):
    """The sub-solve's sites replace a poor incumbent (mapped back to the full site set)."""
    monkeypatch.setattr(R, "_SUPPORT_FREE_SHARE", -1.0)
    monkeypatch.setattr(R, "_SUPPORT_SHARE", 1.0)
    calls = _spy(monkeypatch)
    improved = 0
    for seed in range(8):
        cost, w, p = _instance(seed)
        inp = prepare_inputs(cost, w, p)
        solver = R._Solver(inp, math.inf, 1e-9, None, False, True, 0.0)
        solver._build()
        solver.best_open = np.arange(p)  # a poor incumbent: the first p sites
        solver.ub = _cost_of(cost, w, range(p))
        y = np.zeros(inp.n_sites)
        y[np.argsort(cost.sum(axis=0))[: 2 * p]] = 0.5  # a made-up fractional root support
        lo, hi = np.zeros(inp.n_sites), np.ones(inp.n_sites)
        solver._support_incumbent(y, lo, hi)
        sup, before, after, open_sites = calls[-1]
        best = _brute(cost, w, p, sup)
        assert after == pytest.approx(min(before, best))
        assert _cost_of(cost, w, open_sites) == pytest.approx(after)
        improved += after < before - 1e-9
    assert improved >= 4  # the poor start is beaten on most seeds


def test_support_subsolve_skips_a_large_support(monkeypatch):
    """Support above _SUPPORT_SHARE of the sites: no sub-solve, the incumbent unchanged."""
    cost, w, p = _instance(0)
    inp = prepare_inputs(cost, w, p)
    solver = R._Solver(inp, math.inf, 1e-9, None, False, True, 0.0)
    solver._build()
    solver.best_open, solver.ub = np.arange(p), _cost_of(cost, w, range(p))
    ran = []
    monkeypatch.setattr(R._Solver, "run", lambda self: ran.append(1))
    solver._support_incumbent(
        np.full(inp.n_sites, 0.5), np.zeros(inp.n_sites), np.ones(inp.n_sites)
    )
    assert ran == []
    assert solver.ub == _cost_of(cost, w, range(p))


def _tree_instance(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Manhattan distances on a small integer grid, unit weights (ties: the root LP branches)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 45))
    xy = rng.integers(0, 12, size=(n, 2)).astype(float)
    return np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2), np.ones(n)


@pytest.mark.parametrize(("seed", "p"), [(5, 5), (4, 9)])
def test_node_limit_stops_with_an_honest_bound(seed, p, monkeypatch):
    monkeypatch.setattr(R, "_SB_CANDIDATES", 0)
    cost, w = _tree_instance(seed)
    inp = prepare_inputs(cost, w, p)
    full = R._Solver(inp, math.inf, 1e-9, None, False, True, 0.0).run()
    assert full.status == "optimal" and full.nodes > 2  # a tree, not a root solve
    opt = full.objective
    solver = R._Solver(inp, math.inf, 1e-9, None, False, True, 0.0)
    solver.node_limit = 2
    sol = solver.run()
    assert sol.nodes == 2
    assert sol.best_bound <= opt + 1e-9 <= sol.objective + 2e-9
    assert _cost_of(cost, w, sol.open_sites) == pytest.approx(sol.objective)
    assert sol.status == "optimal" if sol.best_bound >= opt - 1e-9 else sol.gap > 0


@pytest.mark.parametrize("seed", range(6))
def test_root_cut_purge_keeps_the_optimum_and_the_restart(seed, monkeypatch):
    """The root's cut loop dropping slack cuts (forced on small matrices): same optimum, and its
    RootRestart (cuts after the purges, their basis) restarts a solve to the same optimum."""
    monkeypatch.setattr(R, "_PURGE_MIN_PAIRS", 0)
    monkeypatch.setattr(R, "_PURGE_CUTS", 0)  # purge before every round's cuts
    purges = []
    real = R._Solver._drop_slack_cuts

    def spy(self):
        purges.append(self.nodes)
        real(self)

    monkeypatch.setattr(R._Solver, "_drop_slack_cuts", spy)
    cost, w, p = _instance(seed)
    opt = _brute(cost, w, p)
    sol = R.solve_pmedian(cost, w, p, warm_start=False)
    assert sol.status == "optimal" and sol.objective == pytest.approx(opt)
    assert purges.count(1) >= 2  # in the root's loop, not only after it
    again = R.solve_pmedian(cost, w, p, restart=sol.restart)
    assert again.restarted and again.objective == pytest.approx(opt)


def test_support_subsolve_not_in_a_subclass_with_columns_of_its_own(monkeypatch):
    """The percentile solver (class columns + share row) gets no share-blind sub-solve."""
    from placement.formulations.percentile import solve_pmedian_share

    monkeypatch.setattr(R, "_SUPPORT_FREE_SHARE", -1.0)
    monkeypatch.setattr(R, "_SUPPORT_SHARE", 1.0)
    entered, subs = [], []
    real_support, real_run = R._Solver._support_incumbent, R._Solver.run

    def support(self, y, lo, hi):
        entered.append(type(self).__name__)
        return real_support(self, y, lo, hi)

    def run(self):
        if self.node_limit == R._SUPPORT_NODES:
            subs.append(type(self).__name__)
        return real_run(self)

    monkeypatch.setattr(R._Solver, "_support_incumbent", support)
    monkeypatch.setattr(R._Solver, "run", run)
    # test_percentile's first branching instance (60 clustered demands, 14 sites, p = 4)
    rng = np.random.default_rng(62)
    centres = rng.uniform(0, 100, (3, 2))
    xy_d = centres[rng.integers(0, 3, 60)] + rng.normal(0, 15, (60, 2))
    xy_s = rng.uniform(0, 100, (14, 2))
    cost = 1.0 + np.linalg.norm(xy_d[:, None, :] - xy_s[None, :, :], axis=2)
    w = rng.integers(0, 20, 60).astype(float)
    w[0] = max(w[0], 1.0)
    sla = float(np.quantile(cost, 0.25))
    plain = R.solve_pmedian(cost, w, 4)
    within = float(w[cost[:, plain.open_sites].min(axis=1) <= sla].sum())
    best = max(
        float(w[cost[:, list(s)].min(axis=1) <= sla].sum())
        for s in itertools.combinations(range(14), 4)
    )
    need = within + 0.3 * (best - within)
    entered.clear()
    subs.clear()
    sol = solve_pmedian_share(cost, w, 4, sla, need)
    assert entered == ["_ShareSolver"]  # its root reached the sub-solve's place ...
    assert subs == []  # ... which ran none
    assert sol.status == "optimal" and sol.nodes >= 2
    assert float(w[cost[:, sol.open_sites].min(axis=1) <= sla].sum()) >= need - 1e-9


def test_support_subsolve_gets_a_share_of_the_time_left(monkeypatch):
    """Under a time limit the sub-solve's deadline is _SUPPORT_TIME_SHARE of the time left."""
    monkeypatch.setattr(R, "_SUPPORT_FREE_SHARE", -1.0)
    monkeypatch.setattr(R, "_SUPPORT_SHARE", 1.0)
    seen = []
    real_run = R._Solver.run

    def run(self):
        if self.node_limit == R._SUPPORT_NODES:
            seen.append(self.deadline - self.t0)
        return real_run(self)

    monkeypatch.setattr(R._Solver, "run", run)
    cost, w = _tree_instance(5)
    sol = R.solve_pmedian(cost, w, 5, time_limit_s=1000.0)
    assert sol.status == "optimal"
    assert seen and all(0 < s <= 0.3 * 1000.0 + 1e-6 for s in seen)
    seen.clear()
    R.solve_pmedian(cost, w, 5)
    assert seen and all(math.isinf(s) for s in seen)  # no limit: only the node count
