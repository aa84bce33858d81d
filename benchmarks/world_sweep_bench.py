"""The 200-point world sweep of issue 18: wall, CPU, peak memory and statuses of one sweep.

Instance: the one of ``world_bench.py`` — all AWS, GCP and Azure regions (169) x every city of
at least 100,000 people merged within 50 km (3,041 demand points), median, backbone latencies
(``UserLatencyModel(access="none")``) — with ``--redundancy 1`` (no backup) or ``2`` (a backup at
another provider within ``backup_max_latency_ms=225``). Grid (200 points, in this order, the last
key fastest so that each warm-start chain walks ``n_sites`` at a fixed SLA)::

    max_latency_ms = 100, 110, ..., 190   (10 values)
    n_sites        = 6, 7, ..., 25        (20 values)

The sweep runs in a child process (``ru_maxrss`` of it and of its worker processes is the peak
memory) through :func:`placement.scenarios.sweep` with ``threads=1`` per point, on ``--workers``
local processes (1: serial) or on a Dask scheduler (``--scheduler tcp://host:8786``; ``local:N``
starts a ``LocalCluster`` of N single-threaded worker processes in the child). ``--sample K``
solves every K-th point of the grid only, serially, each warm-started from the last solved one,
printing every point as it ends, and extrapolates: mean CPU seconds a point x 200 (on one core;
/2 on two). ``--sample 21`` is the diagonal (SLA 100 ms with N = 6, 110 ms with N = 7, ...,
190 ms with N = 15): every SLA once, the smaller (slower) half of the N values.
``--n-sites 6,16`` sweeps those N values only (every SLA; through :func:`sweep`, so reuse
applies); ``--no-reuse`` solves every point (``sweep(reuse=False)``): with reuse (the default) the
points of one N are solved from SLA 190 down to 100 on one worker and a point whose looser
neighbour's proven optimum meets its SLA (or whose looser neighbour is infeasible) takes it.
``--schedule static`` deals the SLA groups round-robin to the workers (the default before
``schedule="dynamic"``: every group its own chain, handed to a free worker).
``--time-limit S`` caps each point (a stopped point is ``feasible``/``no_solution`` with its gap).

    python benchmarks/world_sweep_bench.py --redundancy 1 --workers 2
    python benchmarks/world_sweep_bench.py --redundancy 2 --sample 21 --workers 1

Prints one line per point (status, objective, gap, seconds) and the totals; ``--out FILE.csv``
writes the sweep table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLA_MS = [float(x) for x in range(100, 200, 10)]
N_SITES = list(range(6, 26))

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import placement as pl
from placement.problem import Problem
from placement.scenarios import sweep
from placement.scenarios.sweep import grid_points
cfg = json.loads(sys.argv[1])
t0 = time.perf_counter()
sites = pl.catalog.sites(providers=["aws", "gcp", "azure"])
users = pl.demand.from_cities(min_population=100_000, merge_within_km=50)
extra = {}
if cfg["redundancy"] == 2:
    extra = dict(redundancy=2, failure_domain="provider", backup_max_latency_ms=225)
base = Problem(sites, users, objective="median", n_sites=10, max_latency_ms=150,
               latency=pl.latency.UserLatencyModel(access="none"), **extra)
grid = {"max_latency_ms": cfg["sla"], "n_sites": cfg["n_sites"]}
if not cfg["reuse"]:
    solve_reuse = {"reuse": False}
else:
    solve_reuse = {}
if cfg.get("schedule"):  # only when given: the child also runs against older trees
    solve_reuse["schedule"] = cfg["schedule"]
points = grid_points(grid)[:: cfg["sample"]]
setup_s = time.perf_counter() - t0
solve = {"threads": 1}
if cfg["time_limit"]:
    solve["time_limit_s"] = cfg["time_limit"]
executor, client, cluster = "processes", None, None
if cfg["scheduler"]:
    from dask.distributed import Client, LocalCluster
    if cfg["scheduler"].startswith("local:"):
        import logging
        cluster = LocalCluster(n_workers=int(cfg["scheduler"][6:]), threads_per_worker=1,
                               processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        client = Client(cfg["scheduler"])
    executor = client
elif cfg["workers"] == 1:
    executor = "serial"
# a sampled grid is given as one axis of points (each a dict) through the grid's product:
# sweep() needs a product grid, so the sample runs as a list of single-point sweeps in one chain
c0 = time.process_time()
w0 = time.perf_counter()
if cfg["sample"] == 1:
    res = sweep(base, grid, executor=executor, max_workers=cfg["workers"], progress=False,
                **solve_reuse, **solve)
    table = res.table
    latency_s = res.latency_s
else:
    import pandas as pd
    from placement.scenarios.compare import result_row
    from placement.scenarios.sweep import solve_point
    shared = base.with_full_latency()
    latency_s = time.perf_counter() - w0
    rows, previous = [], None
    for p in points:  # one chain, each point warm-started from the last solved one
        c1 = time.process_time()
        r, err, secs = solve_point(shared, p, solve, previous)
        if r is not None and r.status in ("optimal", "feasible"):
            previous = r
        row = dict(p)
        for k, v in result_row(r).items():
            row[f"{k}_achieved" if k in p else k] = v
        row["message"] = err if r is None else r.message
        row["solve_s"] = secs
        rows.append(row)
        print("POINT " + json.dumps({
            "max_latency_ms": p["max_latency_ms"], "n_sites": p["n_sites"],
            "status": row["status"], "objective": row["objective"], "gap": row["gap"],
            "solve_s": secs, "cpu_s": time.process_time() - c1,
        }), flush=True)
    table = pd.DataFrame(rows)
wall = time.perf_counter() - w0
cpu = time.process_time() - c0
if client is not None:
    client.close()
if cluster is not None:
    cluster.close()
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
cols = ["max_latency_ms", "n_sites", "status", "objective", "gap", "solve_s", "message"]
if "reused" in table.columns:
    cols.append("reused")
print(json.dumps({
    "setup_s": setup_s, "latency_s": latency_s, "wall_s": wall, "cpu_s": cpu,
    "children_cpu_s": kids.ru_utime + kids.ru_stime,
    "peak_mb": me.ru_maxrss / 1024, "children_peak_mb": kids.ru_maxrss / 1024,
    "rows": json.loads(table[cols].to_json(orient="records")),
}))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redundancy", type=int, choices=(1, 2), default=2)
    ap.add_argument("--workers", type=int, default=2, help="local processes (1: serial)")
    ap.add_argument("--scheduler", default="", help="Dask scheduler address, or local:N")
    ap.add_argument("--sample", type=int, default=1, help="solve every K-th point only")
    ap.add_argument("--time-limit", type=float, default=0.0, help="seconds per point (0: none)")
    ap.add_argument("--out", type=Path, default=None, help="CSV of the sweep table")
    ap.add_argument(
        "--n-sites",
        default="",
        help="the n_sites values to sweep, v1,v2,... (default 6..25: the 200-point grid)",
    )
    ap.add_argument(
        "--no-reuse",
        action="store_true",
        help="solve every point (sweep(reuse=False)); default: reuse along the SLA axis",
    )
    ap.add_argument(
        "--schedule",
        choices=("dynamic", "static"),
        default="",
        help="sweep(schedule=...): one chain per SLA group handed to a free worker (dynamic, the "
        "default of the tree measured) or groups dealt round-robin to the workers (static)",
    )
    args = ap.parse_args(argv)
    cfg = {
        "redundancy": args.redundancy,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "sample": max(1, args.sample),
        "time_limit": args.time_limit,
        "sla": SLA_MS,
        "n_sites": [int(v) for v in args.n_sites.split(",")] if args.n_sites else N_SITES,
        "reuse": not args.no_reuse,
        "schedule": args.schedule,
    }
    if cfg["sample"] > 1 and (args.scheduler or args.workers != 1):
        ap.error("--sample runs serially: give --workers 1 and no --scheduler")
    n_grid = len(SLA_MS) * len(cfg["n_sites"])
    every = f", every {cfg['sample']}th" if cfg["sample"] > 1 else ""
    print(
        f"world 1e5 sweep, redundancy {args.redundancy}, {n_grid} grid points{every}, "
        f"{'dask ' + args.scheduler if args.scheduler else f'{args.workers} worker(s)'}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        f"{'' if cfg['reuse'] else ', no reuse'}"
        f"{', schedule ' + args.schedule if args.schedule else ''}"
        f"{', n_sites ' + args.n_sites if args.n_sites else ''}",
        flush=True,
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    last = ""
    for line in proc.stdout:  # a sampled sweep reports every point as it ends
        if line.startswith("POINT "):
            r = json.loads(line[6:])
            print(
                f"  point sla {r['max_latency_ms']:.0f} ms, N {r['n_sites']}: {r['status']}, "
                f"{r['solve_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU",
                flush=True,
            )
        elif line.strip():
            last = line
    err = proc.stderr.read() if proc.stderr is not None else ""
    total = time.perf_counter() - t0
    if proc.wait() != 0:
        print(err[-2000:], file=sys.stderr)
        return 1
    out = json.loads(last)
    rows = out["rows"]
    print(f"{'sla_ms':>7} {'N':>3} {'status':>11} {'objective':>11} {'gap':>8} {'s':>8} reused")
    for r in rows:
        obj = "-" if r["objective"] is None else f"{r['objective']:.6f}"
        gap = "-" if r["gap"] is None else f"{r['gap']:.1e}"
        print(
            f"{r['max_latency_ms']:>7.0f} {r['n_sites']:>3} {r['status']:>11} {obj:>11}"
            f" {gap:>8} {r['solve_s']:>8.2f} {'yes' if r.get('reused') else ''}"
        )
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    secs = sorted(r["solve_s"] for r in rows)
    cpu = out["cpu_s"] + out["children_cpu_s"]
    per_point_cpu = cpu / max(1, len(rows))
    print(
        f"points {len(rows)}: {', '.join(f'{v} {k}' for k, v in sorted(statuses.items()))}; "
        f"reused {sum(bool(r.get('reused')) for r in rows)}\n"
        f"sweep wall {out['wall_s']:.1f} s (latency table {out['latency_s']:.1f} s; setup "
        f"{out['setup_s']:.1f} s; child process {total:.1f} s), CPU {cpu:.1f} s "
        f"({per_point_cpu:.2f} s a point), peak MB {out['peak_mb']:.0f} (workers "
        f"{out['children_peak_mb']:.0f})\n"
        f"point seconds: median {secs[len(secs) // 2]:.2f}, max {secs[-1]:.2f}, "
        f"sum {sum(secs):.1f}; load average {os.getloadavg()[0]:.2f}"
    )
    if cfg["sample"] > 1:
        est = per_point_cpu * n_grid
        print(
            f"extrapolated to {n_grid} points: {est:.0f} CPU s = {est / 60:.1f} min on 1 core, "
            f"{est / 120:.1f} min on 2 (if the sample is representative)"
        )
    if args.out is not None:
        import pandas as pd

        args.out.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(args.out, index=False, lineterminator="\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
