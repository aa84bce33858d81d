"""``placement demo``: solve a representative video-streaming placement and write its report.

The problem: the AWS, GCP and Azure regions of the shipped catalog as candidates; demand from the
cities of at least a million inhabitants (metros merged within 50 km), weighted by internet users;
the median objective (demand-weighted mean round-trip latency) with exactly ``--n-sites`` sites,
a hard SLA on every city's primary site, and each city also assigned a backup site in another
city (redundancy 2) within a backup SLA. Annual costs come from the cost model: 100 kW of
baseline IT load and $250,000 fixed cost per site, a $50/t carbon price, and egress at the
providers' list prices for a service with 100 concurrent viewers at peak per million internet
users (5 Mbps each; ``--concurrency``, ``--bitrate-mbps``, ``--curve``). The report shows each
site's peak Gbps and monthly egress.

Sites the cost model lacks data for (see ``placement regions``) are left out, and said so.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path
from typing import Any

from placement.cli._common import info
from placement.cli._options import add_verbosity_options, is_quiet
from placement.cli.solve import _limit
from placement.workload import DEFAULT_BITRATE_MBPS, DEFAULT_CONCURRENCY_RATIO

__all__ = ["add_parser", "build_problem", "run"]

PROVIDERS = ("aws", "gcp", "azure")
DEFAULT_OUT = Path("reports") / "demo.html"
#: Backup SLA of the demo, ms: a stated default, so that no backup lands across the world.
DEFAULT_BACKUP_SLA_MS = 200.0
#: Concurrent viewers at the local peak per internet user (100 per million).
DEFAULT_CONCURRENCY = DEFAULT_CONCURRENCY_RATIO


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help="solve a representative streaming placement and write an HTML report",
        description=(
            "Choose N cloud regions (AWS, GCP, Azure) for a video service serving the world's "
            "cities of 1M+ people, with a latency SLA and a backup site per city, and write an "
            "HTML report. Prints the report's path on stdout; messages and progress go to stderr."
        ),
        epilog="Exit codes: 0 solved, 2 bad input, 3 no solution (the report, which says why, is "
        "written all the same).",
    )
    p.add_argument(
        "--out",
        "-o",
        type=Path,
        default=DEFAULT_OUT,
        metavar="FILE.html",
        help=f"output HTML file (default: {DEFAULT_OUT})",
    )
    p.add_argument("--n-sites", type=int, default=8, metavar="N", help="sites to open (default 8)")
    p.add_argument(
        "--min-population",
        type=int,
        default=1_000_000,
        metavar="P",
        help="demand from cities with at least P inhabitants (default 1000000)",
    )
    p.add_argument(
        "--sla-ms",
        type=float,
        default=150.0,
        metavar="X",
        help="hard SLA: every city's primary site within X ms round trip (default 150)",
    )
    p.add_argument(
        "--redundancy",
        type=int,
        default=2,
        choices=(1, 2, 3),
        help="sites per city, each in a different city (default 2)",
    )
    p.add_argument(
        "--backup-max-latency-ms",
        type=float,
        default=DEFAULT_BACKUP_SLA_MS,
        metavar="X",
        help=f"SLA of the backup sites, ms (default {DEFAULT_BACKUP_SLA_MS:g}; 0 for none)",
    )
    p.add_argument(
        "--concurrency",
        type=float,
        default=DEFAULT_CONCURRENCY,
        metavar="R",
        help=f"concurrent viewers at the local peak per internet user (default "
        f"{DEFAULT_CONCURRENCY:g}: 100 per million)",
    )
    p.add_argument(
        "--bitrate-mbps",
        type=float,
        default=DEFAULT_BITRATE_MBPS,
        metavar="MBPS",
        help=f"mean bitrate per viewer, Mbps (default {DEFAULT_BITRATE_MBPS:g})",
    )
    p.add_argument(
        "--curve",
        default=None,
        metavar="NAME|24 VALUES",
        help="daily load by local hour: sandvine-2021 (default) or flat, or 24 numbers",
    )
    p.add_argument(
        "--time-limit",
        type=_limit,
        default=60.0,
        metavar="S",
        help="wall-clock limit of the solve, seconds (default 60; 'none' for no limit)",
    )
    p.add_argument("--json", type=Path, metavar="FILE.json", help="also write the result JSON")
    p.add_argument("--title", help="report title (default: the problem's name)")
    add_verbosity_options(p)
    p.set_defaults(func=run)
    return p


def build_problem(
    *,
    n_sites: int = 8,
    min_population: int = 1_000_000,
    sla_ms: float | None = 150.0,
    redundancy: int = 2,
    backup_max_latency_ms: float | None = DEFAULT_BACKUP_SLA_MS,
    streaming: Any = None,
) -> tuple[Any, Any, list[str]]:
    """The demo problem, the catalog sites it uses, and the ids of sites left out for lack of data.

    Returns
    -------
    (Problem, pandas.DataFrame, list of str)
    """
    from placement import catalog, demand
    from placement.costs import CostModel
    from placement.problem import Problem
    from placement.workload import Streaming

    with warnings.catch_warnings():
        # stale-data and dropped-city warnings are the catalog's business, not the demo's output
        warnings.simplefilter("ignore", UserWarning)
        sites = catalog.sites(providers=list(PROVIDERS), kinds="region")
        cities = demand.from_cities(min_population=min_population, merge_within_km=50.0)
    cost_model = CostModel(
        it_load_kw=100.0,
        kw_per_unit=1.25e-8,  # 1 kW per 8,000 concurrent viewers at 1e-4 viewers per user
        fixed_cost_usd_per_year=250_000.0,
        carbon_price_usd_per_tonne=50.0,
        gb_per_unit_per_year=(streaming or Streaming(DEFAULT_CONCURRENCY)).gb_per_unit_per_year(),
        missing="drop",
    )
    costed = cost_model.site_costs(sites)
    dropped = sorted(set(sites["site_id"]) - set(costed.index))
    sites = sites[sites["site_id"].isin(costed.index)].reset_index(drop=True)
    problem = Problem(
        sites,
        cities,
        cost_model=cost_model,
        objective="median",
        n_sites=n_sites,
        max_latency_ms=sla_ms,
        redundancy=redundancy,
        failure_domain="city",
        backup_max_latency_ms=backup_max_latency_ms if redundancy > 1 else None,
        name=f"Video streaming: {n_sites} cloud regions for the world's cities of "
        f"{min_population:,}+ people",
    )
    return problem, sites, dropped


def run(args: argparse.Namespace) -> int:
    """Solve the demo problem, write the report (and JSON), print the report's path."""
    from placement._io import check_output_path
    from placement.report import with_site_attributes, write_html

    t0 = time.perf_counter()
    if args.n_sites < args.redundancy:
        info(f"placement demo: error: --n-sites must be at least --redundancy ({args.redundancy})")
        return 2
    from placement.workload import Streaming, annotate_result

    streaming = Streaming(
        concurrency_ratio=args.concurrency, bitrate_mbps=args.bitrate_mbps, curve=args.curve
    )
    # both outputs checked before the solve; they must not be the same file either
    check_output_path(args.out, probe=True)
    if args.json is not None:
        check_output_path(args.json, inputs=[args.out], probe=True)
    problem, sites, dropped = build_problem(
        n_sites=args.n_sites,
        min_population=args.min_population,
        sla_ms=args.sla_ms,
        redundancy=args.redundancy,
        backup_max_latency_ms=args.backup_max_latency_ms or None,
        streaming=streaming,
    )
    info(
        f"placement demo: {len(problem.sites)} candidate regions ({', '.join(PROVIDERS)}), "
        f"{len(problem.demand)} demand points"
    )
    if dropped:
        info(f"placement demo: left out for lack of cost data: {', '.join(dropped)}")
    from placement.cli.solve import EXIT_NO_SOLUTION, solve_with_progress

    limit = None if args.time_limit == math.inf else args.time_limit
    result = solve_with_progress(problem, {"time_limit_s": limit})
    result = annotate_result(with_site_attributes(result, sites), streaming)
    if args.json is not None:
        result.to_json(args.json)
    path = write_html(result, args.out, title=args.title)
    if not is_quiet(args):
        info(result.summary())
    info(
        f"placement demo: wrote {path} ({path.stat().st_size:,} bytes)"
        + (f" and {args.json}" if args.json is not None else "")
        + f"; {time.perf_counter() - t0:.1f} s in all"
    )
    print(path)
    if not result.ok:  # the report shows why; the exit code says there is no plan
        info(f"placement demo: no solution ({result.status}): {result.message}")
        return EXIT_NO_SOLUTION
    return 0
