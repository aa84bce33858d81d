"""Tests of the ``placement regions`` and ``placement demand`` subcommands."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from placement.cli import main


def test_regions_csv_aws(capsys):
    assert main(["regions", "--provider", "aws", "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False, na_values=[""])
    assert set(df["provider"]) == {"aws"}
    assert "aws:us-east-1" in set(df["site_id"])
    assert {"price_usd_per_kwh", "carbon_g_per_kwh", "nearest_hub"} <= set(df.columns)
    row = df.set_index("site_id").loc["aws:us-east-1"]
    assert row["subdivision_code"] == "US-VA"
    # site-level climate: Ashburn takes the Washington, D.C. station normal (42 km)
    assert row["climate_level"] == "station"
    assert row["climate_point"] == "station:US:Washington"
    assert row["tmean_annual_c"] == pytest.approx(14.61)


def test_regions_kind_json(capsys):
    assert main(["regions", "--kind", "local-zone", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records and all(r["kind"] == "local-zone" for r in records)


def test_regions_table_and_bad_provider(capsys):
    assert main(["regions", "--provider", "gcp"]) == 0
    out = capsys.readouterr().out
    assert "gcp:us-central1" in out and "aws:" not in out
    assert "climate_level" in out.splitlines()[0]
    assert main(["regions", "--provider", "ibm"]) == 2
    err = capsys.readouterr().err
    assert "unknown provider 'ibm'" in err and "aws, azure, gcp, oci" in err


def test_demand_cli(capsys):
    rc = main(["demand", "--country", "NL", "--merge-within-km", "30", "--format", "csv"])
    assert rc == 0
    captured = capsys.readouterr()
    df = pd.read_csv(io.StringIO(captured.out))
    assert set(df["country_code"]) == {"NL"}
    assert (df["weight"] > 0).all()
    assert "points" in captured.err
    assert main(["demand", "--continent", "XX"]) == 2


def test_regions_show_cost_components_with_run_parameters(capsys):
    import io

    import pandas as pd

    from placement.cli import main

    code = main(["regions", "--provider", "aws", "--format", "csv", "--it-load-kw", "1000"])
    assert code == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    row = df.set_index("site_id").loc["aws:us-east-1"]
    # energy = 1000 kW x 8760 h x PUE; cost = energy x the site's power price
    assert row["energy_kwh_per_year"] == pytest.approx(1000 * 8760 * row["pue"])
    assert row["energy_usd_per_year"] == pytest.approx(
        row["energy_kwh_per_year"] * row["price_usd_per_kwh"]
    )
    assert row["total_usd_per_year"] >= row["energy_usd_per_year"]


def test_regions_price_coverage_per_country(capsys):
    assert main(["regions", "--coverage", "price", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    df = pd.read_csv(io.StringIO(captured.out), keep_default_na=False).set_index("country_code")
    assert df.loc["US", "n_subdivision"] == 42
    assert df.loc["AU", "n_subdivision"] == 1 and df.loc["AU", "n_country"] == 10
    assert df["n_sites"].sum() == 212
    assert "price below country level for 50 of 212 sites in 3 of 44 countries" in captured.err
    with pytest.raises(SystemExit) as err:  # argparse rejects the choice: exit code 2
        main(["regions", "--coverage", "egress"])
    assert err.value.code == 2
    assert "invalid choice: 'egress'" in capsys.readouterr().err
