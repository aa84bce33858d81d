"""placement.config: a user's own sites file gets its climate by coordinates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placement import catalog, config

SITES_CSV = (
    "site_id,lat,lon,country_code\n"
    "mesa,33.42,-111.83,US\n"  # 23 km from Phoenix's station
    "own,33.42,-111.83,US\n"  # brings its own annual mean (filled below)
    "atlantic,40.0,-40.0,PT\n"  # no point within 500 km: Portugal's ERA5 mean
    "southern-ocean,-60.0,-140.0,\n"  # nothing known
)


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sites.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_sites_file_gets_climate_by_coordinates(tmp_path: Path) -> None:
    text = SITES_CSV.replace(
        "site_id,lat,lon,country_code", "site_id,lat,lon,country_code,tmean_annual_c"
    )
    text = text.replace("\nmesa,33.42,-111.83,US", "\nmesa,33.42,-111.83,US,")
    text = text.replace("\nown,33.42,-111.83,US", "\nown,33.42,-111.83,US,20.5")
    text = text.replace("\natlantic,40.0,-40.0,PT", "\natlantic,40.0,-40.0,PT,")
    text = text.replace("\nsouthern-ocean,-60.0,-140.0,", "\nsouthern-ocean,-60.0,-140.0,,")
    df = config.load_sites(_write(tmp_path, text)).set_index("site_id")
    assert list(df["climate_level"].fillna("missing")) == [
        "station",
        "file",
        "country",
        "missing",
    ]
    mesa = df.loc["mesa"]
    assert mesa["climate_point"] == "station:US:Phoenix"
    assert 20 < mesa["climate_distance_km"] < 30
    assert mesa["tmean_annual_c"] == pytest.approx(23.95, abs=0.05)
    assert mesa["tmean_m07_c"] == pytest.approx(34.9)
    # a row's own temperature is kept, nothing added to it
    assert df.loc["own", "tmean_annual_c"] == 20.5
    assert np.isnan(df.loc["own", "tmean_m07_c"]) and pd.isna(df.loc["own", "climate_point"])
    portugal = catalog.climate().set_index(["level", "code"]).loc[("country", "PT")]
    assert df.loc["atlantic", "tmean_annual_c"] == pytest.approx(portugal["tmean_annual_c"])
    assert np.isnan(df.loc["southern-ocean", "tmean_annual_c"])
    # the file's own columns are untouched (coordinates keep their names and values)
    assert list(df.reset_index().columns[:5]) == [
        "site_id",
        "lat",
        "lon",
        "country_code",
        "tmean_annual_c",
    ]


def test_sites_file_is_priced_with_its_monthly_climate(tmp_path: Path) -> None:
    """Mesa's PUE is Phoenix's (monthly climate), as for the catalog's Phoenix region."""
    from placement.costs import CostModel

    df = config.load_sites(_write(tmp_path, "site_id,lat_deg,lon_deg\nmesa,33.42,-111.83\n"))
    df["price_usd_per_kwh"] = 0.1
    got = CostModel(it_load_kw=1000).site_costs(df)
    assert got.loc["mesa", "pue_basis"] == "monthly_climate"
    phx = CostModel(it_load_kw=1000).site_costs(
        catalog.sites(max_age_years=None).query("site_id == 'azure:westus3'")
    )
    assert got.loc["mesa", "pue"] == pytest.approx(phx.loc["azure:westus3", "pue"])


def test_sites_file_through_a_problem_file(tmp_path: Path) -> None:
    """A TOML problem reading its own sites file solves with climate-priced sites."""
    from placement.problem import Problem

    sites = _write(tmp_path, SITES_CSV.split("southern-ocean")[0].rstrip("\n") + "\n")
    (tmp_path / "demand.csv").write_text(
        "demand_id,lat,lon,weight\nphx,33.45,-112.07,1\nlis,38.72,-9.14,1\n", encoding="utf-8"
    )
    (tmp_path / "p.toml").write_text(
        f'[inputs]\nsites = "{Path(sites).name}"\ndemand = "demand.csv"\n[problem]\nn_sites = 1\n',
        encoding="utf-8",
    )
    prob = Problem.from_toml(tmp_path / "p.toml")
    s = prob.sites.set_index("site_id")
    assert s.loc["mesa", "climate_level"] == "station"
    assert s.loc["atlantic", "climate_level"] == "country"


def test_unusable_coordinates_are_left_to_validation(tmp_path: Path) -> None:
    from placement.errors import ValidationError
    from placement.problem import Problem

    df = config.load_sites(_write(tmp_path, "site_id,lat,lon\na,abc,1\nb,33.42,-111.83\n"))
    assert pd.isna(df.loc[0, "climate_level"]) and df.loc[1, "climate_level"] == "station"
    demand = pd.DataFrame({"demand_id": ["d"], "lat_deg": [0.0], "lon_deg": [0.0], "weight": [1]})
    with pytest.raises(ValidationError) as info:
        Problem(df, demand, n_sites=1)
    assert info.value.field == "lat_deg" and info.value.row == "a"
    # both 'lat' and 'lat_deg': ambiguous, nothing added, validation names it
    both = config.load_sites(_write(tmp_path, "site_id,lat,lat_deg,lon\na,1,1,1\n"))
    assert "climate_level" not in both.columns
