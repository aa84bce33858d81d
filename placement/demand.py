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

__all__ = ["DEMAND_COLUMNS", "from_cities"]

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
        GeoNames continent codes to keep: ``AF``, ``AN``, ``AS``, ``EU``, ``NA``, ``OC``, ``SA``.
    merge_within_km : float, optional
        Merge cities closer than this great-circle distance (km) into one metro point. Greedy and
        deterministic: cities are visited from the most to the least populous (ties by id); each
        city not yet merged absorbs every not-yet-merged city within ``merge_within_km`` of it.
        The merged point keeps the largest city's id, name, coordinates, country, continent and
        time zone; ``population`` and ``weight`` are the sums over its members (each member
        weighted with its own country's internet share), ``internet_share`` is then
        ``weight / population`` and ``n_cities`` counts the members.
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
        On an unknown country or continent code, a non-positive ``merge_within_km``, or when no
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
    if cont is not None:
        for c in cont:
            if c not in catalog.CONTINENTS:
                raise ValidationError(
                    f"unknown continent {c!r} (valid: {', '.join(catalog.CONTINENTS)})",
                    table="parameter",
                    field="continents",
                    value=c,
                )
    ctry = _codes(countries, "countries")
    if ctry is not None:
        known = set(df["country_code"].dropna()) | set(shares["country_code"])
        for c in ctry:
            if c not in known:
                raise ValidationError(
                    f"unknown country code {c!r} (ISO 3166-1 alpha-2 expected)",
                    table="parameter",
                    field="countries",
                    value=c,
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
    if "timezone" not in df.columns:
        df["timezone"] = pd.NA
    df = df[df["population"] >= min_population]
    if ctry is not None:
        df = df[df["country_code"].isin(ctry)]
    if cont is not None:
        df = df[df["continent"].isin(cont)]

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
