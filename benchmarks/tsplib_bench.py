"""TSPLIB p-median (rl1304, fl1400, u1432, vm1748) through the dense-matrix entry point.

Every node is a client and a candidate site, unit weights, ``d(i, j) = floor(Euclidean)``
(``../shared/benchmarks/tsplib/SOURCES.md``). Each case is solved as a planner would:
``Problem.from_cost_matrix(d, objective="median", n_sites=p).solve(time_limit_s=cap)`` (the fast
p-median, ``placement.formulations.radius``), each in its own subprocess. Printed per case: the
wall seconds of the whole case (matrix, problem, solve), the split into ``matrix`` (reading the
file and the n × n distances), ``problem`` (``from_cost_matrix``), ``build`` and ``solve`` (``Result.timings``: lowering,
heuristic and model; LPs and branching), the solve's CPU seconds, peak resident memory, status, gap, our objective against the
proven optimum, and the time of C. Duran-Mateluna, Z. Ales, S. Elloumi (EJOR 2023, Table 2:
CPLEX branch-and-cut, one thread of a Xeon W-2145) from ``pmedian_opt.csv``, with totals.

    python benchmarks/tsplib_bench.py                      # the 31 cases the paper proves in ≤ 60 s
    python benchmarks/tsplib_bench.py --cases rl1304:5,fl1400:200 --cap 60
    python benchmarks/tsplib_bench.py --before /tmp/placement-before --cases rl1304:200 --repeats 3

``--tsp-dir DIR --p 5,10,20`` runs every ``*.tsp`` file of ``DIR`` (TSPLIB ``EUC_2D`` with a
``NODE_COORD_SECTION``) at each ``p`` instead (for instances beyond the paper's four; the optimum
column is blank unless ``pmedian_opt.csv`` has the case). Every line shows the branch-and-bound
nodes (``nodes``, median).

``--before TREE`` runs each case in this checkout and in ``TREE`` (a ``git worktree`` of an older
commit) alternately, ABBA order over ``--repeats`` rounds, and prints the medians side by side.
``--shared DIR`` is the folder holding ``benchmarks/tsplib`` (default ``$PLACEMENT_SHARED`` or
``../shared``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

from world_bench import _commit, run_child, write_csv  # the child runs in its tree (see there)

ROOT = Path(__file__).resolve().parents[1]

#: Code text of the children's TSPLIB reader and distance (text, not an import, so that a child
#: run against an older tree has them too; pmedian_heuristic_bench's child uses them as well).
TSP_CHILD_HELPERS = r"""
import numpy as np


def read_tsp(path):
    xy, on = [], False
    with open(path) as fh:
        for line in fh:
            tok = line.split()
            if not tok:
                continue
            if tok[0] == "NODE_COORD_SECTION":
                on = True
            elif tok[0] == "EOF":
                break
            elif on:
                xy.append((float(tok[1]), float(tok[2])))
    return np.asarray(xy)


def floor_euclid(xy):
    dx = xy[:, 0][:, None] - xy[:, 0][None, :]
    dy = xy[:, 1][:, None] - xy[:, 1][None, :]
    return np.floor(np.sqrt(dx * dx + dy * dy))  # floor of the Euclidean distance (SOURCES.md)
"""

CHILD = (
    TSP_CHILD_HELPERS
    + r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
from placement.problem import Problem
path, p, cap = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
t0 = time.perf_counter()
xy = read_tsp(path)
d = floor_euclid(xy)
t1 = time.perf_counter()
prob = Problem.from_cost_matrix(d, objective="median", n_sites=p)
t2 = time.perf_counter()
c0 = time.process_time()
res = prob.solve(time_limit_s=cap)
cpu = time.process_time() - c0
t3 = time.perf_counter()
n = len(xy)
print(json.dumps({
    "n": n, "matrix_s": t1 - t0, "problem_s": t2 - t1, "solve_wall_s": t3 - t2, "cpu_s": cpu,
    "wall_s": t3 - t0,
    "build_s": res.timings["build_s"], "solver_s": res.timings["solve_s"],
    "status": res.status, "gap": res.gap,
    "objective": None if res.objective is None else res.objective * n,
    "bound": None if res.best_bound is None else res.best_bound * n,
    "method": res.solver.get("method"),
    "nodes": res.solver.get("nodes"),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""
)


def _gap(run: dict) -> float:
    """The run's relative gap (inf when it has no bound)."""
    return math.inf if run.get("gap") is None else float(run["gap"])


def shared_dir(arg: str | None) -> Path:
    base = arg or os.environ.get("PLACEMENT_SHARED") or str(ROOT.parent / "shared")
    return Path(base) / "benchmarks" / "tsplib"


def read_table(folder: Path) -> list[dict]:
    with open(folder / "pmedian_opt.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def paper_seconds(row: dict) -> float:
    return float("inf") if row["benders_total_s"] == "TL" else float(row["benders_total_s"])


def default_cases(table: list[dict]) -> list[dict]:
    """The cases the paper proves optimal within a minute (31)."""
    return [r for r in table if r["final_gap"] == "0%" and paper_seconds(r) <= 60]


def dir_cases(folder: Path, ps: list[int], table: list[dict]) -> list[dict]:
    """Every ``*.tsp`` of ``folder`` at every ``p``, with the published optimum when known."""
    known = {(r["instance"], r["p"]): r for r in table}
    rows = []
    for path in sorted(folder.glob("*.tsp")):
        for p in ps:
            row = known.get((path.stem, str(p)))
            blank = {"opt": "", "final_gap": "", "benders_total_s": ""}
            rows.append({**(row or blank), "instance": path.stem, "p": str(p), "path": str(path)})
    return rows


def run_case(folder: Path, row: dict, cap: float, tree: Path) -> dict:
    path = Path(row.get("path") or folder / f"{row['instance']}.tsp").resolve()
    t0 = time.perf_counter()
    proc = run_child(tree, CHILD, [str(path), row["p"], str(cap)])
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:], "wall_s": time.perf_counter() - t0}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", help="instance:p list, e.g. rl1304:5,u1432:100 (default: the 31)")
    ap.add_argument("--all", action="store_true", help="every case of pmedian_opt.csv (36)")
    ap.add_argument("--cap", type=float, default=120.0, help="time limit per solve, s")
    ap.add_argument(
        "--one-second",
        action="store_true",
        help="the 1-second answers of issue 18: --cap 1 (totals count those within 0.5 %%)",
    )
    ap.add_argument("--before", type=Path, help="another checkout, run alternately (ABBA)")
    ap.add_argument("--repeats", type=int, default=1, help="rounds per case (medians)")
    ap.add_argument("--shared", help="folder holding benchmarks/tsplib")
    ap.add_argument("--out", type=Path, help="CSV of every run")
    ap.add_argument(
        "--tsp-dir",
        type=Path,
        help="a folder of TSPLIB .tsp files (EUC_2D, NODE_COORD_SECTION) to run at every --p\n"
        "instead of the four of the paper (optimum shown when pmedian_opt.csv has the case)",
    )
    ap.add_argument(
        "--p", default="5,10,20,50,100,200,300", help="p values for --tsp-dir (comma-separated)"
    )
    args = ap.parse_args(argv)
    if args.one_second:
        args.cap = 1.0
    folder = shared_dir(args.shared)
    if not (folder / "pmedian_opt.csv").exists():
        print(f"tsplib_bench: no {folder / 'pmedian_opt.csv'}", file=sys.stderr)
        return 2
    table = read_table(folder)
    if args.tsp_dir is not None:
        if not args.tsp_dir.is_dir():
            print(f"tsplib_bench: --tsp-dir {args.tsp_dir} is not a folder", file=sys.stderr)
            return 2
        try:
            ps = [int(v) for v in args.p.split(",")]
        except ValueError:
            print(f"tsplib_bench: --p {args.p!r} is not a list of integers", file=sys.stderr)
            return 2
        rows = dir_cases(args.tsp_dir, ps, table)
    elif args.cases:
        want = {tuple(c.split(":")) for c in args.cases.split(",")}
        rows = [r for r in table if (r["instance"], r["p"]) in want]
    elif args.all:
        rows = table
    else:
        rows = default_cases(table)
    trees = {"after": ROOT}
    if args.before is not None:
        trees["before"] = args.before.resolve()

    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()}, "
        f"cap {args.cap:g} s, {len(rows)} cases, repeats {args.repeats}, "
        f"trees { {k: _commit(v) for k, v in trees.items()} }",
        flush=True,
    )
    head = (
        f"{'case':>13} {'tree':>6} {'wall':>7} {'matrix':>6} {'problem':>7} {'build':>6}"
        f" {'solve':>6} {'cpu':>7} {'nodes':>6} {'MB':>5} {'status':>8} {'gap':>8} {'objective':>10}"
        f" {'opt':>10} {'excess':>7} {'paper s':>7}"
    )
    print(head, flush=True)
    all_runs: list[dict] = []
    totals: dict[str, dict[str, float]] = {name: {} for name in trees}
    names = list(trees)
    for row in rows:
        case = f"{row['instance']}:{row['p']}"
        runs: dict[str, list[dict]] = {name: [] for name in names}
        for r in range(args.repeats):
            for name in names if r % 2 == 0 else names[::-1]:
                res = run_case(folder, row, args.cap, trees[name])
                runs[name].append(res)
                all_runs.append({"case": case, "tree": name, "round": r + 1, **res})
        for name in names:
            ok = [x for x in runs[name] if "error" not in x]
            if not ok:
                print(f"{case:>13} {name:>6} error {runs[name][-1].get('error')}", flush=True)
                continue

            def med(key: str, ok: list[dict] = ok) -> float:
                return statistics.median(x[key] for x in ok)

            opt = float(row["opt"]) if row["opt"] else math.nan  # nan: not published here
            # the worst run's objective above the optimum (inf: no solution)
            objs = [math.inf if x["objective"] is None else x["objective"] for x in ok]
            excess = (max(objs) - opt) / opt
            statuses = {x["status"] for x in ok}
            nodes = [x["nodes"] for x in ok if x.get("nodes") is not None]
            known = not math.isnan(opt)
            print(
                f"{case:>13} {name:>6} {med('wall_s'):7.2f} {med('matrix_s'):6.2f}"
                f" {med('problem_s'):7.2f} {med('build_s'):6.2f} {med('solver_s'):6.2f}"
                f" {med('cpu_s'):7.2f}"
                f" {statistics.median(nodes) if nodes else math.nan:6.0f}"
                f" {max(x['peak_mb'] for x in ok):5.0f}"
                f" {'/'.join(sorted(statuses)):>8} {max(_gap(x) for x in ok):8.1e}"
                f" {max(objs):10.0f} {opt:10.0f} {100 * excess:6.3f}%"
                f" {row['benders_total_s'] or '-':>7}"
                + ("" if not known or abs(max(objs) - opt) < 0.5 else "  ≠ opt"),
                flush=True,
            )
            t = totals[name]
            for key in ("wall_s", "cpu_s", "build_s", "solver_s"):
                t[key] = t.get(key, 0.0) + med(key)
            t["optimal"] = t.get("optimal", 0) + (statuses == {"optimal"})
            t["match"] = t.get("match", 0) + (abs(max(objs) - opt) < 0.5)
            t["within"] = t.get("within", 0) + (excess <= 0.005)
            t["paper_s"] = t.get("paper_s", 0.0) + (paper_seconds(row) if known else 0.0)
            t["nodes"] = t.get("nodes", 0) + (statistics.median(nodes) if nodes else 0)
            t["cases"] = t.get("cases", 0) + 1
    for name, t in totals.items():
        if not t:
            continue
        print(
            f"# total {name}: {int(t['cases'])} cases, {int(t['optimal'])} proven optimal, "
            f"{int(t['match'])} equal to the published optimum, "
            f"{int(t['within'])} within 0.5 % of it; wall {t['wall_s']:.1f} s, "
            f"cpu {t['cpu_s']:.1f} s (build {t['build_s']:.1f} s, solve {t['solver_s']:.1f} s), "
            f"{int(t['nodes'])} nodes; "
            f"paper {t['paper_s']:.1f} s"
        )
    print(f"# load at the end {os.getloadavg()}")
    if args.out:
        write_csv(all_runs, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
