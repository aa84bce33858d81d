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
``wall_s(serial, no reuse) / wall_s(serial)``.

    python benchmarks/sweep_bench.py                       # solver "auto" and "pulp"
    python benchmarks/sweep_bench.py --methods auto --repeats 5

Writes ``benchmarks/results/sweep_bench.csv`` (one row per method and executor, with every
repeat's time).
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
from placement.problem import Problem
from placement.scenarios import sweep

GRID = {"n_sites": list(range(2, 10)), "max_latency_ms": [80, 120, 200]}
COMPARED = ["status", "objective", "open_sites"]
OUT = Path(__file__).resolve().parent / "results" / "sweep_bench.csv"


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
        last = sweep(base, GRID, executor=executor, progress=False, **kwargs)
        times.append(last.wall_s)
    return times, last


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="auto,pulp", help="solve methods, comma separated")
    ap.add_argument("--repeats", type=int, default=3, help="sweeps per executor (median)")
    ap.add_argument("--workers", type=int, default=2, help="processes / Dask workers")
    ap.add_argument("--out", type=Path, default=OUT, help="CSV path")
    args = ap.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
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
