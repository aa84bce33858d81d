"""Reuse along the SLA axis of a sweep: the answers of solving every point, fewer solves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from oracle import brute

from placement.cli import main
from placement.errors import ValidationError
from placement.problem import Problem
from placement.result import Result
from placement.scenarios import sweep
from placement.scenarios.reuse import reuse_result
from placement.scenarios.sweep import plan_sweep

SLAS = [40.0, 45.0, 50.0, 55.0, 60.0, 70.0, None]


def _matrix(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy_d, xy_s = rng.uniform(0, 100, (16, 2)), rng.uniform(0, 100, (7, 2))
    lat = 1.0 + np.linalg.norm(xy_d[:, None, :] - xy_s[None, :, :], axis=2)
    return lat, rng.integers(1, 20, 16).astype(float)


def _base(seed: int = 0, **kw) -> Problem:
    lat, w = _matrix(seed)
    kw.setdefault("objective", "median")
    kw.setdefault("n_sites", 2)
    return Problem.from_cost_matrix(lat, weights=w, **kw)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a["status"]) == list(b["status"])
    for col in ("objective", "gap"):
        np.testing.assert_allclose(
            a[col].to_numpy(float), b[col].to_numpy(float), rtol=1e-9, equal_nan=True
        )
    assert list(a["open_sites"]) == list(b["open_sites"])


def _brute_objective(seed: int, n_sites: int, sla: float | None) -> float:
    lat, w = _matrix(seed)
    allowed = np.ones_like(lat, dtype=bool) if sla is None else lat <= sla + 1e-9
    return brute(lat, w, [n_sites], allowed=allowed)


@pytest.mark.parametrize("seed", range(3))
def test_reuse_gives_the_answers_of_solving_every_point(seed):
    base = _base(seed)
    grid = {"n_sites": [2, 3], "max_latency_ms": SLAS}
    cold = sweep(base, grid, executor="serial", progress=False, warm_start=False, reuse=False)
    reused = sweep(base, grid, executor="serial", progress=False)
    _same(cold.table, reused.table)
    assert not cold.table["reused"].any()
    assert reused.table["reused"].sum() >= 4  # the looser optimum or infeasibility carries over
    by_point = {(r.params["n_sites"], r.params["max_latency_ms"]): r for r in reused.results}
    for (_, row), res in zip(reused.table.iterrows(), reused.results, strict=True):
        truth = _brute_objective(seed, row["n_sites"], res.params["max_latency_ms"])
        if math.isinf(truth):
            assert res.status == "infeasible"
        else:
            assert res.status == "optimal" and res.objective == pytest.approx(truth, rel=1e-7)
        if not row["reused"]:
            assert "reused_from" not in res.solver
            continue
        src = res.solver["reused_from"]
        assert src["n_sites"] == row["n_sites"]  # the same other parameters
        assert src["max_latency_ms"] is None or src["max_latency_ms"] > row["max_latency_ms"]
        assert res.timings["solve_s"] == 0.0
        if res.status == "optimal":
            # re-checked and measured against this point's own SLA
            sla = row["max_latency_ms"]
            assert res.primary()["latency_ms"].max() <= sla + 1e-9
            assert res.metrics["share_within_sla"] == 1.0
            assert res.params["max_latency_ms"] == sla
            source = by_point[(src["n_sites"], src["max_latency_ms"])]
            assert res.best_bound == source.best_bound and res.gap == source.gap
            again = Result.from_json(res.to_json())  # the provenance survives JSON
            assert again.solver["reused_from"] == src


def test_reuse_with_two_sla_axes_and_backups_matches_cold():
    base = _base(1, n_sites=3, redundancy=2, backup_max_latency_ms=80.0)
    grid = {"max_latency_ms": [45.0, 55.0, 70.0, None], "backup_max_latency_ms": [60.0, 80.0]}
    cold = sweep(base, grid, executor="serial", progress=False, warm_start=False, reuse=False)
    reused = sweep(base, grid, executor="serial", progress=False)
    _same(cold.table, reused.table)
    assert reused.table["reused"].any()
    for res in reused.results:
        if res.solver.get("reused_from") and res.ok:
            bsla = res.params["backup_max_latency_ms"]
            backups = res.assignments[res.assignments["rank"] == 2]
            assert backups["latency_ms"].max() <= bsla + 1e-9


def test_an_optimum_beyond_the_tighter_sla_is_not_reused():
    base = _base(0)
    loose = base.replace(max_latency_ms=None).solve()
    worst = float(loose.primary()["latency_ms"].max())
    tight = base.replace(max_latency_ms=worst - 0.5)  # the loose optimum breaks it
    assert reuse_result(tight, loose, {"max_latency_ms": None}) is None
    same = base.replace(max_latency_ms=worst + 0.5)  # it meets this one
    res = reuse_result(same, loose, {"max_latency_ms": None})
    assert res is not None and res.status == "optimal"
    assert res.objective == loose.objective and res.open_site_ids == loose.open_site_ids
    assert res.solver["reused_from"] == {"max_latency_ms": None}
    assert res.metrics["share_within_sla"] == 1.0
    # in a sweep the tighter point is solved, with a higher objective
    out = sweep(base, {"max_latency_ms": [worst - 0.5, None]}, executor="serial", progress=False)
    assert list(out.table["reused"]) == [False, False]
    assert out.results[0].objective > loose.objective + 1e-9


def test_a_feasible_but_unproven_point_is_not_reused():
    base = _base(0)
    loose = base.replace(max_latency_ms=None).solve()
    stopped = Result(**{**loose.__dict__, "status": "feasible"})
    assert reuse_result(base.replace(max_latency_ms=200.0), stopped, {}) is None


def test_other_demand_under_exclude_is_not_reused():
    base = _base(2, unreachable="exclude")
    loose = base.replace(max_latency_ms=45.0).solve()
    assert loose.status == "optimal" and len(loose.unreachable)
    # a tighter SLA leaves out more demand points: a different problem
    tighter = base.replace(max_latency_ms=30.0)
    assert len(tighter.lower().unreachable) > len(loose.unreachable)
    assert reuse_result(tighter, loose, {"max_latency_ms": 45.0}) is None
    grid = {"max_latency_ms": [30.0, 44.9, 45.0]}
    cold = sweep(base, grid, executor="serial", progress=False, reuse=False, warm_start=False)
    reused = sweep(base, grid, executor="serial", progress=False)
    _same(cold.table, reused.table)
    assert not reused.table["reused"].iloc[0]


def test_plan_orders_each_sla_group_loose_to_tight():
    points = [{"n_sites": n, "max_latency_ms": s} for n in (2, 3) for s in (40.0, None, 60.0)]
    plan = plan_sweep(points, 2)
    assert plan.sla_axes == ("max_latency_ms",)
    assert plan.chains == ((1, 2, 0), (4, 5, 3))
    assert plan.reuse_from[0] == (2,) and plan.reuse_from[2] == (1,) and plan.reuse_from[1] == ()
    one = plan_sweep(points, 1, schedule="static")
    assert one.chains == ((1, 2, 0, 4, 5, 3),)
    # the head of the next group warm-starts from the same SLA of the previous group
    assert one.warm_from[4] == 1 and one.warm_from[5] == 2 and one.warm_from[3] == 0
    assert one.warm_from[0] == 2
    # one group on two workers: cut into a loose and a tight half
    single = [{"max_latency_ms": v} for v in (40.0, 50.0, 60.0, None)]
    halves = plan_sweep(single, 2)
    assert halves.chains == ((3, 2), (1, 0))
    assert halves.reuse_from == ((1,), (), (3,), ())
    off = plan_sweep(points, 2, reuse=False)
    assert off.chains == ((0, 1, 2), (3, 4, 5)) and off.sla_axes == ()
    cold = plan_sweep(points, 2, warm_start=False)
    assert cold.chains == ((1, 2, 0), (4, 5, 3)) and set(cold.warm_from) == {None}


def test_plan_deals_groups_round_robin_so_slow_and_fast_groups_mix():
    # groups along n_sites are dealt c, c + 2, ...: a contiguous half would give one worker every
    # small n_sites (the slow proofs of the world r=2 sweep)
    points = [{"n_sites": n, "max_latency_ms": s} for n in (2, 3, 4, 5) for s in (40.0, 60.0)]
    plan = plan_sweep(points, 2, schedule="static")
    assert plan.chains == ((1, 0, 5, 4), (3, 2, 7, 6))
    # a chain's next group warm-starts from the same SLA of its previous group (two steps on)
    assert plan.warm_from[5] == 1 and plan.warm_from[4] == 0 and plan.warm_from[7] == 3
    assert plan.warm_from[1] is None and plan.warm_from[3] is None
    three = plan_sweep(points, 3, schedule="static")
    assert three.chains == ((1, 0, 7, 6), (3, 2), (5, 4))


def test_dynamic_plan_is_one_chain_per_group_whatever_the_workers():
    # every group its own chain (the pool hands the next one to a free worker), warm-started
    # within the group only: the same plan for 1, 2 or 3 workers
    points = [{"n_sites": n, "max_latency_ms": s} for n in (2, 3, 4, 5) for s in (40.0, 60.0)]
    plans = [plan_sweep(points, w) for w in (1, 2, 3)]
    assert all(p == plans[0] for p in plans)
    assert plans[0].chains == ((1, 0), (3, 2), (5, 4), (7, 6))
    assert plans[0].warm_from == (1, None, 3, None, 5, None, 7, None)
    assert plans[0].reuse_from[0] == (1,) and plans[0].reuse_from[1] == ()
    with pytest.raises(ValidationError):
        plan_sweep(points, 2, schedule="round-robin")


def test_reuse_in_processes_and_on_dask_is_the_serial_answer():
    base = _base(4)
    grid = {"n_sites": [2, 3, 4], "max_latency_ms": [45.0, 50.0, 60.0, None]}
    cold = sweep(base, grid, executor="serial", progress=False, warm_start=False, reuse=False)
    procs = sweep(base, grid, executor="processes", max_workers=2, progress=False)
    _same(cold.table, procs.table)
    assert procs.table["reused"].any()
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        dask = sweep(base, grid, scheduler=cluster.scheduler_address, progress=False)
    assert dask.executor == "dask"
    _same(cold.table, dask.table)
    assert list(dask.table["reused"]) == list(procs.table["reused"])


def test_cli_no_reuse_flag(tmp_path: Path, capsys) -> None:
    base = _base(3)
    sites = tmp_path / "sites.csv"
    demand = tmp_path / "demand.csv"
    latency = tmp_path / "latency.csv"
    base.sites.to_csv(sites, index=False)
    base.demand.to_csv(demand, index=False)
    base.latency.to_csv(latency, index=False)
    toml = tmp_path / "base.toml"
    toml.write_text(
        f'[inputs]\nsites = "{sites.as_posix()}"\ndemand = "{demand.as_posix()}"\n'
        f'latency = "{latency.as_posix()}"\n[problem]\nobjective = "median"\nn_sites = 2\n'
    )
    tables = {}
    for extra in ([], ["--no-reuse"]):
        args = ["sweep", str(toml), "--grid", "max_latency_ms=45,50,60,80", "--workers", "1"]
        code = main([*args, "--no-progress", "--format", "json", *extra])
        assert code == 0
        tables[bool(extra)] = pd.DataFrame(json.loads(capsys.readouterr().out))
    _same(tables[False], tables[True])
    assert tables[False]["reused"].any() and not tables[True]["reused"].any()
