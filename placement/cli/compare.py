"""``placement compare BASE.toml SCENARIO.toml …``: one row per scenario, the base first."""

from __future__ import annotations

import argparse
import time
from typing import Any

from placement import config
from placement.cli._common import add_format_option, heartbeat, info, write_frame
from placement.cli.solve import (
    DEFAULT_TIME_LIMIT_S,
    PROGRESS_INTERVAL_S,
    _limit,
    with_time_limit,
)
from placement.problem import Problem

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``compare`` subcommand."""
    p = subparsers.add_parser(
        "compare",
        help="compare scenarios against a base problem",
        description=(
            "Solve a base problem file and scenario files (overrides: power prices, sites added or "
            "removed, demand growth, SLA, N, …) and print one row per scenario with latency, cost, "
            "carbon and the sites opened and closed relative to the base. The table goes to "
            f"stdout; while it runs, a line on stderr every {PROGRESS_INTERVAL_S:g} s says so."
        ),
        epilog="format of the files: docs/toml.md. Exit codes: 0 done (a scenario without a "
        "solution is a row saying so), 2 bad input.",
    )
    p.add_argument("base", help="base problem TOML file (see placement solve)")
    p.add_argument("scenarios", nargs="+", help="scenario TOML files")
    p.add_argument(
        "--time-limit",
        type=_limit,
        metavar="S",
        help="wall-clock limit of each problem's solve, seconds (default: the base file's "
        f"[solver] time_limit_s, else {DEFAULT_TIME_LIMIT_S:g}, as placement solve; 'none' for "
        "no limit)",
    )
    add_format_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``placement compare``."""
    from placement.scenarios import Scenario, compare

    cfg = config.load_config(args.base)
    base = Problem.from_config(cfg)
    scenarios = [Scenario.from_toml(path) for path in args.scenarios]
    solver = with_time_limit(cfg.get("solver", {}), args.time_limit)
    t0 = time.perf_counter()
    with heartbeat("placement compare", every_s=PROGRESS_INTERVAL_S):
        df = compare(base, *scenarios, **solver)
    write_frame(df, args.format)
    unsolved = df.loc[~df["status"].isin(["optimal", "feasible"]), "name"].tolist()
    info(
        f"placement compare: {len(df)} problems in {time.perf_counter() - t0:.1f} s"
        + (f"; without a solution: {', '.join(unsolved)} (column message)" if unsolved else "")
    )
    return 0
