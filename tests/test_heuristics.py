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
