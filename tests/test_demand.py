"""Tests of placement.demand.from_cities."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from placement import catalog, demand
from placement.errors import ValidationError


def _toy(dist_deg: float) -> pd.DataFrame:
    # two cities in Germany; 1 degree of latitude ~ 111.2 km
    return pd.DataFrame(
        {
            "geonameid": [1, 2, 3],
            "name": ["Big", "Small", "Far"],
            "country_code": ["DE", "DE", "DE"],
            "continent": ["EU", "EU", "EU"],
            "timezone": ["Europe/Berlin"] * 3,
            "lat_deg": [50.0, 50.0 + dist_deg, 55.0],
            "lon_deg": [8.0, 8.0, 8.0],
            "population": [500_000, 200_000, 150_000],
        }
    )


def test_weights_are_population_times_share():
    d = demand.from_cities(countries=["FR", "de"])
    shares = catalog.internet_share().set_index("country_code")["internet_share"]
    expected = d["population"] * d["country_code"].map(shares)
    assert d["weight"].to_numpy() == pytest.approx(expected.to_numpy())
    assert d["weight"].sum() == pytest.approx((d["population"] * d["internet_share"]).sum())
    assert set(d["country_code"]) == {"FR", "DE"}
    assert list(d.columns) == list(demand.DEMAND_COLUMNS)
    assert d["demand_id"].is_unique
    assert d["weight"].is_monotonic_decreasing


def test_merges_5_km_but_not_50_km():
    near = demand.from_cities(cities=_toy(5 / 111.2), merge_within_km=20)
    assert len(near) == 2
    big = near.set_index("name").loc["Big"]
    assert big["population"] == 700_000
    assert big["n_cities"] == 2
    assert big["lat_deg"] == 50.0  # keeps the largest city's coordinates
    far = demand.from_cities(cities=_toy(50 / 111.2), merge_within_km=20)
    assert len(far) == 3
    total = demand.from_cities(cities=_toy(5 / 111.2))
    assert near["weight"].sum() == pytest.approx(total["weight"].sum())


@pytest.mark.filterwarnings("ignore:dropped cities")
def test_merge_is_deterministic_and_reduces_points():
    a = demand.from_cities(continents="EU", merge_within_km=40)
    b = demand.from_cities(continents=["eu"], merge_within_km=40)
    pd.testing.assert_frame_equal(a, b)
    raw = demand.from_cities(continents="EU")
    assert len(a) < len(raw)
    assert a["population"].sum() == raw["population"].sum()


def test_filters_and_errors():
    with pytest.raises(ValidationError, match="unknown country code 'ZZ'"):
        demand.from_cities(countries=["DE", "ZZ"])
    with pytest.raises(ValidationError, match="unknown continent 'XX'"):
        demand.from_cities(continents="XX")
    with pytest.raises(ValidationError, match="merge_within_km"):
        demand.from_cities(merge_within_km=0)
    big = demand.from_cities(min_population=5_000_000, countries="US")
    assert (big["population"] >= 5_000_000).all()
    assert "New York City" in set(big["name"])


def test_missing_share_is_dropped_with_warning():
    # Western Sahara: no ITU value and no cited supplement -> dropped, never guessed
    with pytest.warns(UserWarning, match="EH"):
        d = demand.from_cities(countries=["EH", "JP"])
    assert set(d["country_code"]) == {"JP"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        demand.from_cities(countries="JP")


def test_taiwan_uses_cited_twnic_share():
    share = catalog.internet_share().set_index("country_code")
    assert share.loc["TW", "internet_share"] == pytest.approx(0.838)
    assert share.loc["TW", "year"] == 2020
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = demand.from_cities(countries="TW")
    assert len(d) == 27
    assert d["population"].sum() == 24_516_651
    assert d["internet_share"].to_numpy() == pytest.approx(0.838)
    assert d["weight"].sum() == pytest.approx(0.838 * 24_516_651)
    assert "Taipei" in set(d["name"])


# ----------------------------------------------------------------------------- selection (issue 15)
@pytest.fixture(scope="module")
def world() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return demand.from_cities().set_index("name")


@pytest.mark.parametrize(
    ("name", "continent"),
    [
        ("Moscow", "EU"),
        ("Perm", "EU"),
        ("Ufa", "EU"),
        ("Yekaterinburg", "AS"),
        ("Novosibirsk", "AS"),
        ("Krasnoyarsk", "AS"),
        ("Vladivostok", "AS"),
        ("Istanbul", "EU"),
        ("Edirne", "EU"),
        ("Tekirdağ", "EU"),
        ("Üsküdar", "AS"),
        ("Ankara", "AS"),
        ("Bursa", "AS"),
        ("Çanakkale", "AS"),
        ("Oral", "EU"),
        ("Aktau", "AS"),
        ("Almaty", "AS"),
        ("Arīsh", "AS"),
        ("Suez", "AF"),
        ("Port Said", "AF"),
        ("Hurghada", "AF"),
        ("Jayapura", "OC"),
        ("Sorong", "OC"),
        ("Ambon", "AS"),
        ("Paris", "EU"),
        ("Lagos", "AF"),
    ],
)
def test_transcontinental_cities_land_on_their_side(world, name: str, continent: str) -> None:
    assert world.loc[[name], "continent"].iloc[0] == continent


def test_continent_of_keeps_other_countries_and_counts() -> None:
    out = demand.continent_of(
        ["FR", "RU", "RU", "TR"], [48.9, 55.8, 55.0, 39.9], [2.35, 37.6, 82.9, 32.9]
    )
    assert list(out) == ["EU", "EU", "AS", "AS"]
    eu = demand.from_cities(continents="EU", countries="RU")
    asia = demand.from_cities(continents="AS", countries="RU")
    assert len(eu) + len(asia) == len(demand.from_cities(countries="RU"))
    assert (eu["lon_deg"] < 59.8).all() and (asia["lon_deg"] >= 59.8).all()
    assert set(demand.TRANSCONTINENTAL) == {"RU", "TR", "KZ", "EG", "ID"}


@pytest.mark.filterwarnings("ignore:dropped cities")
def test_exclude_countries_and_continents() -> None:
    eu = demand.from_cities(continents="EU", min_population=1_000_000)
    no_ru = demand.from_cities(continents="EU", exclude_countries="ru", min_population=1_000_000)
    assert "RU" in set(eu["country_code"]) and "RU" not in set(no_ru["country_code"])
    assert len(no_ru) == int((eu["country_code"] != "RU").sum())
    rest = demand.from_cities(exclude_continents=["AS", "AF"], min_population=2_000_000)
    assert not set(rest["continent"]) & {"AS", "AF"}
    with pytest.raises(ValidationError, match="exclude_countries"):
        demand.from_cities(exclude_countries="ZZ")
    with pytest.raises(ValidationError, match="exclude_continents"):
        demand.from_cities(exclude_continents="XX")


def test_bbox_and_near() -> None:
    box = demand.from_cities(bbox="-10,36,3.5,44")
    assert box["lon_deg"].between(-10, 3.5).all() and box["lat_deg"].between(36, 44).all()
    assert {"Madrid", "Lisbon"} <= set(box["name"])
    wrap = demand.from_cities(bbox=(170, -50, -170, -10))  # across the antimeridian
    assert set(wrap["country_code"]) == {"NZ"}
    near = demand.from_cities(near=(48.8566, 2.3522, 150))
    assert "Paris" in set(near["name"]) and "Lyon" not in set(near["name"])
    small = demand.from_cities(countries="DE", max_population=150_000)
    assert (small["population"] <= 150_000).all() and len(small) > 0
    for bad in ("1,2,3", "a,b,c,d", "10,50,20,40"):
        with pytest.raises(ValidationError, match="bbox"):
            demand.from_cities(bbox=bad)
    for bad in ("1,2", "95,0,10", "0,0,-5"):
        with pytest.raises(ValidationError, match="near"):
            demand.from_cities(near=bad)
    with pytest.raises(ValidationError, match="no city"):
        demand.from_cities(near=(0.0, -140.0, 100))  # the middle of the Pacific


@pytest.mark.filterwarnings("ignore:dropped cities")
def test_problem_files_select_demand_with_the_same_filters(tmp_path) -> None:
    from placement import config
    from placement.problem import Problem

    f = tmp_path / "p.toml"
    f.write_text(
        '[inputs]\nproviders = ["aws"]\ncontinents = ["EU"]\nexclude_countries = ["RU", "TR"]\n'
        "min_population = 1000000\nbbox = [-10, 35, 30, 60]\n"
        '[problem]\nobjective = "median"\nn_sites = 2\n',
        encoding="utf-8",
    )
    p = Problem.from_config(config.load_config(f))
    assert not set(p.demand["country_code"]) & {"RU", "TR"}
    assert p.demand["lon_deg"].between(-10, 30).all()
    csv = tmp_path / "d.csv"
    csv.write_text("demand_id,lat,lon,weight\na,1,2,3\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="select catalog cities"):
        config.load_demand(str(csv), countries=["DE"])
    assert len(config.load_demand(str(csv), countries=None)) == 1
