"""Tests of placement.costs and the cost CLI options."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
import pytest

from placement.cli._cost_options import add_cost_options, cost_model_from_args
from placement.costs import (
    COST_COLUMNS,
    MONTHLY_TEMPERATURE_COLUMNS,
    CostModel,
    egress_prices,
    egress_usd_per_gb,
    energy_kwh_per_year,
    pue_from_climate,
    pue_model_parameters,
)
from placement.errors import ValidationError


def _sites(**cols: object) -> pd.DataFrame:
    base = {
        "site_id": ["cold", "hot"],
        "lat_deg": [60.0, 1.3],
        "lon_deg": [25.0, 103.8],
        "provider": ["aws", "gcp"],
        "region_code": ["eu-north-1", "asia-southeast1"],
        "price_usd_per_kwh": [0.10, 0.20],
        "carbon_g_per_kwh": [50.0, 500.0],
        "tmean_annual_c": [5.0, 27.5],
    }
    base.update(cols)
    df = pd.DataFrame(base)
    for col in MONTHLY_TEMPERATURE_COLUMNS:
        df[col] = [5.0, 27.5]
    return df


# ---------------------------------------------------------------------------- PUE model


def test_shipped_pue_coefficients_are_the_documented_ones() -> None:
    p = pue_model_parameters()
    assert p == {"pue_free_cooling": 1.078, "pue_per_degc": 0.0061, "free_cooling_limit_c": 18.0}


def test_pue_is_flat_below_the_free_cooling_limit_and_linear_above() -> None:
    cold = pue_from_climate([[-10.0] * 12, [17.9] * 12])
    assert cold == pytest.approx([1.078, 1.078])
    hot = pue_from_climate([28.0] * 12)
    assert hot == pytest.approx(1.078 + 0.0061 * 10.0)


def test_pue_monthly_is_day_weighted() -> None:
    temps = np.full(12, 10.0)
    temps[1] = 28.0  # only February is warm: 28 of 365 days, 10 degC above the limit
    assert pue_from_climate(temps) == pytest.approx(1.078 + 0.0061 * 10.0 * 28 / 365)


def test_pue_monotonic_in_temperature_and_bounded() -> None:
    t = np.linspace(-40.0, 45.0, 200)
    pue = pue_from_climate(t, monthly=False)
    assert np.all(np.diff(pue) >= 0)
    assert pue.min() >= 1.0
    assert pue.max() <= 1.078 + 0.0061 * (45.0 - 18.0) + 1e-12
    months = np.tile(t[:, None], (1, 12))
    assert np.all(np.diff(pue_from_climate(months)) >= 0)


def test_annual_mean_underestimates_seasonal_climate() -> None:
    seasonal = np.array([0, 2, 6, 12, 18, 24, 28, 27, 21, 14, 7, 2], dtype=float)
    annual = np.average(seasonal, weights=[31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    assert pue_from_climate(seasonal) > pue_from_climate(annual, monthly=False)


def test_pue_nan_temperature_gives_nan() -> None:
    temps = np.full((2, 12), 20.0)
    temps[1, 3] = np.nan
    out = pue_from_climate(temps)
    assert np.isfinite(out[0]) and np.isnan(out[1])


def test_pue_bad_inputs_raise() -> None:
    with pytest.raises(ValidationError, match="12 months"):
        pue_from_climate([20.0, 21.0])
    with pytest.raises(ValidationError, match="pue_free_cooling"):
        pue_from_climate([20.0], monthly=False, pue_free_cooling=0.9)
    with pytest.raises(ValidationError, match="pue_per_degc"):
        pue_from_climate([20.0], monthly=False, pue_per_degc=-0.1)


def test_energy_kwh_per_year() -> None:
    assert energy_kwh_per_year(100.0, 1.5) == pytest.approx(100.0 * 8760 * 1.5)


# ---------------------------------------------------------------------------- egress prices


def test_egress_lookup_exact_region_then_provider_default_then_nan() -> None:
    prices = egress_usd_per_gb(
        ["aws", "AWS", "gcp", "hetzner"], ["ap-southeast-2", "us-east-1", "us-central1", "fsn1"]
    )
    assert prices[0] == pytest.approx(0.114)
    assert prices[1] == pytest.approx(0.09)
    assert prices[2] == pytest.approx(0.12)
    assert math.isnan(prices[3])


def test_egress_table_is_sourced() -> None:
    table = egress_prices()
    assert {"provider", "region_code", "usd_per_gb", "source", "retrieved"} <= set(table.columns)
    assert (table["usd_per_gb"] > 0).all()
    assert (table["source"].str.len() > 10).all()


# ---------------------------------------------------------------------------- CostModel


def test_hand_computed_energy_cost() -> None:
    sites = _sites(pue=[1.5, np.nan])
    costs = CostModel(it_load_kw=200.0).site_costs(sites)
    assert list(costs.columns) == list(COST_COLUMNS)
    assert costs.index.name == "site_id"
    cold = costs.loc["cold"]
    assert cold["pue"] == 1.5 and cold["pue_basis"] == "site"
    assert cold["energy_kwh_per_year"] == pytest.approx(200 * 8760 * 1.5)  # 2,628,000 kWh
    assert cold["energy_usd_per_year"] == pytest.approx(262_800.0)
    hot = costs.loc["hot"]
    assert hot["pue_basis"] == "monthly_climate"
    assert hot["pue"] == pytest.approx(1.078 + 0.0061 * 9.5)
    assert hot["energy_usd_per_year"] == pytest.approx(200 * 8760 * hot["pue"] * 0.20)
    assert hot["total_usd_per_year"] == pytest.approx(hot["energy_usd_per_year"])


def test_all_components_and_variable_cost() -> None:
    model = CostModel(
        it_load_kw=10.0,
        kw_per_unit=0.002,
        fixed_cost_usd_per_year=1000.0,
        carbon_price_usd_per_tonne=100.0,
        gb_per_unit_per_year=50.0,
        baseline_gb_per_year=1000.0,
        pue=1.2,
    )
    row = model.site_costs(_sites()).loc["hot"]
    kwh = 10 * 8760 * 1.2
    assert row["energy_kwh_per_year"] == pytest.approx(kwh)
    assert row["carbon_tonnes_per_year"] == pytest.approx(kwh * 500 / 1e6)
    assert row["carbon_usd_per_year"] == pytest.approx(kwh * 500 / 1e6 * 100)
    assert row["egress_usd_per_year"] == pytest.approx(1000 * 0.12)
    assert row["total_usd_per_year"] == pytest.approx(
        kwh * 0.2 + 1000 + kwh * 500 / 1e6 * 100 + 120
    )
    unit_kwh = 0.002 * 8760 * 1.2
    assert row["variable_usd_per_unit_per_year"] == pytest.approx(
        unit_kwh * 0.2 + unit_kwh * 500 / 1e6 * 100 + 50 * 0.12
    )


def test_per_site_override_wins_over_run_value() -> None:
    sites = _sites(fixed_cost_usd_per_year=[5000.0, np.nan], pue=[1.9, np.nan])
    costs = CostModel(fixed_cost_usd_per_year=100.0, pue=1.3, it_load_kw=1.0).site_costs(sites)
    assert costs.loc["cold", "fixed_usd_per_year"] == 5000.0
    assert costs.loc["hot", "fixed_usd_per_year"] == 100.0
    assert costs.loc["cold", "pue"] == 1.9 and costs.loc["cold", "pue_basis"] == "site"
    assert costs.loc["hot", "pue"] == 1.3 and costs.loc["hot", "pue_basis"] == "run"


def test_run_price_and_egress_overrides() -> None:
    model = CostModel(
        it_load_kw=1.0,
        price_usd_per_kwh=0.05,
        gb_per_unit_per_year=10.0,
        egress_usd_per_gb={"aws": 0.02, "hot": 0.03},
    )
    costs = model.site_costs(_sites())
    assert (costs["price_usd_per_kwh"] == 0.05).all()
    assert costs.loc["cold", "egress_usd_per_gb"] == 0.02  # by provider
    assert costs.loc["hot", "egress_usd_per_gb"] == 0.03  # by site id


def test_annual_temperature_used_when_months_missing() -> None:
    sites = _sites()
    sites.loc[sites["site_id"] == "hot", "tmean_m07_c"] = np.nan
    costs = CostModel(it_load_kw=1.0).site_costs(sites)
    assert costs.loc["hot", "pue_basis"] == "annual_climate"
    assert costs.loc["hot", "pue"] == pytest.approx(1.078 + 0.0061 * 9.5)


def test_missing_data_error_lists_sites() -> None:
    sites = _sites(price_usd_per_kwh=[np.nan, 0.2])
    sites.loc[sites["site_id"] == "hot", "tmean_annual_c"] = np.nan
    sites.loc[sites["site_id"] == "hot", list(MONTHLY_TEMPERATURE_COLUMNS)] = np.nan
    with pytest.raises(ValidationError) as exc:
        CostModel(it_load_kw=1.0).site_costs(sites)
    message = str(exc.value)
    assert "cold: price_usd_per_kwh" in message
    assert "hot: temperature" in message


def test_missing_data_drop_policy() -> None:
    sites = _sites(price_usd_per_kwh=[np.nan, 0.2])
    costs = CostModel(it_load_kw=1.0, missing="drop").site_costs(sites)
    assert list(costs.index) == ["hot"]
    assert costs.attrs["dropped_site_ids"] == ["cold"]


def test_missing_data_not_needed_is_not_an_error() -> None:
    sites = _sites(price_usd_per_kwh=[np.nan, np.nan], carbon_g_per_kwh=[np.nan, np.nan])
    costs = CostModel(fixed_cost_usd_per_year=7.0).site_costs(sites)
    assert (costs["total_usd_per_year"] == 7.0).all()
    assert (costs["carbon_usd_per_year"] == 0.0).all()


def test_carbon_needed_only_when_priced() -> None:
    sites = _sites(carbon_g_per_kwh=[np.nan, 400.0])
    CostModel(it_load_kw=1.0).site_costs(sites)
    with pytest.raises(ValidationError, match="cold: carbon_g_per_kwh"):
        CostModel(it_load_kw=1.0, carbon_price_usd_per_tonne=50.0).site_costs(sites)


def test_unknown_egress_price_is_reported() -> None:
    sites = _sites(provider=["hetzner", "gcp"])
    with pytest.raises(ValidationError, match="cold: egress_usd_per_gb"):
        CostModel(gb_per_unit_per_year=1.0).site_costs(sites)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"it_load_kw": -1.0}, "it_load_kw"),
        ({"carbon_price_usd_per_tonne": -5.0}, "carbon_price_usd_per_tonne"),
        ({"price_usd_per_kwh": -0.1}, "price_usd_per_kwh"),
        ({"fixed_cost_usd_per_year": float("nan")}, "fixed_cost_usd_per_year"),
        ({"pue": 0.95}, "pue"),
        ({"egress_usd_per_gb": -0.01}, "egress_usd_per_gb"),
        ({"egress_usd_per_gb": {"aws": -1.0}}, "egress_usd_per_gb['aws']"),
        ({"missing": "ignore"}, "missing"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        CostModel(**kwargs)
    assert exc.value.field == field
    assert exc.value.table == "parameter"


def test_bad_per_site_values_name_row_and_field() -> None:
    with pytest.raises(ValidationError) as exc:
        CostModel(it_load_kw=1.0).site_costs(_sites(pue=[np.nan, 0.8]))
    assert (exc.value.table, exc.value.row, exc.value.field) == ("sites", "hot", "pue")
    with pytest.raises(ValidationError) as exc:
        CostModel().site_costs(_sites(fixed_cost_usd_per_year=[-3.0, 1.0]))
    assert (exc.value.row, exc.value.field) == ("cold", "fixed_cost_usd_per_year")
    with pytest.raises(ValidationError) as exc:
        CostModel().site_costs(_sites(price_usd_per_kwh=[0.1, -0.2]))
    assert (exc.value.row, exc.value.field) == ("hot", "price_usd_per_kwh")


def test_cost_model_is_frozen() -> None:
    model = CostModel()
    with pytest.raises(AttributeError):
        model.it_load_kw = 5.0  # type: ignore[misc]


# ---------------------------------------------------------------------------- CLI options


def test_cli_options_build_the_cost_model() -> None:
    parser = argparse.ArgumentParser()
    add_cost_options(parser)
    args = parser.parse_args(
        [
            "--it-load-kw",
            "250",
            "--carbon-price-usd-per-tonne",
            "80",
            "--fixed-cost-usd-per-year",
            "1e5",
            "--pue",
            "1.2",
            "--missing-costs",
            "drop",
        ]
    )
    model = cost_model_from_args(args)
    assert model.it_load_kw == 250.0
    assert model.carbon_price_usd_per_tonne == 80.0
    assert model.fixed_cost_usd_per_year == 1e5
    assert model.pue == 1.2
    assert model.missing == "drop"
    assert model.egress_usd_per_gb is None and model.price_usd_per_kwh is None


def test_cli_defaults_and_bad_value() -> None:
    parser = argparse.ArgumentParser()
    add_cost_options(parser)
    assert cost_model_from_args(parser.parse_args([])) == CostModel()
    with pytest.raises(ValidationError, match="it_load_kw"):
        cost_model_from_args(parser.parse_args(["--it-load-kw", "-1"]))


def test_real_catalog_costs() -> None:
    catalog = pytest.importorskip("placement.catalog")
    sites = catalog.sites()
    costs = CostModel(it_load_kw=100.0, missing="drop").site_costs(sites)
    assert len(costs) > 0
    assert (costs["pue"] >= 1.0).all()
    assert costs["total_usd_per_year"].notna().all()
