"""The registry's post-check: every constraint of a lowered problem read on a solution."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from placement.formulations.contract import Solution
from placement.formulations.data import nearest_assignments
from placement.formulations.verify import CHECK_TOL, broken_constraints
from placement.problem import Problem


def _data(line, **kw):
    sites, demand, table = line
    kw.setdefault("objective", "median")
    return Problem(sites, demand, latency=table, **kw).model_data()


def _solution(data, open_idx, share=1.0):
    mask = np.zeros(data.n_sites, dtype=bool)
    mask[list(open_idx)] = True
    rows = [(p, r, i, share) for p, r, i in nearest_assignments(data, mask)]
    return Solution(status="optimal", objective=1.0, bound=1.0, open_mask=mask, rows=rows)


def test_a_true_solution_breaks_nothing(line):
    for kw, open_idx in [
        ({"n_sites": 2}, [1, 4]),
        ({"n_sites": 3, "redundancy": 2}, [1, 2, 4]),
        ({"max_sites": 3, "budget_usd_per_year": 200.0}, [2, 3]),
        ({"n_sites": 3, "must_open": ["S0"], "forbidden": ["S5"]}, [0, 2, 4]),
    ]:
        data = _data(line, **kw)
        assert broken_constraints(data, _solution(data, open_idx)) == [], kw


@pytest.mark.parametrize(
    ("kw", "open_idx", "words"),
    [
        ({"n_sites": 2}, [1, 3, 4], "site count: 3 open, exactly 2 asked"),
        ({"max_sites": 2}, [1, 3, 4], "site count: 3 open, at most 2 allowed"),
        ({"min_sites": 3, "objective": "cost"}, [1, 4], "site count: 2 open, at least 3 asked"),
        ({"n_sites": 2, "must_open": ["S0"]}, [1, 4], "must-open: 1 site(s) closed"),
        ({"n_sites": 2, "forbidden": ["S1"]}, [1, 4], "forbidden: 1 site(s) open"),
        ({"max_sites": 3, "budget_usd_per_year": 130.0}, [1, 4], "budget: 160 USD a year"),
        ({"n_sites": 2, "capacity": 10.0}, [1, 4], "capacity: 2 site(s) over"),
        ({"n_sites": 2, "max_sites_per_provider": {"gcp": 1}}, [1, 3], "provider limit"),
        ({"n_sites": 2, "sla_ms": 3.0, "sla_share": 0.9}, [1, 4], "percentile SLA"),
    ],
)
def test_each_constraint_is_read(line, kw, open_idx, words):
    data = _data(line, **kw)
    broken = broken_constraints(data, _solution(data, open_idx))
    assert any(words in b for b in broken), broken


def test_assignment_rows_are_read(line):
    data = _data(line, n_sites=2)
    good = _solution(data, [1, 4])
    p, r, i, s = good.rows[0]
    closed = int(np.flatnonzero((data.pair_i == i) & (data.pair_j == 0))[0])
    for rows, words in [
        (good.rows[1:], "1 demand point(s) not served wholly"),
        ([*good.rows, good.rows[0]], "served more than wholly"),
        ([(closed, r, i, s), *good.rows[1:]], "1 row(s) to a closed site"),
        ([(p, r, i, 0.5), *good.rows[1:]], "not served wholly"),
        ([(p, 2, i, s), *good.rows[1:]], "outside the pairs or ranks"),
        ([(p, r, i + 1, s), *good.rows[1:]], "does not match its pair"),
    ]:
        broken = broken_constraints(data, dataclasses.replace(good, rows=rows))
        assert any(words in b for b in broken), (words, broken)
    # a primary on a pair the rules allow only as a backup (or not at all)
    rules = data.primary_ok.copy()
    rules[p] = False
    broken = broken_constraints(dataclasses.replace(data, primary_ok=rules), good)
    assert broken == ["pair rules: 1 row(s) on a pair not allowed at its rank"]


def test_backups_in_distinct_sites_and_domains(line):
    data = _data(line, n_sites=3, redundancy=2, failure_domain="provider")
    good = _solution(data, [1, 2, 4])
    assert broken_constraints(data, good) == []
    # every backup moved onto its primary's site: a site twice, a domain twice
    prim = {i: p for p, r, i, _ in good.rows if r == 1}
    rows = [(prim[i] if r == 2 else p, r, i, s) for p, r, i, s in good.rows]
    broken = broken_constraints(data, dataclasses.replace(good, rows=rows))
    assert "backups: a site used more than once by a demand point" in broken
    assert "backups: a domain used more than once by a demand point" in broken


def test_nearer_primary_under_cost_with_backups(line):
    data = _data(line, objective="weighted", n_sites=3, redundancy=2, latency_weight_usd_per_ms=1.0)
    good = _solution(data, [1, 2, 4])
    assert broken_constraints(data, good) == []
    swapped = [(p, 3 - r, i, s) for p, r, i, s in good.rows]  # backups made primaries
    broken = broken_constraints(data, dataclasses.replace(good, rows=swapped))
    assert "backups: a backup nearer than its demand point's primary" in broken


def test_tolerance_takes_numerical_noise_not_errors(line):
    """Loads a hair over a capacity (LP noise) pass; one user in a million over does not."""
    data = _data(line, n_sites=2)
    sol = _solution(data, [1, 4])
    load = np.zeros(data.n_sites)
    for p, _, i, s in sol.rows:
        load[data.pair_j[p]] += data.weight[i] * s
    for excess, ok in [(0.0, True), (0.1 * CHECK_TOL, True), (10 * CHECK_TOL, False)]:
        capped = dataclasses.replace(data, capacity=load / (1 + excess))
        assert (broken_constraints(capped, sol) == []) is ok, excess
    noisy = [(p, r, i, s * (1 - 0.1 * CHECK_TOL)) for p, r, i, s in sol.rows]
    assert broken_constraints(data, dataclasses.replace(sol, rows=noisy)) == []


def test_no_solution_is_not_checked(line):
    data = _data(line, n_sites=2)
    assert broken_constraints(data, Solution(status="infeasible")) == []
