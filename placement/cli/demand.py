"""``placement demand``: print demand points built from cities and internet use."""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from placement.cli._common import add_format_option, info, write_frame


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``demand`` subcommand."""
    p = subparsers.add_parser(
        "demand",
        help="list demand points (cities weighted by internet users)",
        description="Print demand points from the GeoNames city table: weight = population x "
        "share of internet users of the country. Optionally merge nearby cities into metros.",
    )
    p.add_argument(
        "--min-population", type=int, default=100_000, metavar="N", help="default: 100000"
    )
    p.add_argument(
        "--country", action="append", metavar="CC", help="ISO 3166-1 alpha-2 code; repeatable"
    )
    p.add_argument(
        "--continent",
        action="append",
        metavar="C",
        help="continent code AF, AN, AS, EU, NA, OC or SA; repeatable",
    )
    p.add_argument(
        "--merge-within-km",
        type=float,
        default=None,
        metavar="KM",
        help="merge cities closer than KM into the largest one (default: no merging)",
    )
    add_format_option(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the demand table; returns the exit code."""
    from placement import demand

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = demand.from_cities(
            min_population=args.min_population,
            countries=args.country,
            continents=args.continent,
            merge_within_km=args.merge_within_km,
        )
    for w in caught:
        info(f"placement demand: warning: {w.message}")
    info(f"placement demand: {len(df)} points, total weight {df['weight'].sum():,.0f}")
    write_frame(df, args.format)
    return 0
