"""The exact center solver with one backup (redundancy 2) against enumeration and PuLP.

The oracle enumerates every admissible open set and, for each demand point, every primary and
backup in distinct failure domains (it shares no code with either formulation).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from test_redundant import _problem

from placement.formulations.redundant_center import center_assignment, solve_redundant_center


def _instance(seed, *, n=7, m=7, n_dom=3, **kwargs):
    rng = np.random.default_rng(seed)
    lat = rng.integers(1, 80, size=(n, m)).astype(float)
    w = rng.integers(0, 10, size=n).astype(float)
    dom = rng.integers(0, n_dom, size=m)
    prob = _problem(lat, w, dom, redundancy=2, **kwargs).replace(objective="center")
    return prob, lat, dom


def _oracle(lat, dom, *, p, sla=None, backup_sla=None, must=(), forbidden=()):
    """Smallest worst primary latency over all open sets of p sites, or None if infeasible."""
    n, m = lat.shape
    prim_ok = lat <= (sla if sla is not None else np.inf)
    back_ok = lat <= (backup_sla if backup_sla is not None else np.inf)
    best = None
    for s in itertools.combinations(range(m), p):
        if not set(must) <= set(s) or set(forbidden) & set(s):
            continue
        worst = 0.0
        for i in range(n):
            ci = min(
                (
                    lat[i, a]
                    for a in s
                    for b in s
                    if prim_ok[i, a] and back_ok[i, b] and dom[a] != dom[b]
                ),
                default=math.inf,
            )
            worst = max(worst, ci)
        if math.isfinite(worst) and (best is None or worst < best):
            best = worst
    return best


def _check_rows(res, lat, dom, sla, backup_sla):
    """Every point has an open primary within the objective and an open backup elsewhere."""
    a = res.assignments
    open_ids = set(res.open_sites["site_id"])
    assert set(a["site_id"]) <= open_ids
    for d, grp in a.groupby("demand_id"):
        i = int(str(d)[1:])
        ranks = dict(zip(grp["rank"], grp["site_id"], strict=True))
        assert set(ranks) == {1, 2}
        j1, j2 = int(ranks[1][1:]), int(ranks[2][1:])
        assert dom[j1] != dom[j2]
        assert lat[i, j1] <= res.objective + 1e-9
        assert sla is None or lat[i, j1] <= sla
        assert backup_sla is None or lat[i, j2] <= backup_sla
    assert a.loc[a["rank"] == 1, "latency_ms"].max() == pytest.approx(res.objective)


@pytest.mark.parametrize("seed", range(30))
def test_matches_enumeration_and_pulp(seed):
    rng = np.random.default_rng(1000 + seed)
    n_dom = int(rng.integers(2, 5))
    p = int(rng.integers(2, 5))
    sla = None if rng.random() < 0.4 else float(rng.integers(40, 75))
    backup_sla = None if rng.random() < 0.5 else float(rng.integers(50, 80))
    must = (int(rng.integers(0, 7)),) if rng.random() < 0.2 else ()
    forbidden = tuple(j for j in (int(rng.integers(0, 7)),) if j not in must and rng.random() < 0.3)
    prob, lat, dom = _instance(
        seed,
        n_dom=n_dom,
        n_sites=p,
        max_latency_ms=sla,
        backup_max_latency_ms=backup_sla,
        must_open=[f"s{j}" for j in must],
        forbidden=[f"s{j}" for j in forbidden],
    )
    expect = _oracle(lat, dom, p=p, sla=sla, backup_sla=backup_sla, must=must, forbidden=forbidden)
    ours = prob.solve()
    if expect is None:
        assert ours.status == "infeasible"
        assert prob.solve(method="pulp").status == "infeasible"
        return
    assert ours.solver["method"] == "fast-redundant-center"
    assert ours.status == "optimal"
    assert ours.objective == pytest.approx(expect)
    assert ours.best_bound == pytest.approx(expect)
    assert ours.gap == 0.0
    assert len(ours.open_sites) == p
    _check_rows(ours, lat, dom, sla, backup_sla)
    pulp = prob.solve(method="pulp")
    assert pulp.status == "optimal"
    assert pulp.objective == pytest.approx(expect)


def test_backup_in_the_same_domain_is_not_enough():
    # point 0 is near s0 and s1 (zone 0) and far from s2 (zone 1): with both zone-0 sites open it
    # still needs a zone-1 backup, so the best pair is {s0, s2} (worst primary 10 via s0)
    lat = np.array([[10.0, 11.0, 70.0], [50.0, 50.0, 20.0]])
    dom = np.array([0, 0, 1])
    prob = _problem(lat, np.ones(2), dom, redundancy=2, n_sites=2).replace(objective="center")
    res = prob.solve()
    assert res.status == "optimal"
    assert set(res.open_sites["site_id"]) in ({"s0", "s2"}, {"s1", "s2"})
    assert res.objective == pytest.approx(_oracle(lat, dom, p=2))


def test_infeasible_when_one_domain_only():
    lat = np.array([[10.0, 11.0], [20.0, 5.0]])
    prob = _problem(lat, np.ones(2), np.array([0, 0]), redundancy=2, n_sites=2).replace(
        objective="center"
    )
    res = prob.solve()
    assert res.status == "infeasible"


def test_assignment_of_a_given_set():
    prob, *_ = _instance(3, n_dom=3, n_sites=3)
    data = prob.model_data()
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[[0, 1, 2, 3]] = True
    worst, rows = center_assignment(data, mask)
    if math.isfinite(worst):
        assert {r[1] for r in rows} == {1, 2}
        prim = [data.latency_ms[p] for p, r, _, _ in rows if r == 1]
        assert max(prim) == pytest.approx(worst)
    else:
        assert rows == []


def test_other_redundancy_is_refused():
    prob, *_ = _instance(1, n_sites=3)
    data = prob.replace(redundancy=3).model_data()
    with pytest.raises(ValueError, match="redundancy must be 2"):
        solve_redundant_center(data)


def test_tiny_time_limit_is_honest():
    prob, *_ = _instance(5, n=12, m=10, n_dom=3, n_sites=3)
    res = prob.solve(time_limit_s=1e-6)
    assert res.status in ("optimal", "feasible", "no_solution")
    if res.status == "feasible":
        assert res.best_bound <= res.objective
        assert res.gap == pytest.approx((res.objective - res.best_bound) / res.objective)
