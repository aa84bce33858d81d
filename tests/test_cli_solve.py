"""``placement solve``: CSV and TOML inputs, the result JSON contract, exit codes."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from placement.cli import main
from placement.geo import distance_matrix_km


@pytest.fixture
def inputs(tmp_path):
    sites = pd.DataFrame(
        {
            "site_id": ["iad", "sea", "fra", "sin", "gru"],
            "lat": [39.04, 47.61, 50.11, 1.29, -23.55],
            "lon": [-77.49, -122.33, 8.68, 103.85, -46.63],
            "provider": ["aws", "aws", "gcp", "azure", "gcp"],
        }
    )
    demand = pd.DataFrame(
        {
            "demand_id": ["nyc", "la", "lon", "tok", "syd", "sao"],
            "lat": [40.71, 34.05, 51.5, 35.68, -33.87, -23.55],
            "lon": [-74.0, -118.24, -0.12, 139.69, 151.2, -46.63],
            "weight": [8.0, 4.0, 9.0, 14.0, 5.0, 12.0],
        }
    )
    d = distance_matrix_km(demand["lat"], demand["lon"], sites["lat"], sites["lon"])
    ii, jj = np.meshgrid(range(len(demand)), range(len(sites)), indexing="ij")
    lat = pd.DataFrame(
        {
            "demand_id": demand["demand_id"].to_numpy()[ii.ravel()],
            "site_id": sites["site_id"].to_numpy()[jj.ravel()],
            "latency_ms": np.round(5 + d.ravel() / 100, 1),
        }
    )
    paths = {k: tmp_path / f"{k}.csv" for k in ("sites", "demand", "latency")}
    sites.to_csv(paths["sites"], index=False)
    demand.to_csv(paths["demand"], index=False)
    lat.to_csv(paths["latency"], index=False)
    return paths, lat


def _args(paths, *extra):
    return [
        "solve",
        "--sites",
        str(paths["sites"]),
        "--demand",
        str(paths["demand"]),
        "--latency",
        str(paths["latency"]),
        *extra,
    ]


def test_solve_writes_the_json_contract(inputs, tmp_path, capsys):
    paths, lat = inputs
    out = tmp_path / "result.json"
    code = main(_args(paths, "--objective", "median", "--open", "2", "--out", str(out)))
    assert code == 0
    data = json.loads(out.read_text())
    for key in ("status", "objective", "best_bound", "gap", "open_sites", "assignments", "metrics"):
        assert key in data
    assert data["status"] == "optimal"
    assert len(data["open_sites"]) == 2
    first = data["assignments"][0]
    assert set(first) >= {"demand_id", "site_id", "rank", "latency_ms"}
    # the assignment latencies are the table's, and every demand point has a primary
    table = lat.set_index(["demand_id", "site_id"])["latency_ms"]
    for a in data["assignments"]:
        assert a["latency_ms"] == pytest.approx(table[(a["demand_id"], a["site_id"])])
    assert {a["demand_id"] for a in data["assignments"] if a["rank"] == 1} == {
        "nyc",
        "la",
        "lon",
        "tok",
        "syd",
        "sao",
    }
    err = capsys.readouterr().err
    assert "status: optimal" in err and "wrote" in err


def test_solve_to_stdout_is_pure_json(inputs, capfd):
    paths, _ = inputs
    code = main(_args(paths, "--objective", "center", "--open", "3"))
    assert code == 0
    captured = capfd.readouterr()
    data = json.loads(captured.out)  # nothing but the JSON on stdout (no solver banner)
    assert data["params"]["objective"] == "center"
    assert data["objective"] == pytest.approx(data["metrics"]["max_latency_ms"])


def test_solve_json_is_not_printed_to_a_terminal_unless_asked(inputs, capsys, monkeypatch):
    """Without --out a terminal gets the summary and a hint; --out - prints the JSON anyway."""
    import sys

    paths, _ = inputs
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(_args(paths, "--open", "2")) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "not printed to a terminal" in err and "--out -" in err
    assert "objective (median)" in err  # the summary still is
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(_args(paths, "--open", "2", "--out", "-")) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "optimal"
    assert "not printed" not in err


def test_solve_with_redundancy_and_sla(inputs, tmp_path):
    paths, _ = inputs
    out = tmp_path / "r.json"
    code = main(
        _args(
            paths,
            "--open",
            "3",
            "--redundancy",
            "2",
            "--failure-domain",
            "provider",
            "--out",
            str(out),
        )
    )
    assert code == 0
    data = json.loads(out.read_text())
    ranks = pd.DataFrame(data["assignments"]).groupby("demand_id")["rank"].max()
    assert (ranks == 2).all()


def test_infeasible_exits_3_with_reason_and_no_file(inputs, tmp_path, capsys):
    paths, _ = inputs
    out = tmp_path / "r.json"
    code = main(_args(paths, "--open", "2", "--max-latency-ms", "20", "--out", str(out)))
    assert code == 3
    assert not out.exists()
    err = capsys.readouterr().err
    assert "no candidate site within 20 ms" in err


def test_sla_below_every_modelled_pair_exits_3_not_2(inputs, tmp_path, capsys):
    # no --latency: the model's table, pruned by a 1-ms SLA, has no pair at all; that is a
    # problem without a solution (exit 3, explained), not an empty input (exit 2)
    paths, _ = inputs
    args = ["solve", "--sites", str(paths["sites"]), "--demand", str(paths["demand"])]
    code = main([*args, "--open", "2", "--max-latency-ms", "1", "--out", str(tmp_path / "r.json")])
    assert code == 3
    assert "6 demand points (nyc, la, lon, tok, syd, …) have no candidate site within 1 ms" in (
        capsys.readouterr().err
    )


def test_toml_config_and_option_override(inputs, tmp_path):
    paths, _ = inputs
    cfg = tmp_path / "problem.toml"
    cfg.write_text(
        'name = "two-sites"\n'
        "[inputs]\n"
        f'sites = "{paths["sites"].name}"\n'
        f'demand = "{paths["demand"].name}"\n'
        f'latency = "{paths["latency"].name}"\n'
        "[problem]\n"
        'objective = "median"\n'
        "n_sites = 2\n"
        "[solver]\n"
        "time_limit_s = 30\n"
    )
    out = tmp_path / "r.json"
    assert main(["solve", "--config", str(cfg), "--out", str(out)]) == 0
    two = json.loads(out.read_text())
    assert two["name"] == "two-sites" and len(two["open_sites"]) == 2
    assert main(["solve", "--config", str(cfg), "--open", "3", "--out", str(out)]) == 0
    three = json.loads(out.read_text())
    assert len(three["open_sites"]) == 3
    assert three["objective"] < two["objective"]


def test_cbc_outer_time_limit_is_enforced(hard_problem):
    """CBC runs under an outer wall-clock limit; the result says how it stopped."""
    t0 = time.perf_counter()
    r = hard_problem.solve(solver="cbc", time_limit_s=1)
    assert time.perf_counter() - t0 < 1 * 1.25 + 5 + 3
    assert r.status in ("feasible", "no_solution", "optimal")
    if r.status == "feasible":
        assert r.message


def test_cost_flags_are_laid_over_the_toml_costs_key_by_key(inputs, tmp_path):
    """A cost flag replaces its own TOML key only; the file's other cost keys stay."""
    from placement.cli import build_parser
    from placement.cli.solve import build_problem

    paths, _ = inputs
    cfg = tmp_path / "costs.toml"
    cfg.write_text(
        "[inputs]\n"
        f'sites = "{paths["sites"].name}"\n'
        f'demand = "{paths["demand"].name}"\n'
        f'latency = "{paths["latency"].name}"\n'
        "[problem]\n"
        'objective = "cost"\n'
        "[costs]\n"
        "fixed_cost_usd_per_year = 1000.0\n"
        "it_load_kw = 50.0\n"
        "price_usd_per_kwh = 0.1\n"
        "pue = 1.2\n"
    )
    parser = build_parser()
    plain, _ = build_problem(parser.parse_args(["solve", "--config", str(cfg)]))
    over, _ = build_problem(
        parser.parse_args(["solve", "--config", str(cfg), "--carbon-price-usd-per-tonne", "80"])
    )
    again, _ = build_problem(
        parser.parse_args(["solve", "--config", str(cfg), "--it-load-kw", "0"])
    )
    assert plain.cost_model.fixed_cost_usd_per_year == 1000.0
    assert plain.cost_model.it_load_kw == 50.0
    # the flag is added; every key of the file is kept
    assert over.cost_model.carbon_price_usd_per_tonne == 80.0
    assert over.cost_model.fixed_cost_usd_per_year == 1000.0
    assert over.cost_model.it_load_kw == 50.0 and over.cost_model.pue == 1.2
    # a flag equal to the CostModel default still overrides the file's value
    assert again.cost_model.it_load_kw == 0.0 and again.cost_model.pue == 1.2


def test_cost_objective_without_costs_warns(inputs, capsys):
    paths, _ = inputs
    assert main(_args(paths, "--objective", "cost", "--open", "2", "--out", "-")) == 0
    err = capsys.readouterr().err
    assert "no cost given: every site costs 0" in err
    assert main(_args(paths, "--objective", "median", "--open", "2", "--out", "-")) == 0
    assert "no cost given" not in capsys.readouterr().err


@pytest.fixture
def rum_files(inputs, tmp_path):
    """Users' measurements (London and Paris users to fra) and one measured pair (nyc-iad)."""
    paths, _ = inputs
    rum = tmp_path / "rum.csv"
    rum.write_text(
        "country_code,lat_deg,lon_deg,site_id,statistic,latency_ms\n"
        "GB,51.5,-0.12,fra,p50,31\nGB,53.48,-2.24,fra,p95,88\nFR,48.86,2.35,fra,mean,24\n"
    )
    measured = tmp_path / "pairs.csv"
    measured.write_text("demand_id,site_id,latency_ms\nnyc,iad,1.5\n")
    return paths, rum, measured


def test_rum_and_measured_adjust_the_model(rum_files, tmp_path, capsys):
    from placement import config, latency

    paths, rum, measured = rum_files
    out = tmp_path / "r.json"
    argv = ["solve", "--sites", str(paths["sites"]), "--demand", str(paths["demand"])]
    argv += ["--open", "5", "--rum", str(rum), "--measured", str(measured), "--out", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "calibrated users' access on 3 measurement rows (2 countries: FR, GB)" in err
    assert "error on your p50 rows (n=1)" in err and "error on all your rows (n=3)" in err
    got = pd.DataFrame(json.loads(out.read_text())["assignments"]).set_index("demand_id")
    assert got.loc["nyc", "site_id"] == "iad" and got.loc["nyc", "latency_ms"] == 1.5
    # London's latency to fra is the calibrated model's, not the shipped one's
    sites = config.load_sites(str(paths["sites"]))
    demand = config.load_demand(str(paths["demand"]))
    cal = latency.calibrate(latency.default_model(), pd.read_csv(rum), sites)
    table = cal.model.table(demand, sites).set_index(["demand_id", "site_id"])
    shipped = latency.default_model().table(demand, sites).set_index(["demand_id", "site_id"])
    assert got.loc["lon", "site_id"] == "fra"
    expect = table.loc[("lon", "fra"), "latency_ms"]
    assert got.loc["lon", "latency_ms"] == pytest.approx(expect, rel=1e-9)
    assert abs(expect - shipped.loc[("lon", "fra"), "latency_ms"]) > 1.0


def test_rum_with_a_latency_table_or_an_unknown_site_exits_2(rum_files, tmp_path, capsys):
    paths, rum, _ = rum_files
    assert main([*_args(paths, "--open", "2"), "--rum", str(rum), "--out", "-"]) == 2
    assert "a latency table replaces the model" in capsys.readouterr().err
    bad = tmp_path / "bad_rum.csv"
    bad.write_text("country_code,site_id,latency_ms\nGB,lhr,20\n")
    argv = ["solve", "--sites", str(paths["sites"]), "--demand", str(paths["demand"])]
    assert main([*argv, "--open", "2", "--rum", str(bad), "--out", "-"]) == 2
    err = capsys.readouterr().err
    assert "unknown site_id" in err and "'lhr'" in err


def test_toml_rum_path_is_relative_to_the_file(rum_files, tmp_path, capsys):
    paths, rum, measured = rum_files
    cfg = tmp_path / "problem.toml"
    cfg.write_text(
        "[inputs]\n"
        f'sites = "{paths["sites"].name}"\n'
        f'demand = "{paths["demand"].name}"\n'
        f'rum = "{rum.name}"\n'
        f'measured = "{measured.name}"\n'
        "[problem]\nn_sites = 5\n"
    )
    out = tmp_path / "t.json"
    assert main(["solve", "--config", str(cfg), "--out", str(out)]) == 0
    assert "calibrated users' access on 3 measurement rows" in capsys.readouterr().err
    got = pd.DataFrame(json.loads(out.read_text())["assignments"]).set_index("demand_id")
    assert got.loc["nyc", "latency_ms"] == 1.5
