"""Hold-out check of site-level climate: station normals left out of the point table.

Two checks, both on the shipped ``data/climate_points.csv`` (``python scripts/climate_holdout.py``):

1. **15 catalog sites** (the issue-17 sample and others): every weather station within 50 km of
   the site is removed from the point table; the site's climate is then looked up with
   :func:`placement.catalog.climate_at` from what remains (other stations, CHELSA grid cells,
   then country means) and compared with the removed station's annual mean.
2. **Leave-one-out over all stations**: each station in turn is removed (and nothing else) and
   looked up at its own coordinate.

A result is a hit when the looked-up annual mean is within 2.5 degC of the station's. The script
also lists the catalog sites farther than 50 km from their climate point (:func:`far_sites`).
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

from placement import catalog, geo

#: Catalog sites held out (issue 17 names Phoenix, Montreal, Calgary, Sydney, Melbourne,
#: Sao Paulo, Dallas, Ashburn, San Francisco; The Dalles has no station of its own here).
SITES = (
    "azure:westus3",  # Phoenix
    "aws:ca-central-1",  # Montreal
    "aws:ca-west-1",  # Calgary
    "aws:ap-southeast-2",  # Sydney
    "aws:ap-southeast-4",  # Melbourne
    "aws:sa-east-1",  # Sao Paulo
    "gcp:us-south1",  # Dallas
    "aws:us-east-1",  # Ashburn (Washington station, 42 km)
    "azure:westus",  # San Francisco
    "gcp:us-west4",  # Las Vegas
    "aws:eu-central-1",  # Frankfurt
    "aws:eu-west-2",  # London
    "aws:ap-northeast-1",  # Tokyo
    "aws:ap-south-1",  # Mumbai
    "aws:eu-north-1",  # Stockholm
)
HOLD_KM = 50.0
TOLERANCE_C = 2.5


def holdout_sites(sites: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Check 1: one row per site with the held-out station and the looked-up value."""
    rows = []
    stations = points[points["level"] == "station"]
    for sid in SITES:
        s = sites.loc[sid]
        d = geo.haversine_km(s["lat_deg"], s["lon_deg"], stations["lat_deg"], stations["lon_deg"])
        near = stations[np.asarray(d) <= HOLD_KM]
        if near.empty:
            raise SystemExit(f"{sid}: no station within {HOLD_KM:g} km to hold out")
        truth = near.iloc[int(np.argmin(np.asarray(d)[np.asarray(d) <= HOLD_KM]))]
        rest = points[~points["point_id"].isin(near["point_id"])]
        got = catalog.climate_at(
            s["lat_deg"], s["lon_deg"], s["country_code"], s["subdivision_code"], points=rest
        ).iloc[0]
        rows.append(
            {
                "site_id": sid,
                "city": s["city"],
                "held_out": truth["point_id"],
                "station_c": truth["tmean_annual_c"],
                "shipped_c": s["tmean_annual_c"],
                "holdout_c": got["tmean_annual_c"],
                "holdout_from": got["climate_point"]
                if pd.notna(got["climate_point"])
                else got["climate_level"],
                "km": got["climate_distance_km"],
            }
        )
    out = pd.DataFrame(rows)
    out["error_c"] = (out["holdout_c"] - out["station_c"]).round(2)
    out["hit"] = out["error_c"].abs() <= TOLERANCE_C
    return out


def leave_one_out(points: pd.DataFrame) -> pd.DataFrame:
    """Check 2: each station removed in turn and looked up at its own coordinate."""
    st = points[points["level"] == "station"]
    rows = []
    for r in st.itertuples():
        got = catalog.climate_at(
            r.lat_deg, r.lon_deg, r.country_code, points=points[points["point_id"] != r.point_id]
        ).iloc[0]
        rows.append(
            {
                "point_id": r.point_id,
                "station_c": r.tmean_annual_c,
                "got_c": got["tmean_annual_c"],
                "level": got["climate_level"],
            }
        )
    out = pd.DataFrame(rows)
    out["hit"] = (out["got_c"] - out["station_c"]).abs() <= TOLERANCE_C
    return out


#: A site whose climate point is farther than this is listed by :func:`far_sites`, km.
FAR_KM = 50.0


def far_sites(sites: pd.DataFrame, km: float = FAR_KM) -> pd.DataFrame:
    """Sites not at their own place: climate point beyond ``km``, interpolated or country mean."""
    far = (
        (sites["climate_distance_km"] > km)
        | sites["climate_distance_km"].isna()
        | (sites["climate_level"] == "interpolated")
    )
    out = sites.loc[far, ["city", "climate_level", "climate_point", "climate_distance_km"]]
    out = out.assign(
        climate_point=out["climate_point"].str.split(";").str[0],
        tmean_annual_c=sites.loc[far, "tmean_annual_c"],
    )
    return out.sort_values(["climate_distance_km", "city"], na_position="last")


def main() -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sites = catalog.sites(max_age_years=None).set_index("site_id")
    points = catalog.climate_points()
    h = holdout_sites(sites, points)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(h.to_string(index=False))
    print(
        f"\n15 held-out catalog sites: {int(h['hit'].sum())} of {len(h)} within {TOLERANCE_C} degC"
    )
    loo = leave_one_out(points)
    print(
        f"leave-one-out over {len(loo)} stations: {int(loo['hit'].sum())} within {TOLERANCE_C} "
        f"degC ({loo['hit'].mean():.0%}); by level of the replacement: "
        + ", ".join(
            f"{lvl} {int(g['hit'].sum())}/{len(g)}" for lvl, g in loo.groupby("level", dropna=False)
        )
    )
    far = far_sites(sites)
    print(
        f"\n{len(far)} sites farther than {FAR_KM:g} km from their climate point "
        "(interpolated: the nearest of its points):"
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(far.to_string())
    phx, dalles = sites.loc["azure:westus3"], sites.loc["gcp:us-west1"]
    print(
        f"Phoenix - The Dalles (shipped): {phx['tmean_annual_c'] - dalles['tmean_annual_c']:.2f} "
        "degC"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
