"""Great-circle geometry on the sphere, vectorised with numpy.

Distances use the haversine formula on a sphere of the IUGG mean Earth radius (6371.0088 km), the
same sphere as ``geopy.distance.great_circle``. Against the WGS-84 ellipsoid (``geopy.distance
.geodesic``) the spherical distance differs by at most about 0.56 %. This module does no I/O.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["EARTH_RADIUS_KM", "distance_matrix_km", "haversine_km"]

#: IUGG mean Earth radius, km (Moritz 2000, Geodetic Reference System 1980).
EARTH_RADIUS_KM = 6371.0088

ArrayLike = npt.ArrayLike


def haversine_km(
    lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike, lon2_deg: ArrayLike
) -> np.ndarray:
    """Great-circle distance between points, element-wise with numpy broadcasting.

    Parameters
    ----------
    lat1_deg, lon1_deg, lat2_deg, lon2_deg : array_like
        Latitudes and longitudes in degrees.

    Returns
    -------
    numpy.ndarray
        Distances in km, broadcast shape of the inputs.
    """
    lat1 = np.radians(np.asarray(lat1_deg, dtype=float))
    lat2 = np.radians(np.asarray(lat2_deg, dtype=float))
    dlat = lat2 - lat1
    dlon = np.radians(np.asarray(lon2_deg, dtype=float) - np.asarray(lon1_deg, dtype=float))
    a = np.sin(dlat / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_matrix_km(
    lat_a_deg: ArrayLike, lon_a_deg: ArrayLike, lat_b_deg: ArrayLike, lon_b_deg: ArrayLike
) -> np.ndarray:
    """All-pairs great-circle distances between two point sets.

    Parameters
    ----------
    lat_a_deg, lon_a_deg : array_like, shape (n,)
        First point set (e.g. demand points), degrees.
    lat_b_deg, lon_b_deg : array_like, shape (m,)
        Second point set (e.g. sites), degrees.

    Returns
    -------
    numpy.ndarray, shape (n, m)
        Distances in km.
    """
    la = np.asarray(lat_a_deg, dtype=float)[:, None]
    oa = np.asarray(lon_a_deg, dtype=float)[:, None]
    lb = np.asarray(lat_b_deg, dtype=float)[None, :]
    ob = np.asarray(lon_b_deg, dtype=float)[None, :]
    return haversine_km(la, oa, lb, ob)
