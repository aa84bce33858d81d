"""Demand points from the shipped city table: population × share of internet users.

The weight of a demand point is the expected number of internet users it holds
(``population × internet_share`` of its country). Cities can be filtered by population, country
and continent and, optionally, merged into metro areas so that nearby places (e.g. the cities of
one conurbation) count as one point.

This module reads shipped data through :mod:`placement.catalog` only; it does no network I/O.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from placement import catalog
from placement.errors import ValidationError
from placement.geo import EARTH_RADIUS_KM
from placement.validate import validate_demand

__all__ = [
    "DEMAND_COLUMNS",
    "TRANSCONTINENTAL",
    "continent_of",
    "from_cities",
    "parse_bbox",
    "parse_near",
]

#: Columns of the table returned by :func:`from_cities`, in order.
DEMAND_COLUMNS = (
    "demand_id",
    "name",
    "country_code",
    "continent",
    "timezone",
    "lat_deg",
    "lon_deg",
    "population",
    "internet_share",
    "weight",
    "n_cities",
)


#: Countries whose cities are split between continents by where they lie, not by the country's
#: single GeoNames ``continentcode``: ``{country: (rule in words, continent when the rule holds)}``.
#: The boundaries are the conventional ones (Ural Mountains and River, Bosphorus, Suez Canal and
#: Gulf of Suez, the western end of New Guinea), approximated by lines that separate every city
#: of at least 100,000 people of the shipped table correctly (tests/test_demand.py checks them).
#: Other countries keep their GeoNames code, e.g. Cyprus (EU), Georgia, Armenia and Azerbaijan
#: (AS), Spain's Canary Islands (EU), Hawaii (NA), Panama (NA); see docs/demand.md.
TRANSCONTINENTAL: dict[str, tuple[str, str]] = {
    "RU": ("east of the Urals (longitude >= 59.8 E)", "AS"),
    "TR": ("Thrace: north of the Sea of Marmara and west of the Bosphorus", "EU"),
    "KZ": ("west of the Ural River, north of the Caspian (lon < 52 E, lat > 46 N)", "EU"),
    "EG": ("Sinai: east of the Suez Canal and the Gulf of Suez (lon > 32.6 E, lat > 28 N)", "AS"),
    "ID": ("New Guinea (Western New Guinea: lon > 130.8 E, south of 1 N)", "OC"),
}


def _transcontinental_mask(cc: str, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Rows of country ``cc`` that lie on the continent of :data:`TRANSCONTINENTAL`'s rule."""
    if cc == "RU":
        return lon >= 59.8
    if cc == "TR":
        # the Bosphorus runs north from about 29.0 E at 41.0 N to 29.1 E at 41.2 N
        return (lat >= 40.6) & (lon < 29.005 + np.maximum(0.0, lat - 41.05) * 0.7)
    if cc == "KZ":
        return (lon < 52.0) & (lat > 46.0)
    if cc == "EG":
        return (lon > 32.6) & (lat > 28.0)
    if cc == "ID":
        return (lon > 130.8) & (lat < 1.0)
    return np.zeros(len(lat), dtype=bool)


def continent_of(
    country_code: pd.Series | np.ndarray,
    lat_deg: pd.Series | np.ndarray,
    lon_deg: pd.Series | np.ndarray,
    continent: pd.Series | np.ndarray | None = None,
) -> np.ndarray:
    """The continent of each place: its country's GeoNames code, by location where split.

    Parameters
    ----------
    country_code, lat_deg, lon_deg : array_like
        ISO 3166-1 alpha-2 code and coordinates of each place.
    continent : array_like, optional
        The country-level continent code of each place (GeoNames ``continentcode``). Default:
        looked up from the shipped city table by country.

    Returns
    -------
    numpy.ndarray of str (object)
        ``AF``, ``AN``, ``AS``, ``EU``, ``NA``, ``OC`` or ``SA`` (None where unknown). The
        countries of :data:`TRANSCONTINENTAL` take the continent of the side their place lies on
        (e.g. Novosibirsk ``AS``, Istanbul ``EU``, Ankara ``AS``).
    """
    cc = pd.Series(np.asarray(country_code, dtype=object)).astype(str).str.upper().to_numpy()
    lat = np.asarray(lat_deg, dtype=float)
    lon = np.asarray(lon_deg, dtype=float)
    if continent is None:
        table = catalog.cities()[["country_code", "continent"]].drop_duplicates("country_code")
        by_country = dict(zip(table["country_code"], table["continent"], strict=True))
        out = np.array([by_country.get(c) for c in cc], dtype=object)
    else:
        out = np.asarray(continent, dtype=object).copy()
    for code, (_, other) in TRANSCONTINENTAL.items():
        rows = cc == code
        if rows.any():
            base = out[rows]
            out[rows] = np.where(_transcontinental_mask(code, lat[rows], lon[rows]), other, base)
    return out


def _finite_numbers(value: str | Iterable[float], n: int, field: str, expected: str) -> list[float]:
    """``n`` finite numbers from ``"a,b,…"`` or an iterable, else a ValidationError on ``field``."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    try:
        nums = [float(v) for v in parts]
    except (TypeError, ValueError):
        raise ValidationError(expected, table="parameter", field=field, value=value) from None
    if len(nums) != n or not all(np.isfinite(nums)):
        raise ValidationError(expected, table="parameter", field=field, value=value)
    return nums


def parse_bbox(value: str | Iterable[float]) -> tuple[float, float, float, float]:
    """A bounding box ``(west, south, east, north)`` in degrees from ``"W,S,E,N"`` or 4 numbers.

    ``west > east`` means a box across the antimeridian (e.g. ``170,-50,-170,-30``).
    """
    w, s, e, n = _finite_numbers(value, 4, "bbox", "expected 4 numbers W,S,E,N (degrees)")
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s < n <= 90):
        raise ValidationError(
            "need -180 <= W, E <= 180 and -90 <= S < N <= 90",
            table="parameter",
            field="bbox",
            value=value,
        )
    return (w, s, e, n)


def parse_near(value: str | Iterable[float]) -> tuple[float, float, float]:
    """A circle ``(lat_deg, lon_deg, radius_km)`` from ``"LAT,LON,KM"`` or 3 numbers."""
    lat, lon, km = _finite_numbers(value, 3, "near", "expected LAT,LON,KM")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and km > 0):
        raise ValidationError(
            "need -90 <= LAT <= 90, -180 <= LON <= 180 and KM > 0",
            table="parameter",
            field="near",
            value=value,
        )
    return (lat, lon, km)


def _codes(value: str | Iterable[str] | None, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    out = [str(v).strip().upper() for v in value]
    if not out:
        raise ValidationError("empty selection", table="parameter", field=name)
    return out


def _unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def _metro_groups(df: pd.DataFrame, merge_within_km: float) -> np.ndarray:
    """Greedy clustering: the largest unassigned city absorbs every unassigned city within reach.

    ``df`` must be sorted by population (descending, ties by id). Returns, per row, the position
    of the row that represents its group.
    """
    xyz = _unit_vectors(df["lat_deg"].to_numpy(float), df["lon_deg"].to_numpy(float))
    # great-circle distance d  <->  chord 2 sin(d / 2R) on the unit sphere
    chord = 2.0 * np.sin(min(merge_within_km / (2.0 * EARTH_RADIUS_KM), np.pi / 2))
    tree = cKDTree(xyz)
    owner = np.full(len(df), -1, dtype=np.int64)
    for i in range(len(df)):
        if owner[i] >= 0:
            continue
        near = np.asarray(tree.query_ball_point(xyz[i], r=chord * (1 + 1e-12)), dtype=np.int64)
        near = near[owner[near] < 0]
        owner[near] = i
        owner[i] = i
    return owner


def from_cities(
    min_population: int = 100_000,
    countries: str | Iterable[str] | None = None,
    continents: str | Iterable[str] | None = None,
    merge_within_km: float | None = None,
    cities: pd.DataFrame | None = None,
    *,
    exclude_countries: str | Iterable[str] | None = None,
    exclude_continents: str | Iterable[str] | None = None,
    bbox: str | Iterable[float] | None = None,
    near: str | Iterable[float] | None = None,
    max_population: int | None = None,
) -> pd.DataFrame:
    """Build a demand table from cities, weighted by their internet users.

    Parameters
    ----------
    min_population : int, default 100_000
        Keep places with at least this many inhabitants. The shipped table starts at 100,000,
        so smaller values only matter with a custom ``cities`` table.
    countries : str or iterable of str, optional
        ISO 3166-1 alpha-2 codes to keep (case-insensitive).
    continents : str or iterable of str, optional
        Continent codes to keep: ``AF``, ``AN``, ``AS``, ``EU``, ``NA``, ``OC``, ``SA``. A city's
        continent is its country's GeoNames code, except in the transcontinental countries of
        :data:`TRANSCONTINENTAL`, where it is the side the city lies on (see
        :func:`continent_of`): ``EU`` holds Istanbul and Moscow but not Ankara or Novosibirsk.
    merge_within_km : float, optional
        Merge cities closer than this great-circle distance (km) into one metro point. Greedy and
        deterministic: cities are visited from the most to the least populous (ties by id); each
        city not yet merged absorbs every not-yet-merged city within ``merge_within_km`` of it.
        The merged point keeps the largest city's id, name, coordinates, country, continent and
        time zone; ``population`` and ``weight`` are the sums over its members (each member
        weighted with its own country's internet share), ``internet_share`` is then
        ``weight / population`` and ``n_cities`` counts the members.
    exclude_countries, exclude_continents : str or iterable of str, optional
        Codes to drop (applied after ``countries`` / ``continents``), e.g. all of Europe but
        Russia: ``continents="EU", exclude_countries="RU"``.
    bbox : str or 4 floats, optional
        Keep cities inside the box ``(west, south, east, north)`` in degrees (or ``"W,S,E,N"``);
        ``west > east`` spans the antimeridian.
    near : str or 3 floats, optional
        Keep cities within a great-circle distance of a point: ``(lat_deg, lon_deg, radius_km)``
        (or ``"LAT,LON,KM"``).
    max_population : int, optional
        Keep places with at most this many inhabitants.
    cities : pandas.DataFrame, optional
        A city table with the columns of :func:`placement.catalog.cities` (``geonameid``,
        ``name``, ``country_code``, ``lat_deg``, ``lon_deg``, ``population``; ``continent`` and
        ``timezone`` optional). Default: the shipped GeoNames table.

    Returns
    -------
    pandas.DataFrame
        The demand table (see ARCHITECTURE.md), sorted by ``weight`` descending then
        ``demand_id``: ``demand_id`` (``geonames:<id>``), ``name``, ``country_code``,
        ``continent``, ``timezone``, ``lat_deg``, ``lon_deg``, ``population`` (persons),
        ``internet_share`` (fraction), ``weight`` (internet users, persons), ``n_cities``.

    Raises
    ------
    ValidationError
        On an unknown country or continent code, a malformed ``bbox`` / ``near``, a non-positive ``merge_within_km``, or when no
        city is left.

    Warns
    -----
    UserWarning
        When cities are dropped because their country has no internet-share value (the weight is
        never guessed), e.g. Kosovo, which the ITU series does not cover.

    References
    ----------
    GeoNames (CC BY 4.0); ITU / World Bank ``IT.NET.USER.ZS`` via Our World in Data (CC BY 4.0).
    """
    if cities is None:
        df = catalog.cities()
    else:
        if not isinstance(cities, pd.DataFrame):
            raise ValidationError("cities must be a DataFrame", table="parameter", field="cities")
        df = cities.copy()
        for col in ("geonameid", "name", "country_code", "lat_deg", "lon_deg", "population"):
            if col not in df.columns:
                raise ValidationError("required column missing", table="cities", field=col)
    if not np.isfinite(float(min_population)) or min_population < 0:
        raise ValidationError(
            "must be a number >= 0", table="parameter", field="min_population", value=min_population
        )
    shares = catalog.internet_share()
    cont = _codes(continents, "continents")
    no_cont = _codes(exclude_continents, "exclude_continents")
    for name, codes in (("continents", cont), ("exclude_continents", no_cont)):
        for c in codes or []:
            if c not in catalog.CONTINENTS:
                raise ValidationError(
                    f"unknown continent {c!r} (valid: {', '.join(catalog.CONTINENTS)})",
                    table="parameter",
                    field=name,
                    value=c,
                )
    ctry = _codes(countries, "countries")
    no_ctry = _codes(exclude_countries, "exclude_countries")
    known = set(df["country_code"].dropna()) | set(shares["country_code"])
    for name, codes in (("countries", ctry), ("exclude_countries", no_ctry)):
        for c in codes or []:
            if c not in known:
                raise ValidationError(
                    f"unknown country code {c!r} (ISO 3166-1 alpha-2 expected)",
                    table="parameter",
                    field=name,
                    value=c,
                )
    box = None if bbox is None else parse_bbox(bbox)
    circle = None if near is None else parse_near(near)
    if max_population is not None and not (float(max_population) >= 0):
        raise ValidationError(
            "must be a number >= 0", table="parameter", field="max_population", value=max_population
        )
    if merge_within_km is not None and not (float(merge_within_km) > 0):
        raise ValidationError(
            "must be > 0 km", table="parameter", field="merge_within_km", value=merge_within_km
        )

    if "continent" not in df.columns:
        df = df.merge(
            catalog.cities()[["country_code", "continent"]].drop_duplicates("country_code"),
            on="country_code",
            how="left",
        )
    df["continent"] = continent_of(
        df["country_code"], df["lat_deg"], df["lon_deg"], df["continent"].to_numpy(dtype=object)
    )
    if "timezone" not in df.columns:
        df["timezone"] = pd.NA
    df = df[df["population"] >= min_population]
    if max_population is not None:
        df = df[df["population"] <= max_population]
    if ctry is not None:
        df = df[df["country_code"].isin(ctry)]
    if cont is not None:
        df = df[df["continent"].isin(cont)]
    if no_ctry is not None:
        df = df[~df["country_code"].isin(no_ctry)]
    if no_cont is not None:
        df = df[~df["continent"].isin(no_cont)]
    if box is not None:
        w, s, e, n = box
        lon = df["lon_deg"].to_numpy(float)
        in_lon = (lon >= w) & (lon <= e) if w <= e else (lon >= w) | (lon <= e)
        df = df[in_lon & (df["lat_deg"] >= s).to_numpy() & (df["lat_deg"] <= n).to_numpy()]
    if circle is not None:
        from placement.geo import haversine_km

        lat0, lon0, km = circle
        dist = haversine_km(
            df["lat_deg"].to_numpy(float), df["lon_deg"].to_numpy(float), lat0, lon0
        )
        df = df[np.asarray(dist) <= km]

    df = df.merge(shares[["country_code", "internet_share"]], on="country_code", how="left")
    missing = df["internet_share"].isna()
    if missing.any():
        lost = df.loc[missing].groupby("country_code")["population"].sum().sort_index()
        warnings.warn(
            "dropped cities without an internet-share value for their country: "
            + ", ".join(f"{cc} ({int(p):,} people)" for cc, p in lost.items()),
            UserWarning,
            stacklevel=2,
        )
        df = df[~missing]
    if len(df) == 0:
        raise ValidationError("no city matches the filters", table="demand")

    df = df.sort_values(["population", "geonameid"], ascending=[False, True]).reset_index(drop=True)
    df["weight"] = df["population"].astype(float) * df["internet_share"].astype(float)
    df["n_cities"] = 1
    if merge_within_km is not None and len(df) > 1:
        owner = _metro_groups(df, float(merge_within_km))
        sums = (
            df[["population", "weight", "n_cities"]]
            .groupby(owner)
            .sum()
            .rename(columns=lambda c: f"_{c}")
        )
        df = df.iloc[sums.index.to_numpy()].reset_index(drop=True)
        df["population"] = sums["_population"].to_numpy()
        df["weight"] = sums["_weight"].to_numpy()
        df["n_cities"] = sums["_n_cities"].to_numpy()
        df["internet_share"] = df["weight"] / df["population"]

    out = pd.DataFrame(
        {
            "demand_id": "geonames:" + df["geonameid"].astype(np.int64).astype(str),
            "name": df["name"].astype(str),
            "country_code": df["country_code"],
            "continent": df["continent"],
            "timezone": df["timezone"],
            "lat_deg": df["lat_deg"].astype(float),
            "lon_deg": df["lon_deg"].astype(float),
            "population": df["population"].astype(np.int64),
            "internet_share": df["internet_share"].astype(float),
            "weight": df["weight"].astype(float),
            "n_cities": df["n_cities"].astype(np.int64),
        }
    )
    out = out.sort_values(["weight", "demand_id"], ascending=[False, True]).reset_index(drop=True)
    return validate_demand(out)[list(DEMAND_COLUMNS)]
