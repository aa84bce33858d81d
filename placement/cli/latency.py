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
        description="Print the long table demand_id,site_id,distance_km,latency_ms (round trip, "
        "ms; distance_km is great-circle). Inputs are CSV files with columns site_id,lat,lon and "
        "demand_id,lat,lon,weight (extra columns allowed), or the word 'catalog' for the shipped "
        "cloud regions / city demand points.",
    )
    p.add_argument("--sites", required=True, metavar="F", help="sites CSV, or 'catalog'")
    p.add_argument("--demand", required=True, metavar="F", help="demand CSV, or 'catalog'")
    p.add_argument(
        "--model",
        choices=("route", "distance"),
        default="route",
        help="route: shortest path over the cable/terrestrial backbone (default); "
        "distance: great-circle distance only",
    )
    p.add_argument(
        "--max-latency-ms", type=float, default=None, metavar="X", help="keep pairs with RTT <= X"
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


def _read(path: str, kind: str) -> pd.DataFrame:
    if path == CATALOG:
        if kind == "sites":
            from placement import catalog

            return catalog.sites()
        from placement import demand

        return demand.from_cities()
    from placement._io import read_csv

    return read_csv(path, table=kind)


def run(args: argparse.Namespace) -> int:
    """Print the latency table; returns the exit code."""
    from placement import latency
    from placement.params import check_budget

    sites = _read(args.sites, "sites")
    demand = _read(args.demand, "demand")
    check_budget(
        "pairs", len(sites) * len(demand), f"{len(demand):,} demand x {len(sites):,} sites"
    )
    model = latency.RouteLatencyModel() if args.model == "route" else latency.DistanceLatencyModel()
    table = model.table(demand, sites, max_latency_ms=args.max_latency_ms, k_nearest=args.k_nearest)
    info(
        f"placement latency: {len(table)} pairs ({table['demand_id'].nunique()} demand points, "
        f"{table['site_id'].nunique()} sites), model {model!r}"
    )
    write_frame(table, args.format)
    return 0
