"""The Lagrangian solver (bound, reduced MIP) against exhaustive enumeration.

Small random instances: the uncapacitated cost objective (with SLA-pruned pairs, fixed and
variable costs, a latency penalty, site counts, must-open and forbidden sites) must reach the
enumerated optimum and say ``optimal``; the percentile SLA's reduced MIP, started from a feasible
open set, too; and the Lagrangian bound (any multipliers) must never exceed the enumerated
optimum with a capacity (split or single sourced) or a percentile SLA.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from oracle import brute, median_data

from placement.formulations import lagrangian
from placement.formulations.data import ModelData, nearest_assignments


def _data(rng: np.random.Generator, n: int, m: int, **kw: object) -> tuple[ModelData, np.ndarray]:
    lat = rng.integers(1, 80, size=(n, m)).astype(float)
    sla = kw.pop("sla", 60.0)
    w = rng.integers(1, 20, size=n).astype(float)
    fields: dict[str, object] = dict(
        fixed_usd=rng.integers(50, 400, size=m).astype(float),
        variable_usd_per_unit=rng.integers(0, 5, size=m).astype(float),
    )
    return median_data(lat, lat <= sla, w, None, **(fields | kw))


def _sizes(data: ModelData) -> range | list[int]:
    if data.n_sites_exact is not None:
        return [data.n_sites_exact]
    lo = max(1, data.min_sites or 1)
    hi = data.max_sites if data.max_sites is not None else data.n_sites
    return range(lo, hi + 1)


def _fixings(data: ModelData) -> dict[str, list[int]]:
    return {
        "must": list(np.flatnonzero(data.must_open)),
        "forbidden": list(np.flatnonzero(data.forbidden)),
    }


COUNTS = [{}, {"max_sites": 3}, {"min_sites": 2}, {"n_sites_exact": 2}]


@pytest.mark.parametrize("seed", range(24))
def test_uncapacitated_cost_reaches_the_enumerated_optimum(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(6, 14)), int(rng.integers(3, 7))
    kw: dict = dict(COUNTS[seed % 4])
    kw["latency_penalty_usd_per_unit_ms"] = float(rng.choice([0.0, 0.05, 0.5]))
    if seed % 3 == 0:
        must = np.zeros(m, dtype=bool)
        must[0] = True
        kw["must_open"] = must
    if seed % 5 == 1:
        forb = np.zeros(m, dtype=bool)
        forb[m - 1] = True
        kw["forbidden"] = forb
    data, lat = _data(rng, n, m, objective="cost", **kw)
    expected = brute(
        lat,
        data.weight,
        _sizes(data),
        **_fixings(data),
        fixed=data.fixed_usd,
        objective="cost",
        var_cost=data.variable_usd_per_unit,
        penalty=data.latency_penalty_usd_per_unit_ms,
    )
    assert lagrangian.lagrangian_applies(data)
    res = lagrangian.solve_lagrangian(data, deadline=time.perf_counter() + 60)
    if math.isinf(expected):
        assert res.status in ("infeasible", "no_solution")
        return
    assert res.status == "optimal", res.stats
    assert res.objective == pytest.approx(expected, rel=1e-7)
    assert res.bound <= res.objective + 1e-9
    # the rows serve every demand point once, from open sites only
    rows = np.asarray(res.rows)
    assert np.bincount(rows[:, 2].astype(int), weights=rows[:, 3], minlength=n) == pytest.approx(1)
    assert res.open_mask[data.pair_j[rows[:, 0].astype(int)]].all()


def _percentile_data(seed: int) -> tuple[ModelData, np.ndarray]:
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(8, 14)), int(rng.integers(4, 7))
    return _data(
        rng, n, m, sla=200.0, objective="median", n_sites_exact=2, sla_ms=30.0, sla_share=0.5
    )


def _brute_percentile(data: ModelData, lat: np.ndarray) -> tuple[float, np.ndarray | None]:
    share = data.weight / data.total_weight
    best, arg = math.inf, None
    for s in itertools.combinations(range(data.n_sites), data.n_sites_exact):
        d = lat[:, list(s)].min(axis=1)
        if share[d <= data.sla_ms].sum() >= data.sla_share - 1e-12:
            val = float(share @ d)
            if val < best:
                best, arg = val, np.isin(np.arange(data.n_sites), s)
    return best, arg


@pytest.mark.parametrize("seed", range(16))
def test_percentile_reduced_mip_proves_the_enumerated_optimum(seed):
    data, lat = _percentile_data(seed)
    best, _ = _brute_percentile(data, lat)
    if math.isinf(best):
        pytest.skip("no open pair meets the share")
    # start from the worst feasible open set: the reduction must keep the optimum
    share = data.weight / data.total_weight
    worst, start = -math.inf, None
    for s in itertools.combinations(range(data.n_sites), data.n_sites_exact):
        d = lat[:, list(s)].min(axis=1)
        if share[d <= data.sla_ms].sum() >= data.sla_share and share @ d > worst:
            worst, start = float(share @ d), np.isin(np.arange(data.n_sites), s)
    rows = [(p, r, i, 1.0) for p, r, i in nearest_assignments(data, start)]
    res = lagrangian.solve_lagrangian(
        data, deadline=time.perf_counter() + 60, incumbent=(start, rows, worst), rho=1.0
    )
    assert res.status == "optimal", res.stats
    assert res.objective == pytest.approx(best, rel=1e-7)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("case", ["capacity", "single", "percentile"])
def test_lagrangian_bound_never_exceeds_the_optimum(seed, case):
    rng = np.random.default_rng(1000 + seed)
    if case == "percentile":
        data, lat = _percentile_data(seed)
        best, _ = _brute_percentile(data, lat)
    else:
        n, m = int(rng.integers(6, 10)), int(rng.integers(3, 6))
        data, lat = _data(rng, n, m, sla=200.0, objective="median", n_sites_exact=2)
        cap = np.full(m, 0.6 * data.total_weight)
        data = ModelData(
            **{
                **{f: getattr(data, f) for f in data.__dataclass_fields__},
                "capacity": cap,
                "single_sourcing": case == "single",
                # a demand point of zero weight takes no capacity (seed 0, 3, ...)
                "weight": np.where((np.arange(n) == 0) & (seed % 3 == 0), 0.0, data.weight),
            }
        )
        if case == "capacity":
            best = brute(lat, data.weight, [2], cap=cap)
        else:
            best = math.inf
            share = data.weight / data.total_weight
            for s in itertools.combinations(range(m), 2):
                for pick in itertools.product(s, repeat=data.n_demand):
                    load = np.bincount(pick, weights=data.weight, minlength=m)
                    if (load <= cap + 1e-9).all():
                        best = min(best, float(share @ lat[np.arange(data.n_demand), pick]))
    if math.isinf(best):
        pytest.skip("infeasible instance")
    arr = lagrangian._Arrays(data)
    for trial in range(20):
        u = rng.normal(0, 30, size=data.n_demand) * arr.s
        rho = float(rng.uniform(0, 50)) if trial % 2 else 0.0
        lb, *_ = lagrangian.lagrangian_bound(arr, u, rho)
        assert lb <= best + 1e-9
    # and the ascent's bound too, from the solver
    res = lagrangian.solve_lagrangian(data, deadline=time.perf_counter() + 30)
    assert res.lp_bound <= best + 1e-9


@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_large_capacity_problems_get_the_incumbent_and_the_lagrangian_bound(
    monkeypatch, seed, single
):
    # the route of the world instance (>= LAGRANGIAN_CAPACITY_MIN_PAIRS pairs) on a small one
    from test_relax import _problem

    from placement.formulations import registry

    prob, _, w = _problem(seed)
    tight = prob.replace(capacity=0.36 * float(w.sum()), single_sourcing=single)
    pulp = tight.solve(method="pulp")
    monkeypatch.setattr(registry, "LAGRANGIAN_CAPACITY_MIN_PAIRS", 0)
    res = tight.solve()
    assert res.solver["method"] == "lagrangian-flp"
    assert "Lagrangian bound" in res.solver["relaxation"]
    assert pulp.status == "optimal" and res.status in ("optimal", "feasible")
    assert res.objective >= pulp.objective * (1 - 1e-9)
    assert res.best_bound <= pulp.objective * (1 + 1e-9)
    free = prob.solve().objective
    assert res.best_bound >= free * (1 - 1e-9)  # at least the relaxation's bound


@pytest.mark.parametrize("seed", range(3))
def test_large_capacity_with_backups_gets_a_feasible_incumbent_and_the_strong_lp_bound(
    monkeypatch, seed
):
    from test_relax import _problem

    from placement.formulations import registry

    prob, _, w = _problem(seed, redundancy=2, failure_domain="provider")
    tight = prob.replace(capacity=0.36 * float(w.sum()))
    pulp = tight.solve(method="pulp")
    monkeypatch.setattr(registry, "LAGRANGIAN_CAPACITY_MIN_PAIRS", 0)
    res = tight.solve()
    free = prob.solve()
    assert pulp.status == "optimal" and free.status == "optimal"
    # no time limit: the strong LP with capacity and backups (cfl_redundant_lp) bounds it and
    # its site branch and bound ends at PuLP's optimum, proven
    assert "strong LP with capacity and backups proven" in res.solver["relaxation"]
    assert "site branch and bound proven" in res.solver["relaxation"]
    assert res.status == "optimal"
    assert res.objective == pytest.approx(pulp.objective, rel=1e-5)
    assert res.objective >= pulp.objective * (1 - 1e-9)
    assert free.objective * (1 - 1e-9) <= res.best_bound <= pulp.objective * (1 + 1e-9)
    # a short limit: the LP is not started, the incumbent's open set is valued exactly
    monkeypatch.setattr(registry, "CAPRED_LP_CPU_S_PER_PAIR", 1e6)
    short = tight.solve(time_limit_s=30)
    assert "strong LP with capacity and backups skipped" in short.solver["relaxation"]
    if short.status == "feasible":  # the clock, in words (not the route's raw status)
        assert "stopped by the time limit (30 s)" in short.message, short.message
        assert "solver status" not in short.message
    assert short.objective >= pulp.objective * (1 - 1e-9)
    assert free.objective * (1 - 1e-9) <= short.best_bound <= pulp.objective * (1 + 1e-9)
    # the incumbent meets every constraint: primary loads within the capacity, backups in
    # another provider than the primary
    a = res.assignments.assign(load=lambda t: t["weight"] * t["share"])
    load = a[a["rank"] == 1].groupby("site_id")["load"].sum()
    assert len(load) and (load <= 0.36 * float(w.sum()) * (1 + 1e-9)).all()
    provider = {f"s{j}": "aaaabbcc"[j] for j in range(8)}
    a["provider"] = a["site_id"].map(provider)
    assert (a.groupby("demand_id")["provider"].nunique() == 2).all()
    assert a.groupby(["demand_id", "rank"])["share"].sum().to_numpy() == pytest.approx(1.0)


def test_pulp_is_skipped_only_where_measured_useless(monkeypatch):
    from test_relax import _problem

    from placement.formulations import registry
    from placement.formulations.contract import SolveRequest
    from placement.solve import SolverOptions

    prob, _, w = _problem(0)
    pct = prob.replace(sla_ms=30.0, sla_share=0.6).model_data()
    cap2 = prob.replace(capacity=0.5 * float(w.sum()), redundancy=2).model_data()
    cap1 = prob.replace(capacity=0.5 * float(w.sum())).model_data()
    short = SolveRequest.from_options(SolverOptions(time_limit_s=60))
    long = SolveRequest.from_options(SolverOptions(time_limit_s=600))
    free = SolveRequest.from_options(SolverOptions())
    # small problems: PuLP proves them
    assert registry._pulp_too_big(pct, short) is None
    assert registry._pulp_too_big(cap2, short) is None
    monkeypatch.setattr(registry, "LAGRANGIAN_CAPACITY_MIN_PAIRS", 0)
    assert "percentile" in registry._pulp_too_big(pct, short)
    assert registry._pulp_too_big(pct, long) is None
    assert registry._pulp_too_big(pct, free) is None
    assert "backups" in registry._pulp_too_big(cap2, long)
    assert registry._pulp_too_big(cap1, short) is None  # the Lagrangian route instead


def _brute_weighted(data: ModelData, lat: np.ndarray) -> float:
    """min over open sets of Σ F + Σ_i min_j (V_j w_i + λ w_i d_ij / W): the weighted objective."""
    w, total = data.weight, data.weight.sum()
    per_pair = data.variable_usd_per_unit[None, :] * w[:, None] + (
        data.latency_weight_usd_per_ms * w[:, None] * lat / total
    )
    best = math.inf
    fix = _fixings(data)
    for k in _sizes(data):
        for s in itertools.combinations(range(data.n_sites), k):
            if not set(fix["must"]) <= set(s) or set(fix["forbidden"]) & set(s):
                continue
            cost = per_pair[:, list(s)].min(axis=1)
            if np.isfinite(cost).all():
                best = min(best, float(data.fixed_usd[list(s)].sum() + cost.sum()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_weighted_objective_is_the_cost_objective_with_a_latency_penalty(seed):
    rng = np.random.default_rng(500 + seed)
    n, m = int(rng.integers(6, 14)), int(rng.integers(3, 7))
    kw: dict = dict(COUNTS[seed % 4])
    kw["latency_weight_usd_per_ms"] = float(rng.choice([10.0, 200.0, 3000.0]))
    data, lat = _data(rng, n, m, objective="weighted", **kw)
    expected = _brute_weighted(data, lat)
    as_cost = lagrangian.weighted_as_cost(data)
    assert as_cost.objective == "cost" and as_cost.latency_weight_usd_per_ms == 0.0
    assert as_cost.latency_penalty_usd_per_unit_ms == pytest.approx(
        data.latency_weight_usd_per_ms / data.weight.sum()
    )
    assert lagrangian.lagrangian_applies(data)
    res = lagrangian.solve_lagrangian(data, deadline=time.perf_counter() + 60)
    if math.isinf(expected):
        assert res.status in ("infeasible", "no_solution")
        return
    assert res.status == "optimal", res.stats
    assert res.objective == pytest.approx(expected, rel=1e-7)
    assert res.bound <= res.objective * (1 + 1e-9)
