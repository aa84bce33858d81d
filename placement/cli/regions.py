"""``placement regions``: print the catalog's candidate sites with their joined attributes."""

from __future__ import annotations

import argparse
from typing import Any

from placement import costs
from placement.catalog import LEVELLED_ATTRIBUTES as LEVELLED
from placement.cli._common import add_format_option, info, write_frame
from placement.cli._cost_options import add_cost_options, cost_model_from_args

#: Cost columns joined from :meth:`placement.costs.CostModel.site_costs` (the site's own price and
#: carbon intensity are already catalog columns; ``pue_basis`` is bookkeeping).
COST_COLUMNS = (
    tuple(
        c
        for c in costs.COST_COLUMNS
        if c not in ("price_usd_per_kwh", "carbon_g_per_kwh", "pue_basis")
    )
    + costs.COMPUTE_COST_COLUMNS
)  # the compute columns are there when --cost-view counts compute

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
    "climate_level",
    "carbon_g_per_kwh",
    "carbon_level",
    "political_stability_est",
    "nearest_hub",
    "hub_distance_km",
    "pue",
    "total_usd_per_year",
)


#: Count columns of catalog.coverage_by_country that are not a sub-national level.
_NOT_FINE = ("n_sites", "n_country", "n_missing")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``regions`` subcommand."""
    p = subparsers.add_parser(
        "regions",
        help="list candidate sites (cloud regions, AWS Local Zones) with catalog attributes",
        description="Print the catalog's sites joined with electricity price, climate, grid "
        "carbon intensity, political stability and nearest internet exchange hub. The table "
        "format shows a summary; csv and json carry every column. With --coverage, print per "
        "country how many sites get that attribute at a sub-national level instead.",
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
    p.add_argument(
        "--coverage",
        choices=tuple(LEVELLED),
        metavar="ATTR",
        help="instead of the sites, print per country how many sites get ATTR (price, climate, "
        "carbon) at each level (subdivision vs country) and which subdivisions still fall back "
        "to the country value",
    )
    add_format_option(p)
    add_cost_options(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the joined site table; returns the exit code."""
    import dataclasses

    from placement import catalog

    df = catalog.sites(providers=args.provider, kinds=args.kind, max_age_years=None)
    if args.coverage:
        cov = catalog.coverage_by_country(df, args.coverage)
        fine = [c for c in cov.columns if c.startswith("n_") and c not in _NOT_FINE]
        n_fine = int(cov[fine].to_numpy().sum())
        n_countries = int((cov["sub_national_share"] > 0).sum())
        info(
            f"placement regions: {args.coverage} below country level for {n_fine} of {len(df)} "
            f"sites in {n_countries} of {len(cov)} countries"
        )
        write_frame(cov, args.format)
        return 0
    model = cost_model_from_args(args)
    if args.missing_costs in (None, "error"):
        # listing: a site without the data a component needs shows empty cost cells, with a note
        model = dataclasses.replace(model, missing="drop")
    costs = model.site_costs(df)
    dropped = costs.attrs.get("dropped_site_ids", [])
    if dropped:
        info(
            f"placement regions: no cost for {len(dropped)} sites lacking data: {', '.join(dropped)}"
        )
    cols = [c for c in COST_COLUMNS if c in costs.columns]
    df = df.drop(columns=[c for c in cols if c in df.columns]).merge(
        costs[cols], left_on="site_id", right_index=True, how="left"
    )
    if args.format == "table":
        shown = list(TABLE_COLUMNS)
        if "compute_usd_per_vcpu_hour" in df.columns:
            shown.insert(shown.index("pue"), "compute_usd_per_vcpu_hour")
        df = df[shown].round({"price_usd_per_kwh": 4, "hub_distance_km": 0})
    write_frame(df, args.format)
    return 0
