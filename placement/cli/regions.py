"""``placement regions``: print the catalog's candidate sites with their joined attributes."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from placement.cli._common import add_format_option, write_frame

#: Columns shown by ``--format table`` (CSV and JSON carry every column of catalog.sites()).
TABLE_COLUMNS = (
    "site_id",
    "kind",
    "city",
    "country_code",
    "subdivision_code",
    "price_usd_per_kwh",
    "price_level",
    "tmean_annual_c",
    "carbon_g_per_kwh",
    "carbon_level",
    "political_stability_est",
    "nearest_hub",
    "hub_distance_km",
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``regions`` subcommand."""
    p = subparsers.add_parser(
        "regions",
        help="list candidate sites (cloud regions, AWS Local Zones) with catalog attributes",
        description="Print the catalog's sites joined with electricity price, climate, grid "
        "carbon intensity, political stability and nearest internet exchange hub. The table "
        "format shows a summary; csv and json carry every column.",
    )
    p.add_argument(
        "--provider",
        action="append",
        metavar="P",
        help="keep this provider (aws, azure, gcp, oci); repeatable",
    )
    p.add_argument(
        "--kind",
        action="append",
        metavar="K",
        help="keep this kind of site (region, local-zone); repeatable",
    )
    add_format_option(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the joined site table; returns the exit code."""
    from placement import catalog

    df = catalog.sites(providers=args.provider, kinds=args.kind, max_age_years=None)
    if args.format == "table":
        df = df[list(TABLE_COLUMNS)].round({"price_usd_per_kwh": 4, "hub_distance_km": 0})
    try:
        write_frame(df, args.format)
    except BrokenPipeError:  # e.g. piped into `head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0
