"""A small hand-made :class:`~placement.result.Result` for examples, tests and notebooks.

Four open cloud regions and two closed candidates (real coordinates), ten demand cities (real
coordinates, populations in millions as weights), latency from great-circle distance
(``1 + distance_km / 100 * 1.1`` ms round trip, the usual fibre rule of thumb), and optionally a
backup assignment per city and annual cost components per site. Nothing is solved: the primary
site of each city is the nearest open one, which is what an optimal solver would also pick.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from placement.geo import distance_matrix_km
from placement.result import Result, latency_metrics

__all__ = ["example_result"]

_SITES = [
    # site_id, display_name, provider, city, country_code, continent, lat, lon
    ("aws:eu-central-1", "AWS Frankfurt", "aws", "Frankfurt", "DE", "EU", 50.11, 8.68),
    ("aws:us-east-1", "AWS N. Virginia", "aws", "Ashburn", "US", "NA", 39.04, -77.49),
    ("gcp:asia-northeast1", "GCP Tokyo", "gcp", "Tokyo", "JP", "AS", 35.68, 139.69),
    ("azure:brazilsouth", "Azure Brazil South", "azure", "Sao Paulo", "BR", "SA", -23.55, -46.63),
    ("aws:ap-southeast-2", "AWS Sydney", "aws", "Sydney", "AU", "OC", -33.87, 151.21),
    ("gcp:europe-west2", "GCP London", "gcp", "London", "GB", "EU", 51.51, -0.13),
]
_OPEN = ["aws:eu-central-1", "aws:us-east-1", "gcp:asia-northeast1", "azure:brazilsouth"]
_DEMAND = [
    # demand_id, name, country_code, continent, timezone, lat, lon, population (millions)
    ("london", "London", "GB", "EU", "Europe/London", 51.507, -0.128, 9.0),
    ("paris", "Paris", "FR", "EU", "Europe/Paris", 48.857, 2.352, 11.0),
    ("berlin", "Berlin", "DE", "EU", "Europe/Berlin", 52.520, 13.405, 3.7),
    ("new-york", "New York", "US", "NA", "America/New_York", 40.713, -74.006, 18.8),
    ("toronto", "Toronto", "CA", "NA", "America/Toronto", 43.653, -79.383, 6.2),
    ("tokyo", "Tokyo", "JP", "AS", "Asia/Tokyo", 35.690, 139.692, 37.4),
    ("seoul", "Seoul", "KR", "AS", "Asia/Seoul", 37.567, 126.978, 9.9),
    ("sao-paulo", "São Paulo", "BR", "SA", "America/Sao_Paulo", -23.551, -46.633, 22.0),
    (
        "buenos-aires",
        "Buenos Aires",
        "AR",
        "SA",
        "America/Argentina/Buenos_Aires",
        -34.604,
        -58.382,
        15.2,
    ),
    ("sydney", "Sydney", "AU", "OC", "Australia/Sydney", -33.869, 151.209, 5.3),
]
# power price USD/kWh, PUE, grid carbon gCO2e/kWh, political stability percentile, hub, hub km
_ATTRS = {
    "aws:eu-central-1": (0.19, 1.12, 380.0, 63.2, "fra-decix", 3.0),
    "aws:us-east-1": (0.09, 1.18, 300.0, 45.8, "ash-equinix", 2.0),
    "gcp:asia-northeast1": (0.17, 1.20, 460.0, 85.4, "tok-jpix", 5.0),
    "azure:brazilsouth": (0.13, 1.35, 90.0, 30.7, "sao-ixbr", 12.0),
}


def example_result(
    *,
    name: str = "example",
    redundancy: int = 1,
    costed: bool = True,
    sla_ms: float | None = 150.0,
    site_names: dict[str, str] | None = None,
) -> Result:
    """A realistic small Result built by hand (no solver).

    Parameters
    ----------
    name : str
        The result's name.
    redundancy : int
        1 or 2; with 2 every city also gets its second-nearest open site as a backup (rank 2).
    costed : bool
        Add cost components (energy, fixed, carbon, egress, served) and site attributes.
    sla_ms : float, optional
        Put into ``params["max_latency_ms"]`` (and ``share_within_sla`` into the metrics).
    site_names : dict, optional
        ``{site_id: display_name}`` overrides (e.g. to test escaping).

    Returns
    -------
    Result
        Status ``optimal``, four open sites, ten demand points.
    """
    if redundancy not in (1, 2):
        raise ValueError("redundancy must be 1 or 2")
    cols = ["site_id", "display_name", "provider", "city", "country_code", "continent"]
    sites = pd.DataFrame(_SITES, columns=[*cols, "lat_deg", "lon_deg"])
    if site_names:
        sites["display_name"] = sites["site_id"].map(site_names).fillna(sites["display_name"])
    dcols = ["demand_id", "name", "country_code", "continent", "timezone", "lat_deg", "lon_deg"]
    demand = pd.DataFrame(_DEMAND, columns=[*dcols, "weight"])
    open_sites = sites[sites["site_id"].isin(_OPEN)].reset_index(drop=True)
    dist = distance_matrix_km(
        demand["lat_deg"], demand["lon_deg"], open_sites["lat_deg"], open_sites["lon_deg"]
    )
    latency = np.round(1.0 + dist / 100.0 * 1.1, 3)
    order = np.argsort(latency, axis=1, kind="stable")
    rows = []
    for i, d in demand.iterrows():
        for rank in range(1, redundancy + 1):
            j = order[i, rank - 1]
            rows.append(
                (d["demand_id"], open_sites["site_id"][j], rank, latency[i, j], 1.0, d["weight"])
            )
    assignments = pd.DataFrame(
        rows, columns=["demand_id", "site_id", "rank", "latency_ms", "share", "weight"]
    )
    primary = assignments[assignments["rank"] == 1]
    load = primary.groupby("site_id")["weight"].sum()
    n_demand = primary.groupby("site_id")["demand_id"].nunique()
    open_sites["load"] = open_sites["site_id"].map(load).fillna(0.0)
    open_sites["n_demand"] = open_sites["site_id"].map(n_demand).fillna(0).astype(int)
    metrics: dict[str, float] = {"n_open": float(len(open_sites))}
    metrics.update(latency_metrics(assignments, sla_ms=sla_ms))
    if redundancy == 2:
        b = latency_metrics(assignments, rank=2)
        metrics["backup_mean_latency_ms"] = b["mean_latency_ms"]
        metrics["backup_max_latency_ms"] = b["max_latency_ms"]
    if costed:
        attrs = pd.DataFrame.from_dict(
            _ATTRS,
            orient="index",
            columns=[
                "price_usd_per_kwh",
                "pue",
                "carbon_g_per_kwh",
                "political_stability_pctile",
                "nearest_hub",
                "hub_distance_km",
            ],
        )
        for col in attrs.columns:
            open_sites[col] = open_sites["site_id"].map(attrs[col])
        kwh = 500.0 * 8760.0 * open_sites["pue"]  # 500 kW of IT load
        open_sites["energy_usd_per_year"] = (kwh * open_sites["price_usd_per_kwh"]).round(2)
        open_sites["fixed_usd_per_year"] = 250_000.0
        carbon_t = kwh * open_sites["carbon_g_per_kwh"] / 1e6
        open_sites["carbon_tonnes_per_year"] = carbon_t.round(3)
        open_sites["carbon_usd_per_year"] = (carbon_t * 50.0).round(2)
        open_sites["egress_usd_per_year"] = (open_sites["load"] * 9_000.0).round(2)
        open_sites["served_usd_per_year"] = (open_sites["load"] * 2_000.0).round(2)
        comps = [
            "energy_usd_per_year",
            "fixed_usd_per_year",
            "carbon_usd_per_year",
            "egress_usd_per_year",
            "served_usd_per_year",
        ]
        open_sites["total_usd_per_year"] = open_sites[comps].sum(axis=1)
        for col in comps:
            metrics[col] = float(open_sites[col].sum())
        metrics["total_cost_usd_per_year"] = float(open_sites["total_usd_per_year"].sum())
        metrics["carbon_tonnes_per_year"] = float(open_sites["carbon_tonnes_per_year"].sum())
    return Result(
        status="optimal",
        objective=metrics["mean_latency_ms"],
        best_bound=metrics["mean_latency_ms"],
        gap=0.0,
        open_sites=open_sites,
        assignments=assignments,
        metrics=metrics,
        sites=sites,
        demand=demand,
        params={
            "objective": "median",
            "objective_unit": "ms (demand-weighted mean latency)",
            "n_sites": len(open_sites),
            "max_latency_ms": sla_ms,
            "redundancy": redundancy,
            "failure_domain": "site_id",
        },
        timings={"build_s": 0.01, "solve_s": 0.02, "total_s": 0.03},
        solver={"name": "hand-made"},
        name=name,
    )
