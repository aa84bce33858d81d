"""``placement solve``: read sites, demand and (optionally) latencies, solve, write the result JSON.

Exit codes: 0 solved (optimal, or feasible when a limit stopped the proof — the JSON says so with
its gap); 2 bad input; 3 infeasible or no solution in time (the reason on stderr, no file written).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from placement.cli._common import heartbeat, info
from placement.cli._cost_options import add_cost_options, cost_model_from_args

EXIT_NO_SOLUTION = 3

_COST_DEFAULTS = {
    "it_load_kw": 0.0,
    "kw_per_unit": 0.0,
    "fixed_cost_usd_per_year": 0.0,
    "carbon_price_usd_per_tonne": 0.0,
    "egress_usd_per_gb": None,
    "gb_per_unit_per_year": 0.0,
    "baseline_gb_per_year": 0.0,
    "pue": None,
    "price_usd_per_kwh": None,
    "carbon_g_per_kwh": None,
}

# CLI option -> Problem keyword
_PROBLEM_OPTIONS = {
    "objective": "objective",
    "open": "n_sites",
    "max_open": "max_sites",
    "min_open": "min_sites",
    "max_latency_ms": "max_latency_ms",
    "sla_ms": "sla_ms",
    "sla_share": "sla_share",
    "redundancy": "redundancy",
    "failure_domain": "failure_domain",
    "backup_max_latency_ms": "backup_max_latency_ms",
    "backup_weight": "backup_weight",
    "single_sourcing": "single_sourcing",
    "must_open": "must_open",
    "forbid": "forbidden",
    "budget_usd_per_year": "budget_usd_per_year",
    "max_per_provider": "max_sites_per_provider",
    "latency_weight_usd_per_ms": "latency_weight_usd_per_ms",
    "latency_penalty_usd_per_unit_ms": "latency_penalty_usd_per_unit_ms",
    "set_cover_by": "set_cover_by",
    "name": "name",
}
_SOLVER_OPTIONS = {
    "solver": "solver",
    "time_limit": "time_limit_s",
    "gap": "gap_rel",
    "threads": "threads",
    "method": "method",
}
_INPUT_OPTIONS = {
    "sites": "sites",
    "demand": "demand",
    "latency": "latency",
    "provider": "providers",
    "kind": "kinds",
    "min_population": "min_population",
    "country": "countries",
    "continent": "continents",
    "merge_within_km": "merge_within_km",
}


def _capacity(value: str) -> str | float:
    try:
        return float(value)
    except ValueError:
        return value


def add_parser(subparsers: Any) -> None:
    """Register ``placement solve``."""
    from placement.problem import OBJECTIVES

    p = subparsers.add_parser(
        "solve",
        help="choose sites: solve a placement problem and write the result JSON",
        description=(
            "Solve a placement problem to proven optimality (or the limits given) and write the "
            "result JSON (status, objective, best_bound, gap, open_sites, assignments, metrics). "
            "Options override the TOML file given with --config."
        ),
    )
    src = p.add_argument_group("inputs")
    src.add_argument("--config", metavar="F.toml", help="problem file (see placement.config)")
    src.add_argument("--sites", metavar="F", help="sites CSV (site_id,lat,lon[,…]) or 'catalog'")
    src.add_argument(
        "--demand", metavar="F", help="demand CSV (demand_id,lat,lon,weight) or 'catalog'"
    )
    src.add_argument(
        "--latency",
        metavar="F",
        help="long CSV demand_id,site_id,latency_ms replacing the model (omitted pairs not allowed)",
    )
    src.add_argument("--provider", action="append", help="catalog sites: provider (repeatable)")
    src.add_argument("--kind", action="append", help="catalog sites: region or local-zone")
    src.add_argument("--min-population", type=int, help="catalog demand: smallest city")
    src.add_argument("--country", action="append", help="catalog demand: ISO country code")
    src.add_argument("--continent", action="append", help="catalog demand: continent code")
    src.add_argument("--merge-within-km", type=float, help="catalog demand: merge nearby cities")

    prob = p.add_argument_group("objective and constraints")
    prob.add_argument("--objective", choices=OBJECTIVES)
    count = prob.add_mutually_exclusive_group()
    count.add_argument("--open", type=int, metavar="N", help="open exactly N sites")
    count.add_argument("--max-open", type=int, metavar="N", help="open at most N sites")
    prob.add_argument("--min-open", type=int, metavar="N", help="open at least N sites")
    prob.add_argument("--max-latency-ms", type=float, metavar="X", help="hard SLA for every point")
    prob.add_argument("--sla-ms", type=float, metavar="X", help="SLA of coverage / --sla-share")
    prob.add_argument(
        "--sla-share", type=float, metavar="Q", help="share of demand within --sla-ms"
    )
    prob.add_argument("--redundancy", type=int, metavar="K", help="sites serving each point")
    prob.add_argument("--failure-domain", metavar="COL", help="sites column of failure domains")
    prob.add_argument("--backup-max-latency-ms", type=float, metavar="X", help="SLA for backups")
    prob.add_argument("--backup-weight", type=float, metavar="B", help="backup latency weight")
    prob.add_argument("--capacity", type=_capacity, metavar="COL|N", help="site capacity")
    prob.add_argument("--single-sourcing", action="store_true", default=None)
    prob.add_argument("--must-open", action="append", metavar="SITE_ID")
    prob.add_argument("--forbid", action="append", metavar="SITE_ID")
    prob.add_argument("--budget-usd-per-year", type=float, metavar="USD")
    prob.add_argument("--max-per-provider", type=int, metavar="N")
    prob.add_argument("--latency-weight-usd-per-ms", type=float, metavar="USD")
    prob.add_argument("--latency-penalty-usd-per-unit-ms", type=float, metavar="USD")
    prob.add_argument("--set-cover-by", choices=("count", "cost"))
    prob.add_argument("--name", help="label carried into the result")

    sol = p.add_argument_group("solver")
    sol.add_argument("--solver", choices=("highs", "cbc"))
    sol.add_argument("--time-limit", type=float, metavar="S", help="wall-clock limit, seconds")
    sol.add_argument("--gap", type=float, metavar="G", help="relative gap to stop at")
    sol.add_argument("--threads", type=int, metavar="N")
    sol.add_argument("--method", choices=("auto", "pulp", "fast"))
    add_cost_options(p)
    p.add_argument(
        "--out",
        metavar="FILE",
        default="-",
        help="result JSON path ('-' for stdout, the default); checked before solving: a regular "
        "file or a new path (missing folders are created), never a folder, device or an input",
    )
    p.set_defaults(func=run)


def _costs_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, k) != v for k, v in _COST_DEFAULTS.items())


def build_problem(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The Problem and solve() keyword arguments described by the parsed options."""
    from placement import config
    from placement.problem import Problem

    cfg: dict[str, Any] = (
        config.load_config(args.config)
        if args.config is not None
        else {"inputs": {}, "problem": {}, "solver": {}, "costs": None, "name": ""}
    )
    for opt, key in _INPUT_OPTIONS.items():
        value = getattr(args, opt)
        if value is not None:
            cfg["inputs"][key] = value
    for opt, key in _PROBLEM_OPTIONS.items():
        value = getattr(args, opt)
        if value is not None:
            cfg["problem"][key] = value
    if args.capacity is not None:
        cfg["problem"]["capacity"] = args.capacity
    for opt, key in _SOLVER_OPTIONS.items():
        value = getattr(args, opt)
        if value is not None:
            cfg["solver"][key] = value
    cfg["inputs"].setdefault("sites", "catalog")
    cfg["inputs"].setdefault("demand", "catalog")
    problem = Problem.from_config(cfg)
    objective = cfg["problem"].get("objective", "median")
    if _costs_given(args) or (
        problem.cost_model is None
        and (objective in ("cost", "weighted") or "budget_usd_per_year" in cfg["problem"])
        and "fixed_cost_usd_per_year" not in problem.sites.columns
    ):
        problem.cost_model = cost_model_from_args(args)
    return problem, dict(cfg["solver"])


def input_paths(args: argparse.Namespace) -> list[str]:
    """Every input file the options name (the TOML file and the tables it names)."""
    from placement import config

    paths = [p for p in (args.config, args.sites, args.demand, args.latency) if p]
    if args.config is not None:
        inputs = config.load_config(args.config)["inputs"]
        paths += [inputs[k] for k in ("sites", "demand", "latency") if inputs.get(k)]
    return [p for p in paths if p != "catalog"]


def run(args: argparse.Namespace) -> int:
    """Solve and write the result; see the module docstring for exit codes."""
    from placement._io import check_output_path

    if args.out != "-":  # a bad output path is refused before any work, not after the solve
        check_output_path(args.out, inputs=input_paths(args), probe=True)
    problem, solve_kwargs = build_problem(args)
    info(f"placement solve: {problem!r}")
    pairs = len(problem.sites) * len(problem.demand)
    if pairs > 1_000_000 and solve_kwargs.get("time_limit_s") is None:
        info(
            f"placement solve: a large problem ({pairs:,} demand-site pairs) and no --time-limit: "
            "the proof of optimality may take long (progress every 30 s)"
        )
    with heartbeat("placement solve"):
        result = problem.solve(**solve_kwargs)
    info(result.summary())
    if not result.ok:
        info(f"placement solve: no solution ({result.status}): {result.message}")
        return EXIT_NO_SOLUTION
    if args.out == "-":
        sys.stdout.write(result.to_json())
    else:
        result.to_json(args.out)
        info(f"placement solve: wrote {args.out}")
    return 0
