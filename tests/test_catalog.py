"""Tests of the shipped data catalog (placement.catalog)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from repo_scripts import REPO, load_script

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


def test_sites_lie_in_their_named_city():
    """Every site whose city is a GeoNames city of >= 100,000 lies within 50 km of it.

    Provider coordinates that are a country or state centroid are replaced in
    data/raw/site_coordinates.csv (Azure France Central: centre of France -> Paris; UK South:
    West Sussex -> London; West Central US: Uinta Mountains -> Cheyenne, Wyoming).
    """
    from placement import geo

    r = catalog.regions().set_index("site_id")
    c = catalog.cities()
    far = {}
    for sid, s in r.iterrows():
        m = c[(c["name"] == s["city"]) & (c["country_code"] == s["country_code"])]
        if len(m):
            far[sid] = float(
                np.min(geo.haversine_km(s["lat_deg"], s["lon_deg"], m["lat_deg"], m["lon_deg"]))
            )
    far = {sid: km for sid, km in far.items() if km > 50}
    # West US 2's city field is the state of Washington (Quincy), not Washington, D.C.
    assert set(far) == {"azure:westus2"}
    paris = r.loc["azure:francecentral"]
    assert geo.haversine_km(paris["lat_deg"], paris["lon_deg"], 48.8534, 2.3488) < 1
    wy = r.loc["azure:westcentralus"]
    assert wy["city"] == "Cheyenne" and wy["subdivision_code"] == "US-WY"
    assert geo.haversine_km(wy["lat_deg"], wy["lon_deg"], 41.14, -104.82) < 1
    assert r.loc["azure:uksouth", "lat_deg"] == pytest.approx(51.50853)


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
    # Frankfurt has a station normal of its own; Aragon (no point within 200 km) takes the
    # nearest points within 500 km; Jeddah (none within 500 km) -> the country mean
    assert s.loc["aws:eu-central-1", "climate_level"] == "station"
    assert s.loc["aws:eu-south-2", "climate_level"] == "interpolated"
    assert s.loc["aws:eu-south-2", "climate_point"].count(";") == 3
    assert s.loc["oci:me-jeddah-1", "climate_level"] == "country"
    assert pd.isna(s.loc["oci:me-jeddah-1", "climate_point"])
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
    tw = ["aws:ap-east-2", "azure:taiwannorth", "aws:ap-northeast-1-tpe-1a"]
    for sid in sg + tw:
        assert s.loc[sid, "climate_level"] == "station", sid
        assert s.loc[sid, "climate_distance_km"] < 50, sid
        assert np.isfinite(s.loc[sid, months].to_numpy(dtype=float)).all(), sid
    # Changhua County (central Taiwan): the nearest point, Taipei's grid cell ~150 km north
    assert s.loc["gcp:asia-east1", "climate_level"] == "grid"
    assert 140 < s.loc["gcp:asia-east1", "climate_distance_km"] < 160
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


# ------------------------------------------------------------------------ site-level climate
#: Station normals (annual mean, degC) quoted in issue 17 for catalog sites.
ISSUE_17_NORMALS = {
    "aws:ca-central-1": 7.0,  # Montreal
    "aws:ca-west-1": 4.5,  # Calgary
    "aws:ap-southeast-2": 18.6,  # Sydney
    "aws:ap-southeast-4": 15.5,  # Melbourne
    "aws:sa-east-1": 20.0,  # Sao Paulo
}


def test_site_level_climate_phoenix_warmer_than_the_dalles(all_sites):
    s = all_sites.set_index("site_id")
    phx, dalles = s.loc["azure:westus3"], s.loc["gcp:us-west1"]
    assert phx["climate_level"] == "station" and phx["climate_point"] == "station:US:Phoenix"
    assert phx["tmean_annual_c"] == pytest.approx(23.95, abs=0.05)  # 13.6 ... 34.9 ... 13.1
    assert phx["tmean_m07_c"] == pytest.approx(34.9)
    # The Dalles has no point of its own: Portland's station, 117 km down the Columbia
    assert dalles["climate_point"] == "station:US:Portland"
    assert 100 < dalles["climate_distance_km"] < 130
    assert phx["tmean_annual_c"] - dalles["tmean_annual_c"] >= 8.0
    # the country mean they used to share
    assert phx["tmean_annual_c"] - 9.64 > 10


def test_site_level_climate_matches_issue_17_station_normals(all_sites):
    s = all_sites.set_index("site_id")
    for sid, normal in ISSUE_17_NORMALS.items():
        assert s.loc[sid, "climate_level"] in ("station", "grid"), sid
        assert abs(s.loc[sid, "tmean_annual_c"] - normal) <= 2.5, sid
    # Sydney and Melbourne no longer share the Australian mean (22.1 degC)
    assert (
        s.loc["aws:ap-southeast-2", "tmean_annual_c"]
        - s.loc["aws:ap-southeast-4", "tmean_annual_c"]
        > 2
    )


def test_site_level_climate_covers_95_percent(all_sites):
    cov = catalog.coverage(all_sites)
    clim = cov[cov["attribute"] == "tmean_annual_c"].set_index("level")["n_sites"]
    assert clim.get("missing", 0) == 0
    own = clim.get("station", 0) + clim.get("grid", 0)
    assert own >= 0.95 * len(all_sites)
    point = all_sites["climate_level"].isin(["station", "grid"])
    assert (all_sites.loc[point, "climate_distance_km"] <= catalog.CLIMATE_POINT_MAX_KM).all()
    point |= all_sites["climate_level"] == "interpolated"
    assert (point == all_sites["climate_point"].notna()).all()
    assert all_sites.loc[~point, "climate_distance_km"].isna().all()


def test_climate_points_are_traced():
    p = catalog.climate_points()
    assert set(p["level"]) == {"station", "grid"}
    assert p["point_id"].is_unique
    assert p["source"].str.len().gt(20).all() and p["period"].str.len().gt(0).all()
    grid = p[p["level"] == "grid"]
    assert len(grid) == 269  # 270 cities of world-temperature-data, one duplicate row dropped
    assert grid["source"].str.contains("CHELSA v2.1").all()
    assert grid["source"].str.contains("CC BY 4.0").all()
    st = p[p["level"] == "station"]
    assert st["source"].str.contains("licence").all()
    # annual mean is the day-weighted mean of the months (February 28.25 days)
    days = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    months = p[[f"tmean_m{m:02d}_c" for m in range(1, 13)]].to_numpy()
    assert np.allclose(months @ days / days.sum(), p["tmean_annual_c"], atol=0.006)


def test_climate_at_user_coordinates():
    # a user site in Mesa, AZ (25 km from Phoenix) and one in the Atlantic
    c = catalog.climate_at([33.42, 40.0], [-111.83, -40.0], ["US", "PT"])
    assert list(c["climate_level"]) == ["station", "country"]
    assert c.loc[0, "climate_point"] == "station:US:Phoenix"
    assert 20 < c.loc[0, "climate_distance_km"] < 30
    assert c.loc[0, "tmean_annual_c"] == pytest.approx(23.95, abs=0.05)
    portugal = catalog.climate().set_index(["level", "code"]).loc[("country", "PT")]
    assert c.loc[1, "tmean_annual_c"] == pytest.approx(portugal["tmean_annual_c"])
    assert pd.isna(c.loc[1, "climate_point"]) and np.isnan(c.loc[1, "climate_distance_km"])
    # nothing known: no point in reach and no country -> NaN, level missing
    far = catalog.climate_at(-60.0, -140.0)
    assert pd.isna(far.loc[0, "climate_level"]) and np.isnan(far.loc[0, "tmean_annual_c"])
    # subdivision before country when no point is in reach (max_km=0 disables points)
    sub = catalog.climate_at(33.42, -111.83, "US", "US-AZ", max_km=0)
    assert sub.loc[0, "climate_level"] == "country"  # no subdivision normals are shipped


def test_climate_at_held_out_station_falls_back_to_the_next_point():
    pts = catalog.climate_points()
    held = pts[pts["point_id"] != "station:US:Phoenix"]
    c = catalog.climate_at(33.448, -112.074, "US", points=held)
    assert c.loc[0, "climate_point"] == "station:US:Tucson"  # 173 km
    assert c.loc[0, "tmean_annual_c"] == pytest.approx(20.99, abs=0.05)
    c = catalog.climate_at(33.448, -112.074, "US", points=held, max_km=150)
    assert c.loc[0, "climate_level"] == "interpolated"  # 4 nearest within 500 km, 1/d^2
    assert c.loc[0, "climate_point"].split(";")[0] == "station:US:Tucson"
    assert 20.0 < c.loc[0, "tmean_annual_c"] < 23.95


def test_climate_at_interpolates_in_a_large_country():
    # Dallas without its station: Austin, Oklahoma City, Houston (290-360 km) -> within 0.5 degC
    pts = catalog.climate_points()
    held = pts[pts["point_id"] != "station:US:Dallas"]
    c = catalog.climate_at(32.78, -96.80, "US", points=held)
    assert c.loc[0, "climate_level"] == "interpolated"
    assert c.loc[0, "tmean_annual_c"] == pytest.approx(19.05, abs=0.5)
    months = c.loc[0, [f"tmean_m{m:02d}_c" for m in range(1, 13)]].to_numpy(dtype=float)
    assert months.argmax() in (6, 7) and months.argmin() == 0  # a northern-hemisphere year
    # the US country mean it used to get is 9.4 degC colder
    assert catalog.climate_at(32.78, -96.80, "US", points=held.iloc[:0]).loc[
        0, "tmean_annual_c"
    ] == pytest.approx(9.64)


def test_climate_at_rejects_bad_input():
    with pytest.raises(ValidationError, match="lat_deg"):
        catalog.climate_at(95.0, 0.0)
    with pytest.raises(ValidationError, match="lon_deg"):
        catalog.climate_at([1.0, 2.0], [1.0])
    with pytest.raises(ValidationError, match="country_code"):
        catalog.climate_at([1.0, 2.0], [1.0, 2.0], ["US"])
    with pytest.raises(ValidationError, match="max_km"):
        catalog.climate_at(1.0, 1.0, max_km=-1)


def test_climate_holdout_of_15_catalog_sites(all_sites):
    """scripts/climate_holdout.py check 1: each site's own stations removed, looked up again."""
    mod = load_script("climate_holdout")
    h = mod.holdout_sites(all_sites.set_index("site_id"), catalog.climate_points())
    assert len(h) == 15 and h["held_out"].str.startswith("station:").all()
    assert int(h["hit"].sum()) >= 13  # issue 17: at least 13 of 15 within 2.5 degC
    assert (h["station_c"] == h["shipped_c"]).sum() >= 13  # shipped: the stations themselves
    dallas = h.set_index("site_id").loc["gcp:us-south1"]
    assert dallas["holdout_from"].count(";") == 3 and abs(dallas["error_c"]) < 1.0
    # sites not at their own place: 28 of 212 (30 before the Azure coordinate overrides)
    far = mod.far_sites(all_sites.set_index("site_id"))
    assert len(far) == 28
    assert far.loc["oci:me-jeddah-1", "climate_level"] == "country"
    assert far.loc["gcp:us-west1", "climate_point"] == "station:US:Portland"
    assert not {"azure:francecentral", "azure:uksouth"} & set(far.index)  # now Paris, London


def test_site_level_climate_prices_every_site_monthly(all_sites):
    from placement.costs import CostModel, pue_from_climate

    costs = CostModel(it_load_kw=1000).site_costs(all_sites)
    assert len(costs) == len(all_sites) and (costs["pue_basis"] == "monthly_climate").all()
    s = all_sites.set_index("site_id")
    months = [f"tmean_m{m:02d}_c" for m in range(1, 13)]
    phx = costs.loc["azure:westus3", "pue"]
    assert phx == pytest.approx(float(pue_from_climate(s.loc["azure:westus3", months])))
    # Phoenix's summers (32-35 degC monthly means) cost cooling energy The Dalles does not spend
    assert phx - costs.loc["gcp:us-west1", "pue"] > 0.03
    assert costs.loc["aws:ca-west-1", "pue"] == pytest.approx(1.078)  # Calgary: never above 18


def test_climate_points_are_rebuilt_from_raw_files():
    """data/climate_points.csv is what scripts/build_data.py makes of data/raw (no ../shared)."""
    mod = load_script("build_data", "build_data_climate")
    cities = pd.read_csv(REPO / "data" / "cities.csv", keep_default_na=False, dtype=str)
    cities[["lat_deg", "lon_deg"]] = cities[["lat_deg", "lon_deg"]].astype(float)
    built = mod.to_csv_text(mod.build_climate_points(cities))
    assert built == (REPO / "data" / "climate_points.csv").read_text("utf-8")


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
