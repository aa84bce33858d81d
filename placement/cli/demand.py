"""``placement demand``: print demand points built from cities and internet use."""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from placement.cli._common import add_format_option, info, write_frame
from placement.cli._options import add_demand_filters, demand_filters


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``demand`` subcommand."""
    p = subparsers.add_parser(
        "demand",
        help="list demand points (cities weighted by internet users)",
        description="Print demand points from the GeoNames city table: weight = population x "
        "share of internet users of the country. Select by country, continent, bounding box or "
        "distance from a point; optionally merge nearby cities into metros.",
    )
    add_demand_filters(p, min_population_default=100_000)
    add_format_option(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the demand table; returns the exit code."""
    from placement import demand

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = demand.from_cities(**demand_filters(args))
    for w in caught:
        info(f"placement demand: warning: {w.message}")
    info(f"placement demand: {len(df)} points, total weight {df['weight'].sum():,.0f}")
    write_frame(df, args.format)
    return 0
