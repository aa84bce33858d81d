"""``placement latency``: print the long latency table for demand points and sites."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from placement.cli._common import info, write_frame

#: The word that, in place of a file name, selects the shipped catalog or city demand.
CATALOG = "catalog"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``latency`` subcommand."""
    p = subparsers.add_parser(
        "latency",
        help="round-trip latency between demand points and sites",
        description="Print the long table demand_id,site_id,distance_km,source,latency_ms (round "
        "trip, ms; distance_km is great-circle; source is measured/modelled). Inputs are CSV "
        "files with columns site_id,lat,lon and demand_id,lat,lon,weight (extra columns allowed; "
        "country_code, ISO alpha-2, sets a point's access delay, else its nearest city's "
        "country), or the word 'catalog' for the shipped cloud regions / city demand points.",
    )
    p.add_argument("--sites", required=True, metavar="F", help="sites CSV, or 'catalog'")
    p.add_argument("--demand", required=True, metavar="F", help="demand CSV, or 'catalog'")
    p.add_argument(
        "--model",
        choices=("route", "distance"),
        default="route",
        help="backbone: shortest path over the cable/terrestrial backbone (route, default) or "
        "great-circle distance only",
    )
    p.add_argument(
        "--access",
        choices=("demand", "both", "none"),
        default="demand",
        help="users' access-network delay and their country's route terms (detour, factor "
        "towards the other end's continent) on the demand side (default: users to datacentre "
        "sites), on both ends (user to user), or none (the backbone model, site to site)",
    )
    p.add_argument(
        "--statistic",
        choices=("mean", "p50", "p95"),
        default="mean",
        help="latency_ms over a demand point's users: mean (default), median or 95th percentile",
    )
    p.add_argument(
        "--measured",
        metavar="F",
        default=None,
        help="CSV demand_id,site_id,latency_ms of measured pairs overriding the model "
        "(source=measured)",
    )
    p.add_argument(
        "--rum",
        metavar="F",
        default=None,
        help="CSV of your users' measurements (site_id,latency_ms and country_code and/or "
        "lat_deg,lon_deg; optional statistic mean/p50/p95) recalibrating the access per country "
        "(demand side); the error on them before and after goes to stderr",
    )
    p.add_argument(
        "--max-latency-ms",
        type=float,
        default=None,
        metavar="X",
        help="keep pairs with a round trip of at most X ms",
    )
    p.add_argument(
        "--k-nearest",
        type=int,
        default=None,
        metavar="K",
        help="keep each demand point's K lowest-latency sites",
    )
    p.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="output format (default: csv)"
    )
    p.set_defaults(func=run)
    return p


def _read_table(path: str, kind: str) -> pd.DataFrame:
    """A CSV through the one input reader: ids and codes as written (``NA`` stays Namibia)."""
    from placement._io import read_csv

    return read_csv(path, table=kind)


def _read(path: str, kind: str) -> pd.DataFrame:
    if path == CATALOG:
        if kind == "sites":
            from placement import catalog

            return catalog.sites()
        from placement import demand

        return demand.from_cities()
    return _read_table(path, kind)


def run(args: argparse.Namespace) -> int:
    """Print the latency table; returns the exit code."""
    from placement import latency
    from placement.params import check_budget

    sites = _read(args.sites, "sites")
    demand = _read(args.demand, "demand")
    check_budget(
        "pairs", len(sites) * len(demand), f"{len(demand):,} demand x {len(sites):,} sites"
    )
    if "weight" not in demand.columns:  # latencies do not depend on it
        info("placement latency: demand has no weight column; using 1 for every point")
        demand = demand.assign(weight=1.0)
    backbone = (
        latency.RouteLatencyModel() if args.model == "route" else latency.DistanceLatencyModel()
    )
    from placement.config import adjusted_model

    model = adjusted_model(
        latency.UserLatencyModel(access=args.access, statistic=args.statistic, backbone=backbone),
        sites,
        rum=None if args.rum is None else _read_table(args.rum, "rum"),
        measured=None if args.measured is None else _read_table(args.measured, "measured"),
    )
    table = model.table(demand, sites, max_latency_ms=args.max_latency_ms, k_nearest=args.k_nearest)
    info(
        f"placement latency: {len(table):,} pairs ({table['demand_id'].nunique():,} demand "
        f"points, {table['site_id'].nunique():,} sites), statistic {args.statistic}, access "
        f"{args.access}, backbone {backbone!r}; writing {args.format}"
    )
    write_frame(table, args.format)
    return 0
