"""Tests of the cloud customer's cost view in placement.costs (compute list prices, views), the
shipped price tables, and the view carried through Problem results, summaries, reports and the CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from repo_scripts import load_script

import placement as pl
from placement import params
from placement.cli import main
from placement.cli._cost_options import add_cost_options, cost_model_from_args
from placement.costs import (
    COMPUTE_COST_COLUMNS,
    COST_COLUMNS,
    VIEW_COMPONENTS,
    CostModel,
    check_compute_prices,
    compute_prices,
    compute_usd_per_vcpu_hour,
    egress_usd_per_gb,
)
from placement.errors import ValidationError
from placement.report.figures import cost_figure

ROOT = Path(__file__).resolve().parent.parent
HOURS = 8760.0


def _sites(**cols: object) -> pd.DataFrame:
    base = {
        "site_id": ["aws:us-east-1", "gcp:southamerica-east1", "aws:us-east-1-bos-1a"],
        "lat_deg": [38.9, -23.5, 42.4],
        "lon_deg": [-77.0, -46.6, -71.1],
        "provider": ["aws", "gcp", "aws"],
        "region_code": ["us-east-1", "southamerica-east1", "us-east-1-bos-1a"],
        "price_usd_per_kwh": [0.08, 0.12, 0.20],
        "carbon_g_per_kwh": [380.0, 100.0, 300.0],
        "tmean_annual_c": [13.0, 20.0, 10.0],
    }
    base.update(cols)
    return pd.DataFrame(base)


# ------------------------------------------------------------------------ shipped price tables


def _build_prices():
    return load_script("build_prices")


def test_shipped_price_tables_are_built_by_the_script() -> None:
    mod = _build_prices()
    tables = mod.build_all()
    to_text = mod._build_data().to_csv_text
    for name, df in tables.items():
        assert (ROOT / "data" / name).read_text("utf-8") == to_text(df), name


def test_compute_price_index_values_and_coverage() -> None:
    t = compute_prices()
    assert t.attrs["source"] == "shipped"
    counts = t["provider"].value_counts().to_dict()
    assert counts == {"gcp": 40, "aws": 22, "azure": 9}
    idx = t.set_index(["provider", "region_code"])["usd_per_vcpu_hour"]
    # m5.large 0.096, n2-standard-2 0.097118, D2s v5 0.096 USD/h in the cheapest US regions
    assert idx["aws", "us-east-1"] == pytest.approx(0.048)
    assert idx["gcp", "us-central1"] == pytest.approx(0.048559, abs=1e-6)
    assert idx["azure", "eastus"] == pytest.approx(0.048)
    # regions of one provider differ by more than 50 %: São Paulo against Iowa
    assert idx["gcp", "southamerica-east1"] / idx["gcp", "us-central1"] > 1.5
    assert t["usd_per_vcpu_hour"].between(0.04, 0.08).all()
    assert t["usd_per_hour_2vcpu"].to_numpy() == pytest.approx(
        2 * t["usd_per_vcpu_hour"].to_numpy(), abs=2e-6
    )
    assert t["source"].str.contains("skypilot-org/skypilot-catalog").all()


def test_compute_price_coverage_of_the_catalog() -> None:
    sites = pl.catalog.sites(providers=["aws", "gcp", "azure"])
    price = compute_usd_per_vcpu_hour(sites["provider"], sites["region_code"])
    covered = sites.assign(ok=np.isfinite(price))
    regions = covered[covered["kind"] == "region"]
    assert int(regions["ok"].sum()) == 71 and len(regions) == 136
    assert not covered.loc[covered["kind"] == "local-zone", "ok"].any()  # no zone prices shipped


def test_aws_egress_is_regional() -> None:
    price = egress_usd_per_gb(
        ["aws", "aws", "aws", "aws", "aws"],
        ["us-east-1", "sa-east-1", "af-south-1", "ap-south-1", "ap-southeast-4"],
    )
    # per-region first-tier prices; a region without a row falls back to the provider default
    assert price.tolist() == [0.09, 0.15, 0.154, 0.1093, 0.09]


def test_compute_lookup_has_no_provider_default() -> None:
    got = compute_usd_per_vcpu_hour(["AWS", "gcp", "oci"], ["eu-north-1", "mars-1", "x"])
    assert got[0] == pytest.approx(2.448 / 48, rel=1e-5)
    assert np.isnan(got[1:]).all()


def test_check_compute_prices_names_the_problem() -> None:
    good = compute_prices().head(3)
    with pytest.raises(ValidationError, match="given twice"):
        check_compute_prices(pd.concat([good, good.head(1)]))
    bad = good.copy()
    bad.loc[bad.index[1], "usd_per_vcpu_hour"] = -0.1
    with pytest.raises(ValidationError, match="usd_per_vcpu_hour"):
        check_compute_prices(bad)
    with pytest.raises(ValidationError, match="source"):
        check_compute_prices(good.drop(columns="source"))


# ------------------------------------------------------------------------------------ views


def test_operator_view_is_unchanged_by_default() -> None:
    model = CostModel(it_load_kw=100, fixed_cost_usd_per_year=1000)
    out = model.site_costs(_sites())
    assert list(out.columns) == list(COST_COLUMNS)  # no compute columns
    assert out.attrs["cost_view"] == "operator"
    row = out.loc["aws:us-east-1"]
    assert row["total_usd_per_year"] == pytest.approx(row["energy_usd_per_year"] + 1000)


def test_customer_view_counts_list_price_not_energy() -> None:
    model = CostModel(
        view="customer",
        it_load_kw=100,  # the operator's load: not the customer's bill
        carbon_price_usd_per_tonne=100,
        fixed_cost_usd_per_year=1000,
        baseline_vcpu=10,
        vcpu_per_unit=0.5,
        missing="drop",
    )
    out = model.site_costs(_sites())
    assert list(out.columns) == [*COST_COLUMNS, *COMPUTE_COST_COLUMNS]
    assert out.attrs["dropped_site_ids"] == ["aws:us-east-1-bos-1a"]  # no Local Zone price
    row = out.loc["aws:us-east-1"]
    assert row["compute_usd_per_vcpu_hour"] == pytest.approx(0.048)
    assert row["compute_price_basis"] == "region"
    assert row["compute_usd_per_year"] == pytest.approx(10 * HOURS * 0.048)  # 4204.8
    assert row["energy_usd_per_year"] == 0 and row["carbon_usd_per_year"] == 0
    assert row["energy_kwh_per_year"] > 0  # the physical quantity stays
    assert row["total_usd_per_year"] == pytest.approx(4204.8 + 1000)
    assert row["variable_usd_per_unit_per_year"] == pytest.approx(0.5 * HOURS * 0.048)
    sp = out.loc["gcp:southamerica-east1"]
    assert sp["compute_usd_per_year"] == pytest.approx(10 * HOURS * 7.39968 / 96, rel=1e-5)


def test_both_view_sums_the_components_once() -> None:
    kw = {"it_load_kw": 50, "fixed_cost_usd_per_year": 10, "baseline_vcpu": 4}
    kw |= {"carbon_price_usd_per_tonne": 20, "baseline_gb_per_year": 1000}
    sites = _sites().head(2)
    both = CostModel(view="both", **kw).site_costs(sites)
    op = CostModel(view="operator", **kw).site_costs(sites)
    cu = CostModel(view="customer", **kw).site_costs(sites)
    # energy, fixed, carbon, compute, egress: egress and fixed counted once
    expect = (
        op["total_usd_per_year"]
        + cu["total_usd_per_year"]
        - op["egress_usd_per_year"]
        - op["fixed_usd_per_year"]
    )
    assert both["total_usd_per_year"].to_numpy() == pytest.approx(expect.to_numpy())
    assert set(VIEW_COMPONENTS["both"]) == set(VIEW_COMPONENTS["operator"]) | {"compute"}


def test_customer_view_needs_no_power_data_but_needs_a_price() -> None:
    sites = _sites(price_usd_per_kwh=[np.nan] * 3, tmean_annual_c=[np.nan] * 3)
    out = CostModel(view="customer", it_load_kw=100, baseline_vcpu=1, missing="drop").site_costs(
        sites
    )
    assert len(out) == 2  # only the Local Zone lacks data: its list price
    with pytest.raises(ValidationError, match=r"aws:us-east-1-bos-1a: compute_usd_per_vcpu_hour"):
        CostModel(view="customer", baseline_vcpu=1).site_costs(sites)
    with pytest.raises(ValidationError, match="price_usd_per_kwh"):
        CostModel(view="operator", it_load_kw=100).site_costs(sites)


def test_compute_price_overrides_site_then_run_then_region() -> None:
    sites = _sites(compute_usd_per_vcpu_hour=[np.nan, 0.5, np.nan])
    by_provider = CostModel(
        view="customer",
        baseline_vcpu=1,
        compute_usd_per_vcpu_hour={"aws": 0.01, "aws:us-east-1-bos-1a": 0.07},
        missing="drop",
    ).site_costs(sites)
    assert by_provider["compute_usd_per_vcpu_hour"].to_dict() == {
        "aws:us-east-1": 0.01,
        "gcp:southamerica-east1": 0.5,  # the site's own column wins
        "aws:us-east-1-bos-1a": 0.07,  # a site_id key wins over its provider
    }
    assert by_provider["compute_price_basis"].tolist() == ["run", "site", "run"]
    flat = CostModel(view="customer", baseline_vcpu=2, compute_usd_per_vcpu_hour=0.1)
    assert flat.site_costs(_sites())["compute_usd_per_year"].tolist() == pytest.approx(
        [2 * HOURS * 0.1] * 3
    )
    part_time = CostModel(view="customer", baseline_vcpu=1, hours_per_year=730, missing="drop")
    assert part_time.site_costs(_sites()).loc["aws:us-east-1", "compute_usd_per_year"] == (
        pytest.approx(730 * 0.048)
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"view": "cloud"}, "view"),
        ({"hours_per_year": 9000}, "hours_per_year"),
        ({"vcpu_per_unit": -1}, "vcpu_per_unit"),
        ({"baseline_vcpu": float("nan")}, "baseline_vcpu"),
        ({"compute_usd_per_vcpu_hour": {"aws": -0.1}}, "compute_usd_per_vcpu_hour['aws']"),
        ({"compute_price_source": "web"}, "compute_price_source"),
    ],
)
def test_bad_view_parameters_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        CostModel(**kwargs)
    assert err.value.field == field


def test_toml_costs_keys_are_checked() -> None:
    spec = params.costs_spec()
    ok = params.check(
        spec,
        {"view": "both", "vcpu_per_unit": 0.01, "compute_usd_per_vcpu_hour": {"aws": 0.05}},
        table="costs",
    )
    assert CostModel(**ok).view == "both"
    with pytest.raises(ValidationError, match="must be one of"):
        params.check(spec, {"view": "cheap"}, table="costs")
    with pytest.raises(ValidationError, match="<= 100"):
        params.check(spec, {"compute_usd_per_vcpu_hour": 500}, table="costs")
    with pytest.raises(ValidationError, match="must be a number"):
        params.check(spec, {"baseline_vcpu": True}, table="costs")
    # every CostModel argument has a checker, and nothing else does
    fields = {f for f in CostModel.__dataclass_fields__ if not f.startswith("_")}
    assert set(spec) == fields


def test_cli_cost_view_options() -> None:
    parser = argparse.ArgumentParser()
    add_cost_options(parser)
    args = parser.parse_args(
        "--cost-view customer --vcpu-per-unit 0.01 --baseline-vcpu 8 --hours-per-year 4000 "
        "--compute-usd-per-vcpu-hour 0.05 --compute-prices cache".split()
    )
    model = cost_model_from_args(args)
    assert (model.view, model.vcpu_per_unit, model.baseline_vcpu) == ("customer", 0.01, 8.0)
    assert (model.hours_per_year, model.compute_usd_per_vcpu_hour) == (4000.0, 0.05)
    assert model.compute_price_source == "cache"
    with pytest.raises(SystemExit):
        parser.parse_args(["--cost-view", "cloud"])


# ------------------------------------------------------------------- results, report, CLI


def _solved(view: str) -> pl.Result:
    sites = pl.catalog.sites(providers=["gcp"], kinds="region")
    sites = sites[sites["site_id"].isin(["gcp:us-central1", "gcp:southamerica-east1"])]
    demand = pd.DataFrame(
        {
            "demand_id": ["sao-paulo", "chicago"],
            "lat_deg": [-23.5, 41.9],
            "lon_deg": [-46.6, -87.6],
            "weight": [1000.0, 3000.0],
            "country_code": ["BR", "US"],
        }
    )
    model = CostModel(view=view, baseline_vcpu=4, vcpu_per_unit=0.01, kw_per_unit=1e-4)
    problem = pl.Problem(sites, demand, cost_model=model, objective="cost", n_sites=2)
    return problem.solve(time_limit_s=30)


def test_customer_result_carries_view_and_compute_bill(tmp_path) -> None:
    r = _solved("customer")
    assert r.status == "optimal"
    assert r.params["cost_view"] == "customer"
    assert r.params["cost_components"] == ["compute", "egress", "fixed"]
    price = {"gcp:us-central1": 4.66166 / 96, "gcp:southamerica-east1": 7.39968 / 96}
    load = r.open_sites.set_index("site_id")["load"]
    expect = sum(price[s] * HOURS * (4 + 0.01 * load[s]) for s in price)
    assert r.metrics["compute_usd_per_year"] == pytest.approx(expect, rel=1e-5)
    assert r.metrics["total_cost_usd_per_year"] == pytest.approx(expect, rel=1e-5)
    assert r.metrics["served_usd_per_year"] == 0  # no energy in the customer's bill
    assert "cost (customer view: compute $" in r.summary()
    back = pl.Result.from_json(r.to_json(tmp_path / "r.json"))
    assert back.params["cost_view"] == "customer"
    fig = cost_figure(back)
    assert "customer view" in fig.layout.title.text
    assert "compute (list price)" in {t.name for t in fig.data}


def test_operator_result_says_its_view() -> None:
    r = _solved("operator")
    assert r.params["cost_view"] == "operator"
    assert "compute_usd_per_year" not in r.metrics
    assert r.metrics["served_usd_per_year"] > 0
    assert "cost (operator view: energy $0, fixed $0, carbon $0, egress $0, served $" in (
        r.summary()
    )


def test_cli_solve_customer_view_drops_unpriced_sites(tmp_path, capsys) -> None:
    out = tmp_path / "r.json"
    code = main(
        [
            *"solve --provider aws --kind region --continent EU --min-population 3000000 "
            "--objective cost --open 1 --cost-view customer --vcpu-per-unit 0.001 "
            "--missing-costs drop --no-streaming --quiet".split(),
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "leaving out 12 sites lacking cost data" in err
    doc = json.loads(out.read_text())
    assert doc["params"]["cost_view"] == "customer"
    assert doc["metrics"]["compute_usd_per_year"] > 0
    code = main(
        [
            *"solve --provider aws --kind region --continent EU --open 1 --objective cost "
            "--cost-view customer --vcpu-per-unit 0.001 --no-streaming --quiet".split(),
            "--out",
            str(out),
        ]
    )
    assert code == 2
    assert "compute_usd_per_vcpu_hour" in capsys.readouterr().err


def test_cli_regions_lists_the_list_price(capsys) -> None:
    code = main("regions --provider azure --cost-view customer --format csv".split())
    assert code == 0
    from io import StringIO

    df = pd.read_csv(StringIO(capsys.readouterr().out))
    got = df.set_index("site_id")["compute_usd_per_vcpu_hour"]
    assert got["azure:westus"] == pytest.approx(3.584 / 64, rel=1e-5)
    assert got.notna().sum() == 9


def test_summary_says_when_streaming_egress_is_not_in_the_total() -> None:
    r = _solved("customer")
    load = r.open_sites.set_index("site_id")["load"]
    # the streaming workload reports an egress bill the cost model did not count (no GB/unit)
    metrics = {**r.metrics, "egress_usd_per_year": 1234.0}
    shown = dataclasses.replace(r, metrics=metrics).summary()
    assert "egress $1,234 not in the total: no gb_per_unit_per_year" in shown
    assert f"${r.metrics['total_cost_usd_per_year']:,.0f} per year" in shown
    assert "not in the total" not in r.summary()  # egress $0 adds up
    assert load.sum() == pytest.approx(4000.0)
