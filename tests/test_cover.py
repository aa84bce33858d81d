"""formulations._cover.cheapest_cover against enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from placement.formulations._cover import cheapest_cover


def _rows(allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nz = allowed.sum(axis=1)
    starts = np.zeros(len(allowed), np.int64)
    np.cumsum(nz[:-1], out=starts[1:])
    return starts, np.nonzero(allowed)[1]


@pytest.mark.parametrize("seed", range(8))
def test_cheapest_cover_matches_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 9, 7
    allowed = rng.random((n, m)) < 0.35
    allowed[np.arange(n), rng.integers(0, m, n)] = True  # every row has a site
    cost = rng.uniform(1.0, 10.0, m).round(2)
    must = np.zeros(m, bool)
    must[seed % m] = seed % 2 == 0
    forbidden = np.zeros(m, bool)
    lo, hi = (2, 4) if seed % 3 else (None, None)
    best = math.inf
    for k in range(m + 1):
        for c in itertools.combinations(range(m), k):
            idx = list(c)
            if not all(j in idx for j in np.flatnonzero(must)):
                continue
            if (lo is not None and k < lo) or (hi is not None and k > hi):
                continue
            if allowed[:, idx].any(axis=1).all():
                best = min(best, float(cost[idx].sum()))
    starts, sites = _rows(allowed)
    got = cheapest_cover(starts, sites, cost, must, forbidden, min_count=lo, max_count=hi)
    if math.isinf(best):
        assert got.open_sites is None and got.bound == math.inf
    else:
        assert got.proven and got.bound == pytest.approx(best)
        assert float(cost[got.open_sites].sum()) == pytest.approx(best)
        assert allowed[:, got.open_sites].any(axis=1).all()


def test_no_time_proves_nothing() -> None:
    allowed = np.eye(3, dtype=bool)
    starts, sites = _rows(allowed)
    got = cheapest_cover(
        starts, sites, np.ones(3), np.zeros(3, bool), np.zeros(3, bool), deadline=0.0
    )
    assert got.open_sites is None and got.bound == -math.inf and not got.proven
