"""Problem: validation, infeasibility explanations, and one test per constraint showing it binds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placement.errors import ValidationError
from placement.problem import Problem
from placement.result import Result


def solve(line, **kw):
    sites, demand, table = line
    kw.setdefault("objective", "median")
    return Problem(sites, demand, latency=table, **kw).solve()


def test_median_result_tables(line):
    r = solve(line, n_sites=2)
    assert r.status == "optimal" and r.gap == pytest.approx(0.0, abs=1e-9)
    assert len(r.open_sites) == 2
    assert set(r.assignments.columns) >= {"demand_id", "site_id", "rank", "latency_ms", "share"}
    assert r.assignments["demand_id"].nunique() == 8
    assert r.open_sites["load"].sum() == pytest.approx(34.0)
    assert r.metrics["n_open"] == 2
    assert r.timings["build_s"] >= 0 and r.timings["solve_s"] >= 0


def test_more_sites_never_worse(line):
    values = [solve(line, n_sites=n).objective for n in (1, 2, 3, 6)]
    assert values == sorted(values, reverse=True)
    assert values[-1] == pytest.approx(
        np.average([2, 5, 3, 2, 5, 4, 2, 2], weights=[5, 3, 4, 6, 2, 7, 3, 4])
    )


def test_hard_sla_binds(line):
    free = solve(line, n_sites=2)
    tight = solve(line, n_sites=4, max_latency_ms=9)
    assert solve(line, n_sites=3, max_latency_ms=9).status == "infeasible"
    assert free.metrics["max_latency_ms"] > 9
    assert tight.metrics["max_latency_ms"] <= 9


def test_percentile_sla_binds(line):
    free = solve(line, n_sites=2, sla_ms=4)
    assert free.metrics["share_within_sla"] == pytest.approx(7 / 34)
    r = solve(line, n_sites=2, sla_ms=4, sla_share=0.35)
    assert r.metrics["share_within_sla"] >= 0.35
    assert r.objective > free.objective
    assert solve(line, n_sites=2, sla_ms=4, sla_share=0.4).status == "infeasible"


def test_capacity_binds(line):
    free = solve(line, n_sites=3)
    capped = solve(line, n_sites=3, capacity=12.0)
    assert free.open_sites["load"].max() > 12
    assert capped.open_sites["load"].max() <= 12 + 1e-6
    assert capped.objective > free.objective


def test_capacity_column_and_single_sourcing(line):
    r = solve(line, n_sites=4, capacity="capacity", single_sourcing=True)
    assert r.status == "optimal"
    assert set(r.assignments["share"].round(9)) == {1.0}
    assert r.open_sites["load"].max() <= 10 + 1e-6


def test_redundancy_two_in_distinct_providers(line):
    r = solve(line, n_sites=3, redundancy=2, failure_domain="provider")
    a = r.assignments.merge(line[0][["site_id", "provider"]], on="site_id")
    assert set(a["rank"]) == {1, 2}
    both = a.groupby("demand_id")["provider"].nunique()
    assert (both == 2).all()
    assert r.metrics["backup_mean_latency_ms"] >= r.metrics["mean_latency_ms"]


def test_backup_sla_holds_after_losing_any_site(line):
    r = solve(line, n_sites=5, redundancy=2, max_latency_ms=16, backup_max_latency_ms=16)
    assert (
        solve(line, n_sites=4, redundancy=2, max_latency_ms=16, backup_max_latency_ms=16).status
        == "infeasible"
    )
    assert r.status == "optimal"
    backups = r.assignments[r.assignments["rank"] == 2]
    assert backups["latency_ms"].max() <= 16
    # losing any one open site still leaves every point a site within 16 ms
    lat = line[2].set_index(["demand_id", "site_id"])["latency_ms"]
    for lost in r.open_site_ids:
        rest = [s for s in r.open_site_ids if s != lost]
        for d in line[1]["demand_id"]:
            assert min(lat[(d, s)] for s in rest) <= 16


def test_residency_binds(line):
    free = solve(line, n_sites=2)
    r = solve(line, n_sites=3, residency={"DE": ["DE"], "ES": ["ES"]})
    a = r.assignments.merge(line[1][["demand_id", "country_code"]], on="demand_id").merge(
        line[0][["site_id", "country_code"]], on="site_id", suffixes=("_d", "_s")
    )
    de = a[a["country_code_d"] == "DE"]
    assert (de["country_code_s"] == "DE").all()
    es = a[a["country_code_d"] == "ES"]
    assert (es["country_code_s"] == "ES").all()
    assert r.status == "optimal" and free.status == "optimal"


def test_must_open_and_forbidden_bind(line):
    free = solve(line, n_sites=2)
    forced = solve(line, n_sites=2, must_open=["S0"], forbidden=[free.open_site_ids[0]])
    assert "S0" in forced.open_site_ids
    assert free.open_site_ids[0] not in forced.open_site_ids
    assert forced.objective > free.objective


def test_provider_limit_binds(line):
    free = solve(line, n_sites=2)
    providers = line[0].set_index("site_id").loc[free.open_site_ids, "provider"]
    limited = solve(line, n_sites=2, max_sites_per_provider={"aws": 0})
    assert "aws" in set(providers)
    assert set(line[0].set_index("site_id").loc[limited.open_site_ids, "provider"]) == {"gcp"}
    assert limited.objective >= free.objective


def test_budget_binds(line):
    free = solve(line, n_sites=3)
    cost_free = free.metrics["total_cost_usd_per_year"]
    r = solve(line, max_sites=3, budget_usd_per_year=130)
    assert r.metrics["total_cost_usd_per_year"] <= 130
    assert cost_free > 130
    assert r.objective > free.objective


def test_cost_objective_trades_latency(line):
    cheap = solve(line, objective="cost")
    assert cheap.open_site_ids in (["S2"], ["S3"])
    assert cheap.objective == pytest.approx(60.0)
    pricey = solve(line, objective="cost", latency_penalty_usd_per_unit_ms=5.0)
    assert len(pricey.open_site_ids) > 1


def test_weighted_objective_needs_weight_and_moves(line):
    with pytest.raises(ValidationError, match="latency_weight_usd_per_ms"):
        solve(line, objective="weighted")
    low = solve(line, objective="weighted", latency_weight_usd_per_ms=0.0)
    high = solve(line, objective="weighted", latency_weight_usd_per_ms=1000.0)
    assert low.metrics["n_open"] < high.metrics["n_open"]
    assert high.metrics["mean_latency_ms"] < low.metrics["mean_latency_ms"]


def test_min_sites_binds(line):
    r = solve(line, objective="cost", min_sites=3)
    assert r.metrics["n_open"] == 3


def test_infeasible_sla_explained_before_solving(line):
    r = solve(line, n_sites=2, max_latency_ms=1.5)
    assert r.status == "infeasible"
    assert "have no candidate site within 1.5 ms" in r.message
    assert "Hamburg" in r.message


def test_infeasible_redundancy_explained(line):
    r = solve(line, n_sites=3, redundancy=3, failure_domain="provider")
    assert r.status == "infeasible"
    assert "redundancy 3 needs 3 failure domains (provider)" in r.message
    assert "only 2 exist" in r.message


def test_infeasible_capacity_explained(line):
    r = solve(line, n_sites=2, capacity=10.0)
    assert r.status == "infeasible"
    assert "below the total demand" in r.message


def test_infeasible_residency_says_how_many_sites(line):
    # 2 sites, 3 countries kept apart: the residency rules alone take 3 sites
    r = solve(line, n_sites=2, residency={"DE": ["DE"], "FR": ["FR"], "ES": ["ES"]})
    assert r.status == "infeasible"
    assert r.message == (
        "serving every demand point from an open site that its residency rule allows takes "
        "3 sites, 2 allowed"
    )


def test_infeasible_after_solve_is_explained(line):
    # each check passes alone, the combination cannot hold: 4 sites of capacity 10 hold the
    # demand (34) and cover the 3 countries, but France (12) and Spain (14) kept on their own
    # sites need 2 sites each, Germany 1
    r = solve(line, n_sites=4, capacity=10.0, residency={"DE": ["DE"], "FR": ["FR"], "ES": ["ES"]})
    assert r.status == "infeasible"
    assert "cannot all hold" in r.message and "data residency" in r.message
    assert "site capacities" in r.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"objective": "fastest"}, "objective"),
        ({"n_sites": 0}, "n_sites"),
        ({"n_sites": 7}, "n_sites"),
        ({"n_sites": 2.5}, "n_sites"),
        ({"n_sites": 2, "max_latency_ms": -5}, "max_latency_ms"),
        ({"n_sites": 2, "sla_share": 1.5, "sla_ms": 5}, "sla_share"),
        ({"n_sites": 2, "sla_share": 0.5}, "sla_ms"),
        ({"n_sites": 2, "redundancy": 0}, "redundancy"),
        ({"n_sites": 2, "redundancy": 2, "failure_domain": "rack"}, "failure_domain"),
        ({"n_sites": 2, "must_open": ["S9"]}, "must_open"),
        ({"n_sites": 2, "must_open": ["S1"], "forbidden": ["S1"]}, "must_open"),
        ({"n_sites": 1, "must_open": ["S1", "S2"]}, "must_open"),
        ({"n_sites": 2, "capacity": "cap_gbps"}, "capacity"),
        ({"n_sites": 2, "backup_weight": 2}, "backup_weight"),
        ({}, "n_sites"),
        ({"objective": "coverage", "n_sites": 2}, "sla_ms"),
        ({"objective": "set-cover"}, "max_latency_ms"),
        ({"n_sites": 5, "forbidden": ["S0", "S1"]}, "n_sites"),
    ],
)
def test_bad_parameters_name_the_field(line, kwargs, field):
    sites, demand, table = line
    kwargs.setdefault("objective", "median")
    with pytest.raises(ValidationError) as err:
        Problem(sites, demand, latency=table, **kwargs)
    assert err.value.field == field


def test_latency_table_with_unknown_site_is_rejected(line):
    sites, demand, table = line
    bad = pd.concat([table, pd.DataFrame([{"demand_id": "D0", "site_id": "S99", "latency_ms": 3}])])
    with pytest.raises(ValidationError, match="S99"):
        Problem(sites, demand, latency=bad, n_sites=2).solve()


def test_latency_table_negative_value_is_rejected(line):
    sites, demand, table = line
    bad = table.copy()
    bad.loc[3, "latency_ms"] = -1
    with pytest.raises(ValidationError, match="latency_ms"):
        Problem(sites, demand, latency=bad, n_sites=2).solve()


def test_pairs_missing_from_table_are_not_allowed(line):
    sites, demand, table = line
    only_far = table[~((table["demand_id"] == "D0") & (table["site_id"] == "S0"))]
    r = Problem(sites, demand, latency=only_far, n_sites=6).solve()
    d0 = r.assignments[r.assignments["demand_id"] == "D0"]
    assert d0["site_id"].tolist() == ["S1"]


def test_json_round_trip(line, tmp_path):
    r = solve(line, n_sites=2, redundancy=2, failure_domain="provider")
    path = tmp_path / "r.json"
    r.to_json(path)
    back = Result.from_json(path)
    assert back.status == r.status and back.objective == pytest.approx(r.objective)
    assert back.open_site_ids == r.open_site_ids
    pd.testing.assert_frame_equal(
        back.assignments[["demand_id", "site_id", "rank"]],
        r.assignments[["demand_id", "site_id", "rank"]],
        check_dtype=False,
    )
    assert back.metrics == pytest.approx(r.metrics)
    assert back.params["redundancy"] == 2


def test_deterministic(line):
    a = solve(line, n_sites=3, redundancy=2, failure_domain="provider")
    b = solve(line, n_sites=3, redundancy=2, failure_domain="provider")
    assert a.open_site_ids == b.open_site_ids
    pd.testing.assert_frame_equal(a.assignments, b.assignments)


def test_cbc_agrees_with_highs(line):
    sites, demand, table = line
    p = Problem(sites, demand, latency=table, n_sites=3, capacity=12.0)
    assert p.solve(solver="cbc").objective == pytest.approx(p.solve().objective, rel=1e-6)


def test_repr_and_summary(line):
    sites, demand, table = line
    p = Problem(sites, demand, latency=table, n_sites=2, max_latency_ms=30)
    assert "objective='median'" in repr(p) and "n_sites=2" in repr(p)
    r = p.solve()
    assert "status: optimal" in r.summary()
    assert repr(r).startswith("Result(status='optimal'")


def test_time_limit_reports_feasible_with_gap(hard_problem):
    """A solve stopped by its time limit says so, with a positive gap, never 'optimal'."""
    r = hard_problem.solve(time_limit_s=0.5)
    assert r.status in ("feasible", "no_solution")
    if r.status == "feasible":
        assert r.gap > 0
        assert r.best_bound < r.objective
        assert "time limit" in r.message
    else:
        assert r.objective is None


def test_atomic_write_gives_usual_file_mode(tmp_path):
    import os

    from placement._io import atomic_write_text

    path = atomic_write_text(tmp_path / "out.txt", "hello")
    umask = os.umask(0)
    os.umask(umask)
    assert path.read_text() == "hello"
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)


@pytest.mark.parametrize("method", ["auto", "pulp"])
@pytest.mark.parametrize("objective", ["cost", "weighted", "set-cover"])
def test_must_open_and_forbidden_hold_in_every_pulp_formulation(line, objective, method):
    kwargs = {"latency_weight_usd_per_ms": 10.0} if objective == "weighted" else {}
    if objective == "set-cover":
        kwargs["max_latency_ms"] = 30
    sites, demand, table = line
    problem = Problem(
        sites,
        demand,
        latency=table,
        objective=objective,
        must_open=["S0", "S5"],
        forbidden=["S2"],
        **kwargs,
    )
    r = problem.solve(method=method)
    assert r.status == "optimal"
    assert {"S0", "S5"} <= set(r.open_site_ids)
    assert "S2" not in r.open_site_ids


@pytest.mark.parametrize("seed", range(6))
def test_weighted_objective_fast_equals_the_pulp_model(seed):
    """The weighted objective goes to lagrangian-flp (as the cost objective it equals term by
    term); its optimum and objective value are the PuLP model's."""
    rng = np.random.default_rng(40 + seed)
    lat = rng.uniform(2, 60, (14, 6)).round(1)
    fixed = rng.uniform(50, 400, 6).round(0)
    kw = {"max_sites": 3} if seed % 2 else {"max_latency_ms": 45.0}
    problem = Problem.from_cost_matrix(
        lat,
        objective="weighted",
        latency_weight_usd_per_ms=float(rng.choice([20.0, 300.0, 4000.0])),
        fixed_cost=fixed,
        **kw,
    )
    assert problem.solver_for() == "lagrangian-flp"
    fast, model = problem.solve(), problem.solve(method="pulp")
    assert fast.status == model.status == "optimal"
    assert fast.solver["method"] == "lagrangian-flp"
    assert fast.objective == pytest.approx(model.objective, rel=1e-7)
    assert fast.metrics["total_cost_usd_per_year"] + problem.latency_weight_usd_per_ms * (
        fast.metrics["mean_latency_ms"]
    ) == pytest.approx(fast.objective, rel=1e-7)


def test_replace_returns_a_new_validated_problem(line):
    sites, demand, table = line
    base = Problem(sites, demand, latency=table, n_sites=2)
    tighter = base.replace(n_sites=3, max_latency_ms=20)
    assert base.n_sites == 2 and base.max_latency_ms is None
    assert tighter.n_sites == 3 and tighter.max_latency_ms == 20
    assert tighter.solve().objective < base.solve().objective
    with pytest.raises(ValidationError) as err:
        base.replace(n_sites=99)
    assert err.value.field == "n_sites"
    with pytest.raises(ValidationError) as err:
        base.replace(sites_count=3)
    assert err.value.field == "sites_count"


def test_fast_solver_failure_falls_back_to_pulp(line, monkeypatch):
    from placement.errors import SolverError
    from placement.formulations import radius

    def broken(*args, **kwargs):
        raise SolverError("HiGHS LP status Unknown")

    monkeypatch.setattr(radius, "solve_pmedian", broken)
    sites, demand, table = line
    p = Problem(sites, demand, latency=table, n_sites=2)
    with pytest.warns(RuntimeWarning, match="PuLP model instead"):
        r = p.solve()
    assert r.status == "optimal" and r.solver["method"] == "pulp"
    with pytest.raises(SolverError):
        p.solve(method="fast")


def test_infeasible_fast_result_has_no_objective(line):
    r = solve(line, n_sites=1, max_latency_ms=20)
    assert r.status == "infeasible"
    assert r.objective is None
    assert (
        r.message
        == "serving every demand point from an open site within 20 ms takes 2 sites, 1 allowed"
    )


def _random_problem(seed, **kw):
    rng = np.random.default_rng(seed)
    n, m = 12, 7
    lat = rng.uniform(1, 50, (n, m)).round(1)
    w = rng.integers(1, 10, n).astype(float)
    fixed = rng.uniform(10, 100, m).round(1)
    return Problem.from_cost_matrix(lat, weights=w, fixed_cost=fixed, **kw)


_WARM_CASES = [
    {"objective": "median", "n_sites": 3},
    {"objective": "median", "max_sites": 3, "max_latency_ms": 35.0},
    {"objective": "center", "n_sites": 3},
    {"objective": "coverage", "n_sites": 2, "sla_ms": 15.0},
    {"objective": "set-cover", "max_latency_ms": 30.0},
    {"objective": "cost", "latency_penalty_usd_per_unit_ms": 0.5},
    {"objective": "weighted", "n_sites": 3, "latency_weight_usd_per_ms": 5.0},
    {"objective": "median", "n_sites": 3, "sla_ms": 20.0, "sla_share": 0.6},
    {"objective": "median", "n_sites": 3, "capacity": 25.0},
    {"objective": "median", "n_sites": 3, "capacity": 25.0, "single_sourcing": True},
    {"objective": "median", "n_sites": 3, "redundancy": 2},
    {"objective": "median", "min_sites": 2, "max_sites": 4, "budget_usd_per_year": 250.0},
]


@pytest.mark.parametrize("case", range(len(_WARM_CASES)))
@pytest.mark.parametrize("seed", range(3))
def test_warm_start_same_objective_as_cold(case, seed):
    """Every path (fast and PuLP): warm starts good or bad give the cold solve's objective."""
    prob = _random_problem(seed, **_WARM_CASES[case])
    rng = np.random.default_rng(seed)
    ids = list(prob.sites["site_id"])
    for method in ("auto", "pulp"):
        cold = prob.solve(method=method)
        assert cold.solver["warm_start"] is False
        starts = [cold, list(rng.choice(ids, 2, replace=False)), ids, ids[:1]]
        for start in starts:
            warm = prob.solve(method=method, warm_start=start)
            assert warm.status == cold.status
            if cold.status == "optimal":
                assert warm.objective == pytest.approx(cold.objective, rel=1e-7, abs=1e-9)
                assert warm.gap == pytest.approx(0.0, abs=1e-6)
        if cold.status == "optimal" and method == "auto" and cold.solver["method"] != "pulp":
            info = prob.solve(method=method, warm_start=cold).solver
            assert info["warm_start"] is True and info["warm_start_incumbent"] is not None


def test_warm_start_is_repaired_to_the_constraints(line):
    sites, demand, table = line
    prob = Problem(sites, demand, latency=table, n_sites=3, must_open=["S0"], forbidden=["S5"])
    cold = prob.solve()
    for method in ("auto", "pulp"):
        for start in (["S5"], ["S1", "S2", "S3", "S4", "S5"], ["S5", "S4", "S3"]):
            warm = prob.solve(method=method, warm_start=start)
            assert warm.status == "optimal"
            assert warm.objective == pytest.approx(cold.objective)
            opened = set(warm.open_sites["site_id"])
            assert len(opened) == 3 and "S0" in opened and "S5" not in opened
            assert warm.solver["warm_start"] and warm.solver["warm_start_repaired"]
    same = prob.solve(warm_start=cold)
    assert same.solver["warm_start"] and not same.solver["warm_start_repaired"]


def test_infeasible_warm_start_is_ignored(line):
    sites, demand, table = line
    prob = Problem(sites, demand, latency=table, n_sites=4, max_latency_ms=9)
    cold = prob.solve()
    for method in ("auto", "pulp"):
        # S0..S3 leave the far end (x = 41, 49) beyond 9 ms: no solution from this set
        warm = prob.solve(method=method, warm_start=["S0", "S1", "S2", "S3"])
        assert warm.status == "optimal"
        assert warm.objective == pytest.approx(cold.objective)
        if method == "pulp":  # no MIP start: the set serves no solution
            assert warm.solver["warm_start"] is False
    assert prob.solve(method="pulp", solver="cbc", warm_start=cold).objective == pytest.approx(
        cold.objective
    )


def test_warm_start_unknown_site_is_a_value_error(line):
    sites, demand, table = line
    prob = Problem(sites, demand, latency=table, n_sites=2)
    with pytest.raises(ValueError, match="nowhere") as err:
        prob.solve(warm_start=["S1", "nowhere"])
    assert isinstance(err.value, ValidationError) and err.value.field == "warm_start"
    with pytest.raises(ValidationError, match="warm_start"):
        prob.solve(warm_start=3)
    assert prob.solve(warm_start="S1").solver["warm_start"]  # one id as a string
    assert not prob.solve(warm_start=[]).solver["warm_start"]  # nothing to start from


def test_warm_start_with_cbc_and_round_trip(line, tmp_path):
    sites, demand, table = line
    prob = Problem(sites, demand, latency=table, n_sites=3, objective="center")
    cold = prob.solve(method="pulp", solver="cbc")
    warm = prob.solve(method="pulp", solver="cbc", warm_start=["S0", "S2", "S4"])
    assert warm.status == "optimal" and warm.solver["warm_start"]
    assert warm.objective == pytest.approx(cold.objective)
    warm.to_json(tmp_path / "r.json")
    assert Result.from_json(tmp_path / "r.json").solver["warm_start"] is True


def test_warm_start_result_restarts_the_fast_median(tmp_path):
    """A fast p-median Result carries its root LP; the next n_sites restarts from it."""
    prob = _random_problem(5, objective="median", n_sites=2)
    first = prob.solve()
    assert first.solver["method"] == "fast-median" and first.solver["restarted"] is False
    assert first.restart is not None and len(first.restart.demand) > 0
    for n in (3, 4):
        nxt = prob.replace(n_sites=n)
        warm = nxt.solve(warm_start=first)
        cold = nxt.solve()
        assert warm.solver["restarted"] is True and cold.solver["restarted"] is False
        assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
        first = warm
    # site ids alone carry no restart; the restart is not part of the JSON form or the repr
    assert prob.solve(warm_start=list(first.open_site_ids)).solver["restarted"] is False
    assert "restart" not in first.to_dict() and "RootRestart" not in repr(first)
    first.to_json(tmp_path / "r.json")
    assert Result.from_json(tmp_path / "r.json").restart is None
    # a problem of another shape (fewer demand points, the same site ids): the open sites are
    # still a warm start, the root LP is ignored, and the answer is the cold one
    lat = np.random.default_rng(5).uniform(1, 50, (12, 7)).round(1)
    other = Problem.from_cost_matrix(lat[:8], n_sites=3)
    warm = other.solve(warm_start=first)
    assert warm.solver["warm_start"] is True and warm.solver["restarted"] is False
    assert warm.objective == pytest.approx(other.solve().objective, rel=1e-9)


@pytest.mark.parametrize("case", range(len(_WARM_CASES)))
def test_warm_start_same_objective_with_cbc(case):
    prob = _random_problem(11, **_WARM_CASES[case])
    cold = prob.solve(method="pulp", solver="cbc")
    ids = list(prob.sites["site_id"])
    for start in (cold, ids, ids[:1]):
        warm = prob.solve(method="pulp", solver="cbc", warm_start=start)
        assert warm.status == cold.status
        if cold.status == "optimal":
            assert warm.objective == pytest.approx(cold.objective, rel=1e-6, abs=1e-9)


# ---------------------------------------------------------------- unreachable demand
def _reach_problem(**kw):
    # d2 is 90 ms from every site: beyond a 50 ms SLA
    lat = np.array([[10.0, 40.0, 30.0], [35.0, 12.0, 20.0], [90.0, 95.0, 99.0], [25.0, 30.0, 8.0]])
    w = np.array([5.0, 3.0, 2.0, 4.0])
    return Problem.from_cost_matrix(lat, weights=w, n_sites=2, max_latency_ms=50.0, **kw)


def test_unreachable_error_names_the_point():
    r = _reach_problem().solve()
    assert r.status == "infeasible" and "d2" in r.message
    assert r.unreachable.empty


def test_unreachable_exclude_lists_and_leaves_out():
    r = _reach_problem(unreachable="exclude").solve()
    assert r.status == "optimal"
    assert list(r.unreachable["demand_id"]) == ["d2"]
    row = r.unreachable.iloc[0]
    assert row["best_site_id"] == "s0" and row["best_latency_ms"] == 90.0
    assert row["handling"] == "excluded"
    assert "d2" not in set(r.assignments["demand_id"])
    # the optimum of the three reachable points: d0 -> s0 (10), d1 -> s1 (12) or s2, d3 -> s2 (8)
    best = min(
        (5 * min(10, c0) + 3 * min(35, c1) + 4 * min(25, c3)) / 12
        for c0, c1, c3 in [(40, 12, 30), (30, 20, 8)]
    )
    assert r.objective == pytest.approx(best)
    assert r.metrics["n_unreachable"] == 1
    assert r.metrics["unreachable_weight_share"] == pytest.approx(2 / 14)
    assert "unreachable within the SLA: 1 demand point" in r.summary()
    back = type(r).from_json(r.to_json())
    assert list(back.unreachable["demand_id"]) == ["d2"]


def test_unreachable_best_effort_serves_from_the_nearest_open_site():
    r = _reach_problem(unreachable="best-effort").solve()
    assert r.status == "optimal"
    served = r.primary().set_index("demand_id")
    assert served.loc["d2", "latency_ms"] >= 90.0  # served, beyond the SLA
    assert r.metrics["share_within_sla"] == pytest.approx(12 / 14)
    assert r.unreachable["handling"].iloc[0] == "best-effort"


def test_unreachable_policy_is_checked():
    with pytest.raises(ValidationError, match="unreachable"):
        _reach_problem(unreachable="drop")


# ---------------------------------------------------------------- SLA on a latency statistic
@pytest.fixture(scope="module")
def europe():
    import warnings

    import placement as pl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sites = pl.catalog.sites(providers=["aws"], kinds="region")
        demand = pl.demand.from_cities(continents=["EU"], min_population=1_000_000)
    return sites, demand


def test_sla_on_p95_is_stricter_than_on_the_mean(europe):
    sites, demand = europe
    means = Problem(sites, demand, n_sites=3).solve()
    p95 = Problem(sites, demand, n_sites=3, latency_statistic="p95").solve()
    p50 = Problem(sites, demand, n_sites=3, latency_statistic="p50").solve()
    assert means.params["latency_statistic"] == "mean"
    assert p95.params["latency_statistic"] == "p95"
    assert p50.objective < means.objective < p95.objective
    a = p95.primary()
    # latency_ms is the problem's own statistic; the others ride along, per pair
    assert np.allclose(a["latency_ms"], a["latency_p95_ms"])
    assert (a["latency_p50_ms"] <= a["latency_mean_ms"] + 1e-9).all()
    assert (a["latency_mean_ms"] <= a["latency_p95_ms"] + 1e-9).all()
    assert set(a["source"]) == {"modelled"}
    assert "users' p95 round trip" in p95.summary()
    back = Result.from_json(p95.to_json())
    assert np.allclose(back.primary()["latency_p50_ms"], a["latency_p50_ms"])


def test_latency_statistic_needs_a_model():
    lat = np.array([[10.0, 20.0], [20.0, 10.0]])
    with pytest.raises(ValidationError, match="latency_statistic"):
        Problem.from_cost_matrix(lat, n_sites=1, latency_statistic="p95")


def test_cost_objective_with_backups_makes_the_nearer_site_primary():
    """Issue 15: under the cost objective the primary is never farther than a backup (Lima's
    primary was 57 ms away while its backup was 35 ms): the rule is a constraint of the model."""
    sites = pd.DataFrame(
        {
            "site_id": ["far-cheap", "near-dear"],
            "lat_deg": 0.0,
            "lon_deg": 0.0,
            "fixed_cost_usd_per_year": [100.0, 100.0],
        }
    )
    demand = pd.DataFrame(
        {"demand_id": ["lima", "quito"], "lat_deg": 0.0, "lon_deg": 0.0, "weight": [1.0, 1.0]}
    )
    lat = pd.DataFrame(
        {
            "demand_id": ["lima", "lima", "quito", "quito"],
            "site_id": ["far-cheap", "near-dear", "far-cheap", "near-dear"],
            "latency_ms": [57.0, 35.0, 60.0, 20.0],
            # serving from the near site costs more per year
            "cost_usd_per_year": [1.0, 50.0, 1.0, 50.0],
        }
    )
    r = Problem(sites, demand, latency=lat, objective="cost", n_sites=2, redundancy=2).solve()
    assert r.status == "optimal"
    primary = r.primary().set_index("demand_id")["site_id"]
    assert primary.to_dict() == {"lima": "near-dear", "quito": "near-dear"}
    # the price of the rule: both points pay the dear site's serving cost
    assert r.objective == pytest.approx(200.0 + 100.0)


def test_exclude_with_a_latency_statistic(europe):
    """The exclude policy solves a table of the problem's latencies: the statistic stays said."""
    sites, demand = europe
    r = Problem(
        sites,
        demand,
        n_sites=3,
        max_latency_ms=30.0,
        unreachable="exclude",
        latency_statistic="p50",
    ).solve()
    assert r.status == "optimal" and len(r.unreachable) > 0
    assert r.params["latency_statistic"] == "p50"
    a = r.primary()
    assert np.allclose(a["latency_ms"], a["latency_p50_ms"])
    assert (r.unreachable["best_latency_ms"] > 30.0).all()
