"""OR-Library benchmarks solved through the public Problem API reach their published optima.

Beasley's warehouse-location instances (cap41–cap134, split allocation as in Beasley 1988) and the
first p-median instances. The large capa/b/c instances run from ``benchmarks/`` only.
"""

from __future__ import annotations

import numpy as np
import pytest

from placement import orlib
from placement.problem import Problem

ORLIB = orlib.shared_orlib_dir()
pytestmark = pytest.mark.skipif(
    ORLIB is None, reason="../shared/benchmarks/orlib not found (set PLACEMENT_SHARED)"
)

CAP_NAMES = [
    f"cap{g}{k}"
    for g in (4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
    for k in (1, 2, 3, 4)
    if not (g == 5 and k > 1)
]


def _cap_problem(inst: orlib.CapInstance, capacitated: bool) -> Problem:
    return Problem.from_cost_matrix(
        np.zeros_like(inst.cost),
        weights=inst.demand,
        fixed_cost=inst.fixed_cost,
        capacity=inst.capacity if capacitated else None,
        assignment_cost=inst.cost,
        objective="cost",
    )


@pytest.mark.parametrize("name", CAP_NAMES)
def test_capacitated_warehouse_optimum(name):
    optima = orlib.read_capopt(ORLIB / "cap" / "capopt.txt")
    inst = orlib.read_cap(ORLIB / "cap" / f"{name}.txt")
    r = _cap_problem(inst, capacitated=True).solve()
    assert r.status == "optimal"
    assert r.objective == pytest.approx(optima[name], rel=1e-6)
    assert r.gap == pytest.approx(0.0, abs=1e-6)
    loads = r.open_sites.set_index("site_id")["load"]
    caps = dict(zip([f"s{j}" for j in range(inst.m)], inst.capacity, strict=True))
    assert all(loads[s] <= caps[s] + 1e-6 for s in loads.index)


@pytest.mark.parametrize("name", ["cap71", "cap74", "cap101", "cap104", "cap131", "cap134"])
def test_uncapacitated_warehouse_optimum(name):
    optima = orlib.read_capopt(ORLIB / "cap" / "uncapopt.txt")
    inst = orlib.read_cap(ORLIB / "cap" / f"{name}.txt")
    r = _cap_problem(inst, capacitated=False).solve()
    assert r.status == "optimal"
    assert r.objective == pytest.approx(optima[name], rel=1e-6)


@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed3"])
def test_pmedian_optimum_through_problem(name):
    optima = orlib.read_pmedopt(ORLIB / "pmed" / "pmedopt.txt")
    inst = orlib.read_pmed(ORLIB / "pmed" / f"{name}.txt")
    r = Problem.from_cost_matrix(inst.cost, objective="median", n_sites=inst.p).solve()
    assert r.status == "optimal"
    # the median objective is the mean over the n unit-weight clients
    assert r.objective * inst.n == pytest.approx(optima[name], rel=1e-9)


def test_pmedian_pulp_formulation_agrees_on_pmed1():
    optima = orlib.read_pmedopt(ORLIB / "pmed" / "pmedopt.txt")
    inst = orlib.read_pmed(ORLIB / "pmed" / "pmed1.txt")
    r = Problem.from_cost_matrix(inst.cost, objective="median", n_sites=inst.p).solve(method="pulp")
    assert r.status == "optimal"
    assert r.objective * inst.n == pytest.approx(optima["pmed1"], rel=1e-9)
