"""The p-median heuristic alone on TSPLIB (rl1304, fl1400, u1432, vm1748): gap to the optimum vs CPU.

Each case (every node a client and a candidate site, unit weights, ``d = floor(Euclidean)``, see
``../shared/benchmarks/tsplib/SOURCES.md``) runs in its own subprocess, which builds the matrix
and calls ``placement.heuristics.pmedian_heuristic`` twice:

* ``local``: greedy + swap descent to the first local optimum (no limit) — the warm start of
  the exact solver; printed: process CPU seconds and the gap of the objective to the proven
  optimum of ``pmedian_opt.csv``;
* ``budget``: the answer within ``--budget-s`` seconds of the whole call (validation included):
  ``improve_until`` (iterated local search) where the tree has it, else ``deadline`` (the older
  heuristic stops its swaps there).

The budget is measured in **CPU** seconds by default (the child points the heuristic module's
clock at ``time.process_time``), so the figures do not depend on the load of a shared machine;
``--clock wall`` uses the real ``time.perf_counter``.

    python benchmarks/pmedian_heuristic_bench.py                        # the 31 cases, this tree
    python benchmarks/pmedian_heuristic_bench.py --before /tmp/base --cases rl1304:200,vm1748:500
    python benchmarks/pmedian_heuristic_bench.py --random 2000,2500,3000 --budget-s 0.6

``--before TREE`` runs each case in this checkout and in ``TREE`` (an older checkout)
alternately (ABBA over ``--repeats``) and prints them side by side (medians of the repeats).
``--random N,...`` adds unseen instances: N uniform random points in a 10,000 × 10,000 square
(``randN``, seed 1) and N points around 25 random centres (``clusN``, Gaussian, sd 300, seed 2),
``p`` in 10, 50, 200, 500, floor-Euclidean; having no proven optimum, their gap is
printed against the best objective of any run and of a long iterated search of this tree
(``--reference-s``, default 20 s).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

from tsplib_bench import TSP_CHILD_HELPERS
from world_bench import _commit, run_child  # the child runs in its tree (see there)

ROOT = Path(__file__).resolve().parents[1]

CHILD = (
    TSP_CHILD_HELPERS
    + r"""
import inspect, json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
import placement.heuristics as H
src, p, budget, clock = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
reference = len(sys.argv) > 5
if src.startswith("random:"):
    n = int(src.split(":")[1])
    xy = np.random.default_rng(1).random((n, 2)) * 10000.0
elif src.startswith("cluster:"):
    n = int(src.split(":")[1])
    g = np.random.default_rng(2)
    centres = g.random((25, 2)) * 10000.0
    xy = centres[g.integers(25, size=n)] + g.normal(scale=300.0, size=(n, 2))
else:
    xy = read_tsp(src)
d = floor_euclid(xy)
if clock == "cpu":
    H.time.perf_counter = time.process_time  # budgets and deadlines in CPU seconds
if reference:  # a long iterated search: the yardstick of instances without a known optimum
    t0 = H.time.perf_counter()
    ref = H.pmedian_heuristic(d, None, p, improve_until=t0 + budget)
    print(json.dumps({"reference_obj": ref.objective}))
    sys.exit(0)
c0 = time.process_time()
loc = H.pmedian_heuristic(d, None, p)
local_cpu = time.process_time() - c0
has_ils = "improve_until" in inspect.signature(H.pmedian_heuristic).parameters
now = H.time.perf_counter
c0 = time.process_time()
t0 = now()
if has_ils:
    sol = H.pmedian_heuristic(d, None, p, improve_until=t0 + budget, deadline=t0 + budget)
else:
    sol = H.pmedian_heuristic(d, None, p, deadline=t0 + budget)
print(json.dumps({
    "local_obj": loc.objective, "local_cpu": local_cpu, "budget_obj": sol.objective,
    "budget_cpu": time.process_time() - c0, "ils": has_ils,
}))
"""
)


def shared_dir(arg: str | None) -> Path:
    base = arg or os.environ.get("PLACEMENT_SHARED") or str(ROOT.parent / "shared")
    return Path(base) / "benchmarks" / "tsplib"


def run(tree: Path, src: str, p: int, budget: float, clock: str, reference: bool = False) -> dict:
    proc = run_child(tree, CHILD, [src, str(p), str(budget), clock] + ["ref"] * reference)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", help="instance:p list, e.g. rl1304:5,u1432:100 (default: the 31)")
    ap.add_argument("--random", help="sizes of random instances to add, e.g. 2000,3000")
    ap.add_argument("--no-tsplib", action="store_true", help="only the --random instances")
    ap.add_argument("--budget-s", type=float, default=0.6, help="budget of the 'budget' call, s")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="clock of the budget")
    ap.add_argument(
        "--reference-s",
        type=float,
        default=20.0,
        help="random instances: seconds of the long iterated search giving the reference",
    )
    ap.add_argument("--before", type=Path, help="another checkout, run alternately (ABBA)")
    ap.add_argument("--repeats", type=int, default=1, help="rounds per case (medians)")
    ap.add_argument("--shared", help="folder holding benchmarks/tsplib")
    args = ap.parse_args(argv)
    folder = shared_dir(args.shared)
    cases: list[tuple[str, str, int, float | None]] = []  # name, source, p, optimum
    if not args.no_tsplib:
        if not (folder / "pmedian_opt.csv").exists():
            print(f"pmedian_heuristic_bench: no {folder / 'pmedian_opt.csv'}", file=sys.stderr)
            return 2
        with open(folder / "pmedian_opt.csv", newline="") as fh:
            table = list(csv.DictReader(fh))
        want = None if not args.cases else {tuple(c.split(":")) for c in args.cases.split(",")}
        for r in table:
            proven = r["final_gap"] == "0%" and r["benders_total_s"] != "TL"
            if want is None and not (proven and float(r["benders_total_s"]) <= 60):
                continue
            if want is not None and (r["instance"], r["p"]) not in want:
                continue
            src = str(folder / f"{r['instance']}.tsp")
            cases.append((f"{r['instance']}:{r['p']}", src, int(r["p"]), float(r["opt"])))
    for n in [int(x) for x in args.random.split(",")] if args.random else []:
        for kind in ("random", "cluster"):
            for p in (10, 50, 200, 500):
                cases.append((f"{kind[:4]}{n}:{p}", f"{kind}:{n}", p, None))
    trees = {"after": ROOT}
    if args.before is not None:
        trees["before"] = args.before.resolve()
    names = list(trees)
    sys.path.insert(0, str(ROOT / "benchmarks"))

    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()}, "
        f"budget {args.budget_s:g} s ({args.clock}), {len(cases)} cases, repeats {args.repeats}, "
        f"trees { {k: _commit(v) for k, v in trees.items()} }",
        flush=True,
    )
    print(
        f"{'case':>12} {'tree':>6} {'local cpu':>9} {'local gap':>9} {'budget cpu':>10}"
        f" {'budget gap':>10} {'objective':>10} {'reference':>10}",
        flush=True,
    )
    summary = {
        name: {"local": [], "budget": [], "local_cpu": 0.0, "budget_cpu": 0.0} for name in names
    }
    for case, src, p, opt in cases:
        runs: dict[str, list[dict]] = {name: [] for name in names}
        for r in range(args.repeats):
            for name in names if r % 2 == 0 else names[::-1]:
                runs[name].append(run(trees[name], src, p, args.budget_s, args.clock))
        good = [x for name in names for x in runs[name] if "error" not in x]
        ref = opt
        if ref is None:
            long = run(ROOT, src, p, args.reference_s, args.clock, reference=True)
            if "error" in long:
                print(f"# {case}: reference run failed: {long['error']}", flush=True)
            ref = min(
                [x["local_obj"] for x in good]
                + [x["budget_obj"] for x in good]
                + [long.get("reference_obj", float("inf"))]
            )
        for name in names:
            ok = [x for x in runs[name] if "error" not in x]
            if not ok:
                print(f"{case:>12} {name:>6} error {runs[name][-1]['error']}", flush=True)
                continue
            lg = 100 * (max(x["local_obj"] for x in ok) / ref - 1)
            bg = 100 * (max(x["budget_obj"] for x in ok) / ref - 1)
            lc = statistics.median(x["local_cpu"] for x in ok)
            bc = statistics.median(x["budget_cpu"] for x in ok)
            s = summary[name]
            s["local"].append(lg)
            s["budget"].append(bg)
            s["local_cpu"] += lc
            s["budget_cpu"] += bc
            print(
                f"{case:>12} {name:>6} {lc:9.3f} {lg:8.3f}% {bc:10.3f} {bg:9.3f}%"
                f" {max(x['budget_obj'] for x in ok):10.0f} {ref:10.0f}",
                flush=True,
            )
    for name in names:
        s = summary[name]
        k = len(s["local"])
        if not k:
            continue
        print(
            f"# {name}: {k} cases; local optimum: {sum(g <= 0.5 for g in s['local'])} within 0.5 %,"
            f" median gap {statistics.median(s['local']):.3f} %, CPU {s['local_cpu']:.2f} s;"
            f" {args.budget_s:g}-s budget: {sum(g <= 0.5 for g in s['budget'])} within 0.5 %,"
            f" median gap {statistics.median(s['budget']):.3f} %, worst {max(s['budget']):.3f} %,"
            f" CPU {s['budget_cpu']:.2f} s",
            flush=True,
        )
    print(f"# load at the end {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
