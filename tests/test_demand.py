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
    # Kosovo: no ITU value and no cited supplement -> dropped, never guessed
    with pytest.warns(UserWarning, match="XK"):
        d = demand.from_cities(countries=["XK", "JP"])
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
