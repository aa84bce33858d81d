"""Cluster cost columns of the radius p-median (placement.formulations._clusters): brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import placement.formulations._clusters as C
import placement.formulations.radius as R


def _points(rng: np.random.Generator, sizes: list[int], spread: float = 60.0) -> np.ndarray:
    """Grid clusters (spacing 4, random width, like fl1400's) ``spread`` apart; floor-Euclidean."""
    xy = []
    for c, size in enumerate(sizes):
        ox, oy = spread * c, spread * (c % 2)
        side = int(rng.integers(2, max(3, size // 2 + 1)))
        for k in range(size):
            xy.append((ox + 4 * (k % side), oy + 4 * (k // side)))
    xy = np.asarray(xy)
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    return np.floor(d)


def _brute(cost, w, p):
    best = math.inf
    for s in itertools.combinations(range(cost.shape[1]), p):
        best = min(best, float(np.dot(w, cost[:, list(s)].min(axis=1))))
    return best


def _brute_f(cost, w, members, lowered=False):
    """f(k) of the module docstring by enumeration: with each demand's cost from outside, or
    (``lowered``) the cluster's smallest one for all, as cluster_bound has it."""
    inside = np.zeros(cost.shape[1], dtype=bool)
    inside[members] = True
    rows = cost[members]
    out = rows[:, ~inside].min(axis=1)
    if lowered:
        out = np.full(len(members), out.min())
    f = []
    for k in range(len(members) + 1):
        best = math.inf
        for t in itertools.combinations(members, k):
            serve = np.minimum(cost[np.ix_(members, list(t))].min(axis=1), out) if k else out
            best = min(best, float(np.dot(w[members], serve)))
        f.append(best)
    return np.asarray(f)


def test_point_clusters_finds_the_components():
    d = _points(np.random.default_rng(0), [9, 12, 3])
    clusters = C.point_clusters(d)
    assert [len(c) for c in clusters] == [9, 12]  # the 3-point one is below MIN_CLUSTER
    assert clusters[0].tolist() == list(range(9))
    assert C.point_clusters(d[:, :-1]) == []  # not square
    asym = d.copy()
    asym[0, 1] += 1.0
    assert C.point_clusters(asym) == []


@pytest.mark.parametrize("seed", range(6))
def test_cluster_lower_is_below_f_and_exact_at_the_window(seed):
    rng = np.random.default_rng(seed)
    d = _points(rng, [8, 9, 8], spread=float(rng.integers(14, 40)))
    w = rng.integers(1, 5, size=len(d)).astype(float)
    for members in C.point_clusters(d):
        f = _brute_f(d, w, members)
        f_low = _brute_f(d, w, members, lowered=True)
        assert np.all(f_low <= f)
        cb = C.cluster_bound(d, w, members)
        for k0 in range(len(members)):
            low = C.cluster_lower(cb, k0, math.inf)
            assert low is not None and len(low) == len(members) + 1
            assert np.all(low <= f + 1e-9), (k0, low, f)
            assert np.all(low <= f_low + 1e-9), (k0, low, f_low)
            assert low[k0] == pytest.approx(f_low[k0])
            assert low[k0 + 1] == pytest.approx(f_low[k0 + 1])


def _instance(seed):
    rng = np.random.default_rng(100 + seed)
    sizes = [int(rng.integers(6, 10)) for _ in range(2)] + [int(rng.integers(1, 4))]
    d = _points(rng, sizes, spread=float(rng.integers(10, 20)))
    w = rng.integers(1, 10, size=len(d)).astype(float)
    return d, w, int(rng.integers(2, 6))


#: seeds of _instance whose root LP is fractional inside a cluster (cluster columns are added)
_FRACTIONAL = [22, 45, 52, 55]


def _spy_splits(monkeypatch) -> list[bool]:
    """Record, for each call of the tree's cluster-sum split, whether it split a cluster."""
    splits: list[bool] = []
    original_split = R._Solver._cluster_split

    def spy_split(self, hi):
        out = original_split(self, hi)
        splits.append(out is not None)
        return out

    monkeypatch.setattr(R._Solver, "_cluster_split", spy_split)
    return splits


@pytest.mark.parametrize(("branch", "keep"), [(False, True), (True, True), (False, False)])
@pytest.mark.parametrize("seed", [*range(6), *_FRACTIONAL])
def test_solve_with_cluster_columns_matches_brute_force(seed, branch, keep, monkeypatch):
    monkeypatch.setattr(C, "MIN_CLUSTER", 4)
    monkeypatch.setattr(R, "_CLUSTER_FREE_SHARE", -1.0)  # also where the root fixed many sites
    # cluster-sum branching whatever share of the gap the columns closed, or never
    monkeypatch.setattr(R, "_CLUSTER_BRANCH_SHARE", -math.inf if branch else math.inf)
    # the columns kept whatever they closed, or always removed again
    monkeypatch.setattr(R, "_CLUSTER_KEEP_SHARE", -math.inf if keep else math.inf)
    used = []
    original = R.cluster_lower

    def spy(*args):
        out = original(*args)
        used.append(out is not None)
        return out

    monkeypatch.setattr(R, "cluster_lower", spy)
    splits = _spy_splits(monkeypatch)
    d, w, p = _instance(seed)
    sol = R.solve_pmedian(d, w, p, warm_start=bool(seed % 2))
    assert sol.status == "optimal" and sol.gap == 0.0
    assert sol.objective == pytest.approx(_brute(d, w, p))
    assert sol.best_bound == pytest.approx(sol.objective)
    if seed in _FRACTIONAL:
        assert any(used)  # the cluster columns were in the LP
    assert branch or not any(splits)


def _larger(seed):
    rng = np.random.default_rng(1000 + seed)
    sizes = [int(rng.integers(8, 16)) for _ in range(3)]
    d = _points(rng, sizes, spread=float(rng.integers(8, 16)))
    w = rng.integers(1, 10, size=len(d)).astype(float)
    return d, w, int(rng.integers(4, 12))


@pytest.mark.parametrize("seed", [66, 109, 123, 126])
def test_cluster_sum_branching_matches_the_plain_tree(seed, monkeypatch):
    """N = 31-40, p = 6-10 (too many sets to enumerate): against the tree without cluster columns
    (brute-force tested in test_radius.py); these seeds branch on a cluster sum."""
    d, w, p = _larger(seed)
    monkeypatch.setattr(R._Solver, "cluster_cuts", False)
    plain = R.solve_pmedian(d, w, p)
    monkeypatch.setattr(R._Solver, "cluster_cuts", True)
    monkeypatch.setattr(C, "MIN_CLUSTER", 4)
    monkeypatch.setattr(R, "_CLUSTER_FREE_SHARE", -1.0)
    monkeypatch.setattr(R, "_CLUSTER_BRANCH_SHARE", -math.inf)
    monkeypatch.setattr(R, "_CLUSTER_KEEP_SHARE", -math.inf)
    splits = _spy_splits(monkeypatch)
    sol = R.solve_pmedian(d, w, p, warm_start=bool(seed % 2))
    assert plain.status == sol.status == "optimal"
    assert sol.objective == pytest.approx(plain.objective)
    assert sol.best_bound == pytest.approx(plain.objective)
    assert any(splits)


def test_cluster_split_partitions_the_z_at_the_floor_of_the_sum():
    """The two children of a cluster-sum branching close complementary z: k <= floor(s) stays in
    one, k >= floor(s) + 1 in the other; the most fractional cluster is chosen."""
    from types import SimpleNamespace

    n_t = 3  # z columns start after n_s + n_t columns; positions in lo/hi are column - n_t
    x = np.zeros(20)
    zc_a, zc_b = np.arange(5, 9, dtype=np.int32), np.arange(9, 14, dtype=np.int32)
    x[zc_a] = [0.0, 0.9, 0.1, 0.0]  # k = 2, 3, 4, 5: s = 3.1
    x[zc_b] = [0.0, 0.0, 0.5, 0.5, 0.0]  # k = 0 … 4: s = 2.5, the more fractional
    stub = SimpleNamespace(
        zcols=[
            (zc_a, np.array([2.0, 3.0, 4.0, 5.0]), None, 0, None),
            (zc_b, np.arange(5.0), None, 0, None),
        ],
        n_t=n_t,
        h=SimpleNamespace(getSolution=lambda: SimpleNamespace(col_value=x)),
    )
    down, up = R._Solver._cluster_split(stub, np.ones(20))
    assert sorted(down + n_t) == [12, 13]  # closed when sum <= 2: k = 3, 4
    assert sorted(up + n_t) == [9, 10, 11]  # closed when sum >= 3: k = 0, 1, 2
    x[zc_b] = [0.0, 0.0, 1.0, 0.0, 0.0]
    x[zc_a] = [0.0, 1.0, 0.0, 0.0]
    assert R._Solver._cluster_split(stub, np.ones(20)) is None  # every sum integral
