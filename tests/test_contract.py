"""The solver contract: capabilities declared, dispatch fails closed, one status rule.

A property test switches random combinations of constraints on and checks that the solver
``method="auto"`` chooses declares every active feature, and that its answer equals the PuLP
formulation's and (where the shared oracle covers the problem) exhaustive enumeration's.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import brute, center_brute

from placement.errors import ValidationError
from placement.formulations import contract, registry
from placement.formulations._gap import OPTIMALITY_TOLERANCE, is_proven, relative_gap
from placement.formulations.contract import (
    FEATURES,
    FIELD_RULES,
    Capabilities,
    Solution,
    SolveRequest,
    active_features,
)
from placement.formulations.data import ModelData
from placement.formulations.relax import relaxation
from placement.problem import Problem
from placement.solve import SolverOptions

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def test_every_modeldata_field_has_a_rule():
    assert set(FIELD_RULES) == {f.name for f in dataclasses.fields(ModelData)}


def test_a_field_without_a_rule_fails_loudly(monkeypatch):
    rules = dict(FIELD_RULES)
    del rules["capacity"]
    monkeypatch.setattr(contract, "FIELD_RULES", rules)
    with pytest.raises(RuntimeError, match=r"missing \['capacity'\]"):
        contract._check_rules()


def test_capabilities_refuse_unknown_features():
    with pytest.raises(ValueError, match="unknown feature"):
        Capabilities(objectives=frozenset({"median"}), features=frozenset({"teleport"}))


def test_pulp_declares_every_feature():
    pulp = registry.SOLVERS[-1]
    assert pulp.name == "pulp" and pulp.capabilities.features == FEATURES


def _sites(m: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": [f"s{j}" for j in range(m)],
            "lat_deg": 0.0,
            "lon_deg": 0.0,
            "provider": ["a" if j % 2 == 0 else "b" for j in range(m)],
            "fixed_cost_usd_per_year": [100.0 + 37 * j for j in range(m)],
            "capacity": [40.0 + 5 * j for j in range(m)],
        }
    )


def _table(lat: np.ndarray) -> pd.DataFrame:
    n, m = lat.shape
    ii, jj = np.indices((n, m))
    return pd.DataFrame(
        {
            "demand_id": [f"d{i}" for i in ii.ravel()],
            "site_id": [f"s{j}" for j in jj.ravel()],
            "latency_ms": lat.ravel(),
        }
    )


@st.composite
def problems(draw):
    n = draw(st.integers(2, 6))
    m = draw(st.integers(3, 5))
    lat = np.array(
        draw(st.lists(st.integers(1, 60), min_size=n * m, max_size=n * m)), dtype=float
    ).reshape(n, m)
    w = np.array(draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)), dtype=float)
    objective = draw(st.sampled_from(["median", "center", "cost"]))
    redundancy = draw(st.sampled_from([1, 1, 2])) if objective != "cost" else 1
    kw: dict = {"objective": objective, "redundancy": redundancy}
    if redundancy > 1:
        kw["failure_domain"] = draw(st.sampled_from(["site_id", "provider"]))
    count = draw(st.sampled_from(["n_sites", "max_sites", "none"]))
    if count == "none" and objective in ("median", "center"):
        count = "n_sites"
    if count != "none":
        kw[count] = draw(st.integers(redundancy, min(m, 3)))
    on = draw(
        st.sets(
            st.sampled_from(
                [
                    "sla",
                    "backup_sla",
                    "must_open",
                    "forbidden",
                    "min_sites",
                    "capacity",
                    "budget",
                    "provider_limit",
                    "percentile",
                ]
            )
        )
    )
    if "sla" in on:
        kw["max_latency_ms"] = float(draw(st.integers(20, 60)))
    if "backup_sla" in on and redundancy > 1:
        kw["backup_max_latency_ms"] = float(draw(st.integers(30, 60)))
    if "must_open" in on:
        kw["must_open"] = ["s0"]
    if "forbidden" in on and kw.get("n_sites", 0) < m:
        kw["forbidden"] = [f"s{m - 1}"]
    if "min_sites" in on and count != "n_sites":
        kw["min_sites"] = 1
    if "capacity" in on and redundancy == 1:
        kw["capacity"] = "capacity"
    if "budget" in on and objective == "cost":
        kw["budget_usd_per_year"] = 400.0
    if "provider_limit" in on:
        kw["max_sites_per_provider"] = 2
    if "percentile" in on and objective == "median" and redundancy == 1:
        kw["sla_ms"] = 30.0
        kw["sla_share"] = 0.6
    return lat, w, kw


def _problem(lat, w, kw) -> Problem:
    n, m = lat.shape
    demand = pd.DataFrame(
        {"demand_id": [f"d{i}" for i in range(n)], "lat_deg": 0.0, "lon_deg": 0.0, "weight": w}
    )
    return Problem(_sites(m), demand, latency=_table(lat), **kw)


def _oracle(lat, w, kw) -> float | None:
    """Exhaustive optimum where the shared oracle models every active constraint (else None)."""
    plain = {"objective", "redundancy", "failure_domain", "n_sites", "max_sites", "max_latency_ms"}
    plain |= {"must_open", "forbidden", "capacity", "min_sites"}
    if set(kw) - plain or kw["redundancy"] > 1:
        return None
    m = lat.shape[1]
    lo = kw.get("min_sites", 1) or 1
    sizes = [kw["n_sites"]] if "n_sites" in kw else range(lo, kw.get("max_sites", m) + 1)
    must = [int(s[1:]) for s in kw.get("must_open", [])]
    forbidden = [int(s[1:]) for s in kw.get("forbidden", [])]
    masked = (
        lat if "max_latency_ms" not in kw else np.where(lat <= kw["max_latency_ms"], lat, np.inf)
    )
    if kw["objective"] == "center":
        return center_brute(masked, sizes, must, forbidden)
    if kw["objective"] == "median":
        if "capacity" in kw:
            return None
        return brute(masked, w, sizes, must=must, forbidden=forbidden)
    sites = _sites(m)
    cap = sites["capacity"].to_numpy() if "capacity" in kw else None
    return brute(
        masked,
        w,
        sizes,
        must=must,
        forbidden=forbidden,
        fixed=sites["fixed_cost_usd_per_year"].to_numpy(),
        objective="cost",
        cap=cap,
    )


@SETTINGS
@given(case=problems())
def test_dispatch_declares_every_active_feature_and_agrees(case):
    lat, w, kw = case
    problem = _problem(lat, w, kw)
    data = problem.model_data()
    chosen = registry.choose_solver(data)
    caps = chosen.capabilities
    assert active_features(data) <= caps.features
    assert data.objective in caps.objectives
    if chosen.name != "pulp":
        # a fast solver never sees a feature it does not declare (fails closed)
        assert caps.covers(data)
    fast = problem.solve()
    pulp = problem.solve(method="pulp")
    used = fast.solver.get("method", chosen.name)
    if used != chosen.name:
        # relaxation first: the PuLP problem was settled by a fast solver on its relaxation
        # (the optimum met the dropped constraints, or the relaxation was infeasible)
        relaxed, dropped = relaxation(data)
        assert chosen.name == "pulp" and dropped
        assert used == registry.choose_solver(relaxed).name
        assert "relaxation" in fast.solver and fast.status in ("optimal", "infeasible")
    assert fast.status == pulp.status, (fast.message, pulp.message)
    if pulp.status == "optimal":
        assert fast.objective == pytest.approx(pulp.objective, rel=1e-6, abs=1e-6)
    expected = _oracle(lat, w, kw)
    if expected is not None:
        if math.isinf(expected):
            assert fast.status == "infeasible"
        else:
            assert fast.status == "optimal"
            assert fast.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_fast_method_explains_what_no_fast_solver_covers():
    lat = np.array([[10.0, 20.0, 30.0], [30.0, 20.0, 10.0]])
    problem = _problem(lat, np.ones(2), {"objective": "median", "n_sites": 2, "min_sites": 1})
    with pytest.raises(ValidationError, match="fast-median: min_sites"):
        problem.solve(method="fast")
    assert problem.solver_for() == "pulp"


def test_unknown_method_is_refused():
    lat = np.array([[10.0, 20.0], [30.0, 20.0]])
    with pytest.raises(ValidationError, match="method"):
        _problem(lat, np.ones(2), {"n_sites": 1}).solve(method="quick")


# ---------------------------------------------------------------- the one status rule
@pytest.mark.parametrize(
    ("objective", "bound", "proven"),
    [
        (100.0, 100.0, True),
        (100.0, 100.0 - 0.5 * OPTIMALITY_TOLERANCE * 100, True),
        (100.0, 99.0, False),
        (0.0, 0.0, True),
        (100.0, None, False),
        (math.inf, 1.0, False),
    ],
)
def test_is_proven(objective, bound, proven):
    assert is_proven(objective, bound) is proven


def test_relative_gap():
    assert relative_gap(100.0, 99.0) == pytest.approx(0.01)
    assert relative_gap(None, 1.0) is None and relative_gap(1.0, -math.inf) is None


def _request(**options) -> SolveRequest:
    return SolveRequest.from_options(SolverOptions(**options))


def test_finalize_labels_a_loose_stop_feasible():
    sol = Solution("optimal", objective=101.0, bound=100.0, open_mask=np.ones(2, bool))
    out = registry.finalize(sol, _request(gap_rel=0.05))
    assert out.status == "feasible" and out.gap == pytest.approx(1 / 101)
    assert "requested gap_rel=0.05" in out.message


def test_finalize_without_a_limit_never_blames_the_clock():
    sol = Solution("feasible", objective=101.0, bound=100.0, raw_status="Time limit reached")
    out = registry.finalize(sol, _request())
    assert out.status == "feasible" and "time limit" not in out.message


def test_finalize_promotes_a_proven_feasible():
    sol = Solution("feasible", objective=100.0, bound=100.0, open_mask=np.ones(2, bool))
    assert registry.finalize(sol, _request()).status == "optimal"


def test_finalize_maximisation_uses_the_upper_bound():
    sol = Solution("optimal", objective=0.8, bound=0.9, sense=-1)
    out = registry.finalize(sol, _request())
    assert out.status == "feasible" and out.gap == pytest.approx(0.125)


@pytest.mark.parametrize("method", ["auto", "pulp"])
def test_requested_gap_never_yields_a_dishonest_optimal(method):
    """A loose gap_rel stops early; the result is optimal only if its bound proves it."""
    rng = np.random.default_rng(7)
    lat = rng.uniform(1, 100, (120, 25))
    problem = Problem.from_cost_matrix(lat, objective="median", n_sites=5)
    exact = problem.solve()
    loose = problem.solve(gap_rel=0.5, method=method)
    assert exact.status == "optimal"
    assert loose.best_bound <= exact.objective + 1e-9  # the bound is a true lower bound
    if loose.status == "optimal":
        assert loose.objective == pytest.approx(exact.objective, rel=1e-6)
        assert loose.gap <= OPTIMALITY_TOLERANCE
    else:
        assert loose.status == "feasible" and loose.gap > OPTIMALITY_TOLERANCE
        assert loose.objective > exact.objective - 1e-9
        assert "gap" in loose.message


def test_one_deadline_covers_lowering(monkeypatch):
    """The limit starts when solve() is entered: time spent lowering counts against it."""
    import time

    import placement.lowering as lowering_mod

    real = lowering_mod.lower

    def slow(problem):
        time.sleep(0.3)
        return real(problem)

    monkeypatch.setattr(lowering_mod, "lower", slow)
    seen = {}
    real_solve = registry.FastMedian.solve

    def spy(self, data, request):
        seen["left"] = request.remaining_s()
        return real_solve(self, data, request)

    monkeypatch.setattr(registry.FastMedian, "solve", spy)
    rng = np.random.default_rng(3)
    problem = Problem.from_cost_matrix(rng.uniform(1, 50, (30, 8)), objective="median", n_sites=3)
    problem.solve(time_limit_s=5.0)
    assert seen["left"] < 4.75


def test_progress_reports_stages_and_a_valid_bound():
    from placement.progress import Progress

    rng = np.random.default_rng(11)
    problem = Problem.from_cost_matrix(
        rng.uniform(1, 100, (150, 30)), objective="median", n_sites=5
    )
    seen: list[Progress] = []
    result = problem.solve(progress=seen.append)
    assert seen[0].message.startswith("lowering") and seen[1].message == "solving with fast-median"
    last = seen[-1]
    assert last.message == "optimal (fast-median)"
    assert last.incumbent == pytest.approx(result.objective) and last.gap == pytest.approx(0.0)
    for p in seen:
        if p.incumbent is not None and p.bound is not None:
            assert p.bound <= p.incumbent + 1e-9
            assert p.bound <= result.objective + 1e-9  # never above the optimum


def test_a_raising_progress_hook_does_not_break_the_solve():
    def boom(_):
        raise RuntimeError("hook")

    problem = Problem.from_cost_matrix(np.array([[1.0, 5.0], [5.0, 1.0]]), n_sites=1)
    assert problem.solve(progress=boom).status == "optimal"


def test_every_problem_argument_has_a_checker():
    """A new Problem argument without a checker in params.problem_spec fails here."""
    import inspect

    from placement import params

    tables = {"self", "sites", "demand", "latency", "cost_model"}
    args = set(inspect.signature(Problem.__init__).parameters) - tables
    assert args == set(params.problem_spec())


def test_a_stuck_cut_loop_raises_and_pulp_answers(monkeypatch):
    """Every solver loop has an iteration guard: a cut loop that cannot end raises SolverError,
    and method='auto' falls back to the PuLP model with a warning (same optimum)."""
    import placement.formulations.radius as radius

    monkeypatch.setattr(radius, "_MAX_CUT_ROUNDS", 0)
    rng = np.random.default_rng(5)
    problem = Problem.from_cost_matrix(rng.uniform(1, 50, (20, 6)), objective="median", n_sites=2)
    with pytest.warns(RuntimeWarning, match="fast-median solver failed"):
        r = problem.solve()
    assert r.status == "optimal" and r.solver["method"] == "pulp"
    monkeypatch.undo()
    assert problem.solve().objective == pytest.approx(r.objective)


def _gives_up(self, data, request):
    """A fast solver that stops at once without any solution (and without a proof)."""
    return Solution(status="no_solution", raw_status="gave up")


def test_a_fast_solver_without_a_solution_is_not_the_last_word(monkeypatch):
    """A fast solver that stops with no solution before the deadline hands over to the PuLP
    model: its solution (feasible problem) or its proof of infeasibility is the answer."""
    from placement import diagnose

    rng = np.random.default_rng(3)
    lat = rng.uniform(1, 50, (15, 6)).round(1)
    fixed = rng.uniform(10, 100, 6).round(1)
    problem = Problem.from_cost_matrix(lat, objective="cost", max_sites=3, fixed_cost=fixed)
    assert problem.solver_for() == "lagrangian-flp"
    want = problem.solve()
    monkeypatch.setattr(registry.LagrangianSolver, "solve", _gives_up)
    r = problem.solve()
    assert r.status == "optimal" and r.solver["method"] == "pulp"
    assert r.objective == pytest.approx(want.objective)
    assert problem.solve(method="fast").status == "no_solution"  # "fast" keeps its word
    # infeasible (every point within 5 ms takes more than 3 sites), with the presolve checks
    # off so that the solvers meet it: the PuLP model's proof is the answer
    monkeypatch.setattr(diagnose, "CHECKS", ())
    tight = problem.replace(max_latency_ms=float(np.sort(lat, axis=1)[:, 0].max()))
    r = tight.solve()
    assert r.status == "infeasible" and "cannot all hold" in r.message
    assert r.solver["method"] == "pulp"


# ---------------------------------------------------------------- routes and the post-check
#: One problem per route on the six-site line (conftest ``line``): the solver that answers.
#: The routes whose name ``solver_for()`` gives before solving (the declared capabilities, with
#: their conditions) come first; the relaxation-first ones (only ``pulp`` declares the problem)
#: after, where the answer comes from the relaxation's fast solver when its optimum meets the
#: dropped constraints, else from ``pulp``: ``solver_for()`` cannot know which before solving.
ROUTES = {
    "median": ({"n_sites": 2}, "fast-median"),
    "percentile": ({"n_sites": 2, "sla_ms": 6.0, "sla_share": 0.5}, "fast-percentile"),
    "center": ({"objective": "center", "n_sites": 2}, "fast-center"),
    "budget_binds": ({"max_sites": 3, "budget_usd_per_year": 130.0}, "fast-budget-median"),
    "budget_loose": ({"max_sites": 3, "budget_usd_per_year": 1000.0}, "fast-budget-median"),
    "budget_min_sites": (
        {"min_sites": 2, "max_sites": 3, "budget_usd_per_year": 200.0},
        "fast-budget-median",
    ),
    "redundant": ({"n_sites": 3, "redundancy": 2}, "fast-redundant-median"),
    "redundant_center": (
        {"objective": "center", "n_sites": 3, "redundancy": 2},
        "fast-redundant-center",
    ),
    "capacity_cost": ({"objective": "cost", "capacity": 10.0}, "fast-cfl"),
    "cost": ({"objective": "cost"}, "lagrangian-flp"),
    "coverage": ({"objective": "coverage", "n_sites": 2, "sla_ms": 8.0}, "pulp"),
    "set_cover": ({"objective": "set-cover", "max_latency_ms": 12.0}, "pulp"),
    "weighted": (
        {"objective": "weighted", "n_sites": 3, "latency_weight_usd_per_ms": 5},
        "lagrangian-flp",
    ),
}
RELAXATION_ROUTES = {
    "capacity_binds": ({"n_sites": 3, "capacity": 12.0}, "pulp"),
    "capacity_loose": ({"n_sites": 3, "capacity": 30.0}, "fast-median"),
    "provider_limits": ({"n_sites": 3, "max_sites_per_provider": {"aws": 1}}, "pulp"),
}


def _line_problem(line, **kw):
    sites, demand, table = line
    kw.setdefault("objective", "median")
    return Problem(sites, demand, latency=table, **kw)


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_solver_for_names_the_solver_that_answers(line, route):
    kw, name = ROUTES[route]
    problem = _line_problem(line, **kw)
    assert problem.solver_for() == name
    r = problem.solve()
    assert r.status == "optimal"
    assert r.solver["method"] == name
    if name != "pulp":  # the same answer as the PuLP model's
        assert r.objective == pytest.approx(problem.solve(method="pulp").objective, rel=1e-9)
        assert problem.solve(method="fast").solver["method"] == name


@pytest.mark.parametrize("route", sorted(RELAXATION_ROUTES))
def test_relaxation_first_routes_say_so(line, route):
    kw, name = RELAXATION_ROUTES[route]
    problem = _line_problem(line, **kw)
    assert problem.solver_for() == "pulp"
    r = problem.solve()
    assert r.status == "optimal" and r.solver["method"] == name
    assert r.solver["relaxation"].startswith("fast-median without ")


def test_the_budget_solver_declares_its_condition(line):
    """The budget solvers' conditions are part of their capabilities: a budget whose serving
    cost does not depend on the assignment goes to ``fast-budget-median``, one with pair costs
    to ``budget-lagrangian`` (the same optimum as the PuLP model's), and each says why the other
    does not apply."""
    rng = np.random.default_rng(2)
    lat = rng.uniform(1, 40, (10, 5)).round(1)
    kw = {"objective": "median", "max_sites": 3, "fixed_cost": np.full(5, 50.0)}
    plain = Problem.from_cost_matrix(lat, budget_usd_per_year=120.0, **kw)
    assert plain.solver_for() == "fast-budget-median"
    priced = Problem.from_cost_matrix(
        lat, budget_usd_per_year=120.0 + lat.sum(), assignment_cost=lat, **kw
    )
    data = priced.model_data()
    assert registry.BudgetMedian.capabilities.gaps(data) == [
        "budget: the serving cost depends on the assignment (pair costs, or variable costs "
        "that differ between sites)"
    ]
    assert registry.BudgetLagrange.capabilities.gaps(plain.model_data()) == [
        "budget: the serving cost does not depend on the assignment (fast-budget-median)"
    ]
    assert priced.solver_for() == "budget-lagrangian"
    fast, model = priced.solve(method="fast"), priced.solve(method="pulp")
    assert fast.solver["method"] == "budget-lagrangian" and fast.status in ("optimal", "feasible")
    assert fast.best_bound <= model.objective * (1 + 1e-9) <= fast.objective * (1 + 2e-9)
    if fast.status == "optimal":
        assert fast.objective == pytest.approx(model.objective, rel=1e-7)
    # a condition is read only where the features already fit (it may assume them)
    calls = []
    caps = Capabilities(
        objectives=frozenset({"center"}), condition=lambda d: calls.append(d) or "never"
    )
    assert caps.gaps(data)[0] == "objective median" and not calls


def _breaks(how):
    """FastMedian.solve whose answer is then broken in one way (a deliberately wrong solver)."""
    real = registry.FastMedian.solve

    def solve(self, data, request):
        sol = real(self, data, request)
        if not sol.found:
            return sol
        mask = sol.open_mask.copy()
        rows = list(sol.rows)
        if how == "extra_site":  # one site more than asked
            mask[np.flatnonzero(~mask)[0]] = True
        elif how == "closed_site":  # the first demand point served by a closed site
            _, r, i, s = rows[0]
            closed = np.flatnonzero(~mask[data.pair_j] & (data.pair_i == i) & data.primary_ok)
            rows[0] = (int(closed[0]), r, i, s)
        elif how == "unserved":
            rows = rows[1:]
        return dataclasses.replace(sol, open_mask=mask, rows=rows)

    return solve


@pytest.mark.parametrize("how", ["extra_site", "closed_site", "unserved"])
def test_a_broken_fast_answer_goes_to_pulp(line, monkeypatch, how):
    """solve_data checks every fast answer against every constraint: a broken one is a solver
    failure, so the PuLP model answers (with a warning); ``method="fast"`` raises."""
    from placement.errors import SolverError

    problem = _line_problem(line, n_sites=2)
    want = problem.solve()
    monkeypatch.setattr(registry.FastMedian, "solve", _breaks(how))
    with pytest.warns(RuntimeWarning, match="fast-median returned an answer that breaks"):
        r = problem.solve()
    assert r.status == "optimal" and r.solver["method"] == "pulp"
    assert r.objective == pytest.approx(want.objective)
    assert r.open_site_ids == want.open_site_ids
    with pytest.raises(SolverError, match="breaks"):
        problem.solve(method="fast")


def test_a_broken_relaxation_answer_goes_to_pulp(line, monkeypatch):
    """The relaxation-first routes are checked too: a relaxation whose optimum 'meets' the
    dropped capacity but opens one site too many is not returned."""
    problem = _line_problem(line, **RELAXATION_ROUTES["capacity_loose"][0])
    want = problem.solve()
    assert want.solver["method"] == "fast-median"
    monkeypatch.setattr(registry.FastMedian, "solve", _breaks("extra_site"))
    with pytest.warns(RuntimeWarning, match="fast-median returned an answer that breaks site"):
        r = problem.solve()
    assert r.status == "optimal" and r.solver["method"] == "pulp"
    assert r.objective == pytest.approx(want.objective)


def test_a_broken_incumbent_never_replaces_the_pulp_answer(line, monkeypatch):
    """On the relaxation-first route the PuLP model's answer is replaced by a better capacity
    incumbent only when that meets every constraint: one that opens a site too many (and so
    looks cheaper) is not taken."""
    problem = _line_problem(line, **RELAXATION_ROUTES["capacity_binds"][0])
    want = problem.solve()
    assert want.solver["method"] == "pulp"
    data = problem.model_data()
    mask = np.ones(data.n_sites, dtype=bool)  # every site open: 6 sites, 3 asked
    rows = [(p, r, i, 1.0) for p, r, i in registry.nearest_assignments(data, mask)]
    fake = Solution(status="feasible", objective=0.5 * want.objective, open_mask=mask, rows=rows)
    monkeypatch.setattr(registry, "_capacity_incumbent", lambda *a, **k: fake)
    r = problem.solve()
    assert r.status == "optimal" and r.objective == pytest.approx(want.objective)
    assert len(r.open_site_ids) == 3


def test_progress_never_reports_a_relaxation_answer_as_an_incumbent(monkeypatch):
    """Capacity that binds: the relaxation without it has a better optimum than the problem,
    which must not show up as an incumbent (only its bound, labelled)."""
    from placement.formulations import registry
    from placement.progress import Progress

    rng = np.random.default_rng(5)
    cost = rng.uniform(1, 100, (60, 12))
    cost[:40, 0] = 1.0  # one site every point wants: capacity keeps it from serving them all
    free = Problem.from_cost_matrix(cost, objective="median", n_sites=3).solve()
    real = registry.FastMedian.solve

    def reporting(self, data, request):  # as a long solve does: its incumbent and bound
        got = real(self, data, request)
        if request.progress is not None:
            request.progress(got.objective, got.bound, "fast-median's last record", force=True)
        return got

    monkeypatch.setattr(registry.FastMedian, "solve", reporting)
    problem = Problem.from_cost_matrix(cost, objective="median", n_sites=3, capacity=25.0)
    seen: list[Progress] = []
    result = problem.solve(progress=seen.append)
    assert result.status == "optimal" and result.objective > free.objective + 1e-6
    assert any(p.message.startswith("relaxation (") for p in seen)
    for p in seen:
        if p.incumbent is not None:
            assert p.incumbent >= result.objective - 1e-9, p
        if p.bound is not None:
            assert p.bound <= result.objective + 1e-9, p


@pytest.mark.parametrize("why", ["too_big", "no_time"])
def test_a_failed_fast_solver_does_not_start_a_pulp_build_it_cannot_finish(line, monkeypatch, why):
    """After a fast solver fails, the PuLP model is not built when it is one the relaxation
    route refuses or its build would not fit in the time left (the build does not look at the
    clock: a capacity + backups case ran 249 s of a 60-s limit that way): no solution, why."""
    problem = _line_problem(line, n_sites=2)
    monkeypatch.setattr(registry.FastMedian, "solve", _breaks("extra_site"))
    monkeypatch.setattr(registry._PULP, "solve", lambda *a, **k: pytest.fail("PuLP built"))
    if why == "too_big":
        monkeypatch.setattr(registry, "_pulp_too_big", lambda *a: "a stated reason")
        limit = 60.0
    else:  # a deadline the build cannot meet
        monkeypatch.setattr(registry, "PULP_BUILD_CPU_S_PER_PAIR", 1e3)
        limit = 5.0
    with pytest.warns(RuntimeWarning, match="the PuLP model is not built"):
        r = problem.solve(time_limit_s=limit)
    assert r.status == "no_solution" and not r.open_site_ids
    assert "fast-median failed" in r.message and "was not built" in r.message
    if why == "too_big":
        assert "a stated reason" in r.message


def test_single_sourcing_is_not_the_split_capacity_with_backups_model():
    """cfl_redundant_lp's split LP is not the single-sourced problem: it never takes it."""
    from placement.formulations.cfl_redundant_lp import redundant_capacity_applies

    rng = np.random.default_rng(3)
    kw = dict(objective="median", n_sites=3, redundancy=2, capacity=30.0)
    split = Problem.from_cost_matrix(rng.uniform(1, 50, (20, 6)), **kw).model_data()
    single = Problem.from_cost_matrix(
        rng.uniform(1, 50, (20, 6)), single_sourcing=True, **kw
    ).model_data()
    assert redundant_capacity_applies(split)
    assert not redundant_capacity_applies(single)


@pytest.mark.parametrize("limit", [None, 60.0])
def test_capacity_with_backups_by_the_strong_lp_gives_the_relaxation_a_small_share(
    monkeypatch, limit
):
    """Capacity + backups at scale (the strong LP's route): with a time limit that leaves the
    LP room, the relaxation without the capacity gets CAPRED_RELAXATION_SHARE of it and the
    incumbent search CAPRED_SEARCH_SHARE (the LP's bound supersedes the relaxation's); without
    a limit both keep their own shares. The answer is the same either way."""
    rng = np.random.default_rng(3)
    cost = rng.uniform(1, 50, (30, 8))
    cost[:20, 0] = 1.0  # one site most points want: the capacity keeps it from serving them
    kw = dict(objective="median", n_sites=3, redundancy=2, capacity=14.0)
    problem = Problem.from_cost_matrix(cost, **kw)
    want = problem.solve()
    monkeypatch.setattr(registry, "LAGRANGIAN_CAPACITY_MIN_PAIRS", 0)  # take the LP's route
    seen: dict[str, float] = {}
    relax, search = registry._solve_relaxation, registry._capacity_incumbent

    def relax_spy(*a, **k):
        seen["relaxation"] = a[5] if len(a) > 5 else k.get("share", registry.RELAXATION_TIME_SHARE)
        return relax(*a, **k)

    def search_spy(data, request, start, share=registry.CAPACITY_SEARCH_SHARE):
        seen["search"] = share
        return search(data, request, start, share)

    monkeypatch.setattr(registry, "_solve_relaxation", relax_spy)
    monkeypatch.setattr(registry, "_capacity_incumbent", search_spy)
    r = problem.solve(time_limit_s=limit)
    assert r.solver["method"] == "fast-redundant-median", r.solver
    assert r.status == "optimal" and r.objective == pytest.approx(want.objective, rel=1e-6)
    if limit is None:
        assert seen == {"relaxation": 0.5, "search": registry.CAPACITY_SEARCH_SHARE}
    else:
        assert seen == {"relaxation": 0.05, "search": 0.1}
