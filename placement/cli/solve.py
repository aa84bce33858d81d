"""``placement solve``: read sites, demand and (optionally) latencies, solve, write the result JSON.

Exit codes: 0 solved (optimal, or feasible when a limit stopped the proof — the JSON says so with
its gap); 2 bad input; 3 infeasible or no solution in time (the reason on stderr, no file written).
A solve stops after :data:`DEFAULT_TIME_LIMIT_S` seconds unless told otherwise; progress and the
summary go to stderr through the ``placement`` logger (``--quiet`` / ``-v``).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from placement.cli._common import info
from placement.cli._cost_options import (
    add_cost_options,
    cost_model_from_args,
    cost_options_given,
)

EXIT_NO_SOLUTION = 3


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
    "unreachable": "unreachable",
    "latency_statistic": "latency_statistic",
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
    "measured": "measured",
    "rum": "rum",
    "provider": "providers",
    "kind": "kinds",
}

#: Wall-clock limit of ``placement solve`` when neither --time-limit nor the TOML file sets one.
DEFAULT_TIME_LIMIT_S = 120.0
#: Seconds between two progress lines on stderr.
PROGRESS_INTERVAL_S = 5.0


def _capacity(value: str) -> str | float:
    try:
        return float(value)
    except ValueError:
        return value


def _limit(value: str) -> float:
    """Seconds; ``none``/``off`` mean no limit (math.inf here, None for the solver).

    Non-finite numbers (``inf``, ``nan``) are refused like any bad number.
    """
    if value.strip().lower() in ("none", "off"):
        return math.inf
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds or 'none': {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a finite number of seconds > 0, or 'none': {value!r}"
        )
    return seconds


def add_parser(subparsers: Any) -> None:
    """Register ``placement solve``."""
    from placement.cli._options import (
        add_demand_filters,
        add_streaming_options,
        add_verbosity_options,
    )
    from placement.problem import OBJECTIVES

    p = subparsers.add_parser(
        "solve",
        help="choose sites: solve a placement problem and write the result JSON",
        description=(
            "Solve a placement problem to proven optimality (or the limits given) and write the "
            "result JSON (status, objective, best_bound, gap, open_sites, assignments, metrics). "
            "Options override the TOML file given with --config (format: docs/toml.md). "
            f"The solve stops after {DEFAULT_TIME_LIMIT_S:g} s unless --time-limit says "
            "otherwise (status 'feasible' with its gap when stopped with a solution); progress "
            f"goes to stderr every {PROGRESS_INTERVAL_S:g} s."
        ),
        epilog="examples: docs/cookbook.md. Exit codes: 0 solved, 2 bad input, 3 no solution.",
    )
    add_verbosity_options(p)
    src = p.add_argument_group("inputs")
    src.add_argument(
        "--config",
        metavar="F.toml",
        help="problem file (format: docs/toml.md); options override it",
    )
    src.add_argument(
        "--sites",
        metavar="F",
        help="sites CSV (site_id,lat,lon[,…]) or 'catalog' (default: catalog)",
    )
    src.add_argument(
        "--demand",
        metavar="F",
        help="demand CSV (demand_id,lat,lon,weight) or 'catalog': cities weighted by internet "
        "users (default: catalog)",
    )
    src.add_argument(
        "--latency",
        metavar="F",
        help="long CSV demand_id,site_id,latency_ms replacing the model (omitted pairs not allowed)",
    )
    src.add_argument(
        "--rum",
        metavar="F",
        help="CSV of your users' measurements (site_id,latency_ms and country_code and/or "
        "lat_deg,lon_deg; optional statistic mean/p50/p95): recalibrates the model's access "
        "per country and reports its error on them before and after",
    )
    src.add_argument(
        "--measured",
        metavar="F",
        help="CSV demand_id,site_id,latency_ms of measured pairs overriding the model's "
        "(the other pairs stay modelled)",
    )
    src.add_argument(
        "--provider",
        action="append",
        metavar="P",
        help="catalog sites: keep this provider (aws, gcp, azure, oci); repeatable",
    )
    src.add_argument(
        "--kind",
        action="append",
        metavar="K",
        help="catalog sites: keep this kind (region, local-zone); repeatable",
    )
    add_demand_filters(src)

    prob = p.add_argument_group("objective and constraints")
    prob.add_argument(
        "--objective",
        choices=OBJECTIVES,
        help="median: demand-weighted mean latency (default); center: worst latency; coverage: "
        "demand within --sla-ms; set-cover: fewest sites meeting --max-latency-ms; cost: annual "
        "cost (costs options); weighted: cost + --latency-weight-usd-per-ms × mean latency",
    )
    count = prob.add_mutually_exclusive_group()
    count.add_argument("--open", type=int, metavar="N", help="open exactly N sites")
    count.add_argument("--max-open", type=int, metavar="N", help="open at most N sites")
    prob.add_argument("--min-open", type=int, metavar="N", help="open at least N sites")
    prob.add_argument(
        "--max-latency-ms",
        type=float,
        metavar="X",
        help="hard SLA: every demand point's primary site within X ms round trip",
    )
    prob.add_argument(
        "--sla-ms",
        type=float,
        metavar="X",
        help="SLA of the coverage objective and of --sla-share, ms",
    )
    prob.add_argument(
        "--sla-share",
        type=float,
        metavar="Q",
        help="percentile SLA: at least this share (0-1] of demand within --sla-ms",
    )
    prob.add_argument(
        "--redundancy",
        type=int,
        metavar="K",
        help="sites serving each demand point: 1 primary + K-1 backups (default 1)",
    )
    prob.add_argument(
        "--failure-domain",
        metavar="COL",
        help="sites column whose values must differ among a point's sites: site_id (default), "
        "provider, city, region_code, …",
    )
    prob.add_argument(
        "--backup-max-latency-ms",
        type=float,
        metavar="X",
        help="SLA for backups, ms; without it a backup may be anywhere (the summary warns)",
    )
    prob.add_argument(
        "--backup-weight",
        type=float,
        metavar="B",
        help="weight of backup latency in the median/weighted objectives, 0-1 (default 0.5)",
    )
    prob.add_argument(
        "--capacity",
        type=_capacity,
        metavar="COL|N",
        help="site capacity in demand-weight units: a sites column or one number for all "
        "(see --capacity-gbps for Gbps)",
    )
    prob.add_argument(
        "--single-sourcing",
        action="store_true",
        default=None,
        help="serve each demand point wholly from one site per rank (with capacities)",
    )
    prob.add_argument(
        "--must-open",
        action="append",
        metavar="SITE_ID",
        help="a site that must be open, e.g. aws:us-east-1 (sites you run); repeatable",
    )
    prob.add_argument(
        "--forbid",
        action="append",
        metavar="SITE_ID",
        help="a site that may not be opened; repeatable",
    )
    prob.add_argument(
        "--budget-usd-per-year",
        type=float,
        metavar="USD",
        help="cap on the total annual cost (needs costs)",
    )
    prob.add_argument(
        "--max-per-provider",
        type=int,
        metavar="N",
        help="open at most N sites of any one provider",
    )
    prob.add_argument(
        "--latency-weight-usd-per-ms",
        type=float,
        metavar="USD",
        help="weighted objective: USD per year one ms of mean latency is worth",
    )
    prob.add_argument(
        "--latency-penalty-usd-per-unit-ms",
        type=float,
        metavar="USD",
        help="cost objective: USD per year per unit of demand weight per ms of latency",
    )
    prob.add_argument(
        "--set-cover-by",
        choices=("count", "cost"),
        help="set-cover objective: minimise the number of sites (default) or their cost",
    )
    prob.add_argument(
        "--unreachable",
        choices=("error", "exclude", "best-effort"),
        help="demand no allowed site reaches within --max-latency-ms: fail listing it (error, "
        "the default), leave it out (exclude) or serve it from its nearest sites with the SLA "
        "waived (best-effort); the result lists it with its best possible latency",
    )
    prob.add_argument(
        "--latency-statistic",
        choices=("mean", "p50", "p95"),
        help="the statistic of users' round trip that latencies and SLAs are stated in (default "
        "mean); the result carries each assignment's mean, p50 and p95",
    )
    prob.add_argument("--name", help="label carried into the result")

    sol = p.add_argument_group("solver")
    sol.add_argument(
        "--solver",
        choices=("highs", "cbc"),
        help="MIP solver of the general (PuLP) models (default: highs)",
    )
    sol.add_argument(
        "--time-limit",
        type=_limit,
        metavar="S",
        help=f"wall-clock limit, seconds, model building included (default: "
        f"{DEFAULT_TIME_LIMIT_S:g}; 'none' for no limit)",
    )
    sol.add_argument(
        "--gap",
        type=float,
        metavar="G",
        help="relative gap at which to stop, e.g. 0.01 (default: prove optimality)",
    )
    sol.add_argument("--threads", type=int, metavar="N", help="solver threads (default: solver's)")
    sol.add_argument(
        "--method",
        choices=("auto", "pulp", "fast"),
        help="auto: fast exact solvers where they apply, else PuLP (default); pulp: always "
        "the PuLP model; fast: fail when no fast solver applies",
    )
    add_cost_options(p)
    add_streaming_options(p)
    p.add_argument(
        "--no-streaming",
        action="store_true",
        help="no peak Gbps / egress in the result (by default they are computed for demand "
        "with time zones, with an assumed concurrency when --concurrency is not given)",
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="result JSON path, '-' for stdout (default: stdout, unless stdout is a terminal: "
        "then only the summary on stderr, since the JSON runs to hundreds of KB; '-' prints it "
        "anyway); checked before solving: a regular file or a new path (missing folders are "
        "created), never a folder, device or an input",
    )
    p.set_defaults(func=run)


def build_problem(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The Problem and solve() keyword arguments described by the parsed options.

    The solve arguments carry the default time limit (:data:`DEFAULT_TIME_LIMIT_S`) unless the
    options or the file set one, and ``streaming`` (a :class:`~placement.workload.Streaming` or
    None) is kept in ``args.streaming_spec`` for the caller.
    """
    import dataclasses

    from placement import config, params
    from placement.cli._options import demand_filters, streaming_from_args
    from placement.problem import Problem
    from placement.workload import Streaming

    cfg: dict[str, Any] = (
        config.load_config(args.config)
        if args.config is not None
        else {"inputs": {}, "problem": {}, "solver": {}, "costs": None, "name": ""}
    )
    for opt, key in _INPUT_OPTIONS.items():
        value = getattr(args, opt)
        if value is not None:
            cfg["inputs"][key] = value
    cfg["inputs"].update(demand_filters(args))
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
    cfg["solver"] = with_time_limit(cfg["solver"], None)  # the option is in it already
    cfg["inputs"].setdefault("sites", "catalog")
    cfg["inputs"].setdefault("demand", "catalog")
    given_costs = cost_options_given(args)
    if given_costs:  # checked like the TOML [costs] table, then laid over it key by key
        given_costs = params.check(params.costs_spec(), given_costs, table="costs")
        cfg["costs"] = {**(cfg.get("costs") or {}), **given_costs}
    streaming = streaming_from_args(args)
    if streaming is None and cfg.get("streaming"):
        streaming = Streaming.from_dict(cfg["streaming"])
    elif streaming is not None and cfg.get("streaming"):
        file_spec = Streaming.from_dict(cfg["streaming"])
        given = {k: v for k, v in vars(args).items() if v is not None}
        streaming = dataclasses.replace(
            file_spec,
            concurrency_ratio=streaming.concurrency_ratio,
            bitrate_mbps=streaming.bitrate_mbps
            if "bitrate_mbps" in given
            else file_spec.bitrate_mbps,
            curve=streaming.curve if "curve" in given else file_spec.curve,
            capacity_gbps=streaming.capacity_gbps
            if "capacity_gbps" in given
            else file_spec.capacity_gbps,
        )
    cfg["streaming"] = streaming
    problem = Problem.from_config(cfg)
    objective = cfg["problem"].get("objective", "median")
    if (
        problem.cost_model is None
        and (objective in ("cost", "weighted") or "budget_usd_per_year" in cfg["problem"])
        and "fixed_cost_usd_per_year" not in problem.sites.columns
    ):
        cost_model = cost_model_from_args(args)
        if streaming is not None and not args.gb_per_unit_per_year:
            # egress volume follows the streaming workload
            cost_model = dataclasses.replace(
                cost_model, gb_per_unit_per_year=streaming.gb_per_unit_per_year()
            )
        problem = problem.replace(cost_model=cost_model)
    problem = drop_uncosted_sites(problem)
    args.streaming_spec = streaming
    return problem, dict(cfg["solver"])


def drop_uncosted_sites(problem: Any) -> Any:
    """With ``missing="drop"`` (``--missing-costs drop``), the problem without the candidate
    sites that lack data a counted cost component needs (said on stderr); else unchanged."""
    model = problem.cost_model
    if model is None or getattr(model, "missing", "error") != "drop":
        return problem
    dropped = model.site_costs(problem.sites).attrs.get("dropped_site_ids", [])
    if not dropped:
        return problem
    names = ", ".join(dropped[:10]) + (", …" if len(dropped) > 10 else "")
    info(f"placement solve: leaving out {len(dropped)} sites lacking cost data: {names}")
    return problem.replace(sites=problem.sites[~problem.sites["site_id"].isin(dropped)])


def backup_warning(problem: Any) -> str | None:
    """The warning for backups without an SLA (None when there is none to give)."""
    if problem.redundancy > 1 and problem.backup_max_latency_ms is None:
        return (
            f"redundancy {problem.redundancy} without a backup SLA: a backup may be far away "
            "(its latency is only weighed in the objective); set --backup-max-latency-ms "
            "(backup_max_latency_ms) to bound it"
        )
    return None


def zero_cost_warning(problem: Any) -> str | None:
    """The warning for a cost objective whose every site costs nothing (None otherwise)."""
    if problem.objective not in ("cost", "weighted") and problem.budget_usd_per_year is None:
        return None
    costs = problem.site_costs()
    if costs is not None:
        total = costs["total_usd_per_year"].abs().sum()
        variable = costs.get("variable_usd_per_unit_per_year")
        if total > 0 or (variable is not None and variable.abs().sum() > 0):
            return None
    return (
        f"the {problem.objective} objective with no cost given: every site costs 0, so any "
        "feasible choice is optimal; give costs (--it-load-kw, --kw-per-unit, "
        "--fixed-cost-usd-per-year, --gb-per-unit-per-year, --carbon-price-usd-per-tonne, "
        "--vcpu-per-unit, --baseline-vcpu) or "
        "a [costs] table"
    )


def solve_with_progress(problem: Any, solve_kwargs: dict[str, Any]) -> Any:
    """``problem.solve(**solve_kwargs)`` with progress lines on the ``placement`` logger.

    A heartbeat logs the elapsed time every :data:`PROGRESS_INTERVAL_S` seconds; a solver that
    accepts ``progress=`` (a :class:`placement.progress.Progress` callback) adds its incumbent,
    bound and gap to those lines.
    """
    import inspect

    from placement.progress import Heartbeat, LogProgress

    shown = LogProgress(PROGRESS_INTERVAL_S)
    kwargs = dict(solve_kwargs)
    with Heartbeat(shown) as beat:
        if "progress" in inspect.signature(problem.solve).parameters:
            kwargs["progress"] = beat.callback
        return problem.solve(**kwargs)


def input_paths(args: argparse.Namespace) -> list[str]:
    """Every input file the options name (the TOML file and the tables it names)."""
    from placement import config

    paths = [args.config] + [getattr(args, k) for k in config.FILE_KEYS]
    paths = [p for p in paths if p]
    if args.config is not None:
        inputs = config.load_config(args.config)["inputs"]
        paths += [inputs[k] for k in config.FILE_KEYS if inputs.get(k)]
    return [p for p in paths if p != "catalog"]


def run(args: argparse.Namespace) -> int:
    """Solve and write the result; see the module docstring for exit codes."""
    import logging

    from placement._io import check_output_path
    from placement.cli._options import is_quiet
    from placement.workload import DEFAULT_CONCURRENCY_RATIO, Streaming, annotate_result

    log = logging.getLogger("placement.cli")
    if args.out not in (None, "-"):  # a bad output path is refused before any work
        check_output_path(args.out, inputs=input_paths(args), probe=True)
    problem, solve_kwargs = build_problem(args)
    log.info("solve: %r, time limit %s", problem, _limit_text(solve_kwargs.get("time_limit_s")))
    pairs = len(problem.sites) * len(problem.demand)
    if pairs > 1_000_000 and solve_kwargs.get("time_limit_s") is None:
        log.info(
            "solve: a large problem (%s demand-site pairs) and no time limit: the proof of "
            "optimality may take long",
            f"{pairs:,}",
        )
    for warning in (backup_warning(problem), zero_cost_warning(problem)):
        if warning:
            log.warning("warning: %s", warning)
    result = solve_with_progress(problem, solve_kwargs)
    streaming = args.streaming_spec
    if streaming is None and not args.no_streaming and _has_timezones(result):
        # a stated default, so that every result carries peak Gbps and egress per site
        streaming = Streaming(DEFAULT_CONCURRENCY_RATIO, assumed=True)
    if streaming is not None:
        result = annotate_result(result, streaming)
    if not is_quiet(args):
        info(result.summary())
    if not result.ok:
        info(f"placement solve: {no_solution_text(result, solve_kwargs.get('time_limit_s'))}")
        return EXIT_NO_SOLUTION
    if args.out is None and _is_terminal(sys.stdout):
        info(
            "placement solve: the result JSON is not printed to a terminal; --out FILE saves "
            "it, --out - prints it, a pipe (| jq .) gets it"
        )
    elif args.out in (None, "-"):
        sys.stdout.write(result.to_json())
    else:
        result.to_json(args.out)
        if not is_quiet(args):
            info(f"placement solve: wrote {args.out}")
    return 0


def no_solution_text(result: Any, time_limit_s: float | None) -> str:
    """The last line of a solve without a plan: why, and what to try when time ran out."""
    if result.status != "no_solution":  # infeasible: the message names the reason
        return f"no solution ({result.status}): {result.message}"
    text = f"no solution: {result.message}"
    if time_limit_s is not None:
        text += (
            f"; no plan was found within the time limit of {time_limit_s:g} s: give it more "
            "(--time-limit S, or 'none')"
        )
    return text


def _has_timezones(result: Any) -> bool:
    d = result.demand
    return "timezone" in d.columns and len(d) > 0 and not d["timezone"].isna().any()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def with_time_limit(solver: dict[str, Any], option: float | None) -> dict[str, Any]:
    """``Problem.solve`` keyword arguments with the command line's time limit rule.

    ``--time-limit`` (``option``, ``math.inf`` for ``none``) wins, then the file's ``[solver]
    time_limit_s``, then :data:`DEFAULT_TIME_LIMIT_S`; no limit is ``None``. Used by ``solve``,
    ``compare`` (each problem) and ``sweep`` (each point), so they stop alike.
    """
    out = dict(solver)
    if option is not None:
        out["time_limit_s"] = option
    out.setdefault("time_limit_s", DEFAULT_TIME_LIMIT_S)
    if out["time_limit_s"] == math.inf:
        out["time_limit_s"] = None
    return out


def _limit_text(limit: float | None) -> str:
    return "none" if limit is None else f"{limit:g} s"
