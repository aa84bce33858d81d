"""nearest_assignments: every demand point's nearest open site (ties by site index)."""

from __future__ import annotations

import numpy as np
import pytest

from placement.formulations.data import nearest_assignments
from placement.problem import Problem


@pytest.mark.parametrize("seed", range(10))
def test_nearest_open_site_with_ties_and_sla(seed):
    rng = np.random.default_rng(seed)
    n, m = 25, 9
    lat = rng.integers(1, 12, size=(n, m)).astype(float)  # many ties
    prob = Problem.from_cost_matrix(lat, n_sites=3, max_latency_ms=8.0)
    data = prob.model_data()
    open_mask = rng.uniform(size=m) < 0.5
    rows = nearest_assignments(data, open_mask)
    got = {i: (p, r) for p, r, i in rows}
    assert all(r == 1 for _, r in got.values())
    for i in range(n):
        allowed = [j for j in range(m) if open_mask[j] and lat[i, j] <= 8.0]
        if not allowed:
            assert i not in got
            continue
        want = min(allowed, key=lambda j: (lat[i, j], j))
        p = got[i][0]
        assert data.pair_i[p] == i and data.pair_j[p] == want
        assert data.latency_ms[p] == lat[i, want]
    assert [i for _, _, i in rows] == sorted(got)  # rows in demand order
