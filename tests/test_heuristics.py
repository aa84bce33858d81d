"""Heuristics: determinism, quality against brute force, masks and disallowed pairs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from placement import orlib
from placement.errors import InfeasibleError, ValidationError
from placement.heuristics import pcenter_heuristic, pmedian_heuristic, prepare_inputs


def _brute_median(cost, w, p, must=(), forb=()):
    best = np.inf
    for s in itertools.combinations(range(cost.shape[1]), p):
        if not set(must) <= set(s) or set(forb) & set(s):
            continue
        v = float(np.dot(w, cost[:, list(s)].min(axis=1)))
        best = min(best, v)
    return best


def _random(seed, n=9, m=8):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 50, size=(n, m)).astype(float), rng.integers(1, 5, size=n).astype(float)


def test_pmedian_heuristic_close_to_brute_force():
    ratios = []
    for seed in range(15):
        c, w = _random(seed)
        sol = pmedian_heuristic(c, w, 3)
        opt = _brute_median(c, w, 3)
        assert sol.objective >= opt - 1e-9
        ratios.append(sol.objective / opt)
        assert len(sol.open_sites) == 3
        np.testing.assert_array_equal(
            sol.assignment,
            c[:, sol.open_sites].argmin(1).choose([sol.open_sites[k] for k in range(3)]),
        )
    assert np.mean(ratios) < 1.02 and max(ratios) < 1.10


def test_pmedian_heuristic_masks_and_inf():
    c, w = _random(3)
    c[0, :6] = np.inf  # demand 0 only reachable from sites 6, 7
    sol = pmedian_heuristic(c, w, 3, must_open=[1], forbidden=np.arange(8) == 7)
    assert 1 in sol.open_sites and 7 not in sol.open_sites and 6 in sol.open_sites
    assert np.isfinite(sol.objective)
    assert sol.objective == pytest.approx(_brute_median(c, w, 3, must=[1], forb=[7]), rel=0.1)


def test_heuristics_are_deterministic():
    c, w = _random(7, n=30, m=25)
    a = pmedian_heuristic(c, w, 5)
    b = pmedian_heuristic(c, w, 5)
    np.testing.assert_array_equal(a.open_sites, b.open_sites)
    assert a.objective == b.objective
    x = pcenter_heuristic(c, 4)
    y = pcenter_heuristic(c, 4)
    np.testing.assert_array_equal(x.open_sites, y.open_sites)


def test_pcenter_heuristic_is_feasible_and_reasonable():
    for seed in range(10):
        c, _ = _random(seed)
        sol = pcenter_heuristic(c, 3)
        best = min(c[:, list(s)].min(axis=1).max() for s in itertools.combinations(range(8), 3))
        assert best <= sol.objective <= 1.5 * best
        assert sol.objective == c[np.arange(9), sol.assignment].max()


def test_prepare_inputs_errors():
    c = np.ones((3, 3))
    with pytest.raises(ValidationError):
        prepare_inputs(c, None, 0)
    with pytest.raises(ValidationError):
        prepare_inputs(-c, None, 1)
    with pytest.raises(ValidationError):
        prepare_inputs(c, None, 1, must_open=[0], forbidden=[0])
    with pytest.raises(InfeasibleError):
        prepare_inputs(c, None, 1, must_open=[0, 1])
    with pytest.raises(InfeasibleError):
        prepare_inputs(c, None, 3, forbidden=[2])
    c2 = c.copy()
    c2[1] = np.inf
    with pytest.raises(InfeasibleError, match="no allowed site"):
        prepare_inputs(c2, None, 1)


@pytest.mark.skipif(orlib.shared_orlib_dir() is None, reason="../shared OR-Library not available")
def test_pmedian_heuristic_on_orlib_within_one_percent():
    d = orlib.shared_orlib_dir()
    opt = orlib.read_pmedopt(d / "pmed" / "pmedopt.txt")
    for k in (1, 2, 3, 4, 5, 8):
        inst = orlib.read_pmed(d / "pmed" / f"pmed{k}.txt")
        sol = pmedian_heuristic(inst.cost, None, inst.p)
        assert sol.objective <= opt[inst.name] * 1.01


def test_pmedian_heuristic_deadline_stops_the_swaps():
    # a passed deadline leaves the greedy set; without one the swaps improve on it
    rng = np.random.default_rng(5)
    cost = rng.random((60, 60))
    greedy = pmedian_heuristic(cost, p=6, max_swaps=0)
    stopped = pmedian_heuristic(cost, p=6, deadline=0.0)
    full = pmedian_heuristic(cost, p=6)
    assert np.array_equal(stopped.open_sites, greedy.open_sites)
    assert full.objective < greedy.objective


def _bookkeeping_matches_rebuild(search):
    from placement.heuristics import _SwapSearch

    fresh = _SwapSearch(
        search.w, search.wt, search.sites, search.movable, search.allowed, search.huge
    )
    np.testing.assert_array_equal(fresh.d1, search.d1)
    np.testing.assert_array_equal(fresh.d2, search.d2)
    np.testing.assert_array_equal(fresh.k1, search.k1)
    np.testing.assert_allclose(fresh.gain, search.gain, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fresh.loss, search.loss, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fresh.extra, search.extra, rtol=0, atol=1e-9)


def test_swap_search_incremental_terms_equal_a_rebuild():
    # distinct costs (no ties): after any sequence of swaps, batches and reverts the kept
    # gain/loss/extra terms equal those computed from scratch for the same open sites
    from placement.heuristics import _SwapSearch

    rng = np.random.default_rng(11)
    w = rng.permutation(40 * 30).reshape(40, 30).astype(float)
    wt = np.ascontiguousarray(w.T)
    search = _SwapSearch(w, wt, np.arange(6), np.ones(30, bool), np.ones(30, bool), 1e9)
    start = search.sites.copy()
    for _ in range(25):
        closed = np.flatnonzero(search.pos < 0)
        k = rng.choice(6, size=2, replace=False)
        search.apply(k, rng.choice(closed, size=2, replace=False))
        _bookkeeping_matches_rebuild(search)
    back = np.flatnonzero(search.sites != start)
    search.apply(back, start[back])
    _bookkeeping_matches_rebuild(search)
    # every move's price is the true change of the objective
    base = float(w[:, search.sites].min(axis=1).sum())
    for k in range(6):
        for j in np.flatnonzero(search.pos < 0):
            sites = search.sites.copy()
            sites[k] = j
            true = float(w[:, sites].min(axis=1).sum()) - base
            price = search.loss[k] - search.gain[j] - search.extra[k, j]
            assert price == pytest.approx(true, abs=1e-9)


def test_pmedian_iterated_search_reaches_brute_force_optimum():
    # bounded by kicks (no clock): reproducible, never worse than the local optimum, and on
    # these small instances the optimum every time
    for seed in range(12):
        c, w = _random(seed, n=14, m=12)
        local = pmedian_heuristic(c, w, 4)
        ils = pmedian_heuristic(c, w, 4, max_kicks=30, seed=seed)
        assert ils.objective <= local.objective
        assert ils.objective == pytest.approx(_brute_median(c, w, 4))
        assert ils.objective == pytest.approx(float(np.dot(w, c[:, ils.open_sites].min(axis=1))))
        if seed < 3:
            again = pmedian_heuristic(c, w, 4, max_kicks=30, seed=seed)
            np.testing.assert_array_equal(ils.open_sites, again.open_sites)


def test_pmedian_iterated_search_keeps_masks_and_limits():
    c, w = _random(4, n=30, m=25)
    c[0, :20] = np.inf  # demand 0 only reachable from sites 20..24
    forb = np.zeros(25, bool)
    forb[[21, 22, 3]] = True
    sol = pmedian_heuristic(c, w, 5, must_open=[7], forbidden=forb, max_kicks=60)
    assert 7 in sol.open_sites and not forb[sol.open_sites].any()
    assert len(sol.open_sites) == 5 and np.isfinite(sol.objective)
    assert sol.open_sites[np.isin(sol.open_sites, [20, 23, 24])].size >= 1
    best = _brute_median(c, w, 5, must=[7], forb=[3, 21, 22])
    assert best <= sol.objective <= best * 1.02


def test_pmedian_improve_until_in_the_past_is_the_local_optimum():
    # a passed improve_until (and a passed deadline) adds no kick: same sites as without it
    rng = np.random.default_rng(8)
    cost = rng.random((80, 70))
    local = pmedian_heuristic(cost, p=7)
    late = pmedian_heuristic(cost, p=7, improve_until=0.0)
    np.testing.assert_array_equal(local.open_sites, late.open_sites)
    stopped = pmedian_heuristic(cost, p=7, deadline=0.0, improve_until=1e300)
    greedy = pmedian_heuristic(cost, p=7, max_swaps=0)
    np.testing.assert_array_equal(stopped.open_sites, greedy.open_sites)


def test_pmedian_one_site_is_the_one_median():
    c, w = _random(9, n=20, m=15)
    sol = pmedian_heuristic(c, w, 1)
    assert sol.objective == pytest.approx(_brute_median(c, w, 1))


def test_greedy_savings_are_the_swap_search_gain():
    from placement.heuristics import _greedy, _SwapSearch

    rng = np.random.default_rng(2)
    w = rng.integers(0, 1000, size=(50, 40)).astype(float)
    wt = np.ascontiguousarray(w.T)
    is_open = np.zeros(40, bool)
    saving = _greedy(w, wt, is_open, np.zeros(40, bool), 6)
    assert is_open.sum() == 6
    fresh = _SwapSearch(w, wt, np.flatnonzero(is_open), np.ones(40, bool), np.ones(40, bool), 1e9)
    np.testing.assert_array_equal(saving, fresh.gain)


def test_pmedian_iterated_search_with_few_closed_sites():
    # 7 of 9 sites open: kicks of 3 sites shrink to the 2 closed ones, the search goes on
    c, w = _random(5, n=20, m=9)
    sol = pmedian_heuristic(c, w, 7, max_kicks=40)
    assert len(sol.open_sites) == 7
    assert sol.objective == pytest.approx(_brute_median(c, w, 7))
