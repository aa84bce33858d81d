"""Sweeps with warm starts: same objectives as cold sweeps, contiguous chunks, the CLI flag."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placement.cli import main
from placement.errors import ValidationError
from placement.problem import Problem
from placement.scenarios import sweep
from placement.scenarios.sweep import chunk_bounds, solve_chunk

COMPARED = ["status", "objective", "n_open"]


def _base(seed: int = 0, **kw) -> Problem:
    rng = np.random.default_rng(seed)
    n, m = 30, 12
    xy_d, xy_s = rng.uniform(0, 100, (n, 2)), rng.uniform(0, 100, (m, 2))
    lat = 1.0 + np.linalg.norm(xy_d[:, None, :] - xy_s[None, :, :], axis=2)
    w = rng.integers(1, 20, n).astype(float)
    kw.setdefault("objective", "median")
    kw.setdefault("n_sites", 2)
    return Problem.from_cost_matrix(lat, weights=w, fixed_cost=rng.uniform(50, 90, m), **kw)


def _same_objectives(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a["status"]) == list(b["status"])
    np.testing.assert_allclose(
        a["objective"].to_numpy(float), b["objective"].to_numpy(float), rtol=1e-7, equal_nan=True
    )


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("kw", "grid"),
    [
        ({}, {"n_sites": [2, 3, 4, 5], "max_latency_ms": [45.0, 70.0, None]}),
        ({"objective": "center"}, {"n_sites": [2, 3, 4, 5]}),
        (
            {"objective": "cost", "capacity": 60.0, "n_sites": None},
            {"latency_penalty_usd_per_unit_ms": [0, 1, 3]},
        ),
    ],
)
def test_warm_sweep_has_the_cold_objectives(seed, kw, grid):
    base = _base(seed, **kw)
    for method in ("auto", "pulp"):
        cold = sweep(base, grid, executor="serial", progress=False, warm_start=False, method=method)
        # static: one chain through every SLA group, warm-started across the groups (the
        # default, dynamic, warm-starts within a group only: from a looser SLA's optimum, which
        # breaks this SLA, or the point would have been reused)
        warm = sweep(
            base, grid, executor="serial", progress=False, method=method, schedule="static"
        )
        _same_objectives(cold.table, warm.table)
        flags = [r.solver["warm_start"] for r in cold.results if r is not None]
        assert not any(flags)
        solved = [r for r in warm.results if r is not None and r.status == "optimal"]
        assert len(solved) >= 3
        assert any(r.solver["warm_start"] for r in solved[1:])  # the chain is used
        dynamic = sweep(base, grid, executor="serial", progress=False, method=method)
        _same_objectives(cold.table, dynamic.table)


def test_warm_sweep_over_n_sites_restarts_the_root_lp():
    base = _base(7)
    grid = {"n_sites": [2, 3, 4, 5, 6]}
    cold = sweep(base, grid, executor="serial", progress=False, warm_start=False)
    warm = sweep(base, grid, executor="serial", progress=False)
    _same_objectives(cold.table, warm.table)
    assert [r.solver["restarted"] for r in cold.results] == [False] * 5
    assert [r.solver["restarted"] for r in warm.results] == [False, True, True, True, True]


def test_warm_sweep_in_processes_is_ordered_and_deterministic():
    base = _base(4)
    grid = {"n_sites": [2, 3, 4, 99, 5], "max_latency_ms": [50.0, None]}
    serial = sweep(base, grid, executor="serial", progress=False)
    cold = sweep(base, grid, executor="serial", progress=False, warm_start=False)
    procs = sweep(base, grid, executor="processes", max_workers=2, progress=False)
    again = sweep(base, grid, executor="processes", max_workers=2, progress=False)
    for res in (serial, procs):
        t = res.table
        assert list(t["n_sites"]) == [2, 2, 3, 3, 4, 4, 99, 99, 5, 5]
        assert (t.loc[t["n_sites"] == 99, "status"] == "error").all()
        _same_objectives(cold.table, t)
    drop = ["solve_s"]
    pd.testing.assert_frame_equal(procs.table.drop(columns=drop), again.table.drop(columns=drop))


def test_warm_sweep_on_dask():
    distributed = pytest.importorskip("distributed")
    base = _base(5)
    grid = {"n_sites": [2, 3, 4, 5]}
    cold = sweep(base, grid, executor="serial", progress=False, warm_start=False)
    with (
        distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        res = sweep(base, grid, executor=client, progress=False)
    assert res.executor == "dask" and list(res.table["n_sites"]) == [2, 3, 4, 5]
    _same_objectives(cold.table, res.table)


def test_chunks_are_contiguous_and_balanced():
    assert chunk_bounds(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert chunk_bounds(2, 8) == [(0, 1), (1, 2)]
    assert chunk_bounds(5, 1) == [(0, 5)]
    for n, k in ((24, 2), (7, 4), (1, 1)):
        b = chunk_bounds(n, k)
        assert b[0][0] == 0 and b[-1][1] == n
        assert all(b[i][1] == b[i + 1][0] for i in range(len(b) - 1))
        sizes = [stop - start for start, stop in b]
        assert max(sizes) - min(sizes) <= 1


def test_chunk_chain_skips_failed_points_and_unknown_sites():
    base = _base(6)
    points = [{"n_sites": 3}, {"n_sites": 99}, {"n_sites": 4}]
    out = solve_chunk(base, points, {})
    assert [o[0] is None for o in out] == [False, True, False]
    assert out[2][0].solver["warm_start"]  # from point 0, across the failed point 1
    # a point whose sites table lacks some warm-start ids is still solved (ids left out)
    gone = out[0][0].open_sites["site_id"].iloc[0]
    fewer = {
        "n_sites": 3,
        "sites": base.sites[base.sites["site_id"] != gone],
        "latency": base.latency[base.latency["site_id"] != gone],
    }
    chained = solve_chunk(base, [{"n_sites": 3}, fewer], {})
    assert chained[1][1] == "" and chained[1][0].status == "optimal"


def test_warm_start_must_be_a_bool():
    with pytest.raises(ValidationError, match="warm_start"):
        sweep(_base(), {"n_sites": [2]}, executor="serial", progress=False, warm_start="yes")


def test_cli_no_warm_start_flag(tmp_path: Path, capsys) -> None:
    base = _base(7)
    base.sites.to_csv(tmp_path / "sites.csv", index=False)
    base.demand.to_csv(tmp_path / "demand.csv", index=False)
    base.latency.to_csv(tmp_path / "latency.csv", index=False)
    (tmp_path / "base.toml").write_text(
        "[inputs]\n"
        'sites = "sites.csv"\ndemand = "demand.csv"\nlatency = "latency.csv"\n'
        "[problem]\n"
        'objective = "median"\nn_sites = 2\n'
    )
    argv = ["sweep", str(tmp_path / "base.toml"), "--grid", "n_sites=2:5", "--no-progress"]
    outputs = []
    for extra in ([], ["--no-warm-start"], ["--workers", "1", "--no-warm-start"]):
        assert main([*argv, *extra, "--format", "csv"]) == 0
        outputs.append(pd.read_csv(io.StringIO(capsys.readouterr().out)))
    for other in outputs[1:]:
        _same_objectives(outputs[0], other)
    assert len(outputs[0]) == 4 and (outputs[0]["status"] == "optimal").all()


def test_latency_table_is_validated_once_per_sweep(monkeypatch):
    import placement.lowering as lowering_mod
    import placement.problem as problem_mod
    from placement.scenarios._problem import with_full_latency

    calls = []
    real = problem_mod.validate_latency_table

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    # the table is validated where it is lowered and where a sweep computes it once
    monkeypatch.setattr(lowering_mod, "validate_latency_table", counting)
    monkeypatch.setattr(problem_mod, "validate_latency_table", counting)
    dense = _base(3)  # a dense matrix is checked on construction: no table to validate
    assert (
        sweep(dense, {"n_sites": [2, 3]}, executor="serial", progress=False)
        .table["status"]
        .eq("optimal")
        .all()
    )
    assert calls == []
    base = dense.replace(latency=dense.latency)  # the same pairs as a long table
    res = sweep(base, {"n_sites": [2, 3, 4]}, executor="serial", progress=False)
    # one validation for the three points (of the shared table), none per point
    assert len(calls) == 1 and (res.table["status"] == "optimal").all()
    # copies that keep the sites and demand keep the checked table; new tables are checked
    shared = with_full_latency(base)
    assert len(calls) == 2
    shared.replace(n_sites=3).latency_table()
    assert len(calls) == 2
    shared.replace(demand=shared.demand.assign(weight=1.0)).latency_table()
    assert len(calls) == 3
    with pytest.raises(ValidationError, match="unknown id"):  # fewer sites than the table has
        shared.replace(sites=shared.sites.iloc[:8]).latency_table()
    calls.pop()
    unchecked = base.replace(latency=shared.latency)
    unchecked.latency_table()
    assert len(calls) == 4
    # the same answers as points built without the shared table
    cold = sweep(
        base, {"n_sites": [2, 3, 4]}, executor="serial", progress=False, reuse_latency=False
    )
    _same_objectives(res.table, cold.table)


def _toml(tmp_path: Path, base: Problem) -> Path:
    base.sites.to_csv(tmp_path / "sites.csv", index=False)
    base.demand.to_csv(tmp_path / "demand.csv", index=False)
    base.latency.to_csv(tmp_path / "latency.csv", index=False)
    (tmp_path / "base.toml").write_text(
        "[inputs]\n"
        'sites = "sites.csv"\ndemand = "demand.csv"\nlatency = "latency.csv"\n'
        "[problem]\n"
        'objective = "median"\nn_sites = 2\n'
    )
    return tmp_path / "base.toml"


def test_cli_scheduler_runs_on_a_dask_cluster_with_the_local_results(tmp_path: Path, capsys):
    distributed = pytest.importorskip("distributed")
    toml = _toml(tmp_path, _base(8))
    argv = ["sweep", str(toml), "--grid", "max_latency_ms=45,None", "--grid", "n_sites=2:5"]
    argv += ["--grid", "min_sites=None,99", "--format", "csv"]
    assert main([*argv, "--workers", "2", "--no-progress"]) == 0  # local processes
    local = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert main([*argv, "--workers", "1", "--no-progress", "--no-warm-start"]) == 0
    cold = pd.read_csv(io.StringIO(capsys.readouterr().out))
    # a scheduler on a real TCP port, two single-threaded workers (two warm-start chains, as the
    # two local processes); the client the command opens is its own
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert main([*argv, "--scheduler", cluster.scheduler_address]) == 0
        captured = capsys.readouterr()
        remote = pd.read_csv(io.StringIO(captured.out))
        with distributed.Client(cluster) as client:  # every task of the sweep has finished
            assert not client.processing() or not any(client.processing().values())
    pd.testing.assert_frame_equal(remote, local)  # rows, statuses, objectives, open sites
    _same_objectives(remote, cold)
    assert len(remote) == 16 and list(remote["n_sites"]) == [2, 2, 3, 3, 4, 4, 5, 5] * 2
    errors = remote[remote["status"] == "error"]
    assert len(errors) == 8 and (errors["min_sites"] == 99).all()
    assert errors["message"].str.contains("min_sites").all()
    assert set(remote.loc[remote["status"] != "error", "status"]) == {"optimal", "infeasible"}
    assert "Dask scheduler tcp://127.0.0.1:" in captured.err
    assert "16/16" in captured.err  # the progress bar counts points
    assert "16 points" in captured.err and "8 failed" in captured.err


def test_scheduler_bad_input_is_a_clear_error(tmp_path: Path, capsys):
    toml = _toml(tmp_path, _base(8))
    argv = ["sweep", str(toml), "--grid", "n_sites=2:3", "--no-progress"]
    assert main([*argv, "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "--scheduler" in err and "--workers" in err
    with pytest.raises(ValidationError, match="either executor or scheduler"):
        sweep(_base(), {"n_sites": [2]}, executor="serial", scheduler="tcp://127.0.0.1:9")
    with pytest.raises(ValidationError, match="scheduler"):
        sweep(_base(), {"n_sites": [2]}, scheduler="  ")
    pytest.importorskip("distributed")
    from placement.scenarios.sweep import connect

    with pytest.raises(ValidationError, match="no Dask scheduler answered within 1 s"):
        connect("tcp://127.0.0.1:9", timeout_s=1.0)  # nothing listens on the discard port


def test_library_scheduler_address_chains_like_processes():
    distributed = pytest.importorskip("distributed")
    base = _base(9)
    grid = {"n_sites": [2, 3, 4, 5, 6, 7]}
    points = [{"n_sites": n} for n in grid["n_sites"]]
    shared = base.with_full_latency()
    # what two local processes compute: two contiguous chains
    chains = solve_chunk(shared, points[:3], {}) + solve_chunk(shared, points[3:], {})
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        res = sweep(base, grid, scheduler=cluster.scheduler_address, progress=False)
    assert res.executor == "dask" and list(res.table["n_sites"]) == grid["n_sites"]
    assert [r.objective for r in res.results] == [o[0].objective for o in chains]
    assert [r.open_site_ids for r in res.results] == [o[0].open_site_ids for o in chains]
    # each point after the first of its worker's chunk starts from the previous one
    assert [r.solver["warm_start"] for r in res.results] == [False, True, True, False, True, True]
    cold = sweep(base, grid, executor="serial", progress=False, warm_start=False)
    _same_objectives(res.table, cold.table)


def test_progress_bar_is_text_without_ipywidgets(monkeypatch) -> None:
    """Without ipywidgets, tqdm.auto (which warns "IProgress not found" in a notebook) is not
    asked for: the text bar on stderr is."""
    import importlib
    import importlib.util
    import sys
    import types

    sweep_module = importlib.import_module("placement.scenarios.sweep")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ipywidgets" else real_find_spec(name, *a),
    )
    trap = types.ModuleType("tqdm.auto")

    def refuse(*args, **kwargs):
        raise AssertionError("tqdm.auto used without ipywidgets")

    trap.tqdm = refuse
    monkeypatch.setitem(sys.modules, "tqdm.auto", trap)
    bar = sweep_module._progress(3, True, "points")
    assert type(bar).__module__ == "tqdm.std"
    bar.close()
    assert sweep_module._progress(3, False, "points") is None
