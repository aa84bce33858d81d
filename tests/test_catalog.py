"""Tests of the shipped data catalog (placement.catalog)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from placement import catalog
from placement.errors import ValidationError


@pytest.fixture(scope="module")
def all_sites() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return catalog.sites(max_age_years=None)


def test_counts_per_provider_and_kind():
    r = catalog.regions()
    counts = r.groupby(["provider", "kind"]).size().to_dict()
    assert counts[("aws", "region")] == 34
    assert counts[("aws", "local-zone")] >= 30
    assert counts[("gcp", "region")] == 42
    assert counts[("azure", "region")] == 60
    assert counts[("oci", "region")] == 43
    assert set(r["kind"]) == {"region", "local-zone"}
    assert (r["region_type"] == "commercial").all()  # no China / government regions
    assert not r["site_id"].str.contains("cn-north|gov", regex=True).any()
    assert r["site_id"].is_unique


def test_us_east_1_is_ashburn_virginia_with_eia_price(all_sites):
    s = all_sites.set_index("site_id").loc["aws:us-east-1"]
    assert s["city"] == "Ashburn"
    assert s["subdivision_code"] == "US-VA"
    assert s["continent"] == "NA"
    assert s["price_level"] == "subdivision"
    assert s["price_usd_per_kwh"] == pytest.approx(0.0895)  # EIA 2023 commercial, Virginia
    assert s["price_year"] == 2023
    assert s["carbon_level"] == "subdivision"
    # eGRID2023 Virginia STC2ERTA lb/MWh -> g/kWh
    assert 150 < s["carbon_g_per_kwh"] < 400
    assert s["nearest_hub"] == "ashburn"
    assert s["hub_distance_km"] < 1


def test_local_zone_has_parent_and_state(all_sites):
    s = all_sites.set_index("site_id").loc["aws:us-east-1-bos-1a"]
    assert s["kind"] == "local-zone"
    assert s["parent_region"] == "us-east-1"
    assert s["subdivision_code"] == "US-MA"
    assert s["city"] == "Boston"
    assert pd.isna(s["availability_zones"])
    lz = all_sites[all_sites["kind"] == "local-zone"]
    assert lz["parent_region"].notna().all()
    assert all(f"aws:{p}" in set(all_sites["site_id"]) for p in lz["parent_region"])


def test_fallback_levels(all_sites):
    s = all_sites.set_index("site_id")
    # GCP regions get their own region-level carbon intensity
    assert s.loc["gcp:us-east1", "carbon_level"] == "region"
    # Frankfurt: no subdivision -> country values
    assert s.loc["aws:eu-central-1", "price_level"] == "country"
    assert s.loc["aws:eu-central-1", "carbon_level"] == "country"
    assert s.loc["aws:eu-central-1", "climate_level"] == "country"
    # Calgary (Alberta) has no provincial price source -> country; Montreal has one
    assert s.loc["aws:ca-west-1", "subdivision_code"] == "CA-AB"
    assert s.loc["aws:ca-west-1", "price_level"] == "country"
    assert s.loc["aws:ca-central-1", "price_level"] == "subdivision"
    # Singapore: no ERA5 country mean -> the Changi station normal (level "station")
    assert s.loc["aws:ap-southeast-1", "climate_level"] == "station"


def test_station_climate_for_singapore_and_taiwan(all_sites):
    s = all_sites.set_index("site_id")
    months = [f"tmean_m{m:02d}_c" for m in range(1, 13)]
    sg = ["aws:ap-southeast-1", "azure:southeastasia", "gcp:asia-southeast1", "oci:ap-singapore-1"]
    tw = ["aws:ap-east-2", "azure:taiwannorth", "gcp:asia-east1", "aws:ap-northeast-1-tpe-1a"]
    for sid in sg + tw:
        assert s.loc[sid, "climate_level"] == "station", sid
        assert np.isfinite(s.loc[sid, months].to_numpy(dtype=float)).all(), sid
    # Changi 1991-2020 mean of NEA monthly means (data/raw), Taipei CWA 1991-2020 normals
    assert s.loc["gcp:asia-southeast1", "tmean_annual_c"] == pytest.approx(27.8, abs=0.05)
    assert s.loc["gcp:asia-southeast1", "tmean_m05_c"] == pytest.approx(28.61, abs=0.01)
    assert s.loc["aws:ap-east-2", "tmean_m01_c"] == pytest.approx(15.9)
    assert s.loc["aws:ap-east-2", "tmean_m07_c"] == pytest.approx(30.1)
    clim = catalog.climate().set_index(["level", "code"])
    assert "Changi" in clim.loc[("station", "SG"), "source"]
    assert "Central Weather Administration" in clim.loc[("station", "TW"), "source"]
    # a station row never replaces an ERA5 country mean
    assert not set(clim.loc["station"].index) & set(clim.loc["country"].index)


def test_station_climate_is_priced_monthly(all_sites):
    from placement.costs import CostModel

    ids = ["gcp:asia-southeast1", "gcp:asia-east1", "azure:southeastasia"]
    sub = all_sites[all_sites["site_id"].isin(ids)]
    costs = CostModel(it_load_kw=1000).site_costs(sub)
    assert costs.attrs["dropped_site_ids"] == []
    assert set(costs.index) == set(ids)
    assert (costs["pue_basis"] == "monthly_climate").all()
    assert (costs["energy_usd_per_year"] > 0).all()
    # tropical Singapore needs more cooling than subtropical Taiwan
    assert costs.loc["gcp:asia-southeast1", "pue"] > costs.loc["gcp:asia-east1", "pue"]


def test_coverage_counts_add_up(all_sites):
    cov = catalog.coverage(all_sites)
    for attr, grp in cov.groupby("attribute"):
        assert grp["n_sites"].sum() == len(all_sites), attr
    price = cov[cov["attribute"] == "price_usd_per_kwh"].set_index("level")["n_sites"]
    assert price.get("missing", 0) == 0
    assert price["subdivision"] > 40


def test_filters_and_errors():
    gcp = catalog.sites(providers="GCP", max_age_years=None)
    assert set(gcp["provider"]) == {"gcp"}
    assert list(gcp["site_id"]) == sorted(gcp["site_id"])
    lz = catalog.regions(providers=["aws"], kinds=["local-zone"])
    assert (lz["kind"] == "local-zone").all()
    with pytest.raises(ValidationError, match=r"unknown provider 'ibm'.*aws, azure, gcp, oci"):
        catalog.sites(providers=["aws", "ibm"])
    with pytest.raises(ValidationError, match=r"unknown kind 'edge'.*region, local-zone"):
        catalog.regions(kinds="edge")


def test_stale_data_warns_once_per_call():
    with pytest.warns(UserWarning, match="older than 1 years") as rec:
        catalog.sites(providers="aws", max_age_years=1)
    assert len([w for w in rec if "older than" in str(w.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        catalog.sites(providers="aws", max_age_years=None)


def test_loaders_are_valid_and_sorted():
    assert len(catalog.cities()) > 6000
    assert catalog.internet_share()["internet_share"].between(0, 1).all()
    pp = catalog.power_prices()
    assert set(pp["level"]) == {"country", "subdivision"}
    assert "VE" not in set(pp.loc[pp["level"] == "country", "code"])  # Venezuela artefacts dropped
    assert pp["price_usd_per_kwh"].max() < 1
    ps = catalog.political_stability().set_index("country_code")
    assert ps.loc["NA", "political_stability_pctile"] > 50  # Namibia kept as text "NA"
    assert ps["political_stability_est"].between(-3, 3).all()
    cl = catalog.climate()
    assert (cl["tmean_annual_c"] > -30).all()
    hubs = catalog.network_hubs()
    assert {"frankfurt", "amsterdam", "ashburn", "singapore"} <= set(hubs["hub_id"])
    carbon = catalog.carbon()
    assert set(carbon["level"]) == {"region", "subdivision", "country"}


def test_broken_table_raises_naming_table_row_field(monkeypatch, tmp_path):
    bad = catalog.internet_share()
    bad.loc[0, "internet_share"] = 1.7
    path = tmp_path / "internet_share.csv"
    bad.to_csv(path, index=False)
    monkeypatch.setattr(catalog, "data_file", lambda name: path)
    with pytest.raises(ValidationError) as exc:
        catalog.internet_share()
    assert exc.value.table == "internet_share.csv"
    assert exc.value.field == "internet_share"
    assert exc.value.row == bad.loc[0, "country_code"]


# -- sub-national power prices (issue 17) ---------------------------------------------------------


def test_subdivision_codes_and_price_levels_of_known_sites(all_sites):
    s = all_sites.set_index("site_id")
    expected = {
        "aws:ap-southeast-2": ("AU-NSW", "country"),  # Sydney: no NSW source reachable yet
        "azure:australiacentral": ("AU-ACT", "country"),
        "aws:ap-southeast-2-per-1a": ("AU-WA", "subdivision"),  # Perth: Synergy HV tariff
        "aws:ap-south-1": ("IN-MH", "country"),  # Mumbai
        "oci:ap-hyderabad-1": ("IN-TS", "country"),
        "aws:ap-south-1-del-1a": ("IN-DL", "country"),
        "azure:brazilsoutheast": ("BR-RJ", "country"),
        "oci:sa-vinhedo-1": ("BR-SP", "country"),
        "gcp:asia-northeast2": ("JP-27", "country"),
        "oci:mx-monterrey-1": ("MX-NLE", "country"),
        "azure:westcentralus": ("US-WY", "subdivision"),  # was the US country price
    }
    for site_id, (code, level) in expected.items():
        assert s.loc[site_id, "subdivision_code"] == code, site_id
        assert s.loc[site_id, "price_level"] == level, site_id
    assert s.loc["aws:ap-southeast-2-per-1a", "price_usd_per_kwh"] == pytest.approx(0.1686)
    assert s.loc["aws:ap-southeast-2-per-1a", "price_year"] == 2022
    assert s.loc["azure:westcentralus", "price_usd_per_kwh"] == pytest.approx(0.0955)
    # a country-level site keeps the national Doing Business price
    assert s.loc["aws:ap-southeast-2", "price_usd_per_kwh"] == pytest.approx(0.204)


def test_every_subdivision_price_is_sane_and_sourced():
    pp = catalog.power_prices()
    sub = pp[pp["level"] == "subdivision"]
    assert len(sub) == 56  # 50 EIA + 4 Hydro-Quebec + AU-WA + US-WY
    assert sub["price_usd_per_kwh"].between(0.03, 0.5).all()
    assert (sub["source"].str.len() > 20).all()
    assert sub["code"].str.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}").all()
    assert {"AU-WA", "US-WY"} <= set(sub["code"])


def test_price_coverage_by_country(all_sites):
    cov = catalog.coverage_by_country(all_sites, "price").set_index("country_code")
    assert cov["n_sites"].sum() == len(all_sites)
    assert (cov["n_subdivision"] + cov["n_country"] + cov["n_missing"] == cov["n_sites"]).all()
    assert cov.loc["US", "n_subdivision"] == cov.loc["US", "n_sites"] == 42
    assert cov.loc["US", "sub_national_share"] == 1.0
    assert cov.loc["CA", "n_subdivision"] == 7 and cov.loc["CA", "n_country"] == 1
    assert cov.loc["CA", "subdivisions_at_country_level"] == "CA-AB"
    assert cov.loc["AU", "n_subdivision"] == 1
    assert cov.loc["AU", "subdivisions_at_level"] == "AU-WA"
    assert cov.loc["AU", "subdivisions_at_country_level"] == "AU-ACT;AU-NSW;AU-VIC"
    assert cov.loc["IN", "subdivisions_at_country_level"].split(";") == [
        "IN-DL",
        "IN-GJ",
        "IN-MH",
        "IN-TN",
        "IN-TS",
        "IN-WB",
    ]
    assert cov.loc["DE", "subdivisions_at_country_level"] == ""  # no codes outside the list
    assert list(cov.index) == sorted(cov.index)
    with pytest.raises(ValidationError, match="unknown attribute"):
        catalog.coverage_by_country(all_sites, "egress")
    with pytest.raises(ValidationError, match="price_level"):
        catalog.coverage_by_country(all_sites.drop(columns="price_level"), "price")
