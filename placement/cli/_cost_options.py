"""Command-line options for a run's cost parameters, shared by ``placement regions`` and
``placement solve``.

``add_cost_options(parser)`` adds the options; ``cost_model_from_args(args)`` builds the
:class:`~placement.costs.CostModel`. Defaults mirror the CostModel's: a component not given on
the command line is not counted (zero) or comes from the shipped data (PUE from climate, egress
and compute list prices), never from a guess. ``--cost-view`` chooses whose costs count
(operator, customer or both; see :data:`placement.costs.VIEW_COMPONENTS`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from placement.costs import CostModel

__all__ = ["COST_OPTIONS", "add_cost_options", "cost_model_from_args", "cost_options_given"]


def add_cost_options(parser: Any) -> None:
    """Add the cost options to an :class:`argparse.ArgumentParser` (in their own group)."""
    group = parser.add_argument_group(
        "costs", "annual cost model (see placement.costs.CostModel; unset components count zero)"
    )
    group.add_argument(
        "--it-load-kw",
        type=float,
        default=None,
        metavar="KW",
        help="baseline IT power of an open site, kW (default: 0)",
    )
    group.add_argument(
        "--kw-per-unit",
        type=float,
        default=None,
        metavar="KW",
        help="IT power per unit of demand weight served, kW (default: 0)",
    )
    group.add_argument(
        "--fixed-cost-usd-per-year",
        type=float,
        default=None,
        metavar="USD",
        help="fixed cost of an open site, USD per year (default: 0)",
    )
    group.add_argument(
        "--carbon-price-usd-per-tonne",
        type=float,
        default=None,
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
        default=None,
        metavar="GB",
        help="egress per unit of demand weight per year, GB (default: 0)",
    )
    group.add_argument(
        "--baseline-gb-per-year",
        type=float,
        default=None,
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
        "--cost-view",
        choices=("operator", "customer", "both"),
        default=None,
        help=(
            "whose costs count: operator (energy, fixed, carbon, egress; default), customer "
            "(list price of compute, egress, fixed) or both"
        ),
    )
    group.add_argument(
        "--compute-usd-per-vcpu-hour",
        type=float,
        default=None,
        metavar="USD",
        help="list price of a vCPU-hour for every site (default: each region's shipped price)",
    )
    group.add_argument(
        "--vcpu-per-unit",
        type=float,
        default=None,
        metavar="N",
        help="vCPUs needed per unit of demand weight served (default: 0)",
    )
    group.add_argument(
        "--baseline-vcpu",
        type=float,
        default=None,
        metavar="N",
        help="vCPUs an open site rents whatever it serves (default: 0)",
    )
    group.add_argument(
        "--hours-per-year",
        type=float,
        default=None,
        metavar="H",
        help="hours of compute rented per year (default: 8760)",
    )
    group.add_argument(
        "--compute-prices",
        choices=("shipped", "cache"),
        default=None,
        help="region compute prices: shipped table (default) or the refreshed cache over it",
    )
    group.add_argument(
        "--missing-costs",
        choices=("error", "drop"),
        default=None,
        help="sites lacking price/climate/carbon/egress data: fail (default) or leave them out",
    )


#: Options whose values are CostModel keyword arguments (attribute name == keyword).
COST_OPTIONS = (
    "it_load_kw",
    "kw_per_unit",
    "fixed_cost_usd_per_year",
    "carbon_price_usd_per_tonne",
    "egress_usd_per_gb",
    "gb_per_unit_per_year",
    "baseline_gb_per_year",
    "pue",
    "price_usd_per_kwh",
    "carbon_g_per_kwh",
    "compute_usd_per_vcpu_hour",
    "vcpu_per_unit",
    "baseline_vcpu",
    "hours_per_year",
)


def cost_options_given(args: argparse.Namespace) -> dict[str, Any]:
    """The cost options given on the command line, as CostModel keyword arguments."""
    given = {k: getattr(args, k) for k in COST_OPTIONS if getattr(args, k, None) is not None}
    if getattr(args, "missing_costs", None) is not None:
        given["missing"] = args.missing_costs
    if getattr(args, "cost_view", None) is not None:
        given["view"] = args.cost_view
    if getattr(args, "compute_prices", None) is not None:
        given["compute_price_source"] = args.compute_prices
    return given


def cost_model_from_args(
    args: argparse.Namespace, base: Mapping[str, Any] | None = None
) -> CostModel:
    """Build the run's :class:`~placement.costs.CostModel` from parsed options.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options (see :func:`add_cost_options`).
    base : mapping, optional
        CostModel keyword arguments to start from (e.g. a TOML file's ``[costs]`` table): the
        options given on the command line are laid over it key by key; the rest keep
        ``base``'s values, then the CostModel's defaults.

    Raises
    ------
    placement.errors.ValidationError
        For an invalid value (negative, PUE below 1, ...), naming the parameter.
    """
    from placement import params

    kwargs = {**dict(base or {}), **cost_options_given(args)}
    # the same checker and stated ranges as the TOML [costs] table (nan, inf, 1e20 refused)
    return CostModel(**params.check(params.costs_spec(), kwargs, table="costs"))
