"""``placement sweep BASE.toml --grid n_sites=2:12 --grid max_latency_ms=30,60,100``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from placement import config
from placement.cli._common import add_format_option, atomic_write_text, info, write_frame
from placement.cli.solve import DEFAULT_TIME_LIMIT_S, _limit, with_time_limit
from placement.errors import ValidationError
from placement.problem import Problem
from placement.scenarios.sweep import check_grid_budget, grid_points

__all__ = ["add_parser", "parse_grid", "run"]


def _scalar(text: str) -> Any:
    t = text.strip()
    if t.lower() in ("none", "null"):
        return None
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    for cast in (int, float):
        try:
            return cast(t)
        except ValueError:
            pass
    return t


def parse_grid(specs: list[str]) -> dict[str, list[Any]]:
    """Parse ``KEY=a:b[:step]`` (inclusive integer range) or ``KEY=v1,v2,…`` options."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise ValidationError("expected KEY=a:b or KEY=v1,v2", table="--grid", value=spec)
        if key in grid:
            raise ValidationError("given twice", table="--grid", field=key)
        if ":" in values and "," not in values:
            parts = values.split(":")
            try:
                nums = [int(p) for p in parts]
            except ValueError:
                raise ValidationError(
                    "a range needs integers a:b[:step]", table="--grid", field=key, value=values
                ) from None
            if len(nums) not in (2, 3) or (len(nums) == 3 and nums[2] <= 0) or nums[1] < nums[0]:
                raise ValidationError(
                    "bad range a:b[:step]", table="--grid", field=key, value=values
                )
            step = nums[2] if len(nums) == 3 else 1
            axis = range(nums[0], nums[1] + 1, step)
            check_grid_budget([*(len(v) for v in grid.values()), len(axis)])  # before building
            grid[key] = list(axis)
        else:
            grid[key] = [_scalar(v) for v in values.split(",") if v.strip()]
            check_grid_budget([len(v) for v in grid.values()])
    if not grid:
        raise ValidationError("give at least one --grid KEY=VALUES", table="--grid")
    return grid


def _input_files(cfg: dict[str, Any]) -> list[str]:
    inputs = cfg.get("inputs", {})
    return [
        inputs[k] for k in ("sites", "demand", "latency") if inputs.get(k) not in (None, "catalog")
    ]


def _check_out_dir(text: str, inputs: list[str]) -> Path:
    """The ``--out-dir`` folder: an existing folder or a new path; its files may be written."""
    from placement._io import check_output_path

    if not text:
        raise ValidationError("empty path", table="output", field="--out-dir")
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise ValidationError(
            f"{text}: exists and is not a folder", table="output", field="--out-dir"
        )
    for name in ("sweep.csv", "point_0000.json"):
        check_output_path(out / name, inputs=inputs, probe=True)
    return out


def add_parser(subparsers: Any) -> None:
    """Register the ``sweep`` subcommand."""
    p = subparsers.add_parser(
        "sweep",
        help="solve a base problem over a grid of parameters",
        description=(
            "Solve the product of the --grid values (Problem arguments) on local worker processes "
            "or on a Dask cluster (--scheduler); the latency table is computed once and each point "
            "is warm-started from the previous one; along the SLA axes a looser point's proven answer "
            "settles a tighter one when it meets its SLAs (--no-reuse: solve every point). "
            "Failed points are reported, not fatal."
        ),
    )
    p.add_argument("base", help="base problem TOML file (see placement solve)")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=VALUES",
        help="a Problem argument and its values: a:b[:step] (integers, inclusive) or v1,v2,…",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (1: serial; default: CPUs)",
    )
    p.add_argument(
        "--out-dir",
        default=None,
        metavar="DIR",
        help="write sweep.csv and one JSON per point into this folder (created when missing; "
        "checked before the sweep starts)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the points on the Dask cluster of this scheduler (e.g. tcp://host:8786; needs "
        "placement[dask] here and placement on the workers); the rows are in grid order and a "
        "failed point is reported as on local processes",
    )
    p.add_argument(
        "--time-limit",
        type=_limit,
        metavar="S",
        help="wall-clock limit of each point's solve, seconds (default: the base file's "
        f"[solver] time_limit_s, else {DEFAULT_TIME_LIMIT_S:g}, as placement solve; 'none' for "
        "no limit); a point stopped by it is 'feasible' with its gap, or 'no_solution'",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument(
        "--no-warm-start",
        action="store_true",
        help="solve every point cold (default: warm-start each point from the previous point "
        "of its chain: a contiguous chunk of the grid, or, with an SLA axis, the points equal "
        "in every other parameter, looser SLA first; the objectives are the same)",
    )
    p.add_argument(
        "--no-reuse",
        action="store_true",
        help="solve every point (default: along max_latency_ms / backup_max_latency_ms, a point "
        "whose looser neighbour's proven optimum meets its SLAs, or whose looser neighbour is "
        "proven infeasible, takes that answer; column 'reused')",
    )
    add_format_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``placement sweep``."""
    from placement.scenarios import sweep

    grid = parse_grid(args.grid)
    if args.workers is not None and not 1 <= args.workers <= 256:
        raise ValidationError(
            "must be an integer in [1, 256]",
            table="parameter",
            field="--workers",
            value=args.workers,
        )
    if args.scheduler is not None and args.workers is not None:
        raise ValidationError(
            "give either --workers (local processes) or --scheduler (a Dask cluster)",
            table="parameter",
            field="--scheduler",
            value=args.scheduler,
        )
    cfg = config.load_config(args.base)
    out: Path | None = None
    inputs = [args.base, *_input_files(cfg)]
    if args.out_dir is not None:
        out = _check_out_dir(args.out_dir, inputs)
    base = Problem.from_config(cfg)
    executor = None
    if args.scheduler is None:
        executor = "serial" if args.workers == 1 else "processes"
    else:
        info(f"sending {len(grid_points(grid))} points to the Dask scheduler {args.scheduler}")
    res = sweep(
        base,
        grid,
        executor=executor,
        scheduler=args.scheduler,
        max_workers=args.workers,
        progress=not args.no_progress,
        warm_start=not args.no_warm_start,
        reuse=not args.no_reuse,
        **with_time_limit(cfg.get("solver", {}), args.time_limit),
    )
    table = res.table.drop(columns=["solve_s"])
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            out / "sweep.csv", res.table.to_csv(index=False, lineterminator="\n"), inputs=inputs
        )
        for i, r in enumerate(res.results):
            if r is not None:
                atomic_write_text(out / f"point_{i:04d}.json", r.to_json(), inputs=inputs)
        info(f"wrote {out / 'sweep.csv'} and {sum(r is not None for r in res.results)} results")
    write_frame(table, args.format)
    n_err = int((table["status"] == "error").sum())
    info(f"{len(table)} points in {res.wall_s:.1f} s ({n_err} failed)")
    return 0
