"""One parameter sweep on every executor, side by side in the same run.

Instance: the AWS + GCP regions of the catalog (with climate data) and the cities of at least one
million people merged within 100 km (``demand.from_cities``), median objective, default
(route-aware) latency model; grid ``n_sites`` 2..9 x ``max_latency_ms`` {80, 120, 200}
(24 points). Every executor solves the same grid with the same solve options (``threads=1``):

- ``serial`` — the current process;
- ``processes`` — ``ProcessPoolExecutor`` (spawn), ``--workers`` processes; the pool start-up is
  part of every sweep, as it is in ``sweep(executor="processes")``;
- ``dask processes`` / ``dask threads`` — a ``LocalCluster`` of ``--workers`` workers (one thread
  each; ``processes=True`` / ``False``); the cluster is started once (``startup_s``) and reused by
  the repeats, so its start-up is not in ``wall_s``;
- ``serial, no reuse`` — ``reuse_latency=False``: every point runs the latency model itself.

``wall_s`` is the median of ``--repeats`` sweeps (``SweepResult.wall_s``); ``vs_serial`` is
``wall_s / wall_s(serial)`` of the same method (< 1: faster). ``identical`` compares the status,
objective and open sites of every point with the serial run. The reuse gain is
``wall_s(serial, no reuse) / wall_s(serial)``. These sweeps run cold (``warm_start=False``): with
warm starts the chain of starts depends on the executor's chunks, and where several open sets
share the optimal objective (co-located regions of two providers have identical latencies) the
one returned may differ, which would hide a real difference in the ``identical`` check.

Warm starts (``--warm``): the same grid solved serially with ``warm_start=False`` (cold) and
``True`` (warm), the two alternating within each repeat so that drifting machine load hits both,
median of ``--repeats`` each; ``warm/cold`` < 1 is a gain (wall seconds of the sweep; ``cpu
warm/cold`` the same in CPU seconds of this process, which other load on the machine inflates
far less: every solve runs in-process on one thread). ``same_objectives`` checks status and
objective of every point (open sites may differ between equal-cost optima); ``warm_given``
counts the points that got a start, ``warm_incumbent`` those whose fast solver took its first
incumbent from it (``result.solver``). Grids:

- ``small`` — the grid above (``auto`` and ``pulp``);
- ``world`` — all AWS, GCP and Azure regions x cities of at least 500,000 people (merged within
  50 km), median, ``max_latency_ms=100``, ``n_sites`` 6..14; ``pulp`` (about 1.5 s a point) and
  ``auto``;
- ``world100k`` — the same on cities of at least 100,000 people, ``auto`` (about 0.5 s a point);
- ``center`` — the ``world`` grid with ``objective="center"``, ``auto`` (bisection; the warm
  start's radius replaces the p-center heuristic's as the first upper bound);
- ``cfl`` — capacitated cost (``objective="cost"``, every region's capacity a share of the total
  demand, ``CostModel(it_load_kw=2000, fixed_cost_usd_per_year=5e6)``, 0.01 USD per user-ms,
  ``max_latency_ms=150``) on cities of at least 1,000,000, ``capacity`` = W/8, W/8.8, W/9.6
  (several seconds a point).

The latency table of each grid is computed once before timing, so only the solves are compared.

    python benchmarks/sweep_bench.py                       # solver "auto" and "pulp"
    python benchmarks/sweep_bench.py --methods auto --repeats 5
    python benchmarks/sweep_bench.py --warm small,world,world100k,center,cfl --no-executors

Writes ``benchmarks/results/sweep_bench.csv`` (one row per method and executor, with every
repeat's time) and, with ``--warm``, ``benchmarks/results/sweep_warm.csv``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from placement import catalog, demand
from placement.costs import CostModel
from placement.problem import Problem
from placement.scenarios import sweep
from placement.scenarios._problem import full_latency_table

GRID = {"n_sites": list(range(2, 10)), "max_latency_ms": [80, 120, 200]}
COMPARED = ["status", "objective", "open_sites"]
OUT = Path(__file__).resolve().parent / "results" / "sweep_bench.csv"
WARM_OUT = OUT.with_name("sweep_warm.csv")


def instance() -> Problem:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sites = catalog.sites(providers=["aws", "gcp"], kinds="region")
        users = demand.from_cities(min_population=1_000_000, merge_within_km=100)
    sites = sites[sites["tmean_annual_c"].notna()].reset_index(drop=True)
    return Problem(sites, users, objective="median", n_sites=2, name="sweep bench")


def same_results(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same status, objective (to 1e-9 relative) and open sites at every point."""
    if len(a) != len(b) or list(a["status"]) != list(b["status"]):
        return False
    if list(a["open_sites"]) != list(b["open_sites"]):
        return False
    x, y = a["objective"].to_numpy(float), b["objective"].to_numpy(float)
    return bool(np.allclose(x, y, rtol=1e-9, atol=0.0, equal_nan=True))


def run(base: Problem, executor: Any, repeats: int, **kwargs: Any) -> tuple[list[float], Any]:
    times, last = [], None
    for _ in range(repeats):
        last = sweep(base, GRID, executor=executor, progress=False, warm_start=False, **kwargs)
        times.append(last.wall_s)
    return times, last


def world_instance(min_population: int, **kwargs: Any) -> Problem:
    """All AWS, GCP and Azure regions x the cities of at least ``min_population`` (50 km)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sites = catalog.sites(providers=["aws", "gcp", "azure"])
        users = demand.from_cities(min_population=min_population, merge_within_km=50)
    return Problem(sites, users, name=f"world {min_population}", **kwargs)


def warm_grids(names: list[str]) -> list[tuple[str, Problem, dict[str, list[Any]], list[str]]]:
    """(label, base with its latency table, grid, methods) of the warm-start comparison."""
    out = []
    for name in names:
        if name == "small":
            out.append(("small", instance(), GRID, ["auto", "pulp"]))
        elif name in ("world", "world100k", "center"):
            pop = 100_000 if name == "world100k" else 500_000
            objective = "center" if name == "center" else "median"
            base = world_instance(pop, objective=objective, n_sites=6, max_latency_ms=100)
            grid = {"n_sites": list(range(6, 15))}
            out.append((name, base, grid, ["pulp", "auto"] if name == "world" else ["auto"]))
        elif name == "cfl":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sites = catalog.sites(providers=["aws", "gcp", "azure"])
            keep = sites["tmean_annual_c"].notna() & sites["price_usd_per_kwh"].notna()
            base = world_instance(
                1_000_000,
                objective="cost",
                cost_model=CostModel(it_load_kw=2000, fixed_cost_usd_per_year=5e6),
                latency_penalty_usd_per_unit_ms=0.01,
                max_latency_ms=150,
                capacity=1.0,
            ).replace(sites=sites[keep].reset_index(drop=True))
            total = float(base.demand["weight"].sum())
            grid = {"capacity": [total / 8, total / 8.8, total / 9.6]}
            out.append(("cfl", base, grid, ["auto"]))
        else:
            raise SystemExit(f"unknown warm-start grid {name!r}")
    return [(label, b.replace(latency=full_latency_table(b)), g, m) for label, b, g, m in out]


def warm_vs_cold(repeats: int, names: list[str]) -> pd.DataFrame:
    rows = []
    for label, base, grid, methods in warm_grids(names):
        n_points = int(np.prod([len(v) for v in grid.values()]))
        for method in methods:
            times: dict[bool, list[float]] = {False: [], True: []}
            cpu: dict[bool, list[float]] = {False: [], True: []}
            solve_s: dict[bool, list[float]] = {False: [], True: []}
            last: dict[bool, Any] = {}
            for _ in range(repeats):
                for warm in (False, True):
                    c0 = time.process_time()
                    res = sweep(
                        base,
                        grid,
                        executor="serial",
                        progress=False,
                        warm_start=warm,
                        method=method,
                        threads=1,
                    )
                    cpu[warm].append(time.process_time() - c0)
                    times[warm].append(res.wall_s)
                    solve_s[warm].append(float(res.table["solve_s"].sum()))
                    last[warm] = res
            cold_t, warm_t = last[False].table, last[True].table
            same = list(cold_t["status"]) == list(warm_t["status"]) and bool(
                np.allclose(
                    cold_t["objective"].to_numpy(float),
                    warm_t["objective"].to_numpy(float),
                    rtol=1e-7,
                    atol=0.0,
                    equal_nan=True,
                )
            )
            solved = cold_t["status"].isin(["optimal", "feasible"])
            given = [r.solver for r in last[True].results if r is not None]
            used = sum(bool(info.get("warm_start")) for info in given)
            incumbent = sum(info.get("warm_start_incumbent") is True for info in given)
            cold_s, warm_s = statistics.median(times[False]), statistics.median(times[True])
            cold_cpu, warm_cpu = statistics.median(cpu[False]), statistics.median(cpu[True])
            rows.append(
                {
                    "grid": label,
                    "method": method,
                    "points": n_points,
                    "solved": int(solved.sum()),
                    "warm_given": used,
                    "warm_incumbent": incumbent,
                    "s_per_point": cold_s / n_points,
                    "cold_s": cold_s,
                    "warm_s": warm_s,
                    "warm/cold": warm_s / cold_s,
                    "cold_cpu_s": cold_cpu,
                    "warm_cpu_s": warm_cpu,
                    "cpu warm/cold": warm_cpu / cold_cpu,
                    "same_objectives": "yes" if same else "NO",
                    "same_open_sites": "yes"
                    if list(cold_t["open_sites"]) == list(warm_t["open_sites"])
                    else "no",
                    "cold_runs_s": " ".join(f"{t:.3f}" for t in times[False]),
                    "warm_runs_s": " ".join(f"{t:.3f}" for t in times[True]),
                    "cold_cpu_runs_s": " ".join(f"{t:.3f}" for t in cpu[False]),
                    "warm_cpu_runs_s": " ".join(f"{t:.3f}" for t in cpu[True]),
                    "cold_solve_sum_s": statistics.median(solve_s[False]),
                    "warm_solve_sum_s": statistics.median(solve_s[True]),
                }
            )
            r = rows[-1]
            print(
                f"  {label:>9} {method:>5}: cold {cold_s:7.2f} s  warm {warm_s:7.2f} s  "
                f"warm/cold {r['warm/cold']:.2f} (CPU {r['cpu warm/cold']:.2f})  "
                f"same objectives {r['same_objectives']}",
                flush=True,
            )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="auto,pulp", help="solve methods, comma separated")
    ap.add_argument("--repeats", type=int, default=3, help="sweeps per executor (median)")
    ap.add_argument("--workers", type=int, default=2, help="processes / Dask workers")
    ap.add_argument("--out", type=Path, default=OUT, help="CSV path")
    ap.add_argument(
        "--warm",
        default="",
        metavar="GRIDS",
        help="also compare cold vs warm-started serial sweeps on these grids "
        "(comma separated: small, world, world100k, center, cfl)",
    )
    ap.add_argument("--warm-out", type=Path, default=WARM_OUT, help="CSV path of --warm")
    ap.add_argument("--no-executors", action="store_true", help="skip the executor comparison")
    args = ap.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    warm_names = [g.strip() for g in args.warm.split(",") if g.strip()]
    if args.no_executors:
        methods = []
    base = instance()
    n_points = int(np.prod([len(v) for v in GRID.values()]))
    print(
        f"{len(base.sites)} sites x {len(base.demand)} demand points, {n_points} grid points, "
        f"{args.workers} workers, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is optional
        Client = LocalCluster = None  # type: ignore[assignment,misc]
        print("dask.distributed not installed: Dask rows skipped")

    rows: list[dict[str, Any]] = []
    for method in methods:
        solve = {"method": method, "threads": 1}
        measured: list[tuple[str, list[float], Any, float]] = []
        times, ref = run(base, "serial", args.repeats, **solve)
        measured.append(("serial", times, ref, 0.0))
        times, res = run(base, "processes", args.repeats, max_workers=args.workers, **solve)
        measured.append(("processes", times, res, 0.0))
        if LocalCluster is not None:
            for label, procs in (("dask processes", True), ("dask threads", False)):
                t0 = time.perf_counter()
                with (
                    LocalCluster(
                        n_workers=args.workers,
                        threads_per_worker=1,
                        processes=procs,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    ) as cluster,
                    Client(cluster) as client,
                ):
                    startup = time.perf_counter() - t0
                    times, res = run(base, client, args.repeats, **solve)
                measured.append((label, times, res, startup))
        times, res = run(base, "serial", args.repeats, reuse_latency=False, **solve)
        measured.append(("serial, no reuse", times, res, 0.0))
        serial_s = statistics.median(measured[0][1])
        for label, times, res, startup in measured:
            wall = statistics.median(times)
            rows.append(
                {
                    "method": method,
                    "executor": label,
                    "points": len(res),
                    "solved": int(res.table["status"].eq("optimal").sum()),
                    "wall_s": wall,
                    "vs_serial": wall / serial_s,
                    "identical": "yes" if same_results(ref.table, res.table) else "NO",
                    "latency_s": res.latency_s,
                    "startup_s": startup,
                    "runs_s": " ".join(f"{t:.3f}" for t in times),
                }
            )
    if warm_names:
        print(f"warm starts vs cold, serial, median of {args.repeats}:", flush=True)
        warm_table = warm_vs_cold(args.repeats, warm_names)
        print(f"load average {os.getloadavg()[0]:.1f} (other processes distort the times)")
        with pd.option_context("display.width", 200, "display.max_columns", None):
            print(
                warm_table.drop(
                    columns=[c for c in warm_table.columns if c.endswith("runs_s")]
                ).to_string(
                    index=False,
                    formatters={
                        "s_per_point": "{:.2f}".format,
                        "cold_s": "{:.2f}".format,
                        "warm_s": "{:.2f}".format,
                        "warm/cold": "{:.2f}".format,
                        "cold_cpu_s": "{:.2f}".format,
                        "warm_cpu_s": "{:.2f}".format,
                        "cpu warm/cold": "{:.2f}".format,
                        "cold_solve_sum_s": "{:.2f}".format,
                        "warm_solve_sum_s": "{:.2f}".format,
                    },
                )
            )
        args.warm_out.parent.mkdir(parents=True, exist_ok=True)
        warm_table.to_csv(args.warm_out, index=False, lineterminator="\n")
        print(f"wrote {args.warm_out}")
    if not rows:
        return 0
    table = pd.DataFrame(rows)
    print(f"load average at the end {os.getloadavg()[0]:.1f} (other processes distort the times)")
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(
            table.to_string(
                index=False,
                formatters={
                    "wall_s": "{:.2f}".format,
                    "vs_serial": "{:.2f}".format,
                    "latency_s": "{:.3f}".format,
                    "startup_s": "{:.2f}".format,
                },
            )
        )
    for method in methods:
        t = table[table["method"] == method].set_index("executor")["wall_s"]
        print(
            f"{method}: latency-table reuse gain (serial): {t['serial, no reuse']:.2f} s -> "
            f"{t['serial']:.2f} s (x{t['serial, no reuse'] / t['serial']:.2f})"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, lineterminator="\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
