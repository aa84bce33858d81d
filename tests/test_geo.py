"""placement.geo against geopy: exact agreement with the sphere, documented bound vs WGS-84."""

from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import geodesic, great_circle

from placement import geo


@pytest.fixture(scope="module")
def random_pairs() -> np.ndarray:
    rng = np.random.default_rng(20261124)
    n = 400
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, size=(n, 2))))  # uniform on the sphere
    lon = rng.uniform(-180.0, 180.0, size=(n, 2))
    return np.column_stack([lat[:, 0], lon[:, 0], lat[:, 1], lon[:, 1]])


def test_earth_radius_is_geopy_mean_radius() -> None:
    from geopy.distance import EARTH_RADIUS

    # geopy rounds the IUGG mean radius 6371.0088 km to 6371.009 km: 1.4e-7 relative.
    assert geo.EARTH_RADIUS_KM == pytest.approx(EARTH_RADIUS, rel=2e-7)


def test_haversine_matches_geopy_great_circle(random_pairs: np.ndarray) -> None:
    ours = geo.haversine_km(*random_pairs.T)
    ref = np.array([great_circle((a, b), (c, d)).km for a, b, c, d in random_pairs])
    keep = ref > 1e-3
    rel = np.abs(ours[keep] - ref[keep]) / ref[keep]
    assert rel.max() <= 1e-6


def test_haversine_within_documented_bound_of_wgs84_geodesic(random_pairs: np.ndarray) -> None:
    ours = geo.haversine_km(*random_pairs.T)
    ref = np.array([geodesic((a, b), (c, d)).km for a, b, c, d in random_pairs])
    keep = ref > 1.0
    rel = np.abs(ours[keep] - ref[keep]) / ref[keep]
    assert rel.max() <= 0.0056
    # The sphere is not exact: the error is real, so the bound is not vacuous.
    assert rel.max() > 1e-4


def test_known_distance_london_new_york() -> None:
    # Heathrow (51.4700, -0.4543) to JFK (40.6413, -73.7781): geopy great_circle gives 5540.02 km.
    d = float(geo.haversine_km(51.4700, -0.4543, 40.6413, -73.7781))
    ref = great_circle((51.4700, -0.4543), (40.6413, -73.7781)).km
    assert d == pytest.approx(ref, rel=1e-6)
    assert d == pytest.approx(5540.02, abs=0.01)


def test_special_cases() -> None:
    assert float(geo.haversine_km(10.0, 20.0, 10.0, 20.0)) == 0.0
    half = np.pi * geo.EARTH_RADIUS_KM
    assert float(geo.haversine_km(0.0, 0.0, 0.0, 180.0)) == pytest.approx(half, rel=1e-12)
    assert float(geo.haversine_km(90.0, 0.0, -90.0, 0.0)) == pytest.approx(half, rel=1e-12)
    # Longitude wrap: +179 and -179 are 2 degrees apart on the equator.
    two_deg = 2 * np.pi / 180 * geo.EARTH_RADIUS_KM
    assert float(geo.haversine_km(0.0, 179.0, 0.0, -179.0)) == pytest.approx(two_deg, rel=1e-9)


def test_distance_matrix_shape_and_symmetry(random_pairs: np.ndarray) -> None:
    a = random_pairs[:7, :2]
    b = random_pairs[:5, 2:]
    m = geo.distance_matrix_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    assert m.shape == (7, 5)
    mt = geo.distance_matrix_km(b[:, 0], b[:, 1], a[:, 0], a[:, 1])
    np.testing.assert_allclose(m, mt.T, rtol=1e-12)
    np.testing.assert_allclose(m[2, 3], geo.haversine_km(a[2, 0], a[2, 1], b[3, 0], b[3, 1]))
