"""Command-line options for a run's cost parameters, shared by ``placement regions`` and
``placement solve``.

``add_cost_options(parser)`` adds the options; ``cost_model_from_args(args)`` builds the
:class:`~placement.costs.CostModel`. Defaults mirror the CostModel's: a component not given on
the command line is not counted (zero) or comes from the shipped data (PUE from climate, egress
list prices), never from a guess.
"""

from __future__ import annotations

import argparse
from typing import Any

from placement.costs import CostModel

__all__ = ["add_cost_options", "cost_model_from_args"]


def add_cost_options(parser: Any) -> None:
    """Add the cost options to an :class:`argparse.ArgumentParser` (in their own group)."""
    group = parser.add_argument_group(
        "costs", "annual cost model (see placement.costs.CostModel; unset components count zero)"
    )
    group.add_argument(
        "--it-load-kw",
        type=float,
        default=0.0,
        metavar="KW",
        help="baseline IT power of an open site, kW (default: 0)",
    )
    group.add_argument(
        "--kw-per-unit",
        type=float,
        default=0.0,
        metavar="KW",
        help="IT power per unit of demand weight served, kW (default: 0)",
    )
    group.add_argument(
        "--fixed-cost-usd-per-year",
        type=float,
        default=0.0,
        metavar="USD",
        help="fixed cost of an open site, USD per year (default: 0)",
    )
    group.add_argument(
        "--carbon-price-usd-per-tonne",
        type=float,
        default=0.0,
        metavar="USD",
        help="carbon price, USD per tonne CO2e (default: 0)",
    )
    group.add_argument(
        "--egress-usd-per-gb",
        type=float,
        default=None,
        metavar="USD",
        help="internet egress price for every site, USD/GB (default: shipped provider list prices)",
    )
    group.add_argument(
        "--gb-per-unit-per-year",
        type=float,
        default=0.0,
        metavar="GB",
        help="egress per unit of demand weight per year, GB (default: 0)",
    )
    group.add_argument(
        "--baseline-gb-per-year",
        type=float,
        default=0.0,
        metavar="GB",
        help="egress of an open site independent of its demand, GB per year (default: 0)",
    )
    group.add_argument(
        "--pue",
        type=float,
        default=None,
        help="PUE for every site (default: from each site's climate)",
    )
    group.add_argument(
        "--price-usd-per-kwh",
        type=float,
        default=None,
        metavar="USD",
        help="electricity price for every site, USD/kWh (default: each site's own price)",
    )
    group.add_argument(
        "--carbon-g-per-kwh",
        type=float,
        default=None,
        metavar="G",
        help="grid carbon intensity for every site, gCO2e/kWh (default: each site's own)",
    )
    group.add_argument(
        "--missing-costs",
        choices=("error", "drop"),
        default="error",
        help="sites lacking price/climate/carbon/egress data: fail (default) or leave them out",
    )


def cost_model_from_args(args: argparse.Namespace) -> CostModel:
    """Build the run's :class:`~placement.costs.CostModel` from parsed options.

    Raises
    ------
    placement.errors.ValidationError
        For an invalid value (negative, PUE below 1, ...), naming the parameter.
    """
    from placement import params

    kwargs = {
        "it_load_kw": args.it_load_kw,
        "kw_per_unit": args.kw_per_unit,
        "fixed_cost_usd_per_year": args.fixed_cost_usd_per_year,
        "carbon_price_usd_per_tonne": args.carbon_price_usd_per_tonne,
        "egress_usd_per_gb": args.egress_usd_per_gb,
        "gb_per_unit_per_year": args.gb_per_unit_per_year,
        "baseline_gb_per_year": args.baseline_gb_per_year,
        "pue": args.pue,
        "price_usd_per_kwh": args.price_usd_per_kwh,
        "carbon_g_per_kwh": args.carbon_g_per_kwh,
        "missing": args.missing_costs,
    }
    # the same checker and stated ranges as the TOML [costs] table (nan, inf, 1e20 refused)
    return CostModel(**params.check(params.costs_spec(), kwargs))
