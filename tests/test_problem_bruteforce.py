"""Property tests: on small random instances every objective matches exhaustive enumeration.

The oracle is independent of the PuLP formulations: it enumerates every admissible set of open
sites and, for each, solves the assignment exactly — by inspection where the answer is the
nearest site, and otherwise as a dense linear program with ``scipy.optimize.linprog``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import brute as _brute
from oracle import subsets as _subsets

from placement.problem import Problem

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def instances(draw, max_n=6, max_m=5):
    n = draw(st.integers(2, max_n))
    m = draw(st.integers(2, max_m))
    lat = np.array(
        draw(st.lists(st.integers(1, 60), min_size=n * m, max_size=n * m)), dtype=float
    ).reshape(n, m)
    w = np.array(draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)), dtype=float)
    return lat, w


def _check(result, expected):
    if math.isinf(expected):
        assert result.status == "infeasible", result.message
    else:
        assert result.status == "optimal", result.message
        assert result.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)


@SETTINGS
@given(inst=instances(), p=st.integers(1, 3), method=st.sampled_from(["pulp", "auto"]))
def test_median_matches_enumeration(inst, p, method):
    lat, w = inst
    p = min(p, lat.shape[1])
    expected = _brute(lat, w, [p])
    r = Problem.from_cost_matrix(lat, weights=w, objective="median", n_sites=p).solve(method=method)
    _check(r, expected)
    # the reported mean latency is the objective for a single-rank median
    assert r.metrics["mean_latency_ms"] == pytest.approx(r.objective, rel=1e-9)


@SETTINGS
@given(inst=instances(), p=st.integers(1, 3), sla=st.integers(10, 60))
def test_median_with_hard_sla_matches_enumeration(inst, p, sla):
    lat, w = inst
    p = min(p, lat.shape[1])
    masked = np.where(lat <= sla, lat, np.inf)
    expected = _brute(masked, w, [p])
    r = Problem.from_cost_matrix(
        lat, weights=w, objective="median", n_sites=p, max_latency_ms=sla
    ).solve(method="pulp")
    _check(r, expected)
    if r.ok:
        assert r.metrics["max_latency_ms"] <= sla


@SETTINGS
@given(
    inst=instances(), p=st.integers(1, 3), sla=st.integers(10, 50), q=st.sampled_from([0.5, 0.8])
)
def test_percentile_sla_matches_enumeration(inst, p, sla, q):
    lat, w = inst
    p = min(p, lat.shape[1])
    expected = _brute(lat, w, [p], sla=sla, share=q)
    r = Problem.from_cost_matrix(
        lat, weights=w, objective="median", n_sites=p, sla_ms=sla, sla_share=q
    ).solve()
    _check(r, expected)
    if r.ok:
        assert r.metrics["share_within_sla"] >= q - 1e-9


@SETTINGS
@given(inst=instances(), p=st.integers(1, 3), method=st.sampled_from(["pulp", "auto"]))
def test_center_matches_enumeration(inst, p, method):
    lat, w = inst
    p = min(p, lat.shape[1])
    expected = min(lat[:, list(S)].min(axis=1).max() for S in _subsets(lat.shape[1], [p]))
    r = Problem.from_cost_matrix(lat, weights=w, objective="center", n_sites=p).solve(method=method)
    _check(r, expected)
    assert r.metrics["max_latency_ms"] == pytest.approx(expected)


@SETTINGS
@given(inst=instances(), p=st.integers(1, 3), sla=st.integers(5, 40))
def test_coverage_matches_enumeration(inst, p, sla):
    lat, w = inst
    p = min(p, lat.shape[1])
    expected = max(
        w[(lat[:, list(S)] <= sla).any(axis=1)].sum() / w.sum() for S in _subsets(lat.shape[1], [p])
    )
    r = Problem.from_cost_matrix(
        lat, weights=w, objective="coverage", n_sites=p, sla_ms=sla
    ).solve()
    _check(r, expected)
    assert r.metrics["share_within_sla"] == pytest.approx(expected)


@SETTINGS
@given(inst=instances(), sla=st.integers(10, 60))
def test_set_cover_matches_enumeration(inst, sla):
    lat, w = inst
    m = lat.shape[1]
    sizes = [
        len(S) for S in _subsets(m, range(1, m + 1)) if (lat[:, list(S)] <= sla).any(axis=1).all()
    ]
    expected = min(sizes) if sizes else math.inf
    r = Problem.from_cost_matrix(lat, weights=w, objective="set-cover", max_latency_ms=sla).solve()
    _check(r, expected)
    if r.ok:
        assert r.metrics["n_open"] == expected


@SETTINGS
@given(
    inst=instances(),
    data=st.data(),
    penalty=st.sampled_from([0.0, 0.5]),
    capacitated=st.booleans(),
)
def test_cost_objective_matches_enumeration(inst, data, penalty, capacitated):
    lat, w = inst
    m = lat.shape[1]
    fixed = np.array(data.draw(st.lists(st.integers(0, 200), min_size=m, max_size=m)), float)
    var = np.array(data.draw(st.lists(st.integers(0, 5), min_size=m, max_size=m)), float)
    cap = (
        np.array(data.draw(st.lists(st.integers(5, 30), min_size=m, max_size=m)), float)
        if capacitated
        else None
    )
    expected = _brute(
        lat,
        w,
        range(1, m + 1),
        objective="cost",
        var_cost=var,
        penalty=penalty,
        cap=cap,
        fixed=fixed,
    )
    sites_extra = {"fixed_cost": fixed, "capacity": cap}
    prob = Problem.from_cost_matrix(
        lat,
        weights=w,
        objective="cost",
        latency_penalty_usd_per_unit_ms=penalty,
        assignment_cost=var[None, :] * w[:, None],
        **sites_extra,
    )
    _check(prob.solve(), expected)


@SETTINGS
@given(inst=instances(max_n=5, max_m=5), p=st.integers(2, 4), beta=st.sampled_from([0.0, 0.5, 1.0]))
def test_redundancy_two_with_domains_matches_enumeration(inst, p, beta):
    lat, w = inst
    m = lat.shape[1]
    p = min(p, m)
    domain = np.arange(m) % 3  # sites 0 and 3 share a domain, and 1 and 4
    expected = _brute(lat, w, [p], k=2, domain=domain, beta=beta)
    prob = Problem.from_cost_matrix(lat, weights=w, objective="median", n_sites=p)
    sites = prob.sites.assign(zone=[f"z{d}" for d in domain])
    table = prob.latency
    r = Problem(
        sites,
        prob.demand,
        latency=table,
        objective="median",
        n_sites=p,
        redundancy=2,
        failure_domain="zone",
        backup_weight=beta,
    ).solve()
    _check(r, expected)
    if r.ok:
        pairs = r.assignments.merge(sites[["site_id", "zone"]], on="site_id")
        share = pairs.groupby(["demand_id", "zone"])["share"].sum()
        assert (share <= 1 + 1e-6).all()


@SETTINGS
@given(
    inst=instances(), p=st.integers(1, 3), data=st.data(), method=st.sampled_from(["pulp", "auto"])
)
def test_must_open_and_forbidden_match_enumeration(inst, p, data, method):
    lat, w = inst
    m = lat.shape[1]
    p = min(p, m - 1) if m > 1 else 1
    must = data.draw(st.sets(st.integers(0, m - 1), max_size=1))
    forbidden = data.draw(
        st.sets(st.integers(0, m - 1).filter(lambda j: j not in must), max_size=1)
    )
    if p > m - len(forbidden) or len(must) > p:
        return
    expected = _brute(lat, w, [p], must=tuple(must), forbidden=tuple(forbidden))
    r = Problem.from_cost_matrix(
        lat,
        weights=w,
        objective="median",
        n_sites=p,
        must_open=[f"s{j}" for j in must],
        forbidden=[f"s{j}" for j in forbidden],
    ).solve(method=method)
    _check(r, expected)
    assert {f"s{j}" for j in must} <= set(r.open_site_ids)
    assert not {f"s{j}" for j in forbidden} & set(r.open_site_ids)
