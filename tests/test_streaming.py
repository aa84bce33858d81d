"""Streaming end to end (issue 15): Streaming, annotate_result, egress labels, capacity in Gbps."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from placement import catalog, config, demand, workload
from placement.cli import main
from placement.costs import CostModel, egress_usd_per_gb
from placement.errors import ValidationError
from placement.problem import Problem
from placement.result import Result
from placement.workload import Streaming, annotate_result


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sites = catalog.sites(providers=["aws", "gcp"], kinds="region")
        d = demand.from_cities(countries=["DE", "FR", "BR"], min_population=1_000_000)
    return sites, d


def test_streaming_numbers_and_validation() -> None:
    s = Streaming(concurrency_ratio=0.01, bitrate_mbps=5)
    assert s.gbps_per_unit_at_peak == pytest.approx(5e-5)
    assert s.capacity_units(100.0) == pytest.approx(2_000_000)
    assert s.capacity_units() is None
    assert s.gb_per_unit_per_year() == pytest.approx(workload.gb_per_unit_per_year(0.01, 5))
    flat = Streaming(concurrency_ratio=0.01, curve="flat")
    # a flat curve watches at the peak all day: 0.01 x 24 h x 365 d x 5 Mbps = 197.1 GB/yr
    assert flat.gb_per_unit_per_year() == pytest.approx(0.01 * 8760 * 5 * 3600 / 8 / 1000)
    assert Streaming(0.01, curve=",".join(["1"] * 24)).curve_values.tolist() == [1.0] * 24
    for kwargs in ({"concurrency_ratio": 0}, {"concurrency_ratio": 0.1, "bitrate_mbps": -1}):
        with pytest.raises(ValidationError):
            Streaming(**kwargs)
    with pytest.raises(ValidationError, match="curve"):
        Streaming(0.01, curve="weekend")
    with pytest.raises(ValidationError, match="capacity_gbps"):
        Streaming(0.01, capacity_gbps=0)
    with pytest.raises(ValidationError, match="concurrency_ratio"):
        Streaming.from_dict({"bitrate_mbps": 5})
    with pytest.raises(ValidationError, match="bitrate"):
        Streaming.from_dict({"concurrency_ratio": 0.1, "bitrate": 5})


def test_annotate_result_peak_gbps_and_egress(small) -> None:
    sites, d = small
    r = Problem(sites, d, n_sites=2).solve(time_limit_s=60)
    s = Streaming(concurrency_ratio=0.01)
    a = annotate_result(r, s)
    assert a.params["streaming"]["concurrency_ratio"] == 0.01
    os_ = a.open_sites.set_index("site_id")
    # the peak of each site: the max over UTC hours of its viewers x bitrate, at most the sum of
    # its users' peaks (Brazil and Europe peak at different UTC hours)
    expected = workload.site_peak_gbps(
        r.primary()[["demand_id", "site_id", "share"]], d, concurrency_ratio=0.01
    )
    assert os_["peak_gbps"].to_numpy() == pytest.approx(
        expected.loc[os_.index, "peak_gbps"].to_numpy()
    )
    load = os_["load"].to_numpy()
    assert (os_["peak_gbps"].to_numpy() <= load * s.gbps_per_unit_at_peak + 1e-9).all()
    # egress: load x GB per user-year, at the provider's list price (no cost model here)
    gb_year = load * s.gb_per_unit_per_year()
    assert os_["egress_tb_per_month"].to_numpy() == pytest.approx(gb_year / 1000 / 12)
    # each region's first-tier price (aws:sa-east-1 0.15 since per-region AWS prices ship)
    price = egress_usd_per_gb(os_["provider"], os_["region_code"])
    assert set(np.round(price, 4)) <= {0.09, 0.12, 0.15}
    assert os_["egress_usd_per_month"].to_numpy() == pytest.approx(gb_year * price / 12)
    assert a.metrics["egress_usd_per_year"] == pytest.approx((gb_year * price).sum())
    assert a.metrics["peak_gbps"] <= a.metrics["sum_site_peak_gbps"] + 1e-9
    assert 0 <= a.metrics["peak_utc_hour"] < 24
    assert "streaming: peak" in a.summary() and "TB" in a.summary()
    from placement.report import render_html
    from placement.report.figures import bandwidth_figure

    fig = bandwidth_figure(a)
    assert len(fig.data) == len(a.open_sites)  # one stacked trace per site
    hourly_total = np.sum([np.asarray(t.y) for t in fig.data], axis=0)
    assert hourly_total.max() == pytest.approx(a.metrics["peak_gbps"], rel=1e-3)
    html = render_html(a)
    assert "<h3>Bandwidth</h3>" in html and "<th>peak (Gbps)</th>" in html
    assert "<th>egress (USD/month)</th>" in html
    back = Result.from_json(a.to_json())
    assert back.metrics["peak_gbps"] == pytest.approx(a.metrics["peak_gbps"])
    assert back.params["streaming"] == a.params["streaming"]
    assert back.open_sites["peak_gbps"].to_numpy() == pytest.approx(os_["peak_gbps"].to_numpy())


def test_served_egress_is_labelled_egress(small) -> None:
    sites, d = small
    s = Streaming(concurrency_ratio=0.01)
    cm = CostModel(it_load_kw=0.0, kw_per_unit=1e-6, gb_per_unit_per_year=s.gb_per_unit_per_year())
    r = Problem(sites, d, cost_model=cm, n_sites=2).solve(time_limit_s=60)
    os_ = r.open_sites
    load = os_["load"].to_numpy()
    egress = load * s.gb_per_unit_per_year() * os_["egress_usd_per_gb"].to_numpy()
    assert os_["egress_usd_per_year"].to_numpy() == pytest.approx(egress)
    assert r.metrics["egress_usd_per_year"] > 0
    # served keeps the energy of serving (kW per unit), the total is unchanged by the split
    variable = os_["variable_usd_per_unit_per_year"].to_numpy() * load
    assert os_["served_usd_per_year"].to_numpy() == pytest.approx(variable - egress)
    assert r.metrics["total_cost_usd_per_year"] == pytest.approx(
        r.metrics["egress_usd_per_year"]
        + r.metrics["served_usd_per_year"]
        + r.metrics.get("fixed_usd_per_year", 0.0)
        + r.metrics.get("energy_usd_per_year", 0.0)
        + r.metrics.get("carbon_usd_per_year", 0.0)
    )
    # annotate_result takes the cost model's egress money as the bill
    a = annotate_result(r, s)
    assert a.open_sites["egress_usd_per_month"].to_numpy() == pytest.approx(egress / 12)


def test_streaming_table_in_toml_sets_capacity_and_egress(tmp_path) -> None:
    f = tmp_path / "p.toml"
    f.write_text(
        'name = "t"\n[inputs]\ncountries = ["DE"]\nmin_population = 1000000\n'
        'providers = ["aws"]\n[problem]\nobjective = "cost"\nn_sites = 1\n'
        "[costs]\nfixed_cost_usd_per_year = 1\n"
        "[streaming]\nconcurrency_ratio = 0.01\ncapacity_gbps = 50\n",
        encoding="utf-8",
    )
    cfg = config.load_config(f)
    assert cfg["streaming"] == {"concurrency_ratio": 0.01, "capacity_gbps": 50}
    p = Problem.from_config(cfg)
    assert p.capacity == pytest.approx(50 / 5e-5)
    assert p.cost_model.gb_per_unit_per_year == pytest.approx(
        Streaming(0.01).gb_per_unit_per_year()
    )
    f.write_text("[streaming]\nconcurrency = 0.01\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="concurrency"):
        config.load_config(f)


def test_cli_solve_streaming_json_fields(tmp_path, capsys) -> None:
    out = tmp_path / "r.json"
    args = [
        "solve",
        "--provider", "aws",
        "--kind", "region",
        "--country", "DE,FR",
        "--min-population", "1000000",
        "--open", "1",
        "--concurrency", "0.01",
        "--bitrate-mbps", "4",
        "--out", str(out),
    ]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "streaming: peak" in err and "open sites (1 site)" in err
    data = json.loads(out.read_text())
    site = data["open_site_details"][0]
    for col in ("peak_gbps", "peak_utc_hour", "egress_tb_per_month", "egress_usd_per_month"):
        assert site[col] is not None and site[col] >= 0
    assert data["params"]["streaming"]["bitrate_mbps"] == 4
    assert data["solver"]["time_limit_s"] == 120  # the stated default
    assert math.isclose(data["metrics"]["peak_gbps"], site["peak_gbps"])
    # --capacity-gbps: a capacity in users; 1 site cannot carry Germany + France at 10 Gbps
    rc = main([*args[:-2], "--capacity-gbps", "10", "--out", str(tmp_path / "c.json")])
    assert rc == 3
    assert "capacity" in capsys.readouterr().err
    # streaming options need --concurrency
    assert main(["solve", "--country", "DE", "--open", "1", "--bitrate-mbps", "4"]) == 2
    assert "--bitrate-mbps" in capsys.readouterr().err


def test_cli_solve_states_an_assumed_workload_by_default(tmp_path, capsys) -> None:
    out = tmp_path / "r.json"
    base = ["solve", "--country", "PT", "--provider", "aws", "--open", "1", "--out", str(out)]
    assert main(base) == 0
    assert "[assumed 0.0001 concurrent viewers per user" in capsys.readouterr().err
    data = json.loads(out.read_text())
    assert data["params"]["streaming"]["assumed"] is True
    assert data["open_site_details"][0]["peak_gbps"] > 0
    assert main([*base, "--no-streaming"]) == 0
    data = json.loads(out.read_text())
    assert "streaming" not in data["params"]
    assert "peak_gbps" not in data["open_site_details"][0]
